"""``youtube-vos``: YouTube-VOS scoring from a local ground truth (e.g. a held-out train split).

The official scorer runs only on the challenge server and its code is not public. This protocol
makes the choices below, each following the challenge's published rules where they exist:

- the ground truth is a YouTube-VOS split with ``meta.json`` and ``Annotations/<video>/*.png``
  (annotations every 5th frame); each object of ``meta.json`` is scored on every annotated frame
  AFTER its first listed frame (the frame where a semi-supervised method is given its mask);
  frames where it is absent count (an empty prediction there scores J = F = 1);
- J and F as DAVIS (``db_eval_iou``, ``f_measure`` with bound_th 0.008), per object the mean
  over its frames; the last frame is not dropped;
- an object is *seen* when its category is in ``seen`` (category names, or a ``meta.json``
  whose categories are the seen ones, normally the training split's), else *unseen*; with
  ``seen=None`` every object is seen. An object without a category is seen;
- J_seen, F_seen, J_unseen, F_unseen are means over the objects of each group (every object
  weighs the same); Overall is the mean of the four, or of the seen pair when there is no unseen
  object (NaN fields are left out).

Files: ``global_results.csv`` (``Overall,J_seen,F_seen,J_unseen,F_unseen``) and
``per-object_results.csv`` (``Video,Object,Category,Seen,Frames,J-Mean,F-Mean``), ``%.3f``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from fastmask.datasets import YouTubeVOS
from fastmask.datasets._base import frame_sort_key
from fastmask.evaluation._dsresult import (
    DatasetEvaluation,
    ObjectResult,
    Timer,
    csv_text,
    fmt3,
    nanmean,
    score_frames,
    select,
)
from fastmask.evaluation._progress import Progress, track

GLOBAL_COLUMNS = ("Overall", "J_seen", "F_seen", "J_unseen", "F_unseen")


def _seen_set(seen: str | os.PathLike[str] | Iterable[str] | None) -> set[str] | None:
    if seen is None:
        return None
    if isinstance(seen, (str, os.PathLike)):
        with open(seen, encoding="utf-8") as fh:
            meta = json.load(fh)
        return {
            str(o["category"])
            for v in meta.get("videos", {}).values()
            for o in v.get("objects", {}).values()
            if isinstance(o, dict) and "category" in o
        }
    return {str(s) for s in seen}


def evaluate_youtube_vos(
    gt: str | os.PathLike[str],
    results: str | os.PathLike[str],
    *,
    split: str = "train",
    seen: str | os.PathLike[str] | Iterable[str] | None = None,
    sequences: Iterable[str] | None = None,
    allow_missing: bool = False,
    threads: int | None = None,
    progress: Progress = False,
) -> DatasetEvaluation:
    """Score ``results/<video>/<frame>.png`` against a YouTube-VOS split (see the module doc).

    Example:
        >>> seen = "ytvos/train/meta.json"
        >>> ev = evaluate_youtube_vos("ytvos", "res", split="train", seen=seen)  # doctest: +SKIP
        >>> ev.global_scores["Overall"]  # doctest: +SKIP
    """
    timer = Timer()
    ds = YouTubeVOS(gt, split)
    seen_cats = _seen_set(seen)
    names = select(ds.names, sequences)
    res = Path(results)
    objects: list[ObjectResult] = []
    missing = 0
    for name in track(names, progress, "fastmask eval youtube-vos"):
        video = ds[name]
        annotated = video.annotated
        firsts = {oid: o.first_frame for oid, o in video.objects.items()}
        unknown = {oid for oid, first in firsts.items() if first is None}
        # Objects listed without frames: their first appearance in the masks, found in one
        # pass over the video for all of them (not one pass per object).
        for f, m in video.iter_masks() if unknown else ():
            for oid in [k for k in unknown if (m == k).any()]:
                firsts[oid] = f
                unknown.discard(oid)
            if not unknown:
                break
        # frames after the earliest first appearance, scored once for every object
        starts = [f for f in firsts.values() if f is not None]
        if not starts:
            continue
        t0 = min(frame_sort_key(s) for s in starts)
        frames = [f for f in annotated if frame_sort_key(f) > t0]
        if not frames:
            continue
        ids = sorted(firsts)
        jall, fall, n_missing = score_frames(video, res, frames, ids, allow_missing, threads)
        missing += n_missing
        for col, oid in enumerate(ids):
            first = firsts[oid]
            if first is None:
                continue
            keep = np.array([frame_sort_key(f) > frame_sort_key(first) for f in frames])
            if not keep.any():
                continue
            o = video.objects[oid]
            is_seen = seen_cats is None or o.category is None or o.category in seen_cats
            j, f = jall[keep, col], fall[keep, col]
            objects.append(
                ObjectResult(
                    name,
                    oid,
                    f"{name}_{oid}",
                    [fr for fr, k in zip(frames, keep) if k],
                    j,
                    f,
                    {"J-Mean": float(np.mean(j)), "F-Mean": float(np.mean(f))},
                    {"category": o.category, "seen": is_seen},
                )
            )
    g = _global(objects)

    def files() -> dict[str, str]:
        rows = [list(GLOBAL_COLUMNS), [fmt3(g[k]) for k in GLOBAL_COLUMNS]]
        per = [["Video", "Object", "Category", "Seen", "Frames", "J-Mean", "F-Mean"]]
        for o in objects:
            per.append(
                [
                    o.sequence,
                    str(o.object),
                    o.info["category"] or "",
                    "seen" if o.info["seen"] else "unseen",
                    str(len(o.frames)),
                    fmt3(o.stats["J-Mean"]),
                    fmt3(o.stats["F-Mean"]),
                ]
            )
        return {"global_results.csv": csv_text(rows), "per-object_results.csv": csv_text(per)}

    return DatasetEvaluation(
        "youtube-vos",
        objects,
        g,
        files,
        options={"split": split, "seen": None if seen_cats is None else sorted(seen_cats)},
        missing=missing,
        seconds=timer(),
    )


def _global(objects: list[ObjectResult]) -> dict[str, float]:
    seen = [o for o in objects if o.info["seen"]]
    unseen = [o for o in objects if not o.info["seen"]]
    g = {
        "J_seen": nanmean([o.stats["J-Mean"] for o in seen]),
        "F_seen": nanmean([o.stats["F-Mean"] for o in seen]),
        "J_unseen": nanmean([o.stats["J-Mean"] for o in unseen]),
        "F_unseen": nanmean([o.stats["F-Mean"] for o in unseen]),
    }
    parts = [v for v in g.values() if not np.isnan(v)]
    return {"Overall": nanmean(parts), **g}
