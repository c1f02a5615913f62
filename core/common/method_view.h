#pragma once
// What a method shows, Qt-free: its chart panels (which metric keys each draws, each key's palette
// slot, the annotations its charts carry), the vector panels it puts up front, its headline result
// and its presets. Each method writes its view beside its reader (zo/zo_method.cpp's zoView, ...);
// its registry row hands it to the workbench (live view, runs table, headless exports, the form's
// presets) and to `frugal list`, which never name a method's metric keys themselves.
// See docs/ARCHITECTURE.md, "The method contract".

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace frugal {

// A metric key a panel draws and the palette slot of its line (slots are indices into the
// workbench's palette; keys sharing a panel take distinct slots).
struct MetricLine {
    std::string key{};
    int slot = 0;
};

// Which metric keys a panel draws: the listed lines, keys under a prefix, and a generic class.
struct KeyMatch {
    enum class Class {
        None,
        Loss,        // train/loss and any ".../loss" that is not a system series
        Evaluation,  // accuracies, perplexities and held-out scores, not system or ZO series
    };
    std::vector<MetricLine> lines{};
    std::vector<std::string> prefixes{};
    Class kind = Class::None;

    bool matches(const std::string& key) const;
};

// One chart of a method's live view.
struct PanelView {
    std::string title{}, y{};
    KeyMatch match{};
    bool absolute = false;  // the magnitude |value| is drawn (the projected gradient, log axis)
    // Shown only when the run's config sets this key to something other than 0 or false
    // (a fine-tuning run's [live_landscape] panels), or with "KEY=VALUE" to VALUE (a ZO
    // scheme's panel); "" always.
    std::string whenSet{};
    // Hidden when the run's config sets this key (the panels the above replace).
    std::string unlessSet{};
    // An annotation: the steps where metric BAND is 1 are shaded on the step axis, labelled
    // BANDLABEL (SharpZO's CMA-ES stage).
    std::string band{}, bandLabel{};

    bool shownUnder(const std::map<std::string, std::string>& params) const;
};

// A part of a run's headline result (runs table, `frugal list`): LABEL then the latest value of
// KEY. KEY may hold one '*' path segment ("eval/*/accuracy"): every key it matches is a part, the
// segment replacing "{}" in LABEL.
struct ResultPart {
    enum class Format {
        Number,   // "dev 0.625"
        Percent,  // value x 100, then "%"
        Change,   // "FROM → KEY", FROM's value first where the run has it
    };
    std::string label{}, key{};
    bool headline = false;  // the first such part shown is the run's sortable value
    bool orElse = false;    // shown only when the part before it was not
    Format format = Format::Number;
    std::string from{};    // Change: the value before
    std::string suffix{};  // after the value ("% sparse")
};

// A preset: a committed config under experiments/, offered by the form. Lower ORDER first.
struct PresetView {
    std::string label{}, file{};
    int order = 100;
};

struct MethodView {
    std::vector<PanelView> panels{};
    // Vector series (a frame per step) put up front beside the charts, the first the run has;
    // each with a condition as PanelView::whenSet.
    struct Vector {
        std::string key{}, whenSet{};
    };
    std::vector<Vector> vectors{};
    std::vector<ResultPart> result{};
    std::vector<PresetView> presets{};

    // The panels and vector keys shown for a run whose flattened config is PARAMS.
    std::vector<PanelView> panelsUnder(const std::map<std::string, std::string>& params) const;
    std::vector<std::string> vectorsUnder(const std::map<std::string, std::string>& params) const;
};

// A run's headline result from its latest metric values: "dev 0.625 · loss 0.69", the value it
// sorts by (NaN when none), and the keys read. Every method falls back to its train loss.
struct ResultText {
    std::string text;
    double value = std::numeric_limits<double>::quiet_NaN();
    std::vector<std::string> keys;
};
ResultText resultText(const std::vector<ResultPart>& parts, const std::map<std::string, double>& latest);

// A value as the result shows it: 4 significant digits, "NaN", "inf".
std::string resultNumber(double v);

// The panels that every method's views share.
PanelView lossPanel();
PanelView evaluationPanel();
PanelView memoryPanel();
PanelView throughputPanel();

}  // namespace frugal
