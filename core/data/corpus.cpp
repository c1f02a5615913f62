#include "data/corpus.h"

#include <limits>

#include "common/error.h"
#include "common/files.h"
#include "model/tokenizer.h"
#include "model/utf8.h"

namespace frugal::data {

uint64_t uniformBelow(std::mt19937_64& rng, uint64_t n) {
    if (n == 0) fail("uniformBelow: empty range");
    const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                           std::numeric_limits<uint64_t>::max() % n;  // a multiple of n
    for (;;) {
        const uint64_t x = rng();
        if (x < limit) return x % n;
    }
}

double uniformUnit(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

Corpus Corpus::fromFile(const std::filesystem::path& file, const model::Tokenizer& tokenizer) {
    return fromText(readFile(file, "corpus file"), tokenizer, file.string());
}

Corpus Corpus::fromText(const std::string& text, const model::Tokenizer& tokenizer,
                        const std::string& sourceName) {
    std::size_t bad = 0;
    while (bad < text.size()) {
        const std::size_t n = model::utf8CharLength(text, bad);
        if (n == 0) break;
        bad += n;
    }
    if (bad < text.size()) {
        std::size_t line = 1;
        for (std::size_t i = 0; i < bad; ++i) line += text[i] == '\n';
        failInput(sourceName, ":", line, ": not valid UTF-8 (byte ", bad, ")");
    }
    Corpus c;
    c.m_source = sourceName;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find("\n\n", pos);
        if (end == std::string::npos) end = text.size();
        std::size_t a = pos, b = end;
        while (a < b && (text[a] == '\n' || text[a] == '\r')) ++a;
        while (b > a && (text[b - 1] == '\n' || text[b - 1] == '\r')) --b;
        if (b > a) {
            const std::vector<int32_t> ids =
                tokenizer.encode(std::string_view(text).substr(a, b - a), true);
            c.m_ids.insert(c.m_ids.end(), ids.begin(), ids.end());
            ++c.m_documents;
        }
        pos = end + 2;
    }
    if (c.m_ids.empty()) failInput(sourceName, ": the corpus is empty (no text)");
    return c;
}

Corpus Corpus::fromIds(std::vector<int32_t> ids, const std::string& sourceName) {
    if (ids.empty()) failInput(sourceName, ": the corpus is empty (no tokens)");
    Corpus c;
    c.m_ids = std::move(ids);
    c.m_documents = 1;
    c.m_source = sourceName;
    return c;
}

Corpus Corpus::slice(int64_t begin, int64_t end) const {
    if (begin < 0 || end > size() || begin >= end) {
        fail(m_source, ": token range [", begin, ", ", end, ") is outside the corpus of ", size(),
             " tokens");
    }
    Corpus c;
    c.m_ids.assign(m_ids.begin() + begin, m_ids.begin() + end);
    c.m_documents = 0;
    c.m_source = cat(m_source, " [tokens ", begin, "..", end, ")");
    return c;
}

std::vector<int32_t> Corpus::sampleWindows(int64_t count, int64_t len,
                                           std::mt19937_64& rng) const {
    if (len < 1 || count < 0) fail(m_source, ": bad window request (", count, " x ", len, ")");
    if (len > size()) {
        failInput(m_source, ": windows of ", len, " tokens do not fit in its ", size(), " tokens");
    }
    std::vector<int32_t> out;
    out.reserve(static_cast<size_t>(count * len));
    const auto starts = static_cast<uint64_t>(size() - len + 1);
    for (int64_t i = 0; i < count; ++i) {
        const auto start = static_cast<int64_t>(uniformBelow(rng, starts));
        out.insert(out.end(), m_ids.begin() + start, m_ids.begin() + start + len);
    }
    return out;
}

std::vector<int32_t> Corpus::sampleWindows(int64_t count, int64_t len, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    return sampleWindows(count, len, rng);
}

std::vector<int32_t> Corpus::contiguousWindows(int64_t len, int64_t maxWindows) const {
    if (len < 1) fail(m_source, ": window length must be positive, got ", len);
    int64_t n = size() / len;
    if (maxWindows > 0) n = std::min(n, maxWindows);
    if (n == 0) failInput(m_source, ": ", size(), " tokens are fewer than one window of ", len);
    return {m_ids.begin(), m_ids.begin() + n * len};
}

}  // namespace frugal::data
