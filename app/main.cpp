// frugal: command-line entry. Parses the command word and global flags, logs the numeric runtime,
// and hands over to the command; errors end here as one message and a non-zero exit.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "common/error.h"
#include "common/runtime_info.h"

namespace {

void logRuntime() {
    const frugal::RuntimeInfo info = frugal::queryRuntime();
    spdlog::info(
        "LibTorch {}, BLAS: {} ({}), threads: {} intra-op, {} inter-op, {} OpenBLAS, {} cores",
        info.torchVersion, info.blasKind, info.blasPath.empty() ? "not found" : info.blasPath,
        info.intraOpThreads, info.interOpThreads, info.openblasThreads, info.hardwareThreads);
    if (info.referenceBlas)
        spdlog::warn(
            "LibTorch is running on the reference BLAS ({}), about 9x slower on matrix "
            "products; install libopenblas0-pthread (scripts/install-deps)",
            info.blasPath);
    if (info.cudaAvailable) spdlog::info("CUDA is available");
}

}  // namespace

int main(int argc, char** argv) {
    auto logger = spdlog::stderr_color_mt("frugal");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("[%H:%M:%S] [%^%l%$] %v");

    // Global flags come before the command word, so they never swallow a command's text.
    std::vector<std::string> args(argv + 1, argv + argc);
    int threads = 0, intraOpThreads = 1;
    bool quiet = false;
    size_t at = 0;
    auto count = [&](const std::string& flag) {
        if (at + 1 >= args.size()) return -1;
        const std::string& text = args[++at];
        char* end = nullptr;
        const long value = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || value < 1 || value > 1024) {
            spdlog::error("{} expects a thread count from 1 to 1024, got '{}'", flag, text);
            return -1;
        }
        return static_cast<int>(value);
    };
    for (; at < args.size() && args[at].rfind("-", 0) == 0; ++at) {
        const std::string& flag = args[at];
        if (flag == "--threads") {
            if ((threads = count(flag)) < 0) return 2;
        } else if (flag == "--intra-op-threads") {
            if ((intraOpThreads = count(flag)) < 0) return 2;
        } else if (flag == "--quiet" || flag == "-q") {
            quiet = true;
        } else if (flag == "--help" || flag == "-h") {
            frugal::app::printUsage();
            return 0;
        } else {
            spdlog::error("unknown option '{}' (global options come before the command)", flag);
            return 2;
        }
    }
    const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(at), args.end());
    if (quiet) spdlog::set_level(spdlog::level::warn);
    if (!rest.empty() && rest[0] == "help") {
        frugal::app::printUsage();
        return 0;
    }
    const std::string command = rest.empty() ? "gui" : rest[0];
    const frugal::app::Args commandArgs(rest.empty() ? rest.end() : rest.begin() + 1, rest.end());
    try {
        frugal::configureThreads(threads, intraOpThreads);
        logRuntime();
        if (command == "gui") return frugal::app::guiCommand(commandArgs, argc, argv);
        if (command == "screenshots") return frugal::app::screenshotsCommand(commandArgs, argc, argv);
        if (command == "inspect") return frugal::app::inspectCommand(commandArgs);
        if (command == "params") return frugal::app::paramsCommand(commandArgs);
        if (command == "plot") return frugal::app::plotCommand(commandArgs, argc, argv);
        if (command == "tokenize") return frugal::app::tokenizeCommand(commandArgs);
        if (command == "bench") return frugal::app::benchCommand(commandArgs);
        if (command == "eval") return frugal::app::evalCommand(commandArgs);
        if (command == "init-model") return frugal::app::initModelCommand(commandArgs);
        if (command == "pretrain") return frugal::app::pretrainCommand(commandArgs);
        if (command == "train-tokenizer") return frugal::app::trainTokenizerCommand(commandArgs);
        if (command == "run")
            return frugal::app::runCommand(commandArgs, std::vector<std::string>(argv, argv + argc));
        if (command == "prune")
            return frugal::app::pruneCommand(commandArgs, std::vector<std::string>(argv, argv + argc));
        if (command == "list") return frugal::app::listCommand(commandArgs);
        if (command == "show") return frugal::app::showCommand(commandArgs);
        if (command == "replay") return frugal::app::replayCommand(commandArgs);
        if (command == "compare") return frugal::app::compareCommand(commandArgs);
        if (command == "export") return frugal::app::exportCommand(commandArgs);
        if (command == "rm") return frugal::app::rmCommand(commandArgs);
        if (command == "merge") return frugal::app::mergeCommand(commandArgs);
        spdlog::error("unknown command '{}'", command);
        frugal::app::printUsage();
        return 2;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 2;  // bad input: nothing ran (a run that fails returns 1 itself)
    }
}
