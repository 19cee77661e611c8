//! Time the boundary F of one object-frame in Rust, without Python in the way.
//!
//! `cargo run --release --example f_profile` scores the DAVIS-2016 ground truth of blackswan
//! frame 20 against OSVOS's prediction of it (the pair of `benches/bench_metrics.py`, read
//! from `../shared/corpus` when present), or a generated ellipse against a shifted copy.
//! `FM_N` sets the calls per timing (default 20000); best of three timings is printed, so
//! a profiler (`perf record`, `valgrind --tool=callgrind` with a small `FM_N`) sees the same
//! loop as the benchmark.

use std::path::Path;
use std::time::Instant;

use fastmask::eval::read_labels;
use fastmask::metrics::{bound_pix, boundary_f, Scratch};
use fastmask::png::DAVIS_PALETTE;

const CORPUS: &str = "../shared/corpus";

/// The blackswan pair as 0/1 masks, or None without the corpus.
fn corpus_pair() -> Option<(Vec<u8>, Vec<u8>, usize, usize)> {
    let root = Path::new(CORPUS);
    let gt = root.join("davis2016/Annotations/480p/blackswan/00020.png");
    let pred = root.join("davis2017-osvos/blackswan/00020.png");
    let mut file = Vec::new();
    let (mut g, mut p) = (Vec::new(), Vec::new());
    let (h, w) = read_labels(&gt, &DAVIS_PALETTE, &mut file, &mut g, u64::MAX).ok()?;
    let shape = read_labels(&pred, &DAVIS_PALETTE, &mut file, &mut p, u64::MAX).ok()?;
    if shape != (h, w) {
        return None;
    }
    let binary = |v: Vec<u8>| v.into_iter().map(|x| u8::from(x != 0)).collect();
    Some((binary(g), binary(p), h, w))
}

/// An ellipse at 480x854 and the same ellipse moved by (2, -3).
fn generated_pair() -> (Vec<u8>, Vec<u8>, usize, usize) {
    let (h, w) = (480usize, 854usize);
    let ellipse = |dy: f64, dx: f64| -> Vec<u8> {
        let mut m = vec![0u8; h * w];
        for y in 0..h {
            for x in 0..w {
                let (u, v) = (
                    (x as f64 - 430.0 - dx) / 180.0,
                    (y as f64 - 250.0 - dy) / 90.0,
                );
                m[y * w + x] = u8::from(u * u + v * v <= 1.0);
            }
        }
        m
    };
    (ellipse(0.0, 0.0), ellipse(2.0, -3.0), h, w)
}

fn main() {
    let (gt, pred, h, w, what) = match corpus_pair() {
        Some((g, p, h, w)) => (g, p, h, w, "blackswan 00020 (DAVIS-2016 gt vs OSVOS)"),
        None => {
            let (g, p, h, w) = generated_pair();
            (g, p, h, w, "generated ellipse vs shifted copy")
        }
    };
    let n: usize = std::env::var("FM_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20000);
    let radius = bound_pix(0.008, h, w).expect("radius");
    let mut scratch = Scratch::new();
    let f = boundary_f(&gt, &pred, h, w, None, radius, &mut scratch).expect("F");
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(boundary_f(&gt, &pred, h, w, None, radius, &mut scratch).ok());
        }
        best = best.min(t.elapsed().as_secs_f64() / n as f64);
    }
    println!("{what}, {h}x{w}: F = {f}, {:.1} us per call", best * 1e6);
}
