#include "owl.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace frugal::prune {

std::vector<double> owlSparsities(const std::vector<double>& outlierRatios, double target, double lambda) {
    std::vector<double> out(outlierRatios.size(), target);
    if (outlierRatios.empty()) return out;
    const auto [lo, hi] = std::minmax_element(outlierRatios.begin(), outlierRatios.end());
    if (*hi <= *lo) return out;
    // the ratios on [0, 2λ], centred: a layer's density is 1 - target plus its share
    std::vector<double> shifted(outlierRatios.size());
    for (size_t i = 0; i < shifted.size(); ++i) shifted[i] = (outlierRatios[i] - *lo) / (*hi - *lo) * 2 * lambda;
    const double mean = std::accumulate(shifted.begin(), shifted.end(), 0.0) / static_cast<double>(shifted.size());
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = target - (shifted[i] - mean);
        if (!(out[i] > 0 && out[i] < 1))
            failInput("prune.owl_lambda = ", lambda, " moves layer ", i, "'s sparsity to ", out[i],
                      " around the target ", target, " (it must stay in (0, 1)); lower prune.owl_lambda");
    }
    return out;
}

}  // namespace frugal::prune
