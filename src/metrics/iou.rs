//! Region similarity J (`db_eval_iou`): |S & G| / |S | G| with void pixels removed from
//! both masks, and J = 1 when the union is empty.

use super::chunk::{all_zero as zero_any, run, uniform_run, RUN};
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

/// Byte lanes of the mask counting loop.
const LANES: usize = 32;

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
    let widen = |c: &[u8; LANES]| c.iter().map(|&c| u64::from(c)).sum::<u64>();
    // Per-lane u8 counters over at most 255 chunks, then widened: the inner loops are
    // plain byte compares/adds that compile to SIMD (20 us per 480p frame, against 157 us
    // for u32 sums per pixel).
    let block = LANES * 255;
    let mut start = 0;
    while start < gt.len() {
        let end = (start + block).min(gt.len());
        let (g, p) = (&gt[start..end], &pred[start..end]);
        let v = void.map(|v| &v[start..end]);
        let (mut ci, mut cu) = ([0u8; LANES], [0u8; LANES]);
        let full = g.len() - g.len() % LANES;
        for k in (0..full).step_by(LANES) {
            let (gc, pc) = (&g[k..k + LANES], &p[k..k + LANES]);
            match v {
                None => {
                    for l in 0..LANES {
                        let (a, b) = (gc[l] != 0, pc[l] != 0);
                        ci[l] += u8::from(a & b);
                        cu[l] += u8::from(a | b);
                    }
                }
                Some(v) => {
                    let vc = &v[k..k + LANES];
                    for l in 0..LANES {
                        let (a, b, keep) = (gc[l] != 0, pc[l] != 0, vc[l] == 0);
                        ci[l] += u8::from(a & b & keep);
                        cu[l] += u8::from((a | b) & keep);
                    }
                }
            }
        }
        inter += widen(&ci);
        union += widen(&cu);
        for k in full..g.len() {
            let keep = v.is_none_or(|v| v[k] == 0);
            let (a, b) = (g[k] != 0, p[k] != 0);
            inter += u64::from(a & b & keep);
            union += u64::from((a | b) & keep);
        }
        start = end;
    }
    Ok(jaccard_from_counts(inter, union))
}

/// Pixels per block of the label counting loop: all-0 blocks are skipped whole (128
/// executed the fewest instructions on an OSVOS 480p frame: 64 +3%, 256 +6%, 1024 +23%).
const BLOCK: usize = 128;

/// Per-slot pixel counts `[in gt, in pred, in both]` for label maps: `lut[label]` is the
/// slot of object `ids[slot - 1]` (0: not an object). Void pixels are not counted, nor
/// are labels that are not objects (slot 0 is not filled).
///
/// Blocks where both maps are 0 are skipped when 0 is not an object (most of a frame);
/// elsewhere pixels are counted as runs of equal (gt, pred) pairs: a uniform run of `RUN`
/// pixels at a time, so lookups happen once per run, not per pixel. A run that is not
/// uniform is counted per object with lane-wise compares ([`ObjectLanes`], up to
/// [`LANE_OBJECTS`] objects), else split word by word into runs.
pub(crate) fn count_labels<T: Label>(
    gt: &[T],
    pred: &[T],
    void: Option<&[u8]>,
    lut: &[u32],
    ids: &[u32],
    counts: &mut [[u64; 3]],
) {
    let zero_is_object = lut.first().is_some_and(|&s| s != 0);
    let mut lanes = ObjectLanes::new(ids);
    let mut runs = Runs {
        cur: (T::ZERO, T::ZERO),
        len: 0,
        lut,
        counts,
    };
    let mut start = 0;
    while start < gt.len() {
        let end = (start + BLOCK).min(gt.len());
        let (g, p) = (&gt[start..end], &pred[start..end]);
        let v = void.map(|v| &v[start..end]);
        start = end;
        if !zero_is_object && !any_nonzero_block(g) && !any_nonzero_block(p) {
            continue;
        }
        let lanes = lanes.as_mut();
        match v {
            Some(v) if zero_any(v) => count_block::<T, false>(g, p, v, &mut runs, lanes),
            Some(v) => count_block::<T, true>(g, p, v, &mut runs, lanes),
            None => count_block::<T, false>(g, p, &[], &mut runs, lanes),
        }
    }
    runs.flush();
    if let Some(l) = lanes.as_mut() {
        l.flush(runs.counts);
    }
}

/// Most objects [`ObjectLanes`] counts. Its cost grows by ~2 ns per object and
/// non-uniform run, the word-by-word split's does not: on the OSVOS gold-fish pair of
/// `benches/bench_metrics.py` (2010 non-uniform runs) counting took 32, 36, 40 and 48 us
/// for 1, 2, 3 and 5 objects, against 51 us for the split, so they break even near 6.
const LANE_OBJECTS: usize = 6;

/// Counts of the non-uniform runs, per object and per pixel lane: for each object, three
/// compare-and-add passes over the run's `RUN` lanes (SIMD compares, no branches), where
/// the word-by-word split pays a data-dependent loop exit per word.
/// Fixed-size arrays: it is built for every frame of an evaluation, so no allocation.
struct ObjectLanes<T> {
    /// Label and slot of each object (the first `n`).
    objects: [(T, usize); LANE_OBJECTS],
    n: usize,
    /// `[gt, pred, both]` lane counters per object; each run adds at most 1 per lane.
    acc: [[[u8; RUN]; 3]; LANE_OBJECTS],
    /// Runs added since the last flush (at most 255: the counters are bytes).
    pending: u32,
}

impl<T: Label> ObjectLanes<T> {
    fn new(ids: &[u32]) -> Option<ObjectLanes<T>> {
        if ids.len() > LANE_OBJECTS {
            return None;
        }
        let mut lanes = ObjectLanes {
            objects: [(T::ZERO, 0); LANE_OBJECTS],
            n: 0,
            acc: [[[0; RUN]; 3]; LANE_OBJECTS],
            pending: 0,
        };
        // Ids beyond the label type have no pixels: their counts stay 0.
        for (i, &id) in ids.iter().enumerate() {
            if let Some(label) = T::from_index(id as usize) {
                lanes.objects[lanes.n] = (label, i + 1);
                lanes.n += 1;
            }
        }
        Some(lanes)
    }

    #[inline(always)]
    fn add_run(&mut self, g: &[T; RUN], p: &[T; RUN], counts: &mut [[u64; 3]]) {
        for (&(label, _), acc) in self.objects[..self.n].iter().zip(&mut self.acc) {
            let [ag, ap, ab] = acc;
            for j in 0..RUN {
                let (a, b) = (g[j] == label, p[j] == label);
                ag[j] += u8::from(a);
                ap[j] += u8::from(b);
                ab[j] += u8::from(a & b);
            }
        }
        self.pending += 1;
        if self.pending == u32::from(u8::MAX) {
            self.flush(counts);
        }
    }

    fn flush(&mut self, counts: &mut [[u64; 3]]) {
        for (&(_, slot), acc) in self.objects[..self.n].iter().zip(&mut self.acc) {
            for (c, lanes) in counts[slot].iter_mut().zip(acc.iter_mut()) {
                *c += lanes.iter().map(|&n| u64::from(n)).sum::<u64>();
                *lanes = [0; RUN];
            }
        }
        self.pending = 0;
    }
}

/// Is any value of `c` (at most `BLOCK` long) nonzero? Fixed-size folds for whole blocks.
#[inline(always)]
fn any_nonzero_block<T: Label>(c: &[T]) -> bool {
    match <&[T; BLOCK]>::try_from(c) {
        Ok(b) => T::any_nonzero(b),
        Err(_) => T::any_nonzero(c),
    }
}

/// The current run of equal (gt, pred) pairs and where it is added when it ends.
struct Runs<'a, T> {
    cur: (T, T),
    len: u64,
    lut: &'a [u32],
    counts: &'a mut [[u64; 3]],
}

impl<T: Label> Runs<'_, T> {
    #[inline(always)]
    fn push(&mut self, pair: (T, T), n: u64) {
        if pair == self.cur {
            self.len += n;
        } else {
            self.flush();
            self.cur = pair;
            self.len = n;
        }
    }

    fn flush(&mut self) {
        let (g, p) = self.cur;
        let (sg, sp) = (self.lut[g.index()] as usize, self.lut[p.index()] as usize);
        self.counts[sg][0] += self.len;
        self.counts[sp][1] += self.len;
        if g == p {
            self.counts[sg][2] += self.len;
        }
        self.len = 0;
    }
}

/// Count one block; with `VOID`, pixels where `v != 0` are left out.
#[inline(always)]
fn count_block<T: Label, const VOID: bool>(
    g: &[T],
    p: &[T],
    v: &[u8],
    runs: &mut Runs<'_, T>,
    mut lanes: Option<&mut ObjectLanes<T>>,
) {
    let n = g.len().min(p.len());
    let pixel = |runs: &mut Runs<'_, T>, j: usize| {
        if !VOID || v.get(j) == Some(&0) {
            runs.push((g[j], p[j]), 1);
        }
    };
    let mut i = 0;
    while i + RUN <= n {
        let free = !VOID || v.get(i..i + RUN).is_some_and(zero_any);
        if free && uniform_run(g, i) && uniform_run(p, i) {
            runs.push((g[i], p[i]), RUN as u64);
        } else if let (true, Some(l), Some(gr), Some(pr)) =
            (free, lanes.as_deref_mut(), run(g, i), run(p, i))
        {
            l.add_run(gr, pr, runs.counts);
        } else {
            let mut at = i;
            while at < i + RUN {
                let word_free = !VOID || v.get(at..at + T::PER_WORD).is_some_and(zero_any);
                match (word_free, T::word(g, at), T::word(p, at)) {
                    (true, Some(gw), Some(pw)) => {
                        // Lanes where the pair differs from the lane before: the runs
                        // of this word end there (lane 0 is compared by `push`).
                        let d = (gw ^ (gw << T::LANE_BITS)) | (pw ^ (pw << T::LANE_BITS));
                        let mut m = (((d & T::LOW) + T::LOW) | d) & T::HIGH & !T::LANE0;
                        let mut from = 0;
                        loop {
                            let to = if m == 0 {
                                T::PER_WORD
                            } else {
                                (m.trailing_zeros() / T::LANE_BITS) as usize
                            };
                            runs.push((g[at + from], p[at + from]), (to - from) as u64);
                            if m == 0 {
                                break;
                            }
                            m &= m - 1;
                            from = to;
                        }
                    }
                    _ => {
                        for j in at..at + T::PER_WORD {
                            pixel(runs, j);
                        }
                    }
                }
                at += T::PER_WORD;
            }
        }
        i += RUN;
    }
    for j in i..n {
        pixel(runs, j);
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
        for trial in 0..80 {
            // Long frames fill the lane counters past their 255-run flush.
            let n = if trial % 5 == 4 {
                20_000 + (rnd() % 20_000) as usize
            } else {
                (rnd() % 500) as usize
            };
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
            // More than LANE_OBJECTS ids (absent labels 10..) take the word-by-word split.
            let many = trial % 4 == 1;
            let ids: &[u32] = match (zero_is_object, many) {
                (true, false) => &[1, 2, 0],
                (false, false) => &[1, 2],
                (true, true) => &[1, 2, 0, 10, 11, 12, 13],
                (false, true) => &[1, 2, 10, 11, 12, 13, 14],
            };
            for (slot, &id) in ids.iter().enumerate().skip(2) {
                lut[id as usize] = slot as u32 + 1;
            }
            assert_eq!(ids.len() > LANE_OBJECTS, many);
            let mut counts = vec![[0u64; 3]; ids.len() + 1];
            count_labels(&g, &p, void, &lut, ids, &mut counts);
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
