"""fastmask.metrics against the official DAVIS J and F, bit for bit.

The reference (``tests/evalref/davis.py``, shared by every test) is davis2017-evaluation
@ ac7c43f (``davis2017/metrics.py``: ``db_eval_iou``, ``f_measure``, ``_seg2bmap``) rewritten
operation by operation with numpy, OpenCV (``cv2.dilate``) and scikit-image (``disk``). Only
the branches the evaluation reaches are kept (``_seg2bmap``'s resize branch never runs). Every
comparison is exact float64 equality.
"""

from __future__ import annotations

import doctest

import cv2
import fastmask
import numpy as np
import pytest
from conftest import corpus_path
from evalref import davis
from fastmask import metrics
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage.morphology import disk as sk_disk

# --- the reference ------------------------------------------------------------------------


# One copy of the official primitives serves every test: evalref.davis, written operation by
# operation after davis2017-evaluation (void removed from both masks for J, set to background
# before the boundaries for F, exactly as ``db_eval_iou`` / ``f_measure`` do).
ref_iou = davis.jaccard
ref_seg2bmap = davis.boundary_map
ref_f_measure = davis.f_measure
ref_bound_pix = davis.bound_pix


def ref_per_object(gt, pred, ids, void=None, bound_th=0.008):
    """The semi-supervised loop: one-hot masks ``labels == k`` scored one object at a time."""
    js = [float(ref_iou(gt == k, pred == k, void)) for k in ids]
    fs = [float(ref_f_measure(pred == k, gt == k, void, bound_th)) for k in ids]
    return np.array(js, dtype=np.float64), np.array(fs, dtype=np.float64)


def same(a, b) -> bool:
    """Exact float64 equality (NaN equal to NaN), shapes included."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


# --- mask generators ----------------------------------------------------------------------


@st.composite
def masks(draw, h: int | None = None, w: int | None = None, labels=(1,)):
    """A label map of strokes: rectangles, holes, lines, single pixels, noise, full frames."""
    h = h or draw(st.integers(1, 40))
    w = w or draw(st.integers(1, 48))
    m = np.full((h, w), draw(st.sampled_from((0, 0, 0, labels[0]))), dtype=np.uint8)
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(("rect", "hole", "hline", "vline", "pixel", "noise")))
        val = draw(st.sampled_from((0, *labels)))
        y0, y1 = sorted(draw(st.lists(st.integers(0, h - 1), min_size=2, max_size=2)))
        x0, x1 = sorted(draw(st.lists(st.integers(0, w - 1), min_size=2, max_size=2)))
        if kind == "rect":
            m[y0 : y1 + 1, x0 : x1 + 1] = val
        elif kind == "hole":
            m[y0 : y1 + 1, x0 : x1 + 1] = val
            m[(y0 + y1) // 2, (x0 + x1) // 2] = 0
        elif kind == "hline":
            m[y0, x0 : x1 + 1] = val
        elif kind == "vline":
            m[y0 : y1 + 1, x0] = val
        elif kind == "pixel":
            m[y0, x0] = val
        else:
            seed = draw(st.integers(0, 2**32 - 1))
            noise = np.random.default_rng(seed).random((h, w)) < 0.1
            m[noise] = val
    return m


radii = st.sampled_from((0.008, 0.05, 0.1, 0.2, 1, 2, 3, 1.5, 2.5, 3.7, 4.2))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mask_pairs(draw):
    gt = draw(masks())
    h, w = gt.shape
    pred = draw(masks(h, w))
    void = draw(st.one_of(st.none(), masks(h, w)))
    return gt, pred, void


# --- single masks -------------------------------------------------------------------------


@FAST
@given(mask_pairs(), radii)
def test_jaccard_and_f_match_reference(pair, bound_th):
    gt, pred, void = pair
    j = metrics.jaccard(gt, pred, void)
    f = metrics.boundary_f(gt, pred, bound_th, void)
    assert type(j) is float and type(f) is float
    assert same(j, ref_iou(gt, pred, void))
    assert same(f, ref_f_measure(pred.astype(bool), gt.astype(bool), void, bound_th))


@FAST
@given(masks())
def test_boundary_map_matches_seg2bmap(m):
    b = metrics.boundary_map(m)
    assert b.dtype == np.bool_ and b.shape == m.shape
    assert np.array_equal(b, ref_seg2bmap(m))


@settings(max_examples=40, deadline=None)
@given(st.lists(mask_pairs(), min_size=1, max_size=4), st.sampled_from((None, 1, 2)))
def test_stacks_match_per_frame(pairs, threads):
    h, w = pairs[0][0].shape
    pairs = [p for p in pairs if p[0].shape == (h, w)]
    gt = np.stack([p[0] for p in pairs])
    pred = np.stack([p[1] for p in pairs])
    void = np.stack([p[2] if p[2] is not None else np.zeros((h, w), np.uint8) for p in pairs])
    j = metrics.jaccard(gt, pred, void, threads=threads)
    f = metrics.boundary_f(gt, pred, 0.1, void, threads=threads)
    b = metrics.boundary_map(gt, threads=threads)
    assert j.shape == f.shape == (len(pairs),)
    for t in range(len(pairs)):
        assert same(j[t], ref_iou(gt[t], pred[t], void[t]))
        assert same(f[t], ref_f_measure(pred[t], gt[t], void[t], 0.1))
        assert np.array_equal(b[t], ref_seg2bmap(gt[t]))
    # one (H, W) void plane applies to every frame
    shared = metrics.boundary_f(gt, pred, 0.1, void[0])
    assert same(shared, [ref_f_measure(pred[t], gt[t], void[0], 0.1) for t in range(len(pairs))])


def test_input_dtypes_are_nonzero_masks():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 3, (30, 40)).astype(np.uint8) * 100
    pred = np.roll(gt, 2, axis=0)
    expect_j = ref_iou(gt, pred)
    expect_f = ref_f_measure(pred.astype(bool), gt.astype(bool))
    for conv in (np.bool_, np.uint8, np.int32, np.float32, np.uint16):
        g, p = gt.astype(conv), pred.astype(conv)
        assert same(metrics.jaccard(g, p), expect_j)
        assert same(metrics.boundary_f(g, p), expect_f)
    # non-contiguous views are fine
    assert same(metrics.jaccard(gt[:, ::2], pred[:, ::2]), ref_iou(gt[:, ::2], pred[:, ::2]))


def _blobs(h: int, w: int, seed: int, n: int = 3) -> np.ndarray:
    """A label map of n filled ellipses with holes (labels 1..n)."""
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), np.uint8)
    for k in range(1, n + 1):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(w // 20, w // 4)), int(rng.integers(h // 20, h // 4)))
        cv2.ellipse(m, c, axes, float(rng.integers(0, 180)), 0, 360, k, -1)
        cv2.circle(m, c, max(1, axes[1] // 4), 0, -1)
    return m


def _shift(m: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(m)
    h, w = m.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = m[ys, xs]
    return out


@pytest.mark.parametrize(
    "h,w,seed", [(480, 910, 1), (480, 1152, 2), (1080, 1920, 3), (720, 1280, 4)]
)
def test_large_frames(h, w, seed):
    gt = _blobs(h, w, seed)
    pred = _shift(_blobs(h, w, seed), 7, -5)
    pred[::97] = 0
    assert metrics.bound_pix(0.008, h, w) == ref_bound_pix(0.008, (h, w))
    j, f = metrics.per_object(gt, pred, [1, 2, 3])
    ej, ef = ref_per_object(gt, pred, [1, 2, 3])
    assert same(j, ej) and same(f, ef)
    # a border-touching full-width band
    g = np.zeros((h, w), bool)
    g[h // 2 :, :] = True
    p = _shift(g.astype(np.uint8), 11, 0).astype(bool)
    assert same(metrics.boundary_f(g, p), ref_f_measure(p, g))


# --- label maps ---------------------------------------------------------------------------


@st.composite
def label_pairs(draw):
    labels = draw(st.sampled_from(((1, 2), (1, 2, 3, 5), (3, 255), (1, 7, 200))))
    gt = draw(masks(labels=labels))
    h, w = gt.shape
    pred = draw(masks(h, w, labels=labels))
    void = draw(st.one_of(st.none(), masks(h, w)))
    ids = draw(
        st.one_of(
            st.none(),
            st.lists(st.sampled_from((0, 1, 2, 3, 4, 5, 7, 200, 255, 256, 70000)), unique=True),
        )
    )
    return gt, pred, void, ids


@FAST
@given(label_pairs(), radii)
def test_per_object_matches_reference(pair, bound_th):
    gt, pred, void, ids = pair
    j, f = metrics.per_object(gt, pred, ids, void, bound_th)
    expect_ids = list(range(1, int(gt.max()) + 1)) if ids is None else ids
    ej, ef = ref_per_object(gt, pred, expect_ids, void, bound_th)
    assert same(j, ej) and same(f, ef)
    assert same(metrics.per_object_jaccard(gt, pred, ids, void), ej)


@settings(max_examples=60, deadline=None)
@given(label_pairs(), st.sampled_from((None, 1, 2)))
def test_per_object_u16_and_stacks(pair, threads):
    gt, pred, void, ids = pair
    ids = ids if ids else [1, 2, 3]
    # u16 labels: shift every label above 255 so the maps need 16 bits
    g16 = gt.astype(np.uint16) * 257
    p16 = pred.astype(np.uint16) * 257
    ids16 = [i * 257 for i in ids if i * 257 <= 65535]
    stack_g = np.stack([g16, p16, g16])
    stack_p = np.stack([p16, g16, np.zeros_like(g16)])
    j, f = metrics.per_object(stack_g, stack_p, ids16, void, threads=threads)
    assert j.shape == f.shape == (3, len(ids16))
    assert same(metrics.per_object_jaccard(stack_g, stack_p, ids16, void, threads=threads), j)
    for t in range(3):
        ej, ef = ref_per_object(stack_g[t], stack_p[t], ids16, void)
        assert same(j[t], ej) and same(f[t], ef)
    # mixed u8 / u16 inputs and int64 labels are converted
    j2, f2 = metrics.per_object(gt.astype(np.int64), pred, ids, void)
    ej, ef = ref_per_object(gt, pred, ids, void)
    assert same(j2, ej) and same(f2, ef)


def test_per_object_conventions():
    gt = np.zeros((20, 30), np.uint8)
    gt[2:8, 3:9] = 1
    gt[10:15, 10:25] = 3  # no object 2: a gap in the ids
    j, f = metrics.per_object(gt, gt)
    assert j.tolist() == [1.0, 1.0, 1.0] and f.tolist() == [1.0, 1.0, 1.0]
    j, f = metrics.per_object(gt, np.zeros_like(gt), [1, 2, 3])
    assert j.tolist() == [0.0, 1.0, 0.0] and f.tolist() == [0.0, 1.0, 0.0]
    j, f = metrics.per_object(np.zeros_like(gt), np.zeros_like(gt))
    assert j.shape == f.shape == (0,)


# --- the real corpus ----------------------------------------------------------------------

DAVIS16_VAL = ["blackswan", "bmx-trees", "camel", "dog", "goat", "kite-surf", "libby", "soapbox"]


def _read(p) -> np.ndarray:
    return np.array(Image.open(p))


def _perturbations(m: np.ndarray, seed: int):
    """Shifted, eroded, dilated and noisy copies of a binary uint8 mask."""
    rng = np.random.default_rng(seed)
    k5 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    yield "shift", _shift(m, int(rng.integers(-9, 10)), int(rng.integers(-9, 10)))
    yield "erode", cv2.erode(m, k5, iterations=2)
    yield "dilate", cv2.dilate(m, k5, iterations=3)
    noisy = m.copy()
    flips = rng.random(m.shape) < 0.002
    noisy[flips] = np.where(noisy[flips] > 0, 0, 255)
    yield "noise", noisy


def test_davis2016_ground_truth_vs_perturbed():
    root = corpus_path("davis2016", "Annotations", "480p")
    checked = 0
    for si, seq in enumerate(DAVIS16_VAL):
        frames = sorted((root / seq).glob("*.png"))
        for p in (frames[len(frames) // 3], frames[-1]):
            gt = _read(p)
            if gt.ndim != 2:
                continue
            void = np.zeros(gt.shape, bool)
            void[: 20 + si, :] = True  # a void band across the top rows
            for _, pred in _perturbations(gt, si):
                assert same(metrics.jaccard(gt, pred), ref_iou(gt, pred))
                assert same(metrics.boundary_f(gt, pred), ref_f_measure(pred > 0, gt > 0))
                assert same(metrics.jaccard(gt, pred, void), ref_iou(gt, pred, void))
                assert same(
                    metrics.boundary_f(gt, pred, void=void), ref_f_measure(pred > 0, gt > 0, void)
                )
                checked += 1
    assert checked >= 40


def test_davis2016_boundary_maps():
    root = corpus_path("davis2016", "Annotations", "480p")
    for seq in DAVIS16_VAL:
        p = sorted((root / seq).glob("*.png"))[5]
        gt = _read(p)
        assert np.array_equal(metrics.boundary_map(gt), ref_seg2bmap(gt))


def test_osvos_label_maps_per_object():
    root = corpus_path("davis2017-osvos")
    seqs = sorted(d for d in root.iterdir() if d.is_dir())
    checked = 0
    k3 = np.ones((3, 3), np.uint8)
    for si, seq in enumerate(seqs):
        frames = sorted(seq.glob("*.png"))
        gt = _read(frames[len(frames) // 2])
        ids = list(range(1, int(gt.max()) + 1)) or [1]
        # prediction: the labels shifted and every object eroded by a different amount
        pred = _shift(gt, (si % 7) - 3, 5 - (si % 11))
        for k in ids:
            eroded = cv2.erode((pred == k).astype(np.uint8), k3, iterations=k % 3)
            pred[(pred == k) & (eroded == 0)] = 0
        # another method's masks: a later frame of the same sequence
        other = _read(frames[min(len(frames) - 1, len(frames) // 2 + 3)])
        for p in (pred, other):
            j, f = metrics.per_object(gt, p, ids)
            ej, ef = ref_per_object(gt, p, ids)
            assert same(j, ej) and same(f, ef), seq.name
            checked += len(ids)
    assert checked >= 60


def test_1080p_palette_masks():
    root = corpus_path("demos", "aot")
    pngs = sorted(root.rglob("*.png"))
    if not pngs:
        pytest.skip("no 1080p masks in the corpus")
    gt = _read(pngs[0])
    if gt.ndim != 2:
        pytest.skip("unexpected mask format")
    ids = [int(k) for k in np.unique(gt) if k != 0]  # 44 objects
    pred = _shift(gt, 12, -6)
    j, f = metrics.per_object(gt, pred, ids)
    # the reference takes ~80 ms per object at 1080p: check every fifth object
    some = list(range(0, len(ids), 5))
    ej, ef = ref_per_object(gt, pred, [ids[i] for i in some])
    assert same(j[some], ej) and same(f[some], ef)


# --- radius rule and disk -----------------------------------------------------------------


@pytest.mark.parametrize(
    "h,w,expect", [(480, 854, 8.0), (480, 910, 9.0), (720, 1280, 12.0), (1080, 1920, 18.0)]
)
def test_bound_pix_table(h, w, expect):
    assert metrics.bound_pix(0.008, h, w) == expect == ref_bound_pix(0.008, (h, w))


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0, 0.999),
    st.integers(1, 5000),
    st.integers(1, 5000),
)
def test_bound_pix_matches_reference(bound_th, h, w):
    assert metrics.bound_pix(bound_th, h, w) == ref_bound_pix(bound_th, (h, w))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(0, 40).map(float), st.floats(1.0, 40.0)))
def test_disk_is_skimage_disk(r):
    got = metrics.disk(r)
    expect = sk_disk(r)
    assert got.dtype == np.uint8
    assert got.shape == expect.shape and np.array_equal(got, expect)


@settings(max_examples=60, deadline=None)
@given(mask_pairs(), st.floats(1.0, 6.0))
def test_non_integer_radius_is_off_centre_like_the_reference(pair, r):
    gt, pred, void = pair
    assert same(metrics.boundary_f(gt, pred, r, void), ref_f_measure(pred, gt, void, r))


@pytest.mark.parametrize("bound_th", [20, 32, 33.5, 45, 0.2])
def test_wide_disks(bound_th):
    # Radii of 32 and more make the disk wider than one 64-bit probe.
    for seed in range(3):
        gt = _blobs(150, 260, seed, n=2)
        pred = _shift(_blobs(150, 260, seed + 10, n=2), 3, -20)
        j, f = metrics.per_object(gt, pred, [1, 2], bound_th=bound_th)
        ej, ef = ref_per_object(gt, pred, [1, 2], bound_th=bound_th)
        assert same(j, ej) and same(f, ef)


# --- errors -------------------------------------------------------------------------------


def test_errors_are_clear():
    a = np.zeros((4, 5), bool)
    with pytest.raises(ValueError, match="same shape"):
        metrics.jaccard(a, np.zeros((5, 4), bool))
    with pytest.raises(ValueError, match=r"\(H, W\) or \(T, H, W\)"):
        metrics.boundary_f(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="bound_th"):
        metrics.boundary_f(a, a, bound_th=-1)
    with pytest.raises(ValueError, match="bound_th"):
        metrics.boundary_f(a, a, bound_th=float("nan"))
    with pytest.raises(ValueError, match="void"):
        metrics.jaccard(a, a, np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="distinct"):
        metrics.per_object(a.astype(np.uint8), a.astype(np.uint8), [1, 1])
    with pytest.raises(ValueError, match=r"0\.\.65535"):
        metrics.per_object(np.full((2, 2), 70000), np.zeros((2, 2), np.int32))
    with pytest.raises(TypeError, match="integer label map"):
        metrics.per_object(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="one row and one column"):
        metrics.boundary_f(np.zeros((0, 5), bool), np.zeros((0, 5), bool))
    with pytest.raises(ValueError, match="threads"):
        metrics.jaccard(np.stack([a, a]), np.stack([a, a]), threads=0)
    with pytest.raises(ValueError, match="radius"):
        metrics.disk(5000)


def test_docstring_examples():
    assert "metrics" in fastmask.__all__
    result = doctest.testmod(metrics, extraglobs={"np": np})
    assert result.attempted >= 8 and result.failed == 0
