"""Moved to :mod:`fastmask.evaluation.metrics` (the per-frame scores of the evaluation
protocols); this name stays as an alias.

Example:
    >>> from fastmask.datasets import scores
    >>> scores.lvos_v([1.0, 0.5], [1.0, 0.5])
    0.25
"""

from fastmask.evaluation.metrics import *  # noqa: F403
from fastmask.evaluation.metrics import __all__ as __all__
