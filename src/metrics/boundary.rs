//! DAVIS boundary maps, the dilation disk and the boundary scan of label maps.
//!
//! The official `f_measure` (davis2017-evaluation `davis2017/metrics.py`) builds two
//! full-frame boundary maps, dilates each with `cv2.dilate` and a
//! `skimage.morphology.disk(r)` kernel (r = 8 at 480p, 18 at 1080p), and counts the
//! boundary pixels of one map that fall inside the dilation of the other. Dilating the
//! whole frame costs 3-4 ms per object-frame at 480p (benches/bench_metrics.py) although
//! only a few thousand pixels are ever read back. Here:
//!
//! 1. the boundary pixels are listed rather than drawn: for a label map, one scan of the
//!    frame lists them ([`Point`]s, row-major) for every label at once: a pixel is on the
//!    boundary of label k when its 2x2 block (itself, east, south, south-east; replicated
//!    past the bottom and right edges, which is exactly `_seg2bmap`'s edge rule) is not
//!    uniform and contains k, and uniform 32-pixel runs are skipped with one SIMD fold.
//!    A binary mask is packed to bits first and its boundary taken with word XORs
//!    (`metrics/packed.rs`);
//! 2. "is some pixel of B within the disk around p" is answered with bitsets of B over
//!    its bounding box: two box probes settle most pixels, the rest test the disk row by
//!    row (`metrics/matcher.rs`).
//!
//! Everything is integer logic on exactly the reference's pixel sets, so P, R and F are
//! the reference's float64 values bit for bit.

use super::chunk::{all_zero, blocks_differ, for_each_nonuniform, zero_run, RUN};
use super::packed::{Boundary, Packed};
use super::Label;
use crate::error::{Error, Result};

/// Largest pixel radius accepted. The reference builds a dense `(2r+1)^2` kernel, so it
/// cannot run anywhere near this; it only keeps the float arithmetic of the kernel exact.
pub const MAX_RADIUS: f64 = 1.0e6;

/// Largest radius for which [`disk_matrix`] builds the dense kernel (8193 x 8193 bytes).
pub const MAX_DENSE_RADIUS: f64 = 4096.0;

/// A boundary pixel (row `y`, column `x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub y: u32,
    pub x: u32,
}

/// The DAVIS boundary radius in pixels.
///
/// `ceil(bound_th * sqrt(h^2 + w^2))` when `bound_th < 1` (480x854 -> 8, 1080x1920 -> 18),
/// else `bound_th` itself, which may then be non-integer. The value is a float because the
/// reference passes it on as one (`np.ceil` returns a float) and `disk()` of a non-integer
/// radius differs from `disk()` of its rounded value.
pub fn bound_pix(bound_th: f64, h: usize, w: usize) -> Result<f64> {
    if !bound_th.is_finite() || bound_th < 0.0 {
        return Err(Error::param(format!(
            "bound_th must be a finite number >= 0 (a fraction of the image diagonal when < 1, \
             a pixel radius when >= 1); got {bound_th}"
        )));
    }
    let r = if bound_th >= 1.0 {
        bound_th
    } else {
        // np.linalg.norm(shape): the int shape is cast to float, then sqrt(dot(x, x)).
        let (hf, wf) = (h as f64, w as f64);
        (bound_th * (hf * hf + wf * wf).sqrt()).ceil()
    };
    if r > MAX_RADIUS {
        return Err(Error::param(format!(
            "boundary radius must be at most {MAX_RADIUS} pixels; got {r} (bound_th = {bound_th})"
        )));
    }
    Ok(r)
}

/// The coordinates `np.arange(-r, r + 1)` that `skimage.morphology.disk(r)` uses on both
/// axes, reproduced with numpy's arithmetic: `n = ceil((r + 1) - (-r))` values,
/// `v[0] = -r`, `v[1] = -r + 1`, `v[i] = -r + i * (v[1] - v[0])`.
#[derive(Clone, Copy, Debug)]
struct Axis {
    start: f64,
    delta: f64,
    n: usize,
}

impl Axis {
    fn new(r: f64) -> Axis {
        let start = -r;
        let next = start + 1.0;
        // r <= MAX_RADIUS, so n fits easily.
        let n = ((r + 1.0) - start).ceil().max(0.0) as usize;
        Axis {
            start,
            delta: next - start,
            n,
        }
    }

    fn value(&self, i: usize) -> f64 {
        match i {
            0 => self.start,
            1 => self.start + 1.0,
            _ => self.start + i as f64 * self.delta,
        }
    }

    /// Index of the coordinate closest to 0 (the centre of each kernel row's run).
    fn centre(&self) -> usize {
        let guess = (-self.start).round().max(0.0) as usize;
        let lo = guess.saturating_sub(1);
        let hi = (guess + 1).min(self.n.saturating_sub(1));
        (lo..=hi)
            .min_by(|&a, &b| self.value(a).abs().total_cmp(&self.value(b).abs()))
            .unwrap_or(0)
    }
}

/// One row of the disk as an offset span: pixel `(y + dy, x + dx)` for `dx0 <= dx <= dx1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub dy: i64,
    pub dx0: i64,
    pub dx1: i64,
}

/// The dilation neighbourhood of `cv2.dilate(img, disk(r))` as row spans.
///
/// `cv2.dilate` sets `dst(p) = max over kernel cells k of src(p + k - anchor)` with the
/// anchor at `(n / 2, n / 2)`. For an integer radius the kernel is the symmetric disk
/// `x^2 + y^2 <= r^2`; for a non-integer radius skimage samples the half-integer-ish
/// grid `arange(-r, r + 1)` and the anchor sits off-centre (radius 2.5: offsets -2..=1 on
/// each axis), which is reproduced here exactly.
#[derive(Clone, Debug)]
pub struct Disk {
    radius: f64,
    size: usize,
    /// Non-empty rows, nearest to the centre first, clipped to offsets that can join two
    /// pixels of an `h x w` image.
    pub(crate) rows: Vec<Span>,
    pub(crate) dy_min: i64,
    pub(crate) dy_max: i64,
    pub(crate) dx_min: i64,
    pub(crate) dx_max: i64,
    /// Largest |dy| and |dx| of the neighbourhood.
    pub(crate) reach_y: i64,
    pub(crate) reach_x: i64,
    /// A box `(dy0, dy1, dx0, dx1)` inside the neighbourhood: the largest square
    /// `[-a, a]^2` it contains (None when it does not contain the centre).
    pub(crate) inner: Option<(i64, i64, i64, i64)>,
}

impl Disk {
    /// The neighbourhood for `radius` (a [`bound_pix`] result), for images of `h x w`.
    pub fn new(radius: f64, h: usize, w: usize) -> Result<Disk> {
        if !radius.is_finite() || !(0.0..=MAX_RADIUS).contains(&radius) {
            return Err(Error::param(format!(
                "disk radius must be a finite number in [0, {MAX_RADIUS}]; got {radius}"
            )));
        }
        let axis = Axis::new(radius);
        let n = axis.n;
        let anchor = n / 2;
        let rr = radius * radius;
        let cond = |yy: f64, j: usize| {
            let x = axis.value(j);
            x * x + yy <= rr
        };
        let jc = axis.centre();
        let max_dy = h.saturating_sub(1);
        let max_dx = w.saturating_sub(1) as i64;
        let mut rows = Vec::new();
        let i_lo = anchor.saturating_sub(max_dy);
        let i_hi = (anchor + max_dy).min(n.saturating_sub(1));
        for i in i_lo..=i_hi {
            let yv = axis.value(i);
            let yy = yv * yv;
            if !cond(yy, jc) {
                continue;
            }
            // x^2 is non-increasing on [0, jc] and non-decreasing on [jc, n): binary search
            // the first and the last index where the condition holds.
            let (mut lo, mut hi) = (0usize, jc);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if cond(yy, mid) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            let j0 = lo;
            let (mut lo, mut hi) = (jc, n - 1);
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if cond(yy, mid) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            let j1 = lo;
            let dx0 = (j0 as i64 - anchor as i64).max(-max_dx);
            let dx1 = (j1 as i64 - anchor as i64).min(max_dx);
            if dx0 <= dx1 {
                rows.push(Span {
                    dy: i as i64 - anchor as i64,
                    dx0,
                    dx1,
                });
            }
        }
        rows.sort_by_key(|s| s.dy.abs());
        let dy_min = rows.iter().map(|s| s.dy).min().unwrap_or(0);
        let dy_max = rows.iter().map(|s| s.dy).max().unwrap_or(0);
        let dx_min = rows.iter().map(|s| s.dx0).min().unwrap_or(0);
        let dx_max = rows.iter().map(|s| s.dx1).max().unwrap_or(0);
        // The inner square [-a, a]^2: every row |dy| <= a exists and spans [-a, a].
        // `reach[|dy|]` = the smallest half-width over rows +-dy, and both must exist.
        let half = dy_max.max(-dy_min).max(0) as usize;
        let mut reach = vec![i64::MAX; half + 1];
        let mut present = vec![0u8; half + 1];
        for s in &rows {
            let k = s.dy.unsigned_abs() as usize;
            reach[k] = reach[k].min((-s.dx0).min(s.dx1));
            present[k] += if s.dy == 0 { 2 } else { 1 };
        }
        let mut inner = None;
        let mut lowest = i64::MAX;
        for (a, (&r, &p)) in reach.iter().zip(&present).enumerate() {
            lowest = lowest.min(if p == 2 { r } else { -1 });
            if lowest < a as i64 {
                break;
            }
            let a = a as i64;
            inner = Some((-a, a, -a, a));
        }
        Ok(Disk {
            radius,
            size: n,
            inner,
            rows,
            dy_min,
            dy_max,
            dx_min,
            dx_max,
            reach_y: dy_min.abs().max(dy_max.abs()),
            reach_x: dx_min.abs().max(dx_max.abs()),
        })
    }

    /// The radius this disk was built for.
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// Side of skimage's kernel array (`disk(r).shape[0]`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The row spans, nearest row first.
    pub fn rows(&self) -> &[Span] {
        &self.rows
    }
}

/// `skimage.morphology.disk(radius)` as a dense `n x n` 0/1 kernel (row-major), with `n`.
pub fn disk_matrix(radius: f64) -> Result<(usize, Vec<u8>)> {
    if !radius.is_finite() || !(0.0..=MAX_DENSE_RADIUS).contains(&radius) {
        return Err(Error::param(format!(
            "disk radius must be a finite number in [0, {MAX_DENSE_RADIUS}]; got {radius}"
        )));
    }
    let axis = Axis::new(radius);
    let n = axis.n;
    let rr = radius * radius;
    let mut out = vec![0u8; n * n];
    for (i, row) in out.chunks_exact_mut(n.max(1)).enumerate().take(n) {
        let yv = axis.value(i);
        let yy = yv * yv;
        for (j, cell) in row.iter_mut().enumerate() {
            let xv = axis.value(j);
            *cell = u8::from(xv * xv + yy <= rr);
        }
    }
    Ok((n, out))
}

/// The key of a pixel on a void pixel: never an object.
pub(crate) const VOID_KEY: u32 = u32::MAX;

/// One row pair of a scan: rows `y` and `y + 1` (the last row paired with itself), their
/// void rows, whether those are void-free, and the columns `lo..hi` worth looking at.
struct RowPair<'a, T> {
    y: usize,
    a: &'a [T],
    b: &'a [T],
    va: Option<&'a [u8]>,
    vb: Option<&'a [u8]>,
    void_free: bool,
    lo: usize,
    hi: usize,
}

/// `r[at..at + 4 * RUN]` is all 0 (a fixed-size fold, which compiles to straight-line
/// SIMD without a remainder loop).
#[inline(always)]
fn wide_block_is_zero<T: Label>(r: &[T], at: usize) -> bool {
    r.get(at..at + 4 * RUN)
        .and_then(|c| <&[T; 4 * RUN]>::try_from(c).ok())
        .is_some_and(|c| !T::any_nonzero(c))
}

#[inline(always)]
fn block_is_zero<T: Label>(r: &[T], at: usize) -> bool {
    r.get(at..at + RUN)
        .and_then(|c| <&[T; RUN]>::try_from(c).ok())
        .is_some_and(|c| !T::any_nonzero(c))
}

/// Walk the row pairs of `data` that can hold a wanted boundary pixel.
///
/// When label 0 is not wanted (`zero_wanted == false`), a row pair that is all 0 is
/// skipped, void or not (its blocks only hold the keys 0 and void), and so are the all-0
/// margins left and right of the labels: on a typical mask that leaves a few percent of
/// the frame for the run loop. A uniform void-free row pair is skipped in any case.
fn for_each_row_pair<'a, T: Label>(
    data: &'a [T],
    h: usize,
    w: usize,
    void: Option<&'a [u8]>,
    zero_wanted: bool,
    mut f: impl FnMut(RowPair<'a, T>),
) {
    let row = |y: usize| &data[y * w..(y + 1) * w];
    // Per row: the columns outside which it is 0 (in RUN blocks; None for an all-0 row),
    // found by scanning in from both ends, computed once per row and carried to the next
    // row pair.
    let extent = |r: &[T]| -> Option<(usize, usize)> {
        let mut lo = 0;
        while lo + 4 * RUN <= w && wide_block_is_zero(r, lo) {
            lo += 4 * RUN;
        }
        while lo + RUN <= w && block_is_zero(r, lo) {
            lo += RUN;
        }
        if lo + RUN > w && !T::any_nonzero(&r[lo..]) {
            return None;
        }
        let mut hi = w;
        while hi >= lo + 4 * RUN && wide_block_is_zero(r, hi - 4 * RUN) {
            hi -= 4 * RUN;
        }
        while hi >= lo + RUN && block_is_zero(r, hi - RUN) {
            hi -= RUN;
        }
        Some((lo, hi))
    };
    let mut ext_a = extent(row(0));
    for y in 0..h {
        let yb = if y + 1 < h { y + 1 } else { y };
        let (a, b) = (row(y), row(yb));
        let ext_b = if yb == y { ext_a } else { extent(b) };
        let both_zero = ext_a.is_none() && ext_b.is_none();
        let ext = match (ext_a, ext_b) {
            (Some(p), Some(q)) => (p.0.min(q.0), p.1.max(q.1)),
            (Some(p), None) | (None, Some(p)) => p,
            (None, None) => (0, 0),
        };
        ext_a = ext_b;
        if both_zero && !zero_wanted {
            continue;
        }
        let (va, vb) = match void {
            Some(v) => (Some(&v[y * w..(y + 1) * w]), Some(&v[yb * w..(yb + 1) * w])),
            None => (None, None),
        };
        let void_free = va.is_none_or(all_zero) && vb.is_none_or(all_zero);
        if void_free && both_zero {
            continue;
        }
        let (lo, hi) = if zero_wanted {
            (0, w)
        } else {
            // Pixel lo - 1 sees column lo as its east neighbour.
            (ext.0.saturating_sub(1), ext.1)
        };
        // A uniform row pair without 0 margins (inside a full-frame mask) has no boundary.
        if void_free && lo == 0 && hi == w && a == b && a[..w - 1] == a[1..] {
            continue;
        }
        f(RowPair {
            y,
            a,
            b,
            va,
            vb,
            void_free,
            lo,
            hi,
        });
    }
}

/// Call `emit(key, y, x)` for every boundary pixel of every key of the image `data`
/// (`h x w`, row-major), where `key(v)` maps a pixel value to its region key and void
/// pixels (`void[i] != 0`) get [`VOID_KEY`]. Emission is row-major; a pixel is emitted
/// once per distinct key of its 2x2 block. `zero_wanted == false` promises that the
/// caller ignores the key of label 0 (and void), which lets the scan skip background.
///
/// This is `_seg2bmap(key == k)` for all k at once: `b = m^E | m^S | m^SE` where the
/// neighbours past the last row / column are copies of the last row / column, which
/// reproduces the reference's overrides (`b[-1, :] = m ^ E`, `b[:, -1] = m ^ S`,
/// `b[-1, -1] = 0`).
pub(crate) fn scan_boundaries<T, K, E>(
    data: &[T],
    h: usize,
    w: usize,
    void: Option<&[u8]>,
    zero_wanted: bool,
    key: K,
    mut emit: E,
) where
    T: Label,
    K: Fn(T) -> u32,
    E: FnMut(u32, u32, u32),
{
    debug_assert_eq!(data.len(), h * w);
    for_each_row_pair(data, h, w, void, zero_wanted, |rp| {
        let RowPair {
            y, a, b, va, vb, ..
        } = rp;
        let k = |row: &[T], vrow: Option<&[u8]>, x: usize| -> u32 {
            match vrow {
                Some(v) if v[x] != 0 => VOID_KEY,
                _ => key(row[x]),
            }
        };
        let mut pixel = |x: usize| {
            let x1 = if x + 1 < w { x + 1 } else { x };
            let k00 = k(a, va, x);
            let k01 = k(a, va, x1);
            let k10 = k(b, vb, x);
            let k11 = k(b, vb, x1);
            if k00 == k01 && k00 == k10 && k00 == k11 {
                return;
            }
            let (yy, xx) = (y as u32, x as u32);
            emit(k00, yy, xx);
            if k01 != k00 {
                emit(k01, yy, xx);
            }
            if k10 != k00 && k10 != k01 {
                emit(k10, yy, xx);
            }
            if k11 != k00 && k11 != k01 && k11 != k10 {
                emit(k11, yy, xx);
            }
        };
        scan_runs(&rp, w, |x, whole_run| {
            if whole_run {
                // Only pixels whose raw 2x2 block differs can be on a boundary.
                for_each_nonuniform(a, b, x, &mut pixel);
            } else {
                pixel(x);
            }
        });
    });
}

/// The run loop shared by the scans: `visit(x, true)` for every void-free run of `RUN`
/// pixels from `x` whose blocks are not all uniform, `visit(x, false)` for each pixel of
/// runs touching void and of the tail.
#[inline(always)]
fn scan_runs<T: Label>(rp: &RowPair<'_, T>, w: usize, mut visit: impl FnMut(usize, bool)) {
    let (va0, vb0) = (rp.va.unwrap_or(&[]), rp.vb.unwrap_or(&[]));
    let mut x = rp.lo;
    // A run [x, x + RUN) also reads column x + RUN, which must exist.
    while x < rp.hi && x + RUN < w {
        let void_here =
            !(rp.void_free || (zero_run::<{ RUN + 1 }>(va0, x) && zero_run::<{ RUN + 1 }>(vb0, x)));
        if void_here {
            for xi in x..x + RUN {
                visit(xi, false);
            }
        } else if blocks_differ(rp.a, rp.b, x) {
            visit(x, true);
        }
        x += RUN;
    }
    for xi in x..rp.hi {
        visit(xi, false);
    }
}

/// Boundary pixels of the binary mask `mask != 0` (minus void), row-major, into `out`.
///
/// A one-off call; [`super::boundary_f`] keeps the packing buffers in its `Scratch`.
pub fn mask_boundary_points(
    mask: &[u8],
    h: usize,
    w: usize,
    void: Option<&[u8]>,
    out: &mut Vec<Point>,
) -> Result<()> {
    let (mut packed, mut boundary) = (Packed::default(), Boundary::default());
    packed.pack(mask, h, w, void)?;
    packed.boundary(&mut boundary);
    out.clear();
    boundary.for_each_point(|y, x| out.push(Point { y, x }));
    Ok(())
}

/// The DAVIS boundary map (`_seg2bmap`) of `mask != 0` as 0/1 bytes in `out` (`h * w`).
pub fn boundary_map(mask: &[u8], h: usize, w: usize, out: &mut [u8]) -> Result<()> {
    check_frame(mask.len(), h, w, "mask")?;
    check_frame(out.len(), h, w, "output")?;
    out.fill(0);
    let mut pts = Vec::new();
    mask_boundary_points(mask, h, w, None, &mut pts)?;
    for p in pts {
        out[p.y as usize * w + p.x as usize] = 1;
    }
    Ok(())
}

pub(crate) fn check_frame(len: usize, h: usize, w: usize, what: &str) -> Result<()> {
    if h == 0 || w == 0 {
        return Err(Error::shape(format!(
            "boundary maps need at least one row and one column; got a {h}x{w} frame"
        )));
    }
    if h > u32::MAX as usize || w > u32::MAX as usize {
        return Err(Error::shape(format!(
            "frames are limited to 2^32 - 1 rows and columns; got {h}x{w}"
        )));
    }
    match h.checked_mul(w) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::shape(format!(
            "{what} has {len} pixels; expected {h}x{w} = {}",
            h.saturating_mul(w)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::matcher::{f_from_pr, f_measure_points};
    use crate::metrics::Scratch;

    /// Tiny deterministic generator for the randomized comparisons.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// `_seg2bmap` written the dense way, straight from the reference.
    fn naive_bmap(m: &[bool], h: usize, w: usize) -> Vec<bool> {
        let at = |y: usize, x: usize| if y < h && x < w { m[y * w + x] } else { false };
        let mut b = vec![false; h * w];
        for y in 0..h {
            for x in 0..w {
                let s = at(y, x);
                b[y * w + x] = (s ^ at(y, x + 1)) | (s ^ at(y + 1, x)) | (s ^ at(y + 1, x + 1));
            }
        }
        for x in 0..w {
            b[(h - 1) * w + x] = m[(h - 1) * w + x] ^ at(h - 1, x + 1);
        }
        for y in 0..h {
            b[y * w + w - 1] = m[y * w + w - 1] ^ at(y + 1, w - 1);
        }
        b[h * w - 1] = false;
        b
    }

    /// `cv2.dilate(b, disk(r))` the dense way: dst(p) = any src(p + k - anchor).
    fn naive_dilate(b: &[bool], h: usize, w: usize, r: f64) -> Vec<bool> {
        let (n, k) = disk_matrix(r).unwrap();
        let a = (n / 2) as i64;
        let mut out = vec![false; h * w];
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                'k: for i in 0..n as i64 {
                    for j in 0..n as i64 {
                        if k[(i * n as i64 + j) as usize] == 0 {
                            continue;
                        }
                        let (sy, sx) = (y + i - a, x + j - a);
                        let inside = sy >= 0 && sx >= 0 && sy < h as i64 && sx < w as i64;
                        if inside && b[(sy * w as i64 + sx) as usize] {
                            out[(y * w as i64 + x) as usize] = true;
                            break 'k;
                        }
                    }
                }
            }
        }
        out
    }

    fn naive_f(fg: &[bool], gt: &[bool], h: usize, w: usize, r: f64) -> f64 {
        let fb = naive_bmap(fg, h, w);
        let gb = naive_bmap(gt, h, w);
        let fd = naive_dilate(&fb, h, w, r);
        let gd = naive_dilate(&gb, h, w, r);
        let n_fg = fb.iter().filter(|&&v| v).count();
        let n_gt = gb.iter().filter(|&&v| v).count();
        let fm = (0..h * w).filter(|&i| fb[i] && gd[i]).count();
        let gm = (0..h * w).filter(|&i| gb[i] && fd[i]).count();
        let (p, rc) = match (n_fg, n_gt) {
            (0, 0) => (1.0, 1.0),
            (0, _) => (1.0, 0.0),
            (_, 0) => (0.0, 1.0),
            _ => (fm as f64 / n_fg as f64, gm as f64 / n_gt as f64),
        };
        f_from_pr(p, rc)
    }

    fn random_mask(rng: &mut Rng, h: usize, w: usize) -> Vec<u8> {
        let mut m = vec![0u8; h * w];
        match rng.below(4) {
            0 => {} // empty
            1 => m.fill(7),
            2 => {
                for v in m.iter_mut() {
                    *v = u8::from(rng.below(3) == 0) * 255;
                }
            }
            _ => {
                for _ in 0..1 + rng.below(3) {
                    let (y0, x0) = (rng.below(h), rng.below(w));
                    let (y1, x1) = (y0 + rng.below(h - y0), x0 + rng.below(w - x0));
                    for y in y0..=y1 {
                        for x in x0..=x1 {
                            m[y * w + x] = 1;
                        }
                    }
                }
            }
        }
        m
    }

    #[test]
    fn bound_pix_matches_davis_table() {
        assert_eq!(bound_pix(0.008, 480, 854).unwrap(), 8.0);
        assert_eq!(bound_pix(0.008, 480, 910).unwrap(), 9.0);
        assert_eq!(bound_pix(0.008, 720, 1280).unwrap(), 12.0);
        assert_eq!(bound_pix(0.008, 1080, 1920).unwrap(), 18.0);
        assert_eq!(bound_pix(2.5, 10, 10).unwrap(), 2.5);
        assert!(bound_pix(-0.1, 10, 10).is_err());
        assert!(bound_pix(f64::NAN, 10, 10).is_err());
        assert!(bound_pix(2e6, 10, 10).is_err());
    }

    #[test]
    fn disk_integer_radius_is_the_euclidean_disk() {
        for r in 0..12 {
            let (n, k) = disk_matrix(r as f64).unwrap();
            assert_eq!(n, 2 * r + 1);
            for i in 0..n {
                for j in 0..n {
                    let (dy, dx) = (i as i64 - r as i64, j as i64 - r as i64);
                    let inside = dy * dy + dx * dx <= (r * r) as i64;
                    assert_eq!(k[i * n + j] == 1, inside, "r={r} ({dy},{dx})");
                }
            }
        }
    }

    #[test]
    fn disk_spans_match_dense_kernel() {
        for &r in &[0.0, 1.0, 1.3, 2.5, 3.0, 7.837, 8.0, 9.5, 18.0] {
            let (n, k) = disk_matrix(r).unwrap();
            let d = Disk::new(r, 1000, 1000).unwrap();
            assert_eq!(d.size(), n);
            let a = (n / 2) as i64;
            let mut from_spans = vec![0u8; n * n];
            for s in d.rows() {
                for dx in s.dx0..=s.dx1 {
                    from_spans[((s.dy + a) * n as i64 + dx + a) as usize] = 1;
                }
            }
            assert_eq!(from_spans, k, "r={r}");
        }
    }

    #[test]
    fn inner_square_is_inside_the_disk() {
        for &r in &[0.0, 1.0, 1.3, 2.5, 3.0, 7.837, 8.0, 9.5, 18.0, 50.0] {
            let d = Disk::new(r, 1000, 1000).unwrap();
            let inside = |dy: i64, dx: i64| {
                d.rows()
                    .iter()
                    .any(|s| s.dy == dy && s.dx0 <= dx && dx <= s.dx1)
            };
            let (y0, y1, x0, x1) = d.inner.unwrap();
            assert!(
                (y0..=y1).all(|dy| (x0..=x1).all(|dx| inside(dy, dx))),
                "r={r}"
            );
            // maximal: the next square out is not inside
            let a = y1 + 1;
            let grows = (-a..=a).all(|dy| (-a..=a).all(|dx| inside(dy, dx)));
            assert!(!grows, "r={r}");
        }
        // integer radius 8: 5^2 + 5^2 <= 64 < 6^2 + 6^2
        assert_eq!(
            Disk::new(8.0, 100, 100).unwrap().inner,
            Some((-5, 5, -5, 5))
        );
        // huge radii are clipped to the image and stay cheap to build
        let d = Disk::new(1.0e6, 300, 400).unwrap();
        assert_eq!(d.inner, Some((-299, 299, -299, 299)));
    }

    #[test]
    fn disk_is_clipped_to_the_image() {
        let d = Disk::new(50.0, 3, 5).unwrap();
        assert!(d
            .rows()
            .iter()
            .all(|s| s.dy.abs() <= 2 && s.dx0 >= -4 && s.dx1 <= 4));
        assert_eq!(d.rows().len(), 5);
    }

    #[test]
    fn boundary_map_matches_dense_seg2bmap() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        for case in 0..400 {
            // Past 64 columns the packed rows have whole all-zero chunks and a tail word;
            // past 256 bytes the frame has all-zero margins to skip.
            let (h, w) = match case % 2 {
                0 => (1 + rng.below(40), 1 + rng.below(70)),
                _ => (1 + rng.below(60), 1 + rng.below(300)),
            };
            let m = random_mask(&mut rng, h, w);
            let mut out = vec![0u8; h * w];
            boundary_map(&m, h, w, &mut out).unwrap();
            let mb: Vec<bool> = m.iter().map(|&v| v != 0).collect();
            let expect = naive_bmap(&mb, h, w);
            let got: Vec<bool> = out.iter().map(|&v| v == 1).collect();
            assert_eq!(got, expect, "{h}x{w}");
        }
    }

    #[test]
    fn f_matches_dense_reference() {
        let mut rng = Rng(12345);
        for case in 0..300 {
            // Wider frames put the windows' words and the packed rows' margins to work.
            let (h, w) = match case % 3 {
                2 => (1 + rng.below(50), 60 + rng.below(200)),
                _ => (1 + rng.below(30), 1 + rng.below(50)),
            };
            let fg = random_mask(&mut rng, h, w);
            let gt = random_mask(&mut rng, h, w);
            let r = [0.0, 1.0, 2.0, 2.5, 3.0, 4.7][rng.below(6)];
            assert_f_matches_dense(&fg, &gt, h, w, r);
        }
    }

    /// F from boundary points and the disk equals the dense full-frame reference, bit for bit.
    fn assert_f_matches_dense(fg: &[u8], gt: &[u8], h: usize, w: usize, r: f64) {
        let disk = Disk::new(r, h, w).unwrap();
        let (mut pf, mut pg, mut buf) = (Vec::new(), Vec::new(), Vec::new());
        mask_boundary_points(fg, h, w, None, &mut pf).unwrap();
        mask_boundary_points(gt, h, w, None, &mut pg).unwrap();
        let got = f_measure_points(&pf, &pg, &disk, &mut buf);
        let fb: Vec<bool> = fg.iter().map(|&v| v != 0).collect();
        let gb: Vec<bool> = gt.iter().map(|&v| v != 0).collect();
        let expect = naive_f(&fb, &gb, h, w, r);
        assert_eq!(got.to_bits(), expect.to_bits(), "points: {h}x{w} r={r}");
        // The packed path of `boundary_f` (bitset boundaries, word-aligned windows).
        let packed = crate::metrics::boundary_f(gt, fg, h, w, None, r, &mut Scratch::new());
        assert_eq!(
            packed.unwrap().to_bits(),
            expect.to_bits(),
            "packed: {h}x{w} r={r}"
        );
    }

    #[test]
    fn wide_disks_match_dense_reference() {
        // Radii >= 32 make spans wider than one 64-bit probe.
        let mut rng = Rng(31337);
        for _ in 0..12 {
            let (h, w) = (20 + rng.below(25), 30 + rng.below(60));
            let fg = random_mask(&mut rng, h, w);
            let gt = random_mask(&mut rng, h, w);
            let r = [32.0, 33.5, 40.0][rng.below(3)];
            assert_f_matches_dense(&fg, &gt, h, w, r);
        }
    }

    #[test]
    fn void_pixels_are_background_for_boundaries() {
        let mut rng = Rng(777);
        for _ in 0..150 {
            let (h, w) = (1 + rng.below(40), 1 + rng.below(200));
            let m = random_mask(&mut rng, h, w);
            let v = random_mask(&mut rng, h, w);
            let mut pts = Vec::new();
            mask_boundary_points(&m, h, w, Some(&v), &mut pts).unwrap();
            let masked: Vec<bool> = (0..h * w).map(|i| m[i] != 0 && v[i] == 0).collect();
            let expect = naive_bmap(&masked, h, w);
            let mut got = vec![false; h * w];
            for p in &pts {
                got[p.y as usize * w + p.x as usize] = true;
            }
            assert_eq!(got, expect);
        }
    }

    #[test]
    fn shapes_are_checked() {
        let mut out = Vec::new();
        assert!(mask_boundary_points(&[0; 6], 2, 4, None, &mut out).is_err());
        assert!(mask_boundary_points(&[], 0, 4, None, &mut out).is_err());
        assert!(mask_boundary_points(&[0; 8], 2, 4, Some(&[0; 7]), &mut out).is_err());
    }
}
