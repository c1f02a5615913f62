"""Independent functional PyTorch reference for decoder-only LMs.

Written from the Hugging Face model definitions (LlamaForCausalLM /
MistralForCausalLM, OPTForCausalLM, GPT2LMHeadModel), eval mode, no cache,
no padding, float32 compute. Does not import any Frugal code.

Every forward works on a batch x: [B, T] of token ids (no padding, all
sequences the same length, positions 0..T-1). `logits()` is the
single-sequence entry point used by the test fixtures.
"""
import math

import torch
import torch.nn.functional as F


def family_of(config):
    mt = config.get("model_type")
    if mt in ("llama", "mistral"):
        return "llama"
    if mt == "opt":
        return "opt"
    if mt == "gpt2":
        return "gpt2"
    raise ValueError("unsupported model_type %r" % mt)


def to_f32(tensors):
    return {k: v.to(torch.float32) for k, v in tensors.items()}


# ---------------------------------------------------------------- common ops

def causal_mask(T, device=None):
    """Additive [T, T] mask: 0 on/below diagonal, -inf above."""
    return torch.full((T, T), float("-inf"), device=device).triu(1)


def attention(q, k, v, scale):
    """q: [B, nh, T, d], k/v: [B, nh, T, d] -> [B, nh, T, d]; causal softmax."""
    T = q.shape[-2]
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    scores = scores + causal_mask(T, q.device)
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, v)


def split_heads(x, nh):
    B, T, D = x.shape
    return x.view(B, T, nh, D // nh).transpose(1, 2)


def merge_heads(x):
    B, nh, T, d = x.shape
    return x.transpose(1, 2).reshape(B, T, nh * d)


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def rms_norm(x, w, eps):
    x = x.to(torch.float32)
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# ---------------------------------------------------------------- llama / mistral

def llama_head_dim(config):
    hd = config.get("head_dim")
    if hd is None:
        hd = config["hidden_size"] // config["num_attention_heads"]
    return hd


def rope_cos_sin(T, head_dim, theta, device=None):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    pos = torch.arange(T, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)             # [T, d/2]
    emb = torch.cat((freqs, freqs), dim=-1)        # [T, d]
    return emb.cos().to(device), emb.sin().to(device)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def llama_forward(config, w, ids):
    """ids: [B, T] -> logits [B, T, V] (float32)."""
    nh = config["num_attention_heads"]
    nkv = config.get("num_key_value_heads") or nh
    hd = llama_head_dim(config)
    eps = config.get("rms_norm_eps", 1e-6)
    theta = config.get("rope_theta", 10000.0)
    if config.get("rope_scaling"):
        raise NotImplementedError("rope_scaling")
    L = config["num_hidden_layers"]
    B, T = ids.shape
    sw = config.get("sliding_window")
    if config.get("model_type") == "mistral" and sw is not None and T > sw:
        raise NotImplementedError("sequence longer than sliding_window")
    emb = w["model.embed_tokens.weight"]
    h = F.embedding(ids, emb)
    cos, sin = rope_cos_sin(T, hd, theta, h.device)
    rep = nh // nkv
    for i in range(L):
        p = "model.layers.%d." % i
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = F.linear(x, w[p + "self_attn.q_proj.weight"]).view(B, T, nh, hd).transpose(1, 2)
        k = F.linear(x, w[p + "self_attn.k_proj.weight"]).view(B, T, nkv, hd).transpose(1, 2)
        v = F.linear(x, w[p + "self_attn.v_proj.weight"]).view(B, T, nkv, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        a = attention(q, k, v, 1.0 / math.sqrt(hd))
        h = h + F.linear(merge_heads(a), w[p + "self_attn.o_proj.weight"])
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        m = F.silu(F.linear(x, w[p + "mlp.gate_proj.weight"])) * F.linear(x, w[p + "mlp.up_proj.weight"])
        h = h + F.linear(m, w[p + "mlp.down_proj.weight"])
    h = rms_norm(h, w["model.norm.weight"], eps)
    if config.get("tie_word_embeddings", False):
        head = emb
    else:
        head = w["lm_head.weight"]
    return F.linear(h, head)


# ---------------------------------------------------------------- OPT

def opt_forward(config, w, ids):
    H = config["hidden_size"]
    nh = config["num_attention_heads"]
    hd = H // nh
    L = config["num_hidden_layers"]
    pre = config.get("do_layer_norm_before", True)
    eps = 1e-5
    act = config.get("activation_function", "relu")
    if act != "relu":
        raise NotImplementedError(act)
    B, T = ids.shape
    d = "model.decoder."
    emb = w[d + "embed_tokens.weight"]
    x = F.embedding(ids, emb)
    if d + "project_in.weight" in w:
        x = F.linear(x, w[d + "project_in.weight"])
    pos = torch.arange(T, device=ids.device) + 2            # learned positions, offset 2
    h = x + F.embedding(pos, w[d + "embed_positions.weight"]).unsqueeze(0)
    scale = hd ** -0.5
    for i in range(L):
        p = d + "layers.%d." % i
        res = h
        if pre:
            h = layer_norm(h, w[p + "self_attn_layer_norm.weight"], w[p + "self_attn_layer_norm.bias"], eps)
        q = F.linear(h, w[p + "self_attn.q_proj.weight"], w[p + "self_attn.q_proj.bias"]) * scale
        k = F.linear(h, w[p + "self_attn.k_proj.weight"], w[p + "self_attn.k_proj.bias"])
        v = F.linear(h, w[p + "self_attn.v_proj.weight"], w[p + "self_attn.v_proj.bias"])
        a = attention(split_heads(q, nh), split_heads(k, nh), split_heads(v, nh), 1.0)
        h = res + F.linear(merge_heads(a), w[p + "self_attn.out_proj.weight"], w[p + "self_attn.out_proj.bias"])
        if not pre:
            h = layer_norm(h, w[p + "self_attn_layer_norm.weight"], w[p + "self_attn_layer_norm.bias"], eps)
        res = h
        if pre:
            h = layer_norm(h, w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"], eps)
        h = F.relu(F.linear(h, w[p + "fc1.weight"], w[p + "fc1.bias"]))
        h = res + F.linear(h, w[p + "fc2.weight"], w[p + "fc2.bias"])
        if not pre:
            h = layer_norm(h, w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"], eps)
    if pre and not config.get("_remove_final_layer_norm", False):
        h = layer_norm(h, w[d + "final_layer_norm.weight"], w[d + "final_layer_norm.bias"], eps)
    if d + "project_out.weight" in w:
        h = F.linear(h, w[d + "project_out.weight"])
    return F.linear(h, w.get("lm_head.weight", emb))


# ---------------------------------------------------------------- GPT-2

def strip_gpt2_prefix(w):
    if "transformer.wte.weight" in w:
        return {(k[len("transformer."):] if k.startswith("transformer.") else k): v for k, v in w.items()}
    return w


def conv1d(x, W, b):
    """HF Conv1D: W is [in, out]; y = x @ W + b."""
    return torch.matmul(x, W) + b


def gpt2_forward(config, w, ids):
    w = strip_gpt2_prefix(w)
    H = config["n_embd"]
    nh = config["n_head"]
    hd = H // nh
    L = config["n_layer"]
    eps = config.get("layer_norm_epsilon", 1e-5)
    act = config.get("activation_function", "gelu_new")
    if act != "gelu_new":
        raise NotImplementedError(act)
    if config.get("scale_attn_by_inverse_layer_idx") or config.get("reorder_and_upcast_attn"):
        raise NotImplementedError("gpt2 attention variants")
    scale = 1.0 / math.sqrt(hd) if config.get("scale_attn_weights", True) else 1.0
    B, T = ids.shape
    wte = w["wte.weight"]
    pos = torch.arange(T, device=ids.device)
    h = F.embedding(ids, wte) + F.embedding(pos, w["wpe.weight"]).unsqueeze(0)
    for i in range(L):
        p = "h.%d." % i
        x = layer_norm(h, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = conv1d(x, w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"])
        q, k, v = qkv.split(H, dim=-1)
        a = attention(split_heads(q, nh), split_heads(k, nh), split_heads(v, nh), scale)
        h = h + conv1d(merge_heads(a), w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"])
        x = layer_norm(h, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu_new(conv1d(x, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"]))
        h = h + conv1d(m, w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"])
    h = layer_norm(h, w["ln_f.weight"], w["ln_f.bias"], eps)
    return F.linear(h, w.get("lm_head.weight", wte))


# ---------------------------------------------------------------- entry points

FORWARDS = {"llama": llama_forward, "opt": opt_forward, "gpt2": gpt2_forward}


def batched_logits(family, config, tensors, ids):
    """ids: LongTensor [B, T] -> FloatTensor [B, T, V]. `tensors` may be any
    of F32/F16/BF16; they are upcast to float32 here."""
    if family == "mistral":
        family = "llama"
    w = {k: (v if v.dtype == torch.float32 else v.float()) for k, v in tensors.items()}
    return FORWARDS[family](config, w, ids)


def logits(family, config, tensors, input_ids):
    """input_ids: LongTensor [T] -> FloatTensor [T, V] (float32)."""
    ids = torch.as_tensor(input_ids, dtype=torch.long).view(1, -1)
    with torch.no_grad():
        return batched_logits(family, config, tensors, ids)[0]
