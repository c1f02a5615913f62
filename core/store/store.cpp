// The Store's lifecycle (opening, starting and stopping the writer thread), its default path,
// run status names, and the process helpers the store files share (store_impl.h).
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "store/store_impl.h"

namespace frugal::store {

namespace {

std::string readSmallFile(const char* path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    return s;
}

}  // namespace

namespace detail {

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string hostName() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

std::string processStart(int64_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return "";
    const size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) return "";
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) return readSmallFile("/proc/sys/kernel/random/boot_id") + ":" + field;
    }
    return "";
}

std::string failureText(sqlite3* db, const std::string& file) {
    const int code = sqlite3_errcode(db);
    const int extended = sqlite3_extended_errcode(db);
    const int system = sqlite3_system_errno(db);
    const bool ioWrite = code == SQLITE_IOERR;
    if (code == SQLITE_FULL || (ioWrite && (system == ENOSPC || system == EFBIG || system == EDQUOT))) {
        std::filesystem::path dir = std::filesystem::path(file).parent_path();
        if (dir.empty()) dir = ".";
        struct statvfs fs {};
        std::string free = "free space unknown";
        if (statvfs(dir.c_str(), &fs) == 0)
            free = std::to_string(static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize >> 20) +
                   " MiB free";
        if (system == EFBIG)
            return "disk full: " + file + " cannot grow past this process's file-size limit (ulimit -f; " +
                   free + ")";
        return "disk full: " + file + " (" + free + ")";
    }
    if (code == SQLITE_READONLY || (ioWrite && (system == EROFS || system == EACCES || system == EPERM)))
        return file + " is read-only (" + (system != 0 ? std::strerror(system) : sqlite3_errmsg(db)) +
               "); commands that only read it (list, show, compare, export, plot) still work; give a "
               "writable database with --db";
    return file + ": SQLite: " + sqlite3_errmsg(db) + " (" + sqlite3_errstr(extended) + ")";
}

}  // namespace detail

using detail::kSchemaVersion;

std::string sqliteVersion() { return sqlite3_libversion(); }

std::string statusName(RunStatus s) {
    switch (s) {
        case RunStatus::Queued: return "queued";
        case RunStatus::Running: return "running";
        case RunStatus::Finished: return "finished";
        case RunStatus::Failed: return "failed";
        case RunStatus::Cancelled: return "cancelled";
        case RunStatus::Interrupted: return "interrupted";
    }
    return "unknown";
}

RunStatus parseStatus(const std::string& name) {
    for (auto s : {RunStatus::Queued, RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                   RunStatus::Cancelled, RunStatus::Interrupted})
        if (statusName(s) == name) return s;
    fail("unknown run status '", name,
         "' (expected queued, running, finished, failed, cancelled or interrupted)");
}

std::filesystem::path Store::defaultPath() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "frugal" / "runs.db";
    const char* home = std::getenv("HOME");
    if (!home || !*home) fail("cannot place the experiment database: neither XDG_DATA_HOME nor "
                              "HOME is set; give one with --db");
    return std::filesystem::path(home) / ".local" / "share" / "frugal" / "runs.db";
}

int Store::schemaVersion() { return kSchemaVersion; }

void Store::Impl::keepReserve() const {
    std::error_code ec;
    if (readOnly || std::filesystem::exists(reservePath(), ec)) return;
    const auto tmp = reservePath().string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        const std::string zeros(kReserveBytes, '\0');
        f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
        f.flush();
        if (!f) {  // no room even for the reserve: the database works without one
            f.close();
            std::filesystem::remove(tmp, ec);
            return;
        }
    }
    std::filesystem::rename(tmp, reservePath(), ec);
}

bool Store::Impl::releaseReserve() const {
    std::error_code ec;
    return std::filesystem::remove(reservePath(), ec);
}

Store::Store(const std::filesystem::path& file) : Store(file, kSchemaVersion) {}

Store::Store(const std::filesystem::path& file, Access access) : m_impl(std::make_unique<Impl>()) {
    m_impl->path = file;
    m_impl->name = file.string();
    if (access == Access::Read) {
        std::error_code ec;
        if (!std::filesystem::exists(file, ec))
            fail(file.string(), ": no experiment database here (a run creates it; give another with --db)");
        std::filesystem::path dir = file.parent_path();
        if (dir.empty()) dir = ".";
        m_impl->readOnly = ::access(file.c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK) != 0;
    }
    m_impl->open(kSchemaVersion);
    if (!m_impl->readOnly) {
        try {
            m_impl->markDeadRuns();
        } catch (const Error&) {  // a full disk: what is stored can still be read (marked next time)
        }
        m_impl->writer = std::thread([impl = m_impl.get()] { impl->writerLoop(); });
    }
}

Store::Store(const std::filesystem::path& file, int upToVersion) : m_impl(std::make_unique<Impl>()) {
    m_impl->path = file;
    m_impl->name = file.string();
    m_impl->open(upToVersion);
    if (upToVersion >= kSchemaVersion) {
        m_impl->markDeadRuns();
        m_impl->writer = std::thread([impl = m_impl.get()] { impl->writerLoop(); });
    }
}

Store::~Store() {
    if (!m_impl) return;
    {
        std::lock_guard<std::mutex> lock(m_impl->queueMutex);
        m_impl->stopping = true;
    }
    m_impl->queueChanged.notify_all();
    if (m_impl->writer.joinable()) m_impl->writer.join();
}

const std::filesystem::path& Store::path() const { return m_impl->path; }
bool Store::readOnly() const { return m_impl->readOnly; }

}  // namespace frugal::store
