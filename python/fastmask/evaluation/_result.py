"""``fastmask.Evaluation``, the one result type of every protocol: per-object per-frame J and F,
tables, global numbers, the protocol's files (written atomically), and the text helpers the
protocols' file writers share."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fastmask.metrics import statistics

#: DAVIS per-object statistics, in the order the tools write them.
DAVIS_STATS = ("J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
GLOBAL_COLUMNS = ("J&F-Mean", *DAVIS_STATS)


@dataclass
class ObjectScore:
    """The scores of one object.

    ``J`` and ``F``: (T,) float64, one value per scored frame (``frames`` names them; for a
    protocol whose series has slots no frame reaches, LVOS, ``frame_index[i]`` is the slot of
    ``frames[i]``). ``name`` is the row name the protocol's own files use (``<seq>_<k>`` for
    DAVIS). ``proposal``: the result label matched to this object (DAVIS unsupervised), else the
    object's own label. ``stats``: the protocol's per-object numbers; ``info``: category, seen,
    and other per-object facts of the dataset protocols.
    """

    sequence: str
    object: int | str
    name: str
    frames: list[str]
    J: np.ndarray
    F: np.ndarray
    proposal: int | str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    frame_index: list[int] | None = None

    @property
    def JF(self) -> float:
        return (self.stats["J-Mean"] + self.stats["F-Mean"]) / 2


#: The former name of ObjectScore for the dataset protocols.
ObjectResult = ObjectScore


def davis_stats(j: np.ndarray, f: np.ndarray, decay: str) -> dict[str, float]:
    """DAVIS Mean / Recall / Decay of one object's J and F series."""
    jm, jr, jd = (float(x) for x in statistics(j, decay=decay))  # type: ignore[arg-type]
    fm, fr, fd = (float(x) for x in statistics(f, decay=decay))  # type: ignore[arg-type]
    return dict(zip(DAVIS_STATS, (jm, jr, jd, fm, fr, fd)))


def nanmean(values: Sequence[Any] | np.ndarray) -> float:
    """``np.mean`` with the empty-slice warning silenced (NaN for no values)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return float(np.mean(np.asarray(values, np.float64)))


def fmt3(x: float | np.floating) -> str:
    """pandas ``to_csv(float_format="%.3f")``: NaN as an empty field."""
    return "" if np.isnan(x) else "%.3f" % x  # noqa: UP031


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buf.getvalue()


def _umask() -> int:
    """The process umask, read without changing it where Linux reports it (/proc/self/status,
    Linux 4.7+). ``os.umask`` can only set it: setting it back leaves a window in which a file
    another thread creates (the ``Evaluator``'s scoring thread writes PNGs) gets the wrong
    mode, and two threads doing it at once can leave 0o022 set for good."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere: set and set back at once (the window is two syscalls).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(files: dict[Path, str]) -> None:
    """Write every file to a temporary name in its folder, then rename them all: a failure
    while writing leaves none of them (and no temporary file) behind.

    ``tempfile.mkstemp`` creates its file with mode 0600 whatever the umask; the renamed files
    get the mode any new file gets (0666 minus the umask, 0644 usually), like the PNGs."""
    temps: list[tuple[str, Path]] = []
    mode = 0o666 & ~_umask()
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", newline="") as fh:
                fh.write(text)
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


class Evaluation:
    """The result of ``fastmask.evaluate`` (and of ``Plan.merge``), for every protocol.

    - ``objects``: list of ``ObjectScore`` (``J``, ``F`` as (T,) float64 arrays, ``stats``);
    - ``global_scores``: the protocol's headline numbers (fractions, not percent); DAVIS-style
      protocols give ``J&F-Mean, J-Mean, J-Recall, J-Decay, F-Mean, F-Recall, F-Decay`` (each
      object weighs the same, as in every reference tool);
    - ``per_object()`` / ``per_sequence()`` / ``per_frame()``: column dicts
      (``pandas.DataFrame(ev.per_object())``);
    - ``files()`` / ``write(folder)``: the protocol's own files, byte-identical to its tool's;
    - ``missing``: result frames that were missing and scored as empty (``allow_missing``);
    - ``timings``: seconds: ``total`` wall time, and ``decode`` / ``J`` / ``F`` summed over the
      engine's threads.
    """

    def __init__(
        self,
        protocol: str,
        options: dict[str, Any],
        objects: list[ObjectScore],
        n_sequences: int,
        n_frames: int,
        missing: int,
        timings: dict[str, float],
        decay: Literal["davis", "exact"] = "davis",
    ) -> None:
        from fastmask.evaluation.protocols import get_protocol

        self.protocol = protocol
        self.options = options
        self.objects = objects
        self.n_sequences = n_sequences
        self.n_frames = n_frames
        self.missing = missing
        self.timings = timings
        if decay not in ("davis", "exact"):
            raise ValueError(f"decay must be 'davis' or 'exact'; got {decay!r}")
        self.decay = decay
        self._rules = get_protocol(protocol)
        for o in objects:
            if not o.stats:
                o.stats = davis_stats(o.J, o.F, decay)
        self.global_scores: dict[str, float] = self._rules.global_scores(self)

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={v:.3f}" for k, v in list(self.global_scores.items())[:4])
        return (
            f"Evaluation(protocol={self.protocol!r}, sequences={self.n_sequences}, "
            f"objects={len(self.objects)}, {head})"
        )

    def per_object(self) -> dict[str, list[Any]]:
        """One row per object: sequence, object, name, the protocol's info fields (category,
        seen, ...), then its per-object numbers (DAVIS-style protocols: J&F-Mean and J/F Mean,
        Recall, Decay). Columns of equal length (floats are fractions).

        >>> pandas.DataFrame(ev.per_object()).sort_values("J&F-Mean").head()  # doctest: +SKIP
        """
        cols: dict[str, list[Any]] = {"sequence": [], "object": [], "name": []}
        info_keys = sorted({k for o in self.objects for k in o.info})
        stat_keys = list(dict.fromkeys(k for o in self.objects for k in o.stats))
        jf = self._rules.jf_column
        for k in (*info_keys, *(["J&F-Mean"] if jf else []), *stat_keys):
            cols[k] = []
        for o in self.objects:
            cols["sequence"].append(o.sequence)
            cols["object"].append(o.object)
            cols["name"].append(o.name)
            for k in info_keys:
                cols[k].append(o.info.get(k))
            if jf:
                cols["J&F-Mean"].append(o.JF)
            for k in stat_keys:
                cols[k].append(o.stats.get(k))
        return cols

    def per_sequence(self) -> dict[str, list[Any]]:
        """One row per sequence: the mean over its objects of J-Mean, F-Mean and J&F-Mean
        (the mean of each object's J and F series where the protocol has no J-Mean).

        >>> seq = ev.per_sequence(); dict(zip(seq["sequence"], seq["J&F-Mean"]))  # doctest: +SKIP
        """
        groups: dict[str, list[ObjectScore]] = {}
        for o in self.objects:
            groups.setdefault(o.sequence, []).append(o)
        cols: dict[str, list[Any]] = {
            "sequence": [],
            "objects": [],
            "J&F-Mean": [],
            "J-Mean": [],
            "F-Mean": [],
        }

        def mean(o: ObjectScore, key: str) -> float:
            if key in o.stats:
                return float(o.stats[key])
            return nanmean(o.J if key == "J-Mean" else o.F)

        for seq, objs in groups.items():
            jm = nanmean([mean(o, "J-Mean") for o in objs])
            fm = nanmean([mean(o, "F-Mean") for o in objs])
            cols["sequence"].append(seq)
            cols["objects"].append(len(objs))
            cols["J&F-Mean"].append((jm + fm) / 2)
            cols["J-Mean"].append(jm)
            cols["F-Mean"].append(fm)
        return cols

    def per_frame(self) -> dict[str, list[Any]]:
        """One row per object and scored frame: sequence, object, frame, J, F.

        >>> pandas.DataFrame(ev.per_frame()).groupby("frame")["J"].mean()  # doctest: +SKIP
        """
        cols: dict[str, list[Any]] = {"sequence": [], "object": [], "frame": [], "J": [], "F": []}
        for o in self.objects:
            index = o.frame_index if o.frame_index is not None else range(len(o.frames))
            for frame, i in zip(o.frames, index):
                if i >= len(o.J):
                    continue
                cols["sequence"].append(o.sequence)
                cols["object"].append(o.object)
                cols["frame"].append(frame)
                cols["J"].append(float(o.J[i]))
                cols["F"].append(float(o.F[i]))
        return cols

    def per_frame_csv(self) -> str:
        """:meth:`per_frame` as CSV text (``sequence,object,frame,J,F``; J and F with 17
        significant digits, so the numbers read back exactly)."""
        t = self.per_frame()
        rows: list[list[Any]] = [list(t)]
        for s, o, f, j, fv in zip(t["sequence"], t["object"], t["frame"], t["J"], t["F"]):
            rows.append([s, o, f, repr(j), repr(fv)])
        return csv_text(rows)

    def to_json(self) -> str:
        """The global numbers and the per-object rows as JSON text (NaN as null)."""

        def clean(v: Any) -> Any:
            if isinstance(v, (float, np.floating)):
                return None if np.isnan(v) else float(v)
            if isinstance(v, np.integer):
                return int(v)
            if isinstance(v, np.ndarray):
                return [clean(x) for x in v.tolist()]
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            return v

        per = self.per_object()
        rows = [{k: clean(per[k][i]) for k in per} for i in range(len(self.objects))]
        doc = {
            "protocol": self.protocol,
            "options": {k: clean(v) for k, v in self.options.items()},
            "global": {k: clean(v) for k, v in self.global_scores.items()},
            "sequences": self.n_sequences,
            "frames": self.n_frames,
            "missing": self.missing,
            "objects": rows,
        }
        return json.dumps(doc, indent=2) + "\n"

    # ----- the reference tools' files ---------------------------------------------------------

    def files(self) -> dict[str, str]:
        """File name -> text of the protocol's own output files (what ``write`` writes).

        >>> print(ev.files()["global_results-val.csv"])  # doctest: +SKIP
        """
        return self._rules.files(self)

    def write(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write the protocol's files into ``folder`` (created if needed); returns their paths.

        davis2017 / davis2016 / mose / sparse: ``global_results-<set>.csv`` and
        ``per-sequence_results-<set>.csv`` as davis2017-evaluation writes them; vos-benchmark /
        sav: ``results.csv``; the others their tool's (see each protocol). Each file is written
        to a temporary name first and all are renamed at the end, so a reader never sees a
        partial file; they get the permissions of any new file (the umask).

        >>> ev.write("results/osvos")  # doctest: +SKIP
        [PosixPath('results/osvos/global_results-val.csv'), ...]
        """
        folder = Path(folder)
        files = {folder / name: text for name, text in self.files().items()}
        atomic_write(files)
        return list(files)

    # ----- human-readable summary -------------------------------------------------------------

    def report(self, worst: int = 5) -> str:
        """A summary: DAVIS-style protocols give J&F, J and F with Mean / Recall / Decay and
        the worst sequences; the others their global numbers, one per line.

        >>> print(ev.report(worst=3))  # doctest: +SKIP
        """
        return self._rules.report(self, worst)


#: The former name of the dataset protocols' result: the same type now.
DatasetEvaluation = Evaluation


def davis_table_report(ev: Evaluation, worst: int) -> str:
    """The DAVIS summary table and the ``worst`` sequences by J&F-Mean."""
    g = ev.global_scores
    lines = [
        f"{'':<6}{'Mean':>8}{'Recall':>8}{'Decay':>8}",
        f"{'J&F':<6}{g['J&F-Mean']:>8.3f}",
        f"{'J':<6}{g['J-Mean']:>8.3f}{g['J-Recall']:>8.3f}{g['J-Decay']:>8.3f}",
        f"{'F':<6}{g['F-Mean']:>8.3f}{g['F-Recall']:>8.3f}{g['F-Decay']:>8.3f}",
    ]
    seq = ev.per_sequence()
    order = np.argsort(np.asarray(seq["J&F-Mean"], np.float64), kind="stable")[:worst]
    if len(order):
        width = max(len(str(seq["sequence"][i])) for i in order)
        lines.append("")
        lines.append("worst sequences (J&F-Mean over their objects):")
        for i in order:
            lines.append(
                f"  {seq['sequence'][i]!s:<{width}}  J&F {seq['J&F-Mean'][i]:.3f}  "
                f"J {seq['J-Mean'][i]:.3f}  F {seq['F-Mean'][i]:.3f}  ({seq['objects'][i]} obj)"
            )
    return "\n".join(lines)


def list_report(ev: Evaluation) -> str:
    """The global numbers, one per line."""
    width = max((len(k) for k in ev.global_scores), default=0)
    return "\n".join(f"{k:<{width}}  {v:.4f}" for k, v in ev.global_scores.items())


def davis_global(objects: Sequence[ObjectScore]) -> dict[str, float]:
    """Means over the objects of the DAVIS statistics, J&F-Mean first."""
    g = {k: nanmean([o.stats[k] for o in objects]) for k in DAVIS_STATS}
    return {"J&F-Mean": (g["J-Mean"] + g["F-Mean"]) / 2.0, **g}


def davis_files(objects: Sequence[ObjectScore], subset: str) -> dict[str, str]:
    """davis2017-evaluation's two CSV files for per-object DAVIS statistics."""
    g = davis_global(objects)
    head = csv_text([list(GLOBAL_COLUMNS), [fmt3(g[k]) for k in GLOBAL_COLUMNS]])
    rows: list[list[str]] = [["Sequence", "J-Mean", "F-Mean"]]
    rows += [[o.name, fmt3(o.stats["J-Mean"]), fmt3(o.stats["F-Mean"])] for o in objects]
    return {
        f"global_results-{subset}.csv": head,
        f"per-sequence_results-{subset}.csv": csv_text(rows),
    }
