//! Binary masks packed 64 pixels to a word, and their DAVIS boundary pixels.
//!
//! The boundary F of two binary masks needs the boundary pixels of each
//! (`_seg2bmap(mask != 0)`). Packing a row first (one SSE2 compare + movemask per 16 bytes)
//! turns `b = m^E | m^S | m^SE` into three XORs per 64 pixels; rows and 64-pixel chunks
//! that are all zero are skipped with a plain OR fold. The boundary stays a bitset in the
//! same layout, which the matcher copies word for word ([`super::matcher`]).
//!
//! On the blackswan pair of `benches/bench_metrics.py` (480p) packing both masks takes
//! 17 us and their boundaries 8 us, against 38 us for the byte-wise scan that
//! [`super::boundary`] keeps for label maps; the whole F went from 63 to 44.5 us
//! (`examples/f_profile.rs`, one-off measurements while choosing).

use super::boundary::check_frame;
use super::chunk::RUN;
use crate::error::Result;

/// Pixels per packed word.
const WORD: usize = 64;

/// A binary mask (`mask != 0 && void == 0`) packed row by row, bit `x % 64` of word
/// `x / 64` being column `x`, with each row's nonzero word range.
#[derive(Default)]
pub(crate) struct Packed {
    h: usize,
    w: usize,
    /// Words per row.
    words: usize,
    bits: Vec<u64>,
    /// Per row: the words `lo..hi` outside which the row is 0 (`lo == hi`: empty row).
    ext: Vec<(u32, u32)>,
    /// One packed row of the void mask.
    void_row: Vec<u64>,
}

/// `c[i] != 0` for the 64 bytes of `c`, as the bits of a word.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn pack64(c: &[u8; WORD]) -> u64 {
    use safe_arch::{cmp_eq_mask_i8_m128i, m128i, move_mask_i8_m128i, zeroed_m128i};
    let zero = zeroed_m128i();
    let mut is_zero = 0u64;
    for (k, part) in c.chunks_exact(16).enumerate() {
        let mut lanes = [0u8; 16];
        lanes.copy_from_slice(part);
        let m = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(m128i::from(lanes), zero));
        is_zero |= u64::from(m as u16) << (16 * k);
    }
    !is_zero
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn pack64(c: &[u8; WORD]) -> u64 {
    pack64_swar(c)
}

/// The portable [`pack64`]: per 8 bytes, the high bit of every nonzero byte, gathered
/// into the top byte by one multiplication (the eight shifted copies never overlap).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn pack64_swar(c: &[u8; WORD]) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const GATHER: u64 = 0x0002_0408_1020_4081;
    let mut out = 0u64;
    for (k, part) in c.chunks_exact(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(part);
        let v = u64::from_le_bytes(b);
        let high = (((v & LOW) + LOW) | v) & HIGH;
        out |= (high.wrapping_mul(GATHER) >> 56) << (8 * k);
    }
    out
}

/// Is every byte of `c` zero? (An OR of eight words: four SSE2 loads and ORs.)
#[inline(always)]
fn zero64(c: &[u8; WORD]) -> bool {
    let mut acc = 0u64;
    for part in c.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(part);
        acc |= u64::from_le_bytes(b);
    }
    acc == 0
}

/// Bytes of the all-zero prefix of `data`, rounded down to whole 256-byte blocks, and
/// likewise of the suffix: the rows of a frame above and below every object cost one
/// OR fold.
fn zero_margins(data: &[u8]) -> (usize, usize) {
    const BLOCK: usize = 256;
    let zero = |c: &[u8]| c.iter().fold(0u8, |acc, &v| acc | v) == 0;
    let n = data.len();
    let mut lo = 0;
    while lo + BLOCK <= n && zero(&data[lo..lo + BLOCK]) {
        lo += BLOCK;
    }
    let mut hi = n;
    while hi >= lo + BLOCK && zero(&data[hi - BLOCK..hi]) {
        hi -= BLOCK;
    }
    (lo, n - hi)
}

/// The packed word of the last `row.len() % 64` pixels of `row` (non-empty tail).
fn pack_tail(row: &[u8]) -> u64 {
    let n = row.len() % WORD;
    match row.len().checked_sub(WORD) {
        // The row's last 64 bytes, shifted down to the tail's bits: no stack copy, whose
        // mixed-size stores stall the vector loads (28% of the packing time, perf).
        Some(start) => {
            let last = <&[u8; WORD]>::try_from(&row[start..]).expect("64 bytes");
            pack64(last) >> (WORD - n)
        }
        None => row
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, &v)| acc | (u64::from(v != 0) << i)),
    }
}

/// One packed word per 64 pixels of `row` into `out` (`row.len().div_ceil(64)` words),
/// packing only between the first and the last chunk that is not all zero; returns
/// that word range.
fn pack_row(row: &[u8], out: &mut [u64]) -> (u32, u32) {
    let full = row.len() / WORD;
    let chunk = |i: usize| -> &[u8; WORD] {
        <&[u8; WORD]>::try_from(&row[WORD * i..WORD * (i + 1)]).expect("64-byte chunk")
    };
    let tail = if full < out.len() { pack_tail(row) } else { 0 };
    let mut lo = 0;
    while lo < full && zero64(chunk(lo)) {
        lo += 1;
    }
    let hi = if tail != 0 {
        out.len()
    } else {
        let mut hi = full;
        while hi > lo && zero64(chunk(hi - 1)) {
            hi -= 1;
        }
        hi
    };
    let packed_hi = hi.min(full);
    for (i, o) in out.iter_mut().enumerate() {
        *o = if i < lo || i >= packed_hi {
            0
        } else {
            pack64(chunk(i))
        };
    }
    if full < out.len() {
        out[full] = tail;
    }
    (lo as u32, hi as u32)
}

impl Packed {
    /// Pack `mask != 0` minus `void != 0` (`h x w`, row-major).
    pub(crate) fn pack(
        &mut self,
        mask: &[u8],
        h: usize,
        w: usize,
        void: Option<&[u8]>,
    ) -> Result<()> {
        check_frame(mask.len(), h, w, "mask")?;
        if let Some(v) = void {
            check_frame(v.len(), h, w, "void")?;
        }
        let words = w.div_ceil(WORD);
        (self.h, self.w, self.words) = (h, w, words);
        // Rows outside the band y0..y1 are zeroed here, the band's rows by `pack_row`.
        self.bits.resize(h * words, 0);
        self.ext.clear();
        self.ext.resize(h, (0, 0));
        let (top, bottom) = zero_margins(mask);
        let (y0, y1) = (top / w, h - bottom / w);
        self.bits[..y0 * words].fill(0);
        self.bits[y1.max(y0) * words..].fill(0);
        self.void_row.resize(words, 0);
        for y in y0..y1 {
            let out = &mut self.bits[y * words..(y + 1) * words];
            let (mut lo, mut hi) = pack_row(&mask[y * w..(y + 1) * w], out);
            if let Some(v) = void {
                if lo < hi {
                    pack_row(&v[y * w..(y + 1) * w], &mut self.void_row);
                    for (m, v) in out.iter_mut().zip(&self.void_row) {
                        *m &= !v;
                    }
                    while lo < hi && out[lo as usize] == 0 {
                        lo += 1;
                    }
                    while hi > lo && out[hi as usize - 1] == 0 {
                        hi -= 1;
                    }
                }
            }
            self.ext[y] = (lo, hi);
        }
        Ok(())
    }

    /// Set the size and clear every bit: the start of [`pack_objects`].
    fn clear(&mut self, h: usize, w: usize) {
        let words = w.div_ceil(WORD);
        (self.h, self.w, self.words) = (h, w, words);
        self.bits.clear();
        self.bits.resize(h * words, 0);
        self.ext.clear();
        self.ext.resize(h, (u32::MAX, 0));
    }
}

/// Pack `labels == objects[i]` minus `void != 0` into `out[i]` (at most [`GROUP`]
/// objects; `h x w`, row-major, lengths checked by the caller) in one pass over the map.
/// A 64-pixel chunk of one value (most of a frame) costs one uniform test and at most one
/// store; only mixed chunks are compared with each object. Packing each object with its
/// own full pass cost 1.5x more on gold-fish's 5 objects (callgrind).
pub(crate) fn pack_objects<T: super::Label>(
    labels: &[T],
    h: usize,
    w: usize,
    objects: &[T],
    void: Option<&[u8]>,
    out: &mut [Packed],
    void_row: &mut Vec<u64>,
) {
    let n = objects.len().min(GROUP).min(out.len());
    let (objects, out) = (&objects[..n], &mut out[..n]);
    for p in out.iter_mut() {
        p.clear(h, w);
    }
    let words = w.div_ceil(WORD);
    let full = w / WORD;
    void_row.resize(words, 0);
    let zero_is_object = objects.contains(&T::ZERO);
    for y in 0..h {
        let row = &labels[y * w..(y + 1) * w];
        if !zero_is_object && !T::any_nonzero(row) {
            continue; // background only (rows above and below the objects): already clear
        }
        let at = y * words;
        let set = |i: usize, x: usize, bits: u64, out: &mut [Packed]| {
            let p = &mut out[i];
            p.bits[at + x] = bits;
            let e = &mut p.ext[y];
            e.0 = e.0.min(x as u32);
            e.1 = e.1.max(x as u32 + 1);
        };
        for (x, c) in row.chunks_exact(WORD).enumerate() {
            let c = <&[T; WORD]>::try_from(c).expect("64 pixels");
            if !zero_is_object && !T::any_nonzero(c) {
                continue; // background: an OR fold, cheaper than the uniform test
            }
            if let [k] = objects {
                // One object: a single compare pass beats the uniform test (blackswan
                // `per_object`: 2.07 M -> 1.98 M instructions per call, callgrind).
                let bits = T::eq64(c, *k);
                if bits != 0 {
                    set(0, x, bits, out);
                }
                continue;
            }
            let (a, b) = c.split_at(RUN);
            let (a, b) = (<&[T; RUN]>::try_from(a), <&[T; RUN]>::try_from(b));
            if let (Ok(a), Ok(b)) = (a, b) {
                if a[0] == b[0] && T::uniform(a) && T::uniform(b) {
                    if let Some(i) = objects.iter().position(|&k| k == c[0]) {
                        set(i, x, u64::MAX, out);
                    }
                    continue;
                }
            }
            // Not uniform (the two-run test above catches every uniform word).
            for (i, &k) in objects.iter().enumerate() {
                let bits = T::eq64(c, k);
                if bits != 0 {
                    set(i, x, bits, out);
                }
            }
        }
        if full < words {
            for (i, &k) in objects.iter().enumerate() {
                let bits = row[full * WORD..]
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (j, &v)| acc | (u64::from(v == k) << j));
                if bits != 0 {
                    set(i, full, bits, out);
                }
            }
        }
        let mut void_packed = false;
        for p in out.iter_mut() {
            let (mut lo, mut hi) = p.ext[y];
            if lo >= hi {
                p.ext[y] = (0, 0);
                continue;
            }
            if let Some(v) = void {
                if !void_packed {
                    pack_row(&v[y * w..(y + 1) * w], void_row);
                    void_packed = true;
                }
                let bits = &mut p.bits[at..at + words];
                for (m, v) in bits.iter_mut().zip(void_row.iter()) {
                    *m &= !v;
                }
                while lo < hi && bits[lo as usize] == 0 {
                    lo += 1;
                }
                while hi > lo && bits[hi as usize - 1] == 0 {
                    hi -= 1;
                }
            }
            p.ext[y] = (lo, hi);
        }
    }
}

/// Most objects [`pack_objects`] packs in one pass (the caller's buffers: 8 bitsets of
/// H x W bits per map).
pub(crate) const GROUP: usize = 8;

impl Packed {
    /// The boundary of the packed mask into `out`: bit x of row y is set when its 2x2
    /// block (itself, east, south, south-east; the last row and column replicated, which
    /// is `_seg2bmap`'s edge rule) is not uniform.
    pub(crate) fn boundary(&self, out: &mut Boundary) {
        let (h, w, words) = (self.h, self.w, self.words);
        out.words = words;
        out.bits.resize(h * words, 0);
        out.rows.clear();
        out.rows.resize(h, (0, 0));
        (out.y0, out.y1, out.x0, out.x1) = (0, -1, i64::MAX, -1);
        if h == 0 || words == 0 {
            return;
        }
        let last = words - 1;
        // The last column's bit: its east neighbour is itself. Bits past the last column
        // are 0 in every operand, so they stay 0 in the boundary.
        let last_col = 1u64 << ((w - 1) % WORD);
        for y in 0..h {
            let yn = if y + 1 < h { y + 1 } else { y };
            let ((a0, a1), (b0, b1)) = (self.ext[y], self.ext[yn]);
            let (lo, hi) = match (a0 < a1, b0 < b1) {
                (false, false) => continue,
                (true, false) => (a0, a1),
                (false, true) => (b0, b1),
                (true, true) => (a0.min(b0), a1.max(b1)),
            };
            let m = &self.bits[y * words..(y + 1) * words];
            let s = &self.bits[yn * words..(yn + 1) * words];
            let row = &mut out.bits[y * words..(y + 1) * words];
            // Word i - 1 sees word i's first pixel as its east neighbour.
            let start = (lo as usize).saturating_sub(1);
            let end = hi as usize;
            let mut any = 0;
            let stop = end.min(last).max(start);
            // Whole-slice zips without index arithmetic, so that the loop vectorizes
            // (two words per SSE2 op).
            let (m0s, m1s) = (&m[start..stop], &m[start + 1..stop + 1]);
            let (s0s, s1s) = (&s[start..stop], &s[start + 1..stop + 1]);
            for ((((o, &m0), &m1), &s0), &s1) in row[start..stop]
                .iter_mut()
                .zip(m0s)
                .zip(m1s)
                .zip(s0s)
                .zip(s1s)
            {
                let e = (m0 >> 1) | (m1 << 63);
                let se = (s0 >> 1) | (s1 << 63);
                *o = (m0 ^ e) | (m0 ^ s0) | (m0 ^ se);
                any |= *o;
            }
            if end > last {
                let (m0, s0) = (m[last], s[last]);
                let e = (m0 >> 1) | (m0 & last_col);
                let se = (s0 >> 1) | (s0 & last_col);
                row[last] = (m0 ^ e) | (m0 ^ s0) | (m0 ^ se);
                any |= row[last];
            }
            if any == 0 {
                continue;
            }
            let first = start + row[start..end].iter().position(|&b| b != 0).unwrap_or(0);
            let end = first + 1 + row[first..end].iter().rposition(|&b| b != 0).unwrap_or(0);
            {
                out.rows[y] = (first as u32, end as u32);
                let (x0, x1) = (
                    first * WORD + row[first].trailing_zeros() as usize,
                    end * WORD - 1 - row[end - 1].leading_zeros() as usize,
                );
                out.x0 = out.x0.min(x0 as i64);
                out.x1 = out.x1.max(x1 as i64);
                if out.y0 > out.y1 {
                    out.y0 = y as i64;
                }
                out.y1 = y as i64;
            }
        }
    }
}

/// The boundary pixels of a packed mask, as bits in the same layout, with the words of
/// each row that hold them and their bounding box.
#[derive(Default)]
pub(crate) struct Boundary {
    words: usize,
    bits: Vec<u64>,
    /// Per row: the words `first..end` holding its boundary pixels (`first == end`: none).
    /// Only these words of `bits` are meaningful.
    rows: Vec<(u32, u32)>,
    /// Bounding box, inclusive (`y0 > y1` when empty).
    y0: i64,
    y1: i64,
    x0: i64,
    x1: i64,
}

impl Boundary {
    /// No boundary pixel at all? (Counting them is left to the loops that visit them:
    /// the x86-64 baseline has no POPCNT, so `count_ones` is a dozen instructions a word,
    /// and the visiting loops count for free.)
    pub(crate) fn is_empty(&self) -> bool {
        self.y0 > self.y1
    }

    /// `(y0, y1, x0, x1)`, inclusive; `y0 > y1` when there is no boundary pixel.
    pub(crate) fn bbox(&self) -> (i64, i64, i64, i64) {
        (self.y0, self.y1, self.x0, self.x1)
    }

    /// `f(y, first, words)` for every row holding boundary pixels: its words from word
    /// index `first` (pixel `64 * first`).
    pub(crate) fn for_each_row(&self, mut f: impl FnMut(i64, i64, &[u64])) {
        for y in self.y0.max(0)..=self.y1 {
            let (first, end) = self.rows[y as usize];
            if first < end {
                let at = y as usize * self.words;
                f(
                    y,
                    i64::from(first),
                    &self.bits[at + first as usize..at + end as usize],
                );
            }
        }
    }

    /// `f(y, x)` for every boundary pixel, row-major.
    #[inline(always)]
    pub(crate) fn for_each_point(&self, mut f: impl FnMut(u32, u32)) {
        self.for_each_row(|y, first, words| {
            for (i, &word) in words.iter().enumerate() {
                let x0 = (first as usize + i) * WORD;
                let mut b = word;
                while b != 0 {
                    f(y as u32, (x0 + b.trailing_zeros() as usize) as u32);
                    b &= b - 1;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::xorshift;

    #[test]
    fn pack64_matches_bytes() {
        let mut rnd = xorshift(11);
        for case in 0..2000 {
            let mut c = [0u8; WORD];
            for v in c.iter_mut() {
                // Sparse, dense and high-bit-only bytes.
                let r = rnd();
                *v = match case % 3 {
                    0 => u8::from(r % 7 == 0) * (r >> 8) as u8,
                    1 => (r >> 8) as u8,
                    _ => u8::from(r % 2 == 0) * 0x80,
                };
            }
            let expect = c
                .iter()
                .enumerate()
                .fold(0u64, |acc, (i, &v)| acc | (u64::from(v != 0) << i));
            assert_eq!(pack64(&c), expect);
            assert_eq!(pack64_swar(&c), expect);
            assert_eq!(zero64(&c), expect == 0);
        }
    }

    #[test]
    fn eq64_matches_a_pixel_loop() {
        use crate::metrics::chunk::Lanes;
        let mut rnd = xorshift(5);
        for _ in 0..2000 {
            let mut c = [0u8; WORD];
            let spread = 1 + rnd() % 4;
            for v in c.iter_mut() {
                *v = (rnd() % spread) as u8 * 0x55; // 0x00, 0x55, 0xAA, 0xFF: high bits too
            }
            let k = (rnd() % 4) as u8 * 0x55;
            let expect = c
                .iter()
                .enumerate()
                .fold(0u64, |acc, (i, &v)| acc | (u64::from(v == k) << i));
            assert_eq!(<u8 as Lanes>::eq64(&c, k), expect);
            let wide: [u16; WORD] = c.map(|v| u16::from(v) << 4);
            assert_eq!(<u16 as Lanes>::eq64(&wide, u16::from(k) << 4), expect);
        }
    }

    #[test]
    fn margins_and_rows() {
        let mut d = vec![0u8; 1000];
        assert_eq!(zero_margins(&d), (768, 0));
        d[300] = 1;
        assert_eq!(zero_margins(&d), (256, 512));
        let mut row = vec![0u8; 200];
        let mut out = [7u64; 4];
        let (lo, hi) = pack_row(&row, &mut out);
        assert_eq!((lo, out), (hi, [0; 4]));
        row[70] = 3;
        row[199] = 1;
        assert_eq!(pack_row(&row, &mut out), (1, 4));
        assert_eq!(out, [0, 1 << 6, 0, 1 << 7]);
    }
}
