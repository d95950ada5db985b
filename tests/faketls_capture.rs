//! A fake-TLS MTProxy capture made by implementations we did not write
//! (Telethon + TelethonFakeTLS as the client, mtprotoproxy as the proxy;
//! tests/fixtures/faketls/generate.sh), carrying the messages of the real
//! abridged capture: the inspector must find the same requests and answers
//! in it, given the proxy's ee secret and the auth key.

use inspector::envelope::{parse_auth_key, KeyStore};
use inspector::report::{run_capture, ReportFormat, ReportOptions};
use inspector::transport::{parse_mtproxy_secret, TransportOptions};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/faketls/");
const CAPTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/");

fn report(capture: &str, secret: Option<Vec<u8>>) -> (Vec<serde_json::Value>, String) {
    let bytes = std::fs::read(capture).expect("the capture");
    let mut keys = KeyStore::new();
    keys.insert(parse_auth_key(&std::fs::read(format!("{CAPTURES}auth_key.hex")).unwrap()).unwrap());
    let options = ReportOptions {
        keys,
        format: ReportFormat::Json,
        all: true,
        transport: TransportOptions { mtproxy_secret: secret, ..Default::default() },
        ..Default::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_capture(&bytes[..], &options, &mut out, &mut err).expect("the capture is read");
    let lines = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (lines, String::from_utf8(err).unwrap())
}

fn secret() -> Vec<u8> {
    parse_mtproxy_secret(std::fs::read_to_string(format!("{FIXTURES}secret.txt")).unwrap().trim()).unwrap()
}

/// What the lines say about the messages, without when and over what, in
/// a fixed order (the stub answered after all the requests, not between
/// them); and the summary without the packet count.
fn contents(lines: &[serde_json::Value]) -> (Vec<String>, serde_json::Value) {
    let mut messages: Vec<String> = lines
        .iter()
        .filter(|l| l.get("summary").is_none())
        .map(|l| {
            let mut l = l.clone();
            let o = l.as_object_mut().unwrap();
            for k in ["time", "connection", "transport"] {
                o.remove(k);
            }
            l.to_string()
        })
        .collect();
    messages.sort();
    let mut summary = lines.last().unwrap()["summary"].clone();
    summary.as_object_mut().unwrap().remove("packets");
    (messages, summary)
}

#[test]
fn the_messages_through_mtprotoproxy_are_those_of_the_real_capture() {
    let (lines, warnings) = report(&format!("{FIXTURES}mtprotoproxy.pcap"), Some(secret()));
    assert_eq!(warnings, "");
    let (original, _) = report(&format!("{CAPTURES}abridged.pcap"), None);
    assert!(original.len() >= 8, "the original capture has its messages");
    let (got, got_summary) = contents(&lines);
    let (expected, expected_summary) = contents(&original);
    assert!(got == expected, "the messages differ from the original capture's");
    assert_eq!(got_summary, expected_summary);
    assert_eq!(got_summary["matched"], 5);
    // mtprotoproxy's secret names www.example.com; TelethonFakeTLS sends
    // it as the SNI, with the time it ran (the capture's own clock).
    let transport = lines[0]["transport"].as_str().unwrap();
    let time = lines[0]["time"].as_str().unwrap();
    assert!(
        transport.starts_with("mtproxy+faketls(sni www.example.com, time ")
            && transport.ends_with(")+padded_intermediate"),
        "{transport}"
    );
    // The client's clock and the capture's agree to the second or so.
    let hello_time = &transport["mtproxy+faketls(sni www.example.com, time ".len()..][..16];
    assert_eq!(hello_time, &time[..16], "hello time {transport} vs capture time {time}");
}

#[test]
fn a_wrong_secret_is_named_as_such() {
    let mut wrong = secret();
    wrong[5] ^= 1;
    let (lines, warnings) = report(&format!("{FIXTURES}mtprotoproxy.pcap"), Some(wrong));
    assert!(warnings.contains("the ClientHello's random does not verify with this secret"), "{warnings}");
    assert!(lines.iter().all(|l| l["kind"] != "request"), "nothing is decoded with a wrong secret");
}

#[test]
fn without_the_secret_the_hello_is_still_named() {
    let (_, warnings) = report(&format!("{FIXTURES}mtprotoproxy.pcap"), None);
    assert!(
        warnings.contains("a fake-TLS MTProxy connection (faketls(sni www.example.com, time unverified), hello of 517 bytes); reading it needs the proxy's ee secret"),
        "{warnings}"
    );
}

/// ClientHellos built by mtcute (tests/fixtures/faketls/mtcute_hellos.mjs):
/// TDLib's layout, about 1.8 KB, extensions shuffled, with a client CCS.
#[test]
fn mtcute_hellos_verify_and_carry_a_connection() {
    use inspector::tcp::Direction;
    use inspector::transport::{
        encode_frame, encode_records, encode_server_flight, parse_client_hello, verify_client_hello, Framing,
        Obfuscator, TransportConnection, TransportEvent,
    };
    let full = secret();
    let key = &full[1..17];
    let list = std::fs::read_to_string(format!("{FIXTURES}mtcute-hellos.txt")).unwrap();
    let mut seen = 0;
    for line in list.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (domain, len, from, to): (&str, usize, u32, u32) =
            (f[0], f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap());
        let hello = std::fs::read(format!("{FIXTURES}mtcute-hello-{domain}.bin")).unwrap();
        assert_eq!(hello.len(), len);
        let time = verify_client_hello(&hello, key).unwrap_or_else(|| panic!("{domain}: the hello does not verify"));
        assert!((from..=to).contains(&time), "{domain}: time {time} outside {from}..={to}");
        assert_eq!(parse_client_hello(&hello).unwrap().sni.as_deref(), Some(domain));

        // mtcute's connection after the hello: CCS, then records of at
        // most 2878 bytes, the obfuscation header in the first one.
        let message: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 1) as u8 | 1).collect();
        let message = message[..24 + 16 * 60].to_vec();
        let random: [u8; 64] = std::array::from_fn(|i| (i as u8).wrapping_mul(11).wrapping_add(0x33));
        let (mut obf, header) = Obfuscator::new(Framing::PaddedIntermediate, random, 2, Some(key));
        let mut stream = encode_frame(Framing::PaddedIntermediate, &message, 0, &[1, 2, 3]).repeat(5);
        obf.apply(Direction::ClientToServer, &mut stream);
        let mut c2s = hello.clone();
        c2s.extend_from_slice(&[0x14, 3, 3, 0, 1, 1]);
        c2s.extend(encode_records(&[&header[..], &stream].concat(), &[2878]));
        let mut conn =
            TransportConnection::new(TransportOptions { mtproxy_secret: Some(full.clone()), ..Default::default() });
        let mut out = Vec::new();
        conn.feed(Direction::ServerToClient, &encode_server_flight(key, &hello, &[7; 1000]), &mut out);
        for chunk in c2s.chunks(1460) {
            conn.feed(Direction::ClientToServer, chunk, &mut out);
        }
        let frames = out.iter().filter(|e| matches!(e, TransportEvent::Frame(f) if f.payload == message)).count();
        let problems = inspector_tests::faketls_props::problem_texts(&out);
        // Only the SNI differs from the secret's domain, and says so.
        let expected: Vec<String> = if domain == "www.example.com" {
            vec![]
        } else {
            vec![format!(
                "c2s stream offset 0 in faketls.hello.sni: the ClientHello names {domain}, the secret www.example.com"
            )]
        };
        assert_eq!(problems, expected, "{domain}");
        assert_eq!(frames, 5, "{domain}");
        seen += 1;
    }
    assert_eq!(seen, 3);
}
