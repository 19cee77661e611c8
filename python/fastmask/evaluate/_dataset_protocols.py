"""The dataset protocols (``youtube-vos``, ``mose``, ``mosev2``, ``lvos``, ``sparse``): name ->
function ``(gt, results, **options) -> DatasetEvaluation``. ``fastmask.evaluate`` dispatches
these names here; each module's docstring says what it reproduces and which choices it makes."""

from __future__ import annotations

import os
from typing import Any, Callable

from fastmask.evaluate._dsresult import DatasetEvaluation
from fastmask.evaluate._lvos import evaluate_lvos
from fastmask.evaluate._mose import evaluate_mose, evaluate_mosev2
from fastmask.evaluate._sparse import evaluate_sparse
from fastmask.evaluate._youtube_vos import evaluate_youtube_vos

DATASET_PROTOCOLS: dict[str, Callable[..., DatasetEvaluation]] = {
    "youtube-vos": evaluate_youtube_vos,
    "mose": evaluate_mose,
    "mosev2": evaluate_mosev2,
    "lvos": evaluate_lvos,
    "sparse": evaluate_sparse,
}


def evaluate_dataset(
    gt: str | os.PathLike[str], results: str | os.PathLike[str], protocol: str, **options: Any
) -> DatasetEvaluation:
    """Run a dataset protocol by name.

    Example:
        >>> ev = evaluate_dataset("LVOS/valid", "res", "lvos", split="valid")  # doctest: +SKIP
    """
    try:
        fn = DATASET_PROTOCOLS[protocol]
    except KeyError:
        raise ValueError(
            f"protocol must be one of {', '.join(DATASET_PROTOCOLS)}; got {protocol!r}"
        ) from None
    return fn(gt, results, **options)
