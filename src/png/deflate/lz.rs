//! Greedy-with-lazy-step LZ77 parse for scanlines over a handful of candidate distances.
//!
//! Masks are runs of one label, and most rows repeat the row above, so the matches worth
//! finding are at distance 1 (run of the previous byte), `row_len` (same column, row above)
//! and `row_len ± k` (the row above shifted: edges of objects move a pixel or two per row).
//! Symbols are packed in a `u32`: a literal is its byte value (< 256); a match is
//! `MATCH | (dist - 1) << 8 | (len - 3)`.

pub(super) const MIN_MATCH: usize = 3;
pub(super) const MAX_MATCH: usize = 258;
pub(super) const MAX_DIST: usize = 32768;
pub(super) const MATCH: u32 = 1 << 31;

/// Length of the common prefix of `a` and `b` (compared up to `a.len()`; `b` at least as long).
#[inline(always)]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let b = &b[..a.len()];
    let mut ac = a.chunks_exact(16);
    let mut bc = b.chunks_exact(16);
    let mut n = 0;
    for (x, y) in ac.by_ref().zip(bc.by_ref()) {
        let diff = load128(x) ^ load128(y);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 16;
    }
    n + prefix8(ac.remainder(), bc.remainder())
}

#[inline(always)]
fn load128(x: &[u8]) -> u128 {
    let mut w = [0u8; 16];
    w.copy_from_slice(x);
    u128::from_le_bytes(w)
}

/// Common prefix of two equally long slices, 8 bytes at a time.
#[inline(always)]
fn prefix8(a: &[u8], b: &[u8]) -> usize {
    let mut ac = a.chunks_exact(8);
    let mut bc = b.chunks_exact(8);
    let mut n = 0;
    for (x, y) in ac.by_ref().zip(bc.by_ref()) {
        let diff = load64(x) ^ load64(y);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    for (x, y) in ac.remainder().iter().zip(bc.remainder()) {
        if x != y {
            break;
        }
        n += 1;
    }
    n
}

#[inline(always)]
fn load64(x: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(x);
    u64::from_le_bytes(w)
}

/// One candidate distance and what is known about it: `raw[j] == raw[j - d]` for every `j`
/// in `start..end`, and, when `brk`, `raw[end] != raw[end - d]`. Consecutive queries (the
/// lazy step, the next symbol) mostly fall inside the known stretch, so no byte is compared
/// twice at the same distance while the stretch lasts.
#[derive(Clone, Copy)]
struct Cand {
    d: usize,
    /// Shortest match taken at this distance.
    min: usize,
    start: usize,
    end: usize,
    brk: bool,
}

/// Distances 1 and 2 (runs of 8-bit and of 16-bit samples), the row above, and the row above
/// shifted by one or two bytes either way.
const MAX_CANDS: usize = 7;

/// Shortest match worth taking at distance `d` other than the run distances: twice the
/// distance's extra bits, at most 16. The row above of an 854-wide mask (8 extra bits) costs
/// ~10 bits of distance alone, so short matches there lose to literals and runs and break up
/// the parse; on the corpus, raising the minimum there from 4 to 16 took the number of masks
/// larger than zlib-rs level 6 from 21 to 0. Narrow images have cheap row distances
/// (2 extra bits at row_len 18) and keep short matches.
fn far_min_match(d: usize) -> usize {
    let extra_bits = (usize::BITS - d.saturating_sub(1).leading_zeros()).saturating_sub(2);
    (2 * extra_bits as usize).clamp(MIN_MATCH, 16)
}

/// Whether runs are of byte pairs rather than bytes (16-bit samples whose two bytes differ):
/// on a sample of ~500 positions, `raw[j] == raw[j - 2]` clearly more often than
/// `raw[j] == raw[j - 1]`. Only then is distance 2 a candidate: on the 8-bit corpus masks it
/// only won short matches that cost more than they saved (8 masks became larger than level 6),
/// and checking it took ~4% of the time.
fn pairs_repeat(raw: &[u8]) -> bool {
    if raw.len() < 64 {
        return false;
    }
    let step = (raw.len() / 512).max(1);
    let (mut one, mut two) = (0usize, 0usize);
    for w in raw.windows(3).step_by(step) {
        one += usize::from(w[2] == w[1]);
        two += usize::from(w[2] == w[0]);
    }
    two > one + one / 8 + 16
}

/// Parse state across blocks.
pub(super) struct Parser<'a> {
    raw: &'a [u8],
    pos: usize,
    cands: [Cand; MAX_CANDS],
    ncands: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(raw: &'a [u8], row_len: usize) -> Self {
        let none = Cand {
            d: 0,
            min: 0,
            start: 0,
            end: 0,
            brk: false,
        };
        let mut cands = [none; MAX_CANDS];
        let mut ncands = 0;
        let mut add = |d: usize, min: usize| {
            if (1..=MAX_DIST).contains(&d) && !cands[..ncands].iter().any(|c| c.d == d) {
                cands[ncands].d = d;
                cands[ncands].min = min;
                ncands += 1;
            }
        };
        add(1, MIN_MATCH);
        if pairs_repeat(raw) {
            add(2, MIN_MATCH);
        }
        // Past the 32 KiB window, the row above is out of reach.
        if row_len <= MAX_DIST {
            for d in [
                row_len,
                row_len - 1,
                row_len + 1,
                row_len.saturating_sub(2),
                row_len + 2,
            ] {
                add(d, far_min_match(d));
            }
        }
        Parser {
            raw,
            pos: 0,
            cands,
            ncands,
        }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn done(&self) -> bool {
        self.pos >= self.raw.len()
    }

    /// Longest match at `i` if longer than `beat` (else length 0), and its distance; ties go
    /// to the earlier candidate.
    #[inline(always)]
    fn best_at(&mut self, i: usize, beat: usize) -> (usize, usize) {
        let raw = self.raw;
        let lim = (raw.len() - i).min(MAX_MATCH);
        if lim <= beat || lim < MIN_MATCH {
            return (0, 0);
        }
        let (mut bl, mut bd) = (beat.max(MIN_MATCH - 1), 0);
        for c in self.cands[..self.ncands].iter_mut() {
            let d = c.d;
            if d > i {
                continue;
            }
            // A match here must be longer than `bl` and at least `c.min` long: it has to
            // agree at offset `need`.
            let need = bl.max(c.min - 1);
            if need >= lim {
                continue;
            }
            if c.start <= i && i <= c.end {
                if c.brk && c.end - i <= need {
                    continue;
                }
            } else {
                // Nothing known here: two bytes a useful match must agree on (where the best so
                // far ends, and at the minimum length) decide whether it is worth a scan.
                if raw[i + bl] != raw[i + bl - d] {
                    continue;
                }
                // At row distances (minimum 16) also the 16 bytes before that: one compare that
                // most candidates at a noisy edge fail.
                if need >= 15 {
                    let a = i + need - 15;
                    if load128(&raw[a..a + 16]) != load128(&raw[a - d..a - d + 16]) {
                        continue;
                    }
                } else if raw[i + need] != raw[i + need - d] {
                    continue;
                }
                *c = Cand {
                    start: i,
                    end: i,
                    brk: false,
                    ..*c
                };
            }
            if !c.brk && c.end < i + lim {
                let stop = i + lim;
                let l = common_prefix(&raw[c.end..stop], &raw[c.end - d..]);
                c.end += l;
                c.brk = c.end < stop;
            }
            let l = (c.end - i).min(lim);
            if l > bl && l >= c.min {
                (bl, bd) = (l, d);
                if l == lim {
                    break;
                }
            }
        }
        if bd == 0 {
            (0, 0)
        } else {
            (bl, bd)
        }
    }

    /// Append symbols to `syms` until the input ends or `syms` holds `cap` symbols.
    pub(super) fn run(&mut self, syms: &mut Vec<u32>, cap: usize) {
        let raw = self.raw;
        let n = raw.len();
        let mut i = self.pos;
        // The evaluation of position i + 1 done by the lazy step, reused at the next position.
        let mut ahead: Option<(usize, usize)> = None;
        // Literals in a row. Past 64, positions are tested ever more sparsely (every 2nd, 3rd,
        // ... up to every 32nd): noise has no matches at these distances, and testing every
        // position there runs at ~60 MB/s. Masks never have such streaks.
        let mut streak = 0usize;
        while i < n && syms.len() < cap {
            let (len, d) = match ahead.take() {
                Some(x) => x,
                None => self.best_at(i, 0),
            };
            if len == 0 {
                streak += 1;
                let end = (i + 1 + (streak >> 6).min(31)).min(n);
                syms.extend(raw[i..end].iter().map(|&b| u32::from(b)));
                i = end;
                continue;
            }
            streak = 0;
            if i + 1 < n {
                let next = self.best_at(i + 1, len);
                if next.0 != 0 {
                    syms.push(u32::from(raw[i]));
                    i += 1;
                    ahead = Some(next);
                    continue;
                }
            }
            syms.push(MATCH | ((d as u32 - 1) << 8) | (len as u32 - 3));
            i += len;
        }
        self.pos = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_two_only_for_pair_runs() {
        let w = 300;
        let mut eight = Vec::new();
        let mut sixteen = Vec::new();
        for y in 0..100usize {
            eight.push(0);
            sixteen.push(0);
            for x in 0..w {
                let v = u8::from((x / 40 + y / 30) % 3 == 1) * 7;
                eight.push(v);
                sixteen.extend_from_slice(&(u16::from(v) * 1000).to_be_bytes());
            }
        }
        assert!(!pairs_repeat(&eight));
        assert!(pairs_repeat(&sixteen));
        let noise: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        assert!(!pairs_repeat(&noise));
        assert!(!pairs_repeat(&[0, 1, 0, 1, 0, 1]), "too short to tell");
    }

    #[test]
    fn common_prefix_at_every_offset() {
        let a: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        for n in 0..a.len() {
            for k in (0..=n).step_by(7) {
                let mut b = a[..n].to_vec();
                if k < n {
                    b[k] ^= 0x40;
                }
                assert_eq!(
                    common_prefix(&a[..n], &b),
                    k.min(n),
                    "len {n}, first difference {k}"
                );
            }
        }
    }

    #[test]
    fn far_min_match_follows_extra_bits() {
        // RFC 1951 distance codes: 5..=8 have 1 extra bit, 513..=1024 have 8, 1025..=2048 9.
        assert_eq!(super::far_min_match(3), 3);
        assert_eq!(super::far_min_match(5), 3);
        assert_eq!(super::far_min_match(17), 6);
        assert_eq!(super::far_min_match(24), 6);
        assert_eq!(super::far_min_match(33), 8);
        assert_eq!(super::far_min_match(512), 14);
        assert_eq!(super::far_min_match(855), 16);
        assert_eq!(super::far_min_match(32768), 16);
    }
}
