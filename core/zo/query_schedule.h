#pragma once
// How many random directions (queries) a ZO step averages: constant, or AdaZeta's sub-linearly
// growing schedule (SPEC-ZO §6.1): at data epoch e, Q_e = min(max(floor(alpha * e^beta), qMin),
// qMax), with beta chosen by default so that the curve reaches NUM at the last epoch:
// beta = ln(NUM / alpha) / ln(E_tot), E_tot = steps / (N_train / batch). No torch in this header.

#include <cstdint>
#include <string>

namespace frugal::zo {

class QuerySchedule {
public:
    static QuerySchedule constant(int64_t q);
    // BETA <= 0: derived from NUM and TOTALEPOCHS as above.
    static QuerySchedule adazeta(double alpha, double num, int64_t qMax, double totalEpochs,
                                 double beta = 0, int64_t qMin = 1);
    // Total data epochs of a run: steps / (examples / batch).
    static double epochsOf(int64_t steps, int64_t examples, int64_t batch);

    int64_t queriesAt(int64_t epoch) const;
    double beta() const { return m_beta; }
    std::string describe() const;

private:
    bool m_adaptive = false;
    int64_t m_q = 1, m_qMin = 1, m_qMax = 1;
    double m_alpha = 1, m_beta = 0;
};

}  // namespace frugal::zo
