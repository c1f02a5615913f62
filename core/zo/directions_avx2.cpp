// The direction kernels for AVX2 (flags in core/CMakeLists.txt).
#define FRUGAL_KERNEL_NS avx2
#include "zo/direction_kernels.inc"
