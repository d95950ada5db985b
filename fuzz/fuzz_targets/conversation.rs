//! Fuzz target `conversation`: see `inspector_tests::fuzzing::conversation` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::conversation(data));
