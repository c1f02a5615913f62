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
    bool derived = false;  // built by scripts/fetch-data into .cache/data/ (not committed)
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

// A task as a method uses it: a built-in task (NAME, or NAME:SPLIT) with its files, template and
// labels, or a task file of one's own, which needs TEMPLATETEXT and LABELS. A given template or
// label list replaces the built-in one.
struct ResolvedTask {
    std::string name;
    bool builtin = false;
    std::filesystem::path file;              // NAME's split (test unless NAME:SPLIT), or the file NAME
    std::filesystem::path train, dev, test;  // a built-in task's splits (test: empty when absent)
    std::string templateText;
    std::vector<std::string> labels;
};
// The one place a task reference is resolved. WHAT names the reference in the message (a key,
// "--task"); NEED says what a task file must come with ("a task file needs eval.template and
// eval.labels"). The template is checked against the labels.
ResolvedTask resolveTask(const std::string& name, const std::string& templateText,
                         const std::vector<std::string>& labels, const std::string& what,
                         const std::string& need);
// "sentiment, spam": the built-in task names, for messages.
std::string builtinTaskNames();

// A file a config names: as given when it exists (a relative path from the working directory),
// else a relative path taken from the source tree (resourcesDir()'s parent), so the committed
// configs work from anywhere, the workbench included; PATH unchanged when neither exists.
std::filesystem::path findInputFile(const std::filesystem::path& path);

// A model argument: the built-in model's folder for its name ("frugal-tiny") unless a path of
// that name exists; any other argument as given.
std::filesystem::path resolveModel(const std::string& nameOrDir);
// resolveModel, then a check that the result is a model folder: a missing path, a file or a
// folder without config.json is refused naming WHAT (the config key or flag) and what was
// expected, before anything loads.
std::filesystem::path requireModel(const std::string& nameOrDir, const std::string& what);

inline constexpr const char* kBuiltinModel = "frugal-tiny";
// SmolLM2-135M-Instruct, fetched and converted by scripts/fetch-data into .cache/models/ (a name,
// like kBuiltinModel, that resolveModel turns into its folder).
inline constexpr const char* kPretrainedModel = "smollm2-135m";

// The project's set-up cache: $FRUGAL_PROJECT_CACHE, else .cache/ next to resources/ (what
// scripts/fetch-data writes: tokenizers, models, derived data sets).
std::filesystem::path projectCacheDir();

}  // namespace frugal::data
