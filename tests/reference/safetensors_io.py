"""Hand-written safetensors reader/writer (torch + json + struct only).

Format: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON header
(padded with spaces so the data section starts 8-byte aligned), then raw
little-endian tensor bytes. Offsets in the header are relative to the start of
the data section.
"""
import json
import os
import struct
import sys

import torch

DTYPE_TO_ST = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
ST_TO_DTYPE = {v: k for k, v in DTYPE_TO_ST.items()}
ST_ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2}
# integer views used to serialize the raw bits (bf16 has no numpy equivalent)
_BITS_VIEW = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}

assert sys.byteorder == "little", "writer assumes a little-endian host"


def tensor_bytes(t):
    """Raw little-endian bytes of a tensor (F32/F16/BF16)."""
    t = t.detach().contiguous().cpu()
    if t.dtype not in _BITS_VIEW:
        raise ValueError("unsupported dtype %s" % t.dtype)
    return t.view(_BITS_VIEW[t.dtype]).numpy().tobytes()


def serialize(tensors, metadata=None):
    """Return the bytes of a safetensors file holding `tensors` (name -> Tensor).

    Tensors are laid out in sorted-name order (like the reference library).
    """
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        b = tensor_bytes(t)
        header[name] = {
            "dtype": DTYPE_TO_ST[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(b)],
        }
        blobs.append(b)
        offset += len(b)
    meta = {"format": "pt"}
    if metadata:
        meta.update(metadata)
    header["__metadata__"] = meta
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-(8 + len(hjson))) % 8
    hjson += b" " * pad
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs)


def save_file(tensors, path, metadata=None):
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))


def load_bytes(buf):
    """Parse safetensors bytes -> dict name -> Tensor (dtype preserved)."""
    if len(buf) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError("header length exceeds file size")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        st = info["dtype"]
        if st not in ST_TO_DTYPE:
            raise ValueError("unsupported dtype %s for %s" % (st, name))
        dtype = ST_TO_DTYPE[st]
        shape = [int(s) for s in info["shape"]]
        b, e = info["data_offsets"]
        numel = 1
        for s in shape:
            numel *= s
        if e - b != numel * ST_ITEMSIZE[st] or e > len(data) or b < 0:
            raise ValueError("bad data_offsets for %s" % name)
        raw = bytes(data[b:e])
        if numel == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(raw), dtype=_BITS_VIEW[dtype]).view(dtype).reshape(shape).clone()
        out[name] = t
    return out


def load_file(path):
    with open(path, "rb") as f:
        return load_bytes(f.read())


def read_metadata(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n).decode("utf-8")).get("__metadata__", {})


def shard_names(num_shards):
    return ["model-%05d-of-%05d.safetensors" % (i + 1, num_shards) for i in range(num_shards)]


def save_sharded(tensors, folder, num_shards, index_name="model.safetensors.index.json"):
    """Split tensors (sorted by name, contiguous runs balanced by bytes) into
    `num_shards` files plus the HF index json. Returns the index dict."""
    names = sorted(tensors)
    if num_shards < 1 or num_shards > len(names):
        raise ValueError("bad shard count")
    sizes = [tensors[n].numel() * tensors[n].element_size() for n in names]
    total = sum(sizes)
    # contiguous runs of the sorted names, cut where the cumulative byte count
    # crosses k/K of the total; every shard gets at least one tensor
    cuts = [0]
    cum = 0
    k = 1
    for i, s in enumerate(sizes):
        cum += s
        while k < num_shards and cum >= total * k / num_shards:
            cuts.append(i + 1)
            k += 1
    while len(cuts) < num_shards:
        cuts.append(len(names))
    cuts.append(len(names))
    for j in range(1, num_shards):  # enforce strictly increasing, leaving room for later shards
        cuts[j] = max(cuts[j], cuts[j - 1] + 1)
    for j in range(num_shards - 1, 0, -1):
        cuts[j] = min(cuts[j], cuts[j + 1] - 1)
    groups = [names[cuts[j]:cuts[j + 1]] for j in range(num_shards)]
    files = shard_names(num_shards)
    weight_map = {}
    for fname, group in zip(files, groups):
        if not group:
            raise ValueError("empty shard")
        save_file({n: tensors[n] for n in group}, os.path.join(folder, fname))
        for n in group:
            weight_map[n] = fname
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(folder, index_name), "w") as f:
        json.dump(index, f, indent=2)
    return index


def save_checkpoint(tensors, folder, num_shards=1):
    os.makedirs(folder, exist_ok=True)
    if num_shards <= 1:
        save_file(tensors, os.path.join(folder, "model.safetensors"))
    else:
        save_sharded(tensors, folder, num_shards)


def load_checkpoint(folder):
    """Load model.safetensors or the sharded set described by the index json."""
    idx = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            index = json.load(f)
        out = {}
        for fname in sorted(set(index["weight_map"].values())):
            part = load_file(os.path.join(folder, fname))
            for n, t in part.items():
                if index["weight_map"].get(n) != fname:
                    raise ValueError("tensor %s in %s not listed in index" % (n, fname))
                out[n] = t
        missing = set(index["weight_map"]) - set(out)
        if missing:
            raise ValueError("index lists missing tensors: %s" % sorted(missing))
        return out
    return load_file(os.path.join(folder, "model.safetensors"))
