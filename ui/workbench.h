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
// run's zo/forward_passes; one per step for runs without it) or wall time; runs of the same
// name (the seeds of one configuration) drawn as their mean at the steps they all have, or with
// EACHRUN one line each in the name's colour; exported by the file's suffix (.png .svg .pdf .csv).
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
