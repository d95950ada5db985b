//! Fuzz target `json`: see `inspector_tests::fuzzing::json` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::json(data));
