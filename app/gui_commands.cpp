// The commands that open Qt: the workbench (or, without a display, the default experiment run
// headless with its figures written to a folder) and the screenshots of every view.

#include <cstdio>

#include "cli_args.h"
#include "commands.h"
#include "data/builtin.h"
#include "workbench.h"

namespace frugal::app {

int guiCommand(const Args& args, int argc, char** argv) {
    const Parsed p = parse(args, {"db", "plots", "config"}, {});
    if (ui::displayAvailable()) return ui::runWorkbench(argc, argv, p.get("db", ""));
    const std::string config = p.get(
        "config",
        (data::resourcesDir().parent_path() / "experiments/zo/mezo-full-sentiment.toml").string());
    const std::string plots = p.get("plots", "frugal-plots");
    std::printf(
        "frugal: no display ($DISPLAY and $WAYLAND_DISPLAY are unset), so no window: running %s "
        "headless; metrics go to the database, plots to %s/\n",
        config.c_str(), plots.c_str());
    std::fflush(stdout);
    return ui::runHeadless(argc, argv, config, p.get("db", ""), plots);
}

int screenshotsCommand(const Args& args, int argc, char** argv) {
    const Parsed p = parse(args, {"out"}, {});
    return ui::takeScreenshots(argc, argv, p.get("out", "docs/img"));
}

}  // namespace frugal::app
