"""Evaluation of video-object-segmentation results with the rules of the reference tools.

``evaluate(gt, results, protocol=...)`` returns an ``Evaluation``; ``Evaluation.write(folder)``
writes the files the named tool writes. Protocols: ``davis2017`` (semi-supervised and
unsupervised), ``davis2016``, ``vos-benchmark``, ``sav``; the dataset protocols ``youtube-vos``,
``mose``, ``mosev2``, ``lvos`` and ``sparse`` return a ``DatasetEvaluation``. The
``fastmask eval`` command is in ``fastmask.evaluation.cli``.
"""

from fastmask.evaluation._api import PROTOCOLS, TASKS, evaluate
from fastmask.evaluation._assign import linear_sum_assignment
from fastmask.evaluation._dsresult import DatasetEvaluation, ObjectResult
from fastmask.evaluation._evaluation import Evaluation, ObjectScore

__all__ = [
    "PROTOCOLS",
    "TASKS",
    "DatasetEvaluation",
    "Evaluation",
    "ObjectResult",
    "ObjectScore",
    "evaluate",
    "linear_sum_assignment",
]
