#!/usr/bin/env python3
"""LoRA through Hugging Face's `peft`, the reference for Frugal's LoRA forward (test_peft).

usage: .venv/bin/python tests/reference/make_peft_lora.py OUTDIR

For each float32 checkpoint that make_checkpoints.py wrote in OUTDIR (one per family: LLaMA,
Mistral, OPT, GPT-2), `transformers` loads it, `peft` wraps it with a LoraConfig (rank 4, alpha 8,
no dropout) on the attention and MLP projections that Frugal calls q, v and down (GPT-2: its fused
c_attn, "qkv", and mlp.c_proj), and every lora_A and lora_B is set to seeded random values (peft
starts B at zero, which would test nothing). Written to OUTDIR/<case>/peft-lora/:
  adapter_model.safetensors, adapter_config.json  peft's own files (save_pretrained)
  logits.json  {"frugal_modules", "rank", "alpha", "sequences", "logits"}: peft's logits for the
               checkpoint's reference sequences, each sequence alone, in float32
The last line is "N passed, M failed" (a case passes when written); exit code non-zero on failure.
"""
import json
import os
import sys

from oracle_run import quiet_offline, run_checks

quiet_offline()

import torch  # noqa: E402

try:
    import peft  # noqa: E402
    import transformers  # noqa: E402
except ImportError as e:
    sys.exit(f"make_peft_lora.py: {e.name} is not installed in {sys.prefix}; run scripts/install-deps")

RANK, ALPHA = 4, 8
CASES = {
    # case: (peft target_modules, Frugal's lora_modules)
    "llama_gqa_untied_f32": (["q_proj", "v_proj", "down_proj"], ["q", "v", "down"]),
    "mistral_gqa_f32": (["q_proj", "v_proj", "down_proj"], ["q", "v", "down"]),
    "opt_prenorm_f32": (["q_proj", "v_proj", "fc2"], ["q", "v", "down"]),
    "gpt2_f32": (r".*\.(attn\.c_attn|mlp\.c_proj)$", ["qkv", "down"]),
}


def write_case(outdir, case, seed):
    folder = os.path.join(outdir, case)
    ref = json.load(open(os.path.join(folder, "reference.json")))
    targets, frugal_modules = CASES[case]
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    config = peft.LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=targets,
                             fan_in_fan_out=case.startswith("gpt2"), bias="none")
    model = peft.get_peft_model(model, config)
    g = torch.Generator().manual_seed(seed)
    n = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
                n += 1
    if n == 0:
        raise AssertionError("peft attached no LoRA matrices")
    model.eval()
    out = os.path.join(folder, "peft-lora")
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    logits = []
    with torch.no_grad():
        for seq in ref["sequences"]:
            logits.append([[float("%.9g" % x) for x in row] for row in model(torch.tensor([seq])).logits[0].tolist()])
    with open(os.path.join(out, "logits.json"), "w") as f:
        json.dump({"case": case, "frugal_modules": frugal_modules, "rank": RANK, "alpha": ALPHA,
                   "sequences": ref["sequences"], "logits": logits}, f, separators=(",", ":"))
    return f"{n} LoRA matrices, peft {peft.__version__}"


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    torch.set_num_threads(1)
    return run_checks([(case, lambda c=case, i=i: write_case(argv[1], c, 2000 + i))
                       for i, case in enumerate(CASES)])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
