#include "metric_chart.h"

#include "metric_chart_parts.h"

#include <QFontMetricsF>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QTimer>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <limits>

namespace frugal::ui {

namespace {

// A polyline drawn as pieces of at most kPiece points, each sharing its first point with the
// last of the one before: one long antialiased polyline is stroked as a single path, whose fill
// costs grow with every crossing of a dense, noisy line (310 ms for 9,000 points here); pieces
// keep it linear (the joins between pieces are the same round joins, drawn twice).
// Points within a third of a pixel of the last one kept are dropped first: a smooth curve
// decimated per pixel column gives four nearly equal points a column, whose tiny round-joined
// segments cost 17 of the 19 ms a 1,000,000-point chart took to paint; spikes move by pixels and
// stay.
void drawInPieces(QPainter& painter, const QPolygonF& points);

// A line of WIDTH pixels. In a file, one polyline of that width. On screen, strokes one pixel wide
// (which the raster engine draws directly; wider ones are stroked into a path and filled, 8x the
// cost: 17 of the 19 ms of a 1,000,000-point chart): the line once, then again shifted down by
// the rest of the width.
void drawLine(QPainter& painter, const QPolygonF& line, const QColor& color, double width, bool screen) {
    painter.setPen(QPen(color, screen ? std::min(width, 1.0) : width, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    if (!screen) {  // a vector file: one path per line, as a reader of the file expects
        painter.drawPolyline(line);
        return;
    }
    if (width <= 1) {
        drawInPieces(painter, line);
        return;
    }
    drawInPieces(painter, line);
    painter.translate(0, width - 1);
    drawInPieces(painter, line);
    painter.translate(0, -(width - 1));
}

void drawInPieces(QPainter& painter, const QPolygonF& points) {
    QPolygonF line;
    line.reserve(points.size());
    for (const QPointF& p : points)
        if (line.isEmpty() || std::abs(p.x() - line.back().x()) + std::abs(p.y() - line.back().y()) > 1.0 / 3)
            line << p;
    if (!points.isEmpty() && line.back() != points.back()) line << points.back();
    constexpr qsizetype kPiece = 16;
    if (line.size() <= kPiece) {
        painter.drawPolyline(line);
        return;
    }
    for (qsizetype start = 0; start + 1 < line.size(); start += kPiece - 1)
        painter.drawPolyline(line.constData() + start, static_cast<int>(std::min(kPiece, line.size() - start)));
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QFont pixelFont(QFont font, double pixels, bool bold) {
    font.setPixelSize(std::max(1, static_cast<int>(std::lround(pixels))));
    font.setBold(bold);
    return font;
}

QString number(double v) {
    if (std::isnan(v)) return QStringLiteral("NaN");
    if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return QString::number(v, 'g', 6);
}

}  // namespace

MetricChart::MetricChart(const QString& title, const QString& yLabel, QWidget* parent)
    : QWidget(parent), m_title(title), m_yLabel(yLabel), m_stepLabel(tr("step")) {
    setMinimumSize(220, 160);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    m_notice = new QLabel(this);
    m_notice->setStyleSheet(QStringLiteral("color: #b00020; background: white;"));
    m_notice->setWordWrap(true);
    m_notice->hide();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_notice);
    layout->addStretch(1);
    m_redrawTimer = new QTimer(this);
    m_redrawTimer->setSingleShot(true);
    m_redrawTimer->setInterval(50);
    connect(m_redrawTimer, &QTimer::timeout, this, &MetricChart::redrawNow);
}

MetricChart::~MetricChart() = default;

int MetricChart::addLine(const QString& label, const QColor& color) {
    auto line = std::make_unique<Line>();
    line->label = label;
    line->color = color;
    line->smoother.reset(m_options.smoothing);
    m_lines.push_back(std::move(line));
    scheduleRedraw();
    return static_cast<int>(m_lines.size()) - 1;
}

std::unique_ptr<MetricChart> MetricChart::snapshot() const {
    auto copy = std::make_unique<MetricChart>(m_title, m_yLabel);
    copy->m_stepLabel = m_stepLabel;
    copy->m_runLabel = m_runLabel;
    copy->m_options = m_options;
    for (const auto& line : m_lines) copy->m_lines.push_back(std::make_unique<Line>(*line));
    copy->m_zoomed = m_zoomed;
    copy->m_x0 = m_x0, copy->m_x1 = m_x1, copy->m_y0 = m_y0, copy->m_y1 = m_y1;
    copy->m_span0 = m_span0, copy->m_span1 = m_span1, copy->m_spanLabel = m_spanLabel;
    copy->m_reference = m_reference, copy->m_hasReference = m_hasReference;
    copy->m_referenceLabel = m_referenceLabel;
    copy->m_markers = m_markers;
    copy->resize(size());
    return copy;
}

void MetricChart::clearLines() {
    m_lines.clear();
    m_reportedPoints = 0;
    m_zoomed = false;
    m_hover = {};
    scheduleRedraw();
}

int MetricChart::lineCount() const { return static_cast<int>(m_lines.size()); }

QString MetricChart::lineLabel(int line) const { return m_lines.at(static_cast<size_t>(line))->label; }

QColor MetricChart::lineColor(int line) const { return m_lines.at(static_cast<size_t>(line))->color; }

void MetricChart::setLineVisible(int index, bool visible) {
    Line& line = *m_lines.at(static_cast<size_t>(index));
    if (line.visible == visible) return;
    line.visible = visible;
    refit();  // the drawn points stand; only the y range and the paint change
    emit lineVisibilityChanged(index, visible);
}

bool MetricChart::lineVisible(int line) const { return m_lines.at(static_cast<size_t>(line))->visible; }

double MetricChart::referenceLine() const { return m_hasReference ? m_reference : NAN; }

bool MetricChart::lineSmoothed(int line) const {
    return m_lines.at(static_cast<size_t>(line))->smoothed(m_options.smoothing);
}

void MetricChart::append(int index, double step, double wallSeconds, double value) {
    Line& line = *m_lines.at(static_cast<size_t>(index));
    line.step.push_back(step);
    line.wall.push_back(wallSeconds);
    line.value.push_back(value);
    line.cached = false;
    if (!std::isfinite(value) && line.nonFinite++ == 0) line.firstNonFiniteStep = step;
    scheduleRedraw();
}

void MetricChart::setBand(int index, std::vector<double> lo, std::vector<double> hi) {
    Line& line = *m_lines.at(static_cast<size_t>(index));
    line.bandLo = std::move(lo);
    line.bandHi = std::move(hi);
    scheduleRedraw();
}

bool MetricChart::hasBand(int line) const { return !m_lines.at(static_cast<size_t>(line))->bandLo.empty(); }
const std::vector<double>& MetricChart::bandLo(int line) const { return m_lines.at(static_cast<size_t>(line))->bandLo; }
const std::vector<double>& MetricChart::bandHi(int line) const { return m_lines.at(static_cast<size_t>(line))->bandHi; }

void MetricChart::setLineFaint(int index, bool faint) {
    m_lines.at(static_cast<size_t>(index))->faint = faint;
    scheduleRedraw();
}

void MetricChart::setLineHeld(int index, bool held) {
    m_lines.at(static_cast<size_t>(index))->held = held;
    scheduleRedraw();
}

bool MetricChart::lineFaint(int line) const { return m_lines.at(static_cast<size_t>(line))->faint; }

double MetricChart::valueAt(int index, double step) const {
    const Line& line = *m_lines.at(static_cast<size_t>(index));
    const auto it = std::lower_bound(line.step.begin(), line.step.end(), step);
    return it != line.step.end() && *it == step ? line.value[static_cast<size_t>(it - line.step.begin())]
                                                : std::numeric_limits<double>::quiet_NaN();
}

void MetricChart::setPasses(int index, std::vector<std::pair<double, double>> stepToPasses) {
    Line& line = *m_lines.at(static_cast<size_t>(index));
    line.passes = std::move(stepToPasses);
    line.cached = false;
    if (m_options.xAxis == XAxisKind::ForwardPasses) scheduleRedraw();
}

void MetricChart::setStepOffset(int index, double offset) {
    Line& line = *m_lines.at(static_cast<size_t>(index));
    line.offset = offset;
    line.cached = false;
    scheduleRedraw();
}

void MetricChart::setStepAxisLabel(const QString& label) {
    m_stepLabel = label;
    update();
}

void MetricChart::setTitle(const QString& title) {
    m_title = title;
    update();
}

void MetricChart::setYLabel(const QString& label) {
    m_yLabel = label;
    update();
}

void MetricChart::setShadedSpan(double x0, double x1, const QString& label) {
    m_span0 = x0;
    m_span1 = x1;
    m_spanLabel = label;
    update();
}

void MetricChart::setMarkers(const QVector<QPair<double, QString>>& markers) {
    m_markers = markers;
    update();
}

void MetricChart::setReferenceLine(double value, const QString& label) {
    m_hasReference = std::isfinite(value);
    m_reference = value;
    m_referenceLabel = label;
    scheduleRedraw();
}

size_t MetricChart::pointCount() const {
    size_t n = 0;
    for (const auto& line : m_lines) n += line->value.size();
    return n;
}

size_t MetricChart::pointCount(int line) const { return m_lines.at(static_cast<size_t>(line))->value.size(); }

QString MetricChart::xLabel() const {
    switch (m_options.xAxis) {
        case XAxisKind::Step: return m_stepLabel;
        case XAxisKind::ForwardPasses: return tr("forward passes");
        case XAxisKind::WallTime: return tr("wall time (s)");
    }
    return m_stepLabel;
}

QString MetricChart::notice() const { return m_notice->text(); }

// The prefix every line's name shares, cut after its last separator ("dev/", "run 3 · "), when
// there are two lines or more and each keeps a name of its own.
QString MetricChart::sharedPrefix() const {
    std::vector<const Line*> named;
    for (const auto& line : m_lines)
        if (!line->faint) named.push_back(line.get());
    if (named.size() < 2) return {};
    QString prefix = named.front()->label;
    for (const Line* line : named) {
        int n = 0;
        while (n < prefix.size() && n < line->label.size() && prefix[n] == line->label[n]) ++n;
        prefix.truncate(n);
    }
    // cut after a separator, never inside a number ("lr=1e-3" and "lr=1e-4" share no "lr=1e-")
    int cut = -1;
    for (int i = 0; i < prefix.size(); ++i) {
        if (!QStringLiteral("/ ·:_-").contains(prefix[i])) continue;
        bool inNumber = false;
        for (const Line* line : named)
            inNumber = inNumber || (i + 1 < line->label.size() && line->label[i + 1].isDigit()) || prefix[i - (i > 0)].isDigit();
        if (!inNumber || prefix[i] == QLatin1Char(' ')) cut = i;
    }
    prefix.truncate(cut + 1);
    for (const Line* line : named)
        if (line->label.size() <= prefix.size()) return {};
    return prefix;
}

QString MetricChart::legendText(const Line& line, const QString& prefix) const {
    QString text = line.label.mid(prefix.size());
    if (line.smoothed(m_options.smoothing)) text += tr(" (EMA %1)").arg(m_options.smoothing, 0, 'g', 3);
    return text;
}

QString MetricChart::drawnTitle() const {
    QString prefix = sharedPrefix();
    while (!prefix.isEmpty() && QStringLiteral("/ ·:_-").contains(prefix.back())) prefix.chop(1);
    return prefix.isEmpty() ? m_title : m_title + QStringLiteral(" · ") + prefix;
}

QStringList MetricChart::legendLabels() const {
    QStringList out;
    const QString prefix = sharedPrefix();
    for (const auto& line : m_lines)
        if (!line->faint) out << legendText(*line, prefix);
    return out;
}

QStringList MetricChart::xTickLabels() const {
    QStringList out;
    if (m_layout)
        for (const AxisTick& t : m_layout->xTicks)
            if (!t.label.isEmpty()) out << t.label;
    return out;
}

QStringList MetricChart::yTickLabels() const {
    QStringList out;
    if (m_layout)
        for (const AxisTick& t : m_layout->yTicks)
            if (!t.label.isEmpty()) out << t.label;
    return out;
}

QRectF MetricChart::visibleRange() const { return QRectF(QPointF(m_x0, m_y0), QPointF(m_x1, m_y1)); }

void MetricChart::setOptions(const ChartOptions& options) {
    const bool axesChange = options.logX != m_options.logX || options.logY != m_options.logY ||
                            options.xAxis != m_options.xAxis;
    m_options = options;
    if (axesChange) {
        m_zoomed = false;
        for (auto& line : m_lines) line->cached = false;
    }
    redrawNow();
}

void MetricChart::resetZoom() {
    m_zoomed = false;
    redrawNow();
    emit viewChanged(m_x0, m_x1, false);
}

void MetricChart::setXView(double x0, double x1, bool zoomed) {
    if (!zoomed) {
        m_zoomed = false;
        redrawNow();
        return;
    }
    if (!(x1 > x0) || (m_options.logX && x0 <= 0)) return;
    // the x range from the other chart, this chart's own y fit over it
    m_zoomed = false;
    redrawNow();
    m_x0 = x0, m_x1 = x1;
    decimateAll(std::max(64, width() - 70));
    refit();
    m_zoomed = true;
}

void MetricChart::showCrosshairAt(double x) {
    m_linkedX = x;
    update();
}

void MetricChart::zoomTo(double x0, double x1, double y0, double y1) {
    if (!(x1 > x0) || !(y1 > y0)) return;
    if ((m_options.logX && x0 <= 0) || (m_options.logY && y0 <= 0)) return;
    m_zoomed = true;
    m_x0 = x0, m_x1 = x1, m_y0 = y0, m_y1 = y1;
    decimateAll(std::max(64, width() - 70));
    refit();
    emit viewChanged(m_x0, m_x1, true);
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

double MetricChart::toAxisX(double x) const { return m_options.logX ? std::log10(x) : x; }
double MetricChart::toAxisY(double y) const { return m_options.logY ? std::log10(y) : y; }
double MetricChart::fromAxisX(double a) const { return m_options.logX ? std::pow(10.0, a) : a; }
double MetricChart::fromAxisY(double a) const { return m_options.logY ? std::pow(10.0, a) : a; }

void MetricChart::decimateAll(int columns) {
    for (auto& line : m_lines) {
        // the x of every point, kept between redraws for the hover readout
        if (!line->cached) {
            std::vector<double> scratch;
            const auto& xs = xsOf(*line, scratch);
            if (&xs == &scratch)
                line->xCache = std::move(scratch);
            else
                line->xCache.clear();
            line->cached = true;
        }
        const std::vector<double>& xs = line->xCache.empty() ? xsOf(*line, line->xCache) : line->xCache;
        SkippedPoints skipped;
        line->drawnRaw = decimate(xs.data(), line->value.data(), xs.size(), m_x0, m_x1, columns, m_options.logX,
                                  m_options.logY, &skipped);
        line->notPositive = skipped.notPositive;
        line->drawnSmooth.clear();
        if (line->smoothed(m_options.smoothing))
            line->drawnSmooth = decimate(xs.data(), line->smooth.data(), xs.size(), m_x0, m_x1, columns,
                                         m_options.logX, m_options.logY);
    }
}

void MetricChart::redrawNow() {
    m_redrawTimer->stop();
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
    if (!m_zoomed) {
        if (!(lo <= hi)) lo = m_options.logX ? 1 : 0, hi = m_options.logX ? 10 : 1;
        if (lo == hi) {  // one x: a range around it, not a range of width zero
            if (m_options.logX) {
                lo /= 2, hi *= 2;
            } else {
                const double pad = lo != 0 ? std::abs(lo) * 0.1 : 1;
                lo -= pad, hi += pad;
            }
        }
        m_x0 = lo, m_x1 = hi;  // the data's own range: the ticks fall inside it, on round numbers
    }
    decimateAll(std::max(64, width() - 70));
    refit();
}

void MetricChart::refit() {
    if (!m_zoomed) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const auto& line : m_lines) {
            if (!line->visible) continue;
            for (const QList<QPointF>* pts : {&line->drawnRaw, &line->drawnSmooth})
                for (const QPointF& p : *pts)
                    if (p.x() >= m_x0 && p.x() <= m_x1) {
                        lo = std::min(lo, p.y());
                        hi = std::max(hi, p.y());
                    }
            bandRange(*line, lo, hi);
        }
        if (m_hasReference && (!m_options.logY || m_reference > 0)) {
            lo = std::min(lo, m_reference);
            hi = std::max(hi, m_reference);
        }
        if (!(lo <= hi)) lo = m_options.logY ? 0.1 : 0, hi = m_options.logY ? 10 : 1;
        if (m_options.logY) {
            if (lo == hi) lo /= 2, hi *= 2;
            lo /= 1.25;
            hi *= 1.25;
        } else {
            // 4 % beyond the data each way, no more (rounding the ends out to ticks overshot by up
            // to 30 %); the ticks fall inside, on round numbers
            const bool nonNegative = lo >= 0;
            const double pad = hi > lo ? 0.04 * (hi - lo) : std::max(std::abs(hi) * 0.05, 1e-12);
            lo -= pad;
            hi += pad;
            if (nonNegative && lo < 0) lo = 0;  // |g|, memory, accuracy: not below zero
        }
        m_y0 = lo, m_y1 = hi;
    }
    m_drawn = 0;
    for (const auto& line : m_lines)
        if (line->visible) m_drawn += static_cast<size_t>(line->drawnRaw.size() + line->drawnSmooth.size());

    QStringList notes;
    for (const auto& line : m_lines) {
        if (line->nonFinite > 0)
            notes << tr("%1: %n NaN/infinite value(s) not drawn, first at step %2", nullptr,
                        static_cast<int>(line->nonFinite))
                         .arg(line->label)
                         .arg(line->firstNonFiniteStep);
        if (line->notPositive > 0)
            notes << tr("%1: %n point(s) <= 0 not shown on the log axis", nullptr,
                        static_cast<int>(line->notPositive))
                         .arg(line->label);
    }
    m_notice->setText(notes.join(QStringLiteral("; ")));
    m_notice->setVisible(!notes.isEmpty());

    // the geometry now, so that ticks, legend and hover are known before the next paint
    Style style;
    style.title = pixelFont(font(), QFontInfo(font()).pixelSize(), true);
    style.label = pixelFont(font(), QFontInfo(font()).pixelSize() * 0.85, false);
    if (!m_layout) m_layout = std::make_unique<Layout>();
    QImage probe(1, 1, QImage::Format_ARGB32);
    QPainter painter(&probe);
    const std::vector<std::pair<QList<QPointF>, QList<QPointF>>> none;
    paintChart(painter, chartArea(), style, drawnTitle(), none, m_layout.get(), /*layoutOnly=*/true);
    painter.end();
    if (m_hover.valid) m_hover = readoutAt(m_hoverPos);
    update();

    const size_t total = pointCount();
    if (total != m_reportedPoints) {
        m_reportedPoints = total;
        emit pointsAppended(static_cast<qint64>(total));
    }
    emit redrawn(static_cast<qint64>(m_drawn));
}

std::pair<std::vector<double>, std::vector<double>> MetricChart::bandValues(const Line& line) const {
    if (line.bandLo.size() != line.value.size() || line.bandHi.size() != line.value.size()) return {};
    if (!line.smoothed(m_options.smoothing)) return {line.bandLo, line.bandHi};
    return {smoothEma(line.bandLo, m_options.smoothing), smoothEma(line.bandHi, m_options.smoothing)};
}

void MetricChart::bandRange(const Line& line, double& lo, double& hi) const {
    if (line.bandLo.empty()) return;
    const auto [bandLo, bandHi] = bandValues(line);
    std::vector<double> scratch;
    const std::vector<double>& xs = xsOf(line, scratch);
    for (size_t i = 0; i < bandLo.size() && i < xs.size(); ++i) {
        if (xs[i] < m_x0 || xs[i] > m_x1) continue;
        for (double v : {bandLo[i], bandHi[i]})
            if (std::isfinite(v) && (!m_options.logY || v > 0)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
    }
}

QPolygonF MetricChart::bandPolygon(const Line& line, const Layout& L, int columns, bool screen) const {
    QPolygonF poly;
    const auto [bandLo, bandHi] = bandValues(line);
    if (bandLo.empty()) return poly;
    std::vector<double> scratch;
    const std::vector<double>& xs = xsOf(line, scratch);
    const QList<QPointF> lo =
        decimate(xs.data(), bandLo.data(), xs.size(), m_x0, m_x1, columns, m_options.logX, m_options.logY);
    const QList<QPointF> hi =
        decimate(xs.data(), bandHi.data(), xs.size(), m_x0, m_x1, columns, m_options.logX, m_options.logY);
    const auto add = [&](const QPointF& p) {
        if (!screen && (p.x() < m_x0 || p.x() > m_x1)) return;
        const double y = screen ? p.y() : std::clamp(p.y(), m_y0, m_y1);
        poly << QPointF(pxOf(L, p.x()), pyOf(L, y));
    };
    for (const QPointF& p : lo) add(p);
    for (auto it = hi.rbegin(); it != hi.rend(); ++it) add(*it);
    return poly;
}

double MetricChart::pxOf(const Layout& L, double x) const {
    const double a0 = toAxisX(m_x0), a1 = toAxisX(m_x1);
    return L.plot.left() + (toAxisX(x) - a0) / (a1 - a0) * L.plot.width();
}

double MetricChart::pyOf(const Layout& L, double y) const {
    const double a0 = toAxisY(m_y0), a1 = toAxisY(m_y1);
    return L.plot.bottom() - (toAxisY(y) - a0) / (a1 - a0) * L.plot.height();
}

// The legend: every line (a file: the shown ones), in rows that wrap, never elided; returns its height.
double MetricChart::layoutLegend(const QFontMetricsF& labelMetrics, const Style& style, Layout& L) const {
    const QString prefix = sharedPrefix();
    const double line = L.line;
    std::vector<int> lines;
    std::vector<double> widths;
    for (size_t i = 0; i < m_lines.size(); ++i) {
        if ((!style.screen && !m_lines[i]->visible) || m_lines[i]->faint) continue;
        const QString text = legendText(*m_lines[i], prefix);
        lines.push_back(static_cast<int>(i));
        L.legendText.push_back(text);
        widths.push_back(line * 1.4 + 4 + labelMetrics.horizontalAdvance(text));
    }
    const double legendWidth = L.rect.width() - 2 * L.pad;
    std::vector<int> rowOf(lines.size(), 0);
    int rows = lines.empty() ? 0 : 1;
    double x = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (x > 0 && x + widths[i] > legendWidth) {
            ++rows;
            x = 0;
        }
        rowOf[i] = rows - 1;
        x += widths[i] + line;
    }
    const double height = rows * line + (rows > 0 ? L.pad : 0);
    std::vector<double> rowX(static_cast<size_t>(rows), L.rect.left() + L.pad);
    for (size_t i = 0; i < lines.size(); ++i) {
        const double ey = L.rect.bottom() - height + rowOf[i] * line;
        double& ex = rowX[static_cast<size_t>(rowOf[i])];
        L.legend.push_back({QRectF(ex, ey, widths[i], line), lines[i]});
        ex += widths[i] + line;
    }
    return height;
}

void MetricChart::layoutChart(const QPaintDevice* device, const QRectF& rect, const Style& style, const QString& title,
                              Layout& L) const {
    L = Layout{};
    L.rect = rect;
    L.title = title;
    const QFontMetricsF titleMetrics(style.title, device);
    const QFontMetricsF labelMetrics(style.label, device);
    L.line = labelMetrics.height();
    L.pad = std::max(2.0, L.line * 0.3);
    L.titleHeight = titleMetrics.height();
    const double line = L.line, pad = L.pad;
    const double legendHeight = layoutLegend(labelMetrics, style, L);

    // ticks: the count from the width and height there is
    const double approxWidth = rect.width() - 60, approxHeight = rect.height() - 3 * line - legendHeight;
    const int xTarget = std::clamp(
        static_cast<int>(approxWidth / (labelMetrics.horizontalAdvance(QStringLiteral("0.0000")) * 1.6)), 2, 8);
    const int yTarget = std::clamp(static_cast<int>(approxHeight / (line * 2.2)), 2, 7);
    L.xTicks = m_options.logX ? logTicks(m_x0, m_x1) : linearTicks(m_x0, m_x1, xTarget);
    L.yTicks = m_options.logY ? logTicks(m_y0, m_y1) : linearTicks(m_y0, m_y1, yTarget);
    double yLabelWidth = 0;
    for (const AxisTick& t : L.yTicks) yLabelWidth = std::max(yLabelWidth, labelMetrics.horizontalAdvance(t.label));
    double lastXLabel = 0;
    for (const AxisTick& t : L.xTicks)
        if (!t.label.isEmpty()) lastXLabel = labelMetrics.horizontalAdvance(t.label);

    const double top = rect.top() + L.titleHeight + pad;
    const double left = rect.left() + pad + line + pad + yLabelWidth + 4;
    const double right = rect.right() - std::max(pad * 2, lastXLabel / 2 + pad);
    const double bottom = rect.bottom() - legendHeight - 2 * line - pad - 4;
    L.plot = QRectF(QPointF(left, top), QPointF(std::max(left + 10, right), std::max(top + 10, bottom)));
}

namespace {
const QColor kMajorGrid(0xDD, 0xDD, 0xDD), kMinorGrid(0xF0, 0xF0, 0xF0), kText(0x42, 0x42, 0x42);
}  // namespace

// The title, the grid with its tick labels, the axis labels.
void MetricChart::paintFrame(QPainter& painter, const Layout& L, const Style& style) const {
    const QRectF& rect = L.rect;
    const QRectF& plot = L.plot;
    const double line = L.line;
    painter.fillRect(rect, Qt::white);
    painter.setFont(style.title);
    painter.setPen(QColor(0x21, 0x21, 0x21));
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), L.titleHeight + L.pad),
                     Qt::AlignHCenter | Qt::AlignVCenter, L.title);
    painter.setFont(style.label);
    const QFontMetricsF labelMetrics(style.label, painter.device());
    for (const AxisTick& t : L.yTicks) {
        if (!insideRange(t.value, m_y0, m_y1)) continue;
        const double y = pyOf(L, t.value);
        painter.setPen(QPen(t.label.isEmpty() ? kMinorGrid : kMajorGrid, 0.8));
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        if (t.label.isEmpty()) continue;
        painter.setPen(kText);
        painter.drawText(QRectF(rect.left(), y - line / 2, plot.left() - 4 - rect.left(), line),
                         Qt::AlignRight | Qt::AlignVCenter, t.label);
    }
    for (const AxisTick& t : L.xTicks) {
        if (!insideRange(t.value, m_x0, m_x1)) continue;
        const double xx = pxOf(L, t.value);
        painter.setPen(QPen(t.label.isEmpty() ? kMinorGrid : kMajorGrid, 0.8));
        painter.drawLine(QPointF(xx, plot.top()), QPointF(xx, plot.bottom()));
        if (t.label.isEmpty()) continue;
        painter.setPen(kText);
        const double w = labelMetrics.horizontalAdvance(t.label) + 4;
        painter.drawText(QRectF(xx - w / 2, plot.bottom() + 3, w, line), Qt::AlignHCenter | Qt::AlignTop, t.label);
    }
    painter.setPen(kText);
    painter.drawText(QRectF(plot.left(), plot.bottom() + 3 + line, plot.width(), line), Qt::AlignHCenter | Qt::AlignTop,
                     xLabel());
    painter.save();
    painter.translate(rect.left() + L.pad + line / 2, plot.center().y());
    painter.rotate(-90);
    painter.drawText(QRectF(-plot.height() / 2, -line / 2, plot.height(), line), Qt::AlignCenter, m_yLabel);
    painter.restore();
}

// SharpZO's stage band (step axis only), then the plot's border.
void MetricChart::paintBand(QPainter& painter, const Layout& L) const {
    const QRectF& plot = L.plot;
    if (m_options.xAxis == XAxisKind::Step && m_span1 >= m_span0 && !m_lines.empty()) {
        const double a =
            std::clamp(pxOf(L, std::max(m_span0, m_options.logX ? m_x0 : m_span0)), plot.left(), plot.right());
        const double b = std::clamp(pxOf(L, m_span1), plot.left(), plot.right());
        if (b > a) {
            const QRectF band(a, plot.top(), b - a, plot.height());
            painter.fillRect(band, QColor(0xE6, 0x9F, 0x00, 40));
            painter.setPen(QColor(0x99, 0x66, 0x00));
            // the label whole, past the band's right edge where the band is narrower than it
            const double w = std::max(band.width(), painter.fontMetrics().horizontalAdvance(m_spanLabel) + 8.0);
            painter.drawText(QRectF(band.left() + 3, band.top() + 2, std::min(w, plot.right() - band.left() - 3), L.line),
                             Qt::AlignLeft | Qt::AlignTop, m_spanLabel);
        }
    }
    if (m_options.xAxis == XAxisKind::Step && !m_lines.empty())
        for (const auto& [step, label] : m_markers) {
            if (!insideRange(step, m_x0, m_x1) || (m_options.logX && step <= 0)) continue;
            const double x = pxOf(L, step);
            painter.setPen(QPen(QColor(0x8E, 0x24, 0xAA), 1, Qt::DashLine));
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
            painter.setPen(QColor(0x8E, 0x24, 0xAA));
            painter.drawText(QRectF(x + 3, plot.top() + 2, plot.right() - x - 4, L.line), Qt::AlignLeft | Qt::AlignTop,
                             label);
        }
    painter.setPen(QPen(QColor(0xB0, 0xB0, 0xB0), 0.8));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(plot);
}

// The lines: on screen clipped to the plot; in a file the points are held to it (an SVG would
// otherwise cut each polyline into pieces). Then the reference line.
void MetricChart::paintLines(QPainter& painter, const Layout& L, const Style& style,
                             const std::vector<std::pair<QList<QPointF>, QList<QPointF>>>& drawn) const {
    const QRectF& plot = L.plot;
    if (style.screen) painter.setClipRect(plot);
    const auto polyline = [&](const QList<QPointF>& pts) {
        QPolygonF poly;
        poly.reserve(pts.size());
        for (const QPointF& p : pts) {
            if (!style.screen && (p.x() < m_x0 || p.x() > m_x1)) continue;
            const double y = style.screen ? p.y() : std::clamp(p.y(), m_y0, m_y1);
            poly << QPointF(pxOf(L, p.x()), pyOf(L, y));
        }
        return poly;
    };
    // the groups' bands under every line
    const int columns = std::max(64, static_cast<int>(plot.width()));
    for (const auto& line : m_lines) {
        if (!line->visible || line->bandLo.empty()) continue;
        QColor fill = line->color;
        fill.setAlpha(48);
        painter.setPen(Qt::NoPen);
        painter.setBrush(fill);
        painter.drawPolygon(bandPolygon(*line, L, columns, style.screen));
        painter.setBrush(Qt::NoBrush);
    }
    for (size_t i = 0; i < m_lines.size(); ++i) {
        const Line& l = *m_lines[i];
        if (!l.visible || i >= drawn.size()) continue;
        const QPolygonF raw = polyline(drawn[i].first);
        QColor faint = l.color;
        faint.setAlpha(70);
        if (l.faint) {  // one run of a group: its raw values, thin and pale
            drawLine(painter, raw, faint, style.rawWidth, style.screen);
            continue;
        }
        if (l.smoothed(m_options.smoothing)) {
            drawLine(painter, raw, faint, style.rawWidth, style.screen);
            drawLine(painter, polyline(drawn[i].second), l.color, style.lineWidth, style.screen);
        } else {
            drawLine(painter, raw, l.color, style.lineWidth, style.screen);
        }
        if (l.held && !raw.isEmpty() && raw.last().x() < plot.right()) {
            painter.setPen(QPen(l.color, style.rawWidth * 1.2, Qt::DashLine));
            painter.drawLine(raw.last(), QPointF(plot.right(), raw.last().y()));
        }
        if (l.value.size() <= kDenseLine) {  // a few points (evaluations, one per run): marked
            // whole, also on the plot's border (a clipped half reads as another shape)
            painter.setClipping(false);
            painter.setPen(Qt::NoPen);
            painter.setBrush(l.color);
            for (const QPointF& p : raw)
                if (plot.adjusted(-0.5, -0.5, 0.5, 0.5).contains(p)) painter.drawEllipse(p, style.marker, style.marker);
            painter.setBrush(Qt::NoBrush);
            if (style.screen) painter.setClipRect(plot);
        }
    }
    if (m_hasReference && (!m_options.logY || m_reference > 0) && insideRange(m_reference, m_y0, m_y1)) {
        const double y = pyOf(L, m_reference);
        painter.setPen(QPen(QColor(0x60, 0x60, 0x60), 1, Qt::DashLine));
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        painter.setPen(kText);
        painter.drawText(QRectF(plot.left() + 4, y - L.line - 1, plot.width() - 8, L.line),
                         Qt::AlignRight | Qt::AlignBottom, m_referenceLabel);
    }
    painter.setClipping(false);
}

void MetricChart::paintLegend(QPainter& painter, const Layout& L, const Style& style) const {
    for (size_t i = 0; i < L.legend.size(); ++i) {
        const QRectF r = L.legend[i].first;
        const Line& l = *m_lines[static_cast<size_t>(L.legend[i].second)];
        const QColor c = l.visible ? l.color : QColor(0xBD, 0xBD, 0xBD);
        const double swatch = L.line * 1.4;
        painter.setPen(QPen(c, style.lineWidth * 1.5));
        painter.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.left() + swatch, r.center().y()));
        if (l.value.size() <= kDenseLine) {
            painter.setPen(Qt::NoPen);
            painter.setBrush(c);
            painter.drawEllipse(QPointF(r.left() + swatch / 2, r.center().y()), style.marker, style.marker);
            painter.setBrush(Qt::NoBrush);
        }
        QFont f = style.label;
        f.setStrikeOut(!l.visible);
        painter.setFont(f);
        painter.setPen(l.visible ? kText : QColor(0x9E, 0x9E, 0x9E));
        painter.drawText(QRectF(r.left() + swatch + 4, r.top(), r.width() - swatch - 4, r.height()),
                         Qt::AlignLeft | Qt::AlignVCenter, L.legendText[i]);
    }
    painter.setFont(style.label);
}

// On screen: the zoom rectangle being dragged.
void MetricChart::paintZoomBand(QPainter& painter, const Layout& L) const {
    if (m_drag != Drag::Zoom) return;
    const QRectF band = QRectF(m_pressPos, m_dragPos).normalized().intersected(L.plot);
    painter.setPen(QPen(QColor(0x15, 0x65, 0xC0), 1));
    painter.setBrush(QColor(0x15, 0x65, 0xC0, 40));
    painter.drawRect(band);
    painter.setBrush(Qt::NoBrush);
}

// On screen: the crosshair at the hovered x, each line's point marked, and the readout box.
void MetricChart::paintHover(QPainter& painter, const Layout& L, const Style& style) const {
    if (std::isfinite(m_linkedX) && insideRange(m_linkedX, m_x0, m_x1) && !m_hover.valid) {
        // another chart's crosshair (a dashboard's panels share the x)
        const double lx = pxOf(L, m_linkedX);
        painter.setPen(QPen(QColor(0x75, 0x75, 0x75), 1, Qt::DotLine));
        painter.drawLine(QPointF(lx, L.plot.top()), QPointF(lx, L.plot.bottom()));
    }
    if (!m_hover.valid || m_hover.rows.isEmpty()) return;
    const QRectF& plot = L.plot;
    const double line = L.line;
    const QString prefix = sharedPrefix();
    const double hx = pxOf(L, m_hover.x);
    painter.setPen(QPen(QColor(0x75, 0x75, 0x75), 1, Qt::DotLine));
    painter.drawLine(QPointF(hx, plot.top()), QPointF(hx, plot.bottom()));
    QStringList lines{QStringLiteral("%1 %2").arg(xLabel(), number(m_hover.x))};
    for (const HoverReadout::Row& r : m_hover.rows) {
        if (std::isfinite(r.value) && (!m_options.logY || r.value > 0)) {
            painter.setPen(QPen(r.color, 1.5));
            painter.setBrush(Qt::white);
            painter.drawEllipse(QPointF(pxOf(L, r.x), pyOf(L, r.value)), style.marker + 1, style.marker + 1);
        }
        QString row = QStringLiteral("%1  %2").arg(r.label.mid(prefix.size()), number(r.value));
        if (r.x != m_hover.x) row += tr("  (at %1)").arg(number(r.x));
        lines << row;
    }
    painter.setBrush(Qt::NoBrush);
    const QFontMetricsF labelMetrics(style.label, painter.device());
    double w = 0;
    for (const QString& s : lines) w = std::max(w, labelMetrics.horizontalAdvance(s));
    w += line + 12;
    const double h = lines.size() * line + 6;
    double bx = m_hoverPos.x() + 12;
    if (bx + w > plot.right()) bx = m_hoverPos.x() - 12 - w;
    bx = std::max(bx, plot.left());
    const QRectF box(bx, plot.top() + 4, w, h);
    painter.setPen(QColor(0xBD, 0xBD, 0xBD));
    painter.setBrush(QColor(255, 255, 255, 235));
    painter.drawRect(box);
    painter.setBrush(Qt::NoBrush);
    for (int i = 0; i < lines.size(); ++i) {
        const QRectF r(box.left() + 6, box.top() + 3 + i * line, w - 12, line);
        painter.setPen(kText);
        if (i == 0) {
            painter.drawText(r, Qt::AlignLeft | Qt::AlignVCenter, lines[i]);
            continue;
        }
        painter.fillRect(QRectF(r.left(), r.center().y() - 2, line * 0.6, 4), m_hover.rows[i - 1].color);
        painter.setPen(kText);
        painter.drawText(r.adjusted(line * 0.6 + 6, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, lines[i]);
    }
}

void MetricChart::paintChart(QPainter& painter, const QRectF& rect, const Style& style, const QString& title,
                             const std::vector<std::pair<QList<QPointF>, QList<QPointF>>>& drawn,
                             Layout* out, bool layoutOnly) const {
    Layout local;
    Layout& L = out ? *out : local;
    layoutChart(painter.device(), rect, style, title, L);
    if (layoutOnly) return;
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true);
    paintFrame(painter, L, style);
    paintBand(painter, L);
    paintLines(painter, L, style, drawn);
    paintLegend(painter, L, style);
    if (style.screen) {
        paintZoomBand(painter, L);
        paintHover(painter, L, style);
    }
    painter.restore();
}

void MetricChart::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    Style style;
    style.title = pixelFont(font(), QFontInfo(font()).pixelSize(), true);
    style.label = pixelFont(font(), QFontInfo(font()).pixelSize() * 0.85, false);
    std::vector<std::pair<QList<QPointF>, QList<QPointF>>> drawn;
    drawn.reserve(m_lines.size());
    for (const auto& line : m_lines) drawn.emplace_back(line->drawnRaw, line->drawnSmooth);
    if (!m_layout) m_layout = std::make_unique<Layout>();
    paintChart(painter, chartArea(), style, drawnTitle(), drawn, m_layout.get());
}

QRectF MetricChart::chartArea() const {
    QRectF area(rect());
    if (!m_notice->text().isEmpty()) area.setTop(m_notice->heightForWidth(width()) + 1);
    return area;
}

void MetricChart::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    scheduleRedraw();  // decimated again for the new width
}

void MetricChart::render(QPainter& painter, const QRectF& target, const QSizeF& logicalSize, const QString& title,
                         int columns) const {
    std::vector<std::pair<QList<QPointF>, QList<QPointF>>> drawn;
    std::vector<double> scratch;
    for (const auto& line : m_lines) {
        const auto& xs = xsOf(*line, scratch);
        std::pair<QList<QPointF>, QList<QPointF>> d;
        d.first = decimate(xs.data(), line->value.data(), xs.size(), m_x0, m_x1, columns, m_options.logX,
                           m_options.logY);
        if (line->smoothed(m_options.smoothing))
            d.second = decimate(xs.data(), line->smooth.data(), xs.size(), m_x0, m_x1, columns, m_options.logX,
                                m_options.logY);
        drawn.push_back(std::move(d));
    }
    Style style;
    style.screen = false;
    constexpr double kPixelsPerPoint = 96.0 / 72.0;
    style.title = pixelFont(font(), 9 * kPixelsPerPoint, true);
    style.label = pixelFont(font(), 7.5 * kPixelsPerPoint, false);
    style.rawWidth = 0.8;
    style.lineWidth = 1.3;
    style.marker = 2.2;
    painter.save();
    painter.translate(target.topLeft());
    painter.scale(target.width() / logicalSize.width(), target.height() / logicalSize.height());
    paintChart(painter, QRectF(QPointF(0, 0), logicalSize), style, title, drawn, nullptr);
    painter.restore();
}

QString MetricChart::csv() const {
    // the run (the Live view's charts are one run's; Compare's lines are runs and leave it empty),
    // wall time to the millisecond, the value with every digit that round-trips
    QString out = QStringLiteral("run,line,step,wall_seconds,value,band_lo,band_hi\n");
    QString run = m_runLabel;
    if (run.contains(QLatin1Char(',')) || run.contains(QLatin1Char('"')))
        run = QLatin1Char('"') + run.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
    const auto seconds = [](double v) {
        return std::isfinite(v) ? QString::number(v, 'f', 3) : QStringLiteral("nan");
    };
    const auto text = [](double v) {
        if (std::isnan(v)) return QStringLiteral("nan");
        if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
        return QString::number(v, 'g', 17);
    };
    for (const auto& line : m_lines) {
        QString label = line->label;
        if (label.contains(QLatin1Char(',')) || label.contains(QLatin1Char('"')))
            label = QLatin1Char('"') + label.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
        const bool band = line->bandLo.size() == line->value.size() && line->bandHi.size() == line->value.size();
        for (size_t i = 0; i < line->value.size(); ++i)
            out += run + QLatin1Char(',') + label + QLatin1Char(',') + text(line->step[i]) + QLatin1Char(',') +
                   seconds(line->wall[i]) + QLatin1Char(',') + text(line->value[i]) + QLatin1Char(',') +
                   (band ? text(line->bandLo[i]) + QLatin1Char(',') + text(line->bandHi[i]) : QStringLiteral(",")) +
                   QLatin1Char('\n');
    }
    return out;
}

}  // namespace frugal::ui
