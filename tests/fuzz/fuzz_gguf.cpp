// libFuzzer target: any byte string given to the GGUF header parser either parses into tensors
// whose bytes lie inside the data section, or is refused with frugal::Error; every tensor that
// parses dequantizes, and the tokenizer metadata, when there is some, converts or is refused.

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "common/error.h"
#include "model/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace gguf = frugal::model::gguf;
    try {
        const gguf::Header h = gguf::parseHeader(data, size, "fuzz");
        if (h.dataOffset % h.alignment != 0) std::abort();
        for (const auto& t : h.tensors) {
            // the parser's promises: inside the data, sized by type x shape
            if (h.dataOffset > size || t.offset > size - h.dataOffset ||
                t.bytes > size - h.dataOffset - t.offset)
                std::abort();
            const int64_t blocks = t.numel() / gguf::blockElements(t.type);
            if (static_cast<uint64_t>(blocks * gguf::blockBytes(t.type)) != t.bytes) std::abort();
            std::vector<float> out(static_cast<size_t>(t.numel()));
            gguf::dequantize(t.type, data + h.dataOffset + t.offset, t.numel(), out.data());
        }
        if (h.find("tokenizer.ggml.model")) (void)gguf::tokenizerJson(h, "fuzz");
    } catch (const frugal::Error&) {
    }
    return 0;
}
