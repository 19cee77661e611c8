"""The ``Protocol`` base class and the discovery helpers the protocols share."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fastmask._fastmask import EvaluationError
from fastmask.datasets._base import read_list
from fastmask.evaluation import _diagnose as dx
from fastmask.evaluation._engine import FrameJob, JobScores, Rule
from fastmask.evaluation._jobs import Job, Settings
from fastmask.evaluation._result import (
    Evaluation,
    ObjectScore,
    davis_files,
    davis_global,
    davis_table_report,
    list_report,
)


@dataclass
class Work:
    """What a protocol asks the shared engine to score for one job (``frame_jobs`` with
    ``rule``), and whatever it wants back in :meth:`Protocol.finish` (``state``)."""

    frame_jobs: list[FrameJob] = field(default_factory=list)
    rule: Rule = field(default_factory=Rule)
    state: Any = None


@dataclass
class Scored:
    """What :meth:`Protocol.finish` returns for one job."""

    objects: list[ObjectScore]
    n_frames: int
    missing: int = 0
    counted: bool = True


class Protocol:
    """The rules of one protocol. Subclasses set the class attributes and implement
    :meth:`configure`, :meth:`discover`, :meth:`prepare` and :meth:`finish`; the defaults of
    :meth:`global_scores`, :meth:`files` and :meth:`report` are davis2017-evaluation's."""

    #: the ``protocol=`` name
    name: ClassVar[str] = ""
    #: the ``task=`` values it has
    tasks: ClassVar[tuple[str, ...]] = ("semi-supervised",)
    #: its own keyword options (``fastmask.evaluate(..., **options)``) and their defaults
    keywords: ClassVar[dict[str, Any]] = {}
    #: the decay bins when ``decay=None``
    default_decay: ClassVar[str] = "davis"
    #: whether ``bound_th`` may change (the dataset protocols fix their tool's)
    takes_bound_th: ClassVar[bool] = False
    #: whether ``allow_missing=True`` is available
    takes_allow_missing: ClassVar[bool] = True
    #: ``per_object()`` has a J&F-Mean column
    jf_column: ClassVar[bool] = False
    #: ``report()`` is the DAVIS table (else the global numbers one per line)
    table_report: ClassVar[bool] = True
    #: whether ``colormap=`` is available (the engine reads its label maps)
    takes_colormap: ClassVar[bool] = False
    #: ``finish`` scores the result PNGs itself (its tool reads files; ``prepare`` gives no
    #: frame jobs): the streaming ``Evaluator`` writes every added frame and scores none
    scores_from_files: ClassVar[bool] = False
    #: with a binarising rule, each object's results are in a folder of their own (SA-V)
    object_folders: ClassVar[bool] = False

    def configure(self, common: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """Check the options; return the protocol's own (``Settings.options``). ``common``:
        task, subset, resolution, skip_first_and_last (what ``fastmask.evaluate`` takes for
        every protocol). The default: only ``keywords``, unknown names are a TypeError."""
        unknown = [k for k in options if k not in self.keywords]
        if unknown:
            raise TypeError(f"unexpected options for protocol {self.name!r}: {', '.join(unknown)}")
        return {**self.keywords, **options}

    def public_options(self, settings: Settings) -> dict[str, Any]:
        """``Evaluation.options``: what the summary and the files name."""
        return dict(settings.options)

    def discover(self, settings: Settings, sequences: list[str] | None) -> list[tuple[str, Any]]:
        """``(sequence, data)`` for every video to score, in the tool's order. Reads the
        sequence list (ImageSets, meta.json, one listing of the root); per-frame listing
        belongs in :meth:`prepare`, which runs in the worker."""
        raise NotImplementedError

    def prepare(self, job: Job) -> Work:
        """List the job's frames, check its result files; say what the engine scores."""
        raise NotImplementedError

    def finish(self, job: Job, work: Work, scores: list[JobScores], threads: int) -> Scored:
        """Per-object series and statistics from the engine's scores."""
        raise NotImplementedError

    def global_scores(self, ev: Evaluation) -> dict[str, float]:
        return davis_global(ev.objects)

    def files(self, ev: Evaluation) -> dict[str, str]:
        return davis_files(ev.objects, str(ev.options.get("subset", "val")))

    def report(self, ev: Evaluation, worst: int) -> str:
        return davis_table_report(ev, worst) if self.table_report else list_report(ev)


# ----- discovery helpers ------------------------------------------------------------------------


def not_found(what: str, path: Path, hint: str = "") -> FileNotFoundError:
    """``<what> not found`` for ``path``, with a diagnosis of the path mistake when there is
    one (``_diagnose``)."""
    return FileNotFoundError(errno.ENOENT, f"{what} not found" + (hint and f" ({hint})"), str(path))


def pngs(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.lower().endswith(".png"))


def subfolders(root: Path) -> list[str]:
    """Sorted names of the folders in ``root``: one directory read (the file types come with
    the listing on Linux filesystems: no stat per entry, which SA-V's 50,900 folders would
    each cost)."""
    with os.scandir(root) as it:
        return sorted(e.name for e in it if e.is_dir())


def read_sequence_list(path: Path, hint: Callable[[], str] = str) -> list[str]:
    """Names of an ImageSets list; ``hint()`` (a diagnosis, run only on failure) is appended
    to the error when the file is missing."""
    if not path.is_file():
        raise not_found("sequence list", path, hint())
    return read_list(path)


def nonempty(names: list[str], where: str | Path) -> list[str]:
    """An evaluation of nothing is an error, not NaN scores."""
    if not names:
        raise EvaluationError(
            f"{where}: no sequence to evaluate (the sequence list is empty, or sequences=[] / "
            "--sequences selected none)"
        )
    return names


def select(
    names: list[str],
    sequences: Sequence[str] | None,
    where: str | Path,
    missing: str = "sequences not found:",
) -> list[str]:
    """The videos to score: all of ``names``, or those in ``sequences``, in dataset order. A
    requested name that is not in ``names`` is an error (a typo must not shrink the set), worded
    ``"{where}: {missing} {names}"``."""
    if sequences is not None:
        have = set(names)
        unknown = [s for s in sequences if s not in have]
        if unknown:
            raise EvaluationError(f"{where}: {missing} {', '.join(unknown)}")
        wanted = set(sequences)
        names = [n for n in names if n in wanted]
    return nonempty(names, where)


def result_frames(
    results: Path,
    rel: str,
    files: Sequence[str],
    allow_missing: bool,
    sequence: str,
    *,
    kind: str = "sequence",
    folder_required: bool = True,
) -> tuple[list[str | None], int]:
    """``results/<rel>/<file>`` for each ground-truth file name (``None`` for a missing one,
    scored as an empty mask with ``allow_missing``, else an error naming the frames).
    ``folder_required``: a missing result folder is its own error (DAVIS family). Both errors
    say what the results folder holds instead, when that explains it (``_diagnose``)."""
    folder = results / rel
    is_dir = folder.is_dir()
    if not is_dir and folder_required and not allow_missing:
        raise not_found(
            f"result folder of {kind} {sequence!r}", folder, dx.results_hint(results, rel, files)
        )
    present = set(os.listdir(folder)) if is_dir else set()
    out: list[str | None] = []
    missing = []
    # String joins, not pathlib: pathlib was a fifth of the time of scoring small frames.
    base = os.path.join(str(folder), "")
    for n in files:
        if n in present:
            out.append(base + n)
        else:
            out.append(None)
            missing.append(n)
    if missing and not allow_missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        where = folder if is_dir else f"{folder} (folder missing)"
        raise EvaluationError(
            f"{where}: {len(missing)} result frame(s) of {kind} {sequence!r} missing: {shown} "
            "(every scored ground-truth frame needs a result PNG of the same name; "
            "allow_missing=True / --allow-missing scores missing frames as empty masks)"
            + dx.hint("", dx.results_hint(results, rel, files))
        )
    return out, len(missing)


def warn_extra(settings: Settings, names: Sequence[str], sequences: Sequence[str] | None) -> None:
    """Warn about result folders that match no ground-truth video (a wrong ``--set`` or misnamed
    folders), when every video is scored; one listing of the results folder."""
    if sequences is None:
        dx.warn_extra(Path(settings.results), names)


def diagonal(scores: JobScores, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """J and F of objects ``ids`` against the same result label: ``(T, len(ids))`` each."""
    col = {(int(a), int(b)): c for c, (a, b) in enumerate(scores.pairs)}
    cols = [col[(k, k)] for k in ids]
    return scores.J[:, cols].astype(np.float64), scores.F[:, cols].astype(np.float64)


def present_labels(row: np.ndarray) -> list[int]:
    """The non-zero labels a ``gt_present`` / ``pred_present`` row marks (ascending)."""
    return [int(k) for k in np.flatnonzero(row) if k != 0]
