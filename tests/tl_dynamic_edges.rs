//! Corners of the schema-driven decoder that neither the corpora nor the
//! other tests reach: the name a message gives a value of a type the
//! schema defines but that is no object (`Bool`), and a bare type that
//! names a function rather than a constructor.

use inspector::tl::dynamic::Schema;
use inspector::tl::{DecodeOptions, NoTrace};

/// `Bool` is a type of api.tl (boolFalse, boolTrue) that the decoder reads
/// as a value, not an object: bytes after it are named after the type
/// asked for, spelled as the schema spells it.
#[test]
fn bytes_after_a_bool_name_the_schema_s_bool() {
    let schema = Schema::builtin();
    assert_eq!(schema.constructors_of("Bool").len(), 2, "api.tl defines Bool");
    // boolTrue#997275b5, then one byte more.
    let bytes = [0xb5, 0x75, 0x72, 0x99, 0x00];
    let e = schema.decode_as_type(&bytes, "Bool", DecodeOptions::strict(), NoTrace).0.unwrap_err();
    assert_eq!(e.to_string(), "error at byte 0x4: 1 byte left over after the end of Bool");
    // Leniently, a warning with the same words, and the value.
    let (value, recorder) =
        schema.decode_as_type(&bytes, "Bool", DecodeOptions::lenient(), inspector::tl::Recorder::default());
    assert_eq!(value.unwrap().view(), inspector::tl::dynamic::DynRef::Bool(true));
    let warnings: Vec<String> = recorder.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings, ["warning at byte 0x4: 1 byte left over after the end of Bool"]);
}

/// A bare type (lowercase) is a constructor's body without its id; a
/// function of that name is no such body, so the field's type is
/// undefined: a warning when loading, an error when decoding it.
#[test]
fn a_bare_type_naming_a_function_is_undefined() {
    let text = "foo x:getThing = Foo;\n---functions---\ngetThing = Foo;\n";
    let schema = Schema::parse(&[("t.tl", text)]).unwrap();
    let warnings: Vec<String> = schema.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings, ["t.tl:1: foo uses the type getThing, which the schema does not define"]);
    let foo = schema.by_name("foo").unwrap();
    let mut bytes = foo.id.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0; 4]);
    let e = schema.decode(&bytes, DecodeOptions::strict()).unwrap_err();
    assert_eq!(e.to_string(), "error at byte 0x4 in x: the schema uses the type getThing but does not define it");
    // The same name as a constructor is that constructor's body.
    let text = "foo x:thing = Foo;\nthing n:int = Thing;\n";
    let schema = Schema::parse(&[("t.tl", text)]).unwrap();
    assert!(schema.warnings().is_empty(), "{:?}", schema.warnings());
    let foo = schema.by_name("foo").unwrap();
    let mut bytes = foo.id.to_le_bytes().to_vec();
    bytes.extend_from_slice(&7i32.to_le_bytes());
    let value = schema.decode(&bytes, DecodeOptions::strict()).unwrap();
    assert_eq!(value.to_json(), serde_json::json!({"_": "foo", "x": {"_": "thing", "n": 7}}));
}

/// A `true` field without a condition is always set and has no bytes: it
/// adds nothing to the fewest bytes of its constructor, which bound how
/// many elements a vector's count may claim (4 bytes left: one `foo` of
/// one `int`, not two).
#[test]
fn an_unconditional_true_field_is_set_and_takes_no_bytes() {
    let text = "foo x:true n:int = Foo;\nbar v:vector<foo> = Bar;\n";
    let schema = Schema::parse(&[("t.tl", text)]).unwrap();
    assert!(schema.warnings().is_empty(), "{:?}", schema.warnings());
    let bar = schema.by_name("bar").unwrap();
    let with_count = |count: i32| {
        let mut bytes = bar.id.to_le_bytes().to_vec();
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&5i32.to_le_bytes());
        bytes
    };
    let value = schema.decode(&with_count(1), DecodeOptions::strict()).unwrap();
    assert_eq!(value.to_json(), serde_json::json!({"_": "bar", "v": [{"_": "foo", "x": true, "n": 5}]}));
    // And back: the field is written as nothing.
    assert_eq!(schema.encode_json(&value.to_json()).unwrap(), with_count(1));
    let e = schema.decode(&with_count(2), DecodeOptions::strict()).unwrap_err();
    assert_eq!(e.to_string(), "error at byte 0x4 in v: vector length 2 claims more bytes than the 4 that remain");
}
