//! Decoding bytes with a [`Schema`]: the same reader calls, in the same
//! order, as the typed closure's generated decoders, so that both record
//! the same trace and fail with the same error on the same bytes.

use super::{Schema, Ty};
use crate::tl::error::{DecodeError, Problem};
use crate::tl::ids;
use crate::tl::reader::{DecodeOptions, Reader, Recorder, TraceSink};
use crate::tl::schema::CtorDef;
use crate::tl::TlString;

/// A value decoded with a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum DynValue {
    /// A constructor or function call (boxed or bare) and its fields,
    /// parallel to `ctor.fields`. A boxed slice, not a `Vec`: the count is
    /// known before the first field is read, and the capacity word saved
    /// keeps every `DynValue` at 32 bytes.
    Object {
        ctor: &'static CtorDef,
        fields: Box<[DynValue]>,
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
    /// Boxed: inline it would make every value 40 bytes for a type few
    /// constructors use.
    Int256(Box<[u8; 32]>),
    String(TlString),
    Bytes(Vec<u8>),
    Bool(bool),
    Vector(Vec<DynValue>),
}

impl DynValue {
    /// The constructor of an object.
    pub fn ctor(&self) -> Option<&'static CtorDef> {
        match self {
            DynValue::Object { ctor, .. } => Some(ctor),
            _ => None,
        }
    }

    /// The field `name` of an object.
    pub fn field(&self, name: &str) -> Option<&DynValue> {
        match self {
            DynValue::Object { ctor, fields } => {
                ctor.fields.iter().position(|f| f.name == name).and_then(|i| fields.get(i))
            }
            _ => None,
        }
    }
}

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
        let result = self.top(&mut r, expect);
        let result = match result {
            Ok(value) if r.remaining() != 0 => {
                let count = r.remaining();
                let name = match (&value, expect) {
                    (DynValue::Object { ctor, .. }, _) => ctor.name,
                    (_, Expect::Type(t)) => self.label(t),
                    _ => "the value",
                };
                r.forgivable(r.pos(), "", Problem::TrailingBytes { count, ctor: name }).map(|()| value)
            }
            other => other,
        };
        (result, r.into_sink())
    }

    fn top<S: TraceSink>(&self, r: &mut Reader<'_, S>, expect: &Expect) -> Result<DynValue, DecodeError> {
        match expect {
            Expect::Any => self.value(r, &Ty::Any, ""),
            Expect::Type(t) => {
                let ty = self.parse_type(t);
                self.value(r, &ty, "")
            }
            Expect::OneOf { ids, label } => {
                let start = r.pos();
                let id = r.read_id("")?;
                match self.ctor_index(id) {
                    Some(ci) if ids.contains(&id) => self.boxed_body(r, start, "", ci),
                    _ => Err(self.unexpected(r, start, "", label, id)),
                }
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
        match t {
            "int" | "long" | "double" | "int128" | "int256" | "string" | "bytes" | "Bool" | "Object" => {
                ["int", "long", "double", "int128", "int256", "string", "bytes", "Bool", "Object"]
                    .into_iter()
                    .find(|k| *k == t)
                    .unwrap_or("a type")
            }
            // A vector type named at run time: leaked once per distinct call site
            // would grow without bound, so such names share one label.
            _ if t.starts_with("Vector<") || t.starts_with("vector<") => "Vector",
            _ => "the requested type",
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
    fn boxed_body<S: TraceSink>(
        &self,
        r: &mut Reader<'_, S>,
        start: usize,
        field: &'static str,
        ci: usize,
    ) -> Result<DynValue, DecodeError> {
        let ctor = self.ctors[ci].def;
        let token = r.begin_object(start, field, ctor)?;
        let fields = self.fields(r, ci).map_err(|e| e.within(field))?;
        r.end_object(token);
        Ok(DynValue::Object { ctor, fields })
    }

    fn fields<S: TraceSink>(&self, r: &mut Reader<'_, S>, ci: usize) -> Result<Box<[DynValue]>, DecodeError> {
        let c = &self.ctors[ci];
        let mut out: Vec<DynValue> = Vec::with_capacity(c.fields.len());
        for (field, def) in c.fields.iter().zip(c.def.fields) {
            let name = def.name;
            if let Some((word, bit)) = field.condition {
                let flags = match out.get(word) {
                    Some(DynValue::Flags(f)) => *f,
                    _ => 0,
                };
                let set = flags & (1 << bit) != 0;
                if matches!(field.ty, Ty::True) {
                    out.push(DynValue::True(r.true_flag(name, set)));
                    continue;
                }
                if !set {
                    r.absent::<()>(name);
                    out.push(DynValue::Absent);
                    continue;
                }
            }
            let value = match &field.ty {
                Ty::Flags { mask } => DynValue::Flags(r.flag_word(name, c.def, *mask)?),
                Ty::True => DynValue::True(r.true_flag(name, true)),
                ty => self.value(r, ty, name)?,
            };
            out.push(value);
        }
        // The capacity was exact: no reallocation.
        Ok(out.into_boxed_slice())
    }

    /// One value of type `ty` as the field `field` (empty for the top level
    /// and for vector elements).
    fn value<S: TraceSink>(
        &self,
        r: &mut Reader<'_, S>,
        ty: &Ty,
        field: &'static str,
    ) -> Result<DynValue, DecodeError> {
        Ok(match ty {
            Ty::Int => DynValue::Int(r.int(field)?),
            Ty::Long => DynValue::Long(r.long(field)?),
            Ty::Double => DynValue::Double(r.double(field)?),
            Ty::Int128 => DynValue::Int128(r.int128(field)?),
            Ty::Int256 => DynValue::Int256(Box::new(r.int256(field)?)),
            Ty::String => DynValue::String(r.string(field)?),
            Ty::Bytes => DynValue::Bytes(r.bytes(field)?),
            Ty::Bool => {
                let start = r.pos();
                let id = r.read_id(field)?;
                let value = match id {
                    ids::BOOL_TRUE => true,
                    ids::BOOL_FALSE => false,
                    _ => return Err(self.unexpected(r, start, field, "Bool", id)),
                };
                r.record_bool(field, start, value);
                DynValue::Bool(value)
            }
            Ty::Boxed(t) => {
                let start = r.pos();
                let id = r.read_id(field)?;
                let entry = &self.types[*t];
                // Most types have a handful of constructors: a scan beats a hash.
                let found = if entry.ctors.len() <= 8 {
                    entry.ctors.iter().copied().find(|&i| self.ctors[i].def.id == id)
                } else {
                    self.ctor_index(id)
                        .filter(|&i| self.ctors[i].def.ty == entry.name && !self.ctors[i].def.is_function)
                };
                match found {
                    Some(ci) => self.boxed_body(r, start, field, ci)?,
                    None => return Err(self.unexpected(r, start, field, entry.name, id)),
                }
            }
            Ty::Any => {
                let start = r.pos();
                let id = r.read_id(field)?;
                match self.ctor_index(id) {
                    Some(ci) => self.boxed_body(r, start, field, ci)?,
                    None => return Err(self.unexpected(r, start, field, "Object", id)),
                }
            }
            Ty::Bare(ci) => {
                let ctor = self.ctors[*ci].def;
                let token = r.begin_bare(r.pos(), field, ctor)?;
                let fields = self.fields(r, *ci).map_err(|e| e.within(field))?;
                r.end_object(token);
                DynValue::Object { ctor, fields }
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
                // `count` is bounded by the bytes left (see `vector_count`).
                let mut items = Vec::with_capacity(count);
                for i in 0..count {
                    let item = self.value(r, element, "").map_err(|e| e.within(&i.to_string()).within(field))?;
                    items.push(item);
                }
                r.end_object(token);
                DynValue::Vector(items)
            }
            Ty::Flags { .. } | Ty::True => {
                // Only fields are flag words or `true`; the loader keeps them out of vectors.
                return Err(r.error(r.pos(), field, Problem::UndefinedType { ty: "#" }));
            }
            Ty::Undefined(name) => return Err(r.error(r.pos(), field, Problem::UndefinedType { ty: name })),
        })
    }
}
