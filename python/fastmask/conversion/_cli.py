"""The ``fastmask convert`` subcommand: ``add_parser(subparsers)`` registers it; the run
returns 0, or 1 with a one-line message on stderr for an input error."""

from __future__ import annotations

import argparse
import sys

from fastmask._cliutil import fail
from fastmask.conversion import FORMATS, convert
from fastmask.datasets._json import MASKLETS


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "convert",
        help="convert masks between PNG label maps, SA-V PNGs / JSON and YouTube-VIS JSON",
        description=(
            "Convert a mask dataset video by video. Formats: png (DAVIS <video>/<frame>.png "
            "label maps; where masks overlap the larger object id wins), png-objects (SA-V "
            "<video>/<obj>/<frame>.png), sav-json (SA-V masklet <video>.json), ytvis-json (one "
            "YouTube-VIS file). Videos already in DST are skipped (resume). "
            "Example: fastmask convert sav_train/sav_000 sav_png --to png"
        ),
    )
    p.add_argument("src", metavar="SRC", help="source folder (or YouTube-VIS .json file)")
    p.add_argument("dst", metavar="DST", help="destination folder (a .json file for ytvis-json)")
    p.add_argument("--to", required=True, choices=FORMATS, help="output format")
    p.add_argument(
        "--from",
        dest="src_format",
        choices=FORMATS,
        default=None,
        help="source format (default: detected from SRC)",
    )
    p.add_argument(
        "--masklets",
        choices=MASKLETS,
        default="manual",
        help="SA-V train: which masklet files to read (default manual)",
    )
    p.add_argument("--threads", type=int, default=None, help="threads (default: one per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        rep = convert(
            args.src,
            args.dst,
            args.to,
            src_format=args.src_format,
            threads=args.threads,
            masklets=args.masklets,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except (OSError, ValueError) as e:  # MetadataError, PngError, RleError are ValueErrors
        fail("fastmask convert", str(e))
        return 1
    print(rep)
    return 0
