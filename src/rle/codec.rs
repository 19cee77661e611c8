//! The compressed counts string of COCO RLE (pycocotools' `rleToString` / `rleFrString`).
//!
//! Format: from the fourth value on, the value written is `counts[i] - counts[i-2]` (a
//! signed delta); each value is cut into 5-bit groups, least significant first; bit 0x20
//! of a character says "more groups follow", bit 0x10 of the last group is the sign; each
//! character is `group + 48`, so every character lies in `'0'..='o'` (48..=111).
//!
//! Deltas are `i64` here, so counts up to `i64::MAX` round trip (pycocotools keeps counts
//! in `uint` and shifts `int`s past their width for values above 2^29, which is undefined).
//! Decoding never trusts its input: a character outside 48..=111, a string that ends
//! inside a value, a value wider than 64 bits or a negative count is an [`Error::Rle`]
//! naming the offending position, never a panic or an unbounded allocation (a string of
//! `n` characters yields at most `n` counts).

use crate::error::{Error, Result};

/// The first and last character a count string may contain.
const FIRST: u8 = b'0';
const LAST: u8 = b'o';

/// Append one signed value in the 6-bit variable-length form.
#[inline]
fn push_value(out: &mut Vec<u8>, mut x: i64) {
    loop {
        let group = (x & 0x1f) as u8;
        x >>= 5; // arithmetic shift: keeps the sign, as pycocotools' `long`
        let more = if group & 0x10 != 0 { x != -1 } else { x != 0 };
        if more {
            out.push((group | 0x20) + FIRST);
        } else {
            out.push(group + FIRST);
            return;
        }
    }
}

/// Append the compressed string of `counts` (pycocotools' byte layout) to `out`.
pub fn write_counts(counts: &[u32], out: &mut Vec<u8>) {
    // Most values of real masks fit in one or two characters.
    out.reserve(counts.len() * 2);
    for (i, &c) in counts.iter().enumerate() {
        let x = if i > 2 {
            i64::from(c) - i64::from(counts[i - 2])
        } else {
            i64::from(c)
        };
        push_value(out, x);
    }
}

/// The compressed string of arbitrary counts (each at most `i64::MAX`).
pub fn counts_to_string(counts: &[u64]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(counts.len() * 2);
    for (i, &c) in counts.iter().enumerate() {
        let c = i64::try_from(c)
            .map_err(|_| Error::rle(format!("count {i} is {c}, above the largest count 2^63-1")))?;
        // Both values are in 0..=i64::MAX, so the difference fits in an i64.
        let x = if i > 2 { c - counts[i - 2] as i64 } else { c };
        push_value(&mut out, x);
    }
    Ok(out)
}

/// The raw (still delta-coded) values of a count string, one at a time.
pub struct Values<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Values<'a> {
    pub fn new(s: &'a [u8]) -> Self {
        Values { s, pos: 0 }
    }

    fn bad_char(&self, at: usize, ch: u8) -> Error {
        Error::rle(format!(
            "RLE counts string has character {:?} (byte {ch}) at offset {at}; \
             expected only characters '0'..'o' (bytes 48..111)",
            char::from(ch)
        ))
    }
}

impl Iterator for Values<'_> {
    type Item = Result<i64>;

    fn next(&mut self) -> Option<Result<i64>> {
        let start = self.pos;
        if start >= self.s.len() {
            return None;
        }
        let mut bits: u64 = 0;
        let mut shift: u32 = 0;
        loop {
            let Some(&ch) = self.s.get(self.pos) else {
                return Some(Err(Error::rle(format!(
                    "RLE counts string is truncated: the value starting at offset {start} \
                     is not finished at the end of the string ({} characters)",
                    self.s.len()
                ))));
            };
            if !(FIRST..=LAST).contains(&ch) {
                return Some(Err(self.bad_char(self.pos, ch)));
            }
            let c = ch - FIRST;
            self.pos += 1;
            let group = u64::from(c & 0x1f);
            let more = c & 0x20 != 0;
            let negative = c & 0x10 != 0;
            if shift == 60 {
                // The 13th group holds bits 60..63 and the sign (bit 64): the value fits in
                // an i64 only when it is the last group and bit 63 equals the sign.
                if more || ((group >> 3) & 1 == 1) != negative {
                    return Some(Err(Error::rle(format!(
                        "RLE counts string has a value wider than 64 bits at offset {start}"
                    ))));
                }
                return Some(Ok((bits | (group << 60)) as i64));
            }
            bits |= group << shift;
            shift += 5;
            if !more {
                if negative {
                    bits |= u64::MAX << shift; // sign extension (shift <= 60 here)
                }
                return Some(Ok(bits as i64));
            }
        }
    }
}

/// Decode a count string into counts of any size (each must come out non-negative).
///
/// At most `s.len()` counts are produced, so the allocation is bounded by the input.
pub fn string_to_counts(s: &[u8]) -> Result<Vec<u64>> {
    let mut counts: Vec<u64> = Vec::with_capacity(s.len().min(1 << 16));
    for (i, x) in Values::new(s).enumerate() {
        let x = x?;
        let c = if i > 2 {
            (counts[i - 2] as i64).checked_add(x)
        } else {
            Some(x)
        };
        match c {
            Some(c) if c >= 0 => counts.push(c as u64),
            _ => {
                return Err(Error::rle(format!(
                    "RLE counts string decodes to a negative or overflowing count at value {i}"
                )))
            }
        }
    }
    Ok(counts)
}

/// The counts of a well-formed count string for a mask of `pixels` pixels, decoded in one
/// tight loop (values of at most 6 characters, |delta| < 2^29) and handed to `f` in order;
/// `None` for anything else, which the caller hands to the checked decoder
/// ([`string_to_counts_for`]) for the same result or its error. The codec's per-value iterator
/// with its error paths was 79% of `area()` on 100 RLEs of 240x320 (callgrind), 2.3x
/// pycocotools' instructions.
#[inline(always)]
pub fn for_each_count(s: &[u8], pixels: u64, mut f: impl FnMut(u32)) -> Option<()> {
    // The two previous counts (values after the second are deltas from the one before last).
    let (mut prev2, mut prev1) = (0u32, 0u32);
    let (mut sum, mut m) = (0u64, 0u64);
    let mut i = 0;
    while i < s.len() {
        let (mut x, mut k) = (0i64, 0u32);
        loop {
            let c = s.get(i)?.wrapping_sub(b'0');
            if c > 63 {
                return None;
            }
            x |= i64::from(c & 0x1f) << (5 * k);
            i += 1;
            k += 1;
            if c & 0x20 == 0 {
                if c & 0x10 != 0 {
                    x |= -1i64 << (5 * k);
                }
                break;
            }
            if k == 6 {
                return None;
            }
        }
        if m > 2 {
            x += i64::from(prev2);
        }
        if x < 0 || x as u64 > pixels - sum {
            return None;
        }
        sum += x as u64;
        m += 1;
        (prev2, prev1) = (prev1, x as u32);
        f(x as u32);
    }
    (sum == pixels && m <= pixels + 1).then_some(())
}

/// Decode a count string for a mask of `pixels` pixels: every count in `0..=pixels`, their
/// sum exactly `pixels`. Zero-length runs are allowed anywhere (pycocotools accepts them:
/// `{'size': [1, 1], 'counts': b'001'}` is one background pixel), so a string may hold more
/// than `pixels + 1` counts; it never yields more counts than it has characters.
pub fn string_to_counts_for(s: &[u8], pixels: u64) -> Result<Vec<u32>> {
    // Every count takes at least one character: the vector grows with the input only.
    let mut counts: Vec<u32> = Vec::with_capacity(s.len().min(1 << 20));
    if for_each_count(s, pixels, |x| counts.push(x)).is_some() {
        return Ok(counts);
    }
    counts.clear();
    checked_counts_for(s, pixels, counts)
}

/// [`string_to_counts_for`] value by value, with an error for every way a string can be wrong.
fn checked_counts_for(s: &[u8], pixels: u64, mut counts: Vec<u32>) -> Result<Vec<u32>> {
    let mut sum: u64 = 0;
    for (i, x) in Values::new(s).enumerate() {
        let x = x?;
        let c = if i > 2 {
            i64::from(counts[i - 2]).checked_add(x)
        } else {
            Some(x)
        };
        let c = match c {
            Some(c) if c >= 0 && (c as u64) <= pixels - sum => c as u64,
            Some(c) if c < 0 => {
                return Err(Error::rle(format!(
                    "RLE counts string decodes to a negative count ({c}) at value {i}"
                )))
            }
            _ => {
                return Err(Error::rle(format!(
                    "RLE counts run past the mask: the counts up to value {i} sum to more \
                     than h*w = {pixels}"
                )))
            }
        };
        sum += c;
        counts.push(c as u32); // c <= pixels <= MAX_PIXELS < 2^32
    }
    if sum != pixels {
        return Err(Error::rle(format!(
            "RLE counts sum to {sum} but the mask has h*w = {pixels} pixels"
        )));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_the_checked_decoder() {
        // Random counts (zero runs, long runs, values past the fast path's 6 characters),
        // their strings, and the strings cut or corrupted: the fast loop must give the checked
        // decoder's counts or decline (None), never a different answer.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for case in 0..3000 {
            let n = 1 + next(40) as usize;
            let big = if case % 7 == 0 { 1 << 31 } else { 300 };
            let counts: Vec<u32> = (0..n).map(|_| next(big) as u32).collect();
            let pixels: u64 = counts.iter().map(|&c| u64::from(c)).sum();
            let mut s = Vec::new();
            write_counts(&counts, &mut s);
            if case % 3 == 1 && !s.is_empty() {
                let i = next(s.len() as u64) as usize;
                s[i] = b'0' + next(80) as u8;
            }
            if case % 5 == 2 {
                s.truncate(next(s.len() as u64 + 1) as usize);
            }
            let checked = checked_counts_for(&s, pixels, Vec::new());
            let mut fast = Vec::new();
            let took = for_each_count(&s, pixels, |c| fast.push(c)).is_some();
            if took {
                assert_eq!(checked.as_ref().ok(), Some(&fast), "case {case}: {s:?}");
            }
            // An intact string of small counts is the fast path's whole point: it must not
            // decline it (declining is correct but slow, so only this catches it).
            let intact = case % 3 != 1 && case % 5 != 2;
            assert!(took || !intact || big != 300, "case {case}: declined {s:?}");
            assert_eq!(
                string_to_counts_for(&s, pixels).ok(),
                checked.ok(),
                "case {case}"
            );
        }
    }

    fn enc(c: &[u32]) -> String {
        let mut out = Vec::new();
        write_counts(c, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn reference_examples() {
        // The examples of REFERENCE.md section 3 (taken from pycocotools' output).
        assert_eq!(enc(&[15]), "?");
        assert_eq!(enc(&[16]), "`0");
        assert_eq!(enc(&[1000]), "Xo0");
        assert_eq!(enc(&[5, 3, 10, 2, 1]), "53:OG");
    }

    #[test]
    fn round_trip_extremes() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..200 {
            let counts: Vec<u64> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let shift = state % 64;
                    (state >> shift) & (i64::MAX as u64)
                })
                .collect();
            let s = counts_to_string(&counts).unwrap();
            assert!(s.iter().all(|c| (48..=111).contains(c)));
            assert_eq!(string_to_counts(&s).unwrap(), counts);
        }
        let edge = [
            0,
            i64::MAX as u64,
            0,
            i64::MAX as u64,
            0,
            1 << 31,
            (1 << 32) + 7,
        ];
        let s = counts_to_string(&edge).unwrap();
        assert_eq!(string_to_counts(&s).unwrap(), edge);
        assert!(counts_to_string(&[u64::MAX]).is_err());
    }

    #[test]
    fn malformed_strings_are_errors() {
        // "`" (0x60 - 48 = 0x30) says more follows, then the string ends.
        assert!(string_to_counts(b"`").is_err());
        assert!(string_to_counts(b"5 3").is_err());
        assert!(string_to_counts(b"5\xff").is_err());
        // 14 continuation characters: wider than 64 bits.
        assert!(string_to_counts(&[b'o'; 20]).is_err());
        // A negative first count.
        assert!(string_to_counts(b"O").is_err());
        assert!(string_to_counts_for(b"5", 6).is_err()); // short
        assert!(string_to_counts_for(b"7", 6).is_err()); // long
        assert_eq!(string_to_counts_for(b"51", 6).unwrap(), vec![5, 1]);
        assert_eq!(string_to_counts_for(b"", 0).unwrap(), Vec::<u32>::new());
        // Zero-length runs, more counts than pixels + 1: valid, as in pycocotools.
        assert_eq!(string_to_counts_for(b"001", 1).unwrap(), vec![0, 0, 1]);
        assert_eq!(
            string_to_counts_for(b"000001", 1).unwrap(),
            vec![0, 0, 0, 0, 0, 1]
        );
    }
}
