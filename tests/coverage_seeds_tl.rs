//! The coverage seeds of the TL core's fuzz targets that
//! `tests/coverage_seeds.rs` does not write: inputs of `schema_differential`'s
//! fixed-schema mode (`MODE_FIXED`: a value of one of the small schemas of
//! `FIXED_SCHEMAS`, which hold what `api.tl` and `mtproto.tl` have no
//! example of). Each reaches lines of `tl/dynamic` that `fuzz/coverage.sh`
//! reported missed; every seed is named `cov-fixed-<what it holds>`.
//!
//! `CORPUS_WRITE=1 cargo test --test coverage_seeds_tl -- --ignored`
//! rewrites them (deterministically: the same bytes every time). Without
//! `CORPUS_WRITE`, the test only builds them and checks that each passes
//! the target's property, which `tests/corpus_replay.rs` also does for the
//! committed files.

use std::fs;
use std::path::Path;

use inspector::tl::dynamic::{DynRef, Expect, Schema};
use inspector::tl::{ids, DecodeOptions};
use inspector_tests::schema_differential::{fixed_schemas, schema_differential, MODE_FIXED, MODE_SCHEMA_TEXT};

type Seeds = Vec<(String, Vec<u8>)>;

/// A fuzz target's property, as its replay calls it.
type Property = fn(&[u8]);

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// A short TL `string`/`bytes` (under 254 bytes), padded to 4.
fn tl_bytes(data: &[u8]) -> Vec<u8> {
    assert!(data.len() < 254, "only the short form is needed here");
    let mut out = vec![data.len() as u8];
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// The id the fixed schema `schema` gives the constructor `name`.
fn id(schema: &Schema, name: &str) -> [u8; 4] {
    le32(schema.by_name(name).unwrap_or_else(|| panic!("{name} is in the fixed schema")).id)
}

/// The seed of `bytes` as a value of fixed schema `which`.
fn seed(which: u8, bytes: &[u8]) -> Vec<u8> {
    [&[MODE_FIXED, which][..], bytes].concat()
}

/// `many` with six flag words: `words` and the fields they set (`a` in
/// flags, `b` and `f` in flags5, `c` and `d` in flags6, `e` in flags2),
/// `inner` being the bytes of `f` when flags5 has bit 0.
fn many(s: &Schema, words: [u32; 6], inner: &[u8]) -> Vec<u8> {
    let mut out = id(s, "many").to_vec();
    for w in words {
        out.extend_from_slice(&le32(w));
    }
    let [flags, flags2, _, _, flags5, flags6] = words;
    if flags & 1 != 0 {
        out.extend_from_slice(&le32(7));
    }
    if flags5 & 2 != 0 {
        out.extend_from_slice(&(-3i64).to_le_bytes());
    }
    if flags6 & 4 != 0 {
        out.extend_from_slice(&tl_bytes(b"six words"));
    }
    if flags2 & 16 != 0 {
        out.extend_from_slice(&le32(ids::BOOL_TRUE));
    }
    if flags5 & 1 != 0 {
        out.extend_from_slice(inner);
    }
    out
}

fn fixed_seeds() -> Seeds {
    let schemas = fixed_schemas();
    let s = &schemas[0];
    let mut out = Seeds::new();
    let mut push = |name: &str, which: u8, bytes: &[u8]| out.push((format!("cov-fixed-{name}"), seed(which, bytes)));
    // Conditions on the fifth and sixth flag words, found on the tape.
    let empty = many(s, [0; 6], &[]);
    let full = many(s, [1, 16, 0, 0, 3, 12], &empty);
    push("many-all-fields", 0, &full);
    push("many-no-fields", 0, &empty);
    push("many-cut", 0, &full[..full.len() - 6]);
    // A bit the sixth word does not define: refused strictly, forgiven leniently.
    push("many-undefined-bit", 0, &many(s, [0, 0, 0, 0, 0, 0x100], &[]));
    // Bare constructors: a field, a vector's elements.
    let point = |x: u32, y: u32| [le32(x), le32(y)].concat();
    let line = [&id(s, "line")[..], &point(1, 2), &id(s, "point"), &point(3, 4)].concat();
    push("line", 0, &line);
    let holder = [
        &id(s, "holder")[..],
        &le32(ids::VECTOR),
        &le32(2),
        &point(5, 6),
        &point(7, 8),
        &le32(3),
        &le32(9),
        &le32(10),
        &le32(11),
        &line,
    ]
    .concat();
    push("holder", 0, &holder);
    // Field names that repeat: the JSON writer's map fallback.
    push("twice", 0, &[&id(s, "twice")[..], &le32(1), &tl_bytes(b"two")].concat());
    // Types the schema uses but does not define.
    for name in ["strange", "wrapped", "truths"] {
        push(name, 0, &[&id(s, name)[..], &le32(0)].concat());
    }
    // An id given twice: the first definition is kept.
    push("dup-id", 0, &[&le32(0x0bad_c0de)[..], &le32(12)].concat());
    // A generic wrapper, and the function inside it.
    let get = [&id(s, "getMany")[..], &le32(13)].concat();
    push("call", 0, &[&id(s, "call")[..], &get].concat());
    push("getMany", 0, &get);
    // A Bool of three constructors is an ordinary type; a string that is
    // not UTF-8 (lenient only: the JSON writer's hex form).
    let o = &schemas[1];
    let maybe = id(o, "boolMaybe");
    push("odd-bool", 1, &[&id(o, "answer")[..], &le32(0), &maybe].concat());
    push("odd-bool-true", 1, &[&id(o, "answer")[..], &le32(1), &le32(ids::BOOL_TRUE), &tl_bytes(b"\xffwhy")].concat());
    out
}

/// Schema texts whose refusal names a field after a flag word or a
/// generic type was defined, or a word that is no field at all (the
/// loader's search for the word at fault).
fn schema_text_seeds() -> Seeds {
    let texts = [
        ("flag-word-unknown-after-flags", "a flags:# y:g.0?int = A;"),
        ("generic-unknown-after-typedef", "a {X:Type} y:!Z = A;"),
        ("word-without-colon", "a x = A;"),
        ("flag-without-bit", "a flags:# x:int? = A;"),
    ];
    texts
        .iter()
        .map(|(name, text)| (format!("cov-text-{name}"), [&[MODE_SCHEMA_TEXT][..], text.as_bytes()].concat()))
        .collect()
}

/// JSON texts whose refusal describes a value of a kind the other seeds
/// do not give where a field's type is expected: a boolean, an object, a
/// null constructor name.
fn json_seeds() -> Seeds {
    let texts = [
        ("bool-for-int", r#"{"_":"rpc_error","error_code":true,"error_message":""}"#),
        ("object-for-int", r#"{"_":"rpc_error","error_code":{},"error_message":""}"#),
        ("null-name", r#"{"_":null}"#),
    ];
    texts.iter().map(|(name, text)| (format!("cov-tl-{name}"), text.as_bytes().to_vec())).collect()
}

#[test]
#[ignore = "writes corpus/; run with CORPUS_WRITE=1 to regenerate the coverage seeds"]
fn regenerate_tl_coverage_seeds() {
    let write = std::env::var_os("CORPUS_WRITE").is_some();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let targets: [(&str, Seeds, Property); 3] = [
        ("schema_differential", fixed_seeds(), schema_differential),
        ("schema_differential", schema_text_seeds(), schema_differential),
        ("json", json_seeds(), inspector_tests::fuzzing::json),
    ];
    for (target, seeds, property) in targets {
        let mut total = 0;
        for (name, data) in &seeds {
            property(data);
            if write {
                fs::write(root.join(target).join(name), data).expect("seed written");
            }
            total += data.len();
        }
        eprintln!("{target}: {} seeds, {total} bytes", seeds.len());
    }
}

/// The seeds hold what their names say: each fixed-schema value is decoded
/// (or refused) as intended, so that a change of `FIXED_SCHEMAS` that
/// moves them is noticed.
#[test]
fn fixed_seeds_decode_as_named() {
    let schemas = fixed_schemas();
    let decode = |data: &[u8], options| {
        let schema = &schemas[usize::from(data[1]) % schemas.len()];
        schema.decode_with_sink(&data[2..], &Expect::Any, options, inspector::tl::NoTrace).0
    };
    for (name, data) in fixed_seeds() {
        let strict = decode(&data, DecodeOptions::strict());
        let lenient = decode(&data, DecodeOptions::lenient());
        match name.as_str() {
            "cov-fixed-many-all-fields" => {
                let v = strict.expect("many with every field");
                assert_eq!(v.field("b"), Some(DynRef::Long(-3)));
                assert!(matches!(v.field("c"), Some(DynRef::String(s)) if s == "six words"));
                assert_eq!(v.field("d"), Some(DynRef::True(true)));
                assert_eq!(v.field("e"), Some(DynRef::Bool(true)));
                assert_eq!(v.field("f").and_then(|f| f.ctor()).map(|c| c.name), Some("many"));
            }
            "cov-fixed-many-cut" | "cov-fixed-strange" | "cov-fixed-wrapped" | "cov-fixed-truths" => {
                assert!(lenient.is_err(), "{name} decodes");
            }
            "cov-fixed-many-undefined-bit" | "cov-fixed-odd-bool-true" => {
                assert!(strict.is_err() && lenient.is_ok(), "{name}: {strict:?} / {lenient:?}");
            }
            "cov-fixed-twice" => {
                let v = strict.expect("twice");
                // The first field of a name is the one `field` finds.
                assert_eq!(v.field("a"), Some(DynRef::Int(1)));
            }
            "cov-fixed-dup-id" => {
                assert_eq!(strict.expect("the first of an id").ctor().map(|c| c.name), Some("first"));
            }
            "cov-fixed-odd-bool" => {
                let v = strict.expect("answer with boolMaybe");
                assert_eq!(v.field("ok").and_then(|f| f.ctor()).map(|c| c.name), Some("boolMaybe"));
            }
            _ => assert!(strict.is_ok(), "{name}: {strict:?}"),
        }
    }
}

/// The fixed schemas give the warnings their texts ask for: the id that
/// is not its line's CRC32, the id given twice, and the types used but
/// not defined.
#[test]
fn fixed_schemas_warn() {
    let warnings: Vec<String> = fixed_schemas()[0].warnings().iter().map(ToString::to_string).collect();
    let expected = [
        "fixed0.tl:13: the id #0badc0de of first is not the CRC32 of its line",
        "fixed0.tl:14: the id #0badc0de of second is not the CRC32 of its line",
        "fixed0.tl:14: second has the id #0badc0de of first (line 13); the first is kept",
        "fixed0.tl:10: strange uses the type Mystery, which the schema does not define",
        "fixed0.tl:11: wrapped uses the type Box<int>, which the schema does not define",
        "fixed0.tl:12: truths uses the type Vector<true>, which the schema does not define",
    ];
    for e in expected {
        assert!(warnings.iter().any(|w| w.starts_with(e)), "no warning {e:?} among {warnings:#?}");
    }
    assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
    assert!(fixed_schemas()[1].warnings().is_empty());
}
