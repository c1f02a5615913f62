#pragma once
// The fine-tuning problem that zeroth-order and first-order runs share, so both compare in one
// table: the model with its trainable set (peft), a built-in task's train split sampled into
// batches with a seed, the objective on a batch, and dev evaluation. Objectives (SPEC-ZO §1.4):
//   classification  cross-entropy over the candidates' summed log-likelihoods (MeZO's
//                   train_as_classification);
//   lm              mean negative log-likelihood of the gold continuation's tokens (teacher
//                   forcing on the gold candidate only);
//   neg_accuracy    −(fraction of the batch whose argmax candidate is the gold one): not
//                   differentiable, for zeroth-order runs only.

#include <torch/types.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/events.h"
#include "common/named.h"
#include "data/task.h"
#include "eval/candidate_batch.h"
#include "eval/memory_estimate.h"
#include "eval/model_loading.h"
#include "eval/training_probe.h"
#include "model/block_store.h"
#include "peft/param_set.h"

namespace frugal::eval {

enum class Objective { Classification, Lm, NegAccuracy };
inline constexpr std::array<Named<Objective>, 3> kObjectives = {
    {{Objective::Classification, "classification"}, {Objective::Lm, "lm"}, {Objective::NegAccuracy, "neg_accuracy"}}};
std::string objectiveName(Objective objective);
Objective parseObjective(const std::string& name);

enum class LrSchedule { Constant, Linear, Cosine };
inline constexpr std::array<Named<LrSchedule>, 3> kLrSchedules = {
    {{LrSchedule::Constant, "constant"}, {LrSchedule::Linear, "linear"}, {LrSchedule::Cosine, "cosine"}}};
std::string lrScheduleName(LrSchedule schedule);
LrSchedule parseLrSchedule(const std::string& name);
// The learning rate of step STEP (1..TOTAL): constant; linear decay to 0; cosine decay to 0.
double lrAt(LrSchedule schedule, double base, int64_t step, int64_t total);

struct FineTuneSpec {
    std::string model = "frugal-tiny";  // folder or built-in name
    std::string dtype = "auto";         // the weights' dtype in memory: auto, fp32, bf16 or fp16
    std::string device = "cpu";         // where the model, trainables and batches live: cpu, cuda, cuda:N
    std::string task = "sentiment";     // built-in task: trains on :train, evaluates on :dev
    // Or a task of one's own (task = any other name): labelled files as `frugal eval` reads them,
    // a template "{text} ... {word|word}" and the labels in the template's word order.
    std::filesystem::path trainFile, devFile;
    std::string templateText;
    std::vector<std::string> labels;
    Objective objective = Objective::Classification;
    // Or language modelling on plain text (objective lm): TRAIN_TEXT tokenized once and cut into
    // non-overlapping windows of SEQ_LEN tokens, a batch drawn from them (uniformly, with
    // replacement), every token of a window after its first scored; dev is the perplexity of
    // DEV_TEXT's first eval_limit windows (0: all), as `frugal eval ppl` computes it. No test split.
    std::filesystem::path trainText, devText;
    int64_t seqLen = 256;
    bool textMode() const { return !trainText.empty(); }
    peft::PeftOptions peft;
    // The decoder blocks left in the model's files and brought in one at a time by a block store
    // (model/block_store.h; zo/streamed.h steps such a model). When the trainables include block
    // weights (full fine-tuning), the blocks go to a working copy, the file WORKING_COPY, first.
    bool streamBlocks = false;
    std::filesystem::path workingCopy;
    int64_t streamRing = 3;  // blocks held at once (resident, read ahead, being written)
    int64_t steps = 1000;
    int64_t batchSize = 16;
    // Examples a forward pass (zo, mezo): the batch's objective computed in consecutive pieces of
    // this many examples and combined by weight, so that activation memory is that of a piece;
    // the same estimator up to rounding. 0: the whole batch in one forward.
    int64_t microBatch = 0;
    double lr = 1e-6;
    LrSchedule lrSchedule = LrSchedule::Constant;
    double weightDecay = 0.0;
    uint64_t seed = 0;        // batches and (ZO) directions
    int64_t evalEvery = 100;  // steps; dev metrics (and at step 0 and the last step)
    int64_t evalLimit = 0;    // dev examples scored (0: all)
    std::filesystem::path saveTo;  // empty: the fine-tuned weights are not saved
    LiveLandscapeSpec liveLandscape;  // [live_landscape] (zo, mezo, fo)
};

// The memory one forward pass of SEQUENCES sequences of TOKENS tokens takes at its peak, beyond
// the weights: the [N,T,V] logits, one layer's attention scores [N,H,T,T], its MLP's
// intermediate activations and a few hidden-sized copies, in fp32, every sequence as long as
// the longest. An estimate for refusing a batch that cannot fit before it is tried
// (docs/BENCHMARKS.md compares it with measured peak RSS).
int64_t forwardPeakBytes(const model::ModelConfig& config, int64_t sequences, int64_t tokens);

// The largest training batch of SPEC on TRAIN: batch_size examples × the rows an example's
// candidates pack into (encodeExample), each as long as the longest row of the longest prompts
// (by characters), and their scored continuation tokens.
BatchShape largestBatch(const FineTuneSpec& spec, const data::Task& train, const data::PromptTemplate& prompt,
                        const model::Tokenizer& tokenizer, const model::ModelConfig& config);

// What a fine-tuning run of SPEC trained by PLAN needs in memory, from its config, task and
// tokenizer (no weights read); the process as it is now counts as the runtime.
MemoryEstimate estimateFineTuneRun(const FineTuneSpec& spec, const TrainingPlan& plan);
// The decoder blocks of SPEC's model as a streamed run holds them: how many, and the bytes of the
// largest in the run's dtype.
struct BlockSizes {
    int64_t blocks = 0, blockBytes = 0;
};
BlockSizes blockSizes(const FineTuneSpec& spec);
// What the same run needs with its blocks streamed (spec.streamRing of them held at once) and
// STREAMS hidden states of the largest batch advancing together (2q for a central step): the
// weights outside the blocks, the ring, the hidden states, a copy of the trainables outside the
// blocks (made again at the head), the rest as in memory.
MemoryEstimate estimateStreamedRun(const FineTuneSpec& spec, const TrainingPlan& plan, int64_t streams);
// SPEC's dtype as the run holds its weights: "auto" resolved from the model's config.json on
// SPEC's device (model::resolveDtype); fp32, bf16 or fp16 as given.
std::string resolvedDtype(const FineTuneSpec& spec);

struct DevMetrics {
    double accuracy = 0, accuracyCalibrated = 0, loss = 0;  // loss: classification CE
    int64_t examples = 0;
    // text mode: loss is the mean NLL a scored token, examples the windows; no accuracy (NaN)
    double perplexity = NAN;
};

class FineTuneProblem {
public:
    explicit FineTuneProblem(const FineTuneSpec& spec);

    model::Transformer& model() { return m_loaded->model; }
    // The block store of a streamed model (spec.streamBlocks); nullptr when the model is in memory.
    model::BlockStore* blockStore() { return m_store.get(); }
    const FineTuneSpec& spec() const { return m_spec; }
    const peft::ParamSet& params() const { return m_params; }
    const data::Task& train() const { return m_train; }
    // What a data epoch holds: the training examples, or in text mode the training text's windows.
    int64_t trainSize() const;
    // The training data in words ("task sentiment", "text FILE: N windows of L tokens").
    std::string describeData() const;
    Objective objective() const { return m_objective; }

    // A batch of training examples with their gold labels.
    struct Batch {
        CandidateBatch candidates;
        torch::Tensor gold;  // [E] label index per example
        // With micro_batch: the same examples as consecutive pieces of at most micro_batch, each
        // encoded on its own (padded to its own longest sequence), as one process of a
        // data-parallel run encodes its shard. Empty: one forward over the whole batch.
        std::vector<Batch> pieces;
    };
    // Draws the next batch of training examples (uniformly, with replacement) from RNG.
    void nextBatch(std::mt19937_64& rng);
    // Data parallelism: from now on nextBatch draws the whole batch as before (every process's
    // generator stays in step) but keeps only shard RANK of COUNT, examples
    // [B·RANK/COUNT, B·(RANK+1)/COUNT). Refused when the batch has fewer examples than COUNT.
    // With GATHER (every process's values, the same count from each, concatenated in rank order),
    // dev and test evaluation are shared out the same way: each process scores its block of the
    // examples, and the scores gathered in example order give every process the figures one
    // process would compute, bit for bit.
    using Gather = std::function<std::vector<double>(const std::vector<double>&)>;
    void setShard(int rank, int count, Gather gather = {});
    // The run's stop token: its dev and test evaluations poll it between examples (or windows)
    // and throw Cancelled when a stop is asked for (a sharded evaluation keeps going: its peers
    // wait for every shard; the run stops at the next step, when all processes agree).
    void setStop(const StopToken* stop) { m_stop = stop; }
    // What the current batch's objective is a mean over, to weight it against the other shards':
    // its examples; for lm, its gold continuations' tokens.
    double lossWeight() const;
    // The same of any batch.
    double lossWeightOf(const Batch& batch) const;
    // Draws SIZE examples the same way without touching the current batch (a probe's own batch).
    Batch drawBatch(std::mt19937_64& rng, int64_t size) const;
    Batch drawBatch(std::mt19937_64& rng, int64_t size, int shard, int shards) const;
    // The objective on the current batch: a scalar tensor, differentiable when autograd is on.
    torch::Tensor loss() const { return lossOn(m_current); }
    // The same under InferenceMode; with pieces, the weighted mean of the pieces' objectives
    // (Σ value·weight / Σ weight in double, in order: how a data-parallel run combines its shards).
    double lossValue() const { return lossValueOn(m_current); }
    // The same on another batch (lossOn: one forward over the whole batch, pieces ignored).
    torch::Tensor lossOn(const Batch& batch) const;
    double lossValueOn(const Batch& batch) const;
    // The current batch's forwards made block by block (zo/streamed.h), each piece one forward as
    // lossValue() makes them (the whole batch when it has no pieces): its attention context, the
    // input of block 0, and lossValue() from the pieces' last-block outputs, bit for bit.
    struct Piece {
        const Batch* batch = nullptr;
        model::AttentionContext ctx;
    };
    std::vector<Piece> blockwisePieces() const;
    torch::Tensor embedPiece(const Piece& piece) const;
    double lossFromHidden(const std::vector<Piece>& pieces, const std::vector<torch::Tensor>& hidden) const;
    // The objective on the current batch under K soft prompts at once (PROMPTS [K, P, E], the
    // model's prompt shape): the batch repeated K times in one forward, replica k under prompt k;
    // the model's own prompt is left as it was. The K losses (InferenceMode).
    std::vector<double> lossValuesForPrompts(const torch::Tensor& prompts);
    // The estimated peak bytes of that forward for K prompts on the current batch (forwardPeakBytes).
    int64_t promptsForwardBytes(int64_t k) const;
    DevMetrics evaluateDev() const;
    // The same on the built-in task's test split (no test split: nullopt); scored once, at the end.
    std::optional<DevMetrics> evaluateTest() const;
    // Writes the model as a Hugging Face folder: LoRA merged into its weights; adapter tensors
    // beside the base weights (peft/adapter_io.h); the tokenizer copied.
    std::string save(const std::filesystem::path& dir);

private:
    FineTuneSpec m_spec;
    Objective m_objective;
    std::unique_ptr<ModelAndTokenizer> m_loaded;
    peft::ParamSet m_params;
    std::unique_ptr<model::BlockStore> m_store;  // after m_loaded: it refers to the model
    void load();       // the model and its trainables (and the block store of a streamed one)
    void openStore();  // the block store: the checkpoint, or a working copy when blocks train
    void inMemory(const char* what) const;  // refuses WHAT on a streamed model
    data::Task m_train, m_dev;
    std::optional<data::Task> m_test;
    data::PromptTemplate m_prompt;
    std::vector<int32_t> m_trainStream, m_devStream;  // text mode: the tokenized texts
    int64_t m_trainWindows = 0;
    Batch m_current;
    int m_shardRank = 0, m_shardCount = 1;
    Gather m_gather;
    const StopToken* m_stop = nullptr;
};

// Accuracy and classification loss of MODEL on TASK (first LIMIT examples; 0: all); STOP polled
// between examples. STORE: the model's blocks are streamed (the same figures, block by block).
DevMetrics evaluateOn(const ModelAndTokenizer& loaded, const data::Task& task,
                      const data::PromptTemplate& prompt, int64_t limit, const StopToken* stop = nullptr,
                      model::BlockStore* store = nullptr);
// The same with the examples shared out over COUNT processes (this one RANK): each scores its
// block, GATHER brings every block's candidate scores, and every process computes the figures
// from the whole table in example order, as evaluateOn does.
DevMetrics evaluateShardedOn(const ModelAndTokenizer& loaded, const data::Task& task,
                             const data::PromptTemplate& prompt, int64_t limit, int rank, int count,
                             const FineTuneProblem::Gather& gather);

// The figures of a run that zeroth-order and first-order runs share.
struct FineTuneResult {
    int64_t trainable = 0, total = 0;
    int64_t steps = 0, forwardPasses = 0;
    double startDevAccuracy = 0, finalDevAccuracy = 0, bestDevAccuracy = 0, finalDevLoss = 0;
    double startDevPerplexity = NAN, finalDevPerplexity = NAN;  // text mode
    double testAccuracy = NAN;  // the built-in task's test split, at the end
    double seconds = 0;
    int64_t peakRssBytes = 0;
    std::string savedAs;  // what save() wrote, empty when not saved
};

// Scores the dev split at STEP, reports dev/accuracy, dev/accuracy_calibrated and dev/loss and a
// log line, and updates R (step 0: the starting accuracy).
void reportDev(const FineTuneProblem& problem, int64_t step, EventSink& sink, FineTuneResult& r);
// The end of a run: the test split scored and reported, the model saved when the spec asks, wall
// time since START and peak RSS.
void finishRun(FineTuneProblem& problem, EventSink& sink, FineTuneResult& r,
               std::chrono::steady_clock::time_point start);

// Mean classification cross-entropy from per-example candidate scores (for logging dev loss).
double classificationLoss(const std::vector<std::vector<double>>& scores, const std::vector<int>& gold);

}  // namespace frugal::eval
