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

std::vector<FilterTerm> parseFilter(const std::string& text) {
    std::vector<FilterTerm> terms;
    std::string rest = text;
    for (;;) {
        size_t andAt = std::string::npos;
        for (size_t i = 0; i + 5 <= rest.size(); ++i)
            if (rest.compare(i, 5, " and ") == 0) {
                andAt = i;
                break;
            }
        std::string term = rest.substr(0, andAt);
        const auto trim = [](std::string s) {
            while (!s.empty() && s.front() == ' ') s.erase(0, 1);
            while (!s.empty() && s.back() == ' ') s.pop_back();
            return s;
        };
        term = trim(term);
        static const char* ops[] = {"<=", ">=", "!=", "=", "<", ">", "~"};
        size_t at = std::string::npos;
        std::string op;
        for (const char* o : ops) {
            const size_t found = term.find(o);
            if (found != std::string::npos && (at == std::string::npos || found < at ||
                                               (found == at && std::strlen(o) > op.size()))) {
                at = found;
                op = o;
            }
        }
        if (at == std::string::npos || at == 0 || at + op.size() >= term.size())
            fail("--filter: '", term, "' is not KEY OP VALUE (OP one of = != < <= > >= ~), e.g. ",
                 "'method=mezo and train.lr<1e-5'");
        FilterTerm t{trim(term.substr(0, at)), op, trim(term.substr(at + op.size()))};
        if (t.value.size() >= 2 && (t.value.front() == '\'' || t.value.front() == '"'))
            t.value = t.value.substr(1, t.value.size() - 2);
        double number = 0;
        if ((t.op == "<" || t.op == "<=" || t.op == ">" || t.op == ">=") && !asNumber(t.value, number))
            fail("--filter: '", term, "': ", t.op, " compares numbers, and '", t.value,
                 "' is not a number (= != ~ compare text)");
        terms.push_back(t);
        if (andAt == std::string::npos) break;
        rest = rest.substr(andAt + 5);
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
        std::string nearest;
        for (const auto& k : nearestWords(t.key, candidates, 3)) nearest += (nearest.empty() ? "'" : "', '") + k;
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
