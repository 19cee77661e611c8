"""The picklable pieces of a planned evaluation: ``Settings`` (every option a worker needs),
``Job`` (one video) and ``Partial`` (the scores of one job). Nothing here reads a module
global: a Dask or Ray worker scores a job exactly as the client would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastmask.evaluation._result import ObjectScore
from fastmask.png import _NO_LIMIT

if TYPE_CHECKING:
    from fastmask.evaluation.protocols._base import Scored


@dataclass(frozen=True)
class Settings:
    """The options of one evaluation, shared by all its jobs.

    ``max_pixels``: the decoders' pixel limit (``fastmask.get_max_pixels()`` when the plan was
    made, unless ``max_pixels=`` was given; ``2**64 - 1`` for no limit). ``options``: the
    protocol's own options, already checked and normalised. ``colormap``: the colours of
    masks saved as RGB(A) pictures, 3 bytes per label (label i = colour i; ``None``: the DAVIS
    palette); it travels with every job like ``max_pixels``.
    """

    protocol: str
    gt: str
    results: str
    allow_missing: bool = False
    bound_th: float = 0.008
    decay: str = "davis"
    max_pixels: int = _NO_LIMIT
    colormap: bytes | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Job:
    """One video to score: its position in the plan, its name, the evaluation's settings and
    what planning found out about it (``data``, the protocol's own)."""

    index: int
    sequence: str
    settings: Settings
    data: Any = None

    def __repr__(self) -> str:
        return f"Job({self.index}, {self.sequence!r}, protocol={self.settings.protocol!r})"


@dataclass
class Partial:
    """The scores of one job: its objects, the frames scored, missing result frames scored as
    empty, whether the video counts in ``n_sequences``, and per-stage seconds."""

    index: int
    sequence: str
    objects: list[ObjectScore]
    n_frames: int = 0
    missing: int = 0
    counted: bool = True
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_scored(
        cls, job: Job, scored: Scored, timings: dict[str, float], missing: int | None = None
    ) -> Partial:
        """The partial of ``job`` from what its protocol's ``finish`` returned (``missing``:
        a count the caller kept itself; default ``scored.missing``)."""
        return cls(
            job.index,
            job.sequence,
            scored.objects,
            scored.n_frames,
            scored.missing if missing is None else missing,
            scored.counted,
            timings,
        )
