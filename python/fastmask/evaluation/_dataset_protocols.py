"""The dataset protocols (``youtube-vos``, ``mose``, ``mosev2``, ``lvos``, ``sparse``): name ->
function ``(gt, results, **options) -> DatasetEvaluation``. ``fastmask.evaluate`` dispatches
these names here; each module's docstring says what it reproduces and which choices it makes.

Measured with ``benches/bench_datasets.py`` (854x480 masks, a 2-core machine shared with other
jobs; the references run the official steps in one process): LVOS, 2 videos x 300 annotated
frames: 0.18 s vs 5.4 s (30x), peak RSS 59 MB vs 133 MB; YouTube-VOS, 100 videos x 9 frames:
0.28 s vs 7.6 s (27x), 45 MB vs 142 MB; MOSE v2, 6 videos x 40 frames: 0.41 s vs 3.6 s (8.8x),
87 MB vs 188 MB."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fastmask.evaluation._dsresult import DatasetEvaluation
from fastmask.evaluation._lvos import evaluate_lvos
from fastmask.evaluation._mose import evaluate_mose, evaluate_mosev2
from fastmask.evaluation._sparse import evaluate_sparse
from fastmask.evaluation._youtube_vos import evaluate_youtube_vos

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


def add_arguments(parser: Any) -> None:
    """The ``fastmask eval`` options of the dataset protocols (an argparse parser)."""
    g = parser.add_argument_group("dataset protocols (youtube-vos, mose, mosev2, lvos, sparse)")
    g.add_argument("--split", default=None, help="dataset split (default: per protocol)")
    g.add_argument("--meta", default=None, help="mose / mosev2: meta.json if not in the split")
    g.add_argument(
        "--seen",
        default=None,
        help="youtube-vos: meta.json whose categories are the seen ones (or a comma list)",
    )
    g.add_argument(
        "--unseen", default=None, help="lvos: unseen_videos.txt (default: beside the split)"
    )
    g.add_argument(
        "--objects",
        choices=("first-frame", "all"),
        default="first-frame",
        help="sparse: objects of the first annotated frame (DAVIS) or every label",
    )
    g.add_argument(
        "--decay",
        choices=("davis", "exact"),
        default=None,
        help="mose / lvos / sparse: decay bins as davis2017-evaluation (uint8, wrong from 256 "
        "frames) or exact (default)",
    )
    g.add_argument(
        "--keep-first",
        action="store_true",
        help="sparse: also score the first annotated frame",
    )


def options_from_args(protocol: str, args: Any) -> dict[str, Any]:
    """The dataset-specific keyword options of ``protocol`` (``split``, ``meta``, ``seen``,
    ``unseen``, ``objects``, ``skip_first``, ``decay``) from parsed ``fastmask eval`` arguments;
    the common ones (set, resolution, threads, allow-missing) go through ``fastmask.evaluate``."""
    opts: dict[str, Any] = {}
    if protocol not in DATASET_PROTOCOLS:
        return opts
    if getattr(args, "split", None) and protocol != "sparse":
        opts["split"] = args.split
    if protocol in ("mose", "lvos", "sparse") and getattr(args, "decay", None):
        opts["decay"] = args.decay
    if protocol in ("mose", "mosev2") and getattr(args, "meta", None):
        opts["meta"] = args.meta
    if protocol == "youtube-vos" and getattr(args, "seen", None):
        seen = args.seen
        opts["seen"] = seen if os.path.exists(seen) else [s for s in seen.split(",") if s]
    if protocol == "lvos" and getattr(args, "unseen", None):
        opts["unseen"] = args.unseen
    if protocol == "sparse":
        opts["objects"] = getattr(args, "objects", "first-frame")
        opts["skip_first"] = not getattr(args, "keep_first", False)
    return opts


def dispatch(
    gt: str | os.PathLike[str],
    results: str | os.PathLike[str],
    protocol: str,
    *,
    task: str,
    subset: str,
    resolution: str,
    sequences: Any,
    allow_missing: bool,
    bound_th: float,
    decay: str | None,
    threads: int | None,
    options: dict[str, Any],
    progress: Any = False,
) -> DatasetEvaluation:
    """``fastmask.evaluate`` for a dataset protocol: the common arguments mapped onto the
    protocol's own (``subset`` / ``resolution`` for ``sparse``; ``decay=None`` keeps the
    protocol's default), ``options`` passed as they are."""
    if task != "semi-supervised":
        raise ValueError(f"protocol {protocol!r} has only the semi-supervised task, got {task!r}")
    if bound_th != 0.008:
        raise ValueError(f"protocol {protocol!r} uses its tool's boundary rule; bound_th is fixed")
    kw: dict[str, Any] = {"sequences": sequences, "threads": threads, "progress": progress}
    if protocol != "mosev2":
        kw["allow_missing"] = allow_missing
    elif allow_missing:
        raise ValueError(
            "mosev2 follows score.py: a missing result video scores 0 and a missing frame is an "
            "error; allow_missing is not available"
        )
    if decay is not None and protocol in ("mose", "lvos", "sparse"):
        kw["decay"] = decay
    if protocol == "sparse":
        kw["subset"] = subset
        kw["resolution"] = resolution
    kw.update(options)
    return evaluate_dataset(gt, results, protocol, **kw)
