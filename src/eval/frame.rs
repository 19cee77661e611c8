//! One frame: decode both masks into reused buffers, then J and F for each requested pair.

use std::path::Path;
use std::time::Instant;

use super::{Job, Rule, Timings};
use crate::error::{Error, Result};
use crate::metrics::boundary::{bound_pix, f_measure_points, Disk, Point};
use crate::metrics::iou::jaccard_from_counts;

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
    /// The disk of the last frame size (sizes rarely change within a job).
    disk: Option<((usize, usize), Disk)>,
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

fn present(labels: &[u8]) -> [bool; 256] {
    let mut seen = [false; 256];
    // Runs of one value are the norm in masks: only look up a value when it changes.
    let mut last: Option<u8> = None;
    for &v in labels {
        if last != Some(v) {
            seen[usize::from(v)] = true;
            last = Some(v);
        }
    }
    seen
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Score frame `t` of `job`.
pub fn score(job: &Job, t: usize, rule: &Rule, s: &mut Scratch, tm: &mut Timings) -> Result<FrameScores> {
    let clock = Instant::now();
    let gt_path = &job.gt[t];
    let (h, w) = super::decode::read_labels(gt_path, &mut s.file, &mut s.gt)?;
    match &job.pred[t] {
        Some(p) => {
            let (ph, pw) = super::decode::read_labels(p, &mut s.file, &mut s.pred)?;
            if (ph, pw) != (h, w) {
                return Err(Error::eval(format!(
                    "result is {ph}x{pw} (HxW) but its ground truth {} is {h}x{w}",
                    gt_path.display()
                ))
                .with_path(p));
            }
        }
        None => {
            s.pred.clear();
            s.pred.resize(h * w, 0);
        }
    }
    tm.decode += secs(clock);

    let clock = Instant::now();
    let gt_present = present(&s.gt);
    let pred_present = present(&s.pred);
    if let Some(bad) = (usize::from(job.max_pred_label) + 1..256).find(|&k| pred_present[k]) {
        let path = job.pred[t].as_deref().unwrap_or(Path::new(""));
        return Err(Error::eval(format!(
            "result label {bad} is above the largest allowed label {} (labels 1..={} are the \
             objects of the ground truth's first frame {}, or the proposals allowed)",
            job.max_pred_label,
            job.max_pred_label,
            job.gt[0].parent().unwrap_or(Path::new("")).display()
        ))
        .with_path(path));
    }
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
    let gt_labels = present(&s.gt);
    let pred_labels = present(&s.pred);

    // The pairs this frame scores.
    let mut pairs: Vec<(u8, u8)> = Vec::new();
    if rule.cross {
        for &g in &job.objects {
            pairs.push((g, 0));
            pairs.extend((1..=255u8).filter(|&p| pred_labels[usize::from(p)]).map(|p| (g, p)));
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
        pairs.extend((1..=255u8).filter(|&k| want[usize::from(k)]).map(|k| (k, k)));
    }

    // J: one counting pass for all pairs. Pixel counts fit in u32 (decoder pixel limit).
    let mut gt_count = [0u64; 256];
    let mut pred_count = [0u64; 256];
    let mut j = Vec::with_capacity(pairs.len());
    if rule.cross {
        s.joint.clear();
        s.joint.resize(65536, 0);
        for (&g, &p) in s.gt.iter().zip(s.pred.iter()) {
            s.joint[usize::from(g) * 256 + usize::from(p)] += 1;
        }
        for g in 0..256 {
            for p in 0..256 {
                let n = u64::from(s.joint[g * 256 + p]);
                gt_count[g] += n;
                pred_count[p] += n;
            }
        }
        for &(g, p) in &pairs {
            let (g, p) = (usize::from(g), usize::from(p));
            let inter = if p == 0 { 0 } else { u64::from(s.joint[g * 256 + p]) };
            let pc = if p == 0 { 0 } else { pred_count[p] };
            j.push(jaccard_from_counts(inter, gt_count[g] + pc - inter));
        }
    } else {
        let mut inter = [0u64; 256];
        for (&g, &p) in s.gt.iter().zip(s.pred.iter()) {
            gt_count[usize::from(g)] += 1;
            pred_count[usize::from(p)] += 1;
            if g == p {
                inter[usize::from(g)] += 1;
            }
        }
        for &(k, _) in &pairs {
            let k = usize::from(k);
            j.push(jaccard_from_counts(inter[k], gt_count[k] + pred_count[k] - inter[k]));
        }
    }
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
    super::decode::label_boundaries(&s.gt, h, w, &want_gt, &mut s.gt_points)?;
    super::decode::label_boundaries(&s.pred, h, w, &want_pred, &mut s.pred_points)?;
    let radius = bound_pix(rule.bound_th, h, w)?;
    if s.disk.as_ref().is_none_or(|(shape, _)| *shape != (h, w)) {
        s.disk = Some(((h, w), Disk::new(radius, h, w)?));
    }
    let Some((_, disk)) = s.disk.as_ref() else {
        return Err(Error::param("boundary disk missing"));
    };
    let empty: Vec<Point> = Vec::new();
    let mut f = Vec::with_capacity(pairs.len());
    for &(a, b) in &pairs {
        let gt_pts = if want_gt[usize::from(a)] { &s.gt_points[usize::from(a)] } else { &empty };
        let pred_pts = if b != 0 && want_pred[usize::from(b)] { &s.pred_points[usize::from(b)] } else { &empty };
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
