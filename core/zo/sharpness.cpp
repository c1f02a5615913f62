#include "zo/sharpness.h"

#include <cmath>

#include "common/error.h"

namespace frugal::zo {

HutchinsonEstimate hutchinsonTrace(const LossAlong& lossAlong, int64_t probes, double h) {
    if (probes < 2) fail("Hutchinson trace: needs at least 2 probes for a standard error, got ", probes);
    if (!(h > 0)) fail("Hutchinson trace: the difference step h must be positive, got ", h);
    HutchinsonEstimate e;
    const double base = lossAlong(0, 0.0);
    e.forwards = 1;
    double sum = 0;
    for (int64_t k = 0; k < probes; ++k) {
        const double plus = lossAlong(k, h), minus = lossAlong(k, -h);
        e.forwards += 2;
        const double q = (plus - 2 * base + minus) / (h * h);
        e.samples.push_back(q);
        sum += q;
    }
    e.trace = sum / static_cast<double>(probes);
    double ss = 0;
    for (double q : e.samples) ss += (q - e.trace) * (q - e.trace);
    e.standardError = std::sqrt(ss / static_cast<double>(probes - 1) / static_cast<double>(probes));
    return e;
}

EpsBallEstimate epsBallSharpness(const LossAlong& lossAlong, int64_t samples, double rho) {
    if (samples < 1) fail("epsilon-ball sharpness: needs at least 1 sample, got ", samples);
    if (!(rho > 0)) fail("epsilon-ball sharpness: the radius rho must be positive, got ", rho);
    EpsBallEstimate e;
    e.base = lossAlong(0, 0.0);
    e.forwards = 1;
    e.sharpness = -INFINITY;
    for (int64_t k = 0; k < samples; ++k) {
        const double rise = lossAlong(k, rho) - e.base;
        ++e.forwards;
        if (std::isnan(rise)) {  // a NaN loss is the answer, not a sample to skip
            e.sharpness = NAN;
            e.worstProbe = k;
            return e;
        }
        if (rise > e.sharpness) {
            e.sharpness = rise;
            e.worstProbe = k;
        }
    }
    return e;
}

}  // namespace frugal::zo
