//! The schema-driven JSON reader's refusals that the fuzz corpora cannot
//! reach: nesting past the depth limit (`serde_json` itself stops reading
//! text at 128 levels), a string over TL's 16 MiB, and types and bare
//! constructors of the fixed schemas of `schema_differential`.

use inspector::tl::dynamic::Schema;
use inspector::tl::MAX_DEPTH_LIMIT;
use inspector_tests::schema_differential::fixed_schemas;
use serde_json::{json, Value};

#[test]
fn nesting_past_the_depth_limit_is_refused_with_its_path() {
    // invokeWithLayer#da9b0d0d layer:int query:!X: each level one deeper.
    let mut v = json!({"_": "help.getConfig"});
    for _ in 0..MAX_DEPTH_LIMIT + 5 {
        v = json!({"_": "invokeWithLayer", "layer": 224, "query": v});
    }
    let e = Schema::builtin().encode_json(&v).unwrap_err();
    assert_eq!(e.message, format!("nested deeper than {MAX_DEPTH_LIMIT} levels"));
    // The refusal names the first field past the limit: `layer`, the
    // first field of the object 200 queries deep.
    let parts: Vec<&str> = e.path.split('.').collect();
    assert_eq!(parts.len(), MAX_DEPTH_LIMIT + 1, "{}", e.path);
    assert!(parts[..MAX_DEPTH_LIMIT].iter().all(|p| *p == "query"), "{}", e.path);
    assert_eq!(parts[MAX_DEPTH_LIMIT], "layer");
    // One level less than the limit encodes.
    let mut ok = json!({"_": "help.getConfig"});
    for _ in 0..MAX_DEPTH_LIMIT - 1 {
        ok = json!({"_": "invokeWithLayer", "layer": 224, "query": ok});
    }
    assert!(Schema::builtin().encode_json(&ok).is_ok());
}

#[test]
fn a_string_over_16_mib_is_refused() {
    let long = "a".repeat(0x100_0000);
    let v = json!({"_": "rpc_error", "error_code": 400, "error_message": long});
    let e = Schema::builtin().encode_json(&v).unwrap_err();
    assert_eq!(e.path, "error_message");
    assert_eq!(e.message, "a string of 16777216 bytes is longer than TL allows (16777215)");
    // One byte less is TL's longest string: it encodes, length prefix 0xfe + 3 bytes.
    let v = json!({"_": "rpc_error", "error_code": 400, "error_message": &long[1..]});
    let bytes = Schema::builtin().encode_json(&v).expect("16 MiB - 1");
    assert_eq!(&bytes[8..12], &[0xfe, 0xff, 0xff, 0xff]);
}

#[test]
fn undefined_types_and_bare_constructors_are_refused_by_name() {
    let s = &fixed_schemas()[0];
    let refuse = |v: Value| s.encode_json(&v).unwrap_err();
    let e = refuse(json!({"_": "strange", "x": 1}));
    assert_eq!((e.path.as_str(), e.message.as_str()), ("x", "the schema uses the type Mystery but does not define it"));
    // holder points:Vector<point>: bare points, with their name or none.
    let line = json!({"_": "line", "from": {"x": 1, "y": 2}, "to": {"_": "point", "x": 3, "y": 4}});
    let holder = |points: Value| json!({"_": "holder", "points": points, "ints": [], "line": line});
    assert!(s.encode_json(&holder(json!([{"x": 1, "y": 2}, {"_": "point", "x": 3, "y": 4}]))).is_ok());
    let e = refuse(holder(json!([{"_": "line", "x": 1, "y": 2}])));
    assert_eq!(e.path, "points.0");
    assert_eq!(e.message, "expected the bare point, found \"_\": the string \"line\"");
    let e = refuse(holder(json!([5])));
    assert_eq!(e.path, "points.0");
    assert!(e.message.starts_with("expected an object for point, found "), "{}", e.message);
}

/// A vector's items, taken by value (`for item in seq`), are the ones
/// its wire form holds, in order.
#[test]
fn a_sequence_iterates_by_value_too() {
    use inspector::tl::dynamic::{DynRef, Expect};
    use inspector::tl::{ids, DecodeOptions, NoTrace};
    let bytes = [ids::VECTOR.to_le_bytes(), 2u32.to_le_bytes(), 5u32.to_le_bytes(), 6u32.to_le_bytes()].concat();
    let expect = Expect::Type("Vector<int>".into());
    let v = Schema::builtin().decode_with_sink(&bytes, &expect, DecodeOptions::strict(), NoTrace).0.expect("a vector");
    let DynRef::Vector(seq) = v.view() else { panic!("{v:?} is not a vector") };
    let mut items = Vec::new();
    for item in seq {
        items.push(item);
    }
    assert_eq!(items, [DynRef::Int(5), DynRef::Int(6)]);
}
