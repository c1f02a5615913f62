// Tests for frugal::model::Tokenizer: the committed reference vectors (ids from the encoders
// gpt-3-encoder@1.1.4 and llama-tokenizer-js@1.2.2, see tests/tokenizer/make_vectors.mjs), decode
// round trips, one error per kind of corrupt input, and tiny hand-derived BPEs.
// FRUGAL_TOKENIZER_DIR points at .cache/tokenizers (made by scripts/fetch-data); FRUGAL_TEST_DATA
// points at tests/data. The vector tests fail, never skip, when either is missing.

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "model/tokenizer.h"

using frugal::model::Tokenizer;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Vector {
    std::string text;
    std::vector<int32_t> ids;
    bool bos = false;
};

// Empty string when VARIABLE is unset.
std::string envPath(const char* variable) {
    const char* value = std::getenv(variable);
    return value ? std::string(value) : std::string();
}

QString idsToString(const std::vector<int32_t>& ids) {
    QStringList parts;
    for (const int32_t id : ids) parts << QString::number(id);
    return QStringLiteral("[") + parts.join(QStringLiteral(", ")) + QStringLiteral("]");
}

// A tokenizer.json for a tiny BPE over the alphabet {a, b, c, d, space} (GPT-2 style names).
Json tinyTokenizerJson() {
    return Json::parse(R"({
        "version": "1.0",
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": null,
        "post_processor": null,
        "decoder": null,
        "model": {
            "type": "BPE",
            "vocab": {"a": 0, "b": 1, "c": 2, "d": 3, " ": 4, "ab": 5, "bc": 6, "abc": 7,
                      "cd": 8, "abcd": 9, "aa": 10},
            "merges": ["a b", "c d", "b c", "ab c", "abc d", "a a"]
        }
    })");
}

}  // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

private:
    // Loads FRUGAL_TOKENIZER_DIR/SUBDIR; QFAIL (not skip) when the cache is missing.
    bool loadCached(const char* subdir, std::optional<Tokenizer>& out) {
        const std::string dir = envPath("FRUGAL_TOKENIZER_DIR");
        if (dir.empty() || !fs::exists(fs::path(dir) / subdir)) {
            const QString message =
                QStringLiteral(
                    "FRUGAL_TOKENIZER_DIR%1 has no %2/: run scripts/fetch-data and set "
                    "FRUGAL_TOKENIZER_DIR=<repo>/.cache/tokenizers")
                    .arg(dir.empty() ? QStringLiteral(" is unset, so it")
                                     : QStringLiteral("=") + QString::fromStdString(dir))
                    .arg(QString::fromLatin1(subdir));
            QTest::qFail(qPrintable(message), __FILE__, __LINE__);
            return false;
        }
        try {
            out = Tokenizer::load(fs::path(dir) / subdir);
        } catch (const frugal::Error& e) {
            QTest::qFail(e.what(), __FILE__, __LINE__);
            return false;
        }
        return true;
    }

    bool loadVectors(const char* name, std::vector<Vector>& out) {
        const std::string dir = envPath("FRUGAL_TEST_DATA");
        const fs::path file = fs::path(dir) / "tokenizer" / (std::string(name) + ".jsonl");
        std::ifstream in(file);
        if (dir.empty() || !in) {
            QTest::qFail(qPrintable(QStringLiteral("cannot read %1: set FRUGAL_TEST_DATA to "
                                                   "<repo>/tests/data")
                                        .arg(QString::fromStdString(file.string()))),
                         __FILE__, __LINE__);
            return false;
        }
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            const Json j = Json::parse(line);
            Vector v;
            v.text = j.at("text").get<std::string>();
            v.ids = j.at("ids").get<std::vector<int32_t>>();
            v.bos = j.value("bos", false);
            out.push_back(std::move(v));
        }
        if (out.size() < 2000) {
            QTest::qFail(qPrintable(QStringLiteral("%1 has only %2 vectors")
                                        .arg(QString::fromStdString(file.string()))
                                        .arg(out.size())),
                         __FILE__, __LINE__);
            return false;
        }
        return true;
    }

    // Compares every vector; reports the first few mismatches, then fails.
    void checkVectors(const Tokenizer& tokenizer, const std::vector<Vector>& vectors,
                      bool useBosField) {
        int mismatches = 0;
        for (const auto& v : vectors) {
            const std::vector<int32_t> ids = tokenizer.encode(v.text, useBosField ? v.bos : true);
            if (ids != v.ids) {
                if (++mismatches <= 5) {
                    qWarning("text %s\n  expected %s\n  got      %s", Json(v.text).dump().c_str(),
                             qPrintable(idsToString(v.ids)), qPrintable(idsToString(ids)));
                }
            }
        }
        qInfo("%zu vectors checked, %d mismatches", vectors.size(), mismatches);
        QCOMPARE(mismatches, 0);
    }

private slots:
    void gpt2VocabAndMergesMatchesReference() {
        std::optional<Tokenizer> tokenizer;
        std::vector<Vector> vectors;
        if (!loadCached("gpt2", tokenizer) || !loadVectors("gpt2", vectors)) return;
        QCOMPARE(tokenizer->kind(), std::string("byte-level BPE"));
        checkVectors(*tokenizer, vectors, false);
    }

    void gpt2TokenizerJsonMatchesReference() {
        std::optional<Tokenizer> tokenizer;
        std::vector<Vector> vectors;
        if (!loadCached("gpt2-json", tokenizer) || !loadVectors("gpt2", vectors)) return;
        checkVectors(*tokenizer, vectors, false);
    }

    void llamaMatchesReference() {
        std::optional<Tokenizer> tokenizer;
        std::vector<Vector> vectors;
        if (!loadCached("llama", tokenizer) || !loadVectors("llama", vectors)) return;
        QCOMPARE(tokenizer->kind(), std::string("metaspace BPE with byte fallback"));
        checkVectors(*tokenizer, vectors, true);
    }

    // Byte-level: decode(encode(x)) == x exactly, for both GPT-2 forms.
    void gpt2RoundTrip() {
        std::vector<Vector> vectors;
        if (!loadVectors("gpt2", vectors)) return;
        for (const char* subdir : {"gpt2", "gpt2-json"}) {
            std::optional<Tokenizer> tokenizer;
            if (!loadCached(subdir, tokenizer)) return;
            int failures = 0;
            for (const auto& v : vectors) {
                if (tokenizer->decode(v.ids) != v.text && ++failures <= 5) {
                    qWarning("%s: %s decodes to %s", subdir, Json(v.text).dump().c_str(),
                             Json(tokenizer->decode(v.ids)).dump().c_str());
                }
            }
            QCOMPARE(failures, 0);
        }
    }

    // Metaspace: decode(ids, skipSpecialTokens) == text for every vector, leading spaces
    // included (the Strip decoder removes exactly the one space the Prepend normalizer added).
    void llamaRoundTrip() {
        std::optional<Tokenizer> tokenizer;
        std::vector<Vector> vectors;
        if (!loadCached("llama", tokenizer) || !loadVectors("llama", vectors)) return;
        int failures = 0;
        for (const auto& v : vectors) {
            const std::string decoded = tokenizer->decode(v.ids, /*skipSpecialTokens=*/true);
            if (decoded != v.text && ++failures <= 5) {
                qWarning("%s decodes to %s", Json(v.text).dump().c_str(),
                         Json(decoded).dump().c_str());
            }
        }
        QCOMPARE(failures, 0);
        // Without skipping, BOS stays as its text.
        QCOMPARE(tokenizer->decode(tokenizer->encode("Hi")), std::string("<s> Hi"));
    }

    void cachedTokenizerMetadata() {
        std::optional<Tokenizer> gpt2;
        std::optional<Tokenizer> llama;
        if (!loadCached("gpt2-json", gpt2) || !loadCached("llama", llama)) return;
        QCOMPARE(gpt2->vocabSize(), int64_t{50257});
        QCOMPARE(gpt2->bosId(), std::optional<int32_t>(50256));
        QCOMPARE(gpt2->eosId(), std::optional<int32_t>(50256));
        QCOMPARE(gpt2->tokenToId("<|endoftext|>"), std::optional<int32_t>(50256));
        // The special token is split out of the text before BPE.
        QCOMPARE(gpt2->encode("Hello<|endoftext|> world"),
                 (std::vector<int32_t>{15496, 50256, 995}));
        QCOMPARE(gpt2->decode({15496, 50256, 995}, /*skipSpecialTokens=*/true),
                 std::string("Hello world"));
        QCOMPARE(llama->vocabSize(), int64_t{32000});
        QCOMPARE(llama->bosId(), std::optional<int32_t>(1));
        QCOMPARE(llama->eosId(), std::optional<int32_t>(2));
        QCOMPARE(llama->encode("Hello world!", false), (std::vector<int32_t>{15043, 3186, 29991}));
        QCOMPARE(llama->encode(""), std::vector<int32_t>{1});
    }

    // encode/decode are const and share no mutable state: four threads agree with the vectors.
    void concurrentEncodeIsConsistent() {
        std::optional<Tokenizer> tokenizer;
        std::vector<Vector> vectors;
        if (!loadCached("gpt2", tokenizer) || !loadVectors("gpt2", vectors)) return;
        std::atomic<int> mismatches{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (std::size_t i = static_cast<std::size_t>(t); i < vectors.size(); i += 2) {
                    const auto ids = tokenizer->encode(vectors[i].text);
                    if (ids != vectors[i].ids || tokenizer->decode(ids) != vectors[i].text) {
                        ++mismatches;
                    }
                }
            });
        }
        for (auto& thread : threads) thread.join();
        QCOMPARE(mismatches.load(), 0);
    }

    // The pre-tokenizer's \s is Unicode White_Space, as in Python's `regex` (openai/gpt-2) and
    // Oniguruma (Hugging Face): splits checked with python3-regex on the GPT-2 pattern.
    // gpt-3-encoder (JavaScript \s) differs on U+0085 and U+FEFF, so these are not in the vectors.
    void gpt2WhitespaceIsUnicodeWhiteSpace() {
        std::optional<Tokenizer> gpt2;
        if (!loadCached("gpt2", gpt2)) return;
        // NEL is whitespace: 'a', ' ', '\x85', 'b'.
        QCOMPARE(gpt2->encode("a \u0085b"), (std::vector<int32_t>{64, 220, 126, 227, 65}));
        // BOM and the Mongolian vowel separator are not: 'a', ' \ufeff', 'b'.
        QCOMPARE(gpt2->encode("a \ufeffb"), (std::vector<int32_t>{64, 27332, 119, 123, 65}));
        QCOMPARE(gpt2->encode("a \u180eb"), (std::vector<int32_t>{64, 28053, 254, 236, 65}));
    }

    // 100 kB of real-looking text must encode well under a second (no quadratic merge loops).
    void longInputIsFast() {
        std::optional<Tokenizer> gpt2;
        std::optional<Tokenizer> llama;
        if (!loadCached("gpt2", gpt2) || !loadCached("llama", llama)) return;
        std::string text;
        for (int i = 0; text.size() < 100000; ++i) {
            text += "Call me Ishmael, number " + std::to_string(i * 7919) + ".  \n";
        }
        const std::string spaces(100000, ' ');
        for (const Tokenizer* tokenizer : {&*gpt2, &*llama}) {
            for (const std::string* input : {static_cast<const std::string*>(&text), &spaces}) {
                QElapsedTimer timer;
                timer.start();
                const auto ids = tokenizer->encode(*input);
                const qint64 ms = timer.elapsed();
                QVERIFY(!ids.empty());
                QVERIFY2(ms < 1000, qPrintable(QStringLiteral("took %1 ms").arg(ms)));
                QCOMPARE(tokenizer->decode(ids, true), *input);
            }
        }
    }

    void corruptInputIsRejected_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        const auto row = [](const char* name, Json j, const char* expected) {
            QTest::newRow(name) << QString::fromStdString(j.dump())
                                << QString::fromLatin1(expected);
        };
        QTest::newRow("invalid JSON") << QStringLiteral("{\"model\": {\"vocab\": {\"a\": 0,}}")
                                      << QStringLiteral("tiny.json: invalid JSON at byte 29");
        // Found by fuzz_tokenizer_json: nlohmann throws out_of_range, not parse_error, here.
        QTest::newRow("number overflow")
            << QStringLiteral("{\"model\": 1E400}") << QStringLiteral("tiny.json: invalid JSON: ");
        QTest::newRow("not an object")
            << QStringLiteral("[1, 2]")
            << QStringLiteral("the top level is array, expected an object");
        Json j = tinyTokenizerJson();
        j.erase("model");
        row("missing model", j, "tiny.json: missing key model");
        j = tinyTokenizerJson();
        j["model"]["type"] = "WordPiece";
        row("WordPiece model", j, "model.type is 'WordPiece', only 'BPE' is supported");
        j["model"]["type"] = "Unigram";
        row("Unigram model", j, "model.type is 'Unigram', only 'BPE' is supported");
        j = tinyTokenizerJson();
        j["pre_tokenizer"] = {{"type", "Whitespace"}};
        row("unknown pre-tokenizer", j,
            "pre_tokenizer.type is 'Whitespace', which is not supported");
        j = tinyTokenizerJson();
        j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFKC"}}}}};
        row("unknown normalizer", j,
            "normalizer.normalizers[0].type is 'NFKC', which is not supported");
        j = tinyTokenizerJson();
        j["decoder"] = {{"type", "WordPiece"}};
        row("unknown decoder", j, "decoder.type is 'WordPiece', which is not supported");
        j = tinyTokenizerJson();
        j["model"]["merges"].push_back("a z");
        row("merge names missing token", j,
            "model.merges 6 ('a z') names 'z', which is not in the vocab");
        j = tinyTokenizerJson();
        j["model"]["merges"].push_back("b a");
        row("merge result missing", j, "the merged token 'ba' is not in the vocab");
        j = tinyTokenizerJson();
        j["model"]["merges"][1] = "c d e";
        row("merge with three parts", j, "model.merges[1] is 'c d e', expected two tokens");
        j = tinyTokenizerJson();
        j["model"]["merges"][1] = {"c"};
        row("merge pair too short", j,
            "model.merges[1] is [\"c\"], expected \"a b\" or [\"a\", \"b\"]");
        j = tinyTokenizerJson();
        j["model"]["vocab"]["e"] = 3;
        row("duplicate id", j, "id 3 is used by both");
        j = tinyTokenizerJson();
        j["model"]["vocab"]["e"] = -4;
        row("negative id", j, "model.vocab['e'] is -4, expected a non-negative id");
        j = tinyTokenizerJson();
        j["model"]["vocab"]["e"] = "11";
        row("string id", j, "model.vocab['e'] is string, expected an integer id");
        j = tinyTokenizerJson();
        j["model"]["unk_token"] = "<unk>";
        row("unk not in vocab", j, "model.unk_token '<unk>' is not in the vocab");
        j = tinyTokenizerJson();
        j["added_tokens"] = {{{"id", 20}, {"content", ""}, {"special", true}}};
        row("empty added token", j, "added_tokens[0].content is empty");
        j = tinyTokenizerJson();
        j["post_processor"] = {{"type", "TemplateProcessing"},
                               {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}}},
                               {"special_tokens", Json::object()}};
        row("template names unknown token", j, "names special token '<s>', which is not in");
        j = tinyTokenizerJson();
        j["model"]["continuing_subword_prefix"] = "##";
        row("subword prefix", j, "model.continuing_subword_prefix is '##'; only empty or null");
    }

    void corruptInputIsRejected() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        try {
            Tokenizer::fromTokenizerJson(json.toStdString(), "tiny.json");
            QFAIL("no error");
        } catch (const frugal::Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(expected), e.what());
        }
    }

    void missingFilesAreReported() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const fs::path root = dir.path().toStdString();
        try {
            Tokenizer::load(root / "nope.json");
            QFAIL("no error");
        } catch (const frugal::Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("nope.json: file does "
                                                                         "not exist")),
                     e.what());
        }
        try {
            Tokenizer::load(root);
            QFAIL("no error");
        } catch (const frugal::Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("neither tokenizer.json "
                                                                         "nor vocab.json")),
                     e.what());
        }
        std::ofstream(root / "vocab.json") << R"({"a": 0, "b": 1})";
        std::ofstream(root / "merges.txt") << "#version: 0.2\na b\n";
        try {
            Tokenizer::load(root);
            QFAIL("no error");
        } catch (const frugal::Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("the merged token 'ab' "
                                                                         "is not in the vocab")),
                     e.what());
        }
    }

    // Hand derivation for "abcd abcab aaa" with merges [a b, c d, b c, ab c, abc d, a a]:
    // "abcd": a b c d -> (a b, rank 0) ab c d -> (c d, rank 1) ab cd -> no "ab cd" -> [5, 8].
    // "abcab": a b c a b -> both "a b" (rank 0), leftmost first -> ab c ab -> "ab c" (rank 3)
    //          -> abc ab -> [7, 5].   "aaa": "a a" (rank 5) leftmost -> aa a -> [10, 0].
    void tinyBpeGivesHandDerivedIds() {
        const std::vector<int32_t> expected{5, 8, 4, 7, 5, 4, 10, 0};
        const std::string text = "abcd abcab aaa";
        Json j = tinyTokenizerJson();
        const Tokenizer fromStrings = Tokenizer::fromTokenizerJson(j.dump(), "tiny");
        QCOMPARE(fromStrings.encode(text), expected);
        QCOMPARE(fromStrings.decode(expected), text);
        QCOMPARE(fromStrings.vocabSize(), int64_t{11});
        QCOMPARE(fromStrings.kind(), std::string("BPE"));

        Json pairs = Json::array();
        for (const auto& m : j["model"]["merges"]) {
            const std::string s = m.get<std::string>();
            pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
        }
        j["model"]["merges"] = pairs;
        QCOMPARE(Tokenizer::fromTokenizerJson(j.dump(), "tiny").encode(text), expected);

        // Rank order matters: with "b c" before "a b", "abcd" becomes a bc d -> [0, 6, 3].
        j = tinyTokenizerJson();
        j["model"]["merges"] = {"b c", "a b", "c d"};
        QCOMPARE(Tokenizer::fromTokenizerJson(j.dump(), "tiny").encode("abcd"),
                 (std::vector<int32_t>{0, 6, 3}));
    }

    // vocab.json + merges.txt, byte-level: "Ġ" is the byte-level space.
    void tinyVocabAndMerges() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const fs::path root = dir.path().toStdString();
        std::ofstream(root / "vocab.json")
            << R"({"a": 0, "b": 1, "\u0120": 2, "\u0120a": 3, "\u0120ab": 4, "ab": 5,)"
               R"( "<|endoftext|>": 6})";
        std::ofstream(root / "merges.txt") << "\u0120 a\n\u0120a b\na b\n";  // no #version line
        const Tokenizer tokenizer = Tokenizer::load(root);
        // "ab ab<|endoftext|>" -> words "ab", " ab", then the special token.
        QCOMPARE(tokenizer.encode("ab ab<|endoftext|>"), (std::vector<int32_t>{5, 4, 6}));
        QCOMPARE(tokenizer.decode({5, 4, 6}), std::string("ab ab<|endoftext|>"));
        QCOMPARE(tokenizer.eosId(), std::optional<int32_t>(6));
    }

    // Metaspace + byte fallback + unk, hand-derived. Vocab lacks "é" and "z" has no bytes.
    void tinyMetaspaceWithByteFallback() {
        Json j = Json::parse(R"({
            "added_tokens": [
                {"id": 0, "content": "<unk>", "special": true},
                {"id": 1, "content": "<s>", "special": true},
                {"id": 2, "content": "</s>", "special": true, "lstrip": true}],
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                              "prepend_scheme": "always", "split": true},
            "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"},
                        {"type": "Metaspace", "replacement": "\u2581",
                         "prepend_scheme": "always"}]},
            "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                                   "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
            "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true,
                "byte_fallback": true,
                "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0xC3>": 3, "<0xA9>": 4,
                          "\u2581": 5, "c": 6, "a": 7, "f": 8, "\u2581c": 9, "af": 10,
                          "\u2581caf": 11},
                "merges": ["\u2581 c", "a f", "\u2581c af"]}
        })");
        const Tokenizer tokenizer = Tokenizer::fromTokenizerJson(j.dump(), "tiny-llama");
        QCOMPARE(tokenizer.kind(), std::string("metaspace BPE with byte fallback"));
        QCOMPARE(tokenizer.bosId(), std::optional<int32_t>(1));
        QCOMPARE(tokenizer.eosId(), std::optional<int32_t>(2));
        // "café zz c" -> words "▁café" "▁zz" "▁c": ▁caf + é bytes; ▁ + one fused unk; ▁c.
        // Then " </s>" (lstrip eats the space) and the template adds <s> ... </s>.
        QCOMPARE(tokenizer.encode("caf\u00e9 zz c </s>"),
                 (std::vector<int32_t>{1, 11, 3, 4, 5, 0, 9, 2, 2}));
        QCOMPARE(tokenizer.encode("caf\u00e9", false), (std::vector<int32_t>{11, 3, 4}));
        QCOMPARE(tokenizer.decode({11, 3, 4, 9}), std::string("caf\u00e9 c"));
        // A lone continuation byte decodes to U+FFFD.
        QCOMPARE(tokenizer.decode({11, 4}), std::string("caf\uFFFD"));
        QCOMPARE(tokenizer.decode({1, 11, 2}, /*skipSpecialTokens=*/true), std::string("caf"));
        try {
            tokenizer.decode({99});
            QFAIL("no error");
        } catch (const frugal::Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("cannot decode id 99")),
                     e.what());
        }
    }

    // OPT's tokenizer.json: GPT-2 BPE, and a TemplateProcessing that puts </s> first.
    void templatePrependsOptBos() {
        Json j = tinyTokenizerJson();
        j["model"]["vocab"]["</s>"] = 11;
        j["added_tokens"] = {{{"id", 11}, {"content", "</s>"}, {"special", true}}};
        j["post_processor"] = {
            {"type", "TemplateProcessing"},
            {"single",
             {{{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}},
              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"special_tokens", {{"</s>", {{"id", "</s>"}, {"ids", {11}}, {"tokens", {"</s>"}}}}}}};
        const Tokenizer tokenizer = Tokenizer::fromTokenizerJson(j.dump(), "tiny-opt");
        QCOMPARE(tokenizer.encode("ab"), (std::vector<int32_t>{11, 5}));
        QCOMPARE(tokenizer.encode("ab", false), (std::vector<int32_t>{5}));
        QCOMPARE(tokenizer.bosId(), std::optional<int32_t>(11));
        QCOMPARE(tokenizer.vocabSize(), int64_t{12});
    }
};

QTEST_APPLESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
