// The built-in model (resources/models/frugal-tiny): it loads as a Hugging Face folder with its own
// tokenizer, and every figure in the README's table is reproduced by the command printed next to
// it (run here through the real binary, compared at the precision printed).

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <map>

#include "model/tokenizer.h"
#include "model/transformer.h"
#include "test_util.h"

namespace {

std::filesystem::path modelDir() {
    return frugal::test::envPath("FRUGAL_SOURCE_DIR") / "resources" / "models" / "frugal-tiny";
}

struct Row {
    QString figure, value, command;
};

// Rows of the table under "## The built-in model" in README.md: | figure | value | `command` |
QList<Row> readmeRows() {
    const QString readme = QString::fromStdString(
        frugal::test::readText(frugal::test::envPath("FRUGAL_SOURCE_DIR") / "README.md"));
    const qsizetype start = readme.indexOf("## The built-in model");
    if (start < 0) return {};
    QList<Row> rows;
    const QStringList lines = readme.mid(start).split('\n');
    for (qsizetype i = 1; i < lines.size() && !lines[i].startsWith("## "); ++i) {
        const QString line = lines[i].trimmed();
        if (!line.startsWith('|') || line.startsWith("| ---") || line.startsWith("| figure"))
            continue;
        const QStringList cells = line.mid(1, line.size() - 2).split('|');
        if (cells.size() != 3) continue;
        QString command = cells[2].trimmed();
        const qsizetype open = command.indexOf('`'), close = command.indexOf('`', open + 1);
        command = open >= 0 && close > open ? command.mid(open + 1, close - open - 1) : QString();
        rows.push_back({cells[0].trimmed(), cells[1].trimmed(), command});
    }
    return rows;
}

nlohmann::json runJson(const QString& command) {
    static std::map<QString, nlohmann::json> cache;  // rows sharing a command run it once
    if (auto it = cache.find(command); it != cache.end()) return it->second;
    QStringList args = command.split(' ', Qt::SkipEmptyParts);
    if (args.isEmpty() || args.takeFirst() != "frugal") return {};
    QProcess p;
    p.setWorkingDirectory(
        QString::fromStdString(frugal::test::envPath("FRUGAL_SOURCE_DIR").string()));
    p.start(QString::fromStdString(frugal::test::envPath("FRUGAL_BIN").string()),
            QStringList{"--quiet"} + args + QStringList{"--json"});
    if (!p.waitForFinished(600000) || p.exitCode() != 0) {
        qWarning() << command << p.readAllStandardError();
        return {};
    }
    return cache[command] =
               nlohmann::json::parse(p.readAllStandardOutput().toStdString(), nullptr, false);
}

// "1,234" / "123.45" / "0.6250" -> number and the half-unit of its last printed digit.
std::pair<double, double> printed(const QString& text) {
    QString digits = text.section(' ', 0, 0);
    digits.remove(',');
    const qsizetype dot = digits.indexOf('.');
    const int decimals = dot < 0 ? 0 : static_cast<int>(digits.size() - dot - 1);
    return {digits.toDouble(), 0.5 * std::pow(10.0, -decimals)};
}

}  // namespace

class TestBuiltinModel : public QObject {
    Q_OBJECT
private slots:
    void loadsWithItsTokenizer();
    void readmeFiguresReproduce_data();
    void readmeFiguresReproduce();
};

void TestBuiltinModel::loadsWithItsTokenizer() {
    const auto model = frugal::model::Transformer::load(modelDir());
    const auto tokenizer = frugal::model::Tokenizer::load(modelDir());
    QCOMPARE(model.config().vocabSize, tokenizer.vocabSize());
    QCOMPARE(model.config().family, frugal::model::Family::Llama);
    QCOMPARE(tokenizer.kind(), std::string("byte-level BPE"));
    QCOMPARE(model.config().bosTokenId.value_or(-1), int64_t{tokenizer.bosId().value_or(-2)});
    // within the 25 MB the issue allows for the committed folder
    uint64_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(modelDir())) bytes += f.file_size();
    QVERIFY2(bytes <= 25'000'000, qPrintable(QString::number(bytes)));
}

void TestBuiltinModel::readmeFiguresReproduce_data() {
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("command");
    const QList<Row> rows = readmeRows();
    QVERIFY2(rows.size() >= 6, "README.md has no table under '## The built-in model'");
    for (const auto& r : rows) QTest::newRow(qPrintable(r.figure)) << r.value << r.command;
}

void TestBuiltinModel::readmeFiguresReproduce() {
    QFETCH(QString, value);
    QFETCH(QString, command);
    const auto [expected, tolerance] = printed(value);
    double measured = std::nan("");
    if (command.startsWith("frugal pretrain")) {
        // figures of the training run itself, recorded by it in training.json
        const auto summary =
            nlohmann::json::parse(frugal::test::readText(modelDir() / "training.json"));
        const QString tag = QTest::currentDataTag();
        if (tag.startsWith("tokens"))
            measured = summary["tokens_seen"].get<double>();
        else if (tag.startsWith("training time"))
            measured = summary["train_seconds"].get<double>() / 60.0;
        else
            QFAIL(qPrintable("no figure known for row " + tag));
    } else {
        const auto j = runJson(command);
        QVERIFY2(j.is_object(), qPrintable(command));
        const bool calibrated = QString(QTest::currentDataTag()).contains("calibrated");
        for (const char* key : {"parameters", "perplexity",
                                calibrated ? "accuracy_calibrated" : "accuracy"}) {
            if (j.contains(key)) {
                measured = j[key].get<double>();
                break;
            }
        }
    }
    QVERIFY2(std::abs(measured - expected) <= tolerance * 1.0001,
             qPrintable(QString("README says %1, `%2` gives %3")
                            .arg(value, command)
                            .arg(measured, 0, 'f', 6)));
}

QTEST_APPLESS_MAIN(TestBuiltinModel)
#include "test_builtin_model.moc"
