// The workbench's research views: groups of runs with bands (the statistics against scipy's
// figures, the bands against the stored series), the runs table's group rows and config columns,
// the two-group test. Offscreen Qt, runs written into a temporary database.

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "common/group_stats.h"
#include "compare_view.h"
#include "dashboard_view.h"
#include "experiment_form.h"
#include "landscape_view.h"
#include "live_view.h"
#include "main_window.h"
#include "queue_panel.h"
#include "run/method_registry.h"
#include "run/provenance.h"
#include "run/runner.h"
#include "run/workspace.h"
#include "run_controller.h"
#include "sweep_view.h"
#include "vector_plot.h"
#include "group_controls.h"
#include "metric_chart.h"
#include "run_groups.h"
#include "runs_view.h"
#include "store/store.h"
#include "ui_test_support.h"

using namespace frugal;
using namespace frugal::ui;
using namespace frugal::ui::uitest;

namespace {

bool near(double a, double b, double rel) { return std::abs(a - b) <= rel * std::max(1.0, std::abs(b)); }

// Two configurations (lr 1e-3 and 1e-4), three seeds each; loss series of different lengths (the
// third seed of the first stopped early), dev accuracy as each run's result.
struct SeedDb {
    QTemporaryDir dir;
    QString path = dir.filePath(QStringLiteral("runs.db"));
    std::vector<int64_t> ids;
    std::vector<std::vector<double>> losses = {
        {2.0, 1.6, 1.3, 1.1}, {2.2, 1.5, 1.2, 1.0}, {1.9, 1.7, 1.4},  // lr 1e-3, seeds 1-3
        {2.1, 2.0, 1.9, 1.8}, {2.0, 1.9, 1.9, 1.7}, {2.3, 2.1, 1.8, 1.8}};  // lr 1e-4, seeds 1-3
    std::vector<double> accuracy = {0.80, 0.83, 0.79, 0.70, 0.74, 0.71};
    SeedDb() {
        store::Store db(path.toStdString());
        for (size_t r = 0; r < losses.size(); ++r) {
            const std::string lr = r < 3 ? "0.001" : "0.0001";
            ids.push_back(addRun(db, r < 3 ? "mezo-fast" : "mezo-slow",
                                 {{"zo.lr", lr}, {"zo.seed", std::to_string(r % 3 + 1)}}, losses[r]));
            db.logMetric(ids.back(), "dev/accuracy", 30, accuracy[r]);
        }
    }
};

// A MeZO job on the built-in model of STEPS steps (evaluated once, on 8 examples).
RunJob shortJob(const QString& name, const std::string& steps) {
    RunJob j;
    j.name = name;
    auto prepared = std::make_shared<run::PreparedRun>(run::prepareRun(
        (qEnvironmentVariable("FRUGAL_SOURCE_DIR") + QStringLiteral("/experiments/zo/mezo-full-sentiment.toml")).toStdString(),
        {"zo.steps=" + steps, "zo.eval_every=" + steps, "zo.eval_limit=8"}, {}));
    j.newRun = run::newRunFor(*prepared, run::collectProvenance({"frugal"}, run::sourceTree().string()), name.toStdString(),
                              "workbench");
    j.prepared = std::move(prepared);
    return j;
}

}  // namespace

class TestResearchViews : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName(QStringLiteral("frugal-test-research"));
        QSettings().clear();
    }

    // Student's t, Welch's and the paired test against scipy 1.16 (stats.t.ppf, stats.t.cdf,
    // ttest_ind(equal_var=False), ttest_rel) on the same numbers.
    void statisticsMatchScipy() {
        const std::vector<std::pair<double, double>> quantiles = {
            {1, 12.706204736174698}, {2, 4.302652729749464}, {4, 2.7764451051977934},
            {9, 2.2621571628540993}, {30, 2.0422724563012373}};
        for (const auto& [df, want] : quantiles)
            QVERIFY2(near(stats::studentTQuantile(0.975, df), want, 1e-9), qPrintable(QString::number(df)));
        QVERIFY(near(stats::studentTCdf(-1.5, 5.882), 0.09262701417961303, 1e-9));
        QVERIFY(near(stats::studentTCdf(0.3, 2.5), 0.6063288142524014, 1e-9));
        const std::vector<double> a = {0.61, 0.64, 0.58, 0.66}, b = {0.55, 0.57, 0.56, 0.60};
        const stats::TwoGroupTest welch = stats::compareGroups(a, b, false);
        QVERIFY(welch.valid);
        QVERIFY(near(welch.t, 2.552888830190289, 1e-9));
        QVERIFY(near(welch.df, 4.996039603960389, 1e-9));
        QVERIFY(near(welch.p, 0.051123742198516564, 1e-8));
        const stats::TwoGroupTest paired = stats::compareGroups(a, b, true);
        QVERIFY(near(paired.t, 4.735369976417808, 1e-9));
        QCOMPARE(paired.df, 3.0);
        QVERIFY(near(paired.p, 0.0178540164548454, 1e-8));
        // Cohen's d: the difference over the pooled sd (0.035 and 0.0216 from numpy, ddof=1)
        const double pooled = std::sqrt((3 * 0.035 * 0.035 + 3 * 0.021602468994692835 * 0.021602468994692835) / 6);
        QVERIFY(near(welch.effect, (0.6225 - 0.57) / pooled, 1e-9));
        QVERIFY(!stats::compareGroups({1.0}, {2.0, 3.0}, false).valid);  // too few runs: says why
        QVERIFY(!stats::compareGroups({1.0, NAN}, {2.0, 3.0}, false).valid);
    }

    // A band at the steps every run has; each spread as its definition says.
    void bandsAtTheStepsAllRunsHave() {
        std::vector<stats::Series> runs(3);
        runs[0] = {{0, 10, 20}, {1, 2, 3}, {0, 1, 2}};
        runs[1] = {{0, 10, 20, 30}, {3, 4, 5, 6}, {0, 1, 2, 3}};
        runs[2] = {{0, 10}, {2, 9, }, {0, 1}};
        const stats::Band std = stats::aggregate(runs, stats::Center::Mean, stats::Spread::Std);
        QCOMPARE(std.step, (std::vector<double>{0, 10}));
        QCOMPARE(std.center, (std::vector<double>{2, 5}));
        QVERIFY(near(std.lo[0], 1, 1e-15) && near(std.hi[0], 3, 1e-15));  // sd of 1, 3, 2 is 1
        const double sd10 = std::sqrt(((2 - 5.0) * (2 - 5.0) + 1 + 16) / 2);
        QVERIFY(near(std.hi[1] - std.center[1], sd10, 1e-15));
        const stats::Band sem = stats::aggregate(runs, stats::Center::Mean, stats::Spread::Sem);
        QVERIFY(near(sem.hi[1] - sem.center[1], sd10 / std::sqrt(3.0), 1e-15));
        const stats::Band ci = stats::aggregate(runs, stats::Center::Mean, stats::Spread::Ci95);
        QVERIFY(near(ci.hi[1] - ci.center[1], 4.302652729749464 * sd10 / std::sqrt(3.0), 1e-9));
        const stats::Band mm = stats::aggregate(runs, stats::Center::Median, stats::Spread::MinMax);
        QCOMPARE(mm.center, (std::vector<double>{2, 4}));
        QCOMPARE(mm.lo, (std::vector<double>{1, 2}));
        QCOMPARE(mm.hi, (std::vector<double>{3, 9}));
        runs[1].value[0] = NAN;  // NaN is reported, never averaged away
        QVERIFY(std::isnan(stats::aggregate(runs, stats::Center::Mean, stats::Spread::Std).center[0]));
    }

    // Compare groups the seeds of one configuration by default, draws each group's mean with a
    // band whose values are the stored series' mean ± std (then 95 % CI), N in the legend, the
    // runs faint on request; the export's copy keeps the band; the two-group test is paired (the
    // seeds match).
    void compareDrawsSeedGroupsWithBands() {
        SeedDb seeds;
        ServiceThread st(seeds.path);
        CompareView view(st.service);
        view.resize(1100, 760);
        QSignalSpy loaded(&view, &CompareView::loadedRuns);
        view.compare(QVector<qint64>(seeds.ids.begin(), seeds.ids.end()));
        QVERIFY(loaded.wait(10000));
        view.setMetric(QStringLiteral("train/loss"));
        QCOMPARE(view.groups().size(), 2);
        MetricChart* chart = view.chart();
        QCOMPARE(chart->lineCount(), 2);
        QCOMPARE(chart->legendLabels().size(), 2);
        QVERIFY2(chart->legendLabels().join(QLatin1Char('|')).contains(QStringLiteral("N=3, mean ± std")),
                 qPrintable(chart->legendLabels().join(QLatin1Char('|'))));
        // the band against the series read back from the store
        store::Store db(seeds.path.toStdString(), store::Store::Access::Read);
        const auto check = [&](int line, const std::vector<int64_t>& ids, stats::Spread spread) {
            std::vector<std::vector<store::MetricPoint>> stored;
            for (int64_t id : ids) stored.push_back(db.metric(id, "train/loss"));
            size_t common = stored[0].size();
            for (const auto& s : stored) common = std::min(common, s.size());
            if (chart->pointCount(line) != common || !chart->hasBand(line)) return false;
            for (size_t i = 0; i < common; ++i) {
                double mean = 0, ss = 0;
                for (const auto& s : stored) mean += s[i].value;
                mean /= static_cast<double>(stored.size());
                for (const auto& s : stored) ss += (s[i].value - mean) * (s[i].value - mean);
                double half = std::sqrt(ss / static_cast<double>(stored.size() - 1));
                if (spread == stats::Spread::Ci95) half *= 4.302652729749464 / std::sqrt(3.0);
                const double step = static_cast<double>(stored[0][i].step);
                if (!near(chart->valueAt(line, step), mean, 1e-12) || !near(chart->bandLo(line)[i], mean - half, 1e-12) ||
                    !near(chart->bandHi(line)[i], mean + half, 1e-12))
                    return false;
            }
            return true;
        };
        const std::vector<int64_t> fast(seeds.ids.begin(), seeds.ids.begin() + 3), slow(seeds.ids.begin() + 3, seeds.ids.end());
        QVERIFY(check(0, fast, stats::Spread::Std));
        QCOMPARE(chart->pointCount(0), size_t{3});  // the third seed stopped at step 20
        QVERIFY(check(1, slow, stats::Spread::Std));
        GroupSpec spec = view.groupControls()->spec();
        spec.spread = stats::Spread::Ci95;
        view.groupControls()->setSpec(spec);
        QVERIFY(check(0, fast, stats::Spread::Ci95));
        QVERIFY(chart->legendLabels().front().contains(QStringLiteral("95% CI")));
        // the export dialog's copy and the CSV hold the band
        const auto copy = chart->snapshot();
        QVERIFY(copy->hasBand(0));
        QCOMPARE(copy->bandHi(0), chart->bandHi(0));
        const QString firstRow = chart->csv().split(QLatin1Char('\n'))[1];  // run,line,step,wall,value,lo,hi
        QVERIFY2(near(firstRow.section(QLatin1Char(','), -1).toDouble(), chart->bandHi(0)[0], 1e-15), qPrintable(firstRow));
        QVERIFY(near(firstRow.section(QLatin1Char(','), -2, -2).toDouble(), chart->bandLo(0)[0], 1e-15));
        // each run faint under its group: six more lines, none in the legend
        spec.showRuns = true;
        view.groupControls()->setSpec(spec);
        QCOMPARE(chart->lineCount(), 8);
        QCOMPARE(chart->legendLabels().size(), 2);
        int faint = 0;
        for (int i = 0; i < chart->lineCount(); ++i) faint += chart->lineFaint(i);
        QCOMPARE(faint, 6);
        // the two-group test on the final values, paired by seed
        view.setMetric(QStringLiteral("dev/accuracy"));
        view.setTestGroups(0, 1);
        std::vector<double> d;
        for (int i = 0; i < 3; ++i) d.push_back(seeds.accuracy[static_cast<size_t>(i)] - seeds.accuracy[static_cast<size_t>(i) + 3]);
        const double md = (d[0] + d[1] + d[2]) / 3;
        const double sd = std::sqrt(((d[0] - md) * (d[0] - md) + (d[1] - md) * (d[1] - md) + (d[2] - md) * (d[2] - md)) / 2);
        const QString t = QString::number(md / (sd / std::sqrt(3.0)), 'f', 2);
        QVERIFY2(view.testText().contains(QStringLiteral("paired t(2) = %1").arg(t)), qPrintable(view.testText()));
        QVERIFY(view.testText().contains(QStringLiteral("N = 3 pairs")));
        // no grouping: a line per run again
        spec.by = GroupBy::None;
        view.groupControls()->setSpec(spec);
        QCOMPARE(chart->lineCount(), 6);
    }

    // The runs table: "Group seeds" shows each configuration's seeds as one row (N, and the mean ±
    // std of the runs' results); selecting it selects its runs; a config key as a column.
    void runsTableGroupsSeeds() {
        SeedDb seeds;
        ServiceThread st(seeds.path);
        RunsView view(st.service);
        view.resize(1200, 500);
        QSignalSpy refreshed(&view, &RunsView::refreshed);
        view.refresh();
        QVERIFY(refreshed.wait(10000));
        QCOMPARE(view.model()->rowCount(), 6);
        view.setGrouped(true);
        QCOMPARE(view.model()->rowCount(), 2);
        int fastRow = -1;
        for (int r = 0; r < 2; ++r)
            if (view.model()->row(r).name == QStringLiteral("mezo-fast")) fastRow = r;
        QVERIFY(fastRow >= 0);
        QVERIFY(view.model()->isGroupRow(fastRow));
        const QString result = view.model()->data(view.model()->index(fastRow, RunsModel::Result), Qt::DisplayRole).toString();
        const double mean = (0.80 + 0.83 + 0.79) / 3;
        const double sd = std::sqrt(((0.80 - mean) * (0.80 - mean) + (0.83 - mean) * (0.83 - mean) + (0.79 - mean) * (0.79 - mean)) / 2);
        QVERIFY2(result == QStringLiteral("dev %1 ± %2 (N=3)").arg(QString::number(mean, 'g', 4), QString::number(sd, 'g', 4)),
                 qPrintable(result));
        QCOMPARE(view.model()->data(view.model()->index(fastRow, RunsModel::Result), Qt::UserRole).toDouble(), mean);
        view.selectIds({seeds.ids[0]});
        QVector<qint64> selected = view.selectedIds();
        std::sort(selected.begin(), selected.end());
        QCOMPARE(selected, (QVector<qint64>{seeds.ids[0], seeds.ids[1], seeds.ids[2]}));
        // the refresh keeps the groups
        view.refresh();
        QVERIFY(refreshed.wait(10000));
        QCOMPARE(view.model()->rowCount(), 2);
        view.setGrouped(false);
        QCOMPARE(view.model()->rowCount(), 6);
        view.model()->setConfigColumns({QStringLiteral("zo.lr")});
        QCOMPARE(view.model()->headerData(RunsModel::Count, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("zo.lr"));
        const int row = view.model()->rowOfId(seeds.ids[4]);
        QCOMPARE(view.model()->data(view.model()->index(row, RunsModel::Count), Qt::DisplayRole).toString(), QStringLiteral("0.0001"));
        view.model()->setConfigColumns({});
    }

    // A sweep of 9 runs (lr × eps): parallel coordinates with an axis per varied key (lr on a log
    // axis: it spans two decades) and per result; a brush on lr keeps its three runs, in the
    // scatter too; hovering a line highlights its run; a drag with the mouse brushes.
    void sweepShowsParallelCoordinatesAndAScatter() {
        QTemporaryDir dir;
        const QString dbFile = dir.filePath(QStringLiteral("runs.db"));
        std::vector<int64_t> ids;
        const std::vector<std::string> lrs = {"1e-05", "0.0001", "0.001"}, epss = {"0.001", "0.01", "0.1"};
        {
            store::Store db(dbFile.toStdString());
            for (size_t i = 0; i < 3; ++i)
                for (size_t j = 0; j < 3; ++j) {
                    ids.push_back(addRun(db, "lr=" + lrs[i] + " eps=" + epss[j], {{"zo.lr", lrs[i]}, {"zo.eps", epss[j]}},
                                         {2.0, 1.5 - 0.1 * static_cast<double>(i)}));
                    db.logMetric(ids.back(), "dev/accuracy", 10, 0.5 + 0.1 * static_cast<double>(i) + 0.01 * static_cast<double>(j));
                }
        }
        ServiceThread st(dbFile);
        CompareView view(st.service);
        view.resize(1280, 800);
        view.show();
        QSignalSpy loaded(&view, &CompareView::loadedRuns);
        view.compare(QVector<qint64>(ids.begin(), ids.end()));
        QVERIFY(loaded.wait(10000));
        view.tabs()->setCurrentWidget(view.sweep());
        ParallelCoordinates* pc = view.sweep()->coordinates();
        QStringList names;
        for (int a = 0; a < pc->axisCount(); ++a) names << pc->axis(a).name;
        QVERIFY2(names.startsWith(QStringLiteral("zo.lr")) && names.contains(QStringLiteral("zo.eps")) &&
                     names.contains(QStringLiteral("dev/accuracy")),
                 qPrintable(names.join(QLatin1Char(' '))));
        const int lr = static_cast<int>(names.indexOf(QStringLiteral("zo.lr")));
        QVERIFY(pc->axis(lr).log);  // 1e-5 to 1e-3
        QCOMPARE(pc->selectedIds().size(), 9);
        pc->brush(lr, 5e-5, 2e-4);
        QCOMPARE(pc->selectedIds(), (QVector<qint64>{ids[3], ids[4], ids[5]}));
        QVERIFY(view.sweep()->caption().startsWith(QStringLiteral("3 of 9")));
        // the scatter: dev accuracy against lr, the brushed runs in colour
        view.sweep()->setScatter(QStringLiteral("zo.lr"), QStringLiteral("dev/accuracy"));
        QCOMPARE(view.sweep()->scatter()->xAxis().name, QStringLiteral("zo.lr"));
        QCOMPARE(view.sweep()->scatter()->yAxis().values.size(), size_t{9});
        QCOMPARE(view.sweep()->scatter()->yAxis().values[4], 0.61);
        // hovering run 7's line between the first two axes highlights it
        const QPointF a = pc->pointOf(7, 0), b = pc->pointOf(7, 1);
        QTest::mouseMove(pc, (a + (b - a) * 0.2).toPoint());
        QTRY_COMPARE(pc->highlighted(), ids[7]);
        // a drag along the eps axis brushes it (the top two values: 0.01 and 0.1)
        const int eps = static_cast<int>(names.indexOf(QStringLiteral("zo.eps")));
        pc->clearBrushes();
        const QPointF top = pc->pointOf(2, eps) - QPointF(0, 4), middle = pc->pointOf(1, eps) + QPointF(0, 4);
        QTest::mousePress(pc, Qt::LeftButton, {}, top.toPoint());
        QMouseEvent move(QEvent::MouseMove, middle, pc->mapToGlobal(middle), Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(pc, &move);
        QTest::mouseRelease(pc, Qt::LeftButton, {}, middle.toPoint());
        QVERIFY(pc->brushed(eps));
        QCOMPARE(pc->selectedIds().size(), 6);
        for (qint64 id : pc->selectedIds()) QVERIFY(id != ids[0] && id != ids[3] && id != ids[6]);  // eps 0.001 out
    }

    // The dashboard: a panel per metric, grouped as the overlay; zooming one zooms all (the x
    // range), hovering one puts the crosshair at the same x in the others.
    void dashboardPanelsShareTheirX() {
        SeedDb seeds;
        {
            store::Store db(seeds.path.toStdString());
            for (size_t r = 0; r < seeds.ids.size(); ++r)
                for (int step = 0; step <= 30; step += 10) db.logMetric(seeds.ids[r], "dev/loss", step, 1.0 - 0.01 * step);
        }
        ServiceThread st(seeds.path);
        CompareView view(st.service);
        view.resize(1280, 800);
        view.show();
        QSignalSpy loaded(&view, &CompareView::loadedRuns);
        view.compare(QVector<qint64>(seeds.ids.begin(), seeds.ids.end()));
        QVERIFY(loaded.wait(10000));
        view.tabs()->setCurrentWidget(view.dashboard());
        DashboardView* d = view.dashboard();
        QCOMPARE(d->panelKeys(), (QStringList{QStringLiteral("dev/loss"), QStringLiteral("train/loss")}));
        for (MetricChart* p : d->panels()) QCOMPARE(p->legendLabels().size(), 2);  // two groups of seeds
        bool band = false;
        for (int line = 0; line < d->panels()[1]->lineCount(); ++line) band = band || d->panels()[1]->hasBand(line);
        QVERIFY(band);
        d->panels()[1]->zoomTo(5, 25, 0, 3);
        for (MetricChart* p : d->panels()) {
            QCOMPARE(p->visibleRange().left(), 5.0);
            QCOMPARE(p->visibleRange().right(), 25.0);
        }
        d->panels()[0]->resetZoom();
        QVERIFY(!d->panels()[1]->zoomed());
        QTRY_VERIFY(d->panels()[1]->isVisible());
        d->panels()[1]->redrawNow();
        const QPointF at = d->panels()[1]->positionOf(10, 1.5);
        QTest::mouseMove(d->panels()[1], at.toPoint());
        QTRY_VERIFY(d->panels()[1]->hover().valid);
        QCOMPARE(d->panels()[0]->crosshairX(), d->panels()[1]->hover().x);
        // dev/accuracy is one number a run: a row of numbers with each group's mean ± std
        QVERIFY2(d->numbersText().contains(QStringLiteral("dev/accuracy")) &&
                     d->numbersText().contains(QStringLiteral("mezo-fast <b>%1 ± ").arg((0.80 + 0.83 + 0.79) / 3, 0, 'g', 4)),
                 qPrintable(d->numbersText()));
        d->setFilter(QStringLiteral("dev/"));
        QCOMPARE(d->panels().size(), 1);  // dev/loss; dev/accuracy among the numbers
    }

    // The landscape: two runs' 2-D slices on one scale, the cuts through the centre are the grid's
    // centre row and column, the difference is A − B, the PNG is written; the heatmap's axes are α
    // and β with the centre marked, and hovering a cell says its value.
    void landscapeInThreeDWithCutsAndDifference() {
        QTemporaryDir dir;
        const QString dbFile = dir.filePath(QStringLiteral("runs.db"));
        const int n = 5;
        const std::vector<float> axis = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f};
        std::vector<int64_t> ids;
        std::vector<std::vector<float>> grids;
        {
            store::Store db(dbFile.toStdString());
            for (int r = 0; r < 2; ++r) {
                ids.push_back(addRun(db, r == 0 ? "flat" : "sharp", {{"zo.lr", r == 0 ? "0.001" : "0.01"}}, {1.0}));
                std::vector<float> grid;
                for (int b = 0; b < n; ++b)
                    for (int a = 0; a < n; ++a)
                        grid.push_back(1.0f + (r + 1) * axis[static_cast<size_t>(a)] * axis[static_cast<size_t>(a)] +
                                       0.5f * axis[static_cast<size_t>(b)] * axis[static_cast<size_t>(b)]);
                db.logVector(ids.back(), "landscape/axis", 0, {n}, axis);
                db.logVector(ids.back(), "landscape/slice2d", 0, {n, n}, grid);
                grids.push_back(grid);
            }
        }
        ServiceThread st(dbFile);
        CompareView view(st.service);
        view.resize(1280, 800);
        view.show();
        QSignalSpy loaded(&view, &CompareView::loadedRuns);
        view.compare({ids[0], ids[1]});
        QVERIFY(loaded.wait(10000));
        view.tabs()->setCurrentWidget(view.landscape());
        LandscapeView* l = view.landscape();
        QCOMPARE(l->landscapes().size(), 2);
        QCOMPARE(l->scaleLo(), 1.0);
        QCOMPARE(l->scaleHi(), static_cast<double>(1.0f + 2.0f + 0.5f));  // the sharp run's corner
        // the cut along α at β = 0 is the grid's centre row, of each run
        QCOMPARE(l->cutAlpha()->lineCount(), 2);
        for (int a = 0; a < n; ++a) {
            QCOMPARE(l->cutAlpha()->valueAt(1, axis[static_cast<size_t>(a)]), static_cast<double>(grids[1][static_cast<size_t>(2 * n + a)]));
            QCOMPARE(l->cutBeta()->valueAt(0, axis[static_cast<size_t>(a)]), static_cast<double>(grids[0][static_cast<size_t>(a * n + 2)]));
        }
        l->showDifference(1, 0);
        for (size_t i = 0; i < grids[0].size(); ++i)
            QCOMPARE(l->shown().loss[i], static_cast<double>(grids[1][i]) - static_cast<double>(grids[0][i]));
        QVERIFY(l->caption().contains(QStringLiteral("symmetric about 0")));
        const QString png = dir.filePath(QStringLiteral("figs/landscape.png"));
        QCOMPARE(l->exportPng(png, QSize(800, 600)), QString());
        QVERIFY(QImage(png).width() > 100);
        // the heatmap side by side: α and β with their values, the centre marked, a cell's value
        view.setVector(QStringLiteral("landscape/slice2d"));
        VectorPlot* plot = view.vectorPlots().front();
        QCOMPARE(plot->heatmapAxes().columnTitle, QStringLiteral("α"));
        QVERIFY(plot->heatmapAxes().markCentre);
        QCOMPARE(plot->cellText(QPoint(3, 1)), QStringLiteral("α 0.5, β -0.5: %1").arg(static_cast<double>(grids[0][static_cast<size_t>(1 * n + 3)]), 0, 'g', 5));
        qInfo("3-D surface shown: %s", l->surfaceShown() ? "yes" : "no (no OpenGL here)");
    }

    // Per-matrix heatmaps (a pruning run's sparsity): layers down, the block's matrices along,
    // named from the run's log.
    void perMatrixHeatmapNamesLayersAndMatrices() {
        const QStringList names = matrixNamesFromLogs({QStringLiteral("info: pruning"),
                                                       QStringLiteral("info: matrix order: q_proj, k_proj, v_proj")});
        QCOMPARE(names, (QStringList{QStringLiteral("q_proj"), QStringLiteral("k_proj"), QStringLiteral("v_proj")}));
        VectorPlot plot;
        plot.resize(500, 300);
        VectorFrame f;
        f.shape = {2, 3};
        f.data = {0.5f, 0.4f, 0.6f, 0.55f, 0.45f, 0.5f};
        plot.setHeatmapAxes(heatmapAxesFor(QStringLiteral("prune/sparsity_per_matrix"), {}, names, 2, 3));
        plot.setFrame(QStringLiteral("prune/sparsity_per_matrix"), f);
        QCOMPARE(plot.cellText(QPoint(1, 1)), QStringLiteral("k_proj, layer 1: 0.45"));
    }

    // The Live view's "other seeds": behind the run's loss, the mean ± std of the other seeds of
    // its configuration, read from the store (the values checked against their stored series);
    // off again, the run alone.
    void liveViewDrawsTheOtherSeedsAsABand() {
        SeedDb seeds;
        MainWindow window(seeds.path);
        window.resize(1280, 800);
        window.show();
        LiveView* live = window.liveView();
        QSignalSpy shown(live, &LiveView::runShown);
        live->showRun(seeds.ids[3]);  // lr 1e-4, seed 1: its siblings are runs 5 and 6
        QVERIFY(shown.wait(10000));
        MetricChart* loss = live->chartTitled(QStringLiteral("Loss"));
        QVERIFY(loss);
        QCOMPARE(loss->lineCount(), 1);
        live->seedsBox()->setChecked(true);
        QTRY_COMPARE(live->siblingCount(), 2);
        QTRY_COMPARE(loss->lineCount(), 2);
        QVERIFY(loss->lineLabel(1).contains(QStringLiteral("other seeds (N=2, mean ± std)")));
        QVERIFY(loss->hasBand(1));
        for (size_t i = 0; i < 4; ++i) {
            const double a = seeds.losses[4][i], b = seeds.losses[5][i], mean = (a + b) / 2;
            const double sd = std::abs(a - b) / std::sqrt(2.0);
            QVERIFY(near(loss->valueAt(1, static_cast<double>(i) * 10), mean, 1e-12));
            QVERIFY(near(loss->bandLo(1)[i], mean - sd, 1e-12));
            QVERIFY(near(loss->bandHi(1)[i], mean + sd, 1e-12));
        }
        live->seedsBox()->setChecked(false);
        QTRY_COMPARE(loss->lineCount(), 1);
    }

    // A resumed run is one continuous run: the steps its later attempt logged again replace the
    // first attempt's (the store's merge), the steps the killed attempt had gone past and the new
    // one has not reached are left out (their wall times fall back: no zig-zag on a wall-time
    // axis), and the Live view marks where the attempt took over (run/resumed_at).
    void aResumedRunIsOneContinuousRun() {
        QTemporaryDir dir;
        const QString dbFile = dir.filePath(QStringLiteral("runs.db"));
        int64_t id = 0;
        {
            store::Store db(dbFile.toStdString());
            id = createRunningRun(db, "resumed", "zo");
            const int64_t t0 = 1'700'000'000'000;
            for (int step = 0; step <= 9; ++step) {  // the first attempt, killed after step 9
                db.logMetric(id, "train/loss", step, 2.0 - 0.1 * step, t0 + step * 1000);
                db.logMetric(id, "sys/rss_mb", step, 500.0 + step, t0 + step * 1000);
            }
            db.flush();
            db.logMetric(id, "run/resumed_at", 4, 4, t0 + 60'000);
            for (int step = 4; step <= 6; ++step) {  // resumed from the checkpoint at step 4, now at 6
                db.logMetric(id, "train/loss", step, 2.0 - 0.1 * step, t0 + 60'000 + step * 1000);
                db.logMetric(id, "sys/rss_mb", step, 800.0 + step, t0 + 60'000 + step * 1000);
            }
            db.setStatus(id, store::RunStatus::Finished);
        }
        ServiceThread st(dbFile);
        QSignalSpy loaded(st.service, &StoreService::runsLoaded);
        QMetaObject::invokeMethod(st.service, [s = st.service, id] { s->loadRuns(1, {id}); }, Qt::QueuedConnection);
        // the service emits on its own thread: counted, not waited for (wait() would miss a signal
        // that came before it started)
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 10000);
        const RunData run = loaded.takeFirst().at(1).value<QVector<RunData>>().front();
        QCOMPARE(run.resumedAt, (QVector<double>{4}));
        const QVector<SeriesPoint> rss = run.metrics.value(QStringLiteral("sys/rss_mb"));
        QCOMPARE(rss.size(), 7);  // steps 7-9 of the dead attempt left out
        for (int i = 0; i < rss.size(); ++i) {
            QCOMPARE(rss[i].step, static_cast<double>(i));
            QCOMPARE(rss[i].value, i < 4 ? 500.0 + i : 800.0 + i);  // each step from its latest attempt
            if (i > 0) QVERIFY(rss[i].wallSeconds > rss[i - 1].wallSeconds);  // no zig-zag on wall time
        }
        MainWindow window(dbFile);
        window.show();
        QSignalSpy shown(window.liveView(), &LiveView::runShown);
        window.liveView()->showRun(id);
        QVERIFY(shown.wait(10000));
        MetricChart* loss = window.liveView()->chartTitled(QStringLiteral("Loss"));
        QCOMPARE(loss->pointCount(), size_t{7});
        QCOMPARE(loss->markers().size(), 1);
        QCOMPARE(loss->markers().front().first, 4.0);
    }

    // The queue in view: the run going and the queued ones in order (status "queued"), one moved
    // up, one cancelled (it never starts); the panel hides when nothing waits.
    void theQueueIsVisibleReorderableAndCancellable() {
        QTemporaryDir dir;
        MainWindow window(dir.filePath(QStringLiteral("runs.db")));
        window.resize(1280, 800);
        window.show();
        RunController* controller = window.controller();
        QueuePanel* queue = window.queuePanel();
        QVERIFY(queue->isHidden());
        QSignalSpy started(controller, &RunController::runStarted);
        controller->enqueue(shortJob(QStringLiteral("long"), "100000"));  // nothing going: starts now
        QVERIFY(started.wait(60000));
        controller->enqueue(shortJob(QStringLiteral("a"), "2"));
        controller->enqueue(shortJob(QStringLiteral("b"), "2"));
        controller->enqueue(shortJob(QStringLiteral("c"), "2"));
        QVERIFY(queue->isVisible());
        QCOMPARE(queue->rows().size(), 4);
        QVERIFY(queue->rows()[0].startsWith(QStringLiteral("running")));
        QCOMPARE(queue->rows()[1], QStringLiteral("queued · 1 · a"));
        queue->list()->setCurrentRow(3);  // c, up before b
        QTest::mouseClick(queue->findChildren<QPushButton*>().at(0), Qt::LeftButton);
        QCOMPARE(controller->queuedNames(), (QStringList{QStringLiteral("a"), QStringLiteral("c"), QStringLiteral("b")}));
        queue->list()->setCurrentRow(1);  // a, cancelled
        QTest::mouseClick(queue->findChildren<QPushButton*>().at(2), Qt::LeftButton);
        QCOMPARE(controller->queuedNames(), (QStringList{QStringLiteral("c"), QStringLiteral("b")}));
        QCOMPARE(queue->rows()[1], QStringLiteral("queued · 1 · c"));
        controller->clearQueue();
        QVERIFY(queue->isHidden());
        QSignalSpy ended(controller, &RunController::runEnded);
        controller->requestStop();
        QVERIFY(ended.wait(60000));
        QCOMPARE(started.count(), 1);  // nothing queued started
    }

    // Single numbers as numbers: a landscape run's sharpness (one value each, from 0.0002 to
    // 6,358) is a card with the trace's standard error, not lone dots on one linear axis; a
    // series (a second point) brings the chart back.
    void singleNumbersAreShownAsNumbers() {
        QTemporaryDir dir;
        const QString dbFile = dir.filePath(QStringLiteral("runs.db"));
        int64_t id = 0;
        {
            store::Store db(dbFile.toStdString());
            id = createRunningRun(db, "sharpness", "landscape");
            db.logMetric(id, "sharpness/hutchinson_trace", 0, 6358.0);
            db.logMetric(id, "sharpness/hutchinson_stderr", 0, 120.0);
            db.logMetric(id, "sharpness/eps_ball", 0, 0.0002);
            db.setStatus(id, store::RunStatus::Finished);
        }
        MainWindow window(dbFile);
        window.show();
        QSignalSpy shown(window.liveView(), &LiveView::runShown);
        window.liveView()->showRun(id);
        QVERIFY(shown.wait(10000));
        const QString card = window.liveView()->cardText(QStringLiteral("Sharpness"));
        QVERIFY2(card.contains(QStringLiteral("<b>6358 ± 120</b>")), qPrintable(card));
        QVERIFY(card.contains(QStringLiteral("<b>0.0002</b>")));
        QVERIFY(!card.contains(QStringLiteral(">sharpness/hutchinson_stderr<")));  // shown as the ±
        QVERIFY(window.liveView()->chartTitled(QStringLiteral("Sharpness"))->isHidden());
        {
            store::Store db(dbFile.toStdString());
            db.logMetric(id, "sharpness/eps_ball", 10, 0.0003);
        }
        window.liveView()->showRun(id);
        QTRY_VERIFY(!window.liveView()->chartTitled(QStringLiteral("Sharpness"))->isHidden());
        QCOMPARE(window.liveView()->cardText(QStringLiteral("Sharpness")), QString());
    }

    // Saved layouts: the run last shown (its zoom) and the runs last compared (their metric)
    // come back after a restart on the same database.
    void layoutsSurviveARestart() {
        SeedDb seeds;
        {
            MainWindow window(seeds.path);
            window.show();
            QSignalSpy shown(window.liveView(), &LiveView::runShown);
            window.liveView()->showRun(seeds.ids[1]);
            QVERIFY(shown.wait(10000));
            window.liveView()->chartTitled(QStringLiteral("Loss"))->zoomTo(5, 25, 1.0, 2.0);
            QSignalSpy compared(window.compareView(), &CompareView::loadedRuns);
            window.compareView()->compare({seeds.ids[0], seeds.ids[3]});
            QVERIFY(compared.wait(10000));
            window.compareView()->setMetric(QStringLiteral("dev/accuracy"));
            window.close();
        }
        MainWindow again(seeds.path);
        again.show();
        QTRY_COMPARE(again.liveView()->runId(), seeds.ids[1]);
        MetricChart* loss = again.liveView()->chartTitled(QStringLiteral("Loss"));
        QTRY_VERIFY(loss->zoomed());
        QCOMPARE(loss->visibleRange().left(), 5.0);
        QCOMPARE(loss->visibleRange().right(), 25.0);
        QTRY_COMPARE(again.compareView()->runIds(), (QVector<qint64>{seeds.ids[0], seeds.ids[3]}));
        QTRY_COMPARE(again.compareView()->chart()->title(), QStringLiteral("dev/accuracy"));
    }

    // A grid from the form: "lr = 1e-4, 3e-4, 1e-3" and "seed = 1, 2, 3" are nine runs, each value
    // checked as the CLI checks it, queued together and named by what differs; lists show as
    // their items ("q, v") and go back as TOML.
    void theFormStartsAGrid() {
        ExperimentForm form;
        QCOMPARE(form.loadFile(qEnvironmentVariable("FRUGAL_SOURCE_DIR") + QStringLiteral("/experiments/zo/mezo-lora-sentiment.toml")),
                 QString());
        QVERIFY(form.waitForChecks());
        QCOMPARE(form.fieldText(QStringLiteral("peft.lora_modules")), QStringLiteral("q, v"));
        // the two seeds say whose
        QStringList labels;
        for (const QLabel* l : form.findChildren<QLabel*>()) labels << l->text();
        QVERIFY(labels.contains(QStringLiteral("zo seed")) && labels.contains(QStringLiteral("peft seed")));
        QVERIFY(!labels.contains(QStringLiteral("seed")));
        QVERIFY(form.setFieldText(QStringLiteral("zo.lr"), QStringLiteral("1e-4, 3e-4, 1e-3")));
        QVERIFY(form.setFieldText(QStringLiteral("zo.seed"), QStringLiteral("1, 2, 3")));
        QCOMPARE(form.validate(), QString());
        QVERIFY(form.waitForChecks());
        QCOMPARE(form.gridSize(), 9);
        QCOMPARE(form.gridAxes(), (std::vector<std::string>{"zo.lr=1e-4,3e-4,1e-3", "zo.seed=1,2,3"}));
        QVERIFY2(form.message().contains(QStringLiteral("a grid of 9 runs")), qPrintable(form.message()));
        QSignalSpy requested(&form, &ExperimentForm::runRequested);
        form.queue();
        QCOMPARE(requested.count(), 9);
        QStringList names;
        for (const auto& call : requested) names << call.at(0).value<RunJob>().name;
        QCOMPARE(names.front(), QStringLiteral("lr=1e-4 seed=1"));
        QCOMPARE(names.back(), QStringLiteral("lr=1e-3 seed=3"));
        const auto& params = requested.at(4).at(0).value<RunJob>().prepared->params;
        QCOMPARE(std::stod(params.at("zo.lr")), 3e-4);
        const QString modules = QString::fromStdString(params.at("peft.lora_modules"));  // a TOML list again
        QVERIFY2(modules.startsWith(QLatin1Char('[')) && modules.contains(QStringLiteral("'q'")) &&
                     modules.contains(QStringLiteral("'v'")),
                 qPrintable(modules));
        // one bad value of the grid is named on its field
        QVERIFY(form.setFieldText(QStringLiteral("zo.lr"), QStringLiteral("1e-4, -1")));
        QVERIFY(!form.validate().isEmpty());
        QCOMPARE(form.invalidKeys(), QStringList{QStringLiteral("zo.lr")});
    }

    // The axes hug the data (x its own range, y 4 % beyond: rounding the ends out to ticks
    // overshot by up to 30 %); a marker on the plot's border is drawn whole; a held line (the
    // memory estimate) reaches the right edge.
    void chartsHugTheirDataAndDrawBorderMarkersWhole() {
        MetricChart chart(QStringLiteral("Memory"), QStringLiteral("MiB"));
        chart.resize(700, 420);
        chart.show();
        const int rss = chart.addLine(QStringLiteral("sys/rss_mb"), QColor(0x00, 0x72, 0xB2));
        for (int i = 0; i <= 12; ++i) chart.append(rss, i * 10, i, 0.50 + 0.22 * i / 12.0);
        const int estimate = chart.addLine(QStringLiteral("mem/estimate_mb"), QColor(0xD5, 0x5E, 0x00));
        chart.append(estimate, 0, 0, 0.6);
        chart.setLineHeld(estimate, true);
        chart.redrawNow();
        QCOMPARE(chart.visibleRange().left(), 0.0);
        QCOMPARE(chart.visibleRange().right(), 120.0);
        const double lo = chart.visibleRange().top(), hi = chart.visibleRange().bottom();
        QVERIFY2(lo >= 0.50 - 0.045 * 0.22 && hi <= 0.72 + 0.045 * 0.22 && lo < 0.50 && hi > 0.72,
                 qPrintable(QStringLiteral("%1 %2").arg(lo).arg(hi)));
        QTest::qWait(100);
        const QImage image = chart.grab().toImage();
        // the first point sits on the plot's left border: its marker's left half is painted too
        const QPointF first = chart.positionOf(0, 0.50);
        const QColor left = image.pixelColor(QPoint(static_cast<int>(std::floor(first.x())) - 1, static_cast<int>(std::lround(first.y()))));
        QVERIFY2(left.blue() > left.red() + 60, qPrintable(left.name()));  // the marker's blue, not the page's white
        // the estimate's one point drawn on to the right edge (dashed): its colour near the edge
        const QPointF level = chart.positionOf(115, 0.6);
        int hits = 0;
        for (int x = static_cast<int>(level.x()) - 20; x < static_cast<int>(level.x()); ++x)
            for (int dy = -1; dy <= 1; ++dy) {
                const QColor c = image.pixelColor(QPoint(x, static_cast<int>(std::lround(level.y())) + dy));
                hits += c.red() > 150 && c.green() < 140 && c.blue() < 90;
            }
        QVERIFY2(hits > 0, "no estimate line near the right edge");
    }

    // Two at a time: with two allowed, a queued run whose memory estimate fits the memory free
    // starts beside the running one (no streaming: the store has it) and ends on its own.
    void twoRunsAtATimeWhereMemoryAllows() {
        QTemporaryDir dir;
        MainWindow window(dir.filePath(QStringLiteral("runs.db")));
        window.show();
        RunController* controller = window.controller();
        QSignalSpy started(controller, &RunController::runStarted);
        QSignalSpy beside(controller, &RunController::sideRunStarted);
        QSignalSpy ended(controller, &RunController::runEnded);
        controller->enqueue(shortJob(QStringLiteral("long"), "100000"));
        QVERIFY(started.wait(60000));
        controller->enqueue(shortJob(QStringLiteral("short"), "2"));  // one at a time: it waits
        QCOMPARE(controller->queued(), 1);
        QVERIFY(!controller->sideBusy());
        controller->setParallel(2);  // the tiny model's estimate fits: it starts beside
        QCOMPARE(controller->queued(), 0);
        QVERIFY(controller->sideBusy());
        QVERIFY(beside.wait(60000) || beside.count() == 1);
        QTRY_VERIFY_WITH_TIMEOUT(!controller->sideBusy(), 120000);
        QCOMPARE(ended.count(), 1);
        QCOMPARE(ended.at(0).at(1).toString(), QStringLiteral("finished"));
        QVERIFY(controller->busy());  // the long one still going
        controller->requestStop();
        QVERIFY(ended.wait(60000));
        QCOMPARE(started.count(), 1);
    }
};

QTEST_MAIN(TestResearchViews)
#include "test_research_views.moc"
