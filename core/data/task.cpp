#include "data/task.h"

#include "common/call_count.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "model/utf8.h"

namespace frugal::data {
namespace {

using json = nlohmann::json;

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "'" : ", '") + item + "'";
    return out;
}

// Splits one csv record starting at `pos` (quoted fields may hold separators, quotes and line
// breaks); advances `pos` past the record's line end.
std::vector<std::string> csvRecord(const std::string& text, size_t& pos, char separator,
                                   bool quoting, const std::string& where) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    while (pos < text.size()) {
        const char c = text[pos];
        if (quoted) {
            if (c == '"' && pos + 1 < text.size() && text[pos + 1] == '"') {
                fields.back() += '"';
                pos += 2;
                continue;
            }
            if (c == '"')
                quoted = false;
            else
                fields.back() += c;
            ++pos;
            continue;
        }
        if (quoting && c == '"' && fields.back().empty()) {
            quoted = true;
        } else if (c == separator) {
            fields.emplace_back();
        } else if (c == '\n' || c == '\r') {
            pos += (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ? 2 : 1;
            return fields;
        } else {
            fields.back() += c;
        }
        ++pos;
    }
    if (quoted) failInput(where, ": a quoted field is not closed before the end of the file");
    return fields;
}

}  // namespace

PromptTemplate PromptTemplate::parse(const std::string& text,
                                     const std::vector<std::string>& labels) {
    const std::string where = cat("template \"", text, "\"");
    const size_t textAt = text.find("{text}");
    if (textAt == std::string::npos) failInput(where, ": has no {text} placeholder for the example");
    size_t open = std::string::npos;
    for (size_t i = text.find('{'); i != std::string::npos; i = text.find('{', i + 1))
        if (text.compare(i, 6, "{text}") != 0) {
            if (open != std::string::npos)
                failInput(where, ": has more than one {a|b|...} verbaliser slot");
            open = i;
        }
    if (open == std::string::npos)
        failInput(where, ": has no {a|b|...} slot naming a word for each label");
    const size_t close = text.find('}', open);
    if (close == std::string::npos)
        failInput(where, ": the slot opened at byte ", open, " is not closed");
    if (open < textAt) failInput(where, ": the verbaliser slot must come after {text}");
    PromptTemplate t;
    t.m_text = text;
    t.m_labels = labels;
    std::stringstream words(text.substr(open + 1, close - open - 1));
    for (std::string word; std::getline(words, word, '|');) {
        if (word.empty()) failInput(where, ": the slot has an empty verbaliser word");
        t.m_words.push_back(word);
    }
    if (t.m_words.size() != labels.size())
        failInput(where, ": the slot names ", t.m_words.size(), " words but the task has ",
             labels.size(), " labels (", joined(labels), ")");
    t.m_before = text.substr(0, open);
    while (!t.m_before.empty() && t.m_before.back() == ' ') {
        t.m_space += ' ';
        t.m_before.pop_back();
    }
    t.m_after = text.substr(close + 1);
    return t;
}

PromptTemplate::Rendered PromptTemplate::render(const std::string& exampleText) const {
    Rendered r;
    r.context = m_before;
    r.context.replace(r.context.find("{text}"), 6, exampleText);
    for (const auto& word : m_words) r.continuations.push_back(m_space + word);
    return r;
}

std::string PromptTemplate::demonstration(const std::string& exampleText, int labelIndex) const {
    if (labelIndex < 0 || labelIndex >= static_cast<int>(m_words.size()))
        fail("template \"", m_text, "\": no verbaliser word for label index ", labelIndex);
    const Rendered r = render(exampleText);
    return r.context + r.continuations[static_cast<size_t>(labelIndex)] + m_after;
}

Task Task::load(const std::filesystem::path& file, const std::vector<std::string>& labels) {
    CallCount::hit("task file read");
    const std::string name = file.string();
    if (labels.size() < 2) failInput(name, ": a task needs at least two labels, got ", labels.size());
    std::ifstream in(file, std::ios::binary);
    if (!in) failInput(name, ": cannot open (expected a .jsonl, .tsv or .csv file of examples)");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();

    Task task;
    task.m_labels = labels;
    auto add = [&](std::string exampleText, std::string label, int64_t line) {
        const std::string where = cat(name, ":", line);
        if (!model::isValidUtf8(exampleText) || !model::isValidUtf8(label))
            failInput(where, ": text is not valid UTF-8 (re-encode the file as UTF-8)");
        if (task.labelIndex(label) < 0)
            failInput(where, ": unknown label '", label, "' (expected one of ", joined(labels), ")");
        task.m_examples.push_back({std::move(exampleText), std::move(label), line});
    };

    const std::string ext = file.extension().string();
    if (ext == ".jsonl") {
        std::stringstream lines(text);
        int64_t lineNo = 0;
        for (std::string line; std::getline(lines, line);) {
            ++lineNo;
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            const std::string where = cat(name, ":", lineNo);
            if (!model::isValidUtf8(line))
                failInput(where, ": text is not valid UTF-8 (re-encode the file as UTF-8)");
            json row;
            try {
                row = json::parse(line);
            } catch (const json::exception& e) {
                failInput(where, ": not valid JSON (", e.what(), ")");
            }
            if (!row.is_object())
                failInput(where, ": expected a JSON object with \"text\" and \"label\"");
            for (const char* key : {"text", "label"})
                if (!row.contains(key)) failInput(where, ": missing key '", key, "'");
            if (!row["text"].is_string()) failInput(where, ": \"text\" must be a string");
            const json& label = row["label"];
            if (!label.is_string() && !label.is_number_integer())
                failInput(where, ": \"label\" must be a string or an integer");
            add(row["text"].get<std::string>(),
                label.is_string() ? label.get<std::string>() : std::to_string(label.get<int64_t>()),
                lineNo);
        }
    } else if (ext == ".tsv" || ext == ".csv") {
        const bool csv = ext == ".csv";
        size_t pos = 0;
        int64_t record = 1;
        const std::vector<std::string> header =
            csvRecord(text, pos, csv ? ',' : '\t', csv, cat(name, ":1"));
        int textColumn = -1, labelColumn = -1;
        for (size_t i = 0; i < header.size(); ++i) {
            if (header[i] == "text") textColumn = static_cast<int>(i);
            if (header[i] == "label") labelColumn = static_cast<int>(i);
        }
        if (textColumn < 0 || labelColumn < 0)
            failInput(name, ":1: the header row must name the columns 'text' and 'label' (found ",
                 joined(header), ")");
        while (pos < text.size()) {
            ++record;
            const std::string where = cat(name, ":", record);
            const auto fields = csvRecord(text, pos, csv ? ',' : '\t', csv, where);
            if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
            if (fields.size() != header.size())
                failInput(where, ": has ", fields.size(), " columns, the header has ", header.size());
            add(fields[static_cast<size_t>(textColumn)], fields[static_cast<size_t>(labelColumn)],
                record);
        }
    } else {
        failInput(name, ": unknown file type '", ext, "' (expected .jsonl, .tsv or .csv)");
    }
    if (task.m_examples.empty()) failInput(name, ": no examples in the file");
    return task;
}

std::map<std::string, int64_t> Task::labelCounts() const {
    std::map<std::string, int64_t> counts;
    for (const auto& label : m_labels) counts[label] = 0;
    for (const auto& e : m_examples) counts[e.label] += 1;
    return counts;
}

int Task::labelIndex(const std::string& label) const {
    for (size_t i = 0; i < m_labels.size(); ++i)
        if (m_labels[i] == label) return static_cast<int>(i);
    return -1;
}

}  // namespace frugal::data
