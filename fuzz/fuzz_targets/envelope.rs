//! Fuzz target `envelope`: see `inspector_tests::fuzzing::envelope` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::envelope(data));
