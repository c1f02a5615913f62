// The commands that open Qt: the workbench (or, without a display, the default experiment run
// headless with its figures written to a folder) and the screenshots of every view.

#include <cstdio>

#include <cctype>
#include <filesystem>

#include "cli_args.h"
#include "common/group_stats.h"
#include "commands.h"
#include "run/workspace.h"
#include "workbench.h"

namespace frugal::app {

int guiCommand(const Args& args, int argc, char** argv) {
    const Parsed p = parse(args, {"db", "plots", "config"}, {});
    if (ui::displayAvailable()) return ui::runWorkbench(argc, argv, p.get("db", ""));
    const std::string config =
        p.get("config", (run::experimentsDir() / "zo/mezo-full-smollm2-movie.toml").string());
    const std::string plots = p.get("plots", "frugal-plots");
    std::printf(
        "frugal: no display ($DISPLAY and $WAYLAND_DISPLAY are unset), so no window: running %s "
        "headless; metrics go to the database, plots to %s/\n",
        config.c_str(), plots.c_str());
    std::fflush(stdout);
    return ui::runHeadless(argc, argv, config, p.get("db", ""), plots);
}

int plotCommand(const Args& args, int argc, char** argv) {
    const Parsed p = parse(args, {"db", "metric", "vector", "x", "title", "out", "width-mm", "height-mm", "dpi",
                                  "group", "band", "center"},
                           {"log-x", "log-y", "each-run"});
    ui::PlotRequest r;
    r.dbPath = p.get("db", "");
    r.metric = p.get("metric", r.metric);
    r.vector = p.get("vector", "");
    if (!r.vector.empty() && p.has("metric")) fail("plot: --metric and --vector are two figures; give one");
    r.x = p.get("x", r.x);
    r.title = p.get("title", "");
    r.out = p.get("out", "");
    if (r.out.empty()) fail("plot needs --out FILE (.png, .svg, .pdf or .csv)");
    {
        std::string ext = std::filesystem::path(r.out).extension().string();
        for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (ext != ".png" && ext != ".svg" && ext != ".pdf" && ext != ".csv")
            fail("--out ", r.out, ": unknown format '", ext.empty() ? std::string("(no extension)") : ext,
                 "' (expected .png, .svg, .pdf or .csv)");
    }
    if (p.has("width-mm") || p.has("height-mm") || p.has("dpi")) {
        p.getCount("width-mm", 160, 10);
        p.getCount("height-mm", 100, 10);
        p.getCount("dpi", 200, 30);
    }
    r.logX = p.has("log-x");
    r.logY = p.has("log-y");
    r.eachRun = p.has("each-run");
    r.group = p.get("group", r.group);
    if (r.group.empty()) fail("--group: empty (expected config, name, none or a config key)");
    r.band = p.get("band", r.band);
    if (!stats::spreadNamed(r.band)) fail("--band: unknown band '", r.band, "' (expected std, sem, ci95, minmax or none)");
    r.center = p.get("center", r.center);
    if (!stats::centerNamed(r.center)) fail("--center: unknown centre '", r.center, "' (expected mean or median)");
    r.widthMm = static_cast<double>(p.getInt("width-mm", 160));
    r.heightMm = static_cast<double>(p.getInt("height-mm", 100));
    r.dpi = static_cast<int>(p.getInt("dpi", 200));
    for (const auto& id : p.positional) {
        try {
            r.runs.push_back(std::stoll(id));
        } catch (const std::exception&) {
            fail("plot: '", id, "' is not a run id");
        }
    }
    if (r.runs.empty()) fail("plot needs at least one RUN id");
    if (r.x != "step" && r.x != "passes" && r.x != "wall")
        fail("--x: unknown axis '", r.x, "' (expected step, passes or wall)");
    const ui::PlotResult result = ui::plotRuns(argc, argv, r);
    if (!result.error.empty()) {
        std::fprintf(stderr, "%s\n", result.error.c_str());
        return 1;
    }
    std::printf("wrote %s (%zu runs, %zu points)\n", r.out.c_str(), r.runs.size(), result.points);
    return 0;
}

int screenshotsCommand(const Args& args, int argc, char** argv) {
    const Parsed p = parse(args, {"out"}, {});
    return ui::takeScreenshots(argc, argv, p.get("out", "docs/img"));
}

}  // namespace frugal::app
