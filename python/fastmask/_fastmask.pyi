"""Type stubs for the compiled module ``fastmask._fastmask`` (checked by mypy.stubtest)."""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

__all__ = ["EvaluationError", "PngError", "RleError", "__version__"]

__version__: str

class PngError(ValueError):
    """Malformed, unsupported or over-limit PNG data."""

class RleError(ValueError):
    """Malformed COCO RLE data."""

class EvaluationError(ValueError):
    """A dataset or result folder that cannot be evaluated as asked."""

# --- PNG codec -----------------------------------------------------------------------------
# Private: wrapped by fastmask.png (which documents the public API).

__all__ += [
    "DEFAULT_MAX_PIXELS",
    "_davis_palette",
    "_decode_png",
    "_encode_png",
    "_inflate",
    "_png_info",
    "_png_info_file",
    "_read_png",
    "_read_pngs",
    "_write_png",
    "_write_pngs",
]

DEFAULT_MAX_PIXELS: int

def _decode_png(
    data: Any, palette: bool, raw: bool, colormap: bytes | None, max_pixels: int
) -> Any: ...
def _read_png(
    path: str | os.PathLike[str],
    palette: bool,
    raw: bool,
    colormap: bytes | None,
    max_pixels: int,
) -> Any: ...
def _png_info(data: Any) -> dict[str, Any]: ...
def _png_info_file(path: str | os.PathLike[str]) -> dict[str, Any]: ...
def _encode_png(
    labels: npt.NDArray[np.uint8] | npt.NDArray[np.uint16],
    palette: bytes | None,
    compression: str | int,
    palette_size: str,
) -> bytes: ...
def _write_png(
    path: str | os.PathLike[str],
    labels: npt.NDArray[np.uint8] | npt.NDArray[np.uint16],
    palette: bytes | None,
    compression: str | int,
    palette_size: str,
) -> None: ...
def _read_pngs(
    paths: Sequence[str | os.PathLike[str]],
    threads: int | None,
    colormap: bytes | None,
    max_pixels: int,
    out: npt.NDArray[Any] | None = None,
) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16]: ...
def _write_pngs(
    paths: Sequence[str | os.PathLike[str]],
    stack: npt.NDArray[np.uint8] | npt.NDArray[np.uint16],
    palette: bytes | None,
    compression: str | int,
    threads: int | None,
    palette_size: str,
) -> None: ...
def _davis_palette() -> bytes: ...
def _inflate(data: bytes, size: int) -> bytes: ...

# --- COCO RLE ------------------------------------------------------------------------------

__all__ += [
    "_bbox_iou",
    "_counts_to_string",
    "_rle_area",
    "_rle_compress",
    "_rle_decode",
    "_rle_decode_labels",
    "_rle_encode",
    "_rle_encode_labels",
    "_rle_fr_bbox",
    "_rle_fr_poly",
    "_rle_iou",
    "_rle_merge",
    "_rle_to_bbox",
    "_string_to_counts",
]

def _rle_encode(
    masks: npt.NDArray[np.uint8], threads: int | None = None
) -> list[dict[str, Any]]: ...
def _rle_decode(rles: Any, threads: int | None = None) -> npt.NDArray[np.uint8]: ...
def _rle_area(rles: Any) -> npt.NDArray[np.uint32]: ...
def _rle_to_bbox(rles: Any) -> npt.NDArray[np.float64]: ...
def _rle_merge(rles: Any, intersect: bool = False) -> dict[str, Any]: ...
def _rle_iou(dt: Any, gt: Any, iscrowd: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]: ...
def _bbox_iou(
    dt: npt.NDArray[np.float64], gt: npt.NDArray[np.float64], iscrowd: npt.NDArray[np.uint8]
) -> npt.NDArray[np.float64]: ...
def _rle_fr_bbox(bb: npt.NDArray[np.float64], h: int, w: int) -> list[dict[str, Any]]: ...
def _rle_fr_poly(polys: list[npt.NDArray[np.float64]], h: int, w: int) -> list[dict[str, Any]]: ...
def _rle_compress(rles: Any, as_str: bool = False) -> list[dict[str, Any]]: ...
def _rle_encode_labels(
    labels: npt.NDArray[Any],
    ids: list[int] | None = None,
    void: list[int] = ...,
    as_str: bool = False,
    threads: int | None = None,
) -> list[dict[int, dict[str, Any]]]: ...
def _rle_decode_labels(
    frames: list[dict[Any, Any]],
    h: int,
    w: int,
    overlap: str = "error",
    threads: int | None = None,
) -> npt.NDArray[Any]: ...
def _counts_to_string(counts: list[int]) -> bytes: ...
def _string_to_counts(s: bytes | str) -> list[int]: ...

# --- metrics -------------------------------------------------------------------------------

__all__ += [
    "_bound_pix",
    "_boundary_f",
    "_boundary_map",
    "_disk",
    "_jaccard",
    "_per_object",
    "_per_object_jaccard",
    "_statistics",
]

def _jaccard(
    gt: NDArray[np.uint8],
    pred: NDArray[np.uint8],
    void: NDArray[np.uint8] | None = None,
    threads: int | None = None,
) -> NDArray[np.float64]: ...
def _boundary_f(
    gt: NDArray[np.uint8],
    pred: NDArray[np.uint8],
    bound_th: float,
    void: NDArray[np.uint8] | None = None,
    threads: int | None = None,
) -> NDArray[np.float64]: ...
def _boundary_map(mask: NDArray[np.uint8], threads: int | None = None) -> NDArray[np.bool_]: ...
def _per_object(
    gt: NDArray[np.uint8] | NDArray[np.uint16],
    pred: NDArray[np.uint8] | NDArray[np.uint16],
    ids: list[int],
    bound_th: float,
    void: NDArray[np.uint8] | None = None,
    threads: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def _per_object_jaccard(
    gt: NDArray[np.uint8] | NDArray[np.uint16],
    pred: NDArray[np.uint8] | NDArray[np.uint16],
    ids: list[int],
    void: NDArray[np.uint8] | None = None,
    threads: int | None = None,
) -> NDArray[np.float64]: ...
def _statistics(
    values: NDArray[np.float64], exact: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
def _bound_pix(bound_th: float, height: int, width: int) -> float: ...
def _disk(radius: float) -> NDArray[np.uint8]: ...

# --- evaluation ----------------------------------------------------------------------------

# Private: wrapped by fastmask.evaluation (which documents the public API).

__all__ += ["_eval_sequences", "_read_labels"]

# Scores of a job (a sequence: J, F of shape (T, K); presence (T, 256); frame sizes (T, 2)) or of
# one frame (J, F of shape (K,); presence (256,); its (H, W)): object pairs (K, 2), J, F, labels
# present in the ground truth, labels present in the result, sizes.
_Scores = tuple[
    NDArray[np.uint8],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.bool_],
    NDArray[np.bool_],
]
_SequenceScores = tuple[*_Scores, NDArray[np.int64]]
_FrameScores = tuple[*_Scores, tuple[int, int]]

def _eval_sequences(
    gt: Sequence[Sequence[str | os.PathLike[str]]],
    pred: Sequence[Sequence[str | os.PathLike[str] | None]],
    objects: Sequence[Sequence[int]],
    max_pred_label: Sequence[int],
    *,
    dynamic: bool,
    cross: bool,
    void: int | None,
    binarize: bool,
    same_size: bool,
    bound_th: float,
    threads: int | None,
    colormap: bytes | None = None,
    max_pixels: int = ...,
) -> tuple[list[_SequenceScores], dict[str, float]]: ...
def _read_labels(
    path: str | os.PathLike[str], colormap: bytes | None = None, max_pixels: int = ...
) -> NDArray[np.uint8]: ...

__all__ += ["_eval_frames"]

def _eval_frames(
    gt: Sequence[str | os.PathLike[str]],
    pred: Sequence[NDArray[np.uint8]],
    name: Sequence[str | os.PathLike[str]],
    objects: Sequence[Sequence[int]],
    max_pred_label: Sequence[int],
    *,
    dynamic: bool,
    cross: bool,
    void: int | None,
    binarize: bool,
    bound_th: float,
    threads: int | None,
    colormap: bytes | None = None,
    max_pixels: int = ...,
) -> tuple[list[_FrameScores], dict[str, float]]: ...

__all__ += ["_copy_labels"]

def _copy_labels(src: NDArray[np.uint8], dst: NDArray[np.uint8]) -> int: ...
