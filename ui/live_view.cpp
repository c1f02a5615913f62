#include "live_view.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>
#include <exception>

#include "chart_controls.h"
#include "metric_chart.h"
#include "common/group_stats.h"
#include "common/metric_keys.h"
#include "palette.h"
#include "run/method_registry.h"
#include "vector_plot.h"

namespace frugal::ui {

namespace {

std::map<std::string, std::string> stdParams(const QMap<QString, QString>& params) {
    std::map<std::string, std::string> out;
    for (auto it = params.begin(); it != params.end(); ++it) out[it.key().toStdString()] = it.value().toStdString();
    return out;
}

}  // namespace

// The panels of a run's live view, as its method's row describes them (common/method_view.h):
// fine-tuning shows the query schedule and the projected gradient; SharpZO its CMA-ES stage
// beside the loss, whose chart shades that stage; a landscape run its surface (the vector panel,
// up front) and sharpness; a pruning run its per-block error and sparsity (the grid, up front).
void LiveView::useView(const QString& method, const QMap<QString, QString>& params) {
    const auto values = stdParams(params);
    const MethodView view = run::methodView(method.toStdString());
    const std::vector<PanelView> panels = view.panelsUnder(values);
    const std::vector<std::string> vectors = view.vectorsUnder(values);
    QString layout = method;
    for (const auto& p : panels) layout += QLatin1Char('|') + QString::fromStdString(p.title);
    if (layout == m_layout && !m_panels.isEmpty()) return;
    m_layout = layout;
    for (auto& p : m_panels) {
        delete p.chart;
        delete p.card;
    }
    m_panels.clear();
    const int count = static_cast<int>(panels.size());
    const int columns = count <= 3 ? count : 3;
    for (int i = 0; i < count; ++i) {
        Panel p;
        p.chart = new MetricChart(tr(panels[i].title.c_str()), tr(panels[i].y.c_str()), m_chartsHost);
        p.chart->setOptions(m_controls->options());
        p.view = panels[i];
        m_grid->addWidget(p.chart, i / columns, i % columns);
        // the same place, while each of the panel's series is a single number: a card of numbers
        p.card = new QLabel(m_chartsHost);
        p.card->setObjectName(QStringLiteral("summaryCard"));
        p.card->setAlignment(Qt::AlignCenter);
        p.card->setTextInteractionFlags(Qt::TextSelectableByMouse);
        p.card->setFrameShape(QFrame::StyledPanel);
        p.card->setStyleSheet(QStringLiteral("QLabel#summaryCard { background: white; }"));
        p.card->hide();
        m_grid->addWidget(p.card, i / columns, i % columns);
        m_panels.push_back(p);
    }
    // the surface of a landscape run and the sparsity grid of a pruning run are the result: the
    // vector panel takes the charts' place beside them
    const bool vectorsFirst = !vectors.empty();
    m_split->setStretchFactor(0, vectorsFirst ? 2 : 4);
    m_split->setStretchFactor(1, vectorsFirst ? 3 : 1);
    if (vectorsFirst) m_split->setSizes({height() * 2 / 5, height() * 3 / 5});
    QStringList preferred;
    for (const auto& v : vectors) preferred << QString::fromStdString(v);
    m_vectors->setPreferredKeys(preferred);
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
    m_stop->setObjectName(QStringLiteral("stop"));
    m_resume = new QPushButton(tr("Resume"), this);
    m_stop->setEnabled(false);
    m_resume->setObjectName(QStringLiteral("resume"));
    m_resume->setEnabled(false);
    m_seeds = new QCheckBox(tr("other seeds"), this);
    m_seeds->setToolTip(tr("Behind each line, the mean ± std of the other runs of this configuration "
                           "(everything but the seed the same) in the database"));
    auto* header = new QHBoxLayout;
    header->addWidget(m_title);
    header->addWidget(m_statusLabel);
    header->addWidget(m_seeds);
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
    useView(QStringLiteral("zo"), {});

    connect(m_seeds, &QCheckBox::toggled, this, [this](bool on) {
        if (m_runId <= 0) return;
        if (on) {
            if (m_siblingsOf == m_runId) drawSiblings();
            else requestSiblings();
        } else {
            showRun(m_runId);  // drawn again without them
        }
    });
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

void LiveView::saveLayout(const QString& dbPath) const {
    QSettings s;
    s.setValue(QStringLiteral("live/database"), dbPath);
    s.setValue(QStringLiteral("live/run"), m_runId);
    s.setValue(QStringLiteral("live/split"), m_split->saveState());
    QVariantMap zooms;
    for (const auto& p : m_panels)
        if (p.chart->zoomed()) zooms.insert(p.chart->title(), p.chart->visibleRange());
    s.setValue(QStringLiteral("live/zooms"), zooms);
}

void LiveView::restoreLayout(const QString& dbPath) {
    const QSettings s;
    if (const QByteArray split = s.value(QStringLiteral("live/split")).toByteArray(); !split.isEmpty())
        m_split->restoreState(split);
    if (s.value(QStringLiteral("live/database")).toString() != dbPath) return;
    const qint64 run = s.value(QStringLiteral("live/run"), 0).toLongLong();
    if (run <= 0) return;
    m_zoomRun = run;
    const QVariantMap zooms = s.value(QStringLiteral("live/zooms")).toMap();
    for (auto it = zooms.begin(); it != zooms.end(); ++it) m_zooms.insert(it.key(), it.value().toRectF());
    showRun(run);
}

QString LiveView::cardText(const QString& title) const {
    for (const auto& p : m_panels)
        if (p.chart->title() == title && !p.card->isHidden()) return p.card->text();
    return {};
}

// A panel whose every series holds one number shows them as numbers (with ± the standard error
// where the run logs one: KEY's "_stderr" partner), not as lone dots on a line chart; a second
// point brings the chart back.
void LiveView::refreshCards() {
    for (auto& p : m_panels) {
        bool single = !p.lines.isEmpty();
        for (auto it = p.lines.begin(); it != p.lines.end() && single; ++it)
            single = p.chart->pointCount(it.value()) <= 1;
        if (single) {
            // KEY's standard error, where the run logs one: KEY_stderr, or its stem's (trace -> stderr)
            const auto errorOf = [&](const QString& key) {
                const QString stem = key.section(QLatin1Char('_'), 0, -2);
                for (const QString& partner : {key + QStringLiteral("_stderr"), stem + QStringLiteral("_stderr")})
                    if (partner != key && m_lastValue.contains(partner)) return partner;
                return QString();
            };
            QStringList rows;
            QSet<QString> shownAsError;
            for (auto it = p.lines.begin(); it != p.lines.end(); ++it)
                if (const QString e = errorOf(it.key()); !e.isEmpty()) shownAsError.insert(e);
            for (auto it = p.lines.begin(); it != p.lines.end(); ++it) {
                if (shownAsError.contains(it.key()) || !m_lastValue.contains(it.key())) continue;
                QString text = QString::number(m_lastValue.value(it.key()), 'g', 5);
                if (const QString e = errorOf(it.key()); !e.isEmpty())
                    text += QStringLiteral(" ± %1").arg(m_lastValue.value(e), 0, 'g', 3);
                rows << QStringLiteral("<tr><td style='color:#616161; padding-right:12px'>%1</td>"
                                       "<td style='font-size:large'><b>%2</b></td></tr>")
                            .arg(it.key().toHtmlEscaped(), text);
            }
            p.card->setText(QStringLiteral("<p><b>%1</b></p><table>%2</table>").arg(p.chart->title().toHtmlEscaped(),
                                                                                    rows.join(QString())));
        }
        p.card->setVisible(single);
        p.chart->setVisible(!single);
    }
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
        p.chart->setMarkers({});
        p.lines.clear();
    }
    m_passes.clear();
    m_lastValue.clear();
    for (auto& p : m_panels) {
        p.bandEnd = -1;
        p.chart->setShadedSpan(0, -1, QString());
    }
    m_log->clear();
    m_vectorData.clear();
    m_vectors->setSeries({});
    m_vectors->hide();
    showIdleProgress();
}

void LiveView::addSample(const QString& key, double step, double wall, double value) {
    const std::string k = key.toStdString();
    m_lastValue[key] = value;
    for (auto& p : m_panels) {  // an annotation a panel carries: the steps where its band metric is 1
        if (p.view.band != k || value != 1) continue;
        p.bandEnd = std::max(p.bandEnd, step);
        p.chart->setShadedSpan(0, p.bandEnd, tr(p.view.bandLabel.c_str()));
    }
    if (k == metrics::kForwardPasses) {
        m_passes.emplace_back(step, value);
        m_passesDirty = true;
    }
    for (auto& p : m_panels) {
        if (!p.view.match.matches(k)) continue;
        auto it = p.lines.find(key);
        if (it == p.lines.end()) {
            const int line = p.chart->addLine(key, seriesColor(key));  // by key, not by arrival
            if (!m_passes.empty()) p.chart->setPasses(line, m_passes);
            // a figure fixed for the run (the memory estimate): a level line, not a lone dot
            if (key.contains(QLatin1String("estimate"))) p.chart->setLineHeld(line, true);
            it = p.lines.insert(key, line);
            if (m_seeds->isChecked() && m_siblingsOf == m_runId) addSiblingLine(p, key);
        }
        p.chart->append(it.value(), step, wall, p.view.absolute ? std::abs(value) : value);
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
    // this window's runs: the one streaming here, and one running beside it (read from the store)
    const bool mine = (m_live && m_controller->currentRun() == m_runId) ||
                      (m_runId > 0 && m_controller->sideRun() == m_runId && status == QStringLiteral("running"));
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

void LiveView::requestSiblings() {
    if (m_runId <= 0) return;
    m_siblingRequest = StoreService::newRequestId();
    m_siblingsAsked = m_runId;
    QMetaObject::invokeMethod(
        m_service, [service = m_service, request = m_siblingRequest, id = m_runId] { service->loadSiblings(request, id); },
        Qt::QueuedConnection);
}

void LiveView::drawSiblings() {
    if (!m_seeds->isChecked() || m_siblingsOf != m_runId) return;
    m_seeds->setText(tr("other seeds (%1)").arg(m_siblings.size()));
    for (auto& p : m_panels) {
        for (auto it = p.lines.begin(); it != p.lines.end(); ++it) addSiblingLine(p, it.key());
        p.chart->redrawNow();
    }
}

void LiveView::addSiblingLine(Panel& p, const QString& key) {
    std::vector<stats::Series> series;
    const RunData* first = nullptr;
    for (const RunData& s : m_siblings) {
        const auto m = s.metrics.find(key);
        if (m == s.metrics.end() || m->isEmpty()) continue;
        stats::Series one;
        for (const SeriesPoint& pt : *m) {
            one.step.push_back(pt.step);
            one.value.push_back(p.view.absolute ? std::abs(pt.value) : pt.value);
            one.wall.push_back(pt.wallSeconds);
        }
        series.push_back(std::move(one));
        if (!first) first = &s;
    }
    if (series.empty()) return;
    const stats::Band band = stats::aggregate(series, stats::Center::Mean, stats::Spread::Std);
    const int line = p.chart->addLine(series.size() > 1
                                          ? tr("%1 · other seeds (N=%2, mean ± std)").arg(key).arg(series.size())
                                          : tr("%1 · other seed (run %2)").arg(key).arg(first->row.id),
                                      seriesColor(key).lighter(150));
    for (size_t i = 0; i < band.step.size(); ++i) p.chart->append(line, band.step[i], band.wall[i], band.center[i]);
    if (series.size() > 1) p.chart->setBand(line, band.lo, band.hi);
    std::vector<std::pair<double, double>> passes;
    for (const SeriesPoint& pt : first->metrics.value(QString::fromLatin1(metrics::kForwardPasses)))
        passes.emplace_back(pt.step, pt.value);
    if (!passes.empty()) p.chart->setPasses(line, std::move(passes));
}

void LiveView::loaded(quint64 request, const QVector<RunData>& runs) {
    if (request == m_siblingRequest && m_siblingRequest != 0) {
        m_siblings = runs;
        m_siblingsOf = m_siblingsAsked;
        drawSiblings();
        return;
    }
    if (request != m_request || runs.isEmpty()) return;
    const RunData& d = runs.first();
    const bool same = d.row.id == m_runId;
    useView(d.row.method, d.row.params);
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
    // the workbench's own run, shown again after another: live again (its Stop, progress and
    // samples), from the stored points on
    if (d.row.status == QStringLiteral("running") && m_controller->busy() && m_controller->currentRun() == d.row.id)
        m_live = true;
    m_name = d.row.name;
    m_config = d.config;
    m_resumeRefusal = d.resumeRefusal;
    m_title->setText(tr("Run %1 · %2 · %3").arg(d.row.id).arg(d.row.name, d.row.method));
    for (auto& p : m_panels) p.chart->setRunLabel(tr("run %1 · %2").arg(d.row.id).arg(d.row.name));
    // zo/forward_passes first, so every line gets the pass counts
    const QString passes = QString::fromLatin1(metrics::kForwardPasses);
    if (const auto it = d.metrics.find(passes); it != d.metrics.end())
        for (const SeriesPoint& p : *it) m_passes.emplace_back(p.step, p.value);
    m_passesDirty = false;
    for (auto it = d.metrics.begin(); it != d.metrics.end(); ++it) {
        if (it.key() == passes) continue;
        for (const SeriesPoint& p : it.value()) addSample(it.key(), p.step, p.wallSeconds, p.value);
    }
    for (const QString& line : d.logs) m_log->appendPlainText(line);
    {
        // a resumed run: one continuous run, where each later attempt took over marked
        QVector<QPair<double, QString>> markers;
        for (double step : d.resumedAt) markers.append({step, tr("resumed at step %1").arg(step)});
        for (auto& p : m_panels) p.chart->setMarkers(markers);
    }
    m_vectors->setMatrixNames(matrixNamesFromLogs(d.logs));
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
    if (m_seeds->isChecked()) {  // the other seeds, read once a run (drawn with its lines)
        if (m_siblingsOf != m_runId && m_siblingsAsked != m_runId) requestSiblings();
    } else {
        m_seeds->setText(tr("other seeds"));
    }
    refreshCards();
    if (m_zoomRun == m_runId && !m_zooms.isEmpty()) {  // a restart: the zoom the user left
        for (auto& p : m_panels)
            if (m_zooms.contains(p.chart->title())) {
                const QRectF r = m_zooms.value(p.chart->title());
                p.chart->zoomTo(r.left(), r.right(), r.top(), r.bottom());
            }
        m_zooms.clear();
    }
    if (!same) emit runShown(m_runId);
}

void LiveView::started(qint64 runId, const QString& name) {
    // a queued run starting on its own does not take the view from a run the user opened since
    // the workbench's last run: it says so, and Runs has it
    if (m_controller->startedFromQueue() && m_runId > 0 && m_runId != m_followed) {
        emit message(tr("queued run %1 (%2) started; open it from Runs").arg(runId).arg(name));
        return;
    }
    m_followed = runId;
    m_request = 0;  // a stored run's load still on its way (the last run's end) must not replace this one
    useView(m_controller->currentMethod(), m_controller->currentParams());
    clear();
    m_live = true;
    m_runId = runId;
    m_name = name;
    if (m_seeds->isChecked()) requestSiblings();  // the other seeds behind the lines as they come
    m_config.clear();
    m_resumeRefusal = tr("the run is in progress");
    m_title->setText(tr("Run %1 · %2").arg(runId).arg(name));
    for (auto& p : m_panels) p.chart->setRunLabel(tr("run %1 · %2").arg(runId).arg(name));
    setStatus(QStringLiteral("running"));
    emit runShown(runId);
    if (m_resumePending) {
        // resumed here: the stored steps and the new ones, one continuous run (loaded() keeps it live)
        m_resumePending = false;
        showRun(runId);
    }
}

void LiveView::arrived(qint64 runId, const QVector<MetricSample>& samples) {
    if (!m_live || runId != m_runId) return;
    for (const MetricSample& s : samples) addSample(s.key, s.step, s.wallSeconds, s.value);
    refreshCards();
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
    // no bar while nothing runs (an empty bar reads as a text field): the word alone
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("idle"));
    m_progress->hide();
    m_progressText->setText(tr("idle"));
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
    m_progress->show();
    m_progress->setRange(0, static_cast<int>(std::min<qint64>(total, INT32_MAX)));
    m_progress->setValue(static_cast<int>(std::min<qint64>(step, INT32_MAX)));
    m_progress->setFormat(tr("step %1 / %2").arg(step).arg(total));
    QStringList parts;
    if (const QString eta = remainingText(left); !eta.isEmpty()) parts << eta;
    if (!status.isEmpty()) parts << status;
    m_progressText->setText(parts.join(QStringLiteral(" · ")));
}

QString LiveView::progressText() const {
    return m_progress->isHidden() ? tr("idle | ") : m_progress->text() + QStringLiteral(" | ") + m_progressText->text();
}

void LiveView::ended(qint64 runId, const QString& status, const QString& error) {
    if (runId != m_runId) return;
    m_live = false;
    showIdleProgress();
    if (!error.isEmpty()) m_log->appendPlainText(status + QStringLiteral(": ") + error);
    setStatus(status, error);
    showRun(runId);  // the stored run: config (for resume), vectors, the final figures
}

void LiveView::stop() {
    if ((m_live && m_controller->currentRun() == m_runId) || (m_runId > 0 && m_controller->sideRun() == m_runId)) {
        m_controller->stopRun(m_runId);
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
        m_resumePending = true;  // its stored steps are shown again once it starts
        job.prepared = std::make_shared<run::PreparedRun>(run::prepareRunText(
            m_config.toStdString(), "run " + std::to_string(m_runId) + "'s config", {}, {},
            /*resume=*/true));
        m_controller->start(job);
    } catch (const std::exception& e) {
        m_resumePending = false;
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
