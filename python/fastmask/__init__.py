"""fastmask: fast, exact segmentation-mask I/O and VOS metrics.

- PNG masks: ``decode_png``, ``read_png``, ``read_pngs``, ``encode_png``, ``write_png``,
  ``write_pngs`` and ``DAVIS_PALETTE``;
- COCO RLE: ``fastmask.coco`` (a drop-in for ``pycocotools.mask``) and ``fastmask.rle``;
- metrics: ``fastmask.metrics`` (J, boundary F, statistics);
- evaluation: ``fastmask.evaluate(...)`` (results in ``fastmask.evaluation``) and the
  ``fastmask eval`` command;
- datasets: ``fastmask.datasets`` (DAVIS, YouTube-VOS, MOSE, LVOS, SA-V loaders) and the
  ``fastmask check-submission`` command;
- conversion: ``fastmask.convert(src, dst, to=...)`` between PNG label maps, SA-V per-object
  PNGs, SA-V masklet JSON and YouTube-VIS JSON, and the ``fastmask convert`` command.
"""

from fastmask._fastmask import EvaluationError, PngError, RleError, __version__

# --- PNG codec (issue: foundation) ---------------------------------------------------------
from fastmask.png import (
    DAVIS_PALETTE,
    PngInfo,
    decode_png,
    encode_png,
    get_max_pixels,
    png_info,
    read_png,
    read_pngs,
    set_max_pixels,
    write_png,
    write_pngs,
)

# --- COCO RLE (issue: coco) ----------------------------------------------------------------
# isort: split
from fastmask import coco, rle

# --- metrics (issue: metrics) --------------------------------------------------------------
# isort: split
from fastmask import metrics

# --- evaluation (issue: evaluation engine) -------------------------------------------------
# The function is ``fastmask.evaluate``; its package is ``fastmask.evaluation`` (distinct names,
# so neither hides the other).
# isort: split
from fastmask import evaluation
from fastmask.evaluation import DatasetEvaluation, Evaluation, evaluate

# --- datasets (issue: datasets) ------------------------------------------------------------
# isort: split
from fastmask import datasets

# --- conversion between mask formats (issue 13) --------------------------------------------
# The function is ``fastmask.convert``; its package is ``fastmask.conversion``.
# isort: split
from fastmask import conversion
from fastmask.conversion import convert

__all__ = [
    "DAVIS_PALETTE",
    "DatasetEvaluation",
    "Evaluation",
    "EvaluationError",
    "PngError",
    "PngInfo",
    "RleError",
    "__version__",
    "coco",
    "decode_png",
    "encode_png",
    "evaluate",
    "evaluation",
    "get_max_pixels",
    "metrics",
    "png_info",
    "read_png",
    "read_pngs",
    "rle",
    "set_max_pixels",
    "write_png",
    "write_pngs",
]

__all__ += ["datasets"]

__all__ += ["conversion", "convert"]
