//! Fuzz target `envelope`: see `inspector::fuzzing::envelope` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector::fuzzing::envelope(data));
