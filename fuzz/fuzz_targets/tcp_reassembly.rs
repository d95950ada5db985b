//! Fuzz target `tcp_reassembly`: see `inspector::fuzzing::tcp_reassembly` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector::fuzzing::tcp_reassembly(data));
