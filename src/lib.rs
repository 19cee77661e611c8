//! fastmask: segmentation-mask I/O and video-object-segmentation metrics.
//!
//! The core is plain Rust over slices and has no Python in it:
//! - [`png`]: palette / grayscale PNG decoder and encoder for masks;
//! - [`rle`]: COCO run-length encoding (pycocotools-compatible);
//! - [`metrics`]: per-object J (IoU), boundary maps and boundary F;
//! - [`eval`]: streaming per-sequence evaluation;
//! - [`parallel`]: caller-owned, fork-safe parallelism (scoped threads, no global pool).
//!
//! `src/py/` (feature `python`) is the thin PyO3 layer: argument conversion,
//! releasing the GIL, building numpy arrays, and the one place errors become exceptions.
#![forbid(unsafe_code)]

pub mod error;
pub mod eval;
pub mod metrics;
pub mod parallel;
pub mod png;
pub mod rle;

#[cfg(feature = "python")]
mod py;

#[cfg(test)]
mod testutil;

pub use error::{Error, Result};
