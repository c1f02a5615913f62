#pragma once
// MetricChart's insides, shared by its painting (metric_chart.cpp) and its interaction
// (metric_chart_interaction.cpp): a line's stored and drawn points, the layout computed before
// any painting, the style a screen or a file is painted in. Not for other files.

#include <QColor>
#include <QFont>
#include <QList>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <utility>
#include <vector>

#include "metric_chart.h"
#include "series_math.h"

namespace frugal::ui {

struct MetricChart::Line {
    QString label;
    QColor color;
    bool visible = true;
    std::vector<double> step, wall, value, smooth;
    std::vector<double> xCache;  // x on the forward-pass axis, or offset steps
    bool cached = false;
    EmaSmoother smoother;
    std::vector<std::pair<double, double>> passes;
    double offset = 0;
    size_t nonFinite = 0, notPositive = 0;
    double firstNonFiniteStep = 0;
    QList<QPointF> drawnRaw, drawnSmooth;
    std::vector<double> bandLo, bandHi;  // a group's band at each point (empty: none)
    bool faint = false;                  // one run of a group, drawn under it; not in the legend
    bool held = false;                   // the last value drawn on to the right edge

    bool smoothed(double weight) const { return weight > 0 && value.size() - nonFinite > kDenseLine; }
};

// Where everything goes, computed before (and apart from) any painting: the plot, the ticks, the
// legend's entries, the metrics they were measured with.
struct MetricChart::Layout {
    QRectF rect, plot;
    std::vector<std::pair<QRectF, int>> legend;  // entry, line
    std::vector<QString> legendText;             // of each legend entry
    std::vector<AxisTick> xTicks, yTicks;
    QString title;
    double line = 0, pad = 0, titleHeight = 0;  // the label font's line height, the padding
};

struct MetricChart::Style {
    QFont title, label;
    double rawWidth = 1, lineWidth = 1.6, marker = 2.6;
    bool screen = true;  // hidden lines greyed in the legend (left out of a file), hover drawn
};

}  // namespace frugal::ui
