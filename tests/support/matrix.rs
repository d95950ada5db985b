//! The snapshot matrix: every combination of the six optional fields of
//! `messages.exportChatInvite` with every `InputPeer` constructor (the two
//! `*FromMessage` ones wrapping each kind), and a matrix of answers.

use inspector::tl::{
    ChatInviteExported, ExportChatInvite, ExportedChatInvite, InputPeer, RpcError, StarsSubscriptionPricing, TlString,
};

/// The five peers that do not nest.
pub fn plain_peers() -> Vec<(&'static str, InputPeer)> {
    vec![
        ("empty", InputPeer::Empty),
        ("self", InputPeer::PeerSelf),
        ("chat", InputPeer::Chat { chat_id: 4_000_000_000 }),
        ("user", InputPeer::User { user_id: 777_000, access_hash: -8_070_450_532_247_928_832 }),
        ("channel", InputPeer::Channel { channel_id: 1_234_567_890_123, access_hash: i64::MAX }),
    ]
}

/// Every peer of the matrix: the five plain ones, then each `*FromMessage`
/// wrapping each of the seven kinds (a nested one wrapping a user).
pub fn peers() -> Vec<(String, InputPeer)> {
    let mut out: Vec<(String, InputPeer)> = plain_peers().into_iter().map(|(n, p)| (n.to_string(), p)).collect();
    let mut inner: Vec<(String, InputPeer)> = plain_peers().into_iter().map(|(n, p)| (n.to_string(), p)).collect();
    let user = InputPeer::User { user_id: 42, access_hash: 43 };
    inner.push((
        "user_from_message(user)".into(),
        InputPeer::UserFromMessage { peer: Box::new(user.clone()), msg_id: 7, user_id: 8 },
    ));
    inner.push((
        "channel_from_message(user)".into(),
        InputPeer::ChannelFromMessage { peer: Box::new(user), msg_id: 9, channel_id: 10 },
    ));
    for (name, p) in &inner {
        out.push((
            format!("user_from_message({name})"),
            InputPeer::UserFromMessage { peer: Box::new(p.clone()), msg_id: 31337, user_id: 424_242 },
        ));
    }
    for (name, p) in &inner {
        out.push((
            format!("channel_from_message({name})"),
            InputPeer::ChannelFromMessage { peer: Box::new(p.clone()), msg_id: -1, channel_id: 1_000_000_001 },
        ));
    }
    out
}

/// The request with the optional fields chosen by the six bits of `mask`
/// (bit order as on the wire: 0 expire_date, 1 usage_limit,
/// 2 legacy_revoke_permanent, 3 request_needed, 4 title, 5 subscription_pricing).
pub fn request(mask: u32, peer: InputPeer) -> ExportChatInvite {
    let has = |bit: u32| mask & (1 << bit) != 0;
    ExportChatInvite {
        legacy_revoke_permanent: has(2),
        request_needed: has(3),
        peer,
        expire_date: has(0).then_some(1_800_000_000),
        usage_limit: has(1).then_some(10),
        title: has(4).then(|| TlString::from("Layer 223 🔗")),
        subscription_pricing: has(5).then_some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 }),
    }
}

/// The request with every optional field, around a peer nested two deep.
pub fn full_request() -> ExportChatInvite {
    let peer = peers().into_iter().find(|(name, _)| name == "channel_from_message(user_from_message(user))");
    request(63, peer.expect("the matrix has this peer").1)
}

/// Every (label, request) of the matrix: 64 flag combinations × every peer.
pub fn requests() -> Vec<(String, ExportChatInvite)> {
    let mut out = Vec::new();
    for (peer_name, peer) in peers() {
        for mask in 0..64 {
            out.push((format!("flags={mask:#04x} peer={peer_name}"), request(mask, peer.clone())));
        }
    }
    out
}

/// The answer with the optional fields chosen by the eleven bits of `mask`
/// (the wire's flag bits of chatInviteExported).
pub fn answer(mask: u32) -> ChatInviteExported {
    let has = |bit: u32| mask & (1 << bit) != 0;
    ChatInviteExported {
        revoked: has(0),
        permanent: has(5),
        request_needed: has(6),
        link: TlString::from("https://t.me/+9ca557d0505b41d0"),
        admin_id: 777_000,
        date: 1_760_000_000,
        start_date: has(4).then_some(1_760_000_100),
        expire_date: has(1).then_some(1_800_000_000),
        usage_limit: has(2).then_some(100),
        usage: has(3).then_some(0),
        requested: has(7).then_some(3),
        subscription_expired: has(10).then_some(7),
        title: has(8).then(|| TlString::from("招待 ссылка")),
        subscription_pricing: has(9).then_some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 }),
    }
}

/// The answers whose trees are snapshotted: no optional field, each one alone,
/// all of them, the other constructor, and error answers.
pub fn snapshot_answers() -> Vec<(String, inspector::tl::Frame)> {
    let mut out = vec![("chatInviteExported flags=0".to_string(), ExportedChatInvite::Exported(answer(0)).into())];
    for bit in 0..11 {
        out.push((format!("chatInviteExported flags=1<<{bit}"), ExportedChatInvite::Exported(answer(1 << bit)).into()));
    }
    out.push(("chatInviteExported flags=0x7ff".into(), ExportedChatInvite::Exported(answer(0x7ff)).into()));
    out.push(("chatInvitePublicJoinRequests".into(), ExportedChatInvite::PublicJoinRequests.into()));
    for (code, msg) in [(400, "CHAT_ADMIN_REQUIRED"), (420, "FLOOD_WAIT_42"), (-503, "Timeout")] {
        out.push((format!("rpc_error {code}"), RpcError { error_code: code, error_message: msg.into() }.into()));
    }
    out
}
