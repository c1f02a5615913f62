#pragma once
// The one way Frugal combines the objectives of the parts of a batch: a data-parallel run's
// shards (dist::World::weightedMean) and a micro-batched batch's pieces (FineTuneProblem), so that
// N processes and one process with micro_batch = batch / N give the same bits.

#include <cstddef>
#include <vector>

namespace frugal {

// PAIRS is (value · weight, weight) per part, in part order: Σ value·weight / Σ weight, summed in
// that order.
inline double weightedMean(const std::vector<double>& pairs) {
    double sum = 0, weights = 0;
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
        sum += pairs[i];
        weights += pairs[i + 1];
    }
    return sum / weights;
}

}  // namespace frugal
