//! Typed values of the closure of `messages.exportChatInvite`, with their
//! strict (or lenient) decoders and their encoders.
//!
//! Optional fields are `Option`s and `flags.N?true` fields are `bool`s: the
//! `flags` word is never stored, it is derived from the fields when encoding,
//! so a value cannot disagree with its own flags.

use std::fmt;

use super::error::DecodeError;
use super::error::Warning;
use super::reader::{DecodeOptions, Reader, Recorder, TraceEvent, TraceSink};
use super::schema::{self, CtorDef};
use super::writer::{EncodeError, Writer};

/// A TL `string`: UTF-8 text on every strictly decoded frame. Lenient
/// decoding may keep invalid UTF-8, so the bytes are what is stored.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TlString(Vec<u8>);

impl TlString {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        TlString(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The text, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for TlString {
    fn from(s: &str) -> Self {
        TlString(s.as_bytes().to_vec())
    }
}

impl From<String> for TlString {
    fn from(s: String) -> Self {
        TlString(s.into_bytes())
    }
}

impl PartialEq<str> for TlString {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for TlString {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for TlString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => write!(f, "TlString(invalid UTF-8: {:02x?})", self.0),
        }
    }
}

impl fmt::Display for TlString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// A boxed TL type of the closure: decodes from and encodes to its wire form,
/// constructor id included.
pub trait TlObject: Sized {
    /// The TL type name, used in messages ("InputPeer").
    const TYPE_NAME: &'static str;

    /// Decode one value, constructor id first, as the field `field` of the
    /// object being decoded (empty at the top level).
    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError>;

    /// Append the value, constructor id first.
    fn encode(&self, w: &mut Writer);

    /// The constructor this value is built with.
    fn ctor(&self) -> &'static CtorDef;

    /// Strictly decode a whole buffer holding exactly one value.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_top(bytes, DecodeOptions::strict())
    }

    /// The wire form.
    fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::with_capacity(64);
        self.encode(&mut w);
        w.finish()
    }
}

/// Decode a whole buffer as one top-level `T`, without a trace.
pub fn decode_top<T: TlObject>(bytes: &[u8], options: DecodeOptions) -> Result<T, DecodeError> {
    decode_in(&mut Reader::new(bytes, options))
}

/// The outcome of a traced decode: the value or the error, and in both cases
/// the warnings and the trace of everything decoded up to the end or the
/// failure (what `--explain` shows). The trace holds the fields that occupy
/// bytes; [`with_flag_fields`](super::with_flag_fields) adds the others.
#[derive(Debug)]
pub struct Traced<T> {
    pub result: Result<T, DecodeError>,
    pub warnings: Vec<Warning>,
    pub trace: Vec<TraceEvent>,
}

/// Decode a whole buffer as one top-level `T`, recording a trace.
pub fn decode_traced<T: TlObject>(bytes: &[u8], options: DecodeOptions) -> Traced<T> {
    let mut recorder = Recorder { events: Vec::with_capacity(32), warnings: Vec::new() };
    let result = decode_traced_into(bytes, options, &mut recorder);
    Traced { result, warnings: recorder.warnings, trace: recorder.events }
}

/// [`decode_traced`] into `recorder` (cleared first), which keeps the trace
/// and the warnings: what a caller decoding a stream of frames should use,
/// since one recorder's allocations serve every frame.
pub fn decode_traced_into<T: TlObject>(
    bytes: &[u8],
    options: DecodeOptions,
    recorder: &mut Recorder,
) -> Result<T, DecodeError> {
    recorder.clear();
    decode_in(&mut Reader::with_sink(bytes, options, recorder))
}

/// Decode a whole buffer as one top-level `T`, sending the trace (and the
/// warnings) to `sink`; the result and the sink come back.
pub fn decode_with_sink<T: TlObject, S: TraceSink>(
    bytes: &[u8],
    options: DecodeOptions,
    sink: S,
) -> (Result<T, DecodeError>, S) {
    let mut r = Reader::with_sink(bytes, options, sink);
    let result = decode_in(&mut r);
    (result, r.into_sink())
}

/// One top-level `T` and nothing after it.
#[inline(always)]
fn decode_in<T: TlObject, S: TraceSink>(r: &mut Reader<'_, S>) -> Result<T, DecodeError> {
    let result = T::decode_boxed(r, "");
    if r.remaining() != 0 {
        return trailing(r, result);
    }
    // Returned as it came: unwrapping and rewrapping it would move the value.
    result
}

/// [`decode_in`] when bytes are left: an error (strict) or a warning
/// (lenient) after a decoded value.
#[cold]
#[inline(never)]
fn trailing<T: TlObject, S: TraceSink>(
    r: &mut Reader<'_, S>,
    result: Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let value = result?;
    r.finish(value.ctor())?;
    Ok(value)
}

/// Read the constructor id of a field of type `T`, look it up with `lookup`
/// (`expected` names the type in the error if that fails), and decode the
/// object's body with `body` inside the depth budget.
#[inline(always)]
fn boxed<'a, S: TraceSink, T>(
    r: &mut Reader<'a, S>,
    field: &'static str,
    expected: &'static str,
    lookup: impl FnOnce(u32) -> Option<&'static CtorDef>,
    body: impl FnOnce(&mut Reader<'a, S>, &'static CtorDef) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let start = r.pos();
    let id = r.read_id(field)?;
    let Some(ctor) = lookup(id) else {
        return Err(r.unexpected_constructor_at(start, field, expected, id));
    };
    let token = r.begin_object(start, field, ctor)?;
    let value = body(r, ctor).map_err(|e| e.within(field))?;
    r.end_object(token);
    Ok(value)
}

/// The lookup of a type with the one constructor `ctor`.
#[inline(always)]
fn only(ctor: &'static CtorDef) -> impl FnOnce(u32) -> Option<&'static CtorDef> {
    move |id| (id == ctor.id).then_some(ctor)
}

#[inline]
fn bit(flags: u32, n: u8) -> bool {
    flags & (1 << n) != 0
}

/// A `flags.N?T` field: read with `read` when bit `n` of `flags` is set,
/// else recorded as absent.
#[inline(always)]
fn optional<'a, S: TraceSink, T>(
    r: &mut Reader<'a, S>,
    flags: u32,
    n: u8,
    field: &'static str,
    read: impl FnOnce(&mut Reader<'a, S>, &'static str) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    if bit(flags, n) {
        read(r, field).map(Some)
    } else {
        Ok(r.absent(field))
    }
}

fn set_if(flags: &mut u32, n: u8, cond: bool) {
    if cond {
        *flags |= 1 << n;
    }
}

/// `messages.exportChatInvite#a455de90`: export an invite link for a chat.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExportChatInvite {
    /// flags.2: revoke all previous links first (legacy, for bot API compatibility).
    pub legacy_revoke_permanent: bool,
    /// flags.3: admins must approve each user joining through the link.
    pub request_needed: bool,
    /// The chat.
    pub peer: InputPeer,
    /// flags.0: when the link expires (unix time).
    pub expire_date: Option<i32>,
    /// flags.1: how many users may join through the link.
    pub usage_limit: Option<i32>,
    /// flags.4: a description visible only to administrators.
    pub title: Option<TlString>,
    /// flags.5: the Telegram Star subscription price of joining.
    pub subscription_pricing: Option<StarsSubscriptionPricing>,
}

impl ExportChatInvite {
    /// A request with every optional field absent.
    pub fn new(peer: InputPeer) -> Self {
        ExportChatInvite {
            legacy_revoke_permanent: false,
            request_needed: false,
            peer,
            expire_date: None,
            usage_limit: None,
            title: None,
            subscription_pricing: None,
        }
    }

    /// The `flags` word these fields put on the wire.
    pub fn flags(&self) -> u32 {
        let mut f = 0;
        set_if(&mut f, 0, self.expire_date.is_some());
        set_if(&mut f, 1, self.usage_limit.is_some());
        set_if(&mut f, 2, self.legacy_revoke_permanent);
        set_if(&mut f, 3, self.request_needed);
        set_if(&mut f, 4, self.title.is_some());
        set_if(&mut f, 5, self.subscription_pricing.is_some());
        f
    }

    #[inline]
    fn decode_body<S: TraceSink>(r: &mut Reader<'_, S>) -> Result<Self, DecodeError> {
        let flags = r.flags(&schema::EXPORT_CHAT_INVITE)?;
        Ok(ExportChatInvite {
            legacy_revoke_permanent: r.true_flag("legacy_revoke_permanent", bit(flags, 2)),
            request_needed: r.true_flag("request_needed", bit(flags, 3)),
            peer: InputPeer::decode_boxed(r, "peer")?,
            expire_date: optional(r, flags, 0, "expire_date", Reader::int)?,
            usage_limit: optional(r, flags, 1, "usage_limit", Reader::int)?,
            title: optional(r, flags, 4, "title", Reader::string)?,
            subscription_pricing: optional(
                r,
                flags,
                5,
                "subscription_pricing",
                StarsSubscriptionPricing::decode_boxed,
            )?,
        })
    }

    fn encode_body(&self, w: &mut Writer) {
        w.u32(self.flags());
        self.peer.encode(w);
        if let Some(v) = self.expire_date {
            w.int(v);
        }
        if let Some(v) = self.usage_limit {
            w.int(v);
        }
        if let Some(v) = &self.title {
            w.bytes(v.as_bytes());
        }
        if let Some(v) = &self.subscription_pricing {
            v.encode(w);
        }
    }
}

impl TlObject for ExportChatInvite {
    const TYPE_NAME: &'static str = "messages.exportChatInvite";

    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {
        boxed(r, field, Self::TYPE_NAME, only(&schema::EXPORT_CHAT_INVITE), |r, _| Self::decode_body(r))
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(schema::EXPORT_CHAT_INVITE.id);
        self.encode_body(w);
    }

    fn ctor(&self) -> &'static CtorDef {
        &schema::EXPORT_CHAT_INVITE
    }
}

/// `InputPeer`: the peer a request is about. The two `*FromMessage`
/// constructors name a peer seen in a message of another peer, and nest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InputPeer {
    /// `inputPeerEmpty#7f3b18ea`
    Empty,
    /// `inputPeerSelf#7da07ec9`
    PeerSelf,
    /// `inputPeerChat#35a95cb9`
    Chat { chat_id: i64 },
    /// `inputPeerUser#dde8a54c`
    User { user_id: i64, access_hash: i64 },
    /// `inputPeerChannel#27bcbbfc`
    Channel { channel_id: i64, access_hash: i64 },
    /// `inputPeerUserFromMessage#a87b0a1c`
    UserFromMessage { peer: Box<InputPeer>, msg_id: i32, user_id: i64 },
    /// `inputPeerChannelFromMessage#bd2a0840`
    ChannelFromMessage { peer: Box<InputPeer>, msg_id: i32, channel_id: i64 },
}

impl InputPeer {
    /// How many peers deep this one nests (1 for a plain peer).
    pub fn depth(&self) -> usize {
        let mut depth = 1;
        let mut peer = self;
        while let InputPeer::UserFromMessage { peer: inner, .. } | InputPeer::ChannelFromMessage { peer: inner, .. } =
            peer
        {
            depth += 1;
            peer = inner;
        }
        depth
    }
}

/// The `peer` inside a `*FromMessage` peer.
#[inline(never)]
fn nested_peer<S: TraceSink>(r: &mut Reader<'_, S>) -> Result<Box<InputPeer>, DecodeError> {
    InputPeer::decode_boxed(r, "peer").map(Box::new)
}

impl TlObject for InputPeer {
    const TYPE_NAME: &'static str = "InputPeer";

    // Inlined where a peer field is decoded; only the nested peer of the
    // two `*FromMessage` constructors is a call (the recursion).
    #[inline(always)]
    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {
        boxed(r, field, Self::TYPE_NAME, schema::input_peer, |r, ctor| {
            Ok(match ctor.id {
                0x7f3b18ea => InputPeer::Empty,
                0x7da07ec9 => InputPeer::PeerSelf,
                0x35a95cb9 => InputPeer::Chat { chat_id: r.long("chat_id")? },
                0xdde8a54c => InputPeer::User { user_id: r.long("user_id")?, access_hash: r.long("access_hash")? },
                0x27bcbbfc => {
                    InputPeer::Channel { channel_id: r.long("channel_id")?, access_hash: r.long("access_hash")? }
                }
                0xa87b0a1c => InputPeer::UserFromMessage {
                    peer: nested_peer(r)?,
                    msg_id: r.int("msg_id")?,
                    user_id: r.long("user_id")?,
                },
                _ => InputPeer::ChannelFromMessage {
                    peer: nested_peer(r)?,
                    msg_id: r.int("msg_id")?,
                    channel_id: r.long("channel_id")?,
                },
            })
        })
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(self.ctor().id);
        match self {
            InputPeer::Empty | InputPeer::PeerSelf => {}
            InputPeer::Chat { chat_id } => w.long(*chat_id),
            InputPeer::User { user_id: id, access_hash } | InputPeer::Channel { channel_id: id, access_hash } => {
                w.long(*id);
                w.long(*access_hash);
            }
            InputPeer::UserFromMessage { peer, msg_id, user_id: id }
            | InputPeer::ChannelFromMessage { peer, msg_id, channel_id: id } => {
                peer.encode(w);
                w.int(*msg_id);
                w.long(*id);
            }
        }
    }

    fn ctor(&self) -> &'static CtorDef {
        match self {
            InputPeer::Empty => &schema::INPUT_PEER_EMPTY,
            InputPeer::PeerSelf => &schema::INPUT_PEER_SELF,
            InputPeer::Chat { .. } => &schema::INPUT_PEER_CHAT,
            InputPeer::User { .. } => &schema::INPUT_PEER_USER,
            InputPeer::Channel { .. } => &schema::INPUT_PEER_CHANNEL,
            InputPeer::UserFromMessage { .. } => &schema::INPUT_PEER_USER_FROM_MESSAGE,
            InputPeer::ChannelFromMessage { .. } => &schema::INPUT_PEER_CHANNEL_FROM_MESSAGE,
        }
    }
}

/// `starsSubscriptionPricing#05416d58`: the price of a Star subscription.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StarsSubscriptionPricing {
    /// Seconds per period (2592000 is 30 days).
    pub period: i32,
    /// Stars per period.
    pub amount: i64,
}

impl TlObject for StarsSubscriptionPricing {
    const TYPE_NAME: &'static str = "StarsSubscriptionPricing";

    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {
        boxed(r, field, Self::TYPE_NAME, only(&schema::STARS_SUBSCRIPTION_PRICING), |r, _| {
            Ok(StarsSubscriptionPricing { period: r.int("period")?, amount: r.long("amount")? })
        })
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(schema::STARS_SUBSCRIPTION_PRICING.id);
        w.int(self.period);
        w.long(self.amount);
    }

    fn ctor(&self) -> &'static CtorDef {
        &schema::STARS_SUBSCRIPTION_PRICING
    }
}

/// `ExportedChatInvite`: what `messages.exportChatInvite` returns.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExportedChatInvite {
    /// `chatInviteExported#a22cbd96`
    Exported(ChatInviteExported),
    /// `chatInvitePublicJoinRequests#ed107ab7`
    PublicJoinRequests,
}

/// `chatInviteExported#a22cbd96`: an invite link.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatInviteExported {
    /// flags.0
    pub revoked: bool,
    /// flags.5
    pub permanent: bool,
    /// flags.6
    pub request_needed: bool,
    pub link: TlString,
    pub admin_id: i64,
    /// Unix time of creation.
    pub date: i32,
    /// flags.4
    pub start_date: Option<i32>,
    /// flags.1
    pub expire_date: Option<i32>,
    /// flags.2
    pub usage_limit: Option<i32>,
    /// flags.3
    pub usage: Option<i32>,
    /// flags.7
    pub requested: Option<i32>,
    /// flags.10
    pub subscription_expired: Option<i32>,
    /// flags.8
    pub title: Option<TlString>,
    /// flags.9
    pub subscription_pricing: Option<StarsSubscriptionPricing>,
}

impl ChatInviteExported {
    /// A link with every optional field absent.
    pub fn new(link: impl Into<TlString>, admin_id: i64, date: i32) -> Self {
        ChatInviteExported {
            revoked: false,
            permanent: false,
            request_needed: false,
            link: link.into(),
            admin_id,
            date,
            start_date: None,
            expire_date: None,
            usage_limit: None,
            usage: None,
            requested: None,
            subscription_expired: None,
            title: None,
            subscription_pricing: None,
        }
    }

    /// The `flags` word these fields put on the wire.
    pub fn flags(&self) -> u32 {
        let mut f = 0;
        set_if(&mut f, 0, self.revoked);
        set_if(&mut f, 1, self.expire_date.is_some());
        set_if(&mut f, 2, self.usage_limit.is_some());
        set_if(&mut f, 3, self.usage.is_some());
        set_if(&mut f, 4, self.start_date.is_some());
        set_if(&mut f, 5, self.permanent);
        set_if(&mut f, 6, self.request_needed);
        set_if(&mut f, 7, self.requested.is_some());
        set_if(&mut f, 8, self.title.is_some());
        set_if(&mut f, 9, self.subscription_pricing.is_some());
        set_if(&mut f, 10, self.subscription_expired.is_some());
        f
    }

    #[inline]
    fn decode_body<S: TraceSink>(r: &mut Reader<'_, S>) -> Result<Self, DecodeError> {
        let flags = r.flags(&schema::CHAT_INVITE_EXPORTED)?;
        Ok(ChatInviteExported {
            revoked: r.true_flag("revoked", bit(flags, 0)),
            permanent: r.true_flag("permanent", bit(flags, 5)),
            request_needed: r.true_flag("request_needed", bit(flags, 6)),
            link: r.string("link")?,
            admin_id: r.long("admin_id")?,
            date: r.int("date")?,
            start_date: optional(r, flags, 4, "start_date", Reader::int)?,
            expire_date: optional(r, flags, 1, "expire_date", Reader::int)?,
            usage_limit: optional(r, flags, 2, "usage_limit", Reader::int)?,
            usage: optional(r, flags, 3, "usage", Reader::int)?,
            requested: optional(r, flags, 7, "requested", Reader::int)?,
            subscription_expired: optional(r, flags, 10, "subscription_expired", Reader::int)?,
            title: optional(r, flags, 8, "title", Reader::string)?,
            subscription_pricing: optional(
                r,
                flags,
                9,
                "subscription_pricing",
                StarsSubscriptionPricing::decode_boxed,
            )?,
        })
    }

    fn encode_body(&self, w: &mut Writer) {
        w.u32(self.flags());
        w.bytes(self.link.as_bytes());
        w.long(self.admin_id);
        w.int(self.date);
        for v in
            [self.start_date, self.expire_date, self.usage_limit, self.usage, self.requested, self.subscription_expired]
                .into_iter()
                .flatten()
        {
            w.int(v);
        }
        if let Some(v) = &self.title {
            w.bytes(v.as_bytes());
        }
        if let Some(v) = &self.subscription_pricing {
            v.encode(w);
        }
    }
}

impl TlObject for ExportedChatInvite {
    const TYPE_NAME: &'static str = "ExportedChatInvite";

    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {
        boxed(
            r,
            field,
            Self::TYPE_NAME,
            |id| match id {
                0xa22cbd96 => Some(&schema::CHAT_INVITE_EXPORTED),
                0xed107ab7 => Some(&schema::CHAT_INVITE_PUBLIC_JOIN_REQUESTS),
                _ => None,
            },
            |r, ctor| {
                if ctor.id == schema::CHAT_INVITE_EXPORTED.id {
                    ChatInviteExported::decode_body(r).map(ExportedChatInvite::Exported)
                } else {
                    Ok(ExportedChatInvite::PublicJoinRequests)
                }
            },
        )
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(self.ctor().id);
        if let ExportedChatInvite::Exported(e) = self {
            e.encode_body(w);
        }
    }

    fn ctor(&self) -> &'static CtorDef {
        match self {
            ExportedChatInvite::Exported(_) => &schema::CHAT_INVITE_EXPORTED,
            ExportedChatInvite::PublicJoinRequests => &schema::CHAT_INVITE_PUBLIC_JOIN_REQUESTS,
        }
    }
}

/// `rpc_error#2144ca19`: the server's refusal of a request.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RpcError {
    pub error_code: i32,
    /// Such as `CHAT_ADMIN_REQUIRED` or `FLOOD_WAIT_42`.
    pub error_message: TlString,
}

impl TlObject for RpcError {
    const TYPE_NAME: &'static str = "RpcError";

    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {
        boxed(r, field, Self::TYPE_NAME, only(&schema::RPC_ERROR), |r, _| {
            Ok(RpcError { error_code: r.int("error_code")?, error_message: r.string("error_message")? })
        })
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(schema::RPC_ERROR.id);
        w.int(self.error_code);
        w.bytes(self.error_message.as_bytes());
    }

    fn ctor(&self) -> &'static CtorDef {
        &schema::RPC_ERROR
    }
}

/// What `inspector decode` accepts at the top level: the request, an answer
/// to it, or an error answer. The first constructor id decides which.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frame {
    Request(ExportChatInvite),
    Answer(ExportedChatInvite),
    Error(RpcError),
}

use super::error::FRAME as FRAME_EXPECTED;

impl TlObject for Frame {
    const TYPE_NAME: &'static str = FRAME_EXPECTED;

    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {
        let id = r.peek_id(field)?;
        match id {
            0xa455de90 => ExportChatInvite::decode_boxed(r, field).map(Frame::Request),
            0xa22cbd96 | 0xed107ab7 => ExportedChatInvite::decode_boxed(r, field).map(Frame::Answer),
            0x2144ca19 => RpcError::decode_boxed(r, field).map(Frame::Error),
            _ => Err(r.unexpected_constructor(field, FRAME_EXPECTED, id)),
        }
    }

    fn encode(&self, w: &mut Writer) {
        match self {
            Frame::Request(v) => v.encode(w),
            Frame::Answer(v) => v.encode(w),
            Frame::Error(v) => v.encode(w),
        }
    }

    fn ctor(&self) -> &'static CtorDef {
        match self {
            Frame::Request(v) => v.ctor(),
            Frame::Answer(v) => v.ctor(),
            Frame::Error(v) => v.ctor(),
        }
    }
}

impl From<ExportChatInvite> for Frame {
    fn from(v: ExportChatInvite) -> Self {
        Frame::Request(v)
    }
}

impl From<ExportedChatInvite> for Frame {
    fn from(v: ExportedChatInvite) -> Self {
        Frame::Answer(v)
    }
}

impl From<RpcError> for Frame {
    fn from(v: RpcError) -> Self {
        Frame::Error(v)
    }
}
