// libFuzzer target: any byte string given to the safetensors header parser either parses into
// tensors whose ranges lie inside the data, or is refused with frugal::Error.

#include <cstdint>
#include <cstdlib>

#include "common/error.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        std::map<std::string, std::string> metadata;
        const auto tensors =
            frugal::model::SafetensorsFile::parseHeader(data, size, "fuzz", &metadata);
        uint64_t headerLen = 0;
        for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | data[i];
        const uint64_t dataSize = size - 8 - headerLen;
        for (const auto& t : tensors) {
            // the parser's promises: ranges ordered, inside the data, matching dtype x shape
            if (t.begin > t.end || t.end > dataSize) std::abort();
            if (static_cast<uint64_t>(t.numel() * frugal::model::dtypeSize(t.dtype)) !=
                t.end - t.begin)
                std::abort();
        }
    } catch (const frugal::Error&) {
    }
    return 0;
}
