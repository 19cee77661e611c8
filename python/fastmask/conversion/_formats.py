"""Read one video of each format into :class:`Masklets` and write it back out.

Every conversion goes through compressed RLEs: a label-map video is encoded one chunk of
frames at a time (:data:`CHUNK` frames decoded at once) and written the same way, so memory is
a chunk of frames plus the video's RLEs, never the whole ``T x H x W`` stack.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from fastmask import coco
from fastmask import rle as rle_mod
from fastmask.datasets._base import Video, frame_sort_key, stems, subfolders
from fastmask.datasets._json import (
    SAV_STEP,
    Masklets,
    SAVJsonVideo,
    _empty_rle,
    decode_frames,
    naming,
    parse_vis_video,
    sav_json_files,
)
from fastmask.datasets._layouts import SAVVideo
from fastmask.evaluation._result import atomic_write
from fastmask.png import read_pngs, write_pngs

#: Frames decoded or encoded at once: 64 DAVIS frames (854x480) are 26 MB of label maps.
CHUNK = 64

FORMATS = ("png", "png-objects", "sav-json", "ytvis-json")


# ----- readers ---------------------------------------------------------------------------------


def read_png_video(name: str, folder: str, threads: int) -> Masklets:
    """A DAVIS-layout folder of label maps: every non-zero label is an object (255 too, so the
    round trip is exact), annotated (possibly empty) on every frame."""
    video = Video(name, Path(folder), None)
    frames = video.annotated
    per_frame: list[dict[int, Any]] = []
    shape: tuple[int, int] | None = None
    for start in range(0, len(frames), CHUNK):
        chunk = frames[start : start + CHUNK]
        stack = read_pngs(video.mask_files(chunk), threads=threads)
        if shape is None:
            shape = (int(stack.shape[1]), int(stack.shape[2]))
        elif stack.shape[1:] != shape:
            raise ValueError(f"{folder}: frames of different sizes ({stack.shape[1:]} vs {shape})")
        enc = rle_mod.encode_labels(stack, json=True, threads=threads)
        assert isinstance(enc, list)
        per_frame += enc
    h, w = shape or (0, 0)
    ids = sorted({i for f in per_frame for i in f})
    empty = _empty_rle(h, w)
    rles: list[list[Any]] = [[f.get(i, empty) for i in ids] for f in per_frame]
    return Masklets(name, h, w, frames, ids, rles, [{} for _ in ids])


def read_png_objects_video(name: str, folder: str, threads: int) -> Masklets:
    """An SA-V val layout folder: ``<obj>/<frame>.png`` binary masks (non-zero is the object);
    an object without a file on a frame has no annotation there (``None``)."""
    video = SAVVideo(name, Path(folder), None)
    frames = video.annotated
    pos = {f: i for i, f in enumerate(frames)}
    ids = list(video.objects)
    rles: list[list[Any]] = [[None] * len(ids) for _ in frames]
    h = w = 0
    for k, oid in enumerate(ids):
        have = video.objects[oid].frames or []
        for start in range(0, len(have), CHUNK):
            chunk = have[start : start + CHUNK]
            stack = read_pngs([video.object_path(oid, f) for f in chunk], threads=threads)
            h, w = int(stack.shape[1]), int(stack.shape[2])
            enc = coco.encode(np.moveaxis(stack != 0, 0, 2), threads=threads)
            assert isinstance(enc, list)
            for f, r in zip(chunk, enc):
                rles[pos[f]][k] = {"size": [h, w], "counts": r["counts"].decode("ascii")}
    for row in rles:
        for r in row:
            if r is not None and r["size"] != [h, w]:
                raise ValueError(f"{folder}: objects' masks have different sizes")
    return Masklets(name, h, w, frames, ids, rles, [{} for _ in ids])


def read_sav_video(name: str, files: list[str], threads: int) -> Masklets:
    return SAVJsonVideo(name, [Path(f) for f in files], None).masklets()


def read_vis_video(name: str, data: Any, threads: int) -> Masklets:
    entry, anns, where, cats = data
    return parse_vis_video(name, entry, anns, where, categories=cats)


READERS: dict[str, Callable[[str, Any, int], Masklets]] = {
    "png": read_png_video,
    "png-objects": read_png_objects_video,
    "sav-json": read_sav_video,
    "ytvis-json": read_vis_video,
}


# ----- writers ---------------------------------------------------------------------------------


@contextmanager
def _staged(final: Path) -> Iterator[Path]:
    """A temporary folder beside ``final``, renamed into place when the block finishes (one
    rename: a video is all or nothing) and removed if the block or the rename fails."""
    tmp = final.parent / f".{final.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_png(m: Masklets, final: Path, threads: int) -> int:
    """``final/<frame>.png`` label maps; returns the overlapped pixel count."""
    overlapped = 0
    with _staged(final) as tmp:
        for start in range(0, len(m.frames), CHUNK):
            stop = min(start + CHUNK, len(m.frames))
            labels, over = decode_frames(m, start, stop, threads=threads)
            overlapped += int(over.sum())
            paths = [tmp / f"{f}.png" for f in m.frames[start:stop]]
            write_pngs(paths, labels, threads=threads)
    return overlapped


def write_png_objects(m: Masklets, final: Path, threads: int) -> int:
    """``final/<id:03d>/<frame>.png`` binary masks (0/1 palette PNGs), one per annotation."""
    with _staged(final) as tmp:
        for k, oid in enumerate(m.ids):
            folder = tmp / f"{oid:03d}"
            folder.mkdir()
            idx = [i for i, row in enumerate(m.rles) if row[k] is not None]
            for start in range(0, len(idx), CHUNK):
                part = idx[start : start + CHUNK]
                _, dec = m.object_masks(k, part, threads=threads)
                paths = [folder / f"{m.frames[i]}.png" for i in part]
                write_pngs(paths, dec.view(np.uint8), threads=threads)
    return 0


def _bucket(size_abs: float) -> str:
    # SA-V: small below 32^2 pixels, medium below 96^2, large above.
    return "small" if size_abs < 32**2 else "medium" if size_abs < 96**2 else "large"


def sav_fields(m: Masklets) -> dict[str, Any]:
    """The SA-V masklet-file fields of a video, the statistics computed as SA-V defines them:
    ``masklet_size_abs`` the mean area over the frames where the object is visible (area > 0),
    ``masklet_size_rel`` that over ``H*W``, ``masklet_size_bucket`` small (< 32^2) / medium
    (< 96^2) / large, ``masklet_visibility_changes`` the visible <-> invisible switches after
    the first appearance, ``masklet_first_appeared_frame`` the index (in ``masklet``) of the
    first visible frame, ``masklet_frame_count`` the annotated frames from there on.
    ``masklet_type`` / ``masklet_edited_frame_count`` / ``masklet_stability_score`` are
    copied from the source when it has them (they cannot be computed from masks)."""
    areas = m.areas()
    present = np.array([[r is not None for r in row] for row in m.rles], bool).reshape(
        len(m.frames), len(m.ids)
    )
    res = m.height * m.width
    size_abs, vis_changes, first, count = [], [], [], []
    for k in range(len(m.ids)):
        vis = areas[:, k] > 0
        size_abs.append(float(areas[vis, k].mean()) if vis.any() else 0.0)
        f = int(np.argmax(vis)) if vis.any() else 0
        first.append(f)
        vis_changes.append(int(np.count_nonzero(vis[f + 1 :] != vis[f:-1])) if vis.any() else 0)
        count.append(int(present[f:, k].sum()))
    out: dict[str, Any] = {
        "video_id": m.name,
        "video_frame_count": _frame_count(m.frames),
        "video_height": m.height,
        "video_width": m.width,
        "video_resolution": res,
        "masklet": m.rles,
        "masklet_id": [int(i) for i in m.ids],
        "masklet_size_rel": [s / res if res else 0.0 for s in size_abs],
        "masklet_size_abs": size_abs,
        "masklet_size_bucket": [_bucket(s) for s in size_abs],
        "masklet_visibility_changes": vis_changes,
        "masklet_first_appeared_frame": first,
        "masklet_frame_count": count,
    }
    for key in ("masklet_edited_frame_count", "masklet_type", "masklet_stability_score"):
        if m.ids and all(key in i for i in m.info):
            out[key] = [i[key] for i in m.info]
    out["masklet_num"] = len(m.ids)
    if m.frames != [f"{SAV_STEP * i:05d}" for i in range(len(m.frames))]:
        # Not SA-V's 6-of-24 fps numbering: keep the names so the round trip is exact.
        out["frame_names"] = list(m.frames)
    return out


def _frame_count(frames: list[str]) -> int:
    if frames and all(f.isdigit() for f in frames):
        return int(frames[-1]) + 1
    return len(frames)


def write_sav_json(m: Masklets, final: Path, threads: int) -> int:
    atomic_write({final: json.dumps(sav_fields(m), separators=(",", ":"))})
    return 0


def vis_entry(m: Masklets) -> dict[str, Any]:
    """One video's YouTube-VIS ``videos`` entry and annotations (ids given at merge)."""
    flat = [r for row in m.rles for r in row if r is not None]
    with naming(m.source):
        boxes = coco.toBbox(flat).tolist() if flat else []  # type: ignore[arg-type]
        areas = coco.area(flat).tolist() if flat else []  # type: ignore[arg-type]
    it = iter(range(len(flat)))
    where: dict[tuple[int, int], int] = {}
    for t, row in enumerate(m.rles):
        for k, r in enumerate(row):
            if r is not None:
                where[(t, k)] = next(it)
    anns = []
    for k, oid in enumerate(m.ids):
        rows = [where.get((t, k)) for t in range(len(m.frames))]
        anns.append(
            {
                "category_id": m.info[k].get("category_id", 1) if k < len(m.info) else 1,
                "iscrowd": m.info[k].get("iscrowd", 0) if k < len(m.info) else 0,
                "segmentations": [None if j is None else flat[j] for j in rows],
                "areas": [None if j is None else int(areas[j]) for j in rows],
                "bboxes": [None if j is None else boxes[j] for j in rows],
                "object_id": int(oid),
            }
        )
    video = {
        "width": m.width,
        "height": m.height,
        "length": len(m.frames),
        "file_names": [f"{m.name}/{f}.jpg" for f in m.frames],
    }
    return {"video": video, "annotations": anns}


def write_vis(
    entries: list[dict[str, Any]], categories: list[dict[str, Any]] | None, dst: Path
) -> None:
    """The single YouTube-VIS file of every video's entry, ids numbered 1.. in video order."""
    videos: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    for vid, e in enumerate(entries, 1):
        videos.append({"id": vid, **e["video"]})
        for a in e["annotations"]:
            anns.append({"id": len(anns) + 1, "video_id": vid, **a})
    if categories is None:
        used = sorted({a["category_id"] for a in anns})
        categories = [{"id": c, "name": f"object{c}", "supercategory": "object"} for c in used]
    text = json.dumps(
        {"info": {"description": "written by fastmask convert"}, "videos": videos,
         "annotations": anns, "categories": categories},
        separators=(",", ":"),
    )  # fmt: skip
    atomic_write({dst: text})


# ----- source discovery ------------------------------------------------------------------------


def detect(src: Path) -> str:
    """The format of ``src``: a ``.json`` file is ytvis-json; a folder of ``*.json`` (or of
    folders of them) sav-json; a folder of ``<video>/<obj>/*.png`` (or ``Annotations_6fps``)
    png-objects; a folder of ``<video>/*.png`` (or ``Annotations``) png."""
    if src.is_file():
        if src.suffix.lower() == ".json":
            return "ytvis-json"
        raise ValueError(f"{src}: a file source must be a YouTube-VIS .json")
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such file or folder")
    for sub in ("Annotations_6fps", "Annotations"):
        if (src / sub).is_dir():
            return "png-objects" if sub == "Annotations_6fps" else "png"
    names = [n for n in os.listdir(src) if not n.startswith(".")]
    if any(n.endswith(".json") for n in names):
        return "sav-json"
    for v in sorted(subfolders(src)):
        if stems(src / v, (".png",)):
            return "png"
        inner = subfolders(src / v)
        if inner and stems(src / v / inner[0], (".png",)):
            return "png-objects"
        if any(n.endswith("_manual.json") for n in os.listdir(src / v)):
            return "sav-json"
    raise ValueError(
        f"{src}: cannot tell the format (no <video>/*.png, <video>/<obj>/*.png, *.json): "
        "pass src_format="
    )


def source_root(src: Path, fmt: str) -> Path:
    if fmt == "png" and (src / "Annotations").is_dir():
        # a DAVIS root: Annotations/<resolution>/<video>/*.png
        ann = src / "Annotations"
        return ann / "480p" if (ann / "480p").is_dir() else ann
    if fmt == "png-objects" and (src / "Annotations_6fps").is_dir():
        return src / "Annotations_6fps"
    return src


def sav_sources(src: Path, masklets: str = "manual") -> dict[str, list[str]]:
    """``{video: [json files]}``: ``<video>_manual.json`` / ``_auto.json`` (SA-V train, also in
    subfolders; ``masklets`` as for ``datasets.SAV``), else ``<video>.json`` (what ``convert``
    writes)."""
    found = sav_json_files(src, masklets)
    if found:
        return {v: [str(p) for p in f] for v, f in found.items()}
    return {
        n[:-5]: [str(src / n)]
        for n in sorted(os.listdir(src), key=frame_sort_key)
        if n.endswith(".json") and not n.startswith(".")
    }
