//! Fuzz target `roundtrip`: see `inspector::fuzzing::roundtrip` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector::fuzzing::roundtrip(data));
