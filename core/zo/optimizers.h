#pragma once
// The table of zeroth-order optimisers (SPEC-ZO §2.4, §3): how the estimate ĝ = (1/q)·Σ g_j z_j
// becomes an update. A row is a name, the state it keeps, and its element-wise rule over one
// chunk of one tensor; adding an optimiser is one function and one row in optimizers.cpp (the
// reader's choices, validation and the form follow from the table). Decay is decoupled
// everywhere: θ ← θ·(1 − lr·λ) − lr·u, λ only for tensors with decay == true; weights that a mask
// leaves out are neither moved nor decayed, and their state is untouched.
// Adding a row: docs/ARCHITECTURE.md, "How to add", "A ZO optimiser".

#include <cstdint>
#include <string>
#include <vector>

#include "cuda/zo_kernels.h"

namespace frugal::zo {

struct ZoOptimizer;

struct UpdateRule {
    const ZoOptimizer* optimizer = nullptr;  // nullptr: sgd
    double lr = 0, weightDecay = 0;
    double momentum = 0.9, beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
    int64_t t = 1;  // the step count of optimisers that count steps (Adam's bias correction), from 1
};

// One chunk of one tensor: N weights W, the estimate's values G, the optimiser's state buffers at
// this chunk (M, V; nullptr when the optimiser keeps fewer), KEEP = 1 − lr·λ, and the mask's bits
// (WORDS, bit i = element i moves; nullptr: all move).
struct UpdateChunk {
    float* w = nullptr;
    const float* g = nullptr;
    float* m = nullptr;
    float* v = nullptr;
    int64_t n = 0;
    float keep = 1;
    const uint64_t* words = nullptr;
    bool live(int64_t i) const { return !words || ((words[i / 64] >> (i % 64)) & 1u); }
};

struct ZoOptimizer {
    const char* name;
    const char* rule;  // the update in words, logged with each run
    int stateBuffers;  // fp32 buffers shaped like each trainable: 0, 1 (m) or 2 (m, v)
    bool countsSteps;  // advances UpdateRule::t
    // With one query, undoing the last perturbation and updating fuse into one pass over the
    // weights (restoreAndUpdate): plain SGD only.
    bool fusable;
    // Compares the loss at θ, θ − ηĝ and θ + ηĝ on the same batch and keeps the best (the
    // engine's three-way step; the move itself is SGD's).
    bool conservative;
    // Its element rule (cuda/direction_math.cuh, math::ruleElement), which the CUDA update kernel
    // runs, and the CPU's loop of it over a chunk (byRule<element> in optimizers.cpp).
    cuda::Rule element;
    void (*apply)(const UpdateRule& rule, const UpdateChunk& chunk);
    // The keys of the [zo] table this row's rule reads besides lr and weight_decay, separated by
    // spaces ("beta1 beta2 adam_eps"): the form shows them only for this row.
    const char* reads;
    // The sign rule, which with zo.sign = "scalar" takes the sign of each projected gradient
    // and then moves as SGD does (ZO-Bench's code).
    bool signRule = false;
};

const std::vector<ZoOptimizer>& zoOptimizers();
// RULE's constants as the element rules take them, for a tensor whose decay factor is KEEP.
cuda::RuleFloats ruleFloats(const UpdateRule& rule, float keep);
// MeZO's row, sgd: the default, and the move of the scalar sign rule.
const ZoOptimizer& zoSgd();
std::vector<std::string> zoOptimizerNames();
// The row named NAME; throws naming zo.optimizer and every valid name.
const ZoOptimizer& findZoOptimizer(const std::string& name);
// The rows whose rule reads KEY ("momentum"), by the table's `reads`: the reader declares each
// constant as read only under these rows.
std::vector<std::string> zoOptimizersReading(const std::string& key);

}  // namespace frugal::zo
