//! Region similarity J (`db_eval_iou`): |S & G| / |S | G| with void pixels removed from
//! both masks, and J = 1 when the union is empty.

use super::Label;
use crate::error::{Error, Result};

/// J from the intersection and union pixel counts, as the reference divides them
/// (two int64 sums -> float64 true division), 1 for an empty union.
#[inline]
pub fn jaccard_from_counts(inter: u64, union: u64) -> f64 {
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// Pixels per block of the counting loops; u32 block sums cannot overflow.
const BLOCK: usize = 1 << 16;

/// J of the binary masks `gt != 0` and `pred != 0` (flat, same length), void pixels
/// (`void != 0`) excluded from both.
pub fn jaccard(gt: &[u8], pred: &[u8], void: Option<&[u8]>) -> Result<f64> {
    if gt.len() != pred.len() {
        return Err(Error::shape(format!(
            "gt and pred must have the same number of pixels; got {} and {}",
            gt.len(),
            pred.len()
        )));
    }
    if let Some(v) = void {
        if v.len() != gt.len() {
            return Err(Error::shape(format!(
                "void must have as many pixels as the masks ({}); got {}",
                gt.len(),
                v.len()
            )));
        }
    }
    let (mut inter, mut union) = (0u64, 0u64);
    for (bi, (g, p)) in gt.chunks(BLOCK).zip(pred.chunks(BLOCK)).enumerate() {
        // Branch-free byte loops that the compiler vectorizes.
        let (i, u) = match void {
            None => g.iter().zip(p).fold((0u32, 0u32), |(i, u), (&g, &p)| {
                let (g, p) = (g != 0, p != 0);
                (i + u32::from(g & p), u + u32::from(g | p))
            }),
            Some(v) => {
                let v = &v[bi * BLOCK..bi * BLOCK + g.len()];
                g.iter()
                    .zip(p)
                    .zip(v)
                    .fold((0u32, 0u32), |(i, u), ((&g, &p), &v)| {
                        let (g, p, keep) = (g != 0, p != 0, v == 0);
                        (i + u32::from(g & p & keep), u + u32::from((g | p) & keep))
                    })
            }
        };
        inter += u64::from(i);
        union += u64::from(u);
    }
    Ok(jaccard_from_counts(inter, union))
}

/// Pixels per chunk of the label counting loop.
const CHUNK: usize = 32;

/// Per-slot pixel counts `[in gt, in pred, in both]` for label maps: `lut[label]` is the
/// slot (0 collects every label that is not an object). Void pixels are not counted.
///
/// Chunks where both maps are uniform and no pixel is void are added in one step, so the
/// per-pixel path only runs along object edges; chunks of label 0 in both maps are
/// skipped outright when 0 is not an object (`zero_is_object == false`).
pub(crate) fn count_labels<T: Label>(
    gt: &[T],
    pred: &[T],
    void: Option<&[u8]>,
    lut: &[u32],
    zero_is_object: bool,
    counts: &mut [[u64; 3]],
) {
    let slot = |v: T| lut[v.index()] as usize;
    let mut add = |g: T, p: T, n: u64| {
        let (sg, sp) = (slot(g), slot(p));
        counts[sg][0] += n;
        counts[sp][1] += n;
        if g == p {
            counts[sg][2] += n;
        }
    };
    let n = gt.len();
    let mut i = 0;
    while i + CHUNK <= n {
        let g = &gt[i..i + CHUNK];
        let p = &pred[i..i + CHUNK];
        let v = void.map(|v| &v[i..i + CHUNK]);
        let no_void = v.is_none_or(|v| v.iter().fold(0u8, |a, &b| a | b) == 0);
        if no_void && g[..CHUNK - 1] == g[1..] && p[..CHUNK - 1] == p[1..] {
            if zero_is_object || g[0] != T::ZERO || p[0] != T::ZERO {
                add(g[0], p[0], CHUNK as u64);
            }
        } else {
            for k in 0..CHUNK {
                if v.is_none_or(|v| v[k] == 0) {
                    add(g[k], p[k], 1);
                }
            }
        }
        i += CHUNK;
    }
    for k in i..n {
        if void.is_none_or(|v| v[k] == 0) {
            add(gt[k], pred[k], 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions() {
        assert_eq!(jaccard(&[0, 0], &[0, 0], None).unwrap(), 1.0);
        assert_eq!(jaccard(&[1, 0], &[0, 0], None).unwrap(), 0.0);
        assert_eq!(jaccard(&[255, 1, 0], &[3, 0, 0], None).unwrap(), 0.5);
        // void removes the disagreeing pixel from both masks
        assert_eq!(
            jaccard(&[255, 1, 0], &[3, 0, 0], Some(&[0, 1, 0])).unwrap(),
            1.0
        );
        assert!(jaccard(&[0], &[0, 0], None).is_err());
        assert!(jaccard(&[0], &[0], Some(&[0, 0])).is_err());
    }

    #[test]
    fn counts_match_a_plain_loop() {
        let mut s = 0x2545f4914f6cdd1du64;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for trial in 0..50 {
            let n = (rnd() % 500) as usize;
            let runs = |rnd: &mut dyn FnMut() -> u64| {
                let mut v = Vec::with_capacity(n);
                while v.len() < n {
                    let len = 1 + (rnd() % 40) as usize;
                    let val = (rnd() % 4) as u8;
                    v.extend(std::iter::repeat_n(val, len.min(n - v.len())));
                }
                v
            };
            let g = runs(&mut rnd);
            let p = runs(&mut rnd);
            let v: Vec<u8> = runs(&mut rnd).iter().map(|&x| u8::from(x == 3)).collect();
            let mut lut = vec![0u32; 256];
            let zero_is_object = trial % 2 == 0;
            if zero_is_object {
                lut[0] = 3;
            }
            lut[1] = 1;
            lut[2] = 2;
            let void = if trial % 3 == 0 { None } else { Some(&v[..]) };
            let mut counts = vec![[0u64; 3]; 4];
            count_labels(&g, &p, void, &lut, zero_is_object, &mut counts);
            for (k, label) in [(1usize, 1u8), (2, 2), (3, 0)] {
                if k == 3 && !zero_is_object {
                    continue;
                }
                let keep = |i: usize| void.is_none_or(|v| v[i] == 0);
                let cg = (0..n).filter(|&i| keep(i) && g[i] == label).count() as u64;
                let cp = (0..n).filter(|&i| keep(i) && p[i] == label).count() as u64;
                let cb = (0..n)
                    .filter(|&i| keep(i) && g[i] == label && p[i] == label)
                    .count() as u64;
                assert_eq!(counts[k], [cg, cp, cb], "trial {trial} label {label}");
            }
        }
    }
}
