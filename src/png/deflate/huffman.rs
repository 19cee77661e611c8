//! Length-limited canonical Huffman codes (RFC 1951 section 3.2.2).
//!
//! Lengths come from an ordinary Huffman tree (two-queue construction over the symbols sorted
//! by frequency); when the tree is deeper than the limit, the length counts are rebalanced the
//! way JPEG does it (ITU T.81 annex K.3: move pairs of deepest leaves up, split a shallower leaf)
//! and the lengths are dealt out again, shortest to the most frequent. At most 286 symbols, so
//! all of this costs a few microseconds per block.

/// Largest alphabet: 286 literal/length symbols.
const MAX_SYMS: usize = 286;

/// Code lengths (each `<= limit`) for `freqs` into `lens` (same length). Unused symbols get 0.
/// Whenever fewer than two symbols are used, two get length 1, so that the code is always
/// complete: zlib's inflate refuses an incomplete code-length code.
pub(super) fn code_lengths(freqs: &[u32], limit: u32, lens: &mut [u8]) {
    debug_assert_eq!(freqs.len(), lens.len());
    debug_assert!(freqs.len() >= 2 && freqs.len() <= MAX_SYMS && freqs.len() <= 1 << limit);
    lens.fill(0);
    // Used symbols sorted by (frequency, symbol): fixed arrays, no allocation per block.
    let mut leaves = [(0u32, 0u16); MAX_SYMS];
    let mut m = 0;
    for (s, &f) in freqs.iter().enumerate() {
        if f > 0 {
            leaves[m] = (f, s as u16);
            m += 1;
        }
    }
    if m < 2 {
        let used = if m == 1 { usize::from(leaves[0].1) } else { 0 };
        lens[used] = 1;
        lens[usize::from(used == 0)] = 1;
        return;
    }
    let leaves = &mut leaves[..m];
    leaves.sort_unstable();

    // Two-queue Huffman: leaves (already sorted) and internal nodes (created in
    // non-decreasing weight order). Node k < m is leaf k, node m + j is internal node j.
    let mut weight = [0u64; 2 * MAX_SYMS];
    let mut parent = [0u16; 2 * MAX_SYMS];
    for (w, &(f, _)) in weight.iter_mut().zip(leaves.iter()) {
        *w = u64::from(f);
    }
    let (mut next_leaf, mut next_inner) = (0usize, m);
    for k in m..2 * m - 1 {
        let mut pick = || {
            if next_leaf < m && (next_inner >= k || weight[next_leaf] <= weight[next_inner]) {
                next_leaf += 1;
                next_leaf - 1
            } else {
                next_inner += 1;
                next_inner - 1
            }
        };
        let a = pick();
        let b = pick();
        weight[k] = weight[a] + weight[b];
        parent[a] = k as u16;
        parent[b] = k as u16;
    }
    // Parents have larger indices than children: one reverse pass gives every depth.
    let mut depth = [0u16; 2 * MAX_SYMS];
    for k in (0..2 * m - 2).rev() {
        depth[k] = depth[usize::from(parent[k])] + 1;
    }
    // Leaves per depth; a depth can reach m - 1 (at most MAX_SYMS - 1).
    let mut count = [0u32; MAX_SYMS];
    for &d in &depth[..m] {
        count[usize::from(d)] += 1;
    }
    let limit = limit as usize;
    let max_depth = usize::from(depth[..m].iter().copied().max().unwrap_or(0));
    for i in (limit + 1..=max_depth).rev() {
        while count[i] > 0 {
            // Two leaves at depth i become one at depth i - 1 (their old parent), and a leaf at
            // the deepest level j < i - 1 becomes an internal node with two children at j + 1.
            let mut j = i - 2;
            while j > 1 && count[j] == 0 {
                j -= 1;
            }
            count[i] -= 2;
            count[i - 1] += 1;
            count[j + 1] += 2;
            count[j] -= 1;
        }
    }
    // Deal lengths: longest to the least frequent.
    let mut sym = leaves.iter();
    for (len, &c) in count.iter().enumerate().take(limit + 1).rev() {
        for _ in 0..c {
            if let Some(&(_, s)) = sym.next() {
                lens[usize::from(s)] = len as u8;
            }
        }
    }
}

/// Canonical codes for `lens`, bit-reversed so that they can go straight into the LSB-first
/// bit stream (Huffman codes are packed starting with their most significant bit).
pub(super) fn canonical_codes(lens: &[u8], codes: &mut [u16]) {
    let mut count = [0u16; 16];
    for &l in lens {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (c, &l) in codes.iter_mut().zip(lens) {
        if l > 0 {
            let v = next[usize::from(l)];
            next[usize::from(l)] += 1;
            *c = v.reverse_bits() >> (16 - u32::from(l));
        } else {
            *c = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kraft sum of the used lengths, scaled by 2^limit: equal to 2^limit for a complete code.
    fn kraft(lens: &[u8], limit: u32) -> u64 {
        lens.iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1u64 << (limit - u32::from(l)))
            .sum()
    }

    /// Cost of an optimal unlimited Huffman code, by repeatedly merging the two lightest weights.
    fn huffman_cost(freqs: &[u32]) -> u64 {
        let mut w: Vec<u64> = freqs
            .iter()
            .filter(|&&f| f > 0)
            .map(|&f| u64::from(f))
            .collect();
        let mut cost = 0;
        while w.len() > 1 {
            w.sort_unstable_by(|a, b| b.cmp(a));
            let (a, b) = (w.pop().unwrap(), w.pop().unwrap());
            cost += a + b;
            w.push(a + b);
        }
        cost
    }

    fn cost(freqs: &[u32], lens: &[u8]) -> u64 {
        freqs
            .iter()
            .zip(lens)
            .map(|(&f, &l)| u64::from(f) * u64::from(l))
            .sum()
    }

    #[test]
    fn complete_and_optimal() {
        let mut state = 12345u64;
        for case in 0..300 {
            let n = [2usize, 3, 19, 30, 286][case % 5];
            let mut freqs = vec![0u32; n];
            for f in freqs.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *f = if state % 3 == 0 {
                    0
                } else {
                    (state >> 40) as u32 % 1000 + 1
                };
            }
            let used = freqs.iter().filter(|&&f| f > 0).count();
            // A limit of 28 never binds: a Huffman tree 28 deep needs a total weight of at least
            // Fibonacci(28) = 317811 times the smallest, and here it is at most 286 * 1000.
            let mut lens = vec![0u8; n];
            code_lengths(&freqs, 28, &mut lens);
            assert_eq!(kraft(&lens, 28), 1 << 28, "complete code, case {case}");
            if used >= 2 {
                assert_eq!(
                    cost(&freqs, &lens),
                    huffman_cost(&freqs),
                    "optimal, case {case}"
                );
                for (&f, &l) in freqs.iter().zip(&lens) {
                    assert_eq!(f > 0, l > 0, "exactly the used symbols get codes");
                }
            }
            // With deflate's limit of 15: still complete, never better than optimal.
            code_lengths(&freqs, 15, &mut lens);
            assert_eq!(kraft(&lens, 15), 1 << 15, "complete code, case {case}");
            assert!(lens.iter().all(|&l| l <= 15));
            if used >= 2 {
                assert!(cost(&freqs, &lens) >= huffman_cost(&freqs));
            }
        }
    }

    #[test]
    fn lengths_are_limited() {
        // Fibonacci frequencies give the deepest possible trees.
        let mut fib = vec![1u32, 1];
        while fib.len() < 286 {
            let next = fib[fib.len() - 1].saturating_add(fib[fib.len() - 2]);
            fib.push(next.min(1 << 30));
        }
        for (n, limit) in [(286usize, 15u32), (30, 15), (19, 7), (8, 3)] {
            let mut lens = vec![0u8; n];
            code_lengths(&fib[..n], limit, &mut lens);
            assert!(
                lens.iter().all(|&l| (1..=limit as u8).contains(&l)),
                "{n} symbols: {lens:?}"
            );
            assert_eq!(kraft(&lens, limit), 1 << limit, "{n} symbols complete");
        }
    }

    #[test]
    fn fewer_than_two_symbols_still_make_a_complete_code() {
        for used in [None, Some(0usize), Some(1), Some(18)] {
            let mut freqs = [0u32; 19];
            if let Some(s) = used {
                freqs[s] = 5;
            }
            let mut lens = [0u8; 19];
            code_lengths(&freqs, 7, &mut lens);
            assert_eq!(kraft(&lens, 7), 1 << 7);
            if let Some(s) = used {
                assert_eq!(lens[s], 1);
            }
        }
    }

    #[test]
    fn canonical_codes_match_rfc_1951_example() {
        // RFC 1951 section 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes
        // 010, 011, 100, 101, 110, 00, 1110, 1111 (here bit-reversed).
        let lens = [3u8, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        canonical_codes(&lens, &mut codes);
        let expect = [0b010u16, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for ((&c, &e), &l) in codes.iter().zip(&expect).zip(&lens) {
            assert_eq!(c, e.reverse_bits() >> (16 - l));
        }
    }
}
