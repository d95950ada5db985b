//! Decoding bytes with a [`Schema`]: the same reader calls, in the same
//! order, as the typed closure's generated decoders, so that both record
//! the same trace and fail with the same error on the same bytes.

use std::cell::Cell;
use std::fmt;

use super::{Field, FieldTy, Schema, Ty};
use crate::tl::error::{DecodeError, Problem};
use crate::tl::ids;
use crate::tl::reader::{DecodeOptions, Reader, Recorder, TraceSink};
use crate::tl::schema::{CtorDef, FieldDef};

/// A value decoded with a schema: one constructor or function call and
/// everything it holds.
///
/// It is stored flat, as a tape: the nodes of the tree in wire order (an
/// object is followed by its fields, a vector by its elements) in one
/// vector, and the content of strings, `bytes` and `int256`s in one buffer.
/// Decoding a small frame makes two allocations at most, whatever its
/// shape (a large one a few more, as the two grow), and dropping a value
/// frees two buffers rather than walking a tree. Read it
/// through [`DynValue::view`], which gives a [`DynRef`]: the value as a
/// tree again, borrowed from the tape.
#[derive(Clone, PartialEq)]
pub struct DynValue {
    pub(super) nodes: Vec<Node>,
    pub(super) data: Vec<u8>,
}

/// One node of the tape. An object or vector records where its subtree
/// ends, so that a reader can step over it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Node {
    Object {
        ctor: &'static CtorDef,
        end: usize,
    },
    Vector {
        count: usize,
        end: usize,
    },
    Flags(u32),
    True(bool),
    Absent,
    Int(i32),
    Long(i64),
    Double(f64),
    Int128([u8; 16]),
    /// 32 bytes of `data` from `at`.
    Int256 {
        at: usize,
    },
    String {
        at: usize,
        len: usize,
    },
    Bytes {
        at: usize,
        len: usize,
    },
    Bool(bool),
}

/// A value of a [`DynValue`], as a tree: what a field or an element is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DynRef<'a> {
    /// A constructor or function call (boxed or bare) and its fields,
    /// parallel to `ctor.fields`.
    Object {
        ctor: &'static CtorDef,
        fields: Seq<'a>,
    },
    /// A flag word, with the bits its constructor does not define cleared
    /// (lenient decoding forgives them; strict decoding refuses them).
    Flags(u32),
    /// A `flags.N?true` field.
    True(bool),
    /// A conditional field whose bit is clear.
    Absent,
    Int(i32),
    Long(i64),
    Double(f64),
    Int128([u8; 16]),
    Int256(&'a [u8; 32]),
    String(DynStr<'a>),
    Bytes(&'a [u8]),
    Bool(bool),
    Vector(Seq<'a>),
}

/// The fields of an object or the elements of a vector, in wire order.
#[derive(Clone, Copy)]
pub struct Seq<'a> {
    value: &'a DynValue,
    /// The node of the first item.
    first: usize,
    len: usize,
}

/// A TL `string` of a [`DynValue`]: UTF-8 text on every strictly decoded
/// frame; lenient decoding may keep invalid UTF-8, so the bytes are what
/// is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DynStr<'a>(&'a [u8]);

impl<'a> DynStr<'a> {
    /// The text, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.0).ok()
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl PartialEq<str> for DynStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for DynStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for DynStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => write!(f, "TlString(invalid UTF-8: {:02x?})", self.0),
        }
    }
}

impl DynValue {
    /// The value as a tree.
    pub fn view(&self) -> DynRef<'_> {
        self.at(0)
    }

    /// The constructor of an object.
    pub fn ctor(&self) -> Option<&'static CtorDef> {
        self.view().ctor()
    }

    /// The field `name` of an object.
    pub fn field(&self, name: &str) -> Option<DynRef<'_>> {
        self.view().field(name)
    }

    /// The node at `i`. (Every index comes from the tape's own structure; a
    /// missing node reads as absent rather than panicking.)
    fn at(&self, i: usize) -> DynRef<'_> {
        const NO_INT256: [u8; 32] = [0; 32];
        let Some(node) = self.nodes.get(i) else { return DynRef::Absent };
        let bytes = |at: usize, len: usize| self.data.get(at..at.saturating_add(len)).unwrap_or_default();
        match node {
            Node::Object { ctor, .. } => {
                DynRef::Object { ctor, fields: Seq { value: self, first: i + 1, len: ctor.fields.len() } }
            }
            Node::Vector { count, .. } => DynRef::Vector(Seq { value: self, first: i + 1, len: *count }),
            Node::Flags(f) => DynRef::Flags(*f),
            Node::True(b) => DynRef::True(*b),
            Node::Absent => DynRef::Absent,
            Node::Int(v) => DynRef::Int(*v),
            Node::Long(v) => DynRef::Long(*v),
            Node::Double(v) => DynRef::Double(*v),
            Node::Int128(b) => DynRef::Int128(*b),
            Node::Int256 { at } => DynRef::Int256(bytes(*at, 32).try_into().unwrap_or(&NO_INT256)),
            Node::String { at, len } => DynRef::String(DynStr(bytes(*at, *len))),
            Node::Bytes { at, len } => DynRef::Bytes(bytes(*at, *len)),
            Node::Bool(b) => DynRef::Bool(*b),
        }
    }

    /// The node after the subtree that starts at `i`.
    fn next(&self, i: usize) -> usize {
        match self.nodes.get(i) {
            Some(Node::Object { end, .. } | Node::Vector { end, .. }) => *end,
            _ => i + 1,
        }
    }
}

impl fmt::Debug for DynValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.view(), f)
    }
}

impl<'a> DynRef<'a> {
    /// The constructor of an object.
    pub fn ctor(&self) -> Option<&'static CtorDef> {
        match self {
            DynRef::Object { ctor, .. } => Some(ctor),
            _ => None,
        }
    }

    /// The field `name` of an object.
    pub fn field(&self, name: &str) -> Option<DynRef<'a>> {
        match self {
            DynRef::Object { ctor, fields } => {
                ctor.fields.iter().position(|f| f.name == name).and_then(|i| fields.get(i))
            }
            _ => None,
        }
    }
}

impl<'a> Seq<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The item at `index` (a walk over the ones before it).
    pub fn get(&self, index: usize) -> Option<DynRef<'a>> {
        self.iter().nth(index)
    }

    pub fn iter(&self) -> SeqIter<'a> {
        SeqIter { value: self.value, next: self.first, left: self.len }
    }
}

impl fmt::Debug for Seq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Seq<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// The items of a [`Seq`].
#[derive(Clone)]
pub struct SeqIter<'a> {
    value: &'a DynValue,
    next: usize,
    left: usize,
}

impl<'a> Iterator for SeqIter<'a> {
    type Item = DynRef<'a>;

    fn next(&mut self) -> Option<DynRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = self.value.at(self.next);
        self.next = self.value.next(self.next);
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for SeqIter<'_> {}

impl<'a> IntoIterator for Seq<'a> {
    type Item = DynRef<'a>;
    type IntoIter = SeqIter<'a>;

    fn into_iter(self) -> SeqIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Seq<'a> {
    type Item = DynRef<'a>;
    type IntoIter = SeqIter<'a>;

    fn into_iter(self) -> SeqIter<'a> {
        self.iter()
    }
}

/// How many flag words of a constructor the decoder keeps at hand; a
/// condition on a further one finds its word on the tape.
const FLAG_SLOTS: usize = 4;

/// How [`Schema::fields`] reads one field, beside its type: its name, its
/// condition and, for a flag word, its slot, resolved when the schema is
/// loaded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Op {
    name: &'static str,
    cond: Cond,
    /// For a flag word, the slot it is kept in, if it has one.
    slot: Option<u8>,
}

/// When a field is present: always, or when a bit of a flag word is set
/// (the word kept in a slot, or the field index of the word).
#[derive(Debug, Clone, Copy)]
enum Cond {
    Always,
    Slot(u8, u32),
    Walk(usize, u32),
}

/// The decoder's program for a constructor's fields.
pub(super) fn ops(fields: &[Field], defs: &[FieldDef]) -> Vec<Op> {
    // The slot of each flag word, by field index.
    let mut slots = vec![None; fields.len()];
    let mut next = 0usize;
    for (i, f) in fields.iter().enumerate() {
        if matches!(f.ty, FieldTy::Flags { .. }) && next < FLAG_SLOTS {
            slots[i] = u8::try_from(next).ok();
            next += 1;
        }
    }
    fields
        .iter()
        .zip(defs)
        .enumerate()
        .map(|(i, (f, def))| {
            let cond = match f.condition {
                None => Cond::Always,
                Some((word, bit)) => {
                    let bit = 1u32.checked_shl(u32::from(bit)).unwrap_or(0);
                    match slots.get(word).copied().flatten() {
                        Some(slot) => Cond::Slot(slot, bit),
                        None => Cond::Walk(word, bit),
                    }
                }
            };
            Op { name: def.name, cond, slot: slots[i] }
        })
        .collect()
}

// The buffers of the last dropped value, kept for the next decode on the
// same thread. A program that decodes a frame, reports it and drops it
// (the capture pipeline, the decode command, the fuzz targets) then
// decodes every further frame without asking the allocator for anything:
// the allocation and free of a small frame's tape cost more than half of
// the typed decoder's whole decode (BENCHMARKS.md, "The schema-driven
// decoder"). One buffer of each kind per thread, and only a small one, so
// what is kept is bounded: at most SPARE_NODES nodes and SPARE_BYTES bytes.
thread_local! {
    static SPARE_NODES: Cell<Vec<Node>> = const { Cell::new(Vec::new()) };
    static SPARE_DATA: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest node buffer kept for reuse (6 KiB).
const SPARE_NODES_MAX: usize = 256;
/// The largest string buffer kept for reuse.
const SPARE_DATA_MAX: usize = 4096;

impl Drop for DynValue {
    fn drop(&mut self) {
        // `try_with`: a value dropped while its thread is being torn down
        // simply frees its buffers.
        if self.nodes.capacity() != 0 && self.nodes.capacity() <= SPARE_NODES_MAX {
            let mut nodes = std::mem::take(&mut self.nodes);
            nodes.clear();
            let _ = SPARE_NODES.try_with(|spare| spare.set(nodes));
        }
        if self.data.capacity() != 0 && self.data.capacity() <= SPARE_DATA_MAX {
            let mut data = std::mem::take(&mut self.data);
            data.clear();
            let _ = SPARE_DATA.try_with(|spare| spare.set(data));
        }
    }
}

/// The tape a decode writes: the value it becomes.
struct Tape {
    nodes: Vec<Node>,
    data: Vec<u8>,
}

impl Tape {
    /// Room for the nodes of a frame of `len` bytes: the buffers the last
    /// value dropped on this thread left (see `SPARE_NODES`), or about one
    /// node per four bytes (an id, a flag word, an `int`), at most 40
    /// (under 1 KiB, which the allocator serves from its per-thread cache);
    /// a larger frame grows its tape as its nodes come.
    #[inline]
    fn for_input(len: usize) -> Tape {
        let mut nodes = SPARE_NODES.try_with(Cell::take).unwrap_or_default();
        if nodes.capacity() == 0 {
            nodes = Vec::with_capacity((len / 4 + 16).min(40));
        }
        let data = SPARE_DATA.try_with(Cell::take).unwrap_or_default();
        Tape { nodes, data }
    }

    /// The value the tape holds. (A tape dropped on an error gives its
    /// buffers back through the same value.)
    fn into_value(self) -> DynValue {
        DynValue { nodes: self.nodes, data: self.data }
    }

    /// Open an object or vector; [`Tape::close`] records where it ends.
    #[inline]
    fn open(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    #[inline]
    fn close(&mut self, at: usize) {
        let len = self.nodes.len();
        if let Some(Node::Object { end, .. } | Node::Vector { end, .. }) = self.nodes.get_mut(at) {
            *end = len;
        }
    }

    /// Copy `bytes` into the data buffer; where they start. The first copy
    /// makes room for what may follow too (up to `rest`, the input left,
    /// and at most 1 KiB), so that a frame's strings share one allocation.
    #[inline]
    fn keep(&mut self, bytes: &[u8], rest: usize) -> usize {
        if self.data.capacity() == 0 {
            self.data = Vec::with_capacity(bytes.len() + rest.min(1024));
        }
        let at = self.data.len();
        self.data.extend_from_slice(bytes);
        at
    }

    /// The flag word that is field `word` of the object whose node is `object`.
    fn flag_word(&self, object: usize, word: usize) -> u32 {
        let mut i = object + 1;
        for _ in 0..word {
            i = match self.nodes.get(i) {
                Some(Node::Object { end, .. } | Node::Vector { end, .. }) => *end,
                _ => i + 1,
            };
        }
        match self.nodes.get(i) {
            Some(Node::Flags(f)) => *f,
            _ => 0,
        }
    }
}

/// The types TL builds in (and `Object`, any value), by name.
const BUILTIN_TYPES: [&str; 9] = ["int", "long", "double", "int128", "int256", "string", "bytes", "Bool", "Object"];

/// What may stand at the top level of a decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Any constructor or function of the schema.
    Any,
    /// A value of this TL type: a boxed type (`ExportedChatInvite`),
    /// `Vector<T>`, `Bool`, `Object` (what a request's answer is).
    Type(String),
    /// One of these constructors or functions; `label` is what error
    /// messages say was expected ([`crate::tl::error::FRAME`] gives the
    /// typed [`Frame`](crate::tl::Frame)'s message).
    OneOf { ids: Vec<u32>, label: &'static str },
}

impl Expect {
    /// What the typed [`Frame`](crate::tl::Frame) accepts: the request, its
    /// two answers and `rpc_error`, with the same error message.
    pub fn frame() -> Expect {
        Expect::OneOf {
            ids: vec![
                ids::EXPORT_CHAT_INVITE,
                ids::CHAT_INVITE_EXPORTED,
                ids::CHAT_INVITE_PUBLIC_JOIN_REQUESTS,
                ids::RPC_ERROR,
            ],
            label: crate::tl::error::FRAME,
        }
    }
}

impl Schema {
    /// Strictly or leniently decode a whole buffer holding one constructor
    /// or function of the schema, without a trace.
    pub fn decode(&self, bytes: &[u8], options: DecodeOptions) -> Result<DynValue, DecodeError> {
        self.decode_with_sink(bytes, &Expect::Any, options, crate::tl::NoTrace).0
    }

    /// [`Schema::decode`], recording the trace and the warnings in
    /// `recorder` (cleared first), as the typed
    /// [`decode_traced_into`](crate::tl::decode_traced_into) does.
    pub fn decode_traced(
        &self,
        bytes: &[u8],
        options: DecodeOptions,
        recorder: &mut Recorder,
    ) -> Result<DynValue, DecodeError> {
        recorder.clear();
        self.decode_with_sink(bytes, &Expect::Any, options, recorder).0
    }

    /// Decode a whole buffer as a value of the TL type `ty`
    /// (`ExportedChatInvite`, `Vector<long>`): an answer, read as the type its
    /// request returns (see [`Schema::answer_type`]).
    pub fn decode_as_type<S: TraceSink>(
        &self,
        bytes: &[u8],
        ty: &str,
        options: DecodeOptions,
        sink: S,
    ) -> (Result<DynValue, DecodeError>, S) {
        self.decode_with_sink(bytes, &Expect::Type(ty.to_string()), options, sink)
    }

    /// Decode a whole buffer holding one value that `expect` allows,
    /// sending the trace and the warnings to `sink`; the result and the sink
    /// come back. Bytes left after the value are an error (strict) or a
    /// warning (lenient), as for the typed decoder.
    pub fn decode_with_sink<S: TraceSink>(
        &self,
        bytes: &[u8],
        expect: &Expect,
        options: DecodeOptions,
        sink: S,
    ) -> (Result<DynValue, DecodeError>, S) {
        let mut r = Reader::with_sink(bytes, options, sink);
        let mut tape = Tape::for_input(bytes.len());
        let result = match self.top(&mut r, expect, &mut tape) {
            Ok(name) if r.remaining() != 0 => {
                let count = r.remaining();
                r.forgivable(r.pos(), "", Problem::TrailingBytes { count, ctor: name })
            }
            other => other.map(|_| ()),
        };
        let value = tape.into_value();
        (result.map(|()| value), r.into_sink())
    }

    /// The top-level value, onto the tape; the name of what it is, for a
    /// message about bytes left after it: its constructor's, or the type's
    /// asked for when it is no object (`Bool`, a vector).
    fn top<S: TraceSink>(
        &self,
        r: &mut Reader<'_, S>,
        expect: &Expect,
        tape: &mut Tape,
    ) -> Result<&'static str, DecodeError> {
        // Any constructor or function (as `Ty::Any` reads one), or one of `ids`.
        let mut boxed = |ids: Option<&[u32]>, label: &'static str| {
            let start = r.pos();
            let id = r.read_id("")?;
            match self.ctor_index(id) {
                Some(ci) if ids.is_none_or(|ids| ids.contains(&id)) => {
                    self.boxed_body(r, start, "", ci, tape)?;
                    Ok(self.ctors[ci].def.name)
                }
                _ => Err(self.unexpected(r, start, "", label, id)),
            }
        };
        match expect {
            Expect::Any => boxed(None, "Object"),
            Expect::OneOf { ids, label } => boxed(Some(ids), label),
            Expect::Type(t) => {
                let ty = self.parse_type(t);
                self.value(r, &ty, "", tape)?;
                Ok(match tape.nodes.first() {
                    Some(Node::Object { ctor, .. }) => ctor.name,
                    _ => self.label(t),
                })
            }
        }
    }

    /// A type written as TL writes a field's type, resolved in this schema.
    fn parse_type(&self, t: &str) -> Ty {
        let t = t.trim();
        if let Some((outer, rest)) = t.split_once('<') {
            if let (Some(inner), "Vector" | "vector") = (rest.strip_suffix('>'), outer) {
                return Ty::Vector {
                    boxed: outer == "Vector",
                    element: Box::new(self.parse_type(inner)),
                    label: self.label(t),
                };
            }
        }
        match t {
            "int" => Ty::Int,
            "long" => Ty::Long,
            "double" => Ty::Double,
            "int128" => Ty::Int128,
            "int256" => Ty::Int256,
            "string" => Ty::String,
            "bytes" => Ty::Bytes,
            "Bool" => Ty::Bool,
            "Object" => Ty::Any,
            name => match self.type_index.get(name) {
                Some(&i) => Ty::Boxed(i),
                None => Ty::Undefined(self.label(name)),
            },
        }
    }

    /// A `'static` name for messages about a type given at run time: the
    /// schema's own spelling when it has one.
    fn label(&self, t: &str) -> &'static str {
        if let Some(&i) = self.type_index.get(t) {
            return self.types[i].name;
        }
        // A built-in type's name, as a `'static` string.
        if let Some(builtin) = BUILTIN_TYPES.into_iter().find(|k| *k == t) {
            return builtin;
        }
        match t {
            // A vector type named at run time: leaked once per distinct call site
            // would grow without bound, so such names share one label.
            _ if t.starts_with("Vector<") || t.starts_with("vector<") => "Vector",
            // The type a function of the schema returns (how the pipeline
            // asks for an answer), spelled as that function's line does.
            _ => self.iter().find(|c| c.ty == t).map_or("the requested type", |c| c.ty),
        }
    }

    /// The error for constructor `id` (read at `offset`) where `expected` should stand.
    #[cold]
    #[inline(never)]
    fn unexpected<S: TraceSink>(
        &self,
        r: &Reader<'_, S>,
        offset: usize,
        field: &str,
        expected: &'static str,
        id: u32,
    ) -> DecodeError {
        let problem = match self.by_id(id) {
            Some(c) => Problem::WrongType { expected, found: c.name, found_type: c.what, id },
            None if id == ids::VECTOR => Problem::WrongType { expected, found: "vector", found_type: "a vector", id },
            None => Problem::UnknownConstructor { expected, id },
        };
        r.error(offset, field, problem)
    }

    /// The body of the constructor `ci`, whose id was read at `start`, as
    /// the field `field`: inside the depth budget, its fields in wire order.
    #[inline(always)]
    fn boxed_body<S: TraceSink>(
        &self,
        r: &mut Reader<'_, S>,
        start: usize,
        field: &'static str,
        ci: usize,
        tape: &mut Tape,
    ) -> Result<(), DecodeError> {
        let ctor = self.ctors[ci].def;
        let token = r.begin_object(start, field, ctor)?;
        let at = tape.open(Node::Object { ctor, end: 0 });
        self.fields(r, ci, tape, at).map_err(|e| e.within(field))?;
        r.end_object(token);
        tape.close(at);
        Ok(())
    }

    /// The fields of the constructor `ci`, whose node is `object`. (Inlined
    /// into its callers: a call per object costs more than the fields of a
    /// small one.)
    #[inline(always)]
    fn fields<S: TraceSink>(
        &self,
        r: &mut Reader<'_, S>,
        ci: usize,
        tape: &mut Tape,
        object: usize,
    ) -> Result<(), DecodeError> {
        let c = &self.ctors[ci];
        let mut words = [0u32; FLAG_SLOTS];
        tape.nodes.reserve(c.ops.len());
        for (op, field) in c.ops.iter().zip(&c.fields) {
            let set = match op.cond {
                Cond::Always => true,
                Cond::Slot(slot, bit) => words[usize::from(slot) % FLAG_SLOTS] & bit != 0,
                Cond::Walk(word, bit) => tape.flag_word(object, word) & bit != 0,
            };
            // Each arm pushes its own node: a constant node is then one store.
            match &field.ty {
                FieldTy::True => tape.nodes.push(Node::True(r.true_flag(op.name, set))),
                _ if !set => {
                    r.absent::<()>(op.name);
                    tape.nodes.push(Node::Absent);
                }
                FieldTy::Flags { mask } => {
                    let f = r.flag_word(op.name, c.def, *mask)?;
                    if let Some(slot) = op.slot {
                        words[usize::from(slot) % FLAG_SLOTS] = f;
                    }
                    tape.nodes.push(Node::Flags(f));
                }
                FieldTy::Value(Ty::Int) => tape.nodes.push(Node::Int(r.int(op.name)?)),
                FieldTy::Value(Ty::Long) => tape.nodes.push(Node::Long(r.long(op.name)?)),
                FieldTy::Value(ty) => self.value(r, ty, op.name, tape)?,
            }
        }
        Ok(())
    }

    /// One value of type `ty` as the field `field` (empty for the top level
    /// and for vector elements), onto the tape.
    fn value<S: TraceSink>(
        &self,
        r: &mut Reader<'_, S>,
        ty: &Ty,
        field: &'static str,
        tape: &mut Tape,
    ) -> Result<(), DecodeError> {
        let node = match ty {
            Ty::Int => Node::Int(r.int(field)?),
            Ty::Long => Node::Long(r.long(field)?),
            Ty::Double => Node::Double(r.double(field)?),
            Ty::Int128 => Node::Int128(r.int128(field)?),
            Ty::Int256 => Node::Int256 { at: tape.keep(&r.int256(field)?, r.remaining()) },
            Ty::String => {
                let text = r.string_slice(field)?;
                Node::String { at: tape.keep(text, r.remaining()), len: text.len() }
            }
            Ty::Bytes => {
                let data = r.bytes_slice(field)?;
                Node::Bytes { at: tape.keep(data, r.remaining()), len: data.len() }
            }
            Ty::Bool => {
                let start = r.pos();
                let id = r.read_id(field)?;
                let value = match id {
                    ids::BOOL_TRUE => true,
                    ids::BOOL_FALSE => false,
                    _ => return Err(self.unexpected(r, start, field, "Bool", id)),
                };
                r.record_bool(field, start, value);
                Node::Bool(value)
            }
            Ty::Boxed(t) => {
                let start = r.pos();
                let id = r.read_id(field)?;
                let entry = &self.types[*t];
                // Most types have a handful of constructors: a scan beats a hash.
                let found = if entry.ids.len() <= 8 {
                    entry.ids.iter().position(|&i| i == id).map(|k| entry.ctors[k])
                } else {
                    self.ctor_index(id)
                        .filter(|&i| self.ctors[i].def.ty == entry.name && !self.ctors[i].def.is_function)
                };
                return match found {
                    Some(ci) => self.boxed_body(r, start, field, ci, tape),
                    None => Err(self.unexpected(r, start, field, entry.name, id)),
                };
            }
            Ty::Any => {
                let start = r.pos();
                let id = r.read_id(field)?;
                return match self.ctor_index(id) {
                    Some(ci) => self.boxed_body(r, start, field, ci, tape),
                    None => Err(self.unexpected(r, start, field, "Object", id)),
                };
            }
            Ty::Bare(ci) => {
                let ctor = self.ctors[*ci].def;
                let token = r.begin_bare(r.pos(), field, ctor)?;
                let at = tape.open(Node::Object { ctor, end: 0 });
                self.fields(r, *ci, tape, at).map_err(|e| e.within(field))?;
                r.end_object(token);
                tape.close(at);
                return Ok(());
            }
            Ty::Vector { boxed, element, label } => {
                let start = r.pos();
                if *boxed {
                    let id = r.read_id(field)?;
                    if id != ids::VECTOR {
                        return Err(self.unexpected(r, start, field, label, id));
                    }
                }
                let count = r.vector_count(field, element.min_size(self))?;
                let token = r.begin_vector(start, field, count, *boxed)?;
                let at = tape.open(Node::Vector { count, end: 0 });
                // `count` is bounded by the bytes left (see `vector_count`).
                tape.nodes.reserve(count);
                for i in 0..count {
                    self.value(r, element, "", tape).map_err(|e| e.within(&i.to_string()).within(field))?;
                }
                r.end_object(token);
                tape.close(at);
                return Ok(());
            }
            Ty::Undefined(name) => return Err(r.error(r.pos(), field, Problem::UndefinedType { ty: name })),
        };
        tape.nodes.push(node);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Node, Tape};

    /// `flag_word` walks a value's fields on the tape, one node each (an
    /// object or vector skipped to its end), to the flag word a condition
    /// names. Decoding always lands it on one; off one, it reads no flags
    /// instead of a wrong node's bits.
    #[test]
    fn a_flag_word_lookup_reads_only_flag_words() {
        let tape = Tape {
            nodes: vec![
                Node::Vector { count: 2, end: 5 },
                Node::Int(-1),
                Node::Vector { count: 1, end: 4 },
                Node::Long(-1),
                Node::Flags(0b101),
            ],
            data: Vec::new(),
        };
        assert_eq!(tape.flag_word(0, 2), 0b101, "the third field, past a nested vector");
        assert_eq!(tape.flag_word(0, 0), 0, "an int is not a flag word");
        assert_eq!(tape.flag_word(0, 1), 0, "nor is a vector");
        assert_eq!(tape.flag_word(0, 3), 0, "past the tape's end");
    }
}
