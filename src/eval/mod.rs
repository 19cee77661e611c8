//! Streaming per-sequence evaluation (DAVIS, vos-benchmark, SA-V ... protocols).
//! (Filled in by the evaluation-engine work.)
