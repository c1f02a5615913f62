#pragma once
// Reading TOML experiment configs strictly, for every method's reader (core-private; toml++ stays
// out of the headers app/ and ui/ include): unknown keys refused with the nearest valid name, type and range errors naming
// the key path and line, KEY=VALUE overrides from the command line.

#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/edit_distance.h"
#include "common/error.h"
#include "common/method.h"
#include "common/named.h"

namespace frugal::config {

// Collects the keys that Sections read while it lives, on this thread only: run::configSchema
// reads a method's config once with it to learn every key, its type, default, range and choices.
class SchemaCapture {
public:
    SchemaCapture() : m_previous(current()) { current() = this; }
    ~SchemaCapture() { current() = m_previous; }
    SchemaCapture(const SchemaCapture&) = delete;
    SchemaCapture& operator=(const SchemaCapture&) = delete;

    static SchemaCapture*& current() {
        thread_local SchemaCapture* active = nullptr;
        return active;
    }
    void add(ConfigField field) {
        for (const auto& f : fields)
            if (f.key == field.key) return;
        fields.push_back(std::move(field));
    }
    std::vector<ConfigField> fields;

private:
    SchemaCapture* m_previous;
};

// While it lives, on this thread only, the readers' key-level refusals (an unknown key, a value of
// the wrong type or out of range) are collected instead of thrown, the key keeping its default,
// so that one reading of a config finds every such problem (the workbench's form reads a config
// once per edit). What a reader checks across keys still throws.
class ErrorCollector {
public:
    ErrorCollector() : m_previous(current()) { current() = this; }
    ~ErrorCollector() { current() = m_previous; }
    ErrorCollector(const ErrorCollector&) = delete;
    ErrorCollector& operator=(const ErrorCollector&) = delete;

    static ErrorCollector*& current() {
        thread_local ErrorCollector* active = nullptr;
        return active;
    }
    std::vector<ConfigProblem> problems;

private:
    ErrorCollector* m_previous;
};

// Throws ConfigError(KEY, MESSAGE), or, while an ErrorCollector is active, records it.
inline void refuse(const std::string& key, const std::string& message) {
    if (ErrorCollector* c = ErrorCollector::current()) {
        c->problems.push_back({key, message});
        return;
    }
    throw ConfigError(key, message);
}

// E again, its message prefixed with SOURCE (a ConfigError keeps its key, bad input stays bad input).
[[noreturn]] inline void rethrowIn(const std::string& source, const Error& e) {
    if (const auto* c = dynamic_cast<const ConfigError*>(&e)) throw ConfigError(c->key(), cat(source, ": ", e.what()));
    if (dynamic_cast<const InputError*>(&e)) failInput(source, ": ", e.what());
    fail(source, ": ", e.what());
}

// "train.lr" -> "lr".
inline std::string lastPart(const std::string& path) {
    const size_t dot = path.rfind('.');
    return dot == std::string::npos ? path : path.substr(dot + 1);
}

// The candidate nearest to KEY by edit distance (against each candidate's last part when
// LASTPARTONLY), or "" when none is within MAXDISTANCE: for "did you mean".
inline std::string nearest(const std::string& key, const std::vector<std::string>& candidates,
                           size_t maxDistance, bool lastPartOnly = false) {
    std::string best;
    size_t bestDistance = maxDistance + 1;
    for (const auto& c : candidates) {
        const size_t d = editDistance(key, lastPartOnly ? lastPart(c) : c);
        if (d < bestDistance) bestDistance = d, best = c;
    }
    return best;
}

// ":LINE" of a node read from the file; " (from an override)" for one set on the command line.
inline std::string lineOf(const toml::source_region& region) {
    return region.begin.line > 0 ? cat(":", region.begin.line) : std::string(" (from an override)");
}

// What a reader says of a key where it reads it: its meaning in one line and when it is read.
struct KeyDoc {
    std::string help{};
    std::vector<KeyCondition> when{};  // read only when every condition holds
    bool unused = false;               // declared for a shared reader's sake, never read
    bool refused = false;              // (retold) declared by a shared reader, refused in this table
};

// What a method says of the keys a shared reader declares for it, by full key ("sharpzo.steps":
// stage 2's steps; "landscape.lr": a landscape trains nothing): Section::retell.
using KeyDocs = std::map<std::string, KeyDoc>;

// Reads one TOML table, refusing keys it does not know. Either KNOWN lists them up front, or the
// reader declares each as it reads it and calls done() at the end, which refuses what was not
// declared (the declarations are then the only list).
class Section {
public:
    Section(const toml::table& table, std::string path, std::string source,
            std::vector<std::string> known)
        : m_table(table), m_path(std::move(path)), m_source(std::move(source)),
          m_known(std::move(known)) {
        refuseUnknown(m_known);
    }
    Section(const toml::table& table, std::string path, std::string source)
        : m_table(table), m_path(std::move(path)), m_source(std::move(source)) {}

    // Refuses every key of the table that was not declared (for a Section without KNOWN), but
    // ALSOREAD, the keys its reader reads by hand (an array of tables).
    void done(const std::vector<std::string>& alsoRead = {}) const {
        std::vector<std::string> known;
        for (const auto& key : m_declared)
            if (const auto it = m_retold.find(name(key)); it == m_retold.end() || !it->second.refused)
                known.push_back(key);
        known.insert(known.end(), alsoRead.begin(), alsoRead.end());
        refuseUnknown(known);
    }

    // The meanings a method gives keys that a shared reader declares in this table (those of
    // DOCS under this table's path): a key declared afterwards takes DOCS' line instead of the
    // reader's; a refused one is not accepted by done(), so its value is refused as unknown.
    void retell(const KeyDocs& docs) const {
        for (const auto& [key, doc] : docs)
            if (key.rfind(name(""), 0) == 0 && key.find('.', name("").size()) == std::string::npos)
                m_retold[key] = doc;
    }

    // Conditions for KeyDoc::when, on keys of this table: KEY is one of VALUES, or none of them.
    KeyCondition when(const std::string& key, std::vector<std::string> values) const {
        return {name(key), std::move(values), false};
    }
    KeyCondition unless(const std::string& key, std::vector<std::string> values) const {
        return {name(key), std::move(values), true};
    }

    std::string name(const std::string& key) const {
        return m_path.empty() ? key : m_path + "." + key;
    }

    const toml::node* find(const std::string& key) const { return m_table.get(key); }

    std::string wrongText(const std::string& key, const toml::node& node, const std::string& expected) const {
        return cat(m_source, lineOf(node.source()), ": ", name(key), " is ", describe(node), ", expected ", expected);
    }
    [[noreturn]] void wrong(const std::string& key, const toml::node& node, const std::string& expected) const {
        throw ConfigError(name(key), wrongText(key, node, expected));
    }

    // The typed readers: an absent key keeps OUT; a wrong one is refused (config::refuse), and
    // while errors are collected OUT keeps its default.
    void integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi, const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::Integer, std::to_string(out), doc, static_cast<double>(lo),
                static_cast<double>(hi));
        const toml::node* n = find(key);
        if (!n) return;
        const auto v = n->value<int64_t>();
        if (accepted(key, *n, n->is_integer() && v && *v >= lo && *v <= hi, cat("an integer in [", lo, ", ", hi, "]")))
            out = *v;
    }
    void number(const std::string& key, double& out, double lo, double hi, const KeyDoc& doc = {}) const {
        std::ostringstream text;
        text << out;
        declare(key, ConfigField::Kind::Number, text.str(), doc, lo, hi);
        const toml::node* n = find(key);
        if (!n) return;
        const auto v = n->value<double>();
        if (accepted(key, *n, (n->is_floating_point() || n->is_integer()) && v && *v >= lo && *v <= hi,
                     cat("a number in [", lo, ", ", hi, "]")))
            out = *v;
    }
    void boolean(const std::string& key, bool& out, const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::Boolean, out ? "true" : "false", doc);
        const toml::node* n = find(key);
        if (n && accepted(key, *n, n->is_boolean(), "true or false")) out = *n->value<bool>();
    }
    void string(const std::string& key, std::string& out, const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::String, out, doc);
        const toml::node* n = find(key);
        if (n && accepted(key, *n, n->is_string(), "a string")) out = *n->value<std::string>();
    }
    void path(const std::string& key, std::filesystem::path& out, const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::Path, out.string(), doc);
        const toml::node* n = find(key);
        if (n && accepted(key, *n, n->is_string(), "a string")) out = *n->value<std::string>();
    }
    // A string naming one value of an enum's TABLE (common/named.h), read into OUT; another string
    // is refused at the key, naming the values.
    template <typename E, size_t N>
    void named(const std::string& key, E& out, const std::array<Named<E>, N>& table, const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::String, nameOf(table, out), doc, 0, 0, namesOf(table));
        const toml::node* n = find(key);
        if (!n || !accepted(key, *n, n->is_string(), "a string")) return;
        const std::string v = *n->value<std::string>();
        for (const auto& e : table)
            if (v == e.name) {
                out = e.value;
                return;
            }
        refuse(name(key), cat(m_source, lineOf(n->source()), ": ", name(key), ": unknown value '", v, "' (expected ",
                              namesText(table), ")"));
    }
    // A string with a fixed set of values (checked where the value is used; declared here so that
    // the form offers them).
    void choice(const std::string& key, std::string& out, const std::vector<std::string>& options,
                const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::String, out, doc, 0, 0, options);
        string(key, out);
    }
    // A key read by hand (an array): declared for the schema with its default as TOML text.
    // A key read by hand that takes text (a number given for it is read as its text).
    void declareText(const std::string& key, const std::string& defaultText, const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::String, defaultText, doc);
    }
    void declareList(const std::string& key, const std::string& defaultToml, const KeyDoc& doc = {}) const {
        declare(key, ConfigField::Kind::List, defaultToml, doc);
    }

    static std::string describe(const toml::node& node) {
        std::ostringstream s;
        switch (node.type()) {
            case toml::node_type::string: s << "the string \"" << *node.value<std::string>() << "\""; break;
            case toml::node_type::table: s << "a table"; break;
            case toml::node_type::array: s << "an array"; break;
            case toml::node_type::integer: s << *node.value<int64_t>(); break;
            case toml::node_type::floating_point: s << *node.value<double>(); break;
            case toml::node_type::boolean: s << (*node.value<bool>() ? "true" : "false"); break;
            default: s << "a " << node.type(); break;
        }
        return s.str();
    }

private:
    void declare(const std::string& key, ConfigField::Kind kind, const std::string& def, const KeyDoc& doc,
                 double lo = 0, double hi = 0, std::vector<std::string> choices = {}) const {
        if (std::find(m_declared.begin(), m_declared.end(), key) == m_declared.end()) m_declared.push_back(key);
        if (SchemaCapture* capture = SchemaCapture::current()) {
            ConfigField f;
            f.key = name(key);
            f.kind = kind;
            f.defaultValue = def;
            f.lo = lo;
            f.hi = hi;
            f.choices = std::move(choices);
            const auto retold = m_retold.find(f.key);
            const KeyDoc& d = retold == m_retold.end() ? doc : retold->second;
            f.help = d.help;
            f.when = d.when;
            f.unused = d.unused || d.refused;
            capture->add(std::move(f));
        }
    }

    // OK, or the value at KEY refused (false while errors are collected).
    bool accepted(const std::string& key, const toml::node& node, bool ok, const std::string& expected) const {
        if (!ok) refuse(name(key), wrongText(key, node, expected));
        return ok;
    }

    void refuseUnknown(const std::vector<std::string>& known) const {
        for (const auto& [key, value] : m_table) {
            const std::string k(key.str());
            if (std::find(known.begin(), known.end(), k) != known.end()) continue;
            const std::string guess = nearest(k, known, 3);
            std::string all;
            for (const auto& candidate : known) all += (all.empty() ? "" : ", ") + candidate;
            refuse(name(k), cat(m_source, lineOf(key.source()), ": unknown key '", name(k), "'",
                                guess.empty() ? std::string() : cat(" (did you mean '", name(guess), "'?)"),
                                "; valid keys: ", all));
        }
    }

    const toml::table& m_table;
    std::string m_path, m_source;
    std::vector<std::string> m_known;
    mutable std::vector<std::string> m_declared;  // in reading order
    mutable KeyDocs m_retold;                     // retell()
};

inline const toml::table& tableOr(const toml::table& root, const std::string& key,
                           const std::string& source, const toml::table& empty) {
    const toml::node* n = root.get(key);
    if (!n) return empty;
    if (!n->is_table()) {
        fail(source, lineOf(n->source()), ": [", key, "] must be a table, found ",
             Section::describe(*n));
    }
    return *n->as_table();
}

// Every key path of the scalar values in TABLE ("train.lr"), for override lookup.
inline void keyPaths(const toml::table& table, const std::string& prefix, std::vector<std::string>& out) {
    for (const auto& [key, value] : table) {
        const std::string path = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
        if (value.is_table()) keyPaths(*value.as_table(), path, out);
        else out.push_back(path);
    }
}

// "a.b=value": sets a.b (tables created as needed); "b=value": the one existing key named b.
inline void applyOverride(toml::table& root, const std::string& text, const std::string& source) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        fail("override '", text, "': expected KEY=VALUE, for example train.lr=1e-3");
    std::string key = text.substr(0, eq);
    const std::string valueText = text.substr(eq + 1);
    if (key.find('.') == std::string::npos) {
        std::vector<std::string> all, matches;
        keyPaths(root, "", all);
        for (const auto& path : all)
            if (lastPart(path) == key) matches.push_back(path);
        if (matches.size() > 1) {
            std::string list;
            for (const auto& m : matches) list += (list.empty() ? "" : ", ") + m;
            fail("override '", text, "': '", key, "' is ambiguous in ", source, " (", list,
                 "); give the full key");
        }
        if (matches.empty()) {
            const std::string guess = nearest(key, all, 2, /*lastPartOnly=*/true);
            fail("override '", text, "': ", source, " has no key '", key, "'",
                 guess.empty() ? std::string() : cat(" (did you mean '", guess, "'?)"),
                 "; a key the file does not set needs its full path (e.g. train.eval_windows=8)");
        }
        key = matches[0];
    }
    toml::table parsed;
    try {
        parsed = toml::parse("v = " + valueText);
    } catch (const toml::parse_error&) {
        parsed.insert_or_assign("v", valueText);  // a bare word: a string
    }
    if (valueText.empty()) fail("override '", text, "': the value is empty");
    toml::table* table = &root;
    size_t start = 0;
    for (size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
        const std::string part = key.substr(start, dot - start);
        toml::node* next = table->get(part);
        if (!next) {
            table->insert_or_assign(part, toml::table{});
            next = table->get(part);
        }
        if (!next->is_table())
            fail("override '", text, "': '", key.substr(0, dot), "' is not a table");
        table = next->as_table();
        start = dot + 1;
    }
    table->insert_or_assign(key.substr(start), *parsed.get("v"));
}

// TEXT parsed as TOML (a syntax error names SOURCE:LINE:COLUMN), then OVERRIDES applied.
inline toml::table parseConfig(const std::string& text, const std::string& source,
                               const std::vector<std::string>& overrides = {}) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        const std::string description(e.description());
        // a string whose closing quote is missing runs into the line's end, which toml++ reports
        // as a control character: say what the user has to fix, and where the string began
        if (description.find("parsing string") != std::string::npos &&
            description.find("control character") != std::string::npos) {
            const auto line = e.source().begin.line;
            std::string lineText;
            std::istringstream lines(text);
            for (size_t i = 0; i < line && std::getline(lines, lineText); ++i) {
            }
            failInput(source, ":", line, ": a string is not closed: the closing quote is missing on line ", line,
                      " (", lineText, ")");
        }
        failInput(source, ":", e.source().begin.line, ":", e.source().begin.column, ": ", description);
    }
    for (const auto& o : overrides) applyOverride(root, o, source);
    return root;
}

// The table written back as TOML: a run's resolved config.
inline std::string tomlText(const toml::table& table) {
    std::ostringstream out;
    out << table;
    return out.str() + "\n";
}

// Every scalar of TABLE under its flattened key ("train.lr" -> "0.002"; arrays of tables as
// "data.sources[0].path"): the params a run stores for filtering.
inline void flatten(const toml::table& table, const std::string& prefix,
                    std::map<std::string, std::string>& out) {
    for (const auto& [key, value] : table) {
        const std::string path =
            prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
        if (value.is_table()) {
            flatten(*value.as_table(), path, out);
        } else if (value.is_array_of_tables()) {
            size_t i = 0;
            for (const auto& element : *value.as_array())
                flatten(*element.as_table(), cat(path, "[", i++, "]"), out);
        } else if (const auto* s = value.as_string()) {
            out[path] = s->get();
        } else {
            std::ostringstream text;
            if (const auto* i = value.as_integer()) text << i->get();
            else if (const auto* f = value.as_floating_point()) text << f->get();
            else if (const auto* b = value.as_boolean()) text << (b->get() ? "true" : "false");
            else if (const auto* a = value.as_array()) text << toml::toml_formatter(*a);
            else text << "(" << value.type() << ")";
            out[path] = text.str();
        }
    }
}

// A PreparedRun's method, resolved config and params from the config's ROOT (after overrides).
inline PreparedRun preparedFrom(const std::string& method, const toml::table& root,
                                std::optional<int64_t> seed) {
    PreparedRun p;
    p.method = method;
    p.resolvedConfig = tomlText(root);
    flatten(root, "", p.params);
    p.seed = seed;
    return p;
}

// The `device` key of a method that computes on the CPU only: declared (the form shows it, with
// "cpu" its one choice) and any other value refused at the key, saying WHY it stays on the CPU.
inline void cpuOnlyDevice(const Section& section, const std::string& source, const std::string& what,
                          const std::string& why) {
    std::string device = "cpu";
    section.choice("device", device, {"cpu"}, {what});
    if (device != "cpu")
        refuse(section.name("device"), cat(source, ": ", section.name("device"), " = \"", device, "\": ", why,
                                           "; use device = \"cpu\""));
}

// An array of strings at KEY of SECTION (declared for the schema with DEFAULTTOML), into OUT;
// absent: OUT unchanged.
inline void stringList(const Section& section, const std::string& key, std::vector<std::string>& out,
                       const std::string& defaultToml = "[]", const KeyDoc& doc = {}) {
    section.declareList(key, defaultToml, doc);
    const toml::node* n = section.find(key);
    if (!n) return;
    const toml::array* list = n->as_array();
    if (!list) section.wrong(key, *n, "an array of strings");
    out.clear();
    for (const auto& item : *list) {
        if (!item.is_string()) section.wrong(key, *n, "an array of strings");
        out.push_back(*item.value<std::string>());
    }
}

}  // namespace frugal::config
