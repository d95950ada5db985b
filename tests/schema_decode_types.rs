//! The schema-driven decoder asked for a type by name (as it is for the
//! answer to a `--method` request): every primitive, `Object`, vectors,
//! bare fields, types the schema does not define, and bytes left over.

use inspector::tl::dynamic::{DynRef, DynValue, Schema};
use inspector::tl::{DecodeOptions, NoTrace};

fn as_type(schema: &Schema, bytes: &[u8], ty: &str) -> Result<DynValue, String> {
    schema.decode_as_type(bytes, ty, DecodeOptions::strict(), NoTrace).0.map_err(|e| e.to_string())
}

fn builtin(bytes: &[u8], ty: &str) -> Result<DynValue, String> {
    as_type(Schema::builtin(), bytes, ty)
}

#[test]
fn every_primitive_by_name() {
    assert_eq!(builtin(&7i64.to_le_bytes(), "long").unwrap().view(), DynRef::Long(7));
    assert_eq!(builtin(&1.5f64.to_le_bytes(), "double").unwrap().view(), DynRef::Double(1.5));
    assert_eq!(builtin(&[9; 16], "int128").unwrap().view(), DynRef::Int128([9; 16]));
    assert_eq!(builtin(&[8; 32], "int256").unwrap().view(), DynRef::Int256(&[8; 32]));
    assert!(matches!(builtin(&[2, b'h', b'i', 0], "string").unwrap().view(), DynRef::String(s) if s == "hi"));
    assert!(matches!(builtin(&[1, 0xff, 0, 0], "bytes").unwrap().view(), DynRef::Bytes(b) if b == [0xff]));
    assert_eq!(builtin(&0x9972_75b5u32.to_le_bytes(), "Bool").unwrap().view(), DynRef::Bool(true));
}

#[test]
fn bytes_after_a_value_asked_for_by_type_name_the_type() {
    assert_eq!(
        builtin(&[1, 0, 0, 0, 2, 0, 0, 0], "int").unwrap_err(),
        "error at byte 0x4: 4 bytes left over after the end of int"
    );
    let mut v = 0x1cb5_c415u32.to_le_bytes().to_vec();
    v.extend_from_slice(&[0, 0, 0, 0, 9]);
    assert_eq!(builtin(&v, "Vector<long>").unwrap_err(), "error at byte 0x8: 1 byte left over after the end of Vector");
    // A boxed vector whose id is not Vector.
    let e = builtin(&[1, 2, 3, 4, 0, 0, 0, 0], "Vector<long>").unwrap_err();
    assert!(e.starts_with("error at byte 0x0: ") && e.contains("04030201"), "{e}");
}

#[test]
fn object_is_any_constructor_and_its_fields_are_found_by_name() {
    // updates.state#a56c2a3e pts:int qts:int date:int seq:int unread_count:int
    let mut bytes = 0xa56c_2a3eu32.to_le_bytes().to_vec();
    for v in [1u32, 2, 3, 4, 5] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let value = builtin(&bytes, "Object").unwrap();
    assert_eq!(value.ctor().map(|c| c.name), Some("updates.state"));
    assert_eq!(value.field("seq"), Some(DynRef::Int(4)));
    assert_eq!(value.field("nothing"), None);
    let int = builtin(&1i32.to_le_bytes(), "int").unwrap();
    assert_eq!(int.ctor(), None);
    assert_eq!(int.field("seq"), None);
    let e = builtin(&0x0bad_0badu32.to_le_bytes(), "Object").unwrap_err();
    assert_eq!(e, "error at byte 0x0: unknown Object constructor 0x0bad0bad");
}

#[test]
fn a_type_the_schema_does_not_define() {
    let e = builtin(&[0; 4], "NoSuchType").unwrap_err();
    assert_eq!(e, "error at byte 0x0: the schema uses the type the requested type but does not define it");
    let schema =
        Schema::parse(&[("my.tl", "holder#1 x:nothing = Holder;\npair#2 a:int b:int = Pair;\nbox#3 p:pair = Box;\n")])
            .unwrap();
    let e = as_type(&schema, &[1, 0, 0, 0, 5, 0, 0, 0], "Holder").unwrap_err();
    assert_eq!(e, "error at byte 0x4 in x: the schema uses the type nothing but does not define it");
    // A bare field: the constructor's fields without its id.
    let value = as_type(&schema, &[3, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0], "Box").unwrap();
    let pair = value.field("p").unwrap();
    assert_eq!((pair.field("a"), pair.field("b")), (Some(DynRef::Int(7)), Some(DynRef::Int(8))));
}

#[test]
fn a_schema_lists_its_definitions_and_answers_only_for_calls() {
    let schema =
        Schema::parse(&[("my.tl", "pair#2 a:int b:int = Pair;\n---functions---\nswap#4 p:Pair = Pair;\n")]).unwrap();
    assert!(!schema.is_empty());
    let names: Vec<&str> = schema.iter().map(|c| c.name).collect();
    assert_eq!(names, ["pair", "swap"]);
    assert_eq!(schema.len(), 2);
    let shown = format!("{schema:?}");
    assert!(shown.starts_with("Schema { constructors: 2, "), "{shown}");
    let pair = as_type(&schema, &[2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0], "Pair").unwrap();
    assert_eq!(schema.answer_type(&pair), None, "a constructor is not a call");
    assert_eq!(schema.answer_type(&as_type(&schema, &3i32.to_le_bytes(), "int").unwrap()), None);
    let call = as_type(&schema, &[4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0], "Object").unwrap();
    assert_eq!(schema.answer_type(&call).as_deref(), Some("Pair"));
}

#[test]
fn a_generic_type_that_is_not_a_vector_is_undefined() {
    let e = builtin(&[0; 4], "Maybe<int>").unwrap_err();
    assert_eq!(e, "error at byte 0x0: the schema uses the type the requested type but does not define it");
}

#[test]
fn an_answer_of_a_type_the_schema_returns_but_does_not_define_names_it() {
    // A schema whose function returns a type no constructor has, as the
    // pipeline meets it when it reads the answer as the type the call returns.
    let schema =
        Schema::parse(&[("my.tl", "pair#2 a:int b:int = Pair;\n---functions---\nfetch#4 = Missing;\n")]).unwrap();
    let e = as_type(&schema, &[0; 4], "Missing").unwrap_err();
    assert_eq!(e, "error at byte 0x0: the schema uses the type Missing but does not define it");
}
