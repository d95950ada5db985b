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

use inspector::tl::dynamic::{DynRef, DynValue, Expect, Schema};
use inspector::tl::json::TlJson;
use inspector::tl::{
    decode_with_sink, ChatInviteExported, DecodeOptions, ExportChatInvite, ExportedChatInvite, Frame, FullTrace,
    Problem, Reader, Recorder, TlObject, TlString, TraceEvent, TraceSink,
};
use serde_json::Value;

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
    // An error taken apart (`into_detail`) holds what it shows.
    if let Err(t) = &typed {
        if t.clone().into_detail() != **t {
            return Err(format!("into_detail of {t} gives another detail"));
        }
    }
    if typed_full != dynamic_full {
        return Err(format!("traces differ:\n typed   {:?}\n dynamic {:?}", typed_full.0, dynamic_full.0));
    }
    if typed_rec != dynamic_rec {
        return Err(format!("warnings or traces differ:\n typed   {typed_rec:?}\n dynamic {dynamic_rec:?}"));
    }
    if let (Ok(t), Ok(d)) = (&typed, &dynamic) {
        typed_helpers_agree(t, d)?;
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
/// [`MODE_TYPE`], [`MODE_SCHEMA_TEXT`] and [`MODE_FIXED`] markers is checked in that mode
/// (the rest of the input is its data); any other input is a frame, and
/// [`agree`], strict and lenient, panics with the difference. No frame
/// constructor's id starts with a marker byte, so the frames of the corpus
/// keep their meaning, and one mode runs per input.
pub fn schema_differential(data: &[u8]) {
    match data.split_first() {
        Some((&MODE_ANY, rest)) => any(rest),
        Some((&MODE_TYPE, rest)) => of_type(rest),
        Some((&MODE_SCHEMA_TEXT, rest)) => schema_text(rest),
        Some((&MODE_FIXED, rest)) => fixed(rest),
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
/// First byte of an input decoded with [`Expect::Any`] over one of the
/// schemas of [`FIXED_SCHEMAS`], chosen by its next byte: see `fixed`.
pub const MODE_FIXED: u8 = 0xa3;

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
    check_schema_decode(Schema::builtin(), data, &Expect::Any);
}

/// [`MODE_TYPE`]: the first two bytes (little endian) choose a type of
/// [`builtin_types`], and the rest is decoded as a value of that type
/// ([`Expect::Type`]), with the checks of [`check_schema_decode`].
fn of_type(data: &[u8]) {
    let [a, b, rest @ ..] = data else { return };
    let types = builtin_types();
    let ty = &types[usize::from(u16::from_le_bytes([*a, *b])) % types.len()];
    check_schema_decode(Schema::builtin(), rest, &Expect::Type(ty.clone()));
    check_primitive(ty, rest);
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
/// - a value that is not a function call has no answer type;
/// - the value's tree view agrees with its JSON and with the schema's
///   tables ([`check_view`]).
///
/// (The JSON form keeps one entry per key: a constructor whose field names
/// repeat, which only [`FIXED_SCHEMAS`] has, cannot come back from it, so
/// such a value is not encoded back.)
fn check_schema_decode(schema: &Schema, bytes: &[u8], expect: &Expect) {
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
            let plain = check_view(schema, s, &json);
            if s.ctor().is_some() && plain {
                match schema.encode_json(&json) {
                    Ok(again) => assert!(
                        again == bytes,
                        "the JSON of a strictly decoded value encodes to other bytes ({expect:?}):\n \
                         input {bytes:02x?}\n again {again:02x?}\n json {json}"
                    ),
                    Err(e) => panic!("cannot encode the JSON of a decoded value ({expect:?}): {e}\n json {json}"),
                }
            }
            check_answer_type(schema, s);
        }
        (Ok(_), Err(e)) => panic!("lenient decoding fails where strict decoding accepts ({expect:?}): {e}"),
        (Err(_), Ok(l)) => {
            let json = check_dyn_json(l, expect);
            let plain = check_view(schema, l, &json);
            if l.ctor().is_some() && plain {
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
            check_answer_type(schema, l);
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
fn check_answer_type(schema: &Schema, value: &DynValue) {
    let answer = schema.answer_type(value);
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

/// The typed value's helpers, against the schema-driven value decoded from
/// the same bytes with [`Schema::closure`] (whose JSON is the same,
/// checked before):
///
/// - the variant converts back (`From`) into the frame it came from;
/// - the typed constructor's TL line (`tl_line`) is the line the schema
///   loaded from `closure.tl`, and both tables give each flag bit
///   (`field_for_bit`) to the same field;
/// - each of the frame's strings compares equal (`PartialEq<str>`) to the
///   schema's text where it is UTF-8, and its `Debug` and `Display` are
///   the schema string's (`Debug`) and its lossy text;
/// - a request's peer nests (`InputPeer::depth`) as many peers deep as the
///   schema's value has `peer` fields inside each other;
/// - a value built with `new` from the frame's required fields has no
///   optional field (a flag word of 0), and is the frame once the optional
///   fields are set.
fn typed_helpers_agree(typed: &Frame, dynamic: &DynValue) -> Result<(), String> {
    let again: Frame = match typed {
        Frame::Request(r) => r.clone().into(),
        Frame::Answer(a) => a.clone().into(),
        Frame::Error(e) => e.clone().into(),
    };
    if &again != typed {
        return Err(format!("From gives another frame: {again:?}"));
    }
    let ctor = typed.ctor();
    let loaded = dynamic.ctor().ok_or("the schema's frame is not an object")?;
    if ctor.tl_line() != format!("{};", loaded.line) {
        return Err(format!("TL lines differ:\n typed  {}\n schema {};", ctor.tl_line(), loaded.line));
    }
    for bit in 0..32 {
        let (t, l) = (ctor.field_for_bit(bit).map(|f| f.name), loaded.field_for_bit(bit).map(|f| f.name));
        if t != l {
            return Err(format!("bit {bit} of {}: typed field {t:?}, schema field {l:?}", ctor.name));
        }
    }
    let mut strings: Vec<(&str, &TlString)> = Vec::new();
    match typed {
        Frame::Request(r) => strings.extend(r.title.as_ref().map(|t| ("title", t))),
        Frame::Answer(ExportedChatInvite::Exported(e)) => {
            strings.push(("link", &e.link));
            strings.extend(e.title.as_ref().map(|t| ("title", t)));
        }
        Frame::Answer(ExportedChatInvite::PublicJoinRequests) => {}
        Frame::Error(e) => strings.push(("error_message", &e.error_message)),
    }
    for (name, t) in strings {
        let Some(DynRef::String(d)) = dynamic.field(name) else {
            return Err(format!("the schema's value has no string {name}"));
        };
        if let Some(text) = d.as_str() {
            if !(*t == *text && *t == text) {
                return Err(format!("{name}: {t:?} is not equal to the schema's text {text:?}"));
            }
        }
        if t.len() != d.as_bytes().len() || t.is_empty() != d.as_bytes().is_empty() {
            return Err(format!("{name}: {} bytes, the schema's string {}", t.len(), d.as_bytes().len()));
        }
        if format!("{t:?}") != format!("{d:?}") || t.to_string() != String::from_utf8_lossy(d.as_bytes()) {
            return Err(format!("{name}: Debug or Display differ: {t:?} / {t} against {d:?}"));
        }
    }
    // The typed tables find each constructor of the value by its id.
    let mut stack = vec![dynamic.view()];
    while let Some(v) = stack.pop() {
        match v {
            DynRef::Object { ctor, fields } => {
                let found = inspector::tl::schema::ctor_by_id(ctor.id).map(|c| c.name);
                if found != Some(ctor.name) {
                    return Err(format!("ctor_by_id({:#x}) is {found:?}, not {}", ctor.id, ctor.name));
                }
                stack.extend(fields.iter());
            }
            DynRef::Vector(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    let pricing = match typed {
        Frame::Request(r) => r.subscription_pricing.as_ref(),
        Frame::Answer(ExportedChatInvite::Exported(e)) => e.subscription_pricing.as_ref(),
        _ => None,
    };
    if let Some(p) = pricing {
        let loaded = dynamic.field("subscription_pricing").and_then(|f| f.ctor()).map(|c| c.name);
        if loaded != Some(p.ctor().name) {
            return Err(format!("the pricing is {} here, {loaded:?} in the schema's value", p.ctor().name));
        }
    }
    match typed {
        Frame::Request(r) => {
            let mut depth = 0;
            let mut peer = dynamic.field("peer");
            while let Some(p) = peer {
                depth += 1;
                peer = p.field("peer");
            }
            if r.peer.depth() != depth {
                return Err(format!("the peer nests {} deep, the schema's value {depth}", r.peer.depth()));
            }
            let mut built = ExportChatInvite::new(r.peer.clone());
            if built.flags() != 0 {
                return Err(format!("ExportChatInvite::new has flags {:#x}", built.flags()));
            }
            built.legacy_revoke_permanent = r.legacy_revoke_permanent;
            built.request_needed = r.request_needed;
            built.expire_date = r.expire_date;
            built.usage_limit = r.usage_limit;
            built.title.clone_from(&r.title);
            built.subscription_pricing.clone_from(&r.subscription_pricing);
            if &built != r {
                return Err(format!("ExportChatInvite::new and its fields give {built:?}"));
            }
        }
        Frame::Answer(ExportedChatInvite::Exported(e)) => {
            let mut built = ChatInviteExported::new(e.link.clone(), e.admin_id, e.date);
            if built.flags() != 0 {
                return Err(format!("ChatInviteExported::new has flags {:#x}", built.flags()));
            }
            built.revoked = e.revoked;
            built.permanent = e.permanent;
            built.request_needed = e.request_needed;
            built.start_date = e.start_date;
            built.expire_date = e.expire_date;
            built.usage_limit = e.usage_limit;
            built.usage = e.usage;
            built.requested = e.requested;
            built.subscription_expired = e.subscription_expired;
            built.title.clone_from(&e.title);
            built.subscription_pricing.clone_from(&e.subscription_pricing);
            if &built != e {
                return Err(format!("ChatInviteExported::new and its fields give {built:?}"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The tree view of a value decoded with `schema`, against its JSON (`json`,
/// its `to_json`) and the schema's tables, at every object, vector and
/// string of it:
///
/// - an object's fields and a vector's items: `len` is the number of items
///   the walk meets, `is_empty` whether it met none, `get(i)` the i-th of
///   them, and the sequence equals a copy of itself;
/// - an object's `field(name)` is the item at the position of the first
///   field of that name (on the value, the view's), and the object's JSON
///   holds its constructor's name and, under that name, that item's JSON
///   (leaves compared: numbers, booleans, nulls, strings);
/// - the schema finds the constructor by its id (`by_id`, `name_of`) and a
///   constructor by its name (`by_name`), and a constructor (not a
///   function) among those of its type (`constructors_of`);
/// - a string equals its text (`PartialEq<str>`) and its `Debug` is the
///   text's; one that is not UTF-8 says so.
///
/// Returns whether every object's field names are distinct (and none is
/// `_`): only then does the JSON hold every field.
pub fn check_view(schema: &Schema, value: &DynValue, json: &Value) -> bool {
    let view = value.view();
    assert_eq!(value.ctor().map(|c| c.id), view.ctor().map(|c| c.id), "DynValue::ctor is not its view's");
    if let Some(ctor) = value.ctor() {
        for f in ctor.fields {
            let (a, b) = (value.field(f.name), view.field(f.name));
            assert!(same(&a, &b), "DynValue::field({}) is not its view's: {a:?} and {b:?}", f.name);
        }
    }
    assert_eq!(value.field("no such field"), None, "a field no constructor has was found");
    assert!(!format!("{value:?}").contains('\n'), "Debug of a value is more than one line");
    let mut plain = true;
    check_ref(schema, view, Some(json), &mut plain);
    plain
}

fn check_ref(schema: &Schema, r: DynRef<'_>, json: Option<&Value>, plain: &mut bool) {
    match r {
        DynRef::Object { ctor, fields } => {
            let items = check_seq(fields);
            assert_eq!(items.len(), ctor.fields.len(), "{} has {} fields on the tape", ctor.name, items.len());
            let names_plain = ctor
                .fields
                .iter()
                .enumerate()
                .all(|(i, f)| f.name != "_" && ctor.fields[..i].iter().all(|g| g.name != f.name));
            *plain &= names_plain;
            let json = json.filter(|_| names_plain);
            if let Some(json) = json {
                assert_eq!(json.get("_").and_then(Value::as_str), Some(ctor.name), "JSON of {}: {json}", ctor.name);
            }
            for (i, (def, item)) in ctor.fields.iter().zip(&items).enumerate() {
                if ctor.fields.iter().position(|g| g.name == def.name) == Some(i) {
                    let got = r.field(def.name);
                    assert!(
                        same(&got, &Some(*item)),
                        "{}.{} is not the field at its place: {got:?}, walked {item:?}",
                        ctor.name,
                        def.name
                    );
                }
                check_ref(schema, *item, json.and_then(|j| j.get(def.name)), plain);
            }
            assert!(
                schema.by_id(ctor.id).is_some_and(|c| std::ptr::eq(c, ctor)),
                "by_id({:#x}) is not {}",
                ctor.id,
                ctor.name
            );
            assert_eq!(schema.name_of(ctor.id), Some(ctor.name), "name_of({:#x})", ctor.id);
            assert!(
                schema.by_name(ctor.name).is_some_and(|c| c.name == ctor.name),
                "by_name({}) finds another",
                ctor.name
            );
            if !ctor.is_function {
                assert!(
                    schema.constructors_of(ctor.ty).iter().any(|c| std::ptr::eq(*c, ctor)),
                    "{} is not among the constructors of {}",
                    ctor.name,
                    ctor.ty
                );
            }
        }
        DynRef::Vector(seq) => {
            let items = check_seq(seq);
            if let Some(json) = json {
                let array = json.as_array().unwrap_or_else(|| panic!("a vector's JSON is {json}"));
                assert_eq!(array.len(), items.len(), "a vector of {} items has {json} as JSON", items.len());
            }
            for (i, item) in items.into_iter().enumerate() {
                check_ref(schema, item, json.and_then(|j| j.get(i)), plain);
            }
        }
        DynRef::String(s) => match s.as_str() {
            Some(text) => {
                assert!(s == *text && s == text, "a string is not equal to its text {text:?}");
                assert_eq!(format!("{s:?}"), format!("{text:?}"), "Debug of a string");
                if let Some(json) = json {
                    assert_eq!(json.as_str(), Some(text), "a string's JSON is {json}");
                }
            }
            None => {
                assert!(format!("{s:?}").contains("invalid UTF-8"), "Debug of a string that is not UTF-8: {s:?}");
                if let Some(json) = json {
                    let hex = inspector::hex::encode(s.as_bytes());
                    assert_eq!(json.get("hex").and_then(Value::as_str), Some(hex.as_str()), "JSON of bytes: {json}");
                }
            }
        },
        DynRef::Int(v) => assert_leaf(json, &Value::from(v)),
        DynRef::Long(v) => assert_leaf(json, &Value::from(v)),
        DynRef::Flags(v) => assert_leaf(json, &Value::from(v)),
        DynRef::Bool(b) | DynRef::True(b) => assert_leaf(json, &Value::Bool(b)),
        DynRef::Absent => assert_leaf(json, &Value::Null),
        DynRef::Double(_) | DynRef::Int128(_) | DynRef::Int256(_) | DynRef::Bytes(_) => {}
    }
}

/// A sequence's items, walked once, checked against `len`, `is_empty`,
/// `get` and its own copy.
fn check_seq<'a>(seq: inspector::tl::dynamic::Seq<'a>) -> Vec<DynRef<'a>> {
    let items: Vec<DynRef<'a>> = seq.iter().collect();
    assert_eq!(seq.len(), items.len(), "Seq::len is not the number of items walked");
    assert_eq!(seq.is_empty(), items.is_empty(), "Seq::is_empty");
    assert_eq!(seq.iter().len(), items.len(), "SeqIter's exact size");
    if let Some(last) = items.len().checked_sub(1) {
        let got = seq.get(last);
        assert!(same(&got, &Some(items[last])), "Seq::get of the last item: {got:?}, walked {:?}", items[last]);
    }
    assert_eq!(seq.get(items.len()), None, "Seq::get past the end");
    let copy = seq;
    assert!(same(&copy, &seq), "a sequence is not equal to its copy");
    items
}

/// Equal, or (when a `double` in them is NaN, which equals nothing, itself
/// included) written alike: the same item at the same place.
fn same<T: PartialEq + std::fmt::Debug>(a: &T, b: &T) -> bool {
    a == b || format!("{a:?}") == format!("{b:?}")
}

fn assert_leaf(json: Option<&Value>, expected: &Value) {
    if let Some(json) = json {
        assert_eq!(json, expected, "a field's JSON");
    }
}

/// [`MODE_TYPE`] for TL's primitives: the typed core's [`Reader`], which
/// the typed closure's decoders call, reads the same value from the
/// bytes as the schema-driven decoder (strictly, the whole input), and
/// reports the options and buffer it was made with.
fn check_primitive(ty: &str, bytes: &[u8]) {
    let options = DecodeOptions::strict();
    let mut r = Reader::new(bytes, options);
    assert_eq!(r.options(), options, "Reader::options");
    assert!(std::ptr::eq(r.buffer(), bytes), "Reader::buffer is not the input");
    let typed: Option<Value> = match ty {
        "int" => r.int("value").ok().map(Value::from),
        "long" => r.long("value").ok().map(Value::from),
        "string" => r.string("value").ok().map(|s| Value::String(String::from_utf8_lossy(s.as_bytes()).into_owned())),
        "bytes" => r.bytes("value").ok().map(|b| Value::String(inspector::hex::encode(&b))),
        "int128" => r.int128("value").ok().map(|b| Value::String(inspector::hex::encode(&b))),
        "int256" => r.int256("value").ok().map(|b| Value::String(inspector::hex::encode(&b))),
        _ => return,
    };
    let typed = typed.filter(|_| r.remaining() == 0);
    let expect = Expect::Type(ty.to_string());
    let dynamic = Schema::builtin().decode_with_sink(bytes, &expect, options, inspector::tl::NoTrace).0;
    let dynamic = dynamic.ok().map(|v| match v.view() {
        DynRef::Int(v) => Value::from(v),
        DynRef::Long(v) => Value::from(v),
        DynRef::String(s) => Value::String(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        DynRef::Bytes(b) => Value::String(inspector::hex::encode(b)),
        DynRef::Int128(b) => Value::String(inspector::hex::encode(&b)),
        DynRef::Int256(b) => Value::String(inspector::hex::encode(b)),
        other => panic!("{ty} decoded as {other:?}"),
    });
    assert_eq!(typed, dynamic, "the typed reader and the schema read {ty} differently from {bytes:02x?}");
}

/// TL texts that the builtin schema has no example of, loaded once per
/// process by [`fixed_schemas`] (a schema's tables are leaked by design,
/// so the fuzzer cannot load one per input; these stay reachable): a
/// constructor with six flag words (the decoder keeps four at hand and
/// finds the others on its tape), field names that repeat, bare
/// constructors as fields and vector elements, types used but never
/// defined (a generic one, `Vector<true>`), an id that is not its line's
/// CRC32 and an id given twice, a generic wrapper, and (the second text)
/// a `Bool` with a third constructor, which makes it an ordinary type.
pub const FIXED_SCHEMAS: [&str; 2] = [
    "// fixed.tl: what api.tl and mtproto.tl have no example of
---types---
boolFalse#bc799737 = Bool;
boolTrue#997275b5 = Bool;
many flags:# flags2:# flags3:# flags4:# flags5:# flags6:# a:flags.0?int b:flags5.1?long c:flags6.2?string d:flags6.3?true e:flags2.4?Bool f:flags5.0?Many = Many;
point x:int y:int = Point;
line from:point to:Point = Line;
holder points:Vector<point> ints:vector<int> line:Line = Holder;
twice a:int a:string = Twice;
strange x:Mystery = Strange;
wrapped x:Box<int> = Wrapped;
truths t:Vector<true> = Truths;
first#0badc0de x:int = Dup;
second#0badc0de y:long = Dup;
---functions---
call {X:Type} query:!X = X;
getMany id:int = Many;
",
    "// odd_bool.tl: a Bool of three constructors is an ordinary boxed type
boolFalse#bc799737 = Bool;
boolTrue#997275b5 = Bool;
boolMaybe = Bool;
answer flags:# ok:Bool why:flags.0?string = Answer;
",
];

/// [`FIXED_SCHEMAS`], loaded on first use and kept for the process. Each
/// loads (the `expect` is the property: they are valid TL) with the
/// warnings its text asks for, and the schema's tables agree with
/// themselves: `len` is the number of constructors `iter` lists,
/// `is_empty` is false, each one is found by its id (`by_id`, `name_of`,
/// unless a first one of the same id was kept), and each warning is one
/// line naming its file.
pub fn fixed_schemas() -> &'static [Schema] {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        FIXED_SCHEMAS
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let file = format!("fixed{i}.tl");
                let schema =
                    Schema::parse(&[(file.as_str(), *text)]).unwrap_or_else(|e| panic!("{file} does not load: {e}"));
                assert_eq!(schema.len(), schema.iter().count(), "{file}: Schema::len");
                assert!(!schema.is_empty(), "{file}: Schema::is_empty");
                assert!(format!("{schema:?}").contains(&format!("constructors: {}", schema.len())), "{schema:?}");
                for c in schema.iter() {
                    assert_eq!(schema.by_id(c.id).map(|f| f.id), Some(c.id), "{file}: by_id({:#x})", c.id);
                    assert_eq!(schema.name_of(c.id), Some(c.name), "{file}: name_of({:#x})", c.id);
                }
                for w in schema.warnings() {
                    let line = w.to_string();
                    assert!(line.starts_with(&format!("{file}:")) && !line.contains('\n'), "{file}: warning {line:?}");
                }
                schema
            })
            .collect()
    })
}

/// [`MODE_FIXED`]: the first byte chooses a schema of [`fixed_schemas`],
/// the rest is decoded with [`Expect::Any`] over it, with the checks of
/// [`check_schema_decode`].
fn fixed(data: &[u8]) {
    let [which, rest @ ..] = data else { return };
    let schemas = fixed_schemas();
    check_schema_decode(&schemas[usize::from(*which) % schemas.len()], rest, &Expect::Any);
}
