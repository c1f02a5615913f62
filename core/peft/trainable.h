#pragma once
// One trainable tensor: what every method that trains (zeroth-order, first-order, SharpZO)
// perturbs or updates. The tensor is the model's own (shared, not copied).

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace frugal::peft {

struct Trainable {
    std::string name;
    torch::Tensor tensor;  // contiguous, on CPU; fp32, bf16 or fp16
    uint32_t index = 0;    // stream id of its direction (its position in the trainable set)
    bool decay = true;     // MeZO skips weight decay for bias and norm tensors
};

}  // namespace frugal::peft
