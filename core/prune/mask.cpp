#include "prune/mask.h"

#include <cmath>
#include <cstdlib>

#include "common/error.h"

namespace frugal::prune {

std::string Sparsity::describe() const {
    if (structured()) return cat(n, ":", m);
    return cat(ratio * 100, "% unstructured");
}

Sparsity Sparsity::parse(const std::string& text) {
    Sparsity s;
    const auto colon = text.find(':');
    if (colon != std::string::npos) {
        char* end = nullptr;
        const long n = std::strtol(text.c_str(), &end, 10);
        const bool nOk = end == text.c_str() + colon;
        const long m = std::strtol(text.c_str() + colon + 1, &end, 10);
        if (!nOk || *end != '\0' || colon == 0 || colon + 1 == text.size())
            failInput("sparsity '", text, "' is not N:M with whole numbers (e.g. 2:4)");
        if (!(n > 0 && m > n))
            failInput("sparsity '", text, "': N:M needs 0 < N < M (N pruned in every group of M)");
        s.n = n;
        s.m = m;
        s.ratio = static_cast<double>(n) / static_cast<double>(m);
        return s;
    }
    std::string number = text;
    double scale = 1;
    if (!number.empty() && number.back() == '%') {
        number.pop_back();
        scale = 0.01;
    }
    char* end = nullptr;
    const double v = std::strtod(number.c_str(), &end) * scale;
    if (number.empty() || *end != '\0')
        failInput("sparsity '", text, "' is neither a ratio (0.5, 50%) nor N:M (2:4)");
    if (!(v > 0 && v < 1)) failInput("sparsity ", text, " is outside (0, 1)");
    s.ratio = v;
    return s;
}

torch::Tensor selectPerRow(const torch::Tensor& scores, const Sparsity& sp,
                           const std::string& what) {
    if (scores.dim() != 2) fail(what, ": scores must be [C_out, C_in], got ", scores.sizes());
    const int64_t rows = scores.size(0), cols = scores.size(1);
    torch::Tensor mask = torch::zeros({rows, cols}, torch::kBool);
    if (sp.structured()) {
        if (cols % sp.m != 0)
            failInput(what, ": ", sp.n, ":", sp.m,
                 " sparsity needs the input width to be a multiple of ", sp.m, ", but it is ",
                 cols);
        const torch::Tensor groups = scores.reshape({rows, cols / sp.m, sp.m});
        const torch::Tensor order = std::get<1>(groups.sort(/*stable=*/true, /*dim=*/2, false));
        mask.view({rows, cols / sp.m, sp.m}).scatter_(2, order.narrow(2, 0, sp.n), true);
        return mask;
    }
    const auto k = static_cast<int64_t>(std::floor(static_cast<double>(cols) * sp.ratio));
    if (k == 0) return mask;
    const torch::Tensor order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/1, false));
    mask.scatter_(1, order.narrow(1, 0, k), true);
    return mask;
}

torch::Tensor magnitudeMask(const torch::Tensor& weight, const Sparsity& sp,
                            const std::string& what) {
    const torch::Tensor a = weight.abs().to(torch::kFloat32);
    if (sp.structured()) return selectPerRow(a, sp, what);
    const auto k = static_cast<int64_t>(std::floor(static_cast<double>(a.numel()) * sp.ratio));
    torch::Tensor mask = torch::zeros({a.numel()}, torch::kBool);
    if (k > 0) {
        const torch::Tensor order = std::get<1>(a.flatten().sort(/*stable=*/true, 0, false));
        mask.index_fill_(0, order.narrow(0, 0, k), true);
    }
    return mask.view(a.sizes());
}

torch::Tensor wandaScore(const torch::Tensor& weight, const torch::Tensor& meanSquares) {
    if (weight.dim() != 2 || meanSquares.dim() != 1 || meanSquares.size(0) != weight.size(1))
        fail("Wanda score: weight ", weight.sizes(), " and input statistics ", meanSquares.sizes(),
             " do not match ([C_out, C_in] and [C_in])");
    return weight.abs().to(torch::kFloat32) * meanSquares.to(torch::kFloat32).sqrt().unsqueeze(0);
}

InputStatistics::InputStatistics(int64_t features)
    : m_meanSquares(torch::zeros({features}, torch::kFloat32)), m_meanSums(torch::zeros({features}, torch::kFloat32)) {}

torch::Tensor InputStatistics::sums(const torch::Tensor& input) {
    const torch::Tensor x = input.dim() == 2 ? input.unsqueeze(0) : input;
    if (x.dim() != 3) fail("input statistics: expected [B, L, C_in], got ", input.sizes());
    return x.to(torch::kFloat32).reshape({-1, x.size(2)}).sum(0);
}

void InputStatistics::addSums(const torch::Tensor& sums, int64_t b, int64_t tokens) {
    if (sums.dim() != 1 || sums.size(0) != m_meanSums.size(0))
        fail("input statistics: expected ", m_meanSums.size(0), " sums, got ", sums.sizes());
    m_meanSums.mul_(static_cast<double>(m_sumSequences) / static_cast<double>(m_sumSequences + b));
    m_sumSequences += b;
    m_tokens += tokens;
    m_meanSums.add_(sums / static_cast<double>(m_sumSequences));
}

torch::Tensor InputStatistics::tokenMean() const {
    if (m_tokens == 0 || m_sumSequences != m_sequences)
        fail("input statistics: E[x] needs the sums of every input (", m_sumSequences, " of ", m_sequences,
             " sequences summed)");
    return m_meanSums * (static_cast<double>(m_sumSequences) / static_cast<double>(m_tokens));
}

torch::Tensor InputStatistics::tokenVariance() const {
    const torch::Tensor mean = tokenMean().to(torch::kFloat64);  // E[x²] − E[x]² in double
    const double perToken = static_cast<double>(m_sequences) / static_cast<double>(m_tokens);
    return (m_meanSquares.to(torch::kFloat64) * perToken - mean.square()).clamp_min(0).to(torch::kFloat32);
}

torch::Tensor InputStatistics::squares(const torch::Tensor& input) {
    const torch::Tensor x = input.dim() == 2 ? input.unsqueeze(0) : input;
    if (x.dim() != 3) fail("input statistics: expected [B, L, C_in], got ", input.sizes());
    // one reduction, no [B*L, C] temporary
    return at::linalg_vector_norm(x.to(torch::kFloat32).reshape({-1, x.size(2)}), 2, {0}).square();
}

void InputStatistics::add(const torch::Tensor& input) {
    const torch::Tensor x = input.dim() == 2 ? input.unsqueeze(0) : input;
    if (x.dim() != 3 || x.size(2) != m_meanSquares.size(0))
        fail("input statistics: expected [B, L, ", m_meanSquares.size(0), "], got ", input.sizes());
    addSquares(squares(x), x.size(0));
    addSums(sums(x), x.size(0), x.size(0) * x.size(1));
}

void InputStatistics::addSquares(const torch::Tensor& sums, int64_t b) {
    if (sums.dim() != 1 || sums.size(0) != m_meanSquares.size(0))
        fail("input statistics: expected ", m_meanSquares.size(0), " sums of squares, got ",
             sums.sizes());
    // the reference's running mean over sequences: rescale, count, add
    m_meanSquares.mul_(static_cast<double>(m_sequences) / static_cast<double>(m_sequences + b));
    m_sequences += b;
    m_meanSquares.add_(sums / static_cast<double>(m_sequences));
}

int64_t applyMask(torch::Tensor& weight, const torch::Tensor& mask) {
    if (mask.sizes() != weight.sizes())
        fail("mask ", mask.sizes(), " does not match the weight ", weight.sizes());
    torch::NoGradGuard noGrad;
    weight.masked_fill_(mask.to(weight.device()), 0.0);
    return mask.sum().item<int64_t>();
}

}  // namespace frugal::prune
