"""Convert mask datasets between formats, video by video: ``fastmask.convert(src, dst, to=...)``
and the ``fastmask convert SRC DST --to FORMAT`` command.

Formats:

- ``png``: DAVIS layout, ``<video>/<frame>.png`` palette label maps. Objects are written in id
  order, so where masks overlap **the larger id wins**; the report counts the overlapped
  pixels (per video in ``report.overlaps``). Ids must fit 1..255 (ids from 0, as SA-V's, are
  written as id + 1).
- ``png-objects``: SA-V val layout, ``<video>/<id:03d>/<frame>.png`` binary masks (0/1), one per
  object and annotated frame: overlaps are kept.
- ``sav-json``: one ``<video>.json`` per video in SA-V's masklet format (``masklet``,
  ``masklet_id``, statistics as SA-V defines them; see ``sav_fields``). When the frames are not
  SA-V's ``4 i`` numbering the file also carries ``frame_names``, so round trips are exact.
- ``ytvis-json``: one YouTube-VIS file (``videos``, ``annotations`` with one RLE or null per
  frame, ``areas``, ``bboxes``; ``object_id`` keeps each object's id).

The source format is detected (``src_format=None``). Each video is one picklable job (like an
evaluation's), run in this process on ``threads`` threads or on ``executor`` (a
``concurrent.futures`` executor, a Dask ``Client`` or ``"ray"``), through the same executor code
as ``fastmask.evaluation.run``. A video's output appears all at once (written to a temporary
folder or file, then renamed); a video whose output exists is skipped, so an interrupted
conversion resumes where it stopped.

Example:
    >>> rep = fastmask.convert("sav_train", "sav_train_png", to="png")  # doctest: +SKIP
    >>> rep.converted, rep.overlapped_pixels  # doctest: +SKIP
    (50583, 1234567)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastmask.conversion import _formats
from fastmask.conversion._formats import FORMATS, detect
from fastmask.datasets._base import subfolders
from fastmask.datasets._json import YouTubeVIS, check_masklets
from fastmask.evaluation._plan import Progress, _execute

__all__ = ["FORMATS", "ConvertJob", "ConvertReport", "convert", "detect", "plan_convert"]


@dataclass
class ConvertJob:
    """One video to convert: picklable, it carries everything a worker needs."""

    index: int
    video: str
    src_format: str
    to: str
    dst: str
    data: Any


@dataclass
class VideoDone:
    index: int
    video: str
    frames: int
    objects: int
    overlapped: int
    vis: dict[str, Any] | None = None


@dataclass
class ConvertReport:
    """What ``convert`` did: ``converted`` videos (and their ``frames`` / ``objects``),
    ``skipped`` (output already there), ``overlapped_pixels`` (png: pixels where masks
    overlapped and the larger id won; ``overlaps`` per video), ``seconds``."""

    src: str
    dst: str
    src_format: str
    to: str
    converted: int = 0
    skipped: int = 0
    frames: int = 0
    objects: int = 0
    overlapped_pixels: int = 0
    overlaps: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        s = (
            f"{self.src} ({self.src_format}) -> {self.dst} ({self.to}): {self.converted} videos "
            f"converted ({self.frames} frames, {self.objects} objects), {self.skipped} skipped "
            f"(already converted), {self.seconds:.1f} s"
        )
        if self.to == "png":
            s += (
                f"; {self.overlapped_pixels} overlapped pixels in {len(self.overlaps)} videos "
                "(the larger object id wins)"
            )
        return s


def _output(to: str, dst: Path, video: str) -> Path:
    return dst / f"{video}.json" if to == "sav-json" else dst / video


def plan_convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    to: str,
    *,
    src_format: str | None = None,
    masklets: str = "manual",
) -> tuple[list[ConvertJob], list[str], dict[str, Any]]:
    """The jobs of a conversion (videos whose output is missing), the names of those skipped,
    and what the merge needs: ``src_format`` (detected when not given) and ``categories`` of a
    YouTube-VIS source.

    >>> from fastmask.conversion import plan_convert
    >>> jobs, skipped, _ = plan_convert("DAVIS", "out", "sav-json")  # doctest: +SKIP
    """
    if to not in FORMATS:
        raise ValueError(f"to must be one of {', '.join(FORMATS)}; got {to!r}")
    s, d = Path(src), Path(dst)
    fmt = src_format or detect(s)
    if fmt not in FORMATS:
        raise ValueError(f"src_format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    extra: dict[str, Any] = {"src_format": fmt}
    sources: dict[str, Any]
    if fmt == "ytvis-json":
        ds = YouTubeVIS(s)
        extra["categories"] = ds.categories
        sources = {n: (*ds.entry(n), str(s), ds._cat_names) for n in ds.names}
    elif fmt == "sav-json":
        sources = _formats.sav_sources(s, check_masklets(masklets))
    else:
        root = _formats.source_root(s, fmt)
        sources = {v: str(root / v) for v in subfolders(root)}
    if not sources:
        raise FileNotFoundError(f"{s}: no video found in it as {fmt}")
    jobs: list[ConvertJob] = []
    skipped: list[str] = []
    for name, data in sources.items():
        if to != "ytvis-json" and _output(to, d, name).exists():
            skipped.append(name)
            continue
        jobs.append(ConvertJob(len(jobs), name, fmt, to, str(d), data))
    return jobs, skipped, extra


def run_convert_job(job: ConvertJob, threads: int = 1) -> VideoDone:
    """Convert one video (pure: reads the job's source, writes its own output)."""
    m = _formats.READERS[job.src_format](job.video, job.data, threads)
    n_frames, n_obj = len(m.frames), len(m.ids)
    if job.to == "ytvis-json":
        return VideoDone(job.index, job.video, n_frames, n_obj, 0, _formats.vis_entry(m))
    out = _output(job.to, Path(job.dst), job.video)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = {
        "png": _formats.write_png,
        "png-objects": _formats.write_png_objects,
        "sav-json": _formats.write_sav_json,
    }[job.to]
    over = writer(m, out, threads)
    return VideoDone(job.index, job.video, n_frames, n_obj, over)


def _run_local(
    jobs: Sequence[ConvertJob], threads: int, step: Callable[[int], None]
) -> list[VideoDone]:
    """In this process: one video after another, ``step(1)`` after each."""
    done = []
    for j in jobs:
        done.append(run_convert_job(j, threads))
        step(1)
    return done


def _run_batch(jobs: list[ConvertJob], threads: int) -> list[VideoDone]:
    """One executor task: a batch of videos."""
    return [run_convert_job(j, threads) for j in jobs]


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    to: str,
    *,
    src_format: str | None = None,
    threads: int | None = None,
    progress: Progress = False,
    executor: Any = None,
    batch_size: int | None = None,
    masklets: str = "manual",
) -> ConvertReport:
    """Convert every video of ``src`` into ``dst`` in format ``to``, one video at a time.

    Args:
        src: a folder (``png``: ``<video>/<frame>.png`` label maps, e.g. a DAVIS
            ``Annotations/480p``; ``png-objects``: ``<video>/<obj>/<frame>.png`` binary masks;
            ``sav-json``: ``<video>.json`` or SA-V train's ``<video>_manual.json`` /
            ``_auto.json``, also in ``sav_000/``... subfolders) or a YouTube-VIS ``.json`` file.
        dst: the output folder (or ``.json`` file for ``ytvis-json``).
        to: ``"png"``, ``"png-objects"``, ``"sav-json"`` or ``"ytvis-json"``.
        src_format: one of the same names; detected from ``src`` when ``None``.
        threads: decode/encode threads (default: one per core; with an ``executor``, per
            task, default 1).
        progress: a bar on stderr (``True``) or a callback ``(done, total)``.
        executor: run the per-video jobs on a ``concurrent.futures.Executor``, a
            ``dask.distributed.Client`` or ``"ray"`` (as ``fastmask.evaluation.run``).
        batch_size: videos per executor task (default: about 4 tasks per worker).
        masklets: which SA-V train files to read: ``"manual"``, ``"auto"`` or ``"all"`` (auto
            masklets numbered after the manual ones).

    Videos already in ``dst`` are skipped, so an interrupted run resumes (not for
    ``ytvis-json``: one file, written at the end). Where objects overlap in a ``png`` output the
    larger id wins; the report counts the overlapped pixels. Returns a :class:`ConvertReport`.

    Example:
        >>> import fastmask, numpy as np, tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> lab = np.zeros((2, 4, 4), np.uint8); lab[:, 1:3, 1:3] = 1; lab[1, 0, 0] = 2
        >>> (d / "src/v").mkdir(parents=True)
        >>> fastmask.write_pngs([d / "src/v/00000.png", d / "src/v/00001.png"], lab)
        >>> rep = fastmask.convert(d / "src", d / "json", to="sav-json", threads=1)
        >>> rep.converted, rep.frames, rep.objects
        (1, 2, 2)
        >>> rep = fastmask.convert(d / "json", d / "back", to="png", threads=1)
        >>> back = fastmask.read_pngs([d / "back/v/00000.png", d / "back/v/00001.png"])
        >>> bool((back == lab).all())
        True
    """
    t0 = time.perf_counter()
    jobs, skipped, extra = plan_convert(src, dst, to, src_format=src_format, masklets=masklets)
    fmt = extra["src_format"]
    desc = f"fastmask convert {fmt} -> {to}"
    done: list[VideoDone] = _execute(
        jobs, executor, threads, batch_size, progress, desc, _run_local, _run_batch
    )
    done.sort(key=lambda v: v.index)
    if to == "ytvis-json":
        vis = [v.vis for v in done if v.vis is not None]
        _formats.write_vis(vis, extra.get("categories"), Path(dst))
    rep = ConvertReport(str(src), str(dst), fmt, to, skipped=len(skipped))
    for v in done:
        rep.converted += 1
        rep.frames += v.frames
        rep.objects += v.objects
        rep.overlapped_pixels += v.overlapped
        if v.overlapped:
            rep.overlaps[v.video] = v.overlapped
    rep.seconds = time.perf_counter() - t0
    return rep
