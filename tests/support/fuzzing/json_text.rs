//! The `json` target's second mode: the fuzzer's bytes as JSON *text*,
//! read by every `from_json` the library has (each typed top-level type's
//! [`TlJson::from_json`], and the schema-driven [`Schema::encode_json`]).
//! The first mode (in `mod.rs`) only reads back JSON the library wrote, so
//! it never meets a malformed one.
//!
//! The mode costs nothing on the other inputs: bytes that are not JSON text
//! are refused by `serde_json` at their first byte that cannot start or
//! continue one (a binary frame, almost always the first).

use std::fmt::Debug;

use inspector::tl::dynamic::{Expect, Schema};
use inspector::tl::json::{JsonError, TlJson};
use inspector::tl::{
    decode_top, DecodeOptions, ExportChatInvite, ExportedChatInvite, Frame, InputPeer, NoTrace, RpcError,
    StarsSubscriptionPricing, TlObject, MAX_DEPTH_LIMIT,
};
use serde_json::Value;

/// Lenient (a `{"_": "bytes"}` string is not UTF-8), with the largest depth
/// budget (a value read from JSON may nest as deep as serde_json lets a
/// text nest, 128 levels).
const READ_BACK: DecodeOptions = DecodeOptions { lenient: true, max_depth: MAX_DEPTH_LIMIT };

/// `data` as JSON text, when it is, read as each top-level type:
///
/// - no reader panics; a refusal is one line, and its path leads to a
///   field that is in the input or missing from an object that is;
/// - a value a typed reader accepts writes JSON (`to_json`, and
///   `into_json` the same) that reads back to the same value, and encodes
///   to bytes that decode to it;
/// - what the schema-driven reader accepts (any constructor or function of
///   the builtin schema) encodes to bytes that decode to a value whose JSON
///   encodes to the same bytes.
pub(super) fn json_text(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    check_typed::<Frame>(&value);
    check_typed::<ExportChatInvite>(&value);
    check_typed::<ExportedChatInvite>(&value);
    check_typed::<RpcError>(&value);
    check_typed::<InputPeer>(&value);
    check_typed::<StarsSubscriptionPricing>(&value);
    check_schema(&value);
}

fn check_typed<T>(input: &Value)
where
    T: TlJson + TlObject + PartialEq + Debug + Clone,
{
    let value = match T::from_json(input) {
        Ok(value) => value,
        Err(e) => return check_error(&e, input, T::TYPE_NAME),
    };
    let json = value.to_json();
    assert_eq!(value.clone().into_json(), json, "into_json and to_json differ for {value:?}");
    match T::from_json(&json) {
        Ok(back) => assert_eq!(back, value, "{} read from {input} does not read back from {json}", T::TYPE_NAME),
        Err(e) => panic!("{} read from {input} does not read back from its JSON {json}: {e}", T::TYPE_NAME),
    }
    // What JSON accepts, the wire form holds (the string lengths are checked
    // on reading), and the decoder reads back.
    let bytes = match value.to_bytes() {
        Ok(bytes) => bytes,
        Err(e) => panic!("{} read from {input} does not encode: {e}", T::TYPE_NAME),
    };
    match decode_top::<T>(&bytes, READ_BACK) {
        Ok(back) => assert_eq!(back, value, "{} read from {input} decodes differently from its bytes", T::TYPE_NAME),
        Err(e) => panic!("{} read from {input} encodes to bytes that do not decode: {e}", T::TYPE_NAME),
    }
}

fn check_schema(input: &Value) {
    let schema = Schema::builtin();
    let bytes = match schema.encode_json(input) {
        Ok(bytes) => bytes,
        Err(e) => return check_error(&e, input, "the builtin schema"),
    };
    let decoded = match schema.decode_with_sink(&bytes, &Expect::Any, READ_BACK, NoTrace).0 {
        Ok(decoded) => decoded,
        Err(e) => panic!("the builtin schema encodes {input} to bytes it does not decode: {e}\n {bytes:02x?}"),
    };
    let json = decoded.to_json();
    match schema.encode_json(&json) {
        Ok(again) => assert!(
            again == bytes,
            "the builtin schema encodes {input} and its read-back {json} differently:\n {bytes:02x?}\n {again:02x?}"
        ),
        Err(e) => panic!("the builtin schema's read-back {json} of {input} does not encode: {e}"),
    }
}

/// A refusal is one line, and names a field the input has, or one missing
/// from an object the input has.
fn check_error(e: &JsonError, input: &Value, reader: &str) {
    let line = e.to_string();
    assert!(!line.contains(['\n', '\r']), "{reader}: a JSON error of more than one line: {line:?}");
    if e.path.is_empty() {
        return;
    }
    let segments: Vec<&str> = e.path.split('.').collect();
    let mut at = input;
    for (i, segment) in segments.iter().enumerate() {
        let next = match at {
            Value::Object(map) => map.get(*segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) => at = next,
            None => {
                // A key may itself hold dots ({"es.e": …}): the rest of
                // the path, joined, is then that key.
                if let Value::Object(map) = at {
                    if map.contains_key(&segments[i..].join(".")) {
                        return;
                    }
                }
                assert!(
                    i + 1 == segments.len() && at.is_object(),
                    "{reader}: a JSON error names the field {}, which {input} does not lead to: {line}",
                    e.path
                );
                return;
            }
        }
    }
}
