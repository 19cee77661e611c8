"""Decoding: against Pillow (the reference for pixels) on the real corpus and on Pillow-written
images, and against a small reference encoder written here from the PNG specification for what
Pillow cannot write (Adam7 interlace, low-bit grayscale, chosen filters, split IDAT)."""

from __future__ import annotations

import io
import itertools
import struct
import warnings
import zlib
from pathlib import Path

import fastmask
import numpy as np
import pytest
from conftest import corpus_path, corpus_pngs
from fastmask import PngError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

# --- a reference encoder, straight from the PNG specification (sections 7 to 9) -----------------

SIG = b"\x89PNG\r\n\x1a\n"
ADAM7 = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def pack_row(samples: np.ndarray, depth: int) -> bytes:
    """One row of samples (flat) as stored: big-endian 16-bit, bytes, or MSB-first bit packing."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(samples), per):
        byte = 0
        for j, v in enumerate(samples[i : i + per]):
            byte |= int(v) << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind: int, line: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray(len(line))
    for i, x in enumerate(line):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out[i] = (x - pred) & 0xFF
    return bytes(out)


def ref_png(
    samples: np.ndarray,
    color_type: int,
    depth: int,
    *,
    interlace: bool = False,
    filters: tuple[int, ...] = (0,),
    idat_parts: int = 1,
    plte: np.ndarray | None = None,
    trns: bytes | None = None,
    ancillary: tuple[tuple[bytes, bytes], ...] = (),
    level: int = 6,
) -> bytes:
    """PNG bytes for ``samples`` of shape (H, W, C): each row gets the next filter of
    ``filters`` (cycled), the zlib stream is cut into ``idat_parts`` IDAT chunks."""
    h, w, c = samples.shape
    bpp = max(1, c * depth // 8)
    raw = bytearray()
    k = 0
    for x0, y0, dx, dy in ADAM7 if interlace else [(0, 0, 1, 1)]:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prev = None
        for row in sub:
            line = pack_row(row.reshape(-1), depth)
            prev = prev or bytes(len(line))
            kind = filters[k % len(filters)]
            k += 1
            raw.append(kind)
            raw += filter_row(kind, line, prev, bpp)
            prev = line
    z = zlib.compress(bytes(raw), level)
    cuts = np.linspace(0, len(z), idat_parts + 1).astype(int)
    out = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, interlace))
    for kind, body in ancillary:
        out += chunk(kind, body)
    if plte is not None:
        out += chunk(b"PLTE", np.asarray(plte, np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    for a, b in itertools.pairwise(cuts):
        out += chunk(b"IDAT", z[a:b])
    return out + chunk(b"IEND", b"")


# --- what Pillow gives, derived from the stored samples -----------------------------------------


def pillow_view(raw: np.ndarray, info: fastmask.PngInfo) -> np.ndarray:
    """``np.array(Image.open(f))`` for a file whose stored samples are ``raw`` (our ``raw=True``
    output). These are the documented differences: fastmask returns stored values, Pillow
    converts them."""
    d, ct = info.bit_depth, info.color_type
    if ct == 0 and d == 1:
        return raw.astype(bool)  # Pillow mode "1"
    if ct == 0 and d in (2, 4):
        return (raw * (255 // (2**d - 1))).astype(np.uint8)  # Pillow rescales to 0..255
    if ct in (2, 6) and d == 16:
        return (raw >> 8).astype(np.uint8)  # Pillow keeps the high byte (mode RGB / RGBA)
    if ct == 4 and d == 16:
        g, a = raw[..., 0] >> 8, raw[..., 1] >> 8  # Pillow makes 16-bit gray+alpha RGBA
        return np.stack([g, g, g, a], axis=-1).astype(np.uint8)
    return raw


def pillow_array(data: bytes | Path) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = data if isinstance(data, Path) else io.BytesIO(data)
        with Image.open(src) as im:
            return np.array(im)


def labels_from_raw(raw: np.ndarray, info: fastmask.PngInfo) -> np.ndarray:
    """The label map fastmask promises for non-colour images: gray channel, values unchanged."""
    return raw[..., 0] if info.color_type == 4 else raw


# --- the real corpus ----------------------------------------------------------------------------

# Files that differ from Pillow on purpose (each one is asserted below).
WE_DECODE_PILLOW_FAILS = {
    # A zTXt decompression bomb: fastmask never decompresses text chunks, the pixels are fine.
    "png_decompression_dos.png",
}
PILLOW_DECODES_WE_FAIL = {
    # IDAT CRC mismatch: Pillow does not check the CRC of IDAT chunks, fastmask checks all.
    "xcsn0g01.png",
}
BROKEN = {
    "broken.png",
    "truncated_end_chunk.png",
    "truncated_image.png",
    "unknown_compression_method.png",
}
CORPUS_FOLDERS = [
    "davis2016",
    "davis2017-osvos",
    "labelmaps-gray",
    "demos",
    "pngsuite",
    "edge-cases",
]


@pytest.mark.parametrize("folder", CORPUS_FOLDERS)
def test_decode_equals_pillow_on_every_corpus_png(folder: str) -> None:
    files = corpus_pngs(folder)
    if not files:
        pytest.skip(f"corpus folder {folder} not available")
    checked = 0
    failures = []
    for p in files:
        if (
            p.name in BROKEN
            or p.name in PILLOW_DECODES_WE_FAIL
            or (folder == "pngsuite" and p.name.startswith("x"))
        ):
            continue  # corrupt on purpose: see the error tests
        raw = fastmask.read_png(p, raw=True)
        info = fastmask.png_info(p)
        if p.name in WE_DECODE_PILLOW_FAILS:
            with pytest.raises(ValueError):
                pillow_array(p)
            continue
        ref = pillow_array(p)
        want = pillow_view(raw, info)
        if ref.shape != want.shape or ref.dtype != want.dtype or not np.array_equal(ref, want):
            failures.append(f"{p}: pillow {ref.dtype}{ref.shape}, ours {raw.dtype}{raw.shape}")
        if info.color_type == 4:
            labels = fastmask.read_png(p)
            if not np.array_equal(labels, labels_from_raw(raw, info)):
                failures.append(f"{p}: labels differ from the stored samples")
        checked += 1
    assert not failures, "\n".join(failures[:20])
    assert checked > 0


def test_palette_equals_pillow_getpalette(corpus: Path) -> None:
    files = [
        p for p in corpus_pngs("pngsuite") + corpus_pngs("demos") if not p.name.startswith("x")
    ]
    seen = 0
    for p in files:
        with Image.open(p) as im:
            if im.mode != "P":
                continue
            ref = np.array(im.getpalette(), np.uint8).reshape(-1, 3)
        _labels, pal = fastmask.read_png(p, palette=True)
        assert pal.dtype == np.uint8 and pal.shape == ref.shape and np.array_equal(pal, ref), p
        seen += 1
    assert seen > 20


def test_palette_is_none_without_plte(corpus: Path) -> None:
    p = corpus_path("pngsuite", "basn0g08.png")
    labels, pal = fastmask.read_png(p, palette=True)
    assert pal is None and labels.shape == (32, 32)


def test_gray_alpha_gives_the_gray_channel(corpus: Path) -> None:
    p = corpus_path("davis2016", "Annotations", "480p", "bear", "00077.png")
    assert fastmask.png_info(p).color_type_name == "grayscale+alpha"
    ref = pillow_array(p)
    assert np.array_equal(fastmask.read_png(p), ref[..., 0])
    assert np.array_equal(fastmask.read_png(p, raw=True), ref)


def test_rgba_mask_maps_to_davis_labels(corpus: Path) -> None:
    p = corpus_path("demos", "xmem2", "chair", "incorrect", "frame_000000.png")
    rgba = pillow_array(p)
    labels = fastmask.read_png(p)
    # The label of every pixel has exactly that pixel's colour in the DAVIS palette.
    assert np.array_equal(fastmask.DAVIS_PALETTE[labels], rgba[..., :3])
    assert labels.max() > 0


def test_unknown_colours_are_named_with_pixel_counts(corpus: Path) -> None:
    p = corpus_path("edge-cases", "p_16.png")  # RGBA with pure red/green/blue/white
    rgba = pillow_array(p)
    with pytest.raises(PngError) as e:
        fastmask.read_png(p)
    msg = str(e.value)
    assert str(p) in msg
    red = int(np.all(rgba[..., :3] == (255, 0, 0), axis=-1).sum())
    assert f"(255, 0, 0) in {red} pixels" in msg
    # With the colours as the palette, it maps.
    colours = np.unique(rgba[..., :3].reshape(-1, 3), axis=0)
    labels = fastmask.read_png(p, colormap=colours)
    assert np.array_equal(colours[labels], rgba[..., :3])


# --- Pillow-written images in every mode --------------------------------------------------------

sizes = st.tuples(st.integers(1, 40), st.integers(1, 40))


@st.composite
def pillow_images(draw: st.DrawFn) -> tuple[Image.Image, np.ndarray, dict]:
    mode = draw(st.sampled_from(["1", "L", "P", "I;16", "LA", "RGB", "RGBA"]))
    h, w = draw(sizes)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    save: dict = {}
    if mode == "1":
        arr = rng.integers(0, 2, (h, w)).astype(bool)
        im = Image.fromarray(arr)
    elif mode == "P":
        bits = draw(st.sampled_from([1, 2, 4, 8]))
        arr = rng.integers(0, 2**bits, (h, w)).astype(np.uint8)
        im = Image.fromarray(arr, "P")
        im.putpalette(rng.integers(0, 256, 3 * 2**bits).astype(np.uint8).tobytes())
        save["bits"] = bits
    elif mode == "I;16":
        arr = rng.integers(0, 65536, (h, w)).astype(np.uint16)
        im = Image.fromarray(arr)
    else:
        c = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
        arr = rng.integers(0, 256, (h, w, c) if c > 1 else (h, w)).astype(np.uint8)
        im = Image.fromarray(arr)
    save["compress_level"] = draw(st.integers(0, 9))
    assert im.mode == mode
    return im, arr, save


@settings(max_examples=80, deadline=None)
@given(pillow_images())
def test_pillow_written_images_in_every_mode(case: tuple[Image.Image, np.ndarray, dict]) -> None:
    im, arr, save = case
    buf = io.BytesIO()
    im.save(buf, format="PNG", **save)
    data = buf.getvalue()
    info = fastmask.png_info(data)
    raw = fastmask.decode_png(data, raw=True)
    assert np.array_equal(raw, arr.astype(raw.dtype)), (im.mode, info)
    assert np.array_equal(pillow_view(raw, info), pillow_array(data))
    if im.mode == "P":
        labels, pal = fastmask.decode_png(data, palette=True)
        assert info.bit_depth == save["bits"]
        assert np.array_equal(labels, arr)
        assert np.array_equal(pal, np.array(im.getpalette(), np.uint8).reshape(-1, 3))


def test_pillow_rgb_masks_map_to_labels() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 256, (33, 47)).astype(np.uint8)
    for mode in ("RGB", "RGBA"):
        rgb = fastmask.DAVIS_PALETTE[labels]
        if mode == "RGBA":
            rgb = np.dstack([rgb, rng.integers(0, 256, labels.shape).astype(np.uint8)])
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG")
        assert np.array_equal(fastmask.decode_png(buf.getvalue()), labels)  # alpha ignored


# --- the reference encoder: interlace, filters, low bit depths, split IDAT -----------------------


@st.composite
def spec_images(draw: st.DrawFn) -> tuple[bytes, np.ndarray, int, int]:
    ct = draw(st.sampled_from(sorted(CHANNELS)))
    depth = draw(st.sampled_from(DEPTHS[ct]))
    h, w = draw(st.tuples(st.integers(1, 19), st.integers(1, 19)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    samples = rng.integers(0, 2**depth, (h, w, CHANNELS[ct]))
    plte = rng.integers(0, 256, (2**depth if depth < 8 else 256, 3)) if ct == 3 else None
    data = ref_png(
        samples,
        ct,
        depth,
        interlace=draw(st.booleans()),
        filters=tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=6))),
        idat_parts=draw(st.integers(1, 4)),
        plte=plte,
        ancillary=((b"tEXt", b"Comment\x00hello"),) if draw(st.booleans()) else (),
    )
    return data, samples, ct, depth


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_images())
def test_reference_encoder_images_decode_to_their_samples(case: tuple) -> None:
    data, samples, _ct, depth = case
    raw = fastmask.decode_png(data, raw=True)
    want = samples[..., 0] if samples.shape[2] == 1 else samples
    assert raw.dtype == (np.uint16 if depth == 16 else np.uint8)
    assert np.array_equal(raw, want)
    # Pillow agrees with the same documented differences (it decodes Adam7 too).
    assert np.array_equal(pillow_view(raw, fastmask.png_info(data)), pillow_array(data))


def test_adam7_on_pngsuite_matches_the_non_interlaced_twin(corpus: Path) -> None:
    pairs = 0
    for p in corpus_pngs("pngsuite"):
        if p.name[3] == "i" and not p.name.startswith("x"):
            twin = p.with_name(p.name[:3] + "n" + p.name[4:])
            if twin.exists():
                assert fastmask.png_info(p).interlaced
                assert np.array_equal(
                    fastmask.read_png(p, raw=True), fastmask.read_png(twin, raw=True)
                )
                pairs += 1
    assert pairs >= 20


def test_every_filter_type_on_a_large_mask() -> None:
    rng = np.random.default_rng(7)
    labels = (rng.random((40, 300)) < 0.1).astype(np.uint8) * rng.integers(1, 9)
    for bpp_case in [(3, 8), (0, 8), (2, 8), (6, 8), (0, 16), (2, 16), (6, 16)]:
        ct, depth = bpp_case
        c = CHANNELS[ct]
        samples = np.repeat(labels[..., None], c, axis=2).astype(np.int64) * (
            257 if depth == 16 else 1
        )
        data = ref_png(
            samples,
            ct,
            depth,
            filters=(0, 1, 2, 3, 4),
            plte=fastmask.DAVIS_PALETTE if ct == 3 else None,
        )
        raw = fastmask.decode_png(data, raw=True)
        assert np.array_equal(raw, samples[..., 0] if c == 1 else samples), bpp_case


# --- inputs ------------------------------------------------------------------------------------


def _small_png() -> bytes:
    return fastmask.encode_png(np.arange(12, dtype=np.uint8).reshape(3, 4))


@pytest.mark.parametrize(
    "wrap",
    [
        bytes,
        bytearray,
        memoryview,
        lambda b: np.frombuffer(b, np.uint8),
        lambda b: memoryview(b).cast("c"),
    ],
)
def test_any_byte_buffer_is_accepted(wrap) -> None:  # type: ignore[no-untyped-def]
    data = _small_png()
    assert np.array_equal(fastmask.decode_png(wrap(data)), np.arange(12).reshape(3, 4))


def test_non_contiguous_buffers_and_non_buffers_are_rejected() -> None:
    arr = np.frombuffer(_small_png() * 2, np.uint8)[::2]
    with pytest.raises(TypeError, match="C-contiguous"):
        fastmask.decode_png(arr)
    with pytest.raises(TypeError):
        fastmask.decode_png("not bytes")


def test_paths_may_be_str_or_pathlike_and_errors_name_the_file(tmp_path: Path) -> None:
    p = tmp_path / "m.png"
    p.write_bytes(_small_png())
    assert np.array_equal(fastmask.read_png(str(p)), fastmask.read_png(p))
    bad = tmp_path / "bad.png"
    bad.write_bytes(_small_png()[:-5])
    with pytest.raises(PngError, match=r"bad\.png: truncated file"):
        fastmask.read_png(bad)
    with pytest.raises(FileNotFoundError) as e:
        fastmask.read_png(tmp_path / "missing.png")
    assert e.value.filename == str(tmp_path / "missing.png")


# --- errors: corrupt files never crash ----------------------------------------------------------

# PngSuite's corrupt files and the reason each must give.
CORRUPT = {
    "xc1n0g08.png": "unknown colour type 1",
    "xc9n2c08.png": "unknown colour type 9",
    "xcrn0g04.png": "text-mode transfer",
    "xcsn0g01.png": "CRC mismatch in chunk 'IDAT'",
    "xd0n2c08.png": "unsupported bit depth 0",
    "xd3n2c08.png": "unsupported bit depth 3",
    "xd9n2c08.png": "unsupported bit depth 99",
    "xdtn0g01.png": "no IDAT chunk",
    "xhdn0g08.png": "CRC mismatch in chunk 'IHDR'",
    "xlfn0g04.png": "text-mode transfer",
    "xs1n0g01.png": "bad signature",
    "xs2n0g01.png": "bad signature",
    "xs4n0g01.png": "bad signature",
    "xs7n0g01.png": "bad signature",
}


def test_every_corrupt_pngsuite_file_raises_png_error(corpus: Path) -> None:
    found = [p for p in corpus_pngs("pngsuite") if p.name.startswith("x")]
    assert {p.name for p in found} == set(CORRUPT)
    for p in found:
        with pytest.raises(PngError, match=CORRUPT[p.name]):
            fastmask.read_png(p)
        with pytest.raises(PngError):
            fastmask.decode_png(p.read_bytes(), raw=True)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("broken.png", "bad chunk type"),
        ("truncated_end_chunk.png", "truncated file"),
        ("truncated_image.png", "truncated file"),
        # Pillow trips on the iCCP compression byte; the chunk's CRC is wrong too.
        ("unknown_compression_method.png", "CRC mismatch in chunk 'iCCP'"),
    ],
)
def test_broken_edge_cases_raise_png_error(corpus: Path, name: str, reason: str) -> None:
    p = corpus_path("edge-cases", name)
    with pytest.raises(PngError, match=reason):
        fastmask.read_png(p)
    with pytest.raises((OSError, ValueError)):
        pillow_array(p)  # Pillow refuses them too


def _truncation_targets() -> list[bytes]:
    rng = np.random.default_rng(3)
    labels = np.zeros((48, 64), np.uint8)
    labels[10:30, 5:40] = 1
    labels[rng.random(labels.shape) < 0.05] = 2
    out = [fastmask.encode_png(labels)]
    real = corpus_pngs("davis2017-osvos")
    if real:
        out.append(min(real[:200], key=lambda p: p.stat().st_size).read_bytes())
    return out


def test_truncation_at_every_byte_offset_raises_png_error() -> None:
    for data in _truncation_targets():
        fastmask.decode_png(data)
        for cut in range(len(data)):
            with pytest.raises(PngError):
                fastmask.decode_png(data[:cut])


def test_single_flipped_bytes_raise_png_error_or_decode() -> None:
    # A flipped byte anywhere is caught by a CRC or the signature; never a crash.
    data = _truncation_targets()[0]
    for i in range(0, len(data), 7):
        bad = bytearray(data)
        bad[i] ^= 0x10
        with pytest.raises(PngError):
            fastmask.decode_png(bytes(bad))


def test_structure_errors() -> None:
    samples = np.zeros((4, 4, 1), np.int64)
    good = ref_png(samples, 0, 8)
    ihdr_end = 8 + 25
    iend = chunk(b"IEND", b"")
    idat = good[ihdr_end:-12]
    cases = {
        "first chunk is 'IDAT'": SIG + idat + iend,
        "no IEND": good[:-12],
        "duplicate IHDR": good[:ihdr_end] + good[8:ihdr_end] + good[ihdr_end:],
        "unknown critical chunk 'ABCD'": good[:ihdr_end] + chunk(b"ABCD", b"x") + good[ihdr_end:],
        "not consecutive": good[:ihdr_end] + idat + chunk(b"tEXt", b"a\x00b") + idat + iend,
        "without a PLTE": ref_png(samples, 3, 8),
        "bad PLTE": ref_png(samples, 3, 8, plte=np.zeros((1, 2))),
        "expected width and height of at least 1": ref_png(np.zeros((0, 3, 1), np.int64), 0, 8),
        "unknown interlace method 2": good[:28] + b"\x02" + good[29:],
        "bad chunk type": good[:ihdr_end] + struct.pack(">I", 0) + b"\x00\x01\x02\x03" + b"\0" * 4,
    }
    for expected, data in cases.items():
        if expected == "unknown interlace method 2":
            data = data[:12] + data[12:29] + struct.pack(">I", zlib.crc32(data[12:29])) + data[33:]
        with pytest.raises(PngError, match=expected):
            fastmask.decode_png(data)


def test_ancillary_chunks_are_skipped() -> None:
    samples = np.arange(12).reshape(3, 4, 1)
    extra = (
        (b"tEXt", b"k\x00v"),
        (b"zTXt", b"k\x00\x00" + zlib.compress(b"x" * 10_000_000)),
        (b"pHYs", b"\0" * 9),
    )
    data = ref_png(samples, 0, 8, ancillary=extra)
    assert np.array_equal(fastmask.decode_png(data), samples[..., 0])
    assert [c for c, _ in fastmask.png_info(data).chunks] == [
        "IHDR",
        "tEXt",
        "zTXt",
        "pHYs",
        "IDAT",
        "IEND",
    ]


def test_idat_bomb_cannot_grow_memory() -> None:
    # A zlib stream that would inflate to 64 MB for a 16 x 16 image: decoding stops at the
    # 272 bytes IHDR implies and ignores the rest (like Pillow and libpng).
    h = w = 16
    rows = b"".join(b"\x00" + bytes(range(w)) for _ in range(h))
    comp = zlib.compressobj(9)
    z = comp.compress(rows) + comp.compress(b"\0" * (64 << 20)) + comp.flush()
    data = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    data += chunk(b"IDAT", z) + chunk(b"IEND", b"")
    assert len(data) < 100_000
    assert np.array_equal(
        fastmask.decode_png(data), np.tile(np.arange(16, dtype=np.uint8), (16, 1))
    )


def test_too_little_image_data_names_both_sizes() -> None:
    data = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(b"\0" * 15)) + chunk(b"IEND", b"")
    with pytest.raises(
        PngError, match="truncated image data: expected 20 bytes of scanlines, got 15"
    ):
        fastmask.decode_png(data)


def test_pixel_limit() -> None:
    huge = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 3, 0, 0, 0))
    huge += chunk(b"PLTE", b"\0\0\0") + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    with pytest.raises(
        PngError, match="100000 x 100000 = 10000000000 pixels exceeds the limit of 89478485"
    ):
        fastmask.decode_png(huge)
    small = fastmask.encode_png(np.zeros((10, 10), np.uint8))
    with pytest.raises(PngError, match="exceeds the limit of 99"):
        fastmask.decode_png(small, max_pixels=99)
    assert fastmask.decode_png(small, max_pixels=100).shape == (10, 10)
    old = fastmask.get_max_pixels()
    try:
        fastmask.set_max_pixels(50)
        with pytest.raises(PngError, match="limit of 50"):
            fastmask.decode_png(small)
        with pytest.raises(PngError, match="limit of 50"):
            fastmask.decode_png(huge)
        fastmask.set_max_pixels(None)
        assert fastmask.decode_png(small).shape == (10, 10)
    finally:
        fastmask.set_max_pixels(old)
    assert fastmask.get_max_pixels() == 89_478_485
    with pytest.raises(ValueError):
        fastmask.set_max_pixels(0)


def test_sixteen_bit_colour_masks_need_raw() -> None:
    samples = np.full((2, 3, 3), 0x8000, np.int64)
    data = ref_png(samples, 2, 16)
    with pytest.raises(PngError, match="raw=True"):
        fastmask.decode_png(data)
    assert fastmask.decode_png(data, raw=True).dtype == np.uint16


def test_davis_palette_follows_the_davis_formula() -> None:
    # davis2017/utils.py color_map(): bit k of the label goes to bit 7 - k // 3 of channel k % 3.
    def bitget(v: int, i: int) -> int:
        return (v >> i) & 1

    ref = np.zeros((256, 3), np.uint8)
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= bitget(c, 0) << (7 - j)
            g |= bitget(c, 1) << (7 - j)
            b |= bitget(c, 2) << (7 - j)
            c >>= 3
        ref[i] = (r, g, b)
    assert fastmask.DAVIS_PALETTE.shape == (256, 3) and fastmask.DAVIS_PALETTE.dtype == np.uint8
    assert np.array_equal(fastmask.DAVIS_PALETTE, ref)
    assert not fastmask.DAVIS_PALETTE.flags.writeable


def test_davis_palette_is_what_davis_masks_carry(corpus: Path) -> None:
    p = corpus_pngs("davis2017-osvos")[0]
    _, pal = fastmask.read_png(p, palette=True)
    assert np.array_equal(pal, fastmask.DAVIS_PALETTE)


def test_png_info_fields(corpus: Path) -> None:
    info = fastmask.png_info(corpus_path("pngsuite", "tbbn3p08.png"))
    with Image.open(corpus_path("pngsuite", "tbbn3p08.png")) as im:
        n = len(im.getpalette()) // 3
        assert info.transparency == ("transparency" in im.info)
    assert (info.width, info.height, info.bit_depth, info.color_type_name) == (32, 32, 8, "palette")
    assert info.palette_entries == n
    assert fastmask.png_info(corpus_path("pngsuite", "basi0g08.png")).interlaced
    assert info.chunks[0] == ("IHDR", 13) and info.chunks[-1] == ("IEND", 0)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_chunk_contents_with_valid_crcs_never_crash(data: st.DataObject) -> None:
    # Well-formed chunk framing (right CRCs) around random headers and image data: decoding
    # either gives an image of the header's size or raises PngError.
    w, h = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
    ct = data.draw(st.sampled_from([0, 2, 3, 4, 6, 1, 5]))
    depth = data.draw(st.sampled_from([1, 2, 4, 8, 16, 0, 3]))
    interlace = data.draw(st.sampled_from([0, 1, 2]))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ct, 0, 0, interlace)
    kind = data.draw(st.sampled_from(["random", "zlib random", "zlib right size"]))
    if kind == "random":
        idat = data.draw(st.binary(max_size=300))
    else:
        size = (
            (h * (1 + (w * CHANNELS.get(ct, 1) * max(depth, 1) + 7) // 8))
            if kind == "zlib right size"
            else 0
        )
        n = size or data.draw(st.integers(0, 3000))
        payload = bytes(
            np.random.default_rng(data.draw(st.integers(0, 1000))).integers(0, 256, n, np.uint8)
        )
        idat = zlib.compress(payload)
    out = SIG + chunk(b"IHDR", ihdr)
    if data.draw(st.booleans()):
        out += chunk(b"PLTE", data.draw(st.binary(min_size=0, max_size=800)))
    if data.draw(st.booleans()):
        out += chunk(b"tRNS", data.draw(st.binary(max_size=300)))
    parts = data.draw(st.integers(1, 3))
    cuts = np.linspace(0, len(idat), parts + 1).astype(int)
    for a, b in itertools.pairwise(cuts):
        out += chunk(b"IDAT", idat[a:b])
    out += chunk(b"IEND", b"")
    for raw in (True, False):
        try:
            img = fastmask.decode_png(out, raw=raw)
        except PngError:
            continue
        assert img.shape[:2] == (h, w)
