#include "zo/perturb.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "common/error.h"

namespace frugal::zo {

namespace {

// Calls BODY(float* weights-as-fp32, const float* z, n) chunk by chunk over TENSOR, writing the
// chunk back in the tensor's dtype.
template <typename Body>
void forEachChunk(const Trainable& p, uint64_t seed, DirectionLaw law, const Body& body) {
    torch::Tensor t = p.tensor;
    if (!t.is_contiguous() || !t.device().is_cpu())
        fail("ZO perturbation: trainable tensor '", p.name, "' must be contiguous and on the CPU");
    const int64_t n = t.numel();
    const auto dtype = t.scalar_type();
    at::parallel_for(0, (n + kChunk - 1) / kChunk, 1, [&](int64_t firstChunk, int64_t endChunk) {
        float z[kChunk];
        float w[kChunk];
        for (int64_t c = firstChunk; c < endChunk; ++c) {
            const int64_t start = c * kChunk;
            const int64_t len = std::min(kChunk, n - start);
            directionRange(seed, p.index, static_cast<uint64_t>(start), static_cast<uint64_t>(len),
                           law == DirectionLaw::Sphere ? DirectionLaw::Gaussian : law, z);
            if (dtype == torch::kFloat32) {
                body(t.data_ptr<float>() + start, z, len);
            } else if (dtype == torch::kBFloat16) {
                auto* data = t.data_ptr<at::BFloat16>() + start;
                for (int64_t i = 0; i < len; ++i) w[i] = static_cast<float>(data[i]);
                body(w, z, len);
                for (int64_t i = 0; i < len; ++i) data[i] = at::BFloat16(w[i]);
            } else if (dtype == torch::kFloat16) {
                auto* data = t.data_ptr<at::Half>() + start;
                for (int64_t i = 0; i < len; ++i) w[i] = static_cast<float>(data[i]);
                body(w, z, len);
                for (int64_t i = 0; i < len; ++i) data[i] = at::Half(w[i]);
            } else {
                fail("ZO perturbation: trainable tensor '", p.name, "' has dtype ",
                     c10::toString(dtype), ", expected float32, bfloat16 or float16");
            }
        }
    });
}

}  // namespace

double directionScale(const std::vector<Trainable>& params, uint64_t seed, DirectionLaw law) {
    if (law != DirectionLaw::Sphere) return 1.0;
    double sumSquares = 0;
    int64_t d = 0;
    std::vector<float> z(kChunk);
    for (const auto& p : params) {  // sequential, in a fixed order: the same sum everywhere
        const int64_t n = p.tensor.numel();
        for (int64_t start = 0; start < n; start += kChunk) {
            const int64_t len = std::min(kChunk, n - start);
            directionRange(seed, p.index, static_cast<uint64_t>(start), static_cast<uint64_t>(len),
                           DirectionLaw::Gaussian, z.data());
            for (int64_t i = 0; i < len; ++i) sumSquares += double(z[i]) * double(z[i]);
        }
        d += n;
    }
    return std::sqrt(static_cast<double>(d) / sumSquares);
}

void perturb(const std::vector<Trainable>& params, uint64_t seed, double scale, DirectionLaw law) {
    const auto s = static_cast<float>(scale * directionScale(params, seed, law));
    for (const auto& p : params)
        forEachChunk(p, seed, law, [s](float* w, const float* z, int64_t n) {
            for (int64_t i = 0; i < n; ++i) w[i] += s * z[i];
        });
}

void restoreAndUpdate(const std::vector<Trainable>& params, uint64_t seed, double eps, double lr,
                      double projectedGradient, double weightDecay, DirectionLaw law) {
    const double k = directionScale(params, seed, law);
    const auto e = static_cast<float>(eps * k);
    const auto step = static_cast<float>(lr * projectedGradient * k);
    for (const auto& p : params) {
        const auto keep = static_cast<float>(1.0 - lr * (p.decay ? weightDecay : 0.0));
        forEachChunk(p, seed, law, [=](float* w, const float* z, int64_t n) {
            for (int64_t i = 0; i < n; ++i) w[i] = (w[i] + e * z[i]) * keep - step * z[i];
        });
    }
}

}  // namespace frugal::zo
