#include "group_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace frugal::stats {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The continued fraction of I_x(a, b) (modified Lentz), for x < (a + 1) / (a + b + 2).
double betaFraction(double x, double a, double b) {
    constexpr double tiny = 1e-300, eps = 1e-15;
    const auto guard = [](double v) { return std::fabs(v) < tiny ? tiny : v; };
    double c = 1, d = 1 / guard(1 - (a + b) * x / (a + 1)), h = d;
    for (int m = 1; m <= 500; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2));
        d = 1 / guard(1 + aa * d);
        c = guard(1 + aa / c);
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2));
        d = 1 / guard(1 + aa * d);
        c = guard(1 + aa / c);
        const double step = d * c;
        h *= step;
        if (std::fabs(step - 1) < eps) break;
    }
    return h;
}

double meanOf(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

double stdOf(const std::vector<double>& v, double mean) {
    if (v.size() < 2) return 0;
    double s = 0;
    for (double x : v) s += (x - mean) * (x - mean);
    return std::sqrt(s / static_cast<double>(v.size() - 1));
}
}  // namespace

std::string_view centerName(Center c) { return c == Center::Median ? "median" : "mean"; }

std::string_view spreadName(Spread s) {
    switch (s) {
        case Spread::None: return "none";
        case Spread::Std: return "std";
        case Spread::Sem: return "sem";
        case Spread::Ci95: return "ci95";
        case Spread::MinMax: return "minmax";
    }
    return "none";
}

std::optional<Center> centerNamed(std::string_view name) {
    for (Center c : {Center::Mean, Center::Median})
        if (centerName(c) == name) return c;
    return std::nullopt;
}

std::optional<Spread> spreadNamed(std::string_view name) {
    for (Spread s : {Spread::None, Spread::Std, Spread::Sem, Spread::Ci95, Spread::MinMax})
        if (spreadName(s) == name) return s;
    return std::nullopt;
}

std::string spreadLabel(Spread s) {
    switch (s) {
        case Spread::None: return "";
        case Spread::Std: return "± std";
        case Spread::Sem: return "± sem";
        case Spread::Ci95: return "95% CI";
        case Spread::MinMax: return "min–max";
    }
    return "";
}

double incompleteBeta(double x, double a, double b) {
    if (!(x >= 0 && x <= 1) || !(a > 0) || !(b > 0)) return kNaN;
    if (x == 0 || x == 1) return x;
    const double front =
        std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * betaFraction(x, a, b) / a;
    return 1 - front * betaFraction(1 - x, b, a) / b;
}

double studentTCdf(double t, double df) {
    if (std::isnan(t) || !(df > 0)) return kNaN;
    if (std::isinf(t)) return t > 0 ? 1 : 0;
    const double tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
    return t > 0 ? 1 - tail : tail;
}

double studentTQuantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) return kNaN;
    if (p == 0.5) return 0;
    // bracket, then bisect: the CDF is monotone, and 200 halvings reach the last bit
    double lo = -1, hi = 1;
    while (studentTCdf(lo, df) > p) lo *= 2;
    while (studentTCdf(hi, df) < p) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, std::fabs(lo)); ++i) {
        const double mid = 0.5 * (lo + hi);
        (studentTCdf(mid, df) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

Summary summarize(const std::vector<double>& values, Center center, Spread spread) {
    Summary s;
    s.n = values.size();
    if (values.empty()) {
        s.center = s.lo = s.hi = s.mean = s.std = kNaN;
        return s;
    }
    for (double v : values)
        if (!std::isfinite(v)) {
            s.center = s.lo = s.hi = s.mean = s.std = kNaN;
            return s;
        }
    s.mean = meanOf(values);
    s.std = stdOf(values, s.mean);
    if (center == Center::Median) {
        std::vector<double> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        const size_t n = sorted.size();
        s.center = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    } else {
        s.center = s.mean;
    }
    const double n = static_cast<double>(s.n);
    double half = 0;
    switch (spread) {
        case Spread::None: break;
        case Spread::Std: half = s.std; break;
        case Spread::Sem: half = s.std / std::sqrt(n); break;
        case Spread::Ci95: half = s.n < 2 ? 0 : studentTQuantile(0.975, n - 1) * s.std / std::sqrt(n); break;
        case Spread::MinMax: {
            const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
            s.lo = *mn;
            s.hi = *mx;
            return s;
        }
    }
    s.lo = s.center - half;
    s.hi = s.center + half;
    return s;
}

Band aggregate(const std::vector<Series>& runs, Center center, Spread spread) {
    Band band;
    band.runs = runs.size();
    if (runs.empty()) return band;
    // step -> (values, walls) over the runs that have it
    std::map<double, std::pair<std::vector<double>, std::vector<double>>> at;
    for (const Series& r : runs)
        for (size_t i = 0; i < r.step.size(); ++i) {
            auto& slot = at[r.step[i]];
            slot.first.push_back(r.value[i]);
            slot.second.push_back(i < r.wall.size() ? r.wall[i] : kNaN);
        }
    for (const auto& [step, slot] : at) {
        if (slot.first.size() != runs.size()) continue;
        const Summary s = summarize(slot.first, center, spread);
        band.step.push_back(step);
        band.center.push_back(s.center);
        band.lo.push_back(s.lo);
        band.hi.push_back(s.hi);
        band.wall.push_back(meanOf(slot.second));
    }
    return band;
}

TwoGroupTest compareGroups(const std::vector<double>& a, const std::vector<double>& b, bool paired) {
    TwoGroupTest r;
    r.paired = paired;
    r.nA = a.size();
    r.nB = b.size();
    for (const auto* g : {&a, &b})
        for (double v : *g)
            if (!std::isfinite(v)) {
                r.why = "a value is not finite (NaN or infinite)";
                return r;
            }
    if (paired && a.size() != b.size()) {
        r.why = "a paired test needs one value per seed in each group";
        return r;
    }
    if (a.size() < 2 || b.size() < 2) {
        r.why = "each group needs at least two runs";
        return r;
    }
    r.meanA = meanOf(a);
    r.meanB = meanOf(b);
    r.diff = r.meanA - r.meanB;
    if (paired) {
        std::vector<double> d(a.size());
        for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
        const double sd = stdOf(d, r.diff);
        r.df = static_cast<double>(d.size() - 1);
        if (sd == 0) {
            r.why = "the paired differences are all equal (no spread to test against)";
            return r;
        }
        r.t = r.diff / (sd / std::sqrt(static_cast<double>(d.size())));
        r.effect = r.diff / sd;
    } else {
        const double sa = stdOf(a, r.meanA), sb = stdOf(b, r.meanB);
        const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
        const double va = sa * sa / na, vb = sb * sb / nb;
        if (va + vb == 0) {
            r.why = "both groups have no spread";
            return r;
        }
        r.t = r.diff / std::sqrt(va + vb);
        r.df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
        const double pooled = std::sqrt(((na - 1) * sa * sa + (nb - 1) * sb * sb) / (na + nb - 2));
        r.effect = r.diff / pooled;
    }
    r.p = 2 * studentTCdf(-std::fabs(r.t), r.df);
    r.valid = true;
    return r;
}

}  // namespace frugal::stats
