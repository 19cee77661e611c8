"""The ``fastmask eval`` subcommand: ``add_parser(subparsers)`` registers it, ``run(args)`` runs it
and returns the exit status (0, or 1 with a one-line message on stderr for any input error)."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from fastmask._cliutil import Parser
from fastmask._fastmask import EvaluationError, PngError
from fastmask.evaluation import _cli_scale
from fastmask.evaluation._api import PROTOCOLS, TASKS, evaluate
from fastmask.evaluation._dataset_protocols import add_arguments, options_from_args
from fastmask.evaluation._result import Evaluation, atomic_write


class _ToolFlag(argparse.Action):
    """Stores the value; notes that davis2017-evaluation's spelling (``--davis_path``,
    ``--results_path``) was used, so that its defaults apply (``--task unsupervised``)."""

    def __call__(self, parser: Any, ns: Any, values: Any, option_string: Any = None) -> None:
        setattr(ns, self.dest, values)
        if option_string and "_" in option_string:
            ns.davis_tool = True


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "eval",
        help="evaluate result masks against ground truth (DAVIS, vos-benchmark, SA-V rules)",
        description=(
            "Score result masks with the rules of a reference tool and write that tool's files. "
            "Example: fastmask eval --protocol davis2017 --gt DAVIS --results results/osvos. "
            "davis2017-evaluation's flags work too (python evaluation_method.py --davis_path D "
            "--results_path R --set S --task T == fastmask eval --davis_path D ...; without "
            "--task, that tool's default, unsupervised, applies as it would there)"
        ),
    )
    p.add_argument("--protocol", choices=PROTOCOLS, default="davis2017")
    p.add_argument(
        "--gt",
        "--davis_path",
        action=_ToolFlag,
        required=True,
        type=Path,
        help="ground truth (a DAVIS root for davis*)",
    )
    p.add_argument(
        "--results",
        "--results_path",
        action=_ToolFlag,
        required=True,
        type=Path,
        help="folder of <sequence>/<frame>.png",
    )
    p.add_argument("--set", dest="subset", default="val", help="DAVIS image set (default: val)")
    p.add_argument(
        "--task",
        choices=TASKS,
        default=None,
        help="DAVIS-2017 task (default: semi-supervised; unsupervised when --davis_path / "
        "--results_path are used, as in evaluation_method.py)",
    )
    p.add_argument(
        "--colormap",
        type=Path,
        default=None,
        metavar="FILE",
        help="colours of RGB masks, label i = colour i: a PNG whose palette (PLTE) is used, or "
        "a text file of one 'R G B' per line (label 0 first), or a JSON list of [R, G, B] "
        "(default: the DAVIS palette)",
    )
    p.add_argument("--resolution", default="480p", help="DAVIS annotations resolution folder")
    p.add_argument(
        "--do-not-skip-first-and-last",
        action="store_true",
        help="vos-benchmark / sav: score the first and the last frame too",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="worker threads (default: FASTMASK_NUM_THREADS, else the CPUs this process may "
        "use; with --dask / --ray: threads per task, default 1)",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        help="folder for the protocol's result files (default: the results folder, like the tools)",
    )
    p.add_argument(
        "--allow-missing",
        action="store_true",
        help="score missing result frames as empty masks instead of failing",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_arguments(p)
    _cli_scale.add_arguments(p)
    p.set_defaults(func=run)
    return p


def summary(
    ev: Evaluation, seconds: float, threads: int | None, executor: str | None = None
) -> str:
    """The report ``fastmask eval`` prints. ``executor``: where the videos were scored
    (``"Dask at ADDRESS"``, ``"Ray"``), None for this process; there each task uses
    ``threads`` threads (default 1), not all of them."""
    opts = ev.options
    what = ev.protocol
    if ev.protocol == "davis2017":
        what += f" {opts['task']}"
    if "subset" in opts:
        what += f", set {opts['subset']}"
    head = (
        f"{what}: {ev.n_sequences} sequences, {len(ev.objects)} objects, {ev.n_frames} frames "
        f"in {seconds:.2f} s "
        + (
            f"({threads or 'all'} threads)"
            if executor is None
            else f"(on {executor}, {threads or 1} thread(s) per task)"
        )
    )
    lines = [head, "", ev.report()]
    if ev.missing:
        lines.append("")
        lines.append(f"{ev.missing} missing result frame(s) were scored as empty masks")
    return "\n".join(lines)


def load_colormap(path: Path) -> np.ndarray:
    """The ``--colormap FILE`` colours as ``(N, 3)`` integers, label i = row i, from

    - a PNG file with a palette (PLTE): its entries (e.g. one ground-truth frame of the dataset
      whose colours the RGB masks use);
    - a ``.json`` file: a list of ``[R, G, B]`` (label 0 first);
    - any other text file: one colour per line, ``R G B`` or ``R,G,B`` (``#`` starts a comment).

    Example:
        >>> _ = Path("colours.txt").write_text("0 0 0\\n255 0 0  # label 1\\n0,255,0\\n")
        >>> load_colormap(Path("colours.txt")).tolist()
        [[0, 0, 0], [255, 0, 0], [0, 255, 0]]
    """
    import json

    from fastmask.png import read_png

    data = path.read_bytes()
    if data.startswith(b"\x89PNG"):
        pal = read_png(path, palette=True)[1]
        if pal is None:
            raise ValueError(f"{path}: --colormap PNG has no palette (PLTE) to take colours from")
        return pal
    text = data.decode("utf-8", "replace")
    try:
        rows = json.loads(text) if path.suffix.lower() == ".json" else None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a JSON list of [R, G, B] ({e})") from None
    if rows is None:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            fields = line.split("#")[0].replace(",", " ").split()
            if not fields:
                continue
            if len(fields) != 3 or not all(f.isdigit() for f in fields):
                raise ValueError(f"{path}:{n}: expected 'R G B' (three integers 0..255): {line!r}")
            rows.append([int(f) for f in fields])
    arr = np.asarray(rows)
    if arr.ndim != 2 or arr.shape[1:] != (3,) or arr.dtype.kind not in "iu" or not len(arr):
        raise ValueError(f"{path}: expected a list of [R, G, B] colours, got shape {arr.shape}")
    return arr


def _task(args: argparse.Namespace) -> str:
    if args.task is not None:
        return str(args.task)
    if getattr(args, "davis_tool", False) and args.protocol == "davis2017":
        print(
            "fastmask eval: note: --task not given with evaluation_method.py's flags: using its "
            "default, unsupervised (pass --task semi-supervised for the other task)",
            file=sys.stderr,
        )
        return "unsupervised"
    return "semi-supervised"


def run(args: argparse.Namespace) -> int:
    caught: list[warnings.WarningMessage] = []
    try:
        with (
            warnings.catch_warnings(record=True) as caught,
            _cli_scale.executor(args) as executor,
        ):
            warnings.simplefilter("always")
            ev = evaluate(
                args.gt,
                args.results,
                args.protocol,
                task=_task(args),
                subset=args.subset,
                resolution=args.resolution,
                skip_first_and_last=not args.do_not_skip_first_and_last,
                allow_missing=args.allow_missing,
                threads=args.threads,
                progress=not args.no_progress,
                colormap=load_colormap(args.colormap) if args.colormap else None,
                sequences=_cli_scale.sequences(args),
                max_pixels=args.max_pixels,
                executor=executor,
                **options_from_args(args.protocol, args),
            )
    except (EvaluationError, PngError, OSError, ValueError, ImportError) as e:
        cli = " (--colormap FILE on the command line)" if "colormap=" in str(e) else ""
        print(f"fastmask eval: error: {e}{cli}", file=sys.stderr)
        return 1
    finally:
        for w in caught:
            print(f"fastmask eval: warning: {w.message}", file=sys.stderr)
    # The report first: a failed write below must not lose the scores.
    print(summary(ev, ev.timings["total"], args.threads, _cli_scale.where(args)))
    print()
    out = args.output if args.output is not None else args.results
    files = {Path(out) / name: text for name, text in ev.files().items()}
    files.update(_cli_scale.extra_files(ev, args))
    try:
        # All outputs (the protocol's files, --per-frame, --json) or none.
        atomic_write(files)
    except OSError as e:
        print(
            f"fastmask eval: error: could not write the result files into {out}: "
            f"{e.strerror or e} ({e.filename or out}); the scores above are complete, "
            "nothing was written (choose another folder with --output)",
            file=sys.stderr,
        )
        return 1
    for path in files:
        print(f"wrote {path}")
    return 0


def _perturb(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible imperfect prediction of one frame: per object a shift, an erosion, a
    dilation or a miss (numpy only: the demo needs no image library)."""
    out = np.zeros_like(labels)
    for k in np.unique(labels)[1:]:
        m = labels == k
        op = rng.integers(0, 8)
        if op == 0:
            continue  # missed in this frame
        if op <= 2:
            m = np.roll(m, tuple(int(v) for v in rng.integers(-6, 7, 2)), axis=(0, 1))
        for _ in range(int(rng.integers(0, 4)) if op in (3, 4) else 0):
            grow = op == 4
            n = [np.roll(m, s, axis=a) for a in (0, 1) for s in (-1, 1)]
            m = (m | n[0] | n[1] | n[2] | n[3]) if grow else (m & n[0] & n[1] & n[2] & n[3])
        out[m] = k
    return out


def demo_evaluation(root: Path, threads: int | None) -> int:
    """``fastmask demo``'s last step: ``root`` holds DAVIS-layout ground truth
    (``Annotations/480p/<seq>``); write perturbed results, evaluate them with the davis2017
    rules, print the summary and the time taken."""
    from fastmask import read_pngs, write_pngs

    ann = root / "Annotations" / "480p"
    names = sorted(p.name for p in ann.iterdir() if p.is_dir())
    if any(len(list((ann / n).glob("*.png"))) < 3 for n in names):
        print(
            "\n  evaluation skipped: DAVIS semi-supervised scores frames 1..T-2 (use --frames 3+)"
        )
        return 0
    sets = root / "ImageSets" / "2017"
    sets.mkdir(parents=True, exist_ok=True)
    (sets / "val.txt").write_text("".join(f"{n}\n" for n in names))
    rng = np.random.default_rng(0)
    for name in names:
        frames = sorted((ann / name).glob("*.png"))
        gt = read_pngs(frames, threads=threads)
        res = np.stack([_perturb(f, rng) for f in gt])
        (root / "results" / name).mkdir(parents=True, exist_ok=True)
        write_pngs([root / "results" / name / p.name for p in frames], res, threads=threads)
    ev = evaluate(root, root / "results", "davis2017", threads=threads)
    generated = sum(len(list((ann / n).glob("*.png"))) for n in names)
    print()
    print("  evaluation (davis2017 rules) of perturbed results:")
    print("  " + summary(ev, ev.timings["total"], threads).replace("\n", "\n  "))
    print(
        f"\n  {ev.n_frames} of the {generated} frames are scored: semi-supervised DAVIS drops "
        "each sequence's first frame\n  (the annotation a method is given) and its last one, "
        "as davis2017-evaluation does.\n"
        "  Mean: over each object's frames, then over objects; Recall: fraction of frames "
        "above 0.5;\n  Decay: the mean over the first quarter of the frames minus the mean "
        "over the last quarter\n  (how much a method drifts; lower is better)."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="fastmask")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
