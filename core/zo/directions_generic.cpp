// The direction kernels for the baseline instruction set (flags in core/CMakeLists.txt).
#define FRUGAL_KERNEL_NS generic
#include "zo/direction_kernels.inc"
