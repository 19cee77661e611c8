"""COCO RLE: fastmask against pycocotools in the same run (854x480 and 1920x1080, real masks
from the shared corpus and generated ones).

- encode: a C-ordered mask as numpy gives it; pycocotools needs ``np.asfortranarray`` first;
- decode: one RLE dict to a mask;
- iou: 20 x 20 lists of real object masks;
- label map -> one RLE per object: fastmask's single pass against the numpy Fortran stack of
  ``lab == id`` masks encoded by pycocotools.

Run: ``pytest benches/bench_rle.py`` (release build).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import corpus_pngs
from fastmask import coco, rle

pc = pytest.importorskip("pycocotools.mask")
Image = pytest.importorskip("PIL.Image")

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _generated(h: int, w: int, n: int = 4, seed: int = 0) -> np.ndarray:
    """A label map of ``n`` overlapping discs (objects of a few hundred pixels to a third
    of the frame), like a VOS frame."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    lab = np.zeros((h, w), np.uint8)
    for k in range(1, n + 1):
        cy, cx, r = rng.random() * h, rng.random() * w, (0.05 + 0.25 * rng.random()) * h
        lab[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
    return lab


def _real(size: str) -> np.ndarray | None:
    """The corpus frame of that size with the most objects (ties: the first)."""
    folder, shape = {
        "854x480": ("davis2017-osvos", (480, 854)),
        "1920x1080": ("demos", (1080, 1920)),
    }[size]
    best = None
    for p in corpus_pngs(folder)[:: 20 if folder == "davis2017-osvos" else 1]:
        lab = np.array(Image.open(p))
        if lab.shape != shape or lab.ndim != 2:
            continue
        n = len(np.unique(lab))
        if best is None or n > best[0]:
            best = (n, lab)
    return None if best is None else best[1]


def _label_map(source: str, size: str) -> np.ndarray:
    h, w = (480, 854) if size == "854x480" else (1080, 1920)
    if source == "generated":
        return _generated(h, w)
    lab = _real(size)
    if lab is None:
        pytest.skip(f"no real {size} label map in the shared corpus")
    return lab


def _object(lab: np.ndarray) -> np.ndarray:
    """The largest object's mask, C-ordered uint8 0/1."""
    ids, counts = np.unique(lab[lab != 0], return_counts=True)
    return (lab == ids[np.argmax(counts)]).astype(np.uint8)


CASES = [(s, z) for s in ("real", "generated") for z in ("854x480", "1920x1080")]


def _info(benchmark, group: str, impl: str, target: str, baseline: bool = False) -> None:
    benchmark.group = group
    benchmark.extra_info.update(impl=impl, target=target)
    if baseline:
        benchmark.extra_info["baseline"] = True


@pytest.mark.parametrize("impl", ["fastmask", "pycocotools"])
@pytest.mark.parametrize("source,size", CASES)
def test_encode(benchmark, source, size, impl):
    m = _object(_label_map(source, size))
    _info(benchmark, f"rle encode C-order {size} {source}", impl, ">= 5x", impl == "pycocotools")
    if impl == "fastmask":
        out = benchmark(coco.encode, m)
    else:
        out = benchmark(lambda: pc.encode(np.asfortranarray(m)))
    assert out == pc.encode(np.asfortranarray(m))


@pytest.mark.parametrize("impl", ["fastmask", "pycocotools"])
@pytest.mark.parametrize("source,size", CASES)
def test_decode(benchmark, source, size, impl):
    r = pc.encode(np.asfortranarray(_object(_label_map(source, size))))
    _info(benchmark, f"rle decode {size} {source}", impl, ">= 3x", impl == "pycocotools")
    out = benchmark(coco.decode if impl == "fastmask" else pc.decode, r)
    assert np.array_equal(out, pc.decode(r))


def _iou_lists() -> tuple[list, list]:
    """20 + 20 real object masks of one size (854x480), dt from one frame range, gt from
    the next frames: overlapping and non-overlapping pairs, as in an evaluation."""
    files = corpus_pngs("davis2017-osvos")
    rles = []
    for p in files[::7]:
        lab = np.array(Image.open(p))
        if lab.shape != (480, 854):
            continue
        rles += [
            pc.encode(np.asfortranarray((lab == i).astype(np.uint8))) for i in np.unique(lab) if i
        ]
        if len(rles) >= 40:
            break
    if len(rles) < 40:
        pytest.skip("not enough real 854x480 objects in the shared corpus")
    return rles[:20], rles[20:40]


@pytest.mark.parametrize("impl", ["fastmask", "pycocotools"])
def test_iou_20x20(benchmark, impl):
    dt, gt = _iou_lists()
    crowd = [0] * 19 + [1]
    _info(benchmark, "rle iou 20x20 854x480 real", impl, ">= 1x (no slower)", impl == "pycocotools")
    out = benchmark(coco.iou if impl == "fastmask" else pc.iou, dt, gt, crowd)
    np.testing.assert_array_equal(out, pc.iou(dt, gt, crowd))


@pytest.mark.parametrize("impl", ["fastmask", "numpy+pycocotools"])
@pytest.mark.parametrize("source,size", CASES)
def test_labels_to_rles(benchmark, source, size, impl):
    lab = _label_map(source, size)
    ids = [int(i) for i in np.unique(lab) if i]
    n = len(ids)
    _info(benchmark, f"labels->rles {size} {source} ({n} obj)", impl, ">= 10x", impl != "fastmask")

    def reference():
        stack = np.asfortranarray(np.stack([lab == i for i in ids], axis=-1).astype(np.uint8))
        return dict(zip(ids, pc.encode(stack)))

    out = benchmark(rle.encode_labels, lab) if impl == "fastmask" else benchmark(reference)
    assert out == reference()
