//! Fuzz target `faketls`: see `inspector_tests::faketls_props` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::faketls_props::faketls(data));
