//! COCO run-length encoding, byte-compatible with pycocotools.
//! (Filled in by the COCO RLE work.)
