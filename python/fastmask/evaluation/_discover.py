"""Find the frames each protocol scores: one ``Job`` per scored unit (a sequence, or an SA-V
object), with the rules of the protocol's reference tool. No pixels are read here except the
first ground-truth frame of a DAVIS sequence (its maximum label is the object count)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastmask._fastmask import EvaluationError
from fastmask.evaluation import _diagnose as dx

#: Label value DAVIS uses for "void" (ignored) pixels.
VOID = 255
#: DAVIS-2017 unsupervised: at most this many proposals (result labels 1..20).
MAX_PROPOSALS = 20


@dataclass
class Job:
    """One scored unit and the rule it is scored with (see ``_engine.run``)."""

    sequence: str
    obj: str | None  # SA-V object folder; None for a whole sequence
    frames: list[str]  # frame names (file stems) of the scored frames
    gt: list[str]
    pred: list[str | None]  # None: missing result, scored as an empty mask
    objects: list[int] = field(default_factory=list)
    max_pred_label: int = 255
    missing: int = 0


@dataclass
class Plan:
    protocol: str
    jobs: list[Job]
    # engine rule, shared by every job of a protocol
    dynamic: bool = False  # also score every label seen in the frame (vos-benchmark)
    cross: bool = False  # gt objects x proposals (DAVIS unsupervised)
    void: int | None = None
    binarize: bool = False
    same_size: bool = False
    n_objects: dict[str, int] = field(default_factory=dict)  # DAVIS: N per sequence
    colormap: bytes | None = None  # colours of RGB masks, label i = colour i (None: DAVIS)


def _not_found(what: str, path: Path, hint: str = "") -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, f"{what} not found" + (hint and f" ({hint})"), str(path))


def _pngs(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.lower().endswith(".png"))


def _results_for(
    results: Path, seq_dir: str, names: list[str], allow_missing: bool, sequence: str
) -> tuple[list[str | None], int]:
    """Result paths for the ground-truth frame names; missing ones raise unless allowed."""
    folder = results / seq_dir
    present = set(os.listdir(folder)) if folder.is_dir() else set()
    if not folder.is_dir() and not allow_missing:
        raise _not_found(
            f"result folder of sequence {sequence!r}",
            folder,
            dx.results_hint(results, seq_dir, names),
        )
    out: list[str | None] = []
    missing = []
    for n in names:
        if n in present:
            out.append(str(folder / n))
        else:
            out.append(None)
            missing.append(n)
    if missing and not allow_missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise EvaluationError(
            f"{folder}: {len(missing)} result frame(s) of sequence {sequence!r} missing: {shown} "
            "(every scored ground-truth frame needs a result PNG of the same name; "
            "allow_missing=True / --allow-missing scores missing frames as empty masks)"
            + dx.hint("", dx.results_hint(results, seq_dir, names))
        )
    return out, len(missing)


def read_sequence_list(path: Path, hint: Callable[[], str] = str) -> list[str]:
    """Names of an ImageSets list; ``hint()`` (a diagnosis, run only on failure) is appended
    to the error when the file is missing."""
    if not path.is_file():
        raise _not_found("sequence list", path, hint())
    names = [line.strip() for line in path.read_text().splitlines()]
    return [n for n in names if n]


def _davis_2016_list(root: Path, subset: str) -> list[str]:
    """``ImageSets/2016/<set>.txt`` (names, as shipped with DAVIS 2017) or the DAVIS-2016 layout
    ``ImageSets/480p/<set>.txt`` (image / annotation path pairs)."""
    names_file = root / "ImageSets" / "2016" / f"{subset}.txt"
    pairs_file = root / "ImageSets" / "480p" / f"{subset}.txt"
    if names_file.is_file() or not pairs_file.is_file():
        return read_sequence_list(names_file, lambda: dx.davis_root_hint(root, subset))
    seqs: list[str] = []
    for line in pairs_file.read_text().splitlines():
        parts = line.split()
        if parts:
            seq = Path(parts[-1]).parent.name
            if seq not in seqs:
                seqs.append(seq)
    return seqs


def _max_label_first_frame(path: str) -> int:
    from fastmask.evaluation._engine import read_labels

    labels = read_labels(path)
    labels = labels[labels != VOID]
    return int(labels.max()) if labels.size else 0


def plan_davis(
    gt: Path,
    results: Path,
    *,
    subset: str,
    task: str,
    resolution: str,
    binary: bool,
    sequences: list[str] | None,
    allow_missing: bool,
) -> Plan:
    """davis2017 (``binary=False``) and davis2016 (``binary=True``) dataset discovery."""
    if task not in ("semi-supervised", "unsupervised"):
        raise ValueError(f"task must be 'semi-supervised' or 'unsupervised', got {task!r}")
    unsupervised = task == "unsupervised"
    if binary and unsupervised:
        raise ValueError("davis2016 has only the semi-supervised task")
    if not gt.is_dir():
        raise _not_found("DAVIS root", gt, dx.davis_root_hint(gt, subset, resolution))
    if binary:
        names = _davis_2016_list(gt, subset)
    else:
        year = "2019" if unsupervised and subset in ("test-dev", "test-challenge") else "2017"
        names = read_sequence_list(
            gt / "ImageSets" / year / f"{subset}.txt",
            lambda: dx.davis_root_hint(gt, subset, resolution),
        )
    if sequences is not None:
        unknown = [s for s in sequences if s not in names]
        if unknown:
            raise EvaluationError(f"sequences not in the {subset!r} set: {', '.join(unknown)}")
        names = [s for s in names if s in sequences]
    ann = gt / ("Annotations_unsupervised" if unsupervised else "Annotations") / resolution
    if not ann.is_dir():
        raise _not_found(
            f"{task} annotations folder", ann, dx.davis_root_hint(gt, subset, resolution, task)
        )
    plan = Plan(
        protocol="davis2016" if binary else "davis2017",
        jobs=[],
        cross=unsupervised,
        void=VOID if unsupervised else None,
        binarize=binary,
        same_size=True,
    )
    found = []
    for seq in names:
        folder = ann / seq
        if not folder.is_dir():
            raise _not_found(f"ground-truth folder of sequence {seq!r}", folder)
        frames = _pngs(folder)
        if not frames:
            raise EvaluationError(f"{folder}: no ground-truth PNG frames")
        scored = frames if unsupervised else frames[1:-1]
        if not scored:
            raise EvaluationError(
                f"{folder}: {len(frames)} ground-truth frame(s); semi-supervised evaluation scores "
                "frames 1..T-2 (the first and the last are dropped), which leaves none"
            )
        pred, missing = _results_for(results, seq, scored, allow_missing, seq)
        found.append((seq, folder, frames, scored, pred, missing))
    if sequences is None:
        dx.warn_extra(results, names)
    # Every file is known to exist before the first pixel is read.
    for seq, folder, frames, scored, pred, missing in found:
        n = 1 if binary else _max_label_first_frame(str(folder / frames[0]))
        plan.n_objects[seq] = n
        plan.jobs.append(
            Job(
                sequence=seq,
                obj=None,
                frames=[Path(f).stem for f in scored],
                gt=[str(folder / f) for f in scored],
                pred=pred,
                objects=list(range(1, n + 1)),
                max_pred_label=MAX_PROPOSALS if unsupervised else (255 if binary else n),
                missing=missing,
            )
        )
    return plan


def _video_dirs(root: Path, sequences: list[str] | None) -> list[str]:
    if not root.is_dir():
        raise _not_found("ground-truth folder", root, dx.folder_root_hint(root))
    videos = sorted(n for n in os.listdir(root) if (root / n).is_dir())
    if not videos:
        raise EvaluationError(f"{root}: no video folders" + dx.hint("", dx.folder_root_hint(root)))
    if sequences is not None:
        unknown = [s for s in sequences if s not in videos]
        if unknown:
            raise EvaluationError(f"{root}: no ground-truth folder for {', '.join(unknown)}")
        videos = [v for v in videos if v in sequences]
    return videos


def _vos_root(gt: Path) -> Path:
    # Like vos-benchmark: a DAVIS root passed instead of its Annotations folder is followed.
    ann = gt / "Annotations"
    if (
        ann.is_dir()
        and not _pngs(ann)
        and not any(
            _pngs(gt / n) for n in os.listdir(gt) if (gt / n).is_dir() and n != "Annotations"
        )
    ):
        return ann
    return gt


def _frames_job(
    gt_dir: Path,
    results: Path,
    rel: str,
    sequence: str,
    obj: str | None,
    names: list[str],
    skip_first_and_last: bool,
    allow_missing: bool,
) -> Job:
    scored = names[1:-1] if skip_first_and_last else names
    pred, missing = _results_for(results, rel, scored, allow_missing, sequence)
    return Job(
        sequence=sequence,
        obj=obj,
        frames=[Path(f).stem for f in scored],
        gt=[str(gt_dir / f) for f in scored],
        pred=pred,
        missing=missing,
    )


def plan_vos(
    gt: Path,
    results: Path,
    *,
    skip_first_and_last: bool,
    sequences: list[str] | None,
    allow_missing: bool,
) -> Plan:
    """vos-benchmark: ``<gt>/<video>/<frame>.png`` label maps."""
    gt = _vos_root(gt)
    plan = Plan(protocol="vos-benchmark", jobs=[], dynamic=True)
    if sequences is None:
        dx.warn_extra(results, _video_dirs(gt, None))
    for vid in _video_dirs(gt, sequences):
        names = _pngs(gt / vid)
        plan.jobs.append(
            _frames_job(
                gt / vid, results, vid, vid, None, names, skip_first_and_last, allow_missing
            )
        )
    return plan


def plan_sav(
    gt: Path,
    results: Path,
    *,
    skip_first_and_last: bool,
    sequences: list[str] | None,
    allow_missing: bool,
) -> tuple[Plan, Plan]:
    """SA-V: ``<gt>/<video>/<obj>/<frame>.png`` binary masks, one folder per object; a video
    folder holding only PNGs is scored like vos-benchmark (as the SA-V evaluator does).
    Returns the per-object plan (binarised) and the plan of label-map videos."""
    objects = Plan(protocol="sav", jobs=[], dynamic=True, binarize=True)
    label_maps = Plan(protocol="sav", jobs=[], dynamic=True)
    if sequences is None:
        dx.warn_extra(results, _video_dirs(gt, None))
    for vid in _video_dirs(gt, sequences):
        entries = sorted(os.listdir(gt / vid))
        if all(e.endswith(".png") for e in entries):
            label_maps.jobs.append(
                _frames_job(
                    gt / vid, results, vid, vid, None, entries, skip_first_and_last, allow_missing
                )
            )
            continue
        for obj in entries:
            if not (gt / vid / obj).is_dir():
                raise EvaluationError(
                    f"{gt / vid / obj}: SA-V layout expects only object folders "
                    f"(<video>/<obj>/<frame>.png) in a video folder, found a file"
                )
            names = sorted(os.listdir(gt / vid / obj))
            objects.jobs.append(
                _frames_job(
                    gt / vid / obj,
                    results,
                    f"{vid}/{obj}",
                    vid,
                    obj,
                    names,
                    skip_first_and_last,
                    allow_missing,
                )
            )
    return objects, label_maps
