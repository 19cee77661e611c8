"""``davis2017`` (davis2017-evaluation, semi-supervised and unsupervised) and ``davis2016`` (the
same rules on binary masks, one object per sequence).

- sequences: ``ImageSets/2017/<subset>.txt`` (``2019`` for the unsupervised test sets;
  ``ImageSets/2016/<subset>.txt`` or the DAVIS-2016 ``ImageSets/480p/<subset>.txt`` pairs);
- ground truth ``Annotations/<resolution>/<seq>/*.png`` (``Annotations_unsupervised`` for the
  unsupervised task); objects 1..N, N the largest label of the first frame (void 255 excluded);
- semi-supervised drops the first and last frames and counts void as background; unsupervised
  scores every frame, removes void pixels, and matches up to 20 proposals to the objects
  (Hungarian on mean (J + F) / 2, as scipy's ``linear_sum_assignment``);
- per object DAVIS Mean / Recall / Decay; files ``global_results-<set>.csv`` and
  ``per-sequence_results-<set>.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fastmask._fastmask import EvaluationError
from fastmask.datasets._layouts import read_davis_2016_pairs
from fastmask.evaluation import _diagnose as dx
from fastmask.evaluation._assign import linear_sum_assignment
from fastmask.evaluation._engine import VOID, FrameJob, JobScores, Rule, read_labels
from fastmask.evaluation._jobs import Job, Settings
from fastmask.evaluation._result import ObjectScore, davis_stats
from fastmask.evaluation.protocols._base import (
    Protocol,
    Scored,
    Work,
    nonempty,
    not_found,
    pngs,
    present_labels,
    read_sequence_list,
    result_frames,
    warn_extra,
)

#: DAVIS-2017 unsupervised: at most this many proposals (result labels 1..20).
MAX_PROPOSALS = 20


def _davis_2016_list(root: Path, subset: str, resolution: str) -> tuple[list[str], Path]:
    """``ImageSets/2016/<set>.txt`` (names, as shipped with DAVIS 2017) or the DAVIS-2016 layout
    ``ImageSets/480p/<set>.txt`` (image / annotation path pairs)."""
    names_file = root / "ImageSets" / "2016" / f"{subset}.txt"
    pairs_file = root / "ImageSets" / "480p" / f"{subset}.txt"
    if names_file.is_file() or not pairs_file.is_file():
        hint = lambda: dx.davis_root_hint(root, subset, resolution)  # noqa: E731
        return read_sequence_list(names_file, hint), names_file
    return read_davis_2016_pairs(pairs_file), pairs_file


class Davis2017(Protocol):
    name = "davis2017"
    tasks: ClassVar[tuple[str, ...]] = ("semi-supervised", "unsupervised")
    takes_bound_th = True
    takes_colormap = True
    jf_column = True
    binary = False

    def configure(self, common: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        super().configure(common, options)
        task = common["task"]
        if task not in ("semi-supervised", "unsupervised"):
            raise ValueError(f"task must be 'semi-supervised' or 'unsupervised', got {task!r}")
        if self.binary and task == "unsupervised":
            raise ValueError("davis2016 has only the semi-supervised task")
        return {k: common[k] for k in ("task", "subset", "resolution")}

    def _annotations(self, settings: Settings) -> Path:
        o = settings.options
        unsupervised = o["task"] == "unsupervised"
        folder = "Annotations_unsupervised" if unsupervised else "Annotations"
        return Path(settings.gt) / folder / o["resolution"]

    def discover(self, settings: Settings, sequences: list[str] | None) -> list[tuple[str, Any]]:
        gt = Path(settings.gt)
        o = settings.options
        subset = o["subset"]
        unsupervised = o["task"] == "unsupervised"
        resolution = o["resolution"]
        if not gt.is_dir():
            raise not_found("DAVIS root", gt, dx.davis_root_hint(gt, subset, resolution))
        if self.binary:
            names, listed = _davis_2016_list(gt, subset, resolution)
        else:
            year = "2019" if unsupervised and subset in ("test-dev", "test-challenge") else "2017"
            listed = gt / "ImageSets" / year / f"{subset}.txt"
            # The diagnosis lists folders: run only when the list is missing.
            names = read_sequence_list(listed, lambda: dx.davis_root_hint(gt, subset, resolution))
        nonempty(names, listed)
        if sequences is not None:
            unknown = [s for s in sequences if s not in names]
            if unknown:
                raise EvaluationError(f"sequences not in the {subset!r} set: {', '.join(unknown)}")
            names = nonempty([s for s in names if s in sequences], listed)
        ann = self._annotations(settings)
        if not ann.is_dir():
            raise not_found(
                f"{o['task']} annotations folder",
                ann,
                dx.davis_root_hint(gt, subset, resolution, o["task"]),
            )
        warn_extra(settings, names, sequences)
        return [(n, None) for n in names]

    def rule(self, settings: Settings) -> Rule:
        unsupervised = settings.options["task"] == "unsupervised"
        return Rule(
            cross=unsupervised,
            void=VOID if unsupervised else None,
            binarize=self.binary,
            same_size=True,
        )

    def prepare(self, job: Job) -> Work:
        s = job.settings
        seq = job.sequence
        unsupervised = s.options["task"] == "unsupervised"
        folder = self._annotations(s) / seq
        if not folder.is_dir():
            raise not_found(f"ground-truth folder of sequence {seq!r}", folder)
        frames = pngs(folder)
        if not frames:
            raise EvaluationError(f"{folder}: no ground-truth PNG frames")
        scored = frames if unsupervised else frames[1:-1]
        if not scored:
            raise EvaluationError(
                f"{folder}: {len(frames)} ground-truth frame(s); semi-supervised evaluation scores "
                "frames 1..T-2 (the first and the last are dropped), which leaves none"
            )
        pred, missing = result_frames(Path(s.results), seq, scored, s.allow_missing, seq)
        # Every file of the sequence is known to exist before its first pixel is read.
        if self.binary:
            n = 1
        else:
            first = read_labels(str(folder / frames[0]), s.max_pixels, s.colormap)
            first = first[first != VOID]
            n = int(first.max()) if first.size else 0
        fj = FrameJob(
            gt=[str(folder / f) for f in scored],
            pred=pred,
            objects=list(range(1, n + 1)),
            max_pred_label=MAX_PROPOSALS if unsupervised else (255 if self.binary else n),
        )
        return Work([fj], self.rule(s), ([Path(f).stem for f in scored], missing))

    def finish(self, job: Job, work: Work, scores: list[JobScores], threads: int) -> Scored:
        frames, missing = work.state
        (fj,), (s,) = work.frame_jobs, scores
        if job.settings.options["task"] == "unsupervised":
            objects = _unsupervised(job.sequence, frames, fj.objects, s)
        else:
            objects = _semi(job.sequence, frames, fj.objects, s)
        for o in objects:
            o.stats = davis_stats(o.J, o.F, job.settings.decay)
        return Scored(objects, len(frames), missing)


class Davis2016(Davis2017):
    name = "davis2016"
    tasks: ClassVar[tuple[str, ...]] = ("semi-supervised",)
    binary = True


def _semi(seq: str, frames: list[str], objects: list[int], s: JobScores) -> list[ObjectScore]:
    """DAVIS semi-supervised / 2016: objects 1..N of the first frame, every scored frame."""
    out = []
    for k in objects:
        c = s.column((k, k))
        assert c is not None
        out.append(ObjectScore(seq, k, f"{seq}_{k}", frames, s.J[:, c].copy(), s.F[:, c].copy(), k))
    return out


def _unsupervised(
    seq: str, frames: list[str], objects: list[int], s: JobScores
) -> list[ObjectScore]:
    """DAVIS unsupervised: proposals 1..max(P, N) x objects 1..N, Hungarian on mean (J+F)/2."""
    n = len(objects)
    n_frames = len(frames)
    p_max = max((max(present_labels(r), default=0) for r in s.pred_present), default=0)
    n_pred = max(p_max, n)
    j_all = np.zeros((n_pred, n, n_frames))
    f_all = np.zeros((n_pred, n, n_frames))
    for gi, g in enumerate(objects):
        empty = s.column((g, 0))
        assert empty is not None
        for p in range(1, n_pred + 1):
            c = s.column((g, p))
            if c is None:
                j_all[p - 1, gi, :] = s.J[:, empty]
                f_all[p - 1, gi, :] = s.F[:, empty]
            else:
                j_all[p - 1, gi, :] = np.where(np.isnan(s.J[:, c]), s.J[:, empty], s.J[:, c])
                f_all[p - 1, gi, :] = np.where(np.isnan(s.F[:, c]), s.F[:, empty], s.F[:, c])
    score = (np.mean(j_all, axis=2) + np.mean(f_all, axis=2)) / 2
    rows, cols = linear_sum_assignment((-score).tolist()) if n else ([], [])
    out = []
    # The official tool names the k-th matched pair (ordered by proposal) "<seq>_<k>".
    for k, (r, c) in enumerate(zip(rows, cols)):
        out.append(
            ObjectScore(
                seq,
                objects[c],
                f"{seq}_{k + 1}",
                frames,
                j_all[r, c].copy(),
                f_all[r, c].copy(),
                r + 1,
            )
        )
    return out
