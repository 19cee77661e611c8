"""fastmask.metrics.statistics against the official ``db_statistics``, bit for bit.

The reference is davisvideochallenge/davis2017-evaluation @ ac7c43f ``davis2017/utils.py:
db_statistics`` rewritten step by step, run with the installed numpy (2.x): its decay-bin edges
are cast to uint8, which wraps from 256 frames on, and ``edge + 1`` stays uint8 under numpy 2's
promotion rules. ``decay="exact"`` is checked against the same formula without the cast.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from fastmask import metrics
from hypothesis import given, settings
from hypothesis import strategies as st


def ref_db_statistics(per_frame_values: np.ndarray) -> tuple[float, float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        m = np.nanmean(per_frame_values)
        o = np.nanmean(per_frame_values > 0.5)
        ids = np.round(np.linspace(1, len(per_frame_values), 5) + 1e-10) - 1
        ids = ids.astype(np.uint8)
        bins = [per_frame_values[ids[i] : ids[i + 1] + 1] for i in range(4)]
        d = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return m, o, d


def ref_statistics_exact(per_frame_values: np.ndarray) -> tuple[float, float, float]:
    """The same, with the bin edges the code means (int64, no cast)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        m = np.nanmean(per_frame_values)
        o = np.nanmean(per_frame_values > 0.5)
        n = len(per_frame_values)
        if n == 0:
            return m, o, np.nan
        ids = (np.round(np.linspace(1, n, 5) + 1e-10) - 1).astype(np.int64)
        bins = [per_frame_values[ids[i] : ids[i + 1] + 1] for i in range(4)]
        d = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return m, o, d


def same(a, b) -> bool:
    return bool(
        np.array_equal(np.asarray(a, np.float64), np.asarray(b, np.float64), equal_nan=True)
    )


def _values(n: int, seed: int, nan_share: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.random(n)
    v[rng.random(n) < 0.1] = 1.0
    v[rng.random(n) < 0.05] = 0.5  # exactly at the recall threshold
    v[rng.random(n) < nan_share] = np.nan
    return v


@pytest.mark.parametrize("nan_share", [0.0, 0.2, 1.0])
def test_every_length_up_to_300(nan_share):
    for n in range(0, 301):
        v = _values(n, n, nan_share)
        assert same(metrics.statistics(v), ref_db_statistics(v)), n
        assert same(metrics.statistics(v, decay="exact"), ref_statistics_exact(v)), n


def test_long_sequences_wrap_like_the_reference():
    diverged = 0
    for n in (255, 256, 257, 300, 511, 512, 1000, 1023, 2500):
        v = _values(n, n, 0.1)
        davis = metrics.statistics(v)
        assert same(davis, ref_db_statistics(v)), n
        exact = metrics.statistics(v, decay="exact")
        assert same(exact, ref_statistics_exact(v)), n
        diverged += not same(davis[2], exact[2])
    assert diverged >= 5  # the uint8 wrap really changes the reference's decay


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(0, 1), st.just(float("nan")), st.just(0.5), st.floats(-1e3, 1e3)),
        max_size=400,
    )
)
def test_arbitrary_values(values):
    v = np.array(values, dtype=np.float64)
    assert same(metrics.statistics(v), ref_db_statistics(v))
    assert same(metrics.statistics(v, decay="exact"), ref_statistics_exact(v))


def test_rows_are_objects():
    v = np.stack([_values(80, s, 0.1) for s in range(5)])
    m, r, d = metrics.statistics(v)
    assert m.shape == r.shape == d.shape == (5,)
    for i in range(5):
        assert same((m[i], r[i], d[i]), ref_db_statistics(v[i]))
    # a non-contiguous column slice works the same
    m2, _, _ = metrics.statistics(np.asfortranarray(v))
    assert same(m2, m)


def test_scalars_and_errors():
    m, r, d = metrics.statistics([0.2, 0.9])
    assert all(type(x) is float for x in (m, r, d))
    with pytest.raises(ValueError, match="decay"):
        metrics.statistics([0.5], decay="fixed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(T,\) or \(N, T\)"):
        metrics.statistics(np.zeros((2, 2, 2)))
