//! The one-line summary `pcap --all` prints for a message of the schema,
//! for every kind of value it can hold, and the date line of a timestamp
//! outside the calendar.

use inspector::render::summary::summary_line;
use inspector::render::utc_date;
use inspector::tl::dynamic::{DynValue, Schema};
use inspector::tl::{DecodeOptions, NoTrace};

/// `bytes` read as the type `ty` of the built-in schema (as an answer to
/// a `--method` request is), leniently so that a string may be bad UTF-8.
fn value(bytes: &[u8], ty: &str) -> DynValue {
    Schema::builtin().decode_as_type(bytes, ty, DecodeOptions::lenient(), NoTrace).0.unwrap()
}

#[test]
fn every_kind_of_value_in_one_line() {
    assert_eq!(summary_line(&value(&0x9972_75b5u32.to_le_bytes(), "Bool")), "true");
    assert_eq!(summary_line(&value(&0xbc79_9737u32.to_le_bytes(), "Bool")), "false");
    assert_eq!(summary_line(&value(&(-5i64).to_le_bytes(), "long")), "-5");
    assert_eq!(summary_line(&value(&0.25f64.to_le_bytes(), "double")), "0.25");
    assert_eq!(summary_line(&value(&[0xab; 16], "int128")), "ab".repeat(16));
    assert_eq!(summary_line(&value(&[0x01; 32], "int256")), "01".repeat(32));
    assert_eq!(summary_line(&value(&[3, 0xff, 0xfe, 0x41], "string")), "<3 bytes, not UTF-8>");
    assert_eq!(summary_line(&value(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "bytes")), "<9 bytes>");
    // A flag word, a flag that is set and one that is not, and an absent
    // field show only as what is present.
    let schema =
        Schema::parse(&[("k.tl", "kinds#1 flags:# t:flags.0?true u:flags.1?true a:flags.2?int = Kinds;\n")]).unwrap();
    let kinds = |flags: u32, extra: &[u8]| {
        let mut b = 1u32.to_le_bytes().to_vec();
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(extra);
        summary_line(&schema.decode(&b, DecodeOptions::strict()).unwrap())
    };
    assert_eq!(kinds(0, &[]), "kinds");
    assert_eq!(kinds(1, &[]), "kinds t");
    assert_eq!(kinds(4, &7i32.to_le_bytes()), "kinds a=7");
}

#[test]
fn a_decoded_message_with_a_double_and_an_int128() {
    // geoPoint#b2a2f663 flags:# long:double lat:double access_hash:long
    let mut b = 0xb2a2_f663u32.to_le_bytes().to_vec();
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&2.5f64.to_le_bytes());
    b.extend_from_slice(&(-1.0f64).to_le_bytes());
    b.extend_from_slice(&3i64.to_le_bytes());
    let value = Schema::builtin().decode(&b, DecodeOptions::strict()).unwrap();
    assert_eq!(summary_line(&value), "geoPoint long=2.5 lat=-1 access_hash=3");
}

#[test]
fn a_time_outside_the_calendar_says_so() {
    assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc_date(i64::MAX), "out of range as a date");
}
