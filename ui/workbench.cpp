#include "workbench.h"

#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImage>
#include <QPainter>
#include <QScreen>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>

#include "common/metric_keys.h"
#include "chart_export.h"
#include "common/error.h"
#include "chart_controls.h"
#include "compare_view.h"
#include "experiment_form.h"
#include "export_dialog.h"
#include "live_view.h"
#include "main_window.h"
#include "metric_chart.h"
#include "palette.h"
#include "run/provenance.h"
#include "run/method_registry.h"
#include "run/runner.h"
#include "run/workspace.h"
#include "runs_view.h"
#include "store/store.h"
#include "vector_plot.h"
#include "dashboard_view.h"
#include "landscape_view.h"
#include "sweep_view.h"

namespace frugal::ui {

namespace {

void setIdentity() {
    QApplication::setOrganizationName(QStringLiteral("Frugal"));
    QApplication::setApplicationName(QStringLiteral("workbench"));
}

std::string sourceDir() { return run::sourceTree().string(); }

// Progress as plain lines (a tenth of the run at a time) and the run's log.
class LineObserver : public run::Observer {
public:
    void onLog(const std::string& level, const std::string& text) override {
        std::printf("%s%s\n", level == "info" ? "" : (level + ": ").c_str(), text.c_str());
        std::fflush(stdout);
    }
    void onProgress(int64_t step, int64_t total, const std::string& status) override {
        const int64_t tenth = total > 0 ? step * 10 / total : 0;
        if (tenth == m_tenth) return;
        m_tenth = tenth;
        std::printf("  step %lld/%lld  %s\n", static_cast<long long>(step),
                    static_cast<long long>(total), status.c_str());
        std::fflush(stdout);
    }

private:
    int64_t m_tenth = -1;
};

run::RunOutcome runQuietly(store::Store& db, const std::string& config,
                           const std::vector<std::string>& overrides, const std::string& name,
                           run::Observer* observer) {
    const run::PreparedRun prepared = run::prepareRun(config, overrides, {});
    const store::NewRun spec = run::newRunFor(
        prepared, run::collectProvenance({"frugal", "run", config}, sourceDir()), name,
        QFileInfo(QString::fromStdString(config)).completeBaseName().toStdString());
    run::StopToken stop;
    return run::runMethod(db, spec, prepared.body, stop, observer,
                          run::artifactRoot(db.path()));
}

bool waitFor(const std::function<bool()>& done, int timeoutMs) {
    if (done()) return true;
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(50);
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done()) loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    poll.start();
    loop.exec();
    return done();
}

bool grab(QWidget& widget, const QString& file) {
    const bool ok = widget.grab().save(file);
    std::printf("%s %s\n", ok ? "wrote" : "could not write", file.toStdString().c_str());
    return ok;
}

}  // namespace

bool displayAvailable() {
    return !qEnvironmentVariableIsEmpty("DISPLAY") ||
           !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
           !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

int runWorkbench(int argc, char** argv, const std::string& dbPath) {
    int qtArgc = argc;
    QApplication app(qtArgc, argv);
    setIdentity();
    const std::string path = dbPath.empty() ? store::Store::defaultPath().string() : dbPath;
    MainWindow window(QString::fromStdString(path));
    window.show();
    return QApplication::exec();
}

int runHeadless(int argc, char** argv, const std::string& config, const std::string& dbPath,
                const std::string& plotsDir) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    int qtArgc = argc;
    QApplication app(qtArgc, argv);
    setIdentity();
    const std::string path = dbPath.empty() ? store::Store::defaultPath().string() : dbPath;
    store::Store db(path);
    LineObserver observer;
    const std::string name =
        QFileInfo(QString::fromStdString(config)).completeBaseName().toStdString();
    const run::RunOutcome outcome = runQuietly(db, config, {}, name, &observer);
    std::printf("run %lld %s; stored in %s\n", static_cast<long long>(outcome.runId),
                store::statusName(outcome.status).c_str(), path.c_str());
    if (!outcome.error.empty()) std::printf("%s\n", outcome.error.c_str());

    // the run's charts, as the live view shows them: its method row's panels
    std::map<std::string, std::string> params;
    const auto info = db.run(outcome.runId);
    if (info)
        for (const auto& [key, value] : db.params(outcome.runId)) params[key] = value;
    const std::vector<PanelView> panels =
        run::methodView(info ? info->method : std::string()).panelsUnder(params);
    const QDir dir(QString::fromStdString(plotsDir) + QStringLiteral("/run-%1").arg(outcome.runId));
    if (!QDir().mkpath(dir.path())) {
        std::fprintf(stderr, "%s: cannot create the plots folder\n",
                     dir.path().toStdString().c_str());
        return 1;
    }
    int written = 0;
    for (const PanelView& panel : panels) {
        MetricChart chart(QString::fromStdString(panel.title), QString::fromStdString(panel.y));
        chart.resize(900, 560);
        for (const auto& key : db.metricKeys(outcome.runId)) {
            if (!panel.match.matches(key)) continue;
            const int line =
                chart.addLine(QString::fromStdString(key), seriesColor(QString::fromStdString(key)));
            for (const auto& p : db.metric(outcome.runId, key))
                chart.append(line, static_cast<double>(p.step),
                             static_cast<double>(p.wallMs - info->startMs) / 1000.0,
                             panel.absolute ? std::abs(p.value) : p.value);
        }
        if (chart.pointCount() == 0) continue;
        chart.redrawNow();
        const QString base =
            QString::fromStdString(panel.title).toLower().replace(QLatin1Char(' '), QLatin1Char('-'));
        for (const auto format : {ExportOptions::Format::Pdf, ExportOptions::Format::Svg,
                                  ExportOptions::Format::Png, ExportOptions::Format::Csv}) {
            ExportOptions o;
            o.format = format;
            o.path = dir.filePath(base + QLatin1Char('.') + formatSuffix(format));
            o.title = QStringLiteral("%1 — run %2 (%3)")
                          .arg(chart.title())
                          .arg(outcome.runId)
                          .arg(QString::fromStdString(name));
            const QString error = exportChart(chart, o);
            if (!error.isEmpty()) {
                std::fprintf(stderr, "%s\n", error.toStdString().c_str());
                return 1;
            }
            ++written;
        }
    }
    std::printf("plots: %d files in %s\n", written, dir.absolutePath().toStdString().c_str());
    return outcome.status == store::RunStatus::Finished ? 0 : 1;
}

namespace {

// The vector figure of plotRuns: each run's last frame of R.vector in a VectorPlot, side by side,
// all on the colour scale of their joint extremes.
PlotResult plotVectors(const PlotRequest& r) {
    const std::string path = r.dbPath.empty() ? store::Store::defaultPath().string() : r.dbPath;
    store::Store db(path, store::Store::Access::Read);
    QWidget figure;
    auto* layout = new QHBoxLayout(&figure);
    layout->setContentsMargins(4, 4, 4, 4);
    std::vector<VectorPlot*> plots;
    double lo = INFINITY, hi = -INFINITY;
    PlotResult result;
    for (int64_t id : r.runs) {
        const auto info = db.run(id);
        if (!info) fail(path, ": no run ", id);
        const auto series = db.vectorSeries(id, r.vector);
        if (series.empty()) fail("run ", id, " (", info->name, ") has no vector series '", r.vector, "'");
        const auto frameOf = [&](const store::VectorPoint& point) {
            VectorFrame frame;
            frame.step = point.step;
            for (int64_t n : point.shape) frame.shape << n;
            for (float v : point.data) {
                frame.data << v;
                if (std::isfinite(v)) lo = std::min(lo, static_cast<double>(v)), hi = std::max(hi, static_cast<double>(v));
            }
            result.points += point.data.size();
            return frame;
        };
        auto* plot = new VectorPlot(&figure);
        const QString title = QStringLiteral("run %1 · %2 · %3").arg(id).arg(QString::fromStdString(info->name),
                                                                       QString::fromStdString(r.vector));
        if (isSliceKey(QString::fromStdString(r.vector)) && series.back().shape.size() <= 1) {
            // a slice: every step's line, coloured by step, on the grid's coordinates
            QVector<VectorFrame> frames;
            for (const auto& point : series) frames << frameOf(point);
            QVector<float> axis;
            const auto axes = db.vectorSeries(id, metrics::kLandscapeAxis);
            if (!axes.empty()) axis = QVector<float>(axes.back().data.begin(), axes.back().data.end());
            plot->setLines(title, frames, static_cast<int>(frames.size()) - 1, axis);
        } else {
            plot->setFrame(title, frameOf(series.back()));
        }
        layout->addWidget(plot);
        plots.push_back(plot);
    }
    if (plots.size() > 1)
        for (VectorPlot* p : plots) p->setFixedRange(lo, hi);
    const double aspect = r.heightMm / r.widthMm;
    const int width = 560 * static_cast<int>(plots.size());
    figure.resize(width, static_cast<int>(std::lround(560 * aspect)));  // each plot WIDTH x HEIGHT mm
    figure.setAttribute(Qt::WA_DontShowOnScreen);
    figure.show();
    const QString error = exportFigure(figure, QString::fromStdString(r.out), r.widthMm * static_cast<double>(plots.size()),
                                       r.heightMm, r.dpi);
    if (!error.isEmpty()) result.error = error.toStdString();
    return result;
}

}  // namespace

PlotResult plotRuns(int argc, char** argv, const PlotRequest& r) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    int qtArgc = argc;
    QApplication app(qtArgc, argv);
    setIdentity();
    if (!r.vector.empty()) return plotVectors(r);
    const XAxisKind kind = r.x == "step" ? XAxisKind::Step
                           : r.x == "wall" ? XAxisKind::WallTime
                                           : XAxisKind::ForwardPasses;
    const std::string path = r.dbPath.empty() ? store::Store::defaultPath().string() : r.dbPath;
    store::Store db(path, store::Store::Access::Read);
    const QString metric = QString::fromStdString(r.metric);
    MetricChart chart(r.title.empty() ? metric : QString::fromStdString(r.title), metric);
    chart.resize(1000, 620);
    ChartOptions options;
    options.smoothing = 0;  // raw values in a figure
    options.xAxis = kind;
    options.logX = r.logX;
    options.logY = r.logY;
    chart.setOptions(options);
    // the runs' series, grouped as the Compare view groups them (common/group_stats.h)
    QVector<RunData> runs;
    QVector<RunRow> rows;
    QVector<QMap<QString, QString>> resolved;
    for (int64_t id : r.runs) {
        const auto info = db.run(id);
        if (!info) fail(path, ": no run ", id);
        runs << readRunData(db, *info);  // each series read once
        if (runs.back().metrics.value(metric).isEmpty())
            fail("run ", id, " (", info->name, ") has no metric '", r.metric, "'");
        rows << runs.back().row;
        resolved << resolvedParams(rows.back().method, rows.back().params);
    }
    GroupSpec spec;
    spec.by = r.group == "none" ? GroupBy::None
              : r.group == "config" ? GroupBy::Config
              : r.group == "name" ? GroupBy::Name
                                  : GroupBy::Key;
    if (spec.by == GroupBy::Key) spec.key = QString::fromStdString(r.group);
    spec.center = *stats::centerNamed(r.center);
    spec.spread = *stats::spreadNamed(r.band);
    spec.showRuns = r.eachRun;
    drawGroups(chart, runs, groupRuns(rows, resolved, spec), metric, spec, false);
    chart.redrawNow();
    ExportOptions o;
    o.path = QString::fromStdString(r.out);
    o.format = formatForPath(o.path);
    o.title = chart.title();
    o.widthMm = r.widthMm;
    o.heightMm = r.heightMm;
    o.dpi = r.dpi;
    return {exportChart(chart, o).toStdString(), chart.pointCount()};
}

namespace {

// The research views (issue 35): a 3 x 3 sweep (lr x seed) of short MeZO runs, grouped in Runs
// and in Compare with bands, its parallel coordinates brushed, the dashboard, and one run's Live
// view with its other seeds behind it.
bool researchScreenshots(MainWindow& window, const QDir& out, const QString& work) {
    const std::string sweepDb = (work + QStringLiteral("/sweep.db")).toStdString();
    {
        store::Store db(sweepDb);
        LineObserver observer;
        for (const char* lr : {"1e-5", "3e-5", "1e-4"})
            for (const char* seed : {"1", "2", "3"}) {
                const std::string name = std::string("lr=") + lr + " seed=" + seed;
                std::printf("sweep: %s\n", name.c_str());
                const auto outcome = runQuietly(db, sourceDir() + "/experiments/zo/mezo-full-sentiment.toml",
                                                {std::string("zo.lr=") + lr, std::string("zo.seed=") + seed,
                                                 "zo.steps=60", "zo.eval_every=20", "zo.eval_limit=100"},
                                                name, &observer);
                if (outcome.status != store::RunStatus::Finished) {
                    std::fprintf(stderr, "%s: %s\n", name.c_str(), outcome.error.c_str());
                    return false;
                }
            }
    }
    bool ok = true;
    window.openDatabase(QString::fromStdString(sweepDb));
    RunsView* runs = window.runsView();
    waitFor([&] { return runs->model()->rowCount() == 9; }, 20000);
    runs->setGrouped(true);
    window.tabs()->setCurrentIndex(0);
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("runs-grouped.png"))) && ok;
    runs->setGrouped(false);
    CompareView* compare = window.compareView();
    compare->compare({1, 2, 3, 4, 5, 6, 7, 8, 9});
    window.tabs()->setCurrentWidget(compare);
    compare->tabs()->setCurrentWidget(compare->chart());
    waitFor([&] { return compare->runIds().size() == 9 && compare->groups().size() == 3; }, 20000);
    compare->setMetric(QString::fromLatin1(metrics::kDevLoss));
    compare->setTestGroups(1, 2);
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("compare-groups.png"))) && ok;
    compare->tabs()->setCurrentWidget(compare->sweep());
    ParallelCoordinates* pc = compare->sweep()->coordinates();
    waitFor([] { return false; }, 300);
    pc->brush(0, 2e-5, 2e-4);  // lr: the two larger rates
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("compare-sweep.png"))) && ok;
    pc->clearBrushes();
    compare->tabs()->setCurrentWidget(compare->dashboard());
    compare->dashboard()->setFilter(QStringLiteral("/"));
    waitFor([] { return false; }, 600);
    ok = grab(window, out.filePath(QStringLiteral("compare-dashboard.png"))) && ok;
    compare->tabs()->setCurrentWidget(compare->chart());
    LiveView* live = window.liveView();
    live->showRun(5);  // lr=1e-4 seed=2, the other two seeds behind it
    window.tabs()->setCurrentWidget(live);
    waitFor([&] { return live->runId() == 5; }, 20000);
    live->seedsBox()->setChecked(true);
    waitFor([&] { return live->siblingCount() == 2; }, 20000);
    waitFor([] { return false; }, 600);
    ok = grab(window, out.filePath(QStringLiteral("live-other-seeds.png"))) && ok;
    live->seedsBox()->setChecked(false);
    return ok;
}

}  // namespace

int takeScreenshots(int argc, char** argv, const std::string& outDir) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    int qtArgc = argc;
    QApplication app(qtArgc, argv);
    setIdentity();
    const QDir out(QString::fromStdString(outDir));
    QDir().mkpath(out.path());
    const QString work = QDir::temp().filePath(
        QStringLiteral("frugal-screenshots-%1").arg(QCoreApplication::applicationPid()));
    QDir(work).removeRecursively();
    QDir().mkpath(work);
    const std::string dbPath = (work + QStringLiteral("/runs.db")).toStdString();
    const std::string experiments = sourceDir() + "/experiments/zo/";
    bool ok = true;
    {  // a first launch: the empty database says what to do
        MainWindow first(work + QStringLiteral("/empty.db"));
        first.resize(1280, 800);
        first.show();
        waitFor([&] { return !first.runsView()->emptyHint().isEmpty(); }, 20000);
        waitFor([] { return false; }, 300);
        ok = grab(first, out.filePath(QStringLiteral("first-launch.png"))) && ok;
    }
    {
        store::Store db(dbPath);
        LineObserver observer;
        const std::vector<std::string> shortRun = {"zo.steps=150", "zo.eval_every=25",
                                                   "zo.eval_limit=100"};
        const std::vector<std::pair<std::string, std::string>> runs = {
            {"mezo-lora-sentiment.toml", "MeZO LoRA"},
            {"mezo-full-sentiment.toml", "MeZO full"},
            {"zo-adam-lora-sentiment.toml", "ZO-Adam LoRA"},
            {"adazeta-lora-sentiment.toml", "AdaZeta LoRA"},
        };
        for (const auto& [file, name] : runs) {
            std::printf("short run: %s\n", name.c_str());
            const auto outcome = runQuietly(db, experiments + file, shortRun, name, &observer);
            if (outcome.status != store::RunStatus::Finished) {
                std::fprintf(stderr, "%s: %s\n", name.c_str(), outcome.error.c_str());
                return 1;
            }
        }
    }
    MainWindow window(QString::fromStdString(dbPath));
    window.resize(1280, 800);
    window.show();
    RunsView* runs = window.runsView();
    waitFor([&] { return runs->model()->rowCount() >= 4; }, 20000);
    runs->table()->selectRow(0);
    window.tabs()->setCurrentIndex(0);  // Runs (the queue above the table)
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("runs.png"))) && ok;

    ExperimentForm* form = window.form();
    window.tabs()->setCurrentWidget(form);
    const auto presets = methodPresets();
    for (int i = 0; i < presets.size(); ++i)
        if (presets[i].file.endsWith(QStringLiteral("adazeta-lora-sentiment.toml")))
            form->selectPreset(i);
    form->setRunName(QStringLiteral("AdaZeta LoRA (from the form)"));
    form->setFieldText(QStringLiteral("zo.steps"), QStringLiteral("400"));
    form->setFieldText(QStringLiteral("zo.eval_every"), QStringLiteral("40"));
    form->setFieldText(QStringLiteral("zo.eval_limit"), QStringLiteral("100"));
    form->setFieldText(QStringLiteral("zo.batch_size"),
                       QStringLiteral("32"));  // two epochs: Q grows
    form->validate();
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("new-experiment.png"))) && ok;

    LiveView* live = window.liveView();
    form->startNow();
    waitFor([&] { return live->chartTitled(QObject::tr("Loss"))->pointCount() >= 150; }, 400000);
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("live-run.png"))) && ok;
    {  // the same charts on a log y axis: decade ticks, labelled
        ChartOptions logY = live->controls()->options();
        logY.logY = true;
        live->controls()->setOptions(logY);
        waitFor([] { return false; }, 400);
        ok = grab(window, out.filePath(QStringLiteral("live-run-log-y.png"))) && ok;
        logY.logY = false;
        live->controls()->setOptions(logY);
    }
    live->stop();
    waitFor([&] { return !window.controller()->busy(); }, 60000);

    window.tabs()->setCurrentIndex(0);  // Runs (the queue above the table)
    runs->refresh();
    waitFor([&] { return runs->model()->rowCount() >= 5; }, 10000);
    QVector<qint64> ids;
    for (int r = 0; r < runs->model()->rowCount(); ++r)
        if (runs->model()->row(r).status == QStringLiteral("finished"))
            ids << runs->model()->row(r).id;
    CompareView* compare = window.compareView();
    compare->compare(ids);
    window.tabs()->setCurrentWidget(compare);
    waitFor([&] { return compare->runIds() == ids && compare->chart()->lineCount() >= 2; }, 20000);
    compare->setMetric(QString::fromLatin1(metrics::kDevAccuracy));
    compare->setTarget(QStringLiteral("0.55"));
    waitFor([] { return false; }, 300);
    ok = grab(window, out.filePath(QStringLiteral("compare.png"))) && ok;

    compare->setMetric(QString::fromLatin1(metrics::kTrainLoss));
    ExportDialog* dialog = window.exportDialog(compare->chart());
    ExportOptions o = dialog->options();
    o.path = out.filePath(QStringLiteral("compare-train-loss.png"));
    o.format = ExportOptions::Format::Png;
    o.title = QObject::tr("Training loss, four ZO runs (built-in model, sentiment)");
    o.widthMm = 120;
    o.heightMm = 70;
    o.dpi = 200;
    dialog->setOptions(o);
    dialog->show();
    waitFor([] { return false; }, 300);
    ok = grab(*dialog, out.filePath(QStringLiteral("export-dialog.png"))) && ok;
    dialog->exportNow();
    ok = dialog->lastError().isEmpty() && ok;
    std::printf("wrote %s\n", o.path.toStdString().c_str());

    // pruning (issue #7): the built-in model at 2:4 by four methods, in a database of its own
    const std::string pruneDb = (work + QStringLiteral("/prune.db")).toStdString();
    {
        store::Store db(pruneDb);
        LineObserver observer;
        const std::string config = sourceDir() + "/experiments/prune/prune-tiny.toml";
        for (const char* method : {"magnitude", "wanda", "sparsegpt", "wandapp"}) {
            std::printf("prune: %s 2:4\n", method);
            const auto outcome = runQuietly(db, config,
                                            {std::string("prune.method=") + method, "prune.calib_samples=64",
                                             "prune.eval_windows=200", "prune.save=false"},
                                            std::string(method) + " 2:4", &observer);
            if (outcome.status != store::RunStatus::Finished) {
                std::fprintf(stderr, "%s: %s\n", method, outcome.error.c_str());
                return 1;
            }
        }
    }
    window.openDatabase(QString::fromStdString(pruneDb));
    waitFor([&] { return runs->model()->rowCount() == 4; }, 20000);
    window.tabs()->setCurrentIndex(0);  // Runs (the queue above the table)
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("runs-prune.png"))) && ok;  // the result column
    window.liveView()->showRun(4);  // Wanda++
    window.tabs()->setCurrentWidget(window.liveView());
    waitFor([&] { return window.liveView()->runId() == 4; }, 20000);
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("prune-run.png"))) && ok;
    compare->compare({1, 2, 3, 4});
    window.tabs()->setCurrentWidget(compare);
    waitFor([&] { return compare->runIds().size() == 4 && compare->chart()->lineCount() >= 1; }, 20000);
    compare->setMetric(QString::fromStdString(run::methodView("prune").panels.front().match.lines.front().key));
    waitFor([] { return false; }, 400);
    ok = grab(window, out.filePath(QStringLiteral("prune-compare.png"))) && ok;

    // SharpZO and the loss landscape (issue #16): short runs in a database of their own
    const std::string searchDb = (work + QStringLiteral("/search.db")).toStdString();
    {
        store::Store db(searchDb);
        LineObserver observer;
        std::printf("sharpzo: 8 generations, 120 sparse ZO steps\n");
        auto outcome = runQuietly(db, sourceDir() + "/experiments/sharpzo/sharpzo-prompt-sentiment.toml",
                                  {"sharpzo.dim=16", "sharpzo.popsize=8", "sharpzo.generations=8",
                                   "sharpzo.steps=120", "sharpzo.eval_every=20", "sharpzo.eval_limit=60",
                                   "sharpzo.batch_size=8", "sharpzo.mask_every=40", "sharpzo.max_forwards=0",
                                   "sharpzo.sharpness_probes=4"},
                                  "SharpZO (short)", &observer);
        if (outcome.status != store::RunStatus::Finished) {
            std::fprintf(stderr, "sharpzo: %s\n", outcome.error.c_str());
            return 1;
        }
        std::printf("landscape: 21 x 21\n");
        outcome = runQuietly(db, sourceDir() + "/experiments/landscape/builtin-2d-sentiment.toml",
                             {"landscape.points=21", "landscape.batch_size=8", "landscape.sharpness_probes=4",
                              "landscape.timing_forwards=2"},
                             "landscape 21x21", &observer);
        if (outcome.status != store::RunStatus::Finished) {
            std::fprintf(stderr, "landscape: %s\n", outcome.error.c_str());
            return 1;
        }
    }
    window.openDatabase(QString::fromStdString(searchDb));
    waitFor([&] { return runs->model()->rowCount() == 2; }, 20000);
    for (const auto& [id, file] : {std::pair<qint64, const char*>{1, "sharpzo-run.png"}, {2, "landscape-run.png"}}) {
        window.liveView()->showRun(id);
        window.tabs()->setCurrentWidget(window.liveView());
        waitFor([&, id = id] { return window.liveView()->runId() == id; }, 20000);
        waitFor([] { return false; }, 600);
        ok = grab(window, out.filePath(QString::fromLatin1(file))) && ok;
    }
    // the landscape in 3-D (its heatmap where this display has no OpenGL)
    CompareView* view = window.compareView();
    view->compare({2});
    window.tabs()->setCurrentWidget(view);
    view->tabs()->setCurrentWidget(view->landscape());
    waitFor([&] { return !view->landscape()->landscapes().isEmpty(); }, 20000);
    waitFor([] { return false; }, 1500);
    if (view->landscape()->surfaceShown()) {
        // the 3-D graph is a window of its own, which QWidget::grab leaves blank: the screen's pixels
        const QString file = out.filePath(QStringLiteral("landscape-3d.png"));
        const bool saved = window.screen()->grabWindow(window.winId()).save(file);
        std::printf("%s %s\n", saved ? "wrote" : "could not write", file.toStdString().c_str());
        ok = saved && ok;
    } else {
        ok = grab(window, out.filePath(QStringLiteral("landscape-3d.png"))) && ok;
    }
    if (!view->landscape()->surfaceShown())
        std::printf("landscape-3d.png: the heatmap stands in (no OpenGL on this display; take the shots under "
                    "Xvfb with QT_QPA_PLATFORM=xcb for the 3-D surface)\n");
    ok = researchScreenshots(window, out, work) && ok;
    QDir(work).removeRecursively();
    return ok ? 0 : 1;
}

}  // namespace frugal::ui
