//! LSB-first bit writer (RFC 1951 section 3.1.1) over a 64-bit accumulator.

pub(super) struct BitWriter {
    pub(super) out: Vec<u8>,
    acc: u64,
    /// Bits held in `acc`; always < 32 between calls.
    n: u32,
}

impl BitWriter {
    pub(super) fn new(out: Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Append the low `len` bits of `bits` (`len <= 32`, higher bits of `bits` zero).
    #[inline(always)]
    pub(super) fn put(&mut self, bits: u32, len: u32) {
        debug_assert!(len <= 32 && (len == 32 || bits >> len == 0));
        self.acc |= u64::from(bits) << self.n;
        self.n += len;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    /// Pad with zero bits to a byte boundary and flush everything to `out`.
    pub(super) fn align(&mut self) {
        while self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n = self.n.saturating_sub(8);
        }
        self.acc = 0;
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        self.align();
        self.out
    }
}
