//! zlib stream compressor for PNG scanlines of label maps.
//!
//! PLACEHOLDER: zlib-rs level 1 until the mask-tuned compressor lands. The interface is fixed:
//! `compress_rows(raw, row_len)` takes the filtered scanlines (each `row_len` bytes long,
//! the filter-type byte first) and returns a complete zlib stream (header, deflate data, Adler-32).

use crate::error::{Error, Result};

/// Compress PNG scanlines (`raw.len()` a multiple of `row_len`) into one zlib stream.
pub fn compress_rows(raw: &[u8], row_len: usize) -> Result<Vec<u8>> {
    if row_len == 0 || raw.len() % row_len != 0 {
        return Err(Error::param(format!(
            "scanline data of {} bytes is not a whole number of {row_len}-byte rows",
            raw.len()
        )));
    }
    compress_level(raw, 1)
}

/// Compress `raw` with zlib-rs at `level` (0..=9), default strategy.
pub fn compress_level(raw: &[u8], level: i32) -> Result<Vec<u8>> {
    if !(0..=9).contains(&level) {
        return Err(Error::param(format!(
            "zlib level must be 0..9, got {level}"
        )));
    }
    let mut out = vec![0u8; zlib_rs::compress_bound(raw.len())];
    let config = zlib_rs::DeflateConfig::new(level);
    let (written, rc) = zlib_rs::compress_slice(&mut out, raw, config);
    if rc != zlib_rs::ReturnCode::Ok {
        return Err(Error::param(format!("zlib compression failed: {rc:?}")));
    }
    let n = written.len();
    out.truncate(n);
    Ok(out)
}
