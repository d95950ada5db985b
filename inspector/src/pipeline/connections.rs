//! The per-connection half of the pipeline: a connection's TCP events in,
//! [`Item`]s out.
//!
//! Everything here depends on one connection only (its transport, the
//! decryption and unwrapping of its frames, the TL decoding of what they
//! carry), so connections can be split between threads once TCP has sorted
//! the packets (`parallel.rs`). What needs the whole capture in its order
//! (numbering requests, matching answers across connections, counting,
//! warning once per key) is the other half, [`Matcher`](super::Matcher),
//! which turns items into [`Record`](super::Record)s.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::{Message, Origin, PipelineOptions, Warning};
use crate::envelope::{open_message_in, Envelope};
use crate::service::{unwrap_message_into, Content, ServiceOptions, Unwrapped};
use crate::tcp::{ConnId, Direction, TcpEvent};
use crate::tl::dynamic::DynValue;
use crate::tl::DecodeOptions;
use crate::tl::{decode_top, decode_traced_into, DecodeError, Frame, Recorder, TraceEvent};
use crate::transport::{TransportConnection, TransportEvent, TransportInfo};

/// What the per-connection half hands to the ordered half, in the order it
/// happened on the connection.
#[derive(Debug)]
pub(crate) enum Item<'a> {
    Warning(Warning),
    /// A transport frame was read (counted).
    Frame,
    /// A message was opened (counted).
    Message,
    UnknownKey {
        origin: Origin,
        auth_key_id: u64,
        len: usize,
    },
    /// One object of a message. Lent mutably, so that a consumer on another
    /// thread can take its bytes instead of copying them.
    Object {
        conn: ConnId,
        at: At,
        object: &'a mut Unwrapped,
        /// The TL core's decoding, for a request or an answer.
        decoded: Option<Result<Frame, DecodeError>>,
        /// Where every decoded field lies; empty unless traces were asked for.
        trace: &'a [TraceEvent],
        /// The schema's decoding of another constructor
        /// ([`PipelineOptions::schema`]), without a trace.
        dynamic: Option<Result<DynValue, DecodeError>>,
        /// The report's rendering of a request or answer, made on a
        /// decoding thread ([`Prerender`](super::Prerender)).
        rendered: Option<super::Rendered>,
    },
    QuickAck {
        origin: Origin,
        token: u32,
    },
    /// The reassembler forgot the connection while it was open.
    Forgotten {
        conn: ConnId,
        origin: Origin,
    },
    /// Both sides closed: nothing more can come on the connection.
    Closed {
        conn: ConnId,
    },
}

/// What takes the items.
pub(crate) trait ItemSink {
    fn item(&mut self, item: Item<'_>);
}

/// Where a message's objects come from.
#[derive(Debug, Clone)]
pub(crate) struct At {
    pub(crate) origin: Origin,
    pub(crate) encrypted: bool,
    /// 0 for an unencrypted message.
    pub(crate) auth_key_id: u64,
    /// Offset of the transport frame in its direction's stream.
    pub(crate) stream_offset: u64,
}

impl At {
    /// The message `object` as a record shows it.
    pub(crate) fn message<'a>(&self, object: &'a Unwrapped) -> Message<'a> {
        Message {
            origin: self.origin.clone(),
            encrypted: self.encrypted,
            auth_key_id: self.auth_key_id,
            msg_id: object.msg_id,
            // An unencrypted message has no seq_no.
            seq_no: self.encrypted.then_some(object.seq_no),
            wrapping: &object.wrapping,
            req_msg_id: object.req_msg_id,
            stream_offset: self.stream_offset,
        }
    }
}

/// The connections of one share of the capture (all of it on one thread).
pub(crate) struct Connections {
    options: PipelineOptions,
    conns: HashMap<ConnId, ConnState>,
    transport_events: Vec<TransportEvent>,
    /// The TL core's trace, one allocation reused for every object.
    recorder: Recorder,
    /// A message's objects, one allocation reused for every message.
    unwrapped: Vec<Unwrapped>,
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
    info: Option<TransportInfo>,
    /// FIN or RST seen, client then server.
    closed: [bool; 2],
}

impl Connections {
    pub(crate) fn new(options: PipelineOptions) -> Self {
        Connections {
            options,
            conns: HashMap::new(),
            transport_events: Vec::new(),
            recorder: Recorder::default(),
            unwrapped: Vec::new(),
        }
    }

    fn origin(&self, conn: ConnId, direction: Direction, time_ns: i128) -> Origin {
        let c = self.conns.get(&conn);
        Origin {
            time_ns,
            endpoints: c.map(|c| (c.client, c.server)),
            direction,
            transport: c.and_then(|c| c.info.clone()),
        }
    }

    /// Take one TCP event of the packet captured at `time_ns`.
    pub(crate) fn tcp_event<S: ItemSink + ?Sized>(&mut self, time_ns: i128, event: TcpEvent<'_>, out: &mut S) {
        match event {
            TcpEvent::Opened { conn, client, server, from_start } => {
                self.conns.insert(
                    conn,
                    ConnState { transport: None, from_start, client, server, info: None, closed: [false; 2] },
                );
                if !from_start {
                    let forced_plain = matches!(self.options.transport.forced, Some((_, false)));
                    out.item(Item::Warning(Warning::StartedBeforeCapture { client, server, forced_plain }));
                }
            }
            TcpEvent::Data { conn, direction, bytes, .. } => {
                let mut events = std::mem::take(&mut self.transport_events);
                if let Some(t) = self.transport(conn) {
                    t.feed(direction, &bytes, &mut events);
                }
                for e in events.drain(..) {
                    self.transport_event(conn, time_ns, e, out);
                }
                self.transport_events = events;
            }
            TcpEvent::Gap { conn, direction, offset, len } => {
                let origin = self.origin(conn, direction, time_ns);
                out.item(Item::Warning(Warning::Gap { origin, offset, len }));
                let mut events = std::mem::take(&mut self.transport_events);
                if let Some(t) = self.transport(conn) {
                    t.gap(direction, len, &mut events);
                }
                for e in events.drain(..) {
                    self.transport_event(conn, time_ns, e, out);
                }
                self.transport_events = events;
            }
            TcpEvent::Forgotten { conn } => {
                let origin = self.origin(conn, Direction::ClientToServer, time_ns);
                self.conns.remove(&conn);
                out.item(Item::Forgotten { conn, origin });
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
                    out.item(Item::Closed { conn });
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

    fn transport_event<S: ItemSink + ?Sized>(
        &mut self,
        conn: ConnId,
        time_ns: i128,
        event: TransportEvent,
        out: &mut S,
    ) {
        match event {
            TransportEvent::Detected(info) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.info = Some(info);
                }
            }
            TransportEvent::Frame(mut frame) => {
                out.item(Item::Frame);
                let origin = self.origin(conn, frame.direction, time_ns);
                let stream_offset = frame.stream_offset;
                let len = frame.payload.len();
                match open_message_in(&mut frame.payload, frame.direction, &self.options.keys) {
                    Err(error) => out.item(Item::Warning(Warning::Envelope { origin, stream_offset, error })),
                    Ok(Envelope::UnknownKey { auth_key_id }) => {
                        out.item(Item::UnknownKey { origin, auth_key_id, len });
                    }
                    Ok(Envelope::Plain { msg_id, data, trailing }) => {
                        if trailing > 0 {
                            out.item(Item::Warning(Warning::TrailingBytes {
                                origin: origin.clone(),
                                msg_id,
                                trailing,
                            }));
                        }
                        out.item(Item::Message);
                        let at = At { origin, encrypted: false, auth_key_id: 0, stream_offset };
                        self.objects(conn, &at, (data, msg_id, 0), out);
                    }
                    Ok(Envelope::Encrypted(m)) => {
                        out.item(Item::Message);
                        let at = At { origin, encrypted: true, auth_key_id: m.auth_key_id, stream_offset };
                        self.objects(conn, &at, (&m.data, m.msg_id, m.seq_no), out);
                    }
                }
            }
            TransportEvent::QuickAck { direction, token, .. } => {
                let origin = self.origin(conn, direction, time_ns);
                out.item(Item::QuickAck { origin, token });
            }
            TransportEvent::TransportError { direction, code, stream_offset } => {
                let origin = self.origin(conn, direction, time_ns);
                out.item(Item::Warning(Warning::TransportError { origin, code, stream_offset }));
            }
            TransportEvent::Problem(problem) => {
                let origin = self.origin(conn, problem.direction, time_ns);
                out.item(Item::Warning(Warning::Transport { origin, problem }));
            }
        }
    }

    /// The service layer keeps the bytes of what it does not name only when
    /// a schema is there to decode them.
    fn service_options(&self) -> ServiceOptions {
        ServiceOptions { keep_other: self.options.schema.is_some(), ..self.options.service }
    }

    /// Unwrap a message (its body, msg_id and seq_no), decode the requests
    /// and answers among its objects, and hand every object on.
    fn objects<S: ItemSink + ?Sized>(
        &mut self,
        conn: ConnId,
        at: &At,
        (body, msg_id, seq_no): (&[u8], i64, i32),
        out: &mut S,
    ) {
        let mut items = std::mem::take(&mut self.unwrapped);
        unwrap_message_into(body, msg_id, seq_no, self.service_options(), &mut items);
        for object in &mut items {
            let decoded = match &object.content {
                Content::Request(bytes) | Content::Answer(bytes) => Some(self.decode(bytes)),
                _ => None,
            };
            let dynamic = match (&object.content, self.options.schema) {
                (Content::Other { id, bytes, .. }, Some(schema)) if schema.by_id(*id).is_some() => {
                    Some(schema.decode(bytes, DecodeOptions::strict()))
                }
                _ => None,
            };
            let trace: &[TraceEvent] =
                if decoded.is_some() && self.options.trace { &self.recorder.events } else { &[] };
            out.item(Item::Object { conn, at: at.clone(), object, decoded, trace, dynamic, rendered: None });
        }
        items.clear();
        // Not the room of a message of thousands of objects for the rest
        // of the capture.
        items.shrink_to(64);
        self.unwrapped = items;
    }

    /// Decode request or answer bytes with the TL core, recording the trace
    /// only when asked (JSON output needs no spans), into one recorder reused
    /// for every object of the capture.
    fn decode(&mut self, bytes: &[u8]) -> Result<Frame, DecodeError> {
        if self.options.trace {
            decode_traced_into::<Frame>(bytes, DecodeOptions::strict(), &mut self.recorder)
        } else {
            decode_top::<Frame>(bytes, DecodeOptions::strict())
        }
    }
}
