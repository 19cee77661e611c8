//! PNG encoder for label maps: the chunk framing around `deflate`'s compressor.
//!
//! - `u8` labels -> colour type 3 (palette): the caller's palette first, padded with the DAVIS
//!   colours (so every label keeps a distinct, visible colour); all 256 entries
//!   (`PaletteSize::Full`) or entries 0..=max(label) (`PaletteSize::Used`: a full PLTE is 780 B,
//!   ~30% of a "small" 854x480 file). Pillow reads the indices back unchanged and
//!   `getpalette()` gives the entries written. 8-bit, except `Small` (below).
//! - `u16` labels -> colour type 0 (grayscale), 16-bit, big-endian samples.
//!
//! Compression presets:
//! - `Fast` (default): filter 0 on every row (what Pillow and the DAVIS tools write for palette
//!   images) compressed by `deflate::compress_rows`, which is tuned for label maps;
//! - `Small`: labels packed to the lowest bit depth that holds them (1, 2, 4 or 8), filter 0,
//!   the smaller of Zopfli (optimal parsing) and `compress_rows`. Pillow's `optimize=True` is
//!   zlib level 9 on filter-0 rows; zlib-rs level 9 came out up to 0.5% larger than that on 24
//!   of 128 corpus masks (a different match finder), Zopfli smaller on all 128 (11% in total);
//!   zlib level 9 on Up / Sub / Paeth rows, or with the RLE or filtered strategies, never beat
//!   it. With the used palette: 1,311 B per OSVOS mask on average against Pillow optimize's
//!   2,601 B (1,738 B given only the used palette) and imagecodecs level 9's 1,992 B (50 masks).
//!   It costs 0.3-0.6 s of CPU per 854x480 mask on the shared dev machine (Pillow's optimize
//!   ~16 ms), so it is for archiving, not for the hot path;
//! - `Level(n)`: zlib level `n` (0..=9) on filter-0 rows, like Pillow's `compress_level=n`;
//!   levels 1..9 keep the `compress_rows` stream when it is smaller.

use super::decode::SIGNATURE;
use super::deflate;
use super::palette::Rgb;
use crate::error::{Error, Result};

/// IDAT chunks are split at 1 MiB: masks compress to a few KB (one chunk), and no reader needs a
/// buffer larger than this for level-0 output of big images.
pub const IDAT_SPLIT: usize = 1 << 20;

/// How hard to compress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Fast,
    Small,
    Level(u8),
}

impl PaletteSize {
    /// "full" or "used".
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "full" => Ok(PaletteSize::Full),
            "used" => Ok(PaletteSize::Used),
            other => Err(Error::param(format!(
                "unknown palette_size {other:?}: expected \"full\" or \"used\""
            ))),
        }
    }
}

impl Compression {
    /// "fast" or "small".
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "fast" => Ok(Compression::Fast),
            "small" => Ok(Compression::Small),
            other => Err(Error::param(format!(
                "unknown compression {other:?}: expected \"fast\", \"small\" or a zlib level 0..9"
            ))),
        }
    }

    pub fn from_level(level: i64) -> Result<Self> {
        if (0..=9).contains(&level) {
            Ok(Compression::Level(level as u8))
        } else {
            Err(Error::param(format!(
                "compression level must be 0..9, got {level}"
            )))
        }
    }
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    let crc = zlib_rs::crc32::crc32(zlib_rs::crc32::crc32(0, kind), body);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn check_size(height: usize, width: usize, samples: usize) -> Result<(u32, u32)> {
    if width == 0 || height == 0 {
        return Err(Error::shape(format!(
            "cannot write an empty {height} x {width} image: PNG needs width and height of at least 1"
        )));
    }
    let limit = 0x7FFF_FFFFusize;
    if width > limit || height > limit {
        return Err(Error::shape(format!(
            "image of {height} x {width} is too large for PNG (at most 2^31-1 per side)"
        )));
    }
    if samples != width * height {
        return Err(Error::shape(format!(
            "{samples} labels do not make a {height} x {width} image"
        )));
    }
    Ok((width as u32, height as u32))
}

fn ihdr(width: u32, height: u32, depth: u8, color_type: u8) -> [u8; 13] {
    let mut b = [0u8; 13];
    b[0..4].copy_from_slice(&width.to_be_bytes());
    b[4..8].copy_from_slice(&height.to_be_bytes());
    b[8] = depth;
    b[9] = color_type;
    b
}

/// Rows of `row_len` bytes, each prefixed with filter type 0.
fn filter0_rows(bytes: &[u8], row_len: usize) -> Vec<u8> {
    let mut raw = Vec::with_capacity(bytes.len() + bytes.len() / row_len.max(1));
    for row in bytes.chunks_exact(row_len) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    raw
}

/// The zlib stream for `bytes` (rows of `row_len` bytes, filters not yet applied).
fn compress(bytes: &[u8], row_len: usize, compression: Compression) -> Result<Vec<u8>> {
    compress_raw(&filter0_rows(bytes, row_len), row_len, compression)
}

/// The zlib stream for filtered rows `raw` (each `row_len` bytes after its filter byte).
fn compress_raw(raw: &[u8], row_len: usize, compression: Compression) -> Result<Vec<u8>> {
    let best = match compression {
        Compression::Fast | Compression::Level(0) => {
            return match compression {
                Compression::Fast => deflate::compress_rows(raw, row_len + 1),
                _ => deflate::compress_level(raw, 0),
            }
        }
        Compression::Level(n) => deflate::compress_level(raw, i32::from(n))?,
        Compression::Small => zopfli_zlib(raw)?,
    };
    // Levels 1..9 and Zopfli also try our row-aware compressor and keep the smaller stream:
    // zlib level 9 came out larger than "fast" on 62 of 68 corpus masks (by up to 195 B), and
    // "fast" costs ~4% of a level-9 encode.
    let rows = deflate::compress_rows(raw, row_len + 1)?;
    Ok(if rows.len() < best.len() { rows } else { best })
}

/// A zlib stream (RFC 1950) around Zopfli's deflate data: one squeeze iteration (more gave
/// under 1% on masks for several times the time) and at most 3 block splits (the default 15
/// gave 0.02% smaller files on 40 OSVOS masks for 16% more time).
fn zopfli_zlib(raw: &[u8]) -> Result<Vec<u8>> {
    // CMF 0x78 (deflate, 32 KB window), FLG 0xDA (maximum compression; 0x78DA % 31 == 0).
    let mut out = vec![0x78, 0xDA];
    let options = zopfli::Options {
        iteration_count: std::num::NonZeroU64::MIN,
        maximum_block_splits: 3,
        ..zopfli::Options::default()
    };
    zopfli::compress(options, zopfli::Format::Deflate, raw, &mut out)
        .map_err(|e| Error::param(format!("zopfli compression failed: {e}")))?;
    out.extend_from_slice(&zlib_rs::adler32::adler32(1, raw).to_be_bytes());
    Ok(out)
}

fn assemble(ihdr: &[u8; 13], plte: Option<&[u8]>, zdata: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(zdata.len() + 8 + 25 + 12 + 3 * 256 + 12 + 12);
    out.extend_from_slice(&SIGNATURE);
    write_chunk(&mut out, b"IHDR", ihdr);
    if let Some(p) = plte {
        write_chunk(&mut out, b"PLTE", p);
    }
    for part in zdata.chunks(IDAT_SPLIT) {
        write_chunk(&mut out, b"IDAT", part);
    }
    if zdata.is_empty() {
        write_chunk(&mut out, b"IDAT", &[]);
    }
    write_chunk(&mut out, b"IEND", &[]);
    out
}

/// How many PLTE entries an 8-bit palette file gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaletteSize {
    /// All 256 entries (the caller's palette padded with the DAVIS colours).
    Full,
    /// Entries 0..=max(label) only: the colours the labels can show.
    Used,
}

/// Pack rows of `width` labels (each `< 1 << depth`, depth 1, 2 or 4) MSB first, as PNG
/// stores low bit depths; each row starts with filter type 0.
fn packed_rows(labels: &[u8], width: usize, depth: usize) -> (Vec<u8>, usize) {
    let per_byte = 8 / depth;
    let row_len = width.div_ceil(per_byte);
    let mut raw = Vec::with_capacity((row_len + 1) * (labels.len() / width.max(1)));
    for row in labels.chunks_exact(width) {
        raw.push(0);
        for group in row.chunks(per_byte) {
            let mut b = 0u8;
            for (k, &v) in group.iter().enumerate() {
                b |= v << (8 - depth * (k + 1));
            }
            raw.push(b);
        }
    }
    (raw, row_len)
}

/// Encode an (height, width) map of 8-bit labels (row-major) as a palette PNG: 8-bit, or for
/// `Small` the lowest bit depth (1, 2, 4 or 8) that holds every label.
pub fn encode_indexed(
    labels: &[u8],
    height: usize,
    width: usize,
    palette: &[Rgb; 256],
    compression: Compression,
    palette_size: PaletteSize,
) -> Result<Vec<u8>> {
    let (w, h) = check_size(height, width, labels.len())?;
    let max = if palette_size == PaletteSize::Used || compression == Compression::Small {
        labels.iter().copied().max().unwrap_or(0)
    } else {
        255
    };
    let entries = match palette_size {
        PaletteSize::Full => 256,
        PaletteSize::Used => usize::from(max) + 1,
    };
    let plte: Vec<u8> = palette[..entries].iter().flatten().copied().collect();
    // "small" packs the labels to the lowest bit depth that holds them (as Pillow does for
    // palettes of <= 16 colours): Zopfli then reads 2-8x fewer bytes (0.58 -> 0.38 s per OSVOS
    // frame, CPU time on a loaded machine) and the stream came out 18% smaller (40 OSVOS masks,
    // 1645 -> 1342 B); trying 8-bit as well saved 3 B per file for 2.7x the time.
    let depth = match (compression, max) {
        (Compression::Small, 0..=1) => 1,
        (Compression::Small, 2..=3) => 2,
        (Compression::Small, 4..=15) => 4,
        _ => 8,
    };
    let zdata = if depth == 8 {
        compress(labels, width, compression)?
    } else {
        let (raw, row_len) = packed_rows(labels, width, depth);
        compress_raw(&raw, row_len, compression)?
    };
    Ok(assemble(&ihdr(w, h, depth as u8, 3), Some(&plte), &zdata))
}

/// Encode an (height, width) map of 16-bit labels (row-major) as a 16-bit grayscale PNG.
pub fn encode_gray16(
    labels: &[u16],
    height: usize,
    width: usize,
    compression: Compression,
) -> Result<Vec<u8>> {
    let (w, h) = check_size(height, width, labels.len())?;
    let bytes: Vec<u8> = labels.iter().flat_map(|v| v.to_be_bytes()).collect();
    let zdata = compress(&bytes, 2 * width, compression)?;
    Ok(assemble(&ihdr(w, h, 16, 0), None, &zdata))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::decode::{decode, Limits, Mode, Samples};
    use crate::png::palette::DAVIS_PALETTE;

    fn blobs(h: usize, w: usize) -> Vec<u8> {
        (0..h * w)
            .map(|i| {
                let (y, x) = ((i / w) as i64, (i % w) as i64);
                if (y - 20).pow(2) + (x - 30).pow(2) < 200 {
                    1
                } else if (x / 7 + y / 5) % 9 == 0 {
                    3
                } else {
                    0
                }
            })
            .collect()
    }

    #[test]
    fn round_trip_every_preset() {
        let (h, w) = (37, 61);
        let labels = blobs(h, w);
        for c in [
            Compression::Fast,
            Compression::Small,
            Compression::Level(0),
            Compression::Level(9),
        ] {
            let png = encode_indexed(&labels, h, w, &DAVIS_PALETTE, c, PaletteSize::Full).unwrap();
            let (spec, s) = decode(&png, &Mode::Raw, &Limits::default()).unwrap();
            assert_eq!(spec.shape(), vec![h, w]);
            match s {
                Samples::U8(v) => assert_eq!(v, labels, "{c:?}"),
                Samples::U16(_) => panic!(),
            }
        }
    }

    #[test]
    fn small_is_never_larger_than_level_9() {
        let (h, w) = (120, 200);
        let labels = blobs(h, w);
        let small = encode_indexed(
            &labels,
            h,
            w,
            &DAVIS_PALETTE,
            Compression::Small,
            PaletteSize::Full,
        )
        .unwrap();
        let l9 = encode_indexed(
            &labels,
            h,
            w,
            &DAVIS_PALETTE,
            Compression::Level(9),
            PaletteSize::Full,
        )
        .unwrap();
        assert!(small.len() <= l9.len());
    }

    #[test]
    fn small_packs_low_depths_and_used_trims_the_palette() {
        let (h, w) = (9, 13); // 13 is not a multiple of 8, 4 or 2: rows end in a partial byte
        for (max, depth) in [(0u8, 1u8), (1, 1), (3, 2), (15, 4), (16, 8), (255, 8)] {
            let labels: Vec<u8> = (0..h * w)
                .map(|i| (i * 7 % (max as usize + 1)) as u8)
                .collect();
            for size in [PaletteSize::Full, PaletteSize::Used] {
                let png = encode_indexed(&labels, h, w, &DAVIS_PALETTE, Compression::Small, size)
                    .unwrap();
                assert_eq!(png[24], depth, "bit depth for max {max}");
                let (spec, s) = decode(&png, &Mode::Raw, &Limits::default()).unwrap();
                assert_eq!(spec.shape(), vec![h, w]);
                assert!(
                    matches!(s, Samples::U8(v) if v == labels),
                    "max {max} {size:?}"
                );
                let plte_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
                let n = if size == PaletteSize::Used {
                    usize::from(max) + 1
                } else {
                    256
                };
                assert_eq!((&png[37..41], plte_len), (&b"PLTE"[..], 3 * n));
            }
        }
        assert!(PaletteSize::from_name("some").is_err());
    }

    #[test]
    fn gray16_round_trip() {
        let (h, w) = (5, 7);
        let labels: Vec<u16> = (0..35u16).map(|i| i * 1000 + 7).collect();
        let png = encode_gray16(&labels, h, w, Compression::Small).unwrap();
        match decode(&png, &Mode::Raw, &Limits::default()).unwrap().1 {
            Samples::U16(v) => assert_eq!(v, labels),
            Samples::U8(_) => panic!(),
        }
    }

    #[test]
    fn empty_and_mismatched_sizes_are_errors() {
        assert!(encode_indexed(
            &[],
            0,
            5,
            &DAVIS_PALETTE,
            Compression::Fast,
            PaletteSize::Full
        )
        .is_err());
        assert!(encode_indexed(
            &[1, 2, 3],
            2,
            2,
            &DAVIS_PALETTE,
            Compression::Fast,
            PaletteSize::Full
        )
        .is_err());
        assert!(Compression::from_level(10).is_err());
        assert!(Compression::from_name("best").is_err());
    }
}
