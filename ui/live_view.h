#pragma once
// The live run view: loss and evaluation curves, the query schedule Q per step, the projected-
// gradient magnitude, memory and throughput, vector series, the log, and stop / resume. A run
// started here streams through the RunController (batches at <= 30 Hz); any other run (finished,
// or running in another process) is read from the store, and re-read while it runs. GUI thread.

#include <QMap>
#include <QVector>
#include <QElapsedTimer>
#include <QWidget>
#include <functional>

#include "common/method_view.h"
#include "run_controller.h"
#include "store_service.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QGridLayout;
class QLabel;
class QSplitter;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTimer;
QT_END_NAMESPACE

namespace frugal::ui {

class ChartControls;
class MetricChart;
class VectorPanel;

class LiveView : public QWidget {
    Q_OBJECT
public:
    LiveView(StoreService* service, RunController* controller, QWidget* parent = nullptr);
    qint64 runId() const { return m_runId; }
    QString status() const { return m_status; }
    // The progress bar's text and the line beside it: "step 120 / 5000 | 2 min 30 s left · loss 0.69"
    // while a run goes, "idle | " when none does.
    QString progressText() const;
    QVector<MetricChart*> charts() const;
    MetricChart* chartTitled(const QString& title) const;
    // The summary card shown in place of panel TITLE's chart ("" while the chart is shown).
    QString cardText(const QString& title) const;
    ChartControls* controls() const { return m_controls; }
    VectorPanel* vectors() const { return m_vectors; }
    QString logText() const;
    // Whether Resume applies: an ended run (cancelled, interrupted, failed) whose config is
    // loaded, while no run of this window is going.
    bool canResume() const;
    void showIdleProgress();
    // "Other seeds": the band (mean ± std) of the other runs of this run's configuration
    // (everything but the seed the same) behind each of its lines; how many there are.
    QCheckBox* seedsBox() const { return m_seeds; }
    int siblingCount() const { return static_cast<int>(m_siblings.size()); }

    // The layout a restart keeps: the run shown, the split between charts and log, each zoomed
    // panel's ranges (QSettings "live/..."); restored for the same database only.
    void saveLayout(const QString& dbPath) const;
    void restoreLayout(const QString& dbPath);

public slots:
    void showRun(qint64 runId);
    void stop();
    void resume();

signals:
    void exportRequested(frugal::ui::MetricChart* chart);
    void runShown(qint64 runId);
    void message(const QString& text);

private:
    // The panels METHOD's row describes for a run with PARAMS (its flattened config; a
    // fine-tuning run with [live_landscape] gets the sharpness charts and its slices up front).
    void useView(const QString& method, const QMap<QString, QString>& params);
    struct Panel {
        MetricChart* chart = nullptr;
        QLabel* card = nullptr;  // shown instead while each series is one number
        PanelView view;  // which keys it draws, its annotation
        double bandEnd = -1;  // the last step of its shaded band so far
        QMap<QString, int> lines;
    };
    void clear();
    void addSample(const QString& key, double step, double wall, double value);
    void pushPasses();
    void setStatus(const QString& status, const QString& error = {});
    void started(qint64 runId, const QString& name);
    void arrived(qint64 runId, const QVector<MetricSample>& samples);
    void vectorsArrived(qint64 runId, const QVector<VectorSample>& samples);
    void logged(qint64 runId, const QStringList& lines);
    void progressed(qint64 runId, qint64 step, qint64 total, const QString& status);
    void ended(qint64 runId, const QString& status, const QString& error);
    void loaded(quint64 request, const QVector<RunData>& runs);
    void chooseExport();
    void refreshCards();
    void requestSiblings();
    void drawSiblings();
    void addSiblingLine(Panel& panel, const QString& key);

    StoreService* m_service;
    RunController* m_controller;
    QVector<Panel> m_panels;
    QString m_layout;
    QGridLayout* m_grid = nullptr;
    QWidget* m_chartsHost = nullptr;
    QSplitter* m_split = nullptr;
    ChartControls* m_controls;
    VectorPanel* m_vectors;
    QMap<QString, QVector<VectorFrame>> m_vectorData;  // the run's vector series, live ones appended
    QLabel *m_title, *m_statusLabel, *m_progressText;
    QProgressBar* m_progress;
    QPushButton *m_stop, *m_resume;
    QPlainTextEdit* m_log;
    QTimer* m_poll;
    qint64 m_runId = 0;
    qint64 m_followed = 0;  // the workbench's own run this view last followed as it started
    QString m_status, m_name, m_config;
    QElapsedTimer m_progressClock;  // since the first step this view saw of the live run
    qint64 m_progressFirstStep = 0;
    QString m_resumeRefusal = QStringLiteral("no run shown");  // from the store: why Resume does not apply
    bool m_live = false;
    quint64 m_request = 0;
    std::vector<std::pair<double, double>> m_passes;
    bool m_passesDirty = false;
    bool m_resumePending = false;
    QMap<QString, double> m_lastValue;
    qint64 m_zoomRun = 0;            // the run the restored zooms are for
    QMap<QString, QRectF> m_zooms;   // panel title -> the ranges it was zoomed to  // each key's last value, for the summary cards  // Resume pressed: the run's stored steps are read as it starts
    QCheckBox* m_seeds;
    quint64 m_siblingRequest = 0;
    qint64 m_siblingsOf = 0, m_siblingsAsked = 0;
    QVector<RunData> m_siblings;
};

}  // namespace frugal::ui
