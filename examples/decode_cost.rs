//! A deterministic cost probe for the codec benchmark's frames: decodes one
//! frame many times with the typed decoder or the schema-driven one, in a
//! function of its own, so that `valgrind --tool=callgrind` can count the
//! instructions of just that loop (criterion's timings wander on a loaded
//! machine; instruction counts do not):
//!
//!     cargo build --release --example decode_cost
//!     valgrind --tool=callgrind --toggle-collect='*decode_loop*' \
//!         target/release/examples/decode_cost typical schema 1000
//!
//! Divide the collected instructions by the count. Frames: minimal,
//! typical, maximal (as in benches/codec.rs); decoders: typed, schema.

use std::hint::black_box;

use inspector::tl::dynamic::{Expect, Schema};
use inspector::tl::{
    DecodeOptions, ExportChatInvite, InputPeer, NoTrace, StarsSubscriptionPricing, TlObject, TlString,
};

fn frame(name: &str) -> ExportChatInvite {
    match name {
        "minimal" => ExportChatInvite::new(InputPeer::PeerSelf),
        "typical" => ExportChatInvite {
            request_needed: true,
            title: Some(TlString::from("Team invite")),
            subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 }),
            ..ExportChatInvite::new(InputPeer::Channel { channel_id: 1_234_567_890, access_hash: -42 })
        },
        "maximal" => ExportChatInvite {
            legacy_revoke_permanent: true,
            request_needed: true,
            expire_date: Some(1_800_000_000),
            usage_limit: Some(10),
            title: Some(TlString::from("x".repeat(255))),
            subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 }),
            ..ExportChatInvite::new(InputPeer::UserFromMessage {
                peer: Box::new(InputPeer::ChannelFromMessage {
                    peer: Box::new(InputPeer::User { user_id: 1, access_hash: 2 }),
                    msg_id: 3,
                    channel_id: 4,
                }),
                msg_id: 5,
                user_id: 6,
            })
        },
        other => panic!("unknown frame {other}: minimal, typical or maximal"),
    }
}

#[inline(never)]
fn decode_loop(bytes: &[u8], schema: Option<&Schema>, count: usize) -> usize {
    let mut ok = 0;
    for _ in 0..count {
        ok += usize::from(match schema {
            Some(s) => s.decode_with_sink(black_box(bytes), &Expect::Any, DecodeOptions::strict(), NoTrace).0.is_ok(),
            None => ExportChatInvite::from_bytes(black_box(bytes)).is_ok(),
        });
    }
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (name, decoder) = (args.get(1).map_or("typical", String::as_str), args.get(2).map_or("schema", String::as_str));
    let count: usize = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(1000);
    let bytes = frame(name).to_bytes().expect("encodable");
    let schema = (decoder == "schema").then(Schema::builtin);
    // Warm the schema and the allocator outside the counted loop.
    decode_loop(&bytes, schema, 1);
    let ok = decode_loop(&bytes, schema, count);
    assert_eq!(ok, count);
}
