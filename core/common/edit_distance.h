#pragma once
// Edit distance for "did you mean": the config readers' unknown keys, the command line's unknown
// options and commands, the run filter's unknown keys. Pure functions, no torch.

#include <algorithm>
#include <string>
#include <vector>

namespace frugal {

// Edits (insertions, deletions, substitutions, swaps of two neighbours) that turn A into B.
inline size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                                d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

// Up to COUNT candidates nearest to WORD, nearest first (ties in the candidates' order).
inline std::vector<std::string> nearestWords(const std::string& word,
                                             const std::vector<std::string>& candidates, size_t count) {
    std::vector<std::pair<size_t, size_t>> ranked;  // (distance, index)
    for (size_t i = 0; i < candidates.size(); ++i) ranked.emplace_back(editDistance(word, candidates[i]), i);
    std::stable_sort(ranked.begin(), ranked.end());
    std::vector<std::string> out;
    for (size_t i = 0; i < ranked.size() && out.size() < count; ++i) out.push_back(candidates[ranked[i].second]);
    return out;
}

}  // namespace frugal
