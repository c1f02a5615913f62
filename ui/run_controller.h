#pragma once
// Running methods from the workbench: a RunController (GUI thread) owns a worker QObject on its
// own QThread; the worker runs one job at a time through run::continueMethod with its own store
// connection. What the run reports goes into a locked buffer that the controller drains at most
// 30 times a second, so a run streaming thousands of points a second costs the GUI one batch per
// frame. Stop sets the run's StopToken (the run ends as cancelled); queued jobs start in turn.

#include <QMap>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QVector>
#include <memory>
#include <optional>

#include "run/runner.h"

QT_BEGIN_NAMESPACE
class QTimer;
QT_END_NAMESPACE

namespace frugal::ui {

struct MetricSample {
    QString key;
    double step = 0;
    double wallSeconds = 0;  // since the job started in this process
    double value = 0;
};

struct VectorSample {
    QString key;
    qint64 step = 0;
    QVector<qint64> shape;
    QVector<float> data;
};

// A run to start (a new run from a prepared config) or to continue (RESUMERUNID > 0).
struct RunJob {
    QString name;
    std::shared_ptr<const run::PreparedRun> prepared;
    store::NewRun newRun;
    qint64 resumeRunId = 0;
};

struct LiveBuffer;

class RunWorker : public QObject {
    Q_OBJECT
public:
    explicit RunWorker(std::shared_ptr<LiveBuffer> buffer);
    void execute(const RunJob& job, std::shared_ptr<run::StopToken> stop, const QString& dbPath);

signals:
    void started(qint64 runId, const QString& name);
    void ended(qint64 runId, const QString& status, const QString& error);

private:
    std::shared_ptr<LiveBuffer> m_buffer;
};

class RunController : public QObject {
    Q_OBJECT
public:
    explicit RunController(const QString& dbPath, QObject* parent = nullptr);
    ~RunController() override;  // stops the run, drops the queue, waits for the worker

    bool busy() const { return m_busy; }
    qint64 currentRun() const { return m_currentRun; }
    // The method of the job running (or last run), for the live view's layout.
    QString currentMethod() const { return m_currentMethod; }
    // The job's flattened config (params), for the live view's layout ([live_landscape]).
    QMap<QString, QString> currentParams() const { return m_currentParams; }
    int queued() const { return static_cast<int>(m_queue.size()); }
    // The queued jobs' names, in the order they will start.
    QStringList queuedNames() const;
    // Two at a time (PARALLEL 2): the next queued run starts beside the running one when the
    // guard's estimate of its memory fits in 80 % of the memory free now; it runs without
    // streaming (the Live view reads it from the store while it runs, and can stop it). 1: one
    // after another (the default).
    void setParallel(int parallel);
    int parallel() const { return m_parallel; }
    qint64 sideRun() const { return m_sideRun; }
    bool sideBusy() const { return m_sideBusy; }
    // Why the next queued run waits instead of starting beside the running one ("" when none).
    QString waitReason() const { return m_waitReason; }
    // The running job started from the queue after the one before it ended (not by the user).
    bool startedFromQueue() const { return m_fromQueue; }
    QString databasePath() const { return m_dbPath; }
    // The database the next jobs go to; refused (false) while a job runs.
    bool setDatabasePath(const QString& path);

public slots:
    // Starts JOB now; false (and nothing starts) while another job runs.
    bool start(const frugal::ui::RunJob& job);
    // Starts JOB when the jobs before it have ended (now if none runs).
    void enqueue(const frugal::ui::RunJob& job);
    void requestStop();
    // Stops run RUNID, the one going or the one beside it.
    void stopRun(qint64 runId);
    void clearQueue();
    // Drops queued job INDEX; moves queued job FROM to position TO (each then queueChanged).
    void cancelQueued(int index);
    void moveQueued(int from, int to);

signals:
    void runStarted(qint64 runId, const QString& name);
    void metricsArrived(qint64 runId, const QVector<frugal::ui::MetricSample>& samples);
    void vectorsArrived(qint64 runId, const QVector<frugal::ui::VectorSample>& samples);
    void logsArrived(qint64 runId, const QStringList& lines);
    void progressChanged(qint64 runId, qint64 step, qint64 total, const QString& status);
    void runEnded(qint64 runId, const QString& status, const QString& error);
    void queueChanged(int queued);
    void busyChanged(bool busy);
    void sideRunStarted(qint64 runId, const QString& name);

private:
    void drain();
    void workerStarted(qint64 runId, const QString& name);
    void workerEnded(qint64 runId, const QString& status, const QString& error);
    void launch(const RunJob& job, bool fromQueue = false);
    // Starts what the queue and the slots allow: the next run when none goes, a second beside it
    // when two at a time are allowed and its estimate fits.
    void dispatch();
    void launchSide(const RunJob& job);

    QString m_dbPath;
    QThread m_thread;
    RunWorker* m_worker = nullptr;
    std::shared_ptr<LiveBuffer> m_buffer;
    std::shared_ptr<run::StopToken> m_stop;
    QTimer* m_drainTimer = nullptr;
    QVector<RunJob> m_queue;
    bool m_busy = false;
    bool m_fromQueue = false;
    qint64 m_currentRun = 0;
    QString m_currentMethod;
    QMap<QString, QString> m_currentParams;
    int m_parallel = 1;
    QThread m_sideThread;
    RunWorker* m_sideWorker = nullptr;
    std::shared_ptr<run::StopToken> m_sideStop;
    bool m_sideBusy = false;
    qint64 m_sideRun = 0;
    QString m_waitReason;
};

}  // namespace frugal::ui

Q_DECLARE_METATYPE(frugal::ui::MetricSample)
Q_DECLARE_METATYPE(frugal::ui::VectorSample)
