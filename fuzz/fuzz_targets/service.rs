//! Fuzz target `service`: see `inspector_tests::fuzzing::service` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::service(data));
