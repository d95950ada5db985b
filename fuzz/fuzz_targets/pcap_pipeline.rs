//! Fuzz target `pcap_pipeline`: see `inspector_tests::fuzzing::pcap_pipeline` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| inspector_tests::fuzzing::pcap_pipeline(data));
