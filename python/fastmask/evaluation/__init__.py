"""Evaluation of video-object-segmentation results with the rules of the reference tools.

``evaluate(gt, results, protocol=...)`` returns an ``Evaluation``; ``Evaluation.write(folder)``
writes the files the named tool writes. Protocols: ``davis2017`` (semi-supervised and
unsupervised), ``davis2016``, ``vos-benchmark``, ``sav``, ``youtube-vos``, ``mose``, ``mosev2``,
``lvos`` and ``sparse`` (``fastmask.evaluation.protocols`` says what each reproduces and how to
add one). The ``fastmask eval`` command is in ``fastmask.evaluation.cli``.

To spread an evaluation over processes or machines: ``plan(...)`` discovers the videos once
(``Plan.jobs``, one picklable ``Job`` per video carrying every option, ``max_pixels``
included); ``run_job(job)`` scores one video into a picklable ``Partial``; ``Plan.merge``
gives the same ``Evaluation`` (numbers and files) as ``evaluate`` whatever the order.
``run(plan, executor)`` does this on a ``concurrent.futures.Executor``, a
``dask.distributed.Client`` or ``"ray"``, a batch of videos per task.

Example:
    >>> p = fastmask.evaluation.plan("DAVIS", "results/osvos")  # doctest: +SKIP
    >>> from concurrent.futures import ProcessPoolExecutor  # doctest: +SKIP
    >>> with ProcessPoolExecutor(4) as pool:  # doctest: +SKIP
    ...     ev = fastmask.evaluation.run(p, pool)
"""

from fastmask.evaluation._api import PROTOCOLS, TASKS, evaluate
from fastmask.evaluation._assign import linear_sum_assignment
from fastmask.evaluation._jobs import Job, Partial, Settings
from fastmask.evaluation._plan import Plan, batches, default_threads, plan, run, run_job
from fastmask.evaluation._result import DatasetEvaluation, Evaluation, ObjectResult, ObjectScore
from fastmask.evaluation._stream import Evaluator

__all__ = [
    "PROTOCOLS",
    "TASKS",
    "DatasetEvaluation",
    "Evaluation",
    "Evaluator",
    "Job",
    "ObjectResult",
    "ObjectScore",
    "Partial",
    "Plan",
    "Settings",
    "batches",
    "default_threads",
    "evaluate",
    "linear_sum_assignment",
    "plan",
    "run",
    "run_job",
]
