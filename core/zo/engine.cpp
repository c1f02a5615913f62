#include "zo/engine.h"

#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "common/runtime_info.h"
#include "common/format.h"
#include "dist/world.h"
#include "eval/resume_point.h"
#include "zo/perturb.h"
#include "zo/query_schedule.h"
#include "zo/scheme.h"
#include "zo/streamed.h"
#include "common/metric_keys.h"
#include "zo/zo_metrics.h"

namespace frugal::zo {

namespace {

// Applies steps to a trainable set: with a loss function (training) or from recorded projected
// gradients and choices (replay, rollback). Both paths perform the same weight arithmetic in the
// same order, which is what makes replay bit-identical.
class Stepper : public ZoStepper {
public:
    Stepper(const ZoConfig& c, const peft::ParamSet& params)
        : m_c(c),
          m_params(params.trainables()),
          m_law(c.direction),
          m_optimizer(*c.optimizer),
          m_central(c.estimator == Estimator::Central),
          // the sign of each projected gradient, then SGD's move (ZO-Bench's code)
          m_scalarSign(c.signMode == SignMode::Scalar && m_optimizer.signRule),
          m_applied(m_scalarSign ? zoSgd() : m_optimizer) {
        m_state = OptimizerState::forRule(m_applied, m_params);
        if (c.sparsity > 0) m_mask = std::make_unique<SparseMask>(SparseMask::fromWeights(m_params, c.sparsity));
        if (c.keepZeros) m_mask = std::make_unique<SparseMask>(SparseMask::nonZero(m_params));
    }

    int64_t stateBytes() const override { return m_state.bytes(); }
    const SparseMask* mask() const override { return m_mask.get(); }

    // A one-query SGD step leaves its last pass (restore and update) pending, to be made together
    // with the next step's first pass: two passes over the weights a step instead of three.
    // settle() makes it alone, before anything that reads the weights (an evaluation, a probe, a
    // save, the end); fused or alone, the bits are the same (restoreUpdateAndPerturb).
    void settle() override {
        if (!m_pending) return;
        restoreAndUpdate(m_params, m_pending->seed, m_pending->restore, m_pending->lr, m_pending->grad,
                         m_c.common.weightDecay, m_law, m_mask.get());
        m_pending.reset();
    }

    // Returns the step's logged loss (L(θ+εz) of the first query for central, L(θ) for forward),
    // NaN in replay. LOSS == nullptr: replay REC.
    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) override {
        const bool replay = loss == nullptr;
        const size_t q = rec.seeds.size();
        const double eps = m_c.eps;
        const auto evaluate = [&](const char* what) { return evaluateLoss(*loss, forwards, what); };
        const bool fused = m_applied.fusable && !m_optimizer.conservative && q == 1;
        const auto effective = [&](double g) { return m_scalarSign ? double((g > 0) - (g < 0)) : g; };
        double logged = NAN, base = NAN;
        if (!m_central || m_optimizer.conservative) {
            settle();  // L(θ) needs θ itself
            if (!replay) base = evaluate("at θ");
        }
        if (!replay) rec.grads.assign(q, 0.0);
        if (rec.grads.size() != q) fail("trajectory step ", rec.step, ": seeds and gradients differ in number");
        for (size_t j = 0; j < q; ++j) {
            const uint64_t s = rec.seeds[j];
            if (j == 0 && m_pending) {  // the last pass of the previous step and the first of this
                restoreUpdateAndPerturb(m_params, m_pending->seed, m_pending->restore, m_pending->lr,
                                        m_pending->grad, m_c.common.weightDecay, m_law, m_mask.get(), s, +eps);
                m_pending.reset();
            } else {
                perturb(m_params, s, +eps, m_law, m_mask.get(), /*refresh=*/j == 0);
            }
            const double plus = replay ? 0 : evaluate("at θ+εz");
            if (j == 0) logged = m_central ? plus : base;
            if (m_central) {
                perturb(m_params, s, -2 * eps, m_law, m_mask.get());
                if (!replay) rec.grads[j] = (plus - evaluate("at θ−εz")) / (2 * eps);
                if (fused) {  // restored and updated by settle() or the next step's first pass
                    m_pending = Pending{s, +eps, rec.lr, effective(rec.grads[j])};
                    return logged;
                }
                perturb(m_params, s, +eps, m_law, m_mask.get());
            } else {
                if (!replay) rec.grads[j] = (plus - base) / eps;
                if (fused) {
                    m_pending = Pending{s, -eps, rec.lr, effective(rec.grads[j])};
                    return logged;
                }
                perturb(m_params, s, -eps, m_law, m_mask.get());
            }
        }
        std::vector<Query> queries;
        for (size_t j = 0; j < q; ++j) queries.push_back({rec.seeds[j], effective(rec.grads[j])});
        UpdateRule rule = ruleOf(m_c, m_applied, rec.lr);
        if (m_applied.countsSteps) rule.t = ++m_state.steps;
        if (m_optimizer.conservative) {
            rule.weightDecay = 0;
            applyUpdate(m_params, queries, m_law, rule, m_state, m_mask.get());  // θ − ηĝ
            const double down = replay ? 0 : evaluate("at θ−ηĝ");
            rule.lr = -2 * rec.lr;
            applyUpdate(m_params, queries, m_law, rule, m_state, m_mask.get());  // θ + ηĝ
            const double up = replay ? 0 : evaluate("at θ+ηĝ");
            if (!replay) rec.choice = base <= down && base <= up ? 0 : down <= up ? 1 : 2;
            if (rec.choice == 2) return logged;
            rule.lr = rec.choice == 0 ? rec.lr : 2 * rec.lr;
            applyUpdate(m_params, queries, m_law, rule, m_state, m_mask.get());
            return logged;
        }
        applyUpdate(m_params, queries, m_law, rule, m_state, m_mask.get());
        return logged;
    }

private:
    const ZoConfig& m_c;
    std::vector<Trainable> m_params;
    DirectionLaw m_law;
    const ZoOptimizer& m_optimizer;
    bool m_central, m_scalarSign;
    const ZoOptimizer& m_applied;  // the optimiser whose rule moves the weights
    OptimizerState m_state;
    std::unique_ptr<SparseMask> m_mask;
    struct Pending {
        uint64_t seed;
        double restore, lr, grad;
    };
    std::optional<Pending> m_pending;
};


// A 64-bit digest of TENSORS (names, shapes, dtypes and every byte), to check that processes hold
// the same weights: four interleaved multiply-xor lanes over 8-byte words, a few GB/s, so that a
// 7 B model is checked in seconds. Not cryptographic; it only has to tell copies apart.
std::string digestOf(const model::NamedTensors& tensors) {
    uint64_t lanes[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull, 0x27D4EB2F165667C5ull};
    const auto mix = [](uint64_t h, uint64_t w) {
        h ^= w * 0xFF51AFD7ED558CCDull;
        h = (h << 31) | (h >> 33);
        return h * 0x9E3779B97F4A7C15ull;
    };
    const auto absorb = [&](const unsigned char* p, size_t n) {
        size_t i = 0;
        for (; i + 32 <= n; i += 32)
            for (int k = 0; k < 4; ++k) {
                uint64_t w;
                std::memcpy(&w, p + i + 8 * k, 8);
                lanes[k] = mix(lanes[k], w);
            }
        uint64_t tail = n;
        for (; i < n; ++i) tail = tail * 131 + p[i];
        lanes[0] = mix(lanes[0], tail);
    };
    for (const auto& [name, t] : tensors) {
        const std::string head = cat(name, t.sizes(), t.scalar_type());
        absorb(reinterpret_cast<const unsigned char*>(head.data()), head.size());
        const torch::Tensor c = t.detach().contiguous().cpu();
        absorb(static_cast<const unsigned char*>(c.data_ptr()), static_cast<size_t>(c.nbytes()));
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx",
                  static_cast<unsigned long long>(mix(mix(lanes[0], lanes[1]), mix(lanes[2], lanes[3]))));
    return out;
}

model::NamedTensors trainablesOf(const eval::FineTuneProblem& problem) {
    model::NamedTensors out;
    for (const auto& t : problem.params().trainables()) out.emplace_back(t.name, t.tensor);
    return out;
}

QuerySchedule scheduleOf(const ZoConfig& c, int64_t trainExamples) {
    if (c.scheme && c.scheme->directions) return QuerySchedule::constant(c.scheme->directions(c));
    if (c.querySchedule == QueryPolicy::Constant) return QuerySchedule::constant(c.queries);
    return QuerySchedule::adazeta(
        c.adazetaAlpha, c.adazetaNum, c.queriesMax,
        QuerySchedule::epochsOf(c.common.steps, trainExamples, c.common.batchSize), c.adazetaBeta);
}

}  // namespace

std::string weightsDigest(const model::NamedTensors& tensors) { return digestOf(tensors); }

std::unique_ptr<ZoStepper> makeStepper(const ZoConfig& c, const peft::ParamSet& params) {
    if (c.scheme && c.scheme->make) return c.scheme->make(c, params.trainables());
    return std::make_unique<Stepper>(c, params);
}

namespace {
// The trajectory file's first line from version 2 on; a file without it is version 1 (the same
// columns).
constexpr const char* kTrajectoryVersionLine = "# frugal trajectory 2";
constexpr int kTrajectoryVersion = 2;
constexpr const char* kTrajectoryHeader = "step,query,seed,projected_grad,lr,choice";
}  // namespace

namespace {
// STEP's rows of the trajectory file, one a query.
std::string trajectoryRows(const StepRecord& r) {
    std::string rows;
    char line[160];
    for (size_t j = 0; j < r.seeds.size(); ++j) {
        std::snprintf(line, sizeof line, "%lld,%zu,%llu,%.17g,%.17g,%d\n", static_cast<long long>(r.step), j,
                      static_cast<unsigned long long>(r.seeds[j]), r.grads.at(j), r.lr, r.choice);
        rows += line;
    }
    return rows;
}
}  // namespace

void writeTrajectory(const std::filesystem::path& file, const std::vector<StepRecord>& steps) {
    std::ostringstream out;
    out << kTrajectoryVersionLine << "\n" << kTrajectoryHeader << "\n";
    for (const auto& r : steps) out << trajectoryRows(r);
    std::filesystem::create_directories(file.parent_path());
    const auto tmp = file.string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        f << out.str();
        if (!f) fail(tmp, ": cannot write the trajectory");
    }
    std::filesystem::rename(tmp, file);
}

void appendTrajectory(const std::filesystem::path& file, const StepRecord& step) {
    std::ofstream f(file, std::ios::binary | std::ios::app);
    errno = 0;
    f << trajectoryRows(step);  // one write of whole lines: a kill leaves the steps before it whole
    f.flush();
    if (!f) {
        if (errno == ENOSPC) fail("disk full: ", file.string(), ": cannot append step ", step.step, " to the trajectory");
        fail(file.string(), ": cannot append step ", step.step, " to the trajectory",
             errno != 0 ? cat(" (", std::strerror(errno), ")") : std::string());
    }
}

std::vector<StepRecord> readTrajectory(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) fail(file.string(), ": cannot open the trajectory");
    std::string line;
    std::getline(in, line);
    int64_t lineNo = 1;
    const std::string versionPrefix = "# frugal trajectory ";
    if (line.rfind(versionPrefix, 0) == 0) {
        const std::string version = line.substr(versionPrefix.size());
        if (version != std::to_string(kTrajectoryVersion))
            fail(file.string(), ":1: a trajectory of version '", version, "'; this build reads versions 1 and ",
                 kTrajectoryVersion);
        std::getline(in, line);
        ++lineNo;
    }
    if (line != kTrajectoryHeader)
        fail(file.string(), ":", lineNo, ": expected the trajectory header ", kTrajectoryHeader);
    std::vector<StepRecord> steps;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty()) continue;
        long long step = 0;
        size_t query = 0;
        unsigned long long seed = 0;
        double grad = 0, lr = 0;
        int choice = 0;
        if (std::sscanf(line.c_str(), "%lld,%zu,%llu,%lf,%lf,%d", &step, &query, &seed, &grad, &lr,
                        &choice) != 6)
            fail(file.string(), ":", lineNo, ": expected step,query,seed,projected_grad,lr,choice");
        if (query == 0) steps.push_back({step, lr, {}, {}, choice});
        if (steps.empty() || steps.back().step != step || steps.back().seeds.size() != query)
            fail(file.string(), ":", lineNo, ": query ", query, " of step ", step, " is out of order");
        steps.back().seeds.push_back(seed);
        steps.back().grads.push_back(grad);
    }
    return steps;
}

namespace {

// Applies TRAJECTORY's recorded steps to STEPPER and settles the weights: how a resume, a rollback
// and a replay rebuild the state after a step, bit for bit.
void replayOnto(ZoStepper& stepper, const std::vector<StepRecord>& trajectory) {
    int64_t unused = 0;
    for (StepRecord applied : trajectory) stepper.step(applied, nullptr, unused);
    stepper.settle();
}

// One ZO fine-tuning run, phase by phase (run() is the table of contents). Data parallel
// (dist/world.h): every process holds the model and draws the same seeds; each scores its shard
// of every batch; the loss scalars are averaged over the processes (weighted by shard size), so
// every process applies the same update. Process 0 alone writes.
class ZoRun {
public:
    ZoRun(const ZoConfig& c, EventSink& sink, const StopToken& stop, const ZoRunOptions& options)
        : m_c(c), m_spec(c.common), m_sink(sink), m_stop(stop), m_o(options), m_world(options.world),
          m_rng(c.common.seed) {}

    ZoResult run() {
        m_c.validate();
        if (m_world && m_c.scheme && m_c.scheme->singleProcess)  // the schemes whose extra forwards are one process's
            if (const char* why = m_c.scheme->singleProcess(m_c))
                failInput(m_c.table, ".scheme = \"", m_c.scheme->name, "\" does not run data parallel", why);
        const auto start = std::chrono::steady_clock::now();
        setUp();
        describe();
        if (m_o.resume)
            resume();
        else
            begin();
        startProbes();
        train();
        finish(start);
        return m_r;
    }

private:
    void setUp() {
        if (m_world && m_o.resume) fail("resume: a distributed run cannot be resumed yet; start it again");
        if (!m_o.trajectoryFile.empty()) m_resumeAt = eval::resumeDir(m_o.trajectoryFile.parent_path());
        build();
        if (m_world) m_world->agree("model (weights digest)", digestOf(m_problem->model().parameters()));
        m_trainExamples = m_problem->trainSize();  // examples, or a text's windows
        m_schedule = std::make_unique<QuerySchedule>(scheduleOf(m_c, m_trainExamples));
        m_r.trainable = m_problem->params().trainableCount();
        m_r.total = m_problem->params().totalCount();
        m_r.optimizerStateBytes = m_stepper->stateBytes();
    }

    // The problem (model, data, trainables) and the stepper over its trainables, from the config.
    void build() {
        m_stepper.reset();  // a rebuilt problem (a rollback) opens its block store again: the old one goes first
        m_problem.reset();
        m_problem = std::make_unique<eval::FineTuneProblem>(m_spec);
        // one process's evaluations stop between examples; a sharded one's peers wait for every
        // shard, so data-parallel runs stop at the next step, where all processes agree
        if (!m_world) m_problem->setStop(&m_stop);
        if (m_world) {
            dist::World* world = m_world;
            m_problem->setShard(world->rank(), world->size(),
                                [world](const std::vector<double>& mine) { return world->allgather(mine); });
        }
        if (model::BlockStore* store = m_problem->blockStore()) {
            if (m_spec.liveLandscape.every > 0)
                failInput("live_landscape.every: the probes' forwards are the whole model's; they do not run on a streamed model (memory.stream)");
            m_stepper = makeStreamedStepper(m_c, *m_problem, *store);
        } else {
            m_stepper = makeStepper(m_c, m_problem->params());
        }
        m_stepper->setLargeBatch([this](int64_t size) -> std::function<double()> {
            if (m_world) fail("zo.scheme = \"", m_c.scheme->name, "\" draws a large batch on one process; it does not run data parallel");
            auto batch = std::make_shared<eval::FineTuneProblem::Batch>(m_problem->drawBatch(m_rng, size));
            return [this, batch] { return m_problem->lossValueOn(*batch); };
        });
        m_stepper->setPromptBatch([this](const torch::Tensor& prompts) {
            if (m_world) fail("zo.scheme = \"fzoo\" scores its batch of prompts in one forward on one process; set zo.fzoo_batched = false to run data parallel");
            return m_problem->lossValuesForPrompts(prompts);
        });
    }

    void describe() {
        const auto& c = m_c;
        const auto& spec = m_spec;
        log(cat("ZO (", c.optimizer->name, ": ", c.optimizer->rule, ", ", nameOf(kEstimators, c.estimator), " estimator, ",
                lawName(c.direction), " directions, ", m_schedule->describe(),
                c.sparsity > 0    ? cat(", Sparse-MeZO mask at sparsity ", c.sparsity)
                : c.keepZeros     ? std::string(", the zero weights kept at zero (a pruned model)")
                                  : std::string(),
                ") on ", m_problem->describeData(), " with the ", eval::objectiveName(spec.objective), " objective: ",
                m_problem->params().describe(), "; batch ", spec.batchSize,
                spec.microBatch > 0 && spec.microBatch < spec.batchSize ? cat(" in pieces of ", spec.microBatch)
                                                                         : std::string(),
                ", lr ", spec.lr, " (", eval::lrScheduleName(spec.lrSchedule), "), eps ", c.eps));
        if (c.scheme && c.scheme->make) log(cat("scheme ", c.scheme->name, ": ", c.scheme->description));
        if (!m_world) return;
        log(cat("data parallel over ", m_world->size(), " processes (", m_world->backend(), "): process ",
                m_world->rank(), " scores examples [", spec.batchSize * m_world->rank() / m_world->size(), ", ",
                spec.batchSize * (m_world->rank() + 1) / m_world->size(), ") of each batch of ", spec.batchSize));
        metric("dist/world_size", 0, m_world->size());
    }

    void begin() {
        saveTrajectory();  // the header now: each step is appended as it is stored
        metric(frugal::metrics::kTrainable, 0, static_cast<double>(m_r.trainable));
        eval::reportDev(*m_problem, 0, m_sink, m_r);
    }

    void resume() {
        if (m_resumeAt.empty()) fail("resume: a ZO run resumes from its trajectory; none was given");
        const eval::ResumePoint point = eval::readResumePoint(
            m_resumeAt, "the run stopped before its first evaluation step; start it again");
        m_trajectory = readTrajectory(m_o.trajectoryFile);
        while (!m_trajectory.empty() && m_trajectory.back().step >= point.nextStep) m_trajectory.pop_back();
        replayOnto(*m_stepper, m_trajectory);
        saveTrajectory();  // the steps after the point (a killed run's) go: the resumed ones are appended
        point.restoreRng(m_rng);
        point.restore(m_r);
        m_lrScale = point.counter("lr_scale");
        m_firstLoss = point.counter("first_loss");
        m_lastEpoch = static_cast<int64_t>(point.counter("last_epoch"));
        m_r.rollbacks = static_cast<int64_t>(point.counter("rollbacks"));
        m_firstStep = point.nextStep;
        m_sink.metric(frugal::metrics::kResumedAt, m_firstStep, static_cast<double>(m_firstStep));
        log(cat("resumed at step ", m_firstStep, " of ", m_spec.steps, ": ", m_trajectory.size(),
                " steps replayed from ", m_o.trajectoryFile.string()));
    }

    // [live_landscape]: probes beside the training, restored bit for bit (eval/training_probe.h).
    std::unique_ptr<eval::TrainingProbe> makeProbe() {
        return eval::makeLiveLandscape(m_o.probes, m_spec.liveLandscape, *m_problem, false, m_world);
    }
    void startProbes() {
        m_probe = makeProbe();
        if (m_probe && !m_o.resume) m_probe->after(0, m_spec.steps, m_sink, m_stop);
    }

    void train() {
        int64_t atStep = m_firstStep;
        try {
            for (int64_t step = m_firstStep; step <= m_spec.steps; ++step) {
                atStep = step;
                stopIfAsked(step);
                StepRecord rec = draw(step);
                double logged = NAN;
                if (!takeStep(rec, logged)) continue;  // rolled back
                if (!std::isfinite(m_firstLoss)) m_firstLoss = logged;
                m_trajectory.push_back(rec);
                if (!m_o.trajectoryFile.empty()) appendTrajectory(m_o.trajectoryFile, rec);  // replayable if killed
                report(rec, logged);
                afterStep(step);
            }
        } catch (const dist::PeerFailure& e) {  // another process failed: everything before this step is kept
            saveTrajectory();
            fail("ZO stopped at step ", atStep, " of ", m_spec.steps, ": ", e.what());
        }
    }

    // Every process stops at the same step, whichever was asked.
    void stopIfAsked(int64_t step) {
        if (m_world) m_sent = m_world->traffic();
        if (!(m_world ? m_world->any(m_stop.stopRequested()) : m_stop.stopRequested())) return;
        m_stepper->settle();  // a stopped run's weights are θ after its last step
        saveTrajectory();
        saveResumePoint(step);
        throw Cancelled(cat("ZO stopped before step ", step, " of ", m_spec.steps));
    }

    // STEP's batch, learning rate and seeds (Q per data epoch, the schedule's own axis).
    StepRecord draw(int64_t step) {
        m_problem->nextBatch(m_rng);
        const int64_t epoch = (step - 1) * m_spec.batchSize / m_trainExamples;
        StepRecord rec;
        rec.step = step;
        rec.lr = eval::lrAt(m_spec.lrSchedule, m_spec.lr, step, m_spec.steps) * m_lrScale;
        const int64_t q = m_schedule->queriesAt(epoch);
        if (epoch != m_lastEpoch) {
            metric(zo::metrics::kEpochQueries, epoch, static_cast<double>(q));
            m_lastEpoch = epoch;
        }
        for (int64_t j = 0; j < q; ++j) rec.seeds.push_back(m_rng() >> 11);
        return rec;
    }

    // Applies REC; false when the step diverged and the run was rolled back instead.
    bool takeStep(StepRecord& rec, double& logged) {
        const std::function<double()> lossFn = [this] {
            const double local = m_problem->lossValue();
            return m_world ? m_world->weightedMean(local, m_problem->lossWeight()) : local;
        };
        try {
            logged = m_stepper->step(rec, &lossFn, m_r.forwardPasses);
            if (m_c.divergence != Divergence::Off && std::isfinite(m_firstLoss) && m_firstLoss > 0 &&
                logged > m_c.divergenceFactor * m_firstLoss)
                throw Diverged(cat("the loss ", logged, " exceeds ", m_c.divergenceFactor, " × the first step's ",
                                   m_firstLoss));
        } catch (const Diverged& d) {
            rollBack(rec.step, d);
            return false;
        }
        return true;
    }

    // The divergence monitor: stop, or rebuild the state ROLLBACKSTEPS before STEP from the
    // trajectory and halve the learning rate.
    void rollBack(int64_t step, const Diverged& d) {
        const ZoConfig& c = m_c;
        if (c.divergence != Divergence::Rollback || m_r.rollbacks >= c.maxRollbacks) {
            saveTrajectory();
            log(cat("step ", step, ": ", d.what(), "; the divergence monitor (zo.divergence = \"",
                    nameOf(kDivergences, c.divergence),
                    "\") stops the run"));
            fail("ZO diverged at step ", step, ": ", d.what(),
                 c.divergence != Divergence::Rollback ? "; lower zo.lr or zo.eps, or set zo.divergence = \"rollback\""
                                            : cat(" after ", m_r.rollbacks, " rollbacks; lower zo.lr or zo.eps"));
        }
        ++m_r.rollbacks;
        const int64_t keepBefore = step - c.rollbackSteps;
        while (!m_trajectory.empty() && m_trajectory.back().step >= keepBefore) m_trajectory.pop_back();
        saveTrajectory();  // the steps rolled back leave the file too
        m_lrScale *= 0.5;
        m_probe.reset();  // it refers to the problem rebuilt here
        build();
        m_probe = makeProbe();
        replayOnto(*m_stepper, m_trajectory);
        log(cat("step ", step, ": ", d.what(), "; rolled back to the state after step ",
                m_trajectory.empty() ? 0 : m_trajectory.back().step, " (", m_trajectory.size(),
                " steps replayed), lr halved to ", m_spec.lr * m_lrScale));
        metric(zo::metrics::kRollback, step, static_cast<double>(m_r.rollbacks));
    }

    void report(const StepRecord& rec, double logged) {
        const int64_t step = rec.step;
        const size_t q = m_stepper->directions(rec);
        metric(frugal::metrics::kTrainLoss, step, logged);
        metric(zo::metrics::kProjectedGrad, step, rec.grads[0]);
        if (q > 1) {
            double mean = 0;
            for (size_t j = 0; j < q; ++j) mean += std::fabs(rec.grads[j]);
            metric(zo::metrics::kProjectedGradAbsMean, step, mean / static_cast<double>(q));
        }
        metric(zo::metrics::kSeed, step, static_cast<double>(rec.seeds[0]));
        metric(zo::metrics::kQueries, step, static_cast<double>(q));
        metric(frugal::metrics::kForwardPasses, step, static_cast<double>(m_r.forwardPasses));
        metric(zo::metrics::kLr, step, rec.lr);
        if (rec.choice) metric(zo::metrics::kConservativeChoice, step, rec.choice);
        if (m_world) {
            const dist::World::Traffic now = m_world->traffic();
            metric("dist/bytes_per_step", step, static_cast<double>(now.bytes - m_sent.bytes));
            metric("dist/collectives_per_step", step, static_cast<double>(now.calls - m_sent.calls));
            metric("dist/comm_seconds", step, now.seconds - m_sent.seconds);
        }
        for (const auto& [key, value] : m_stepper->series()) metric(key, step, value);
        if (m_stepper->mask()) metric(zo::metrics::kPerturbedFraction, step, m_stepper->mask()->density());
        m_sink.progress(step, m_spec.steps, "loss " + shortNumber(logged));
    }

    // The dev evaluation every eval_every steps, the probes, and the resume point.
    void afterStep(int64_t step) {
        const bool evaluated = step % m_spec.evalEvery == 0 || step == m_spec.steps;
        if (evaluated) {
            m_stepper->settle();
            eval::reportDev(*m_problem, step, m_sink, m_r);
        }
        if (m_probe) {
            m_stepper->settle();
            m_probe->after(step, m_spec.steps, m_sink, m_stop);
        }
        if (evaluated && step < m_spec.steps) saveResumePoint(step + 1);
    }

    void finish(std::chrono::steady_clock::time_point start) {
        m_stepper->settle();
        m_r.steps = m_spec.steps;
        if (m_world) {
            const std::string digest = digestOf(trainablesOf(*m_problem));
            m_world->agree("final trainable weights (digest)", digest);
            const dist::World::Traffic t = m_world->traffic();
            log(cat("the final trainable weights are the same on all ", m_world->size(), " processes (digest ",
                    digest, "); this process handed ", t.bytes, " bytes to ", t.calls,
                    " collectives (the steps' and the evaluations'), ", shortNumber(t.seconds), " s inside them"));
        }
        saveTrajectory();
        eval::finishRun(*m_problem, m_sink, m_r, start);
        if (const model::BlockStore* store = m_problem->blockStore()) {  // what streaming cost
            const auto t = store->traffic();
            const auto gb = [](int64_t bytes) { return static_cast<double>(bytes) / 1e9; };
            metric("stream/read_gb", m_spec.steps, gb(t.read));
            metric("stream/written_gb", m_spec.steps, gb(t.written));
            metric("stream/io_seconds", m_spec.steps, t.readSeconds + t.writeSeconds);
            log(cat("streamed: ", shortNumber(gb(t.read)), " GB read (", shortNumber(t.readSeconds), " s), ",
                    shortNumber(gb(t.written)), " GB written (", shortNumber(t.writeSeconds), " s) on the I/O thread"));
        }
    }

    void saveTrajectory() {
        if (!m_o.trajectoryFile.empty()) writeTrajectory(m_o.trajectoryFile, m_trajectory);
    }

    // The state at the top of step NEXT (the weights settled): metrics stored first, then the
    // trajectory, then the point that refers to both.
    void saveResumePoint(int64_t next) {
        if (m_resumeAt.empty()) return;
        m_sink.flush();
        saveTrajectory();
        eval::ResumePoint point;
        point.nextStep = next;
        point.setRng(m_rng);
        point.keep(m_r);
        point.counters = {{"lr_scale", m_lrScale},
                          {"first_loss", m_firstLoss},
                          {"last_epoch", static_cast<double>(m_lastEpoch)},
                          {"rollbacks", static_cast<double>(m_r.rollbacks)}};
        // it stands on the trajectory's rows so far (a failure elsewhere may append more later)
        if (!m_o.trajectoryFile.empty())
            point.refers = {eval::fileRef(m_resumeAt.parent_path(), m_o.trajectoryFile, eval::RefersTo::LinesNow)};
        eval::writeResumePoint(m_resumeAt, point);
    }

    void log(const std::string& line) { m_sink.info(line); }
    void metric(const std::string& key, int64_t step, double value) { m_sink.metric(key, step, value); }

    const ZoConfig& m_c;
    const eval::FineTuneSpec& m_spec;
    EventSink& m_sink;
    const StopToken& m_stop;
    const ZoRunOptions& m_o;
    dist::World* m_world;
    std::filesystem::path m_resumeAt;  // empty: no resume points
    std::unique_ptr<eval::FineTuneProblem> m_problem;
    std::unique_ptr<ZoStepper> m_stepper;
    std::unique_ptr<eval::TrainingProbe> m_probe;
    std::unique_ptr<QuerySchedule> m_schedule;
    int64_t m_trainExamples = 0;
    ZoResult m_r;
    std::mt19937_64 m_rng;
    std::vector<StepRecord> m_trajectory;
    dist::World::Traffic m_sent;  // the traffic before the current step
    double m_lrScale = 1, m_firstLoss = NAN;
    int64_t m_lastEpoch = -1, m_firstStep = 1;
};

}  // namespace

ZoResult runZo(const ZoConfig& c, EventSink& sink, const StopToken& stop, const ZoRunOptions& options) {
    return ZoRun(c, sink, stop, options).run();
}

void replayZo(const ZoConfig& c, const std::vector<StepRecord>& trajectory,
              const std::filesystem::path& outDir) {
    c.validate();
    eval::FineTuneProblem problem(c.common);
    model::BlockStore* store = problem.blockStore();
    const std::unique_ptr<ZoStepper> stepper =
        store ? makeStreamedStepper(c, problem, *store) : makeStepper(c, problem.params());
    replayOnto(*stepper, trajectory);
    problem.save(outDir);
}

}  // namespace frugal::zo
