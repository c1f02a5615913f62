#include "store/run_filter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "common/edit_distance.h"
#include "common/error.h"

namespace frugal::store {

std::string numberText(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

namespace {

bool asNumber(const std::string& s, double& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return *end == '\0';
}

}  // namespace

std::string exactNumberText(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
    return std::string(buf, r.ptr);
}

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t'; }

bool isOperatorChar(char c) { return c == '<' || c == '>' || c == '=' || c == '!' || c == '~'; }

// One message for a filter that does not parse: what is wrong, at which column (1-based), and the
// text with a caret under that column.
[[noreturn]] void failAt(const std::string& text, size_t at, const std::string& what) {
    fail("--filter: column ", at + 1, ": ", what, "\n  ", text, "\n  ", std::string(at, ' '), "^");
}

}  // namespace

std::vector<FilterTerm> parseFilter(const std::string& text) {
    // the terms: the text between the words "and" (a word: spaces or an end on both sides)
    std::vector<std::pair<size_t, size_t>> spans;  // [begin, end) of each term
    size_t begin = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
        const bool word = i + 3 <= text.size() && text.compare(i, 3, "and") == 0 &&
                          (i == 0 || isSpace(text[i - 1])) && (i + 3 == text.size() || isSpace(text[i + 3]));
        if (i == text.size() || word) {
            spans.push_back({begin, i});
            if (i == text.size()) break;
            begin = i + 3;
            i += 2;
        }
    }
    std::vector<FilterTerm> terms;
    for (size_t n = 0; n < spans.size(); ++n) {
        size_t b = spans[n].first, e = spans[n].second;
        while (b < e && isSpace(text[b])) ++b;
        while (e > b && isSpace(text[e - 1])) --e;
        if (b == e) {
            if (spans.size() == 1) return terms;  // an empty filter: every run
            failAt(text, std::min(b, text.size() == 0 ? 0 : text.size() - 1),
                   n + 1 == spans.size() ? "a term KEY OP VALUE is missing after 'and'"
                                         : "a term KEY OP VALUE is missing before 'and'");
        }
        // the first operator of the term: = != < <= > >= ~
        size_t at = b;
        while (at < e && !isOperatorChar(text[at])) ++at;
        if (at == e)
            failAt(text, b, "'" + text.substr(b, e - b) +
                                "' has no operator: a term is KEY OP VALUE, OP one of = != < <= > >= ~, e.g. "
                                "'method=mezo and lr<1e-3'");
        std::string op(1, text[at]);
        if (at + 1 < e && text[at + 1] == '=' && (op == "<" || op == ">" || op == "!")) op += '=';
        if (op == "!") failAt(text, at, "'!' is not an operator: '!=' is");
        size_t keyEnd = at;
        while (keyEnd > b && isSpace(text[keyEnd - 1])) --keyEnd;
        if (keyEnd == b) failAt(text, at, "no key before '" + op + "'");
        size_t v = at + op.size();
        while (v < e && isSpace(text[v])) ++v;
        if (v == e) failAt(text, at, "no value after '" + op + "'");
        if (isOperatorChar(text[v]))
            failAt(text, v, std::string("'") + text[v] + "' after '" + op + "': a value cannot start with an operator");
        FilterTerm t{text.substr(b, keyEnd - b), op, text.substr(v, e - v)};
        if (t.key.find_first_of(" \t") != std::string::npos)
            failAt(text, b + t.key.find_first_of(" \t"),
                   "a key has no spaces: terms are joined by ' and ' (got '" + t.key + "')");
        if (t.value.size() >= 2 && (t.value.front() == '\'' || t.value.front() == '"') && t.value.back() == t.value.front())
            t.value = t.value.substr(1, t.value.size() - 2);
        double number = 0;
        if ((t.op == "<" || t.op == "<=" || t.op == ">" || t.op == ">=") && !asNumber(t.value, number))
            failAt(text, v, "'" + t.op + "' compares numbers, and '" + t.value + "' is not one (= != ~ compare text)");
        terms.push_back(t);
    }
    return terms;
}

namespace {

bool compareValues(const std::string& have, const std::string& op, const std::string& want) {
    double a = 0, b = 0;
    if (op == "~") return have.find(want) != std::string::npos;
    if (asNumber(have, a) && asNumber(want, b)) {
        if (op == "=") return a == b;
        if (op == "!=") return a != b;
        if (op == "<") return a < b;
        if (op == "<=") return a <= b;
        if (op == ">") return a > b;
        return a >= b;
    }
    if (op == "=") return have == want;
    if (op == "!=") return have != want;
    if (op == "<") return have < want;
    if (op == "<=") return have <= want;
    if (op == ">") return have > want;
    return have >= want;
}

}  // namespace

void checkFilterKeys(const Store& db, const std::vector<RunInfo>& runs, const std::vector<FilterTerm>& terms) {
    if (runs.empty() || terms.empty()) return;  // nothing to filter: no key can be checked
    const std::vector<std::string> fixed = {"status", "method", "name", "experiment", "tag", "id"};
    std::set<std::string> known(fixed.begin(), fixed.end());
    for (const auto& k : db.keysOfAllRuns()) {  // params (full and last part) and metrics
        known.insert(k);
        const size_t dot = k.rfind('.');
        if (dot != std::string::npos) known.insert(k.substr(dot + 1));
    }
    for (const auto& t : terms) {
        if (known.count(t.key)) continue;
        std::vector<std::string> candidates;
        for (const auto& k : known)
            if (std::find(fixed.begin(), fixed.end(), k) == fixed.end()) candidates.push_back(k);
        candidates.insert(candidates.begin(), fixed.begin(), fixed.end());
        std::vector<std::string> picks;  // keys of which it is the last part ("perplexity" -> "prune/perplexity")
        for (const auto& k : candidates)
            if (k.size() > t.key.size() && k.compare(k.size() - t.key.size(), t.key.size(), t.key) == 0 &&
                std::string("/._").find(k[k.size() - t.key.size() - 1]) != std::string::npos)
                picks.push_back(k);
        for (const auto& k : nearestWords(t.key, candidates, 3))
            if (picks.size() < 3 && std::find(picks.begin(), picks.end(), k) == picks.end()) picks.push_back(k);
        std::string nearest;
        for (const auto& k : picks) nearest += (nearest.empty() ? "'" : "', '") + k;
        fail("--filter: no run has the key '", t.key, "' (nearest: ", nearest,
             "'); keys are status, method, name, experiment, tag, id, a config key (full or its "
             "last part) or a metric");
    }
}

bool runMatches(const Store& db, const RunInfo& r, const std::vector<FilterTerm>& terms) {
    for (const auto& t : terms) {
        std::vector<std::string> values;
        if (t.key == "status")
            values = {statusName(r.status)};
        else if (t.key == "method")
            values = {r.method};
        else if (t.key == "name")
            values = {r.name};
        else if (t.key == "experiment")
            values = {r.experiment};
        else if (t.key == "id")
            values = {std::to_string(r.id)};
        else if (t.key == "tag")
            values = r.tags.empty() ? std::vector<std::string>{""} : r.tags;
        else {
            const auto params = db.params(r.id);
            if (auto it = params.find(t.key); it != params.end())
                values = {it->second};
            else {
                for (const auto& [k, v] : params) {
                    const size_t dot = k.rfind('.');
                    if ((dot == std::string::npos ? k : k.substr(dot + 1)) == t.key)
                        values.push_back(v);
                }
            }
            if (values.empty())
                for (const auto& m : db.latestMetrics(r.id))
                    if (m.key == t.key) values = {numberText(m.point.value)};
        }
        if (values.empty()) return false;  // a run without the key does not match
        bool any = false;
        for (const auto& v : values) any = any || compareValues(v, t.op, t.value);
        if (t.op == "!=" && t.key == "tag") {
            any = true;
            for (const auto& v : values) any = any && v != t.value;
        }
        if (!any) return false;
    }
    return true;
}

}  // namespace frugal::store
