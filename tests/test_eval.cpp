// Perplexity by the Wanda/SparseGPT protocol: uniform logits give the vocabulary size, window and
// tail accounting, agreement with a direct per-window computation for any batch size, and errors;
// candidate scoring; the fine-tuning objectives against their definitions.

#include <QtTest/QtTest>

#include <map>
#include <random>

#include "common/error.h"
#include "data/corpus.h"
#include "data/task.h"
#include "data/builtin.h"
#include "eval/candidate_batch.h"
#include "eval/candidate_scoring.h"
#include "eval/fine_tune_problem.h"
#include "eval/model_loading.h"
#include "eval/perplexity.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "test_util.h"

using frugal::eval::perplexity;
using namespace frugal::model;
using frugal::cat;

namespace {

ModelConfig tinyLlama(int64_t vocab) {
    return ModelConfig::fromJson(
        cat(R"({"model_type":"llama","hidden_size":32,"intermediate_size":48,
        "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":)",
            vocab, "}"),
        "config.json");
}

std::vector<int32_t> stream(int64_t n, int64_t vocab, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    const torch::Tensor t = torch::randint(vocab, {n}, gen, torch::kLong);
    std::vector<int32_t> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(static_cast<int32_t>(t[i].item<int64_t>()));
    return out;
}

// A GPT-2-shaped model over the real GPT-2 vocabulary (small width), for scoring real prompts.
Transformer gpt2Model(uint64_t seed) {
    const auto config = ModelConfig::fromJson(R"({"model_type":"gpt2","n_embd":16,"n_layer":2,
        "n_head":2,"vocab_size":50257,"n_positions":128})",
                                              "config.json");
    return Transformer::random(config, seed, /*stddev=*/0.2);
}

Tokenizer gpt2Tokenizer() {
    const auto dir = frugal::test::envPath("FRUGAL_TOKENIZER_DIR") / "gpt2";
    if (!std::filesystem::exists(dir / "vocab.json"))
        throw std::runtime_error("GPT-2 tokenizer missing: run scripts/fetch-data");
    return Tokenizer::load(dir);
}

}  // namespace

class TestEval : public QObject {
    Q_OBJECT
private slots:
    void uniformLogitsGiveVocabularySize();
    void windowAccounting();
    void matchesDirectComputation();
    void rejects();
    void scoresMatchDirectComputation();
    void candidatesSharingAnInputShareARow();
    void handBuiltModelPicksItsLabel();
    void longPromptsAreCutFromTheLeft();
    void fewShotPrefixesDemonstrations();
    void objectives();
    void microBatchesGiveTheBatchObjective();
    void textModeScoresEveryTokenOfItsWindows();
};

void TestEval::uniformLogitsGiveVocabularySize() {
    Transformer model = Transformer::random(tinyLlama(50), 1);
    {
        torch::NoGradGuard noGrad;
        // parameters() shares storage: zeroing the head makes every logit 0, i.e. uniform
        NamedTensors params = model.parameters();
        for (auto& [name, t] : params)
            if (name == "lm_head.weight") t.zero_();
    }
    const auto r = perplexity(model, stream(200, 50, 3), /*seqLen=*/32, /*batch=*/2);
    QVERIFY2(std::abs(r.perplexity - 50.0) < 50.0 * 1e-5,
             qPrintable(QString::number(r.perplexity, 'g', 10)));
    QVERIFY(std::abs(r.meanLoss - std::log(50.0)) < 1e-6);
}

void TestEval::windowAccounting() {
    const Transformer model = Transformer::random(tinyLlama(40), 2);
    const auto r = perplexity(model, stream(100, 40, 4), 32);
    QCOMPARE(r.windows, int64_t{3});
    QCOMPARE(r.tokensDropped, int64_t{4});
    QCOMPARE(r.tokensScored, int64_t{3 * 31});
    QVERIFY(QString::fromStdString(r.protocol()).contains("non-overlapping windows of 32 tokens"));
    const auto limited = perplexity(model, stream(100, 40, 4), 32, /*batch=*/1, /*maxWindows=*/2);
    QCOMPARE(limited.windows, int64_t{2});
    QCOMPARE(limited.windowsAvailable, int64_t{3});
    QCOMPARE(limited.tokensDropped, int64_t{36});
    QVERIFY(QString::fromStdString(limited.protocol()).contains("(the first 2 of 3)"));
}

// exp(mean CE) computed here window by window, with the model's own forward only.
void TestEval::matchesDirectComputation() {
    const Transformer model = Transformer::random(tinyLlama(60), 5, /*stddev=*/0.3);
    const std::vector<int32_t> s = stream(70, 60, 6);
    const int64_t len = 16;
    double sum = 0;
    int64_t count = 0;
    torch::NoGradGuard noGrad;
    for (int64_t w = 0; w + len <= static_cast<int64_t>(s.size()); w += len) {
        std::vector<int64_t> ids(s.begin() + w, s.begin() + w + len);
        const torch::Tensor logp =
            torch::log_softmax(model.forward(torch::tensor(ids).view({1, -1})).squeeze(0), -1);
        for (int64_t t = 1; t < len; ++t, ++count)
            sum -= logp[t - 1][ids[static_cast<size_t>(t)]].item<double>();
    }
    const double expected = std::exp(sum / static_cast<double>(count));
    for (int64_t batch : {1, 2, 4}) {
        const auto r = perplexity(model, s, len, batch);
        QVERIFY2(
            std::abs(r.perplexity - expected) < 1e-4 * expected,
            qPrintable(QString("batch %1: %2 vs %3").arg(batch).arg(r.perplexity).arg(expected)));
    }
    QVERIFY(expected > 60.0 * 1.05);  // the model is far from uniform, so the check means something
}

void TestEval::rejects() {
    Transformer model = Transformer::random(tinyLlama(30), 7);
    auto message = [&](const std::function<void()>& f) -> QString {
        try {
            f();
        } catch (const frugal::Error& e) {
            return e.what();
        }
        return "<no error>";
    };
    QVERIFY(
        message([&] { perplexity(model, stream(10, 30, 1), 1); }).contains("at least 2 tokens"));
    QVERIFY(message([&] {
                perplexity(model, stream(10, 30, 1), 16);
            }).contains("the text has 10 tokens, fewer than one window of 16"));
    {
        torch::NoGradGuard noGrad;
        NamedTensors params = model.parameters();
        for (auto& [name, t] : params)
            if (name == "model.norm.weight") t.fill_(std::numeric_limits<float>::quiet_NaN());
    }
    const QString nan = message([&] { perplexity(model, stream(40, 30, 1), 16); });
    QVERIFY2(nan.contains("loss is NaN in window 0"), qPrintable(nan));
}

// Sum of log-probabilities of the continuation tokens, recomputed here one candidate at a time.
void TestEval::scoresMatchDirectComputation() {
    const Transformer model = gpt2Model(11);
    const Tokenizer tokenizer = gpt2Tokenizer();
    const std::string context = "The film was long. It was";
    const std::vector<std::string> continuations{" great", " terribly boring"};
    const auto scores = frugal::eval::scoreContinuations(model, tokenizer, context, continuations);
    QCOMPARE(scores.size(), size_t{2});
    torch::NoGradGuard noGrad;
    const auto contextIds = tokenizer.encode(context);
    for (size_t c = 0; c < continuations.size(); ++c) {
        const auto all = tokenizer.encode(context + continuations[c]);
        std::vector<int64_t> ids(all.begin(), all.end());
        const torch::Tensor logp =
            torch::log_softmax(model.forward(torch::tensor(ids).view({1, -1})).squeeze(0), -1);
        double sum = 0;
        for (size_t t = contextIds.size(); t < ids.size(); ++t)
            sum += logp[static_cast<int64_t>(t) - 1][ids[t]].item<double>();
        QVERIFY2(std::abs(scores[c].sumLogProb - sum) < 1e-4,
                 qPrintable(QString("%1 vs %2").arg(scores[c].sumLogProb).arg(sum)));
        QCOMPARE(scores[c].tokens, static_cast<int64_t>(ids.size() - contextIds.size()));
        QVERIFY(std::abs(scores[c].meanLogProb - sum / static_cast<double>(scores[c].tokens)) <
                1e-4);
    }
    QCOMPARE(scores[1].tokens, int64_t{2});  // " terribly boring" is two GPT-2 tokens
}

// Candidates whose model inputs are prefixes of one another share one row: " great" reads the
// context, " terribly boring" the context and " terribly", so each example costs one sequence;
// " great fun" and " terribly boring" read different tokens and cost two. Every score equals the
// candidate scored alone, in a batch of its own, within the fp32 rounding of the other shapes.
void TestEval::candidatesSharingAnInputShareARow() {
    const Transformer model = gpt2Model(11);
    const Tokenizer tokenizer = gpt2Tokenizer();
    const std::vector<std::string> contexts{"The film was long. It was", "A short one, and it was",
                                            "It was"};
    const std::vector<std::vector<std::string>> shared(3, {" great", " terribly boring"}),
        apart(3, {" great fun", " terribly boring"});
    QCOMPARE(frugal::eval::encodeCandidates(model, tokenizer, contexts, shared).ids.size(0), int64_t{3});
    QCOMPARE(frugal::eval::encodeCandidates(model, tokenizer, contexts, apart).ids.size(0), int64_t{6});
    for (const auto* lists : {&shared, &apart}) {
        const auto together = frugal::eval::scoreBatch(model, tokenizer, contexts, *lists);
        for (size_t e = 0; e < contexts.size(); ++e)
            for (size_t c = 0; c < 2; ++c) {
                const auto alone =
                    frugal::eval::scoreContinuations(model, tokenizer, contexts[e], {(*lists)[e][c]});
                QVERIFY2(std::abs(together[e][c].sumLogProb - alone[0].sumLogProb) < 1e-4,
                         qPrintable(QString("%1 vs %2").arg(together[e][c].sumLogProb).arg(alone[0].sumLogProb)));
                QCOMPARE(together[e][c].tokens, alone[0].tokens);
            }
    }
}

// GPT-2's final LayerNorm with zero gain outputs its bias at every position; a bias pointing along
// one token's embedding (the tied head) makes the model predict that token everywhere. Scoring
// must then choose that token's label for every example, whatever its gold label.
void TestEval::handBuiltModelPicksItsLabel() {
    Transformer model = gpt2Model(12);
    const Tokenizer tokenizer = gpt2Tokenizer();
    frugal::test::TempDir dir("task");
    frugal::test::writeText(dir / "t.jsonl",
                            "{\"text\": \"A fine film.\", \"label\": \"positive\"}\n"
                            "{\"text\": \"A dull film.\", \"label\": \"negative\"}\n"
                            "{\"text\": \"Loved it.\", \"label\": \"positive\"}\n");
    const std::vector<std::string> labels{"negative", "positive"};
    const auto task = frugal::data::Task::load(dir / "t.jsonl", labels);
    const auto prompt =
        frugal::data::PromptTemplate::parse("{text} It was {terrible|great}.", labels);
    for (const auto& [word, label] :
         std::vector<std::pair<std::string, int>>{{" great", 1}, {" terrible", 0}}) {
        const auto wordIds = tokenizer.encode(word);
        QCOMPARE(wordIds.size(), size_t{1});
        {
            torch::NoGradGuard noGrad;
            NamedTensors params = model.parameters();
            torch::Tensor embed;
            for (auto& [name, t] : params)
                if (name == "transformer.wte.weight") embed = t;
            for (auto& [name, t] : params) {
                if (name == "transformer.ln_f.weight") t.zero_();
                if (name == "transformer.ln_f.bias") t.copy_(embed[wordIds[0]] * 50.0);
            }
        }
        const auto r = frugal::eval::evaluateTask(model, tokenizer, task, prompt);
        QCOMPARE(r.examples, int64_t{3});
        QCOMPARE(r.predictions, (std::vector<int>{label, label, label}));
        QCOMPARE(r.accuracy, label == 1 ? 2.0 / 3.0 : 1.0 / 3.0);
    }
}

// A prompt longer than the model's context keeps only its newest tokens: the scores equal those
// of the same sequences cut by hand to n_positions tokens (GPT-2's tokenizer adds no BOS).
void TestEval::longPromptsAreCutFromTheLeft() {
    const Transformer model = gpt2Model(5);
    const Tokenizer tokenizer = gpt2Tokenizer();
    std::string context;
    for (int i = 0; i < 60; ++i) context += " the film went on and on";
    const std::vector<std::string> continuations{" great", " terribly boring"};
    const auto contextIds = tokenizer.encode(context);
    QVERIFY(contextIds.size() > 128);
    const auto scores = frugal::eval::scoreContinuations(model, tokenizer, context, continuations);
    torch::NoGradGuard noGrad;
    const size_t longest = tokenizer.encode(context + continuations[1]).size();
    const size_t dropped = longest - 128;
    for (size_t c = 0; c < continuations.size(); ++c) {
        const auto all = tokenizer.encode(context + continuations[c]);
        std::vector<int64_t> ids(all.begin() + static_cast<std::ptrdiff_t>(dropped), all.end());
        const torch::Tensor logp =
            torch::log_softmax(model.forward(torch::tensor(ids).view({1, -1})).squeeze(0), -1);
        double sum = 0;
        for (size_t t = contextIds.size() - dropped; t < ids.size(); ++t)
            sum += logp[static_cast<int64_t>(t) - 1][ids[t]].item<double>();
        QVERIFY2(std::abs(scores[c].sumLogProb - sum) < 1e-4,
                 qPrintable(QString("%1 vs %2").arg(scores[c].sumLogProb).arg(sum)));
    }
}

// Few-shot: each example's context is the seeded draw of demonstrations (whole filled templates,
// joined by the separator) before its own prompt; the same seed gives the same draw.
void TestEval::fewShotPrefixesDemonstrations() {
    const Transformer model = gpt2Model(3);
    const Tokenizer tokenizer = gpt2Tokenizer();
    frugal::test::TempDir dir("fewshot");
    frugal::test::writeText(dir / "pool.jsonl",
                            "{\"text\": \"Superb.\", \"label\": \"positive\"}\n"
                            "{\"text\": \"Awful.\", \"label\": \"negative\"}\n"
                            "{\"text\": \"Lovely.\", \"label\": \"positive\"}\n");
    frugal::test::writeText(dir / "t.jsonl",
                            "{\"text\": \"A fine film.\", \"label\": \"positive\"}\n"
                            "{\"text\": \"Lovely.\", \"label\": \"negative\"}\n");
    const std::vector<std::string> labels{"negative", "positive"};
    const auto pool = frugal::data::Task::load(dir / "pool.jsonl", labels);
    const auto task = frugal::data::Task::load(dir / "t.jsonl", labels);
    const auto prompt =
        frugal::data::PromptTemplate::parse("{text} It was {terrible|great}.", labels);
    frugal::eval::FewShot shots{&pool, 2, 99, "\n"};
    const auto r = frugal::eval::evaluateTask(model, tokenizer, task, prompt, 0, shots);
    QCOMPARE(r.scores.size(), size_t{2});

    std::mt19937_64 rng(99);
    for (size_t e = 0; e < 2; ++e) {
        const auto& example = task.examples()[e];
        std::string prefix;
        std::vector<uint64_t> chosen;
        while (chosen.size() < 2) {
            const uint64_t i = frugal::data::uniformBelow(rng, 3);
            const auto& demo = pool.examples()[i];
            if (demo.text == example.text ||
                std::find(chosen.begin(), chosen.end(), i) != chosen.end())
                continue;
            chosen.push_back(i);
            prefix += prompt.demonstration(demo.text, pool.labelIndex(demo.label)) + "\n";
        }
        if (e == 1) QVERIFY(prefix.find("Lovely.") == std::string::npos);  // never itself
        const auto rendered = prompt.render(example.text);
        const auto expected = frugal::eval::scoreContinuations(
            model, tokenizer, prefix + rendered.context, rendered.continuations);
        for (size_t c = 0; c < 2; ++c)
            QCOMPARE(r.scores[e][c].sumLogProb, expected[c].sumLogProb);
    }
    const auto zeroShot = frugal::eval::evaluateTask(model, tokenizer, task, prompt);
    QVERIFY(zeroShot.scores[0][0].sumLogProb != r.scores[0][0].sumLogProb);

    // Calibration: the content-free baseline is the prompt with "N/A" for the text, and the
    // calibrated prediction is the argmax of score minus baseline.
    const auto blank = prompt.render("N/A");
    const auto base = frugal::eval::scoreContinuations(model, tokenizer, blank.context,
                                                       blank.continuations);
    QCOMPARE(zeroShot.contentFree.size(), size_t{2});
    int correct = 0;
    for (size_t e = 0; e < 2; ++e) {
        QCOMPARE(zeroShot.contentFree[e], base[e].sumLogProb);
        const auto& sc = zeroShot.scores[e];
        const int expected = sc[1].sumLogProb - base[1].sumLogProb >
                                     sc[0].sumLogProb - base[0].sumLogProb
                                 ? 1
                                 : 0;
        QCOMPARE(zeroShot.predictionsCalibrated[e], expected);
        correct += expected == task.labelIndex(task.examples()[e].label);
    }
    QCOMPARE(zeroShot.accuracyCalibrated, correct / 2.0);
    shots.shots = 3;  // a pool of 3 cannot give 3 demonstrations that skip the example itself
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] {
                frugal::eval::evaluateTask(model, tokenizer, task, prompt, 0, shots);
            })).contains("3 demonstrations need a pool of more examples than 3"));
}

// The three objectives on one batch, against their definitions computed from the evaluation path
// (scoreBatch) on the same examples: classification cross-entropy over the label words'
// log-likelihoods; lm, the gold word's mean token NLL; neg_accuracy, minus the fraction of argmax hits.
void TestEval::objectives() {
    frugal::test::useSourceResources();
    frugal::eval::FineTuneSpec spec;
    spec.batchSize = 6;
    spec.peft.target = frugal::peft::Target::Norms;
    std::map<std::string, double> value;
    for (const char* objective : {"classification", "lm", "neg_accuracy"}) {
        spec.objective = frugal::eval::parseObjective(objective);
        frugal::eval::FineTuneProblem problem(spec);
        std::mt19937_64 rng(3);
        problem.nextBatch(rng);
        value[objective] = problem.lossValue();
    }
    // the same batch scored by the evaluation path
    const auto builtin = frugal::data::findBuiltinTask("sentiment:train");
    const auto task = frugal::data::Task::load(builtin->file, builtin->task.labels);
    const auto prompt = frugal::data::PromptTemplate::parse(builtin->task.promptTemplate, builtin->task.labels);
    auto loaded = frugal::eval::loadModelAndTokenizer(frugal::data::resolveModel("frugal-tiny"), {});
    std::mt19937_64 rng(3);
    std::vector<std::string> contexts;
    std::vector<std::vector<std::string>> candidates;
    std::vector<int> gold;
    for (int b = 0; b < 6; ++b) {
        const auto& ex = task.examples()[frugal::data::uniformBelow(rng, task.examples().size())];
        const auto r = prompt.render(ex.text);
        contexts.push_back(r.context);
        candidates.push_back(r.continuations);
        gold.push_back(task.labelIndex(ex.label));
    }
    const auto scores = frugal::eval::scoreBatch(loaded.model, loaded.tokenizer, contexts, candidates);
    std::vector<std::vector<double>> sums;
    double nll = 0, tokens = 0, hits = 0;
    for (size_t e = 0; e < scores.size(); ++e) {
        sums.push_back({scores[e][0].sumLogProb, scores[e][1].sumLogProb});
        nll -= scores[e][static_cast<size_t>(gold[e])].sumLogProb;
        tokens += static_cast<double>(scores[e][static_cast<size_t>(gold[e])].tokens);
        hits += (scores[e][1].sumLogProb > scores[e][0].sumLogProb ? 1 : 0) == gold[e];
    }
    QVERIFY(std::abs(value["classification"] - frugal::eval::classificationLoss(sums, gold)) < 1e-9);
    QVERIFY(std::abs(value["lm"] - nll / tokens) < 1e-9);
    QCOMPARE(value["neg_accuracy"], -hits / 6.0);
}

// Plain-text language modelling (train_text): a batch is windows of seq_len tokens drawn from the
// text's non-overlapping windows, its objective the mean NLL of every token after a window's
// first, as the perplexity protocol scores those windows; dev is the dev text's perplexity, as
// `frugal eval ppl` computes it. Texts too short for a window are refused naming the key.
void TestEval::textModeScoresEveryTokenOfItsWindows() {
    frugal::test::useSourceResources();
    frugal::test::TempDir dir("text-mode");
    const std::string prose = frugal::test::kProse;
    frugal::test::writeText(dir / "train.txt", prose + "\n" + prose);
    frugal::test::writeText(dir / "dev.txt", prose);
    frugal::eval::FineTuneSpec spec;
    spec.trainText = dir / "train.txt";
    spec.devText = dir / "dev.txt";
    spec.objective = frugal::eval::Objective::Lm;
    spec.seqLen = 16;
    spec.batchSize = 5;
    spec.evalLimit = 3;
    spec.peft.target = frugal::peft::Target::Norms;
    frugal::eval::FineTuneProblem problem(spec);
    auto loaded = frugal::eval::loadModelAndTokenizer(frugal::data::resolveModel("frugal-tiny"), {});
    const auto stream = loaded.tokenizer.encode(prose + "\n" + prose, true);
    const auto windows = static_cast<int64_t>(stream.size()) / 16;
    QCOMPARE(problem.trainSize(), windows);
    std::mt19937_64 rng(7);
    problem.nextBatch(rng);
    QCOMPARE(problem.lossWeight(), 5.0 * 15);
    // the drawn windows, one after another, scored by the perplexity protocol
    std::mt19937_64 replay(7);
    std::vector<int32_t> drawn;
    for (int b = 0; b < 5; ++b) {
        const auto w = static_cast<int64_t>(frugal::data::uniformBelow(replay, static_cast<uint64_t>(windows)));
        drawn.insert(drawn.end(), stream.begin() + w * 16, stream.begin() + (w + 1) * 16);
    }
    const double expected = frugal::eval::perplexity(loaded.model, drawn, 16, 5).meanLoss;
    const double shifted = [&] {  // the same windows one token later: what an off-by-one scores
        std::vector<int32_t> later(drawn.begin() + 1, drawn.end());
        later.push_back(drawn.front());
        return frugal::eval::perplexity(loaded.model, later, 16, 5).meanLoss;
    }();
    const double got = problem.lossValue();
    qInfo("text batch: objective %.9g, perplexity protocol %.9g, shifted windows %.9g", got, expected, shifted);
    // two fp32 forwards of other shapes (the head on every position or on the scored ones):
    // rounding differences of ~1e-7 relative; a window off by one token differs by far more
    QVERIFY2(std::abs(got - expected) < 1e-5 * std::abs(expected), qPrintable(QString::number(got - expected)));
    QVERIFY(std::abs(shifted - expected) > 1e-3);
    const auto dev = problem.evaluateDev();
    const auto devStream = loaded.tokenizer.encode(prose, true);
    const auto ppl = frugal::eval::perplexity(loaded.model, devStream, 16, 5, 3);
    QCOMPARE(dev.loss, ppl.meanLoss);
    QCOMPARE(dev.perplexity, ppl.perplexity);
    QCOMPARE(dev.examples, int64_t{3});
    QVERIFY(std::isnan(dev.accuracy));
    QVERIFY(!problem.evaluateTest());
    // a text shorter than one window, and a classification objective, are refused
    frugal::test::writeText(dir / "short.txt", "Too short.");
    auto shortSpec = spec;
    shortSpec.devText = dir / "short.txt";
    const QString tooShort = QString::fromStdString(frugal::test::errorOf([&] { frugal::eval::FineTuneProblem p(shortSpec); }));
    QVERIFY2(tooShort.contains("dev_text") && tooShort.contains("short.txt") && tooShort.contains("fewer than one window"),
             qPrintable(tooShort));
    auto classification = spec;
    classification.objective = frugal::eval::Objective::Classification;
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] { frugal::eval::FineTuneProblem p(classification); }))
                .contains("objective must be lm"));
}

// micro_batch: the batch's objective computed in pieces and combined by weight (examples; gold
// tokens for lm) is the objective of the whole batch, up to the fp32 rounding of other forward
// shapes; a piece as large as the batch is the whole batch, bit for bit.
void TestEval::microBatchesGiveTheBatchObjective() {
    frugal::test::useSourceResources();
    for (const char* objective : {"classification", "lm", "neg_accuracy"}) {
        frugal::eval::FineTuneSpec spec;
        spec.batchSize = 6;
        spec.objective = frugal::eval::parseObjective(objective);
        spec.peft.target = frugal::peft::Target::Norms;
        std::map<int64_t, double> value;
        for (const int64_t micro : {0, 1, 4, 6}) {  // 4: pieces of 4 and 2, unequal weights
            spec.microBatch = micro;
            frugal::eval::FineTuneProblem problem(spec);
            std::mt19937_64 rng(5);
            problem.nextBatch(rng);
            value[micro] = problem.lossValue();
        }
        QCOMPARE(value[6], value[0]);
        for (const int64_t micro : {1, 4}) {
            const double relative = std::abs(value[micro] - value[0]) / std::abs(value[0]);
            qInfo("%s: micro_batch %lld gives %.9g, the whole batch %.9g (relative %.2g)", objective,
                  static_cast<long long>(micro), value[micro], value[0], relative);
            // fp32 forwards of other shapes round differently (measured below 1e-6 here); a wrong
            // weighting of the unequal pieces is off by 1e-2 and more
            QVERIFY2(relative < 1e-4, qPrintable(QString("%1, micro_batch %2: %3 vs %4").arg(objective).arg(micro)
                                                     .arg(value[micro], 0, 'g', 10).arg(value[0], 0, 'g', 10)));
        }
    }
}

QTEST_APPLESS_MAIN(TestEval)
#include "test_eval.moc"
