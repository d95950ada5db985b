//! The fuzz target `conversation`: the end-to-end round trip of the whole
//! tool, structure-aware.
//!
//! A mutated byte inside an encrypted payload fails msg_key, so the
//! byte-level capture targets never reach the service layer and the TL core
//! through real envelopes. Here `arbitrary` describes a whole conversation
//! instead ([`ConversationSpec`]): the transport and its obfuscation or
//! MTProxy secret, the requests and answers themselves (arbitrary
//! `exportChatInvite` values, `exportedChatInvite`s and `rpc_error`s, and
//! other methods' requests answered by `rpc_error`), their wrappers
//! (invokeWithLayer › initConnection, invokeAfterMsg, gzip_packed,
//! msg_container, rpc_result; gzip members are stored uncompressed, see
//! `fixtures::gzip_stored`), acks and quick acks, encrypted or not, and
//! how the TCP segments carry them (sizes, coalescing, reordering,
//! retransmission, one lost segment), the link type and the file format.
//! The fixture writer (`tests/support/fixtures.rs`) turns it into capture
//! bytes under the fixture key, and [`conversation`] checks that
//! `inspector pcap` reports exactly what was put in.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet, VecDeque};

use arbitrary::{Arbitrary, Unstructured};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::Checks;
use crate::fixtures::{
    self, build_streams, container, data_segments, gzip_packed_stored, invoke_after_msg, layer_init, msgs_ack,
    mtproxy_secret, new_session_created, rpc_result, CaptureSpec, ConnectionSpec, Conversation, Format, Link, Message,
    Segmenting, Transport,
};
use inspector::envelope::KeyStore;
use inspector::pipeline::Summary;
use inspector::report::{run_capture, ReportFormat, ReportOptions};
use inspector::tcp::Direction;
use inspector::tl::json::TlJsonWrite;
use inspector::tl::{ExportChatInvite, ExportedChatInvite, Frame, RpcError, TlObject};
use inspector::transport::Framing;

/// Exchanges kept of those drawn: a handful keeps a run fast (thousands
/// per second) and already holds every interplay of two neighbours.
const MAX_EXCHANGES: usize = 5;
const MAX_WRAPPERS: usize = 2;
const MAX_FAULTS: usize = 3;

/// Upper 32 bits of every msg_id: a fixed unix time, as the fixtures use.
const TIME: i64 = 1_760_000_000;

/// A whole capture of one connection, as `arbitrary` draws it.
#[derive(Debug, Arbitrary)]
pub struct ConversationSpec {
    pub framing: FramingChoice,
    pub obfuscation: Obfuscation,
    /// The client asks for quick acks and the server sends them.
    pub quick_acks: bool,
    /// Index into [`Link::ALL`].
    pub link: u8,
    pub format: FormatChoice,
    pub v6: bool,
    /// The first five are used (a handful keeps a run fast).
    pub exchanges: Vec<Exchange>,
    pub segmenting: SegmentingSpec,
    /// Not read on its own any more: which inputs compare two threads with
    /// one and run the text report is chosen by the sum of all the input's
    /// bytes (see [`conversation`]); drawn still, so that the committed
    /// corpus keeps its meaning, and a byte the fuzzer can change to move an
    /// input in or out of those samples.
    pub threads_check: u8,
}

#[derive(Debug, Arbitrary, Clone, Copy, PartialEq, Eq)]
pub enum FramingChoice {
    Abridged,
    Intermediate,
    PaddedIntermediate,
    Full,
}

/// Obfuscation carries only the three tagged framings: with the full
/// framing it is left out; a `dd` MTProxy secret means padded intermediate.
#[derive(Debug, Arbitrary, Clone, Copy, PartialEq, Eq)]
pub enum Obfuscation {
    None,
    Obfuscated2,
    MtProxy,
    MtProxyDd,
}

#[derive(Debug, Arbitrary, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    PcapLittleMicros,
    PcapBigNanos,
    PcapNgLittle,
    PcapNgBig,
    /// pcapng with a second section halfway through.
    PcapNgTwoSections,
}

/// A request and what answers it.
#[derive(Debug, Arbitrary)]
pub struct Exchange {
    /// An unencrypted exchange is bare, ours, and always answered (an
    /// unencrypted answer has no rpc_result and answers the oldest waiting
    /// unencrypted request, so an unanswered one would pair up the wrong ones).
    pub encrypted: bool,
    pub request: RequestBody,
    /// Innermost first; the first two are used.
    pub wrappers: Vec<RequestWrapper>,
    /// The request goes in a msg_container beside a msgs_ack.
    pub container: Option<MateFirst>,
    pub answer: Option<AnswerSpec>,
    /// A msgs_ack of its own from the client after the exchange.
    pub ack_after: bool,
}

/// Whether the other item of a container comes before the content.
#[derive(Debug, Arbitrary, Clone, Copy)]
pub struct MateFirst(pub bool);

#[derive(Debug, Arbitrary)]
pub enum RequestBody {
    Ours(ExportChatInvite),
    Other(OtherMethod),
}

/// Other methods' requests (constructors without parameters, which the
/// inspector does not decode): their answers must be attributed to them.
#[derive(Debug, Arbitrary, Clone, Copy, PartialEq, Eq)]
pub enum OtherMethod {
    HelpGetConfig,
    UpdatesGetState,
    HelpGetNearestDc,
}

impl OtherMethod {
    fn id(self) -> u32 {
        match self {
            OtherMethod::HelpGetConfig => 0xc4f9_186b,
            OtherMethod::UpdatesGetState => 0xedd4_882a,
            OtherMethod::HelpGetNearestDc => 0x1fb3_3026,
        }
    }
}

#[derive(Debug, Arbitrary, Clone, Copy, PartialEq, Eq)]
pub enum RequestWrapper {
    /// invokeWithLayer › initConnection, as a client's first request.
    LayerInit,
    /// invokeAfterMsg the client's previous message.
    AfterMsg,
    Gzip,
}

#[derive(Debug, Arbitrary)]
pub struct AnswerSpec {
    /// To another method's request, an invite becomes an rpc_error.
    pub value: AnswerValue,
    /// gzip_packed inside the rpc_result.
    pub gzip: bool,
    /// In a msg_container beside new_session_created (or a msgs_ack).
    pub container: Option<(MateFirst, bool)>,
}

#[derive(Debug, Arbitrary)]
pub enum AnswerValue {
    Invite(ExportedChatInvite),
    Error(RpcError),
}

/// How the streams become segments; indices are taken modulo the number of
/// data segments.
#[derive(Debug, Arbitrary)]
pub struct SegmentingSpec {
    /// 0: 1400 bytes; otherwise 16 + this.
    pub mss: u8,
    pub coalesce: bool,
    /// Extra cut points: (server side, offset modulo the stream length).
    pub splits: Vec<(bool, u16)>,
    /// Segments sent after the next one (when both go the same way: a
    /// request overtaken by its answer would be a different conversation).
    pub reorder: Vec<u8>,
    pub retransmit: Vec<u8>,
    /// One segment lost (unless it is also retransmitted, which heals it).
    pub drop: Option<u8>,
}

// ---------------------------------------------------------------------------
// From the description to messages and expectations

/// What the report must hold for one message (or one container item).
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    /// Index of the carrying message in the conversation.
    pub message: usize,
    pub direction: Direction,
    pub msg_id: i64,
    pub req_msg_id: Option<i64>,
    /// As in the JSON report: outermost first, rpc_result left out.
    pub wrapping: Vec<&'static str>,
    /// The canonical JSON text of what was put in, as
    /// [`TlJsonWrite::write_json`] writes it (the `json` target holds that
    /// to serde_json's text of
    /// [`to_json`](inspector::tl::json::TlJson::to_json)); for another
    /// method's request, the `{"_": id, "length": n}` the report gives.
    /// The report writes the body of what it decoded, so equal texts mean
    /// an equal value came out.
    pub body: String,
    pub encrypted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Request,
    Answer,
    /// Another method's request (`"other"` with `--all`).
    OtherRequest,
    /// An rpc_error to another method's request.
    OtherAnswer,
}

/// The conversation built from a [`ConversationSpec`], ready for the
/// fixture writer.
#[derive(Debug, Clone)]
pub struct Plan {
    pub transport: Transport,
    pub conversation: Conversation,
    pub items: Vec<Item>,
    pub link: Link,
    pub format: Format,
    pub v6: bool,
    pub segmenting: SegmentingSpecPlan,
}

/// The segmenting before indices are resolved against the segments.
#[derive(Debug, Clone)]
pub struct SegmentingSpecPlan {
    pub mss: usize,
    pub coalesce: bool,
    pub splits: Vec<(Direction, u16)>,
    pub reorder: Vec<u8>,
    pub retransmit: Vec<u8>,
    pub drop: Option<u8>,
}

/// A value's canonical JSON text, written straight from the value as the
/// report writes bodies: building serde_json's `Value` first made a tenth
/// of an execution's allocations.
fn canonical_json<T: TlJsonWrite>(value: &T) -> String {
    // Most bodies fit (a peer nested a few levels, a title of some
    // length): one allocation, not one for each doubling.
    let mut text = Vec::with_capacity(1024);
    value.write_json(&mut text).expect("a Vec takes every write");
    String::from_utf8(text).expect("canonical JSON is UTF-8")
}

/// Append a message; content-related ones get odd seq_nos (what makes a
/// client message a query an rpc_result can answer).
fn push(
    messages: &mut Vec<Message>,
    seq: &mut [i32; 2],
    direction: Direction,
    msg_id: i64,
    body: Vec<u8>,
    encrypted: bool,
    content: bool,
) -> usize {
    let side = usize::from(direction == Direction::ServerToClient);
    let seq_no = seq[side] * 2 + i32::from(content);
    if content {
        seq[side] += 1;
    }
    messages.push(Message { direction, msg_id, seq_no, body, encrypted });
    messages.len() - 1
}

fn id(n: u32, low: i64) -> i64 {
    (TIME << 32) | (i64::from(n) << 4) | low
}

/// Numbers msg_ids so that they increase in sending order: the client's
/// are multiples of 4, the server's answers 1 mod 4 and its other
/// messages 3 mod 4.
struct Ids(u32);

impl Ids {
    fn client(&mut self) -> i64 {
        self.0 += 1;
        id(self.0, 0)
    }
    fn answer(&mut self) -> i64 {
        self.0 += 1;
        id(self.0, 1)
    }
    fn server(&mut self) -> i64 {
        self.0 += 1;
        id(self.0, 3)
    }
}

impl ConversationSpec {
    /// The transport the description names, normalised (see [`Obfuscation`]).
    pub fn transport(&self) -> Transport {
        let framing = match self.framing {
            FramingChoice::Abridged => Framing::Abridged,
            FramingChoice::Intermediate => Framing::Intermediate,
            FramingChoice::PaddedIntermediate => Framing::PaddedIntermediate,
            FramingChoice::Full => Framing::Full,
        };
        let mut t = match (self.obfuscation, framing) {
            (Obfuscation::None, f) | (_, f @ Framing::Full) => Transport::plain(f),
            (Obfuscation::Obfuscated2, f) => Transport::obfuscated(f),
            (Obfuscation::MtProxy, f) => Transport { framing: f, ..Transport::mtproxy(mtproxy_secret(false)) },
            (Obfuscation::MtProxyDd, _) => Transport::mtproxy(mtproxy_secret(true)),
        };
        t.quick_acks = self.quick_acks;
        t
    }

    /// The messages and what the report must say about them.
    pub fn plan(&self) -> Plan {
        let c2s = Direction::ClientToServer;
        let s2c = Direction::ServerToClient;
        // At most three messages an exchange (request, answer, ack), two
        // items and two server msg_ids.
        let exchanges = self.exchanges.len().min(MAX_EXCHANGES);
        let mut messages: Vec<Message> = Vec::with_capacity(3 * exchanges);
        let mut items: Vec<Item> = Vec::with_capacity(2 * exchanges);
        let mut ids = Ids(0);
        let mut seq = [0i32; 2];
        // The server's msg_ids so far, which the client acknowledges.
        let mut server_ids: Vec<i64> = Vec::with_capacity(2 * exchanges);
        let mut last_client: Option<i64> = None;
        for ex in self.exchanges.iter().take(MAX_EXCHANGES) {
            let encrypted = ex.encrypted;
            let (request_bytes, ours) = match (&ex.request, encrypted) {
                (RequestBody::Ours(r), _) => (r.to_bytes().ok(), Some(r)),
                (RequestBody::Other(m), true) => (Some(m.id().to_le_bytes().to_vec()), None),
                // Unencrypted exchanges are ours: see Exchange::encrypted.
                (RequestBody::Other(_), false) => continue,
            };
            // A string past 16 MiB cannot be encoded; arbitrary never draws one.
            let Some(mut body) = request_bytes else { continue };
            // Each wrapper names at most two, and a container one more.
            let mut wrapping: Vec<&'static str> = Vec::with_capacity(2 * MAX_WRAPPERS + 1);
            if encrypted {
                for w in ex.wrappers.iter().take(MAX_WRAPPERS) {
                    match w {
                        RequestWrapper::LayerInit => {
                            body = layer_init(&body);
                            wrapping.splice(0..0, ["invokeWithLayer", "initConnection"]);
                        }
                        RequestWrapper::AfterMsg => {
                            body = invoke_after_msg(last_client.unwrap_or(id(0, 0)), &body);
                            wrapping.insert(0, "invokeAfterMsg");
                        }
                        RequestWrapper::Gzip => {
                            body = gzip_packed_stored(&body);
                            wrapping.insert(0, "gzip_packed");
                        }
                    }
                }
            }
            let (kind, json) = match ours {
                Some(r) => (ItemKind::Request, canonical_json(r)),
                None => {
                    let RequestBody::Other(m) = &ex.request else { unreachable!("ours is None only for Other") };
                    // As serde_json writes {"_": "0x…", "length": 4}.
                    (ItemKind::OtherRequest, format!(r#"{{"_":"0x{:08x}","length":4}}"#, m.id()))
                }
            };
            let request_id;
            match ex.container {
                Some(MateFirst(mate_first)) if encrypted => {
                    let ack_id = ids.client();
                    request_id = ids.client();
                    let ack = (ack_id, seq[0] * 2, msgs_ack(&server_ids));
                    let req = (request_id, seq[0] * 2 + 1, body);
                    let list = if mate_first { vec![ack, req] } else { vec![req, ack] };
                    let cid = ids.client();
                    let m = push(&mut messages, &mut seq, c2s, cid, container(&list), true, false);
                    seq[0] += 1;
                    wrapping.insert(0, "msg_container");
                    items.push(Item {
                        kind,
                        message: m,
                        direction: c2s,
                        msg_id: request_id,
                        req_msg_id: None,
                        wrapping,
                        body: json,
                        encrypted,
                    });
                }
                _ => {
                    request_id = ids.client();
                    let m = push(&mut messages, &mut seq, c2s, request_id, body, encrypted, true);
                    items.push(Item {
                        kind,
                        message: m,
                        direction: c2s,
                        msg_id: request_id,
                        req_msg_id: None,
                        wrapping,
                        body: json,
                        encrypted,
                    });
                }
            }
            last_client = Some(request_id);

            let answer = match (&ex.answer, encrypted) {
                (Some(a), _) => Some(a),
                (None, true) => None,
                (None, false) => {
                    // Unencrypted requests are always answered.
                    let value = Frame::Answer(ExportedChatInvite::PublicJoinRequests);
                    let body = value.to_bytes().expect("a constant encodes");
                    let aid = ids.answer();
                    let m = push(&mut messages, &mut seq, s2c, aid, body, false, true);
                    server_ids.push(aid);
                    items.push(Item {
                        kind: ItemKind::Answer,
                        message: m,
                        direction: s2c,
                        msg_id: aid,
                        req_msg_id: Some(request_id),
                        wrapping: vec!["unencrypted"],
                        body: canonical_json(&value),
                        encrypted: false,
                    });
                    None
                }
            };
            if let Some(a) = answer {
                let value = match (&a.value, ours.is_some()) {
                    (AnswerValue::Invite(v), true) => Frame::Answer(v.clone()),
                    (AnswerValue::Error(e), _) => Frame::Error(e.clone()),
                    (AnswerValue::Invite(_), false) => {
                        Frame::Error(RpcError { error_code: 420, error_message: "FLOOD_WAIT_3".into() })
                    }
                };
                let Ok(bytes) = value.to_bytes() else { continue };
                let kind = if ours.is_some() { ItemKind::Answer } else { ItemKind::OtherAnswer };
                if !encrypted {
                    let aid = ids.answer();
                    let m = push(&mut messages, &mut seq, s2c, aid, bytes, false, true);
                    server_ids.push(aid);
                    items.push(Item {
                        kind,
                        message: m,
                        direction: s2c,
                        msg_id: aid,
                        req_msg_id: Some(request_id),
                        wrapping: vec!["unencrypted"],
                        body: canonical_json(&value),
                        encrypted: false,
                    });
                } else {
                    let mut wrapping = Vec::new();
                    let result = if a.gzip {
                        wrapping.push("gzip_packed");
                        rpc_result(request_id, &gzip_packed_stored(&bytes))
                    } else {
                        rpc_result(request_id, &bytes)
                    };
                    let (m, aid) = match a.container {
                        Some((MateFirst(mate_first), new_session)) => {
                            let mate_id = ids.server();
                            let aid = ids.answer();
                            let mate_body =
                                if new_session { new_session_created(request_id) } else { msgs_ack(&[request_id]) };
                            let mate = (mate_id, seq[1] * 2 + i32::from(new_session), mate_body);
                            let res = (aid, seq[1] * 2 + 1, result);
                            let list = if mate_first { vec![mate, res] } else { vec![res, mate] };
                            let cid = ids.server();
                            let m = push(&mut messages, &mut seq, s2c, cid, container(&list), true, false);
                            seq[1] += 1;
                            server_ids.push(mate_id);
                            wrapping.insert(0, "msg_container");
                            (m, aid)
                        }
                        None => {
                            let aid = ids.answer();
                            (push(&mut messages, &mut seq, s2c, aid, result, true, true), aid)
                        }
                    };
                    server_ids.push(aid);
                    items.push(Item {
                        kind,
                        message: m,
                        direction: s2c,
                        msg_id: aid,
                        req_msg_id: Some(request_id),
                        wrapping,
                        body: canonical_json(&value),
                        encrypted: true,
                    });
                }
            }
            if ex.ack_after && encrypted && !server_ids.is_empty() {
                let aid = ids.client();
                push(&mut messages, &mut seq, c2s, aid, msgs_ack(&server_ids), true, false);
            }
        }
        let format = match self.format {
            FormatChoice::PcapLittleMicros => Format::Pcap { big_endian: false, nanos: false },
            FormatChoice::PcapBigNanos => Format::Pcap { big_endian: true, nanos: true },
            FormatChoice::PcapNgLittle => Format::PcapNg { big_endian: false, sections: 1 },
            FormatChoice::PcapNgBig => Format::PcapNg { big_endian: true, sections: 1 },
            FormatChoice::PcapNgTwoSections => Format::PcapNg { big_endian: false, sections: 2 },
        };
        let s = &self.segmenting;
        Plan {
            transport: self.transport(),
            conversation: Conversation { messages, expected: Vec::new() },
            items,
            link: Link::ALL[usize::from(self.link) % Link::ALL.len()],
            format,
            v6: self.v6,
            segmenting: SegmentingSpecPlan {
                mss: if s.mss == 0 { 0 } else { 16 + usize::from(s.mss) },
                coalesce: s.coalesce,
                splits: s
                    .splits
                    .iter()
                    .take(MAX_FAULTS)
                    .map(|&(server, o)| (if server { s2c } else { c2s }, o))
                    .collect(),
                reorder: s.reorder.iter().take(MAX_FAULTS).copied().collect(),
                retransmit: s.retransmit.iter().take(MAX_FAULTS).copied().collect(),
                drop: s.drop,
            },
        }
    }
}

/// A data segment: direction and stream span.
type Span = (Direction, u64, u64);

/// The plan made concrete: the capture spec, and where a segment was lost.
struct Built {
    spec: CaptureSpec,
    /// The lost segment, if any.
    lost: Option<Span>,
    /// The connection's streams (built once: the capture is written from
    /// them, [`fixtures::build_with_streams`]).
    streams: fixtures::Streams,
}

fn concretise(plan: &Plan) -> Built {
    let streams = build_streams(&plan.conversation, &plan.transport, fixtures::fixture_key_ref(), &[]);
    let sp = &plan.segmenting;
    let splits = sp
        .splits
        .iter()
        .filter_map(|&(d, o)| {
            let len = if d == Direction::ClientToServer { streams.c2s.len() } else { streams.s2c.len() };
            (len > 0).then(|| (d, u64::from(o) % len as u64))
        })
        .collect();
    let base = Segmenting { mss: sp.mss, splits, coalesce: sp.coalesce, ..Segmenting::default() };
    let segments: Vec<Span> = data_segments(&streams, &base);
    let n = segments.len();
    let mut seg = base;
    if n > 0 {
        let pick = |i: u8| usize::from(i) % n;
        seg.reorder =
            sp.reorder.iter().map(|&i| pick(i)).filter(|&i| i + 1 < n && segments[i].0 == segments[i + 1].0).collect();
        seg.retransmit = sp.retransmit.iter().map(|&i| pick(i)).collect();
        seg.drop = sp.drop.map(pick).filter(|i| !seg.retransmit.contains(i)).into_iter().collect();
    }
    let lost = seg.drop.first().map(|&i| segments[i]);
    let connection = ConnectionSpec {
        transport: plan.transport.clone(),
        // The streams are built above from the plan's conversation, and
        // build_with_streams takes them as they are: of the conversation it
        // reads only what is expected of messages made unreadable on
        // purpose, which a plan has none of. (A copy of every message body
        // was a twentieth of an execution's allocations.)
        conversation: Conversation::default(),
        tamper: Vec::new(),
        segmenting: seg,
        v6: plan.v6,
        interface: 0,
    };
    let spec = CaptureSpec { format: plan.format, links: vec![plan.link], connections: vec![connection], truncate: 0 };
    Built { spec, lost, streams }
}

// ---------------------------------------------------------------------------
// Features, for the seed corpus

/// What a description reaches: its transport (as the report names it), its
/// obfuscation, every wrapper of its requests and answers, the faults, and
/// the sampled checks it gets (two threads, the text report).
/// The seed corpus must reach every transport and wrapper
/// (`tests/corpus_replay.rs`).
pub fn features(data: &[u8]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(spec) = ConversationSpec::arbitrary(&mut Unstructured::new(data)) else { return out };
    let plan = spec.plan();
    out.insert(format!("transport:{}", plan.transport.label()));
    out.insert(format!("framing:{}", plan.transport.framing.name()));
    let obfuscation = match &plan.transport.mtproxy_secret {
        Some(s) if s.len() == 17 => "mtproxy-dd",
        Some(_) => "mtproxy",
        None if plan.transport.obfuscated => "obfuscated2",
        None => "none",
    };
    out.insert(format!("obfuscation:{obfuscation}"));
    for item in &plan.items {
        for w in &item.wrapping {
            out.insert(format!("wrapper:{w}"));
        }
        if item.encrypted && matches!(item.kind, ItemKind::Answer | ItemKind::OtherAnswer) {
            out.insert("wrapper:rpc_result".into());
        }
        if matches!(item.kind, ItemKind::OtherRequest) {
            out.insert("other_method".into());
        }
        if !item.encrypted {
            out.insert("unencrypted".into());
        }
    }
    if plan.transport.quick_acks {
        out.insert("quick_acks".into());
    }
    let built = concretise(&plan);
    let seg = &built.spec.connections[0].segmenting;
    for (on, name) in [
        (built.lost.is_some(), "loss"),
        (!seg.reorder.is_empty(), "reorder"),
        (!seg.retransmit.is_empty(), "retransmit"),
        (seg.coalesce, "coalesce"),
    ] {
        if on {
            out.insert(name.into());
        }
    }
    out.insert(format!("link:{:?}", plan.link));
    out.insert(format!("format:{:?}", spec.format));
    let (threads, text) = sampled_checks(data, Checks::Sampled);
    for (on, name) in [(threads, "check:threads"), (text, "check:text")] {
        if on {
            out.insert(name.into());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The property

/// Which costly checks a `conversation` input gets, as (two threads, the
/// text report). With [`Checks::Sampled`] (while fuzzing) they are chosen
/// by the sum of the input's bytes: the text report on a sixteenth (bits
/// 0-3 zero) and two threads on a sixty-fourth (bits 0-5 zero, so those
/// get the text report too). With [`Checks::All`], both.
///
/// A quarter and a thirty-second until 2026-12-07: the two were a quarter
/// of an execution between them, and thinned, the target runs about 1.3
/// times as many inputs a second, with the same coverage (FUZZING.md,
/// "Thirteenth round"). What they lose in the fuzzing loop they get back
/// afterwards: every input a run keeps is replayed with both
/// ([`Checks`]).
pub fn sampled_checks(data: &[u8], checks: Checks) -> (bool, bool) {
    if checks == Checks::All {
        return (true, true);
    }
    let sum = super::pipeline::byte_sum(data);
    (sum % 64 == 0, sum % 16 == 0)
}

/// The fuzz target `conversation`: a conversation drawn by `arbitrary`
/// (see [`ConversationSpec`]), written as a capture with the fixture key,
/// through `inspector pcap` (JSON Lines with `--all` on one thread, and on
/// two for a sample of the inputs; text with `--all --hexdump` for another).
/// The samples are [`sampled_checks`]'s; [`Checks::from_env`] says whether
/// every input gets both instead.
///
/// - Both output formats run without error (the text report on a sixteenth
///   of the inputs), and two threads give the same JSON report, warnings
///   and summary as one, byte for byte (on a sixty-fourth).
/// - Without a lost segment, the report holds exactly what was put in, per
///   direction in order: every exportChatInvite request (msg_id, wrapping,
///   body equal to the value's canonical JSON, encrypted or not, transport,
///   connection), every answer (the same, and `req_msg_id`: from the
///   rpc_result, or for an unencrypted answer the request it follows),
///   other methods' requests as `other` and their rpc_errors as
///   `other_answer` (never as ours); no warning; and the summary counts
///   them (requests, answers, matched, none unmatched, other answers,
///   packets, one connection, one frame per message).
/// - With a lost segment (bytes `[s, e)` of one direction): a warning names
///   exactly that gap (connection, direction, length, offset). Everything
///   of that direction whose frame ends by `s` is reported exactly, as
///   above. After it, the transport resynchronises at the next plausible
///   frame, so what follows may be lost but is never invented: what is
///   reported is a subsequence of what was sent, each item exact
///   (encrypted messages are authenticated by msg_key; an unencrypted one
///   after the loss is not checked, since resynchronisation may
///   legitimately take bytes inside an unencrypted message for a frame).
///   The other direction is reported exactly, except that an answer whose
///   request was lost is an unmatched answer (`answer`, even an rpc_error
///   to another method) and an unencrypted answer pairs with the oldest
///   unencrypted request reported before it. When the lost bytes are
///   before the end of the client's first frame (its transport tag or
///   obfuscation header), the transport may never be recognised: both
///   directions are then held to the after-the-loss rule, and the framing
///   is known only from the frames, so intermediate and padded
///   intermediate (whose frames without padding are the same bytes) may
///   each be reported as the other. The summary
///   agrees with the lines (requests, answers, other answers, warnings).
pub fn conversation(data: &[u8]) {
    conversation_with(data, Checks::from_env());
}

/// [`conversation`] with its costly checks sampled or all run.
pub fn conversation_with(data: &[u8], checks: Checks) {
    let Ok(spec) = ConversationSpec::arbitrary(&mut Unstructured::new(data)) else { return };
    let plan = spec.plan();
    let built = concretise(&plan);
    let fixture = fixtures::build_with_streams(&built.spec, vec![built.streams]);
    let mut keys = KeyStore::new();
    keys.insert(fixture.key);
    let mut options = ReportOptions { keys, format: ReportFormat::Json, all: true, ..ReportOptions::default() };
    options.transport.mtproxy_secret = plan.transport.mtproxy_secret.clone();

    // Threads and the text report cost most of a run: they are sampled by
    // the input's bytes. (A drawn byte decided before: it is 0 whenever the
    // description runs out of bytes, so most inputs started threads.)
    let (compare_threads, text_report) = sampled_checks(data, checks);
    let json = run_both(&fixture.bytes, &options, compare_threads);
    // The text report (trees, hex dumps) only has to run: one thread is
    // enough, since the two drivers share it and the JSON run compares them.
    if text_report {
        let text_options = ReportOptions { format: ReportFormat::Text, hexdump: true, ..options.clone() };
        let text = run_capture(&fixture.bytes[..], &text_options, &mut Vec::new(), &mut Vec::new());
        assert!(text.is_ok(), "the text report of a written capture fails: {text:?}");
    }

    let text = String::from_utf8(json.out).expect("the JSON report is UTF-8");
    let lines = Line::read_all(&text);
    let conn = &fixture.connections[0];
    let check = Check {
        plan: &plan,
        lines: &lines,
        c2s_text: between(conn.client, conn.server),
        s2c_text: between(conn.server, conn.client),
        label: plan.transport.label(),
        twin: None,
    };
    let summary = json.summary;
    let warnings: Vec<&str> = lines.iter().filter_map(|l| l.warning.as_deref()).collect();
    assert_eq!(warnings.len() as u64, summary.warnings, "warning lines and the summary's count differ");

    match built.lost {
        None => {
            assert!(warnings.is_empty(), "warnings without a fault: {warnings:?}\n{}", check.dump());
            assert_eq!(json.err, b"", "stderr without a fault");
            check.exact();
            let count = |k: ItemKind| plan.items.iter().filter(|i| i.kind == k).count() as u64;
            let want = Summary {
                packets: conn.packets as u64,
                connections: 1,
                frames: plan.conversation.messages.len() as u64,
                messages: summary.messages,
                requests: count(ItemKind::Request),
                answers: count(ItemKind::Answer),
                matched: count(ItemKind::Answer),
                unmatched_answers: 0,
                other_answers: count(ItemKind::OtherAnswer),
                unknown_key_messages: 0,
                warnings: 0,
                extracted: 0,
            };
            assert_eq!(summary, want, "the summary\n{}", check.dump());
        }
        Some((dir, start, end)) => {
            let who = if dir == Direction::ClientToServer { &check.c2s_text } else { &check.s2c_text };
            let gap = format!("{who} {dir}: {} bytes missing from the capture at stream offset {start}", end - start);
            assert!(warnings.contains(&gap.as_str()), "no warning {gap:?} for the lost segment in {warnings:?}");
            check.after_loss(dir, start, &conn.streams);
            let lines_of = |k: &str| lines.iter().filter(|l| l.kind.as_deref() == Some(k)).count() as u64;
            assert_eq!(summary.requests, lines_of("request"), "requests counted and reported differ");
            assert_eq!(summary.answers, lines_of("answer"), "answers counted and reported differ");
            assert_eq!(summary.other_answers, lines_of("other_answer"), "other answers counted and reported differ");
            assert!(summary.matched <= summary.requests.min(summary.answers), "more matched than requests or answers");
        }
    }
}

/// `from → to`, as the report names a direction of a connection (one
/// allocation: `format!` grew its string at each doubling).
fn between(from: std::net::SocketAddr, to: std::net::SocketAddr) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(112);
    write!(text, "{from} → {to}").expect("a String takes every write");
    text
}

/// A string borrowed from the line where it has no escapes (serde's own
/// `Cow` field rule), for use inside an `Option` or a `Vec`.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// An optional string member, borrowed where it can be.
fn borrowed_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Option::<Text<'de>>::deserialize(d).map(|t| t.map(|Text(text)| text))
}

/// An optional array of strings, each borrowed where it can be.
fn borrowed_texts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<Cow<'de, str>>>, D::Error> {
    Option::<Vec<Text<'de>>>::deserialize(d).map(|t| t.map(|texts| texts.into_iter().map(|Text(text)| text).collect()))
}

/// A line of the JSON report, read back with the members the property
/// checks, borrowed from the text where it can be (the body as its text,
/// compared with [`Item::body`]). Reading the lines into
/// `serde_json::Value` built every map and string of the report again,
/// about a tenth of an execution (FUZZING.md, "Tenth round"). A member of
/// the wrong type is an error, as a line that is not JSON is; members the
/// property does not check are skipped, still parsed. serde borrows a
/// `Cow` field's text, but not one inside an `Option` or a `Vec` (those
/// were copied, half of the allocations left in reading a line): hence
/// `borrowed_text` and `borrowed_texts`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Line<'a> {
    #[serde(borrow, deserialize_with = "borrowed_text")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrowed_text")]
    pub direction: Option<Cow<'a, str>>,
    pub msg_id: Option<i64>,
    #[serde(borrow, deserialize_with = "borrowed_texts")]
    pub wrapping: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    pub body: Option<&'a RawValue>,
    pub encrypted: Option<bool>,
    #[serde(borrow, deserialize_with = "borrowed_text")]
    pub transport: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrowed_text")]
    pub connection: Option<Cow<'a, str>>,
    pub req_msg_id: Option<i64>,
    #[serde(borrow, deserialize_with = "borrowed_text")]
    pub request: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrowed_text")]
    pub warning: Option<Cow<'a, str>>,
    /// The whole line, for messages.
    #[serde(skip)]
    pub text: &'a str,
}

impl<'a> Line<'a> {
    /// One line of the report; panics on one that is not JSON or has a
    /// member of the wrong type.
    pub fn read(text: &'a str) -> Line<'a> {
        let mut line: Line<'a> = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("a report line is not JSON, or a member not of its type ({e}): {text}"));
        line.text = text;
        line
    }

    /// Every line of a report, read by one deserializer: skipping a nested
    /// member or unescaping a string takes its scratch buffer, allocated
    /// once for the report rather than once for each line. Panics as
    /// [`Line::read`] does, and on an object that is not a line of its own.
    pub fn read_all(text: &'a str) -> Vec<Line<'a>> {
        let mut lines = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 1);
        let mut objects = serde_json::Deserializer::from_str(text).into_iter::<Line<'a>>();
        for this in text.lines() {
            let mut line = match objects.next() {
                Some(Ok(line)) => line,
                Some(Err(e)) => panic!("a report line is not JSON, or a member not of its type ({e}): {this}"),
                None => panic!("a report line is not JSON: {this:?}"),
            };
            let end = this.as_ptr() as usize - text.as_ptr() as usize + this.len();
            assert_eq!(objects.byte_offset(), end, "a report line is not one JSON object: {this}");
            line.text = this;
            lines.push(line);
        }
        lines
    }

    fn is_s2c(&self) -> bool {
        self.direction.as_deref() == Some("s2c")
    }
}

/// One run's output.
struct Run {
    out: Vec<u8>,
    err: Vec<u8>,
    summary: Summary,
}

/// Run on one thread and, with `threads`, on two; they must agree byte
/// for byte.
fn run_both(bytes: &[u8], options: &ReportOptions, threads: bool) -> Run {
    // Room for most reports at once: grown from nothing, the report's lines
    // made four reallocations an execution.
    let mut out = Vec::with_capacity(16 << 10);
    let mut err = Vec::new();
    let result = run_capture(bytes, options, &mut out, &mut err);
    if threads {
        super::pipeline::same_on_two_threads(bytes, options, &result, &out, &err);
    }
    let format = options.format;
    let summary = result.unwrap_or_else(|e| panic!("{format:?}: a written capture is not read: {e}"));
    Run { out, err, summary }
}

/// The JSON report against the plan.
struct Check<'a> {
    plan: &'a Plan,
    lines: &'a [Line<'a>],
    c2s_text: String,
    s2c_text: String,
    label: String,
    /// A second label the report may give: with the client's transport tag
    /// lost, the framing is recognised from the frames alone, and a padded
    /// intermediate frame without padding is an intermediate frame, byte
    /// for byte (and the other way round), so either name is a right
    /// reading of what arrived.
    twin: Option<&'static str>,
}

/// Whether a report line is one the plan accounts for, and its kind.
fn kind_of(line: &Line) -> Option<ItemKind> {
    match (line.kind.as_deref()?, line.direction.as_deref()?) {
        ("request", _) => Some(ItemKind::Request),
        ("answer", _) => Some(ItemKind::Answer),
        ("other_answer", _) => Some(ItemKind::OtherAnswer),
        ("other", "c2s") => Some(ItemKind::OtherRequest),
        _ => None,
    }
}

/// What the matcher has seen so far, in report order: the model of answer
/// attribution.
#[derive(Default)]
struct Seen {
    other_requests: HashSet<i64>,
    plain_requests: VecDeque<i64>,
}

impl Seen {
    fn note(&mut self, line: &Line) {
        let id = line.msg_id.unwrap_or_default();
        match kind_of(line) {
            Some(ItemKind::OtherRequest) => {
                self.other_requests.insert(id);
            }
            Some(ItemKind::Request) if line.encrypted == Some(false) => self.plain_requests.push_back(id),
            _ => {}
        }
    }
}

impl Check<'_> {
    fn dump(&self) -> String {
        let lines: Vec<&str> = self.lines.iter().map(|l| l.text).collect();
        format!("--- report\n{}\n--- plan\n{:#?}", lines.join("\n"), self.plan.items)
    }

    fn direction_lines(&self, dir: Direction) -> Vec<usize> {
        let label = dir.label();
        (0..self.lines.len())
            .filter(|&i| kind_of(&self.lines[i]).is_some() && self.lines[i].direction.as_deref() == Some(label))
            .collect()
    }

    fn items(&self, dir: Direction) -> Vec<&Item> {
        self.plan.items.iter().filter(|i| i.direction == dir).collect()
    }

    /// The model's verdict on one line for one item: `None` if it matches.
    /// `seen` is the state before this line; `exact_pairing`: an
    /// unencrypted answer must name its true request.
    fn mismatch(&self, line: &Line, item: &Item, seen: &mut Seen, exact_pairing: bool) -> Option<String> {
        let mut want_kind = item.kind;
        let mut want_req = item.req_msg_id;
        if item.kind == ItemKind::OtherAnswer && !seen.other_requests.contains(&item.req_msg_id.unwrap_or_default()) {
            want_kind = ItemKind::Answer;
        }
        let is_answer = matches!(item.kind, ItemKind::Answer | ItemKind::OtherAnswer);
        if is_answer && !item.encrypted {
            let paired = seen.plain_requests.pop_front();
            if !exact_pairing {
                want_req = paired;
            }
        }
        let text = if item.direction == Direction::ClientToServer { &self.c2s_text } else { &self.s2c_text };
        let mut problems = Vec::new();
        if kind_of(line) != Some(want_kind) {
            problems.push(format!("kind {:?} (want {want_kind:?})", line.kind));
        }
        if line.msg_id != Some(item.msg_id) {
            problems.push(format!("msg_id {:?} (want {})", line.msg_id, item.msg_id));
        }
        if !line.wrapping.as_ref().is_some_and(|w| w.iter().eq(&item.wrapping)) {
            problems.push(format!("wrapping {:?} (want {:?})", line.wrapping, item.wrapping));
        }
        if line.body.map(RawValue::get) != Some(item.body.as_str()) {
            problems.push(format!("body {:?} (want {})", line.body, item.body));
        }
        if line.encrypted != Some(item.encrypted) {
            problems.push(format!("encrypted {:?}", line.encrypted));
        }
        let transport = line.transport.as_deref();
        let label_ok = transport == Some(self.label.as_str()) || self.twin.is_some_and(|t| transport == Some(t));
        if !label_ok || line.connection.as_deref() != Some(text.as_str()) {
            problems.push(format!("transport {transport:?} (want {}) on {:?}", self.label, line.connection));
        }
        if is_answer && line.req_msg_id != want_req {
            problems.push(format!("req_msg_id {:?} (want {want_req:?})", line.req_msg_id));
        }
        if want_kind == ItemKind::OtherAnswer {
            let name = line.request.as_deref().unwrap_or_default();
            if name.is_empty() || name.contains("exportChatInvite") {
                problems.push(format!("attributed to {:?}", line.request));
            }
        }
        seen.note(line);
        (!problems.is_empty()).then(|| format!("{:?} {}: {}", item.kind, item.msg_id, problems.join(", ")))
    }

    /// Every line of both directions is the next planned item.
    fn exact(&self) {
        let mut seen = Seen::default();
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let got = self.direction_lines(dir);
            let want = self.items(dir);
            if got.len() != want.len() {
                // The ids only for the message (they were two lists an execution).
                let ids: Vec<Option<i64>> = got.iter().map(|&i| self.lines[i].msg_id).collect();
                let want_ids: Vec<i64> = want.iter().map(|i| i.msg_id).collect();
                panic!("{dir}: reported {ids:?}, sent {want_ids:?}\n{}", self.dump());
            }
        }
        // In report order, so that the attribution model sees what the
        // matcher saw.
        let mut next = [0usize, 0];
        let items = [self.items(Direction::ClientToServer), self.items(Direction::ServerToClient)];
        for line in self.lines {
            if kind_of(line).is_none() {
                continue;
            }
            let side = usize::from(line.is_s2c());
            let item = items[side][next[side]];
            next[side] += 1;
            if let Some(m) = self.mismatch(line, item, &mut seen, true) {
                panic!("{m}\n{}", self.dump());
            }
        }
    }

    /// The loss rules of [`conversation`]: `dir` lost bytes from `start`.
    fn after_loss(&self, dir: Direction, start: u64, streams: &fixtures::Streams) {
        let messages = &self.plan.conversation.messages;
        let first_client_end =
            streams.placed.iter().find(|p| p.direction == Direction::ClientToServer).map_or(u64::MAX, |p| p.end);
        let transport_lost = dir == Direction::ClientToServer && start < first_client_end;
        let twin = match self.label.as_str() {
            "intermediate" if transport_lost => Some("padded_intermediate"),
            "padded_intermediate" if transport_lost => Some("intermediate"),
            _ => None,
        };
        let relaxed;
        let this = if twin.is_some() {
            relaxed = Check {
                plan: self.plan,
                lines: self.lines,
                c2s_text: self.c2s_text.clone(),
                s2c_text: self.s2c_text.clone(),
                label: self.label.clone(),
                twin,
            };
            &relaxed
        } else {
            self
        };
        // Certain: delivered whole before the loss (or in the other direction).
        let certain = |item: &Item| {
            if transport_lost {
                return false;
            }
            item.direction != dir || streams.placed[item.message].end <= start
        };
        // After the loss, unencrypted frames may hide frame-shaped bytes.
        let plain_after = messages
            .iter()
            .zip(&streams.placed)
            .any(|(m, p)| !m.encrypted && (transport_lost || (m.direction == dir && p.end > start)));
        let mut seen = Seen::default();
        let mut next = [0usize, 0];
        let items = [self.items(Direction::ClientToServer), self.items(Direction::ServerToClient)];
        for line in self.lines {
            if kind_of(line).is_none() {
                continue;
            }
            let side = usize::from(line.is_s2c());
            let list = &items[side];
            let Some(item) = list.get(next[side]) else {
                if plain_after && line.encrypted == Some(false) {
                    seen.note(line);
                    continue;
                }
                panic!("an item reported beyond what was sent: {}\n{}", line.text, self.dump());
            };
            if certain(item) {
                next[side] += 1;
                if let Some(m) = this.mismatch(line, item, &mut seen, false) {
                    panic!("before the loss: {m}\n{}", self.dump());
                }
                continue;
            }
            if plain_after && line.encrypted == Some(false) {
                seen.note(line);
                continue;
            }
            // A subsequence: skip the planned items lost, up to this one.
            let Some(k) = (next[side]..list.len()).find(|&k| Some(list[k].msg_id) == line.msg_id) else {
                panic!("after the loss, a line not sent (or out of order): {}\n{}", line.text, self.dump());
            };
            if let Some(first) = (next[side]..k).find(|&k| certain(list[k])) {
                panic!("item {} before the loss is missing\n{}", list[first].msg_id, self.dump());
            }
            next[side] = k + 1;
            if let Some(m) = this.mismatch(line, list[k], &mut seen, false) {
                panic!("after the loss: {m}\n{}", self.dump());
            }
        }
        for (side, list) in items.iter().enumerate() {
            if let Some(item) = list[next[side]..].iter().find(|i| certain(i)) {
                panic!("{:?} {} (delivered whole) is not reported\n{}", item.kind, item.msg_id, self.dump());
            }
        }
    }
}
