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
//! typical, maximal, worked_example, answer (as in benches/codec.rs);
//! decoders: typed, schema, typed-traced, schema-traced (the traced ones
//! record into one `Recorder` kept from call to call, as the benchmark does).

use std::hint::black_box;

use inspector::tl::dynamic::{Expect, Schema};
use inspector::tl::{
    decode_traced_into, DecodeOptions, ExportChatInvite, ExportedChatInvite, InputPeer, NoTrace, Recorder,
    StarsSubscriptionPricing, TlObject, TlString,
};
use inspector_tests::matrix;

/// The frame's bytes, and whether it is the answer (else the request).
fn frame(name: &str) -> (Vec<u8>, bool) {
    if name == "answer" {
        let answer = ExportedChatInvite::Exported(matrix::answer(0x7ff));
        return (answer.to_bytes().expect("encodable"), true);
    }
    (request(name).to_bytes().expect("encodable"), false)
}

fn request(name: &str) -> ExportChatInvite {
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
        "worked_example" => ExportChatInvite {
            request_needed: true,
            expire_date: Some(100),
            title: Some(TlString::from("t")),
            subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 5 }),
            ..ExportChatInvite::new(InputPeer::ChannelFromMessage {
                peer: Box::new(InputPeer::User { user_id: 1, access_hash: 2 }),
                msg_id: 3,
                channel_id: 4,
            })
        },
        other => panic!("unknown frame {other}: minimal, typical, maximal, worked_example or answer"),
    }
}

/// The counted loop: `decode` once per iteration (the decoder is chosen
/// outside it, so that the loop holds nothing but the decode).
#[inline(never)]
fn decode_loop(count: usize, mut decode: impl FnMut() -> bool) -> usize {
    let mut ok = 0;
    for _ in 0..count {
        ok += usize::from(decode());
    }
    ok
}

fn run(bytes: &[u8], decoder: &str, answer: bool, count: usize) -> usize {
    let schema = Schema::builtin();
    let opts = DecodeOptions::strict();
    let mut recorder = Recorder::default();
    let twice = |decode: &mut dyn FnMut() -> bool| {
        // Warm the schema, the recorder and the allocator outside the counted loop.
        decode_loop(1, &mut *decode);
        decode_loop(count, decode)
    };
    match (decoder, answer) {
        ("schema", _) => {
            twice(&mut || schema.decode_with_sink(black_box(bytes), &Expect::Any, opts, NoTrace).0.is_ok())
        }
        ("schema-traced", _) => twice(&mut || schema.decode_traced(black_box(bytes), opts, &mut recorder).is_ok()),
        ("typed", false) => twice(&mut || ExportChatInvite::from_bytes(black_box(bytes)).is_ok()),
        ("typed", true) => twice(&mut || ExportedChatInvite::from_bytes(black_box(bytes)).is_ok()),
        ("typed-traced", false) => {
            twice(&mut || decode_traced_into::<ExportChatInvite>(black_box(bytes), opts, &mut recorder).is_ok())
        }
        ("typed-traced", true) => {
            twice(&mut || decode_traced_into::<ExportedChatInvite>(black_box(bytes), opts, &mut recorder).is_ok())
        }
        (other, _) => panic!("unknown decoder {other}: typed, schema, typed-traced or schema-traced"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (name, decoder) = (args.get(1).map_or("typical", String::as_str), args.get(2).map_or("schema", String::as_str));
    let count: usize = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(1000);
    let (bytes, answer) = frame(name);
    assert_eq!(run(&bytes, decoder, answer, count), count);
}
