#include "model/tokenizer.h"

#include <algorithm>

#include "common/error.h"
#include "model/byte_level.h"
#include "model/tokenizer_impl.h"
#include "model/utf8.h"

namespace frugal::model {
namespace {

constexpr std::size_t kMaxCachedWord = 256;  // bytes; longer words skip the per-call cache

bool isAsciiSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool isWordByte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') ||
           (u >= 'a' && u <= 'z') || u == '_';
}

void replaceAll(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    std::string out;
    out.reserve(s.size());
    std::size_t pos = 0;
    for (;;) {
        const std::size_t hit = s.find(from, pos);
        if (hit == std::string::npos) break;
        out.append(s, pos, hit - pos);
        out.append(to);
        pos = hit + from.size();
    }
    out.append(s, pos, std::string::npos);
    s = std::move(out);
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : m_impl(std::move(impl)) {}

// ---- encoding -----------------------------------------------------------------------------------

std::vector<Tokenizer::Impl::Segment> Tokenizer::Impl::splitOnAddedTokens(
    std::string_view text) const {
    std::vector<Segment> segments;
    if (addedTokens.empty()) {
        if (!text.empty()) segments.push_back({text, 0, -1});
        return segments;
    }
    std::size_t segmentStart = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const AddedToken* match = nullptr;
        for (const std::size_t index : addedByFirstByte[static_cast<unsigned char>(text[pos])]) {
            const AddedToken& candidate = addedTokens[index];
            if (text.compare(pos, candidate.content.size(), candidate.content) != 0) continue;
            if (candidate.singleWord) {
                const std::size_t end = pos + candidate.content.size();
                if ((pos > 0 && isWordByte(text[pos - 1])) ||
                    (end < text.size() && isWordByte(text[end]))) {
                    continue;
                }
            }
            match = &candidate;
            break;
        }
        if (!match) {
            ++pos;
            continue;
        }
        std::size_t segmentEnd = pos;
        if (match->lstrip) {
            while (segmentEnd > segmentStart && isAsciiSpace(text[segmentEnd - 1])) --segmentEnd;
        }
        if (segmentEnd > segmentStart) {
            segments.push_back(
                {text.substr(segmentStart, segmentEnd - segmentStart), segmentStart, -1});
        }
        segments.push_back({text.substr(pos, match->content.size()), pos, match->id});
        pos += match->content.size();
        if (match->rstrip) {
            while (pos < text.size() && isAsciiSpace(text[pos])) ++pos;
        }
        segmentStart = pos;
    }
    if (segmentStart < text.size()) {
        segments.push_back({text.substr(segmentStart), segmentStart, -1});
    }
    return segments;
}

void Tokenizer::Impl::encodeWord(std::string_view word,
                                 std::unordered_map<std::string, std::vector<int32_t>>& cache,
                                 std::vector<int32_t>& out) const {
    if (word.size() > kMaxCachedWord) {
        model->encodeWord(word, out);
        return;
    }
    std::string key(word);
    auto it = cache.find(key);
    if (it == cache.end()) {
        std::vector<int32_t> ids;
        model->encodeWord(word, ids);
        it = cache.emplace(std::move(key), std::move(ids)).first;
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
}

void Tokenizer::Impl::splitSegment(const Segment& segment, pcre2_match_data* matchData,
                                   const std::function<void(std::string_view)>& word) const {
    std::string text(segment.text);
    for (const auto& step : normalizers) {
        if (step.kind == NormalizerStep::Kind::Prepend) {
            if (!text.empty()) text.insert(0, step.to);
        } else {
            replaceAll(text, step.from, step.to);
        }
    }
    if (text.empty()) return;

    switch (preTokenizer) {
        case PreTokenizer::None: word(text); return;
        case PreTokenizer::Metaspace: {
            replaceAll(text, " ", metaspaceReplacement);
            const bool prepend = prependScheme == PrependScheme::Always ||
                                 (prependScheme == PrependScheme::First && segment.offset == 0);
            if (prepend &&
                text.compare(0, metaspaceReplacement.size(), metaspaceReplacement) != 0) {
                text.insert(0, metaspaceReplacement);
            }
            if (!metaspaceSplit) {
                word(text);
                return;
            }
            // Each word starts at a replacement character (Hugging Face MergedWithNext).
            std::size_t start = 0;
            for (;;) {
                const std::size_t hit = text.find(metaspaceReplacement, start + 1);
                if (hit == std::string::npos) break;
                word(std::string_view(text).substr(start, hit - start));
                start = hit;
            }
            word(std::string_view(text).substr(start));
            return;
        }
        case PreTokenizer::ByteLevel: {
            if (byteLevelAddPrefixSpace && text[0] != ' ') text.insert(0, " ");
            const auto emit = [&](std::string_view piece) { word(bytesToByteLevel(piece)); };
            if (!regex) {
                emit(text);
                return;
            }
            // The pattern runs on well-formed UTF-8 runs; ill-formed bytes are words of their own.
            std::unique_ptr<pcre2_match_data, Pcre2MatchDataDeleter> digitHolder;
            if (digitRegex) {
                digitHolder.reset(pcre2_match_data_create(2, nullptr));
                if (!digitHolder) fail(source, ": out of memory for regex match data");
            }
            pcre2_match_data* digitMatch = digitHolder.get();
            const std::string_view all(text);
            std::size_t pos = 0;
            while (pos < all.size()) {
                std::size_t runEnd = pos;
                while (runEnd < all.size()) {
                    const std::size_t len = utf8CharLength(all, runEnd);
                    if (len == 0) break;
                    runEnd += len;
                }
                const auto split = [&](std::string_view run) {
                    PCRE2_SIZE offset = 0;
                    while (offset < run.size()) {
                        const int rc =
                            pcre2_match(regex.get(), reinterpret_cast<PCRE2_SPTR>(run.data()),
                                        run.size(), offset, PCRE2_NO_UTF_CHECK, matchData, nullptr);
                        if (rc == PCRE2_ERROR_NOMATCH) break;
                        if (rc < 0) {
                            PCRE2_UCHAR message[256];
                            pcre2_get_error_message(rc, message, sizeof(message));
                            fail(source, ": ByteLevel pattern failed at byte ", pos + offset, ": ",
                                 reinterpret_cast<const char*>(message));
                        }
                        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(matchData);
                        if (ovector[1] <= ovector[0]) break;  // the pattern never matches empty
                        emit(run.substr(ovector[0], ovector[1] - ovector[0]));
                        offset = ovector[1];
                    }
                };
                const std::string_view run = all.substr(pos, runEnd - pos);
                if (!digitRegex || run.empty()) {
                    split(run);
                } else {
                    // Digits(individual_digits) before ByteLevel: every numeric character
                    // (\p{N}, Rust's char::is_numeric) is a piece of its own.
                    std::size_t from = 0;
                    while (from < run.size()) {
                        const int rc = pcre2_match(digitRegex.get(), reinterpret_cast<PCRE2_SPTR>(run.data()),
                                                   run.size(), from, PCRE2_NO_UTF_CHECK, digitMatch, nullptr);
                        if (rc < 0) {
                            split(run.substr(from));
                            break;
                        }
                        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(digitMatch);
                        if (ovector[0] > from) split(run.substr(from, ovector[0] - from));
                        emit(run.substr(ovector[0], ovector[1] - ovector[0]));
                        from = ovector[1];
                    }
                }
                pos = runEnd;
                while (pos < all.size() && utf8CharLength(all, pos) == 0) {
                    const std::size_t len = utf8StepLength(all, pos);
                    emit(all.substr(pos, len));
                    pos += len;
                }
            }
            return;
        }
    }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool addSpecialTokens) const {
    const Impl& d = *m_impl;
    std::unique_ptr<pcre2_match_data, Pcre2MatchDataDeleter> matchData;
    if (d.regex) {
        matchData.reset(pcre2_match_data_create_from_pattern(d.regex.get(), nullptr));
        if (!matchData) fail(d.source, ": out of memory for regex match data");
    }
    std::unordered_map<std::string, std::vector<int32_t>> cache;
    std::vector<int32_t> body;
    body.reserve(text.size() / 3 + 4);
    const auto encodeWord = [&](std::string_view word) { d.encodeWord(word, cache, body); };
    for (const auto& segment : d.splitOnAddedTokens(text)) {
        if (segment.addedId >= 0) {
            body.push_back(segment.addedId);
        } else {
            d.splitSegment(segment, matchData.get(), encodeWord);
        }
    }
    if (!addSpecialTokens || !d.hasTemplate) return body;
    std::vector<int32_t> out;
    out.reserve(body.size() + 4);
    for (const auto& item : d.singleTemplate) {
        if (item.isSequence) {
            out.insert(out.end(), body.begin(), body.end());
        } else {
            out.insert(out.end(), item.ids.begin(), item.ids.end());
        }
    }
    return out;
}

void Tokenizer::preTokenize(std::string_view text,
                            const std::function<void(std::string_view)>& word) const {
    const Impl& d = *m_impl;
    std::unique_ptr<pcre2_match_data, Pcre2MatchDataDeleter> matchData;
    if (d.regex) {
        matchData.reset(pcre2_match_data_create_from_pattern(d.regex.get(), nullptr));
        if (!matchData) fail(d.source, ": out of memory for regex match data");
    }
    for (const auto& segment : d.splitOnAddedTokens(text)) {
        if (segment.addedId < 0) d.splitSegment(segment, matchData.get(), word);
    }
}

// ---- decoding -----------------------------------------------------------------------------------

namespace {

// "<0xNN>" -> NN, or -1.
int byteToken(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
    int value = 0;
    for (std::size_t i = 3; i < 5; ++i) {
        const char c = token[i];
        value *= 16;
        if (c >= '0' && c <= '9') {
            value += c - '0';
        } else if (c >= 'A' && c <= 'F') {
            value += c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return value;
}

std::string join(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
}

}  // namespace

std::vector<std::string> Tokenizer::Impl::runDecoders(std::vector<std::string> tokens) const {
    for (const auto& step : decoders) {
        switch (step.kind) {
            case DecoderStep::Kind::ByteLevel:
                tokens = {toValidUtf8(byteLevelToBytes(join(tokens)))};
                break;
            case DecoderStep::Kind::Replace:
                for (auto& t : tokens) replaceAll(t, step.from, step.to);
                break;
            case DecoderStep::Kind::Fuse: tokens = {join(tokens)}; break;
            case DecoderStep::Kind::Metaspace:
                for (std::size_t i = 0; i < tokens.size(); ++i) {
                    replaceAll(tokens[i], step.from, step.to);
                    if (i == 0 && step.stripFirstSpace && !tokens[i].empty() &&
                        tokens[i][0] == ' ') {
                        tokens[i].erase(0, 1);
                    }
                }
                break;
            case DecoderStep::Kind::Strip:
                for (auto& t : tokens) {
                    const std::size_t n = step.from.size();
                    for (int32_t k = 0; k < step.start && t.compare(0, n, step.from) == 0; ++k) {
                        t.erase(0, n);
                    }
                    for (int32_t k = 0; k < step.stop && t.size() >= n &&
                                        t.compare(t.size() - n, n, step.from) == 0;
                         ++k) {
                        t.erase(t.size() - n);
                    }
                }
                break;
            case DecoderStep::Kind::ByteFallback: {
                std::vector<std::string> out;
                std::string bytes;
                std::size_t byteCount = 0;
                const auto flush = [&] {
                    if (byteCount == 0) return;
                    if (isValidUtf8(bytes)) {
                        out.push_back(bytes);
                    } else {
                        for (std::size_t k = 0; k < byteCount; ++k) {
                            out.emplace_back(kReplacementChar);
                        }
                    }
                    bytes.clear();
                    byteCount = 0;
                };
                for (auto& t : tokens) {
                    const int b = byteToken(t);
                    if (b >= 0) {
                        bytes += static_cast<char>(b);
                        ++byteCount;
                    } else {
                        flush();
                        out.push_back(std::move(t));
                    }
                }
                flush();
                tokens = std::move(out);
                break;
            }
        }
    }
    return tokens;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skipSpecialTokens) const {
    const Impl& d = *m_impl;
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int32_t id : ids) {
        const auto added = d.addedById.find(id);
        if (added != d.addedById.end()) {
            const auto& token = d.addedTokens[added->second];
            if (!(skipSpecialTokens && token.special)) tokens.push_back(token.content);
            continue;
        }
        const std::string* token = d.model->idToToken(id);
        if (!token) {
            fail(d.source, ": cannot decode id ", id,
                 ": it is neither in the vocab nor an added "
                 "token (vocab size ",
                 vocabSize(), ")");
        }
        tokens.push_back(*token);
    }
    return toValidUtf8(join(d.runDecoders(std::move(tokens))));
}

// ---- queries ------------------------------------------------------------------------------------

int64_t Tokenizer::vocabSize() const {
    int64_t largest = m_impl->model->maxId();
    for (const auto& token : m_impl->addedTokens) largest = std::max<int64_t>(largest, token.id);
    return largest + 1;
}

std::optional<int32_t> Tokenizer::tokenToId(std::string_view token) const {
    const auto added = m_impl->addedByContent.find(std::string(token));
    if (added != m_impl->addedByContent.end()) return m_impl->addedTokens[added->second].id;
    return m_impl->model->tokenToId(token);
}

std::optional<std::string> Tokenizer::idToToken(int32_t id) const {
    const auto added = m_impl->addedById.find(id);
    if (added != m_impl->addedById.end()) return m_impl->addedTokens[added->second].content;
    if (const std::string* token = m_impl->model->idToToken(id)) return *token;
    return std::nullopt;
}

std::optional<int32_t> Tokenizer::bosId() const { return m_impl->bos; }
std::optional<int32_t> Tokenizer::eosId() const { return m_impl->eos; }
std::string Tokenizer::kind() const { return m_impl->kind; }

}  // namespace frugal::model
