// Tasks: prompt templates with verbalisers, jsonl/tsv/csv loading, one clear error (file and
// line) per kind of bad data, and the committed data sets' documented split sizes and balance.

#include <QtTest/QtTest>

#include "common/error.h"
#include "data/builtin.h"
#include "data/corpus.h"
#include "data/task.h"
#include "model/tokenizer.h"
#include "test_util.h"

using frugal::data::PromptTemplate;
using frugal::data::Task;
using frugal::test::TempDir;

namespace {

const std::vector<std::string> kSentiment{"negative", "positive"};

}  // namespace

class TestData : public QObject {
    Q_OBJECT
private slots:
    void rendersTemplate();
    void loadsEachFormat_data();
    void loadsEachFormat();
    void badData_data();
    void badData();
    void committedSplits_data();
    void committedSplits();
    void corpusDocumentsAndWindows();
    void corpusRejects();
    void builtinTasks();
};

void TestData::rendersTemplate() {
    const auto t = PromptTemplate::parse("{text} It was {terrible|great}.", kSentiment);
    const auto r = t.render("Loved it!");
    QCOMPARE(r.context, std::string("Loved it! It was"));
    QCOMPARE(r.continuations, (std::vector<std::string>{" terrible", " great"}));
    const auto tight = PromptTemplate::parse("Review: {text}\nSentiment:{neg|pos}", kSentiment);
    QCOMPARE(tight.render("ok").context, std::string("Review: ok\nSentiment:"));
    QCOMPARE(tight.render("ok").continuations[1], std::string("pos"));
    QCOMPARE(t.demonstration("Loved it!", 1), std::string("Loved it! It was great."));
    QCOMPARE(tight.demonstration("ok", 0), std::string("Review: ok\nSentiment:neg"));
}

void TestData::loadsEachFormat_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("content");
    QTest::newRow("jsonl") << "t.jsonl"
                           << "{\"text\": \"good, really\", \"label\": \"positive\"}\n\n"
                              "{\"text\": \"bad \\\"film\\\"\", \"label\": \"negative\"}\n";
    QTest::newRow("tsv")
        << "t.tsv"
        << "id\ttext\tlabel\n1\tgood, really\tpositive\n2\tbad \"film\"\tnegative\n";
    QTest::newRow("csv")
        << "t.csv"
        << "label,text\r\npositive,\"good, really\"\r\nnegative,\"bad \"\"film\"\"\"\r\n";
}

void TestData::loadsEachFormat() {
    QFETCH(QString, name);
    QFETCH(QString, content);
    TempDir dir("data");
    frugal::test::writeText(dir / name.toStdString(), content.toStdString());
    const Task task = Task::load(dir / name.toStdString(), kSentiment);
    QCOMPARE(task.examples().size(), size_t{2});
    QCOMPARE(task.examples()[0].text, std::string("good, really"));
    QCOMPARE(task.examples()[0].label, std::string("positive"));
    QCOMPARE(task.examples()[1].text, std::string("bad \"film\""));
    QCOMPARE(task.labelCounts().at("negative"), int64_t{1});
    QCOMPARE(task.labelIndex("positive"), 1);
}

void TestData::badData_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing column (tsv)")
        << "b.tsv" << QByteArray("text\tscore\nfine\t1\n")
        << "b.tsv:1: the header row must name the columns 'text' and 'label'";
    QTest::newRow("missing key (jsonl)")
        << "b.jsonl"
        << QByteArray("{\"text\": \"a\", \"label\": \"positive\"}\n{\"text\": \"b\"}\n")
        << "b.jsonl:2: missing key 'label'";
    QTest::newRow("unknown label")
        << "b.jsonl" << QByteArray("{\"text\": \"a\", \"label\": \"neutral\"}\n")
        << "b.jsonl:1: unknown label 'neutral' (expected one of 'negative', 'positive')";
    QTest::newRow("empty file") << "b.jsonl" << QByteArray("\n\n")
                                << "b.jsonl: no examples in the file";
    QTest::newRow("bad encoding") << "b.tsv" << QByteArray("text\tlabel\ncaf\xe9\tpositive\n")
                                  << "b.tsv:2: text is not valid UTF-8";
    QTest::newRow("bad json") << "b.jsonl" << QByteArray("{\"text\": \"a\",\n")
                              << "b.jsonl:1: not valid JSON";
    QTest::newRow("ragged row") << "b.csv" << QByteArray("text,label\n\"a\",positive,extra\n")
                                << "b.csv:2: has 3 columns, the header has 2";
    QTest::newRow("unclosed quote") << "b.csv" << QByteArray("text,label\n\"a,positive\n")
                                    << "b.csv:2: a quoted field is not closed";
    QTest::newRow("unknown type") << "b.txt" << QByteArray("x")
                                  << "b.txt: unknown file type '.txt'";
}

void TestData::badData() {
    QFETCH(QString, name);
    QFETCH(QByteArray, content);
    QFETCH(QString, message);
    TempDir dir("data");
    frugal::test::writeBytes(dir / name.toStdString(), content.toStdString());
    const QString what = QString::fromStdString(
        frugal::test::errorOf([&] { Task::load(dir / name.toStdString(), kSentiment); }));
    QVERIFY2(what.contains(message), qPrintable(what));
}

void TestData::committedSplits_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("labels");
    QTest::addColumn<QList<int>>("counts");  // per label, in label order (resources/data/README.md)
    const QStringList sentiment{"negative", "positive"}, spam{"ham", "spam"};
    QTest::newRow("sentiment train")
        << "sentiment/train.jsonl" << sentiment << QList<int>{996, 994};
    QTest::newRow("sentiment dev") << "sentiment/dev.jsonl" << sentiment << QList<int>{248, 248};
    QTest::newRow("sentiment test") << "sentiment/test.jsonl" << sentiment << QList<int>{248, 248};
    QTest::newRow("spam train") << "spam/train.jsonl" << spam << QList<int>{450, 450};
    QTest::newRow("spam dev") << "spam/dev.jsonl" << spam << QList<int>{100, 100};
    QTest::newRow("spam test") << "spam/test.jsonl" << spam << QList<int>{100, 100};
}

void TestData::committedSplits() {
    QFETCH(QString, file);
    QFETCH(QStringList, labels);
    QFETCH(QList<int>, counts);
    std::vector<std::string> names;
    for (const auto& l : labels) names.push_back(l.toStdString());
    const auto path =
        frugal::test::envPath("FRUGAL_SOURCE_DIR") / "resources" / "data" / file.toStdString();
    const Task task = Task::load(path, names);
    const auto byLabel = task.labelCounts();
    for (int i = 0; i < labels.size(); ++i)
        QCOMPARE(byLabel.at(names[static_cast<size_t>(i)]), int64_t{counts[i]});
    // the README documents the same numbers, as a row "| split | total | a | b |"
    const QString readme = QString::fromStdString(frugal::test::readText(
        frugal::test::envPath("FRUGAL_SOURCE_DIR") / "resources" / "data" / "README.md"));
    QLocale english(QLocale::English);
    const QString split = file.section('/', 1).section('.', 0, 0);
    const QString row = QString("| %1 | %2 | %3 | %4 |")
                            .arg(split, english.toString(counts[0] + counts[1]),
                                 english.toString(counts[0]), english.toString(counts[1]));
    QVERIFY2(readme.contains(row), qPrintable(row));
}

namespace {

// A byte-level tokenizer with no merges and <s> = 0: one token per byte, id = byte + 1.
frugal::model::Tokenizer byteTokenizer() {
    std::string vocab = R"({"<s>": 0)";
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        // GPT-2's byte-level alphabet: printable Latin-1 as itself, the rest from U+0100 on
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        const int cp = printable ? b : next++;
        std::string utf8;
        if (cp < 0x80) {
            utf8 = std::string(1, static_cast<char>(cp));
        } else {
            utf8 += static_cast<char>(0xC0 | (cp >> 6));
            utf8 += static_cast<char>(0x80 | (cp & 0x3F));
        }
        if (utf8 == "\"" || utf8 == "\\") utf8 = "\\" + utf8;
        vocab += ", \"" + utf8 + "\": " + std::to_string(b + 1);
    }
    vocab += "}";
    const std::string json = R"({"added_tokens": [{"id": 0, "content": "<s>", "special": true}],
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}},
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "merges": [], "vocab": )" + vocab + "}}";
    return frugal::model::Tokenizer::fromTokenizerJson(json, "byte tokenizer");
}

}  // namespace

void TestData::corpusDocumentsAndWindows() {
    using frugal::data::Corpus;
    const auto tok = byteTokenizer();
    // two documents (a blank line between them), each opened by <s>
    const Corpus c = Corpus::fromText("ab\n\n\ncd\ne\n", tok, "mem");
    QCOMPARE(c.documents(), int64_t{2});
    const std::vector<int32_t> expected{0, 'a' + 1, 'b' + 1, 0, 'c' + 1, 'd' + 1, '\n' + 1,
                                        'e' + 1};
    QCOMPARE(c.ids(), expected);

    std::string text;
    for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + "\n";
    const Corpus big = Corpus::fromText(text, tok, "mem");
    const auto a = big.sampleWindows(8, 16, 42);
    QCOMPARE(a.size(), size_t{8 * 16});
    QCOMPARE(big.sampleWindows(8, 16, 42), a);  // same seed, same windows
    QVERIFY(big.sampleWindows(8, 16, 43) != a);
    for (int w = 0; w < 8; ++w) {  // each window is a run of the stream
        const auto first = a.begin() + w * 16;
        QVERIFY(std::search(big.ids().begin(), big.ids().end(), first, first + 16) !=
                big.ids().end());
    }
    const auto tiles = big.contiguousWindows(100, 3);
    QCOMPARE(tiles, std::vector<int32_t>(big.ids().begin(), big.ids().begin() + 300));
    QCOMPARE(big.slice(10, 20).size(), int64_t{10});
}

void TestData::corpusRejects() {
    using frugal::data::Corpus;
    const auto tok = byteTokenizer();
    const auto message = [](const std::function<void()>& f) {
        return QString::fromStdString(frugal::test::errorOf(f));
    };
    QVERIFY(message([&] { Corpus::fromText("ok\nbad \xff byte", tok, "c.txt"); })
                .contains("c.txt:2: not valid UTF-8"));
    QVERIFY(message([&] { Corpus::fromText("\n\n\n", tok, "c.txt"); })
                .contains("c.txt: the corpus is empty"));
    QVERIFY(message([&] { Corpus::fromFile("/nonexistent/c.txt", tok); })
                .contains("/nonexistent/c.txt: cannot open the corpus file"));
    const Corpus small = Corpus::fromText("abc", tok, "c.txt");
    QVERIFY(message([&] { small.sampleWindows(1, 10, 1); })
                .contains("windows of 10 tokens do not fit in its 4 tokens"));
}

void TestData::builtinTasks() {
    qputenv("FRUGAL_RESOURCES",
            QByteArray::fromStdString(
                (frugal::test::envPath("FRUGAL_SOURCE_DIR") / "resources").string()));
    const auto sentiment = frugal::data::findBuiltinTask("sentiment");
    QVERIFY(sentiment);
    QCOMPARE(sentiment->split, std::string("test"));
    QCOMPARE(sentiment->file.filename().string(), std::string("test.jsonl"));
    const auto spamDev = frugal::data::findBuiltinTask("spam:dev");
    QVERIFY(spamDev);
    QCOMPARE(spamDev->file.parent_path().filename().string(), std::string("spam"));
    QVERIFY(!frugal::data::findBuiltinTask("my-task.jsonl"));
    QVERIFY(QString::fromStdString(
                frugal::test::errorOf([] { frugal::data::findBuiltinTask("spam:validation"); }))
                .contains("unknown split 'validation' (splits: train, dev, test)"));
    // every built-in task loads with its own template and labels
    for (const auto& t : frugal::data::builtinTasks()) {
        for (const char* split : {"train", "dev", "test"}) {
            const Task task = Task::load(t.split(split), t.labels);
            QVERIFY(!task.examples().empty());
            const auto prompt = PromptTemplate::parse(t.promptTemplate, t.labels);
            QCOMPARE(prompt.render(task.examples()[0].text).continuations.size(),
                     t.labels.size());
        }
    }
    qunsetenv("FRUGAL_RESOURCES");
}

QTEST_APPLESS_MAIN(TestData)
#include "test_data.moc"
