//! PNG codec for masks.
//!
//! - [`decode`]: chunk walk with CRC checks and limits, inflate, unfilter, Adam7, output of the
//!   stored samples (or RGB colours mapped to labels);
//! - [`encode`]: palette / 16-bit grayscale framing around [`deflate`]'s compressor;
//! - [`deflate`]: the zlib compressor tuned for label-map scanlines;
//! - [`palette`]: the DAVIS colour map and colour -> label lookup;
//! - [`batch`]: files, parallel batches, atomic writes (via `atomic`).

pub mod atomic;
pub mod batch;
pub mod decode;
pub mod deflate;
pub mod encode;
mod filter;
pub mod palette;

pub use decode::{
    decode, decode_into, output_spec, parse, ColorType, Header, Limits, Mode, Out, OutputSpec, Png,
    SampleType, Samples,
};
pub use encode::{encode_gray16, encode_indexed, Compression, PaletteSize};
pub use palette::{Rgb, DAVIS_PALETTE};
