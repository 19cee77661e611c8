"""What a second thread costs: spawn and join of one scoped worker per call.

Two one-pixel frames make the work itself negligible, so the difference between the two
implementations is the per-call cost of one extra thread (``crate::parallel``). The thread
defaults of ``read_pngs`` and ``fastmask.coco`` are set against this figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastmask import metrics

TINY = np.zeros((2, 1, 1), np.uint8)


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_overhead(benchmark: Any, threads: int) -> None:
    benchmark.group = "per-call thread overhead (2 tiny frames)"
    benchmark.extra_info["impl"] = f"threads={threads}"
    if threads == 1:
        benchmark.extra_info["baseline"] = True
    out = benchmark(metrics.jaccard, TINY, TINY, threads=threads)
    assert out.tolist() == [1.0, 1.0]
