// The commands that open Qt, in a binary built without the workbench (-DFRUGAL_GUI=OFF, or Qt 6 not
// found at configure time: a GPU server or a cluster node). Each says so and names what to use
// instead; the exit code is 2, as for any command this binary cannot run.

#include <cstdio>

#include "cli_args.h"
#include "commands.h"

namespace frugal::app {

namespace {

int withoutWorkbench(const char* command, const char* instead) {
    std::fprintf(stderr,
                 "frugal %s: this frugal was built without the workbench (Qt 6 was not found at "
                 "configure time, or -DFRUGAL_GUI=OFF); %s\n",
                 command, instead);
    return 2;
}

}  // namespace

int guiCommand(const Args&, int, char**) {
    return withoutWorkbench("gui",
                            "run experiments with `frugal run CONFIG` and open their database with "
                            "`frugal gui --db FILE` on a machine that has the workbench, or "
                            "`frugal show`/`frugal export` here");
}

int plotCommand(const Args&, int, char**) {
    return withoutWorkbench("plot",
                            "`frugal export RUN --csv DIR` writes the raw series, and `frugal plot` on a "
                            "machine with the workbench draws them");
}

int screenshotsCommand(const Args&, int, char**) {
    return withoutWorkbench("screenshots", "screenshots need a build with Qt 6 Widgets");
}

}  // namespace frugal::app
