#include "model/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "common/error.h"
#include "common/files.h"
#include "model/model_config.h"
#include "model/utf8.h"

namespace frugal::model::gguf {
namespace {

using json = nlohmann::ordered_json;

constexpr int kMaxArrayNesting = 4;
constexpr int64_t kMaxDims = 4;

// ---- little-endian reading with one message per truncation -------------------------------------

struct Cursor {
    const uint8_t* bytes;
    uint64_t size;
    uint64_t pos;
    const std::string& source;

    void need(uint64_t n, const std::string& what) const {
        if (n > size - pos)
            failInput(source, ": truncated GGUF file: ", what, " at byte ", pos, " needs ", n,
                      " bytes, the file has ", size - pos, " left");
    }
    template <typename T>
    T get(const std::string& what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, bytes + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    std::string string(const std::string& what) {
        const auto n = get<uint64_t>(what + " (length)");
        need(n, what);
        std::string s(reinterpret_cast<const char*>(bytes + pos), n);
        pos += n;
        return s;
    }
};

uint64_t minimumBytes(ValueType type) {
    switch (type) {
        case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
        case ValueType::U16: case ValueType::I16: return 2;
        case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
        case ValueType::U64: case ValueType::I64: case ValueType::F64: case ValueType::String: return 8;
        case ValueType::Array: return 12;
    }
    return 1;
}

bool knownValueType(uint32_t t) { return t <= 12; }

Value readValue(Cursor& c, ValueType type, const std::string& key, int depth) {
    const std::string what = "metadata " + key;
    Value v;
    v.type = type;
    switch (type) {
        case ValueType::U8: v.u = c.get<uint8_t>(what); break;
        case ValueType::I8: v.i = c.get<int8_t>(what); break;
        case ValueType::U16: v.u = c.get<uint16_t>(what); break;
        case ValueType::I16: v.i = c.get<int16_t>(what); break;
        case ValueType::U32: v.u = c.get<uint32_t>(what); break;
        case ValueType::I32: v.i = c.get<int32_t>(what); break;
        case ValueType::U64: v.u = c.get<uint64_t>(what); break;
        case ValueType::I64: v.i = c.get<int64_t>(what); break;
        case ValueType::F32: v.f = c.get<float>(what); break;
        case ValueType::F64: v.f = c.get<double>(what); break;
        case ValueType::Bool: {
            const auto b = c.get<uint8_t>(what);
            if (b > 1) failInput(c.source, ": metadata ", key, " is a bool stored as ", int(b), ", expected 0 or 1");
            v.u = b;
            break;
        }
        case ValueType::String: v.s = c.string(what); break;
        case ValueType::Array: {
            if (depth >= kMaxArrayNesting)
                failInput(c.source, ": metadata ", key, " nests arrays more than ", kMaxArrayNesting, " deep");
            const auto element = c.get<uint32_t>(what + " (array type)");
            if (!knownValueType(element))
                failInput(c.source, ": metadata ", key, " is an array of value type ", element,
                          ", which GGUF does not define (0-12)");
            const auto count = c.get<uint64_t>(what + " (array length)");
            v.elementType = static_cast<ValueType>(element);
            if (count > (c.size - c.pos) / minimumBytes(v.elementType))
                failInput(c.source, ": truncated GGUF file: metadata ", key, " says ", count,
                          " elements at byte ", c.pos, ", more than the ", c.size - c.pos, " bytes left hold");
            v.items.reserve(count);
            for (uint64_t k = 0; k < count; ++k)
                v.items.push_back(readValue(c, v.elementType, key, depth + 1));
            break;
        }
    }
    return v;
}

bool knownTensorType(uint32_t t) {
    switch (static_cast<TensorType>(t)) {
        case TensorType::F32: case TensorType::F16: case TensorType::BF16: case TensorType::Q8_0:
        case TensorType::Q4_0: case TensorType::Q4_1: case TensorType::Q4_K: case TensorType::Q5_K:
        case TensorType::Q6_K:
            return true;
    }
    return false;
}

// ggml's names for the types it defines that Frugal does not read, for the message.
std::string ggmlTypeName(uint32_t t) {
    static const std::map<uint32_t, std::string> names = {
        {6, "Q5_0"}, {7, "Q5_1"}, {9, "Q8_1"}, {10, "Q2_K"}, {11, "Q3_K"}, {15, "Q8_K"},
        {16, "IQ2_XXS"}, {17, "IQ2_XS"}, {18, "IQ3_XXS"}, {19, "IQ1_S"}, {20, "IQ4_NL"},
        {21, "IQ3_S"}, {22, "IQ2_S"}, {23, "IQ4_XS"}, {24, "I8"}, {25, "I16"}, {26, "I32"},
        {27, "I64"}, {28, "F64"}, {29, "IQ1_M"}, {34, "TQ1_0"}, {35, "TQ2_0"}, {39, "MXFP4"}};
    const auto it = names.find(t);
    return it == names.end() ? cat("type ", t) : it->second;
}

float halfToFloat(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                --exponent;
            }
            mantissa &= 0x3ffu;
            bits = sign | (exponent << 23) | (mantissa << 13);
        }
    } else if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float f16At(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return halfToFloat(h);
}

// Q4_K and Q5_K: the 6-bit scale and min of sub-block j from the 12 packed bytes.
void scaleMinK4(int j, const uint8_t* q, uint8_t& scale, uint8_t& min) {
    if (j < 4) {
        scale = q[j] & 63;
        min = q[j + 4] & 63;
    } else {
        scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

std::string shortestFloat(float v) {  // the shortest decimal that reads back as the same float
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

}  // namespace

// ---- types -------------------------------------------------------------------------------------

std::string typeName(TensorType type) {
    switch (type) {
        case TensorType::F32: return "F32";
        case TensorType::F16: return "F16";
        case TensorType::BF16: return "BF16";
        case TensorType::Q8_0: return "Q8_0";
        case TensorType::Q4_0: return "Q4_0";
        case TensorType::Q4_1: return "Q4_1";
        case TensorType::Q4_K: return "Q4_K";
        case TensorType::Q5_K: return "Q5_K";
        case TensorType::Q6_K: return "Q6_K";
    }
    return "?";
}

int64_t blockElements(TensorType type) {
    switch (type) {
        case TensorType::F32: case TensorType::F16: case TensorType::BF16: return 1;
        case TensorType::Q8_0: case TensorType::Q4_0: case TensorType::Q4_1: return 32;
        case TensorType::Q4_K: case TensorType::Q5_K: case TensorType::Q6_K: return 256;
    }
    return 1;
}

int64_t blockBytes(TensorType type) {
    switch (type) {
        case TensorType::F32: return 4;
        case TensorType::F16: case TensorType::BF16: return 2;
        case TensorType::Q8_0: return 2 + 32;
        case TensorType::Q4_0: return 2 + 16;
        case TensorType::Q4_1: return 2 + 2 + 16;
        case TensorType::Q4_K: return 2 + 2 + 12 + 128;
        case TensorType::Q5_K: return 2 + 2 + 12 + 32 + 128;
        case TensorType::Q6_K: return 128 + 64 + 16 + 2;
    }
    return 1;
}

bool Value::isInteger() const {
    switch (type) {
        case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
        case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
            return true;
        default:
            return false;
    }
}

std::string Value::text(size_t maxItems) const {
    switch (type) {
        case ValueType::U8: case ValueType::U16: case ValueType::U32: case ValueType::U64:
            return std::to_string(u);
        case ValueType::I8: case ValueType::I16: case ValueType::I32: case ValueType::I64:
            return std::to_string(i);
        case ValueType::F32: return shortestFloat(static_cast<float>(f));
        case ValueType::F64: return cat(f);
        case ValueType::Bool: return u ? "true" : "false";
        case ValueType::String: {
            std::string shown = s.size() > 80 ? s.substr(0, 77) + "..." : s;
            for (char& ch : shown)
                if (ch == '\n') ch = ' ';
            return "\"" + shown + "\"";
        }
        case ValueType::Array: {
            std::string out = "[";
            for (size_t k = 0; k < items.size() && k < maxItems; ++k)
                out += (k ? ", " : "") + items[k].text(maxItems);
            if (items.size() > maxItems) out += cat(", ... (", items.size(), " in all)");
            return out + "]";
        }
    }
    return "?";
}

int64_t TensorInfo::numel() const {
    int64_t n = 1;
    for (const int64_t d : dims) n *= d;
    return n;
}

std::vector<int64_t> TensorInfo::shape() const { return {dims.rbegin(), dims.rend()}; }

const Value* Header::find(const std::string& key) const {
    const auto it = metadata.find(key);
    return it == metadata.end() ? nullptr : &it->second;
}

// ---- header ------------------------------------------------------------------------------------

Header parseHeader(const uint8_t* bytes, uint64_t size, const std::string& source) {
    Cursor c{bytes, size, 0, source};
    Header h;
    if (size < 4 || std::memcmp(bytes, "GGUF", 4) != 0)
        failInput(source, ": not a GGUF file (it does not start with the bytes 'GGUF')");
    c.pos = 4;
    h.version = c.get<uint32_t>("the version");
    if (h.version == 1)
        failInput(source, ": GGUF version 1 (32-bit counts) is not supported; expected 2 or 3 "
                          "(re-save it with a current llama.cpp)");
    if (h.version != 2 && h.version != 3)
        failInput(source, ": GGUF version ", h.version, "; expected 2 or 3",
                  h.version > 0xffff ? " (a big-endian file?)" : "");
    const auto tensorCount = c.get<uint64_t>("the tensor count");
    const auto kvCount = c.get<uint64_t>("the metadata count");
    if (kvCount > (size - c.pos) / 12)
        failInput(source, ": truncated GGUF file: the header says ", kvCount,
                  " metadata entries, more than the file's ", size, " bytes hold");
    for (uint64_t k = 0; k < kvCount; ++k) {
        const std::string key = c.string(cat("metadata key ", k));
        if (key.empty()) failInput(source, ": metadata key ", k, " is empty");
        const auto type = c.get<uint32_t>("the value type of " + key);
        if (!knownValueType(type))
            failInput(source, ": metadata ", key, " has value type ", type,
                      ", which GGUF does not define (0-12)");
        if (h.metadata.count(key)) failInput(source, ": metadata key ", key, " appears twice");
        h.metadata.emplace(key, readValue(c, static_cast<ValueType>(type), key, 0));
        h.keys.push_back(key);
    }
    if (const Value* a = h.find("general.alignment")) {
        if (!a->isInteger() || a->u == 0 || (a->u & (a->u - 1)) != 0 || a->u > 65536)
            failInput(source, ": general.alignment is ", a->text(), ", expected a power of two up to 65536");
        h.alignment = a->u;
    }
    if (tensorCount > (size - c.pos) / 24)
        failInput(source, ": truncated GGUF file: the header says ", tensorCount,
                  " tensors, more than the file's ", size, " bytes hold");
    std::set<std::string> names;
    for (uint64_t k = 0; k < tensorCount; ++k) {
        TensorInfo t;
        t.name = c.string(cat("the name of tensor ", k));
        if (!names.insert(t.name).second) failInput(source, ": tensor ", t.name, " appears twice");
        const auto nDims = c.get<uint32_t>("the rank of tensor " + t.name);
        if (nDims == 0 || nDims > kMaxDims)
            failInput(source, ": tensor ", t.name, " has ", nDims, " dimensions, expected 1 to ", kMaxDims);
        uint64_t numel = 1;
        for (uint32_t d = 0; d < nDims; ++d) {
            const auto n = c.get<uint64_t>("the shape of tensor " + t.name);
            if (n == 0 || n > (uint64_t{1} << 40) || numel > (uint64_t{1} << 42) / n)
                failInput(source, ": tensor ", t.name, " has dimension ", d, " = ", n,
                          ", expected a positive size that keeps the tensor under 2^42 elements");
            numel *= n;
            t.dims.push_back(static_cast<int64_t>(n));
        }
        const auto type = c.get<uint32_t>("the type of tensor " + t.name);
        if (!knownTensorType(type))
            failInput(source, ": tensor ", t.name, " has ggml type ", ggmlTypeName(type),
                      ", which Frugal does not read (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, "
                      "Q4_K, Q5_K, Q6_K)");
        t.type = static_cast<TensorType>(type);
        const int64_t block = blockElements(t.type);
        if (t.dims[0] % block != 0)
            failInput(source, ": tensor ", t.name, " (", typeName(t.type), ") has a first dimension of ",
                      t.dims[0], ", not a multiple of the type's block of ", block);
        t.bytes = numel / static_cast<uint64_t>(block) * static_cast<uint64_t>(blockBytes(t.type));
        t.offset = c.get<uint64_t>("the offset of tensor " + t.name);
        if (t.offset % h.alignment != 0)
            failInput(source, ": tensor ", t.name, " starts at data offset ", t.offset,
                      ", not a multiple of the alignment ", h.alignment);
        h.tensors.push_back(std::move(t));
    }
    h.dataOffset = (c.pos + h.alignment - 1) / h.alignment * h.alignment;
    const uint64_t dataSize = size >= h.dataOffset ? size - h.dataOffset : 0;
    for (const TensorInfo& t : h.tensors) {
        if (t.offset > dataSize || t.bytes > dataSize - t.offset)
            failInput(source, ": tensor ", t.name, " (", typeName(t.type), ", ", t.bytes,
                      " bytes at data offset ", t.offset, ") runs past the end of the file (the data "
                      "section holds ", dataSize, " bytes); the file is truncated or corrupt");
    }
    return h;
}

// ---- dequantization ----------------------------------------------------------------------------

void dequantize(TensorType type, const uint8_t* data, int64_t count, float* out) {
    const int64_t blocks = count / blockElements(type);
    const int64_t stride = blockBytes(type);
    switch (type) {
        case TensorType::F32:
            std::memcpy(out, data, static_cast<size_t>(count) * 4);
            return;
        case TensorType::F16:
            for (int64_t k = 0; k < count; ++k) out[k] = f16At(data + 2 * k);
            return;
        case TensorType::BF16:
            for (int64_t k = 0; k < count; ++k) {
                uint16_t b;
                std::memcpy(&b, data + 2 * k, 2);
                const uint32_t bits = uint32_t{b} << 16;
                std::memcpy(out + k, &bits, 4);
            }
            return;
        case TensorType::Q8_0:
            for (int64_t b = 0; b < blocks; ++b) {
                const uint8_t* p = data + b * stride;
                const float d = f16At(p);
                const auto* q = reinterpret_cast<const int8_t*>(p + 2);
                for (int j = 0; j < 32; ++j) out[b * 32 + j] = d * static_cast<float>(q[j]);
            }
            return;
        case TensorType::Q4_0:
        case TensorType::Q4_1:
            for (int64_t b = 0; b < blocks; ++b) {
                const uint8_t* p = data + b * stride;
                const float d = f16At(p);
                const bool withMin = type == TensorType::Q4_1;
                const float m = withMin ? f16At(p + 2) : 0.0f;
                const uint8_t* q = p + (withMin ? 4 : 2);
                float* y = out + b * 32;
                for (int j = 0; j < 16; ++j) {
                    const int lo = q[j] & 0xF, hi = q[j] >> 4;
                    if (withMin) {
                        y[j] = static_cast<float>(lo) * d + m;
                        y[j + 16] = static_cast<float>(hi) * d + m;
                    } else {
                        y[j] = static_cast<float>(lo - 8) * d;
                        y[j + 16] = static_cast<float>(hi - 8) * d;
                    }
                }
            }
            return;
        case TensorType::Q4_K:
        case TensorType::Q5_K:
            for (int64_t b = 0; b < blocks; ++b) {
                const uint8_t* p = data + b * stride;
                const float d = f16At(p);
                const float dmin = f16At(p + 2);
                const uint8_t* scales = p + 4;
                const bool five = type == TensorType::Q5_K;
                const uint8_t* qh = p + 16;
                const uint8_t* ql = p + (five ? 48 : 16);
                float* y = out + b * 256;
                int is = 0;
                uint8_t u1 = 1, u2 = 2;
                for (int j = 0; j < 256; j += 64) {
                    uint8_t sc, mn;
                    scaleMinK4(is, scales, sc, mn);
                    const float d1 = d * sc, m1 = dmin * mn;
                    scaleMinK4(is + 1, scales, sc, mn);
                    const float d2 = d * sc, m2 = dmin * mn;
                    for (int l = 0; l < 32; ++l) {
                        const int high = five && (qh[l] & u1) ? 16 : 0;
                        y[j + l] = d1 * static_cast<float>((ql[l] & 0xF) + high) - m1;
                    }
                    for (int l = 0; l < 32; ++l) {
                        const int high = five && (qh[l] & u2) ? 16 : 0;
                        y[j + 32 + l] = d2 * static_cast<float>((ql[l] >> 4) + high) - m2;
                    }
                    ql += 32;
                    is += 2;
                    u1 = static_cast<uint8_t>(u1 << 2);
                    u2 = static_cast<uint8_t>(u2 << 2);
                }
            }
            return;
        case TensorType::Q6_K:
            for (int64_t b = 0; b < blocks; ++b) {
                const uint8_t* p = data + b * stride;
                const uint8_t* ql = p;
                const uint8_t* qh = p + 128;
                const auto* sc = reinterpret_cast<const int8_t*>(p + 192);
                const float d = f16At(p + 208);
                float* y = out + b * 256;
                for (int n = 0; n < 256; n += 128) {
                    for (int l = 0; l < 32; ++l) {
                        const int is = l / 16;
                        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        y[l] = d * static_cast<float>(sc[is + 0] * q1);
                        y[l + 32] = d * static_cast<float>(sc[is + 2] * q2);
                        y[l + 64] = d * static_cast<float>(sc[is + 4] * q3);
                        y[l + 96] = d * static_cast<float>(sc[is + 6] * q4);
                    }
                    y += 128;
                    ql += 64;
                    qh += 32;
                    sc += 8;
                }
            }
            return;
    }
}

// ---- the file ----------------------------------------------------------------------------------

std::shared_ptr<GgufFile> GgufFile::open(const std::filesystem::path& path) {
    auto file = std::shared_ptr<GgufFile>(new GgufFile());
    file->m_path = path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) failInput(path.string(), ": cannot open (", std::strerror(errno), ")");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        failInput(path.string(), ": not a regular file");
    }
    file->m_size = static_cast<uint64_t>(st.st_size);
    if (file->m_size > 0) {
        void* p = ::mmap(nullptr, file->m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            failInput(path.string(), ": cannot map (", std::strerror(errno), ")");
        }
        file->m_data = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
    file->m_header = parseHeader(file->m_data, file->m_size, path.string());
    return file;
}

GgufFile::~GgufFile() {
    if (m_data) ::munmap(const_cast<uint8_t*>(m_data), m_size);
}

const TensorInfo* GgufFile::tensor(const std::string& name) const {
    for (const TensorInfo& t : m_header.tensors)
        if (t.name == name) return &t;
    return nullptr;
}

torch::Tensor GgufFile::read(const TensorInfo& info) const {
    torch::Tensor out = torch::empty(info.shape(), torch::kFloat32);
    dequantize(info.type, m_data + m_header.dataOffset + info.offset, info.numel(),
               out.data_ptr<float>());
    return out;
}

bool isGgufPath(const std::filesystem::path& path) {
    std::error_code ec;
    return path.extension() == ".gguf" && !std::filesystem::is_directory(path, ec);
}

// ---- conversion --------------------------------------------------------------------------------

namespace {

struct Meta {
    const Header& h;
    const std::string& source;

    const Value& need(const std::string& key) const {
        const Value* v = h.find(key);
        if (!v) failInput(source, ": metadata key ", key, " is missing");
        return *v;
    }
    int64_t integer(const std::string& key) const {
        const Value& v = need(key);
        if (!v.isInteger()) failInput(source, ": metadata ", key, " is ", v.text(), ", expected an integer");
        const bool isSigned = v.type == ValueType::I8 || v.type == ValueType::I16 ||
                              v.type == ValueType::I32 || v.type == ValueType::I64;
        const int64_t n = isSigned ? v.i : static_cast<int64_t>(v.u);
        if (n < 0 || (!isSigned && v.u > (uint64_t{1} << 40)))
            failInput(source, ": metadata ", key, " is ", v.text(), ", expected a size");
        return n;
    }
    int64_t integer(const std::string& key, int64_t fallback) const {
        return h.find(key) ? integer(key) : fallback;
    }
    double number(const std::string& key, double fallback) const {
        const Value* v = h.find(key);
        if (!v) return fallback;
        if (v->type == ValueType::F32 || v->type == ValueType::F64) return v->f;
        if (v->isInteger()) return static_cast<double>(integer(key));
        failInput(source, ": metadata ", key, " is ", v->text(), ", expected a number");
    }
    std::string string(const std::string& key) const {
        const Value& v = need(key);
        if (v.type != ValueType::String) failInput(source, ": metadata ", key, " is ", v.text(), ", expected a string");
        return v.s;
    }
    const std::vector<Value>& array(const std::string& key, ValueType element) const {
        const Value& v = need(key);
        if (v.type != ValueType::Array || (v.elementType != element && !v.items.empty()))
            failInput(source, ": metadata ", key, " is ", v.text(2), ", expected an array");
        return v.items;
    }
};

// The float32 value as the decimal people write (1e-05, not 9.99999975e-06).
double tidy(double v) { return std::strtod(shortestFloat(static_cast<float>(v)).c_str(), nullptr); }

ModelConfig configFor(const Meta& m, const std::string& arch, const GgufFile& file) {
    ModelConfig c;
    const std::string p = arch + ".";
    const auto vocabFromTensor = [&]() -> int64_t {
        const TensorInfo* t = file.tensor("token_embd.weight");
        if (!t || t->dims.size() != 2) failInput(m.source, ": tensor token_embd.weight is missing or not a matrix");
        return t->dims[1];
    };
    c.vocabSize = m.integer(p + "vocab_size", vocabFromTensor());
    c.hiddenSize = m.integer(p + "embedding_length");
    c.intermediateSize = m.integer(p + "feed_forward_length");
    c.numLayers = m.integer(p + "block_count");
    c.numHeads = m.integer(p + "attention.head_count");
    if (c.numHeads <= 0 || c.hiddenSize % c.numHeads != 0)
        failInput(m.source, ": ", p, "attention.head_count = ", c.numHeads, " does not divide ",
                  p, "embedding_length = ", c.hiddenSize);
    c.maxPositions = m.integer(p + "context_length");
    if (m.h.find("tokenizer.ggml.bos_token_id")) c.bosTokenId = m.integer("tokenizer.ggml.bos_token_id");
    if (m.h.find("tokenizer.ggml.eos_token_id")) c.eosTokenId = m.integer("tokenizer.ggml.eos_token_id");
    if (m.h.find("tokenizer.ggml.padding_token_id")) c.padTokenId = m.integer("tokenizer.ggml.padding_token_id");
    if (arch == "llama") {
        c.modelType = "llama";
        c.family = Family::Llama;
        c.numKvHeads = m.integer(p + "attention.head_count_kv", c.numHeads);
        c.headDim = m.integer(p + "attention.key_length", c.hiddenSize / c.numHeads);
        if (const Value* rope = m.h.find(p + "rope.dimension_count")) {
            if (m.integer(p + "rope.dimension_count") != c.headDim)
                failInput(m.source, ": ", p, "rope.dimension_count is ", rope->text(), " but the head size is ",
                          c.headDim, "; partial rotary embeddings are not supported");
        }
        if (const Value* scaling = m.h.find(p + "rope.scaling.type")) {
            if (scaling->type != ValueType::String || (scaling->s != "none" && scaling->s != ""))
                failInput(m.source, ": ", p, "rope.scaling.type is ", scaling->text(),
                          "; rope scaling is not supported");
        }
        if (file.tensor("rope_freqs.weight"))
            failInput(m.source, ": tensor rope_freqs.weight (LLaMA-3.1 rope scaling) is not supported");
        c.ropeTheta = tidy(m.number(p + "rope.freq_base", 10000.0));
        c.rmsNormEps = tidy(m.number(p + "attention.layer_norm_rms_epsilon", 1e-6));
        c.activation = "silu";
        c.attentionBias = file.tensor("blk.0.attn_q.bias") != nullptr;
        c.tieWordEmbeddings = file.tensor("output.weight") == nullptr;
        if (c.numKvHeads <= 0 || c.numHeads % c.numKvHeads != 0)
            failInput(m.source, ": ", p, "attention.head_count_kv = ", c.numKvHeads,
                      " does not divide the ", c.numHeads, " query heads");
    } else {  // gpt2
        c.modelType = "gpt2";
        c.family = Family::Gpt2;
        c.numKvHeads = c.numHeads;
        c.headDim = c.hiddenSize / c.numHeads;
        c.layerNormEps = tidy(m.number(p + "attention.layer_norm_epsilon", 1e-5));
        c.activation = "gelu_new";
        c.tieWordEmbeddings = file.tensor("output.weight") == nullptr;
    }
    return c;
}

// llama.cpp stores LLaMA's q and k rows interleaved per head (convert_hf_to_gguf's permute);
// this puts them back into Hugging Face's rotate-half order.
torch::Tensor unpermute(const torch::Tensor& w, int64_t heads) {
    const auto rows = w.size(0);
    std::vector<int64_t> shape = {heads, rows / heads / 2, 2};
    for (int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
    return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

struct Mapped {
    std::string name;
    enum class Fix { None, Query, Key, Transpose } fix = Fix::None;
};

using BlockTable = std::map<std::string, std::pair<std::string, Mapped::Fix>>;

// "blk.N.SUFFIX" -> PREFIX + "N." + the table's name for SUFFIX; nullopt for anything else.
std::optional<Mapped> mapBlock(const std::string& name, const std::string& prefix, const BlockTable& block) {
    if (name.rfind("blk.", 0) != 0) return std::nullopt;
    const size_t dot = name.find('.', 4);
    if (dot == std::string::npos) return std::nullopt;
    const std::string layer = name.substr(4, dot - 4);
    if (layer.empty() || !std::all_of(layer.begin(), layer.end(), ::isdigit)) return std::nullopt;
    const auto it = block.find(name.substr(dot + 1));
    if (it == block.end()) return std::nullopt;
    return Mapped{prefix + layer + "." + it->second.first, it->second.second};
}

std::optional<Mapped> mapLlama(const std::string& name) {
    static const std::map<std::string, std::string> top = {
        {"token_embd.weight", "model.embed_tokens.weight"},
        {"output_norm.weight", "model.norm.weight"},
        {"output.weight", "lm_head.weight"}};
    if (const auto it = top.find(name); it != top.end()) return Mapped{it->second};
    static const BlockTable block = {
        {"attn_norm.weight", {"input_layernorm.weight", Mapped::Fix::None}},
        {"ffn_norm.weight", {"post_attention_layernorm.weight", Mapped::Fix::None}},
        {"attn_q.weight", {"self_attn.q_proj.weight", Mapped::Fix::Query}},
        {"attn_k.weight", {"self_attn.k_proj.weight", Mapped::Fix::Key}},
        {"attn_v.weight", {"self_attn.v_proj.weight", Mapped::Fix::None}},
        {"attn_output.weight", {"self_attn.o_proj.weight", Mapped::Fix::None}},
        {"attn_q.bias", {"self_attn.q_proj.bias", Mapped::Fix::Query}},
        {"attn_k.bias", {"self_attn.k_proj.bias", Mapped::Fix::Key}},
        {"attn_v.bias", {"self_attn.v_proj.bias", Mapped::Fix::None}},
        {"ffn_gate.weight", {"mlp.gate_proj.weight", Mapped::Fix::None}},
        {"ffn_up.weight", {"mlp.up_proj.weight", Mapped::Fix::None}},
        {"ffn_down.weight", {"mlp.down_proj.weight", Mapped::Fix::None}}};
    return mapBlock(name, "model.layers.", block);
}

std::optional<Mapped> mapGpt2(const std::string& name) {
    static const std::map<std::string, std::string> top = {
        {"token_embd.weight", "transformer.wte.weight"},
        {"position_embd.weight", "transformer.wpe.weight"},
        {"output_norm.weight", "transformer.ln_f.weight"},
        {"output_norm.bias", "transformer.ln_f.bias"},
        {"output.weight", "lm_head.weight"}};
    if (const auto it = top.find(name); it != top.end()) return Mapped{it->second};
    static const BlockTable block = {
        {"attn_norm.weight", {"ln_1.weight", Mapped::Fix::None}},
        {"attn_norm.bias", {"ln_1.bias", Mapped::Fix::None}},
        {"attn_qkv.weight", {"attn.c_attn.weight", Mapped::Fix::Transpose}},
        {"attn_qkv.bias", {"attn.c_attn.bias", Mapped::Fix::None}},
        {"attn_output.weight", {"attn.c_proj.weight", Mapped::Fix::Transpose}},
        {"attn_output.bias", {"attn.c_proj.bias", Mapped::Fix::None}},
        {"ffn_norm.weight", {"ln_2.weight", Mapped::Fix::None}},
        {"ffn_norm.bias", {"ln_2.bias", Mapped::Fix::None}},
        {"ffn_up.weight", {"mlp.c_fc.weight", Mapped::Fix::Transpose}},
        {"ffn_up.bias", {"mlp.c_fc.bias", Mapped::Fix::None}},
        {"ffn_down.weight", {"mlp.c_proj.weight", Mapped::Fix::Transpose}},
        {"ffn_down.bias", {"mlp.c_proj.bias", Mapped::Fix::None}}};
    return mapBlock(name, "transformer.h.", block);
}

// ---- tokenizer ---------------------------------------------------------------------------------

constexpr int kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6;

json addedToken(int64_t id, const std::string& content, bool special, bool normalized) {
    return {{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
            {"rstrip", false}, {"normalized", normalized}, {"special", special}};
}

// A TemplateProcessing post-processor that puts BOS (token NAME, id ID) before each sequence.
json bosTemplate(const std::string& name, int64_t id) {
    const json bos0 = {{"SpecialToken", {{"id", name}, {"type_id", 0}}}};
    const json bos1 = {{"SpecialToken", {{"id", name}, {"type_id", 1}}}};
    const json a = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
    const json b = {{"Sequence", {{"id", "B"}, {"type_id", 1}}}};
    return {{"type", "TemplateProcessing"},
            {"single", json::array({bos0, a})},
            {"pair", json::array({bos0, a, bos1, b})},
            {"special_tokens", {{name, {{"id", name}, {"ids", {id}}, {"tokens", {name}}}}}}};
}

json bpeModel(const std::vector<std::string>& tokens, const std::vector<std::string>& merges,
              bool spm, const std::string& unk) {
    json model;
    model["type"] = "BPE";
    model["dropout"] = nullptr;
    model["unk_token"] = spm ? json(unk) : json(nullptr);
    model["continuing_subword_prefix"] = spm ? json(nullptr) : json("");
    model["end_of_word_suffix"] = spm ? json(nullptr) : json("");
    model["fuse_unk"] = spm;
    model["byte_fallback"] = spm;
    json vocab = json::object();
    for (size_t k = 0; k < tokens.size(); ++k) vocab[tokens[k]] = k;
    model["vocab"] = std::move(vocab);
    model["merges"] = merges;
    return model;
}

}  // namespace

std::string tokenizerJson(const Header& header, const std::string& source) {
    const Meta m{header, source};
    const std::string kind = m.string("tokenizer.ggml.model");
    std::vector<std::string> tokens;
    for (const Value& v : m.array("tokenizer.ggml.tokens", ValueType::String)) {
        if (!isValidUtf8(v.s))
            failInput(source, ": tokenizer.ggml.tokens[", tokens.size(), "] is not valid UTF-8");
        tokens.push_back(v.s);
    }
    if (tokens.empty()) failInput(source, ": metadata tokenizer.ggml.tokens is empty");
    std::vector<int> types(tokens.size(), kNormal);
    if (header.find("tokenizer.ggml.token_type")) {
        const auto& list = m.array("tokenizer.ggml.token_type", ValueType::I32);
        if (list.size() != tokens.size())
            failInput(source, ": metadata tokenizer.ggml.token_type has ", list.size(),
                      " entries for ", tokens.size(), " tokens");
        for (size_t k = 0; k < list.size(); ++k) {
            if (!list[k].isInteger())
                failInput(source, ": metadata tokenizer.ggml.token_type[", k, "] is ", list[k].text(), ", expected an integer");
            types[k] = static_cast<int>(list[k].type == ValueType::I32 || list[k].type == ValueType::I64 ||
                                                list[k].type == ValueType::I16 || list[k].type == ValueType::I8
                                            ? list[k].i
                                            : static_cast<int64_t>(list[k].u));
        }
    }
    std::unordered_map<std::string, int64_t> ids;
    ids.reserve(tokens.size());
    for (size_t k = 0; k < tokens.size(); ++k)
        if (!ids.emplace(tokens[k], static_cast<int64_t>(k)).second)
            failInput(source, ": tokenizer.ggml.tokens holds '", tokens[k], "' twice (ids ", ids[tokens[k]], " and ", k, ")");
    const auto optionalId = [&](const std::string& key) -> std::optional<int64_t> {
        if (!header.find(key)) return std::nullopt;
        const int64_t id = m.integer(key);
        if (id >= static_cast<int64_t>(tokens.size()))
            failInput(source, ": metadata ", key, " is ", id, ", past the ", tokens.size(), " tokens");
        return id;
    };
    const auto bos = optionalId("tokenizer.ggml.bos_token_id");
    const auto eos = optionalId("tokenizer.ggml.eos_token_id");
    const auto unk = optionalId("tokenizer.ggml.unknown_token_id");
    const bool spm = kind == "llama";
    const Value* addBosValue = header.find("tokenizer.ggml.add_bos_token");
    const bool addBos = addBosValue ? addBosValue->u != 0 : spm;

    json j;
    j["version"] = "1.0";
    j["truncation"] = nullptr;
    j["padding"] = nullptr;
    json added = json::array();
    for (size_t k = 0; k < tokens.size(); ++k)
        if (types[k] == kControl || types[k] == kUserDefined || (spm && types[k] == kUnknown))
            added.push_back(addedToken(static_cast<int64_t>(k), tokens[k], types[k] != kUserDefined,
                                       types[k] == kUserDefined));
    j["added_tokens"] = added;

    std::vector<std::string> merges;
    if (kind == "gpt2") {
        for (const Value& v : m.array("tokenizer.ggml.merges", ValueType::String)) {
            if (!isValidUtf8(v.s))
                failInput(source, ": tokenizer.ggml.merges[", merges.size(), "] is not valid UTF-8");
            const size_t space = v.s.find(' ');
            if (space == std::string::npos || space == 0 || space + 1 == v.s.size() ||
                v.s.find(' ', space + 1) != std::string::npos)
                failInput(source, ": tokenizer.ggml.merges holds '", v.s, "', expected two tokens \"a b\"");
            merges.push_back(v.s);
        }
        const std::string pre = header.find("tokenizer.ggml.pre") ? m.string("tokenizer.ggml.pre") : "default";
        const json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                                {"trim_offsets", true}, {"use_regex", true}};
        j["normalizer"] = nullptr;
        if (pre == "default" || pre == "gpt-2") {
            j["pre_tokenizer"] = byteLevel;
        } else if (pre == "smollm") {  // llama.cpp's smollm: each digit alone, then GPT-2's split
            j["pre_tokenizer"] = {{"type", "Sequence"},
                                  {"pretokenizers", json::array({{{"type", "Digits"}, {"individual_digits", true}},
                                                                 byteLevel})}};
        } else {
            failInput(source, ": tokenizer.ggml.pre is '", pre,
                      "', a pre-tokenizer Frugal does not implement (supported: default, gpt-2, smollm); "
                      "its token ids would differ from the model's");
        }
        if (addBos && bos) {
            j["post_processor"] = bosTemplate(tokens[*bos], *bos);
        } else {
            j["post_processor"] = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                                   {"trim_offsets", false}, {"use_regex", true}};
        }
        j["decoder"] = byteLevel;
    } else if (spm) {
        std::vector<double> scores(tokens.size(), 0.0);
        const auto& list = m.array("tokenizer.ggml.scores", ValueType::F32);
        if (list.size() != tokens.size())
            failInput(source, ": metadata tokenizer.ggml.scores has ", list.size(), " entries for ",
                      tokens.size(), " tokens");
        for (size_t k = 0; k < list.size(); ++k) scores[k] = list[k].f;
        // Merges as Hugging Face's SentencePiece extractor derives them from the scores: every
        // split of a normal piece into two normal pieces, ranked by the whole piece's score
        // (highest first), the splits of one piece by (left id, right id).
        struct Merge {
            int64_t left, right;
            double score;
            int64_t order;
        };
        std::vector<Merge> found;
        for (size_t k = 0; k < tokens.size(); ++k) {
            if (types[k] != kNormal) continue;
            const std::string& piece = tokens[k];
            std::vector<std::pair<int64_t, int64_t>> local;
            for (size_t cut = 1; cut < piece.size(); ++cut) {
                const auto l = ids.find(piece.substr(0, cut));
                const auto r = ids.find(piece.substr(cut));
                if (l == ids.end() || r == ids.end()) continue;
                if (types[static_cast<size_t>(l->second)] != kNormal || types[static_cast<size_t>(r->second)] != kNormal) continue;
                local.emplace_back(l->second, r->second);
            }
            std::sort(local.begin(), local.end());
            for (const auto& [l, r] : local)
                found.push_back({l, r, scores[k], static_cast<int64_t>(found.size())});
        }
        std::stable_sort(found.begin(), found.end(),
                         [](const Merge& a, const Merge& b) { return a.score > b.score; });
        for (const Merge& mg : found) {
            const std::string& l = tokens[static_cast<size_t>(mg.left)];
            const std::string& r = tokens[static_cast<size_t>(mg.right)];
            if (l.find(' ') != std::string::npos || r.find(' ') != std::string::npos)
                failInput(source, ": tokenizer piece '", l, "' or '", r, "' holds a space");
            merges.push_back(l + " " + r);
        }
        const std::string space = "\xe2\x96\x81";  // U+2581
        const Value* prefix = header.find("tokenizer.ggml.add_space_prefix");
        const bool addPrefix = prefix ? prefix->u != 0 : true;
        json normalizers = json::array();
        if (addPrefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", space}});
        normalizers.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}});
        j["normalizer"] = {{"type", "Sequence"}, {"normalizers", normalizers}};
        j["pre_tokenizer"] = nullptr;
        if (addBos && bos) {
            j["post_processor"] = bosTemplate(tokens[*bos], *bos);
        } else {
            j["post_processor"] = nullptr;
        }
        json decoders = json::array(
            {{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
             {{"type", "ByteFallback"}},
             {{"type", "Fuse"}}});
        if (addPrefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
        j["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
        for (size_t k = 0; k < tokens.size(); ++k)
            if (types[k] == kByte && tokens[k].size() != 6)
                failInput(source, ": byte piece ", k, " is '", tokens[k], "', expected <0xNN>");
    } else {
        failInput(source, ": tokenizer.ggml.model is '", kind,
                  "'; Frugal converts 'gpt2' (byte-level BPE) and 'llama' (SentencePiece) tokenizers");
    }
    j["model"] = bpeModel(tokens, merges, spm, unk ? tokens[*unk] : std::string("<unk>"));
    (void)eos;
    try {
        return j.dump(1, ' ', false, json::error_handler_t::strict);
    } catch (const json::exception& e) {  // every string was checked above; say so if one slipped
        failInput(source, ": the tokenizer metadata cannot be written as JSON: ", e.what());
    }
}

ConvertResult convert(const std::filesystem::path& path, const std::filesystem::path& outDir,
                      const ConvertOptions& options) {
    const auto file = GgufFile::open(path);
    const Header& h = file->header();
    const std::string source = path.string();
    const Meta m{h, source};
    const std::string arch = m.string("general.architecture");
    if (arch != "llama" && arch != "gpt2")
        failInput(source, ": general.architecture is '", arch,
                  "'; Frugal converts llama (LLaMA, Mistral, SmolLM) and gpt2 GGUF files (llama.cpp has "
                  "no OPT architecture: load OPT from its Hugging Face folder)");
    const ModelConfig config = configFor(m, arch, *file);
    const std::string tokenizer = tokenizerJson(h, source);

    ConvertResult result;
    result.architecture = arch;
    NamedTensors tensors;
    std::set<std::string> seen;
    for (const TensorInfo& t : h.tensors) {
        const auto mapped = arch == "llama" ? mapLlama(t.name) : mapGpt2(t.name);
        if (!mapped)
            failInput(source, ": tensor ", t.name, " is not one Frugal maps for architecture ", arch);
        torch::Tensor w = file->read(t);
        if (!torch::isfinite(w).all().item<bool>())
            failInput(source, ": tensor ", t.name, " (", typeName(t.type), ") holds NaN or infinite values");
        switch (mapped->fix) {
            case Mapped::Fix::Query: w = unpermute(w, config.numHeads); break;
            case Mapped::Fix::Key: w = unpermute(w, config.numKvHeads); break;
            case Mapped::Fix::Transpose: w = w.t().contiguous(); break;
            case Mapped::Fix::None: break;
        }
        w = w.to(toScalarType(options.dtype)).contiguous();
        ++result.tensors;
        result.parameters += t.numel();
        ++result.tensorsByType[typeName(t.type)];
        seen.insert(mapped->name);
        tensors.emplace_back(mapped->name, std::move(w));
    }
    result.vocabulary = config.vocabSize;
    ModelConfig written = config;
    written.torchDtype = options.dtype == DType::BF16 ? "bfloat16" : options.dtype == DType::F16 ? "float16" : "float32";
    std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                   {"frugal.converted_from", path.filename().string()}};
    if (const Value* name = h.find("general.name"); name && name->type == ValueType::String)
        metadata["frugal.gguf_name"] = name->s;
    std::filesystem::create_directories(outDir);
    writeSafetensors(outDir / "model.safetensors", tensors, options.dtype, metadata);
    writeTextAtomically(outDir / "config.json", written.toJson());
    writeTextAtomically(outDir / "tokenizer.json", tokenizer);
    return result;
}

std::filesystem::path modelFolderFor(const std::filesystem::path& path) {
    if (!isGgufPath(path)) return path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        failInput(path.string(), ": file does not exist");
    std::filesystem::path root;
    if (const char* d = std::getenv("FRUGAL_CACHE_DIR"); d && *d) {
        root = d;
    } else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
        root = std::filesystem::path(x) / "frugal";
    } else if (const char* home = std::getenv("HOME"); home && *home) {
        root = std::filesystem::path(home) / ".cache" / "frugal";
    } else {
        root = std::filesystem::temp_directory_path() / "frugal-cache";
    }
    const auto size = std::filesystem::file_size(path, ec);
    const auto time = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
    const std::filesystem::path dir =
        root / "gguf" / cat(path.stem().string(), "-", size, "-", std::hex, static_cast<uint64_t>(time));
    if (std::filesystem::exists(dir / "model.safetensors", ec) &&
        std::filesystem::exists(dir / "config.json", ec) && std::filesystem::exists(dir / "tokenizer.json", ec))
        return dir;
    convert(path, dir);
    return dir;
}

}  // namespace frugal::model::gguf
