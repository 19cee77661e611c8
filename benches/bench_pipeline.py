"""The evaluation pipeline at dataset scale: planning 50,900 generated video folders (about SA-V's
train set, 50,583 videos), the memory of a plan and all partial results of a
YouTube-VOS-train-sized run (3,471 videos), and Dask / Ray against the in-process threads on that
run.

- planning: ``fastmask.evaluation.plan(root, res, "sav")`` over 50,900 video folders reads the
  root's listing once; the baseline is what planning did before (one listing per video folder,
  as ``evaluate(sequences=[v])`` per video does). Time, and peak RSS above the interpreter's
  (``VmHWM``), of a fresh subprocess.
- memory: plan + ``run_job`` of every video, all ``Partial``s kept (what a client holds before
  ``merge``): peak RSS above the interpreter's, and the pickled size of plan and partials.
  Target < 200 MB.
- executors: the same 3,471 videos (2-3 objects, 8,677 in all, 27 annotated frames each,
  96 x 160 masks, 187k PNG reads) scored in-process on 2 threads (baseline), on a Dask
  LocalCluster of 2 single-threaded worker processes, and with Ray on 2 CPUs; cluster start-up
  is outside the timing (the workers import fastmask in a warm-up run first);
  ``test_executors_interleaved`` runs the three in turn, three times, and prints the medians.

``FASTMASK_BENCH_SMALL=1`` (the CI short pass): 2,000 folders to plan, 200 videos to score,
no ``test_executors_interleaved``.
The data is generated once into ``/tmp/fastmask-bench-pipeline-*`` (video folders are hard
links of a few generated ones, so making 3,471 videos takes seconds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import VMHWM_SRC

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

SMALL = bool(os.environ.get("FASTMASK_BENCH_SMALL"))
PLAN_VIDEOS = 2_000 if SMALL else 50_900
YT_VIDEOS = 200 if SMALL else 3_471
WORKERS = 2
CACHE = Path("/tmp") / f"fastmask-bench-pipeline-{'small' if SMALL else 'full'}-v1"


def _sav_root() -> Path:
    root = CACHE / "sav"
    if (root / "done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    gt = root / "gt"
    for v in range(PLAN_VIDEOS):
        (gt / f"sav_{v:06d}" / "000").mkdir(parents=True)
    (root / "res").mkdir()
    (root / "done").touch()
    return root


def _youtube_root() -> Path:
    """A YouTube-VOS train-sized split: YT_VIDEOS videos hard-linked from 8 generated ones."""
    root = CACHE / "ytvos"
    if (root / "done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    from dsref import gen

    seeds = root / "seeds"
    stacks = gen.youtube_vos(
        seeds, "train", videos=8, frames=131, size=(96, 160), images=False, seed=3
    )
    names = {v: [f"{5 * i:05d}" for i in range(len(s))] for v, s in stacks.items()}
    gen.predictions(seeds / "res", {v: (names[v], s) for v, s in stacks.items()})
    meta = json.loads((seeds / "train" / "meta.json").read_text())
    seed_names = sorted(stacks)
    out: dict[str, Any] = {"videos": {}}
    for v in range(YT_VIDEOS):
        src = seed_names[v % len(seed_names)]
        name = f"{v:010x}"
        for kind, base in (
            ("Annotations", seeds / "train" / "Annotations"),
            ("res", seeds / "res"),
        ):
            dst = root / "train" / kind / name if kind == "Annotations" else root / "res" / name
            dst.mkdir(parents=True)
            for f in os.listdir(base / src):
                os.link(base / src / f, dst / f)
        out["videos"][name] = meta["videos"][src]
    (root / "train" / "meta.json").write_text(json.dumps(out))
    (root / "done").touch()
    return root


def _child(code: str, then: str = "") -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (after ``import fastmask.evaluation``), timed, then
    ``then`` (untimed); both fill the dict ``out``, printed as JSON with the time of ``code``
    (``seconds``) and the peak RSS above the interpreter's (``peak_mb``) added."""
    script = textwrap.dedent(
        """
        import json, os, pickle, sys, time
        sys.path.insert(0, {tests!r})
        import fastmask.evaluation
        from fastmask.evaluation import plan, run_job
        {vmhwm}
        base = vmhwm_kb()
        out = {{}}
        t = time.perf_counter()
        {body}
        out["seconds"] = time.perf_counter() - t
        {then}
        out["peak_mb"] = (vmhwm_kb() - base) / 1024
        print(json.dumps(out))
        """
    ).format(
        tests=str(Path(__file__).resolve().parents[1] / "tests"),
        vmhwm=VMHWM_SRC,
        body=textwrap.dedent(code).strip(),
        then=textwrap.dedent(then).strip(),
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _measure(benchmark: Any, group: str, code: str, then: str = "", **info: Any) -> dict[str, Any]:
    """One round of ``_child(code, then)`` under ``benchmark`` (group, extra_info ``info`` set
    first); the child's JSON object is added to extra_info and returned."""
    benchmark.group = group
    benchmark.extra_info.update(info)
    got = benchmark.pedantic(_child, args=(code, then), rounds=1, iterations=1)
    benchmark.extra_info.update(got)
    return got


def test_plan_sav_train_sized(benchmark: Any) -> None:
    root = _sav_root()
    got = _measure(
        benchmark,
        f"plan {PLAN_VIDEOS} SA-V videos",
        f"""
        p = plan({str(root / "gt")!r}, {str(root / "res")!r}, "sav")
        """,
        """
        out["jobs"] = len(p.jobs)
        """,
        impl="fastmask.evaluation.plan",
    )
    assert got["jobs"] == PLAN_VIDEOS
    print(f"\nplan {PLAN_VIDEOS} videos: {got['seconds']:.3f} s, peak +{got['peak_mb']:.1f} MB")


def test_plan_by_listing_every_video(benchmark: Any) -> None:
    """The baseline: every video folder listed (and its entries stat-ed) at planning time."""
    root = _sav_root()
    got = _measure(
        benchmark,
        f"plan {PLAN_VIDEOS} SA-V videos",
        f"""
        gt = {str(root / "gt")!r}
        n = 0
        for v in sorted(os.listdir(gt)):
            if os.path.isdir(os.path.join(gt, v)):
                for e in sorted(os.listdir(os.path.join(gt, v))):
                    n += os.path.isdir(os.path.join(gt, v, e))
        """,
        impl="listing every video folder",
        baseline=True,
    )
    print(f"\nlisting {PLAN_VIDEOS} videos: {got['seconds']:.3f} s")


def test_memory_plan_and_partials_youtube_sized(benchmark: Any) -> None:
    root = _youtube_root()
    got = _measure(
        benchmark,
        f"plan + partials of {YT_VIDEOS} YouTube-VOS videos",
        f"""
        p = plan({str(root)!r}, {str(root / "res")!r}, "youtube-vos", split="train")
        parts = [run_job(j) for j in p.jobs]
        """,
        """
        out["plan_pickle_mb"] = len(pickle.dumps(p)) / 2**20
        out["partials_pickle_mb"] = sum(len(pickle.dumps(x)) for x in parts) / 2**20
        out["objects"] = sum(len(x.objects) for x in parts)
        out["frames"] = sum(x.n_frames for x in parts)
        """,
        impl="fastmask",
        target="< 200 MB",
    )
    print(
        f"\n{YT_VIDEOS} videos, {got['objects']} objects, {got['frames']} frames: peak "
        f"+{got['peak_mb']:.1f} MB RSS; pickled plan {got['plan_pickle_mb']:.2f} MB, partials "
        f"{got['partials_pickle_mb']:.2f} MB; {got['seconds']:.1f} s on 1 thread"
    )


@pytest.fixture(scope="module")
def youtube() -> Any:
    from fastmask.evaluation import plan

    root = _youtube_root()
    return lambda: plan(root, root / "res", "youtube-vos", split="train")


def _record(benchmark: Any, impl: str, fn: Any, baseline: bool = False) -> None:
    benchmark.group = f"evaluate {YT_VIDEOS} YouTube-VOS videos, {WORKERS} workers"
    benchmark.extra_info["impl"] = impl
    if baseline:
        benchmark.extra_info["baseline"] = True
    ev = benchmark.pedantic(fn, rounds=1, iterations=1)
    benchmark.extra_info["J_seen"] = ev.global_scores["J_seen"]


def test_in_process_threads(benchmark: Any, youtube: Any) -> None:
    from fastmask.evaluation import run

    run(youtube(), threads=WORKERS)  # page cache warm, like the others
    _record(
        benchmark, f"in-process, {WORKERS} threads", lambda: run(youtube(), threads=WORKERS), True
    )


def test_dask_local_cluster(benchmark: Any, youtube: Any) -> None:
    distributed = pytest.importorskip("distributed")
    from fastmask.evaluation import run

    with (
        distributed.LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        run(youtube(), client)  # workers import fastmask, page cache warm
        _record(benchmark, f"dask LocalCluster, {WORKERS} workers", lambda: run(youtube(), client))


def test_ray(benchmark: Any, youtube: Any) -> None:
    ray = pytest.importorskip("ray")
    from fastmask.evaluation import run

    ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
    try:
        run(youtube(), "ray")
        _record(benchmark, f"ray, {WORKERS} CPUs", lambda: run(youtube(), "ray"))
    finally:
        ray.shutdown()


def test_executors_interleaved(youtube: Any) -> None:
    """The three executors in turn, three times, clusters started once: medians on a
    shared machine mean more than the single rounds above. Prints and records nothing else."""
    if SMALL:
        pytest.skip("a second Ray and Dask cluster for one round: not in the short pass")
    distributed = pytest.importorskip("distributed")
    ray = pytest.importorskip("ray")
    import statistics

    from fastmask.evaluation import run

    rounds = 3
    times: dict[str, list[float]] = {"in-process": [], "dask": [], "ray": []}
    ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
    try:
        with (
            distributed.LocalCluster(
                n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            executors = {"in-process": None, "dask": client, "ray": "ray"}
            for ex in executors.values():
                run(youtube(), ex, threads=WORKERS if ex is None else None)  # warm
            for _ in range(rounds):
                for name, ex in executors.items():
                    t = time.perf_counter()
                    run(youtube(), ex, threads=WORKERS if ex is None else None)
                    times[name].append(time.perf_counter() - t)
    finally:
        ray.shutdown()
    base = statistics.median(times["in-process"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"\n{name:<10} {' / '.join(f'{t:.1f}' for t in ts)} s, median {med:.1f} s "
            f"({(med / base - 1) * 100:+.0f}% vs in-process)"
        )
