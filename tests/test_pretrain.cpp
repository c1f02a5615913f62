// Pre-training (core/pretrain): the config (unknown keys with a suggestion, type and range errors
// naming the key path, overrides, a missing corpus file) and a tiny pre-training run end to end
// (loss falls, the same seed gives the same bytes, the folder loads as a Hugging Face model).

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "pretrain/pretrain.h"
#include "test_util.h"

using frugal::model::Tokenizer;
using frugal::pretrain::PretrainConfig;
using frugal::test::errorOf;
using frugal::test::TempDir;

namespace {

std::string tinyRecipe(const std::filesystem::path& dir, int64_t steps) {
    return frugal::cat(R"([output]
dir = ")", (dir / "model").string(), R"("
[tokenizer]
vocab_size = 320
[model]
hidden_size = 32
num_layers = 2
num_heads = 4
num_kv_heads = 2
max_position_embeddings = 32
[data]
holdout_fraction = 0.1
eval_text = ")", (dir / "heldout.txt").string(), R"("
[[data.sources]]
name = "prose"
path = ")", (dir / "corpus.txt").string(), R"("
[train]
seed = 7
steps = )", steps, R"(
batch_size = 4
seq_len = 16
lr = 1e-2
min_lr = 1e-3
warmup_steps = 5
log_every = 5
eval_every = 20
eval_windows = 2
)");
}

}  // namespace

class TestPretrain : public QObject {
    Q_OBJECT
private slots:
    void configRejects_data();
    void configRejects();
    void overridesApply();
    void missingCorpusFileNamesTheKey();
    void committedRecipeParses();
    void tinyPretrainingRun();
};

void TestPretrain::configRejects_data() {
    QTest::addColumn<QString>("toml");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QStringList>("overrides");
    const QString base = "[output]\ndir = \"out\"\n[[data.sources]]\npath = \"c.txt\"\n";
    const QString withTrain = base + "[train]\nsteps = 10\nlr = 1e-3\n[model]\nnum_heads = 8\n";
    QTest::newRow("override syntax") << withTrain << "override 'steps': expected KEY=VALUE"
                                     << QStringList{"steps"};
    QTest::newRow("override unknown") << withTrain
                                      << "has no key 'stepz' (did you mean 'train.steps'?)"
                                      << QStringList{"stepz=3"};
    QTest::newRow("override type") << withTrain
                                   << "train.steps is the string \"many\", expected an integer"
                                   << QStringList{"steps=many"};
    QTest::newRow("override range") << withTrain << "train.lr is -1, expected a number in [0, 10]"
                                    << QStringList{"train.lr=-1"};
    QTest::newRow("override full path to unknown key")
        << withTrain << "unknown key 'train.lrate' (did you mean 'train.lr'?)"
        << QStringList{"train.lrate=1"};
    QTest::newRow("override into a value") << withTrain << "'train.lr' is not a table"
                                           << QStringList{"train.lr.x=1"};
    QTest::newRow("override empty value") << withTrain << "the value is empty"
                                          << QStringList{"lr="};
    QTest::newRow("wrong method") << "method = \"mezo\"\n" + base
                                  << "method is the string \"mezo\", expected \"pretrain\""
                                  << QStringList{};
    QTest::newRow("dtype") << "[output]\ndir = \"o\"\ndtype = \"F8\"\n"
                           << "output.dtype is 'F8', expected F32, BF16 or F16" << QStringList{};
    QTest::newRow("kv heads") << base + "[model]\nnum_heads = 8\nnum_kv_heads = 3\n"
                              << "model.num_heads (8) is not a multiple of model.num_kv_heads (3)"
                              << QStringList{};
    QTest::newRow("min_lr above lr") << base + "[train]\nlr = 1e-4\nmin_lr = 1e-3\n"
                                     << "train.min_lr (0.001) exceeds train.lr (0.0001)"
                                     << QStringList{};
    QTest::newRow("sources not tables") << "[output]\ndir = \"o\"\n[data]\nsources = [1, 2]\n"
                                        << "data.sources is an array, expected an array of tables"
                                        << QStringList{};
    QTest::newRow("section not a table") << "model = 3\n" + base
                                         << "[model] must be a table, found 3" << QStringList{};
    QTest::newRow("negative weight") << "[output]\ndir = \"o\"\n[[data.sources]]\npath = \"c\"\n"
                                        "weight = -1\n"
                                     << "data.sources[0].weight is -1, expected a number in [0,"
                                     << QStringList{};
    QTest::newRow("unknown key") << base + "[train]\nlrr = 1e-3\n"
                                 << "recipe.toml:6: unknown key 'train.lrr' (did you mean 'train.lr'?)"
                                << QStringList{};
    QTest::newRow("unknown section") << base + "[trian]\nsteps = 3\n"
                                     << "unknown key 'trian' (did you mean 'train'?)"
                                << QStringList{};
    QTest::newRow("wrong type") << base + "[train]\nlr = \"fast\"\n"
                                << "recipe.toml:6: train.lr is the string \"fast\", expected a number"
                                << QStringList{};
    QTest::newRow("out of range") << base + "[train]\nsteps = 0\n"
                                  << "train.steps is 0, expected an integer in [1,"
                                << QStringList{};
    QTest::newRow("seq_len too long")
        << base + "[model]\nmax_position_embeddings = 64\n[train]\nseq_len = 128\n"
        << "train.seq_len (128) exceeds model.max_position_embeddings (64)"
                                << QStringList{};
    QTest::newRow("heads") << base + "[model]\nhidden_size = 30\nnum_heads = 4\n"
                           << "model.hidden_size (30) is not a multiple of model.num_heads (4)"
                                << QStringList{};
    QTest::newRow("no sources") << "[output]\ndir = \"out\"\n"
                                << "data.sources is empty"
                                << QStringList{};
    QTest::newRow("no output") << "[[data.sources]]\npath = \"c.txt\"\n"
                               << "output.dir is missing"
                                << QStringList{};
    QTest::newRow("syntax") << base + "[train\n" << "recipe.toml:5:"
                                << QStringList{};
    QTest::newRow("source key") << "[output]\ndir = \"o\"\n[[data.sources]]\npaht = \"c.txt\"\n"
                                << "unknown key 'data.sources[0].paht' (did you mean "
                                   "'data.sources[0].path'?)"
                                << QStringList{};
}

void TestPretrain::configRejects() {
    QFETCH(QString, toml);
    QFETCH(QString, message);
    QFETCH(QStringList, overrides);
    std::vector<std::string> list;
    for (const auto& o : overrides) list.push_back(o.toStdString());
    const QString what = QString::fromStdString(
        errorOf([&] { PretrainConfig::fromTomlText(toml.toStdString(), "recipe.toml", list); }));
    QVERIFY2(what.contains(message), qPrintable(what));
}

void TestPretrain::overridesApply() {
    const std::string toml = "[output]\ndir = \"out\"\n[[data.sources]]\npath = \"c.txt\"\n"
                             "[train]\nsteps = 10\nlr = 1e-3\n";
    const auto c = PretrainConfig::fromTomlText(
        toml, "r.toml", {"steps=50", "train.lr=2e-3", "train.eval_windows=3", "output.dtype=BF16"});
    QCOMPARE(c.steps, int64_t{50});
    QCOMPARE(c.lr, 2e-3);
    QCOMPARE(c.evalWindows, int64_t{3});
    QCOMPARE(c.dtype, std::string("BF16"));
    QVERIFY(c.resolvedText.find("steps = 50") != std::string::npos);
    QVERIFY(c.text.find("steps = 10") != std::string::npos);  // the file's own text is kept too
}

void TestPretrain::missingCorpusFileNamesTheKey() {
    TempDir dir("pretrain");
    frugal::test::writeText(dir / "recipe.toml", tinyRecipe(dir.path(), 5));
    const auto config = PretrainConfig::fromToml(dir / "recipe.toml");
    const QString what = QString::fromStdString(
        errorOf([&] { frugal::pretrain::pretrain(config, frugal::test::sink(), frugal::test::noStop()); }));
    QVERIFY2(what.contains("data.sources[0].path: " + QString::fromStdString((dir / "corpus.txt").string()) +
                           " does not exist"),
             qPrintable(what));
}

void TestPretrain::committedRecipeParses() {
    const auto c = PretrainConfig::fromToml(frugal::test::envPath("FRUGAL_SOURCE_DIR") /
                                            "experiments" / "pretrain-tiny.toml");
    QCOMPARE(c.outDir, std::filesystem::path("resources/models/frugal-tiny"));
    QCOMPARE(c.sources.size(), size_t{3});
    QVERIFY(c.steps > 0 && c.seqLen <= c.maxPositions);
}

void TestPretrain::tinyPretrainingRun() {
    TempDir dir("pretrain");
    std::string corpus;
    for (int i = 0; i < 30; ++i) corpus += std::string(frugal::test::kProse) + "\n\n";
    frugal::test::writeText(dir / "corpus.txt", corpus);
    frugal::test::writeText(dir / "heldout.txt", std::string(frugal::test::kProse) + " " + frugal::test::kProse);
    frugal::test::writeText(dir / "recipe.toml", tinyRecipe(dir.path(), 60));

    PretrainConfig config = PretrainConfig::fromToml(dir / "recipe.toml");
    frugal::MemorySink& sink = frugal::test::sink();
    const auto r = frugal::pretrain::pretrain(config, sink, frugal::test::noStop());
    const std::vector<std::string> lines = sink.logs;
    QCOMPARE(r.steps, int64_t{60});
    QCOMPARE(r.tokensSeen, int64_t{60 * 4 * 16});
    QVERIFY(std::isfinite(r.evalPerplexity) && r.evalPerplexity > 1);

    // The log has one row per logged step; the loss falls well below its start (ln 320 = 5.8).
    const std::string csv = frugal::test::readText(dir / "model" / "training_log.csv");
    QVERIFY(csv.rfind("step,tokens,lr,train_loss", 0) == 0);
    QCOMPARE(std::count(csv.begin(), csv.end(), '\n'), 1 + 60 / 5);
    const QStringList rows = QString::fromStdString(csv).split('\n', Qt::SkipEmptyParts);
    const double firstLoss = rows[1].split(',')[3].toDouble();  // mean of steps 1-5
    QVERIFY2(firstLoss > 5.0 && r.finalTrainLoss < firstLoss - 1.5 && r.finalTrainLoss < 4.0,
             qPrintable(QString("%1 -> %2").arg(firstLoss).arg(r.finalTrainLoss)));
    QVERIFY(!lines.empty());

    // A Hugging Face folder that loads like any other model, with its trained tokenizer.
    const auto model = frugal::model::Transformer::load(dir / "model");
    const auto tokenizer = Tokenizer::load(dir / "model");
    QCOMPARE(model.config().vocabSize, tokenizer.vocabSize());
    QCOMPARE(model.config().numKvHeads, int64_t{2});
    const auto summary =
        nlohmann::json::parse(frugal::test::readText(dir / "model" / "training.json"));
    QCOMPARE(summary["tokens_seen"].get<int64_t>(), r.tokensSeen);
    QCOMPARE(summary["parameters"].get<int64_t>(), model.parameterCount());

    // Same config and seed: the same weights, byte for byte.
    config.outDir = dir / "again";
    frugal::pretrain::pretrain(config, frugal::test::sink(), frugal::test::noStop());
    QCOMPARE(frugal::test::readText(dir / "again" / "model.safetensors"),
             frugal::test::readText(dir / "model" / "model.safetensors"));
    // Another seed: other weights.
    config.outDir = dir / "other";
    config.seed = 8;
    frugal::pretrain::pretrain(config, frugal::test::sink(), frugal::test::noStop());
    QVERIFY(frugal::test::readText(dir / "other" / "model.safetensors") !=
            frugal::test::readText(dir / "model" / "model.safetensors"));
}


QTEST_APPLESS_MAIN(TestPretrain)
#include "test_pretrain.moc"
