"""Diagnose a wrong ground-truth or results path: look around the path given (one level up and
down, the DAVIS root above ``Annotations/480p``, other image extensions, unpadded frame names, an
empty or missing folder) and say what was found there and the argument that would work.

Every function is pure apart from listing folders: it returns a sentence (``""`` when it finds
nothing to say) that the raise sites in discovery append to their messages, e.g.::

    result folder of sequence 'bear' not found; results/osvos holds PNG frames
    (00000.png, 00001.png, ...), not sequence folders: it is one sequence's folder. Pass the
    folder above it: --results results (results="results" in Python)

The flags named are ``fastmask eval``'s (``--gt``, ``--results``, ``--set``, ``--resolution``,
``--protocol``); the keyword in parentheses is ``fastmask.evaluate``'s.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Extensions of image files a result may have been saved with by mistake.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".npy")
#: The folders of a DAVIS root (the ground truth of davis2017 / davis2016).
DAVIS_PARTS = ("Annotations", "Annotations_unsupervised", "JPEGImages", "ImageSets")
#: At most this many names are listed in a message.
SHOW = 4


def _ls(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _dirs(folder: Path) -> list[str]:
    """Sorted names of the folders in ``folder`` ([] when it cannot be read): one directory
    read, the entry types come with it (no stat per entry on Linux filesystems)."""
    try:
        with os.scandir(folder) as it:
            return sorted(e.name for e in it if e.is_dir())
    except OSError:
        return []


def _images(folder: Path) -> list[str]:
    return [n for n in _ls(folder) if n.lower().endswith(IMAGE_EXTENSIONS)]


def _shown(names: Sequence[str]) -> str:
    """``a, b, c, ...`` (at most ``SHOW`` names) and how many in all."""
    head = ", ".join(names[:SHOW])
    return f"{head} and {len(names) - SHOW} more" if len(names) > SHOW else head


def _use(flag: str, value: object, keyword: str | None = None) -> str:
    """The argument that would work, for the command line and for ``fastmask.evaluate``."""
    kw = keyword or flag
    return f"--{flag} {value} ({kw}={str(value)!r} in Python)"


def _is_davis_root(path: Path) -> bool:
    return (path / "ImageSets").is_dir() or (path / "Annotations").is_dir()


def _nearest_existing(path: Path) -> Path | None:
    for p in path.parents:
        if p.is_dir():
            return p
    return None


def _missing_path(path: Path, flag: str, keyword: str | None = None) -> str:
    """``path`` does not exist: name its deepest existing ancestor and close matches there."""
    anc = _nearest_existing(path)  # a relative path ends at Path("."): answers stay relative
    if anc is None:
        return ""
    rel = path.relative_to(anc)
    first = rel.parts[0] if rel.parts else ""
    entries = _ls(anc)
    close = difflib.get_close_matches(first, entries, n=3, cutoff=0.6)
    msg = f"{path} does not exist ({anc.absolute() if anc == Path() else anc} has no {first!r})"
    if close:
        guess = anc / close[0] / Path(*rel.parts[1:]) if len(rel.parts) > 1 else anc / close[0]
        msg += f"; did you mean {_use(flag, guess, keyword)}?"
    elif entries:
        msg += f"; it holds {_shown(entries)}"
    return msg


# --- ground truth --------------------------------------------------------------------------


def davis_root_hint(
    gt: Path, subset: str = "val", resolution: str = "480p", task: str = "semi-supervised"
) -> str:
    """What is wrong with ``gt`` as a DAVIS root (``ImageSets``, ``Annotations/<resolution>``),
    and the ``--gt`` / ``--set`` / ``--resolution`` that would work; ``""`` if nothing is found."""
    if not gt.exists():
        return _missing_path(gt, "gt")
    if not gt.is_dir():
        return f"{gt} is a file; --gt takes the DAVIS root folder (ImageSets/, Annotations/)"
    # Annotations/480p, Annotations, JPEGImages/480p...: the root is one or two levels up.
    for up in (gt.parent, gt.parent.parent):
        if _is_davis_root(up) and any(p in DAVIS_PARTS for p in gt.relative_to(up).parts):
            return (
                f"{gt} is the {gt.relative_to(up)} folder of the DAVIS root {up}; "
                f"pass the root itself: {_use('gt', up)}"
            )
    if not _is_davis_root(gt):
        below = [n for n in _dirs(gt) if _is_davis_root(gt / n)]
        if below:
            return (
                f"{gt} is not a DAVIS root but holds one: {gt / below[0]}; "
                f"pass {_use('gt', gt / below[0])}"
            )
        seqs = [n for n in _dirs(gt) if any(x.endswith(".png") for x in _ls(gt / n))]
        if seqs:
            return (
                f"{gt} has no ImageSets/ or Annotations/ but holds PNG sequence folders "
                f"({_shown(seqs)}); pass the DAVIS root above them, or score a folder of "
                "<video>/<frame>.png with --protocol vos-benchmark"
            )
        return f"{gt} has no ImageSets/ or Annotations/ (it holds {_shown(_ls(gt)) or 'nothing'})"
    sets = gt / "ImageSets"
    lists = sorted(
        f"{y}/{n[:-4]}" for y in _dirs(sets) for n in _ls(sets / y) if n.endswith(".txt")
    )
    if lists and not any(s.endswith(f"/{subset}") for s in lists):
        names = sorted({s.split("/")[1] for s in lists})
        close = difflib.get_close_matches(subset, names, n=1)
        todo = f"; did you mean --set {close[0]}?" if close else ""
        return f"{sets} has no {subset}.txt; sets found: {_shown(lists)}{todo}"
    if task == "unsupervised" and not (gt / "Annotations_unsupervised").is_dir():
        return (
            f"{gt} has no Annotations_unsupervised/, the ground truth of the unsupervised task "
            "(DAVIS-2017 Unsupervised is a separate download); for the semi-supervised task "
            "pass --task semi-supervised (task='semi-supervised' in Python)"
        )
    for ann in ("Annotations", "Annotations_unsupervised"):
        if (gt / ann).is_dir() and not (gt / ann / resolution).is_dir():
            res = _dirs(gt / ann)
            if res:
                return (
                    f"{gt / ann} has no {resolution}/ but {_shown(res)}; "
                    f"pass --resolution {res[0]} (resolution={res[0]!r} in Python)"
                )
    return ""


def folder_root_hint(gt: Path) -> str:
    """What is wrong with ``gt`` as a folder of ``<video>/<frame>.png`` (vos-benchmark, SA-V)."""
    if not gt.exists():
        return _missing_path(gt, "gt")
    if _images(gt):
        return (
            f"{gt} holds frames ({_shown(_images(gt))}), not video folders: it is one video; "
            f"pass the folder above it: {_use('gt', gt.parent)}"
        )
    return ""


# --- results -------------------------------------------------------------------------------


def _number(stem: str) -> int | None:
    m = re.fullmatch(r"\D*?(\d+)", stem)
    return int(m.group(1)) if m else None


def _frames_hint(folder: Path, expected: Sequence[str]) -> str:
    """A sequence's result folder exists: why the expected ``<frame>.png`` are not there."""
    files = _images(folder)
    if not files:
        other = _ls(folder)
        return (
            f"{folder} is empty"
            if not other
            else f"{folder} holds no image files ({_shown(other)})"
        ) + f"; expected PNG label maps named as the ground truth ({_shown(list(expected))})"
    want = [e if e.lower().endswith(".png") else f"{e}.png" for e in expected]
    if set(want) & set(files):
        return ""  # named right; the message lists the frames that are missing
    stems = {Path(f).stem: f for f in files}
    # Same names, other extension (.jpg): lossy or not a label map.
    same = [stems[Path(w).stem] for w in want if Path(w).stem in stems]
    wrong_ext = [f for f in same if not f.lower().endswith(".png")]
    if wrong_ext:
        ext = Path(wrong_ext[0]).suffix
        return (
            f"{folder} holds {_shown(wrong_ext)}: results must be PNG label maps named "
            f"{_shown(want)} ({ext} is "
            + (
                "lossy: JPEG changes label values at object edges"
                if "jp" in ext.lower()
                else "not read by the evaluators"
            )
            + "); save each frame as PNG, e.g. fastmask.write_png(path, labels)"
        )
    # Same numbers, other spelling (1.png for 00001.png, frame_0001.png).
    by_num: dict[int, str] = {}
    for f in files:
        n = _number(Path(f).stem)
        if n is not None:
            by_num.setdefault(n, f)
    pairs = [
        (by_num[n], w) for w in want if (n := _number(Path(w).stem)) is not None and n in by_num
    ]
    if pairs and all(a != b for a, b in pairs):
        a, b = pairs[0]
        width = len(Path(b).stem)
        return (
            f"{folder} holds {_shown([p[0] for p in pairs])} where the ground truth names the "
            f"frames {_shown([p[1] for p in pairs])} ({a} -> {b}); name the result frames as "
            f"the ground truth does, e.g. in each sequence folder: for f in *{Path(a).suffix}; "
            f'do n=${{f//[^0-9]/}}; mv "$f" "$(printf \'%0{width}d\' $((10#$n))).png"; done'
        )
    return f"{folder} holds {_shown(files)}; expected {_shown(want)} (the ground-truth frame names)"


def results_hint(results: Path, seq_dir: str, expected: Sequence[str] = ()) -> str:
    """Why ``results/<seq_dir>/<frame>.png`` is not there: the results folder is missing or
    empty, one level too deep (it holds frames) or too shallow (a subfolder holds the
    sequences), or the frames are ``.jpg`` / unpadded; and the argument that would work."""
    if not results.exists():
        return _missing_path(results, "results")
    if not results.is_dir():
        return f"{results} is a file; --results takes the folder of <sequence>/<frame>.png"
    entries = _ls(results)
    if not entries:
        return (
            f"the results folder {results} is empty; it must hold one folder per sequence "
            f"(<sequence>/<frame>.png, e.g. {seq_dir}/...). Is it the folder your method wrote to?"
        )
    folder = results / seq_dir
    if folder.is_dir():
        return _frames_hint(folder, expected)
    frames = _images(results)
    if frames:
        return (
            f"{results} holds frames ({_shown(frames)}), not sequence folders: it is one "
            f"sequence's folder. Pass the folder above it: {_use('results', results.parent)}"
        )
    below = [n for n in _dirs(results) if (results / n / seq_dir).is_dir()]
    if below:
        return (
            f"{results} holds {_shown(_dirs(results))} and {results / below[0] / seq_dir} "
            f"exists: the results are one level down; pass {_use('results', results / below[0])}"
        )
    up = results.parent
    if up != results and (up / seq_dir).is_dir():
        return f"{up / seq_dir} exists: the results are one level up; pass {_use('results', up)}"
    dirs = _dirs(results)
    close = difflib.get_close_matches(seq_dir, dirs, n=1)
    if close:
        return (
            f"{results} has no {seq_dir}/ but {close[0]}/; result folders must be named as the "
            "ground-truth sequences"
        )
    if dirs:
        return (
            f"{results} holds {_shown(dirs)} but no {seq_dir}/; result folders must be named as "
            "the ground-truth sequences"
        )
    return f"{results} holds no sequence folders ({_shown(entries)})"


def extra_sequences(results: Path, expected: Iterable[str]) -> list[str]:
    """Folders of ``results`` that are not an expected sequence (files, such as the CSVs an
    evaluator writes, are not counted)."""
    want = set(expected)
    return [n for n in _dirs(results) if n not in want and not n.startswith(".")]


def warn_extra(results: Path, expected: Iterable[str], what: str = "sequence") -> list[str]:
    """``warnings.warn`` (a ``UserWarning``) naming result folders that will not be scored."""
    extra = extra_sequences(results, expected)
    if extra:
        warnings.warn(
            f"{results}: {len(extra)} result folder(s) match no ground-truth {what} and are not "
            f"scored: {_shown(extra)} (check the --set / sequence list, or the folder names)",
            UserWarning,
            stacklevel=3,
        )
    return extra


def suggest_protocol(name: str, protocols: Sequence[str]) -> str:
    """``" (did you mean 'davis2017'?)"`` for a mistyped protocol name, else ``""``."""
    close = difflib.get_close_matches(name.lower(), list(protocols), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def hint(message: str, extra: str) -> str:
    """``message`` with the diagnosis appended (``message`` as it was when there is none)."""
    return f"{message}; {extra}" if extra else message
