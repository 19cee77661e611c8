"""The ``fastmask eval`` options of the dataset protocols (``youtube-vos``, ``mose``,
``mosev2``, ``lvos``, ``sparse``), and ``evaluate_dataset``, ``fastmask.evaluate`` by name. Each
protocol's rules are in ``fastmask.evaluation.protocols``."""

from __future__ import annotations

import os
from typing import Any

from fastmask.evaluation._result import Evaluation

DATASET_PROTOCOLS = ("youtube-vos", "mose", "mosev2", "lvos", "sparse")


def evaluate_dataset(
    gt: str | os.PathLike[str], results: str | os.PathLike[str], protocol: str, **options: Any
) -> Evaluation:
    """Run a dataset protocol by name (``fastmask.evaluate`` with the same arguments).

    Example:
        >>> ev = evaluate_dataset("LVOS/valid", "res", "lvos", split="valid")  # doctest: +SKIP
    """
    from fastmask.evaluation._api import evaluate

    if protocol not in DATASET_PROTOCOLS:
        raise ValueError(
            f"protocol must be one of {', '.join(DATASET_PROTOCOLS)}; got {protocol!r}"
        )
    return evaluate(gt, results, protocol, **options)


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
