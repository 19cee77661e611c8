"""J and F: fastmask against the official-style computation and a cropped numpy/OpenCV version.

Groups (one baseline each, ratios printed by ``conftest.py``):
- ``F object-frame <res> vs official``: the official ``f_measure`` (full-frame ``_seg2bmap``,
  ``cv2.dilate`` with ``skimage.morphology.disk``) on one object of a real DAVIS mask;
- ``F object-frame <res> vs cropped``: the same computation cropped to both masks' bounding box
  plus the disk radius, the speed-up a numpy/OpenCV user gets without fastmask;
- ``J all objects 480p``: a ``count_nonzero`` loop over the objects of an OSVOS label map;
- ``J&F all objects 480p``: the official per-object loop (informational);
- ``F all objects 480p <seq> vs official``: multi-object OSVOS frames (gold-fish, pigs, india),
  the official F per object against ``boundary_f`` per object and one ``per_object`` call;
- ``J+F per_object vs binary 480p <seq>``: label-map ``per_object`` against ``jaccard`` +
  ``boundary_f`` per object on the same objects, target <= 1.2x its time.

Masks: the DAVIS-2016 ground truth of ``blackswan`` against OSVOS's real prediction of it at 480p,
and the same pair upscaled (nearest) to 1920x1080; an OSVOS multi-object label map (``gold-fish``,
5 objects) against a shifted and eroded copy. Synthetic shapes stand in when the corpus is absent.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import CORPUS
from fastmask import metrics
from PIL import Image
from skimage.morphology import disk

# --- the two baselines ---------------------------------------------------------------------


def _seg2bmap(seg: np.ndarray) -> np.ndarray:
    seg = seg.astype(bool)
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ e) | (seg ^ s) | (seg ^ se)
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = 0
    return b


def official_f(fg: np.ndarray, gt: np.ndarray, bound_th: float = 0.008) -> float:
    """``f_measure(fg, gt)`` as in davis2017-evaluation: everything over the full frame."""
    r = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(fg.shape))
    fb = _seg2bmap(fg)
    gb = _seg2bmap(gt)
    k = disk(r).astype(np.uint8)
    fd = cv2.dilate(fb.astype(np.uint8), k)
    gd = cv2.dilate(gb.astype(np.uint8), k)
    n_fg, n_gt = np.sum(fb), np.sum(gb)
    if n_fg == 0 or n_gt == 0:
        return float(n_fg == n_gt)
    p = np.sum(fb * gd) / float(n_fg)
    rc = np.sum(gb * fd) / float(n_gt)
    return 0.0 if p + rc == 0 else 2 * p * rc / (p + rc)


def cropped_f(fg: np.ndarray, gt: np.ndarray, bound_th: float = 0.008) -> float:
    """The same F on the crop of both masks' bounding box grown by the radius + 2.

    Outside that box there is no boundary pixel and no dilation reaches a boundary pixel, and
    the crop keeps a background margin (or the true image edge), so the result is unchanged.
    """
    h, w = fg.shape
    r = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(fg.shape))
    union = fg | gt
    rows = np.flatnonzero(union.any(axis=1))
    cols = np.flatnonzero(union.any(axis=0))
    if rows.size == 0:
        return 1.0
    m = int(np.ceil(r)) + 2
    y0, y1 = max(rows[0] - m, 0), min(rows[-1] + m + 1, h)
    x0, x1 = max(cols[0] - m, 0), min(cols[-1] + m + 1, w)
    fb = _seg2bmap(fg[y0:y1, x0:x1])
    gb = _seg2bmap(gt[y0:y1, x0:x1])
    k = disk(r).astype(np.uint8)
    fd = cv2.dilate(fb.astype(np.uint8), k)
    gd = cv2.dilate(gb.astype(np.uint8), k)
    n_fg, n_gt = np.sum(fb), np.sum(gb)
    if n_fg == 0 or n_gt == 0:
        return float(n_fg == n_gt)
    p = np.sum(fb * gd) / float(n_fg)
    rc = np.sum(gb * fd) / float(n_gt)
    return 0.0 if p + rc == 0 else 2 * p * rc / (p + rc)


def numpy_j_all(gt: np.ndarray, pred: np.ndarray, ids: list[int]) -> list[float]:
    out = []
    for k in ids:
        g, p = gt == k, pred == k
        union = np.count_nonzero(g | p)
        out.append(np.count_nonzero(g & p) / union if union else 1.0)
    return out


# --- data ----------------------------------------------------------------------------------


def _shift(m: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(m)
    h, w = m.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = m[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def _davis_pair(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """One real object-frame as bool masks of h x w: the DAVIS-2016 ground truth of
    blackswan frame 20 and OSVOS's prediction of it (J 0.905, F 0.925), upscaled with
    nearest neighbour for 1080p."""
    gt_p = CORPUS / "davis2016" / "Annotations" / "480p" / "blackswan" / "00020.png"
    pred_p = CORPUS / "davis2017-osvos" / "blackswan" / "00020.png"
    if gt_p.exists() and pred_p.exists():
        gt = np.array(Image.open(gt_p)) > 0
        pred = np.array(Image.open(pred_p)) > 0
    else:  # synthetic stand-in of a similar size
        m = np.zeros((480, 854), np.uint8)
        cv2.ellipse(m, (430, 250), (180, 90), 10, 0, 360, 1, -1)
        gt = m > 0
        pred = _shift(m, 2, -3) > 0
    if gt.shape != (h, w):
        gt = cv2.resize(gt.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        pred = cv2.resize(pred.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    return gt, pred


def _osvos_pair() -> tuple[np.ndarray, np.ndarray, list[int]]:
    """An OSVOS label map with 5 objects against a shifted, partly eroded copy."""
    p = CORPUS / "davis2017-osvos" / "gold-fish" / "00020.png"
    if p.exists():
        gt = np.array(Image.open(p))
    else:
        gt = np.zeros((480, 854), np.uint8)
        for k in range(1, 6):
            cv2.circle(gt, (120 * k, 100 + 50 * k), 60, k, -1)
    pred = _shift(gt, 4, -6)
    pred[cv2.erode((pred > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0] = 0
    ids = list(range(1, int(gt.max()) + 1))
    return gt, pred, ids


RESOLUTIONS = {"480p": (480, 854), "1080p": (1080, 1920)}


# --- F per object-frame --------------------------------------------------------------------


def _check_f(gt, pred):
    expect = official_f(pred, gt)
    assert metrics.boundary_f(gt, pred) == expect == cropped_f(pred, gt)


@pytest.mark.parametrize("res", RESOLUTIONS)
@pytest.mark.parametrize("impl", ["official", "fastmask"])
def test_f_vs_official(benchmark, res, impl):
    gt, pred = _davis_pair(*RESOLUTIONS[res])
    _check_f(gt, pred)
    benchmark.group = f"F object-frame {res} vs official"
    benchmark.extra_info["impl"] = impl
    if impl == "official":
        benchmark.extra_info["baseline"] = True
        benchmark(official_f, pred, gt)
    else:
        benchmark.extra_info["target"] = ">= 50x"
        benchmark(metrics.boundary_f, gt, pred)


@pytest.mark.parametrize("res", RESOLUTIONS)
@pytest.mark.parametrize("impl", ["numpy-opencv cropped", "fastmask"])
def test_f_vs_cropped(benchmark, res, impl):
    gt, pred = _davis_pair(*RESOLUTIONS[res])
    benchmark.group = f"F object-frame {res} vs cropped"
    benchmark.extra_info["impl"] = impl
    if impl == "fastmask":
        benchmark.extra_info["target"] = ">= 5x"
        benchmark(metrics.boundary_f, gt, pred)
    else:
        benchmark.extra_info["baseline"] = True
        benchmark(cropped_f, pred, gt)


# --- J and J&F for all objects of a frame --------------------------------------------------


@pytest.mark.parametrize("impl", ["numpy count_nonzero", "fastmask"])
def test_j_all_objects(benchmark, impl):
    gt, pred, ids = _osvos_pair()
    expect = numpy_j_all(gt, pred, ids)
    assert metrics.per_object_jaccard(gt, pred, ids).tolist() == expect
    benchmark.group = f"J all objects 480p ({len(ids)} objects)"
    benchmark.extra_info["impl"] = impl
    if impl == "fastmask":
        benchmark.extra_info["target"] = ">= 5x"
        benchmark(metrics.per_object_jaccard, gt, pred, ids)
    else:
        benchmark.extra_info["baseline"] = True
        benchmark(numpy_j_all, gt, pred, ids)


def _official_jf(gt, pred, ids):
    js = numpy_j_all(gt, pred, ids)
    fs = [official_f(pred == k, gt == k) for k in ids]
    return js, fs


@pytest.mark.parametrize("impl", ["official loop", "fastmask"])
def test_jf_all_objects(benchmark, impl):
    gt, pred, ids = _osvos_pair()
    benchmark.group = f"J&F all objects 480p ({len(ids)} objects)"
    benchmark.extra_info["impl"] = impl
    if impl == "fastmask":
        j, f = metrics.per_object(gt, pred, ids)
        assert (j.tolist(), f.tolist()) == _official_jf(gt, pred, ids)
        benchmark(metrics.per_object, gt, pred, ids)
    else:
        benchmark.extra_info["baseline"] = True
        benchmark(_official_jf, gt, pred, ids)


# --- multi-object sequences: per object, against the official computation -----------------

MULTI = ["gold-fish", "pigs", "india"]


def _multi_pair(seq: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """OSVOS's prediction of frame t against its prediction of frame t + 3 (real shapes with
    real motion between them), or generated circles without the corpus."""
    files = sorted((CORPUS / "davis2017-osvos" / seq).glob("*.png"))
    if len(files) > 3:
        t = len(files) // 2
        gt, pred = np.array(Image.open(files[t])), np.array(Image.open(files[t + 3]))
    else:
        gt = np.zeros((480, 854), np.uint8)
        for k in range(1, 4):
            cv2.circle(gt, (200 * k, 100 + 80 * k), 70, k, -1)
        pred = _shift(gt, 3, -5)
    ids = list(range(1, int(max(gt.max(), pred.max())) + 1))
    return gt, pred, ids


@pytest.mark.parametrize("seq", MULTI)
@pytest.mark.parametrize("impl", ["official", "fastmask boundary_f", "fastmask per_object"])
def test_f_per_object_multi(benchmark, seq, impl):
    """F of every object of a multi-object frame: the official full-frame ``f_measure`` per
    object (baseline) against ``boundary_f`` per object and one ``per_object`` call."""
    gt, pred, ids = _multi_pair(seq)
    gms, pms = [gt == k for k in ids], [pred == k for k in ids]
    expect = [official_f(p, g) for g, p in zip(gms, pms)]
    benchmark.group = f"F all objects 480p {seq} ({len(ids)} objects) vs official"
    benchmark.extra_info["impl"] = impl
    if impl == "official":
        benchmark.extra_info["baseline"] = True
        benchmark(lambda: [official_f(p, g) for g, p in zip(gms, pms)])
    elif impl == "fastmask boundary_f":
        benchmark.extra_info["target"] = ">= 50x"
        got = benchmark(lambda: [metrics.boundary_f(g, p) for g, p in zip(gms, pms)])
        assert got == expect
    else:
        benchmark.extra_info["target"] = ">= 50x"
        _, f = benchmark(metrics.per_object, gt, pred, ids)
        assert f.tolist() == expect


@pytest.mark.parametrize("seq", [*MULTI, "blackswan"])
@pytest.mark.parametrize("impl", ["jaccard + boundary_f", "per_object"])
def test_per_object_vs_binary(benchmark, seq, impl):
    """Label-map ``per_object`` against the binary path on the same objects (baseline:
    ``jaccard`` + ``boundary_f`` per object); target: at most 1.2x its time."""
    gt, pred, ids = _multi_pair(seq)
    gms, pms = [gt == k for k in ids], [pred == k for k in ids]
    benchmark.group = f"J+F per_object vs binary 480p {seq} ({len(ids)} objects)"
    benchmark.extra_info["impl"] = impl
    if impl == "per_object":
        benchmark.extra_info["target"] = ">= 0.83x (<= 1.2x binary)"
        benchmark(metrics.per_object, gt, pred, ids)
    else:
        benchmark.extra_info["baseline"] = True
        benchmark(
            lambda: [(metrics.jaccard(g, p), metrics.boundary_f(g, p)) for g, p in zip(gms, pms)]
        )
