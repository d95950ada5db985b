//! Reports of a capture: the pipeline's records turned into text, JSON
//! Lines or corpus files.
//!
//! Each report implements [`Report`] (it receives [`Record`](crate::pipeline::Record)s as the
//! pipeline hands them out, and is told when the run ends): [`TextReport`]
//! (header lines and parameter trees), [`JsonReport`] (one object per
//! line) and [`CorpusWriter`] (the bare TL bytes of every request and
//! answer, as fuzz seeds, in front of another report). [`run_capture`]
//! runs a whole capture from a reader into writers, choosing them from
//! [`ReportOptions`]; it writes as it goes, so a live pipe shows requests
//! as they happen. Warnings never stop the run; a summary closes the
//! report.

mod corpus;
mod json;
mod text;

use std::fmt;
use std::io::{self, Read, Write};
use std::path::PathBuf;

pub use corpus::CorpusWriter;
pub use json::JsonReport;
pub use text::{TextOptions, TextReport};

use crate::capture::{read_capture_into, CaptureError};
use crate::envelope::{format_key_id, KeyStore};
use crate::pipeline::{
    parallel, AnswerTo, Feeder, Message, Method, Origin, Pipeline, PipelineOptions, Prerender, RecordSink, Summary,
    Warning, ANSWERED_KEPT,
};
use crate::service::ServiceOptions;
use crate::tcp::MAX_CONNECTIONS;
use crate::tl::dynamic::Schema;
use crate::transport::TransportOptions;

/// What receives the pipeline's records and renders them.
pub trait Report: RecordSink {
    /// The run has ended (after the summary record): flush, and give the
    /// first error met writing the report, if any.
    fn finish(&mut self) -> io::Result<()>;

    /// Add what this report itself counted (files written, warnings of its
    /// own) to the pipeline's summary.
    fn add_counts(&self, _summary: &mut Summary) {}

    /// What renders this report's requests and answers ahead, on the
    /// decoding threads of a run on several ([`Decoded::rendered`](crate::pipeline::Decoded::rendered)).
    fn prerender(&self) -> Option<Box<dyn Prerender>> {
        None
    }
}

/// Requests and answers whose bytes are larger than this are rendered by
/// the report as they are written, not ahead on a decoding thread: a
/// rendering held in memory until its turn would be one more copy of an
/// answer that may be as large as the gzip cap.
pub(crate) const PRERENDER_MAX_BYTES: usize = 64 << 10;

/// How to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    /// Header lines and parameter trees.
    #[default]
    Text,
    /// JSON Lines, one object per message.
    Json,
}

/// Everything a run over a capture is told (what `inspector pcap` is told).
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub keys: KeyStore,
    pub transport: TransportOptions,
    pub service: ServiceOptions,
    pub format: ReportFormat,
    /// List every message, not only requests and answers.
    pub all: bool,
    pub hexdump: bool,
    pub color: bool,
    /// Write every exportChatInvite request and answer found (its bare TL
    /// bytes) into this directory, named by the SHA-256 of the bytes, as
    /// seeds for the fuzz targets.
    pub extract_corpus: Option<PathBuf>,
    /// Threads that decrypt, unwrap and decode (connections are shared
    /// among them); 0 or 1 runs everything on the calling thread. The
    /// report is the same, byte for byte, whatever the number.
    pub threads: usize,
    /// The schema that decodes the messages the closure does not hold (for
    /// `all`): each is then listed with its name and fields, not an id.
    pub schema: Option<&'static Schema>,
    /// Other methods (TL names) whose requests and answers are shown in
    /// full, as exportChatInvite's are (with `schema`).
    pub tree_methods: Vec<String>,
}

/// Why a run could not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The input is not a capture (its first bytes say so).
    NotACapture(String),
    /// Reading the capture failed (what the input said).
    Read(String),
    /// Writing the report failed.
    Io(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NotACapture(m) => write!(f, "not a pcap or pcapng capture: {m}"),
            RunError::Read(m) => write!(f, "cannot read the capture: {m}"),
            RunError::Io(m) => write!(f, "cannot write the report: {m}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Run the pipeline over the capture in `input`, writing the report to
/// `out` and warnings to `err` (in JSON mode warnings are also objects in
/// `out`). An `out` that is closed by its reader (a pipe into `head`) ends
/// the run early and quietly, with the counts of what was read.
pub fn run_capture<R: Read + Send, W: Write + ?Sized, E: Write + ?Sized>(
    input: R,
    options: &ReportOptions,
    out: &mut W,
    err: &mut E,
) -> Result<Summary, RunError> {
    let pipeline = PipelineOptions {
        keys: options.keys.clone(),
        transport: options.transport.clone(),
        service: options.service,
        // The tree and hex dump need spans; JSON output does not.
        trace: options.format == ReportFormat::Text,
        schema: options.schema,
        tree_methods: options.tree_methods.clone(),
        ..PipelineOptions::default()
    };
    let corpus = options.extract_corpus.as_deref();
    match options.format {
        ReportFormat::Text => {
            let text = TextOptions { all: options.all, hexdump: options.hexdump, color: options.color };
            let report = TextReport::new(out, err, text);
            match corpus {
                Some(dir) => run_report(input, pipeline, options.threads, CorpusWriter::new(dir, report)),
                None => run_report(input, pipeline, options.threads, report),
            }
        }
        ReportFormat::Json => {
            let report = JsonReport::new(out, err, options.all);
            match corpus {
                Some(dir) => run_report(input, pipeline, options.threads, CorpusWriter::new(dir, report)),
                None => run_report(input, pipeline, options.threads, report),
            }
        }
    }
}

/// Run the pipeline over the capture in `input` into one report, on the
/// calling thread (`threads` 0 or 1) or with `threads` workers
/// ([`parallel`]); the summary, with the
/// report's own counts.
pub fn run_report<I: Read + Send, R: Report>(
    input: I,
    options: PipelineOptions,
    threads: usize,
    mut report: R,
) -> Result<Summary, RunError> {
    let result = if threads > 1 {
        let prerender = report.prerender();
        parallel::run(input, &options, threads, prerender.as_deref(), &mut report)
    } else {
        let mut pipeline = Pipeline::new(options);
        read_capture_into(input, &mut Feeder { pipeline: &mut pipeline, sink: &mut report })
            .map(|stats| pipeline.finish(stats.packets, &mut report))
    };
    let mut summary = match result {
        Ok(summary) => summary,
        Err(CaptureError::NotACapture(m)) => return Err(RunError::NotACapture(m)),
        Err(CaptureError::Io(m)) => return Err(RunError::Read(m)),
    };
    report.add_counts(&mut summary);
    match report.finish() {
        Ok(()) => Ok(summary),
        // The reader has gone: nothing is lost that anyone would read.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(summary),
        Err(e) => Err(RunError::Io(e.to_string())),
    }
}

/// A write that remembers its first error and writes nothing after it.
pub(crate) struct Output<W: Write> {
    pub(crate) out: W,
    pub(crate) error: Option<io::Error>,
}

impl<W: Write> Output<W> {
    pub(crate) fn new(out: W) -> Self {
        Output { out, error: None }
    }

    pub(crate) fn write(&mut self, text: &str) {
        self.write_bytes(text.as_bytes());
    }

    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(bytes) {
                self.error = Some(e);
            }
        }
    }

    pub(crate) fn finish(&mut self) -> io::Result<()> {
        if self.error.is_none() {
            if let Err(e) = self.out.flush() {
                self.error = Some(e);
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A warning on `err`, one line (the warning, or its text already made).
pub(crate) fn write_warning<E: Write + ?Sized>(err: &mut E, warning: &impl fmt::Display) {
    let _ = writeln!(err, "warning: {warning}");
}

/// Capture time as RFC 3339 in UTC, to the microsecond, appended to `text`.
pub(crate) fn push_time(text: &mut String, ns: i128) {
    use crate::render::push_digits;
    use chrono::{Datelike, Timelike};
    use std::fmt::Write as _;
    let secs = ns.div_euclid(1_000_000_000) as i64;
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    match chrono::DateTime::from_timestamp(secs, nanos) {
        // What `%Y-%m-%dT%H:%M:%S%.6fZ` gives, without parsing that
        // format for every record (it was a tenth of the JSON report's time).
        Some(t) if (0..=9999).contains(&t.year()) => {
            push_digits(text, t.year().unsigned_abs(), 4);
            let parts = [('-', t.month()), ('-', t.day()), ('T', t.hour()), (':', t.minute()), (':', t.second())];
            for (separator, n) in parts {
                text.push(separator);
                push_digits(text, n, 2);
            }
            text.push('.');
            push_digits(text, t.nanosecond() / 1000, 6);
            text.push('Z');
        }
        Some(t) => {
            let _ = write!(text, "{}", t.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
        }
        None => {
            let _ = write!(text, "{secs}.{nanos:09}");
        }
    }
}

/// `n` in decimal, as `Display` writes it. (By hand: the report writes
/// several numbers per message, and `core::fmt`'s machinery costs more
/// than the digits.)
pub(crate) fn push_u64(text: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        text.push(char::from(d));
    }
}

/// `n` in decimal, as `Display` writes it.
pub(crate) fn push_i64(text: &mut String, n: i64) {
    if n < 0 {
        text.push('-');
    }
    push_u64(text, n.unsigned_abs());
}

/// A socket address as `Display` writes it; IPv4 by hand (see [`push_u64`]).
fn push_addr(text: &mut String, addr: &std::net::SocketAddr) {
    use std::fmt::Write as _;
    match addr {
        std::net::SocketAddr::V4(v4) => {
            for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    text.push('.');
                }
                push_u64(text, u64::from(octet));
            }
            text.push(':');
            push_u64(text, u64::from(v4.port()));
        }
        v6 => {
            let _ = write!(text, "{v6}");
        }
    }
}

/// `sender → receiver`, or `?` for a connection no longer held, as a
/// `Display` (a warning's message writes it in place, with no string of
/// its own). The report's lines append the same text with
/// [`push_connection`], without the formatting machinery.
pub(crate) struct ConnectionText<'a>(pub(crate) &'a Origin);

impl fmt::Display for ConnectionText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.from_to() {
            Some((from, to)) => write!(f, "{from} → {to}"),
            None => f.write_str("?"),
        }
    }
}

/// [`ConnectionText`], appended to `text`.
pub(crate) fn push_connection(text: &mut String, origin: &Origin) {
    match origin.from_to() {
        Some((from, to)) => {
            push_addr(text, &from);
            text.push_str(" → ");
            push_addr(text, &to);
        }
        None => text.push('?'),
    }
}

/// The transport's name, `?` until it is recognised, appended to `text`.
pub(crate) fn push_transport(text: &mut String, origin: &Origin) {
    use std::fmt::Write as _;
    match &origin.transport {
        Some(t) => {
            let _ = write!(text, "{t}");
        }
        None => text.push('?'),
    }
}

/// `time · sender → receiver · direction · transport`, appended to `s`.
pub(crate) fn push_line_header(s: &mut String, origin: &Origin) {
    push_time(s, origin.time_ns);
    s.push_str(" · ");
    push_connection(s, origin);
    s.push_str(" · ");
    s.push_str(origin.direction.label());
    s.push_str(" · ");
    push_transport(s, origin);
}

/// The line header and the message's envelope (key, msg_id, seq_no,
/// wrappers), appended to `s`.
pub(crate) fn push_message_header(s: &mut String, message: &Message<'_>) {
    push_line_header(s, &message.origin);
    if message.encrypted {
        s.push_str(" · encrypted (");
        crate::envelope::push_key_id(s, message.auth_key_id);
        s.push(')');
    } else {
        s.push_str(" · unencrypted");
    }
    s.push_str(" · msg_id ");
    push_i64(s, message.msg_id);
    if let Some(q) = message.seq_no {
        s.push_str(" · seq_no ");
        push_i64(s, i64::from(q));
    }
    if !message.wrapping.is_empty() {
        s.push_str(" · ");
        crate::service::push_chain_text(s, message.wrapping);
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Named(name) => f.write_str(name),
            Method::Id(id) => write!(f, "0x{id:08x}"),
        }
    }
}

impl fmt::Display for AnswerTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerTo::Request { number } => write!(f, "answer to request #{number}"),
            AnswerTo::Again { number } => write!(f, "another answer to request #{number}"),
            AnswerTo::Other { req_msg_id, method } => write!(f, "answer to msg_id {req_msg_id}, a {method} request"),
            AnswerTo::NotInCapture { req_msg_id, maybe_forgotten: true } => write!(
                f,
                "answer to msg_id {req_msg_id}, a request not in the capture or answered more than \
                 {ANSWERED_KEPT} answers ago"
            ),
            AnswerTo::NotInCapture { req_msg_id, maybe_forgotten: false } => {
                write!(f, "answer to msg_id {req_msg_id}, a request not in the capture")
            }
            AnswerTo::Nothing => f.write_str("answer without a request"),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Capture(w) => write!(f, "{w}"),
            Warning::Packet { number, problem } => write!(f, "packet {number}: {problem}"),
            Warning::StartedBeforeCapture { client, server, forced_plain } => {
                let how = if *forced_plain {
                    "decoding with the forced transport from the first captured byte"
                } else {
                    "looking for plain-transport frames in its bytes (an obfuscated connection cannot be read without its first 64 bytes)"
                };
                write!(f, "connection {client} → {server} started before the capture: {how}")
            }
            Warning::Gap { origin, offset, len } => write!(
                f,
                "{} {}: {len} bytes missing from the capture at stream offset {offset}",
                ConnectionText(origin),
                origin.direction
            ),
            Warning::FirstConnectionForgotten { origin } => write!(
                f,
                "connection {} forgotten: more than {MAX_CONNECTIONS} connections were held at once, \
                 so the least recently active are forgotten from now on (one that speaks again is then \
                 seen from the middle; a count follows at the end)",
                ConnectionText(origin)
            ),
            Warning::ConnectionsForgotten { count } => write!(
                f,
                "{count} open connections were forgotten in all, to stay within {MAX_CONNECTIONS} held at once"
            ),
            Warning::Envelope { origin, stream_offset, error } => write!(
                f,
                "{} {} frame at stream offset {stream_offset}: {error}",
                ConnectionText(origin),
                origin.direction
            ),
            Warning::UnknownKey { origin, auth_key_id } => write!(
                f,
                "{} {}: messages encrypted with unknown auth key {} are skipped (give it with --auth-key)",
                ConnectionText(origin),
                origin.direction,
                format_key_id(*auth_key_id)
            ),
            Warning::TrailingBytes { origin, msg_id, trailing } => write!(
                f,
                "{} {} unencrypted message {msg_id}: {trailing} bytes after the length its header gives",
                ConnectionText(origin),
                origin.direction
            ),
            Warning::TransportError { origin, code, stream_offset } => {
                let meaning = match code {
                    -404 => " (auth key not found)",
                    -429 => " (too many connections)",
                    -444 => " (invalid DC)",
                    _ => "",
                };
                write!(
                    f,
                    "{} {}: transport error {code}{meaning} at stream offset {stream_offset}",
                    ConnectionText(origin),
                    origin.direction
                )
            }
            Warning::Transport { origin, problem } => write!(f, "{} {problem}", ConnectionText(origin)),
            Warning::Malformed { origin, msg_id, stream_offset, error } => write!(
                f,
                "{} {} message {msg_id} (stream offset {stream_offset}): {error}",
                ConnectionText(origin),
                origin.direction
            ),
            Warning::Undecodable { answer: false, msg_id, error } => write!(f, "request {msg_id}: {error}"),
            Warning::Undecodable { answer: true, msg_id, error } => write!(f, "answer in {msg_id}: {error}"),
            Warning::Report(message) => f.write_str(message),
        }
    }
}

#[cfg(test)]
mod tests;
