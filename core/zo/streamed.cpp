#include "zo/streamed.h"

#include <c10/core/InferenceMode.h>

#include <cmath>
#include <map>
#include <set>

#include "common/error.h"
#include "common/format.h"
#include "zo/perturb.h"

namespace frugal::zo {

void checkStreamable(const ZoConfig& c) {
    const std::string& t = c.table;
    const auto refuse = [&](const std::string& key, const std::string& why) {
        failInput(t, ".", key, ": ", why, "; a model whose blocks are streamed from disk runs MeZO's own step (zo.scheme = \"mezo\") with Gaussian or Rademacher directions and no mask");
    };
    if (c.scheme && c.scheme->make) refuse("scheme", cat("\"", c.scheme->name, "\" has passes of its own that the block sweep does not make"));
    if (c.sparsity > 0) refuse("sparsity", "the Sparse-MeZO mask is not kept per block");
    if (c.keepZeros) refuse("keep_zeros", "a pruned model's zero mask is not kept per block");
    if (c.direction == DirectionLaw::Sphere) refuse("direction", "the sphere's scale is a norm over every block at once");
    if (c.common.peft.target == peft::Target::Prefix)
        failInput("peft.target = \"prefix\": prefixes start from a forward of the whole model; a streamed model trains lora, prompt, loretta or its full weights");
    if (c.common.liveLandscape.every > 0)
        failInput("live_landscape.every: the probes' forwards are the whole model's; they do not run on a streamed model (memory.stream)");
    if (c.common.textMode())
        failInput("train_text: the dev text's perplexity is not made block by block yet; a streamed model trains on a task");
    if (c.common.peft.loraKeepZeros) failInput("peft.lora_keep_zeros reads every base weight at the start; it does not run on a streamed model");
}

namespace {

// One weight operation of a step, made on each group of trainables in turn.
struct WeightOp {
    enum Kind { Perturb, RestoreUpdate, Update } kind = Perturb;
    uint64_t seed = 0;
    double scale = 0;                      // Perturb: θ += scale·z
    double restore = 0, lr = 0, grad = 0;  // RestoreUpdate (zo/perturb.h)
    std::vector<Query> queries;            // Update: the optimiser's rule along ĝ
    UpdateRule rule;
};

// An operation, or the forward of stream STREAM through the part of the model at hand.
struct Event {
    bool forward = false;
    WeightOp op;
    size_t stream = 0;
};

// The trainables of one decoder block, or those outside the blocks.
struct Group {
    std::vector<Trainable> params;
    std::vector<bool> blockWeight;  // the tensor is a block weight: bound while the block is in
    bool hasBlockWeights = false;
    OptimizerState state;
};

class StreamedStepper : public ZoStepper {
public:
    StreamedStepper(const ZoConfig& c, eval::FineTuneProblem& problem, model::BlockStore& store)
        : m_c(c), m_problem(problem), m_store(store), m_model(problem.model()), m_law(c.direction),
          m_optimizer(*c.optimizer), m_central(c.estimator == Estimator::Central),
          m_scalarSign(c.signMode == SignMode::Scalar && m_optimizer.signRule),
          m_applied(m_scalarSign ? zoSgd() : m_optimizer) {
        checkStreamable(c);
        m_blocks.resize(static_cast<size_t>(m_model.numLayers()));
        std::vector<std::set<std::string>> weights(m_blocks.size());
        for (int64_t b = 0; b < m_model.numLayers(); ++b)
            m_model.forEachBlockWeight(b, [&](const std::string& name, torch::Tensor&) { weights[static_cast<size_t>(b)].insert(name); });
        for (const Trainable& t : problem.params().trainables()) {
            const int64_t b = decoderBlockOf(t.name);
            Group& g = b >= 0 && b < m_model.numLayers() ? m_blocks[static_cast<size_t>(b)] : m_outside;
            const bool inBlock = b >= 0 && b < m_model.numLayers() && weights[static_cast<size_t>(b)].count(t.name);
            g.params.push_back(t);
            g.blockWeight.push_back(inBlock);
            g.hasBlockWeights = g.hasBlockWeights || inBlock;
        }
        if (m_outside.hasBlockWeights) fail("streamed ZO: a trainable outside the blocks is a block weight");
        for (Group* g : groups()) {
            if (g->hasBlockWeights && !m_store.writable())
                fail("streamed ZO: the trainables include block weights but the block store is the checkpoint, read-only; full fine-tuning needs a working copy");
            // resident, fp32, shaped as the tensors (a block weight is a placeholder here)
            const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
            for (const Trainable& p : g->params) {
                if (m_applied.stateBuffers >= 1) g->state.first.push_back(torch::zeros({p.tensor.numel()}, opts));
                if (m_applied.stateBuffers >= 2) g->state.second.push_back(torch::zeros({p.tensor.numel()}, opts));
            }
        }
    }

    int64_t stateBytes() const override {
        int64_t n = m_outside.state.bytes();
        for (const Group& g : m_blocks) n += g.state.bytes();
        return n;
    }

    // Makes the operations left pending (the last step's update, replayed steps) in one sweep.
    void settle() override {
        if (m_pending.empty()) return;
        std::vector<Event> events = takePending();
        sweep(events, 0);
    }

    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) override {
        const size_t q = rec.seeds.size();
        if (q == 0) fail("trajectory step ", rec.step, ": no seeds");
        if (loss == nullptr) {  // replay: every operation known from the record, made by settle()
            if (rec.grads.size() != q) fail("trajectory step ", rec.step, ": seeds and gradients differ in number");
            queueStep(rec, nullptr);
            return NAN;
        }
        return train(rec, forwards);
    }

private:
    std::vector<Group*> groups() {
        std::vector<Group*> out{&m_outside};
        for (Group& g : m_blocks) out.push_back(&g);
        return out;
    }

    bool fused(size_t q) const { return m_applied.fusable && !m_optimizer.conservative && q == 1; }
    double effective(double g) const { return m_scalarSign ? double((g > 0) - (g < 0)) : g; }

    static Event op(WeightOp o) { return {false, std::move(o), 0}; }
    static Event forwardOf(size_t stream) { return {true, {}, stream}; }
    static WeightOp perturbOp(uint64_t seed, double scale) {
        WeightOp o;
        o.kind = WeightOp::Perturb;
        o.seed = seed;
        o.scale = scale;
        return o;
    }

    std::vector<Event> takePending() {
        std::vector<Event> events;
        for (WeightOp& o : m_pending) events.push_back(op(std::move(o)));
        m_pending.clear();
        return events;
    }

    // The first sweep of a step: the base stream (forward estimator, conservative), then per
    // query the perturbed streams, the weights restored after each query but a fused one's last.
    // Streams: base (when there is one) first, then + and − (central) or + (forward) per query.
    double train(StepRecord& rec, int64_t& forwards) {
        const size_t q = rec.seeds.size();
        const double eps = m_c.eps;
        const bool base = !m_central || m_optimizer.conservative;
        std::vector<Event> events = takePending();
        size_t streams = 0;
        if (base) events.push_back(forwardOf(streams++));
        for (size_t j = 0; j < q; ++j) {
            const uint64_t s = rec.seeds[j];
            events.push_back(op(perturbOp(s, +eps)));
            events.push_back(forwardOf(streams++));
            if (m_central) {
                events.push_back(op(perturbOp(s, -2 * eps)));
                events.push_back(forwardOf(streams++));
                if (!fused(q)) events.push_back(op(perturbOp(s, +eps)));
            } else if (!fused(q)) {
                events.push_back(op(perturbOp(s, -eps)));
            }
        }
        const std::vector<double> losses = sweep(events, streams);
        forwards += static_cast<int64_t>(streams);
        const size_t first = base ? 1 : 0;
        for (size_t i = 0; i < losses.size(); ++i)  // as the in-memory engine names it
            if (!std::isfinite(losses[i]))
                throw Diverged(cat("the loss ", i < first ? "at θ" : !m_central || (i - first) % 2 == 0 ? "at θ+εz" : "at θ−εz",
                                   " is ", losses[i]));
        rec.grads.assign(q, 0.0);
        for (size_t j = 0; j < q; ++j)
            rec.grads[j] = m_central ? (losses[first + 2 * j] - losses[first + 2 * j + 1]) / (2 * eps)
                                     : (losses[first + j] - losses[0]) / eps;
        const double logged = m_central ? losses[first] : losses[0];  // L(θ+εz) of the first query, or L(θ)
        if (m_optimizer.conservative) {
            conservative(rec, losses[0], forwards);
            return logged;
        }
        queueStep(rec, &losses);
        return logged;
    }

    // After the step's forwards (or from a record, LOSSES == nullptr): its update, made on the
    // next sweep. A fused step's restore and update; the optimiser's rule otherwise.
    void queueStep(const StepRecord& rec, const std::vector<double>* losses) {
        const size_t q = rec.seeds.size();
        const double eps = m_c.eps;
        if (losses == nullptr) {  // replay makes the step's perturbations too
            for (size_t j = 0; j < q && !m_optimizer.conservative; ++j) {
                const uint64_t s = rec.seeds[j];
                m_pending.push_back(perturbOp(s, +eps));
                if (m_central) {
                    m_pending.push_back(perturbOp(s, -2 * eps));
                    if (!fused(q)) m_pending.push_back(perturbOp(s, +eps));
                } else if (!fused(q)) {
                    m_pending.push_back(perturbOp(s, -eps));
                }
            }
            if (m_optimizer.conservative) {
                replayConservative(rec);
                return;
            }
        }
        if (fused(q)) {
            WeightOp o;
            o.kind = WeightOp::RestoreUpdate;
            o.seed = rec.seeds[0];
            o.restore = m_central ? +eps : -eps;
            o.lr = rec.lr;
            o.grad = effective(rec.grads[0]);
            m_pending.push_back(std::move(o));
            return;
        }
        WeightOp update = updateOp(rec, rec.lr);
        countStep(update);
        m_pending.push_back(std::move(update));
    }

    WeightOp updateOp(const StepRecord& rec, double lr) {
        WeightOp o;
        o.kind = WeightOp::Update;
        for (size_t j = 0; j < rec.seeds.size(); ++j) o.queries.push_back({rec.seeds[j], effective(rec.grads[j])});
        o.rule = ruleOf(m_c, m_applied, lr);
        return o;
    }

    // The step counter of the optimisers that count steps, advanced once a step as the in-memory
    // engine does.
    void countStep(WeightOp& o) {
        if (m_applied.countsSteps) o.rule.t = ++m_steps;
    }

    // Conservative: θ − ηĝ and θ + ηĝ scored in a second sweep; the best of the three kept.
    void conservative(StepRecord& rec, double base, int64_t& forwards) {
        std::vector<Event> events = takePending();
        WeightOp down = updateOp(rec, rec.lr);
        countStep(down);
        down.rule.weightDecay = 0;
        WeightOp up = down;
        up.rule.lr = -2 * rec.lr;
        events.push_back(op(down));
        events.push_back(forwardOf(0));
        events.push_back(op(up));
        events.push_back(forwardOf(1));
        const std::vector<double> scored = sweep(events, 2);
        forwards += 2;
        if (!std::isfinite(scored[0])) throw Diverged(cat("the loss at θ−ηĝ is ", scored[0]));
        if (!std::isfinite(scored[1])) throw Diverged(cat("the loss at θ+ηĝ is ", scored[1]));
        rec.choice = base <= scored[0] && base <= scored[1] ? 0 : scored[0] <= scored[1] ? 1 : 2;
        if (rec.choice == 2) return;
        WeightOp keep = up;
        keep.rule.lr = rec.choice == 0 ? rec.lr : 2 * rec.lr;
        m_pending.push_back(std::move(keep));
    }

    void replayConservative(const StepRecord& rec) {
        const double eps = m_c.eps;
        for (size_t j = 0; j < rec.seeds.size(); ++j) {  // the first sweep's perturbations
            m_pending.push_back(perturbOp(rec.seeds[j], +eps));
            if (m_central) {
                m_pending.push_back(perturbOp(rec.seeds[j], -2 * eps));
                m_pending.push_back(perturbOp(rec.seeds[j], +eps));
            } else {
                m_pending.push_back(perturbOp(rec.seeds[j], -eps));
            }
        }
        WeightOp down = updateOp(rec, rec.lr);
        countStep(down);
        down.rule.weightDecay = 0;
        WeightOp up = down;
        up.rule.lr = -2 * rec.lr;
        m_pending.push_back(down);
        m_pending.push_back(up);
        if (rec.choice == 2) return;
        WeightOp keep = up;
        keep.rule.lr = rec.choice == 0 ? rec.lr : 2 * rec.lr;
        m_pending.push_back(std::move(keep));
    }

    void apply(const WeightOp& o, Group& g) {
        if (g.params.empty()) return;
        switch (o.kind) {
            case WeightOp::Perturb: perturb(g.params, o.seed, o.scale, m_law); break;
            case WeightOp::RestoreUpdate:
                restoreAndUpdate(g.params, o.seed, o.restore, o.lr, o.grad, m_c.common.weightDecay, m_law);
                break;
            case WeightOp::Update: applyUpdate(g.params, o.queries, m_law, o.rule, g.state); break;
        }
    }

    // Block B's weights bound into its group (fetched), or let go (before eviction).
    void bind(int64_t b, Group& g) {
        if (!g.hasBlockWeights) return;
        std::map<std::string, torch::Tensor> slots;
        m_model.forEachBlockWeight(b, [&](const std::string& name, torch::Tensor& slot) { slots[name] = slot; });
        for (size_t i = 0; i < g.params.size(); ++i)
            if (g.blockWeight[i]) g.params[i].tensor = slots.at(g.params[i].name);
    }
    static void unbind(Group& g) {
        for (size_t i = 0; i < g.params.size(); ++i)
            if (g.blockWeight[i]) g.params[i].tensor = torch::Tensor();
    }

    // EVENTS made on the embeddings' side, through every block, then on the head's side; the
    // losses of the STREAMS forwards.
    std::vector<double> sweep(const std::vector<Event>& events, size_t streams) {
        c10::InferenceMode guard;
        std::vector<eval::FineTuneProblem::Piece> pieces;
        if (streams > 0) pieces = m_problem.blockwisePieces();
        std::vector<std::vector<torch::Tensor>> hidden(streams);
        // The tensors outside the blocks go through EVENTS twice, at the embeddings and at the
        // head: the operations before the first forward once, then a copy of the weights (and
        // of the optimiser state, when a later operation moves it) from which the rest is made
        // again at the head.
        size_t firstForward = 0;
        while (firstForward < events.size() && !events[firstForward].forward) apply(events[firstForward++].op, m_outside);
        std::vector<torch::Tensor> kept, keptState;
        if (streams > 0 && !m_outside.params.empty()) {
            for (const Trainable& t : m_outside.params) kept.push_back(t.tensor.clone());
            for (size_t i = firstForward; i < events.size(); ++i)
                if (!events[i].forward && events[i].op.kind == WeightOp::Update && keptState.empty())
                    for (auto* buffers : {&m_outside.state.first, &m_outside.state.second})
                        for (const torch::Tensor& t : *buffers) keptState.push_back(t.clone());
        }
        for (size_t i = firstForward; i < events.size(); ++i) {  // the embeddings' side
            const Event& e = events[i];
            if (!e.forward) {
                apply(e.op, m_outside);
                continue;
            }
            for (const auto& p : pieces) hidden[e.stream].push_back(m_problem.embedPiece(p));
        }
        const int64_t blocks = m_model.numLayers();
        for (int64_t b = 0; b < blocks; ++b) {
            Group& g = m_blocks[static_cast<size_t>(b)];
            const bool in = streams > 0 || g.hasBlockWeights;
            if (!in && g.params.empty()) continue;
            if (in) {
                m_store.fetch(b);
                for (int64_t ahead = b + 1; ahead < blocks && ahead < b + m_store.ring(); ++ahead) m_store.prefetch(ahead);
                bind(b, g);
            }
            bool changed = false;
            for (const Event& e : events) {
                if (!e.forward) {
                    apply(e.op, g);
                    changed = changed || g.hasBlockWeights;
                    continue;
                }
                auto& h = hidden[e.stream];
                for (size_t p = 0; p < pieces.size(); ++p) h[p] = m_model.forwardBlock(b, h[p], pieces[p].ctx);
            }
            if (in) {
                unbind(g);
                m_store.evict(b, changed);
            }
        }
        std::vector<double> losses(streams, NAN);
        if (streams == 0) return losses;
        for (size_t i = 0; i < kept.size(); ++i) m_outside.params[i].tensor.copy_(kept[i]);
        size_t at = 0;
        for (auto* buffers : {&m_outside.state.first, &m_outside.state.second})
            for (torch::Tensor& t : *buffers)
                if (at < keptState.size()) t.copy_(keptState[at++]);
        for (size_t i = firstForward; i < events.size(); ++i) {  // the head's side: the same arithmetic on the same values
            const Event& e = events[i];
            if (!e.forward) {
                apply(e.op, m_outside);
                continue;
            }
            losses[e.stream] = m_problem.lossFromHidden(pieces, hidden[e.stream]);
            hidden[e.stream].clear();
        }
        return losses;
    }

    const ZoConfig& m_c;
    eval::FineTuneProblem& m_problem;
    model::BlockStore& m_store;
    model::Transformer& m_model;
    DirectionLaw m_law;
    const ZoOptimizer& m_optimizer;
    bool m_central, m_scalarSign;
    const ZoOptimizer& m_applied;
    std::vector<Group> m_blocks;
    Group m_outside;
    std::vector<WeightOp> m_pending;
    int64_t m_steps = 0;
};

}  // namespace

std::unique_ptr<ZoStepper> makeStreamedStepper(const ZoConfig& config, eval::FineTuneProblem& problem,
                                               model::BlockStore& store) {
    return std::make_unique<StreamedStepper>(config, problem, store);
}

}  // namespace frugal::zo
