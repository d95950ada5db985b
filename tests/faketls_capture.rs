//! A fake-TLS MTProxy capture made by implementations we did not write
//! (Telethon + TelethonFakeTLS as the client, mtprotoproxy as the proxy;
//! tests/fixtures/faketls/generate.sh), carrying the messages of the real
//! abridged capture: the inspector must find the same requests and answers
//! in it, given the proxy's ee secret and the auth key.

use inspector::envelope::{parse_auth_key, KeyStore};
use inspector::pcap_cmd::{run_pcap, PcapOptions, ReportFormat};
use inspector::transport::{parse_mtproxy_secret, TransportOptions};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/faketls/");
const CAPTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/");

fn report(capture: &str, secret: Option<Vec<u8>>) -> (Vec<serde_json::Value>, String) {
    let bytes = std::fs::read(capture).expect("the capture");
    let mut keys = KeyStore::new();
    keys.insert(parse_auth_key(&std::fs::read(format!("{CAPTURES}auth_key.hex")).unwrap()).unwrap());
    let options = PcapOptions {
        keys,
        format: ReportFormat::Json,
        all: true,
        transport: TransportOptions { mtproxy_secret: secret, ..Default::default() },
        ..Default::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_pcap(&bytes[..], &options, &mut out, &mut err).expect("the capture is read");
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
