#pragma once
// A chart of scalar series (loss, accuracy, Q per step, memory...): one or more lines, each
// keeping every raw point it was given. What is drawn is decimated per pixel column (spikes
// kept) over the visible x range and recomputed when the user zooms, with TensorBoard's debiased
// EMA drawn over the faint raw line. x is the step, the forward passes or the wall time; either
// axis may be logarithmic. Wheel: zoom x; drag: zoom to a rectangle; shift+drag or middle drag:
// pan; double click: fit. Non-finite values are counted and named above the chart, never
// dropped in silence. GUI thread only.

#include <QColor>
#include <QSizeF>
#include <QString>
#include <QWidget>
#include <memory>
#include <utility>
#include <vector>

#include "series_math.h"

QT_BEGIN_NAMESPACE
class QChart;
class QLabel;
class QLineSeries;
class QPainter;
class QRectF;
class QTimer;
QT_END_NAMESPACE

namespace frugal::ui {

enum class XAxisKind { Step, ForwardPasses, WallTime };

struct ChartOptions {
    double smoothing = 0.6;  // TensorBoard's default
    XAxisKind xAxis = XAxisKind::Step;
    bool logX = false, logY = false;
};

class ChartView;

class MetricChart : public QWidget {
    Q_OBJECT
public:
    MetricChart(const QString& title, const QString& yLabel, QWidget* parent = nullptr);
    ~MetricChart() override;

    // A new line; returns its index.
    int addLine(const QString& label, const QColor& color);
    void clearLines();
    int lineCount() const;
    QString lineLabel(int line) const;
    // Appends a point (steps ascending within a line); the chart redraws within 50 ms.
    void append(int line, double step, double wallSeconds, double value);
    // Cumulative forward passes by step, for the forward-pass x axis (steps ascending).
    void setPasses(int line, std::vector<std::pair<double, double>> stepToPasses);
    // Subtracted from the line's steps (compare: runs aligned by relative step).
    void setStepOffset(int line, double offset);
    void setStepAxisLabel(const QString& label);
    void setTitle(const QString& title);
    void setYLabel(const QString& label);
    // A shaded band over steps [X0, X1] with LABEL, on the step axis only (SharpZO's CMA-ES
    // stage); X1 < X0 removes it.
    void setShadedSpan(double x0, double x1, const QString& label);

    size_t pointCount() const;
    size_t pointCount(int line) const;
    size_t drawnPoints() const { return m_drawn; }
    QString title() const { return m_title; }
    QString yLabel() const { return m_yLabel; }
    QString xLabel() const;
    QString notice() const;

    void setOptions(const ChartOptions& options);
    const ChartOptions& options() const { return m_options; }
    void resetZoom();
    bool zoomed() const { return m_zoomed; }
    void scheduleRedraw();
    void redrawNow();

    // The chart as it is now (lines, visible ranges, options) at LOGICALSIZE (units of 1/96 inch,
    // fonts in points), titled TITLE, decimated to COLUMNS, painted into TARGET.
    void render(QPainter& painter, const QRectF& target, const QSizeF& logicalSize,
                const QString& title, int columns) const;
    // Every raw point: line,step,wall_seconds,value (NaN and infinities written as such).
    QString csv() const;

signals:
    void pointsAppended(qint64 total);
    void redrawn(qint64 drawnPoints);

private:
    struct Line;
    const std::vector<double>& xsOf(const Line& line, std::vector<double>& scratch) const;
    void rebuildAxes();
    void userRangeChanged();
    struct Drawn;
    // Adds this chart's axes and lines to CHART; the points of each line go to DRAWN, which the
    // export paints as one polyline per line (Qt Charts would write every segment apart).
    void fillChart(QChart& chart, int columns, std::vector<Drawn>& drawn) const;

    QString m_title, m_yLabel, m_stepLabel;
    ChartOptions m_options;
    std::vector<std::unique_ptr<Line>> m_lines;
    QChart* m_chart = nullptr;
    ChartView* m_view = nullptr;
    QLabel* m_notice = nullptr;
    QTimer* m_redrawTimer = nullptr;
    bool m_zoomed = false, m_applyingRange = false;
    double m_x0 = 0, m_x1 = 1, m_y0 = 0, m_y1 = 1;
    size_t m_drawn = 0, m_reportedPoints = 0, m_logSkipped = 0;
};

}  // namespace frugal::ui
