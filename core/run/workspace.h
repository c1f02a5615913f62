#pragma once
// Where a run's things live, for every front end (CLI, workbench): the artifact layout — each
// run's files under <database folder>/artifacts/<run uuid>/ — the source tree with its
// experiments/ presets, and the names of the built-in model and tasks. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace frugal::store {
class Store;
}

namespace frugal::run {

// <database folder>/artifacts: the root under which each run has its folder.
std::filesystem::path artifactRoot(const std::filesystem::path& databaseFile);
// <database folder>/artifacts/<uuid>: one run's files.
std::filesystem::path runArtifactDir(const std::filesystem::path& databaseFile, const std::string& uuid);

// Deletes run RUN of STORE (its metrics, logs, params and artifact records) and its own artifact
// folder; files a run wrote elsewhere (an --out folder) stay. Returns the folder removed, or an
// empty path when the run had none.
std::filesystem::path deleteRunAndFolder(store::Store& store, int64_t run);

// The source tree the binary belongs to (its resources folder's parent), else the working
// directory: recorded with each run's provenance.
std::filesystem::path sourceTree();
// The committed experiment configs (sourceTree()/experiments).
std::filesystem::path experimentsDir();

std::string builtinModelName();                // "frugal-tiny"
// The models a name stands for, the pre-trained one first: {name, one line: what it is, its size}.
std::vector<std::pair<std::string, std::string>> builtinModels();
std::vector<std::string> builtinTaskNames();   // "sentiment", "spam"

}  // namespace frugal::run
