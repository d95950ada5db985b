//! The command line's error paths and rarer options, run in-process: each
//! bad argument, unreadable file and bad key gives its exit status and one
//! exact line on stderr; `pcap` reads standard input and draws its progress
//! line on a terminal; `decode` says what it found inside wrappers that hold
//! no request or answer.

use std::io::{self, Write};
use std::path::PathBuf;

use inspector::cli::{run, ExitStatus, Io};
use inspector_tests::fixtures;

struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// How the streams look to the command.
#[derive(Clone, Copy, Default)]
struct Terminals {
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

fn cli_with(args: &[&str], stdin: &[u8], stdout: &mut dyn Write, terminals: Terminals) -> (ExitStatus, String) {
    let mut input = stdin;
    let mut stderr = Vec::new();
    let mut io = Io {
        stdin: &mut input,
        stdin_is_terminal: terminals.stdin,
        stdout,
        stdout_is_terminal: terminals.stdout,
        stderr: &mut stderr,
        stderr_is_terminal: terminals.stderr,
    };
    let status = run(std::iter::once("inspector").chain(args.iter().copied()).map(Into::into), &mut io);
    (status, String::from_utf8_lossy(&stderr).into())
}

fn cli(args: &[&str], stdin: &[u8]) -> Output {
    let mut stdout = Vec::new();
    let (status, stderr) = cli_with(args, stdin, &mut stdout, Terminals::default());
    Output { status, stdout: String::from_utf8_lossy(&stdout).into(), stderr }
}

const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/abridged.pcap");
const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/auth_key.hex");

/// A scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inspector-cli-errors-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn key_hex() -> String {
    std::fs::read_to_string(KEY).unwrap().trim().to_string()
}

/// The report of the abridged capture with its key: the reference that
/// every other way of giving the key or the capture must reproduce.
fn reference() -> Output {
    let out = cli(&["pcap", CAPTURE, "--auth-key", &format!("@{KEY}")], b"");
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert!(out.stdout.contains("\nrequest #1 · "), "{}", out.stdout);
    out
}

fn usage_error(args: &[&str]) -> String {
    let out = cli(args, b"");
    assert_eq!(out.status, ExitStatus::Usage, "{args:?}: {}", out.stderr);
    assert_eq!(out.stdout, "", "{args:?}");
    out.stderr
}

#[test]
fn a_keylog_gives_the_same_report_as_the_key_and_its_bad_lines_are_named() {
    let dir = scratch("keylog");
    let log = dir.join("keys.txt");
    std::fs::write(&log, format!("# the abridged capture's key\n\n{}\n", key_hex())).unwrap();
    let out = cli(&["pcap", CAPTURE, "--keylog", log.to_str().unwrap()], b"");
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert_eq!(out.stdout, reference().stdout);

    std::fs::write(&log, "# keys\n00112233\n").unwrap();
    assert_eq!(
        usage_error(&["pcap", CAPTURE, "--keylog", log.to_str().unwrap()]),
        format!("inspector: {}: line 2: not a hex auth key: expected 256 bytes, found 4\n", log.display())
    );
    let missing = dir.join("missing.txt");
    let e = usage_error(&["pcap", CAPTURE, "--keylog", missing.to_str().unwrap()]);
    assert!(e.starts_with(&format!("inspector: cannot read {}: ", missing.display())), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_auth_keys_are_usage_errors_naming_where_the_key_came_from() {
    let dir = scratch("keys");
    // 64 hex digits look like a key given inline, but a key is 256 bytes.
    assert_eq!(
        usage_error(&["pcap", CAPTURE, "--auth-key", &"ab".repeat(32)]),
        "inspector: --auth-key: an auth key is 256 bytes (512 hex digits), found 32 bytes\n"
    );
    let short = dir.join("short.key");
    std::fs::write(&short, [7u8; 100]).unwrap();
    assert_eq!(
        usage_error(&["pcap", CAPTURE, "--auth-key", short.to_str().unwrap()]),
        format!("inspector: {}: an auth key is 256 bytes (512 hex digits), found 100 bytes\n", short.display())
    );
    let missing = dir.join("nothing.key");
    let e = usage_error(&["pcap", CAPTURE, "--auth-key", &format!("@{}", missing.display())]);
    assert!(e.starts_with(&format!("inspector: cannot read auth key file {}: ", missing.display())), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_pcap_options_are_usage_errors() {
    assert_eq!(
        usage_error(&["pcap", CAPTURE, "--mtproxy-secret", "0011"]),
        "inspector: --mtproxy-secret: an MTProxy secret is 16 bytes (32 hex digits), optionally prefixed by dd, \
         or ee followed by 16 bytes and a domain name; found 2 bytes\n"
    );
    for threads in ["0", "257", "many"] {
        let e = usage_error(&["pcap", CAPTURE, "--threads", threads]);
        assert!(e.contains("expected a whole number from 1 to 256"), "{threads}: {e}");
    }
    // --extract-corpus under a file cannot be created.
    let dir = scratch("corpus");
    let file = dir.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let target = file.join("seeds");
    let e =
        usage_error(&["pcap", CAPTURE, "--auth-key", &format!("@{KEY}"), "--extract-corpus", target.to_str().unwrap()]);
    assert!(e.starts_with(&format!("inspector: --extract-corpus: cannot create {}: ", target.display())), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    let missing = dir.join("missing.pcap");
    let e = usage_error(&["pcap", missing.to_str().unwrap()]);
    assert!(e.starts_with(&format!("inspector: cannot read {}: ", missing.display())), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_that_is_no_capture_exits_1() {
    let dir = scratch("foreign");
    let foreign = dir.join("notes.txt");
    std::fs::write(&foreign, "these are notes, not packets").unwrap();
    let out = cli(&["pcap", foreign.to_str().unwrap()], b"");
    assert_eq!(out.status, ExitStatus::Invalid);
    assert_eq!(out.stderr, "inspector: not a pcap or pcapng capture: unknown file header 74 68 65 73\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_forced_transport_decides_the_framing() {
    let reference = reference();
    // The capture's own framing, forced, reads as detected.
    let abridged = cli(&["pcap", CAPTURE, "--auth-key", &format!("@{KEY}"), "--transport", "abridged"], b"");
    assert_eq!(abridged.status, ExitStatus::Ok, "{}", abridged.stderr);
    assert!(abridged.stdout.contains("\nrequest #1 · "), "{}", abridged.stdout);
    assert_eq!(abridged.stdout.matches("\nrequest #").count(), reference.stdout.matches("\nrequest #").count());
    // Any other framing finds no request in these bytes, and still exits 0.
    for choice in [
        "intermediate",
        "padded-intermediate",
        "full",
        "obfuscated-abridged",
        "obfuscated-intermediate",
        "obfuscated-padded-intermediate",
    ] {
        let out = cli(&["pcap", CAPTURE, "--auth-key", &format!("@{KEY}"), "--transport", choice], b"");
        assert_eq!(out.status, ExitStatus::Ok, "{choice}: {}", out.stderr);
        assert!(!out.stdout.contains("\nrequest #"), "{choice}: {}", out.stdout);
    }
}

#[test]
fn pcap_reads_standard_input_but_not_a_terminal() {
    let capture = std::fs::read(CAPTURE).unwrap();
    let out = cli(&["pcap", "-", "--auth-key", &format!("@{KEY}")], &capture);
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert_eq!(out.stdout, reference().stdout);

    let mut stdout = Vec::new();
    let terminal = Terminals { stdin: true, ..Terminals::default() };
    let (status, stderr) = cli_with(&["pcap", "-"], &capture, &mut stdout, terminal);
    assert_eq!(status, ExitStatus::Usage);
    assert_eq!(stderr, "inspector: no capture on standard input (pipe one in, or give a FILE)\n");
    assert!(stdout.is_empty());
}

#[test]
fn a_capture_that_fails_while_being_read_is_an_io_error() {
    /// The first half of the capture, then a failure.
    struct HalfThenFail(Vec<u8>, usize);
    impl io::Read for HalfThenFail {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.1 >= self.0.len() / 2 {
                return Err(io::Error::other("the cable was pulled"));
            }
            let n = buf.len().min(self.0.len() / 2 - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }
    let mut input = HalfThenFail(std::fs::read(CAPTURE).unwrap(), 0);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut io = Io {
        stdin: &mut input,
        stdin_is_terminal: false,
        stdout: &mut stdout,
        stdout_is_terminal: false,
        stderr: &mut stderr,
        stderr_is_terminal: false,
    };
    let status = run(["inspector", "pcap", "-", "--auth-key", KEY].map(Into::into), &mut io);
    assert_eq!(status, ExitStatus::Usage);
    assert_eq!(String::from_utf8_lossy(&stderr), "inspector: cannot read the capture: the cable was pulled\n");
}

#[test]
fn a_large_capture_on_a_terminal_reports_the_same_with_a_progress_line() {
    // The abridged capture and one 16 MiB Ethernet frame that holds no IP
    // packet: big enough for the progress line, the same report otherwise.
    let mut capture = std::fs::read(CAPTURE).unwrap();
    let size = 16 << 20;
    // The file is little endian with microsecond timestamps (d4 c3 b2 a1).
    assert_eq!(&capture[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    for word in [1_800_000_000u32, 0, size, size] {
        capture.extend_from_slice(&word.to_le_bytes());
    }
    capture.resize(capture.len() + size as usize, 0);
    let dir = scratch("large");
    let path = dir.join("large.pcap");
    std::fs::write(&path, &capture).unwrap();
    let args = ["pcap", path.to_str().unwrap(), "--auth-key", KEY];
    let plain = cli(&args, b"");
    let mut stdout = Vec::new();
    let (status, stderr) = cli_with(&args, b"", &mut stdout, Terminals { stderr: true, ..Terminals::default() });
    assert_eq!((status, plain.status), (ExitStatus::Ok, ExitStatus::Ok), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&stdout), plain.stdout);
    assert!(plain.stdout.contains("\nrequest #1 · "), "{}", plain.stdout);
    // Whatever the run wrote to its stderr came without a progress line in it.
    assert_eq!(stderr.replace("\r\x1b[K", ""), plain.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_on_a_terminal_is_styled_and_piped_is_plain() {
    let mut stdout = Vec::new();
    let (status, _) = cli_with(&["--help"], b"", &mut stdout, Terminals { stdout: true, ..Terminals::default() });
    assert_eq!(status, ExitStatus::Ok);
    let styled = String::from_utf8(stdout).unwrap();
    assert!(styled.contains("\x1b["), "{styled}");
    let plain = cli(&["--help"], b"").stdout;
    assert!(!plain.contains("\x1b["));
    assert!(plain.contains("Usage: inspector"), "{plain}");
}

/// A stdout that refuses every write, as a full disk does.
struct Full;

impl Write for Full {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("no space left on the device"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stdout whose reader went away (`| head`).
struct Closed;

impl Write for Closed {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_output_that_cannot_be_written_is_a_usage_error_but_a_closed_pipe_is_not() {
    let (status, stderr) = cli_with(&["schema"], b"", &mut Full, Terminals::default());
    assert_eq!(status, ExitStatus::Usage);
    assert_eq!(stderr, "inspector: cannot write output: no space left on the device\n");
    let (status, stderr) = cli_with(&["schema"], b"", &mut Closed, Terminals::default());
    assert_eq!((status, stderr.as_str()), (ExitStatus::Ok, ""));
}

// ---------------------------------------------------------------------------
// decode: wrappers with nothing of the schema inside

fn container(bodies: &[Vec<u8>]) -> String {
    let items: Vec<(i64, i32, Vec<u8>)> =
        bodies.iter().enumerate().map(|(i, b)| (fixtures::msg_id(i as u32 + 1, false), 1, b.clone())).collect();
    inspector::hex::encode(&fixtures::container(&items))
}

#[test]
fn decode_names_what_the_wrappers_held_when_no_request_or_answer_is_inside() {
    let unknown = 0xdead_beefu32.to_le_bytes().to_vec();
    let ack = fixtures::msgs_ack(&[fixtures::msg_id(9, true)]);
    let out = cli(&["decode"], container(&[unknown, ack]).as_bytes());
    assert_eq!(out.status, ExitStatus::Invalid);
    assert_eq!(
        out.stderr,
        "inspector: no request or answer of the schema inside the wrappers (found 0xdeadbeef, msgs_ack)\n"
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn decode_shows_every_call_of_the_schema_inside_a_container() {
    // updates.getState#edd4882a, twice: the schema is loaded once for both.
    let get_state = 0xedd4_882au32.to_le_bytes().to_vec();
    let out = cli(&["decode", "--format", "json"], container(&[get_state.clone(), get_state]).as_bytes());
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    assert_eq!(out.stdout.matches("\"_\": \"updates.getState\"").count(), 2, "{}", out.stdout);
    assert_eq!(
        out.stderr.lines().filter(|l| l.starts_with("note: unwrapped msg_container")).count(),
        2,
        "{}",
        out.stderr
    );
}

#[test]
fn decode_reports_a_damaged_message_inside_a_container_and_exits_1() {
    // gzip_packed#3072cfa1 whose packed_data is 16 bytes of text, not
    // gzip, next to a good request.
    let mut bad_gzip = 0x3072_cfa1u32.to_le_bytes().to_vec();
    bad_gzip.push(16);
    bad_gzip.extend_from_slice(b"this is not gzip");
    bad_gzip.extend_from_slice(&[0; 3]);
    let request = inspector::hex::parse("90de55a4 00000000 c97ea07d").unwrap();
    let out = cli(&["decode"], container(&[bad_gzip, request]).as_bytes());
    assert_eq!(out.status, ExitStatus::Invalid, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(lines.iter().any(|l| l.contains("not valid gzip")), "{}", out.stderr);
    assert!(out.stdout.contains("messages.exportChatInvite"), "{}", out.stdout);
}
