#pragma once
// Reader and writer for the safetensors format (one file or a sharded set with
// model.safetensors.index.json). Files are memory-mapped; each tensor is converted straight into
// a tensor of the compute dtype and its source pages are released, so loading never holds a
// second copy of the weights. A SafetensorsArchive is not thread-safe.

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace frugal::model {

enum class DType { F32, F16, BF16 };

std::string dtypeName(DType dtype);
int64_t dtypeSize(DType dtype);
DType parseDType(const std::string& name, const std::string& context);
torch::ScalarType toScalarType(DType dtype);

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // byte offsets relative to the data section
    uint64_t end = 0;
    int64_t numel() const;
};

class MappedFile;

// One .safetensors file: header parsed and validated on open, data mapped read-only.
class SafetensorsFile {
public:
    static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
    // Parses and validates a header held in memory (used by open() and by the fuzzer).
    static std::vector<TensorInfo> parseHeader(const uint8_t* bytes, uint64_t size,
                                               const std::string& source,
                                               std::map<std::string, std::string>* metadata);

    const std::filesystem::path& path() const { return m_path; }
    const std::vector<TensorInfo>& tensors() const { return m_tensors; }
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    // Copies one tensor into a new CPU tensor of `type`, then drops its source pages.
    torch::Tensor read(const TensorInfo& info, torch::ScalarType type) const;

private:
    std::filesystem::path m_path;
    std::shared_ptr<MappedFile> m_map;
    uint64_t m_dataOffset = 0;
    std::vector<TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
};

// All tensors of a checkpoint folder: model.safetensors, or the shards that
// model.safetensors.index.json names. Tensor names are unique across shards.
class SafetensorsArchive {
public:
    // `path`: a folder, a .safetensors file or a .safetensors.index.json file.
    static SafetensorsArchive open(const std::filesystem::path& path);

    bool contains(const std::string& name) const { return m_index.count(name) != 0; }
    const TensorInfo& info(const std::string& name) const;
    std::vector<std::string> names() const;  // sorted
    const std::vector<std::shared_ptr<SafetensorsFile>>& files() const { return m_files; }
    std::string fileOf(const std::string& name) const;
    torch::Tensor read(const std::string& name, torch::ScalarType type) const;
    uint64_t totalBytes() const;

private:
    std::vector<std::shared_ptr<SafetensorsFile>> m_files;
    std::map<std::string, std::pair<size_t, size_t>> m_index;  // name -> (file, tensor)
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes `tensors` (converted to `dtype`, in the given order) to one file, atomically: a
// temporary file is renamed over `path` only when complete.
void writeSafetensors(const std::filesystem::path& path, const NamedTensors& tensors, DType dtype,
                      const std::map<std::string, std::string>& metadata = {});

// Writes `path` through a temporary file that is renamed into place only when `write` finished
// and the stream closed cleanly; on failure the old file stays and the temporary is removed.
void writeFileAtomically(const std::filesystem::path& path,
                         const std::function<void(std::ostream&)>& write);
void writeTextAtomically(const std::filesystem::path& path, const std::string& text);

// Writes model-0000i-of-0000n.safetensors shards of at most `maxShardBytes` each (a tensor is
// never split) plus model.safetensors.index.json into `dir`. One shard is written as
// model.safetensors with no index. Checkpoint files of an earlier save in `dir` are removed
// once the new ones are complete.
void writeSafetensorsSharded(const std::filesystem::path& dir, const NamedTensors& tensors,
                             DType dtype, uint64_t maxShardBytes);
// The same for tensors made one shard at a time: PLANNED names and shapes (in order) plan the
// shards, PRODUCE(i) gives tensor i when its shard is written (a model larger than memory saved
// block by block holds one shard's tensors at once).
void writeSafetensorsSharded(const std::filesystem::path& dir,
                             const std::vector<std::pair<std::string, std::vector<int64_t>>>& planned, DType dtype,
                             uint64_t maxShardBytes, const std::function<torch::Tensor(size_t)>& produce);

}  // namespace frugal::model
