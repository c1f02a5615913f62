#include "vector_plot.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QSlider>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "axis_ticks.h"
#include "common/metric_keys.h"

namespace frugal::ui {

QColor viridis(double t) {
    // Viridis at 9 stops, linear between them.
    static const unsigned kStops[] = {0x440154, 0x472D7B, 0x3B528B, 0x2C728E, 0x21918C,
                                      0x28AE80, 0x5EC962, 0xADDC30, 0xFDE725};
    if (!std::isfinite(t)) return QColor(Qt::red);
    t = std::clamp(t, 0.0, 1.0) * 8;
    const int i = std::min(7, static_cast<int>(t));
    const double f = t - i;
    const QColor a = QColor::fromRgb(kStops[i]), b = QColor::fromRgb(kStops[i + 1]);
    return QColor::fromRgbF(static_cast<float>(a.redF() + f * (b.redF() - a.redF())),
                            static_cast<float>(a.greenF() + f * (b.greenF() - a.greenF())),
                            static_cast<float>(a.blueF() + f * (b.blueF() - a.blueF())));
}

QString exportFigure(QWidget& figure, const QString& path, double widthMm, double heightMm, double dpi) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (!QFileInfo(path).absoluteDir().exists() && !QDir().mkpath(QFileInfo(path).absolutePath()))
        return QStringLiteral("%1: cannot create the folder").arg(QFileInfo(path).absolutePath());
    if (suffix == QLatin1String("png")) {
        const double scale = dpi / 96.0;
        QImage image(figure.size() * scale, QImage::Format_ARGB32);
        image.setDevicePixelRatio(scale);
        image.fill(Qt::white);
        QPainter painter(&image);
        figure.render(&painter);
        painter.end();
        if (!image.save(path, "PNG")) return QStringLiteral("%1: cannot write the PNG file").arg(path);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(figure.size());
        svg.setViewBox(QRect(QPoint(0, 0), figure.size()));
        QPainter painter;
        if (!painter.begin(&svg)) return QStringLiteral("%1: cannot write the SVG file").arg(path);
        figure.render(&painter);
        painter.end();
    } else if (suffix == QLatin1String("pdf")) {
        QPdfWriter pdf(path);
        pdf.setPageSize(QPageSize(QSizeF(widthMm, heightMm), QPageSize::Millimeter));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setResolution(static_cast<int>(dpi));
        QPainter painter;
        if (!painter.begin(&pdf)) return QStringLiteral("%1: cannot write the PDF file").arg(path);
        const double scale = std::min(pdf.width() / static_cast<double>(figure.width()),
                                      pdf.height() / static_cast<double>(figure.height()));
        painter.scale(scale, scale);
        figure.render(&painter);
        painter.end();
    } else {
        return QStringLiteral("%1: a vector figure is .png, .svg or .pdf").arg(path);
    }
    return QString();
}

VectorPlot::VectorPlot(QWidget* parent) : QWidget(parent) {
    setMinimumSize(240, 150);
    setMouseTracking(true);  // a heatmap's cell under the mouse says its value
}

namespace {

// LO and HI over the finite values of D; NONFINITE counts the others.
void extendRange(const QVector<float>& d, float& lo, float& hi, int& nonFinite) {
    for (float v : d) {
        if (!std::isfinite(v)) {
            ++nonFinite;
            continue;
        }
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
}

}  // namespace

bool isSliceKey(const QString& key) { return key.endsWith(QStringLiteral("slice1d")); }

void VectorPlot::setLines(const QString& title, const QVector<VectorFrame>& frames, int current,
                          const QVector<float>& axis) {
    m_title = title;
    m_frames.clear();
    for (const VectorFrame& f : frames)
        if (f.shape.size() <= 1 && !f.data.isEmpty()) m_frames << f;
    m_current = std::clamp(current, 0, std::max(0, static_cast<int>(m_frames.size()) - 1));
    m_axis = axis;
    m_frame = m_frames.isEmpty() ? VectorFrame{} : m_frames.at(m_current);
    m_mode = m_frames.isEmpty() ? Mode::Empty : Mode::Lines;
    update();
}

void VectorPlot::setFrame(const QString& title, const VectorFrame& frame) {
    m_title = title;
    m_frame = frame;
    m_frames.clear();
    if (frame.shape.size() == 2)
        m_mode = Mode::Heatmap;
    else if (frame.data.isEmpty())
        m_mode = Mode::Empty;
    else
        m_mode = frame.data.size() <= 64 ? Mode::Bars : Mode::Line;
    update();
}

void VectorPlot::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setRenderHint(QPainter::Antialiasing, true);
    const QFontMetrics fm(font());
    p.drawText(QRect(0, 2, width(), fm.height()), Qt::AlignHCenter, m_title);
    if (m_mode == Mode::Empty) return;
    if (m_mode == Mode::Lines) {
        paintLines(p);
        return;
    }
    const QVector<float>& d = m_frame.data;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    int nonFinite = 0;
    extendRange(d, lo, hi, nonFinite);
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (m_mode != Mode::Heatmap) lo = std::min(lo, 0.0f);
    if (m_fixedRange) lo = m_fixedLo, hi = m_fixedHi;  // one colour scale shared by several plots
    if (hi == lo) hi = lo + 1;
    const QRect area = m_mode == Mode::Heatmap
                           ? heatmapArea()
                           : QRect(46, fm.height() + 8, width() - 56, height() - 2 * fm.height() - 16);
    if (area.width() < 10 || area.height() < 10) return;
    p.setPen(palette().text().color());
    if (m_mode == Mode::Heatmap) {  // the values are on the colour bar; here the grid's axes
        paintHeatmapAxes(p, area);
    } else {
        p.drawText(QRect(0, area.top() - fm.height() / 2, 42, fm.height()), Qt::AlignRight,
                   QString::number(hi, 'g', 3));
        p.drawText(QRect(0, area.bottom() - fm.height() / 2, 42, fm.height()), Qt::AlignRight,
                   QString::number(lo, 'g', 3));
    }
    const auto yOf = [&](double v) { return area.bottom() - (v - lo) / (hi - lo) * area.height(); };
    if (m_mode == Mode::Bars) {
        const double w = static_cast<double>(area.width()) / d.size();
        for (qsizetype i = 0; i < d.size(); ++i) {
            if (!std::isfinite(d[i])) continue;
            const QRectF r(area.left() + i * w + w * 0.1, yOf(std::max(0.0f, d[i])), w * 0.8,
                           std::abs(yOf(d[i]) - yOf(0)));
            p.fillRect(r, QColor(0x0072B2));
        }
        p.drawText(QRect(area.left(), area.bottom() + 2, area.width(), fm.height()),
                   Qt::AlignHCenter, tr("index 0 … %1").arg(d.size() - 1));
    } else if (m_mode == Mode::Line) {
        QPainterPath path;
        bool open = false;
        for (qsizetype i = 0; i < d.size(); ++i) {
            if (!std::isfinite(d[i])) {
                open = false;
                continue;
            }
            const QPointF pt(area.left() + static_cast<double>(i) /
                                               std::max<qsizetype>(1, d.size() - 1) * area.width(),
                             yOf(d[i]));
            if (open)
                path.lineTo(pt);
            else
                path.moveTo(pt);
            open = true;
        }
        p.setPen(QPen(QColor(0x0072B2), 1.5));
        p.drawPath(path);
    } else {
        const int rows = static_cast<int>(m_frame.shape[0]),
                  cols = static_cast<int>(m_frame.shape[1]);
        QImage image(cols, rows, QImage::Format_RGB32);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) {
                const float v = d[static_cast<qsizetype>(r) * cols + c];
                image.setPixelColor(c, rows - 1 - r, viridis((v - lo) / (hi - lo)));
            }
        p.drawImage(area, image);
        // Contours at 8 levels between the extremes (marching squares on the cell centres),
        // drawn over the image; a level's tick on the colour bar matches its line.
        const auto xAt = [&](double c) { return area.left() + (c + 0.5) / cols * area.width(); };
        const auto yAt = [&](double r) { return area.bottom() - (r + 0.5) / rows * area.height(); };
        const auto at = [&](int r, int c) { return d[static_cast<qsizetype>(r) * cols + c]; };
        const int levels = 8;
        p.setPen(QPen(QColor(255, 255, 255, 170), 1.0));
        for (int k = 1; k <= levels; ++k) {
            const double level = lo + (hi - lo) * k / (levels + 1.0);
            for (int r = 0; r + 1 < rows; ++r)
                for (int c = 0; c + 1 < cols; ++c) {
                    const double v[4] = {at(r, c), at(r, c + 1), at(r + 1, c + 1), at(r + 1, c)};
                    if (!std::isfinite(v[0]) || !std::isfinite(v[1]) || !std::isfinite(v[2]) || !std::isfinite(v[3]))
                        continue;
                    const double cr[4] = {0, 0, 1, 1}, cc[4] = {0, 1, 1, 0};
                    QPointF hits[4];
                    int n = 0;
                    for (int e = 0; e < 4; ++e) {  // the square's edges: where the level crosses
                        const int f = (e + 1) % 4;
                        if ((v[e] < level) == (v[f] < level)) continue;
                        const double t = (level - v[e]) / (v[f] - v[e]);
                        hits[n++] = QPointF(xAt(c + cc[e] + t * (cc[f] - cc[e])), yAt(r + cr[e] + t * (cr[f] - cr[e])));
                    }
                    if (n >= 2) p.drawLine(hits[0], hits[1]);
                    if (n == 4) p.drawLine(hits[2], hits[3]);
                }
        }
        // the centre (α = β = 0) marked; the hovered cell outlined
        const HeatmapAxes& ax = m_heatmapAxes;
        if (ax.markCentre && ax.columnValues.size() == cols && ax.rowValues.size() == rows) {
            const auto nearest = [](const QVector<float>& v) {
                int best = 0;
                for (int i = 1; i < v.size(); ++i)
                    if (std::abs(v[i]) < std::abs(v[best])) best = i;
                return best;
            };
            const QPointF c(xAt(nearest(ax.columnValues)), yAt(nearest(ax.rowValues)));
            for (const auto& [color, width] : {std::pair{QColor(Qt::black), 3.0}, std::pair{QColor(Qt::white), 1.4}}) {
                p.setPen(QPen(color, width));
                p.drawLine(c + QPointF(-6, 0), c + QPointF(6, 0));
                p.drawLine(c + QPointF(0, -6), c + QPointF(0, 6));
            }
        }
        if (m_hoverCell.x() >= 0 && m_hoverCell.x() < cols && m_hoverCell.y() < rows) {
            const double w = static_cast<double>(area.width()) / cols, h = static_cast<double>(area.height()) / rows;
            p.setPen(QPen(Qt::white, 1.5));
            p.setBrush(Qt::NoBrush);
            p.drawRect(QRectF(area.left() + m_hoverCell.x() * w, area.bottom() - (m_hoverCell.y() + 1) * h, w, h));
            p.setPen(palette().text().color());
            p.drawText(QRect(area.left(), 2 + fm.height(), area.width(), fm.height()), Qt::AlignRight,
                       cellText(m_hoverCell));
        }
        const QRect barRect(area.right() + 10, area.top(), 12, area.height());
        for (int y = 0; y < barRect.height(); ++y)
            p.fillRect(QRect(barRect.left(), barRect.bottom() - y, barRect.width(), 1),
                       viridis(static_cast<double>(y) / std::max(1, barRect.height() - 1)));
        p.setPen(palette().text().color());
        p.drawText(QRect(barRect.right() + 3, barRect.top() - fm.height() / 2, 40, fm.height()),
                   Qt::AlignLeft, QString::number(hi, 'g', 3));
        p.drawText(QRect(barRect.right() + 3, barRect.bottom() - fm.height() / 2, 40, fm.height()),
                   Qt::AlignLeft, QString::number(lo, 'g', 3));
        p.setPen(QPen(palette().text().color(), 1.0));
        for (int k = 1; k <= levels; ++k) {
            const int y = barRect.bottom() - static_cast<int>(std::lround(static_cast<double>(k) / (levels + 1) * barRect.height()));
            p.drawLine(barRect.left() - 3, y, barRect.left(), y);
        }
    }
    if (nonFinite > 0) {
        p.setPen(QColor(0xb00020));
        p.drawText(QRect(0, height() - fm.height() - 2, width(), fm.height()), Qt::AlignHCenter,
                   tr("%n NaN/infinite value(s) (red in the heatmap, gaps elsewhere)", nullptr,
                      nonFinite));
    }
}

HeatmapAxes heatmapAxesFor(const QString& key, const QVector<float>& axis, const QStringList& matrixNames,
                           qint64 rows, qint64 columns) {
    HeatmapAxes a;
    if (key == QLatin1String(metrics::kSlice2d) && axis.size() == rows && axis.size() == columns) {
        a.rowTitle = QStringLiteral("β");
        a.columnTitle = QStringLiteral("α");
        a.rowValues = a.columnValues = axis;
        a.markCentre = true;
        return a;
    }
    if (key.endsWith(QLatin1String("per_matrix"))) {
        a.rowTitle = QStringLiteral("layer");
        for (qint64 r = 0; r < rows; ++r) a.rowNames << QString::number(r);
        a.columnTitle = matrixNames.size() == columns ? QStringLiteral("matrix") : QStringLiteral("matrix (the block's order)");
        if (matrixNames.size() == columns) a.columnNames = matrixNames;
        return a;
    }
    a.rowTitle = QStringLiteral("row");
    a.columnTitle = QStringLiteral("column");
    return a;
}

QStringList matrixNamesFromLogs(const QStringList& logs) {
    for (const QString& line : logs) {
        const qsizetype at = line.indexOf(QLatin1String("matrix order: "));
        if (at >= 0) return line.mid(at + 14).split(QStringLiteral(", "), Qt::SkipEmptyParts);
    }
    return {};
}

QRect VectorPlot::heatmapArea() const {
    const QFontMetrics fm(font());
    int labels = fm.horizontalAdvance(QStringLiteral("-0.00"));
    for (const QString& n : m_heatmapAxes.rowNames) labels = std::max(labels, fm.horizontalAdvance(n));
    const int left = fm.height() + 8 + labels;  // the rotated title, then the labels
    const int bar = 56;                          // the colour bar with its labels
    return QRect(left, fm.height() + 8, width() - left - 10 - bar, height() - 3 * fm.height() - 18);
}

void VectorPlot::paintHeatmapAxes(QPainter& p, const QRect& area) const {
    const QFontMetrics fm(font());
    const HeatmapAxes& a = m_heatmapAxes;
    const qint64 rows = m_frame.shape[0], cols = m_frame.shape[1];
    // a cell's centre along an axis of N cells over [0, LENGTH]
    const auto centre = [](qint64 i, qint64 n, int length) { return (static_cast<double>(i) + 0.5) / n * length; };
    const auto valueTicks = [&](const QVector<float>& v, qint64 n, auto&& place) {
        // ticks at round values, placed by linear interpolation between the cells' values
        const double v0 = v.first(), v1 = v.last();
        for (const AxisTick& t : linearTicks(std::min(v0, v1), std::max(v0, v1), 5)) {
            if (t.label.isEmpty() || v1 == v0) continue;
            const double f = (t.value - v0) / (v1 - v0) * static_cast<double>(n - 1);
            if (f < -1e-9 || f > static_cast<double>(n - 1) + 1e-9) continue;
            place((f + 0.5) / static_cast<double>(n), t.label);
        }
    };
    const auto nameTicks = [&](const QStringList& names, qint64 n, int room, auto&& place) {
        const int every = std::max<qint64>(1, static_cast<qint64>(std::ceil(static_cast<double>(n) * (fm.height() + 2) / std::max(1, room))));
        for (qint64 i = 0; i < n; i += every)
            place(centre(i, n, 1), names.value(static_cast<int>(i), QString::number(i)));
    };
    p.setPen(palette().text().color());
    const auto placeColumn = [&](double f, const QString& label) {
        const int x = area.left() + static_cast<int>(f * area.width());
        p.drawLine(x, area.bottom() + 1, x, area.bottom() + 4);
        const int w = fm.horizontalAdvance(label) + 4;
        p.drawText(QRect(x - w / 2, area.bottom() + 4, w, fm.height()), Qt::AlignHCenter, label);
    };
    const auto placeRow = [&](double f, const QString& label) {
        const int y = area.bottom() - static_cast<int>(f * area.height());
        p.drawLine(area.left() - 4, y, area.left() - 1, y);
        p.drawText(QRect(0, y - fm.height() / 2, area.left() - 6, fm.height()), Qt::AlignRight | Qt::AlignVCenter, label);
    };
    if (a.columnValues.size() == cols && cols > 1) valueTicks(a.columnValues, cols, placeColumn);
    else if (!a.columnNames.isEmpty()) {
        // names that do not fit their cell are cut to fit
        for (qint64 c = 0; c < cols; ++c) {
            const int w = std::max(8, area.width() / static_cast<int>(cols) - 2);
            const QString label = fm.elidedText(a.columnNames.value(static_cast<int>(c)), Qt::ElideRight, w);
            const int x = area.left() + static_cast<int>(centre(c, cols, area.width()));
            p.drawText(QRect(x - w / 2, area.bottom() + 4, w, fm.height()), Qt::AlignHCenter, label);
        }
    } else
        nameTicks({}, cols, area.width() / 3, placeColumn);
    if (a.rowValues.size() == rows && rows > 1) valueTicks(a.rowValues, rows, placeRow);
    else nameTicks(a.rowNames, rows, area.height(), placeRow);
    p.drawText(QRect(area.left(), area.bottom() + 4 + fm.height(), area.width(), fm.height()), Qt::AlignHCenter,
               a.columnTitle.isEmpty() ? tr("column") : a.columnTitle);
    p.save();
    p.translate(fm.height() / 2 + 2, area.center().y());
    p.rotate(-90);
    p.drawText(QRect(-area.height() / 2, -fm.height() / 2, area.height(), fm.height()), Qt::AlignCenter,
               a.rowTitle.isEmpty() ? tr("row") : a.rowTitle);
    p.restore();
}

QPoint VectorPlot::cellAt(const QPointF& pos) const {
    if (m_mode != Mode::Heatmap || m_frame.shape.size() != 2) return {-1, -1};
    const QRect area = heatmapArea();
    if (!QRectF(area).contains(pos)) return {-1, -1};
    const qint64 rows = m_frame.shape[0], cols = m_frame.shape[1];
    const int c = std::clamp(static_cast<int>((pos.x() - area.left()) / area.width() * static_cast<double>(cols)), 0,
                             static_cast<int>(cols) - 1);
    const int r = std::clamp(static_cast<int>((area.bottom() - pos.y()) / area.height() * static_cast<double>(rows)), 0,
                             static_cast<int>(rows) - 1);
    return {c, r};
}

QString VectorPlot::cellText(const QPoint& cell) const {
    if (cell.x() < 0 || m_frame.shape.size() != 2) return {};
    const qint64 cols = m_frame.shape[1];
    const float v = m_frame.data.value(static_cast<qsizetype>(cell.y()) * cols + cell.x());
    const HeatmapAxes& a = m_heatmapAxes;
    const auto coordinate = [](const QString& title, const QVector<float>& values, const QStringList& names, int i) {
        if (i < values.size()) return QStringLiteral("%1 %2").arg(title).arg(values[i], 0, 'g', 3);
        if (i < names.size()) return title == QLatin1String("layer") ? QStringLiteral("layer %1").arg(names[i]) : names[i];
        return QStringLiteral("%1 %2").arg(title.isEmpty() ? QStringLiteral("index") : title.section(QLatin1Char(' '), 0, 0)).arg(i);
    };
    return QStringLiteral("%1, %2: %3")
        .arg(coordinate(a.columnTitle, a.columnValues, a.columnNames, cell.x()),
             coordinate(a.rowTitle, a.rowValues, a.rowNames, cell.y()), QString::number(v, 'g', 5));
}

void VectorPlot::mouseMoveEvent(QMouseEvent* event) {
    const QPoint cell = cellAt(event->position());
    if (cell == m_hoverCell) return;
    m_hoverCell = cell;
    update();
}

void VectorPlot::leaveEvent(QEvent*) {
    m_hoverCell = {-1, -1};
    update();
}

void VectorPlot::paintLines(QPainter& p) {
    const QFontMetrics fm(font());
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    int nonFinite = 0;
    for (const VectorFrame& f : m_frames) extendRange(f.data, lo, hi, nonFinite);
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (m_fixedRange) lo = m_fixedLo, hi = m_fixedHi;
    if (hi == lo) hi = lo + 1;
    const int bar = 70;  // the step colour bar with its labels
    const QRect area(52, fm.height() + 8, width() - 62 - bar, height() - 4 * fm.height() - 18);
    if (area.width() < 10 || area.height() < 10) return;
    const qsizetype n = m_frames.at(m_current).data.size();
    const bool useAxis = m_axis.size() == n && n > 1;
    const double x0 = useAxis ? m_axis.first() : 0, x1 = useAxis ? m_axis.last() : static_cast<double>(n - 1);
    const auto xOf = [&](qsizetype i) {
        const double x = useAxis ? m_axis[i] : static_cast<double>(i);
        return area.left() + (x1 == x0 ? 0.5 : (x - x0) / (x1 - x0)) * area.width();
    };
    const auto yOf = [&](double v) { return area.bottom() - (v - lo) / (hi - lo) * area.height(); };
    p.setPen(palette().text().color());
    p.drawRect(area.adjusted(0, 0, -1, -1));
    // the ticks MetricChart draws: round values, as many digits as tell them apart
    for (const AxisTick& t : linearTicks(lo, hi, 5)) {
        const int y = static_cast<int>(std::lround(yOf(t.value)));
        p.drawLine(area.left() - 3, y, area.left(), y);
        p.drawText(QRect(0, y - fm.height() / 2, 48, fm.height()), Qt::AlignRight, t.label);
    }
    for (const AxisTick& t : linearTicks(x0, x1, 5)) {
        const double share = x1 == x0 ? 0.5 : (t.value - x0) / (x1 - x0);
        const int px = static_cast<int>(std::lround(area.left() + area.width() * share));
        p.drawLine(px, area.bottom(), px, area.bottom() + 3);
        p.drawText(QRect(px - 30, area.bottom() + 4, 60, fm.height()), Qt::AlignHCenter, t.label);
    }
    p.drawText(QRect(area.left(), area.bottom() + 4 + fm.height(), area.width(), fm.height()), Qt::AlignHCenter,
               useAxis ? tr("α (along the direction; 0 = the weights of that step)") : tr("index"));
    const qint64 firstStep = m_frames.first().step, lastStep = m_frames.last().step;
    const auto colourOf = [&](const VectorFrame& f) {
        return viridis(lastStep == firstStep ? 1.0
                                             : static_cast<double>(f.step - firstStep) / static_cast<double>(lastStep - firstStep));
    };
    const auto pathOf = [&](const VectorFrame& f) {
        QPainterPath path;
        bool open = false;
        for (qsizetype i = 0; i < f.data.size() && i < n; ++i) {
            if (!std::isfinite(f.data[i])) {
                open = false;
                continue;
            }
            const QPointF pt(xOf(i), yOf(f.data[i]));
            if (open)
                path.lineTo(pt);
            else
                path.moveTo(pt);
            open = true;
        }
        return path;
    };
    p.save();
    p.setClipRect(area);
    for (int i = 0; i < m_frames.size(); ++i) {
        if (i == m_current) continue;
        p.setPen(QPen(colourOf(m_frames[i]), 1.3));
        p.drawPath(pathOf(m_frames[i]));
    }
    const QPainterPath current = pathOf(m_frames[m_current]);
    p.setPen(QPen(palette().text().color(), 4.0));
    p.drawPath(current);
    p.setPen(QPen(colourOf(m_frames[m_current]), 2.2));
    p.drawPath(current);
    p.restore();
    // the step colour bar
    const QRect barRect(area.right() + 12, area.top(), 12, area.height());
    for (int y = 0; y < barRect.height(); ++y)
        p.fillRect(QRect(barRect.left(), barRect.bottom() - y, barRect.width(), 1),
                   viridis(static_cast<double>(y) / std::max(1, barRect.height() - 1)));
    p.setPen(palette().text().color());
    p.drawText(QRect(barRect.right() + 3, barRect.top() - fm.height() / 2, bar, fm.height()), Qt::AlignLeft,
               tr("step %1").arg(lastStep));
    p.drawText(QRect(barRect.right() + 3, barRect.bottom() - fm.height() / 2, bar, fm.height()), Qt::AlignLeft,
               tr("step %1").arg(firstStep));
    if (lastStep > firstStep) {
        const int y = barRect.bottom() - static_cast<int>(std::lround(
                                             static_cast<double>(m_frames[m_current].step - firstStep) /
                                             static_cast<double>(lastStep - firstStep) * barRect.height()));
        p.setPen(QPen(palette().text().color(), 2.0));
        p.drawLine(barRect.left() - 4, y, barRect.right() + 2, y);
    }
    p.drawText(QRect(0, height() - fm.height() - 2, width(), fm.height()), Qt::AlignHCenter,
               nonFinite > 0 ? tr("%n line(s) by step; step %1 bold; %2 NaN/infinite value(s) left as gaps", nullptr,
                                  static_cast<int>(m_frames.size()))
                                   .arg(m_frames[m_current].step)
                                   .arg(nonFinite)
                             : tr("%n line(s) coloured by step; step %1 bold", nullptr, static_cast<int>(m_frames.size()))
                                   .arg(m_frames[m_current].step));
}

VectorPanel::VectorPanel(QWidget* parent) : QWidget(parent) {
    m_key = new QComboBox(this);
    m_step = new QSlider(Qt::Horizontal, this);
    m_stepLabel = new QLabel(this);
    m_plot = new VectorPlot(this);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Vector series"), this));
    top->addWidget(m_key, 1);
    top->addWidget(m_step, 1);
    top->addWidget(m_stepLabel);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_plot, 1);
    connect(m_key, &QComboBox::currentTextChanged, this, [this] {
        const auto frames = m_series.value(m_key->currentText());
        m_step->setRange(0, std::max<int>(0, static_cast<int>(frames.size()) - 1));
        m_step->setValue(m_step->maximum());
        show(m_step->value());
    });
    connect(m_step, &QSlider::valueChanged, this, &VectorPanel::show);
}

void VectorPanel::setSeries(const QMap<QString, QVector<VectorFrame>>& series) {
    const QString current = m_key->currentText();
    const bool atLast = m_step->value() == m_step->maximum();
    const int stepValue = m_step->value();
    m_series = series;
    m_axis.clear();
    const auto axis = series.value(QString::fromLatin1(metrics::kLandscapeAxis));
    if (!axis.isEmpty()) m_axis = axis.last().data;
    m_key->blockSignals(true);
    m_key->clear();
    m_key->addItems(series.keys());
    m_key->blockSignals(false);
    if (series.contains(current)) {
        m_key->setCurrentText(current);
        // the same key again (a live run's new frames): the last step stays followed, a step
        // the user picked stays picked
        const auto frames = m_series.value(current);
        m_step->blockSignals(true);
        m_step->setRange(0, std::max<int>(0, static_cast<int>(frames.size()) - 1));
        m_step->setValue(atLast ? m_step->maximum() : stepValue);
        m_step->blockSignals(false);
        show(m_step->value());
        return;
    }
    for (const QString& key : m_preferred)
        if (series.contains(key)) {
            m_key->setCurrentText(key);
            break;
        }
    emit m_key->currentTextChanged(m_key->currentText());
}

void VectorPanel::show(int stepIndex) {
    const QString key = m_key->currentText();
    const auto frames = m_series.value(key);
    if (frames.isEmpty()) {
        m_plot->setFrame(QString(), VectorFrame{});
        m_stepLabel->clear();
        return;
    }
    const int index = static_cast<int>(std::clamp<qsizetype>(stepIndex, 0, frames.size() - 1));
    const VectorFrame& f = frames.at(index);
    QStringList dims;
    for (qint64 n : f.shape) dims << QString::number(n);
    m_stepLabel->setText(tr("step %1 · [%2]").arg(f.step).arg(dims.join(QStringLiteral(" × "))));
    if (isSliceKey(key) && f.shape.size() <= 1) {
        m_plot->setLines(key, frames, index, m_axis);
    } else {
        if (f.shape.size() == 2) m_plot->setHeatmapAxes(heatmapAxesFor(key, m_axis, m_matrixNames, f.shape[0], f.shape[1]));
        m_plot->setFrame(key, f);
    }
}

}  // namespace frugal::ui
