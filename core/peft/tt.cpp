#include "peft/tt.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

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

TtBottleneckAdapter::TtBottleneckAdapter(TtMatrix down, TtMatrix up, torch::Tensor downBias,
                                         torch::Tensor upBias, const std::string& activation,
                                         double scaling, TtForward forward)
    : m_down(std::move(down)),
      m_up(std::move(up)),
      m_downBias(std::move(downBias)),
      m_upBias(std::move(upBias)),
      m_tanh(activation == "tanh"),
      m_scaling(scaling),
      m_forward(forward) {}

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

TtLoraUpdate::TtLoraUpdate(TtMatrix a, TtMatrix b, std::unique_ptr<TtMatrix> a0,
                           std::unique_ptr<TtMatrix> b0, double scale, TtForward forward)
    : m_a(std::move(a)),
      m_b(std::move(b)),
      m_a0(std::move(a0)),
      m_b0(std::move(b0)),
      m_scale(scale),
      m_forward(forward) {}

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

// ---- saving and loading -------------------------------------------------------------------------

namespace {

std::string baseName(const std::string& weightName) {
    const std::string suffix = ".weight";
    return weightName.size() > suffix.size() &&
                   weightName.compare(weightName.size() - suffix.size(), suffix.size(), suffix) == 0
               ? weightName.substr(0, weightName.size() - suffix.size())
               : weightName;
}

void addCores(model::NamedTensors& out, const std::string& prefix, const TtMatrix& t) {
    for (size_t k = 0; k < t.cores().size(); ++k)
        out.emplace_back(prefix + ".core" + std::to_string(k), t.cores()[k]);
}

}  // namespace

bool isTtTensorName(const std::string& name) {
    return name.find(".tt_adapter_") != std::string::npos ||
           name.find(".tt_update.") != std::string::npos || name.rfind("tt_head.", 0) == 0;
}

model::NamedTensors ttTensors(const model::Transformer& model) {
    model::NamedTensors out;
    auto& m = const_cast<model::Transformer&>(model);  // Block::linears() has no const form
    for (int64_t layer = 0; layer < m.numLayers(); ++layer)
        for (const model::Linear* l : m.block(layer).linears()) {
            const std::string base = baseName(l->name);
            for (const auto& [adapter, tag] :
                 {std::pair{l->before, ".tt_adapter_in"}, std::pair{l->after, ".tt_adapter_out"}}) {
                const auto* a = dynamic_cast<const TtBottleneckAdapter*>(adapter.get());
                if (!a) continue;
                addCores(out, base + tag + ".down", a->down());
                out.emplace_back(base + tag + ".down.bias", a->downBias());
                addCores(out, base + tag + ".up", a->up());
                out.emplace_back(base + tag + ".up.bias", a->upBias());
            }
            if (const auto* u = dynamic_cast<const TtLoraUpdate*>(l->update.get())) {
                addCores(out, base + ".tt_update.a", u->a());
                addCores(out, base + ".tt_update.b", u->b());
                if (u->a0()) addCores(out, base + ".tt_update.a0", *u->a0());
                if (u->b0()) addCores(out, base + ".tt_update.b0", *u->b0());
            }
        }
    if (const auto* h = dynamic_cast<const TtHeadAdapter*>(model.headAdapter().get()))
        addCores(out, "tt_head", h->matrix());
    return out;
}

std::string ttSettingsJson(const TtSettings& s) {
    nlohmann::ordered_json j;
    j["format"] = "frugal tensor-train adapters";
    j["tt_activation"] = s.activation;
    j["tt_scaling"] = s.scaling;
    j["tt_update_scale"] = s.updateScale;
    j["tt_forward"] = s.forward;
    return j.dump(2) + "\n";
}

TtSettings parseTtSettings(const std::string& text, const std::string& source) {
    TtSettings s;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
        s.activation = j.at("tt_activation").get<std::string>();
        s.scaling = j.at("tt_scaling").get<double>();
        s.updateScale = j.at("tt_update_scale").get<double>();
        s.forward = j.value("tt_forward", std::string("auto"));
    } catch (const std::exception& e) {
        fail(source, ": not a tensor-train adapter config (", e.what(), ")");
    }
    if (s.activation != "relu" && s.activation != "tanh")
        fail(source, ": tt_activation '", s.activation, "' (expected relu or tanh)");
    parseTtForward(s.forward);
    return s;
}

void attachTtTensors(model::Transformer& model, const model::NamedTensors& tensors,
                     const TtSettings& settings, const std::string& source) {
    // group: owner ("model.layers.0.mlp.up_proj.tt_adapter_in" or "tt_head"), part ("down",
    // "a0", ...), core index or bias
    struct Parts {
        std::map<std::string, std::map<int64_t, torch::Tensor>> cores;
        std::map<std::string, torch::Tensor> biases;
    };
    std::map<std::string, Parts> owners;
    const std::regex pattern(R"((.+)\.(down|up|a|b|a0|b0)\.(core(\d+)|bias)|tt_head\.core(\d+))");
    for (const auto& [name, tensor] : tensors) {
        std::smatch m;
        if (!std::regex_match(name, m, pattern))
            fail(source, ": cannot place tensor-train tensor '", name, "'");
        const torch::Tensor t = tensor.to(model.device(), torch::kFloat32).contiguous();
        if (m[5].matched) {
            owners["tt_head"].cores[""][std::stoll(m[5].str())] = t;
        } else if (m[4].matched) {
            owners[m[1].str()].cores[m[2].str()][std::stoll(m[4].str())] = t;
        } else {
            owners[m[1].str()].biases[m[2].str()] = t;
        }
    }
    std::map<std::string, model::Linear*> linears;
    for (int64_t layer = 0; layer < model.numLayers(); ++layer)
        for (model::Linear* l : model.block(layer).linears()) linears[baseName(l->name)] = l;
    const TtForward forward = parseTtForward(settings.forward);
    const auto matrix = [&](const std::string& owner, Parts& p, const std::string& part, int64_t in,
                            int64_t outOrZero) -> TtMatrix {
        auto it = p.cores.find(part);
        if (it == p.cores.end()) fail(source, ": '", owner, "' has no ", part, " cores");
        std::vector<torch::Tensor> cores;
        for (int64_t k = 0; k < static_cast<int64_t>(it->second.size()); ++k) {
            auto c = it->second.find(k);
            if (c == it->second.end()) fail(source, ": '", owner, ".", part, "' lacks core ", k);
            cores.push_back(c->second);
        }
        int64_t product = 1;
        for (const auto& c : cores) product *= c.dim() == 3 ? c.size(1) : 0;
        const int64_t out = outOrZero > 0 ? outOrZero : (in > 0 && product % in == 0 ? product / in : 0);
        if (out <= 0)
            fail(source, ": the cores of '", owner, ".", part, "' do not form a matrix with ", in, " rows");
        try {
            return TtMatrix::fromCores(in, out, std::move(cores));
        } catch (const Error& e) {
            fail(source, ": '", owner, ".", part, "': ", e.what());
        }
    };
    for (auto& [owner, parts] : owners) {
        if (owner == "tt_head") {
            const int64_t width = model.tokenEmbedding().size(1);
            model.setHeadAdapter(std::make_shared<TtHeadAdapter>(matrix(owner, parts, "", width, width), forward));
            continue;
        }
        const auto dot = owner.rfind('.');
        const std::string base = owner.substr(0, dot), kind = owner.substr(dot + 1);
        auto found = linears.find(base);
        if (found == linears.end()) fail(source, ": '", owner, "' names no linear layer of this model");
        model::Linear& l = *found->second;
        if (kind == "tt_adapter_in" || kind == "tt_adapter_out") {
            const int64_t width = kind == "tt_adapter_in" ? l.weight.size(1) : l.weight.size(0);
            TtMatrix down = matrix(owner, parts, "down", width, 0);
            TtMatrix up = matrix(owner, parts, "up", down.out(), width);
            if (!parts.biases.count("down") || !parts.biases.count("up"))
                fail(source, ": '", owner, "' lacks its biases");
            auto adapter = std::make_shared<TtBottleneckAdapter>(
                std::move(down), std::move(up), parts.biases["down"], parts.biases["up"],
                settings.activation, settings.scaling, forward);
            (kind == "tt_adapter_in" ? l.before : l.after) = adapter;
        } else if (kind == "tt_update") {
            const int64_t in = l.weight.size(1), out = l.weight.size(0);
            TtMatrix a = matrix(owner, parts, "a", in, 0);
            TtMatrix b = matrix(owner, parts, "b", a.out(), out);
            std::unique_ptr<TtMatrix> a0, b0;
            if (parts.cores.count("a0")) {
                a0 = std::make_unique<TtMatrix>(matrix(owner, parts, "a0", in, a.out()));
                b0 = std::make_unique<TtMatrix>(matrix(owner, parts, "b0", a.out(), out));
            }
            l.update = std::make_shared<TtLoraUpdate>(std::move(a), std::move(b), std::move(a0),
                                                      std::move(b0), settings.updateScale, forward);
        } else {
            fail(source, ": cannot place tensor-train tensors of '", owner, "'");
        }
    }
}

}  // namespace frugal::peft
