//! Generates the TL closure's Rust code from its TL text, the way grammers
//! generates its types from the `.tl` files.
//!
//! `tl/closure.tl` holds the TL lines of `messages.exportChatInvite` and its
//! type closure, written once. From it this script writes, into `OUT_DIR`:
//!
//! - `ids.rs`: one `u32` constant per constructor (of `tl/service.tl` too);
//! - `schema.rs`: the schema table (`CtorDef` statics, the closure list, an
//!   id lookup per type) and the names of the service constructors;
//! - `types.rs`: the Rust types with their decoders, encoders and `flags()`;
//! - `json.rs`: the canonical JSON form, both ways;
//! - `arbitrary.rs`: `Arbitrary` for the recursive types (the others derive it).
//!
//! Every constructor id is checked against the CRC32 of its line; a wrong
//! id, a type outside the closure or a malformed line stops the build with
//! the file, line and reason.
//!
//! Why a build script and not a declarative macro: the TL lines stay plain
//! TL text (the format every client library ships), they are parsed by a
//! well-kept TL parser (`grammers-tl-parser`), ids are computed from the text
//! instead of trusted, and the generated code is ordinary Rust that rustdoc
//! documents and the optimizer sees through like the hand-written codec it
//! replaces.
//!
//! Rust names follow from the TL names: a function's type is its name without
//! namespace in PascalCase (`ExportChatInvite`); a type with one constructor
//! is a struct named after the type (`StarsSubscriptionPricing`); a type with
//! several is an enum whose variants are the constructor names less the
//! words all of them share (`inputPeerUser` → `InputPeer::User`; a variant
//! that would be a keyword keeps one more word: `PeerSelf`). A constructor
//! with a `flags` word gets a struct of its own, named after the constructor
//! (`ChatInviteExported`), held by its variant; the others hold their fields
//! inline. A field whose type is the type being defined is boxed. An `int`
//! field named `date` or `*_date` holds a unix time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use grammers_tl_parser::tl::{Category, Definition, ParameterType};

// The id rule, shared with the run-time schema loader.
#[path = "src/tl/crc.rs"]
mod crc;
use crc::tl_crc;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tl");
    let closure_path = dir.join("closure.tl");
    let service_path = dir.join("service.tl");
    println!("cargo::rerun-if-changed={}", closure_path.display());
    println!("cargo::rerun-if-changed={}", service_path.display());
    println!("cargo::rerun-if-changed=src/tl/crc.rs");
    let closure = match read_tl(&closure_path) {
        Ok(defs) => defs,
        Err(e) => fail(&e),
    };
    let service = match read_tl(&service_path) {
        Ok(defs) => defs,
        Err(e) => fail(&e),
    };
    let model = match Model::new(closure, service) {
        Ok(m) => m,
        Err(e) => fail(&e),
    };
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);
    for (name, text) in [
        ("ids.rs", model.ids()),
        ("schema.rs", model.schema()),
        ("types.rs", model.types()),
        ("json.rs", model.json()),
        ("json_write.rs", model.json_write()),
        ("arbitrary.rs", model.arbitrary()),
    ] {
        std::fs::write(out.join(name), text).unwrap_or_else(|e| fail(&format!("cannot write {name}: {e}")));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

/// One TL line with what the generator needs besides the parse.
struct Line {
    def: Definition,
    /// The line as written, whitespace normalized, without the `;`.
    text: String,
    /// Doc comment lines directly above the line: `// field: text` lines
    /// document that field, the others the constructor.
    doc: Vec<String>,
    field_docs: BTreeMap<String, String>,
    is_function: bool,
}

/// Parse a `.tl` file: its definitions in order, with their doc comments,
/// each id checked against the CRC32 of its line.
fn read_tl(path: &Path) -> Result<Vec<Line>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = Vec::new();
    let mut is_function = false;
    let mut comments: Vec<String> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            comments.clear();
            continue;
        }
        if let Some(c) = trimmed.strip_prefix("//") {
            comments.push(c.strip_prefix(' ').unwrap_or(c).to_string());
            continue;
        }
        match trimmed {
            "---types---" => {
                is_function = false;
                comments.clear();
                continue;
            }
            "---functions---" => {
                is_function = true;
                comments.clear();
                continue;
            }
            _ => {}
        }
        let Some(body) = trimmed.strip_suffix(';') else {
            return Err(format!("{at}: a TL line ends with ';' (one definition per line)"));
        };
        let normalized = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut def: Definition = normalized.parse().map_err(|e| format!("{at}: not a TL definition: {e:?}"))?;
        def.category = if is_function { Category::Functions } else { Category::Types };
        let Some(id_text) = normalized.split_whitespace().next().and_then(|n| n.split_once('#')).map(|(_, id)| id)
        else {
            return Err(format!("{at}: {} has no #id; write the id the schema publishes", def.full_name()));
        };
        let computed = tl_crc(&normalized);
        if computed != def.id {
            return Err(format!(
                "{at}: the id #{id_text} of {} is not the CRC32 of its line, which is #{computed:x}",
                def.full_name()
            ));
        }
        let mut doc = Vec::new();
        let mut field_docs = BTreeMap::new();
        for c in comments.drain(..) {
            match c.split_once(": ") {
                Some((name, text)) if def.params.iter().any(|p| p.name == name) => {
                    field_docs.insert(name.to_string(), text.to_string());
                }
                _ => doc.push(c),
            }
        }
        lines.push(Line { def, text: normalized, doc, field_docs, is_function });
    }
    Ok(lines)
}

/// The type of one field, as the generated code sees it.
#[derive(Clone, PartialEq)]
enum FieldKind {
    /// `flags:#`
    Flags,
    /// `flags.N?true`
    TrueFlag,
    Int,
    Long,
    String,
    /// A boxed type of the closure.
    Object(String),
}

struct Field {
    name: String,
    kind: FieldKind,
    /// The TL type without the flag condition (`int`, `InputPeer`, `#`).
    tl_type: String,
    flag: Option<u32>,
    /// The field's type is the type being defined.
    recursive: bool,
    doc: Option<String>,
}

impl Field {
    fn is_time(&self) -> bool {
        self.kind == FieldKind::Int && (self.name == "date" || self.name.ends_with("_date"))
    }

    /// A field stored in the value (not `flags`).
    fn stored(&self) -> bool {
        self.kind != FieldKind::Flags
    }

    /// The Rust type of the field's value, without `Option`.
    fn base_rust_type(&self, model: &Model) -> String {
        match &self.kind {
            FieldKind::Flags => "u32".into(),
            FieldKind::TrueFlag => "bool".into(),
            FieldKind::Int => "i32".into(),
            FieldKind::Long => "i64".into(),
            FieldKind::String => "TlString".into(),
            FieldKind::Object(ty) => {
                let name = model.types[ty].rust.clone();
                if self.recursive {
                    format!("Box<{name}>")
                } else {
                    name
                }
            }
        }
    }

    fn rust_type(&self, model: &Model) -> String {
        let base = self.base_rust_type(model);
        if self.flag.is_some() && self.kind != FieldKind::TrueFlag {
            format!("Option<{base}>")
        } else {
            base
        }
    }

    fn optional(&self) -> bool {
        self.flag.is_some() && self.kind != FieldKind::TrueFlag
    }
}

struct Ctor {
    /// Full TL name (`messages.exportChatInvite`).
    name: String,
    id: u32,
    /// The boxed type it builds or the type a function returns.
    ty: String,
    is_function: bool,
    fields: Vec<Field>,
    /// `SCREAMING_SNAKE` name of its id constant and schema static.
    konst: String,
    /// The Rust name of the variant (enum types) or of the struct.
    variant: String,
    /// A struct of its own (functions, single-constructor types, and
    /// constructors with flags).
    own_struct: Option<String>,
    doc: Vec<String>,
    line: String,
}

impl Ctor {
    fn has_flags(&self) -> bool {
        self.fields.iter().any(|f| f.kind == FieldKind::Flags)
    }

    fn flag_mask(&self) -> u32 {
        self.fields.iter().filter_map(|f| f.flag).fold(0, |m, b| m | 1 << b)
    }

    fn stored(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.stored())
    }
}

struct TypeInfo {
    /// The Rust type's name.
    rust: String,
    /// Indexes into `Model::ctors`, in file order.
    ctors: Vec<usize>,
    recursive: bool,
}

struct Model {
    ctors: Vec<Ctor>,
    /// Boxed types of the closure by TL name (functions are not types).
    types: BTreeMap<String, TypeInfo>,
    /// Type names in first-seen order.
    type_order: Vec<String>,
    /// The service constructors: (name, id, what it is).
    service: Vec<(String, u32, String, String)>,
}

const KEYWORDS: &[&str] = &["Self", "Box", "Option", "Some", "None", "Ok", "Err", "Result", "String", "Vec"];

fn pascal(name: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in name.chars() {
        if c == '_' || c == '.' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn screaming(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '_' || c == '.' {
            out.push('_');
            prev_lower = false;
        } else if c.is_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.extend(c.to_uppercase());
            prev_lower = false;
        } else {
            out.extend(c.to_uppercase());
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// The camelCase words of a name: `inputPeerUser` → input, Peer, User.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in name.chars() {
        if c.is_uppercase() || out.is_empty() || c == '_' {
            out.push(String::new());
        }
        if c != '_' {
            out.last_mut().expect("pushed above").push(c);
        }
    }
    out
}

impl Model {
    fn new(closure: Vec<Line>, service: Vec<Line>) -> Result<Model, String> {
        // Functions first, then types, each in file order: the order the
        // schema view and `inspector schema --tl` list them in.
        let mut lines: Vec<&Line> = closure.iter().filter(|l| l.is_function).collect();
        lines.extend(closure.iter().filter(|l| !l.is_function));
        let mut type_order: Vec<String> = Vec::new();
        for l in &lines {
            if !l.is_function && !type_order.contains(&l.def.ty.name) {
                type_order.push(l.def.ty.name.clone());
            }
        }
        let mut ctors = Vec::new();
        for l in &lines {
            let d = &l.def;
            let own_type = if l.is_function { None } else { Some(d.ty.name.clone()) };
            let mut fields = Vec::new();
            for p in &d.params {
                let (kind, tl_type, flag) = match &p.ty {
                    ParameterType::Flags => (FieldKind::Flags, "#".to_string(), None),
                    ParameterType::Normal { ty, flag } => {
                        if let Some(f) = flag {
                            if f.name != "flags" {
                                return Err(format!(
                                    "{}: only one flags word named `flags` is supported",
                                    d.full_name()
                                ));
                            }
                        }
                        let flag = flag.as_ref().map(|f| f.index as u32);
                        let tl = ty.to_string();
                        let kind = match tl.as_str() {
                            "true" if flag.is_some() => FieldKind::TrueFlag,
                            "int" => FieldKind::Int,
                            "long" => FieldKind::Long,
                            "string" => FieldKind::String,
                            other if type_order.iter().any(|t| t == other) && !ty.bare => {
                                FieldKind::Object(other.to_string())
                            }
                            other => {
                                return Err(format!(
                                    "{}: field {} has type {other}, which the typed closure does not support \
                                     (int, long, string, flags.N?true and boxed types of closure.tl)",
                                    d.full_name(),
                                    p.name
                                ))
                            }
                        };
                        (kind, tl, flag)
                    }
                };
                let recursive = matches!(&kind, FieldKind::Object(t) if Some(t) == own_type.as_ref());
                fields.push(Field {
                    name: p.name.clone(),
                    kind,
                    tl_type,
                    flag,
                    recursive,
                    doc: l.field_docs.get(&p.name).cloned(),
                });
            }
            ctors.push(Ctor {
                name: d.full_name(),
                id: d.id,
                ty: d.ty.to_string(),
                is_function: l.is_function,
                fields,
                konst: screaming(&d.name),
                variant: String::new(),
                own_struct: None,
                doc: l.doc.clone(),
                line: l.text.clone(),
            });
        }
        if !ctors.iter().any(|c| c.is_function) {
            return Err("closure.tl defines no function".into());
        }
        for c in ctors.iter().filter(|c| c.is_function) {
            if !type_order.contains(&c.ty) {
                return Err(format!("{} returns {}, which closure.tl does not define", c.name, c.ty));
            }
        }
        let mut types = BTreeMap::new();
        for ty in &type_order {
            let idx: Vec<usize> = (0..ctors.len()).filter(|&i| !ctors[i].is_function && &ctors[i].ty == ty).collect();
            let recursive = idx.iter().any(|&i| ctors[i].fields.iter().any(|f| f.recursive));
            types.insert(ty.clone(), TypeInfo { rust: pascal(ty), ctors: idx, recursive });
        }
        // Variant and struct names.
        for ty in &type_order {
            let idx = types[ty].ctors.clone();
            if idx.len() == 1 {
                let c = &mut ctors[idx[0]];
                c.own_struct = Some(pascal(ty));
                c.variant = pascal(ty);
                continue;
            }
            let all: Vec<Vec<String>> = idx.iter().map(|&i| words(&ctors[i].name)).collect();
            let mut common = 0;
            while all.iter().all(|w| w.len() > common + 1 && w[common] == all[0][common]) {
                common += 1;
            }
            for (k, &i) in idx.iter().enumerate() {
                let mut from = common;
                let mut variant = pascal(&all[k][from..].concat());
                while KEYWORDS.contains(&variant.as_str()) && from > 0 {
                    from -= 1;
                    variant = pascal(&all[k][from..].concat());
                }
                let c = &mut ctors[i];
                if c.has_flags() {
                    c.own_struct = Some(pascal(&c.name));
                }
                c.variant = variant;
            }
        }
        for c in ctors.iter_mut().filter(|c| c.is_function) {
            let short = c.name.rsplit('.').next().unwrap_or(&c.name).to_string();
            c.own_struct = Some(pascal(&short));
            c.variant = pascal(&short);
        }
        let mut seen = BTreeMap::new();
        for c in &ctors {
            if let Some(other) = seen.insert(c.konst.clone(), c.name.clone()) {
                return Err(format!("{} and {other} would share the constant name {}", c.name, c.konst));
            }
        }
        let mut service_out = Vec::new();
        for l in &service {
            let d = &l.def;
            let what = if !l.is_function {
                format!("of type {}", d.ty)
            } else if d.ty.generic_ref {
                "a wrapper around a query".to_string()
            } else {
                format!("a function returning {}", d.ty)
            };
            let konst = screaming(&d.name);
            if let Some(other) = seen.insert(konst.clone(), d.full_name()) {
                return Err(format!("{} and {other} would share the constant name {konst}", d.full_name()));
            }
            service_out.push((d.full_name(), d.id, what, konst));
        }
        Ok(Model { ctors, types, type_order, service: service_out })
    }

    fn functions(&self) -> impl Iterator<Item = &Ctor> {
        self.ctors.iter().filter(|c| c.is_function)
    }

    fn ids(&self) -> String {
        let mut s = String::from("// Generated by build.rs from tl/closure.tl and tl/service.tl.\n\n");
        for c in &self.ctors {
            let _ = writeln!(s, "/// `{}`", c.line);
            let _ = writeln!(s, "pub const {}: u32 = 0x{:08x};", c.konst, c.id);
        }
        for (name, id, _, konst) in &self.service {
            let _ = writeln!(s, "/// `{name}` (service)");
            let _ = writeln!(s, "pub const {konst}: u32 = 0x{id:08x};");
        }
        s
    }

    fn schema(&self) -> String {
        let mut s = String::from("// Generated by build.rs from tl/closure.tl and tl/service.tl.\n\n");
        for c in &self.ctors {
            let _ = writeln!(s, "/// `{}`", c.line);
            let _ = writeln!(s, "pub static {}: CtorDef = CtorDef {{", c.konst);
            let _ = writeln!(s, "    name: {:?},", c.name);
            let _ = writeln!(s, "    id: super::ids::{},", c.konst);
            let _ = writeln!(s, "    ty: {:?},", c.ty);
            let _ = writeln!(s, "    is_function: {},", c.is_function);
            let _ = writeln!(s, "    fields: &[");
            for f in &c.fields {
                let flag = f.flag.map_or("None".to_string(), |b| format!("Some({b})"));
                // The closure has one flag word, `flags` (checked when reading the lines).
                let word = if f.flag.is_some() { "flags" } else { "" };
                let _ = writeln!(
                    s,
                    "        FieldDef {{ name: {:?}, ty: {:?}, flag: {flag}, flag_word: {word:?}, is_time: {} }},",
                    f.name,
                    f.tl_type,
                    f.is_time()
                );
            }
            let _ = writeln!(s, "    ],");
            let _ = writeln!(s, "    flag_mask: 0x{:x},", c.flag_mask());
            let what =
                if c.is_function { format!("a function returning {}", c.ty) } else { format!("of type {}", c.ty) };
            let _ = writeln!(s, "    what: {what:?},");
            let _ = writeln!(s, "    line: {:?},", c.line);
            let _ = writeln!(s, "}};\n");
        }
        let _ = writeln!(s, "/// Every constructor of the closure: functions first, then types, in file order.");
        let _ = writeln!(s, "pub static CLOSURE: [&CtorDef; {}] = [", self.ctors.len());
        for c in &self.ctors {
            let _ = writeln!(s, "    &{},", c.konst);
        }
        let _ = writeln!(s, "];\n");
        for ty in &self.type_order {
            let info = &self.types[ty];
            let _ = writeln!(s, "/// The `{ty}` constructors, in file order.");
            let _ = writeln!(s, "pub static {}S: [&CtorDef; {}] = [", screaming(ty), info.ctors.len());
            for &i in &info.ctors {
                let _ = writeln!(s, "    &{},", self.ctors[i].konst);
            }
            let _ = writeln!(s, "];\n");
            // A type of one constructor needs no lookup: its id is the
            // constant `ids::<CONSTRUCTOR>`, which the decoders compare with.
            if info.ctors.len() < 2 {
                continue;
            }
            let _ = writeln!(s, "/// The `{ty}` constructor with id `id`.");
            let _ = writeln!(s, "#[inline]");
            let _ = writeln!(s, "pub fn {}(id: u32) -> Option<&'static CtorDef> {{", fn_name(ty));
            let _ = writeln!(s, "    Some(match id {{");
            for &i in &info.ctors {
                let c = &self.ctors[i];
                let _ = writeln!(s, "        super::ids::{} => &{},", c.konst, c.konst);
            }
            let _ = writeln!(s, "        _ => return None,");
            let _ = writeln!(s, "    }})");
            let _ = writeln!(s, "}}\n");
        }
        let _ = writeln!(s, "/// The closure constructor with id `id`.");
        let _ = writeln!(s, "pub fn ctor_by_id(id: u32) -> Option<&'static CtorDef> {{");
        let _ = writeln!(s, "    Some(match id {{");
        for c in &self.ctors {
            let _ = writeln!(s, "        super::ids::{} => &{},", c.konst, c.konst);
        }
        let _ = writeln!(s, "        _ => return None,");
        let _ = writeln!(s, "    }})");
        let _ = writeln!(s, "}}\n");
        let _ = writeln!(
            s,
            "/// Constructors outside the closure (tl/service.tl) that turn up around or\n\
             /// instead of a request or an answer, so that an error can say \"found\n\
             /// boolTrue\" instead of \"unknown\": (name, id, what it is)."
        );
        let _ = writeln!(s, "pub static FOREIGN: &[(&str, u32, &str)] = &[");
        for (name, _, what, konst) in &self.service {
            let _ = writeln!(s, "    ({name:?}, super::ids::{konst}, {what:?}),");
        }
        let _ = writeln!(s, "];");
        s
    }

    fn types(&self) -> String {
        let mut s = String::from("// Generated by build.rs from tl/closure.tl.\n\n");
        for c in self.functions() {
            self.struct_for(&mut s, c, c.own_struct.as_deref().expect("functions have a struct"), true);
        }
        for ty in &self.type_order {
            let info = &self.types[ty];
            if info.ctors.len() == 1 {
                let c = &self.ctors[info.ctors[0]];
                self.struct_for(&mut s, c, &info.rust, true);
            } else {
                self.enum_for(&mut s, ty, info);
                for &i in &info.ctors {
                    let c = &self.ctors[i];
                    if let Some(name) = &c.own_struct {
                        self.struct_for(&mut s, c, name, false);
                    }
                }
            }
        }
        s
    }

    fn doc_lines(s: &mut String, indent: &str, doc: &[String], line: &str) {
        for d in doc {
            let _ = writeln!(s, "{indent}///{}{d}", if d.is_empty() { "" } else { " " });
        }
        if !doc.is_empty() {
            let _ = writeln!(s, "{indent}///");
        }
        let _ = writeln!(s, "{indent}/// `{line}`");
    }

    fn field_doc(s: &mut String, indent: &str, f: &Field) {
        let cond = f.flag.map(|b| format!("flags.{b}: ")).unwrap_or_default();
        match &f.doc {
            Some(d) => {
                let _ = writeln!(s, "{indent}/// {cond}{d}");
            }
            None if !cond.is_empty() => {
                let _ = writeln!(s, "{indent}/// {}", cond.trim_end_matches(": "));
            }
            None => {}
        }
    }

    /// A struct for `c`: its fields, `new`, `flags`, and (for a boxed type or
    /// a function of its own, `boxed`) the `TlObject` impl.
    fn struct_for(&self, s: &mut String, c: &Ctor, name: &str, boxed: bool) {
        Self::doc_lines(s, "", &c.doc, &c.line);
        let derive_arbitrary = !c.fields.iter().any(|f| f.recursive);
        if derive_arbitrary {
            let _ = writeln!(s, "#[cfg_attr(feature = \"arbitrary\", derive(arbitrary::Arbitrary))]");
        }
        let copy = if c.stored().all(|f| matches!(f.kind, FieldKind::Int | FieldKind::Long | FieldKind::TrueFlag)) {
            ", Copy"
        } else {
            ""
        };
        let _ = writeln!(s, "#[derive(Debug, Clone{copy}, PartialEq, Eq, Hash)]");
        if c.stored().count() == 0 {
            let _ = writeln!(s, "pub struct {name};\n");
        } else {
            let _ = writeln!(s, "pub struct {name} {{");
            for f in c.stored() {
                Self::field_doc(s, "    ", f);
                let _ = writeln!(s, "    pub {}: {},", f.name, f.rust_type(self));
            }
            let _ = writeln!(s, "}}\n");
        }
        if c.has_flags() {
            let _ = writeln!(s, "impl {name} {{");
            let required: Vec<&Field> = c.stored().filter(|f| f.flag.is_none()).collect();
            let params: Vec<String> = required
                .iter()
                .map(|f| match f.kind {
                    FieldKind::String => format!("{}: impl Into<TlString>", f.name),
                    _ => format!("{}: {}", f.name, f.rust_type(self)),
                })
                .collect();
            let _ = writeln!(s, "    /// A value with every optional field absent.");
            let _ = writeln!(s, "    pub fn new({}) -> Self {{", params.join(", "));
            let _ = writeln!(s, "        {name} {{");
            for f in c.stored() {
                let v = match (&f.kind, f.flag) {
                    (FieldKind::TrueFlag, _) => "false".to_string(),
                    (_, Some(_)) => "None".to_string(),
                    (FieldKind::String, None) => format!("{}.into()", f.name),
                    _ => f.name.clone(),
                };
                if v == f.name {
                    let _ = writeln!(s, "            {},", f.name);
                } else {
                    let _ = writeln!(s, "            {}: {v},", f.name);
                }
            }
            let _ = writeln!(s, "        }}");
            let _ = writeln!(s, "    }}\n");
            let _ = writeln!(s, "    /// The `flags` word these fields put on the wire.");
            let _ = writeln!(s, "    pub fn flags(&self) -> u32 {{");
            let _ = writeln!(s, "        let mut f = 0;");
            let mut by_bit: Vec<&Field> = c.fields.iter().filter(|f| f.flag.is_some()).collect();
            by_bit.sort_by_key(|f| f.flag);
            for f in by_bit {
                let cond = if f.kind == FieldKind::TrueFlag {
                    format!("self.{}", f.name)
                } else {
                    format!("self.{}.is_some()", f.name)
                };
                let _ = writeln!(s, "        set_if(&mut f, {}, {cond});", f.flag.unwrap_or(0));
            }
            let _ = writeln!(s, "        f");
            let _ = writeln!(s, "    }}\n");
            let _ = writeln!(s, "    #[inline]");
            let _ =
                writeln!(s, "    fn decode_body<S: TraceSink>(r: &mut Reader<'_, S>) -> Result<Self, DecodeError> {{");
            let _ = writeln!(s, "        let flags = r.flags(&schema::{})?;", c.konst);
            let _ = writeln!(s, "        Ok({name} {{");
            for f in c.stored() {
                let _ = writeln!(s, "            {}: {},", f.name, self.decode_expr(f));
            }
            let _ = writeln!(s, "        }})");
            let _ = writeln!(s, "    }}\n");
            let _ = writeln!(s, "    fn encode_body(&self, w: &mut Writer) {{");
            for f in &c.fields {
                s.push_str(&self.encode_stmt(f, "self.", "        ", false));
            }
            let _ = writeln!(s, "    }}");
            let _ = writeln!(s, "}}\n");
        }
        if !boxed {
            return;
        }
        let type_name = if c.is_function { c.name.clone() } else { c.ty.clone() };
        let _ = writeln!(s, "impl TlObject for {name} {{");
        let _ = writeln!(s, "    const TYPE_NAME: &'static str = {type_name:?};\n");
        let _ = writeln!(
            s,
            "    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {{"
        );
        if c.has_flags() {
            let _ = writeln!(
                s,
                "        boxed(r, field, Self::TYPE_NAME, only(&schema::{}), |r, _| Self::decode_body(r))",
                c.konst
            );
        } else {
            let _ = writeln!(s, "        boxed(r, field, Self::TYPE_NAME, only(&schema::{}), |r, _| {{", c.konst);
            let _ = writeln!(s, "            Ok({})", self.literal(name, c));
            let _ = writeln!(s, "        }})");
        }
        let _ = writeln!(s, "    }}\n");
        let _ = writeln!(s, "    fn encode(&self, w: &mut Writer) {{");
        let _ = writeln!(s, "        w.u32(ids::{});", c.konst);
        if c.has_flags() {
            let _ = writeln!(s, "        self.encode_body(w);");
        } else {
            for f in &c.fields {
                s.push_str(&self.encode_stmt(f, "self.", "        ", false));
            }
        }
        let _ = writeln!(s, "    }}\n");
        let _ = writeln!(s, "    fn ctor(&self) -> &'static CtorDef {{");
        let _ = writeln!(s, "        &schema::{}", c.konst);
        let _ = writeln!(s, "    }}");
        let _ = writeln!(s, "}}\n");
    }

    /// `Name { field: <decode>, ... }` for a constructor without flags.
    fn literal(&self, path: &str, c: &Ctor) -> String {
        struct_literal(path, c.stored().map(|f| format!("{}: {}", f.name, self.decode_expr(f))).collect())
    }

    /// The expression that decodes field `f` (inside a `decode_body` with
    /// `flags` in scope when the constructor has flags).
    fn decode_expr(&self, f: &Field) -> String {
        let read = match &f.kind {
            FieldKind::Flags => unreachable!("flags are read first"),
            FieldKind::TrueFlag => {
                return format!("r.true_flag({:?}, bit(flags, {}))", f.name, f.flag.unwrap_or(0));
            }
            FieldKind::Int => "Reader::int".to_string(),
            FieldKind::Long => "Reader::long".to_string(),
            FieldKind::String => "Reader::string".to_string(),
            FieldKind::Object(ty) => {
                if f.recursive {
                    format!("|r: &mut Reader<'_, S>, _| {}(r, {:?})", nested_fn(ty), f.name)
                } else {
                    format!("{}::decode_boxed", self.types[ty].rust)
                }
            }
        };
        match f.flag {
            Some(bit) => format!("optional(r, flags, {bit}, {:?}, {read})?", f.name),
            None => match &f.kind {
                FieldKind::Object(ty) if f.recursive => format!("{}(r, {:?})?", nested_fn(ty), f.name),
                FieldKind::Object(ty) => format!("{}::decode_boxed(r, {:?})?", self.types[ty].rust, f.name),
                FieldKind::Int => format!("r.int({:?})?", f.name),
                FieldKind::Long => format!("r.long({:?})?", f.name),
                FieldKind::String => format!("r.string({:?})?", f.name),
                _ => unreachable!("handled above"),
            },
        }
    }

    /// The statement that encodes field `f`, found at `{prefix}name`
    /// (`self.name` in a struct; a binding by reference, `deref`, in an
    /// enum variant). Empty for a `flags.N?true` field: it is a bit only.
    fn encode_stmt(&self, f: &Field, prefix: &str, indent: &str, deref: bool) -> String {
        let v = format!("{prefix}{}", f.name);
        let star = if deref { "*" } else { "" };
        if f.optional() {
            let (bind, put) = match f.kind {
                FieldKind::Int => (v.clone(), "w.int(v);".to_string()),
                FieldKind::Long => (v.clone(), "w.long(v);".to_string()),
                FieldKind::String => (format!("&{v}"), "w.bytes(v.as_bytes());".to_string()),
                _ => (format!("&{v}"), "v.encode(w);".to_string()),
            };
            return format!("{indent}if let Some(v) = {bind} {{\n{indent}    {put}\n{indent}}}\n");
        }
        let stmt = match f.kind {
            FieldKind::Flags => "w.u32(self.flags());".to_string(),
            FieldKind::TrueFlag => return String::new(),
            FieldKind::Int => format!("w.int({star}{v});"),
            FieldKind::Long => format!("w.long({star}{v});"),
            FieldKind::String => format!("w.bytes({v}.as_bytes());"),
            FieldKind::Object(_) => format!("{v}.encode(w);"),
        };
        format!("{indent}{stmt}\n")
    }

    fn enum_for(&self, s: &mut String, ty: &str, info: &TypeInfo) {
        let _ = writeln!(s, "/// `{ty}`: one of the constructors below.");
        if !info.recursive {
            let _ = writeln!(s, "#[cfg_attr(feature = \"arbitrary\", derive(arbitrary::Arbitrary))]");
        }
        let _ = writeln!(s, "#[derive(Debug, Clone, PartialEq, Eq, Hash)]");
        let _ = writeln!(s, "pub enum {} {{", info.rust);
        for &i in &info.ctors {
            let c = &self.ctors[i];
            Self::doc_lines(s, "    ", &c.doc, &c.line);
            if let Some(st) = &c.own_struct {
                let _ = writeln!(s, "    {}({st}),", c.variant);
            } else if c.stored().count() == 0 {
                let _ = writeln!(s, "    {},", c.variant);
            } else {
                let fields: Vec<String> = c.stored().map(|f| format!("{}: {}", f.name, f.rust_type(self))).collect();
                let _ = writeln!(s, "    {} {{ {} }},", c.variant, fields.join(", "));
            }
        }
        let _ = writeln!(s, "}}\n");
        let rust = &info.rust;
        if info.recursive {
            let _ = writeln!(s, "/// A `{ty}` nested in a `{ty}` (the recursion: one call, not inlined).");
            let _ = writeln!(s, "#[inline(never)]");
            let _ = writeln!(
                s,
                "fn {}<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Box<{rust}>, DecodeError> {{",
                nested_fn(ty)
            );
            let _ = writeln!(s, "    {rust}::decode_boxed(r, field).map(Box::new)");
            let _ = writeln!(s, "}}\n");
        }
        let _ = writeln!(s, "impl TlObject for {rust} {{");
        let _ = writeln!(s, "    const TYPE_NAME: &'static str = {ty:?};\n");
        if info.recursive {
            let _ = writeln!(s, "    // Inlined where a field of this type is decoded; only the nested");
            let _ = writeln!(s, "    // value of a recursive constructor is a call.");
            let _ = writeln!(s, "    #[inline(always)]");
        }
        let _ = writeln!(
            s,
            "    fn decode_boxed<S: TraceSink>(r: &mut Reader<'_, S>, field: &'static str) -> Result<Self, DecodeError> {{"
        );
        let _ = writeln!(s, "        boxed(r, field, Self::TYPE_NAME, schema::{}, |r, ctor| {{", fn_name(ty));
        let _ = writeln!(s, "            Ok(match ctor.id {{");
        let n = info.ctors.len();
        for (k, &i) in info.ctors.iter().enumerate() {
            let c = &self.ctors[i];
            let pat = if k + 1 == n { "_".to_string() } else { format!("ids::{}", c.konst) };
            let value = match &c.own_struct {
                Some(st) => format!("{rust}::{}({st}::decode_body(r)?)", c.variant),
                None => self.literal(&format!("{rust}::{}", c.variant), c),
            };
            let _ = writeln!(s, "                {pat} => {value},");
        }
        let _ = writeln!(s, "            }})");
        let _ = writeln!(s, "        }})");
        let _ = writeln!(s, "    }}\n");
        let _ = writeln!(s, "    fn encode(&self, w: &mut Writer) {{");
        let _ = writeln!(s, "        w.u32(self.ctor().id);");
        let _ = writeln!(s, "        match self {{");
        for &i in &info.ctors {
            let c = &self.ctors[i];
            if c.own_struct.is_some() {
                let _ = writeln!(s, "            {rust}::{}(v) => v.encode_body(w),", c.variant);
            } else if c.stored().count() == 0 {
                let _ = writeln!(s, "            {rust}::{} => {{}}", c.variant);
            } else {
                let names: Vec<&str> = c.stored().map(|f| f.name.as_str()).collect();
                let _ = writeln!(s, "            {rust}::{} {{ {} }} => {{", c.variant, names.join(", "));
                for f in &c.fields {
                    s.push_str(&self.encode_stmt(f, "", "                ", true));
                }
                let _ = writeln!(s, "            }}");
            }
        }
        let _ = writeln!(s, "        }}");
        let _ = writeln!(s, "    }}\n");
        let _ = writeln!(s, "    fn ctor(&self) -> &'static CtorDef {{");
        let _ = writeln!(s, "        match self {{");
        for &i in &info.ctors {
            let c = &self.ctors[i];
            let pat = if c.own_struct.is_some() {
                format!("{rust}::{}(_)", c.variant)
            } else if c.stored().count() == 0 {
                format!("{rust}::{}", c.variant)
            } else {
                format!("{rust}::{} {{ .. }}", c.variant)
            };
            let _ = writeln!(s, "            {pat} => &schema::{},", c.konst);
        }
        let _ = writeln!(s, "        }}");
        let _ = writeln!(s, "    }}");
        let _ = writeln!(s, "}}\n");
    }

    fn json(&self) -> String {
        let mut s = String::from("// Generated by build.rs from tl/closure.tl.\n\n");
        for c in self.functions() {
            self.json_struct(&mut s, c);
        }
        for ty in &self.type_order {
            let info = &self.types[ty];
            if info.ctors.len() == 1 {
                self.json_struct(&mut s, &self.ctors[info.ctors[0]]);
            } else {
                self.json_enum(&mut s, ty, info);
            }
        }
        s
    }

    /// Statements that insert the fields of `c`, bound as `{prefix}name`,
    /// into the map `m`.
    fn json_inserts(&self, s: &mut String, c: &Ctor, prefix: &str, flags: &str, indent: &str, deref: bool) {
        let _ = writeln!(s, "{indent}m.insert(\"_\".into(), {:?}.into());", c.name);
        for f in &c.fields {
            let v = format!("{prefix}{}", f.name);
            let copy = if deref { format!("(*{v})") } else { v.clone() };
            let value = match (&f.kind, f.optional()) {
                (FieldKind::Flags, _) => format!("{flags}.into()"),
                (FieldKind::TrueFlag, _) => format!("{copy}.into()"),
                (FieldKind::Int | FieldKind::Long, false) => format!("{copy}.into()"),
                (FieldKind::Int | FieldKind::Long, true) => format!("opt(&{v}, |v| (*v).into())"),
                (FieldKind::String, false) if deref => format!("string_json({v})"),
                (FieldKind::String, false) => format!("string_json(&{v})"),
                (FieldKind::String, true) => format!("opt(&{v}, string_json)"),
                (FieldKind::Object(_), false) => format!("{v}.to_json()"),
                (FieldKind::Object(_), true) => format!("opt(&{v}, |v| v.to_json())"),
            };
            let _ = writeln!(s, "{indent}m.insert({:?}.into(), {value});", f.name);
        }
    }

    /// The expression reading field `f` from the `Obj` `o`.
    fn json_read(&self, f: &Field) -> String {
        let n = &f.name;
        match (&f.kind, f.optional()) {
            (FieldKind::Flags, _) => unreachable!("flags are checked, not read"),
            (FieldKind::TrueFlag, _) => format!("o.bool_flag({n:?})?"),
            (FieldKind::Int, false) => format!("o.int({n:?})?"),
            (FieldKind::Int, true) => format!("o.optional({n:?}, Obj::int_value)?"),
            (FieldKind::Long, false) => format!("o.long({n:?})?"),
            (FieldKind::Long, true) => format!("o.optional({n:?}, Obj::long_value)?"),
            (FieldKind::String, false) => format!("o.string({n:?})?"),
            (FieldKind::String, true) => format!("o.optional({n:?}, Obj::string_value)?"),
            (FieldKind::Object(_), false) if f.recursive => format!("Box::new(o.object({n:?})?)"),
            (FieldKind::Object(_), true) if f.recursive => format!("o.opt_object({n:?})?.map(Box::new)"),
            (FieldKind::Object(_), false) => format!("o.object({n:?})?"),
            (FieldKind::Object(_), true) => format!("o.opt_object({n:?})?"),
        }
    }

    fn json_struct(&self, s: &mut String, c: &Ctor) {
        let name = c.own_struct.as_deref().expect("a struct");
        let expected = if c.is_function { &c.name } else { &c.ty };
        let _ = writeln!(s, "impl TlJson for {name} {{");
        let _ = writeln!(s, "    fn to_json(&self) -> Value {{");
        let _ = writeln!(s, "        let mut m = Map::new();");
        self.json_inserts(s, c, "self.", "self.flags()", "        ", false);
        let _ = writeln!(s, "        Value::Object(m)");
        let _ = writeln!(s, "    }}\n");
        let _ = writeln!(s, "    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {{");
        let _ = writeln!(s, "        let o = Obj::open(v, path, {expected:?}, &[&schema::{}])?;", c.konst);
        let fields: Vec<String> =
            c.stored().map(|f| format!("            {}: {},", f.name, self.json_read(f))).collect();
        if fields.is_empty() {
            let _ = writeln!(s, "        let value = {name};");
        } else {
            let _ = writeln!(s, "        let value = {name} {{\n{}\n        }};", fields.join("\n"));
        }
        if c.has_flags() {
            let _ = writeln!(s, "        o.check_flags(value.flags())?;");
        } else {
            let _ = writeln!(s, "        let _ = &o;");
        }
        let _ = writeln!(s, "        Ok(value)");
        let _ = writeln!(s, "    }}");
        let _ = writeln!(s, "}}\n");
    }

    /// One match arm per constructor of an enum type, binding its fields,
    /// with `body` (`json_inserts` or `json_writes`) writing what each does.
    fn enum_arms(&self, s: &mut String, info: &TypeInfo, body: fn(&Self, &mut String, &Ctor, &str, &str, &str, bool)) {
        let rust = &info.rust;
        for &i in &info.ctors {
            let c = &self.ctors[i];
            if c.own_struct.is_some() {
                let _ = writeln!(s, "            {rust}::{}(e) => {{", c.variant);
                body(self, s, c, "e.", "e.flags()", "                ", false);
            } else if c.stored().count() == 0 {
                let _ = writeln!(s, "            {rust}::{} => {{", c.variant);
                body(self, s, c, "", "", "                ", true);
            } else {
                let names: Vec<&str> = c.stored().map(|f| f.name.as_str()).collect();
                let _ = writeln!(s, "            {rust}::{} {{ {} }} => {{", c.variant, names.join(", "));
                body(self, s, c, "", "", "                ", true);
            }
            let _ = writeln!(s, "            }}");
        }
    }

    fn json_enum(&self, s: &mut String, ty: &str, info: &TypeInfo) {
        let rust = &info.rust;
        let _ = writeln!(s, "impl TlJson for {rust} {{");
        let _ = writeln!(s, "    fn to_json(&self) -> Value {{");
        let _ = writeln!(s, "        let mut m = Map::new();");
        let _ = writeln!(s, "        match self {{");
        self.enum_arms(s, info, Self::json_inserts);
        let _ = writeln!(s, "        }}");
        let _ = writeln!(s, "        Value::Object(m)");
        let _ = writeln!(s, "    }}\n");
        let _ = writeln!(s, "    fn from_json_at(v: &Value, path: &str) -> Result<Self, JsonError> {{");
        let _ = writeln!(s, "        let o = Obj::open(v, path, {ty:?}, &schema::{}S)?;", screaming(ty));
        let _ = writeln!(s, "        Ok(match o.ctor.id {{");
        let n = info.ctors.len();
        for (k, &i) in info.ctors.iter().enumerate() {
            let c = &self.ctors[i];
            let pat = if k + 1 == n { "_".to_string() } else { format!("ids::{}", c.konst) };
            let value = if let Some(st) = &c.own_struct {
                let fields: Vec<String> =
                    c.stored().map(|f| format!("                    {}: {},", f.name, self.json_read(f))).collect();
                let check = if c.has_flags() { "                o.check_flags(value.flags())?;\n" } else { "" };
                format!(
                    "{{\n                let value = {st} {{\n{}\n                }};\n{check}                {rust}::{}(value)\n            }}",
                    fields.join("\n"),
                    c.variant
                )
            } else {
                let fields = c.stored().map(|f| format!("{}: {}", f.name, self.json_read(f))).collect();
                struct_literal(&format!("{rust}::{}", c.variant), fields)
            };
            let _ = writeln!(s, "            {pat} => {value},");
        }
        let _ = writeln!(s, "        }})");
        let _ = writeln!(s, "    }}");
        let _ = writeln!(s, "}}\n");
    }

    /// `TlJsonWrite` for the closure's types: the canonical JSON form
    /// written straight into a writer, the bytes `serde_json` writes for
    /// the `Value` of `to_json` (keys in insertion order, compact), without
    /// building that `Value` (a map, a `String` per key and per text).
    /// Constructor and field names are written as literals, so they must
    /// need no JSON escaping, and a name may appear once in a constructor
    /// and not be `_` (a map would keep one entry per key).
    fn json_write(&self) -> String {
        let mut s = String::from("// Generated by build.rs from tl/closure.tl.\n\n");
        for c in self.functions() {
            self.json_write_struct(&mut s, c);
        }
        for ty in &self.type_order {
            let info = &self.types[ty];
            if info.ctors.len() == 1 {
                self.json_write_struct(&mut s, &self.ctors[info.ctors[0]]);
            } else {
                self.json_write_enum(&mut s, info);
            }
        }
        s
    }

    /// Statements that write the opening brace, the `"_"` entry and the
    /// fields of `c`, bound as `{prefix}name`, to `w` (no closing brace).
    fn json_writes(&self, s: &mut String, c: &Ctor, prefix: &str, flags: &str, indent: &str, deref: bool) {
        let plain =
            |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !plain(&c.name) {
            fail(&format!("constructor name {:?} would need JSON escaping", c.name));
        }
        let _ = writeln!(s, "{indent}w.write_all(b\"{{\\\"_\\\":\\\"{}\\\"\")?;", c.name);
        let mut seen: Vec<&str> = Vec::new();
        for f in &c.fields {
            if !plain(&f.name) || f.name == "_" || seen.contains(&f.name.as_str()) {
                fail(&format!("field name {:?} of {} cannot be written as a literal JSON key", f.name, c.name));
            }
            seen.push(&f.name);
            let v = format!("{prefix}{}", f.name);
            let copy = if deref { format!("*{v}") } else { v.clone() };
            // A reference to the field: bound by the match, or taken here.
            let r = if deref { v.clone() } else { format!("&{v}") };
            let value = match (&f.kind, f.optional()) {
                (FieldKind::Flags, _) => format!("write_int(w, i64::from({flags}))"),
                (FieldKind::TrueFlag, _) => format!("write_bool(w, {copy})"),
                (FieldKind::Int, false) => format!("write_int(w, i64::from({copy}))"),
                (FieldKind::Long, false) => format!("write_int(w, {copy})"),
                (FieldKind::Int, true) => format!("write_opt(w, {r}, |w, v| write_int(w, i64::from(*v)))"),
                (FieldKind::Long, true) => format!("write_opt(w, {r}, |w, v| write_int(w, *v))"),
                (FieldKind::String, false) => format!("write_string(w, {r})"),
                (FieldKind::String, true) => format!("write_opt(w, {r}, |w, v| write_string(w, v))"),
                (FieldKind::Object(_), false) => format!("{v}.write_json(w)"),
                (FieldKind::Object(_), true) => format!("write_opt(w, {r}, |w, v| v.write_json(w))"),
            };
            let _ = writeln!(s, "{indent}w.write_all(b\",\\\"{}\\\":\")?;", f.name);
            let _ = writeln!(s, "{indent}{value}?;");
        }
    }

    fn json_write_struct(&self, s: &mut String, c: &Ctor) {
        let name = c.own_struct.as_deref().expect("a struct");
        let _ = writeln!(s, "impl TlJsonWrite for {name} {{");
        let _ = writeln!(s, "    fn write_json<W: io::Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {{");
        self.json_writes(s, c, "self.", "self.flags()", "        ", false);
        let _ = writeln!(s, "        w.write_all(b\"}}\")");
        let _ = writeln!(s, "    }}");
        let _ = writeln!(s, "}}\n");
    }

    fn json_write_enum(&self, s: &mut String, info: &TypeInfo) {
        let rust = &info.rust;
        let _ = writeln!(s, "impl TlJsonWrite for {rust} {{");
        let _ = writeln!(s, "    fn write_json<W: io::Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {{");
        let _ = writeln!(s, "        match self {{");
        self.enum_arms(s, info, Self::json_writes);
        let _ = writeln!(s, "        }}");
        let _ = writeln!(s, "        w.write_all(b\"}}\")");
        let _ = writeln!(s, "    }}");
        let _ = writeln!(s, "}}\n");
    }

    /// `Arbitrary` for the recursive types: nesting bounded by
    /// `MAX_ARBITRARY_DEPTH` (a derived recursive enum could nest as deep as
    /// the input is long). Non-recursive constructors come first, so that
    /// the choice at the depth limit is a prefix of the list.
    fn arbitrary(&self) -> String {
        let mut s = String::from("// Generated by build.rs from tl/closure.tl.\n\n");
        for ty in &self.type_order {
            let info = &self.types[ty];
            if !info.recursive {
                continue;
            }
            let rust = &info.rust;
            let f = format!("arbitrary_{}", fn_name(ty));
            let mut order: Vec<&Ctor> = info.ctors.iter().map(|&i| &self.ctors[i]).collect();
            order.sort_by_key(|c| c.fields.iter().any(|f| f.recursive));
            let flat = order.iter().filter(|c| !c.fields.iter().any(|f| f.recursive)).count();
            let _ = writeln!(s, "impl<'a> Arbitrary<'a> for {rust} {{");
            let _ = writeln!(s, "    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {{");
            let _ = writeln!(s, "        {f}(u, 1)");
            let _ = writeln!(s, "    }}");
            let _ = writeln!(s, "}}\n");
            let _ = writeln!(s, "fn {f}(u: &mut Unstructured<'_>, depth: usize) -> Result<{rust}> {{");
            let _ =
                writeln!(s, "    let kinds = if depth < MAX_ARBITRARY_DEPTH {{ {} }} else {{ {flat} }};", order.len());
            let _ = writeln!(s, "    Ok(match u.choose_index(kinds)? {{");
            let n = order.len();
            for (k, c) in order.iter().enumerate() {
                let pat = if k + 1 == n { "_".to_string() } else { k.to_string() };
                let value = if let Some(st) = &c.own_struct {
                    format!("{rust}::{}({st}::arbitrary(u)?)", c.variant)
                } else {
                    let fields: Vec<String> = c
                        .stored()
                        .map(|fl| {
                            if fl.recursive {
                                format!("{}: Box::new({f}(u, depth + 1)?)", fl.name)
                            } else {
                                format!("{}: u.arbitrary()?", fl.name)
                            }
                        })
                        .collect();
                    struct_literal(&format!("{rust}::{}", c.variant), fields)
                };
                let _ = writeln!(s, "        {pat} => {value},");
            }
            let _ = writeln!(s, "    }})");
            let _ = writeln!(s, "}}\n");
        }
        s
    }
}

/// `Path { a: x, b: y }`, or `Path` alone without fields.
fn struct_literal(path: &str, fields: Vec<String>) -> String {
    if fields.is_empty() {
        path.to_string()
    } else {
        format!("{path} {{ {} }}", fields.join(", "))
    }
}

/// `input_peer` for `InputPeer`: the name of a type's lookup function.
fn fn_name(ty: &str) -> String {
    screaming(ty).to_lowercase()
}

/// The never-inlined decoder of a nested value of a recursive type.
fn nested_fn(ty: &str) -> String {
    format!("nested_{}", fn_name(ty))
}
