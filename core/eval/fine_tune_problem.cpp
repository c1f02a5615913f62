#include "eval/fine_tune_problem.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "data/builtin.h"
#include "data/corpus.h"
#include "common/format.h"
#include "common/weighted_mean.h"
#include "eval/candidate_scoring.h"
#include "eval/perplexity.h"
#include "eval/streamed_scoring.h"
#include "model/tokenizer.h"
#include "common/runtime_info.h"
#include "model/device.h"
#include "model/model_config.h"
#include "model/safetensors.h"
#include "peft/adapter_io.h"
#include "peft/peft_options.h"
#include "common/metric_keys.h"

namespace frugal::eval {

std::string objectiveName(Objective o) { return nameOf(kObjectives, o); }

Objective parseObjective(const std::string& name) { return parseNamed(kObjectives, name, "objective"); }

std::string lrScheduleName(LrSchedule s) { return nameOf(kLrSchedules, s); }

LrSchedule parseLrSchedule(const std::string& name) { return parseNamed(kLrSchedules, name, "lr schedule"); }

double lrAt(LrSchedule s, double base, int64_t step, int64_t total) {
    const double progress = total > 0 ? static_cast<double>(step - 1) / static_cast<double>(total) : 0;
    switch (s) {
        case LrSchedule::Constant: return base;
        case LrSchedule::Linear: return base * (1.0 - progress);
        case LrSchedule::Cosine: return base * 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    return base;
}

double classificationLoss(const std::vector<std::vector<double>>& scores, const std::vector<int>& gold) {
    double total = 0;
    for (size_t e = 0; e < scores.size(); ++e) {
        double maxScore = -INFINITY;
        for (double s : scores[e]) maxScore = std::max(maxScore, s);
        double z = 0;
        for (double s : scores[e]) z += std::exp(s - maxScore);
        total += -(scores[e][static_cast<size_t>(gold[e])] - maxScore - std::log(z));
    }
    return scores.empty() ? 0 : total / static_cast<double>(scores.size());
}

int64_t forwardPeakBytes(const model::ModelConfig& c, int64_t sequences, int64_t tokens) {
    const double perToken = static_cast<double>(c.vocabSize) + static_cast<double>(c.numHeads * tokens) +
                            2.0 * static_cast<double>(c.intermediateSize) + 4.0 * static_cast<double>(c.hiddenSize);
    return static_cast<int64_t>(4.0 * perToken * static_cast<double>(sequences) * static_cast<double>(tokens));
}

namespace {

}  // namespace

BatchShape largestBatch(const FineTuneSpec& spec, const data::Task& train, const data::PromptTemplate& prompt,
                        const model::Tokenizer& tokenizer, const model::ModelConfig& config) {
    const auto& examples = train.examples();
    std::vector<size_t> order(examples.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const size_t probe = std::min<size_t>(8, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(probe), order.end(),
                      [&](size_t a, size_t b) { return examples[a].text.size() > examples[b].text.size(); });
    // the probed prompts encoded as a batch encodes them: each example's candidates packed into
    // rows (encodeExample), cut to the model's context
    int64_t longest = 1, continuation = 1, rows = 1, candidates = 1;
    for (size_t i = 0; i < probe; ++i) {
        const auto rendered = prompt.render(examples[order[i]].text);
        const ExampleCandidates ex =
            encodeExample(tokenizer, config.maxPositions, rendered.context, rendered.continuations);
        rows = std::max(rows, static_cast<int64_t>(ex.rows.size()));
        candidates = std::max(candidates, static_cast<int64_t>(ex.sequences.size()));
        for (const auto& r : ex.rows) longest = std::max(longest, static_cast<int64_t>(r.size()));
        for (const auto& s : ex.sequences)
            continuation = std::max<int64_t>(continuation, static_cast<int64_t>(s.ids.size()) - s.start);
    }
    BatchShape shape;
    shape.sequences = spec.batchSize * rows;
    shape.tokens = longest;
    shape.headRows = spec.batchSize * candidates * continuation;
    return shape;
}

namespace {

// SPEC as one forward pass sees it: batch_size examples, or micro_batch where that is smaller.
FineTuneSpec forwardSpec(const FineTuneSpec& spec) {
    FineTuneSpec s = spec;
    if (spec.microBatch > 0) s.batchSize = std::min(spec.batchSize, spec.microBatch);
    return s;
}

// Text mode: a forward of SPEC's batch is batch_size windows, each fed its first seq_len − 1
// tokens, every position scored.
BatchShape textBatch(const FineTuneSpec& spec) {
    BatchShape shape;
    shape.sequences = spec.batchSize;
    shape.tokens = spec.seqLen - 1;
    shape.headRows = spec.batchSize * (spec.seqLen - 1);
    return shape;
}

// Refuses a batch whose forward pass cannot fit in the memory left once the model is loaded:
// the longest training prompts (by characters, then tokenized with every label) give the length.
void checkBatchFits(const FineTuneSpec& full, const data::Task& train, const data::PromptTemplate& prompt,
                    const ModelAndTokenizer& loaded) {
    const FineTuneSpec spec = forwardSpec(full);
    const model::ModelConfig& config = loaded.model.config();
    const BatchShape shape =
        spec.textMode() ? textBatch(spec) : largestBatch(spec, train, prompt, loaded.tokenizer, config);
    const int64_t sequences = shape.sequences, longest = shape.tokens;
    const size_t rows = static_cast<size_t>(shape.sequences / spec.batchSize);
    const int64_t need = forwardPeakBytes(config, sequences, longest);
    const int64_t available = availableMemoryBytes();
    if (available <= 0 || need <= available * 8 / 10) return;  // a fifth kept for the rest
    const int64_t perExample = std::max<int64_t>(1, need / spec.batchSize);
    const auto gib = [](int64_t bytes) { return shortNumber(static_cast<double>(bytes) / (1 << 30)); };
    failInput(full.microBatch > 0 ? "micro_batch = " : "batch_size = ", spec.batchSize, " needs about ", gib(need), " GiB for one forward pass (",
              sequences, " sequences of up to ", longest, " tokens: ", spec.batchSize, " examples x ",
              rows, rows == 1 ? " sequence" : " sequences", ") but ", gib(available), " GiB of memory are available; at most about ",
              std::max<int64_t>(1, available * 8 / 10 / perExample), " examples per forward fit",
              full.microBatch > 0 ? "" : " (or set micro_batch to compute the batch in pieces)");
}

}  // namespace

std::string resolvedDtype(const FineTuneSpec& spec) {
    if (spec.dtype != "auto") return spec.dtype;
    const std::filesystem::path config = data::resolveModel(spec.model) / "config.json";
    std::string torchDtype;
    if (std::filesystem::exists(config)) torchDtype = model::ModelConfig::fromFile(config).torchDtype;
    return model::resolveDtype(spec.dtype, torchDtype, spec.device);
}

MemoryEstimate estimateFineTuneRun(const FineTuneSpec& spec, const TrainingPlan& given) {
    const std::filesystem::path dir = data::resolveModel(spec.model);
    const model::ModelConfig config = model::ModelConfig::fromFile(dir / "config.json");
    const std::string dtype = model::resolveDtype(spec.dtype, config.torchDtype, spec.device);
    const int64_t runtime = runtimeBytesBeforeLoading(config);
    const peft::TrainableCount count = peft::countTrainable(config, spec.peft);
    const int64_t adapters =
        peft::isAdapter(spec.peft.target) ? count.trainable - (spec.peft.trainNorms ? count.normElements : 0) : 0;
    TrainingPlan plan = given;
    plan.loraMaskBytes = count.maskBytes;
    if (spec.textMode())
        return estimateFineTune(config, dtype, count.total, count.trainable, adapters, textBatch(forwardSpec(spec)),
                                plan, runtime);
    const data::ResolvedTask task = data::resolveTask(
        spec.task, spec.templateText, spec.labels, "task",
        "a task of one's own needs train_file, dev_file, template and labels");
    const data::Task train = data::Task::load(spec.trainFile.empty() ? task.train : spec.trainFile, task.labels);
    const data::PromptTemplate prompt = data::PromptTemplate::parse(task.templateText, task.labels);
    const BatchShape shape = largestBatch(forwardSpec(spec), train, prompt, model::Tokenizer::load(dir), config);
    return estimateFineTune(config, dtype, count.total, count.trainable, adapters, shape, plan, runtime);
}

BlockSizes blockSizes(const FineTuneSpec& spec) {
    const model::ModelConfig config = model::ModelConfig::fromFile(data::resolveModel(spec.model) / "config.json");
    const int64_t bytes = dtypeBytes(model::resolveDtype(spec.dtype, config.torchDtype, spec.device));
    BlockSizes b;
    b.blocks = config.numLayers;
    for (const model::WeightSlot& slot : model::weightLayout(config)) {
        if (slot.layer != 0) continue;
        int64_t n = 1;
        for (int64_t d : slot.shape) n *= d;
        b.blockBytes += n * bytes;
    }
    return b;
}

MemoryEstimate estimateStreamedRun(const FineTuneSpec& spec, const TrainingPlan& plan, int64_t streams) {
    MemoryEstimate m = estimateFineTuneRun(spec, plan);
    const BlockSizes b = blockSizes(spec);
    const model::ModelConfig config = model::ModelConfig::fromFile(data::resolveModel(spec.model) / "config.json");
    const int64_t bytes = dtypeBytes(model::resolveDtype(spec.dtype, config.torchDtype, spec.device));
    const int64_t outside = peft::countTrainable(config, peft::PeftOptions{}).total * bytes - b.blocks * b.blockBytes;
    int64_t hidden = 0;
    for (auto& [name, value] : m.parts) {
        if (name == "weights") value += (std::min(spec.streamRing, b.blocks) - b.blocks) * b.blockBytes;
        if (name == "activations") hidden = value;
    }
    m.method += " streamed";
    // the streams' hidden states: at most one forward's activations each, a bound
    m.parts.emplace_back("hidden states", std::max<int64_t>(0, streams - 1) * hidden / 4);
    if (spec.peft.target == peft::Target::Full) m.parts.emplace_back("head copy", outside);
    return m;
}

namespace {

// The tokens of text file FILE (config key KEY), as `frugal eval ppl` reads it: one stream with
// the tokenizer's special tokens; at least one window of SEQLEN.
std::vector<int32_t> textStream(const model::Tokenizer& tokenizer, const std::filesystem::path& file,
                                const std::string& key, int64_t seqLen) {
    std::vector<int32_t> stream;
    try {
        stream = tokenizeTextFile(tokenizer, file);
    } catch (const Error& e) {
        throw InputError(cat(key, ": ", e.what()));
    }
    if (static_cast<int64_t>(stream.size()) < seqLen)
        throw InputError(cat(key, ": ", file.string(), " has ", stream.size(), " tokens, fewer than one window of seq_len = ",
                             seqLen, "; use a longer text or a shorter seq_len"));
    return stream;
}

}  // namespace

FineTuneProblem::FineTuneProblem(const FineTuneSpec& spec)
    : m_spec(spec), m_objective(spec.objective) {
    if (spec.textMode()) {
        if (m_objective != Objective::Lm)
            throw InputError(cat("train_text trains a language model: objective must be lm, got ", objectiveName(spec.objective)));
        if (spec.devText.empty()) throw InputError("train_text needs dev_text, the text whose perplexity is the dev metric");
        load();
        if (const int64_t context = m_loaded->model.config().maxPositions; context > 0 && spec.seqLen > context)
            throw InputError(cat("seq_len = ", spec.seqLen, " is longer than the model's context of ", context,
                                 " positions (max_position_embeddings); at most ", context));
        if (spec.seqLen < 2) throw InputError(cat("seq_len must be at least 2 tokens, got ", spec.seqLen));
        m_trainStream = textStream(m_loaded->tokenizer, spec.trainText, "train_text", spec.seqLen);
        m_devStream = textStream(m_loaded->tokenizer, spec.devText, "dev_text", spec.seqLen);
        m_trainWindows = static_cast<int64_t>(m_trainStream.size()) / spec.seqLen;
        return;
    }
    const data::ResolvedTask task = data::resolveTask(
        spec.task, spec.templateText, spec.labels, "task",
        "a task of one's own needs train_file, dev_file, template and labels");
    if (!task.builtin && (spec.trainFile.empty() || spec.devFile.empty()))
        fail("task '", spec.task, "' is not a built-in task (", data::builtinTaskNames(), "); a task of one's "
             "own needs train_file, dev_file, template and labels");
    m_train = data::Task::load(spec.trainFile.empty() ? task.train : spec.trainFile, task.labels);
    m_dev = data::Task::load(spec.devFile.empty() ? task.dev : spec.devFile, task.labels);
    m_prompt = data::PromptTemplate::parse(task.templateText, task.labels);
    if (task.builtin && spec.trainFile.empty() && !task.test.empty())
        m_test = data::Task::load(task.test, task.labels);
    load();
}

void FineTuneProblem::load() {
    const FineTuneSpec& spec = m_spec;
    try {
        m_loaded = std::make_unique<ModelAndTokenizer>(loadModelAndTokenizer(
            data::resolveModel(spec.model), {}, weightDtype(resolvedDtype(spec), "dtype"), spec.device, spec.streamBlocks));
    } catch (const Error& e) {  // the weights, the tokenizer or their sizes: the input
        throw InputError(e.what());
    }
    checkBatchFits(spec, m_train, m_prompt, *m_loaded);
    m_params = peft::ParamSet::attach(m_loaded->model, spec.peft);
    if (!spec.streamBlocks) return;
    openStore();
}

void FineTuneProblem::openStore() {
    const FineTuneSpec& spec = m_spec;
    model::Transformer& m = m_loaded->model;
    std::set<std::string> blockWeights;
    for (int64_t b = 0; b < m.numLayers(); ++b)
        m.forEachBlockWeight(b, [&](const std::string& name, torch::Tensor&) { blockWeights.insert(name); });
    bool trainsBlocks = false;
    for (const auto& t : m_params.trainables()) trainsBlocks = trainsBlocks || blockWeights.count(t.name);
    const std::filesystem::path dir = data::resolveModel(spec.model);
    if (!trainsBlocks) {
        m_store = model::BlockStore::checkpoint(m, dir);
    } else {
        if (spec.workingCopy.empty())
            throw InputError(cat("peft.target = \"", peft::targetName(spec.peft.target),
                                 "\" trains the blocks' weights of a streamed model: it needs a working copy of them (a file; the model's own files are never written)"));
        m_store = model::BlockStore::workingCopy(m, dir, spec.workingCopy);
    }
    m_store->setRing(spec.streamRing);
}

void FineTuneProblem::inMemory(const char* what) const {
    if (m_store) fail("fine-tuning: ", what, " of a streamed model is not made block by block yet");
}

int64_t FineTuneProblem::trainSize() const {
    return m_spec.textMode() ? m_trainWindows : static_cast<int64_t>(m_train.examples().size());
}

std::string FineTuneProblem::describeData() const {
    if (!m_spec.textMode()) return cat("task ", m_spec.task, "; ", m_train.examples().size(), " training examples");
    return cat("text ", m_spec.trainText.string(), "; ", m_trainWindows, " windows of ", m_spec.seqLen,
               " tokens (", m_trainStream.size(), " tokens)");
}

void FineTuneProblem::nextBatch(std::mt19937_64& rng) {
    m_current = drawBatch(rng, m_spec.batchSize, m_shardRank, m_shardCount);
}

void FineTuneProblem::setShard(int rank, int count, Gather gather) {
    if (count < 1 || rank < 0 || rank >= count) fail("fine-tuning: shard ", rank, " of ", count, " does not exist");
    if (m_spec.batchSize < count)
        throw InputError(cat("batch_size is ", m_spec.batchSize, " but the run has ", count,
                             " processes; every process needs at least one example of each batch"));
    m_shardRank = rank;
    m_shardCount = count;
    m_gather = std::move(gather);
}

double FineTuneProblem::lossWeight() const { return lossWeightOf(m_current); }

double FineTuneProblem::lossWeightOf(const Batch& batch) const {
    const CandidateBatch& b = batch.candidates;
    if (b.examples() == 0) fail("fine-tuning: lossWeight() before nextBatch()");
    if (m_objective != Objective::Lm) return static_cast<double>(b.examples());
    // lm: the mean is over the gold continuations' tokens
    const auto labels = static_cast<int64_t>(b.tokens.size() / b.examples());
    const torch::Tensor gold = batch.gold.cpu();
    double tokens = 0;
    for (int64_t e = 0; e < gold.size(0); ++e)
        tokens += static_cast<double>(b.tokens[static_cast<size_t>(e * labels + gold[e].item<int64_t>())]);
    return tokens;
}

FineTuneProblem::Batch FineTuneProblem::drawBatch(std::mt19937_64& rng, int64_t size) const {
    return drawBatch(rng, size, 0, 1);
}

FineTuneProblem::Batch FineTuneProblem::drawBatch(std::mt19937_64& rng, int64_t size, int shard,
                                                  int shards) const {
    const auto& examples = m_train.examples();
    // every draw is made, whichever shard is kept, so that every process's generator stays in step
    std::vector<size_t> drawn(static_cast<size_t>(size));
    for (auto& d : drawn) d = data::uniformBelow(rng, static_cast<uint64_t>(trainSize()));
    const auto first = static_cast<size_t>(size * shard / shards), last = static_cast<size_t>(size * (shard + 1) / shards);
    // text mode: window w is tokens [w·L, (w+1)·L); the model reads its first L − 1 and every
    // position predicts the next token, one candidate a window
    const auto encodeWindows = [&](size_t from, size_t to) {
        const auto n = static_cast<int64_t>(to - from), L = m_spec.seqLen;
        std::vector<int64_t> tokens(static_cast<size_t>(n * L));
        for (int64_t b = 0; b < n; ++b)
            for (int64_t t = 0; t < L; ++t)
                tokens[static_cast<size_t>(b * L + t)] =
                    m_trainStream[static_cast<size_t>(static_cast<int64_t>(drawn[from + static_cast<size_t>(b)]) * L + t)];
        const torch::Tensor all = torch::tensor(tokens, torch::kLong).view({n, L});
        const torch::Device device = m_loaded->model.device();
        Batch out;
        CandidateBatch& c = out.candidates;
        c.ids = all.narrow(1, 0, L - 1).contiguous().to(device);
        c.mask = torch::ones_like(c.ids);
        c.row = torch::arange(n, torch::kLong).repeat_interleave(L - 1).to(device);
        c.position = torch::arange(L - 1, torch::kLong).repeat({n}).to(device);
        c.token = all.narrow(1, 1, L - 1).reshape({-1}).to(device);
        c.sequence = c.row.clone();
        c.tokens.assign(static_cast<size_t>(n), L - 1);
        for (int64_t b = 0; b <= n; ++b) c.firstOf.push_back(static_cast<size_t>(b));
        out.gold = torch::zeros({n}, torch::kLong).to(device);
        return out;
    };
    const auto encode = [&](size_t from, size_t to) {  // drawn examples [from, to)
        if (m_spec.textMode()) return encodeWindows(from, to);
        const size_t n = to - from;
        std::vector<std::string> contexts(n);
        std::vector<std::vector<std::string>> candidates(n);
        std::vector<int64_t> gold(n);
        for (size_t b = 0; b < n; ++b) {
            const auto& ex = examples[drawn[from + b]];
            const auto rendered = m_prompt.render(ex.text);
            contexts[b] = rendered.context;
            candidates[b] = rendered.continuations;
            gold[b] = m_train.labelIndex(ex.label);
        }
        Batch out;
        out.candidates = encodeCandidates(m_loaded->model, m_loaded->tokenizer, contexts, candidates);
        out.gold = torch::tensor(gold, torch::kLong).to(m_loaded->model.device());
        return out;
    };
    Batch out = encode(first, last);
    const auto piece = static_cast<size_t>(m_spec.microBatch);
    if (piece > 0 && piece < last - first)
        for (size_t from = first; from < last; from += piece) out.pieces.push_back(encode(from, std::min(last, from + piece)));
    return out;
}

namespace {

// The objective of one example batch from its candidates' summed log-probabilities SCORES [E, C]
// (every example has every label), GOLD [E] and the continuations' token counts TOKENS [E·C].
torch::Tensor objectiveLoss(Objective objective, const torch::Tensor& scores, const torch::Tensor& gold,
                            const std::vector<int64_t>& tokens) {
    switch (objective) {
        case Objective::Classification:
            return torch::nll_loss(torch::log_softmax(scores, 1), gold);
        case Objective::Lm: {
            const torch::Tensor counts =
                torch::tensor(tokens, torch::kDouble).view({scores.size(0), -1}).to(scores.device());
            const torch::Tensor goldSums = scores.gather(1, gold.unsqueeze(1)).squeeze(1);
            const torch::Tensor goldTokens = counts.gather(1, gold.unsqueeze(1)).squeeze(1);
            return -goldSums.sum() / goldTokens.sum().to(goldSums.scalar_type());
        }
        case Objective::NegAccuracy:
            return -(scores.argmax(1) == gold).to(torch::kFloat32).mean();
    }
    return {};
}

}  // namespace

torch::Tensor FineTuneProblem::lossOn(const Batch& batch) const {
    const CandidateBatch& b = batch.candidates;
    if (b.examples() == 0) fail("fine-tuning: loss() before nextBatch()");
    const torch::Tensor sums = candidateLogProbs(m_loaded->model, b);  // [E*C]
    return objectiveLoss(m_objective, sums.view({static_cast<int64_t>(b.examples()), -1}), batch.gold, b.tokens);
}

std::vector<double> FineTuneProblem::lossValuesForPrompts(const torch::Tensor& prompts) {
    model::Transformer& model = m_loaded->model;
    const torch::Tensor own = model.softPrompt();
    if (!own.defined()) fail("fine-tuning: lossValuesForPrompts on a model without a soft prompt (peft.target = \"prompt\")");
    if (prompts.dim() != 3 || prompts.size(1) != own.size(0) || prompts.size(2) != own.size(1))
        fail("fine-tuning: prompts must be [K, ", own.size(0), ", ", own.size(1), "], got ", prompts.sizes());
    const CandidateBatch& b = m_current.candidates;
    if (b.examples() == 0) fail("fine-tuning: loss() before nextBatch()");
    c10::InferenceMode guard;
    const int64_t k = prompts.size(0), n = b.ids.size(0);
    const auto candidates = static_cast<int64_t>(b.tokens.size());
    CandidateBatch r;  // the batch K times, replica j's rows at j·R .., its candidates at j·N ..
    r.ids = b.ids.repeat({k, 1});
    r.mask = b.mask.repeat({k, 1});
    const torch::Tensor replica = torch::arange(k, b.row.options()).repeat_interleave(b.row.size(0));
    r.row = b.row.repeat({k}) + replica * n;
    r.sequence = b.sequence.repeat({k}) + replica * candidates;
    r.position = b.position.repeat({k});
    r.token = b.token.repeat({k});
    for (int64_t j = 0; j < k; ++j) r.tokens.insert(r.tokens.end(), b.tokens.begin(), b.tokens.end());
    r.firstOf = {0, static_cast<size_t>(k * candidates)};  // not read below
    model.setSoftPrompt(prompts.to(own.scalar_type()).repeat_interleave(n, 0).contiguous());
    torch::Tensor sums;
    try {
        sums = candidateLogProbs(model, r);  // [K*N]
    } catch (...) {
        model.setSoftPrompt(own);
        throw;
    }
    model.setSoftPrompt(own);
    // replica j scored as lossOn scores one batch
    const torch::Tensor scores = sums.view({k, static_cast<int64_t>(b.examples()), -1});  // [K, E, C]
    std::vector<double> losses;
    for (int64_t j = 0; j < k; ++j)
        losses.push_back(objectiveLoss(m_objective, scores[j], m_current.gold, b.tokens).item<double>());
    return losses;
}

int64_t FineTuneProblem::promptsForwardBytes(int64_t k) const {
    const CandidateBatch& b = m_current.candidates;
    if (b.examples() == 0) fail("fine-tuning: promptsForwardBytes() before nextBatch()");
    const torch::Tensor& prompt = m_loaded->model.softPrompt();
    const int64_t tokens = b.ids.size(1) + (prompt.defined() ? prompt.size(-2) : 0);
    return forwardPeakBytes(m_loaded->model.config(), k * b.ids.size(0), tokens);
}

std::vector<FineTuneProblem::Piece> FineTuneProblem::blockwisePieces() const {
    if (m_current.candidates.examples() == 0) fail("fine-tuning: loss() before nextBatch()");
    std::vector<Piece> out;
    const auto add = [&](const Batch& b) {
        out.push_back({&b, m_loaded->model.context(b.candidates.ids, b.candidates.mask)});
    };
    if (m_current.pieces.empty())
        add(m_current);
    else
        for (const Batch& piece : m_current.pieces) add(piece);
    return out;
}

torch::Tensor FineTuneProblem::embedPiece(const Piece& piece) const {
    c10::InferenceMode guard;
    return m_loaded->model.embed(piece.batch->candidates.ids, piece.ctx);
}

double FineTuneProblem::lossFromHidden(const std::vector<Piece>& pieces, const std::vector<torch::Tensor>& hidden) const {
    c10::InferenceMode guard;
    if (hidden.size() != pieces.size()) fail("fine-tuning: ", hidden.size(), " hidden states for ", pieces.size(), " pieces");
    const auto lossOf = [&](size_t i) {
        const Batch& b = *pieces[i].batch;
        const torch::Tensor sums = candidateLogProbsFromHidden(m_loaded->model, b.candidates, hidden[i]);
        return objectiveLoss(m_objective, sums.view({static_cast<int64_t>(b.candidates.examples()), -1}), b.gold,
                             b.candidates.tokens)
            .item<double>();
    };
    if (m_current.pieces.empty()) return lossOf(0);
    std::vector<double> pairs;  // as lossValueOn combines them
    for (size_t i = 0; i < pieces.size(); ++i) {
        const double weight = lossWeightOf(*pieces[i].batch);
        pairs.push_back(lossOf(i) * weight);
        pairs.push_back(weight);
    }
    return weightedMean(pairs);
}

double FineTuneProblem::lossValueOn(const Batch& batch) const {
    c10::InferenceMode guard;
    if (batch.pieces.empty()) return lossOn(batch).item<double>();
    std::vector<double> pairs;  // combined as a data-parallel run combines its processes' shards
    for (const Batch& piece : batch.pieces) {
        const double weight = lossWeightOf(piece);
        pairs.push_back(lossOn(piece).item<double>() * weight);
        pairs.push_back(weight);
    }
    return weightedMean(pairs);
}

DevMetrics evaluateOn(const ModelAndTokenizer& loaded, const data::Task& task,
                      const data::PromptTemplate& prompt, int64_t limit, const StopToken* stop,
                      model::BlockStore* store) {
    const auto r = store ? evaluateTaskWith(streamedScorer(loaded.model, *store, loaded.tokenizer, stop), task, prompt, limit)
                         : evaluateTask(loaded.model, loaded.tokenizer, task, prompt, limit, {}, stop);
    std::vector<std::vector<double>> scores;
    std::vector<int> gold;
    for (size_t e = 0; e < r.scores.size(); ++e) {
        std::vector<double> row;
        for (const auto& s : r.scores[e]) row.push_back(s.sumLogProb);
        scores.push_back(row);
        gold.push_back(task.labelIndex(task.examples()[e].label));
    }
    return {r.accuracy, r.accuracyCalibrated, classificationLoss(scores, gold), r.examples};
}

DevMetrics evaluateShardedOn(const ModelAndTokenizer& loaded, const data::Task& task,
                             const data::PromptTemplate& prompt, int64_t limit, int rank, int count,
                             const FineTuneProblem::Gather& gather) {
    if (prompt.labels() != task.labels()) fail("the template's labels do not match the task's labels");
    const auto& examples = task.examples();
    const int64_t total = static_cast<int64_t>(examples.size());
    const int64_t n = limit > 0 ? std::min(limit, total) : total;
    const auto labels = static_cast<int64_t>(task.labels().size());
    const auto blockOf = [&](int r) { return std::make_pair(n * r / count, n * (r + 1) / count); };
    const int64_t widest = (n + count - 1) / count;  // every process sends this many rows
    std::vector<double> mine(static_cast<size_t>(widest * labels), NAN);
    const auto [first, last] = blockOf(rank);
    // one example a forward: an example's scores do not depend on which others share its batch,
    // so a sharded evaluation gives one process's figures bit for bit
    for (int64_t e = first; e < last; ++e) {
        const auto rendered = prompt.render(examples[static_cast<size_t>(e)].text);
        const auto scores = scoreContinuations(loaded.model, loaded.tokenizer, rendered.context, rendered.continuations);
        if (static_cast<int64_t>(scores.size()) != labels) fail("the template gives ", scores.size(), " candidates for ", labels, " labels");
        for (int64_t c = 0; c < labels; ++c)
            mine[static_cast<size_t>((e - first) * labels + c)] = scores[static_cast<size_t>(c)].sumLogProb;
    }
    const std::vector<double> all = gather(mine);
    if (static_cast<int64_t>(all.size()) != count * widest * labels)
        fail("sharded evaluation: gathered ", all.size(), " scores, expected ", count * widest * labels);
    std::vector<std::vector<double>> table;
    std::vector<int> gold;
    for (int r = 0; r < count; ++r) {
        const auto [f, l] = blockOf(r);
        for (int64_t e = f; e < l; ++e) {
            const auto at = all.begin() + static_cast<std::ptrdiff_t>((r * widest + (e - f)) * labels);
            table.emplace_back(at, at + labels);
            gold.push_back(task.labelIndex(examples[static_cast<size_t>(e)].label));
        }
    }
    // the content-free baseline of contextual calibration, as evaluateTask scores it
    const auto blank = prompt.render("N/A");
    std::vector<double> contentFree;
    for (const auto& b : scoreContinuations(loaded.model, loaded.tokenizer, blank.context, blank.continuations))
        contentFree.push_back(b.sumLogProb);
    int64_t correct = 0, correctCalibrated = 0;
    for (size_t e = 0; e < table.size(); ++e) {
        const auto& row = table[e];
        size_t best = 0, bestCalibrated = 0;
        for (size_t i = 1; i < row.size(); ++i) {
            if (row[i] - contentFree[i] > row[bestCalibrated] - contentFree[bestCalibrated]) bestCalibrated = i;
            if (row[i] > row[best]) best = i;
        }
        correct += static_cast<int>(best) == gold[e];
        correctCalibrated += static_cast<int>(bestCalibrated) == gold[e];
    }
    const auto examplesScored = static_cast<double>(table.size());
    return {static_cast<double>(correct) / examplesScored, static_cast<double>(correctCalibrated) / examplesScored,
            classificationLoss(table, gold), static_cast<int64_t>(table.size())};
}

DevMetrics FineTuneProblem::evaluateDev() const {
    if (m_spec.textMode()) {
        inMemory("the dev text's perplexity");  // every process scores the whole dev text: the same bits on each
        const int64_t batch = m_spec.microBatch > 0 ? std::min(m_spec.microBatch, m_spec.batchSize) : m_spec.batchSize;
        const PerplexityResult p = perplexity(m_loaded->model, m_devStream, m_spec.seqLen, batch, m_spec.evalLimit, m_stop);
        DevMetrics d;
        d.accuracy = d.accuracyCalibrated = NAN;
        d.loss = p.meanLoss;
        d.perplexity = p.perplexity;
        d.examples = p.windows;
        return d;
    }
    if (m_gather) return evaluateShardedOn(*m_loaded, m_dev, m_prompt, m_spec.evalLimit, m_shardRank, m_shardCount, m_gather);
    return evaluateOn(*m_loaded, m_dev, m_prompt, m_spec.evalLimit, m_stop, m_store.get());
}

std::optional<DevMetrics> FineTuneProblem::evaluateTest() const {
    if (!m_test || m_spec.textMode()) return std::nullopt;
    if (m_gather) return evaluateShardedOn(*m_loaded, *m_test, m_prompt, 0, m_shardRank, m_shardCount, m_gather);
    return evaluateOn(*m_loaded, *m_test, m_prompt, 0, m_stop, m_store.get());
}

std::string FineTuneProblem::save(const std::filesystem::path& dir) {
    model::Transformer& m = m_loaded->model;
    std::string note;
    const bool lora = m_params.target() == peft::Target::Lora;
    if (lora) note = "LoRA merged into the weights";
    if (m_store) {  // block by block; a block's LoRA merged into the copy read for it, never written back
        int64_t in = -1;
        m.saveStreamed(dir, model::DType::F32, [&](int64_t layer) {
            if (in >= 0) m_store->evict(in, false);
            m_store->fetch(in = layer);
            if (lora) m.mergeLoraOf(layer, /*keepAdapters=*/true);
        });
        if (in >= 0) m_store->evict(in, false);
    } else {
        if (lora) m.mergeLora();
        m.save(dir, model::DType::F32);
    }
    if (const std::string adapters = peft::saveAdapters(m, m_params, m_spec.peft, dir); !adapters.empty())
        note = adapters;
    const auto tokenizerJson = data::resolveModel(m_spec.model) / "tokenizer.json";
    if (std::filesystem::exists(tokenizerJson))
        std::filesystem::copy_file(tokenizerJson, dir / "tokenizer.json",
                                   std::filesystem::copy_options::overwrite_existing);
    return note.empty() ? "full model" : note;
}

void reportDev(const FineTuneProblem& problem, int64_t step, EventSink& sink, FineTuneResult& r) {
    torch::NoGradGuard noGrad;
    const DevMetrics d = problem.evaluateDev();
    if (problem.spec().textMode()) {
        sink.metric(frugal::metrics::kDevLoss, step, d.loss);
        sink.metric(frugal::metrics::kDevPerplexity, step, d.perplexity);
        sink.info(cat("step ", step, ": dev perplexity ", d.perplexity, " (loss ", d.loss, " nats a token), ",
                      d.examples, " windows of ", problem.spec().seqLen));
        if (step == 0) r.startDevPerplexity = d.perplexity;
        r.finalDevPerplexity = d.perplexity;
        r.finalDevLoss = d.loss;
        return;
    }
    sink.metric(frugal::metrics::kDevAccuracy, step, d.accuracy);
    sink.metric(frugal::metrics::kDevAccuracyCalibrated, step, d.accuracyCalibrated);
    sink.metric(frugal::metrics::kDevLoss, step, d.loss);
    sink.info(cat("step ", step, ": dev accuracy ", d.accuracy, " (calibrated ", d.accuracyCalibrated,
                  "), dev loss ", d.loss, ", ", d.examples, " examples"));
    if (step == 0) r.startDevAccuracy = r.bestDevAccuracy = d.accuracy;
    r.bestDevAccuracy = std::max(r.bestDevAccuracy, d.accuracy);
    r.finalDevAccuracy = d.accuracy;
    r.finalDevLoss = d.loss;
}

void finishRun(FineTuneProblem& problem, EventSink& sink, FineTuneResult& r,
               std::chrono::steady_clock::time_point start) {
    torch::NoGradGuard noGrad;
    if (const auto test = problem.evaluateTest()) {
        sink.metric(frugal::metrics::kTestAccuracy, r.steps, test->accuracy);
        sink.metric(frugal::metrics::kTestAccuracyCalibrated, r.steps, test->accuracyCalibrated);
        sink.metric(frugal::metrics::kTestLoss, r.steps, test->loss);
        r.testAccuracy = test->accuracy;
        sink.info(cat("test accuracy ", test->accuracy, " (calibrated ", test->accuracyCalibrated,
                      "), test loss ", test->loss, ", ", test->examples, " examples"));
    }
    if (!problem.spec().saveTo.empty()) {
        r.savedAs = problem.save(problem.spec().saveTo);
        sink.info("wrote the fine-tuned model to " + problem.spec().saveTo.string() + " (" + r.savedAs + ")");
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.peakRssBytes = peakRssBytes();
}

}  // namespace frugal::eval
