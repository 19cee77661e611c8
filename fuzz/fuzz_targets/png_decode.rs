//! PNG decode: never a panic, memory within the bound the data allows (`.ci/fuzz` runs it
//! with `-rss_limit_mb=512 -malloc_limit_mb=128` and inputs up to 64 KB: a header that claims
//! 89 M pixels over a few bytes of data allocated 700 MB at once before the decoder grew its
//! buffers with the data), `decode_png` (growing vector) and `decode_into` (caller's buffer) agree,
//! and wherever both we and the `png` crate decode a file, the samples are the same.
#![no_main]

use fastmask::png::decode::{decode_into, decode_png, output_spec, parse};
use fastmask::png::{Limits, Mode, Out, Samples, DAVIS_PALETTE};
use libfuzzer_sys::fuzz_target;

/// Our samples as bytes in the `png` crate's raw layout (no transformations): 8-bit as they
/// are, 16-bit big-endian; 1/2/4-bit samples (one channel) stay one per byte, and the png
/// crate's packed rows are unpacked the same way (its padding bits are not samples).
fn ours_as_bytes(s: &Samples) -> Vec<u8> {
    match s {
        Samples::U16(v) => v.iter().flat_map(|x| x.to_be_bytes()).collect(),
        Samples::U8(v) => v.clone(),
    }
}

fn unpack_rows(packed: &[u8], width: usize, depth: u8) -> Vec<u8> {
    let row = (width * usize::from(depth)).div_ceil(8);
    let mask = (1u16 << depth) as u8 - 1;
    let mut out = Vec::with_capacity(packed.len() * 8 / usize::from(depth));
    for r in packed.chunks(row) {
        for x in 0..width {
            let bit = x * usize::from(depth);
            out.push((r[bit / 8] >> (8 - usize::from(depth) - bit % 8)) & mask);
        }
    }
    out
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
    // Dropped at once: at most two decoded images are alive at a time, so the run's memory
    // limit measures the decoder, not this harness.
    let labels_ok = decode_png(&png, &Mode::Labels(&DAVIS_PALETTE)).is_ok();
    let Ok((spec, raw)) = decode_png(&png, &Mode::Raw) else {
        // Raw decodes whatever Labels decodes (Labels only adds the colour mapping).
        assert!(!labels_ok);
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
        let depth = png.header.bit_depth;
        let theirs = if depth < 8 {
            unpack_rows(&theirs, spec.width, depth)
        } else {
            theirs
        };
        assert!(
            ours_as_bytes(&raw) == theirs,
            "samples differ from the png crate's"
        );
    }
});
