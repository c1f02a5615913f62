#pragma once
// Precompiled header of frugal_core and the torch-using tests: the only place <torch/torch.h>
// is included.

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
