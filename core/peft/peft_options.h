#pragma once
// What a fine-tuning target is (peft/param_set.h attaches it to a model) and how many elements it
// trains, counted from a model's config alone. No torch in this header: the command line and the
// workbench count a 7B model's targets without LibTorch.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/model_config.h"

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
    // LoRA on a pruned model: the update B·A counts only where the base weight is non-zero (in
    // the forward and at merge), so its zeros stay +0.0 (Wanda++'s recovery keeps the masks).
    bool loraKeepZeros = false;
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
    int64_t maskBytes = 0;     // lora_keep_zeros: one byte per element of every adapted matrix
    std::string detail;        // what the target adds, in words
};
TrainableCount countTrainable(const model::ModelConfig& config, const PeftOptions& options);

}  // namespace frugal::peft
