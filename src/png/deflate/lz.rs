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
    let mut ac = a.chunks_exact(32);
    let mut bc = b.chunks_exact(32);
    let mut n = 0;
    for (x, y) in ac.by_ref().zip(bc.by_ref()) {
        if x != y {
            return n + prefix8(x, y);
        }
        n += 32;
    }
    n + prefix8(ac.remainder(), bc.remainder())
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
    start: usize,
    end: usize,
    brk: bool,
}

const MAX_CANDS: usize = 16;

/// Parse state across blocks.
pub(super) struct Parser<'a> {
    raw: &'a [u8],
    pos: usize,
    cands: [Cand; MAX_CANDS],
    ncands: usize,
    min_far: usize,
    lazy_below: usize,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl<'a> Parser<'a> {
    pub(super) fn new(raw: &'a [u8], row_len: usize) -> Self {
        let offs: Vec<isize> = std::env::var("DX")
            .ok()
            .map(|v| v.split(',').filter(|x| !x.is_empty()).map(|x| x.parse().unwrap()).collect())
            .unwrap_or_else(|| vec![-1, 1, -2, 2, -3, 3, -4, 4, -5, 5]);
        let none = Cand { d: 0, start: 0, end: 0, brk: false };
        let mut cands = [none; MAX_CANDS];
        cands[0].d = 1;
        let mut ncands = 1;
        // The row above: unusable when a row is one byte (that is distance 1 itself) or
        // longer than the 32 KiB window.
        if row_len > 1 && row_len <= MAX_DIST {
            for e in std::iter::once(0).chain(offs) {
                let d = row_len as isize + e;
                if d > 1
                    && d as usize <= MAX_DIST
                    && ncands < MAX_CANDS
                    && !cands[..ncands].iter().any(|c| c.d == d as usize)
                {
                    cands[ncands].d = d as usize;
                    ncands += 1;
                }
            }
        }
        Parser {
            raw,
            pos: 0,
            cands,
            ncands,
            min_far: env("MINFAR", 4),
            lazy_below: env("LB", 258),
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
        let min_far = self.min_far;
        for c in self.cands[..self.ncands].iter_mut() {
            let d = c.d;
            if d > i {
                continue;
            }
            if c.start <= i && i <= c.end {
                if c.brk && c.end - i <= bl {
                    continue;
                }
            } else {
                // Nothing known here: one byte, the one a better match must agree on, decides
                // whether the candidate is worth a scan.
                if raw[i + bl] != raw[i + bl - d] {
                    continue;
                }
                *c = Cand { d, start: i, end: i, brk: false };
            }
            if !c.brk && c.end < i + lim {
                let stop = i + lim;
                let l = common_prefix(&raw[c.end..stop], &raw[c.end - d..]);
                c.end += l;
                c.brk = c.end < stop;
            }
            let l = (c.end - i).min(lim);
            if l > bl && (d == 1 || l >= min_far) {
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
        while i < n && syms.len() < cap {
            let (len, d) = match ahead.take() {
                Some(x) => x,
                None => self.best_at(i, 0),
            };
            if len == 0 {
                syms.push(u32::from(raw[i]));
                i += 1;
                continue;
            }
            if len < self.lazy_below && i + 1 < n {
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
