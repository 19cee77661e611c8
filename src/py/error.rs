//! The one place where core errors become Python exceptions.
//!
//! | core error            | Python exception                                   |
//! |-----------------------|----------------------------------------------------|
//! | `Png`, `Limit`        | `fastmask.PngError` (subclass of `ValueError`)     |
//! | `Rle`                 | `fastmask.RleError` (subclass of `ValueError`)     |
//! | `Eval`                | `fastmask.EvaluationError` (subclass of `ValueError`) |
//! | `Param`, `Shape`      | `ValueError`                                       |
//! | `Memory`              | `MemoryError`                                      |
//! | `Io`                  | `FileNotFoundError` / `PermissionError` / ... (`OSError`) with `.filename` |

use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIsADirectoryError, PyMemoryError,
    PyNotADirectoryError, PyOSError, PyPermissionError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::{create_exception, PyErr};

use crate::error::Error;

create_exception!(
    fastmask,
    PngError,
    PyValueError,
    "Malformed, unsupported or over-limit PNG data."
);
create_exception!(fastmask, RleError, PyValueError, "Malformed COCO RLE data.");
create_exception!(
    fastmask,
    EvaluationError,
    PyValueError,
    "A dataset or result folder that cannot be evaluated as asked."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PngError", py.get_type::<PngError>())?;
    m.add("RleError", py.get_type::<RleError>())?;
    m.add("EvaluationError", py.get_type::<EvaluationError>())?;
    Ok(())
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let msg = err.to_string();
        match err {
            Error::Png { .. } | Error::Limit { .. } => PngError::new_err(msg),
            Error::Rle(_) => RleError::new_err(msg),
            Error::Eval { .. } => EvaluationError::new_err(msg),
            Error::Param(_) | Error::Shape(_) => PyValueError::new_err(msg),
            Error::Memory { .. } => PyMemoryError::new_err(msg),
            Error::Io { path, source } => {
                // (errno, strerror, filename) so that `.errno` and `.filename` are set
                // exactly as for an OSError raised by Python's own open().
                let errno = source.raw_os_error().unwrap_or(match source.kind() {
                    // Our own io errors (no OS call failed): the errno Python would give.
                    std::io::ErrorKind::NotFound => 2,
                    std::io::ErrorKind::IsADirectory => 21,
                    _ => 0,
                });
                let filename = path.map(|p| p.display().to_string());
                let args = (errno, source.to_string(), filename);
                use std::io::ErrorKind as K;
                match source.kind() {
                    K::NotFound => PyFileNotFoundError::new_err(args),
                    K::PermissionDenied => PyPermissionError::new_err(args),
                    K::AlreadyExists => PyFileExistsError::new_err(args),
                    K::IsADirectory => PyIsADirectoryError::new_err(args),
                    K::NotADirectory => PyNotADirectoryError::new_err(args),
                    _ => PyOSError::new_err(args),
                }
            }
        }
    }
}
