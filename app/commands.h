#pragma once
// The headless commands of the `frugal` binary. Each takes its already-split arguments, prints
// its result to stdout and returns the process exit code; errors propagate as frugal::Error.

#include <string>
#include <vector>

namespace frugal::app {

using Args = std::vector<std::string>;

// --verbose (a global flag): runs also print their debug lines (the numeric runtime).
void setVerbose(bool on);
bool verbose();

int inspectCommand(const Args& args);
int convertCommand(const Args& args);
int paramsCommand(const Args& args);
int plotCommand(const Args& args, int argc, char** argv);
int tokenizeCommand(const Args& args);
int benchCommand(const Args& args);
int evalCommand(const Args& args, const std::vector<std::string>& argv);
int initModelCommand(const Args& args);
int pretrainCommand(const Args& args, const std::vector<std::string>& argv);
int trainTokenizerCommand(const Args& args);
// ARGV: the whole command line, recorded with the run.
int runCommand(const Args& args, const std::vector<std::string>& argv);
int launchCommand(const Args& args);
int pruneCommand(const Args& args, const std::vector<std::string>& argv);
int listCommand(const Args& args);
int showCommand(const Args& args);
int replayCommand(const Args& args);
int landscapeCommand(const Args& args, const std::vector<std::string>& argv);
int compareCommand(const Args& args);
int exportCommand(const Args& args);
int rmCommand(const Args& args);
int mergeCommand(const Args& args);
// The workbench (a display) or the default experiment headless (none); ARGC/ARGV for Qt.
int guiCommand(const Args& args, int argc, char** argv);
int screenshotsCommand(const Args& args, int argc, char** argv);

}  // namespace frugal::app
