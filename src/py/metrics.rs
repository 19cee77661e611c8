//! Bindings for `fastmask.metrics`: stacks of frames `(T, H, W)` in, float64 arrays out.
//! The Python layer (`python/fastmask/metrics.py`) normalizes dtypes, shapes and
//! contiguity; here frames are spread over `threads` workers, each with one `Scratch`.

use std::cell::RefCell;
use std::ops::Range;

use numpy::{
    PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray2, PyReadonlyArray3,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::error::{Error, Result};
use crate::metrics::{self, Decay, Label, Scratch};
use crate::parallel;

/// A C-contiguous array's data, or a clear error.
fn slice<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    a: &'a numpy::PyReadonlyArray<'_, T, D>,
    what: &str,
) -> Result<&'a [T]> {
    a.as_slice()
        .map_err(|_| Error::param(format!("{what} must be a C-contiguous array")))
}

/// `(T, H, W)` of a stack.
fn dims3(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2])
}

/// The frames `(T, H, W)` shared by `a` and `b`, and void's frame count (1 or T).
fn check_pair(a: &[usize], b: &[usize], void: Option<&[usize]>) -> Result<(usize, usize, usize)> {
    if a != b {
        return Err(Error::shape(format!(
            "gt and pred must have the same shape; got {a:?} and {b:?}"
        )));
    }
    let (t, h, w) = dims3(a);
    if let Some(v) = void {
        if v[1..] != a[1..] || (v[0] != 1 && v[0] != t) {
            return Err(Error::shape(format!(
                "void must have shape ({h}, {w}) or match the masks {a:?}; got {v:?}"
            )));
        }
    }
    Ok((t, h, w))
}

/// Frame `i`'s void plane (a single plane is shared by every frame).
fn void_frame(void: Option<&[u8]>, i: usize, n: usize) -> Option<&[u8]> {
    void.map(|v| {
        if v.len() == n {
            v
        } else {
            &v[i * n..(i + 1) * n]
        }
    })
}

thread_local! {
    /// The calling thread's buffers, kept between calls so that frame-by-frame use from
    /// Python does not allocate (and fault in) fresh buffers every time.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

/// Run `f(frame, scratch)` for frames `0..t` on up to `threads` workers, each worker
/// owning one `Scratch` for its contiguous batch of frames; results in frame order.
fn over_frames<R, F>(t: usize, threads: Option<usize>, f: F) -> Result<Vec<R>>
where
    R: Send,
    F: Fn(usize, &mut Scratch) -> Result<R> + Sync,
{
    // One frame never needs the core count (asking the OS for it costs ~10 us).
    let n = parallel::thread_count(if t <= 1 { threads.or(Some(1)) } else { threads }, t)?;
    if n <= 1 {
        return SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => (0..t).map(|i| f(i, &mut scratch)).collect(),
            Err(_) => {
                let mut scratch = Scratch::new();
                (0..t).map(|i| f(i, &mut scratch)).collect()
            }
        });
    }
    // A few batches per thread balance uneven frames; each batch reuses its buffers.
    let per = t.div_ceil(n * 4).max(1);
    let batches: Vec<Range<usize>> = (0..t).step_by(per).map(|s| s..(s + per).min(t)).collect();
    let out = parallel::map(batches, n, |_, r| {
        let mut scratch = Scratch::new();
        r.map(|i| f(i, &mut scratch)).collect::<Result<Vec<R>>>()
    })?;
    Ok(out.into_iter().flatten().collect())
}

#[pyfunction]
#[pyo3(signature = (gt, pred, void=None, threads=None))]
fn _jaccard<'py>(
    py: Python<'py>,
    gt: PyReadonlyArray3<'py, u8>,
    pred: PyReadonlyArray3<'py, u8>,
    void: Option<PyReadonlyArray3<'py, u8>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (t, h, w) = check_pair(gt.shape(), pred.shape(), void.as_ref().map(|v| v.shape()))?;
    let (g, p) = (slice(&gt, "gt")?, slice(&pred, "pred")?);
    let v = void.as_ref().map(|v| slice(v, "void")).transpose()?;
    let n = h * w;
    let out = py.detach(|| {
        over_frames(t, threads, |i, _| {
            let fr = i * n..(i + 1) * n;
            metrics::jaccard(&g[fr.clone()], &p[fr], void_frame(v, i, n))
        })
    })?;
    Ok(PyArray1::from_vec(py, out))
}

#[pyfunction]
#[pyo3(signature = (gt, pred, bound_th, void=None, threads=None))]
fn _boundary_f<'py>(
    py: Python<'py>,
    gt: PyReadonlyArray3<'py, u8>,
    pred: PyReadonlyArray3<'py, u8>,
    bound_th: f64,
    void: Option<PyReadonlyArray3<'py, u8>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (t, h, w) = check_pair(gt.shape(), pred.shape(), void.as_ref().map(|v| v.shape()))?;
    let (g, p) = (slice(&gt, "gt")?, slice(&pred, "pred")?);
    let v = void.as_ref().map(|v| slice(v, "void")).transpose()?;
    let radius = metrics::bound_pix(bound_th, h, w)?;
    let n = h * w;
    let out = py.detach(|| {
        over_frames(t, threads, |i, s| {
            let fr = i * n..(i + 1) * n;
            metrics::boundary_f(&g[fr.clone()], &p[fr], h, w, void_frame(v, i, n), radius, s)
        })
    })?;
    Ok(PyArray1::from_vec(py, out))
}

#[pyfunction]
#[pyo3(signature = (mask, threads=None))]
fn _boundary_map<'py>(
    py: Python<'py>,
    mask: PyReadonlyArray3<'py, u8>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray3<bool>>> {
    let (t, h, w) = dims3(mask.shape());
    let m = slice(&mask, "mask")?;
    let n = h * w;
    let frames = py.detach(|| {
        over_frames(t, threads, |i, _| {
            let mut out = vec![0u8; n];
            metrics::boundary_map(&m[i * n..(i + 1) * n], h, w, &mut out)?;
            Ok(out)
        })
    })?;
    let flat: Vec<bool> = frames.into_iter().flatten().map(|b| b != 0).collect();
    PyArray1::from_vec(py, flat).reshape([t, h, w])
}

/// A stack of label maps of either pixel type.
#[derive(FromPyObject)]
enum Labels<'py> {
    U8(PyReadonlyArray3<'py, u8>),
    U16(PyReadonlyArray3<'py, u16>),
}

impl Labels<'_> {
    fn shape(&self) -> &[usize] {
        match self {
            Labels::U8(a) => a.shape(),
            Labels::U16(a) => a.shape(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn per_object_frames<T: Label>(
    g: &[T],
    p: &[T],
    (t, h, w): (usize, usize, usize),
    ids: &[u32],
    void: Option<&[u8]>,
    radius: f64,
    threads: Option<usize>,
) -> Result<Vec<Vec<(f64, f64)>>> {
    let n = h * w;
    over_frames(t, threads, |i, s| {
        let fr = i * n..(i + 1) * n;
        let mut out = vec![(0.0, 0.0); ids.len()];
        metrics::per_object_into(
            &g[fr.clone()],
            &p[fr],
            h,
            w,
            ids,
            void_frame(void, i, n),
            radius,
            s,
            &mut out,
        )?;
        Ok(out)
    })
}

#[pyfunction]
#[pyo3(signature = (gt, pred, ids, bound_th, void=None, threads=None))]
#[allow(clippy::type_complexity)]
fn _per_object<'py>(
    py: Python<'py>,
    gt: Labels<'py>,
    pred: Labels<'py>,
    ids: Vec<u32>,
    bound_th: f64,
    void: Option<PyReadonlyArray3<'py, u8>>,
    threads: Option<usize>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>)> {
    let dims = check_pair(gt.shape(), pred.shape(), void.as_ref().map(|v| v.shape()))?;
    let (t, h, w) = dims;
    let v = void.as_ref().map(|v| slice(v, "void")).transpose()?;
    let radius = metrics::bound_pix(bound_th, h, w)?;
    let frames = match (&gt, &pred) {
        (Labels::U8(g), Labels::U8(p)) => {
            let (g, p) = (slice(g, "gt")?, slice(p, "pred")?);
            py.detach(|| per_object_frames(g, p, dims, &ids, v, radius, threads))?
        }
        (Labels::U16(g), Labels::U16(p)) => {
            let (g, p) = (slice(g, "gt")?, slice(p, "pred")?);
            py.detach(|| per_object_frames(g, p, dims, &ids, v, radius, threads))?
        }
        _ => {
            return Err(Error::param("gt and pred label maps must have the same dtype").into());
        }
    };
    let k = ids.len();
    let (mut j, mut f) = (Vec::with_capacity(t * k), Vec::with_capacity(t * k));
    for (jv, fv) in frames.into_iter().flatten() {
        j.push(jv);
        f.push(fv);
    }
    Ok((
        PyArray1::from_vec(py, j).reshape([t, k])?,
        PyArray1::from_vec(py, f).reshape([t, k])?,
    ))
}

#[pyfunction]
#[pyo3(signature = (gt, pred, ids, void=None, threads=None))]
fn _per_object_jaccard<'py>(
    py: Python<'py>,
    gt: Labels<'py>,
    pred: Labels<'py>,
    ids: Vec<u32>,
    void: Option<PyReadonlyArray3<'py, u8>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (t, h, w) = check_pair(gt.shape(), pred.shape(), void.as_ref().map(|v| v.shape()))?;
    let v = void.as_ref().map(|v| slice(v, "void")).transpose()?;
    let n = h * w;
    fn run<T: Label>(
        g: &[T],
        p: &[T],
        t: usize,
        n: usize,
        ids: &[u32],
        v: Option<&[u8]>,
        threads: Option<usize>,
    ) -> Result<Vec<Vec<f64>>> {
        over_frames(t, threads, |i, s| {
            let fr = i * n..(i + 1) * n;
            let mut out = vec![0.0; ids.len()];
            metrics::jaccard_per_object_into(
                &g[fr.clone()],
                &p[fr],
                ids,
                void_frame(v, i, n),
                s,
                &mut out,
            )?;
            Ok(out)
        })
    }
    let frames = match (&gt, &pred) {
        (Labels::U8(g), Labels::U8(p)) => {
            let (g, p) = (slice(g, "gt")?, slice(p, "pred")?);
            py.detach(|| run(g, p, t, n, &ids, v, threads))?
        }
        (Labels::U16(g), Labels::U16(p)) => {
            let (g, p) = (slice(g, "gt")?, slice(p, "pred")?);
            py.detach(|| run(g, p, t, n, &ids, v, threads))?
        }
        _ => {
            return Err(Error::param("gt and pred label maps must have the same dtype").into());
        }
    };
    let j: Vec<f64> = frames.into_iter().flatten().collect();
    PyArray1::from_vec(py, j).reshape([t, ids.len()])
}

#[pyfunction]
#[allow(clippy::type_complexity)]
fn _statistics<'py>(
    py: Python<'py>,
    values: PyReadonlyArray2<'py, f64>,
    exact: bool,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let shape = values.shape();
    let (rows, cols) = (shape[0], shape[1]);
    let v = slice(&values, "values")?;
    let decay = if exact { Decay::Exact } else { Decay::Davis };
    let stats: Vec<metrics::Stats> = py.detach(|| {
        (0..rows)
            .map(|r| metrics::statistics(&v[r * cols..(r + 1) * cols], decay))
            .collect()
    });
    Ok((
        PyArray1::from_vec(py, stats.iter().map(|s| s.mean).collect()),
        PyArray1::from_vec(py, stats.iter().map(|s| s.recall).collect()),
        PyArray1::from_vec(py, stats.iter().map(|s| s.decay).collect()),
    ))
}

#[pyfunction]
fn _bound_pix(bound_th: f64, height: usize, width: usize) -> PyResult<f64> {
    Ok(metrics::bound_pix(bound_th, height, width)?)
}

#[pyfunction]
fn _disk<'py>(py: Python<'py>, radius: f64) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let (n, k) = metrics::disk_matrix(radius)?;
    PyArray1::from_vec(py, k).reshape([n, n])
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_jaccard, m)?)?;
    m.add_function(wrap_pyfunction!(_boundary_f, m)?)?;
    m.add_function(wrap_pyfunction!(_boundary_map, m)?)?;
    m.add_function(wrap_pyfunction!(_per_object, m)?)?;
    m.add_function(wrap_pyfunction!(_per_object_jaccard, m)?)?;
    m.add_function(wrap_pyfunction!(_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(_bound_pix, m)?)?;
    m.add_function(wrap_pyfunction!(_disk, m)?)?;
    Ok(())
}
