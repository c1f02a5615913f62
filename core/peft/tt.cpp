#include "peft/tt.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "common/error.h"
#include "common/format.h"

namespace frugal::peft {

namespace {

// The fewest factors of N within [LO, HI], then the smallest largest factor, ascending; empty
// when there is none (N = 1 gives an empty list too: callers check).
std::vector<int64_t> searchFactors(int64_t n, int64_t lo, int64_t hi) {
    std::vector<int64_t> best, current;
    std::function<void(int64_t, int64_t)> rec = [&](int64_t rest, int64_t from) {
        if (rest == 1) {
            if (current.empty()) return;
            const bool better =
                best.empty() || current.size() < best.size() ||
                (current.size() == best.size() &&
                 (current.back() < best.back() ||
                  (current.back() == best.back() && current < best)));
            if (better) best = current;
            return;
        }
        if (!best.empty() && current.size() + 1 > best.size()) return;
        for (int64_t f = from; f <= std::min(hi, rest); ++f) {
            if (rest % f != 0) continue;
            current.push_back(f);
            rec(rest / f, f);
            current.pop_back();
        }
    };
    rec(n, lo);
    return best;
}

// The reference's shapes (SPEC-ZO §5.2), keyed by (hidden, other side).
const std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>>& referenceShapes() {
    static const std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> table = {
        {{768, 64}, {8, 8, 12, 8, 8}},
        {{1024, 64}, {4, 8, 8, 8, 8, 4}},
        {{4096, 64}, {16, 16, 16, 4, 4, 4}},
        {{5120, 64}, {5, 8, 8, 16, 8, 8}},
        {{768, 8}, {8, 8, 12, 8}},
        {{1024, 8}, {4, 8, 8, 8, 4}},
        {{4096, 8}, {16, 16, 8, 4, 4}},
        {{5120, 8}, {8, 8, 10, 8, 8}},
        {{768, 5}, {5, 8, 12, 8}},
        {{1024, 5}, {4, 8, 5, 8, 4}},
        {{4096, 5}, {16, 16, 5, 4, 4}},
        {{5120, 5}, {5, 8, 10, 8, 8}},
        {{768, 768}, {8, 8, 12, 12, 8, 8}},
        {{1024, 1024}, {4, 8, 8, 16, 8, 8, 4}},
        {{4096, 4096}, {4, 4, 16, 16, 16, 16, 4, 4}},
    };
    return table;
}

}  // namespace

std::string modesText(const std::vector<int64_t>& modes) {
    std::string s = "[";
    for (size_t i = 0; i < modes.size(); ++i) s += (i ? "," : "") + std::to_string(modes[i]);
    return s + "]";
}

std::vector<int64_t> factorModes(int64_t n) {
    if (n < 1) fail("tensor-train modes: cannot factor ", n);
    if (n < 4) return {n};
    // prime factors above 16 cannot share a mode within 4..16: each becomes a mode of its own
    std::vector<int64_t> big;
    int64_t rest = n, large = n;
    for (int64_t p = 2; p <= 16; ++p)
        while (large % p == 0) large /= p;
    for (int64_t p = 17; large > 1; ++p)
        while (large % p == 0) {
            big.push_back(p);
            large /= p;
            rest /= p;
        }
    std::vector<int64_t> modes;
    if (rest > 1) {
        modes = searchFactors(rest, 4, 16);
        if (modes.empty()) modes = searchFactors(rest, 2, 16);
        if (modes.empty()) modes = {rest};
    }
    modes.insert(modes.end(), big.begin(), big.end());
    std::sort(modes.begin(), modes.end());
    return modes;
}

std::vector<int64_t> ttModes(int64_t in, int64_t out) {
    if (in < 1 || out < 1) fail("tensor-train matrix ", in, " x ", out, ": sizes must be positive");
    const auto& table = referenceShapes();
    if (auto it = table.find({in, out}); it != table.end()) return it->second;
    if (auto it = table.find({out, in}); it != table.end()) return it->second;
    std::vector<int64_t> modes = factorModes(in);
    const std::vector<int64_t> outModes = factorModes(out);
    modes.insert(modes.end(), outModes.begin(), outModes.end());
    return modes;
}

int64_t ttCoreCount(const std::vector<int64_t>& modes, int64_t rank) {
    int64_t n = 0;
    const size_t d = modes.size();
    for (size_t k = 0; k < d; ++k) {
        const int64_t left = k == 0 ? 1 : rank, right = k + 1 == d ? 1 : rank;
        n += left * modes[k] * right;
    }
    return n;
}

std::string ttForwardName(TtForward mode) {
    switch (mode) {
        case TtForward::Auto: return "auto";
        case TtForward::Dense: return "dense";
        case TtForward::Contract: return "contract";
    }
    return "auto";
}

TtForward parseTtForward(const std::string& name) {
    for (auto m : {TtForward::Auto, TtForward::Dense, TtForward::Contract})
        if (ttForwardName(m) == name) return m;
    fail("unknown tensor-train forward '", name, "' (expected auto, dense or contract)");
}

// ---- TtMatrix ----------------------------------------------------------------------------------

TtMatrix TtMatrix::gaussian(int64_t in, int64_t out, const std::vector<int64_t>& modes,
                            int64_t rank, at::Generator& gen, bool zeroLast,
                            torch::Device device) {
    if (rank < 1) fail("tensor-train rank must be at least 1, got ", rank);
    if (modes.empty()) fail("tensor-train matrix ", in, " x ", out, ": no modes");
    const size_t d = modes.size();
    // entry variance s^(2/d) / r_k, s^2 = 1/(in+out): every W entry then has variance 1/(in+out)
    const double s2 = 1.0 / static_cast<double>(in + out);
    std::vector<torch::Tensor> cores;
    for (size_t k = 0; k < d; ++k) {
        const int64_t left = k == 0 ? 1 : rank, right = k + 1 == d ? 1 : rank;
        const double var = std::pow(s2, 1.0 / static_cast<double>(d)) / static_cast<double>(right);
        torch::Tensor core = torch::randn({left, modes[k], right}, gen, torch::kFloat32) * std::sqrt(var);
        if (zeroLast && k + 1 == d) core.zero_();
        cores.push_back(core.to(device).contiguous());
    }
    return fromCores(in, out, std::move(cores));
}

TtMatrix TtMatrix::fromCores(int64_t in, int64_t out, std::vector<torch::Tensor> cores) {
    TtMatrix t;
    t.m_in = in;
    t.m_out = out;
    int64_t product = 1, prevRight = 1;
    for (size_t k = 0; k < cores.size(); ++k) {
        const auto& c = cores[k];
        if (c.dim() != 3 || c.size(0) != prevRight)
            fail("tensor-train core ", k, " has shape ", c.sizes(), "; expected [", prevRight,
                 ", n, r]");
        t.m_modes.push_back(c.size(1));
        product *= c.size(1);
        prevRight = c.size(2);
        if (k + 1 < cores.size()) t.m_rank = std::max(t.m_rank, c.size(2));
    }
    if (cores.empty() || prevRight != 1)
        fail("tensor-train matrix ", in, " x ", out, ": the last core must end in rank 1");
    if (product != in * out)
        fail("tensor-train modes multiply to ", product, ", not ", in, " x ", out, " = ", in * out);
    if (t.m_rank == 0) t.m_rank = 1;
    for (auto& c : cores)
        if (c.scalar_type() != torch::kFloat32) c = c.to(torch::kFloat32);
    t.m_cores = std::move(cores);
    t.locateSplit();
    return t;
}

void TtMatrix::locateSplit() {
    // the core k whose mode holds the boundary: prod(n_0..n_{k-1}) = P divides in, and
    // a = in / P divides n_k
    int64_t prefix = 1;
    m_split = -1;
    for (size_t k = 0; k < m_modes.size(); ++k) {
        if (prefix * m_modes[k] >= m_in) {
            if (m_in % prefix == 0 && m_modes[k] % (m_in / prefix) == 0) {
                m_split = static_cast<int64_t>(k);
                m_a = m_in / prefix;
                m_b = m_modes[k] / m_a;
            }
            return;
        }
        prefix *= m_modes[k];
    }
}

int64_t TtMatrix::count() const {
    int64_t n = 0;
    for (const auto& c : m_cores) n += c.numel();
    return n;
}

torch::Tensor TtMatrix::full() const {
    torch::Tensor t = torch::ones({1, 1}, m_cores.front().options());
    for (const auto& c : m_cores) t = torch::matmul(t, c.reshape({c.size(0), -1})).reshape({-1, c.size(2)});
    return t.reshape({m_in, m_out});
}

torch::Tensor TtMatrix::inSide() const {
    const auto k = static_cast<size_t>(m_split);
    torch::Tensor left = torch::ones({1, 1}, m_cores.front().options());
    for (size_t j = 0; j < k; ++j) {
        const auto& c = m_cores[j];
        left = torch::matmul(left, c.reshape({c.size(0), -1})).reshape({-1, c.size(2)});
    }
    const auto& c = m_cores[k];
    return torch::matmul(left, c.reshape({c.size(0), -1})).reshape({m_in, m_b * c.size(2)});
}

torch::Tensor TtMatrix::outSide() const {
    const auto k = static_cast<size_t>(m_split);
    torch::Tensor right = torch::ones({1, 1}, m_cores.front().options());
    for (size_t j = m_cores.size(); j-- > k + 1;) {
        const auto& c = m_cores[j];
        right = torch::matmul(c.reshape({c.size(0) * c.size(1), c.size(2)}), right)
                    .reshape({c.size(0), -1});
    }
    return right;  // [r_{k+1}, out / b]
}

namespace {
// multiply-adds of chaining cores [from, to) left to right from a [1, 1] start
double chainCost(const std::vector<int64_t>& modes, int64_t rank, size_t from, size_t to) {
    double rows = 1, cost = 0;
    const size_t d = modes.size();
    for (size_t k = from; k < to; ++k) {
        const double left = k == 0 ? 1 : static_cast<double>(rank);
        const double right = k + 1 == d ? 1 : static_cast<double>(rank);
        cost += rows * left * static_cast<double>(modes[k]) * right;
        rows *= static_cast<double>(modes[k]);
    }
    return cost;
}
}  // namespace

double TtMatrix::denseCost(int64_t rows) const {
    return chainCost(m_modes, m_rank, 0, m_modes.size()) +
           static_cast<double>(rows) * static_cast<double>(m_in) * static_cast<double>(m_out);
}

double TtMatrix::contractCost(int64_t rows) const {
    if (!canContract()) return INFINITY;
    const auto k = static_cast<size_t>(m_split);
    const double r = k + 1 == m_modes.size() ? 1 : static_cast<double>(m_rank);
    const double build = chainCost(m_modes, m_rank, 0, k + 1) +
                         chainCost(m_modes, m_rank, k + 1, m_modes.size()) * r;
    return build + static_cast<double>(rows) * r *
                       (static_cast<double>(m_in * m_b) + static_cast<double>(m_out));
}

TtForward TtMatrix::chosen(int64_t rows) const {
    return contractCost(rows) < denseCost(rows) ? TtForward::Contract : TtForward::Dense;
}

torch::Tensor TtMatrix::apply(const torch::Tensor& x, TtForward mode) const {
    if (x.size(-1) != m_in)
        fail("tensor-train matrix ", m_in, " x ", m_out, ": input has width ", x.size(-1));
    const torch::Tensor x2 = x.reshape({-1, m_in}).to(torch::kFloat32);
    const int64_t rows = x2.size(0);
    if (mode == TtForward::Auto) mode = chosen(rows);
    if (mode == TtForward::Contract && !canContract())
        fail("tensor-train modes ", modesText(m_modes), " put the ", m_in, " | ", m_out,
             " boundary where no core splits; use the dense forward");
    torch::Tensor y;
    if (mode == TtForward::Dense) {
        y = torch::matmul(x2, full());
    } else {
        const torch::Tensor side = inSide();
        const torch::Tensor right = outSide();
        y = torch::matmul(torch::matmul(x2, side).reshape({rows * m_b, right.size(0)}), right)
                .reshape({rows, m_out});
    }
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = m_out;
    return y.reshape(shape).to(x.scalar_type());
}

// ---- adapters ----------------------------------------------------------------------------------

TtBottleneckAdapter::TtBottleneckAdapter(int64_t width, const TtAdapterOptions& o,
                                         at::Generator& gen, torch::Device device)
    : m_down(TtMatrix::gaussian(width, o.bottleneck, ttModes(width, o.bottleneck), o.rank, gen,
                                false, device)),
      m_up(TtMatrix::gaussian(o.bottleneck, width, ttModes(o.bottleneck, width), o.rank, gen,
                              o.identityStart, device)),
      m_tanh(o.activation == "tanh"),
      m_scaling(o.scaling),
      m_forward(o.forward) {
    if (o.activation != "relu" && o.activation != "tanh")
        fail("peft.tt_activation: unknown '", o.activation, "' (expected relu or tanh)");
    // nn.Linear's bias init, as the reference's wrapped layers: U(-1/sqrt(out), 1/sqrt(out))
    const double bd = 1.0 / std::sqrt(static_cast<double>(o.bottleneck));
    const double bu = 1.0 / std::sqrt(static_cast<double>(width));
    m_downBias = (torch::rand({o.bottleneck}, gen, torch::kFloat32) * (2 * bd) - bd).to(device);
    m_upBias = (torch::rand({width}, gen, torch::kFloat32) * (2 * bu) - bu).to(device);
    if (o.identityStart) m_upBias.zero_();
}

torch::Tensor TtBottleneckAdapter::apply(const torch::Tensor& h) const {
    const torch::Tensor h32 = h.to(torch::kFloat32);
    torch::Tensor z = m_down.apply(h32, m_forward) + m_downBias;
    z = m_tanh ? torch::tanh(z) : torch::relu(z);
    const torch::Tensor out = h32 + (m_up.apply(z, m_forward) + m_upBias) * m_scaling;
    return out.to(h.scalar_type());
}

TtLoraUpdate::TtLoraUpdate(int64_t in, int64_t out, int64_t r, double alpha, int64_t rank,
                           bool identityStart, TtForward forward, at::Generator& gen,
                           torch::Device device)
    : m_a(TtMatrix::gaussian(in, r, ttModes(in, r), rank, gen, false, device)),
      m_b(TtMatrix::gaussian(r, out, ttModes(r, out), rank, gen, identityStart, device)),
      m_scale(alpha / static_cast<double>(r)),
      m_forward(forward) {
    if (!identityStart) {
        std::vector<torch::Tensor> a0, b0;
        for (const auto& c : m_a.cores()) a0.push_back(c.clone());
        for (const auto& c : m_b.cores()) b0.push_back(c.clone());
        m_a0 = std::make_unique<TtMatrix>(TtMatrix::fromCores(in, r, std::move(a0)));
        m_b0 = std::make_unique<TtMatrix>(TtMatrix::fromCores(r, out, std::move(b0)));
    }
}

torch::Tensor TtLoraUpdate::apply(const torch::Tensor& x) const {
    const torch::Tensor x32 = x.to(torch::kFloat32);
    torch::Tensor d = m_b.apply(m_a.apply(x32, m_forward), m_forward);
    if (m_a0) d = d - m_b0->apply(m_a0->apply(x32, m_forward), m_forward);
    return (d * m_scale).to(x.scalar_type());
}

TtHeadAdapter::TtHeadAdapter(int64_t hidden, int64_t rank, TtForward forward, at::Generator& gen,
                             torch::Device device)
    : m_t(TtMatrix::gaussian(hidden, hidden, ttModes(hidden, hidden), rank, gen, true, device)),
      m_forward(forward) {}

torch::Tensor TtHeadAdapter::apply(const torch::Tensor& h) const {
    const torch::Tensor h32 = h.to(torch::kFloat32);
    return (h32 + m_t.apply(h32, m_forward)).to(h.scalar_type());
}

}  // namespace frugal::peft
