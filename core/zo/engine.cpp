#include "zo/engine.h"

#include <chrono>
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

namespace frugal::zo {

namespace {

// A non-finite or exploding loss, thrown at the step where it happened.
class Diverged : public Error {
public:
    using Error::Error;
};

// Applies steps to a trainable set: with a loss function (training) or from recorded projected
// gradients and choices (replay, rollback). Both paths perform the same weight arithmetic in the
// same order, which is what makes replay bit-identical.
class Stepper {
public:
    Stepper(const ZoConfig& c, const peft::ParamSet& params)
        : m_c(c),
          m_params(params.trainables()),
          m_law(parseLaw(c.direction)),
          m_optimizer(findZoOptimizer(c.optimizer)),
          m_central(c.estimator == "central"),
          // the sign of each projected gradient, then SGD's move (ZO-Bench's code)
          m_scalarSign(c.signMode == "scalar" && std::string(m_optimizer.name) == "sign"),
          m_applied(m_scalarSign ? findZoOptimizer("sgd") : m_optimizer) {
        m_state = OptimizerState::forRule(m_applied, m_params);
        if (c.sparsity > 0) m_mask = std::make_unique<SparseMask>(SparseMask::fromWeights(m_params, c.sparsity));
        if (c.keepZeros) m_mask = std::make_unique<SparseMask>(SparseMask::nonZero(m_params));
    }

    const OptimizerState& state() const { return m_state; }
    const SparseMask* mask() const { return m_mask.get(); }

    // A one-query SGD step leaves its last pass (restore and update) pending, to be made together
    // with the next step's first pass: two passes over the weights a step instead of three.
    // settle() makes it alone, before anything that reads the weights (an evaluation, a probe, a
    // save, the end); fused or alone, the bits are the same (restoreUpdateAndPerturb).
    void settle() {
        if (!m_pending) return;
        restoreAndUpdate(m_params, m_pending->seed, m_pending->restore, m_pending->lr, m_pending->grad,
                         m_c.common.weightDecay, m_law, m_mask.get());
        m_pending.reset();
    }

    // Returns the step's logged loss (L(θ+εz) of the first query for central, L(θ) for forward),
    // NaN in replay. LOSS == nullptr: replay REC.
    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) {
        const bool replay = loss == nullptr;
        const size_t q = rec.seeds.size();
        const double eps = m_c.eps;
        const auto evaluate = [&](const char* what) {
            const double l = (*loss)();
            ++forwards;
            if (!std::isfinite(l)) throw Diverged(cat("the loss ", what, " is ", l));
            return l;
        };
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
        UpdateRule rule;
        rule.optimizer = &m_applied;
        rule.lr = rec.lr;
        rule.weightDecay = m_c.common.weightDecay;
        rule.momentum = m_c.momentum;
        rule.beta1 = m_c.beta1;
        rule.beta2 = m_c.beta2;
        rule.adamEps = m_c.adamEps;
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
    if (c.querySchedule == "constant") return QuerySchedule::constant(c.queries);
    return QuerySchedule::adazeta(
        c.adazetaAlpha, c.adazetaNum, c.queriesMax,
        QuerySchedule::epochsOf(c.common.steps, trainExamples, c.common.batchSize), c.adazetaBeta);
}

}  // namespace

std::string weightsDigest(const model::NamedTensors& tensors) { return digestOf(tensors); }

void writeTrajectory(const std::filesystem::path& file, const std::vector<StepRecord>& steps) {
    std::ostringstream out;
    out << "step,query,seed,projected_grad,lr,choice\n";
    char line[160];
    for (const auto& r : steps)
        for (size_t j = 0; j < r.seeds.size(); ++j) {
            std::snprintf(line, sizeof line, "%lld,%zu,%llu,%.17g,%.17g,%d\n",
                          static_cast<long long>(r.step), j,
                          static_cast<unsigned long long>(r.seeds[j]), r.grads.at(j), r.lr, r.choice);
            out << line;
        }
    std::filesystem::create_directories(file.parent_path());
    const auto tmp = file.string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        f << out.str();
        if (!f) fail(tmp, ": cannot write the trajectory");
    }
    std::filesystem::rename(tmp, file);
}

std::vector<StepRecord> readTrajectory(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) fail(file.string(), ": cannot open the trajectory");
    std::string line;
    std::getline(in, line);
    if (line != "step,query,seed,projected_grad,lr,choice")
        fail(file.string(), ": line 1 is not the trajectory header step,query,seed,projected_grad,lr,choice");
    std::vector<StepRecord> steps;
    int64_t lineNo = 1;
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

ZoResult runZo(const ZoConfig& c, EventSink& sink, const StopToken& stop,
              const std::filesystem::path& trajectoryFile, bool resume) {
    c.validate();
    const auto log = [&](const std::string& line) { sink.info(line); };
    const auto metric = [&](const std::string& key, int64_t step, double value) {
        sink.metric(key, step, value);
    };
    const auto start = std::chrono::steady_clock::now();
    // Data parallel (dist/world.h): every process holds the model and draws the same seeds; each
    // scores its shard of every batch; the loss scalars are averaged over the processes (weighted
    // by shard size), so every process applies the same update. Process 0 alone writes.
    dist::World* world = dist::current();
    const eval::FineTuneProblem::Gather gather = [world](const std::vector<double>& mine) {
        return world->allgather(mine);
    };
    if (world && resume) fail("resume: a distributed run cannot be resumed yet; start it again");
    auto problem = std::make_unique<eval::FineTuneProblem>(c.common);
    if (world) {
        problem->setShard(world->rank(), world->size(), gather);
        world->agree("model (weights digest)", digestOf(problem->model().parameters()));
    }
    auto stepper = std::make_unique<Stepper>(c, problem->params());
    const auto& spec = c.common;
    const int64_t trainExamples = problem->trainSize();  // examples, or a text's windows
    const QuerySchedule schedule = scheduleOf(c, trainExamples);
    const eval::LrSchedule lrSchedule = eval::parseLrSchedule(spec.lrSchedule);
    ZoResult r;
    r.trainable = problem->params().trainableCount();
    r.total = problem->params().totalCount();
    r.optimizerStateBytes = stepper->state().bytes();
    log(cat("ZO (", c.optimizer, ": ", findZoOptimizer(c.optimizer).rule, ", ", c.estimator, " estimator, ", c.direction, " directions, ",
            schedule.describe(), c.sparsity > 0 ? cat(", Sparse-MeZO mask at sparsity ", c.sparsity)
            : c.keepZeros ? std::string(", the zero weights kept at zero (a pruned model)") : std::string(),
            ") on ", problem->describeData(), " with the ", spec.objective, " objective: ",
            problem->params().describe(), "; batch ",
            spec.batchSize, spec.microBatch > 0 && spec.microBatch < spec.batchSize
                                ? cat(" in pieces of ", spec.microBatch) : std::string(), ", lr ", spec.lr, " (", spec.lrSchedule, "), eps ", c.eps));
    std::mt19937_64 rng(spec.seed);
    std::vector<StepRecord> trajectory;
    const std::filesystem::path resumeAt =
        trajectoryFile.empty() ? std::filesystem::path() : eval::resumeDir(trajectoryFile.parent_path());
    const auto saveTrajectory = [&] {
        if (!trajectoryFile.empty()) writeTrajectory(trajectoryFile, trajectory);
    };
    const std::function<double()> lossFn = [&] {
        const double local = problem->lossValue();
        return world ? world->weightedMean(local, problem->lossWeight()) : local;
    };
    if (world) {
        log(cat("data parallel over ", world->size(), " processes (", world->backend(), "): process ",
                world->rank(), " scores examples [", spec.batchSize * world->rank() / world->size(), ", ",
                spec.batchSize * (world->rank() + 1) / world->size(), ") of each batch of ", spec.batchSize));
        metric("dist/world_size", 0, world->size());
    }
    dist::World::Traffic sent;  // the traffic before the current step
    double lrScale = 1, firstLoss = NAN;
    int64_t lastEpoch = -1, firstStep = 1;
    // The state at the top of step NEXT (the weights settled): metrics stored first, then the
    // trajectory, then the point that refers to both.
    const auto saveResumePoint = [&](int64_t next) {
        if (resumeAt.empty()) return;
        sink.flush();
        saveTrajectory();
        eval::ResumePoint point;
        point.nextStep = next;
        point.setRng(rng);
        point.keep(r);
        point.counters = {{"lr_scale", lrScale},
                          {"first_loss", firstLoss},
                          {"last_epoch", static_cast<double>(lastEpoch)},
                          {"rollbacks", static_cast<double>(r.rollbacks)}};
        eval::writeResumePoint(resumeAt, point);
    };
    if (resume) {
        if (resumeAt.empty()) fail("resume: a ZO run resumes from its trajectory; none was given");
        const eval::ResumePoint point = eval::readResumePoint(
            resumeAt, "the run stopped before its first evaluation step; start it again");
        trajectory = readTrajectory(trajectoryFile);
        while (!trajectory.empty() && trajectory.back().step >= point.nextStep) trajectory.pop_back();
        int64_t unused = 0;
        for (auto& applied : trajectory) stepper->step(applied, nullptr, unused);
        stepper->settle();
        point.restoreRng(rng);
        point.restore(r);
        lrScale = point.counter("lr_scale");
        firstLoss = point.counter("first_loss");
        lastEpoch = static_cast<int64_t>(point.counter("last_epoch"));
        r.rollbacks = static_cast<int64_t>(point.counter("rollbacks"));
        firstStep = point.nextStep;
        log(cat("resumed at step ", firstStep, " of ", spec.steps, ": ", trajectory.size(),
                " steps replayed from ", trajectoryFile.string()));
    } else {
        metric("params/trainable", 0, static_cast<double>(r.trainable));
        eval::reportDev(*problem, 0, sink, r);
    }
    // [live_landscape]: probes beside the training, restored bit for bit (eval/training_probe.h).
    std::unique_ptr<eval::TrainingProbe> probe = eval::makeLiveLandscape(spec.liveLandscape, *problem, false);
    if (probe && !resume) probe->after(0, spec.steps, sink, stop);

    int64_t atStep = firstStep;
    try {
        for (int64_t step = firstStep; step <= spec.steps; ++step) {
            atStep = step;
            if (world) sent = world->traffic();
            // every process stops at the same step, whichever was asked
            if (world ? world->any(stop.stopRequested()) : stop.stopRequested()) {
                stepper->settle();  // a stopped run's weights are θ after its last step
                saveTrajectory();
                saveResumePoint(step);
                throw Cancelled(cat("ZO stopped before step ", step, " of ", spec.steps));
            }
            problem->nextBatch(rng);
            const int64_t epoch = (step - 1) * spec.batchSize / trainExamples;
            StepRecord rec;
            rec.step = step;
            rec.lr = eval::lrAt(lrSchedule, spec.lr, step, spec.steps) * lrScale;
            const int64_t q = schedule.queriesAt(epoch);
            if (epoch != lastEpoch) {  // Q per data epoch, the schedule's own axis
                metric("zo/epoch_queries", epoch, static_cast<double>(q));
                lastEpoch = epoch;
            }
            for (int64_t j = 0; j < q; ++j) rec.seeds.push_back(rng() >> 11);
            double logged = NAN;
            try {
                logged = stepper->step(rec, &lossFn, r.forwardPasses);
                if (c.divergence != "off" && std::isfinite(firstLoss) && firstLoss > 0 &&
                    logged > c.divergenceFactor * firstLoss)
                    throw Diverged(cat("the loss ", logged, " exceeds ", c.divergenceFactor,
                                       " × the first step's ", firstLoss));
            } catch (const Diverged& d) {
                if (c.divergence != "rollback" || r.rollbacks >= c.maxRollbacks) {
                    saveTrajectory();
                    log(cat("step ", step, ": ", d.what(), "; the divergence monitor (zo.divergence = \"",
                            c.divergence, "\") stops the run"));
                    fail("ZO diverged at step ", step, ": ", d.what(),
                         c.divergence != "rollback"
                             ? "; lower zo.lr or zo.eps, or set zo.divergence = \"rollback\""
                             : cat(" after ", r.rollbacks, " rollbacks; lower zo.lr or zo.eps"));
                }
                ++r.rollbacks;
                const int64_t keepBefore = step - c.rollbackSteps;
                while (!trajectory.empty() && trajectory.back().step >= keepBefore) trajectory.pop_back();
                lrScale *= 0.5;
                problem = std::make_unique<eval::FineTuneProblem>(spec);
                if (world) problem->setShard(world->rank(), world->size(), gather);
                stepper = std::make_unique<Stepper>(c, problem->params());
                if (probe) probe = eval::makeLiveLandscape(spec.liveLandscape, *problem, false);
                int64_t unused = 0;
                for (auto& applied : trajectory) stepper->step(applied, nullptr, unused);
                stepper->settle();
                log(cat("step ", step, ": ", d.what(), "; rolled back to the state after step ",
                        trajectory.empty() ? 0 : trajectory.back().step, " (", trajectory.size(),
                        " steps replayed), lr halved to ", spec.lr * lrScale));
                metric("zo/rollback", step, static_cast<double>(r.rollbacks));
                continue;
            }
            if (!std::isfinite(firstLoss)) firstLoss = logged;
            trajectory.push_back(rec);
            metric("train/loss", step, logged);
            metric("zo/projected_grad", step, rec.grads[0]);
            if (q > 1) {
                double mean = 0;
                for (double g : rec.grads) mean += std::fabs(g);
                metric("zo/projected_grad_abs_mean", step, mean / static_cast<double>(q));
            }
            metric("zo/seed", step, static_cast<double>(rec.seeds[0]));
            metric("zo/queries", step, static_cast<double>(q));
            metric("zo/forward_passes", step, static_cast<double>(r.forwardPasses));
            metric("zo/lr", step, rec.lr);
            if (rec.choice) metric("zo/conservative_choice", step, rec.choice);
            if (world) {
                const dist::World::Traffic now = world->traffic();
                metric("dist/bytes_per_step", step, static_cast<double>(now.bytes - sent.bytes));
                metric("dist/collectives_per_step", step, static_cast<double>(now.calls - sent.calls));
                metric("dist/comm_seconds", step, now.seconds - sent.seconds);
            }
            if (stepper->mask()) metric("zo/perturbed_fraction", step, stepper->mask()->density());
            sink.progress(step, spec.steps, "loss " + shortNumber(logged));
            const bool evaluated = step % spec.evalEvery == 0 || step == spec.steps;
            if (evaluated) {
                stepper->settle();
                eval::reportDev(*problem, step, sink, r);
            }
            if (probe) {
                stepper->settle();
                probe->after(step, spec.steps, sink, stop);
            }
            if (evaluated && step < spec.steps) saveResumePoint(step + 1);
        }
    } catch (const dist::PeerFailure& e) {  // another process failed: everything before this step is kept
        saveTrajectory();
        fail("ZO stopped at step ", atStep, " of ", spec.steps, ": ", e.what());
    }
    stepper->settle();
    r.steps = spec.steps;
    if (world) {
        const std::string digest = digestOf(trainablesOf(*problem));
        world->agree("final trainable weights (digest)", digest);
        const dist::World::Traffic t = world->traffic();
        log(cat("the final trainable weights are the same on all ", world->size(), " processes (digest ", digest,
                "); this process handed ", t.bytes, " bytes to ", t.calls, " collectives (the steps' and the "
                "evaluations'), ", shortNumber(t.seconds), " s inside them"));
    }
    saveTrajectory();
    eval::finishRun(*problem, sink, r, start);
    return r;
}

void replayZo(const ZoConfig& c, const std::vector<StepRecord>& trajectory,
              const std::filesystem::path& outDir) {
    c.validate();
    eval::FineTuneProblem problem(c.common);
    Stepper stepper(c, problem.params());
    int64_t unused = 0;
    for (StepRecord rec : trajectory) stepper.step(rec, nullptr, unused);
    stepper.settle();
    problem.save(outDir);
}

}  // namespace frugal::zo
