//! The capture pipeline against synthetic captures (tests/support/fixtures.rs):
//! every transport, link type and file format, segments split and joined at
//! every position, reordered, retransmitted and lost segments, connections
//! seen from the middle, truncated files, wrong keys, bad checksums and gzip
//! bombs. Each test runs `inspector pcap`'s library entry point and checks
//! that every request and answer comes back with its msg_id, wrapping and
//! value, that each problem is named in a warning, and that decoding goes on
//! after it. The MTProto 2.0 and obfuscation ciphers are cross-checked
//! against grammers-crypto, so a mistake made symmetrically in our encrypt
//! and decrypt cannot hide.

use inspector::envelope::{decrypt_message, encrypt_message, KeyStore, OutgoingMessage};
use inspector::pipeline::Summary;
use inspector::report::{run_capture, ReportFormat, ReportOptions};
use inspector::service::ServiceOptions;
use inspector::tcp::Direction;
use inspector::tl::json::TlJson;
use inspector::transport::{Framing, Obfuscator, TransportConnection, TransportEvent, TransportOptions};
use inspector_tests::fixtures::{self, *};
use serde_json::Value;

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

struct Report {
    lines: Vec<Value>,
    stderr: String,
    summary: Summary,
}

impl Report {
    fn kind(&self, kind: &str) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["kind"] == kind).collect()
    }

    fn warnings(&self) -> Vec<String> {
        self.lines.iter().filter_map(|l| l.get("warning").and_then(Value::as_str).map(String::from)).collect()
    }

    fn has_warning(&self, needle: &str) -> bool {
        self.warnings().iter().any(|w| w.contains(needle))
    }
}

fn options_for(fixture: &Fixture) -> ReportOptions {
    let mut keys = KeyStore::new();
    keys.insert(fixture.key.clone());
    ReportOptions { keys, format: ReportFormat::Json, ..Default::default() }
}

fn run_with(bytes: &[u8], options: &ReportOptions) -> Report {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let summary = run_capture(bytes, options, &mut out, &mut err).expect("the capture is read");
    let text = String::from_utf8(out).expect("UTF-8 report");
    let lines = text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    Report { lines, stderr: String::from_utf8(err).expect("UTF-8 warnings"), summary }
}

fn run(fixture: &Fixture) -> Report {
    run_with(&fixture.bytes, &options_for(fixture))
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Request => "request",
        Kind::Answer => "answer",
    }
}

/// Every expected request and answer of connection `conn`, in order, with
/// its msg_id, wrapping, req_msg_id, value and transport; and nothing else.
fn assert_recovered(report: &Report, fixture: &Fixture, conn: usize, expected: &[Expected], label: &str, what: &str) {
    let c = &fixture.connections[conn];
    let c2s_text = format!("{} → {}", c.client, c.server);
    let s2c_text = format!("{} → {}", c.server, c.client);
    for kind in [Kind::Request, Kind::Answer] {
        let got: Vec<&Value> = report
            .kind(kind_name(kind))
            .into_iter()
            .filter(|l| l["connection"] == c2s_text.as_str() || l["connection"] == s2c_text.as_str())
            .collect();
        let want: Vec<&Expected> = expected.iter().filter(|e| e.kind == kind).collect();
        let got_ids: Vec<&Value> = got.iter().map(|l| &l["msg_id"]).collect();
        let want_ids: Vec<i64> = want.iter().map(|e| e.msg_id).collect();
        assert_eq!(got.len(), want.len(), "{what}: {kind:?} msg_ids {got_ids:?}, want {want_ids:?}\n{}", report.stderr);
        for (g, w) in got.iter().zip(&want) {
            let ctx = format!("{what}: {kind:?} {}", w.msg_id);
            assert_eq!(g["msg_id"], w.msg_id, "{ctx}");
            assert_eq!(g["wrapping"], serde_json::json!(w.wrapping), "{ctx}");
            assert_eq!(g["body"], w.value.to_json(), "{ctx}");
            assert_eq!(g["encrypted"], w.encrypted, "{ctx}");
            assert_eq!(g["transport"], label, "{ctx}");
            let (dir, text) = if kind == Kind::Request { ("c2s", &c2s_text) } else { ("s2c", &s2c_text) };
            assert_eq!((g["direction"].as_str(), g["connection"].as_str()), (Some(dir), Some(text.as_str())), "{ctx}");
            if kind == Kind::Answer {
                assert_eq!(g["req_msg_id"], serde_json::json!(w.req_msg_id), "{ctx}");
            }
        }
    }
}

fn assert_clean(report: &Report, what: &str) {
    assert_eq!(report.warnings(), Vec::<String>::new(), "{what}");
    assert_eq!(report.stderr, "", "{what}");
    let requests = report.kind("request").len() as u64;
    assert_eq!(report.summary.matched, requests, "{what}");
    assert_eq!(report.summary.unmatched_answers, 0, "{what}");
}

fn one(transport: Transport) -> ConnectionSpec {
    ConnectionSpec::new(transport)
}

#[test]
fn every_transport_on_every_link_type_in_both_file_formats() {
    let mut runs = 0;
    for (t, transport) in Transport::all().into_iter().enumerate() {
        for (l, link) in Link::ALL.into_iter().enumerate() {
            let v6 = (t + l) % 2 == 1;
            let format = if l % 2 == 0 {
                Format::Pcap { big_endian: t % 2 == 1, nanos: l % 4 == 0 }
            } else {
                Format::PcapNg { big_endian: t % 3 == 0, sections: 1 }
            };
            let mut c = one(transport.clone());
            c.v6 = v6;
            let label = transport.label();
            let mut options = None;
            if let Some(secret) = &transport.mtproxy_secret {
                options = Some(secret.clone());
            }
            let spec = CaptureSpec { format, links: vec![link], connections: vec![c], truncate: 0 };
            let f = build(&spec);
            let mut o = options_for(&f);
            o.transport.mtproxy_secret = options;
            let r = run_with(&f.bytes, &o);
            let what = format!("{label} over {link:?} v6={v6} {format:?}");
            assert_clean(&r, &what);
            assert_recovered(&r, &f, 0, &f.connections[0].expected, &label, &what);
            assert_eq!(r.summary.requests, 5, "{what}");
            assert_eq!(r.summary.connections, 1, "{what}");
            runs += 1;
        }
    }
    assert_eq!(runs, 9 * 8);
}

#[test]
fn pcapng_with_several_interfaces_sections_and_connections() {
    let mut a = one(Transport::obfuscated(Framing::Abridged));
    a.interface = 0;
    let mut b = one(Transport::plain(Framing::Full));
    b.interface = 1;
    b.v6 = true;
    let mut c = one(Transport::plain(Framing::PaddedIntermediate));
    c.interface = 2;
    b.conversation = Conversation::numbered(1000);
    c.conversation = Conversation::numbered(2000);
    for big_endian in [false, true] {
        let spec = CaptureSpec {
            format: Format::PcapNg { big_endian, sections: 2 },
            links: vec![Link::Sll2, Link::EthernetVlan, Link::Null],
            connections: vec![a.clone(), b.clone(), c.clone()],
            truncate: 0,
        };
        let f = build(&spec);
        let r = run(&f);
        assert_clean(&r, "three interfaces");
        for (i, spec) in spec.connections.iter().enumerate() {
            assert_recovered(&r, &f, i, &f.connections[i].expected, &spec.transport.label(), "three interfaces");
        }
        assert_eq!((r.summary.connections, r.summary.requests, r.summary.matched), (3, 15, 15));
    }
}

/// The offset of message `m`'s frame in its stream (its first header byte).
fn frame_start(f: &Fixture, m: usize) -> (Direction, u64) {
    let p = &f.connections[0].streams.placed[m];
    (p.direction, p.start)
}

#[test]
fn segments_split_at_every_byte_of_a_frame_header() {
    for transport in Transport::all() {
        let label = transport.label();
        let base = build(&CaptureSpec::single(one(transport.clone())));
        // The first client frame (with the tag or the 64-byte obfuscation
        // header in front), an answer, and the long abridged frame.
        for m in [0usize, 3, 8] {
            let (dir, start) = frame_start(&base, m);
            let header_span = if m == 0 && transport.obfuscated { 64 + 8 } else { 12 };
            for k in 1..=header_span + 24 {
                // One cut, then two cuts around it (three pieces).
                for cuts in [vec![start + k], vec![start + k / 2, start + k]] {
                    let mut c = one(transport.clone());
                    c.segmenting.splits = cuts.iter().map(|&o| (dir, o)).collect();
                    let f = build(&CaptureSpec::single(c));
                    let mut o = options_for(&f);
                    o.transport.mtproxy_secret = transport.mtproxy_secret.clone();
                    let r = run_with(&f.bytes, &o);
                    let what = format!("{label}, message {m} cut at {cuts:?}");
                    assert_clean(&r, &what);
                    assert_recovered(&r, &f, 0, &f.connections[0].expected, &label, &what);
                }
            }
        }
    }
}

#[test]
fn tiny_segments_and_coalesced_frames() {
    for transport in Transport::all() {
        let label = transport.label();
        for (mss, coalesce) in [(1, false), (3, false), (7, false), (65_000, true), (500, true)] {
            let mut c = one(transport.clone());
            c.segmenting.mss = mss;
            c.segmenting.coalesce = coalesce;
            let f = build(&CaptureSpec::single(c));
            let mut o = options_for(&f);
            o.transport.mtproxy_secret = transport.mtproxy_secret.clone();
            let r = run_with(&f.bytes, &o);
            let what = format!("{label}, mss {mss}, coalesce {coalesce}");
            assert_clean(&r, &what);
            assert_recovered(&r, &f, 0, &f.connections[0].expected, &label, &what);
        }
    }
}

#[test]
fn reordered_and_retransmitted_segments() {
    for transport in [
        Transport::plain(Framing::Abridged),
        Transport::obfuscated(Framing::Intermediate),
        Transport::plain(Framing::Full),
    ] {
        let label = transport.label();
        let mut c = one(transport.clone());
        c.segmenting.mss = 40;
        // Reorder pairs inside long frames; retransmit some segments,
        // including ones that were reordered.
        c.segmenting.reorder = vec![3, 10, 30, 31 + 9];
        c.segmenting.retransmit = vec![0, 4, 10, 20, 21, 50];
        let f = build(&CaptureSpec::single(c));
        let r = run(&f);
        assert_clean(&r, &label);
        assert_recovered(&r, &f, 0, &f.connections[0].expected, &label, &label);
    }
}

/// A lost segment in the client's stream: the gap is named with its
/// stream offset; the other direction, and everything before the gap, are
/// decoded; after the gap, decoding resumes at the next frame it can find.
#[test]
fn a_lost_segment_is_reported_and_decoding_goes_on() {
    for transport in Transport::all() {
        let label = transport.label();
        let base = build(&CaptureSpec::single(one(transport.clone())));
        // Drop the segment carrying message 4 (the container with gzip).
        let (dir, start) = frame_start(&base, 4);
        let b = &base.connections[0];
        let seg_spec = Segmenting::default();
        let lost = segment_index(&b.streams, b.client, b.server, &seg_spec, dir, start + 2).expect("segment");
        let mut c = one(transport.clone());
        c.segmenting.drop = vec![lost];
        let f = build(&CaptureSpec::single(c));
        let mut o = options_for(&f);
        o.transport.mtproxy_secret = transport.mtproxy_secret.clone();
        let r = run_with(&f.bytes, &o);
        let what = format!("{label}, segment {lost} lost");
        let placed = &f.connections[0].streams.placed[4];
        let len = placed.end - placed.start;
        assert!(
            r.has_warning(&format!("c2s: {len} bytes missing from the capture at stream offset {}", placed.start)),
            "{what}: {:?}",
            r.warnings()
        );
        // Everything but the lost request is there; its answer has no
        // request to match.
        let want = f.connections[0].expected_without(&[4]);
        assert_recovered(&r, &f, 0, &want, &label, &what);
        assert_eq!(r.summary.unmatched_answers, 1, "{what}");
    }
}

/// A capture that starts after the connection did: plain transports are
/// recognised from the frames themselves; an obfuscated one cannot be read
/// without its first 64 bytes, and the warning says so.
#[test]
fn a_capture_that_starts_mid_connection() {
    for transport in Transport::all() {
        let label = transport.label();
        let base = build(&CaptureSpec::single(one(transport.clone())));
        let b = &base.connections[0];
        // Start at the first encrypted request (message 2).
        let (dir, start) = frame_start(&base, 2);
        let first = segment_index(&b.streams, b.client, b.server, &Segmenting::default(), dir, start).expect("segment");
        let mut c = one(transport.clone());
        c.segmenting.start_at = Some(first);
        let f = build(&CaptureSpec::single(c));
        let mut o = options_for(&f);
        o.transport.mtproxy_secret = transport.mtproxy_secret.clone();
        let r = run_with(&f.bytes, &o);
        let what = format!("{label} from the middle");
        assert!(r.has_warning("started before the capture"), "{what}: {:?}", r.warnings());
        if transport.obfuscated {
            assert_eq!(r.summary.requests, 0, "{what}");
            assert!(r.has_warning("first 64 bytes"), "{what}: {:?}", r.warnings());
        } else {
            let want = f.connections[0].expected_without(&[0, 1]);
            assert_recovered(&r, &f, 0, &want, &label, &what);
        }
    }
}

#[test]
fn a_forced_transport_reads_a_connection_seen_from_the_middle() {
    let transport = Transport::plain(Framing::Intermediate);
    let base = build(&CaptureSpec::single(one(transport.clone())));
    let b = &base.connections[0];
    let (dir, start) = frame_start(&base, 2);
    let first = segment_index(&b.streams, b.client, b.server, &Segmenting::default(), dir, start).expect("segment");
    let mut c = one(transport.clone());
    c.segmenting.start_at = Some(first);
    let f = build(&CaptureSpec::single(c));
    let mut o = options_for(&f);
    o.transport = TransportOptions { forced: Some((Framing::Intermediate, false)), ..Default::default() };
    let r = run_with(&f.bytes, &o);
    let want = f.connections[0].expected_without(&[0, 1]);
    assert_recovered(&r, &f, 0, &want, "intermediate", "forced");
}

/// The file ends inside its last record: a warning, and everything before
/// it decoded.
#[test]
fn a_truncated_file_keeps_what_came_before() {
    for format in [Format::Pcap { big_endian: false, nanos: true }, Format::PcapNg { big_endian: true, sections: 1 }] {
        let mut c = one(Transport::plain(Framing::Intermediate));
        // The last record is then the server's acknowledgement of the last
        // answer; cutting it loses no message.
        c.segmenting.no_close = true;
        let mut spec = CaptureSpec::single(c);
        spec.format = format;
        spec.truncate = 30;
        let f = build(&spec);
        let r = run(&f);
        assert!(r.has_warning("the capture ends inside a record (truncated file)"), "{format:?}: {:?}", r.warnings());
        assert_eq!(r.warnings().len(), 1, "{format:?}: {:?}", r.warnings());
        assert_recovered(&r, &f, 0, &f.connections[0].expected, "intermediate", "truncated");
    }
}

#[test]
fn wrong_keys_and_directions_are_named_and_skipped() {
    for (tamper, needle) in [
        (Tamper::ForgedKeyId, "(wrong key or corrupted message)"),
        (Tamper::WrongDirection, "(it matches s2c: wrong direction)"),
        (Tamper::OtherKey, "messages encrypted with unknown auth key"),
    ] {
        for transport in [Transport::plain(Framing::Abridged), Transport::obfuscated(Framing::PaddedIntermediate)] {
            let label = transport.label();
            let mut c = one(transport);
            c.tamper = vec![(4, tamper)];
            let f = build(&CaptureSpec::single(c));
            let r = run(&f);
            let what = format!("{label} {tamper:?}");
            assert!(r.has_warning(needle), "{what}: {:?}", r.warnings());
            assert_eq!(r.warnings().len(), 1, "{what}: {:?}", r.warnings());
            let want = f.connections[0].expected_without(&[4]);
            assert_recovered(&r, &f, 0, &want, &label, &what);
            assert_eq!(r.summary.unmatched_answers, 1, "{what}");
        }
    }
}

#[test]
fn without_the_key_every_encrypted_message_is_listed_as_unknown() {
    let f = build(&CaptureSpec::single(one(Transport::plain(Framing::Intermediate))));
    let options = ReportOptions { format: ReportFormat::Json, all: true, ..Default::default() };
    let r = run_with(&f.bytes, &options);
    let id = inspector::envelope::format_key_id(f.key.id());
    assert_eq!(r.warnings().len(), 1);
    assert!(r.has_warning(&format!("unknown auth key {id}")), "{:?}", r.warnings());
    assert_eq!(r.summary.unknown_key_messages, 8);
    let skipped = r.lines.iter().filter(|l| l["skipped"] == "unknown auth key").count();
    assert_eq!(skipped, 8);
    // The unencrypted pair is still decoded.
    let want = f.connections[0].expected[..2].to_vec();
    assert_recovered(&r, &f, 0, &want, "intermediate", "no key");
}

#[test]
fn a_bad_crc_is_named_and_the_next_frames_decode() {
    let mut c = one(Transport::plain(Framing::Full));
    c.tamper = vec![(6, Tamper::BadCrc)];
    let f = build(&CaptureSpec::single(c));
    let r = run(&f);
    assert!(r.has_warning("in full.crc32: CRC32"), "{:?}", r.warnings());
    assert_eq!(r.warnings().len(), 1, "{:?}", r.warnings());
    let want = f.connections[0].expected_without(&[6]);
    assert_recovered(&r, &f, 0, &want, "full", "bad crc");
}

#[test]
fn quick_acks_and_transport_errors() {
    for framing in [Framing::Abridged, Framing::Intermediate, Framing::PaddedIntermediate] {
        for obfuscated in [false, true] {
            let mut t = if obfuscated { Transport::obfuscated(framing) } else { Transport::plain(framing) };
            t.quick_acks = true;
            t.transport_error = true;
            let label = t.label();
            let f = build(&CaptureSpec::single(one(t)));
            let mut o = options_for(&f);
            o.all = true;
            let r = run_with(&f.bytes, &o);
            assert!(r.has_warning("transport error -404 (auth key not found)"), "{label}: {:?}", r.warnings());
            assert_eq!(r.warnings().len(), 1, "{label}: {:?}", r.warnings());
            assert_eq!(r.lines.iter().filter(|l| l.get("quick_ack").is_some()).count(), 5, "{label}");
            assert_recovered(&r, &f, 0, &f.connections[0].expected, &label, &label);
        }
    }
}

#[test]
fn a_gzip_bomb_is_refused_and_decoding_goes_on() {
    let mut c = one(Transport::plain(Framing::Abridged));
    c.conversation = Conversation::standard().with_bomb(gzip_bomb(3 << 20));
    let f = build(&CaptureSpec::single(c));
    let mut o = options_for(&f);
    o.service = ServiceOptions { gzip_cap: 1 << 20, ..ServiceOptions::default() };
    let r = run_with(&f.bytes, &o);
    assert!(
        r.has_warning("gzip_packed.packed_data: decompresses to more than the cap of 1048576 bytes"),
        "{:?}",
        r.warnings()
    );
    assert_eq!(r.warnings().len(), 1, "{:?}", r.warnings());
    assert_recovered(&r, &f, 0, &f.connections[0].expected, "abridged", "bomb");
}

/// Bombs nested in containers: each level stays under the cap, all of them
/// together do not. The cap is a budget per message, so this is refused
/// before the total reaches it (instead of holding every level at once).
#[test]
fn a_nested_gzip_bomb_is_bounded_per_message() {
    let mut c = one(Transport::plain(Framing::Intermediate));
    c.conversation = Conversation::standard().with_bomb(nested_gzip_bomb(20, 300 << 10));
    let f = build(&CaptureSpec::single(c));
    let mut o = options_for(&f);
    o.service = ServiceOptions { gzip_cap: 1 << 20, ..ServiceOptions::default() };
    let r = run_with(&f.bytes, &o);
    assert!(r.has_warning("cap of 1048576 bytes for all gzip_packed of one message"), "{:?}", r.warnings());
    assert_recovered(&r, &f, 0, &f.connections[0].expected, "intermediate", "nested bomb");
}

#[test]
fn the_command_line_reads_a_fixture_file() {
    use inspector::cli::{run as cli_run, ExitStatus, Io};
    let f = build(&CaptureSpec::single(one(Transport::mtproxy(mtproxy_secret(true)))));
    let dir = std::env::temp_dir().join(format!("inspector-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mtproxy.pcap");
    std::fs::write(&path, &f.bytes).unwrap();
    let key_hex = inspector::hex::encode(f.key.bytes());
    let secret = inspector::hex::encode(&mtproxy_secret(true));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut stdin: &[u8] = b"";
    let mut io = Io {
        stdin: &mut stdin,
        stdin_is_terminal: false,
        stdout: &mut stdout,
        stdout_is_terminal: false,
        stderr: &mut stderr,
        stderr_is_terminal: false,
    };
    let args = ["inspector", "pcap", path.to_str().unwrap(), "--auth-key", &key_hex, "--mtproxy-secret", &secret];
    let status = cli_run(args.iter().map(Into::into), &mut io);
    let text = String::from_utf8_lossy(&stdout);
    assert_eq!(status, ExitStatus::Ok, "{}", String::from_utf8_lossy(&stderr));
    assert!(text.contains("mtproxy+padded_intermediate · encrypted"), "{text}");
    assert!(text.contains("5 requests, 5 answers, 5 matched"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------
// Cross-checks against grammers-crypto

fn grammers_key(key: &inspector::envelope::AuthKey) -> grammers_crypto::AuthKey {
    grammers_crypto::AuthKey::from_bytes(*key.bytes())
}

/// Client to server: grammers encrypts, we decrypt.
#[test]
fn grammers_encrypts_what_we_decrypt() {
    let key = fixtures::fixture_key();
    for (i, body_len) in [4usize, 16, 60, 1000, 4096].into_iter().enumerate() {
        let body: Vec<u8> = (0..body_len).map(|j| (j * 7 + i) as u8).collect();
        let msg_id = fixtures::msg_id(i as u32, false);
        let mut plain = Vec::new();
        plain.extend_from_slice(&SALT.to_le_bytes());
        plain.extend_from_slice(&SESSION_ID.to_le_bytes());
        plain.extend_from_slice(&msg_id.to_le_bytes());
        plain.extend_from_slice(&(2 * i as i32 + 1).to_le_bytes());
        plain.extend_from_slice(&(body_len as u32).to_le_bytes());
        plain.extend_from_slice(&body);
        let mut buffer = grammers_crypto::DequeBuffer::with_capacity(plain.len() + 32, 24);
        buffer.extend(plain.iter().copied());
        grammers_crypto::encrypt_data_v2(&mut buffer, &grammers_key(&key));
        let wire = buffer.as_ref().to_vec();
        let m = decrypt_message(&key, C2S, &wire).expect("grammers' message decrypts");
        assert_eq!((m.salt, m.session_id, m.msg_id, m.seq_no), (SALT, SESSION_ID, msg_id, 2 * i as i32 + 1));
        assert_eq!(m.data, body);
        // And as a server message it must fail the msg_key check.
        assert!(decrypt_message(&key, S2C, &wire).is_err());
    }
}

/// Server to client: we encrypt, grammers decrypts (and checks msg_key).
#[test]
fn we_encrypt_what_grammers_decrypts() {
    let key = fixtures::fixture_key();
    for (i, body_len) in [4usize, 16, 60, 1000, 4096].into_iter().enumerate() {
        let body: Vec<u8> = (0..body_len).map(|j| (j * 13 + i) as u8).collect();
        let msg = OutgoingMessage {
            salt: SALT,
            session_id: SESSION_ID,
            msg_id: fixtures::msg_id(i as u32, true),
            seq_no: 3,
            data: &body,
        };
        let pad = 12 + (16 - (32 + body_len + 12) % 16) % 16 + 16 * i;
        let padding: Vec<u8> = (0..pad).map(|j| j as u8).collect();
        let mut wire = encrypt_message(&key, S2C, &msg, &padding).expect("valid padding");
        let plain = grammers_crypto::decrypt_data_v2(&mut wire, &grammers_key(&key)).expect("grammers decrypts ours");
        assert_eq!(&plain[16..24], &msg.msg_id.to_le_bytes());
        assert_eq!(&plain[28..32], &(body_len as u32).to_le_bytes());
        assert_eq!(&plain[32..32 + body_len], &body[..]);
        // A client message is not a server message.
        let mut c2s = encrypt_message(&key, C2S, &msg, &padding).expect("valid padding");
        assert!(grammers_crypto::decrypt_data_v2(&mut c2s, &grammers_key(&key)).is_err());
    }
}

/// Obfuscation: a client stream made with grammers' cipher is read by our
/// deframer, and our server stream is read by grammers' cipher.
#[test]
fn obfuscation_agrees_with_grammers() {
    for framing in [Framing::Abridged, Framing::Intermediate, Framing::PaddedIntermediate] {
        let mut init = [0u8; 64];
        for (i, b) in init.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(101).wrapping_add(3);
        }
        init[0] = 0x33;
        init[56..60].copy_from_slice(&framing.tag().unwrap());
        let mut cipher = grammers_crypto::ObfuscatedCipher::new(&init);
        let mut header = init;
        cipher.encrypt(&mut header);
        let mut wire = init[..56].to_vec();
        wire.extend_from_slice(&header[56..]);
        let payloads: Vec<Vec<u8>> = (0..3).map(|i| vec![(i + 1) as u8; 24 + 16 * (i + 1)]).collect();
        let mut c2s = Vec::new();
        for p in &payloads {
            c2s.extend(inspector::transport::encode_frame(framing, p, 0, &[]));
        }
        cipher.encrypt(&mut c2s);
        wire.extend(c2s);
        // The server's bytes: CTR is its own inverse, so grammers' receive
        // keystream applied to the plaintext gives the ciphertext.
        let mut s2c = inspector::transport::encode_frame(framing, &payloads[2], 0, &[]);
        cipher.decrypt(&mut s2c);

        let mut conn = TransportConnection::new(TransportOptions::default());
        let mut events = Vec::new();
        conn.feed(C2S, &wire, &mut events);
        conn.feed(S2C, &s2c, &mut events);
        let frames: Vec<(Direction, Vec<u8>)> = events
            .iter()
            .filter_map(|e| match e {
                TransportEvent::Frame(f) => Some((f.direction, f.payload.clone())),
                _ => None,
            })
            .collect();
        let mut want: Vec<(Direction, Vec<u8>)> = payloads.iter().map(|p| (C2S, p.clone())).collect();
        want.push((S2C, payloads[2].clone()));
        assert_eq!(frames, want, "{framing:?}");

        // Ours to grammers: our client header initialises grammers' cipher
        // (it takes the plain bytes 0..56 and our tag position), and our
        // server keystream is grammers' receive keystream.
        let (mut ours, our_header) = Obfuscator::new(framing, init, 2, None);
        assert_eq!(&our_header[..56], &init[..56]);
        let mut ginit = init;
        ginit[60..62].copy_from_slice(&2i16.to_le_bytes());
        let mut g = grammers_crypto::ObfuscatedCipher::new(&ginit);
        let mut gh = ginit;
        g.encrypt(&mut gh);
        assert_eq!(&our_header[56..], &gh[56..], "{framing:?}");
        let mut server = b"a server frame of some length".to_vec();
        let plain = server.clone();
        ours.apply(S2C, &mut server);
        g.decrypt(&mut server);
        assert_eq!(server, plain, "{framing:?}");
        let mut client = b"and a client one".to_vec();
        let mut gclient = client.clone();
        ours.apply(C2S, &mut client);
        g.encrypt(&mut gclient);
        assert_eq!(client, gclient, "{framing:?}");
    }
}

/// Run the command line on a fixture written to a temporary file.
fn cli_on(f: &Fixture, name: &str, extra: &[&str]) -> (i32, String, String, std::path::PathBuf) {
    use inspector::cli::{run as cli_run, Io};
    let dir = std::env::temp_dir().join(format!("inspector-fixtures-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("capture.pcap");
    std::fs::write(&path, &f.bytes).unwrap();
    let key_hex = inspector::hex::encode(f.key.bytes());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut stdin: &[u8] = b"";
    let mut io = Io {
        stdin: &mut stdin,
        stdin_is_terminal: false,
        stdout: &mut stdout,
        stdout_is_terminal: false,
        stderr: &mut stderr,
        stderr_is_terminal: false,
    };
    let mut args = vec!["inspector", "pcap", path.to_str().unwrap(), "--auth-key", &key_hex];
    args.extend_from_slice(extra);
    let status = cli_run(args.iter().map(Into::into), &mut io) as i32;
    (status, String::from_utf8_lossy(&stdout).into(), String::from_utf8_lossy(&stderr).into(), dir)
}

#[test]
fn extract_corpus_writes_each_request_and_answer_once() {
    use inspector::tl::{Frame, TlObject};
    let f = build(&CaptureSpec::single(one(Transport::obfuscated(Framing::Intermediate))));
    let dir = std::env::temp_dir().join(format!("inspector-fixtures-corpus-{}", std::process::id()));
    let corpus = dir.join("seeds");
    let corpus_arg = corpus.to_str().unwrap().to_string();
    // Twice: the second run finds every seed already there.
    for _ in 0..2 {
        let (status, _, stderr, _) = cli_on(&f, "corpus", &["--extract-corpus", &corpus_arg]);
        assert_eq!(status, 0, "{stderr}");
    }
    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<Frame> = Vec::new();
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let entry = entry.unwrap();
        names.push(entry.file_name().to_string_lossy().into());
        values.push(Frame::from_bytes(&std::fs::read(entry.path()).unwrap()).expect("a seed is one bare TL object"));
    }
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(names.iter().all(|n| n.len() == 64 && n.chars().all(|c| c.is_ascii_hexdigit())), "{names:?}");
    for e in &f.connections[0].expected {
        assert!(values.contains(&e.value), "{:?} not extracted", e.value);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn max_depth_bounds_unwrapping_and_the_rest_decodes() {
    let f = build(&CaptureSpec::single(one(Transport::plain(Framing::Abridged))));
    // Two levels: invokeWithLayer › initConnection › request, msg_container ›
    // gzip_packed › request, msg_container › rpc_result › answer and
    // rpc_result › gzip_packed › answer are one too deep; the rest decodes.
    let (status, out, stderr, dir) = cli_on(&f, "depth", &["--max-depth", "2"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stderr.matches("wrappers nest deeper than the budget of 2").count(), 4, "{stderr}");
    assert!(out.contains("3 requests, 3 answers, 3 matched, 0 requests unanswered, 0 answers unmatched"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
    for bad in ["0", "257", "x"] {
        let (status, _, stderr, dir) = cli_on(&f, "depth-bad", &["--max-depth", bad]);
        assert_eq!(status, 2, "{bad}: {stderr}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A second answer to a request is named as such while the request is
/// among the last 16,384 answered; an older one has been forgotten (so that
/// memory stays flat over a long capture), and its second answer says so.
#[test]
fn a_second_answer_is_named_until_its_request_is_forgotten() {
    const KEPT: u32 = 16_384;
    let pairs = KEPT + 2;
    let mut spec = one(Transport::plain(Framing::Intermediate));
    spec.conversation = Conversation::many_answered(pairs, &[1, pairs]);
    let fixture = build(&CaptureSpec::single(spec));
    let options = ReportOptions { format: ReportFormat::Text, ..options_for(&fixture) };
    let mut out = Vec::new();
    let summary = run_capture(&fixture.bytes[..], &options, &mut out, &mut Vec::new()).expect("the capture is read");
    let text = String::from_utf8(out).expect("UTF-8 report");
    assert_eq!((summary.requests, summary.answers, summary.matched), (u64::from(pairs), u64::from(pairs) + 2, 16_386));
    let again: Vec<&str> =
        text.lines().filter(|l| l.contains("another answer") || l.contains("not in the capture")).collect();
    assert_eq!(again.len(), 2, "{again:#?}");
    assert!(
        again[0].starts_with(&format!(
            "answer to msg_id {}, a request not in the capture or answered more than 16384 answers ago",
            msg_id(1, false)
        )),
        "{}",
        again[0]
    );
    assert!(again[1].starts_with(&format!("another answer to request #{pairs} ")), "{}", again[1]);
    assert_eq!(summary.unmatched_answers, 1);
}

/// A capture of more connections left open than the pipeline holds (a
/// scan: SYNs only) is read in bounded memory: past the limit the least
/// recently active are forgotten, which one warning says when it starts and
/// another counts at the end.
#[test]
fn a_scan_of_many_open_connections_is_held_in_bounded_memory() {
    use inspector::tcp::MAX_CONNECTIONS;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let n = MAX_CONNECTIONS + 232;
    let header = PcapHeader { datalink: pcap_file::DataLink::RAW, ..Default::default() };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    let server: std::net::SocketAddr = "149.154.167.50:443".parse().unwrap();
    for i in 0..n {
        let client = std::net::SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 50000));
        let ip = ip_tcp(client, server, i as u32, None, true, false, b"");
        let ts = std::time::Duration::from_millis(i as u64);
        w.write_packet(&PcapPacket::new(ts, ip.len() as u32, &ip)).unwrap();
    }
    let bytes = w.into_writer();
    let options = ReportOptions { format: ReportFormat::Json, ..Default::default() };
    let report = run_with(&bytes, &options);
    assert_eq!(report.summary.connections, n);
    let warnings = report.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(warnings[0].starts_with("connection 10.0.0.0:50000 → 149.154.167.50:443 forgotten: more than 32768"));
    assert_eq!(
        warnings[1],
        format!("{} open connections were forgotten in all, to stay within 32768 held at once", MAX_CONNECTIONS / 8)
    );
}

/// Mixed real-client traffic: other methods' requests (a
/// contacts.resolveUsername, another call) answered by rpc_error around
/// the exportChatInvite ones. Their answers belong to their requests: not
/// shown without `--all`, shown with it as answers to those methods, and
/// never counted as exportChatInvite answers whose request is missing. Only
/// an rpc_error to a msg_id never seen is "a request not in the capture".
#[test]
fn an_rpc_error_to_another_method_is_not_an_unmatched_export_chat_invite_answer() {
    use inspector::tl::{Frame, RpcError, TlObject};
    let rpc_error = |code: i32, message: &str| {
        Frame::Error(RpcError { error_code: code, error_message: message.into() }).to_bytes().expect("encodes")
    };
    // contacts.resolveUsername#725afbbc flags:# username:string, and a call
    // this tool has no name for.
    let mut resolve = 0x725a_fbbc_u32.to_le_bytes().to_vec();
    resolve.extend_from_slice(&0u32.to_le_bytes());
    resolve.extend_from_slice(b"\x0bnobody_here");
    let other_call = 0x1234_5678_u32.to_le_bytes().to_vec();

    let mut conversation = Conversation::standard();
    let ours = conversation.expected.clone();
    let (resolve_id, call_id, before_capture) = (msg_id(900, false), msg_id(901, false), msg_id(1, false) - 4);
    let mut push = |direction, id, seq_no, body| {
        conversation.messages.push(fixtures::Message { direction, msg_id: id, seq_no, body, encrypted: true });
    };
    push(C2S, resolve_id, 41, resolve);
    push(S2C, msg_id(900, true), 41, rpc_result(resolve_id, &rpc_error(400, "USERNAME_NOT_OCCUPIED")));
    // Inside a container with an acknowledgement, as clients send them.
    push(
        C2S,
        msg_id(902, false),
        44,
        container(&[(call_id, 43, other_call), (msg_id(903, false), 44, msgs_ack(&[1]))]),
    );
    push(S2C, msg_id(901, true), 43, rpc_result(call_id, &rpc_error(420, "FLOOD_WAIT_3")));
    push(S2C, msg_id(902, true), 45, rpc_result(before_capture, &rpc_error(400, "CHAT_ADMIN_REQUIRED")));
    let mut spec = one(Transport::obfuscated(Framing::Intermediate));
    spec.conversation = conversation;
    let fixture = build(&CaptureSpec::single(spec));
    let requests = ours.iter().filter(|e| e.kind == Kind::Request).count() as u64;
    let answers = ours.iter().filter(|e| e.kind == Kind::Answer).count() as u64;

    for all in [false, true] {
        let what = format!("--all {all}");
        let report = run_with(&fixture.bytes, &ReportOptions { all, ..options_for(&fixture) });
        let s = &report.summary;
        assert_eq!((s.requests, s.matched, s.answers), (requests, requests, answers + 1), "{what}");
        assert_eq!((s.unmatched_answers, s.other_answers, s.warnings), (1, 2, 0), "{what}: {}", report.stderr);
        let unmatched: Vec<&Value> =
            report.kind("answer").into_iter().filter(|a| !ours.iter().any(|e| a["msg_id"] == e.msg_id)).collect();
        assert_eq!(unmatched.len(), 1, "{what}: {unmatched:#?}");
        assert_eq!(unmatched[0]["req_msg_id"], before_capture, "{what}");
        let other = report.kind("other_answer");
        if all {
            let got: Vec<(&Value, &Value, &Value)> =
                other.iter().map(|a| (&a["req_msg_id"], &a["request"], &a["body"]["error_message"])).collect();
            assert_eq!(
                got,
                [
                    (&resolve_id.into(), &"0x725afbbc".into(), &"USERNAME_NOT_OCCUPIED".into()),
                    (&call_id.into(), &"0x12345678".into(), &"FLOOD_WAIT_3".into())
                ],
                "{what}"
            );
        } else {
            assert_eq!(other.len(), 0, "{what}: {other:#?}");
        }
        let summary = report.lines.last().expect("a summary");
        assert_eq!(summary["summary"]["answers"], answers + 1, "{what}");
        assert_eq!(summary["summary"]["unmatched_answers"], 1, "{what}");
        assert_eq!(summary["summary"]["other_answers"], 2, "{what}");
    }

    // The text report says the same.
    for all in [false, true] {
        let options = ReportOptions { format: ReportFormat::Text, all, ..options_for(&fixture) };
        let mut out = Vec::new();
        run_capture(&fixture.bytes[..], &options, &mut out, &mut Vec::new()).expect("the capture is read");
        let text = String::from_utf8(out).expect("UTF-8 report");
        let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("answer to msg_id")).collect();
        let not_in_capture = format!("answer to msg_id {before_capture}, a request not in the capture · ");
        assert!(headers.iter().any(|l| l.starts_with(&not_in_capture)), "{headers:#?}");
        let resolve_header = format!("answer to msg_id {resolve_id}, a 0x725afbbc request · ");
        let call_header = format!("answer to msg_id {call_id}, a 0x12345678 request · ");
        assert_eq!(headers.len(), if all { 3 } else { 1 }, "{headers:#?}");
        assert_eq!(headers.iter().any(|l| l.starts_with(&resolve_header)), all, "{headers:#?}");
        assert_eq!(headers.iter().any(|l| l.starts_with(&call_header)), all, "{headers:#?}");
        assert_eq!(text.contains("USERNAME_NOT_OCCUPIED"), all, "{text}");
        assert!(
            text.contains(&format!(
                "{requests} matched, 0 requests unanswered, 1 answers unmatched, 2 answers to other methods"
            )),
            "{text}"
        );
    }
}

/// `fixtures::gzip` keeps one deflate state per thread and resets it (the
/// `service` fuzz target gzips half of its inputs); what it writes must
/// stay `GzEncoder`'s at the same level, byte for byte, call after call.
#[test]
fn fixture_gzip_is_gzencoders_byte_for_byte() {
    use std::io::Write as _;
    let mut x = 1u32;
    let noise: Vec<u8> = (0..70_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    let inputs =
        [vec![], vec![0], vec![0; 10_000], b"exportChatInvite".repeat(3_000), noise.clone(), noise[..100].to_vec()];
    for round in 0..2 {
        for input in &inputs {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(input).expect("writing to memory");
            let want = e.finish().expect("writing to memory");
            assert!(
                fixtures::gzip(input) == want,
                "round {round}: gzip of {} bytes differs from GzEncoder's",
                input.len()
            );
        }
    }
}

/// `fixtures::gzip_stored` is written by hand (see there): flate2's
/// decoder and the library's gunzip must read back every length, across
/// the 65,535-byte block limit, and a damaged byte must be refused.
#[test]
fn fixture_stored_gzip_inflates_to_its_input() {
    use std::io::Read as _;
    for len in [0usize, 1, 3, 1000, 65_534, 65_535, 65_536, 140_000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let packed = fixtures::gzip_stored(&data);
        assert_eq!(packed.len(), 10 + 5 * len.div_ceil(65_535).max(1) + len + 8, "{len} bytes");
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut inflated).expect("flate2 reads it");
        assert!(inflated == data, "flate2 inflates {len} bytes to something else");
        let (plain, format) = inspector::service::inflate_packed(&packed, 1 << 20).expect("the library reads it");
        assert!(plain == data && format.name() == "gzip", "the library inflates {len} bytes to something else");
        if len > 0 {
            let mut damaged = packed.clone();
            // A byte of the data: the CRC-32 in the trailer no longer holds.
            damaged[15] ^= 1;
            assert!(inspector::service::inflate_packed(&damaged, 1 << 20).is_err(), "damage in {len} bytes unseen");
        }
    }
}

/// The fixture writer's IP/TCP packets are written from etherparse's
/// headers (`fixtures::ip_tcp`); they must be the bytes etherparse's own
/// `PacketBuilder` writes, in both IP versions, for every flag the writer
/// sets and payloads from empty to a full segment, and parse back.
#[test]
fn ip_tcp_writes_what_etherparses_packet_builder_writes() {
    use std::net::SocketAddr;
    let pairs: [(SocketAddr, SocketAddr); 2] = [
        ("10.1.0.2:51000".parse().unwrap(), "149.154.167.51:443".parse().unwrap()),
        ("[2001:db8::2]:51000".parse().unwrap(), "[2001:67c:4e8:f004::a]:443".parse().unwrap()),
    ];
    let payload: Vec<u8> = (0..1400u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut checked = 0;
    for (src, dst) in pairs {
        for (syn, fin, ack) in
            [(true, false, None), (true, false, Some(7)), (false, false, Some(0xffff_fff0)), (false, true, Some(1))]
        {
            for len in [0, 1, 3, 17, 271, 1400] {
                let seq = 0xffff_f000u32.wrapping_add(len as u32);
                let body = &payload[..len];
                let builder = match (src, dst) {
                    (SocketAddr::V4(s), SocketAddr::V4(d)) => {
                        etherparse::PacketBuilder::ipv4(s.ip().octets(), d.ip().octets(), 64)
                    }
                    (SocketAddr::V6(s), SocketAddr::V6(d)) => {
                        etherparse::PacketBuilder::ipv6(s.ip().octets(), d.ip().octets(), 64)
                    }
                    _ => unreachable!(),
                };
                let mut b = builder.tcp(src.port(), dst.port(), seq, 65535);
                if syn {
                    b = b.syn();
                }
                if fin {
                    b = b.fin();
                }
                if let Some(a) = ack {
                    b = b.ack(a);
                }
                if len > 0 {
                    b = b.psh();
                }
                let mut want = Vec::new();
                b.write(&mut want, body).unwrap();
                let got = ip_tcp(src, dst, seq, ack, syn, fin, body);
                assert_eq!(got, want, "{src} → {dst} syn {syn} fin {fin} ack {ack:?} payload {len}");
                let parsed = etherparse::SlicedPacket::from_ip(&got).unwrap();
                let Some(etherparse::TransportSlice::Tcp(tcp)) = parsed.transport else { panic!("not TCP") };
                assert_eq!((tcp.sequence_number(), tcp.payload()), (seq, body));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 48);
}
