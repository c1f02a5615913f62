// keyHelp (run/config_help.h): one line on what each config key means. Every reader declares it
// with the key (config::KeyDoc), and a method retells the keys a shared reader declares for it
// (config::KeyDocs: SharpZO's steps are stage 2's, a landscape reads no training key); the lines
// here are those of keys read by hand (an array of tables) and the last-resort meanings by name.

#include "run/config_help.h"

#include "run/method_registry.h"

#include <map>

namespace frugal::run {

namespace {

using Table = std::map<std::string, const char*>;

// Keys a reader reads by hand rather than declares, by full path.
const Table& byPath() {
    static const Table table = {
        // pre-training: the array of tables its reader reads by hand
        {"data.sources", "the corpora trained on, each a [[data.sources]] with a name, path and weight"},
    };
    return table;
}

// Keys that mean the same wherever they are, by name: the last resort.
const Table& anywhere() {
    static const Table table = {
        {"seed", "the seed of the run's random draws"},
        {"steps", "optimisation steps"},
        {"lr", "the learning rate"},
        {"batch_size", "examples per step"},
    };
    return table;
}

const char* find(const Table& table, const std::string& key) {
    const auto it = table.find(key);
    return it == table.end() ? nullptr : it->second;
}

}  // namespace

std::string keyHelp(const std::string& /*method: its schema already says*/, const ConfigField& field) {
    // an entry of an array of tables ("data.sources[0].path") reads as its list's key
    std::string path;
    const std::string& key = field.key;
    for (size_t i = 0; i < key.size(); ++i) {
        if (key[i] == '[') {
            const size_t close = key.find(']', i);
            if (close == std::string::npos) return "";
            i = close;
        } else {
            path += key[i];
        }
    }
    if (path == "method") {  // the registry's rows
        std::string names;
        for (const auto& m : methodNames()) names += (names.empty() ? "" : ", ") + m;
        return "what the run does: " + names;
    }
    if (const char* line = find(byPath(), path)) return line;
    if (!field.help.empty()) return field.help;  // the reader's own declaration
    const size_t dot = path.rfind('.');
    if (const char* line = find(anywhere(), dot == std::string::npos ? path : path.substr(dot + 1))) return line;
    return "";
}

}  // namespace frugal::run
