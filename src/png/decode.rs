//! PNG decoder for masks.
//!
//! Two steps, like image-png's decoder: [`parse`] walks the chunks (signature, CRC of every chunk,
//! IHDR validation, PLTE / tRNS, the IDAT list, IEND) without decompressing anything, and checks
//! the [`Limits`] budget before any allocation; [`decode_into`] inflates the IDAT data a group
//! of rows at a time into a bounded buffer and stops at exactly the number of scanline bytes
//! IHDR implies (so a decompression bomb cannot grow memory), undoes the row filters in place,
//! and writes the samples straight into the caller's output slice (a numpy array for the
//! bindings, one frame of a batch without any copy).
//!
//! Memory follows the data, not the header: the per-thread scratch is at most 2 x (128 KB + 8)
//! bytes (rows wider than 128 KB are inflated in segments), [`decode_png`] grows its output
//! with the rows decoded from a first capacity the compressed size can fill, and every such
//! allocation is fallible ([`Error::Memory`]). A 68-byte file whose header claims 89 M RGBA
//! pixels took 683 MB before it failed; it now takes kilobytes (NOTES.md, issue 11).
//!
//! Output is the stored sample values: palette indices, gray values (1/2/4-bit unpacked to one
//! byte per pixel, not rescaled), 16-bit samples as `u16`. In [`Mode::Labels`] a gray+alpha image
//! gives its gray channel and an RGB(A) image is mapped colour -> palette index (alpha ignored);
//! [`Mode::Raw`] gives every stored channel.
//!
//! Where the time goes for a typical 854x480 palette mask (one ~3 KB IDAT, filter 0 on every
//! row), measured in Rust on the benchmark machine: inflate ~29 us into a reused,
//! cache-resident buffer of rows, then one `memcpy` per row into the output: ~42 us in all.
//! Inflating straight into the output instead (two inflate calls per row, to step over the
//! filter bytes) took ~61 us for the inflate alone: zlib then keeps its own window copy of
//! everything it writes.

use std::cell::RefCell;

use zlib_rs::{Inflate, InflateFlush, Status};

use super::filter::unfilter;
use super::palette::{ColorLookup, Rgb};
use crate::error::{try_filled, try_reserve, Error, Result};

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Pillow's `Image.MAX_IMAGE_PIXELS` (above it Pillow warns, above twice it refuses).
pub const DEFAULT_MAX_PIXELS: u64 = 89_478_485;

/// The largest chunk length the PNG specification allows (2^31 - 1).
pub const MAX_CHUNK_LEN: u32 = 0x7FFF_FFFF;

/// Resource budget, checked while parsing, before anything is allocated or inflated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest width * height accepted.
    pub max_pixels: u64,
    /// Largest single chunk accepted (bytes of chunk data).
    pub max_chunk_bytes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_chunk_bytes: MAX_CHUNK_LEN,
        }
    }
}

impl Limits {
    /// No pixel limit (for header-only inspection).
    pub fn unlimited() -> Self {
        Limits {
            max_pixels: u64::MAX,
            max_chunk_bytes: MAX_CHUNK_LEN,
        }
    }
}

/// PNG colour types (IHDR byte 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorType {
    Gray,
    Rgb,
    Indexed,
    GrayAlpha,
    Rgba,
}

impl ColorType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => ColorType::Gray,
            2 => ColorType::Rgb,
            3 => ColorType::Indexed,
            4 => ColorType::GrayAlpha,
            6 => ColorType::Rgba,
            _ => return None,
        })
    }

    /// The IHDR code (0, 2, 3, 4 or 6).
    pub fn code(self) -> u8 {
        match self {
            ColorType::Gray => 0,
            ColorType::Rgb => 2,
            ColorType::Indexed => 3,
            ColorType::GrayAlpha => 4,
            ColorType::Rgba => 6,
        }
    }

    /// Samples per pixel as stored.
    pub fn channels(self) -> usize {
        match self {
            ColorType::Gray | ColorType::Indexed => 1,
            ColorType::GrayAlpha => 2,
            ColorType::Rgb => 3,
            ColorType::Rgba => 4,
        }
    }

    /// A human name: "grayscale", "RGB", "palette", "grayscale+alpha", "RGBA".
    pub fn name(self) -> &'static str {
        match self {
            ColorType::Gray => "grayscale",
            ColorType::Rgb => "RGB",
            ColorType::Indexed => "palette",
            ColorType::GrayAlpha => "grayscale+alpha",
            ColorType::Rgba => "RGBA",
        }
    }

    fn allowed_depths(self) -> &'static [u8] {
        match self {
            ColorType::Gray => &[1, 2, 4, 8, 16],
            ColorType::Indexed => &[1, 2, 4, 8],
            _ => &[8, 16],
        }
    }
}

/// The IHDR fields that matter for decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u8,
    pub color_type: ColorType,
    pub interlaced: bool,
}

/// One Adam7 pass (or the whole image when not interlaced).
#[derive(Clone, Copy, Debug)]
struct Pass {
    x0: usize,
    y0: usize,
    dx: usize,
    dy: usize,
    w: usize,
    h: usize,
}

const ADAM7: [(usize, usize, usize, usize); 7] = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
];

impl Header {
    /// Bits per pixel as stored.
    pub fn bits_per_pixel(&self) -> usize {
        self.color_type.channels() * usize::from(self.bit_depth)
    }

    /// Bytes of one filtered row of `width` pixels, without the filter-type byte.
    fn row_bytes(&self, width: usize) -> usize {
        (width * self.bits_per_pixel()).div_ceil(8)
    }

    /// The filter distance: bytes per complete pixel, at least 1.
    fn filter_bpp(&self) -> usize {
        self.bits_per_pixel().div_ceil(8)
    }

    fn passes(&self) -> Vec<Pass> {
        let (w, h) = (self.width as usize, self.height as usize);
        if !self.interlaced {
            return vec![Pass {
                x0: 0,
                y0: 0,
                dx: 1,
                dy: 1,
                w,
                h,
            }];
        }
        ADAM7
            .iter()
            .map(|&(x0, y0, dx, dy)| Pass {
                x0,
                y0,
                dx,
                dy,
                w: w.saturating_sub(x0).div_ceil(dx),
                h: h.saturating_sub(y0).div_ceil(dy),
            })
            .filter(|p| p.w > 0 && p.h > 0)
            .collect()
    }

    /// Size of the inflated image data: every row of every pass with its filter byte.
    /// Only called after the pixel limit was checked, so it cannot overflow on 64-bit.
    pub fn scanline_bytes(&self) -> usize {
        self.passes()
            .iter()
            .map(|p| p.h * (1 + self.row_bytes(p.w)))
            .sum()
    }
}

/// A chunk as found in the file (for `fastmask info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkInfo {
    pub kind: [u8; 4],
    pub len: u32,
}

impl ChunkInfo {
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.kind).into_owned()
    }
}

/// A parsed (not yet decompressed) PNG, borrowing the file bytes.
#[derive(Debug)]
pub struct Png<'a> {
    pub header: Header,
    /// The PLTE chunk data (3 bytes per entry, 1..=256 entries), if any.
    pub palette: Option<&'a [u8]>,
    /// The tRNS chunk data, if any (kept only to report it: output ignores transparency).
    pub trns: Option<&'a [u8]>,
    /// Every chunk in file order, up to and including IEND.
    pub chunks: Vec<ChunkInfo>,
    idat: Vec<&'a [u8]>,
}

impl Png<'_> {
    /// Number of PLTE entries (0 when there is no PLTE).
    pub fn palette_entries(&self) -> usize {
        self.palette.map_or(0, |p| p.len() / 3)
    }

    /// Total bytes of compressed image data (all IDAT chunks).
    pub fn idat_bytes(&self) -> usize {
        self.idat.iter().map(|c| c.len()).sum()
    }

    /// The IDAT chunks' data in order (one zlib stream split across them).
    pub fn idat(&self) -> &[&[u8]] {
        &self.idat
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn parse_ihdr(body: &[u8], limits: &Limits) -> Result<Header> {
    if body.len() != 13 {
        return Err(Error::png(format!(
            "bad IHDR: expected 13 bytes, found {}",
            body.len()
        )));
    }
    let width = be32(&body[0..4]);
    let height = be32(&body[4..8]);
    let (bit_depth, color_code) = (body[8], body[9]);
    let (compression, filter, interlace) = (body[10], body[11], body[12]);
    if width == 0 || height == 0 {
        return Err(Error::png(format!(
            "bad IHDR: image size {width} x {height}, expected width and height of at least 1"
        )));
    }
    if width > MAX_CHUNK_LEN || height > MAX_CHUNK_LEN {
        return Err(Error::png(format!(
            "bad IHDR: image size {width} x {height}, the PNG maximum is 2^31-1 per side"
        )));
    }
    let color_type = ColorType::from_code(color_code).ok_or_else(|| {
        Error::png(format!(
            "bad IHDR: unknown colour type {color_code} (expected 0, 2, 3, 4 or 6)"
        ))
    })?;
    let allowed = color_type.allowed_depths();
    if !allowed.contains(&bit_depth) {
        let list: Vec<String> = allowed.iter().map(|d| d.to_string()).collect();
        return Err(Error::png(format!(
            "unsupported bit depth {bit_depth} for colour type {color_code} ({}): expected {}",
            color_type.name(),
            list.join(", ")
        )));
    }
    if compression != 0 {
        return Err(Error::png(format!(
            "bad IHDR: unknown compression method {compression} (expected 0)"
        )));
    }
    if filter != 0 {
        return Err(Error::png(format!(
            "bad IHDR: unknown filter method {filter} (expected 0)"
        )));
    }
    if interlace > 1 {
        return Err(Error::png(format!(
            "bad IHDR: unknown interlace method {interlace} (expected 0 or 1)"
        )));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(Error::limit(format!(
            "image of {width} x {height} = {pixels} pixels exceeds the limit of {} pixels \
             (a possible decompression bomb; raise it with max_pixels= or fastmask.set_max_pixels)",
            limits.max_pixels
        )));
    }
    let header = Header {
        width,
        height,
        bit_depth,
        color_type,
        interlaced: interlace == 1,
    };
    // A caller may lift the pixel limit: make sure the buffers still fit in memory addresses.
    let max_bytes = pixels
        .checked_mul(header.bits_per_pixel() as u64)
        .map(|bits| bits / 8 + 8 * u64::from(height));
    if max_bytes.is_none_or(|b| b > isize::MAX as u64 / 2) {
        return Err(Error::limit(format!(
            "image of {width} x {height} pixels is too large to decode"
        )));
    }
    Ok(header)
}

/// Walk the chunks of a PNG file: validate structure and CRCs, collect IHDR / PLTE / tRNS and
/// the IDAT data. Nothing is decompressed and nothing sized by the file is allocated.
pub fn parse<'a>(data: &'a [u8], limits: &Limits) -> Result<Png<'a>> {
    if data.len() < SIGNATURE.len() {
        return Err(Error::png(format!(
            "not a PNG file: {} bytes, shorter than the 8-byte PNG signature",
            data.len()
        )));
    }
    if data[..8] != SIGNATURE {
        let found: Vec<String> = data[..8].iter().map(|b| format!("{b:02X}")).collect();
        // "PNG" intact but the line-ending bytes changed: the classic text-mode transfer damage.
        let line_endings_only = (4..8)
            .filter(|&i| data[i] != SIGNATURE[i])
            .all(|i| data[i] == b'\r' || data[i] == b'\n');
        let hint = if data[0] == SIGNATURE[0] && data[1..4] == SIGNATURE[1..4] && line_endings_only
        {
            "; its line-ending bytes were changed, as by a text-mode transfer"
        } else {
            ""
        };
        return Err(Error::png(format!(
            "not a PNG file: bad signature {} (expected 89 50 4E 47 0D 0A 1A 0A){hint}",
            found.join(" ")
        )));
    }
    let mut pos = 8usize;
    let mut header: Option<Header> = None;
    let mut palette: Option<&[u8]> = None;
    let mut trns: Option<&[u8]> = None;
    let mut idat: Vec<&[u8]> = Vec::new();
    let mut idat_ended = false;
    let mut chunks = Vec::new();
    loop {
        let left = data.len() - pos;
        if left < 8 {
            return Err(Error::png(format!(
                "truncated file: {} at offset {pos} (expected a chunk header, {left} bytes left)",
                if header.is_none() {
                    "no IHDR"
                } else {
                    "no IEND chunk"
                }
            )));
        }
        let len = be32(&data[pos..pos + 4]);
        let kind: [u8; 4] = [data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]];
        let name = String::from_utf8_lossy(&kind).into_owned();
        if !kind.iter().all(|b| b.is_ascii_alphabetic()) {
            return Err(Error::png(format!(
                "bad chunk type {:02X} {:02X} {:02X} {:02X} at offset {pos} (expected 4 ASCII letters)",
                kind[0], kind[1], kind[2], kind[3]
            )));
        }
        if len > MAX_CHUNK_LEN {
            return Err(Error::png(format!(
                "chunk '{name}' at offset {pos} declares {len} bytes, more than the PNG maximum 2^31-1"
            )));
        }
        if len > limits.max_chunk_bytes {
            return Err(Error::limit(format!(
                "chunk '{name}' at offset {pos} declares {len} bytes, more than the limit of {}",
                limits.max_chunk_bytes
            )));
        }
        let body_start = pos + 8;
        let len_us = len as usize;
        if left - 8 < len_us + 4 {
            return Err(Error::png(format!(
                "truncated file: chunk '{name}' at offset {pos} declares {len} bytes of data \
                 plus a 4-byte CRC, but only {} bytes remain",
                left - 8
            )));
        }
        let body = &data[body_start..body_start + len_us];
        let stored = be32(&data[body_start + len_us..]);
        let computed = zlib_rs::crc32::crc32(zlib_rs::crc32::crc32(0, &kind), body);
        if stored != computed {
            return Err(Error::png(format!(
                "CRC mismatch in chunk '{name}' at offset {pos}: stored {stored:08X}, computed {computed:08X}"
            )));
        }
        chunks.push(ChunkInfo { kind, len });
        pos = body_start + len_us + 4;

        let Some(hdr) = header else {
            if &kind != b"IHDR" {
                return Err(Error::png(format!(
                    "first chunk is '{name}', expected IHDR"
                )));
            }
            header = Some(parse_ihdr(body, limits)?);
            continue;
        };
        if &kind != b"IDAT" && !idat.is_empty() {
            idat_ended = true;
        }
        match &kind {
            b"IHDR" => return Err(Error::png("duplicate IHDR chunk")),
            b"PLTE" => {
                if !idat.is_empty() {
                    return Err(Error::png("PLTE chunk after the image data (IDAT)"));
                }
                if palette.is_some() {
                    return Err(Error::png("duplicate PLTE chunk"));
                }
                if len_us == 0 || len_us % 3 != 0 || len_us > 3 * 256 {
                    return Err(Error::png(format!(
                        "bad PLTE: {len} bytes, expected 3 to 768 bytes in entries of 3"
                    )));
                }
                // A suggested palette in a grayscale file is meaningless: ignored.
                if !matches!(hdr.color_type, ColorType::Gray | ColorType::GrayAlpha) {
                    palette = Some(body);
                }
            }
            b"tRNS" => {
                if idat.is_empty() {
                    trns = Some(body);
                }
            }
            b"IDAT" => {
                if idat_ended {
                    return Err(Error::png(
                        "IDAT chunks are not consecutive (another chunk between them)",
                    ));
                }
                if hdr.color_type == ColorType::Indexed && palette.is_none() {
                    return Err(Error::png(
                        "palette image without a PLTE chunk before the image data",
                    ));
                }
                idat.push(body);
            }
            b"IEND" => break,
            _ => {
                // Bit 5 of the first letter (lower case) marks an ancillary chunk: safe to skip.
                if kind[0] & 0x20 == 0 {
                    return Err(Error::png(format!(
                        "unknown critical chunk '{name}' at offset {}",
                        pos - len_us - 12
                    )));
                }
            }
        }
    }
    let header = header.ok_or_else(|| Error::png("no IHDR chunk"))?;
    if idat.is_empty() {
        return Err(Error::png("no image data: the file has no IDAT chunk"));
    }
    Ok(Png {
        header,
        palette,
        trns,
        chunks,
        idat,
    })
}

/// Sample type of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleType {
    U8,
    U16,
}

/// What to produce from the stored samples.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'m> {
    /// One value per pixel: the palette index, gray value, or the gray channel of gray+alpha;
    /// 8-bit RGB(A) is mapped colour -> index in the given palette (alpha ignored) and any
    /// colour not in it is an error.
    Labels(&'m [Rgb]),
    /// Every stored channel, unchanged.
    Raw,
}

/// Shape and sample type of a decoded image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputSpec {
    pub height: usize,
    pub width: usize,
    /// 1 for a 2-D result, else the size of the last axis.
    pub channels: usize,
    pub sample: SampleType,
}

impl OutputSpec {
    /// Number of output samples.
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Array shape: (H, W) or (H, W, C).
    pub fn shape(&self) -> Vec<usize> {
        if self.channels == 1 {
            vec![self.height, self.width]
        } else {
            vec![self.height, self.width, self.channels]
        }
    }

    /// "uint8" / "uint16", for messages.
    pub fn dtype_name(&self) -> &'static str {
        match self.sample {
            SampleType::U8 => "uint8",
            SampleType::U16 => "uint16",
        }
    }
}

/// The output a header and mode give, or why that combination cannot be decoded.
pub fn output_spec(h: &Header, mode: &Mode) -> Result<OutputSpec> {
    let sample = if h.bit_depth == 16 {
        SampleType::U16
    } else {
        SampleType::U8
    };
    let channels = match mode {
        Mode::Raw => h.color_type.channels(),
        Mode::Labels(_) => {
            if matches!(h.color_type, ColorType::Rgb | ColorType::Rgba) && h.bit_depth == 16 {
                return Err(Error::png(format!(
                    "16-bit {} image: colours cannot be mapped to labels (read it with raw=True)",
                    h.color_type.name()
                )));
            }
            1
        }
    };
    Ok(OutputSpec {
        height: h.height as usize,
        width: h.width as usize,
        channels,
        sample,
    })
}

/// Where decoded samples go: a slice of exactly `OutputSpec::len()` samples.
pub enum Out<'o> {
    U8(&'o mut [u8]),
    U16(&'o mut [u16]),
}

/// A decoded image owning its samples.
#[derive(Debug)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

thread_local! {
    /// Reused per thread: a fresh buffer per frame costs page faults every time.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static INFLATER: RefCell<Option<Inflate>> = const { RefCell::new(None) };
}

/// Scanlines are inflated in groups of rows of about this many bytes, each group unfiltered and
/// copied out while it is still in cache, so memory holds the output plus 128 KB whatever the
/// image size. At 1920x1080 (2 MB of scanlines) inflating everything first and copying
/// afterwards took ~520 us, 128 KB groups ~215 us (256 KB: ~215 us, 512 KB: ~300 us); at
/// 854x480 the group size made no difference (~42 us).
const GROUP_BYTES: usize = 128 << 10;

/// zlib stream state over the IDAT chunks, filling output buffers one after another.
struct IdatStream<'a, 'i> {
    inf: &'i mut Inflate,
    chunks: &'a [&'a [u8]],
    chunk: usize,
    pos: usize,
    /// Scanline bytes produced so far and in all.
    written: usize,
    expected: usize,
}

impl IdatStream<'_, '_> {
    /// Fill `out` completely from the stream, or fail (truncated / corrupt data).
    fn fill(&mut self, out: &mut [u8]) -> Result<()> {
        let mut got = 0usize;
        while got < out.len() {
            let Some(chunk) = self.chunks.get(self.chunk) else {
                return Err(self.truncated(got));
            };
            let input = &chunk[self.pos..];
            let (in0, out0) = (self.inf.total_in(), self.inf.total_out());
            let status = self
                .inf
                .decompress(input, &mut out[got..], InflateFlush::NoFlush)
                .map_err(|e| corrupt(self.inf, e))?;
            let used_in = (self.inf.total_in() - in0) as usize;
            let used_out = (self.inf.total_out() - out0) as usize;
            self.pos += used_in;
            got += used_out;
            if got == out.len() {
                break;
            }
            if status == Status::StreamEnd {
                return Err(self.truncated(got));
            }
            if self.pos == chunk.len() {
                self.chunk += 1;
                self.pos = 0;
            } else if used_in == 0 && used_out == 0 {
                return Err(self.truncated(got));
            }
        }
        self.written += got;
        Ok(())
    }

    fn truncated(&self, got: usize) -> Error {
        Error::png(format!(
            "truncated image data: expected {} bytes of scanlines, got {}",
            self.expected,
            self.written + got
        ))
    }
}

fn corrupt(inf: &Inflate, e: zlib_rs::InflateError) -> Error {
    Error::png(format!(
        "corrupt image data: {} (zlib: {})",
        match e {
            zlib_rs::InflateError::NeedDict { .. } => "the zlib stream needs a preset dictionary",
            _ => "invalid zlib stream in IDAT",
        },
        inf.error_message().unwrap_or(e.as_str())
    ))
}

/// Run `f` with this thread's inflater, reset for a new zlib stream.
fn with_inflater<R>(f: impl FnOnce(&mut Inflate) -> Result<R>) -> Result<R> {
    INFLATER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let inf = slot.get_or_insert_with(|| Inflate::new(true, 15));
        inf.reset(true);
        let result = f(inf);
        if result.is_err() {
            // Leave no half-used stream state behind for the next frame.
            *slot = None;
        }
        result
    })
}

/// Inflate the IDAT chunks into `out`, which has exactly the size the header implies.
/// Data after the last scanline (the Adler-32, padding) is not needed and not required.
pub fn inflate_idat(idat: &[&[u8]], out: &mut [u8]) -> Result<()> {
    with_inflater(|inf| {
        let expected = out.len();
        IdatStream {
            inf,
            chunks: idat,
            chunk: 0,
            pos: 0,
            written: 0,
            expected,
        }
        .fill(out)
    })
}

/// Rows of a pass whose stride (filter byte included) is at most this are inflated in groups
/// into the per-thread scratch buffer; wider rows (over 16K pixels of 16-bit RGBA, 128K of
/// 8-bit gray) are inflated and unfiltered in segments of about this size, so the scratch
/// buffer never holds more than ~2 x 128 KB whatever the header says.
const WIDE_ROW: usize = GROUP_BYTES;

/// Inflate and unfilter, calling `row(pass, y, px0, npx, samples)` for every row of every pass
/// (`samples`: the unfiltered bytes of pixels `px0 .. px0 + npx` of row `y` of the pass). Rows
/// up to [`WIDE_ROW`] bytes come whole (`px0 == 0`); wider rows come in segments, in order.
///
/// Memory: the per-thread scratch is at most `2 * (GROUP_BYTES + 8)` bytes; a wide pass also
/// keeps its previous row, which grows only as that row's data is inflated. Nothing is sized
/// by the header alone.
fn for_each_row(
    png: &Png,
    mut row: impl FnMut(&Pass, usize, usize, usize, &[u8]) -> Result<()>,
) -> Result<()> {
    let h = &png.header;
    let passes = h.passes();
    let max_stride = passes
        .iter()
        .map(|p| 1 + h.row_bytes(p.w))
        .filter(|&s| s <= WIDE_ROW)
        .max()
        .unwrap_or(1);
    let group = max_stride.max(GROUP_BYTES.min(h.scanline_bytes()));
    let any_wide = passes.iter().any(|p| 1 + h.row_bytes(p.w) > WIDE_ROW);
    let need = if any_wide {
        (group + max_stride).max(2 * (WIDE_ROW + 8))
    } else {
        group + max_stride
    };
    let bpp = h.filter_bpp();
    SCRATCH.with(|cell| {
        let mut scratch = cell.borrow_mut();
        if scratch.len() < need {
            // Grows only, up to 2 x (128 KB + 8): the contents are overwritten before use.
            scratch.resize(need, 0);
        }
        with_inflater(|inf| {
            let mut stream = IdatStream {
                inf,
                chunks: &png.idat,
                chunk: 0,
                pos: 0,
                written: 0,
                expected: h.scanline_bytes(),
            };
            // The previous row of a wide pass: grows with the first row's data.
            let mut wide_prev: Vec<u8> = Vec::new();
            for pass in &passes {
                let rb = h.row_bytes(pass.w);
                let stride = 1 + rb;
                if stride > WIDE_ROW {
                    wide_pass(
                        h,
                        pass,
                        &mut stream,
                        &mut scratch[..2 * (WIDE_ROW + 8)],
                        &mut wide_prev,
                        &mut row,
                    )?;
                    continue;
                }
                let (buf, prev_row) = scratch.split_at_mut(group);
                let per_group = (group / stride).max(1);
                let mut y0 = 0;
                while y0 < pass.h {
                    let n = per_group.min(pass.h - y0);
                    let rows = &mut buf[..n * stride];
                    stream.fill(rows)?;
                    for i in 0..n {
                        let y = y0 + i;
                        let off = i * stride;
                        let (done, rest) = rows.split_at_mut(off);
                        let prev = match (y, i) {
                            (0, _) => None,
                            (_, 0) => Some(&prev_row[..rb]),
                            _ => Some(&done[off - rb..]),
                        };
                        let (kind, cur) = rest[..stride].split_at_mut(1);
                        unfilter(kind[0], cur, prev, bpp).map_err(|e| row_error(e, h, pass, y))?;
                        row(pass, y, 0, pass.w, cur)?;
                    }
                    // The next group's first row needs this group's last one.
                    prev_row[..rb].copy_from_slice(&rows[n * stride - rb..]);
                    y0 += n;
                }
            }
            Ok(())
        })
    })
}

fn row_error(e: Error, h: &Header, pass: &Pass, y: usize) -> Error {
    match e {
        Error::Png { msg, .. } => Error::png(format!(
            "{msg} in row {y}{} (expected 0 to 4)",
            pass_name(h, pass)
        )),
        other => other,
    }
}

/// One pass whose rows are wider than [`WIDE_ROW`]: each row is inflated, unfiltered and
/// handed out in segments of whole pixels. `scratch` holds two `WIDE_ROW + 8` byte buffers:
/// the segment after the last `bpp` unfiltered bytes before it, and the previous row's bytes
/// under the segment after the `bpp` bytes before those. `prev` keeps the whole previous
/// row (overwritten segment by segment); it is filled, never sized ahead, so it grows only
/// with data actually inflated.
fn wide_pass(
    h: &Header,
    pass: &Pass,
    stream: &mut IdatStream<'_, '_>,
    scratch: &mut [u8],
    prev: &mut Vec<u8>,
    row: &mut impl FnMut(&Pass, usize, usize, usize, &[u8]) -> Result<()>,
) -> Result<()> {
    let rb = h.row_bytes(pass.w);
    let bpp = h.filter_bpp();
    let bits = h.bits_per_pixel();
    // Whole pixels per segment: a multiple of the pixel size (bits >= 8) or of one byte.
    let seg = WIDE_ROW / bpp * bpp;
    let (cur_buf, prev_buf) = scratch.split_at_mut(WIDE_ROW + 8);
    prev.clear();
    let keep_prev = pass.h > 1;
    for y in 0..pass.h {
        let mut kind = [0u8; 1];
        stream.fill(&mut kind)?;
        // Left context: zeros at the start of a row (the spec's pixels left of the row).
        cur_buf[..bpp].fill(0);
        prev_buf[..bpp].fill(0);
        let mut x = 0usize;
        while x < rb {
            let n = seg.min(rb - x);
            stream.fill(&mut cur_buf[bpp..bpp + n])?;
            let above = if y == 0 {
                prev_buf[bpp..bpp + n].fill(0);
                false
            } else {
                prev_buf[bpp..bpp + n].copy_from_slice(&prev[x..x + n]);
                true
            };
            unfilter_segment(
                kind[0],
                &mut cur_buf[..bpp + n],
                &prev_buf[..bpp + n],
                above,
                bpp,
            )
            .map_err(|e| row_error(e, h, pass, y))?;
            let px0 = x * 8 / bits;
            let npx = ((x + n) * 8 / bits).min(pass.w) - px0;
            row(pass, y, px0, npx, &cur_buf[bpp..bpp + n])?;
            if keep_prev {
                if y == 0 {
                    try_reserve(prev, n, "a row of the image")?;
                    prev.extend_from_slice(&cur_buf[bpp..bpp + n]);
                } else {
                    prev[x..x + n].copy_from_slice(&cur_buf[bpp..bpp + n]);
                }
            }
            // The next segment's left context: the last `bpp` bytes of this one, unfiltered
            // (cur) and as they were in the row above (prev_buf still holds the old ones).
            cur_buf.copy_within(n..n + bpp, 0);
            prev_buf.copy_within(n..n + bpp, 0);
            x += n;
        }
    }
    Ok(())
}

/// Undo filter `kind` on `buf[bpp..]`, where `buf[..bpp]` holds the unfiltered bytes left of
/// the segment and `above` the previous row's bytes at the same offsets (`has_above` false on
/// a pass's first row: the spec's row of zeros). Scalar: only rows over 128 KB come here.
fn unfilter_segment(
    kind: u8,
    buf: &mut [u8],
    above: &[u8],
    has_above: bool,
    bpp: usize,
) -> Result<()> {
    if kind > 4 {
        return Err(Error::png(format!("unknown filter type {kind}")));
    }
    for i in bpp..buf.len() {
        let a = buf[i - bpp];
        let (b, c) = if has_above {
            (above[i], above[i - bpp])
        } else {
            (0, 0)
        };
        let pred = match kind {
            0 => 0,
            1 => a,
            2 => b,
            3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
            _ => {
                let p = i16::from(a) + i16::from(b) - i16::from(c);
                let (pa, pb, pc) = (
                    (p - i16::from(a)).abs(),
                    (p - i16::from(b)).abs(),
                    (p - i16::from(c)).abs(),
                );
                if pa <= pb && pa <= pc {
                    a
                } else if pb <= pc {
                    b
                } else {
                    c
                }
            }
        };
        buf[i] = buf[i].wrapping_add(pred);
    }
    Ok(())
}

fn pass_name(h: &Header, pass: &Pass) -> String {
    if !h.interlaced {
        return String::new();
    }
    let i = ADAM7
        .iter()
        .position(|&(x0, y0, dx, dy)| (x0, y0, dx, dy) == (pass.x0, pass.y0, pass.dx, pass.dy))
        .unwrap_or(0);
    format!(" of Adam7 pass {}", i + 1)
}

/// Unpack 1/2/4-bit samples to one byte each (raw values).
fn unpack(row: &[u8], depth: u8, dst: &mut [u8]) {
    let per_byte = usize::from(8 / depth);
    let mask = (1u8 << depth) - 1;
    for (byte, group) in row.iter().zip(dst.chunks_mut(per_byte)) {
        for (j, d) in group.iter_mut().enumerate() {
            *d = (byte >> (8 - depth * (j as u8 + 1))) & mask;
        }
    }
}

/// Place pixels `px0 ..` of one row of an Adam7 pass (`k` samples each) into the full image.
fn scatter<S: Copy>(
    row: &[S],
    out: &mut [S],
    width: usize,
    k: usize,
    pass: &Pass,
    y: usize,
    px0: usize,
) {
    let line = (pass.y0 + y * pass.dy) * width * k;
    for (i, px) in row.chunks_exact(k).enumerate() {
        let at = line + (pass.x0 + (px0 + i) * pass.dx) * k;
        out[at..at + k].copy_from_slice(px);
    }
}

/// Where decoded rows go.
enum Dest<'o, S> {
    /// The whole output, already allocated by the caller (batches, numpy arrays).
    Slice(&'o mut [S]),
    /// A vector grown as rows are decoded (rows of an interlaced image pass after pass), up to
    /// `total` samples. Growing with the data keeps a truncated or corrupt file from costing
    /// the memory its header claims; zeroing each row just before it is written keeps it in
    /// L1 (zeroing the whole output up front, a calloc of reused memory, costs ~100 us at
    /// 1080p, a quarter of the inflate time).
    Append { v: &'o mut Vec<S>, total: usize },
}

impl<S: Copy + Default> Dest<'_, S> {
    /// Room for `len` more samples in an `Append` vector: capacity doubles (capped at
    /// `total`), fallibly.
    fn grow(v: &mut Vec<S>, total: usize, len: usize) -> Result<()> {
        if v.capacity() - v.len() >= len {
            return Ok(());
        }
        let want = (v.len() + len).max(v.capacity().saturating_mul(2).min(total));
        try_reserve(v, want - v.len(), "the decoded image")
    }

    /// The destination of `len` samples at sample `off` of row `y` (rows of `row_len` samples;
    /// `Append` takes them in order).
    fn seg(&mut self, y: usize, row_len: usize, off: usize, len: usize) -> Result<&mut [S]> {
        match self {
            Dest::Slice(s) => Ok(&mut s[y * row_len + off..y * row_len + off + len]),
            Dest::Append { v, total } => {
                Self::grow(v, *total, len)?;
                let start = v.len();
                v.resize(start + len, S::default());
                Ok(&mut v[start..])
            }
        }
    }

    /// Write `src` at sample `off` of row `y` (`Append`: in order).
    fn copy_seg(&mut self, y: usize, row_len: usize, off: usize, src: &[S]) -> Result<()> {
        match self {
            Dest::Slice(s) => {
                s[y * row_len + off..y * row_len + off + src.len()].copy_from_slice(src);
            }
            Dest::Append { v, total } => {
                Self::grow(v, *total, src.len())?;
                v.extend_from_slice(src);
            }
        }
        Ok(())
    }
}

/// An `Append` destination's first capacity: the whole output when the compressed data can
/// hold it, else what it can hold. Deflate expands at most ~1032:1 (a 258-byte match in two
/// bits), so a 69-byte file claiming 700 MB of scanlines starts with a few KB and grows only
/// as far as its data goes. A valid file always gets its exact size in one allocation.
fn first_capacity(png: &Png, total: usize) -> usize {
    let scan = png.header.scanline_bytes() as u128;
    let possible = (png.idat_bytes() as u128) * 1032 + 4096;
    if possible >= scan {
        return total;
    }
    ((total as u128 * possible / scan.max(1)) as usize).min(total)
}

/// Decode into `out` (exactly `output_spec(...).len()` samples of the matching type).
pub fn decode_into(png: &Png, mode: &Mode, out: Out<'_>) -> Result<()> {
    let spec = output_spec(&png.header, mode)?;
    let (len, kind) = match &out {
        Out::U8(o) => (o.len(), SampleType::U8),
        Out::U16(o) => (o.len(), SampleType::U16),
    };
    if len != spec.len() || kind != spec.sample {
        return Err(Error::param(format!(
            "output buffer of {len} {kind:?} samples, the image needs {} {:?} samples",
            spec.len(),
            spec.sample
        )));
    }
    match out {
        Out::U8(o) => decode_u8(png, mode, &spec, Dest::Slice(o)),
        Out::U16(o) => decode_u16(png, &spec, Dest::Slice(o)),
    }
}

fn convert_u8(
    lookup: &mut Option<ColorLookup>,
    depth: u8,
    k: usize,
    stored: usize,
    row: &[u8],
    dst: &mut [u8],
) {
    if let Some(lk) = lookup.as_mut() {
        for (d, px) in dst.iter_mut().zip(row.chunks_exact(stored)) {
            *d = lk.label([px[0], px[1], px[2]]);
        }
    } else if depth < 8 {
        unpack(row, depth, dst);
    } else if k == stored {
        dst.copy_from_slice(&row[..dst.len()]);
    } else {
        for (d, px) in dst.iter_mut().zip(row.chunks_exact(stored)) {
            *d = px[0];
        }
    }
}

/// At most this many distinct unknown colours of an RGB(A) mask are collected for the error
/// message (the table is then full: later unknown colours are only counted), so a photo-like
/// file with 16 M colours costs a 64-entry table, not a 1 GB map.
pub const MAX_UNKNOWN_COLOURS: usize = 64;

fn decode_u8(png: &Png, mode: &Mode, spec: &OutputSpec, mut out: Dest<'_, u8>) -> Result<()> {
    let h = png.header;
    let (width, k) = (spec.width, spec.channels);
    let row_len = width * k;
    let stored = h.color_type.channels();
    let depth = h.bit_depth;
    let mut lookup = match (mode, h.color_type) {
        (Mode::Labels(pal), ColorType::Rgb | ColorType::Rgba) => {
            Some(ColorLookup::new(pal, MAX_UNKNOWN_COLOURS))
        }
        _ => None,
    };
    let mut tmp: Vec<u8> = Vec::new();
    // Palette and 8-bit gray rows are the samples themselves: one copy, nothing else.
    let plain = depth == 8 && k == stored && !matches!(mode, Mode::Labels(_) if stored >= 3);
    let scatter_now = h.interlaced && matches!(out, Dest::Slice(_));
    let result = for_each_row(png, |pass, y, px0, npx, row| {
        let lk = &mut lookup;
        if scatter_now {
            tmp.resize(npx * k, 0);
            convert_u8(lk, depth, k, stored, row, &mut tmp);
            if let Dest::Slice(s) = &mut out {
                scatter(&tmp, s, width, k, pass, y, px0);
            }
        } else if h.interlaced {
            // Pass-major into the growing vector; `deinterlace` places them at the end.
            convert_u8(lk, depth, k, stored, row, out.seg(0, 0, 0, npx * k)?);
        } else if plain {
            out.copy_seg(y, row_len, px0 * k, &row[..npx * k])?;
        } else {
            convert_u8(
                lk,
                depth,
                k,
                stored,
                row,
                out.seg(y, row_len, px0 * k, npx * k)?,
            );
        }
        if lk.as_ref().is_some_and(ColorLookup::is_full) {
            return Err(Error::png(String::new())); // replaced by the report below
        }
        Ok(())
    });
    if lookup.as_ref().is_some_and(ColorLookup::is_full) {
        // Checked first: the stop above is not a real decoding error.
    } else {
        result?;
    }
    if let Some(report) = lookup.as_ref().and_then(|lk| lk.unknown_report(5)) {
        return Err(Error::png(format!(
            "{} mask: {report} (pass colormap= with the colours the mask was drawn \
             with, or raw=True to read the colours)",
            h.color_type.name()
        )));
    }
    Ok(())
}

fn decode_u16(png: &Png, spec: &OutputSpec, mut out: Dest<'_, u16>) -> Result<()> {
    let h = png.header;
    let (width, k) = (spec.width, spec.channels);
    let row_len = width * k;
    let stored = h.color_type.channels();
    let mut tmp: Vec<u16> = Vec::new();
    let convert = |row: &[u8], dst: &mut [u16]| {
        for (d, px) in dst.chunks_exact_mut(k).zip(row.chunks_exact(2 * stored)) {
            for (c, v) in d.iter_mut().enumerate() {
                *v = u16::from_be_bytes([px[2 * c], px[2 * c + 1]]);
            }
        }
    };
    let scatter_now = h.interlaced && matches!(out, Dest::Slice(_));
    for_each_row(png, |pass, y, px0, npx, row| {
        if scatter_now {
            tmp.resize(npx * k, 0);
            convert(row, &mut tmp);
            if let Dest::Slice(s) = &mut out {
                scatter(&tmp, s, width, k, pass, y, px0);
            }
        } else if h.interlaced {
            convert(row, out.seg(0, 0, 0, npx * k)?);
        } else {
            convert(row, out.seg(y, row_len, px0 * k, npx * k)?);
        }
        Ok(())
    })
}

/// Place the pass-major samples of an interlaced image (`k` per pixel) into a new image
/// buffer, allocated only now that every pass decoded.
fn deinterlace<S: Copy + Default>(h: &Header, k: usize, passes: Vec<S>) -> Result<Vec<S>> {
    let width = h.width as usize;
    let mut out = try_filled(passes.len(), S::default(), "the decoded image")?;
    let mut at = 0usize;
    for pass in h.passes() {
        for y in 0..pass.h {
            let n = pass.w * k;
            scatter(&passes[at..at + n], &mut out, width, k, &pass, y, 0);
            at += n;
        }
    }
    Ok(out)
}

/// Parse and decode a whole PNG held in memory.
pub fn decode(data: &[u8], mode: &Mode, limits: &Limits) -> Result<(OutputSpec, Samples)> {
    let png = parse(data, limits)?;
    decode_png(&png, mode)
}

/// Decode an already parsed PNG into newly allocated samples. The output vector grows with
/// the rows actually decoded (see [`first_capacity`]); allocation failure is
/// [`Error::Memory`].
pub fn decode_png(png: &Png, mode: &Mode) -> Result<(OutputSpec, Samples)> {
    let spec = output_spec(&png.header, mode)?;
    let total = spec.len();
    let first = first_capacity(png, total);
    let h = &png.header;
    let samples = match spec.sample {
        SampleType::U8 => {
            let mut v = Vec::new();
            try_reserve(&mut v, first, "the decoded image")?;
            decode_u8(png, mode, &spec, Dest::Append { v: &mut v, total })?;
            if h.interlaced {
                v = deinterlace(h, spec.channels, v)?;
            }
            Samples::U8(v)
        }
        SampleType::U16 => {
            let mut v = Vec::new();
            try_reserve(&mut v, first, "the decoded image")?;
            decode_u16(png, &spec, Dest::Append { v: &mut v, total })?;
            if h.interlaced {
                v = deinterlace(h, spec.channels, v)?;
            }
            Samples::U16(v)
        }
    };
    Ok((spec, samples))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::palette::DAVIS_PALETTE;

    /// A minimal PNG writer for tests: given chunks in order.
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        let crc = zlib_rs::crc32::crc32(zlib_rs::crc32::crc32(0, kind), body);
        out.extend_from_slice(&crc.to_be_bytes());
    }

    fn ihdr(w: u32, h: u32, depth: u8, ct: u8, interlace: u8) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[depth, ct, 0, 0, interlace]);
        b
    }

    fn zlib(raw: &[u8]) -> Vec<u8> {
        crate::png::deflate::compress_level(raw, 6).unwrap()
    }

    fn png(w: u32, h: u32, depth: u8, ct: u8, plte: Option<&[u8]>, raw: &[u8]) -> Vec<u8> {
        let mut f = SIGNATURE.to_vec();
        chunk(&mut f, b"IHDR", &ihdr(w, h, depth, ct, 0));
        if let Some(p) = plte {
            chunk(&mut f, b"PLTE", p);
        }
        chunk(&mut f, b"IDAT", &zlib(raw));
        chunk(&mut f, b"IEND", &[]);
        f
    }

    fn labels(data: &[u8]) -> Result<Vec<u8>> {
        match decode(data, &Mode::Labels(&DAVIS_PALETTE), &Limits::default())?.1 {
            Samples::U8(v) => Ok(v),
            Samples::U16(_) => panic!("expected u8"),
        }
    }

    #[test]
    fn palette_8bit_with_every_filter() {
        // 3x5 image, rows filtered with 0..4; the raw rows are chosen so that each
        // filter's reconstruction gives the pixel values 0, 1, 2.
        let pal = [0u8, 0, 0, 128, 0, 0, 0, 128, 0];
        let want = [0u8, 1, 2, 2, 1, 0, 1, 1, 1, 0, 2, 0, 2, 2, 2];
        let mut raw = Vec::new();
        let mut prev = [0u8; 3];
        for (y, kind) in (0..5).zip(0u8..5) {
            let cur = &want[y * 3..y * 3 + 3];
            let mut f = [0u8; 3];
            for i in 0..3 {
                let a = if i > 0 { cur[i - 1] } else { 0 };
                let b = prev[i];
                let c = if i > 0 { prev[i - 1] } else { 0 };
                let pred = crate::testutil::predictor(kind, a, b, c);
                f[i] = cur[i].wrapping_sub(pred);
            }
            raw.push(kind);
            raw.extend_from_slice(&f);
            prev.copy_from_slice(cur);
        }
        let data = png(3, 5, 8, 3, Some(&pal), &raw);
        assert_eq!(labels(&data).unwrap(), want);
    }

    #[test]
    fn low_bit_depths_unpack_raw_values() {
        // 5 pixels of 2-bit gray: 3 0 1 2 3 -> 0b11_00_01_10, 0b11_000000
        let data = png(5, 1, 2, 0, None, &[0, 0b1100_0110, 0b1100_0000]);
        assert_eq!(labels(&data).unwrap(), [3, 0, 1, 2, 3]);
        let data = png(9, 1, 1, 0, None, &[0, 0b1010_1010, 0b1000_0000]);
        assert_eq!(labels(&data).unwrap(), [1, 0, 1, 0, 1, 0, 1, 0, 1]);
        let data = png(3, 1, 4, 3, Some(&[0; 48]), &[0, 0xF1, 0x20]);
        assert_eq!(labels(&data).unwrap(), [15, 1, 2]);
    }

    #[test]
    fn sixteen_bit_gray_is_big_endian() {
        let data = png(2, 1, 16, 0, None, &[0, 0x12, 0x34, 0xFF, 0x01]);
        let (spec, s) = decode(&data, &Mode::Raw, &Limits::default()).unwrap();
        assert_eq!(spec.shape(), vec![1, 2]);
        match s {
            Samples::U16(v) => assert_eq!(v, [0x1234, 0xFF01]),
            Samples::U8(_) => panic!(),
        }
    }

    #[test]
    fn rgb_maps_to_davis_labels_and_reports_unknown_colours() {
        let raw = [0, 0, 0, 0, 128, 0, 0, 0, 128, 0];
        let data = png(3, 1, 8, 2, None, &raw);
        assert_eq!(labels(&data).unwrap(), [0, 1, 2]);
        let raw = [0, 0, 0, 0, 1, 2, 3, 1, 2, 3];
        let err = labels(&png(3, 1, 8, 2, None, &raw))
            .unwrap_err()
            .to_string();
        assert!(err.contains("(1, 2, 3) in 2 pixels"), "{err}");
    }

    #[test]
    fn structural_errors() {
        let good = png(2, 2, 8, 0, None, &[0, 1, 2, 0, 3, 4]);
        assert_eq!(labels(&good).unwrap(), [1, 2, 3, 4]);
        // Bad signature, bad CRC, truncation at every offset.
        let mut bad = good.clone();
        bad[0] = 0;
        assert!(labels(&bad).unwrap_err().to_string().contains("signature"));
        let mut bad = good.clone();
        bad[20] ^= 1; // inside IHDR
        assert!(labels(&bad)
            .unwrap_err()
            .to_string()
            .contains("CRC mismatch"));
        for cut in 0..good.len() {
            assert!(labels(&good[..cut]).is_err(), "cut at {cut}");
        }
        // Missing PLTE for a palette image.
        let e = labels(&png(2, 2, 8, 3, None, &[0, 1, 2, 0, 3, 4])).unwrap_err();
        assert!(e.to_string().contains("PLTE"), "{e}");
        // Bad depth for the colour type.
        let e = labels(&png(2, 2, 16, 3, Some(&[0; 3]), &[0; 10])).unwrap_err();
        assert!(e.to_string().contains("unsupported bit depth 16"), "{e}");
        // Too little image data.
        let e = labels(&png(2, 2, 8, 0, None, &[0, 1, 2])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated image data: expected 6 bytes of scanlines, got 3"
        );
        // Unknown filter type.
        let e = labels(&png(2, 2, 8, 0, None, &[0, 1, 2, 7, 3, 4])).unwrap_err();
        assert!(e.to_string().contains("filter type 7 in row 1"), "{e}");
    }

    #[test]
    fn pixel_limit_is_checked_before_decoding() {
        let data = png(4, 4, 8, 0, None, &[0; 20]);
        let limits = Limits {
            max_pixels: 15,
            ..Limits::default()
        };
        let e = decode(&data, &Mode::Raw, &limits).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
    }

    /// Filter `img` (rows of `rb` bytes) with the spec's predictors, cycling `kinds`.
    fn filter_rows(img: &[u8], rb: usize, bpp: usize, kinds: &[u8]) -> Vec<u8> {
        let mut raw = Vec::new();
        let zeros = vec![0u8; rb];
        for (y, cur) in img.chunks(rb).enumerate() {
            let prev = if y == 0 {
                &zeros[..]
            } else {
                &img[(y - 1) * rb..y * rb]
            };
            let kind = kinds[y % kinds.len()];
            raw.push(kind);
            for i in 0..rb {
                let a = if i >= bpp { i16::from(cur[i - bpp]) } else { 0 };
                let b = i16::from(prev[i]);
                let c = if i >= bpp {
                    i16::from(prev[i - bpp])
                } else {
                    0
                };
                let pred = match kind {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    _ => {
                        let p = a + b - c;
                        let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                };
                raw.push(cur[i].wrapping_sub(pred as u8));
            }
        }
        raw
    }

    #[test]
    fn images_spanning_many_row_groups() {
        // 16-bit RGB, 700 x 300: 1.26 MB of scanlines, five groups; every filter, rows of
        // 4200 bytes whose group boundaries fall on Up / Avg / Paeth rows.
        let (w, h) = (700usize, 300usize);
        let img: Vec<u8> = (0..w * h * 6)
            .map(|i| ((i / 6 % w) * 3 + (i / (6 * w)) * 5 + (i % 6) * 40 + (i * 7919) % 13) as u8)
            .collect();
        let raw = filter_rows(&img, w * 6, 6, &[0, 1, 2, 3, 4, 2, 4, 3]);
        let mut f = SIGNATURE.to_vec();
        chunk(&mut f, b"IHDR", &ihdr(w as u32, h as u32, 16, 2, 0));
        let z = zlib(&raw);
        for part in z.chunks(10_000) {
            chunk(&mut f, b"IDAT", part);
        }
        chunk(&mut f, b"IEND", &[]);
        let (spec, s) = decode(&f, &Mode::Raw, &Limits::default()).unwrap();
        assert_eq!(spec.shape(), vec![h, w, 3]);
        let want: Vec<u16> = img
            .chunks(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        match s {
            Samples::U16(v) => assert!(v == want),
            Samples::U8(_) => panic!(),
        }
        // The same data cut short in the third group.
        let mut f = SIGNATURE.to_vec();
        chunk(&mut f, b"IHDR", &ihdr(w as u32, h as u32, 16, 2, 0));
        chunk(&mut f, b"IDAT", &zlib(&raw[..600_000]));
        chunk(&mut f, b"IEND", &[]);
        let e = decode(&f, &Mode::Raw, &Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "truncated image data: expected {} bytes of scanlines, got 600000",
                raw.len()
            )
        );
    }

    #[test]
    fn adam7_matches_a_non_interlaced_copy() {
        // 10x9 8-bit gray with distinct values; interlaced file built pass by pass.
        let (w, h) = (10usize, 9usize);
        let img: Vec<u8> = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
        let mut raw = Vec::new();
        for &(x0, y0, dx, dy) in &ADAM7 {
            if x0 >= w || y0 >= h {
                continue;
            }
            for y in (y0..h).step_by(dy) {
                raw.push(0);
                for x in (x0..w).step_by(dx) {
                    raw.push(img[y * w + x]);
                }
            }
        }
        let mut f = SIGNATURE.to_vec();
        chunk(&mut f, b"IHDR", &ihdr(w as u32, h as u32, 8, 0, 1));
        // Split the stream over three IDAT chunks.
        let z = zlib(&raw);
        let third = z.len() / 3;
        chunk(&mut f, b"IDAT", &z[..third]);
        chunk(&mut f, b"IDAT", &z[third..2 * third]);
        chunk(&mut f, b"IDAT", &z[2 * third..]);
        chunk(&mut f, b"IEND", &[]);
        assert_eq!(labels(&f).unwrap(), img);
    }

    /// A 16-bit interlaced PNG of `img` (`px` bytes per pixel, colour type `color`), every
    /// Adam7 pass filtered with all five filters in turn.
    fn adam7_png(img: &[u8], w: usize, h: usize, px: usize, color: u8) -> Vec<u8> {
        let mut raw = Vec::new();
        for &(x0, y0, dx, dy) in &ADAM7 {
            let sub: Vec<u8> = (y0..h)
                .step_by(dy)
                .flat_map(|y| (x0..w).step_by(dx).map(move |x| (y, x)))
                .flat_map(|(y, x)| img[(y * w + x) * px..(y * w + x + 1) * px].to_vec())
                .collect();
            let pw = w.saturating_sub(x0).div_ceil(dx);
            raw.extend(filter_rows(&sub, pw * px, px, &[4, 3, 2, 1, 0]));
        }
        let mut f = SIGNATURE.to_vec();
        chunk(&mut f, b"IHDR", &ihdr(w as u32, h as u32, 16, color, 1));
        chunk(&mut f, b"IDAT", &zlib(&raw));
        chunk(&mut f, b"IEND", &[]);
        f
    }

    /// Big-endian 16-bit samples.
    fn be16(bytes: &[u8]) -> Vec<u16> {
        bytes
            .chunks(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect()
    }

    #[test]
    fn large_adam7_image_with_every_filter() {
        // 16-bit RGB 700 x 300, interlaced: pass 7 alone is 630 KB of scanlines (three groups).
        let (w, h, px) = (700usize, 300usize, 6usize);
        let img: Vec<u8> = (0..w * h * px).map(|i| ((i * 31) % 251) as u8).collect();
        let f = adam7_png(&img, w, h, px, 2);
        let want = be16(&img);
        match decode(&f, &Mode::Raw, &Limits::default()).unwrap().1 {
            Samples::U16(v) => assert!(v == want),
            Samples::U8(_) => panic!(),
        }
    }

    /// Decode with `decode` (growing vector) and with `decode_into` (caller's slice).
    fn both_ways(f: &[u8]) -> (Vec<u16>, Vec<u16>) {
        let a = match decode(f, &Mode::Raw, &Limits::default()).unwrap().1 {
            Samples::U16(v) => v,
            Samples::U8(_) => panic!(),
        };
        let png = parse(f, &Limits::default()).unwrap();
        let mut b = vec![0u16; output_spec(&png.header, &Mode::Raw).unwrap().len()];
        decode_into(&png, &Mode::Raw, Out::U16(&mut b)).unwrap();
        (a, b)
    }

    #[test]
    fn wide_rows_are_unfiltered_in_segments() {
        // 16-bit RGBA 22000 x 5: rows of 176,000 bytes, two segments each, every filter.
        let (w, h, px) = (22_000usize, 5usize, 8usize);
        let img: Vec<u8> = (0..w * h * px)
            .map(|i| ((i * 31 + i / (w * px) * 7 + (i % 977) * 3) % 251) as u8)
            .collect();
        let want = be16(&img);
        for kinds in [[4u8, 3, 2, 1, 0], [1, 3, 4, 0, 2]] {
            let raw = filter_rows(&img, w * px, px, &kinds);
            let mut f = SIGNATURE.to_vec();
            chunk(&mut f, b"IHDR", &ihdr(w as u32, h as u32, 16, 6, 0));
            chunk(&mut f, b"IDAT", &zlib(&raw));
            chunk(&mut f, b"IEND", &[]);
            let (a, b) = both_ways(&f);
            assert!(a == want && b == want, "filters {kinds:?}");
        }
        // 8-bit gray 300,000 x 3 (three segments per row) and 2-bit gray 600,000 x 2.
        let (w, h) = (300_000usize, 3usize);
        let img: Vec<u8> = (0..w * h).map(|i| ((i * 7) % 253) as u8).collect();
        let raw = filter_rows(&img, w, 1, &[4, 3, 1]);
        let f = png(w as u32, h as u32, 8, 0, None, &raw);
        assert!(labels(&f).unwrap() == img);
        let (w, h) = (600_000usize, 2usize);
        let vals: Vec<u8> = (0..w * h).map(|i| ((i / 3 + i / w) % 4) as u8).collect();
        let packed: Vec<u8> = vals
            .chunks(4)
            .map(|c| c.iter().fold(0u8, |a, &v| (a << 2) | v))
            .collect();
        let raw = filter_rows(&packed, w / 4, 1, &[2, 4]);
        let f = png(w as u32, h as u32, 2, 0, None, &raw);
        assert!(labels(&f).unwrap() == vals);
    }

    #[test]
    fn wide_interlaced_rows() {
        // 16-bit RGBA 40000 x 9 interlaced: pass 7 has rows of 320,000 bytes (wide), pass 1
        // of 40,000 (grouped): both kinds in one image, decoded both ways.
        let (w, h, px) = (40_000usize, 9usize, 8usize);
        let img: Vec<u8> = (0..w * h * px).map(|i| ((i * 13) % 249) as u8).collect();
        let f = adam7_png(&img, w, h, px, 6);
        let want = be16(&img);
        let (a, b) = both_ways(&f);
        assert!(a == want && b == want);
    }

    #[test]
    fn truncated_bombs_allocate_what_their_data_holds() {
        // IHDR 89,478,485 x 1 RGBA (358 MB of scanlines) with a few bytes of IDAT: the
        // output's first capacity is what 1032:1 inflation of the data can reach.
        let mut f = SIGNATURE.to_vec();
        chunk(&mut f, b"IHDR", &ihdr(89_478_485, 1, 8, 6, 0));
        chunk(&mut f, b"IDAT", &zlib(&[0; 1000]));
        chunk(&mut f, b"IEND", &[]);
        let png = parse(&f, &Limits::default()).unwrap();
        let total = output_spec(&png.header, &Mode::Raw).unwrap().len();
        let cap = first_capacity(&png, total);
        assert!(cap < png.idat_bytes() * 1032 * 4 + 20_000, "{cap}");
        let e = decode(&f, &Mode::Raw, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("truncated image data"), "{e}");
        // A valid file is sized exactly in one step.
        let good = png_file_gray(300, 200);
        let p = parse(&good, &Limits::default()).unwrap();
        assert_eq!(first_capacity(&p, 60_000), 60_000);
        // The per-thread scratch stays bounded after the wide bomb.
        assert!(SCRATCH.with(|s| s.borrow().capacity()) <= 2 * (WIDE_ROW + 8));
    }

    fn png_file_gray(w: u32, h: u32) -> Vec<u8> {
        let raw: Vec<u8> = (0..h)
            .flat_map(|y| std::iter::once(0u8).chain((0..w).map(move |x| (x ^ y) as u8)))
            .collect();
        png(w, h, 8, 0, None, &raw)
    }

    #[test]
    fn photo_like_rgb_stops_at_the_unknown_colour_bound() {
        // 256 x 64 RGB, every pixel a different colour not in the palette.
        let (w, h) = (256u32, 64u32);
        let raw: Vec<u8> = (0..h)
            .flat_map(|y| {
                std::iter::once(0u8).chain((0..w).flat_map(move |x| [1, y as u8, x as u8]))
            })
            .collect();
        let e = labels(&png(w, h, 8, 2, None, &raw))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("at least 64 colours are not in the palette")
                && e.contains("(1, 0, 0) in 1 pixel"),
            "{e}"
        );
    }
}
