// frugal: command-line entry. Parses the command word and global flags, answers --help, logs the
// numeric runtime (with --verbose; its warnings always) and hands over to the command; errors end
// here as one message and a non-zero exit.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli_args.h"
#include "commands.h"
#include "common/error.h"
#include "common/runtime_info.h"
#include "usage.h"

namespace {

// The runtime line only with --verbose; the warnings always.
void logRuntime(bool verbose) {
    const frugal::RuntimeInfo info = frugal::queryRuntime();
    if (verbose) {
        spdlog::info("{}", frugal::runtimeLine(info));
        if (info.cudaAvailable) spdlog::info("CUDA is available");
    }
    if (info.referenceBlas)
        spdlog::warn(
            "LibTorch is running on the reference BLAS ({}), about 9x slower on matrix "
            "products; install libopenblas0-pthread (scripts/install-deps)",
            info.blasPath);
    const int cores = info.hardwareThreads;
    if (cores > 0 && (info.openblasThreads > cores || info.intraOpThreads > cores))
        spdlog::warn(
            "more threads than cores: {}{} intra-op thread(s) on {} cores; the pools busy-wait, so "
            "they oversubscribe the machine and slow down; give --threads and --intra-op-threads "
            "of at most {}",
            info.openblasThreads > 0 ? std::to_string(info.openblasThreads) + " OpenBLAS and " : std::string(),
            info.intraOpThreads, cores, cores);
}

// "unknown command 'X'", with the nearest command name when one is close; exit code 2.
int unknownCommand(const std::string& command) {
    const std::string nearest = frugal::app::nearestCommand(command);
    spdlog::error("unknown command '{}'{}; frugal --help lists the commands", command,
                  nearest.empty() ? "" : " (did you mean '" + nearest + "'?)");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    auto logger = spdlog::stderr_color_mt("frugal");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("[%H:%M:%S] [%^%l%$] %v");

    // Global flags come before the command word, so they never swallow a command's text.
    std::vector<std::string> args(argv + 1, argv + argc);
    int threads = 0, intraOpThreads = 1;
    bool quiet = false, verbose = false;
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
        } else if (flag == "--verbose" || flag == "-v") {
            verbose = true;
        } else if (flag == "--help" || flag == "-h") {
            frugal::app::printUsage(std::cout);
            return 0;
        } else {
            const std::string name =
                flag.substr(std::min(flag.find_first_not_of('-'), flag.size()));
            const std::string nearest = frugal::app::nearestWord(
                name, {"threads", "intra-op-threads", "quiet", "verbose", "help"}, 3);
            spdlog::error(
                "unknown option '{}'{}; global options, before the command: --threads N, "
                "--intra-op-threads M, --quiet, --verbose, --help",
                flag, nearest.empty() ? "" : " (did you mean '--" + nearest + "'?)");
            return 2;
        }
    }
    const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(at), args.end());
    if (quiet) spdlog::set_level(spdlog::level::warn);
    if (!rest.empty() && rest[0] == "help") {  // frugal help [COMMAND]
        if (rest.size() == 1) {
            frugal::app::printUsage(std::cout);
            return 0;
        }
        return frugal::app::printCommandUsage(rest[1], std::cout) ? 0 : unknownCommand(rest[1]);
    }
    const std::string command = rest.empty() ? "gui" : rest[0];
    const frugal::app::Args commandArgs(rest.empty() ? rest.end() : rest.begin() + 1, rest.end());
    if (!frugal::app::findCommand(command)) return unknownCommand(command);
    // COMMAND ... --help (or -h) anywhere: its usage, before any work (threads, runtime, models)
    for (const auto& a : commandArgs) {
        if (a == "--") break;  // what follows is an argument, not an option
        if (a == "--help" || a == "-h") {
            frugal::app::printCommandUsage(command, std::cout);
            return 0;
        }
    }
    try {
        frugal::keepLargeAllocationsInHeap();
        frugal::configureThreads(threads, intraOpThreads);
        logRuntime(verbose);
        frugal::app::setVerbose(verbose);
        if (command == "gui") return frugal::app::guiCommand(commandArgs, argc, argv);
        if (command == "screenshots") return frugal::app::screenshotsCommand(commandArgs, argc, argv);
        if (command == "inspect") return frugal::app::inspectCommand(commandArgs);
        if (command == "convert") return frugal::app::convertCommand(commandArgs);
        if (command == "params") return frugal::app::paramsCommand(commandArgs);
        if (command == "plot") return frugal::app::plotCommand(commandArgs, argc, argv);
        if (command == "tokenize") return frugal::app::tokenizeCommand(commandArgs);
        if (command == "bench") return frugal::app::benchCommand(commandArgs);
        if (command == "eval")
            return frugal::app::evalCommand(commandArgs, std::vector<std::string>(argv, argv + argc));
        if (command == "init-model") return frugal::app::initModelCommand(commandArgs);
        if (command == "pretrain")
            return frugal::app::pretrainCommand(commandArgs, std::vector<std::string>(argv, argv + argc));
        if (command == "train-tokenizer") return frugal::app::trainTokenizerCommand(commandArgs);
        if (command == "run")
            return frugal::app::runCommand(commandArgs, std::vector<std::string>(argv, argv + argc));
        if (command == "launch") return frugal::app::launchCommand(commandArgs);
        if (command == "prune")
            return frugal::app::pruneCommand(commandArgs, std::vector<std::string>(argv, argv + argc));
        if (command == "list") return frugal::app::listCommand(commandArgs);
        if (command == "show") return frugal::app::showCommand(commandArgs);
        if (command == "replay") return frugal::app::replayCommand(commandArgs);
        if (command == "landscape")
            return frugal::app::landscapeCommand(commandArgs, std::vector<std::string>(argv, argv + argc));
        if (command == "compare") return frugal::app::compareCommand(commandArgs);
        if (command == "export") return frugal::app::exportCommand(commandArgs);
        if (command == "rm") return frugal::app::rmCommand(commandArgs);
        if (command == "merge") return frugal::app::mergeCommand(commandArgs);
        return unknownCommand(command);  // in the usage table but not dispatched here
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 2;  // bad input: nothing ran (a run that fails returns 1 itself)
    }
}
