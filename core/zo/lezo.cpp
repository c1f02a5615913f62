// LeZO (arXiv 2410.09823; zo/scheme.h): MeZO's central two-point step on a random subset of the
// decoder blocks. Each step draws ceil(lezo_fraction · B) of the B blocks from its first seed;
// only their trainables (and every trainable outside the blocks: embeddings, final norm, head)
// are perturbed, and the optimiser row updates only them; a block left out keeps its weights and
// its optimiser state. Each trainable's direction is MeZO's (its stream is its index in the whole
// set), so a step that draws every block is MeZO's step bit for bit. The passes over the weights
// touch only the drawn blocks: that is the time LeZO saves (the series lezo/pass_seconds).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "data/corpus.h"
#include "zo/scheme.h"

namespace frugal::zo {

// The decoder block a trainable belongs to, from its name ("model.layers.3.…", "model.decoder.
// layers.3.…", "transformer.h.3.…"); -1 outside the blocks.
int64_t decoderBlockOf(const std::string& name) {
    for (const char* marker : {"layers.", "h."}) {
        for (size_t at = name.find(marker); at != std::string::npos; at = name.find(marker, at + 1)) {
            if (at != 0 && name[at - 1] != '.') continue;
            size_t i = at + std::char_traits<char>::length(marker), digits = 0;
            int64_t block = 0;
            while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) {
                block = block * 10 + (name[i++] - '0');
                ++digits;
            }
            if (digits > 0 && i < name.size() && name[i] == '.') return block;
        }
    }
    return -1;
}

namespace {

class LezoStepper : public ZoStepper {
public:
    LezoStepper(const ZoConfig& c, const std::vector<Trainable>& params)
        : m_c(c), m_all(params), m_optimizer(*c.optimizer) {
        m_state = OptimizerState::forRule(m_optimizer, m_all);
        for (const auto& t : m_all) {
            const int64_t b = decoderBlockOf(t.name);
            m_blockOf.push_back(b);
            if (b >= 0 && std::find(m_blocks.begin(), m_blocks.end(), b) == m_blocks.end()) m_blocks.push_back(b);
        }
        std::sort(m_blocks.begin(), m_blocks.end());
        const auto n = static_cast<double>(m_blocks.size());
        m_drawn = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(c.lezoFraction * n - 1e-9)));
    }

    int64_t stateBytes() const override { return m_state.bytes(); }

    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) override {
        const bool replay = loss == nullptr;
        const auto start = std::chrono::steady_clock::now();
        double passSeconds = 0;
        const auto pass = [&](auto&& f) {
            const auto t0 = std::chrono::steady_clock::now();
            f();
            passSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        // this step's blocks, drawn from its first seed
        // (a partial Fisher–Yates with data::uniformBelow: the same blocks on every standard library)
        std::vector<int64_t> blocks = m_blocks;
        std::mt19937_64 draw(rec.seeds.at(0) ^ 0x4C655A4F00000000ull);
        const size_t drawn = std::min<size_t>(blocks.size(), static_cast<size_t>(m_drawn));
        for (size_t i = 0; i < drawn; ++i)
            std::swap(blocks[i], blocks[i + data::uniformBelow(draw, blocks.size() - i)]);
        blocks.resize(drawn);
        std::vector<Trainable> active;
        OptimizerState state;
        state.steps = m_state.steps;
        int64_t activeElements = 0, allElements = 0;
        for (size_t i = 0; i < m_all.size(); ++i) {
            allElements += m_all[i].tensor.numel();
            const int64_t b = m_blockOf[i];
            if (b >= 0 && std::find(blocks.begin(), blocks.end(), b) == blocks.end()) continue;
            active.push_back(m_all[i]);
            activeElements += m_all[i].tensor.numel();
            if (!m_state.first.empty()) state.first.push_back(m_state.first[i]);
            if (!m_state.second.empty()) state.second.push_back(m_state.second[i]);
        }
        const size_t q = rec.seeds.size();
        const double eps = m_c.eps;
        const DirectionLaw law = m_c.direction;
        if (!replay) rec.grads.assign(q, 0.0);
        if (rec.grads.size() != q) fail("trajectory step ", rec.step, ": seeds and gradients differ in number");
        double logged = NAN;
        for (size_t j = 0; j < q; ++j) {
            const uint64_t s = rec.seeds[j];
            pass([&] { perturb(active, s, +eps, law); });
            const double plus = replay ? 0 : evaluateLoss(*loss, forwards, "at θ+εz");
            if (j == 0) logged = plus;
            pass([&] { perturb(active, s, -2 * eps, law); });
            if (!replay) rec.grads[j] = (plus - evaluateLoss(*loss, forwards, "at θ−εz")) / (2 * eps);
            pass([&] { perturb(active, s, +eps, law); });
        }
        std::vector<Query> queries;
        for (size_t j = 0; j < q; ++j) queries.push_back({rec.seeds[j], rec.grads[j]});
        UpdateRule rule = ruleOf(m_c, m_optimizer, rec.lr);
        if (m_optimizer.countsSteps) rule.t = ++state.steps;
        pass([&] { applyUpdate(active, queries, law, rule, state); });
        m_state.steps = state.steps;
        if (!replay) {
            m_fraction = static_cast<double>(activeElements) / static_cast<double>(allElements);
            m_passSeconds = passSeconds;
            m_stepSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        }
        return logged;
    }

    std::vector<std::pair<std::string, double>> series() const override {
        return {{"lezo/perturbed_fraction", m_fraction},
                {"lezo/pass_seconds", m_passSeconds},
                {"lezo/step_seconds", m_stepSeconds}};
    }

private:
    const ZoConfig& m_c;
    std::vector<Trainable> m_all;
    const ZoOptimizer& m_optimizer;
    OptimizerState m_state;
    std::vector<int64_t> m_blockOf, m_blocks;
    int64_t m_drawn = 1;
    double m_fraction = 1, m_passSeconds = 0, m_stepSeconds = 0;
};

}  // namespace

std::unique_ptr<ZoStepper> makeLezo(const ZoConfig& c, const std::vector<Trainable>& params) {
    return std::make_unique<LezoStepper>(c, params);
}

void validateLezo(const ZoConfig& c) {
    const auto k = [&c](const char* key) { return c.table + "." + key; };
    if (c.estimator != Estimator::Central)
        failAt(k("estimator"), c.table, ".scheme = \"lezo\" makes MeZO's central two-point estimate; set estimator = \"central\"");
    if (c.optimizer->conservative || c.signMode == SignMode::Scalar)
        failAt(k("optimizer"), c.table, ".scheme = \"lezo\" takes the optimiser rows that move along ĝ (not \"",
               c.optimizer->name, "\"", c.signMode == SignMode::Scalar ? " with sign = \"scalar\"" : "", ")");
    refuseMask(c, "lezo", "chooses what is perturbed by blocks; a Sparse-MeZO or keep-zeros mask is not combined with it");
}

}  // namespace frugal::zo
