"""``fastmask.coco`` against pycocotools at 1, 2, 5, 100 and 1000 RLEs, call by call.

Each group is one call at one size (``<call> n=<size>``) with pycocotools as the baseline;
target: at least as fast everywhere, >= 2x where there is real work (issue 15). Masks are
disks on 240x320 frames (COCO-sized objects); ``merge`` takes 2 and 5 RLEs; ``frPyObjects``
20-vertex polygons; pycocotools' ``area`` raises OverflowError from 256 RLEs on, so its
1000-RLE group has no baseline. ``FASTMASK_BENCH_SMALL=1`` (the CI pass) skips 1000.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from fastmask import coco
from pycocotools import mask as pmask

SIZES = [1, 2, 5, 100] + ([] if os.environ.get("FASTMASK_BENCH_SMALL") else [1000])
CALLS = ["encode", "decode", "area", "toBbox", "iou", "frPyObjects", "merge"]
_DATA: dict[int, tuple[np.ndarray, list[dict], list[list[float]]]] = {}


def _data(n: int) -> tuple[np.ndarray, list[dict], list[list[float]]]:
    if n not in _DATA:
        rng = np.random.default_rng(n)
        h, w = 240, 320
        yy, xx = np.mgrid[:h, :w]
        masks = np.zeros((h, w, n), np.uint8, order="F")
        for i in range(n):
            cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
            masks[:, :, i] = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(10, 60) ** 2
        polys = [list(rng.uniform(0, 300, 40)) for _ in range(n)]
        _DATA[n] = (masks, pmask.encode(masks), polys)
    return _DATA[n]


def _call(lib: Any, call: str, n: int) -> Any:
    masks, rles, polys = _data(n)
    return {
        "encode": lambda: lib.encode(masks),
        "decode": lambda: lib.decode(rles),
        "area": lambda: lib.area(rles),
        "toBbox": lambda: lib.toBbox(rles),
        "iou": lambda: lib.iou(rles, rles, [0] * n),
        "frPyObjects": lambda: lib.frPyObjects(polys, 240, 320),
        "merge": lambda: lib.merge(rles),
    }[call]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("impl", ["pycocotools", "fastmask"])
def test_coco_call(benchmark: Any, impl: str, call: str, n: int) -> None:
    if call == "merge" and n not in (2, 5):
        pytest.skip("merge is measured on 2 and 5 RLEs")
    if impl == "pycocotools" and call == "area" and n >= 256:
        pytest.skip("pycocotools' area() raises OverflowError from 256 RLEs on")
    benchmark.group = f"coco {call} n={n}"
    benchmark.extra_info["impl"] = impl
    if impl == "pycocotools":
        benchmark.extra_info["baseline"] = True
        benchmark(_call(pmask, call, n))
    else:
        benchmark.extra_info["target"] = ">= 1x (>= 2x with real work)"
        out = benchmark(_call(coco, call, n))
        ref = _call(pmask, call, n)() if not (call == "area" and n >= 256) else None
        if ref is not None:
            if call == "encode" or call == "frPyObjects":
                assert [r["counts"] for r in out] == [r["counts"] for r in ref]
            elif call == "merge":
                assert out["counts"] == ref["counts"]
            else:
                assert np.array_equal(np.asarray(out), np.asarray(ref))
