// frugal: command-line entry. Parses the command word and global flags, logs the numeric runtime,
// and hands over to the command; errors end here as one message and a non-zero exit.

#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "common/error.h"
#include "common/runtime_info.h"

namespace {

void logRuntime() {
    const frugal::RuntimeInfo info = frugal::queryRuntime();
    spdlog::info("LibTorch {}, BLAS: {} ({}), threads: {} intra-op, {} inter-op, {} OpenBLAS, {} cores",
                 info.torchVersion, info.blasKind,
                 info.blasPath.empty() ? "not found" : info.blasPath, info.intraOpThreads,
                 info.interOpThreads, info.openblasThreads, info.hardwareThreads);
    if (info.referenceBlas)
        spdlog::warn("LibTorch is running on the reference BLAS ({}), about 9x slower on matrix "
                     "products; install libopenblas0-pthread (scripts/install-deps)",
                     info.blasPath);
    if (info.cudaAvailable) spdlog::info("CUDA is available");
}

}  // namespace

int main(int argc, char** argv) {
    auto logger = spdlog::stderr_color_mt("frugal");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("[%H:%M:%S] [%^%l%$] %v");

    std::vector<std::string> args(argv + 1, argv + argc);
    int threads = 0, intraOpThreads = 1;
    bool quiet = false;
    std::vector<std::string> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--threads" && i + 1 < args.size()) {
            threads = std::atoi(args[++i].c_str());
        } else if (args[i] == "--intra-op-threads" && i + 1 < args.size()) {
            intraOpThreads = std::atoi(args[++i].c_str());
        } else if (args[i] == "--quiet" || args[i] == "-q") {
            quiet = true;
        } else {
            rest.push_back(args[i]);
        }
    }
    if (quiet) spdlog::set_level(spdlog::level::warn);
    if (rest.empty() || rest[0] == "help" || rest[0] == "--help" || rest[0] == "-h") {
        frugal::app::printUsage();
        return rest.empty() ? 1 : 0;
    }
    const std::string command = rest[0];
    const frugal::app::Args commandArgs(rest.begin() + 1, rest.end());
    try {
        frugal::configureThreads(threads, intraOpThreads);
        logRuntime();
        if (command == "inspect") return frugal::app::inspectCommand(commandArgs);
        if (command == "tokenize") return frugal::app::tokenizeCommand(commandArgs);
        if (command == "bench") return frugal::app::benchCommand(commandArgs);
        if (command == "init-model") return frugal::app::initModelCommand(commandArgs);
        spdlog::error("unknown command '{}'", command);
        frugal::app::printUsage();
        return 2;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
}
