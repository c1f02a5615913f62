#include "key_flags.h"

#include <sstream>

#include "common/error.h"
#include "run/method_registry.h"

namespace frugal::app {

namespace {

std::string tomlQuoted(const std::string& v) {
    std::string out = "\"";
    for (char c : v) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
}

// What the help shows after a flag: its kind, or its choices.
std::string metavar(const ConfigField& f) {
    using Kind = ConfigField::Kind;
    if (!f.choices.empty()) {
        std::string out;
        for (const auto& c : f.choices) out += (out.empty() ? "" : "|") + c;
        return out.size() <= 24 ? out : "NAME";
    }
    switch (f.kind) {
        case Kind::Integer: return "N";
        case Kind::Number: return "X";
        case Kind::Boolean: return "true|false";
        case Kind::Path: return "FILE";
        case Kind::List: return "A,B";
        case Kind::String: return "TEXT";
    }
    return "V";
}

}  // namespace

KeyFlags::KeyFlags(const std::string& method, const std::string& table) : m_table(table) {
    for (const auto& f : run::configSchema(method))
        if (f.key.rfind(table + ".", 0) == 0 && !f.unused) m_fields.push_back(f);
}

std::string KeyFlags::flagOf(const std::string& key) {
    std::string flag = key.substr(key.rfind('.') + 1);
    for (char& c : flag)
        if (c == '_') c = '-';
    return flag;
}

const ConfigField* KeyFlags::field(const std::string& flag) const {
    for (const auto& f : m_fields)
        if (flagOf(f.key) == flag) return &f;
    return nullptr;
}

std::vector<std::string> KeyFlags::names(std::vector<std::string> extra) const {
    for (const auto& f : m_fields) extra.push_back(flagOf(f.key));
    return extra;
}

std::string KeyFlags::overrideFor(const std::string& flag, const std::string& value) const {
    const ConfigField* f = field(flag);
    if (!f) fail("--", flag, " sets no key of [", m_table, "]");
    using Kind = ConfigField::Kind;
    switch (f->kind) {
        case Kind::String:
        case Kind::Path: return f->key + "=" + tomlQuoted(value);
        case Kind::List: {
            std::string list;
            std::stringstream items(value);
            for (std::string item; std::getline(items, item, ',');) list += (list.empty() ? "" : ", ") + tomlQuoted(item);
            return f->key + "=[" + list + "]";
        }
        case Kind::Integer:
        case Kind::Number:
        case Kind::Boolean: return f->key + "=" + value;  // the reader checks it, naming the key
    }
    return f->key + "=" + value;
}

std::vector<std::string> KeyFlags::overrides(const Parsed& p) const {
    std::vector<std::string> out;
    for (const auto& f : m_fields)
        if (p.has(flagOf(f.key))) out.push_back(overrideFor(flagOf(f.key), p.get(flagOf(f.key), "")));
    return out;
}

std::string KeyFlags::help() const {
    std::string out;
    for (const auto& f : m_fields) {
        std::string head = "  --" + flagOf(f.key) + " " + metavar(f);
        head += head.size() < 30 ? std::string(30 - head.size(), ' ') : std::string("\n") + std::string(30, ' ');
        std::string line = f.help.empty() ? f.key : f.help;
        if (!f.defaultValue.empty()) line += " (default " + f.defaultValue + ")";
        const std::string when = f.whenText();
        if (!when.empty()) line += "; " + when;
        // the line wrapped at word boundaries to 100 columns, continued under its start
        std::string row = head;
        std::stringstream words(line);
        bool first = true;
        for (std::string word; words >> word; first = false) {
            if (!first && row.size() + 1 + word.size() > 100) {
                out += row + "\n";
                row = std::string(30, ' ') + word;
            } else {
                row += (first ? "" : " ") + word;
            }
        }
        out += row + "\n";
    }
    return out;
}

}  // namespace frugal::app
