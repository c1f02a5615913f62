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

// Edits (insertions, deletions, substitutions, swaps of two neighbours) that turn A into B.
inline size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                                d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

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
