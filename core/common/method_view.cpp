#include "common/method_view.h"

#include <cstdio>

#include "common/metric_keys.h"

namespace frugal {

namespace {

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

bool isLoss(const std::string& k) { return k == metrics::kTrainLoss || (endsWith(k, "/loss") && !startsWith(k, "sys/")); }

bool isEvaluation(const std::string& k) {
    if (startsWith(k, "sys/") || startsWith(k, "zo/") || startsWith(k, "params/") || endsWith(k, "/examples"))
        return false;
    return contains(k, "accuracy") || contains(k, "perplexity") || startsWith(k, "held_out/");
}

// Whether the flattened config sets KEY to something other than 0 or false.
// KEY set to something other than 0 or false; "KEY=VALUE": KEY set to VALUE (quotes aside).
bool isSet(const std::map<std::string, std::string>& params, const std::string& key) {
    const size_t eq = key.find('=');
    if (eq != std::string::npos) {
        const auto it = params.find(key.substr(0, eq));
        if (it == params.end()) return false;
        std::string v = it->second;
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return v == key.substr(eq + 1);
    }
    const auto it = params.find(key);
    return it != params.end() && !it->second.empty() && it->second != "0" && it->second != "false";
}

bool shown(const std::string& whenSet, const std::string& unlessSet, const std::map<std::string, std::string>& params) {
    return (whenSet.empty() || isSet(params, whenSet)) && (unlessSet.empty() || !isSet(params, unlessSet));
}

// The keys of LATEST that PATTERN matches, with what its '*' segment stood for.
std::vector<std::pair<std::string, std::string>> matching(const std::string& pattern,
                                                          const std::map<std::string, double>& latest) {
    const size_t star = pattern.find('*');
    if (star == std::string::npos) {
        if (latest.count(pattern)) return {{pattern, ""}};
        return {};
    }
    const std::string head = pattern.substr(0, star), tail = pattern.substr(star + 1);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [key, value] : latest) {
        if (key.size() <= head.size() + tail.size() || !startsWith(key, head) || !endsWith(key, tail)) continue;
        const std::string segment = key.substr(head.size(), key.size() - head.size() - tail.size());
        if (segment.find('/') == std::string::npos) out.emplace_back(key, segment);
    }
    return out;
}

std::string withSegment(std::string label, const std::string& segment) {
    if (const size_t at = label.find("{}"); at != std::string::npos) label.replace(at, 2, segment);
    return label;
}

}  // namespace

bool KeyMatch::matches(const std::string& key) const {
    for (const auto& l : lines)
        if (l.key == key) return true;
    for (const auto& p : prefixes)
        if (startsWith(key, p)) return true;
    switch (kind) {
        case Class::None: return false;
        case Class::Loss: return isLoss(key);
        case Class::Evaluation: return isEvaluation(key);
    }
    return false;
}

bool PanelView::shownUnder(const std::map<std::string, std::string>& params) const {
    return shown(whenSet, unlessSet, params);
}

std::vector<PanelView> MethodView::panelsUnder(const std::map<std::string, std::string>& params) const {
    std::vector<PanelView> out;
    for (const auto& p : panels)
        if (p.shownUnder(params)) out.push_back(p);
    return out;
}

std::vector<std::string> MethodView::vectorsUnder(const std::map<std::string, std::string>& params) const {
    std::vector<std::string> out;
    for (const auto& v : vectors)
        if (shown(v.whenSet, "", params)) out.push_back(v.key);
    return out;
}

std::string resultNumber(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return text;
}

ResultText resultText(const std::vector<ResultPart>& parts, const std::map<std::string, double>& latest) {
    ResultText out;
    std::string joined;
    const auto add = [&](const std::string& piece) { joined += (joined.empty() ? "" : " · ") + piece; };
    bool previousShown = false;
    for (const auto& part : parts) {
        if (part.orElse && previousShown) continue;  // its alternative was shown
        previousShown = false;
        for (const auto& [key, segment] : matching(part.key, latest)) {
            const double v = latest.at(key);
            std::string value = part.format == ResultPart::Format::Percent ? resultNumber(v * 100) : resultNumber(v);
            if (part.format == ResultPart::Format::Change && latest.count(part.from)) {
                value = resultNumber(latest.at(part.from)) + " → " + value;
                out.keys.push_back(part.from);
            }
            add(withSegment(part.label, segment) + value + part.suffix);
            out.keys.push_back(key);
            if (part.headline && std::isnan(out.value)) out.value = v;
            previousShown = true;
        }
    }
    if (joined.empty() && latest.count(metrics::kTrainLoss)) {  // every method's fallback
        const double v = latest.at(metrics::kTrainLoss);
        add("train loss " + resultNumber(v));
        out.keys.push_back(metrics::kTrainLoss);
        out.value = v;
    }
    out.text = joined;
    return out;
}

PanelView lossPanel() {
    PanelView p{"Loss", "loss", {}};
    p.match.lines = {{metrics::kTrainLoss, 0}, {metrics::kDevLoss, 1}, {metrics::kTestLoss, 2}};
    p.match.kind = KeyMatch::Class::Loss;
    return p;
}

PanelView evaluationPanel() {
    PanelView p{"Evaluation", "metric", {}};
    p.match.lines = {{metrics::kDevAccuracy, 1},    {metrics::kDevAccuracyCalibrated, 4},
                     {metrics::kTestAccuracy, 2},   {metrics::kTestAccuracyCalibrated, 9},
                     {metrics::kHeldOutPerplexity, 3}, {metrics::kDevPerplexity, 5},
                     {metrics::kEvalPerplexity, 10}};
    p.match.kind = KeyMatch::Class::Evaluation;
    return p;
}

PanelView memoryPanel() {
    PanelView p{"Memory", "MiB", {}};
    p.match.lines = {{metrics::kRssMb, 0}, {metrics::kPeakRssMb, 3}, {metrics::kEstimateMb, 8}};
    return p;
}

PanelView throughputPanel() {
    PanelView p{"Throughput", "steps / s", {}};
    p.match.lines = {{metrics::kStepsPerSecond, 0}};
    return p;
}

}  // namespace frugal
