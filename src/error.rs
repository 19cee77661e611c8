//! One error type for the whole core, split by cause.
//!
//! The bindings map each variant to one Python exception class in exactly one
//! place (`src/py/error.rs`): `Png`/`Limit` -> `fastmask.PngError` (a `ValueError`),
//! `Rle` -> `fastmask.RleError` (a `ValueError`), `Io` -> the matching `OSError`
//! subclass, `Param`/`Shape` -> `ValueError`, `Eval` -> `fastmask.EvaluationError`,
//! `Memory` -> `MemoryError`.
//! Messages say what was expected and what was found; `with_path` attaches the file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// Reading or writing a file failed.
    Io {
        path: Option<PathBuf>,
        source: io::Error,
    },
    /// Malformed or unsupported PNG data (bad signature, CRC, IHDR, truncated ...).
    Png { path: Option<PathBuf>, msg: String },
    /// A resource limit was hit (pixel count, decompressed size, chunk size).
    Limit { path: Option<PathBuf>, msg: String },
    /// Malformed COCO RLE (counts that do not sum to h*w, bad count string ...).
    Rle(String),
    /// A bad argument value (unknown option, out-of-range parameter, bad dtype).
    Param(String),
    /// Array shapes or sizes that do not fit together.
    Shape(String),
    /// A dataset / evaluation problem (missing frame, unknown label, ...).
    Eval { path: Option<PathBuf>, msg: String },
    /// The allocator refused memory (every allocation whose size the input decides is
    /// fallible, so this is raised instead of aborting the process).
    Memory { path: Option<PathBuf>, msg: String },
}

impl Error {
    pub fn png(msg: impl Into<String>) -> Self {
        Error::Png {
            path: None,
            msg: msg.into(),
        }
    }

    pub fn limit(msg: impl Into<String>) -> Self {
        Error::Limit {
            path: None,
            msg: msg.into(),
        }
    }

    pub fn rle(msg: impl Into<String>) -> Self {
        Error::Rle(msg.into())
    }

    pub fn param(msg: impl Into<String>) -> Self {
        Error::Param(msg.into())
    }

    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }

    pub fn eval(msg: impl Into<String>) -> Self {
        Error::Eval {
            path: None,
            msg: msg.into(),
        }
    }

    /// The allocator refused `bytes` bytes for `what`.
    pub fn memory(what: &str, bytes: u64) -> Self {
        Error::Memory {
            path: None,
            msg: format!("out of memory: could not allocate {bytes} bytes for {what}"),
        }
    }

    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        Error::Io {
            path: Some(path.as_ref().to_path_buf()),
            source,
        }
    }

    /// Attach the file an error is about (kept if one is already set).
    pub fn with_path(self, p: impl AsRef<Path>) -> Self {
        let p = p.as_ref().to_path_buf();
        match self {
            Error::Io { path: None, source } => Error::Io {
                path: Some(p),
                source,
            },
            Error::Png { path: None, msg } => Error::Png { path: Some(p), msg },
            Error::Limit { path: None, msg } => Error::Limit { path: Some(p), msg },
            Error::Eval { path: None, msg } => Error::Eval { path: Some(p), msg },
            Error::Memory { path: None, msg } => Error::Memory { path: Some(p), msg },
            other => other,
        }
    }

    /// The file this error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. }
            | Error::Png { path, .. }
            | Error::Limit { path, .. }
            | Error::Eval { path, .. }
            | Error::Memory { path, .. } => path.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = |f: &mut fmt::Formatter<'_>, path: &Option<PathBuf>| match path {
            Some(p) => write!(f, "{}: ", p.display()),
            None => Ok(()),
        };
        match self {
            Error::Io { path, source } => {
                prefix(f, path)?;
                write!(f, "{source}")
            }
            Error::Png { path, msg }
            | Error::Limit { path, msg }
            | Error::Eval { path, msg }
            | Error::Memory { path, msg } => {
                prefix(f, path)?;
                f.write_str(msg)
            }
            Error::Rle(msg) | Error::Param(msg) | Error::Shape(msg) => f.write_str(msg),
        }
    }
}

/// A vector of `len` copies of `value`, or [`Error::Memory`] when the allocator refuses
/// (`vec![value; len]` would abort the process instead).
pub fn try_filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    try_reserve(&mut v, len, what)?;
    v.resize(len, value);
    Ok(v)
}

/// `v.try_reserve_exact(additional)`, as [`Error::Memory`] naming `what`.
pub fn try_reserve<T>(v: &mut Vec<T>, additional: usize, what: &str) -> Result<()> {
    v.try_reserve_exact(additional).map_err(|_| {
        let bytes = (v.len() as u64)
            .saturating_add(additional as u64)
            .saturating_mul(std::mem::size_of::<T>() as u64);
        Error::memory(what, bytes)
    })
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(source: io::Error) -> Self {
        Error::Io { path: None, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_attached_once_and_shown_first() {
        let e = Error::png("bad CRC in IDAT")
            .with_path("a.png")
            .with_path("b.png");
        assert_eq!(e.path(), Some(Path::new("a.png")));
        assert_eq!(e.to_string(), "a.png: bad CRC in IDAT");
    }

    #[test]
    fn param_errors_carry_no_path() {
        let e = Error::param("threads must be >= 1").with_path("x.png");
        assert_eq!(e.path(), None);
        assert_eq!(e.to_string(), "threads must be >= 1");
    }
}
