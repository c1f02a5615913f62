"""GGUF in, Hugging Face folder out, held to the references people trust.

usage: python tests/reference/check_gguf.py FRUGAL OUTDIR TOKENIZER_DIR VECTORS_DIR

For every tensor type Frugal reads (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K) the script
writes a small LLaMA-architecture GGUF file with the `gguf` package (the writer llama.cpp's own
converter uses): 2 layers, hidden 256, 4 query heads over 2 key/value heads, MLP 512, every
matrix in that type, a byte-level BPE vocabulary of 1,024 tokens cut from GPT-2's. Q8_0, Q4_0 and
Q4_1 come from gguf's quantizer run on normal weights; the K-quants, which gguf cannot quantize,
from random blocks whose scales are set to a sensible size (every bit pattern of a block is a
valid weight). Then `FRUGAL convert` writes the Hugging Face folder and:

* every weight in model.safetensors equals gguf.quants.dequantize of the file's tensor (llama.cpp's
  q/k row permutation undone as Hugging Face's GGUF loader undoes it) within 1e-6 relative;
* `FRUGAL inspect --logits` on 20 prompts gives the logits of transformers'
  AutoModelForCausalLM.from_pretrained(..., gguf_file=...) within 1e-4;
* `FRUGAL tokenize` of the GGUF file gives the ids of transformers' own GGUF tokenizer on the
  committed tokenizer test strings (VECTORS_DIR/gpt2.jsonl) that the cut vocabulary covers.

A GPT-2-architecture file (Q8_0 matrices, F32 norms and biases; Conv1D weights transposed back)
gets the same logits check. Run with the project's virtual environment. The last line is
"N passed, M failed"; the exit code is non-zero on any failure.
"""
import json
import os
import subprocess
import sys

from oracle_run import quiet_offline, run_checks

quiet_offline()
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as Q  # noqa: E402
from gguf import quants  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

FRUGAL, OUT, TOKENIZER_DIR, VECTORS = sys.argv[1:5]
LOGIT_TOL = 1e-4
HIDDEN, HEADS, KV_HEADS, MLP, LAYERS, CTX = 256, 4, 2, 512, 2, 64
VOCAB = 1024
GPT2_CTX = 1024
TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K"]
# K-quant blocks: byte offsets of the f16 scale fields and the value each is set to
K_SCALES = {"Q4_K": [(0, 1e-4), (2, 8e-4)], "Q5_K": [(0, 5e-5), (2, 8e-4)], "Q6_K": [(208, 2.5e-5)]}


def small_vocabulary():
    """GPT-2's first 1,023 tokens (256 bytes, then merges in rank order) and <|endoftext|>."""
    t = json.load(open(os.path.join(TOKENIZER_DIR, "gpt2-json", "tokenizer.json")))
    by_id = {i: s for s, i in t["model"]["vocab"].items()}
    tokens = [by_id[i] for i in range(VOCAB - 1)] + ["<|endoftext|>"]
    kept = set(tokens)
    merges = []
    for m in t["model"]["merges"]:
        a, b = m.split(" ") if isinstance(m, str) else m
        if a in kept and b in kept and a + b in kept:
            merges.append(f"{a} {b}")
    types = [1] * (VOCAB - 1) + [3]
    return tokens, types, merges


def matrix(rng, qtype, rows, cols):
    """A [rows, cols] weight stored as QTYPE: (array for GGUFWriter.add_tensor, raw_dtype)."""
    q = Q[qtype]
    if qtype == "F32":
        return (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32), None
    if qtype == "F16":
        return (rng.standard_normal((rows, cols)) * 0.05).astype(np.float16), None
    if qtype in ("BF16", "Q8_0", "Q4_0", "Q4_1"):
        data = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
        return quants.quantize(data, q), q
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[q]
    blocks = rng.integers(0, 256, size=(rows, cols // block_elems, block_bytes), dtype=np.uint8)
    for offset, scale in K_SCALES[qtype]:
        values = (scale * rng.uniform(0.5, 1.5, size=blocks.shape[:2])).astype(np.float16)
        blocks[:, :, offset:offset + 2] = values.view(np.uint8).reshape(*blocks.shape[:2], 2)
    return blocks.reshape(rows, -1), q


def add(writer, name, rng, qtype, rows, cols):
    array, raw = matrix(rng, qtype, rows, cols)
    writer.add_tensor(name, array, raw_dtype=raw)


def add_tokenizer(writer, pre="gpt-2"):
    tokens, types, merges = small_vocabulary()
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(VOCAB - 1)
    writer.add_eos_token_id(VOCAB - 1)
    writer.add_add_bos_token(False)


def write_llama(path, qtype, seed):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, "llama")
    w.add_block_count(LAYERS)
    w.add_context_length(CTX)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(MLP)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(HIDDEN // HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(VOCAB)
    add_tokenizer(w)
    kv = KV_HEADS * HIDDEN // HEADS
    add(w, "token_embd.weight", rng, qtype, VOCAB, HIDDEN)
    for i in range(LAYERS):
        w.add_tensor(f"blk.{i}.attn_norm.weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32))
        add(w, f"blk.{i}.attn_q.weight", rng, qtype, HIDDEN, HIDDEN)
        add(w, f"blk.{i}.attn_k.weight", rng, qtype, kv, HIDDEN)
        add(w, f"blk.{i}.attn_v.weight", rng, qtype, kv, HIDDEN)
        add(w, f"blk.{i}.attn_output.weight", rng, qtype, HIDDEN, HIDDEN)
        add(w, f"blk.{i}.ffn_gate.weight", rng, qtype, MLP, HIDDEN)
        add(w, f"blk.{i}.ffn_up.weight", rng, qtype, MLP, HIDDEN)
        add(w, f"blk.{i}.ffn_down.weight", rng, qtype, HIDDEN, MLP)
    w.add_tensor("output_norm.weight", np.ones(HIDDEN, dtype=np.float32))
    add(w, "output.weight", rng, qtype, VOCAB, HIDDEN)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_gpt2(path, seed):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, "gpt2")
    w.add_block_count(LAYERS)
    # 1,024 positions: transformers' GGUF loader gives GPT-2 the context length as n_ctx but builds
    # the position table from n_positions (default 1,024), so any other length fails to load there
    w.add_context_length(GPT2_CTX)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(4 * HIDDEN)
    w.add_head_count(HEADS)
    w.add_layer_norm_eps(1e-5)
    add_tokenizer(w)

    def vec(n, scale=0.02, base=0.0):
        return (base + scale * rng.standard_normal(n)).astype(np.float32)
    add(w, "token_embd.weight", rng, "Q8_0", VOCAB, HIDDEN)
    w.add_tensor("position_embd.weight", (0.02 * rng.standard_normal((GPT2_CTX, HIDDEN))).astype(np.float32))
    for i in range(LAYERS):
        w.add_tensor(f"blk.{i}.attn_norm.weight", vec(HIDDEN, 0.1, 1.0))
        w.add_tensor(f"blk.{i}.attn_norm.bias", vec(HIDDEN))
        add(w, f"blk.{i}.attn_qkv.weight", rng, "Q8_0", 3 * HIDDEN, HIDDEN)
        w.add_tensor(f"blk.{i}.attn_qkv.bias", vec(3 * HIDDEN))
        add(w, f"blk.{i}.attn_output.weight", rng, "Q8_0", HIDDEN, HIDDEN)
        w.add_tensor(f"blk.{i}.attn_output.bias", vec(HIDDEN))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", vec(HIDDEN, 0.1, 1.0))
        w.add_tensor(f"blk.{i}.ffn_norm.bias", vec(HIDDEN))
        add(w, f"blk.{i}.ffn_up.weight", rng, "Q8_0", 4 * HIDDEN, HIDDEN)
        w.add_tensor(f"blk.{i}.ffn_up.bias", vec(4 * HIDDEN))
        add(w, f"blk.{i}.ffn_down.weight", rng, "Q8_0", HIDDEN, 4 * HIDDEN)
        w.add_tensor(f"blk.{i}.ffn_down.bias", vec(HIDDEN))
    w.add_tensor("output_norm.weight", vec(HIDDEN, 0.1, 1.0))
    w.add_tensor("output_norm.bias", vec(HIDDEN))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def frugal(*args):
    r = subprocess.run([FRUGAL, "--quiet", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"frugal {' '.join(args[:2])}: exit {r.returncode}: {r.stderr.strip()[-400:]}")
    return r.stdout


def prompts(seed):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, VOCAB, size=n).tolist() for n in rng.integers(1, CTX, size=20)]


def compare_logits(path, folder, seed):
    d, f = os.path.split(path)
    model = transformers.AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    model.eval()
    seqs = prompts(seed)
    lines = frugal("inspect", folder, "--logits", ";".join(",".join(map(str, s)) for s in seqs)).splitlines()
    if len(lines) != len(seqs):
        raise AssertionError(f"{len(lines)} logit lines for {len(seqs)} prompts")
    worst = 0.0
    with torch.no_grad():
        for s, line in zip(seqs, lines):
            want = model(torch.tensor([s])).logits[0, -1]
            got = torch.tensor(json.loads(line))
            worst = max(worst, (want - got).abs().max().item())
    if not worst <= LOGIT_TOL:
        raise AssertionError(f"logits differ by {worst:.3g} > {LOGIT_TOL}")
    return worst


def unpermute(w, heads):
    return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF_NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
            "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
            "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm",
            "ffn_norm": "post_attention_layernorm"}


def compare_weights(path, folder):
    reader = gguf.GGUFReader(path)
    mine = load_file(os.path.join(folder, "model.safetensors"))
    worst = 0.0
    for t in reader.tensors:
        w = quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w = w.reshape([int(n) for n in reversed(t.shape)])
        if t.name == "token_embd.weight":
            name = "model.embed_tokens.weight"
        elif t.name == "output.weight":
            name = "lm_head.weight"
        elif t.name == "output_norm.weight":
            name = "model.norm.weight"
        else:
            _, layer, kind, _ = t.name.split(".")
            name = f"model.layers.{layer}.{HF_NAMES[kind]}.weight"
            if kind == "attn_q":
                w = unpermute(w, HEADS)
            elif kind == "attn_k":
                w = unpermute(w, KV_HEADS)
        got = mine[name]
        if got.shape != w.shape:
            raise AssertionError(f"{name}: shape {got.shape}, gguf {w.shape}")
        scale = max(float(np.abs(w).max()), 1e-30)
        worst = max(worst, float(np.abs(got - w).max()) / scale)
    if not worst <= 1e-6:
        raise AssertionError(f"weights differ from gguf's dequantization by {worst:.3g} relative")
    return worst


def check_type(qtype, seed):
    def check():
        path = os.path.join(OUT, f"tiny-llama-{qtype}.gguf")
        folder = os.path.join(OUT, f"tiny-llama-{qtype}")
        write_llama(path, qtype, seed)
        frugal("convert", path, "--out", folder)
        wdiff = compare_weights(path, folder)
        ldiff = compare_logits(path, folder, seed)
        return f"weights within {wdiff:.2g} relative of gguf's dequantize, logits within {ldiff:.2g} of transformers"
    return check


def check_gpt2():
    path = os.path.join(OUT, "tiny-gpt2-Q8_0.gguf")
    folder = os.path.join(OUT, "tiny-gpt2-Q8_0")
    write_gpt2(path, 99)
    frugal("convert", path, "--out", folder)
    return f"logits within {compare_logits(path, folder, 99):.2g} of transformers"


def check_tokenizer():
    path = os.path.join(OUT, "tiny-llama-F32.gguf")
    if not os.path.exists(path):
        write_llama(path, "F32", 1)
    d, f = os.path.split(path)
    tok = transformers.AutoTokenizer.from_pretrained(d, gguf_file=f)
    texts = [json.loads(line)["text"] for line in open(os.path.join(VECTORS, "gpt2.jsonl"), encoding="utf-8")]
    texts = [t for t in texts if t and "<|endoftext|>" not in t]
    listing = os.path.join(OUT, "texts.jsonl")
    with open(listing, "w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps(text) + "\n")
    lines = frugal("tokenize", "--tokenizer", path, "--no-special", "--texts", listing).splitlines()
    if len(lines) != len(texts):
        raise AssertionError(f"{len(lines)} id lines for {len(texts)} texts")
    compared = 0
    for text, line in zip(texts, lines):
        want = tok(text, add_special_tokens=False)["input_ids"]
        got = json.loads(line)
        if got != want:
            raise AssertionError(f"{text!r}: frugal {got}, transformers {want}")
        compared += 1
    return f"{compared} strings, ids equal (the GGUF file itself as --tokenizer)"


def main():
    os.makedirs(OUT, exist_ok=True)
    os.environ["FRUGAL_CACHE_DIR"] = os.path.join(OUT, "cache")
    checks = [(f"llama {t}", check_type(t, 10 + k)) for k, t in enumerate(TYPES)]
    checks.append(("gpt2 Q8_0", check_gpt2))
    checks.append(("tokenizer ids", check_tokenizer))
    return run_checks(checks)


if __name__ == "__main__":
    sys.exit(main())
