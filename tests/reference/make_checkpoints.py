#!/usr/bin/env python3
"""Write random tiny checkpoints in Hugging Face on-disk format plus reference
logits computed by reference_model.py.

usage: .venv/bin/python tests/reference/make_checkpoints.py OUTDIR [CASE ...]

OUTDIR/<case>/config.json, model.safetensors (or model-0000k-of-0000K.safetensors
+ model.safetensors.index.json), reference.json.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
import reference_model as ref  # noqa: E402

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
TORCH_DTYPE_NAME = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}
SEQ_LENS = (7, 12, 3)


# ---------------------------------------------------------------- random init helpers

def W(*shape, std=0.08):
    return torch.randn(*shape) * std


def norm_w(n):
    return 1.0 + 0.2 * torch.randn(n)


def bias(n, std=0.05):
    return torch.randn(n) * std


# ---------------------------------------------------------------- configs + weights

def llama_config(model_type, vocab, hidden, layers, heads, kv_heads, inter, tie, theta, eps, dtype,
                 head_dim=None):
    arch = "MistralForCausalLM" if model_type == "mistral" else "LlamaForCausalLM"
    cfg = {
        "architectures": [arch],
        "model_type": model_type,
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": inter,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim or hidden // heads,
        "hidden_act": "silu",
        "max_position_embeddings": 128,
        "initializer_range": 0.02,
        "rms_norm_eps": eps,
        "rope_theta": theta,
        "rope_scaling": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "tie_word_embeddings": tie,
        "use_cache": True,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": TORCH_DTYPE_NAME[dtype],
        "transformers_version": "4.44.0",
    }
    if model_type == "llama":
        cfg["mlp_bias"] = False
        cfg["pretraining_tp"] = 1
    else:
        cfg["sliding_window"] = 4096
    return cfg


def llama_weights(cfg):
    V, H, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = ref.llama_head_dim(cfg)
    t = {"model.embed_tokens.weight": W(V, H, std=0.1)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        t[p + "input_layernorm.weight"] = norm_w(H)
        t[p + "self_attn.q_proj.weight"] = W(nh * hd, H, std=0.1)
        t[p + "self_attn.k_proj.weight"] = W(nkv * hd, H, std=0.1)
        t[p + "self_attn.v_proj.weight"] = W(nkv * hd, H, std=0.1)
        t[p + "self_attn.o_proj.weight"] = W(H, nh * hd)
        t[p + "post_attention_layernorm.weight"] = norm_w(H)
        t[p + "mlp.gate_proj.weight"] = W(I, H, std=0.1)
        t[p + "mlp.up_proj.weight"] = W(I, H, std=0.1)
        t[p + "mlp.down_proj.weight"] = W(H, I)
    t["model.norm.weight"] = norm_w(H)
    if not cfg["tie_word_embeddings"]:
        t["lm_head.weight"] = W(V, H, std=0.1)
    return t


def opt_config(vocab, hidden, layers, heads, ffn, pre, proj, dtype):
    return {
        "architectures": ["OPTForCausalLM"],
        "model_type": "opt",
        "vocab_size": vocab,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "ffn_dim": ffn,
        "max_position_embeddings": 64,
        "do_layer_norm_before": pre,
        "_remove_final_layer_norm": False,
        "word_embed_proj_dim": proj,
        "activation_function": "relu",
        "dropout": 0.1,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "layerdrop": 0.0,
        "init_std": 0.02,
        "enable_bias": True,
        "layer_norm_elementwise_affine": True,
        "tie_word_embeddings": True,
        "use_cache": True,
        "pad_token_id": 1,
        "bos_token_id": 2,
        "eos_token_id": 2,
        "prefix": "</s>",
        "torch_dtype": TORCH_DTYPE_NAME[dtype],
        "transformers_version": "4.44.0",
    }


def opt_weights(cfg):
    V, H, F_ = cfg["vocab_size"], cfg["hidden_size"], cfg["ffn_dim"]
    P = cfg["word_embed_proj_dim"]
    d = "model.decoder."
    t = {d + "embed_tokens.weight": W(V, P, std=0.1),
         d + "embed_positions.weight": W(cfg["max_position_embeddings"] + 2, H, std=0.1)}
    if P != H:
        t[d + "project_in.weight"] = W(H, P, std=0.15)
        t[d + "project_out.weight"] = W(P, H, std=0.15)
    for i in range(cfg["num_hidden_layers"]):
        p = d + "layers.%d." % i
        for n in ("q_proj", "k_proj", "v_proj"):
            t[p + "self_attn.%s.weight" % n] = W(H, H, std=0.1)
            t[p + "self_attn.%s.bias" % n] = bias(H)
        t[p + "self_attn.out_proj.weight"] = W(H, H)
        t[p + "self_attn.out_proj.bias"] = bias(H)
        t[p + "self_attn_layer_norm.weight"] = norm_w(H)
        t[p + "self_attn_layer_norm.bias"] = bias(H)
        t[p + "fc1.weight"] = W(F_, H, std=0.1)
        t[p + "fc1.bias"] = bias(F_)
        t[p + "fc2.weight"] = W(H, F_)
        t[p + "fc2.bias"] = bias(H)
        t[p + "final_layer_norm.weight"] = norm_w(H)
        t[p + "final_layer_norm.bias"] = bias(H)
    if cfg["do_layer_norm_before"]:
        t[d + "final_layer_norm.weight"] = norm_w(H)
        t[d + "final_layer_norm.bias"] = bias(H)
    return t


def gpt2_config(vocab, n_embd, n_layer, n_head, n_inner, dtype):
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": vocab,
        "n_positions": 64,
        "n_ctx": 64,
        "n_embd": n_embd,
        "n_layer": n_layer,
        "n_head": n_head,
        "n_inner": n_inner,
        "activation_function": "gelu_new",
        "resid_pdrop": 0.1,
        "embd_pdrop": 0.1,
        "attn_pdrop": 0.1,
        "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "tie_word_embeddings": True,
        "use_cache": True,
        "bos_token_id": vocab - 1,
        "eos_token_id": vocab - 1,
        "torch_dtype": TORCH_DTYPE_NAME[dtype],
        "transformers_version": "4.44.0",
    }


def gpt2_weights(cfg, prefix):
    V, H = cfg["vocab_size"], cfg["n_embd"]
    I = cfg["n_inner"] or 4 * H
    t = {"wte.weight": W(V, H, std=0.1), "wpe.weight": W(cfg["n_positions"], H, std=0.1)}
    for i in range(cfg["n_layer"]):
        p = "h.%d." % i
        t[p + "ln_1.weight"] = norm_w(H)
        t[p + "ln_1.bias"] = bias(H)
        t[p + "attn.c_attn.weight"] = W(H, 3 * H, std=0.1)   # Conv1D: [in, out]
        t[p + "attn.c_attn.bias"] = bias(3 * H)
        t[p + "attn.c_proj.weight"] = W(H, H)
        t[p + "attn.c_proj.bias"] = bias(H)
        t[p + "ln_2.weight"] = norm_w(H)
        t[p + "ln_2.bias"] = bias(H)
        t[p + "mlp.c_fc.weight"] = W(H, I, std=0.1)
        t[p + "mlp.c_fc.bias"] = bias(I)
        t[p + "mlp.c_proj.weight"] = W(I, H)
        t[p + "mlp.c_proj.bias"] = bias(H)
    t["ln_f.weight"] = norm_w(H)
    t["ln_f.bias"] = bias(H)
    if prefix:
        t = {"transformer." + k: v for k, v in t.items()}
    return t


# ---------------------------------------------------------------- cases

def _case(name, family, dtype, shards, seed, make_cfg, make_w):
    return {"name": name, "family": family, "dtype": dtype, "shards": shards, "seed": seed,
            "make_cfg": make_cfg, "make_w": make_w}


CASES = [
    _case("llama_gqa_untied_f32", "llama", "F32", 1, 1001,
          lambda: llama_config("llama", 112, 64, 2, 4, 2, 176, False, 10000.0, 1e-6, "F32"), llama_weights),
    _case("llama_gqa_tied_bf16_sharded", "llama", "BF16", 3, 1002,
          lambda: llama_config("llama", 128, 64, 3, 4, 2, 160, True, 500000.0, 1e-5, "BF16"), llama_weights),
    _case("llama_mha_f16", "llama", "F16", 1, 1003,
          lambda: llama_config("llama", 96, 64, 2, 4, 4, 128, False, 10000.0, 1e-6, "F16"), llama_weights),
    _case("mistral_gqa_f32", "llama", "F32", 1, 1004,
          lambda: llama_config("mistral", 104, 64, 2, 4, 1, 192, False, 1000000.0, 1e-5, "F32"), llama_weights),
    # head_dim set apart from hidden_size / heads (as in Mistral-Nemo): q/o are [nh*d, H]/[H, nh*d]
    _case("llama_headdim24_f32", "llama", "F32", 1, 1009,
          lambda: llama_config("llama", 100, 64, 2, 4, 2, 160, False, 10000.0, 1e-6, "F32",
                               head_dim=24), llama_weights),
    _case("opt_prenorm_f32", "opt", "F32", 1, 1005,
          lambda: opt_config(120, 64, 2, 4, 256, True, 64, "F32"), opt_weights),
    _case("opt_postnorm_proj_bf16_sharded", "opt", "BF16", 2, 1006,
          lambda: opt_config(100, 64, 3, 4, 128, False, 32, "BF16"), opt_weights),
    _case("gpt2_f32", "gpt2", "F32", 1, 1007,
          lambda: gpt2_config(110, 64, 2, 4, None, "F32"), lambda c: gpt2_weights(c, False)),
    _case("gpt2_prefixed_bf16_sharded", "gpt2", "BF16", 2, 1008,
          lambda: gpt2_config(128, 64, 3, 4, 96, "BF16"), lambda c: gpt2_weights(c, True)),
]


def fmt_float(x):
    """float32 value -> shortest text that round-trips float32 (<= 9 sig digits)."""
    return float("%.9g" % x)


def build_case(case):
    """Returns (config, tensors_in_storage_dtype, sequences, logits_list)."""
    torch.manual_seed(case["seed"])
    cfg = case["make_cfg"]()
    w32 = case["make_w"](cfg)
    tensors = {k: v.to(DTYPES[case["dtype"]]).contiguous() for k, v in w32.items()}
    V = cfg["vocab_size"]
    seqs = [torch.randint(0, V, (n,)).tolist() for n in SEQ_LENS]
    outs = [ref.logits(case["family"], cfg, tensors, torch.tensor(s)) for s in seqs]
    return cfg, tensors, seqs, outs


def write_case(outdir, case):
    cfg, tensors, seqs, outs = build_case(case)
    folder = os.path.join(outdir, case["name"])
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):  # drop stale weights from earlier runs
        if f.endswith(".safetensors") or f == "model.safetensors.index.json":
            os.remove(os.path.join(folder, f))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    st.save_checkpoint(tensors, folder, case["shards"])
    logits = [[[fmt_float(x) for x in row] for row in o.tolist()] for o in outs]
    doc = {"case": case["name"], "family": case["family"], "dtype": case["dtype"],
           "sequences": seqs, "logits": logits}
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    absmax = max(o.abs().max().item() for o in outs)
    std = torch.cat([o.reshape(-1) for o in outs]).std().item()
    return len(tensors), absmax, std


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    torch.set_num_threads(1)
    outdir = argv[1]
    only = set(argv[2:])
    os.makedirs(outdir, exist_ok=True)
    for case in CASES:
        if only and case["name"] not in only:
            continue
        t0 = time.time()
        n, absmax, std = write_case(outdir, case)
        print("%-32s family=%-5s dtype=%-4s shards=%d tensors=%3d seqs=%s logits: std=%.3f absmax=%.3f  (%.2fs)"
              % (case["name"], case["family"], case["dtype"], case["shards"], n,
                 list(SEQ_LENS), std, absmax, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
