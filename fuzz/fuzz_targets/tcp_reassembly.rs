//! Fuzz target `tcp_reassembly`: see `inspector_tests::fuzzing::tcp_reassembly` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::tcp_reassembly(data));
