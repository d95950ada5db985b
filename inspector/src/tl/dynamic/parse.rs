//! Loading a [`Schema`] from TL text: `grammers-tl-parser` reads each
//! definition; the file, line and column of a malformed one are tracked
//! here, since the parser's errors carry no position.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use grammers_tl_parser::errors::ParseError;
use grammers_tl_parser::tl::{Definition, Parameter, ParameterType, Type};

use super::{Ctor, Field, FieldTy, IdMap, Schema, Ty, TypeEntry};
use crate::tl::crc::tl_crc;
use crate::tl::ids;
use crate::tl::schema::{CtorDef, FieldDef};

/// A line of TL text that is not a definition: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The name the text was given (`api.tl`).
    pub file: String,
    /// 1-based line and column.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

impl std::error::Error for SchemaError {}

/// Something a schema says that loading accepted with a remark: an id that
/// is not the CRC32 of its line, a duplicate id, a type used but not defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaWarning {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SchemaWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A definition read in the first pass, its field types not yet resolved.
struct Pending {
    def: Definition,
    source: usize,
    line: usize,
}

fn leak(s: String) -> &'static str {
    s.leak()
}

/// TL's built-in primitives, which TL text declares in a form of its own
/// (`int ? = Int;`, `vector#1cb5c415 {t:Type} # [ t ] = Vector t;`) that is
/// not an ordinary definition: the decoder implements them itself.
fn is_builtin_declaration(body: &str) -> bool {
    let words: Vec<&str> = body.split_whitespace().collect();
    matches!(words.as_slice(), [_, "?", "=", _])
        || words.first().is_some_and(|w| *w == "vector" || w.starts_with("vector#"))
}

/// The 1-based column where `needle` starts in `raw`, else where the text starts.
fn column_of(raw: &str, needle: &str) -> usize {
    let at = raw.find(needle).unwrap_or_else(|| raw.len() - raw.trim_start().len());
    raw[..at].chars().count() + 1
}

/// Why `body` (a definition without its `;`) does not parse, and the word at fault.
fn explain(body: &str, e: &ParseError) -> (String, Option<String>) {
    // The first parameter the parser refuses, or that uses a flag word or
    // a generic type not defined before it, is the culprit.
    let bad_param = || {
        let middle = body.split('=').next().unwrap_or("");
        let (mut words, mut generics): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        middle.split_whitespace().skip(1).find(|w| match Parameter::from_str(w) {
            Ok(Parameter { name, ty: ParameterType::Flags }) => {
                words.push(name);
                false
            }
            Ok(Parameter { ty: ParameterType::Normal { ty, flag }, .. }) => {
                flag.is_some_and(|f| !words.contains(&f.name)) || (ty.generic_ref && !generics.contains(&ty.name))
            }
            Err(grammers_tl_parser::errors::ParamParseError::TypeDef { name }) => {
                generics.push(name);
                false
            }
            Err(_) => true,
        })
    };
    match e {
        ParseError::Empty => ("empty definition".into(), None),
        ParseError::InvalidId(err) => {
            let id = body.split_whitespace().next().and_then(|w| w.split_once('#')).map(|(_, id)| format!("#{id}"));
            (format!("the constructor id is not hexadecimal ({err})"), id)
        }
        ParseError::MissingName => ("the definition has no name".into(), None),
        ParseError::MissingType => ("the definition has no `= Type`".into(), None),
        ParseError::NotImplemented => match bad_param() {
            Some(w) => (format!("`{w}` is TL syntax this loader does not implement"), Some(w.to_string())),
            None => ("TL syntax this loader does not implement".into(), None),
        },
        ParseError::InvalidParam(p) => match bad_param() {
            Some(w) => (
                format!(
                    "`{w}` is not a valid field, or uses a flag word or generic type not defined before it ({p:?})"
                ),
                Some(w.to_string()),
            ),
            None => (format!("a field is not valid ({p:?}: a flag or generic type used before it is defined)"), None),
        },
        ParseError::UnknownSeparator => ("unknown section separator".into(), None),
    }
}

pub(super) fn parse(texts: &[(&str, &str)]) -> Result<Schema, SchemaError> {
    let mut pending: Vec<Pending> = Vec::new();
    let mut is_function: Vec<bool> = Vec::new();
    let mut warnings = Vec::new();
    for (source, (file, text)) in texts.iter().enumerate() {
        let mut functions = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |column: usize, message: String| SchemaError { file: file.to_string(), line, column, message };
            let code = raw.split("//").next().unwrap_or("").trim();
            if code.is_empty() {
                continue;
            }
            match code {
                "---types---" => {
                    functions = false;
                    continue;
                }
                "---functions---" => {
                    functions = true;
                    continue;
                }
                _ if code.starts_with("---") => {
                    // Escaped: a carriage return inside the line (only a
                    // line's last one is cut off) must not break the message.
                    return Err(err(column_of(raw, code), format!("unknown section `{}`", code.escape_debug())));
                }
                _ => {}
            }
            let Some(body) = code.strip_suffix(';') else {
                return Err(err(
                    column_of(raw, code) + code.chars().count(),
                    "a definition ends with `;` (one definition per line)".into(),
                ));
            };
            if is_builtin_declaration(body) {
                continue;
            }
            let normalized = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let def = match Definition::from_str(&normalized) {
                Ok(def) => def,
                Err(e) => {
                    let (message, word) = explain(&normalized, &e);
                    let column = word.map_or_else(|| column_of(raw, code), |w| column_of(raw, &w));
                    return Err(err(column, format!("not a TL definition: {message}")));
                }
            };
            for p in &def.params {
                if let ParameterType::Normal { flag: Some(flag), .. } = &p.ty {
                    if flag.index >= 32 {
                        return Err(err(
                            column_of(raw, &format!("{}:", p.name)),
                            format!("field {} uses bit {} of a 32-bit flag word", p.name, flag.index),
                        ));
                    }
                }
            }
            let written_id = normalized.split_whitespace().next().is_some_and(|w| w.contains('#'));
            let computed = tl_crc(&normalized);
            let id = if written_id { def.id } else { computed };
            if written_id && computed != def.id {
                warnings.push(SchemaWarning {
                    file: file.to_string(),
                    line,
                    message: format!(
                        "the id #{:08x} of {} is not the CRC32 of its line (#{computed:08x}); using the published id",
                        def.id,
                        def.full_name()
                    ),
                });
            }
            let mut def = def;
            def.id = id;
            pending.push(Pending { def, source, line });
            is_function.push(functions);
        }
    }
    Ok(build(texts, pending, is_function, warnings))
}

/// `Vector<long>`, `messages.ChatFull`, `!X`: a type as TL writes it.
fn type_text(ty: &Type) -> String {
    ty.to_string()
}

fn build(
    texts: &[(&str, &str)],
    pending: Vec<Pending>,
    is_function: Vec<bool>,
    mut warnings: Vec<SchemaWarning>,
) -> Schema {
    let warn = |w: &mut Vec<SchemaWarning>, p: &Pending, message: String| {
        w.push(SchemaWarning { file: texts[p.source].0.to_string(), line: p.line, message });
    };
    let mut by_id = IdMap::default();
    let mut by_name: HashMap<&'static str, Vec<usize>> = HashMap::new();
    let mut types: Vec<TypeEntry> = Vec::new();
    let mut type_index: HashMap<&'static str, usize> = HashMap::new();
    // The first pass: names, ids and types, so that fields can refer to
    // definitions further down.
    let mut kept: Vec<(Pending, bool, &'static str, &'static str)> = Vec::new();
    for (p, function) in pending.into_iter().zip(is_function) {
        let name = p.def.full_name();
        if let Some(&other) = by_id.get(&p.def.id) {
            let (first, ..) = &kept[other];
            warn(
                &mut warnings,
                &p,
                format!(
                    "{name} has the id #{:08x} of {} (line {}); the first is kept",
                    p.def.id,
                    first.def.full_name(),
                    first.line
                ),
            );
            continue;
        }
        let name = leak(name);
        let ty = leak(type_text(&p.def.ty).trim_start_matches('!').to_string());
        let index = kept.len();
        by_id.insert(p.def.id, index);
        by_name.entry(name).or_default().push(index);
        if !function {
            let t = *type_index.entry(ty).or_insert_with(|| {
                types.push(TypeEntry { name: ty, ctors: Vec::new(), ids: Vec::new() });
                types.len() - 1
            });
            types[t].ctors.push(index);
            types[t].ids.push(p.def.id);
        }
        kept.push((p, function, name, ty));
    }
    let mut ctors: Vec<Ctor> = Vec::with_capacity(kept.len());
    let mut undefined: Vec<String> = Vec::new();
    // Each definition's line, by number: looked up in a table, since
    // walking the text to it for every definition made loading a whole
    // api.tl quadratic (a tenth of a second of every `pcap --all`).
    let lines: Vec<Vec<&str>> = texts.iter().map(|(_, text)| text.lines().collect()).collect();
    for (p, function, name, ty) in &kept {
        let resolve =
            |t: &Type, undefined: &mut Vec<String>| resolve(t, p.source, &kept, &type_index, &by_name, undefined);
        let mut fields = Vec::new();
        let mut defs = Vec::new();
        for param in &p.def.params {
            let (ty_text, flag, field) = match &param.ty {
                ParameterType::Flags => {
                    ("#".to_string(), None, Field { ty: FieldTy::Flags { mask: 0 }, condition: None })
                }
                ParameterType::Normal { ty: t, flag } => {
                    // The flag word is always found: grammers-tl-parser
                    // refuses a condition on a name that is not a `#`
                    // field before it (`MissingDef`, reported by the first
                    // pass with its column).
                    let condition = flag.as_ref().and_then(|f| {
                        let word = p.def.params.iter().position(|q| q.name == f.name && q.ty == ParameterType::Flags);
                        word.map(|w| (w, f.index as u8))
                    });
                    let ty = if is_true(t) { FieldTy::True } else { FieldTy::Value(resolve(t, &mut undefined)) };
                    (type_text(t), flag.as_ref().map(|f| (f.name.clone(), f.index as u8)), Field { ty, condition })
                }
            };
            let is_time = ty_text == "int" && (param.name == "date" || param.name.ends_with("_date"));
            defs.push(FieldDef {
                name: leak(param.name.clone()),
                ty: leak(ty_text),
                flag: flag.as_ref().map(|f| f.1),
                flag_word: flag.map_or("", |f| leak(f.0)),
                is_time,
            });
            fields.push(field);
        }
        for u in undefined.drain(..) {
            warn(&mut warnings, p, format!("{name} uses the type {u}, which the schema does not define"));
        }
        // Each flag word's mask: the bits its fields use.
        for i in 0..fields.len() {
            if let FieldTy::Flags { .. } = fields[i].ty {
                let mask =
                    fields.iter().filter_map(|f| f.condition).filter(|c| c.0 == i).fold(0u32, |m, c| m | 1 << c.1);
                fields[i].ty = FieldTy::Flags { mask };
            }
        }
        let flag_mask =
            defs.iter().filter(|d| d.flag_word == "flags").filter_map(|d| d.flag).fold(0u32, |m, b| m | 1 << b);
        // As build.rs names them, so that both decoders' errors read alike.
        let what = if *function && p.def.ty.generic_ref {
            "a wrapper around a query".to_string()
        } else if *function {
            format!("a function returning {ty}")
        } else {
            format!("of type {ty}")
        };
        let line = leak(
            lines[p.source]
                .get(p.line - 1)
                .copied()
                .unwrap_or("")
                .split("//")
                .next()
                .unwrap_or("")
                .trim()
                .trim_end_matches(';')
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
        let def: &'static CtorDef = Box::leak(Box::new(CtorDef {
            name,
            id: p.def.id,
            ty,
            is_function: *function,
            fields: Box::leak(defs.into_boxed_slice()),
            flag_mask,
            what: leak(what),
            line,
        }));
        let ops = super::decode::ops(&fields, def.fields);
        ctors.push(Ctor { def, fields, ops, min_size: 0 });
    }
    let id_table = super::IdTable::new(&by_id);
    let mut schema = Schema { ctors, by_id, id_table, by_name, types, type_index, warnings };
    // Bare constructors may hold bare constructors: iterate the lower bounds
    // (each pass can only raise them) a few times rather than recurse.
    for _ in 0..4 {
        for i in 0..schema.ctors.len() {
            let c = &schema.ctors[i];
            let size = c.fields.iter().filter(|f| f.condition.is_none()).map(|f| f.ty.min_size(&schema)).sum();
            schema.ctors[i].min_size = size;
        }
    }
    schema
}

/// Whether a field's type is `true`: no bytes, set when its flag bit is.
fn is_true(t: &Type) -> bool {
    !t.generic_ref && t.namespace.is_empty() && t.name == "true" && t.generic_arg.is_none()
}

/// The decoder's view of a value's type (a field's, when it is not
/// `true`, see [`is_true`]).
fn resolve(
    t: &Type,
    source: usize,
    kept: &[(Pending, bool, &'static str, &'static str)],
    type_index: &HashMap<&'static str, usize>,
    by_name: &HashMap<&'static str, Vec<usize>>,
    undefined: &mut Vec<String>,
) -> Ty {
    if t.generic_ref {
        return Ty::Any;
    }
    let mut full = t.namespace.join(".");
    if !full.is_empty() {
        full.push('.');
    }
    full.push_str(&t.name);
    match (full.as_str(), &t.generic_arg) {
        ("int", None) => Ty::Int,
        ("long", None) => Ty::Long,
        ("double", None) => Ty::Double,
        ("int128", None) => Ty::Int128,
        ("int256", None) => Ty::Int256,
        ("string", None) => Ty::String,
        ("bytes", None) => Ty::Bytes,
        ("Object", None) => Ty::Any,
        // Bool is a value, unless a schema gives it other constructors than TL's two.
        ("Bool", None) if bool_is_standard(type_index, kept) => Ty::Bool,
        ("Vector" | "vector", Some(arg)) => {
            // `true` has no bytes: a vector of it is no type (and a flag
            // word, `#`, is a field's type only, never a type's name).
            if is_true(arg) {
                undefined.push(type_text(t));
                return Ty::Undefined(leak(type_text(t)));
            }
            let element = resolve(arg, source, kept, type_index, by_name, undefined);
            Ty::Vector { boxed: t.name == "Vector", element: Box::new(element), label: leak(type_text(t)) }
        }
        (name, None) => {
            if let Some(&i) = type_index.get(name) {
                return Ty::Boxed(i);
            }
            if t.bare {
                if let Some(found) = by_name.get(name) {
                    let own = found.iter().find(|&&i| kept[i].0.source == source && !kept[i].1);
                    if let Some(&i) = own.or_else(|| found.iter().find(|&&i| !kept[i].1)) {
                        return Ty::Bare(i);
                    }
                }
            }
            undefined.push(full.clone());
            Ty::Undefined(leak(full))
        }
        (_, Some(_)) => {
            undefined.push(type_text(t));
            Ty::Undefined(leak(type_text(t)))
        }
    }
}

/// Whether the schema's `Bool` is exactly `boolTrue` and `boolFalse` (or
/// not defined at all: TL's built-in meaning then).
fn bool_is_standard(
    type_index: &HashMap<&'static str, usize>,
    kept: &[(Pending, bool, &'static str, &'static str)],
) -> bool {
    let ids: Vec<u32> = kept.iter().filter(|k| !k.1 && k.3 == "Bool").map(|k| k.0.def.id).collect();
    let _ = type_index;
    ids.iter().all(|&id| id == ids::BOOL_TRUE || id == ids::BOOL_FALSE)
}

#[cfg(test)]
mod tests {
    use grammers_tl_parser::errors::{ParamParseError, ParseError};

    use super::explain;

    /// Refusals the loader never meets through `Definition::from_str` in
    /// grammers-tl-parser 1.2.2 (it does not return `UnknownSeparator`, and
    /// `bad_param` repeats its checks of a parameter, so it finds the culprit
    /// of each of its refusals) still get a message, without a culprit to
    /// point a column at.
    #[test]
    fn refusals_without_a_culprit_still_explain_themselves() {
        let no_culprit = |m: &str| (m.to_string(), None);
        assert_eq!(explain("a = B", &ParseError::UnknownSeparator), no_culprit("unknown section separator"));
        assert_eq!(
            explain("a x:int = B", &ParseError::NotImplemented),
            no_culprit("TL syntax this loader does not implement")
        );
        assert_eq!(
            explain("a x:int = B", &ParseError::InvalidParam(ParamParseError::MissingDef)),
            no_culprit("a field is not valid (MissingDef: a flag or generic type used before it is defined)")
        );
        // With a culprit, the same refusals name it.
        let (message, culprit) = explain("a x:flags.0?int = B", &ParseError::InvalidParam(ParamParseError::MissingDef));
        assert_eq!(culprit.as_deref(), Some("x:flags.0?int"), "{message}");
    }
}
