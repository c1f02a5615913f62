#pragma once
// Argument parsing shared by the commands: --name value flags, --switches, positional arguments.

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/edit_distance.h"
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
    // An integer flag that counts something: below LEAST is an error naming the flag.
    int64_t getCount(const std::string& name, int64_t fallback, int64_t least) const {
        const int64_t v = getInt(name, fallback);
        if (has(name) && v < least)
            fail("--", name, " expects a count of at least ", least, ", got ", v);
        return v;
    }
};

// The candidate nearest to WORD, at most MAXDISTANCE edits away and fewer edits than WORD has
// characters (so that a word wholly unlike every candidate gets no suggestion); the first of
// equally near ones; empty if none is that near.
inline std::string nearestWord(const std::string& word, const std::vector<std::string>& candidates,
                               size_t maxDistance) {
    std::string best;
    size_t bestDistance = std::min(maxDistance + 1, word.size());
    for (const auto& c : candidates) {
        const size_t distance = editDistance(word, c);
        if (distance < bestDistance) {
            best = c;
            bestDistance = distance;
        }
    }
    return best;
}

// ARGS against a command's --name value flags and --switches (--help and -h are answered by main
// before a command parses). An unknown option names the nearest valid one and lists them all.
inline Parsed parse(const std::vector<std::string>& args, const std::vector<std::string>& valueFlags,
             const std::vector<std::string>& switchFlags) {
    const auto known = [&](const std::string& name) {
        return std::find(valueFlags.begin(), valueFlags.end(), name) != valueFlags.end() ||
               std::find(switchFlags.begin(), switchFlags.end(), name) != switchFlags.end() ||
               name == "help";
    };
    Parsed p;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {  // the rest are positional, even when they start with '-'
            p.positional.insert(p.positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (a.rfind("--", 0) == 0 && a.size() > 2) {
            const std::string name = a.substr(2);
            if (std::find(valueFlags.begin(), valueFlags.end(), name) != valueFlags.end()) {
                const bool nextIsOption = i + 1 < args.size() && args[i + 1].rfind("--", 0) == 0 &&
                                          known(args[i + 1].substr(2));
                if (i + 1 >= args.size() || nextIsOption) fail("--", name, " needs a value");
                p.flags[name] = args[++i];
            } else if (std::find(switchFlags.begin(), switchFlags.end(), name) !=
                       switchFlags.end()) {
                p.switches.push_back(name);
            } else {
                std::vector<std::string> names = valueFlags;
                names.insert(names.end(), switchFlags.begin(), switchFlags.end());
                names.push_back("help");
                const std::string nearest = nearestWord(name, names, 3);
                std::string valid;
                for (const auto& n : names) valid += (valid.empty() ? "--" : ", --") + n;
                fail("unknown option '", a, "'",
                     nearest.empty() ? std::string() : " (did you mean '--" + nearest + "'?)",
                     "; valid options: ", valid);
            }
        } else {
            p.positional.push_back(a);
        }
    }
    return p;
}

}  // namespace frugal::app
