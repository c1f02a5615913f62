#include "peft/tt_bench.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>

#include "peft/tt.h"

namespace frugal::peft {

namespace {
double medianMs(const TtMatrix& t, const torch::Tensor& x, TtForward mode, int iters) {
    torch::NoGradGuard noGrad;
    (void)t.apply(x, mode);  // warm-up
    std::vector<double> ms;
    for (int i = 0; i < iters; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const torch::Tensor y = t.apply(x, mode);
        (void)y.sum().item<float>();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}
}  // namespace

std::vector<TtBenchCase> benchTt(const std::vector<std::vector<int64_t>>& shapes,
                                 const std::vector<int64_t>& rows, int iters) {
    std::vector<TtBenchCase> out;
    for (const auto& s : shapes) {
        auto gen = at::detail::createCPUGenerator(1);
        const TtMatrix t = TtMatrix::gaussian(s.at(0), s.at(1), ttModes(s.at(0), s.at(1)), s.at(2), gen);
        for (int64_t n : rows) {
            TtBenchCase c;
            c.in = s[0];
            c.out = s[1];
            c.rank = s[2];
            c.rows = n;
            c.modes = modesText(t.modes());
            const torch::Tensor x = torch::randn({n, c.in}, gen);
            c.denseMs = medianMs(t, x, TtForward::Dense, iters);
            c.contractMs = t.canContract() ? medianMs(t, x, TtForward::Contract, iters) : -1;
            c.denseCost = t.denseCost(n);
            c.contractCost = t.contractCost(n);
            c.chosen = ttForwardName(t.chosen(n));
            c.faster = c.contractMs >= 0 && c.contractMs < c.denseMs ? "contract" : "dense";
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace frugal::peft
