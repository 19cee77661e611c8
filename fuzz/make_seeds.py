#!/usr/bin/env python3
"""Write the fuzz targets' seed corpora into fuzz/corpus/<target>/ (not committed).

- png_decode: small PNGs from ../shared/corpus when it is there (real masks, PngSuite, edge
  cases; copied at run time, never into the repository), plus files made here: every colour
  type and bit depth, interlaced and wide-row images, and header bombs (a huge IHDR with a
  few bytes of data) that must stay within the memory limit of the run;
- rle: size bytes + count strings, from corpus masks shrunk to at most 24 x 24 (needs numpy
  and fastmask; skipped otherwise) and hand-made strings (zero-length runs, long values);
- shapes: image size bytes + coordinates (polygons and boxes, a few with NaN / huge values).

Usage: python3 fuzz/make_seeds.py [corpus folder]   (default: ../shared/corpus beside the repo)
"""

from __future__ import annotations

import hashlib
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "corpus"
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "shared" / "corpus"


def put(target: str, data: bytes) -> None:
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png(w, h, depth, color, raw, interlace=0, plte=None) -> bytes:
    out = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace)
    )
    if plte is not None:
        out += chunk(b"PLTE", plte)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def png_seeds() -> int:
    n = 0
    if SHARED.exists():
        files = sorted(p for p in SHARED.rglob("*.png") if p.stat().st_size <= 64 << 10)
        step = max(1, len(files) // 300)
        for p in files[::step]:
            put("png_decode", p.read_bytes())
            n += 1
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
    depths = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
    for color, ds in depths.items():
        for depth in ds:
            for interlace in (0, 1):
                w, h = 13, 7
                row = (w * channels[color] * depth + 7) // 8
                raw = b"".join(
                    bytes([y % 5]) + bytes((x * 37 + y * 11) % 256 for x in range(row))
                    for y in range(h)
                )
                plte = bytes(range(48)) if color == 3 else None
                put("png_decode", png(w, h, depth, color, raw, interlace, plte))
                n += 1
    # Wide rows (over 128 KB: decoded in segments), every filter.
    raw = b"".join(bytes([f]) + bytes((i * 7 + f) % 256 for i in range(140_000)) for f in range(5))
    put("png_decode", png(140_000, 5, 8, 0, raw))
    # Header bombs: the largest allowed sizes with almost no data.
    for w, h, depth, color, il in [
        (89_478_485, 1, 8, 6, 0),
        (89_478_485, 1, 16, 6, 0),
        (9459, 9459, 16, 6, 1),
        (1, 89_478_485, 8, 2, 0),
    ]:
        put("png_decode", png(w, h, depth, color, b"\0" * 64, il))
    return n + 9


def rle_seeds() -> int:
    hand = [b"\x01\x01" + b"\x00" + b"001", b"\x05\x03\x00" + b"53:OG", b"\x17\x17\x05" + b"o" * 12]
    for s in hand:
        put("rle", s)
    n = len(hand)
    try:
        import fastmask
        import numpy as np
        from fastmask import coco
    except ImportError:
        return n
    if not SHARED.exists():
        return n
    for p in sorted(SHARED.rglob("*.png"))[::40][:150]:
        try:
            lab = fastmask.read_png(p)
        except Exception:
            continue
        if lab.ndim != 2:
            continue
        small = lab[:: max(1, lab.shape[0] // 24), :: max(1, lab.shape[1] // 24)][:24, :24]
        for v in np.unique(small)[:3]:
            m = np.asfortranarray(small == v).astype(np.uint8)
            a = coco.encode(m)["counts"]
            b = coco.encode(np.asfortranarray(1 - m))["counts"]
            h, w = m.shape
            put("rle", bytes([h - 1, w - 1, 3 + len(a)]) + a + b)
            n += 1
    return n


def shape_seeds() -> int:
    def enc(h, w, vals):
        out = bytes([h, w])
        for v in vals:
            out += struct.pack("<h", int(v * 256 / 1.5))
        return out

    seeds = [
        enc(10, 10, [1, 1, 8, 1, 8, 8, 1, 8]),
        enc(30, 20, [0, 0, 19, 29, 5, 3, 2, 2]),
        enc(7, 9, [2, 2, 3, 4]),
        bytes([5, 5, 0, 0, 1, 0, 2, 0, 3, 0]),
    ]
    for s in seeds:
        put("shapes", s)
    return len(seeds)


if __name__ == "__main__":
    counts = {"png_decode": png_seeds(), "rle": rle_seeds(), "shapes": shape_seeds()}
    where = SHARED if SHARED.exists() else "no shared corpus"
    print(f"fuzz seeds in {OUT} ({where}): {counts}")
