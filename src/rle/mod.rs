//! COCO run-length encoding, byte-compatible with pycocotools 2.0.11.
//!
//! - [`codec`]: counts <-> the compressed counts string;
//! - [`encode`]: binary masks (C-ordered, Fortran-ordered, strided) and label maps to runs
//!   in one pass over the pixels, without a Fortran copy;
//! - [`ops`]: decode, area, bounding boxes, merge, IoU (with crowd regions);
//! - [`polygon`]: polygons and boxes to runs, exactly as pycocotools' `rleFrPoly`.
//!
//! Runs are column-major (Fortran order), alternate background and foreground and start
//! with background, so the first count is 0 when the first pixel is set. Every [`Rle`]
//! here is valid: its counts sum to `h * w`. Masks are limited to [`MAX_PIXELS`] pixels
//! so that a hostile `size` in a JSON file cannot make a decode allocate without bound.

pub mod codec;
pub mod encode;
pub mod ops;
pub mod polygon;

use crate::error::{Error, Result};

/// The largest mask, in pixels (2 GiB once decoded); counts then always fit in a `u32`
/// as in pycocotools.
pub const MAX_PIXELS: u64 = 1 << 31;

/// The most pixels one call may decode in all (`coco.decode` of a list, `rle.decode_labels`
/// of many frames): the output of one call is at most 2^31 values, so a JSON file that
/// repeats a huge `size` cannot make one call allocate more than that.
pub const MAX_CALL_PIXELS: u64 = 1 << 31;

/// Check that `count` outputs of `h * w` pixels each fit in [`MAX_CALL_PIXELS`]; `what`
/// names the call ("decode of 12 masks").
pub fn check_call_budget(what: &str, count: u64, h: u64, w: u64) -> Result<()> {
    let total = h.checked_mul(w).and_then(|p| p.checked_mul(count));
    match total {
        Some(t) if t <= MAX_CALL_PIXELS => Ok(()),
        _ => Err(Error::rle(format!(
            "{what} of size [{h}, {w}] would be {} pixels, more than the limit of 2^31 \
             pixels per call (2^31 output values); decode fewer or smaller masks per call",
            total.map_or_else(
                || u128::from(h) * u128::from(w) * u128::from(count),
                u128::from
            )
        ))),
    }
}

/// A run-length encoded binary mask of `h` rows and `w` columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rle {
    pub h: usize,
    pub w: usize,
    /// Column-major run lengths, background first; they sum to `h * w`.
    pub counts: Vec<u32>,
}

/// `h * w` when it is at most [`MAX_PIXELS`].
pub fn check_size(h: u64, w: u64) -> Result<u64> {
    match h.checked_mul(w) {
        Some(n) if n <= MAX_PIXELS => Ok(n),
        _ => Err(Error::rle(format!(
            "mask size [{h}, {w}] has more than 2^31 pixels, the limit for one mask"
        ))),
    }
}

impl Rle {
    /// Build from counts, checking that they sum to `h * w`.
    pub fn new(h: usize, w: usize, counts: Vec<u32>) -> Result<Self> {
        let n = check_size(h as u64, w as u64)?;
        let sum: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        if sum != n {
            return Err(Error::rle(format!(
                "RLE counts sum to {sum} but size [{h}, {w}] has h*w = {n} pixels"
            )));
        }
        Ok(Rle { h, w, counts })
    }

    /// Parse a compressed counts string for a mask of size `[h, w]`.
    pub fn from_string(h: u64, w: u64, s: &[u8]) -> Result<Self> {
        let n = check_size(h, w)?;
        let counts = codec::string_to_counts_for(s, n).map_err(|e| match e {
            Error::Rle(msg) => Error::rle(format!("{msg} (size [{h}, {w}])")),
            other => other,
        })?;
        Ok(Rle {
            h: h as usize,
            w: w as usize,
            counts,
        })
    }

    /// Build from uncompressed counts of any integer size (checked).
    pub fn from_counts(h: u64, w: u64, counts: &[u64]) -> Result<Self> {
        // Zero-length runs are valid anywhere (as in pycocotools), so there may be more
        // counts than pixels; the vector below is no longer than the caller's list.
        let n = check_size(h, w)?;
        let mut sum: u64 = 0;
        let mut out = Vec::with_capacity(counts.len());
        for &c in counts {
            sum = sum.saturating_add(c);
            if sum > n {
                break;
            }
            out.push(c as u32);
        }
        if sum != n {
            let shown = counts
                .iter()
                .fold(0u128, |a, &c| a + u128::from(c))
                .to_string();
            return Err(Error::rle(format!(
                "RLE counts sum to {shown} but size [{h}, {w}] has h*w = {n} pixels"
            )));
        }
        Ok(Rle {
            h: h as usize,
            w: w as usize,
            counts: out,
        })
    }

    /// The number of pixels, `h * w`.
    pub fn pixels(&self) -> usize {
        self.h * self.w
    }

    /// The compressed counts string (pycocotools' bytes).
    pub fn to_compressed(&self) -> Vec<u8> {
        let mut out = Vec::new();
        codec::write_counts(&self.counts, &mut out);
        out
    }

    /// The empty mask of size `[h, w]`.
    pub fn empty(h: usize, w: usize) -> Self {
        Rle {
            h,
            w,
            counts: vec![(h * w) as u32],
        }
    }
}

/// Counts from sorted toggle positions of a mask of `n` pixels: each position flips the
/// value, starting from background.
pub(crate) fn counts_from_toggles(toggles: impl IntoIterator<Item = u32>, n: u32) -> Vec<u32> {
    let mut counts = Vec::new();
    let mut last = 0u32;
    for p in toggles {
        counts.push(p - last);
        last = p;
    }
    counts.push(n - last);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bounded() {
        assert!(check_size(1 << 16, 1 << 15).is_ok());
        assert!(check_size(1 << 16, (1 << 15) + 1).is_err());
        assert!(check_size(u64::MAX, 2).is_err());
        assert!(Rle::from_string(u64::MAX, u64::MAX, b"0").is_err());
    }

    #[test]
    fn counts_must_sum_to_size() {
        assert!(Rle::from_counts(2, 3, &[1, 2, 3]).is_ok());
        assert!(Rle::from_counts(2, 3, &[1, 2]).is_err());
        assert!(Rle::from_counts(2, 3, &[u64::MAX, 7]).is_err());
        assert!(Rle::from_counts(2, 3, &[0; 8]).is_err());
        assert!(Rle::from_counts(2, 3, &[0, 0, 0, 0, 0, 0, 0, 0, 6]).is_ok());
        assert!(Rle::new(2, 3, vec![6]).is_ok());
        assert!(Rle::new(2, 3, vec![7]).is_err());
    }

    #[test]
    fn toggles_to_counts() {
        assert_eq!(counts_from_toggles([], 6), vec![6]);
        assert_eq!(counts_from_toggles([0], 6), vec![0, 6]);
        assert_eq!(counts_from_toggles([2, 5], 6), vec![2, 3, 1]);
    }
}
