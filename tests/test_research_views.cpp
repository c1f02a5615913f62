// The workbench's research views: groups of runs with bands (the statistics against scipy's
// figures, the bands against the stored series), the runs table's group rows and config columns,
// the two-group test. Offscreen Qt, runs written into a temporary database.

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
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
        QVERIFY2(result == QStringLiteral("dev/accuracy %1 ± %2 (N=3)").arg(QString::number(mean, 'g', 4), QString::number(sd, 'g', 4)),
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
};

QTEST_MAIN(TestResearchViews)
#include "test_research_views.moc"
