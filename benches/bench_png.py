"""PNG codec benchmarks: fastmask against Pillow (what a user would otherwise call) and against
the raw inflate of the same image data, in the same run.

Groups (see ``benches/conftest.py`` for the ratio table printed at the end):
- ``decode <case>``: ``fastmask.decode_png`` vs Pillow ``np.array(Image.open(BytesIO(b)))``
  (baseline), target ">= 10x";
- ``inflate floor <case>``: ``decode_png`` vs inflating the IDAT data alone into a buffer of the
  exact size with the same inflater (``_fastmask._inflate``, baseline) and with Python's
  ``zlib.decompress``; target "<= 1.5x of raw inflate", i.e. a speed-up of at least 0.67x;
- ``encode <case>``: ``encode_png`` (compression="fast") vs Pillow's fastest palette mode
  (``compress_type=3``, Z_RLE; baseline) and Pillow's default; target ">= 5x"; file sizes
  (fastmask fast / small / level 9, Pillow default / optimize with the full and the used
  palette, imagecodecs level 9 when installed) are in ``extra_info`` and printed at the end;
- ``encode small generated 854x480``: ``compression="small"`` vs Pillow ``optimize=True``
  (baseline): what the archiving preset costs per frame;
- ``batch decode 64x854x480``: ``read_pngs`` with 2 threads vs 1 thread (baseline), ">= 1.8x".

Cases: real corpus masks (DAVIS-2017 OSVOS palette predictions, DAVIS-2016 grayscale ground
truth; skipped without the corpus) and generated DAVIS-like masks at 854x480 and 1920x1080
(saved by Pillow with its defaults, as DAVIS tools do).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import fastmask
import numpy as np
import pytest
from conftest import corpus_pngs
from fastmask import _fastmask
from fastmask.cli import make_sequence
from PIL import Image

SIZES: dict[str, dict[str, int]] = {}


def _median_file(files: list[Path]) -> Path | None:
    if not files:
        return None
    files = sorted(files, key=lambda p: p.stat().st_size)
    return files[len(files) // 2]


def _pillow_png(labels: np.ndarray, **save: Any) -> bytes:
    im = Image.fromarray(labels, "P")
    im.putpalette(fastmask.DAVIS_PALETTE.tobytes())
    buf = io.BytesIO()
    im.save(buf, format="PNG", **save)
    return buf.getvalue()


def _cases() -> dict[str, bytes]:
    cases: dict[str, bytes] = {}
    osvos = _median_file(corpus_pngs("davis2017-osvos"))
    if osvos is not None:
        cases["davis2017-osvos palette"] = osvos.read_bytes()
    gray = _median_file(corpus_pngs("davis2016"))
    if gray is not None:
        cases["davis2016 gray"] = gray.read_bytes()
    cases["generated 854x480"] = _pillow_png(make_sequence(1, 4, 480, 854, seed=5)[0])
    cases["generated 1920x1080"] = _pillow_png(make_sequence(1, 4, 1080, 1920, seed=6)[0])
    return cases


CASES = _cases()


def _idat(data: bytes) -> bytes:
    out, pos = b"", 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            out += data[pos + 8 : pos + 8 + n]
        pos += 12 + n
    return out


def _scanline_bytes(data: bytes) -> int:
    info = fastmask.png_info(data)
    assert not info.interlaced
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[info.color_type]
    return info.height * (1 + (info.width * channels * info.bit_depth + 7) // 8)


# --- decode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("impl", ["fastmask", "pillow"])
def test_decode(benchmark: Any, case: str, impl: str) -> None:
    data = CASES[case]
    benchmark.group = f"decode {case}"
    benchmark.extra_info["impl"] = impl
    if impl == "fastmask":
        benchmark.extra_info["target"] = ">= 10x"
        out = benchmark(fastmask.decode_png, data)
    else:
        benchmark.extra_info["baseline"] = True

        def pillow() -> np.ndarray:
            with Image.open(io.BytesIO(data)) as im:
                return np.array(im)

        out = benchmark(pillow)
    ref = fastmask.decode_png(data)
    assert np.array_equal(out if out.ndim == 2 else out[..., 0], ref)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("impl", ["fastmask.decode_png", "zlib-rs inflate", "zlib.decompress"])
def test_inflate_floor(benchmark: Any, case: str, impl: str) -> None:
    data = CASES[case]
    idat, size = _idat(data), _scanline_bytes(data)
    benchmark.group = f"inflate floor {case}"
    benchmark.extra_info["impl"] = impl
    if impl == "fastmask.decode_png":
        benchmark.extra_info["target"] = ">= 0.67x (<= 1.5x inflate)"
        benchmark(fastmask.decode_png, data)
    elif impl == "zlib-rs inflate":
        benchmark.extra_info["baseline"] = True
        assert len(benchmark(_fastmask._inflate, idat, size)) == size
    else:
        assert len(benchmark(zlib.decompress, idat, 15, size)) == size


# --- encode ----------------------------------------------------------------------------------


def _pillow_used_png(labels: np.ndarray, **save: Any) -> bytes:
    """Pillow given only the palette entries the labels use (it then lowers the bit depth)."""
    im = Image.fromarray(labels, "P")
    im.putpalette(fastmask.DAVIS_PALETTE[: int(labels.max()) + 1].tobytes())
    buf = io.BytesIO()
    im.save(buf, format="PNG", **save)
    return buf.getvalue()


def _record_sizes(case: str, labels: np.ndarray) -> dict[str, int]:
    if case not in SIZES:
        SIZES[case] = {
            "fastmask fast": len(fastmask.encode_png(labels)),
            "fastmask small": len(fastmask.encode_png(labels, compression="small")),
            "fastmask 9": len(fastmask.encode_png(labels, compression=9)),
            "pillow default": len(_pillow_png(labels)),
            "pillow optimize": len(_pillow_png(labels, optimize=True)),
            "pillow opt. used": len(_pillow_used_png(labels, optimize=True)),
            "pillow rle": len(_pillow_png(labels, compress_type=3)),
        }
        try:
            import imagecodecs  # type: ignore[import-not-found]
        except ImportError:
            pass
        else:  # grayscale: no palette at all
            SIZES[case]["imagecodecs 9"] = len(imagecodecs.png_encode(labels, level=9))
    return SIZES[case]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("impl", ["fastmask", "pillow rle", "pillow default"])
def test_encode(benchmark: Any, case: str, impl: str) -> None:
    labels = fastmask.decode_png(CASES[case])  # uint8 (DAVIS-2016 gray: 0/255 labels)
    benchmark.group = f"encode {case}"
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info.update(_record_sizes(case, labels))
    if impl == "fastmask":
        benchmark.extra_info["target"] = ">= 5x"
        out = benchmark(fastmask.encode_png, labels)
    elif impl == "pillow rle":
        benchmark.extra_info["baseline"] = True
        out = benchmark(_pillow_png, labels, compress_type=3)
    else:
        out = benchmark(_pillow_png, labels)
    assert np.array_equal(fastmask.decode_png(out), labels)


@pytest.mark.parametrize("impl", ["fastmask small", "pillow optimize"])
def test_encode_small(benchmark: Any, impl: str) -> None:
    """What "small" costs per 854x480 frame (Zopfli), against Pillow's optimize=True."""
    labels = fastmask.decode_png(CASES["generated 854x480"])
    benchmark.group = "encode small generated 854x480"
    benchmark.extra_info["impl"] = impl
    if impl == "fastmask small":
        benchmark.extra_info["target"] = "<= 0.1 s per frame (not met: see NOTES)"
        out = benchmark.pedantic(
            fastmask.encode_png, (labels,), {"compression": "small"}, rounds=3, iterations=1
        )
    else:
        benchmark.extra_info["baseline"] = True
        out = benchmark(_pillow_png, labels, optimize=True)
    assert np.array_equal(fastmask.decode_png(out), labels)


@pytest.fixture(scope="module", autouse=True)
def _print_sizes(request: pytest.FixtureRequest) -> Any:
    yield
    if not SIZES:
        return
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if tr is None or capman is None:
        return
    cols = list(next(iter(SIZES.values())))
    with capman.global_and_fixture_disabled():
        tr.write_line("")
        tr.write_line("PNG file sizes (bytes):")
        tr.write_line(f"  {'case':<26}" + "".join(f"{c:>17}" for c in cols))
        for case, sizes in SIZES.items():
            tr.write_line(f"  {case:<26}" + "".join(f"{sizes[c]:>17}" for c in cols))


# --- batches ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("batch")
    stack = make_sequence(64, 4, 480, 854, seed=9)
    paths = [folder / f"{i:05d}.png" for i in range(len(stack))]
    for p, frame in zip(paths, stack):
        p.write_bytes(_pillow_png(frame))
    return paths


@pytest.mark.parametrize("frames", [8, 16, 64])
@pytest.mark.parametrize("threads", [1, 2])
def test_batch_decode(benchmark: Any, batch_paths: list[Path], threads: int, frames: int) -> None:
    benchmark.group = f"batch decode {frames}x854x480"
    benchmark.extra_info["impl"] = f"read_pngs threads={threads}"
    if threads == 1:
        benchmark.extra_info["baseline"] = True
    elif frames == 64:
        benchmark.extra_info["target"] = ">= 1.8x"
    out = benchmark(fastmask.read_pngs, batch_paths[:frames], threads=threads)
    assert out.shape == (frames, 480, 854)


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_decode_into(benchmark: Any, batch_paths: list[Path], threads: int) -> None:
    """The same batch decoded into a reused buffer (``out=``), as a data loader would."""
    benchmark.group = "batch decode 64x854x480 into out="
    benchmark.extra_info["impl"] = f"read_pngs out= threads={threads}"
    if threads == 1:
        benchmark.extra_info["baseline"] = True
    else:
        benchmark.extra_info["target"] = ">= 1.8x"
    buf = np.empty((64, 480, 854), np.uint8)
    out = benchmark(fastmask.read_pngs, batch_paths, threads=threads, out=buf)
    assert out is buf
