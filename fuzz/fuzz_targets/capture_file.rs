//! Fuzz target `capture_file`: see `inspector_tests::fuzzing::capture_file` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::capture_file(data));
