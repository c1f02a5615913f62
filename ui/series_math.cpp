#include "series_math.h"

#include <algorithm>
#include <cmath>

namespace frugal::ui {

void EmaSmoother::reset(double weight) {
    m_weight = std::isfinite(weight) ? std::clamp(weight, 0.0, 1.0) : 0.0;
    m_last = 0;
    m_weightPower = 1;
    m_first = 0;
    m_done = 0;
    m_constant = true;
}

void EmaSmoother::extend(const std::vector<double>& y, std::vector<double>& out) {
    for (size_t i = m_done; i < y.size(); ++i) {
        const double v = y[i];
        if (i == 0) m_first = v;
        // Once the series stops being constant, the values kept unchanged so far stand as they
        // are (TensorBoard decides on the whole series; a live series can only decide so far).
        m_constant = m_constant && (v == m_first || (std::isnan(v) && std::isnan(m_first)));
        if (!std::isfinite(v)) {
            out.push_back(v);
            continue;
        }
        m_last = m_last * m_weight + (1.0 - m_weight) * v;
        m_weightPower *= m_weight;
        out.push_back(m_constant ? v : m_last / (m_weight == 1.0 ? 1.0 : 1.0 - m_weightPower));
    }
    m_done = y.size();
}

std::vector<double> smoothEma(const std::vector<double>& y, double weight) {
    std::vector<double> out;
    out.reserve(y.size());
    EmaSmoother smoother(weight);
    smoother.extend(y, out);
    return out;
}

QList<QPointF> decimate(const double* x, const double* y, size_t n, double x0, double x1,
                        int columns, bool logX, bool logY, SkippedPoints* skipped) {
    QList<QPointF> out;
    if (n == 0 || columns < 1 || !(x1 >= x0)) return out;
    const auto usable = [&](size_t i) {
        if (!std::isfinite(y[i])) {
            if (skipped) ++skipped->nonFinite;
            return false;
        }
        if ((logY && y[i] <= 0) || (logX && x[i] <= 0)) {
            if (skipped) ++skipped->notPositive;
            return false;
        }
        return true;
    };
    const auto fx = [logX](double v) { return logX ? std::log10(v) : v; };
    const double lo = fx(logX ? std::max(x0, 1e-300) : x0);
    const double hi = fx(logX ? std::max(x1, 1e-300) : x1);
    const double scale = hi > lo ? columns / (hi - lo) : 0;
    const size_t begin = static_cast<size_t>(std::lower_bound(x, x + n, x0) - x);
    const size_t end = static_cast<size_t>(std::upper_bound(x, x + n, x1) - x);
    // on a log x axis the points at x <= 0 (step 0) lie left of any range: counted, not dropped
    // silently (those inside the range are counted as they are met)
    if (logX && skipped) skipped->notPositive += std::min(begin, static_cast<size_t>(std::upper_bound(x, x + n, 0.0) - x));
    out.reserve(static_cast<qsizetype>(
        std::min<size_t>(end - begin, 4 * static_cast<size_t>(columns)) + 2));

    // the nearest usable point left of the range
    for (size_t i = begin; i-- > 0;)
        if (std::isfinite(y[i]) && !(logY && y[i] <= 0) && !(logX && x[i] <= 0)) {
            out.append(QPointF(x[i], y[i]));
            break;
        }
    long column = -1;
    size_t first = 0, last = 0, low = 0, high = 0;
    bool open = false;
    const auto flush = [&] {
        if (!open) return;
        size_t picks[4] = {first, low, high, last};
        std::sort(picks, picks + 4);
        for (int k = 0; k < 4; ++k)
            if (k == 0 || picks[k] != picks[k - 1]) out.append(QPointF(x[picks[k]], y[picks[k]]));
        open = false;
    };
    for (size_t i = begin; i < end; ++i) {
        if (!usable(i)) continue;
        const long c = std::min<long>(columns - 1, static_cast<long>((fx(x[i]) - lo) * scale));
        if (!open || c != column) {
            flush();
            column = c;
            first = last = low = high = i;
            open = true;
            continue;
        }
        last = i;
        if (y[i] < y[low]) low = i;
        if (y[i] > y[high]) high = i;
    }
    flush();
    // the nearest usable point right of the range
    for (size_t i = end; i < n; ++i)
        if (std::isfinite(y[i]) && !(logY && y[i] <= 0) && !(logX && x[i] <= 0)) {
            out.append(QPointF(x[i], y[i]));
            break;
        }
    return out;
}

}  // namespace frugal::ui
