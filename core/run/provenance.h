#pragma once
// What every run records so that it can be reproduced (DESIGN.md): the git commit of the source
// tree and whether it had uncommitted changes, library versions, hardware, and the command line.
// No torch in this header.

#include <map>
#include <string>
#include <vector>

namespace frugal::run {

struct Provenance {
    std::string gitCommit;  // empty outside a git work tree
    bool gitDirty = false;
    std::string libraries;  // JSON object
    std::string hardware;   // JSON object
    std::string commandLine;
};

// SOURCEDIR: the work tree to ask git about (the repository the binary was built from).
Provenance collectProvenance(const std::vector<std::string>& argv, const std::string& sourceDir);

// The device a run's flattened config names (its method table's `device` key; "cpu" without).
std::string runDevice(const std::map<std::string, std::string>& params);
// HARDWARE (a JSON object) with the run's DEVICE: "device", and on CUDA the GPU's name, memory,
// compute capability and the CUDA driver's and runtime's versions.
std::string withDevice(const std::string& hardware, const std::string& device);

}  // namespace frugal::run
