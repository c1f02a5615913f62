#pragma once
// The usage texts of the `frugal` binary: one table of its commands (name, one-line summary, full
// usage), from which `frugal --help`, `frugal help [COMMAND]` and `frugal COMMAND --help` print.
// No torch in this header or its source.

#include <iostream>
#include <string>
#include <vector>

namespace frugal::app {

struct CommandUsage {
    std::string name;
    std::string summary;  // one line, for the command list of `frugal --help`
    std::string usage;    // the full text, starting "usage: frugal NAME"; ends with a newline
};

// Every command, in the order `frugal --help` lists them.
const std::vector<CommandUsage>& commandTable();
// The command of that name; nullptr if there is none.
const CommandUsage* findCommand(const std::string& name);
// The command name nearest to NAME by edit distance (at most 2, and less than NAME's length);
// empty if none is that close.
std::string nearestCommand(const std::string& name);

// The global usage: the global options, then one line per command with its summary.
void printUsage(std::ostream& out = std::cout);
// The full usage of COMMAND; false (nothing printed) if there is no such command.
bool printCommandUsage(const std::string& command, std::ostream& out = std::cout);

}  // namespace frugal::app
