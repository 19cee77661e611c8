//! Polygons and boxes to runs, pixel for pixel as pycocotools' `rleFrPoly` / `rleFrBbox`.
//!
//! pycocotools scales the vertices by 5 and rounds them (`(int)(5 * v + .5)`, truncating
//! toward zero), walks every edge one upsampled step at a time along its major axis
//! (rounding the minor coordinate the same way, from the edge's lower end), and keeps the
//! points where the x coordinate crosses a pixel centre (`x = 5 * i + 2` on the fine grid).
//! Each such crossing toggles the column at the first pixel centre below the edge; sorted,
//! these toggles are the runs (even-odd fill, so self-overlaps cancel).
//!
//! Edges are walked the same way here, with the same floating-point operations, so the
//! output bytes are identical. What differs is the cost of far-away geometry: pycocotools
//! stores every upsampled point (5 per pixel of perimeter, wherever the polygon is), so a
//! vertex at x = 1e8 costs gigabytes; here an edge longer than [`LINEAR`] steps is only
//! visited where its x coordinate lies inside the image (a binary search on the monotone
//! rounded coordinate finds each crossing), so time and memory are bounded by the vertex
//! count times the image width.

use super::{check_size, Rle};
use crate::error::{try_reserve, Error, Result};

/// The upsampling factor of pycocotools' rasteriser.
const SCALE: f64 = 5.0;

/// Edges up to this many upsampled steps are walked step by step; longer ones by search.
const LINEAR: i64 = 4096;

/// Largest accepted |5 * coordinate|: keeps every edge length inside an `i32` as in C.
const COORD_LIMIT: f64 = (1u64 << 30) as f64;

/// The C conversion `(int)x` as compiled for x86-64 (`cvttsd2si`): truncation toward
/// zero, and `i32::MIN` for NaN and out-of-range values.
#[inline]
fn c_int(x: f64) -> i32 {
    if x > -2_147_483_649.0 && x < 2_147_483_648.0 {
        x as i32
    } else {
        i32::MIN
    }
}

/// One upsampled boundary point.
#[derive(Clone, Copy, Debug)]
struct Pt {
    u: i64,
    v: i64,
}

/// One edge as pycocotools walks it (after its `flip`).
struct Edge {
    xs: i64,
    ys: i64,
    dx: i64,
    dy: i64,
    flip: bool,
    s: f64,
}

impl Edge {
    fn new(a: (i64, i64), b: (i64, i64)) -> Edge {
        let (mut xs, mut ys, mut xe, mut ye) = (a.0, a.1, b.0, b.1);
        let dx = (xe - xs).abs();
        let dy = (ys - ye).abs();
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        // 0/0 = NaN for a zero-length edge, exactly as in C.
        let s = if dx >= dy {
            (ye - ys) as f64 / dx as f64
        } else {
            (xe - xs) as f64 / dy as f64
        };
        Edge {
            xs,
            ys,
            dx,
            dy,
            flip,
            s,
        }
    }

    /// Steps after the first point (the edge has `steps() + 1` points).
    fn steps(&self) -> i64 {
        self.dx.max(self.dy)
    }

    /// Point `d` (0 = the edge's start vertex in polygon order).
    #[inline]
    fn at(&self, d: i64) -> Pt {
        let n = self.steps();
        let t = if self.flip { n - d } else { d };
        let r = |base: i64| i64::from(c_int(base as f64 + self.s * t as f64 + 0.5));
        if self.dx >= self.dy {
            Pt {
                u: t + self.xs,
                v: r(self.ys),
            }
        } else {
            Pt {
                u: r(self.xs),
                v: t + self.ys,
            }
        }
    }
}

/// Collects the column toggles of consecutive boundary points.
struct Toggles {
    h: u64,
    w: u64,
    out: Vec<u64>,
    /// The allocator refused to grow `out` (at most one toggle per column an edge crosses,
    /// so a polygon across a very wide image can ask for gigabytes): reported as
    /// [`Error::Memory`] after the walk instead of aborting.
    refused: bool,
}

impl Toggles {
    /// pycocotools' test for the step from `p` to `q`: x crosses a pixel centre inside
    /// the image; y is the first pixel centre at or below the step, clamped to [0, h].
    #[inline]
    fn step(&mut self, p: Pt, q: Pt) {
        if self.refused || q.u == p.u {
            return;
        }
        let xd = (if q.u < p.u { q.u } else { q.u - 1 }) as f64;
        let xd = (xd + 0.5) / SCALE - 0.5;
        if xd.floor() != xd || xd < 0.0 || xd > (self.w - 1) as f64 {
            return;
        }
        let yd = q.v.min(p.v) as f64;
        let mut yd = (yd + 0.5) / SCALE - 0.5;
        if yd < 0.0 {
            yd = 0.0;
        } else if yd > self.h as f64 {
            yd = self.h as f64;
        }
        let y = yd.ceil() as u64;
        if self.out.len() == self.out.capacity()
            && self.out.try_reserve(self.out.len().max(64)).is_err()
        {
            self.refused = true;
            return;
        }
        self.out.push(xd as u64 * self.h + y);
    }
}

/// The smallest `d` in `lo..=hi` with `pred(d)` (`pred` false then true), or `hi + 1`.
fn first_true(mut lo: i64, mut hi: i64, pred: impl Fn(i64) -> bool) -> i64 {
    let end = hi + 1;
    if lo > hi {
        return end;
    }
    if !pred(hi) {
        return end;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Every step of `e` that can toggle a column of an image `w` pixels wide, in order.
fn walk(e: &Edge, w: u64, t: &mut Toggles, linear: i64) {
    let n = e.steps();
    if n <= linear {
        let mut p = e.at(0);
        for d in 1..=n {
            let q = e.at(d);
            t.step(p, q);
            p = q;
        }
        return;
    }
    // A step can only count when its end point has 2 <= u <= 5w - 2 (see `Toggles::step`),
    // and u is monotone along the edge: visit only the steps where u changes inside that
    // window, each found by binary search.
    let (lo, hi) = (2i64, 5 * w as i64 - 2);
    let u = |d: i64| e.at(d).u;
    let rising = u(n) >= u(0);
    let inside = |d: i64| if rising { u(d) >= lo } else { u(d) <= hi };
    let past = |d: i64| if rising { u(d) > hi } else { u(d) < lo };
    let mut d = first_true(1, n, inside);
    while d <= n && !past(d) {
        let (p, q) = (e.at(d - 1), e.at(d));
        t.step(p, q);
        d = first_true(d + 1, n, |e2| u(e2) != q.u);
    }
}

/// The runs of a polygon `xy = [x0, y0, x1, y1, ...]` (pixel coordinates, an odd trailing
/// value ignored) in an `h x w` image, pycocotools' `rleFrPoly`.
pub fn from_polygon(xy: &[f64], h: usize, w: usize) -> Result<Rle> {
    rasterize(xy, h, w, LINEAR)
}

/// [`from_polygon`] walking edges of up to `linear` steps one step at a time.
fn rasterize(xy: &[f64], h: usize, w: usize, linear: i64) -> Result<Rle> {
    let pixels = check_size(h as u64, w as u64)?;
    let k = xy.len() / 2;
    let mut pts = Vec::with_capacity(k);
    for i in 0..k {
        let (x, y) = (xy[2 * i], xy[2 * i + 1]);
        for v in [x, y] {
            if !(SCALE * v + 0.5).is_finite() || (SCALE * v + 0.5).abs() >= COORD_LIMIT {
                return Err(Error::param(format!(
                    "polygon coordinate {v} (vertex {i}) is not a finite number within \
                     +-2.1e8 pixels"
                )));
            }
        }
        pts.push((
            i64::from(c_int(SCALE * x + 0.5)),
            i64::from(c_int(SCALE * y + 0.5)),
        ));
    }
    if w == 0 || pixels == 0 {
        // pycocotools compares x with w - 1 in unsigned arithmetic, so w = 0 accepts
        // every point and returns counts that do not sum to 0; the empty mask is right.
        return Ok(Rle::empty(h, w));
    }
    let mut t = Toggles {
        h: h as u64,
        w: w as u64,
        out: Vec::new(),
        refused: false,
    };
    let mut prev_end: Option<Pt> = None;
    for j in 0..k {
        let e = Edge::new(pts[j], pts[(j + 1) % k]);
        let start = e.at(0);
        if let Some(p) = prev_end {
            t.step(p, start);
        }
        walk(&e, w as u64, &mut t, linear);
        prev_end = Some(e.at(e.steps()));
    }
    if t.refused {
        return Err(Error::memory(
            "the polygon's column crossings",
            8 * 2 * t.out.len() as u64,
        ));
    }
    let mut a = t.out;
    try_reserve(&mut a, 1, "the polygon's column crossings")?;
    a.push(pixels);
    a.sort_unstable();
    // Differences of the sorted toggles; a zero difference (two toggles at one pixel)
    // cancels, and the following difference joins the previous run.
    let mut prev = 0u64;
    for v in a.iter_mut() {
        let t = *v;
        *v -= prev;
        prev = t;
    }
    let mut counts: Vec<u32> = Vec::new();
    try_reserve(&mut counts, a.len(), "the polygon's runs")?;
    counts.push(a[0] as u32);
    let mut j = 1;
    while j < a.len() {
        if a[j] > 0 {
            counts.push(a[j] as u32);
            j += 1;
        } else {
            j += 1;
            if j < a.len() {
                if let Some(last) = counts.last_mut() {
                    *last += a[j] as u32;
                }
                j += 1;
            }
        }
    }
    Rle::new(h, w, counts)
}

/// The runs of a box `[x, y, w, h]` (pycocotools' `rleFrBbox`: the polygon of its corners).
pub fn from_bbox(bb: [f64; 4], h: usize, w: usize) -> Result<Rle> {
    if bb.iter().any(|v| !v.is_finite()) {
        return Err(Error::param(format!(
            "box [x, y, w, h] = [{}, {}, {}, {}] has a value that is not a finite number",
            bb[0], bb[1], bb[2], bb[3]
        )));
    }
    let (xs, ys) = (bb[0], bb[1]);
    let (xe, ye) = (xs + bb[2], ys + bb[3]);
    from_polygon(&[xs, ys, xs, ye, xe, ye, xe, ys], h, w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rle::ops::{decode_into, to_bbox};

    fn dense(r: &Rle) -> Vec<u8> {
        let mut m = vec![0; r.pixels()];
        decode_into(r, &mut m).unwrap();
        m
    }

    #[test]
    fn integer_box_covers_its_pixels() {
        let r = from_bbox([1.0, 2.0, 3.0, 4.0], 10, 8).unwrap();
        assert_eq!(to_bbox(&r), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(dense(&r).iter().filter(|&&v| v == 1).count(), 12);
    }

    #[test]
    fn degenerate_polygons() {
        for xy in [
            &[][..],
            &[1.0, 1.0],
            &[1.0, 1.0, 5.0, 5.0],
            &[2.0, 2.0, 2.0, 2.0, 2.0, 2.0],
        ] {
            let r = from_polygon(xy, 6, 7).unwrap();
            assert_eq!(r.counts, vec![42]);
        }
        assert!(from_polygon(&[f64::NAN, 0.0, 1.0, 1.0, 2.0, 0.0], 5, 5).is_err());
        assert!(from_polygon(&[1e9, 0.0, 1.0, 1.0, 2.0, 0.0], 5, 5).is_err());
        assert_eq!(
            from_polygon(&[0.0, 0.0, 3.0, 0.0, 3.0, 3.0], 4, 0)
                .unwrap()
                .counts,
            vec![0]
        );
    }

    #[test]
    fn long_edges_equal_the_step_walk() {
        // Polygons far outside and partly inside the image: searching every edge (linear
        // = 0) must give the runs of walking every step (linear = max).
        let polys: [&[f64]; 5] = [
            &[-3000.0, -20.0, 3000.0, 25.0, 10.0, 3000.0],
            &[5.3, -4000.0, 7.9, 4000.0, -2.0, 3.0],
            &[-9000.0, 3.3, 9000.0, 3.4, 9000.0, 3.7],
            &[0.0, 0.0, 29.9, 0.4, 29.5, 39.6, 0.2, 39.9, 15.0, 20.0],
            &[-1.0, -1.0, 31.0, -1.0, 31.0, 41.0, -1.0, 41.0],
        ];
        for xy in polys {
            for (h, w) in [(40, 30), (1, 1), (3, 50)] {
                let full = rasterize(xy, h, w, i64::MAX).unwrap();
                let fast = rasterize(xy, h, w, 0).unwrap();
                assert_eq!(full, fast, "{xy:?} in {h}x{w}");
            }
        }
    }
}
