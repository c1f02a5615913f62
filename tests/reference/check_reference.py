#!/usr/bin/env python3
"""Self-checks of the reference implementation and the safetensors writer.

usage: .venv/bin/python tests/reference/check_reference.py [OUTDIR]

With OUTDIR (written by make_checkpoints.py) the on-disk checkpoints are also
re-read and re-checked against their reference.json. Exits non-zero on any
failure; the last line is "N passed, M failed".
"""
import json
import math
import os
import struct
import sys
import tempfile
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
import reference_model as ref  # noqa: E402
import make_checkpoints as mk  # noqa: E402

TOL = 1e-4
RESULTS = []


def check(name):
    def deco(fn):
        def run():
            try:
                fn()
                RESULTS.append((name, True, ""))
                print("PASS %s" % name)
            except Exception as e:  # noqa: BLE001
                RESULTS.append((name, False, str(e)))
                print("FAIL %s: %s" % (name, e))
                traceback.print_exc(limit=3)
        run.__name__ = name
        CHECKS.append(run)
        return run
    return deco


CHECKS = []


def assert_close(a, b, tol=TOL, what=""):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape:
        raise AssertionError("%s shape %s vs %s" % (what, tuple(a.shape), tuple(b.shape)))
    d = (a - b).abs().max().item() if a.numel() else 0.0
    if not d <= tol:
        raise AssertionError("%s max abs diff %.3g > %.1g" % (what, d, tol))


def bits_equal(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bool((st.tensor_bytes(a) == st.tensor_bytes(b)))


def cases_built():
    if not hasattr(cases_built, "cache"):
        cases_built.cache = {c["name"]: (c,) + mk.build_case(c) for c in mk.CASES}
    return cases_built.cache


# ---------------------------------------------------------------- safetensors

@check("safetensors_known_bytes")
def _():
    buf = st.serialize({"a": torch.tensor([1.0, 2.0])})
    (n,) = struct.unpack("<Q", buf[:8])
    assert (8 + n) % 8 == 0, "data not 8-byte aligned"
    hdr = json.loads(buf[8:8 + n].decode())
    assert hdr["a"] == {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, hdr
    assert hdr["__metadata__"] == {"format": "pt"}
    assert buf[8 + n:] == bytes.fromhex("0000803f00000040"), buf[8 + n:].hex()
    # bf16 1.0 = 0x3f80, f16 1.0 = 0x3c00, little endian
    b2 = st.serialize({"x": torch.tensor([1.0, -2.0], dtype=torch.bfloat16)})
    assert b2[-4:] == bytes.fromhex("803f00c0"), b2[-4:].hex()
    b3 = st.serialize({"x": torch.tensor([1.0], dtype=torch.float16)})
    assert b3[-2:] == bytes.fromhex("003c"), b3[-2:].hex()


@check("safetensors_roundtrip_all_dtypes_alignment")
def _():
    g = torch.Generator().manual_seed(5)
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        for k in range(1, 9):  # different name lengths -> different padding
            t = {("w" * k): torch.randn(3, k, generator=g).to(dt),
                 "s": torch.randn((), generator=g).to(dt),
                 "e": torch.empty(0, 4, dtype=dt),
                 "odd": torch.randn(5, generator=g).to(dt)}
            buf = st.serialize(t)
            (n,) = struct.unpack("<Q", buf[:8])
            assert (8 + n) % 8 == 0
            assert buf[8:8 + n].decode().rstrip(" ").endswith("}")
            back = st.load_bytes(buf)
            assert set(back) == set(t)
            for name in t:
                assert bits_equal(back[name], t[name]), (dt, name)
    # special values survive bit-exactly
    sp = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-40, 65504.0])
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        x = sp.to(dt)
        assert bits_equal(st.load_bytes(st.serialize({"x": x}))["x"], x)


@check("safetensors_sharded_vs_single_roundtrip")
def _():
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        for k in (1, 2, 3):
            with tempfile.TemporaryDirectory() as d:
                st.save_checkpoint(tensors, d, k)
                files = sorted(os.listdir(d))
                if k == 1:
                    assert files == ["model.safetensors"], files
                else:
                    assert files == sorted(st.shard_names(k) + ["model.safetensors.index.json"]), files
                    idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
                    total = sum(t.numel() * t.element_size() for t in tensors.values())
                    assert idx["metadata"]["total_size"] == total
                    assert set(idx["weight_map"]) == set(tensors)
                    for f in st.shard_names(k):
                        part = st.load_file(os.path.join(d, f))
                        assert part, "empty shard"
                        assert all(idx["weight_map"][n] == f for n in part)
                back = st.load_checkpoint(d)
                assert set(back) == set(tensors), name
                for n in tensors:
                    assert bits_equal(back[n], tensors[n]), (name, k, n)


# ---------------------------------------------------------------- forward properties

@check("batched_equals_single_and_causal_prefix")
def _():
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        V = cfg["vocab_size"]
        g = torch.Generator().manual_seed(7)
        ids = torch.randint(0, V, (3, 10), generator=g)
        with torch.no_grad():
            full = ref.batched_logits(c["family"], cfg, tensors, ids)
        assert full.shape == (3, 10, V)
        for b in range(3):
            assert_close(full[b], ref.logits(c["family"], cfg, tensors, ids[b]), 1e-5, name + " batch row")
            for n in (1, 4, 9):
                assert_close(ref.logits(c["family"], cfg, tensors, ids[b, :n]), full[b, :n], 1e-5,
                             "%s prefix %d" % (name, n))


@check("position_sensitivity_and_nontrivial_attention")
def _():
    # swapping two earlier tokens must change the logits at the last position
    # (positions are encoded), and later tokens must depend on earlier ones.
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        s = torch.tensor(seqs[1])
        s2 = s.clone()
        s2[0], s2[1] = s[1], s[0]
        assert s[0] != s[1]
        a = ref.logits(c["family"], cfg, tensors, s)
        b = ref.logits(c["family"], cfg, tensors, s2)
        assert (a[-1] - b[-1]).abs().max() > 1e-3, name + ": order-insensitive"
        one = ref.logits(c["family"], cfg, tensors, s[-1:])
        assert (a[-1] - one[0]).abs().max() > 1e-3, name + ": context ignored"
        assert torch.isfinite(a).all()


def gqa_to_mha(cfg, tensors):
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = ref.llama_head_dim(cfg)
    rep = nh // nkv
    cfg2 = dict(cfg, num_key_value_heads=nh)
    t2 = dict(tensors)
    for n, v in tensors.items():
        if n.endswith("k_proj.weight") or n.endswith("v_proj.weight"):
            # kv head j serves q heads j*rep .. j*rep+rep-1
            t2[n] = v.view(nkv, hd, -1).repeat_interleave(rep, dim=0).reshape(nh * hd, -1)
    return cfg2, t2


@check("gqa_equals_expanded_mha")
def _():
    n_done = 0
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        if c["family"] != "llama" or cfg["num_key_value_heads"] == cfg["num_attention_heads"]:
            continue
        cfg2, t2 = gqa_to_mha(cfg, tensors)
        for s in seqs:
            assert_close(ref.logits("llama", cfg2, t2, torch.tensor(s)),
                         ref.logits("llama", cfg, tensors, torch.tensor(s)), 1e-5, name)
        n_done += 1
        # and a *wrong* sharing (tile instead of interleave) must differ
        nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        if nkv == 1:  # MQA: tiling and interleaving coincide
            continue
        hd = ref.llama_head_dim(cfg)
        t3 = dict(tensors)
        for n, v in tensors.items():
            if n.endswith("k_proj.weight") or n.endswith("v_proj.weight"):
                t3[n] = v.view(nkv, hd, -1).repeat(nh // nkv, 1, 1).reshape(nh * hd, -1)
        d = (ref.logits("llama", cfg2, t3, torch.tensor(seqs[1])) -
             ref.logits("llama", cfg, tensors, torch.tensor(seqs[1]))).abs().max()
        assert d > 1e-3, "tiled kv heads indistinguishable from interleaved"
    assert n_done >= 2


# ---------------------------------------------------------------- second formulations

def llama_meta_logits(cfg, tensors, ids):
    """Meta/original-LLaMA formulation in float64: interleaved-pair complex
    RoPE on un-permuted q/k weights, explicit loops over heads and queries."""
    w = {k: v.double() for k, v in tensors.items()}
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    H = cfg["hidden_size"]
    hd = ref.llama_head_dim(cfg)
    eps = cfg["rms_norm_eps"]
    T = len(ids)

    def unpermute(wt, n_heads):
        # inverse of HF convert_llama_weights_to_hf.permute
        return wt.view(n_heads, 2, hd // 2, H).transpose(1, 2).reshape(n_heads * hd, H)

    def rms(x, g):
        return g * x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)

    freqs = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64)[: hd // 2] / hd))
    angles = torch.outer(torch.arange(T, dtype=torch.float64), freqs)
    cis = torch.polar(torch.ones_like(angles), angles)           # [T, hd/2]

    def rope(x):  # x: [T, n, hd] interleaved pairs
        xc = torch.view_as_complex(x.reshape(T, x.shape[1], hd // 2, 2).contiguous())
        return torch.view_as_real(xc * cis[:, None, :]).reshape(T, x.shape[1], hd)

    h = w["model.embed_tokens.weight"][torch.tensor(ids)]
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        x = rms(h, w[p + "input_layernorm.weight"])
        q = rope((x @ unpermute(w[p + "self_attn.q_proj.weight"], nh).T).view(T, nh, hd))
        k = rope((x @ unpermute(w[p + "self_attn.k_proj.weight"], nkv).T).view(T, nkv, hd))
        v = (x @ w[p + "self_attn.v_proj.weight"].T).view(T, nkv, hd)
        out = torch.zeros(T, nh, hd, dtype=torch.float64)
        for hh in range(nh):
            kv = hh // (nh // nkv)
            for t in range(T):
                sc = torch.stack([(q[t, hh] * k[s, kv]).sum() / math.sqrt(hd) for s in range(t + 1)])
                e = torch.exp(sc - sc.max())
                pr = e / e.sum()
                out[t, hh] = (pr[:, None] * v[: t + 1, kv]).sum(0)
        h = h + out.reshape(T, nh * hd) @ w[p + "self_attn.o_proj.weight"].T
        x = rms(h, w[p + "post_attention_layernorm.weight"])
        g = x @ w[p + "mlp.gate_proj.weight"].T
        m = (g / (1.0 + torch.exp(-g))) * (x @ w[p + "mlp.up_proj.weight"].T)
        h = h + m @ w[p + "mlp.down_proj.weight"].T
    h = rms(h, w["model.norm.weight"])
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return h @ head.T


@check("llama_vs_meta_complex_rope_loops")
def _():
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        if c["family"] != "llama":
            continue
        for s in seqs:
            assert_close(ref.logits("llama", cfg, tensors, torch.tensor(s)), llama_meta_logits(cfg, tensors, s),
                         TOL, name)


def mha_module(H, nh, wq, bq, wk, bk, wv, bv, wo, bo, scale_q=None):
    m = nn.MultiheadAttention(H, nh, bias=True, batch_first=True).double().eval()
    with torch.no_grad():
        m.in_proj_weight.copy_(torch.cat([wq, wk, wv], 0))
        m.in_proj_bias.copy_(torch.cat([bq, bk, bv], 0))
        m.out_proj.weight.copy_(wo)
        m.out_proj.bias.copy_(bo)
    return m


def run_mha(m, x):
    T = x.shape[1]
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)   # True = masked
    return m(x, x, x, attn_mask=mask, need_weights=False)[0]


def opt_modules_logits(cfg, tensors, ids):
    """OPT via torch.nn modules (MultiheadAttention, LayerNorm, Linear), float64."""
    w = {k: v.double() for k, v in tensors.items()}
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d = "model.decoder."
    pre = cfg["do_layer_norm_before"]

    def ln(prefix):
        m = nn.LayerNorm(H, eps=1e-5).double()
        with torch.no_grad():
            m.weight.copy_(w[prefix + ".weight"])
            m.bias.copy_(w[prefix + ".bias"])
        return m

    ids = torch.tensor(ids)[None]
    x = nn.functional.embedding(ids, w[d + "embed_tokens.weight"])
    if cfg["word_embed_proj_dim"] != H:
        x = x @ w[d + "project_in.weight"].T
    h = x + w[d + "embed_positions.weight"][2: 2 + ids.shape[1]]
    with torch.no_grad():
        for i in range(cfg["num_hidden_layers"]):
            p = d + "layers.%d." % i
            a = p + "self_attn."
            # HF scales q after the bias; nn.MultiheadAttention scales q by 1/sqrt(hd) after in_proj: same thing
            mha = mha_module(H, nh, w[a + "q_proj.weight"], w[a + "q_proj.bias"], w[a + "k_proj.weight"],
                             w[a + "k_proj.bias"], w[a + "v_proj.weight"], w[a + "v_proj.bias"],
                             w[a + "out_proj.weight"], w[a + "out_proj.bias"])
            ln1, ln2 = ln(p + "self_attn_layer_norm"), ln(p + "final_layer_norm")
            if pre:
                h = h + run_mha(mha, ln1(h))
                z = ln2(h)
                h = h + (torch.clamp((z @ w[p + "fc1.weight"].T + w[p + "fc1.bias"]), min=0) @ w[p + "fc2.weight"].T
                         + w[p + "fc2.bias"])
            else:
                h = ln1(h + run_mha(mha, h))
                h = ln2(h + torch.clamp(h @ w[p + "fc1.weight"].T + w[p + "fc1.bias"], min=0) @ w[p + "fc2.weight"].T
                        + w[p + "fc2.bias"])
        if pre:
            h = ln(d + "final_layer_norm")(h)
        if cfg["word_embed_proj_dim"] != H:
            h = h @ w[d + "project_out.weight"].T
        return (h @ w[d + "embed_tokens.weight"].T)[0]


@check("opt_vs_torch_nn_modules")
def _():
    n = 0
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        if c["family"] != "opt":
            continue
        for s in seqs:
            assert_close(ref.logits("opt", cfg, tensors, torch.tensor(s)), opt_modules_logits(cfg, tensors, s), TOL, name)
        n += 1
    assert n == 2


def gpt2_modules_logits(cfg, tensors, ids):
    """GPT-2 via torch.nn modules, F.gelu(approximate='tanh'), float64."""
    w = {k: v.double() for k, v in tensors.items()}
    if "transformer.wte.weight" in w:
        w = {k.replace("transformer.", "", 1): v for k, v in w.items()}
    H, nh = cfg["n_embd"], cfg["n_head"]
    eps = cfg["layer_norm_epsilon"]

    def ln(x, prefix):
        return F.layer_norm(x, (H,), w[prefix + ".weight"], w[prefix + ".bias"], eps)

    ids = torch.tensor(ids)[None]
    h = w["wte.weight"][ids] + w["wpe.weight"][: ids.shape[1]]
    with torch.no_grad():
        for i in range(cfg["n_layer"]):
            p = "h.%d." % i
            ca, cb = w[p + "attn.c_attn.weight"].T, w[p + "attn.c_attn.bias"]   # -> [3H, H] Linear layout
            mha = mha_module(H, nh, ca[:H], cb[:H], ca[H:2 * H], cb[H:2 * H], ca[2 * H:], cb[2 * H:],
                             w[p + "attn.c_proj.weight"].T, w[p + "attn.c_proj.bias"])
            h = h + run_mha(mha, ln(h, p + "ln_1"))
            z = F.gelu(F.linear(ln(h, p + "ln_2"), w[p + "mlp.c_fc.weight"].T, w[p + "mlp.c_fc.bias"]),
                       approximate="tanh")
            h = h + F.linear(z, w[p + "mlp.c_proj.weight"].T, w[p + "mlp.c_proj.bias"])
        h = ln(h, "ln_f")
        return (h @ w["wte.weight"].T)[0]


@check("gpt2_vs_torch_nn_modules")
def _():
    n = 0
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        if c["family"] != "gpt2":
            continue
        for s in seqs:
            assert_close(ref.logits("gpt2", cfg, tensors, torch.tensor(s)), gpt2_modules_logits(cfg, tensors, s),
                         TOL, name)
        n += 1
    assert n == 2


@check("case_tensor_sets_follow_hf_layout")
def _():
    for name, (c, cfg, tensors, seqs, outs) in cases_built().items():
        names = set(tensors)
        if c["family"] == "llama":
            assert ("lm_head.weight" in names) == (not cfg["tie_word_embeddings"]), name
            assert len(names) == 2 + 9 * cfg["num_hidden_layers"] + (0 if cfg["tie_word_embeddings"] else 1)
            nkv = cfg["num_key_value_heads"]
            assert tensors["model.layers.0.self_attn.k_proj.weight"].shape[0] == nkv * ref.llama_head_dim(cfg)
        elif c["family"] == "opt":
            assert "lm_head.weight" not in names
            assert ("model.decoder.final_layer_norm.weight" in names) == cfg["do_layer_norm_before"]
            proj = cfg["word_embed_proj_dim"] != cfg["hidden_size"]
            assert ("model.decoder.project_in.weight" in names) == proj
            assert tensors["model.decoder.embed_positions.weight"].shape[0] == cfg["max_position_embeddings"] + 2
            assert tensors["model.decoder.embed_tokens.weight"].shape[1] == cfg["word_embed_proj_dim"]
        else:
            pref = "transformer." if "prefixed" in name else ""
            assert all(n.startswith(pref) for n in names) and "lm_head.weight" not in names
            assert (pref + "wte.weight") in names
            I = cfg["n_inner"] or 4 * cfg["n_embd"]
            assert tuple(tensors[pref + "h.0.mlp.c_fc.weight"].shape) == (cfg["n_embd"], I)
        assert all(t.dtype == mk.DTYPES[c["dtype"]] for t in tensors.values())
        assert [len(s) for s in seqs] == list(mk.SEQ_LENS)


@check("bench_forward_runs_and_reports_json")
def _():
    import subprocess
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "bench_forward.py")
    for name in ("llama_gqa_tied_bf16_sharded", "opt_postnorm_proj_bf16_sharded", "gpt2_prefixed_bf16_sharded"):
        c, cfg, tensors, seqs, outs = cases_built()[name]
        with tempfile.TemporaryDirectory() as d:
            json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
            st.save_checkpoint(tensors, d, c["shards"])
            r = subprocess.run([sys.executable, bench, "--model", d, "--batch", "2", "--seq", "5", "--threads", "1",
                                "--iters", "2", "--json"], capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr[-500:]
            res = json.loads(r.stdout.strip().splitlines()[-1])
            assert res["tokens_per_s"] > 0 and res["peak_rss_mib"] > 0, res
            assert (res["batch"], res["seq"], res["threads"], res["impl"]) == (2, 5, 1, "python-torch"), res
            assert res["blas"] in ("MKL", "OpenBLAS"), res


# ---------------------------------------------------------------- on-disk fixtures

def check_outdir(outdir):
    @check("ondisk_fixtures_match_reference_json")
    def _():
        for case in mk.CASES:
            folder = os.path.join(outdir, case["name"])
            cfg = json.load(open(os.path.join(folder, "config.json")))
            doc = json.load(open(os.path.join(folder, "reference.json")))
            assert doc["case"] == case["name"] and doc["family"] == case["family"] and doc["dtype"] == case["dtype"]
            assert ref.family_of(cfg) == doc["family"]
            tensors = st.load_checkpoint(folder)
            c, cfg0, t0, seqs0, outs0 = cases_built()[case["name"]]
            assert cfg == json.loads(json.dumps(cfg0)), "config differs from a fresh build (non-deterministic?)"
            assert set(tensors) == set(t0)
            for n in t0:
                assert bits_equal(tensors[n], t0[n]), "weights differ from a fresh build: " + n
            assert doc["sequences"] == seqs0
            assert len(doc["logits"]) == 3
            for s, lg in zip(doc["sequences"], doc["logits"]):
                got = ref.logits(doc["family"], cfg, tensors, torch.tensor(s))
                assert_close(torch.tensor(lg), got, 1e-6, case["name"] + " reference.json")
                assert len(lg) == len(s) and all(len(r) == cfg["vocab_size"] for r in lg)


def main(argv):
    torch.set_num_threads(1)
    if len(argv) > 1:
        check_outdir(argv[1])
    for fn in CHECKS:
        fn()
    passed = sum(1 for r in RESULTS if r[1])
    failed = len(RESULTS) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
