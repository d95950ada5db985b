//! Fuzz target `render`: see `inspector_tests::fuzzing::render` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::render(data));
