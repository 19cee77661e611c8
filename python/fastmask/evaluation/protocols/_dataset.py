"""What the dataset protocols (youtube-vos, mose, mosev2, lvos, sparse) share: their option
rules, the engine job of one video's frames, and frame pairs read in bounded chunks.

Measured with ``benches/bench_datasets.py`` (854x480 masks, a 2-core machine shared with other
jobs; the references run the official steps in one process): LVOS, 2 videos x 300 annotated
frames: 0.18 s vs 5.4 s (30x), peak RSS 59 MB vs 133 MB; YouTube-VOS, 100 videos x 9 frames:
0.28 s vs 7.6 s (27x), 45 MB vs 142 MB; MOSE v2, 6 videos x 40 frames: 0.41 s vs 3.6 s (8.8x),
87 MB vs 188 MB."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastmask._fastmask import EvaluationError
from fastmask.datasets._base import Video
from fastmask.evaluation._engine import FrameJob, Rule
from fastmask.evaluation._jobs import Job
from fastmask.evaluation.protocols._base import Protocol, Work, result_frames
from fastmask.png import png_info, read_pngs

#: Frames decoded at once per video by ``read_pairs`` (MOSE v2's numpy scoring, its only user
#: now). Chosen when LVOS still scored through ``read_pairs`` (it has used the engine since),
#: on benches/bench_datasets.py's LVOS set (2 videos x 300 frames, 854x480): peak RSS 72 MB
#: with 16, 109 MB with 32, 193 MB with 64, wall time the same within noise (0.45-0.65 s); 8
#: was slower (0.84 s). Not measured again on MOSE v2 data.
CHUNK = 16


class DatasetProtocol(Protocol):
    """A dataset protocol: semi-supervised only, its tool's boundary rule, exact decay bins."""

    default_decay = "exact"
    table_report = False

    def configure(self, common: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        if common["task"] != "semi-supervised":
            raise ValueError(
                f"protocol {self.name!r} has only the semi-supervised task, got {common['task']!r}"
            )
        return super().configure(common, options)

    def video(self, job: Job) -> Video:
        """The job's video, decoding with the job's pixel limit."""
        video: Video = job.data if isinstance(job.data, Video) else job.data[0]
        video.max_pixels = job.settings.max_pixels
        return video

    def engine_job(
        self, job: Job, video: Video, frames: Sequence[str], ids: Sequence[int]
    ) -> tuple[Work, int]:
        """``Work`` scoring objects ``ids`` (``gt == k`` vs ``result == k``, DAVIS J and F) on
        ``frames`` of ``video`` against ``results/<video>/<frame>.png``, and the number of
        missing result frames (scored as empty masks)."""
        s = job.settings
        pred, missing = result_frames(
            Path(s.results),
            video.name,
            [f"{f}.png" for f in frames],
            s.allow_missing,
            video.name,
            kind="video",
            folder_required=False,
        )
        work = Work(rule=Rule(same_size=True))
        if frames and ids:
            gt = video.mask_files(frames)
            work.frame_jobs.append(FrameJob(gt=gt, pred=pred, objects=list(ids)))
        return work, missing


def read_pairs(
    gt_paths: Sequence[Path],
    pred_paths: Sequence[str | None],
    threads: int,
    max_pixels: int,
) -> Iterator[tuple[NDArray[np.uint8], NDArray[np.uint8]]]:
    """``(gt, pred)`` chunks of at most :data:`CHUNK` frames, ``(n, H, W) uint8`` each;
    a missing prediction is an empty mask. Sizes must agree (a rotated prediction is named)."""
    for start in range(0, len(gt_paths), CHUNK):
        gp = list(gt_paths[start : start + CHUNK])
        pp = list(pred_paths[start : start + CHUNK])
        gt = read_pngs(gp, threads=threads, max_pixels=max_pixels)
        present = [i for i, p in enumerate(pp) if p is not None]
        pred = np.zeros_like(gt) if len(present) < len(pp) else gt[:0]
        if present:
            paths = [Path(pp[i]) for i in present]  # type: ignore[arg-type]
            try:
                got = read_pngs(paths, threads=threads, max_pixels=max_pixels)
                failure: Exception | None = None
            except ValueError as e:
                got, failure = None, e
            if got is None or got.shape[1:] != gt.shape[1:]:
                check_sizes(paths, [gp[i] for i in present], gt.shape[1:])
                if failure is not None:
                    raise failure
            assert got is not None
            if len(present) == len(pp):
                pred = got
            else:
                pred[present] = got
        yield gt, pred


def check_sizes(preds: list[Path], gts: list[Path], shape: tuple[int, ...]) -> None:
    """Raise ``EvaluationError`` naming the first result whose size differs from the ground
    truth's (and saying so when it is the ground truth rotated by 90 degrees)."""
    h, w = shape
    for p, g in zip(preds, gts):
        info = png_info(p)
        if (info.height, info.width) != (h, w):
            rotated = (info.width, info.height) == (h, w)
            raise EvaluationError(
                f"{p}: result is {info.width}x{info.height} (width x height), the ground truth "
                f"{g} is {w}x{h}"
                + (
                    "; the result looks rotated by 90 degrees (portrait video decoded without "
                    "its rotation?)"
                    if rotated
                    else ""
                )
            )
