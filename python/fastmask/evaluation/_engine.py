"""Drive the compiled engine (``_fastmask._eval_sequences``) over a list of frame jobs.

The engine decodes each scored frame pair and computes J and F for the pairs of labels the rule
asks for, with the GIL released, frames of all jobs in a batch spread over ``threads``. It returns
per job: ``pairs`` (P, 2) uint8 (gt label, result label; result label 0 is "an empty result mask"),
``J`` and ``F`` (T, P) float64 with NaN where a pair was not computed on a frame (a dynamic label
absent from both masks there), ``gt_present`` / ``pred_present`` (T, 256) bool (raw values seen,
before binarising), and ``shapes`` (T, 2). The protocols turn these into per-object series.
While it runs, the calling thread wakes every 50 ms to run Python's signal handlers: Ctrl-C
stops it within that and one frame per worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastmask import _fastmask
from fastmask.png import _NO_LIMIT

#: Label value DAVIS uses for "void" (ignored) pixels.
VOID = 255


@dataclass
class FrameJob:
    """The frames of one scored unit (a sequence, or an SA-V object) for the engine."""

    gt: list[str]
    pred: list[str | None]  # None: missing result, scored as an empty mask
    objects: list[int] = field(default_factory=list)
    max_pred_label: int = 255


@dataclass(frozen=True)
class Rule:
    """How the engine picks label pairs (see ``src/eval/mod.rs``)."""

    dynamic: bool = False  # also score every label seen in the frame (vos-benchmark)
    cross: bool = False  # gt objects x proposals (DAVIS unsupervised)
    void: int | None = None
    binarize: bool = False
    same_size: bool = False

    def pairing(self) -> dict[str, Any]:
        """The keyword arguments both engine entries take for this rule's label pairs."""
        return {
            "dynamic": self.dynamic,
            "cross": self.cross,
            "void": self.void,
            "binarize": self.binarize,
        }


@dataclass
class JobScores:
    pairs: np.ndarray
    J: np.ndarray
    F: np.ndarray
    gt_present: np.ndarray
    pred_present: np.ndarray
    shapes: np.ndarray

    def column(self, pair: tuple[int, int]) -> int | None:
        hit = np.flatnonzero((self.pairs[:, 0] == pair[0]) & (self.pairs[:, 1] == pair[1]))
        return int(hit[0]) if hit.size else None


STAGES = ("decode", "J", "F")

#: Frames per engine call (``run``, and the videos ``_plan.run_jobs`` gathers for one call):
#: each call waits for its slowest frame, so larger batches idle the threads less often, and
#: smaller ones move a progress bar more often (128: about 15 steps over DAVIS-2017 val). The
#: figure is a choice, not a measured optimum.
BATCH_FRAMES = 128


def read_labels(
    path: str, max_pixels: int = _NO_LIMIT, colormap: bytes | None = None
) -> np.ndarray:
    """The label map of one PNG (palette indices, gray values, or RGB colours mapped through
    ``colormap``, default the DAVIS palette), as the engine reads it."""
    return np.asarray(_fastmask._read_labels(path, colormap, max_pixels))


def run(
    jobs: Sequence[FrameJob],
    rule: Rule,
    *,
    threads: int | None,
    bound_th: float,
    max_pixels: int,
    timings: dict[str, float],
    colormap: bytes | None = None,
) -> list[JobScores]:
    """Score every job; adds the per-stage thread seconds to ``timings``. ``colormap``: the
    colours RGB(A) masks are read with (3 bytes per label; None: the DAVIS palette)."""
    out: list[JobScores] = []
    start = 0
    while start < len(jobs):
        stop, frames = start, 0
        while stop < len(jobs) and (frames < BATCH_FRAMES or stop == start):
            frames += len(jobs[stop].gt)
            stop += 1
        batch = jobs[start:stop]
        scores, stage = _fastmask._eval_sequences(
            [j.gt for j in batch],
            [j.pred for j in batch],
            [j.objects for j in batch],
            [j.max_pred_label for j in batch],
            **rule.pairing(),
            same_size=rule.same_size,
            bound_th=bound_th,
            threads=threads,
            max_pixels=max_pixels,
            colormap=colormap,
        )
        for s in scores:
            out.append(JobScores(*s))
        for k in STAGES:
            timings[k] = timings.get(k, 0.0) + stage.get(k, 0.0)
        start = stop
    return out


def run_frames(
    gt: Sequence[str],
    pred: Sequence[np.ndarray],
    names: Sequence[str],
    jobs: Sequence[FrameJob],
    rule: Rule,
    *,
    threads: int | None,
    bound_th: float,
    max_pixels: int,
    colormap: bytes | None = None,
) -> tuple[list[Any], dict[str, float]]:
    """Score single frames (``_fastmask._eval_frames``): ground truth ``gt[i]`` read from its
    PNG, result ``pred[i]`` an in-memory label map (``names[i]`` names it in errors), label
    pairs from ``jobs[i]`` (its objects and ``max_pred_label``) and ``rule``. Returns the
    per-frame score tuples and the per-stage thread seconds."""
    return _fastmask._eval_frames(
        gt,
        pred,
        names,
        [j.objects for j in jobs],
        [j.max_pred_label for j in jobs],
        **rule.pairing(),
        bound_th=bound_th,
        threads=threads,
        colormap=colormap,
        max_pixels=max_pixels,
    )
