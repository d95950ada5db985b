//! The property of the fuzz target `schema_differential`: the typed
//! closure and the schema-driven decoder, given the same bytes, agree
//! exactly: the same value (as canonical JSON), the same trace (fields
//! without bytes included, so the same tree and field map), the same
//! warnings and the same error, strict and lenient.
//!
//! The exact comparison is with [`Schema::closure`], which knows the
//! constructors the typed core knows and so names the same ones in its
//! messages. With the whole [`Schema::builtin`] the values and traces of
//! every accepted frame must agree too, and a rejected frame must be
//! rejected at the same byte and field (its message may name a constructor
//! the closure does not know).

use std::collections::HashSet;
use std::sync::OnceLock;

use inspector::tl::dynamic::{DynValue, Expect, Schema};
use inspector::tl::json::TlJson;
use inspector::tl::{decode_with_sink, DecodeOptions, Frame, FullTrace, Problem, Recorder, TraceEvent, TraceSink};

/// One decode's [`FullTrace`] and [`Recorder`] (trace proper and warnings)
/// at once: the sinks only listen, so a decode into both records what a
/// decode into each would. Two decodes per decoder and mode instead of four
/// (the fuzz target's speed).
#[derive(Default)]
struct Both {
    full: FullTrace,
    rec: Recorder,
    /// For each of `rec`'s open objects (by its index there), its index in `full`.
    full_index: Vec<usize>,
}

impl TraceSink for Both {
    fn record(&mut self, event: TraceEvent) {
        self.full.record(event.clone());
        self.rec.record(event);
    }

    fn open(&mut self, event: TraceEvent) -> usize {
        let f = self.full.open(event.clone());
        let r = self.rec.open(event);
        if self.full_index.len() <= r {
            self.full_index.resize(r + 1, usize::MAX);
        }
        self.full_index[r] = f;
        r
    }

    fn close(&mut self, index: usize, end: usize) {
        if let Some(&f) = self.full_index.get(index) {
            self.full.close(f, end);
        }
        self.rec.close(index, end);
    }

    fn record_flag_only(&mut self, event: TraceEvent) {
        self.full.record_flag_only(event);
    }

    fn warning(&mut self, offset: usize, field: &str, problem: Problem) {
        self.rec.warning(offset, field, problem);
    }
}

/// Both decoders on `bytes` with `options`: `Err` says how they differ.
pub fn agree(bytes: &[u8], options: DecodeOptions) -> Result<(), String> {
    let expect = Expect::frame();
    let schema = Schema::closure();
    // The trace with the fields without bytes, and then the warnings.
    let (typed, Both { full: typed_full, rec: typed_rec, .. }) =
        decode_with_sink::<Frame, _>(bytes, options, Both::default());
    let (dynamic, Both { full: dynamic_full, rec: dynamic_rec, .. }) =
        schema.decode_with_sink(bytes, &expect, options, Both::default());
    let typed_json = typed.as_ref().ok().map(|t| t.to_json());
    match (&typed, &dynamic) {
        (Ok(_), Ok(d)) if typed_json.as_ref() != Some(&d.to_json()) => {
            return Err(format!(
                "values differ:\n typed   {}\n dynamic {}",
                typed_json.unwrap_or_default(),
                d.to_json()
            ))
        }
        (Err(t), Err(d)) if t != d => return Err(format!("errors differ:\n typed   {t}\n dynamic {d}")),
        (Ok(_), Err(d)) => return Err(format!("only the dynamic decoder fails: {d}")),
        (Err(t), Ok(_)) => return Err(format!("only the typed decoder fails: {t}")),
        _ => {}
    }
    if typed_full != dynamic_full {
        return Err(format!("traces differ:\n typed   {:?}\n dynamic {:?}", typed_full.0, dynamic_full.0));
    }
    if typed_rec != dynamic_rec {
        return Err(format!("warnings or traces differ:\n typed   {typed_rec:?}\n dynamic {dynamic_rec:?}"));
    }
    // What the schema decoded, it encodes back to the typed encoder's bytes.
    // (The values agree, checked above: the typed value's JSON is the
    // dynamic value's, made once.)
    if let (Ok(t), Ok(_), Some(json)) = (&typed, &dynamic, &typed_json) {
        let again = schema.encode_json(json).map_err(|e| format!("cannot encode its own JSON: {e}"))?;
        let typed_bytes = inspector::tl::TlObject::to_bytes(t).map_err(|e| e.to_string())?;
        if again != typed_bytes {
            return Err(format!("encodings differ: {again:02x?} vs {typed_bytes:02x?}"));
        }
    }
    // The whole schema: the same values and traces, failures at the same place.
    let (whole, whole_full) = Schema::builtin().decode_with_sink(bytes, &expect, options, FullTrace::default());
    match (&typed, &whole) {
        (Ok(_), Ok(w)) if typed_json.as_ref() != Some(&w.to_json()) || whole_full != typed_full => {
            Err(format!("the builtin schema decodes differently: {}", w.to_json()))
        }
        (Err(t), Err(w)) if (t.offset, &t.path) != (w.offset, &w.path) => {
            Err(format!("the builtin schema fails elsewhere:\n typed   {t}\n builtin {w}"))
        }
        (Ok(_), Err(w)) => Err(format!("only the builtin schema fails: {w}")),
        (Err(t), Ok(_)) => Err(format!("only the typed decoder fails, the builtin schema does not: {t}")),
        _ => Ok(()),
    }
}

/// The fuzz property. An input whose first byte is one of the [`MODE_ANY`],
/// [`MODE_TYPE`] and [`MODE_SCHEMA_TEXT`] markers is checked in that mode
/// (the rest of the input is its data); any other input is a frame, and
/// [`agree`], strict and lenient, panics with the difference. No frame
/// constructor's id starts with a marker byte, so the frames of the corpus
/// keep their meaning, and one mode runs per input.
pub fn schema_differential(data: &[u8]) {
    match data.split_first() {
        Some((&MODE_ANY, rest)) => any(rest),
        Some((&MODE_TYPE, rest)) => of_type(rest),
        Some((&MODE_SCHEMA_TEXT, rest)) => schema_text(rest),
        _ => {
            for options in [DecodeOptions::strict(), DecodeOptions::lenient()] {
                if let Err(e) = agree(data, options) {
                    panic!("the typed and schema-driven decoders disagree ({options:?}) on {data:02x?}: {e}");
                }
            }
        }
    }
}

/// First byte of an input decoded with [`Expect::Any`] over the whole
/// [`Schema::builtin`]: see `any`.
pub const MODE_ANY: u8 = 0xa0;
/// First byte of an input decoded as a type of the builtin schema chosen by
/// its next two bytes: see `of_type`.
pub const MODE_TYPE: u8 = 0xa1;
/// First byte of an input parsed as TL schema text: see
/// `schema_text`.
pub const MODE_SCHEMA_TEXT: u8 = 0xa2;

/// The types `of_type` chooses from: TL's primitives, `Bool`, `Object`
/// and some vectors (including a type no schema defines) first, so that a
/// small index reaches them, then every boxed type of the builtin schema
/// in file order.
pub fn builtin_types() -> &'static [String] {
    static TYPES: OnceLock<Vec<String>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let mut types: Vec<String> = [
            "Bool",
            "Object",
            "int",
            "long",
            "double",
            "int128",
            "int256",
            "string",
            "bytes",
            "Vector<long>",
            "Vector<int>",
            "Vector<double>",
            "Vector<bytes>",
            "Vector<Bool>",
            "vector<long>",
            "Vector<Vector<int>>",
            "Vector<Object>",
            "Vector<User>",
            "NoSuchType",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let mut seen = HashSet::new();
        for ctor in Schema::builtin().iter() {
            if !ctor.is_function && seen.insert(ctor.ty) {
                types.push(ctor.ty.to_string());
            }
        }
        types
    })
}

/// [`MODE_ANY`]: `data` decoded with [`Expect::Any`] over the whole builtin
/// schema (every constructor and function of `api.tl` and `mtproto.tl`),
/// strictly and leniently, with the checks of [`check_schema_decode`].
fn any(data: &[u8]) {
    check_schema_decode(data, &Expect::Any);
}

/// [`MODE_TYPE`]: the first two bytes (little endian) choose a type of
/// [`builtin_types`], and the rest is decoded as a value of that type
/// ([`Expect::Type`]), with the checks of [`check_schema_decode`].
fn of_type(data: &[u8]) {
    let [a, b, rest @ ..] = data else { return };
    let types = builtin_types();
    let ty = &types[usize::from(u16::from_le_bytes([*a, *b])) % types.len()];
    check_schema_decode(rest, &Expect::Type(ty.clone()));
}

/// The schema-driven decoder on any bytes, as anything `expect` allows:
///
/// - never panics; every span of the trace and every warning lies within
///   the input; a rejected input's error names an offset within it, on
///   one line;
/// - whatever strict decoding accepts, lenient decoding accepts as the same
///   value with no warning;
/// - an accepted value's JSON, written directly (`write_json`), is the
///   text of its `to_json`, and that text reads back to the same JSON;
/// - an accepted object encodes back from its JSON (`encode_json`): to
///   exactly the input when strict decoding accepted it, and otherwise to
///   bytes that decode (leniently) to the same JSON;
/// - a value that is not a function call has no answer type.
fn check_schema_decode(bytes: &[u8], expect: &Expect) {
    let schema = Schema::builtin();
    let (strict, trace) = schema.decode_with_sink(bytes, expect, DecodeOptions::strict(), FullTrace::default());
    check_spans(bytes, &trace.0, expect);
    let (lenient, rec) = schema.decode_with_sink(bytes, expect, DecodeOptions::lenient(), Recorder::default());
    check_spans(bytes, &rec.events, expect);
    for w in &rec.warnings {
        let line = w.to_string();
        assert!(w.offset <= bytes.len(), "warning past the input's {} bytes ({expect:?}): {line}", bytes.len());
        assert!(!line.contains(['\n', '\r']), "warning of more than one line ({expect:?}): {line:?}");
    }
    for e in [strict.as_ref().err(), lenient.as_ref().err()].into_iter().flatten() {
        let line = e.to_string();
        assert!(e.offset <= bytes.len(), "error past the input's {} bytes ({expect:?}): {line}", bytes.len());
        assert!(!line.contains(['\n', '\r']), "error of more than one line ({expect:?}): {line:?}");
    }
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => {
            let json = check_dyn_json(s, expect);
            assert_eq!(json, l.to_json(), "strict and lenient decoding differ on {bytes:02x?} ({expect:?})");
            assert!(rec.warnings.is_empty(), "lenient decoding warns where strict accepted: {:?}", rec.warnings);
            if s.ctor().is_some() {
                match schema.encode_json(&json) {
                    Ok(again) => assert!(
                        again == bytes,
                        "the JSON of a strictly decoded value encodes to other bytes ({expect:?}):\n \
                         input {bytes:02x?}\n again {again:02x?}\n json {json}"
                    ),
                    Err(e) => panic!("cannot encode the JSON of a decoded value ({expect:?}): {e}\n json {json}"),
                }
            }
            check_answer_type(s);
        }
        (Ok(_), Err(e)) => panic!("lenient decoding fails where strict decoding accepts ({expect:?}): {e}"),
        (Err(_), Ok(l)) => {
            let json = check_dyn_json(l, expect);
            if l.ctor().is_some() {
                let again = match schema.encode_json(&json) {
                    Ok(again) => again,
                    Err(e) => {
                        panic!("cannot encode the JSON of a leniently decoded value ({expect:?}): {e}\n json {json}")
                    }
                };
                match schema.decode_with_sink(&again, expect, DecodeOptions::lenient(), inspector::tl::NoTrace).0 {
                    Ok(back) => assert_eq!(back.to_json(), json, "re-encoded value reads back differently"),
                    Err(e) => panic!("the re-encoding of a leniently decoded value does not decode ({expect:?}): {e}"),
                }
            }
            check_answer_type(l);
        }
        (Err(_), Err(_)) => {}
    }
}

/// The spans of a trace lie within the input (the renderers index the
/// input with them).
fn check_spans(bytes: &[u8], trace: &[TraceEvent], expect: &Expect) {
    for ev in trace {
        let end = if ev.end == TraceEvent::OPEN { ev.start } else { ev.end };
        assert!(
            ev.start <= end && end <= bytes.len(),
            "trace event {ev:?} points outside the {} input bytes ({expect:?})",
            bytes.len()
        );
    }
}

/// A decoded value's two JSON forms agree, and its text reads back; the JSON.
fn check_dyn_json(value: &DynValue, expect: &Expect) -> serde_json::Value {
    let json = value.to_json();
    let mut text = Vec::new();
    value.write_json(&mut text).expect("writing JSON into memory");
    let expected = serde_json::to_vec(&json).expect("serializing a JSON value");
    assert!(
        text == expected,
        "write_json and to_json differ ({expect:?}):\n write_json {}\n to_json    {}",
        String::from_utf8_lossy(&text),
        String::from_utf8_lossy(&expected)
    );
    match serde_json::from_slice::<serde_json::Value>(&text) {
        Ok(back) => assert_eq!(back, json, "the JSON text reads back differently: {}", String::from_utf8_lossy(&text)),
        Err(e) => panic!("our own JSON text does not parse: {e}\n {}", String::from_utf8_lossy(&text)),
    }
    json
}

/// Only a function call has an answer type.
fn check_answer_type(value: &DynValue) {
    let answer = Schema::builtin().answer_type(value);
    match value.ctor() {
        Some(c) if !c.is_function => assert_eq!(answer, None, "{} is no function but has an answer type", c.name),
        None => assert_eq!(answer, None, "a value that is no object has an answer type"),
        Some(_) => {}
    }
}

/// [`MODE_SCHEMA_TEXT`]: `data` (as UTF-8, lossily) parsed as TL schema
/// text, followed by a line no loader accepts (an unknown section), so that
/// the loader always fails (and never reaches building, which leaks its
/// tables by design: see `inspector::tl::dynamic`). The error is one line,
/// names the text's file, and a line and column within the text; a line
/// before the last one when that line is not a definition.
fn schema_text(data: &[u8]) {
    const LAST: &str = "---end-of-fuzz-input---";
    let text = format!("{}\n{LAST}", String::from_utf8_lossy(data));
    let lines: Vec<&str> = text.lines().collect();
    let e = match Schema::parse(&[("fuzz.tl", &text)]) {
        Ok(_) => panic!("the schema loader accepted a text ending in {LAST:?}: {text:?}"),
        Err(e) => e,
    };
    let line = e.to_string();
    assert!(!line.contains(['\n', '\r']), "schema error of more than one line: {line:?}");
    assert!(line.starts_with("fuzz.tl:"), "schema error without its file: {line:?}");
    assert!(e.line >= 1 && e.line <= lines.len(), "schema error at line {} of {}: {line:?}", e.line, lines.len());
    let width = lines[e.line - 1].chars().count();
    assert!(
        e.column >= 1 && e.column <= width + 1,
        "schema error at column {} of a line of {width} characters: {line:?}",
        e.column
    );
    if e.line == lines.len() {
        assert!(e.message.contains(LAST), "the last line's error does not name it: {line:?}");
    }
}
