//! The schema-driven decoder: any constructor or method of a TL schema
//! given as text at run time (by default the embedded layer-224 `api.tl`
//! and `mtproto.tl`, see `tl/README.md`), decoded through the same
//! [`Reader`](super::Reader) as the typed closure, with the same
//! strictness, budgets, trace and error lines, so that the renderers and
//! `--explain` work unchanged.
//!
//! - [`Schema`]: TL text parsed once into a table indexed by id, by name and
//!   by type, each id checked against the CRC32 of its line.
//! - [`Schema::decode_with_sink`] and friends: bytes to a [`DynValue`].
//! - [`DynValue::to_json`] and [`Schema::encode_json`]: the canonical JSON
//!   form (protocol.md §3, extended to every TL type) and the way back.
//!
//! The renderers and the trace hold `&'static CtorDef`s, as the typed
//! closure's tables are statics. A schema loaded at run time gets there by
//! leaking its tables once ([`Box::leak`]): a few hundred kilobytes for the
//! whole API, once per loaded schema, which a command-line tool loads once.
//! (Making the trace generic over the lifetime of its schema would touch
//! every renderer for no gain to the tool.)

mod decode;
mod json;
mod parse;

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::schema::CtorDef;

pub use decode::{DynRef, DynStr, DynValue, Expect, Seq, SeqIter};
pub use parse::{SchemaError, SchemaWarning};

/// The embedded default schema: Telegram's `api.tl` (layer 224).
pub const BUILTIN_API_TL: &str = include_str!("../../../tl/api.tl");
/// The embedded default schema's `mtproto.tl`.
pub const BUILTIN_MTPROTO_TL: &str = include_str!("../../../tl/mtproto.tl");
/// The layer of [`BUILTIN_API_TL`].
pub const BUILTIN_LAYER: u32 = 224;

/// The type of a field: a flag word, `true`, or a value. Flag words and
/// `true` are fields only (the loader makes a vector of them an undefined
/// type), so the type of a vector's element or of a top-level value is a
/// [`Ty`], which cannot be either.
#[derive(Debug, Clone, PartialEq)]
enum FieldTy {
    /// `#`: a flag word, with the bits its fields use.
    Flags { mask: u32 },
    /// `true`: no bytes; set when its flag bit is.
    True,
    /// Any other type: a value with bytes of its own.
    Value(Ty),
}

impl FieldTy {
    /// The fewest bytes a field of this type occupies.
    fn min_size(&self, schema: &Schema) -> usize {
        match self {
            FieldTy::Flags { .. } => 4,
            FieldTy::True => 0,
            FieldTy::Value(ty) => ty.min_size(schema),
        }
    }
}

/// The TL type of a value, resolved against the schema.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Int,
    Long,
    Double,
    Int128,
    Int256,
    String,
    Bytes,
    /// `Bool`: `boolTrue` or `boolFalse`, a value rather than an object.
    Bool,
    /// `Vector<T>` (`boxed`) or `vector<T>`; `label` is the TL spelling, for messages.
    Vector {
        boxed: bool,
        element: Box<Ty>,
        label: &'static str,
    },
    /// A boxed type: any of its constructors, id first (an index into `Schema::types`).
    Boxed(usize),
    /// A bare constructor (`vector<message>`'s `message`): its fields, no id.
    Bare(usize),
    /// `Object`, `!X` or a generic `X`: any constructor or function of the schema.
    Any,
    /// A type the schema names but never defines: decoding it is an error.
    Undefined(&'static str),
}

impl Ty {
    /// The fewest bytes a value of this type occupies (to bound vector counts).
    fn min_size(&self, schema: &Schema) -> usize {
        match self {
            Ty::Undefined(_) => 0,
            Ty::Int | Ty::String | Ty::Bytes | Ty::Bool | Ty::Boxed(_) | Ty::Any => 4,
            Ty::Long | Ty::Double => 8,
            Ty::Int128 => 16,
            Ty::Int256 => 32,
            Ty::Vector { boxed, .. } => 4 + if *boxed { 4 } else { 0 },
            Ty::Bare(ci) => schema.ctors[*ci].min_size,
        }
    }
}

/// One field of a constructor, as the decoder reads it.
#[derive(Debug, Clone)]
struct Field {
    ty: FieldTy,
    /// For a conditional field: the index of its flag word among the
    /// constructor's fields, and its bit.
    condition: Option<(usize, u8)>,
}

/// One constructor or function of a schema.
#[derive(Debug)]
struct Ctor {
    def: &'static CtorDef,
    /// Parallel to `def.fields`.
    fields: Vec<Field>,
    /// How the decoder reads them, parallel to `fields`.
    ops: Vec<decode::Op>,
    /// The fewest bytes of its body (conditional fields count as absent).
    min_size: usize,
}

/// A boxed type: its name and its constructors.
#[derive(Debug)]
struct TypeEntry {
    name: &'static str,
    /// Indexes into `Schema::ctors`.
    ctors: Vec<usize>,
    /// Their ids, parallel to `ctors` (scanned without visiting each constructor).
    ids: Vec<u32>,
}

/// Hashes a constructor id for [`Schema`]'s id map. The id is already a
/// CRC32, as good as a hash; SipHash over it cost more than the rest of
/// decoding a small frame. One multiplication (Fibonacci hashing) spreads
/// it over all 64 bits, since the table picks buckets with the low bits
/// and tags entries with the high ones.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u32 keys are hashed with it; this keeps any other key correct.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, id: u32) {
        self.0 = u64::from(id).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Constructor ids to indexes into `Schema::ctors`.
pub(crate) type IdMap = HashMap<u32, usize, BuildHasherDefault<IdHasher>>;

/// Constructor ids to indexes into `Schema::ctors`, as one flat table
/// with linear probing: a multiplication, a shift and, nearly always, one
/// comparison per lookup.
struct IdTable {
    /// `(id, index + 1)`; an index of 0 marks an empty slot. The length is
    /// a power of two, at least twice the number of ids.
    slots: Box<[(u32, u32)]>,
    shift: u32,
}

impl IdTable {
    fn new(by_id: &IdMap) -> IdTable {
        let size = (by_id.len() * 2).next_power_of_two().max(2);
        let shift = 32 - size.trailing_zeros();
        let mut slots = vec![(0u32, 0u32); size].into_boxed_slice();
        for (&id, &index) in by_id {
            // Indexes beyond u32 cannot occur (a schema that large is not text
            // anyone writes); such a constructor would simply not be found.
            let Some(value) = u32::try_from(index).ok().and_then(|i| i.checked_add(1)) else { continue };
            let mut i = IdTable::home(id, shift);
            while slots[i].1 != 0 {
                i = (i + 1) & (size - 1);
            }
            slots[i] = (id, value);
        }
        IdTable { slots, shift }
    }

    #[inline]
    fn home(id: u32, shift: u32) -> usize {
        // Fibonacci hashing: the high bits of the product.
        (u64::from(id.wrapping_mul(0x9e37_79b9)) >> shift) as usize
    }

    #[inline]
    fn get(&self, id: u32) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut i = IdTable::home(id, self.shift) & mask;
        // At least half the slots are empty, so the probe ends.
        loop {
            let (key, value) = *self.slots.get(i)?;
            if value == 0 {
                return None;
            }
            if key == id {
                return Some(value as usize - 1);
            }
            i = (i + 1) & mask;
        }
    }
}

/// A TL schema loaded at run time: every constructor and function, indexed
/// by id, by name and by type. See the [module documentation](self).
pub struct Schema {
    ctors: Vec<Ctor>,
    by_id: IdMap,
    /// `by_id` again, as the decoder looks ids up.
    id_table: IdTable,
    by_name: HashMap<&'static str, Vec<usize>>,
    types: Vec<TypeEntry>,
    type_index: HashMap<&'static str, usize>,
    warnings: Vec<SchemaWarning>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("constructors", &self.ctors.len())
            .field("types", &self.types.len())
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

impl Schema {
    /// The embedded default schema (layer-224 `api.tl` and `mtproto.tl`),
    /// parsed on first use.
    pub fn builtin() -> &'static Schema {
        static BUILTIN: OnceLock<Schema> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Schema::parse(&[("api.tl", BUILTIN_API_TL), ("mtproto.tl", BUILTIN_MTPROTO_TL)])
                .expect("the embedded schema is checked by the tests")
        })
    }

    /// What the typed core knows: `tl/closure.tl` and `tl/service.tl`.
    /// Decoding with it gives exactly the typed decoder's values, traces and
    /// errors (the agreement tests check this), since it names the same
    /// constructors in its error messages.
    pub fn closure() -> &'static Schema {
        static CLOSURE: OnceLock<Schema> = OnceLock::new();
        CLOSURE.get_or_init(|| {
            Schema::parse(&[
                ("closure.tl", include_str!("../../../tl/closure.tl")),
                ("service.tl", include_str!("../../../tl/service.tl")),
            ])
            .expect("closure.tl and service.tl are checked by the build")
        })
    }

    /// Load a schema from TL texts, each given as `(name, text)` (the name
    /// is used in messages: `api.tl:12:5: ...`). Lines are `name#id fields
    /// = Type;` definitions under `---types---` or `---functions---`, `//`
    /// comments, and TL's built-in primitives (`int ? = Int;`,
    /// `vector#1cb5c415 {t:Type} # [ t ] = Vector t;`), which are skipped.
    ///
    /// A line that is not a definition is an error giving its line and
    /// column. An id that is not the CRC32 of its line (some published
    /// `mtproto.tl` ids are not) is accepted as published, with a
    /// [`SchemaWarning`]: the id is what goes on the wire. A type that is
    /// used but never defined is a warning too, and an error only when a
    /// frame needs it.
    pub fn parse(texts: &[(&str, &str)]) -> Result<Schema, SchemaError> {
        parse::parse(texts)
    }

    /// What loading found questionable but accepted.
    pub fn warnings(&self) -> &[SchemaWarning] {
        &self.warnings
    }

    /// How many constructors and functions the schema holds.
    pub fn len(&self) -> usize {
        self.ctors.len()
    }

    /// Whether the schema holds nothing.
    pub fn is_empty(&self) -> bool {
        self.ctors.is_empty()
    }

    /// Every constructor and function, in the order of the texts.
    pub fn iter(&self) -> impl Iterator<Item = &'static CtorDef> + '_ {
        self.ctors.iter().map(|c| c.def)
    }

    /// The constructor or function with this id.
    pub fn by_id(&self, id: u32) -> Option<&'static CtorDef> {
        self.by_id.get(&id).map(|&i| self.ctors[i].def)
    }

    /// The TL name of the constructor or function with this id.
    pub fn name_of(&self, id: u32) -> Option<&'static str> {
        self.by_id(id).map(|c| c.name)
    }

    /// The constructor or function with this TL name (the first loaded,
    /// where two texts define the same name).
    pub fn by_name(&self, name: &str) -> Option<&'static CtorDef> {
        self.by_name.get(name).and_then(|v| v.first()).map(|&i| self.ctors[i].def)
    }

    /// The constructors of the boxed type `ty` (`InputPeer`), in file order.
    pub fn constructors_of(&self, ty: &str) -> Vec<&'static CtorDef> {
        self.type_index
            .get(ty)
            .map_or_else(Vec::new, |&t| self.types[t].ctors.iter().map(|&i| self.ctors[i].def).collect())
    }

    /// The TL type the answer to `request` has: the function's result type,
    /// and for a generic wrapper (`invokeWithLayer {X:Type} query:!X = X`)
    /// the result type of the request it wraps, followed inwards. `None`
    /// when `request` is not a function call.
    pub fn answer_type(&self, request: &DynValue) -> Option<String> {
        answer_type(request.view())
    }

    #[inline]
    fn ctor_index(&self, id: u32) -> Option<usize> {
        self.id_table.get(id)
    }
}

/// [`Schema::answer_type`] of a value of the tape.
fn answer_type(request: DynRef<'_>) -> Option<String> {
    let DynRef::Object { ctor, fields } = request else {
        return None;
    };
    if !ctor.is_function {
        return None;
    }
    // A generic result names the type of the field that holds `!X`.
    let generic = ctor.fields.iter().position(|f| f.ty.strip_prefix('!') == Some(ctor.ty));
    match generic {
        Some(i) => answer_type(fields.get(i)?),
        None => Some(ctor.ty.to_string()),
    }
}

#[cfg(test)]
mod tests;
