//! Mean, recall and decay of per-frame values, as `davis2017/utils.py: db_statistics`.
//!
//! The reference uses `np.nanmean`, which sums with numpy's pairwise summation after
//! replacing NaN by 0; [`pairwise_sum`] reproduces that order, so the means are the
//! reference's float64 values bit for bit, not merely close.

/// How the decay bins are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decay {
    /// The reference bins, including its bug: the bin edges are cast to `uint8`, so from
    /// 256 frames on they wrap around (300 -> 44) and `edge + 1` wraps 255 to 0 (numpy 2
    /// keeps the scalar in `uint8`), giving a wrong or NaN decay.
    Davis,
    /// The intended bins: the same edges without the `uint8` cast.
    Exact,
}

/// Mean, recall and decay of one object's per-frame values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub mean: f64,
    pub recall: f64,
    pub decay: f64,
}

/// numpy's pairwise float64 summation (`pairwise_sum_DOUBLE`, unrolled by 8 with blocks of
/// 128), over `values` with `f` applied to each element.
fn pairwise<F: Fn(f64) -> f64 + Copy>(a: &[f64], f: F) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += f(v);
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        for (rj, &v) in r.iter_mut().zip(&a[..8]) {
            *rj = f(v);
        }
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj += f(a[i + j]);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[full..] {
            res += f(v);
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2], f) + pairwise(&a[n2..], f)
    }
}

/// `np.sum` of a contiguous float64 array: `0.0 + pairwise(a)`.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    0.0 + pairwise(a, |v| v)
}

/// `np.nanmean`: the pairwise sum with NaN replaced by 0, over the count of non-NaN
/// values; NaN when every value is NaN or there is none.
pub fn nanmean(a: &[f64]) -> f64 {
    let count = a.iter().filter(|v| !v.is_nan()).count();
    let total = 0.0 + pairwise(a, |v| if v.is_nan() { 0.0 } else { v });
    total / count as f64
}

/// The four decay-bin edges before any cast: `round(linspace(1, n, 5) + 1e-10) - 1`,
/// with numpy's linspace arithmetic.
fn bin_edges(n: usize) -> [f64; 5] {
    let start = 1.0;
    let stop = n as f64;
    let delta = stop - start;
    let step = delta / 4.0;
    let mut y = [0.0f64; 5];
    for (i, yi) in y.iter_mut().enumerate() {
        let t = i as f64;
        *yi = if step == 0.0 {
            t / 4.0 * delta
        } else {
            t * step
        } + start;
    }
    y[4] = stop;
    y.map(|v| (v + 1e-10).round_ties_even() - 1.0)
}

/// numpy's float64 -> uint8 cast of an integral value as done on x86-64 (truncate to
/// int32, keep the low byte): 256 -> 0, 300 -> 44, -1 -> 255.
fn to_u8_wrapping(v: f64) -> u8 {
    (v as i64).rem_euclid(256) as u8
}

/// `a[start:stop]` with Python's clipping for non-negative bounds.
fn py_slice(a: &[f64], start: usize, stop: usize) -> &[f64] {
    let start = start.min(a.len());
    let stop = stop.min(a.len());
    if stop <= start {
        &[]
    } else {
        &a[start..stop]
    }
}

/// Mean, recall and decay of `values` as `db_statistics`:
/// M = nanmean(v); R = mean(v > 0.5) (NaN frames count as misses, not skipped);
/// D = nanmean(bin 0) - nanmean(bin 3) over four overlapping bins. Empty input gives NaN.
pub fn statistics(values: &[f64], decay: Decay) -> Stats {
    let n = values.len();
    let mean = nanmean(values);
    let hits = values.iter().filter(|&&v| v > 0.5).count();
    let recall = hits as f64 / n as f64;
    let edges = bin_edges(n);
    let bin = |i: usize| -> &[f64] {
        match decay {
            Decay::Davis => {
                let lo = to_u8_wrapping(edges[i]);
                let hi = to_u8_wrapping(edges[i + 1]).wrapping_add(1);
                py_slice(values, lo as usize, hi as usize)
            }
            Decay::Exact => {
                if n == 0 {
                    return &[];
                }
                // For n >= 1 every edge is in [0, n - 1].
                let lo = edges[i] as usize;
                let hi = edges[i + 1] as usize + 1;
                py_slice(values, lo, hi)
            }
        }
    };
    let decay = nanmean(bin(0)) - nanmean(bin(3));
    Stats {
        mean,
        recall,
        decay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_for_short_sequences() {
        // linspace(1, 10, 5) = [1, 3.25, 5.5, 7.75, 10] -> round(+1e-10) - 1 = [0, 2, 5, 7, 9]
        assert_eq!(bin_edges(10), [0.0, 2.0, 5.0, 7.0, 9.0]);
        assert_eq!(bin_edges(1), [0.0; 5]);
        assert_eq!(bin_edges(300)[4], 299.0);
    }

    #[test]
    fn davis_and_exact_agree_below_256_frames() {
        for n in 1..256 {
            let v: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
            let a = statistics(&v, Decay::Davis);
            let b = statistics(&v, Decay::Exact);
            assert_eq!(a.decay.to_bits(), b.decay.to_bits(), "n={n}");
        }
    }

    #[test]
    fn davis_bins_wrap_from_256_frames() {
        // 300 frames: edges [0, 75, 150, 224, 299] -> uint8 [0, 75, 150, 224, 43]:
        // bin 3 is v[224:44], empty, so the decay is NaN.
        let v = vec![0.5; 300];
        assert!(statistics(&v, Decay::Davis).decay.is_nan());
        assert_eq!(statistics(&v, Decay::Exact).decay, 0.0);
    }

    #[test]
    fn nan_handling() {
        let v = [f64::NAN, 1.0, 0.25, f64::NAN];
        let s = statistics(&v, Decay::Exact);
        assert_eq!(s.mean, 0.625);
        assert_eq!(s.recall, 0.25);
        let e = statistics(&[], Decay::Davis);
        assert!(e.mean.is_nan() && e.recall.is_nan() && e.decay.is_nan());
    }

    #[test]
    fn pairwise_order_differs_from_naive() {
        // 0.1 repeated: the pairwise tree and a left fold round differently at n = 10.
        let v = vec![0.1; 10];
        let naive: f64 = v.iter().sum();
        let pw = pairwise_sum(&v);
        // r[0..8] = 0.1 each, then + 0.1 + 0.1 sequentially after the tree.
        let tree = ((0.1 + 0.1) + (0.1 + 0.1)) + ((0.1 + 0.1) + (0.1 + 0.1)) + 0.1 + 0.1;
        assert_eq!(pw, 0.0 + tree);
        assert!(naive.is_finite());
    }
}
