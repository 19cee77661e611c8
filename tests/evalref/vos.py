"""vos-benchmark and SA-V rules, driving the real ``vos_benchmark`` package.

vos-benchmark (hkchengrex/vos-benchmark @ acb4733, PyPI 0.1.0): per video, ``sorted(listdir)``
frames, ``[1:-1]`` unless told otherwise, one ``Evaluator`` fed frame by frame; its per-frame lists
``object_iou`` / ``boundary_f`` are what we compare with. ``benchmark()`` itself writes
``results.csv`` into the prediction folder (run it on a copy).

SA-V (facebookresearch/sam2 ``sav_dataset/utils/sav_benchmark.py``): the same ``Evaluator`` per
object folder ``<video>/<obj>/<frame>.png`` on binarised masks (``> 0``), each object's own frames
``[1:-1]``; a video folder holding only PNGs is scored like vos-benchmark. Its Evaluator is a
copy of
vos-benchmark's, so the real package's class stands in for it here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image
from vos_benchmark.evaluator import Evaluator

PerObject = dict[tuple[str, object], tuple[np.ndarray, np.ndarray]]


def _video_frames(folder: Path, skip_first_and_last: bool) -> list[str]:
    frames = sorted(os.listdir(folder))
    return frames[1:-1] if skip_first_and_last else frames


def _feed(ev: Evaluator, gt_dir: Path, pred_dir: Path, frames: list[str], binary: bool) -> None:
    for name in frames:
        gt = np.array(Image.open(gt_dir / name))
        pred_path = pred_dir / name
        if not pred_path.exists():
            raise FileNotFoundError(pred_path)
        pred = np.array(Image.open(pred_path))
        assert gt.shape[-2:] == pred.shape[-2:]
        if binary:
            assert len(np.unique(gt)) <= 2 and len(np.unique(pred)) <= 2
            gt, pred = gt > 0, pred > 0
        ev.feed_frame(pred, gt)


def _collect(ev: Evaluator) -> dict[object, tuple[np.ndarray, np.ndarray]]:
    # conclude() keeps objects in ``objects_in_gt`` set order; keep it for the CSV row order.
    return {
        k: (np.array(ev.object_iou[k], np.float64), np.array(ev.boundary_f[k], np.float64))
        for k in ev.objects_in_gt
    }


def vos_benchmark_per_frame(
    gt_root: str | os.PathLike[str],
    pred_root: str | os.PathLike[str],
    skip_first_and_last: bool = True,
) -> PerObject:
    """Per-frame J and F (fractions) of every reported object, keyed ``(video, object id)``."""
    gt_root, pred_root = Path(gt_root), Path(pred_root)
    out: PerObject = {}
    videos = sorted(p.name for p in gt_root.iterdir() if p.is_dir())
    for vid in videos:
        ev = Evaluator(name=vid)
        frames = _video_frames(gt_root / vid, skip_first_and_last)
        _feed(ev, gt_root / vid, pred_root / vid, frames, binary=False)
        for k, v in _collect(ev).items():
            out[(vid, k)] = v
    return out


def sav_per_frame(
    gt_root: str | os.PathLike[str],
    pred_root: str | os.PathLike[str],
    skip_first_and_last: bool = True,
) -> PerObject:
    """SA-V: per-frame J and F keyed ``(video, object folder name)``."""
    gt_root, pred_root = Path(gt_root), Path(pred_root)
    out: PerObject = {}
    videos = sorted(p.name for p in gt_root.iterdir() if p.is_dir())
    for vid in videos:
        entries = sorted(os.listdir(gt_root / vid))
        if all(e.endswith(".png") for e in entries):
            ev = Evaluator(name=vid)
            frames = entries[1:-1] if skip_first_and_last else entries
            _feed(ev, gt_root / vid, pred_root / vid, frames, binary=False)
            for k, v in _collect(ev).items():
                out[(vid, k)] = v
            continue
        for obj in entries:
            ev = Evaluator(name=vid)
            frames = _video_frames(gt_root / vid / obj, skip_first_and_last)
            _feed(ev, gt_root / vid / obj, pred_root / vid / obj, frames, binary=True)
            got = _collect(ev)
            assert len(got) == 1, "the SA-V evaluator fails when an object's gt is always empty"
            out[(vid, obj)] = next(iter(got.values()))
    return out


def results_csv(per_object: PerObject) -> str:
    """``results.csv`` text as vos-benchmark / the SA-V evaluator build it from the object means."""
    videos: dict[str, dict[object, tuple[float, float]]] = {}
    all_j, all_f = [], []
    for (vid, k), (j, f) in per_object.items():
        jm, fm = np.mean(j) * 100, np.mean(f) * 100
        videos.setdefault(vid, {})[k] = (jm, fm)
        all_j.append(jm)
        all_f.append(fm)
    gj, gf = np.array(all_j).mean(), np.array(all_f).mean()
    gjf = (gj + gf) / 2
    ml = max(*[len(n) for n in videos], len("Global score"))
    out = f"{'sequence':<{ml}},{'obj':>3}, {'J&F':>4}, {'J':>4}, {'F':>4}\n"
    out += f"{'Global score':<{ml}},{'':>3}, {gjf:.1f}, {gj:.1f}, {gf:.1f}\n"
    for vid, objs in videos.items():
        for k, (j, f) in objs.items():
            out += f"{vid:<{ml}},{k:03}, {(j + f) / 2:>4.1f}, {j:>4.1f}, {f:>4.1f}\n"
    return out
