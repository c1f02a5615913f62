#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/format.h"

namespace frugal::model {
namespace {

using json = nlohmann::json;

// A header larger than this is corrupt rather than merely large (real ones are < 1 MiB).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

}  // namespace

// Read-only private mapping of a whole file, unmapped when the last owner goes.
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail(path.string(), ": cannot open (", std::strerror(errno), ")");
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            ::close(fd);
            fail(path.string(), ": cannot stat (", std::strerror(errno), ")");
        }
        m_size = static_cast<uint64_t>(st.st_size);
        if (m_size > 0) {
            void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                ::close(fd);
                fail(path.string(), ": cannot map (", std::strerror(errno), ")");
            }
            m_data = static_cast<const uint8_t*>(p);
        }
        ::close(fd);
    }
    ~MappedFile() {
        if (m_data) ::munmap(const_cast<uint8_t*>(m_data), m_size);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return m_data; }
    uint64_t size() const { return m_size; }

    // Gives the pages fully inside [begin, end) back to the kernel; they are re-read from the
    // file if touched again.
    void release(uint64_t begin, uint64_t end) const {
        const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
        const uint64_t first = (begin + page - 1) / page * page;
        const uint64_t last = end / page * page;
        if (last > first)
            ::madvise(const_cast<uint8_t*>(m_data) + first, last - first, MADV_DONTNEED);
    }

private:
    const uint8_t* m_data = nullptr;
    uint64_t m_size = 0;
};

std::string dtypeName(DType dtype) {
    switch (dtype) {
        case DType::F32: return "F32";
        case DType::F16: return "F16";
        case DType::BF16: return "BF16";
    }
    return "?";
}

int64_t dtypeSize(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

DType parseDType(const std::string& name, const std::string& context) {
    if (name == "F32") return DType::F32;
    if (name == "F16") return DType::F16;
    if (name == "BF16") return DType::BF16;
    fail(context, ": dtype '", name, "' is not supported (expected F32, F16 or BF16)");
}

torch::ScalarType toScalarType(DType dtype) {
    switch (dtype) {
        case DType::F32: return torch::kFloat32;
        case DType::F16: return torch::kFloat16;
        case DType::BF16: return torch::kBFloat16;
    }
    return torch::kFloat32;
}

int64_t TensorInfo::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::vector<TensorInfo> SafetensorsFile::parseHeader(const uint8_t* bytes, uint64_t size,
                                                     const std::string& source,
                                                     std::map<std::string, std::string>* metadata) {
    if (size < 8)
        fail(source, ": file is ", size,
             " bytes, too short for a safetensors header (8-byte length "
             "+ JSON); truncated download?");
    uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | bytes[i];
    if (headerLen > kMaxHeaderBytes || headerLen > size - 8)
        fail(source, ": header length ", headerLen, " exceeds the file size ", size,
             "; not a safetensors file, or truncated?");
    const uint64_t dataSize = size - 8 - headerLen;
    const char* text = reinterpret_cast<const char*>(bytes + 8);

    // Duplicate keys would silently overwrite each other in the parsed object: catch them here.
    std::set<std::string> seen;
    std::string duplicate;
    json::parser_callback_t onEvent = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
            if (!seen.insert(parsed.get<std::string>()).second && duplicate.empty())
                duplicate = parsed.get<std::string>();
        }
        return true;
    };
    json header;
    try {
        header = json::parse(text, text + headerLen, onEvent);
    } catch (const json::exception& e) {
        fail(source, ": header is not valid JSON (", e.what(), ")");
    }
    if (!duplicate.empty()) fail(source, ": tensor '", duplicate, "' appears twice in the header");
    if (!header.is_object()) fail(source, ": header must be a JSON object of tensors");

    std::vector<TensorInfo> tensors;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const json& entry = it.value();
        if (name == "__metadata__") {
            if (!entry.is_object()) fail(source, ": __metadata__ must be an object of strings");
            for (auto m = entry.begin(); m != entry.end(); ++m) {
                if (!m.value().is_string())
                    fail(source, ": __metadata__ value '", m.key(), "' must be a string");
                if (metadata) (*metadata)[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string where = cat(source, ": tensor '", name, "'");
        if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
            !entry.contains("data_offsets"))
            fail(where, " must have dtype, shape and data_offsets");
        if (!entry["dtype"].is_string()) fail(where, ": dtype must be a string");
        TensorInfo info;
        info.name = name;
        info.dtype = parseDType(entry["dtype"].get<std::string>(), where);
        const json& shape = entry["shape"];
        if (!shape.is_array()) fail(where, ": shape must be an array of integers");
        for (const json& d : shape) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (1ll << 40))
                fail(where, ": shape ", shape.dump(), " must hold non-negative integers");
            info.shape.push_back(d.get<int64_t>());
        }
        const json& offsets = entry["data_offsets"];
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
            !offsets[1].is_number_unsigned())
            fail(where, ": data_offsets must be [begin, end] with non-negative integers");
        info.begin = offsets[0].get<uint64_t>();
        info.end = offsets[1].get<uint64_t>();
        if (info.begin > info.end)
            fail(where, ": data_offsets [", info.begin, ", ", info.end, "] end before they begin");
        if (info.end > dataSize)
            fail(where, ": data_offsets [", info.begin, ", ", info.end,
                 "] reach past the end of the data (", dataSize, " bytes); truncated file?");
        uint64_t bytesNeeded = static_cast<uint64_t>(dtypeSize(info.dtype));
        for (int64_t d : info.shape) {
            if (__builtin_mul_overflow(bytesNeeded, static_cast<uint64_t>(d), &bytesNeeded))
                fail(where, ": shape ", shapeText(info.shape), " is too large to address");
        }
        if (bytesNeeded != info.end - info.begin)
            fail(where, ": ", dtypeName(info.dtype), " ", shapeText(info.shape), " needs ",
                 bytesNeeded, " bytes but data_offsets span ", info.end - info.begin);
        tensors.push_back(std::move(info));
    }

    // Non-empty tensors must not share bytes: sweep them in offset order, keeping the furthest end.
    std::vector<const TensorInfo*> byOffset;
    for (const auto& t : tensors)
        if (t.end > t.begin) byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    const TensorInfo* furthest = nullptr;
    for (const TensorInfo* cur : byOffset) {
        if (furthest && cur->begin < furthest->end)
            fail(source, ": tensors '", furthest->name, "' and '", cur->name,
                 "' overlap in the data section");
        if (!furthest || cur->end > furthest->end) furthest = cur;
    }
    return tensors;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
    auto file = std::make_shared<SafetensorsFile>();
    file->m_path = path;
    file->m_map = std::make_shared<MappedFile>(path);
    file->m_tensors =
        parseHeader(file->m_map->data(), file->m_map->size(), path.string(), &file->m_metadata);
    uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | file->m_map->data()[i];
    file->m_dataOffset = 8 + headerLen;
    return file;
}

torch::Tensor SafetensorsFile::read(const TensorInfo& info, torch::ScalarType type) const {
    const uint8_t* src = m_map->data() + m_dataOffset + info.begin;
    const uint64_t bytes = info.end - info.begin;
    const torch::ScalarType stored = toScalarType(info.dtype);
    torch::Tensor out;
    if (stored == type) {
        out = torch::empty(info.shape, torch::TensorOptions().dtype(type));
        if (bytes) std::memcpy(out.data_ptr(), src, bytes);
    } else if (reinterpret_cast<uintptr_t>(src) % static_cast<uintptr_t>(dtypeSize(info.dtype)) ==
               0) {
        // Convert straight from the mapped bytes: no staging copy, so loading costs the
        // converted tensor plus the (released) source pages of one tensor.
        const torch::Tensor mapped = torch::from_blob(const_cast<uint8_t*>(src), info.shape,
                                                      torch::TensorOptions().dtype(stored));
        out = mapped.to(type);
    } else {
        torch::Tensor staged = torch::empty(info.shape, torch::TensorOptions().dtype(stored));
        if (bytes) std::memcpy(staged.data_ptr(), src, bytes);
        out = staged.to(type);
    }
    m_map->release(m_dataOffset + info.begin, m_dataOffset + info.end);
    return out;
}

SafetensorsArchive SafetensorsArchive::open(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    SafetensorsArchive archive;
    fs::path indexPath;
    std::vector<fs::path> shardPaths;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        if (fs::exists(path / "model.safetensors.index.json", ec)) {
            indexPath = path / "model.safetensors.index.json";
        } else if (fs::exists(path / "model.safetensors", ec)) {
            shardPaths.push_back(path / "model.safetensors");
        } else {
            fail(path.string(),
                 ": no model.safetensors or model.safetensors.index.json "
                 "(only safetensors checkpoints are read; convert .bin files first)");
        }
    } else if (path.string().size() > 11 &&
               path.string().compare(path.string().size() - 11, 11, ".index.json") == 0) {
        indexPath = path;
    } else if (fs::exists(path, ec)) {
        shardPaths.push_back(path);
    } else {
        fail(path.string(), ": no such file or folder");
    }

    std::map<std::string, std::string> expectedFile;  // from the index
    if (!indexPath.empty()) {
        std::ifstream in(indexPath);
        if (!in) fail(indexPath.string(), ": cannot open");
        json index;
        try {
            index = json::parse(in);
        } catch (const json::exception& e) {
            fail(indexPath.string(), ": not valid JSON (", e.what(), ")");
        }
        if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
            fail(indexPath.string(), ": missing object 'weight_map' (tensor name -> shard file)");
        std::set<std::string> shardNames;
        for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
            if (!it.value().is_string())
                fail(indexPath.string(), ": weight_map['", it.key(), "'] must be a file name");
            const std::string file = it.value().get<std::string>();
            const std::string suffix = ".safetensors";
            if (file.find('/') != std::string::npos || file.size() <= suffix.size() ||
                file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
                fail(indexPath.string(), ": weight_map['", it.key(), "'] = '", file,
                     "' must be a .safetensors file name in the same folder");
            expectedFile[it.key()] = file;
            shardNames.insert(file);
        }
        for (const auto& name : shardNames) {
            const fs::path shard = indexPath.parent_path() / name;
            if (!fs::exists(shard, ec))
                fail(indexPath.string(), ": names shard '", name, "', which does not exist");
            shardPaths.push_back(shard);
        }
    }

    for (const auto& shardPath : shardPaths) {
        auto file = SafetensorsFile::open(shardPath);
        const size_t fileIndex = archive.m_files.size();
        for (size_t t = 0; t < file->tensors().size(); ++t) {
            const std::string& name = file->tensors()[t].name;
            auto [it, inserted] = archive.m_index.emplace(name, std::make_pair(fileIndex, t));
            if (!inserted)
                fail(shardPath.string(), ": tensor '", name, "' is also in ",
                     archive.m_files[it->second.first]->path().string());
            if (!indexPath.empty()) {
                auto want = expectedFile.find(name);
                if (want == expectedFile.end())
                    fail(shardPath.string(), ": tensor '", name, "' is not listed in ",
                         indexPath.filename().string());
                if (want->second != shardPath.filename().string())
                    fail(indexPath.string(), ": lists tensor '", name, "' in '", want->second,
                         "' but it is in '", shardPath.filename().string(), "'");
            }
        }
        archive.m_files.push_back(std::move(file));
    }
    for (const auto& [name, file] : expectedFile)
        if (!archive.contains(name))
            fail(indexPath.string(), ": tensor '", name, "' is listed for '", file,
                 "' but that shard does not hold it");
    return archive;
}

const TensorInfo& SafetensorsArchive::info(const std::string& name) const {
    auto it = m_index.find(name);
    if (it == m_index.end()) fail("checkpoint has no tensor '", name, "'");
    return m_files[it->second.first]->tensors()[it->second.second];
}

std::string SafetensorsArchive::fileOf(const std::string& name) const {
    auto it = m_index.find(name);
    return it == m_index.end() ? std::string() : m_files[it->second.first]->path().string();
}

std::vector<std::string> SafetensorsArchive::names() const {
    std::vector<std::string> out;
    for (const auto& [name, where] : m_index) out.push_back(name);
    return out;
}

torch::Tensor SafetensorsArchive::read(const std::string& name, torch::ScalarType type) const {
    auto it = m_index.find(name);
    if (it == m_index.end()) fail("checkpoint has no tensor '", name, "'");
    const auto& file = m_files[it->second.first];
    return file->read(file->tensors()[it->second.second], type);
}

uint64_t SafetensorsArchive::totalBytes() const {
    uint64_t total = 0;
    for (const auto& file : m_files)
        for (const auto& t : file->tensors()) total += t.end - t.begin;
    return total;
}

void writeFileAtomically(const std::filesystem::path& path,
                         const std::function<void(std::ostream&)>& write) {
    std::filesystem::path tmp = path;
    tmp += ".partial";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) fail(tmp.string(), ": cannot create");
        write(out);
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            fail(tmp.string(), ": write failed (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) fail(path.string(), ": cannot replace (", ec.message(), ")");
}

void writeTextAtomically(const std::filesystem::path& path, const std::string& text) {
    writeFileAtomically(path, [&](std::ostream& out) { out << text; });
}

void writeSafetensors(const std::filesystem::path& path, const NamedTensors& tensors, DType dtype,
                      const std::map<std::string, std::string>& metadata) {
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
        if (header.contains(name)) fail(path.string(), ": tensor '", name, "' given twice");
        const uint64_t bytes = static_cast<uint64_t>(tensor.numel()) * dtypeSize(dtype);
        header[name] = {{"dtype", dtypeName(dtype)},
                        {"shape", tensor.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    while ((8 + text.size()) % 8 != 0) text.push_back(' ');

    writeFileAtomically(path, [&](std::ostream& out) {
        uint8_t len[8];
        const uint64_t n = text.size();
        for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
        out.write(reinterpret_cast<const char*>(len), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        // Converted one tensor at a time: saving costs at most one tensor of extra memory.
        for (const auto& entry : tensors) {
            torch::Tensor t =
                entry.second.detach().to(torch::kCPU, toScalarType(dtype)).contiguous();
            out.write(static_cast<const char*>(t.data_ptr()),
                      static_cast<std::streamsize>(t.numel() * dtypeSize(dtype)));
        }
    });
}

void writeSafetensorsSharded(const std::filesystem::path& dir, const NamedTensors& tensors,
                             DType dtype, uint64_t maxShardBytes) {
    std::vector<std::pair<std::string, std::vector<int64_t>>> planned;
    for (const auto& [name, t] : tensors) planned.emplace_back(name, t.sizes().vec());
    writeSafetensorsSharded(dir, planned, dtype, maxShardBytes, [&](size_t i) { return tensors[i].second; });
}

void writeSafetensorsSharded(const std::filesystem::path& dir,
                             const std::vector<std::pair<std::string, std::vector<int64_t>>>& planned, DType dtype,
                             uint64_t maxShardBytes, const std::function<torch::Tensor(size_t)>& produce) {
    std::vector<std::vector<size_t>> shards(1);  // tensor indices
    uint64_t current = 0, total = 0;
    for (size_t i = 0; i < planned.size(); ++i) {
        uint64_t n = 1;
        for (int64_t d : planned[i].second) n *= static_cast<uint64_t>(d);
        const uint64_t bytes = n * dtypeSize(dtype);
        if (current > 0 && current + bytes > maxShardBytes) {
            shards.emplace_back();
            current = 0;
        }
        shards.back().push_back(i);
        current += bytes;
        total += bytes;
    }
    // one shard's tensors at a time, asked for in order
    const auto shardTensors = [&](const std::vector<size_t>& shard) {
        NamedTensors out;
        for (size_t i : shard) {
            torch::Tensor t = produce(i);
            if (t.sizes().vec() != planned[i].second)
                fail("checkpoint writer: tensor '", planned[i].first, "' has shape ", shapeText(t.sizes().vec()),
                     ", planned ", shapeText(planned[i].second));
            out.emplace_back(planned[i].first, std::move(t));
        }
        return out;
    };
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) fail(dir.string(), ": cannot create folder (", ec.message(), ")");

    std::set<std::string> written;
    if (shards.size() == 1) {
        writeSafetensors(dir / "model.safetensors", shardTensors(shards[0]), dtype, {{"format", "pt"}});
        written.insert("model.safetensors");
    } else {
        json weightMap = json::object();
        for (size_t i = 0; i < shards.size(); ++i) {
            char name[64];
            std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1,
                          shards.size());
            writeSafetensors(dir / name, shardTensors(shards[i]), dtype, {{"format", "pt"}});
            for (size_t t : shards[i]) weightMap[planned[t].first] = name;
            written.insert(name);
        }
        json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}};
        writeTextAtomically(dir / "model.safetensors.index.json", index.dump(2) + "\n");
        written.insert("model.safetensors.index.json");
    }
    // Only once the new checkpoint is complete: drop files of an earlier one in the same folder,
    // whose index (or single file) would otherwise shadow or mix with the new weights.
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const bool checkpointFile =
            name == "model.safetensors" || name == "model.safetensors.index.json" ||
            (name.rfind("model-", 0) == 0 && name.find("-of-") != std::string::npos &&
             name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0);
        if (checkpointFile && !written.count(name)) {
            std::error_code ignored;
            std::filesystem::remove(entry.path(), ignored);
        }
    }
}

}  // namespace frugal::model
