"""A drop-in for ``pycocotools.mask``: COCO run-length encoding in Rust.

Replace ``from pycocotools import mask as mask_util`` with
``from fastmask import coco as mask_util``: the seven functions take the same arguments and
return the same values (counts bytes, dtypes, shapes, Fortran memory order of decoded
masks, dict keys, a dict for one object and a list for several, ``[]`` from an empty
``iou``, crowd semantics, polygon rasterisation).

RLE dicts are ``{"size": [h, w], "counts": b"..."}``: runs in column-major (Fortran) order,
alternating background and foreground, starting with background.

Beyond pycocotools:

- ``encode`` accepts C-ordered, Fortran-ordered and strided arrays and ``bool`` masks, and
  reads them in place (no ``np.asfortranarray`` copy; runs are column-major all the same);
- ``counts`` may be ``bytes``, ``str`` (as in JSON files) or a list of ints in every input;
- the GIL is released while encoding, decoding and computing, and ``encode``/``decode``
  take ``threads=`` for stacks and lists (default: one thread below ~2 Mpx of work);
- ``frPyObjects`` also takes boxes as lists (``[[x, y, w, h], ...]`` or one ``[x, y, w, h]``),
  one flat polygon, and an empty list (``[]``).

Where pycocotools reads uninitialised memory, crashes or returns garbage, fastmask raises
instead: :class:`fastmask.RleError` (a ``ValueError``) for counts that do not sum to
``h * w``, truncated or malformed count strings, negative counts, ``decode([])`` and
``merge([])``; ``ValueError`` for masks of different sizes in one ``decode``, ``merge`` or
``iou`` call (pycocotools returns a size ``[0, 0]`` merge or an IoU of -1), masks that are
not 2-D or 3-D or not ``uint8``/``bool``, box arrays that are not ``(N, 4)``, and an
``iscrowd`` of the wrong length (pycocotools: ``AssertionError``); ``TypeError`` for inputs
of the wrong type. One call decodes at most 2^31 pixels in all (a list of 12 masks of
65536 x 32768 raises :class:`fastmask.RleError` naming that budget), and memory the system
refuses raises ``MemoryError``: no input aborts the process. As in pycocotools, ``size`` may
hold integral floats (``[480.0, 854.0]``) and counts may hold zero-length runs anywhere
(``{"size": [1, 1], "counts": b"001"}``).

**The one intended difference in results**: a ``uint8`` mask with values other than 0 and 1
is read as "non-zero is foreground". pycocotools starts a new run at every change of byte
value, so a mask holding 0, 1 and 255 encodes to runs that decode to a different mask;
for 0/1 (and bool) masks the bytes are identical.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from fastmask import _fastmask

__all__ = ["area", "decode", "encode", "frPyObjects", "iou", "merge", "toBbox"]

RLE = dict[str, Any]
RLEs = RLE | list[RLE]


def _as_stack(bimask: Any) -> np.ndarray:
    """A 3-D uint8 view of a 2-D or 3-D uint8/bool mask (no copy)."""
    if not isinstance(bimask, np.ndarray):
        raise TypeError(f"masks must be a numpy array; got {type(bimask).__name__}")
    if bimask.dtype == np.bool_:
        bimask = bimask.view(np.uint8)
    elif bimask.dtype != np.uint8:
        raise ValueError(f"masks must be uint8 or bool; got dtype {bimask.dtype}")
    if bimask.ndim == 2:
        return bimask[:, :, None]
    if bimask.ndim != 3:
        raise ValueError(f"masks must have shape (h, w) or (h, w, n); got {bimask.shape}")
    return bimask


def encode(bimask: np.ndarray, *, threads: int | None = None) -> RLEs:
    """Run-length encode a mask ``(h, w)`` -> dict, or a stack ``(h, w, n)`` -> list of dicts.

    ``bimask`` is ``uint8`` or ``bool`` in any memory order; non-zero is foreground.

    >>> encode(np.array([[0, 1], [1, 1]], dtype=np.uint8))
    {'size': [2, 2], 'counts': b'13'}
    """
    stack = _as_stack(bimask)
    rles = _fastmask._rle_encode(stack, threads)
    return rles[0] if bimask.ndim == 2 else rles


def decode(rleObjs: RLEs, *, threads: int | None = None) -> np.ndarray:
    """Decode one RLE dict -> ``(h, w)`` or a list -> ``(h, w, n)``; uint8 0/1, Fortran order.

    >>> decode({"size": [2, 2], "counts": b"13"}).tolist()
    [[0, 1], [1, 1]]
    """
    if isinstance(rleObjs, (list, tuple)):
        return _fastmask._rle_decode(rleObjs, threads)
    if isinstance(rleObjs, dict):
        return _fastmask._rle_decode([rleObjs], threads)[:, :, 0]
    raise TypeError(f"expected an RLE dict or a list of them; got {type(rleObjs).__name__}")


def area(rleObjs: RLEs) -> Any:
    """Foreground pixel count: ``np.uint32`` for a dict, a ``uint32`` array ``(n,)`` for a list.

    >>> int(area({"size": [2, 2], "counts": b"13"}))
    3
    """
    if isinstance(rleObjs, (list, tuple)):
        return _fastmask._rle_area(rleObjs)
    if isinstance(rleObjs, dict):
        return _fastmask._rle_area([rleObjs])[0]
    raise TypeError(f"expected an RLE dict or a list of them; got {type(rleObjs).__name__}")


def toBbox(rleObjs: RLEs) -> np.ndarray:
    """Bounding boxes ``[x, y, w, h]`` (float64): ``(4,)`` for a dict, ``(n, 4)`` for a list.

    An empty mask gives ``[0, 0, 0, 0]``.

    >>> toBbox({"size": [2, 2], "counts": b"13"}).tolist()
    [0.0, 0.0, 2.0, 2.0]
    """
    if isinstance(rleObjs, (list, tuple)):
        return _fastmask._rle_to_bbox(rleObjs)
    if isinstance(rleObjs, dict):
        return _fastmask._rle_to_bbox([rleObjs])[0]
    raise TypeError(f"expected an RLE dict or a list of them; got {type(rleObjs).__name__}")


def merge(rleObjs: list[RLE], intersect: Any = 0) -> RLE:
    """Union (or intersection when ``intersect`` is true) of a list of RLEs of one size.

    >>> a = {"size": [2, 2], "counts": b"13"}
    >>> merge([a, {"size": [2, 2], "counts": b"031"}], intersect=1)
    {'size': [2, 2], 'counts': b'121'}
    """
    if not isinstance(rleObjs, (list, tuple)):
        raise TypeError(f"merge expects a list of RLE dicts; got {type(rleObjs).__name__}")
    return _fastmask._rle_merge(rleObjs, bool(intersect))


def _iou_operand(objs: Any, name: str) -> tuple[str, Any]:
    """("rle", list of dicts) or ("box", float64 (N, 4)), as pycocotools' ``_preproc``."""
    if isinstance(objs, np.ndarray):
        if len(objs) == 0:
            return "empty", objs
        if objs.ndim != 2 or objs.shape[1] != 4:
            raise ValueError(f"{name}: an array must hold boxes of shape (N, 4); got {objs.shape}")
        return "box", np.ascontiguousarray(objs, dtype=np.float64)
    if isinstance(objs, (list, tuple)):
        if len(objs) == 0:
            return "empty", objs
        if all(isinstance(o, dict) for o in objs):
            return "rle", objs
        if all(isinstance(o, (list, tuple, np.ndarray)) and len(o) == 4 for o in objs):
            return "box", np.array(objs, dtype=np.float64).reshape(-1, 4)
        raise TypeError(f"{name}: a list must hold boxes (N x 4) or RLE dicts")
    raise TypeError(
        f"{name} must be a list of RLE dicts, an (N, 4) array or a list of boxes; "
        f"got {type(objs).__name__}"
    )


def iou(dt: Any, gt: Any, pyiscrowd: Any) -> Any:
    """IoU of every ``dt`` against every ``gt``: float64 ``(m, n)`` (Fortran order).

    ``dt`` and ``gt`` are both lists of RLE dicts, or both boxes ``[x, y, w, h]`` (an
    ``(N, 4)`` array or a list of 4-lists). For a gt with ``pyiscrowd[j]`` true the score is
    ``|dt & gt| / |dt|``. An empty ``dt`` or ``gt`` gives ``[]``.

    >>> iou([[0, 0, 2, 2]], [[1, 1, 2, 2]], [0]).tolist()
    [[0.14285714285714285]]
    """
    crowd = np.array(pyiscrowd, dtype=np.uint8)
    if crowd.ndim != 1:
        raise ValueError(f"iscrowd must be a 1-D sequence of flags; got shape {crowd.shape}")
    dk, d = _iou_operand(dt, "dt")
    gk, g = _iou_operand(gt, "gt")
    if len(crowd) != len(g):
        raise ValueError(f"iscrowd has {len(crowd)} flags but gt has {len(g)} objects")
    if dk == "empty" or gk == "empty":
        return []
    if dk != gk:
        raise TypeError("dt and gt must both be RLE dicts or both be boxes")
    if dk == "rle":
        return _fastmask._rle_iou(d, g, crowd)
    return _fastmask._bbox_iou(d, g, crowd)


def _dim(v: Any, name: str) -> int:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    try:
        n = operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int; got {v!r}") from None
    if n < 0:
        raise ValueError(f"{name} must be >= 0; got {n}")
    return n


def _is_seq(o: Any) -> bool:
    return isinstance(o, (list, tuple, np.ndarray))


def _polygons(polys: list[Any]) -> list[np.ndarray]:
    out = []
    for i, p in enumerate(polys):
        a = np.asarray(p, dtype=np.float64)
        if a.ndim != 1:
            raise ValueError(f"polygon {i} must be flat [x0, y0, x1, y1, ...]; got {a.shape}")
        out.append(a)
    return out


def _boxes(b: Any) -> np.ndarray:
    a = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4); got {a.shape}")
    return np.ascontiguousarray(a)


def frPyObjects(pyobj: Any, h: int, w: int) -> RLEs:
    """Polygons, boxes or uncompressed RLEs -> compressed RLE dicts for an ``h x w`` image.

    - a list of polygons ``[[x0, y0, x1, y1, ...], ...]`` -> list (pixel centres inside,
      even-odd fill, pycocotools' x5 grid and rounding);
    - boxes ``[x, y, w, h]`` as an ``(N, 4)`` array or list of 4-lists -> list;
    - a list of uncompressed RLE dicts (``counts`` a list of ints) -> list;
    - one polygon, one box or one RLE dict -> dict.

    Uncompressed RLEs keep their own ``size`` (``h`` and ``w`` are not used), as pycocotools.

    >>> frPyObjects([[0, 0, 2, 0, 2, 2, 0, 2]], 3, 3)
    [{'size': [3, 3], 'counts': b'02103'}]
    """
    h, w = _dim(h, "h"), _dim(w, "w")
    if isinstance(pyobj, np.ndarray):
        return _fastmask._rle_fr_bbox(_boxes(pyobj), h, w)
    if isinstance(pyobj, dict):
        if "counts" in pyobj and "size" in pyobj:
            return _fastmask._rle_compress([pyobj])[0]
        raise TypeError("an RLE dict needs 'size' and 'counts' keys")
    if isinstance(pyobj, list):
        if len(pyobj) == 0:
            return []
        first = pyobj[0]
        if isinstance(first, dict):
            return _fastmask._rle_compress(pyobj)
        if _is_seq(first):
            if len(first) == 4:
                return _fastmask._rle_fr_bbox(_boxes(pyobj), h, w)
            if len(first) > 4:
                return _fastmask._rle_fr_poly(_polygons(pyobj), h, w)
            raise ValueError(
                f"object 0 has {len(first)} values: expected a box [x, y, w, h] or a "
                "polygon [x0, y0, x1, y1, x2, y2, ...]"
            )
        if len(pyobj) == 4:
            return _fastmask._rle_fr_bbox(_boxes([pyobj]), h, w)[0]
        if len(pyobj) > 4:
            return _fastmask._rle_fr_poly(_polygons([pyobj]), h, w)[0]
        raise ValueError(
            f"got {len(pyobj)} numbers: expected a box [x, y, w, h] or a polygon "
            "[x0, y0, x1, y1, x2, y2, ...]"
        )
    raise TypeError(f"input type is not supported: {type(pyobj).__name__}")
