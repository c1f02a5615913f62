#pragma once
// The ticks of a chart's axes, shared by MetricChart and VectorPlot: values at 1, 2 or 5 times a
// power of ten, labelled with as many digits as tell them apart; log axes by decades.

#include <QString>
#include <vector>

namespace frugal::ui {

// A tick of an axis: its value and label (empty: a minor tick, grid line only).
struct AxisTick {
    double value = 0;
    QString label;
};
// Ticks over [LO, HI] at 1, 2 or 5 times a power of ten, about TARGET of them, labelled with as
// many digits as tell them apart.
std::vector<AxisTick> linearTicks(double lo, double hi, int target = 6);
// Ticks of a log axis over [LO, HI] (LO > 0): labelled decades; over less than about two decades
// also 2 and 5 times them; within one decade, linear ticks. Unlabelled minor ticks in between.
std::vector<AxisTick> logTicks(double lo, double hi);
// [LO, HI] grown to round ends (1, 2 or 5 times a power of ten apart, about TICKS of them).
void niceRange(double& lo, double& hi, int ticks);
// V within [LO, HI], up to rounding (a tick at an end is inside).
bool insideRange(double v, double lo, double hi);

}  // namespace frugal::ui
