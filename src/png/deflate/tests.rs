//! Round trips through zlib-rs's inflate on edge cases, synthetic masks, random data and
//! (when present) the real mask corpus.

use super::*;

/// Inflate a zlib stream with zlib-rs (checks the Adler-32 too).
fn inflate(z: &[u8], expect_len: usize) -> Vec<u8> {
    let mut out = vec![0u8; expect_len + 1];
    let (got, rc) = zlib_rs::decompress_slice(&mut out, z, zlib_rs::InflateConfig::default());
    assert_eq!(rc, zlib_rs::ReturnCode::Ok, "inflate failed");
    got.to_vec()
}

fn check(raw: &[u8], row_len: usize) -> Vec<u8> {
    let z = compress_rows(raw, row_len).unwrap();
    let back = inflate(&z, raw.len());
    assert!(back == raw, "round trip differs (len {}, row_len {row_len})", raw.len());
    z
}

/// xorshift64*: a small deterministic generator for test data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Scanlines (filter byte 0 per row) for an h x w label map given by `f(y, x)`.
fn rows(h: usize, w: usize, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut raw = Vec::with_capacity(h * (w + 1));
    for y in 0..h {
        raw.push(0);
        raw.extend((0..w).map(|x| f(y, x)));
    }
    raw
}

#[test]
fn empty_and_tiny() {
    check(&[], 1);
    check(&[], 7);
    check(&[0], 1);
    check(&[0, 5], 2);
    check(&[0, 1, 2, 3], 4);
    check(&[9; 3], 1);
}

#[test]
fn bad_row_len_is_an_error() {
    assert!(compress_rows(&[0, 1, 2], 0).is_err());
    assert!(compress_rows(&[0, 1, 2], 2).is_err());
}
