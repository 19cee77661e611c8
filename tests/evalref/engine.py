"""A slow numpy model of the compiled engine's contract (``_fastmask._eval_sequences``).

Used to check the Python protocol rules independently of the Rust engine, and the Rust engine
against the same contract. Per frame: decode both PNGs with Pillow, record the raw values present,
and compute J / F (``evalref.davis``) for the label pairs the rule asks for.
"""

from __future__ import annotations

import numpy as np

from evalref.davis import f_measure, jaccard, read_label


def _present(a: np.ndarray) -> np.ndarray:
    out = np.zeros(256, bool)
    out[np.unique(a)] = True
    return out


def eval_sequences(
    gt,
    pred,
    objects,
    max_pred_label,
    *,
    dynamic,
    cross,
    void,
    binarize,
    same_size,
    bound_th,
    threads,
    max_pixels=None,  # the model reads with Pillow's own limit
):
    results = []
    for gt_paths, pred_paths, objs, max_label in zip(gt, pred, objects, max_pred_label):
        frames = []
        for g_path, p_path in zip(gt_paths, pred_paths):
            g = read_label(g_path)
            p = np.zeros_like(g) if p_path is None else read_label(p_path)
            assert g.shape == p.shape, (g_path, p_path)
            gp, pp = _present(g), _present(p)
            assert not pp[max_label + 1 :].any(), p_path
            vmask = (g == void) if void is not None else None
            if binarize:
                g = (g != 0).astype(np.uint8)
                p = (p != 0).astype(np.uint8)
            # Void pixels belong to no label of either mask.
            keep = np.ones(g.shape, bool) if vmask is None else ~vmask
            labels_g = [k for k in np.flatnonzero(_present(g[keep])) if k != 0]
            labels_p = [k for k in np.flatnonzero(_present(p[keep])) if k != 0]
            if cross:
                pairs = [(o, q) for o in objs for q in [0, *labels_p]]
            else:
                keys = set(objs)
                if dynamic:
                    keys |= set(labels_g) | set(labels_p)
                pairs = [(k, k) for k in sorted(keys)]
            vals = {}
            for a, b in pairs:
                gm = g == a
                pm = (p == b) if b != 0 else np.zeros_like(gm)
                vals[(a, b)] = (jaccard(gm, pm, vmask), f_measure(pm, gm, vmask, bound_th))
            frames.append((vals, gp, pp, g.shape))
        all_pairs = sorted({k for f in frames for k in f[0]})
        t = len(frames)
        j = np.full((t, len(all_pairs)), np.nan)
        f = np.full((t, len(all_pairs)), np.nan)
        for i, (vals, _, _, _) in enumerate(frames):
            for c, key in enumerate(all_pairs):
                if key in vals:
                    j[i, c], f[i, c] = vals[key]
        results.append(
            (
                np.array(all_pairs, np.uint8).reshape(-1, 2),
                j,
                f,
                np.array([fr[1] for fr in frames]).reshape(t, 256),
                np.array([fr[2] for fr in frames]).reshape(t, 256),
                np.array([fr[3] for fr in frames], np.int64).reshape(t, 2),
            )
        )
    return results, {"decode": 0.0, "J": 0.0, "F": 0.0}


class FakeModule:
    """Stands in for ``fastmask._fastmask`` in ``fastmask.evaluation._engine``."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    @staticmethod
    def _eval_sequences(*args, **kwargs):
        return eval_sequences(*args, **kwargs)

    @staticmethod
    def _read_labels(path, max_pixels=None):
        return read_label(path)
