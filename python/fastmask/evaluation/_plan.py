"""One pipeline for every protocol: ``plan`` (discovery once) -> ``Job`` per video ->
``run_job`` (a ``Partial``) -> ``Plan.merge`` (the ``Evaluation``); ``run`` drives it in-process
or on an executor (``concurrent.futures``, Dask, Ray), shipping batches of videos per task.

Threads: ``threads=None`` means ``FASTMASK_NUM_THREADS`` when set, else the CPUs this process
may run on (``os.sched_getaffinity``); tasks on an executor use ``threads=1`` unless told
otherwise, since the executor already runs one task per core (workers x cores threads would
oversubscribe every machine).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastmask.evaluation import _engine, _progress
from fastmask.evaluation._engine import FrameJob, JobScores, Rule
from fastmask.evaluation._jobs import Job, Partial, Settings
from fastmask.evaluation._result import Evaluation
from fastmask.evaluation.metrics import _DECAY_NAMES
from fastmask.evaluation.protocols import get_protocol
from fastmask.evaluation.protocols._base import Work

Progress = bool | Callable[[int, int], None]


def default_threads() -> int:
    """``FASTMASK_NUM_THREADS`` when set, else the number of CPUs this process may run on.

    >>> default_threads() >= 1
    True
    """
    env = os.environ.get("FASTMASK_NUM_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"FASTMASK_NUM_THREADS must be a positive integer, got {env!r}")
        return n
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _threads(threads: int | None) -> int:
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    return threads


@dataclass
class Plan:
    """What ``fastmask.evaluation.plan`` found: the ``jobs`` (one per video, picklable), the
    ``settings`` they share, and what ``merge`` needs to build the ``Evaluation``.

    >>> p = fastmask.evaluation.plan("DAVIS", "results/osvos")  # doctest: +SKIP
    >>> ev = p.merge([fastmask.evaluation.run_job(j) for j in p.jobs])  # doctest: +SKIP
    """

    protocol: str
    settings: Settings
    jobs: list[Job]
    options: dict[str, Any] = field(default_factory=dict)
    #: wall-clock time (``time.time()``) when planning started: ``timings["total"]`` counts
    #: from here
    started: float = 0.0

    def __len__(self) -> int:
        return len(self.jobs)

    def merge(self, partials: Iterable[Partial], *, seconds: float | None = None) -> Evaluation:
        """The ``Evaluation`` of every job's ``Partial``, in any order (each job exactly once).

        ``seconds``: the wall time to report as ``timings["total"]`` (default: since
        planning started)."""
        by_index: dict[int, Partial] = {}
        for p in partials:
            if p.index in by_index:
                raise ValueError(f"job {p.index} ({p.sequence!r}) merged twice")
            if not 0 <= p.index < len(self.jobs) or self.jobs[p.index].sequence != p.sequence:
                raise ValueError(f"partial {p.index} ({p.sequence!r}) is not a job of this plan")
            by_index[p.index] = p
        if len(by_index) != len(self.jobs):
            absent = [j.sequence for j in self.jobs if j.index not in by_index]
            shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if absent[5:] else "")
            raise ValueError(f"{len(absent)} job(s) have no partial result: {shown}")
        return self._evaluation([by_index[i] for i in range(len(self.jobs))], seconds)

    def _evaluation(self, ordered: list[Partial], seconds: float | None = None) -> Evaluation:
        """The ``Evaluation`` of ``ordered`` partials (no checks: ``merge`` makes them whole;
        the streaming ``Evaluator`` passes one sequence's). ``seconds`` defaults to the time
        since planning started."""
        timings = dict.fromkeys(_engine.STAGES, 0.0)
        for p in ordered:
            for k, v in p.timings.items():
                timings[k] = timings.get(k, 0.0) + v
        timings["total"] = seconds if seconds is not None else time.time() - self.started
        return Evaluation(
            self.protocol,
            dict(self.options),
            [o for p in ordered for o in p.objects],
            n_sequences=sum(p.counted for p in ordered),
            n_frames=sum(p.n_frames for p in ordered),
            missing=sum(p.missing for p in ordered),
            timings=timings,
            decay=self.settings.decay,  # type: ignore[arg-type]
        )


def plan(
    gt: str | os.PathLike[str],
    results: str | os.PathLike[str],
    protocol: str = "davis2017",
    *,
    task: str = "semi-supervised",
    subset: str | None = "val",
    resolution: str = "480p",
    skip_first_and_last: bool = True,
    sequences: Sequence[str] | None = None,
    allow_missing: bool = False,
    bound_th: float = 0.008,
    decay: str | None = None,
    max_pixels: int | None = None,
    colormap: Any = None,
    **options: Any,
) -> Plan:
    """Discover what to score: one ``Job`` per video (see ``fastmask.evaluate`` for the
    arguments). Reads the sequence list (ImageSets, meta.json, or one listing of the root);
    each video's frames are listed by its job, in the worker. ``max_pixels``: the decoders'
    pixel limit for every job (default: ``fastmask.get_max_pixels()`` now). ``colormap``:
    ``(N, 3)`` colours of RGB(A) masks (protocols scored from label maps by the engine:
    davis2017, davis2016, vos-benchmark, sav), checked before any folder is listed.

    >>> p = fastmask.evaluation.plan("DAVIS", "results/osvos", "davis2017")  # doctest: +SKIP
    >>> len(p.jobs), p.jobs[0].sequence  # doctest: +SKIP
    (30, 'bike-packing')
    """
    from fastmask.png import _limit, _palette_bytes

    started = time.time()
    rules = get_protocol(protocol)
    common = {
        "task": task,
        "subset": subset,
        "resolution": resolution,
        "skip_first_and_last": skip_first_and_last,
    }
    if colormap is not None and not rules.takes_colormap:
        raise ValueError(f"colormap= is not available for protocol {protocol!r}")
    cmap = _palette_bytes(colormap, "colormap")  # checked before any folder is listed
    own = rules.configure(common, dict(options))
    if rules.takes_bound_th:
        if not bound_th > 0:
            raise ValueError(f"bound_th must be > 0, got {bound_th}")
    elif bound_th != 0.008:
        raise ValueError(f"protocol {protocol!r} uses its tool's boundary rule; bound_th is fixed")
    if allow_missing and not rules.takes_allow_missing:
        raise ValueError(
            "mosev2 follows score.py: a missing result video scores 0 and a missing frame is an "
            "error; allow_missing is not available"
        )
    decay = rules.default_decay if decay is None else decay
    if decay not in _DECAY_NAMES:
        raise ValueError(f"decay must be 'davis' or 'exact'; got {decay!r}")
    limit = _limit(max_pixels)
    settings = Settings(
        protocol=protocol,
        gt=str(Path(gt)),
        results=str(Path(results)),
        allow_missing=allow_missing,
        bound_th=float(bound_th),
        decay=_DECAY_NAMES[decay],
        max_pixels=limit,
        colormap=cmap,
        options=own,
    )
    seqs = None if sequences is None else [str(s) for s in sequences]
    found = rules.discover(settings, seqs)
    jobs = [Job(i, name, settings, data) for i, (name, data) in enumerate(found)]
    return Plan(protocol, settings, jobs, rules.public_options(settings), started)


# ----- running jobs -----------------------------------------------------------------------------


def run_job(job: Job, threads: int = 1) -> Partial:
    """Score one video: a ``Partial`` for ``Plan.merge``. Pure: it reads only the job's
    files and the options the job carries.

    >>> part = fastmask.evaluation.run_job(plan.jobs[0])  # doctest: +SKIP
    """
    return run_jobs([job], threads)[0]


def run_jobs(
    jobs: Sequence[Job], threads: int = 1, on_done: Callable[[int], None] | None = None
) -> list[Partial]:
    """Score ``jobs`` in order, frames of several videos per engine call; ``on_done(1)`` after
    each video."""
    out: list[Partial] = []
    pending: list[tuple[Job, Work]] = []
    frames = 0
    for i, job in enumerate(jobs):
        work = get_protocol(job.settings.protocol).prepare(job)
        pending.append((job, work))
        frames += sum(len(fj.gt) for fj in work.frame_jobs)
        if frames >= _engine.BATCH_FRAMES or i == len(jobs) - 1:
            out += _score(pending, threads, on_done)
            pending, frames = [], 0
    return out


def _score(
    pending: list[tuple[Job, Work]], threads: int, on_done: Callable[[int], None] | None
) -> list[Partial]:
    """The engine over the frame jobs of ``pending`` (one call per label rule), then each
    protocol's ``finish``."""
    groups: dict[tuple[Rule, float, int, bytes | None], list[FrameJob]] = {}
    for job, work in pending:
        s = job.settings
        key = (work.rule, s.bound_th, s.max_pixels, s.colormap)
        groups.setdefault(key, []).extend(work.frame_jobs)
    timings: dict[str, float] = {}
    results: dict[int, JobScores] = {}
    for (rule, bound_th, max_pixels, colormap), fjs in groups.items():
        scores = _engine.run(
            fjs,
            rule,
            threads=threads,
            bound_th=bound_th,
            max_pixels=max_pixels,
            timings=timings,
            colormap=colormap,
        )
        results.update((id(fj), s) for fj, s in zip(fjs, scores))
    out = []
    for n, (job, work) in enumerate(pending):
        t0 = time.perf_counter()
        rules = get_protocol(job.settings.protocol)
        scored = rules.finish(job, work, [results[id(fj)] for fj in work.frame_jobs], threads)
        stage = dict(timings) if n == 0 else {}
        stage["finish"] = time.perf_counter() - t0
        out.append(Partial.from_scored(job, scored, stage))
        if on_done is not None:
            on_done(1)
    return out


def _run_batch(jobs: list[Job], threads: int) -> list[Partial]:
    """One executor task: a batch of videos."""
    return run_jobs(jobs, threads)


# ----- executors --------------------------------------------------------------------------------


class _Tracker:
    """Progress over the videos: a tqdm bar on stderr when it is a terminal, plain periodic
    lines when it is not (``_progress.bar``; opened at the first finished video, so an input
    error found before any video is scored prints only its message), a user callback
    ``(done, total)``, or nothing."""

    def __init__(self, total: int, progress: Progress, desc: str) -> None:
        self.total, self.progress, self.desc = total, progress, desc
        self.done = 0
        self.bar: Any = None

    def __call__(self, n: int) -> None:
        if self.progress is True:
            if self.bar is None:
                self.bar = _progress.bar(self.total, "video", self.desc)
            self.bar.update(n)
        elif callable(self.progress):
            for _ in range(n):
                self.done += 1
                self.progress(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _kind(executor: Any) -> str:
    if executor is None:
        return "local"
    if isinstance(executor, str):
        if executor == "ray":
            return "ray"
        raise ValueError(f"executor must be an Executor, a dask Client or 'ray'; got {executor!r}")
    mod = type(executor).__module__
    if mod.startswith("distributed") and type(executor).__name__ == "Client":
        return "dask"
    from concurrent.futures import Executor

    if isinstance(executor, Executor):
        return "futures"
    raise TypeError(
        "executor must be a concurrent.futures.Executor, a dask.distributed.Client or 'ray'; "
        f"got {type(executor).__name__}"
    )


def _workers(kind: str, executor: Any) -> int:
    if kind == "dask":
        return max(1, sum(executor.nthreads().values()))
    if kind == "ray":
        import ray  # type: ignore[import-not-found]

        return max(1, int(ray.cluster_resources().get("CPU", 1)))
    return max(1, int(getattr(executor, "_max_workers", 0) or os.cpu_count() or 1))


def batches(jobs: Sequence[Any], workers: int, batch_size: int | None = None) -> list[list[Any]]:
    """Jobs in consecutive batches: ``batch_size`` videos each, by default about four tasks per
    worker (load balance) and at most 256 videos per task (a progress step, a bounded result).

    >>> [len(b) for b in batches(list(range(10)), workers=2)]  # doctest: +SKIP
    [2, 2, 2, 2, 2]
    """
    if batch_size is None:
        batch_size = min(256, max(1, math.ceil(len(jobs) / (4 * workers))))
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [list(jobs[i : i + batch_size]) for i in range(0, len(jobs), batch_size)]


def run(
    plan: Plan,
    executor: Any = None,
    *,
    threads: int | None = None,
    batch_size: int | None = None,
    progress: Progress = False,
) -> Evaluation:
    """Score every job of ``plan`` and merge: in this process (``executor=None``, ``threads``
    engine threads, default :func:`default_threads`), or on ``executor``: a
    ``concurrent.futures.Executor``, a ``dask.distributed.Client``, or ``"ray"`` (the running
    Ray cluster, ``ray.init()`` when none is). Each task scores a batch of videos
    (``batch_size``, default about four tasks per worker) with ``threads`` threads (default 1).
    The files are byte-identical whatever the executor.

    >>> from dask.distributed import Client  # doctest: +SKIP
    >>> ev = fastmask.evaluation.run(plan, Client("tcp://scheduler:8786"))  # doctest: +SKIP
    """
    desc = f"fastmask eval {plan.protocol}"
    partials = _execute(plan.jobs, executor, threads, batch_size, progress, desc, run_jobs)
    return plan.merge(partials)


def _execute(
    jobs: Sequence[Any],
    executor: Any,
    threads: int | None,
    batch_size: int | None,
    progress: Progress,
    desc: str,
    local_fn: Callable[[Sequence[Any], int, Callable[[int], None]], list[Any]],
    batch_fn: Callable[[list[Any], int], list[Any]] = _run_batch,
) -> list[Any]:
    """Run ``jobs`` as ``run`` does (``fastmask.convert`` too): ``local_fn(jobs, threads,
    step)`` in this process, else ``batch_fn(batch, threads)`` per batch on ``executor``;
    results in completion order, progress shown as ``desc``."""
    kind = _kind(executor)
    step = _Tracker(len(jobs), progress, desc)
    try:
        if kind == "local":
            return local_fn(jobs, _threads(threads), step)
        per_task = 1 if threads is None else _threads(threads)
        if kind == "ray":
            import ray

            if not ray.is_initialized():
                ray.init()
        work = batches(jobs, _workers(kind, executor), batch_size)
        return _submit(kind, executor, work, per_task, step, batch_fn)
    finally:
        step.close()


def _submit(
    kind: str,
    executor: Any,
    work: list[list[Any]],
    threads: int,
    step: Callable[[int], None],
    fn: Callable[[list[Any], int], list[Any]] = _run_batch,
) -> list[Any]:
    """Run ``fn(batch, threads)`` for every batch on the executor (``fastmask.convert`` passes
    its own ``fn``); ``step(n)`` as each batch of ``n`` results comes back."""
    out: list[Any] = []
    if kind == "futures":
        from concurrent.futures import as_completed

        futures = [executor.submit(fn, b, threads) for b in work]
        try:
            for fut in as_completed(futures):
                got = fut.result()
                out += got
                step(len(got))
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    elif kind == "dask":
        from distributed import as_completed as dask_completed  # type: ignore[import-not-found]

        futures = [executor.submit(fn, b, threads, pure=False) for b in work]
        try:
            for fut in dask_completed(futures):
                got = fut.result()
                out += got
                step(len(got))
        except BaseException:
            executor.cancel(futures)
            raise
    else:
        import ray

        task = ray.remote(num_cpus=threads)(fn)
        refs = [task.remote(b, threads) for b in work]
        try:
            while refs:
                ready, refs = ray.wait(refs, num_returns=1)
                got = ray.get(ready[0])
                out += got
                step(len(got))
        except BaseException:
            for r in refs:
                ray.cancel(r)
            raise
    return out
