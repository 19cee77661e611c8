"""Label maps <-> COCO RLE, and the compressed counts string.

A VOS label map (a decoded palette PNG, ``(H, W)``, object ids as values) becomes one COCO RLE
per object in a single pass over its pixels, and back. RLE dicts are the ones of
:mod:`fastmask.coco` / pycocotools: ``{"size": [h, w], "counts": b"..."}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from fastmask import _fastmask

__all__ = ["counts_to_string", "decode_labels", "encode_labels", "string_to_counts"]

RLE = dict[str, Any]
Frame = dict[int, RLE]


def _label_array(labels: Any) -> np.ndarray:
    """A uint8/uint16/uint32 array with the same values (no copy for those dtypes)."""
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"labels must be a numpy array; got {type(labels).__name__}")
    if labels.dtype == np.bool_:
        return labels.view(np.uint8)
    if labels.dtype in (np.uint8, np.uint16, np.uint32):
        return labels
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be an integer array; got dtype {labels.dtype}")
    lo, hi = (int(labels.min()), int(labels.max())) if labels.size else (0, 0)
    if lo < 0 or hi > np.iinfo(np.uint32).max:
        raise ValueError(f"label values must lie in 0..2^32-1; got {lo}..{hi}")
    for t in (np.uint8, np.uint16, np.uint32):
        if hi <= np.iinfo(t).max:
            return labels.astype(t)
    raise AssertionError("unreachable")


def _id_list(v: Any, name: str) -> list[int]:
    items = [v] if isinstance(v, (int, np.integer)) else list(v)
    out = []
    for i in items:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool) or i < 0:
            raise ValueError(f"{name} must hold non-negative ints; got {i!r}")
        out.append(int(i))
    return out


def encode_labels(
    labels: np.ndarray,
    ids: Iterable[int] | None = None,
    *,
    void: int | Iterable[int] | None = None,
    json: bool = False,
    threads: int | None = None,
) -> Frame | list[Frame]:
    """One COCO RLE per object of a label map, in one pass over the pixels.

    ``labels`` is ``(H, W)`` -> ``{id: rle}``, or a stack ``(T, H, W)`` -> a list of ``T``
    such dicts; any integer dtype (uint8/uint16/uint32 are read in place, in any memory
    order). ``ids=None`` encodes every id present in the frame except 0 and ``void``
    (an id or ids, e.g. ``255``), in increasing order; with ``ids`` given, exactly those ids
    in that order, an absent id getting an empty mask (so every frame of a video has the
    same keys). ``json=True`` gives counts as ``str``, ready for ``json.dumps``. Each RLE
    equals ``pycocotools.mask.encode(np.asfortranarray(labels == id))``.

    >>> lab = np.array([[0, 1], [2, 1]], dtype=np.uint8)
    >>> encode_labels(lab)
    {1: {'size': [2, 2], 'counts': b'22'}, 2: {'size': [2, 2], 'counts': b'112'}}
    """
    arr = _label_array(labels)
    if arr.ndim not in (2, 3):
        raise ValueError(f"labels must have shape (H, W) or (T, H, W); got {arr.shape}")
    stack = arr[None] if arr.ndim == 2 else arr
    id_list = None if ids is None else _id_list(ids, "ids")
    void_list = [] if void is None else _id_list(void, "void")
    frames = _fastmask._rle_encode_labels(stack, id_list, void_list, bool(json), threads)
    return frames[0] if arr.ndim == 2 else frames


def _size_of(frames: Sequence[Mapping[Any, RLE]]) -> tuple[int, int] | None:
    for f in frames:
        for r in f.values():
            if isinstance(r, Mapping) and "size" in r:
                h, w = r["size"]
                return int(h), int(w)
    return None


def decode_labels(
    rles: Mapping[Any, RLE] | Sequence[Mapping[Any, RLE]],
    shape: tuple[int, int] | None = None,
    *,
    overlap: str = "error",
    threads: int | None = None,
) -> np.ndarray:
    """A label map from ``{id: rle}`` (``(H, W)``), or a stack from a list of them (``(T, H, W)``).

    Ids are non-zero ints (or their decimal strings, as after a JSON round trip); the dtype is
    the smallest of uint8 / uint16 / uint32 that holds them; pixels of no object are 0.
    ``shape`` ``(H, W)`` defaults to the RLEs' ``size`` (it is needed when there are none)
    and every RLE must have it. Where two objects overlap, ``overlap="error"`` raises
    :class:`fastmask.RleError` naming both ids, ``"first"`` keeps the object that comes first
    in the dict, ``"last"`` the one that comes last. One call decodes at most 2^31 pixels in
    all (frames x H x W; :class:`fastmask.RleError` beyond it).

    >>> decode_labels({1: {"size": [2, 2], "counts": b"22"}, 2: {"size": [2, 2], "counts": b"112"}})
    array([[0, 1],
           [2, 1]], dtype=uint8)
    """
    single = isinstance(rles, Mapping)
    frames: list[Mapping[Any, RLE]] = [rles] if isinstance(rles, Mapping) else list(rles)
    for i, f in enumerate(frames):
        if not isinstance(f, Mapping):
            raise TypeError(f"frame {i} must be a dict {{id: rle}}; got {type(f).__name__}")
    if shape is None:
        shape = _size_of(frames)
        if shape is None:
            raise ValueError("shape is needed when there is no RLE to take the size from")
    if len(shape) != 2:
        raise ValueError(f"shape must be (H, W); got {shape!r}")
    h, w = (int(s) for s in shape)
    if h < 0 or w < 0:
        raise ValueError(f"shape must be non-negative; got {shape!r}")
    out = _fastmask._rle_decode_labels([dict(f) for f in frames], h, w, overlap, threads)
    return out[0] if single else out


def counts_to_string(counts: Iterable[int]) -> bytes:
    """The compressed COCO counts string of run lengths (each in ``0..2^63-1``).

    >>> counts_to_string([5, 3, 10, 2, 1])
    b'53:OG'
    """
    return _fastmask._counts_to_string(list(counts))


def string_to_counts(s: bytes | str) -> list[int]:
    """The run lengths of a compressed COCO counts string (``bytes`` or ``str``).

    Raises :class:`fastmask.RleError` on a malformed string.

    >>> string_to_counts(b"53:OG")
    [5, 3, 10, 2, 1]
    """
    return _fastmask._string_to_counts(s)
