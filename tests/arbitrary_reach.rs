//! The `Arbitrary` impls behind the fuzz targets can reach every shape the
//! targets are meant to explore: drawn from deterministic pseudo-random
//! bytes, the values cover every flag combination of the request, every
//! `InputPeer` constructor (at the top and nested), every optional field of
//! the answer, both answer constructors, and every string length class.
//! A fuzzer cannot find what its value generator cannot produce.

use std::collections::BTreeSet;

use arbitrary::{Arbitrary, Unstructured};
use inspector::tl::arbitrary::MAX_ARBITRARY_DEPTH;
use inspector::tl::{ExportChatInvite, ExportedChatInvite, InputPeer, RpcError, TlString};
use inspector_tests::rng::XorShift;

/// xorshift64*: enough randomness for drawing inputs, and reproducible.
/// Between 16 and 527 random bytes: fuzz-input sized.
fn input(rng: &mut XorShift) -> Vec<u8> {
    let len = 16 + (rng.next_u64() % 512) as usize;
    rng.bytes(len)
}

const DRAWS: usize = 20_000;

fn peer_kind(p: &InputPeer) -> usize {
    match p {
        InputPeer::Empty => 0,
        InputPeer::PeerSelf => 1,
        InputPeer::Chat { .. } => 2,
        InputPeer::User { .. } => 3,
        InputPeer::Channel { .. } => 4,
        InputPeer::UserFromMessage { .. } => 5,
        InputPeer::ChannelFromMessage { .. } => 6,
    }
}

/// Every peer of a (possibly nested) peer, outermost first.
fn peer_chain(p: &InputPeer) -> Vec<&InputPeer> {
    let mut out = vec![p];
    let mut cur = p;
    while let InputPeer::UserFromMessage { peer, .. } | InputPeer::ChannelFromMessage { peer, .. } = cur {
        out.push(peer);
        cur = peer;
    }
    out
}

/// The length class of a string: empty, short form, long form; and whether
/// it has a multi-byte character.
fn length_class(s: &TlString) -> &'static str {
    match s.len() {
        0 => "empty",
        1..=253 => "short",
        _ => "long",
    }
}

#[test]
fn requests_reach_every_flag_combination_and_peer_kind() {
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    let mut flags = BTreeSet::new();
    let mut top_kinds = BTreeSet::new();
    let mut nested_kinds = BTreeSet::new();
    let mut depths = BTreeSet::new();
    let mut title_classes = BTreeSet::new();
    let mut multibyte_title = false;
    for _ in 0..DRAWS {
        let data = input(&mut rng);
        let Ok(r) = ExportChatInvite::arbitrary(&mut Unstructured::new(&data)) else {
            continue;
        };
        flags.insert(r.flags());
        top_kinds.insert(peer_kind(&r.peer));
        let chain = peer_chain(&r.peer);
        for inner in &chain[1..] {
            nested_kinds.insert(peer_kind(inner));
        }
        depths.insert(chain.len());
        if let Some(t) = &r.title {
            title_classes.insert(length_class(t));
            multibyte_title |= t.as_str().is_some_and(|s| s.chars().any(|c| c.len_utf8() > 1));
        }
    }
    let missing: Vec<u32> = (0..64).filter(|f| !flags.contains(f)).collect();
    assert!(missing.is_empty(), "flag combinations never drawn: {missing:?}");
    assert_eq!(top_kinds.len(), 7, "InputPeer kinds drawn at the top: {top_kinds:?}");
    assert_eq!(nested_kinds.len(), 7, "InputPeer kinds drawn nested: {nested_kinds:?}");
    let deepest = depths.iter().max().copied().unwrap_or(0);
    assert_eq!(deepest, MAX_ARBITRARY_DEPTH, "peers nest up to the bound, and not past it: {depths:?}");
    assert_eq!(title_classes.len(), 3, "title length classes drawn: {title_classes:?}");
    assert!(multibyte_title, "no title with a multi-byte character was drawn");
}

#[test]
fn answers_reach_every_optional_field_and_both_constructors() {
    let mut rng = XorShift(0xfeed_f00d_dead_beef);
    let mut public_join_requests = false;
    let mut set = 0u32;
    let mut clear = 0u32;
    let mut link_classes = BTreeSet::new();
    let mut error_classes = BTreeSet::new();
    for _ in 0..DRAWS {
        let data = input(&mut rng);
        let mut u = Unstructured::new(&data);
        match ExportedChatInvite::arbitrary(&mut u) {
            Ok(ExportedChatInvite::PublicJoinRequests) => public_join_requests = true,
            Ok(ExportedChatInvite::Exported(e)) => {
                set |= e.flags();
                clear |= !e.flags();
                link_classes.insert(length_class(&e.link));
            }
            Err(_) => {}
        }
        if let Ok(e) = RpcError::arbitrary(&mut Unstructured::new(&data)) {
            error_classes.insert(length_class(&e.error_message));
        }
    }
    assert!(public_join_requests, "chatInvitePublicJoinRequests never drawn");
    // chatInviteExported defines flag bits 0..=10.
    assert_eq!(set & 0x7ff, 0x7ff, "flag bits never set: {:#05x}", !set & 0x7ff);
    assert_eq!(clear & 0x7ff, 0x7ff, "flag bits never clear: {:#05x}", !clear & 0x7ff);
    assert_eq!(link_classes.len(), 3, "link length classes drawn: {link_classes:?}");
    assert_eq!(error_classes.len(), 3, "error_message length classes drawn: {error_classes:?}");
}
