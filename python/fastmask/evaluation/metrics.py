"""Per-frame scores that the dataset protocols add to the DAVIS J and F of :mod:`fastmask.metrics`.

- MOSE v2 (henghuiding/MOSE-api, ``MOSEv2/sam2_rcms/tools/metricsv2.py`` and ``score.py``):
  :func:`smoothed_jaccard` ``J = (I + 1) / (U + 1)`` clipped to [0, 1], 1 for an empty union;
  :func:`mosev2_boundary`: the adaptive boundary F ("F-dot", ``F_new``) whose radius is
  ``min(0.008 * diag, ceil(0.1 * sqrt(gt_area)))`` (``0.008 * diag`` when the ground truth is
  empty), and its plain F, whose radius is ``ceil(0.008 * diag)`` when the adaptive radius is
  smaller and the UNROUNDED ``0.008 * diag`` otherwise (``skimage.morphology.disk`` of a
  non-integer radius: an off-centre kernel, e.g. 17 x 17 cells for 7.83 px at 480p);
  :func:`disappear_reappear`: J and F averaged over the stretches where the object has left
  (ground truth empty) and over those after it came back.
- LVOS (LingyiHongfd/lvos-evaluation, ``lvos/utils.py``): :func:`lvos_v`, the V (variance) of the
  per-frame (J + F) / 2 around its mean, ``sqrt(round(sum((mean - JF)^2) / T, 4))``.
- :func:`statistics`: DAVIS Mean / Recall / Decay with the decay bin edges either as the
  reference computes them (``decay="davis"``: cast to uint8, wrong from 256 frames on) or
  exact (``decay="exact"``).

Every function takes stacks: ``(T, H, W)`` masks (nonzero = object) and returns ``(T,)`` float64.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "adaptive_radius",
    "boundary_f_radius",
    "disappear_reappear",
    "lvos_v",
    "mosev2_boundary",
    "radii_from_area",
    "smoothed_from_counts",
    "smoothed_jaccard",
    "statistics",
]

F64 = NDArray[np.float64]


def _metrics() -> Any:
    from fastmask import metrics  # the metrics core (J, boundary F, disk)

    return metrics


def _stack(x: ArrayLike, name: str) -> NDArray[np.bool_]:
    a = np.asarray(x)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"{name} must have shape (H, W) or (T, H, W); got {np.shape(x)}")
    return a if a.dtype == np.bool_ else a != 0


def smoothed_jaccard(gt: ArrayLike, pred: ArrayLike) -> tuple[F64, NDArray[np.bool_]]:
    """MOSE v2 J: ``(|G & P| + 1) / (|G | P| + 1)`` clipped to [0, 1]; 1 where ``G | P`` is
    empty. Also returns ``empty_gt`` (``(T,) bool``), which the disappear / reappear scores use.

    Example:
        >>> g = np.zeros((1, 4, 4), bool); g[0, :2] = True
        >>> smoothed_jaccard(g, g[:, ::-1])[0]
        array([0.05882353])
    """
    g, p = _stack(gt, "gt"), _stack(pred, "pred")
    if g.shape != p.shape:
        raise ValueError(f"gt and pred must have the same shape; got {g.shape} and {p.shape}")
    inter = np.count_nonzero(g & p, axis=(1, 2))
    union = np.count_nonzero(g | p, axis=(1, 2))
    return _smoothed(inter, union), np.count_nonzero(g, axis=(1, 2)) == 0


def smoothed_from_counts(inter: ArrayLike, union: ArrayLike) -> F64:
    """:func:`smoothed_jaccard` from intersection and union pixel counts.

    Example:
        >>> smoothed_from_counts([0, 3], [0, 4])
        array([1. , 0.8])
    """
    return _smoothed(np.asarray(inter), np.asarray(union))


def _smoothed(inter: NDArray[Any], union: NDArray[Any]) -> F64:
    j = np.clip((inter + 1) / (union + 1), 0, 1).astype(np.float64)
    j[union == 0] = 1.0
    return j


def boundary_f_radius(
    gt: ArrayLike, pred: ArrayLike, radius: float | ArrayLike, *, threads: int | None = None
) -> F64:
    """DAVIS boundary F (``f_measure(pred, gt)``) with a given dilation radius in pixels, per
    frame (``radius``: one value or ``(T,)``; non-integer radii use skimage's off-centre
    disk; radii below 1 px raise ``ValueError``). Frames sharing a radius go to the metrics core
    together.

    Example:
        >>> g = np.zeros((1, 48, 64), bool); g[0, 10:30, 10:40] = True
        >>> boundary_f_radius(g, np.roll(g, 3, axis=2), 2.5)
        array([0.61983871])
    """
    g, p = _stack(gt, "gt"), _stack(pred, "pred")
    r = np.broadcast_to(np.asarray(radius, np.float64), (len(g),))
    out = np.empty(len(g))
    m = _metrics()
    if r.size and not np.all(r >= 1):
        raise ValueError(
            f"boundary radius {float(r.min())} px is below 1 (a frame diagonal under 125 px for "
            "MOSE v2): skimage's disk is then empty or degenerate and cv2.dilate shifts the "
            "image instead of dilating it; such frames are not supported"
        )
    for value in np.unique(r):
        idx = np.flatnonzero(r == value)
        out[idx] = m.boundary_f(g[idx], p[idx], float(value), threads=threads)
    return out


def adaptive_radius(gt: ArrayLike) -> tuple[F64, F64]:
    """The MOSE v2 radii per frame: ``(plain, dot)``.

    ``base = 0.008 * sqrt(H^2 + W^2)``; ``a = ceil(0.1 * sqrt(area))`` (``ceil(0.1 * diag)`` for an
    empty ground truth), ``dot = min(base, a)``. When ``dot < base`` the plain F uses
    ``ceil(base)`` (the DAVIS radius); otherwise both use the unrounded ``base``.

    Example:
        >>> g = np.zeros((1, 480, 854), bool); g[0, :10, :10] = True
        >>> adaptive_radius(g)
        (array([8.]), array([1.]))
    """
    g = _stack(gt, "gt")
    h, w = g.shape[1:]
    return radii_from_area(np.count_nonzero(g, axis=(1, 2)), h, w)


def radii_from_area(area: ArrayLike, height: int, width: int) -> tuple[F64, F64]:
    """:func:`adaptive_radius` from the ground-truth areas (pixel counts) of ``(T,)`` frames
    of ``height x width``.

    Example:
        >>> radii_from_area([100, 0], 480, 854)
        (array([8.        , 7.83720767]), array([1.        , 7.83720767]))
    """
    area = np.asarray(area)
    diag = float(np.linalg.norm((height, width)))
    base = 0.008 * diag
    a = np.where(area > 0, np.ceil(0.1 * np.sqrt(area)), np.ceil(0.1 * diag))
    dot = np.minimum(base, a)
    plain = np.where(dot < base, np.ceil(base), base)
    dot = np.where(dot < base, dot, base)
    return plain.astype(np.float64), dot.astype(np.float64)


def mosev2_boundary(
    gt: ArrayLike, pred: ArrayLike, *, threads: int | None = None
) -> tuple[F64, F64]:
    """MOSE v2 boundary scores per frame: ``(F, F_new)``: the plain F and the adaptive F-dot
    (see :func:`adaptive_radius`), both ``f_measure(pred, gt)`` with those radii.

    Example:
        >>> F, F_new = mosev2_boundary(gt_stack == 1, pred_stack == 1)  # doctest: +SKIP
    """
    g, p = _stack(gt, "gt"), _stack(pred, "pred")
    plain, dot = adaptive_radius(g)
    return boundary_pair(g, p, plain, dot, threads=threads)


def boundary_pair(
    gt: ArrayLike, pred: ArrayLike, plain: F64, dot: F64, *, threads: int | None = None
) -> tuple[F64, F64]:
    """``(F, F_new)`` of :func:`mosev2_boundary` with the radii already known (frames where
    both radii agree are computed once)."""
    g, p = _stack(gt, "gt"), _stack(pred, "pred")
    f_plain = boundary_f_radius(g, p, plain, threads=threads)
    f_dot = f_plain.copy()
    differ = np.flatnonzero(dot != plain)
    if differ.size:
        f_dot[differ] = boundary_f_radius(g[differ], p[differ], dot[differ], threads=threads)
    return f_plain, f_dot


def disappear_reappear(
    j: ArrayLike, f: ArrayLike, empty_gt: ArrayLike
) -> tuple[float | None, float | None, float | None, float | None]:
    """MOSE v2 ``(disappear_J, disappear_F, reappear_J, reappear_F)`` of one object.

    A disappearance starts where the ground truth turns empty (or at the first frame when it is
    empty there) and lasts until it reappears; a reappearance lasts from there until the next
    disappearance. Each stretch's mean J and F are averaged over stretches. A disappearance at
    the first frame is not scored (nothing disappeared), as in the reference. ``None`` when there
    is no stretch.

    Example:
        >>> disappear_reappear([1, .5, 1, .2], [1, .4, 1, .6], [False, True, False, False])
        (0.5, 0.4, 0.6, 0.8)
    """
    jl, fl = np.asarray(j, np.float64), np.asarray(f, np.float64)
    e = np.asarray(empty_gt, bool)
    if e.size == 0:
        return None, None, None, None
    dis = np.flatnonzero(~e[:-1] & e[1:]) + 1
    if e[0]:
        dis = np.insert(dis, 0, 0)
    rep = np.flatnonzero(e[:-1] & ~e[1:]) + 1
    dj = df = rj = rf = None
    segs = []
    for i, s in enumerate(dis):
        end = rep[i] if i < len(rep) else len(e)
        if s > 0:
            segs.append((jl[s:end].mean(), fl[s:end].mean()))
    if segs:
        dj = float(np.mean([a for a, _ in segs]))
        df = float(np.mean([b for _, b in segs]))
    segs = []
    for i, s in enumerate(rep):
        end = dis[i + 1] if i + 1 < len(dis) else len(e)
        segs.append((jl[s:end].mean(), fl[s:end].mean()))
    if segs:
        rj = float(np.mean([a for a, _ in segs]))
        rf = float(np.mean([b for _, b in segs]))
    return dj, df, rj, rf


def lvos_v(j: ArrayLike, f: ArrayLike) -> float:
    """LVOS V of one object: ``sqrt(round(nansum((nanmean(JF) - JF) ** 2) / T, 4))`` with
    ``JF = (J + F) / 2`` per frame (numpy's rounding, as the reference rounds a numpy float).

    Example:
        >>> lvos_v([1.0, 0.5], [1.0, 0.5])
        0.25
    """
    jf = (np.asarray(j, np.float64) + np.asarray(f, np.float64)) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(jf)
        v = np.nansum((mean - jf) ** 2) / np.float64(len(jf))
    return math.sqrt(float(np.round(v, 4)))


#: ``decay=`` values and the rule each names (statistics() and the evaluators take both).
_DECAY_NAMES = {"davis": "davis", "reference": "davis", "exact": "exact", "corrected": "exact"}


def statistics(values: ArrayLike, decay: str = "exact") -> tuple[float, float, float]:
    """DAVIS ``(Mean, Recall, Decay)`` of one object's per-frame values
    (:func:`fastmask.metrics.statistics`).

    ``decay="davis"`` (also ``"reference"``): bin edges cast to uint8 as davis2017-evaluation
    does, which is wrong from 256 frames on (LVOS and MOSE videos are that long);
    ``decay="exact"`` (also ``"corrected"``): the intended edges. Both agree below 256 frames.

    Example:
        >>> statistics(np.linspace(1, 0, 300), "exact")[2] > 0.7
        True
    """
    if decay not in _DECAY_NAMES:
        raise ValueError(f'decay must be "exact" or "davis"; got {decay!r}')
    m, r, d = _metrics().statistics(np.asarray(values, np.float64), _DECAY_NAMES[decay])
    return float(m), float(r), float(d)
