//! The one-line summary `pcap --all` prints for a message of the schema,
//! for every kind of value it can hold, and the date line of a timestamp
//! outside the calendar.

use inspector::render::summary::summary_line;
use inspector::render::utc_date;
use inspector::tl::dynamic::{DynValue, Schema};
use inspector::tl::{DecodeOptions, TlString};

#[test]
fn every_kind_of_value_in_one_line() {
    assert_eq!(summary_line(&DynValue::Flags(0x21)), "0x21");
    assert_eq!(summary_line(&DynValue::True(true)), "true");
    assert_eq!(summary_line(&DynValue::Bool(false)), "false");
    assert_eq!(summary_line(&DynValue::Absent), "null");
    assert_eq!(summary_line(&DynValue::Long(-5)), "-5");
    assert_eq!(summary_line(&DynValue::Double(0.25)), "0.25");
    assert_eq!(summary_line(&DynValue::Int128([0xab; 16])), "ab".repeat(16));
    assert_eq!(summary_line(&DynValue::Int256(Box::new([0x01; 32]))), "01".repeat(32));
    assert_eq!(summary_line(&DynValue::String(TlString::from_bytes(vec![0xff, 0xfe, 0x41]))), "<3 bytes, not UTF-8>");
    assert_eq!(summary_line(&DynValue::Bytes(vec![0; 9])), "<9 bytes>");
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
