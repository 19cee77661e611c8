"""The ``fastmask eval`` subcommand: ``add_parser(subparsers)`` registers it, ``run(args)`` runs it
and returns the exit status (0, or 1 with a one-line message on stderr for any input error)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fastmask._fastmask import EvaluationError, PngError
from fastmask.evaluate._api import PROTOCOLS, TASKS, evaluate
from fastmask.evaluate._evaluation import Evaluation


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "eval",
        help="evaluate result masks against ground truth (DAVIS, vos-benchmark, SA-V rules)",
        description=(
            "Score result masks with the rules of a reference tool and write that tool's files. "
            "Example: fastmask eval --protocol davis2017 --gt DAVIS --results results/osvos"
        ),
    )
    p.add_argument("--protocol", choices=PROTOCOLS, default="davis2017")
    p.add_argument("--gt", required=True, type=Path, help="ground truth (a DAVIS root for davis*)")
    p.add_argument("--results", required=True, type=Path, help="folder of <sequence>/<frame>.png")
    p.add_argument("--set", dest="subset", default="val", help="DAVIS image set (default: val)")
    p.add_argument("--task", choices=TASKS, default="semi-supervised", help="DAVIS-2017 task")
    p.add_argument("--resolution", default="480p", help="DAVIS annotations resolution folder")
    p.add_argument(
        "--do-not-skip-first-and-last",
        action="store_true",
        help="vos-benchmark / sav: score the first and the last frame too",
    )
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
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
    p.set_defaults(run=run)
    return p


def summary(ev: Evaluation, seconds: float, threads: int | None) -> str:
    opts = ev.options
    what = ev.protocol
    if ev.protocol == "davis2017":
        what += f" {opts['task']}"
    if "subset" in opts:
        what += f", set {opts['subset']}"
    head = (
        f"{what}: {ev.n_sequences} sequences, {len(ev.objects)} objects, {ev.n_frames} frames "
        f"in {seconds:.2f} s ({threads or 'all'} threads)"
    )
    lines = [head, "", ev.report()]
    if ev.missing:
        lines.append("")
        lines.append(f"{ev.missing} missing result frame(s) were scored as empty masks")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        ev = evaluate(
            args.gt,
            args.results,
            args.protocol,
            task=args.task,
            subset=args.subset,
            resolution=args.resolution,
            skip_first_and_last=not args.do_not_skip_first_and_last,
            allow_missing=args.allow_missing,
            threads=args.threads,
            progress=not args.no_progress,
        )
        out = args.output if args.output is not None else args.results
        written = ev.write(out)
    except (EvaluationError, PngError, OSError, ValueError) as e:
        print(f"fastmask eval: error: {e}", file=sys.stderr)
        return 1
    print(summary(ev, ev.timings["total"], args.threads))
    print()
    for w in written:
        print(f"wrote {w}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastmask")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
