"""``fastmask eval`` options for subsets, extra outputs and executors: ``--sequences``,
``--sequences-file``, ``--per-frame``, ``--json``, ``--max-pixels``, ``--dask``, ``--ray``."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastmask.evaluation._result import Evaluation

INSTALL_HINT = "pip install 'fastmask[distributed]' (dask[distributed] and ray)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("subsets, extra outputs and scaling out")
    g.add_argument(
        "--sequences", default=None, help="evaluate only these sequences (comma-separated)"
    )
    g.add_argument(
        "--sequences-file",
        type=Path,
        default=None,
        help="evaluate only the sequences listed in this file (one per line)",
    )
    g.add_argument(
        "--per-frame",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="also write per-frame scores (sequence,object,frame,J,F) to this CSV file",
    )
    g.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the global numbers and per-object rows to this JSON file",
    )
    g.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        help="largest width x height a frame may have (default: fastmask's decoder limit)",
    )
    ex = g.add_mutually_exclusive_group()
    ex.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="score batches of videos on a Dask cluster: a scheduler address, or 'local' for "
        "a LocalCluster of one single-threaded worker process per CPU (--threads: threads "
        "per task, default 1)",
    )
    ex.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="score batches of videos with Ray: the cluster at ADDRESS, or a local one",
    )


def sequences(args: argparse.Namespace) -> list[str] | None:
    """The sequences named by ``--sequences`` and ``--sequences-file`` (None: all)."""
    names: list[str] | None = None
    if getattr(args, "sequences", None) is not None:
        names = [s.strip() for s in args.sequences.split(",") if s.strip()]
    path = getattr(args, "sequences_file", None)
    if path is not None:
        listed = [line.strip() for line in Path(path).read_text().splitlines()]
        names = (names or []) + [n for n in listed if n]
    return names


@contextlib.contextmanager
def executor(args: argparse.Namespace) -> Iterator[Any]:
    """The executor ``--dask`` / ``--ray`` ask for (None: in-process), closed afterwards."""
    address = getattr(args, "dask", None)
    ray_address = getattr(args, "ray", None)
    if address is not None:
        try:
            from distributed import Client, LocalCluster  # type: ignore[import-not-found]
        except ImportError:
            raise ImportError(f"--dask needs dask.distributed: {INSTALL_HINT}") from None
        if address == "local":
            from fastmask.evaluation._plan import default_threads

            with (
                LocalCluster(
                    n_workers=default_threads(), threads_per_worker=1, processes=True
                ) as cluster,
                Client(cluster) as client,
            ):
                yield client
        else:
            with Client(address) as client:
                yield client
    elif ray_address is not None:
        try:
            import ray  # type: ignore[import-not-found]
        except ImportError:
            raise ImportError(f"--ray needs ray: {INSTALL_HINT}") from None
        started = not ray.is_initialized()
        if started:
            ray.init(address=ray_address or None)
        try:
            yield "ray"
        finally:
            if started:
                ray.shutdown()
    else:
        yield None


def where(args: argparse.Namespace) -> str | None:
    """Where ``--dask`` / ``--ray`` send the videos, for the report (None: this process).

    >>> where(argparse.Namespace(dask="local", ray=None))
    'a local Dask cluster'
    """
    address = getattr(args, "dask", None)
    if address is not None:
        return "a local Dask cluster" if address == "local" else f"Dask at {address}"
    ray_address = getattr(args, "ray", None)
    if ray_address is not None:
        return f"Ray at {ray_address}" if ray_address else "Ray"
    return None


def extra_files(ev: Evaluation, args: argparse.Namespace) -> dict[Path, str]:
    """``--per-frame`` and ``--json`` files: path -> text."""
    files: dict[Path, str] = {}
    if getattr(args, "per_frame", None) is not None:
        files[Path(args.per_frame)] = ev.per_frame_csv()
    if getattr(args, "json", None) is not None:
        files[Path(args.json)] = ev.to_json()
    return files
