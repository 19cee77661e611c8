"""fastmask.datasets.scores against the step-by-step references on many random inputs
(hypothesis): MOSE v2 J, adaptive / plain boundary F with both radius branches and
non-integer radii, disappear / reappear stretches, LVOS V, DAVIS statistics with both decays."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from dsref import ref
from fastmask.datasets import scores
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("fastmask.metrics")


@st.composite
def mask_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    h = draw(st.integers(90, 140))  # diagonal >= 125 px: radius >= 1
    w = draw(st.integers(90, 160))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    t = draw(st.integers(1, 4))
    yy, xx = np.mgrid[:h, :w]
    g = np.zeros((t, h, w), bool)
    p = np.zeros((t, h, w), bool)
    for i in range(t):
        kind = draw(st.sampled_from(["empty", "tiny", "blob", "full-ish"]))
        if kind != "empty":
            scale = {"tiny": 0.03, "blob": 0.2, "full-ish": 0.45}[kind]
            cy, cx = rng.uniform(0.2, 0.8, 2) * (h, w)
            ry, rx = rng.uniform(0.5, 1.0, 2) * scale * (h, w)
            g[i] = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        mode = draw(st.sampled_from(["shift", "noise", "empty", "same"]))
        if mode == "shift":
            p[i] = np.roll(g[i], tuple(rng.integers(-4, 5, 2)), axis=(0, 1))
        elif mode == "noise":
            p[i] = g[i] ^ (rng.random((h, w)) < 0.02)
        elif mode == "same":
            p[i] = g[i]
    return g, p


@settings(max_examples=40, deadline=None)
@given(mask_pairs())
def test_mosev2_frame_scores(pair: tuple[np.ndarray, np.ndarray]) -> None:
    g, p = pair
    j, empty = scores.smoothed_jaccard(g, p)
    rj, rempty = ref.mose_iou(g.astype(np.uint8), p.astype(np.uint8))
    np.testing.assert_array_equal(j, rj)
    np.testing.assert_array_equal(empty, rempty)
    f_plain, f_dot = scores.mosev2_boundary(g, p, threads=1)
    want = [
        ref.f_measure_adaptive(p[i].astype(np.uint8), g[i].astype(np.uint8)) for i in range(len(g))
    ]
    np.testing.assert_allclose(f_plain, [a for a, _ in want], rtol=0, atol=1e-12)
    np.testing.assert_allclose(f_dot, [b for _, b in want], rtol=0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.floats(1.0, 12.0), mask_pairs())
def test_boundary_f_any_radius(radius: float, pair: tuple[np.ndarray, np.ndarray]) -> None:
    g, p = pair
    got = scores.boundary_f_radius(g, p, radius)
    want = [
        ref.f_measure_pix(p[i].astype(np.uint8), g[i].astype(np.uint8), radius)
        for i in range(len(g))
    ]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=40)
)
def test_disappear_reappear(frames: list[tuple[bool, float, float]]) -> None:
    empty = np.array([e for e, _, _ in frames])
    j = np.array([a for _, a, _ in frames])
    f = np.array([b for _, _, b in frames])
    want = ref.mose_merge(j, f, f, empty)[3:]
    got = scores.disappear_reappear(j, f, empty)
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if a is not None:
            assert a == b


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=300))
def test_lvos_v(values: list[tuple[float, float]]) -> None:
    j = np.array([[a for a, _ in values]])
    f = np.array([[b for _, b in values]])
    assert scores.lvos_v(j[0], f[0]) == ref.lvos_statistics_var(j, f)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 700), st.integers(0, 2**32 - 1))
def test_statistics_both_decays(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    v = rng.random(n)
    v[rng.random(n) < 0.05] = np.nan
    with np.errstate(all="ignore"):
        want = np.array(ref.db_statistics(v), np.float64)
    np.testing.assert_array_equal(np.array(scores.statistics(v, "davis")), want)
    e = (np.round(np.linspace(1, n, 5) + 1e-10) - 1).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        d = np.nanmean(v[e[0] : e[1] + 1]) - np.nanmean(v[e[3] : e[4] + 1])
    got = scores.statistics(v, "exact")[2]
    assert got == d or (np.isnan(got) and np.isnan(d))
