//! A real client session: tests/fixtures/client_session/client_session.pcap,
//! Telethon 1.45.0 (layer 229) creating an auth key with a stub server and
//! making twenty-odd calls of an ordinary session, recorded by tcpdump
//! (generate.sh there). Its manifest.json lists every message as the
//! sender wrote it and the receiver read it (msg_id, direction, the chain
//! of constructors from the outermost to the content, the content's
//! bytes): the report of `inspector pcap` is compared with that, not with
//! anything the inspector computed.
//!
//! The client speaks layer 229, so its own schema (the TL text in
//! tests/fixtures/telethon/) is given with `--schema`; the built-in layer
//! 224 names what it holds and says which constructor it does not know.

use std::collections::{BTreeMap, BTreeSet};

use inspector::cli::ExitStatus;
use inspector::tl::dynamic::Schema;
use inspector_tests::cli::{cli, Output};
use serde_json::Value;

fn path(relative: &str) -> String {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    assert!(std::path::Path::new(&path).is_file(), "missing fixture {path}");
    path
}

fn capture() -> String {
    path("tests/fixtures/client_session/client_session.pcap")
}

fn key() -> String {
    format!("@{}", path("tests/fixtures/client_session/auth_key.hex"))
}

/// The client's own schema (layer 229), as `--schema` arguments.
fn telethon_schema() -> Vec<String> {
    ["api.tl", "mtproto.tl"]
        .iter()
        .flat_map(|f| ["--schema".to_string(), path(&format!("tests/fixtures/telethon/{f}"))])
        .collect()
}

/// `inspector pcap` on the session with the key and `extra` arguments.
fn pcap(extra: &[&str], schema: bool) -> Output {
    let (capture, key) = (capture(), key());
    let schema_args = if schema { telethon_schema() } else { Vec::new() };
    let mut args = vec!["pcap", capture.as_str(), "--auth-key", key.as_str()];
    args.extend(schema_args.iter().map(String::as_str));
    args.extend(extra);
    let out = cli(&args, b"");
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    // The only notes are the schema's (three mtproto.tl lines whose
    // published id is not their CRC32); no warning about the capture.
    assert!(out.stderr.lines().all(|l| l.starts_with("note: ")), "{}", out.stderr);
    out
}

/// One message of the manifest (a message of a container included; the
/// containers themselves are left out: the report lists what they hold).
#[derive(Debug)]
struct Sent {
    direction: String,
    msg_id: i64,
    seq_no: Option<i64>,
    encrypted: bool,
    container: Option<i64>,
    req_msg_id: Option<i64>,
    chain: Vec<String>,
    content: Vec<u8>,
}

impl Sent {
    fn name(&self) -> &str {
        self.chain.last().expect("a chain names at least the body")
    }
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "{text}");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn manifest() -> Vec<Sent> {
    let text = std::fs::read_to_string(path("tests/fixtures/client_session/manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let sent: Vec<Sent> = manifest["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| Sent {
            direction: m["direction"].as_str().unwrap().to_string(),
            msg_id: m["msg_id"].as_i64().unwrap(),
            seq_no: m["seq_no"].as_i64(),
            encrypted: m["encrypted"].as_bool().unwrap(),
            container: m["container"].as_i64(),
            req_msg_id: m["req_msg_id"].as_i64(),
            chain: m["chain"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect(),
            content: unhex(m["content_hex"].as_str().unwrap()),
        })
        .filter(|m| m.chain[0] != "msg_container")
        .collect();
    // A session, not a toy: the key exchange, the API calls and their
    // answers, service messages, containers, gzip_packed.
    assert!(sent.len() > 80, "{}", sent.len());
    let names: BTreeSet<&str> = sent.iter().map(Sent::name).collect();
    for name in ["req_pq_multi", "dh_gen_ok", "help.getConfig", "config", "messages.dialogs", "updateShort", "pong"] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    assert!(sent.iter().any(|m| m.container.is_some()));
    assert!(sent.iter().any(|m| m.chain.iter().any(|c| c == "gzip_packed")));
    sent
}

/// The report's message objects (not warnings or the summary), by msg_id.
fn json_messages(out: &Output) -> BTreeMap<i64, Value> {
    let mut by_id = BTreeMap::new();
    for line in out.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v.get("summary").is_some() || v.get("warning").is_some() {
            continue;
        }
        let id = v["msg_id"].as_i64().unwrap_or_else(|| panic!("no msg_id: {line}"));
        assert!(by_id.insert(id, v).is_none(), "msg_id {id} listed twice");
    }
    by_id
}

/// `pcap --all --format json` with the client's schema names every message
/// of the manifest, and nothing else: same msg_id, direction, seq_no,
/// wrappers and content constructor.
#[test]
fn every_message_is_named_with_its_msg_id_and_direction() {
    let sent = manifest();
    let report = json_messages(&pcap(&["--all", "--format", "json"], true));
    let expected: BTreeSet<i64> = sent.iter().map(|m| m.msg_id).collect();
    let got: BTreeSet<i64> = report.keys().copied().collect();
    assert_eq!(got, expected, "the report lists other messages than the manifest");
    for m in &sent {
        let v = &report[&m.msg_id];
        let context = format!("{m:?}\n{v}");
        assert_eq!(v["direction"], m.direction.as_str(), "{context}");
        assert_eq!(v["encrypted"], m.encrypted, "{context}");
        assert_eq!(v["seq_no"].as_i64(), m.seq_no, "{context}");
        // Named: an object with its constructor's name, or for a bare
        // vector (users.getUsers' Vector<User>) an array of them.
        let body = &v["body"];
        if m.name() == "vector" {
            assert!(body.as_array().is_some_and(|a| a.iter().all(|e| e["_"].is_string())), "{context}");
        } else {
            assert_eq!(body["_"], m.name(), "{context}");
        }
        assert!(body.get("error").is_none(), "{context}");
        // The wrappers, outermost first; an answer's rpc_result is given
        // by its req_msg_id instead.
        let answer = matches!(v["kind"].as_str(), Some("answer" | "other_answer"));
        let wrappers: Vec<&str> = m
            .container
            .map(|_| "msg_container")
            .into_iter()
            .chain(m.chain[..m.chain.len() - 1].iter().map(String::as_str))
            .filter(|w| !(answer && *w == "rpc_result"))
            .collect();
        assert_eq!(v["wrapping"], serde_json::json!(wrappers), "{context}");
        assert_eq!(v["req_msg_id"].as_i64(), m.req_msg_id, "{context}");
    }
}

/// Every body of the JSON report is in the canonical form: the encoder
/// (the one `inspector encode --schema` runs) takes it back to exactly the
/// content bytes the sender wrote.
#[test]
fn every_body_encodes_back_to_the_bytes_sent() {
    let sent = manifest();
    let report = json_messages(&pcap(&["--all", "--format", "json"], true));
    let texts: Vec<(String, String)> = ["api.tl", "mtproto.tl"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read_to_string(path(&format!("tests/fixtures/telethon/{f}"))).unwrap()))
        .collect();
    let named: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let schema = Schema::parse(&named).unwrap();
    for m in &sent {
        let body = &report[&m.msg_id]["body"];
        let bytes = match body.as_array() {
            // A bare vector: the Vector header, then each element.
            Some(items) => {
                let mut bytes = 0x1cb5_c415_u32.to_le_bytes().to_vec();
                bytes.extend((items.len() as u32).to_le_bytes());
                for item in items {
                    bytes.extend(schema.encode_json(item).unwrap_or_else(|e| panic!("{e}: {item}")));
                }
                bytes
            }
            None => schema.encode_json(body).unwrap_or_else(|e| panic!("{e}: {body}")),
        };
        assert!(bytes == m.content, "{} (msg_id {}): {body}", m.name(), m.msg_id);
    }
    // And through the command line, for a body of the closure (the typed
    // encoder) and one only the schema knows.
    let schema_args = telethon_schema();
    for name in ["messages.exportChatInvite", "messages.dialogs"] {
        let m = sent.iter().find(|m| m.name() == name).unwrap();
        let json = report[&m.msg_id]["body"].to_string();
        let mut args = vec!["encode"];
        args.extend(schema_args.iter().map(String::as_str));
        let out = cli(&args, json.as_bytes());
        assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
        let hex: String = m.content.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(out.stdout.trim(), hex, "{name}");
    }
}

/// The text report with `--all` gives each message of the manifest a
/// line (or a header and tree) with its msg_id, direction and name, and
/// nothing is left a bare constructor id.
#[test]
fn the_text_report_names_every_message() {
    let sent = manifest();
    let out = pcap(&["--all"], true);
    for m in &sent {
        let id = format!(" · msg_id {} ", m.msg_id);
        let line =
            out.stdout.lines().find(|l| l.contains(&id)).unwrap_or_else(|| panic!("msg_id {} missing", m.msg_id));
        assert!(line.contains(&format!(" · {} · ", m.direction)), "{line}");
        // A one-line message names its content after the last " · "; a
        // request or answer of the closure is named by the tree below.
        if !line.starts_with("request #") && !line.starts_with("answer to ") {
            let what = line.rsplit(" · ").next().unwrap();
            let named = match m.name() {
                "vector" => what.starts_with('['),
                name => what == name || what.starts_with(&format!("{name} ")),
            };
            assert!(named, "{} expected: {line}", m.name());
        }
    }
    assert!(!out.stdout.contains("constructor 0x"), "{}", out.stdout);
    assert!(!out.stdout.contains("undecodable"), "{}", out.stdout);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("client_session_text_all", out.stdout);
    });
}

/// The built-in layer 224 names every message whose constructors it
/// holds; the others are undecodable at a constructor that layer 229 has
/// and layer 224 does not (checked against the two TL texts), and say so.
#[test]
fn the_built_in_layer_names_what_it_holds() {
    let sent = manifest();
    let report = json_messages(&pcap(&["--all", "--format", "json"], false));
    let layer_224 = std::fs::read_to_string(path("inspector/tl/api.tl")).unwrap();
    let layer_229 = std::fs::read_to_string(path("tests/fixtures/telethon/api.tl")).unwrap();
    let mut undecodable = 0;
    for m in &sent {
        let body = &report[&m.msg_id]["body"];
        match body.get("error").and_then(Value::as_str) {
            None if m.name() == "vector" => assert!(body.is_array(), "{body}"),
            None => assert_eq!(body["_"], m.name(), "{body}"),
            Some(error) => {
                undecodable += 1;
                let id = error.rsplit("constructor 0x").next().unwrap();
                assert_eq!(id.len(), 8, "{error}");
                // The TL text may leave out an id's leading zeros.
                let forms = [format!("#{id} "), format!("#{} ", id.trim_start_matches('0'))];
                assert!(!forms.iter().any(|f| layer_224.contains(f)), "{error}: in layer 224");
                assert!(forms.iter().any(|f| layer_229.contains(f)), "{error}: not in layer 229");
            }
        }
    }
    // Most of the session is named without any file; what is not holds
    // users and messages, whose constructors changed after layer 224.
    assert!(undecodable > 0 && undecodable * 4 < sent.len(), "{undecodable} of {}", sent.len());
}

/// `--method` chooses the methods shown in full, replacing the default
/// messages.exportChatInvite: given contacts.resolveUsername, its request
/// and answer get trees and exportChatInvite's do not (with `--all` they
/// are one line each, like any other method's).
#[test]
fn method_replaces_the_default() {
    let sent = manifest();
    let default = pcap(&[], true).stdout;
    assert_eq!(default.matches("\nrequest #").count(), 5, "{default}");
    let resolve = pcap(&["--method", "contacts.resolveUsername"], true).stdout;
    assert!(!resolve.contains("request #"), "{resolve}");
    assert!(!resolve.contains("messages.exportChatInvite"), "{resolve}");
    assert_eq!(resolve.matches("contacts.resolveUsername#725afbbc → contacts.ResolvedPeer").count(), 2, "{resolve}");
    let found = sent.iter().find(|m| m.name() == "contacts.resolvedPeer").unwrap();
    let answer = format!("answer to msg_id {}, a contacts.resolveUsername request · ", found.req_msg_id.unwrap());
    assert!(resolve.contains(&answer), "{resolve}");
    assert!(resolve.contains("contacts.resolvedPeer#7f077ad9 of type contacts.ResolvedPeer"), "{resolve}");
    assert!(resolve.contains(", 0 requests,"), "{resolve}");

    // Both: exportChatInvite's blocks are the default's, byte for byte.
    let both = pcap(&["--method", "contacts.resolveUsername", "--method", "messages.exportChatInvite"], true).stdout;
    let blocks = |text: &str| -> Vec<String> {
        let blocks = text.split("\n\n").map(str::trim);
        blocks.filter(|b| b.contains("chatInvite") || b.contains("exportChatInvite")).map(String::from).collect()
    };
    assert_eq!(blocks(&both), blocks(&default));
    assert!(both.contains(&answer), "{both}");
    // Naming only the default is the default.
    assert_eq!(pcap(&["--method", "messages.exportChatInvite"], true).stdout, default);

    // With --all the exportChatInvite requests and answers are one line each.
    let all = pcap(&["--all", "--method", "contacts.resolveUsername"], true).stdout;
    for m in sent.iter().filter(|m| matches!(m.name(), "messages.exportChatInvite" | "chatInviteExported")) {
        let line = all.lines().find(|l| l.contains(&format!(" · msg_id {} ", m.msg_id))).unwrap();
        assert!(line.rsplit(" · ").next().unwrap().starts_with(&format!("{} ", m.name())), "{line}");
    }
}
