// safetensors reading and writing: round trips in every dtype, sharded archives, and one clear
// error (naming file and tensor) per kind of corrupt checkpoint.

#include <QtTest/QtTest>

#include "common/error.h"
#include "model/safetensors.h"
#include "model/transformer.h"
#include "test_util.h"

using namespace frugal::model;
using frugal::test::TempDir;

namespace {

// 2x2 F32 tensor "a" followed by 3 F32 values "b": 28 data bytes.
std::string floats(std::initializer_list<float> values) {
    std::string out;
    for (float v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
    return out;
}

}  // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
private slots:
    void readsHandWrittenFile();
    void roundTrip_data();
    void roundTrip();
    void shardedArchive();
    void unalignedData();
    void overflowingShape();
    void resaveReplacesCheckpoint();
    void corruptFile_data();
    void corruptFile();
    void corruptIndex_data();
    void corruptIndex();
    void modelValidation_data();
    void modelValidation();
};

void TestSafetensors::readsHandWrittenFile() {
    TempDir dir("st");
    const std::string header =
        R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
        R"("b":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}})";
    frugal::test::writeBytes(dir / "x.safetensors",
                             frugal::test::safetensorsBytes(header, floats({1, 2, 3, 4, 5, 6, 7})));
    auto file = SafetensorsFile::open(dir / "x.safetensors");
    QCOMPARE(file->tensors().size(), size_t{2});
    QCOMPARE(file->metadata().at("format"), std::string("pt"));
    const auto archive = SafetensorsArchive::open(dir / "x.safetensors");
    torch::Tensor a = archive.read("a", torch::kFloat32);
    QVERIFY(torch::equal(a, torch::tensor({1.f, 2.f, 3.f, 4.f}).view({2, 2})));
    torch::Tensor b = archive.read("b", torch::kFloat32);
    QVERIFY(torch::equal(b, torch::tensor({5.f, 6.f, 7.f})));
    // a second read after the pages were released reads the file again
    QVERIFY(torch::equal(archive.read("a", torch::kFloat32), a));
}

void TestSafetensors::roundTrip_data() {
    QTest::addColumn<int>("dtype");
    QTest::newRow("F32") << static_cast<int>(DType::F32);
    QTest::newRow("F16") << static_cast<int>(DType::F16);
    QTest::newRow("BF16") << static_cast<int>(DType::BF16);
}

void TestSafetensors::roundTrip() {
    QFETCH(int, dtype);
    const DType type = static_cast<DType>(dtype);
    TempDir dir("st");
    auto gen = at::detail::createCPUGenerator(7);
    NamedTensors tensors{{"w", torch::randn({5, 3}, gen)},
                         {"scalar", torch::scalar_tensor(2.5f)},
                         {"empty", torch::zeros({0, 4})},
                         {"v", torch::randn({7}, gen)}};
    writeSafetensors(dir / "m.safetensors", tensors, type, {{"note", "x"}});
    const auto archive = SafetensorsArchive::open(dir / "m.safetensors");
    QCOMPARE(archive.names().size(), size_t{4});
    for (const auto& [name, t] : tensors) {
        QCOMPARE(archive.info(name).dtype, type);
        QCOMPARE(archive.info(name).shape, t.sizes().vec());
        // stored exactly as the tensor rounded to the dtype; read back in fp32
        torch::Tensor expected = t.to(toScalarType(type)).to(torch::kFloat32);
        QVERIFY2(torch::equal(archive.read(name, torch::kFloat32), expected), name.c_str());
        QVERIFY(torch::equal(archive.read(name, toScalarType(type)), t.to(toScalarType(type))));
    }
}

void TestSafetensors::shardedArchive() {
    TempDir dir("st");
    NamedTensors tensors;
    for (int i = 0; i < 6; ++i)
        tensors.emplace_back("t" + std::to_string(i), torch::full({256}, float(i)));
    writeSafetensorsSharded(dir.path(), tensors, DType::F32, /*maxShardBytes=*/2048);
    QVERIFY(std::filesystem::exists(dir / "model.safetensors.index.json"));
    QVERIFY(std::filesystem::exists(dir / "model-00003-of-00003.safetensors"));
    const auto archive = SafetensorsArchive::open(dir.path());
    QCOMPARE(archive.files().size(), size_t{3});
    for (int i = 0; i < 6; ++i)
        QVERIFY(torch::equal(archive.read("t" + std::to_string(i), torch::kFloat32),
                             torch::full({256}, float(i))));
    QCOMPARE(archive.totalBytes(), uint64_t{6 * 256 * 4});
}

// Data offsets that are not a multiple of the element size still read correctly (staged copy).
void TestSafetensors::unalignedData() {
    TempDir dir("st");
    const torch::Tensor values = torch::tensor({1.5f, -2.25f, 3.0f}).to(torch::kBFloat16);
    std::string data(1, '\x7f');  // one pad byte puts the BF16 tensor at an odd address
    data.append(static_cast<const char*>(values.data_ptr()), 6);
    std::string header = R"({"pad":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                         R"("w":{"dtype":"BF16","shape":[3],"data_offsets":[1,7]}})";
    while ((8 + header.size()) % 8 != 0) header.push_back(' ');
    frugal::test::writeBytes(dir / "u.safetensors", frugal::test::safetensorsBytes(header, data));
    const auto archive = SafetensorsArchive::open(dir / "u.safetensors");
    QVERIFY(torch::equal(archive.read("w", torch::kFloat32), torch::tensor({1.5f, -2.25f, 3.0f})));
}

// A shape whose byte count overflows 64 bits must not wrap around to match a small range (the
// data section is made 16 MiB, sparse, so that no early size check catches it first).
void TestSafetensors::overflowingShape() {
    TempDir dir("st");
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[4194304,1099511627776],"data_offsets":[0,0]}})";
    const auto path = dir / "huge.safetensors";
    frugal::test::writeBytes(path, frugal::test::safetensorsBytes(header, ""));
    std::filesystem::resize_file(path, std::filesystem::file_size(path) + (16u << 20));
    const QString what =
        QString::fromStdString(frugal::test::errorOf([&] { SafetensorsArchive::open(path); }));
    QVERIFY2(what.contains("tensor 'a': shape [4194304, 1099511627776] is too large to address"),
             qPrintable(what));
}

// Saving into a folder that holds an earlier checkpoint leaves only the new one.
void TestSafetensors::resaveReplacesCheckpoint() {
    TempDir dir("st");
    NamedTensors first;
    for (int i = 0; i < 4; ++i)
        first.emplace_back("t" + std::to_string(i), torch::full({256}, 1.0f));
    writeSafetensorsSharded(dir.path(), first, DType::F32, /*maxShardBytes=*/1024);
    QVERIFY(std::filesystem::exists(dir / "model.safetensors.index.json"));
    writeSafetensorsSharded(dir.path(), {{"t0", torch::full({256}, 2.0f)}}, DType::F32, 1ull << 30);
    QVERIFY(!std::filesystem::exists(dir / "model.safetensors.index.json"));
    QVERIFY(!std::filesystem::exists(dir / "model-00001-of-00004.safetensors"));
    const auto archive = SafetensorsArchive::open(dir.path());
    QCOMPARE(archive.names(), std::vector<std::string>{"t0"});
    QVERIFY(torch::equal(archive.read("t0", torch::kFloat32), torch::full({256}, 2.0f)));
}

void TestSafetensors::corruptFile_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    auto file = [](const std::string& header, const std::string& data) {
        const std::string b = frugal::test::safetensorsBytes(header, data);
        return QByteArray(b.data(), static_cast<int>(b.size()));
    };
    const std::string d16 = floats({1, 2, 3, 4});
    QTest::newRow("too short") << QByteArray("\x05\x00\x00", 3)
                               << "too short for a safetensors header";
    QTest::newRow("header past end") << QByteArray("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10)
                                     << "header length 255 exceeds the file size 10";
    QTest::newRow("header not json") << file("{\"a\": [", d16) << "header is not valid JSON";
    // found by fuzz_safetensors: a number too large for a double is a JSON error, not a crash
    QTest::newRow("huge number")
        << file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,1e99999]}})", d16)
        << "header is not valid JSON";
    QTest::newRow("header not object") << file("[1,2]", d16) << "header must be a JSON object";
    QTest::newRow("unsupported dtype")
        << file(R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", d16)
        << "tensor 'a': dtype 'F64' is not supported (expected F32, F16 or BF16)";
    QTest::newRow("size mismatch")
        << file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", d16)
        << "tensor 'a': F32 [3] needs 12 bytes but data_offsets span 16";
    QTest::newRow("past the data")
        << file(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", d16)
        << "tensor 'a': data_offsets [0, 32] reach past the end of the data (16 bytes)";
    QTest::newRow("reversed offsets")
        << file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", d16)
        << "end before they begin";
    QTest::newRow("overlap") << file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                     d16)
                             << "tensors 'a' and 'b' overlap";
    QTest::newRow("overlap past an empty tensor")
        << file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                R"("b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                R"("c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                d16)
        << "tensors 'a' and 'c' overlap";
    QTest::newRow("duplicate name")
        << file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                d16)
        << "tensor 'a' appears twice";
    QTest::newRow("missing field") << file(R"({"a":{"dtype":"F32","data_offsets":[0,16]}})", d16)
                                   << "tensor 'a' must have dtype, shape and data_offsets";
    QTest::newRow("negative dim")
        << file(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", d16)
        << "must hold non-negative integers";
}

void TestSafetensors::corruptFile() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    TempDir dir("st");
    const auto path = dir / "bad.safetensors";
    frugal::test::writeBytes(path,
                             std::string(bytes.constData(), static_cast<size_t>(bytes.size())));
    const QString what =
        QString::fromStdString(frugal::test::errorOf([&] { SafetensorsArchive::open(path); }));
    QVERIFY2(what.contains(message), qPrintable(what));
    QVERIFY2(what.contains("bad.safetensors"), qPrintable(what));  // names the file
}

void TestSafetensors::corruptIndex_data() {
    QTest::addColumn<QString>("index");
    QTest::addColumn<QString>("message");
    QTest::newRow("no weight_map") << R"({"metadata":{}})"
                                   << "missing object 'weight_map'";
    QTest::newRow("missing shard")
        << R"({"weight_map":{"a":"model-00001-of-00002.safetensors","b":"gone.safetensors"}})"
        << "names shard 'gone.safetensors', which does not exist";
    QTest::newRow("tensor not in index")
        << R"({"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}})"
        << "tensor 'b' is not listed in model.safetensors.index.json";
    QTest::newRow("listed but absent")
        << R"({"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors",)"
           R"("c":"model-00002-of-00002.safetensors"}})"
        << "tensor 'c' is listed for 'model-00002-of-00002.safetensors' but that shard does not "
           "hold it";
    QTest::newRow("wrong shard")
        << R"({"weight_map":{"a":"model-00002-of-00002.safetensors","b":"model-00001-of-00002.safetensors"}})"
        << "lists tensor 'a' in 'model-00002-of-00002.safetensors' but it is in "
           "'model-00001-of-00002.safetensors'";
    QTest::newRow("path escape") << R"({"weight_map":{"a":"../x.safetensors"}})"
                                 << "must be a .safetensors file name in the same folder";
    QTest::newRow("folder as shard") << R"({"weight_map":{"a":"."}})"
                                     << "must be a .safetensors file name in the same folder";
}

void TestSafetensors::corruptIndex() {
    QFETCH(QString, index);
    QFETCH(QString, message);
    TempDir dir("st");
    writeSafetensors(dir / "model-00001-of-00002.safetensors", {{"a", torch::ones({2})}},
                     DType::F32);
    writeSafetensors(dir / "model-00002-of-00002.safetensors", {{"b", torch::ones({2})}},
                     DType::F32);
    frugal::test::writeText(dir / "model.safetensors.index.json", index.toStdString());
    const QString what = QString::fromStdString(
        frugal::test::errorOf([&] { SafetensorsArchive::open(dir.path()); }));
    QVERIFY2(what.contains(message), qPrintable(what));
}

// Checkpoint contents that do not fit config.json.
void TestSafetensors::modelValidation_data() {
    QTest::addColumn<QString>("change");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing tensor")
        << "drop model.layers.1.mlp.up_proj.weight"
        << "checkpoint is missing tensor 'model.layers.1.mlp.up_proj.weight'";
    QTest::newRow("unexpected tensor") << "add model.layers.2.mlp.up_proj.weight"
                                       << "unexpected tensor 'model.layers.2.mlp.up_proj.weight'";
    QTest::newRow("wrong shape")
        << "transpose model.layers.0.mlp.up_proj.weight"
        << "tensor 'model.layers.0.mlp.up_proj.weight' has shape [64, 96], expected [96, 64]";
    QTest::newRow("wrong family")
        << "rename model.embed_tokens.weight"
        << "checkpoint has no token embedding (looked for 'model.embed_tokens.weight')";
    QTest::newRow("no weights") << "delete model.safetensors"
                                << "no model.safetensors or model.safetensors.index.json";
}

void TestSafetensors::modelValidation() {
    QFETCH(QString, change);
    QFETCH(QString, message);
    const auto config = ModelConfig::fromJson(R"({"model_type":"llama","hidden_size":64,
        "intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,
        "num_key_value_heads":2,"vocab_size":32})",
                                              "config.json");
    TempDir dir("st");
    Transformer::random(config, 1).save(dir.path(), DType::F32);
    const auto archive = SafetensorsArchive::open(dir.path());
    NamedTensors tensors;
    for (const auto& name : archive.names())
        tensors.emplace_back(name, archive.read(name, torch::kFloat32));
    const QStringList words = change.split(' ');
    const std::string target = words[1].toStdString();
    if (words[0] == "drop") {
        tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                     [&](const auto& t) { return t.first == target; }),
                      tensors.end());
    } else if (words[0] == "add") {
        tensors.emplace_back(target, torch::zeros({96, 64}));
    } else if (words[0] == "transpose" || words[0] == "rename") {
        for (auto& t : tensors)
            if (t.first == target) {
                if (words[0] == "transpose")
                    t.second = t.second.t().contiguous();
                else
                    t.first = "model.tok_embeddings.weight";
            }
    }
    if (words[0] == "delete")
        std::filesystem::remove(dir / "model.safetensors");
    else
        writeSafetensors(dir / "model.safetensors", tensors, DType::F32);
    const QString what =
        QString::fromStdString(frugal::test::errorOf([&] { Transformer::load(dir.path()); }));
    QVERIFY2(what.contains(message), qPrintable(what));
}

QTEST_APPLESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
