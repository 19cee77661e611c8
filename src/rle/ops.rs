//! Operations on run-length encoded masks: decode, area, bounding box, merge, IoU.
//!
//! All of them work on the runs (linear in the number of runs, not pixels), except the
//! decoders, which write only the foreground runs into a zeroed buffer: a column-major
//! `uint8` mask for `coco.decode` (one `fill` per run), or a row-major label map.
//! Results equal pycocotools 2.0.11's on every valid RLE; where pycocotools reads out of
//! bounds or stops early on unusual but valid runs (zero-length runs in the middle), the
//! results here are the mathematically correct ones.

use super::encode::Label;
use super::Rle;
use crate::error::{try_reserve, Error, Result};

/// Foreground runs `(start, end)` in column-major pixel positions.
fn foreground(r: &Rle) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0usize;
    r.counts.iter().enumerate().filter_map(move |(i, &c)| {
        let start = pos;
        pos += c as usize;
        (i % 2 == 1 && c > 0).then_some((start, pos))
    })
}

/// Write `1` on the foreground of `r` into `out` (column-major, `h * w` bytes, zeroed).
pub fn decode_into(r: &Rle, out: &mut [u8]) -> Result<()> {
    if out.len() != r.pixels() {
        return Err(Error::shape(format!(
            "output has {} bytes, expected h*w = {}",
            out.len(),
            r.pixels()
        )));
    }
    // Counts are validated to sum to h*w, so every run lies inside `out`.
    for (a, b) in foreground(r) {
        out[a..b].fill(1);
    }
    Ok(())
}

/// The number of foreground pixels (pycocotools' `area`, a `uint32`).
pub fn area(r: &Rle) -> u32 {
    r.counts
        .iter()
        .skip(1)
        .step_by(2)
        .map(|&c| u64::from(c))
        .sum::<u64>() as u32
}

/// The bounding box `[x, y, w, h]` of the foreground, `[0, 0, 0, 0]` when empty
/// (pycocotools 2.0.11's `rleToBbox`: a run that spans columns makes the box full height).
pub fn to_bbox(r: &Rle) -> [f64; 4] {
    let h = r.h as u64;
    let (mut xs, mut ys, mut xe, mut ye) = (r.w as u64, h, 0u64, 0u64);
    let mut any = false;
    for (a, b) in foreground(r) {
        let (a, last) = (a as u64, b as u64 - 1);
        let (x0, x1) = (a / h, last / h);
        any = true;
        xs = xs.min(x0);
        xe = xe.max(x1);
        if x0 < x1 {
            ys = 0;
            ye = h - 1;
        } else {
            ys = ys.min(a % h);
            ye = ye.max(last % h);
        }
    }
    if !any {
        return [0.0; 4];
    }
    [
        xs as f64,
        ys as f64,
        (xe - xs + 1) as f64,
        (ye - ys + 1) as f64,
    ]
}

/// Check that every mask has the size of the first one.
fn same_size<'a>(what: &str, rles: impl IntoIterator<Item = &'a Rle>) -> Result<()> {
    let mut it = rles.into_iter().enumerate();
    let Some((_, first)) = it.next() else {
        return Ok(());
    };
    for (i, r) in it {
        if (r.h, r.w) != (first.h, first.w) {
            return Err(Error::shape(format!(
                "{what}: every mask must have the same size; mask 0 is [{}, {}] but mask {i} \
                 is [{}, {}]",
                first.h, first.w, r.h, r.w
            )));
        }
    }
    Ok(())
}

/// Union (or intersection) of two run lists of the same total, with pycocotools'
/// `rleMerge` output bytes: a count is emitted each time the merged value changes after
/// consuming one step of both lists, and at the end. pycocotools stops as soon as both
/// current runs are empty, which loses the rest of the mask after two simultaneous
/// zero-length runs; here the walk ends only when every pixel is consumed.
fn merge2(a: &[u32], b: &[u32], total: u64, intersect: bool) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut ca, mut cb) = (
        a.first().copied().unwrap_or(0),
        b.first().copied().unwrap_or(0),
    );
    let (mut ia, mut ib) = (1usize, 1usize);
    let (mut va, mut vb, mut v) = (false, false, false);
    let (mut run, mut done) = (0u32, 0u64);
    loop {
        let c = ca.min(cb);
        run += c;
        done += u64::from(c);
        ca -= c;
        if ca == 0 && ia < a.len() {
            ca = a[ia];
            ia += 1;
            va = !va;
        }
        cb -= c;
        if cb == 0 && ib < b.len() {
            cb = b[ib];
            ib += 1;
            vb = !vb;
        }
        let before = v;
        v = if intersect { va && vb } else { va || vb };
        let end = done == total;
        if v != before || end {
            out.push(run);
            run = 0;
        }
        if end {
            return out;
        }
    }
}

/// The same mask without zero-length runs (except a leading one): a zero run joins its
/// neighbours into one run.
fn canonical(counts: &[u32]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(counts.len());
    let mut join = false;
    for (i, &c) in counts.iter().enumerate() {
        if join {
            if let Some(last) = out.last_mut() {
                *last += c;
            }
            join = false;
        } else if c == 0 && i > 0 {
            join = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// Union (or intersection with `intersect`) of masks of one size (pycocotools' `merge`).
pub fn merge(rles: &[Rle], intersect: bool) -> Result<Rle> {
    let Some(first) = rles.first() else {
        return Err(Error::rle(
            "merge needs at least one RLE; got an empty list",
        ));
    };
    same_size("merge", rles)?;
    let total = first.pixels() as u64;
    let mut counts = first.counts.clone();
    for r in &rles[1..] {
        counts = merge2(&counts, &r.counts, total, intersect);
        if counts.len() as u64 > total + 1 {
            // Zero-length runs in the inputs can make the emitted runs outnumber the pixels
            // (pycocotools writes them past its h*w+1 buffer); keep the result a valid RLE.
            counts = canonical(&counts);
        }
    }
    Ok(Rle {
        h: first.h,
        w: first.w,
        counts,
    })
}

/// Foreground runs `[start, end)` of a mask, in order.
fn intervals(r: &Rle) -> Vec<(u32, u32)> {
    foreground(r).map(|(a, b)| (a as u32, b as u32)).collect()
}

/// Pixels in both of two sorted interval lists: one walk over the foreground runs only
/// (half the runs of a walk over all of them, as pycocotools does).
fn intersection(a: &[(u32, u32)], b: &[(u32, u32)]) -> u64 {
    let (mut i, mut j, mut sum) = (0usize, 0usize, 0u64);
    while let (Some(&(a0, a1)), Some(&(b0, b1))) = (a.get(i), b.get(j)) {
        let (lo, hi) = (a0.max(b0), a1.min(b1));
        if hi > lo {
            sum += u64::from(hi - lo);
        }
        if a1 < b1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    sum
}

/// pycocotools' box IoU of two `[x, y, w, h]` boxes (crowd: intersection / area(dt)).
#[inline]
fn box_iou1(d: &[f64; 4], g: &[f64; 4], crowd: bool) -> f64 {
    let w = (d[2] + d[0]).min(g[2] + g[0]) - d[0].max(g[0]);
    if w <= 0.0 {
        return 0.0;
    }
    let h = (d[3] + d[1]).min(g[3] + g[1]) - d[1].max(g[1]);
    if h <= 0.0 {
        return 0.0;
    }
    let i = w * h;
    let da = d[2] * d[3];
    let u = if crowd { da } else { da + g[2] * g[3] - i };
    i / u
}

/// IoU of `dt` (m boxes) against `gt` (n boxes), column-major `(m, n)`: `o[g * m + d]`.
pub fn box_iou(dt: &[[f64; 4]], gt: &[[f64; 4]], crowd: &[bool]) -> Result<Vec<f64>> {
    if crowd.len() != gt.len() {
        return Err(Error::shape(format!(
            "iscrowd has {} flags but there are {} gt boxes",
            crowd.len(),
            gt.len()
        )));
    }
    let mut o = Vec::new();
    try_reserve(&mut o, dt.len().saturating_mul(gt.len()), "the IoU matrix")?;
    for (g, &c) in gt.iter().zip(crowd) {
        o.extend(dt.iter().map(|d| box_iou1(d, g, c)));
    }
    Ok(o)
}

/// IoU of masks `dt` (m) against `gt` (n), column-major `(m, n)`: `o[g * m + d]`. For a
/// crowd gt the denominator is the area of dt. Pairs whose boxes do not overlap are 0
/// without walking their runs (as pycocotools).
pub fn iou(dt: &[Rle], gt: &[Rle], crowd: &[bool]) -> Result<Vec<f64>> {
    if crowd.len() != gt.len() {
        return Err(Error::shape(format!(
            "iscrowd has {} flags but there are {} gt masks",
            crowd.len(),
            gt.len()
        )));
    }
    same_size("iou", dt.iter().chain(gt))?;
    let db: Vec<[f64; 4]> = dt.iter().map(to_bbox).collect();
    let gb: Vec<[f64; 4]> = gt.iter().map(to_bbox).collect();
    let (dr, gr): (Vec<_>, Vec<_>) = (
        dt.iter().map(intervals).collect(),
        gt.iter().map(intervals).collect(),
    );
    let (da, ga): (Vec<u64>, Vec<u64>) = (
        dt.iter().map(|r| u64::from(area(r))).collect(),
        gt.iter().map(|r| u64::from(area(r))).collect(),
    );
    let mut o = Vec::new();
    try_reserve(&mut o, dt.len().saturating_mul(gt.len()), "the IoU matrix")?;
    for (((gbox, g), &garea), &c) in gb.iter().zip(&gr).zip(&ga).zip(crowd) {
        for ((dbox, d), &darea) in db.iter().zip(&dr).zip(&da) {
            if box_iou1(dbox, gbox, c) <= 0.0 {
                o.push(0.0);
                continue;
            }
            let i = intersection(d, g);
            o.push(if i == 0 {
                0.0
            } else if c {
                i as f64 / darea as f64
            } else {
                i as f64 / (darea + garea - i) as f64
            });
        }
    }
    Ok(o)
}

/// What to do where two objects claim the same pixel of a label map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlap {
    /// Refuse, naming both objects.
    Error,
    /// Keep the object painted first.
    First,
    /// The object painted last wins.
    Last,
}

/// Paint objects into a row-major `(h, w)` label map `out` (zeroed), in order.
/// Ids must be non-zero and every mask of size `(h, w)`.
pub fn paint_labels<T: Label + Default>(
    objects: &[(T, &Rle)],
    h: usize,
    w: usize,
    out: &mut [T],
    overlap: Overlap,
) -> Result<()> {
    if out.len() != h * w {
        return Err(Error::shape(format!(
            "label map has {} pixels, expected {h}x{w}",
            out.len()
        )));
    }
    let zero = T::default();
    for &(id, r) in objects {
        if id == zero {
            return Err(Error::param(
                "object id 0 is the background; ids must be non-zero",
            ));
        }
        if (r.h, r.w) != (h, w) {
            return Err(Error::shape(format!(
                "object {} has size [{}, {}] but the label map is [{h}, {w}]",
                id.id(),
                r.h,
                r.w
            )));
        }
        for (a, b) in foreground(r) {
            // Walk the run column by column: rows y0..y1 of column x.
            let mut p = a;
            while p < b {
                let (x, y0) = (p / h, p % h);
                let y1 = (y0 + (b - p)).min(h);
                for y in y0..y1 {
                    let px = &mut out[y * w + x];
                    if *px == zero || overlap == Overlap::Last {
                        *px = id;
                    } else if overlap == Overlap::Error {
                        return Err(Error::rle(format!(
                            "objects {} and {} overlap (first at row {y}, column {x}); \
                             choose which one wins with overlap=\"first\" or \"last\"",
                            px.id(),
                            id.id()
                        )));
                    }
                }
                p += y1 - y0;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rle(h: usize, w: usize, counts: &[u32]) -> Rle {
        Rle::new(h, w, counts.to_vec()).unwrap()
    }

    fn dense(r: &Rle) -> Vec<u8> {
        let mut m = vec![0; r.pixels()];
        decode_into(r, &mut m).unwrap();
        m
    }

    #[test]
    fn merge_and_iou_agree_with_pixels() {
        let a = rle(3, 4, &[2, 3, 4, 3]);
        let b = rle(3, 4, &[0, 4, 5, 1, 2]);
        let (ma, mb) = (dense(&a), dense(&b));
        let u = merge(&[a.clone(), b.clone()], false).unwrap();
        let i = merge(&[a.clone(), b.clone()], true).unwrap();
        let mu: Vec<u8> = ma.iter().zip(&mb).map(|(x, y)| x | y).collect();
        let mi: Vec<u8> = ma.iter().zip(&mb).map(|(x, y)| x & y).collect();
        assert_eq!(dense(&u), mu);
        assert_eq!(dense(&i), mi);
        let inter = mi.iter().filter(|&&v| v == 1).count() as f64;
        let union = mu.iter().filter(|&&v| v == 1).count() as f64;
        let (sa, sb) = (std::slice::from_ref(&a), std::slice::from_ref(&b));
        let o = iou(sa, sb, &[false]).unwrap();
        assert_eq!(o, vec![inter / union]);
        let o = iou(sa, sb, &[true]).unwrap();
        assert_eq!(o, vec![inter / f64::from(area(&a))]);
    }

    #[test]
    fn zero_length_runs_do_not_stop_the_walk() {
        // Both masks: 2 background, (0 fg, 0 bg), 1 fg, 3 background.
        let a = rle(2, 3, &[2, 0, 0, 1, 3]);
        let u = merge(&[a.clone(), a.clone()], false).unwrap();
        assert_eq!(dense(&u), dense(&a));
        assert_eq!(
            iou(std::slice::from_ref(&a), std::slice::from_ref(&a), &[false]).unwrap(),
            vec![1.0]
        );
        assert_eq!(to_bbox(&a), [1.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn merged_zero_runs_stay_a_valid_rle() {
        // 5 pixels, runs full of zero-length runs (pycocotools overflows its heap here).
        let a = rle(1, 5, &[0, 1, 0, 1, 0, 0, 1, 2]);
        let b = rle(1, 5, &[1, 0, 0, 1, 0, 0, 1, 0, 0, 2]);
        for intersect in [false, true] {
            let m = merge(&[a.clone(), b.clone()], intersect).unwrap();
            assert!(m.counts.len() <= 6);
            let want: Vec<u8> = dense(&a)
                .iter()
                .zip(dense(&b))
                .map(|(x, y)| if intersect { x & y } else { x | y })
                .collect();
            assert_eq!(dense(&m), want);
            let s = m.to_compressed();
            assert_eq!(Rle::from_string(1, 5, &s).unwrap(), m);
        }
        assert_eq!(canonical(&[0, 2, 0, 3, 1]), vec![0, 5, 1]);
        assert_eq!(canonical(&[2, 0, 0, 3]), vec![2, 3]);
        assert_eq!(canonical(&[0, 0, 4, 1, 0]), vec![4, 1]);
    }

    #[test]
    fn bbox_and_area() {
        assert_eq!(to_bbox(&rle(2, 3, &[6])), [0.0; 4]);
        assert_eq!(to_bbox(&rle(2, 3, &[0, 6])), [0.0, 0.0, 3.0, 2.0]);
        assert_eq!(to_bbox(&rle(0, 3, &[0])), [0.0; 4]);
        assert_eq!(area(&rle(2, 3, &[1, 2, 1, 2])), 4);
        assert!(merge(&[], false).is_err());
        assert!(merge(&[rle(2, 3, &[6]), rle(3, 2, &[6])], false).is_err());
    }

    #[test]
    fn paint_and_overlap() {
        let a = rle(2, 3, &[1, 2, 3]);
        let b = rle(2, 3, &[2, 2, 2]);
        let mut out = vec![0u8; 6];
        assert!(paint_labels(&[(1, &a), (2, &b)], 2, 3, &mut out, Overlap::Error).is_err());
        out.fill(0);
        paint_labels(&[(1, &a), (2, &b)], 2, 3, &mut out, Overlap::First).unwrap();
        // Column-major pixels 1, 2 are object 1; 3 is object 2; row-major layout.
        assert_eq!(out, vec![0, 1, 0, 1, 2, 0]);
        out.fill(0);
        paint_labels(&[(1, &a), (2, &b)], 2, 3, &mut out, Overlap::Last).unwrap();
        assert_eq!(out, vec![0, 2, 0, 1, 2, 0]);
    }
}
