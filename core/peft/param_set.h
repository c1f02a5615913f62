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
#include "zo/perturb.h"

namespace frugal::peft {

enum class Target { Full, BitFit, Norms, Head, Lora, Prefix, Prompt, LorettaAdp, LorettaRep };
std::string targetName(Target target);
// full, bitfit, norms, head, lora, prefix, prompt, loretta_adp, loretta_rep
Target parseTarget(const std::string& name);
bool isAdapter(Target target);

struct PeftOptions {
    Target target = Target::Full;
    // LoRA: A Kaiming-uniform(a = sqrt 5), i.e. U(-1/sqrt(in), 1/sqrt(in)); B zero; scale alpha/r.
    int64_t loraRank = 8;
    double loraAlpha = 16;
    std::vector<std::string> loraModules = {"q", "v"};  // of q, k, v, o, qkv, gate, up, down
    // Prefix: per layer, the keys and values of this many random vocabulary tokens run through
    // the model (MeZO's initialisation, crucial for ZO stability).
    int64_t prefixTokens = 5;
    // Prompt: soft input embeddings initialised from the embeddings of random vocabulary tokens.
    int64_t promptTokens = 10;
    // Tensor-train adapters. loretta_adp: bottleneck width, TT rank, activation, scaling;
    // loretta_rep: the LoRA rank r, alpha and modules above, TT rank tt_rank.
    int64_t ttBottleneck = 64;
    int64_t ttRank = 5;
    std::string ttActivation = "relu";  // relu, tanh
    double ttScaling = 1.0;
    std::string ttInit = "gaussian";  // gaussian (the reference), identity (exact start)
    std::string ttForward = "auto";   // auto, dense, contract
    bool trainNorms = false;  // adapter targets: the norm weights (and biases) train too
    bool ttHead = false;      // adapter targets: a TT hidden x hidden map ahead of the LM head
    uint64_t seed = 0;  // the adapters' initialisation
};

// How many elements a target trains on a model of CONFIG, from the config alone (nothing is
// allocated; a 7B model is counted on a laptop). Equals ParamSet::attach(...).trainableCount().
struct TrainableCount {
    int64_t total = 0;      // the base model's elements
    int64_t trainable = 0;  // what attach() would train
    std::vector<std::pair<std::string, int64_t>> parts;  // e.g. {"adapters", 610560}
    int64_t normElements = 0;  // the model's norm tensors (trained only with train_norms)
    std::string detail;        // what the target adds, in words
};
TrainableCount countTrainable(const model::ModelConfig& config, const PeftOptions& options);

class ParamSet {
public:
    // Base-weight targets (full, bitfit, norms, head). Throws naming the target when the model
    // has no tensor of that kind (BitFit on LLaMA, which has no biases).
    static ParamSet select(const model::Transformer& model, Target target);
    // Every target; adapter targets add their tensors to MODEL first.
    static ParamSet attach(model::Transformer& model, const PeftOptions& options);

    const std::vector<zo::Trainable>& trainables() const { return m_trainables; }
    int64_t trainableCount() const;  // elements
    int64_t totalCount() const { return m_total; }  // the base model's elements
    Target target() const { return m_target; }
    std::string describe() const;  // e.g. "lora r=8 alpha=16 on q,v: 65,536 of 4,212,992"

private:
    std::vector<zo::Trainable> m_trainables;
    int64_t m_total = 0;
    Target m_target = Target::Full;
    std::string m_detail;
};

// MeZO's rule by tensor name: bias and normalisation tensors get no weight decay.
bool isBiasOrNorm(const std::string& name);

}  // namespace frugal::peft
