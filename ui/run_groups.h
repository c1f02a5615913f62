#pragma once
// Runs in groups: the seeds of one configuration (everything but the seed the same), the runs of
// one name, or the runs sharing one config key's value; each group drawn as its mean (or median)
// with a band (± std, ± sem, 95 % CI, min–max) and N in the legend, its runs faint on request; and
// two groups' final values compared by a paired t-test where their seeds match, Welch's otherwise.
// The arithmetic is common/group_stats.h's; this file decides who is in which group and draws
// them. GUI thread (the chart), the rest plain values.

#include <QColor>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>

#include "common/group_stats.h"
#include "store_service.h"

namespace frugal::ui {

class MetricChart;

enum class GroupBy { None, Config, Name, Key };

struct GroupSpec {
    GroupBy by = GroupBy::Config;
    QString key;  // GroupBy::Key: the config key whose value makes the group
    stats::Center center = stats::Center::Mean;
    stats::Spread spread = stats::Spread::Std;
    bool showRuns = false;  // each run faint under its group's line
};

struct RunGroup {
    QString label;        // the legend's name of the group (without N and the spread)
    QVector<int> members;  // indices into the runs given, in their order
    QColor color;
};

// Whether KEY is a seed (its last part "seed" or ending in "_seed"): what "everything but the
// seed" leaves out.
bool isSeedKey(const QString& key);
// The runs' seeds as one text per run ("zo.seed=2"), from their resolved params.
QString seedsOf(const QMap<QString, QString>& resolved);

// The groups of ROWS under SPEC, in the order of their first runs. RESOLVED: each row's resolved
// params (compare_view.h resolvedParams), same order. GroupBy::None: one group per run. Groups that
// would share a label are told apart by the config keys that differ between them (seeds aside).
QVector<RunGroup> groupRuns(const QVector<RunRow>& rows, const QVector<QMap<QString, QString>>& resolved,
                            const GroupSpec& spec);
// What the runs of one configuration share: the method and every resolved key but the seeds.
QString configSignature(const RunRow& row, const QMap<QString, QString>& resolved);

// Whether the runs should be grouped by default: two or more runs share a name, or two or more
// differ only in their seeds.
bool groupsByDefault(const QVector<RunRow>& rows, const QVector<QMap<QString, QString>>& resolved);

// The legend's text of a group of N runs: "mezo-lora (N=3, mean ± std)".
QString groupLegend(const RunGroup& group, const GroupSpec& spec);

// METRIC of RUNS drawn on CHART (cleared first) as GROUPS: one line per group of two or more runs
// (the centre, its band at every step all its runs have), its runs faint when SPEC says so; a
// group of one run is that run's own line. RELATIVE: steps counted from each run's first point.
// Returns the number of lines drawn.
int drawGroups(MetricChart& chart, const QVector<RunData>& runs, const QVector<RunGroup>& groups,
               const QString& metric, const GroupSpec& spec, bool relative);

// A run's final finite value of METRIC (NaN when it has none).
double finalValue(const RunData& run, const QString& metric);

// Two groups compared on METRIC's final values: paired by seed where both groups hold the same
// seeds once each, Welch's t otherwise. TEXT says it as a reader needs it ("paired t(2) = 4.7,
// p = 0.018, d_z = 2.4, N = 3 pairs"), or why no test applies.
struct GroupComparison {
    stats::TwoGroupTest test;
    QString text;
};
GroupComparison compareTwoGroups(const QVector<RunData>& runs, const QVector<QMap<QString, QString>>& resolved,
                                 const RunGroup& a, const RunGroup& b, const QString& metric);

}  // namespace frugal::ui
