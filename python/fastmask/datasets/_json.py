"""Masks shipped as COCO RLE in JSON: SA-V train masklets (``<video>_manual.json`` /
``_auto.json``) and YouTube-VIS / OVIS-style files (one JSON for a whole split).

Both read into :class:`Masklets`, the in-memory form every conversion goes through: per
annotated frame, one compressed RLE (or ``None``: no annotation) per object. RLEs stay
compressed until a frame is asked for, so a video costs its JSON size, not ``T x H x W``.

JSON files are untrusted: the video size is checked against the pixel limit
(``fastmask.get_max_pixels()``), every RLE's ``size`` against the video's, list lengths against
the frame and object counts, and the file size against :data:`MAX_JSON_BYTES`; every error names
the file and the entry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastmask import coco
from fastmask import rle as rle_mod
from fastmask._fastmask import RleError
from fastmask.datasets._base import (
    Dataset,
    MetadataError,
    ObjectInfo,
    PathLike,
    Video,
    frame_sort_key,
    listing,
    not_found,
)
from fastmask.png import get_max_pixels

RLE = dict[str, Any]

#: Largest JSON file read (bytes; 4 GiB, a bound on what ``json.load`` may be asked to hold,
#: well above any VOS/VIS annotation file we know of; no file sizes were measured here).
#: Above this, raise instead of parsing.
MAX_JSON_BYTES = 4 << 30
#: SA-V annotates every 4th frame of its 24 fps videos (6 fps).
SAV_STEP = 4


def read_json(path: Path, limit: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file of at most ``limit`` bytes; errors name the file."""
    if not path.is_file():
        raise not_found("JSON file", path, listing(path.parent))
    size = path.stat().st_size
    if size > limit:
        raise MetadataError(f"{path}: {size} bytes is over the {limit}-byte limit for JSON input")
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MetadataError(f"{path}: not valid JSON ({e})") from None


def _int(v: Any, where: str, name: str, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or int(v) < lo:
        raise MetadataError(f"{where}: {name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def check_size(h: int, w: int, where: str, max_pixels: int | None = None) -> None:
    limit = get_max_pixels() if max_pixels is None else max_pixels
    if limit is not None and h * w > limit:
        raise MetadataError(
            f"{where}: video size {h}x{w} ({h * w} pixels) is over the pixel limit {limit} "
            "(fastmask.set_max_pixels to raise it)"
        )


def _empty_rle(h: int, w: int) -> RLE:
    return {"size": [h, w], "counts": rle_mod.counts_to_string([h * w]).decode()}


def as_rle(obj: Any, h: int, w: int, where: str) -> RLE | None:
    """A compressed RLE dict (``counts`` as ``str``) from a JSON segmentation: ``None``, a
    compressed or uncompressed RLE dict, or polygons (a list of flat ``[x, y, ...]`` lists)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        size, counts = obj.get("size"), obj.get("counts")
        if not isinstance(size, list) or len(size) != 2 or [int(s) for s in size] != [h, w]:
            raise MetadataError(f"{where}: RLE size {size!r} is not the video's [{h}, {w}]")
        if isinstance(counts, str):
            return {"size": [h, w], "counts": counts}
        if isinstance(counts, bytes):
            return {"size": [h, w], "counts": counts.decode("ascii")}
        if isinstance(counts, list):
            if sum(int(c) for c in counts) != h * w:
                raise MetadataError(f"{where}: uncompressed RLE counts do not sum to {h}*{w}")
            r = coco.frPyObjects({"size": [h, w], "counts": counts}, h, w)
            assert isinstance(r, dict)
            return {"size": [h, w], "counts": r["counts"].decode("ascii")}
        raise MetadataError(f"{where}: RLE counts must be a string or a list of ints")
    if isinstance(obj, list):
        polys = [p for p in obj if isinstance(p, list) and len(p) >= 6]
        if len(polys) != len(obj):
            raise MetadataError(f"{where}: a polygon segmentation must be lists of >= 3 points")
        if not polys:
            return _empty_rle(h, w)
        merged = coco.merge(coco.frPyObjects(polys, h, w))  # type: ignore[arg-type]
        return {"size": [h, w], "counts": merged["counts"].decode("ascii")}
    raise MetadataError(f"{where}: a segmentation must be null, an RLE dict or polygons")


@contextmanager
def naming(source: str) -> Iterator[None]:
    """Re-raise a malformed-RLE error with the file it came from (RLE counts strings are
    checked when decoded, not when the JSON is parsed: parsing stays at JSON speed)."""
    try:
        yield
    except RleError as e:
        if not source:
            raise
        raise RleError(f"{source}: {e}") from None


@dataclass
class Masklets:
    """One video's masks as compressed RLEs: ``rles[t][k]`` is object ``ids[k]`` on frame
    ``frames[t]`` (``None``: not annotated there; an empty RLE: annotated, not visible).
    ``info[k]``: the object's metadata (category, SA-V fields)."""

    name: str
    height: int
    width: int
    frames: list[str]
    ids: list[int]
    rles: list[list[RLE | None]]
    info: list[dict[str, Any]] = field(default_factory=list)
    #: the file the RLEs came from (named in decoding errors)
    source: str = ""

    def areas(self) -> NDArray[np.int64]:
        """``(T, N)`` pixel counts (0 where ``None``)."""
        t, n = len(self.frames), len(self.ids)
        out = np.zeros((t, n), np.int64)
        flat = [(i, k, r) for i, row in enumerate(self.rles) for k, r in enumerate(row) if r]
        if flat:
            with naming(self.source):
                a = coco.area([r for _, _, r in flat])
            out[[i for i, _, _ in flat], [k for _, k, _ in flat]] = a
        return out

    def object_masks(
        self, k: int, rows: Sequence[int] | None = None, *, threads: int | None = None
    ) -> tuple[list[int], NDArray[np.bool_]]:
        """Object position ``k`` over the frame indices ``rows`` (default: every frame): the
        positions in ``rows`` where it has an RLE, and those ``(n, H, W)`` masks."""
        rows = range(len(self.rles)) if rows is None else rows
        pos = [j for j, i in enumerate(rows) if self.rles[i][k] is not None]
        if not pos:
            return pos, np.zeros((0, self.height, self.width), bool)
        with naming(self.source):
            m = coco.decode([self.rles[rows[j]][k] for j in pos], threads=threads)  # type: ignore[misc]
        return pos, np.moveaxis(m, 2, 0).astype(bool)


def label_of(ids: Sequence[int], where: str = "") -> dict[int, int]:
    """The label map value of each object id: the id itself when all are in 1..255, else id + 1
    when that fits (SA-V numbers masklets from 0), else an error (over 255 objects)."""
    if all(1 <= i <= 255 for i in ids):
        return {i: i for i in ids}
    if all(0 <= i <= 254 for i in ids):
        return {i: i + 1 for i in ids}
    raise ValueError(
        f"{where + ': ' if where else ''}object ids {min(ids)}..{max(ids)} ({len(ids)} objects) "
        "do not fit uint8 label maps "
        "(labels 1..255): use png-objects"
    )


def decode_frames(
    m: Masklets, start: int, stop: int, *, threads: int | None = None
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Label maps of frames ``start:stop`` (objects in id order: where masks overlap, the
    larger id wins) and the overlapped pixel count of each frame (pixels covered by two or more
    objects, counted once per extra object)."""
    lab = label_of(m.ids, m.source or m.name) if m.ids else {}
    order = sorted(range(len(m.ids)), key=lambda k: m.ids[k])
    dicts: list[dict[int, RLE]] = []
    for row in m.rles[start:stop]:
        dicts.append({lab[m.ids[k]]: r for k in order if (r := row[k]) is not None})
    if not dicts:
        return np.zeros((0, m.height, m.width), np.uint8), np.zeros(0, np.int64)
    with naming(m.source):
        out = rle_mod.decode_labels(dicts, (m.height, m.width), overlap="last", threads=threads)
    # Overlapped pixels = sum of the areas - area of the union, on the RLEs (no pixel pass:
    # counting the decoded label maps' non-zero pixels took 40% of a JSON -> PNG conversion).
    over = np.zeros(len(dicts), np.int64)
    for i, d in enumerate(dicts):
        if len(d) > 1:
            rs = list(d.values())
            with naming(m.source):
                over[i] = int(coco.area(rs).sum()) - int(coco.area(coco.merge(rs)))
    return out.astype(np.uint8, copy=False), over


class MaskletVideo(Video):
    """A :class:`Video` whose masks come from a :class:`Masklets` (built on first use).

    ``read_masks`` gives label maps (objects in id order, a larger id covering a smaller one;
    ids shifted by one when one of them is 0, see ``label_of``); ``object_masks`` the exact
    per-object masks, overlaps kept."""

    def __init__(self, name: str, image_dir: Path | None, where: Path) -> None:
        super().__init__(name, where, image_dir)
        self._masklets: Masklets | None = None

    def _load(self) -> Masklets:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def masklets(self) -> Masklets:
        """The video's RLEs (parsed once, kept)."""
        if self._masklets is None:
            self._masklets = self._load()
        return self._masklets

    @property
    def objects(self) -> dict[int, ObjectInfo]:
        if self._objects is None:
            m = self.masklets()
            areas = m.areas()
            objs = {}
            for k, oid in enumerate(m.ids):
                seen = [m.frames[i] for i in np.flatnonzero(areas[:, k]).tolist()]
                info = dict(m.info[k]) if k < len(m.info) else {}
                cat = info.pop("category", None)
                objs[oid] = ObjectInfo(
                    oid, seen[0] if seen else None, None if cat is None else str(cat), seen, info
                )
            self._objects = dict(sorted(objs.items()))
        return self._objects

    @property
    def annotated(self) -> list[str]:
        return list(self.masklets().frames)

    @property
    def size(self) -> tuple[int, int]:
        m = self.masklets()
        return m.height, m.width

    def _indices(self, frames: Sequence[str] | None) -> list[int]:
        names = self.masklets().frames
        if frames is None:
            return list(range(len(names)))
        pos = {f: i for i, f in enumerate(names)}
        missing = [f for f in frames if f not in pos]
        if missing:
            raise KeyError(f"video {self.name!r} has no annotated frame {missing[0]!r}")
        return [pos[f] for f in frames]

    def read_masks(
        self, frames: Sequence[str] | None = None, *, threads: int | None = None
    ) -> NDArray[np.uint8]:
        m = self.masklets()
        idx = self._indices(frames)
        sub = Masklets(m.name, m.height, m.width, [m.frames[i] for i in idx], m.ids,
                       [m.rles[i] for i in idx], source=m.source)  # fmt: skip
        return decode_frames(sub, 0, len(idx), threads=threads)[0]

    def read_mask(self, frame: str) -> NDArray[np.uint8]:
        return self.read_masks([frame])[0]

    def object_masks(
        self, obj: int, frames: Sequence[str] | None = None, *, threads: int | None = None
    ) -> NDArray[np.bool_]:
        """``(T, H, W) bool`` masks of object ``obj`` (empty where it has no annotation)."""
        m = self.masklets()
        k = m.ids.index(obj)
        idx = self._indices(frames)
        out = np.zeros((len(idx), m.height, m.width), bool)
        have, dec = m.object_masks(k, idx, threads=threads)
        out[have] = dec
        return out


# ----- SA-V train ------------------------------------------------------------------------------

#: The per-object list fields of an SA-V masklet file, kept in ``ObjectInfo.extra``.
SAV_OBJECT_FIELDS = (
    "masklet_size_rel",
    "masklet_size_abs",
    "masklet_size_bucket",
    "masklet_visibility_changes",
    "masklet_first_appeared_frame",
    "masklet_frame_count",
    "masklet_edited_frame_count",
    "masklet_type",
    "masklet_stability_score",
)


def parse_sav(
    data: Any, where: str, name: str, *, offset: int = 0, max_pixels: int | None = None
) -> Masklets:
    """The :class:`Masklets` of one parsed SA-V masklet file. Frame ``i`` of ``masklet`` is
    video frame ``4 i`` (``%05d``), unless the file carries ``frame_names`` (written by
    ``fastmask convert`` when the source frames were named otherwise). ``offset`` is added
    to ``masklet_id`` (``masklets="all"`` puts auto masklets after the manual ones)."""
    if not isinstance(data, dict):
        raise MetadataError(f"{where}: expected a JSON object")
    for key in ("masklet", "video_height", "video_width"):
        if key not in data:
            raise MetadataError(f"{where}: no {key!r} field (not an SA-V masklet file?)")
    h = _int(data["video_height"], where, "video_height", 1)
    w = _int(data["video_width"], where, "video_width", 1)
    check_size(h, w, where, max_pixels)
    masklet = data["masklet"]
    if not isinstance(masklet, list):
        raise MetadataError(f"{where}: 'masklet' must be a list over frames")
    n = max((len(f) for f in masklet if isinstance(f, list)), default=0)
    ids_raw = data.get("masklet_id", list(range(n)))
    if not isinstance(ids_raw, list):
        raise MetadataError(f"{where}: 'masklet_id' must be a list")
    ids = [_int(i, where, "masklet_id") + offset for i in ids_raw]
    if len(set(ids)) != len(ids):
        raise MetadataError(f"{where}: 'masklet_id' has duplicates")
    n = len(ids)
    names = data.get("frame_names")
    if names is None:
        names = [f"{SAV_STEP * i:05d}" for i in range(len(masklet))]
    elif not isinstance(names, list) or len(names) != len(masklet):
        raise MetadataError(f"{where}: 'frame_names' must list one name per masklet frame")
    rles: list[list[RLE | None]] = []
    for t, row in enumerate(masklet):
        if not isinstance(row, list) or len(row) != n:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise MetadataError(f"{where}: masklet frame {t} has {got} entries, expected {n}")
        rles.append([as_rle(r, h, w, f"{where}, frame {t}, object {k}") for k, r in enumerate(row)])
    info: list[dict[str, Any]] = [{} for _ in ids]
    for key in SAV_OBJECT_FIELDS:
        vals = data.get(key)
        if isinstance(vals, list) and len(vals) == n:
            for k, v in enumerate(vals):
                info[k][key] = v
    for k, i in enumerate(ids_raw):
        info[k]["masklet_id"] = i
    return Masklets(name, h, w, [str(s) for s in names], ids, rles, info, where)


class SAVJsonVideo(MaskletVideo):
    """An SA-V train video: masks from ``<video>_manual.json`` and/or ``_auto.json``, parsed
    on first use. ``objects[id].extra`` holds the file's per-object fields (``masklet_size_abs``,
    ``masklet_type``, ...); ``meta`` the video fields once loaded."""

    def __init__(self, name: str, files: list[Path], image_dir: Path | None) -> None:
        super().__init__(name, image_dir, files[0].parent)
        self.files = files

    def mask_path(self, frame: str) -> Path:
        return self.files[0]

    def _load(self) -> Masklets:
        out: Masklets | None = None
        for path in self.files:
            data = read_json(path)
            offset = 0 if out is None else max(out.ids, default=-1) + 1
            m = parse_sav(data, str(path), self.name, offset=offset, max_pixels=self.max_pixels)
            if not self.meta:
                self.meta = {k: v for k, v in data.items() if not k.startswith("masklet")}
            if out is None:
                out = m
                continue
            if (m.height, m.width, m.frames) != (out.height, out.width, out.frames):
                raise MetadataError(f"{path}: frames or size differ from {self.files[0]}")
            out.ids += m.ids
            out.info += m.info
            out.rles = [a + b for a, b in zip(out.rles, m.rles)]
        assert out is not None
        return out


#: Which SA-V train masklet files to read: ``datasets.SAV``, ``convert`` and its CLI.
MASKLETS = ("manual", "auto", "all")


def check_masklets(masklets: str) -> str:
    """``masklets`` if it is one of :data:`MASKLETS`, else a ``ValueError``."""
    if masklets not in MASKLETS:
        raise ValueError(f"masklets must be 'manual', 'auto' or 'all', got {masklets!r}")
    return masklets


def sav_json_files(split_dir: Path, masklets: str) -> dict[str, list[Path]]:
    """``{video: [json files]}`` of an SA-V train folder (the files may be in its subfolders,
    as the release's ``sav_000/`` ... ``sav_055/``)."""
    suffixes = {"manual": ("_manual",), "auto": ("_auto",), "all": ("_manual", "_auto")}[masklets]
    found: dict[str, dict[str, Path]] = {}
    folders = [split_dir] + [split_dir / d for d in listing(split_dir) if (split_dir / d).is_dir()]
    for folder in folders:
        for fn in listing(folder):
            for suf in suffixes:
                if fn.endswith(f"{suf}.json"):
                    found.setdefault(fn[: -len(suf) - 5], {})[suf] = folder / fn
    return {
        v: [files[s] for s in suffixes if s in files]
        for v, files in sorted(found.items())
        if suffixes[0] in files or masklets == "auto"
    }


# ----- YouTube-VIS / OVIS ------------------------------------------------------------------------


class YouTubeVISVideo(MaskletVideo):
    def __init__(
        self,
        name: str,
        entry: dict[str, Any],
        anns: list[Any],
        where: str,
        image_dir: Path | None,
        categories: dict[Any, str] | None = None,
    ) -> None:
        super().__init__(name, image_dir, Path(where))
        self.entry, self.anns, self.where = entry, anns, where
        self._cat_names = categories  # id -> name, as YouTubeVIS._cat_names
        self.meta = entry

    def mask_path(self, frame: str) -> Path:
        return Path(self.where)

    def _load(self) -> Masklets:
        return parse_vis_video(
            self.name,
            self.entry,
            self.anns,
            self.where,
            categories=self._cat_names,
            max_pixels=self.max_pixels,
        )


def vis_frame_names(entry: dict[str, Any], where: str) -> list[str]:
    files = entry.get("file_names")
    n = entry.get("length", len(files) if isinstance(files, list) else None)
    n = _int(n, where, "length")
    if isinstance(files, list):
        if len(files) != n:
            raise MetadataError(f"{where}: {len(files)} file_names for length {n}")
        return [os.path.splitext(os.path.basename(str(f)))[0] for f in files]
    return [f"{i:05d}" for i in range(n)]


def vis_video_name(entry: dict[str, Any]) -> str:
    files = entry.get("file_names")
    if isinstance(files, list) and files and "/" in str(files[0]):
        return str(files[0]).rsplit("/", 1)[0]
    return str(entry.get("id"))


def parse_vis_video(
    name: str,
    entry: dict[str, Any],
    anns: list[Any],
    where: str,
    *,
    categories: dict[Any, str] | None = None,
    max_pixels: int | None = None,
) -> Masklets:
    """The :class:`Masklets` of one YouTube-VIS video entry and its annotations. Object ids
    are the annotations' ``object_id`` when given (``fastmask convert`` writes it), else
    1..N in annotation order."""
    where = f"{where}: video {entry.get('id')!r}"
    h = _int(entry.get("height"), where, "height", 1)
    w = _int(entry.get("width"), where, "width", 1)
    check_size(h, w, where, max_pixels)
    frames = vis_frame_names(entry, where)
    ids: list[int] = []
    cols: list[list[RLE | None]] = []
    info: list[dict[str, Any]] = []
    for n, a in enumerate(anns):
        aw = f"{where}, annotation {a.get('id') if isinstance(a, dict) else n!r}"
        segs = a.get("segmentations") if isinstance(a, dict) else None
        if not isinstance(segs, list) or len(segs) != len(frames):
            raise MetadataError(f"{aw}: 'segmentations' must list one entry per frame")
        ids.append(_int(a.get("object_id", n + 1), aw, "object_id"))
        cols.append([as_rle(s, h, w, f"{aw}, frame {t}") for t, s in enumerate(segs)])
        meta = {k: a[k] for k in ("id", "category_id", "iscrowd") if k in a}
        if categories is not None and a.get("category_id") in categories:
            meta["category"] = categories[a["category_id"]]
        info.append(meta)
    if len(set(ids)) != len(ids):
        raise MetadataError(f"{where}: object ids repeat")
    rles = [[c[t] for c in cols] for t in range(len(frames))]
    return Masklets(name, h, w, frames, ids, rles, info, where)


class YouTubeVIS(Dataset):
    """A YouTube-VIS / OVIS-style JSON (``videos``, ``annotations``, ``categories``): one video
    per ``videos`` entry (named by the folder of its ``file_names``), objects its annotations
    (ids 1..N in file order; ``ObjectInfo.category`` from ``categories``), frames its
    ``file_names``. Segmentations may be compressed or uncompressed RLE, polygons or null
    (no annotation on that frame). ``image_root`` is the folder the ``file_names`` are under.

    Example:
        >>> ds = fastmask.datasets.YouTubeVIS(  # doctest: +SKIP
        ...     "ytvis/train.json", "ytvis/train/JPEGImages"
        ... )
        >>> v = ds[ds.names[0]]  # doctest: +SKIP
        >>> v.objects[1].category, v.read_masks().shape  # doctest: +SKIP
        ('person', (36, 720, 1280))
    """

    def __init__(self, json_path: PathLike, image_root: PathLike | None = None) -> None:
        self.path = Path(json_path)
        self.root = self.path.parent
        self.split = self.path.stem
        self.image_root = None if image_root is None else Path(image_root)
        data = read_json(self.path)
        if not isinstance(data, dict) or not isinstance(data.get("videos"), list):
            raise MetadataError(f"{self.path}: expected a JSON object with a 'videos' list")
        anns = data.get("annotations") or []
        if not isinstance(anns, list):
            raise MetadataError(f"{self.path}: 'annotations' must be a list")
        cats = data.get("categories") or []
        self.categories: list[dict[str, Any]] = [c for c in cats if isinstance(c, dict)]
        self._cat_names = {c.get("id"): str(c.get("name")) for c in self.categories}
        by_video: dict[Any, list[Any]] = {}
        for a in anns:
            if not isinstance(a, dict) or "video_id" not in a:
                raise MetadataError(f"{self.path}: an annotation has no 'video_id'")
            by_video.setdefault(a["video_id"], []).append(a)
        self._entries: dict[str, tuple[dict[str, Any], list[Any]]] = {}
        for v in data["videos"]:
            if not isinstance(v, dict) or "id" not in v:
                raise MetadataError(f"{self.path}: a 'videos' entry has no 'id'")
            self._entries[vis_video_name(v)] = (v, by_video.get(v["id"], []))
        self.names = sorted(self._entries, key=frame_sort_key)
        self.meta = {k: v for k, v in data.items() if k not in ("videos", "annotations")}

    def _video(self, name: str) -> Video:
        entry, anns = self._entries[name]
        img = self.image_root / name if self.image_root is not None else None
        return YouTubeVISVideo(name, entry, anns, str(self.path), img, self._cat_names)

    def entry(self, name: str) -> tuple[dict[str, Any], list[Any]]:
        """The ``videos`` entry and the annotations of one video, as in the file."""
        return self._entries[name]
