"""Reads and writes bandmate model files (docs/model-format.md) from Python, with numpy arrays.

Used by tools/nn_reference.py to write test fixtures; usable by hand to inspect a model:
    python3 tools/nn_model_file.py models/x.bmnn
"""
import struct
import sys
import zlib

import numpy as np

MAGIC = b"\x89BMNN\r\n\x1a"
VERSION = 1


def write(path, tensors, hparams=None, meta=None):
    """tensors: ordered dict name -> float32 array; hparams: name -> int or float; meta: name -> str."""
    hparams, meta = hparams or {}, meta or {}
    out = bytearray(MAGIC)
    out += struct.pack("<6I", VERSION, 32, len(hparams), len(meta), len(tensors), 0)
    for k, v in hparams.items():
        kb = k.encode()
        if isinstance(v, int):
            out += struct.pack("<B", len(kb)) + kb + struct.pack("<Bq", 1, v)
        else:
            out += struct.pack("<B", len(kb)) + kb + struct.pack("<Bd", 2, float(v))
    for k, v in meta.items():
        kb, vb = k.encode(), v.encode()
        out += struct.pack("<B", len(kb)) + kb + struct.pack("<I", len(vb)) + vb
    offset, blobs = 0, []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        if a.ndim == 0:
            a = a.reshape(1)
        nb = name.encode()
        out += struct.pack("<B", len(nb)) + nb + struct.pack("<BB", 1, a.ndim)
        out += struct.pack("<%dI" % a.ndim, *a.shape) + struct.pack("<Q", offset)
        blob = a.tobytes()
        blob += b"\0" * ((-len(blob)) % 64)
        blobs.append(blob)
        offset += len(blob)
    out += b"\0" * ((-len(out)) % 64)
    for b in blobs:
        out += b
    out += b"BMNE"
    out += struct.pack("<I", zlib.crc32(bytes(out)) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(out)


def read(path):
    """Returns (tensors, hparams, meta); raises ValueError on a bad file."""
    data = open(path, "rb").read()
    if data[:8] != MAGIC or data[-8:-4] != b"BMNE":
        raise ValueError("not a bandmate model file")
    if struct.unpack("<I", data[-4:])[0] != zlib.crc32(data[:-4]) & 0xFFFFFFFF:
        raise ValueError("checksum mismatch")
    version, _, nh, nm, nt, _ = struct.unpack_from("<6I", data, 8)
    if version != VERSION:
        raise ValueError("version %d" % version)
    pos, hparams, meta, table = 32, {}, {}, []

    def name():
        nonlocal pos
        n = data[pos]
        s = data[pos + 1:pos + 1 + n].decode()
        pos += 1 + n
        return s

    for _ in range(nh):
        k = name()
        t = data[pos]
        hparams[k] = struct.unpack_from("<q" if t == 1 else "<d", data, pos + 1)[0]
        pos += 9
    for _ in range(nm):
        k = name()
        (n,) = struct.unpack_from("<I", data, pos)
        meta[k] = data[pos + 4:pos + 4 + n].decode()
        pos += 4 + n
    for _ in range(nt):
        k = name()
        ndim = data[pos + 1]
        shape = struct.unpack_from("<%dI" % ndim, data, pos + 2)
        (off,) = struct.unpack_from("<Q", data, pos + 2 + 4 * ndim)
        pos += 2 + 4 * ndim + 8
        table.append((k, shape, off))
    start = (pos + 63) // 64 * 64
    tensors = {}
    for k, shape, off in table:
        n = int(np.prod(shape))
        tensors[k] = np.frombuffer(data, "<f4", n, start + off).reshape(shape)
    return tensors, hparams, meta


if __name__ == "__main__":
    t, h, m = read(sys.argv[1])
    for k, v in h.items():
        print("hparam %s = %s" % (k, v))
    for k, v in m.items():
        print("meta %s = %s" % (k, v if len(v) < 60 else v[:57] + "..."))
    for k, v in t.items():
        print("tensor %s %s" % (k, "x".join(map(str, v.shape))))
