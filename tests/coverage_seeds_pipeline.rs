//! The coverage seeds of the whole-pipeline fuzz target `pcap_pipeline`
//! (and one of `faketls`) that `tests/coverage_seeds.rs` does not write:
//! captures of several
//! connections that the target's sampled run with small connection limits
//! (`pipeline_runs::small_connection_limits` in
//! `tests/support/fuzzing/`) picks, with the limits each one asks for, so
//! that the committed corpus reaches the forgetting of open connections and
//! the early dropping of closed ones, on one thread and on two. Every seed
//! is named `cov-limits-<what it holds>`. The faketls seed is a hello cut
//! short, which reaches the refusal of a ClientHello record that cannot be
//! parsed.
//!
//! `CORPUS_WRITE=1 cargo test --test coverage_seeds_pipeline -- --ignored`
//! rewrites them (deterministically: the same bytes every time). Without
//! `CORPUS_WRITE`, the test only builds them and checks that each is picked
//! with the limits it was made for and passes the target's property, which
//! `tests/corpus_replay.rs` also does for the committed files.

use std::fs;
use std::path::Path;

use inspector::pipeline::PipelineOptions;
use inspector::report::{run_capture, run_report, JsonReport, ReportFormat, ReportOptions};
use inspector::tcp::Direction;
use inspector::transport::{Framing, TransportConnection, TransportOptions};
use inspector_tests::fixtures::{self, CaptureSpec, ConnectionSpec, Conversation, Format, Link, Transport};
use inspector_tests::fuzzing::{limits_choice, Checks};

type Seeds = Vec<(String, Vec<u8>)>;

/// Messages per connection in the `cov-limits-*` seeds: the standard
/// conversation's first four (an unencrypted pair, then an encrypted request
/// in invokeWithLayer › initConnection and its answer in a container).
/// Until 2026-12-06 they held all ten, 4 to 12 KB per seed; libFuzzer's
/// vanilla schedule mutates the largest seeds most, and their mutants, as
/// large, made most of the target's executions slow. Four keep every
/// connection interleaved with the others, so the limits still forget them
/// (the test below counts it).
const LIMITS_MESSAGES: usize = 4;

/// A legacy pcap capture (little-endian, Ethernet) of one connection per
/// transport, each with its own msg_ids; connections start a third of a
/// millisecond apart, so their packets interleave.
fn capture(transports: &[Transport], no_close: bool) -> Vec<u8> {
    let connections = transports
        .iter()
        .enumerate()
        .map(|(n, t)| {
            let mut c = ConnectionSpec::new(t.clone());
            let mut conversation = Conversation::numbered(1000 * n as u32);
            conversation.messages.truncate(LIMITS_MESSAGES);
            conversation.expected.retain(|e| e.message < LIMITS_MESSAGES);
            c.conversation = conversation;
            c.segmenting.no_close = no_close;
            c
        })
        .collect();
    let spec = CaptureSpec {
        format: Format::Pcap { big_endian: false, nanos: false },
        links: vec![Link::Ethernet],
        connections,
        truncate: 0,
    };
    fixtures::build(&spec).bytes
}

/// `bytes` (a legacy pcap file) with its header's `sigfigs` field, which
/// readers ignore, set so that the pcap_pipeline target runs it with the
/// connection limits `want`, and so that its byte sum is a multiple of 32
/// (which makes the target also compare one thread with two and run the
/// text report: see `coverage_seeds.rs`'s `sampled_everything`).
fn picked_with(bytes: Vec<u8>, want: (usize, usize)) -> Vec<u8> {
    fixtures::with_sigfigs(bytes, fixtures::sum_to_multiple_of_32, |b| limits_choice(b, Checks::Sampled) == Some(want))
        .unwrap_or_else(|| panic!("no sigfigs value picks the limits {want:?}"))
}

fn pipeline_limit_seeds() -> Seeds {
    let plain = Transport::plain(Framing::Intermediate);
    let obfuscated = Transport::obfuscated(Framing::Abridged);
    let full = Transport::plain(Framing::Full);
    let two = || capture(&[plain.clone(), obfuscated.clone()], false);
    let three = || capture(&[plain.clone(), obfuscated.clone(), full.clone()], false);
    vec![
        // One held: every packet of the other connection forgets the one held.
        ("cov-limits-two-connections-one-held".into(), picked_with(two(), (1, 0))),
        // Two held, of three open at once: the least recently active goes.
        ("cov-limits-three-connections-two-held".into(), picked_with(three(), (2, 1))),
        // Never closed: forgotten while open up to the end.
        (
            "cov-limits-three-open-connections-one-held".into(),
            picked_with(capture(&[plain.clone(), obfuscated.clone(), full.clone()], true), (1, 2)),
        ),
        // Within the limits: the reassembler's events, and so the report,
        // are those of the default limits.
        ("cov-limits-two-connections-three-held".into(), picked_with(two(), (3, 2))),
        // One connection, dropped as soon as it closes (no closed one kept).
        (
            "cov-limits-one-connection-none-closed-kept".into(),
            picked_with(capture(std::slice::from_ref(&plain), false), (1, 0)),
        ),
    ]
}

/// pcap_pipeline: a client's `ping` (a service message, sent as a query:
/// odd seq_no), which the server answers with an `rpc_error`: the answer
/// is another method's (`ping`'s), not an unmatched exportChatInvite
/// answer. Byte sum a multiple of 32, like the other seeds.
fn ping_seed() -> Vec<u8> {
    use fixtures::{msg_id, Message};
    let id = |n: u32, server: bool| msg_id(n, server);
    let ping = [0x7abe_77ecu32.to_le_bytes().as_slice(), &77i64.to_le_bytes()].concat();
    let rpc_error =
        [0x2144_ca19u32.to_le_bytes().as_slice(), &420i32.to_le_bytes(), &[4, b'F', b'L', b'O', b'O', 0, 0, 0]]
            .concat();
    let message = |server: bool, n: u32, body: Vec<u8>| Message {
        direction: if server { Direction::ServerToClient } else { Direction::ClientToServer },
        msg_id: id(n, server),
        seq_no: 1,
        body,
        encrypted: true,
    };
    let mut c = ConnectionSpec::new(Transport::plain(Framing::Intermediate));
    c.conversation = Conversation {
        messages: vec![message(false, 1, ping), message(true, 2, fixtures::rpc_result(id(1, false), &rpc_error))],
        expected: Vec::new(),
    };
    let bytes = fixtures::build(&CaptureSpec::single(c)).bytes;
    fixtures::with_sigfigs(bytes, fixtures::sum_to_multiple_of_32, |_| true).expect("a legacy pcap file")
}

/// faketls: hostile bytes (an even first byte, no valid handshake in
/// front, then one chunk of 1,785 bytes) that open like a ClientHello
/// record (a handshake record whose first byte says ClientHello) but end
/// inside the hello, before its version: the hello is refused as not a TLS
/// ClientHello, and the connection fails.
fn faketls_seeds() -> Seeds {
    let hello_cut = [&[0x00, 0xff][..], &[0x16, 0x03, 0x01, 0x00, 0x05], &[0x01, 0x00, 0x00, 0x01, 0x03]].concat();
    vec![("cov-hello-ends-before-its-version".into(), hello_cut)]
}

/// A fuzz target's property, as its replay calls it.
type Property = fn(&[u8]);

fn all_seeds() -> Vec<(&'static str, Seeds, Property)> {
    vec![
        ("pcap_pipeline", pipeline_limit_seeds(), inspector_tests::fuzzing::pcap_pipeline),
        (
            "pcap_pipeline",
            vec![("cov-ping-answered-by-rpc-error".into(), ping_seed())],
            inspector_tests::fuzzing::pcap_pipeline,
        ),
        ("faketls", faketls_seeds(), inspector_tests::faketls_props::faketls),
    ]
}

#[test]
#[ignore = "writes corpus/; run with CORPUS_WRITE=1 to regenerate the coverage seeds"]
fn regenerate_pipeline_coverage_seeds() {
    let write = std::env::var_os("CORPUS_WRITE").is_some();
    for (target, seeds, property) in all_seeds() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
        for (name, data) in &seeds {
            property(data);
            if write {
                fs::write(dir.join(name), data).expect("seed written");
            }
        }
        eprintln!("{target}: {} seeds", seeds.len());
    }
}

/// How many open connections the pipeline forgets in `data` with the
/// connection limits `limits` (what its warnings say).
fn forgotten_open(data: &[u8], limits: (usize, usize)) -> usize {
    let mut keys = inspector::envelope::KeyStore::new();
    keys.insert(fixtures::fixture_key());
    let options = PipelineOptions { keys, connection_limits: Some(limits), ..PipelineOptions::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_report(data, options, 1, JsonReport::new(&mut out, &mut err, true)).expect("a seed is a capture");
    let err = String::from_utf8(err).expect("warnings are UTF-8");
    let first = err.lines().filter(|l| l.contains(" forgotten: more than ")).count();
    let all = err.lines().find_map(|l| {
        let n = l.strip_prefix("warning: ")?.split_once(" open connections were forgotten in all")?.0;
        n.parse::<usize>().ok()
    });
    all.unwrap_or(first)
}

/// The seeds do what their names say, and the committed ones are the
/// generator's bytes.
#[test]
fn pipeline_coverage_seeds_are_committed() {
    for (name, data) in pipeline_limit_seeds() {
        let limits =
            limits_choice(&data, Checks::Sampled).unwrap_or_else(|| panic!("{name}: not run with small limits"));
        // What the limits do to it: the "held" seeds of more connections
        // than held forget open ones again and again, the others none.
        let n = forgotten_open(&data, limits);
        let within = name.ends_with("three-held") || name.contains("one-connection");
        assert!(if within { n == 0 } else { n > 1 }, "{name}: {n} open connections forgotten with {limits:?}");
    }
    // The ping's rpc_error is ping's answer.
    let keys = {
        let mut k = inspector::envelope::KeyStore::new();
        k.insert(fixtures::fixture_key());
        k
    };
    let options = ReportOptions { keys, format: ReportFormat::Json, all: true, ..ReportOptions::default() };
    let mut out = Vec::new();
    run_capture(&ping_seed()[..], &options, &mut out, &mut Vec::new()).expect("the ping capture is read");
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let answer = lines.iter().find(|l| l["direction"] == "s2c" && l.get("kind").is_some()).expect("an answer line");
    assert_eq!((&answer["kind"], &answer["request"]), (&serde_json::json!("other_answer"), &serde_json::json!("ping")));
    // The cut hello, fed as the faketls target feeds it.
    let (_, hello) = faketls_seeds().remove(0);
    let options = TransportOptions {
        mtproxy_secret: Some(inspector_tests::faketls_props::ee_secret()),
        ..TransportOptions::default()
    };
    let mut conn = TransportConnection::new(options);
    let mut events = Vec::new();
    conn.feed(Direction::ClientToServer, &hello[2..], &mut events);
    let problems = inspector_tests::faketls_props::problem_texts(&events);
    assert!(
        problems.len() == 1 && problems[0].contains("not a TLS ClientHello: no version"),
        "the cut hello gives {problems:?}"
    );
    for (target, seeds, _) in all_seeds() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
        for (name, data) in seeds {
            let committed = fs::read(dir.join(&name)).unwrap_or_default();
            assert!(committed == data, "{target}/{name}: not committed as generated (CORPUS_WRITE=1 regenerates it)");
        }
    }
}
