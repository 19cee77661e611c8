"""``lvos``: LingyiHongfd/lvos-evaluation (@ 25cb02d), semi-supervised task.

- ground truth: an LVOS split folder with ``<split>_meta.json`` and
  ``Annotations/<video>/%08d.png``; videos in name order, objects in meta order;
- each object is scored on ``range(start, end, 5)`` of its ``frame_range``, skipping the first
  (index 0) and index ``frame_nums - 1``; its series has ``frame_nums - 2`` slots, and a slot
  the range does not reach stays 0 (as in the reference); a range longer than that is an error
  (the reference fails with an IndexError);
- J and F as DAVIS on ``gt == id`` and ``result == id`` (the Python boundary code of the tool,
  not its optional compiled kernel);
- per object: J-Mean, F-Mean and V = ``sqrt(round(nansum((mean(JF) - JF)^2) / T, 4))`` over the
  per-frame ``JF = (J + F) / 2``; rows are named ``<video>_<k>``, k counting objects from 1;
- seen / unseen: videos listed in ``unseen_videos.txt`` (beside the split, or ``unseen=``) are
  unseen; J&F-Mean = (J_seen + F_seen + J_unseen + F_unseen) / 4, J-Mean = (J_seen + J_unseen) / 2
  and so on, each a mean over the objects of the group (NaN when a group is empty, as pandas
  writes it: an empty field).

Files: ``global_results-<split>.csv`` (``J&F-Mean,J-Mean,J-seen-Mean,J-unseen-Mean,F-Mean,
F-seen-Mean,F-unseen-Mean,V-Mean,V-seen-Mean,V-unseen-Mean``) and
``per-sequence_results-<split>.csv`` (``Sequence,J-Mean,F-Mean,V-Mean``), ``%.3f``.

Decay: the tool computes its statistics on ``(1, T)`` arrays, so its decay is always 0 (and it
writes none). ``stats["J-Decay"]`` / ``["F-Decay"]`` hold the DAVIS decay over the object's
frames with exact bin edges (``decay="exact"``, default: LVOS objects span hundreds of frames,
where the uint8 edges of ``decay="davis"`` are wrong).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from fastmask._fastmask import EvaluationError
from fastmask.datasets import LVOS as LVOSDataset
from fastmask.datasets._layouts import frame_range
from fastmask.evaluation._engine import JobScores
from fastmask.evaluation._jobs import Job, Settings
from fastmask.evaluation._result import (
    Evaluation,
    ObjectScore,
    csv_text,
    davis_stats,
    fmt3,
    nanmean,
)
from fastmask.evaluation.metrics import lvos_v
from fastmask.evaluation.protocols._base import Scored, Work, diagonal, select, warn_extra
from fastmask.evaluation.protocols._dataset import DatasetProtocol

GLOBAL_COLUMNS = (
    "J&F-Mean",
    "J-Mean",
    "J-seen-Mean",
    "J-unseen-Mean",
    "F-Mean",
    "F-seen-Mean",
    "F-unseen-Mean",
    "V-Mean",
    "V-seen-Mean",
    "V-unseen-Mean",
)


def scored_frames(start: int, end: int, frame_nums: int, where: str) -> list[tuple[int, str]]:
    """``(slot, frame name)`` the reference scores for one object's frame range."""
    out = []
    for oidx, ii in enumerate(range(start, end, 5)):
        if oidx == 0 or oidx == frame_nums - 1:
            continue
        if oidx - 1 >= frame_nums - 2:
            raise EvaluationError(
                f"{where}: frame_range start {start}, end {end} holds more than frame_nums = "
                f"{frame_nums} frames of every 5th (the reference fails with an IndexError)"
            )
        out.append((oidx - 1, f"{ii:08d}"))
    return out


class Lvos(DatasetProtocol):
    name = "lvos"
    keywords: ClassVar[dict[str, Any]] = {"split": "valid", "unseen": None}

    def configure(self, common: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        o = super().configure(common, options)
        unseen = o["unseen"]
        if unseen is not None and not isinstance(unseen, str) and not hasattr(unseen, "__fspath__"):
            unseen = [str(s) for s in unseen]
        elif unseen is not None:
            unseen = str(unseen)
        return {"split": o["split"], "unseen": unseen}

    def public_options(self, settings: Settings) -> dict[str, Any]:
        return {"split": settings.options["split"], "decay": settings.decay}

    def discover(self, settings: Settings, sequences: list[str] | None) -> list[tuple[str, Any]]:
        o = settings.options
        ds = LVOSDataset(settings.gt, o["split"], unseen=o["unseen"])
        if ds.unseen is None:
            raise EvaluationError(
                f"{ds.split_dir}: unseen_videos.txt not found beside the split; the LVOS scores "
                "are split into seen and unseen videos: pass unseen= (a file or a list, [] for "
                "none)"
            )
        unseen = set(ds.unseen)
        names = select(ds.names, sequences, ds.meta_path)
        warn_extra(settings, names, sequences)
        return [(n, (ds[n], n not in unseen, str(ds.meta_path))) for n in names]

    def prepare(self, job: Job) -> Work:
        video = self.video(job)
        _, _, meta_path = job.data
        name = job.sequence
        entry = video.meta["objects"]
        plans = {}
        for k, key in enumerate(entry):
            start, end, n = frame_range(entry[key], f"{meta_path}: {name}/{key}")
            plans[int(key)] = (k, n, scored_frames(start, end, n, f"{meta_path}: {name}/{key}"))
        union = sorted({f for _, _, s in plans.values() for _, f in s})
        ids = list(plans)
        work, missing = self.engine_job(job, video, union, ids)
        work.state = (plans, union, ids, missing)
        return work

    def finish(self, job: Job, work: Work, scores: list[JobScores], threads: int) -> Scored:
        plans, union, ids, missing = work.state
        _, seen, _ = job.data
        row = {f: i for i, f in enumerate(union)}
        if scores:
            jall, fall = diagonal(scores[0], ids)
        else:
            jall = fall = np.zeros((len(union), len(ids)))
        name = job.sequence
        objects = []
        for col, oid in enumerate(ids):
            k, n, slots = plans[oid]
            j = np.zeros(max(n - 2, 0))
            f = np.zeros(max(n - 2, 0))
            for slot, fr in slots:
                j[slot] = jall[row[fr], col]
                f[slot] = fall[row[fr], col]
            stats: dict[str, Any] = davis_stats(j, f, job.settings.decay)
            stats["V-Mean"] = lvos_v(j, f)
            objects.append(
                ObjectScore(
                    name,
                    oid,
                    f"{name}_{k + 1}",
                    [fr for _, fr in slots],
                    j,
                    f,
                    stats=stats,
                    info={"seen": seen},
                    frame_index=[slot for slot, _ in slots],
                )
            )
        n_frames = len({fr for o in objects for fr in o.frames})
        return Scored(objects, n_frames, missing, counted=bool(objects))

    def global_scores(self, ev: Evaluation) -> dict[str, float]:
        def m(key: str, seen: bool) -> float:
            return nanmean([o.stats[key] for o in ev.objects if o.info["seen"] == seen])

        js, ju = m("J-Mean", True), m("J-Mean", False)
        fs, fu = m("F-Mean", True), m("F-Mean", False)
        vs, vu = m("V-Mean", True), m("V-Mean", False)
        return {
            "J&F-Mean": ((js + fs) + (ju + fu)) / 4.0,
            "J-Mean": (js + ju) / 2,
            "J-seen-Mean": js,
            "J-unseen-Mean": ju,
            "F-Mean": (fs + fu) / 2,
            "F-seen-Mean": fs,
            "F-unseen-Mean": fu,
            "V-Mean": (vs + vu) / 2,
            "V-seen-Mean": vs,
            "V-unseen-Mean": vu,
        }

    def files(self, ev: Evaluation) -> dict[str, str]:
        g = ev.global_scores
        split = ev.options["split"]
        gl = csv_text([list(GLOBAL_COLUMNS), [fmt3(g[c]) for c in GLOBAL_COLUMNS]])
        rows = [["Sequence", "J-Mean", "F-Mean", "V-Mean"]]
        rows += [
            [o.name, fmt3(o.stats["J-Mean"]), fmt3(o.stats["F-Mean"]), fmt3(o.stats["V-Mean"])]
            for o in ev.objects
        ]
        return {
            f"global_results-{split}.csv": gl,
            f"per-sequence_results-{split}.csv": csv_text(rows),
        }
