#pragma once
// What is trained: a named subset of a model's tensors, each tagged for MeZO's weight-decay rule
// (no decay on bias and normalisation tensors). Tensors are the model's own (shared, not copied),
// so perturbing them in place perturbs the model. LoRA, prefix, prompt and tensor-train adapters
// add tensors of their own and come as further targets.

#include <cstdint>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "zo/perturb.h"

namespace frugal::peft {

enum class Target { Full, BitFit, Norms, Head };
std::string targetName(Target target);
Target parseTarget(const std::string& name);  // full, bitfit, norms, head

class ParamSet {
public:
    // Throws naming the target when the model has no tensor of that kind (BitFit on LLaMA,
    // which has no biases).
    static ParamSet select(const model::Transformer& model, Target target);

    const std::vector<zo::Trainable>& trainables() const { return m_trainables; }
    int64_t trainableCount() const;  // elements
    int64_t totalCount() const { return m_total; }
    Target target() const { return m_target; }

private:
    std::vector<zo::Trainable> m_trainables;
    int64_t m_total = 0;
    Target m_target = Target::Full;
};

// MeZO's rule by tensor name: bias and normalisation tensors get no weight decay.
bool isBiasOrNorm(const std::string& name);

}  // namespace frugal::peft
