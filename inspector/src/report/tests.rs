//! The reports on the real-client captures shipped in corpus/captures
//! (Telethon over loopback, described by their MANIFEST.json).

use serde_json::Value;

use super::*;
use crate::envelope::parse_auth_key;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/captures/");

/// A file of the real-client captures shipped in corpus/captures: missing,
/// the test fails rather than pass without checking anything.
fn shipped(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{DIR}{name}: {e}"))
}

fn run_json(capture: &[u8], keys: KeyStore) -> (Summary, Vec<Value>, String) {
    let options = ReportOptions { keys, format: ReportFormat::Json, ..Default::default() };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let summary = run_capture(capture, &options, &mut out, &mut err).unwrap();
    let lines = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (summary, lines, String::from_utf8(err).unwrap())
}

/// Every request and answer of the manifest, with the same msg_ids,
/// wrappers and values.
#[test]
fn the_real_captures_match_the_manifest() {
    let (manifest, key) = (shipped("MANIFEST.json"), shipped("auth_key.hex"));
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    let mut keys = KeyStore::new();
    keys.insert(parse_auth_key(&key).unwrap());
    for capture in manifest["captures"].as_array().unwrap() {
        let name = capture["file"].as_str().unwrap();
        let bytes = shipped(name);
        let (summary, lines, err) = run_json(&bytes, keys.clone());
        assert_eq!(err, "", "{name}");
        let requests: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "request").collect();
        let answers: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "answer").collect();
        let want_requests = capture["requests"].as_array().unwrap();
        let want_answers = capture["responses"].as_array().unwrap();
        assert_eq!(requests.len(), want_requests.len(), "{name}");
        assert_eq!(answers.len(), want_answers.len(), "{name}");
        for (got, want) in requests.iter().zip(want_requests) {
            assert_eq!(got["msg_id"], want["msg_id"], "{name}");
            assert_eq!(got["wrapping"], want["wrapping"], "{name}");
            assert_eq!(got["body"], want["params"], "{name}");
            assert_eq!(got["encrypted"], want["encrypted"], "{name}");
            assert_eq!(got["direction"], "c2s");
        }
        for (got, want) in answers.iter().zip(want_answers) {
            assert_eq!(got["msg_id"], want["msg_id"], "{name}");
            assert_eq!(got["wrapping"], want["wrapping"], "{name}");
            assert_eq!(got["body"], want["result"], "{name}");
            if !want["req_msg_id"].is_null() {
                assert_eq!(got["req_msg_id"], want["req_msg_id"], "{name}");
            }
            let index = want["request_index"].as_u64().unwrap() as usize;
            assert_eq!(got["req_msg_id"], want_requests[index]["msg_id"], "{name}");
        }
        let frames = capture["frames"].as_array().unwrap().len() as u64;
        assert_eq!(summary.frames, frames, "{name}");
        assert_eq!(summary.messages, frames, "{name}");
        assert_eq!(summary.matched, want_requests.len() as u64, "{name}");
        assert_eq!((summary.unmatched_answers, summary.warnings, summary.connections), (0, 0, 1), "{name}");
    }
}

#[test]
fn without_the_key_encrypted_messages_are_listed_and_skipped() {
    let bytes = shipped("abridged.pcap");
    let (summary, lines, err) = run_json(&bytes, KeyStore::new());
    assert_eq!(summary.requests, 1);
    assert_eq!(summary.matched, 1);
    assert_eq!(summary.unknown_key_messages, 11);
    assert_eq!(summary.warnings, 1);
    assert!(err.contains("unknown auth key 5fb331cd74310554"), "{err}");
    assert!(lines.iter().any(|l| l.get("warning").is_some()));
}

#[test]
fn the_text_report() {
    let (bytes, key) = (shipped("obfuscated_intermediate.pcap"), shipped("auth_key.hex"));
    let mut keys = KeyStore::new();
    keys.insert(parse_auth_key(&key).unwrap());
    let options = ReportOptions { keys, all: true, ..Default::default() };
    let mut out = Vec::new();
    let mut err = Vec::new();
    run_capture(&bytes[..], &options, &mut out, &mut err).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("request #2 · "), "{text}");
    assert!(text.contains("obfuscated2+intermediate · encrypted (5fb331cd74310554) · msg_id 7712402054149161704 · seq_no 1 · invokeWithLayer(223) › initConnection(611335)"), "{text}");
    assert!(text.contains("answer to request #3"), "{text}");
    assert!(text.contains("msgs_ack msg_ids=["), "{text}");
    assert!(text.contains("CHAT_ADMIN_REQUIRED"), "{text}");
    assert!(
        text.ends_with(
            "5 matched, 0 requests unanswered, 0 answers unmatched, 0 answers to other methods, 0 messages with unknown keys, 0 warnings\n"
        ),
        "{text}"
    );
}

#[test]
fn not_a_capture() {
    let options = ReportOptions::default();
    let r = run_capture(&b"definitely not a capture file"[..], &options, &mut Vec::new(), &mut Vec::new());
    assert!(matches!(r, Err(RunError::NotACapture(_))));
}

/// A writer whose reader goes away after `left` bytes, as `| head` does.
struct ClosesAfter {
    left: usize,
    written: Vec<u8>,
}

impl std::io::Write for ClosesAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A closed output ends the run early and quietly: no error, no warning,
/// and the capture is not read on (a live `tcpdump | inspector pcap - |
/// head` would otherwise run for ever).
#[test]
fn a_closed_output_ends_the_run_quietly() {
    let (bytes, key) = (shipped("abridged.pcap"), shipped("auth_key.hex"));
    let mut keys = KeyStore::new();
    keys.insert(parse_auth_key(&key).unwrap());
    for format in [ReportFormat::Text, ReportFormat::Json] {
        let options = ReportOptions { keys: keys.clone(), format, all: true, ..Default::default() };
        let whole = run_capture(&bytes[..], &options, &mut Vec::new(), &mut Vec::new()).unwrap();
        let mut out = ClosesAfter { left: 300, written: Vec::new() };
        let mut err = Vec::new();
        let summary = run_capture(&bytes[..], &options, &mut out, &mut err).expect("a closed output is no error");
        assert_eq!(String::from_utf8_lossy(&err), "", "{format:?}");
        assert_eq!(out.written.len(), 300, "{format:?}");
        assert!(summary.packets < whole.packets, "{format:?}: read on after the output closed");
    }
}

/// The capture time as chrono's strftime writes it, for times across the
/// range a capture can hold (before 1970, leap years, the last
/// representable years, a pcapng clock far in the future).
#[test]
fn capture_times_are_written_as_strftime_writes_them() {
    let strftime = |ns: i128| {
        let secs = ns.div_euclid(1_000_000_000) as i64;
        let nanos = ns.rem_euclid(1_000_000_000) as u32;
        chrono::DateTime::from_timestamp(secs, nanos)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            .unwrap_or_else(|| format!("{secs}.{nanos:09}"))
    };
    let mut times: Vec<i128> = vec![
        0,
        1,
        999,
        1_000,
        -1,
        -1_000_000_001,
        951_782_400_123_456_789,     // 2000-02-29
        1_759_999_999_999_999_999,   // 2025
        253_402_300_799_999_999_999, // 9999-12-31T23:59:59.999999999
        253_402_300_800_000_000_000, // year 10000
        -62_167_219_200_000_000_000, // year 0
        -62_167_219_200_000_000_001, // year -1
        i128::from(i64::MAX) * 1_000_000_000,
        i128::MIN / 2,
    ];
    // And a walk through the years, one odd step at a time.
    let mut t: i128 = -1_000_000_000_000_000_000;
    while t < 300_000_000_000_000_000_000 {
        times.push(t);
        t += 3_155_760_013_579_246_811;
    }
    for ns in times {
        let mut text = String::new();
        push_time(&mut text, ns);
        assert_eq!(text, strftime(ns), "{ns} ns");
    }
}

/// A warning names its connection with `ConnectionText`, a report line
/// with `push_connection`: the same text, in both address families, in
/// both directions, and for a connection no longer held.
#[test]
fn warnings_and_lines_name_a_connection_alike() {
    use crate::pipeline::Origin;
    use crate::tcp::Direction;
    let v4 = ("10.1.0.2:51000".parse().unwrap(), "149.154.167.51:443".parse().unwrap());
    let v6 = ("[2001:db8::7]:51000".parse().unwrap(), "[2001:67c:4e8:f004::a]:443".parse().unwrap());
    for endpoints in [Some(v4), Some(v6), None] {
        for direction in [Direction::ClientToServer, Direction::ServerToClient] {
            let origin = Origin { time_ns: 0, endpoints, direction, transport: None };
            let mut line = String::new();
            push_connection(&mut line, &origin);
            assert_eq!(ConnectionText(&origin).to_string(), line);
        }
    }
    let origin = Origin { time_ns: 0, endpoints: Some(v4), direction: Direction::ServerToClient, transport: None };
    assert_eq!(ConnectionText(&origin).to_string(), "149.154.167.51:443 → 10.1.0.2:51000");
}
