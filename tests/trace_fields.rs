//! The trace a decode records leaves out the fields that occupy no bytes
//! (`flags.N?true` fields and absent optional fields); `with_flag_fields`
//! derives them from the `flags` word and the schema. Here the derivation
//! is held against what the decoder itself meets (a `FullTrace` sink), on
//! the whole request and answer matrix, on every truncation of large frames,
//! on frames with undefined flag bits, and on randomly damaged frames,
//! strictly and leniently.

use inspector::tl::{
    decode_traced, decode_with_sink, with_flag_fields, DecodeOptions, ExportedChatInvite, Frame, FullTrace, TlObject,
    TraceValue,
};
use inspector_tests::matrix;
use inspector_tests::rng::XorShift;

/// Decode `bytes` both ways and compare; returns whether the decode succeeded.
fn check(bytes: &[u8], options: DecodeOptions, what: &str) -> bool {
    let traced = decode_traced::<Frame>(bytes, options);
    let (result, full) = decode_with_sink::<Frame, _>(bytes, options, FullTrace::default());
    assert_eq!(result.as_ref().err(), traced.result.as_ref().err(), "{what}: the two decodes disagree");
    assert!(
        traced.trace.iter().all(|ev| !matches!(ev.value, TraceValue::TrueFlag(_) | TraceValue::Absent)),
        "{what}: the trace proper holds a field without bytes"
    );
    let derived = with_flag_fields(&traced.trace, traced.result.as_ref().err());
    assert_eq!(derived, full.0, "{what}: derived fields differ from those the decoder met");
    assert_eq!(with_flag_fields(&derived, traced.result.as_ref().err()), derived, "{what}: not idempotent");
    traced.result.is_ok()
}

fn both(bytes: &[u8], what: &str) {
    check(bytes, DecodeOptions::strict(), what);
    check(bytes, DecodeOptions::lenient(), what);
}

#[test]
fn every_matrix_request_and_answer() {
    let mut fields_without_bytes = 0;
    for (name, request) in matrix::requests() {
        let bytes = request.to_bytes().unwrap();
        assert!(check(&bytes, DecodeOptions::strict(), &name));
        let (_, full) = decode_with_sink::<Frame, _>(&bytes, DecodeOptions::strict(), FullTrace::default());
        fields_without_bytes +=
            full.0.iter().filter(|ev| matches!(ev.value, TraceValue::TrueFlag(_) | TraceValue::Absent)).count();
    }
    // 1,216 requests, each with its two true flags and, on average over
    // the 64 flag combinations, two of its four optional fields absent.
    assert_eq!(fields_without_bytes, 1216 * 4);
    for mask in 0..1u32 << 11 {
        let bytes = ExportedChatInvite::Exported(matrix::answer(mask)).to_bytes().unwrap();
        assert!(check(&bytes, DecodeOptions::strict(), &format!("answer {mask:#x}")));
    }
}

#[test]
fn every_truncation_of_large_frames() {
    let request = matrix::full_request().to_bytes().unwrap();
    let answer = ExportedChatInvite::Exported(matrix::answer(0x7ff)).to_bytes().unwrap();
    let sparse = ExportedChatInvite::Exported(matrix::answer(0x0a5)).to_bytes().unwrap();
    for frame in [&request, &answer, &sparse] {
        for len in 0..frame.len() {
            both(&frame[..len], &format!("{} of {} bytes", len, frame.len()));
        }
    }
}

#[test]
fn undefined_flag_bits_stop_strict_decoding_at_the_flags() {
    // Request flags 0x08 (request_needed) plus undefined bit 7, then an
    // inputPeerSelf cut short, and the same with the peer complete.
    let mut bytes = matrix::request(0x08, inspector::tl::InputPeer::PeerSelf).to_bytes().unwrap();
    bytes[4] |= 0x80;
    for len in [8, 10, bytes.len()] {
        let strict = decode_traced::<Frame>(&bytes[..len], DecodeOptions::strict());
        let e = strict.result.as_ref().unwrap_err();
        assert_eq!(e.path, "flags", "{e}");
        // Strict stops at the flags: nothing after them is shown.
        let derived = with_flag_fields(&strict.trace, Some(e));
        assert_eq!(derived.last().map(|ev| ev.field), Some("flags"));
        both(&bytes[..len], &format!("undefined bits, {len} bytes"));
    }
    // Lenient forgives the bit and goes on: the true flags are passed.
    let lenient = decode_traced::<Frame>(&bytes[..10], DecodeOptions::lenient());
    let derived = with_flag_fields(&lenient.trace, lenient.result.as_ref().err());
    let names: Vec<&str> = derived.iter().map(|ev| ev.field).collect();
    assert_eq!(names, ["", "flags", "legacy_revoke_permanent", "request_needed"]);
    assert_eq!(derived[3].value, TraceValue::TrueFlag(true));
}

#[test]
fn randomly_damaged_frames() {
    let mut rng = XorShift(0x7ace);
    let frames: Vec<Vec<u8>> = matrix::requests().into_iter().step_by(7).map(|(_, r)| r.to_bytes().unwrap()).collect();
    let mut decoded = 0;
    for round in 0..20_000 {
        let mut bytes = frames[round % frames.len()].clone();
        for _ in 0..=(rng.next_u64() % 3) {
            let i = (rng.next_u64() % bytes.len() as u64) as usize;
            // Flip a bit, mostly in the flags word and the peer ids where
            // the structure changes.
            let i = if rng.next_u64() % 2 == 0 { 4 + i % 12 } else { i };
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1 << (rng.next_u64() % 8);
            }
        }
        let cut = (rng.next_u64() % (bytes.len() as u64 + 1)) as usize;
        let bytes = if round % 3 == 0 { &bytes[..cut] } else { &bytes[..] };
        decoded += check(bytes, DecodeOptions::strict(), &format!("round {round}")) as usize;
        check(bytes, DecodeOptions::lenient(), &format!("round {round}"));
    }
    // Enough of them still decode for the closed-object path to be covered too.
    assert!(decoded > 1000, "{decoded}");
}
