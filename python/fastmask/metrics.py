"""VOS metrics with the official DAVIS numbers: J (region), F (boundary) and their statistics.

Every function reproduces davis2017-evaluation (``davis2017/metrics.py``, ``utils.py``) to the
last float64 bit, and runs in Rust with the GIL released:

- :func:`jaccard` is ``db_eval_iou``;
- :func:`boundary_map` is ``_seg2bmap``;
- :func:`boundary_f` is ``f_measure`` (``db_eval_boundary``), with the dilation by
  ``skimage.morphology.disk`` done only around the boundaries instead of over the whole frame;
- :func:`per_object` gives J and F of every object of a pair of label maps in one pass
  (:func:`per_object_jaccard` only J);
- :func:`statistics` is ``db_statistics`` (mean, recall, decay);
- :func:`bound_pix` and :func:`disk` are the boundary radius rule and skimage's disk.

Masks are ``bool`` or ``uint8`` arrays where nonzero is foreground (other dtypes are compared
with 0), shaped ``(H, W)`` for one frame or ``(T, H, W)`` for a stack. ``void`` marks pixels to
ignore, ``(H, W)`` (shared by every frame) or ``(T, H, W)``. ``threads`` spreads the frames of a
stack over that many threads (``None``: one per core).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastmask import _fastmask

__all__ = [
    "bound_pix",
    "boundary_f",
    "boundary_map",
    "disk",
    "jaccard",
    "per_object",
    "per_object_jaccard",
    "statistics",
]

FloatOrArray = float | NDArray[np.float64]


def _stack(x: ArrayLike, name: str) -> tuple[np.ndarray, bool]:
    """``x`` as a C-contiguous ``(T, H, W)`` array, and whether it was a single frame."""
    a = np.asarray(x)
    if a.ndim == 2:
        return np.ascontiguousarray(a[None]), True
    if a.ndim == 3:
        return np.ascontiguousarray(a), False
    raise ValueError(f"{name} must have shape (H, W) or (T, H, W); got shape {a.shape}")


def _mask(x: ArrayLike, name: str) -> tuple[NDArray[np.uint8], bool]:
    """A binary mask stack as uint8 (nonzero = set) without copying bool or uint8 input."""
    a, single = _stack(x, name)
    if a.dtype == np.bool_:
        return a.view(np.uint8), single
    if a.dtype == np.uint8:
        return a, single
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a boolean or numeric mask; got dtype {a.dtype}")
    return (a != 0).view(np.uint8), single


def _void(void: ArrayLike | None, shape: tuple[int, ...]) -> NDArray[np.uint8] | None:
    if void is None:
        return None
    v, _ = _mask(void, "void")
    if v.shape[1:] != shape[1:] or v.shape[0] not in (1, shape[0]):
        raise ValueError(
            f"void must have shape {shape[1:]} or {shape}; got {np.asarray(void).shape}"
        )
    return v


def _pair(
    gt: ArrayLike, pred: ArrayLike, void: ArrayLike | None
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8] | None, bool]:
    g, single = _mask(gt, "gt")
    p, _ = _mask(pred, "pred")
    if g.shape != p.shape:
        raise ValueError(
            f"gt and pred must have the same shape; got {np.shape(gt)} and {np.shape(pred)}"
        )
    return g, p, _void(void, g.shape), single


def jaccard(
    gt: ArrayLike, pred: ArrayLike, void: ArrayLike | None = None, *, threads: int | None = None
) -> FloatOrArray:
    """Region similarity J = |gt & pred| / |gt | pred| (``db_eval_iou``).

    Void pixels are removed from both masks; J is 1.0 when the union is empty.

    Args:
        gt, pred: masks ``(H, W)`` or ``(T, H, W)``, nonzero = foreground.
        void: optional void mask ``(H, W)`` or ``(T, H, W)``.
        threads: threads for a stack (``None``: one per core).

    Returns:
        ``float`` for one frame, a ``(T,)`` float64 array for a stack.

    Example:
        >>> g = np.zeros((4, 4), bool); g[:2] = True
        >>> jaccard(g, g[::-1])
        0.0
    """
    g, p, v, single = _pair(gt, pred, void)
    j = _fastmask._jaccard(g, p, v, threads)
    return float(j[0]) if single else j


def boundary_map(mask: ArrayLike, *, threads: int | None = None) -> NDArray[np.bool_]:
    """The DAVIS boundary map of a mask (``_seg2bmap``).

    A pixel is on the boundary when it differs from its east, south or south-east neighbour;
    in the last row only east counts, in the last column only south, and the bottom-right
    pixel is never a boundary (pixels past the image edge are not background).

    Args:
        mask: ``(H, W)`` or ``(T, H, W)``, nonzero = foreground.
        threads: threads for a stack (``None``: one per core).

    Returns:
        bool array of the input's shape.

    Example:
        >>> m = np.zeros((3, 3), bool); m[1, 1] = True
        >>> boundary_map(m).astype(int)
        array([[1, 1, 0],
               [1, 1, 0],
               [0, 0, 0]])
    """
    m, single = _mask(mask, "mask")
    b = _fastmask._boundary_map(m, threads)
    return b[0] if single else b


def boundary_f(
    gt: ArrayLike,
    pred: ArrayLike,
    bound_th: float = 0.008,
    void: ArrayLike | None = None,
    *,
    threads: int | None = None,
) -> FloatOrArray:
    """Boundary F measure (``f_measure(pred, gt)`` of the official code).

    Precision is the share of ``pred``'s boundary pixels within ``bound_pix`` pixels (the
    ``disk``) of ``gt``'s boundary, recall the converse. No boundary in either mask gives 1.0;
    a boundary in only one of them gives 0.0. Void pixels are set to background in both masks
    before the boundaries are taken, as the official code does (a void region cutting an
    object therefore adds boundary along the void's edge).

    Args:
        gt, pred: masks ``(H, W)`` or ``(T, H, W)``, nonzero = foreground.
        bound_th: fraction of the image diagonal (< 1), or a pixel radius (>= 1, may be
            non-integer; see :func:`disk`).
        void: optional void mask ``(H, W)`` or ``(T, H, W)``.
        threads: threads for a stack (``None``: one per core).

    Returns:
        ``float`` for one frame, a ``(T,)`` float64 array for a stack.

    Example:
        >>> g = np.zeros((48, 64), bool); g[10:30, 10:40] = True
        >>> boundary_f(g, np.roll(g, 1, axis=1))
        1.0
    """
    g, p, v, single = _pair(gt, pred, void)
    f = _fastmask._boundary_f(g, p, float(bound_th), v, threads)
    return float(f[0]) if single else f


def _labels(x: ArrayLike, name: str) -> tuple[np.ndarray, bool]:
    a, single = _stack(x, name)
    if a.dtype == np.bool_:
        return a.view(np.uint8), single
    if a.dtype in (np.uint8, np.uint16):
        return a, single
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer label map; got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() > 65535):
        raise ValueError(
            f"{name} labels must be in 0..65535; got values from {a.min()} to {a.max()}"
        )
    return a.astype(np.uint16), single


def per_object(
    gt_labels: ArrayLike,
    pred_labels: ArrayLike,
    ids: Iterable[int] | None = None,
    void: ArrayLike | None = None,
    bound_th: float = 0.008,
    *,
    threads: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """J and F of every object of a pair of label maps, in one pass over each map.

    Object ``k`` is ``labels == k`` in both maps; J and F are exactly :func:`jaccard` and
    :func:`boundary_f` of those masks. An object absent from both frames scores J = F = 1 (the
    official empty-mask conventions).

    Args:
        gt_labels, pred_labels: label maps ``(H, W)`` or ``(T, H, W)``, uint8 or uint16 (other
            integer dtypes with values in 0..65535 are converted).
        ids: the object ids to score, distinct. Default: ``1..gt_labels.max()`` (over every
            frame of a stack). The DAVIS protocol takes the objects of the *first* frame and
            treats 255 as void, not as an object: pass ``ids`` (and ``void``) explicitly there.
        void: optional void mask ``(H, W)`` or ``(T, H, W)``, removed from J and set to
            background for F in every object.
        bound_th: as in :func:`boundary_f`.
        threads: threads for a stack (``None``: one per core).

    Returns:
        ``(J, F)``: float64 arrays of shape ``(len(ids),)`` for one frame, ``(T, len(ids))``
        for a stack.

    Example:
        >>> gt = np.zeros((48, 64), np.uint8); gt[5:20, 5:20] = 1; gt[25:40, 30:60] = 2
        >>> J, F = per_object(gt, gt)
        >>> J.tolist(), F.tolist()
        ([1.0, 1.0], [1.0, 1.0])
    """
    g, p, id_list, v, single = _label_pair(gt_labels, pred_labels, ids, void)
    j, f = _fastmask._per_object(g, p, id_list, float(bound_th), v, threads)
    return (j[0], f[0]) if single else (j, f)


def per_object_jaccard(
    gt_labels: ArrayLike,
    pred_labels: ArrayLike,
    ids: Iterable[int] | None = None,
    void: ArrayLike | None = None,
    *,
    threads: int | None = None,
) -> NDArray[np.float64]:
    """J of every object of a pair of label maps, in one pass (the J half of :func:`per_object`).

    Arguments as in :func:`per_object`. Returns a float64 array of shape ``(len(ids),)`` for one
    frame, ``(T, len(ids))`` for a stack.

    Example:
        >>> gt = np.zeros((4, 4), np.uint8); gt[:2, :2] = 1; gt[2:, 2:] = 2
        >>> per_object_jaccard(gt, np.where(gt == 2, 0, gt)).tolist()
        [1.0, 0.0]
    """
    g, p, id_list, v, single = _label_pair(gt_labels, pred_labels, ids, void)
    j = _fastmask._per_object_jaccard(g, p, id_list, v, threads)
    return j[0] if single else j


def _label_pair(
    gt_labels: ArrayLike,
    pred_labels: ArrayLike,
    ids: Iterable[int] | None,
    void: ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, list[int], NDArray[np.uint8] | None, bool]:
    g, single = _labels(gt_labels, "gt_labels")
    p, _ = _labels(pred_labels, "pred_labels")
    if g.shape != p.shape:
        raise ValueError(
            "gt_labels and pred_labels must have the same shape; "
            f"got {np.shape(gt_labels)} and {np.shape(pred_labels)}"
        )
    if g.dtype != p.dtype:
        g, p = g.astype(np.uint16), p.astype(np.uint16)
    if ids is None:
        id_list = list(range(1, int(g.max()) + 1)) if g.size else []
    else:
        id_list = [operator.index(i) for i in ids]
        bad = [i for i in id_list if not 0 <= i <= 0xFFFFFFFF]
        if bad:
            raise ValueError(f"object ids must be in 0..2**32-1; got {bad[0]}")
    return g, p, id_list, _void(void, g.shape), single


def statistics(
    values: ArrayLike, decay: Literal["davis", "exact"] = "davis"
) -> tuple[float, float, float] | tuple[NDArray[np.float64], ...]:
    """Mean, recall and decay of per-frame values, as ``db_statistics``.

    - mean = ``nanmean(v)`` (numpy's pairwise summation, so bit-identical);
    - recall = ``mean(v > 0.5)``: a NaN frame counts as a miss, it is not skipped;
    - decay = ``nanmean(bin 0) - nanmean(bin 3)``, the bins being ``v[e[i]:e[i+1] + 1]`` with
      edges ``e = round(linspace(1, T, 5) + 1e-10) - 1``.

    ``decay="davis"`` casts the edges to uint8 as the reference does, which wraps from 256
    frames on (an edge of 300 becomes 44, and with numpy 2 an edge of 255 plus 1 becomes 0),
    so long sequences (LVOS, MOSE) get a wrong or NaN decay: this is what the official code
    reports. ``decay="exact"`` uses the intended edges; both agree below 256 frames.
    Empty input gives NaN for all three.

    Args:
        values: ``(T,)`` values of one object, or ``(N, T)`` for N objects (one row each).
        decay: ``"davis"`` or ``"exact"``.

    Returns:
        ``(mean, recall, decay)``: floats for ``(T,)`` input, ``(N,)`` float64 arrays for
        ``(N, T)``.

    Example:
        >>> statistics([1.0, 0.8, 0.6, 0.4, float("nan")])
        (0.7, 0.6, 0.5)
    """
    if decay not in ("davis", "exact"):
        raise ValueError(f'decay must be "davis" or "exact"; got {decay!r}')
    a = np.asarray(values, dtype=np.float64)
    if a.ndim not in (1, 2):
        raise ValueError(f"values must have shape (T,) or (N, T); got shape {a.shape}")
    rows = np.ascontiguousarray(a[None] if a.ndim == 1 else a)
    m, r, d = _fastmask._statistics(rows, decay == "exact")
    if a.ndim == 1:
        return float(m[0]), float(r[0]), float(d[0])
    return m, r, d


def bound_pix(bound_th: float, height: int, width: int) -> float:
    """The boundary radius in pixels for a ``height x width`` frame.

    ``ceil(bound_th * sqrt(height**2 + width**2))`` when ``bound_th < 1``, else ``bound_th``
    itself. 480x854 -> 8.0, 480x910 -> 9.0, 720x1280 -> 12.0, 1080x1920 -> 18.0.

    Example:
        >>> bound_pix(0.008, 480, 854)
        8.0
    """
    return _fastmask._bound_pix(float(bound_th), operator.index(height), operator.index(width))


def disk(radius: float) -> NDArray[np.uint8]:
    """``skimage.morphology.disk(radius)``: the dilation kernel of :func:`boundary_f`.

    The cells of ``arange(-radius, radius + 1)`` squared with ``x**2 + y**2 <= radius**2``.
    For an integer radius that is the usual ``(2r+1, 2r+1)`` disk. For a non-integer radius
    the grid is not centred on 0 (radius 2.5: a 6x6 array of coordinates -2.5..2.5 whose outer
    ring is empty), and ``cv2.dilate`` anchors it at ``(n // 2, n // 2)``, so the neighbourhood
    is off-centre; :func:`boundary_f` reproduces exactly that. scikit-image has used this
    ``arange`` formula for years and still does in 0.26 (the later ``decomposition=None`` and
    ``strict_radius=True`` defaults keep it); only very old releases built the grid with
    ``linspace(-r, r, 2r + 1)``, which does not accept a non-integer radius at all.

    Example:
        >>> disk(1)
        array([[0, 1, 0],
               [1, 1, 1],
               [0, 1, 0]], dtype=uint8)
    """
    return _fastmask._disk(float(radius))
