"""fastmask.coco against pycocotools.mask (2.0.11): byte-for-byte on generated and real masks,
polygons and boxes; and the clear errors that replace pycocotools' undefined behaviour."""

from __future__ import annotations

import fastmask
import numpy as np
import pytest
from fastmask import coco
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pc = pytest.importorskip("pycocotools.mask")

# pycocotools 2.0.11's decode under numpy 2 (its Masks.__array__ has no copy= keyword)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pc_encode(m: np.ndarray):
    """The reference: pycocotools on a Fortran-ordered 0/1 uint8 copy."""
    return pc.encode(np.asfortranarray((m != 0).astype(np.uint8)))


def make_mask(seed: int, h: int, w: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "empty":
        return np.zeros((h, w), np.uint8)
    if kind == "full":
        return np.ones((h, w), np.uint8)
    if kind == "noise":
        return (rng.random((h, w)) < rng.random()).astype(np.uint8)
    m = np.zeros((h, w), np.uint8)  # blobs: a union of rectangles and discs
    yy, xx = np.mgrid[:h, :w]
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.5:
            y0, x0 = rng.integers(0, max(h, 1)), rng.integers(0, max(w, 1))
            m[y0 : y0 + rng.integers(1, h + 2), x0 : x0 + rng.integers(1, w + 2)] = 1
        else:
            cy, cx, r = rng.random() * h, rng.random() * w, rng.random() * max(h, w) / 2
            m[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
    return m


masks = st.builds(
    make_mask,
    st.integers(0, 2**32 - 1),
    st.integers(0, 40),
    st.integers(0, 40),
    st.sampled_from(["empty", "full", "noise", "blobs", "blobs"]),
)
thin = st.builds(
    lambda seed, n, tall: (
        make_mask(seed, n, 1, "noise") if tall else make_mask(seed, 1, n, "noise")
    ),
    st.integers(0, 2**32 - 1),
    st.integers(1, 200),
    st.booleans(),
)


def layouts(m: np.ndarray) -> dict[str, np.ndarray]:
    """The same mask in every memory layout and dtype encode should read in place."""
    h, w = m.shape
    big = np.zeros((2 * h + 1, 3 * w + 2), np.uint8)
    big[1::2, 2::3] = m
    tbig = np.zeros((3 * w + 2, 2 * h + 1), np.uint8)
    tbig[2::3, 1::2] = m.T
    return {
        "C": np.ascontiguousarray(m),
        "F": np.asfortranarray(m),
        "bool": m.astype(bool),
        "boolF": np.asfortranarray(m.astype(bool)),
        "strided": big[1::2, 2::3],
        "strided-T": tbig[2::3, 1::2].T,
        "crop": np.pad(m, ((1, 2), (3, 4)))[1 : 1 + h, 3 : 3 + w],
        "flipped": np.ascontiguousarray(m[::-1, ::-1])[::-1, ::-1],
        "255": m * np.uint8(255),
    }


@FAST
@given(masks)
def test_encode_matches_pycocotools_in_every_layout(m):
    want = pc_encode(m)
    for name, v in layouts(m).items():
        assert coco.encode(v) == want, name


@FAST
@given(thin)
def test_encode_1xn_and_nx1(m):
    want = pc_encode(m)
    for name, v in layouts(m).items():
        assert coco.encode(v) == want, name


@FAST
@given(masks, st.integers(0, 5), st.integers(0, 2**32 - 1))
def test_stacks_match_pycocotools(m, n, seed):
    h, w = m.shape
    stack = np.zeros((h, w, n), np.uint8)
    for i in range(n):
        stack[:, :, i] = make_mask(seed + i, h, w, "blobs")
    want = pc.encode(np.asfortranarray(stack))
    assert coco.encode(stack) == want  # C order: rows of (w, n) interleaved masks
    assert coco.encode(np.asfortranarray(stack)) == want
    assert coco.encode(np.ascontiguousarray(np.moveaxis(stack, 2, 0)).transpose(1, 2, 0)) == want
    assert coco.encode(stack.astype(bool), threads=2) == want
    if n:
        assert coco.encode(stack[:, ::-1][:, ::-1]) == want
        dec = coco.decode(want)
        ref = pc.decode(want)
        assert dec.dtype == ref.dtype == np.uint8 and dec.shape == ref.shape == (h, w, n)
        assert dec.flags.f_contiguous and np.array_equal(dec, ref)
        assert np.array_equal(coco.decode(want, threads=2), ref)


@FAST
@given(masks)
def test_decode_area_bbox_match(m):
    r = pc_encode(m)
    d, ref = coco.decode(r), pc.decode(r)
    assert d.dtype == ref.dtype and d.shape == ref.shape and d.flags.f_contiguous
    assert d.flags.c_contiguous == ref.flags.c_contiguous
    assert np.array_equal(d, ref)
    a, ra = coco.area(r), pc.area(r)
    assert type(a) is type(ra) and a == ra
    b, rb = coco.toBbox(r), pc.toBbox(r)
    assert b.dtype == rb.dtype and b.shape == rb.shape and np.array_equal(b, rb)
    al, ral = coco.area([r, r]), pc.area([r, r])
    assert al.dtype == ral.dtype == np.uint32 and np.array_equal(al, ral)
    bl, rbl = coco.toBbox([r]), pc.toBbox([r])
    assert bl.dtype == rbl.dtype and bl.shape == rbl.shape and np.array_equal(bl, rbl)
    # counts as str (JSON files) anywhere
    s = {"size": r["size"], "counts": r["counts"].decode()}
    assert np.array_equal(coco.decode(s), ref) and coco.area(s) == ra


@FAST
@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_merge_matches(h, w, n, seed):
    rles = [pc_encode(make_mask(seed + i, h, w, "blobs" if i % 2 else "noise")) for i in range(n)]
    for intersect in (0, 1, True):
        assert coco.merge(rles, intersect) == pc.merge(rles, intersect)
    assert coco.merge(rles) == pc.merge(rles)


@FAST
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 2**32),
)
def test_iou_of_masks_matches(h, w, m, n, seed):
    rng = np.random.default_rng(seed)
    kinds = ["blobs", "noise", "empty", "full"]
    dt = [pc_encode(make_mask(seed + i, h, w, kinds[i % 4])) for i in range(m)]
    gt = [pc_encode(make_mask(seed + 99 + i, h, w, kinds[(i + 1) % 4])) for i in range(n)]
    crowd = list(rng.integers(0, 2, n))
    got, want = coco.iou(dt, gt, crowd), pc.iou(dt, gt, crowd)
    if m == 0 or n == 0:
        assert got == want == []
        return
    assert got.dtype == want.dtype and got.shape == want.shape == (m, n)
    assert got.flags.f_contiguous == want.flags.f_contiguous
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(coco.iou(dt, gt, np.array(crowd, bool)), want)


boxes = st.lists(
    st.tuples(*[st.floats(-20, 60, allow_nan=False, width=32)] * 2, *[st.floats(-3, 40)] * 2),
    max_size=6,
)


@FAST
@given(boxes, boxes, st.integers(0, 2**32))
def test_iou_of_boxes_matches(dt, gt, seed):
    crowd = list(np.random.default_rng(seed).integers(0, 2, len(gt)))
    d, g = np.array(dt, float).reshape(-1, 4), np.array(gt, float).reshape(-1, 4)
    want = pc.iou(d, g, crowd)
    got = coco.iou(d, g, crowd)
    if len(dt) == 0 or len(gt) == 0:
        assert got == want == []
        return
    np.testing.assert_array_equal(got, want)
    assert got.flags.f_contiguous
    np.testing.assert_array_equal(
        coco.iou([list(b) for b in dt], [list(b) for b in gt], crowd), want
    )


def test_iou_crowd_semantics_by_hand():
    a = coco.encode(np.asfortranarray(np.pad(np.ones((2, 2), np.uint8), ((0, 2), (0, 2)))))
    b = coco.encode(np.ones((4, 4), np.uint8))
    # crowd gt: |dt & gt| / |dt| = 4 / 4; non-crowd: 4 / 16
    np.testing.assert_array_equal(coco.iou([a], [b], [1]), pc.iou([a], [b], [1]))
    np.testing.assert_array_equal(coco.iou([a], [b], [0]), pc.iou([a], [b], [0]))
    assert coco.iou([a], [b], [1])[0, 0] == 1.0 and coco.iou([a], [b], [0])[0, 0] == 0.25


coord = st.floats(-8, 48, allow_nan=False)
polygon = st.lists(coord, min_size=6, max_size=24)


@settings(max_examples=300, deadline=None)
@given(st.lists(polygon, min_size=1, max_size=3), st.integers(1, 40), st.integers(1, 40))
def test_polygons_match(polys, h, w):
    rles = pc.frPyObjects(polys, h, w)
    assert coco.frPyObjects(polys, h, w) == rles
    # polygon RLEs hold zero-length runs ("02103"): the ops must still agree
    assert coco.merge(rles) == pc.merge(rles)
    assert coco.merge(rles, 1) == pc.merge(rles, 1)
    np.testing.assert_array_equal(coco.area(rles), pc.area(rles))
    np.testing.assert_array_equal(coco.toBbox(rles), pc.toBbox(rles))
    np.testing.assert_array_equal(coco.decode(rles), pc.decode(rles))
    crowd = [i % 2 for i in range(len(rles))]
    np.testing.assert_array_equal(coco.iou(rles, rles, crowd), pc.iou(rles, rles, crowd))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(-6, 45).map(float), min_size=6, max_size=16),
    st.integers(1, 40),
    st.integers(1, 40),
)
def test_polygons_on_the_grid_match(poly, h, w):
    # integer and half-pixel vertices hit every rounding tie of the x5 grid
    half = [v + 0.5 for v in poly]
    for p in (poly, half):
        assert coco.frPyObjects([p], h, w) == pc.frPyObjects([p], h, w)


far = st.floats(-3000, 3000, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(coord, far), min_size=6, max_size=12), st.integers(1, 30), st.integers(1, 30)
)
def test_far_away_polygons_match(poly, h, w):
    # edges of up to 30000 upsampled steps: fastmask searches them instead of walking
    assert coco.frPyObjects([poly], h, w) == pc.frPyObjects([poly], h, w)


def test_degenerate_polygons_match():
    h, w = 20, 30
    cases = [
        [0.0, 0.0, 10.0, 10.0, 5.0],  # 2 points (odd length: the last value is dropped)
        [3.0, 3.0, 3.0, 3.0, 3.0, 3.0],  # one point three times
        [1.0, 1.0, 10.0, 10.0, 20.0, 20.0],  # collinear
        [2.0, 5.0, 25.0, 5.0, 12.0, 5.0],  # zero area, horizontal
        [5.0, 2.0, 5.0, 15.0, 5.0, 9.0],  # zero area, vertical
        [-10.0, -10.0, -1.0, -10.0, -1.0, -1.0],  # outside, above-left
        [40.0, 2.0, 60.0, 2.0, 50.0, 15.0],  # outside, right
        [-5.0, -5.0, 35.0, -5.0, 35.0, 25.0, -5.0, 25.0],  # covers the image
        [0.0, 0.0, 10.0, 0.0, 0.0, 10.0, 10.0, 10.0],  # self-intersecting bow tie
        [0.5, 0.5, 29.5, 0.5, 29.5, 19.5, 0.5, 19.5, 10.0, 10.0, 20.0, 10.0],
        [-0.1, -0.1, 1e-9, 19.9, 29.4999, 19.5001, 7.25, -0.25],
        [-3000.0, -20.0, 3000.0, 25.0, 10.0, 3000.0],  # edges longer than the step walk
        [5.3, -4000.0, 7.9, 4000.0, -2.0, 3.0],
        [-9000.0, 3.3, 9000.0, 3.4, 9000.0, 3.7],
    ]
    for p in cases:
        assert coco.frPyObjects([p], h, w) == pc.frPyObjects([p], h, w), p
    # only the first polygon's length is checked: short later ones are empty masks
    mixed = [cases[9], [1.0, 2.0], []]
    assert coco.frPyObjects(mixed, h, w) == pc.frPyObjects(mixed, h, w)
    # one flat polygon -> a dict (pycocotools 2.0.11 raises TypeError here)
    assert coco.frPyObjects(cases[9], h, w) == pc.frPyObjects([cases[9]], h, w)[0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            *[st.floats(-10, 50, allow_nan=False)] * 2, *[st.floats(-5, 45, allow_nan=False)] * 2
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(1, 40),
    st.integers(1, 40),
)
def test_boxes_match(bbs, h, w):
    arr = np.array(bbs, dtype=np.float64)
    want = pc.frPyObjects(arr, h, w)
    assert coco.frPyObjects(arr, h, w) == want
    assert coco.frPyObjects([list(b) for b in bbs], h, w) == want  # lists: beyond pycocotools
    assert coco.frPyObjects(list(bbs[0]), h, w) == want[0]
    assert coco.frPyObjects(arr.astype(np.float32).astype(np.float64), h, w) == pc.frPyObjects(
        arr.astype(np.float32).astype(np.float64), h, w
    )


def test_degenerate_boxes_match():
    bbs = np.array(
        [
            [0, 0, 0, 0],
            [3, 3, 0, 5],
            [3, 3, 5, 0],
            [-5, -5, 3, 3],
            [25, 15, 10, 10],
            [-1, -1, 40, 40],
            [2.5, 2.5, 0.2, 0.2],
            [1.4, 1.6, 2.2, 3.3],
            [0, 0, -3, 4],
        ],
        dtype=np.float64,
    )
    assert coco.frPyObjects(bbs, 20, 30) == pc.frPyObjects(bbs, 20, 30)


@FAST
@given(masks)
def test_uncompressed_rle_matches(m):
    r = pc_encode(m)
    counts = [int(c) for c in _counts(r)]
    unc = {"size": list(m.shape), "counts": counts}
    want = pc.frPyObjects(unc, *m.shape)
    assert want == r
    assert coco.frPyObjects(unc, *m.shape) == want
    assert coco.frPyObjects([unc, unc], 7, 9) == pc.frPyObjects([unc, unc], 7, 9)
    # uncompressed counts are accepted by every function (pycocotools: only frPyObjects)
    assert np.array_equal(coco.decode(unc), pc.decode(r))
    assert coco.area([unc])[0] == pc.area([r])[0]


def _counts(r):
    return fastmask.rle.string_to_counts(r["counts"])


def test_non_binary_masks_are_nonzero_foreground():
    m = np.array([[0, 2], [255, 1]], np.uint8)
    # pycocotools splits runs on every byte change (b'1110' decodes to garbage);
    # fastmask reads "non-zero is foreground", like a bool mask
    assert coco.encode(m) == pc_encode(m) == coco.encode(m.astype(bool))
    assert pc.encode(np.asfortranarray(m)) != coco.encode(m)


# ---- real masks -------------------------------------------------------------------------------


def _corpus_masks(folder: str, step: int):
    from conftest import corpus_pngs
    from PIL import Image

    files = corpus_pngs(folder)[::step]
    if not files:
        pytest.skip(f"shared corpus folder {folder} not available")
    for p in files:
        im = Image.open(p)
        lab = np.array(im if im.mode in ("P", "L") else im.convert("L"))
        yield p, lab


@pytest.mark.parametrize(
    "folder,step",
    [("davis2016", 97), ("davis2017-osvos", 61), ("labelmaps-gray", 7), ("demos", 1)],
)
def test_real_masks_match(folder, step):
    n = 0
    for p, lab in _corpus_masks(folder, step):
        ids = [int(i) for i in np.unique(lab) if i]
        for i in ids:
            m = lab == i
            want = pc_encode(m)
            assert coco.encode(m) == want, p
            assert coco.encode((m * 255).astype(np.uint8)) == want
            assert np.array_equal(coco.decode(want), pc.decode(want))
            assert np.array_equal(coco.toBbox(want), pc.toBbox(want))
            n += 1
        if ids:
            rles = [pc_encode(lab == i) for i in ids]
            assert coco.merge(rles) == pc.merge(rles)
            np.testing.assert_array_equal(
                coco.iou(rles, rles, [0] * len(rles)), pc.iou(rles, rles, [0] * len(rles))
            )
            by_id = fastmask.rle.encode_labels(lab)
            assert list(by_id) == ids and list(by_id.values()) == rles
    assert n > 0


# ---- errors instead of undefined behaviour ------------------------------------------------------

RLE_ERRORS = [
    ({"size": [2, 3], "counts": b"5"}, "sum to 5"),  # short: pycocotools reads uninitialised memory
    ({"size": [2, 3], "counts": b"7"}, "run past"),  # long
    ({"size": [2, 3], "counts": b"`"}, "truncated"),  # ends inside a value
    ({"size": [2, 3], "counts": b"06 "}, "character"),  # bad character
    ({"size": [2, 3], "counts": "0\u00e96"}, "character"),  # non-ASCII str
    ({"size": [2, 3], "counts": b"\x00"}, "character"),
    ({"size": [2, 3], "counts": b"p"}, "character"),  # one past 'o'
    ({"size": [2, 3], "counts": b"o" * 20}, "64 bits"),
    ({"size": [2, 3], "counts": b"O"}, "negative"),
    ({"size": [2, 3], "counts": b"1110"}, "sum to 4"),
    ({"size": [2, 3], "counts": [1, 2]}, "sum to 3"),
    ({"size": [2, 3], "counts": [-1, 7]}, "negative"),
    ({"size": [2**20, 2**20], "counts": b"0"}, r"2\^31"),  # huge size: no allocation
    ({"size": [2, 3]}, 'no "counts"'),
    ({"counts": b"6"}, 'no "size"'),
    ({"size": [2, 3, 4], "counts": b"6"}, "size"),
]


@pytest.mark.parametrize("rle,msg", RLE_ERRORS)
def test_malformed_rles_raise(rle, msg):
    for f in (
        coco.decode,
        coco.area,
        coco.toBbox,
        lambda r: coco.merge([r, r]),
        lambda r: coco.iou([r], [r], [0]),
    ):
        with pytest.raises(fastmask.RleError, match=msg):
            f(rle)


def test_error_types():
    r = coco.encode(np.ones((2, 3), np.uint8))
    with pytest.raises(fastmask.RleError):
        coco.decode([])
    with pytest.raises(fastmask.RleError):
        coco.merge([])
    other = coco.encode(np.ones((3, 2), np.uint8))
    with pytest.raises(ValueError, match="same size"):
        coco.decode([r, other])
    with pytest.raises(ValueError, match="same size"):
        coco.merge([r, other])
    with pytest.raises(ValueError, match="same size"):
        coco.iou([r], [other], [0])
    with pytest.raises(ValueError, match="iscrowd"):
        coco.iou([r], [r], [0, 1])
    with pytest.raises(ValueError, match="uint8 or bool"):
        coco.encode(np.ones((2, 3), np.int64))
    with pytest.raises(ValueError, match="shape"):
        coco.encode(np.ones((2, 3, 4, 5), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        coco.encode(np.ones(5, np.uint8))
    with pytest.raises(TypeError):
        coco.encode([[0, 1]])
    with pytest.raises(TypeError):
        coco.merge(r)
    with pytest.raises(TypeError):
        coco.decode(b"abc")
    with pytest.raises(TypeError):
        coco.iou([r], [[0, 0, 1, 1]], [0])
    with pytest.raises(TypeError):
        coco.decode({"size": [2, 3], "counts": 6})
    with pytest.raises(TypeError):
        coco.decode({"size": "ab", "counts": b"6"})
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        coco.iou(np.zeros((2, 5)), np.zeros((1, 4)), [0])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        coco.frPyObjects(np.zeros((2, 6)), 4, 4)
    with pytest.raises(ValueError, match="finite"):
        coco.frPyObjects([[0, 0, np.nan, 1, 2, 2]], 4, 4)
    with pytest.raises(ValueError, match="finite"):
        coco.frPyObjects([[0, 0, 1e12, 1, 2, 2]], 4, 4)
    with pytest.raises(fastmask.RleError):
        coco.frPyObjects(np.zeros((1, 4)), 2**20, 2**20)
    with pytest.raises(TypeError):
        coco.frPyObjects((0, 0, 1, 1), 4, 4)
    with pytest.raises(TypeError):
        coco.frPyObjects(np.zeros((1, 4)), 4.5, 4)
    assert coco.frPyObjects([], 4, 4) == []  # pycocotools: IndexError
    assert issubclass(fastmask.RleError, ValueError)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 12), st.integers(0, 12))
def test_random_bytes_never_crash(s, h, w):
    r = {"size": [h, w], "counts": s}
    try:
        m = coco.decode(r)
    except fastmask.RleError:
        return
    # accepted: a valid RLE that round trips through pycocotools' decoder
    assert m.shape == (h, w) and np.array_equal(m, pc.decode(r))
    assert coco.area(r) == pc.area(r) and coco.encode(m) == pc.encode(m)


def _split(seed: int, n: int) -> list[int]:
    """Counts summing to n with zero-length runs anywhere (at most n + 1 counts)."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(0, n + 1))))
    return [int(v) for v in np.diff(np.concatenate([[0], cuts, [n]]))]


def _bbox(m: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(m)
    if len(xs) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    # pycocotools: a run that wraps into the next column makes the box full height
    col_major = np.flatnonzero(m.T.ravel())
    starts = np.flatnonzero(np.diff(np.concatenate([[-2], col_major])) != 1)
    ends = np.concatenate([starts[1:], [len(col_major)]]) - 1
    h = m.shape[0]
    wraps = any(col_major[s] // h != col_major[e] // h for s, e in zip(starts, ends))
    y0, y1 = (0, h - 1) if wraps else (ys.min(), ys.max())
    return [float(xs.min()), float(y0), float(xs.max() - xs.min() + 1), float(y1 - y0 + 1)]


@FAST
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32), st.integers(1, 4))
def test_zero_length_runs_are_handled_correctly(h, w, seed, n):
    # pycocotools loops forever or overflows its heap on some of these (merge); fastmask
    # gives the masks' union, intersection, IoU, area and box, as valid RLEs
    rles = [{"size": [h, w], "counts": _split(seed + i, h * w)} for i in range(n)]
    ms = [coco.decode(r).astype(bool) for r in rles]
    for intersect in (0, 1):
        want = np.logical_and.reduce(ms) if intersect else np.logical_or.reduce(ms)
        got = coco.merge(rles, intersect)
        assert np.array_equal(coco.decode(got), want)
        assert coco.encode(coco.decode(got)) == pc_encode(want)
    inter = np.array([[(a & b).sum() for b in ms] for a in ms], float)
    union = np.array([[(a | b).sum() for b in ms] for a in ms], float)
    want_iou = np.divide(inter, union, out=np.zeros_like(inter), where=inter > 0)
    np.testing.assert_allclose(coco.iou(rles, rles, [0] * n), want_iou, rtol=0, atol=0)
    assert coco.area(rles).tolist() == [int(m.sum()) for m in ms]
    assert coco.toBbox(rles).tolist() == [_bbox(m) for m in ms]


# --- the binding's fast count-string path against the checked codec ------------------------

_count_chars = st.text(alphabet=[chr(c) for c in range(ord("0"), ord("o") + 1)], max_size=14)


@st.composite
def _count_strings(draw: st.DrawFn) -> tuple[str, int]:
    """Random strings, and strings of real counts (values up to 2^31: 1 to 7 characters),
    for the right number of pixels or one off."""
    from fastmask import _fastmask

    if draw(st.booleans()):
        return draw(_count_chars), draw(st.integers(1, 40))
    counts = draw(st.lists(st.integers(0, 2**31 - 1) | st.integers(0, 9), min_size=1, max_size=9))
    s = _fastmask._counts_to_string(counts).decode()
    return s, max(1, sum(counts) + draw(st.sampled_from([0, 0, 0, -1, 1])))


@settings(max_examples=400, deadline=None)
@given(_count_strings())
def test_fast_count_path_agrees_with_the_checked_codec(case: tuple[str, int]) -> None:
    """`area`, `toBbox` and `decode` parse well-formed strings with a tight loop and hand
    anything else to the checked codec: both must give the same counts or the same error."""
    from fastmask import _fastmask

    s, pixels = case
    if pixels > 2**31:
        return
    rle = {"size": [1, pixels], "counts": s.encode()}
    try:
        counts = _fastmask._string_to_counts(s.encode())
        # Zero-length runs are valid (issue 11, as pycocotools): only the sum decides.
        valid = sum(counts) == pixels
    except fastmask.RleError:
        valid = False
    if not valid:
        for call in (coco.area, coco.toBbox, coco.decode):
            with pytest.raises(fastmask.RleError):
                call(rle)
        return
    assert coco.area(rle) == sum(counts[1::2])
    assert coco.area([rle, rle]).tolist() == [sum(counts[1::2])] * 2
    if pixels <= 4096:
        mask = np.repeat(np.arange(len(counts)) % 2, counts).astype(np.uint8).reshape(1, pixels)
        assert np.array_equal(coco.decode(rle), mask)


def test_area_of_many_rles_does_not_overflow() -> None:
    """pycocotools 2.0.11 raises OverflowError from 256 RLEs on; fastmask returns them."""
    rles = coco.encode(np.asfortranarray(np.ones((4, 5, 300), np.uint8)))
    assert coco.area(rles).tolist() == [20] * 300
