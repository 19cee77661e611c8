"""Synthetic DAVIS / vos-benchmark / SA-V datasets with the cases real datasets contain.

Objects are moving ellipses with a visibility schedule: ``always``, ``late`` (absent from the first
frame: DAVIS ignores it, vos-benchmark scores it), ``vanish`` (gone from some frame on) and
``reappear`` (gone for a stretch, then back: where vos-benchmark and DAVIS differ). Void (255) rings
around an object, id gaps ({1, 3}: object 2 missing), and the odd DAVIS widths (910, 1152) are
options. Predictions are perturbations of the ground truth (shift, erosion / dilation, dropped or
swapped objects, false positives). Masks are written as 8-bit palette PNGs with Pillow and the
DAVIS (PASCAL VOC) palette, like the official tools write them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

MODES = ("always", "late", "vanish", "reappear")


def davis_palette() -> list[int]:
    """The PASCAL VOC bit-interleaved colour map, 256 entries, flattened."""
    pal = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal += [r, g, b]
    return pal


PALETTE = davis_palette()


def visible(mode: str, t: int, n: int, rng_cut: tuple[int, int]) -> bool:
    a, b = rng_cut
    if mode == "late":
        return t >= a
    if mode == "vanish":
        return t < b
    if mode == "reappear":
        return not (a <= t < b)
    return True


def make_sequence(
    rng: np.random.Generator,
    h: int,
    w: int,
    n_frames: int,
    modes: list[str],
    ids: list[int] | None = None,
    void_ring: int = 0,
) -> np.ndarray:
    """A (T, H, W) uint8 label stack; object ``ids[i]`` follows ``modes[i]``."""
    ids = ids if ids is not None else list(range(1, len(modes) + 1))
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((n_frames, h, w), np.uint8)
    params = []
    for _ in modes:
        c0 = rng.uniform([0.2 * h, 0.2 * w], [0.8 * h, 0.8 * w])
        vel = rng.uniform(-0.03, 0.03, 2) * [h, w]
        radii = rng.uniform(0.08, 0.3, 2) * [h, w]
        a = int(rng.integers(1, max(2, n_frames - 1)))
        b = int(rng.integers(a, n_frames)) if a < n_frames - 1 else n_frames - 1
        params.append((c0, vel, radii, (a, max(b, a + 1))))
    for t in range(n_frames):
        frame = out[t]
        for obj_id, mode, (c0, vel, radii, cut) in zip(ids, modes, params):
            if not visible(mode, t, n_frames, cut):
                continue
            cy, cx = c0 + vel * t
            inside = ((yy - cy) / radii[0]) ** 2 + ((xx - cx) / radii[1]) ** 2 <= 1.0
            frame[inside] = obj_id
        if void_ring and t % 2 == 0:
            fg = frame == ids[0]
            ring = ndimage.binary_dilation(fg, iterations=void_ring) & ~fg
            frame[ring] = 255
    return out


def perturb(
    rng: np.random.Generator,
    stack: np.ndarray,
    labels: list[int],
    drop: bool = True,
    false_positive: int | None = None,
) -> np.ndarray:
    """Prediction-like copy: per frame shift, erode or dilate each object, drop some, add FPs."""
    out = np.zeros_like(stack)
    for t in range(stack.shape[0]):
        for k in labels:
            m = stack[t] == k
            if drop and rng.random() < 0.1:
                continue
            op = rng.integers(0, 4)
            if op == 1:
                m = np.roll(m, tuple(rng.integers(-3, 4, 2)), axis=(0, 1))
            elif op == 2:
                m = ndimage.binary_erosion(m, iterations=int(rng.integers(1, 3)))
            elif op == 3:
                m = ndimage.binary_dilation(m, iterations=int(rng.integers(1, 3)))
            out[t][m] = k
        if false_positive is not None and rng.random() < 0.3:
            h, w = stack.shape[1:]
            y, x = rng.integers(0, h - 3), rng.integers(0, w - 3)
            out[t, y : y + rng.integers(2, 12), x : x + rng.integers(2, 12)] = false_positive
    return out


def write_png(path: Path, labels: np.ndarray, palette: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(labels.astype(np.uint8))
    if palette:
        img.putpalette(PALETTE)  # turns the "L" image into "P" with the same indices
    img.save(path)


def write_frames(folder: Path, stack: np.ndarray, palette: bool = True, start: int = 0) -> None:
    for t in range(stack.shape[0]):
        write_png(folder / f"{start + t:05d}.png", stack[t], palette)


def write_davis(
    root: Path,
    gt: dict[str, np.ndarray],
    subset: str = "val",
    year: str = "2017",
    annotations: str = "Annotations",
    resolution: str = "480p",
    palette: bool = True,
) -> Path:
    """DAVIS root: ``ImageSets/<year>/<subset>.txt`` and ``<annotations>/<resolution>/<seq>``."""
    sets = root / "ImageSets" / year
    sets.mkdir(parents=True, exist_ok=True)
    (sets / f"{subset}.txt").write_text("".join(f"{s}\n" for s in gt))
    for seq, stack in gt.items():
        write_frames(root / annotations / resolution / seq, stack, palette)
    return root


def write_results(root: Path, res: dict[str, np.ndarray], palette: bool = True) -> Path:
    for seq, stack in res.items():
        write_frames(root / seq, stack, palette)
    return root


def write_sav(root: Path, videos: dict[str, dict[str, np.ndarray]]) -> Path:
    """SA-V layout ``<video>/<obj>/<frame>.png``: one binary (0/255 gray) PNG per object."""
    for vid, objs in videos.items():
        for obj, stack in objs.items():
            folder = root / vid / obj
            folder.mkdir(parents=True, exist_ok=True)
            for t in range(stack.shape[0]):
                Image.fromarray((stack[t] > 0).astype(np.uint8) * 255).save(folder / f"{t:05d}.png")
    return root


# --- the edge-case datasets the tests share ------------------------------------------------

# name: (height, width, frames, modes, ids, void ring)
EDGE_SEQUENCES = {
    "vanish-reappear": (40, 91, 7, ["always", "late", "vanish", "reappear"], None, 2),
    "id-gap": (48, 115, 6, ["always", "reappear"], [1, 3], 0),
    "late-only": (36, 57, 5, ["always", "late", "late"], None, 1),
    "wide-910": (480, 910, 3, ["always", "vanish"], None, 0),
    "wide-1152": (480, 1152, 4, ["always", "always"], None, 3),
}


def edge_case_gt(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        name: make_sequence(rng, h, w, t, modes, ids, void)
        for name, (h, w, t, modes, ids, void) in EDGE_SEQUENCES.items()
    }


def semi_results(gt: dict[str, np.ndarray], seed: int = 1) -> dict[str, np.ndarray]:
    """Perturbed results whose labels stay within 1..N of the first frame (DAVIS semi rule)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, stack in gt.items():
        first = stack[0][stack[0] != 255]
        n = int(first.max()) if first.size else 0
        labels = [k for k in range(1, 256) if (stack == k).any()]
        res = perturb(rng, stack, [k for k in labels if k <= n], false_positive=n if n else None)
        out[name] = res
    return out


def proposal_results(gt: dict[str, np.ndarray], seed: int = 2) -> dict[str, np.ndarray]:
    """Unsupervised-style proposals: objects under permuted ids (up to 20), plus false positives."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, stack in gt.items():
        labels = [k for k in range(1, 255) if (stack == k).any()]
        perm = rng.permutation(np.arange(1, 21))[: len(labels)]
        res = perturb(rng, stack, labels, false_positive=int(rng.integers(1, 21)))
        relabel = np.zeros(256, np.uint8)
        for k, q in zip(labels, perm):
            relabel[k] = q
        fp_mask = (res != 0) & ~np.isin(res, labels)
        mapped = relabel[res]
        mapped[fp_mask] = res[fp_mask]
        out[name] = mapped
    return out


def vos_results(gt: dict[str, np.ndarray], seed: int = 3) -> dict[str, np.ndarray]:
    """Results with labels the ground truth never has (7) and late false positives."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, stack in gt.items():
        labels = [k for k in range(1, 256) if (stack == k).any()]
        out[name] = perturb(rng, stack, labels, false_positive=7)
    return out
