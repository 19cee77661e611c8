"""Evaluation of video-object-segmentation results with the rules of the reference tools.

``evaluate(gt, results, protocol=...)`` returns an ``Evaluation``; ``Evaluation.write(folder)``
writes the files the named tool writes. Protocols: ``davis2017`` (semi-supervised and
unsupervised), ``davis2016``, ``vos-benchmark``, ``sav``; the dataset protocols ``youtube-vos``,
``mose``, ``mosev2``, ``lvos`` and ``sparse`` return a ``DatasetEvaluation``. The
``fastmask eval`` command is in ``fastmask.evaluate.cli``.
"""

from fastmask.evaluate._api import PROTOCOLS, TASKS, evaluate
from fastmask.evaluate._assign import linear_sum_assignment
from fastmask.evaluate._dsresult import DatasetEvaluation, ObjectResult
from fastmask.evaluate._evaluation import Evaluation, ObjectScore

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
