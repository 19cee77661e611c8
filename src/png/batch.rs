//! Files and batches: read / decode many frames in parallel straight into one (T, H, W) buffer,
//! encode / write many frames in parallel with all-or-nothing renames.
//!
//! Parallelism is `crate::parallel` (scoped threads per call, safe after `fork()`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::atomic::{commit_all, sweep_stale, TempFile};
use super::decode::{decode_into, output_spec, parse, Limits, Mode, Out, OutputSpec};
use super::encode::{encode_gray16, encode_indexed, Compression, PaletteSize};
use super::palette::Rgb;
use crate::error::{try_reserve, Error, Result};
use crate::parallel;

/// Read a whole file, naming it in the error; a buffer the allocator refuses is
/// [`Error::Memory`] (`fs::read` would abort the process).
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |e| Error::io(path, e);
    let mut f = fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_or(0, |m| m.len());
    let mut buf = Vec::new();
    try_reserve(
        &mut buf,
        usize::try_from(size).unwrap_or(usize::MAX),
        "the file",
    )
    .map_err(|e| e.with_path(path))?;
    f.read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}

/// Read and parse the first frame of a batch: its bytes (reused when decoding) and the output
/// every frame of the batch must match.
pub fn probe(path: &Path, mode: &Mode, limits: &Limits) -> Result<(Vec<u8>, OutputSpec)> {
    let bytes = read_file(path)?;
    let spec = parse(&bytes, limits)
        .and_then(|png| output_spec(&png.header, mode))
        .map_err(|e| e.with_path(path))?;
    Ok((bytes, spec))
}

fn describe(spec: &OutputSpec) -> String {
    format!(
        "{} x {} (width x height) {}",
        spec.width,
        spec.height,
        spec.dtype_name()
    )
}

/// Decode `paths` into `out` (T frames of `spec.len()` samples), `first` being the bytes of
/// `paths[0]` as returned by [`probe`]. A frame whose size or sample type differs from the first
/// is an error naming both files; any other error names the failing file.
pub fn decode_frames(
    paths: &[PathBuf],
    first: &[u8],
    spec: &OutputSpec,
    mode: &Mode,
    limits: &Limits,
    threads: usize,
    out: Out<'_>,
) -> Result<()> {
    let frame_len = spec.len();
    let total = match &out {
        Out::U8(o) => o.len(),
        Out::U16(o) => o.len(),
    };
    if paths.is_empty() || total != frame_len * paths.len() {
        return Err(Error::param(format!(
            "output of {total} samples for {} frames of {frame_len}",
            paths.len()
        )));
    }
    let one = |i: usize, path: &PathBuf, dst: Out<'_>| -> Result<()> {
        let owned;
        let bytes: &[u8] = if i == 0 {
            first
        } else {
            owned = read_file(path)?;
            &owned
        };
        let png = parse(bytes, limits).map_err(|e| e.with_path(path))?;
        let this = output_spec(&png.header, mode).map_err(|e| e.with_path(path))?;
        if this != *spec {
            return Err(Error::shape(format!(
                "frame size mismatch: {} is {} but {} is {}",
                paths[0].display(),
                describe(spec),
                path.display(),
                describe(&this)
            )));
        }
        decode_into(&png, mode, dst).map_err(|e| e.with_path(path))
    };
    match out {
        Out::U8(o) => parallel::for_each(
            paths.iter().zip(o.chunks_mut(frame_len)),
            threads,
            |i, (p, d)| one(i, p, Out::U8(d)),
        ),
        Out::U16(o) => parallel::for_each(
            paths.iter().zip(o.chunks_mut(frame_len)),
            threads,
            |i, (p, d)| one(i, p, Out::U16(d)),
        ),
    }
}

/// Label frames to encode: T frames of height * width samples, row-major.
#[derive(Clone, Copy)]
pub enum Frames<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
}

/// Encode one (height, width) label map: u8 -> palette PNG, u16 -> 16-bit grayscale.
pub fn encode_frame(
    frame: Frames<'_>,
    height: usize,
    width: usize,
    palette: &[Rgb; 256],
    compression: Compression,
    palette_size: PaletteSize,
) -> Result<Vec<u8>> {
    match frame {
        Frames::U8(l) => encode_indexed(l, height, width, palette, compression, palette_size),
        Frames::U16(l) => encode_gray16(l, height, width, compression),
    }
}

/// Encode and write every frame to its path, all or nothing. All frames are encoded and
/// written to temporary files first (in parallel); only when every one succeeded are they
/// renamed into place, each destination's previous version kept until the last rename
/// succeeded. On any error (encoding, writing, or a rename) every destination is as it was
/// and no temporary file is left. After SIGKILL: every destination holds its old or its new
/// content, never a partial file; a kill during the renames (microseconds per file) can
/// leave some frames new and some old; the temporaries and backups it left are removed by the
/// next write into the folder.
#[allow(clippy::too_many_arguments)]
pub fn write_frames(
    paths: &[PathBuf],
    frames: Frames<'_>,
    height: usize,
    width: usize,
    palette: &[Rgb; 256],
    compression: Compression,
    palette_size: PaletteSize,
    threads: usize,
) -> Result<()> {
    let frame_len = height * width;
    let total = match frames {
        Frames::U8(f) => f.len(),
        Frames::U16(f) => f.len(),
    };
    if frame_len == 0 || total != frame_len * paths.len() {
        return Err(Error::shape(format!(
            "{} paths for a stack of {} frames of {height} x {width}",
            paths.len(),
            total.checked_div(frame_len).unwrap_or(0)
        )));
    }
    let frame = |i: usize| match frames {
        Frames::U8(f) => Frames::U8(&f[i * frame_len..(i + 1) * frame_len]),
        Frames::U16(f) => Frames::U16(&f[i * frame_len..(i + 1) * frame_len]),
    };
    // Temporaries of killed earlier batches in these folders (dead pids) go first.
    let mut dirs: Vec<&Path> = paths
        .iter()
        .map(|p| match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        sweep_stale(d, true);
    }
    // Temporaries are dropped (removed) with this vector unless committed.
    let temps: Mutex<Vec<Option<TempFile>>> = Mutex::new((0..paths.len()).map(|_| None).collect());
    parallel::for_each(paths.iter(), threads, |i, path| {
        let bytes = encode_frame(frame(i), height, width, palette, compression, palette_size)
            .map_err(|e| add_frame(e, i, path))?;
        let tmp = TempFile::write(path, &bytes)?;
        temps.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(tmp);
        Ok(())
    })?;
    let temps = temps.into_inner().unwrap_or_else(|e| e.into_inner());
    // Every frame is on disk: replace all destinations or, if one rename fails, none.
    commit_all(temps.into_iter().flatten().collect())
}

fn add_frame(e: Error, i: usize, path: &Path) -> Error {
    match e {
        Error::Shape(m) => Error::shape(format!("frame {i} ({}): {m}", path.display())),
        Error::Param(m) => Error::param(format!("frame {i} ({}): {m}", path.display())),
        other => other.with_path(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::palette::DAVIS_PALETTE;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fastmask-batch-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn write_then_read_many_frames() {
        let d = dir("rw");
        let (t, h, w) = (5usize, 9usize, 13usize);
        let stack: Vec<u8> = (0..t * h * w).map(|i| (i % 7) as u8).collect();
        let paths: Vec<PathBuf> = (0..t).map(|i| d.join(format!("{i:05}.png"))).collect();
        for threads in [1, 3] {
            write_frames(
                &paths,
                Frames::U8(&stack),
                h,
                w,
                &DAVIS_PALETTE,
                Compression::Fast,
                PaletteSize::Full,
                threads,
            )
            .unwrap();
            let mode = Mode::Labels(&DAVIS_PALETTE);
            let (first, spec) = probe(&paths[0], &mode, &Limits::default()).unwrap();
            let mut out = vec![0u8; t * h * w];
            decode_frames(
                &paths,
                &first,
                &spec,
                &mode,
                &Limits::default(),
                threads,
                Out::U8(&mut out),
            )
            .unwrap();
            assert_eq!(out, stack);
        }
        assert_eq!(fs::read_dir(&d).unwrap().count(), t);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn size_mismatch_names_both_files() {
        let d = dir("mismatch");
        let a = d.join("a.png");
        let b = d.join("b.png");
        // Six blank pixels as height x width: 2x3 and 3x2 differ only in shape.
        let blank = |height: usize, width: usize| {
            encode_indexed(
                &[0; 6],
                height,
                width,
                &DAVIS_PALETTE,
                Compression::Fast,
                PaletteSize::Full,
            )
            .unwrap()
        };
        fs::write(&a, blank(2, 3)).unwrap();
        fs::write(&b, blank(3, 2)).unwrap();
        let mode = Mode::Labels(&DAVIS_PALETTE);
        let paths = vec![a, b];
        let (first, spec) = probe(&paths[0], &mode, &Limits::default()).unwrap();
        let mut out = vec![0u8; 12];
        let e = decode_frames(
            &paths,
            &first,
            &spec,
            &mode,
            &Limits::default(),
            2,
            Out::U8(&mut out),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("a.png is 3 x 2") && e.contains("b.png is 2 x 3"),
            "{e}"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn failed_batch_write_leaves_nothing() {
        let d = dir("fail");
        let good = d.join("good.png");
        fs::write(&good, b"old").unwrap();
        let paths = vec![good.clone(), d.join("missing").join("x.png")];
        let stack = vec![1u8; 2 * 4];
        let e = write_frames(
            &paths,
            Frames::U8(&stack),
            2,
            2,
            &DAVIS_PALETTE,
            Compression::Fast,
            PaletteSize::Full,
            2,
        );
        assert!(e.unwrap_err().to_string().contains("x.png"));
        assert_eq!(fs::read(&good).unwrap(), b"old");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(&d).unwrap();
    }
}
