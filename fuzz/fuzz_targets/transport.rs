//! Fuzz target `transport`: see `inspector::fuzzing::transport` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector::fuzzing::transport(data));
