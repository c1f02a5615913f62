#pragma once
// Loss-landscape slices and forward-only sharpness of a model around its weights θ₀ (Li et al.,
// "Visualizing the Loss Landscape of Neural Nets", 2018; SPEC-ZO §7 for sharpness):
//   directions   random Gaussian, filter-normalised: in every tensor of two or more dimensions
//                each row (a Linear layer's output neuron, an embedding's token; trailing
//                dimensions flattened) is rescaled to the norm of the same row of θ₀; tensors of
//                one dimension (norm weights, biases) get no component. Raw Gaussian (a ZO step's
//                direction z, regenerated from its seed). Dense: θ_B − θ_A between two models.
//                Random directions are regenerated from their seed at every grid point (Philox,
//                zo/directions.h), never stored; only a per-row scale is kept.
//   slices       L(θ₀ + αd₁) on a 1-D grid, L(θ₀ + αd₁ + βd₂) on a 2-D grid (default 51 and
//                51×51 points on [−1, 1]), on one fixed batch; θ is set from a copy of θ₀ at the
//                start of every row and at α = 0 (so the centre is θ₀ bit for bit), and moved by
//                Δα·d₁ between the other points of a row; nothing is reloaded.
//   sharpness    Hutchinson trace and ε-ball maximum (zo/sharpness.h) in the trainables' space,
//                and SAM's one-step sharpness L(θ + ρ∇L/‖∇L‖) − L(θ) where gradients exist.

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/events.h"
#include "peft/trainable.h"
#include "zo/directions.h"

namespace frugal::analysis {

using peft::Trainable;

struct Direction {
    enum class Kind { Random, Dense };
    Kind kind = Kind::Random;
    uint64_t seed = 0;
    zo::DirectionLaw law = zo::DirectionLaw::Gaussian;
    std::vector<std::vector<float>> rowScale;  // Random: per tensor, per row; empty: no component
    std::vector<torch::Tensor> dense;          // Dense: per tensor, fp32, the tensor's shape
    double norm = 0;                           // ‖d‖ over all tensors
};

// The filter-normalised random direction of SEED over PARAMS (at their current values, θ₀).
Direction filterNormalised(const std::vector<Trainable>& params, uint64_t seed);
// The raw direction of SEED under LAW over every tensor (a ZO step's z), scaled by SCALE.
Direction rawDirection(const std::vector<Trainable>& params, uint64_t seed, zo::DirectionLaw law,
                       double scale = 1.0);
// θ_B − θ_A: TARGET holds θ_B, one tensor per trainable in the same order and shapes.
Direction between(const std::vector<Trainable>& params, const std::vector<torch::Tensor>& target);
// The direction's values over tensor T ([numel], fp32): for tests and small models.
torch::Tensor materialise(const Direction& d, const std::vector<Trainable>& params, size_t t);

// Holds a copy of θ₀ (fp32) and sets the trainables to θ₀ + Σ c_k·d_k in place.
class Mover {
public:
    explicit Mover(std::vector<Trainable> params);
    ~Mover();  // leaves θ₀ in place
    Mover(const Mover&) = delete;
    Mover& operator=(const Mover&) = delete;
    void set(const std::vector<const Direction*>& directions, const std::vector<double>& coefficients);
    // θ ← θ + c·d from the weights as they are (a step along a row of a 2-D slice: within a few
    // ulps of setting the point from θ₀, at half the generation cost).
    void add(const Direction& direction, double coefficient);
    void restore();
    const std::vector<Trainable>& params() const { return m_params; }

private:
    void apply(const std::vector<const Direction*>& directions, const std::vector<double>& coefficients,
               bool fromBase);
    std::vector<Trainable> m_params;
    std::vector<torch::Tensor> m_base;
};

struct SliceSettings {
    SliceSettings(int64_t pointsPerAxis = 51, double from = -1, double to = 1)
        : points(pointsPerAxis), lo(from), hi(to) {}
    int64_t points;  // per axis
    double lo, hi;
    // Shared out over COUNT processes (this one RANK): the points of a 1-D slice, the rows of a
    // 2-D one, in rounds of COUNT; after each round GATHER (every process's values, the same count
    // from each, in rank order) gives every process the round's losses, and a stop asked of any
    // process stops all at the same round. Every point is computed as one process computes it,
    // so the surface is the same bits.
    int rank = 0, count = 1;
    std::function<std::vector<double>(const std::vector<double>&)> gather;
};

struct Slice {
    std::vector<double> axis;  // the grid's coordinates (both axes of a 2-D slice)
    std::vector<double> loss;  // 1-D: [points]; 2-D: [points (β, rows), points (α, columns)]
    int64_t dims = 1;
    double centre = 0;  // the loss at the grid point (0, 0), when the grid has it; else NaN
    int64_t forwards = 0;  // this process's
    double seconds = 0;
};

// The coordinate of grid point I of N on [LO, HI] (exact 0 at the centre of a symmetric grid).
double gridPoint(double lo, double hi, int64_t i, int64_t n);

// LOSS is evaluated with the trainables moved; a stop request ends the slice with Cancelled.
// ONROW (optional) gets each finished row of a 2-D slice (the live view).
Slice slice1d(Mover& mover, const Direction& d1, const std::function<double()>& loss,
              const SliceSettings& settings, const StopToken& stop);
Slice slice2d(Mover& mover, const Direction& d1, const Direction& d2, const std::function<double()>& loss,
              const SliceSettings& settings, const StopToken& stop,
              const std::function<void(int64_t row, const Slice&)>& onRow = {});

struct Sharpness {
    double trace = 0, traceError = 0;  // Hutchinson, Rademacher probes over every trainable
    double epsBall = 0;                // max over unit Gaussian directions of L(θ + ρu) − L(θ)
    double sam = NAN;                  // L(θ + ρ∇L/‖∇L‖) − L(θ); NaN when not asked for
    double base = 0;
    int64_t forwards = 0;
};
struct SharpnessSettings {
    int64_t probes = 16;  // Hutchinson probes and ε-ball samples
    double h = 1e-3;      // second-difference step (along ±1 probes)
    double rho = 0.05;    // ε-ball and SAM radius
    uint64_t seed = 0;
};
// GRADLOSS (optional): the loss as a differentiable tensor, for the SAM estimate.
Sharpness sharpness(Mover& mover, const std::function<double()>& loss, const SharpnessSettings& settings,
                    const std::function<torch::Tensor()>& gradLoss = {});

}  // namespace frugal::analysis
