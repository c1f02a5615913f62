#pragma once
// A sweep's runs at a glance: parallel coordinates (an axis per config key that varies and per
// chosen result, numeric keys on linear or log axes, text keys as evenly spaced categories; drag
// along an axis to brush a range, the runs outside every brush greyed; hover a line to highlight
// its run) and a scatter of one result against one key beside it, the brushed runs marked in
// both. Painted by hand like MetricChart; GUI thread.

#include <QPointF>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>
#include <limits>
#include <vector>

#include "store_service.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLabel;
class QPainter;
class QPushButton;
class QToolButton;
QT_END_NAMESPACE

namespace frugal::ui {

// One axis of the figure: a config key or a result, its value for each run (NaN: the run lacks
// it), and, for text values, its categories in order.
struct SweepAxis {
    QString name;
    bool result = false;  // a run's final metric value, not a config key
    bool numeric = true;
    bool log = false;
    double lo = 0, hi = 1;
    QStringList categories;
    std::vector<double> values;  // numeric: the value; categorical: the category's index
};

// The axes for RUNS: each config key whose resolved value differs between them (seeds too:
// they are what a seed sweep varies), then each of RESULTS (final finite values). Numeric axes
// whose values are all positive and span two decades or more start logarithmic.
QVector<SweepAxis> sweepAxes(const QVector<RunData>& runs, const QVector<QMap<QString, QString>>& resolved,
                             const QStringList& results);

class ParallelCoordinates : public QWidget {
    Q_OBJECT
public:
    explicit ParallelCoordinates(QWidget* parent = nullptr);
    // The runs (their ids and colours) and the axes, in order.
    void setData(const QVector<qint64>& ids, const QVector<QColor>& colors, const QVector<SweepAxis>& axes);
    int axisCount() const { return static_cast<int>(m_axes.size()); }
    const SweepAxis& axis(int i) const { return m_axes.at(i); }
    void setLog(int axis, bool log);
    // A brush on AXIS over [LO, HI] (data units); LO > HI clears it.
    void brush(int axis, double lo, double hi);
    void clearBrushes();
    bool brushed(int axis) const;
    // The runs inside every brush (all of them without a brush).
    QVector<qint64> selectedIds() const;
    // The run whose line passes nearest POS (within 6 px), or -1; and the one highlighted.
    qint64 runAt(const QPointF& pos) const;
    qint64 highlighted() const { return m_hover; }
    // Where run RUN crosses AXIS on screen (for tests and xdotool).
    QPointF pointOf(int run, int axis) const;
    QSize sizeHint() const override { return {640, 320}; }

signals:
    void selectionChanged(const QVector<qint64>& ids);
    void hovered(qint64 id);  // -1: none

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    double axisX(int axis) const;
    double yOf(int axis, double value) const;     // pixel of a value
    double valueAt(int axis, double y) const;     // value of a pixel
    bool inside(int run) const;                   // inside every brush
    QRectF plotRect() const;
    void paintAxis(QPainter& p, int axis) const;
    QVector<qint64> m_ids;
    QVector<QColor> m_colors;
    QVector<SweepAxis> m_axes;
    struct Brush {
        bool on = false;
        double lo = 0, hi = 0;
    };
    QVector<Brush> m_brushes;
    qint64 m_hover = -1;
    int m_dragAxis = -1;
    double m_dragFrom = 0, m_dragTo = 0;
};

// A result against one key, a point per run in its colour; log axes on request; the runs
// outside the brushes greyed, the hovered one ringed.
class SweepScatter : public QWidget {
    Q_OBJECT
public:
    explicit SweepScatter(QWidget* parent = nullptr);
    void setData(const QVector<qint64>& ids, const QVector<QColor>& colors, const SweepAxis& x, const SweepAxis& y);
    void setSelected(const QVector<qint64>& ids);
    void setHighlighted(qint64 id);
    const SweepAxis& xAxis() const { return m_x; }
    const SweepAxis& yAxis() const { return m_y; }
    // The widget position of run RUN's point (NaN outside the plot).
    QPointF pointOf(int run) const;
    QSize sizeHint() const override { return {360, 320}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    QRectF plotRect() const;
    double px(double v) const;
    double py(double v) const;
    QVector<qint64> m_ids, m_selected;
    QVector<QColor> m_colors;
    SweepAxis m_x, m_y;
    qint64 m_hover = -1;
};

// The sweep tab of Compare: which results are axes (the headline's keys first), the scatter's key
// and result, the figure and the scatter, and the brushed runs ("Compare these").
class SweepView : public QWidget {
    Q_OBJECT
public:
    explicit SweepView(QWidget* parent = nullptr);
    void setRuns(const QVector<RunData>& runs, const QVector<QMap<QString, QString>>& resolved);
    ParallelCoordinates* coordinates() const { return m_coords; }
    SweepScatter* scatter() const { return m_scatter; }
    QStringList results() const { return m_results; }
    void setResults(const QStringList& keys);
    void setScatter(const QString& key, const QString& result);
    QString caption() const;

signals:
    void compareRequested(const QVector<qint64>& ids);

private:
    void rebuild();
    void fillScatter();
    QVector<RunData> m_runs;
    QVector<QMap<QString, QString>> m_resolved;
    QVector<SweepAxis> m_axes;
    QVector<qint64> m_ids;    // the runs' ids and colours, in their order
    QVector<QColor> m_colors;
    QStringList m_results;
    QToolButton* m_resultsButton;
    QComboBox *m_scatterKey, *m_scatterResult;
    QCheckBox* m_scatterLog;
    QLabel* m_caption;
    QPushButton* m_compare;
    ParallelCoordinates* m_coords;
    SweepScatter* m_scatter;
    QVector<qint64> m_selected;
};

}  // namespace frugal::ui
