//! The MTProto service layer: what stands between a message body and the
//! exportChatInvite request or answer inside it.
//!
//! [`unwrap_message`] takes one message's body and returns every object it
//! carries, each with the chain of wrappers that was removed around it:
//! `msg_container` (recursively), `gzip_packed` (decompressed under a size
//! cap), `rpc_result`, `invokeWithLayer`, `initConnection` (with its proxy
//! and JSON params), `invokeAfterMsg(s)`, `invokeWithoutUpdates`,
//! `invokeWithTakeout`, `invokeWithBusinessConnection`,
//! `invokeWithMessagesRange`. The objects left are classified: an
//! exportChatInvite request, an answer (chatInviteExported,
//! chatInvitePublicJoinRequests, rpc_error), a named service message
//! (msgs_ack, ping, pong, new_session_created, bad_server_salt,
//! bad_msg_notification, ...), or an unknown constructor shown by id and
//! length. Requests and answers are returned as their bare TL bytes for the
//! TL core to decode.
//!
//! Every length is checked against the bytes present before it is used, the
//! unwrapping depth is bounded, and gzip output is capped, so hostile input
//! cannot exhaust the stack or memory. Problems are values naming the
//! offset and the field.

use std::fmt;
use std::io::Read;
use std::sync::Arc;

use flate2::bufread::{GzDecoder, ZlibDecoder};
use serde_json::{json, Map, Value};

use crate::tl::{DecodeOptions, Reader};

/// How deep wrappers (and initConnection's JSON params) may nest.
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// The most bytes one `gzip_packed` may decompress to.
pub const DEFAULT_GZIP_CAP: usize = 16 << 20;
/// The most objects one message yields; past it, one error and the rest
/// is skipped. Clients put at most about a thousand messages in a
/// container. Each object costs a few hundred bytes while its message is
/// decoded, and an empty message in a container is 16 bytes: a gzip_packed
/// of a few hundred kilobytes unpacks to a million of them (300 MB) under
/// [`DEFAULT_GZIP_CAP`]. At this bound, about 20 MB.
pub const MAX_OBJECTS: usize = 1 << 16;

// The ids come from tl/service.tl and tl/closure.tl, through build.rs.
use crate::tl::ids::{
    BAD_MSG_NOTIFICATION, BAD_SERVER_SALT, BOOL_FALSE, BOOL_TRUE, CHAT_INVITE_EXPORTED,
    CHAT_INVITE_PUBLIC_JOIN_REQUESTS, EXPORT_CHAT_INVITE, GZIP_PACKED, INIT_CONNECTION, INPUT_CLIENT_PROXY,
    INVOKE_AFTER_MSG, INVOKE_AFTER_MSGS, INVOKE_WITHOUT_UPDATES, INVOKE_WITH_BUSINESS_CONNECTION, INVOKE_WITH_LAYER,
    INVOKE_WITH_MESSAGES_RANGE, INVOKE_WITH_TAKEOUT, JSON_ARRAY, JSON_BOOL, JSON_NULL, JSON_NUMBER, JSON_OBJECT,
    JSON_OBJECT_VALUE, JSON_STRING, MESSAGE_RANGE, MSGS_ACK, MSG_CONTAINER, NEW_SESSION_CREATED, PING,
    PING_DELAY_DISCONNECT, PONG, RPC_ERROR, RPC_RESULT, VECTOR,
};

/// Limits for unwrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceOptions {
    pub max_depth: usize,
    /// The most bytes all `gzip_packed` of one message may decompress to
    /// together: a budget per message, not per object, since nested
    /// objects are all held at once while the innermost is read.
    pub gzip_cap: usize,
    /// Keep the bytes of the objects this layer does not name (for a schema
    /// to decode); without it an `Other` carries its id and length only, so
    /// a capture of mostly other traffic is not copied for nothing.
    pub keep_other: bool,
    /// Hand out `messages.exportChatInvite` and its answers
    /// (`chatInviteExported`, `chatInvitePublicJoinRequests`) as requests
    /// and answers for the typed closure (the default). Off, they are
    /// `Other` like any constructor this layer does not name, for a schema
    /// to decode (`inspector pcap --method` without that method); an
    /// `rpc_error` is an answer either way.
    pub closure: bool,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions { max_depth: DEFAULT_MAX_DEPTH, gzip_cap: DEFAULT_GZIP_CAP, keep_other: true, closure: true }
    }
}

/// A wrapper that was removed, with what it said. `InitConnection`'s
/// strings are shared (an `Arc`): the wrappers of an object are copied
/// into what is emitted (see [`Unwrapped::wrapping`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Wrapper {
    MsgContainer { container_msg_id: i64 },
    GzipPacked { packed: usize, unpacked: usize, format: PackedFormat },
    RpcResult { req_msg_id: i64 },
    InvokeWithLayer { layer: i32 },
    InitConnection(Arc<InitConnection>),
    InvokeAfterMsg { msg_id: i64 },
    InvokeAfterMsgs { msg_ids: Vec<i64> },
    InvokeWithoutUpdates,
    InvokeWithTakeout { takeout_id: i64 },
    InvokeWithBusinessConnection { connection_id: String },
    InvokeWithMessagesRange { min_id: i32, max_id: i32 },
}

/// What a `gzip_packed` body held: a gzip member (RFC 1952), as the
/// protocol says and most clients send, or a bare zlib stream (RFC 1950),
/// as mtcute sends and servers accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedFormat {
    Gzip,
    Zlib,
}

impl PackedFormat {
    pub fn name(self) -> &'static str {
        match self {
            PackedFormat::Gzip => "gzip",
            PackedFormat::Zlib => "zlib",
        }
    }
}

/// The fields of `initConnection`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitConnection {
    pub flags: u32,
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
    pub system_lang_code: String,
    pub lang_pack: String,
    pub lang_code: String,
    pub proxy: Option<(String, i32)>,
    pub params: Option<Value>,
}

impl Wrapper {
    /// The TL name, as in `wrapping` lists.
    pub fn name(&self) -> &'static str {
        match self {
            Wrapper::MsgContainer { .. } => "msg_container",
            Wrapper::GzipPacked { .. } => "gzip_packed",
            Wrapper::RpcResult { .. } => "rpc_result",
            Wrapper::InvokeWithLayer { .. } => "invokeWithLayer",
            Wrapper::InitConnection(_) => "initConnection",
            Wrapper::InvokeAfterMsg { .. } => "invokeAfterMsg",
            Wrapper::InvokeAfterMsgs { .. } => "invokeAfterMsgs",
            Wrapper::InvokeWithoutUpdates => "invokeWithoutUpdates",
            Wrapper::InvokeWithTakeout { .. } => "invokeWithTakeout",
            Wrapper::InvokeWithBusinessConnection { .. } => "invokeWithBusinessConnection",
            Wrapper::InvokeWithMessagesRange { .. } => "invokeWithMessagesRange",
        }
    }

    /// The wrapper's fields in JSON, for reports that want them.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("_".into(), self.name().into());
        match self {
            Wrapper::MsgContainer { container_msg_id } => {
                o.insert("msg_id".into(), (*container_msg_id).into());
            }
            Wrapper::GzipPacked { packed, unpacked, format } => {
                o.insert("packed_len".into(), (*packed).into());
                o.insert("unpacked_len".into(), (*unpacked).into());
                o.insert("format".into(), format.name().into());
            }
            Wrapper::RpcResult { req_msg_id } => {
                o.insert("req_msg_id".into(), (*req_msg_id).into());
            }
            Wrapper::InvokeWithLayer { layer } => {
                o.insert("layer".into(), (*layer).into());
            }
            Wrapper::InitConnection(i) => {
                o.insert("flags".into(), i.flags.into());
                o.insert("api_id".into(), i.api_id.into());
                o.insert("device_model".into(), i.device_model.clone().into());
                o.insert("system_version".into(), i.system_version.clone().into());
                o.insert("app_version".into(), i.app_version.clone().into());
                o.insert("system_lang_code".into(), i.system_lang_code.clone().into());
                o.insert("lang_pack".into(), i.lang_pack.clone().into());
                o.insert("lang_code".into(), i.lang_code.clone().into());
                o.insert(
                    "proxy".into(),
                    i.proxy
                        .as_ref()
                        .map_or(Value::Null, |(a, p)| json!({"_": "inputClientProxy", "address": a, "port": p})),
                );
                o.insert("params".into(), i.params.clone().unwrap_or(Value::Null));
            }
            Wrapper::InvokeAfterMsg { msg_id } => {
                o.insert("msg_id".into(), (*msg_id).into());
            }
            Wrapper::InvokeAfterMsgs { msg_ids } => {
                o.insert("msg_ids".into(), msg_ids.clone().into());
            }
            Wrapper::InvokeWithoutUpdates => {}
            Wrapper::InvokeWithTakeout { takeout_id } => {
                o.insert("takeout_id".into(), (*takeout_id).into());
            }
            Wrapper::InvokeWithBusinessConnection { connection_id } => {
                o.insert("connection_id".into(), connection_id.clone().into());
            }
            Wrapper::InvokeWithMessagesRange { min_id, max_id } => {
                o.insert("range".into(), json!({"_": "messageRange", "min_id": min_id, "max_id": max_id}));
            }
        }
        Value::Object(o)
    }
}

impl fmt::Display for Wrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wrapper::InvokeWithLayer { layer } => write!(f, "invokeWithLayer({layer})"),
            Wrapper::InitConnection(i) => write!(f, "initConnection({})", i.api_id),
            Wrapper::RpcResult { req_msg_id } => write!(f, "rpc_result({req_msg_id})"),
            // gzip is what the protocol names; only the other is spelled out.
            Wrapper::GzipPacked { format: PackedFormat::Zlib, .. } => f.write_str("gzip_packed(zlib)"),
            other => f.write_str(other.name()),
        }
    }
}

/// Join a wrapping chain as `msg_container › invokeWithLayer(223) › initConnection(…)`.
pub fn chain_text(wrapping: &[Wrapper]) -> String {
    let mut text = String::new();
    push_chain_text(&mut text, wrapping);
    text
}

/// [`chain_text`], appended to `out`.
pub fn push_chain_text(out: &mut String, wrapping: &[Wrapper]) {
    use std::fmt::Write as _;
    for (i, w) in wrapping.iter().enumerate() {
        if i > 0 {
            out.push_str(" › ");
        }
        let _ = write!(out, "{w}");
    }
}

/// What an unwrapped object is.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// `messages.exportChatInvite`: its bytes, constructor id first.
    Request(Vec<u8>),
    /// chatInviteExported, chatInvitePublicJoinRequests or rpc_error.
    Answer(Vec<u8>),
    /// A named service message, summarized.
    Service(ServiceMessage),
    /// A constructor this tool does not name: its bytes, constructor id
    /// first, for a schema to decode (`len` is their count; the bytes are
    /// empty unless [`ServiceOptions::keep_other`]).
    Other { id: u32, len: usize, bytes: Vec<u8> },
    /// The bytes could not be unwrapped.
    Malformed(ServiceError),
}

/// A service message's name and fields, in wire order.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMessage {
    pub name: &'static str,
    pub fields: Vec<(&'static str, ServiceValue)>,
}

/// The value of a service message's field: the few TL types they use.
/// (A serde_json map of them, with a string for every name, was about five
/// allocations for every service message the pipeline read.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceValue {
    Int(i32),
    Long(i64),
    /// A `Vector<long>`.
    Longs(Vec<i64>),
}

impl ServiceValue {
    pub fn to_json(&self) -> Value {
        match self {
            ServiceValue::Int(n) => Value::from(*n),
            ServiceValue::Long(n) => Value::from(*n),
            ServiceValue::Longs(ns) => Value::from(ns.as_slice()),
        }
    }
}

/// The value as JSON text, as [`ServiceValue::to_json`] would print.
impl fmt::Display for ServiceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceValue::Int(n) => write!(f, "{n}"),
            ServiceValue::Long(n) => write!(f, "{n}"),
            ServiceValue::Longs(ns) => {
                f.write_str("[")?;
                for (i, n) in ns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{n}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl ServiceMessage {
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("_".into(), self.name.into());
        o.extend(self.fields.iter().map(|(name, value)| ((*name).to_owned(), value.to_json())));
        Value::Object(o)
    }

    /// [`to_json`](Self::to_json)'s text, written straight to `w`: the
    /// JSON report writes a line for every service message with `--all`,
    /// and building the object first copied every field. (Names and
    /// values need no escaping: names are this module's, values numbers.)
    pub fn write_json<W: std::io::Write + ?Sized>(&self, w: &mut W) -> std::io::Result<()> {
        write!(w, "{{\"_\":\"{}\"", self.name)?;
        for (name, value) in &self.fields {
            write!(w, ",\"{name}\":{value}")?;
        }
        w.write_all(b"}")
    }

    /// One line: `msgs_ack msg_ids=[...]`.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = self.name.to_string();
        for (k, v) in &self.fields {
            let _ = write!(s, " {k}={v}");
        }
        s
    }
}

/// One object found in a message, with what was around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unwrapped {
    /// The id of the message that carries it (the inner message's, inside a
    /// container).
    pub msg_id: i64,
    pub seq_no: i32,
    /// Outermost first. Shared by the objects found inside the same
    /// wrappers (the messages of one container): a copy for each would
    /// let a hostile message of many empty messages in a container nested
    /// as deep as the budget hold the whole chain once per 16 bytes, some
    /// 80 times its size in memory at the default budget.
    pub wrapping: Arc<[Wrapper]>,
    /// From the innermost `rpc_result`, for answers.
    pub req_msg_id: Option<i64>,
    pub content: Content,
}

/// A problem, one line: where, in which field, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// Offset in the message body, or in the decompressed bytes when
    /// `in_gzip` is set.
    pub offset: usize,
    pub in_gzip: bool,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error at byte 0x{:x}", self.offset)?;
        if self.in_gzip {
            f.write_str(" of the gzip_packed content")?;
        }
        write!(f, " in {}: {}", self.field, self.message)
    }
}

impl std::error::Error for ServiceError {}

/// Everything a message body carries.
pub fn unwrap_message(body: &[u8], msg_id: i64, seq_no: i32, options: ServiceOptions) -> Vec<Unwrapped> {
    let mut out = Vec::new();
    unwrap_message_into(body, msg_id, seq_no, options, &mut out);
    out
}

/// [`unwrap_message`] into `out`, which must be empty: the pipeline keeps
/// one vector for the objects of every message.
pub fn unwrap_message_into(body: &[u8], msg_id: i64, seq_no: i32, options: ServiceOptions, out: &mut Vec<Unwrapped>) {
    debug_assert!(out.is_empty(), "unwrap_message_into appends to an empty vector only");
    // Most objects are a message's own, outside any wrapper: the chain
    // shared first is the empty one, made once (an `Arc` of none still
    // allocates).
    let emitted = Some(no_wrappers());
    let mut u = Unwrapper { options, out, gzip_left: options.gzip_cap, wrapping: Vec::new(), emitted };
    let ctx = Ctx { msg_id, seq_no, req_msg_id: None, in_gzip: false };
    u.object(body, 0, body.len(), &ctx, 0);
}

/// What an object inherits from the wrappers around it (besides the
/// wrappers themselves, which are [`Unwrapper::wrapping`]).
#[derive(Clone, Copy)]
struct Ctx {
    msg_id: i64,
    seq_no: i32,
    req_msg_id: Option<i64>,
    in_gzip: bool,
}

struct Unwrapper<'o> {
    options: ServiceOptions,
    out: &'o mut Vec<Unwrapped>,
    /// What is left of the message's decompression budget.
    gzip_left: usize,
    /// The wrappers around the object being read, outermost first: pushed
    /// on the way in and popped on the way out, and copied only into what
    /// is emitted. (A copy for every level made nesting quadratic: a chain
    /// of initConnection wrappers as deep as the budget copied every
    /// string of every outer one at each level.)
    wrapping: Vec<Wrapper>,
    /// The wrappers of the object emitted last, shared with the next one
    /// if its wrappers are the same (the messages of one container, each
    /// inside an equal `msg_container` wrapper).
    emitted: Option<Arc<[Wrapper]>>,
}

/// The chain of an object outside every wrapper, made once.
fn no_wrappers() -> Arc<[Wrapper]> {
    static EMPTY: std::sync::OnceLock<Arc<[Wrapper]>> = std::sync::OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::from(Vec::new())))
}

/// A cursor over `buf[..end]` whose offsets are those of `buf`.
fn cursor(buf: &[u8], start: usize, end: usize) -> Reader<'_> {
    let mut r = Reader::new(&buf[..end], DecodeOptions::strict());
    // `start <= end` always holds for the ranges built below.
    let _ = r.take(start, "", "");
    r
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl Unwrapper<'_> {
    fn emit(&mut self, ctx: &Ctx, content: Content) {
        // Past the bound and its error, nothing more (not even the errors
        // of the containers around, said after their messages).
        if self.out.len() > MAX_OBJECTS {
            return;
        }
        let wrapping = match &self.emitted {
            Some(last) if **last == *self.wrapping => Arc::clone(last),
            _ => Arc::clone(self.emitted.insert(Arc::from(self.wrapping.as_slice()))),
        };
        self.out.push(Unwrapped {
            msg_id: ctx.msg_id,
            seq_no: ctx.seq_no,
            wrapping,
            req_msg_id: ctx.req_msg_id,
            content,
        });
    }

    fn error(&mut self, ctx: &Ctx, offset: usize, field: &str, message: String) {
        let e = ServiceError { offset, in_gzip: ctx.in_gzip, field: field.to_string(), message };
        self.emit(ctx, Content::Malformed(e));
    }

    fn tl_error(&mut self, ctx: &Ctx, e: crate::tl::DecodeError, what: &str) {
        let field = if e.path.is_empty() { what.to_string() } else { format!("{what}.{}", e.path) };
        self.error(ctx, e.offset, &field, e.problem.to_string());
    }

    /// The object in `buf[start..end]`, inside `wrapper` (one level
    /// deeper than `depth`), with `ctx` for it.
    fn inside(&mut self, wrapper: Wrapper, buf: &[u8], start: usize, end: usize, ctx: &Ctx, depth: usize) {
        self.wrapping.push(wrapper);
        self.object(buf, start, end, ctx, depth + 1);
        self.wrapping.pop();
    }

    /// The object in `buf[start..end]`.
    fn object(&mut self, buf: &[u8], start: usize, end: usize, ctx: &Ctx, depth: usize) {
        if self.out.len() >= MAX_OBJECTS {
            // Said once, by the first object over the bound.
            if self.out.len() == MAX_OBJECTS {
                self.error(
                    ctx,
                    start,
                    "object",
                    format!("more than {MAX_OBJECTS} objects in one message; the rest is skipped"),
                );
            }
            return;
        }
        if depth >= self.options.max_depth {
            let budget = self.options.max_depth;
            self.error(ctx, start, "object", format!("wrappers nest deeper than the budget of {budget}"));
            return;
        }
        if end - start < 4 {
            self.error(
                ctx,
                start,
                "object",
                format!("truncated: expected a constructor id (4 bytes), found {} bytes", end - start),
            );
            return;
        }
        let id = le32(&buf[start..]);
        let mut r = cursor(buf, start + 4, end);
        let result = match id {
            MSG_CONTAINER => self.container(buf, r, end, ctx, depth),
            GZIP_PACKED => {
                let packed = match r.bytes_raw("packed_data") {
                    Ok(p) => p,
                    Err(e) => return self.tl_error(ctx, e, "gzip_packed"),
                };
                let packed_at = start + 4;
                let left = self.gzip_left;
                match gunzip_limited(packed, left) {
                    Ok((plain, format)) => {
                        self.gzip_left -= plain.len();
                        let wrapper = Wrapper::GzipPacked { packed: packed.len(), unpacked: plain.len(), format };
                        let inner = Ctx { in_gzip: true, ..*ctx };
                        self.inside(wrapper, &plain, 0, plain.len(), &inner, depth);
                    }
                    Err(Gunzip::Invalid(message)) => self.error(ctx, packed_at, "gzip_packed.packed_data", message),
                    Err(Gunzip::OverCap) => {
                        let cap = self.options.gzip_cap;
                        let message = if left == cap {
                            format!("decompresses to more than the cap of {cap} bytes")
                        } else {
                            format!(
                                "decompresses to more than the {left} bytes left of the cap of {cap} bytes for all gzip_packed of one message"
                            )
                        };
                        self.error(ctx, packed_at, "gzip_packed.packed_data", message)
                    }
                }
                Ok(())
            }
            RPC_RESULT => r.i64_raw("req_msg_id").map(|req_msg_id| {
                let inner = Ctx { req_msg_id: Some(req_msg_id), ..*ctx };
                self.inside(Wrapper::RpcResult { req_msg_id }, buf, r.pos(), end, &inner, depth);
            }),
            INVOKE_WITH_LAYER => r
                .int_raw("layer")
                .map(|layer| self.inside(Wrapper::InvokeWithLayer { layer }, buf, r.pos(), end, ctx, depth)),
            INIT_CONNECTION => match init_connection(&mut r, depth, self.options.max_depth) {
                Ok(init) => {
                    self.inside(Wrapper::InitConnection(Arc::new(init)), buf, r.pos(), end, ctx, depth);
                    Ok(())
                }
                Err(e) => Err(e),
            },
            INVOKE_AFTER_MSG => r
                .i64_raw("msg_id")
                .map(|msg_id| self.inside(Wrapper::InvokeAfterMsg { msg_id }, buf, r.pos(), end, ctx, depth)),
            INVOKE_AFTER_MSGS => long_vector(&mut r, "msg_ids")
                .map(|msg_ids| self.inside(Wrapper::InvokeAfterMsgs { msg_ids }, buf, r.pos(), end, ctx, depth)),
            INVOKE_WITHOUT_UPDATES => {
                self.inside(Wrapper::InvokeWithoutUpdates, buf, start + 4, end, ctx, depth);
                Ok(())
            }
            INVOKE_WITH_TAKEOUT => r.i64_raw("takeout_id").map(|takeout_id| {
                self.inside(Wrapper::InvokeWithTakeout { takeout_id }, buf, r.pos(), end, ctx, depth)
            }),
            INVOKE_WITH_BUSINESS_CONNECTION => text(&mut r, "connection_id").map(|connection_id| {
                let w = Wrapper::InvokeWithBusinessConnection { connection_id };
                self.inside(w, buf, r.pos(), end, ctx, depth)
            }),
            INVOKE_WITH_MESSAGES_RANGE => message_range(&mut r).map(|(min_id, max_id)| {
                let w = Wrapper::InvokeWithMessagesRange { min_id, max_id };
                self.inside(w, buf, r.pos(), end, ctx, depth)
            }),
            EXPORT_CHAT_INVITE if self.options.closure => {
                self.emit(ctx, Content::Request(buf[start..end].to_vec()));
                Ok(())
            }
            CHAT_INVITE_EXPORTED | CHAT_INVITE_PUBLIC_JOIN_REQUESTS if self.options.closure => {
                self.emit(ctx, Content::Answer(buf[start..end].to_vec()));
                Ok(())
            }
            RPC_ERROR => {
                self.emit(ctx, Content::Answer(buf[start..end].to_vec()));
                Ok(())
            }
            _ => {
                let content = match service_message(id, &mut r) {
                    Some(Ok(m)) => Content::Service(m),
                    Some(Err(e)) => return self.tl_error(ctx, e, service_name(id)),
                    None => {
                        let bytes = if self.options.keep_other { buf[start..end].to_vec() } else { Vec::new() };
                        Content::Other { id, len: end - start, bytes }
                    }
                };
                self.emit(ctx, content);
                Ok(())
            }
        };
        if let Err(e) = result {
            let what = crate::tl::schema::describe_id(id).map_or("object", |(name, _)| name);
            self.tl_error(ctx, e, what);
        }
    }

    fn container(
        &mut self,
        buf: &[u8],
        mut r: Reader<'_>,
        end: usize,
        ctx: &Ctx,
        depth: usize,
    ) -> Result<(), crate::tl::DecodeError> {
        let count_at = r.pos();
        let count = r.u32_raw("count", "message count (4 bytes)")? as usize;
        // Each message takes at least 16 bytes of header: a count beyond
        // that is a lie, and is reported before anything is read.
        if count > r.remaining() / 16 {
            let e = r.error(
                count_at,
                "count",
                crate::tl::Problem::LengthExceedsInput { what: "container", claimed: count, remaining: r.remaining() },
            );
            return Err(e);
        }
        let container_msg_id = ctx.msg_id;
        for _ in 0..count {
            let msg_id = r.i64_raw("messages.msg_id")?;
            let seqno = r.int_raw("messages.seqno")?;
            let len_at = r.pos();
            let len = r.u32_raw("messages.bytes", "message length (4 bytes)")? as usize;
            if len > r.remaining() {
                return Err(r.error(
                    len_at,
                    "messages.bytes",
                    crate::tl::Problem::LengthExceedsInput { what: "message", claimed: len, remaining: r.remaining() },
                ));
            }
            let body_start = r.pos();
            r.take(len, "messages.body", "message body")?;
            let inner = Ctx { msg_id, seq_no: seqno, ..*ctx };
            self.inside(Wrapper::MsgContainer { container_msg_id }, buf, body_start, body_start + len, &inner, depth);
        }
        if r.pos() != end {
            let extra = end - r.pos();
            self.error(ctx, r.pos(), "msg_container", format!("{extra} bytes left over after the last message"));
        }
        Ok(())
    }
}

/// A small extension: reading an `int` without a trace.
trait IntRaw {
    fn int_raw(&mut self, field: &str) -> Result<i32, crate::tl::DecodeError>;
}

impl IntRaw for Reader<'_> {
    fn int_raw(&mut self, field: &str) -> Result<i32, crate::tl::DecodeError> {
        self.u32_raw(field, "int (4 bytes)").map(|v| v as i32)
    }
}

fn text(r: &mut Reader<'_>, field: &str) -> Result<String, crate::tl::DecodeError> {
    // Service strings are shown, not re-encoded: invalid UTF-8 is replaced.
    Ok(String::from_utf8_lossy(r.bytes_raw(field)?).into_owned())
}

fn expect_id(r: &mut Reader<'_>, field: &str, want: u32, expected: &'static str) -> Result<(), crate::tl::DecodeError> {
    let at = r.pos();
    let id = r.u32_raw(field, "constructor id (4 bytes)")?;
    if id != want {
        return Err(r.error(at, field, crate::tl::Problem::UnknownConstructor { expected, id }));
    }
    Ok(())
}

/// A `Vector<long>`, its count checked against the bytes present.
fn long_vector(r: &mut Reader<'_>, field: &str) -> Result<Vec<i64>, crate::tl::DecodeError> {
    expect_id(r, field, VECTOR, "Vector")?;
    let at = r.pos();
    let count = r.u32_raw(field, "vector count (4 bytes)")? as usize;
    if count > r.remaining() / 8 {
        return Err(r.error(
            at,
            field,
            crate::tl::Problem::LengthExceedsInput { what: "vector", claimed: count, remaining: r.remaining() },
        ));
    }
    (0..count).map(|_| r.i64_raw(field)).collect()
}

fn message_range(r: &mut Reader<'_>) -> Result<(i32, i32), crate::tl::DecodeError> {
    expect_id(r, "range", MESSAGE_RANGE, "MessageRange")?;
    Ok((r.int_raw("range.min_id")?, r.int_raw("range.max_id")?))
}

fn init_connection(
    r: &mut Reader<'_>,
    depth: usize,
    max_depth: usize,
) -> Result<InitConnection, crate::tl::DecodeError> {
    let flags = r.u32_raw("flags", "flags (4 bytes)")?;
    let api_id = r.int_raw("api_id")?;
    let device_model = text(r, "device_model")?;
    let system_version = text(r, "system_version")?;
    let app_version = text(r, "app_version")?;
    let system_lang_code = text(r, "system_lang_code")?;
    let lang_pack = text(r, "lang_pack")?;
    let lang_code = text(r, "lang_code")?;
    let proxy = if flags & 1 != 0 {
        expect_id(r, "proxy", INPUT_CLIENT_PROXY, "InputClientProxy")?;
        Some((text(r, "proxy.address")?, r.int_raw("proxy.port")?))
    } else {
        None
    };
    let params = if flags & 2 != 0 { Some(json_value(r, "params", depth + 1, max_depth)?) } else { None };
    Ok(InitConnection {
        flags,
        api_id,
        device_model,
        system_version,
        app_version,
        system_lang_code,
        lang_pack,
        lang_code,
        proxy,
        params,
    })
}

/// A TL `JSONValue` as JSON. Numbers that are not finite become null.
fn json_value(
    r: &mut Reader<'_>,
    field: &str,
    depth: usize,
    max_depth: usize,
) -> Result<Value, crate::tl::DecodeError> {
    let at = r.pos();
    if depth >= max_depth {
        return Err(r.error(at, field, crate::tl::Problem::TooDeep { max_depth }));
    }
    let id = r.u32_raw(field, "constructor id (4 bytes)")?;
    Ok(match id {
        JSON_NULL => Value::Null,
        JSON_BOOL => {
            let b_at = r.pos();
            match r.u32_raw(field, "Bool (4 bytes)")? {
                BOOL_TRUE => Value::Bool(true),
                BOOL_FALSE => Value::Bool(false),
                other => {
                    return Err(r.error(
                        b_at,
                        field,
                        crate::tl::Problem::UnknownConstructor { expected: "Bool", id: other },
                    ))
                }
            }
        }
        JSON_NUMBER => {
            let bits = r.i64_raw(field)? as u64;
            serde_json::Number::from_f64(f64::from_bits(bits)).map_or(Value::Null, Value::Number)
        }
        JSON_STRING => Value::String(text(r, field)?),
        JSON_ARRAY => {
            expect_id(r, field, VECTOR, "Vector")?;
            let count = bounded_count(r, field, 4)?;
            let mut items = Vec::new();
            for _ in 0..count {
                items.push(json_value(r, field, depth + 1, max_depth)?);
            }
            Value::Array(items)
        }
        JSON_OBJECT => {
            expect_id(r, field, VECTOR, "Vector")?;
            let count = bounded_count(r, field, 8)?;
            let mut map = Map::new();
            for _ in 0..count {
                expect_id(r, field, JSON_OBJECT_VALUE, "JSONObjectValue")?;
                let key = text(r, field)?;
                let value = json_value(r, field, depth + 1, max_depth)?;
                map.insert(key, value);
            }
            Value::Object(map)
        }
        other => {
            return Err(r.error(at, field, crate::tl::Problem::UnknownConstructor { expected: "JSONValue", id: other }))
        }
    })
}

/// A vector count, refused if `min_size`-byte elements could not fit.
fn bounded_count(r: &mut Reader<'_>, field: &str, min_size: usize) -> Result<usize, crate::tl::DecodeError> {
    let at = r.pos();
    let count = r.u32_raw(field, "vector count (4 bytes)")? as usize;
    if count > r.remaining() / min_size {
        return Err(r.error(
            at,
            field,
            crate::tl::Problem::LengthExceedsInput { what: "vector", claimed: count, remaining: r.remaining() },
        ));
    }
    Ok(count)
}

/// Whether `id` is a constructor this layer unwraps (a container, a
/// compressed object, an rpc_result, or an invokeWith*/initConnection
/// wrapper around a query).
pub fn is_wrapper(id: u32) -> bool {
    matches!(
        id,
        MSG_CONTAINER
            | GZIP_PACKED
            | RPC_RESULT
            | INVOKE_WITH_LAYER
            | INIT_CONNECTION
            | INVOKE_AFTER_MSG
            | INVOKE_AFTER_MSGS
            | INVOKE_WITHOUT_UPDATES
            | INVOKE_WITH_TAKEOUT
            | INVOKE_WITH_BUSINESS_CONNECTION
            | INVOKE_WITH_MESSAGES_RANGE
    )
}

/// The name of a service message the layer reads the fields of, from the
/// schema table (`tl/service.tl`); "object" for any other constructor.
fn service_name(id: u32) -> &'static str {
    match id {
        MSGS_ACK
        | BAD_MSG_NOTIFICATION
        | BAD_SERVER_SALT
        | NEW_SESSION_CREATED
        | PING
        | PING_DELAY_DISCONNECT
        | PONG => crate::tl::schema::describe_id(id).map_or("object", |(name, _)| name),
        _ => "object",
    }
}

/// The named service messages; `None` for any other constructor.
fn service_message(id: u32, r: &mut Reader<'_>) -> Option<Result<ServiceMessage, crate::tl::DecodeError>> {
    let name = service_name(id);
    if name == "object" {
        return None;
    }
    // At most four fields (bad_server_salt): the first push makes room for four.
    let mut fields = Vec::new();
    fn long(r: &mut Reader<'_>, name: &'static str) -> Result<(&'static str, ServiceValue), crate::tl::DecodeError> {
        Ok((name, ServiceValue::Long(r.i64_raw(name)?)))
    }
    let mut read = || -> Result<(), crate::tl::DecodeError> {
        use ServiceValue::{Int, Longs};
        match id {
            MSGS_ACK => fields.push(("msg_ids", Longs(long_vector(r, "msg_ids")?))),
            BAD_MSG_NOTIFICATION | BAD_SERVER_SALT => {
                fields.push(long(r, "bad_msg_id")?);
                fields.push(("bad_msg_seqno", Int(r.int_raw("bad_msg_seqno")?)));
                fields.push(("error_code", Int(r.int_raw("error_code")?)));
                if id == BAD_SERVER_SALT {
                    fields.push(long(r, "new_server_salt")?);
                }
            }
            NEW_SESSION_CREATED => {
                fields.push(long(r, "first_msg_id")?);
                fields.push(long(r, "unique_id")?);
                fields.push(long(r, "server_salt")?);
            }
            PING => fields.push(long(r, "ping_id")?),
            PING_DELAY_DISCONNECT => {
                fields.push(long(r, "ping_id")?);
                fields.push(("disconnect_delay", Int(r.int_raw("disconnect_delay")?)));
            }
            PONG => {
                fields.push(long(r, "msg_id")?);
                fields.push(long(r, "ping_id")?);
            }
            _ => {}
        }
        Ok(())
    };
    Some(read().map(|()| ServiceMessage { name, fields }))
}

/// Decompress a `gzip_packed` body, gzip (RFC 1952) or zlib (RFC 1950),
/// up to `cap` bytes; more is an error, so a small bomb cannot take the
/// machine's memory.
pub fn gunzip(packed: &[u8], cap: usize) -> Result<Vec<u8>, String> {
    inflate_packed(packed, cap).map(|(plain, _)| plain)
}

/// [`gunzip`], also saying which of the two formats the body was.
pub fn inflate_packed(packed: &[u8], cap: usize) -> Result<(Vec<u8>, PackedFormat), String> {
    gunzip_limited(packed, cap).map_err(|e| match e {
        Gunzip::Invalid(m) => m,
        Gunzip::OverCap => format!("decompresses to more than the cap of {cap} bytes"),
    })
}

enum Gunzip {
    Invalid(String),
    OverCap,
}

/// A zlib header: deflate (method 8) with a window of at most 32 KiB, and
/// the check bits that make the first two bytes a multiple of 31. A gzip
/// member starts `1f 8b`, which is never one.
fn is_zlib_header(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] & 0x0f == 8 && b[0] >> 4 <= 7 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

fn gunzip_limited(packed: &[u8], cap: usize) -> Result<(Vec<u8>, PackedFormat), Gunzip> {
    let format = if is_zlib_header(packed) { PackedFormat::Zlib } else { PackedFormat::Gzip };
    // The gzip trailer's ISIZE (the inflated length mod 2^32) sizes the
    // output at once, saving the doubling reallocations and copies of
    // `read_to_end` that showed in the capture benchmark's profile. The
    // sender chose it, so it is only trusted as far as the data backs it:
    // up to the cap and up to 16 times the compressed size (ordinary text
    // and TL compress by less); a larger real output still grows as it is
    // inflated. zlib has no such field. The decoder reads the slice
    // directly (bufread), without copying it through a BufReader.
    let hint = match format {
        PackedFormat::Gzip => packed.len().checked_sub(4).map_or(0, |at| {
            let isize = u32::from_le_bytes([packed[at], packed[at + 1], packed[at + 2], packed[at + 3]]);
            usize::try_from(isize).unwrap_or(usize::MAX)
        }),
        PackedFormat::Zlib => packed.len().saturating_mul(4),
    };
    let mut out = Vec::with_capacity(hint.min(cap).min(packed.len().saturating_mul(16)));
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let read = match format {
        PackedFormat::Gzip => GzDecoder::new(packed).take(limit).read_to_end(&mut out),
        PackedFormat::Zlib => ZlibDecoder::new(packed).take(limit).read_to_end(&mut out),
    };
    read.map_err(|e| Gunzip::Invalid(format!("not valid {} data: {e}", format.name())))?;
    if out.len() > cap {
        return Err(Gunzip::OverCap);
    }
    Ok((out, format))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn tl_bytes(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if data.len() < 254 {
            out.push(data.len() as u8);
        } else {
            out.push(0xfe);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes()[..3]);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gzip_packed(inner: &[u8]) -> Vec<u8> {
        [GZIP_PACKED.to_le_bytes().to_vec(), tl_bytes(&gzip(inner))].concat()
    }

    fn request() -> Vec<u8> {
        // exportChatInvite, flags 0, inputPeerSelf
        [EXPORT_CHAT_INVITE.to_le_bytes(), 0u32.to_le_bytes(), 0x7da0_7ec9u32.to_le_bytes()].concat()
    }

    fn container(items: &[(i64, i32, Vec<u8>)]) -> Vec<u8> {
        let mut out = MSG_CONTAINER.to_le_bytes().to_vec();
        out.extend_from_slice(&(items.len() as u32).to_le_bytes());
        for (id, seq, body) in items {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&seq.to_le_bytes());
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(body);
        }
        out
    }

    fn names(u: &Unwrapped) -> Vec<&'static str> {
        u.wrapping.iter().map(Wrapper::name).collect()
    }

    #[test]
    fn the_real_capture_bodies() {
        // Frame 2 of abridged.pcap: invokeWithLayer(223) › initConnection › exportChatInvite.
        let body = crate::hex::parse("0d0d9bdadf000000a95ecdc100000000075409000b6f7261636c652d70636170054c696e757800000f54656c6574686f6e20312e34352e3002656e000000000002656e0090de55a439000000ea183b7f00d2496b114c617965722032323320f09f94972023300000586d4105008d2700fa00000000000000").unwrap();
        let got = unwrap_message(&body, 7712402021151850092, 1, ServiceOptions::default());
        assert_eq!(got.len(), 1);
        assert_eq!(names(&got[0]), ["invokeWithLayer", "initConnection"]);
        assert_eq!(chain_text(&got[0].wrapping), "invokeWithLayer(223) › initConnection(611335)");
        let Wrapper::InitConnection(init) = &got[0].wrapping[1] else { panic!() };
        assert_eq!((init.device_model.as_str(), init.app_version.as_str()), ("oracle-pcap", "Telethon 1.45.0"));
        assert!(
            matches!(&got[0].content, Content::Request(b) if b.len() == 52 && b[..4] == EXPORT_CHAT_INVITE.to_le_bytes())
        );
        assert_eq!(got[0].msg_id, 7712402021151850092);

        // Frame 3: rpc_result › chatInviteExported.
        let body = crate::hex::parse("016d5cf36cbec2b3c6f4076b96bd2ca2ca0300001e68747470733a2f2f742e6d652f2b396361353537643035303562343164300028db0b00000000000078e76800d2496b0000000003000000114c617965722032323320f09f94972023300000586d4105008d2700fa00000000000000").unwrap();
        let got = unwrap_message(&body, 1, 1, ServiceOptions::default());
        assert_eq!(got[0].req_msg_id, Some(7712402021151850092));
        assert!(matches!(&got[0].content, Content::Answer(_)));
    }

    #[test]
    fn a_message_yields_at_most_max_objects() {
        // Empty messages in a container, each one malformed: MAX_OBJECTS of
        // them, then one error for the rest.
        let mut body = container(&vec![(1, 1, Vec::new()); MAX_OBJECTS + 10]);
        // Bytes left over after the last message, which the container
        // would report after them: past the bound, not.
        body.extend_from_slice(&[0; 4]);
        let got = unwrap_message(&body, 1, 1, ServiceOptions::default());
        assert_eq!(got.len(), MAX_OBJECTS + 1);
        let Content::Malformed(e) = &got[MAX_OBJECTS].content else { panic!("{:?}", got[MAX_OBJECTS]) };
        assert_eq!(e.field, "object");
        assert_eq!(e.message, format!("more than {MAX_OBJECTS} objects in one message; the rest is skipped"));
        assert_eq!(e.offset, 8 + MAX_OBJECTS * 16 + 16, "the first message over the bound starts after its header");
        assert_eq!(MAX_OBJECTS, 65536, "`inspector pcap --help` names the bound (--gzip-cap)");
        // At the bound exactly, no error.
        let body = container(&vec![(1, 1, Vec::new()); MAX_OBJECTS]);
        assert_eq!(unwrap_message(&body, 1, 1, ServiceOptions::default()).len(), MAX_OBJECTS);
    }

    #[test]
    fn objects_inside_the_same_wrappers_share_them() {
        // Empty messages (each one malformed) in a container nested as
        // deep as the budget allows: one chain of wrappers for all of
        // them, not a copy per 16 bytes of input.
        let options = ServiceOptions::default();
        let mut body = container(&vec![(1, 1, Vec::new()); 100]);
        for _ in 0..options.max_depth - 2 {
            body = container(&[(1, 1, body)]);
        }
        let got = unwrap_message(&body, 1, 1, options);
        assert_eq!(got.len(), 100);
        assert_eq!(got[0].wrapping.len(), options.max_depth - 1);
        assert!(matches!(&got[0].content, Content::Malformed(e) if e.message.starts_with("truncated")));
        assert!(got.iter().all(|item| Arc::ptr_eq(&item.wrapping, &got[0].wrapping)));
        // Different wrappers are not shared: the request and the ack of a
        // container, one of them gzip_packed.
        let body = container(&[(4, 1, gzip_packed(&request())), (8, 2, request())]);
        let got = unwrap_message(&body, 100, 1, options);
        assert_eq!((names(&got[0]), names(&got[1])), (vec!["msg_container", "gzip_packed"], vec!["msg_container"]));
    }

    #[test]
    fn containers_gzip_and_service_messages() {
        let ack = [
            MSGS_ACK.to_le_bytes().to_vec(),
            VECTOR.to_le_bytes().to_vec(),
            2u32.to_le_bytes().to_vec(),
            5i64.to_le_bytes().to_vec(),
            6i64.to_le_bytes().to_vec(),
        ]
        .concat();
        let ping = [PING.to_le_bytes().to_vec(), 77i64.to_le_bytes().to_vec()].concat();
        let inner = container(&[(12, 3, request())]);
        let body = container(&[
            (4, 1, ack),
            (8, 2, gzip_packed(&request())),
            (16, 5, ping),
            (20, 7, inner),
            (24, 9, vec![1, 2, 3, 4, 0, 0, 0, 0]),
        ]);
        let got = unwrap_message(&body, 100, 10, ServiceOptions::default());
        assert_eq!(got.len(), 5);
        let Content::Service(m) = &got[0].content else { panic!() };
        assert_eq!(m.summary(), "msgs_ack msg_ids=[5,6]");
        assert_eq!((got[1].msg_id, names(&got[1])), (8, vec!["msg_container", "gzip_packed"]));
        assert!(matches!(got[1].content, Content::Request(_)));
        assert_eq!(got[1].wrapping[0], Wrapper::MsgContainer { container_msg_id: 100 });
        let Content::Service(m) = &got[2].content else { panic!() };
        assert_eq!(m.to_json(), json!({"_": "ping", "ping_id": 77}));
        let mut text = Vec::new();
        m.write_json(&mut text).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), r#"{"_":"ping","ping_id":77}"#);
        assert_eq!((got[3].msg_id, got[3].seq_no, names(&got[3])), (12, 3, vec!["msg_container", "msg_container"]));
        assert_eq!(got[4].content, Content::Other { id: 0x0403_0201, len: 8, bytes: vec![1, 2, 3, 4, 0, 0, 0, 0] });
    }

    #[test]
    fn gzip_packed_holds_gzip_or_zlib() {
        // zlib.compress() of the request (Python's zlib, as mtcute's pako
        // writes it): 78 9c, deflate, Adler-32.
        let zlib = crate::hex::parse("789c9b702f740903109cac5b500b001fc704cc").unwrap();
        let zlib_packed = [GZIP_PACKED.to_le_bytes().to_vec(), tl_bytes(&zlib)].concat();
        for (body, format) in [(gzip_packed(&request()), PackedFormat::Gzip), (zlib_packed, PackedFormat::Zlib)] {
            let got = unwrap_message(&body, 8, 1, ServiceOptions::default());
            assert!(matches!(&got[0].content, Content::Request(b) if *b == request()), "{format:?}");
            let Wrapper::GzipPacked { format: found, unpacked, .. } = &got[0].wrapping[0] else { panic!() };
            assert_eq!((*found, *unpacked), (format, 12));
            assert_eq!(got[0].wrapping[0].to_json()["format"], format.name());
            let text = if format == PackedFormat::Zlib { "gzip_packed(zlib)" } else { "gzip_packed" };
            assert_eq!(chain_text(&got[0].wrapping), text);
        }
        // The cap holds for zlib too: 12000 bytes from 64 (Python, level 9).
        let bomb = crate::hex::parse("78daedc6310100200800304b12473310c1c33294308bb6e0d9aee58d33be5a7ba6bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb7bd31fb854ba07").unwrap();
        assert_eq!(inflate_packed(&bomb, 12_000).map(|(p, f)| (p.len(), f)), Ok((12_000, PackedFormat::Zlib)));
        assert_eq!(gunzip(&bomb, 11_999).unwrap_err(), "decompresses to more than the cap of 11999 bytes");
        // A broken zlib stream says so.
        let e = gunzip(&zlib[..zlib.len() - 6], 1000).unwrap_err();
        assert!(e.starts_with("not valid zlib data: "), "{e}");
    }

    #[test]
    fn every_invoke_wrapper() {
        let mut body = request();
        let prefix = |id: u32, fields: Vec<u8>, body: Vec<u8>| [id.to_le_bytes().to_vec(), fields, body].concat();
        body = prefix(
            INVOKE_WITH_MESSAGES_RANGE,
            [MESSAGE_RANGE.to_le_bytes(), 1i32.to_le_bytes(), 9i32.to_le_bytes()].concat(),
            body,
        );
        body = prefix(INVOKE_WITH_BUSINESS_CONNECTION, tl_bytes(b"conn"), body);
        body = prefix(INVOKE_WITH_TAKEOUT, 33i64.to_le_bytes().to_vec(), body);
        body = prefix(INVOKE_WITHOUT_UPDATES, vec![], body);
        body = prefix(
            INVOKE_AFTER_MSGS,
            [VECTOR.to_le_bytes().to_vec(), 1u32.to_le_bytes().to_vec(), 4i64.to_le_bytes().to_vec()].concat(),
            body,
        );
        body = prefix(INVOKE_AFTER_MSG, 8i64.to_le_bytes().to_vec(), body);
        // initConnection with a proxy and JSON params {"a": [true, 1.5, "x", null]}
        let mut init = Vec::new();
        init.extend_from_slice(&3u32.to_le_bytes());
        init.extend_from_slice(&5i32.to_le_bytes());
        for s in ["dev", "sys", "app", "en", "", "en"] {
            init.extend(tl_bytes(s.as_bytes()));
        }
        init.extend_from_slice(&INPUT_CLIENT_PROXY.to_le_bytes());
        init.extend(tl_bytes(b"proxy.example"));
        init.extend_from_slice(&443i32.to_le_bytes());
        init.extend_from_slice(&JSON_OBJECT.to_le_bytes());
        init.extend_from_slice(&VECTOR.to_le_bytes());
        init.extend_from_slice(&1u32.to_le_bytes());
        init.extend_from_slice(&JSON_OBJECT_VALUE.to_le_bytes());
        init.extend(tl_bytes(b"a"));
        init.extend_from_slice(&JSON_ARRAY.to_le_bytes());
        init.extend_from_slice(&VECTOR.to_le_bytes());
        init.extend_from_slice(&4u32.to_le_bytes());
        init.extend_from_slice(&JSON_BOOL.to_le_bytes());
        init.extend_from_slice(&BOOL_TRUE.to_le_bytes());
        init.extend_from_slice(&JSON_NUMBER.to_le_bytes());
        init.extend_from_slice(&1.5f64.to_le_bytes());
        init.extend_from_slice(&JSON_STRING.to_le_bytes());
        init.extend(tl_bytes(b"x"));
        init.extend_from_slice(&JSON_NULL.to_le_bytes());
        body = prefix(INIT_CONNECTION, init, body);
        body = prefix(INVOKE_WITH_LAYER, 223i32.to_le_bytes().to_vec(), body);
        let got = unwrap_message(&body, 4, 1, ServiceOptions::default());
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            names(&got[0]),
            [
                "invokeWithLayer",
                "initConnection",
                "invokeAfterMsg",
                "invokeAfterMsgs",
                "invokeWithoutUpdates",
                "invokeWithTakeout",
                "invokeWithBusinessConnection",
                "invokeWithMessagesRange"
            ]
        );
        let init = got[0].wrapping[1].to_json();
        assert_eq!(init["proxy"], json!({"_": "inputClientProxy", "address": "proxy.example", "port": 443}));
        assert_eq!(init["params"], json!({"a": [true, 1.5, "x", null]}));
        assert!(matches!(got[0].content, Content::Request(_)));
    }

    #[test]
    fn answers_inside_rpc_result_and_gzip() {
        let error = [RPC_ERROR.to_le_bytes().to_vec(), 400i32.to_le_bytes().to_vec(), tl_bytes(b"CHAT_ADMIN_REQUIRED")]
            .concat();
        let body = [RPC_RESULT.to_le_bytes().to_vec(), 44i64.to_le_bytes().to_vec(), gzip_packed(&error)].concat();
        let got = unwrap_message(&body, 1, 1, ServiceOptions::default());
        assert_eq!(got[0].req_msg_id, Some(44));
        assert_eq!(names(&got[0]), ["rpc_result", "gzip_packed"]);
        assert_eq!(got[0].content, Content::Answer(error));
    }

    #[test]
    fn hostile_bodies_give_one_line_errors() {
        let opts = ServiceOptions::default();
        // A container claiming a billion messages.
        let mut body = MSG_CONTAINER.to_le_bytes().to_vec();
        body.extend_from_slice(&1_000_000_000u32.to_le_bytes());
        let got = unwrap_message(&body, 1, 1, opts);
        let Content::Malformed(e) = &got[0].content else { panic!("{got:?}") };
        assert_eq!(e.to_string(), "error at byte 0x4 in msg_container.count: container length 1000000000 claims more bytes than the 0 that remain");

        // A message length beyond the container.
        let mut c = container(&[(4, 1, request())]);
        c[20..24].copy_from_slice(&1000u32.to_le_bytes());
        let got = unwrap_message(&c, 1, 1, opts);
        assert!(
            matches!(&got[0].content, Content::Malformed(e) if e.field == "msg_container.messages.bytes"),
            "{got:?}"
        );

        // Nesting beyond the budget: many invokeWithoutUpdates, then many containers.
        let mut deep = INVOKE_WITHOUT_UPDATES.to_le_bytes().repeat(100_000);
        deep.extend(request());
        let got = unwrap_message(&deep, 1, 1, opts);
        assert!(matches!(&got[0].content, Content::Malformed(e) if e.message.contains("budget of 32")), "{got:?}");

        // A gzip bomb: 8 MiB of zeros, capped at 1 MiB.
        let bomb = gzip(&vec![0u8; 8 << 20]);
        let body = [GZIP_PACKED.to_le_bytes().to_vec(), tl_bytes(&bomb)].concat();
        let got = unwrap_message(&body, 1, 1, ServiceOptions { gzip_cap: 1 << 20, ..opts });
        let Content::Malformed(e) = &got[0].content else { panic!() };
        assert_eq!(
            e.to_string(),
            "error at byte 0x4 in gzip_packed.packed_data: decompresses to more than the cap of 1048576 bytes"
        );

        // Not gzip at all; an empty body; a truncated rpc_result.
        let body = [GZIP_PACKED.to_le_bytes().to_vec(), tl_bytes(b"nope")].concat();
        assert!(
            matches!(&unwrap_message(&body, 1, 1, opts)[0].content, Content::Malformed(e) if e.message.starts_with("not valid gzip"))
        );
        assert!(matches!(&unwrap_message(&[], 1, 1, opts)[0].content, Content::Malformed(_)));
        let got = unwrap_message(&[1, 0x6d, 0x5c, 0xf3, 1, 2], 1, 1, opts);
        assert!(matches!(&got[0].content, Content::Malformed(e) if e.field == "rpc_result.req_msg_id"), "{got:?}");

        // A deep JSON value in initConnection params.
        let mut init = INIT_CONNECTION.to_le_bytes().to_vec();
        init.extend_from_slice(&2u32.to_le_bytes());
        init.extend_from_slice(&5i32.to_le_bytes());
        for _ in 0..6 {
            init.extend(tl_bytes(b""));
        }
        for _ in 0..10_000 {
            init.extend_from_slice(&JSON_ARRAY.to_le_bytes());
            init.extend_from_slice(&VECTOR.to_le_bytes());
            init.extend_from_slice(&1u32.to_le_bytes());
        }
        let got = unwrap_message(&init, 1, 1, opts);
        assert!(matches!(&got[0].content, Content::Malformed(e) if e.message.contains("depth budget")), "{got:?}");
    }
}
