"""The compiled engine against the numpy model of its contract on random small frames: odd
widths (word remainders), 1-pixel frames, every pair rule, void, binarising, missing results,
fractional and pixel boundary radii (2.5: the off-centre skimage disk)."""

from __future__ import annotations

import fastmask
import numpy as np
import pytest
from evalref import engine as model
from evalref import gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(
    not hasattr(fastmask._fastmask, "_eval_sequences"),
    reason="compiled evaluation engine not built",
)

RULES = [
    dict(dynamic=False, cross=False, void=None, binarize=False),
    dict(dynamic=True, cross=False, void=None, binarize=False),
    dict(dynamic=False, cross=True, void=255, binarize=False),
    dict(dynamic=True, cross=False, void=None, binarize=True),
]


@st.composite
def frames(draw):
    h = draw(st.integers(1, 19))
    w = draw(st.integers(1, 23))
    t = draw(st.integers(1, 3))
    labels = draw(st.sampled_from([[0, 1], [0, 1, 2, 5], [0, 3, 255], [0, 1, 2, 3, 4, 255]]))

    def stack():
        # Blocky maps (runs of one label) with a few single pixels, like masks.
        base = draw(st.lists(st.sampled_from(labels), min_size=t * h * w, max_size=t * h * w))
        a = np.array(base, np.uint8).reshape(t, h, w)
        return np.repeat(np.repeat(a, 2, axis=1), 3, axis=2)[:, :h, :w]

    bound_th = draw(st.sampled_from([0.008, 0.05, 2.0, 2.5]))
    return stack(), stack(), draw(st.sampled_from(RULES)), draw(st.booleans()), bound_th


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames())
def test_engine_equals_model(tmp_path_factory, case):
    gt_stack, pred_stack, rule, missing, bound_th = case
    d = tmp_path_factory.mktemp("eng")
    gen.write_frames(d / "gt", gt_stack)
    gen.write_frames(d / "pred", pred_stack)
    names = [f"{i:05d}.png" for i in range(len(gt_stack))]
    gt = [[str(d / "gt" / n) for n in names]]
    pred = [[str(d / "pred" / n) for n in names]]
    if missing:
        pred[0][0] = None
    args = (gt, pred, [[1, 3]], [255])
    kw = dict(rule, same_size=True, bound_th=bound_th, threads=2)
    got, _ = fastmask._fastmask._eval_sequences(*args, **kw)
    want, _ = model.eval_sequences(*args, **kw)
    for a, b in zip(got[0], want[0]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
