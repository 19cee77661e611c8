"""``fastmask.evaluate``: dataset discovery, the compiled engine, the protocol rules, the result."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from numpy.typing import ArrayLike

from fastmask.evaluation import _engine, _progress
from fastmask.evaluation._dataset_protocols import DATASET_PROTOCOLS, dispatch
from fastmask.evaluation._diagnose import suggest_protocol
from fastmask.evaluation._discover import Plan, plan_davis, plan_sav, plan_vos
from fastmask.evaluation._dsresult import DatasetEvaluation
from fastmask.evaluation._evaluation import (
    Evaluation,
    ObjectScore,
    davis_objects,
    davis_unsupervised,
    vos_objects,
)
from fastmask.png import _palette_bytes

PROTOCOLS = ("davis2017", "davis2016", "vos-benchmark", "sav", *DATASET_PROTOCOLS)
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
    colormap: ArrayLike | None = None,
    **protocol_options: Any,
) -> Evaluation | DatasetEvaluation:
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
      (``fastmask.evaluation._youtube_vos``, ``_mose``, ``_lvos``, ``_sparse`` say what each
      reproduces and which choices it makes). They take their own keyword options
      (``split=``, ``meta=``, ``seen=``, ``unseen=``, ``objects=``, ``skip_first=``) and return a
      ``DatasetEvaluation`` whose ``write`` gives their tool's files (MOSE-api ``metrics.json`` /
      ``scores.txt``, LVOS CSVs).

    ``results/<seq>/<frame>.png`` (same names as the ground truth) hold palette / gray label maps
    (8-bit; RGB masks are read through the DAVIS palette, as ``fastmask.read_png`` does).
    Missing result frames raise ``EvaluationError`` naming them, unless ``allow_missing=True``
    (scored as empty masks, counted in ``Evaluation.missing``). ``sequences``: evaluate only
    these. ``bound_th``: the boundary tolerance (fraction of the diagonal, or pixels if >= 1).
    ``decay``: ``"davis"`` (the default of the DAVIS-family protocols) keeps the official uint8
    decay bins, which are wrong for sequences of 256 frames or more (LVOS, MOSE); ``"exact"``
    uses the intended bins (the default of mose, lvos and sparse).
    ``colormap``: ``(N, 3)`` colours of masks saved as RGB(A) pictures, label i = colour i
    (default: the DAVIS palette, as ``fastmask.read_png``); davis2017, davis2016, vos-benchmark
    and sav. ``threads``: worker threads (None: all cores). ``progress``: True for a progress bar on
    stderr, or a callable ``(done, total)``.

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
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}"
            + suggest_protocol(protocol, PROTOCOLS)
        )
    if colormap is not None and protocol in DATASET_PROTOCOLS:
        raise ValueError(f"colormap= is not available for protocol {protocol!r}")
    cmap = _palette_bytes(colormap, "colormap")  # checked before any folder is listed
    if protocol in DATASET_PROTOCOLS:
        return dispatch(
            gt,
            results,
            protocol,
            task=task,
            subset=subset,
            resolution=resolution,
            sequences=sequences,
            allow_missing=allow_missing,
            bound_th=bound_th,
            decay=decay,
            threads=threads,
            options=protocol_options,
            progress=progress,
        )
    if protocol_options:
        raise TypeError(
            f"unexpected options for protocol {protocol!r}: {', '.join(protocol_options)}"
        )
    if not bound_th > 0:
        raise ValueError(f"bound_th must be > 0, got {bound_th}")
    gt_path, res_path = Path(gt), Path(results)
    seqs = list(sequences) if sequences is not None else None
    t0 = _engine.now()
    plans: list[Plan]
    if protocol in ("davis2017", "davis2016"):
        plans = [
            plan_davis(
                gt_path,
                res_path,
                subset=subset,
                task=task,
                resolution=resolution,
                binary=protocol == "davis2016",
                sequences=seqs,
                allow_missing=allow_missing,
            )
        ]
        options: dict[str, object] = {"task": task, "subset": subset, "resolution": resolution}
    elif protocol == "vos-benchmark":
        plans = [
            plan_vos(
                gt_path,
                res_path,
                skip_first_and_last=skip_first_and_last,
                sequences=seqs,
                allow_missing=allow_missing,
            )
        ]
        options = {"skip_first_and_last": skip_first_and_last}
    else:
        plans = list(
            plan_sav(
                gt_path,
                res_path,
                skip_first_and_last=skip_first_and_last,
                sequences=seqs,
                allow_missing=allow_missing,
            )
        )
        options = {"skip_first_and_last": skip_first_and_last}

    for plan in plans:
        plan.colormap = cmap
    total = sum(len(p.jobs) for p in plans)
    bar = None
    done = 0
    callback: Callable[[int], None] | None = None
    if progress is True:
        bar = _progress.bar(total, "seq", f"fastmask eval {protocol}")
        callback = bar.update
    elif callable(progress):
        user = progress

        def callback(n: int) -> None:
            nonlocal done
            done += n
            user(done, total)

    objects: list[ObjectScore] = []
    timings = dict.fromkeys(_engine.STAGES, 0.0)
    try:
        for plan in plans:
            scores, stage = _engine.run(plan, threads, bound_th, callback)
            for k, v in stage.items():
                timings[k] += v
            for job, s in zip(plan.jobs, scores):
                if plan.protocol in ("davis2017", "davis2016"):
                    rule = davis_unsupervised if plan.cross else davis_objects
                else:
                    rule = vos_objects
                objects.extend(rule(plan, job, s))
    finally:
        if bar is not None:
            bar.close()
    if protocol == "sav":
        # Videos in name order, as the SA-V evaluator reports them (stable: objects keep order).
        objects.sort(key=lambda o: o.sequence)
    jobs = [j for p in plans for j in p.jobs]
    timings["total"] = _engine.now() - t0
    return Evaluation(
        protocol,
        options,
        objects,
        n_sequences=len({j.sequence for j in jobs}),
        n_frames=sum(len(j.gt) for j in jobs),
        missing=sum(j.missing for j in jobs),
        timings=timings,
        decay=decay or "davis",
    )
