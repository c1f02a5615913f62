#include "common/method.h"

#include <cstdio>

#include "common/error.h"
#include "common/format.h"

namespace frugal {

std::string TrainableSummary::line() const {
    const double share =
        total > 0 ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0;
    char percent[32];
    std::snprintf(percent, sizeof percent,
                  share >= 1 ? "%.1f%%" : share >= 0.01 ? "%.3f%%" : "%.2g%%", share);
    return cat(withThousands(trainable), " of ", withThousands(total), " parameters trainable (",
               percent, "): ", detail);
}

namespace {

std::string valueUnder(const std::string& key, const std::map<std::string, std::string>& values,
                       const std::vector<ConfigField>& schema) {
    const auto it = values.find(key);
    if (it != values.end() && !it->second.empty()) return it->second;
    for (const auto& f : schema)
        if (f.key == key) {
            // a string default is written as TOML text ("\"sgd\""); the form shows it bare
            const std::string& d = f.defaultValue;
            return d.size() >= 2 && d.front() == '"' && d.back() == '"' ? d.substr(1, d.size() - 2) : d;
        }
    return it == values.end() ? std::string() : it->second;
}

}  // namespace

bool ConfigField::readUnder(const std::map<std::string, std::string>& values,
                            const std::vector<ConfigField>& schema) const {
    if (unused) return false;
    for (const KeyCondition& c : when) {
        const std::string v = valueUnder(c.key, values, schema);
        bool any = false;
        for (const auto& allowed : c.values) any = any || v == allowed;
        if (any == c.negate) return false;
    }
    return true;
}

std::string ConfigField::whenText() const {
    if (unused) return "not read by this method";
    std::string out;
    for (const KeyCondition& c : when) {
        std::string values;
        for (size_t i = 0; i < c.values.size(); ++i) {
            const std::string v = c.values[i].empty() ? std::string("empty") : c.values[i];
            values += (i == 0 ? "" : i + 1 == c.values.size() ? " or " : ", ") + v;
        }
        out += cat(out.empty() ? "used when " : " and ", c.key, c.negate ? " is not " : " is ", values);
    }
    return out;
}

}  // namespace frugal
