#include "prune/dsnot.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace frugal::prune {

namespace {

// One row's swaps: its e, its revival order, its pruning candidates and the cursors into them.
struct RowState {
    double r = 0;
    bool active = true;
    std::vector<int64_t> revive;        // pruned columns by e / Var^p, ascending
    int64_t low = 0, high = -1;         // next revival from either end
    std::vector<int64_t> negative, positive;  // kept columns with e < 0 (e > 0), base score ascending
    size_t nextNegative = 0, nextPositive = 0;
};

}  // namespace

DsnotResult dsnot(const torch::Tensor& weight, const torch::Tensor& mask, const torch::Tensor& baseScore,
                  const torch::Tensor& meanSums, const torch::Tensor& variance, const Sparsity& sparsity,
                  const DsnotOptions& o) {
    if (weight.dim() != 2 || mask.sizes() != weight.sizes() || baseScore.sizes() != weight.sizes() ||
        meanSums.dim() != 1 || meanSums.size(0) != weight.size(1) || variance.sizes() != meanSums.sizes())
        fail("DSnoT: weight ", weight.sizes(), ", mask ", mask.sizes(), ", score ", baseScore.sizes(), ", input sums ",
             meanSums.sizes(), " and variance ", variance.sizes(), " do not match ([C_out, C_in] and [C_in])");
    const int64_t rows = weight.size(0), cols = weight.size(1);
    const torch::Tensor e = (weight.to(torch::kFloat64) * meanSums.to(torch::kFloat64).unsqueeze(0)).contiguous();
    const torch::Tensor order =
        (e / variance.to(torch::kFloat64).clamp_min(1e-12).pow(o.varPower).unsqueeze(0)).contiguous();
    const torch::Tensor score = baseScore.to(torch::kFloat64).contiguous();
    DsnotResult out;
    out.mask = mask.to(torch::kBool).clone().contiguous();
    auto m = out.mask.accessor<bool, 2>();
    const auto ea = e.accessor<double, 2>();
    const auto oa = order.accessor<double, 2>();
    const auto sa = score.accessor<double, 2>();

    std::vector<RowState> state(static_cast<size_t>(rows));
    double total = 0;
    for (int64_t i = 0; i < rows; ++i) {
        RowState& s = state[static_cast<size_t>(i)];
        for (int64_t j = 0; j < cols; ++j) {
            if (m[i][j]) {
                s.r += ea[i][j];
                s.revive.push_back(j);
            } else if (ea[i][j] < 0) {
                s.negative.push_back(j);
            } else if (ea[i][j] > 0) {
                s.positive.push_back(j);
            }
        }
        const auto byOrder = [&](int64_t a, int64_t b) { return oa[i][a] < oa[i][b] || (oa[i][a] == oa[i][b] && a < b); };
        const auto byScore = [&](int64_t a, int64_t b) { return sa[i][a] < sa[i][b] || (sa[i][a] == sa[i][b] && a < b); };
        std::sort(s.revive.begin(), s.revive.end(), byOrder);
        std::sort(s.negative.begin(), s.negative.end(), byScore);
        std::sort(s.positive.begin(), s.positive.end(), byScore);
        s.high = static_cast<int64_t>(s.revive.size()) - 1;
        total += std::abs(s.r);
    }
    out.totalError.push_back(total);
    const torch::Tensor initial = out.mask.clone();
    const auto wasKept = [&, ia = initial.accessor<bool, 2>()](int64_t i, int64_t j) { return !ia[i][j]; };

    for (int64_t cycle = 0; cycle < o.maxCycles; ++cycle) {
        bool any = false;
        total = 0;
        for (int64_t i = 0; i < rows; ++i) {
            RowState& s = state[static_cast<size_t>(i)];
            if (s.active && (std::abs(s.r) <= o.threshold || s.low > s.high)) s.active = false;
            if (s.active) {
                const bool positive = s.r > 0;
                const int64_t grow = positive ? s.revive[static_cast<size_t>(s.high--)]
                                              : s.revive[static_cast<size_t>(s.low++)];
                int64_t prune = -1;
                if (sparsity.structured()) {  // the kept weight of the group with the lowest base score
                    const int64_t first = grow - grow % sparsity.m;
                    for (int64_t j = first; j < first + sparsity.m; ++j)
                        if (!m[i][j] && wasKept(i, j) && (prune < 0 || sa[i][j] < sa[i][prune])) prune = j;
                } else {
                    auto& list = positive ? s.negative : s.positive;
                    auto& next = positive ? s.nextNegative : s.nextPositive;
                    if (next < list.size()) prune = list[next++];
                }
                const double after = prune < 0 ? s.r : s.r + ea[i][prune] - ea[i][grow];
                if (prune < 0 || !(std::abs(after) < std::abs(s.r))) {
                    s.active = false;  // the swap would not lower |r_i|: the row stops
                } else {
                    m[i][grow] = false;
                    m[i][prune] = true;
                    s.r = after;
                    ++out.swaps;
                    any = true;
                }
            }
            total += std::abs(s.r);
        }
        if (!any) break;
        out.totalError.push_back(total);
    }
    return out;
}

}  // namespace frugal::prune
