"""Synthetic datasets in the layouts the real ones ship in (written with Pillow, like the
official tools write masks), and perturbed predictions.

Objects are moving ellipses with a visibility schedule per object: ``always``, ``late`` (enters
mid-video), ``vanish`` (leaves), ``reappear`` (leaves, comes back), ``tiny`` (a small object
that leaves and comes back: MOSE v2's adaptive boundary radius is below the DAVIS one only for
small objects). Sizes are small so the tests stay fast; ``portrait`` swaps height and width.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from evalref import gen as evalgen
from PIL import Image
from scipy import ndimage

# The DAVIS palette as the test-side formula writes it (shared with the evaluation tests).
PALETTE = evalgen.PALETTE


def save_png(path: Path, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(labels.astype(np.uint8), "P")
    im.putpalette(PALETTE)
    im.save(path)


def save_jpg(path: Path, h: int, w: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), (90, 120, 150)).save(path, quality=50)


def visible(mode: str, t: int, cut: tuple[int, int]) -> bool:
    a, b = cut
    if mode == "late":
        return t >= a
    if mode == "vanish":
        return t < b
    if mode in ("reappear", "tiny"):
        return not (a <= t < b)
    return True


def labels(
    rng: np.random.Generator, n: int, h: int, w: int, modes: Sequence[str]
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(n, h, w) uint8 labels: object i+1 follows modes[i]; returns the cut points too."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((n, h, w), np.uint8)
    cuts = []
    params = []
    for mode in modes:
        c0 = rng.uniform([0.25 * h, 0.25 * w], [0.75 * h, 0.75 * w])
        vel = rng.uniform(-0.4, 0.4, 2) * [h, w] / max(n, 1)
        radii = rng.uniform(*((0.02, 0.04) if mode == "tiny" else (0.08, 0.25)), 2) * [h, w]
        a = int(rng.integers(2, max(3, n // 2)))
        b = int(rng.integers(a + 1, max(a + 2, n - 1)))
        cuts.append((a, b))
        params.append((c0, vel, radii))
    for t in range(n):
        for i, (mode, (c0, vel, radii)) in enumerate(zip(modes, params)):
            if not visible(mode, t, cuts[i]):
                continue
            cy, cx = c0 + vel * t
            inside = ((yy - cy) / radii[0]) ** 2 + ((xx - cx) / radii[1]) ** 2 <= 1.0
            out[t][inside] = i + 1
        for i, (mode, (c0, vel, _)) in enumerate(zip(modes, params)):
            # a visible object is never fully covered or out of frame: stamp its centre
            if visible(mode, t, cuts[i]) and not (out[t] == i + 1).any():
                cy, cx = np.clip(c0 + vel * t, 2, [h - 3, w - 3]).astype(int)
                out[t, cy - 1 : cy + 2, cx - 1 : cx + 2] = i + 1
    return out, cuts


def perturb(rng: np.random.Generator, gt: np.ndarray, n_obj: int) -> np.ndarray:
    """A prediction: objects shifted, eroded or dilated, sometimes dropped, plus a stray blob."""
    out = np.zeros_like(gt)
    for t in range(gt.shape[0]):
        for k in range(1, n_obj + 1):
            m = gt[t] == k
            r = rng.random()
            if r < 0.08:
                continue  # dropped
            if r < 0.4:
                m = np.roll(m, tuple(rng.integers(-3, 4, 2)), axis=(0, 1))
            elif r < 0.6:
                m = ndimage.binary_erosion(m, iterations=int(rng.integers(1, 3)))
            elif r < 0.8:
                m = ndimage.binary_dilation(m, iterations=int(rng.integers(1, 3)))
            out[t][m] = k
        if rng.random() < 0.15:
            y, x = rng.integers(0, gt.shape[1] - 4), rng.integers(0, gt.shape[2] - 4)
            out[t, y : y + 4, x : x + 4] = rng.integers(1, n_obj + 1)
    return out


def _write_video(folder: Path, names: Sequence[str], stack: np.ndarray) -> None:
    for name, m in zip(names, stack):
        save_png(folder / f"{name}.png", m)


# ----- layouts ------------------------------------------------------------------------------


def youtube_vos(
    root: Path,
    split: str = "train",
    *,
    videos: int = 3,
    frames: int = 40,
    size: tuple[int, int] = (48, 64),
    seed: int = 0,
    categories: Sequence[str] = ("person", "dog", "zebra", "kite"),
    images: bool = True,
) -> dict[str, np.ndarray]:
    """``root/<split>/{JPEGImages,Annotations}``, meta.json; annotations every 5th frame.
    Returns ``{video: (T_annotated, H, W) labels}`` for the annotated frames."""
    rng = np.random.default_rng(seed)
    base = root / split
    meta: dict = {"videos": {}}
    out = {}
    for v in range(videos):
        name = f"vid{v:03d}{'abcdef'[v % 6]}"
        h, w = size if v % 3 != 2 else size[::-1]  # some portrait videos
        modes = ["always", "late", "reappear"][: 2 + v % 2]
        lab, _ = labels(rng, frames, h, w, modes)
        ann_idx = list(range(0, frames, 5))
        names = [f"{5 * i:05d}" for i in range(len(ann_idx))]  # frame names 00000, 00005, ...
        stack = lab[ann_idx]
        # the first annotated frame of a "late" object is after 00000
        _write_video(base / "Annotations" / name, names, stack)
        if images:
            for t in range(len(ann_idx) * 5 - 4):
                save_jpg(base / "JPEGImages" / name / f"{t:05d}.jpg", h, w)
        objs = {}
        for k in range(1, len(modes) + 1):
            present = [n for n, m in zip(names, stack) if (m == k).any()]
            objs[str(k)] = {"category": categories[(v + k) % len(categories)], "frames": present}
        meta["videos"][name] = {"objects": objs}
        out[name] = stack
    base.mkdir(parents=True, exist_ok=True)
    (base / "meta.json").write_text(json.dumps(meta))
    return out


def mose(
    root: Path,
    split: str = "train",
    *,
    version: int = 2,
    videos: int = 3,
    frames: int = 12,
    size: tuple[int, int] = (96, 128),
    seed: int = 1,
) -> dict[str, np.ndarray]:
    """``root/<split>/{JPEGImages,Annotations}`` (every frame annotated, five-digit names) and
    ``<split>/meta.json``: v2 ``{length, height, width, objects}``, v1 YouTube-VOS-like."""
    rng = np.random.default_rng(seed)
    base = root / split
    meta: dict = {"videos": {}}
    out = {}
    for v in range(videos):
        name = f"mose{v:02d}"
        h, w = size if v % 2 == 0 else size[::-1]
        modes = ["always", "tiny", "reappear", "vanish"][: 2 + v % 3]
        lab, _ = labels(rng, frames, h, w, modes)
        names = [f"{t:05d}" for t in range(frames)]
        _write_video(base / "Annotations" / name, names, lab)
        for t in range(frames):
            save_jpg(base / "JPEGImages" / name / f"{t:05d}.jpg", h, w)
        ids = list(range(1, len(modes) + 1))
        if version == 2:
            meta["videos"][name] = {
                "length": frames,
                "height": h,
                "width": w,
                "objects": {str(k): {} for k in ids},
            }
        else:
            meta["videos"][name] = {
                "objects": {
                    str(k): {"frames": [n for n, m in zip(names, lab) if (m == k).any()]}
                    for k in ids
                }
            }
        out[name] = lab
    base.mkdir(parents=True, exist_ok=True)
    (base / "meta.json").write_text(json.dumps(meta))
    return out


def lvos(
    root: Path,
    split: str = "valid",
    *,
    videos: int = 3,
    frames: int = 60,
    size: tuple[int, int] = (40, 56),
    seed: int = 2,
    unseen: Sequence[int] = (1,),
) -> dict[str, np.ndarray]:
    """``root/<split>/{JPEGImages,Annotations}/<video>/%08d`` with annotations every 5th frame,
    ``<split>_meta.json`` with per-object frame ranges, ``unseen_videos.txt``. Objects have their
    own ranges (a late object starts later, some end early). Returns the dense label stacks
    (index = frame number; only every 5th is written)."""
    rng = np.random.default_rng(seed)
    base = root / split
    meta: dict = {"videos": {}}
    out = {}
    unseen_names = []
    for v in range(videos):
        name = f"lvos{v:02d}"
        h, w = size if v % 2 == 0 else size[::-1]
        modes = ["always", "late", "reappear"][: 2 + v % 2]
        lab, _cuts = labels(rng, frames, h, w, modes)
        written = range(0, frames, 5)
        _write_video(base / "Annotations" / name, [f"{t:08d}" for t in written], lab[written])
        for t in range(0, frames, 5):
            save_jpg(base / "JPEGImages" / name / f"{t:08d}.jpg", h, w)
        objs = {}
        for k in range(1, len(modes) + 1):
            on = [t for t in written if (lab[t] == k).any()]
            start = on[0]
            end = on[-1] if k != 1 else written[-1]
            objs[str(k)] = {
                "frame_range": {
                    "start": str(start),
                    "end": str(end),
                    "frame_nums": (end - start) // 5 + 1,
                }
            }
        meta["videos"][name] = {"objects": objs}
        out[name] = lab
        if v in unseen:
            unseen_names.append(name)
    base.mkdir(parents=True, exist_ok=True)
    (base / f"{split}_meta.json").write_text(json.dumps(meta))
    (base / "unseen_videos.txt").write_text("".join(f"{n}\n" for n in unseen_names))
    return out


def sav(
    root: Path,
    split: str = "sav_val",
    *,
    videos: int = 2,
    frames: int = 8,
    size: tuple[int, int] = (64, 36),
    seed: int = 3,
) -> dict[str, dict[int, np.ndarray]]:
    """``<split>/Annotations_6fps/<video>/<obj:03>/<frame:05>.png`` binary masks (overlapping
    objects), ``JPEGImages_24fps``, ``<split>.txt``."""
    rng = np.random.default_rng(seed)
    base = root / split
    out: dict[str, dict[int, np.ndarray]] = {}
    names = []
    for v in range(videos):
        name = f"sav_{v:06d}"
        h, w = size
        objs = {}
        for k in range(2):
            lab, _ = labels(rng, frames, h, w, ["always"])
            m = lab == 1
            objs[k] = m
            for t in range(frames):
                save_png(base / "Annotations_6fps" / name / f"{k:03d}" / f"{4 * t:05d}.png", m[t])
        for t in range(4 * frames - 3):
            save_jpg(base / "JPEGImages_24fps" / name / f"{t:05d}.jpg", h, w)
        out[name] = objs
        names.append(name)
    (base / f"{split}.txt").write_text("".join(f"{n}\n" for n in names))
    return out


def davis_sparse(
    root: Path,
    *,
    videos: int = 2,
    frames: int = 90,
    every: int | None = None,
    count: int | None = 35,
    size: tuple[int, int] = (64, 36),
    seed: int = 4,
    year: str = "2017",
    split: str = "val",
) -> dict[str, tuple[list[str], np.ndarray]]:
    """DAVIS layout where only some frames have ground truth: ``count`` frames spread over the
    video (RVOS-style phone videos) or every ``every``-th (GyGO-style 5 fps). Portrait by
    default. Returns ``{video: (annotated frame names, labels)}``."""
    rng = np.random.default_rng(seed)
    out = {}
    names_all = []
    for v in range(videos):
        name = f"phone-{v}"
        h, w = size if v % 2 == 0 else size[::-1]
        lab, _ = labels(rng, frames, h, w, ["always", "late"])
        if every is not None:
            idx = list(range(0, frames, every))
        else:
            idx = sorted(set(np.linspace(0, frames - 1, count or 35).round().astype(int).tolist()))
        ann_names = [f"{t:05d}" for t in idx]
        _write_video(root / "Annotations" / "480p" / name, ann_names, lab[idx])
        for t in range(frames):
            save_jpg(root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg", h, w)
        out[name] = (ann_names, lab[idx])
        names_all.append(name)
    sets = root / "ImageSets" / year
    sets.mkdir(parents=True, exist_ok=True)
    (sets / f"{split}.txt").write_text("".join(f"{n}\n" for n in names_all))
    return out


def predictions(
    folder: Path, gts: dict[str, tuple[list[str], np.ndarray]], seed: int = 10
) -> dict[str, np.ndarray]:
    """Perturbed predictions ``folder/<video>/<frame>.png`` for ``{video: (names, labels)}``."""
    rng = np.random.default_rng(seed)
    out = {}
    for vid, (names, gt) in gts.items():
        n_obj = int(gt[gt != 255].max()) if gt.size else 0
        pred = perturb(rng, gt, max(n_obj, 1))
        _write_video(folder / vid, names, pred)
        out[vid] = pred
    return out
