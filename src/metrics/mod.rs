//! Per-object J (IoU), DAVIS boundary maps and boundary F.
//! (Filled in by the metrics work.)
