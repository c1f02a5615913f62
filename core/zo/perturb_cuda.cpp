#include "zo/perturb_cuda.h"

#include "common/error.h"
#include "zo/perturb.h"

#if FRUGAL_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace frugal::zo {

bool trainablesOnCuda(const std::vector<peft::Trainable>& params) {
    if (params.empty()) return false;
    const torch::Device first = params.front().tensor.device();
    for (const auto& p : params) {
        const torch::Device d = p.tensor.device();
        if (!d.is_cpu() && !d.is_cuda())
            fail("ZO perturbation: trainable tensor '", p.name, "' is on ", d.str(),
                 "; the passes run on the CPU or on CUDA");
        if (d != first)
            fail("ZO perturbation: trainable tensor '", p.name, "' is on ", d.str(), " and '", params.front().name,
                 "' on ", first.str(), "; every trainable must be on the run's one device");
    }
#if !FRUGAL_WITH_CUDA
    if (first.is_cuda())
        fail("ZO perturbation: trainable tensor '", params.front().name,
             "' is on CUDA, and this build has no CUDA kernels for the passes (configure with nvcc and a CUDA "
             "LibTorch)");
#endif
    return first.is_cuda();
}

#if FRUGAL_WITH_CUDA

namespace {

cuda::WeightType weightType(const peft::Trainable& p) {
    const auto t = p.tensor.scalar_type();
    if (t == torch::kFloat32) return cuda::WeightType::F32;
    if (t == torch::kBFloat16) return cuda::WeightType::BF16;
    if (t == torch::kHalf) return cuda::WeightType::F16;
    fail("ZO perturbation: trainable tensor '", p.name, "' has dtype ", c10::toString(t),
         ", expected float32, bfloat16 or float16");
}

void checkContiguous(const peft::Trainable& p) {
    if (!p.tensor.is_contiguous()) fail("ZO perturbation: trainable tensor '", p.name, "' must be contiguous");
}

cuda::Law lawOf(DirectionLaw law) {
    return law == DirectionLaw::Rademacher ? cuda::Law::Rademacher : cuda::Law::Gaussian;
}

uint64_t* maskWords(const SparseMask* mask, size_t pi) {
    if (!mask) return nullptr;
    if (pi >= mask->deviceBits.size())
        fail("ZO perturbation: the Sparse-MeZO mask has no device words for trainable ", pi);
    return reinterpret_cast<uint64_t*>(mask->deviceBits[pi].data_ptr<int64_t>());
}

// The fields every kernel call takes for trainable PI (TensorPass or TensorUpdate): its device
// weights, dtype, size, direction stream, law, mask words and the current stream of its device.
template <typename Call>
Call callFor(const peft::Trainable& p, size_t pi, DirectionLaw law, const SparseMask* mask) {
    checkContiguous(p);
    Call call;
    call.weights = p.tensor.data_ptr();
    call.type = weightType(p);
    call.n = p.tensor.numel();
    call.tensor = p.index;
    call.law = lawOf(law);
    call.maskBits = maskWords(mask, pi);
    call.stream = c10::cuda::getCurrentCUDAStream(p.tensor.device().index()).stream();
    return call;
}

}  // namespace

void cudaPass(const std::vector<peft::Trainable>& params, const cuda::RestoreUpdate* update,
              const cuda::Perturbation* perturb, DirectionLaw law, const SparseMask* mask) {
    for (size_t pi = 0; pi < params.size(); ++pi) {
        const peft::Trainable& p = params[pi];
        const c10::cuda::CUDAGuard guard(p.tensor.device());
        auto pass = callFor<cuda::TensorPass>(p, pi, law, mask);
        cuda::RestoreUpdate u;
        if (update) {
            u = *update;
            u.decay = p.decay;
            pass.update = &u;
        }
        cuda::Perturbation s;
        if (perturb) {
            s = *perturb;
            s.refresh = perturb->refresh && mask && !mask->fixed;
            s.threshold = mask ? mask->thresholds[pi] : 0.0f;
            pass.perturb = &s;
        }
        cuda::applyPass(pass);
    }
}

void cudaUpdate(const std::vector<peft::Trainable>& params, const std::vector<uint64_t>& seeds,
                const std::vector<float>& coefficients, DirectionLaw law, const ZoOptimizer& optimizer,
                const UpdateRule& rule, OptimizerState& state, const SparseMask* mask) {
    const auto device = params.front().tensor.device();
    const torch::Tensor seedsOnDevice =
        torch::from_blob(const_cast<uint64_t*>(seeds.data()), {static_cast<int64_t>(seeds.size())}, torch::kInt64)
            .to(device);
    const torch::Tensor coefficientsOnDevice =
        torch::from_blob(const_cast<float*>(coefficients.data()), {static_cast<int64_t>(coefficients.size())},
                         torch::kFloat32)
            .to(device);
    for (size_t pi = 0; pi < params.size(); ++pi) {
        const peft::Trainable& p = params[pi];
        const c10::cuda::CUDAGuard guard(p.tensor.device());
        auto u = callFor<cuda::TensorUpdate>(p, pi, law, mask);
        u.queries = static_cast<int64_t>(seeds.size());
        u.seeds = reinterpret_cast<const uint64_t*>(seedsOnDevice.data_ptr<int64_t>());
        u.coefficients = coefficientsOnDevice.data_ptr<float>();
        u.rule = optimizer.element;
        u.floats = ruleFloats(rule, static_cast<float>(1.0 - rule.lr * (p.decay ? rule.weightDecay : 0.0)));
        u.m = optimizer.stateBuffers >= 1 ? state.first[pi].data_ptr<float>() : nullptr;
        u.v = optimizer.stateBuffers >= 2 ? state.second[pi].data_ptr<float>() : nullptr;
        cuda::applyUpdate(u);
    }
}

std::vector<torch::Tensor> maskWordsOnDevice(const std::vector<peft::Trainable>& params,
                                             const std::vector<std::vector<uint64_t>>& bits) {
    std::vector<torch::Tensor> words;
    for (size_t pi = 0; pi < params.size(); ++pi) {
        auto& host = const_cast<std::vector<uint64_t>&>(bits[pi]);
        words.push_back(torch::from_blob(host.data(), {static_cast<int64_t>(host.size())}, torch::kInt64)
                            .to(params[pi].tensor.device()));
    }
    return words;
}

#else

void cudaPass(const std::vector<peft::Trainable>& params, const cuda::RestoreUpdate*, const cuda::Perturbation*,
              DirectionLaw, const SparseMask*) {
    trainablesOnCuda(params);
    fail("ZO perturbation: this build has no CUDA kernels");
}

void cudaUpdate(const std::vector<peft::Trainable>& params, const std::vector<uint64_t>&, const std::vector<float>&,
                DirectionLaw, const ZoOptimizer&, const UpdateRule&, OptimizerState&, const SparseMask*) {
    trainablesOnCuda(params);
    fail("ZO perturbation: this build has no CUDA kernels");
}

std::vector<torch::Tensor> maskWordsOnDevice(const std::vector<peft::Trainable>& params,
                                             const std::vector<std::vector<uint64_t>>&) {
    trainablesOnCuda(params);
    fail("ZO perturbation: this build has no CUDA kernels");
}

#endif

}  // namespace frugal::zo
