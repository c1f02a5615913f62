#pragma once
// Argument parsing shared by the commands: --name value flags, --switches, positional arguments.

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace frugal::app {

// Flags of the form --name value; positional arguments in order.
struct Parsed {
    std::vector<std::string> positional;
    std::map<std::string, std::string> flags;
    std::vector<std::string> switches;

    bool has(const std::string& name) const {
        return flags.count(name) != 0 ||
               std::find(switches.begin(), switches.end(), name) != switches.end();
    }
    std::string get(const std::string& name, const std::string& fallback) const {
        auto it = flags.find(name);
        return it == flags.end() ? fallback : it->second;
    }
    int64_t getInt(const std::string& name, int64_t fallback) const {
        auto it = flags.find(name);
        if (it == flags.end()) return fallback;
        try {
            size_t used = 0;
            const long long v = std::stoll(it->second, &used);
            if (used != it->second.size()) throw std::invalid_argument("trailing characters");
            return v;
        } catch (const std::exception&) {
            fail("--", name, " expects an integer, got '", it->second, "'");
        }
    }
};

inline Parsed parse(const std::vector<std::string>& args, const std::vector<std::string>& valueFlags,
             const std::vector<std::string>& switchFlags) {
    Parsed p;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.rfind("--", 0) == 0 && a.size() > 2) {
            const std::string name = a.substr(2);
            if (std::find(valueFlags.begin(), valueFlags.end(), name) != valueFlags.end()) {
                if (i + 1 >= args.size()) fail("--", name, " needs a value");
                p.flags[name] = args[++i];
            } else if (std::find(switchFlags.begin(), switchFlags.end(), name) !=
                       switchFlags.end()) {
                p.switches.push_back(name);
            } else {
                fail("unknown option '", a, "'");
            }
        } else {
            p.positional.push_back(a);
        }
    }
    return p;
}


}  // namespace frugal::app
