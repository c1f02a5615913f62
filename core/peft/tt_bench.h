#pragma once
// `frugal bench tt`: the two forwards of a tensor-train matrix (rebuild W then multiply, or
// contract the input with the cores) timed on the same input, beside the cost model's choice, so
// that the Auto rule is checked against the clock. No torch in this header.

#include <cstdint>
#include <string>
#include <vector>

namespace frugal::peft {

struct TtBenchCase {
    int64_t in = 0, out = 0, rank = 0, rows = 0;
    std::string modes;
    double denseMs = 0, contractMs = 0;  // medians
    double denseCost = 0, contractCost = 0;  // multiply-adds, the cost model's
    std::string chosen;   // what Auto takes
    std::string faster;   // what the clock says
};

// Each shape (in, out, rank) at each row count; ITERS timed repetitions after one warm-up.
std::vector<TtBenchCase> benchTt(const std::vector<std::vector<int64_t>>& shapes,
                                 const std::vector<int64_t>& rows, int iters);

}  // namespace frugal::peft
