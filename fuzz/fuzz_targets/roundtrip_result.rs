//! Fuzz target `roundtrip_result`: see `inspector_tests::fuzzing::roundtrip_result` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::roundtrip_result(data));
