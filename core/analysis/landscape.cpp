#include "analysis/landscape.h"

#include <torch/autograd.h>
#include <torch/types.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "common/error.h"
#include "common/runtime_info.h"
#include "zo/perturb.h"
#include "zo/sharpness.h"

namespace frugal::analysis {

namespace {

// A tensor as rows: the first dimension, the rest flattened; a 1-D tensor is one row.
struct Rows {
    int64_t rows = 1, cols = 0;
};
Rows rowsOf(const torch::Tensor& t) {
    if (t.dim() < 2) return {1, t.numel()};
    return {t.size(0), t.numel() / std::max<int64_t>(1, t.size(0))};
}

template <typename T>
void writeRow(T* out, const float* in, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(in[i]);
}

void checkDtype(const Trainable& p) {
    const auto s = p.tensor.scalar_type();
    if (s != torch::kFloat32 && s != torch::kBFloat16 && s != torch::kFloat16)
        fail("landscape: tensor ", p.name, " is ", s, "; expected fp32, bf16 or fp16");
    if (!p.tensor.is_contiguous() || !p.tensor.device().is_cpu())
        fail("landscape: tensor ", p.name, " must be a contiguous CPU tensor");
}

}  // namespace

double gridPoint(double lo, double hi, int64_t i, int64_t n) {
    if (n == 1) return (lo + hi) / 2;
    return (lo * static_cast<double>(n - 1 - i) + hi * static_cast<double>(i)) / static_cast<double>(n - 1);
}

Direction filterNormalised(const std::vector<Trainable>& params, uint64_t seed) {
    Direction d;
    d.seed = seed;
    double sq = 0;
    for (const Trainable& p : params) {
        checkDtype(p);
        std::vector<float> scale;
        if (p.tensor.dim() >= 2) {
            const Rows r = rowsOf(p.tensor);
            const torch::Tensor w = p.tensor.detach().to(torch::kFloat32).reshape({r.rows, r.cols});
            const torch::Tensor wNorm = w.norm(2, {1}).to(torch::kFloat64);
            scale.resize(static_cast<size_t>(r.rows));
            std::vector<float> z(static_cast<size_t>(r.cols));
            for (int64_t row = 0; row < r.rows; ++row) {
                zo::directionRange(seed, p.index, static_cast<uint64_t>(row * r.cols), static_cast<uint64_t>(r.cols),
                                   d.law, z.data());
                double zz = 0;
                for (float v : z) zz += static_cast<double>(v) * v;
                const double target = wNorm[row].item<double>();
                const double s = zz > 0 ? target / std::sqrt(zz) : 0.0;
                scale[static_cast<size_t>(row)] = static_cast<float>(s);
                sq += s * s * zz;
            }
        }
        d.rowScale.push_back(std::move(scale));
    }
    d.norm = std::sqrt(sq);
    return d;
}

Direction rawDirection(const std::vector<Trainable>& params, uint64_t seed, zo::DirectionLaw law, double scale) {
    Direction d;
    d.seed = seed;
    d.law = law == zo::DirectionLaw::Sphere ? zo::DirectionLaw::Gaussian : law;
    double sq = 0;
    for (const Trainable& p : params) {
        checkDtype(p);
        const Rows r = rowsOf(p.tensor);
        d.rowScale.emplace_back(static_cast<size_t>(r.rows), static_cast<float>(scale));
        if (d.law == zo::DirectionLaw::Rademacher) {  // ±1: the norm needs no values
            sq += static_cast<double>(p.tensor.numel());
            continue;
        }
        std::vector<float> z(static_cast<size_t>(p.tensor.numel()));
        zo::directionRange(seed, p.index, 0, z.size(), d.law, z.data());
        for (float v : z) sq += static_cast<double>(v) * v;
    }
    d.norm = std::sqrt(sq) * std::fabs(scale);
    return d;
}

Direction between(const std::vector<Trainable>& params, const std::vector<torch::Tensor>& target) {
    if (target.size() != params.size())
        fail("landscape between two models: ", params.size(), " trainable tensors against ", target.size());
    Direction d;
    d.kind = Direction::Kind::Dense;
    double sq = 0;
    for (size_t t = 0; t < params.size(); ++t) {
        checkDtype(params[t]);
        if (target[t].sizes() != params[t].tensor.sizes())
            fail("landscape between two models: tensor ", params[t].name, " is ", params[t].tensor.sizes(),
                 " in the first model and ", target[t].sizes(), " in the second");
        torch::Tensor diff = (target[t].to(torch::kFloat32) - params[t].tensor.to(torch::kFloat32)).contiguous();
        sq += diff.pow(2).sum().item<double>();
        d.dense.push_back(std::move(diff));
    }
    d.norm = std::sqrt(sq);
    return d;
}

torch::Tensor materialise(const Direction& d, const std::vector<Trainable>& params, size_t t) {
    const Trainable& p = params.at(t);
    if (d.kind == Direction::Kind::Dense) return d.dense.at(t).flatten().clone();
    const Rows r = rowsOf(p.tensor);
    torch::Tensor out = torch::zeros({p.tensor.numel()}, torch::kFloat32);
    const auto& scale = d.rowScale.at(t);
    if (scale.empty()) return out;
    float* o = out.data_ptr<float>();
    for (int64_t row = 0; row < r.rows; ++row) {
        zo::directionRange(d.seed, p.index, static_cast<uint64_t>(row * r.cols), static_cast<uint64_t>(r.cols), d.law,
                           o + row * r.cols);
        for (int64_t i = 0; i < r.cols; ++i) o[row * r.cols + i] *= scale[static_cast<size_t>(row)];
    }
    return out;
}

Mover::Mover(std::vector<Trainable> params) : m_params(std::move(params)) {
    for (const Trainable& p : m_params) {
        checkDtype(p);
        m_base.push_back(p.tensor.detach().to(torch::kFloat32).contiguous().clone());
    }
}

Mover::~Mover() {
    try {
        restore();
    } catch (...) {  // a destructor does not throw; the weights were set from θ₀ before
    }
}

void Mover::restore() {
    c10::InferenceMode guard;
    for (size_t t = 0; t < m_params.size(); ++t) m_params[t].tensor.copy_(m_base[t]);
}

void Mover::set(const std::vector<const Direction*>& directions, const std::vector<double>& coefficients) {
    apply(directions, coefficients, true);
}

void Mover::add(const Direction& direction, double coefficient) { apply({&direction}, {coefficient}, false); }

void Mover::apply(const std::vector<const Direction*>& directions, const std::vector<double>& coefficients,
                  bool fromBase) {
    if (directions.size() != coefficients.size())
        fail("landscape: ", directions.size(), " directions and ", coefficients.size(), " coefficients");
    // Chunks of zo::kChunk elements across the usable cores, as the ZO passes do: each chunk is
    // θ₀ plus every direction's values, generated for the whole chunk in one call and scaled row
    // by row; the arithmetic of an element does not depend on the chunking or the thread count.
    std::vector<std::pair<size_t, int64_t>> tasks;
    for (size_t t = 0; t < m_params.size(); ++t)
        for (int64_t start = 0; start < m_params[t].tensor.numel(); start += zo::kChunk) tasks.emplace_back(t, start);
    std::atomic<size_t> next{0};
    const auto worker = [&] {
        std::vector<float> row(static_cast<size_t>(zo::kChunk)), z(static_cast<size_t>(zo::kChunk));
        for (size_t k; (k = next.fetch_add(1)) < tasks.size();) {
            const auto [t, start] = tasks[k];
            torch::Tensor& out = m_params[t].tensor;
            const int64_t len = std::min(zo::kChunk, out.numel() - start);
            const int64_t cols = std::max<int64_t>(1, rowsOf(out).cols);
            const auto type = out.scalar_type();
            if (fromBase) {
                const float* base = m_base[t].data_ptr<float>() + start;
                std::copy(base, base + len, row.begin());
            } else if (type == torch::kFloat32) {
                const float* now = out.data_ptr<float>() + start;
                std::copy(now, now + len, row.begin());
            } else if (type == torch::kBFloat16) {
                const auto* now = out.data_ptr<c10::BFloat16>() + start;
                for (int64_t j = 0; j < len; ++j) row[static_cast<size_t>(j)] = static_cast<float>(now[j]);
            } else {
                const auto* now = out.data_ptr<c10::Half>() + start;
                for (int64_t j = 0; j < len; ++j) row[static_cast<size_t>(j)] = static_cast<float>(now[j]);
            }
            for (size_t di = 0; di < directions.size(); ++di) {
                const Direction& d = *directions[di];
                const double c = coefficients[di];
                if (c == 0) continue;
                if (d.kind == Direction::Kind::Dense) {
                    const float* v = d.dense[t].data_ptr<float>() + start;
                    const auto cf = static_cast<float>(c);
                    for (int64_t j = 0; j < len; ++j) row[static_cast<size_t>(j)] += cf * v[j];
                    continue;
                }
                const auto& scale = d.rowScale[t];
                if (scale.empty()) continue;
                zo::directionRange(d.seed, m_params[t].index, static_cast<uint64_t>(start), static_cast<uint64_t>(len),
                                   d.law, z.data());
                for (int64_t j = 0; j < len;) {  // one row segment at a time
                    const int64_t r = (start + j) / cols;
                    const int64_t end = std::min(len, (r + 1) * cols - start);
                    const auto cs = static_cast<float>(c * scale[static_cast<size_t>(r)]);
                    for (; j < end; ++j) row[static_cast<size_t>(j)] += cs * z[static_cast<size_t>(j)];
                }
            }
            if (type == torch::kFloat32)
                writeRow(out.data_ptr<float>() + start, row.data(), len);
            else if (type == torch::kBFloat16)
                writeRow(out.data_ptr<c10::BFloat16>() + start, row.data(), len);
            else
                writeRow(out.data_ptr<c10::Half>() + start, row.data(), len);
        }
    };
    const int threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(1, usableCores())),
                                                          (tasks.size() + 7) / 8));
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
}

namespace {

// One round of a shared-out slice: this process's VALUES (NaN where it had no point) and its stop
// flag gathered; every process's values in rank order, or Cancelled when any process was asked to
// stop.
std::vector<double> gatherRound(const SliceSettings& s, std::vector<double> values, bool stopMine,
                                const std::string& where) {
    values.push_back(stopMine ? 1 : 0);
    const size_t width = values.size();
    std::vector<double> all = s.gather(values);
    std::vector<double> out;
    bool stopAny = false;
    for (int r = 0; r < s.count; ++r) {
        const auto at = all.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(r) * width);
        out.insert(out.end(), at, at + static_cast<std::ptrdiff_t>(width - 1));
        stopAny = stopAny || at[static_cast<std::ptrdiff_t>(width - 1)] != 0;
    }
    if (stopAny) throw Cancelled("landscape stopped " + where);
    return out;
}

}  // namespace

Slice slice1d(Mover& mover, const Direction& d1, const std::function<double()>& loss,
              const SliceSettings& s, const StopToken& stop) {
    if (s.points < 2) fail("landscape: a slice needs at least 2 points per axis, got ", s.points);
    const auto start = std::chrono::steady_clock::now();
    Slice out;
    out.dims = 1;
    out.centre = NAN;
    for (int64_t i = 0; i < s.points; ++i) out.axis.push_back(gridPoint(s.lo, s.hi, i, s.points));
    const int64_t count = s.gather ? s.count : 1, rank = s.gather ? s.rank : 0;
    for (int64_t round = 0; round * count < s.points; ++round) {
        const int64_t i = round * count + rank;
        const std::string where = cat("at point ", round * count, " of ", s.points);
        if (!s.gather && stop.stopRequested()) throw Cancelled("landscape stopped " + where);
        double l = NAN;
        if (i < s.points) {
            mover.set({&d1}, {out.axis[static_cast<size_t>(i)]});
            l = loss();
            ++out.forwards;
        }
        const std::vector<double> round_ = s.gather ? gatherRound(s, {l}, stop.stopRequested(), where) : std::vector<double>{l};
        for (int64_t r = 0; r < count && round * count + r < s.points; ++r) {
            const double v = round_[static_cast<size_t>(r)];
            out.loss.push_back(v);
            if (out.axis[static_cast<size_t>(round * count + r)] == 0) out.centre = v;
        }
    }
    mover.restore();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

Slice slice2d(Mover& mover, const Direction& d1, const Direction& d2, const std::function<double()>& loss,
              const SliceSettings& s, const StopToken& stop, const std::function<void(int64_t, const Slice&)>& onRow) {
    if (s.points < 2) fail("landscape: a slice needs at least 2 points per axis, got ", s.points);
    const auto start = std::chrono::steady_clock::now();
    Slice out;
    out.dims = 2;
    out.centre = NAN;
    for (int64_t i = 0; i < s.points; ++i) out.axis.push_back(gridPoint(s.lo, s.hi, i, s.points));
    const int64_t count = s.gather ? s.count : 1, rank = s.gather ? s.rank : 0;
    for (int64_t round = 0; round * count < s.points; ++round) {
        const int64_t row = round * count + rank;
        std::vector<double> mine(static_cast<size_t>(s.points), NAN);
        if (row < s.points) {
            const double b = out.axis[static_cast<size_t>(row)];
            for (int64_t col = 0; col < s.points; ++col) {
                if (!s.gather && stop.stopRequested())
                    throw Cancelled(cat("landscape stopped at point ", row * s.points + col, " of ", s.points * s.points));
                const double a = out.axis[static_cast<size_t>(col)];
                if (col == 0 || a == 0)  // from θ₀: the centre is θ₀ exactly
                    mover.set({&d1, &d2}, {a, b});
                else  // along the row, one direction regenerated instead of two
                    mover.add(d1, a - out.axis[static_cast<size_t>(col - 1)]);
                mine[static_cast<size_t>(col)] = loss();
                ++out.forwards;
            }
        }
        const std::vector<double> rows =
            s.gather ? gatherRound(s, mine, stop.stopRequested(), cat("at row ", round * count, " of ", s.points)) : mine;
        for (int64_t r = 0; r < count && round * count + r < s.points; ++r) {
            const int64_t done = round * count + r;
            for (int64_t col = 0; col < s.points; ++col) {
                const double v = rows[static_cast<size_t>(r * s.points + col)];
                out.loss.push_back(v);
                if (out.axis[static_cast<size_t>(col)] == 0 && out.axis[static_cast<size_t>(done)] == 0) out.centre = v;
            }
            if (onRow) onRow(done, out);
        }
    }
    mover.restore();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

Sharpness sharpness(Mover& mover, const std::function<double()>& loss, const SharpnessSettings& s,
                    const std::function<torch::Tensor()>& gradLoss) {
    Sharpness out;
    const auto& params = mover.params();
    std::vector<Direction> probes, units;
    for (int64_t k = 0; k < s.probes; ++k) {
        probes.push_back(rawDirection(params, s.seed * 7919 + 2 * static_cast<uint64_t>(k) + 1,
                                      zo::DirectionLaw::Rademacher));
        Direction u = rawDirection(params, s.seed * 7919 + 2 * static_cast<uint64_t>(k) + 2, zo::DirectionLaw::Gaussian);
        const double inv = 1.0 / u.norm;
        for (auto& scale : u.rowScale)
            for (float& v : scale) v = static_cast<float>(inv);
        u.norm = 1;
        units.push_back(std::move(u));
    }
    const zo::HutchinsonEstimate t = zo::hutchinsonTrace(
        [&](int64_t k, double h) {
            mover.set({&probes[static_cast<size_t>(k)]}, {h});
            return loss();
        },
        s.probes, s.h);
    const zo::EpsBallEstimate e = zo::epsBallSharpness(
        [&](int64_t k, double r) {
            mover.set({&units[static_cast<size_t>(k)]}, {r});
            return loss();
        },
        s.probes, s.rho);
    mover.restore();
    out.trace = t.trace;
    out.traceError = t.standardError;
    out.epsBall = e.sharpness;
    out.base = e.base;
    out.forwards = t.forwards + e.forwards;
    if (gradLoss) {
        // The gradient through autograd::grad: the tensors' .grad (an optimiser's) and their
        // requires_grad flags are left as they were.
        std::vector<torch::Tensor> tensors, grads;
        std::vector<bool> had;
        for (const Trainable& p : params) {
            had.push_back(p.tensor.requires_grad());
            p.tensor.set_requires_grad(true);
            tensors.push_back(p.tensor);
        }
        const auto reset = [&] {
            for (size_t t2 = 0; t2 < params.size(); ++t2) params[t2].tensor.set_requires_grad(had[t2]);
        };
        try {
            const torch::Tensor l = gradLoss();
            const auto g = torch::autograd::grad({l}, tensors, {}, false, false, /*allow_unused=*/true);
            for (size_t t2 = 0; t2 < params.size(); ++t2)
                grads.push_back(g[t2].defined() ? g[t2].to(torch::kFloat32)
                                                : torch::zeros_like(params[t2].tensor, torch::kFloat32));
        } catch (...) {
            reset();
            throw;
        }
        reset();
        double sq = 0;
        for (const auto& g : grads) sq += g.pow(2).sum().item<double>();
        const double norm = std::sqrt(sq);
        if (norm > 0 && std::isfinite(norm)) {
            std::vector<torch::Tensor> target;
            for (size_t t2 = 0; t2 < params.size(); ++t2)
                target.push_back(params[t2].tensor.detach().to(torch::kFloat32) + grads[t2] * static_cast<float>(s.rho / norm));
            const Direction step = between(params, target);
            mover.set({&step}, {1.0});
            out.sam = loss() - out.base;
            mover.restore();
            out.forwards += 1;
        } else {
            out.sam = norm == 0 ? 0.0 : NAN;
        }
    }
    return out;
}

}  // namespace frugal::analysis
