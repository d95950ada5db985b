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

use inspector::tl::dynamic::{Expect, Schema};
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

/// The fuzz property: [`agree`], strict and lenient, panicking with the
/// difference.
pub fn schema_differential(data: &[u8]) {
    for options in [DecodeOptions::strict(), DecodeOptions::lenient()] {
        if let Err(e) = agree(data, options) {
            panic!("the typed and schema-driven decoders disagree ({options:?}) on {data:02x?}: {e}");
        }
    }
}
