#pragma once
// Read-only views of a checkpoint folder for `frugal inspect`: what is in it (from the headers
// alone, so a 7B model is described without loading its weights) and the logits at the last
// position of one sequence. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace frugal::model {

struct TensorSummary {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::string file;
};

struct ModelSummary {
    std::string modelType;
    std::string family;
    int64_t layers = 0, hidden = 0, heads = 0, kvHeads = 0, vocab = 0, intermediate = 0;
    bool tiedEmbeddings = false;
    int64_t parameterCount = 0;
    uint64_t weightBytes = 0;
    std::map<std::string, int64_t> parametersByDtype;
    std::vector<std::string> files;
    std::vector<TensorSummary> tensors;  // sorted by name
    // checked as the loader checks: every weight of the config present with its shape, no
    // unexpected tensor (a mismatch throws instead of describing the folder)
    int64_t tensorsChecked = 0, tensorsIgnored = 0;
};

// Throws, as loading would, when the weights do not match config.json.
ModelSummary inspectModel(const std::filesystem::path& dir);

// Runs one unpadded sequence through the model (fp32, on `device`: cpu, cuda, cuda:N) and
// returns the logits at its last position, [V].
std::vector<std::vector<float>> lastPositionLogits(const std::filesystem::path& dir,
                                                   const std::vector<std::vector<int64_t>>& sequences,
                                                   const std::string& device);

}  // namespace frugal::model
