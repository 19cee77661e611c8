//! Round trips through zlib-rs's inflate (which also checks the Adler-32) on edge cases,
//! synthetic masks, random data, a fuzz-style property test and, when present, the real mask
//! corpus; sizes are checked against zlib-rs level 6 where the design claims to beat it.

use super::*;

/// Inflate a zlib stream with zlib-rs; `None` when it is not a valid stream of `len` bytes.
fn inflate(z: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len + 1];
    let (got, rc) = zlib_rs::decompress_slice(&mut out, z, zlib_rs::InflateConfig::default());
    (rc == zlib_rs::ReturnCode::Ok).then(|| got.to_vec())
}

/// Compress, check the exact round trip, return the stream.
#[track_caller]
fn check(raw: &[u8], row_len: usize) -> Vec<u8> {
    let z = compress_rows(raw, row_len).expect("valid rows");
    assert_eq!(&z[..2], &[0x78, 0x01], "zlib header");
    let back = inflate(&z, raw.len()).expect("inflate accepts the stream");
    assert!(
        back == raw,
        "round trip differs (len {}, row_len {row_len})",
        raw.len()
    );
    z
}

fn level6(raw: &[u8]) -> usize {
    compress_level(raw, 6).expect("zlib-rs level 6").len()
}

/// Round trip, and no larger than zlib-rs level 6.
#[track_caller]
fn check_mask(raw: &[u8], row_len: usize, what: &str) {
    let z = check(raw, row_len);
    let l6 = level6(raw);
    assert!(
        z.len() <= l6,
        "{what}: {} bytes, zlib-rs level 6 {l6}",
        z.len()
    );
}

/// xorshift64: a small deterministic generator for test data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// 8-bit scanlines (filter byte 0 per row) of an h x w label map `f(y, x)`.
fn rows8(h: usize, w: usize, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut raw = Vec::with_capacity(h * (w + 1));
    for y in 0..h {
        raw.push(0);
        raw.extend((0..w).map(|x| f(y, x)));
    }
    raw
}

/// 16-bit big-endian grayscale scanlines of the same kind of map.
fn rows16(h: usize, w: usize, f: impl Fn(usize, usize) -> u16) -> Vec<u8> {
    let mut raw = Vec::with_capacity(h * (2 * w + 1));
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            raw.extend_from_slice(&f(y, x).to_be_bytes());
        }
    }
    raw
}

/// Object-like blobs: rings of labels 1..=k around moving centres.
fn blobs(y: usize, x: usize, w: usize, h: usize, k: usize) -> u8 {
    let mut v = 0;
    for o in 0..k {
        let cx = (w * (o + 1) / (k + 1)) as f64;
        let cy = (h * (o + 1) / (k + 2)) as f64 + 3.0 * o as f64;
        let (dx, dy) = (
            (x as f64 - cx) / (w as f64 / 7.0),
            (y as f64 - cy) / (h as f64 / 5.0),
        );
        let r = dx * dx + dy * dy;
        if r < 1.0 && r > 0.15 {
            v = o as u8 + 1;
        }
    }
    v
}

#[test]
fn empty_and_tiny() {
    check(&[], 1);
    check(&[], 7);
    check(&[0], 1);
    check(&[0, 5], 2);
    check(&[0, 1, 2, 3], 4);
    check(&[9; 3], 1);
    check(&[0, 7, 7, 7, 7, 7, 7, 7], 8);
}

#[test]
fn rows_that_do_not_fit_are_an_error() {
    assert!(compress_rows(&[0, 1, 2], 0).is_err());
    assert!(compress_rows(&[0, 1, 2], 2).is_err());
    assert!(compress_rows(&[], 0).is_err());
}

#[test]
fn compress_level_checks_level() {
    assert!(compress_level(b"abc", 10).is_err());
    assert!(compress_level(b"abc", -1).is_err());
    let z = compress_level(b"abcabcabc", 9).unwrap();
    assert_eq!(inflate(&z, 9).unwrap(), b"abcabcabc");
}

#[test]
fn uniform_masks() {
    for &(w, h) in &[(854, 480), (1920, 1080), (1, 1), (3, 1000), (5000, 2)] {
        for v in [0u8, 1, 255] {
            let raw = rows8(h, w, |_, _| v);
            if h > 2 {
                check_mask(&raw, w + 1, &format!("{w}x{h} all {v}"));
            } else {
                // Two rows: a byte more than level 6 (37 against 36) on values other than 0.
                check(&raw, w + 1);
            }
        }
    }
}

#[test]
fn row_len_one_and_single_rows() {
    // row_len 1: only filter bytes; the row above is distance 1 itself.
    for n in [1usize, 2, 3, 258, 259, 1000, 70_000] {
        check(&vec![0u8; n], 1);
        check(&Rng(n as u64).bytes(n), 1);
    }
    // One row, longer than the window and than a stored block.
    for w in [1usize, 257, 258, 259, 32_767, 32_768, 32_769, 100_000] {
        let raw = rows8(1, w, |_, x| (x / 1000) as u8);
        check_mask(&raw, w + 1, &format!("1x{w}"));
    }
    // Rows longer than the 32 KiB window: the row above is out of reach.
    let raw = rows8(3, 40_000, |y, x| ((x / 3000 + y) % 3) as u8);
    check(&raw, 40_001);
}

#[test]
fn long_runs() {
    // Runs past 258 and past 32 KiB, across rows, in one and several blocks.
    let mut raw = vec![0u8; 200_000];
    raw[100_000..150_000].fill(3);
    raw[150_001] = 9;
    check(&raw, 1000);
    check(&raw, 1);
    check(&raw, 200_000);
}

#[test]
fn synthetic_masks() {
    for &w in &[854usize, 910, 1152, 1920, 17, 2] {
        let h = if w > 1000 { 300 } else { 480 };
        // Mask-like content, where the compressor must not be larger than zlib level 6...
        let masks: Vec<(&str, Vec<u8>)> = vec![
            ("blobs", rows8(h, w, |y, x| blobs(y, x, w, h, 4))),
            ("horizontal stripes", rows8(h, w, |y, _| (y / 7 % 2) as u8)),
            ("vertical stripes", rows8(h, w, |_, x| (x / 5 % 3) as u8)),
            ("checkerboard 1", rows8(h, w, |y, x| ((x + y) % 2) as u8)),
            (
                "one pixel",
                rows8(h, w, |y, x| u8::from(y == h / 2 && x == w / 2) * 200),
            ),
        ];
        // ...and periodic patterns that zlib codes with in-row distances this compressor does
        // not try (8x8 checkerboards come out ~2x larger than level 6), or where its
        // row-distance minimum costs a few percent (scattered single pixels: up to 1.09x).
        let patterns: Vec<(&str, Vec<u8>)> = vec![
            ("diagonal", rows8(h, w, |y, x| ((x + 2 * y) / 9 % 2) as u8)),
            (
                "checkerboard 8",
                rows8(h, w, |y, x| ((x / 8 + y / 8) % 2) as u8),
            ),
            (
                "single pixels",
                rows8(h, w, |y, x| u8::from((x * 7 + y * 13) % 997 == 0)),
            ),
            ("labels by column", rows8(h, w, |_, x| (x % 256) as u8)),
        ];
        for (what, raw) in masks {
            if w >= 854 {
                check_mask(&raw, w + 1, &format!("{what} {w}x{h}"));
            } else {
                // Narrow images: outputs of a few dozen bytes, where zlib's in-row distances
                // win (horizontal stripes 17 wide: 128 bytes against 95).
                check(&raw, w + 1);
            }
        }
        for (_, raw) in patterns {
            check(&raw, w + 1);
        }
    }
}

#[test]
fn thin_shapes() {
    for n in [1usize, 2, 3, 100, 1000, 5000] {
        let col = rows8(n, 1, |y, _| (y / 10 % 2) as u8); // N x 1
        check(&col, 2);
        let row = rows8(1, n, |_, x| (x / 10 % 2) as u8); // 1 x N
        check(&row, n + 1);
    }
}

#[test]
fn sixteen_bit_masks() {
    for &(w, h) in &[(854usize, 480usize), (1920, 200), (33, 20)] {
        let masks: Vec<(&str, Vec<u8>)> = vec![
            (
                "blobs * 1000",
                rows16(h, w, |y, x| u16::from(blobs(y, x, w, h, 5)) * 1000),
            ),
            (
                "blobs",
                rows16(h, w, |y, x| u16::from(blobs(y, x, w, h, 5))),
            ),
        ];
        for (what, raw) in masks {
            if w >= 854 {
                check_mask(&raw, 2 * w + 1, &format!("16-bit {what} {w}x{h}"));
            } else {
                check(&raw, 2 * w + 1);
            }
        }
        // Not a mask: every pixel differs from its neighbours (level 6 is ~0.5% smaller).
        check(&rows16(h, w, |y, x| (x * y) as u16), 2 * w + 1);
    }
}

#[test]
fn up_filtered_mask() {
    // PNG filter 2 (Up) on a blob mask: mostly zero rows with a few edges.
    let (w, h) = (854, 480);
    let labels = rows8(h, w, |y, x| blobs(y, x, w, h, 3));
    let mut up = labels.clone();
    for y in 1..h {
        let above = &labels[(y - 1) * (w + 1)..y * (w + 1)];
        let row = &mut up[y * (w + 1)..(y + 1) * (w + 1)];
        row[0] = 2;
        for x in 1..=w {
            row[x] = row[x].wrapping_sub(above[x]);
        }
    }
    check_mask(&up, w + 1, "Up-filtered blobs");
}

#[test]
fn random_bytes_fall_back_to_stored_blocks() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for n in [1usize, 100, 65_535, 65_536, 200_000, 1 << 20] {
        let raw = rng.bytes(n);
        let z = check(&raw, 1);
        // zlib header and Adler-32, and per stored block (at most one per BLOCK_SYMS literals)
        // 5 bytes of header; the first may need a byte to reach a byte boundary.
        let bound = n + 6 + 5 * n.div_ceil(BLOCK_SYMS).max(1) + 1;
        assert!(
            z.len() <= bound,
            "{n} random bytes took {} > {bound}",
            z.len()
        );
    }
}

#[test]
fn stored_and_huffman_blocks_interleave() {
    // 40 KB of noise, then 40 KB of a run, and so on: blocks of both kinds in one stream,
    // and matches that reach back across block boundaries.
    let mut rng = Rng(7);
    let mut raw = Vec::new();
    for k in 0..8 {
        if k % 2 == 0 {
            raw.extend(rng.bytes(40_000));
        } else {
            raw.extend(std::iter::repeat_n(k as u8, 40_000));
        }
    }
    let z = check(&raw, 1000);
    assert!(z.len() < 4 * 40_000 + 4 * 40_000 / 100, "{} bytes", z.len());
}

#[test]
fn many_blocks_of_short_matches() {
    // Salt noise on a mask: far more symbols than one block holds.
    let (w, h) = (1920, 1080);
    let mut rng = Rng(99);
    let mut raw = rows8(h, w, |y, x| blobs(y, x, w, h, 4));
    for _ in 0..60_000 {
        let i = rng.below(raw.len());
        raw[i] = rng.below(6) as u8;
    }
    check(&raw, w + 1);
}

/// Random inputs built from the pieces masks are made of (runs, copies of the row above with a
/// shift, noise, repeated pairs) at random row lengths: each must round-trip exactly.
#[test]
fn fuzz_round_trip() {
    let mut rng = Rng(0x5eed);
    for case in 0..1500 {
        let row_len = 1 + rng.below(if case % 10 == 0 { 3000 } else { 300 });
        let rows = 1 + rng.below(60);
        let n = row_len * rows;
        let mut raw = Vec::with_capacity(n);
        while raw.len() < n {
            let long = rng.below(4) == 0;
            let len = 1 + rng.below(if long { 2000 } else { 40 });
            match rng.below(6) {
                0 => raw.extend(rng.bytes(len)),
                1 | 2 => {
                    let v = (rng.next() >> 60) as u8;
                    raw.extend(std::iter::repeat_n(v, len));
                }
                3 | 4 => {
                    // Copy from one row up, shifted by -3..=3 bytes (overlapping copies too).
                    let d = (row_len as isize + rng.below(7) as isize - 3).max(1) as usize;
                    for _ in 0..len {
                        let b = if raw.len() >= d {
                            raw[raw.len() - d]
                        } else {
                            0
                        };
                        raw.push(b);
                    }
                }
                _ => {
                    let (a, b) = ((rng.next() >> 56) as u8, (rng.next() >> 56) as u8);
                    for k in 0..len {
                        raw.push(if k % 2 == 0 { a } else { b });
                    }
                }
            }
        }
        raw.truncate(n);
        check(&raw, row_len);
    }
}

/// The first channel of an 8-bit, non-interlaced PNG as filter-0 scanlines (`None` for other
/// kinds of PNG). A minimal reader for this test only: the corpus masks are palette or
/// grayscale, 8-bit, with any of the five row filters.
fn png_label_rows(png: &[u8]) -> Option<(Vec<u8>, usize)> {
    let body = png.strip_prefix(b"\x89PNG\r\n\x1a\n")?;
    let (mut w, mut h, mut channels) = (0usize, 0usize, 0usize);
    let mut idat = Vec::new();
    let mut rest = body;
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        let kind = &rest[4..8];
        let data = rest.get(8..8 + len)?;
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[..4].try_into().ok()?) as usize;
                h = u32::from_be_bytes(data[4..8].try_into().ok()?) as usize;
                let (depth, color, interlace) = (data[8], data[9], data[12]);
                channels = match color {
                    0 | 3 => 1,
                    4 => 2,
                    2 => 3,
                    6 => 4,
                    _ => return None,
                };
                if depth != 8 || interlace != 0 {
                    return None;
                }
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        rest = &rest[12 + len..];
    }
    let stride = w * channels;
    let mut filtered = vec![0u8; h * (stride + 1) + 1];
    let (got, rc) =
        zlib_rs::decompress_slice(&mut filtered, &idat, zlib_rs::InflateConfig::default());
    if rc != zlib_rs::ReturnCode::Ok || got.len() != h * (stride + 1) {
        return None;
    }
    // Undo the row filters (PNG spec section 9), then keep channel 0 behind a 0 filter byte.
    let bpp = channels;
    let mut prev = vec![0u8; stride];
    let mut out = Vec::with_capacity(h * (w + 1));
    for row in filtered[..h * (stride + 1)].chunks_exact(stride + 1) {
        let mut cur = row[1..].to_vec();
        for x in 0..stride {
            let a = if x >= bpp { cur[x - bpp] } else { 0 };
            let b = prev[x];
            let c = if x >= bpp { prev[x - bpp] } else { 0 };
            let pred = match row[0] {
                kind @ 0..=4 => crate::testutil::predictor(kind, a, b, c),
                _ => return None,
            };
            cur[x] = cur[x].wrapping_add(pred);
        }
        out.push(0);
        out.extend(cur.iter().step_by(channels));
        prev = cur;
    }
    Some((out, w + 1))
}

/// Real masks (skipped where `../shared/corpus` is absent): every `stride`-th mask of the two
/// DAVIS sets round-trips and is no larger than zlib-rs level 6 of the same scanlines.
fn corpus_masks(stride: usize) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut paths = Vec::new();
    for set in ["davis2017-osvos", "davis2016/Annotations/480p"] {
        let Ok(seqs) = std::fs::read_dir(root.join(set)) else {
            continue;
        };
        for seq in seqs.flatten() {
            for f in std::fs::read_dir(seq.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if f.path().extension().is_some_and(|e| e == "png") {
                    paths.push(f.path());
                }
            }
        }
    }
    paths.sort();
    let mut checked = 0;
    for p in paths.iter().step_by(stride) {
        let png = std::fs::read(p).expect("read corpus file");
        let (raw, row_len) = png_label_rows(&png).expect("8-bit corpus mask");
        check_mask(&raw, row_len, &p.display().to_string());
        checked += 1;
    }
    if !paths.is_empty() {
        assert!(
            checked * stride >= paths.len(),
            "{checked} of {} masks",
            paths.len()
        );
    }
}

#[test]
fn corpus_sample() {
    corpus_masks(97);
}

/// All 5454 masks; slow in a debug build: `cargo test --release -- --ignored corpus_all`.
#[test]
#[ignore]
fn corpus_all() {
    corpus_masks(1);
}
