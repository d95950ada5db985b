//! Fuzz target `roundtrip`: see `inspector_tests::fuzzing::roundtrip` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::roundtrip(data));
