#pragma once
// Precompiled header of frugal_core and the torch-using tests: ATen's tensors and operators and
// the torch:: names of <torch/types.h>, not all of <torch/torch.h> (torch::nn, torch::optim,
// serialisation, the data loaders): the files that use those include their own headers. The
// smaller header is a smaller precompiled file, loaded by every translation unit
// (docs/BENCHMARKS.md, build times).

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
