#!/usr/bin/python3
"""Reads objects from an R lazy-load database (Rdata.rdx + Rdata.rdb), as shipped in the data/
folder of Debian's r-cran-* packages, without R. Supports the object types that data packages of
text use: character, integer, double and logical vectors, factors, lists and data frames.

    read-rdata.py DATA_DIR OBJECT [COLUMN]   print OBJECT (a character vector, or COLUMN of a data
                                             frame) as JSON on stdout
    read-rdata.py DATA_DIR --list            print the object names

Format notes (R sources: src/main/serialize.c): the .rdx index is a gzip'd serialization of
list(variables = list(name = c(offset, length)), ...); each .rdb entry is a 4-byte big-endian
uncompressed length, one type byte ('Z' raw LZMA2, '2' bzip2, '1' zlib, '0' stored) and the
compressed serialization (XDR, format 'X').
"""
import bz2
import gzip
import json
import lzma
import struct
import sys
import zlib

NILVALUE, REFSXP, ALTREP = 254, 255, 238
EMPTYENV, BASEENV, GLOBALENV, UNBOUNDVALUE, MISSINGARG, BASENAMESPACE = 242, 241, 253, 252, 251, 247
SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP = 1, 2, 9, 10, 13, 14, 16, 19
NA_INTEGER = -2147483648


class RObject:
    """A vector with its R attributes (names, class, levels, row.names ...)."""

    def __init__(self, kind, value, attributes):
        self.kind, self.value, self.attributes = kind, value, attributes


class Reader:
    def __init__(self, data, source):
        self.data, self.pos, self.source, self.refs = data, 0, source, []

    def fail(self, what):
        sys.exit(f"read-rdata: {self.source}: {what} at byte {self.pos}")

    def take(self, n):
        if self.pos + n > len(self.data):
            self.fail(f"truncated serialization (wanted {n} bytes)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def header(self):
        if self.take(2) != b"X\n":
            self.fail("not an XDR serialization (expected 'X\\n')")
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader version
        if version == 3:
            self.take(self.int())  # native encoding name
        elif version != 2:
            self.fail(f"unsupported serialization version {version}")

    def item(self):
        flags = self.int()
        kind = flags & 0xFF
        has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if kind == NILVALUE:
            return None
        if kind in (EMPTYENV, BASEENV, GLOBALENV, UNBOUNDVALUE, MISSINGARG, BASENAMESPACE):
            return None
        if kind == REFSXP:
            index = flags >> 8 if flags >> 8 else self.int()
            return self.refs[index - 1]
        if kind == SYMSXP:
            name = self.item()
            self.refs.append(name)
            return name
        if kind == CHARSXP:
            n = self.int()
            return None if n == -1 else self.take(n).decode("utf-8", errors="strict")
        if kind == LISTSXP:  # pairlist: returns [(tag, value)]
            out = []
            while True:
                attr = self.item() if has_attr else None
                del attr
                tag = self.item() if has_tag else None
                out.append((tag, self.item()))
                flags = self.int()
                kind = flags & 0xFF
                if kind == NILVALUE:
                    return out
                if kind != LISTSXP:
                    self.fail(f"pairlist continues with type {kind}")
                has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if kind == ALTREP:
            info = self.item()
            state = self.item()
            attr = self.item()
            cls = info[0][1] if info else None
            if cls == "compact_intseq":
                n, start, step = state.value
                value = [int(start + i * step) for i in range(int(n))]
                return RObject(INTSXP, value, dict(attr or []))
            if cls == "wrap_string" or cls == "wrap_integer" or cls == "wrap_real":
                return state[0][1] if isinstance(state, list) else state
            self.fail(f"unsupported ALTREP class {cls}")
        if kind in (LGLSXP, INTSXP):
            n = self.int()
            value = list(struct.unpack(f">{n}i", self.take(4 * n)))
        elif kind == REALSXP:
            n = self.int()
            value = list(struct.unpack(f">{n}d", self.take(8 * n)))
        elif kind in (STRSXP, VECSXP):
            n = self.int()
            value = [self.item() for _ in range(n)]
        else:
            self.fail(f"unsupported R object type {kind}")
        attributes = dict(self.item()) if has_attr else {}
        return RObject(kind, value, attributes)


def decompress(entry, source):
    length = struct.unpack(">I", entry[:4])[0]
    kind, body = entry[4:5], entry[5:]
    if kind == b"Z":
        out = lzma.decompress(body, format=lzma.FORMAT_RAW,
                              filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])
    elif kind == b"2":
        out = bz2.decompress(body)
    elif kind == b"1":
        out = zlib.decompress(body)
    elif kind == b"0":
        out = body
    else:  # zlib without a type byte (R's compress = TRUE)
        out = zlib.decompress(entry[4:])
    if len(out) != length:
        sys.exit(f"read-rdata: {source}: entry decompressed to {len(out)} bytes, expected {length}")
    return out


def index(data_dir):
    path = f"{data_dir}/Rdata.rdx"
    with open(path, "rb") as f:
        reader = Reader(gzip.decompress(f.read()), path)
    reader.header()
    top = reader.item()
    names = top.attributes["names"].value
    variables = top.value[names.index("variables")]
    keys = variables.attributes["names"].value
    return {k: tuple(v.value) for k, v in zip(keys, variables.value)}


def load(data_dir, name):
    entries = index(data_dir)
    if name not in entries:
        sys.exit(f"read-rdata: {data_dir}: no object '{name}' (objects: {', '.join(sorted(entries))})")
    offset, length = entries[name]
    path = f"{data_dir}/Rdata.rdb"
    with open(path, "rb") as f:
        f.seek(offset)
        reader = Reader(decompress(f.read(length), path), f"{path}:{name}")
    reader.header()
    return reader.item()


def strings(obj, what):
    if obj.kind == INTSXP and "levels" in obj.attributes:  # factor
        levels = obj.attributes["levels"].value
        return [None if i == NA_INTEGER else levels[i - 1] for i in obj.value]
    if obj.kind != STRSXP:
        sys.exit(f"read-rdata: {what} is not a character vector or factor (R type {obj.kind})")
    return obj.value


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data_dir, name = sys.argv[1], sys.argv[2]
    if name == "--list":
        print("\n".join(sorted(index(data_dir))))
        return
    obj = load(data_dir, name)
    if len(sys.argv) > 3:
        column = sys.argv[3]
        cols = obj.attributes.get("names")
        if obj.kind != VECSXP or cols is None or column not in cols.value:
            sys.exit(f"read-rdata: {data_dir}: object '{name}' has no column '{column}'")
        obj = obj.value[cols.value.index(column)]
        name = f"{name}${column}"
    json.dump(strings(obj, f"{data_dir}: {name}"), sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
