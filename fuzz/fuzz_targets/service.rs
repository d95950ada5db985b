//! Fuzz target `service`: see `inspector::fuzzing::service` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector::fuzzing::service(data));
