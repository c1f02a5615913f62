#include "prune/sparsegpt.h"

#include <cmath>

#include "common/error.h"

namespace frugal::prune {

HessianAccumulator::HessianAccumulator(int64_t features)
    : m_h(torch::zeros({features, features}, torch::kFloat32)) {}

void HessianAccumulator::add(const torch::Tensor& input) {
    const torch::Tensor x3 = input.dim() == 2 ? input.unsqueeze(0) : input;
    if (x3.dim() != 3 || x3.size(2) != m_h.size(0))
        fail("Hessian: expected inputs [B, L, ", m_h.size(0), "], got ", input.sizes());
    const int64_t b = x3.size(0);
    m_h.mul_(static_cast<double>(m_sequences) / static_cast<double>(m_sequences + b));
    m_sequences += b;
    const torch::Tensor x = x3.to(torch::kFloat32).reshape({-1, x3.size(2)}) *
                            std::sqrt(2.0 / static_cast<double>(m_sequences));
    m_h.add_(x.t().matmul(x));
}

SparseGptResult sparseGpt(torch::Tensor& weight, torch::Tensor hessian, const Sparsity& sp,
                          const SparseGptOptions& o, const std::string& what) {
    if (weight.dim() != 2 || hessian.dim() != 2 || hessian.size(0) != weight.size(1) ||
        hessian.size(1) != weight.size(1))
        fail(what, ": SparseGPT needs a weight [C_out, C_in] and a Hessian [C_in, C_in], got ",
             weight.sizes(), " and ", hessian.sizes());
    const int64_t rows = weight.size(0), cols = weight.size(1);
    if (sp.structured() && (cols % sp.m != 0 || o.blockSize % sp.m != 0))
        fail(what, ": ", sp.n, ":", sp.m, " sparsity needs the input width (", cols,
             ") and the block size (", o.blockSize, ") to be multiples of ", sp.m);
    torch::NoGradGuard noGrad;
    torch::Tensor w = weight.to(torch::kFloat32).clone();
    torch::Tensor h = hessian.to(torch::kFloat32).clone();
    const torch::Tensor dead = h.diagonal() == 0;
    h.diagonal().masked_fill_(dead, 1.0);
    w.index_put_({torch::indexing::Slice(), dead}, 0.0);
    if (o.percdamp > 0) h.diagonal().add_(o.percdamp * h.diagonal().mean().item<double>());
    torch::Tensor hinv;
    try {
        hinv = torch::linalg_cholesky(torch::cholesky_inverse(torch::linalg_cholesky(h)), /*upper=*/true);
    } catch (const c10::Error&) {
        fail(what, ": the Hessian is not positive definite even after damping (percdamp ",
             o.percdamp, "); raise percdamp or use more calibration tokens");
    }
    SparseGptResult r;
    r.mask = torch::zeros({rows, cols}, torch::kBool);
    for (int64_t i1 = 0; i1 < cols; i1 += o.blockSize) {
        const int64_t i2 = std::min(i1 + o.blockSize, cols), count = i2 - i1;
        torch::Tensor w1 = w.narrow(1, i1, count).clone();
        torch::Tensor q1 = torch::zeros_like(w1), err1 = torch::zeros_like(w1);
        const torch::Tensor hinv1 = hinv.narrow(0, i1, count).narrow(1, i1, count);
        const torch::Tensor diag = hinv1.diagonal();
        torch::Tensor mask1 = torch::zeros({rows, count}, torch::kBool);
        if (!sp.structured()) {  // exactly floor(numel * ratio) of the block's rows x columns
            const torch::Tensor score = (w1.pow(2) / diag.pow(2).unsqueeze(0)).flatten();
            const auto k = static_cast<int64_t>(std::floor(static_cast<double>(score.numel()) * sp.ratio));
            if (k > 0) {
                const torch::Tensor order = std::get<1>(score.sort(/*stable=*/true, 0, false));
                mask1.view({-1}).index_fill_(0, order.narrow(0, 0, k), true);
            }
        }
        double loss = 0;
        for (int64_t i = 0; i < count; ++i) {
            if (sp.structured() && i % sp.m == 0) {
                const torch::Tensor score =
                    w1.narrow(1, i, sp.m).pow(2) / diag.narrow(0, i, sp.m).pow(2).unsqueeze(0);
                mask1.narrow(1, i, sp.m).copy_(selectPerRow(score, Sparsity{0, sp.n, sp.m}, what));
            }
            const torch::Tensor col = w1.select(1, i);
            const double d = diag[i].item<double>();
            const torch::Tensor q = col.masked_fill(mask1.select(1, i), 0.0);
            q1.select(1, i).copy_(q);
            const torch::Tensor e = (col - q) / d;
            loss += ((col - q).pow(2).sum() / (d * d)).item<double>() / 2;
            w1.narrow(1, i, count - i).sub_(e.unsqueeze(1).matmul(hinv1.select(0, i).narrow(0, i, count - i).unsqueeze(0)));
            err1.select(1, i).copy_(e);
        }
        w.narrow(1, i1, count).copy_(q1);
        if (i2 < cols) w.narrow(1, i2, cols - i2).sub_(err1.matmul(hinv.narrow(0, i1, count).narrow(1, i2, cols - i2)));
        r.mask.narrow(1, i1, count).copy_(mask1);
        r.loss += loss;
    }
    w.masked_fill_(r.mask, 0.0);  // exactly +0.0
    weight.copy_(w.to(weight.scalar_type()));
    return r;
}

}  // namespace frugal::prune
