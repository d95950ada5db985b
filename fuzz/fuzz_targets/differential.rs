//! Fuzz target `differential`: this library against grammers-tl-types; see
//! `inspector_tests::fuzzing::differential` for the properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    inspector_tests::fuzzing::differential::<inspector_fuzz::reference::Grammers>(data)
});
