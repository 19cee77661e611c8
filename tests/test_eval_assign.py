"""The pure-Python assignment used by DAVIS unsupervised matching returns exactly what
``scipy.optimize.linear_sum_assignment`` returns, ties included (scipy is only a test
dependency)."""

from __future__ import annotations

import numpy as np
import pytest
from fastmask.evaluation import linear_sum_assignment
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linear_sum_assignment as scipy_lsa


def check(cost: np.ndarray) -> None:
    rows, cols = scipy_lsa(cost)
    assert linear_sum_assignment(cost.tolist()) == (rows.tolist(), cols.tolist())


@settings(max_examples=400, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 8), st.integers(1, 8)),
        # Few distinct values: ties everywhere, as (J + F) / 2 of empty proposals gives.
        elements=st.sampled_from([0.0, -0.25, -0.5, -1.0, -0.125, 3.0]),
    )
)
def test_ties_like_scipy(cost):
    check(cost)


@pytest.mark.parametrize("seed", range(5))
def test_random_and_davis_shaped(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        n_obj = int(rng.integers(1, 6))
        n_prop = int(rng.integers(n_obj, 21))  # proposals padded to >= objects, at most 20
        check(-rng.random((n_prop, n_obj)))
        check(rng.integers(-3, 3, (int(rng.integers(1, 9)), int(rng.integers(1, 9)))).astype(float))


def test_empty_and_bad_input():
    assert linear_sum_assignment([]) == ([], [])
    assert linear_sum_assignment([[]]) == ([], [])
    with pytest.raises(ValueError, match="finite"):
        linear_sum_assignment([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="same length"):
        linear_sum_assignment([[1.0, 2.0], [1.0]])
