//! PNG decode: never a panic, memory within the bound the data allows (run with
//! `-rss_limit_mb`), `decode_png` (growing vector) and `decode_into` (caller's buffer) agree,
//! and wherever both we and the `png` crate decode a file, the samples are the same.
#![no_main]

use fastmask::png::decode::{decode_into, decode_png, output_spec, parse};
use fastmask::png::{Limits, Mode, Out, Samples, DAVIS_PALETTE};
use libfuzzer_sys::fuzz_target;

/// Our samples in the `png` crate's raw layout (no transformations): rows of packed
/// 1/2/4-bit samples padded to a byte, 8-bit bytes, 16-bit big-endian.
fn as_png_crate_bytes(s: &Samples, width: usize, depth: u8) -> Vec<u8> {
    match s {
        Samples::U16(v) => v.iter().flat_map(|x| x.to_be_bytes()).collect(),
        Samples::U8(v) if depth >= 8 => v.clone(),
        Samples::U8(v) => {
            let per = usize::from(8 / depth);
            let mut out = Vec::new();
            for row in v.chunks(width) {
                for group in row.chunks(per) {
                    let mut b = 0u8;
                    for (j, &x) in group.iter().enumerate() {
                        b |= x << (8 - depth * (j as u8 + 1));
                    }
                    out.push(b);
                }
            }
            out
        }
    }
}

fn reference(data: &[u8]) -> Option<Vec<u8>> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(data));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().ok()?;
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    Some(buf)
}

fuzz_target!(|data: &[u8]| {
    // The default pixel limit (89,478,485): a header that claims the most it may must not
    // cost more memory than its data can fill.
    let Ok(png) = parse(data, &Limits::default()) else {
        return;
    };
    let labels = decode_png(&png, &Mode::Labels(&DAVIS_PALETTE));
    let Ok((spec, raw)) = decode_png(&png, &Mode::Raw) else {
        assert!(labels.is_err() || png.header.bit_depth == 16);
        return;
    };
    // decode_into a caller buffer gives the same samples.
    let same = match &raw {
        Samples::U8(v) => {
            let mut o = vec![0u8; v.len()];
            decode_into(&png, &Mode::Raw, Out::U8(&mut o)).unwrap();
            o == *v
        }
        Samples::U16(v) => {
            let mut o = vec![0u16; v.len()];
            decode_into(&png, &Mode::Raw, Out::U16(&mut o)).unwrap();
            o == *v
        }
    };
    assert!(same, "decode_png and decode_into differ");
    assert_eq!(spec, output_spec(&png.header, &Mode::Raw).unwrap());
    if let Some(theirs) = reference(data) {
        let ours = as_png_crate_bytes(&raw, spec.width, png.header.bit_depth);
        assert!(ours == theirs, "samples differ from the png crate's");
    }
});
