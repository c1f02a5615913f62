// Bad input, case by case: each row is a command line a user could type, the exit code it must
// give (2: bad input, refused with one clear message) and a distinctive part of that message.
// The next bad input found goes into kCases. Beside the table: exports that round-trip every
// stored double, a read-only database, a full disk, and deleting a run that is still running.
//
// Placeholders in a row's arguments, replaced before it runs:
//   DB        a database holding one finished 3-step ZO run named "fixture" (run 1)
//   TMP       a fresh folder
//   TINY      the built-in model's folder        GPT2      the reference GPT-2 checkpoint
//   GPT2TOK   the GPT-2 tokenizer                 DEVFILE   the built-in sentiment dev split
//   NONORM    a model folder whose weights lack model.norm.weight
//   WIDE      a model folder whose config says hidden 128 over weights 64 wide
//   HUGEVOCAB a model with a 262,144-token vocabulary (and the built-in tokenizer)
//   BADTEXT   a text file with invalid UTF-8 at byte 2    BADTASK  a task file, the same
//   GARBAGE   a file of text named .safetensors
//   GGUF*     small GGUF files written here: GGUFOK a valid one-tensor llama file, GGUFCUT it cut
//             inside the metadata, GGUFDATA it cut inside the tensor data, GGUFQ2K a tensor of
//             type Q2_K, GGUFPAST a tensor offset past the end, GGUFARCH architecture "falcon",
//             GGUFTEXT a text file named .gguf

#include <sys/resource.h>
#include <unistd.h>

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "model/safetensors.h"
#include "model/transformer.h"
#include "store/store.h"
#include "test_util.h"

namespace {

using frugal::cat;
using frugal::test::envPath;

struct Result {
    int exitCode;
    QString out, err;
};

QString binary() { return QString::fromStdString(envPath("FRUGAL_BIN").string()); }

Result runFrugal(const QStringList& args, int timeoutMs = 180000) {
    QProcess p;
    p.start(binary(), QStringList{"--threads", "1"} + args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return {-1, {}, "timed out"};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

struct Case {
    const char* kind;  // for the tally: crash, silent, unclear, run, cli, exit, device
    const char* name;
    QStringList args;
    int exitCode;
    const char* message;      // in stderr (or stdout, for a command that succeeds)
    const char* absent = "";  // a path (placeholders allowed) that must not exist afterwards
    const char* notSaid = ""; // text the output must not hold (work done before the refusal)
};

// A GGUF file in bytes: metadata of strings and u32s, tensors of one 32-element row each.
struct GgufBytes {
    std::string bytes;
    template <typename T>
    void put(T v) { bytes.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void str(const std::string& s) {
        put<uint64_t>(s.size());
        bytes += s;
    }
};

std::string ggufFile(const std::string& arch, uint32_t tensorType, uint64_t offset, size_t dataBytes) {
    GgufBytes g;
    g.bytes = "GGUF";
    g.put<uint32_t>(3);
    g.put<uint64_t>(1);  // tensors
    g.put<uint64_t>(3);  // metadata
    g.str("general.architecture");
    g.put<uint32_t>(8);
    g.str(arch);
    g.str("llama.block_count");
    g.put<uint32_t>(4);
    g.put<uint32_t>(1);
    g.str("general.alignment");
    g.put<uint32_t>(4);
    g.put<uint32_t>(32);
    g.str("token_embd.weight");
    g.put<uint32_t>(2);
    g.put<uint64_t>(32);
    g.put<uint64_t>(4);
    g.put<uint32_t>(tensorType);
    g.put<uint64_t>(offset);
    while (g.bytes.size() % 32) g.bytes += '\0';
    g.bytes += std::string(dataBytes, '\x01');
    return g.bytes;
}

const std::vector<Case>& cases() {
    static const std::vector<Case> table = {
        // ---- crashes: refused before any allocation, with what was asked and what fits
        {"crash", "ppl window beyond the context",
         {"eval", "ppl", "--text", "resources/data/text/moby-dick.txt", "--seq-len", "100000", "--limit-windows", "1"},
         2, "eval.seq_len = 100000 is longer than the model's context", "", "perplexity"},
        {"crash", "ppl window of 1024 on a 256-position model",
         {"eval", "ppl", "--text", "resources/data/text/moby-dick.txt", "--seq-len", "1024"}, 2, "gives 256 positions; at most 256"},
        {"crash", "batch larger than the training split",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.batch_size=4096", "zo.steps=1", "--db", "DB"},
         2, "zo.batch_size = 4096 is larger than the training split (1990 examples"},
        {"crash", "batch that cannot fit in memory",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.model=\"HUGEVOCAB\"", "zo.batch_size=1990",
          "zo.steps=1", "--db", "DB", "--name", "too-big"},
         // the GiB depend on the BLAS's heap factors (about 42 on OpenBLAS, 58 on MKL)
         2, "re:MeZO \\(ZO-SGD\\) needs ≈ [1-9][0-9] GiB \\(weights 0\\.06, activations [1-9][0-9], runtime"},
        {"crash", "batch that cannot fit in memory, guard overridden",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.model=\"HUGEVOCAB\"", "zo.batch_size=1990",
          "zo.steps=1", "--force", "--db", "DB", "--name", "too-big"},
         2, "GiB for one forward pass"},
        {"crash", "SharpZO points per forward that cannot fit in memory",
         {"run", "experiments/sharpzo/sharpzo-prompt-sentiment.toml", "sharpzo.dim=4096", "sharpzo.population_batch=8192",
          "sharpzo.generations=1", "sharpzo.steps=1", "sharpzo.eval_limit=8", "sharpzo.sharpness_probes=0",
          "sharpzo.max_forwards=0", "--db", "DB"},
         2, "sharpzo.population_batch: 2048 soft prompts in one forward need about"},  // a CGE block of 2,048 points
        // ---- silently wrong before: now errors
        {"silent", "inspect without model.norm.weight", {"inspect", "NONORM"}, 2,
         "checkpoint is missing tensor 'model.norm.weight'"},
        {"silent", "inspect with config wider than its weights", {"inspect", "WIDE"}, 2,
         "from config.json (hidden_size 128"},
        {"silent", "inspect says what it checked", {"inspect", "TINY"}, 0,
         "tensors against config.json (names and shapes; none missing, none unexpected"},
        // the text argument's bytes through a shell: a QString cannot carry invalid UTF-8
        {"silent", "tokenize invalid UTF-8",
         {"@sh", "FRUGAL tokenize --tokenizer TINY \"$(printf 'ab\\377\\376cd')\""}, 2,
         "not valid UTF-8 at byte 2 (0xFF)"},
        {"silent", "ppl of a text with invalid UTF-8", {"eval", "ppl", "--text", "BADTEXT", "--seq-len", "8"}, 2,
         "BADTEXT: not valid UTF-8 at byte 2 (0xFF)"},
        {"silent", "filter orders by a non-number", {"list", "--db", "DB", "--filter", "lr<abc"}, 2,
         "--filter: column 4: '<' compares numbers, and 'abc' is not one"},
        {"silent", "filter with a doubled operator", {"list", "--db", "DB", "--filter", "lr<<2"}, 2,
         "--filter: column 4: '<' after '<': a value cannot start with an operator"},
        {"silent", "filter ending in 'and'", {"list", "--db", "DB", "--filter", "method=zo and"}, 2,
         "--filter: column 13: a term KEY OP VALUE is missing after 'and'"},
        {"silent", "filter term without an operator", {"list", "--db", "DB", "--filter", "method=zo and lr"}, 2,
         "--filter: column 15: 'lr' has no operator"},
        {"silent", "filter on an unknown key", {"list", "--db", "DB", "--filter", "nosuchfield=3"}, 2,
         "no run has the key 'nosuchfield' (nearest:"},
        {"silent", "filter on a misspelt key suggests it", {"list", "--db", "DB", "--filter", "steep>3"}, 2,
         "no run has the key 'steep' (nearest: 'seed', 'steps'"},
        {"silent", "merge a database that does not exist", {"merge", "TMP/none.db", "--db", "DB"}, 2,
         "TMP/none.db: no such file (merge reads the runs of an existing experiment database; it never creates one)",
         "TMP/none.db"},
        {"silent", "merge a database into itself", {"merge", "DB", "--db", "DB"}, 2, "is this database itself"},
        {"silent", "eval task --limit -3",
         {"eval", "task", "--task", "sentiment", "--limit", "-3", "--db", "DB"}, 2, "--limit expects a count of at least 1, got -3"},
        {"silent", "eval task --limit 0",
         {"eval", "task", "--task", "sentiment", "--limit", "0", "--db", "DB"}, 2, "--limit expects a count of at least 1, got 0"},
        {"silent", "plot to an unknown format", {"plot", "1", "--db", "DB", "--out", "TMP/p.xyz"}, 2,
         "unknown format '.xyz' (expected .png, .svg, .pdf or .csv)", "TMP/p.xyz"},
        {"silent", "plot to a file without an extension", {"plot", "1", "--db", "DB", "--out", "TMP/plot"}, 2,
         "unknown format '(no extension)'", "TMP/plot"},
        {"silent", "sweep with --jobs 0",
         {"run", "-m", "experiments/zo/mezo-full-sentiment.toml", "zo.lr=1e-6,2e-6", "--jobs", "0", "--db", "DB"}, 2,
         "--jobs expects a count of at least 1, got 0"},
        // ---- unclear before: now each names the path and what was expected
        {"unclear", "ppl --model is a file", {"eval", "ppl", "--model", "BADTEXT", "--text", "BADTEXT", "--seq-len", "8"},
         2, "eval.model: 'BADTEXT' is a file, not a model folder"},
        {"unclear", "ppl --text is a folder", {"eval", "ppl", "--text", "TMP", "--seq-len", "8"}, 2,
         "eval.text: TMP: is a folder, not a file (expected a UTF-8 text file)"},
        // plain-text language modelling (train_text): named keys, and a text too short for a window
        {"unclear", "train_text beside a labelled task",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.train_text=\"resources/data/text/moby-dick.txt\"",
          "zo.dev_text=\"resources/data/text/moby-dick.txt\"", "--db", "DB"},
         2, "zo.task names a labelled task, but zo.train_text trains a language model on plain text"},
        {"unclear", "train_text without dev_text",
         {"@sh", "printf 'method = \"fo\"\\n[fo]\\ntrain_text = \"resources/data/text/moby-dick.txt\"\\n' > DB-text.toml && "
                 "FRUGAL run DB-text.toml --db DB"},
         2, "fo.train_text is set but fo.dev_text is not"},
        {"unclear", "train_text shorter than one window",
         {"@sh", "printf 'Too short.' > DB-short.txt && printf 'method = \"fo\"\\n[fo]\\ntrain_text = \"DB-short.txt\"\\n"
                 "dev_text = \"resources/data/text/moby-dick.txt\"\\nsteps = 1\\n' > DB-text.toml && FRUGAL run DB-text.toml --db DB"},
         2, "re:train_text: \\S*short\\.txt has [0-9]+ tokens, fewer than one window of seq_len = 256"},
        {"unclear", "task train_file is a folder",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.task=\"mine\"", "zo.train_file=\"TMP\"",
          "zo.dev_file=\"DEVFILE\"", "zo.template=\"{text} It was {bad|good}.\"", "zo.labels=[\"negative\",\"positive\"]",
          "--db", "DB"},
         2, "zo.train_file: TMP: is a folder, not a file (expected a labelled task file"},
        {"unclear", "task file with invalid UTF-8",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.task=\"mine\"", "zo.train_file=\"BADTASK\"",
          "zo.dev_file=\"DEVFILE\"", "zo.template=\"{text} It was {bad|good}.\"", "zo.labels=[\"negative\",\"positive\"]",
          "--db", "DB"},
         2, "not valid UTF-8"},
        {"unclear", "run a folder", {"run", "TMP", "--db", "DB"}, 2,
         "TMP: is a folder, not a file (expected the experiment config)"},
        {"unclear", "replay past the run's end", {"replay", "1", "--db", "DB", "--out", "TMP/replayed", "--step", "99999"},
         2, "--step 99999 is past the run's end: its trajectory has 3 steps", "TMP/replayed"},
        {"unclear", "run config names a missing model",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.model=\"/no/such/model\"", "--db", "DB"}, 2,
         "zo.model: no such model folder '/no/such/model' (expected a model folder with config.json"},
        {"unclear", "prune names a missing model",
         {"prune", "--model", "/no/such/model", "--method", "magnitude", "--sparsity", "0.5", "--db", "DB"}, 2,
         "prune.model: no such model folder '/no/such/model'"},
        {"unclear", "prune masks that do not exist",
         {"prune", "--method", "masks", "--masks", "TMP/GARBAGE", "--sparsity", "0.5", "--db", "DB"}, 2,
         "prune.masks: TMP/GARBAGE: no such file (expected the masks.safetensors"},
        {"unclear", "prune masks that are not safetensors",
         {"prune", "--method", "masks", "--masks", "GARBAGE", "--sparsity", "0.5", "--eval-text",
          "resources/data/text/moby-dick.txt", "--db", "DB"},
         2, "prune.masks: GARBAGE: header length", "", "dense perplexity"},
        {"unclear", "prune masks of another model, before the dense perplexity",
         {"prune", "--method", "masks", "--masks", "NONORM/model.safetensors", "--sparsity", "0.5", "--eval-text",
          "resources/data/text/moby-dick.txt", "--db", "DB"},
         2, "the mask of model.layers.0.", "", "dense perplexity"},
        {"unclear", "rm a run that does not exist", {"rm", "77", "--db", "DB"}, 2, "no run '77'"},
        {"unclear", "show on a database that does not exist", {"show", "1", "--db", "TMP/nothing.db"}, 2,
         "TMP/nothing.db: no experiment database here", "TMP/nothing.db"},
        // ---- bad input found once the run started exits 2, as the README says (an InputError,
        // whichever command found it)
        {"exit", "ppl of a text shorter than one window",
         {"eval", "ppl", "--text", "SHORTTEXT", "--seq-len", "64", "--db", "DB"}, 2,
         "fewer than one window of 64"},
        {"exit", "task file with an unknown label",
         {"eval", "task", "--task", "BADLABEL", "--template", "{text} It was {bad|good}.", "--labels",
          "negative,positive", "--db", "DB"},
         2, "badlabel.jsonl:2: unknown label 'neutral' (expected one of 'negative', 'positive')"},
        {"exit", "prune 2:3 on widths not a multiple of 3",
         {"prune", "--method", "magnitude", "--sparsity", "2:3", "--db", "DB"}, 2,
         "sparsity needs the input width to be a multiple of 3", "", "dense perplexity"},
        {"unclear", "RIA's channel permutation on unstructured sparsity",
         {"run", "experiments/prune/prune-tiny.toml", "prune.method=\"ria\"", "prune.sparsity=\"0.5\"",
          "prune.ria_permute=true", "--db", "DB"},
         2, "prune.ria_permute groups input channels for N:M sparsity; 0.5 is unstructured"},
        {"unclear", "DSnoT over an unknown base",
         {"run", "experiments/prune/prune-tiny.toml", "prune.method=\"dsnot\"", "prune.dsnot_base=\"ria\"",
          "--db", "DB"},
         2, "prune.dsnot_base: unknown base 'ria' (expected one of wanda, magnitude, sparsegpt)"},
        {"unclear", "a memory budget that is not a size",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "memory.budget=\"12 gigs\"", "--db", "DB"},
         2, "memory.budget = \"12 gigs\": expected a size such as \"12GiB\""},
        {"unclear", "a streamed model under a scheme with passes of its own",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "memory.stream=\"always\"", "zo.scheme=\"hizoo\"", "--db", "DB"},
         2, "zo.scheme: \"hizoo\" has passes of its own that the block sweep does not make"},
        {"unclear", "a streamed model on a GPU",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "memory.stream=\"always\"", "zo.device=\"cuda\"", "--db", "DB"},
         2, "its blocks would be streamed, which runs on the CPU only"},
        {"exit", "prune calibration text shorter than one window",
         {"prune", "--method", "wanda", "--sparsity", "0.5", "--calib", "SHORTTEXT", "--calib-seq-len", "64", "--db", "DB"},
         2, "shorter than one calibration window of 64"},
        // ---- messages that say what is wrong
        {"unclear", "config with an unclosed string", {"run", "UNCLOSED", "--db", "DB"}, 2,
         "unclosed.toml:3: a string is not closed: the closing quote is missing on line 3 (model = \"frugal-tiny)"},
        {"unclear", "--db names a folder", {"list", "--db", "TMP"}, 2,
         "is a folder, not an experiment database file; give a file with --db"},
        {"unclear", "--db names a folder, for a run", {"run", "experiments/zo/mezo-full-sentiment.toml", "--db", "TMP"},
         2, "is a folder, not an experiment database file"},
        // ---- the command line's own checks (kept from test_cli)
        {"cli", "no such model", {"inspect", "/nonexistent/model"}, 2, "inspect: no such model folder '/nonexistent/model'"},
        {"cli", "bad logits list", {"inspect", "GPT2", "--logits", "1,x"}, 2, "--logits expects comma-separated token ids"},
        {"cli", "id out of range", {"inspect", "GPT2", "--logits", "1,999999"}, 2, "token id 999999 is outside the vocabulary"},
        {"cli", "unknown option", {"inspect", "GPT2", "--frobnicate"}, 2, "unknown option '--frobnicate'"},
        {"cli", "unknown command", {"frobnicate"}, 2, "unknown command 'frobnicate'"},
        {"cli", "bad device", {"inspect", "GPT2", "--logits", "1", "--device", "tpu"}, 2,
         "device: unknown device 'tpu' (expected cpu, cuda or cuda:N)"},
        {"cli", "global flag after command", {"inspect", "GPT2", "--threads", "2"}, 2, "unknown option '--threads'"},
        {"cli", "bad thread count", {"--intra-op-threads", "x", "inspect", "GPT2"}, 2,
         "--intra-op-threads expects a thread count from 1 to 1024, got 'x'"},
        {"cli", "bad shard size", {"init-model", "TMP/never", "--shard-mib", "-3"}, 2,
         "--shard-mib expects a positive size in MiB, got -3", "TMP/never"},
        {"cli", "ppl without text", {"eval", "ppl", "--model", "GPT2", "--seq-len", "8"}, 2,
         "eval ppl needs --text FILE --seq-len N"},
        {"cli", "ppl tokenizer too big",
         {"eval", "ppl", "--model", "GPT2", "--text", "/etc/os-release", "--seq-len", "8", "--tokenizer", "GPT2TOK",
          "--db", "DB"},
         2, "tokenizer has 50257 tokens but the model's vocab_size is 110"},
        {"cli", "template without text",
         {"eval", "task", "--model", "GPT2", "--task", "DEVFILE", "--template", "It was {bad|good}.", "--labels",
          "negative,positive", "--db", "DB"},
         2, "has no {text} placeholder"},
        {"cli", "bench without model", {"bench", "forward"}, 2, "bench forward needs --model DIR"},
        {"cli", "plot with a tiny size", {"plot", "1", "--db", "DB", "--out", "TMP/p.png", "--dpi", "0"}, 2,
         "--dpi expects a count of at least 30, got 0", "TMP/p.png"},
        {"cli", "ppl with --seq-len 1", {"eval", "ppl", "--text", "BADTEXT", "--seq-len", "1"}, 2,
         "--seq-len expects a count of at least 2, got 1"},
        // ---- GGUF files: one clear message each, nothing written
        {"unclear", "gguf cut inside the metadata", {"convert", "GGUFCUT", "--out", "TMP/gguf-out"}, 2,
         "cut.gguf: truncated GGUF file: metadata general.architecture (length) at byte 56 needs 8 bytes",
         "TMP/gguf-out"},
        {"unclear", "gguf cut inside the tensor data", {"convert", "GGUFDATA", "--out", "TMP/gguf-out"}, 2,
         "data.gguf: tensor token_embd.weight (F32, 512 bytes at data offset 0) runs past the end of the file",
         "TMP/gguf-out"},
        {"unclear", "gguf tensor of an unknown type", {"inspect", "GGUFQ2K"}, 2,
         "q2k.gguf: tensor token_embd.weight has ggml type Q2_K, which Frugal does not read"},
        {"unclear", "gguf tensor past the end", {"convert", "GGUFPAST", "--out", "TMP/gguf-out"}, 2,
         "past.gguf: tensor token_embd.weight (F32, 512 bytes at data offset 4096) runs past the end", "TMP/gguf-out"},
        {"unclear", "gguf of another architecture", {"convert", "GGUFARCH", "--out", "TMP/gguf-out"}, 2,
         "arch.gguf: general.architecture is 'falcon'; Frugal converts llama (LLaMA, Mistral, SmolLM) and gpt2",
         "TMP/gguf-out"},
        {"unclear", "gguf that is text", {"eval", "ppl", "--model", "GGUFTEXT", "--text", "BADTEXT", "--seq-len", "8"}, 2,
         "text.gguf: not a GGUF file (it does not start with the bytes 'GGUF')"},
        {"unclear", "gguf without the model's sizes", {"convert", "GGUFOK", "--out", "TMP/gguf-out"}, 2,
         "ok.gguf: metadata key llama.embedding_length is missing", "TMP/gguf-out"},
        // ---- devices: every method takes device = "cuda" through the CUDA-compiled paths up to the
        // point where no GPU exists (exit 2, "no CUDA device"), or refuses it saying why
        {"device", "zo run on cuda without a GPU",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.device=\"cuda\"", "zo.steps=1", "--db", "DB"}, 2,
         "device = \"cuda\": no CUDA device"},
        {"device", "fo run on cuda:1 without a GPU",
         {"run", "experiments/zo/fo-adamw-sentiment.toml", "fo.device=\"cuda:1\"", "fo.steps=1", "--db", "DB"}, 2,
         "device = \"cuda:1\": no CUDA device"},
        {"device", "a device that is none",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.device=\"gpu\"", "--db", "DB"}, 2,
         "zo.device: unknown device 'gpu' (expected cpu, cuda or cuda:N)"},
        {"device", "a GPU index that is none",
         {"run", "experiments/zo/mezo-full-sentiment.toml", "zo.device=\"cuda:x\"", "--db", "DB"}, 2,
         "zo.device: 'cuda:x' names no GPU"},
        {"device", "eval on cuda without a GPU",
         {"eval", "ppl", "--text", "resources/data/text/moby-dick.txt", "--seq-len", "64", "--limit-windows", "1",
          "--device", "cuda", "--db", "DB"},
         2, "no CUDA device"},
        {"device", "bench zo on cuda without a GPU", {"bench", "zo", "--model", "TINY", "--device", "cuda", "--steps", "1"},
         2, "bench zo: device = \"cuda\": no CUDA device"},
        {"device", "replay on cuda without a GPU",
         {"replay", "1", "--db", "DB", "--out", "TMP/replayed-cuda", "--device", "cuda"}, 2, "no CUDA device",
         "TMP/replayed-cuda"},
        {"device", "prune on cuda", {"prune", "--method", "magnitude", "--sparsity", "0.5", "--device", "cuda", "--db", "DB"},
         2, "pruning runs on the CPU only"},
        {"device", "sharpzo on cuda",
         {"run", "experiments/sharpzo/sharpzo-prompt-sentiment.toml", "sharpzo.device=\"cuda\"", "--db", "DB"}, 2,
         "SharpZO keeps its CMA-ES search and the projection of w onto the trainables in host doubles"},
        {"device", "landscape on cuda",
         {"run", "experiments/landscape/builtin-2d-sentiment.toml", "landscape.device=\"cuda\"", "--db", "DB"}, 2,
         "a landscape moves the weights along its directions with CPU loops"},
        {"device", "live landscape on cuda",
         {"run", "experiments/landscape/mezo-live-landscape-sentiment.toml", "zo.device=\"cuda\"", "--db", "DB"}, 2,
         "the live probes move the weights with CPU loops over them"},
        {"device", "pretrain on cuda", {"run", "experiments/pretrain-tiny.toml", "train.device=\"cuda\"", "--db", "DB"}, 2,
         "train.device = \"cuda\": pre-training builds, trains and checkpoints the built-in model as CPU tensors"},
        {"device", "probe on cuda",
         {"@sh", "printf 'method = \"probe\"\\n[probe]\\nconfig = \"c.toml\"\\ntrajectory = \"t.csv\"\\ndevice = \"cuda\"\\n' "
                 "> DB-probe.toml && FRUGAL run DB-probe.toml --db DB"},
         2, "probe.device = \"cuda\": a probe replays the run's trajectory and scores its checkpoints on the CPU"},
    };
    return table;
}

}  // namespace

class TestBadInput : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void table_data();
    void table();
    void tally();
    void exportsRoundTripEveryDouble();
    void readOnlyDatabase();
    void fullDisk();
    void rmRefusesARunningRun();

private:
    QString fill(QString text) const;
    std::unique_ptr<frugal::test::TempDir> m_tmp;
    std::map<QString, QString> m_places;
};

QString TestBadInput::fill(QString text) const {
    // longest names first: TINY inside another name must not be replaced early
    std::vector<std::pair<QString, QString>> order(m_places.begin(), m_places.end());
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    for (const auto& [key, value] : order) text.replace(key, value);
    return text;
}

void TestBadInput::initTestCase() {
    m_tmp = std::make_unique<frugal::test::TempDir>("bad-input");
    const auto dir = m_tmp->path();
    const auto source = envPath("FRUGAL_SOURCE_DIR");
    QDir::setCurrent(QString::fromStdString(source.string()));  // rows name committed files relatively
    const auto tiny = source / "resources/models/frugal-tiny";
    m_places = {{"DB", QString::fromStdString((dir / "runs.db").string())},
                {"TMP", QString::fromStdString((dir / "tmp").string())},
                {"TINY", QString::fromStdString(tiny.string())},
                {"GPT2TOK", QString::fromStdString((envPath("FRUGAL_TOKENIZER_DIR") / "gpt2").string())},
                {"GPT2", QString::fromStdString((envPath("FRUGAL_REFERENCE_DIR") / "gpt2_f32").string())},
                {"DEVFILE", QString::fromStdString((source / "resources/data/sentiment/dev.jsonl").string())},
                {"NONORM", QString::fromStdString((dir / "nonorm").string())},
                {"WIDE", QString::fromStdString((dir / "wide").string())},
                {"HUGEVOCAB", QString::fromStdString((dir / "hugevocab").string())},
                {"BADTEXT", QString::fromStdString((dir / "bad.txt").string())},
                {"BADTASK", QString::fromStdString((dir / "bad.jsonl").string())},
                {"BADLABEL", QString::fromStdString((dir / "badlabel.jsonl").string())},
                {"SHORTTEXT", QString::fromStdString((dir / "short.txt").string())},
                {"UNCLOSED", QString::fromStdString((dir / "unclosed.toml").string())},
                {"GARBAGE", QString::fromStdString((dir / "garbage.safetensors").string())}};
    for (const char* name : {"ok", "cut", "data", "q2k", "past", "arch", "text"})
        m_places[QString("GGUF") + QString(name).toUpper()] =
            QString::fromStdString((dir / (std::string(name) + ".gguf")).string());
    {
        const std::string ok = ggufFile("llama", 0, 0, 512);
        frugal::test::writeBytes(dir / "ok.gguf", ok);
        frugal::test::writeBytes(dir / "cut.gguf", ok.substr(0, 60));
        frugal::test::writeBytes(dir / "data.gguf", ok.substr(0, ok.size() - 100));
        frugal::test::writeBytes(dir / "q2k.gguf", ggufFile("llama", 10, 0, 512));
        frugal::test::writeBytes(dir / "past.gguf", ggufFile("llama", 0, 4096, 512));
        frugal::test::writeBytes(dir / "arch.gguf", ggufFile("falcon", 0, 0, 512));
        frugal::test::writeText(dir / "text.gguf", "not a model\n");
    }
    std::filesystem::create_directories(dir / "tmp");
    frugal::test::writeBytes(dir / "bad.txt", "ab\xff\xfe" "cd and more text\n");
    frugal::test::writeBytes(dir / "bad.jsonl", "{\"text\": \"fine\", \"label\": \"positive\"}\n"
                                                "{\"text\": \"bro\xffken\", \"label\": \"negative\"}\n");
    frugal::test::writeText(dir / "garbage.safetensors", "this is not a safetensors file\n");
    frugal::test::writeText(dir / "badlabel.jsonl", "{\"text\": \"fine\", \"label\": \"positive\"}\n"
                                                    "{\"text\": \"so so\", \"label\": \"neutral\"}\n");
    frugal::test::writeText(dir / "short.txt", "A few words, far fewer than one window.\n");
    frugal::test::writeText(dir / "unclosed.toml", "method = \"zo\"\n[zo]\nmodel = \"frugal-tiny\nsteps = 3\n");

    // models: random llama checkpoints, then broken on purpose
    for (const char* name : {"nonorm", "wide"}) {
        const Result r = runFrugal({"init-model", QString::fromStdString((dir / name).string())});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    }
    {
        using namespace frugal::model;
        const Transformer t = Transformer::load(dir / "nonorm");
        NamedTensors kept;
        for (const auto& [name, tensor] : t.parameters())
            if (name != "model.norm.weight") kept.emplace_back(name, tensor);
        std::filesystem::remove(dir / "nonorm" / "model.safetensors");
        writeSafetensors(dir / "nonorm" / "model.safetensors", kept, DType::F32);
    }
    {
        auto config = nlohmann::json::parse(frugal::test::readText(dir / "wide" / "config.json"));
        QCOMPARE(config["hidden_size"].get<int>(), 64);
        config["hidden_size"] = 128;
        frugal::test::writeText(dir / "wide" / "config.json", config.dump(2));
    }
    {
        const Result r = runFrugal({"init-model", QString::fromStdString((dir / "hugevocab").string()), "--vocab",
                                    "262144", "--max-positions", "256", "--tied"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        std::filesystem::copy_file(tiny / "tokenizer.json", dir / "hugevocab" / "tokenizer.json");
    }
    // the database: one finished 3-step ZO run
    const Result r = runFrugal({"run", "experiments/zo/mezo-full-sentiment.toml", "zo.steps=3", "zo.eval_every=100",
                                "zo.eval_limit=8", "--db", m_places["DB"], "--name", "fixture", "--quiet"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
}

void TestBadInput::cleanupTestCase() { m_tmp.reset(); }

void TestBadInput::table_data() {
    QTest::addColumn<int>("row");
    for (size_t i = 0; i < cases().size(); ++i)
        QTest::newRow(cat(cases()[i].kind, ": ", cases()[i].name).c_str()) << static_cast<int>(i);
}

void TestBadInput::table() {
    QFETCH(int, row);
    const Case& c = cases()[static_cast<size_t>(row)];
    QStringList args;
    for (const QString& a : c.args) args << fill(a);
    Result r;
    if (args.first() == "@sh") {  // a shell line; FRUGAL is the binary
        QProcess p;
        p.start("sh", {"-c", QString(args.at(1)).replace("FRUGAL", binary() + " --threads 1")});
        QVERIFY(p.waitForFinished(180000));
        r = {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
    } else {
        r = runFrugal(args);
    }
    const QString said = r.err + r.out;
    const QString message = fill(QString::fromUtf8(c.message));
    QVERIFY2(r.exitCode == c.exitCode,
             qPrintable(QString("exit %1, expected %2: %3").arg(r.exitCode).arg(c.exitCode).arg(said)));
    // "re:PATTERN": a regular expression to find in what was said
    const bool found = message.startsWith("re:") ? QRegularExpression(message.mid(3)).match(said).hasMatch()
                                                 : said.contains(message);
    QVERIFY2(found, qPrintable(QString("expected '%1' in: %2").arg(message, said)));
    // refused before a run: the message on stderr only (a run's own log lines go to stdout)
    if (c.exitCode == 2 && !r.err.contains("stored in")) QVERIFY2(r.out.isEmpty(), qPrintable(r.out));
    if (*c.absent) {
        const QString path = fill(QString::fromUtf8(c.absent));
        QVERIFY2(!QFileInfo::exists(path), qPrintable(path + " was created"));
    }
    if (*c.notSaid) QVERIFY2(!said.contains(QString::fromUtf8(c.notSaid)), qPrintable(said));
}

// The tally by kind, for the record (and a guard that no kind's rows were dropped).
void TestBadInput::tally() {
    std::map<std::string, int> byKind;
    for (const auto& c : cases()) ++byKind[c.kind];
    std::string line;
    for (const auto& [kind, n] : byKind) line += cat(line.empty() ? "" : ", ", kind, " ", n);
    qInfo("%zu bad-input rows: %s", cases().size(), line.c_str());
    QVERIFY(byKind["crash"] >= 4 && byKind["silent"] >= 15 && byKind["unclear"] >= 12 && byKind["exit"] >= 4 &&
            byKind["device"] >= 13);
}

// Every double a run can store comes back from `export --csv` and `--json` bit for bit: NaN,
// both infinities, subnormals, 17-digit values, negative zero.
void TestBadInput::exportsRoundTripEveryDouble() {
    const auto dir = m_tmp->path() / "export";
    std::filesystem::create_directories(dir);
    const std::vector<double> values = {2.2225604610801803,
                                        0.1,
                                        1.0 / 3.0,
                                        -0.0,
                                        std::numeric_limits<double>::denorm_min(),
                                        4.9406564584124654e-320,
                                        std::numeric_limits<double>::min(),
                                        std::numeric_limits<double>::max(),
                                        -1.7976931348623157e308,
                                        123456789.12345679,
                                        std::nan(""),
                                        INFINITY,
                                        -INFINITY,
                                        9007199254740993.0};
    int64_t id = 0;
    {
        frugal::store::Store db(dir / "runs.db");
        frugal::store::NewRun run;
        run.name = "numbers";
        run.method = "zo";
        id = db.createRun(run);
        for (size_t i = 0; i < values.size(); ++i) db.logMetric(id, "x", static_cast<int64_t>(i), values[i]);
        db.setStatus(id, frugal::store::RunStatus::Finished);
    }
    const QString db = QString::fromStdString((dir / "runs.db").string());
    Result r = runFrugal({"export", QString::number(id), "--db", db, "--csv", QString::fromStdString(dir.string())});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = runFrugal({"export", QString::number(id), "--db", db, "--json", QString::fromStdString(dir.string())});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto same = [](double a, double b) {
        return std::isnan(a) ? std::isnan(b) : std::memcmp(&a, &b, sizeof a) == 0;
    };
    std::vector<double> fromCsv, fromJson;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".csv") {
            std::ifstream in(entry.path());
            std::string line;
            std::getline(in, line);
            QCOMPARE(line, std::string("run_id,run_name,key,step,wall_ms,value"));
            while (std::getline(in, line)) fromCsv.push_back(std::strtod(line.substr(line.rfind(',') + 1).c_str(), nullptr));
        } else if (entry.path().extension() == ".json") {
            const auto j = nlohmann::json::parse(frugal::test::readText(entry.path()));
            for (const auto& point : j["metrics"]["x"]) {
                const auto& v = point[2];
                fromJson.push_back(v.is_string() ? std::strtod(v.get<std::string>().c_str(), nullptr) : v.get<double>());
            }
        }
    }
    QCOMPARE(fromCsv.size(), values.size());
    QCOMPARE(fromJson.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        QVERIFY2(same(values[i], fromCsv[i]), qPrintable(QString("csv row %1: %2").arg(i).arg(fromCsv[i], 0, 'g', 17)));
        QVERIFY2(same(values[i], fromJson[i]), qPrintable(QString("json row %1: %2").arg(i).arg(fromJson[i], 0, 'g', 17)));
    }
}

namespace {

// Runs SCRIPT (sh) in a new user and mount namespace, where this test may mount a tmpfs or bind
// a folder read-only; %1 in SCRIPT is DIR (created), %2 the frugal binary. Empty when the kernel
// refuses namespaces here.
std::optional<Result> inNamespace(const std::filesystem::path& dir, const QString& scriptWithPlaces,
                                  int timeoutMs = 300000) {
    std::filesystem::create_directories(dir);
    const QString script = scriptWithPlaces.arg(QString::fromStdString(dir.string()), binary() + " --threads 1");
    QProcess probe;
    probe.start("unshare", {"-rm", "true"});
    if (!probe.waitForFinished(10000) || probe.exitCode() != 0) return std::nullopt;
    QProcess p;
    p.start("unshare", {"-rm", "sh", "-c", script});
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return Result{-1, {}, "timed out"};
    }
    return Result{p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
                  QString::fromUtf8(p.readAllStandardError())};
}

}  // namespace

// On a read-only medium (a bind mount made read-only: root's permissions do not help) the
// reading commands work and the writing ones name the file as read-only.
void TestBadInput::readOnlyDatabase() {
    const auto dir = m_tmp->path() / "ro";
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(m_places["DB"].toStdString(), dir / "runs.db");
    size_t before = 0;
    {
        frugal::store::Store copy(dir / "runs.db", frugal::store::Store::Access::Read);
        before = copy.runs().size();
    }
    const auto r = inNamespace(
        dir,
        QString("mount --bind -o ro %1 %1 || exit 99; db=%1/runs.db; "
                "%2 list --db $db; echo \"list=$?\"; %2 show 1 --db $db; echo \"show=$?\"; "
                "%2 export 1 --db $db --csv %1-out; echo \"export=$?\"; "
                "%2 compare 1 1 --db $db; echo \"compare=$?\"; "
                "%2 rm 1 --db $db; echo \"rm=$?\"; "
                "%2 run experiments/zo/mezo-full-sentiment.toml zo.steps=1 --db $db; echo \"run=$?\""));
    if (!r) QSKIP("unshare -rm is refused here: no read-only mount can be made");
    QVERIFY2(r->exitCode != 99, qPrintable(r->err));
    for (const char* ok : {"list=0", "show=0", "export=0", "compare=0"}) QVERIFY2(r->out.contains(ok), qPrintable(r->out + r->err));
    QVERIFY2(r->out.contains("fixture"), qPrintable(r->out));
    for (const char* refused : {"rm=2", "run=2"}) QVERIFY2(r->out.contains(refused), qPrintable(r->out + r->err));
    QVERIFY2(r->err.contains("runs.db: the experiment database is read-only (Read-only file system)"), qPrintable(r->err));
    // nothing lost: the run is still there, unchanged
    frugal::store::Store db(dir / "runs.db", frugal::store::Store::Access::Read);
    QCOMPARE(db.runs().size(), before);
    QCOMPARE(db.runs().back().name, std::string("fixture"));
}

// A disk that fills: at the start a run is refused naming the disk; mid-run it stops at once,
// its committed points are kept, and the message says "disk full" (not SQLite's secondary
// rollback error).
void TestBadInput::fullDisk() {
    const auto dir = m_tmp->path() / "full";
    const QString d = QString::fromStdString(dir.string());
    const auto r = inNamespace(
        dir,
        QString("mount -t tmpfs -o size=2m tmpfs %1 || exit 99; "
                // full at the start: nothing but a few KiB left
                "dd if=/dev/zero of=%1/filler bs=1k count=2040 2>/dev/null; "
                "%2 run experiments/zo/mezo-full-sentiment.toml zo.steps=5 --db %1/start.db --quiet; echo \"start=$?\"; "
                "rm -f %1/filler %1/start.db*; "
                // full during the run: 300 KiB left for a run that would log 3,000 steps
                "dd if=/dev/zero of=%1/filler bs=1k count=1700 2>/dev/null; "
                "%2 run experiments/zo/mezo-full-sentiment.toml zo.steps=3000 zo.eval_every=100000 zo.eval_limit=8 "
                "--db %1/mid.db --quiet; echo \"mid=$?\"; "
                "rm -f %1/filler; %2 show 1 --db %1/mid.db; echo \"show=$?\"; "
                "%2 export 1 --db %1/mid.db --csv %1/out >/dev/null; echo \"export=$?\"; cat %1/out/*.csv | grep -c train/loss"));
    if (!r) QSKIP("unshare -rm is refused here: no small tmpfs can be mounted");
    QVERIFY2(r->exitCode != 99, qPrintable(r->err));
    const QString all = r->out + r->err;
    QVERIFY2(r->out.contains("start=2") || r->out.contains("start=1"), qPrintable(all));
    QVERIFY2(r->err.contains("disk full: " + d + "/start.db ("), qPrintable(all));
    QVERIFY2(!all.contains("cannot rollback"), qPrintable(all));
    QVERIFY2(r->out.contains("mid=1"), qPrintable(all));
    // which write meets the full disk first is a race between the metric writer's thread
    // ("storing metrics failed: disk full: ...") and the run's own status and log writes ("disk
    // full: ..."): both name the database and say "disk full"
    QVERIFY2(r->err.contains("disk full: " + d + "/mid.db ("), qPrintable(all));
    QVERIFY2(r->out.contains("show=0") && r->out.contains("export=0"), qPrintable(all));
    // the run stopped (failed, or interrupted when not even its status could be written) with a
    // gap-free prefix of its points, far short of 3,000
    QVERIFY2(r->out.contains("status      failed") || r->out.contains("status      interrupted"), qPrintable(r->out));
    const QStringList lines = r->out.trimmed().split('\n');
    const int points = lines.last().toInt();
    QVERIFY2(points >= 1 && points < 3000, qPrintable(lines.last()));
}

// `rm` of a run that is still training is refused naming its process; --force stops it first.
void TestBadInput::rmRefusesARunningRun() {
    const QString db = QString::fromStdString((m_tmp->path() / "live.db").string());
    QProcess training;
    training.start(binary(), {"--threads", "1", "run", "experiments/zo/mezo-full-sentiment.toml", "zo.steps=100000",
                              "zo.eval_every=100000", "zo.eval_limit=8", "--db", db, "--quiet", "--name", "live"});
    QVERIFY(training.waitForStarted());
    bool running = false;
    for (int i = 0; i < 600 && !running; ++i) {
        QThread::msleep(100);
        if (!QFileInfo::exists(db)) continue;
        try {
            frugal::store::Store reader(db.toStdString(), frugal::store::Store::Access::Read);
            const auto runs = reader.runs();
            running = !runs.empty() && runs[0].status == frugal::store::RunStatus::Running;
        } catch (const std::exception&) {
        }
    }
    QVERIFY(running);
    Result r = runFrugal({"rm", "live", "--db", db});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(QString("is running in process %1").arg(training.processId())), qPrintable(r.err));
    QVERIFY2(r.err.contains("rm --force"), qPrintable(r.err));
    r = runFrugal({"rm", "live", "--force", "--db", db});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("deleted run 1 (live)"), qPrintable(r.out));
    QVERIFY(training.waitForFinished(60000));
    QCOMPARE(training.exitCode(), 143);  // cancelled by SIGTERM, then deleted
    frugal::store::Store reader(db.toStdString(), frugal::store::Store::Access::Read);
    QVERIFY(reader.runs().empty());
}

QTEST_GUILESS_MAIN(TestBadInput)
#include "test_bad_input.moc"
