"""``fastmask.evaluate``: plan + run + merge for any protocol."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Literal

from fastmask.evaluation._plan import plan, run
from fastmask.evaluation._result import Evaluation
from fastmask.evaluation.protocols import PROTOCOLS as _RULES

PROTOCOLS = tuple(_RULES)
TASKS = ("semi-supervised", "unsupervised")


def evaluate(
    gt: str | os.PathLike[str],
    results: str | os.PathLike[str],
    protocol: str = "davis2017",
    *,
    task: str = "semi-supervised",
    subset: str = "val",
    resolution: str = "480p",
    skip_first_and_last: bool = True,
    sequences: Sequence[str] | None = None,
    allow_missing: bool = False,
    bound_th: float = 0.008,
    decay: Literal["davis", "exact"] | None = None,
    threads: int | None = None,
    progress: bool | Callable[[int, int], None] = False,
    max_pixels: int | None = None,
    executor: Any = None,
    **protocol_options: Any,
) -> Evaluation:
    """Evaluate a folder of result masks against ground truth with a reference tool's rules.

    Protocols (``protocol=``), each reproducing its tool's numbers and files exactly:

    - ``"davis2017"``: davis2017-evaluation. ``gt`` is a DAVIS root
      (``ImageSets/2017/<subset>.txt``,
      ``Annotations/<resolution>/<seq>/*.png``; ``Annotations_unsupervised`` for
      ``task="unsupervised"``). Objects are 1..N, N the largest label of the first frame;
      semi-supervised drops the first and last frames and ignores void (255 counts as background);
      unsupervised scores every frame, removes void pixels, and matches up to 20 proposals to the
      objects (Hungarian, as scipy's ``linear_sum_assignment``).
    - ``"davis2016"``: the same rules on binary masks (foreground = non-zero), one object per
      sequence; sequence list ``ImageSets/2016/<subset>.txt`` (or the 2016 ``ImageSets/480p``).
    - ``"vos-benchmark"``: ``gt/<video>/<frame>.png``; objects are the labels seen in the ground
      truth, each scored from the frame where it is first seen (ground truth or result);
      ``skip_first_and_last`` as its ``-d`` flag.
    - ``"sav"``: SA-V, ``gt/<video>/<obj>/<frame>.png`` binary masks, each object on its own frames.
    - ``"youtube-vos"``, ``"mose"``, ``"mosev2"``, ``"lvos"``, ``"sparse"``: the dataset protocols
      (the modules of ``fastmask.evaluation.protocols`` say what each reproduces and which
      choices it makes). They take their own keyword options
      (``split=``, ``meta=``, ``seen=``, ``unseen=``, ``objects=``, ``skip_first=``); ``write``
      gives their tool's files (MOSE-api ``metrics.json`` / ``scores.txt``, LVOS CSVs).

    ``results/<seq>/<frame>.png`` (same names as the ground truth) hold palette / gray label maps
    (8-bit; RGB masks are read through the DAVIS palette, as ``fastmask.read_png`` does).
    Missing result frames raise ``EvaluationError`` naming them, unless ``allow_missing=True``
    (scored as empty masks, counted in ``Evaluation.missing``). ``sequences``: evaluate only
    these. ``bound_th``: the boundary tolerance (fraction of the diagonal, or pixels if >= 1).
    ``decay``: ``"davis"`` (the default of the DAVIS-family protocols) keeps the official uint8
    decay bins, which are wrong for sequences of 256 frames or more (LVOS, MOSE); ``"exact"``
    uses the intended bins (the default of mose, lvos and sparse).
    ``threads``: worker threads (None: ``FASTMASK_NUM_THREADS`` when set, else the CPUs this
    process may run on; with an ``executor``, threads per task, default 1). ``progress``: True
    for a progress bar on stderr, or a callable ``(done, total)`` called once per video.
    ``max_pixels``: the decoders' pixel limit for this evaluation (default
    ``fastmask.get_max_pixels()``); it travels with every job, to any worker. ``executor``: a
    ``concurrent.futures.Executor``, a ``dask.distributed.Client`` or ``"ray"`` to score batches
    of videos there (``fastmask.evaluation.run``). An empty sequence list is an error.

    This is ``fastmask.evaluation.plan`` + ``run``; use those to split the work yourself
    (``Plan.jobs``, ``run_job``, ``Plan.merge``).

    Returns an ``Evaluation`` (per-object per-frame J and F, tables, global numbers, ``write``).

    Where fastmask departs from the tools, it refuses input they mishandle or needs less:
    where they exit (a missing result frame, a label above the object count or 20 proposals)
    or crash (a size mismatch; an SA-V object whose ground truth is empty in every scored
    frame), fastmask raises an error naming the file; DAVIS ``JPEGImages`` are not needed;
    vos-benchmark / SA-V read only ``*.png`` frames, and a ground-truth video without a result
    folder is an error (their command line skips it silently; pass ``sequences=`` to evaluate
    a subset).

    >>> ev = fastmask.evaluate("DAVIS", "results/osvos", "davis2017")  # doctest: +SKIP
    >>> ev.global_scores["J&F-Mean"], ev.write("results/osvos")  # doctest: +SKIP
    """
    p = plan(
        gt,
        results,
        protocol,
        task=task,
        subset=subset,
        resolution=resolution,
        skip_first_and_last=skip_first_and_last,
        sequences=sequences,
        allow_missing=allow_missing,
        bound_th=bound_th,
        decay=decay,
        max_pixels=max_pixels,
        **protocol_options,
    )
    return run(p, executor, threads=threads, progress=progress)
