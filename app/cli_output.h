#pragma once
// What the commands share in printing: the run database a command opens, a run found by its
// reference, times and durations, aligned tables. No torch.

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_args.h"
#include "common/error.h"
#include "store/run_filter.h"
#include "store/store.h"

namespace frugal::app {

using json = nlohmann::ordered_json;

inline std::filesystem::path dbPath(const Parsed& p) {
    return p.has("db") ? std::filesystem::path(p.get("db", "")) : store::Store::defaultPath();
}

inline store::RunInfo requireRun(const store::Store& s, const std::string& ref) {
    const auto r = s.findRun(ref);
    if (!r) fail("no run '", ref, "' in ", s.path().string(), " (see frugal list)");
    return *r;
}

inline std::string timeText(int64_t ms) {
    if (ms <= 0) return "-";
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::localtime(&t));
    return buf;
}

inline std::string durationText(double seconds) {
    if (!(seconds >= 0)) return "-";
    char buf[32];
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s / 60) % 60);
    return buf;
}

inline std::string number(double v) { return store::numberText(v); }

inline double runSeconds(const store::RunInfo& r) {
    if (r.startMs <= 0) return -1;
    const int64_t end = r.endMs > 0 ? r.endMs : r.heartbeatMs;
    return static_cast<double>(end - r.startMs) / 1000.0;
}

// Prints rows as an aligned table (first row: header).
inline void printTable(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

}  // namespace frugal::app
