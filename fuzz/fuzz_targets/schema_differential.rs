//! Fuzz target `schema_differential`: the typed closure against the
//! schema-driven decoder; see `tests/support/schema_differential.rs` for
//! the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    inspector_tests::schema_differential::schema_differential(data)
});
