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
from typing import Any, ClassVar

import numpy as np

from fastmask.datasets import YouTubeVOS as YouTubeVOSDataset
from fastmask.datasets._base import frame_sort_key
from fastmask.evaluation._engine import JobScores
from fastmask.evaluation._jobs import Job, Settings
from fastmask.evaluation._result import Evaluation, ObjectScore, csv_text, fmt3, nanmean
from fastmask.evaluation.protocols._base import Scored, Work, diagonal, select, warn_extra
from fastmask.evaluation.protocols._dataset import DatasetProtocol

GLOBAL_COLUMNS = ("Overall", "J_seen", "F_seen", "J_unseen", "F_unseen")


def _seen_set(seen: str | os.PathLike[str] | Iterable[str] | None) -> list[str] | None:
    if seen is None:
        return None
    if isinstance(seen, (str, os.PathLike)):
        with open(seen, encoding="utf-8") as fh:
            meta = json.load(fh)
        return sorted(
            {
                str(o["category"])
                for v in meta.get("videos", {}).values()
                for o in v.get("objects", {}).values()
                if isinstance(o, dict) and "category" in o
            }
        )
    return sorted({str(s) for s in seen})


class YouTubeVOS(DatasetProtocol):
    name = "youtube-vos"
    keywords: ClassVar[dict[str, Any]] = {"split": "train", "seen": None}

    def configure(self, common: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        o = super().configure(common, options)
        return {"split": o["split"], "seen": _seen_set(o["seen"])}

    def discover(self, settings: Settings, sequences: list[str] | None) -> list[tuple[str, Any]]:
        ds = YouTubeVOSDataset(settings.gt, settings.options["split"])
        names = select(ds.names, sequences, ds.meta_path)
        warn_extra(settings, names, sequences)
        return [(n, ds[n]) for n in names]

    def prepare(self, job: Job) -> Work:
        video = self.video(job)
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
            return Work()
        t0 = min(frame_sort_key(s) for s in starts)
        frames = [f for f in video.annotated if frame_sort_key(f) > t0]
        if not frames:
            return Work()
        ids = sorted(firsts)
        work, missing = self.engine_job(job, video, frames, ids)
        work.state = (frames, ids, firsts, missing)
        return work

    def finish(self, job: Job, work: Work, scores: list[JobScores], threads: int) -> Scored:
        if work.state is None:
            return Scored([], 0, counted=False)
        frames, ids, firsts, missing = work.state
        if not scores:
            return Scored([], 0, missing, counted=False)
        jall, fall = diagonal(scores[0], ids)
        video = self.video(job)
        seen = job.settings.options["seen"]
        seen_cats = None if seen is None else set(seen)
        objects = []
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
                ObjectScore(
                    video.name,
                    oid,
                    f"{video.name}_{oid}",
                    [fr for fr, k in zip(frames, keep) if k],
                    j,
                    f,
                    stats={"J-Mean": float(np.mean(j)), "F-Mean": float(np.mean(f))},
                    info={"category": o.category, "seen": is_seen},
                )
            )
        n = len({fr for o in objects for fr in o.frames})
        return Scored(objects, n, missing, counted=bool(objects))

    def global_scores(self, ev: Evaluation) -> dict[str, float]:
        seen = [o for o in ev.objects if o.info["seen"]]
        unseen = [o for o in ev.objects if not o.info["seen"]]
        g = {
            "J_seen": nanmean([o.stats["J-Mean"] for o in seen]),
            "F_seen": nanmean([o.stats["F-Mean"] for o in seen]),
            "J_unseen": nanmean([o.stats["J-Mean"] for o in unseen]),
            "F_unseen": nanmean([o.stats["F-Mean"] for o in unseen]),
        }
        parts = [v for v in g.values() if not np.isnan(v)]
        return {"Overall": nanmean(parts), **g}

    def files(self, ev: Evaluation) -> dict[str, str]:
        g = ev.global_scores
        rows = [list(GLOBAL_COLUMNS), [fmt3(g[k]) for k in GLOBAL_COLUMNS]]
        per = [["Video", "Object", "Category", "Seen", "Frames", "J-Mean", "F-Mean"]]
        for o in ev.objects:
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
