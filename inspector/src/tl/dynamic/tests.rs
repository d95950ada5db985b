use serde_json::json;

use super::*;
use crate::tl::{DecodeOptions, Problem, Recorder};

fn h(text: &str) -> Vec<u8> {
    crate::hex::parse(text).unwrap()
}

#[test]
fn the_builtin_schema_loads_with_the_three_published_ids_that_break_the_crc_rule() {
    let s = Schema::builtin();
    assert!(s.len() > 2000, "{} definitions", s.len());
    assert_eq!(s.name_of(0xa455de90), Some("messages.exportChatInvite"));
    assert_eq!(s.by_name("msg_container").map(|c| c.id), Some(0x73f1f8dc));
    assert!(s.constructors_of("InputPeer").iter().any(|c| c.name == "inputPeerUserFromMessage"));
    // mtproto.tl publishes these three with ids TL's rule does not give;
    // they are what clients send, so they are kept (with a warning).
    let mut odd: Vec<&str> =
        s.warnings().iter().filter_map(|w| w.message.split(" of ").nth(1)?.split(' ').next()).collect();
    odd.sort();
    assert_eq!(odd, ["accessPointRule", "help.configSimple", "ipPortSecret"]);
    assert_eq!(s.warnings().len(), 3);
}

#[test]
fn an_unknown_section_is_named_on_one_line() {
    // Found by the schema_differential target's schema-text mode: a
    // carriage return inside a line reached the message as it was.
    let e = Schema::parse(&[("t.tl", "a#1 = A;\n---x\ry\n")]).unwrap_err();
    assert_eq!(e.to_string(), "t.tl:2:1: unknown section `---x\\ry`");
}

#[test]
fn a_malformed_line_is_reported_with_its_line_and_column() {
    let text = "---types---\nfoo#1 = Foo;\n  bar#2 x:flags.0?int = Bar;\n";
    let e = Schema::parse(&[("t.tl", text)]).unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), ("t.tl", 3, 9), "{e}");
    assert!(e.message.contains("x:flags.0?int"), "{e}");
    let e = Schema::parse(&[("t.tl", "a#zz = A;")]).unwrap_err();
    assert_eq!((e.line, e.column), (1, 2), "{e}");
    assert!(e.message.contains("hexadecimal"), "{e}");
    let e = Schema::parse(&[("t.tl", "\n\na#1 x:int = A")]).unwrap_err();
    assert_eq!((e.line, e.column), (3, 14), "{e}");
}

#[test]
fn builtin_primitive_declarations_are_skipped() {
    let text = "int ? = Int;\nvector#1cb5c415 {t:Type} # [ t ] = Vector t;\nfoo x:Vector<int> = Foo;";
    let s = Schema::parse(&[("t.tl", text)]).unwrap();
    assert_eq!(s.len(), 1);
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

/// protocol.md's worked example, decoded with the whole schema.
#[test]
fn the_worked_example_decodes_to_the_canonical_json() {
    let bytes = h("90de55a4 39000000 40082abd 4ca5e8dd 0100000000000000 0200000000000000
                   03000000 0400000000000000 64000000 01740000 586d4105 008d2700 0500000000000000");
    let v = Schema::builtin().decode(&bytes, DecodeOptions::strict()).unwrap();
    let expected = json!({"_": "messages.exportChatInvite", "flags": 57, "legacy_revoke_permanent": false,
        "request_needed": true,
        "peer": {"_": "inputPeerChannelFromMessage",
                 "peer": {"_": "inputPeerUser", "user_id": 1, "access_hash": 2}, "msg_id": 3, "channel_id": 4},
        "expire_date": 100, "usage_limit": null, "title": "t",
        "subscription_pricing": {"_": "starsSubscriptionPricing", "period": 2592000, "amount": 5}});
    assert_eq!(v.to_json(), expected);
    assert_eq!(Schema::builtin().encode_json(&expected).unwrap(), bytes);
}

#[test]
fn primitives_beyond_the_closure_decode_and_encode() {
    let s = Schema::builtin();
    // req_pq_multi#be7e8ef1 nonce:int128: the nonce is its 16 wire bytes.
    let bytes = h("f18e7ebe 000102030405060708090a0b0c0d0e0f");
    let v = s.decode(&bytes, DecodeOptions::strict()).unwrap();
    assert_eq!(v.to_json(), json!({"_": "req_pq_multi", "nonce": "000102030405060708090a0b0c0d0e0f"}));
    // jsonNumber#2be0dfa4 value:double = 1.5; jsonBool#c7345e6a value:Bool.
    let v = s.decode(&h("a4dfe02b 000000000000f83f"), DecodeOptions::strict()).unwrap();
    assert_eq!(v.to_json(), json!({"_": "jsonNumber", "value": 1.5}));
    let v = s.decode(&h("6a5e34c7 b5757299"), DecodeOptions::strict()).unwrap();
    assert_eq!(v.to_json(), json!({"_": "jsonBool", "value": true}));
    // msgs_ack#62d6b459 msg_ids:Vector<long>.
    let bytes = h("59b4d662 15c4b51c 02000000 0100000000000000 0200000000000000");
    let v = s.decode(&bytes, DecodeOptions::strict()).unwrap();
    assert_eq!(v.to_json(), json!({"_": "msgs_ack", "msg_ids": [1, 2]}));
    // gzip_packed#3072cfa1 packed_data:bytes: base64.
    let bytes = h("a1cf7230 03010203");
    let v = s.decode(&bytes, DecodeOptions::strict()).unwrap();
    assert_eq!(v.to_json(), json!({"_": "gzip_packed", "packed_data": "AQID"}));
    assert_eq!(s.encode_json(&v.to_json()).unwrap(), bytes);
    // msg_container: a bare vector of bare `message`s, each holding any object.
    let bytes = h("dcf8f173 01000000 0800000000000000 03000000 0c000000 59b4d662 15c4b51c 00000000");
    let v = s.decode(&bytes, DecodeOptions::strict()).unwrap();
    assert_eq!(
        v.to_json(),
        json!({"_": "msg_container", "messages": [{"_": "message", "msg_id": 8, "seqno": 3, "bytes": 12,
            "body": {"_": "msgs_ack", "msg_ids": []}}]})
    );
    assert_eq!(s.encode_json(&v.to_json()).unwrap(), bytes);
}

#[test]
fn a_non_finite_double_keeps_its_bits() {
    let s = Schema::builtin();
    let bytes = h("a4dfe02b 010000000000f87f");
    let v = s.decode(&bytes, DecodeOptions::strict()).unwrap();
    assert_eq!(v.to_json(), json!({"_": "jsonNumber", "value": {"_": "double", "hex": "010000000000f87f"}}));
    assert_eq!(s.encode_json(&v.to_json()).unwrap(), bytes);
}

#[test]
fn a_second_flag_word_governs_its_own_fields() {
    let text = "---types---\nfoo#1 flags:# a:flags.0?int flags2:# b:flags2.0?long c:flags2.1?true = Foo;";
    let s = Schema::parse(&[("t.tl", text)]).unwrap();
    let value = json!({"_": "foo", "flags": 0, "a": null, "flags2": 3, "b": 7, "c": true});
    let bytes = s.encode_json(&value).unwrap();
    assert_eq!(bytes, h("01000000 00000000 03000000 0700000000000000"));
    assert_eq!(s.decode(&bytes, DecodeOptions::strict()).unwrap().to_json(), value);
    // Bit 2 of flags2 is not defined: strict decoding says so, naming the word.
    let e = s.decode(&h("01000000 00000000 04000000"), DecodeOptions::strict()).unwrap_err();
    assert_eq!(e.path, "flags2");
    assert!(matches!(e.problem, Problem::UndefinedFlags { undefined: 4, .. }), "{e}");
}

#[test]
fn a_fifth_flag_word_is_found_past_a_nested_object() {
    // The decoder keeps four flag words at hand; a condition on a fifth
    // finds it on the tape, stepping over the object `b` before it.
    let text = "---types---\nbar#2 x:int = Bar;\nfoo#1 b:Bar flags:# flags2:# flags3:# flags4:# flags5:# \
                c:flags5.3?long d:flags.0?true e:flags4.1?int = Foo;";
    let s = Schema::parse(&[("t.tl", text)]).unwrap();
    let bytes = h("01000000 02000000 07000000 01000000 00000000 00000000 00000000 08000000 0500000000000000");
    let v = s.decode(&bytes, DecodeOptions::strict()).unwrap();
    let value = json!({"_": "foo", "b": {"_": "bar", "x": 7}, "flags": 1, "flags2": 0, "flags3": 0, "flags4": 0,
        "flags5": 8, "c": 5, "d": true, "e": null});
    assert_eq!(v.to_json(), value);
    assert_eq!(s.encode_json(&value).unwrap(), bytes);
    // The same value read as a tree.
    assert_eq!(v.ctor().map(|c| c.name), Some("foo"));
    let b = v.field("b").unwrap();
    assert_eq!(b.ctor().map(|c| c.name), Some("bar"));
    assert_eq!(b.field("x"), Some(DynRef::Int(7)));
    assert_eq!(v.field("c"), Some(DynRef::Long(5)));
    assert_eq!(v.field("e"), Some(DynRef::Absent));
    let DynRef::Object { fields, .. } = v.view() else { panic!("not an object: {v:?}") };
    assert_eq!(fields.len(), 9);
    assert_eq!(fields.get(5), Some(DynRef::Flags(8)));
    assert_eq!(fields.get(9), None);
    // With bit 3 of flags5 clear, `c` is absent and its bytes are trailing.
    let e = s
        .decode(
            &h("01000000 02000000 07000000 00000000 00000000 00000000 00000000 00000000 05000000"),
            DecodeOptions::strict(),
        )
        .unwrap_err();
    assert!(matches!(e.problem, Problem::TrailingBytes { count: 4, .. }), "{e}");
}

#[test]
fn strings_bytes_and_vectors_read_back_from_the_tape() {
    let s = Schema::builtin();
    // msgs_ack with two ids, then gzip_packed and a string-holding rpc_error.
    let v =
        s.decode(&h("59b4d662 15c4b51c 02000000 0100000000000000 0200000000000000"), DecodeOptions::strict()).unwrap();
    let Some(DynRef::Vector(ids)) = v.field("msg_ids") else { panic!("{v:?}") };
    assert_eq!(ids.iter().collect::<Vec<_>>(), [DynRef::Long(1), DynRef::Long(2)]);
    let v = s.decode(&h("a1cf7230 03010203"), DecodeOptions::strict()).unwrap();
    assert_eq!(v.field("packed_data"), Some(DynRef::Bytes(&[1, 2, 3])));
    // rpc_error#2144ca19 error_code:int error_message:string.
    let v = s.decode(&h("19ca4421 90010000 03486921"), DecodeOptions::strict());
    let v = v.unwrap_or_else(|e| panic!("{e}"));
    let Some(DynRef::String(text)) = v.field("error_message") else { panic!("{v:?}") };
    assert_eq!(text.as_str(), Some("Hi!"));
    assert_eq!(v, v.clone());
}

#[test]
fn wrong_constructors_are_named() {
    let s = Schema::builtin();
    // A peer where a Bool should stand in jsonBool.
    let e = s.decode(&h("6a5e34c7 c97ea07d"), DecodeOptions::strict()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "error at byte 0x4 in value: expected Bool, found inputPeerSelf#7da07ec9 (of type InputPeer)"
    );
    // A user where an InputPeer should stand.
    let e = s.decode(&h("90de55a4 00000000 f5b0c1f7"), DecodeOptions::strict()).unwrap_err();
    assert_eq!(e.to_string(), "error at byte 0x8 in peer: unknown InputPeer constructor 0xf7c1b0f5");
    let e = s.decode(&h("90de55a4 00000000 3fb1c1f7"), DecodeOptions::strict()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "error at byte 0x8 in peer: expected InputPeer, found inputUserSelf#f7c1b13f (of type InputUser)"
    );
}

#[test]
fn a_vector_count_the_input_cannot_back_is_an_error() {
    let e = Schema::builtin().decode(&h("59b4d662 15c4b51c ffffff7f 01"), DecodeOptions::strict()).unwrap_err();
    assert_eq!(e.path, "msg_ids");
    assert!(matches!(e.problem, Problem::LengthExceedsInput { what: "vector", .. }), "{e}");
}

#[test]
fn nesting_is_bounded_by_the_depth_budget() {
    // invokeWithoutUpdates#bf9459b7 {X:Type} query:!X, 100 times around a ping.
    let mut bytes = Vec::new();
    for _ in 0..100 {
        bytes.extend(h("b75994bf"));
    }
    bytes.extend(h("ec77be7a 0100000000000000"));
    let e = Schema::builtin().decode(&bytes, DecodeOptions::strict()).unwrap_err();
    assert!(matches!(e.problem, Problem::TooDeep { max_depth: 64 }), "{e}");
    let opts = DecodeOptions { max_depth: 101, ..DecodeOptions::strict() };
    assert!(Schema::builtin().decode(&bytes, opts).is_ok());
}

#[test]
fn the_answer_type_follows_generic_wrappers() {
    let s = Schema::builtin();
    // invokeWithLayer#da9b0d0d layer:int query:!X around exportChatInvite(inputPeerSelf).
    let bytes = h("0d0d9bda df000000 90de55a4 00000000 c97ea07d");
    let mut rec = Recorder::default();
    let request = s.decode_traced(&bytes, DecodeOptions::strict(), &mut rec).unwrap();
    assert_eq!(s.answer_type(&request).as_deref(), Some("ExportedChatInvite"));
    let answer = h("b77a10ed");
    let (v, _) = s.decode_as_type(&answer, "ExportedChatInvite", DecodeOptions::strict(), crate::tl::NoTrace);
    assert_eq!(v.unwrap().to_json(), json!({"_": "chatInvitePublicJoinRequests"}));
    let (v, _) = s.decode_as_type(&answer, "InputPeer", DecodeOptions::strict(), crate::tl::NoTrace);
    assert!(v.is_err());
}

/// A dropped value's buffers serve the next decode on the thread, cleared:
/// the next value holds only its own nodes and text; a large buffer is
/// freed rather than kept.
#[test]
fn the_next_decode_reuses_the_dropped_values_buffers_cleared() {
    let schema = Schema::builtin();
    // rpc_error error_code:int error_message:string
    let first = schema.decode(&h("19ca4421 a4010000 05464c4f4f440000"), DecodeOptions::strict()).unwrap();
    let (nodes, data) = (first.nodes.as_ptr(), first.data.as_ptr());
    drop(first);
    let second = schema.decode(&h("19ca4421 2a000000 024f4b00"), DecodeOptions::strict()).unwrap();
    assert_eq!((second.nodes.as_ptr(), second.data.as_ptr()), (nodes, data));
    assert_eq!(second.to_json(), json!({"_": "rpc_error", "error_code": 42, "error_message": "OK"}));
    assert_eq!(second.nodes.len(), 3);
    assert_eq!(second.data, b"OK");
    drop(second);

    // msgs_ack of 300 ids: more nodes than a spare buffer keeps.
    let mut bytes = h("59b4d662 15c4b51c 2c010000");
    for i in 0..300i64 {
        bytes.extend(i.to_le_bytes());
    }
    let large = schema.decode(&bytes, DecodeOptions::strict()).unwrap();
    assert!(large.nodes.capacity() > 256);
    let large_nodes = large.nodes.as_ptr();
    drop(large);
    let after = schema.decode(&h("19ca4421 2a000000 024f4b00"), DecodeOptions::strict()).unwrap();
    assert_ne!(after.nodes.as_ptr(), large_nodes);
    assert_eq!(after.to_json(), json!({"_": "rpc_error", "error_code": 42, "error_message": "OK"}));
}

#[test]
fn the_id_hasher_multiplies_ids_and_still_tells_other_keys_apart() {
    use std::hash::BuildHasher;
    let build = BuildHasherDefault::<IdHasher>::default();
    // An id is spread by one multiplication by 2^64 / φ (Fibonacci hashing).
    assert_eq!(build.hash_one(1u32), 0x9e37_79b9_7f4a_7c15);
    assert_eq!(build.hash_one(2u32), 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(2));
    // Any other key goes through `write`, byte by byte: equal keys hash
    // alike, and these differ.
    assert_eq!(build.hash_one("chat"), build.hash_one("chat"));
    assert_ne!(build.hash_one("chat"), build.hash_one("chan"));
    assert_ne!(build.hash_one([1u8, 2]), build.hash_one([2u8, 1]));
}
