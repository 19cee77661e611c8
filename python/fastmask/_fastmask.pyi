"""Type stubs for the compiled module ``fastmask._fastmask`` (checked by mypy.stubtest)."""

__version__: str

class PngError(ValueError):
    """Malformed, unsupported or over-limit PNG data."""

class RleError(ValueError):
    """Malformed COCO RLE data."""

class EvaluationError(ValueError):
    """A dataset or result folder that cannot be evaluated as asked."""

# --- PNG codec -----------------------------------------------------------------------------

# --- COCO RLE ------------------------------------------------------------------------------

from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

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

# --- evaluation ----------------------------------------------------------------------------
