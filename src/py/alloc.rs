//! Result arrays whose size the input decides are allocated by numpy (`numpy.zeros` /
//! `numpy.empty`), after the size was checked against the call's budget: numpy raises
//! `MemoryError` when the allocator refuses, where `vec![0; n]` in Rust would abort the
//! process. The function objects are looked up once per interpreter.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

static ZEROS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static EMPTY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn call<'py>(
    py: Python<'py>,
    cell: &PyOnceLock<Py<PyAny>>,
    name: &str,
    shape: &[usize],
    dtype: &str,
    fortran: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let f = cell.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("numpy")?.getattr(name)?.unbind())
    })?;
    let shape = PyTuple::new(py, shape)?;
    f.bind(py)
        .call1((shape, dtype, if fortran { "F" } else { "C" }))
}

/// `numpy.zeros(shape, dtype, order)`: `MemoryError` when the memory is not there.
pub fn zeros<'py>(
    py: Python<'py>,
    shape: &[usize],
    dtype: &str,
    fortran: bool,
) -> PyResult<Bound<'py, PyAny>> {
    call(py, &ZEROS, "zeros", shape, dtype, fortran)
}

/// `numpy.empty(shape, dtype)` (C order): uninitialised, so untouched pages cost nothing.
pub fn empty<'py>(py: Python<'py>, shape: &[usize], dtype: &str) -> PyResult<Bound<'py, PyAny>> {
    call(py, &EMPTY, "empty", shape, dtype, false)
}
