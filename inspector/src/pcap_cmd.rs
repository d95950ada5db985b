//! `inspector pcap`: the whole pipeline over a capture, and its report.
//!
//! capture → tcp → transport → envelope → service → tl → render, one
//! packet at a time, writing as it goes (so a live pipe shows requests as
//! they happen). Each exportChatInvite request gets a header line and the
//! TL core's parameter tree; each answer is matched to its request by
//! `req_msg_id` (across containers and connections; an unencrypted answer,
//! which has no rpc_result, answers the oldest unanswered unencrypted
//! request of its connection). `--format json` writes JSON Lines instead.
//! Warnings never stop the run; a summary closes the report. Memory does
//! not grow with the capture: a connection's state goes when it closes (or
//! when the reassembler forgets it, past [`MAX_CONNECTIONS`]), and only
//! requests still waiting for an answer and the last [`ANSWERED_KEPT`]
//! answered ones are remembered.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::capture::{decode_packet, read_capture, CaptureError, CaptureWarning, NotTcp, Packet};
use crate::envelope::{format_key_id, open_message, parse_auth_key, parse_keylog, Envelope, KeyStore};
use crate::render::{hexdump, tree};
use crate::service::{chain_text, unwrap_message, Content, ServiceOptions, Unwrapped, Wrapper};
use crate::tcp::Direction;
use crate::tcp::{ConnId, TcpEvent, TcpReassembler, TcpSink, MAX_CONNECTIONS};
use crate::tl::json::TlJson;
use crate::tl::{decode_top, decode_traced_into, with_flag_fields, DecodeOptions, Frame, Recorder};
use crate::transport::{parse_mtproxy_secret, Framing, TransportConnection, TransportEvent, TransportOptions};

/// How to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
}

/// Everything `inspector pcap` is told.
#[derive(Debug, Clone, Default)]
pub struct PcapOptions {
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
}

/// The counts printed at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PcapSummary {
    pub packets: u64,
    pub connections: usize,
    pub frames: u64,
    pub messages: u64,
    pub requests: u64,
    pub answers: u64,
    pub matched: u64,
    pub unmatched_answers: u64,
    pub unknown_key_messages: u64,
    pub warnings: u64,
    /// Files written by `--extract-corpus` (new ones; a seed already
    /// there is not counted).
    pub extracted: u64,
}

impl PcapSummary {
    /// Requests without an answer in the capture.
    pub fn unanswered(&self) -> u64 {
        self.requests - self.matched.min(self.requests)
    }
}

/// Run the pipeline over `input`, writing the report to `out` and
/// warnings to `err` (in JSON mode warnings are also objects in `out`).
pub fn run_pcap<R: Read, W: Write + ?Sized, E: Write + ?Sized>(
    input: R,
    options: &PcapOptions,
    out: &mut W,
    err: &mut E,
) -> Result<PcapSummary, PcapRunError> {
    let p = std::cell::RefCell::new(Pipeline {
        options,
        out,
        err,
        io_error: None,
        conns: HashMap::new(),
        requests: HashMap::new(),
        answered: VecDeque::new(),
        forgotten_up_to: None,
        plain_requests: HashMap::new(),
        warned_keys: HashSet::new(),
        summary: PcapSummary::default(),
        transport_events: Vec::new(),
        now_ns: 0,
        recorder: Recorder::default(),
        warned_forgotten: false,
    });
    // The reassembler lends each segment's bytes to the pipeline, which
    // is therefore not its owner.
    let mut tcp = TcpReassembler::new();
    // Both callbacks drive the same pipeline, one call at a time.
    let stats =
        read_capture(input, |packet| p.borrow_mut().packet(&mut tcp, packet), |w| p.borrow_mut().capture_warning(w));
    let mut p = p.into_inner();
    let stats = match stats {
        Ok(s) => s,
        Err(CaptureError::NotACapture(m)) => return Err(PcapRunError::NotACapture(m)),
        Err(CaptureError::Io(m)) => return Err(PcapRunError::Io(m)),
    };
    tcp.finish(&mut p);
    let n = tcp.stats().forgotten_connections;
    if n > 1 {
        p.warn(format!("{n} open connections were forgotten in all, to stay within {MAX_CONNECTIONS} held at once"));
    }
    p.summary.packets = stats.packets;
    p.summary.connections = tcp.connection_count();
    p.write_summary();
    match p.io_error {
        Some(e) => Err(PcapRunError::Io(e)),
        None => Ok(p.summary),
    }
}

/// Why the run could not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcapRunError {
    NotACapture(String),
    Io(String),
}

impl std::fmt::Display for PcapRunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcapRunError::NotACapture(m) => write!(f, "not a pcap or pcapng capture: {m}"),
            PcapRunError::Io(m) => write!(f, "I/O error: {m}"),
        }
    }
}

struct ConnState {
    /// Made when the first bytes (or the first gap) arrive, and boxed: a
    /// capture of many connections that carry nothing (a port scan) then
    /// costs a few dozen bytes per connection, not the transport's ciphers
    /// and buffers.
    transport: Option<Box<TransportConnection>>,
    /// Whether the connection's start was captured (how its transport
    /// must begin).
    from_start: bool,
    client: SocketAddr,
    server: SocketAddr,
    /// The transport, once recognised (empty before).
    label: String,
    /// FIN or RST seen, client then server.
    closed: [bool; 2],
}

impl ConnState {
    /// The transport's name, `?` until it is recognised.
    fn label(&self) -> &str {
        if self.label.is_empty() {
            "?"
        } else {
            &self.label
        }
    }
}

/// A request seen, for matching.
struct RequestSeen {
    number: u64,
    answered: bool,
}

/// Answered requests whose msg_id is still remembered, to name a second
/// answer to one of them ("another answer to request #n"). Older answered
/// requests are forgotten, so that memory does not grow with the number of
/// requests a capture holds (a request still waiting for its answer is
/// kept to the end). A server repeats an answer within moments, not after
/// this many others.
pub const ANSWERED_KEPT: usize = 16_384;

struct Pipeline<'a, W: Write + ?Sized, E: Write + ?Sized> {
    options: &'a PcapOptions,
    out: &'a mut W,
    err: &'a mut E,
    io_error: Option<String>,
    conns: HashMap<ConnId, ConnState>,
    /// Requests by msg_id: every unanswered one, and the last
    /// [`ANSWERED_KEPT`] answered ones.
    requests: HashMap<i64, RequestSeen>,
    /// The answered requests still in `requests`, oldest answer first.
    answered: VecDeque<i64>,
    /// The largest msg_id of an answered request forgotten so far.
    forgotten_up_to: Option<i64>,
    /// Unencrypted requests waiting for an answer, per connection.
    plain_requests: HashMap<ConnId, VecDeque<i64>>,
    warned_keys: HashSet<u64>,
    summary: PcapSummary,
    transport_events: Vec<TransportEvent>,
    now_ns: i128,
    /// The TL core's trace and warnings, one allocation reused for every frame.
    recorder: Recorder,
    /// Whether the reassembler's forgetting of open connections (past
    /// [`MAX_CONNECTIONS`]) was announced; its count comes at the end.
    warned_forgotten: bool,
}

impl<W: Write + ?Sized, E: Write + ?Sized> TcpSink for Pipeline<'_, W, E> {
    fn event(&mut self, event: TcpEvent<'_>) {
        self.tcp_event(event);
    }
}

/// Where a message was found.
struct Meta {
    conn: ConnId,
    direction: Direction,
    encrypted: bool,
    auth_key_id: u64,
    stream_offset: u64,
}

fn format_time(ns: i128) -> String {
    let secs = ns.div_euclid(1_000_000_000) as i64;
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    match chrono::DateTime::from_timestamp(secs, nanos) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => format!("{secs}.{nanos:09}"),
    }
}

impl<W: Write + ?Sized, E: Write + ?Sized> Pipeline<'_, W, E> {
    fn write_out(&mut self, text: &str) {
        if self.io_error.is_none() {
            if let Err(e) = self.out.write_all(text.as_bytes()) {
                self.io_error = Some(e.to_string());
            }
        }
    }

    fn warn(&mut self, message: String) {
        self.summary.warnings += 1;
        let _ = writeln!(self.err, "warning: {message}");
        if self.options.format == ReportFormat::Json {
            let line = json!({"warning": message}).to_string() + "\n";
            self.write_out(&line);
        }
    }

    fn capture_warning(&mut self, w: CaptureWarning) {
        self.warn(w.to_string());
    }

    fn packet(&mut self, tcp: &mut TcpReassembler, packet: &Packet<'_>) {
        self.now_ns = packet.time_ns;
        let segment = match decode_packet(packet.linktype, packet.data) {
            Ok(s) => s,
            Err(NotTcp::OtherProtocol) => return,
            Err(e) => {
                self.warn(format!("packet {}: {e}", packet.number));
                return;
            }
        };
        tcp.segment(&segment, self);
    }

    fn conn_text(&self, conn: ConnId, direction: Direction) -> String {
        match self.conns.get(&conn) {
            Some(c) => match direction {
                Direction::ClientToServer => format!("{} → {}", c.client, c.server),
                Direction::ServerToClient => format!("{} → {}", c.server, c.client),
            },
            None => String::from("?"),
        }
    }

    fn tcp_event(&mut self, event: TcpEvent<'_>) {
        match event {
            TcpEvent::Opened { conn, client, server, from_start } => {
                let forced_plain = matches!(self.options.transport.forced, Some((_, false)));
                self.conns.insert(
                    conn,
                    ConnState { transport: None, from_start, client, server, label: String::new(), closed: [false; 2] },
                );
                if !from_start {
                    let how = if forced_plain {
                        "decoding with the forced transport from the first captured byte"
                    } else {
                        "looking for plain-transport frames in its bytes (an obfuscated connection cannot be read without its first 64 bytes)"
                    };
                    self.warn(format!("connection {client} → {server} started before the capture: {how}"));
                }
            }
            TcpEvent::Data { conn, direction, bytes, .. } => {
                let mut events = std::mem::take(&mut self.transport_events);
                if let Some(t) = self.transport(conn) {
                    t.feed(direction, &bytes, &mut events);
                }
                for e in events.drain(..) {
                    self.transport_event(conn, e);
                }
                self.transport_events = events;
            }
            TcpEvent::Gap { conn, direction, offset, len } => {
                let where_ = self.conn_text(conn, direction);
                self.warn(format!(
                    "{where_} {direction}: {len} bytes missing from the capture at stream offset {offset}"
                ));
                let mut events = std::mem::take(&mut self.transport_events);
                if let Some(t) = self.transport(conn) {
                    t.gap(direction, len, &mut events);
                }
                for e in events.drain(..) {
                    self.transport_event(conn, e);
                }
                self.transport_events = events;
            }
            TcpEvent::Forgotten { conn } => {
                if !self.warned_forgotten {
                    self.warned_forgotten = true;
                    let what = self.conn_text(conn, Direction::ClientToServer);
                    self.warn(format!(
                        "connection {what} forgotten: more than {MAX_CONNECTIONS} connections were held at once, \
                         so the least recently active are forgotten from now on (one that speaks again is then \
                         seen from the middle; a count follows at the end)"
                    ));
                }
                self.conns.remove(&conn);
                self.plain_requests.remove(&conn);
            }
            TcpEvent::Closed { conn, direction, .. } => {
                // Once both sides have closed no more bytes can come, and
                // the connection's state (the transport's buffers keep the
                // capacity of its largest frame, its ciphers) is dropped:
                // kept, it made peak RSS grow by kilobytes per connection
                // in the capture benchmark.
                let side = usize::from(direction == Direction::ServerToClient);
                let done = self.conns.get_mut(&conn).is_some_and(|c| {
                    c.closed[side] = true;
                    c.closed == [true; 2]
                });
                if done {
                    self.conns.remove(&conn);
                    self.plain_requests.remove(&conn);
                }
            }
        }
    }

    /// The transport of connection `conn`, made on first use.
    fn transport(&mut self, conn: ConnId) -> Option<&mut TransportConnection> {
        let c = self.conns.get_mut(&conn)?;
        if c.transport.is_none() {
            let mut options = self.options.transport.clone();
            options.known_key_ids = self.options.keys.ids();
            c.transport = Some(Box::new(if c.from_start {
                TransportConnection::new(options)
            } else {
                TransportConnection::mid_stream(options)
            }));
        }
        c.transport.as_deref_mut()
    }

    fn transport_event(&mut self, conn: ConnId, event: TransportEvent) {
        match event {
            TransportEvent::Detected(info) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.label = info.to_string();
                }
            }
            TransportEvent::Frame(frame) => {
                self.summary.frames += 1;
                let envelope = open_message(&frame.payload, frame.direction, &self.options.keys);
                // Only for warnings: formatting it for every frame cost more
                // than some stages.
                let where_ = |p: &Self| p.conn_text(conn, frame.direction);
                match envelope {
                    Err(e) => self.warn(format!(
                        "{} {} frame at stream offset {}: {e}",
                        where_(self),
                        frame.direction,
                        frame.stream_offset
                    )),
                    Ok(Envelope::UnknownKey { auth_key_id }) => {
                        self.summary.unknown_key_messages += 1;
                        if self.warned_keys.insert(auth_key_id) {
                            let where_ = where_(self);
                            self.warn(format!(
                                "{where_} {}: messages encrypted with unknown auth key {} are skipped (give it with --auth-key)",
                                frame.direction,
                                format_key_id(auth_key_id)
                            ));
                        }
                        if self.options.all {
                            let line = self.line_header(conn, frame.direction)
                                + &format!(
                                    " · encrypted with unknown key {} · {} bytes skipped\n",
                                    format_key_id(auth_key_id),
                                    frame.payload.len()
                                );
                            self.list_line(
                                &line,
                                json!({"skipped": "unknown auth key", "auth_key_id": format_key_id(auth_key_id)}),
                                conn,
                                frame.direction,
                            );
                        }
                    }
                    Ok(Envelope::Plain { msg_id, data, trailing }) => {
                        if trailing > 0 {
                            self.warn(format!(
                                "{} {} unencrypted message {msg_id}: {trailing} bytes after the length its header gives",
                                where_(self),
                                frame.direction
                            ));
                        }
                        self.summary.messages += 1;
                        let meta = Meta {
                            conn,
                            direction: frame.direction,
                            encrypted: false,
                            auth_key_id: 0,
                            stream_offset: frame.stream_offset,
                        };
                        let items = unwrap_message(data, msg_id, 0, self.options.service);
                        self.items(&meta, items, None);
                    }
                    Ok(Envelope::Encrypted(m)) => {
                        self.summary.messages += 1;
                        let meta = Meta {
                            conn,
                            direction: frame.direction,
                            encrypted: true,
                            auth_key_id: m.auth_key_id,
                            stream_offset: frame.stream_offset,
                        };
                        let items = unwrap_message(&m.data, m.msg_id, m.seq_no, self.options.service);
                        self.items(&meta, items, Some(m.seq_no));
                    }
                }
            }
            TransportEvent::QuickAck { direction, token, .. } => {
                if self.options.all {
                    let line = self.line_header(conn, direction) + &format!(" · quick ack {token:08x}\n");
                    self.list_line(&line, json!({"quick_ack": token}), conn, direction);
                }
            }
            TransportEvent::TransportError { direction, code, stream_offset } => {
                let meaning = match code {
                    -404 => " (auth key not found)",
                    -429 => " (too many connections)",
                    -444 => " (invalid DC)",
                    _ => "",
                };
                let where_ = self.conn_text(conn, direction);
                self.warn(format!(
                    "{where_} {direction}: transport error {code}{meaning} at stream offset {stream_offset}"
                ));
            }
            TransportEvent::Problem(problem) => {
                let where_ = self.conn_text(conn, problem.direction);
                self.warn(format!("{where_} {problem}"));
            }
        }
    }

    fn line_header(&self, conn: ConnId, direction: Direction) -> String {
        let label = self.conns.get(&conn).map_or("?", ConnState::label);
        format!("{} · {} · {direction} · {label}", format_time(self.now_ns), self.conn_text(conn, direction))
    }

    /// A one-line entry of `--all` (text) or its JSON object.
    fn list_line(&mut self, text: &str, mut extra: Value, conn: ConnId, direction: Direction) {
        match self.options.format {
            ReportFormat::Text => self.write_out(text),
            ReportFormat::Json => {
                let mut o = Map::new();
                o.insert("time".into(), format_time(self.now_ns).into());
                o.insert("connection".into(), self.conn_text(conn, direction).into());
                o.insert("direction".into(), direction.label().into());
                if let Value::Object(m) = extra.take() {
                    o.extend(m);
                }
                let line = Value::Object(o).to_string() + "\n";
                self.write_out(&line);
            }
        }
    }

    fn items(&mut self, meta: &Meta, items: Vec<Unwrapped>, seq_no: Option<i32>) {
        for item in items {
            let seq = seq_no.map(|_| item.seq_no);
            match &item.content {
                Content::Request(bytes) => self.request(meta, &item, bytes, seq),
                Content::Answer(bytes) => self.answer(meta, &item, bytes, seq),
                Content::Malformed(e) => {
                    let where_ = self.conn_text(meta.conn, meta.direction);
                    self.warn(format!(
                        "{where_} {} message {} (stream offset {}): {e}",
                        meta.direction, item.msg_id, meta.stream_offset
                    ));
                }
                Content::Service(m) => {
                    if self.options.all {
                        let text = self.message_header(meta, &item, seq) + " · " + &m.summary() + "\n";
                        let j = self.message_json(meta, &item, seq, "service", m.to_json(), &item.wrapping);
                        self.emit(&text, j);
                    }
                }
                Content::Other { id, len } => {
                    if self.options.all {
                        let text = self.message_header(meta, &item, seq)
                            + &format!(" · constructor 0x{id:08x}, {len} bytes\n");
                        let body = json!({"_": format!("0x{id:08x}"), "length": len});
                        let j = self.message_json(meta, &item, seq, "other", body, &item.wrapping);
                        self.emit(&text, j);
                    }
                }
            }
        }
    }

    /// Whether the text report is written (else JSON Lines): text-only
    /// work is skipped otherwise.
    fn text_report(&self) -> bool {
        self.options.format == ReportFormat::Text
    }

    fn emit(&mut self, text: &str, json: Value) {
        match self.options.format {
            ReportFormat::Text => self.write_out(text),
            ReportFormat::Json => self.write_json_line(&json),
        }
    }

    /// Serialise straight into the output, not into a string first: an
    /// answer near the gzip cap (16 MiB of title) would otherwise be held
    /// once more, which showed in the benchmark's peak RSS. A small buffer
    /// gathers serde's many small writes, which a line-buffered stdout
    /// would each scan for a newline.
    fn write_json_line(&mut self, value: &Value) {
        if self.io_error.is_some() {
            return;
        }
        let mut w = std::io::BufWriter::new(&mut *self.out);
        let written = serde_json::to_writer(&mut w, value)
            .map_err(std::io::Error::from)
            .and_then(|()| w.write_all(b"\n"))
            .and_then(|()| w.flush());
        drop(w);
        if let Err(e) = written {
            self.io_error = Some(e.to_string());
        }
    }

    fn message_header(&self, meta: &Meta, item: &Unwrapped, seq: Option<i32>) -> String {
        let mut s = self.line_header(meta.conn, meta.direction);
        if meta.encrypted {
            let _ = write!(s, " · encrypted ({})", format_key_id(meta.auth_key_id));
        } else {
            s.push_str(" · unencrypted");
        }
        let _ = write!(s, " · msg_id {}", item.msg_id);
        if let Some(q) = seq {
            let _ = write!(s, " · seq_no {q}");
        }
        if !item.wrapping.is_empty() {
            let _ = write!(s, " · {}", chain_text(&item.wrapping));
        }
        s
    }

    fn message_json(
        &self,
        meta: &Meta,
        item: &Unwrapped,
        seq: Option<i32>,
        kind: &str,
        body: Value,
        wrapping: &[Wrapper],
    ) -> Value {
        let label = self.conns.get(&meta.conn).map_or("?", ConnState::label);
        let mut o = Map::new();
        o.insert("time".into(), format_time(self.now_ns).into());
        o.insert("connection".into(), self.conn_text(meta.conn, meta.direction).into());
        o.insert("direction".into(), meta.direction.label().into());
        o.insert("transport".into(), label.into());
        o.insert("encrypted".into(), meta.encrypted.into());
        o.insert("auth_key_id".into(), format_key_id(meta.auth_key_id).into());
        o.insert("msg_id".into(), item.msg_id.into());
        o.insert("seq_no".into(), seq.map_or(Value::Null, Value::from));
        o.insert("kind".into(), kind.into());
        let names: Vec<Value> = wrapping.iter().map(|w| Value::from(w.name())).collect();
        o.insert("wrapping".into(), names.into());
        if let Some(r) = item.req_msg_id {
            o.insert("req_msg_id".into(), r.into());
        }
        o.insert("body".into(), body);
        Value::Object(o)
    }

    /// Decode request or answer bytes with the TL core: its JSON, tree and
    /// hex dump, or the error. The tree and hex dump are text-report only
    /// (rendering them took a sixth of a JSON run's time, to be dropped).
    fn decode(&mut self, bytes: &[u8], what: &str) -> (Value, String) {
        // JSON output needs no spans: skip the trace. The text report reuses
        // one recorder for every frame of the capture.
        let result = if self.text_report() {
            decode_traced_into::<Frame>(bytes, DecodeOptions::strict(), &mut self.recorder)
        } else {
            decode_top::<Frame>(bytes, DecodeOptions::strict())
        };
        let (body, error) = match result {
            // Moved into the JSON rather than copied: a large answer is held once less.
            Ok(frame) => (frame.into_json(), None),
            Err(e) => {
                let message = format!("{what}: {e}");
                self.warn(message.clone());
                (json!({"error": message}), Some(e))
            }
        };
        if !self.text_report() {
            return (body, String::new());
        }
        // On an error too: show what decoded, the warning says why the rest did not.
        let fields = with_flag_fields(&self.recorder.events, error.as_ref());
        let mut text = tree::render_tree(bytes, &fields, self.options.color);
        if self.options.hexdump {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&hexdump::render_hexdump(bytes, &self.recorder.events, self.options.color));
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        (body, text)
    }

    /// Save `bytes` as a fuzz seed named by its SHA-256.
    fn extract(&mut self, bytes: &[u8]) {
        let Some(dir) = &self.options.extract_corpus else { return };
        let name = crate::hex::encode(&Sha256::digest(bytes));
        let path = dir.join(name);
        if path.exists() {
            return;
        }
        match std::fs::write(&path, bytes) {
            Ok(()) => self.summary.extracted += 1,
            Err(e) => self.warn(format!("--extract-corpus: cannot write {}: {e}", path.display())),
        }
    }

    fn request(&mut self, meta: &Meta, item: &Unwrapped, bytes: &[u8], seq: Option<i32>) {
        self.extract(bytes);
        self.summary.requests += 1;
        let number = self.summary.requests;
        self.requests.insert(item.msg_id, RequestSeen { number, answered: false });
        if !meta.encrypted {
            self.plain_requests.entry(meta.conn).or_default().push_back(item.msg_id);
        }
        let (body, tree_text) = self.decode(bytes, &format!("request {}", item.msg_id));
        let text = if self.text_report() {
            format!("\nrequest #{number} · {}\n", self.message_header(meta, item, seq)) + &tree_text
        } else {
            String::new()
        };
        let json = self.message_json(meta, item, seq, "request", body, &item.wrapping);
        self.emit(&text, json);
    }

    fn answer(&mut self, meta: &Meta, item: &Unwrapped, bytes: &[u8], seq: Option<i32>) {
        self.extract(bytes);
        self.summary.answers += 1;
        // An unencrypted answer has no rpc_result: it answers the oldest
        // open unencrypted request on its connection.
        let req = item.req_msg_id.or_else(|| {
            if meta.encrypted {
                None
            } else {
                self.plain_requests.get_mut(&meta.conn).and_then(VecDeque::pop_front)
            }
        });
        let matched = req.and_then(|r| self.requests.get_mut(&r)).map(|seen| {
            let first = !seen.answered;
            seen.answered = true;
            (seen.number, first)
        });
        let to = match matched {
            Some((n, true)) => {
                self.summary.matched += 1;
                if let Some(r) = req {
                    self.remember_answered(r);
                }
                format!("answer to request #{n}")
            }
            Some((n, false)) => format!("another answer to request #{n}"),
            None => {
                self.summary.unmatched_answers += 1;
                match req {
                    Some(r) if self.forgotten_up_to.is_some_and(|f| r <= f) => format!(
                        "answer to msg_id {r}, a request not in the capture or answered more than \
                         {ANSWERED_KEPT} answers ago"
                    ),
                    Some(r) => format!("answer to msg_id {r}, a request not in the capture"),
                    None => String::from("answer without a request"),
                }
            }
        };
        let (body, tree_text) = self.decode(bytes, &format!("answer in {}", item.msg_id));
        let text = if self.text_report() {
            format!("\n{to} · {}\n", self.message_header(meta, item, seq)) + &tree_text
        } else {
            String::new()
        };
        // The answer's wrapping lists what was removed around the result
        // itself; rpc_result is given by req_msg_id. An unencrypted answer
        // says so, as the capture manifests do.
        let mut wrapping: Vec<Wrapper> = Vec::new();
        let mut names_prefix = Vec::new();
        if !meta.encrypted {
            names_prefix.push("unencrypted");
        }
        for w in &item.wrapping {
            if !matches!(w, Wrapper::RpcResult { .. }) {
                wrapping.push(w.clone());
            }
        }
        let mut json = self.message_json(meta, item, seq, "answer", body, &wrapping);
        if !names_prefix.is_empty() {
            if let Some(Value::Array(list)) = json.get_mut("wrapping") {
                for (i, n) in names_prefix.iter().enumerate() {
                    list.insert(i, Value::from(*n));
                }
            }
        }
        if let (Some(r), Some(o)) = (req, json.as_object_mut()) {
            o.insert("req_msg_id".into(), r.into());
        }
        self.emit(&text, json);
    }

    /// Note that request `msg_id` has its answer, forgetting the request
    /// answered longest ago beyond [`ANSWERED_KEPT`].
    fn remember_answered(&mut self, msg_id: i64) {
        self.answered.push_back(msg_id);
        if self.answered.len() > ANSWERED_KEPT {
            if let Some(old) = self.answered.pop_front() {
                self.requests.remove(&old);
                self.forgotten_up_to = self.forgotten_up_to.max(Some(old));
            }
        }
    }

    fn write_summary(&mut self) {
        let s = self.summary.clone();
        match self.options.format {
            ReportFormat::Text => {
                let text = format!(
                    "\nsummary: {} packets, {} connection{}, {} frames, {} messages, {} requests, {} answers, {} matched, {} requests unanswered, {} answers unmatched, {} messages with unknown keys, {} warnings\n",
                    s.packets,
                    s.connections,
                    if s.connections == 1 { "" } else { "s" },
                    s.frames,
                    s.messages,
                    s.requests,
                    s.answers,
                    s.matched,
                    s.unanswered(),
                    s.unmatched_answers,
                    s.unknown_key_messages,
                    s.warnings
                );
                self.write_out(&text);
            }
            ReportFormat::Json => {
                let line = json!({"summary": {
                    "packets": s.packets, "connections": s.connections, "frames": s.frames,
                    "messages": s.messages, "requests": s.requests, "answers": s.answers,
                    "matched": s.matched, "unanswered_requests": s.unanswered(),
                    "unmatched_answers": s.unmatched_answers,
                    "unknown_key_messages": s.unknown_key_messages, "warnings": s.warnings,
                }})
                .to_string()
                    + "\n";
                self.write_out(&line);
            }
        }
        if let Err(e) = self.out.flush() {
            self.io_error.get_or_insert(e.to_string());
        }
    }
}

/// A transport to force instead of detecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportChoice {
    Abridged,
    Intermediate,
    PaddedIntermediate,
    Full,
    ObfuscatedAbridged,
    ObfuscatedIntermediate,
    ObfuscatedPaddedIntermediate,
}

impl TransportChoice {
    fn forced(self) -> (Framing, bool) {
        match self {
            TransportChoice::Abridged => (Framing::Abridged, false),
            TransportChoice::Intermediate => (Framing::Intermediate, false),
            TransportChoice::PaddedIntermediate => (Framing::PaddedIntermediate, false),
            TransportChoice::Full => (Framing::Full, false),
            TransportChoice::ObfuscatedAbridged => (Framing::Abridged, true),
            TransportChoice::ObfuscatedIntermediate => (Framing::Intermediate, true),
            TransportChoice::ObfuscatedPaddedIntermediate => (Framing::PaddedIntermediate, true),
        }
    }
}

/// Output formats of `inspector pcap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PcapFormat {
    /// Header lines and parameter trees.
    Text,
    /// JSON Lines, one object per message.
    Json,
}

/// Examples shown by `inspector pcap --help`.
pub const PCAP_EXAMPLES: &str = "\
Examples:
  inspector pcap capture.pcapng --auth-key key.hex
  inspector pcap capture.pcap --auth-key @key.hex --format json
  inspector pcap capture.pcap --keylog keys.txt --all
  tcpdump -i any -U -w - port 443 | inspector pcap - --auth-key @key.hex

Answers are matched to their requests by req_msg_id, across connections.
Memory stays flat however long the capture: a connection is forgotten once
closed, at most 32768 are held (past that the least recently active are
forgotten, with a warning), and of the answered requests only the last
16384 are remembered (to name a repeated answer).

Exit status: 0 the capture was read (even with warnings), 1 not a capture, 2 usage or I/O error.";

/// The arguments of `inspector pcap`.
#[derive(Debug, clap::Args)]
pub struct PcapArgs {
    /// The capture (pcap or pcapng), or - for standard input.
    pub file: PathBuf,

    /// An auth key: 512 hex digits, @FILE, or the path of a file holding it
    /// as hex or as 256 raw bytes. Repeatable.
    #[arg(long = "auth-key", value_name = "KEY")]
    pub auth_keys: Vec<String>,

    /// A file of auth keys, one per line in hex; lines starting # are ignored.
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<PathBuf>,

    /// Force the transport instead of detecting it.
    #[arg(long, value_enum)]
    pub transport: Option<TransportChoice>,

    /// An MTProxy secret in hex (16 bytes, or 17 with a dd prefix).
    #[arg(long, value_name = "HEX")]
    pub mtproxy_secret: Option<String>,

    /// What to print.
    #[arg(long, value_enum, default_value_t = PcapFormat::Text)]
    pub format: PcapFormat,

    /// List every message, one line each for service messages.
    #[arg(long)]
    pub all: bool,

    /// Add the annotated hex dump of each decoded object.
    #[arg(long)]
    pub hexdump: bool,

    /// The most bytes the gzip_packed objects of one message may
    /// decompress to, together.
    #[arg(long, default_value_t = crate::service::DEFAULT_GZIP_CAP, value_name = "BYTES")]
    pub gzip_cap: usize,

    /// How deep wrappers (containers, gzip_packed, rpc_result, invoke*) may
    /// nest before a message is reported as too deep.
    #[arg(long, default_value_t = crate::service::DEFAULT_MAX_DEPTH, value_name = "N", value_parser = parse_max_depth)]
    pub max_depth: usize,

    /// Write every exportChatInvite request and answer found (bare TL
    /// bytes) into DIR, named by content hash, as fuzz seeds.
    #[arg(long, value_name = "DIR")]
    pub extract_corpus: Option<PathBuf>,
}

/// The deepest `--max-depth` accepted: unwrapping recurses once per level,
/// and this keeps the stack small on any thread.
pub const MAX_DEPTH_LIMIT: usize = 256;

fn parse_max_depth(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_DEPTH_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!("expected a number from 1 to {MAX_DEPTH_LIMIT}")),
    }
}

/// Load the keys the arguments name.
fn load_keys(args: &PcapArgs) -> Result<KeyStore, String> {
    let mut keys = KeyStore::new();
    for spec in &args.auth_keys {
        let looks_hex = spec.len() >= 64 && spec.chars().all(|c| c.is_ascii_hexdigit());
        let key = if looks_hex {
            parse_auth_key(spec.as_bytes()).map_err(|e| format!("--auth-key: {e}"))?
        } else {
            let path = spec.strip_prefix('@').unwrap_or(spec);
            let content = std::fs::read(path).map_err(|e| format!("cannot read auth key file {path}: {e}"))?;
            parse_auth_key(&content).map_err(|e| format!("{path}: {e}"))?
        };
        keys.insert(key);
    }
    for path in &args.keylog {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for key in parse_keylog(&text).map_err(|e| format!("{}: {e}", path.display()))? {
            keys.insert(key);
        }
    }
    Ok(keys)
}

/// Run `inspector pcap`; the exit status.
pub fn run_command(
    args: &PcapArgs,
    color: bool,
    stdin: &mut dyn Read,
    stdin_is_terminal: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    stderr_is_terminal: bool,
) -> i32 {
    let fail = |stderr: &mut dyn Write, status: i32, message: &str| {
        let _ = writeln!(stderr, "inspector: {message}");
        status
    };
    let keys = match load_keys(args) {
        Ok(k) => k,
        Err(m) => return fail(stderr, crate::cli::EXIT_USAGE, &m),
    };
    let mtproxy_secret = match args.mtproxy_secret.as_deref().map(parse_mtproxy_secret).transpose() {
        Ok(s) => s,
        Err(m) => return fail(stderr, crate::cli::EXIT_USAGE, &format!("--mtproxy-secret: {m}")),
    };
    let options = PcapOptions {
        keys,
        transport: TransportOptions {
            forced: args.transport.map(TransportChoice::forced),
            mtproxy_secret,
            known_key_ids: Vec::new(),
        },
        service: ServiceOptions { gzip_cap: args.gzip_cap, max_depth: args.max_depth },
        format: match args.format {
            PcapFormat::Text => ReportFormat::Text,
            PcapFormat::Json => ReportFormat::Json,
        },
        all: args.all,
        hexdump: args.hexdump,
        color: color && args.format == PcapFormat::Text,
        extract_corpus: args.extract_corpus.clone(),
    };
    if let Some(dir) = &options.extract_corpus {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return fail(
                stderr,
                crate::cli::EXIT_USAGE,
                &format!("--extract-corpus: cannot create {}: {e}", dir.display()),
            );
        }
    }
    let result = if args.file.as_os_str() == "-" {
        if stdin_is_terminal {
            return fail(stderr, crate::cli::EXIT_USAGE, "no capture on standard input (pipe one in, or give a FILE)");
        }
        run_pcap(stdin, &options, stdout, stderr)
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => {
                let size = f.metadata().map(|m| if m.is_file() { m.len() } else { 0 }).unwrap_or(0);
                if stderr_is_terminal && size >= crate::progress::MIN_SIZE_FOR_PROGRESS {
                    let progress = crate::progress::Progress::new(size);
                    let reader = crate::progress::ProgressReader::new(std::io::BufReader::new(f), progress.clone());
                    let mut stderr = crate::progress::ClearingWriter::new(stderr, progress.clone());
                    let result = run_pcap(reader, &options, stdout, &mut stderr);
                    crate::progress::Progress::finish(&progress);
                    result
                } else {
                    run_pcap(std::io::BufReader::new(f), &options, stdout, stderr)
                }
            }
            Err(e) => {
                return fail(stderr, crate::cli::EXIT_USAGE, &format!("cannot read {}: {e}", args.file.display()))
            }
        }
    };
    match result {
        Ok(_) => crate::cli::EXIT_OK,
        Err(e @ PcapRunError::NotACapture(_)) => fail(stderr, crate::cli::EXIT_INVALID, &e.to_string()),
        Err(e @ PcapRunError::Io(_)) => fail(stderr, crate::cli::EXIT_USAGE, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/captures/");

    #[test]
    fn the_help_gives_the_limits_it_keeps_memory_within() {
        let help = PCAP_EXAMPLES.replace('\n', " ");
        assert!(help.contains(&format!(" the last {ANSWERED_KEPT} are remembered")), "{help}");
        assert!(help.contains(&format!("at most {MAX_CONNECTIONS} are held")), "{help}");
    }

    fn shared(name: &str) -> Option<Vec<u8>> {
        std::fs::read(format!("{DIR}{name}")).ok()
    }

    fn run_json(capture: &[u8], keys: KeyStore) -> (PcapSummary, Vec<Value>, String) {
        let options = PcapOptions { keys, format: ReportFormat::Json, ..Default::default() };
        let mut out = Vec::new();
        let mut err = Vec::new();
        let summary = run_pcap(capture, &options, &mut out, &mut err).unwrap();
        let lines = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (summary, lines, String::from_utf8(err).unwrap())
    }

    /// Every request and answer of the manifest, with the same msg_ids,
    /// wrappers and values.
    #[test]
    fn the_real_captures_match_the_manifest() {
        let (Some(manifest), Some(key)) = (shared("MANIFEST.json"), shared("auth_key.hex")) else {
            eprintln!("shared/captures not found; skipping");
            return;
        };
        let manifest: Value = serde_json::from_slice(&manifest).unwrap();
        let mut keys = KeyStore::new();
        keys.insert(parse_auth_key(&key).unwrap());
        for capture in manifest["captures"].as_array().unwrap() {
            let name = capture["file"].as_str().unwrap();
            let bytes = shared(name).unwrap();
            let (summary, lines, err) = run_json(&bytes, keys.clone());
            assert_eq!(err, "", "{name}");
            let requests: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "request").collect();
            let answers: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "answer").collect();
            let want_requests = capture["requests"].as_array().unwrap();
            let want_answers = capture["responses"].as_array().unwrap();
            assert_eq!(requests.len(), want_requests.len(), "{name}");
            assert_eq!(answers.len(), want_answers.len(), "{name}");
            for (got, want) in requests.iter().zip(want_requests) {
                assert_eq!(got["msg_id"], want["msg_id"], "{name}");
                assert_eq!(got["wrapping"], want["wrapping"], "{name}");
                assert_eq!(got["body"], want["params"], "{name}");
                assert_eq!(got["encrypted"], want["encrypted"], "{name}");
                assert_eq!(got["direction"], "c2s");
            }
            for (got, want) in answers.iter().zip(want_answers) {
                assert_eq!(got["msg_id"], want["msg_id"], "{name}");
                assert_eq!(got["wrapping"], want["wrapping"], "{name}");
                assert_eq!(got["body"], want["result"], "{name}");
                if !want["req_msg_id"].is_null() {
                    assert_eq!(got["req_msg_id"], want["req_msg_id"], "{name}");
                }
                let index = want["request_index"].as_u64().unwrap() as usize;
                assert_eq!(got["req_msg_id"], want_requests[index]["msg_id"], "{name}");
            }
            let frames = capture["frames"].as_array().unwrap().len() as u64;
            assert_eq!(summary.frames, frames, "{name}");
            assert_eq!(summary.messages, frames, "{name}");
            assert_eq!(summary.matched, want_requests.len() as u64, "{name}");
            assert_eq!((summary.unmatched_answers, summary.warnings, summary.connections), (0, 0, 1), "{name}");
        }
    }

    #[test]
    fn without_the_key_encrypted_messages_are_listed_and_skipped() {
        let Some(bytes) = shared("abridged.pcap") else { return };
        let (summary, lines, err) = run_json(&bytes, KeyStore::new());
        assert_eq!(summary.requests, 1);
        assert_eq!(summary.matched, 1);
        assert_eq!(summary.unknown_key_messages, 11);
        assert_eq!(summary.warnings, 1);
        assert!(err.contains("unknown auth key 5fb331cd74310554"), "{err}");
        assert!(lines.iter().any(|l| l.get("warning").is_some()));
    }

    #[test]
    fn the_text_report() {
        let (Some(bytes), Some(key)) = (shared("obfuscated_intermediate.pcap"), shared("auth_key.hex")) else { return };
        let mut keys = KeyStore::new();
        keys.insert(parse_auth_key(&key).unwrap());
        let options = PcapOptions { keys, all: true, ..Default::default() };
        let mut out = Vec::new();
        let mut err = Vec::new();
        run_pcap(&bytes[..], &options, &mut out, &mut err).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("request #2 · "), "{text}");
        assert!(text.contains("obfuscated2+intermediate · encrypted (5fb331cd74310554) · msg_id 7712402054149161704 · seq_no 1 · invokeWithLayer(223) › initConnection(611335)"), "{text}");
        assert!(text.contains("answer to request #3"), "{text}");
        assert!(text.contains("msgs_ack msg_ids=["), "{text}");
        assert!(text.contains("CHAT_ADMIN_REQUIRED"), "{text}");
        assert!(
            text.ends_with(
                "5 matched, 0 requests unanswered, 0 answers unmatched, 0 messages with unknown keys, 0 warnings\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn not_a_capture() {
        let options = PcapOptions::default();
        let r = run_pcap(&b"definitely not a capture file"[..], &options, &mut Vec::new(), &mut Vec::new());
        assert!(matches!(r, Err(PcapRunError::NotACapture(_))));
    }
}
