#pragma once
// The workbench's entry points for app/main.cpp: the window, the headless default run for a
// machine without a display, and the screenshots of every view. No torch, no Qt in this header.

#include <string>
#include <vector>

#include "common/metric_keys.h"

namespace frugal::ui {

// Whether a window can open here: a display ($DISPLAY or $WAYLAND_DISPLAY), or a Qt platform
// chosen explicitly ($QT_QPA_PLATFORM).
bool displayAvailable();

// Opens the workbench on DBPATH (empty: the default database); returns the exit code.
int runWorkbench(int argc, char** argv, const std::string& dbPath);

// Runs CONFIG into DBPATH without a window (offscreen Qt for the figures), then writes the run's
// charts (PDF, SVG, PNG) and every raw series (CSV) into PLOTSDIR/run-<id>/. Returns the CLI's
// exit code for the run.
int runHeadless(int argc, char** argv, const std::string& config, const std::string& dbPath,
                const std::string& plotsDir);

// Short runs of the built-in model into a temporary database, then every view rendered offscreen
// at 1280x800 into OUTDIR (runs.png, new-experiment.png, live-run.png, compare.png,
// export-dialog.png, and a figure exported as a paper would take it).
int takeScreenshots(int argc, char** argv, const std::string& outDir);

// One figure of stored runs for a paper: METRIC of each run against steps, forward passes (the
// run's zo/forward_passes) or wall time; runs in groups (GROUP: "config", everything but the
// seed; "name"; "none"; or a config key) drawn as the group's CENTER with a BAND at the steps all
// its runs have, N in the legend, each run faint under it with EACHRUN (run_groups.h); exported
// by the file's suffix (.png .svg .pdf .csv, whose band_lo and band_hi columns hold the band).
// The request is checked by its caller (app/: runs given, X one of step, passes, wall); a run
// that is missing or lacks the metric throws frugal::Error naming it.
struct PlotRequest {
    std::string dbPath;
    std::vector<int64_t> runs;
    std::string metric = metrics::kDevLoss;
    // Set: a figure of this vector series instead (its last step), the runs side by side on one
    // colour scale (loss-landscape surfaces, per-layer sparsity); .png .svg .pdf.
    std::string vector;
    std::string x = "passes";  // step, passes, wall
    bool logX = false, logY = false;
    bool eachRun = false;
    std::string group = "config";  // config, name, none, or a config key
    std::string center = "mean";   // mean, median
    std::string band = "std";      // std, sem, ci95, minmax, none
    std::string title;
    std::string out;
    double widthMm = 160, heightMm = 100;
    int dpi = 200;
};
struct PlotResult {
    std::string error;  // the export's message (the file could not be written); empty: written
    size_t points = 0;  // points drawn
};
PlotResult plotRuns(int argc, char** argv, const PlotRequest& request);

}  // namespace frugal::ui
