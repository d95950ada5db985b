//! `inspector pcap` on a capture built here: a full-transport connection
//! whose server answers with bare transport error codes, and a client
//! message with bytes after the length its header gives. Each becomes one
//! warning line naming the connection, direction and stream offset.

use inspector::cli::ExitStatus;
use inspector::envelope::plain_message;
use inspector::transport::{encode_frame, Framing};
use inspector_tests::cli::cli;
use inspector_tests::fixtures::{ip_tcp, Link};

const CLIENT: &str = "10.0.0.1:50000";
const SERVER: &str = "149.154.167.50:443";

/// A legacy pcap (little endian, microseconds, Ethernet) of `packets`.
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out: Vec<u8> =
        [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1].iter().flat_map(|w| w.to_le_bytes()).collect();
    for (i, p) in packets.iter().enumerate() {
        let frame = Link::Ethernet.wrap(p);
        for w in [1_760_000_000 + i as u32, 0, frame.len() as u32, frame.len() as u32] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&frame);
    }
    out
}

fn report(capture: &[u8], threads: &str) -> (ExitStatus, String) {
    let dir = std::env::temp_dir().join(format!("inspector-pcap-warnings-{}-{threads}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("capture.pcap");
    std::fs::write(&path, capture).unwrap();
    let out = cli(&["pcap", path.to_str().unwrap(), "--threads", threads], b"");
    std::fs::remove_dir_all(&dir).unwrap();
    (out.status, out.stdout + &out.stderr)
}

#[test]
fn bare_transport_error_codes_and_trailing_bytes_are_warnings() {
    let (c, s) = (CLIENT.parse().unwrap(), SERVER.parse().unwrap());
    let msg_id = 0x6500_0000_0000_0004_i64;
    let first = encode_frame(Framing::Full, &plain_message(msg_id, &[0x11; 20]), 0, &[]);
    // The second message carries 4 bytes its length does not cover.
    let mut trailing = plain_message(msg_id + 4, &[0x22; 8]);
    trailing.extend_from_slice(&[0; 4]);
    let second = encode_frame(Framing::Full, &trailing, 1, &[]);
    let codes: Vec<u8> = [-404i32, -429, -444, -7].iter().flat_map(|c| c.to_le_bytes()).collect();
    let packets = [
        ip_tcp(c, s, 1000, None, true, false, &[]),
        ip_tcp(s, c, 5000, Some(1001), true, false, &[]),
        ip_tcp(c, s, 1001, Some(5001), false, false, &first),
        ip_tcp(c, s, 1001 + first.len() as u32, Some(5001), false, false, &second),
        ip_tcp(s, c, 5001, Some(1001 + (first.len() + second.len()) as u32), false, false, &codes),
    ];
    // A sixth packet: an IPv4 fragment (more-fragments flag set).
    let mut fragment = ip_tcp(c, s, 9999, Some(5001), false, false, b"lost");
    fragment[6] |= 0x20;
    let packets: Vec<Vec<u8>> = packets.into_iter().chain([fragment]).collect();
    // One thread and several give the same report.
    let (status, text) = report(&pcap(&packets), "1");
    assert_eq!(report(&pcap(&packets), "3"), (status, text.clone()));
    assert!(
        text.lines().any(|l| l.ends_with(
            "packet 6: an IP fragment (fragment reassembly is not supported; its bytes are missing from the stream)"
        )),
        "{text}"
    );
    assert_eq!(status, ExitStatus::Ok, "{text}");
    for want in [
        "transport error -404 (auth key not found) at stream offset 0",
        "transport error -429 (too many connections) at stream offset 4",
        "transport error -444 (invalid DC) at stream offset 8",
        "transport error -7 at stream offset 12",
        &format!("unencrypted message {}: 4 bytes after the length its header gives", msg_id + 4),
    ] {
        let line = text.lines().find(|l| l.contains(want)).unwrap_or_else(|| panic!("no {want:?} in:\n{text}"));
        assert!(line.contains("149.154.167.50:443") && line.contains("10.0.0.1:50000"), "{line}");
    }
}
