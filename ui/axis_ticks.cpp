#include "axis_ticks.h"

#include <algorithm>
#include <cmath>

namespace frugal::ui {

namespace {

// The step between ticks: 1, 2 or 5 times a power of ten, at least RAW.
double niceStep(double raw) {
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0})
        if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
    return 10 * magnitude;
}

// A tick value as text with the digits that tell ticks STEP apart, and no more.
QString tickText(double v, double step) {
    if (std::abs(v) < step * 1e-9) return QStringLiteral("0");
    const double big = std::abs(v);
    const int stepExp = static_cast<int>(std::floor(std::log10(step) + 1e-9));
    if (big >= 1e6 || big < 1e-4) {
        const int valueExp = static_cast<int>(std::floor(std::log10(big) + 1e-9));
        return QString::number(v, 'e', std::clamp(valueExp - stepExp, 0, 12));
    }
    return QString::number(v, 'f', std::clamp(-stepExp, 0, 12));
}

// A power of ten, or M times one, as a label: plain from 0.01 to 1000, "2e-5" beyond.
QString decadeText(int m, int exponent) {
    if (exponent >= -2 && exponent <= 3) return QString::number(m * std::pow(10.0, exponent), 'g', 6);
    return QStringLiteral("%1e%2").arg(m).arg(exponent);
}

}  // namespace

bool insideRange(double v, double lo, double hi) {
    const double tolerance = (hi - lo) * 1e-9;
    return v >= lo - tolerance && v <= hi + tolerance;
}

// The range grown to round ends (1, 2 or 5 times a power of ten apart, about TICKS of them).
void niceRange(double& lo, double& hi, int ticks) {
    const double span = hi - lo;
    if (!(span > 0) || !std::isfinite(span)) return;
    const double step = niceStep(span / std::max(1, ticks - 1));
    lo = std::floor(lo / step + 1e-9) * step;
    hi = std::ceil(hi / step - 1e-9) * step;
}

std::vector<AxisTick> linearTicks(double lo, double hi, int target) {
    std::vector<AxisTick> ticks;
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
    const double step = niceStep((hi - lo) / std::max(1, target - 1));
    const double first = std::ceil(lo / step - 1e-9);
    for (double k = first;; k += 1) {
        const double v = k * step;
        if (v > hi + step * 1e-9 || ticks.size() > 100) break;
        ticks.push_back({v, tickText(v, step)});
    }
    return ticks;
}

std::vector<AxisTick> logTicks(double lo, double hi) {
    std::vector<AxisTick> ticks;
    if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return ticks;
    const int d0 = static_cast<int>(std::floor(std::log10(lo))), d1 = static_cast<int>(std::ceil(std::log10(hi)));
    const auto labelled = [&](std::initializer_list<int> multiples) {
        int n = 0;
        for (int d = d0; d <= d1; ++d)
            for (int m : multiples) n += insideRange(m * std::pow(10.0, d), lo, hi) ? 1 : 0;
        return n;
    };
    const int decades = d1 - d0;
    const double span = std::log10(hi / lo);  // decades covered
    if (labelled({1}) >= 4 || (labelled({1}) >= 2 && span > 2.5)) {
        const int every = std::max(1, (decades + 7) / 8);  // at most about 8 labels
        for (int d = d0; d <= d1; ++d)
            for (int m = 1; m <= 9; ++m) {
                const double v = m * std::pow(10.0, d);
                if (!insideRange(v, lo, hi)) continue;
                if (m == 1 && d % every == 0)
                    ticks.push_back({v, decadeText(1, d)});
                else if (decades <= 6)
                    ticks.push_back({v, QString()});
            }
        return ticks;
    }
    if (labelled({1, 2, 5}) >= 3) {
        for (int d = d0; d <= d1; ++d)
            for (int m = 1; m <= 9; ++m) {
                const double v = m * std::pow(10.0, d);
                if (!insideRange(v, lo, hi)) continue;
                ticks.push_back({v, m == 1 || m == 2 || m == 5 ? decadeText(m, d) : QString()});
            }
        return ticks;
    }
    return linearTicks(lo, hi, 5);  // within about a decade: round numbers, evenly spaced
}

}  // namespace frugal::ui
