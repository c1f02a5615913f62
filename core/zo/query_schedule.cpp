#include "zo/query_schedule.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace frugal::zo {

QuerySchedule QuerySchedule::constant(int64_t q) {
    if (q < 1) fail("query schedule: q is ", q, ", expected at least 1");
    QuerySchedule s;
    s.m_q = s.m_qMin = s.m_qMax = q;
    return s;
}

double QuerySchedule::epochsOf(int64_t steps, int64_t examples, int64_t batch) {
    if (steps < 1 || examples < 1 || batch < 1)
        fail("query schedule: steps, examples and batch must be positive (", steps, ", ", examples,
             ", ", batch, ")");
    return static_cast<double>(steps) / (static_cast<double>(examples) / static_cast<double>(batch));
}

QuerySchedule QuerySchedule::adazeta(double alpha, double num, int64_t qMax, double totalEpochs,
                                     double beta, int64_t qMin) {
    if (!(alpha > 0)) fail("AdaZeta schedule: alpha is ", alpha, ", expected > 0");
    if (qMin < 1 || qMax < qMin)
        fail("AdaZeta schedule: q_min ", qMin, " and q_max ", qMax, " need 1 <= q_min <= q_max");
    QuerySchedule s;
    s.m_adaptive = true;
    s.m_alpha = alpha;
    s.m_qMin = qMin;
    s.m_qMax = qMax;
    if (beta > 0) {
        s.m_beta = beta;
    } else {
        if (!(num > alpha))
            fail("AdaZeta schedule: num (", num, ") must exceed alpha (", alpha, ") to derive beta");
        if (!(totalEpochs > 1))
            fail("AdaZeta schedule: the run covers ", totalEpochs,
                 " data epochs; deriving beta needs more than one (or give beta)");
        s.m_beta = std::log(num / alpha) / std::log(totalEpochs);
    }
    return s;
}

int64_t QuerySchedule::queriesAt(int64_t epoch) const {
    if (!m_adaptive) return m_q;
    if (epoch < 0) fail("query schedule: negative epoch ", epoch);
    const double raw = std::floor(m_alpha * std::pow(static_cast<double>(epoch), m_beta));
    return std::clamp<int64_t>(static_cast<int64_t>(raw), m_qMin, m_qMax);
}

std::string QuerySchedule::describe() const {
    if (!m_adaptive) return cat("constant q = ", m_q);
    return cat("AdaZeta Q_e = min(max(floor(", m_alpha, " * e^", m_beta, "), ", m_qMin, "), ", m_qMax,
               ")");
}

}  // namespace frugal::zo
