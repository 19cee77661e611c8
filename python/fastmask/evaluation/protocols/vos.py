"""``vos-benchmark`` (hkchengrex/vos-benchmark) and ``sav`` (SA-V's sav_evaluator).

- vos-benchmark: ``gt/<video>/<frame>.png`` label maps (a dataset root holding only
  ``Annotations/<video>`` is followed there); objects are the labels seen in the ground truth,
  each scored from the frame where it is first seen (ground truth or result); where it is
  absent from both, J = F = 1; ``skip_first_and_last`` as its ``-d`` flag;
- sav: ``gt/<video>/<obj>/<frame>.png`` binary masks, each object on its own frames (a video
  folder holding only PNGs is scored like vos-benchmark, as the SA-V evaluator does);
- file ``results.csv`` (per object mean J and F in percent, one decimal), videos in name order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from fastmask._fastmask import EvaluationError
from fastmask.evaluation import _diagnose as dx
from fastmask.evaluation._engine import FrameJob, JobScores, Rule
from fastmask.evaluation._jobs import Job, Settings
from fastmask.evaluation._result import Evaluation, ObjectScore, davis_stats, nanmean
from fastmask.evaluation.protocols._base import (
    Protocol,
    Scored,
    Work,
    not_found,
    pngs,
    present_labels,
    result_frames,
    select,
    subfolders,
    warn_extra,
)


def _vos_root(gt: Path) -> Path:
    # Like vos-benchmark: a DAVIS root passed instead of its Annotations folder is followed.
    ann = gt / "Annotations"
    if (
        ann.is_dir()
        and not pngs(ann)
        and not any(
            pngs(gt / n) for n in os.listdir(gt) if (gt / n).is_dir() and n != "Annotations"
        )
    ):
        return ann
    return gt


def _video_dirs(root: Path, sequences: list[str] | None) -> list[str]:
    if not root.is_dir():
        raise not_found("ground-truth folder", root, dx.folder_root_hint(root))
    videos = subfolders(root)
    if not videos:
        # Say what is there (frames: one video's folder was passed), not just "nothing to do".
        raise EvaluationError(f"{root}: no video folders" + dx.hint("", dx.folder_root_hint(root)))
    return select(videos, sequences, root, missing="no ground-truth folder for")


class VosBenchmark(Protocol):
    name = "vos-benchmark"
    takes_bound_th = True
    takes_colormap = True
    jf_column = True

    def configure(self, common: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        super().configure(common, options)
        return {"skip_first_and_last": common["skip_first_and_last"]}

    def discover(self, settings: Settings, sequences: list[str] | None) -> list[tuple[str, Any]]:
        root = self.root(Path(settings.gt))
        # Every job holds the same root string (one object, pickled once per batch), not a
        # path of its own: building 50,900 paths (SA-V train) took 2.5 s with pathlib.
        base = str(root)
        videos = _video_dirs(root, sequences)
        warn_extra(settings, videos, sequences)
        return [(v, base) for v in videos]

    def root(self, gt: Path) -> Path:
        return _vos_root(gt)

    def _frames(self, job: Job, folder: Path, names: list[str], rel: str, obj: str | None) -> Any:
        s = job.settings
        scored = names[1:-1] if s.options["skip_first_and_last"] else names
        pred, missing = result_frames(Path(s.results), rel, scored, s.allow_missing, job.sequence)
        gt = [str(folder / f) for f in scored]
        return FrameJob(gt=gt, pred=pred), (obj, [Path(f).stem for f in scored], missing)

    def prepare(self, job: Job) -> Work:
        folder = Path(job.data) / job.sequence
        fj, state = self._frames(job, folder, pngs(folder), job.sequence, None)
        return Work([fj], Rule(dynamic=True), [state])

    def finish(self, job: Job, work: Work, scores: list[JobScores], threads: int) -> Scored:
        objects: list[ObjectScore] = []
        frames = missing = 0
        for fj, (obj, names, miss), s in zip(work.frame_jobs, work.state, scores):
            objects += _first_sighting(work.rule.binarize, job.sequence, obj, names, fj, s)
            frames += len(names)
            missing += miss
        for o in objects:
            o.stats = davis_stats(o.J, o.F, job.settings.decay)
        return Scored(objects, frames, missing)

    def files(self, ev: Evaluation) -> dict[str, str]:
        return {"results.csv": _results_csv(ev.objects)}


class Sav(VosBenchmark):
    name = "sav"
    object_folders = True

    def root(self, gt: Path) -> Path:
        return gt

    def prepare(self, job: Job) -> Work:
        folder = Path(job.data) / job.sequence
        entries = sorted(os.listdir(folder))
        if all(e.endswith(".png") for e in entries):
            fj, state = self._frames(job, folder, entries, job.sequence, None)
            return Work([fj], Rule(dynamic=True), [state])
        work = Work(rule=Rule(dynamic=True, binarize=True), state=[])
        for obj in entries:
            if not (folder / obj).is_dir():
                raise EvaluationError(
                    f"{folder / obj}: SA-V layout expects only object folders "
                    f"(<video>/<obj>/<frame>.png) in a video folder, found a file"
                )
            names = sorted(os.listdir(folder / obj))
            fj, state = self._frames(job, folder / obj, names, f"{job.sequence}/{obj}", obj)
            work.frame_jobs.append(fj)
            work.state.append(state)
        return work


def _first_sighting(
    binarize: bool, seq: str, obj: str | None, frames: list[str], fj: FrameJob, s: JobScores
) -> list[ObjectScore]:
    """Every label seen in the ground truth, scored from its first sighting (in the ground
    truth or the result) on; where it is absent from both, J = F = 1."""
    seen_gt: set[int] = set()
    first: dict[int, int] = {}
    for t in range(len(frames)):
        gt_labels = present_labels(s.gt_present[t])
        pred_labels = present_labels(s.pred_present[t])
        if binarize:
            for present, path in ((s.gt_present[t], fj.gt[t]), (s.pred_present[t], fj.pred[t])):
                values = int(np.count_nonzero(present))
                if values > 2:
                    raise EvaluationError(
                        f"{path}: SA-V expects one object per PNG (at most 2 distinct values), "
                        f"found {values}"
                    )
            gt_labels = [1] if gt_labels else []
            pred_labels = [1] if pred_labels else []
        # Same set updates as the reference, so the object order (set order) is the same.
        seen_gt.update(set(gt_labels))
        for k in (*gt_labels, *pred_labels):
            first.setdefault(k, t)
    out = []
    for k in seen_gt:
        c = s.column((k, k))
        assert c is not None
        t0 = first[k]
        j = np.where(np.isnan(s.J[t0:, c]), 1.0, s.J[t0:, c])
        f = np.where(np.isnan(s.F[t0:, c]), 1.0, s.F[t0:, c])
        name: int | str = k if obj is None else obj
        out.append(ObjectScore(seq, name, f"{seq}_{name}", frames[t0:], j, f, k))
    if obj is not None and not out:
        raise EvaluationError(
            f"{Path(fj.gt[0]).parent if fj.gt else obj}: the ground truth of object {obj!r} "
            f"of video {seq!r} is empty in every scored frame (the SA-V evaluator fails "
            "on such an object)"
        )
    return out


def _results_csv(objects: list[ObjectScore]) -> str:
    videos: dict[str, list[tuple[object, float, float]]] = {}
    all_j, all_f = [], []
    for o in objects:
        j = np.mean(o.J) * 100
        f = np.mean(o.F) * 100
        videos.setdefault(o.sequence, []).append((o.object, j, f))
        all_j.append(j)
        all_f.append(f)
    gj = nanmean(all_j)
    gf = nanmean(all_f)
    gjf = (gj + gf) / 2
    ml = max([len(n) for n in videos] + [len("Global score")])
    lines = [f"{'sequence':<{ml}},{'obj':>3}, {'J&F':>4}, {'J':>4}, {'F':>4}\n"]
    lines.append(f"{'Global score':<{ml}},{'':>3}, {gjf:.1f}, {gj:.1f}, {gf:.1f}\n")
    for name, objs in videos.items():
        for obj, j, f in objs:
            lines.append(f"{name:<{ml}},{obj:03}, {(j + f) / 2:>4.1f}, {j:>4.1f}, {f:>4.1f}\n")
    return "".join(lines)
