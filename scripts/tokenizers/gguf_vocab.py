#!/usr/bin/env python3
"""Builds Frugal's GPT-2 and LLaMA tokenizer files from llama.cpp's vocab-only GGUF files.

llama.cpp ships `models/ggml-vocab-gpt-2.gguf` (GPT-2's 50,257 byte-level BPE tokens and 50,000
merges) and `models/ggml-vocab-llama-spm.gguf` (LLaMA-1/2's 32,000 SentencePiece pieces with their
scores and types); PyPI's llama-cpp-python sdist vendors both (scripts/fetch-data pins its version
and sha256). This script reads their metadata with a small GGUF reader (standard library only) and
writes:

  OUT/gpt2/vocab.json, OUT/gpt2/merges.txt    GPT-2's encoder.json / vocab.bpe layout
  OUT/gpt2-json/tokenizer.json                Hugging Face tokenizer.json (BPE, ByteLevel)
  OUT/llama/tokenizer.json                    Hugging Face LLaMA-2 tokenizer.json layout

The LLaMA merges are derived from the SentencePiece scores as Hugging Face's slow-to-fast converter
does: every split of a normal piece into two pieces of the vocabulary is a merge, ranked by the
merged piece's score (highest first), splits of one piece by (left id, right id).

Usage: gguf_vocab.py GPT2.gguf LLAMA_SPM.gguf OUT
"""
import json
import os
import struct
import sys

GGUF_MAGIC = b"GGUF"
# GGUF metadata value types: struct format of the scalar ones
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_BYTE = 1, 2, 3, 6


def die(message):
    print(f"gguf_vocab: {message}", file=sys.stderr)
    sys.exit(1)


class Reader:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            die(f"{self.path}: truncated at byte {self.pos} (wanted {n} more)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def scalar(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        n = self.scalar("<Q")
        raw = self.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            die(f"{self.path}: a string at byte {self.pos - n} is not UTF-8")

    def value(self, kind):
        if kind in SCALARS:
            return self.scalar(SCALARS[kind])
        if kind == STRING:
            return self.string()
        if kind == ARRAY:
            inner = self.scalar("<I")
            count = self.scalar("<Q")
            return [self.value(inner) for _ in range(count)]
        die(f"{self.path}: unknown metadata type {kind} at byte {self.pos}")


def read_metadata(path):
    r = Reader(path)
    if r.take(4) != GGUF_MAGIC:
        die(f"{path}: not a GGUF file (no 'GGUF' magic)")
    version = r.scalar("<I")
    if version not in (2, 3):
        die(f"{path}: GGUF version {version}; expected 2 or 3")
    r.scalar("<Q")  # tensor count: the vocab files hold none that we need
    kv_count = r.scalar("<Q")
    meta = {}
    for _ in range(kv_count):
        key = r.string()
        meta[key] = r.value(r.scalar("<I"))
    return meta


def read_vocab(path, model, *keys):
    """The tokenizer.ggml.KEY arrays of PATH, whose tokenizer.ggml.model must be MODEL."""
    meta = read_metadata(path)
    for key in ("model",) + keys:
        if f"tokenizer.ggml.{key}" not in meta:
            die(f"{path}: metadata key tokenizer.ggml.{key} missing")
    if meta["tokenizer.ggml.model"] != model:
        die(f"{path}: tokenizer.ggml.model is {meta['tokenizer.ggml.model']!r}, expected {model!r}")
    return [meta[f"tokenizer.ggml.{key}"] for key in keys]


def write_atomic(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def tokenizer_json(header, model, tokens, merges):
    """A tokenizer.json with the vocab in id order, one entry a line (the layout of the Hub's)."""
    d = json.dumps
    lines = ["{"]
    lines += [f"  {d(k)}: {d(v, ensure_ascii=False)}," for k, v in header.items()]
    lines.append('  "model": {')
    lines += [f"    {d(k)}: {d(v, ensure_ascii=False)}," for k, v in model.items()]
    lines.append('    "vocab": {')
    lines += [f"      {d(t, ensure_ascii=False)}: {i}{',' if i + 1 < len(tokens) else ''}"
              for i, t in enumerate(tokens)]
    lines.append("    },")
    lines.append('    "merges": [')
    lines += [f"      {d(m, ensure_ascii=False)}{',' if k + 1 < len(merges) else ''}"
              for k, m in enumerate(merges)]
    lines += ["    ]", "  }", "}"]
    return "\n".join(lines) + "\n"


def gpt2(path, out):
    tokens, merges = read_vocab(path, "gpt2", "tokens", "merges")
    if len(tokens) != 50257 or len(merges) != 50000:
        die(f"{path}: {len(tokens)} tokens and {len(merges)} merges; GPT-2 has 50257 and 50000")
    ids = {t: i for i, t in enumerate(tokens)}
    if len(ids) != len(tokens):
        die(f"{path}: a token appears twice")
    for m in merges:
        parts = m.split(" ")
        if len(parts) != 2 or any(p not in ids for p in parts + [parts[0] + parts[1]]):
            die(f"{path}: merge '{m}' is not two tokens whose join is a token")
    eot = "<|endoftext|>"
    if tokens[50256] != eot:
        die(f"{path}: id 50256 is {tokens[50256]!r}, expected {eot}")
    # GPT-2's own encoder.json is json.dumps(encoder) with the default separators and ASCII escapes
    write_atomic(os.path.join(out, "gpt2", "vocab.json"), json.dumps(ids))
    write_atomic(os.path.join(out, "gpt2", "merges.txt"), "#version: 0.2\n" + "\n".join(merges) + "\n")

    def byte_level(**extra):
        return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                "use_regex": True, **extra}
    header = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 50256, "content": eot, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": byte_level(),
        "post_processor": byte_level(trim_offsets=False),
        "decoder": byte_level(),
    }
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
             "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False}
    write_atomic(os.path.join(out, "gpt2-json", "tokenizer.json"),
                 tokenizer_json(header, model, tokens, merges))
    print(f"gguf_vocab: GPT-2: {len(tokens)} tokens, {len(merges)} merges")


def llama(path, out):
    tokens, scores, types = read_vocab(path, "llama", "tokens", "scores", "token_type")
    if not (len(tokens) == len(scores) == len(types) == 32000):
        die(f"{path}: {len(tokens)} tokens, {len(scores)} scores, {len(types)} types; expected 32000")
    specials = ["<unk>", "<s>", "</s>"]
    for i, s in enumerate(specials):
        if tokens[i] != s:
            die(f"{path}: id {i} is {tokens[i]!r}, expected {s}")
    for b in range(256):
        if tokens[3 + b] != f"<0x{b:02X}>" or types[3 + b] != TOKEN_BYTE:
            die(f"{path}: id {3 + b} is {tokens[3 + b]!r}, expected the byte piece <0x{b:02X}>")
    ids = {t: i for i, t in enumerate(tokens)}
    if len(ids) != len(tokens):
        die(f"{path}: a piece appears twice")
    # Merges as Hugging Face's SentencePiece extractor derives them from the scores.
    merges = []
    for piece, i in ids.items():
        if types[i] != TOKEN_NORMAL:
            continue
        local = [(piece[:k], piece[k:]) for k in range(1, len(piece))
                 if piece[:k] in ids and piece[k:] in ids
                 and types[ids[piece[:k]]] == TOKEN_NORMAL and types[ids[piece[k:]]] == TOKEN_NORMAL]
        local.sort(key=lambda lr: (ids[lr[0]], ids[lr[1]]))
        merges += [(l, r, scores[i]) for l, r in local]
    merges.sort(key=lambda m: m[2], reverse=True)  # stable: ties keep the id order above
    merge_strings = []
    for l, r, _ in merges:
        if " " in l or " " in r:
            die(f"{path}: merge '{l}' + '{r}' has a space in a piece")
        merge_strings.append(f"{l} {r}")

    def added(i, content):
        return {"id": i, "content": content, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": False, "special": True}
    header = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(i, s) for i, s in enumerate(specials)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    }
    model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True}
    write_atomic(os.path.join(out, "llama", "tokenizer.json"),
                 tokenizer_json(header, model, tokens, merge_strings))
    print(f"gguf_vocab: LLaMA: {len(tokens)} pieces, {len(merge_strings)} merges from the scores")


def main():
    if len(sys.argv) != 4:
        die("usage: gguf_vocab.py ggml-vocab-gpt-2.gguf ggml-vocab-llama-spm.gguf OUT")
    gpt2(sys.argv[1], sys.argv[3])
    llama(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
