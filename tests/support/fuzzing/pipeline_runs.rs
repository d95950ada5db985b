//! Two sampled checks of the `pcap_pipeline` target that run the whole
//! pipeline again under other conditions: with small connection limits
//! ([`small_connection_limits`]) and into a report whose reader goes away
//! ([`reader_goes_away`]).
//!
//! The reassembler holds at most [`MAX_CONNECTIONS`] connections (and
//! [`CLOSED_KEPT`] closed ones); past that it forgets the least recently
//! active, and the pipeline says so. Tens of thousands of connections are
//! out of a fuzzer's reach, so the property runs the pipeline with a limit
//! of 1 to 3 ([`PipelineOptions::connection_limits`]), which a capture of
//! two connections already exceeds.

use std::net::SocketAddr;

use super::Checks;
use inspector::capture::{decode_packet, read_capture_into, CaptureSink, CaptureWarning, Packet};
use inspector::pipeline::{PipelineOptions, Summary};
use inspector::report::{run_report, JsonReport, RunError};
use inspector::tcp::{ConnId, TcpEvent, TcpReassembler, TcpSink, CLOSED_KEPT, MAX_CONNECTIONS};

/// An FNV-1a hash of the input, which chooses the samples of this file's
/// checks independently of the byte sum that samples the target's others.
fn hash(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Whether an input also runs with small limits, and which: a
/// sixty-fourth of the inputs (the hash's top six bits zero), then 1 to 3
/// connections held at most, 0 to 2 of them closed (chosen by other bits).
///
/// A sixteenth until 2026-12-06, thinned for speed (two more runs of the
/// pipeline, one on two threads, and two reassemblers): what they reach is
/// reached by the committed `cov-limits-*` seeds, which are made to be
/// picked (`tests/coverage_seeds_pipeline.rs`); FUZZING.md, "Seventh
/// round", says what was measured. With [`Checks::All`] every input runs
/// with small limits, the same bits choosing which.
pub fn limits_choice(data: &[u8], checks: Checks) -> Option<(usize, usize)> {
    let h = hash(data);
    (checks == Checks::All || h >> 26 == 0).then(|| (1 + (h >> 8) as usize % 3, (h >> 16) as usize % 3))
}

/// Whether an input whose threads the target compares is also written to
/// a reader that goes away: half of them (a bit of the hash), so a
/// sixty-fourth of all inputs.
pub fn reader_goes_away_chosen(data: &[u8]) -> bool {
    hash(data) & (1 << 27) != 0
}

/// What the reassembler hands the pipeline for a capture: every event
/// (owned), where among them the capture reader's own warnings came (the
/// number of events before each), each connection's endpoints in order of
/// appearance, and the connections forgotten while open, in order.
#[derive(Default)]
struct TcpView {
    events: Vec<TcpEvent<'static>>,
    capture_warnings_at: Vec<usize>,
    opened: Vec<(SocketAddr, SocketAddr)>,
    forgotten: Vec<ConnId>,
}

impl TcpView {
    /// What the pipeline is handed, in order: the same with two sets of
    /// limits means the same report.
    fn handed(&self) -> (&[TcpEvent<'static>], &[usize]) {
        (&self.events, &self.capture_warnings_at)
    }
}

impl TcpSink for TcpView {
    fn event(&mut self, event: TcpEvent<'_>) {
        match &event {
            TcpEvent::Opened { client, server, .. } => self.opened.push((*client, *server)),
            TcpEvent::Forgotten { conn } => self.forgotten.push(*conn),
            _ => {}
        }
        self.events.push(event.into_owned());
    }
}

/// The capture's packets decoded down to TCP (what the pipeline does with
/// each) and through a reassembler with `limits` (the defaults when
/// `None`).
fn tcp_view(data: &[u8], limits: Option<(usize, usize)>) -> TcpView {
    struct Reading {
        tcp: TcpReassembler,
        view: TcpView,
    }
    impl CaptureSink for Reading {
        fn packet(&mut self, p: &Packet<'_>) {
            if let Ok(segment) = decode_packet(p.linktype, p.data) {
                self.tcp.segment(&segment, &mut self.view);
            }
        }
        fn warning(&mut self, _: CaptureWarning) {
            self.view.capture_warnings_at.push(self.view.events.len());
        }
    }
    let (max, closed) = limits.unwrap_or((MAX_CONNECTIONS, CLOSED_KEPT));
    let mut reading =
        Reading { tcp: TcpReassembler::new().with_connection_limits(max, closed), view: TcpView::default() };
    let _ = read_capture_into(data, &mut reading);
    reading.tcp.finish(&mut reading.view);
    reading.view
}

/// One JSON report of `data`: the result, the report, the warnings.
fn json_run(data: &[u8], options: &PipelineOptions, threads: usize) -> (Result<Summary, RunError>, Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = run_report(data, options.clone(), threads, JsonReport::new(&mut out, &mut err, true));
    (result, out, err)
}

/// The `pcap_pipeline` property's run with small connection limits, on
/// the inputs [`limits_choice`] picks. `options` are those of the target's
/// JSON run (without limits), which gave `default`: its result, report and
/// warnings. The JSON report (`--all`) with the limits:
///
/// - is the same, byte for byte, on one thread and on two: the reader
///   thread alone reassembles TCP, so what is forgotten must not depend on
///   the number of threads;
/// - says what the reassembler forgot: the first connection forgotten
///   while open is named (client → server) by a warning, and when more than
///   one was forgotten a last warning gives their number; without one
///   forgotten, neither warning; the summary counts every connection seen;
/// - is the default run's, byte for byte, whenever the reassembler hands
///   the pipeline the same events with the small limits as with the
///   default ones (nothing forgotten, no closed connection dropped early),
///   with the capture reader's own warnings in the same places among them
///   (a closed connection dropped early hands over what it still held
///   before a truncated file's warning, not after it): nothing else in
///   the pipeline depends on the limits.
///
/// A file that is not a capture is refused the same way whatever the limits.
pub(super) fn small_connection_limits(
    data: &[u8],
    options: &PipelineOptions,
    limits: (usize, usize),
    default: (&Result<Summary, RunError>, &[u8], &[u8]),
) {
    let limited = PipelineOptions { connection_limits: Some(limits), ..options.clone() };
    let (result, out, err) = json_run(data, &limited, 1);
    let (result2, out2, err2) = json_run(data, &limited, 2);
    assert_eq!(result2, result, "limits {limits:?}: the summary or error differs on 2 threads");
    if out2 != out || err2 != err {
        panic!(
            "limits {limits:?}: the report differs on 2 threads\n--- one thread\n{}{}\n--- two threads\n{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err),
            String::from_utf8_lossy(&out2),
            String::from_utf8_lossy(&err2)
        );
    }
    let summary = match (&result, default.0) {
        (Ok(summary), Ok(_)) => summary,
        (Err(e), Err(d)) => {
            assert_eq!(e, d, "limits {limits:?}: the capture is refused otherwise");
            return;
        }
        (r, d) => panic!("limits {limits:?} give {r:?}, the default limits {d:?}"),
    };
    let view = tcp_view(data, Some(limits));
    assert_eq!(summary.connections, view.opened.len(), "limits {limits:?}: connections counted");
    let err = String::from_utf8(err).expect("warnings are UTF-8");
    let first: Vec<&str> = err.lines().filter(|l| l.contains(" forgotten: more than ")).collect();
    let counts: Vec<&str> = err.lines().filter(|l| l.contains(" open connections were forgotten in all")).collect();
    match view.forgotten.first() {
        None => assert!(
            first.is_empty() && counts.is_empty(),
            "limits {limits:?}: none forgotten, yet {first:?} {counts:?}"
        ),
        Some(&conn) => {
            let (client, server) = view.opened[conn];
            let want = format!("warning: connection {client} → {server} forgotten: ");
            assert!(
                first.len() == 1 && first[0].starts_with(&want),
                "limits {limits:?}: connection {conn} forgotten first, but the warnings say {first:?}"
            );
            let n = view.forgotten.len();
            let want = (n > 1).then(|| format!("warning: {n} open connections were forgotten in all, "));
            match (&want, counts.as_slice()) {
                (None, []) => {}
                (Some(w), [line]) if line.starts_with(w.as_str()) => {
                    assert!(
                        err.ends_with(&format!("{line}\n")),
                        "limits {limits:?}: the count is not the last warning"
                    );
                }
                _ => panic!("limits {limits:?}: {n} connections forgotten, but the warnings say {counts:?}"),
            }
        }
    }
    if view.handed() == tcp_view(data, None).handed() {
        let (_, default_out, default_err) = default;
        if out != default_out || err.as_bytes() != default_err {
            panic!(
                "limits {limits:?} change the report, not the reassembler's events\n--- default limits\n{}{}\n--- \
                 limits\n{}{err}",
                String::from_utf8_lossy(default_out),
                String::from_utf8_lossy(default_err),
                String::from_utf8_lossy(&out),
            );
        }
    }
}

/// A report's reader that goes away (`inspector pcap | head -c N`): it
/// takes the first `left` bytes, then every write fails with a broken pipe.
struct GoesAway {
    taken: Vec<u8>,
    left: usize,
}

impl std::io::Write for GoesAway {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left);
        if n == 0 && !buf.is_empty() {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        self.taken.extend_from_slice(&buf[..n]);
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The `pcap_pipeline` property's run whose reader goes away, on half of
/// the inputs whose threads it compares ([`reader_goes_away_chosen`]). `options` are those of the target's
/// JSON run, which wrote `out`. Fed to a reader that takes the first `cut`
/// bytes of that report (`cut` chosen by a hash of the input, anywhere from
/// none to all of it) and then breaks the pipe, the run, on one thread and
/// on two, ends quietly (a summary, not an error: no one is left to read
/// one) and the reader got exactly those `cut` bytes.
pub(super) fn reader_goes_away(data: &[u8], options: &PipelineOptions, out: &[u8]) {
    let h = hash(data);
    let cut = ((u64::from(h) * (out.len() as u64 + 1)) >> 32) as usize;
    for threads in [1, 2] {
        let mut reader = GoesAway { taken: Vec::new(), left: cut };
        let result = run_report(data, options.clone(), threads, JsonReport::new(&mut reader, &mut Vec::new(), true));
        assert!(result.is_ok(), "{threads} thread(s): a report whose reader went after {cut} bytes gives {result:?}");
        assert!(
            reader.taken == out[..cut],
            "{threads} thread(s): the reader that took {cut} bytes got other bytes than the report's first"
        );
    }
}
