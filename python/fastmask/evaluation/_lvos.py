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

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from fastmask._fastmask import EvaluationError
from fastmask.datasets import LVOS
from fastmask.datasets._layouts import frame_range
from fastmask.datasets.scores import lvos_v, statistics
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


def evaluate_lvos(
    gt: str | os.PathLike[str],
    results: str | os.PathLike[str],
    *,
    split: str = "valid",
    unseen: str | os.PathLike[str] | Sequence[str] | None = None,
    sequences: Iterable[str] | None = None,
    decay: str = "exact",
    allow_missing: bool = False,
    threads: int | None = None,
    progress: Progress = False,
) -> DatasetEvaluation:
    """LVOS semi-supervised scoring (see the module doc).

    Example:
        >>> ev = evaluate_lvos("LVOS/valid", "res", split="valid")  # doctest: +SKIP
        >>> ev.global_scores["J&F-Mean"], ev.write("res")  # doctest: +SKIP
    """
    timer = Timer()
    ds = LVOS(gt, split, unseen=unseen)
    if ds.unseen is None:
        raise EvaluationError(
            f"{ds.split_dir}: unseen_videos.txt not found beside the split; the LVOS scores are "
            "split into seen and unseen videos: pass unseen= (a file or a list, [] for none)"
        )
    unseen_set = set(ds.unseen)
    names = select(ds.names, sequences)
    res = Path(results)
    objects: list[ObjectResult] = []
    missing = 0
    for name in track(names, progress, "fastmask eval lvos"):
        video = ds[name]
        entry = ds.meta["videos"][name]["objects"]
        plans = {}
        for k, key in enumerate(entry):
            start, end, n = frame_range(entry[key], f"{ds.meta_path}: {name}/{key}")
            plans[int(key)] = (k, n, scored_frames(start, end, n, f"{ds.meta_path}: {name}/{key}"))
        union = sorted({f for _, _, s in plans.values() for _, f in s})
        row = {f: i for i, f in enumerate(union)}
        ids = list(plans)
        jall, fall, n_missing = score_frames(video, res, union, ids, allow_missing, threads)
        missing += n_missing
        for col, oid in enumerate(ids):
            k, n, slots = plans[oid]
            j = np.zeros(max(n - 2, 0))
            f = np.zeros(max(n - 2, 0))
            for slot, fr in slots:
                j[slot] = jall[row[fr], col]
                f[slot] = fall[row[fr], col]
            jm, jr, jd = statistics(j, decay)
            fm, fr_, fd = statistics(f, decay)
            objects.append(
                ObjectResult(
                    name,
                    oid,
                    f"{name}_{k + 1}",
                    [fr for _, fr in slots],
                    j,
                    f,
                    {
                        "J-Mean": jm,
                        "J-Recall": jr,
                        "J-Decay": jd,
                        "F-Mean": fm,
                        "F-Recall": fr_,
                        "F-Decay": fd,
                        "V-Mean": lvos_v(j, f),
                    },
                    {"seen": name not in unseen_set},
                )
            )
    g = _global(objects)

    def files() -> dict[str, str]:
        gl = csv_text([list(GLOBAL_COLUMNS), [fmt3(g[c]) for c in GLOBAL_COLUMNS]])
        rows = [["Sequence", "J-Mean", "F-Mean", "V-Mean"]]
        rows += [
            [o.name, fmt3(o.stats["J-Mean"]), fmt3(o.stats["F-Mean"]), fmt3(o.stats["V-Mean"])]
            for o in objects
        ]
        return {
            f"global_results-{split}.csv": gl,
            f"per-sequence_results-{split}.csv": csv_text(rows),
        }

    return DatasetEvaluation(
        "lvos",
        objects,
        g,
        files,
        options={"split": split, "decay": decay},
        missing=missing,
        seconds=timer(),
    )


def _global(objects: list[ObjectResult]) -> dict[str, float]:
    def m(key: str, seen: bool) -> float:
        return nanmean([o.stats[key] for o in objects if o.info["seen"] == seen])

    js, ju, fs, fu = m("J-Mean", True), m("J-Mean", False), m("F-Mean", True), m("F-Mean", False)
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
