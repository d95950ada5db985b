//! The canonical JSON form of any schema value (protocol.md §3, extended):
//! `"_"` names the constructor, fields keep their TL names and wire order,
//! a flag word is its value, an absent field is `null`, `true` fields are
//! booleans, `int`/`long` exact integers, `string` text, and further:
//! `double` a JSON number, `bytes` standard padded base64, `int128` and
//! `int256` the lowercase hex of their wire bytes, `Bool` `true`/`false`,
//! vectors arrays. Two escapes keep every decoded value exact, as in the
//! typed form: a `string` that is not UTF-8 (lenient decoding only) is
//! `{"_": "bytes", "hex": ...}`, and a `double` that JSON cannot hold
//! (NaN, infinities) is `{"_": "double", "hex": ...}` (its wire bytes).
//!
//! [`Schema::encode_json`] reads that form back into wire bytes, as strictly
//! as the typed reader: unknown fields, missing required ones, out-of-range
//! numbers and a flag word that disagrees with the fields are errors.

use std::io;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{DynRef, DynValue, FieldTy, Schema, Ty};
use crate::tl::ids;
use crate::tl::json::{describe, join, JsonError};
use crate::tl::reader::MAX_DEPTH_LIMIT;
use crate::tl::writer::{Writer, MAX_STRING_LEN};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

impl DynValue {
    /// The canonical JSON form.
    pub fn to_json(&self) -> Value {
        self.view().to_json()
    }
}

impl DynRef<'_> {
    /// The canonical JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            DynRef::Object { ctor, fields } => {
                let mut m = Map::new();
                m.insert("_".into(), ctor.name.into());
                for (def, value) in ctor.fields.iter().zip(fields) {
                    m.insert(def.name.into(), value.to_json());
                }
                Value::Object(m)
            }
            DynRef::Flags(f) => (*f).into(),
            DynRef::True(b) | DynRef::Bool(b) => (*b).into(),
            DynRef::Absent => Value::Null,
            DynRef::Int(v) => (*v).into(),
            DynRef::Long(v) => (*v).into(),
            DynRef::Double(v) => match serde_json::Number::from_f64(*v) {
                Some(n) => Value::Number(n),
                None => serde_json::json!({"_": "double", "hex": crate::hex::encode(&v.to_le_bytes())}),
            },
            DynRef::Int128(b) => crate::hex::encode(b).into(),
            DynRef::Int256(b) => crate::hex::encode(&b[..]).into(),
            DynRef::String(s) => match s.as_str() {
                Some(text) => text.into(),
                None => serde_json::json!({"_": "bytes", "hex": crate::hex::encode(s.as_bytes())}),
            },
            DynRef::Bytes(b) => B64.encode(b).into(),
            DynRef::Vector(items) => Value::Array(items.iter().map(|item| item.to_json()).collect()),
        }
    }
}

impl DynValue {
    /// Write the canonical JSON form to `out`, compact: the bytes
    /// `serde_json::to_writer(out, &self.to_json())` writes, without
    /// building the [`Value`] first (a `messages.dialogs` answer is
    /// hundreds of values, each of them an allocation or more there).
    pub fn write_json<W: io::Write + ?Sized>(&self, out: &mut W) -> io::Result<()> {
        self.view().write_json(out)
    }
}

impl DynRef<'_> {
    /// [`DynValue::write_json`] of this part of a value.
    pub fn write_json<W: io::Write + ?Sized>(&self, out: &mut W) -> io::Result<()> {
        match self {
            DynRef::Object { ctor, fields } => {
                // The JSON object keeps one entry per key, where the first
                // one stood and with the last value: a constructor whose
                // field names repeat (or name a field "_") goes through the
                // map, so that both forms stay the same. No schema in use does.
                if !plain_names(ctor.fields) {
                    return serde_json::to_writer(out, &self.to_json()).map_err(io::Error::from);
                }
                out.write_all(b"{\"_\":")?;
                write_str(out, ctor.name)?;
                for (def, value) in ctor.fields.iter().zip(fields) {
                    out.write_all(b",")?;
                    write_str(out, def.name)?;
                    out.write_all(b":")?;
                    value.write_json(out)?;
                }
                out.write_all(b"}")
            }
            DynRef::Flags(f) => write_value(out, &i64::from(*f)),
            DynRef::True(b) | DynRef::Bool(b) => out.write_all(if *b { b"true" } else { b"false" }),
            DynRef::Absent => out.write_all(b"null"),
            DynRef::Int(v) => write_value(out, &i64::from(*v)),
            DynRef::Long(v) => write_value(out, v),
            DynRef::Double(v) if v.is_finite() => serde_json::to_writer(out, v).map_err(io::Error::from),
            DynRef::Double(v) => write_hex_object(out, "double", &v.to_le_bytes()),
            // Hex and base64 digits need no escaping.
            DynRef::Int128(b) => write_quoted(out, crate::hex::encode(b).as_bytes()),
            DynRef::Int256(b) => write_quoted(out, crate::hex::encode(&b[..]).as_bytes()),
            DynRef::String(s) => match s.as_str() {
                Some(text) => write_str(out, text),
                None => write_hex_object(out, "bytes", s.as_bytes()),
            },
            DynRef::Bytes(b) => write_quoted(out, B64.encode(b).as_bytes()),
            DynRef::Vector(items) => {
                out.write_all(b"[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    item.write_json(out)?;
                }
                out.write_all(b"]")
            }
        }
    }
}

/// Whether the field names of a constructor are distinct and none is `_`
/// (then its JSON object has one key per field, in order).
fn plain_names(fields: &[crate::tl::schema::FieldDef]) -> bool {
    fields.iter().enumerate().all(|(i, f)| f.name != "_" && fields[..i].iter().all(|g| g.name != f.name))
}

/// An integer as serde_json writes it (the `Value` path's digits).
fn write_value<W: io::Write + ?Sized>(out: &mut W, value: &i64) -> io::Result<()> {
    serde_json::to_writer(out, value).map_err(io::Error::from)
}

/// A string with serde_json's escaping, so that the bytes match the `Value` path's.
pub(crate) fn write_str<W: io::Write + ?Sized>(out: &mut W, text: &str) -> io::Result<()> {
    serde_json::to_writer(out, text).map_err(io::Error::from)
}

/// Text that needs no escaping, in quotes.
fn write_quoted<W: io::Write + ?Sized>(out: &mut W, text: &[u8]) -> io::Result<()> {
    out.write_all(b"\"")?;
    out.write_all(text)?;
    out.write_all(b"\"")
}

/// `{"_":"<name>","hex":"<bytes as hex>"}`, the form of a value JSON cannot hold.
fn write_hex_object<W: io::Write + ?Sized>(out: &mut W, name: &str, bytes: &[u8]) -> io::Result<()> {
    out.write_all(b"{\"_\":")?;
    write_str(out, name)?;
    out.write_all(b",\"hex\":")?;
    write_quoted(out, crate::hex::encode(bytes).as_bytes())?;
    out.write_all(b"}")
}

fn err(path: &str, message: String) -> JsonError {
    JsonError { path: path.to_string(), message }
}

impl Schema {
    /// The wire bytes of the canonical JSON form of any constructor or
    /// function of the schema (a top-level value is always boxed).
    pub fn encode_json(&self, v: &Value) -> Result<Vec<u8>, JsonError> {
        let mut w = Writer::with_capacity(64);
        self.write(&mut w, &Ty::Any, v, "", 0)?;
        w.finish().map_err(|e| err("", e.to_string()))
    }

    fn write(&self, w: &mut Writer, ty: &Ty, v: &Value, path: &str, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH_LIMIT {
            return Err(err(path, format!("nested deeper than {MAX_DEPTH_LIMIT} levels")));
        }
        let expected = |what: &str| err(path, format!("expected {what}, found {}", describe(v)));
        match ty {
            Ty::Int => {
                let n = v.as_i64().and_then(|n| i32::try_from(n).ok());
                w.int(n.ok_or_else(|| expected("an int (32-bit signed integer)"))?);
            }
            Ty::Long => w.long(v.as_i64().ok_or_else(|| expected("a long (64-bit signed integer)"))?),
            Ty::Double => {
                let bits = match v {
                    Value::Number(n) => n.as_f64().map(f64::to_bits),
                    Value::Object(m) if m.get("_") == Some(&Value::String("double".into())) => {
                        let hex = m.get("hex").and_then(Value::as_str).unwrap_or("");
                        crate::hex::parse(hex).ok().and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_le_bytes)
                    }
                    _ => None,
                };
                let bits =
                    bits.ok_or_else(|| expected("a double (a number, or {\"_\": \"double\", \"hex\": 8 bytes})"))?;
                w.long(bits as i64);
            }
            Ty::Int128 => w.raw(&fixed::<16>(v).ok_or_else(|| expected("an int128 (32 hex digits)"))?),
            Ty::Int256 => w.raw(&fixed::<32>(v).ok_or_else(|| expected("an int256 (64 hex digits)"))?),
            Ty::String => {
                let bytes = match v {
                    Value::String(s) => s.as_bytes().to_vec(),
                    Value::Object(m) if m.get("_") == Some(&Value::String("bytes".into())) => {
                        let hex = m.get("hex").and_then(Value::as_str).unwrap_or("");
                        crate::hex::parse(hex)
                            .map_err(|e| err(path, format!("invalid hex in {{\"_\": \"bytes\"}}: {e}")))?
                    }
                    _ => return Err(expected("a string")),
                };
                check_len(path, bytes.len())?;
                w.bytes(&bytes);
            }
            Ty::Bytes => {
                let s = v.as_str().ok_or_else(|| expected("bytes (standard base64)"))?;
                let bytes = B64.decode(s).map_err(|e| err(path, format!("invalid base64: {e}")))?;
                check_len(path, bytes.len())?;
                w.bytes(&bytes);
            }
            Ty::Bool => {
                let b = v.as_bool().ok_or_else(|| expected("true or false"))?;
                w.u32(if b { ids::BOOL_TRUE } else { ids::BOOL_FALSE });
            }
            Ty::Vector { boxed, element, .. } => {
                let items = v.as_array().ok_or_else(|| expected("an array"))?;
                if *boxed {
                    w.u32(ids::VECTOR);
                }
                let count = i32::try_from(items.len()).map_err(|_| err(path, "too many elements".into()))?;
                w.int(count);
                for (i, item) in items.iter().enumerate() {
                    self.write(w, element, item, &join(path, &i.to_string()), depth + 1)?;
                }
            }
            Ty::Boxed(t) => {
                let entry = &self.types[*t];
                let ci = self.object_ctor(v, path, entry.name, |ci| entry.ctors.contains(&ci))?;
                w.u32(self.ctors[ci].def.id);
                self.write_fields(w, ci, v, path, depth)?;
            }
            Ty::Any => {
                let ci = self.object_ctor(v, path, "an object", |_| true)?;
                w.u32(self.ctors[ci].def.id);
                self.write_fields(w, ci, v, path, depth)?;
            }
            Ty::Bare(ci) => {
                let name = self.ctors[*ci].def.name;
                match v.get("_") {
                    None => {}
                    Some(Value::String(s)) if s == name => {}
                    Some(other) => {
                        return Err(err(path, format!("expected the bare {name}, found \"_\": {}", describe(other))))
                    }
                }
                self.write_fields(w, *ci, v, path, depth)?;
            }
            Ty::Undefined(name) => {
                return Err(err(path, format!("the schema uses the type {name} but does not define it")))
            }
        }
        Ok(())
    }

    /// The constructor an object's `"_"` names, if `allowed`.
    fn object_ctor(
        &self,
        v: &Value,
        path: &str,
        expected: &str,
        allowed: impl Fn(usize) -> bool,
    ) -> Result<usize, JsonError> {
        let Value::Object(map) = v else {
            return Err(err(path, format!("expected an object for {expected}, found {}", describe(v))));
        };
        let name = match map.get("_") {
            Some(Value::String(name)) => name,
            Some(other) => {
                return Err(err(path, format!("\"_\" must be a constructor name, found {}", describe(other))))
            }
            None => return Err(err(path, format!("missing \"_\" (the constructor name of {expected})"))),
        };
        let Some(found) = self.by_name.get(name.as_str()) else {
            return Err(err(path, format!("unknown constructor {name:?} for {expected}")));
        };
        match found.iter().copied().find(|&ci| allowed(ci)) {
            Some(ci) => Ok(ci),
            None => {
                Err(err(path, format!("{name} is {}, but {expected} is expected here", self.ctors[found[0]].def.what)))
            }
        }
    }

    fn write_fields(&self, w: &mut Writer, ci: usize, v: &Value, path: &str, depth: usize) -> Result<(), JsonError> {
        let c = &self.ctors[ci];
        let Value::Object(map) = v else {
            return Err(err(path, format!("expected an object for {}, found {}", c.def.name, describe(v))));
        };
        for key in map.keys() {
            if key != "_" && c.def.field(key).is_none() {
                let fields: Vec<&str> = c.def.fields.iter().map(|f| f.name).collect();
                let message = if fields.is_empty() {
                    format!("{} has no fields", c.def.name)
                } else {
                    format!("{} has no such field (its fields: {})", c.def.name, fields.join(", "))
                };
                return Err(err(&join(path, key), message));
            }
        }
        let get = |name: &str| map.get(name).filter(|v| !v.is_null());
        // Each flag word follows from the fields it governs.
        let present = |i: usize| -> Result<bool, JsonError> {
            let def = &c.def.fields[i];
            let at = join(path, def.name);
            match (&c.fields[i].ty, get(def.name)) {
                (FieldTy::True, None) => Ok(false),
                (FieldTy::True, Some(Value::Bool(b))) => Ok(*b),
                (FieldTy::True, Some(other)) => {
                    Err(err(&at, format!("expected true or false, found {}", describe(other))))
                }
                (_, value) => Ok(value.is_some()),
            }
        };
        let mut words = vec![0u32; c.fields.len()];
        for (i, f) in c.fields.iter().enumerate() {
            if let Some((word, bit)) = f.condition {
                if present(i)? {
                    words[word] |= 1 << bit;
                }
            }
        }
        for (i, (f, def)) in c.fields.iter().zip(c.def.fields).enumerate() {
            let at = join(path, def.name);
            match (&f.ty, f.condition) {
                (FieldTy::Flags { .. }, _) => {
                    if let Some(given) = get(def.name) {
                        let given = given.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                            err(&at, format!("expected a 32-bit unsigned integer, found {}", describe(given)))
                        })?;
                        if given != words[i] {
                            let derived = words[i];
                            return Err(err(
                                &at,
                                format!(
                                    "{} {given} (0x{given:x}) disagree with the fields, which give {derived} (0x{derived:x}); \
                                     leave {} out to derive it",
                                    def.name, def.name
                                ),
                            ));
                        }
                    }
                    w.u32(words[i]);
                }
                (FieldTy::True, _) => {
                    present(i)?;
                }
                (FieldTy::Value(ty), Some(_)) => {
                    if let Some(value) = get(def.name) {
                        self.write(w, ty, value, &at, depth + 1)?;
                    }
                }
                (FieldTy::Value(ty), None) => {
                    let value =
                        get(def.name).ok_or_else(|| err(&at, format!("missing required field of type {}", def.ty)))?;
                    self.write(w, ty, value, &at, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

fn check_len(path: &str, len: usize) -> Result<(), JsonError> {
    if len > MAX_STRING_LEN {
        return Err(err(path, format!("a string of {len} bytes is longer than TL allows ({MAX_STRING_LEN})")));
    }
    Ok(())
}

/// `N` bytes written as lowercase (or uppercase) hex without spaces.
fn fixed<const N: usize>(v: &Value) -> Option<[u8; N]> {
    let s = v.as_str()?;
    if s.len() != 2 * N || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    crate::hex::parse(s).ok().and_then(|b| <[u8; N]>::try_from(b).ok())
}
