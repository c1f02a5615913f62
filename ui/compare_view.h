#pragma once
// The compare view: two or more runs overlaid on one metric (each in its own colour, the same as
// in the runs table), aligned by step or by relative step (steps since each run's first point);
// the config keys whose values differ between the runs, and only those; and a metrics table
// (final, best, first step reaching a target) for the chosen metric; and a vector series of the
// runs side by side on one value/colour scale (a landscape's slices by step, surfaces, per-layer
// figures), exportable as PNG/SVG/PDF. GUI thread.

#include <QVector>
#include <tuple>
#include <QWidget>

#include "run_groups.h"
#include "store_service.h"

QT_BEGIN_NAMESPACE
class QSplitter;
class QComboBox;
class QLabel;
class QLineEdit;
class QHBoxLayout;
class QTabWidget;
class QTableWidget;
QT_END_NAMESPACE

namespace frugal::ui {

class ChartControls;
class DashboardView;
class GroupControls;
class LandscapeView;
class SweepView;
class MetricChart;
class VectorPlot;

struct DiffRow {
    QString key;
    QStringList values;  // one per run, "" where a run lacks the key
};
// The keys of PARAMS (one map per run) whose values are not all the same, the keys that matter
// most first: the method, its own table's keys (optimiser, lr, eps, ... before the rest), the
// trained target (peft), the model, task and data, the others, the seeds last. Two numbers are the
// same when their values are ("1e-3" and "0.001").
QVector<DiffRow> configDiff(const QVector<QMap<QString, QString>>& params);
// A run's stored PARAMS (the keys its config set) with every other key its METHOD declares at its
// default: the resolved config, so that a key one run set to its default and another left out
// does not count as a difference.
QMap<QString, QString> resolvedParams(const QString& method, const QMap<QString, QString>& params);

enum class XAxisKind;  // metric_chart.h

class CompareView : public QWidget {
    Q_OBJECT
public:
    CompareView(StoreService* service, QWidget* parent = nullptr);
    ~CompareView() override;  // remembers the split
    QVector<qint64> runIds() const { return m_ids; }
    MetricChart* chart() const { return m_chart; }
    ChartControls* controls() const { return m_controls; }
    // Grouping (by the seed, the name or a key; centre, band, faint runs) and the groups drawn.
    GroupControls* groupControls() const { return m_groups; }
    const QVector<RunGroup>& groups() const { return m_groupList; }
    // The two-group test between groups A and B (indices into groups()) on the chosen metric's
    // final values, as shown under the metrics table.
    void setTestGroups(int a, int b);
    QString testText() const;
    QTableWidget* diffTable() const { return m_diff; }
    QTableWidget* metricsTable() const { return m_metrics; }
    QStringList diffKeys() const;
    void setMetric(const QString& key);
    void setRelativeSteps(bool relative);
    void setTarget(const QString& target);
    QString target() const;
    // The split between the chart and the tables (remembered across restarts).
    QSplitter* split() const { return m_split; }
    // The vector series shown side by side (one plot per run that has it), at STEP (-1: each
    // run's last); the plots, for tests.
    void setVector(const QString& key, qint64 step = -1);
    QVector<VectorPlot*> vectorPlots() const { return m_plots; }
    QTabWidget* tabs() const { return m_tabs; }
    // Every metric as a panel (linked x), the sweep's parallel coordinates and scatter, the 3-D
    // landscape.
    DashboardView* dashboard() const { return m_dashboard; }
    SweepView* sweep() const { return m_sweep; }
    LandscapeView* landscape() const { return m_landscape; }
    // Writes the side-by-side vector figure to PATH (.png, .svg, .pdf); "" or the error.
    QString exportVectors(const QString& path);

    // The layout a restart keeps: the runs compared, the metric, the tables' split, the dashboard's
    // filter, the sweep's result axes (QSettings "compare/..."); the runs for the same database.
    void saveLayout(const QString& dbPath) const;
    void restoreLayout(const QString& dbPath);

public slots:
    void compare(const QVector<qint64>& runIds);

signals:
    void loadedRuns(int count);
    void exportRequested(frugal::ui::MetricChart* chart);

private:
    void loaded(quint64 request, const QVector<RunData>& runs);
    void redraw();
    void fillMetrics();
    QString toTargetText(const RunData& r, XAxisKind x, double step, double wallSeconds) const;
    void redrawVectors();
    void fillTest();
    QWidget* buildTestRow();

    StoreService* m_service;
    QVector<qint64> m_ids;
    QVector<RunData> m_runs;
    quint64 m_request = 0;
    QComboBox *m_metric, *m_align;
    QLineEdit* m_target;
    QLabel* m_caption;
    ChartControls* m_controls;
    MetricChart* m_chart;
    QTableWidget *m_diff, *m_metrics;
    GroupControls* m_groups;
    QVector<RunGroup> m_groupList;
    QVector<QMap<QString, QString>> m_resolved;  // each run's resolved params
    QComboBox *m_testA = nullptr, *m_testB = nullptr;
    QLabel* m_test = nullptr;
    DashboardView* m_dashboard;
    SweepView* m_sweep;
    LandscapeView* m_landscape;
    // what the dashboard's panels were drawn for (grouping, alignment, the load)
    std::tuple<int, QString, int, int, bool, bool, int> m_dashboardSpec;
    int m_loadCount = 0;
    QString m_pendingMetric;  // restored: chosen once the runs are loaded
    QSplitter* m_tables = nullptr;
    QTabWidget* m_tabs;
    QSplitter* m_split = nullptr;
    QComboBox *m_vectorKey, *m_vectorStep;
    QLabel* m_vectorCaption;
    QWidget* m_vectorRow;
    QHBoxLayout* m_vectorLayout;
    QVector<VectorPlot*> m_plots;
};

}  // namespace frugal::ui
