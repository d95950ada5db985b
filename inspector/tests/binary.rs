//! The real `inspector` binary: exit statuses as a shell sees them, and no
//! panic message on any input, including a pipe closed early.

use std::io::Write;
use std::process::{Command, Stdio};

fn inspector(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inspector"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may exit before reading everything (a usage error); that is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn exit_statuses() {
    assert_eq!(inspector(&["decode"], b"90de55a4 00000000 c97ea07d").status.code(), Some(0));
    assert_eq!(inspector(&["decode"], b"90de55a4 00000000 deadbeef").status.code(), Some(1));
    assert_eq!(inspector(&["decode", "--bogus"], b"").status.code(), Some(2));
    assert_eq!(inspector(&["decode", "/nonexistent/frame.hex"], b"").status.code(), Some(2));
}

#[test]
fn hostile_bytes_never_panic() {
    let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![0xff; 64], b"\xfe\xff\xff\xff".to_vec()];
    // Every prefix of a frame with every field, as raw bytes.
    let full = b"\x90\xde\x55\xa4\x3f\x00\x00\x00\x40\x08\x2a\xbd\x4c\xa5\xe8\xdd".to_vec();
    for cut in 0..full.len() {
        inputs.push(full[..cut].to_vec());
    }
    for input in inputs {
        for args in [
            &["decode", "--input", "raw", "--explain"][..],
            &["decode", "--input", "raw", "--lenient", "--format", "hexdump"],
        ] {
            let out = inspector(args, &input);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{input:02x?}: {stderr}");
            assert!(matches!(out.status.code(), Some(0 | 1)), "{input:02x?}: {:?}", out.status);
        }
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inspector"))
        .args(["schema"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// `inspector pcap capture | head`: the report's reader goes away, and the
/// run ends quietly with status 0, as `decode` does.
#[test]
fn pcap_into_a_closed_pipe_ends_quietly() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/captures/");
    let mut child = Command::new(env!("CARGO_BIN_EXE_inspector"))
        .args(["pcap", &format!("{dir}abridged.pcap"), "--auth-key", &format!("@{dir}auth_key.hex"), "--all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}
