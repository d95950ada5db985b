//! The abstract parameter tree of a method or type, as the documentation
//! means it: every constructor labelled (the published tree loses the labels
//! of the two `*FromMessage` peers), and a recursive field shown as a
//! reference to the type already being expanded instead of forever.

use std::fmt::Write as _;

use super::Palette;
use crate::tl::dynamic::Schema;
use crate::tl::schema::{self, CtorDef, FieldDef};

/// The names `inspector schema` accepts: a constructor or a type of the closure.
pub fn known_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = schema::CLOSURE.iter().map(|c| c.name).collect();
    for c in schema::CLOSURE {
        if !names.contains(&c.ty) {
            names.push(c.ty);
        }
    }
    names
}

fn ctors_of_type(ty: &str) -> Vec<&'static CtorDef> {
    schema::CLOSURE.iter().copied().filter(|c| c.ty == ty && !c.is_function).collect()
}

/// Where the tree's definitions come from, and how deep it expands.
struct Source<'a> {
    by_name: &'a dyn Fn(&str) -> Option<&'static CtorDef>,
    ctors_of: &'a dyn Fn(&str) -> Vec<&'static CtorDef>,
    /// Levels of nested types expanded below the root; deeper ones are named only.
    max_depth: usize,
}

/// The schema tree of a constructor or type name, or `None` if unknown.
pub fn render_schema(name: &str, color: bool) -> Option<String> {
    let source = Source { by_name: &schema::ctor_by_name, ctors_of: &ctors_of_type, max_depth: usize::MAX };
    render_from(&source, name, color)
}

/// The schema tree of a constructor or type of `tl`, or `None` if unknown.
/// A whole API is not closed the way the closure is (a `Message` reaches
/// most of it), so nested types are expanded one level and named below that.
pub fn render_schema_in(tl: &Schema, name: &str, color: bool) -> Option<String> {
    let by_name = |n: &str| tl.by_name(n);
    let ctors_of = |t: &str| tl.constructors_of(t);
    let source = Source { by_name: &by_name, ctors_of: &ctors_of, max_depth: 1 };
    render_from(&source, name, color)
}

fn render_from(source: &Source<'_>, name: &str, color: bool) -> Option<String> {
    let p = Palette::new(color);
    let mut out = String::new();
    let mut stack = Vec::new();
    if let Some(ctor) = (source.by_name)(name) {
        let _ = writeln!(out, "{}", ctor_label(ctor, &p, true));
        stack.push(ctor.ty);
        fields(source, &mut out, ctor, "", &mut stack, &p);
    } else {
        let ctors = (source.ctors_of)(name);
        if ctors.is_empty() {
            return None;
        }
        let ty = ctors[0].ty;
        let _ = writeln!(out, "{}", Palette::paint(p.ty, ty));
        stack.push(ty);
        type_ctors(source, &mut out, ty, "", &mut stack, &p);
    }
    Some(out)
}

/// The TL lines of the closure, as protocol.md lists them.
pub fn render_tl_lines() -> String {
    schema::CLOSURE.iter().map(|c| c.tl_line() + "\n").collect()
}

fn ctor_label(ctor: &CtorDef, p: &Palette, root: bool) -> String {
    let mut s = Palette::paint(p.ctor, &ctor.display_id());
    if root {
        let arrow = if ctor.is_function { "→" } else { "of type" };
        let _ = write!(s, " {}", Palette::paint(p.dim, &format!("{arrow} {}", ctor.ty)));
    }
    s
}

fn field_label(f: &FieldDef, p: &Palette) -> String {
    let mut s = format!("{}: {}", Palette::paint(p.field, f.name), Palette::paint(p.ty, &f.tl_type()));
    if f.flag.is_some() {
        s.push_str(&Palette::paint(p.dim, " (optional)"));
    }
    if f.is_time {
        s.push_str(&Palette::paint(p.dim, " (unix time)"));
    }
    s
}

fn fields(
    source: &Source<'_>,
    out: &mut String,
    ctor: &CtorDef,
    prefix: &str,
    stack: &mut Vec<&'static str>,
    p: &Palette,
) {
    let n = ctor.fields.len();
    for (i, f) in ctor.fields.iter().enumerate() {
        let last = i + 1 == n;
        let _ = write!(out, "{prefix}{}{}", if last { "└── " } else { "├── " }, field_label(f, p));
        let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
        if f.ty == "#" {
            let bits: Vec<String> =
                (0..32).filter_map(|b| ctor.field_for_bit(b).map(|g| format!("{b}:{}", g.name))).collect();
            let _ = writeln!(out, "{}", Palette::paint(p.dim, &format!(" (bits {})", bits.join(" "))));
        } else if (source.ctors_of)(f.ty).is_empty() {
            out.push('\n');
        } else if stack.contains(&f.ty) {
            let _ = writeln!(out, " {}", Palette::paint(p.dim, &format!("↻ any {} (recursive: expanded above)", f.ty)));
        } else if stack.len() > source.max_depth {
            let count = (source.ctors_of)(f.ty).len();
            let _ = writeln!(
                out,
                " {}",
                Palette::paint(p.dim, &format!("(any of {count} constructors: inspector schema {})", f.ty))
            );
        } else {
            out.push('\n');
            stack.push(f.ty);
            type_ctors(source, out, f.ty, &child_prefix, stack, p);
            stack.pop();
        }
    }
}

fn type_ctors(
    source: &Source<'_>,
    out: &mut String,
    ty: &str,
    prefix: &str,
    stack: &mut Vec<&'static str>,
    p: &Palette,
) {
    let ctors = (source.ctors_of)(ty);
    let n = ctors.len();
    for (i, ctor) in ctors.into_iter().enumerate() {
        let last = i + 1 == n;
        let _ = writeln!(out, "{prefix}{}{}", if last { "└── " } else { "├── " }, ctor_label(ctor, p, false));
        let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
        fields(source, out, ctor, &child_prefix, stack, p);
    }
}
