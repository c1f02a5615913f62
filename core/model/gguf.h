#pragma once
// GGUF (llama.cpp's model file, versions 2 and 3): the header, metadata and tensor table parsed
// and validated; tensors dequantized (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K) into
// float tensors in Hugging Face's layout; a whole file converted into a Hugging Face folder
// (config.json, model.safetensors, tokenizer.json) that the rest of Frugal loads as it is.
//
// Architectures: "llama" (LLaMA, Mistral, SmolLM: llama.cpp's permutation of the query and key
// rows is undone) and "gpt2". Tokenizers: tokenizer.ggml.model "gpt2" (byte-level BPE; the
// pre-tokenizers "default", "gpt-2" and "smollm") and "llama" (SentencePiece: merges derived
// from the scores as Hugging Face's converter does). Anything else is refused with the key that
// names it.

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace frugal::model::gguf {

enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8,
    Array = 9, U64 = 10, I64 = 11, F64 = 12
};

// ggml's tensor types that Frugal reads (the numbers are the file's).
enum class TensorType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 8, Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30
};

std::string typeName(TensorType type);
// Elements per block and bytes per block of `type`.
int64_t blockElements(TensorType type);
int64_t blockBytes(TensorType type);

struct Value {
    ValueType type = ValueType::U8;
    ValueType elementType = ValueType::U8;  // arrays
    uint64_t u = 0;                         // unsigned and bool
    int64_t i = 0;                          // signed
    double f = 0;                           // float
    std::string s;                          // string
    std::vector<Value> items;               // array

    bool isInteger() const;
    std::string text(size_t maxItems = 8) const;  // for listings
};

struct TensorInfo {
    std::string name;
    TensorType type = TensorType::F32;
    std::vector<int64_t> dims;  // ggml order: dims[0] is the contiguous one
    uint64_t offset = 0;        // relative to the data section
    uint64_t bytes = 0;
    int64_t numel() const;
    std::vector<int64_t> shape() const;  // torch order (dims reversed)
};

struct Header {
    uint32_t version = 0;
    std::vector<std::string> keys;  // file order
    std::map<std::string, Value> metadata;
    std::vector<TensorInfo> tensors;
    uint64_t alignment = 32;
    uint64_t dataOffset = 0;  // start of the data section in the file

    const Value* find(const std::string& key) const;
};

// Parses and validates a header held in memory: magic, version, counts, string and array
// lengths, tensor types, shapes, alignment, and every tensor inside `size` bytes. `source` names
// the file in messages. Used by GgufFile::open and by the fuzzer.
Header parseHeader(const uint8_t* bytes, uint64_t size, const std::string& source);

// Dequantizes `count` elements of `type` from `data` into `out`.
void dequantize(TensorType type, const uint8_t* data, int64_t count, float* out);

class GgufFile {
public:
    static std::shared_ptr<GgufFile> open(const std::filesystem::path& path);
    const std::filesystem::path& path() const { return m_path; }
    const Header& header() const { return m_header; }
    const TensorInfo* tensor(const std::string& name) const;
    // The tensor dequantized into a float32 CPU tensor of shape info.shape().
    torch::Tensor read(const TensorInfo& info) const;
    ~GgufFile();

private:
    std::filesystem::path m_path;
    const uint8_t* m_data = nullptr;
    uint64_t m_size = 0;
    Header m_header;
};

bool isGgufPath(const std::filesystem::path& path);

struct ConvertOptions {
    DType dtype = DType::F32;
};

struct ConvertResult {
    std::string architecture;
    int64_t tensors = 0;
    int64_t parameters = 0;
    std::map<std::string, int64_t> tensorsByType;  // source types
    int64_t vocabulary = 0;
};

// Writes OUT/config.json, OUT/model.safetensors and OUT/tokenizer.json (each atomically) from a
// GGUF file. Throws frugal::InputError naming the key or tensor for what it cannot convert.
ConvertResult convert(const std::filesystem::path& file, const std::filesystem::path& outDir,
                      const ConvertOptions& options = {});

// The tokenizer.json text for the tokenizer.ggml.* metadata of `header`.
std::string tokenizerJson(const Header& header, const std::string& source);

// A model folder for `path`: `path` itself unless it is a .gguf file, which is converted once
// (fp32) into a folder under the cache (FRUGAL_CACHE_DIR, else XDG_CACHE_HOME/frugal, else
// ~/.cache/frugal) keyed by the file's name, size and modification time.
std::filesystem::path modelFolderFor(const std::filesystem::path& path);

}  // namespace frugal::model::gguf
