#include "usage.h"

#include "cli_args.h"
#include "key_flags.h"
#include "run/method_registry.h"

namespace frugal::app {
namespace {

// Lines that several commands share.
const std::string kDb =
    "  --db FILE            the experiment database (default $XDG_DATA_HOME/frugal/runs.db, else\n"
    "                       ~/.local/share/frugal/runs.db)\n";
const std::string kHelp = "  --help, -h           this text\n";

// The choices of KEY in METHOD's config, from its reader's declaration, joined by SEPARATOR.
std::string choicesOf(const std::string& method, const std::string& key, const std::string& separator) {
    std::string out;
    for (const auto& f : run::configSchema(method))
        if (f.key == key)
            for (const auto& c : f.choices) out += (out.empty() ? "" : separator) + c;
    return out;
}

std::vector<CommandUsage> buildTable() {
    std::vector<CommandUsage> t;
    t.push_back({"gui", "the desktop workbench (the default command); headless without a display",
                 "usage: frugal gui [--db FILE] [--plots DIR] [--config RUN.toml]\n"
                 "       frugal          (no command: the same)\n"
                 "\n"
                 "The desktop workbench over the experiment database: runs, new experiment, live "
                 "run,\n"
                 "compare, export. With no display ($DISPLAY and $WAYLAND_DISPLAY unset) no window "
                 "opens:\n"
                 "the default experiment runs headless instead, its figures written to a folder.\n"
                 "\n"
                 "options:\n" +
                     kDb +
                     "  --plots DIR          headless: where the figures go (default "
                     "./frugal-plots)\n"
                     "  --config RUN.toml    headless: the experiment to run (default\n"
                     "                       experiments/zo/mezo-full-smollm2-movie.toml: MeZO on\n"
                     "                       SmolLM2-135M and the movie sentences)\n" +
                     kHelp});
    t.push_back(
        {"screenshots", "short runs, then every workbench view rendered offscreen",
         "usage: frugal screenshots [--out DIR]\n"
         "\n"
         "Short runs of the built-in model, then every workbench view rendered offscreen at\n"
         "1280x800 into PNG files.\n"
         "\n"
         "options:\n"
         "  --out DIR            where the images go (default docs/img)\n" +
             kHelp});
    t.push_back({"convert", "a llama.cpp GGUF file into a Hugging Face folder",
                 "usage: frugal convert FILE.gguf --out DIR [--dtype fp32|bf16]\n"
                 "\n"
                 "Reads a GGUF file (versions 2 and 3; tensor types F32, F16, BF16, Q8_0, Q4_0, "
                 "Q4_1,\n"
                 "Q4_K, Q5_K, Q6_K; architectures llama (LLaMA, Mistral, SmolLM) and gpt2) and "
                 "writes\n"
                 "DIR/config.json, DIR/model.safetensors (the weights dequantized, llama.cpp's "
                 "query/key\n"
                 "row order undone) and DIR/tokenizer.json (from tokenizer.ggml.*). Every command "
                 "that\n"
                 "takes a model folder also takes a .gguf file: it is converted once (fp32) into\n"
                 "$FRUGAL_CACHE_DIR, else $XDG_CACHE_HOME/frugal, else ~/.cache/frugal.\n"
                 "\n"
                 "options:\n"
                 "  --out DIR            the folder to write (created; its three files replaced)\n"
                 "  --dtype D            fp32 (default: the dequantized values exactly) or bf16\n" +
                     kHelp});
    t.push_back({"inspect", "a model folder or GGUF file: family, parameter count, dtypes, tensors; or logits",
                 "usage: frugal inspect MODEL_DIR [--json]\n"
                 "       frugal inspect FILE.gguf [--json]\n"
                 "       frugal inspect MODEL_DIR --logits 1,5,7,9 [--device cpu|cuda]\n"
                 "\n"
                 "A model in Hugging Face layout (a folder, or a built-in model's name): family, "
                 "sizes,\n"
                 "parameter count by dtype and every tensor, from the headers alone (no weights "
                 "loaded).\n"
                 "A .gguf file: its version, metadata and tensors with their ggml types.\n"
                 "With --logits: the logits at the last position of that token sequence, as one "
                 "JSON array;\n"
                 "several sequences separated by ';' give one array a line (the model loads once).\n"
                 "\n"
                 "options:\n"
                 "  --json               the summary as JSON\n"
                 "  --logits IDS         comma-separated token ids to run the model on\n"
                 "  --device DEVICE      with --logits: cpu (default), cuda or cuda:N\n" +
                     kHelp});
    t.push_back(
        {"params", "the parameters a fine-tuning target trains, from config.json alone",
         "usage: frugal params --model-config CONFIG.json [TARGET OPTIONS] [--json]\n"
         "       frugal params --model DIR [TARGET OPTIONS] [--json]\n"
         "       frugal params --config RUN.toml [KEY=VALUE ...] [--json]\n"
         "\n"
         "How many parameters a fine-tuning target trains, counted from a model's "
         "config.json\n"
         "alone (no weights loaded); with --config, the target of a run config (methods "
         "zo,\n"
         "mezo and fo), with KEY=VALUE overrides as for frugal run.\n"
         "\n"
         "options:\n"
         "  --model-config FILE  a model's config.json\n"
         "  --model DIR          a model folder (or a built-in model's name): its "
         "config.json\n"
         "  --config RUN.toml    a run config\n"
         "target options:\n"
         "  --peft TARGET        full (default), bitfit, norms, head, lora, prefix, "
         "prompt,\n"
         "                       loretta_adp, loretta_rep\n"
         "  --rank R             the LoRA rank (default 8); for loretta_adp and "
         "loretta_rep the\n"
         "                       tensor-train rank (default 5)\n"
         "  --bottleneck B       loretta_adp: the adapter's bottleneck width (default 64);\n"
         "                       loretta_rep: the LoRA rank it tensorises (default 8)\n"
         "  --modules LIST       the adapted projections, of q,k,v,o,qkv,gate,up,down "
         "(default q,v)\n"
         "  --alpha A            the LoRA scale alpha (default 16)\n"
         "  --prefix-tokens N    prefix: virtual tokens per layer (default 5)\n"
         "  --prompt-tokens N    prompt: soft input tokens (default 10)\n"
         "  --train-norms        adapter targets: the norm weights train too\n"
         "  --tt-head            adapter targets: a tensor-train map ahead of the LM head\n"
         "  --json               the counts as JSON\n" +
             kHelp});
    t.push_back({"plot", "one figure (or CSV) of stored runs' metric series",
                 "usage: frugal plot RUN... --out FILE.png|svg|pdf|csv [--metric KEY]\n"
                 "       [--x passes|step|wall] [--log-x] [--log-y] [--group BY] [--band B]\n"
                 "       [--center mean|median] [--each-run] [--title T]\n"
                 "       [--width-mm W] [--height-mm H] [--dpi D] [--db FILE]\n"
                 "\n"
                 "One figure of stored runs (RUN: run ids). Runs in one group (by default the seeds\n"
                 "of one configuration: everything but the seed the same) are drawn as one line, the\n"
                 "group's mean, with a band of ± one standard deviation and N in the legend, at the\n"
                 "steps all its runs have; a run alone is its own line. A .csv holds every point with\n"
                 "the band's columns (band_lo, band_hi).\n"
                 "\n"
                 "options:\n"
                 "  --out FILE           the figure: .png, .svg, .pdf, or .csv for the data\n"
                 "  --metric KEY         the metric series (default dev/loss)\n"
                 "  --vector KEY         instead, the last frame of a vector series (a landscape surface,\n"
                 "                       per-layer sparsity), the runs side by side on one colour scale\n"
                 "  --x AXIS             passes (forward passes, default), step or wall (seconds)\n"
                 "  --log-x, --log-y     logarithmic axes\n"
                 "  --group BY           config (everything but the seed, default), name, none (one\n"
                 "                       line per run) or a config key (zo.lr: a group per value)\n"
                 "  --band B             std (default), sem, ci95 (Student's t), minmax or none\n"
                 "  --center C           mean (default) or median\n"
                 "  --each-run           each run drawn faint under its group's line\n"
                 "  --title T            the figure's title\n"
                 "  --width-mm W         width in millimetres (default 160)\n"
                 "  --height-mm H        height in millimetres (default 100)\n"
                 "  --dpi D              resolution of a .png (default 200)\n" +
                     kDb + kHelp});
    t.push_back({"tokenize", "a text's token ids as one JSON array",
                 "usage: frugal tokenize --tokenizer PATH [--no-special] [--] \"TEXT\"\n"
                 "       frugal tokenize --tokenizer PATH [--no-special] --texts FILE\n"
                 "\n"
                 "The token ids of TEXT as one JSON array. PATH: a tokenizer.json, a folder "
                 "holding\n"
                 "one or vocab.json + merges.txt, or a .gguf file.\n"
                 "\n"
                 "options:\n"
                 "  --tokenizer PATH     the tokenizer (required)\n"
                 "  --no-special         no special tokens (no BOS)\n"
                 "  --texts FILE         one JSON string a line; prints one id array a line\n"
                 "  --                   what follows is the text, even when it starts with '-'\n" +
                     kHelp});
    t.push_back(
        {"bench", "benchmarks: forward throughput, a ZO step, tensor-train forwards, the database",
         "usage: frugal bench forward --model DIR [--batch B] [--seq T] [--iters K] [--seed S]\n"
         "                           [--device D] [--json]\n"
         "       frugal bench zo --model DIR|--model-config CONFIG.json [--method M] [--batch B]\n"
         "                      [--seq T] [--steps N] [--dtype D] [--device D] [--direction D]\n"
         "                      [--target T] [--seed S] [--force] [--json]\n"
         "       frugal bench tt [--iters K] [--json]\n"
         "       frugal bench store [--points N] [--runs R] [--db FILE] [--json]\n"
         "\n"
         "bench forward: forward throughput (tokens/s), load peak and process peak RSS\n"
         "  --model DIR          the model (required)\n"
         "  --batch B            sequences per batch (default 1)\n"
         "  --seq T              tokens per sequence (default 128)\n"
         "  --iters K            timed forwards (default 5)\n"
         "  --seed S             the random input's seed (default 0)\n"
         "  --device D           cpu (default), cuda or cuda:N\n"
         "  --json               the result as one JSON object\n"
         "bench zo: one fine-tuning step against one no-grad forward (median ms, peak RSS)\n"
         "  --model DIR          the model (or --model-config)\n"
         "  --model-config F     a config.json: random weights of that shape, built in memory\n"
         "  --method M           mezo (default), zo-adam, adam, sgd or forward\n"
         "  --batch B            sequences per batch (default 8)\n"
         "  --seq T              tokens per sequence (default 128)\n"
         "  --steps N            timed steps (default 10)\n"
         "  --dtype D            the weights in memory: auto (default: the checkpoint's own where\n"
         "                       the device computes in it), fp32, bf16 or fp16 (fp16: CUDA)\n"
         "  --device D           cpu (default), cuda or cuda:N; on CUDA also the GPU's peak\n"
         "  --direction D        gaussian (default), rademacher or sphere\n"
         "  --target T           the trained weights: full (default), norms, head or bitfit\n"
         "  --seed S             the seed (default 0)\n"
         "  --force              run even when the memory estimate exceeds what is free\n"
         "  --json               the result as one JSON object\n"
         "bench tt: tensor-train forwards, rebuild-then-multiply against contracting, beside\n"
         "the cost model's choice\n"
         "  --iters K            timed repetitions (default 20)\n"
         "  --json               the cases as JSON\n"
         "bench store: experiment-database insert, read and list speed\n"
         "  --points N           metric points in one series (default 1000000)\n"
         "  --runs R             runs to create and list (default 10000)\n"
         "  --db FILE            the database to write (default a temporary file, removed)\n"
         "  --json               the result as one JSON object\n"
         "every form:\n" +
             kHelp});
    t.push_back(
        {"eval", "perplexity over a text, or accuracy on a classification task",
         "usage: frugal eval ppl [--model DIR] --text FILE --seq-len N [--tokenizer PATH]\n"
         "                      [--batch B] [--limit-windows W] [--json]\n"
         "       frugal eval task [--model DIR] --task NAME[:SPLIT]|FILE [--template T --labels "
         "A,B]\n"
         "                       [--tokenizer PATH] [--limit K] [--shots K [--shots-from "
         "FILE|NAME:train]\n"
         "                       [--seed S]] [--json]\n"
         "\n"
         "eval ppl: perplexity over non-overlapping windows of N tokens\n"
         "  --model DIR          the model (default the built-in frugal-tiny)\n"
         "  --text FILE          the text (required)\n"
         "  --seq-len N          tokens per window (required)\n"
         "  --tokenizer PATH     a tokenizer other than the model's own\n"
         "  --batch B            windows per forward (default 1)\n"
         "  --limit-windows W    score at most W windows (default all)\n"
         "  --json               the result as one JSON object\n"
         "eval task: accuracy by the log-likelihood of each label's verbaliser, zero-shot or "
         "with K\n"
         "demonstrations\n"
         "  --model DIR          the model (default the built-in frugal-tiny)\n"
         "  --task NAME|FILE     a built-in task (sentiment, spam; test split unless :train or "
         ":dev)\n"
         "                       or a task file (jsonl, tsv or csv with text and label)\n"
         "  --template T         a task file's prompt, e.g. \"{text} It was {terrible|great}.\"\n"
         "  --labels A,B         a task file's labels, in the template's order\n"
         "  --tokenizer PATH     a tokenizer other than the model's own\n"
         "  --limit K            the first K examples only (default all)\n"
         "  --shots K            K demonstrations in each prompt (default 0)\n"
         "  --shots-from SOURCE  the examples they are drawn from: a file or NAME:train (a "
         "built-in\n"
         "                       task's default: its train split)\n"
         "  --seed S             the demonstrations' seed (default 0)\n"
         "  --json               the result as one JSON object\n"
         "every form: a stored run (method eval); its log and id go to stderr\n"
         "  --device D           cpu (default), cuda or cuda:N: where the model runs\n"
         "  --db FILE            the run database (default $XDG_DATA_HOME/frugal/runs.db)\n"
         "  --name N             the run's name\n"
         "  --experiment E       the run's experiment (default \"default\")\n"
         "  --tag T              a tag on the run\n"
         "  --quiet              no log lines\n" +
             kHelp});
    t.push_back(
        {"init-model", "writes a seeded random checkpoint in Hugging Face layout",
         "usage: frugal init-model DIR [--type llama|mistral|opt|gpt2] [--layers L] [--hidden H]\n"
         "       [--heads N] [--kv-heads N] [--vocab V] [--intermediate I] [--max-positions P]\n"
         "       [--tied] [--seed S] [--std X] [--dtype F32|F16|BF16] [--shard-mib M]\n"
         "       frugal init-model DIR --like CONFIG.json [--seed S] [--std X] [--dtype ...]\n"
         "\n"
         "A randomly initialised checkpoint in Hugging Face layout (config.json, safetensors), "
         "for\n"
         "tests, benchmarks and demos.\n"
         "\n"
         "options:\n"
         "  --type T             llama (default), mistral, opt or gpt2\n"
         "  --layers L           transformer blocks (default 2)\n"
         "  --hidden H           hidden size (default 64)\n"
         "  --heads N            attention heads (default 4)\n"
         "  --kv-heads N         key/value heads (default: as many as --heads)\n"
         "  --vocab V            vocabulary size (default 128)\n"
         "  --intermediate I     MLP width (default: the family's usual)\n"
         "  --max-positions P    context length (default 512)\n"
         "  --tied               the LM head shares the embedding\n"
         "  --seed S             the weights' seed (default 0)\n"
         "  --std X              the weights' standard deviation (default 0.02)\n"
         "  --dtype D            F32 (default), F16 or BF16; the weights are drawn in fp32 one\n"
         "                       tensor at a time and held in D (a 7 B model in BF16 needs 13.5 GB)\n"
         "  --like CONFIG        the shape of a Hugging Face config.json instead of --type ... --tied,\n"
         "                       e.g. experiments/models/llama-2-7b/config.json\n"
         "  --shard-mib M        a new safetensors shard above M MiB (default 4096)\n" +
             kHelp});
    t.push_back({"pretrain", "trains a LLaMA-architecture model and its BPE from scratch (AdamW)",
                 "usage: frugal pretrain CONFIG.toml [--out DIR] [--steps N] [--KEY VALUE ...]\n"
                 "                       [--db FILE] [--name N] [--experiment E] [--tag T] [--quiet]\n"
                 "                       [--print-config]\n"
                 "\n"
                 "Trains a byte-level BPE and a LLaMA-architecture model from scratch (AdamW), "
                 "logging\n"
                 "loss and throughput; writes a Hugging Face folder. A stored run (method "
                 "pretrain).\n"
                 "See experiments/pretrain-tiny.toml.\n"
                 "\n"
                 "options:\n"
                 "  --out DIR            the output folder (default: the config's output.dir)\n"
                 "  --KEY VALUE          any [train] key, e.g. --steps N, --lr X (default: the config's)\n"
                 "  --db FILE            the run database (default $XDG_DATA_HOME/frugal/runs.db)\n"
                 "  --name N             the run's name\n"
                 "  --experiment E       the run's experiment (default \"default\")\n"
                 "  --tag T              a tag on the run\n"
                 "  --quiet              no log lines\n"
                 "  --print-config       print the resolved config and stop\n" +
                     kHelp});
    t.push_back({"train-tokenizer", "trains a byte-level BPE on text files",
                 "usage: frugal train-tokenizer --out tokenizer.json [--vocab V] [--min-frequency "
                 "F] FILE...\n"
                 "\n"
                 "A byte-level BPE (GPT-2 pre-tokenizer) trained on the text FILEs, written as a "
                 "standard\n"
                 "tokenizer.json.\n"
                 "\n"
                 "options:\n"
                 "  --out FILE           the tokenizer.json to write (required)\n"
                 "  --vocab V            vocabulary size, specials and 256 bytes included (default "
                 "4096)\n"
                 "  --min-frequency F    stop when the best pair occurs fewer than F times "
                 "(default 2)\n" +
                     kHelp});
    t.push_back(
        {"run", "runs a config's method as a stored run; a sweep with -m; --resume",
         "usage: frugal run CONFIG.toml [KEY=VALUE ...] [--name N] [--experiment E] [--tag T]\n"
         "                  [--parent RUN] [--out DIR] [--print-config] [--force] [--quiet] [--db FILE]\n"
         "       frugal run -m CONFIG.toml KEY=V1,V2 ... [--jobs N] [options as above]\n"
         "       frugal run --resume RUN [--quiet] [--db FILE]\n"
         "\n"
         "Runs the config's method (pretrain, eval, zo, mezo, fo, prune) as a run stored in the\n"
         "experiment database, with KEY=VALUE overrides such as steps=50 or train.lr=1e-3. Exit "
         "0\n"
         "finished, 1 failed, 2 bad input, 130/143 stopped by SIGINT/SIGTERM.\n"
         "\n"
         "options:\n"
         "  --name N             the run's name (default: its method and uuid prefix; a "
         "sweep:\n"
         "                       the config's file name and the combination's values)\n"
         "  --experiment E       the experiment it belongs to (default \"default\"; a sweep: the\n"
         "                       config's file name)\n"
         "  --tag T              a tag on the run\n"
         "  --parent RUN         the run this one continues from (id, uuid or name)\n"
         "  --out DIR            where the method writes its outputs (default the run's "
         "artifact folder)\n"
         "  --print-config       print the resolved config; run nothing\n"
         "  --force              run even when the memory estimate exceeds the memory available\n"
         "  --quiet              warnings and errors only, no info lines\n"
         "  -m, --multirun       a sweep: every combination of the comma-separated values\n"
         "  --jobs N             with -m: runs at a time (default 1)\n"
         "  --resume RUN         continue that run from its last checkpoint\n" +
             kDb + kHelp});
    t.push_back(
        {"launch", "N local processes of a data-parallel run (zo, mezo, landscape), prefixed output",
         "usage: frugal launch -n N [--port P] [--timeout S] [--threads T] run CONFIG.toml [KEY=VALUE ...]\n"
         "                     [run options]\n"
         "\n"
         "Starts N processes of `frugal run` on 127.0.0.1 with torchrun's variables (RANK,\n"
         "WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and forwards their output, each line\n"
         "prefixed with [rank]. Every process holds the model and scores its shard of each batch;\n"
         "they exchange only the loss scalars (2q numbers a step), through LibTorch's c10d (Gloo).\n"
         "A landscape run shares out its grid's points (1-D) or rows (2-D) instead.\n"
         "Process 0 stores the run (world_size in its metadata). `frugal run` started by srun,\n"
         "mpirun or torchrun-style launchers, or with RANK and WORLD_SIZE set by hand in N shells,\n"
         "does the same (README: a Slurm example). Exit: rank 0's code, else the first failure's.\n"
         "\n"
         "options:\n"
         "  -n N, --nproc N      processes (1 to 64)\n"
         "  --port P             the rendezvous store's port (default: a free one)\n"
         "  --timeout S          seconds a process waits for the others in a collective before\n"
         "                       the run fails naming the process that did not answer (default\n"
         "                       300; FRUGAL_DIST_TIMEOUT)\n"
         "  --threads T          threads per process (default: the cores divided by N)\n" +
             kHelp});
    t.push_back(
        {"prune", "post-training pruning (Wanda, Wanda++, magnitude, SparseGPT) as a stored run",
         "usage: frugal prune --model DIR\n"
         "                    --method " + choicesOf("prune", "prune.method", "|") + "\n"
         "                    --sparsity 0.5|2:4|4:8 [--calib FILE] [--out DIR] [--masks FILE]\n"
         "                    [--eval-text FILE] [--KEY VALUE ...] [KEY=VALUE ...] [--name N]\n"
         "                    [--experiment E] [--tag T] [--parent RUN] [--print-config] [--quiet]\n"
         "                    [--db FILE]\n"
         "\n"
         "Post-training pruning as a stored run (method prune; KEY=VALUE sets prune.KEY): "
         "perplexity\n"
         "before and after, per-matrix sparsity and per-block reconstruction error.\n"
         "\n"
         "the [prune] keys, each a flag (as its reader declares it):\n" +
             KeyFlags("prune", "prune").help() +
             "\n"
             "options:\n"
         "  --out DIR            save the pruned model, its masks and the calibration ids there\n"
         "  --name N             the run's name (default: prune and its uuid prefix)\n"
         "  --experiment E       the experiment it belongs to (default \"default\")\n"
         "  --tag T              a tag on the run\n"
         "  --parent RUN         the run this one continues from (id, uuid or name)\n"
         "  --print-config       print the resolved config; run nothing\n"
         "  --quiet              warnings and errors only, no info lines\n" +
             kDb + kHelp});
    t.push_back({"list", "stored runs with status, duration and final metrics",
                 "usage: frugal list [--status S] [--filter EXPR] [--limit K] [--json] [--db "
                 "FILE]\n"
                 "\n"
                 "The stored runs, newest first, with status, duration and final metrics.\n"
                 "\n"
                 "options:\n"
                 "  --status S           queued, running, finished, failed, cancelled or "
                 "interrupted\n"
                 "  --filter EXPR        e.g. 'method=mezo and lr<1e-3': run fields, config keys "
                 "(full or\n"
                 "                       last part), latest metrics, tag=T\n"
                 "  --limit K            at most K runs (default all)\n"
                 "  --json               the runs as JSON\n" +
                     kDb + kHelp});
    t.push_back({"show", "everything stored about one run",
                 "usage: frugal show RUN [--db FILE]\n"
                 "\n"
                 "Everything stored about a run (RUN: id, name or uuid prefix): status, "
                 "provenance,\n"
                 "latest metrics, artifacts, config, last log lines.\n"
                 "\n"
                 "options:\n"
                 "  --json               accepted; the output is text for now\n" +
                     kDb + kHelp});
    t.push_back({"replay", "rebuilds a zeroth-order run's weights from its trajectory",
                 "usage: frugal replay RUN --out DIR [--step N] [--device D] [--db FILE]\n"
                 "\n"
                 "Rebuilds a zeroth-order run's fine-tuned weights from the base model and the "
                 "run's\n"
                 "trajectory, bit for bit.\n"
                 "\n"
                 "options:\n"
                 "  --out DIR            where the weights go (required)\n"
                 "  --step N             the weights after step N (default: after the last)\n"
                 "  --device D           replay on cpu, cuda or cuda:N (default: the run's own device;\n"
                 "                       a CUDA run replays on the CPU to the same bytes)\n" +
                     kDb + kHelp});
    t.push_back({"landscape", "a loss-landscape slice and sharpness around a stored run's weights",
                 "usage: frugal landscape RUN [--step N] [--dims 1|2] [--points P] [KEY=VALUE...]\n"
                 "                        [--name NAME] [--tag TAG] [--print-config] [--quiet] [--db FILE]\n"
                 "\n"
                 "A landscape run (method = \"landscape\", a child of RUN) on one fixed batch of RUN's\n"
                 "task: a 2-D slice (51 x 51 on [-1, 1]) along filter-normalised random directions,\n"
                 "and the Hessian trace, eps-ball and SAM sharpness. A zeroth-order run is rebuilt\n"
                 "from its trajectory; a run that saved its model (save = true) is sliced around it.\n"
                 "\n"
                 "options:\n"
                 "  --step N             before step N of a zeroth-order run, along step N's direction z\n"
                 "  --dims D             1 or 2 (default 2)\n"
                 "  --points P           grid points per axis (default 51)\n"
                 "  KEY=VALUE            a [landscape] key (lo=-0.5 hi=0.5 sharpness_probes=0 ...)\n"
                 "  --print-config       print the landscape config and exit\n" +
                     kDb + kHelp});
    t.push_back({"compare", "the config keys that differ between runs, and their metrics",
                 "usage: frugal compare RUN RUN... [--all] [--db FILE]\n"
                 "\n"
                 "The config keys that differ between the runs, then final / min / max of every "
                 "metric.\n"
                 "\n"
                 "options:\n"
                 "  --all                every config key, not only those that differ\n" +
                     kDb + kHelp});
    t.push_back({"export", "runs' full raw metric series as CSV or JSON files",
                 "usage: frugal export RUN... --csv DIR|--json DIR [--db FILE]\n"
                 "\n"
                 "The full raw series of each run, one file per run.\n"
                 "\n"
                 "options:\n"
                 "  --csv DIR            one CSV file per run into DIR\n"
                 "  --json DIR           one JSON file per run (config, params, metrics) into "
                 "DIR\n" +
                     kDb + kHelp});
    t.push_back({"rm", "deletes stored runs",
                 "usage: frugal rm RUN... [--force] [--db FILE]\n"
                 "\n"
                 "Deletes the runs (id, uuid or name) from the experiment database. A run still\n"
                 "running is refused, naming its process.\n"
                 "\n"
                 "options:\n"
                 "  --force              cancel a running run first (SIGTERM), then delete it\n" +
                     kDb + kHelp});
    t.push_back({"merge", "imports the runs of another database (by uuid, idempotent)",
                 "usage: frugal merge OTHER.db [--db FILE]\n"
                 "\n"
                 "Imports the runs written elsewhere (cluster nodes) into the database; runs "
                 "already\n"
                 "there (same uuid) are skipped.\n"
                 "\n"
                 "options:\n" +
                     kDb + kHelp});
    return t;
}

}  // namespace

const std::vector<CommandUsage>& commandTable() {
    static const std::vector<CommandUsage> table = buildTable();
    return table;
}

const CommandUsage* findCommand(const std::string& name) {
    for (const auto& c : commandTable())
        if (c.name == name) return &c;
    return nullptr;
}

std::string nearestCommand(const std::string& name) {
    std::vector<std::string> names;
    for (const auto& c : commandTable()) names.push_back(c.name);
    return nearestWord(name, names, 2);
}

void printUsage(std::ostream& out) {
    out << "usage: frugal [--threads N] [--intra-op-threads M] [--quiet] [--verbose] "
           "[COMMAND [ARGS...]]\n"
           "       frugal COMMAND --help      (or frugal help COMMAND) the options of a command\n"
           "\n"
           "global options (before the command):\n"
           "  --threads N             threads for matrix products (default: one per core)\n"
           "  --intra-op-threads M    LibTorch OpenMP threads for other ops (default 1; with MKL\n"
           "                          inside LibTorch one pool runs both: max(N, M) threads)\n"
           "  --quiet, -q             warnings and errors only\n"
           "  --verbose, -v           log the runtime at start-up (LibTorch, BLAS, thread "
           "counts)\n"
           "  --help, -h              this text\n"
           "\n"
           "commands (none: gui, or headless with no display):\n";
    size_t width = 0;
    for (const auto& c : commandTable()) width = std::max(width, c.name.size());
    for (const auto& c : commandTable())
        out << "  " << c.name << std::string(width - c.name.size() + 2, ' ') << c.summary << "\n";
    out << "\n"
           "Runs are stored in --db FILE (default $XDG_DATA_HOME/frugal/runs.db).\n";
}

bool printCommandUsage(const std::string& command, std::ostream& out) {
    const CommandUsage* c = findCommand(command);
    if (!c) return false;
    out << c->usage;
    return true;
}

}  // namespace frugal::app
