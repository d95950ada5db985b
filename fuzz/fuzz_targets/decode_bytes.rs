//! Fuzz target `decode_bytes`: see `inspector_tests::fuzzing::decode_bytes` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::decode_bytes(data));
