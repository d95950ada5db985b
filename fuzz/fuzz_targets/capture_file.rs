//! Fuzz target `capture_file`: see `inspector::fuzzing::capture_file` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector::fuzzing::capture_file(data));
