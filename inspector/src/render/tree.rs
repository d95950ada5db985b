//! The parameter tree of one decoded frame: like the documentation's
//! "Parameter Tree", but with this frame's values, flag bits and the byte
//! range of every line.

use std::fmt::Write as _;

use super::{
    close_style, offset_width, open_style, push_hex_byte, push_hex_bytes, push_padded_hex, push_quoted, push_utc_date,
    Palette,
};
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
    let p = Palette::new(color);
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
    fn push(&self, out: &mut String, p: &Palette) {
        match self {
            Label::None => {}
            Label::Field { name: "", .. } => {}
            Label::Field { name, def } => {
                Palette::paint_into(out, p.field, name);
                out.push_str(": ");
                match def {
                    // `FieldDef::tl_type`, written in place.
                    Some(d) => match d.flag {
                        Some(bit) if p.ty == anstyle::Style::new() => {
                            let _ = write!(out, "{}.{bit}?{}", d.flag_word, d.ty);
                        }
                        Some(bit) => Palette::paint_fmt(out, p.ty, format_args!("{}.{bit}?{}", d.flag_word, d.ty)),
                        None => Palette::paint_into(out, p.ty, d.ty),
                    },
                    None => Palette::paint_into(out, p.ty, ""),
                }
                out.push_str(" = ");
            }
            Label::Element { index, ty } => {
                Palette::paint_fmt(out, p.field, format_args!("[{index}]"));
                out.push_str(": ");
                Palette::paint_into(out, p.ty, ty);
                out.push_str(" = ");
            }
        }
    }
}

fn lines(bytes: &[u8], trace: &[TraceEvent], p: &Palette, text: &mut String) -> Vec<Line> {
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
                Palette::paint_into(text, p.ctor, ctor.name);
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
                    Palette::paint_into(text, p.dim, "(1 element)");
                } else {
                    Palette::paint_fmt(text, p.dim, format_args!("({count} elements)"));
                }
                parents.push(Parent::Vector { element, next: 0 });
            }
            TraceValue::Double(bits) => {
                let v = f64::from_bits(*bits);
                if v.is_finite() {
                    Palette::paint_fmt(text, p.value, format_args!("{v:?}"));
                } else {
                    Palette::paint_fmt(text, p.value, format_args!("{v} (0x{bits:016x})"));
                }
            }
            TraceValue::Int128 | TraceValue::Int256 => {
                let raw = bytes.get(ev.start..ev.end).unwrap_or_default();
                open_style(text, p.value);
                for &b in raw {
                    push_hex_byte(text, b);
                }
                close_style(text, p.value);
            }
            TraceValue::Bytes { data } => {
                let raw = bytes.get(data.clone()).unwrap_or_default();
                open_style(text, p.value);
                if raw.is_empty() {
                    text.push_str("empty");
                } else {
                    push_hex_bytes(text, raw, 32);
                }
                close_style(text, p.value);
                push_size_note(text, raw.len(), p);
            }
            TraceValue::Bool(v) => Palette::paint_into(text, p.value, if *v { "true" } else { "false" }),
            TraceValue::Object(ctor) => {
                // `CtorDef::display_id`, written in place.
                Palette::paint_fmt(text, p.ctor, format_args!("{}#{:08x}", ctor.name, ctor.id));
                if ev.depth == 0 {
                    let arrow = if ctor.is_function { "→" } else { "of type" };
                    text.push(' ');
                    Palette::paint_fmt(text, p.dim, format_args!("{arrow} {}", ctor.ty));
                    if ev.end != TraceEvent::OPEN {
                        text.push(' ');
                        Palette::paint_fmt(text, p.dim, format_args!("({} bytes)", ev.end - ev.start));
                    }
                }
                parents.push(Parent::Object(ctor));
            }
            TraceValue::Flags(flags) => {
                open_style(text, p.value);
                text.push_str("0x");
                push_padded_hex(text, *flags as usize, 8);
                close_style(text, p.value);
                text.push(' ');
                // `(bits 0, 3)` or `(no bits set)`, dimmed, written in place.
                open_style(text, p.dim);
                if *flags == 0 {
                    text.push_str("(no bits set");
                }
                for bit in (0..32u32).filter(|b| flags & (1 << b) != 0) {
                    text.push_str(if flags & ((1 << bit) - 1) == 0 { "(bits " } else { ", " });
                    push_small(text, bit);
                }
                text.push(')');
                close_style(text, p.dim);
                out.push(Line { depth: ev.depth, range, content: start..text.len() });
                if let Some(ctor) = parent {
                    flag_bits(*flags, ctor, ev.field, ev.depth + 1, p, text, &mut out);
                }
                continue;
            }
            TraceValue::Int(v) => {
                Palette::paint_fmt(text, p.value, format_args!("{v}"));
                if def.is_some_and(|d| d.is_time) {
                    text.push(' ');
                    open_style(text, p.dim);
                    text.push('(');
                    push_utc_date(text, i64::from(*v));
                    text.push(')');
                    close_style(text, p.dim);
                }
            }
            TraceValue::Long(v) => Palette::paint_fmt(text, p.value, format_args!("{v}")),
            TraceValue::Str { data, utf8 } => {
                let raw = bytes.get(data.clone()).unwrap_or_default();
                match std::str::from_utf8(raw) {
                    Ok(shown) if *utf8 && p.value == anstyle::Style::new() => {
                        push_quoted(text, shown, MAX_TEXT_CHARS);
                    }
                    Ok(shown) if *utf8 => {
                        open_style(text, p.value);
                        push_quoted(text, shown, MAX_TEXT_CHARS);
                        close_style(text, p.value);
                    }
                    _ => {
                        open_style(text, p.bad);
                        text.push_str("invalid UTF-8: ");
                        push_hex_bytes(text, raw, 32);
                        close_style(text, p.bad);
                    }
                }
                push_size_note(text, raw.len(), p);
            }
            TraceValue::TrueFlag(set) => {
                Palette::paint_into(text, p.value, if *set { "true" } else { "false" });
                line_range = None;
            }
            TraceValue::Absent => {
                match def.and_then(|d| d.flag) {
                    Some(b) => Palette::paint_fmt(text, p.dim, format_args!("absent (flags.{b} unset)")),
                    None => Palette::paint_into(text, p.dim, "absent"),
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
fn push_size_note(text: &mut String, len: usize, p: &Palette) {
    match len {
        1 => Palette::paint_into(text, p.dim, " (1 byte)"),
        n => Palette::paint_fmt(text, p.dim, format_args!(" ({n} bytes)")),
    }
}

/// One line per bit the constructor defines, and one per undefined bit that
/// is set (only lenient decoding gets that far).
fn flag_bits(
    flags: u32,
    ctor: &CtorDef,
    word: &str,
    depth: usize,
    p: &Palette,
    text: &mut String,
    lines: &mut Vec<Line>,
) {
    for bit in 0u8..32 {
        let is_set = flags & (1 << bit) != 0;
        let field = ctor.field_for_flag(word, bit);
        let start = text.len();
        match field {
            Some(f) => {
                push_bit_label(text, bit);
                if is_set {
                    Palette::paint_into(text, p.value, "set  ");
                } else {
                    Palette::paint_into(text, p.dim, "unset");
                }
                text.push(' ');
                Palette::paint_into(text, p.field, f.name);
            }
            None if is_set => {
                push_bit_label(text, bit);
                Palette::paint_into(text, p.bad, "set  ");
                text.push(' ');
                Palette::paint_fmt(text, p.bad, format_args!("undefined in {}", ctor.name));
            }
            None => continue,
        }
        lines.push(Line { depth, range: None, content: start..text.len() });
    }
}

/// Draw the lines with box-drawing connectors and a byte-range column.
fn draw(lines: &[Line], text: &str, width: usize, p: &Palette) -> String {
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
    // The dimmed range column's escapes, rendered once for every line.
    let mut dim_open = String::new();
    open_style(&mut dim_open, p.dim);
    let mut dim_close = String::new();
    close_style(&mut dim_close, p.dim);
    let mut range = String::with_capacity(range_width);
    for (i, line) in lines.iter().enumerate() {
        range.clear();
        match line.range {
            Some((start, end)) if end == TraceEvent::OPEN => {
                range.push_str("0x");
                push_padded_hex(&mut range, start, width);
                range.push_str("..?");
            }
            Some((start, end)) => {
                range.push_str("0x");
                push_padded_hex(&mut range, start, width);
                range.push_str("..0x");
                push_padded_hex(&mut range, end, width);
            }
            None => {}
        }
        // `{range:<range_width$}` in the dim style, painted as one piece
        // (the range is ASCII: its length is its width).
        let pad = range_width.saturating_sub(range.len());
        out.push_str(&dim_open);
        out.push_str(&range);
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(&dim_close);
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
