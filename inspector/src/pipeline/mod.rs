//! The capture pipeline: packets in, records out.
//!
//! [`Pipeline`] drives the stages below it (tcp → transport → envelope →
//! service → tl) one packet at a time and hands each thing worth reporting
//! to a [`RecordSink`] as a [`Record`]: an exportChatInvite request or
//! answer with its decoded value, a service message, another method's
//! message, a skipped one, a [`Warning`], and the [`Summary`] at the end. It
//! formats nothing and touches no file or stream (the `report` module turns
//! records into text, JSON Lines or corpus files), so it is driven like the
//! stages are: push packets, receive records.
//!
//! It is two halves: the per-connection one (`connections.rs`: transport,
//! envelope, service and TL decoding, one connection's state at a time) and
//! the ordered one (`Matcher`: request numbers, matching, counts, records),
//! which must see every connection's items in capture order. [`Pipeline`]
//! joins them on the calling thread; [`parallel`] runs the first half on
//! several threads and gives the second the same items in the same order.
//!
//! It owns the connection table and request ↔ answer matching. An answer is
//! matched to its request by `req_msg_id`, across containers and
//! connections; an unencrypted answer, which has no rpc_result, answers the
//! oldest unanswered unencrypted request of its connection. Every request
//! the client sends is remembered, whatever its method, so that an
//! rpc_error answering another method (`USERNAME_NOT_OCCUPIED` to a
//! `contacts.resolveUsername`) is attributed to that method and not taken
//! for an exportChatInvite answer whose request was missed.
//!
//! Memory does not grow with the capture: a connection's state goes when it
//! closes (or when the reassembler forgets it, past [`MAX_CONNECTIONS`](crate::tcp::MAX_CONNECTIONS));
//! of our requests only those still waiting for an answer and the last
//! [`ANSWERED_KEPT`] answered ones are remembered, and of other methods'
//! requests the last [`ANSWERED_KEPT`].

mod connections;
pub mod parallel;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

use crate::capture::{decode_packet, CaptureSink, CaptureWarning, NotTcp, Packet};
use crate::envelope::{EnvelopeError, KeyStore};
use crate::service::{Content, ServiceError, ServiceMessage, ServiceOptions, Wrapper};
use crate::tcp::{ConnId, Direction, TcpEvent, TcpReassembler, TcpSink};
use crate::tl::dynamic::{DynValue, Schema};
use crate::tl::{DecodeError, DecodeOptions, Frame, Recorder, TraceEvent};
use crate::transport::{TransportInfo, TransportOptions, TransportProblem};
use connections::{Connections, Item, ItemSink};

/// Answered requests whose msg_id is still remembered, to name a second
/// answer to one of them ("another answer to request #n"); also how many of
/// other methods' requests are remembered. Older ones are forgotten, so
/// that memory does not grow with the number of requests a capture holds
/// (one of ours still waiting for its answer is kept to the end). A server
/// answers within moments, not after this many other requests.
pub const ANSWERED_KEPT: usize = 16_384;

/// What the pipeline needs to know.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    pub keys: KeyStore,
    pub transport: TransportOptions,
    pub service: ServiceOptions,
    /// Record where every decoded field lies ([`Decoded::trace`]), for a
    /// report that shows trees or hex dumps. Off, decoding skips the trace.
    pub trace: bool,
    /// A schema to decode the messages the closure does not know (another
    /// method's requests and results): [`Record::Other`] then carries the
    /// decoded body. `None` leaves them an id and a length.
    pub schema: Option<&'static Schema>,
    /// Other methods (TL names) whose requests, and the answers to them,
    /// are decoded with a trace ([`Record::Other`]'s `trace`, when `trace`
    /// is on) and, for answers, as the type the request returns.
    pub tree_methods: Vec<String>,
    /// The TCP reassembler's limits on connections held at once, and on
    /// closed ones among them ([`TcpReassembler::with_connection_limits`]);
    /// `None` keeps [`MAX_CONNECTIONS`](crate::tcp::MAX_CONNECTIONS) and
    /// [`CLOSED_KEPT`](crate::tcp::CLOSED_KEPT), as `inspector pcap` does.
    /// Small limits let tests and fuzz targets reach the forgetting of
    /// connections with a capture of two or three.
    pub connection_limits: Option<(usize, usize)>,
}

impl PipelineOptions {
    /// The reassembler for a run with these options.
    pub(crate) fn reassembler(&self) -> TcpReassembler {
        match self.connection_limits {
            Some((max_connections, closed_kept)) => {
                TcpReassembler::new().with_connection_limits(max_connections, closed_kept)
            }
            None => TcpReassembler::new(),
        }
    }
}

/// The counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub packets: u64,
    pub connections: usize,
    pub frames: u64,
    pub messages: u64,
    /// exportChatInvite requests.
    pub requests: u64,
    /// Answers that are ours or whose request is not in the capture.
    pub answers: u64,
    pub matched: u64,
    /// Answers whose request is not in the capture (or was forgotten).
    pub unmatched_answers: u64,
    /// rpc_error (or exportChatInvite-shaped) answers to other methods'
    /// requests: not counted in `answers`.
    pub other_answers: u64,
    pub unknown_key_messages: u64,
    pub warnings: u64,
    /// Files written by `--extract-corpus` (new ones; a seed already
    /// there is not counted). The pipeline writes none: the corpus writer
    /// adds its count.
    pub extracted: u64,
}

impl Summary {
    /// Requests without an answer in the capture.
    pub fn unanswered(&self) -> u64 {
        self.requests - self.matched.min(self.requests)
    }
}

/// Where and when something was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Capture time, nanoseconds since the Unix epoch.
    pub time_ns: i128,
    /// Client and server, or `None` for a connection no longer held.
    pub endpoints: Option<(SocketAddr, SocketAddr)>,
    pub direction: Direction,
    /// The connection's transport, once recognised.
    pub transport: Option<TransportInfo>,
}

impl Origin {
    /// Sender then receiver.
    pub fn from_to(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.endpoints.map(|(client, server)| match self.direction {
            Direction::ClientToServer => (client, server),
            Direction::ServerToClient => (server, client),
        })
    }
}

/// One MTProto message (or a message inside a container) and where it was.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub origin: Origin,
    pub encrypted: bool,
    /// 0 for an unencrypted message.
    pub auth_key_id: u64,
    pub msg_id: i64,
    /// `None` for an unencrypted message.
    pub seq_no: Option<i32>,
    /// The wrappers removed around the content, outermost first.
    pub wrapping: &'a [Wrapper],
    /// From the innermost rpc_result.
    pub req_msg_id: Option<i64>,
    /// Offset of the transport frame in its direction's stream.
    pub stream_offset: u64,
}

/// A request or answer decoded by the TL core.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The bare TL bytes, constructor id first.
    pub bytes: &'a [u8],
    /// Owned, so that a report can move it (into JSON) instead of copying.
    pub value: Result<Frame, DecodeError>,
    /// Where every field lies (up to the error); empty unless
    /// [`PipelineOptions::trace`]. Lent from a recorder reused for every
    /// object of the capture. Left empty when `rendered` is given.
    pub trace: &'a [TraceEvent],
    /// What the report's [`Prerender`] made of the record on a decoding
    /// thread (`None` on one thread, or for a report without one).
    pub rendered: Option<Rendered>,
}

/// The part of a request's or answer's record that does not depend on
/// what the ordered stage decides (the request's number, which request an
/// answer answers), rendered by a report ahead of it on the decoding
/// threads: the thread that follows the capture's order then only joins
/// pieces and writes them, and its share of the work stays small.
pub trait Prerender: Send + Sync {
    /// Render what can be of the request (`answer` false) or answer
    /// `decoded` in `message`; `None` leaves it to the report.
    fn object(&self, message: &Message<'_>, decoded: &Decoded<'_>, answer: bool) -> Option<Rendered>;
}

/// Text a [`Prerender`] made, in two pieces: what comes before and after
/// `split`, between which the report puts what the ordered stage decided.
/// Its meaning is the report's own. Kept as the bytes to be written, not
/// a `String`: the report only writes them, and the JSON writer's output
/// would otherwise be checked for UTF-8 once more on every record (0.2% of
/// a two-thread run's instructions, for nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub text: Vec<u8>,
    pub split: usize,
}

impl Rendered {
    /// The text before and after the split.
    pub fn pieces(&self) -> (&[u8], &[u8]) {
        self.text.split_at_checked(self.split).unwrap_or((&self.text, &[]))
    }
}

/// Another method than exportChatInvite, as the client named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A constructor this tool names (a service message, say).
    Named(&'static str),
    /// Known by its constructor id only.
    Id(u32),
}

/// Which request an answer answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerTo {
    /// Our request number `number` (counted from 1), answered for the first time.
    Request { number: u64 },
    /// Our request number `number`, answered before.
    Again { number: u64 },
    /// A request of another method seen in the capture: not ours.
    Other { req_msg_id: i64, method: Method },
    /// A request not in the capture: sent before it began, or (when
    /// `maybe_forgotten`) one answered or seen too long ago to be remembered.
    NotInCapture { req_msg_id: i64, maybe_forgotten: bool },
    /// An unencrypted answer with no unencrypted request waiting.
    Nothing,
}

/// An exportChatInvite request.
#[derive(Debug)]
pub struct Request<'a> {
    pub message: Message<'a>,
    /// Counted from 1 in the order of the capture.
    pub number: u64,
    pub decoded: Decoded<'a>,
}

/// An answer (chatInviteExported, chatInvitePublicJoinRequests or
/// rpc_error), attributed to its request.
#[derive(Debug)]
pub struct Answer<'a> {
    pub message: Message<'a>,
    pub to: AnswerTo,
    /// The request it answers: rpc_result's `req_msg_id`, or for an
    /// unencrypted answer the unencrypted request it was paired with.
    pub req_msg_id: Option<i64>,
    pub decoded: Decoded<'a>,
}

/// Something odd; the run goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// From the capture file reader.
    Capture(CaptureWarning),
    /// Packet `number` (counted from 1) could not be read down to TCP.
    Packet { number: u64, problem: NotTcp },
    /// A connection whose start is not in the capture. `forced_plain`: the
    /// transport is forced and not obfuscated, so it is read from the
    /// first captured byte.
    StartedBeforeCapture { client: SocketAddr, server: SocketAddr, forced_plain: bool },
    /// Bytes missing from a stream.
    Gap { origin: Origin, offset: u64, len: u64 },
    /// The first connection forgotten to stay within [`MAX_CONNECTIONS`](crate::tcp::MAX_CONNECTIONS);
    /// [`Warning::ConnectionsForgotten`] gives the count at the end.
    FirstConnectionForgotten { origin: Origin },
    /// How many open connections were forgotten in all (more than one).
    ConnectionsForgotten { count: u64 },
    /// A frame that is not an MTProto message.
    Envelope { origin: Origin, stream_offset: u64, error: EnvelopeError },
    /// The first message encrypted with a key not given.
    UnknownKey { origin: Origin, auth_key_id: u64 },
    /// An unencrypted message followed by bytes its header does not count.
    TrailingBytes { origin: Origin, msg_id: i64, trailing: usize },
    /// A transport error code (-404 and the like) instead of a frame.
    TransportError { origin: Origin, code: i32, stream_offset: u64 },
    /// A transport that went wrong.
    Transport { origin: Origin, problem: TransportProblem },
    /// A message body that could not be unwrapped.
    Malformed { origin: Origin, msg_id: i64, stream_offset: u64, error: ServiceError },
    /// A request (`answer` false) or an answer in message `msg_id` that the
    /// TL core rejected; its record follows, with the same error.
    Undecodable { answer: bool, msg_id: i64, error: DecodeError },
    /// Raised by a report itself (a corpus file it could not write), and
    /// passed on to the reports behind it.
    Report(String),
}

/// What the pipeline hands out.
#[derive(Debug)]
pub enum Record<'a> {
    Request(Request<'a>),
    Answer(Answer<'a>),
    /// A named service message (msgs_ack, pong, ...).
    Service {
        message: Message<'a>,
        service: &'a ServiceMessage,
    },
    /// A constructor the closure does not hold (another method's request
    /// or result), by id and length, and with a schema its decoding.
    Other {
        message: Message<'a>,
        id: u32,
        len: usize,
        /// The schema's decoding, when one was given and knows `id`; an
        /// answer to a request of [`PipelineOptions::tree_methods`] is
        /// decoded as the type that request returns.
        body: Option<Result<DynValue, DecodeError>>,
        /// Where every field of `body` lies, for a request or answer of
        /// [`PipelineOptions::tree_methods`]; empty otherwise.
        trace: &'a [TraceEvent],
        /// The request it answers, when it is an answer to one of
        /// [`PipelineOptions::tree_methods`].
        answers: Option<(i64, Method)>,
        /// Its bytes, constructor id first.
        bytes: &'a [u8],
    },
    /// A message encrypted with a key not given, skipped.
    UnknownKey {
        origin: Origin,
        auth_key_id: u64,
        len: usize,
    },
    /// A transport-level quick acknowledgement.
    QuickAck {
        origin: Origin,
        token: u32,
    },
    Warning(Warning),
    /// The last record of a run.
    Summary(Summary),
}

/// What takes the pipeline's records, as they come.
pub trait RecordSink {
    fn record(&mut self, record: Record<'_>);
    /// Whether more records are wanted: false ends the run early (the
    /// reader of the report went away).
    fn wants_more(&self) -> bool {
        true
    }
}

/// The ordered half of the pipeline: it sees every connection's items in
/// the order of the capture, numbers our requests, matches answers to
/// them (across connections), counts, warns once per unknown key, and
/// hands out the records.
pub(crate) struct Matcher {
    /// Our requests by msg_id: every unanswered one, and the last
    /// [`ANSWERED_KEPT`] answered ones.
    requests: HashMap<i64, RequestSeen>,
    /// The answered requests still in `requests`, oldest answer first.
    answered: VecDeque<i64>,
    /// Other methods' requests by msg_id, the last [`ANSWERED_KEPT`].
    other_requests: HashMap<i64, Method>,
    /// The msg_ids in `other_requests`, oldest first.
    other_order: VecDeque<i64>,
    /// The largest msg_id of a request forgotten so far.
    forgotten_up_to: Option<i64>,
    /// Our unencrypted requests waiting for an answer, per connection.
    plain_requests: HashMap<ConnId, VecDeque<i64>>,
    warned_keys: HashSet<u64>,
    summary: Summary,
    /// Whether the reassembler's forgetting of open connections (past
    /// [`MAX_CONNECTIONS`](crate::tcp::MAX_CONNECTIONS)) was announced; its count comes at the end.
    warned_forgotten: bool,
    /// [`PipelineOptions::schema`], `tree_methods` and `trace`.
    schema: Option<&'static Schema>,
    tree_methods: Vec<String>,
    trace: bool,
    /// The answer type of each remembered request of `tree_methods` (and
    /// of any method returning a vector), by msg_id, and whether the
    /// method is one of `tree_methods` (dropped with it from
    /// `other_requests`).
    answer_types: HashMap<i64, (String, bool)>,
    /// Reused for every traced decode here.
    recorder: Recorder,
}

/// One of our requests, for matching.
struct RequestSeen {
    number: u64,
    answered: bool,
}

/// The capture pipeline on the calling thread; see the module
/// documentation. [`parallel`] runs the same two halves on several threads.
pub struct Pipeline {
    tcp: TcpReassembler,
    connections: Connections,
    matcher: Matcher,
    /// Capture time of the last packet.
    now_ns: i128,
}

/// The two halves and the sink for the time of one call, as the
/// reassembler's sink.
struct Stage<'s, K: RecordSink + ?Sized> {
    connections: &'s mut Connections,
    inline: Inline<'s, K>,
    time_ns: i128,
}

/// Items straight into the matcher, borrowed: on one thread nothing is copied.
struct Inline<'s, K: RecordSink + ?Sized> {
    matcher: &'s mut Matcher,
    sink: &'s mut K,
}

impl<K: RecordSink + ?Sized> ItemSink for Inline<'_, K> {
    fn item(&mut self, item: Item<'_>) {
        self.matcher.item(item, self.sink);
    }
}

impl<K: RecordSink + ?Sized> TcpSink for Stage<'_, K> {
    fn event(&mut self, event: TcpEvent<'_>) {
        self.connections.tcp_event(self.time_ns, event, &mut self.inline);
    }
}

impl Pipeline {
    pub fn new(options: PipelineOptions) -> Self {
        Pipeline {
            tcp: options.reassembler(),
            matcher: Matcher::new(&options),
            connections: Connections::new(options),
            now_ns: 0,
        }
    }

    /// Take one captured packet.
    pub fn packet<K: RecordSink + ?Sized>(&mut self, packet: &Packet<'_>, sink: &mut K) {
        self.now_ns = packet.time_ns;
        let segment = match decode_packet(packet.linktype, packet.data) {
            Ok(s) => s,
            Err(NotTcp::OtherProtocol) => return,
            Err(problem) => {
                self.matcher.warn(Warning::Packet { number: packet.number, problem }, sink);
                return;
            }
        };
        let inline = Inline { matcher: &mut self.matcher, sink };
        let mut stage = Stage { connections: &mut self.connections, inline, time_ns: self.now_ns };
        self.tcp.segment(&segment, &mut stage);
    }

    /// Take a warning of the capture reader (it counts in the summary).
    pub fn capture_warning<K: RecordSink + ?Sized>(&mut self, warning: CaptureWarning, sink: &mut K) {
        self.matcher.warn(Warning::Capture(warning), sink);
    }

    /// The capture ended after `packets` packets: flush what the
    /// reassembler holds, and hand out the summary (also returned).
    pub fn finish<K: RecordSink + ?Sized>(mut self, packets: u64, sink: &mut K) -> Summary {
        let inline = Inline { matcher: &mut self.matcher, sink };
        let mut stage = Stage { connections: &mut self.connections, inline, time_ns: self.now_ns };
        self.tcp.finish(&mut stage);
        let tcp = &self.tcp;
        let end = End { packets, connections: tcp.connection_count(), forgotten: tcp.stats().forgotten_connections };
        self.matcher.finish(end, sink)
    }
}

/// Drives a pipeline from the capture reader.
pub struct Feeder<'p, K: RecordSink + ?Sized> {
    pub pipeline: &'p mut Pipeline,
    pub sink: &'p mut K,
}

impl<K: RecordSink + ?Sized> CaptureSink for Feeder<'_, K> {
    fn packet(&mut self, packet: &Packet<'_>) {
        self.pipeline.packet(packet, self.sink);
    }

    fn warning(&mut self, warning: CaptureWarning) {
        self.pipeline.capture_warning(warning, self.sink);
    }

    fn wants_more(&self) -> bool {
        self.sink.wants_more()
    }
}

/// How the capture ended, for the summary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct End {
    pub(crate) packets: u64,
    pub(crate) connections: usize,
    /// Open connections the reassembler forgot.
    pub(crate) forgotten: u64,
}

impl Matcher {
    pub(crate) fn new(options: &PipelineOptions) -> Self {
        Matcher {
            schema: options.schema,
            tree_methods: options.tree_methods.clone(),
            trace: options.trace,
            answer_types: HashMap::new(),
            recorder: Recorder::default(),
            requests: HashMap::new(),
            answered: VecDeque::new(),
            other_requests: HashMap::new(),
            other_order: VecDeque::new(),
            forgotten_up_to: None,
            plain_requests: HashMap::new(),
            warned_keys: HashSet::new(),
            summary: Summary::default(),
            warned_forgotten: false,
        }
    }

    pub(crate) fn warn<K: RecordSink + ?Sized>(&mut self, warning: Warning, sink: &mut K) {
        self.summary.warnings += 1;
        sink.record(Record::Warning(warning));
    }

    /// The last records of a run: the count of forgotten connections, and
    /// the summary (also returned).
    pub(crate) fn finish<K: RecordSink + ?Sized>(&mut self, end: End, sink: &mut K) -> Summary {
        if end.forgotten > 1 {
            self.warn(Warning::ConnectionsForgotten { count: end.forgotten }, sink);
        }
        let mut summary = std::mem::take(&mut self.summary);
        summary.packets = end.packets;
        summary.connections = end.connections;
        sink.record(Record::Summary(summary.clone()));
        summary
    }

    /// Take one item of the per-connection half, in capture order.
    pub(crate) fn item<K: RecordSink + ?Sized>(&mut self, item: Item<'_>, sink: &mut K) {
        match item {
            Item::Warning(w) => self.warn(w, sink),
            Item::Frame => self.summary.frames += 1,
            Item::Message => self.summary.messages += 1,
            Item::UnknownKey { origin, auth_key_id, len } => {
                self.summary.unknown_key_messages += 1;
                if self.warned_keys.insert(auth_key_id) {
                    self.warn(Warning::UnknownKey { origin: origin.clone(), auth_key_id }, sink);
                }
                sink.record(Record::UnknownKey { origin, auth_key_id, len });
            }
            object @ Item::Object { .. } => self.object(object, sink),
            Item::QuickAck { origin, token } => sink.record(Record::QuickAck { origin, token }),
            Item::Forgotten { conn, origin } => {
                if !self.warned_forgotten {
                    self.warned_forgotten = true;
                    self.warn(Warning::FirstConnectionForgotten { origin }, sink);
                }
                self.plain_requests.remove(&conn);
            }
            Item::Closed { conn } => {
                self.plain_requests.remove(&conn);
            }
        }
    }

    /// One object of a message (an [`Item::Object`]).
    fn object<K: RecordSink + ?Sized>(&mut self, item: Item<'_>, sink: &mut K) {
        let Item::Object { conn, at, object, decoded, trace, dynamic, rendered } = item else { return };
        let message = at.message(object);
        match (&object.content, decoded) {
            (Content::Request(bytes), Some(value)) => {
                self.request(conn, message, Decoded { bytes, value, trace, rendered }, sink)
            }
            (Content::Answer(bytes), Some(value)) => {
                self.answer(conn, message, Decoded { bytes, value, trace, rendered }, sink)
            }
            // The per-connection half decodes every request and answer.
            (Content::Request(_) | Content::Answer(_), None) => {}
            (Content::Malformed(error), _) => {
                let warning = Warning::Malformed {
                    origin: at.origin.clone(),
                    msg_id: object.msg_id,
                    stream_offset: at.stream_offset,
                    error: error.clone(),
                };
                self.warn(warning, sink);
            }
            (Content::Service(service), _) => {
                if is_query(&message) {
                    self.remember_other(object.msg_id, Method::Named(service.name));
                }
                sink.record(Record::Service { message, service });
            }
            (Content::Other { id, len, bytes }, _) => {
                let mut body = dynamic;
                let mut traced = false;
                let mut answers = None;
                let name = body.as_ref().and_then(|d| d.as_ref().ok()).and_then(DynValue::ctor).map(|c| c.name);
                if is_query(&message) {
                    let method = match (crate::tl::schema::describe_id(*id), name) {
                        (Some((name, _)), _) => Method::Named(name),
                        (None, Some(name)) => Method::Named(name),
                        (None, None) => Method::Id(*id),
                    };
                    self.remember_other(object.msg_id, method);
                    if let (Some(schema), Some(name)) = (self.schema, name) {
                        let tree = self.tree_methods.iter().any(|m| m == name);
                        if let Some(Ok(value)) = &body {
                            // A chosen method's answer is read as the type it
                            // returns; so is a bare vector (users.getUsers'
                            // Vector<User>), whose elements only that type names.
                            if let Some(ty) = schema.answer_type(value).filter(|ty| tree || ty.starts_with("Vector<")) {
                                self.answer_types.insert(object.msg_id, (ty, tree));
                            }
                        }
                        if tree && self.trace {
                            body = Some(schema.decode_traced(bytes, DecodeOptions::strict(), &mut self.recorder));
                            traced = true;
                        }
                    }
                } else if let (Some(schema), Some(req)) = (self.schema, message.req_msg_id) {
                    // An answer to a chosen method, or a vector: read as the type its request returns.
                    if let (Some((ty, tree)), Some(&method)) =
                        (self.answer_types.remove(&req), self.other_requests.get(&req))
                    {
                        let options = DecodeOptions::strict();
                        if tree {
                            self.recorder.clear();
                            let (value, _) = schema.decode_as_type(bytes, &ty, options, &mut self.recorder);
                            body = Some(value);
                            traced = self.trace;
                            answers = Some((req, method));
                        } else {
                            body = Some(schema.decode_as_type(bytes, &ty, options, crate::tl::NoTrace).0);
                        }
                    }
                }
                let trace: &[TraceEvent] = if traced { &self.recorder.events } else { &[] };
                sink.record(Record::Other { message, id: *id, len: *len, body, trace, answers, bytes });
            }
        }
    }

    /// A request or answer the TL core rejected is announced before its record.
    fn warn_undecodable<K: RecordSink + ?Sized>(
        &mut self,
        decoded: &Decoded<'_>,
        answer: bool,
        msg_id: i64,
        sink: &mut K,
    ) {
        if let Err(error) = &decoded.value {
            self.warn(Warning::Undecodable { answer, msg_id, error: error.clone() }, sink);
        }
    }

    fn request<K: RecordSink + ?Sized>(
        &mut self,
        conn: ConnId,
        message: Message<'_>,
        decoded: Decoded<'_>,
        sink: &mut K,
    ) {
        self.summary.requests += 1;
        let number = self.summary.requests;
        self.requests.insert(message.msg_id, RequestSeen { number, answered: false });
        if !message.encrypted {
            self.plain_requests.entry(conn).or_default().push_back(message.msg_id);
        }
        self.warn_undecodable(&decoded, false, message.msg_id, sink);
        sink.record(Record::Request(Request { message, number, decoded }));
    }

    fn answer<K: RecordSink + ?Sized>(
        &mut self,
        conn: ConnId,
        message: Message<'_>,
        decoded: Decoded<'_>,
        sink: &mut K,
    ) {
        // An unencrypted answer has no rpc_result: it answers the oldest
        // open unencrypted request on its connection.
        let req = message.req_msg_id.or_else(|| {
            if message.encrypted {
                None
            } else {
                self.plain_requests.get_mut(&conn).and_then(VecDeque::pop_front)
            }
        });
        let to = self.attribute(req);
        match to {
            AnswerTo::Other { .. } => self.summary.other_answers += 1,
            AnswerTo::Request { .. } => {
                self.summary.answers += 1;
                self.summary.matched += 1;
            }
            AnswerTo::Again { .. } => self.summary.answers += 1,
            AnswerTo::NotInCapture { .. } | AnswerTo::Nothing => {
                self.summary.answers += 1;
                self.summary.unmatched_answers += 1;
            }
        }
        self.warn_undecodable(&decoded, true, message.msg_id, sink);
        sink.record(Record::Answer(Answer { message, to, req_msg_id: req, decoded }));
    }

    /// Which request `req` (an answer's req_msg_id) is, noting that it is
    /// answered.
    fn attribute(&mut self, req: Option<i64>) -> AnswerTo {
        let Some(r) = req else { return AnswerTo::Nothing };
        if let Some(seen) = self.requests.get_mut(&r) {
            if seen.answered {
                return AnswerTo::Again { number: seen.number };
            }
            seen.answered = true;
            let number = seen.number;
            self.remember_answered(r);
            return AnswerTo::Request { number };
        }
        if let Some(&method) = self.other_requests.get(&r) {
            return AnswerTo::Other { req_msg_id: r, method };
        }
        AnswerTo::NotInCapture { req_msg_id: r, maybe_forgotten: self.forgotten_up_to.is_some_and(|f| r <= f) }
    }

    /// Note that our request `msg_id` has its answer, forgetting the request
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

    /// Remember another method's request, forgetting the oldest beyond
    /// [`ANSWERED_KEPT`]: most are answered by results this tool does not
    /// decode, so "answered" cannot be what frees them.
    fn remember_other(&mut self, msg_id: i64, method: Method) {
        if self.other_requests.insert(msg_id, method).is_none() {
            self.other_order.push_back(msg_id);
        }
        if self.other_order.len() > ANSWERED_KEPT {
            if let Some(old) = self.other_order.pop_front() {
                self.other_requests.remove(&old);
                self.answer_types.remove(&old);
                self.forgotten_up_to = self.forgotten_up_to.max(Some(old));
            }
        }
    }
}

/// Whether a message is a client's query, one an rpc_result can answer:
/// a content-related message (odd seq_no; an unencrypted one has none) sent
/// by the client.
fn is_query(message: &Message<'_>) -> bool {
    message.origin.direction == Direction::ClientToServer && message.seq_no.is_none_or(|s| s & 1 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::read_capture_into;
    use crate::envelope::parse_auth_key;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/captures/");

    /// What a sink saw, by kind.
    #[derive(Default)]
    struct Seen {
        requests: Vec<(u64, bool)>,
        answers: Vec<AnswerTo>,
        traced: usize,
        others: usize,
        warnings: Vec<Warning>,
        summary: Option<Summary>,
    }

    impl RecordSink for Seen {
        fn record(&mut self, record: Record<'_>) {
            match record {
                Record::Request(r) => {
                    self.traced += usize::from(!r.decoded.trace.is_empty());
                    self.requests.push((r.number, r.decoded.value.is_ok()));
                }
                Record::Answer(a) => {
                    self.traced += usize::from(!a.decoded.trace.is_empty());
                    self.answers.push(a.to);
                }
                Record::Warning(w) => self.warnings.push(w),
                Record::Summary(s) => self.summary = Some(s),
                _ => self.others += 1,
            }
        }
    }

    fn run(trace: bool) -> Seen {
        let read = |name: &str| std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{DIR}{name}: {e}"));
        let mut keys = KeyStore::new();
        keys.insert(parse_auth_key(&read("auth_key.hex")).unwrap());
        let mut pipeline = Pipeline::new(PipelineOptions { keys, trace, ..Default::default() });
        let mut seen = Seen::default();
        let bytes = read("obfuscated_intermediate.pcap");
        let stats = read_capture_into(&bytes[..], &mut Feeder { pipeline: &mut pipeline, sink: &mut seen }).unwrap();
        let summary = pipeline.finish(stats.packets, &mut seen);
        assert_eq!(seen.summary.as_ref(), Some(&summary));
        seen
    }

    /// Packets in, typed records out: requests numbered, answers attributed
    /// to them, traces only when asked for.
    #[test]
    fn records_of_a_real_capture() {
        for trace in [false, true] {
            let seen = run(trace);
            assert_eq!(seen.warnings, []);
            assert_eq!(seen.requests, (1..=5).map(|n| (n, true)).collect::<Vec<_>>());
            assert_eq!(seen.answers, (1..=5).map(|number| AnswerTo::Request { number }).collect::<Vec<_>>());
            assert_eq!(seen.traced, if trace { 10 } else { 0 });
            assert!(seen.others > 0);
            let summary = seen.summary.unwrap();
            assert_eq!((summary.requests, summary.matched, summary.unmatched_answers), (5, 5, 0));
        }
    }

    /// Other methods' requests are remembered in a bounded window: past
    /// it, an answer to the oldest is "not in the capture, or forgotten".
    #[test]
    fn other_requests_are_remembered_within_a_bound() {
        let mut p = Pipeline::new(PipelineOptions::default());
        let n = ANSWERED_KEPT as i64 + 10;
        for id in 1..=n {
            p.matcher.remember_other(id * 4, Method::Id(0x1234_5678));
        }
        assert_eq!((p.matcher.other_requests.len(), p.matcher.other_order.len()), (ANSWERED_KEPT, ANSWERED_KEPT));
        assert_eq!(p.matcher.attribute(Some(4)), AnswerTo::NotInCapture { req_msg_id: 4, maybe_forgotten: true });
        let last = AnswerTo::Other { req_msg_id: n * 4, method: Method::Id(0x1234_5678) };
        assert_eq!(p.matcher.attribute(Some(n * 4)), last);
        assert_eq!(
            p.matcher.attribute(Some(n * 4 + 4)),
            AnswerTo::NotInCapture { req_msg_id: n * 4 + 4, maybe_forgotten: false }
        );
    }
}
