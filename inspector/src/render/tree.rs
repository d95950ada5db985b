//! The parameter tree of one decoded frame: like the documentation's
//! "Parameter Tree", but with this frame's values, flag bits and the byte
//! range of every line.

use std::fmt::Write as _;

use super::{offset_width, push_quoted, push_utc_date, Inks, Palette};
use crate::hex::{push_encoded, push_padded, push_spaced};
use crate::tl::schema::{CtorDef, FieldDef};
use crate::tl::{with_flag_fields, TraceEvent, TraceValue};

/// Strings longer than this many characters are cut in the tree (the JSON
/// form always holds them whole).
const MAX_TEXT_CHARS: usize = 120;

/// One line to draw: depth in the tree, byte range (if any) and content
/// (a range of the text all lines share: one buffer rather than a string
/// per line, since a tree is drawn for every request and answer of a capture).
struct Line {
    depth: usize,
    range: Option<(usize, usize)>,
    content: std::ops::Range<usize>,
}

/// Render the tree of `trace` (as recorded while decoding `bytes`).
/// The fields without bytes are drawn too (see [`with_flag_fields`]). A
/// trace cut short by an error renders as far as it goes; objects left open
/// show `..?` as their end.
pub fn render_tree(bytes: &[u8], trace: &[TraceEvent], color: bool) -> String {
    let p = Inks::new(&Palette::new(color));
    let mut text = String::with_capacity(trace.len() * 48 + 64);
    let lines = lines(bytes, &with_flag_fields(trace, None), &p, &mut text);
    draw(&lines, &text, offset_width(bytes.len()), &p)
}

/// What holds the fields at one depth of the tree.
enum Parent {
    Object(&'static CtorDef),
    /// A vector: the TL type of its elements and the index of the next one.
    Vector {
        element: &'static str,
        next: usize,
    },
}

/// The element type of a vector type: `T` of `Vector<T>` or `vector<T>`.
fn element_type(ty: &'static str) -> &'static str {
    ty.split_once('<').and_then(|(_, t)| t.strip_suffix('>')).unwrap_or("")
}

/// A field's name and TL type, as a line's label shows them.
enum Label {
    None,
    Field { name: &'static str, def: Option<&'static FieldDef> },
    Element { index: usize, ty: &'static str },
}

impl Label {
    /// `name: type = `, nothing for the top level or a nameless field.
    fn push(&self, out: &mut String, p: &Inks) {
        match self {
            Label::None => {}
            Label::Field { name: "", .. } => {}
            Label::Field { name, def } => {
                p.field.paint(out, name);
                out.push_str(": ");
                match def {
                    // `FieldDef::tl_type`, written in place.
                    Some(d) => match d.flag {
                        Some(bit) if p.ty.is_plain() => {
                            let _ = write!(out, "{}.{bit}?{}", d.flag_word, d.ty);
                        }
                        Some(bit) => p.ty.paint_fmt(out, format_args!("{}.{bit}?{}", d.flag_word, d.ty)),
                        None => p.ty.paint(out, d.ty),
                    },
                    None => p.ty.paint(out, ""),
                }
                out.push_str(" = ");
            }
            Label::Element { index, ty } => {
                p.field.paint_fmt(out, format_args!("[{index}]"));
                out.push_str(": ");
                p.ty.paint(out, ty);
                out.push_str(" = ");
            }
        }
    }
}

fn lines(bytes: &[u8], trace: &[TraceEvent], p: &Inks, text: &mut String) -> Vec<Line> {
    let mut out = Vec::with_capacity(trace.len() + 16);
    // What holds the fields, by depth.
    let mut parents: Vec<Parent> = Vec::new();
    for ev in trace {
        parents.truncate(ev.depth);
        let (parent, def, label) = match parents.last_mut() {
            Some(Parent::Object(c)) => {
                let def = c.field(ev.field);
                (Some(*c), def, Label::Field { name: ev.field, def })
            }
            Some(Parent::Vector { element, next }) => {
                *next += 1;
                (None, None, Label::Element { index: *next - 1, ty: element })
            }
            None => (None, None, Label::None),
        };
        let start = text.len();
        label.push(text, p);
        let range = Some((ev.start, ev.end));
        let mut line_range = range;
        match &ev.value {
            TraceValue::Bare(ctor) => {
                p.ctor.paint(text, ctor.name);
                parents.push(Parent::Object(ctor));
            }
            TraceValue::Vector { count, .. } => {
                let element = match def {
                    Some(d) => element_type(d.ty),
                    // The label's own type (an element of a vector of vectors).
                    None => match &label {
                        Label::Element { ty, .. } => element_type(ty),
                        _ => "",
                    },
                };
                if *count == 1 {
                    p.dim.paint(text, "(1 element)");
                } else {
                    p.dim.paint_fmt(text, format_args!("({count} elements)"));
                }
                parents.push(Parent::Vector { element, next: 0 });
            }
            TraceValue::Double(bits) => {
                let v = f64::from_bits(*bits);
                if v.is_finite() {
                    p.value.paint_fmt(text, format_args!("{v:?}"));
                } else {
                    p.value.paint_fmt(text, format_args!("{v} (0x{bits:016x})"));
                }
            }
            TraceValue::Int128 | TraceValue::Int256 => {
                let raw = bytes.get(ev.start..ev.end).unwrap_or_default();
                p.value.open(text);
                push_encoded(text, raw);
                p.value.close(text);
            }
            TraceValue::Bytes { data } => {
                let raw = bytes.get(data.clone()).unwrap_or_default();
                p.value.open(text);
                if raw.is_empty() {
                    text.push_str("empty");
                } else {
                    push_spaced(text, raw, 32);
                }
                p.value.close(text);
                push_size_note(text, raw.len(), p);
            }
            TraceValue::Bool(v) => p.value.paint(text, if *v { "true" } else { "false" }),
            TraceValue::Object(ctor) => {
                // `CtorDef::display_id`, written in place.
                p.ctor.paint_fmt(text, format_args!("{}#{:08x}", ctor.name, ctor.id));
                if ev.depth == 0 {
                    let arrow = if ctor.is_function { "→" } else { "of type" };
                    text.push(' ');
                    p.dim.paint_fmt(text, format_args!("{arrow} {}", ctor.ty));
                    if ev.end != TraceEvent::OPEN {
                        text.push(' ');
                        p.dim.paint_fmt(text, format_args!("({} bytes)", ev.end - ev.start));
                    }
                }
                parents.push(Parent::Object(ctor));
            }
            TraceValue::Flags(flags) => {
                p.value.open(text);
                text.push_str("0x");
                push_padded(text, *flags as usize, 8);
                p.value.close(text);
                text.push(' ');
                // `(bits 0, 3)` or `(no bits set)`, dimmed, written in place.
                p.dim.open(text);
                if *flags == 0 {
                    text.push_str("(no bits set");
                }
                for bit in (0..32u32).filter(|b| flags & (1 << b) != 0) {
                    text.push_str(if flags & ((1 << bit) - 1) == 0 { "(bits " } else { ", " });
                    push_small(text, bit);
                }
                text.push(')');
                p.dim.close(text);
                out.push(Line { depth: ev.depth, range, content: start..text.len() });
                if let Some(ctor) = parent {
                    flag_bits(*flags, ctor, ev.field, ev.depth + 1, p, text, &mut out);
                }
                continue;
            }
            TraceValue::Int(v) => {
                p.value.paint_fmt(text, format_args!("{v}"));
                if def.is_some_and(|d| d.is_time) {
                    text.push(' ');
                    p.dim.open(text);
                    text.push('(');
                    push_utc_date(text, i64::from(*v));
                    text.push(')');
                    p.dim.close(text);
                }
            }
            TraceValue::Long(v) => p.value.paint_fmt(text, format_args!("{v}")),
            TraceValue::Str { data, utf8 } => {
                let raw = bytes.get(data.clone()).unwrap_or_default();
                match std::str::from_utf8(raw) {
                    Ok(shown) if *utf8 && p.value.is_plain() => {
                        push_quoted(text, shown, MAX_TEXT_CHARS);
                    }
                    Ok(shown) if *utf8 => {
                        p.value.open(text);
                        push_quoted(text, shown, MAX_TEXT_CHARS);
                        p.value.close(text);
                    }
                    _ => {
                        p.bad.open(text);
                        text.push_str("invalid UTF-8: ");
                        push_spaced(text, raw, 32);
                        p.bad.close(text);
                    }
                }
                push_size_note(text, raw.len(), p);
            }
            TraceValue::TrueFlag(set) => {
                p.value.paint(text, if *set { "true" } else { "false" });
                line_range = None;
            }
            TraceValue::Absent => {
                match def.and_then(|d| d.flag) {
                    Some(b) => p.dim.paint_fmt(text, format_args!("absent (flags.{b} unset)")),
                    None => p.dim.paint(text, "absent"),
                }
                line_range = None;
            }
        }
        out.push(Line { depth: ev.depth, range: line_range, content: start..text.len() });
    }
    out
}

/// `bit {bit:<2} `, written without `core::fmt` (a line per defined bit
/// of every flags word).
fn push_bit_label(text: &mut String, bit: u8) {
    text.push_str("bit ");
    push_small(text, u32::from(bit));
    text.push_str(if bit < 10 { "  " } else { " " });
}

/// A number below 100, as `{n}` writes it.
fn push_small(text: &mut String, n: u32) {
    if n >= 10 {
        text.push(char::from(b'0' + (n / 10 % 10) as u8));
    }
    text.push(char::from(b'0' + (n % 10) as u8));
}

/// ` (1 byte)` or ` (N bytes)`, dimmed.
fn push_size_note(text: &mut String, len: usize, p: &Inks) {
    match len {
        1 => p.dim.paint(text, " (1 byte)"),
        n => p.dim.paint_fmt(text, format_args!(" ({n} bytes)")),
    }
}

/// One line per bit the constructor defines, and one per undefined bit that
/// is set (only lenient decoding gets that far).
fn flag_bits(flags: u32, ctor: &CtorDef, word: &str, depth: usize, p: &Inks, text: &mut String, lines: &mut Vec<Line>) {
    for bit in 0u8..32 {
        let is_set = flags & (1 << bit) != 0;
        let field = ctor.field_for_flag(word, bit);
        let start = text.len();
        match field {
            Some(f) => {
                push_bit_label(text, bit);
                if is_set {
                    p.value.paint(text, "set  ");
                } else {
                    p.dim.paint(text, "unset");
                }
                text.push(' ');
                p.field.paint(text, f.name);
            }
            None if is_set => {
                push_bit_label(text, bit);
                p.bad.paint(text, "set  ");
                text.push(' ');
                p.bad.paint_fmt(text, format_args!("undefined in {}", ctor.name));
            }
            None => continue,
        }
        lines.push(Line { depth, range: None, content: start..text.len() });
    }
}

/// Draw the lines with box-drawing connectors and a byte-range column.
fn draw(lines: &[Line], text: &str, width: usize, p: &Inks) -> String {
    let range_width = 2 * (width + 2) + 2;
    let mut out = String::with_capacity(text.len() + lines.len() * (range_width + 24));
    // For each depth, whether the ancestor at that depth has siblings below it.
    let mut open: Vec<bool> = Vec::new();
    // Whether a later line stands at each depth before the tree climbs
    // above it: found in one pass from the end rather than by looking ahead
    // from every line.
    let mut is_last = vec![false; lines.len()];
    let mut seen_below: Vec<bool> = Vec::new();
    for (i, line) in lines.iter().enumerate().rev() {
        if seen_below.len() <= line.depth {
            seen_below.resize(line.depth + 1, false);
        }
        is_last[i] = !seen_below[line.depth];
        seen_below[line.depth] = true;
        // The lines below this one at deeper levels belong to it.
        for deeper in seen_below.iter_mut().skip(line.depth + 1) {
            *deeper = false;
        }
    }
    let mut range = String::with_capacity(range_width);
    for (i, line) in lines.iter().enumerate() {
        range.clear();
        match line.range {
            Some((start, end)) if end == TraceEvent::OPEN => {
                range.push_str("0x");
                push_padded(&mut range, start, width);
                range.push_str("..?");
            }
            Some((start, end)) => {
                range.push_str("0x");
                push_padded(&mut range, start, width);
                range.push_str("..0x");
                push_padded(&mut range, end, width);
            }
            None => {}
        }
        // `{range:<range_width$}` in the dim style, painted as one piece
        // (the range is ASCII: its length is its width).
        let pad = range_width.saturating_sub(range.len());
        p.dim.open(&mut out);
        out.push_str(&range);
        out.extend(std::iter::repeat_n(' ', pad));
        p.dim.close(&mut out);
        out.push_str("  ");
        if line.depth > 0 {
            let is_last = is_last[i];
            open.truncate(line.depth - 1);
            for &more in &open {
                out.push_str(if more { "│   " } else { "    " });
            }
            out.push_str(if is_last { "└── " } else { "├── " });
            open.push(!is_last);
        }
        out.push_str(text.get(line.content.clone()).unwrap_or_default());
        out.push('\n');
    }
    out
}
