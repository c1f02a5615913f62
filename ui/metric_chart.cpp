#include "metric_chart.h"

#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QPainter>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace frugal::ui {

// The view: wheel zooms x about the cursor, a drag zooms to a rectangle (QChartView's rubber
// band), shift+drag or a middle drag pans, a double click fits the data again.
class ChartView : public QChartView {
public:
    ChartView(QChart* chart, std::function<void()> onFit, QWidget* parent)
        : QChartView(chart, parent), m_onFit(std::move(onFit)) {
        setRubberBand(QChartView::RectangleRubberBand);
        setRenderHint(QPainter::Antialiasing, true);
    }

protected:
    void wheelEvent(QWheelEvent* event) override {
        const QRectF plot = chart()->plotArea();
        const double steps = event->angleDelta().y() / 120.0;
        if (steps == 0 || plot.width() <= 0) return;
        const double factor = std::pow(1.25, steps);
        const double mouse = std::clamp(event->position().x(), plot.left(), plot.right());
        const double left = mouse - (mouse - plot.left()) / factor;
        chart()->zoomIn(QRectF(left, plot.top(), plot.width() / factor, plot.height()));
        event->accept();
    }
    void mousePressEvent(QMouseEvent* event) override {
        if (event->button() == Qt::MiddleButton ||
            (event->button() == Qt::LeftButton && (event->modifiers() & Qt::ShiftModifier))) {
            m_panning = true;
            m_last = event->position();
            event->accept();
            return;
        }
        QChartView::mousePressEvent(event);
    }
    void mouseMoveEvent(QMouseEvent* event) override {
        if (m_panning) {
            const QPointF delta = event->position() - m_last;
            m_last = event->position();
            chart()->scroll(-delta.x(), delta.y());
            event->accept();
            return;
        }
        QChartView::mouseMoveEvent(event);
    }
    void mouseReleaseEvent(QMouseEvent* event) override {
        if (m_panning) {
            m_panning = false;
            event->accept();
            return;
        }
        if (event->button() == Qt::RightButton) {  // QChartView would zoom out; fit instead
            m_onFit();
            event->accept();
            return;
        }
        QChartView::mouseReleaseEvent(event);
    }
    void mouseDoubleClickEvent(QMouseEvent* event) override {
        m_onFit();
        event->accept();
    }

public:
    // A shaded band over steps [X0, X1] labelled LABEL (SharpZO's CMA-ES stage); X1 < X0: none.
    void setSpan(double x0, double x1, const QString& label) {
        m_span0 = x0;
        m_span1 = x1;
        m_spanLabel = label;
        resetCachedContent();
        viewport()->update();
    }
    void setSpanVisible(bool visible) {
        m_spanVisible = visible;
        viewport()->update();
    }

protected:
    void drawForeground(QPainter* painter, const QRectF& rect) override {
        QChartView::drawForeground(painter, rect);
        if (!m_spanVisible || m_span1 < m_span0 || chart()->series().isEmpty()) return;
        const QRectF plot = chart()->plotArea();
        QAbstractSeries* series = chart()->series().first();
        const double a = chart()->mapToPosition(QPointF(m_span0, 0), series).x();
        const double b = chart()->mapToPosition(QPointF(m_span1, 0), series).x();
        const double left = std::clamp(std::min(a, b), plot.left(), plot.right());
        const double right = std::clamp(std::max(a, b), plot.left(), plot.right());
        if (right <= left) return;
        const QRectF band(left, plot.top(), right - left, plot.height());
        painter->fillRect(band, QColor(0xE6, 0x9F, 0x00, 40));
        painter->setPen(QColor(0x99, 0x66, 0x00));
        painter->drawText(band.adjusted(3, 2, 0, 0), Qt::AlignLeft | Qt::AlignTop, m_spanLabel);
    }

private:
    std::function<void()> m_onFit;
    bool m_panning = false;
    QPointF m_last;
    double m_span0 = 0, m_span1 = -1;
    bool m_spanVisible = true;
    QString m_spanLabel;
};

struct MetricChart::Line {
    QString label;
    QColor color;
    std::vector<double> step, wall, value, smooth;
    EmaSmoother smoother;
    std::vector<std::pair<double, double>> passes;
    double offset = 0;
    size_t nonFinite = 0;
    double firstNonFiniteStep = 0;
    QLineSeries* raw = nullptr;
    QLineSeries* smoothed = nullptr;
};

namespace {

QPen rawPen(const QColor& color, bool faint, double width) {
    QColor c = color;
    if (faint) c.setAlpha(70);
    QPen pen(c);
    pen.setWidthF(width);
    return pen;
}

QPen smoothPen(const QColor& color, double width) {
    QPen pen(color);
    pen.setWidthF(width);
    return pen;
}

QAbstractAxis* makeAxis(bool log, const QString& title, double lo, double hi, QFont font) {
    QAbstractAxis* axis = nullptr;
    if (log) {
        auto* a = new QLogValueAxis;
        a->setBase(10);
        a->setLabelFormat(QStringLiteral("%g"));
        a->setMinorTickCount(-1);
        axis = a;
    } else {
        auto* a = new QValueAxis;
        a->setLabelFormat(QStringLiteral("%.4g"));
        a->setTickCount(6);
        axis = a;
    }
    axis->setTitleText(title);
    axis->setLabelsFont(font);
    font.setBold(false);
    axis->setTitleFont(font);
    axis->setRange(lo, hi);
    return axis;
}

// A range with round ends and ticks (1, 2, 2.5 or 5 times a power of ten apart), about TICKS of
// them, containing [LO, HI].
void niceRange(double& lo, double& hi, int& ticks) {
    const double span = hi - lo;
    if (!(span > 0) || !std::isfinite(span)) return;
    const double raw = span / std::max(1, ticks - 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    lo = std::floor(lo / step) * step;
    hi = std::ceil(hi / step) * step;
    ticks = static_cast<int>(std::lround((hi - lo) / step)) + 1;
}

double axisMin(QAbstractAxis* axis) {
    if (auto* v = qobject_cast<QValueAxis*>(axis)) return v->min();
    if (auto* l = qobject_cast<QLogValueAxis*>(axis)) return l->min();
    return 0;
}

double axisMax(QAbstractAxis* axis) {
    if (auto* v = qobject_cast<QValueAxis*>(axis)) return v->max();
    if (auto* l = qobject_cast<QLogValueAxis*>(axis)) return l->max();
    return 1;
}

}  // namespace

MetricChart::MetricChart(const QString& title, const QString& yLabel, QWidget* parent)
    : QWidget(parent), m_title(title), m_yLabel(yLabel), m_stepLabel(tr("step")) {
    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->setTitle(title);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_chart->setTitleFont(titleFont);
    m_chart->setMargins(QMargins(2, 2, 2, 2));
    m_chart->setBackgroundRoundness(0);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->legend()->setVisible(false);
    m_view = new ChartView(
        m_chart, [this] { resetZoom(); }, this);
    m_view->setMinimumSize(220, 160);
    m_notice = new QLabel(this);
    m_notice->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_notice->setWordWrap(true);
    m_notice->hide();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_notice);
    layout->addWidget(m_view, 1);
    m_redrawTimer = new QTimer(this);
    m_redrawTimer->setSingleShot(true);
    m_redrawTimer->setInterval(50);
    connect(m_redrawTimer, &QTimer::timeout, this, &MetricChart::redrawNow);
    rebuildAxes();
}

MetricChart::~MetricChart() = default;

int MetricChart::addLine(const QString& label, const QColor& color) {
    auto line = std::make_unique<Line>();
    line->label = label;
    line->color = color;
    line->smoother.reset(m_options.smoothing);
    line->raw = new QLineSeries;
    line->smoothed = new QLineSeries;
    line->raw->setName(label + tr(" (raw)"));
    line->smoothed->setName(label);
    m_chart->addSeries(line->raw);
    m_chart->addSeries(line->smoothed);
    for (QAbstractAxis* axis : m_chart->axes()) {
        line->raw->attachAxis(axis);
        line->smoothed->attachAxis(axis);
    }
    for (QLegendMarker* marker : m_chart->legend()->markers(line->raw)) marker->setVisible(false);
    m_lines.push_back(std::move(line));
    m_chart->legend()->setVisible(m_lines.size() > 1);
    scheduleRedraw();
    return static_cast<int>(m_lines.size()) - 1;
}

void MetricChart::clearLines() {
    for (auto& line : m_lines) {
        m_chart->removeSeries(line->raw);
        m_chart->removeSeries(line->smoothed);
        delete line->raw;
        delete line->smoothed;
    }
    m_lines.clear();
    m_reportedPoints = 0;
    m_zoomed = false;
    m_chart->legend()->setVisible(false);
    scheduleRedraw();
}

int MetricChart::lineCount() const { return static_cast<int>(m_lines.size()); }

QString MetricChart::lineLabel(int line) const {
    return m_lines.at(static_cast<size_t>(line))->label;
}

void MetricChart::append(int index, double step, double wallSeconds, double value) {
    Line& line = *m_lines.at(static_cast<size_t>(index));
    line.step.push_back(step);
    line.wall.push_back(wallSeconds);
    line.value.push_back(value);
    if (!std::isfinite(value) && line.nonFinite++ == 0) line.firstNonFiniteStep = step;
    scheduleRedraw();
}

void MetricChart::setPasses(int index, std::vector<std::pair<double, double>> stepToPasses) {
    m_lines.at(static_cast<size_t>(index))->passes = std::move(stepToPasses);
    if (m_options.xAxis == XAxisKind::ForwardPasses) scheduleRedraw();
}

void MetricChart::setStepOffset(int index, double offset) {
    m_lines.at(static_cast<size_t>(index))->offset = offset;
    scheduleRedraw();
}

void MetricChart::setStepAxisLabel(const QString& label) {
    m_stepLabel = label;
    rebuildAxes();
}

void MetricChart::setTitle(const QString& title) {
    m_title = title;
    m_chart->setTitle(title);
}

void MetricChart::setYLabel(const QString& label) {
    m_yLabel = label;
    if (QAbstractAxis* y = m_chart->axes(Qt::Vertical).value(0)) y->setTitleText(label);
}

size_t MetricChart::pointCount() const {
    size_t n = 0;
    for (const auto& line : m_lines) n += line->value.size();
    return n;
}

size_t MetricChart::pointCount(int line) const {
    return m_lines.at(static_cast<size_t>(line))->value.size();
}

QString MetricChart::xLabel() const {
    switch (m_options.xAxis) {
        case XAxisKind::Step: return m_stepLabel;
        case XAxisKind::ForwardPasses: return tr("forward passes");
        case XAxisKind::WallTime: return tr("wall time (s)");
    }
    return m_stepLabel;
}

QString MetricChart::notice() const { return m_notice->text(); }

void MetricChart::setShadedSpan(double x0, double x1, const QString& label) {
    m_view->setSpan(x0, x1, label);
    m_view->setSpanVisible(m_options.xAxis == XAxisKind::Step);
}

void MetricChart::setOptions(const ChartOptions& options) {
    const bool axesChange = options.logX != m_options.logX || options.logY != m_options.logY ||
                            options.xAxis != m_options.xAxis;
    m_options = options;
    m_view->setSpanVisible(m_options.xAxis == XAxisKind::Step);
    if (axesChange) {
        m_zoomed = false;
        rebuildAxes();
    }
    redrawNow();
}

void MetricChart::resetZoom() {
    m_zoomed = false;
    redrawNow();
}

void MetricChart::scheduleRedraw() {
    if (!m_redrawTimer->isActive()) m_redrawTimer->start();
}

const std::vector<double>& MetricChart::xsOf(const Line& line, std::vector<double>& scratch) const {
    switch (m_options.xAxis) {
        case XAxisKind::WallTime: return line.wall;
        case XAxisKind::ForwardPasses: {
            if (line.passes.empty()) return line.step;
            // passes at each step, linear between the recorded steps (extrapolated at the ends)
            scratch.resize(line.step.size());
            const auto& p = line.passes;
            size_t j = 0;
            for (size_t i = 0; i < line.step.size(); ++i) {
                const double s = line.step[i];
                while (j + 1 < p.size() && p[j + 1].first <= s) ++j;
                const size_t a = std::min(j, p.size() - 1);
                const size_t b = std::min(a + 1, p.size() - 1);
                if (a == b || p[b].first == p[a].first) {
                    scratch[i] = p[a].first > 0 ? p[a].second * s / p[a].first : p[a].second;
                } else {
                    const double t = (s - p[a].first) / (p[b].first - p[a].first);
                    scratch[i] = p[a].second + t * (p[b].second - p[a].second);
                }
            }
            return scratch;
        }
        case XAxisKind::Step:
            if (line.offset == 0) return line.step;
            scratch.resize(line.step.size());
            for (size_t i = 0; i < line.step.size(); ++i) scratch[i] = line.step[i] - line.offset;
            return scratch;
    }
    return line.step;
}

void MetricChart::rebuildAxes() {
    for (QAbstractAxis* axis : m_chart->axes()) {
        m_chart->removeAxis(axis);
        delete axis;
    }
    QFont font = this->font();
    font.setPointSizeF(font.pointSizeF() * 0.85);
    QAbstractAxis* x =
        makeAxis(m_options.logX, xLabel(), m_options.logX ? 1 : 0, m_options.logX ? 10 : 1, font);
    QAbstractAxis* y =
        makeAxis(m_options.logY, m_yLabel, m_options.logY ? 0.1 : 0, m_options.logY ? 10 : 1, font);
    m_chart->addAxis(x, Qt::AlignBottom);
    m_chart->addAxis(y, Qt::AlignLeft);
    for (auto& line : m_lines)
        for (QLineSeries* s : {line->raw, line->smoothed}) {
            s->attachAxis(x);
            s->attachAxis(y);
        }
    if (auto* v = qobject_cast<QValueAxis*>(x))
        connect(v, &QValueAxis::rangeChanged, this, &MetricChart::userRangeChanged);
    if (auto* l = qobject_cast<QLogValueAxis*>(x))
        connect(l, &QLogValueAxis::rangeChanged, this, &MetricChart::userRangeChanged);
}

void MetricChart::userRangeChanged() {
    if (m_applyingRange) return;
    QAbstractAxis* x = m_chart->axes(Qt::Horizontal).value(0);
    QAbstractAxis* y = m_chart->axes(Qt::Vertical).value(0);
    m_zoomed = true;
    m_x0 = axisMin(x);
    m_x1 = axisMax(x);
    m_y0 = axisMin(y);
    m_y1 = axisMax(y);
    scheduleRedraw();  // decimate again at the new resolution
}

void MetricChart::redrawNow() {
    m_redrawTimer->stop();
    const int columns = std::max(64, static_cast<int>(m_chart->plotArea().width()));
    std::vector<double> scratch;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (auto& line : m_lines) {
        if (line->smoother.weight() != m_options.smoothing) {
            line->smoother.reset(m_options.smoothing);
            line->smooth.clear();
        }
        line->smoother.extend(line->value, line->smooth);
        const auto& xs = xsOf(*line, scratch);
        for (double v : xs)  // the first usable x (log axes need x > 0) and the last
            if (!m_options.logX || v > 0) {
                lo = std::min(lo, v);
                break;
            }
        if (!xs.empty()) hi = std::max(hi, xs.back());
    }
    if (!(lo <= hi)) lo = m_options.logX ? 1 : 0, hi = m_options.logX ? 10 : 1;
    if (lo == hi) hi = lo + (m_options.logX ? lo : 1);
    const double x0 = m_zoomed ? m_x0 : lo, x1 = m_zoomed ? m_x1 : hi;
    double yLo = std::numeric_limits<double>::infinity(), yHi = -yLo;
    m_drawn = 0;
    SkippedPoints skipped;
    const bool smoothing = m_options.smoothing > 0;
    std::vector<std::pair<QList<QPointF>, QList<QPointF>>> pending;  // raw and smoothed, per line
    pending.reserve(m_lines.size());
    for (auto& line : m_lines) {
        const auto& xs = xsOf(*line, scratch);
        const QList<QPointF> raw = decimate(xs.data(), line->value.data(), xs.size(), x0, x1,
                                            columns, m_options.logX, m_options.logY, &skipped);
        QList<QPointF> smooth;
        if (smoothing)
            smooth = decimate(xs.data(), line->smooth.data(), xs.size(), x0, x1, columns,
                              m_options.logX, m_options.logY);
        for (const QList<QPointF>* pts : {&raw, static_cast<const QList<QPointF>*>(&smooth)})
            for (const QPointF& p : *pts)
                if (p.x() >= x0 && p.x() <= x1) {
                    yLo = std::min(yLo, p.y());
                    yHi = std::max(yHi, p.y());
                }
        m_drawn += static_cast<size_t>(raw.size() + smooth.size());
        pending.push_back({raw, smooth});
    }
    if (!m_zoomed) {
        if (!(yLo <= yHi)) yLo = m_options.logY ? 0.1 : 0, yHi = m_options.logY ? 10 : 1;
        if (m_options.logY) {
            yLo /= 1.25;
            yHi *= 1.25;
        } else {
            const double pad =
                yHi > yLo ? 0.05 * (yHi - yLo) : std::max(std::abs(yHi) * 0.05, 1e-12);
            yLo -= pad;
            yHi += pad;
        }
        double xLo = x0, xHi = x1;
        int xTicks = 6, yTicks = 6;
        if (!m_options.logX)
            niceRange(xLo, xHi, xTicks);  // round tick labels; the range grows to them
        if (!m_options.logY) niceRange(yLo, yHi, yTicks);
        // each range change re-lays out every series, so set a range only when it changes
        m_applyingRange = true;
        QAbstractAxis* xAxis = m_chart->axes(Qt::Horizontal).value(0);
        QAbstractAxis* yAxis = m_chart->axes(Qt::Vertical).value(0);
        if (axisMin(xAxis) != xLo || axisMax(xAxis) != xHi) xAxis->setRange(xLo, xHi);
        if (axisMin(yAxis) != yLo || axisMax(yAxis) != yHi) yAxis->setRange(yLo, yHi);
        if (auto* v = qobject_cast<QValueAxis*>(xAxis); v && v->tickCount() != xTicks)
            v->setTickCount(xTicks);
        if (auto* v = qobject_cast<QValueAxis*>(yAxis); v && v->tickCount() != yTicks)
            v->setTickCount(yTicks);
        m_x0 = xLo, m_x1 = xHi, m_y0 = yLo, m_y1 = yHi;
        m_applyingRange = false;
    }
    for (size_t i = 0; i < m_lines.size(); ++i) {
        Line& line = *m_lines[i];
        const QPen raw = rawPen(line.color, smoothing, 1.0);
        if (line.raw->pen() != raw) line.raw->setPen(raw);
        const QPen smooth = smoothPen(line.color, 1.6);
        if (line.smoothed->pen() != smooth) line.smoothed->setPen(smooth);
        // a line of a few points (one perplexity per run, one error per block) shows its points
        const bool few = line.value.size() <= 32;
        if (line.raw->pointsVisible() != few) line.raw->setPointsVisible(few);
        if (line.smoothed->pointsVisible() != few) line.smoothed->setPointsVisible(few);
        line.raw->replace(pending[i].first);
        line.smoothed->replace(pending[i].second);
    }
    QStringList notes;
    for (const auto& line : m_lines)
        if (line->nonFinite > 0)
            notes << tr("%1: %n NaN/infinite value(s) not drawn, first at step %2", nullptr,
                        static_cast<int>(line->nonFinite))
                         .arg(line->label)
                         .arg(line->firstNonFiniteStep);
    m_logSkipped = skipped.notPositive;
    if (m_logSkipped > 0)
        notes << tr("%n point(s) <= 0 not shown on the log axis", nullptr,
                    static_cast<int>(m_logSkipped));
    m_notice->setText(notes.join(QStringLiteral("; ")));
    m_notice->setVisible(!notes.isEmpty());
    const size_t total = pointCount();
    if (total != m_reportedPoints) {
        m_reportedPoints = total;
        emit pointsAppended(static_cast<qint64>(total));
    }
    emit redrawn(static_cast<qint64>(m_drawn));
}

struct MetricChart::Drawn {
    QLineSeries* series;
    QList<QPointF> points;
    QPen pen;
};

void MetricChart::fillChart(QChart& chart, int columns, std::vector<Drawn>& drawn) const {
    QFont font = this->font();
    font.setPointSizeF(7.5);
    QAbstractAxis* x = makeAxis(m_options.logX, xLabel(), m_x0, m_x1, font);
    QAbstractAxis* y = makeAxis(m_options.logY, m_yLabel, m_y0, m_y1, font);
    chart.addAxis(x, Qt::AlignBottom);
    chart.addAxis(y, Qt::AlignLeft);
    std::vector<double> scratch;
    const bool smoothing = m_options.smoothing > 0;
    for (const auto& line : m_lines) {
        const auto& xs = xsOf(*line, scratch);
        auto* raw = new QLineSeries;
        raw->setPen(rawPen(line->color, smoothing, 0.8));
        drawn.push_back({raw,
                         decimate(xs.data(), line->value.data(), xs.size(), m_x0, m_x1, columns,
                                  m_options.logX, m_options.logY),
                         raw->pen()});
        raw->setName(line->label);
        chart.addSeries(raw);
        raw->attachAxis(x);
        raw->attachAxis(y);
        if (smoothing) {
            auto* smooth = new QLineSeries;
            smooth->setPen(smoothPen(line->color, 1.3));
            drawn.push_back({smooth,
                             decimate(xs.data(), line->smooth.data(), xs.size(), m_x0, m_x1,
                                      columns, m_options.logX, m_options.logY),
                             smooth->pen()});
            smooth->setName(line->label);
            chart.addSeries(smooth);
            smooth->attachAxis(x);
            smooth->attachAxis(y);
            for (QLegendMarker* marker : chart.legend()->markers(raw)) marker->setVisible(false);
        }
    }
    QFont legendFont = font;
    chart.legend()->setFont(legendFont);
    chart.legend()->setAlignment(Qt::AlignBottom);
    chart.legend()->setVisible(true);
}

void MetricChart::render(QPainter& painter, const QRectF& target, const QSizeF& logicalSize,
                         const QString& title, int columns) const {
    QGraphicsScene scene;
    auto* chart = new QChart;  // owned by the scene
    scene.addItem(chart);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setBackgroundBrush(Qt::white);
    QFont titleFont = font();
    titleFont.setPointSizeF(9);
    titleFont.setBold(true);
    chart->setTitleFont(titleFont);
    chart->setTitle(title);
    std::vector<Drawn> drawn;
    fillChart(*chart, columns, drawn);
    const QRectF rect(QPointF(0, 0), logicalSize);
    chart->setGeometry(rect);
    if (chart->layout()) chart->layout()->activate();
    scene.setSceneRect(rect);
    painter.setRenderHint(QPainter::Antialiasing, true);
    scene.render(&painter, target, rect);  // axes, labels, legend; the series hold no points
    // each line as one polyline in the plot area, in the same scene-to-target mapping
    painter.save();
    painter.translate(target.topLeft());
    painter.scale(target.width() / rect.width(), target.height() / rect.height());
    // (no clip path: an SVG painter would cut the polyline into segments) points outside the
    // visible x range are left out and y is held to the visible range
    for (const Drawn& d : drawn) {
        QPolygonF polyline;
        polyline.reserve(d.points.size());
        for (const QPointF& p : d.points)
            if (p.x() >= m_x0 && p.x() <= m_x1)
                polyline << chart->mapToPosition(QPointF(p.x(), std::clamp(p.y(), m_y0, m_y1)),
                                                 d.series);
        painter.setPen(d.pen);
        painter.drawPolyline(polyline);
    }
    painter.restore();
}

QString MetricChart::csv() const {
    QString out = QStringLiteral("line,step,wall_seconds,value\n");
    const auto number = [](double v) {
        if (std::isnan(v)) return QStringLiteral("nan");
        if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
        return QString::number(v, 'g', 17);
    };
    for (const auto& line : m_lines) {
        QString label = line->label;
        if (label.contains(QLatin1Char(',')) || label.contains(QLatin1Char('"')))
            label = QLatin1Char('"') + label.replace(QLatin1Char('"'), QStringLiteral("\"\"")) +
                    QLatin1Char('"');
        for (size_t i = 0; i < line->value.size(); ++i)
            out += label + QLatin1Char(',') + number(line->step[i]) + QLatin1Char(',') +
                   number(line->wall[i]) + QLatin1Char(',') + number(line->value[i]) +
                   QLatin1Char('\n');
    }
    return out;
}

}  // namespace frugal::ui
