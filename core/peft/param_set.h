#pragma once
// What is trained: a named subset of a model's tensors, each tagged for MeZO's weight-decay rule
// (no decay on bias and normalisation tensors). Tensors are the model's own (shared, not copied),
// so perturbing them in place perturbs the model. Adapter targets (LoRA, prefix, prompt) first
// create their tensors inside the model, initialised as MeZO and ZO-Bench do (SPEC-ZO §2.1, §3),
// so the adapted model starts at (LoRA) or near (prefix, prompt) the pretrained function.
// Tensor-train targets (SPEC-ZO §5, peft/tt.h): loretta_adp puts TT bottleneck adapters in every
// MLP: LLaMA on the inputs of gate_proj and up_proj and the output of down_proj (3 per block), OPT
// on fc1's input and fc2's output, GPT-2 likewise on c_fc's input and c_proj's output (our
// choice: GPT-2 is OPT's MLP under other names); loretta_rep adds a LoRA-style TT update beside
// the LoRA modules. Norms (train_norms) and a tensorised head (tt_head) are explicit options.

#include <cstdint>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "peft/peft_options.h"
#include "peft/trainable.h"

namespace frugal::peft {

class ParamSet {
public:
    // Base-weight targets (full, bitfit, norms, head). Throws naming the target when the model
    // has no tensor of that kind (BitFit on LLaMA, which has no biases).
    static ParamSet select(const model::Transformer& model, Target target);
    // Every target; adapter targets add their tensors to MODEL first.
    static ParamSet attach(model::Transformer& model, const PeftOptions& options);

    const std::vector<Trainable>& trainables() const { return m_trainables; }
    int64_t trainableCount() const;  // elements
    int64_t totalCount() const { return m_total; }  // the base model's elements
    Target target() const { return m_target; }
    std::string describe() const;  // e.g. "lora r=8 alpha=16 on q,v: 65,536 of 4,212,992"

private:
    std::vector<Trainable> m_trainables;
    int64_t m_total = 0;
    Target m_target = Target::Full;
    std::string m_detail;
};

// MeZO's rule by tensor name: bias and normalisation tensors get no weight decay.
bool isBiasOrNorm(const std::string& name);

}  // namespace frugal::peft
