//! Every kind of line of the JSON report with `--all`, byte for byte: a
//! capture written by the fixture writer with quick acks, a message under
//! an unknown key, service messages, an unanswered request and a transport
//! error, reported as `inspector pcap --format json --all` does. The real
//! clients' captures (`capture_reports.rs`) have no quick acks, unknown keys
//! or warnings, and their summaries match every request.

use inspector::envelope::KeyStore;
use inspector::pipeline::Summary;
use inspector::report::{run_capture, ReportFormat, ReportOptions};
use inspector::transport::Framing;
use inspector_tests::fixtures::*;
use serde_json::Value;

/// The fixture's standard conversation over abridged with quick acks and a
/// closing transport error, the messages `tampered` encrypted with another
/// key.
fn capture(tampered: &[usize]) -> Fixture {
    let mut t = Transport::plain(Framing::Abridged);
    t.quick_acks = true;
    t.transport_error = true;
    let mut c = ConnectionSpec::new(t);
    c.tamper = tampered.iter().map(|&m| (m, Tamper::OtherKey)).collect();
    build(&CaptureSpec::single(c))
}

/// The JSON report with `--all`, its warnings and its summary.
fn report(fixture: &Fixture) -> (String, String, Summary) {
    let mut keys = KeyStore::new();
    keys.insert(fixture.key.clone());
    let options = ReportOptions { keys, format: ReportFormat::Json, all: true, ..Default::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let summary = run_capture(&fixture.bytes[..], &options, &mut out, &mut err).expect("the capture is read");
    (String::from_utf8(out).expect("UTF-8 report"), String::from_utf8(err).expect("UTF-8 warnings"), summary)
}

#[test]
fn every_kind_of_line_with_all() {
    // Messages 2 and 9 (the first encrypted request, the last answer) are
    // under another key and skipped: the answer to 2 is left without its
    // request, and 9's request without its answer.
    let fixture = capture(&[2, 9]);
    let (out, err, summary) = report(&fixture);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("json_report_lines_all", out);
    });
    // Each warning is on stderr too, in order.
    let warnings: Vec<String> = out
        .lines()
        .filter_map(|l| {
            serde_json::from_str::<Value>(l).ok()?.get("warning")?.as_str().map(|w| format!("warning: {w}"))
        })
        .collect();
    assert_eq!(err.lines().collect::<Vec<_>>(), warnings);

    // The summary line says what the run returned, count by count.
    let last: Value = serde_json::from_str(out.lines().last().expect("a summary line")).expect("JSON");
    let line = &last["summary"];
    let counts = [
        ("packets", summary.packets),
        ("connections", summary.connections as u64),
        ("frames", summary.frames),
        ("messages", summary.messages),
        ("requests", summary.requests),
        ("answers", summary.answers),
        ("matched", summary.matched),
        ("unanswered_requests", summary.unanswered()),
        ("unmatched_answers", summary.unmatched_answers),
        ("other_answers", summary.other_answers),
        ("unknown_key_messages", summary.unknown_key_messages),
        ("warnings", summary.warnings),
    ];
    assert_eq!(line.as_object().map(|o| o.len()), Some(counts.len()), "{line}");
    for (name, count) in counts {
        assert_eq!(line[name], count, "{name} in {line}");
    }
    // A capture where matching left something on both sides, so that
    // `matched` differs from both counts it could be mistaken for.
    assert_eq!(summary.unknown_key_messages, 2);
    assert_ne!(summary.matched, summary.answers);
    assert_ne!(summary.matched, summary.requests);
}
