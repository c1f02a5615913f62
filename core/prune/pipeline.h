#pragma once
// Pruning a whole model block by block (SPEC-PRUNING §1.5, §2.4): calibration windows drawn with
// a seed from a corpus; the inputs of block 0 captured; then for each block the per-linear input
// statistics gathered on the dense block, masks selected by a row of the score table
// (prune/pruners.h: magnitude per matrix or per row, Wanda, SparseGPT, saved masks) or by Wanda++
// (regional gradient score, with or without regional optimisation, or with a fixed mask) and
// applied, and the pruned block's outputs fed to the next block. Perplexity on held-out text before and after. Core-private
// (torch in the implementation only; this header is torch-free).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/events.h"

namespace frugal::prune {

// Wanda++'s regional optimisation: off (the RGS score alone), reselect (the spec: each round
// re-selects the mask, RMSprop then moves every weight, a final prune restores the pattern), or
// fixed (the first mask kept: masked gradients, the mask re-applied after every step).
enum class RoMode { Off, Reselect, Fixed };
std::string roModeName(RoMode mode);
RoMode parseRoMode(const std::string& name);

struct PruneSpec {
    std::string model = "frugal-tiny";
    std::string device = "cpu";       // cpu only: refused on CUDA at the config (prune_method.cpp)
    std::string method = "wanda";     // a row of the score table (prune/pruners.h)
    std::string sparsity = "0.5";     // "0.5", "50%", "2:4", "4:8"
    std::filesystem::path calibFile;  // text, or JSON lines with a "text" field
    int64_t calibSamples = 128;
    int64_t calibSeqLen = 0;  // 0: the model's context length
    int64_t seed = 0;
    int64_t batch = 8;  // calibration sequences per forward
    // Wanda++
    double alpha = 100;
    std::string featureNorm = "unnormalised";
    RoMode ro = RoMode::Reselect;
    int64_t roRounds = 5, roSamples = 32;
    double roLr = 3e-7;
    bool roRegradient = true;  // recompute G on the optimised block before the final prune
    // SparseGPT
    int64_t blockSize = 128;
    double percdamp = 0.01;
    // RIA: the power a of ||X_j|| in its score
    double riaPower = 0.5;
    bool riaPermute = false;  // N:M over input channels permuted for a higher kept score
    // DSnoT (prune/dsnot.h): the base mask's score and the prune-and-grow cycles
    std::string dsnotBase = "wanda";  // wanda, magnitude or sparsegpt
    int64_t dsnotCycles = 50;
    double dsnotThreshold = 0.1;
    double dsnotVarPower = 1;
    // OWL (prune/owl.h): each layer's sparsity from its outlier ratio, around the target
    bool owl = false;
    double owlM = 5;
    double owlLambda = 0.08;
    // Masks: a file written by an earlier prune (masks.safetensors)
    std::filesystem::path masksFile;
    // evaluation: perplexity on this text before and after (empty: none)
    std::filesystem::path evalText;
    int64_t evalSeqLen = 0;   // 0: the model's context length
    int64_t evalWindows = 0;  // 0: all
    std::filesystem::path
        outDir;  // the pruned model, its masks and calibration ids; empty: not saved
    // The calibration activations (three [N, L, H] fp32 buffers: a block's inputs, its dense and
    // its pruned outputs) are kept in files under spillDir (default: the system's temporary
    // folder), mapped and paged by the OS, when they exceed this many MiB; 0: no budget, kept in
    // memory.
    int64_t memoryMib = 0;
    std::filesystem::path spillDir;

    // Checks ranges and names; one message naming the key (prune/prune_method.cpp, beside the
    // reader).
    void validate() const;
};

struct MatrixReport {
    std::string name;  // HF weight name
    int64_t pruned = 0, total = 0;
};

struct PruneResult {
    double densePerplexity = 0, prunedPerplexity = 0;  // NaN when no evaluation text
    std::string protocol;                              // how the perplexities were measured
    double sparsity = 0;                               // pruned / prunable weights
    double pruneSeconds = 0;                           // the block-by-block procedure only
    double calibForwardSeconds = 0;  // one dense forward of the calibration set through all blocks
    int64_t peakRssBytes = 0;
    std::vector<MatrixReport> matrices;
    std::vector<double> blockErrors;  // per block: ||Y_dense - Y_pruned||^2 / ||Y_dense||^2
    bool spilled = false;             // the activations were kept in files (memoryMib exceeded)
};

// Prunes SPEC's model, reporting to SINK (metrics prune/*, vectors prune/sparsity_per_matrix and
// prune/block_error, a log line per phase). A stop request ends it with Cancelled between blocks,
// before anything is saved.
PruneResult runPrune(const PruneSpec& spec, EventSink& sink, const StopToken& stop);

}  // namespace frugal::prune
