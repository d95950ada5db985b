//! The canonical JSON form (protocol.md section 3): `"_"` names the
//! constructor, fields keep their TL names and wire order, `flags` is the
//! wire value, an absent optional field is `null`, a `flags.N?true` field is
//! a boolean, integers are exact JSON integers and strings are text.
//!
//! Reading JSON is strict: unknown field names, missing required fields,
//! integers out of range, wrong JSON types and a `flags` value that
//! disagrees with the fields are errors naming the field.

use std::fmt;

use serde_json::{Map, Value};

use super::schema::{self, CtorDef};
use super::types::{
    ChatInviteExported, ExportChatInvite, ExportedChatInvite, Frame, InputPeer, RpcError, StarsSubscriptionPricing,
    TlString,
};
use super::writer::MAX_STRING_LEN;

/// A JSON input that is not a valid value: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Dotted path of the field (`peer.peer.msg_id`), empty for the top level.
    pub path: String,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "error in JSON: {}", self.message)
        } else {
            write!(f, "error in JSON field {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for JsonError {}

/// A value with a canonical JSON form.
pub trait TlJson: Sized {
    /// The canonical JSON form.
    fn to_json(&self) -> Value;

    /// Read the canonical JSON form of the value found at `path`.
    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError>;

    /// Read the canonical JSON form of a top-level value.
    fn from_json(v: &Value) -> Result<Self, JsonError> {
        Self::from_json_at(v, "")
    }

    /// [`TlJson::to_json`], taking the value apart: where it can, the text
    /// moves into the JSON instead of being copied (for a large answer, one
    /// copy less held while it is reported). The same JSON either way.
    fn into_json(self) -> Value {
        self.to_json()
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// What a JSON value is, for "found ..." in messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a string".into(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn string_json(s: &TlString) -> Value {
    match s.as_str() {
        Some(text) => Value::String(text.to_string()),
        // Only lenient decoding produces these; keep the bytes visible and exact.
        None => {
            let hex = crate::hex::encode(s.as_bytes());
            serde_json::json!({"_": "bytes", "hex": hex})
        }
    }
}

/// [`string_json`], moving valid text instead of copying it.
fn string_into_json(s: TlString) -> Value {
    match String::from_utf8(s.into_bytes()) {
        Ok(text) => Value::String(text),
        Err(e) => string_json(&TlString::from_bytes(e.into_bytes())),
    }
}

/// Put `s`, as JSON, under `key` of `json`, which [`TlJson::to_json`] made
/// with that string empty.
fn move_text(json: &mut Value, key: &str, s: TlString) {
    if let Some(slot) = json.get_mut(key) {
        *slot = string_into_json(s);
    }
}

fn opt<T>(v: &Option<T>, f: impl FnOnce(&T) -> Value) -> Value {
    v.as_ref().map_or(Value::Null, f)
}

/// Reads the fields of one JSON object that stands for `ctor`.
struct Obj<'v> {
    map: &'v Map<String, Value>,
    path: String,
    ctor: &'static CtorDef,
}

impl<'v> Obj<'v> {
    /// Check that `v` is an object naming one of `ctors` in `"_"` and has no
    /// fields that constructor lacks.
    fn open(v: &'v Value, path: &str, expected: &str, ctors: &[&'static CtorDef]) -> Result<Self, JsonError> {
        let err = |message: String| JsonError { path: path.to_string(), message };
        let Value::Object(map) = v else {
            return Err(err(format!("expected an object for {expected}, found {}", describe(v))));
        };
        let name = match map.get("_") {
            Some(Value::String(name)) => name,
            Some(other) => return Err(err(format!("\"_\" must be a constructor name, found {}", describe(other)))),
            None => return Err(err(format!("missing \"_\" (the constructor name of {expected})"))),
        };
        let Some(&ctor) = ctors.iter().find(|c| c.name == name) else {
            let names: Vec<&str> = ctors.iter().map(|c| c.name).collect();
            let what = match schema::ctor_by_name(name) {
                Some(c) => format!("{name} is {}, but {expected} is expected here", c.ty),
                None => format!("unknown constructor {name:?} for {expected}"),
            };
            return Err(err(format!("{what} (one of: {})", names.join(", "))));
        };
        for key in map.keys() {
            if key != "_" && ctor.field(key).is_none() {
                let fields: Vec<&str> = ctor.fields.iter().map(|f| f.name).collect();
                return Err(JsonError {
                    path: join(path, key),
                    message: if fields.is_empty() {
                        format!("{} has no fields", ctor.name)
                    } else {
                        format!("{} has no such field (its fields: {})", ctor.name, fields.join(", "))
                    },
                });
            }
        }
        Ok(Obj { map, path: path.to_string(), ctor })
    }

    fn err(&self, name: &str, message: String) -> JsonError {
        JsonError { path: join(&self.path, name), message }
    }

    /// The field's value; `None` when missing or null.
    fn get(&self, name: &str) -> Option<&'v Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn required(&self, name: &str) -> Result<&'v Value, JsonError> {
        self.get(name).ok_or_else(|| {
            let ty = self.ctor.field(name).map_or("", |f| f.ty);
            self.err(name, format!("missing required field of type {ty}"))
        })
    }

    fn int_value(&self, name: &str, v: &Value) -> Result<i32, JsonError> {
        v.as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| self.err(name, format!("expected an int (32-bit signed integer), found {}", describe(v))))
    }

    fn int(&self, name: &str) -> Result<i32, JsonError> {
        self.int_value(name, self.required(name)?)
    }

    fn opt_int(&self, name: &str) -> Result<Option<i32>, JsonError> {
        self.get(name).map(|v| self.int_value(name, v)).transpose()
    }

    fn long(&self, name: &str) -> Result<i64, JsonError> {
        let v = self.required(name)?;
        v.as_i64()
            .ok_or_else(|| self.err(name, format!("expected a long (64-bit signed integer), found {}", describe(v))))
    }

    fn string_value(&self, name: &str, v: &Value) -> Result<TlString, JsonError> {
        let s = match v {
            Value::String(s) => TlString::from(s.as_str()),
            Value::Object(m) if m.get("_") == Some(&Value::String("bytes".into())) => {
                let hex = m.get("hex").and_then(Value::as_str).unwrap_or("");
                TlString::from_bytes(
                    crate::hex::parse(hex)
                        .map_err(|e| self.err(name, format!("invalid hex in {{\"_\": \"bytes\"}}: {e}")))?,
                )
            }
            _ => return Err(self.err(name, format!("expected a string, found {}", describe(v)))),
        };
        if s.len() > MAX_STRING_LEN {
            return Err(
                self.err(name, format!("a string of {} bytes is longer than TL allows ({MAX_STRING_LEN})", s.len()))
            );
        }
        Ok(s)
    }

    fn string(&self, name: &str) -> Result<TlString, JsonError> {
        self.string_value(name, self.required(name)?)
    }

    fn opt_string(&self, name: &str) -> Result<Option<TlString>, JsonError> {
        self.get(name).map(|v| self.string_value(name, v)).transpose()
    }

    /// A `flags.N?true` field: a boolean, `false` when missing or null.
    fn bool_flag(&self, name: &str) -> Result<bool, JsonError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.err(name, format!("expected true or false, found {}", describe(v)))),
        }
    }

    fn object<T: TlJson>(&self, name: &str) -> Result<T, JsonError> {
        T::from_json_at(self.required(name)?, &join(&self.path, name))
    }

    fn opt_object<T: TlJson>(&self, name: &str) -> Result<Option<T>, JsonError> {
        self.get(name).map(|v| T::from_json_at(v, &join(&self.path, name))).transpose()
    }

    /// `flags` may be left out; where given it must be what the fields imply.
    fn check_flags(&self, derived: u32) -> Result<(), JsonError> {
        let Some(v) = self.get("flags") else {
            return Ok(());
        };
        let given = v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.err("flags", format!("expected a 32-bit unsigned integer, found {}", describe(v))))?;
        if given != derived {
            return Err(self.err(
                "flags",
                format!(
                    "flags {given} (0x{given:x}) disagree with the fields, which give {derived} (0x{derived:x}); \
                     leave flags out to derive it"
                ),
            ));
        }
        Ok(())
    }
}

impl TlJson for ExportChatInvite {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("_".into(), schema::EXPORT_CHAT_INVITE.name.into());
        m.insert("flags".into(), self.flags().into());
        m.insert("legacy_revoke_permanent".into(), self.legacy_revoke_permanent.into());
        m.insert("request_needed".into(), self.request_needed.into());
        m.insert("peer".into(), self.peer.to_json());
        m.insert("expire_date".into(), opt(&self.expire_date, |v| (*v).into()));
        m.insert("usage_limit".into(), opt(&self.usage_limit, |v| (*v).into()));
        m.insert("title".into(), opt(&self.title, string_json));
        m.insert("subscription_pricing".into(), opt(&self.subscription_pricing, |v| v.to_json()));
        Value::Object(m)
    }

    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {
        let o = Obj::open(v, path, "messages.exportChatInvite", &[&schema::EXPORT_CHAT_INVITE])?;
        let value = ExportChatInvite {
            legacy_revoke_permanent: o.bool_flag("legacy_revoke_permanent")?,
            request_needed: o.bool_flag("request_needed")?,
            peer: o.object("peer")?,
            expire_date: o.opt_int("expire_date")?,
            usage_limit: o.opt_int("usage_limit")?,
            title: o.opt_string("title")?,
            subscription_pricing: o.opt_object("subscription_pricing")?,
        };
        o.check_flags(value.flags())?;
        Ok(value)
    }
}

impl TlJson for InputPeer {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("_".into(), self_ctor_name(self).into());
        match self {
            InputPeer::Empty | InputPeer::PeerSelf => {}
            InputPeer::Chat { chat_id } => {
                m.insert("chat_id".into(), (*chat_id).into());
            }
            InputPeer::User { user_id, access_hash } => {
                m.insert("user_id".into(), (*user_id).into());
                m.insert("access_hash".into(), (*access_hash).into());
            }
            InputPeer::Channel { channel_id, access_hash } => {
                m.insert("channel_id".into(), (*channel_id).into());
                m.insert("access_hash".into(), (*access_hash).into());
            }
            InputPeer::UserFromMessage { peer, msg_id, user_id } => {
                m.insert("peer".into(), peer.to_json());
                m.insert("msg_id".into(), (*msg_id).into());
                m.insert("user_id".into(), (*user_id).into());
            }
            InputPeer::ChannelFromMessage { peer, msg_id, channel_id } => {
                m.insert("peer".into(), peer.to_json());
                m.insert("msg_id".into(), (*msg_id).into());
                m.insert("channel_id".into(), (*channel_id).into());
            }
        }
        Value::Object(m)
    }

    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {
        let o = Obj::open(v, path, "InputPeer", &schema::INPUT_PEERS)?;
        Ok(match o.ctor.id {
            0x7f3b18ea => InputPeer::Empty,
            0x7da07ec9 => InputPeer::PeerSelf,
            0x35a95cb9 => InputPeer::Chat { chat_id: o.long("chat_id")? },
            0xdde8a54c => InputPeer::User { user_id: o.long("user_id")?, access_hash: o.long("access_hash")? },
            0x27bcbbfc => InputPeer::Channel { channel_id: o.long("channel_id")?, access_hash: o.long("access_hash")? },
            0xa87b0a1c => InputPeer::UserFromMessage {
                peer: Box::new(o.object("peer")?),
                msg_id: o.int("msg_id")?,
                user_id: o.long("user_id")?,
            },
            _ => InputPeer::ChannelFromMessage {
                peer: Box::new(o.object("peer")?),
                msg_id: o.int("msg_id")?,
                channel_id: o.long("channel_id")?,
            },
        })
    }
}

fn self_ctor_name(peer: &InputPeer) -> &'static str {
    use super::types::TlObject;
    peer.ctor().name
}

impl TlJson for StarsSubscriptionPricing {
    fn to_json(&self) -> Value {
        serde_json::json!({"_": schema::STARS_SUBSCRIPTION_PRICING.name, "period": self.period, "amount": self.amount})
    }

    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {
        let o = Obj::open(v, path, "StarsSubscriptionPricing", &[&schema::STARS_SUBSCRIPTION_PRICING])?;
        Ok(StarsSubscriptionPricing { period: o.int("period")?, amount: o.long("amount")? })
    }
}

impl TlJson for ExportedChatInvite {
    fn to_json(&self) -> Value {
        let ExportedChatInvite::Exported(e) = self else {
            return serde_json::json!({"_": schema::CHAT_INVITE_PUBLIC_JOIN_REQUESTS.name});
        };
        let int = |v: &Option<i32>| opt(v, |v| (*v).into());
        let mut m = Map::new();
        m.insert("_".into(), schema::CHAT_INVITE_EXPORTED.name.into());
        m.insert("flags".into(), e.flags().into());
        m.insert("revoked".into(), e.revoked.into());
        m.insert("permanent".into(), e.permanent.into());
        m.insert("request_needed".into(), e.request_needed.into());
        m.insert("link".into(), string_json(&e.link));
        m.insert("admin_id".into(), e.admin_id.into());
        m.insert("date".into(), e.date.into());
        m.insert("start_date".into(), int(&e.start_date));
        m.insert("expire_date".into(), int(&e.expire_date));
        m.insert("usage_limit".into(), int(&e.usage_limit));
        m.insert("usage".into(), int(&e.usage));
        m.insert("requested".into(), int(&e.requested));
        m.insert("subscription_expired".into(), int(&e.subscription_expired));
        m.insert("title".into(), opt(&e.title, string_json));
        m.insert("subscription_pricing".into(), opt(&e.subscription_pricing, |v| v.to_json()));
        Value::Object(m)
    }

    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {
        let o = Obj::open(
            v,
            path,
            "ExportedChatInvite",
            &[&schema::CHAT_INVITE_EXPORTED, &schema::CHAT_INVITE_PUBLIC_JOIN_REQUESTS],
        )?;
        if o.ctor.id == schema::CHAT_INVITE_PUBLIC_JOIN_REQUESTS.id {
            return Ok(ExportedChatInvite::PublicJoinRequests);
        }
        let value = ChatInviteExported {
            revoked: o.bool_flag("revoked")?,
            permanent: o.bool_flag("permanent")?,
            request_needed: o.bool_flag("request_needed")?,
            link: o.string("link")?,
            admin_id: o.long("admin_id")?,
            date: o.int("date")?,
            start_date: o.opt_int("start_date")?,
            expire_date: o.opt_int("expire_date")?,
            usage_limit: o.opt_int("usage_limit")?,
            usage: o.opt_int("usage")?,
            requested: o.opt_int("requested")?,
            subscription_expired: o.opt_int("subscription_expired")?,
            title: o.opt_string("title")?,
            subscription_pricing: o.opt_object("subscription_pricing")?,
        };
        o.check_flags(value.flags())?;
        Ok(ExportedChatInvite::Exported(value))
    }
}

impl TlJson for RpcError {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("_".into(), schema::RPC_ERROR.name.into());
        m.insert("error_code".into(), self.error_code.into());
        m.insert("error_message".into(), string_json(&self.error_message));
        Value::Object(m)
    }

    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {
        let o = Obj::open(v, path, "rpc_error", &[&schema::RPC_ERROR])?;
        Ok(RpcError { error_code: o.int("error_code")?, error_message: o.string("error_message")? })
    }
}

impl TlJson for Frame {
    fn to_json(&self) -> Value {
        match self {
            Frame::Request(v) => v.to_json(),
            Frame::Answer(v) => v.to_json(),
            Frame::Error(v) => v.to_json(),
        }
    }

    fn into_json(mut self) -> Value {
        // The strings are taken out (an optional one stays present, empty,
        // so that the flags come out the same), the rest is rendered, and
        // the strings are moved into their places.
        let mut texts: Vec<(&str, TlString)> = Vec::new();
        match &mut self {
            Frame::Request(r) => texts.extend(r.title.as_mut().map(|t| ("title", std::mem::take(t)))),
            Frame::Answer(ExportedChatInvite::Exported(e)) => {
                texts.push(("link", std::mem::take(&mut e.link)));
                texts.extend(e.title.as_mut().map(|t| ("title", std::mem::take(t))));
            }
            Frame::Answer(ExportedChatInvite::PublicJoinRequests) => {}
            Frame::Error(e) => texts.push(("error_message", std::mem::take(&mut e.error_message))),
        }
        let mut json = self.to_json();
        for (key, text) in texts {
            move_text(&mut json, key, text);
        }
        json
    }

    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {
        let name = v.get("_").and_then(Value::as_str).unwrap_or("");
        match name {
            "messages.exportChatInvite" => ExportChatInvite::from_json_at(v, path).map(Frame::Request),
            "chatInviteExported" | "chatInvitePublicJoinRequests" => {
                ExportedChatInvite::from_json_at(v, path).map(Frame::Answer)
            }
            "rpc_error" => RpcError::from_json_at(v, path).map(Frame::Error),
            _ => Obj::open(
                v,
                path,
                "a frame",
                &[
                    &schema::EXPORT_CHAT_INVITE,
                    &schema::CHAT_INVITE_EXPORTED,
                    &schema::CHAT_INVITE_PUBLIC_JOIN_REQUESTS,
                    &schema::RPC_ERROR,
                ],
            )
            .and_then(|_| unreachable_frame()),
        }
    }
}

/// `Obj::open` has already rejected any name that would get here.
fn unreachable_frame() -> Result<Frame, JsonError> {
    Err(JsonError { path: String::new(), message: "not a frame".into() })
}
