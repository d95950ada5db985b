//! The TL schema of the method's type closure, as data.
//!
//! The typed codec in [`super::types`] is written by hand for speed and
//! clarity; this table is what the renderers, the JSON reader and the schema
//! view consult for names, TL types and flag bits, so that a field's name and
//! flag bit are written down exactly once. A unit test recomputes every
//! constructor id from these definitions (CRC32 of the normalized TL line),
//! which ties the table to the published ids.

/// One field of a constructor, in wire order.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// The TL field name (`peer`, `expire_date`).
    pub name: &'static str,
    /// The TL type without the flag condition (`int`, `InputPeer`, `true`, `#`).
    pub ty: &'static str,
    /// `Some(n)` for a `flags.n?T` field.
    pub flag: Option<u8>,
    /// Holds a unix time, shown as a UTC date as well.
    pub is_time: bool,
}

impl FieldDef {
    /// The type as written in the TL line, with its flag condition (`flags.0?int`).
    pub fn tl_type(&self) -> String {
        match self.flag {
            Some(bit) => format!("flags.{bit}?{}", self.ty),
            None => self.ty.to_string(),
        }
    }

    /// A `flags.n?true` field: a bit and no bytes.
    pub fn is_true_flag(&self) -> bool {
        self.flag.is_some() && self.ty == "true"
    }
}

/// One constructor (or function) of the closure.
#[derive(Debug, PartialEq, Eq)]
pub struct CtorDef {
    /// The TL name (`inputPeerUser`, `messages.exportChatInvite`).
    pub name: &'static str,
    /// The constructor id, as on the wire (little endian).
    pub id: u32,
    /// The boxed type it builds, or the type a function returns.
    pub ty: &'static str,
    /// A function (a request) rather than a constructor.
    pub is_function: bool,
    /// The fields in wire order, `flags:#` included.
    pub fields: &'static [FieldDef],
    /// The flag bits the constructor defines.
    pub flag_mask: u32,
}

impl CtorDef {
    /// The field of that name.
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field that bit `bit` of `flags` controls.
    pub fn field_for_bit(&self, bit: u8) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.flag == Some(bit))
    }

    /// `name#id`, the way TL writes a constructor.
    pub fn display_id(&self) -> String {
        format!("{}#{:08x}", self.name, self.id)
    }

    /// The TL line of this constructor, as the schema publishes it.
    pub fn tl_line(&self) -> String {
        let mut line = format!("{}#{:x}", self.name, self.id);
        for f in self.fields {
            line.push(' ');
            line.push_str(f.name);
            line.push(':');
            line.push_str(&f.tl_type());
        }
        line.push_str(" = ");
        line.push_str(self.ty);
        line.push(';');
        line
    }
}

const fn field(name: &'static str, ty: &'static str) -> FieldDef {
    FieldDef { name, ty, flag: None, is_time: false }
}

const fn opt(name: &'static str, bit: u8, ty: &'static str) -> FieldDef {
    FieldDef { name, ty, flag: Some(bit), is_time: false }
}

const fn time(name: &'static str, flag: Option<u8>) -> FieldDef {
    FieldDef { name, ty: "int", flag, is_time: true }
}

const FLAGS: FieldDef = field("flags", "#");

pub static EXPORT_CHAT_INVITE: CtorDef = CtorDef {
    name: "messages.exportChatInvite",
    id: 0xa455de90,
    ty: "ExportedChatInvite",
    is_function: true,
    fields: &[
        FLAGS,
        opt("legacy_revoke_permanent", 2, "true"),
        opt("request_needed", 3, "true"),
        field("peer", "InputPeer"),
        time("expire_date", Some(0)),
        opt("usage_limit", 1, "int"),
        opt("title", 4, "string"),
        opt("subscription_pricing", 5, "StarsSubscriptionPricing"),
    ],
    flag_mask: 0b11_1111,
};

pub static INPUT_PEER_EMPTY: CtorDef =
    CtorDef { name: "inputPeerEmpty", id: 0x7f3b18ea, ty: "InputPeer", is_function: false, fields: &[], flag_mask: 0 };

pub static INPUT_PEER_SELF: CtorDef =
    CtorDef { name: "inputPeerSelf", id: 0x7da07ec9, ty: "InputPeer", is_function: false, fields: &[], flag_mask: 0 };

pub static INPUT_PEER_CHAT: CtorDef = CtorDef {
    name: "inputPeerChat",
    id: 0x35a95cb9,
    ty: "InputPeer",
    is_function: false,
    fields: &[field("chat_id", "long")],
    flag_mask: 0,
};

pub static INPUT_PEER_USER: CtorDef = CtorDef {
    name: "inputPeerUser",
    id: 0xdde8a54c,
    ty: "InputPeer",
    is_function: false,
    fields: &[field("user_id", "long"), field("access_hash", "long")],
    flag_mask: 0,
};

pub static INPUT_PEER_CHANNEL: CtorDef = CtorDef {
    name: "inputPeerChannel",
    id: 0x27bcbbfc,
    ty: "InputPeer",
    is_function: false,
    fields: &[field("channel_id", "long"), field("access_hash", "long")],
    flag_mask: 0,
};

pub static INPUT_PEER_USER_FROM_MESSAGE: CtorDef = CtorDef {
    name: "inputPeerUserFromMessage",
    id: 0xa87b0a1c,
    ty: "InputPeer",
    is_function: false,
    fields: &[field("peer", "InputPeer"), field("msg_id", "int"), field("user_id", "long")],
    flag_mask: 0,
};

pub static INPUT_PEER_CHANNEL_FROM_MESSAGE: CtorDef = CtorDef {
    name: "inputPeerChannelFromMessage",
    id: 0xbd2a0840,
    ty: "InputPeer",
    is_function: false,
    fields: &[field("peer", "InputPeer"), field("msg_id", "int"), field("channel_id", "long")],
    flag_mask: 0,
};

pub static STARS_SUBSCRIPTION_PRICING: CtorDef = CtorDef {
    name: "starsSubscriptionPricing",
    id: 0x05416d58,
    ty: "StarsSubscriptionPricing",
    is_function: false,
    fields: &[field("period", "int"), field("amount", "long")],
    flag_mask: 0,
};

pub static CHAT_INVITE_EXPORTED: CtorDef = CtorDef {
    name: "chatInviteExported",
    id: 0xa22cbd96,
    ty: "ExportedChatInvite",
    is_function: false,
    fields: &[
        FLAGS,
        opt("revoked", 0, "true"),
        opt("permanent", 5, "true"),
        opt("request_needed", 6, "true"),
        field("link", "string"),
        field("admin_id", "long"),
        time("date", None),
        time("start_date", Some(4)),
        time("expire_date", Some(1)),
        opt("usage_limit", 2, "int"),
        opt("usage", 3, "int"),
        opt("requested", 7, "int"),
        opt("subscription_expired", 10, "int"),
        opt("title", 8, "string"),
        opt("subscription_pricing", 9, "StarsSubscriptionPricing"),
    ],
    flag_mask: 0b111_1111_1111,
};

pub static CHAT_INVITE_PUBLIC_JOIN_REQUESTS: CtorDef = CtorDef {
    name: "chatInvitePublicJoinRequests",
    id: 0xed107ab7,
    ty: "ExportedChatInvite",
    is_function: false,
    fields: &[],
    flag_mask: 0,
};

pub static RPC_ERROR: CtorDef = CtorDef {
    name: "rpc_error",
    id: 0x2144ca19,
    ty: "RpcError",
    is_function: false,
    fields: &[field("error_code", "int"), field("error_message", "string")],
    flag_mask: 0,
};

/// The seven `InputPeer` constructors, in schema order.
pub static INPUT_PEERS: [&CtorDef; 7] = [
    &INPUT_PEER_EMPTY,
    &INPUT_PEER_SELF,
    &INPUT_PEER_CHAT,
    &INPUT_PEER_USER,
    &INPUT_PEER_CHANNEL,
    &INPUT_PEER_USER_FROM_MESSAGE,
    &INPUT_PEER_CHANNEL_FROM_MESSAGE,
];

/// The `InputPeer` constructor with id `id`.
#[inline]
pub fn input_peer(id: u32) -> Option<&'static CtorDef> {
    Some(match id {
        0x7f3b18ea => &INPUT_PEER_EMPTY,
        0x7da07ec9 => &INPUT_PEER_SELF,
        0x35a95cb9 => &INPUT_PEER_CHAT,
        0xdde8a54c => &INPUT_PEER_USER,
        0x27bcbbfc => &INPUT_PEER_CHANNEL,
        0xa87b0a1c => &INPUT_PEER_USER_FROM_MESSAGE,
        0xbd2a0840 => &INPUT_PEER_CHANNEL_FROM_MESSAGE,
        _ => return None,
    })
}

/// Every constructor of the closure.
pub static CLOSURE: [&CtorDef; 12] = [
    &EXPORT_CHAT_INVITE,
    &INPUT_PEER_EMPTY,
    &INPUT_PEER_SELF,
    &INPUT_PEER_CHAT,
    &INPUT_PEER_USER,
    &INPUT_PEER_CHANNEL,
    &INPUT_PEER_USER_FROM_MESSAGE,
    &INPUT_PEER_CHANNEL_FROM_MESSAGE,
    &STARS_SUBSCRIPTION_PRICING,
    &CHAT_INVITE_EXPORTED,
    &CHAT_INVITE_PUBLIC_JOIN_REQUESTS,
    &RPC_ERROR,
];

/// Constructors outside the closure that turn up where a peer or a frame is
/// expected, so that an error can say "found boolTrue" instead of "unknown".
/// (name, id, what it is)
pub static FOREIGN: &[(&str, u32, &str)] = &[
    ("boolTrue", 0x997275b5, "of type Bool"),
    ("boolFalse", 0xbc799737, "of type Bool"),
    ("vector", 0x1cb5c415, "a vector"),
    ("msg_container", 0x73f1f8dc, "of type MessageContainer"),
    ("rpc_result", 0xf35c6d01, "of type RpcResult"),
    ("gzip_packed", 0x3072cfa1, "a compressed object"),
    ("msgs_ack", 0x62d6b459, "of type MsgsAck"),
    ("bad_msg_notification", 0xa7eff811, "of type BadMsgNotification"),
    ("bad_server_salt", 0xedab447b, "of type BadMsgNotification"),
    ("new_session_created", 0x9ec20908, "of type NewSession"),
    ("ping", 0x7abe77ec, "of type Pong"),
    ("ping_delay_disconnect", 0xf3427b8c, "of type Pong"),
    ("pong", 0x347773c5, "of type Pong"),
    ("invokeWithLayer", 0xda9b0d0d, "a wrapper around a query"),
    ("initConnection", 0xc1cd5ea9, "a wrapper around a query"),
    ("invokeAfterMsg", 0xcb9f372d, "a wrapper around a query"),
    ("invokeAfterMsgs", 0x3dc4b4f0, "a wrapper around a query"),
    ("invokeWithoutUpdates", 0xbf9459b7, "a wrapper around a query"),
    ("invokeWithTakeout", 0xaca9fd2e, "a wrapper around a query"),
    ("invokeWithBusinessConnection", 0xdd289f8e, "a wrapper around a query"),
    ("invokeWithMessagesRange", 0x365275f2, "a wrapper around a query"),
    ("jsonNull", 0x3f6d7b68, "of type JSONValue"),
];

/// The closure constructor with this id.
pub fn ctor_by_id(id: u32) -> Option<&'static CtorDef> {
    CLOSURE.iter().copied().find(|c| c.id == id)
}

/// The closure constructor with this name.
pub fn ctor_by_name(name: &str) -> Option<&'static CtorDef> {
    CLOSURE.iter().copied().find(|c| c.name == name)
}

/// Name and kind ("of type Bool", "a function returning ...") of any
/// constructor this tool knows, in or out of the closure.
pub fn describe_id(id: u32) -> Option<(&'static str, &'static str)> {
    if let Some(c) = ctor_by_id(id) {
        let kind = match (c.is_function, c.ty) {
            (true, _) => "a function returning ExportedChatInvite",
            (false, "InputPeer") => "of type InputPeer",
            (false, "StarsSubscriptionPricing") => "of type StarsSubscriptionPricing",
            (false, "ExportedChatInvite") => "of type ExportedChatInvite",
            (false, _) => "of type RpcError",
        };
        return Some((c.name, kind));
    }
    FOREIGN.iter().find(|(_, i, _)| *i == id).map(|(n, _, t)| (*n, *t))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id TL derives from a line: CRC32 of the line without its id, with
    /// `flags.N?true` fields left out (they are not part of the hashed form).
    fn crc_of_line(c: &CtorDef) -> u32 {
        let mut line = c.name.to_string();
        for f in c.fields.iter().filter(|f| !f.is_true_flag()) {
            line.push_str(&format!(" {}:{}", f.name, f.tl_type()));
        }
        line.push_str(&format!(" = {}", c.ty));
        crc32fast::hash(line.as_bytes())
    }

    #[test]
    fn every_id_is_the_crc_of_its_line() {
        for c in CLOSURE {
            assert_eq!(crc_of_line(c), c.id, "{}", c.tl_line());
        }
    }

    #[test]
    fn flag_masks_match_the_fields() {
        for c in CLOSURE {
            let mask = c.fields.iter().filter_map(|f| f.flag).fold(0u32, |m, b| m | 1 << b);
            assert_eq!(mask, c.flag_mask, "{}", c.name);
        }
    }

    #[test]
    fn the_lines_read_as_in_protocol_md() {
        assert_eq!(
            EXPORT_CHAT_INVITE.tl_line(),
            "messages.exportChatInvite#a455de90 flags:# legacy_revoke_permanent:flags.2?true \
             request_needed:flags.3?true peer:InputPeer expire_date:flags.0?int \
             usage_limit:flags.1?int title:flags.4?string \
             subscription_pricing:flags.5?StarsSubscriptionPricing = ExportedChatInvite;"
        );
        assert_eq!(
            STARS_SUBSCRIPTION_PRICING.tl_line(),
            "starsSubscriptionPricing#5416d58 period:int amount:long = StarsSubscriptionPricing;"
        );
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<u32> = CLOSURE.iter().map(|c| c.id).chain(FOREIGN.iter().map(|f| f.1)).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CLOSURE.len() + FOREIGN.len());
    }

    #[test]
    fn the_input_peer_lookup_finds_exactly_the_input_peers() {
        for c in CLOSURE {
            let expected = INPUT_PEERS.iter().any(|p| p.id == c.id).then_some(c.name);
            assert_eq!(input_peer(c.id).map(|p| p.name), expected, "{}", c.name);
        }
        for &(_, id, _) in FOREIGN.iter() {
            assert!(input_peer(id).is_none(), "{id:08x}");
        }
    }
}
