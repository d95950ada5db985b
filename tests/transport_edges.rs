//! The transport layer's rarer events, fed by hand: a full-transport
//! server's bare error code and impossible length, an abridged quick ack
//! split across segments, a forced or dd-secret framing that the
//! obfuscation header contradicts, server bytes lost before the client was
//! recognised, and a connection seen from the middle with no frame in it.

use inspector::envelope::plain_message;
use inspector::tcp::Direction::{ClientToServer as C2S, ServerToClient as S2C};
use inspector::transport::{
    encode_frame, Framing, Obfuscator, TransportConnection, TransportEvent, TransportOptions, TransportProblem,
    MAX_MID_STREAM_SEARCH,
};

fn problems(events: &[TransportEvent]) -> Vec<&TransportProblem> {
    events
        .iter()
        .filter_map(|e| match e {
            TransportEvent::Problem(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn frames(events: &[TransportEvent]) -> usize {
    events.iter().filter(|e| matches!(e, TransportEvent::Frame(_))).count()
}

/// A plain message, as the first frame of a connection would carry one.
fn message() -> Vec<u8> {
    plain_message(0x6000_0000_0000_0004, &[0x11; 20])
}

#[test]
fn a_full_transport_server_sends_a_bare_error_code_then_an_impossible_length() {
    let mut conn = TransportConnection::new(TransportOptions::default());
    let mut out = Vec::new();
    conn.feed(C2S, &encode_frame(Framing::Full, &message(), 0, &[]), &mut out);
    assert_eq!(conn.info().map(|i| i.framing), Some(Framing::Full), "{out:?}");
    assert_eq!(frames(&out), 1, "{out:?}");
    out.clear();
    conn.feed(S2C, &(-404i32).to_le_bytes(), &mut out);
    assert_eq!(out, [TransportEvent::TransportError { direction: S2C, stream_offset: 0, code: -404 }]);
    out.clear();
    conn.feed(S2C, &8u32.to_le_bytes(), &mut out);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(
        p[0].to_string(),
        "s2c stream offset 4 in full.length: length 8 is below the 12 bytes of header and checksum \
         (rest of this direction skipped)"
    );
}

#[test]
fn a_negative_length_from_the_client_is_no_error_code() {
    // Only a server sends bare error codes; from a client the same word is
    // a length beyond the limit (after the first frame's 52 bytes: 4 of
    // length, 4 of sequence number, 40 of message, 4 of CRC32).
    let mut conn = TransportConnection::new(TransportOptions::default());
    let mut out = Vec::new();
    conn.feed(C2S, &encode_frame(Framing::Full, &message(), 0, &[]), &mut out);
    out.clear();
    conn.feed(C2S, &(-404i32).to_le_bytes(), &mut out);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(
        p[0].to_string(),
        "c2s stream offset 52 in full.length: length 4294966892 exceeds the 33554432-byte limit \
         (rest of this direction skipped)"
    );
}

#[test]
fn an_abridged_quick_ack_may_arrive_a_byte_at_a_time() {
    let mut conn = TransportConnection::new(TransportOptions::default());
    let mut out = Vec::new();
    let mut first = vec![0xef];
    first.extend(encode_frame(Framing::Abridged, &message(), 0, &[]));
    conn.feed(C2S, &first, &mut out);
    assert_eq!(frames(&out), 1, "{out:?}");
    out.clear();
    conn.feed(S2C, &[0x80], &mut out);
    conn.feed(S2C, &[0x01, 0x02], &mut out);
    assert!(out.is_empty(), "{out:?}");
    conn.feed(S2C, &[0x03], &mut out);
    assert_eq!(out, [TransportEvent::QuickAck { direction: S2C, stream_offset: 0, token: 0x8001_0203 }]);
}

/// An obfuscation header for `framing` (random bytes that follow the
/// clients' rules), with the secret if given.
fn obfuscated_header(framing: Framing, secret: Option<&[u8]>) -> [u8; 64] {
    let mut random = [0u8; 64];
    for (i, b) in random.iter_mut().enumerate() {
        *b = 0x30 + i as u8;
    }
    Obfuscator::new(framing, random, 2, secret).1
}

#[test]
fn a_forced_framing_overrides_the_header_with_a_warning() {
    let options = TransportOptions { forced: Some((Framing::Intermediate, true)), ..TransportOptions::default() };
    let mut conn = TransportConnection::new(options);
    let mut out = Vec::new();
    conn.feed(C2S, &obfuscated_header(Framing::Abridged, None), &mut out);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(
        p[0].to_string(),
        "c2s stream offset 56 in obfuscation.tag: the header announces abridged but intermediate was forced; \
         using the forced one"
    );
    let info = conn.info().unwrap();
    assert_eq!((info.framing, info.obfuscated, info.dc_id), (Framing::Intermediate, true, Some(2)));
}

#[test]
fn a_dd_secret_with_another_framing_in_the_header_is_named() {
    let mut secret = vec![0xdd];
    secret.extend(0u8..16);
    let options = TransportOptions { mtproxy_secret: Some(secret.clone()), ..TransportOptions::default() };
    let mut conn = TransportConnection::new(options);
    let mut out = Vec::new();
    conn.feed(C2S, &obfuscated_header(Framing::Abridged, Some(&secret)), &mut out);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(
        p[0].to_string(),
        "c2s stream offset 56 in obfuscation.tag: a dd secret selects padded intermediate, but the header announces abridged"
    );
    assert!(conn.info().unwrap().mtproxy);
}

#[test]
fn server_bytes_lost_before_the_client_is_recognised_are_a_gap_in_its_stream() {
    let mut conn = TransportConnection::new(TransportOptions::default());
    let mut out = Vec::new();
    conn.feed(S2C, &[0; 8], &mut out);
    conn.gap(S2C, 100, &mut out);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(p[0].to_string(), "s2c stream offset 8 in stream: 100 bytes missing; looking for the next frame");
    assert!(!p[0].fatal);
}

#[test]
fn a_connection_seen_from_the_middle_gives_up_after_a_megabyte_without_a_frame() {
    let mut conn = TransportConnection::mid_stream(TransportOptions::default());
    let mut out = Vec::new();
    conn.feed(C2S, &vec![0xff; MAX_MID_STREAM_SEARCH + 1], &mut out);
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert_eq!(
        p[0].to_string(),
        "c2s stream offset 0 in transport: no plain-transport frame found in 1048576 bytes of a connection seen from \
         the middle (an obfuscated connection cannot be read without its first 64 bytes) (rest of this direction skipped)"
    );
    // Nothing more is read from either direction.
    out.clear();
    conn.feed(S2C, &encode_frame(Framing::Intermediate, &message(), 0, &[]), &mut out);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_search_from_the_middle_resumes_where_the_last_segment_left_it() {
    // Segment by segment the search goes on from the first position it
    // could not judge yet (it used to start over at every segment, a
    // minute of CPU for a megabyte of an obfuscated stream): what it finds
    // must not change. Noise, a frame that announces more bytes than have
    // come, then three plain frames: the same events whole, in segments of
    // a TCP packet, and byte by byte.
    let noise: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80).collect();
    let mut stream = noise.clone();
    for i in 0..3u8 {
        let m = plain_message(0x6000_0000_0000_0004 + 4 * i64::from(i), &[i; 24]);
        stream.extend(encode_frame(Framing::Intermediate, &m, 0, &[]));
    }
    let run = |piece: usize| {
        let mut conn = TransportConnection::mid_stream(TransportOptions::default());
        let mut out = Vec::new();
        for chunk in stream.chunks(piece) {
            conn.feed(C2S, chunk, &mut out);
        }
        (conn.info().map(|i| i.framing), frames(&out), format!("{out:?}"))
    };
    let whole = run(stream.len());
    assert_eq!(whole.0, Some(Framing::Intermediate), "{}", whole.2);
    assert!(whole.2.contains("3000 bytes skipped to the first recognisable intermediate frame"), "{}", whole.2);
    assert_eq!(whole.1, 3, "{}", whole.2);
    assert_eq!(run(1460), whole);
    assert_eq!(run(1), whole);
    // A megabyte without a frame, in segments: the same single refusal as
    // in one piece.
    let mut conn = TransportConnection::mid_stream(TransportOptions::default());
    let mut out = Vec::new();
    for chunk in vec![0xff; MAX_MID_STREAM_SEARCH + 1].chunks(1460) {
        conn.feed(C2S, chunk, &mut out);
    }
    let p = problems(&out);
    assert_eq!(p.len(), 1, "{out:?}");
    assert!(p[0].to_string().contains("no plain-transport frame found in 1048576 bytes"), "{}", p[0]);
}

#[test]
fn too_few_bytes_cannot_start_an_obfuscation_header() {
    assert!(!inspector::transport::may_be_obfuscated(&[0x30, 0x31, 0x32]));
    assert!(inspector::transport::may_be_obfuscated(&obfuscated_header(Framing::Abridged, None)));
}

#[test]
fn gaps_after_a_direction_stopped_change_nothing() {
    // A full-transport server direction stopped by an impossible length:
    // a later gap in it reports nothing more, nor does a failed connection.
    let mut conn = TransportConnection::new(TransportOptions::default());
    let mut out = Vec::new();
    conn.feed(C2S, &encode_frame(Framing::Full, &message(), 0, &[]), &mut out);
    conn.feed(S2C, &8u32.to_le_bytes(), &mut out);
    out.clear();
    conn.gap(S2C, 100, &mut out);
    assert!(out.is_empty(), "{out:?}");
    let mut failed = TransportConnection::mid_stream(TransportOptions::default());
    failed.feed(C2S, &vec![0xff; MAX_MID_STREAM_SEARCH + 1], &mut out);
    out.clear();
    failed.gap(C2S, 10, &mut out);
    failed.gap(S2C, 10, &mut out);
    assert!(out.is_empty(), "{out:?}");
}
