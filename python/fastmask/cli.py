"""The ``fastmask`` command: ``fastmask info FILE...`` and ``fastmask demo``.

Each subcommand is a ``_add_<name>(subparsers)`` function that declares its arguments and sets
``func`` to the function that runs it and returns the exit code, so new subcommands (``eval``)
plug in with one more ``_add_...`` call in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import fastmask
from fastmask._cliutil import Parser, fail
from fastmask.conversion._cli import add_parser as add_convert_parser
from fastmask.evaluation.cli import add_parser as add_eval_parser
from fastmask.evaluation.cli import demo_evaluation

PROG = "fastmask"


# --- info ------------------------------------------------------------------------------------


def _counts(values: np.ndarray) -> list[tuple[int, int]]:
    if values.dtype == np.uint8:
        counts = np.bincount(values.reshape(-1), minlength=256)
        return [(int(v), int(n)) for v, n in enumerate(counts) if n]
    uniq, counts = np.unique(values, return_counts=True)
    return [(int(v), int(n)) for v, n in zip(uniq, counts)]


def _colour_counts(rgb: np.ndarray) -> list[tuple[tuple[int, ...], int]]:
    flat = rgb.reshape(-1, rgb.shape[-1])
    uniq, counts = np.unique(flat, axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return [(tuple(int(c) for c in uniq[i]), int(counts[i])) for i in order]


def _info_lines(path: str, show: int) -> list[str]:
    info = fastmask.png_info(path)
    lines = [
        path,
        f"  size          {info.width} x {info.height} (width x height)",
        f"  colour type   {info.color_type_name} ({info.color_type}), {info.bit_depth}-bit",
        f"  palette       {info.palette_entries} entries"
        if info.palette_entries
        else "  palette       none",
        f"  transparency  {'tRNS chunk' if info.transparency else 'none'}",
        f"  interlace     {'Adam7' if info.interlaced else 'none'}",
        f"  chunks        {' '.join(name for name, _ in info.chunks)}",
        f"  image data    {info.idat_bytes} bytes compressed",
    ]
    if info.color_type in (2, 6):
        colours = _colour_counts(fastmask.read_png(path, raw=True)[..., :3])
        listed = ", ".join(f"{c}: {n}" for c, n in colours[:show])
        more = f", ... ({len(colours)} colours)" if len(colours) > show else ""
        lines.append(f"  colours       {listed}{more}")
        try:
            labels = fastmask.read_png(path)
        except fastmask.PngError:
            lines.append("  labels        colours are not all in the DAVIS palette")
            return lines
    else:
        labels = fastmask.read_png(path)
    counts = _counts(labels)
    listed = ", ".join(f"{v}: {n} px" for v, n in counts[:show])
    more = f", ... ({len(counts)} labels)" if len(counts) > show else ""
    label = "labels (gray)" if info.color_type == 4 else "labels"
    lines.append(f"  {label:<14}{listed}{more}")
    return lines


def _run_info(args: argparse.Namespace) -> int:
    failed = printed = 0
    for path in args.files:
        try:
            lines = _info_lines(path, args.show)
        except OSError as e:
            failed += 1
            fail(PROG, f"{path}: {e.strerror or e}")
            continue
        except ValueError as e:
            failed += 1
            # PngError messages already start with the file name.
            msg = str(e) if str(e).startswith(path) else f"{path}: {e}"
            fail(PROG, msg.replace("\n", " "))
            continue
        if printed:
            print()
        print("\n".join(lines))
        printed += 1
    return 1 if failed else 0


def _add_info(sub: Any) -> None:
    p = sub.add_parser(
        "info",
        help="describe PNG masks: size, colour type, palette, labels and their pixel counts",
        description="Describe PNG mask files. Exits non-zero if any file cannot be read.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="PNG files")
    p.add_argument("--show", type=int, default=20, help="labels / colours to list (default 20)")
    p.set_defaults(func=_run_info)


# --- demo ------------------------------------------------------------------------------------


def make_sequence(frames: int, objects: int, height: int, width: int, seed: int) -> np.ndarray:
    """A DAVIS-like ``(frames, height, width) uint8`` sequence: ``objects`` ellipses that move,
    turn and overlap (a later object covers an earlier one), each with a hole."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    start = rng.uniform([0.25, 0.2], [0.75, 0.8], (objects, 2)) * (height, width)
    speed = rng.uniform(-0.012, 0.012, (objects, 2)) * (height, width)
    radii = rng.uniform([0.08, 0.05], [0.22, 0.14], (objects, 2)) * (height, width)
    out = np.zeros((frames, height, width), np.uint8)
    for t in range(frames):
        for k in range(objects):
            cy, cx = start[k] + speed[k] * t
            ry, rx = radii[k] * (1 + 0.1 * np.sin(0.3 * t + k))
            angle = 0.05 * t + k
            c, s = np.cos(angle), np.sin(angle)
            u = ((xx - cx) * c + (yy - cy) * s) / rx
            v = (-(xx - cx) * s + (yy - cy) * c) / ry
            r2 = u * u + v * v
            hole = (u - 0.3) ** 2 + v * v < 0.06
            out[t][(r2 < 1) & ~hole] = k + 1
    return out


def _best_time(fn: Callable[[], object], min_time: float = 0.3, max_runs: int = 20) -> float:
    best = float("inf")
    start = time.perf_counter()
    for _ in range(max_runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > min_time:
            break
    return best


def _pillow_timings(stack: np.ndarray, folder: Path) -> tuple[float, float, int] | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    palette = fastmask.DAVIS_PALETTE.tobytes()
    paths = [folder / f"{i:05d}.png" for i in range(len(stack))]

    def encode() -> None:
        for p, frame in zip(paths, stack):
            im = Image.fromarray(frame, "P")
            im.putpalette(palette)
            im.save(p)

    def decode() -> None:
        for p in paths:
            with Image.open(p) as im:
                np.array(im)

    t_enc = _best_time(encode, max_runs=3)
    t_dec = _best_time(decode, max_runs=3)
    size = sum(p.stat().st_size for p in paths)
    return t_dec, t_enc, size


def _cores() -> tuple[int, int, float | None]:
    """(cores this process may use, cores of the machine, 1-minute load average or None)."""
    total = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else total
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return usable, total, load


def _threads_note(threads: int | None, t1: float, tn: float) -> str:
    """What the "N threads" column measured, and why it can be slower than one thread."""
    usable, total, load = _cores()
    n = usable if threads is None else threads
    busy = f", load average {load:.1f}" if load is not None else ""
    head = f"  ({n} threads on {usable} usable core(s) of {total}{busy}:\n   "
    if tn < t1:
        return head + f"{t1 / tn:.1f}x one thread's decode speed)"
    return head + (
        "no faster than one thread here: the cores are busy with other work, or the batch is\n"
        "   too small to share; threads pay off on free cores and long sequences)"
    )


def _rate(frames: int, seconds: float) -> str:
    return f"{frames / seconds:,.0f}"


def _run_demo(args: argparse.Namespace) -> int:
    if args.frames < 1 or args.sequences < 1:
        fail(PROG, "--frames and --sequences must be at least 1")
        return 2
    own_tmp = args.out is None
    # A memory-backed folder when there is one: the timings then measure the codec, not the
    # disk (ext4 flushes every file renamed over an existing one, milliseconds each).
    shm = Path("/dev/shm")
    tmp_parent = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    root = (
        Path(tempfile.mkdtemp(prefix="fastmask-demo-", dir=tmp_parent))
        if own_tmp
        else Path(args.out)
    )
    try:
        code = _demo(root, args)
        # Last step: perturbed results scored with the davis2017 rules (fastmask.evaluate).
        return code or demo_evaluation(root, args.threads)
    finally:
        if own_tmp:
            shutil.rmtree(root, ignore_errors=True)


def _demo(root: Path, args: argparse.Namespace) -> int:
    h, w = 480, 854
    names = [f"blobs-{k + 1}" for k in range(args.sequences)]
    sequences = {
        name: make_sequence(args.frames, objects=2 + k % 4, height=h, width=w, seed=k)
        for k, name in enumerate(names)
    }
    total = args.frames * len(names)
    print(
        f"fastmask demo: {len(names)} sequences x {args.frames} frames of {w}x{h} masks in {root}"
    )
    folders = {name: root / "Annotations" / "480p" / name for name in names}
    paths = {name: [f / f"{i:05d}.png" for i in range(args.frames)] for name, f in folders.items()}
    for f in folders.values():
        f.mkdir(parents=True, exist_ok=True)
    threads = args.threads

    def write_all(n_threads: int | None) -> None:
        for name in names:
            fastmask.write_pngs(paths[name], sequences[name], threads=n_threads)

    def read_all(n_threads: int | None) -> list[np.ndarray]:
        return [fastmask.read_pngs(paths[name], threads=n_threads) for name in names]

    t_enc1 = _best_time(lambda: write_all(1))
    t_encn = _best_time(lambda: write_all(threads))
    t_dec1 = _best_time(lambda: read_all(1))
    t_decn = _best_time(lambda: read_all(threads))

    # Round trip: every frame back exactly, and the files are what DAVIS tools expect.
    back = read_all(threads)
    for name, got in zip(names, back):
        if not np.array_equal(got, sequences[name]):
            bad = int(np.argmax([not np.array_equal(a, b) for a, b in zip(got, sequences[name])]))
            fail(PROG, f"round trip failed: {paths[name][bad]} differs from the mask written")
            return 1
    first = fastmask.read_png(paths[names[0]][0], palette=True)[1]
    if first is None or not np.array_equal(first, fastmask.DAVIS_PALETTE):
        fail(PROG, "round trip failed: the files do not carry the DAVIS palette")
        return 1
    labels = sorted(set(np.unique(np.stack(back)).tolist()))
    size = sum(p.stat().st_size for ps in paths.values() for p in ps)
    print(f"  round trip: {total} frames identical (labels {labels}), DAVIS palette")

    n = "all" if threads is None else str(threads)
    rows = [
        ("decode (frames/s)", _rate(total, t_dec1), _rate(total, t_decn)),
        ("encode (frames/s)", _rate(total, t_enc1), _rate(total, t_encn)),
        ("size (KB/frame)", f"{size / total / 1024:.1f}", ""),
    ]
    pil_dir = root / "pillow"
    pil_dir.mkdir(exist_ok=True)
    pil = _pillow_timings(np.concatenate(list(sequences.values())), pil_dir)
    head = f"  {'':<20}{'fastmask 1 thread':>19}{f'fastmask {n} threads':>22}"
    if pil is None:
        print(head)
        for label, one, many in rows:
            print(f"  {label:<20}{one:>19}{many:>22}")
        print("  (install Pillow to compare: pip install pillow)")
        print(_threads_note(threads, t_dec1, t_decn))
        return 0
    t_dec_pil, t_enc_pil, pil_size = pil
    pil_cols = [_rate(total, t_dec_pil), _rate(total, t_enc_pil), f"{pil_size / total / 1024:.1f}"]
    print(head + f"{'Pillow':>12}{'speed-up':>11}")
    speedups = [f"{t_dec_pil / t_dec1:.1f}x", f"{t_enc_pil / t_enc1:.1f}x", ""]
    for (label, one, many), p, s in zip(rows, pil_cols, speedups):
        print(f"  {label:<20}{one:>19}{many:>22}{p:>12}{s:>11}")
    print("  (speed-up: fastmask on 1 thread over Pillow, same files, same run)")
    print(_threads_note(threads, t_dec1, t_decn))
    return 0


def _add_demo(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="write, read back and time a small DAVIS-like mask dataset",
        description=(
            "Generate DAVIS-like sequences (moving blobs with holes, several objects) as palette "
            "PNGs in DAVIS layout, read them back, check the round trip, and print throughput "
            "next to Pillow's when Pillow is installed."
        ),
    )
    p.add_argument(
        "--out", metavar="DIR", help="write here and keep it (default: a temporary folder)"
    )
    p.add_argument("--frames", type=int, default=20, help="frames per sequence (default 20)")
    p.add_argument("--sequences", type=int, default=3, help="number of sequences (default 3)")
    p.add_argument(
        "--threads", type=int, default=None, help="threads for batches (default: all cores)"
    )
    p.set_defaults(func=_run_demo)


# --- check-submission ------------------------------------------------------------------------


def _run_check_submission(args: argparse.Namespace) -> int:
    from fastmask.submission import check_submission

    try:
        problems = check_submission(
            args.results,
            args.protocol,
            args.gt_meta,
            subset=args.set,
            resolution=args.resolution,
            check_ids=not args.no_ids,
        )
    except (OSError, ValueError) as e:
        fail(PROG, str(e))
        return 2
    for p in problems:
        print(f"{p.kind:<14} {p}")
    if problems:
        kinds: dict[str, int] = {}
        for p in problems:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        fail(PROG, f"{len(problems)} problem(s): {summary}")
        return 1
    print(f"{args.results}: ready to submit ({args.protocol})")
    return 0


def _add_check_submission(sub: Any) -> None:
    p = sub.add_parser(
        "check-submission",
        help="check a results folder against a challenge's ground-truth metadata",
        description=(
            "Verify, before uploading to a challenge server, that every required frame exists, "
            "sizes match, files are palette PNGs with valid object ids, and nothing extra is "
            "present. Prints one line per problem; exits 1 when there is any, 2 when the "
            "metadata cannot be read."
        ),
    )
    p.add_argument("results", metavar="RESULTS", help="folder of <video>/<frame>.png")
    p.add_argument(
        "--protocol", required=True, choices=("youtube-vos", "mose", "lvos", "davis2017")
    )
    p.add_argument(
        "--gt-meta",
        required=True,
        metavar="PATH",
        help="meta.json (youtube-vos, mose), <split>_meta.json (lvos) or the DAVIS root",
    )
    p.add_argument("--set", default="val", help="DAVIS sequence list (default val)")
    p.add_argument("--resolution", default="480p", help="DAVIS resolution (default 480p)")
    p.add_argument("--no-ids", action="store_true", help="skip decoding to check the labels")
    p.set_defaults(func=_run_check_submission)


# --- entry point -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Fast, exact segmentation-mask I/O and VOS metrics.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {fastmask.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_info(sub)
    _add_demo(sub)
    add_eval_parser(sub)
    _add_check_submission(sub)
    add_convert_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fastmask`` command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
