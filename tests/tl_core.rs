//! The TL core's rarer paths, each with the exact value or line a user
//! sees: strings too long for TL (writer and JSON), the JSON reader's
//! messages for every kind of wrong value, trailing bytes after an answer,
//! and the small helpers of `TlString`, `InputPeer`, `Reader` and `Problem`.

use inspector::tl::json::TlJson;
use inspector::tl::schema;
use inspector::tl::{
    DecodeOptions, EncodeError, ExportChatInvite, Frame, InputPeer, Problem, Reader, RpcError, TlObject, TlString,
    Writer,
};
use serde_json::{json, Value};

/// The longest string TL can carry: its long length form has 3 bytes.
const LONGEST: usize = (1 << 24) - 1;

#[test]
fn the_writer_refuses_a_string_of_16_mib_and_keeps_the_first_refusal() {
    let mut w = Writer::new();
    w.int(7);
    w.bytes(&vec![b'a'; LONGEST + 1]);
    w.bytes(&vec![b'b'; LONGEST + 5]);
    let e = w.finish().unwrap_err();
    assert_eq!(e, EncodeError::StringTooLong { len: 16_777_216 });
    assert_eq!(e.to_string(), "a string of 16777216 bytes is too long for TL (at most 16777215 bytes)");
}

#[test]
fn the_writer_takes_the_longest_string_in_the_long_form() {
    let mut w = Writer::new();
    w.bytes(&vec![0x5a; LONGEST]);
    let out = w.finish().unwrap();
    // 0xfe, the length 0xffffff little endian, the bytes; 4 + 0xffffff is
    // already a multiple of 4 plus 3, so one byte of padding.
    assert_eq!(&out[..4], &[0xfe, 0xff, 0xff, 0xff]);
    assert_eq!(out.len(), 4 + LONGEST + 1);
    assert_eq!(out[out.len() - 1], 0);
    assert_eq!(out[out.len() - 2], 0x5a);
}

#[test]
fn a_frame_with_a_title_too_long_does_not_encode() {
    let mut request = ExportChatInvite::new(InputPeer::PeerSelf);
    request.title = Some(TlString::from_bytes(vec![b't'; LONGEST + 1]));
    assert_eq!(Frame::from(request).to_bytes(), Err(EncodeError::StringTooLong { len: LONGEST + 1 }));
}

#[test]
fn json_refuses_a_title_longer_than_tl_allows() {
    let title = "t".repeat(LONGEST + 1);
    let v = json!({"_": "messages.exportChatInvite", "peer": {"_": "inputPeerSelf"}, "title": title});
    let e = Frame::from_json(&v).unwrap_err();
    assert_eq!(
        e.to_string(),
        "error in JSON field title: a string of 16777216 bytes is longer than TL allows (16777215)"
    );
    // The longest one is accepted, and encodes in the long form.
    let v = json!({"_": "messages.exportChatInvite", "peer": {"_": "inputPeerSelf"}, "title": "t".repeat(LONGEST)});
    let bytes = Frame::from_json(&v).unwrap().to_bytes().unwrap();
    // id, flags (bit 4: title), inputPeerSelf, then the title's length form.
    assert_eq!(&bytes[4..8], &16u32.to_le_bytes());
    assert_eq!(&bytes[12..16], &[0xfe, 0xff, 0xff, 0xff]);
}

/// The message `Frame::from_json` gives for `v`.
fn json_error(v: Value) -> String {
    Frame::from_json(&v).unwrap_err().to_string()
}

#[test]
fn json_names_what_it_found_instead_of_a_frame() {
    assert_eq!(json_error(Value::Null), "error in JSON: expected an object for a frame, found null");
    assert_eq!(json_error(json!(true)), "error in JSON: expected an object for a frame, found the boolean true");
    assert_eq!(json_error(json!([1])), "error in JSON: expected an object for a frame, found an array");
    assert_eq!(json_error(json!({"_": 5})), "error in JSON: \"_\" must be a constructor name, found the number 5");
    assert_eq!(json_error(json!({"_": {}})), "error in JSON: \"_\" must be a constructor name, found an object");
    assert_eq!(
        json_error(json!({"_": "inputPeerSelf"})),
        "error in JSON: inputPeerSelf is InputPeer, but a frame is expected here (one of: messages.exportChatInvite, \
         chatInviteExported, chatInvitePublicJoinRequests, rpc_error)"
    );
}

#[test]
fn json_names_the_field_a_wrong_value_stands_in() {
    let request = |peer: Value| json!({"_": "messages.exportChatInvite", "peer": peer});
    assert_eq!(
        json_error(request(json!({"_": "inputPeerSelf", "user_id": 1}))),
        "error in JSON field peer.user_id: inputPeerSelf has no fields"
    );
    assert_eq!(
        json_error(request(json!({"_": "inputPeerChat", "chat_id": {}}))),
        "error in JSON field peer.chat_id: expected a long (64-bit signed integer), found an object"
    );
    assert_eq!(
        json_error(request(json!({"_": "inputPeerChat", "chat_id": false}))),
        "error in JSON field peer.chat_id: expected a long (64-bit signed integer), found the boolean false"
    );
    assert_eq!(
        json_error(request(json!({"_": "inputPeerChat", "chat_id": null}))),
        "error in JSON field peer.chat_id: missing required field of type long"
    );
}

#[test]
fn into_json_of_a_nested_value_is_its_json() {
    let peer = InputPeer::UserFromMessage { peer: Box::new(InputPeer::Chat { chat_id: 9 }), msg_id: 3, user_id: 4 };
    let want = json!({
        "_": "inputPeerUserFromMessage",
        "peer": {"_": "inputPeerChat", "chat_id": 9},
        "msg_id": 3,
        "user_id": 4
    });
    assert_eq!(peer.clone().into_json(), want);
    assert_eq!(InputPeer::from_json(&want).unwrap(), peer);
}

#[test]
fn bytes_after_an_rpc_error_are_an_error_strictly_and_a_warning_leniently() {
    // rpc_error#2144ca19 error_code:420 error_message:"FLOOD" and 4 more bytes.
    let mut bytes = vec![0x19, 0xca, 0x44, 0x21, 0xa4, 0x01, 0, 0, 5, b'F', b'L', b'O', b'O', b'D', 0, 0];
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    let e = Frame::from_bytes(&bytes).unwrap_err();
    assert_eq!(e.to_string(), "error at byte 0x10: 4 bytes left over after the end of rpc_error");
    let traced = inspector::tl::decode_traced::<Frame>(&bytes, DecodeOptions::lenient());
    let frame = traced.result.unwrap();
    assert_eq!(frame, Frame::from(RpcError { error_code: 420, error_message: "FLOOD".into() }));
    assert_eq!(frame.ctor().name, "rpc_error");
    let warnings: Vec<String> = traced.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings, ["warning at byte 0x10: 4 bytes left over after the end of rpc_error"]);
}

#[test]
fn tl_strings_compare_and_print_as_text_or_bytes() {
    let empty = TlString::default();
    assert!(empty.is_empty());
    assert!(!TlString::from("x").is_empty());
    let flood = TlString::from(String::from("FLOOD"));
    assert!(flood == "FLOOD");
    assert!(flood != "FLOOD_WAIT");
    let bad = TlString::from_bytes(vec![b'a', 0xff, b'b']);
    assert_eq!(format!("{bad:?}"), "TlString(invalid UTF-8: [61, ff, 62])");
    assert_eq!(bad.to_string(), "a\u{fffd}b");
    assert_eq!(format!("{:?}", TlString::from("hi")), "\"hi\"");
    assert_eq!(TlString::from("hi").to_string(), "hi");
}

#[test]
fn the_depth_of_a_peer_counts_its_nested_peers() {
    assert_eq!(InputPeer::PeerSelf.depth(), 1);
    let mut peer = InputPeer::Channel { channel_id: 1, access_hash: 2 };
    for n in 0..5 {
        peer = if n % 2 == 0 {
            InputPeer::UserFromMessage { peer: Box::new(peer), msg_id: n, user_id: 7 }
        } else {
            InputPeer::ChannelFromMessage { peer: Box::new(peer), msg_id: n, channel_id: 8 }
        };
    }
    assert_eq!(peer.depth(), 6);
}

#[test]
fn a_reader_reports_its_options_and_buffer_and_finishes_clean_at_the_end() {
    let bytes = [1, 0, 0, 0];
    let options = DecodeOptions { lenient: true, max_depth: 3 };
    let mut r = Reader::new(&bytes, options);
    assert_eq!(r.options(), options);
    assert_eq!(r.buffer(), &bytes);
    assert_eq!(r.int("x").unwrap(), 1);
    assert_eq!(r.finish(&schema::RPC_ERROR), Ok(()));
    // Strict, with a byte left: the error names the constructor and offset.
    let mut r = Reader::new(&[0, 0, 0, 0, 9], DecodeOptions::strict());
    r.int("x").unwrap();
    assert_eq!(
        r.finish(&schema::RPC_ERROR).unwrap_err().to_string(),
        "error at byte 0x4: 1 byte left over after the end of rpc_error"
    );
}

#[test]
fn an_undefined_type_is_one_line_and_marks_its_id() {
    let p = Problem::UndefinedType { ty: "Widget" };
    assert_eq!(p.to_string(), "the schema uses the type Widget but does not define it");
    assert_eq!(p.bad_len(100), 4);
    assert_eq!(p.bad_len(2), 2);
}
