"""Check a results folder before uploading it to a challenge server (``fastmask check-submission``).

For each protocol the ground-truth metadata says which videos and frames the server reads, how
large each frame is and which object ids exist; :func:`check_submission` lists every way the
results differ from that: missing videos or frames, extra files, files that are not PNG or not
palette PNGs, wrong sizes, ids that are not objects of the video. Nothing is scored.

What each protocol requires (``gt_meta`` is what the ``--gt-meta`` option names):

- ``youtube-vos``: ``gt_meta`` is the split's ``meta.json``; every frame listed for any object
  of a video (the union of ``frames``), ids 0 and the video's object ids; sizes from the split's
  ``Annotations`` (or ``JPEGImages``) beside meta.json.
- ``mose``: ``gt_meta`` is the split's ``meta.json``; every image frame of the video (from
  ``JPEGImages`` beside meta.json, else ``length`` frames ``00000...`` for MOSE v2, else the
  union of the objects' ``frames``), sizes from ``height``/``width`` (v2) or the images.
  MOSE v2's score.py takes frame names *by position* from the result folder, so one missing or
  extra PNG silently shifts every later frame: both are reported here.
- ``lvos``: ``gt_meta`` is ``<split>_meta.json``; for every object the frames its scorer reads
  (every 5th from ``frame_range.start``, the first skipped, ``%08d.png``).
- ``davis2017``: ``gt_meta`` is the DAVIS root; every frame of ``JPEGImages/<res>/<seq>`` for
  the sequences of ``ImageSets/2017/<set>.txt``, ids 0..N (N objects in the first frame).

``results`` may be the folder of video folders or hold it as ``Annotations/``. The files
fastmask's own evaluators write there (``fastmask eval`` writes into the results folder by
default, as the reference tools do) are not submission files and never reported as extra: see
:data:`EVALUATOR_OUTPUTS`.
"""

from __future__ import annotations

import fnmatch
import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

from fastmask._fastmask import PngError
from fastmask.datasets._base import VOID, frame_sort_key, listing, read_list, stems
from fastmask.png import png_info, read_png, read_pngs

__all__ = [
    "EVALUATOR_OUTPUTS",
    "PROTOCOLS",
    "Problem",
    "Requirements",
    "check_submission",
    "requirements",
]

PathLike = Union[str, "os.PathLike[str]"]
PROTOCOLS = ("youtube-vos", "mose", "lvos", "davis2017")
#: Files (shell patterns) that ``fastmask eval`` / ``fastmask.evaluate(...).write`` put beside
#: the video folders: davis2017 / davis2016 / mose / lvos CSVs, vos-benchmark / SA-V
#: ``results.csv``, MOSE v2 ``metrics.json`` and ``scores.txt``, per-frame and JSON reports.
EVALUATOR_OUTPUTS = (
    "global_results-*.csv",
    "per-sequence_results-*.csv",
    "per-frame*.csv",
    "per-frame*.json",
    "results.csv",
    "results*.json",
    "metrics.json",
    "scores.txt",
)


def _evaluator_output(path: Path) -> bool:
    return path.is_file() and any(fnmatch.fnmatchcase(path.name, p) for p in EVALUATOR_OUTPUTS)


@dataclass(frozen=True)
class Problem:
    """One defect: ``kind`` is one of ``missing-video``, ``missing-frame``, ``extra-video``,
    ``extra-file``, ``not-png``, ``not-palette``, ``size``, ``ids``; ``path`` the file or folder
    concerned; ``message`` says what was expected and what was found."""

    kind: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class VideoSpec:
    frames: list[str]
    size: tuple[int, int] | None  # (height, width); None: only consistency is checked
    ids: set[int] | None  # allowed labels besides 0; None: any


@dataclass
class Requirements:
    """What the server reads: ``videos[name]`` -> required frame names, size, allowed ids."""

    protocol: str
    videos: dict[str, VideoSpec] = field(default_factory=dict)


def _jpeg_size(path: Path) -> tuple[int, int] | None:
    """(height, width) from a JPEG's SOF marker, without decoding; None if not found."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 16)
    except OSError:
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 2 if marker != 0xFF else 1
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(h), int(w)
        i += 2 + length
    return None


def _size_from(
    split_dir: Path, video: str, ann_name: str = "Annotations"
) -> tuple[int, int] | None:
    ann = split_dir / ann_name / video
    pngs = stems(ann, (".png",))
    if pngs:
        info = png_info(ann / f"{pngs[0]}.png")
        return info.height, info.width
    imgs = split_dir / "JPEGImages" / video
    for name in listing(imgs):
        if name.lower().endswith((".jpg", ".jpeg")):
            return _jpeg_size(imgs / name)
    return None


def _load_videos(meta_path: Path) -> dict:
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path}: ground-truth metadata file not found")
    with open(meta_path, encoding="utf-8") as fh:
        meta = json.load(fh)
    if not isinstance(meta, dict) or not isinstance(meta.get("videos"), dict):
        raise ValueError(f"{meta_path}: expected a JSON object with a 'videos' mapping")
    return meta["videos"]


def _object_items(objs: object) -> list[tuple[int, dict]]:
    if isinstance(objs, dict):
        return [(int(k), v if isinstance(v, dict) else {}) for k, v in objs.items()]
    if isinstance(objs, list):
        return [(int(k), {}) for k in objs]
    return []


def requirements(
    protocol: str, gt_meta: PathLike, *, subset: str = "val", resolution: str = "480p"
) -> Requirements:
    """The videos, frames, sizes and ids a server reads for ``protocol`` (see the module doc)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}")
    meta_path = Path(gt_meta)
    req = Requirements(protocol)
    if protocol == "davis2017":
        root = meta_path
        names = read_list(root / "ImageSets" / "2017" / f"{subset}.txt")
        for seq in names:
            imgs = stems(root / "JPEGImages" / resolution / seq, (".jpg", ".jpeg"))
            ann = root / "Annotations" / resolution / seq
            pngs = stems(ann, (".png",))
            ids: set[int] | None = None
            size = None
            if pngs:
                first = read_png(ann / f"{pngs[0]}.png")
                n = int(first[first != VOID].max()) if (first != VOID).any() else 0
                ids = set(range(1, n + 1))
                size = first.shape[0], first.shape[1]
            elif imgs:
                size = _jpeg_size(root / "JPEGImages" / resolution / seq / f"{imgs[0]}.jpg")
            frames = imgs or pngs
            req.videos[seq] = VideoSpec(sorted(frames, key=frame_sort_key), size, ids)
        return req
    videos = _load_videos(meta_path)
    split_dir = meta_path.parent
    for name in sorted(videos):
        entry = videos[name] if isinstance(videos[name], dict) else {}
        objs = _object_items(entry.get("objects", {}))
        ids = {k for k, _ in objs}
        size = None
        if protocol == "lvos":
            needed: set[str] = set()
            for _, o in objs:
                fr = o.get("frame_range", {})
                start, end, n = int(fr["start"]), int(fr["end"]), int(fr["frame_nums"])
                for idx, t in enumerate(range(start, end, 5)):
                    if idx != 0 and idx != n - 1:
                        needed.add(f"{t:08d}")
            size = _size_from(split_dir, name)
            req.videos[name] = VideoSpec(sorted(needed, key=frame_sort_key), size, ids)
            continue
        listed = {str(f) for _, o in objs for f in o.get("frames", [])}
        if protocol == "youtube-vos":
            frame_list = sorted(listed, key=frame_sort_key)
            size = _size_from(split_dir, name)
        else:  # mose
            imgs = stems(split_dir / "JPEGImages" / name, (".jpg", ".jpeg"))
            if imgs:
                frame_list = sorted(imgs, key=frame_sort_key)
            elif "length" in entry:
                frame_list = [f"{t:05d}" for t in range(int(entry["length"]))]
            else:
                frame_list = sorted(listed, key=frame_sort_key)
            if entry.get("height") and entry.get("width"):
                size = int(entry["height"]), int(entry["width"])
            else:
                size = _size_from(split_dir, name)
        req.videos[name] = VideoSpec(frame_list, size, ids)
    return req


def _results_root(results: Path, videos: Sequence[str]) -> Path:
    if (results / "Annotations").is_dir() and not any((results / v).is_dir() for v in videos):
        return results / "Annotations"
    return results


def check_submission(
    results: PathLike,
    protocol: str,
    gt_meta: PathLike,
    *,
    subset: str = "val",
    resolution: str = "480p",
    check_ids: bool = True,
) -> list[Problem]:
    """Every problem of a results folder for ``protocol`` (empty list: ready to upload).

    Args:
        results: folder of ``<video>/<frame>.png`` (or holding them under ``Annotations/``).
        protocol: ``"youtube-vos"``, ``"mose"``, ``"lvos"`` or ``"davis2017"``.
        gt_meta: the ground-truth metadata (meta.json, ``<split>_meta.json``, or the DAVIS
            root for ``davis2017``).
        subset, resolution: DAVIS sequence list and resolution (``davis2017`` only).
        check_ids: decode every PNG and check its labels (the slowest part).

    Returns:
        A list of :class:`Problem` in video and frame order.

    Example:
        >>> meta = "valid/meta.json"
        >>> problems = check_submission("results", "youtube-vos", meta)  # doctest: +SKIP
        >>> print("\\n".join(map(str, problems)) or "ready")  # doctest: +SKIP
        ready
    """
    req = requirements(protocol, gt_meta, subset=subset, resolution=resolution)
    res = Path(results)
    if not res.is_dir():
        return [Problem("missing-video", str(res), "results folder not found")]
    root = _results_root(res, list(req.videos))
    problems: list[Problem] = []
    present = [n for n in listing(root)]
    for name in present:
        if name not in req.videos and not _evaluator_output(root / name):
            kind = "extra-video" if (root / name).is_dir() else "extra-file"
            problems.append(
                Problem(kind, str(root / name), f"not a video of the {protocol} ground truth")
            )
    for name, spec in req.videos.items():
        folder = root / name
        if not folder.is_dir():
            problems.append(
                Problem(
                    "missing-video",
                    str(folder),
                    f"video folder missing ({len(spec.frames)} frames required)",
                )
            )
            continue
        problems += _check_video(folder, spec, check_ids)
    return problems


def _check_video(folder: Path, spec: VideoSpec, check_ids: bool) -> list[Problem]:
    out: list[Problem] = []
    files = listing(folder)
    required = set(spec.frames)
    have = {}
    for f in files:
        stem, _, ext = f.rpartition(".")
        if ext.lower() == "png" and stem in required:
            have[stem] = folder / f
        else:
            why = "not a required frame" if ext.lower() == "png" else "not a PNG frame"
            out.append(Problem("extra-file", str(folder / f), f"extra file ({why})"))
    missing = [f for f in spec.frames if f not in have]
    if missing:
        shown = ", ".join(f"{m}.png" for m in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        out.append(
            Problem(
                "missing-frame",
                str(folder),
                f"{len(missing)} of {len(spec.frames)} required frames missing: {shown}{more}",
            )
        )
    expected = spec.size
    decode: list[Path] = []  # same-size palette / gray frames whose labels are checked
    for stem in sorted(have, key=frame_sort_key):
        path = have[stem]
        try:
            info = png_info(path)
        except (PngError, OSError) as e:
            out.append(Problem("not-png", str(path), f"not a readable PNG ({e})"))
            continue
        if info.color_type != 3:
            out.append(
                Problem(
                    "not-palette",
                    str(path),
                    f"expected a palette (indexed) PNG, found {info.color_type_name} "
                    f"{info.bit_depth}-bit",
                )
            )
        size = (info.height, info.width)
        if expected is None:
            expected = size  # no reference: every frame must match the first
        elif size != expected:
            out.append(
                Problem(
                    "size",
                    str(path),
                    f"size {size[1]}x{size[0]} (width x height), expected "
                    f"{expected[1]}x{expected[0]}",
                )
            )
            continue
        if check_ids and info.color_type in (0, 3) and info.bit_depth <= 8:
            decode.append(path)
    if decode:
        out += _check_ids(decode, spec.ids)
    return out


def _check_ids(paths: list[Path], allowed: set[int] | None) -> list[Problem]:
    """Labels of same-size frames, decoded together on every core (one file at a time only
    when the batch fails, so that the failing file is named)."""
    out: list[Problem] = []
    try:
        frames = list(zip(paths, read_pngs(paths)))
    except (PngError, OSError, ValueError):
        frames = []
        for p in paths:
            try:
                frames.append((p, read_png(p)))
            except (PngError, OSError) as e:
                out.append(Problem("not-png", str(p), f"cannot be decoded ({e})"))
    for path, frame in frames:
        found = np.flatnonzero(np.bincount(frame.reshape(-1), minlength=1))
        bad = [int(k) for k in found if k != 0 and allowed is not None and k not in allowed]
        if bad:
            ok = ", ".join(str(k) for k in sorted(allowed or ())) or "none"
            out.append(
                Problem(
                    "ids",
                    str(path),
                    f"labels {', '.join(map(str, bad))} are not objects of this video "
                    f"(allowed: 0 and {ok})",
                )
            )
    return out
