//! The command line's session key sources: `inspector keys` and
//! `inspector pcap --session / --session-string`, on session files and
//! strings made by the real client libraries (tests/fixtures/sessions,
//! written by generate.sh there with the auth key of corpus/captures).

use inspector::cli::ExitStatus;
use inspector_tests::cli::Output;

fn cli(args: &[&str]) -> Output {
    inspector_tests::cli::cli(args, &[])
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/sessions/{name}", env!("CARGO_MANIFEST_DIR"));
    assert!(std::path::Path::new(&path).is_file(), "missing fixture {path}");
    path
}

fn capture(name: &str) -> String {
    let path = format!("{}/corpus/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    assert!(std::path::Path::new(&path).is_file(), "missing capture {path}");
    path
}

/// The auth_key_id of corpus/captures/auth_key.hex, as the capture
/// manifest (shared/captures/manifest) and every report print it.
const KEY_ID: &str = "5fb331cd74310554";

#[test]
fn keys_lists_format_dc_address_and_key_id() {
    let session = fixture("telethon-1.45.0.session");
    let out = cli(&["keys", &session]);
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    // generate.py gave the session dc 2 at 149.154.167.51:443.
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], format!("{session}: 1 key"));
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        cols,
        ["telethon", "session", "v8", "dc", "2", "(home)", "149.154.167.51:443", KEY_ID],
        "{out:?}",
        out = out.stdout
    );
}

#[test]
fn keys_never_echoes_a_session_string() {
    let text = std::fs::read_to_string(fixture("telethon-1.45.0.string")).unwrap();
    let text = text.trim();
    let out = cli(&["keys", text]);
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert!(out.stdout.starts_with("session string #1: 1 key\n"), "{}", out.stdout);
    assert!(out.stdout.contains(KEY_ID), "{}", out.stdout);
    assert!(!out.stdout.contains(text), "the secret string was printed");
}

#[test]
fn keys_reports_a_bad_source_and_lists_the_others() {
    let good = fixture("pyrogram-2.0.106.session");
    let nokey = fixture("telethon-1.45.0-nokey.session");
    let out = cli(&["keys", &nokey, &good]);
    assert_eq!(out.status, ExitStatus::Usage);
    assert_eq!(out.stderr, format!("inspector: {nokey}: the session holds no auth key (not logged in)\n"));
    assert!(out.stdout.starts_with(&format!("{good}: 1 key\n")), "{}", out.stdout);
    assert!(out.stdout.contains(KEY_ID), "{}", out.stdout);
}

/// The JSON report of the abridged capture with the key given as `args`.
fn report_with(args: &[&str]) -> Output {
    let pcap = capture("abridged.pcap");
    let mut all = vec!["pcap", pcap.as_str(), "--format", "json", "--threads", "1"];
    all.extend_from_slice(args);
    cli(&all)
}

#[test]
fn pcap_decrypts_with_a_session_file_or_string_as_with_the_auth_key() {
    let key = capture("auth_key.hex");
    let by_key = report_with(&["--auth-key", &format!("@{key}")]);
    assert_eq!(by_key.status, ExitStatus::Ok, "{}", by_key.stderr);
    assert!(by_key.stdout.contains("\"matched\":5"), "{}", by_key.stdout);
    for session in ["telethon-1.45.0.session", "kurigram-2.2.26.session", "grammers-0.11.0.session"] {
        let path = fixture(session);
        let out = report_with(&["--session", &path]);
        assert_eq!(out.status, ExitStatus::Ok, "{session}: {}", out.stderr);
        assert_eq!(out.stdout, by_key.stdout, "{session}");
    }
    let string = std::fs::read_to_string(fixture("pyrogram-2.0.106.string")).unwrap();
    let out = report_with(&["--session-string", string.trim()]);
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert_eq!(out.stdout, by_key.stdout);
}

#[test]
fn pcap_refuses_an_unreadable_session_in_one_line() {
    let nokey = fixture("telethon-1.28.5-nokey.session");
    let out = report_with(&["--session", &nokey]);
    assert_eq!(out.status, ExitStatus::Usage);
    assert_eq!(out.stderr, format!("inspector: --session {nokey}: the session holds no auth key (not logged in)\n"));
    let out = report_with(&["--session-string", "1AAAA"]);
    assert_eq!(out.status, ExitStatus::Usage);
    assert!(out.stderr.starts_with("inspector: --session-string: "), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}
