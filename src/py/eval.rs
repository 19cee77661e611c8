//! Bindings for the evaluation engine. The Python layer (`python/fastmask/evaluate/`)
//! discovers the frames, applies the protocol rules and reports; this file converts the job
//! lists, releases the GIL around `eval::evaluate`, and returns numpy arrays per job.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use numpy::ndarray::Array1;
use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2, PyReadwriteArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::error::Error;
use crate::eval::{self, ArrayFrame, FrameScores, Job, JobScores, Rule, Timings};
use crate::png::{palette, Rgb, DAVIS_PALETTE};

/// `colormap` bytes (3 per entry, 1..256 entries) as colours; None: the DAVIS palette.
fn colours_of(colormap: Option<&Bound<'_, PyBytes>>) -> PyResult<Option<Vec<Rgb>>> {
    colormap
        .map(|b| {
            palette::entries(b.as_bytes()).ok_or_else(|| {
                Error::param(format!(
                    "colormap of {} bytes: expected 1 to 256 RGB entries",
                    b.as_bytes().len()
                ))
                .into()
            })
        })
        .transpose()
}

/// How often the waiting caller takes the GIL back to run Python's signal handlers: Ctrl-C
/// stops an evaluation within this plus one frame per worker (a 4K frame is ~50 ms).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// `eval::evaluate` on a scoped thread while the calling thread, without the GIL, waits for
/// it and every `SIGNAL_POLL` runs `py.check_signals()`: a KeyboardInterrupt raises the
/// cancel flag (no new frame starts), joins the workers and propagates.
fn evaluate_interruptible(
    py: Python<'_>,
    jobs: &[Job],
    rule: &Rule,
    threads: Option<usize>,
) -> PyResult<(Vec<JobScores>, Timings)> {
    let cancel = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        // `detach` needs a Sync closure; the Receiver is only Send.
        let rx = Mutex::new(rx);
        let recv = |timeout: Option<Duration>| {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            match timeout {
                Some(t) => rx.recv_timeout(t),
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            }
        };
        let cancel = &cancel;
        s.spawn(move || {
            // The receiver may be gone after a cancel: nothing to report then.
            let _ = tx.send(eval::evaluate(jobs, rule, threads, Some(cancel)));
        });
        loop {
            match py.detach(|| recv(Some(SIGNAL_POLL))) {
                Ok(r) => return r.map_err(PyErr::from),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::eval("evaluation worker stopped without a result").into())
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        cancel.store(true, Ordering::Relaxed);
                        // The scope joins the worker (within one frame) without the GIL.
                        py.detach(|| while recv(None).is_ok() {});
                        return Err(e);
                    }
                }
            }
        }
    })
}

type JobArrays<'py> = (
    Bound<'py, PyArray2<u8>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<bool>>,
    Bound<'py, PyArray2<bool>>,
    Bound<'py, PyArray2<i64>>,
);

fn arrays<'py>(py: Python<'py>, s: JobScores) -> PyResult<JobArrays<'py>> {
    let nt = s.shapes.len();
    let np_ = s.pairs.len();
    let shape_err = |e: numpy::ndarray::ShapeError| Error::shape(e.to_string());
    let pairs: Vec<u8> = s.pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let shapes: Vec<i64> = s
        .shapes
        .iter()
        .flat_map(|&(h, w)| [h as i64, w as i64])
        .collect();
    Ok((
        Array2::from_shape_vec((np_, 2), pairs)
            .map_err(shape_err)?
            .into_pyarray(py),
        Array2::from_shape_vec((nt, np_), s.j)
            .map_err(shape_err)?
            .into_pyarray(py),
        Array2::from_shape_vec((nt, np_), s.f)
            .map_err(shape_err)?
            .into_pyarray(py),
        Array2::from_shape_vec((nt, 256), s.gt_present)
            .map_err(shape_err)?
            .into_pyarray(py),
        Array2::from_shape_vec((nt, 256), s.pred_present)
            .map_err(shape_err)?
            .into_pyarray(py),
        Array2::from_shape_vec((nt, 2), shapes)
            .map_err(shape_err)?
            .into_pyarray(py),
    ))
}

/// Score jobs (see `eval::evaluate`): per job (pairs, J, F, gt_present, pred_present, shapes),
/// and the per-stage thread-seconds {"decode", "J", "F"}.
#[pyfunction]
#[pyo3(signature = (gt, pred, objects, max_pred_label, *, dynamic, cross, void, binarize, same_size, bound_th, threads, colormap=None, max_pixels=u64::MAX))]
#[allow(clippy::too_many_arguments)]
fn _eval_sequences<'py>(
    py: Python<'py>,
    gt: Vec<Vec<PathBuf>>,
    pred: Vec<Vec<Option<PathBuf>>>,
    objects: Vec<Vec<u8>>,
    max_pred_label: Vec<u8>,
    dynamic: bool,
    cross: bool,
    void: Option<u8>,
    binarize: bool,
    same_size: bool,
    bound_th: f64,
    threads: Option<usize>,
    colormap: Option<&Bound<'py, PyBytes>>,
    max_pixels: u64,
) -> PyResult<(Vec<JobArrays<'py>>, Bound<'py, PyDict>)> {
    if pred.len() != gt.len() || objects.len() != gt.len() || max_pred_label.len() != gt.len() {
        return Err(Error::param(format!(
            "gt, pred, objects and max_pred_label must have one entry per job; got {}, {}, {}, {}",
            gt.len(),
            pred.len(),
            objects.len(),
            max_pred_label.len()
        ))
        .into());
    }
    let jobs: Vec<Job> = gt
        .into_iter()
        .zip(pred)
        .zip(objects)
        .zip(max_pred_label)
        .map(|(((gt, pred), objects), max_pred_label)| Job {
            gt,
            pred,
            objects,
            max_pred_label,
        })
        .collect();
    let rule = Rule {
        dynamic,
        cross,
        void,
        binarize,
        same_size,
        bound_th,
        colormap: colours_of(colormap)?,
        max_pixels,
    };
    let (scores, timings) = evaluate_interruptible(py, &jobs, &rule, threads)?;
    let out = scores
        .into_iter()
        .map(|s| arrays(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    Ok((out, stage_dict(py, &timings)?))
}

/// The engine's per-stage thread-seconds as `{"decode", "J", "F"}`.
fn stage_dict<'py>(py: Python<'py>, timings: &Timings) -> PyResult<Bound<'py, PyDict>> {
    let stages = PyDict::new(py);
    stages.set_item("decode", timings.decode)?;
    stages.set_item("J", timings.j)?;
    stages.set_item("F", timings.f)?;
    Ok(stages)
}

type FrameArrays<'py> = (
    Bound<'py, PyArray2<u8>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
    (usize, usize),
);

fn frame_arrays<'py>(py: Python<'py>, s: FrameScores) -> PyResult<FrameArrays<'py>> {
    let pairs: Vec<u8> = s.pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let np_ = s.pairs.len();
    Ok((
        Array2::from_shape_vec((np_, 2), pairs)
            .map_err(|e| Error::shape(e.to_string()))?
            .into_pyarray(py),
        Array1::from_vec(s.j).into_pyarray(py),
        Array1::from_vec(s.f).into_pyarray(py),
        Array1::from_vec(s.gt_present.to_vec()).into_pyarray(py),
        Array1::from_vec(s.pred_present.to_vec()).into_pyarray(py),
        s.shape,
    ))
}

/// Score frames whose results are label maps in memory (see `eval::evaluate_frames`): per
/// frame (pairs, J, F, gt_present, pred_present, (H, W)), and the per-stage thread-seconds.
/// The arrays must be C-contiguous (H, W) uint8; `name` names each result in errors.
#[pyfunction]
#[pyo3(signature = (gt, pred, name, objects, max_pred_label, *, dynamic, cross, void, binarize, bound_th, threads, colormap=None, max_pixels=u64::MAX))]
#[allow(clippy::too_many_arguments)]
fn _eval_frames<'py>(
    py: Python<'py>,
    gt: Vec<PathBuf>,
    pred: Vec<PyReadonlyArray2<'py, u8>>,
    name: Vec<PathBuf>,
    objects: Vec<Vec<u8>>,
    max_pred_label: Vec<u8>,
    dynamic: bool,
    cross: bool,
    void: Option<u8>,
    binarize: bool,
    bound_th: f64,
    threads: Option<usize>,
    colormap: Option<Bound<'py, PyBytes>>,
    max_pixels: u64,
) -> PyResult<(Vec<FrameArrays<'py>>, Bound<'py, PyDict>)> {
    let n = gt.len();
    if pred.len() != n || name.len() != n || objects.len() != n || max_pred_label.len() != n {
        return Err(Error::param(format!(
            "gt, pred, name, objects and max_pred_label must have one entry per frame; got \
             {n}, {}, {}, {}, {}",
            pred.len(),
            name.len(),
            objects.len(),
            max_pred_label.len()
        ))
        .into());
    }
    let mut frames = Vec::with_capacity(n);
    for ((((gt, arr), name), objects), max_pred_label) in gt
        .into_iter()
        .zip(&pred)
        .zip(name)
        .zip(objects)
        .zip(max_pred_label)
    {
        let shape = (arr.shape()[0], arr.shape()[1]);
        let labels = arr
            .as_slice()
            .map_err(|_| Error::param("result label maps must be C-contiguous"))?;
        frames.push(ArrayFrame {
            job: Job {
                gt: vec![gt],
                pred: vec![Some(name)],
                objects,
                max_pred_label,
            },
            pred: labels,
            shape,
        });
    }
    let rule = Rule {
        dynamic,
        cross,
        void,
        binarize,
        same_size: false,
        bound_th,
        max_pixels,
        colormap: colours_of(colormap.as_ref())?,
    };
    let (scores, timings) = py.detach(|| eval::evaluate_frames(&frames, &rule, threads))?;
    let out = scores
        .into_iter()
        .map(|s| frame_arrays(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    Ok((out, stage_dict(py, &timings)?))
}

/// Copy `src` into `dst` (C-contiguous, same shape) and return the largest label, holding
/// the GIL: releasing it for ~50 us would hand it to the Evaluator's scoring thread, and the
/// caller would wait up to the 5 ms switch interval to get it back.
#[pyfunction]
fn _copy_labels(src: PyReadonlyArray2<'_, u8>, mut dst: PyReadwriteArray2<'_, u8>) -> PyResult<u8> {
    let s = src
        .as_slice()
        .map_err(|_| Error::param("source labels must be C-contiguous"))?;
    let d = dst
        .as_slice_mut()
        .map_err(|_| Error::param("destination must be C-contiguous"))?;
    Ok(eval::copy_max(s, d)?)
}

/// The label map of one PNG file as the engine reads it: (H, W) uint8.
#[pyfunction]
#[pyo3(signature = (path, colormap=None, max_pixels=u64::MAX))]
fn _read_labels<'py>(
    py: Python<'py>,
    path: PathBuf,
    colormap: Option<&Bound<'py, PyBytes>>,
    max_pixels: u64,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let colours = colours_of(colormap)?.unwrap_or_else(|| DAVIS_PALETTE.to_vec());
    let (h, w, labels) = py.detach(|| -> crate::Result<_> {
        let (mut file, mut labels) = (Vec::new(), Vec::new());
        let (h, w) = eval::read_labels(&path, &colours, &mut file, &mut labels, max_pixels)?;
        Ok((h, w, labels))
    })?;
    Ok(Array2::from_shape_vec((h, w), labels)
        .map_err(|e| Error::shape(e.to_string()))?
        .into_pyarray(py))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_eval_sequences, m)?)?;
    m.add_function(wrap_pyfunction!(_eval_frames, m)?)?;
    m.add_function(wrap_pyfunction!(_copy_labels, m)?)?;
    m.add_function(wrap_pyfunction!(_read_labels, m)?)?;
    Ok(())
}
