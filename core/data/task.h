#pragma once
// Labelled examples and the prompt template that turns each into a context and one continuation
// per label, scored by log-likelihood as MeZO and lm-eval-harness do. Plain values, read once;
// safe to share between threads. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace frugal::data {

struct Example {
    std::string text;
    std::string label;
    int64_t line = 0;  // 1-based line (jsonl) or record (tsv/csv) in its file, for messages
};

// "{text} It was {great|terrible}." — `{text}` takes the example's text; the one `{a|b|...}` slot
// names the verbaliser word of each label, in the order of `labels`. The context is the template
// up to the slot with trailing spaces moved into the continuation (" great"); text after the slot
// is not scored.
class PromptTemplate {
public:
    static PromptTemplate parse(const std::string& text, const std::vector<std::string>& labels);

    struct Rendered {
        std::string context;
        std::vector<std::string> continuations;  // one per label, in label order
    };
    Rendered render(const std::string& exampleText) const;
    // The whole template filled in with the label's word: a few-shot demonstration.
    std::string demonstration(const std::string& exampleText, int labelIndex) const;
    const std::vector<std::string>& labels() const { return m_labels; }
    const std::string& text() const { return m_text; }

private:
    std::string m_text, m_before, m_after, m_space;
    std::vector<std::string> m_words, m_labels;
};

// A labelled example file: .jsonl (objects with "text" and "label"), .tsv or .csv (a header row
// with columns text and label; csv fields may be quoted with "" escapes).
class Task {
public:
    // `labels`: the allowed labels; a row with another label is an error naming file and line.
    static Task load(const std::filesystem::path& file, const std::vector<std::string>& labels);

    const std::vector<Example>& examples() const { return m_examples; }
    const std::vector<std::string>& labels() const { return m_labels; }
    std::map<std::string, int64_t> labelCounts() const;
    int labelIndex(const std::string& label) const;  // position in labels(), -1 if absent

private:
    std::vector<Example> m_examples;
    std::vector<std::string> m_labels;
};

}  // namespace frugal::data
