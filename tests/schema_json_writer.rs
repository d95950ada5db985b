//! `DynValue::write_json` (the JSON report's path: written straight from
//! the decoded tape) against `serde_json::to_vec(&DynValue::to_json())`
//! (the `Value` it replaced): the same bytes, for every frame Telethon
//! wrote (`tests/fixtures/telethon_frames.jsonl`, layer 229: vectors,
//! flags2, doubles, bytes, int128/int256, nesting, non-ASCII text), for
//! the escapes a lenient decode keeps (text that is not UTF-8, a double
//! JSON cannot hold), and for a constructor whose field names repeat.

use inspector::tl::dynamic::{DynValue, Schema};
use inspector::tl::DecodeOptions;
use serde_json::Value;

fn telethon_schema() -> Schema {
    Schema::parse(&[
        ("api.tl", include_str!("fixtures/telethon/api.tl")),
        ("mtproto.tl", include_str!("fixtures/telethon/mtproto.tl")),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

fn written(value: &DynValue) -> String {
    let mut out = Vec::new();
    value.write_json(&mut out).expect("a Vec takes every write");
    String::from_utf8(out).expect("JSON is UTF-8")
}

fn serialized(value: &DynValue) -> String {
    serde_json::to_string(&value.to_json()).expect("a Value serializes")
}

#[test]
fn every_telethon_frame_writes_the_bytes_its_value_serializes_to() {
    let schema = telethon_schema();
    let mut frames = 0;
    for line in include_str!("fixtures/telethon_frames.jsonl").lines().filter(|l| !l.trim().is_empty()) {
        let fixture: Value = serde_json::from_str(line).expect("a JSON line");
        let hex = fixture["hex"].as_str().expect("hex");
        let bytes = inspector::hex::parse(hex).expect("hex digits");
        let value = schema.decode(&bytes, DecodeOptions::strict()).unwrap_or_else(|e| panic!("{hex}: {e}"));
        let text = written(&value);
        assert_eq!(text, serialized(&value), "{}", fixture["class"]);
        // And it is JSON that reads back as the value's form.
        assert_eq!(serde_json::from_str::<Value>(&text).expect("valid JSON"), value.to_json());
        frames += 1;
    }
    assert!(frames > 300, "{frames} frames");
}

#[test]
fn lenient_escapes_write_as_their_values_serialize() {
    let schema = Schema::builtin();
    // rpc_error error_code:int error_message:string, the text not UTF-8
    // (0xff), kept by a lenient decode as {"_": "bytes", "hex": ...}.
    let bytes = inspector::hex::parse("19ca4421 a4010000 03ff4142").unwrap();
    let value = schema.decode(&bytes, DecodeOptions::lenient()).unwrap();
    assert!(written(&value).contains(r#"{"_":"bytes","hex":"ff4142"}"#), "{}", written(&value));
    assert_eq!(written(&value), serialized(&value));
    assert!(schema.decode(&bytes, DecodeOptions::strict()).is_err());

    // A double that JSON cannot hold (NaN) is {"_": "double", "hex": ...};
    // an ordinary one a number. A schema of its own, with quoting to escape.
    let text = "---types---\nd#7e2cd5a1 x:double y:double s:string = D;\n";
    let schema = Schema::parse(&[("d.tl", text)]).unwrap();
    let id = schema.by_name("d").unwrap().id;
    let mut bytes = id.to_le_bytes().to_vec();
    bytes.extend(f64::NAN.to_le_bytes());
    bytes.extend((-0.1f64).to_le_bytes());
    bytes.extend([7, b'"', b'\\', b'\n', 0xc3, 0xa9, b'/', 0x01]);
    let value = schema.decode(&bytes, DecodeOptions::lenient()).unwrap();
    let text = written(&value);
    assert_eq!(text, serialized(&value));
    assert!(text.contains(r#""x":{"_":"double","hex":"#), "{text}");
    assert!(text.contains(r#""y":-0.1"#), "{text}");
    assert!(text.contains(r#""s":"\"\\\né/\u0001""#), "{text}");
}

#[test]
fn repeated_field_names_write_as_the_map_keeps_them() {
    // The JSON object keeps one key per name (where it first stood, with
    // the last value): the writer must give the same object.
    let text = "---types---\nr#5b9a0cd1 a:int b:int a:long = R;\n";
    let schema = Schema::parse(&[("r.tl", text)]).unwrap();
    let id = schema.by_name("r").unwrap().id;
    let mut bytes = id.to_le_bytes().to_vec();
    bytes.extend(1i32.to_le_bytes());
    bytes.extend(2i32.to_le_bytes());
    bytes.extend(3i64.to_le_bytes());
    let value = schema.decode(&bytes, DecodeOptions::lenient()).unwrap();
    assert_eq!(written(&value), serialized(&value));
    assert_eq!(written(&value), r#"{"_":"r","a":3,"b":2}"#);
}
