#include "model/block_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/error.h"
#include "common/format.h"
#include "model/gguf.h"

namespace frugal::model {

namespace {

// The canonical name's row in the family table, to know a slot's role (GPT-2's transposed rows).
bool isTransposedRow(const FamilySpec& spec, const std::string& canonical, int64_t layer) {
    if (!spec.conv1dLayout) return false;
    for (const TensorRow& row : spec.rows) {
        if (!row.perLayer || expandName(spec, row.name, layer) != canonical) continue;
        return row.role == Role::QKV || row.role == Role::O || row.role == Role::Up || row.role == Role::Down;
    }
    return false;
}

// Every byte of [DATA, DATA + BYTES) at OFFSET of FD, or a message naming FILE.
void preadAll(int fd, void* data, int64_t bytes, int64_t offset, const std::filesystem::path& file) {
    auto* p = static_cast<char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::pread(fd, p, static_cast<size_t>(bytes), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(file.string(), ": cannot read the working copy at byte ", offset, n < 0 ? cat(" (", std::strerror(errno), ")") : std::string(" (it ends there)"));
        p += n, bytes -= n, offset += n;
    }
}

void pwriteAll(int fd, const void* data, int64_t bytes, int64_t offset, const std::filesystem::path& file) {
    const auto* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::pwrite(fd, p, static_cast<size_t>(bytes), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (errno == ENOSPC) fail("disk full: ", file.string(), ": cannot write the working copy at byte ", offset);
            fail(file.string(), ": cannot write the working copy at byte ", offset, " (", std::strerror(errno), ")");
        }
        p += n, bytes -= n, offset += n;
    }
}

}  // namespace

BlockStore::BlockStore(Transformer& model, const std::filesystem::path& dir)
    : m_model(model), m_archive(SafetensorsArchive::open(gguf::modelFolderFor(dir))) {
    if (!model.streamed()) fail("a block store needs a model loaded with its blocks left out (LoadOptions::streamBlocks)");
    const CheckpointMatch match = matchCheckpoint(model.config(), m_archive);
    // the file names of the block slots, in weightLayout order (parameters() order)
    std::map<std::string, std::string> fileName;
    const auto layout = weightLayout(model.config());
    for (size_t i = 0; i < layout.size(); ++i) fileName[layout[i].name] = match.fileNames.at(i);
    int64_t offset = 0;
    for (int64_t b = 0; b < model.numLayers(); ++b) {
        Layout l;
        l.offset = offset;
        model.forEachBlockWeight(b, [&](const std::string& name, torch::Tensor& slot) {
            if (!slot.defined()) return;
            Slot s;
            s.name = name;
            s.fileName = fileName.at(name);
            s.shape = slot.sizes().vec();
            s.transposed = isTransposedRow(model.spec(), name, b);
            s.offset = offset;
            s.bytes = slot.numel() * static_cast<int64_t>(c10::elementSize(slot.scalar_type()));
            m_type = slot.scalar_type();
            offset += s.bytes;
            l.tensors.push_back(std::move(s));
        });
        l.bytes = offset - l.offset;
        m_layout.push_back(std::move(l));
    }
    m_resident.assign(m_layout.size(), false);
    m_thread = std::thread([this] { run(); });
}

std::unique_ptr<BlockStore> BlockStore::checkpoint(Transformer& model, const std::filesystem::path& dir) {
    return std::unique_ptr<BlockStore>(new BlockStore(model, dir));
}

std::unique_ptr<BlockStore> BlockStore::workingCopy(Transformer& model, const std::filesystem::path& dir,
                                                    const std::filesystem::path& file,
                                                    const std::function<void(int64_t, int64_t)>& progress) {
    std::unique_ptr<BlockStore> store(new BlockStore(model, dir));
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail(file.string(), ": cannot create the working copy (", std::strerror(errno), ")");
    store->m_fd = fd;
    store->m_file = file;
    const int64_t blocks = store->blocks();
    for (int64_t b = 0; b < blocks; ++b) {  // one block in memory at a time
        store->writeNow(b, store->readNow(b, /*fromCheckpoint=*/true));
        if (progress) progress(b + 1, blocks);
    }
    return store;
}

BlockStore::~BlockStore() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_changed.notify_all();
    if (m_thread.joinable()) m_thread.join();
    if (m_fd >= 0) ::close(m_fd);
}

int64_t BlockStore::largestBlockBytes() const {
    int64_t most = 0;
    for (const Layout& l : m_layout) most = std::max(most, l.bytes);
    return most;
}

void BlockStore::setRing(int64_t blocks) { m_ring = std::max<int64_t>(2, blocks); }

NamedTensors BlockStore::readNow(int64_t b, bool fromCheckpoint) {
    const Layout& l = m_layout.at(static_cast<size_t>(b));
    NamedTensors out;
    for (const Slot& s : l.tensors) {
        if (m_fd >= 0 && !fromCheckpoint) {
            torch::Tensor t = torch::empty(s.shape, torch::TensorOptions().dtype(m_type));
            preadAll(m_fd, t.data_ptr(), s.bytes, s.offset, m_file);
            out.emplace_back(s.name, t);
        } else {  // as Transformer::fromArchive reads it
            torch::Tensor value = m_archive.read(s.fileName, m_type);
            if (s.transposed) value = value.t().contiguous();
            out.emplace_back(s.name, value);
        }
    }
    return out;
}

void BlockStore::writeNow(int64_t b, const NamedTensors& tensors) {
    const Layout& l = m_layout.at(static_cast<size_t>(b));
    if (tensors.size() != l.tensors.size()) fail("block store: block ", b, " written with ", tensors.size(), " tensors, expected ", l.tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        const Slot& s = l.tensors[i];
        const torch::Tensor& t = tensors[i].second;
        if (tensors[i].first != s.name || t.scalar_type() != m_type || !t.is_contiguous() || t.sizes().vec() != s.shape)
            fail("block store: tensor '", tensors[i].first, "' of block ", b, " does not match the slot '", s.name, "'");
        pwriteAll(m_fd, t.data_ptr(), s.bytes, s.offset, m_file);
    }
}

void BlockStore::run() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_changed.wait(lock, [&] { return m_stop || !m_jobs.empty(); });
            if (m_jobs.empty()) return;  // stopping, nothing left
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
        }
        const auto start = std::chrono::steady_clock::now();
        NamedTensors got;
        std::string error;
        try {
            if (job.kind == Job::Read)
                got = readNow(job.block);
            else
                writeNow(job.block, job.tensors);
        } catch (const std::exception& e) {
            error = e.what();
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (!error.empty() && m_error.empty()) m_error = error;
            if (job.kind == Job::Read) {
                m_traffic.read += m_layout[static_cast<size_t>(job.block)].bytes;
                m_traffic.readSeconds += seconds;
                if (--m_reading[job.block] == 0) m_reading.erase(job.block);
                m_ready[job.block] = std::move(got);
            } else {
                m_traffic.written += m_layout[static_cast<size_t>(job.block)].bytes;
                m_traffic.writeSeconds += seconds;
                --m_writing;
            }
        }
        m_changed.notify_all();
    }
}

void BlockStore::enqueue(Job job) {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (job.kind == Job::Read)
            ++m_reading[job.block];
        else
            ++m_writing;
        m_jobs.push_back(std::move(job));
    }
    m_changed.notify_all();
}

int64_t BlockStore::heldLocked() const {
    int64_t held = m_writing + static_cast<int64_t>(m_ready.size());
    for (const auto& [b, n] : m_reading) held += n;
    for (bool r : m_resident) held += r;
    return held;
}

void BlockStore::prefetch(int64_t b) {
    if (b < 0 || b >= blocks()) return;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_resident[static_cast<size_t>(b)] || m_ready.count(b) || m_reading.count(b)) return;
        if (heldLocked() >= m_ring) return;
    }
    enqueue({Job::Read, b, {}});
}

void BlockStore::fetch(int64_t b) {
    if (b < 0 || b >= blocks()) fail("block store: block ", b, " of ", blocks());
    if (m_resident[static_cast<size_t>(b)]) return;
    NamedTensors got = read(b);
    std::map<std::string, torch::Tensor> byName(got.begin(), got.end());
    m_model.forEachBlockWeight(b, [&](const std::string& name, torch::Tensor& slot) {
        if (!slot.defined()) return;
        const auto it = byName.find(name);
        if (it == byName.end()) fail("block store: block ", b, " has no tensor '", name, "'");
        slot = it->second;
    });
    m_resident[static_cast<size_t>(b)] = true;
}

NamedTensors BlockStore::read(int64_t b) {
    std::unique_lock<std::mutex> lock(m_mutex);
    if (!m_ready.count(b) && !m_reading.count(b)) {
        lock.unlock();
        enqueue({Job::Read, b, {}});
        lock.lock();
    }
    m_changed.wait(lock, [&] { return m_ready.count(b) || !m_error.empty(); });
    if (!m_error.empty()) fail(m_error);
    NamedTensors got = std::move(m_ready[b]);
    m_ready.erase(b);
    return got;
}

void BlockStore::evict(int64_t b, bool write) {
    if (!m_resident.at(static_cast<size_t>(b))) return;
    if (write && m_fd < 0) fail("block store: block ", b, " was changed but its store is the checkpoint (read-only)");
    NamedTensors tensors;
    m_model.forEachBlockWeight(b, [&](const std::string& name, torch::Tensor& slot) {
        if (!slot.defined()) return;
        if (write) tensors.emplace_back(name, slot);
        slot = torch::empty(slot.sizes(), torch::TensorOptions().device(torch::kMeta).dtype(slot.scalar_type()));
    });
    m_resident[static_cast<size_t>(b)] = false;
    if (write) enqueue({Job::Write, b, std::move(tensors)});
}

void BlockStore::flush() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_changed.wait(lock, [&] { return m_writing == 0 || !m_error.empty(); });
    if (!m_error.empty()) fail(m_error);
}

BlockStore::Traffic BlockStore::traffic() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_traffic;
}

}  // namespace frugal::model
