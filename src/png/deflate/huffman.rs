//! Length-limited canonical Huffman codes (RFC 1951 section 3.2.2).
//!
//! Lengths come from an ordinary Huffman tree (two-queue construction over the symbols sorted
//! by frequency); when the tree is deeper than the limit, the length counts are rebalanced the
//! way JPEG does it (ITU T.81 annex K.3: move pairs of deepest leaves up, split a shallower leaf)
//! and the lengths are dealt out again, shortest to the most frequent. At most 286 symbols, so
//! all of this costs a few microseconds per block.

/// Code lengths (each `<= limit`) for `freqs` into `lens` (same length). Unused symbols get 0.
/// Whenever fewer than two symbols are used, two get length 1, so that the code is always
/// complete: zlib's inflate refuses an incomplete code-length code.
pub(super) fn code_lengths(freqs: &[u32], limit: u32, lens: &mut [u8]) {
    debug_assert_eq!(freqs.len(), lens.len());
    debug_assert!(freqs.len() >= 2 && freqs.len() <= 1 << limit);
    lens.fill(0);
    let mut leaves: Vec<(u32, u16)> = freqs
        .iter()
        .enumerate()
        .filter(|&(_, &f)| f > 0)
        .map(|(s, &f)| (f, s as u16))
        .collect();
    if leaves.len() < 2 {
        let used = leaves.first().map_or(0, |&(_, s)| usize::from(s));
        lens[used] = 1;
        lens[if used == 0 { 1 } else { 0 }] = 1;
        return;
    }
    leaves.sort_unstable();
    let m = leaves.len();

    // Two-queue Huffman: leaves (already sorted) and internal nodes (created in
    // non-decreasing weight order). Node k < m is leaf k, node m + j is internal node j.
    let mut weight: Vec<u64> = Vec::with_capacity(2 * m - 1);
    weight.extend(leaves.iter().map(|&(f, _)| u64::from(f)));
    let mut parent = vec![0usize; 2 * m - 1];
    let (mut next_leaf, mut next_inner) = (0usize, m);
    for k in m..2 * m - 1 {
        let mut pick = || {
            let take_leaf =
                next_leaf < m && (next_inner >= k || weight[next_leaf] <= weight[next_inner]);
            if take_leaf {
                next_leaf += 1;
                next_leaf - 1
            } else {
                next_inner += 1;
                next_inner - 1
            }
        };
        let a = pick();
        let b = pick();
        weight.push(weight[a] + weight[b]);
        parent[a] = k;
        parent[b] = k;
    }
    // Parents have larger indices than children: one reverse pass gives every depth.
    let mut depth = vec![0u32; 2 * m - 1];
    for k in (0..2 * m - 2).rev() {
        depth[k] = depth[parent[k]] + 1;
    }
    let max_depth = depth[..m].iter().copied().max().unwrap_or(0) as usize;
    let mut count = vec![0u32; max_depth.max(limit as usize) + 1];
    for &d in &depth[..m] {
        count[d as usize] += 1;
    }
    let limit = limit as usize;
    let mut i = max_depth;
    while i > limit {
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
        i -= 1;
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
