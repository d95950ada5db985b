//! Support for the fuzz targets: the reference implementation that the
//! differential target compares against.
//!
//! `reference.rs` is also compiled into the root's `tests/corpus_replay.rs`
//! (by path), so the replay under stable `cargo test` runs the very same
//! comparison as the fuzzer.

pub mod reference;
