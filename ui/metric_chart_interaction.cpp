// MetricChart's interaction, apart from its painting: the hover readout, wheel zoom about the
// cursor, drag-zoom (a band), pan (middle button or shift-drag), reset (right click, double
// click) and legend clicks that hide or show a line. Each event changes the visible range or the
// hover and asks for a repaint; the layout it reads is the one the last paint computed.

#include <QMouseEvent>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <limits>

#include "metric_chart.h"
#include "metric_chart_parts.h"

namespace frugal::ui {

HoverReadout MetricChart::readoutAt(const QPointF& pos) const {
    HoverReadout out;
    if (!m_layout || !m_layout->plot.contains(pos) || m_lines.empty()) return out;
    const QRectF& plot = m_layout->plot;
    const double ax0 = toAxisX(m_x0), ax1 = toAxisX(m_x1);
    const double a = ax0 + (pos.x() - plot.left()) / plot.width() * (ax1 - ax0);
    const double target = fromAxisX(a);
    double best = std::numeric_limits<double>::infinity();
    std::vector<double> scratch;
    for (const auto& line : m_lines) {
        if (!line->visible || line->faint || line->value.empty()) continue;
        const std::vector<double>& xs = line->cached && !line->xCache.empty() ? line->xCache : xsOf(*line, scratch);
        const auto it = std::lower_bound(xs.begin(), xs.end(), target);
        size_t i = static_cast<size_t>(it - xs.begin());
        const auto distance = [&](size_t j) {
            const double v = xs[j];
            if (m_options.logX && v <= 0) return std::numeric_limits<double>::infinity();
            return std::abs(toAxisX(v) - a);
        };
        if (i == xs.size() || (i > 0 && distance(i - 1) <= distance(i))) i = i > 0 ? i - 1 : 0;
        if (xs[i] < m_x0 || xs[i] > m_x1) continue;
        out.rows.push_back({line->label, line->color, line->step[i], xs[i], line->value[i]});
        if (distance(i) < best) {
            best = distance(i);
            out.x = xs[i];
        }
    }
    out.valid = !out.rows.isEmpty();
    return out;
}

QPointF MetricChart::positionOf(double x, double y) const {
    if (!m_layout) return {};
    const QRectF& plot = m_layout->plot;
    const double ax0 = toAxisX(m_x0), ax1 = toAxisX(m_x1), ay0 = toAxisY(m_y0), ay1 = toAxisY(m_y1);
    return {plot.left() + (toAxisX(x) - ax0) / (ax1 - ax0) * plot.width(),
            plot.bottom() - (toAxisY(y) - ay0) / (ay1 - ay0) * plot.height()};
}

QRectF MetricChart::legendRect(int line) const {
    if (m_layout)
        for (const auto& [r, index] : m_layout->legend)
            if (index == line) return r;
    return {};
}

void MetricChart::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0 || !m_layout || m_layout->plot.width() <= 0) return;
    const QRectF& plot = m_layout->plot;
    const double factor = std::pow(1.25, steps);
    const double a0 = toAxisX(m_x0), a1 = toAxisX(m_x1);
    const double mouse = a0 + (std::clamp(event->position().x(), plot.left(), plot.right()) - plot.left()) /
                                  plot.width() * (a1 - a0);
    m_zoomed = true;
    m_x0 = fromAxisX(mouse - (mouse - a0) / factor);
    m_x1 = fromAxisX(mouse + (a1 - mouse) / factor);
    decimateAll(std::max(64, width() - 70));
    refit();
    emit viewChanged(m_x0, m_x1, true);
    event->accept();
}

void MetricChart::mousePressEvent(QMouseEvent* event) {
    m_pressPos = m_dragPos = event->position();
    if (event->button() == Qt::MiddleButton ||
        (event->button() == Qt::LeftButton && (event->modifiers() & Qt::ShiftModifier)))
        m_drag = Drag::Pan;
    else if (event->button() == Qt::LeftButton)
        m_drag = Drag::Zoom;
    event->accept();
}

void MetricChart::mouseMoveEvent(QMouseEvent* event) {
    const QPointF pos = event->position();
    if (m_drag == Drag::Pan && m_layout) {
        const QRectF& plot = m_layout->plot;
        const double ax = (toAxisX(m_x1) - toAxisX(m_x0)) / plot.width();
        const double ay = (toAxisY(m_y1) - toAxisY(m_y0)) / plot.height();
        const double dx = (pos.x() - m_dragPos.x()) * ax, dy = (pos.y() - m_dragPos.y()) * ay;
        m_dragPos = pos;
        m_zoomed = true;
        m_x0 = fromAxisX(toAxisX(m_x0) - dx), m_x1 = fromAxisX(toAxisX(m_x1) - dx);
        m_y0 = fromAxisY(toAxisY(m_y0) + dy), m_y1 = fromAxisY(toAxisY(m_y1) + dy);
        decimateAll(std::max(64, width() - 70));
        refit();
        emit viewChanged(m_x0, m_x1, true);
        return;
    }
    if (m_drag == Drag::Zoom) {
        m_dragPos = pos;
        update();
        return;
    }
    m_hoverPos = pos;
    m_hover = readoutAt(pos);
    update();
    emit hoverMoved(m_hover.valid ? m_hover.x : std::numeric_limits<double>::quiet_NaN());
}

void MetricChart::mouseReleaseEvent(QMouseEvent* event) {
    const Drag drag = m_drag;
    m_drag = Drag::None;
    const QPointF pos = event->position();
    if (event->button() == Qt::RightButton) {
        resetZoom();
        return;
    }
    if (drag == Drag::Zoom && m_layout) {
        const QRectF band = QRectF(m_pressPos, pos).normalized().intersected(m_layout->plot);
        if (band.width() >= 5 && band.height() >= 5) {
            const QRectF& plot = m_layout->plot;
            const double ax0 = toAxisX(m_x0), ax1 = toAxisX(m_x1), ay0 = toAxisY(m_y0), ay1 = toAxisY(m_y1);
            zoomTo(fromAxisX(ax0 + (band.left() - plot.left()) / plot.width() * (ax1 - ax0)),
                   fromAxisX(ax0 + (band.right() - plot.left()) / plot.width() * (ax1 - ax0)),
                   fromAxisY(ay0 + (plot.bottom() - band.bottom()) / plot.height() * (ay1 - ay0)),
                   fromAxisY(ay0 + (plot.bottom() - band.top()) / plot.height() * (ay1 - ay0)));
            return;
        }
        if ((pos - m_pressPos).manhattanLength() < 5)  // a click: on a legend entry, toggles it
            for (const auto& [r, index] : m_layout->legend)
                if (r.contains(pos)) {
                    setLineVisible(index, !lineVisible(index));
                    return;
                }
    }
    update();
}

void MetricChart::mouseDoubleClickEvent(QMouseEvent* event) {
    resetZoom();
    event->accept();
}

void MetricChart::leaveEvent(QEvent* event) {
    m_hover = {};
    update();
    emit hoverMoved(std::numeric_limits<double>::quiet_NaN());
    QWidget::leaveEvent(event);
}

}  // namespace frugal::ui
