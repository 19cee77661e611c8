//! One frame: decode both masks into reused buffers, then J and F for each requested pair.

use std::path::Path;
use std::time::Instant;

use super::{Job, Rule, Timings};
use crate::error::{Error, Result};
use crate::metrics::{bound_pix, f_measure_points, jaccard_from_counts, Disk, Point};

/// Per-worker buffers, reused frame after frame (O(H x W) each).
#[derive(Default)]
pub struct Scratch {
    file: Vec<u8>,
    gt: Vec<u8>,
    pred: Vec<u8>,
    joint: Vec<u32>,
    gt_points: Vec<Vec<Point>>,
    pred_points: Vec<Vec<Point>>,
    bits: Vec<u64>,
    /// The disk of the last (height, width, radius bits): sizes rarely change.
    disk: Option<((usize, usize, u64), Disk)>,
}

/// The scores of one frame.
#[derive(Clone, Debug)]
pub struct FrameScores {
    pub pairs: Vec<(u8, u8)>,
    pub j: Vec<f64>,
    pub f: Vec<f64>,
    pub gt_present: [bool; 256],
    pub pred_present: [bool; 256],
    pub shape: (usize, usize),
}

/// Repeats a byte over a word: `uniform(w)` is true when all 8 bytes of `w` are equal.
const ONES: u64 = 0x0101_0101_0101_0101;

#[inline]
fn word(bytes: &[u8]) -> u64 {
    // Callers pass exactly 8 bytes (chunks_exact(8)).
    u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))
}

#[inline]
fn uniform(w: u64) -> bool {
    w == (w & 0xff).wrapping_mul(ONES)
}

/// The values present in a label map. Masks are runs of one value, so whole 8-pixel words of
/// one value are settled with one compare.
fn present(labels: &[u8]) -> [bool; 256] {
    let mut seen = [false; 256];
    let mut words = labels.chunks_exact(8);
    for bytes in words.by_ref() {
        let w = word(bytes);
        if uniform(w) {
            seen[(w & 0xff) as usize] = true;
        } else {
            for &v in bytes {
                seen[usize::from(v)] = true;
            }
        }
    }
    for &v in words.remainder() {
        seen[usize::from(v)] = true;
    }
    seen
}

/// Pixel counts of each label in `gt` and `pred` and of each (gt, pred) combination that
/// matters: `inter[k]` (gt == pred == k) in diagonal mode, the full joint table in cross
/// mode. Pixels that are 0 in both masks change none of the numbers used (label 0 is never
/// an object), so 8-pixel words that are 0 in both are skipped: about 10x faster on masks.
struct Counts {
    gt: [u64; 256],
    pred: [u64; 256],
    inter: [u64; 256],
    /// Byte range (first, last) that holds every non-zero value of each map, to word
    /// precision; `None` for an all-zero map.
    gt_span: Option<(usize, usize)>,
    pred_span: Option<(usize, usize)>,
}

#[inline]
fn widen(span: &mut Option<(usize, usize)>, first: usize, last: usize) {
    *span = Some(match *span {
        None => (first, last),
        Some((f, _)) => (f, last),
    });
}

#[inline]
fn pixel(c: &mut Counts, joint: &mut [u32], g: u8, p: u8, n: u64) {
    let (g, p) = (usize::from(g), usize::from(p));
    c.gt[g] += n;
    c.pred[p] += n;
    if g == p {
        c.inter[g] += n;
    }
    if !joint.is_empty() {
        // n <= 8 and a frame has at most u32::MAX pixels (checked when decoding).
        joint[g * 256 + p] += n as u32;
    }
}

/// `joint`: empty (diagonal mode) or 65536 entries, zeroed here.
fn count(gt: &[u8], pred: &[u8], joint: &mut [u32]) -> Counts {
    let mut c = Counts {
        gt: [0; 256],
        pred: [0; 256],
        inter: [0; 256],
        gt_span: None,
        pred_span: None,
    };
    joint.fill(0);
    let mut gw = gt.chunks_exact(8);
    let mut pw = pred.chunks_exact(8);
    for (i, (g8, p8)) in gw.by_ref().zip(pw.by_ref()).enumerate() {
        let (a, b) = (word(g8), word(p8));
        if a | b == 0 {
            continue;
        }
        if a != 0 {
            widen(&mut c.gt_span, 8 * i, 8 * i + 7);
        }
        if b != 0 {
            widen(&mut c.pred_span, 8 * i, 8 * i + 7);
        }
        if uniform(a) && uniform(b) {
            // Object interiors: 8 pixels of one (gt, pred) combination at once.
            pixel(&mut c, joint, (a & 0xff) as u8, (b & 0xff) as u8, 8);
            continue;
        }
        for (&g, &p) in g8.iter().zip(p8) {
            pixel(&mut c, joint, g, p, 1);
        }
    }
    let base = gt.len() - gw.remainder().len();
    for (i, (&g, &p)) in gw.remainder().iter().zip(pw.remainder()).enumerate() {
        if g != 0 {
            widen(&mut c.gt_span, base + i, base + i);
        }
        if p != 0 {
            widen(&mut c.pred_span, base + i, base + i);
        }
        pixel(&mut c, joint, g, p, 1);
    }
    c
}

/// Result labels above `job.max_pred_label` are an error naming the file.
fn check_labels(job: &Job, t: usize, pred_present: &[bool; 256]) -> Result<()> {
    let max = job.max_pred_label;
    match (usize::from(max) + 1..256).find(|&k| pred_present[k]) {
        None => Ok(()),
        Some(bad) => Err(Error::eval(format!(
            "result label {bad} is not allowed: labels must be at most {max} for sequence {} \
             (DAVIS semi-supervised: the objects of the ground truth's first frame; \
             unsupervised: at most 20 proposals)",
            job.gt[0].parent().unwrap_or(Path::new("")).display()
        ))
        .with_path(job.pred[t].as_deref().unwrap_or(Path::new("")))),
    }
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// The error for a result of another size than its ground truth. Phone videos are often
/// stored rotated; a result decoded without the rotation has the ground truth's size
/// transposed: say so.
pub(super) fn size_error(gt: &Path, (h, w): (usize, usize), (ph, pw): (usize, usize)) -> Error {
    let hint = if (ph, pw) == (w, h) {
        "; the result looks rotated by 90 degrees (portrait video decoded without \
         its rotation?)"
    } else {
        ""
    };
    Error::eval(format!(
        "result is {ph}x{pw} (HxW) but its ground truth {} is {h}x{w}{hint}",
        gt.display()
    ))
}

/// Decode a ground-truth frame into `s.gt` with the rule's colours and pixel limit.
fn read_gt(path: &Path, rule: &Rule, s: &mut Scratch) -> Result<(usize, usize)> {
    super::decode::read_labels(
        path,
        rule.colours(),
        &mut s.file,
        &mut s.gt,
        rule.max_pixels,
    )
}

/// Score frame `t` of `job`.
pub fn score(
    job: &Job,
    t: usize,
    rule: &Rule,
    s: &mut Scratch,
    tm: &mut Timings,
) -> Result<FrameScores> {
    let clock = Instant::now();
    let gt_path = &job.gt[t];
    let (h, w) = read_gt(gt_path, rule, s)?;
    match &job.pred[t] {
        Some(p) => {
            let (ph, pw) = super::decode::read_labels(
                p,
                rule.colours(),
                &mut s.file,
                &mut s.pred,
                rule.max_pixels,
            )?;
            if (ph, pw) != (h, w) {
                return Err(size_error(gt_path, (h, w), (ph, pw)).with_path(p));
            }
        }
        None => {
            s.pred.clear();
            s.pred.resize(h * w, 0);
        }
    }
    tm.decode += secs(clock);
    score_decoded(job, t, rule, s, tm, h, w)
}

/// Score frame `t` of `job` against a result label map held in memory (`pred`, row-major
/// `ph` x `pw`) instead of the result file: the ground truth is decoded from its file as in
/// [`score`], then the same code computes J and F, so the numbers are bit-identical to
/// scoring the same labels written as a PNG. `job.pred[t]` only names the result in errors.
pub fn score_labels(
    job: &Job,
    t: usize,
    rule: &Rule,
    s: &mut Scratch,
    tm: &mut Timings,
    pred: &[u8],
    (ph, pw): (usize, usize),
) -> Result<FrameScores> {
    let clock = Instant::now();
    let gt_path = &job.gt[t];
    let (h, w) = read_gt(gt_path, rule, s)?;
    let name = job.pred[t].as_deref().unwrap_or(Path::new(""));
    if (ph, pw) != (h, w) {
        return Err(size_error(gt_path, (h, w), (ph, pw)).with_path(name));
    }
    if pred.len() != h * w {
        return Err(Error::shape(format!(
            "result label map has {} values, expected {h} x {w}",
            pred.len()
        ))
        .with_path(name));
    }
    s.pred.clear();
    s.pred.extend_from_slice(pred);
    tm.decode += secs(clock);
    score_decoded(job, t, rule, s, tm, h, w)
}

/// J and F of frame `t` once `s.gt` and `s.pred` hold its (h, w) label maps.
fn score_decoded(
    job: &Job,
    t: usize,
    rule: &Rule,
    s: &mut Scratch,
    tm: &mut Timings,
    h: usize,
    w: usize,
) -> Result<FrameScores> {
    let clock = Instant::now();
    // Without void or binarising, the raw values present follow from the counts: one pass.
    let preprocess = rule.void.is_some() || rule.binarize;
    let (mut gt_present, mut pred_present) = ([false; 256], [false; 256]);
    if preprocess {
        gt_present = present(&s.gt);
        pred_present = present(&s.pred);
        check_labels(job, t, &pred_present)?;
        if let Some(v) = rule.void {
            if gt_present[usize::from(v)] {
                for (g, p) in s.gt.iter_mut().zip(s.pred.iter_mut()) {
                    if *g == v {
                        *g = 0;
                        *p = 0;
                    }
                }
            }
        }
        if rule.binarize {
            for x in s.gt.iter_mut().chain(s.pred.iter_mut()) {
                *x = u8::from(*x != 0);
            }
        }
    }
    s.joint.resize(if rule.cross { 65536 } else { 0 }, 0);
    let counts = count(&s.gt, &s.pred, &mut s.joint);
    let mut gt_labels = [false; 256];
    let mut pred_labels = [false; 256];
    for k in 1..256 {
        gt_labels[k] = counts.gt[k] > 0;
        pred_labels[k] = counts.pred[k] > 0;
    }
    if !preprocess {
        let n = (h * w) as u64;
        gt_present = gt_labels;
        pred_present = pred_labels;
        gt_present[0] = counts.gt[1..].iter().sum::<u64>() < n;
        pred_present[0] = counts.pred[1..].iter().sum::<u64>() < n;
        check_labels(job, t, &pred_present)?;
    }

    // The pairs this frame scores.
    let mut pairs: Vec<(u8, u8)> = Vec::new();
    if rule.cross {
        for &g in &job.objects {
            pairs.push((g, 0));
            pairs.extend(
                (1..=255u8)
                    .filter(|&p| pred_labels[usize::from(p)])
                    .map(|p| (g, p)),
            );
        }
    } else {
        let mut want = [false; 256];
        for &g in &job.objects {
            want[usize::from(g)] = true;
        }
        if rule.dynamic {
            for k in 1..256 {
                want[k] |= gt_labels[k] || pred_labels[k];
            }
        }
        pairs.extend(
            (1..=255u8)
                .filter(|&k| want[usize::from(k)])
                .map(|k| (k, k)),
        );
    }
    let j: Vec<f64> = pairs
        .iter()
        .map(|&(g, p)| {
            let (g, p) = (usize::from(g), usize::from(p));
            let (inter, pred_n) = match (rule.cross, p) {
                (_, 0) => (0, 0),
                (true, _) => (u64::from(s.joint[g * 256 + p]), counts.pred[p]),
                (false, _) => (counts.inter[g], counts.pred[p]),
            };
            jaccard_from_counts(inter, counts.gt[g] + pred_n - inter)
        })
        .collect();
    tm.j += secs(clock);

    // F: boundary points of each label involved, then the matching per pair.
    let clock = Instant::now();
    let mut want_gt = [false; 256];
    let mut want_pred = [false; 256];
    for &(a, b) in &pairs {
        want_gt[usize::from(a)] = true;
        if b != 0 {
            want_pred[usize::from(b)] = true;
        }
    }
    for k in 0..256 {
        // A label absent from a mask has no boundary: skip its scan.
        want_gt[k] &= gt_labels[k];
        want_pred[k] &= pred_labels[k];
    }
    s.gt_points.resize_with(256, Vec::new);
    s.pred_points.resize_with(256, Vec::new);
    super::decode::label_boundaries(&s.gt, h, w, counts.gt_span, &want_gt, &mut s.gt_points);
    let pred_span = counts.pred_span;
    super::decode::label_boundaries(&s.pred, h, w, pred_span, &want_pred, &mut s.pred_points);
    let radius = bound_pix(rule.bound_th, h, w)?;
    let key = (h, w, radius.to_bits());
    if s.disk.as_ref().is_none_or(|(k, _)| *k != key) {
        s.disk = Some((key, Disk::new(radius, h, w)?));
    }
    let Some((_, disk)) = s.disk.as_ref() else {
        return Err(Error::param("boundary disk missing"));
    };
    let empty: Vec<Point> = Vec::new();
    let mut f = Vec::with_capacity(pairs.len());
    for &(a, b) in &pairs {
        let gt_pts = if want_gt[usize::from(a)] {
            &s.gt_points[usize::from(a)]
        } else {
            &empty
        };
        let pred_pts = if b != 0 && want_pred[usize::from(b)] {
            &s.pred_points[usize::from(b)]
        } else {
            &empty
        };
        f.push(f_measure_points(pred_pts, gt_pts, disk, &mut s.bits));
    }
    tm.f += secs(clock);

    Ok(FrameScores {
        pairs,
        j,
        f,
        gt_present,
        pred_present,
        shape: (h, w),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::xorshift;

    /// Runs of random labels from `labels`, like masks (long runs, some single pixels).
    fn runs(rnd: &mut impl FnMut() -> u64, n: usize, labels: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            let len = 1 + (rnd() % 40) as usize;
            let lab = labels[(rnd() % labels.len() as u64) as usize];
            v.extend(std::iter::repeat_n(lab, len.min(n - v.len())));
        }
        v
    }

    #[test]
    fn present_and_count_equal_a_pixel_loop() {
        let mut rnd = xorshift(7);
        for trial in 0..200 {
            let n = (rnd() % 300) as usize;
            let gt = runs(&mut rnd, n, &[0, 0, 0, 1, 2, 255]);
            let pred = runs(&mut rnd, n, &[0, 0, 1, 2, 3, 255]);
            let mut want = [false; 256];
            gt.iter().for_each(|&v| want[usize::from(v)] = true);
            assert_eq!(present(&gt), want, "trial {trial}");
            let mut joint = vec![0u32; if trial % 2 == 0 { 65536 } else { 0 }];
            let c = count(&gt, &pred, &mut joint);
            let (mut g, mut p, mut i) = ([0u64; 256], [0u64; 256], [0u64; 256]);
            let mut jn = vec![0u32; 65536];
            for (&a, &b) in gt.iter().zip(&pred) {
                g[usize::from(a)] += 1;
                p[usize::from(b)] += 1;
                if a == b {
                    i[usize::from(a)] += 1;
                }
                jn[usize::from(a) * 256 + usize::from(b)] += 1;
            }
            for (span, m) in [(c.gt_span, &gt), (c.pred_span, &pred)] {
                let nz: Vec<usize> = (0..n).filter(|&i| m[i] != 0).collect();
                match (span, nz.first(), nz.last()) {
                    (None, None, None) => {}
                    (Some((a, b)), Some(&f), Some(&l)) => {
                        assert!(a <= f && l <= b && f - a < 8 && b - l < 8 && b < n.max(1) + 7)
                    }
                    other => panic!("span {other:?} trial {trial}"),
                }
            }
            // Pixels that are 0 in both masks are skipped: label 0 counts are partial.
            assert_eq!(c.gt[1..], g[1..], "trial {trial}");
            assert_eq!(c.pred[1..], p[1..], "trial {trial}");
            assert_eq!(c.inter[1..], i[1..], "trial {trial}");
            if !joint.is_empty() {
                jn[0] = joint[0];
                assert_eq!(joint, jn, "trial {trial}");
            }
        }
    }
}
