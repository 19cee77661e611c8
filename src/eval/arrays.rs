//! Scoring results held in memory (`fastmask.evaluation.Evaluator`): each frame's result is
//! a label map given by the caller instead of a PNG path; the ground truth is still decoded
//! from its file. Frames are independent work items (the caller assembles the per-sequence
//! tables, as [`super::evaluate`] does), and every frame goes through the same per-frame code
//! as the file path ([`frame::score_labels`] -> the shared J/F step), so the numbers are
//! bit-identical to scoring the same labels written as PNGs.

use std::sync::Mutex;

use super::{frame, lock, FrameScores, Job, Rule, Scratch, Timings};
use crate::error::{Error, Result};
use crate::parallel;

/// One frame to score: a one-frame `job` (its ground-truth path, objects and label limit;
/// `job.pred[0]` names the result in errors) and the result labels, row-major `shape`.
#[derive(Clone, Debug)]
pub struct ArrayFrame<'a> {
    pub job: Job,
    pub pred: &'a [u8],
    pub shape: (usize, usize),
}

/// Score every frame on up to `threads` threads; errors as [`super::evaluate`] (the first
/// failing frame in order is reported).
pub fn evaluate_frames(
    frames: &[ArrayFrame<'_>],
    rule: &Rule,
    threads: Option<usize>,
) -> Result<(Vec<FrameScores>, Timings)> {
    if !(rule.bound_th.is_finite() && rule.bound_th > 0.0) {
        return Err(Error::param(format!(
            "bound_th must be a finite number > 0; got {}",
            rule.bound_th
        )));
    }
    for (i, f) in frames.iter().enumerate() {
        if f.job.gt.len() != 1 || f.job.pred.len() != 1 {
            return Err(Error::param(format!(
                "frame {i}: an array frame is a one-frame job"
            )));
        }
    }
    let threads = parallel::thread_count(threads, frames.len())?;
    let pool: Mutex<Vec<Scratch>> = Mutex::new(Vec::new());
    let total = Mutex::new(Timings::default());
    let out = parallel::map(frames.iter().collect(), threads, |_, fr| {
        let mut scratch = lock(&pool).pop().unwrap_or_default();
        let mut tm = Timings::default();
        let r = frame::score_labels(&fr.job, 0, rule, &mut scratch, &mut tm, fr.pred, fr.shape);
        lock(&pool).push(scratch);
        lock(&total).add(&tm);
        r
    })?;
    let timings = *lock(&total);
    Ok((out, timings))
}

/// Copy a label map into `dst` (same length) and return its largest value, in one pass:
/// `Evaluator.add` checks the labels a protocol allows and keeps its own copy (the caller
/// reuses its buffer) without a second read of the frame.
pub fn copy_max(src: &[u8], dst: &mut [u8]) -> Result<u8> {
    if src.len() != dst.len() {
        return Err(Error::shape(format!(
            "copy of {} labels into a buffer of {}",
            src.len(),
            dst.len()
        )));
    }
    let mut top = 0u8;
    // Chunks of 4096 so the max vectorises; the copy is a memcpy per chunk.
    for (s, d) in src.chunks(4096).zip(dst.chunks_mut(4096)) {
        d.copy_from_slice(s);
        top = top.max(s.iter().copied().fold(0u8, u8::max));
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::{encode_indexed, Compression, PaletteSize, DAVIS_PALETTE};
    use std::path::PathBuf;

    #[test]
    fn copy_max_copies_and_finds_the_largest_label() {
        let src: Vec<u8> = (0..10_000u32).map(|i| ((i * 7919) % 251) as u8).collect();
        let mut dst = vec![0u8; src.len()];
        assert_eq!(copy_max(&src, &mut dst).unwrap(), 250);
        assert_eq!(src, dst);
        assert_eq!(copy_max(&[], &mut []).unwrap(), 0);
        assert!(copy_max(&[1], &mut []).is_err());
    }

    #[test]
    fn arrays_score_like_files() {
        let dir = std::env::temp_dir().join(format!("fastmask-arrays-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (h, w) = (23, 41);
        let mut gt = Vec::new();
        let mut preds = Vec::new();
        let mut files = Vec::new();
        for t in 0..4usize {
            let g: Vec<u8> = (0..h * w).map(|i| ((i / 7 + t) % 4) as u8).collect();
            let p: Vec<u8> = (0..h * w).map(|i| ((i / 5 + 2 * t) % 5) as u8).collect();
            let (gp, pp) = (dir.join(format!("g{t}.png")), dir.join(format!("p{t}.png")));
            let enc = |m: &[u8]| {
                encode_indexed(
                    m,
                    h,
                    w,
                    &DAVIS_PALETTE,
                    Compression::Fast,
                    PaletteSize::Full,
                )
            };
            std::fs::write(&gp, enc(&g).unwrap()).unwrap();
            std::fs::write(&pp, enc(&p).unwrap()).unwrap();
            gt.push(gp);
            files.push(Some(pp));
            preds.push(p);
        }
        for (dynamic, cross) in [(false, false), (true, false), (false, true)] {
            let rule = Rule {
                dynamic,
                cross,
                void: None,
                binarize: false,
                same_size: true,
                bound_th: 0.008,
                max_pixels: u64::MAX,
                colormap: None,
            };
            let job = Job {
                gt: gt.clone(),
                pred: files.clone(),
                objects: vec![1, 2],
                max_pred_label: 255,
            };
            let (want, _) = super::super::evaluate(&[job], &rule, Some(2), None).unwrap();
            let frames: Vec<ArrayFrame<'_>> = (0..4)
                .map(|t| ArrayFrame {
                    job: Job {
                        gt: vec![gt[t].clone()],
                        pred: vec![Some(PathBuf::from("mem"))],
                        objects: vec![1, 2],
                        max_pred_label: 255,
                    },
                    pred: &preds[t],
                    shape: (h, w),
                })
                .collect();
            let (got, _) = evaluate_frames(&frames, &rule, Some(2)).unwrap();
            let want = &want[0];
            let np = want.pairs.len();
            for (t, fr) in got.iter().enumerate() {
                for (i, pair) in fr.pairs.iter().enumerate() {
                    let c = want.pairs.iter().position(|p| p == pair).unwrap();
                    assert_eq!(fr.j[i].to_bits(), want.j[t * np + c].to_bits());
                    assert_eq!(fr.f[i].to_bits(), want.f[t * np + c].to_bits());
                }
            }
            // A transposed result is named as such.
            let bad = [ArrayFrame {
                shape: (w, h),
                ..frames[0].clone()
            }];
            let e = evaluate_frames(&bad, &rule, None).unwrap_err().to_string();
            assert!(e.contains("rotated") && e.starts_with("mem"), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
