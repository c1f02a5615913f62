#include "live_view.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>
#include <exception>

#include "chart_controls.h"
#include "metric_chart.h"
#include "palette.h"
#include "run/method_registry.h"
#include "vector_plot.h"

namespace frugal::ui {

namespace {

bool isLoss(const QString& k) {
    return k == QStringLiteral("train/loss") || k.endsWith(QStringLiteral("/loss"));
}

bool isEval(const QString& k) {
    if (k.startsWith(QStringLiteral("sys/")) || k.startsWith(QStringLiteral("zo/")) ||
        k.startsWith(QStringLiteral("params/")))
        return false;
    if (k.endsWith(QStringLiteral("/examples"))) return false;
    return k.contains(QStringLiteral("accuracy")) || k.contains(QStringLiteral("perplexity")) ||
           k.startsWith(QStringLiteral("held_out/"));
}

bool has(const QString& k, std::initializer_list<const char*> keys) {
    for (const char* key : keys)
        if (k == QLatin1String(key)) return true;
    return false;
}

}  // namespace

// The panels of a method's live view: fine-tuning (ZO, FO) shows the query schedule and the
// projected gradient; SharpZO its CMA-ES stage (best and mean fitness, σ) beside the loss, whose
// chart shades that stage; a landscape run its surface (the vector panel, up front) and
// sharpness; a pruning run its per-block error and sparsity (the grid, up front).
QVector<LiveView::Spec> LiveView::specsFor(const QString& layout) {
    const Spec loss{tr("Loss"), tr("loss"), isLoss, false};
    const Spec eval{tr("Evaluation"), tr("metric"), isEval, false};
    const Spec memory{tr("Memory"), tr("MiB"),
                      [](const QString& k) { return has(k, {"sys/rss_mb", "sys/peak_rss_mb", "mem/estimate_mb"}); }, false};
    const Spec sharpness{tr("Sharpness"), tr("value"),
                         [](const QString& k) { return k.startsWith(QStringLiteral("sharpness/")); }, false};
    if (layout == QStringLiteral("sharpzo"))
        return {loss,
                eval,
                {tr("CMA-ES fitness"), tr("fitness (loss)"),
                 [](const QString& k) { return has(k, {"cma/best_fitness", "cma/mean_fitness"}); }, false},
                {tr("CMA-ES step size"), tr("sigma"), [](const QString& k) { return k == QLatin1String("cma/sigma"); },
                 false},
                sharpness,
                {tr("Forward passes"), tr("training forwards"),
                 [](const QString& k) { return k == QLatin1String("train/forwards"); }, false}};
    if (layout == QStringLiteral("landscape"))
        return {{tr("Surface"), tr("loss"),
                 [](const QString& k) {
                     return has(k, {"landscape/min_loss", "landscape/max_loss", "landscape/centre_loss"});
                 },
                 false},
                sharpness,
                memory};
    if (layout == QStringLiteral("fine-tuning+landscape"))
        return {loss,
                eval,
                {tr("Hutchinson trace"), tr("tr H (forward-only)"),
                 [](const QString& k) {
                     return has(k, {"sharpness/hutchinson_trace", "sharpness/hutchinson_stderr"});
                 },
                 false},
                {tr("Sharpness rise"), tr("loss rise in the rho-ball"),
                 [](const QString& k) { return has(k, {"sharpness/eps_ball", "sharpness/sam"}); }, false},
                {tr("Slice"), tr("loss on the probe batch"),
                 [](const QString& k) { return has(k, {"landscape/centre_loss", "landscape/min_loss"}); }, false},
                {tr("Projected gradient"), tr("|g|"),
                 [](const QString& k) { return has(k, {"zo/projected_grad", "zo/projected_grad_abs_mean"}); }, true}};
    if (layout == QStringLiteral("prune"))
        return {{tr("Block error"), tr("reconstruction error"),
                 [](const QString& k) { return k == QLatin1String("prune/block_error"); }, false},
                {tr("Perplexity"), tr("perplexity"),
                 [](const QString& k) { return k.startsWith(QStringLiteral("prune/perplexity")); }, false},
                memory};
    return {loss,
            eval,
            {tr("Query schedule"), tr("queries Q per step"),
             [](const QString& k) { return k == QLatin1String("zo/queries"); }, false},
            {tr("Projected gradient"), tr("|g|"),
             [](const QString& k) { return has(k, {"zo/projected_grad", "zo/projected_grad_abs_mean"}); }, true},
            memory,
            {tr("Throughput"), tr("steps / s"), [](const QString& k) { return k == QLatin1String("sys/steps_per_s"); },
             false}};
}

QString LiveView::layoutOf(const QString& method, const QMap<QString, QString>& params) {
    if (method == QLatin1String("sharpzo") || method == QLatin1String("landscape") || method == QLatin1String("prune"))
        return method;
    const QString every = params.value(QStringLiteral("live_landscape.every"));
    if (!every.isEmpty() && every != QLatin1String("0")) return QStringLiteral("fine-tuning+landscape");
    return QStringLiteral("fine-tuning");
}

void LiveView::useLayout(const QString& layout) {
    if (layout == m_layout && !m_panels.isEmpty()) return;
    m_layout = layout;
    for (auto& p : m_panels) delete p.chart;
    m_panels.clear();
    const QVector<Spec> specs = specsFor(layout);
    const int columns = specs.size() <= 3 ? static_cast<int>(specs.size()) : 3;
    for (int i = 0; i < specs.size(); ++i) {
        Panel p;
        p.chart = new MetricChart(specs[i].title, specs[i].y, m_chartsHost);
        p.chart->setOptions(m_controls->options());
        p.accepts = specs[i].accepts;
        p.absolute = specs[i].absolute;
        m_grid->addWidget(p.chart, i / columns, i % columns);
        m_panels.push_back(p);
    }
    // the surface of a landscape run and the sparsity grid of a pruning run are the result: the
    // vector panel takes the charts' place beside them
    const bool vectorsFirst = layout == QLatin1String("landscape") || layout == QLatin1String("prune") ||
                              layout == QLatin1String("fine-tuning+landscape");
    m_split->setStretchFactor(0, vectorsFirst ? 2 : 4);
    m_split->setStretchFactor(1, vectorsFirst ? 3 : 1);
    if (vectorsFirst) m_split->setSizes({height() * 2 / 5, height() * 3 / 5});
    m_vectors->setPreferredKeys(layout == QLatin1String("prune")
                                    ? QStringList{QStringLiteral("prune/sparsity_per_matrix")}
                                    : QStringList{QStringLiteral("landscape/slice2d"), QStringLiteral("landscape/slice1d")});
}

LiveView::LiveView(StoreService* service, RunController* controller, QWidget* parent)
    : QWidget(parent), m_service(service), m_controller(controller) {
    m_controls = new ChartControls(this);
    m_grid = new QGridLayout;
    m_grid->setSpacing(4);
    m_title =
        new QLabel(tr("No run shown: start one from New experiment, or open one from Runs"), this);
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.15);
    big.setBold(true);
    m_title->setFont(big);
    m_statusLabel = new QLabel(this);
    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(260);
    m_progress->setTextVisible(true);
    m_progressText = new QLabel(this);
    showIdleProgress();
    m_stop = new QPushButton(tr("Stop"), this);
    m_resume = new QPushButton(tr("Resume"), this);
    m_stop->setEnabled(false);
    m_resume->setObjectName(QStringLiteral("resume"));
    m_resume->setEnabled(false);
    auto* header = new QHBoxLayout;
    header->addWidget(m_title);
    header->addWidget(m_statusLabel);
    header->addStretch(1);
    header->addWidget(m_progressText);
    header->addWidget(m_progress);
    header->addWidget(m_stop);
    header->addWidget(m_resume);

    m_vectors = new VectorPanel(this);
    m_vectors->hide();
    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_log->setPlaceholderText(tr("the run's log"));
    m_chartsHost = new QWidget(this);
    m_chartsHost->setLayout(m_grid);
    auto* bottom = new QSplitter(Qt::Horizontal, this);
    bottom->addWidget(m_log);
    bottom->addWidget(m_vectors);
    m_split = new QSplitter(Qt::Vertical, this);
    m_split->addWidget(m_chartsHost);
    m_split->addWidget(bottom);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_controls);
    layout->addWidget(m_split, 1);
    useLayout(QStringLiteral("fine-tuning"));

    m_poll = new QTimer(this);
    m_poll->setInterval(2000);
    connect(m_poll, &QTimer::timeout, this, [this] {
        if (!m_live && m_runId > 0 && m_status == QStringLiteral("running")) showRun(m_runId);
    });
    m_poll->start();
    connect(m_controls, &ChartControls::optionsChanged, this, [this](const ChartOptions& o) {
        if (o.xAxis == XAxisKind::ForwardPasses) pushPasses();
        for (auto& p : m_panels) p.chart->setOptions(o);
    });
    connect(m_controls, &ChartControls::fitRequested, this, [this] {
        for (auto& p : m_panels) p.chart->resetZoom();
    });
    connect(m_controls->exportButton(), &QPushButton::clicked, this, &LiveView::chooseExport);
    connect(m_stop, &QPushButton::clicked, this, &LiveView::stop);
    connect(m_resume, &QPushButton::clicked, this, &LiveView::resume);
    connect(m_controller, &RunController::runStarted, this, &LiveView::started);
    connect(m_controller, &RunController::metricsArrived, this, &LiveView::arrived);
    connect(m_controller, &RunController::vectorsArrived, this, &LiveView::vectorsArrived);
    connect(m_controller, &RunController::logsArrived, this, &LiveView::logged);
    connect(m_controller, &RunController::progressChanged, this, &LiveView::progressed);
    connect(m_controller, &RunController::runEnded, this, &LiveView::ended);
    connect(m_controller, &RunController::busyChanged, this, [this] { setStatus(m_status); });
    connect(m_service, &StoreService::runsLoaded, this, &LiveView::loaded);
}

QVector<MetricChart*> LiveView::charts() const {
    QVector<MetricChart*> out;
    for (const auto& p : m_panels) out << p.chart;
    return out;
}

MetricChart* LiveView::chartTitled(const QString& title) const {
    for (const auto& p : m_panels)
        if (p.chart->title() == title) return p.chart;
    return nullptr;
}

QString LiveView::logText() const { return m_log->toPlainText(); }

bool LiveView::canResume() const {
    const bool ended = m_status == QStringLiteral("cancelled") ||
                       m_status == QStringLiteral("interrupted") ||
                       m_status == QStringLiteral("failed");
    return ended && !m_controller->busy() && !m_config.isEmpty() && m_resumeRefusal.isEmpty();
}

void LiveView::clear() {
    for (auto& p : m_panels) {
        p.chart->clearLines();
        p.lines.clear();
    }
    m_passes.clear();
    m_stageEnd = -1;
    for (auto& p : m_panels) p.chart->setShadedSpan(0, -1, QString());
    m_log->clear();
    m_vectorData.clear();
    m_vectors->setSeries({});
    m_vectors->hide();
    showIdleProgress();
}

void LiveView::addSample(const QString& key, double step, double wall, double value) {
    if (key == QLatin1String("sharpzo/stage") && value == 1) {  // SharpZO's CMA-ES stage, shaded
        m_stageEnd = std::max(m_stageEnd, step);
        for (auto& p : m_panels)
            if (p.chart->title() == tr("Loss") || p.chart->title() == tr("Evaluation"))
                p.chart->setShadedSpan(0, m_stageEnd, tr("stage 1: CMA-ES"));
    }
    if (key == QStringLiteral("zo/forward_passes")) {
        m_passes.emplace_back(step, value);
        m_passesDirty = true;
    }
    for (auto& p : m_panels) {
        if (!p.accepts(key)) continue;
        auto it = p.lines.find(key);
        if (it == p.lines.end()) {
            const int line = p.chart->addLine(key, seriesColor(key));  // by key, not by arrival
            if (!m_passes.empty()) p.chart->setPasses(line, m_passes);
            it = p.lines.insert(key, line);
        }
        p.chart->append(it.value(), step, wall, p.absolute ? std::abs(value) : value);
    }
}

void LiveView::pushPasses() {
    if (!m_passesDirty) return;
    m_passesDirty = false;
    for (auto& p : m_panels)
        for (int line : p.lines) p.chart->setPasses(line, m_passes);
}

void LiveView::setStatus(const QString& status, const QString& error) {
    m_status = status;
    static const QMap<QString, QString> colours = {
        {QStringLiteral("running"), QStringLiteral("#1565c0")},
        {QStringLiteral("finished"), QStringLiteral("#2e7d32")},
        {QStringLiteral("failed"), QStringLiteral("#c62828")},
        {QStringLiteral("cancelled"), QStringLiteral("#6d4c41")},
        {QStringLiteral("interrupted"), QStringLiteral("#ef6c00")}};
    m_statusLabel->setText(
        status.isEmpty() ? QString()
                         : QStringLiteral("<b style='color:%1'>%2</b>")
                               .arg(colours.value(status, QStringLiteral("#616161")), status));
    m_statusLabel->setToolTip(error);
    const bool mine = m_live && m_controller->currentRun() == m_runId;
    m_stop->setEnabled(mine);
    m_stop->setToolTip(
        status == QStringLiteral("running") && !mine
            ? tr("This run belongs to another process; stop it there (Ctrl+C or SIGTERM)")
            : QString());
    m_resume->setEnabled(canResume());
    m_resume->setToolTip(canResume() ? tr("Continue this run from its last resume point (the same "
                                          "metrics as a run that never stopped)")
                         : m_controller->busy() ? tr("Another run is in progress")
                                                : m_resumeRefusal);
}

void LiveView::showRun(qint64 runId) {
    if (m_live && runId != m_runId)
        m_live = false;  // the live run goes on; this view shows another
    m_request = StoreService::newRequestId();
    const quint64 request = m_request;
    QMetaObject::invokeMethod(
        m_service, [service = m_service, request, runId] { service->loadRuns(request, {runId}); },
        Qt::QueuedConnection);
}

void LiveView::loaded(quint64 request, const QVector<RunData>& runs) {
    if (request != m_request || runs.isEmpty()) return;
    const RunData& d = runs.first();
    const bool same = d.row.id == m_runId;
    useLayout(layoutOf(d.row.method, d.row.params));
    // the same run again (its end, a poll): the zoom the user set and the lines they hid stay
    QMap<QString, QRectF> zooms;
    QMap<QString, QStringList> hidden;
    if (same)
        for (const auto& p : m_panels) {
            if (p.chart->zoomed()) zooms.insert(p.chart->title(), p.chart->visibleRange());
            for (auto it = p.lines.begin(); it != p.lines.end(); ++it)
                if (!p.chart->lineVisible(it.value())) hidden[p.chart->title()] << it.key();
        }
    clear();
    m_runId = d.row.id;
    m_name = d.row.name;
    m_config = d.config;
    m_resumeRefusal = d.resumeRefusal;
    m_title->setText(tr("Run %1 · %2 · %3").arg(d.row.id).arg(d.row.name, d.row.method));
    // zo/forward_passes first, so every line gets the pass counts
    if (const auto it = d.metrics.find(QStringLiteral("zo/forward_passes")); it != d.metrics.end())
        for (const SeriesPoint& p : *it) m_passes.emplace_back(p.step, p.value);
    m_passesDirty = false;
    for (auto it = d.metrics.begin(); it != d.metrics.end(); ++it) {
        if (it.key() == QStringLiteral("zo/forward_passes")) continue;
        for (const SeriesPoint& p : it.value()) addSample(it.key(), p.step, p.wallSeconds, p.value);
    }
    for (const QString& line : d.logs) m_log->appendPlainText(line);
    m_vectorData = d.vectors;
    m_vectors->setSeries(m_vectorData);
    m_vectors->setVisible(!m_vectorData.isEmpty());
    setStatus(d.row.status, d.row.error);
    for (auto& p : m_panels) {
        p.chart->redrawNow();
        for (const QString& key : hidden.value(p.chart->title()))
            if (p.lines.contains(key)) p.chart->setLineVisible(p.lines.value(key), false);
        if (zooms.contains(p.chart->title())) {
            const QRectF r = zooms.value(p.chart->title());
            p.chart->zoomTo(r.left(), r.right(), r.top(), r.bottom());
        }
    }
    if (!same) emit runShown(m_runId);
}

void LiveView::started(qint64 runId, const QString& name) {
    useLayout(layoutOf(m_controller->currentMethod(), m_controller->currentParams()));
    clear();
    m_live = true;
    m_runId = runId;
    m_name = name;
    m_config.clear();
    m_resumeRefusal = tr("the run is in progress");
    m_title->setText(tr("Run %1 · %2").arg(runId).arg(name));
    setStatus(QStringLiteral("running"));
    emit runShown(runId);
}

void LiveView::arrived(qint64 runId, const QVector<MetricSample>& samples) {
    if (!m_live || runId != m_runId) return;
    for (const MetricSample& s : samples) addSample(s.key, s.step, s.wallSeconds, s.value);
    if (m_controls->options().xAxis == XAxisKind::ForwardPasses) pushPasses();
}

void LiveView::vectorsArrived(qint64 runId, const QVector<VectorSample>& samples) {
    if (!m_live || runId != m_runId) return;
    for (const VectorSample& s : samples) m_vectorData[s.key].push_back(VectorFrame{s.step, s.shape, s.data});
    m_vectors->setSeries(m_vectorData);
    m_vectors->setVisible(true);
}

void LiveView::logged(qint64 runId, const QStringList& lines) {
    if (!m_live || runId != m_runId) return;
    for (const QString& line : lines) m_log->appendPlainText(line);
}

void LiveView::showIdleProgress() {
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("idle"));
    m_progressText->clear();
    m_progressClock.invalidate();
}

static QString remainingText(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return {};
    const auto t = static_cast<qint64>(seconds + 0.5);
    if (t < 60) return QObject::tr("%1 s left").arg(t);
    if (t < 3600) return QObject::tr("%1 min %2 s left").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
    return QObject::tr("%1 h %2 min left").arg(t / 3600).arg((t / 60) % 60, 2, 10, QLatin1Char('0'));
}

void LiveView::progressed(qint64 runId, qint64 step, qint64 total, const QString& status) {
    if (!m_live || runId != m_runId) return;
    // the time left from the pace since the first step this view saw (a resumed run's too)
    if (!m_progressClock.isValid() || step < m_progressFirstStep) {
        m_progressClock.start();
        m_progressFirstStep = step;
    }
    const double done = static_cast<double>(step - m_progressFirstStep);
    const double left = done > 0 ? static_cast<double>(m_progressClock.elapsed()) / 1000.0 / done *
                                       static_cast<double>(total - step)
                                 : NAN;
    m_progress->setRange(0, static_cast<int>(std::min<qint64>(total, INT32_MAX)));
    m_progress->setValue(static_cast<int>(std::min<qint64>(step, INT32_MAX)));
    m_progress->setFormat(tr("step %1 / %2").arg(step).arg(total));
    QStringList parts;
    if (const QString eta = remainingText(left); !eta.isEmpty()) parts << eta;
    if (!status.isEmpty()) parts << status;
    m_progressText->setText(parts.join(QStringLiteral(" · ")));
}

QString LiveView::progressText() const { return m_progress->text() + QStringLiteral(" | ") + m_progressText->text(); }

void LiveView::ended(qint64 runId, const QString& status, const QString& error) {
    if (runId != m_runId) return;
    m_live = false;
    showIdleProgress();
    if (!error.isEmpty()) m_log->appendPlainText(status + QStringLiteral(": ") + error);
    setStatus(status, error);
    showRun(runId);  // the stored run: config (for resume), vectors, the final figures
}

void LiveView::stop() {
    if (m_live && m_controller->currentRun() == m_runId) {
        m_controller->requestStop();
        m_stop->setEnabled(false);
        m_log->appendPlainText(tr("stop requested: the run ends after its current step"));
    }
}

void LiveView::resume() {
    if (!canResume()) return;
    try {
        RunJob job;
        job.name = m_name;
        job.resumeRunId = m_runId;
        job.prepared = std::make_shared<run::PreparedRun>(run::prepareRunText(
            m_config.toStdString(), "run " + std::to_string(m_runId) + "'s config", {}, {},
            /*resume=*/true));
        m_controller->start(job);
    } catch (const std::exception& e) {
        const QString text =
            tr("cannot resume run %1: %2").arg(m_runId).arg(QString::fromStdString(e.what()));
        m_log->appendPlainText(text);
        emit message(text);
    }
}

void LiveView::chooseExport() {
    QMenu menu(this);
    for (const auto& p : m_panels) {
        QAction* a = menu.addAction(p.chart->title());
        a->setEnabled(p.chart->pointCount() > 0);
        MetricChart* chart = p.chart;
        connect(a, &QAction::triggered, this, [this, chart] { emit exportRequested(chart); });
    }
    menu.exec(
        m_controls->exportButton()->mapToGlobal(QPoint(0, m_controls->exportButton()->height())));
}

}  // namespace frugal::ui
