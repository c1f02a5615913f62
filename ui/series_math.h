#pragma once
// The arithmetic behind every chart, kept pure so that tests can check it: TensorBoard's debiased
// EMA smoothing and min/max-per-pixel-column decimation (M4) that never loses a spike. No Qt
// widgets, no torch.

#include <QList>
#include <QPointF>
#include <cstddef>
#include <vector>

namespace frugal::ui {

// TensorBoard's "classic" smoothing (tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts):
// last = w*last + (1-w)*y; out = last / (1 - w^n), n counting finite values only; non-finite values
// pass through unchanged and do not advance n; a constant series is returned unchanged; WEIGHT is
// clamped to [0, 1] (NaN: 0). Extending a series continues where the last call stopped, so a live
// chart smooths each new point once.
class EmaSmoother {
public:
    explicit EmaSmoother(double weight = 0) { reset(weight); }
    void reset(double weight);
    double weight() const { return m_weight; }
    // Appends the smoothed values of Y[done(), size) to OUT (OUT holds done() values before).
    void extend(const std::vector<double>& y, std::vector<double>& out);
    size_t done() const { return m_done; }

private:
    double m_weight = 0, m_last = 0, m_weightPower = 1, m_first = 0;
    size_t m_done = 0;
    bool m_constant = true;
};
std::vector<double> smoothEma(const std::vector<double>& y, double weight);

// What decimate() skipped, so the chart can say so (NaN is reported, never silently dropped).
struct SkippedPoints {
    size_t nonFinite = 0;    // NaN or infinite y
    size_t notPositive = 0;  // y <= 0 (or x <= 0) on a log axis
};

// The points of (X, Y) to draw over [X0, X1] in COLUMNS pixel columns: for each column the first,
// the lowest, the highest and the last point, in x order (M4), so that the rasterised line equals
// the full one; plus the nearest point on each side of the range so the line reaches the edges.
// X ascending. LOGX/LOGY: columns are spaced in log10 x, and points with x <= 0 or y <= 0 are
// skipped (counted in SKIPPED). At most 4 * COLUMNS + 2 points.
QList<QPointF> decimate(const double* x, const double* y, size_t n, double x0, double x1,
                        int columns, bool logX = false, bool logY = false,
                        SkippedPoints* skipped = nullptr);

}  // namespace frugal::ui
