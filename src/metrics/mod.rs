//! Per-object J (IoU), DAVIS boundary maps and boundary F, and their statistics, with
//! the official DAVIS numbers (davis2017-evaluation `davis2017/metrics.py`, `utils.py`).
//!
//! - [`iou`]: J for binary masks and the one-pass label counting behind [`per_object`];
//! - [`boundary`]: [`bound_pix`], the skimage [`Disk`], boundary maps and the boundary scan
//!   of label maps; `packed` (binary masks as bit words) and `matcher` (the disk test
//!   behind F) are private;
//! - [`stats`]: mean / recall / decay (`db_statistics`), with the reference's decay bins
//!   or the intended ones.
//!
//! A streaming evaluator keeps one [`Scratch`] per worker and calls [`per_object_into`]
//! for each frame: every buffer is reused, so a worker allocates O(H*W) once (boundary
//! pixel lists and bitsets), whatever the number of objects.

pub mod boundary;
mod chunk;
pub mod iou;
mod matcher;
mod packed;
pub mod stats;

pub use boundary::{bound_pix, boundary_map, disk_matrix, mask_boundary_points, Disk, Point, Span};
pub use iou::{jaccard, jaccard_from_counts};
pub use matcher::f_measure_points;
pub use stats::{nanmean, pairwise_sum, statistics, Decay, Stats};

use crate::error::{Error, Result};
use boundary::check_frame;

/// A label-map pixel type: `u8` (palette PNGs) or `u16` (16-bit label maps). Sealed:
/// the scans rely on the word-level helpers of the private `chunk::Lanes`.
pub trait Label: Copy + Eq + Send + Sync + 'static + chunk::Lanes {
    /// Background.
    const ZERO: Self;
    /// Number of distinct values.
    const RANGE: usize;
    /// The value as an index in `0..RANGE`.
    fn index(self) -> usize;
    /// The value of index `i`, if in range.
    fn from_index(i: usize) -> Option<Self>;
}

macro_rules! impl_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            const ZERO: Self = 0;
            const RANGE: usize = 1 << <$t>::BITS;
            #[inline]
            fn index(self) -> usize {
                self as usize
            }
            fn from_index(i: usize) -> Option<Self> {
                <$t>::try_from(i).ok()
            }
        }
    )*};
}

impl_label!(u8, u16);

/// Reusable buffers for the metrics of one worker. Create once, pass to every call.
#[derive(Default)]
pub struct Scratch {
    /// label -> object slot + 1 (0: not an object); all zero between calls.
    lut: Vec<u32>,
    /// [gt, pred, both] pixel counts per slot (index 0: non-objects).
    counts: Vec<[u64; 3]>,
    bits: Vec<u64>,
    /// The two binary masks of [`boundary_f`], packed, and their boundaries.
    packed: [packed::Packed; 2],
    boundaries: [packed::Boundary; 2],
    /// Up to `packed::GROUP` objects of each label map, packed ([`per_object_into`]).
    objects: [Vec<packed::Packed>; 2],
    /// One packed row of the void mask.
    void_row: Vec<u64>,
    sorted_ids: Vec<u32>,
    disk: Option<(u64, usize, usize, Disk)>,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch::default()
    }

    /// Ids must be distinct (an object cannot have two slots).
    fn check_ids(&mut self, ids: &[u32]) -> Result<()> {
        self.sorted_ids.clear();
        self.sorted_ids.extend_from_slice(ids);
        self.sorted_ids.sort_unstable();
        match self.sorted_ids.windows(2).find(|p| p[0] == p[1]) {
            Some(d) => Err(Error::param(format!(
                "object ids must be distinct; {} is given twice",
                d[0]
            ))),
            None => Ok(()),
        }
    }

    /// Point the lut at the ids' slots and count [gt, pred, both] pixels per slot. The
    /// lut stays set until [`Scratch::clear_lut`].
    fn count<T: Label>(&mut self, gt: &[T], pred: &[T], void: Option<&[u8]>, ids: &[u32]) {
        if self.lut.len() < T::RANGE {
            self.lut.resize(T::RANGE, 0);
        }
        for (i, &id) in ids.iter().enumerate() {
            if (id as usize) < T::RANGE {
                self.lut[id as usize] = i as u32 + 1;
            }
        }
        self.counts.clear();
        self.counts.resize(ids.len() + 1, [0; 3]);
        iou::count_labels(gt, pred, void, &self.lut[..T::RANGE], ids, &mut self.counts);
    }

    fn clear_lut<T: Label>(&mut self, ids: &[u32]) {
        for &id in ids {
            if (id as usize) < T::RANGE {
                self.lut[id as usize] = 0;
            }
        }
    }

    /// The disk for `radius` on `h x w` frames, rebuilt only when one of them changes.
    fn disk(&mut self, radius: f64, h: usize, w: usize) -> Result<&Disk> {
        let key = radius.to_bits();
        let stale =
            !matches!(&self.disk, Some((k, dh, dw, _)) if *k == key && *dh == h && *dw == w);
        if stale {
            self.disk = Some((key, h, w, Disk::new(radius, h, w)?));
        }
        match &self.disk {
            Some((_, _, _, d)) => Ok(d),
            None => Err(Error::param("internal: disk cache is empty")),
        }
    }
}

/// J and F of every object `ids[i]` between the label maps `gt` and `pred` (`h x w`,
/// row-major) into `out[i] = (J, F)`.
///
/// Object k is `labels == k`; `void` (nonzero = void) is removed from both masks for J
/// and set to background in both before the boundaries for F, as the official
/// `db_eval_iou` / `f_measure` do. `radius` is the boundary radius ([`bound_pix`]).
/// An object absent from both maps scores J = F = 1; ids beyond the label type's range
/// are absent. Ids must be distinct. Cost: two passes over each map plus work
/// proportional to the boundary lengths.
#[allow(clippy::too_many_arguments)]
pub fn per_object_into<T: Label>(
    gt: &[T],
    pred: &[T],
    h: usize,
    w: usize,
    ids: &[u32],
    void: Option<&[u8]>,
    radius: f64,
    scratch: &mut Scratch,
    out: &mut [(f64, f64)],
) -> Result<()> {
    check_frame(gt.len(), h, w, "gt")?;
    check_frame(pred.len(), h, w, "pred")?;
    if let Some(v) = void {
        check_frame(v.len(), h, w, "void")?;
    }
    if out.len() != ids.len() {
        return Err(Error::shape(format!(
            "output has room for {} objects; expected one per id ({})",
            out.len(),
            ids.len()
        )));
    }
    scratch.check_ids(ids)?;
    scratch.disk(radius, h, w)?;

    // From here on nothing fails: the lut is always reset at the end.
    let n = ids.len();
    scratch.count::<T>(gt, pred, void, ids);
    scratch.clear_lut::<T>(ids);

    // F per object through the binary-mask path: each group of objects packed to bit words
    // in one pass per map, then per object the bitset boundary and the packed matcher. The
    // byte-wise scan of both maps into per-object point lists that this replaced cost 1.5x
    // J + F of the binary path for one object (issue 15).
    let Scratch {
        counts,
        bits,
        disk,
        boundaries,
        objects,
        void_row,
        ..
    } = scratch;
    let Some((_, _, _, disk)) = disk.as_ref() else {
        return Err(Error::param("internal: disk cache is empty"));
    };
    for o in objects.iter_mut() {
        if o.len() < packed::GROUP {
            o.resize_with(packed::GROUP, Default::default);
        }
    }
    // (index in ids, label) of the objects present in either map; the others score F = 1
    // (no boundary on either side), as do ids beyond the label type.
    let mut group: Vec<(usize, T)> = Vec::with_capacity(packed::GROUP);
    let mut labels: Vec<T> = Vec::with_capacity(packed::GROUP);
    let mut i = 0;
    while i < n || !group.is_empty() {
        if i < n && group.len() < packed::GROUP {
            let [cg, cp, both] = counts[i + 1];
            out[i] = (
                jaccard_from_counts(both, cg + cp - both),
                f_measure_points(&[], &[], disk, bits),
            );
            if cg + cp > 0 {
                if let Some(k) = T::from_index(ids[i] as usize) {
                    group.push((i, k));
                }
            }
            i += 1;
            continue;
        }
        labels.clear();
        labels.extend(group.iter().map(|&(_, k)| k));
        for (map, o) in [gt, pred].into_iter().zip(objects.iter_mut()) {
            packed::pack_objects(map, h, w, &labels, void, o, void_row);
        }
        for (g, &(slot, _)) in group.iter().enumerate() {
            objects[0][g].boundary(&mut boundaries[0]);
            objects[1][g].boundary(&mut boundaries[1]);
            let [gt_b, pred_b] = &*boundaries;
            out[slot].1 = matcher::f_measure_packed(pred_b, gt_b, disk, bits);
        }
        group.clear();
    }
    Ok(())
}

/// J of every object `ids[i]` between the label maps `gt` and `pred` (flat, same length)
/// into `out[i]`: the J half of [`per_object_into`], one pass over the maps.
pub fn jaccard_per_object_into<T: Label>(
    gt: &[T],
    pred: &[T],
    ids: &[u32],
    void: Option<&[u8]>,
    scratch: &mut Scratch,
    out: &mut [f64],
) -> Result<()> {
    if gt.len() != pred.len() || void.is_some_and(|v| v.len() != gt.len()) {
        return Err(Error::shape(format!(
            "gt, pred and void must have the same number of pixels; got {}, {} and {}",
            gt.len(),
            pred.len(),
            void.map_or("none".to_string(), |v| v.len().to_string())
        )));
    }
    if out.len() != ids.len() {
        return Err(Error::shape(format!(
            "output has room for {} objects; expected one per id ({})",
            out.len(),
            ids.len()
        )));
    }
    scratch.check_ids(ids)?;
    scratch.count::<T>(gt, pred, void, ids);
    for (o, &[cg, cp, both]) in out.iter_mut().zip(&scratch.counts[1..]) {
        *o = jaccard_from_counts(both, cg + cp - both);
    }
    scratch.clear_lut::<T>(ids);
    Ok(())
}

/// [`per_object_into`] returning a new vector of `(J, F)` per id.
#[allow(clippy::too_many_arguments)]
pub fn per_object<T: Label>(
    gt: &[T],
    pred: &[T],
    h: usize,
    w: usize,
    ids: &[u32],
    void: Option<&[u8]>,
    radius: f64,
    scratch: &mut Scratch,
) -> Result<Vec<(f64, f64)>> {
    let mut out = vec![(0.0, 0.0); ids.len()];
    per_object_into(gt, pred, h, w, ids, void, radius, scratch, &mut out)?;
    Ok(out)
}

/// The DAVIS boundary F of the binary masks `pred != 0` against `gt != 0` (`h x w`),
/// `void` (nonzero) set to background in both first; `radius` from [`bound_pix`].
#[allow(clippy::too_many_arguments)]
pub fn boundary_f(
    gt: &[u8],
    pred: &[u8],
    h: usize,
    w: usize,
    void: Option<&[u8]>,
    radius: f64,
    scratch: &mut Scratch,
) -> Result<f64> {
    check_frame(gt.len(), h, w, "gt")?;
    check_frame(pred.len(), h, w, "pred")?;
    scratch.disk(radius, h, w)?;
    let Scratch {
        packed,
        boundaries,
        bits,
        disk,
        ..
    } = scratch;
    for ((mask, p), b) in [gt, pred]
        .into_iter()
        .zip(packed.iter_mut())
        .zip(boundaries.iter_mut())
    {
        p.pack(mask, h, w, void)?;
        p.boundary(b);
    }
    let [gt_b, pred_b] = &*boundaries;
    match disk.as_ref() {
        Some((_, _, _, disk)) => Ok(matcher::f_measure_packed(pred_b, gt_b, disk, bits)),
        None => Err(Error::param("internal: disk cache is empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::xorshift;

    /// A label map of a few overlapping rectangles with labels 1..=k.
    fn rect_labels<T: Label + From<u8>>(
        rnd: &mut impl FnMut() -> u64,
        h: usize,
        w: usize,
    ) -> Vec<T> {
        let mut m = vec![T::ZERO; h * w];
        for lab in 1..=(1 + rnd() % 12) as u8 {
            let (y0, x0) = ((rnd() % h as u64) as usize, (rnd() % w as u64) as usize);
            let y1 = y0 + (rnd() % (h - y0) as u64) as usize;
            let x1 = x0 + (rnd() % (w - x0) as u64) as usize;
            for y in y0..=y1 {
                for x in x0..=x1 {
                    m[y * w + x] = T::from(lab);
                }
            }
        }
        m
    }

    fn check_against_single_masks<T: Label + From<u8>>(seed: u64) {
        let mut rnd = xorshift(seed);
        let mut scratch = Scratch::new();
        let mut single = Scratch::new();
        for trial in 0..150 {
            // Widths past 128 give whole 64-pixel chunks (uniform and mixed) and a tail.
            let (h, w) = (1 + (rnd() % 30) as usize, 1 + (rnd() % 200) as usize);
            let gt: Vec<T> = rect_labels(&mut rnd, h, w);
            let pred: Vec<T> = rect_labels(&mut rnd, h, w);
            let void: Vec<u8> = (0..h * w).map(|_| u8::from(rnd() % 9 == 0)).collect();
            let void = (trial % 2 == 0).then_some(&void[..]);
            let radius = [1.0, 2.0, 2.5, 4.0][trial % 4];
            // More than `packed::GROUP` ids: objects packed in two groups.
            let ids: Vec<u32> = match trial % 5 {
                0 => vec![0, 3, 1, 7, 300_000],
                1 => (1..=12).rev().collect(),
                _ => vec![1, 2, 3, 4, 5],
            };
            let got = per_object(&gt, &pred, h, w, &ids, void, radius, &mut scratch).unwrap();
            let mut j_only = vec![0.0; ids.len()];
            jaccard_per_object_into(&gt, &pred, &ids, void, &mut scratch, &mut j_only).unwrap();
            assert!(got
                .iter()
                .zip(&j_only)
                .all(|(a, b)| a.0.to_bits() == b.to_bits()));
            for (i, &id) in ids.iter().enumerate() {
                let mg: Vec<u8> = gt
                    .iter()
                    .map(|&v| u8::from(v.index() == id as usize))
                    .collect();
                let mp: Vec<u8> = pred
                    .iter()
                    .map(|&v| u8::from(v.index() == id as usize))
                    .collect();
                let j = jaccard(&mg, &mp, void).unwrap();
                let f = boundary_f(&mg, &mp, h, w, void, radius, &mut single).unwrap();
                assert_eq!(got[i].0.to_bits(), j.to_bits(), "J trial {trial} id {id}");
                assert_eq!(got[i].1.to_bits(), f.to_bits(), "F trial {trial} id {id}");
            }
        }
    }

    #[test]
    fn per_object_equals_single_masks_u8() {
        check_against_single_masks::<u8>(99);
    }

    #[test]
    fn per_object_equals_single_masks_u16() {
        check_against_single_masks::<u16>(4242);
    }

    #[test]
    fn absent_objects_score_one_and_bad_input_is_rejected() {
        let mut s = Scratch::new();
        let z = vec![0u8; 12];
        let r = per_object(&z, &z, 3, 4, &[1, 2], None, 1.0, &mut s).unwrap();
        assert_eq!(r, vec![(1.0, 1.0), (1.0, 1.0)]);
        assert!(per_object(&z, &z, 3, 4, &[1, 1], None, 1.0, &mut s).is_err());
        assert!(per_object(&z, &z[..11], 3, 4, &[1], None, 1.0, &mut s).is_err());
        assert!(per_object(&z, &z, 3, 4, &[1], Some(&z[..5]), 1.0, &mut s).is_err());
        assert!(per_object(&z, &z, 3, 4, &[1], None, -1.0, &mut s).is_err());
        // the lut is clean after an error: a later call still sees object 1 only
        let mut g = z.clone();
        g[0] = 1;
        let r = per_object(&g, &z, 3, 4, &[1], None, 1.0, &mut s).unwrap();
        assert_eq!(r, vec![(0.0, 0.0)]);
    }
}
