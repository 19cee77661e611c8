//! Label maps in: PNG files decoded with the core decoder into reused buffers, and the
//! boundary pixels of chosen labels from the metrics core's one-pass boundary scan.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::metrics::boundary::{scan_boundaries, Point};
use crate::png::{decode_into, output_spec, parse, Limits, Mode, Out, Rgb, SampleType};

/// Decode the PNG at `path` into `out` as one label per pixel (palette index, gray value,
/// or an RGB colour mapped through `colours`, label i = colour i: the DAVIS palette unless
/// the user gave a colormap); `file` is a reused byte buffer.
/// `max_pixels`: the largest width * height accepted (checked on the header, before any
/// allocation; the caller's `fastmask.set_max_pixels` / `max_pixels=` travels in each job).
/// Returns (height, width). Errors name the file.
pub fn read_labels(
    path: &Path,
    colours: &[Rgb],
    file: &mut Vec<u8>,
    out: &mut Vec<u8>,
    max_pixels: u64,
) -> Result<(usize, usize)> {
    file.clear();
    File::open(path)
        .and_then(|mut f| f.read_to_end(file))
        .map_err(|e| Error::io(path, e))?;
    let mode = Mode::Labels(colours);
    let limits = Limits {
        max_pixels,
        ..Limits::default()
    };
    let decoded = parse(file, &limits).and_then(|png| {
        let spec = output_spec(&png.header, &mode)?;
        if spec.sample != SampleType::U8 {
            return Err(Error::eval(format!(
                "16-bit mask: evaluation reads 8-bit label maps (labels 0..255), found {}-bit \
                 {}",
                png.header.bit_depth,
                png.header.color_type.name()
            )));
        }
        // Counts per label are u32 in the engine's joint table.
        if spec.len() > u32::MAX as usize {
            return Err(Error::limit(format!(
                "{} x {} pixels: more than the {} an evaluated frame may have",
                spec.width,
                spec.height,
                u32::MAX
            )));
        }
        out.clear();
        out.resize(spec.len(), 0);
        decode_into(&png, &mode, Out::U8(out))?;
        Ok((spec.height, spec.width))
    });
    decoded.map_err(|e| e.with_path(path))
}

/// Boundary pixels (DAVIS `_seg2bmap` of `labels == k`, row-major) of every label `k`
/// with `want[k]`, into `out[k]` (256 lists; the others are left empty). `span`: a byte
/// range holding every non-zero value (`None`: the map is all zero).
///
/// Only the band of rows holding non-zero labels, plus the zero row above it (whose pixels
/// are on the boundary of a label just below them) and the zero row below it, is scanned:
/// rows further away have no boundary pixel of any label k != 0, and the band's own last
/// row is all zero, so the scan's edge rule there (south neighbour = itself) gives what
/// the full frame gives.
pub fn label_boundaries(
    labels: &[u8],
    h: usize,
    w: usize,
    span: Option<(usize, usize)>,
    want: &[bool; 256],
    out: &mut [Vec<Point>],
) {
    for pts in out.iter_mut() {
        pts.clear();
    }
    let Some((first, last)) = span else {
        return;
    };
    if !want.iter().any(|&x| x) || w == 0 || labels.len() != h * w {
        return;
    }
    let last = last.min(labels.len().saturating_sub(1));
    let (y0, y_end) = ((first / w).saturating_sub(1), (last / w + 2).min(h));
    let band = &labels[y0 * w..y_end * w];
    let dy = y0 as u32; // y0 < h <= u32::MAX (decoder limits)
    scan_boundaries(band, y_end - y0, w, None, false, u32::from, |k, y, x| {
        if let (Some(true), Some(pts)) = (want.get(k as usize).copied(), out.get_mut(k as usize)) {
            pts.push(Point { y: y + dy, x });
        }
    });
}
