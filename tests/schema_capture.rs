//! `inspector pcap --all` with a schema: the messages the closure does not
//! hold (another method's request, its result, an answer to it) are listed
//! by name with their fields, in text and in JSON, and an id the schema
//! does not know stays an id and a length. The capture is synthetic
//! (tests/support/fixtures.rs), so every byte of each body is known here.

use inspector::envelope::KeyStore;
use inspector::report::{run_capture, ReportFormat, ReportOptions};
use inspector::tcp::Direction;
use inspector::tl::dynamic::Schema;
use inspector_tests::fixtures::*;
use serde_json::{json, Value};

/// contacts.resolveUsername#725afbbc flags:# username:string referer:flags.0?string
fn resolve_username() -> Vec<u8> {
    let mut b = 0x725a_fbbcu32.to_le_bytes().to_vec();
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&[5, b'd', b'u', b'r', b'o', b'v', 0, 0]);
    b
}

/// updates.state#a56c2a3e pts:int qts:int date:int seq:int unread_count:int
fn updates_state() -> Vec<u8> {
    let mut b = 0xa56c_2a3eu32.to_le_bytes().to_vec();
    for v in [10i32, 20, 1_760_000_000, 30, 40] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

fn capture() -> Fixture {
    let mut conversation = Conversation::default();
    let (c2s, s2c) = (Direction::ClientToServer, Direction::ServerToClient);
    let req = msg_id(1, false);
    let bodies = [
        (c2s, req, 1, resolve_username()),
        (s2c, msg_id(1, true), 1, rpc_result(req, &updates_state())),
        (c2s, msg_id(2, false), 3, 0x0bad_b0b0u32.to_le_bytes().repeat(2)),
        // updates.getState#edd4882a = updates.State, and its answer.
        (c2s, msg_id(3, false), 5, 0xedd4_882au32.to_le_bytes().to_vec()),
        (s2c, msg_id(3, true), 3, rpc_result(msg_id(3, false), &updates_state())),
    ];
    for (direction, msg_id, seq_no, body) in bodies {
        conversation.messages.push(Message { direction, msg_id, seq_no, body, encrypted: true });
    }
    let mut connection = ConnectionSpec::new(Transport::plain(inspector::transport::Framing::Intermediate));
    connection.conversation = conversation;
    build(&CaptureSpec::single(connection))
}

fn report(format: ReportFormat, schema: Option<&'static Schema>, threads: usize) -> String {
    run(ReportOptions { format, all: true, schema, threads, ..Default::default() })
}

fn run(options: ReportOptions) -> String {
    let fixture = capture();
    let mut keys = KeyStore::new();
    keys.insert(fixture.key.clone());
    let options = ReportOptions { keys, ..options };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_capture(&fixture.bytes[..], &options, &mut out, &mut err).expect("the capture is read");
    assert_eq!(String::from_utf8_lossy(&err), "");
    String::from_utf8(out).unwrap()
}

/// The part of each listed line after its header.
fn tails(text: &str) -> Vec<String> {
    text.lines().filter(|l| l.contains(" · msg_id ")).map(|l| l.rsplit(" · ").next().unwrap().to_string()).collect()
}

#[test]
fn other_methods_are_named_and_decoded_in_one_line() {
    let text = report(ReportFormat::Text, Some(Schema::builtin()), 1);
    assert_eq!(
        tails(&text),
        [
            "contacts.resolveUsername username=\"durov\"",
            "updates.state pts=10 qts=20 date=1760000000 seq=30 unread_count=40",
            "constructor 0x0badb0b0, 8 bytes",
            "updates.getState",
            "updates.state pts=10 qts=20 date=1760000000 seq=30 unread_count=40",
        ],
        "{text}"
    );
    // Without a schema, as before: ids and lengths.
    let bare = report(ReportFormat::Text, None, 1);
    assert_eq!(
        tails(&bare),
        [
            "constructor 0x725afbbc, 16 bytes",
            "constructor 0xa56c2a3e, 24 bytes",
            "constructor 0x0badb0b0, 8 bytes",
            "constructor 0xedd4882a, 4 bytes",
            "constructor 0xa56c2a3e, 24 bytes",
        ],
        "{bare}"
    );
    // The answer is attributed to the request, now named by the schema.
    assert_eq!(report(ReportFormat::Text, Some(Schema::builtin()), 2), text);
}

#[test]
fn json_lines_carry_the_body_in_the_extended_canonical_form() {
    let text = report(ReportFormat::Json, Some(Schema::builtin()), 1);
    let bodies: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["kind"] == "other")
        .map(|l| l["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"_": "contacts.resolveUsername", "flags": 0, "username": "durov", "referer": null}),
            json!({"_": "updates.state", "pts": 10, "qts": 20, "date": 1_760_000_000, "seq": 30, "unread_count": 40}),
            json!({"_": "0x0badb0b0", "length": 8}),
            json!({"_": "updates.getState"}),
            json!({"_": "updates.state", "pts": 10, "qts": 20, "date": 1_760_000_000, "seq": 30, "unread_count": 40}),
        ],
        "{text}"
    );
    assert_eq!(report(ReportFormat::Json, Some(Schema::builtin()), 3), text);
}

/// `--method`: that method's requests and the answers to them get the
/// whole tree, the answer read as the type the request returns; nothing
/// else is listed without `--all`.
#[test]
fn a_chosen_method_is_shown_in_full() {
    let options = |methods: &[&str]| ReportOptions {
        format: ReportFormat::Text,
        schema: Some(Schema::builtin()),
        tree_methods: methods.iter().map(|m| m.to_string()).collect(),
        ..Default::default()
    };
    let text = run(options(&["updates.getState"]));
    let body: Vec<&str> = text.lines().filter(|l| !l.contains(" · msg_id ") && !l.starts_with("summary")).collect();
    assert_eq!(
        body,
        [
            "",
            "0x0000..0x0004  updates.getState#edd4882a → updates.State (4 bytes)",
            "",
            "0x0000..0x0018  updates.state#a56c2a3e of type updates.State (24 bytes)",
            "0x0004..0x0008  ├── pts: int = 10",
            "0x0008..0x000c  ├── qts: int = 20",
            "0x000c..0x0010  ├── date: int = 1760000000 (2025-10-09 08:53:20 UTC)",
            "0x0010..0x0014  ├── seq: int = 30",
            "0x0014..0x0018  └── unread_count: int = 40",
            "",
        ],
        "{text}"
    );
    let headers: Vec<&str> = text.lines().filter(|l| l.contains(" · msg_id ")).collect();
    assert_eq!(headers.len(), 2, "{text}");
    let request = msg_id(3, false);
    assert!(headers[1].starts_with(&format!("answer to msg_id {request}, a updates.getState request · ")), "{text}");
    // resolveUsername's answer is not a contacts.ResolvedPeer: the header says so.
    let wrong = run(options(&["contacts.resolveUsername"]));
    assert!(
        wrong.contains(
            " · undecodable: error at byte 0x0: expected contacts.ResolvedPeer, found updates.state#a56c2a3e"
        ),
        "{wrong}"
    );
}
