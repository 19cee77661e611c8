"""``sparse``: DAVIS-layout ground truth where only some frames are annotated.

Real-world sets (RVOS-style phone videos with ~35 annotated frames per video, GyGO-style
e-commerce videos annotated at ~5 fps) ship DAVIS folders (``Annotations/<res>/<seq>/``,
``JPEGImages/<res>/<seq>/``, ``ImageSets/<year>/<set>.txt``) in which most frames have no PNG.
This protocol scores exactly the frames that have ground truth:

- objects: ``objects="first-frame"`` (default, the DAVIS rule: 1..N, N the largest label of the
  first annotated frame, void 255 excluded) or ``"all"`` (every label of the ground truth,
  each scored from the first annotated frame where it appears, for objects that enter later);
- frames: every annotated frame after the object's first one (``skip_first=True``, default: the
  first annotated frame is the mask a semi-supervised method is given); ``skip_first=False``
  scores it too. The last frame is not dropped. Result frames without ground truth are ignored;
- J and F as DAVIS semi-supervised (255 counts as background), DAVIS Mean / Recall / Decay
  per object, every object weighing the same;
- sizes: each video has its own (portrait videos are fine); a result whose height and width are
  swapped is reported as rotated.

Files: ``global_results-<set>.csv`` and ``per-sequence_results-<set>.csv`` in the
davis2017-evaluation format.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from fastmask.datasets import DAVIS
from fastmask.evaluation._dsresult import (
    DatasetEvaluation,
    ObjectResult,
    Timer,
    score_frames,
    select,
)
from fastmask.evaluation._mose import davis_files, davis_global, davis_stats
from fastmask.evaluation._progress import Progress, track


def evaluate_sparse(
    gt: str | os.PathLike[str],
    results: str | os.PathLike[str],
    *,
    subset: str | None = "val",
    year: str | int = 2017,
    resolution: str = "480p",
    objects: str = "first-frame",
    skip_first: bool = True,
    sequences: Iterable[str] | None = None,
    decay: str = "exact",
    allow_missing: bool = False,
    threads: int | None = None,
    progress: Progress = False,
) -> DatasetEvaluation:
    """Score sparse DAVIS-layout ground truth on its annotated frames (see the module doc).

    Example:
        >>> ev = evaluate_sparse("RVOS", "res", subset="val", objects="all")  # doctest: +SKIP
        >>> ev.global_scores["J&F-Mean"]  # doctest: +SKIP
    """
    timer = Timer()
    ds = DAVIS(gt, subset, year=year, resolution=resolution, objects=objects)
    names = select(ds.names, sequences)
    res = Path(results)
    out: list[ObjectResult] = []
    missing = 0
    for name in track(names, progress, "fastmask eval sparse"):
        video = ds[name]
        ann = video.annotated
        objs = video.objects
        if not ann or not objs:
            continue
        first_idx = {k: ann.index(o.first_frame or ann[0]) for k, o in objs.items()}
        lo = min(first_idx.values()) + (1 if skip_first else 0)
        frames = ann[lo:]
        if not frames:
            continue
        ids = sorted(objs)
        jall, fall, n_missing = score_frames(video, res, frames, ids, allow_missing, threads)
        missing += n_missing
        for col, oid in enumerate(ids):
            start = first_idx[oid] + (1 if skip_first else 0) - lo
            if start >= len(frames):
                continue
            j, f = jall[start:, col], fall[start:, col]
            out.append(
                ObjectResult(
                    name, oid, f"{name}_{oid}", frames[start:], j, f, davis_stats(j, f, decay)
                )
            )
    return DatasetEvaluation(
        "sparse",
        out,
        davis_global(out),
        lambda: davis_files(out, subset or "all"),
        options={"subset": subset, "objects": objects, "skip_first": skip_first, "decay": decay},
        missing=missing,
        seconds=timer(),
    )
