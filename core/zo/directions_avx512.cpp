// The direction kernels for AVX512 (flags in core/CMakeLists.txt).
#define FRUGAL_KERNEL_NS avx512
#include "zo/direction_kernels.inc"
