"""The layouts of the datasets of the field, as they ship."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastmask.datasets._base import (
    VOID,
    Dataset,
    MetadataError,
    ObjectInfo,
    PathLike,
    Video,
    as_int_id,
    frame_sort_key,
    listing,
    load_json,
    not_found,
    parse_objects,
    pick_split_dir,
    read_list,
    stems,
    subfolders,
)
from fastmask.datasets._json import SAVJsonVideo, check_masklets, sav_json_files
from fastmask.png import read_png, read_pngs


def _videos_of(meta: Any, path: Path) -> dict[str, Any]:
    if not isinstance(meta, dict) or not isinstance(meta.get("videos"), dict):
        raise MetadataError(f"{path}: expected a JSON object with a 'videos' mapping")
    return meta["videos"]


def read_davis_2016_pairs(path: Path) -> list[str]:
    """The sequences of a DAVIS-2016 ``ImageSets/480p/<set>.txt``, which lists
    ``<image path> <annotation path>`` pairs: each annotation's folder, in first-seen order."""
    names: list[str] = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and Path(parts[-1]).parent.name not in names:
            names.append(Path(parts[-1]).parent.name)
    return names


class _FirstFrameVideo(Video):
    """DAVIS rule: the objects are 1..N, N the largest label (void excluded) of the first
    annotated frame; all of them are given on that frame."""

    @property
    def objects(self) -> dict[int, ObjectInfo]:
        if self._objects is None:
            if not self.annotated:
                self._objects = {}
            else:
                first = read_png(self.mask_path(self.annotated[0]), max_pixels=self.max_pixels)
                first = first[first != VOID]
                n = int(first.max()) if first.size else 0
                self._objects = {k: ObjectInfo(k, self.annotated[0]) for k in range(1, n + 1)}
        return self._objects


class DAVIS(Dataset):
    """DAVIS 2016 / 2017 (and sets shipped in its layout: RVOS- or GyGO-style sparse sets).

    ``root/ImageSets/<year>/<split>.txt`` lists the sequences (``split=None``: every folder of
    ``Annotations/<resolution>``); masks are ``root/Annotations/<resolution>/<seq>/*.png``
    (``Annotations_unsupervised`` for ``task="unsupervised"``), images
    ``root/JPEGImages/<resolution>/<seq>/*.jpg``. Only some frames may be annotated (sparse
    sets): ``Video.annotated`` lists those, ``Video.frames`` every image.

    ``objects="first-frame"`` (default) follows the DAVIS rule: objects are 1..N, N the largest
    label of the first annotated frame. ``objects="all"`` scans every annotated frame and gives
    each label its first frame (sets where objects enter later).

    Example:
        >>> ds = fastmask.datasets.DAVIS("DAVIS", "val")  # doctest: +SKIP
        >>> ds.names[:2], ds["bike-packing"].objects.keys()  # doctest: +SKIP
        (['bike-packing', 'blackswan'], dict_keys([1, 2]))
    """

    def __init__(
        self,
        root: PathLike,
        split: str | None = "val",
        *,
        year: int | str = 2017,
        resolution: str = "480p",
        task: str = "semi-supervised",
        objects: str = "first-frame",
    ) -> None:
        self.root = Path(root)
        self.split = split or "all"
        self.year = str(year)
        self.resolution = resolution
        if objects not in ("first-frame", "all"):
            raise ValueError(f"objects must be 'first-frame' or 'all', got {objects!r}")
        if task not in ("semi-supervised", "unsupervised"):
            raise ValueError(f"task must be 'semi-supervised' or 'unsupervised', got {task!r}")
        self._objects_rule = objects
        self.meta = {}
        if not self.root.is_dir():
            raise not_found("DAVIS root", self.root, listing(self.root.parent))
        ann = "Annotations_unsupervised" if task == "unsupervised" else "Annotations"
        self.mask_root = self.root / ann / resolution
        if not self.mask_root.is_dir():
            found = [r for r in subfolders(self.root / ann)] if (self.root / ann).is_dir() else None
            raise not_found(
                f"DAVIS annotations folder {ann}/{resolution}"
                + (f" (resolutions found: {', '.join(found)})" if found else ""),
                self.mask_root,
                listing(self.root) if found is None else None,
            )
        self.image_root = self.root / "JPEGImages" / resolution
        if split is None:
            self.names = subfolders(self.mask_root)
        else:
            self.names = self._read_imageset(split)

    def _read_imageset(self, split: str) -> list[str]:
        sets = self.root / "ImageSets"
        path = sets / self.year / f"{split}.txt"
        if path.is_file():
            return read_list(path)
        pairs = sets / "480p" / f"{split}.txt"
        if self.year == "2016" and pairs.is_file():
            return read_davis_2016_pairs(pairs)
        have = [f"{y}/{s}" for y in subfolders(sets) for s in stems(sets / y, (".txt",))]
        raise not_found(
            f"DAVIS sequence list ImageSets/{self.year}/{split}.txt"
            + (
                f" (lists found: {', '.join(have)})"
                if have
                else " (pass split=None for every annotated sequence)"
            ),
            path,
        )

    def _video(self, name: str) -> Video:
        cls = _FirstFrameVideo if self._objects_rule == "first-frame" else Video
        image_dir = self.image_root / name
        return cls(name, self.mask_root / name, image_dir if image_dir.is_dir() else None)


class YouTubeVOS(Dataset):
    """YouTube-VOS 2018 / 2019: ``root/<split>/{JPEGImages,Annotations}/<video>/`` and
    ``root/<split>/meta.json`` (``root`` may also be the split folder itself).

    meta.json gives each object's category and the frames it is annotated on (train) or must be
    segmented on (valid / test); annotations are every 5th frame and objects may first appear
    mid-video: ``ObjectInfo.first_frame`` is the first frame listed for it. ``all_frames=True``
    reads images from ``root/<split>_all_frames/JPEGImages`` (the 30 fps release).

    Example:
        >>> ds = fastmask.datasets.YouTubeVOS("youtube-vos", "valid")  # doctest: +SKIP
        >>> v = ds[ds.names[0]]  # doctest: +SKIP
        >>> [(o.id, o.first_frame) for o in v.objects.values()]  # doctest: +SKIP
        [(1, '00000'), (2, '00045')]
    """

    def __init__(self, root: PathLike, split: str = "train", *, all_frames: bool = False) -> None:
        self.root = Path(root)
        self.split = split
        self.split_dir = pick_split_dir(self.root, split, "JPEGImages", "YouTube-VOS")
        self.meta_path = self.split_dir / "meta.json"
        self.meta = load_json(self.meta_path)
        self._videos = _videos_of(self.meta, self.meta_path)
        self.names = sorted(self._videos)
        base = self.split_dir
        if all_frames:
            base = self.split_dir.parent / f"{self.split_dir.name}_all_frames"
            if not (base / "JPEGImages").is_dir():
                raise not_found(
                    "YouTube-VOS all-frames images", base / "JPEGImages", listing(base.parent)
                )
        self.image_root = base / "JPEGImages"
        self.mask_root = self.split_dir / "Annotations"

    def _video(self, name: str) -> Video:
        entry = self._videos[name]
        where = f"{self.meta_path}: video {name!r}"
        if not isinstance(entry, dict) or "objects" not in entry:
            raise MetadataError(f"{where}: expected a mapping with 'objects'")
        return Video(
            name,
            self.mask_root / name,
            self.image_root / name,
            parse_objects(entry["objects"], where),
            meta=entry,
        )

    @property
    def categories(self) -> list[str]:
        """Every category named in meta.json, sorted."""
        cats = {
            str(o["category"])
            for v in self._videos.values()
            if isinstance(v, dict)
            for o in (v.get("objects") or {}).values()
            if isinstance(o, dict) and "category" in o
        }
        return sorted(cats)


class MOSE(Dataset):
    """MOSE v1 / v2: ``root/<split>/{JPEGImages,Annotations}/<video>/`` with five-digit frame
    names (also the ``root/{JPEGImages,Annotations}/<split>/`` arrangement some training code
    uses). Metadata, when present, is found at ``<split>/meta.json``, ``meta_<split>.json`` or
    ``<split>/meta_<split>.json`` (or given as ``meta=``): v1 lists objects like YouTube-VOS,
    v2 gives ``length``, ``height``, ``width`` and ``objects`` per video. Without metadata the
    objects are those of the first annotated frame (every MOSE object is given there).

    Example:
        >>> ds = fastmask.datasets.MOSE("MOSEv2", "valid", version=2)  # doctest: +SKIP
        >>> ds.meta["videos"][ds.names[0]]["length"]  # doctest: +SKIP
        120
    """

    def __init__(
        self,
        root: PathLike,
        split: str = "train",
        *,
        version: int = 1,
        meta: PathLike | None = None,
    ) -> None:
        if version not in (1, 2):
            raise ValueError(f"version must be 1 or 2, got {version!r}")
        self.root = Path(root)
        self.split = split
        self.version = version
        alt = self.root / "Annotations" / split
        if alt.is_dir() and not (self.root / split).is_dir():
            self.mask_root = alt
            self.image_root = self.root / "JPEGImages" / split
            self.split_dir = self.root
        else:
            self.split_dir = pick_split_dir(self.root, split, "Annotations", "MOSE")
            self.mask_root = self.split_dir / "Annotations"
            self.image_root = self.split_dir / "JPEGImages"
        candidates = (
            [Path(meta)]
            if meta is not None
            else [
                self.split_dir / "meta.json",
                self.root / f"meta_{split}.json",
                self.split_dir / f"meta_{split}.json",
            ]
        )
        self.meta_path = next((p for p in candidates if p.is_file()), None)
        if meta is not None and self.meta_path is None:
            raise not_found("MOSE metadata file", Path(meta), listing(Path(meta).parent))
        self.meta = load_json(self.meta_path) if self.meta_path is not None else {}
        self._videos = _videos_of(self.meta, self.meta_path) if self.meta_path else {}
        self.names = sorted(self._videos) if self._videos else subfolders(self.mask_root)
        if not self.names and not self.mask_root.is_dir():
            raise not_found(
                "MOSE annotations folder", self.mask_root, listing(self.mask_root.parent)
            )

    def _video(self, name: str) -> Video:
        entry = self._videos.get(name)
        if entry is None:
            return _FirstFrameVideo(name, self.mask_root / name, self.image_root / name)
        where = f"{self.meta_path}: video {name!r}"
        if not isinstance(entry, dict):
            raise MetadataError(f"{where}: expected a mapping")
        objects = parse_objects(entry.get("objects", {}), where)
        return _GivenFirstVideo(
            name, self.mask_root / name, self.image_root / name, objects, meta=entry
        )


class _GivenFirstVideo(Video):
    """Objects from the metadata; one listed without frames is given on the first annotated
    frame. Filled in when ``objects`` is first read, so opening the video lists nothing (an
    evaluation plans 1,507 MOSE videos without listing their folders)."""

    @property
    def objects(self) -> dict[int, ObjectInfo]:
        objects = super().objects
        if not getattr(self, "_firsts_filled", False):
            for o in objects.values():
                if o.first_frame is None and self.annotated:
                    o.first_frame = self.annotated[0]
            self._firsts_filled = True
        return objects


class LVOS(Dataset):
    """LVOS v1 / v2: ``<split dir>/{JPEGImages,Annotations}/<video>/%08d.{jpg,png}`` and
    ``<split dir>/<split>_meta.json`` (``root`` is the split folder, or its parent).

    The metadata gives each object a ``frame_range`` (``start``, ``end``, ``frame_nums``):
    ``ObjectInfo.frames`` are the ``frame_nums`` frames ``start, start+5, ...`` (annotations are
    every 5th frame) and ``first_frame`` is ``start``. ``unseen`` lists the unseen videos when
    ``unseen_videos.txt`` is found beside the split (or given as ``unseen=``).

    Example:
        >>> ds = fastmask.datasets.LVOS("LVOS/valid", "valid")  # doctest: +SKIP
        >>> o = ds[ds.names[0]].objects[1]  # doctest: +SKIP
        >>> o.first_frame, len(o.frames)  # doctest: +SKIP
        ('00000000', 213)
    """

    def __init__(
        self,
        root: PathLike,
        split: str = "valid",
        *,
        unseen: PathLike | Sequence[str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.split = split
        marker = f"{split}_meta.json"
        if (self.root / marker).is_file():
            self.split_dir = self.root
        else:
            self.split_dir = pick_split_dir(self.root, split, marker, "LVOS")
        self.meta_path = self.split_dir / marker
        self.meta = load_json(self.meta_path)
        self._videos = _videos_of(self.meta, self.meta_path)
        self.names = sorted(self._videos)
        self.mask_root = self.split_dir / "Annotations"
        self.image_root = self.split_dir / "JPEGImages"
        if unseen is None:
            found = [
                p
                for p in (
                    self.split_dir / "unseen_videos.txt",
                    self.split_dir.parent / "unseen_videos.txt",
                )
                if p.is_file()
            ]
            self.unseen: list[str] | None = read_list(found[0]) if found else None
        elif isinstance(unseen, (str, Path)) or hasattr(unseen, "__fspath__"):
            self.unseen = read_list(Path(unseen))
        else:
            self.unseen = [str(s) for s in unseen]

    def _video(self, name: str) -> Video:
        entry = self._videos[name]
        where = f"{self.meta_path}: video {name!r}"
        objs = entry.get("objects") if isinstance(entry, dict) else None
        if not isinstance(objs, dict):
            raise MetadataError(f"{where}: expected a mapping with an 'objects' mapping")
        objects: dict[int, ObjectInfo] = {}
        for key, val in objs.items():
            oid = as_int_id(key, where)
            start, end, n = frame_range(val, f"{where}, object {key!r}")
            cat = val.get("category") if isinstance(val, dict) else None
            objects[oid] = ObjectInfo(
                oid,
                f"{start:08d}",
                None if cat is None else str(cat),
                [f"{start + 5 * i:08d}" for i in range(n)],
                {"frame_range": {"start": start, "end": end, "frame_nums": n}},
            )
        return Video(name, self.mask_root / name, self.image_root / name, objects, meta=entry)


def frame_range(obj: Any, where: str) -> tuple[int, int, int]:
    """``(start, end, frame_nums)`` of an LVOS object entry, as integers."""
    fr = obj.get("frame_range") if isinstance(obj, dict) else None
    if not isinstance(fr, dict) or not all(k in fr for k in ("start", "end", "frame_nums")):
        raise MetadataError(f"{where}: expected 'frame_range' with 'start', 'end', 'frame_nums'")
    try:
        return int(fr["start"]), int(fr["end"]), int(fr["frame_nums"])
    except (TypeError, ValueError):
        raise MetadataError(f"{where}: frame_range values must be integers, got {fr}") from None


class SAVVideo(Video):
    """An SA-V video: one folder of binary PNGs per object (objects may overlap)."""

    def __init__(self, name: str, mask_dir: Path, image_dir: Path | None) -> None:
        objs = {}
        for folder in subfolders(mask_dir):
            frames = stems(mask_dir / folder, (".png",))
            oid = as_int_id(folder, f"{mask_dir}: object folder")
            objs[oid] = ObjectInfo(
                oid, frames[0] if frames else None, None, frames, {"folder": folder}
            )
        super().__init__(name, mask_dir, image_dir, objs)

    @property
    def annotated(self) -> list[str]:
        if self._annotated is None:
            names = {f for o in self.objects.values() for f in (o.frames or [])}
            self._annotated = sorted(names, key=frame_sort_key)
        return self._annotated

    def object_path(self, obj: int, frame: str) -> Path:
        return self.mask_dir / str(self.objects[obj].extra["folder"]) / f"{frame}.png"

    def mask_path(self, frame: str) -> Path:
        first = next(iter(self.objects))
        return self.object_path(first, frame)

    def mask_files(self, frames: Sequence[str]) -> list[str]:
        return [str(self.mask_path(f)) for f in frames]

    def object_masks(
        self, obj: int, frames: Sequence[str] | None = None, *, threads: int | None = None
    ) -> NDArray[np.bool_]:
        """``(T, H, W) bool`` masks of one object from its own PNGs."""
        names = self.objects[obj].frames or [] if frames is None else list(frames)
        return read_pngs([self.object_path(obj, f) for f in names], threads=threads) != 0

    def read_masks(
        self, frames: Sequence[str] | None = None, *, threads: int | None = None
    ) -> NDArray[np.uint8]:
        """``(T, H, W)`` label maps made from the per-object PNGs: object ``k`` is written with
        label ``k``, objects in id order (a later object covers an earlier one where they
        overlap; use :meth:`object_masks` for the exact per-object masks)."""
        names = self.annotated if frames is None else list(frames)
        out: NDArray[np.uint8] | None = None
        for oid, o in self.objects.items():
            have = set(o.frames or [])
            idx = [i for i, f in enumerate(names) if f in have]
            if not idx:
                continue
            m = read_pngs([self.object_path(oid, names[i]) for i in idx], threads=threads) != 0
            if out is None:
                out = np.zeros((len(names), *m.shape[1:]), np.uint8)
            sub = out[idx]
            sub[m] = oid
            out[idx] = sub
        return out if out is not None else np.zeros((len(names), 0, 0), np.uint8)

    def read_mask(self, frame: str) -> NDArray[np.uint8]:
        return self.read_masks([frame])[0]


class SAV(Dataset):
    """SA-V. Val / test: ``<split dir>/Annotations_6fps/<video>/<obj:03>/<frame>.png`` (one binary
    mask per object and annotated frame, 6 fps), ``JPEGImages_24fps/<video>/<frame>.jpg`` and the
    list ``<split>.txt``. Train (``sav_train``): ``<video>_manual.json`` and ``<video>_auto.json``
    masklet files (in the split folder or its ``sav_000/`` ... subfolders), read lazily per
    video: ``masklets="manual"`` (default), ``"auto"`` or ``"all"`` (auto masklets numbered
    after the manual ones). Annotated frame ``i`` of a masklet file is frame ``4 i`` of the
    24 fps video; ``objects[id].extra`` holds the file's per-object fields.

    Example:
        >>> ds = fastmask.datasets.SAV("sav_val", "sav_val")  # doctest: +SKIP
        >>> v = ds[ds.names[0]]  # doctest: +SKIP
        >>> v.object_masks(0).shape  # doctest: +SKIP
        (40, 848, 480)
        >>> train = fastmask.datasets.SAV("sa-v", "sav_train", masklets="all")  # doctest: +SKIP
        >>> train["sav_000001"].objects[0].extra["masklet_size_bucket"]  # doctest: +SKIP
        'large'
    """

    def __init__(self, root: PathLike, split: str = "sav_val", *, masklets: str = "manual") -> None:
        check_masklets(masklets)
        self.root = Path(root)
        self.split = split
        self.masklets = masklets
        self.meta = {}
        self._json: dict[str, list[Path]] | None = None
        base = self.root / split if (self.root / split).is_dir() else self.root
        if not (base / "Annotations_6fps").is_dir() and base.is_dir():
            files = sav_json_files(base, masklets)
            if files:
                self.split_dir = base
                self._json = files
                self.names = list(files)
                self.mask_root = base
                self.image_root = base / "JPEGImages_24fps"
                return
        self.split_dir = pick_split_dir(self.root, split, "Annotations_6fps", "SA-V")
        self.mask_root = self.split_dir / "Annotations_6fps"
        self.image_root = self.split_dir / "JPEGImages_24fps"
        lst = self.split_dir / f"{split}.txt"
        self.names = read_list(lst) if lst.is_file() else subfolders(self.mask_root)

    def _video(self, name: str) -> Video:
        img = self.image_root / name
        if self._json is not None:
            return SAVJsonVideo(name, self._json[name], img if img.is_dir() else None)
        return SAVVideo(name, self.mask_root / name, img if img.is_dir() else None)


class Folder(Dataset):
    """Any ``root/<masks>/<video>/*.png`` set (images in ``root/<images>/<video>/``); ``root``
    may also be the masks folder itself. Objects are the labels found in the masks, each with
    the frame where it first appears (255 is void).

    Example:
        >>> ds = fastmask.datasets.Folder("my_set")  # doctest: +SKIP
        >>> ds[ds.names[0]].read_masks().shape  # doctest: +SKIP
        (35, 1920, 1080)
    """

    def __init__(
        self, root: PathLike, *, masks: str = "Annotations", images: str = "JPEGImages"
    ) -> None:
        self.root = Path(root)
        self.split = "all"
        self.meta = {}
        if not self.root.is_dir():
            raise not_found("dataset folder", self.root, listing(self.root.parent))
        if (self.root / masks).is_dir():
            self.mask_root = self.root / masks
            self.image_root: Path | None = self.root / images
        else:
            self.mask_root = self.root
            self.image_root = None
        self.names = [n for n in subfolders(self.mask_root) if stems(self.mask_root / n, (".png",))]
        if not self.names:
            raise not_found(
                f"video folders of PNG masks ({masks}/<video>/*.png or <video>/*.png)",
                self.mask_root,
                listing(self.mask_root),
            )

    def _video(self, name: str) -> Video:
        img = self.image_root / name if self.image_root is not None else None
        return Video(name, self.mask_root / name, img if img is not None and img.is_dir() else None)
