//! The service layer on bodies assembled here: every invoke* wrapper and
//! its JSON form, initConnection's JSON params (and their errors), the
//! service messages' fields, and each kind of damage inside a wrapper, as
//! the one line it becomes (offset, field, problem).

use inspector::service::{unwrap_message, Content, ServiceOptions, Unwrapped};
use inspector::tl::ids;
use serde_json::json;

/// A TL body built word by word.
#[derive(Default)]
struct Body(Vec<u8>);

impl Body {
    fn id(mut self, id: u32) -> Self {
        self.0.extend_from_slice(&id.to_le_bytes());
        self
    }
    fn int(self, v: i32) -> Self {
        self.id(v as u32)
    }
    fn long(mut self, v: i64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn string(mut self, s: &str) -> Self {
        assert!(s.len() < 254);
        self.0.push(s.len() as u8);
        self.0.extend_from_slice(s.as_bytes());
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
        self
    }
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
}

/// messages.exportChatInvite for inputPeerSelf, no flags.
fn request() -> Vec<u8> {
    Body::default().id(ids::EXPORT_CHAT_INVITE).int(0).id(0x7da0_7ec9).0
}

fn unwrap(body: &[u8]) -> Vec<Unwrapped> {
    unwrap_message(body, 1000, 3, ServiceOptions::default())
}

/// The one thing found in `body`, which must be malformed: its line.
fn malformed(body: &[u8]) -> String {
    let found = unwrap(body);
    assert_eq!(found.len(), 1, "{found:?}");
    match &found[0].content {
        Content::Malformed(e) => e.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_invoke_wrapper_is_unwrapped_and_named_in_json() {
    let body = Body::default()
        .id(ids::INVOKE_AFTER_MSGS)
        .id(ids::VECTOR)
        .int(2)
        .long(11)
        .long(12)
        .id(ids::INVOKE_WITHOUT_UPDATES)
        .id(ids::INVOKE_WITH_TAKEOUT)
        .long(77)
        .id(ids::INVOKE_WITH_BUSINESS_CONNECTION)
        .string("conn")
        .id(ids::INVOKE_WITH_MESSAGES_RANGE)
        .id(ids::MESSAGE_RANGE)
        .int(5)
        .int(9)
        .id(ids::INVOKE_AFTER_MSG)
        .long(13)
        .raw(&request())
        .0;
    let found = unwrap(&body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].content, Content::Request(request()));
    let chain: Vec<serde_json::Value> = found[0].wrapping.iter().map(|w| w.to_json()).collect();
    assert_eq!(
        chain,
        [
            json!({"_": "invokeAfterMsgs", "msg_ids": [11, 12]}),
            json!({"_": "invokeWithoutUpdates"}),
            json!({"_": "invokeWithTakeout", "takeout_id": 77}),
            json!({"_": "invokeWithBusinessConnection", "connection_id": "conn"}),
            json!({"_": "invokeWithMessagesRange", "range": {"_": "messageRange", "min_id": 5, "max_id": 9}}),
            json!({"_": "invokeAfterMsg", "msg_id": 13}),
        ]
    );
    assert_eq!(
        inspector::service::chain_text(&found[0].wrapping),
        "invokeAfterMsgs › invokeWithoutUpdates › invokeWithTakeout › invokeWithBusinessConnection › \
         invokeWithMessagesRange › invokeAfterMsg"
    );
}

#[test]
fn damaged_vectors_and_ranges_inside_wrappers() {
    // invokeAfterMsgs with a vector id that is not Vector.
    let body = Body::default().id(ids::INVOKE_AFTER_MSGS).id(0x1234_5678).int(0).raw(&request()).0;
    assert_eq!(malformed(&body), "error at byte 0x4 in invokeAfterMsgs.msg_ids: unknown Vector constructor 0x12345678");
    // ... and a count of longs the body cannot hold (16 bytes follow it).
    let body = Body::default().id(ids::INVOKE_AFTER_MSGS).id(ids::VECTOR).int(3).long(1).long(2).0;
    assert_eq!(
        malformed(&body),
        "error at byte 0x8 in invokeAfterMsgs.msg_ids: vector length 3 claims more bytes than the 16 that remain"
    );
    let body = Body::default().id(ids::INVOKE_WITH_MESSAGES_RANGE).id(ids::VECTOR).int(1).int(2).raw(&request()).0;
    assert_eq!(
        malformed(&body),
        "error at byte 0x4 in invokeWithMessagesRange.range: unknown MessageRange constructor 0x1cb5c415"
    );
}

#[test]
fn damage_in_a_gzip_packed_string_and_after_a_containers_last_message() {
    // gzip_packed whose packed_data starts with the undefined length byte 0xff.
    let body = Body::default().id(ids::GZIP_PACKED).raw(&[0xff, 0, 0, 0]).0;
    assert_eq!(
        malformed(&body),
        "error at byte 0x4 in gzip_packed.packed_data: string length byte 0xff is not defined by TL \
         (expected a length below 254, or 0xfe and a 3-byte length)"
    );
    // A container of one message, then 4 bytes that belong to none.
    let inner = request();
    let body = Body::default()
        .id(ids::MSG_CONTAINER)
        .int(1)
        .long(2000)
        .int(1)
        .int(inner.len() as i32)
        .raw(&inner)
        .raw(&[1, 2, 3, 4])
        .0;
    let found = unwrap(&body);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[0].msg_id, &found[0].content), (2000, &Content::Request(inner.clone())));
    let Content::Malformed(e) = &found[1].content else { panic!("{found:?}") };
    let at = 8 + 16 + inner.len();
    assert_eq!(
        e.to_string(),
        format!("error at byte 0x{at:x} in msg_container: 4 bytes left over after the last message")
    );
}

#[test]
fn service_messages_give_their_fields_or_the_field_they_lack() {
    let ping = Body::default().id(ids::PING_DELAY_DISCONNECT).long(42).int(75).0;
    let found = unwrap(&ping);
    let Content::Service(m) = &found[0].content else { panic!("{found:?}") };
    assert_eq!(m.to_json(), json!({"_": "ping_delay_disconnect", "ping_id": 42, "disconnect_delay": 75}));
    assert_eq!(m.summary(), "ping_delay_disconnect ping_id=42 disconnect_delay=75");
    let bad = Body::default().id(ids::BAD_MSG_NOTIFICATION).long(7).int(2).int(16).0;
    let found = unwrap(&bad);
    let Content::Service(m) = &found[0].content else { panic!("{found:?}") };
    assert_eq!(m.summary(), "bad_msg_notification bad_msg_id=7 bad_msg_seqno=2 error_code=16");
    // msgs_ack whose vector claims two ids and holds one.
    let ack = Body::default().id(ids::MSGS_ACK).id(ids::VECTOR).int(2).long(1).0;
    assert_eq!(
        malformed(&ack),
        "error at byte 0x8 in msgs_ack.msg_ids: vector length 2 claims more bytes than the 8 that remain"
    );
}

/// invokeWithLayer(224) › initConnection with JSON `params` (flags bit 1)
/// around the request.
fn init_with_params(params: Body) -> Vec<u8> {
    let mut b = Body::default().id(ids::INVOKE_WITH_LAYER).int(224).id(ids::INIT_CONNECTION).int(2).int(6);
    for text in ["pc", "linux", "1.0", "en", "", "en"] {
        b = b.string(text);
    }
    b.raw(&params.0).raw(&request()).0
}

#[test]
fn init_connection_params_become_json() {
    let params = Body::default()
        .id(ids::JSON_OBJECT)
        .id(ids::VECTOR)
        .int(3)
        .id(ids::JSON_OBJECT_VALUE)
        .string("tz")
        .id(ids::JSON_STRING)
        .string("UTC")
        .id(ids::JSON_OBJECT_VALUE)
        .string("on")
        .id(ids::JSON_BOOL)
        .id(ids::BOOL_FALSE)
        .id(ids::JSON_OBJECT_VALUE)
        .string("list")
        .id(ids::JSON_ARRAY)
        .id(ids::VECTOR)
        .int(3)
        .id(ids::JSON_NULL)
        .id(ids::JSON_NUMBER)
        .raw(&2.5f64.to_le_bytes())
        .id(ids::JSON_NUMBER)
        .raw(&f64::NAN.to_le_bytes());
    let found = unwrap(&init_with_params(params));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].content, Content::Request(request()));
    let init = found[0].wrapping[1].to_json();
    assert_eq!(init["params"], json!({"tz": "UTC", "on": false, "list": [null, 2.5, null]}));
    assert_eq!(init["device_model"], "pc");
}

#[test]
fn init_connection_params_that_do_not_read_are_named() {
    // The params start at byte 48: 8 of invokeWithLayer, 12 of
    // initConnection's id, flags and api_id, and 28 of strings (each 4
    // bytes but "linux", 8).
    let bad_bool = Body::default().id(ids::JSON_BOOL).id(0x0bad_0bad);
    assert_eq!(
        malformed(&init_with_params(bad_bool)),
        "error at byte 0x34 in initConnection.params: unknown Bool constructor 0x0bad0bad"
    );
    let unknown = Body::default().id(0x0bad_0bad);
    assert_eq!(
        malformed(&init_with_params(unknown)),
        "error at byte 0x30 in initConnection.params: unknown JSONValue constructor 0x0bad0bad"
    );
    let long_array = Body::default().id(ids::JSON_ARRAY).id(ids::VECTOR).int(1000);
    let e = malformed(&init_with_params(long_array));
    assert!(
        e.starts_with("error at byte 0x38 in initConnection.params: vector length 1000 claims more bytes than the "),
        "{e}"
    );
}
