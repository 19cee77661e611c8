"""fastmask.rle: label maps <-> per-object RLEs (against pycocotools and numpy painting), and
the counts string codec (against pycocotools' encoder, and its own round trip above 2^31)."""

from __future__ import annotations

import json

import fastmask
import numpy as np
import pytest
from fastmask import coco, rle
from hypothesis import given, settings
from hypothesis import strategies as st

pc = pytest.importorskip("pycocotools.mask")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SETTINGS = settings(max_examples=120, deadline=None)


def pc_encode(m: np.ndarray):
    return pc.encode(np.asfortranarray((m != 0).astype(np.uint8)))


def make_labels(seed: int, shape: tuple[int, ...], n_ids: int, dtype) -> np.ndarray:
    """Blobs of a few ids on background (plus noise), ids spread over the dtype's range."""
    rng = np.random.default_rng(seed)
    top = min(np.iinfo(dtype).max, 2**32 - 1)
    ids = rng.choice(np.arange(1, min(top, 5000) + 1), size=n_ids, replace=False)
    if top > 5000 and n_ids:
        ids[0] = top  # the largest id of the dtype
    lab = np.zeros(shape, dtype)
    if n_ids == 0 or lab.size == 0:
        return lab
    *_, h, w = shape
    yy, xx = np.mgrid[:h, :w]
    for k in ids:
        cy, cx, r = rng.random() * h, rng.random() * w, rng.random() * max(h, w) / 2
        lab[..., (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
    noise = rng.random(shape) < 0.05
    lab[noise] = rng.choice(ids, size=int(noise.sum()))
    return lab


label_maps = st.builds(
    make_labels,
    st.integers(0, 2**32 - 1),
    st.tuples(st.integers(0, 30), st.integers(0, 30)),
    st.integers(0, 6),
    st.sampled_from([np.uint8, np.uint16, np.uint32, np.int32, np.int64]),
)


@SETTINGS
@given(label_maps)
def test_encode_labels_matches_pycocotools_per_id(lab):
    got = rle.encode_labels(lab)
    present = [int(i) for i in np.unique(lab) if i != 0]
    assert list(got) == present
    for i, r in got.items():
        assert r == pc_encode(lab == i), i
    # the same from other layouts: Fortran order, a strided view, a transposed view
    assert rle.encode_labels(np.asfortranarray(lab)) == got
    big = np.zeros((2 * lab.shape[0], 2 * lab.shape[1]), lab.dtype)
    big[::2, ::2] = lab
    assert rle.encode_labels(big[::2, ::2]) == got
    assert rle.encode_labels(np.ascontiguousarray(lab.T).T) == got


@SETTINGS
@given(label_maps, st.data())
def test_ids_void_and_json(lab, data):
    present = [int(i) for i in np.unique(lab) if i != 0]
    void = data.draw(st.sampled_from([None, *present[:2]]))
    got = rle.encode_labels(lab, void=void)
    assert list(got) == [i for i in present if i != void]
    ids = data.draw(st.lists(st.integers(0, 70000), unique=True, max_size=4)) + present[:1]
    ids = list(dict.fromkeys(ids))
    chosen = rle.encode_labels(lab, ids)
    assert list(chosen) == ids  # requested order, absent ids included (empty masks)
    for i in ids:
        assert chosen[i] == pc_encode(lab == i)
    js = rle.encode_labels(lab, void=void, json=True)
    assert json.loads(json.dumps(js)) == {
        str(k): {"size": v["size"], "counts": v["counts"].decode()} for k, v in got.items()
    }
    for k, v in js.items():
        assert isinstance(v["counts"], str) and coco.decode(v).sum() == (lab == k).sum()


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 20), st.integers(0, 20))
def test_stacks_round_trip(seed, t, h, w):
    lab = make_labels(seed, (t, h, w), 4, np.uint8)
    frames = rle.encode_labels(lab, threads=2)
    assert isinstance(frames, list) and len(frames) == t
    for f, frame in zip(lab, frames):
        assert frame == rle.encode_labels(f)
    back = rle.decode_labels(frames, (h, w), threads=2)
    assert back.dtype == np.uint8 and back.shape == (t, h, w)
    np.testing.assert_array_equal(back, lab)
    # fixed ids: every frame has the same keys, and decoding ignores the empty ones
    fixed = rle.encode_labels(lab, [1, 2, 3, 200])
    assert all(list(f) == [1, 2, 3, 200] for f in fixed)


@SETTINGS
@given(label_maps)
def test_decode_labels_round_trip(lab):
    if lab.size == 0:
        return
    by_id = rle.encode_labels(lab)
    back = rle.decode_labels(by_id, lab.shape)
    np.testing.assert_array_equal(back, lab)
    top = int(lab.max())
    want = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
    assert back.dtype == want and back.flags.c_contiguous
    # JSON round trip: string keys and str counts
    if by_id:
        back2 = rle.decode_labels(json.loads(json.dumps(rle.encode_labels(lab, json=True))))
        np.testing.assert_array_equal(back2, lab)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 25), st.integers(1, 25), st.integers(2, 5))
def test_overlap_rules(seed, h, w, n):
    rng = np.random.default_rng(seed)
    ms = [rng.random((h, w)) < 0.4 for _ in range(n)]
    rles = {k + 1: coco.encode(m) for k, m in enumerate(ms)}
    first = np.zeros((h, w), np.uint8)
    last = np.zeros((h, w), np.uint8)
    for k, m in enumerate(ms):
        first[(first == 0) & m] = k + 1
        last[m] = k + 1
    np.testing.assert_array_equal(rle.decode_labels(rles, overlap="first"), first)
    np.testing.assert_array_equal(rle.decode_labels(rles, overlap="last"), last)
    overlapping = any((ms[a] & ms[b]).any() for a in range(n) for b in range(a))
    if overlapping:
        with pytest.raises(fastmask.RleError, match=r"objects \d+ and \d+ overlap"):
            rle.decode_labels(rles)
    else:
        np.testing.assert_array_equal(rle.decode_labels(rles), first)


def test_decode_labels_errors():
    r = coco.encode(np.ones((2, 3), np.uint8))
    with pytest.raises(ValueError, match="shape is needed"):
        rle.decode_labels({})
    assert rle.decode_labels({}, (2, 3)).tolist() == [[0, 0, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="size"):
        rle.decode_labels({1: r}, (3, 2))
    with pytest.raises(ValueError, match="background"):
        rle.decode_labels({0: r})
    with pytest.raises(ValueError, match="overlap must be"):
        rle.decode_labels({1: r}, overlap="max")
    with pytest.raises(TypeError):
        rle.decode_labels({"one": r})
    with pytest.raises(fastmask.RleError):
        rle.decode_labels({1: {"size": [2, 3], "counts": b"5"}})
    assert rle.decode_labels({300: r}).dtype == np.uint16
    assert rle.decode_labels({70000: r}).dtype == np.uint32


def test_encode_labels_errors():
    with pytest.raises(ValueError, match="integer"):
        rle.encode_labels(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        rle.encode_labels(np.full((2, 2), -1, np.int16))
    with pytest.raises(ValueError, match="shape"):
        rle.encode_labels(np.zeros((2, 2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="twice"):
        rle.encode_labels(np.zeros((2, 2), np.uint8), [1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        rle.encode_labels(np.zeros((2, 2), np.uint8), [-1])
    with pytest.raises(TypeError):
        rle.encode_labels([[0, 1]])


def test_real_label_maps_round_trip():
    from conftest import corpus_pngs
    from PIL import Image

    files = (
        corpus_pngs("davis2017-osvos")[::47]
        + corpus_pngs("labelmaps-gray")[::5]
        + corpus_pngs("demos", "vipseg")
        + corpus_pngs("demos", "aot")
    )
    if not files:
        pytest.skip("shared corpus not available")
    for p in files:
        lab = np.array(Image.open(p))
        assert lab.ndim == 2, p
        by_id = rle.encode_labels(lab)
        for i, r in by_id.items():
            assert r == pc_encode(lab == i), (p, i)
        np.testing.assert_array_equal(rle.decode_labels(by_id, lab.shape), lab)
        assert rle.encode_labels(lab, void=255) == {k: v for k, v in by_id.items() if k != 255}


# ---- the counts string codec --------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 40), st.integers(0, 2**24 - 1)), min_size=1, max_size=30))
def test_codec_matches_pycocotools(counts):
    # pycocotools' encoder writes into a buffer of 6 bytes per count plus none for its NUL:
    # an empty list, or values needing 6 or 7 characters (above 2^24), overflow its heap.
    s = rle.counts_to_string(counts)
    # pycocotools re-encodes uncompressed counts without checking their sum
    assert s == pc.frPyObjects({"size": [1, 1], "counts": counts}, 1, 1)["counts"]
    assert rle.string_to_counts(s) == counts
    assert rle.string_to_counts(s.decode()) == counts


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**63 - 1), st.integers(2**31, 2**33)), max_size=30))
def test_codec_round_trips_above_2_31(counts):
    s = rle.counts_to_string(counts)
    assert all(48 <= c <= 111 for c in s)
    assert rle.string_to_counts(s) == counts


def test_codec_examples_and_errors():
    assert rle.counts_to_string([15]) == b"?"
    assert rle.counts_to_string([16]) == b"`0"
    assert rle.counts_to_string([1000]) == b"Xo0"
    assert rle.counts_to_string([]) == b""
    for bad in (b"`", b"ab c", b"\xff", b"o" * 14, b"O", "é"):
        with pytest.raises(fastmask.RleError):
            rle.string_to_counts(bad)
    with pytest.raises(fastmask.RleError):
        rle.counts_to_string([2**63])
    with pytest.raises(OverflowError):
        rle.counts_to_string([-1])
    with pytest.raises(TypeError):
        rle.string_to_counts(123)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_random_strings_never_crash(s):
    try:
        counts = rle.string_to_counts(s)
    except fastmask.RleError:
        return
    # accepted: the canonical re-encoding decodes to the same counts
    assert rle.string_to_counts(rle.counts_to_string(counts)) == counts
