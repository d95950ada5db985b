//! Conversions between our values and `grammers-tl-types` (layer 230, whose
//! definitions of these constructors are identical to layer 223's).
//!
//! Where grammers is laxer than our strict decoder, on bytes it accepts and
//! we reject (so a differential check must only compare inputs we accept):
//! - trailing bytes after the object: `from_bytes` ignores them;
//! - flag bits the constructor does not define: ignored;
//! - non-zero string padding: skipped unread;
//! - the long length form (0xfe) for a string below 254 bytes: accepted;
//! - a first length byte of 0xff: read as a short length of 255;
//! - invalid UTF-8 in a `string`: replaced lossily with U+FFFD;
//! - a string length beyond the input: it allocates the claimed length
//!   (up to 16 MiB) before finding out that the bytes are missing.
//!
//! And `from_bytes` of a function (`messages.ExportChatInvite`) expects the
//! bytes after the constructor id, while its `to_bytes` writes the id.

use grammers_tl_types as gt;
use gt::{Deserializable, Serializable};
use inspector::tl::{
    ChatInviteExported, ExportChatInvite, ExportedChatInvite, InputPeer, RpcError, StarsSubscriptionPricing, TlString,
};

/// Our strings are bytes; grammers' are `String`. Only UTF-8 converts.
fn text(s: &TlString) -> String {
    s.as_str().expect("only UTF-8 strings convert to grammers").to_string()
}

pub fn peer_to(p: &InputPeer) -> gt::enums::InputPeer {
    use gt::enums::InputPeer as G;
    match p {
        InputPeer::Empty => G::Empty,
        InputPeer::PeerSelf => G::PeerSelf,
        InputPeer::Chat { chat_id } => G::Chat(gt::types::InputPeerChat { chat_id: *chat_id }),
        InputPeer::User { user_id, access_hash } => {
            G::User(gt::types::InputPeerUser { user_id: *user_id, access_hash: *access_hash })
        }
        InputPeer::Channel { channel_id, access_hash } => {
            G::Channel(gt::types::InputPeerChannel { channel_id: *channel_id, access_hash: *access_hash })
        }
        InputPeer::UserFromMessage { peer, msg_id, user_id } => {
            G::UserFromMessage(Box::new(gt::types::InputPeerUserFromMessage {
                peer: peer_to(peer),
                msg_id: *msg_id,
                user_id: *user_id,
            }))
        }
        InputPeer::ChannelFromMessage { peer, msg_id, channel_id } => {
            G::ChannelFromMessage(Box::new(gt::types::InputPeerChannelFromMessage {
                peer: peer_to(peer),
                msg_id: *msg_id,
                channel_id: *channel_id,
            }))
        }
    }
}

pub fn peer_from(p: &gt::enums::InputPeer) -> InputPeer {
    use gt::enums::InputPeer as G;
    match p {
        G::Empty => InputPeer::Empty,
        G::PeerSelf => InputPeer::PeerSelf,
        G::Chat(c) => InputPeer::Chat { chat_id: c.chat_id },
        G::User(u) => InputPeer::User { user_id: u.user_id, access_hash: u.access_hash },
        G::Channel(c) => InputPeer::Channel { channel_id: c.channel_id, access_hash: c.access_hash },
        G::UserFromMessage(m) => {
            InputPeer::UserFromMessage { peer: Box::new(peer_from(&m.peer)), msg_id: m.msg_id, user_id: m.user_id }
        }
        G::ChannelFromMessage(m) => InputPeer::ChannelFromMessage {
            peer: Box::new(peer_from(&m.peer)),
            msg_id: m.msg_id,
            channel_id: m.channel_id,
        },
    }
}

fn pricing_to(p: &StarsSubscriptionPricing) -> gt::enums::StarsSubscriptionPricing {
    gt::enums::StarsSubscriptionPricing::Pricing(gt::types::StarsSubscriptionPricing {
        period: p.period,
        amount: p.amount,
    })
}

fn pricing_from(p: &gt::enums::StarsSubscriptionPricing) -> StarsSubscriptionPricing {
    let gt::enums::StarsSubscriptionPricing::Pricing(p) = p;
    StarsSubscriptionPricing { period: p.period, amount: p.amount }
}

pub fn request_to(r: &ExportChatInvite) -> gt::functions::messages::ExportChatInvite {
    gt::functions::messages::ExportChatInvite {
        legacy_revoke_permanent: r.legacy_revoke_permanent,
        request_needed: r.request_needed,
        peer: peer_to(&r.peer),
        expire_date: r.expire_date,
        usage_limit: r.usage_limit,
        title: r.title.as_ref().map(text),
        subscription_pricing: r.subscription_pricing.as_ref().map(pricing_to),
    }
}

pub fn request_from(g: &gt::functions::messages::ExportChatInvite) -> ExportChatInvite {
    ExportChatInvite {
        legacy_revoke_permanent: g.legacy_revoke_permanent,
        request_needed: g.request_needed,
        peer: peer_from(&g.peer),
        expire_date: g.expire_date,
        usage_limit: g.usage_limit,
        title: g.title.as_deref().map(TlString::from),
        subscription_pricing: g.subscription_pricing.as_ref().map(pricing_from),
    }
}

pub fn answer_to(a: &ExportedChatInvite) -> gt::enums::ExportedChatInvite {
    match a {
        ExportedChatInvite::PublicJoinRequests => gt::enums::ExportedChatInvite::ChatInvitePublicJoinRequests,
        ExportedChatInvite::Exported(e) => {
            gt::enums::ExportedChatInvite::ChatInviteExported(gt::types::ChatInviteExported {
                revoked: e.revoked,
                permanent: e.permanent,
                request_needed: e.request_needed,
                link: text(&e.link),
                admin_id: e.admin_id,
                date: e.date,
                start_date: e.start_date,
                expire_date: e.expire_date,
                usage_limit: e.usage_limit,
                usage: e.usage,
                requested: e.requested,
                subscription_expired: e.subscription_expired,
                title: e.title.as_ref().map(text),
                subscription_pricing: e.subscription_pricing.as_ref().map(pricing_to),
            })
        }
    }
}

pub fn answer_from(g: &gt::enums::ExportedChatInvite) -> ExportedChatInvite {
    match g {
        gt::enums::ExportedChatInvite::ChatInvitePublicJoinRequests => ExportedChatInvite::PublicJoinRequests,
        gt::enums::ExportedChatInvite::ChatInviteExported(e) => ExportedChatInvite::Exported(ChatInviteExported {
            revoked: e.revoked,
            permanent: e.permanent,
            request_needed: e.request_needed,
            link: TlString::from(e.link.as_str()),
            admin_id: e.admin_id,
            date: e.date,
            start_date: e.start_date,
            expire_date: e.expire_date,
            usage_limit: e.usage_limit,
            usage: e.usage,
            requested: e.requested,
            subscription_expired: e.subscription_expired,
            title: e.title.as_deref().map(TlString::from),
            subscription_pricing: e.subscription_pricing.as_ref().map(pricing_from),
        }),
    }
}

pub fn rpc_error_to(e: &RpcError) -> gt::enums::RpcError {
    gt::enums::RpcError::Error(gt::types::RpcError { error_code: e.error_code, error_message: text(&e.error_message) })
}

pub fn rpc_error_from(g: &gt::enums::RpcError) -> RpcError {
    let gt::enums::RpcError::Error(e) = g;
    RpcError { error_code: e.error_code, error_message: TlString::from(e.error_message.as_str()) }
}

/// grammers' encoding of a request.
pub fn encode_request(r: &ExportChatInvite) -> Vec<u8> {
    request_to(r).to_bytes()
}

/// grammers' decoding of a request's bytes (constructor id included, which
/// grammers' function decoder does not read: it is checked and skipped here).
pub fn decode_request(bytes: &[u8]) -> Option<ExportChatInvite> {
    let id = bytes.get(..4)?;
    // The id as grammers knows it (not ours: this is the independent side).
    if id != <gt::functions::messages::ExportChatInvite as gt::Identifiable>::CONSTRUCTOR_ID.to_le_bytes() {
        return None;
    }
    gt::functions::messages::ExportChatInvite::from_bytes(&bytes[4..]).ok().map(|g| request_from(&g))
}

pub fn encode_answer(a: &ExportedChatInvite) -> Vec<u8> {
    answer_to(a).to_bytes()
}

pub fn decode_answer(bytes: &[u8]) -> Option<ExportedChatInvite> {
    gt::enums::ExportedChatInvite::from_bytes(bytes).ok().map(|g| answer_from(&g))
}

pub fn encode_rpc_error(e: &RpcError) -> Vec<u8> {
    rpc_error_to(e).to_bytes()
}

pub fn decode_rpc_error(bytes: &[u8]) -> Option<RpcError> {
    gt::enums::RpcError::from_bytes(bytes).ok().map(|g| rpc_error_from(&g))
}

pub fn encode_peer(p: &InputPeer) -> Vec<u8> {
    peer_to(p).to_bytes()
}

/// grammers' decoding of a request's bytes after the constructor id, without
/// converting the result (for benchmarks).
pub fn decode_request_raw(bytes: &[u8]) -> Option<gt::functions::messages::ExportChatInvite> {
    gt::functions::messages::ExportChatInvite::from_bytes(bytes.get(4..)?).ok()
}

/// grammers' decoding of an answer, without converting the result.
pub fn decode_answer_raw(bytes: &[u8]) -> Option<gt::enums::ExportedChatInvite> {
    gt::enums::ExportedChatInvite::from_bytes(bytes).ok()
}

/// grammers' encoding of any of its values.
pub fn to_bytes(value: &impl Serializable) -> Vec<u8> {
    value.to_bytes()
}
