//! PNG row filters (spec section 9), undone in place when decoding.
//!
//! `cur` is the filtered row without its filter-type byte, `prev` the previous row of the same
//! pass already unfiltered (`None` for the first row: the spec's row of zeros), `bpp` the
//! filter distance in bytes (bytes per complete pixel, at least 1).
//!
//! Masks are one byte per pixel, so `bpp = 1` matters most. Sub with `bpp = 1` is a byte-wise
//! prefix sum: the plain loop is one dependent add per byte (~108 us for an 854x480 frame).
//! `sub1` below works on 32-byte blocks: a block of zeros (a flat run, most of a mask) just
//! repeats the carry, and needs no store at all on the background (carry 0); other blocks get
//! a SWAR prefix sum on 8-byte words (no `unsafe`, no target features). On a real DAVIS-2016
//! frame (Sub on every row) that is 0.35 M instructions (callgrind; 1.07 M when zero blocks
//! were refilled with the carry), and the whole decode takes 61 us against 41 us for the bare
//! inflate (benches/bench_png.py "inflate floor davis2016 gray"; 92 us before).

use crate::error::{Error, Result};

/// Undo filter `kind` on `cur` in place.
pub fn unfilter(kind: u8, cur: &mut [u8], prev: Option<&[u8]>, bpp: usize) -> Result<()> {
    match kind {
        0 => {}
        1 => sub(cur, bpp),
        2 => {
            if let Some(prev) = prev {
                up(cur, prev)
            }
        }
        3 => avg(cur, prev, bpp),
        4 => match prev {
            Some(prev) => paeth(cur, prev, bpp),
            // With a zero row above, the Paeth predictor always picks the left pixel.
            None => sub(cur, bpp),
        },
        k => return Err(Error::png(format!("unknown filter type {k}"))),
    }
    Ok(())
}

/// Lane-wise (mod 256) addition of the eight bytes of two words.
#[inline(always)]
fn add_bytes(a: u64, b: u64) -> u64 {
    const HI: u64 = 0x8080_8080_8080_8080;
    ((a & !HI) + (b & !HI)) ^ ((a ^ b) & HI)
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// Sub with bpp = 1: running byte sum over 32-byte blocks of four words.
fn sub1(cur: &mut [u8]) {
    let mut carry: u8 = 0;
    let mut blocks = cur.chunks_exact_mut(32);
    for block in &mut blocks {
        let (a, b) = (word(&block[..8]), word(&block[8..16]));
        let (c, d) = (word(&block[16..24]), word(&block[24..]));
        if a | b | c | d == 0 {
            // A flat run (most of a mask) filters to zeros: the carry repeats, and on the
            // background (carry 0) the bytes are already right, so nothing is stored.
            if carry != 0 {
                block.fill(carry);
            }
        } else {
            for w in block.chunks_exact_mut(8) {
                carry = sub_word(w, carry);
            }
        }
    }
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for w in &mut words {
        carry = sub_word(w, carry);
    }
    for b in words.into_remainder() {
        *b = b.wrapping_add(carry);
        carry = *b;
    }
}

#[inline(always)]
fn word(w: &[u8]) -> u64 {
    // Callers pass 8-byte chunks; copying through an array compiles to one load (indexing the
    // eight bytes one by one did not, at ~12 instructions per word).
    let mut a = [0u8; 8];
    a.copy_from_slice(&w[..8]);
    u64::from_le_bytes(a)
}

/// Prefix-sum eight bytes after `carry`; returns the new carry (the last byte).
#[inline(always)]
fn sub_word(w: &mut [u8], carry: u8) -> u8 {
    let mut x = word(w);
    // Prefix sum inside the word in three doubling steps.
    x = add_bytes(x, x << 8);
    x = add_bytes(x, x << 16);
    x = add_bytes(x, x << 32);
    // Only this one-byte add is on the loop-carried path.
    let next = carry.wrapping_add((x >> 56) as u8);
    x = add_bytes(x, u64::from(carry) * ONES);
    w.copy_from_slice(&x.to_le_bytes());
    next
}

fn sub_n<const B: usize>(cur: &mut [u8]) {
    let mut left = [0u8; B];
    for px in cur.chunks_exact_mut(B) {
        for k in 0..B {
            px[k] = px[k].wrapping_add(left[k]);
            left[k] = px[k];
        }
    }
}

fn sub(cur: &mut [u8], bpp: usize) {
    match bpp {
        1 => sub1(cur),
        2 => sub_n::<2>(cur),
        3 => sub_n::<3>(cur),
        4 => sub_n::<4>(cur),
        6 => sub_n::<6>(cur),
        8 => sub_n::<8>(cur),
        _ => {
            for i in bpp..cur.len() {
                cur[i] = cur[i].wrapping_add(cur[i - bpp]);
            }
        }
    }
}

fn up(cur: &mut [u8], prev: &[u8]) {
    for (c, p) in cur.iter_mut().zip(prev) {
        *c = c.wrapping_add(*p);
    }
}

fn avg_n<const B: usize>(cur: &mut [u8], prev: &[u8]) {
    let mut left = [0u8; B];
    for (px, up) in cur.chunks_exact_mut(B).zip(prev.chunks_exact(B)) {
        for k in 0..B {
            let pred = ((u16::from(left[k]) + u16::from(up[k])) >> 1) as u8;
            px[k] = px[k].wrapping_add(pred);
            left[k] = px[k];
        }
    }
}

fn avg(cur: &mut [u8], prev: Option<&[u8]>, bpp: usize) {
    let Some(prev) = prev else {
        for i in bpp..cur.len() {
            cur[i] = cur[i].wrapping_add(cur[i - bpp] >> 1);
        }
        return;
    };
    match bpp {
        1 => avg_n::<1>(cur, prev),
        2 => avg_n::<2>(cur, prev),
        3 => avg_n::<3>(cur, prev),
        4 => avg_n::<4>(cur, prev),
        6 => avg_n::<6>(cur, prev),
        8 => avg_n::<8>(cur, prev),
        _ => {
            for i in 0..cur.len() {
                let a = if i >= bpp { u16::from(cur[i - bpp]) } else { 0 };
                cur[i] = cur[i].wrapping_add(((a + u16::from(prev[i])) >> 1) as u8);
            }
        }
    }
}

#[inline(always)]
fn paeth_predictor(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let pa = (ib - ic).abs();
    let pb = (ia - ic).abs();
    let pc = (ia + ib - 2 * ic).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn paeth_n<const B: usize>(cur: &mut [u8], prev: &[u8]) {
    let mut left = [0u8; B];
    let mut up_left = [0u8; B];
    for (px, up) in cur.chunks_exact_mut(B).zip(prev.chunks_exact(B)) {
        for k in 0..B {
            px[k] = px[k].wrapping_add(paeth_predictor(left[k], up[k], up_left[k]));
            left[k] = px[k];
            up_left[k] = up[k];
        }
    }
}

fn paeth(cur: &mut [u8], prev: &[u8], bpp: usize) {
    match bpp {
        1 => paeth_n::<1>(cur, prev),
        2 => paeth_n::<2>(cur, prev),
        3 => paeth_n::<3>(cur, prev),
        4 => paeth_n::<4>(cur, prev),
        6 => paeth_n::<6>(cur, prev),
        8 => paeth_n::<8>(cur, prev),
        _ => {
            for i in 0..cur.len() {
                let (a, c) = if i >= bpp {
                    (cur[i - bpp], prev[i - bpp])
                } else {
                    (0, 0)
                };
                cur[i] = cur[i].wrapping_add(paeth_predictor(a, prev[i], c));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straight from the spec's pseudo-code, one byte at a time.
    fn reference(kind: u8, cur: &mut [u8], prev: Option<&[u8]>, bpp: usize) {
        let zeros = vec![0u8; cur.len()];
        let prev = prev.unwrap_or(&zeros);
        for i in 0..cur.len() {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let pred = crate::testutil::predictor(kind, a, b, c);
            cur[i] = cur[i].wrapping_add(pred);
        }
    }

    fn pseudo_random(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn every_filter_matches_the_spec_for_every_bpp_and_length() {
        for bpp in [1, 2, 3, 4, 6, 8] {
            for len in [bpp, 2 * bpp, 7 * bpp, 9 * bpp, 33 * bpp] {
                for kind in 0..5u8 {
                    for first_row in [true, false] {
                        let seed = (bpp * 1000 + len * 10 + kind as usize) as u32;
                        let prev = pseudo_random(len, seed);
                        let row = pseudo_random(len, seed + 7);
                        let prev_opt = if first_row { None } else { Some(&prev[..]) };
                        let mut ours = row.clone();
                        let mut theirs = row.clone();
                        unfilter(kind, &mut ours, prev_opt, bpp).unwrap();
                        reference(kind, &mut theirs, prev_opt, bpp);
                        assert_eq!(
                            ours, theirs,
                            "kind {kind} bpp {bpp} len {len} first {first_row}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sub_on_mask_like_rows_with_flat_runs() {
        for len in [31, 32, 33, 64, 77, 100, 854] {
            for seed in 0..20u32 {
                // Mostly zeros (flat runs) with a few edges, as a Sub-filtered mask row.
                let noise = pseudo_random(len, seed);
                let row: Vec<u8> = noise
                    .iter()
                    .map(|&v| if v < 8 { v.wrapping_mul(37) } else { 0 })
                    .collect();
                let mut ours = row.clone();
                let mut theirs = row.clone();
                unfilter(1, &mut ours, None, 1).unwrap();
                reference(1, &mut theirs, None, 1);
                assert_eq!(ours, theirs, "len {len} seed {seed}");
            }
        }
    }

    #[test]
    fn unknown_filter_is_an_error() {
        let mut row = [1u8, 2, 3];
        assert!(unfilter(5, &mut row, None, 1).is_err());
    }
}
