// ModelConfig from Hugging Face config.json: real published configs of each family, and one
// clear error per kind of bad config; the device names a config may give and the dtype that
// dtype = "auto" takes from a checkpoint's torch_dtype on each device.

#include <QtTest/QtTest>

#include "common/error.h"
#include "model/device.h"
#include "model/model_config.h"

using frugal::model::Family;
using frugal::model::ModelConfig;

class TestModelConfig : public QObject {
    Q_OBJECT
private slots:
    void llama2_7b();
    void mistralGqa();
    void opt350mPostNormProjection();
    void gpt2Small();
    void roundTrip_data();
    void roundTrip();
    void rejects_data();
    void rejects();
    void deviceNames();
    void autoDtype_data();
    void autoDtype();
};

void TestModelConfig::llama2_7b() {
    const auto c = ModelConfig::fromJson(R"({
      "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
      "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
      "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "llama",
      "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
      "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null,
      "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.31.0",
      "use_cache": true, "vocab_size": 32000})",
                                         "llama-2-7b/config.json");
    QCOMPARE(c.family, Family::Llama);
    QCOMPARE(c.hiddenSize, int64_t{4096});
    QCOMPARE(c.intermediateSize, int64_t{11008});
    QCOMPARE(c.numKvHeads, int64_t{32});
    QCOMPARE(c.headDim, int64_t{128});
    QCOMPARE(c.rmsNormEps, 1e-5);
    QCOMPARE(c.ropeTheta, 10000.0);
    QVERIFY(!c.tieWordEmbeddings);
    QCOMPARE(*c.bosTokenId, int64_t{1});
    QCOMPARE(c.torchDtype, std::string("float16"));
}

void TestModelConfig::mistralGqa() {
    const auto c = ModelConfig::fromJson(R"({"model_type": "mistral", "hidden_size": 4096,
      "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
      "num_key_value_heads": 8, "rope_theta": 1000000.0, "sliding_window": 4096,
      "vocab_size": 32000, "max_position_embeddings": 32768})",
                                         "mistral/config.json");
    QCOMPARE(c.family, Family::Llama);
    QCOMPARE(c.numKvHeads, int64_t{8});
    QCOMPARE(c.ropeTheta, 1e6);
    QCOMPARE(*c.slidingWindow, int64_t{4096});
    // absent: MistralConfig's default window; null: no window
    const std::string base =
        R"({"model_type": "mistral", "hidden_size": 64, "intermediate_size": 96,
      "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10, "eos_token_id": [2, 7])";
    QCOMPARE(*ModelConfig::fromJson(base + "}", "m").slidingWindow, int64_t{4096});
    QVERIFY(!ModelConfig::fromJson(base + R"(, "sliding_window": null})", "m").slidingWindow);
    QCOMPARE(*ModelConfig::fromJson(base + "}", "m").eosTokenId, int64_t{2});
}

void TestModelConfig::opt350mPostNormProjection() {
    const auto c = ModelConfig::fromJson(R"({"_name_or_path": "opt-350m",
      "activation_function": "relu", "architectures": ["OPTForCausalLM"], "bos_token_id": 2,
      "do_layer_norm_before": false, "dropout": 0.1, "eos_token_id": 2, "ffn_dim": 4096,
      "hidden_size": 1024, "max_position_embeddings": 2048, "model_type": "opt",
      "num_attention_heads": 16, "num_hidden_layers": 24, "pad_token_id": 1,
      "vocab_size": 50272, "word_embed_proj_dim": 512})",
                                         "opt-350m/config.json");
    QCOMPARE(c.family, Family::Opt);
    QVERIFY(!c.doLayerNormBefore);
    QCOMPARE(c.wordEmbedProjDim, int64_t{512});
    QCOMPARE(c.intermediateSize, int64_t{4096});
    QVERIFY(c.tieWordEmbeddings);
    QCOMPARE(c.activation, std::string("relu"));
}

void TestModelConfig::gpt2Small() {
    const auto c = ModelConfig::fromJson(R"({"activation_function": "gelu_new",
      "architectures": ["GPT2LMHeadModel"], "bos_token_id": 50256, "eos_token_id": 50256,
      "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768,
      "n_head": 12, "n_inner": null, "n_layer": 12, "n_positions": 1024,
      "vocab_size": 50257})",
                                         "gpt2/config.json");
    QCOMPARE(c.family, Family::Gpt2);
    QCOMPARE(c.intermediateSize, int64_t{3072});
    QCOMPARE(c.headDim, int64_t{64});
    QCOMPARE(c.maxPositions, int64_t{1024});
    QVERIFY(c.tieWordEmbeddings);
}

void TestModelConfig::roundTrip_data() {
    QTest::addColumn<QString>("json");
    QTest::newRow("llama-gqa") << R"({"model_type":"llama","hidden_size":64,"intermediate_size":96,
        "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":50,
        "rope_theta":500000.0,"rms_norm_eps":1e-5,"tie_word_embeddings":true})";
    QTest::newRow("opt-proj") << R"({"model_type":"opt","hidden_size":64,"ffn_dim":128,
        "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":50,"max_position_embeddings":32,
        "do_layer_norm_before":false,"word_embed_proj_dim":32})";
    QTest::newRow("gpt2") << R"({"model_type":"gpt2","n_embd":64,"n_inner":96,"n_layer":2,
        "n_head":4,"vocab_size":50,"n_positions":32})";
}

void TestModelConfig::roundTrip() {
    QFETCH(QString, json);
    const auto a = ModelConfig::fromJson(json.toStdString(), "a");
    const auto b = ModelConfig::fromJson(a.toJson(), "b");
    QCOMPARE(b.family, a.family);
    QCOMPARE(b.hiddenSize, a.hiddenSize);
    QCOMPARE(b.intermediateSize, a.intermediateSize);
    QCOMPARE(b.numKvHeads, a.numKvHeads);
    QCOMPARE(b.ropeTheta, a.ropeTheta);
    QCOMPARE(b.tieWordEmbeddings, a.tieWordEmbeddings);
    QCOMPARE(b.doLayerNormBefore, a.doLayerNormBefore);
    QCOMPARE(b.wordEmbedProjDim, a.wordEmbedProjDim);
    QCOMPARE(b.maxPositions, a.maxPositions);
}

void TestModelConfig::rejects_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("not json") << "{\"model_type\": \"llama\","
                              << "config.json: not valid JSON";
    QTest::newRow("huge number") << R"({"model_type": "llama", "hidden_size": 1e99999})"
                                 << "config.json: not valid JSON";
    QTest::newRow("not an object") << "[1, 2]"
                                   << "expected a JSON object";
    QTest::newRow("no model_type") << R"({"hidden_size": 8})"
                                   << "missing key 'model_type'";
    QTest::newRow("unknown model_type")
        << R"({"model_type": "bert"})"
        << "model_type 'bert' is not supported; supported: llama, mistral, opt, gpt2";
    QTest::newRow("missing size") << R"({"model_type": "llama", "vocab_size": 10})"
                                  << "missing key 'hidden_size'";
    QTest::newRow("wrong type") << R"({"model_type":"llama","vocab_size":10,"hidden_size":"64"})"
                                << "key 'hidden_size' must be a positive integer, got \"64\"";
    QTest::newRow("heads do not divide") << R"({"model_type":"gpt2","n_embd":10,"n_layer":1,
        "n_head":3,"vocab_size":5,"n_positions":8})"
                                         << "n_embd 10 is not divisible by n_head 3";
    QTest::newRow("kv heads do not divide") << R"({"model_type":"llama","hidden_size":64,
        "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,
        "num_key_value_heads":3,"vocab_size":5})"
                                            << "not a multiple of num_key_value_heads 3";
    QTest::newRow("implausible size")
        << R"({"model_type":"llama","vocab_size":10,
        "hidden_size":4611686018427387904})"
        << "key 'hidden_size' = 4611686018427387904 is implausibly large";
    QTest::newRow("odd head_dim") << R"({"model_type":"llama","hidden_size":60,
        "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"vocab_size":5})"
                                  << "head_dim 15 must be even";
    QTest::newRow("too many layers") << R"({"model_type":"gpt2","n_embd":8,"n_layer":100000,
        "n_head":2,"vocab_size":5,"n_positions":8})"
                                     << "100000 layers is implausibly many";
    QTest::newRow("rope scaling") << R"({"model_type":"llama","hidden_size":64,
        "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"vocab_size":5,
        "rope_scaling":{"type":"linear","factor":2.0}})"
                                  << "rope_scaling is set";
    QTest::newRow("bad activation") << R"({"model_type":"opt","hidden_size":8,"ffn_dim":8,
        "num_hidden_layers":1,"num_attention_heads":2,"vocab_size":5,"max_position_embeddings":8,
        "activation_function":"swish"})"
                                    << "activation_function 'swish' is not supported for opt";
}

void TestModelConfig::rejects() {
    QFETCH(QString, json);
    QFETCH(QString, message);
    try {
        ModelConfig::fromJson(json.toStdString(), "config.json");
        QFAIL("expected an error");
    } catch (const frugal::Error& e) {
        const QString what = QString::fromStdString(e.what());
        QVERIFY2(what.contains(message), qPrintable(what));
        QVERIFY2(what.startsWith("config.json"), qPrintable(what));
    }
}

void TestModelConfig::deviceNames() {
    for (const char* ok : {"cpu", "cuda", "cuda:0", "cuda:7", "cuda:15"})
        QVERIFY2(frugal::model::deviceNameProblem(ok).empty(), ok);
    QCOMPARE(QString::fromStdString(frugal::model::deviceNameProblem("gpu")),
             QString("unknown device 'gpu' (expected cpu, cuda or cuda:N)"));
    for (const char* bad : {"cuda:", "cuda:x", "cuda:-1", "cuda:1.5", "cuda:99999"})
        QVERIFY2(frugal::model::deviceNameProblem(bad).find("names no GPU") != std::string::npos, bad);
    QVERIFY(frugal::model::isCudaName("cuda:3") && !frugal::model::isCudaName("cpu"));
}

void TestModelConfig::autoDtype_data() {
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("device");
    QTest::addColumn<QString>("expected");
    // the checkpoint's own where the device computes in it
    QTest::newRow("bf16 on the CPU") << "auto" << "bfloat16" << "cpu" << "bf16";
    QTest::newRow("bf16 on CUDA") << "auto" << "bfloat16" << "cuda" << "bf16";
    QTest::newRow("fp16 on CUDA") << "auto" << "float16" << "cuda:1" << "fp16";
    QTest::newRow("fp32 anywhere") << "auto" << "float32" << "cuda" << "fp32";
    // else the nearest it does: fp16 has no CPU matrix products, bf16 has its memory
    QTest::newRow("fp16 on the CPU") << "auto" << "float16" << "cpu" << "bf16";
    QTest::newRow("no torch_dtype") << "auto" << "" << "cpu" << "fp32";
    // a dtype given is kept
    QTest::newRow("fp32 given") << "fp32" << "bfloat16" << "cpu" << "fp32";
    QTest::newRow("fp16 given") << "fp16" << "float32" << "cuda" << "fp16";
}

void TestModelConfig::autoDtype() {
    QFETCH(QString, dtype);
    QFETCH(QString, checkpoint);
    QFETCH(QString, device);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(frugal::model::resolveDtype(dtype.toStdString(), checkpoint.toStdString(),
                                                                device.toStdString())),
             expected);
}

QTEST_APPLESS_MAIN(TestModelConfig)
#include "test_model_config.moc"
