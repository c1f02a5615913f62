#include "model/model_info.h"

#include "common/error.h"
#include "model/model_config.h"
#include "model/safetensors.h"
#include "model/transformer.h"

namespace frugal::model {

ModelSummary inspectModel(const std::filesystem::path& dir) {
    const ModelConfig config = ModelConfig::fromFile(dir / "config.json");
    const SafetensorsArchive archive = SafetensorsArchive::open(dir);
    const CheckpointMatch match = matchCheckpoint(config, archive);
    ModelSummary s;
    s.tensorsChecked = match.tensorsChecked;
    s.tensorsIgnored = match.tensorsIgnored;
    s.modelType = config.modelType;
    s.family = familyName(config.family);
    s.layers = config.numLayers;
    s.hidden = config.hiddenSize;
    s.heads = config.numHeads;
    s.kvHeads = config.numKvHeads;
    s.vocab = config.vocabSize;
    s.intermediate = config.intermediateSize;
    s.tiedEmbeddings = config.tieWordEmbeddings;
    for (const auto& file : archive.files()) s.files.push_back(file->path().filename().string());
    for (const std::string& name : archive.names()) {
        const TensorInfo& info = archive.info(name);
        TensorSummary t{name, dtypeName(info.dtype), info.shape,
                        std::filesystem::path(archive.fileOf(name)).filename().string()};
        s.parameterCount += info.numel();
        s.parametersByDtype[t.dtype] += info.numel();
        s.weightBytes += info.end - info.begin;
        s.tensors.push_back(std::move(t));
    }
    return s;
}

std::vector<std::vector<float>> lastPositionLogits(const std::filesystem::path& dir,
                                                   const std::vector<std::vector<int64_t>>& sequences,
                                                   const std::string& device) {
    if (sequences.empty()) fail("--logits needs at least one token id");
    for (const auto& ids : sequences)
        if (ids.empty()) fail("--logits: a sequence has no token ids (sequences are separated by ';')");
    const Transformer model = Transformer::load(dir, LoadOptions::forDevice(device));
    c10::InferenceMode guard;
    std::vector<std::vector<float>> out;
    for (const auto& ids : sequences) {
        torch::Tensor input = torch::tensor(ids, torch::kLong).view({1, -1});
        torch::Tensor logits =
            model.forward(input).select(/*dim=*/1, -1).squeeze(0).to(torch::kCPU, torch::kFloat32).contiguous();  // [V]
        const float* p = logits.data_ptr<float>();
        out.emplace_back(p, p + logits.numel());
    }
    return out;
}

}  // namespace frugal::model
