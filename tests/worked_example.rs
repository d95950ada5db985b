//! The worked example of protocol.md section 2, checked byte for byte: its
//! bytes were produced by two independent libraries, not by this project.

use inspector::tl::json::TlJson;
use inspector::tl::{ExportChatInvite, Frame, InputPeer, StarsSubscriptionPricing, TlObject, TlString};

const WORKED_EXAMPLE_HEX: &str = "\
    90de55a4 39000000 40082abd 4ca5e8dd 0100000000000000 0200000000000000 \
    03000000 0400000000000000 64000000 01740000 586d4105 008d2700 0500000000000000";

fn worked_example_bytes() -> Vec<u8> {
    inspector::hex::parse(WORKED_EXAMPLE_HEX).unwrap()
}

fn worked_example_value() -> ExportChatInvite {
    ExportChatInvite {
        legacy_revoke_permanent: false,
        request_needed: true,
        peer: InputPeer::ChannelFromMessage {
            peer: Box::new(InputPeer::User { user_id: 1, access_hash: 2 }),
            msg_id: 3,
            channel_id: 4,
        },
        expire_date: Some(100),
        usage_limit: None,
        title: Some(TlString::from("t")),
        subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 5 }),
    }
}

#[test]
fn encodes_to_the_published_bytes() {
    let bytes = worked_example_value().to_bytes().unwrap();
    assert_eq!(bytes.len(), 68);
    assert_eq!(bytes, worked_example_bytes());
}

#[test]
fn decodes_from_the_published_bytes() {
    assert_eq!(ExportChatInvite::from_bytes(&worked_example_bytes()).unwrap(), worked_example_value());
    assert_eq!(Frame::from_bytes(&worked_example_bytes()).unwrap(), Frame::Request(worked_example_value()));
}

#[test]
fn flags_word_is_57() {
    // request_needed (bit 3), expire_date (0), title (4), subscription_pricing (5).
    assert_eq!(worked_example_value().flags(), 0b11_1001);
}

#[test]
fn json_round_trip_matches_the_canonical_form() {
    let json = worked_example_value().to_json();
    let expected: serde_json::Value = serde_json::from_str(
        r#"{"_": "messages.exportChatInvite", "flags": 57, "legacy_revoke_permanent": false,
            "request_needed": true,
            "peer": {"_": "inputPeerChannelFromMessage",
                     "peer": {"_": "inputPeerUser", "user_id": 1, "access_hash": 2},
                     "msg_id": 3, "channel_id": 4},
            "expire_date": 100, "usage_limit": null, "title": "t",
            "subscription_pricing": {"_": "starsSubscriptionPricing", "period": 2592000, "amount": 5}}"#,
    )
    .unwrap();
    assert_eq!(json, expected);
    assert_eq!(ExportChatInvite::from_json(&json).unwrap(), worked_example_value());
}

#[test]
fn protocol_md_json_example_encodes() {
    // The canonical JSON example of protocol.md section 3.
    let json: serde_json::Value = serde_json::from_str(
        r#"{"_": "messages.exportChatInvite", "flags": 57, "legacy_revoke_permanent": false,
            "request_needed": true, "peer": {"_": "inputPeerEmpty"}, "expire_date": 1800000000,
            "usage_limit": null, "title": "Layer 223", "subscription_pricing":
            {"_": "starsSubscriptionPricing", "period": 2592000, "amount": 250}}"#,
    )
    .unwrap();
    let value = Frame::from_json(&json).unwrap();
    let bytes = value.to_bytes().unwrap();
    assert_eq!(Frame::from_bytes(&bytes).unwrap().to_json(), json);
}
