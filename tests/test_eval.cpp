// Perplexity by the Wanda/SparseGPT protocol: uniform logits give the vocabulary size, window and
// tail accounting, agreement with a direct per-window computation for any batch size, and errors.

#include <QtTest/QtTest>

#include "common/error.h"
#include "eval/perplexity.h"
#include "model/transformer.h"

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

}  // namespace

class TestEval : public QObject {
    Q_OBJECT
private slots:
    void uniformLogitsGiveVocabularySize();
    void windowAccounting();
    void matchesDirectComputation();
    void rejects();
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

QTEST_APPLESS_MAIN(TestEval)
#include "test_eval.moc"
