#pragma once
// Tensor-train (TT) matrices and the LoRETTA adapters built from them (SPEC-ZO §5).
//
// A TT matrix stands for a dense W [in, out] (used as y = x W + b) that is the row-major reshape
// of a d-way tensor with mode sizes n_1..n_d, prod n_k = in * out: plain TT of the flattened
// matrix, as the LoRETTA code has it, not a TT-matrix (MPO). The in/out boundary may fall inside
// a mode (64 x 4096 as [16,16,16,4,4,4] splits the second mode 4 | 4). Cores G_k are
// [r_{k-1}, n_k, r_k] with r_0 = r_d = 1 and every inner rank equal; W(i_1..i_d) =
// G_1[:,i_1,:] ... G_d[:,i_d,:].
//
// Forward, two ways with the same result: rebuild W densely and multiply (cost ~ in*out*r to
// rebuild + rows*in*out), or contract the input with the cores: x (in-side product [in, b*r])
// then the out-side product [r, out/b] (cost ~ rows*r*(b*in + out)). Auto takes the cheaper for
// the number of rows at hand. The cores are fp32; inputs of other types are cast and cast back.

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/transformer.h"

namespace frugal::peft {

// Factors N into modes of 4..16: the fewest modes, then the smallest largest mode, ascending.
// A prime factor above 16 becomes a mode of its own; N < 4 is one mode. Deterministic.
std::vector<int64_t> factorModes(int64_t n);
// The mode sizes of a TT matrix IN x OUT: the LoRETTA reference table where it has the pair
// (hidden 768, 1024, 4096, 5120 against 64, 8, 5, and the hidden x hidden classifier shapes);
// otherwise factorModes(in) followed by factorModes(out), so the boundary is a mode boundary.
std::vector<int64_t> ttModes(int64_t in, int64_t out);
std::string modesText(const std::vector<int64_t>& modes);  // "[16,16,16,4,4,4]"
// sum_k r_{k-1} n_k r_k
int64_t ttCoreCount(const std::vector<int64_t>& modes, int64_t rank);

enum class TtForward { Auto, Dense, Contract };
std::string ttForwardName(TtForward mode);
TtForward parseTtForward(const std::string& name);  // auto, dense, contract

class TtMatrix {
public:
    // Cores with the reference's Gaussian init: entries ~ N(0, s^(2/d) / r_k), s^2 = 1/(in+out),
    // so every entry of W has variance 1/(in+out) whatever the ranks. ZEROLAST: the last core is
    // zero (W = 0; an adapter that starts as the identity).
    static TtMatrix gaussian(int64_t in, int64_t out, const std::vector<int64_t>& modes,
                             int64_t rank, at::Generator& gen, bool zeroLast = false,
                             torch::Device device = torch::kCPU);
    // Cores given (each [r_{k-1}, n_k, r_k]), e.g. to test the contraction.
    static TtMatrix fromCores(int64_t in, int64_t out, std::vector<torch::Tensor> cores);

    int64_t in() const { return m_in; }
    int64_t out() const { return m_out; }
    const std::vector<int64_t>& modes() const { return m_modes; }
    int64_t rank() const { return m_rank; }
    std::vector<torch::Tensor>& cores() { return m_cores; }
    const std::vector<torch::Tensor>& cores() const { return m_cores; }
    int64_t count() const;  // elements in the cores
    bool canContract() const { return m_split >= 0; }

    torch::Tensor full() const;  // W [in, out], fp32
    // x [..., in] -> x W [..., out], in x's dtype.
    torch::Tensor apply(const torch::Tensor& x, TtForward mode = TtForward::Auto) const;
    // Multiply-adds of each path for ROWS input rows (the reconstructions included).
    double denseCost(int64_t rows) const;
    double contractCost(int64_t rows) const;
    TtForward chosen(int64_t rows) const;  // what Auto does for ROWS rows

private:
    void locateSplit();
    torch::Tensor inSide() const;   // [in, b * r_k]
    torch::Tensor outSide() const;  // [r_k, out / b]

    int64_t m_in = 0, m_out = 0, m_rank = 0;
    std::vector<int64_t> m_modes;
    std::vector<torch::Tensor> m_cores;
    // the core holding the in/out boundary, its mode split a (in side) x b (out side); -1: the
    // modes admit no split (the dense path only)
    int64_t m_split = -1, m_a = 1, m_b = 1;
};

// LoRETTA_adp: h -> h + s * (act(h D + b_down) U + b_up), D a TT width->bottleneck, U a TT
// bottleneck->width, computed in fp32 and cast back to h's type.
struct TtAdapterOptions {
    int64_t bottleneck = 64;
    int64_t rank = 5;
    std::string activation = "relu";  // relu, tanh
    double scaling = 1.0;
    bool identityStart = false;  // Up's last core and bias zero: the adapter starts as h -> h
    TtForward forward = TtForward::Auto;
};

class TtBottleneckAdapter : public model::LinearAdapter {
public:
    TtBottleneckAdapter(int64_t width, const TtAdapterOptions& options, at::Generator& gen,
                        torch::Device device = torch::kCPU);
    // From saved tensors.
    TtBottleneckAdapter(TtMatrix down, TtMatrix up, torch::Tensor downBias, torch::Tensor upBias,
                        const std::string& activation, double scaling, TtForward forward);
    torch::Tensor apply(const torch::Tensor& h) const override;
    TtMatrix& down() { return m_down; }
    TtMatrix& up() { return m_up; }
    const TtMatrix& down() const { return m_down; }
    const TtMatrix& up() const { return m_up; }
    const torch::Tensor& downBias() const { return m_downBias; }
    const torch::Tensor& upBias() const { return m_upBias; }

private:
    TtMatrix m_down, m_up;
    torch::Tensor m_downBias, m_upBias;
    bool m_tanh = false;
    double m_scaling = 1;
    TtForward m_forward;
};

// LoRETTA_rep: y += (alpha / r) * (x A B - x A0 B0), A a TT in->r, B a TT r->out, no bias; A0, B0
// are frozen copies of the initial cores, so the adapted layer starts exactly at the pretrained
// one (the paper's correction; the released code's reset is a no-op). IDENTITYSTART zeroes B's
// last core instead, and the correction is then skipped.
class TtLoraUpdate : public model::LinearAdapter {
public:
    TtLoraUpdate(int64_t in, int64_t out, int64_t r, double alpha, int64_t rank, bool identityStart,
                 TtForward forward, at::Generator& gen, torch::Device device = torch::kCPU);
    torch::Tensor apply(const torch::Tensor& x) const override;
    // From saved tensors; A0 and B0 (the frozen initial cores) may be null.
    TtLoraUpdate(TtMatrix a, TtMatrix b, std::unique_ptr<TtMatrix> a0, std::unique_ptr<TtMatrix> b0,
                 double scale, TtForward forward);
    TtMatrix& a() { return m_a; }
    TtMatrix& b() { return m_b; }
    const TtMatrix& a() const { return m_a; }
    const TtMatrix& b() const { return m_b; }
    const TtMatrix* a0() const { return m_a0.get(); }
    const TtMatrix* b0() const { return m_b0.get(); }

private:
    TtMatrix m_a, m_b;
    std::unique_ptr<TtMatrix> m_a0, m_b0;
    double m_scale;
    TtForward m_forward;
};

// The tensorised head: h -> h + h T with T a TT hidden x hidden whose last core starts at zero.
class TtHeadAdapter : public model::LinearAdapter {
public:
    TtHeadAdapter(int64_t hidden, int64_t rank, TtForward forward, at::Generator& gen,
                  torch::Device device = torch::kCPU);
    TtHeadAdapter(TtMatrix t, TtForward forward) : m_t(std::move(t)), m_forward(forward) {}
    torch::Tensor apply(const torch::Tensor& h) const override;
    TtMatrix& matrix() { return m_t; }
    const TtMatrix& matrix() const { return m_t; }

private:
    TtMatrix m_t;
    TtForward m_forward;
};

// Saving and loading: every TT tensor of MODEL (adapters, updates with their frozen initial
// cores, the head) under names that place it ("model.layers.0.mlp.up_proj.tt_adapter_in.down.core0",
// "...tt_update.a0.core1", "tt_head.core2"), and the settings the tensors cannot show, as the JSON
// of adapter_config.json. attachTtTensors() rebuilds the adapters from both; it refuses a name it
// cannot place or a set of cores that does not form the layer's matrix.
struct TtSettings {
    std::string activation = "relu";
    double scaling = 1.0;
    double updateScale = 2.0;  // alpha / r of loretta_rep
    std::string forward = "auto";
};
model::NamedTensors ttTensors(const model::Transformer& model);
std::string ttSettingsJson(const TtSettings& settings);
TtSettings parseTtSettings(const std::string& json, const std::string& source);
bool isTtTensorName(const std::string& name);
void attachTtTensors(model::Transformer& model, const model::NamedTensors& tensors,
                     const TtSettings& settings, const std::string& source);
}  // namespace frugal::peft
