// frugal launch -n N COMMAND ...: N local processes of this program on loopback, each with the
// torchrun variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), their output
// forwarded line by line with a rank prefix. A signal to the launcher goes to every process; when
// one process fails, the others are given the distributed timeout to end by themselves (they name
// the failed rank), then stopped.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cli_args.h"
#include "commands.h"
#include "common/error.h"
#include "common/format.h"

namespace frugal::app {

namespace {

std::atomic<int> g_forward{0};  // a signal the launcher received, to pass on

extern "C" void onLaunchSignal(int signal) { g_forward = signal; }

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick), for the store.
int freePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("launch: cannot open a socket to find a free port");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        close(fd);
        fail("launch: cannot bind a socket on 127.0.0.1 to find a free port");
    }
    const int port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

// The GPUs this launch was given (CUDA_VISIBLE_DEVICES, comma-separated), empty when unset.
std::vector<std::string> givenGpus() {
    std::vector<std::string> out;
    const char* v = std::getenv("CUDA_VISIBLE_DEVICES");
    if (!v) return out;
    std::string item;
    for (const char* c = v;; ++c) {
        if (*c == ',' || *c == '\0') {
            if (!item.empty()) out.push_back(item);
            item.clear();
            if (*c == '\0') break;
        } else if (*c != ' ') {
            item += *c;
        }
    }
    return out;
}

// Rank R's CUDA_VISIBLE_DEVICES: the R-th given GPU, or "R" when none were named; "" (left as
// it is) when fewer were given than ranks, so that a CUDA run says which rank has no GPU.
std::string gpuOfRank(const std::optional<std::vector<std::string>>& given, int r) {
    if (!given) return std::to_string(r);
    return r < static_cast<int>(given->size()) ? (*given)[static_cast<size_t>(r)] : "";
}

struct Worker {
    int rank = 0;
    pid_t pid = -1;
    int out = -1, err = -1;  // read ends of its stdout and stderr
    std::string outLine, errLine;
    bool running = true;
    int exitCode = 0;
};

// Writes every complete line of BUF to FILE with the rank's prefix; keeps the rest.
void forwardLines(std::string& buf, FILE* file, int rank, bool flushAll) {
    size_t start = 0;
    for (size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1)
        std::fprintf(file, "[%d] %.*s\n", rank, static_cast<int>(nl - start), buf.data() + start);
    buf.erase(0, start);
    if (flushAll && !buf.empty()) {
        std::fprintf(file, "[%d] %s\n", rank, buf.c_str());
        buf.clear();
    }
    std::fflush(file);
}

}  // namespace

int launchCommand(const Args& args) {
    // the launcher's options come first; from the first other word on, the command and its own
    size_t at = 0;
    for (; at < args.size() && args[at].rfind("-", 0) == 0; at += 2)
        if (at + 1 >= args.size()) fail("launch: ", args[at], " needs a value");
    const Args own(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(at));
    Args options;
    for (const auto& a : own) options.push_back(a == "-n" ? "--n" : a);
    Parsed p = parse(options, {"n", "nproc", "port", "timeout", "threads"}, {});
    p.positional.assign(args.begin() + static_cast<std::ptrdiff_t>(at), args.end());
    const int64_t n = p.getInt("n", p.getInt("nproc", 0));
    if (n < 1 || n > 64) fail("launch: -n expects the number of processes, 1 to 64");
    if (p.positional.empty()) fail("launch: expected a command after the options, e.g. launch -n 2 run CONFIG.toml");
    if (p.positional[0] != "run")
        fail("launch: '", p.positional[0], "' does not run data parallel; launch starts `run CONFIG.toml ...` (zo, mezo, "
             "landscape)");
    const int port = static_cast<int>(p.getInt("port", 0));
    const std::string timeout = p.get("timeout", "");
    if (!timeout.empty()) {
        char* end = nullptr;
        if (!(std::strtod(timeout.c_str(), &end) > 0) || *end != '\0')
            fail("launch: --timeout expects seconds, more than 0; got '", timeout, "'");
    }
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int64_t threads = p.getInt("threads", std::max<int64_t>(1, static_cast<int64_t>(cores) / n));
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const int masterPort = port > 0 ? port : freePort();
    double timeoutSeconds = 300;
    if (!timeout.empty()) timeoutSeconds = std::strtod(timeout.c_str(), nullptr);
    else if (const char* t = std::getenv("FRUGAL_DIST_TIMEOUT"); t && *t) timeoutSeconds = std::strtod(t, nullptr);

    std::signal(SIGINT, onLaunchSignal);
    std::signal(SIGTERM, onLaunchSignal);
    std::fprintf(stderr, "launch: %lld processes on 127.0.0.1:%d, %lld thread(s) each\n", static_cast<long long>(n),
                 masterPort, static_cast<long long>(threads));
    std::vector<Worker> workers(static_cast<size_t>(n));
    const auto abandon = [&](int started, const std::string& why) {  // stop and reap what was started
        for (int k = 0; k < started; ++k) {
            kill(workers[static_cast<size_t>(k)].pid, SIGKILL);
            waitpid(workers[static_cast<size_t>(k)].pid, nullptr, 0);
        }
        fail("launch: ", why);
    };
    std::optional<std::vector<std::string>> visibleGpus;
    if (std::getenv("CUDA_VISIBLE_DEVICES")) visibleGpus = givenGpus();
    for (int r = 0; r < n; ++r) {
        int outPipe[2], errPipe[2];
        // close-on-exec: a later worker must not hold an earlier one's pipes open
        if (pipe2(outPipe, O_CLOEXEC) != 0) abandon(r, cat("cannot create pipes for rank ", r));
        if (pipe2(errPipe, O_CLOEXEC) != 0) {
            close(outPipe[0]), close(outPipe[1]);
            abandon(r, cat("cannot create pipes for rank ", r));
        }
        const pid_t pid = fork();
        if (pid < 0) {
            close(outPipe[0]), close(outPipe[1]), close(errPipe[0]), close(errPipe[1]);
            abandon(r, cat("cannot start rank ", r));
        }
        if (pid == 0) {
            dup2(outPipe[1], STDOUT_FILENO);
            dup2(errPipe[1], STDERR_FILENO);
            close(outPipe[0]), close(outPipe[1]), close(errPipe[0]), close(errPipe[1]);
            setenv("RANK", std::to_string(r).c_str(), 1);
            setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
            // each rank its own GPU (a run on device = "cuda" then finds it as its only one): the
            // R-th of the GPUs this launch was given, or GPU R when it was given no list
            if (const std::string gpu = gpuOfRank(visibleGpus, r); !gpu.empty())
                setenv("CUDA_VISIBLE_DEVICES", gpu.c_str(), 1);
            setenv("WORLD_SIZE", std::to_string(n).c_str(), 1);
            setenv("MASTER_ADDR", "127.0.0.1", 1);
            setenv("MASTER_PORT", std::to_string(masterPort).c_str(), 1);
            if (!timeout.empty()) setenv("FRUGAL_DIST_TIMEOUT", timeout.c_str(), 1);
            std::vector<std::string> childArgs{self, "--threads", std::to_string(threads)};
            childArgs.insert(childArgs.end(), p.positional.begin(), p.positional.end());
            std::vector<char*> cargv;
            for (auto& a : childArgs) cargv.push_back(a.data());
            cargv.push_back(nullptr);
            execv(self.c_str(), cargv.data());
            std::fprintf(stderr, "launch: cannot run %s\n", self.c_str());
            _exit(127);
        }
        close(outPipe[1]), close(errPipe[1]);
        workers[static_cast<size_t>(r)] = {r, pid, outPipe[0], errPipe[0], {}, {}, true, 0};
    }

    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> deadline;  // after a failure: when the rest are stopped
    std::optional<Clock::time_point> drained;  // every worker ended: until when their pipes are read
    bool terminated = false;
    int firstFailure = -1;
    for (;;) {
        if (const int s = g_forward.exchange(0))
            for (const auto& w : workers)
                if (w.running) kill(w.pid, s);
        std::vector<pollfd> fds;
        for (const auto& w : workers) {
            if (w.out >= 0) fds.push_back({w.out, POLLIN, 0});
            if (w.err >= 0) fds.push_back({w.err, POLLIN, 0});
        }
        if (!fds.empty()) poll(fds.data(), fds.size(), 100);
        else std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (auto& w : workers)
            for (int* fd : {&w.out, &w.err}) {
                if (*fd < 0) continue;
                pollfd one{*fd, POLLIN, 0};
                if (poll(&one, 1, 0) <= 0) continue;
                char buf[4096];
                const ssize_t got = read(*fd, buf, sizeof buf);
                std::string& line = fd == &w.out ? w.outLine : w.errLine;
                FILE* file = fd == &w.out ? stdout : stderr;
                if (got > 0) {
                    line.append(buf, static_cast<size_t>(got));
                    forwardLines(line, file, w.rank, false);
                } else {
                    forwardLines(line, file, w.rank, true);
                    close(*fd);
                    *fd = -1;
                }
            }
        bool anyRunning = false;
        for (auto& w : workers) {
            if (!w.running) continue;
            int status = 0;
            if (waitpid(w.pid, &status, WNOHANG) == w.pid) {
                w.running = false;
                w.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                if (w.exitCode != 0) {
                    std::fprintf(stderr, "launch: rank %d %s %d\n", w.rank,
                                 WIFEXITED(status) ? "exited with" : "was killed by signal",
                                 WIFEXITED(status) ? w.exitCode : WTERMSIG(status));
                    if (firstFailure < 0) firstFailure = w.rank;
                    if (!deadline) deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                                 std::chrono::duration<double>(timeoutSeconds + 10));
                }
            } else {
                anyRunning = true;
            }
        }
        const bool pipesOpen = std::any_of(workers.begin(), workers.end(), [](const Worker& w) { return w.out >= 0 || w.err >= 0; });
        if (!anyRunning && !pipesOpen) break;
        if (!anyRunning) {  // the last output of processes that have ended, for a moment
            if (!drained) drained = Clock::now() + std::chrono::seconds(2);
            if (Clock::now() > *drained) {  // a descendant holds a pipe open: stop reading
                for (auto& w : workers)
                    for (int* fd : {&w.out, &w.err})
                        if (*fd >= 0) close(*fd), *fd = -1;
                break;
            }
            continue;
        }
        if (deadline && Clock::now() > *deadline) {
            for (const auto& w : workers)
                if (w.running) kill(w.pid, terminated ? SIGKILL : SIGTERM);
            std::fprintf(stderr, "launch: the other processes did not end within %g s of rank %d's failure; %s\n",
                         timeoutSeconds + 10, firstFailure, terminated ? "killed" : "stopping them");
            deadline = Clock::now() + std::chrono::seconds(5);
            terminated = true;
        }
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    // rank 0's code says what became of the stored run; else the first failure's
    if (workers[0].exitCode != 0) return workers[0].exitCode;
    return firstFailure >= 0 ? workers[static_cast<size_t>(firstFailure)].exitCode : 0;
}

}  // namespace frugal::app
