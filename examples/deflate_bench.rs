//! Measure `compress_rows` against zlib-rs on raw mask scanlines (single thread).
//!
//! `cargo run --release --example deflate_bench` runs on generated 8-bit and 16-bit masks and
//! on noise. `cargo run --release --example deflate_bench -- FILE...` runs on real masks whose
//! filter-0 scanlines were prepared outside the repository (the corpus is not ours to copy),
//! e.g. with Pillow, per mask `a = np.array(Image.open(p))` (first channel if 3-D), `raw` =
//! a 0 byte before each row of `a`, then one record per mask: eight little-endian u32 (W + 1,
//! H, len(raw), len(zlib.compress(raw, 6)), Pillow's default IDAT length, Pillow's
//! `compress_type=3` IDAT length, len(name), len(packed)), the name, and
//! `packed = zlib.compress(raw, 1)`.
//!
//! Prints per set: throughput (GB/s of scanlines) of ours, zlib-rs level 1 and zlib-rs Z_RLE
//! (each mask's data in cache, best of REPS=3 passes over all masks, so that the branch
//! predictor is not trained on one input); total sizes; our size against zlib level 6 (median,
//! worst, how many larger); the five worst masks. Every stream is checked by inflating it.

use std::time::Instant;

use fastmask::png::deflate::compress_rows;

struct Mask {
    name: String,
    row_len: usize,
    raw: Vec<u8>,
    /// Python zlib level 6, Pillow default IDAT, Pillow Z_RLE IDAT (0 when unknown).
    py6: usize,
    pil6: usize,
    pil_rle: usize,
}

fn u32_at(b: &[u8], i: usize) -> usize {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize
}

fn inflate(z: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let (got, rc) = zlib_rs::decompress_slice(&mut out, z, zlib_rs::InflateConfig::default());
    assert_eq!(rc, zlib_rs::ReturnCode::Ok);
    assert_eq!(got.len(), len);
    out
}

fn load(path: &str) -> Vec<Mask> {
    let b = std::fs::read(path).expect("read records");
    let mut masks = Vec::new();
    let mut i = 0;
    while i + 32 <= b.len() {
        let f: Vec<usize> = (0..8).map(|k| u32_at(&b, i + 4 * k)).collect();
        i += 32;
        let name = String::from_utf8_lossy(&b[i..i + f[6]]).into_owned();
        i += f[6];
        let raw = inflate(&b[i..i + f[7]], f[2]);
        i += f[7];
        masks.push(Mask {
            name,
            row_len: f[0],
            raw,
            py6: f[3],
            pil6: f[4],
            pil_rle: f[5],
        });
    }
    masks
}

/// Generated 854x480 and 1920x1080 masks (a few ellipses with holes), as 8-bit palette
/// scanlines and as 16-bit grayscale scanlines (labels * 1000, big-endian).
fn generated() -> Vec<Mask> {
    let mut out = Vec::new();
    for &(w, h) in &[(854usize, 480usize), (1920, 1080)] {
        for k in 0..8usize {
            let label = |x: usize, y: usize| {
                let mut v = 0u8;
                for o in 0..3 + k % 3 {
                    let cx = (w * (o + 1) / 5 + 13 * k) as f64;
                    let cy = (h * (o + 2) / 7 + 7 * k) as f64;
                    let (rx, ry) = (w as f64 / 9.0, h as f64 / 6.0);
                    let dx = (x as f64 - cx) / rx;
                    let dy = (y as f64 - cy) / ry;
                    let r = dx * dx + dy * dy;
                    if r < 1.0 && r > 0.1 {
                        v = o as u8 + 1;
                    }
                }
                v
            };
            let (mut raw8, mut raw16) = (Vec::new(), Vec::new());
            for y in 0..h {
                raw8.push(0);
                raw16.push(0);
                for x in 0..w {
                    let v = label(x, y);
                    raw8.push(v);
                    raw16.extend_from_slice(&(u16::from(v) * 1000).to_be_bytes());
                }
            }
            for (bits, row_len, raw) in [(8, w + 1, raw8), (16, 2 * w + 1, raw16)] {
                out.push(Mask {
                    name: format!("generated {w}x{h} #{k} {bits}-bit"),
                    row_len,
                    raw,
                    py6: 0,
                    pil6: 0,
                    pil_rle: 0,
                });
            }
        }
    }
    out
}

/// Worst case for the parser: 854x480 rows of xorshift noise (every position a literal).
fn noise() -> Vec<Mask> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..4)
        .map(|k| {
            let raw = (0..480 * 855)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 32) as u8
                })
                .collect();
            Mask {
                name: format!("noise #{k}"),
                row_len: 855,
                raw,
                py6: 0,
                pil6: 0,
                pil_rle: 0,
            }
        })
        .collect()
}

fn zlib_rs(raw: &[u8], level: i32, strategy: zlib_rs::Strategy) -> usize {
    let mut out = vec![0u8; zlib_rs::compress_bound(raw.len())];
    let mut config = zlib_rs::DeflateConfig::new(level);
    config.strategy = strategy;
    let (z, rc) = zlib_rs::compress_slice(&mut out, raw, config);
    assert_eq!(rc, zlib_rs::ReturnCode::Ok);
    z.len()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds per implementation, summed over masks. Each mask's time is its best of `reps`
/// passes; a pass runs every implementation on every mask once, with the mask's scanlines
/// just read (in cache, as they are when an encoder has just produced them), but without
/// repeating the same input back to back (which would train the branch predictor on it).
fn time_all(masks: &[Mask], reps: usize, fs: &[&dyn Fn(&Mask) -> usize]) -> Vec<Vec<f64>> {
    let mut best = vec![vec![f64::INFINITY; masks.len()]; fs.len()];
    for _ in 0..reps {
        for (k, m) in masks.iter().enumerate() {
            for (f, b) in fs.iter().zip(best.iter_mut()) {
                std::hint::black_box(m.raw.iter().fold(0u8, |a, &x| a ^ x));
                let t = Instant::now();
                std::hint::black_box(f(std::hint::black_box(m)));
                b[k] = b[k].min(t.elapsed().as_secs_f64());
            }
        }
    }
    best
}

fn report(label: &str, masks: &[Mask]) {
    let reps = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let bytes: usize = masks.iter().map(|m| m.raw.len()).sum();
    let ours = |m: &Mask| compress_rows(&m.raw, m.row_len).expect("compress").len();
    let l1 = |m: &Mask| zlib_rs(&m.raw, 1, zlib_rs::Strategy::Default);
    let rle = |m: &Mask| zlib_rs(&m.raw, 6, zlib_rs::Strategy::Rle);
    let adler = |m: &Mask| zlib_rs::adler32::adler32(1, &m.raw) as usize;
    let per_mask = if reps == 0 {
        vec![vec![f64::NAN; masks.len()]; 4]
    } else {
        time_all(masks, reps, &[&ours, &l1, &rle, &adler])
    };
    let t: Vec<f64> = per_mask.iter().map(|b| b.iter().sum()).collect();
    let (t_ours, t_l1, t_rle, t_adler) = (t[0], t[1], t[2], t[3]);
    // The masks where ours is slowest relative to zlib-rs level 1.
    let mut slow: Vec<(f64, usize)> = (0..masks.len())
        .map(|k| (per_mask[0][k] / per_mask[1][k], k))
        .collect();
    slow.sort_by(|a, b| b.0.total_cmp(&a.0));

    let (mut r_z6, mut r_py6, mut r_pil6) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sum_ours, mut sum_z6, mut sum_py6, mut sum_l1, mut sum_rle, mut sum_pil_rle) =
        (0, 0, 0, 0, 0, 0);
    let mut worst: Vec<(f64, String, usize, usize)> = Vec::new();
    for m in masks {
        let z = compress_rows(&m.raw, m.row_len).expect("compress");
        assert_eq!(inflate(&z, m.raw.len()), m.raw, "round trip {}", m.name);
        let z = z.len();
        let z6 = zlib_rs(&m.raw, 6, zlib_rs::Strategy::Default);
        sum_ours += z;
        sum_z6 += z6;
        sum_l1 += zlib_rs(&m.raw, 1, zlib_rs::Strategy::Default);
        sum_rle += zlib_rs(&m.raw, 6, zlib_rs::Strategy::Rle);
        sum_py6 += m.py6;
        sum_pil_rle += m.pil_rle;
        r_z6.push(z as f64 / z6 as f64);
        let mut base = z6;
        if m.py6 > 0 {
            r_py6.push(z as f64 / m.py6 as f64);
            // Pillow's IDAT holds the zlib stream, so compare like with like.
            r_pil6.push(z as f64 / m.pil6 as f64);
            base = base.min(m.py6);
        }
        worst.push((z as f64 / base as f64, m.name.clone(), z, base));
    }
    let gbs = |t: f64| bytes as f64 / t / 1e9;
    println!(
        "== {label}: {} masks, {:.1} MB of scanlines",
        masks.len(),
        bytes as f64 / 1e6
    );
    println!(
        "throughput GB/s: ours {:.2}  zlib-rs L1 {:.2}  zlib-rs Z_RLE {:.2}  Adler-32 alone {:.1}  (ours {:.3} ms/mask)",
        gbs(t_ours),
        gbs(t_l1),
        gbs(t_rle),
        gbs(t_adler),
        1e3 * t_ours / masks.len() as f64
    );
    println!(
        "total bytes: ours {sum_ours}  zlib-rs L6 {sum_z6}  python L6 {sum_py6}  zlib-rs L1 {sum_l1}  zlib-rs RLE {sum_rle}  pillow RLE {sum_pil_rle}"
    );
    let larger = |v: &[f64]| v.iter().filter(|&&r| r > 1.0).count();
    let worst_of = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    println!(
        "ratio vs zlib-rs L6: median {:.3} worst {:.3} larger {}",
        median(&mut r_z6.clone()),
        worst_of(&r_z6),
        larger(&r_z6)
    );
    if !r_py6.is_empty() {
        println!(
            "ratio vs python L6: median {:.3} worst {:.3} larger {}; vs Pillow default IDAT: median {:.3} worst {:.3} larger {}",
            median(&mut r_py6.clone()),
            worst_of(&r_py6),
            larger(&r_py6),
            median(&mut r_pil6.clone()),
            worst_of(&r_pil6),
            larger(&r_pil6)
        );
    }
    for &(r, k) in slow.iter().take(3).filter(|_| reps > 0) {
        let m = &masks[k];
        println!(
            "  slowest vs zlib-rs L1: {:.2}x its time, {:.2} GB/s, {} ({} bytes)",
            r,
            m.raw.len() as f64 / per_mask[0][k] / 1e9,
            m.name,
            m.raw.len()
        );
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (r, n, a, b) in worst.iter().take(5) {
        println!("  worst {r:.3} {n}: {a} vs {b}");
    }
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        let (g8, g16): (Vec<Mask>, Vec<Mask>) = generated()
            .into_iter()
            .partition(|m| m.name.ends_with("8-bit"));
        report("generated masks, 8-bit", &g8);
        report("generated masks, 16-bit", &g16);
        report("noise", &noise());
    }
    for f in &files {
        report(f, &load(f));
    }
}
