"""DAVIS 2017 / 2016 evaluation as the official davis2017-evaluation code computes it.

Written for the tests from the semantics of davisvideochallenge/davis2017-evaluation @ ac7c43f
(``davis2017/davis.py``, ``results.py``, ``metrics.py``, ``utils.py``, ``evaluation.py`` and
``evaluation_method.py``): whole sequences as float64 stacks, one-hot object stacks, boundary maps
from the east / south / south-east neighbours, ``cv2.dilate`` with ``skimage.morphology.disk``,
``scipy.optimize.linear_sum_assignment`` for the unsupervised task, ``db_statistics`` with its
uint8 bin indices, and the two CSV files written by pandas with ``float_format="%.3f"``.

Where the official tool exits (missing result frame, a label above the object count) this
reference raises ``ReferenceExit`` so tests can check that fastmask refuses the same inputs.
"""

from __future__ import annotations

import os
import warnings
from glob import glob
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from scipy.optimize import linear_sum_assignment
from skimage.morphology import disk


class ReferenceExit(Exception):
    """The official tool would print a message and exit here."""


def read_label(path: str | os.PathLike[str]) -> np.ndarray:
    """``np.array(Image.open(path))``: raw palette indices / gray values."""
    return np.array(Image.open(path))


def boundary_map(seg: np.ndarray) -> np.ndarray:
    """``_seg2bmap``: pixel differs from its east, south or south-east neighbour."""
    m = seg.astype(bool)
    east = np.zeros_like(m)
    south = np.zeros_like(m)
    south_east = np.zeros_like(m)
    east[:, :-1] = m[:, 1:]
    south[:-1, :] = m[1:, :]
    south_east[:-1, :-1] = m[1:, 1:]
    b = (m ^ east) | (m ^ south) | (m ^ south_east)
    b[-1, :] = m[-1, :] ^ east[-1, :]
    b[:, -1] = m[:, -1] ^ south[:, -1]
    b[-1, -1] = False
    return b


def f_measure(
    pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None, bound_th: float = 0.008
) -> float:
    """Boundary F of one frame; the prediction comes first, as in the official call."""
    return f_measure_pix(pred, gt, bound_pix(bound_th, pred.shape), void)


def bound_pix(bound_th: float, shape: tuple[int, ...]) -> float:
    """The dilation radius: ``bound_th`` itself when >= 1, else a fraction of the diagonal."""
    return bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(shape))


def f_measure_pix(
    pred: np.ndarray, gt: np.ndarray, bound_pix: float, void: np.ndarray | None = None
) -> float:
    """``f_measure`` with the dilation radius given as is (MOSE-api passes unrounded radii)."""
    keep = np.ones(pred.shape, bool) if void is None else ~void.astype(bool)
    pred_b = boundary_map(pred * keep)
    gt_b = boundary_map(gt * keep)
    kernel = disk(bound_pix).astype(np.uint8)
    pred_dil = cv2.dilate(pred_b.astype(np.uint8), kernel)
    gt_dil = cv2.dilate(gt_b.astype(np.uint8), kernel)
    n_pred = np.sum(pred_b)
    n_gt = np.sum(gt_b)
    if n_pred == 0 and n_gt > 0:
        precision, recall = 1, 0
    elif n_pred > 0 and n_gt == 0:
        precision, recall = 0, 1
    elif n_pred == 0 and n_gt == 0:
        precision, recall = 1, 1
    else:
        precision = np.sum(pred_b * gt_dil) / float(n_pred)
        recall = np.sum(gt_b * pred_dil) / float(n_gt)
    if precision + recall == 0:
        return 0
    return 2 * precision * recall / (precision + recall)


def jaccard(gt: np.ndarray, pred: np.ndarray, void: np.ndarray | None = None) -> float:
    """``db_eval_iou`` of one frame (1 when the union is empty)."""
    g = gt.astype(bool)
    p = pred.astype(bool)
    keep = np.ones(g.shape, bool) if void is None else ~void.astype(bool)
    inter = np.sum((p & g) & keep)
    union = np.sum((p | g) & keep)
    if np.isclose(union, 0):
        return 1
    return inter / union


def statistics(values: np.ndarray) -> tuple[float, float, float]:
    """``db_statistics``: nanmean, recall (> 0.5) and decay over four uint8-indexed bins."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(values)
        recall = np.nanmean(values > 0.5)
    ids = np.round(np.linspace(1, len(values), 5) + 1e-10) - 1
    ids = ids.astype(np.uint8)
    with warnings.catch_warnings():
        # uint8 ids[i + 1] + 1 wraps at 255 exactly as in the official code.
        warnings.simplefilter("ignore", category=RuntimeWarning)
        bins = [values[ids[i] : ids[i + 1] + 1] for i in range(4)]
        decay = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return mean, recall, decay


def sequence_list(root: Path, subset: str, year: str) -> list[str]:
    with open(root / "ImageSets" / year / f"{subset}.txt") as f:
        return [line.strip() for line in f.readlines() if line.strip()]


def _stack(paths: list[str]) -> np.ndarray:
    first = read_label(paths[0])
    out = np.zeros((len(paths), *first.shape))
    for i, p in enumerate(paths):
        out[i, ...] = read_label(p)
    return out


def _onehot(stack: np.ndarray, n: int) -> np.ndarray:
    ids = np.arange(1, n + 1)[:, None, None, None]
    return (np.ones((n, *stack.shape)) * ids) == stack[None, ...]


def _read_results(results: Path, seq: str, frame_ids: list[str]) -> np.ndarray:
    paths = [str(results / seq / f"{fid}.png") for fid in frame_ids]
    for p in paths:
        if not os.path.exists(p):
            raise ReferenceExit(f"{seq} frame {Path(p).stem} not found!")
    return _stack(paths)


def evaluate_davis(
    root: str | os.PathLike[str],
    results: str | os.PathLike[str],
    subset: str = "val",
    task: str = "semi-supervised",
    resolution: str = "480p",
    binary: bool = False,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    """Evaluate like ``DAVISEvaluation(...).evaluate(results)``.

    Returns ``(per_object, metrics_res)``: ``per_object[f"{seq}_{k}"] = (J, F)`` per-frame float64
    arrays, and the official ``metrics_res`` dictionary (J/F -> M, R, D lists, M_per_object).
    ``binary=True`` is the DAVIS-2016 form: one object, foreground = any non-zero value.
    """
    root, results = Path(root), Path(results)
    unsupervised = task == "unsupervised"
    annotations = "Annotations_unsupervised" if unsupervised else "Annotations"
    year = "2016" if binary else "2017"
    if unsupervised and subset in ("test-dev", "test-challenge"):
        year = "2019"
    per_object: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    res: dict = {m: {"M": [], "R": [], "D": [], "M_per_object": {}} for m in ("J", "F")}
    for seq in sequence_list(root, subset, year):
        gt_paths = sorted(glob(str(root / annotations / resolution / seq / "*.png")))
        frame_ids = [Path(p).stem for p in gt_paths]
        gt = _stack(gt_paths)
        if binary:
            void = np.zeros_like(gt)
            gt = (gt != 0).astype(np.float64)
            n = 1
        else:
            void = (gt == 255).astype(np.float64)
            gt[gt == 255] = 0
            n = int(np.max(gt[0]))
        gt_obj = _onehot(gt, n)
        if not unsupervised:
            gt_obj, frame_ids = gt_obj[:, 1:-1], frame_ids[1:-1]
        pred = _read_results(results, seq, frame_ids)
        if binary:
            pred = (pred != 0).astype(np.float64)
        n_pred = int(np.max(pred))
        if n_pred > (20 if unsupervised else n):
            raise ReferenceExit(f"{seq}: an index higher than the number of objects / proposals")
        pred_obj = _onehot(pred, n_pred)
        if unsupervised:
            j_res, f_res = _unsupervised(gt_obj, pred_obj, void)
        else:
            j_res, f_res = _semi_supervised(gt_obj, pred_obj)
        for k in range(gt_obj.shape[0]):
            name = f"{seq}_{k + 1}"
            per_object[name] = (j_res[k], f_res[k])
            for metric, values in (("J", j_res[k]), ("F", f_res[k])):
                m, r, d = statistics(values)
                res[metric]["M"].append(m)
                res[metric]["R"].append(r)
                res[metric]["D"].append(d)
                res[metric]["M_per_object"][name] = m
    return per_object, res


def _pad(pred_obj: np.ndarray, n: int) -> np.ndarray:
    if pred_obj.shape[0] >= n:
        return pred_obj
    zeros = np.zeros((n - pred_obj.shape[0], *pred_obj.shape[1:]))
    return np.concatenate([pred_obj, zeros], axis=0)


def _semi_supervised(gt_obj: np.ndarray, pred_obj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if pred_obj.shape[0] > gt_obj.shape[0]:
        raise ReferenceExit("In your PNG files there is an index higher than the number of objects")
    pred_obj = _pad(pred_obj, gt_obj.shape[0])
    j_res = np.zeros(gt_obj.shape[:2])
    f_res = np.zeros(gt_obj.shape[:2])
    for k in range(gt_obj.shape[0]):
        for t in range(gt_obj.shape[1]):
            j_res[k, t] = jaccard(gt_obj[k, t], pred_obj[k, t])
            f_res[k, t] = f_measure(pred_obj[k, t], gt_obj[k, t])
    return j_res, f_res


def _unsupervised(
    gt_obj: np.ndarray, pred_obj: np.ndarray, void: np.ndarray, max_proposals: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    if pred_obj.shape[0] > max_proposals:
        raise ReferenceExit("In your PNG files there is an index higher than the maximum number")
    pred_obj = _pad(pred_obj, gt_obj.shape[0])
    n_pred, n_gt, n_frames = pred_obj.shape[0], gt_obj.shape[0], gt_obj.shape[1]
    j_res = np.zeros((n_pred, n_gt, n_frames))
    f_res = np.zeros((n_pred, n_gt, n_frames))
    for g in range(n_gt):
        for p in range(n_pred):
            for t in range(n_frames):
                j_res[p, g, t] = jaccard(gt_obj[g, t], pred_obj[p, t], void[t])
                f_res[p, g, t] = f_measure(pred_obj[p, t], gt_obj[g, t], void[t])
    score = (np.mean(j_res, axis=2) + np.mean(f_res, axis=2)) / 2
    rows, cols = linear_sum_assignment(-score)
    return j_res[rows, cols, :], f_res[rows, cols, :]


def write_davis_csv(res: dict, folder: str | os.PathLike[str], subset: str) -> None:
    """The two files exactly as ``evaluation_method.py`` writes them (pandas, ``%.3f``)."""
    import pandas as pd

    j, f = res["J"], res["F"]
    final_mean = (np.mean(j["M"]) + np.mean(f["M"])) / 2.0
    g_res = np.array(
        [
            final_mean,
            np.mean(j["M"]),
            np.mean(j["R"]),
            np.mean(j["D"]),
            np.mean(f["M"]),
            np.mean(f["R"]),
            np.mean(f["D"]),
        ]
    )
    columns = ["J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"]
    table_g = pd.DataFrame(data=np.reshape(g_res, [1, len(g_res)]), columns=columns)
    with open(os.path.join(folder, f"global_results-{subset}.csv"), "w") as fh:
        table_g.to_csv(fh, index=False, float_format="%.3f")
    names = list(j["M_per_object"].keys())
    rows = list(
        zip(names, [j["M_per_object"][x] for x in names], [f["M_per_object"][x] for x in names])
    )
    table_seq = pd.DataFrame(data=rows, columns=["Sequence", "J-Mean", "F-Mean"])
    with open(os.path.join(folder, f"per-sequence_results-{subset}.csv"), "w") as fh:
        table_seq.to_csv(fh, index=False, float_format="%.3f")
