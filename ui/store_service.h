#pragma once
// The workbench's access to the experiment database: a QObject that lives on its own thread and
// owns its own store::Store connection (WAL: it reads while a run writes, never blocking the GUI).
// Views call its slots through queued invocations and get value types back by signal.

#include <QMap>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <memory>

namespace frugal::store {
class Store;
struct RunInfo;
}

namespace frugal::ui {

struct RunRow {
    qint64 id = 0;
    QString uuid, name, method, experiment, status, model, task, note, error;
    qint64 startMs = 0, endMs = 0, heartbeatMs = 0;
    QStringList tags;
    QMap<QString, double> latest;   // each metric's last value
    QMap<QString, QString> params;  // flattened config
};

struct SeriesPoint {
    double step = 0;
    double wallSeconds = 0;  // since the run started
    double value = 0;
};

struct VectorFrame {
    qint64 step = 0;
    QVector<qint64> shape;
    QVector<float> data;
};

// Everything the live and compare views show of one run.
struct RunData {
    RunRow row;
    QString config;
    QMap<QString, QVector<SeriesPoint>> metrics;
    QMap<QString, QVector<VectorFrame>> vectors;
    QStringList logs;
    QString resumeRefusal;  // why Resume does not apply, "" when it does (run/jobs.h)
    // The steps a resumed run's later attempts started from (run/resumed_at); the series above are
    // one continuous run, each step from its latest attempt, none left over from a dead one.
    QVector<double> resumedAt;
};

// Everything of run R in DB (its row, config, every metric and vector series, its logs; not the
// resume check): what loadRuns answers with, and what `frugal plot` reads.
RunData readRunData(const store::Store& db, const store::RunInfo& r);

class StoreService : public QObject {
    Q_OBJECT
public:
    explicit StoreService(QObject* parent = nullptr);
    ~StoreService() override;
    QString path() const { return m_path; }
    // A fresh id for loadRuns, unique in this process (views tell their answers apart by it).
    static quint64 newRequestId();

public slots:
    void open(const QString& path);
    void refreshRuns(const QString& filter);
    void loadRuns(quint64 request, const QVector<qint64>& ids);
    // The other seeds of run RUNID's configuration (everything but the seed the same,
    // run_groups.h), answered by runsLoaded(REQUEST, ...) without their vector series.
    void loadSiblings(quint64 request, qint64 runId);
    void tagRuns(const QVector<qint64>& ids, const QString& tag);
    void untagRuns(const QVector<qint64>& ids, const QString& tag);
    void setNote(qint64 id, const QString& note);
    void renameRun(qint64 id, const QString& name);
    // The model folders that finished prune runs saved (newest first, those still on disk).
    void listPrunedModels();
    void deleteRuns(const QVector<qint64>& ids);

signals:
    void opened(const QString& path, const QString& error);
    void runsListed(const QVector<frugal::ui::RunRow>& rows, const QString& filterError);
    void runsLoaded(quint64 request, const QVector<frugal::ui::RunData>& runs);
    void actionFailed(const QString& message);
    void changed();
    void prunedModelsListed(const QStringList& folders);

private:
    RunRow rowOf(qint64 id);
    std::unique_ptr<store::Store> m_store;
    QString m_path;
};

}  // namespace frugal::ui

Q_DECLARE_METATYPE(frugal::ui::RunRow)
Q_DECLARE_METATYPE(frugal::ui::RunData)
