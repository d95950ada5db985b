//! What a traced decode records: one [`TraceEvent`] per field, in wire
//! order, with its byte span, sent to a [`TraceSink`].
//!
//! The trace proper holds the fields that occupy bytes. The fields that do
//! not (`flags.N?true` fields, and optional fields whose bit is clear) follow
//! from the `flags` word and the schema, so the decoder does not spend time
//! recording them: [`with_flag_fields`] puts them back for the renderers.

use std::ops::Range;

use super::error::{DecodeError, Problem, Warning};
use super::schema::CtorDef;

/// The value a traced field held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceValue {
    /// A boxed object (its constructor id and fields follow as children).
    Object(&'static CtorDef),
    /// The `flags` word as read from the wire.
    Flags(u32),
    Int(i32),
    Long(i64),
    /// A string: the range of its content bytes in the buffer, and whether
    /// they are valid UTF-8 (only lenient decoding lets invalid text through).
    Str {
        data: Range<usize>,
        utf8: bool,
    },
    /// A `flags.N?true` field, set or not. It occupies no bytes, so the
    /// trace proper leaves it out and [`with_flag_fields`] adds it.
    TrueFlag(bool),
    /// An optional field whose flag bit is not set (no bytes either).
    Absent,
    /// A bare object (no constructor id on the wire: its fields follow as
    /// children). Only the schema-driven decoder meets bare types.
    Bare(&'static CtorDef),
    /// A `double`, as its IEEE bits (so that the trace stays `Eq` and NaNs
    /// compare exactly).
    Double(u64),
    /// An `int128`; its value is the event's 16 bytes.
    Int128,
    /// An `int256`; its value is the event's 32 bytes.
    Int256,
    /// A `bytes` field: the range of its content bytes in the buffer.
    Bytes {
        data: Range<usize>,
    },
    /// A boxed `Bool` (`boolTrue` or `boolFalse`: a value, not an object).
    Bool(bool),
    /// A vector of `count` elements (`boxed`: `Vector<T>`, from its id;
    /// else `vector<T>`, from its count); the elements follow as children
    /// with an empty field name.
    Vector {
        count: usize,
        boxed: bool,
    },
}

impl TraceValue {
    /// An event that has children (an object or a vector), whose end is set
    /// when it closes.
    pub fn is_container(&self) -> bool {
        matches!(self, TraceValue::Object(_) | TraceValue::Bare(_) | TraceValue::Vector { .. })
    }

    /// The constructor of an object, boxed or bare.
    pub fn ctor(&self) -> Option<&'static CtorDef> {
        match self {
            TraceValue::Object(c) | TraceValue::Bare(c) => Some(c),
            _ => None,
        }
    }
}

/// One field as the decoder met it, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// 0 for the top-level object, 1 for its fields, and so on.
    pub depth: usize,
    /// Field name; empty for the top-level object.
    pub field: &'static str,
    /// Byte span. `end == start` for fields without bytes; for an object
    /// whose decoding failed inside it, `end` is [`TraceEvent::OPEN`].
    pub start: usize,
    pub end: usize,
    pub value: TraceValue,
}

impl TraceEvent {
    /// The `end` of an object that was never finished.
    pub const OPEN: usize = usize::MAX;
}

/// Where a [`Reader`](super::Reader) sends the [`TraceEvent`]s of the fields it reads.
///
/// The reader is generic over its sink so that a decode without a trace
/// ([`NoTrace`]) compiles to code with no trace hooks at all, and a traced
/// one (a [`Recorder`]) pays only for the events it stores.
pub trait TraceSink {
    /// Record a finished field.
    fn record(&mut self, event: TraceEvent);
    /// Record an object whose end is not known yet; the value returned is
    /// given back to [`TraceSink::close`].
    fn open(&mut self, event: TraceEvent) -> usize;
    /// Set the end of the object [`TraceSink::open`] returned `index` for.
    fn close(&mut self, index: usize, end: usize);
    /// A field that occupies no bytes: a `flags.N?true` field, or an
    /// optional field whose bit is clear. The trace proper leaves these
    /// out, since [`with_flag_fields`] derives them from the `flags` word;
    /// [`FullTrace`] keeps them, to check that derivation.
    #[inline(always)]
    fn record_flag_only(&mut self, _event: TraceEvent) {}
    /// A problem lenient decoding forgave, at `offset` in `field` of the
    /// innermost open object. Sinks that keep warnings give them their path.
    #[inline(always)]
    fn warning(&mut self, _offset: usize, _field: &str, _problem: Problem) {}
}

/// The sink of a decode that records no trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl TraceSink for NoTrace {
    #[inline(always)]
    fn record(&mut self, _: TraceEvent) {}

    #[inline(always)]
    fn open(&mut self, _: TraceEvent) -> usize {
        0
    }

    #[inline(always)]
    fn close(&mut self, _: usize, _: usize) {}
}

/// The trace proper: every field that occupies bytes, in wire order.
/// (Warnings are dropped; [`Recorder`] keeps them.)
impl TraceSink for Vec<TraceEvent> {
    #[inline]
    fn record(&mut self, event: TraceEvent) {
        self.push(event);
    }

    #[inline]
    fn open(&mut self, event: TraceEvent) -> usize {
        self.push(event);
        self.len() - 1
    }

    #[inline]
    fn close(&mut self, index: usize, end: usize) {
        if let Some(event) = self.get_mut(index) {
            event.end = end;
        }
    }
}

/// A sink lent to a reader, so that its allocations outlive the decode.
impl<S: TraceSink + ?Sized> TraceSink for &mut S {
    #[inline(always)]
    fn record(&mut self, event: TraceEvent) {
        (**self).record(event);
    }

    #[inline(always)]
    fn open(&mut self, event: TraceEvent) -> usize {
        (**self).open(event)
    }

    #[inline(always)]
    fn close(&mut self, index: usize, end: usize) {
        (**self).close(index, end);
    }

    #[inline(always)]
    fn record_flag_only(&mut self, event: TraceEvent) {
        (**self).record_flag_only(event);
    }

    #[inline(always)]
    fn warning(&mut self, offset: usize, field: &str, problem: Problem) {
        (**self).warning(offset, field, problem);
    }
}

/// What a traced decode keeps: the trace proper and the warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorder {
    pub events: Vec<TraceEvent>,
    pub warnings: Vec<Warning>,
}

impl Recorder {
    /// Empty, keeping the allocations.
    #[inline]
    pub fn clear(&mut self) {
        self.events.clear();
        self.warnings.clear();
    }
}

impl TraceSink for Recorder {
    #[inline]
    fn record(&mut self, event: TraceEvent) {
        self.events.record(event);
    }

    #[inline]
    fn open(&mut self, event: TraceEvent) -> usize {
        self.events.open(event)
    }

    #[inline]
    fn close(&mut self, index: usize, end: usize) {
        self.events.close(index, end);
    }

    #[cold]
    fn warning(&mut self, offset: usize, field: &str, problem: Problem) {
        // The open objects are those whose end is not yet set; the fields
        // holding them, and then `field`, make the path.
        let open = self.events.iter().filter(|ev| ev.end == TraceEvent::OPEN && ev.value.is_container());
        let names = open.map(|ev| ev.field).chain(std::iter::once(field));
        let path = names.filter(|n| !n.is_empty()).collect::<Vec<_>>().join(".");
        self.warnings.push(Warning { offset, path, problem });
    }
}

/// A trace that also keeps the fields without bytes as the decoder meets
/// them: what [`with_flag_fields`] must reconstruct from the trace proper.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FullTrace(pub Vec<TraceEvent>);

impl TraceSink for FullTrace {
    fn record(&mut self, event: TraceEvent) {
        self.0.record(event);
    }

    fn open(&mut self, event: TraceEvent) -> usize {
        self.0.open(event)
    }

    fn close(&mut self, index: usize, end: usize) {
        self.0.close(index, end);
    }

    fn record_flag_only(&mut self, event: TraceEvent) {
        self.0.push(event);
    }
}

/// An object of the trace whose fields are being walked.
struct OpenObject<'e> {
    ctor: &'static CtorDef,
    depth: usize,
    /// The next field of `ctor.fields` not yet accounted for.
    next: usize,
    /// Where the object's flag words (`flags`, `flags2`, ...), as read so
    /// far, begin in the walk's list of flag words: the open objects nest,
    /// so each one's words are the tail of one list from here.
    flags_from: usize,
    /// Where the next field starts: the end of the previous one.
    pos: usize,
    /// The field at which decoding stopped inside this object, when it failed there.
    stopped_at: Option<&'e str>,
}

impl OpenObject<'_> {
    /// Emit the fields without bytes that come before the field `until` (to
    /// the end of the object when `None`), stopping early at a field with
    /// bytes that the trace does not hold. `flags` are this object's flag
    /// words.
    fn emit_flag_fields(&mut self, until: Option<&str>, flags: &[(&'static str, u32)], out: &mut Vec<TraceEvent>) {
        while let Some(field) = self.ctor.fields.get(self.next) {
            if Some(field.name) == until {
                self.next += 1;
                return;
            }
            let word = flags.iter().find(|(name, _)| *name == field.flag_word).map_or(0, |w| w.1);
            let value = match field.flag {
                Some(bit) if field.is_true_flag() => TraceValue::TrueFlag(word & (1 << bit) != 0),
                Some(bit) if word & (1 << bit) == 0 => TraceValue::Absent,
                _ => return,
            };
            out.push(TraceEvent { depth: self.depth + 1, field: field.name, start: self.pos, end: self.pos, value });
            self.next += 1;
        }
    }

    /// The object's last event has been seen: emit its remaining fields
    /// without bytes, those the decoder passed. In an object where decoding
    /// stopped, those are the ones before the field where it stopped, and
    /// none if the trace already reached that field (a nested object that
    /// failed, or a `flags` word with undefined bits).
    fn finish(mut self, flags: &[(&'static str, u32)], out: &mut Vec<TraceEvent>) {
        match self.stopped_at.take() {
            Some(stop) if self.ctor.fields[self.next.min(self.ctor.fields.len())..].iter().any(|f| f.name == stop) => {
                self.emit_flag_fields(Some(stop), flags, out)
            }
            Some(_) => {}
            None => self.emit_flag_fields(None, flags, out),
        }
    }
}

/// The trace with the fields that occupy no bytes put back in their wire
/// places: each `flags.N?true` field as [`TraceValue::TrueFlag`], each
/// optional field whose bit is clear as [`TraceValue::Absent`], both derived
/// from the object's `flags` word and the schema's field order.
///
/// For a decode that failed, pass its error: its field path says where
/// decoding stopped in each unfinished object, so that only the fields the
/// decoder passed are shown. Without it, an unfinished object shows the
/// fields without bytes up to its next field with bytes. A trace that
/// already holds them comes back unchanged.
pub fn with_flag_fields(trace: &[TraceEvent], error: Option<&DecodeError>) -> Vec<TraceEvent> {
    let mut out = Vec::with_capacity(trace.len() + 16);
    with_flag_fields_into(trace, error, &mut out);
    out
}

/// [`with_flag_fields`], written into `out` (cleared first), so that a
/// caller deriving the fields of many traces reuses one buffer.
pub fn with_flag_fields_into<'e>(trace: &[TraceEvent], error: Option<&'e DecodeError>, out: &mut Vec<TraceEvent>) {
    out.clear();
    out.reserve(trace.len() + 16);
    // The field where decoding stopped at each depth: the error's path,
    // one name per level. Only the objects a failed decode left open ask,
    // one per depth along that path, so splitting the path anew for each
    // costs no more than the path's length per open object.
    let stop_at_depth = |depth: usize| -> Option<&'e str> { error?.path.split('.').nth(depth) };
    let mut open: Vec<OpenObject<'e>> = Vec::new();
    let mut flags: Vec<(&'static str, u32)> = Vec::new();
    for ev in trace {
        while open.last().is_some_and(|o| o.depth >= ev.depth) {
            if let Some(o) = open.pop() {
                let from = o.flags_from;
                o.finish(&flags[from..], out);
                flags.truncate(from);
            }
        }
        // The elements of a vector are not fields of an object.
        if let Some(parent) = open.last_mut().filter(|o| o.depth + 1 == ev.depth) {
            parent.emit_flag_fields(Some(ev.field), &flags[parent.flags_from..], out);
            if ev.end != TraceEvent::OPEN {
                parent.pos = ev.end;
            }
            if let TraceValue::Flags(word) = ev.value {
                flags.push((ev.field, word));
            }
        }
        out.push(ev.clone());
        if let Some(ctor) = ev.value.ctor() {
            let stopped_at = match ev.end {
                TraceEvent::OPEN => stop_at_depth(ev.depth),
                _ => None,
            };
            // A boxed object's fields start after its id.
            let id_len = if matches!(ev.value, TraceValue::Object(_)) { 4 } else { 0 };
            let pos = ev.start.saturating_add(id_len);
            open.push(OpenObject { ctor, depth: ev.depth, next: 0, flags_from: flags.len(), pos, stopped_at });
        }
    }
    while let Some(o) = open.pop() {
        let from = o.flags_from;
        o.finish(&flags[from..], out);
        flags.truncate(from);
    }
}
