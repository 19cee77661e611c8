//! Bindings for `fastmask.coco` and `fastmask.rle`: RLE dicts and numpy arrays in, the
//! same out. Dicts are read under the GIL (sizes, counts as bytes / str / int lists);
//! parsing, encoding and decoding run with the GIL released. The Python layer
//! (`python/fastmask/coco.py`, `rle.py`) keeps pycocotools' dispatch and argument rules.

use std::borrow::Cow;

use numpy::ndarray::{Array2, ArrayView, ArrayView3, Axis, ShapeBuilder};
use numpy::{
    Element, PyArray, PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArray2, PyReadonlyArray3,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use super::alloc;
use crate::error::{Error, Result};
use crate::parallel;
use crate::rle::encode::{self, Label};
use crate::rle::ops::{self, Overlap};
use crate::rle::{codec, polygon, Rle};

/// Below this many pixels in total, `threads=None` stays on the calling thread: an extra
/// thread costs ~45 us per call (benches/bench_parallel.py), about the time to encode or
/// decode 2 Mpx (rle encode of 1920x1080: 80-155 us, benches/bench_rle.py).
const AUTO_PARALLEL_PIXELS: usize = 1 << 21;

/// Workers for `items` independent pieces of `pixels` total work.
fn workers(threads: Option<usize>, items: usize, pixels: usize) -> Result<usize> {
    match threads {
        None if pixels < AUTO_PARALLEL_PIXELS => Ok(1),
        t => parallel::thread_count(t, items),
    }
}

/// Counts as found in a dict, before parsing.
enum Counts {
    Compressed(Vec<u8>),
    Raw(Vec<i64>),
}

/// One RLE dict, read under the GIL.
struct RleIn {
    h: u64,
    w: u64,
    counts: Counts,
}

impl RleIn {
    /// Parse and check; `name()` ("RLE 3", "object 7") prefixes error messages.
    fn parse(&self, name: impl Fn() -> String) -> Result<Rle> {
        let at = |e: Error| match e {
            Error::Rle(m) => Error::rle(format!("{}: {m}", name())),
            other => other,
        };
        match &self.counts {
            Counts::Compressed(s) => Rle::from_string(self.h, self.w, s).map_err(at),
            Counts::Raw(c) => {
                let mut v = Vec::with_capacity(c.len());
                for (j, &x) in c.iter().enumerate() {
                    v.push(u64::try_from(x).map_err(|_| {
                        Error::rle(format!("{}: count {j} is negative ({x})", name()))
                    })?);
                }
                Rle::from_counts(self.h, self.w, &v).map_err(at)
            }
        }
    }
}

/// `ops::area` straight from a well-formed count string (no counts vector).
fn fast_area(r: &RleIn) -> Option<u32> {
    let Counts::Compressed(s) = &r.counts else {
        return None;
    };
    let n = crate::rle::check_size(r.h, r.w).ok()?;
    let (mut area, mut odd) = (0u64, false);
    codec::for_each_count(s, n, |c| {
        if odd {
            area += u64::from(c);
        }
        odd = !odd;
    })?;
    Some(area as u32)
}

fn read_rle(obj: &Bound<'_, PyAny>, i: usize) -> PyResult<RleIn> {
    let d = obj.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "RLE {i} must be a dict with 'size' and 'counts'; got {}",
            type_name(obj)
        ))
    })?;
    let get = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        d.get_item(key)?
            .ok_or_else(|| Error::rle(format!("RLE {i} has no {key:?} key")).into())
    };
    let size = get("size")?;
    let bad_size = || {
        PyTypeError::new_err(format!(
            "RLE {i}: 'size' must be [h, w] (two non-negative integers); got {}",
            size.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))
    };
    let hw: Vec<Bound<'_, PyAny>> = size.extract().map_err(|_| bad_size())?;
    let [h, w] = &hw[..] else {
        return Err(Error::rle(format!(
            "RLE {i}: 'size' must be [h, w]; got {} values",
            hw.len()
        ))
        .into());
    };
    let (h, w) = (dim(h).ok_or_else(bad_size)?, dim(w).ok_or_else(bad_size)?);
    let counts = get("counts")?;
    let counts = if let Ok(b) = counts.cast::<PyBytes>() {
        Counts::Compressed(b.as_bytes().to_vec())
    } else if let Ok(s) = counts.cast::<PyString>() {
        Counts::Compressed(s.to_str()?.as_bytes().to_vec())
    } else {
        match counts.extract::<Vec<i64>>() {
            Ok(v) => Counts::Raw(v),
            Err(_) => return Err(bad_counts(&counts, i)),
        }
    };
    Ok(RleIn { h, w, counts })
}

/// A size value: a non-negative int, or a float with an integral value (pycocotools takes
/// `[480.0, 854.0]`, as JSON writers that store every number as a float produce).
fn dim(v: &Bound<'_, PyAny>) -> Option<u64> {
    if let Ok(n) = v.extract::<u64>() {
        return Some(n);
    }
    let f = v.extract::<f64>().ok()?;
    // 2^64 is exact as an f64; every integral float below it converts exactly.
    (f >= 0.0 && f.fract() == 0.0 && f < 18_446_744_073_709_551_616.0).then_some(f as u64)
}

/// Why an RLE's `counts` is not a list of counts: one too large to be a count (a clear
/// message instead of "must be a list of ints"), or not a list of ints at all.
fn bad_counts(counts: &Bound<'_, PyAny>, i: usize) -> PyErr {
    if let Ok(items) = counts.extract::<Vec<Bound<'_, PyAny>>>() {
        for (j, x) in items.iter().enumerate() {
            if x.is_instance_of::<pyo3::types::PyInt>() && x.extract::<i64>().is_err() {
                let repr = x.repr().map_or_else(|_| "?".into(), |r| r.to_string());
                return Error::rle(format!(
                    "RLE {i}: count {j} is {repr}, outside the range of counts \
                     (0 to 2^63-1; one mask has at most 2^31 pixels)"
                ))
                .into();
            }
        }
    }
    PyTypeError::new_err(format!(
        "RLE {i}: 'counts' must be bytes, str or a list of ints; got {}",
        type_name(counts)
    ))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".into(), |n| n.to_string())
}

/// Every RLE dict of a list (or tuple).
fn read_rles(objs: &Bound<'_, PyAny>) -> PyResult<Vec<RleIn>> {
    if objs.is_instance_of::<PyDict>() || objs.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "expected a list of RLE dicts; got {}",
            type_name(objs)
        )));
    }
    objs.try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a list of RLE dicts; got {}",
                type_name(objs)
            ))
        })?
        .enumerate()
        .map(|(i, o)| read_rle(&o?, i))
        .collect()
}

fn parse_all(rles: &[RleIn]) -> Result<Vec<Rle>> {
    rles.iter()
        .enumerate()
        .map(|(i, r)| r.parse(|| format!("RLE {i}")))
        .collect()
}

/// `{'size': [h, w], 'counts': ...}` with counts as bytes (pycocotools) or str.
fn rle_dict<'py>(
    py: Python<'py>,
    h: usize,
    w: usize,
    counts: &[u8],
    as_str: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("size", PyList::new(py, [h, w])?)?;
    if as_str {
        // Count strings only hold the characters '0'..'o'.
        let s = std::str::from_utf8(counts).map_err(|e| Error::rle(e.to_string()))?;
        d.set_item("counts", PyString::new(py, s))?;
    } else {
        d.set_item("counts", PyBytes::new(py, counts))?;
    }
    Ok(d)
}

fn dict_list<'py>(
    py: Python<'py>,
    rles: &[(usize, usize, Vec<u8>)],
    as_str: bool,
) -> PyResult<Bound<'py, PyList>> {
    let items = rles
        .iter()
        .map(|(h, w, s)| rle_dict(py, *h, *w, s, as_str))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// A row-major row of a view: borrowed when contiguous, gathered otherwise.
fn row_of<'a, T: Copy, D: numpy::ndarray::RemoveAxis>(
    v: &ArrayView<'a, T, D>,
    y: usize,
) -> Cow<'a, [T]> {
    let r = v.clone().index_axis_move(Axis(0), y);
    match r.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(r.iter().copied().collect()),
    }
}

/// Runs of every mask of an `(h, w, n)` view, read in the order its memory allows.
fn encode_view(v: ArrayView3<'_, u8>, threads: Option<usize>) -> Result<Vec<Vec<u32>>> {
    let (h, w, n) = v.dim();
    let s = v.strides();
    let t = workers(threads, n, h * w * n)?;
    if s[0] == 1 || h <= 1 {
        // Column-major (pycocotools' Fortran input): each column is contiguous.
        let masks: Vec<usize> = (0..n).collect();
        return parallel::map(masks, t, |_, k| {
            let m = v.index_axis(Axis(2), k);
            let cols = |x: usize| m.index_axis_move(Axis(1), x).to_slice().unwrap_or(&[]);
            encode::encode_columns(h, w, &cols)
        });
    }
    if h > 0 && v.index_axis(Axis(0), 0).to_slice().is_some() {
        // Row-major with whole rows contiguous (C order, (h, w, n) stacks, row crops).
        let rows = |y: usize| row_of(&v, y);
        return encode::encode_rows(h, w, n, &rows, t);
    }
    // Anything else: one mask at a time, each row gathered when it is not contiguous.
    let masks: Vec<usize> = (0..n).collect();
    parallel::map(masks, t, |_, k| {
        let m = v.index_axis(Axis(2), k);
        let rows = |y: usize| row_of(&m, y);
        let mut r = encode::encode_rows(h, w, 1, &rows, 1)?;
        Ok(r.pop().unwrap_or_default())
    })
}

/// Encode an `(h, w, n)` uint8 stack (any memory layout; non-zero is foreground) into a
/// list of `n` RLE dicts.
#[pyfunction]
#[pyo3(signature = (masks, threads=None))]
fn _rle_encode<'py>(
    py: Python<'py>,
    masks: PyReadonlyArray3<'py, u8>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let v = masks.as_array();
    let (h, w, _) = v.dim();
    let out = py.detach(|| -> Result<Vec<(usize, usize, Vec<u8>)>> {
        let runs = encode_view(v, threads)?;
        Ok(runs
            .into_iter()
            .map(|counts| {
                let mut s = Vec::new();
                codec::write_counts(&counts, &mut s);
                (h, w, s)
            })
            .collect())
    })?;
    dict_list(py, &out, false)
}

/// Decode a non-empty list of RLEs of one size into an `(h, w, n)` Fortran-ordered stack.
/// The whole call decodes at most `MAX_CALL_PIXELS` pixels; numpy allocates the result
/// (zeroed, `MemoryError` if the memory is not there).
#[pyfunction]
#[pyo3(signature = (rles, threads=None))]
fn _rle_decode<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyAny>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let inputs = read_rles(rles)?;
    let rles = py.detach(|| -> Result<Vec<Rle>> {
        let rles = parse_all(&inputs)?;
        let Some(first) = rles.first() else {
            return Err(Error::rle(
                "decode needs at least one RLE; got an empty list",
            ));
        };
        let (h, w) = (first.h, first.w);
        for (i, r) in rles.iter().enumerate() {
            if (r.h, r.w) != (h, w) {
                return Err(Error::shape(format!(
                    "decode: every RLE must have the same size; RLE 0 is [{h}, {w}] but RLE \
                     {i} is [{}, {}]",
                    r.h, r.w
                )));
            }
        }
        crate::rle::check_call_budget(
            &format!("decode of {} masks", rles.len()),
            rles.len() as u64,
            h as u64,
            w as u64,
        )?;
        Ok(rles)
    })?;
    drop(inputs);
    let (h, w, px, n) = (rles[0].h, rles[0].w, rles[0].pixels(), rles.len());
    let arr = alloc::zeros(py, &[h, w, n], "uint8", true)?;
    if px > 0 {
        let a = arr.cast::<PyArray3<u8>>()?;
        let mut rw = a.readwrite();
        let data = rw.as_slice_mut().map_err(|e| Error::shape(e.to_string()))?;
        py.detach(|| -> Result<()> {
            let t = workers(threads, n, px * n)?;
            parallel::for_each(data.chunks_mut(px).zip(&rles), t, |_, (out, r)| {
                ops::decode_into(r, out)
            })
        })?;
    }
    Ok(arr)
}

/// Foreground areas (uint32).
#[pyfunction]
fn _rle_area<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let inputs = read_rles(rles)?;
    let a = py.detach(|| -> Result<Vec<u32>> {
        inputs
            .iter()
            .enumerate()
            .map(|(i, r)| match fast_area(r) {
                Some(a) => Ok(a),
                None => Ok(ops::area(&r.parse(|| format!("RLE {i}"))?)),
            })
            .collect()
    })?;
    Ok(PyArray1::from_vec(py, a))
}

/// Bounding boxes `(n, 4)` float64 `[x, y, w, h]`.
#[pyfunction]
fn _rle_to_bbox<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let inputs = read_rles(rles)?;
    let arr = py.detach(|| -> Result<Array2<f64>> {
        let boxes: Vec<f64> = parse_all(&inputs)?.iter().flat_map(ops::to_bbox).collect();
        Array2::from_shape_vec((boxes.len() / 4, 4), boxes).map_err(|e| Error::shape(e.to_string()))
    })?;
    Ok(PyArray::from_owned_array(py, arr))
}

/// Union (or intersection) of a non-empty list of RLEs of one size.
#[pyfunction]
#[pyo3(signature = (rles, intersect=false))]
fn _rle_merge<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyAny>,
    intersect: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let inputs = read_rles(rles)?;
    let r = py.detach(|| -> Result<Rle> { ops::merge(&parse_all(&inputs)?, intersect) })?;
    rle_dict(py, r.h, r.w, &r.to_compressed(), false)
}

fn iou_array(
    py: Python<'_>,
    o: Vec<f64>,
    m: usize,
    n: usize,
) -> PyResult<Bound<'_, PyArray2<f64>>> {
    // pycocotools returns the (m, n) matrix in Fortran order (gt-major memory).
    let arr = Array2::from_shape_vec((m, n).f(), o).map_err(|e| Error::shape(e.to_string()))?;
    Ok(PyArray::from_owned_array(py, arr))
}

/// IoU `(m, n)` of RLE lists `dt` and `gt`; `iscrowd` has one flag per gt.
#[pyfunction]
fn _rle_iou<'py>(
    py: Python<'py>,
    dt: &Bound<'py, PyAny>,
    gt: &Bound<'py, PyAny>,
    iscrowd: PyReadonlyArray1<'py, u8>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (d, g) = (read_rles(dt)?, read_rles(gt)?);
    let crowd: Vec<bool> = iscrowd.as_array().iter().map(|&c| c != 0).collect();
    let (m, n) = (d.len(), g.len());
    let o =
        py.detach(|| -> Result<Vec<f64>> { ops::iou(&parse_all(&d)?, &parse_all(&g)?, &crowd) })?;
    iou_array(py, o, m, n)
}

fn boxes(a: &PyReadonlyArray2<'_, f64>, what: &str) -> Result<Vec<[f64; 4]>> {
    let v = a.as_array();
    if v.ncols() != 4 {
        return Err(Error::shape(format!(
            "{what} boxes must have shape (N, 4); got {:?}",
            v.shape()
        )));
    }
    Ok(v.rows()
        .into_iter()
        .map(|r| [r[0], r[1], r[2], r[3]])
        .collect())
}

/// IoU `(m, n)` of `[x, y, w, h]` boxes.
#[pyfunction]
fn _bbox_iou<'py>(
    py: Python<'py>,
    dt: PyReadonlyArray2<'py, f64>,
    gt: PyReadonlyArray2<'py, f64>,
    iscrowd: PyReadonlyArray1<'py, u8>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (d, g) = (boxes(&dt, "dt")?, boxes(&gt, "gt")?);
    let crowd: Vec<bool> = iscrowd.as_array().iter().map(|&c| c != 0).collect();
    let o = py.detach(|| ops::box_iou(&d, &g, &crowd))?;
    iou_array(py, o, d.len(), g.len())
}

/// RLEs of `[x, y, w, h]` boxes in an `h x w` image.
#[pyfunction]
fn _rle_fr_bbox<'py>(
    py: Python<'py>,
    bb: PyReadonlyArray2<'py, f64>,
    h: usize,
    w: usize,
) -> PyResult<Bound<'py, PyList>> {
    let b = boxes(&bb, "")?;
    let out = py.detach(|| -> Result<Vec<(usize, usize, Vec<u8>)>> {
        b.iter()
            .map(|bb| Ok((h, w, polygon::from_bbox(*bb, h, w)?.to_compressed())))
            .collect()
    })?;
    dict_list(py, &out, false)
}

/// RLEs of polygons `[x0, y0, x1, y1, ...]` in an `h x w` image.
#[pyfunction]
fn _rle_fr_poly<'py>(
    py: Python<'py>,
    polys: Vec<PyReadonlyArray1<'py, f64>>,
    h: usize,
    w: usize,
) -> PyResult<Bound<'py, PyList>> {
    let polys: Vec<Vec<f64>> = polys.iter().map(|p| p.as_array().to_vec()).collect();
    let out = py.detach(|| -> Result<Vec<(usize, usize, Vec<u8>)>> {
        polys
            .iter()
            .map(|p| Ok((h, w, polygon::from_polygon(p, h, w)?.to_compressed())))
            .collect()
    })?;
    dict_list(py, &out, false)
}

/// RLE dicts with counts in any form (int list, bytes, str) to compressed bytes, checked.
#[pyfunction]
#[pyo3(signature = (rles, as_str=false))]
fn _rle_compress<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyAny>,
    as_str: bool,
) -> PyResult<Bound<'py, PyList>> {
    let inputs = read_rles(rles)?;
    let out = py.detach(|| -> Result<Vec<(usize, usize, Vec<u8>)>> {
        Ok(parse_all(&inputs)?
            .iter()
            .map(|r| (r.h, r.w, r.to_compressed()))
            .collect())
    })?;
    dict_list(py, &out, as_str)
}

/// One frame's `(id, compressed counts)` pairs.
type FrameRles = Vec<(u64, Vec<u8>)>;

/// Per-object RLEs of each frame of a `(t, h, w)` label stack.
fn encode_label_frames<T: Label + Element>(
    py: Python<'_>,
    labels: &PyReadonlyArray3<'_, T>,
    ids: Option<&[u64]>,
    void: &[u64],
    threads: Option<usize>,
) -> Result<Vec<FrameRles>> {
    let v = labels.as_array();
    let (t, h, w) = v.dim();
    py.detach(|| {
        let workers_n = workers(threads, t.max(2), t * h * w)?;
        let frames: Vec<usize> = (0..t).collect();
        let (per_frame, inner) = if t == 1 {
            (1, workers_n)
        } else {
            (workers_n, 1)
        };
        parallel::map(frames, per_frame, |_, i| {
            let f = v.index_axis(Axis(0), i);
            let rows = |y: usize| row_of(&f, y);
            let runs = encode::encode_labels(h, w, &rows, ids, void, inner)?;
            Ok(runs
                .into_iter()
                .map(|(id, counts)| {
                    let mut s = Vec::new();
                    codec::write_counts(&counts, &mut s);
                    (id, s)
                })
                .collect())
        })
    })
}

/// `{id: rle}` for each frame of a `(t, h, w)` uint8 / uint16 / uint32 label stack.
#[pyfunction]
#[pyo3(signature = (labels, ids=None, void=Vec::new(), as_str=false, threads=None))]
fn _rle_encode_labels<'py>(
    py: Python<'py>,
    labels: &Bound<'py, PyAny>,
    ids: Option<Vec<u64>>,
    void: Vec<u64>,
    as_str: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let ids = ids.as_deref();
    let (frames, h, w) = if let Ok(a) = labels.extract::<PyReadonlyArray3<'py, u8>>() {
        let (_, h, w) = a.as_array().dim();
        (encode_label_frames(py, &a, ids, &void, threads)?, h, w)
    } else if let Ok(a) = labels.extract::<PyReadonlyArray3<'py, u16>>() {
        let (_, h, w) = a.as_array().dim();
        (encode_label_frames(py, &a, ids, &void, threads)?, h, w)
    } else if let Ok(a) = labels.extract::<PyReadonlyArray3<'py, u32>>() {
        let (_, h, w) = a.as_array().dim();
        (encode_label_frames(py, &a, ids, &void, threads)?, h, w)
    } else {
        return Err(PyTypeError::new_err(
            "labels must be a 3-D uint8, uint16 or uint32 array",
        ));
    };
    let out = PyList::empty(py);
    for frame in frames {
        let d = PyDict::new(py);
        for (id, s) in frame {
            d.set_item(id, rle_dict(py, h, w, &s, as_str)?)?;
        }
        out.append(d)?;
    }
    Ok(out)
}

fn object_id(key: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(k) = key.extract::<u64>() {
        return Ok(k);
    }
    if let Ok(s) = key.cast::<PyString>() {
        if let Ok(k) = s.to_str()?.trim().parse::<u64>() {
            return Ok(k);
        }
    }
    Err(PyTypeError::new_err(format!(
        "object ids must be non-negative ints (or their decimal strings); got {}",
        key.repr().map_or_else(|_| "?".into(), |r| r.to_string())
    )))
}

fn paint_frames<'py, T: Label + Element + Default + TryFrom<u64>>(
    py: Python<'py>,
    frames: &[Vec<(u64, Rle)>],
    h: usize,
    w: usize,
    overlap: Overlap,
    threads: Option<usize>,
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let t = frames.len();
    let px = h * w;
    let arr = alloc::zeros(py, &[t, h, w], dtype, false)?;
    if px == 0 || t == 0 {
        return Ok(arr);
    }
    let a = arr.cast::<PyArray3<T>>()?;
    let mut rw = a.readwrite();
    let data = rw.as_slice_mut().map_err(|e| Error::shape(e.to_string()))?;
    py.detach(|| -> Result<()> {
        let n = workers(threads, t, t * px)?;
        parallel::for_each(data.chunks_mut(px).zip(frames), n, |_, (out, objs)| {
            let mut items = Vec::with_capacity(objs.len());
            for (id, r) in objs {
                let v = T::try_from(*id)
                    .map_err(|_| Error::param(format!("object id {id} is too large")))?;
                items.push((v, r));
            }
            ops::paint_labels(&items, h, w, out, overlap)
        })
    })?;
    Ok(arr)
}

/// A `(t, h, w)` label stack from one `{id: rle}` dict per frame; the dtype is the
/// smallest of uint8 / uint16 / uint32 that holds every id.
#[pyfunction]
#[pyo3(signature = (frames, h, w, overlap="error", threads=None))]
fn _rle_decode_labels<'py>(
    py: Python<'py>,
    frames: Vec<Bound<'py, PyDict>>,
    h: u64,
    w: u64,
    overlap: &str,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let overlap = match overlap {
        "error" => Overlap::Error,
        "first" => Overlap::First,
        "last" => Overlap::Last,
        other => {
            return Err(Error::param(format!(
                "overlap must be \"error\", \"first\" or \"last\"; got {other:?}"
            ))
            .into())
        }
    };
    crate::rle::check_size(h, w)?;
    crate::rle::check_call_budget(
        &format!("decode_labels of {} frames", frames.len()),
        frames.len() as u64,
        h,
        w,
    )?;
    let mut raw: Vec<Vec<(u64, RleIn)>> = Vec::with_capacity(frames.len());
    for d in &frames {
        let mut objs = Vec::with_capacity(d.len());
        for (i, (k, v)) in d.iter().enumerate() {
            objs.push((object_id(&k)?, read_rle(&v, i)?));
        }
        raw.push(objs);
    }
    let parsed = py.detach(|| -> Result<Vec<Vec<(u64, Rle)>>> {
        raw.iter()
            .map(|objs| {
                objs.iter()
                    .map(|(id, r)| Ok((*id, r.parse(|| format!("object {id}"))?)))
                    .collect()
            })
            .collect()
    })?;
    let max_id = parsed
        .iter()
        .flatten()
        .map(|(id, _)| *id)
        .max()
        .unwrap_or(0);
    let (h, w) = (h as usize, w as usize);
    if max_id <= u64::from(u8::MAX) {
        paint_frames::<u8>(py, &parsed, h, w, overlap, threads, "uint8")
    } else if max_id <= u64::from(u16::MAX) {
        paint_frames::<u16>(py, &parsed, h, w, overlap, threads, "uint16")
    } else if max_id <= u64::from(u32::MAX) {
        paint_frames::<u32>(py, &parsed, h, w, overlap, threads, "uint32")
    } else {
        Err(Error::param(format!("object id {max_id} does not fit in uint32")).into())
    }
}

/// The compressed string of a list of counts (bytes).
#[pyfunction]
fn _counts_to_string<'py>(py: Python<'py>, counts: Vec<u64>) -> PyResult<Bound<'py, PyBytes>> {
    let s = py.detach(|| codec::counts_to_string(&counts))?;
    Ok(PyBytes::new(py, &s))
}

/// The counts of a compressed string (bytes or str).
#[pyfunction]
fn _string_to_counts(py: Python<'_>, s: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    let bytes: Vec<u8> = if let Ok(b) = s.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(t) = s.cast::<PyString>() {
        t.to_str()?.as_bytes().to_vec()
    } else {
        return Err(PyTypeError::new_err(format!(
            "counts string must be bytes or str; got {}",
            type_name(s)
        )));
    };
    Ok(py.detach(|| codec::string_to_counts(&bytes))?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_rle_encode, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_decode, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_area, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_to_bbox, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_merge, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_iou, m)?)?;
    m.add_function(wrap_pyfunction!(_bbox_iou, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_fr_bbox, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_fr_poly, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_compress, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_encode_labels, m)?)?;
    m.add_function(wrap_pyfunction!(_rle_decode_labels, m)?)?;
    m.add_function(wrap_pyfunction!(_counts_to_string, m)?)?;
    m.add_function(wrap_pyfunction!(_string_to_counts, m)?)?;
    Ok(())
}
