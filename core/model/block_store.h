#pragma once
// A model's decoder blocks kept outside memory and brought in one at a time, for models larger
// than the machine's RAM (the streamed ZO step, zo/streamed.h). The model is loaded with
// LoadOptions::streamBlocks: its embeddings, final norm and head resident, each block's weights a
// meta placeholder of their shape and dtype. fetch(b) puts block b's weights into the model,
// evict(b) puts the placeholders back (writing the block first when it was changed); one I/O
// thread reads ahead (prefetch) and writes behind, in the order asked, so that a block read after
// it was written reads what was written.
//
// Two sources. A checkpoint: the blocks read from the model's safetensors files, converted to the
// compute dtype exactly as Transformer::load converts them (the same reader), read-only. A working
// copy: one raw file holding every block in the compute dtype, block after block, made from the
// checkpoint once (never the user's files) and written back to; what full fine-tuning of a
// streamed model updates.

#include <torch/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/safetensors.h"
#include "model/transformer.h"

namespace frugal::model {

class BlockStore {
public:
    // MODEL's blocks from the checkpoint DIR it was loaded from (names and shapes matched again).
    static std::unique_ptr<BlockStore> checkpoint(Transformer& model, const std::filesystem::path& dir);
    // MODEL's blocks in the working copy FILE, made from the checkpoint DIR first (block by block;
    // a copy left by an earlier process is made again). PROGRESS(blocks done, blocks) after each.
    static std::unique_ptr<BlockStore> workingCopy(Transformer& model, const std::filesystem::path& dir,
                                                   const std::filesystem::path& file,
                                                   const std::function<void(int64_t, int64_t)>& progress = {});
    ~BlockStore();
    BlockStore(const BlockStore&) = delete;
    BlockStore& operator=(const BlockStore&) = delete;

    int64_t blocks() const { return static_cast<int64_t>(m_layout.size()); }
    bool writable() const { return m_fd >= 0; }
    // Bytes of block B's weights in memory (the compute dtype).
    int64_t blockBytes(int64_t b) const { return m_layout.at(static_cast<size_t>(b)).bytes; }
    int64_t largestBlockBytes() const;
    // How many blocks may be held at once (resident, read ahead or waiting to be written); at
    // least 2. The executor derives it from the memory budget.
    void setRing(int64_t blocks);
    int64_t ring() const { return m_ring; }

    // Block B's weights in the model: taken from the read ahead, else read now.
    void fetch(int64_t b);
    // Block B's placeholders back in the model; with WRITE (a working copy only) its weights are
    // written to the copy first, on the I/O thread.
    void evict(int64_t b, bool write);
    // Reads block B ahead on the I/O thread when the ring has room; a no-op otherwise.
    void prefetch(int64_t b);
    // Waits for every write asked so far.
    void flush();
    // Block B's weights as the store holds them now (read, not put in the model): the working
    // copy's bytes after flush(); for tests and for saving.
    NamedTensors read(int64_t b);
    // Bytes read and written so far, and the seconds the I/O thread spent on them.
    struct Traffic {
        int64_t read = 0, written = 0;
        double readSeconds = 0, writeSeconds = 0;
    };
    Traffic traffic() const;

private:
    struct Slot {
        std::string name;      // canonical, as Transformer::parameters() names it
        std::string fileName;  // in the checkpoint
        std::vector<int64_t> shape;
        bool transposed = false;  // GPT-2's Conv1D weights, stored [in, out]
        int64_t offset = 0;       // in the working copy
        int64_t bytes = 0;
    };
    struct Layout {
        std::vector<Slot> tensors;
        int64_t offset = 0, bytes = 0;  // in the working copy
    };
    struct Job {
        enum Kind { Read, Write } kind;
        int64_t block;
        NamedTensors tensors;  // Write: what to write
    };

    BlockStore(Transformer& model, const std::filesystem::path& dir);
    NamedTensors readNow(int64_t b, bool fromCheckpoint = false);
    void writeNow(int64_t b, const NamedTensors& tensors);
    void run();  // the I/O thread
    void enqueue(Job job);
    int64_t heldLocked() const;

    Transformer& m_model;
    SafetensorsArchive m_archive;
    torch::ScalarType m_type;
    std::vector<Layout> m_layout;
    int m_fd = -1;
    std::filesystem::path m_file;
    int64_t m_ring = 3;

    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Job> m_jobs;
    std::map<int64_t, NamedTensors> m_ready;  // read ahead, not yet fetched
    std::map<int64_t, int> m_reading;         // asked, not yet read
    int64_t m_writing = 0;                    // writes asked, not yet done
    std::vector<bool> m_resident;
    std::string m_error;  // the I/O thread's failure, rethrown on the next call
    Traffic m_traffic;
    bool m_stop = false;
    std::thread m_thread;
};

}  // namespace frugal::model
