"""Per-object series from engine scores (the protocol rules), the ``Evaluation`` result, its tables,
summary and the reference tools' output files."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from fastmask._fastmask import EvaluationError
from fastmask.evaluation._assign import linear_sum_assignment
from fastmask.evaluation._discover import Job, Plan
from fastmask.evaluation._engine import JobScores
from fastmask.metrics import statistics

_GLOBAL_COLUMNS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")


@dataclass
class ObjectScore:
    """The scores of one object.

    ``J`` and ``F``: (T,) float64, one value per scored frame (``frames`` names them). ``name`` is
    the row name the protocol's own files use (``<seq>_<k>`` for DAVIS). ``proposal``: the result
    label matched to this object (DAVIS unsupervised), else the object's own label.
    """

    sequence: str
    object: int | str
    name: str
    frames: list[str]
    J: np.ndarray
    F: np.ndarray
    proposal: int | str | None = None
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def JF(self) -> float:
        return (self.stats["J-Mean"] + self.stats["F-Mean"]) / 2


def _present_labels(row: np.ndarray) -> list[int]:
    return [int(k) for k in np.flatnonzero(row) if k != 0]


def _column(s: JobScores, pair: tuple[int, int]) -> int | None:
    hit = np.flatnonzero((s.pairs[:, 0] == pair[0]) & (s.pairs[:, 1] == pair[1]))
    return int(hit[0]) if hit.size else None


def davis_objects(plan: Plan, job: Job, s: JobScores) -> list[ObjectScore]:
    """DAVIS semi-supervised / 2016: objects 1..N of the first frame, every scored frame."""
    out = []
    for k in job.objects:
        c = _column(s, (k, k))
        assert c is not None
        name = f"{job.sequence}_{k}"
        out.append(
            ObjectScore(job.sequence, k, name, job.frames, s.J[:, c].copy(), s.F[:, c].copy(), k)
        )
    return out


def davis_unsupervised(plan: Plan, job: Job, s: JobScores) -> list[ObjectScore]:
    """DAVIS unsupervised: proposals 1..max(P, N) x objects 1..N, Hungarian on mean (J+F)/2."""
    n = len(job.objects)
    n_frames = len(job.frames)
    p_max = max((max(_present_labels(r), default=0) for r in s.pred_present), default=0)
    n_pred = max(p_max, n)
    j_all = np.zeros((n_pred, n, n_frames))
    f_all = np.zeros((n_pred, n, n_frames))
    for gi, g in enumerate(job.objects):
        empty = _column(s, (g, 0))
        assert empty is not None
        for p in range(1, n_pred + 1):
            c = _column(s, (g, p))
            j_col = (
                s.J[:, empty]
                if c is None
                else np.where(np.isnan(s.J[:, c]), s.J[:, empty], s.J[:, c])
            )
            f_col = (
                s.F[:, empty]
                if c is None
                else np.where(np.isnan(s.F[:, c]), s.F[:, empty], s.F[:, c])
            )
            j_all[p - 1, gi, :] = j_col
            f_all[p - 1, gi, :] = f_col
    score = (np.mean(j_all, axis=2) + np.mean(f_all, axis=2)) / 2
    rows, cols = linear_sum_assignment((-score).tolist()) if n else ([], [])
    out = []
    # The official tool names the k-th matched pair (ordered by proposal) "<seq>_<k>".
    for k, (r, c) in enumerate(zip(rows, cols)):
        out.append(
            ObjectScore(
                job.sequence,
                job.objects[c],
                f"{job.sequence}_{k + 1}",
                job.frames,
                j_all[r, c].copy(),
                f_all[r, c].copy(),
                r + 1,
            )
        )
    return out


def vos_objects(plan: Plan, job: Job, s: JobScores) -> list[ObjectScore]:
    """vos-benchmark / SA-V: every label seen in the ground truth, scored from its first sighting
    (in the ground truth or the result) on; where it is absent from both, J = F = 1."""
    seen_gt: set[int] = set()
    first: dict[int, int] = {}
    for t in range(len(job.frames)):
        gt_labels = _present_labels(s.gt_present[t])
        pred_labels = _present_labels(s.pred_present[t])
        if plan.binarize:
            for present, path in ((s.gt_present[t], job.gt[t]), (s.pred_present[t], job.pred[t])):
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
        c = _column(s, (k, k))
        assert c is not None
        t0 = first[k]
        j = np.where(np.isnan(s.J[t0:, c]), 1.0, s.J[t0:, c])
        f = np.where(np.isnan(s.F[t0:, c]), 1.0, s.F[t0:, c])
        if job.obj is None:
            obj: int | str = k
        else:
            obj = job.obj
        out.append(
            ObjectScore(job.sequence, obj, f"{job.sequence}_{obj}", job.frames[t0:], j, f, k)
        )
    if job.obj is not None and not out:
        raise EvaluationError(
            f"{Path(job.gt[0]).parent if job.gt else job.obj}: the ground truth of object "
            f"{job.obj!r} "
            f"of video {job.sequence!r} is empty in every scored frame (the SA-V evaluator fails "
            "on such an object)"
        )
    return out


def _atomic_write(files: dict[Path, str]) -> None:
    """Write every file to a temporary name in its folder, then rename them all: a failure
    while writing leaves none of them (and no temporary file) behind."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "w", newline="") as fh:
                fh.write(text)
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _fmt3(x: float | np.floating) -> str:
    return "" if np.isnan(x) else "%.3f" % x  # noqa: UP031 - pandas float_format="%.3f"


def _csv(rows: Sequence[Sequence[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerows(rows)
    return buf.getvalue()


class Evaluation:
    """The result of ``fastmask.evaluate``: per-object per-frame J and F, tables, global numbers.

    - ``objects``: list of ``ObjectScore`` (``J``, ``F`` as (T,) float64 arrays, ``stats``);
    - ``global_scores``: dict ``J&F-Mean, J-Mean, J-Recall, J-Decay, F-Mean, F-Recall, F-Decay``
      (fractions; each object weighs the same, as in every reference tool);
    - ``per_object()`` / ``per_sequence()``: column dicts (``pandas.DataFrame(ev.per_object())``);
    - ``write(folder)``: the protocol's own files, byte-identical to the reference tool's;
    - ``missing``: result frames that were missing and scored as empty (``allow_missing``);
    - ``timings``: seconds: ``total`` wall time, and ``decode`` / ``J`` / ``F`` summed over threads.
    """

    def __init__(
        self,
        protocol: str,
        options: dict[str, object],
        objects: list[ObjectScore],
        n_sequences: int,
        n_frames: int,
        missing: int,
        timings: dict[str, float],
        decay: Literal["davis", "exact"] = "davis",
    ) -> None:
        self.protocol = protocol
        self.options = options
        self.objects = objects
        self.n_sequences = n_sequences
        self.n_frames = n_frames
        self.missing = missing
        self.timings = timings
        if decay not in ("davis", "exact"):
            raise ValueError(f"decay must be 'davis' or 'exact'; got {decay!r}")
        for o in objects:
            jm, jr, jd = (float(x) for x in statistics(o.J, decay=decay))
            fm, fr, fd = (float(x) for x in statistics(o.F, decay=decay))
            o.stats = {
                "J-Mean": jm,
                "J-Recall": jr,
                "J-Decay": jd,
                "F-Mean": fm,
                "F-Recall": fr,
                "F-Decay": fd,
            }
        self.global_scores = self._global()

    def _global(self) -> dict[str, float]:
        def mean(key: str) -> float:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                return float(np.mean([o.stats[key] for o in self.objects]))

        g = {k: mean(k) for k in _GLOBAL_COLUMNS[1:]}
        return {"J&F-Mean": (g["J-Mean"] + g["F-Mean"]) / 2.0, **g}

    def __repr__(self) -> str:
        g = self.global_scores
        return (
            f"Evaluation(protocol={self.protocol!r}, sequences={self.n_sequences}, "
            f"objects={len(self.objects)}, J&F={g['J&F-Mean']:.3f}, J={g['J-Mean']:.3f}, "
            f"F={g['F-Mean']:.3f})"
        )

    def per_object(self) -> dict[str, list[object]]:
        """One row per object: sequence, object, name, J&F-Mean and J/F Mean, Recall, Decay.

        Columns of equal length (floats are fractions), ready for ``pandas.DataFrame``.

        >>> pandas.DataFrame(ev.per_object()).sort_values("J&F-Mean").head()  # doctest: +SKIP
        """
        cols: dict[str, list[object]] = {"sequence": [], "object": [], "name": [], "J&F-Mean": []}
        for k in _GLOBAL_COLUMNS[1:]:
            cols[k] = []
        for o in self.objects:
            cols["sequence"].append(o.sequence)
            cols["object"].append(o.object)
            cols["name"].append(o.name)
            cols["J&F-Mean"].append(o.JF)
            for k in _GLOBAL_COLUMNS[1:]:
                cols[k].append(o.stats[k])
        return cols

    def per_sequence(self) -> dict[str, list[object]]:
        """One row per sequence: the mean over its objects of J-Mean, F-Mean and J&F-Mean.

        >>> seq = ev.per_sequence(); dict(zip(seq["sequence"], seq["J&F-Mean"]))  # doctest: +SKIP
        """
        groups: dict[str, list[ObjectScore]] = {}
        for o in self.objects:
            groups.setdefault(o.sequence, []).append(o)
        cols: dict[str, list[object]] = {
            "sequence": [],
            "objects": [],
            "J&F-Mean": [],
            "J-Mean": [],
            "F-Mean": [],
        }
        for seq, objs in groups.items():
            jm = float(np.mean([o.stats["J-Mean"] for o in objs]))
            fm = float(np.mean([o.stats["F-Mean"] for o in objs]))
            cols["sequence"].append(seq)
            cols["objects"].append(len(objs))
            cols["J&F-Mean"].append((jm + fm) / 2)
            cols["J-Mean"].append(jm)
            cols["F-Mean"].append(fm)
        return cols

    # ----- the reference tools' files ---------------------------------------------------------

    def files(self) -> dict[str, str]:
        """File name -> text of the protocol's own output files (what ``write`` writes).

        >>> print(ev.files()["global_results-val.csv"])  # doctest: +SKIP
        """
        if self.protocol in ("davis2017", "davis2016"):
            return self._davis_files()
        return {"results.csv": self._vos_results_csv()}

    def _davis_files(self) -> dict[str, str]:
        subset = str(self.options.get("subset", "val"))
        objs = self.objects
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            jm = np.mean([o.stats["J-Mean"] for o in objs])
            fm = np.mean([o.stats["F-Mean"] for o in objs])
            values = [
                (jm + fm) / 2.0,
                jm,
                np.mean([o.stats["J-Recall"] for o in objs]),
                np.mean([o.stats["J-Decay"] for o in objs]),
                fm,
                np.mean([o.stats["F-Recall"] for o in objs]),
                np.mean([o.stats["F-Decay"] for o in objs]),
            ]
        g = _csv([list(_GLOBAL_COLUMNS), [_fmt3(v) for v in values]])
        rows = [["Sequence", "J-Mean", "F-Mean"]]
        rows += [[o.name, _fmt3(o.stats["J-Mean"]), _fmt3(o.stats["F-Mean"])] for o in objs]
        return {f"global_results-{subset}.csv": g, f"per-sequence_results-{subset}.csv": _csv(rows)}

    def _vos_results_csv(self) -> str:
        videos: dict[str, list[tuple[object, float, float]]] = {}
        all_j, all_f = [], []
        for o in self.objects:
            j = np.mean(o.J) * 100
            f = np.mean(o.F) * 100
            videos.setdefault(o.sequence, []).append((o.object, j, f))
            all_j.append(j)
            all_f.append(f)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            gj = np.array(all_j).mean()
            gf = np.array(all_f).mean()
        gjf = (gj + gf) / 2
        ml = max([len(n) for n in videos] + [len("Global score")])
        lines = [f"{'sequence':<{ml}},{'obj':>3}, {'J&F':>4}, {'J':>4}, {'F':>4}\n"]
        lines.append(f"{'Global score':<{ml}},{'':>3}, {gjf:.1f}, {gj:.1f}, {gf:.1f}\n")
        for name, objs in videos.items():
            for obj, j, f in objs:
                lines.append(f"{name:<{ml}},{obj:03}, {(j + f) / 2:>4.1f}, {j:>4.1f}, {f:>4.1f}\n")
        return "".join(lines)

    def write(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write the protocol's files into ``folder`` (created if needed); returns their paths.

        davis2017 / davis2016: ``global_results-<set>.csv`` and ``per-sequence_results-<set>.csv``
        as davis2017-evaluation writes them; vos-benchmark / sav: ``results.csv``. Each file is
        written to a temporary name first and all are renamed at the end, so a reader never sees
        a partial file.

        >>> ev.write("results/osvos")  # doctest: +SKIP
        [PosixPath('results/osvos/global_results-val.csv'), ...]
        """
        folder = Path(folder)
        files = {folder / name: text for name, text in self.files().items()}
        _atomic_write(files)
        return list(files)

    # ----- human-readable summary -------------------------------------------------------------

    def report(self, worst: int = 5) -> str:
        """A summary table: J&F, J and F with Mean / Recall / Decay, then the worst sequences.

        >>> print(ev.report(worst=3))  # doctest: +SKIP
        """
        g = self.global_scores
        lines = [
            f"{'':<6}{'Mean':>8}{'Recall':>8}{'Decay':>8}",
            f"{'J&F':<6}{g['J&F-Mean']:>8.3f}",
            f"{'J':<6}{g['J-Mean']:>8.3f}{g['J-Recall']:>8.3f}{g['J-Decay']:>8.3f}",
            f"{'F':<6}{g['F-Mean']:>8.3f}{g['F-Recall']:>8.3f}{g['F-Decay']:>8.3f}",
        ]
        seq = self.per_sequence()
        order = np.argsort(np.asarray(seq["J&F-Mean"], np.float64), kind="stable")[:worst]
        if len(order):
            width = max(len(str(seq["sequence"][i])) for i in order)
            lines.append("")
            lines.append("worst sequences (J&F-Mean over their objects):")
            for i in order:
                lines.append(
                    f"  {seq['sequence'][i]!s:<{width}}  J&F {seq['J&F-Mean'][i]:.3f}  "
                    f"J {seq['J-Mean'][i]:.3f}  F {seq['F-Mean'][i]:.3f}  ({seq['objects'][i]} obj)"
                )
        return "\n".join(lines)
