#include "run/workspace.h"

#include "common/error.h"
#include "data/builtin.h"

namespace frugal::run {

std::filesystem::path artifactRoot(const std::filesystem::path& databaseFile) {
    return databaseFile.parent_path() / "artifacts";
}

std::filesystem::path runArtifactDir(const std::filesystem::path& databaseFile, const std::string& uuid) {
    return artifactRoot(databaseFile) / uuid;
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

std::vector<std::string> builtinTaskNames() {
    std::vector<std::string> names;
    for (const auto& t : data::builtinTasks()) names.push_back(t.name);
    return names;
}

}  // namespace frugal::run
