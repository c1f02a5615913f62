#include "peft/adapter_io.h"

#include <regex>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "model/safetensors.h"
#include "peft/tt.h"

namespace frugal::peft {

std::string saveAdapters(const model::Transformer& model, const ParamSet& params,
                         const PeftOptions& options, const std::filesystem::path& dir) {
    const Target target = params.target();
    if (!(target == Target::Prefix || target == Target::Prompt || target == Target::LorettaAdp ||
          target == Target::LorettaRep || options.ttHead))
        return "";
    std::set<std::string> base;
    for (const auto& [name, tensor] : model.parameters()) base.insert(name);
    model::NamedTensors adapters;
    for (const auto& t : params.trainables())
        if (!base.count(t.name) && !isTtTensorName(t.name)) adapters.emplace_back(t.name, t.tensor);
    const model::NamedTensors tt = ttTensors(model);
    adapters.insert(adapters.end(), tt.begin(), tt.end());
    model::writeSafetensors(dir / "adapter.safetensors", adapters, model::DType::F32);
    if (!tt.empty()) {
        TtSettings settings;
        settings.activation = options.ttActivation;
        settings.scaling = options.ttScaling;
        settings.updateScale = options.loraAlpha / static_cast<double>(options.loraRank);
        settings.forward = options.ttForward;
        writeTextFile(dir / "adapter_config.json", ttSettingsJson(settings));
    }
    return "base weights plus " + targetName(target) + " tensors in adapter.safetensors";
}

void attachSavedAdapters(model::Transformer& model, const std::filesystem::path& modelDir) {
    const auto file = modelDir / "adapter.safetensors";
    if (!std::filesystem::exists(file)) return;
    const auto archive = model::SafetensorsArchive::open(file);
    const std::regex prefix(R"(model\.layers\.(\d+)\.prefix_(key|value))");
    const int64_t kvWidth = model.config().numKvHeads * model.config().headDim;
    int64_t prefixLayers = 0, prefixLength = -1;
    model::NamedTensors tt;
    for (const auto& name : archive.names()) {
        if (isTtTensorName(name)) {
            tt.emplace_back(name, archive.read(name, torch::kFloat32));
            continue;
        }
        const torch::Tensor t = archive.read(name, torch::kFloat32).contiguous();  // adapters are fp32
        std::smatch m;
        if (name == "prompt_embeddings") {
            if (t.dim() != 2 || t.size(1) != model.tokenEmbedding().size(1))
                fail(file.string(), ": tensor 'prompt_embeddings' has shape ", t.sizes(), ", expected [P, ",
                     model.tokenEmbedding().size(1), "]");
            model.setSoftPrompt(t);
        } else if (std::regex_match(name, m, prefix)) {
            const int64_t layer = std::stoll(m[1].str());
            if (layer >= model.numLayers())
                fail(file.string(), ": tensor '", name, "' names layer ", layer, " of a model with ",
                     model.numLayers());
            if (t.dim() != 2 || t.size(1) != kvWidth || (prefixLength >= 0 && t.size(0) != prefixLength))
                fail(file.string(), ": tensor '", name, "' has shape ", t.sizes(), ", expected [",
                     prefixLength >= 0 ? std::to_string(prefixLength) : std::string("P"), ", ", kvWidth, "]");
            prefixLength = t.size(0);
            (m[2] == "key" ? model.block(layer).prefixKey : model.block(layer).prefixValue) = t;
            ++prefixLayers;
        } else {
            fail(file.string(), ": unknown adapter tensor '", name,
                 "' (expected prompt_embeddings, model.layers.N.prefix_key / prefix_value or "
                 "tensor-train adapter tensors)");
        }
    }
    if (!tt.empty()) {
        const auto settings = modelDir / "adapter_config.json";
        if (!std::filesystem::exists(settings))
            fail(file.string(), ": has tensor-train adapter tensors but ", settings.string(),
                 " (their activation and scaling) is missing");
        attachTtTensors(model, tt, parseTtSettings(readFile(settings, "adapter config"), settings.string()),
                        file.string());
    }
    if (prefixLayers != 0 && prefixLayers != 2 * model.numLayers())
        fail(file.string(), ": ", prefixLayers, " prefix tensors, expected a key and a value for each of the ",
             model.numLayers(), " layers");
}

}  // namespace frugal::peft
