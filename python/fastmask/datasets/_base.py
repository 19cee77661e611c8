"""The pieces every dataset layout shares: ``Video`` (one sequence), ``ObjectInfo``, ``Dataset``,
and the error raised for malformed metadata."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from fastmask.png import png_info, read_png, read_pngs

PathLike = Union[str, "os.PathLike[str]"]

#: Label DAVIS-format datasets use for "void" (ignored) pixels; never an object.
VOID = 255


class MetadataError(ValueError):
    """A dataset's metadata file (meta.json, ``<split>_meta.json``, ImageSets list) does not have
    the structure the dataset ships it with. The message names the file and the entry."""


def not_found(what: str, path: Path, found: Sequence[str] | None = None) -> FileNotFoundError:
    """A ``FileNotFoundError`` naming what was expected where, and what is there instead."""
    msg = f"{what} not found"
    if found is not None:
        shown = ", ".join(sorted(found)[:12]) if found else "nothing"
        more = f" (and {len(found) - 12} more)" if len(found) > 12 else ""
        msg += f"; {path.parent} holds: {shown}{more}"
    return FileNotFoundError(errno.ENOENT, msg, str(path))


def listing(folder: Path) -> list[str]:
    """Entries of ``folder`` (hidden ones skipped), or [] when it is not a folder."""
    try:
        return sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except OSError:
        return []


def stems(folder: Path, ext: tuple[str, ...]) -> list[str]:
    """Sorted file stems in ``folder`` with one of the extensions (case-insensitive)."""
    return sorted(
        n.rsplit(".", 1)[0]
        for n in listing(folder)
        if n.lower().endswith(ext) and not n.startswith(".")
    )


def subfolders(folder: Path) -> list[str]:
    """Sorted names of the folders in ``folder`` (hidden ones skipped), or [] when it is not
    a folder: one directory read, the entry types come with it (no stat per entry on Linux
    filesystems)."""
    try:
        with os.scandir(folder) as it:
            return sorted(e.name for e in it if not e.name.startswith(".") and e.is_dir())
    except OSError:
        return []


def load_json(path: Path) -> Any:
    if not path.is_file():
        raise not_found("metadata file", path, listing(path.parent))
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as e:
        raise MetadataError(f"{path}: not valid JSON ({e})") from None


def read_list(path: Path) -> list[str]:
    """A sequence list (ImageSets ``<set>.txt``, ``unseen_videos.txt``): one name a line."""
    if not path.is_file():
        raise not_found("sequence list", path, listing(path.parent))
    return [s for s in (line.strip() for line in path.read_text().splitlines()) if s]


def frame_sort_key(name: str) -> tuple[int, int | str]:
    """Numeric frame names in numeric order (``"9" < "10"``), others by name after them."""
    return (0, int(name)) if name.isdigit() else (1, name)


@dataclass
class ObjectInfo:
    """One annotated object of a video.

    ``id``: its label in the masks (its folder number for SA-V); ``first_frame``: the frame name
    where it first appears (where a semi-supervised method is given its mask), ``None`` when
    unknown without reading masks; ``category``: from the metadata when it has one;
    ``frames``: the frames the metadata lists for it (YouTube-VOS / MOSE ``frames``, LVOS
    ``frame_range`` every 5th frame), ``None`` when the metadata lists none.
    """

    id: int
    first_frame: str | None = None
    category: str | None = None
    frames: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Video:
    """One sequence of a dataset: its frames, annotated frames, objects and masks.

    ``frames``: every image frame name (file stem, sorted; the annotated frames when the dataset
    has no images); ``annotated``: the frame names that have a ground-truth PNG; ``objects``:
    ``{id: ObjectInfo}``. Masks are ``(H, W) uint8`` label maps (palette indices).

    Example:
        >>> v = fastmask.datasets.YouTubeVOS("ytvos", "train")["003234408d"]  # doctest: +SKIP
        >>> v.objects[1].category, v.objects[1].first_frame  # doctest: +SKIP
        ('penguin', '00000')
        >>> v.read_masks().shape  # every annotated frame  # doctest: +SKIP
        (36, 720, 1280)
    """

    def __init__(
        self,
        name: str,
        mask_dir: Path,
        image_dir: Path | None,
        objects: dict[int, ObjectInfo] | None = None,
        *,
        mask_ext: str = ".png",
        image_exts: tuple[str, ...] = (".jpg", ".jpeg", ".png"),
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.mask_dir = mask_dir
        self.image_dir = image_dir
        self.meta: dict[str, Any] = meta or {}
        self._mask_ext = mask_ext
        self._image_exts = image_exts
        self._objects = objects
        self._annotated: list[str] | None = None
        self._frames: list[str] | None = None
        #: pixel limit of this video's decodes (``None``: ``fastmask.get_max_pixels()``)
        self.max_pixels: int | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, frames={len(self.frames)}, "
            f"annotated={len(self.annotated)})"
        )

    @property
    def annotated(self) -> list[str]:
        """Names of the frames with a ground-truth mask, in frame order."""
        if self._annotated is None:
            self._annotated = sorted(stems(self.mask_dir, (self._mask_ext,)), key=frame_sort_key)
        return self._annotated

    @property
    def frames(self) -> list[str]:
        """Names of every image frame (the annotated frames when there are no images)."""
        if self._frames is None:
            names: list[str] = []
            if self.image_dir is not None:
                names = stems(self.image_dir, self._image_exts)
            self._frames = sorted(names, key=frame_sort_key) if names else list(self.annotated)
        return self._frames

    @property
    def objects(self) -> dict[int, ObjectInfo]:
        """``{id: ObjectInfo}``: from the metadata, else from the labels of the masks (every
        annotated frame is read once; ``first_frame`` is where each label first appears)."""
        if self._objects is None:
            self._objects = self._objects_from_masks()
        return self._objects

    def _objects_from_masks(self) -> dict[int, ObjectInfo]:
        found: dict[int, ObjectInfo] = {}
        names = self.annotated
        for start in range(0, len(names), 32):  # 32 frames decoded at once, in parallel
            chunk = names[start : start + 32]
            try:
                masks: Any = read_pngs(self.mask_files(chunk), max_pixels=self.max_pixels)
            except ValueError:  # frames of different sizes: one at a time
                masks = [self.read_mask(f) for f in chunk]
            for frame, mask in zip(chunk, masks):
                present = np.flatnonzero(np.bincount(mask.reshape(-1), minlength=256))
                for k in present.tolist():
                    if k not in (0, VOID) and k not in found:
                        found[k] = ObjectInfo(k, frame)
        return dict(sorted(found.items()))

    def mask_path(self, frame: str) -> Path:
        """Path of a frame's ground-truth PNG (whether or not it exists)."""
        return self.mask_dir / f"{frame}{self._mask_ext}"

    def mask_files(self, frames: Sequence[str]) -> list[str]:
        """``str(mask_path(f))`` for each frame, joined as strings: ``str(d / name)`` costs
        7-11 us a path, an f-string 0.2 us (``python -m timeit``, best of 7, CPython 3.11)."""
        base = os.path.join(str(self.mask_dir), "")
        return [f"{base}{f}{self._mask_ext}" for f in frames]

    def image_path(self, frame: str) -> Path:
        """Path of a frame's image (the first extension that exists, else ``.jpg``)."""
        if self.image_dir is None:
            raise FileNotFoundError(f"video {self.name!r} has no image folder")
        for ext in self._image_exts:
            p = self.image_dir / f"{frame}{ext}"
            if p.exists():
                return p
        return self.image_dir / f"{frame}{self._image_exts[0]}"

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the masks, from the first annotated PNG's header."""
        if not self.annotated:
            raise FileNotFoundError(f"{self.mask_dir}: no annotated frame")
        info = png_info(self.mask_path(self.annotated[0]))
        return info.height, info.width

    def _frame_list(self, frames: Sequence[str] | None) -> list[str]:
        names = self.annotated if frames is None else list(frames)
        if frames is not None:
            have = set(self.annotated)
            missing = [f for f in names if f not in have]
            if missing:
                raise not_found(
                    f"ground truth of frame {missing[0]!r} of video {self.name!r}"
                    + (f" ({len(missing)} frames missing)" if len(missing) > 1 else ""),
                    self.mask_path(missing[0]),
                )
        return names

    def read_mask(self, frame: str) -> NDArray[np.uint8]:
        """The ``(H, W)`` label map of one annotated frame."""
        return read_png(self.mask_path(frame), max_pixels=self.max_pixels)

    def read_masks(
        self, frames: Sequence[str] | None = None, *, threads: int | None = None
    ) -> NDArray[np.uint8]:
        """The ``(T, H, W) uint8`` label maps of ``frames`` (default: every annotated frame),
        decoded in parallel on ``threads`` threads (default: one per core)."""
        names = self._frame_list(frames)
        if not names:
            h, w = self.size if self.annotated else (0, 0)
            return np.zeros((0, h, w), np.uint8)
        return read_pngs(self.mask_files(names), threads=threads, max_pixels=self.max_pixels)

    def iter_masks(
        self, frames: Sequence[str] | None = None
    ) -> Iterator[tuple[str, NDArray[np.uint8]]]:
        """``(frame, (H, W) label map)`` one frame at a time: memory for one frame only."""
        for f in self._frame_list(frames):
            yield f, self.read_mask(f)

    def object_masks(
        self, obj: int, frames: Sequence[str] | None = None, *, threads: int | None = None
    ) -> NDArray[np.bool_]:
        """``(T, H, W) bool``: where label ``obj`` is, on ``frames`` (default: annotated)."""
        return self.read_masks(frames, threads=threads) == obj


class Dataset:
    """A split of a dataset: ``names`` (sequence names in the split's order), ``ds[name]`` a
    :class:`Video`, ``len(ds)``, ``for video in ds``, and ``meta`` (the metadata as shipped,
    parsed JSON, or ``{}``)."""

    root: Path
    split: str
    names: list[str]
    meta: dict[str, Any]

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[Video]:
        for n in self.names:
            yield self[n]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Video:
        if name not in self._name_set:
            raise KeyError(
                f"no video {name!r} in {type(self).__name__} split {self.split!r} at {self.root}"
            )
        return self._video(name)

    @property
    def _name_set(self) -> set[str]:
        cached: set[str] | None = getattr(self, "_names_cache", None)
        if cached is None or len(cached) != len(self.names):
            cached = set(self.names)
            self._names_cache = cached
        return cached

    def _video(self, name: str) -> Video:  # pragma: no cover - every layout overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.root)!r}, split={self.split!r}, videos={len(self)})"
        )


def pick_split_dir(root: Path, split: str, marker: str, dataset: str) -> Path:
    """``root/<split>`` when it exists, else ``root`` itself when it is a split folder (holds
    ``marker``). Errors name the expected folder and the splits that were found."""
    if not root.is_dir():
        raise not_found(
            f"{dataset} root", root, listing(root.parent) if root.parent.is_dir() else None
        )
    if (root / split).is_dir():
        return root / split
    if (root / marker).exists():
        return root
    found = [s for s in subfolders(root) if (root / s / marker).exists()]
    hint = f"; splits found: {', '.join(found)}" if found else ""
    raise not_found(
        f"{dataset} split {split!r} (a folder {split}/ holding {marker}{hint})",
        root / split,
        listing(root),
    )


def as_int_id(key: Any, where: str) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        raise MetadataError(f"{where}: object id {key!r} is not an integer") from None


def parse_objects(objs: Any, where: str) -> dict[int, ObjectInfo]:
    """``objects`` of a YouTube-VOS / MOSE meta entry: ``{id: {category?, frames?}}`` or a
    list of ids (MOSE v2 may list ids only)."""
    out: dict[int, ObjectInfo] = {}
    if isinstance(objs, dict):
        items = list(objs.items())
    elif isinstance(objs, list):
        items = [(o, {}) for o in objs]
    else:
        raise MetadataError(
            f"{where}: 'objects' must be a mapping or a list, got {type(objs).__name__}"
        )
    for key, val in items:
        oid = as_int_id(key, where)
        if not isinstance(val, dict):
            raise MetadataError(
                f"{where}: object {key!r} must be a mapping, got {type(val).__name__}"
            )
        frames = val.get("frames")
        if frames is not None:
            if not isinstance(frames, list):
                raise MetadataError(f"{where}: object {key!r} 'frames' must be a list")
            frames = sorted((str(f) for f in frames), key=frame_sort_key)
        extra = {k: v for k, v in val.items() if k not in ("category", "frames")}
        cat = val.get("category")
        out[oid] = ObjectInfo(
            oid,
            frames[0] if frames else None,
            None if cat is None else str(cat),
            frames,
            extra,
        )
    return out
