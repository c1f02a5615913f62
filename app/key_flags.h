#pragma once
// Command-line flags that set config keys, made from the keys' declarations (run::configSchema):
// `frugal prune --eval-text F` sets prune.eval_text, typed as its reader declares it (a string or
// path quoted, a list split at commas, a number as written: the reader checks it and names the
// key). A flag is the key's last part with '-' for '_'; its help line is the key's. Nothing here
// lists keys: a key a reader declares is a flag of the commands that build that table.

#include <string>
#include <vector>

#include "cli_args.h"
#include "common/method.h"

namespace frugal::app {

class KeyFlags {
public:
    // The keys of METHOD's table TABLE ("prune", "train").
    KeyFlags(const std::string& method, const std::string& table);

    // Every flag, for parse(), after EXTRA (the command's own flags).
    std::vector<std::string> names(std::vector<std::string> extra = {}) const;
    // One KEY=VALUE override for flag FLAG set to VALUE.
    std::string overrideFor(const std::string& flag, const std::string& value) const;
    // The overrides for every key flag P has.
    std::vector<std::string> overrides(const Parsed& p) const;
    // "  --eval-text VALUE    the text whose ..." lines for a command's help.
    std::string help() const;

    static std::string flagOf(const std::string& key);

private:
    const ConfigField* field(const std::string& flag) const;
    std::string m_table;
    std::vector<ConfigField> m_fields;
};

}  // namespace frugal::app
