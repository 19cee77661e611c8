//! Helpers shared by the unit tests (compiled only for `cargo test`).

/// A deterministic xorshift64 generator: reproducible test inputs without a dependency.
pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

/// The PNG filter predictor for filter `kind` (0..=4), written from the PNG specification
/// (section 9) as plainly as possible: the test-side reference for the optimised unfilters.
/// `a` is the byte to the left, `b` the byte above, `c` the byte above-left.
pub fn predictor(kind: u8, a: u8, b: u8, c: u8) -> u8 {
    match kind {
        0 => 0,
        1 => a,
        2 => b,
        3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
        _ => {
            let p = i32::from(a) + i32::from(b) - i32::from(c);
            let (pa, pb, pc) = (
                (p - i32::from(a)).abs(),
                (p - i32::from(b)).abs(),
                (p - i32::from(c)).abs(),
            );
            if pa <= pb && pa <= pc {
                a
            } else if pb <= pc {
                b
            } else {
                c
            }
        }
    }
}
