#include "model/bpe_model.h"

#include <cstdio>
#include <functional>
#include <queue>

#include "common/error.h"
#include "model/utf8.h"

namespace frugal::model {

BpeModel::BpeModel(std::unordered_map<std::string, int32_t> vocab, const std::vector<Merge>& merges,
                   BpeOptions options, const std::string& source, const std::string& mergesKey)
    : m_vocab(std::move(vocab)), m_options(std::move(options)) {
    m_idToToken.reserve(m_vocab.size());
    for (const auto& [token, id] : m_vocab) {
        if (id < 0) fail(source, ": token '", token, "' has negative id ", id, ", expected >= 0");
        const auto [it, inserted] = m_idToToken.emplace(id, token);
        if (!inserted) {
            fail(source, ": id ", id, " is used by both '", it->second, "' and '", token,
                 "'; vocab ids must be unique");
        }
        if (id > m_maxId) m_maxId = id;
    }
    m_merges.reserve(merges.size());
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const std::string& left = merges[rank].first;
        const std::string& right = merges[rank].second;
        const auto leftId = tokenToId(left);
        const auto rightId = tokenToId(right);
        const auto mergedId = tokenToId(left + right);
        const auto where = [&] {
            return cat(source, ": ", mergesKey, " ", rank, " ('", left, " ", right, "')");
        };
        if (!leftId) fail(where(), " names '", left, "', which is not in the vocab");
        if (!rightId) fail(where(), " names '", right, "', which is not in the vocab");
        if (!mergedId) fail(where(), ": the merged token '", left, right, "' is not in the vocab");
        // A repeated pair keeps its last rank, as in Hugging Face tokenizers.
        m_merges[pairKey(*leftId, *rightId)] = {static_cast<int32_t>(rank), *mergedId};
    }
    if (m_options.unkToken) {
        m_unkId = tokenToId(*m_options.unkToken);
        if (!m_unkId) {
            fail(source, ": model.unk_token '", *m_options.unkToken, "' is not in the vocab");
        }
    }
    m_byteIds.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        if (const auto id = tokenToId(name)) m_byteIds[static_cast<std::size_t>(b)] = *id;
    }
}

std::optional<int32_t> BpeModel::tokenToId(std::string_view token) const {
    const auto it = m_vocab.find(std::string(token));
    if (it == m_vocab.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::idToToken(int32_t id) const {
    const auto it = m_idToToken.find(id);
    return it == m_idToToken.end() ? nullptr : &it->second;
}

void BpeModel::encodeWord(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (m_options.ignoreMerges) {
        if (const auto id = tokenToId(word)) {
            out.push_back(*id);
            return;
        }
    }
    // Initial symbols: one per character, or its byte pieces, or unk.
    std::vector<int32_t> ids;
    ids.reserve(word.size());
    bool lastWasUnk = false;
    for (std::size_t pos = 0; pos < word.size();) {
        const std::size_t len = utf8StepLength(word, pos);
        const std::string_view ch = word.substr(pos, len);
        pos += len;
        if (const auto id = tokenToId(ch)) {
            ids.push_back(*id);
            lastWasUnk = false;
            continue;
        }
        if (m_options.byteFallback) {
            bool allBytes = true;
            for (const char c : ch)
                allBytes = allBytes && m_byteIds[static_cast<unsigned char>(c)] >= 0;
            if (allBytes) {
                for (const char c : ch) ids.push_back(m_byteIds[static_cast<unsigned char>(c)]);
                lastWasUnk = false;
                continue;
            }
        }
        if (m_unkId) {
            if (!(m_options.fuseUnk && lastWasUnk)) ids.push_back(*m_unkId);
            lastWasUnk = true;
        }
        // Without unk_token the character is dropped, as Hugging Face tokenizers does.
    }
    if (ids.empty()) return;

    // Doubly linked list over the symbols plus a min-heap of candidate merges keyed by
    // (rank, position of the left symbol): O(n log n) for a word of n symbols.
    const auto n = static_cast<int32_t>(ids.size());
    std::vector<int32_t> prev(ids.size());
    std::vector<int32_t> next(ids.size());
    for (int32_t i = 0; i < n; ++i) {
        prev[static_cast<std::size_t>(i)] = i - 1;
        next[static_cast<std::size_t>(i)] = i + 1 < n ? i + 1 : -1;
    }
    struct Candidate {
        int32_t rank;
        int32_t pos;
        int32_t left;
        int32_t right;
        bool operator>(const Candidate& o) const {
            return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    const auto consider = [&](int32_t pos) {
        if (pos < 0) return;
        const int32_t right = next[static_cast<std::size_t>(pos)];
        if (right < 0) return;
        const int32_t a = ids[static_cast<std::size_t>(pos)];
        const int32_t b = ids[static_cast<std::size_t>(right)];
        const auto it = m_merges.find(pairKey(a, b));
        if (it != m_merges.end()) heap.push({it->second.rank, pos, a, b});
    };
    for (int32_t i = 0; i + 1 < n; ++i) consider(i);
    std::vector<bool> alive(ids.size(), true);
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        const auto pos = static_cast<std::size_t>(c.pos);
        if (!alive[pos] || ids[pos] != c.left) continue;
        const int32_t right = next[pos];
        if (right < 0 || ids[static_cast<std::size_t>(right)] != c.right) continue;
        ids[pos] = m_merges.at(pairKey(c.left, c.right)).id;
        alive[static_cast<std::size_t>(right)] = false;
        const int32_t after = next[static_cast<std::size_t>(right)];
        next[pos] = after;
        if (after >= 0) prev[static_cast<std::size_t>(after)] = c.pos;
        consider(prev[pos]);
        consider(c.pos);
    }
    for (int32_t i = 0; i >= 0; i = next[static_cast<std::size_t>(i)]) {
        out.push_back(ids[static_cast<std::size_t>(i)]);
    }
}

}  // namespace frugal::model
