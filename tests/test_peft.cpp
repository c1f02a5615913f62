// What is trained (core/peft): the base-weight targets and their weight-decay tags, LoRA, prefix
// and prompt adapters starting at (or exactly reproducing) the base model, and adapter files read
// back by the one reader (peft/adapter_io.h). Tensor-train adapters: test_tt.cpp.

#include <QtTest/QtTest>

#include <ATen/CPUGeneratorImpl.h>

#include "model/model_config.h"
#include "model/safetensors.h"
#include "model/transformer.h"
#include "peft/adapter_io.h"
#include "peft/param_set.h"
#include "test_util.h"

class TestPeft : public QObject {
    Q_OBJECT
private slots:
    void paramSets();
    void adaptersStartAtTheBaseFunction_data();
    void adaptersStartAtTheBaseFunction();
    void savedAdaptersLoadBack();
    void maskedLoraIsItsMergedModel();
};

void TestPeft::paramSets() {
    const auto config = frugal::model::ModelConfig::fromJson(
        R"({"model_type":"llama","hidden_size":16,"intermediate_size":32,"num_hidden_layers":2,
            "num_attention_heads":2,"vocab_size":50,"tie_word_embeddings":true})",
        "config.json");
    const auto model = frugal::model::Transformer::random(config, 1);
    using frugal::peft::ParamSet;
    using frugal::peft::Target;
    const auto full = ParamSet::select(model, Target::Full);
    QCOMPARE(full.trainableCount(), model.parameterCount());
    const auto norms = ParamSet::select(model, Target::Norms);
    QCOMPARE(norms.trainables().size(), size_t{2 * 2 + 1});  // 2 per layer + the final norm
    for (const auto& t : norms.trainables()) QVERIFY(!t.decay);
    for (const auto& t : full.trainables())
        QCOMPARE(t.decay, t.name.find("norm") == std::string::npos);
    const auto head = ParamSet::select(model, Target::Head);
    QCOMPARE(head.trainables().at(0).name, std::string("model.embed_tokens.weight"));  // tied
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] {
                ParamSet::select(model, Target::BitFit);
            })).contains("selects no tensor of this llama model (it has no bias tensors"));
}

namespace {

frugal::model::Transformer tinyModel(const std::string& type) {
    const std::string json =
        type == "llama"
            ? R"({"model_type":"llama","hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,
                 "num_attention_heads":4,"num_key_value_heads":2,"vocab_size":60,
                 "max_position_embeddings":64})"
            : R"({"model_type":"opt","hidden_size":32,"ffn_dim":64,"num_hidden_layers":2,
                 "num_attention_heads":4,"vocab_size":60,"max_position_embeddings":64,
                 "word_embed_proj_dim":32,"do_layer_norm_before":true})";
    return frugal::model::Transformer::random(
        frugal::model::ModelConfig::fromJson(json, "config.json"), 3, 0.2);
}

}  // namespace

void TestPeft::adaptersStartAtTheBaseFunction_data() {
    QTest::addColumn<QString>("type");
    QTest::newRow("llama (rotary, GQA)") << "llama";
    QTest::newRow("opt (learned positions)") << "opt";
}

// LoRA starts exactly at the base model (B = 0). A prefix initialised from tokens X, or a soft
// prompt made of X's embeddings, gives for input Y exactly what the base model gives for X;Y at
// Y's positions — the oracle of "initialised from real activations".
void TestPeft::adaptersStartAtTheBaseFunction() {
    QFETCH(QString, type);
    using frugal::peft::ParamSet;
    using frugal::peft::Target;
    c10::InferenceMode guard;
    const torch::Tensor y = torch::randint(60, {2, 7}, torch::kLong);
    const auto base = tinyModel(type.toStdString());
    const torch::Tensor expectedPlain = base.forward(y);

    auto lora = tinyModel(type.toStdString());
    frugal::peft::PeftOptions o;
    o.target = Target::Lora;
    o.loraModules = {"q", "v", "down"};
    const auto loraSet = ParamSet::attach(lora, o);
    QCOMPARE(loraSet.trainables().size(), size_t{2 * 3 * 2});
    const int64_t kvOut = type == "llama" ? 16 : 32;  // GQA: 2 key/value heads of 8
    QCOMPARE(loraSet.trainableCount(), 2 * (8 * (32 + 32) + 8 * (32 + kvOut) + 8 * (64 + 32)));
    QVERIFY(torch::equal(lora.forward(y), expectedPlain));
    lora.block(1).v.loraB.fill_(0.01);  // and the adapter is live
    QVERIFY(!torch::allclose(lora.forward(y), expectedPlain));

    for (Target target : {Target::Prefix, Target::Prompt}) {
        auto adapted = tinyModel(type.toStdString());
        o.target = target;
        o.prefixTokens = o.promptTokens = 3;
        o.seed = 11;
        const auto set = ParamSet::attach(adapted, o);
        // the random tokens the adapter drew: same generator, same draw
        auto gen = at::detail::createCPUGenerator(11);
        const torch::Tensor x = target == Target::Prefix
                                    ? torch::randint(60, {1, 3}, gen, torch::kLong)
                                    : torch::randint(60, {3}, gen, torch::kLong).unsqueeze(0);
        const torch::Tensor xy = torch::cat({x.expand({2, 3}), y}, 1);
        const torch::Tensor expected = base.forward(xy).narrow(1, 3, 7);
        const torch::Tensor got = adapted.forward(y);
        QCOMPARE(got.sizes(), expected.sizes());
        QVERIFY2(torch::allclose(got, expected, 1e-4, 1e-4),
                 qPrintable(QString("%1: max difference %2")
                                .arg(QString::fromStdString(frugal::peft::targetName(target)))
                                .arg((got - expected).abs().max().item<double>())));
        QCOMPARE(set.trainableCount(), target == Target::Prefix
                                           ? int64_t{2 * 2 * 3 * (type == "llama" ? 16 : 32)}
                                           : int64_t{3 * 32});
    }
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] {
                auto m = tinyModel(type.toStdString());
                frugal::peft::PeftOptions bad;
                bad.target = Target::Lora;
                bad.loraModules = {"q", "w"};
                ParamSet::attach(m, bad);
            })).contains("unknown module 'w'"));
}

// Prefix and prompt tensors written to adapter.safetensors come back into a fresh model: the same
// logits; a foreign tensor or a wrong shape fails naming the file and the tensor.
void TestPeft::savedAdaptersLoadBack() {
    frugal::test::TempDir dir("adapters");
    c10::InferenceMode guard;
    const torch::Tensor y = torch::randint(60, {2, 5}, torch::kLong);
    for (auto target : {frugal::peft::Target::Prefix, frugal::peft::Target::Prompt}) {
        auto tuned = tinyModel("llama");
        frugal::peft::PeftOptions o;
        o.target = target;
        const auto set = frugal::peft::ParamSet::attach(tuned, o);
        for (const auto& t : set.trainables()) t.tensor.add_(0.1);  // as if trained
        frugal::model::NamedTensors tensors;
        for (const auto& t : set.trainables()) tensors.emplace_back(t.name, t.tensor);
        frugal::model::writeSafetensors(dir / "adapter.safetensors", tensors, frugal::model::DType::F32);
        auto fresh = tinyModel("llama");
        frugal::peft::attachSavedAdapters(fresh, dir.path());
        QVERIFY(torch::equal(fresh.forward(y), tuned.forward(y)));
    }
    frugal::model::writeSafetensors(dir / "adapter.safetensors", {{"lm_head.lora", torch::zeros({2, 2})}},
                                    frugal::model::DType::F32);
    auto fresh = tinyModel("llama");
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] {
                frugal::peft::attachSavedAdapters(fresh, dir.path());
            })).contains("unknown adapter tensor 'lm_head.lora'"));
    frugal::model::writeSafetensors(dir / "adapter.safetensors",
                                    {{"model.layers.0.prefix_key", torch::zeros({5, 7})}},
                                    frugal::model::DType::F32);
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] {
                frugal::peft::attachSavedAdapters(fresh, dir.path());
            })).contains("tensor 'model.layers.0.prefix_key' has shape [5, 7], expected [P, 16]"));
}

// LoRA on a pruned model (lora_keep_zeros): the forward computes what the merged model computes,
// and the merge leaves every zero weight at +0.0 while the others move.
void TestPeft::maskedLoraIsItsMergedModel() {
    c10::InferenceMode guard;
    const torch::Tensor y = torch::randint(60, {2, 7}, torch::kLong);
    auto model = tinyModel("llama");
    for (int64_t layer = 0; layer < model.numLayers(); ++layer)  // a pruned model: every other weight 0
        for (auto m : {&frugal::model::Block::q, &frugal::model::Block::v})
            (model.block(layer).*m).weight.view({-1}).slice(0, 0, c10::nullopt, 2).zero_();
    frugal::peft::PeftOptions o;
    o.target = frugal::peft::Target::Lora;
    o.loraKeepZeros = true;
    const auto set = frugal::peft::ParamSet::attach(model, o);
    // the memory estimate counts the masks: one byte per element of each adapted matrix
    int64_t adaptedElements = 0;
    for (int64_t layer = 0; layer < model.numLayers(); ++layer)
        adaptedElements += model.block(layer).q.weight.numel() + model.block(layer).v.weight.numel();
    QCOMPARE(frugal::peft::countTrainable(model.config(), o).maskBytes, adaptedElements);
    auto gen = at::detail::createCPUGenerator(5);
    for (const auto& t : set.trainables()) t.tensor.copy_(torch::randn(t.tensor.sizes(), gen));  // as if trained
    const torch::Tensor adapted = model.forward(y);
    std::vector<torch::Tensor> before;
    for (int64_t layer = 0; layer < model.numLayers(); ++layer)
        for (auto m : {&frugal::model::Block::q, &frugal::model::Block::v})
            before.push_back((model.block(layer).*m).weight.clone());
    model.mergeLora();
    const torch::Tensor merged = model.forward(y);
    // the same function in two association orders (x·(W + ΔW)ᵀ and x·Wᵀ + x·ΔWᵀ): fp32 rounding
    QVERIFY2(torch::allclose(adapted, merged, 1e-4, 1e-4),
             qPrintable(QString::number((adapted - merged).abs().max().item<double>())));
    size_t i = 0;
    for (int64_t layer = 0; layer < model.numLayers(); ++layer)
        for (auto m : {&frugal::model::Block::q, &frugal::model::Block::v}) {
            const torch::Tensor& a = before[i++];
            const torch::Tensor& b = (model.block(layer).*m).weight;
            QVERIFY(!(b != 0).masked_select(a == 0).any().item<bool>());
            QVERIFY(!torch::signbit(b.masked_select(a == 0)).any().item<bool>());
            QVERIFY(!torch::equal(a.masked_select(a != 0), b.masked_select(a != 0)));
        }
}

QTEST_APPLESS_MAIN(TestPeft)
#include "test_peft.moc"
