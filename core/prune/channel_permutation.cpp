#include "prune/channel_permutation.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "common/error.h"
#include "data/corpus.h"

namespace frugal::prune {

namespace {

// The score as rows of doubles and the group sums that a swap changes.
class Groups {
public:
    Groups(const torch::Tensor& score, std::vector<int64_t> perm, int64_t n, int64_t m)
        : m_s(score.to(torch::kFloat64).contiguous()), m_rows(score.size(0)), m_cols(score.size(1)), m_n(n), m_m(m),
          m_perm(std::move(perm)) {
        m_kept.resize(static_cast<size_t>(m_cols / m_m));
        for (int64_t g = 0; g < m_cols / m_m; ++g) m_kept[static_cast<size_t>(g)] = groupKept(g);
    }

    // Σ over rows of the M − N largest of group G's scores (positions g·M .. g·M + M − 1).
    double groupKept(int64_t g) const {
        const double* s = m_s.data_ptr<double>();
        double total = 0;
        double v[64];
        for (int64_t i = 0; i < m_rows; ++i) {
            for (int64_t k = 0; k < m_m; ++k) v[k] = s[i * m_cols + m_perm[static_cast<size_t>(g * m_m + k)]];
            std::partial_sort(v, v + (m_m - m_n), v + m_m, std::greater<double>());
            for (int64_t k = 0; k < m_m - m_n; ++k) total += v[k];
        }
        return total;
    }

    double total() const { return std::accumulate(m_kept.begin(), m_kept.end(), 0.0); }

    // Swaps positions A and B (of different groups) where that raises the kept score.
    bool trySwap(int64_t a, int64_t b) {
        const int64_t ga = a / m_m, gb = b / m_m;
        const double before = m_kept[static_cast<size_t>(ga)] + m_kept[static_cast<size_t>(gb)];
        std::swap(m_perm[static_cast<size_t>(a)], m_perm[static_cast<size_t>(b)]);
        const double ka = groupKept(ga), kb = groupKept(gb);
        if (ka + kb > before) {
            m_kept[static_cast<size_t>(ga)] = ka;
            m_kept[static_cast<size_t>(gb)] = kb;
            return true;
        }
        std::swap(m_perm[static_cast<size_t>(a)], m_perm[static_cast<size_t>(b)]);
        return false;
    }

    const std::vector<int64_t>& perm() const { return m_perm; }

private:
    torch::Tensor m_s;
    int64_t m_rows, m_cols, m_n, m_m;
    std::vector<int64_t> m_perm;
    std::vector<double> m_kept;
};

void check(const torch::Tensor& score, int64_t n, int64_t m) {
    if (score.dim() != 2) fail("channel permutation: the score must be [C_out, C_in], got ", score.sizes());
    if (!(n > 0 && m > n && m <= 64)) fail("channel permutation: N:M needs 0 < N < M <= 64, got ", n, ":", m);
    if (score.size(1) % m != 0)
        fail("channel permutation: ", score.size(1), " input channels are not a whole number of groups of ", m);
}

}  // namespace

double keptScore(const torch::Tensor& score, const std::vector<int64_t>& perm, int64_t n, int64_t m) {
    check(score, n, m);
    return Groups(score, perm, n, m).total();
}

PermutationResult permuteForNM(const torch::Tensor& score, int64_t n, int64_t m, int64_t rounds,
                               int64_t candidates, uint64_t seed) {
    check(score, n, m);
    const int64_t cols = score.size(1), groups = cols / m;
    std::vector<int64_t> identity(static_cast<size_t>(cols));
    std::iota(identity.begin(), identity.end(), 0);
    // RIA's start: the columns by total score, highest first, dealt to groups 0..G−1, then back
    // G−1..0, and so on, so that every group gets strong and weak channels alike
    const torch::Tensor totals = score.to(torch::kFloat64).sum(0).contiguous();
    const double* t = totals.data_ptr<double>();
    std::vector<int64_t> byTotal = identity;
    std::stable_sort(byTotal.begin(), byTotal.end(), [&](int64_t a, int64_t b) { return t[a] > t[b]; });
    std::vector<int64_t> dealt(static_cast<size_t>(cols));
    for (int64_t k = 0; k < cols; ++k) {
        const int64_t pass = k / groups, r = k % groups;
        const int64_t g = pass % 2 == 0 ? r : groups - 1 - r;
        dealt[static_cast<size_t>(g * m + pass)] = byTotal[static_cast<size_t>(k)];
    }
    PermutationResult out;
    out.identityKept = Groups(score, identity, n, m).total();
    Groups best(score, Groups(score, dealt, n, m).total() > out.identityKept ? dealt : identity, n, m);
    std::mt19937_64 rng(seed);
    for (int64_t round = 0; round < rounds && groups > 1; ++round)
        for (int64_t a = 0; a < cols; ++a)
            for (int64_t c = 0; c < candidates; ++c) {
                const auto b = static_cast<int64_t>(data::uniformBelow(rng, static_cast<uint64_t>(cols)));
                if (b / m != a / m) best.trySwap(a, b);
            }
    out.perm = best.perm();
    out.kept = best.total();
    return out;
}

}  // namespace frugal::prune
