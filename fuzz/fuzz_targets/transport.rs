//! Fuzz target `transport`: see `inspector_tests::fuzzing::transport` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::transport(data));
