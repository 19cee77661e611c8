//! The thin PyO3 layer (feature `python`): each submodule converts arguments,
//! releases the GIL (`py.detach`) around calls into the core, and builds numpy
//! results. Errors become exceptions in one place: `error.rs`.

use pyo3::prelude::*;

mod alloc;
mod error;
mod eval;
mod metrics;
mod png;
mod rle;

#[pymodule(gil_used = false)]
fn _fastmask(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    error::register(m)?;
    png::register(m)?;
    rle::register(m)?;
    metrics::register(m)?;
    eval::register(m)?;
    Ok(())
}
