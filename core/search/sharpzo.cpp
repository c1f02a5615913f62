#include "search/sharpzo.h"

#include <torch/types.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "common/error.h"
#include "common/format.h"
#include "common/runtime_info.h"
#include "zo/directions.h"
#include "zo/sharpness.h"
#include "common/metric_keys.h"
#include "search/sharpzo_metrics.h"
#include "zo/zo_metrics.h"

namespace frugal::search {

namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// The direction of SEED (stream STREAM) in dimension D under LAW (Philox: regenerated, never stored).
torch::Tensor seededVector(uint64_t seed, uint32_t stream, int64_t d, zo::DirectionLaw law) {
    std::vector<float> z(static_cast<size_t>(d));
    zo::directionRange(seed, stream, 0, static_cast<uint64_t>(d), law, z.data());
    return torch::tensor(z).to(torch::kFloat64);
}

// The trainables as a function of w: θ = θ₀ + A·w over their values laid end to end (a soft
// prompt: p = p₀ + reshape(A·w, [m, H])). A is stored: at most kMaxProjection entries.
constexpr int64_t kMaxProjection = int64_t{1} << 26;  // 256 MiB of fp32

class Projection {
public:
    Projection(const std::vector<peft::Trainable>& params, int64_t dim, uint64_t seed) : m_params(params) {
        std::vector<torch::Tensor> flat;
        for (const auto& t : m_params) flat.push_back(t.tensor.detach().to(torch::kFloat32).flatten());
        m_p0 = torch::cat(flat);
        const int64_t rows = m_p0.numel();
        if (rows * dim > kMaxProjection)
            failInput("sharpzo.dim = ", dim, " over the ", rows, " trainable values needs a ", rows, " x ", dim,
                      " projection (", shortNumber(static_cast<double>(rows * dim) * 4 / (1 << 30)),
                      " GiB in fp32), more than the ", kMaxProjection * 4 / (1 << 20),
                      " MiB SharpZO keeps; lower sharpzo.dim to at most ", std::max<int64_t>(1, kMaxProjection / rows),
                      " or choose a smaller peft.target");
        std::vector<float> a(static_cast<size_t>(rows * dim));
        zo::directionRange(seed, 0, 0, a.size(), zo::DirectionLaw::Gaussian, a.data());
        m_scale = m_p0.norm().item<double>() / std::sqrt(static_cast<double>(rows) * static_cast<double>(dim));
        m_A = torch::tensor(a).view({rows, dim}).mul_(m_scale);
    }
    void apply(const torch::Tensor& w) {
        c10::InferenceMode guard;
        const torch::Tensor theta = m_p0 + torch::matmul(m_A, w.to(torch::kFloat32));
        int64_t at = 0;
        for (const auto& t : m_params) {
            const int64_t n = t.tensor.numel();
            t.tensor.copy_(theta.slice(0, at, at + n).view(t.tensor.sizes()).to(t.tensor.scalar_type()));
            at += n;
        }
    }
    // The prompts of the rows of X ([K, d]) when the one trainable is a soft prompt: [K, P, E], fp32.
    torch::Tensor prompts(const torch::Tensor& x) const {
        c10::InferenceMode guard;
        const torch::Tensor shifts = torch::matmul(x.to(torch::kFloat32), m_A.t());  // [K, P·E]
        std::vector<int64_t> shape{x.size(0)};
        for (int64_t n : m_params.front().tensor.sizes()) shape.push_back(n);
        return (m_p0.unsqueeze(0) + shifts).view(shape);
    }
    double shiftNorm(const torch::Tensor& w) const {  // ‖A·w‖
        return torch::matmul(m_A, w.to(torch::kFloat32)).norm().item<double>();
    }
    double scale() const { return m_scale; }
    double norm() const { return m_p0.norm().item<double>(); }
    int64_t values() const { return m_p0.numel(); }

private:
    std::vector<peft::Trainable> m_params;
    torch::Tensor m_p0, m_A;
    double m_scale = 0;
};

struct Plateau {
    double best = -INFINITY;
    int64_t since = 0;
    bool update(double accuracy, double minDelta) {  // true: no rise above best + minDelta
        if (accuracy > best + minDelta) {
            best = accuracy;
            since = 0;
            return false;
        }
        if (accuracy > best) best = accuracy;
        ++since;
        return true;
    }
};

}  // namespace

std::vector<double> lossesAt(const VectorLoss& loss, const PointsLoss& points, const torch::Tensor& x) {
    if (points) {
        std::vector<double> out = points(x);
        if (static_cast<int64_t>(out.size()) != x.size(0))
            fail("SharpZO: a batched evaluation of ", x.size(0), " points gave ", out.size(), " losses");
        return out;
    }
    std::vector<double> out;
    for (int64_t i = 0; i < x.size(0); ++i) out.push_back(loss(x[i]));
    return out;
}

torch::Tensor coordinateGradient(const VectorLoss& loss, const torch::Tensor& w, double mu, const PointsLoss& points) {
    const int64_t d = w.numel();
    const torch::Tensor base = w.to(torch::kFloat64).flatten().contiguous();
    std::vector<double> g(static_cast<size_t>(d));
    if (!points) {  // one point at a time: one copy of w
        torch::Tensor x = base.clone();
        auto* data = x.data_ptr<double>();
        for (int64_t j = 0; j < d; ++j) {
            const double keep = data[j];
            data[j] = keep + mu;
            const double plus = loss(x.view(w.sizes()));
            data[j] = keep - mu;
            const double minus = loss(x.view(w.sizes()));
            data[j] = keep;
            g[static_cast<size_t>(j)] = (plus - minus) / (2 * mu);
        }
        return torch::tensor(g, kDouble).view(w.sizes());
    }
    // rows 2i and 2i+1 of a block: w + μe_j and w − μe_j (j = first + i); blocks of at most 64 MiB
    // of points, so a large d never holds its 2d points at once
    const int64_t block = std::max<int64_t>(1, std::min<int64_t>(d, (int64_t{64} << 20) / (16 * d)));
    for (int64_t first = 0; first < d; first += block) {
        const int64_t n = std::min(block, d - first);
        torch::Tensor x = base.unsqueeze(0).repeat({2 * n, 1});
        auto* data = x.data_ptr<double>();
        for (int64_t i = 0; i < n; ++i) {
            data[(2 * i) * d + first + i] += mu;
            data[(2 * i + 1) * d + first + i] -= mu;
        }
        const std::vector<double> f = lossesAt(loss, points, x);
        for (int64_t i = 0; i < n; ++i)
            g[static_cast<size_t>(first + i)] =
                (f[static_cast<size_t>(2 * i)] - f[static_cast<size_t>(2 * i + 1)]) / (2 * mu);
    }
    return torch::tensor(g, kDouble).view(w.sizes());
}

torch::Tensor sharpnessShift(const VectorLoss& loss, const torch::Tensor& m, double rho, double mu,
                             const PointsLoss& points) {
    const torch::Tensor g = coordinateGradient(loss, m, mu, points);
    const double norm = g.norm().item<double>();
    if (!std::isfinite(norm)) fail("SharpZO: the CGE gradient at the CMA mean is not finite (norm ", norm, ")");
    if (norm == 0) return torch::zeros_like(g);
    return g * (rho / norm);
}

SharpGeneration sharpnessAwareGeneration(CmaEs& es, const VectorLoss& loss, double rho, double mu,
                                         const PointsLoss& points) {
    using Clock = std::chrono::steady_clock;
    const auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
    SharpGeneration gen;
    auto t0 = Clock::now();
    gen.candidates = es.ask();
    gen.cmaSeconds = since(t0);
    const int64_t d = gen.candidates.size(1);
    if (rho > 0) {
        t0 = Clock::now();
        gen.shift = sharpnessShift(loss, es.mean(), rho, mu, points);
        gen.cgeSeconds = since(t0);
        gen.forwards += 2 * d;
    } else {
        gen.shift = torch::zeros({d}, kDouble);
    }
    t0 = Clock::now();
    gen.fitness = lossesAt(loss, points, gen.candidates + gen.shift.unsqueeze(0));
    gen.candidateSeconds = since(t0);
    gen.forwards += gen.candidates.size(0);
    t0 = Clock::now();
    es.tell(gen.candidates, gen.fitness);
    gen.cmaSeconds += since(t0);
    return gen;
}

torch::Tensor zScoreMask(const torch::Tensor& w, const torch::Tensor& g, double ratio) {
    if (w.sizes() != g.sizes()) fail("zScoreMask: w ", w.sizes(), " and g ", g.sizes(), " differ in shape");
    const torch::Tensor a = g.to(torch::kFloat64).abs();
    const torch::Tensor z = (a - a.mean()) / (a.std(/*unbiased=*/false) + 1e-8);
    const torch::Tensor score = w.to(torch::kFloat64).pow(2) * z;
    const auto keep = static_cast<int64_t>(std::floor(ratio * static_cast<double>(w.numel())));
    torch::Tensor mask = torch::zeros({w.numel()}, kDouble);
    if (keep > 0) {
        const torch::Tensor order = std::get<1>(score.flatten().sort(c10::optional<bool>(true), 0, false));
        mask.index_fill_(0, order.slice(0, 0, keep), 1.0);
    }
    return mask.view(w.sizes());
}

void SharpZoConfig::validate() const {
    if (dim < 1) failAt("sharpzo.dim", "sharpzo.dim must be at least 1, got ", dim);
    if (popsize < 2) failAt("sharpzo.popsize", "sharpzo.popsize must be at least 2, got ", popsize);
    if (rho < 0) failAt("sharpzo.rho", "sharpzo.rho must be at least 0, got ", rho);
    if (!(sigma0 > 0)) failAt("sharpzo.sigma0", "sharpzo.sigma0 must be positive, got ", sigma0);
    if (pruneRatio <= 0 || pruneRatio > 1) failAt("sharpzo.prune_ratio", "sharpzo.prune_ratio must be in (0, 1], got ", pruneRatio);
    if (std::floor(pruneRatio * static_cast<double>(dim)) < 1)
        failAt("sharpzo.prune_ratio", "sharpzo.prune_ratio = ", pruneRatio, " keeps no coordinate of ", dim, " (needs ratio·dim >= 1)");
    if (maskEvery < 1) failAt("sharpzo.mask_every", "sharpzo.mask_every must be at least 1, got ", maskEvery);
    if (sharpnessProbes == 1) failAt("sharpzo.sharpness_probes", "sharpzo.sharpness_probes must be 0 (off) or at least 2, got 1");
}

namespace {

// The seeds' salts: each of SharpZO's random streams is its own function of the run's seed.
constexpr uint64_t kCmaSeedSalt = 0x5348415250ull;         // "SHARP": CMA-ES, apart from the batches
constexpr uint64_t kProbeBatchSalt = 0x50524f4245ull;      // "PROBE": the sharpness probes' batch
constexpr uint64_t kHutchinsonSeedBase = 0x48555443ull;    // "HUTC": + k, the k-th Rademacher probe
constexpr uint64_t kEpsBallSeedBase = 0x42414c4cull;       // "BALL": + k, the k-th unit direction
constexpr uint64_t kStage2SeedMultiplier = 1000003ull;     // seed × this + s: stage 2's step-s direction
constexpr uint32_t kHutchinsonStream = 1, kEpsBallStream = 2, kStage2Stream = 3;

const SharpZoConfig& validated(const SharpZoConfig& c) {
    c.validate();
    return c;
}

// One SharpZO run, phase by phase (run() is the table of contents).
class SharpZoRun {
public:
    SharpZoRun(const SharpZoConfig& c, EventSink& sink, const StopToken& stop)
        : m_c(validated(c)), m_spec(c.common), m_sink(sink), m_stop(stop), m_problem(c.common),
          m_projection(m_problem.params().trainables(), c.dim, c.projectionSeed),
          m_prompt(c.common.peft.target == peft::Target::Prompt), m_rng(c.common.seed) {
        m_problem.setStop(&m_stop);  // its evaluations stop between examples
    }

    SharpZoResult run() {
        const auto start = std::chrono::steady_clock::now();
        m_r.trainable = m_c.dim;
        m_r.total = m_problem.params().totalCount();
        choosePointsPerForward();
        describe();
        m_w = torch::zeros({m_c.dim}, kDouble);
        devAt(0, m_w);
        if (m_c.generations > 0) stage1();
        if (m_c.sharpnessProbes > 0) measureSharpness();
        stage2();
        finish(start);
        return m_r;
    }

private:
    // Stage 1's points per forward: soft prompts are batched (eval::FineTuneProblem::
    // lossValuesForPrompts); other targets are evaluated one forward a point.
    void choosePointsPerForward() {
        const SharpZoConfig& c = m_c;
        if (c.populationBatch > 1 && !m_prompt)
            failInput("sharpzo.population_batch = ", c.populationBatch, " batches soft prompts; peft.target = \"",
                      peft::targetName(m_spec.peft.target), "\" is evaluated one forward a point (set 0 or 1)");
        m_perForward = !m_prompt                            ? 1
                       : c.populationBatch > 0              ? c.populationBatch
                       : m_problem.model().device().is_cuda() ? c.popsize
                                                              : 1;
    }

    void describe() {
        const SharpZoConfig& c = m_c;
        const std::string moved =
            m_prompt ? cat(m_spec.peft.promptTokens, " soft-prompt embeddings (||p0|| = ")
                     : cat("the ", m_projection.values(), " trainable values of peft.target = \"",
                           peft::targetName(m_spec.peft.target), "\" (||theta0|| = ");
        m_sink.info(cat("SharpZO on ", m_spec.task, ": a ", c.dim, "-dimensional w moves ", moved,
                        shortNumber(m_projection.norm()), ", projection entries N(0, ",
                        shortNumber(m_projection.scale()), "^2)); stage 1: ", c.generations, " generations of ",
                        c.separable ? "separable " : "", "CMA-ES, popsize ", c.popsize, ", sigma0 ", c.sigma0,
                        ", rho ", c.rho, c.rho > 0 ? "" : " (plain CMA-ES)",
                        m_perForward == 1 ? std::string(", one forward a point")
                                          : cat(", ", m_perForward, " points (soft prompts) batched into a forward"),
                        "; stage 2: ", m_spec.steps, " sparse ZO-SGD steps, lr ", m_spec.lr, ", prune ratio ",
                        c.pruneRatio, ", mask every ", c.maskEvery));
        m_sink.metric(frugal::metrics::kTrainable, 0, static_cast<double>(c.dim));
        m_sink.metric(search::metrics::kPointsPerForward, 0, static_cast<double>(m_perForward));
    }

    // The training loss at W (one forward, counted).
    double lossOf(const torch::Tensor& w) {
        m_projection.apply(w);
        ++m_forwards;
        return m_problem.lossValue();
    }
    VectorLoss vectorLoss() {
        return [this](const torch::Tensor& w) { return lossOf(w); };
    }

    // Stage 1's points X as batches of population_batch soft prompts, each batch one forward of
    // the current batch repeated. A batch that cannot fit in memory is refused (never split on
    // the fly: the chunking is the config's, so the same config gives the same numbers on any
    // machine).
    std::vector<double> pointsLoss(const torch::Tensor& x) {
        const int64_t k = x.size(0), per = std::min(k, m_perForward);
        const int64_t need = m_problem.promptsForwardBytes(per), available = availableMemoryBytes();
        if (per > 1 && available > 0 && need > available * 8 / 10) {
            const auto gib = [](int64_t bytes) { return shortNumber(static_cast<double>(bytes) / (1 << 30)); };
            failInput("sharpzo.population_batch: ", per, " soft prompts in one forward need about ", gib(need),
                      " GiB (the batch repeated ", per, " times) but ", gib(available),
                      " GiB of memory are available; set sharpzo.population_batch to at most about ",
                      std::max<int64_t>(1, per * (available * 8 / 10) / need));
        }
        std::vector<double> out;
        for (int64_t i = 0; i < k; i += per) {
            const std::vector<double> part =
                m_problem.lossValuesForPrompts(m_projection.prompts(x.slice(0, i, std::min(k, i + per))));
            out.insert(out.end(), part.begin(), part.end());
        }
        m_forwards += k;
        return out;
    }

    bool budgetLeft(int64_t need) const { return m_c.maxForwards <= 0 || m_forwards + need <= m_c.maxForwards; }

    void devAt(int64_t step, const torch::Tensor& w) {
        m_projection.apply(w);
        eval::reportDev(m_problem, step, m_sink, m_r);
        m_sink.metric(search::metrics::kForwardsAtEval, step, static_cast<double>(m_forwards));
        if (m_c.targetLoss > 0 && m_r.forwardsToTarget < 0 && m_r.finalDevLoss <= m_c.targetLoss) {
            m_r.forwardsToTarget = m_forwards;
            m_sink.metric(search::metrics::kForwardsToTarget, step, static_cast<double>(m_forwards));
            m_sink.info(cat("step ", step, ": dev loss ", m_r.finalDevLoss, " reached the target ", m_c.targetLoss,
                            " after ", m_forwards, " training forwards"));
        }
    }

    CmaOptions cmaOptions() const {
        CmaOptions o;
        o.x0.assign(static_cast<size_t>(m_c.dim), 0.0);
        o.sigma0 = m_c.sigma0;
        o.lambda = m_c.popsize;
        o.separable = m_c.separable;
        if (m_c.bound > 0) {
            o.lower = -m_c.bound;
            o.upper = m_c.bound;
        }
        o.seed = m_spec.seed ^ kCmaSeedSalt;
        return o;
    }

    // Stage 1: sharpness-aware CMA-ES until T_c generations, the budget, CMA-ES's own stop or a
    // dev-accuracy plateau.
    void stage1() {
        const SharpZoConfig& c = m_c;
        CmaEs es(cmaOptions());
        Plateau plateau;
        plateau.update(m_r.startDevAccuracy, c.minDelta);
        plateau.since = 0;
        const int64_t perGeneration = (c.rho > 0 ? 2 * c.dim : 0) + c.popsize + 1;
        m_r.switchReason = cat("T_c = ", c.generations, " generations");
        for (int64_t g = 1; g <= c.generations; ++g) {
            if (m_stop.stopRequested()) throw Cancelled(cat("SharpZO stopped before generation ", g, " of stage 1"));
            if (!budgetLeft(perGeneration)) {
                m_budgetSpent = true;
                m_r.switchReason = cat("the forward budget (", c.maxForwards, ")");
                break;
            }
            if (const std::string why = es.stopReason(); !why.empty()) {
                m_r.switchReason = "CMA-ES stopped: " + why;
                break;
            }
            generation(es, g);
            if (c.patience > 0 && plateau.update(m_r.finalDevAccuracy, c.minDelta) && plateau.since >= c.patience) {
                m_r.switchReason = cat("dev accuracy plateau (no rise above ", c.minDelta, " for ", c.patience,
                                       " generations)");
                break;
            }
        }
        m_w = es.mean().clone();
        endStage1();
    }

    // Generation G of stage 1: ask, the sharpness shift, tell; the metrics and a dev evaluation.
    void generation(CmaEs& es, int64_t g) {
        const SharpZoConfig& c = m_c;
        m_problem.nextBatch(m_rng);
        const PointsLoss batched =
            m_perForward == 1 ? PointsLoss() : PointsLoss([this](const torch::Tensor& x) { return pointsLoss(x); });
        const SharpGeneration gen = sharpnessAwareGeneration(es, vectorLoss(), c.rho, c.cgeEps, batched);
        const double meanLoss = lossOf(es.mean());
        m_step = g;
        double best = INFINITY, mean = 0;
        for (double f : gen.fitness) {
            if (f < best) best = f;
            mean += f;
        }
        mean /= static_cast<double>(gen.fitness.size());
        const int64_t step = m_step;
        m_sink.metric(search::metrics::kStage, step, 1);
        m_sink.metric(frugal::metrics::kTrainLoss, step, meanLoss);
        m_sink.metric(search::metrics::kBestFitness, step, best);
        m_sink.metric(search::metrics::kMeanFitness, step, mean);
        m_sink.metric(search::metrics::kSigma, step, es.sigma());
        m_sink.metric(search::metrics::kShiftNorm, step, gen.shift.norm().item<double>());
        m_sink.metric(search::metrics::kAskTellSeconds, step, gen.cmaSeconds);
        m_sink.metric(search::metrics::kCandidateSeconds, step, gen.candidateSeconds);
        if (c.rho > 0) m_sink.metric(search::metrics::kCgeSeconds, step, gen.cgeSeconds);
        m_cmaSeconds += gen.cmaSeconds;
        m_candidateSeconds += gen.candidateSeconds;
        m_sink.metric(frugal::metrics::kTrainForwards, step, static_cast<double>(m_forwards));
        m_sink.metric(frugal::metrics::kForwardPasses, step, static_cast<double>(m_forwards));  // the passes axis
        if (es.nanFitnessCount() > 0)
            m_sink.metric(search::metrics::kNanFitness, step, static_cast<double>(es.nanFitnessCount()));
        m_sink.progress(step, c.generations + m_spec.steps, "stage 1, loss " + shortNumber(meanLoss));
        if (!std::isfinite(meanLoss))
            fail("SharpZO stage 1: the loss at the CMA mean is ", meanLoss, " at generation ", g,
                 "; lower sharpzo.sigma0 or set sharpzo.bound");
        devAt(step, es.mean());
    }

    void endStage1() {
        const int64_t step = m_step;
        m_r.stage1Generations = step;
        m_r.stage1Forwards = m_forwards;
        m_r.stage1DevAccuracy = m_r.finalDevAccuracy;
        m_sink.metric(search::metrics::kStage1DevAccuracy, step, m_r.stage1DevAccuracy);
        m_sink.metric(search::metrics::kStage1Forwards, step, static_cast<double>(m_forwards));
        m_sink.info(cat("stage 1 ended after ", step, " generations (", m_r.switchReason, "), ", m_forwards,
                        " forwards; dev accuracy ", m_r.stage1DevAccuracy, "; CMA-ES ask + tell ",
                        shortNumber(m_cmaSeconds), " s against ", shortNumber(m_candidateSeconds), " s for the ",
                        m_c.popsize, " candidate forwards of each generation (",
                        shortNumber(m_candidateSeconds > 0 ? 100 * m_cmaSeconds / m_candidateSeconds : 0.0), "%)"));
        if (m_candidateSeconds > 0) m_sink.metric(search::metrics::kOverheadRatio, step, m_cmaSeconds / m_candidateSeconds);
    }

    // Sharpness where stage 2 starts, on a batch of its own (the same for every run of one seed).
    void measureSharpness() {
        const SharpZoConfig& c = m_c;
        std::mt19937_64 probeRng(m_spec.seed ^ kProbeBatchSalt);
        m_problem.nextBatch(probeRng);
        const zo::LossAlong alongRademacher = [&](int64_t k, double h) {
            m_projection.apply(m_w + h * seededVector(kHutchinsonSeedBase + static_cast<uint64_t>(k), kHutchinsonStream,
                                                      c.dim, zo::DirectionLaw::Rademacher));
            return m_problem.lossValue();
        };
        const zo::HutchinsonEstimate t = zo::hutchinsonTrace(alongRademacher, c.sharpnessProbes, c.sharpnessH);
        const zo::LossAlong alongUnit = [&](int64_t k, double h) {
            const torch::Tensor u = seededVector(kEpsBallSeedBase + static_cast<uint64_t>(k), kEpsBallStream, c.dim,
                                                 zo::DirectionLaw::Gaussian);
            m_projection.apply(m_w + h * u / u.norm());
            return m_problem.lossValue();
        };
        const double radius = c.rho > 0 ? c.rho : 0.1;
        const zo::EpsBallEstimate e = zo::epsBallSharpness(alongUnit, c.sharpnessProbes, radius);
        m_r.startTrace = t.trace;
        m_r.startTraceError = t.standardError;
        m_r.startEpsBall = e.sharpness;
        m_sink.metric(frugal::metrics::kHutchinsonTrace, m_step, t.trace);
        m_sink.metric(frugal::metrics::kHutchinsonStderr, m_step, t.standardError);
        m_sink.metric(frugal::metrics::kEpsBall, m_step, e.sharpness);
        m_sink.info(cat("sharpness at stage 2's start (w-space, ", c.sharpnessProbes, " probes): Hutchinson trace ",
                        t.trace, " +- ", t.standardError, ", eps-ball (rho ", radius, ") ", e.sharpness));
    }

    // Stage 2: sparse ZO-SGD on w, the mask re-chosen every mask_every steps by z-scores of a
    // coordinate gradient estimate.
    void stage2() {
        int64_t stage2Steps = 0;
        torch::Tensor mask = torch::ones({m_c.dim}, kDouble);
        for (int64_t s = 1; s <= m_spec.steps && !m_budgetSpent; ++s) {
            if (m_stop.stopRequested()) throw Cancelled(cat("SharpZO stopped before step ", s, " of stage 2"));
            const bool remask = m_c.pruneRatio < 1 && (s - 1) % m_c.maskEvery == 0;
            if (!budgetLeft(2 + (remask ? 2 * m_c.dim : 0))) break;
            m_problem.nextBatch(m_rng);
            if (remask) {
                mask = zScoreMask(m_w, coordinateGradient(vectorLoss(), m_w, m_c.maskCgeEps), m_c.pruneRatio);
                m_sink.metric(search::metrics::kMaskDensity, m_step + 1, mask.mean().item<double>());
            }
            zoStep(s, mask);
            ++stage2Steps;
            if (s % m_spec.evalEvery == 0 || s == m_spec.steps) devAt(m_step, m_w);
        }
        if (stage2Steps > 0 && stage2Steps % m_spec.evalEvery != 0 && stage2Steps != m_spec.steps) devAt(m_step, m_w);
    }

    // Stage 2's step S: a two-point estimate along a masked Gaussian direction, then SGD.
    void zoStep(int64_t s, const torch::Tensor& mask) {
        const SharpZoConfig& c = m_c;
        const torch::Tensor u =
            mask * seededVector(m_spec.seed * kStage2SeedMultiplier + static_cast<uint64_t>(s), kStage2Stream, c.dim,
                                zo::DirectionLaw::Gaussian);
        const double plus = lossOf(m_w + c.rgeEps * u), minus = lossOf(m_w - c.rgeEps * u);
        const double g = (plus - minus) / (2 * c.rgeEps);
        const int64_t step = ++m_step;
        const double loss = (plus + minus) / 2;
        m_sink.metric(search::metrics::kStage, step, 2);
        m_sink.metric(frugal::metrics::kTrainLoss, step, loss);
        m_sink.metric(zo::metrics::kProjectedGrad, step, g);
        m_sink.metric(frugal::metrics::kTrainForwards, step, static_cast<double>(m_forwards));
        m_sink.metric(frugal::metrics::kForwardPasses, step, static_cast<double>(m_forwards));
        if (!std::isfinite(g))
            fail("SharpZO stage 2: the loss is ", std::isfinite(plus) ? minus : plus, " at step ", s, " (step ", step,
                 " of the run); lower lr or sharpzo.rge_eps");
        m_w = m_w - m_spec.lr * g * u;
        m_sink.progress(step, m_r.stage1Generations + m_spec.steps, "stage 2, loss " + shortNumber(loss));
    }

    void finish(std::chrono::steady_clock::time_point start) {
        const int64_t step = m_step;
        m_projection.apply(m_w);
        m_r.steps = step;
        m_r.forwardPasses = m_forwards;
        m_sink.metric(search::metrics::kWNorm, step, m_w.norm().item<double>());
        m_sink.metric(m_prompt ? search::metrics::kPromptShiftNorm : search::metrics::kStageShiftNorm, step,
                      m_projection.shiftNorm(m_w));
        eval::finishRun(m_problem, m_sink, m_r, start);
        const torch::Tensor wf = m_w.to(torch::kFloat32).contiguous();
        m_sink.vector(search::metrics::kW, step, {m_c.dim},
                      std::vector<float>(wf.data_ptr<float>(), wf.data_ptr<float>() + m_c.dim));
    }

    const SharpZoConfig& m_c;
    const eval::FineTuneSpec& m_spec;
    EventSink& m_sink;
    const StopToken& m_stop;
    eval::FineTuneProblem m_problem;
    Projection m_projection;
    bool m_prompt;
    std::mt19937_64 m_rng;
    SharpZoResult m_r;
    int64_t m_perForward = 1;
    int64_t m_forwards = 0;  // training forwards (dev scoring and sharpness probes not included)
    int64_t m_step = 0;      // the run's step: generations, then stage 2's steps
    bool m_budgetSpent = false;
    torch::Tensor m_w;
    double m_cmaSeconds = 0, m_candidateSeconds = 0;
};

}  // namespace

SharpZoResult runSharpZo(const SharpZoConfig& c, EventSink& sink, const StopToken& stop) {
    return SharpZoRun(c, sink, stop).run();
}

}  // namespace frugal::search
