"""The references people trust: Hugging Face's own classes and tokenizers against what the C++ tests
compare Frugal with.

usage: python tests/reference/check_transformers.py OUTDIR TOKENIZER_DIR VECTORS_DIR

* Every checkpoint make_checkpoints.py wrote in OUTDIR is loaded by transformers'
  AutoModelForCausalLM (LlamaForCausalLM, MistralForCausalLM, OPTForCausalLM, GPT2LMHeadModel) from
  its folder as it is on disk (config.json, safetensors, shards), in float32; its logits for every
  reference sequence must match reference.json (which test_transformer and test_cli hold Frugal's
  forward to) within 1e-4. So Frugal's logits are within 2e-4 of Hugging Face's on every family.
* The tokenizer.json files of TOKENIZER_DIR (gpt2-json/, llama/) loaded by Hugging Face's
  `tokenizers` give every committed reference encoding of VECTORS_DIR/{gpt2,llama}.jsonl
  (which test_tokenizer holds Frugal's tokenizer to), id for id.

Run with the project's virtual environment (.venv, scripts/install-deps). The last line is
"N passed, M failed"; the exit code is non-zero on any failure.
"""
import json
import os
import sys

from oracle_run import quiet_offline, run_checks

quiet_offline()

import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

TOL = 1e-4
ARCHITECTURES = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "opt": "OPTForCausalLM",
                 "gpt2": "GPT2LMHeadModel"}


def check_checkpoint(folder):
    ref = json.load(open(os.path.join(folder, "reference.json")))
    cfg = json.load(open(os.path.join(folder, "config.json")))
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    expected_class = ARCHITECTURES[cfg["model_type"]]
    if type(model).__name__ != expected_class:
        raise AssertionError(f"loaded as {type(model).__name__}, expected {expected_class}")
    worst = 0.0
    with torch.no_grad():
        for seq, logits in zip(ref["sequences"], ref["logits"]):
            out = model(torch.tensor([seq])).logits[0]
            want = torch.tensor(logits, dtype=torch.float32)
            if out.shape != want.shape:
                raise AssertionError(f"logits {tuple(out.shape)}, reference {tuple(want.shape)}")
            worst = max(worst, (out - want).abs().max().item())
    if not worst <= TOL:
        raise AssertionError(f"largest |HF - reference| = {worst:.3g} > {TOL}")
    return f"{expected_class}, {len(ref['sequences'])} sequences, largest |HF - reference| {worst:.2g}"


def check_vectors(tokenizer_file, vectors_file, use_bos_field):
    tok = Tokenizer.from_file(tokenizer_file)
    n = bad = 0
    first = None
    for line in open(vectors_file, encoding="utf-8"):
        if not line.strip():
            continue
        v = json.loads(line)
        n += 1
        ids = tok.encode(v["text"], add_special_tokens=v.get("bos", False) if use_bos_field else False).ids
        if ids != v["ids"]:
            bad += 1
            first = first or (v["text"][:60], v["ids"][:10], ids[:10])
    if n < 2000:
        raise AssertionError(f"{vectors_file}: only {n} vectors")
    if bad:
        raise AssertionError(f"{bad} of {n} encodings differ; first: {first}")
    return f"{n} encodings equal"


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    outdir, tokdir, vecdir = argv[1:]
    torch.set_num_threads(1)
    checks = []
    for case in sorted(os.listdir(outdir)):
        folder = os.path.join(outdir, case)
        if os.path.isfile(os.path.join(folder, "reference.json")):
            checks.append((f"transformers logits {case}", lambda f=folder: check_checkpoint(f)))
    if len(checks) < 8:
        print(f"FAIL: {outdir} holds {len(checks)} reference checkpoints; run make_checkpoints.py first")
        return 1
    checks.append(("tokenizers gpt2", lambda: check_vectors(os.path.join(tokdir, "gpt2-json", "tokenizer.json"),
                                                           os.path.join(vecdir, "gpt2.jsonl"), False)))
    checks.append(("tokenizers llama", lambda: check_vectors(os.path.join(tokdir, "llama", "tokenizer.json"),
                                                            os.path.join(vecdir, "llama.jsonl"), True)))
    return run_checks(checks)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
