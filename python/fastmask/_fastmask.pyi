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



# --- metrics -------------------------------------------------------------------------------
import numpy as np  # noqa: E402  (belongs in the header once other sections need it)
from numpy.typing import NDArray  # noqa: E402

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
