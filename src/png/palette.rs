//! Palettes: the DAVIS / PASCAL VOC colour map and colour -> label lookup.
//!
//! DAVIS, YouTube-VOS, MOSE and LVOS masks all carry the PASCAL VOC "bit-interleaved" colour map:
//! bit k of the label goes to bit (7 - k / 3) of the red, green or blue channel (k % 3 = 0, 1, 2).
//! Label 1 is (128, 0, 0), 2 is (0, 128, 0), 3 is (128, 128, 0), 4 is (0, 0, 128), ...

use std::collections::HashMap;

/// An RGB palette entry.
pub type Rgb = [u8; 3];

/// The 256-entry PASCAL VOC colour map that DAVIS writes into every mask.
pub const DAVIS_PALETTE: [Rgb; 256] = davis_palette();

const fn davis_palette() -> [Rgb; 256] {
    let mut pal = [[0u8; 3]; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i;
        let mut j = 0;
        while j < 8 {
            // Bit (3j + ch) of the label becomes bit (7 - j) of channel ch.
            let mut ch = 0;
            while ch < 3 {
                pal[i][ch] |= (((c >> ch) & 1) as u8) << (7 - j);
                ch += 1;
            }
            c >>= 3;
            j += 1;
        }
        i += 1;
    }
    pal
}

/// Parse a packed palette (`3 * N` bytes, N in 1..=256) into entries.
pub fn entries(packed: &[u8]) -> Option<Vec<Rgb>> {
    if packed.is_empty() || packed.len() % 3 != 0 || packed.len() > 3 * 256 {
        return None;
    }
    Some(packed.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect())
}

/// A full 256-entry palette: `given` first, then the DAVIS colours for the remaining indices,
/// so that every label stays visible and distinct in an image viewer whatever palette is given.
pub fn full_palette(given: Option<&[Rgb]>) -> [Rgb; 256] {
    let mut pal = DAVIS_PALETTE;
    if let Some(given) = given {
        for (dst, src) in pal.iter_mut().zip(given) {
            *dst = *src;
        }
    }
    pal
}

/// Exact colour -> label lookup for masks saved as RGB(A) colour images.
///
/// An open-addressing table of 1024 slots (4x the largest palette, so probes stay short) keyed by
/// the packed colour. Masks are long runs of one colour, so the last hit is cached first.
/// Unknown colours are collected for the error message up to a fixed number of distinct ones
/// ([`ColorLookup::is_full`] then tells the decoder to stop): memory and time stay bounded
/// whatever the file (an image with a different colour in every pixel took 1.1 GB and 5.4 s
/// when every unknown colour was kept).
pub struct ColorLookup {
    slots: Vec<u32>,
    labels: Vec<u8>,
    last: (u32, u8),
    /// Colours not in the palette, in order of first appearance, with their pixel counts.
    unknown: Vec<(u32, u64)>,
    unknown_index: HashMap<u32, usize>,
    max_unknown: usize,
}

const EMPTY: u32 = u32::MAX;
const SLOTS: usize = 1024;

fn pack(c: Rgb) -> u32 {
    (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2])
}

fn slot_of(key: u32) -> usize {
    // Fibonacci hashing of the 24-bit colour into 10 bits.
    (key.wrapping_mul(0x9E37_79B9) >> 22) as usize
}

impl ColorLookup {
    /// Build from up to 256 palette entries; a colour listed twice maps to its first index.
    /// At most `max_unknown` (at least 1) distinct unknown colours are collected.
    pub fn new(palette: &[Rgb], max_unknown: usize) -> Self {
        let mut slots = vec![EMPTY; SLOTS];
        let mut labels = vec![0u8; SLOTS];
        for (index, &c) in palette.iter().enumerate().take(256) {
            let key = pack(c);
            let mut s = slot_of(key);
            loop {
                if slots[s] == key {
                    break; // keep the first index
                }
                if slots[s] == EMPTY {
                    slots[s] = key;
                    labels[s] = index as u8;
                    break;
                }
                s = (s + 1) % SLOTS;
            }
        }
        let first = palette.first().map_or((EMPTY, 0), |&c| (pack(c), 0));
        ColorLookup {
            slots,
            labels,
            last: first,
            unknown: Vec::new(),
            unknown_index: HashMap::new(),
            max_unknown: max_unknown.max(1),
        }
    }

    /// True once `max_unknown` distinct unknown colours were seen: the image cannot be mapped,
    /// and the decoder stops rather than collect more.
    pub fn is_full(&self) -> bool {
        self.unknown.len() >= self.max_unknown
    }

    fn find(&self, key: u32) -> Option<u8> {
        let mut s = slot_of(key);
        loop {
            match self.slots[s] {
                k if k == key => return Some(self.labels[s]),
                EMPTY => return None,
                _ => s = (s + 1) % SLOTS,
            }
        }
    }

    /// Label of one colour; an unknown colour is counted and gets label 0.
    #[inline]
    pub fn label(&mut self, c: Rgb) -> u8 {
        let key = pack(c);
        if key == self.last.0 {
            return self.last.1;
        }
        match self.find(key) {
            Some(l) => {
                self.last = (key, l);
                l
            }
            None => {
                self.count_unknown(key);
                0
            }
        }
    }

    fn count_unknown(&mut self, key: u32) {
        match self.unknown_index.get(&key) {
            Some(&i) => self.unknown[i].1 += 1,
            None if self.unknown.len() < self.max_unknown => {
                self.unknown_index.insert(key, self.unknown.len());
                self.unknown.push((key, 1));
            }
            // The table is full: the decoder stops at the end of this row.
            None => {}
        }
    }

    /// `None` when every colour was found, else a description of the unknown ones:
    /// the first `show` colours (in order of appearance) with their pixel counts, and totals.
    pub fn unknown_report(&self, show: usize) -> Option<String> {
        if self.unknown.is_empty() {
            return None;
        }
        let total: u64 = self.unknown.iter().map(|u| u.1).sum();
        let listed: Vec<String> = self
            .unknown
            .iter()
            .take(show)
            .map(|&(k, n)| {
                format!(
                    "({}, {}, {}) in {n} pixel{}",
                    k >> 16,
                    (k >> 8) & 0xFF,
                    k & 0xFF,
                    if n == 1 { "" } else { "s" }
                )
            })
            .collect();
        let more = if self.unknown.len() > show {
            format!(", and {} more", self.unknown.len() - show)
        } else {
            String::new()
        };
        if self.is_full() {
            return Some(format!(
                "at least {} colours are not in the palette (decoding stopped after {} \
                 distinct unknown colours in {total} pixels): {}{more}",
                self.unknown.len(),
                self.unknown.len(),
                listed.join(", ")
            ));
        }
        Some(format!(
            "{} colour{} in {total} pixel{} {} not in the palette: {}{more}",
            self.unknown.len(),
            if self.unknown.len() == 1 { "" } else { "s" },
            if total == 1 { "" } else { "s" },
            if self.unknown.len() == 1 { "is" } else { "are" },
            listed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formula from the DAVIS toolkit (`davis2017/utils.py: color_map`), written out.
    fn bitget(v: usize, idx: usize) -> u8 {
        ((v >> idx) & 1) as u8
    }

    #[test]
    fn davis_palette_matches_the_toolkit_formula() {
        for (i, entry) in DAVIS_PALETTE.iter().enumerate() {
            let (mut r, mut g, mut b) = (0u8, 0u8, 0u8);
            let mut c = i;
            for j in 0..8 {
                r |= bitget(c, 0) << (7 - j);
                g |= bitget(c, 1) << (7 - j);
                b |= bitget(c, 2) << (7 - j);
                c >>= 3;
            }
            assert_eq!(*entry, [r, g, b], "entry {i}");
        }
        assert_eq!(DAVIS_PALETTE[1], [128, 0, 0]);
        assert_eq!(DAVIS_PALETTE[2], [0, 128, 0]);
    }

    #[test]
    fn lookup_finds_every_entry_and_counts_unknowns() {
        let mut lk = ColorLookup::new(&DAVIS_PALETTE, 64);
        for (i, &c) in DAVIS_PALETTE.iter().enumerate() {
            assert_eq!(lk.label(c), i as u8);
        }
        assert!(lk.unknown_report(3).is_none());
        lk.label([1, 2, 3]);
        lk.label([1, 2, 3]);
        lk.label([9, 9, 9]);
        let r = lk.unknown_report(1).unwrap();
        assert!(r.starts_with("2 colours in 3 pixels are not"), "{r}");
        assert!(r.contains("(1, 2, 3) in 2 pixels, and 1 more"), "{r}");
    }

    #[test]
    fn unknown_colours_are_bounded() {
        let mut lk = ColorLookup::new(&DAVIS_PALETTE, 3);
        for i in 0..1000u32 {
            lk.label([1, (i >> 8) as u8, i as u8]);
            if i < 2 {
                assert!(!lk.is_full());
            }
        }
        assert!(lk.is_full());
        assert_eq!(lk.unknown.len(), 3);
        assert_eq!(lk.unknown_index.len(), 3);
        let r = lk.unknown_report(2).unwrap();
        assert!(
            r.starts_with("at least 3 colours are not in the palette"),
            "{r}"
        );
        assert!(
            r.contains("(1, 0, 0) in 1 pixel, (1, 0, 1) in 1 pixel, and 1 more"),
            "{r}"
        );
    }

    #[test]
    fn duplicate_colours_map_to_the_first_index() {
        let mut lk = ColorLookup::new(&[[0, 0, 0], [5, 5, 5], [0, 0, 0]], 64);
        assert_eq!(lk.label([5, 5, 5]), 1);
        assert_eq!(lk.label([0, 0, 0]), 0);
    }

    #[test]
    fn full_palette_pads_with_davis_colours() {
        let p = full_palette(Some(&[[1, 2, 3]]));
        assert_eq!(p[0], [1, 2, 3]);
        assert_eq!(p[1..], DAVIS_PALETTE[1..]);
    }
}
