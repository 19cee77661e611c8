//! Greedy LZ77 parse for scanlines: only a handful of candidate distances per position.
//!
//! Masks are runs of one label, and most rows repeat the row above, so the matches worth
//! finding are at distance 1 (run of the previous byte) and `row_len` (same column, row
//! above). Both are checked 32 bytes at a time. Symbols are packed in a `u32`:
//! a literal is its byte value (< 256); a match is `MATCH | (dist - 1) << 8 | (len - 3)`.

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

fn env_m() -> usize {
    static M: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *M.get_or_init(|| env("HM", 0))
}

fn hash4(x: &[u8]) -> usize {
    let v = u32::from_le_bytes([x[0], x[1], x[2], x[3]]);
    (v.wrapping_mul(0x9E37_79B1) >> 20) as usize
}

#[inline(always)]
fn load64(x: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(x);
    u64::from_le_bytes(w)
}

pub(super) struct Tuning {
    /// Distances tried only when distance 1 and the row above both give less than `extra_below`.
    pub extras: Vec<usize>,
    pub extra_below: usize,
    /// Minimum match length at distances other than 1 (their distance costs ~10 bits).
    pub min_far: usize,
    /// Look one position ahead when the best match is shorter than this.
    pub lazy_below: usize,
}

/// Parse state across blocks.
pub(super) struct Parser<'a> {
    raw: &'a [u8],
    pos: usize,
    /// Distance of the row above, 0 when unusable (row_len of 1 is the run distance itself,
    /// and rows longer than the 32 KiB window are out of reach).
    up: usize,
    t: Tuning,
    /// Last symbol start with a given 4-byte hash (+1; 0 = none).
    hash: Vec<u32>,
    hash_below: usize,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl<'a> Parser<'a> {
    pub(super) fn new(raw: &'a [u8], row_len: usize) -> Self {
        let up = if row_len > 1 && row_len <= MAX_DIST { row_len } else { 0 };
        let offs: Vec<isize> = std::env::var("DX")
            .ok()
            .map(|v| v.split(',').filter(|x| !x.is_empty()).map(|x| x.parse().unwrap()).collect())
            .unwrap_or_else(|| vec![-1, 1, -2, 2, -3, 3]);
        let mut extras = Vec::new();
        if up > 0 {
            for e in offs {
                let d = if e >= 500 {
                    let k = (e + 500) / 1000;
                    up as isize * k + (e - 1000 * k)
                } else if e <= -500 {
                    -e - 500
                } else {
                    up as isize + e
                };
                if d > 1 && d as usize <= MAX_DIST && d as usize != up && !extras.contains(&(d as usize)) {
                    extras.push(d as usize);
                }
            }
        }
        let t = Tuning {
            extras,
            extra_below: env("XB", 259),
            min_far: env("MINFAR", 4),
            lazy_below: env("LB", 258),
        };
        let hash_below = env("HB", 0);
        Parser { raw, pos: 0, up, t, hash: vec![0; if hash_below > 0 { 1 << 12 } else { 0 }], hash_below }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn done(&self) -> bool {
        self.pos >= self.raw.len()
    }

    /// Longest match at `i` if longer than `beat` (else length 0), and its distance.
    /// A candidate is compared in full only when it agrees at byte `best` (the current best
    /// length), the one byte it must match to do better; most candidates fail there.
    #[inline(always)]
    fn best_at(&self, i: usize, beat: usize) -> (usize, usize) {
        let raw = self.raw;
        let lim = (raw.len() - i).min(MAX_MATCH);
        if lim <= beat || lim < MIN_MATCH || i == 0 {
            return (0, 0);
        }
        let cur = &raw[i..i + lim];
        let (mut bl, mut bd) = (beat.max(MIN_MATCH - 1), 0);
        let up = self.up;
        for d in [1, up].into_iter().chain(self.t.extras.iter().copied()) {
            if d == 0 || d > i {
                continue;
            }
            let from = &raw[i - d..];
            if from[bl] != cur[bl] {
                continue;
            }
            let l = common_prefix(cur, from);
            if l > bl && (d == 1 || l >= self.t.min_far) {
                (bl, bd) = (l, d);
                if l == lim {
                    break;
                }
            }
        }
        if bl < self.hash_below && bl < lim && i + 4 <= raw.len() {
            let h = hash4(&raw[i..i + 4]);
            let p = self.hash[h] as usize;
            if p > 0 && i - (p - 1) <= MAX_DIST {
                let d = i - (p - 1);
                let from = &raw[i - d..];
                let need = (bl + env_m()).min(lim - 1);
                if from[need] == cur[need] {
                    let l = common_prefix(cur, from);
                    if l > need && (d == 1 || l >= self.t.min_far) {
                        (bl, bd) = (l, d);
                    }
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
            if self.hash_below > 0 && i + 4 <= n {
                let h = hash4(&raw[i..i + 4]);
                self.hash[h] = i as u32 + 1;
            }
            let (len, d) = ahead.take().unwrap_or_else(|| self.best_at(i, 0));
            if len == 0 {
                syms.push(u32::from(raw[i]));
                i += 1;
                continue;
            }
            if len < self.t.lazy_below && i + 1 < n {
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
