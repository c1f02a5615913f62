#include "analysis/live_landscape.h"

#include "dist/world.h"

#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "analysis/landscape.h"
#include "common/error.h"
#include "common/format.h"
#include "common/metric_keys.h"
#include "analysis/analysis_metrics.h"

namespace frugal::analysis {

namespace {

class LiveLandscape final : public eval::TrainingProbe {
public:
    LiveLandscape(const eval::LiveLandscapeSpec& spec, eval::FineTuneProblem& problem, bool gradients,
                  dist::World* world)
        : m_spec(spec),
          m_problem(problem),
          m_world(world),
          m_seed(spec.seed >= 0 ? static_cast<uint64_t>(spec.seed) : problem.spec().seed),
          m_sam(gradients && spec.sam) {
        // Its own stream (not the training's mt19937_64(seed)): the same batch at every probe.
        std::mt19937_64 rng(m_seed ^ 0x6c616e6473636170ULL);
        m_batch = problem.drawBatch(rng, spec.batchSize > 0 ? spec.batchSize : problem.spec().batchSize);
        for (const auto& p : problem.params().trainables()) m_copyBytes += p.tensor.numel() * 4;
    }

    void after(int64_t step, int64_t lastStep, EventSink& sink, const StopToken& stop) override {
        if (step % m_spec.every != 0 && step != lastStep) return;
        try {
            probe(step, sink, stop);
        } catch (const Cancelled&) {
            sink.info(cat("live landscape: the probe at step ", step, " was abandoned (stop requested); the weights are restored"));
        }
    }

    int64_t forwards() const override { return m_forwards; }

private:
    void probe(int64_t step, EventSink& sink, const StopToken& stop) {
        const auto start = std::chrono::steady_clock::now();
        const std::vector<Trainable>& params = m_problem.params().trainables();
        const int64_t before = m_forwards;
        const std::function<double()> loss = [&] {
            ++m_forwards;
            return m_problem.lossValueOn(m_batch);
        };
        const Direction d1 = filterNormalised(params, m_seed * 2 + 1);
        const Direction d2 = m_spec.dims == 2 ? filterNormalised(params, m_seed * 2 + 2) : Direction();
        if (m_first) {
            sink.info(cat("live landscape every ", m_spec.every, " steps: ",
                          m_spec.dims == 1 ? cat(m_spec.points, " points") : cat(m_spec.points, "x", m_spec.points),
                          " on [", m_spec.lo, ", ", m_spec.hi, "] along filter-normalised directions (seed ", m_seed,
                          ") over ", params.size(), " tensors, on ", m_batch.candidates.examples(),
                          " examples of its own; sharpness with ", m_spec.sharpnessProbes, " probes",
                          m_sam ? ", SAM's one-step value" : "", "; a probe holds a copy of the trainables (",
                          shortNumber(static_cast<double>(m_copyBytes) / (1 << 20)), " MiB) while it runs"));
            std::vector<float> axis;
            for (int64_t i = 0; i < m_spec.points; ++i)
                axis.push_back(static_cast<float>(gridPoint(m_spec.lo, m_spec.hi, i, m_spec.points)));
            sink.vector(frugal::metrics::kLandscapeAxis, step, {m_spec.points}, axis);
            m_first = false;
        }
        Mover mover(params);
        SliceSettings settings;
        settings.points = m_spec.points;
        settings.lo = m_spec.lo;
        settings.hi = m_spec.hi;
        if (dist::World* world = m_world) {  // a data-parallel run: the probe's points shared out
            settings.rank = world->rank();
            settings.count = world->size();
            settings.gather = [world](const std::vector<double>& mine) { return world->allgather(mine); };
        }
        const Slice s = m_spec.dims == 1 ? slice1d(mover, d1, loss, settings, stop)
                                         : slice2d(mover, d1, d2, loss, settings, stop);
        const std::vector<float> data(s.loss.begin(), s.loss.end());
        sink.vector(m_spec.dims == 1 ? frugal::metrics::kSlice1d : frugal::metrics::kSlice2d, step,
                    m_spec.dims == 1 ? std::vector<int64_t>{m_spec.points}
                                     : std::vector<int64_t>{m_spec.points, m_spec.points},
                    data);
        int64_t nonFinite = 0;
        double lo = INFINITY;
        for (double v : s.loss)
            if (std::isfinite(v))
                lo = std::min(lo, v);
            else
                ++nonFinite;
        if (std::isfinite(s.centre)) sink.metric(frugal::metrics::kLandscapeCentreLoss, step, s.centre);
        sink.metric(frugal::metrics::kLandscapeMinLoss, step, lo);
        if (nonFinite > 0) {
            sink.metric(frugal::metrics::kLandscapeNonFinite, step, static_cast<double>(nonFinite));
            sink.log("warn", cat("live landscape at step ", step, ": ", nonFinite, " of ", s.loss.size(),
                                 " points have a non-finite loss (stored as NaN/Inf)"));
        }
        std::string sharp;
        if (m_spec.sharpnessProbes > 0) {
            if (stop.stopRequested()) throw Cancelled("stopped");
            SharpnessSettings ss;
            ss.probes = m_spec.sharpnessProbes;
            ss.h = m_spec.sharpnessH;
            ss.rho = m_spec.sharpnessRho;
            ss.seed = m_seed;
            const Sharpness sh =
                sharpness(mover, loss, ss,
                          m_sam ? std::function<torch::Tensor()>([&] {
                              ++m_forwards;
                              return m_problem.lossOn(m_batch);
                          })
                                : std::function<torch::Tensor()>());
            sink.metric(frugal::metrics::kHutchinsonTrace, step, sh.trace);
            sink.metric(frugal::metrics::kHutchinsonStderr, step, sh.traceError);
            sink.metric(frugal::metrics::kEpsBall, step, sh.epsBall);
            if (m_sam) sink.metric(frugal::metrics::kSam, step, sh.sam);
            sharp = cat("; Hutchinson trace ", shortNumber(sh.trace), " +- ", shortNumber(sh.traceError),
                        ", eps-ball rise ", shortNumber(sh.epsBall), m_sam ? cat(", SAM ", shortNumber(sh.sam)) : "");
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        sink.metric(analysis::metrics::kProbeSeconds, step, seconds);
        sink.metric(analysis::metrics::kProbeForwards, step, static_cast<double>(m_forwards));
        sink.info(cat("live landscape at step ", step, ": centre ", shortNumber(s.centre), ", lowest ", shortNumber(lo),
                      sharp, " (", m_forwards - before, " forwards, ", shortNumber(seconds), " s)"));
    }

    eval::LiveLandscapeSpec m_spec;
    eval::FineTuneProblem& m_problem;
    dist::World* m_world;  // null: one process
    uint64_t m_seed;
    bool m_sam;
    eval::FineTuneProblem::Batch m_batch;
    int64_t m_copyBytes = 0, m_forwards = 0;
    bool m_first = true;
};

}  // namespace

std::unique_ptr<eval::TrainingProbe> makeLiveLandscapeProbe(const eval::LiveLandscapeSpec& spec,
                                                            eval::FineTuneProblem& problem, bool gradients,
                                                            dist::World* world) {
    return std::make_unique<LiveLandscape>(spec, problem, gradients, world);
}

MethodView withLiveLandscape(MethodView view) {
    const std::string every = "live_landscape.every";
    PanelView trace{"Hutchinson trace", "tr H (forward-only)",
                    {{{frugal::metrics::kHutchinsonTrace, 0}, {frugal::metrics::kHutchinsonStderr, 1}}}};
    PanelView rise{"Sharpness rise", "loss rise in the rho-ball", {{{frugal::metrics::kEpsBall, 4}, {frugal::metrics::kSam, 5}}}};
    PanelView slice{"Slice", "loss on the probe batch",
                    {{{frugal::metrics::kLandscapeCentreLoss, 2}, {frugal::metrics::kLandscapeMinLoss, 0}}}};
    std::vector<PanelView> probe = {trace, rise, slice};
    for (auto& p : probe) p.whenSet = every;
    // after loss and evaluation
    const auto at = view.panels.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(2, view.panels.size()));
    view.panels.insert(at, probe.begin(), probe.end());
    view.vectors.push_back({frugal::metrics::kSlice2d, every});
    view.vectors.push_back({frugal::metrics::kSlice1d, every});
    return view;
}

}  // namespace frugal::analysis
