//! The command line, run in-process through `inspector::cli::run` with
//! captured streams: every subcommand, format and exit status, and the
//! round trip `decode --format json | encode`. (inspector/tests/binary.rs
//! runs the real binary for what only a process shows.)

use inspector::cli::{run, ExitStatus, Io};
use inspector::tl::TlObject;
use inspector_tests::cli::cli;
use inspector_tests::matrix;

const WORKED_EXAMPLE: &str = "90de55a4 39000000 40082abd 4ca5e8dd 0100000000000000 0200000000000000
03000000 0400000000000000 64000000 01740000 586d4105 008d2700 0500000000000000\n";

fn hex(bytes: &[u8]) -> String {
    inspector::hex::encode(bytes)
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn decode_prints_the_tree_by_default() {
    let out = cli(&["decode"], WORKED_EXAMPLE.as_bytes());
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert!(out.stderr.is_empty());
    assert!(!out.stdout.contains('\x1b'), "no colour when piped");
    snapshot!("cli_decode_tree", out.stdout);
}

#[test]
fn decode_accepts_hex_base64_and_raw_alike() {
    let bytes = inspector::hex::parse(WORKED_EXAMPLE).unwrap();
    let b64 = "kN5VpDkAAABACCq9TKXo3QEAAAAAAAAAAgAAAAAAAAADAAAABAAAAAAAAABkAAAAAXQAAFhtQQUAjScABQAAAAAAAAA=";
    let tree = cli(&["decode"], WORKED_EXAMPLE.as_bytes()).stdout;
    for (args, input) in [
        (vec!["decode"], bytes.clone()),
        (vec!["decode", "--input", "raw"], bytes.clone()),
        (vec!["decode"], b64.as_bytes().to_vec()),
        (vec!["decode", "--input", "base64"], b64.as_bytes().to_vec()),
        (vec!["decode", "--input", "hex"], format!("0x{}", hex(&bytes)).into_bytes()),
    ] {
        let out = cli(&args, &input);
        assert_eq!((out.status, &out.stdout), (ExitStatus::Ok, &tree), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn decode_reads_a_file_and_dash_means_stdin() {
    let dir = std::env::temp_dir().join(format!("inspector-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("frame.hex");
    std::fs::write(&file, WORKED_EXAMPLE).unwrap();
    let from_file = cli(&["decode", file.to_str().unwrap()], b"");
    let from_dash = cli(&["decode", "-"], WORKED_EXAMPLE.as_bytes());
    assert_eq!(from_file.status, ExitStatus::Ok);
    assert_eq!(from_file.stdout, from_dash.stdout);
    let missing = cli(&["decode", dir.join("missing.hex").to_str().unwrap()], b"");
    assert_eq!(missing.status, ExitStatus::Usage);
    assert!(missing.stderr.starts_with("inspector: cannot read "), "{}", missing.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decode_json_and_hexdump() {
    let json = cli(&["decode", "--format", "json"], WORKED_EXAMPLE.as_bytes());
    assert_eq!(json.status, ExitStatus::Ok);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["flags"], 57);
    assert_eq!(value["peer"]["peer"]["_"], "inputPeerUser");
    let dump = cli(&["decode", "--format", "hexdump"], WORKED_EXAMPLE.as_bytes());
    assert_eq!(dump.status, ExitStatus::Ok);
    snapshot!("cli_decode_hexdump", dump.stdout);
}

#[test]
fn json_output_encodes_back_to_the_same_bytes() {
    let mut frames: Vec<Vec<u8>> = matrix::requests().iter().step_by(37).map(|(_, r)| r.to_bytes().unwrap()).collect();
    frames.extend(matrix::snapshot_answers().iter().map(|(_, f)| f.to_bytes().unwrap()));
    for bytes in frames {
        let json = cli(&["decode", "--format", "json"], hex(&bytes).as_bytes());
        assert_eq!(json.status, ExitStatus::Ok);
        let encoded = cli(&["encode"], json.stdout.as_bytes());
        assert_eq!(encoded.status, ExitStatus::Ok, "{}", encoded.stderr);
        assert_eq!(encoded.stdout.trim(), hex(&bytes));
        let raw = cli(&["encode", "--output", "raw"], json.stdout.as_bytes());
        assert_eq!(raw.raw_stdout, bytes);
        let b64 = cli(&["encode", "--output", "base64"], json.stdout.as_bytes());
        assert_eq!(inspector::input::parse_base64(&b64.stdout).unwrap(), bytes);
    }
}

#[test]
fn encode_derives_flags_and_names_bad_fields() {
    let ok = cli(&["encode"], br#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerSelf"},"usage_limit":5}"#);
    assert_eq!((ok.status, ok.stdout.as_str()), (ExitStatus::Ok, "90de55a402000000c97ea07d05000000\n"));
    let cases: &[(&str, &str)] = &[
        ("flags disagree", r#"{"_":"messages.exportChatInvite","flags":1,"peer":{"_":"inputPeerSelf"}}"#),
        ("unknown field", r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerSelf"},"titel":"x"}"#),
        ("unknown nested field", r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerChat","chat_id":1,"x":2}}"#),
        ("missing peer", r#"{"_":"messages.exportChatInvite"}"#),
        (
            "missing nested field",
            r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerUserFromMessage","peer":{"_":"inputPeerSelf"},"msg_id":1}}"#,
        ),
        (
            "int out of range",
            r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerSelf"},"expire_date":2147483648}"#,
        ),
        (
            "long out of range",
            r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerChat","chat_id":9223372036854775808}}"#,
        ),
        ("float for an int", r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerSelf"},"usage_limit":1.5}"#),
        ("string for an int", r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerSelf"},"usage_limit":"5"}"#),
        ("number for a string", r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerSelf"},"title":5}"#),
        (
            "string for a true flag",
            r#"{"_":"messages.exportChatInvite","peer":{"_":"inputPeerSelf"},"request_needed":"yes"}"#,
        ),
        (
            "wrong type for the peer",
            r#"{"_":"messages.exportChatInvite","peer":{"_":"starsSubscriptionPricing","period":1,"amount":2}}"#,
        ),
        ("unknown constructor", r#"{"_":"messages.exportChatInvites","peer":{"_":"inputPeerSelf"}}"#),
        ("no constructor", r#"{"peer":{"_":"inputPeerSelf"}}"#),
        ("not an object", r#"[1,2,3]"#),
        ("not JSON", r#"{"_":"#),
        ("flags on a constructor without flags", r#"{"_":"rpc_error","flags":0,"error_code":1,"error_message":"x"}"#),
    ];
    let mut out = String::new();
    for (name, json) in cases {
        let r = cli(&["encode"], json.as_bytes());
        assert_eq!(r.status, ExitStatus::Invalid, "{name}: {}", r.stdout);
        assert!(r.stdout.is_empty());
        assert_eq!(r.stderr.lines().count(), 1, "{name}: not one line");
        out.push_str(&format!("{name}\n  {}", r.stderr));
    }
    snapshot!("cli_encode_errors", out);
}

#[test]
fn decode_errors_exit_1_with_one_line_and_explain_adds_context() {
    let bad = "90de55a4 39000000 40082abd efbeadde";
    let plain = cli(&["decode"], bad.as_bytes());
    assert_eq!(plain.status, ExitStatus::Invalid);
    assert!(plain.stdout.is_empty());
    assert_eq!(
        plain.stderr.lines().next().unwrap(),
        "error at byte 0xc in peer.peer: unknown InputPeer constructor 0xdeadbeef"
    );
    let explained = cli(&["decode", "--explain"], bad.as_bytes());
    assert_eq!(explained.status, ExitStatus::Invalid);
    snapshot!("cli_decode_explain", explained.stderr);
}

#[test]
fn lenient_decodes_with_warnings_and_strict_refuses() {
    let frame = "90de55a4 50000000 c97ea07d 01 74 00ff";
    let strict = cli(&["decode"], frame.as_bytes());
    assert_eq!(strict.status, ExitStatus::Invalid);
    let lenient = cli(&["decode", "--lenient"], frame.as_bytes());
    assert_eq!(lenient.status, ExitStatus::Ok, "{}", lenient.stderr);
    assert_eq!(lenient.stderr.lines().count(), 2, "{}", lenient.stderr);
    assert!(lenient.stderr.lines().all(|l| l.starts_with("warning at byte ")));
    assert!(lenient.stdout.contains("undefined in messages.exportChatInvite"), "{}", lenient.stdout);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["decode", "--format", "yaml"],
        vec!["decode", "--max-depth", "0"],
        vec!["decode", "--max-depth", "100000"],
        vec!["frobnicate"],
        vec![],
        vec!["schema", "NoSuchType"],
    ] {
        let out = cli(&args, b"00");
        assert_eq!(out.status, ExitStatus::Usage, "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    let empty = cli(&["decode"], b"");
    assert_eq!(empty.status, ExitStatus::Invalid);
    assert!(empty.stderr.contains("empty"));
}

#[test]
fn stdin_on_a_terminal_is_a_usage_error_not_a_hang() {
    let mut input: &[u8] = b"";
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut io = Io {
        stdin: &mut input,
        stdin_is_terminal: true,
        stdout: &mut stdout,
        stdout_is_terminal: true,
        stderr: &mut stderr,
        stderr_is_terminal: false,
    };
    assert_eq!(run(["inspector", "decode"].map(Into::into), &mut io), ExitStatus::Usage);
    assert!(String::from_utf8_lossy(&stderr).contains("no input"));
}

#[test]
fn help_teaches_every_subcommand() {
    for sub in ["decode", "encode", "schema"] {
        let out = cli(&[sub, "--help"], b"");
        assert_eq!(out.status, ExitStatus::Ok);
        assert!(out.stdout.contains("Examples:"), "{sub}");
        assert!(out.stdout.contains(&format!("inspector {sub}")), "{sub}");
    }
    let top = cli(&["--help"], b"");
    assert!(top.stdout.contains("Exit status"));
}

#[test]
fn colour_is_opt_in_when_piped() {
    let always = cli(&["--color", "always", "decode"], WORKED_EXAMPLE.as_bytes());
    assert!(always.stdout.contains("\x1b["));
    let never = cli(&["decode", "--color", "never"], WORKED_EXAMPLE.as_bytes());
    assert!(!never.stdout.contains('\x1b'));
}

#[test]
fn schema_subcommand() {
    let out = cli(&["schema"], b"");
    assert_eq!(out.status, ExitStatus::Ok);
    assert!(out.stdout.contains("inputPeerUserFromMessage#a87b0a1c"));
    assert!(out.stdout.contains("↻"));
    let tl = cli(&["schema", "--tl"], b"");
    assert!(tl.stdout.lines().count() == 12);
}

/// The message body of frame `index` of the first real capture, taken from
/// its decrypted plaintext in the manifest (after the 32-byte header).
fn real_body(index: usize) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/MANIFEST.json");
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let frame = &m["captures"][0]["frames"][index];
    let len = frame["message_data_length"].as_u64().unwrap() as usize;
    frame["plaintext_hex"].as_str().unwrap()[64..64 + 2 * len].to_string()
}

#[test]
fn decode_unwraps_service_wrappers_of_real_bodies() {
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/MANIFEST.json")).unwrap(),
    )
    .unwrap();
    let frames = m["captures"][0]["frames"].as_array().unwrap();
    let mut seen = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        if !frame["encrypted"].as_bool().unwrap() {
            continue;
        }
        let out = cli(&["decode", "--format", "json"], real_body(i).as_bytes());
        let notes: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("note: unwrapped ")).collect();
        if out.status == ExitStatus::Invalid {
            // Only bodies without a request or an answer (acks), wrapped or not, may fail.
            assert!(out.stderr.contains("msgs_ack"), "frame {i}: {}", out.stderr);
            continue;
        }
        assert_eq!(out.status, ExitStatus::Ok, "frame {i}: {}", out.stderr);
        seen.push(notes.iter().map(|n| n.split(" (").next().unwrap().to_string()).collect::<Vec<_>>().join("; "));
    }
    let seen = seen.join("\n");
    for chain in ["invokeWithLayer(223) › initConnection(611335)", "msg_container", "gzip_packed", "rpc_result("] {
        assert!(seen.contains(chain), "{chain} not unwrapped in:\n{seen}");
    }
}

/// updates.state#a56c2a3e pts:int qts:int date:int seq:int unread_count:int:
/// a constructor of the built-in schema outside the closure.
const UPDATES_STATE: &str = "3e2a6ca5 01000000 02000000 03000000 04000000 05000000";

#[test]
fn decode_any_constructor_of_the_built_in_schema() {
    let out = cli(&["decode"], UPDATES_STATE.as_bytes());
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.stdout,
        "\
0x0000..0x0018  updates.state#a56c2a3e of type updates.State (24 bytes)
0x0004..0x0008  ├── pts: int = 1
0x0008..0x000c  ├── qts: int = 2
0x000c..0x0010  ├── date: int = 3 (1970-01-01 00:00:03 UTC)
0x0010..0x0014  ├── seq: int = 4
0x0014..0x0018  └── unread_count: int = 5
"
    );
    let json = cli(&["decode", "--format", "json"], UPDATES_STATE.as_bytes());
    assert_eq!(
        json.stdout,
        "{\n  \"_\": \"updates.state\",\n  \"pts\": 1,\n  \"qts\": 2,\n  \"date\": 3,\n  \"seq\": 4,\n  \"unread_count\": 5\n}\n"
    );
    // And back: the extended JSON form encodes to the same bytes.
    let back = cli(&["encode"], json.stdout.as_bytes());
    assert_eq!(back.status, ExitStatus::Ok, "{}", back.stderr);
    assert_eq!(back.stdout, "3e2a6ca50100000002000000030000000400000005000000\n");
    // A function with no fields is a whole frame too.
    let call = cli(&["decode"], b"2a88d4ed");
    assert_eq!(call.stdout, "0x0000..0x0004  updates.getState#edd4882a → updates.State (4 bytes)\n");
}

#[test]
fn schema_decoding_keeps_strictness_lenience_and_explain() {
    // updates.state cut after qts.
    let cut = cli(&["decode"], b"3e2a6ca5 01000000 02000000");
    assert_eq!(cut.status, ExitStatus::Invalid);
    assert_eq!(
        cut.stderr.lines().next().unwrap(),
        "error at byte 0xc in date: truncated: expected int (4 bytes), found the end of the input"
    );
    let explained = cli(&["decode", "--explain"], b"3e2a6ca5 01000000 02000000");
    assert!(explained.stderr.contains("qts: int = 2"), "{}", explained.stderr);
    // Four bytes too many: strict refuses, lenient warns and decodes.
    let long = format!("{UPDATES_STATE} 00000000");
    let strict = cli(&["decode"], long.as_bytes());
    assert_eq!(strict.status, ExitStatus::Invalid);
    let lenient = cli(&["decode", "--lenient"], long.as_bytes());
    assert_eq!(lenient.status, ExitStatus::Ok, "{}", lenient.stderr);
    assert!(lenient.stderr.starts_with("warning at byte 0x18"), "{}", lenient.stderr);
    let dump = cli(&["decode", "--format", "hexdump"], UPDATES_STATE.as_bytes());
    assert_eq!(dump.status, ExitStatus::Ok);
    assert!(dump.stdout.contains("unread_count"), "{}", dump.stdout);
}

#[test]
fn an_id_no_schema_knows_keeps_the_top_level_error() {
    let out = cli(&["decode"], b"efbeadde 00000000");
    assert_eq!(out.status, ExitStatus::Invalid);
    assert!(
        out.stderr.starts_with(
            "error at byte 0x0: unknown constructor 0xdeadbeef at the top level (expected messages.exportChatInvite"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn encode_any_constructor_of_the_schema_and_its_errors() {
    let out = cli(&["encode"], br#"{"_":"updates.getState"}"#);
    assert_eq!((out.status, out.stdout.as_str()), (ExitStatus::Ok, "2a88d4ed\n"), "{}", out.stderr);
    let bad = cli(&["encode"], br#"{"_":"updates.state","pts":1}"#);
    assert_eq!(bad.status, ExitStatus::Invalid);
    assert!(bad.stderr.starts_with("inspector: ") && bad.stderr.contains("qts"), "{}", bad.stderr);
    assert_eq!(bad.stderr.lines().count(), 1);
}

#[test]
fn schema_names_any_constructor_or_type_of_the_schema() {
    let out = cli(&["schema", "updates.State"], b"");
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert!(out.stdout.starts_with("updates.State\n└── updates.state#a56c2a3e\n    ├── pts: int\n"), "{}", out.stdout);
    let unknown = cli(&["schema", "NoSuchType"], b"");
    assert_eq!(unknown.status, ExitStatus::Usage);
}

/// A schema file in a fresh temporary directory.
fn schema_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("inspector-cli-schema-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("test.tl");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_schema_of_ones_own_replaces_the_built_in_one() {
    let path = schema_file("own", "point#0a0b0c0d x:int y:int = Point;\n");
    // Its id is not the CRC32 of its line: a note, and the published id is used.
    let out = cli(&["decode", "--schema", &path], b"0d0c0b0a 07000000 f9ffffff");
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!("note: {path}:1: the id #0a0b0c0d of point is not the CRC32")),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stdout,
        "0x0000..0x000c  point#0a0b0c0d of type Point (12 bytes)\n0x0004..0x0008  ├── x: int = 7\n0x0008..0x000c  └── y: int = -7\n"
    );
    // The built-in schema is replaced: updates.state is unknown now.
    let gone = cli(&["decode", "--schema", &path], UPDATES_STATE.as_bytes());
    assert_eq!(gone.status, ExitStatus::Invalid);
    let encoded = cli(&["encode", "--schema", &path], br#"{"_":"point","x":1,"y":2}"#);
    assert_eq!(encoded.stdout, "0d0c0b0a0100000002000000\n", "{}", encoded.stderr);
    let schema = cli(&["schema", "Point", "--schema", &path], b"");
    assert!(schema.stdout.starts_with("Point\n└── point#0a0b0c0d\n"), "{}", schema.stdout);
}

#[test]
fn a_schema_file_that_does_not_parse_is_a_usage_error_with_its_position() {
    let path = schema_file("bad", "// a comment\nfoo#zz x:int = Bar;\n");
    for args in [vec!["decode", "--schema", &path], vec!["schema", "Bar", "--schema", &path]] {
        let out = cli(&args, UPDATES_STATE.as_bytes());
        assert_eq!(out.status, ExitStatus::Usage, "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!(
                "inspector: {path}:2:4: not a TL definition: the constructor id is not hexadecimal"
            )),
            "{}",
            out.stderr
        );
    }
    let missing = cli(&["decode", "--schema", "/nonexistent/api.tl"], UPDATES_STATE.as_bytes());
    assert_eq!(missing.status, ExitStatus::Usage);
}

#[test]
fn pcap_method_must_be_a_function_of_the_schema() {
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/abridged.pcap");
    let out = cli(&["pcap", capture, "--method", "updates.state"], b"");
    assert_eq!(out.status, ExitStatus::Usage);
    assert_eq!(out.stderr, "inspector: --method updates.state: not a function of the schema\n");
}

/// `--method` replaces the default method: naming another one leaves the
/// capture's exportChatInvite requests out (they are listed, one line
/// each, only with --all); naming exportChatInvite itself is the default.
#[test]
fn pcap_method_replaces_the_default() {
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/abridged.pcap");
    let key = concat!("@", env!("CARGO_MANIFEST_DIR"), "/corpus/captures/auth_key.hex");
    let default = cli(&["pcap", capture, "--auth-key", key], b"");
    assert_eq!(default.status, ExitStatus::Ok, "{}", default.stderr);
    assert!(default.stdout.contains("\nrequest #1 · "), "{}", default.stdout);
    let same = cli(&["pcap", capture, "--auth-key", key, "--method", "messages.exportChatInvite"], b"");
    assert_eq!(same.stdout, default.stdout);
    let other = cli(&["pcap", capture, "--auth-key", key, "--method", "updates.getState"], b"");
    assert_eq!(other.status, ExitStatus::Ok, "{}", other.stderr);
    assert!(!other.stdout.contains("request #"), "{}", other.stdout);
    assert!(other.stdout.contains(" 0 requests,"), "{}", other.stdout);
    let all = cli(&["pcap", capture, "--auth-key", key, "--method", "updates.getState", "--all"], b"");
    assert!(
        all.stdout.contains(" · messages.exportChatInvite peer=inputPeerChat{chat_id=4000000000} "),
        "{}",
        all.stdout
    );
    assert!(!all.stdout.contains("request #"), "{}", all.stdout);
    let help = cli(&["pcap", "--help"], b"").stdout;
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("[default: messages.exportChatInvite]"), "{help}");
}
