"""What the dataset protocols (youtube-vos, mose, mosev2, lvos, sparse) share: reading frame pairs
in bounded chunks, DAVIS J/F per object, the result object and its files."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastmask._fastmask import EvaluationError
from fastmask.datasets._base import Video
from fastmask.evaluation import _diagnose as dx
from fastmask.evaluation import _engine
from fastmask.evaluation._discover import Job, Plan
from fastmask.png import png_info, read_pngs

#: Frames decoded at once per video. Measured on benches/bench_datasets.py's LVOS set (2 videos
#: x 300 frames, 854x480): peak RSS 72 MB with 16, 109 MB with 32, 193 MB with 64 (the metrics
#: core's per-frame scratch grows with the batch), wall time the same within noise (0.45-0.65 s);
#: 8 was slower (0.84 s).
CHUNK = 16


@dataclass
class ObjectResult:
    """One object's per-frame scores. ``J`` and ``F``: ``(T,)`` float64 over ``frames``;
    ``stats``: the protocol's per-object numbers; ``info``: category, seen, ..."""

    sequence: str
    object: int
    name: str
    frames: list[str]
    J: NDArray[np.float64]
    F: NDArray[np.float64]
    stats: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


class DatasetEvaluation:
    """The result of a dataset protocol.

    - ``objects``: list of :class:`ObjectResult` (per-frame J and F, per-object ``stats``);
    - ``global_scores``: the protocol's headline numbers (fractions, not percent);
    - ``per_object()``: column dict (``pandas.DataFrame(ev.per_object())``);
    - ``files()`` / ``write(folder)``: the files the protocol's tool writes;
    - ``missing``: result frames that were absent and scored as empty (``allow_missing``);
    - ``timings``: ``{"total": seconds}``; ``n_sequences``, ``n_frames``: what was scored.
    """

    def __init__(
        self,
        protocol: str,
        objects: list[ObjectResult],
        global_scores: dict[str, float],
        files: Callable[[], dict[str, str]],
        *,
        options: dict[str, Any] | None = None,
        missing: int = 0,
        seconds: float = 0.0,
    ) -> None:
        self.protocol = protocol
        self.objects = objects
        self.global_scores = global_scores
        self._files = files
        self.options = options or {}
        self.missing = missing
        self.timings = {"total": seconds}
        #: videos with at least one scored object, and distinct (video, frame) pairs scored
        self.n_sequences = len({o.sequence for o in objects})
        self.n_frames = len({(o.sequence, f) for o in objects for f in o.frames})

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={v:.3f}" for k, v in list(self.global_scores.items())[:4])
        return f"DatasetEvaluation(protocol={self.protocol!r}, objects={len(self.objects)}, {head})"

    def per_object(self) -> dict[str, list[Any]]:
        """One row per object: sequence, object, name, info fields, then the stats."""
        cols: dict[str, list[Any]] = {"sequence": [], "object": [], "name": []}
        info_keys = sorted({k for o in self.objects for k in o.info})
        stat_keys = list(dict.fromkeys(k for o in self.objects for k in o.stats))
        for k in (*info_keys, *stat_keys):
            cols[k] = []
        for o in self.objects:
            cols["sequence"].append(o.sequence)
            cols["object"].append(o.object)
            cols["name"].append(o.name)
            for k in info_keys:
                cols[k].append(o.info.get(k))
            for k in stat_keys:
                cols[k].append(o.stats.get(k))
        return cols

    def files(self) -> dict[str, str]:
        """File name -> text of the protocol's output files."""
        return self._files()

    def write(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write :meth:`files` into ``folder`` (each file atomically); returns their paths."""
        out = []
        for name, text in self.files().items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", newline="") as fh:
                    fh.write(text)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
            out.append(path)
        return out

    def report(self) -> str:
        """The global numbers, one per line."""
        width = max((len(k) for k in self.global_scores), default=0)
        return "\n".join(f"{k:<{width}}  {v:.4f}" for k, v in self.global_scores.items())


def select(names: Sequence[str], sequences: Iterable[str] | None) -> list[str]:
    """The videos to score: all of ``names``, or those also in ``sequences``, in dataset order."""
    if sequences is None:
        return list(names)
    wanted = set(sequences)
    return [n for n in names if n in wanted]


def nanmean(values: Sequence[float]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return float(np.mean(np.asarray(values, np.float64)))


def fmt3(x: float) -> str:
    """pandas ``to_csv(float_format="%.3f")``: NaN as an empty field."""
    return "" if np.isnan(x) else "%.3f" % x  # noqa: UP031


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def result_paths(
    results: Path, video: str, frames: Sequence[str], allow_missing: bool
) -> tuple[list[Path | None], int]:
    """``results/<video>/<frame>.png`` for each frame; a missing one raises
    ``EvaluationError`` naming it, or is ``None`` with ``allow_missing``."""
    folder = results / video
    have = set(os.listdir(folder)) if folder.is_dir() else set()
    out: list[Path | None] = []
    missing = []
    for f in frames:
        if f"{f}.png" in have:
            out.append(folder / f"{f}.png")
        else:
            out.append(None)
            missing.append(f)
    if missing and not allow_missing:
        shown = ", ".join(f"{m}.png" for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        where = folder if folder.is_dir() else f"{folder} (folder missing)"
        raise EvaluationError(
            f"{where}: {len(missing)} result frame(s) of video {video!r} missing: {shown}{more} "
            "(allow_missing=True scores them as empty masks)"
            + dx.hint("", dx.results_hint(results, video, [f"{m}.png" for m in frames]))
        )
    return out, len(missing)


def read_pairs(
    gt_paths: Sequence[Path],
    pred_paths: Sequence[Path | None],
    threads: int | None,
    video: str,
) -> Iterator[tuple[int, NDArray[np.uint8], NDArray[np.uint8]]]:
    """``(start, gt, pred)`` chunks of at most :data:`CHUNK` frames, ``(n, H, W) uint8`` each;
    a missing prediction is an empty mask. Sizes must agree (a rotated prediction is named)."""
    for start in range(0, len(gt_paths), CHUNK):
        gp = list(gt_paths[start : start + CHUNK])
        pp = list(pred_paths[start : start + CHUNK])
        gt = read_pngs(gp, threads=threads)
        present = [i for i, p in enumerate(pp) if p is not None]
        pred = np.zeros_like(gt) if len(present) < len(pp) else gt[:0]
        if present:
            paths = [pp[i] for i in present]
            try:
                got = read_pngs(paths, threads=threads)  # type: ignore[arg-type]
                failure: Exception | None = None
            except ValueError as e:
                got, failure = None, e
            if got is None or got.shape[1:] != gt.shape[1:]:
                _check_sizes(paths, [gp[i] for i in present], gt.shape[1:])  # type: ignore[arg-type]
                if failure is not None:
                    raise failure
            assert got is not None
            if len(present) == len(pp):
                pred = got
            else:
                pred[present] = got
        yield start, gt, pred


def score_frames(
    video: Video,
    results: Path,
    frames: Sequence[str],
    ids: Sequence[int],
    allow_missing: bool,
    threads: int | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """DAVIS J and F of objects ``ids`` on ``frames`` of ``video`` against
    ``results/<video>/<frame>.png``: ``(J, F, missing)``, J and F ``(len(frames), len(ids))``,
    ``missing`` the number of absent result frames (scored as empty masks).

    One job of the compiled streaming engine (the one the DAVIS protocols use): frames are
    decoded and scored in Rust, spread over ``threads``, one frame per worker in memory."""
    pred, missing = result_paths(results, video.name, frames, allow_missing)
    shape = (len(frames), len(ids))
    if not frames or not ids:
        return np.zeros(shape), np.zeros(shape), missing
    job = Job(
        sequence=video.name,
        obj=None,
        frames=list(frames),
        gt=[str(video.mask_path(f)) for f in frames],
        pred=[None if p is None else str(p) for p in pred],
        objects=list(ids),
    )
    (scores,), _ = _engine.run(Plan("dataset", [job], same_size=True), threads, 0.008)
    col = {(int(a), int(b)): c for c, (a, b) in enumerate(scores.pairs)}
    cols = [col[(k, k)] for k in ids]
    return scores.J[:, cols].astype(np.float64), scores.F[:, cols].astype(np.float64), missing


def _check_sizes(preds: list[Path], gts: list[Path], shape: tuple[int, ...]) -> None:
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


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0


def davis_jf(
    gt: NDArray[np.uint8],
    pred: NDArray[np.uint8],
    ids: Sequence[int],
    threads: int | None,
    bound_th: float = 0.008,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """DAVIS J and F of objects ``ids`` (``gt == k`` vs ``pred == k``): ``(T, len(ids))`` each."""
    from fastmask import metrics

    if not ids:
        z = np.zeros((len(gt), 0))
        return z, z.copy()
    j, f = metrics.per_object(gt, pred, ids=list(ids), bound_th=bound_th, threads=threads)
    return np.asarray(j, np.float64).reshape(len(gt), -1), np.asarray(f, np.float64).reshape(
        len(gt), -1
    )
