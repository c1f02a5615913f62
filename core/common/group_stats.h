#pragma once
// The statistics of groups of runs (the seeds of one configuration): a centre line and a band
// over the runs' series, a run group's summary of one number, and the two-group tests a paper
// reports (Welch's t, or the paired t where the seeds match). Plain C++, no torch, no Qt: the
// workbench, `frugal plot` and the tests compute the same figures.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frugal::stats {

enum class Center { Mean, Median };
// The band around the centre: ± one standard deviation (n - 1), ± the standard error of the mean,
// the mean's 95 % confidence interval (Student's t with n - 1 degrees of freedom), or the runs'
// minimum and maximum. None: the centre alone.
enum class Spread { None, Std, Sem, Ci95, MinMax };

std::string_view centerName(Center c);   // "mean", "median"
std::string_view spreadName(Spread s);   // "none", "std", "sem", "ci95", "minmax"
std::optional<Center> centerNamed(std::string_view name);
std::optional<Spread> spreadNamed(std::string_view name);
// How a legend says it: "± std", "± sem", "95% CI", "min–max", "".
std::string spreadLabel(Spread s);

// One number over a group's runs. A non-finite value makes the centre and band NaN (reported,
// never averaged away); N counts every value.
struct Summary {
    size_t n = 0;
    double center = 0, lo = 0, hi = 0;  // the band: [lo, hi] (lo = hi = center with one value)
    double mean = 0, std = 0;           // std with n - 1 (0 for one value)
};
Summary summarize(const std::vector<double>& values, Center center, Spread spread);

// Student's t distribution: P(T <= t) with DF degrees of freedom (DF > 0, not necessarily an
// integer: Welch's), and its inverse for P in (0, 1).
double studentTCdf(double t, double df);
double studentTQuantile(double p, double df);
// The regularised incomplete beta function I_x(a, b), x in [0, 1], a, b > 0.
double incompleteBeta(double x, double a, double b);

// One run's series: ascending steps, the value and the wall seconds at each.
struct Series {
    std::vector<double> step, value, wall;
};
// A group's line: the centre and band at every step that all of RUNS have (a run that stopped
// early ends the group's line there, so N is the same at every point); wall is the runs' mean.
struct Band {
    std::vector<double> step, center, lo, hi, wall;
    size_t runs = 0;
};
Band aggregate(const std::vector<Series>& runs, Center center, Spread spread);

// Two groups' final values compared. PAIRED: A[i] and B[i] share a seed (same length); otherwise
// Welch's unequal-variance t. p is two-sided. The effect is Cohen's d: the mean difference over the
// pooled standard deviation (Welch), or over the differences' standard deviation (paired, d_z).
// Fewer than two values in a group (or pairs): VALID false and WHY says so.
struct TwoGroupTest {
    bool valid = false;
    std::string why;
    bool paired = false;
    size_t nA = 0, nB = 0;
    double meanA = 0, meanB = 0, diff = 0;  // diff = meanA - meanB
    double t = 0, df = 0, p = 0, effect = 0;
};
TwoGroupTest compareGroups(const std::vector<double>& a, const std::vector<double>& b, bool paired);

}  // namespace frugal::stats
