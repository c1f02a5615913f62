#pragma once
// The built-in resources that ship with Frugal: the data sets of resources/data/ under short task
// names with their prompt templates, and the built-in model resources/models/frugal-tiny/. No
// torch in this header.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace frugal::data {

// The resources/ folder: $FRUGAL_RESOURCES when set; else the one next to the executable's
// source tree (build/<preset>/bin/../../../resources) or install prefix (bin/../share/frugal/
// resources); else ./resources. Throws naming every place tried when none exists.
std::filesystem::path resourcesDir();

struct BuiltinTask {
    std::string name;         // "sentiment"
    std::string description;  // one line, with the source
    std::string folder;       // under resources/data/
    std::vector<std::string> labels;
    std::string promptTemplate;  // "{text} It was {terrible|great}."
    std::filesystem::path split(const std::string& split) const;  // train, dev or test file
};

const std::vector<BuiltinTask>& builtinTasks();

struct TaskReference {
    BuiltinTask task;
    std::string split;  // "test" unless given as name:split
    std::filesystem::path file;
};

// "sentiment", "sentiment:dev", "spam:train" ...; nullopt when NAME is not a built-in task name
// (a file path, say). An unknown split is an error listing the splits.
std::optional<TaskReference> findBuiltinTask(const std::string& name);

// A model argument: the built-in model's folder for its name ("frugal-tiny") unless a path of
// that name exists; any other argument as given.
std::filesystem::path resolveModel(const std::string& nameOrDir);

inline constexpr const char* kBuiltinModel = "frugal-tiny";

}  // namespace frugal::data
