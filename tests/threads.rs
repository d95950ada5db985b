//! `inspector pcap --threads N`: the same report, byte for byte, as on one
//! thread, on every capture the corpus holds and on one of many
//! interleaved connections; records still appear while a live capture is
//! being read; a closed output still ends the run quietly.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inspector::envelope::{parse_auth_key, KeyStore};
use inspector::pipeline::Summary;
use inspector::report::{run_capture, ReportFormat, ReportOptions, RunError};
use inspector::transport::Framing;
use inspector_tests::fixtures::{self, CaptureSpec, ConnectionSpec, Conversation, Segmenting, Transport};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/");

/// The shipped real-client key, the fixtures' key, and the fuzz targets' key.
fn keys() -> KeyStore {
    let mut keys = KeyStore::new();
    let shipped = std::fs::read(format!("{CORPUS}captures/auth_key.hex")).expect("the shipped key");
    keys.insert(parse_auth_key(&shipped).expect("a valid key"));
    keys.insert(fixtures::fixture_key());
    keys.insert(fixtures::auth_key(2));
    keys
}

/// Every file of a corpus folder, by name; a missing folder fails the test.
fn folder(name: &str, suffix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = format!("{CORPUS}{name}");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .map(|path| (path.display().to_string(), std::fs::read(&path).expect("a corpus file")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{dir} holds no {suffix} files");
    files
}

/// Many connections at once, over every transport, interleaved packet by
/// packet; half share the standard msg_ids, so that answers are matched
/// (and named as repeated) across connections, which the workers cannot
/// see and the ordered stage must.
fn many_connections() -> Vec<u8> {
    let transports = Transport::all();
    let connections = (0..24u32)
        .map(|n| {
            let mut c = ConnectionSpec::new(transports[n as usize % transports.len()].clone());
            if n % 2 == 1 {
                c.conversation = Conversation::numbered(n * 1000);
            }
            c.segmenting = Segmenting { mss: [536, 1400, 97][n as usize % 3], ..Segmenting::default() };
            c.v6 = n % 5 == 2;
            c
        })
        .collect();
    let spec = CaptureSpec { connections, ..CaptureSpec::single(ConnectionSpec::new(Transport::plain(Framing::Full))) };
    fixtures::build(&spec).bytes
}

type Run = (Result<Summary, RunError>, Vec<u8>, Vec<u8>);

fn run(bytes: &[u8], format: ReportFormat, all: bool, threads: usize) -> Run {
    // `--all` decodes every other message with the built-in schema, as
    // `inspector pcap --all` does: that decoding runs on the workers too.
    let schema = all.then(inspector::tl::dynamic::Schema::builtin);
    let options = ReportOptions { keys: keys(), format, all, threads, schema, ..ReportOptions::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = run_capture(bytes, &options, &mut out, &mut err);
    (result, out, err)
}

/// Text, text --all, JSON and JSON --all (with the built-in schema), on 2, 3 and 8 threads, against
/// one thread: the same report, the same warnings, the same summary.
#[test]
fn reports_are_the_same_on_any_number_of_threads() {
    let mut captures = folder("capture_file", "");
    captures.extend(folder("captures", ".pcap"));
    captures.extend(folder("pcap_pipeline", ""));
    captures.push(("24 interleaved connections".into(), many_connections()));
    let mut compared = 0;
    for (name, bytes) in &captures {
        for (format, all) in [
            (ReportFormat::Text, false),
            (ReportFormat::Text, true),
            (ReportFormat::Json, false),
            (ReportFormat::Json, true),
        ] {
            let (one, out, err) = run(bytes, format, all, 1);
            for threads in [2, 3, 8] {
                let (many, many_out, many_err) = run(bytes, format, all, threads);
                let what = format!("{name}, {format:?}, all: {all}, {threads} threads");
                assert_eq!(many, one, "{what}: another summary");
                if many_out != out {
                    panic!(
                        "{what}: another report\n--- one thread\n{}\n--- {threads} threads\n{}",
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&many_out)
                    );
                }
                assert_eq!(String::from_utf8_lossy(&many_err), String::from_utf8_lossy(&err), "{what}: other warnings");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, captures.len() * 4 * 3);
}

/// The interleaved capture does say what the threads must agree on: every
/// connection's requests, and answers matched across connections.
#[test]
fn the_interleaved_capture_matches_across_connections() {
    let (result, out, _) = run(&many_connections(), ReportFormat::Text, false, 3);
    let summary = result.expect("the capture is read");
    assert!(summary.connections == 24 && summary.requests > 24 * 4, "{summary:?}");
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.contains("another answer to request #"), "no answer matched across connections");
}

/// A reader fed piece by piece, as a pipe from a live capture is: `read`
/// waits for the next piece.
struct Pipe {
    pieces: mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            match self.pieces.recv() {
                Ok(piece) => (self.current, self.at) = (piece, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The report as it is written, readable from another thread.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

/// With threads, a live capture still streams: the first request is
/// reported while the rest of the capture has not arrived yet (the reader
/// is blocked waiting for it), not at the end.
#[test]
fn a_live_capture_streams_with_threads() {
    let bytes =
        fixtures::build(&CaptureSpec::single(ConnectionSpec::new(Transport::obfuscated(Framing::Intermediate)))).bytes;
    for format in [ReportFormat::Text, ReportFormat::Json] {
        let (send, pieces) = mpsc::channel();
        let out = Shared::default();
        let writer = out.clone();
        let options = ReportOptions { keys: keys(), format, threads: 2, ..ReportOptions::default() };
        let running = std::thread::spawn(move || {
            let mut writer = writer;
            run_capture(Pipe { pieces, current: Vec::new(), at: 0 }, &options, &mut writer, &mut std::io::sink())
        });
        let half = bytes.len() / 2;
        send.send(bytes[..half].to_vec()).expect("the run is reading");
        let first = match format {
            ReportFormat::Text => "request #1 ·",
            ReportFormat::Json => "\"kind\":\"request\"",
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !out.text().contains(first) {
            assert!(Instant::now() < deadline, "{format:?}: no request reported before the rest of the capture came");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!out.text().contains("summary"), "{format:?}: the run ended early");
        send.send(bytes[half..].to_vec()).expect("the run is reading");
        drop(send);
        let summary = running.join().expect("no panic").expect("the capture is read");
        assert!(summary.matched > 0, "{summary:?}");
        let (_, whole, _) = run(&bytes, format, false, 1);
        assert_eq!(out.text(), String::from_utf8_lossy(&whole), "{format:?}: fed in pieces, another report");
    }
}

/// A writer whose reader goes away after `left` bytes, as `| head` does.
struct ClosesAfter {
    left: usize,
    written: Vec<u8>,
}

impl Write for ClosesAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A closed output ends a threaded run quietly too: the workers and the
/// reader stop, and nothing hangs.
#[test]
fn a_closed_output_ends_a_threaded_run_quietly() {
    let bytes = many_connections();
    for format in [ReportFormat::Text, ReportFormat::Json] {
        let options = ReportOptions { keys: keys(), format, all: true, threads: 3, ..ReportOptions::default() };
        let whole = run_capture(&bytes[..], &options, &mut Vec::new(), &mut Vec::new()).expect("the capture is read");
        let mut out = ClosesAfter { left: 300, written: Vec::new() };
        let mut err = Vec::new();
        let summary = run_capture(&bytes[..], &options, &mut out, &mut err).expect("a closed output is no error");
        assert_eq!(out.written.len(), 300, "{format:?}");
        assert!(summary.packets <= whole.packets, "{format:?}");
    }
}

/// A file that is not a capture is the same error on threads.
#[test]
fn not_a_capture_on_threads() {
    let (result, out, _) = run(b"definitely not a capture file", ReportFormat::Json, false, 2);
    assert!(matches!(result, Err(RunError::NotACapture(_))), "{result:?}");
    assert!(out.is_empty());
}
