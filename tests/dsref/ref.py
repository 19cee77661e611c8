"""Test-side references that follow the official tools step by step, in numpy / cv2 / skimage /
Pillow (no fastmask code): DAVIS J and F (davis2017-evaluation), MOSE v2 (MOSE-api
``metricsv2.py`` and ``score.py``), LVOS (lvos-evaluation ``evaluation.py``, ``utils.py``,
``evaluation_method.py``), and a plain per-object loop for the YouTube-VOS and sparse choices.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np
from evalref import davis
from PIL import Image


def read(path: str) -> np.ndarray:
    return np.array(Image.open(path))


# ----- davis2017-evaluation -----------------------------------------------------------------


# The official DAVIS primitives live once, in evalref.davis (written after davis2017-evaluation).
db_eval_iou = davis.jaccard
seg2bmap = davis.boundary_map
f_measure = davis.f_measure
db_statistics = davis.statistics


def f_measure_pix(foreground_mask: np.ndarray, gt_mask: np.ndarray, bound_pix: float) -> float:
    """``f_measure`` / ``f_measure_func`` with the dilation radius given."""
    return float(davis.f_measure_pix(foreground_mask, gt_mask, bound_pix))


# ----- MOSE v2 ------------------------------------------------------------------------------


def mose_iou(annotation: np.ndarray, segmentation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inters = np.sum(np.logical_and(segmentation, annotation), axis=(-2, -1))
    union = np.sum(np.logical_or(segmentation, annotation), axis=(-2, -1))
    j = (inters + 1) / (union + 1)
    j = np.clip(j, 0, 1)
    j[np.isclose(union, 0)] = 1
    empty_gt = np.sum(annotation, axis=(-2, -1)) == 0
    return j, empty_gt


def f_measure_adaptive(
    fg: np.ndarray, gt: np.ndarray, bound_th: float = 0.1
) -> tuple[float, float]:
    diag = np.linalg.norm(fg.shape)
    if np.any(gt):
        area = np.sum(gt > 0)
        bound_pix = np.ceil(bound_th * np.sqrt(area))
    else:
        bound_pix = np.ceil(bound_th * diag)
    bound_pix = min(0.008 * diag, bound_pix)
    if bound_pix < 0.008 * diag:
        f = f_measure_pix(fg, gt, np.ceil(0.008 * diag))
        f_ = f_measure_pix(fg, gt, bound_pix)
    else:
        f = f_measure_pix(fg, gt, 0.008 * diag)
        f_ = f
    return f, f_


def mose_boundary(
    annotation: np.ndarray, segmentation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = annotation.shape[0]
    f_res = np.zeros(n)
    f_res_ = np.zeros(n)
    for t in range(n):
        f_res[t], f_res_[t] = f_measure_adaptive(segmentation[t], annotation[t])
    return f_res, f_res_


def mose_merge(j_list, f_list, f_list_, empty_gt):  # type: ignore[no-untyped-def]
    j_list, f_list, f_list_ = np.array(j_list), np.array(f_list), np.array(f_list_)
    empty_gt = np.array(empty_gt, dtype=bool)
    if len(j_list) == 0:
        return [0, 0, 0, None, None, None, None]
    j, f = j_list.mean(), f_list.mean()
    f_ = f_list_.mean()
    disappear_frames = np.where(~empty_gt[:-1] & empty_gt[1:])[0] + 1
    if empty_gt[0] == 1:
        disappear_frames = np.insert(disappear_frames, 0, 0)
    reappear_frames = np.where(empty_gt[:-1] & ~empty_gt[1:])[0] + 1
    disappear_j = disappear_f = None
    if len(disappear_frames) > 0:
        segs = []
        for i, start in enumerate(disappear_frames):
            end = reappear_frames[i] if i < len(reappear_frames) else len(empty_gt)
            if start > 0:
                segs.append((j_list[start:end].mean(), f_list[start:end].mean()))
        if segs:
            disappear_j = np.mean([s[0] for s in segs])
            disappear_f = np.mean([s[1] for s in segs])
    reappear_j = reappear_f = None
    if len(reappear_frames) > 0:
        segs = []
        for i, start in enumerate(reappear_frames):
            end = disappear_frames[i + 1] if i + 1 < len(disappear_frames) else len(empty_gt)
            segs.append((j_list[start:end].mean(), f_list[start:end].mean()))
        if segs:
            reappear_j = np.mean([s[0] for s in segs])
            reappear_f = np.mean([s[1] for s in segs])
    return [j, f, f_, disappear_j, disappear_f, reappear_j, reappear_f]


def mosev2_score(meta_path: str, mask_dir: str, pred_dir: str) -> tuple[dict, dict, str]:
    """score.py without processes / chunks (which only split the frame loop): returns the raw
    per-object lists, the formatted metrics.json dict (without total_time) and scores.txt."""
    with open(meta_path) as fp:
        meta = json.load(fp)["videos"]
    output = {}
    for vid in sorted(os.listdir(mask_dir)):
        m = meta[vid]
        vid_len, h, w = m["length"], m["height"], m["width"]
        for anno_id in m["objects"]:
            if not os.path.exists(f"{pred_dir}/{vid}"):
                output[f"{vid}_{anno_id}"] = [0, 0, 0, None, None, None, None]
                continue
            names = sorted(
                [x for x in os.listdir(f"{pred_dir}/{vid}") if x.endswith(".png")],
                key=lambda x: int(x.split(".")[0]),
            )
            gt = np.zeros((vid_len - 2, h, w), np.uint8)
            pr = np.zeros((vid_len - 2, h, w), np.uint8)
            for i, idx in enumerate(range(1, vid_len - 1)):
                name = names[idx].split(".")[0]
                gt[i] = np.asarray(Image.open(f"{mask_dir}/{vid}/{name}.png").convert("P"))
                pr[i] = np.asarray(Image.open(f"{pred_dir}/{vid}/{name}.png").convert("P"))
            pm = (pr == int(anno_id)).astype("uint8")
            gm = (gt == int(anno_id)).astype("uint8")
            j_list, empty_gt = mose_iou(gm, pm)
            f_list_, f_list = mose_boundary(gm, pm)
            output[f"{vid}_{anno_id}"] = mose_merge(j_list, f_list, f_list_, empty_gt)
    fmt = {}
    for key, v in output.items():
        fmt[key] = {
            "J&F_new": round((v[0] + v[1]) / 2 * 100, 2),
            "J": round(v[0] * 100, 2),
            "F_new": round(v[1] * 100, 2),
            "disappear_J&F_new": round((v[3] + v[4]) / 2 * 100, 2)
            if v[3] is not None and v[4] is not None
            else None,
            "reappear_J&F_new": round((v[5] + v[6]) / 2 * 100, 2)
            if v[5] is not None and v[6] is not None
            else None,
            "F": round(v[2] * 100, 2),
            "J&F": round((v[0] + v[2]) / 2 * 100, 2),
        }
    col = [[v[i] for v in output.values()] for i in range(7)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        dj = [x for x in col[3] if x is not None]
        df = [x for x in col[4] if x is not None]
        rj = [x for x in col[5] if x is not None]
        rf = [x for x in col[6] if x is not None]
        J = round(np.mean(col[0]) * 100, 2)
        F_new = round(np.mean(col[1]) * 100, 2)
        JF_new = round((np.mean(col[0]) + np.mean(col[1])) / 2 * 100, 2)
        dJF = round((np.mean(dj) + np.mean(df)) / 2 * 100, 2)
        rJF = round((np.mean(rj) + np.mean(rf)) / 2 * 100, 2)
        F = round(np.mean(col[2]) * 100, 2)
        JF = round((np.mean(col[0]) + np.mean(col[2])) / 2 * 100, 2)
    text = (
        f"J&F_new: {JF_new}\nJ: {J}\nF_new: {F_new}\ndisappear_J&F_new: {dJF}\n"
        f"reappear_J&F_new: {rJF}\nF: {F}\nJ&F: {JF}\n"
        f"Copy-Paste: {JF_new:.1f},{J:.1f},{F_new:.1f},{dJF:.1f},{rJF:.1f},{F:.1f},{JF:.1f}\n"
    )
    return output, fmt, text


# ----- LVOS ---------------------------------------------------------------------------------


def lvos_statistics_var(j: np.ndarray, f: np.ndarray) -> float:
    jf = (j + f) / 2
    jfm = np.nanmean(jf)
    value_len = jf.shape[1]
    var = jfm - jf
    v = np.nansum(var**2) / value_len
    v = round(v, 4)
    return math.sqrt(v)


def lvos_evaluate(split_dir: str, split: str, res_path: str, unseen: list[str]) -> tuple:
    """evaluation.py (single process, semi-supervised) and evaluation_method.py's tables;
    returns (per-object rows [(name, JM, FM, VM, seen, j, f)], global dict, csv texts)."""
    import pandas as pd

    with open(os.path.join(split_dir, f"{split}_meta.json")) as fh:
        data = json.load(fh)["videos"]
    rows = []
    res = {s: {"J": [], "F": [], "V": []} for s in ("all", "seen", "unseen")}
    for seq_name in sorted(data):
        seq = data[seq_name]["objects"]
        objs = list(seq.keys())
        jr, fr = {}, {}
        for _obj in objs:
            n = seq[_obj]["frame_range"]["frame_nums"]
            jr[_obj] = np.zeros((1, int(n) - 2))
            fr[_obj] = np.zeros((1, int(n) - 2))
        for _obj in objs:
            n = seq[_obj]["frame_range"]["frame_nums"]
            start = seq[_obj]["frame_range"]["start"]
            end = seq[_obj]["frame_range"]["end"]
            oidx = 0
            for ii in range(int(start), int(end), 5):
                if oidx == 0 or oidx == (int(n) - 1):
                    oidx += 1
                    continue
                frame = f"{ii:08d}"
                gt = read(os.path.join(split_dir, "Annotations", seq_name, frame + ".png"))
                gt = (gt == int(_obj)).astype(np.uint8)
                pr = read(os.path.join(res_path, seq_name, frame + ".png"))
                pr = (pr == int(_obj)).astype(np.uint8)
                jr[_obj][0, oidx - 1] = db_eval_iou(gt, pr)
                fr[_obj][0, oidx - 1] = f_measure(pr, gt)
                oidx += 1
        is_unseen = seq_name in unseen
        for ii, _obj in enumerate(objs):
            name = f"{seq_name}_{ii + 1}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                jm = np.nanmean(jr[_obj])
                fm = np.nanmean(fr[_obj])
            vm = lvos_statistics_var(jr[_obj], fr[_obj])
            group = "unseen" if is_unseen else "seen"
            for s in ("all", group):
                res[s]["J"].append(jm)
                res[s]["F"].append(fm)
                res[s]["V"].append(vm)
            rows.append((name, jm, fm, vm, not is_unseen, jr[_obj][0], fr[_obj][0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        js, ju = np.mean(res["seen"]["J"]), np.mean(res["unseen"]["J"])
        fs, fu = np.mean(res["seen"]["F"]), np.mean(res["unseen"]["F"])
        vs, vu = np.mean(res["seen"]["V"]), np.mean(res["unseen"]["V"])
    cols = [
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
    ]
    g = np.array(
        [
            ((js + fs) + (ju + fu)) / 4.0,
            (js + ju) / 2,
            js,
            ju,
            (fs + fu) / 2,
            fs,
            fu,
            (vs + vu) / 2,
            vs,
            vu,
        ]
    )
    table_g = pd.DataFrame(data=g.reshape(1, -1), columns=cols)
    table_seq = pd.DataFrame(
        data=[(r[0], r[1], r[2], r[3]) for r in rows],
        columns=["Sequence", "J-Mean", "F-Mean", "V-Mean"],
    )
    gl = table_g.to_csv(index=False, float_format="%.3f")
    per = table_seq.to_csv(index=False, float_format="%.3f")
    return rows, dict(zip(cols, g.tolist())), gl, per
