#include "compare_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSignalBlocker>
#include <QSplitter>
#include <QFileDialog>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <optional>

#include "common/metric_keys.h"
#include "run/method_registry.h"
#include "chart_controls.h"
#include "dashboard_view.h"
#include "group_controls.h"
#include "landscape_view.h"
#include "sweep_view.h"
#include "metric_chart.h"
#include "palette.h"
#include "series_math.h"
#include "vector_plot.h"

namespace frugal::ui {

static int keyWeight(const QString& key) {
    // the method and its own table first, then what is trained, then the data and the model,
    // then the rest; seeds last (runs that differ only by seed are replicates)
    static const QStringList methodTables = [] {
        QStringList tables = {QStringLiteral("train")};  // pre-training's table
        for (const std::string& m : run::methodNames()) tables << QString::fromStdString(m);
        return tables;
    }();
    static const QStringList first = {QStringLiteral("method"), QStringLiteral("optimizer"), QStringLiteral("lr"),
                                      QStringLiteral("eps"), QStringLiteral("target"), QStringLiteral("sparsity"),
                                      QStringLiteral("query_schedule"), QStringLiteral("queries"),
                                      QStringLiteral("steps"), QStringLiteral("batch_size")};
    const QString table = key.contains(QLatin1Char('.')) ? key.section(QLatin1Char('.'), 0, -2) : QString();
    const QString name = key.section(QLatin1Char('.'), -1);
    int group = 4;
    if (key == QStringLiteral("method") || name == QStringLiteral("method")) group = 0;
    else if (name == QStringLiteral("seed")) group = 5;
    else if (methodTables.contains(table) && name != QStringLiteral("model") && name != QStringLiteral("task")) group = 1;
    else if (table == QStringLiteral("peft")) group = 2;
    else if (name == QStringLiteral("model") || name == QStringLiteral("task") || name == QStringLiteral("dtype")) group = 3;
    const int rank = static_cast<int>(first.indexOf(name));
    return group * 100 + (rank < 0 ? 99 : rank);
}

namespace {
bool sameValue(const QString& a, const QString& b) {
    if (a == b) return true;
    bool okA = false, okB = false;
    const double x = a.toDouble(&okA), y = b.toDouble(&okB);
    return okA && okB && x == y;
}
}  // namespace

QMap<QString, QString> resolvedParams(const QString& method, const QMap<QString, QString>& params) {
    QMap<QString, QString> out = params;
    if (method.isEmpty()) return out;
    try {
        for (const auto& f : run::configSchema(method.toStdString())) {
            const QString key = QString::fromStdString(f.key);
            if (!out.contains(key) && !f.defaultValue.empty()) {
                QString value = QString::fromStdString(f.defaultValue);
                if (value.size() >= 2 && value.startsWith(QLatin1Char('"')) && value.endsWith(QLatin1Char('"')))
                    value = value.mid(1, value.size() - 2);  // stored params hold strings bare
                out.insert(key, value);
            }
        }
    } catch (const std::exception&) {  // a method this build does not know: its params as stored
    }
    return out;
}

QVector<DiffRow> configDiff(const QVector<QMap<QString, QString>>& params) {
    QSet<QString> keys;
    for (const auto& p : params)
        for (auto it = p.begin(); it != p.end(); ++it) keys.insert(it.key());
    QStringList sorted(keys.begin(), keys.end());
    std::sort(sorted.begin(), sorted.end(), [](const QString& a, const QString& b) {
        const int wa = keyWeight(a), wb = keyWeight(b);
        return wa != wb ? wa < wb : a < b;
    });
    QVector<DiffRow> out;
    for (const QString& key : sorted) {
        DiffRow row{key, {}};
        bool differs = false;
        for (const auto& p : params) {
            row.values << (p.contains(key) ? p.value(key) : QString());
            differs = differs || !p.contains(key) || !sameValue(row.values.back(), row.values.front()) ||
                      !params.front().contains(key);
        }
        if (differs) out.push_back(row);
    }
    return out;
}

namespace {

// " · cancelled" after a run that did not finish (cancelled, failed, interrupted), "" otherwise.
QString statusMark(const RunRow& row) {
    if (row.status == QStringLiteral("cancelled") || row.status == QStringLiteral("failed") ||
        row.status == QStringLiteral("interrupted"))
        return QStringLiteral(" · ") + row.status;
    return {};
}

// Lower is better for losses and perplexities; higher for the rest.
bool lowerIsBetter(const QString& key) {
    return key.contains(QStringLiteral("loss")) || key.contains(QStringLiteral("perplexity")) ||
           key.contains(QStringLiteral("error")) || key.startsWith(QStringLiteral("sys/"));
}

QString number(double v) {
    if (std::isnan(v)) return QStringLiteral("NaN");
    if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return QString::number(v, 'g', 5);
}

}  // namespace

CompareView::CompareView(StoreService* service, QWidget* parent)
    : QWidget(parent), m_service(service) {
    m_metric = new QComboBox(this);
    m_metric->setMinimumWidth(200);
    m_align = new QComboBox(this);
    m_align->addItem(tr("step"));
    m_align->addItem(tr("relative step"));
    m_align->setToolTip(
        tr("Relative step: steps since each run's first point (runs resumed or started from "
           "different checkpoints line up)"));
    m_target = new QLineEdit(this);
    m_target->setPlaceholderText(tr("e.g. 0.55"));
    m_target->setMaximumWidth(110);
    m_caption = new QLabel(tr("Select two or more runs in Runs and press Compare"), this);
    m_controls = new ChartControls(this);
    m_groups = new GroupControls(this);
    m_chart = new MetricChart(tr("Compare"), tr("value"), this);
    m_diff = new QTableWidget(this);
    m_metrics = new QTableWidget(this);
    for (QTableWidget* t : {m_diff, m_metrics}) {
        t->setEditTriggers(QAbstractItemView::NoEditTriggers);
        t->verticalHeader()->hide();
        t->horizontalHeader()->setStretchLastSection(true);
        t->setAlternatingRowColors(true);
    }
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Metric"), this));
    top->addWidget(m_metric);
    top->addWidget(new QLabel(tr("align by"), this));
    top->addWidget(m_align);
    top->addWidget(new QLabel(tr("target"), this));
    top->addWidget(m_target);
    top->addWidget(m_caption, 1);
    auto* tables = new QSplitter(Qt::Horizontal, this);
    m_tables = tables;
    auto* diffBox = new QWidget(tables);
    auto* diffLayout = new QVBoxLayout(diffBox);
    diffLayout->setContentsMargins(0, 0, 0, 0);
    diffLayout->addWidget(new QLabel(tr("<b>Config: the keys that differ</b>"), diffBox));
    diffLayout->addWidget(m_diff);
    auto* metricsBox = new QWidget(tables);
    auto* metricsLayout = new QVBoxLayout(metricsBox);
    metricsLayout->setContentsMargins(0, 0, 0, 0);
    metricsLayout->addWidget(new QLabel(tr("<b>Metrics</b>"), metricsBox));
    metricsLayout->addWidget(m_metrics);
    metricsLayout->addWidget(buildTestRow());
    tables->addWidget(diffBox);
    tables->addWidget(metricsBox);
    // vector series side by side
    m_vectorKey = new QComboBox(this);
    m_vectorKey->setMinimumWidth(200);
    m_vectorStep = new QComboBox(this);
    m_vectorStep->setToolTip(tr("The step shown (a slice shows every step, this one bold)"));
    m_vectorCaption = new QLabel(this);
    auto* exportVectorsButton = new QPushButton(tr("Export…"), this);
    exportVectorsButton->setToolTip(tr("The plots side by side as PNG, SVG or PDF"));
    auto* vectorPage = new QWidget(this);
    auto* vectorTop = new QHBoxLayout;
    vectorTop->addWidget(new QLabel(tr("Vector series"), vectorPage));
    vectorTop->addWidget(m_vectorKey);
    vectorTop->addWidget(new QLabel(tr("step"), vectorPage));
    vectorTop->addWidget(m_vectorStep);
    vectorTop->addWidget(m_vectorCaption, 1);
    vectorTop->addWidget(exportVectorsButton);
    m_vectorRow = new QWidget(vectorPage);
    m_vectorLayout = new QHBoxLayout(m_vectorRow);
    m_vectorLayout->setContentsMargins(0, 0, 0, 0);
    auto* vectorLayout = new QVBoxLayout(vectorPage);
    vectorLayout->setContentsMargins(0, 0, 0, 0);
    vectorLayout->addLayout(vectorTop);
    vectorLayout->addWidget(m_vectorRow, 1);
    m_dashboard = new DashboardView(this);
    m_sweep = new SweepView(this);
    m_landscape = new LandscapeView(this);
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(m_chart, tr("Metric overlay"));
    m_tabs->addTab(m_dashboard, tr("Dashboard"));
    m_tabs->addTab(m_sweep, tr("Sweep"));
    m_tabs->addTab(vectorPage, tr("Vector series side by side"));
    m_tabs->addTab(m_landscape, tr("Landscape 3-D"));
    connect(m_sweep, &SweepView::compareRequested, this, [this](const QVector<qint64>& ids) {
        if (ids.size() < 2) return;
        m_tabs->setCurrentWidget(m_chart);
        compare(ids);
    });
    // the tab shown is remembered across restarts
    m_tabs->setCurrentIndex(QSettings().value(QStringLiteral("compare/tab"), 0).toInt());
    connect(m_tabs, &QTabWidget::currentChanged, this,
            [](int index) { QSettings().setValue(QStringLiteral("compare/tab"), index); });
    m_split = new QSplitter(Qt::Vertical, this);
    m_split->addWidget(m_tabs);
    m_split->addWidget(tables);
    m_split->setStretchFactor(0, 3);
    m_split->setStretchFactor(1, 2);
    m_split->setChildrenCollapsible(false);
    m_chart->setMinimumHeight(220);  // a chart, never a 100-pixel strip
    // the chart takes two thirds at first; the user's split is remembered across restarts
    m_split->setSizes({600, 300});
    if (const QByteArray state = QSettings().value(QStringLiteral("compare/split")).toByteArray(); !state.isEmpty())
        m_split->restoreState(state);
    connect(m_split, &QSplitter::splitterMoved, this,
            [this] { QSettings().setValue(QStringLiteral("compare/split"), m_split->saveState()); });
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_controls);
    layout->addWidget(m_groups);
    layout->addWidget(m_split, 1);

    connect(m_service, &StoreService::runsLoaded, this, &CompareView::loaded);
    // a target is a value of one metric: another metric starts without it
    connect(m_metric, &QComboBox::currentTextChanged, this, [this] {
        if (!m_target->text().isEmpty()) {
            const QSignalBlocker block(m_target);
            m_target->clear();
        }
    });
    connect(m_metric, &QComboBox::currentTextChanged, this, &CompareView::redraw);
    connect(m_align, &QComboBox::currentIndexChanged, this, &CompareView::redraw);
    connect(m_target, &QLineEdit::textChanged, this, &CompareView::fillMetrics);
    connect(m_groups, &GroupControls::changed, this, &CompareView::redraw);
    connect(m_controls, &ChartControls::optionsChanged, m_chart, &MetricChart::setOptions);
    connect(m_controls, &ChartControls::optionsChanged, m_dashboard, &DashboardView::setOptions);
    connect(m_controls, &ChartControls::optionsChanged, this, &CompareView::fillMetrics);  // smoothing
    connect(m_controls, &ChartControls::fitRequested, m_chart, &MetricChart::resetZoom);
    connect(m_controls->exportButton(), &QPushButton::clicked, this,
            [this] { emit exportRequested(m_chart); });
    m_chart->setOptions(m_controls->options());
    connect(m_vectorKey, &QComboBox::currentTextChanged, this, [this] {
        // the steps of the key's first run, "last" first
        const QSignalBlocker block(m_vectorStep);
        m_vectorStep->clear();
        m_vectorStep->addItem(tr("last"), -1);
        for (const RunData& r : m_runs) {
            const auto frames = r.vectors.value(m_vectorKey->currentText());
            if (frames.isEmpty()) continue;
            for (const VectorFrame& f : frames) m_vectorStep->addItem(QString::number(f.step), f.step);
            break;
        }
        redrawVectors();
    });
    connect(m_vectorStep, &QComboBox::currentIndexChanged, this, &CompareView::redrawVectors);
    connect(exportVectorsButton, &QPushButton::clicked, this, [this] {
        const QString name = m_vectorKey->currentText().replace(QLatin1Char('/'), QLatin1Char('-'));
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the vector plots"),
                                                          QDir::home().filePath(name + QStringLiteral(".pdf")),
                                                          tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
        if (path.isEmpty()) return;
        const QString error = exportVectors(path);
        m_vectorCaption->setText(error.isEmpty() ? tr("wrote %1 (%2 bytes)").arg(path).arg(QFileInfo(path).size())
                                                 : error);
    });
}

void CompareView::setVector(const QString& key, qint64 step) {
    m_vectorKey->setCurrentText(key);
    const int index = m_vectorStep->findData(step);
    m_vectorStep->setCurrentIndex(index < 0 ? 0 : index);
    redrawVectors();
}

void CompareView::redrawVectors() {
    for (VectorPlot* p : m_plots) delete p;
    m_plots.clear();
    const QString key = m_vectorKey->currentText();
    const qint64 step = m_vectorStep->currentData().isValid() ? m_vectorStep->currentData().toLongLong() : -1;
    double lo = INFINITY, hi = -INFINITY;
    const auto extend = [&](const VectorFrame& f) {
        for (float v : f.data)
            if (std::isfinite(v)) lo = std::min(lo, static_cast<double>(v)), hi = std::max(hi, static_cast<double>(v));
    };
    QStringList missing;
    for (const RunData& r : m_runs) {
        const auto frames = r.vectors.value(key);
        if (frames.isEmpty()) {
            missing << QString::number(r.row.id);
            continue;
        }
        int index = static_cast<int>(frames.size()) - 1;
        if (step >= 0)
            for (int i = 0; i < frames.size(); ++i)
                if (frames[i].step == step) index = i;
        auto* plot = new VectorPlot(m_vectorRow);
        const QString title = QStringLiteral("run %1 · %2").arg(r.row.id).arg(r.row.name);
        if (isSliceKey(key) && frames[index].shape.size() <= 1) {
            const auto axis = r.vectors.value(QString::fromLatin1(metrics::kLandscapeAxis));
            plot->setLines(title, frames, index, axis.isEmpty() ? QVector<float>() : axis.last().data);
            for (const VectorFrame& f : frames) extend(f);
        } else {
            const VectorFrame& f = frames[index];
            if (f.shape.size() == 2) {
                const auto axis = r.vectors.value(QString::fromLatin1(metrics::kLandscapeAxis));
                plot->setHeatmapAxes(heatmapAxesFor(key, axis.isEmpty() ? QVector<float>() : axis.last().data,
                                                    matrixNamesFromLogs(r.logs), f.shape[0], f.shape[1]));
            }
            plot->setFrame(title, frames[index]);
            extend(frames[index]);
        }
        m_vectorLayout->addWidget(plot, 1);
        m_plots << plot;
    }
    if (m_plots.size() > 1)
        for (VectorPlot* p : m_plots) p->setFixedRange(lo, hi);  // one scale: the runs compare
    m_vectorCaption->setText(
        key.isEmpty() ? tr("no run has a vector series")
        : m_plots.size() > 1 ? tr("%1 plots on one scale [%2, %3]%4")
                                   .arg(m_plots.size())
                                   .arg(lo, 0, 'g', 4)
                                   .arg(hi, 0, 'g', 4)
                                   .arg(missing.isEmpty() ? QString() : tr("; run(s) %1 lack %2").arg(missing.join(QStringLiteral(", ")), key))
                             : tr("%n plot(s)", nullptr, static_cast<int>(m_plots.size())));
}

QString CompareView::exportVectors(const QString& path) {
    if (m_plots.isEmpty()) return tr("no vector plot to export");
    QWidget figure;
    auto* layout = new QHBoxLayout(&figure);
    layout->setContentsMargins(4, 4, 4, 4);
    for (VectorPlot* p : m_plots) {
        auto* copy = new VectorPlot(&figure);
        copy->copyFrom(*p);
        layout->addWidget(copy);
    }
    figure.resize(560 * static_cast<int>(m_plots.size()), 380);
    figure.setAttribute(Qt::WA_DontShowOnScreen);
    figure.show();
    return exportFigure(figure, path, 120.0 * static_cast<double>(m_plots.size()), 80.0, 200);
}

void CompareView::compare(const QVector<qint64>& runIds) {
    m_ids = runIds;
    m_request = StoreService::newRequestId();
    const quint64 request = m_request;
    m_caption->setText(tr("loading %n run(s)…", nullptr, static_cast<int>(runIds.size())));
    QMetaObject::invokeMethod(
        m_service, [service = m_service, request, runIds] { service->loadRuns(request, runIds); },
        Qt::QueuedConnection);
}

void CompareView::loaded(quint64 request, const QVector<RunData>& runs) {
    if (request != m_request) return;
    m_runs = runs;
    ++m_loadCount;
    QStringList keys;
    for (const RunData& r : runs)
        for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it)
            if (!keys.contains(it.key())) keys << it.key();
    keys.sort();
    const QString current = m_metric->currentText();
    {
        const QSignalBlocker block(m_metric);
        m_metric->clear();
        m_metric->addItems(keys);
        // a restart: the metric the user left; else the one shown; else the training loss
        const QString wanted = keys.contains(m_pendingMetric) ? m_pendingMetric
                               : keys.contains(current)        ? current
                               : keys.contains(QString::fromLatin1(metrics::kTrainLoss))
                                   ? QString::fromLatin1(metrics::kTrainLoss)
                                   : keys.value(0);
        m_metric->setCurrentText(wanted);
        m_pendingMetric.clear();
    }
    {
        QStringList vectorKeys;
        for (const RunData& r : runs)
            for (auto it = r.vectors.begin(); it != r.vectors.end(); ++it)
                if (!vectorKeys.contains(it.key()) && it.key() != QLatin1String(metrics::kLandscapeAxis)) vectorKeys << it.key();
        vectorKeys.sort();
        const QString was = m_vectorKey->currentText();
        {
            const QSignalBlocker block(m_vectorKey);
            m_vectorKey->clear();
            m_vectorKey->addItems(vectorKeys);
            QString wanted = vectorKeys.contains(was) ? was : vectorKeys.value(0);
            for (const char* k : {metrics::kSlice2d, metrics::kSlice1d})
                if (!vectorKeys.contains(was) && vectorKeys.contains(QLatin1String(k))) wanted = QLatin1String(k);
            m_vectorKey->setCurrentText(wanted);
        }
        emit m_vectorKey->currentTextChanged(m_vectorKey->currentText());
    }
    QVector<QMap<QString, QString>> params;
    for (const RunData& r : runs) params << resolvedParams(r.row.method, r.row.params);
    m_resolved = params;
    const QVector<DiffRow> diff = configDiff(params);
    {
        QStringList diffKeyList;
        for (const DiffRow& d : diff) diffKeyList << d.key;
        m_groups->setKeys(diffKeyList);
        QVector<RunRow> rows;
        for (const RunData& r : runs) rows << r.row;
        m_groups->applyDefault(groupsByDefault(rows, params));
    }
    m_diff->clear();
    m_diff->setColumnCount(static_cast<int>(runs.size()) + 1);
    m_diff->setRowCount(static_cast<int>(diff.size()));
    QStringList headers{tr("key")};
    for (const RunData& r : runs) headers << QStringLiteral("%1 %2").arg(r.row.id).arg(r.row.name);
    m_diff->setHorizontalHeaderLabels(headers);
    for (int c = 0; c < runs.size(); ++c)
        m_diff->horizontalHeaderItem(c + 1)->setForeground(runColor(runs[c].row.id));
    for (int i = 0; i < diff.size(); ++i) {
        m_diff->setItem(i, 0, new QTableWidgetItem(diff[i].key));
        for (int c = 0; c < diff[i].values.size(); ++c) {
            const QString& value = diff[i].values[c];
            const bool byDefault = !value.isEmpty() && !runs[c].row.params.contains(diff[i].key);
            m_diff->setItem(i, c + 1,
                            new QTableWidgetItem(value.isEmpty() ? tr("(unset)")
                                                 : byDefault ? tr("%1 (default)").arg(value)
                                                             : value));
        }
    }
    m_diff->resizeColumnsToContents();
    m_sweep->setRuns(runs, params);
    m_landscape->setRuns(runs);
    m_caption->setText(
        tr("%n run(s); %1 differing config key(s)", nullptr, static_cast<int>(runs.size()))
            .arg(diff.size()));
    redraw();
    emit loadedRuns(static_cast<int>(runs.size()));
}

QStringList CompareView::diffKeys() const {
    QStringList keys;
    for (int i = 0; i < m_diff->rowCount(); ++i) keys << m_diff->item(i, 0)->text();
    return keys;
}

void CompareView::setMetric(const QString& key) { m_metric->setCurrentText(key); }

void CompareView::setRelativeSteps(bool relative) { m_align->setCurrentIndex(relative ? 1 : 0); }

CompareView::~CompareView() { QSettings().setValue(QStringLiteral("compare/split"), m_split->saveState()); }

void CompareView::saveLayout(const QString& dbPath) const {
    QSettings s;
    s.setValue(QStringLiteral("compare/database"), dbPath);
    QVariantList ids;
    for (qint64 id : m_ids) ids << id;
    s.setValue(QStringLiteral("compare/runs"), ids);
    s.setValue(QStringLiteral("compare/metric"), m_metric->currentText());
    s.setValue(QStringLiteral("compare/tables"), m_tables->saveState());
    s.setValue(QStringLiteral("compare/results"), m_sweep->results());
    s.setValue(QStringLiteral("compare/panels"), m_dashboard->filter());
}

void CompareView::restoreLayout(const QString& dbPath) {
    const QSettings s;
    if (const QByteArray state = s.value(QStringLiteral("compare/tables")).toByteArray(); !state.isEmpty())
        m_tables->restoreState(state);
    m_dashboard->setFilter(s.value(QStringLiteral("compare/panels")).toString());
    m_sweep->setResults(s.value(QStringLiteral("compare/results")).toStringList());
    if (s.value(QStringLiteral("compare/database")).toString() != dbPath) return;
    QVector<qint64> ids;
    for (const QVariant& v : s.value(QStringLiteral("compare/runs")).toList()) ids << v.toLongLong();
    if (ids.size() < 2) return;
    m_pendingMetric = s.value(QStringLiteral("compare/metric")).toString();
    compare(ids);
}

void CompareView::setTarget(const QString& target) { m_target->setText(target); }
QString CompareView::target() const { return m_target->text(); }

QWidget* CompareView::buildTestRow() {
    auto* row = new QWidget(this);
    m_testA = new QComboBox(row);
    m_testB = new QComboBox(row);
    m_test = new QLabel(row);
    m_test->setWordWrap(true);
    m_test->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_test->setToolTip(tr("The chosen metric's final value of each run: a paired t-test where both groups "
                          "hold the same seeds (pairs by seed), Welch's t-test otherwise; p is two-sided; "
                          "the effect is Cohen's d (d_z when paired)"));
    auto* layout = new QVBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* pick = new QHBoxLayout;
    pick->addWidget(new QLabel(tr("<b>Two-group test</b>"), row));
    pick->addWidget(m_testA, 1);
    pick->addWidget(new QLabel(tr("vs"), row));
    pick->addWidget(m_testB, 1);
    layout->addLayout(pick);
    layout->addWidget(m_test);
    for (QComboBox* box : {m_testA, m_testB}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(12);
        connect(box, &QComboBox::currentIndexChanged, this, &CompareView::fillTest);
    }
    return row;
}

void CompareView::setTestGroups(int a, int b) {
    m_testA->setCurrentIndex(a);
    m_testB->setCurrentIndex(b);
    fillTest();
}

QString CompareView::testText() const { return m_test->text(); }

void CompareView::fillTest() {
    const int a = m_testA->currentIndex(), b = m_testB->currentIndex();
    if (m_groupList.size() < 2 || a < 0 || b < 0 || a >= m_groupList.size() || b >= m_groupList.size()) {
        m_test->setText(tr("Group the runs (two groups of two runs or more) to test them"));
        return;
    }
    if (a == b) {
        m_test->setText(tr("Choose two different groups"));
        return;
    }
    m_test->setText(compareTwoGroups(m_runs, m_resolved, m_groupList[a], m_groupList[b], m_metric->currentText()).text);
}

void CompareView::redraw() {
    const QString key = m_metric->currentText();
    const bool relative = m_align->currentIndex() == 1;
    m_chart->clearLines();
    m_chart->setStepAxisLabel(relative ? tr("relative step") : tr("step"));
    m_chart->setTitle(key);
    m_chart->setYLabel(key.section(QLatin1Char('/'), -1));
    const GroupSpec spec = m_groups->spec();
    QVector<RunRow> rows;
    for (const RunData& r : m_runs) rows << r.row;
    m_groupList = groupRuns(rows, m_resolved, spec);
    if (spec.by == GroupBy::None)  // one run a line: say which did not finish
        for (RunGroup& g : m_groupList) g.label += statusMark(m_runs[g.members.front()].row);
    drawGroups(*m_chart, m_runs, m_groupList, key, spec, relative);
    m_chart->redrawNow();
    if (m_dashboardSpec != std::make_tuple(static_cast<int>(spec.by), spec.key, static_cast<int>(spec.center),
                                           static_cast<int>(spec.spread), spec.showRuns, relative, m_loadCount)) {
        // the panels again only when what they draw changed (not for another metric of the overlay)
        m_dashboardSpec = std::make_tuple(static_cast<int>(spec.by), spec.key, static_cast<int>(spec.center),
                                          static_cast<int>(spec.spread), spec.showRuns, relative, m_loadCount);
        m_dashboard->setRuns(m_runs, m_groupList, spec, relative);
        m_dashboard->setOptions(m_controls->options());
    }
    {
        const QSignalBlocker blockA(m_testA), blockB(m_testB);
        const int a = m_testA->currentIndex(), b = m_testB->currentIndex();
        m_testA->clear();
        m_testB->clear();
        for (const RunGroup& g : m_groupList) {
            const QString text = QStringLiteral("%1 (N=%2)").arg(g.label).arg(g.members.size());
            m_testA->addItem(text);
            m_testB->addItem(text);
        }
        m_testA->setCurrentIndex(a >= 0 && a < m_testA->count() ? a : 0);
        m_testB->setCurrentIndex(b >= 0 && b < m_testB->count() && b != m_testA->currentIndex() ? b
                                                                                                : std::min(1, m_testB->count() - 1));
    }
    fillMetrics();
    fillTest();
}

// Where a run reached its target, in the chart's x: the step, the run's forward passes at that
// step (zo/forward_passes, the last count at or before it), or its wall seconds.
QString CompareView::toTargetText(const RunData& r, XAxisKind x, double step, double wallSeconds) const {
    if (x == XAxisKind::WallTime) return QString::number(wallSeconds, 'f', 1);
    if (x != XAxisKind::ForwardPasses) return QString::number(step);
    const auto passes = r.metrics.find(QString::fromLatin1(metrics::kForwardPasses));
    if (passes == r.metrics.end()) return tr("step %1 (no pass count)").arg(step);
    std::optional<double> count;
    for (const SeriesPoint& p : *passes)
        if (p.step <= step) count = p.value;
    return count ? QString::number(*count, 'f', 0) : tr("step %1 (no pass count)").arg(step);
}

void CompareView::fillMetrics() {
    const QString key = m_metric->currentText();
    const bool lower = lowerIsBetter(key);
    bool haveTarget = false;
    const double target = m_target->text().toDouble(&haveTarget);
    const double weight = m_controls->options().smoothing;
    m_chart->setReferenceLine(haveTarget ? target : NAN, tr("target %1").arg(m_target->text().trimmed()));
    m_metrics->clear();
    m_metrics->setColumnCount(6);
    // "to target" in the chart's x: steps, forward passes or seconds
    const XAxisKind x = m_controls->options().xAxis;
    m_metrics->setHorizontalHeaderLabels({tr("run"), tr("final"),
                                          lower ? tr("best (min)") : tr("best (max)"),
                                          tr("at step"),
                                          x == XAxisKind::ForwardPasses ? tr("passes to target")
                                          : x == XAxisKind::WallTime    ? tr("seconds to target")
                                                                        : tr("steps to target"),
                                          tr("points")});
    m_metrics->horizontalHeaderItem(4)->setToolTip(
        tr("The first step where the drawn curve reaches the target: the smoothed curve (EMA weight %1) "
           "for a dense series, the raw points for a sparse one, so one lucky point does not count")
            .arg(weight));
    m_metrics->setRowCount(static_cast<int>(m_runs.size()));
    for (int i = 0; i < m_runs.size(); ++i) {
        const RunData& r = m_runs[i];
        auto* name = new QTableWidgetItem(QStringLiteral("%1 %2%3").arg(r.row.id).arg(r.row.name, statusMark(r.row)));
        name->setForeground(runColor(r.row.id));
        if (!statusMark(r.row).isEmpty())
            name->setToolTip(tr("this run %1%2").arg(r.row.status,
                                                      r.row.error.isEmpty() ? QString() : QStringLiteral(": ") + r.row.error));
        m_metrics->setItem(i, 0, name);
        const auto it = r.metrics.find(key);
        if (it == r.metrics.end() || it->isEmpty()) {
            m_metrics->setItem(i, 1, new QTableWidgetItem(tr("(no %1)").arg(key)));
            continue;
        }
        std::optional<SeriesPoint> best;
        std::vector<double> steps, values, walls;
        for (const SeriesPoint& p : *it) {
            if (!std::isfinite(p.value)) continue;
            if (!best || (lower ? p.value < best->value : p.value > best->value)) best = p;
            steps.push_back(p.step);
            values.push_back(p.value);
            walls.push_back(p.wallSeconds);
        }
        // as the chart draws it: dense series smoothed, sparse ones raw
        const bool smoothed = weight > 0 && values.size() > MetricChart::kDenseLine;
        if (smoothed) values = smoothEma(values, weight);
        std::optional<size_t> reachedAt;
        for (size_t j = 0; haveTarget && !reachedAt && j < values.size(); ++j)
            if (lower ? values[j] <= target : values[j] >= target) reachedAt = j;
        QString reached;
        if (reachedAt) reached = toTargetText(r, x, steps[*reachedAt], walls[*reachedAt]);
        m_metrics->setItem(i, 1, new QTableWidgetItem(number(it->back().value)));
        m_metrics->setItem(
            i, 2, new QTableWidgetItem(best ? number(best->value) : tr("(no finite value)")));
        m_metrics->setItem(i, 3,
                           new QTableWidgetItem(best ? QString::number(best->step) : QString()));
        const bool ended = r.row.status == QStringLiteral("cancelled") || r.row.status == QStringLiteral("failed") ||
                           r.row.status == QStringLiteral("interrupted");
        m_metrics->setItem(
            i, 4,
            new QTableWidgetItem(!haveTarget ? tr("(set a target)")
                                 : reachedAt ? reached + (smoothed ? tr(" (smoothed)") : QString())
                                 : ended     ? tr("not reached (%1 at step %2)").arg(r.row.status).arg(it->back().step)
                                             : tr("not reached")));
        m_metrics->setItem(i, 5, new QTableWidgetItem(QString::number(it->size())));
    }
    // a group of two runs or more: one row more, the mean ± std of its runs' final values
    for (const RunGroup& g : m_groupList) {
        if (g.members.size() < 2) continue;
        std::vector<double> finals;
        for (int member : g.members) finals.push_back(finalValue(m_runs[member], key));
        const stats::Summary s = stats::summarize(finals, stats::Center::Mean, stats::Spread::Std);
        const int row = m_metrics->rowCount();
        m_metrics->insertRow(row);
        auto* name = new QTableWidgetItem(tr("group: %1 (N=%2)").arg(g.label).arg(g.members.size()));
        name->setForeground(g.color);
        QFont bold = name->font();
        bold.setBold(true);
        name->setFont(bold);
        m_metrics->setItem(row, 0, name);
        m_metrics->setItem(row, 1, new QTableWidgetItem(QStringLiteral("%1 ± %2").arg(number(s.mean), number(s.std))));
        m_metrics->item(row, 1)->setToolTip(tr("mean ± standard deviation (n − 1) of the runs' final values"));
    }
    m_metrics->resizeColumnsToContents();
}

}  // namespace frugal::ui
