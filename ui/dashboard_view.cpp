#include "dashboard_view.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QVBoxLayout>
#include <algorithm>

#include "common/group_stats.h"
#include "metric_chart.h"

namespace frugal::ui {

DashboardView::DashboardView(QWidget* parent) : QWidget(parent) {
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("panels whose metric contains… (e.g. dev/ or loss)"));
    m_filter->setClearButtonEnabled(true);
    m_caption = new QLabel(this);
    m_numbers = new QLabel(this);
    m_numbers->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_numbers->setWordWrap(true);
    m_grid = new QWidget;
    m_gridLayout = new QGridLayout(m_grid);
    m_gridLayout->setContentsMargins(0, 0, 0, 0);
    m_gridLayout->setSpacing(6);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setWidget(m_grid);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Panels"), this));
    top->addWidget(m_filter, 1);
    top->addWidget(m_caption);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_numbers);
    layout->addWidget(scroll, 1);
    connect(m_filter, &QLineEdit::textChanged, this, &DashboardView::rebuild);
}

void DashboardView::setRuns(const QVector<RunData>& runs, const QVector<RunGroup>& groups, const GroupSpec& spec,
                            bool relative) {
    m_runs = runs;
    m_groups = groups;
    m_spec = spec;
    m_relative = relative;
    rebuild();
}

void DashboardView::setFilter(const QString& text) { m_filter->setText(text); }

QString DashboardView::filter() const { return m_filter->text(); }

QString DashboardView::numbersText() const { return m_numbers->isHidden() ? QString() : m_numbers->text(); }

QStringList DashboardView::panelKeys() const {
    QStringList keys;
    for (const MetricChart* c : m_panels) keys << c->title();
    return keys;
}

void DashboardView::setOptions(const ChartOptions& options) {
    for (MetricChart* c : m_panels) c->setOptions(options);
}

void DashboardView::rebuild() {
    ChartOptions options;
    if (!m_panels.isEmpty()) options = m_panels.front()->options();
    for (MetricChart* c : m_panels) delete c;
    m_panels.clear();
    QStringList keys;
    for (const RunData& r : m_runs)
        for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it)
            if (!keys.contains(it.key()) && it.key().contains(m_filter->text().trimmed(), Qt::CaseInsensitive))
                keys << it.key();
    keys.sort();
    // a metric every run holds one number of is a row of numbers (each group's mean ± std)
    QStringList rows;
    for (auto it = keys.begin(); it != keys.end();) {
        bool single = true;
        for (const RunData& r : m_runs) single = single && r.metrics.value(*it).size() <= 1;
        if (!single) {
            ++it;
            continue;
        }
        QStringList cells;
        for (const RunGroup& g : m_groups) {
            std::vector<double> values;
            for (int i : g.members) values.push_back(finalValue(m_runs[i], *it));
            const stats::Summary s = stats::summarize(values, stats::Center::Mean, stats::Spread::Std);
            cells << (g.members.size() > 1 ? QStringLiteral("%1 <b>%2 ± %3</b>").arg(g.label.toHtmlEscaped()).arg(s.mean, 0, 'g', 4).arg(s.std, 0, 'g', 2)
                                           : QStringLiteral("%1 <b>%2</b>").arg(g.label.toHtmlEscaped()).arg(s.mean, 0, 'g', 4));
        }
        rows << QStringLiteral("<tr><td style='color:#616161; padding-right:10px'>%1</td><td>%2</td></tr>")
                    .arg(it->toHtmlEscaped(), cells.join(QStringLiteral(" · ")));
        it = keys.erase(it);
    }
    m_numbers->setText(QStringLiteral("<table>%1</table>").arg(rows.join(QString())));
    m_numbers->setVisible(!rows.isEmpty());
    // three panels a row (two when there are few), each at least 240 px tall
    const int columns = keys.size() <= 4 ? 2 : 3;
    for (int i = 0; i < keys.size(); ++i) {
        auto* chart = new MetricChart(keys[i], keys[i].section(QLatin1Char('/'), -1), m_grid);
        chart->setMinimumSize(260, 240);
        chart->setStepAxisLabel(m_relative ? tr("relative step") : tr("step"));
        drawGroups(*chart, m_runs, m_groups, keys[i], m_spec, m_relative);
        chart->setOptions(options);
        m_gridLayout->addWidget(chart, i / columns, i % columns);
        m_panels << chart;
    }
    m_caption->setText(tr("%n panel(s), x axes linked", nullptr, static_cast<int>(keys.size())));
    linkPanels();
}

void DashboardView::linkPanels() {
    for (MetricChart* from : m_panels) {
        connect(from, &MetricChart::viewChanged, this, [this, from](double x0, double x1, bool zoomed) {
            if (m_linking) return;
            m_linking = true;  // the others follow without answering back
            for (MetricChart* to : m_panels)
                if (to != from) to->setXView(x0, x1, zoomed);
            m_linking = false;
        });
        connect(from, &MetricChart::hoverMoved, this, [this, from](double x) {
            for (MetricChart* to : m_panels)
                if (to != from) to->showCrosshairAt(x);
        });
    }
}

}  // namespace frugal::ui
