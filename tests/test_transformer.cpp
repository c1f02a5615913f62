// The transformer against an independent PyTorch reference (tests/reference): logits within 1e-4
// for LLaMA (GQA, tied and untied), Mistral, OPT (pre/post-norm, projections) and GPT-2, single
// and sharded, F32/F16/BF16; padded batches; save/load; load memory.

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/runtime_info.h"
#include "model/transformer.h"
#include "test_util.h"

using namespace frugal::model;
using frugal::test::TempDir;

namespace {

constexpr double kTolerance = 1e-4;

struct Reference {
    std::vector<std::vector<int64_t>> sequences;
    std::vector<torch::Tensor> logits;  // [T,V] each
    std::string dtype;
};

Reference readReference(const std::filesystem::path& caseDir) {
    const auto j = nlohmann::json::parse(frugal::test::readText(caseDir / "reference.json"));
    Reference r;
    r.dtype = j.at("dtype").get<std::string>();
    for (const auto& seq : j.at("sequences"))
        r.sequences.push_back(seq.get<std::vector<int64_t>>());
    for (const auto& rows : j.at("logits")) {
        std::vector<torch::Tensor> positions;
        for (const auto& row : rows)
            positions.push_back(torch::tensor(row.get<std::vector<float>>()));
        r.logits.push_back(torch::stack(positions));
    }
    return r;
}

double maxDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

std::filesystem::path caseDir(const QString& name) {
    return frugal::test::envPath("FRUGAL_REFERENCE_DIR") / name.toStdString();
}

}  // namespace

class TestTransformer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesReference_data();
    void matchesReference();
    void paddedBatch_data();
    void paddedBatch();
    void saveLoadRoundTrip_data();
    void saveLoadRoundTrip();
    void blockwiseEqualsForward();
    void observerSeesEveryLinear();
    void rejectsBadIds();
};

void TestTransformer::initTestCase() { frugal::configureThreads(2, 1); }

static void addCases() {
    QTest::addColumn<QString>("name");
    for (const char* name :
         {"llama_gqa_untied_f32", "llama_gqa_tied_bf16_sharded", "llama_mha_f16", "mistral_gqa_f32",
          "llama_headdim24_f32", "opt_prenorm_f32", "opt_postnorm_proj_bf16_sharded", "gpt2_f32",
          "gpt2_prefixed_bf16_sharded"})
        QTest::newRow(name) << QString(name);
}

void TestTransformer::matchesReference_data() { addCases(); }

void TestTransformer::matchesReference() {
    QFETCH(QString, name);
    const Reference ref = readReference(caseDir(name));
    const Transformer model = Transformer::load(caseDir(name));
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < ref.sequences.size(); ++i) {
        torch::Tensor ids = torch::tensor(ref.sequences[i]).view({1, -1});
        torch::Tensor logits = model.forward(ids).squeeze(0);
        QCOMPARE(logits.sizes().vec(), ref.logits[i].sizes().vec());
        const double diff = maxDiff(logits, ref.logits[i]);
        QVERIFY2(diff <= kTolerance,
                 qPrintable(QString("sequence %1: max |diff| %2").arg(i).arg(diff)));
        // the reference is not trivially small: the comparison means something
        QVERIFY(ref.logits[i].abs().max().item<double>() > 0.05);
    }
}

void TestTransformer::paddedBatch_data() { addCases(); }

// Right- and left-padded batches of uneven length give each sequence's own logits.
void TestTransformer::paddedBatch() {
    QFETCH(QString, name);
    const Reference ref = readReference(caseDir(name));
    const Transformer model = Transformer::load(caseDir(name));
    torch::NoGradGuard noGrad;
    int64_t longest = 0;
    for (const auto& s : ref.sequences)
        longest = std::max<int64_t>(longest, static_cast<int64_t>(s.size()));
    const int64_t batch = static_cast<int64_t>(ref.sequences.size());
    for (bool left : {false, true}) {
        torch::Tensor ids = torch::zeros({batch, longest}, torch::kLong);
        torch::Tensor mask = torch::zeros({batch, longest}, torch::kLong);
        for (int64_t b = 0; b < batch; ++b) {
            const auto& s = ref.sequences[static_cast<size_t>(b)];
            const int64_t n = static_cast<int64_t>(s.size()), start = left ? longest - n : 0;
            ids[b].narrow(0, start, n).copy_(torch::tensor(s));
            mask[b].narrow(0, start, n).fill_(1);
        }
        torch::Tensor logits = model.forward(ids, mask);  // [B,T,V]
        for (int64_t b = 0; b < batch; ++b) {
            const int64_t n = static_cast<int64_t>(ref.sequences[static_cast<size_t>(b)].size());
            const int64_t start = left ? longest - n : 0;
            const double diff =
                maxDiff(logits[b].narrow(0, start, n), ref.logits[static_cast<size_t>(b)]);
            QVERIFY2(diff <= kTolerance, qPrintable(QString("%1 padding, row %2: max |diff| %3")
                                                        .arg(left ? "left" : "right")
                                                        .arg(b)
                                                        .arg(diff)));
        }
    }
}

void TestTransformer::saveLoadRoundTrip_data() { addCases(); }

void TestTransformer::saveLoadRoundTrip() {
    QFETCH(QString, name);
    const Reference ref = readReference(caseDir(name));
    const Transformer model = Transformer::load(caseDir(name));
    TempDir dir("rt");
    const DType dtype = parseDType(ref.dtype, "reference.json");
    model.save(dir.path(), dtype, /*maxShardBytes=*/64 << 10);
    const Transformer again = Transformer::load(dir.path());
    const NamedTensors a = model.parameters(), b = again.parameters();
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].first, b[i].first);
        // the weights were representable in the stored dtype: the round trip is exact
        QVERIFY2(torch::equal(a[i].second, b[i].second), a[i].first.c_str());
    }
}

void TestTransformer::blockwiseEqualsForward() {
    const Transformer model = Transformer::load(caseDir("llama_gqa_untied_f32"));
    torch::NoGradGuard noGrad;
    torch::Tensor ids = torch::tensor({3, 1, 4, 1, 5, 9, 2}).view({1, -1});
    const AttentionContext ctx = model.context(ids, {});
    torch::Tensor h = model.embed(ids, ctx);
    for (int64_t i = 0; i < model.numLayers(); ++i) h = model.forwardBlock(i, h, ctx);
    QVERIFY(torch::equal(model.head(h), model.forward(ids)));
}

void TestTransformer::observerSeesEveryLinear() {
    Transformer model = Transformer::load(caseDir("opt_postnorm_proj_bf16_sharded"));
    std::map<std::string, int64_t> seen;
    model.setLinearInputObserver([&](const Linear& layer, const torch::Tensor& x) {
        seen[layer.name] += 1;
        QCOMPARE(x.size(-1), layer.weight.size(1));
    });
    torch::NoGradGuard noGrad;
    model.forward(torch::tensor({1, 2, 3}).view({1, -1}));
    // 6 linears per block (q, k, v, out, fc1, fc2) + project_in + project_out
    QCOMPARE(static_cast<int64_t>(seen.size()), 6 * model.numLayers() + 2);
    QVERIFY(seen.count("model.decoder.layers.0.fc1.weight"));
    QVERIFY(seen.count("model.decoder.project_in.weight"));
    int64_t linears = 0;
    for (int64_t i = 0; i < model.numLayers(); ++i)
        linears += static_cast<int64_t>(model.block(i).linears().size());
    QCOMPARE(linears, 6 * model.numLayers());
}

void TestTransformer::rejectsBadIds() {
    const Transformer model = Transformer::load(caseDir("gpt2_f32"));
    torch::NoGradGuard noGrad;
    try {
        model.forward(torch::tensor({1, 100000}).view({1, -1}));
        QFAIL("expected an error");
    } catch (const frugal::Error& e) {
        QVERIFY2(QString(e.what()).contains("token id 100000 is outside the vocabulary"), e.what());
    }
    try {
        model.forward(torch::zeros({1, 65}, torch::kLong));
        QFAIL("expected an error");
    } catch (const frugal::Error& e) {
        QVERIFY2(QString(e.what()).contains("exceeds max_position_embeddings 64"), e.what());
    }
    try {
        model.forward(torch::tensor({1, 2}).view({1, -1}), torch::tensor({1, 2}).view({1, -1}));
        QFAIL("expected an error");
    } catch (const frugal::Error& e) {
        QVERIFY2(QString(e.what()).contains("attention mask must hold only 0"), e.what());
    }
}

QTEST_APPLESS_MAIN(TestTransformer)
#include "test_transformer.moc"
