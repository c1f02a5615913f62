# The CUDA kernels of the zeroth-order passes (core/cuda/). Included from the top-level
# CMakeLists.txt after find_package(Torch) and enable_testing().
#
# - nvcc installed: ctest compiles core/cuda/zo_kernels.cu (test cuda_kernels_compile, label
#   unit), so the kernels cannot rot on machines without a GPU or a CUDA LibTorch.
# - nvcc installed and LibTorch built with CUDA: the kernels are also built into the static
#   library frugal_cuda, and FRUGAL_WITH_CUDA is ON for the caller (OFF otherwise).
# The CPU build never depends on either.

set(FRUGAL_WITH_CUDA OFF)

if(CMAKE_CUDA_COMPILER)
    set(FRUGAL_NVCC "${CMAKE_CUDA_COMPILER}")
else()
    find_program(FRUGAL_NVCC nvcc PATHS /usr/local/cuda/bin DOC "nvcc that compile-checks core/cuda/")
endif()

if(NOT FRUGAL_NVCC)
    message(STATUS "nvcc not found: core/cuda/ kernels are not compiled; the CPU build is unaffected")
    return()
endif()

# -fmad=false: no a*b+c contraction, so the kernels give the CPU engine's bits (the math header
# does not rely on it, using the __f*_rn intrinsics, but says so once more).
add_test(NAME cuda_kernels_compile
         COMMAND ${FRUGAL_NVCC} -std=c++17 -fmad=false -I${PROJECT_SOURCE_DIR}/core
                 -c ${PROJECT_SOURCE_DIR}/core/cuda/zo_kernels.cu -o ${CMAKE_BINARY_DIR}/cuda_kernels_check.o)
set_tests_properties(cuda_kernels_compile PROPERTIES LABELS "unit;fast")
message(STATUS "nvcc found (${FRUGAL_NVCC}): ctest compile-checks the core/cuda/ kernels (cuda_kernels_compile)")

# Linking the kernels only makes sense where LibTorch can hand them device tensors.
if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda)
    if(NOT CMAKE_CUDA_COMPILER)
        set(CMAKE_CUDA_COMPILER "${FRUGAL_NVCC}")
    endif()
    # the architectures: Torch's CMake puts TORCH_CUDA_ARCH_LIST's -gencode flags (A100, H100, PTX
    # for later GPUs; the top-level CMakeLists.txt) into CMAKE_CUDA_FLAGS
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    add_library(frugal_cuda STATIC ${PROJECT_SOURCE_DIR}/core/cuda/zo_kernels.cu)
    target_include_directories(frugal_cuda PUBLIC ${PROJECT_SOURCE_DIR}/core)
    target_compile_options(frugal_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-fmad=false>)
    set_target_properties(frugal_cuda PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON
                                                 POSITION_INDEPENDENT_CODE ON)
    # the static runtime: no libcudart to find at run time beside LibTorch's own
    target_link_libraries(frugal_cuda PUBLIC CUDA::cudart_static)
    set(FRUGAL_WITH_CUDA ON)
    message(STATUS "LibTorch has CUDA: building frugal_cuda (core/cuda/zo_kernels.cu), FRUGAL_WITH_CUDA ON")
endif()
