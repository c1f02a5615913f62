#include "sweep_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "axis_ticks.h"
#include "compare_view.h"
#include "palette.h"
#include "run/method_registry.h"
#include "run_groups.h"

namespace frugal::ui {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const QColor kGrey(0xD0, 0xD0, 0xD0), kAxis(0x42, 0x42, 0x42);

// Where V falls on AXIS, 0 (bottom) to 1 (top); NaN when it cannot be shown.
double fractionOf(const SweepAxis& a, double v) {
    if (!std::isfinite(v)) return kNaN;
    if (!a.numeric) return a.categories.size() < 2 ? 0.5 : v / static_cast<double>(a.categories.size() - 1);
    if (a.log) {
        if (v <= 0 || a.lo <= 0) return kNaN;
        const double l0 = std::log10(a.lo), l1 = std::log10(a.hi);
        return l1 > l0 ? (std::log10(v) - l0) / (l1 - l0) : 0.5;
    }
    return a.hi > a.lo ? (v - a.lo) / (a.hi - a.lo) : 0.5;
}

double valueOfFraction(const SweepAxis& a, double f) {
    if (!a.numeric) return f * static_cast<double>(std::max<qsizetype>(1, a.categories.size() - 1));
    if (a.log && a.lo > 0) return std::pow(10.0, std::log10(a.lo) + f * (std::log10(a.hi) - std::log10(a.lo)));
    return a.lo + f * (a.hi - a.lo);
}

// The ticks of an axis: categories, decades or round numbers.
std::vector<AxisTick> ticksOf(const SweepAxis& a) {
    if (!a.numeric) {
        std::vector<AxisTick> t;
        for (int i = 0; i < a.categories.size(); ++i) t.push_back({static_cast<double>(i), a.categories[i]});
        return t;
    }
    if (a.hi <= a.lo) return {{a.lo, QString::number(a.lo, 'g', 4)}};
    return a.log && a.lo > 0 ? logTicks(a.lo, a.hi) : linearTicks(a.lo, a.hi, 5);
}

QString valueText(const SweepAxis& a, double v) {
    if (!std::isfinite(v)) return QStringLiteral("—");
    if (!a.numeric) return a.categories.value(static_cast<int>(v));
    return QString::number(v, 'g', 4);
}

double distanceToSegment(const QPointF& p, const QPointF& a, const QPointF& b) {
    const QPointF ab = b - a;
    const double len2 = QPointF::dotProduct(ab, ab);
    const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / len2, 0.0, 1.0) : 0.0;
    const QPointF d = p - (a + t * ab);
    return std::hypot(d.x(), d.y());
}

}  // namespace

QVector<SweepAxis> sweepAxes(const QVector<RunData>& runs, const QVector<QMap<QString, QString>>& resolved,
                             const QStringList& results) {
    QVector<SweepAxis> axes;
    const auto finish = [](SweepAxis& a) {
        double lo = INFINITY, hi = -INFINITY;
        for (double v : a.values)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        if (!(lo <= hi)) lo = 0, hi = 1;
        a.lo = lo;
        a.hi = hi;
        a.log = a.numeric && lo > 0 && hi / lo >= 100;
    };
    for (const DiffRow& d : configDiff(resolved)) {
        SweepAxis a;
        a.name = d.key;
        for (const QString& v : d.values) {
            bool ok = false;
            v.toDouble(&ok);
            if (!ok && !v.isEmpty()) a.numeric = false;
        }
        for (const QString& v : d.values) {
            if (a.numeric) {
                bool ok = false;
                const double x = v.toDouble(&ok);
                a.values.push_back(ok ? x : kNaN);
            } else {
                const QString shown = v.isEmpty() ? QStringLiteral("(unset)") : v;
                if (!a.categories.contains(shown)) a.categories << shown;
                a.values.push_back(static_cast<double>(a.categories.indexOf(shown)));
            }
        }
        finish(a);
        axes << a;
    }
    for (const QString& key : results) {
        SweepAxis a;
        a.name = key;
        a.result = true;
        for (const RunData& r : runs) a.values.push_back(finalValue(r, key));
        finish(a);
        a.log = false;  // results start linear (accuracy, loss)
        axes << a;
    }
    return axes;
}

// ---- parallel coordinates ---------------------------------------------------------------------

ParallelCoordinates::ParallelCoordinates(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setMinimumSize(320, 220);

}

void ParallelCoordinates::setData(const QVector<qint64>& ids, const QVector<QColor>& colors,
                                  const QVector<SweepAxis>& axes) {
    m_ids = ids;
    m_colors = colors;
    m_axes = axes;
    m_brushes = QVector<Brush>(axes.size());
    m_hover = -1;
    update();
    emit selectionChanged(selectedIds());
}

void ParallelCoordinates::setLog(int axis, bool log) {
    SweepAxis& a = m_axes[axis];
    if (log && (!a.numeric || a.lo <= 0)) return;  // a log axis needs positive numbers
    a.log = log;
    update();
}

void ParallelCoordinates::brush(int axis, double lo, double hi) {
    if (axis < 0 || axis >= m_brushes.size()) return;
    m_brushes[axis] = lo <= hi ? Brush{true, lo, hi} : Brush{};
    update();
    emit selectionChanged(selectedIds());
}

void ParallelCoordinates::clearBrushes() {
    m_brushes = QVector<Brush>(m_axes.size());
    update();
    emit selectionChanged(selectedIds());
}

bool ParallelCoordinates::brushed(int axis) const { return m_brushes.value(axis).on; }

bool ParallelCoordinates::inside(int run) const {
    for (int a = 0; a < m_axes.size(); ++a) {
        const Brush& b = m_brushes[a];
        if (!b.on) continue;
        const double v = m_axes[a].values[static_cast<size_t>(run)];
        if (!(v >= b.lo && v <= b.hi)) return false;
    }
    return true;
}

QVector<qint64> ParallelCoordinates::selectedIds() const {
    QVector<qint64> out;
    for (int r = 0; r < m_ids.size(); ++r)
        if (inside(r)) out << m_ids[r];
    return out;
}

QRectF ParallelCoordinates::plotRect() const {
    const double line = fontMetrics().height();
    return QRectF(QPointF(70, 2.4 * line + 6), QPointF(width() - 70.0, height() - 1.6 * line - 6));
}

double ParallelCoordinates::axisX(int axis) const {
    const QRectF r = plotRect();
    if (m_axes.size() < 2) return r.center().x();
    return r.left() + axis * r.width() / static_cast<double>(m_axes.size() - 1);
}

double ParallelCoordinates::yOf(int axis, double value) const {
    const QRectF r = plotRect();
    const double f = fractionOf(m_axes[axis], value);
    return std::isfinite(f) ? r.bottom() - f * r.height() : kNaN;
}

double ParallelCoordinates::valueAt(int axis, double y) const {
    const QRectF r = plotRect();
    return valueOfFraction(m_axes[axis], std::clamp((r.bottom() - y) / r.height(), 0.0, 1.0));
}

QPointF ParallelCoordinates::pointOf(int run, int axis) const {
    return {axisX(axis), yOf(axis, m_axes[axis].values[static_cast<size_t>(run)])};
}

qint64 ParallelCoordinates::runAt(const QPointF& pos) const {
    double best = 6;
    qint64 id = -1;
    for (int r = 0; r < m_ids.size(); ++r)
        for (int a = 0; a + 1 < m_axes.size(); ++a) {
            const QPointF p = pointOf(r, a), q = pointOf(r, a + 1);
            if (!std::isfinite(p.y()) || !std::isfinite(q.y())) continue;
            const double d = distanceToSegment(pos, p, q);
            if (d < best) best = d, id = m_ids[r];
        }
    return id;
}

void ParallelCoordinates::paintAxis(QPainter& p, int axis) const {
    const SweepAxis& a = m_axes[axis];
    const QRectF r = plotRect();
    const double x = axisX(axis), line = fontMetrics().height();
    p.setPen(QPen(kAxis, 1.2));
    p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()));
    for (const AxisTick& t : ticksOf(a)) {
        const double y = yOf(axis, t.value);
        if (!std::isfinite(y) || y < r.top() - 1 || y > r.bottom() + 1) continue;
        p.drawLine(QPointF(x - 3, y), QPointF(x, y));
        if (t.label.isEmpty()) continue;
        const QString text = fontMetrics().elidedText(t.label, Qt::ElideRight, 64);
        p.drawText(QRectF(x - 70, y - line / 2, 66, line), Qt::AlignRight | Qt::AlignVCenter, text);
    }
    // the name above (two lines: the table, then the key's last part), log marked
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    const QString last = a.name.section(QLatin1Char('.'), -1) + (a.log ? tr(" (log)") : QString());
    const QString table = a.result ? tr("result") : a.name.section(QLatin1Char('.'), 0, -2);
    p.drawText(QRectF(x - 70, r.top() - 2.2 * line - 4, 140, line), Qt::AlignHCenter | Qt::AlignBottom, table);
    p.drawText(QRectF(x - 70, r.top() - 1.2 * line - 4, 140, line), Qt::AlignHCenter | Qt::AlignBottom, last);
    p.setFont(font());
    const Brush& b = m_brushes[axis];
    if (b.on || (m_dragAxis == axis)) {
        const double y0 = m_dragAxis == axis ? m_dragFrom : yOf(axis, b.hi);
        const double y1 = m_dragAxis == axis ? m_dragTo : yOf(axis, b.lo);
        p.setPen(QPen(QColor(0x15, 0x65, 0xC0), 1));
        p.setBrush(QColor(0x15, 0x65, 0xC0, 50));
        p.drawRect(QRectF(QPointF(x - 7, std::min(y0, y1)), QPointF(x + 7, std::max(y0, y1))));
        p.setBrush(Qt::NoBrush);
    }
}

void ParallelCoordinates::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    p.setRenderHint(QPainter::Antialiasing, true);
    if (m_axes.isEmpty()) {
        p.setPen(kAxis);
        p.drawText(rect(), Qt::AlignCenter, tr("No config key differs between these runs"));
        return;
    }
    const auto polyline = [&](int r) {
        QVector<QPolygonF> pieces(1);
        for (int a = 0; a < m_axes.size(); ++a) {
            const QPointF pt = pointOf(r, a);
            if (std::isfinite(pt.y())) pieces.back() << pt;
            else if (!pieces.back().isEmpty()) pieces << QPolygonF();
        }
        return pieces;
    };
    // greyed runs first, then the kept ones, the hovered one last and thick
    for (int pass = 0; pass < 3; ++pass)
        for (int r = 0; r < m_ids.size(); ++r) {
            const bool in = inside(r), hover = m_ids[r] == m_hover;
            if ((pass == 0 && in) || (pass == 1 && (!in || hover)) || (pass == 2 && !hover)) continue;
            p.setPen(QPen(pass == 0 ? kGrey : m_colors.value(r), hover ? 3.2 : 1.6));
            for (const QPolygonF& piece : polyline(r)) p.drawPolyline(piece);
        }
    for (int a = 0; a < m_axes.size(); ++a) paintAxis(p, a);
    p.setPen(QColor(0x75, 0x75, 0x75));
    p.drawText(QRectF(8, height() - fontMetrics().height() - 2, width() - 16, fontMetrics().height()), Qt::AlignLeft,
               tr("drag along an axis to keep a range (click it to clear) · right-click a numeric axis: log "
                  "scale · hover a line: its run"));
}

void ParallelCoordinates::mousePressEvent(QMouseEvent* event) {
    const QPointF pos = event->position();
    int nearest = -1;
    for (int a = 0; a < m_axes.size(); ++a)
        if (std::abs(pos.x() - axisX(a)) < 12) nearest = a;
    if (nearest < 0) return;
    if (event->button() == Qt::RightButton) {
        setLog(nearest, !m_axes[nearest].log);
        return;
    }
    m_dragAxis = nearest;
    m_dragFrom = m_dragTo = std::clamp(pos.y(), plotRect().top(), plotRect().bottom());
}

void ParallelCoordinates::mouseMoveEvent(QMouseEvent* event) {
    const QPointF pos = event->position();
    if (m_dragAxis >= 0) {
        m_dragTo = std::clamp(pos.y(), plotRect().top(), plotRect().bottom());
        update();
        return;
    }
    const qint64 id = runAt(pos);
    if (id != m_hover) {
        m_hover = id;
        update();
        emit hovered(id);
    }
    if (id < 0) {
        QToolTip::hideText();
        return;
    }
    const int r = static_cast<int>(m_ids.indexOf(id));
    QStringList lines{tr("run %1").arg(id)};
    for (const SweepAxis& a : m_axes) lines << QStringLiteral("%1 = %2").arg(a.name, valueText(a, a.values[static_cast<size_t>(r)]));
    QToolTip::showText(event->globalPosition().toPoint(), lines.join(QLatin1Char('\n')), this);
}

void ParallelCoordinates::mouseReleaseEvent(QMouseEvent*) {
    if (m_dragAxis < 0) return;
    const int axis = m_dragAxis;
    m_dragAxis = -1;
    if (std::abs(m_dragTo - m_dragFrom) < 3) {  // a click: the axis's brush cleared
        brush(axis, 1, 0);
        return;
    }
    const double a = valueAt(axis, m_dragFrom), b = valueAt(axis, m_dragTo);
    brush(axis, std::min(a, b), std::max(a, b));
}

void ParallelCoordinates::leaveEvent(QEvent*) {
    if (m_hover < 0) return;
    m_hover = -1;
    update();
    emit hovered(-1);
}

// ---- the scatter ------------------------------------------------------------------------------

SweepScatter::SweepScatter(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setMinimumSize(240, 220);
}

void SweepScatter::setData(const QVector<qint64>& ids, const QVector<QColor>& colors, const SweepAxis& x,
                           const SweepAxis& y) {
    m_ids = ids;
    m_colors = colors;
    m_x = x;
    m_y = y;
    m_selected = ids;
    update();
}

void SweepScatter::setSelected(const QVector<qint64>& ids) {
    m_selected = ids;
    update();
}

void SweepScatter::setHighlighted(qint64 id) {
    m_hover = id;
    update();
}

QRectF SweepScatter::plotRect() const {
    const double line = fontMetrics().height();
    return QRectF(QPointF(64, line + 8), QPointF(width() - 16.0, height() - 2.6 * line - 6));
}

double SweepScatter::px(double v) const {
    const QRectF r = plotRect();
    const double f = fractionOf(m_x, v);
    return std::isfinite(f) ? r.left() + (0.04 + 0.92 * f) * r.width() : kNaN;
}

double SweepScatter::py(double v) const {
    const QRectF r = plotRect();
    const double f = fractionOf(m_y, v);
    return std::isfinite(f) ? r.bottom() - (0.04 + 0.92 * f) * r.height() : kNaN;
}

QPointF SweepScatter::pointOf(int run) const {
    return {px(m_x.values[static_cast<size_t>(run)]), py(m_y.values[static_cast<size_t>(run)])};
}

void SweepScatter::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    p.setRenderHint(QPainter::Antialiasing, true);
    const QRectF r = plotRect();
    const double line = fontMetrics().height();
    if (m_ids.isEmpty() || m_x.values.empty()) {
        p.setPen(kAxis);
        p.drawText(rect(), Qt::AlignCenter, tr("Choose a key and a result"));
        return;
    }
    p.setPen(QPen(QColor(0xB0, 0xB0, 0xB0), 0.8));
    p.drawRect(r);
    double labelsEnd = -1e9;  // the right end of the last x label drawn: labels never overlap
    for (const AxisTick& t : ticksOf(m_x)) {
        const double x = px(t.value);
        if (!std::isfinite(x) || x < r.left() || x > r.right()) continue;
        p.setPen(QPen(QColor(0xEE, 0xEE, 0xEE), 0.8));
        p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()));
        if (t.label.isEmpty()) continue;
        const double w = fontMetrics().horizontalAdvance(t.label);
        if (x - w / 2 < labelsEnd + 4) continue;
        labelsEnd = x + w / 2;
        p.setPen(kAxis);
        p.drawText(QRectF(x - 50, r.bottom() + 3, 100, line), Qt::AlignHCenter | Qt::AlignTop, t.label);
    }
    for (const AxisTick& t : ticksOf(m_y)) {
        const double y = py(t.value);
        if (!std::isfinite(y) || y < r.top() || y > r.bottom()) continue;
        p.setPen(QPen(QColor(0xEE, 0xEE, 0xEE), 0.8));
        p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y));
        if (t.label.isEmpty()) continue;
        p.setPen(kAxis);
        p.drawText(QRectF(0, y - line / 2, r.left() - 4, line), Qt::AlignRight | Qt::AlignVCenter, t.label);
    }
    p.setPen(kAxis);
    p.drawText(QRectF(r.left(), r.bottom() + line + 4, r.width(), line), Qt::AlignHCenter,
               m_x.name + (m_x.log ? tr(" (log)") : QString()));
    p.drawText(QRectF(r.left(), 2, r.width(), line), Qt::AlignLeft, m_y.name);
    for (int pass = 0; pass < 2; ++pass)
        for (int i = 0; i < m_ids.size(); ++i) {
            const bool in = m_selected.contains(m_ids[i]);
            if (in != (pass == 1)) continue;
            const QPointF pt = pointOf(i);
            if (!std::isfinite(pt.x()) || !std::isfinite(pt.y())) continue;
            p.setPen(QPen(Qt::white, 1));
            p.setBrush(in ? m_colors.value(i) : kGrey);
            p.drawEllipse(pt, 4.5, 4.5);
            if (m_ids[i] == m_hover) {
                p.setBrush(Qt::NoBrush);
                p.setPen(QPen(kAxis, 1.5));
                p.drawEllipse(pt, 8, 8);
            }
        }
}

void SweepScatter::mouseMoveEvent(QMouseEvent* event) {
    for (int i = 0; i < m_ids.size(); ++i) {
        const QPointF d = pointOf(i) - event->position();
        if (std::hypot(d.x(), d.y()) < 7) {
            m_hover = m_ids[i];
            update();
            QToolTip::showText(event->globalPosition().toPoint(),
                               tr("run %1\n%2 = %3\n%4 = %5")
                                   .arg(m_ids[i])
                                   .arg(m_x.name, valueText(m_x, m_x.values[static_cast<size_t>(i)]), m_y.name,
                                        valueText(m_y, m_y.values[static_cast<size_t>(i)])),
                               this);
            return;
        }
    }
    if (m_hover >= 0) {
        m_hover = -1;
        update();
    }
}

// ---- the tab ----------------------------------------------------------------------------------

SweepView::SweepView(QWidget* parent) : QWidget(parent) {
    m_resultsButton = new QToolButton(this);
    m_resultsButton->setText(tr("Result axes"));
    m_resultsButton->setPopupMode(QToolButton::InstantPopup);
    m_resultsButton->setMenu(new QMenu(m_resultsButton));
    m_scatterKey = new QComboBox(this);
    m_scatterResult = new QComboBox(this);
    m_scatterLog = new QCheckBox(tr("log x"), this);
    m_caption = new QLabel(this);
    m_compare = new QPushButton(tr("Compare these"), this);
    m_compare->setToolTip(tr("Open the runs inside the brushes in the metric overlay"));
    m_coords = new ParallelCoordinates(this);
    m_scatter = new SweepScatter(this);
    auto* top = new QHBoxLayout;
    top->addWidget(m_resultsButton);
    top->addWidget(new QLabel(tr("Scatter:"), this));
    top->addWidget(m_scatterResult);
    top->addWidget(new QLabel(tr("against"), this));
    top->addWidget(m_scatterKey);
    top->addWidget(m_scatterLog);
    top->addWidget(m_caption, 1);
    top->addWidget(m_compare);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_coords);
    split->addWidget(m_scatter);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    connect(m_coords, &ParallelCoordinates::selectionChanged, this, [this](const QVector<qint64>& ids) {
        m_selected = ids;
        m_scatter->setSelected(ids);
        m_caption->setText(tr("%1 of %n run(s) inside the brushes", nullptr, static_cast<int>(m_runs.size()))
                               .arg(ids.size()));
        m_compare->setEnabled(ids.size() >= 2);
    });
    connect(m_coords, &ParallelCoordinates::hovered, m_scatter, &SweepScatter::setHighlighted);
    connect(m_compare, &QPushButton::clicked, this, [this] { emit compareRequested(m_selected); });
    for (QComboBox* box : {m_scatterKey, m_scatterResult})
        connect(box, &QComboBox::currentIndexChanged, this, &SweepView::fillScatter);
    connect(m_scatterLog, &QCheckBox::toggled, this, &SweepView::fillScatter);
}

void SweepView::setRuns(const QVector<RunData>& runs, const QVector<QMap<QString, QString>>& resolved) {
    m_runs = runs;
    m_resolved = resolved;
    // the results offered: every metric the runs have; chosen at first: the headline's keys
    QStringList metricsKeys;
    for (const RunData& r : runs)
        for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it)
            if (!metricsKeys.contains(it.key())) metricsKeys << it.key();
    metricsKeys.sort();
    QStringList chosen;
    for (const QString& k : m_results)
        if (metricsKeys.contains(k)) chosen << k;
    if (chosen.isEmpty())
        for (const RunData& r : runs) {
            for (const ResultPart& part : run::methodView(r.row.method.toStdString()).result) {
                const QString key = QString::fromStdString(part.key);
                if (metricsKeys.contains(key) && !chosen.contains(key) && chosen.size() < 2) chosen << key;
            }
        }
    QMenu* menu = m_resultsButton->menu();
    menu->clear();
    for (const QString& k : metricsKeys) {
        QAction* a = menu->addAction(k);
        a->setCheckable(true);
        a->setChecked(chosen.contains(k));
        connect(a, &QAction::toggled, this, [this, k](bool on) {
            QStringList keys = m_results;
            if (on && !keys.contains(k)) keys << k;
            if (!on) keys.removeAll(k);
            setResults(keys);
        });
    }
    m_results = chosen;
    rebuild();
}

void SweepView::setResults(const QStringList& keys) {
    m_results = keys;
    for (QAction* a : m_resultsButton->menu()->actions()) {
        const QSignalBlocker block(a);
        a->setChecked(keys.contains(a->text()));
    }
    rebuild();
}

void SweepView::rebuild() {
    m_axes = sweepAxes(m_runs, m_resolved, m_results);
    m_ids.clear();
    m_colors.clear();
    for (const RunData& r : m_runs) {
        m_ids << r.row.id;
        m_colors << runColor(r.row.id);
    }
    const QString key = m_scatterKey->currentText(), result = m_scatterResult->currentText();
    {
        const QSignalBlocker b1(m_scatterKey), b2(m_scatterResult);
        m_scatterKey->clear();
        m_scatterResult->clear();
        for (const SweepAxis& a : m_axes) (a.result ? m_scatterResult : m_scatterKey)->addItem(a.name);
        if (m_scatterKey->findText(key) >= 0) m_scatterKey->setCurrentText(key);
        if (m_scatterResult->findText(result) >= 0) m_scatterResult->setCurrentText(result);
        // a key with a log axis starts on a log x
        for (const SweepAxis& a : m_axes)
            if (a.name == m_scatterKey->currentText()) m_scatterLog->setChecked(a.log);
    }
    m_coords->setData(m_ids, m_colors, m_axes);
    fillScatter();
}

void SweepView::fillScatter() {
    SweepAxis x, y;
    for (const SweepAxis& a : m_axes) {
        if (!a.result && a.name == m_scatterKey->currentText()) x = a;
        if (a.result && a.name == m_scatterResult->currentText()) y = a;
    }
    x.log = m_scatterLog->isChecked() && x.numeric && x.lo > 0;
    const bool drawn = !x.values.empty() && !y.values.empty();
    m_scatter->setData(drawn ? m_ids : QVector<qint64>(), m_colors, x, y);
    m_scatter->setSelected(m_coords->selectedIds());
}

void SweepView::setScatter(const QString& key, const QString& result) {
    m_scatterKey->setCurrentText(key);
    m_scatterResult->setCurrentText(result);
    fillScatter();
}

QString SweepView::caption() const { return m_caption->text(); }

}  // namespace frugal::ui
