//! Polygons and boxes to RLE, box IoU: never a panic, always a valid mask of the image size,
//! and a box with integer corners inside the image covers exactly its pixels.
#![no_main]

use fastmask::rle::{ops, polygon};
use libfuzzer_sys::fuzz_target;

/// A coordinate from two bytes: mostly small values around the image, sometimes extreme ones
/// (infinities, NaN, 1e300) to exercise the checks.
fn coord(b: [u8; 2]) -> f64 {
    match b[0] {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -1e300,
        3 => 3e8,
        _ => (f64::from(i16::from_le_bytes(b)) / 256.0) * 1.5,
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (h, w) = (usize::from(data[0] % 40), usize::from(data[1] % 40));
    let xy: Vec<f64> = data[2..]
        .chunks_exact(2)
        .map(|c| coord([c[0], c[1]]))
        .collect();
    if let Ok(r) = polygon::from_polygon(&xy, h, w) {
        assert_eq!((r.h, r.w), (h, w));
        assert_eq!(
            r.counts.iter().map(|&c| u64::from(c)).sum::<u64>(),
            (h * w) as u64
        );
    }
    let boxes: Vec<[f64; 4]> = xy
        .chunks_exact(4)
        .map(|b| [b[0], b[1], b[2], b[3]])
        .collect();
    for b in &boxes {
        let Ok(r) = polygon::from_bbox(*b, h, w) else {
            assert!(b.iter().any(|v| !v.is_finite()) || b.iter().any(|v| v.abs() > 2e8));
            continue;
        };
        let ints = b.iter().all(|v| v.fract() == 0.0);
        if ints && b[0] >= 0.0 && b[1] >= 0.0 && b[2] >= 0.0 && b[3] >= 0.0 {
            let (x0, y0) = (b[0] as usize, b[1] as usize);
            let (x1, y1) = ((b[0] + b[2]) as usize, (b[1] + b[3]) as usize);
            if x1 <= w && y1 <= h {
                assert_eq!(
                    ops::area(&r) as usize,
                    (x1 - x0) * (y1 - y0),
                    "{b:?} in {h}x{w}"
                );
            }
        }
    }
    let crowd: Vec<bool> = boxes.iter().map(|b| b[0] > 0.0).collect();
    let o = ops::box_iou(&boxes, &boxes, &crowd).unwrap();
    assert_eq!(o.len(), boxes.len() * boxes.len());
});
