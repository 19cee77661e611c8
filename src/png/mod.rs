//! PNG codec for masks: decoder (`decode`), encoder (`encode`), the deflate
//! compressor tuned for label maps (`deflate`), and palettes (`palette`).
//! (Filled in by the PNG codec work.)

pub mod deflate;
