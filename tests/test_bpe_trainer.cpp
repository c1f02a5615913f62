// The byte-level BPE trainer (core/model/bpe_trainer): hand-checked first merge and tie rule,
// determinism, a round trip through the same loader as real tokenizers, refused options.

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/bpe_trainer.h"
#include "model/tokenizer.h"
#include "test_util.h"

using frugal::model::BpeTrainerOptions;
using frugal::model::Tokenizer;
using frugal::model::trainByteLevelBpe;
using frugal::test::errorOf;

class TestBpeTrainer : public QObject {
    Q_OBJECT
private slots:
    void bpeFirstMergeIsTheMostFrequentPair();
    void bpeIsDeterministicAndRoundTrips();
    void bpeRejectsBadOptions();
};

void TestBpeTrainer::bpeFirstMergeIsTheMostFrequentPair() {
    // words: "aaa", " aaa" x2, " ab" -> pairs a+a: 2 + 2*2 = 6, " "+a: 3, a+b: 1
    BpeTrainerOptions options;
    options.vocabSize = 2 + 256 + 2;
    const auto r = trainByteLevelBpe({"aaa aaa aaa ab"}, options);
    QCOMPARE(r.merges, int64_t{2});
    QCOMPARE(r.words, int64_t{4});
    QCOMPARE(r.uniqueWords, int64_t{3});
    const auto j = nlohmann::json::parse(r.tokenizerJson);
    QCOMPARE(j["model"]["merges"][0].get<std::string>(), std::string("a a"));
    // after it: "Ġ aa" occurs 2x (in " aaa"), "aa a" 3x -> the second merge is "aa a"
    QCOMPARE(j["model"]["merges"][1].get<std::string>(), std::string("aa a"));
    QCOMPARE(j["model"]["vocab"]["aa"].get<int>(), 258);
    QCOMPARE(j["model"]["vocab"]["aaa"].get<int>(), 259);
    QCOMPARE(j["model"]["vocab"]["<s>"].get<int>(), 0);
    QCOMPARE(j["model"]["vocab"]["a"].get<int>(), 2 + 'a');

    // A tie (a+b, " "+c, c+d once each) goes to the pair of smaller ids: " " is byte 32.
    options.vocabSize = 2 + 256 + 1;
    options.minFrequency = 1;
    const auto tie = nlohmann::json::parse(trainByteLevelBpe({"ab cd"}, options).tokenizerJson);
    QCOMPARE(tie["model"]["merges"][0].get<std::string>(), std::string("\u0120 c"));
}

void TestBpeTrainer::bpeIsDeterministicAndRoundTrips() {
    BpeTrainerOptions options;
    options.vocabSize = 400;
    const auto first = trainByteLevelBpe({frugal::test::kProse, frugal::test::kProse}, options);
    const auto second = trainByteLevelBpe({frugal::test::kProse, frugal::test::kProse}, options);
    QCOMPARE(first.tokenizerJson, second.tokenizerJson);
    QVERIFY(first.merges > 50);

    // It loads through the same code as real tokenizers.
    const Tokenizer t = Tokenizer::fromTokenizerJson(first.tokenizerJson, "trained");
    QCOMPARE(t.vocabSize(), first.vocabSize);
    QCOMPARE(t.bosId().value_or(-1), 0);
    const std::string text = "The soup was great, but the bread — stale. Ünïcödé ✓ 123\n\tend";
    const auto ids = t.encode(text);
    QCOMPARE(ids.front(), 0);  // <s> first
    QCOMPARE(t.decode(ids, /*skipSpecialTokens=*/true), text);
    QCOMPARE(t.decode(t.encode(text, false)), text);
    // merges compress the text they were learnt on
    QVERIFY(t.encode(frugal::test::kProse, false).size() < std::string(frugal::test::kProse).size() / 2);
}

void TestBpeTrainer::bpeRejectsBadOptions() {
    BpeTrainerOptions small;
    small.vocabSize = 100;
    QVERIFY(QString::fromStdString(errorOf([&] { trainByteLevelBpe({"x"}, small); }))
                .contains("vocab_size is 100, expected 258"));
    BpeTrainerOptions rare;
    rare.vocabSize = 1000;
    rare.minFrequency = 1000;
    QCOMPARE(trainByteLevelBpe({frugal::test::kProse}, rare).merges, int64_t{0});
}


QTEST_APPLESS_MAIN(TestBpeTrainer)
#include "test_bpe_trainer.moc"
