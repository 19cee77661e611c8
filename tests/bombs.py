"""Hostile PNG / RLE inputs built in memory (never committed as files), and a helper that
runs code in a child process and reports how far its peak memory grew.

Used by tests/test_hardening.py; ``python tests/bombs.py`` prints the peak RSS growth of each
bomb class for the installed fastmask (the NOTES figures were taken with it).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png(w: int, h: int, depth: int, color: int, idat: bytes, interlace: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace)
    return SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def truncated(w: int, h: int, depth: int, color: int, interlace: int = 0) -> bytes:
    """A header claiming w x h pixels and a zlib stream that ends after a few zero bytes."""
    return png(w, h, depth, color, zlib.compress(b"\0" * 16), interlace)


def zero_image(w: int, h: int, depth: int, color: int) -> bytes:
    """A valid all-zero image, compressed in pieces (never held whole in memory)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    row = 1 + (w * channels * depth + 7) // 8
    z = zlib.compressobj(9)
    parts = []
    left = row * h
    block = b"\0" * (1 << 20)
    while left:
        n = min(left, len(block))
        parts.append(z.compress(block[:n]))
        left -= n
    parts.append(z.flush())
    return png(w, h, depth, color, b"".join(parts))


def distinct_colours(w: int, h: int) -> bytes:
    """An RGB image with a different colour in every pixel (none in the DAVIS palette: red is
    odd), Sub-filtered so that it compresses to a small file like the issue's 141 KB one."""
    import numpy as np

    v = np.arange(w * h, dtype=np.uint32).reshape(h, w)
    rgb = np.stack([((v >> 16) | 1) & 0xFF, (v >> 8) & 0xFF, v & 0xFF], axis=-1).astype(np.uint8)
    flat = rgb.reshape(h, w * 3)
    sub = flat.copy()
    sub[:, 3:] = flat[:, 3:] - flat[:, :-3]  # uint8 arithmetic wraps, as the filter does
    raw = np.concatenate([np.ones((h, 1), np.uint8), sub], axis=1)
    return png(w, h, 8, 2, zlib.compress(raw.tobytes(), 9))


# name -> (file builder, call made on the file in the child)
PNG_BOMBS = {
    "truncated 89478485x1 RGBA": (
        lambda: truncated(89_478_485, 1, 8, 6),
        "fastmask.read_png(P)",
    ),
    "truncated 89478485x1 RGBA 16-bit raw": (
        lambda: truncated(89_478_485, 1, 16, 6),
        "fastmask.read_png(P, raw=True)",
    ),
    "truncated 9459x9459 interlaced 16-bit RGBA raw": (
        lambda: truncated(9459, 9459, 16, 6, interlace=1),
        "fastmask.read_png(P, raw=True)",
    ),
    "valid 89478485x1 RGBA (labels)": (
        lambda: zero_image(89_478_485, 1, 8, 6),
        "fastmask.read_png(P)",
    ),
    "4096x4096 RGB, every pixel a new colour": (
        lambda: distinct_colours(4096, 4096),
        "fastmask.read_png(P)",
    ),
}

CHILD = """
import json, sys, time
import numpy as np
import fastmask
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
P = sys.argv[1]
small = sys.argv[2] if len(sys.argv) > 2 else None
base = hwm()
t = time.perf_counter()
try:
    {call}
    err = None
except BaseException as e:
    err = type(e).__name__ + ": " + str(e)[:160]
secs = time.perf_counter() - t
peak = hwm() - base
if small:
    for _ in range(20):
        fastmask.read_png(small)
print(json.dumps({{"peak": peak, "retained": rss() - base, "error": err, "secs": secs}}))
"""


def measure(
    call: str, path: str | os.PathLike, small: str | None = None, env: dict | None = None
) -> dict:
    """Run ``call`` (``P`` is the file) in a child; peak RSS growth and RSS kept after 20
    small reads, in bytes, and the exception it raised (None if it returned)."""
    code = CHILD.format(call=textwrap.indent(call, "    ").strip())
    args = [sys.executable, "-c", code, os.fspath(path)] + ([small] if small else [])
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    if out.returncode != 0:
        return {
            "peak": None,
            "retained": None,
            "error": f"exit {out.returncode}: {out.stderr[-300:]}",
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import tempfile

    import fastmask
    import numpy as np

    with tempfile.TemporaryDirectory() as d:
        small = Path(d) / "small.png"
        fastmask.write_png(small, np.zeros((480, 854), np.uint8))
        for name, (build, call) in PNG_BOMBS.items():
            p = Path(d) / "bomb.png"
            p.write_bytes(build())
            r = measure(call, p, os.fspath(small))
            mb = lambda v: "?" if v is None else f"{v / 2**20:.0f} MB"  # noqa: E731
            print(
                f"{name:48s} {p.stat().st_size:>8d} B  peak +{mb(r['peak'])}, "
                f"kept +{mb(r['retained'])}, {r.get('secs', 0):.2f} s, {r['error']}"
            )


if __name__ == "__main__":
    main()
