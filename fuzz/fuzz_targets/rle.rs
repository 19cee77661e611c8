//! COCO RLE strings and counts: never a panic; whatever parses round-trips, and area, box,
//! merge and IoU agree with the same computations on the decoded pixels.
#![no_main]

use fastmask::rle::{codec, encode, ops, Rle};
use libfuzzer_sys::fuzz_target;

fn dense(r: &Rle) -> Vec<u8> {
    let mut m = vec![0u8; r.pixels()];
    ops::decode_into(r, &mut m).unwrap();
    m
}

/// The box from pixels, with pycocotools' rule that a run crossing a column boundary makes
/// the box full height.
fn check_box(r: &Rle, m: &[u8]) {
    let b = ops::to_bbox(r);
    let ones: Vec<usize> = (0..m.len()).filter(|&i| m[i] == 1).collect();
    if ones.is_empty() {
        assert_eq!(b, [0.0; 4]);
        return;
    }
    let (x0, x1) = (ones[0] / r.h, ones[ones.len() - 1] / r.h);
    assert_eq!((b[0], b[2]), (x0 as f64, (x1 - x0 + 1) as f64));
    // Every foreground pixel lies inside the box.
    for &i in &ones {
        let (x, y) = ((i / r.h) as f64, (i % r.h) as f64);
        assert!(x >= b[0] && x < b[0] + b[2] && y >= b[1] && y < b[1] + b[3]);
    }
}

fuzz_target!(|data: &[u8]| {
    // Any bytes: the general decoder never panics and its output re-encodes to itself.
    if let Ok(c) = codec::string_to_counts(data) {
        let s = codec::counts_to_string(&c).unwrap();
        assert_eq!(codec::string_to_counts(&s).unwrap(), c);
    }
    if data.len() < 3 {
        return;
    }
    let (h, w) = (1 + usize::from(data[0] % 24), 1 + usize::from(data[1] % 24));
    let split = 2 + usize::from(data[2]) % (data.len() - 2).max(1);
    let (sa, sb) = data[3..].split_at((split - 2).min(data.len() - 3));
    let Ok(a) = Rle::from_string(h as u64, w as u64, sa) else {
        return;
    };
    // Round trip of the string (zero-length runs kept), and through pixels.
    assert_eq!(
        Rle::from_string(h as u64, w as u64, &a.to_compressed()).unwrap(),
        a
    );
    let ma = dense(&a);
    let canon = encode::encode_fortran(&ma, h, w).unwrap();
    assert_eq!(dense(&Rle::new(h, w, canon).unwrap()), ma);
    let area_a = ma.iter().filter(|&&v| v == 1).count();
    assert_eq!(ops::area(&a) as usize, area_a);
    check_box(&a, &ma);
    // A second mask: from the rest of the input, else a shifted copy of the first.
    let b = Rle::from_string(h as u64, w as u64, sb).unwrap_or_else(|_| {
        let mut m = ma.clone();
        m.rotate_left(1);
        Rle::new(h, w, encode::encode_fortran(&m, h, w).unwrap()).unwrap()
    });
    let mb = dense(&b);
    for intersect in [false, true] {
        let m = ops::merge(&[a.clone(), b.clone()], intersect).unwrap();
        let want: Vec<u8> = ma
            .iter()
            .zip(&mb)
            .map(|(&x, &y)| if intersect { x & y } else { x | y })
            .collect();
        assert_eq!(dense(&m), want, "merge intersect={intersect}");
    }
    let inter = ma.iter().zip(&mb).filter(|(&x, &y)| x & y == 1).count();
    let union = ma.iter().zip(&mb).filter(|(&x, &y)| x | y == 1).count();
    let area_b = mb.iter().filter(|&&v| v == 1).count();
    assert_eq!(ops::area(&b) as usize, area_b);
    let o = ops::iou(&[a.clone()], &[b.clone(), b.clone()], &[false, true]).unwrap();
    let want = |den: usize| {
        if inter == 0 {
            0.0
        } else {
            inter as f64 / den as f64
        }
    };
    assert_eq!(o, vec![want(union), want(area_a)]);
});
