//! Bindings for the PNG codec: argument conversion, `py.detach` around the work, numpy results.
//! The Python layer (`python/fastmask/png.py`) normalises arguments and documents the API.

use std::path::{Path, PathBuf};

use numpy::ndarray::{Array2, ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArray3, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::error::{Error, Result};
use crate::parallel;
use crate::png::atomic::write_atomic;
use crate::png::batch::{decode_frames, encode_frame, probe, read_file, write_frames, Frames};
use crate::png::decode::{
    decode_png, inflate_idat, parse, Limits, Mode, Out, OutputSpec, Png, SampleType, Samples,
};
use crate::png::encode::{Compression, PaletteSize};
use crate::png::palette::{self, full_palette, Rgb, DAVIS_PALETTE};

/// PNG bytes from `bytes` (borrowed) or any other buffer (copied: a bytearray could change
/// while the GIL is released).
enum Data<'py> {
    Bytes(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Data<'_> {
    fn get<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Data::Bytes(b.clone()));
        }
        let buf = PyBuffer::<u8>::get(obj).map_err(|_| {
            PyValueError::new_err(
                "PNG data must be bytes, bytearray, memoryview or another C-contiguous byte buffer",
            )
        })?;
        Ok(Data::Owned(buf.to_vec(obj.py())?))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Data::Bytes(b) => b.as_bytes(),
            Data::Owned(v) => v,
        }
    }
}

fn colormap_entries(colormap: Option<&Bound<'_, PyBytes>>) -> Result<Vec<Rgb>> {
    match colormap {
        None => Ok(DAVIS_PALETTE.to_vec()),
        Some(b) => palette::entries(b.as_bytes()).ok_or_else(|| {
            Error::param(format!(
                "colormap of {} bytes: expected 1 to 256 RGB entries",
                b.as_bytes().len()
            ))
        }),
    }
}

fn full_palette_of(palette: Option<&Bound<'_, PyBytes>>) -> Result<[Rgb; 256]> {
    match palette {
        None => Ok(DAVIS_PALETTE),
        Some(b) => {
            let entries = palette::entries(b.as_bytes()).ok_or_else(|| {
                Error::param(format!(
                    "palette of {} bytes: expected 1 to 256 RGB entries",
                    b.as_bytes().len()
                ))
            })?;
            Ok(full_palette(Some(&entries)))
        }
    }
}

fn compression_of(obj: &Bound<'_, PyAny>) -> PyResult<Compression> {
    if let Ok(name) = obj.extract::<String>() {
        return Ok(Compression::from_name(&name)?);
    }
    if let Ok(level) = obj.extract::<i64>() {
        return Ok(Compression::from_level(level)?);
    }
    Err(PyValueError::new_err(
        "compression must be \"fast\", \"small\" or a zlib level 0..9",
    ))
}

type Decoded = (Vec<usize>, Samples, Option<Vec<u8>>);

fn decode_parsed(png: &Png, raw: bool, colormap: &[Rgb]) -> Result<Decoded> {
    let mode = if raw {
        Mode::Raw
    } else {
        Mode::Labels(colormap)
    };
    let (spec, samples) = decode_png(png, &mode)?;
    Ok((spec.shape(), samples, png.palette.map(|p| p.to_vec())))
}

fn to_python(
    py: Python<'_>,
    (shape, samples, plte): Decoded,
    with_palette: bool,
) -> PyResult<Py<PyAny>> {
    let array: Py<PyAny> = match samples {
        Samples::U8(v) => ArrayD::from_shape_vec(IxDyn(&shape), v)
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .into_pyarray(py)
            .into_any()
            .unbind(),
        Samples::U16(v) => ArrayD::from_shape_vec(IxDyn(&shape), v)
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .into_pyarray(py)
            .into_any()
            .unbind(),
    };
    if !with_palette {
        return Ok(array);
    }
    let pal: Py<PyAny> = match plte {
        Some(p) => Array2::from_shape_vec((p.len() / 3, 3), p)
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .into_pyarray(py)
            .into_any()
            .unbind(),
        None => py.None(),
    };
    Ok(PyTuple::new(py, [array, pal])?.into_any().unbind())
}

fn limits(max_pixels: u64) -> Limits {
    Limits {
        max_pixels,
        ..Limits::default()
    }
}

/// Decode PNG bytes (see `fastmask.decode_png`).
#[pyfunction]
#[pyo3(signature = (data, palette, raw, colormap, max_pixels))]
fn _decode_png(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    palette: bool,
    raw: bool,
    colormap: Option<&Bound<'_, PyBytes>>,
    max_pixels: u64,
) -> PyResult<Py<PyAny>> {
    let data = Data::get(data)?;
    let bytes = data.bytes();
    let colormap = colormap_entries(colormap)?;
    let decoded = py.detach(|| {
        let png = parse(bytes, &limits(max_pixels))?;
        decode_parsed(&png, raw, &colormap)
    })?;
    to_python(py, decoded, palette)
}

/// Read and decode a PNG file (see `fastmask.read_png`).
#[pyfunction]
#[pyo3(signature = (path, palette, raw, colormap, max_pixels))]
fn _read_png(
    py: Python<'_>,
    path: PathBuf,
    palette: bool,
    raw: bool,
    colormap: Option<&Bound<'_, PyBytes>>,
    max_pixels: u64,
) -> PyResult<Py<PyAny>> {
    let colormap = colormap_entries(colormap)?;
    let decoded = py.detach(|| {
        let bytes = read_file(&path)?;
        parse(&bytes, &limits(max_pixels))
            .and_then(|png| decode_parsed(&png, raw, &colormap))
            .map_err(|e| e.with_path(&path))
    })?;
    to_python(py, decoded, palette)
}

fn info_dict<'py>(py: Python<'py>, png: &Png) -> PyResult<Bound<'py, PyDict>> {
    let h = &png.header;
    let d = PyDict::new(py);
    d.set_item("width", h.width)?;
    d.set_item("height", h.height)?;
    d.set_item("bit_depth", h.bit_depth)?;
    d.set_item("color_type", h.color_type.code())?;
    d.set_item("color_type_name", h.color_type.name())?;
    d.set_item("interlaced", h.interlaced)?;
    d.set_item("palette_entries", png.palette_entries())?;
    d.set_item("transparency", png.trns.is_some())?;
    d.set_item("idat_bytes", png.idat_bytes())?;
    let chunks: Vec<(String, u32)> = png.chunks.iter().map(|c| (c.name(), c.len)).collect();
    d.set_item("chunks", chunks)?;
    Ok(d)
}

/// Header and chunk summary of PNG bytes, without decompressing (see `fastmask.png_info`).
#[pyfunction]
fn _png_info<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let data = Data::get(data)?;
    let png = parse(data.bytes(), &Limits::unlimited())?;
    info_dict(py, &png)
}

/// `_png_info` of a file.
#[pyfunction]
fn _png_info_file<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let bytes = py.detach(|| read_file(&path))?;
    let png = parse(&bytes, &Limits::unlimited()).map_err(|e| e.with_path(&path))?;
    info_dict(py, &png)
}

/// Run `f` on the label array's samples in row-major order with its shape. C-contiguous arrays
/// are borrowed (no copy); strided or Fortran-ordered views are copied into row-major order.
/// (As everywhere in rust-numpy, the array must not be changed from another thread meanwhile.)
fn with_labels<R>(
    obj: &Bound<'_, PyAny>,
    ndim: usize,
    f: impl FnOnce(Frames<'_>, &[usize]) -> PyResult<R>,
) -> PyResult<R> {
    let wrong = || {
        PyValueError::new_err(format!(
            "labels must be a {ndim}-D uint8, bool or uint16 array"
        ))
    };
    let check = |shape: &[usize]| {
        if shape.len() == ndim {
            Ok(())
        } else {
            Err(wrong())
        }
    };
    if let Ok(a) = obj.cast::<PyArrayDyn<u8>>() {
        check(a.shape())?;
        return row_major(a, |s| f(Frames::U8(s), a.shape()));
    }
    if let Ok(a) = obj.cast::<PyArrayDyn<u16>>() {
        check(a.shape())?;
        return row_major(a, |s| f(Frames::U16(s), a.shape()));
    }
    Err(wrong())
}

/// Run `f` on the array's samples in row-major order: borrowed when C-contiguous, else copied.
fn row_major<T: numpy::Element + Copy, R>(
    a: &Bound<'_, PyArrayDyn<T>>,
    f: impl FnOnce(&[T]) -> PyResult<R>,
) -> PyResult<R> {
    let ro = a.readonly();
    // `as_slice` also accepts Fortran order: only C order is row-major.
    if let (true, Ok(s)) = (a.is_c_contiguous(), ro.as_slice()) {
        return f(s);
    }
    let v: Vec<T> = ro.as_array().iter().copied().collect();
    f(&v)
}

/// Encode a (H, W) uint8 / uint16 label map (see `fastmask.encode_png`).
#[pyfunction]
#[pyo3(signature = (labels, palette, compression, palette_size))]
fn _encode_png<'py>(
    py: Python<'py>,
    labels: &Bound<'py, PyAny>,
    palette: Option<&Bound<'py, PyBytes>>,
    compression: &Bound<'py, PyAny>,
    palette_size: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let pal = full_palette_of(palette)?;
    let compression = compression_of(compression)?;
    let size = PaletteSize::from_name(palette_size)?;
    let png = with_labels(labels, 2, |frame, shape| {
        Ok(py.detach(|| encode_frame(frame, shape[0], shape[1], &pal, compression, size))?)
    })?;
    Ok(PyBytes::new(py, &png))
}

/// Encode and write atomically (see `fastmask.write_png`).
#[pyfunction]
#[pyo3(signature = (path, labels, palette, compression, palette_size))]
fn _write_png(
    py: Python<'_>,
    path: PathBuf,
    labels: &Bound<'_, PyAny>,
    palette: Option<&Bound<'_, PyBytes>>,
    compression: &Bound<'_, PyAny>,
    palette_size: &str,
) -> PyResult<()> {
    let pal = full_palette_of(palette)?;
    let compression = compression_of(compression)?;
    let size = PaletteSize::from_name(palette_size)?;
    with_labels(labels, 2, |frame, shape| {
        Ok(py.detach(|| {
            let png = encode_frame(frame, shape[0], shape[1], &pal, compression, size)
                .map_err(|e| add_path(e, &path))?;
            write_atomic(&path, &png)
        })?)
    })
}

fn add_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Shape(m) => Error::shape(format!("{}: {m}", path.display())),
        Error::Param(m) => Error::param(format!("{}: {m}", path.display())),
        other => other.with_path(path),
    }
}

/// Read and decode frames in parallel into one (T, H, W) array (see `fastmask.read_pngs`).
#[pyfunction]
#[pyo3(signature = (paths, threads, colormap, max_pixels, out=None))]
fn _read_pngs(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    threads: Option<usize>,
    colormap: Option<&Bound<'_, PyBytes>>,
    max_pixels: u64,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    if paths.is_empty() {
        return Err(PyValueError::new_err("read_pngs needs at least one path"));
    }
    // Default: one thread per 4 frames, up to the cores: a second thread costs a spawn
    // (~45 us, benches/bench_parallel.py) and cold per-thread decoder state. On 854x480
    // frames 2 threads vs 1 give 1.3x for 8 frames, 1.6x for 16, 1.8x for 64 (the "batch
    // decode" groups of benches/bench_png.py). An explicit `threads` is used as given.
    let work_items = if threads.is_none() {
        paths.len() / 4
    } else {
        paths.len()
    };
    let threads = parallel::thread_count(threads, work_items)?;
    let colormap = colormap_entries(colormap)?;
    let mode = Mode::Labels(&colormap);
    let lim = limits(max_pixels);
    let (first, spec) = py.detach(|| probe(&paths[0], &mode, &lim))?;
    let dims = (paths.len(), spec.height, spec.width);
    if let Some(out) = out {
        read_pngs_into(py, out, dims, &paths, &first, &spec, &mode, &lim, threads)?;
        return Ok(out.clone().unbind());
    }
    // The result is `numpy.empty`, filled by the decoding threads. Not zeroed first: zeroing
    // 26 MB for 64 frames (PyArray3::zeros, or a calloc that glibc serves from the heap after
    // an earlier large free) ran serially on this thread (np.zeros of that size: 0.9 ms) and
    // held 2 threads to 1.3-1.5x of 1. numpy also asks for huge pages on large arrays.
    let dtype = match spec.sample {
        SampleType::U8 => "uint8",
        SampleType::U16 => "uint16",
    };
    // numpy raises MemoryError when the memory is not there; untouched pages of a batch that
    // fails early (a truncated first frame) are never faulted in.
    let arr = super::alloc::empty(py, &[dims.0, dims.1, dims.2], dtype)?;
    read_pngs_into(py, &arr, dims, &paths, &first, &spec, &mode, &lim, threads)?;
    Ok(arr.unbind())
}

/// Decode into a caller-owned `(T, H, W)` array: no allocation, no page faults, so a data
/// loader that reuses its buffer pays for decoding only.
#[allow(clippy::too_many_arguments)]
fn read_pngs_into(
    py: Python<'_>,
    out: &Bound<'_, PyAny>,
    dims: (usize, usize, usize),
    paths: &[PathBuf],
    first: &[u8],
    spec: &OutputSpec,
    mode: &Mode,
    lim: &Limits,
    threads: usize,
) -> PyResult<()> {
    let want = [dims.0, dims.1, dims.2];
    let tuple = |s: &[usize]| match s {
        [t, h, w] => format!("({t}, {h}, {w})"),
        _ => format!("{s:?}"),
    };
    let (dtype, u8_out) = match spec.sample {
        SampleType::U8 => ("uint8", out.cast::<PyArray3<u8>>().ok()),
        SampleType::U16 => ("uint16", None),
    };
    let u16_out = out.cast::<PyArray3<u16>>().ok();
    let mismatch = |shape: String| {
        PyValueError::new_err(format!(
            "out must be a C-contiguous, writeable {dtype} array of shape {} for these \
             frames; got {shape}",
            tuple(&want)
        ))
    };
    match (spec.sample, u8_out, u16_out) {
        (SampleType::U8, Some(a), _) => {
            if a.shape() != want {
                return Err(mismatch(format!("shape {}", tuple(a.shape()))));
            }
            let mut rw = a
                .try_readwrite()
                .map_err(|_| mismatch("a read-only array".into()))?;
            let o = rw
                .as_slice_mut()
                .map_err(|_| mismatch("a non-contiguous array".into()))?;
            py.detach(|| decode_frames(paths, first, spec, mode, lim, threads, Out::U8(o)))?;
        }
        (SampleType::U16, _, Some(a)) => {
            if a.shape() != want {
                return Err(mismatch(format!("shape {}", tuple(a.shape()))));
            }
            let mut rw = a
                .try_readwrite()
                .map_err(|_| mismatch("a read-only array".into()))?;
            let o = rw
                .as_slice_mut()
                .map_err(|_| mismatch("a non-contiguous array".into()))?;
            py.detach(|| decode_frames(paths, first, spec, mode, lim, threads, Out::U16(o)))?;
        }
        _ => {
            let desc = match out.getattr("dtype") {
                Ok(d) => format!("dtype {d}"),
                Err(_) => format!("{}", out.get_type()),
            };
            return Err(mismatch(desc));
        }
    }
    Ok(())
}

/// Encode frames in parallel and write them all or none (see `fastmask.write_pngs`).
#[pyfunction]
#[pyo3(signature = (paths, stack, palette, compression, threads, palette_size))]
fn _write_pngs(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    stack: &Bound<'_, PyAny>,
    palette: Option<&Bound<'_, PyBytes>>,
    compression: &Bound<'_, PyAny>,
    threads: Option<usize>,
    palette_size: &str,
) -> PyResult<()> {
    let pal = full_palette_of(palette)?;
    let compression = compression_of(compression)?;
    let size = PaletteSize::from_name(palette_size)?;
    let threads = parallel::thread_count(threads, paths.len())?;
    with_labels(stack, 3, |frames, shape| {
        if shape[0] != paths.len() {
            return Err(PyValueError::new_err(format!(
                "{} paths for a stack of {} frames",
                paths.len(),
                shape[0]
            )));
        }
        Ok(py.detach(|| {
            write_frames(
                &paths,
                frames,
                shape[1],
                shape[2],
                &pal,
                compression,
                size,
                threads,
            )
        })?)
    })
}

/// The DAVIS palette as 768 bytes (r, g, b for labels 0..255).
#[pyfunction]
fn _davis_palette<'py>(py: Python<'py>) -> Bound<'py, PyBytes> {
    let flat: Vec<u8> = DAVIS_PALETTE.iter().flatten().copied().collect();
    PyBytes::new(py, &flat)
}

/// Inflate one zlib stream into exactly `size` bytes with the decoder's own inflater
/// (benchmarks compare `decode_png` against this floor).
#[pyfunction]
fn _inflate<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyBytes>,
    size: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let input = data.as_bytes();
    PyBytes::new_with(py, size, |out| Ok(inflate_idat(&[input], out)?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_decode_png, m)?)?;
    m.add_function(wrap_pyfunction!(_read_png, m)?)?;
    m.add_function(wrap_pyfunction!(_png_info, m)?)?;
    m.add_function(wrap_pyfunction!(_png_info_file, m)?)?;
    m.add_function(wrap_pyfunction!(_encode_png, m)?)?;
    m.add_function(wrap_pyfunction!(_write_png, m)?)?;
    m.add_function(wrap_pyfunction!(_read_pngs, m)?)?;
    m.add_function(wrap_pyfunction!(_write_pngs, m)?)?;
    m.add_function(wrap_pyfunction!(_davis_palette, m)?)?;
    m.add_function(wrap_pyfunction!(_inflate, m)?)?;
    m.add("DEFAULT_MAX_PIXELS", crate::png::decode::DEFAULT_MAX_PIXELS)?;
    Ok(())
}
