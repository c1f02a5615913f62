#pragma once
// A chart of scalar series (loss, accuracy, Q per step, memory...): one or more lines, each
// keeping every raw point it was given. What is drawn is decimated per pixel column (spikes
// kept) over the visible x range and recomputed when the user zooms. Dense lines (more than
// kDenseLine points) get TensorBoard's debiased EMA over the faint raw line, and say so in the
// legend; sparse ones (evaluations) are drawn raw with their points marked. x is the step, the
// forward passes or the wall time; either axis may be logarithmic (decade ticks with labels, and
// 2 and 5 between them over short ranges). Ticks fall on 1, 2 or 5 times a power of ten.
//
// Wheel: zoom x; drag: zoom to a rectangle; shift+drag or middle drag: pan; double or right
// click: fit; hover: a crosshair and the nearest stored point of every shown line; click a legend
// entry: hide or show that line. Non-finite values, and values <= 0 on a log axis, are counted
// and named above the chart, never dropped in silence. The screen and the exported figure are
// painted by the same code, so every line on screen is in the file. GUI thread only.

#include <QColor>
#include <QRectF>
#include <QSizeF>
#include <QString>
#include <QStringList>
#include <QPair>
#include <QVector>
#include <QWidget>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "axis_ticks.h"
#include "series_math.h"

QT_BEGIN_NAMESPACE
class QFontMetricsF;
class QLabel;
class QPaintDevice;
class QPolygonF;
class QPainter;
class QTimer;
QT_END_NAMESPACE

namespace frugal::ui {

enum class XAxisKind { Step, ForwardPasses, WallTime };

struct ChartOptions {
    double smoothing = 0.6;  // TensorBoard's default
    XAxisKind xAxis = XAxisKind::Step;
    bool logX = false, logY = false;
};

// The axes' ticks: axis_ticks.h (linearTicks, logTicks), shared with VectorPlot.

// What the hover readout says at one position: the x it snapped to and, for each shown line,
// its stored point nearest to that x.
struct HoverReadout {
    struct Row {
        QString label;
        QColor color;
        double step = 0, x = 0, value = 0;
    };
    bool valid = false;
    double x = 0;
    QVector<Row> rows;
};

class MetricChart : public QWidget {
    Q_OBJECT
public:
    // Lines with more points than this are smoothed (when smoothing is on); fewer are drawn raw
    // with markers.
    static constexpr size_t kDenseLine = 32;

    MetricChart(const QString& title, const QString& yLabel, QWidget* parent = nullptr);
    ~MetricChart() override;

    // A new line; returns its index.
    int addLine(const QString& label, const QColor& color);
    void clearLines();
    int lineCount() const;
    QString lineLabel(int line) const;
    QColor lineColor(int line) const;
    // Whether LINE is drawn (a legend click toggles it); a hidden line leaves the y range.
    void setLineVisible(int line, bool visible);
    bool lineVisible(int line) const;
    // Whether LINE is drawn smoothed now (smoothing on and the line dense).
    bool lineSmoothed(int line) const;
    // Appends a point (steps ascending within a line); the chart redraws within 50 ms.
    void append(int line, double step, double wallSeconds, double value);
    // A band around LINE (a group's spread): LO and HI at each of its points, in their order
    // (appended with the points or set after them); drawn filled in the line's colour, smoothed
    // as the line is, and kept in the y range, the CSV and an export.
    void setBand(int line, std::vector<double> lo, std::vector<double> hi);
    bool hasBand(int line) const;
    const std::vector<double>& bandLo(int line) const;
    const std::vector<double>& bandHi(int line) const;
    // A faint line: one run under its group's line, thin and pale, left out of the legend, the
    // hover readout and the shared prefix.
    void setLineFaint(int line, bool faint);
    bool lineFaint(int line) const;
    // A held line: its last value drawn on, dashed, to the plot's right edge (a figure fixed for
    // the run, such as the memory estimate, beside the measured series).
    void setLineHeld(int line, bool held);
    // The step's value of LINE (NaN when the line has no point at STEP).
    double valueAt(int line, double step) const;
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
    // Dashed vertical lines at steps, each with its label ("resumed"), on the step axis: where a
    // resumed run's later attempts took over. Empty: none.
    void setMarkers(const QVector<QPair<double, QString>>& markers);
    const QVector<QPair<double, QString>>& markers() const { return m_markers; }
    // A dashed horizontal line at VALUE with LABEL (compare's target); NaN removes it.
    void setReferenceLine(double value, const QString& label);
    double referenceLine() const;  // NaN when none

    size_t pointCount() const;
    size_t pointCount(int line) const;
    size_t drawnPoints() const { return m_drawn; }
    QString title() const { return m_title; }
    QString yLabel() const { return m_yLabel; }
    QString xLabel() const;
    QString notice() const;
    // The title as drawn: the chart's title, plus the prefix its lines' names share (which the
    // legend then leaves out).
    QString drawnTitle() const;
    // The legend's entries as drawn (the shared prefix left out; "(EMA w)" on smoothed lines).
    QStringList legendLabels() const;
    // The axes' tick labels as drawn now.
    QStringList xTickLabels() const;
    QStringList yTickLabels() const;
    // The visible ranges, in data units.
    QRectF visibleRange() const;

    void setOptions(const ChartOptions& options);
    // Linked charts (Compare's dashboard): the x range shown ([X0, X1], zoomed) or the fit
    // (ZOOMED false), as another chart's viewChanged gave it; and a crosshair at data x X from
    // another chart's hover (NaN: none). Neither emits a signal back.
    void setXView(double x0, double x1, bool zoomed);
    void showCrosshairAt(double x);
    double crosshairX() const { return m_linkedX; }
    const ChartOptions& options() const { return m_options; }
    void resetZoom();
    bool zoomed() const { return m_zoomed; }
    // Shows [X0, X1] x [Y0, Y1] (data units), as a drag would.
    void zoomTo(double x0, double x1, double y0, double y1);
    void scheduleRedraw();
    void redrawNow();

    // The readout at widget position POS (invalid outside the plot or with nothing shown).
    HoverReadout readoutAt(const QPointF& pos) const;
    // The readout being shown (the mouse's last position over the plot).
    HoverReadout hover() const { return m_hover; }
    // The widget position of data point (X, Y) in the current view.
    QPointF positionOf(double x, double y) const;
    // The legend entry of LINE on screen (empty when not drawn).
    QRectF legendRect(int line) const;

    // The chart as it is now (lines shown, visible ranges, options) at LOGICALSIZE (units of
    // 1/96 inch; fonts in points of that unit), titled TITLE, decimated to COLUMNS, painted
    // into TARGET.
    void render(QPainter& painter, const QRectF& target, const QSizeF& logicalSize,
                const QString& title, int columns) const;
    // Every raw point: run,line,step,wall_seconds,value,band_lo,band_hi (NaN and infinities
    // written as such; the band's columns empty for a line without one).
    QString csv() const;
    // The run a one-run chart shows ("run 3 · mezo-lora"), its CSV's run column; empty: none.
    void setRunLabel(const QString& label) { m_runLabel = label; }
    // A copy of this chart as it is now (its lines and points, options, zoom, band and reference
    // line), owned by the caller and never shown: what an export dialog writes, whatever the
    // live chart shows by the time the user presses Export.
    std::unique_ptr<MetricChart> snapshot() const;

signals:
    void pointsAppended(qint64 total);
    void redrawn(qint64 drawnPoints);
    void lineVisibilityChanged(int line, bool visible);
    // The user zoomed, panned or fitted the x axis: the range now ([X0, X1]) and whether zoomed.
    void viewChanged(double x0, double x1, bool zoomed);
    // The mouse's data x over the plot (NaN: it left).
    void hoverMoved(double x);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    struct Line;
    struct Layout;
    struct Style;
    const std::vector<double>& xsOf(const Line& line, std::vector<double>& scratch) const;
    // Decimates every line at COLUMNS over the current x range into its drawn points.
    void decimateAll(int columns);
    // The y range of the shown lines' drawn points (when not zoomed), ticks, notice; repaints.
    void refit();
    QString sharedPrefix() const;
    QString legendText(const Line& line, const QString& prefix) const;
    // Lays out and paints the chart into RECT; LAYOUT (when given) receives the geometry.
    void paintChart(QPainter& painter, const QRectF& rect, const Style& style, const QString& title,
                    const std::vector<std::pair<QList<QPointF>, QList<QPointF>>>& drawn,
                    Layout* layout, bool layoutOnly = false) const;
    // The layout alone (no painting), measured with DEVICE's fonts.
    void layoutChart(const QPaintDevice* device, const QRectF& rect, const Style& style, const QString& title,
                     Layout& layout) const;
    double layoutLegend(const QFontMetricsF& labelMetrics, const Style& style, Layout& layout) const;
    // A value's pixel on the laid-out plot.
    double pxOf(const Layout& layout, double x) const;
    double pyOf(const Layout& layout, double y) const;
    // The painting, part by part, over a computed layout.
    void paintFrame(QPainter& painter, const Layout& layout, const Style& style) const;
    void paintBand(QPainter& painter, const Layout& layout) const;
    void paintLines(QPainter& painter, const Layout& layout, const Style& style,
                    const std::vector<std::pair<QList<QPointF>, QList<QPointF>>>& drawn) const;
    void paintLegend(QPainter& painter, const Layout& layout, const Style& style) const;
    void paintZoomBand(QPainter& painter, const Layout& layout) const;
    void paintHover(QPainter& painter, const Layout& layout, const Style& style) const;
    // LINE's band as drawn (smoothed as the line is): its lo and hi at each point; and, decimated
    // at COLUMNS over the visible range, the filled outline in pixels (lo forward, hi back).
    std::pair<std::vector<double>, std::vector<double>> bandValues(const Line& line) const;
    QPolygonF bandPolygon(const Line& line, const Layout& layout, int columns, bool screen) const;
    // Widens [LO, HI] to LINE's band over the visible x range.
    void bandRange(const Line& line, double& lo, double& hi) const;
    // The widget's area below the notice, where the chart is painted.
    QRectF chartArea() const;
    double toAxisX(double x) const;
    double toAxisY(double y) const;
    double fromAxisX(double a) const;
    double fromAxisY(double a) const;

    QString m_title, m_yLabel, m_stepLabel, m_runLabel;
    ChartOptions m_options;
    std::vector<std::unique_ptr<Line>> m_lines;
    QLabel* m_notice = nullptr;
    QTimer* m_redrawTimer = nullptr;
    bool m_zoomed = false;
    double m_x0 = 0, m_x1 = 1, m_y0 = 0, m_y1 = 1;  // visible ranges, data units
    size_t m_drawn = 0, m_reportedPoints = 0;
    double m_span0 = 0, m_span1 = -1;
    QString m_spanLabel;
    double m_reference = 0;
    bool m_hasReference = false;
    QString m_referenceLabel;
    QVector<QPair<double, QString>> m_markers;
    std::unique_ptr<Layout> m_layout;  // the geometry of the last paint
    HoverReadout m_hover;
    QPointF m_hoverPos;
    enum class Drag { None, Zoom, Pan } m_drag = Drag::None;
    QPointF m_pressPos, m_dragPos;
    double m_linkedX = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace frugal::ui
