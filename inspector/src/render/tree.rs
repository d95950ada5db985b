//! The parameter tree of one decoded frame: like the documentation's
//! "Parameter Tree", but with this frame's values, flag bits and the byte
//! range of every line.

use std::fmt::Write as _;

use super::{hex_bytes, offset_width, quote_text, utc_date, Palette};
use crate::tl::schema::CtorDef;
use crate::tl::{with_flag_fields, TraceEvent, TraceValue};

/// Strings longer than this many characters are cut in the tree (the JSON
/// form always holds them whole).
const MAX_TEXT_CHARS: usize = 120;

/// One line to draw: depth in the tree, byte range (if any) and content.
struct Line {
    depth: usize,
    range: Option<(usize, usize)>,
    content: String,
}

/// Render the tree of `trace` (as recorded while decoding `bytes`).
/// The fields without bytes are drawn too (see [`with_flag_fields`]). A
/// trace cut short by an error renders as far as it goes; objects left open
/// show `..?` as their end.
pub fn render_tree(bytes: &[u8], trace: &[TraceEvent], color: bool) -> String {
    let p = Palette::new(color);
    let lines = lines(bytes, &with_flag_fields(trace, None), &p);
    draw(&lines, offset_width(bytes.len()), &p)
}

/// What holds the fields at one depth of the tree.
enum Parent {
    Object(&'static CtorDef),
    /// A vector: the TL type of its elements and the index of the next one.
    Vector {
        element: String,
        next: usize,
    },
}

/// The element type of a vector type: `T` of `Vector<T>` or `vector<T>`.
fn element_type(ty: &str) -> String {
    ty.split_once('<').and_then(|(_, t)| t.strip_suffix('>')).unwrap_or("").to_string()
}

fn lines(bytes: &[u8], trace: &[TraceEvent], p: &Palette) -> Vec<Line> {
    let mut out = Vec::with_capacity(trace.len() + 16);
    // What holds the fields, by depth.
    let mut parents: Vec<Parent> = Vec::new();
    for ev in trace {
        parents.truncate(ev.depth);
        let (parent, def, name, tl_type) = match parents.last_mut() {
            Some(Parent::Object(c)) => {
                let def = c.field(ev.field);
                (Some(*c), def, ev.field.to_string(), def.map_or(String::new(), |d| d.tl_type()))
            }
            Some(Parent::Vector { element, next }) => {
                *next += 1;
                (None, None, format!("[{}]", *next - 1), element.clone())
            }
            None => (None, None, String::new(), String::new()),
        };
        let label = |ty: String| {
            if name.is_empty() {
                String::new()
            } else {
                format!("{}: {} = ", Palette::paint(p.field, &name), Palette::paint(p.ty, &ty))
            }
        };
        let range = Some((ev.start, ev.end));
        match &ev.value {
            TraceValue::Bare(ctor) => {
                let content = label(tl_type) + &Palette::paint(p.ctor, ctor.name);
                out.push(Line { depth: ev.depth, range, content });
                parents.push(Parent::Object(ctor));
            }
            TraceValue::Vector { count, .. } => {
                let element = element_type(def.map_or(tl_type.as_str(), |d| d.ty));
                let note = if *count == 1 { "1 element".to_string() } else { format!("{count} elements") };
                let content = label(tl_type) + &Palette::paint(p.dim, &format!("({note})"));
                out.push(Line { depth: ev.depth, range, content });
                parents.push(Parent::Vector { element, next: 0 });
            }
            TraceValue::Double(bits) => {
                let v = f64::from_bits(*bits);
                let shown = if v.is_finite() { format!("{v:?}") } else { format!("{v} (0x{bits:016x})") };
                out.push(Line { depth: ev.depth, range, content: label(tl_type) + &Palette::paint(p.value, &shown) });
            }
            TraceValue::Int128 | TraceValue::Int256 => {
                let raw = bytes.get(ev.start..ev.end).unwrap_or_default();
                let content = label(tl_type) + &Palette::paint(p.value, &crate::hex::encode(raw));
                out.push(Line { depth: ev.depth, range, content });
            }
            TraceValue::Bytes { data } => {
                let raw = bytes.get(data.clone()).unwrap_or_default();
                let note = match raw.len() {
                    1 => " (1 byte)".to_string(),
                    n => format!(" ({n} bytes)"),
                };
                let shown = if raw.is_empty() { "empty".to_string() } else { hex_bytes(raw, 32) };
                let content = label(tl_type) + &Palette::paint(p.value, &shown) + &Palette::paint(p.dim, &note);
                out.push(Line { depth: ev.depth, range, content });
            }
            TraceValue::Bool(v) => {
                out.push(Line {
                    depth: ev.depth,
                    range,
                    content: label(tl_type) + &Palette::paint(p.value, &v.to_string()),
                });
            }
            TraceValue::Object(ctor) => {
                let mut content = label(tl_type);
                content.push_str(&Palette::paint(p.ctor, &ctor.display_id()));
                if ev.depth == 0 {
                    let arrow = if ctor.is_function { "→" } else { "of type" };
                    let _ = write!(content, " {}", Palette::paint(p.dim, &format!("{arrow} {}", ctor.ty)));
                    if ev.end != TraceEvent::OPEN {
                        let _ =
                            write!(content, " {}", Palette::paint(p.dim, &format!("({} bytes)", ev.end - ev.start)));
                    }
                }
                out.push(Line { depth: ev.depth, range, content });
                parents.push(Parent::Object(ctor));
            }
            TraceValue::Flags(flags) => {
                let set: Vec<String> = (0..32).filter(|b| flags & (1 << b) != 0).map(|b| b.to_string()).collect();
                let summary =
                    if set.is_empty() { "no bits set".to_string() } else { format!("bits {}", set.join(", ")) };
                let content = format!(
                    "{}{} {}",
                    label(tl_type),
                    Palette::paint(p.value, &format!("0x{flags:08x}")),
                    Palette::paint(p.dim, &format!("({summary})"))
                );
                out.push(Line { depth: ev.depth, range, content });
                if let Some(ctor) = parent {
                    out.extend(flag_bits(*flags, ctor, ev.field, ev.depth + 1, p));
                }
            }
            TraceValue::Int(v) => {
                let mut value = Palette::paint(p.value, &v.to_string());
                if def.is_some_and(|d| d.is_time) {
                    let _ = write!(value, " {}", Palette::paint(p.dim, &format!("({})", utc_date(i64::from(*v)))));
                }
                out.push(Line { depth: ev.depth, range, content: label(tl_type) + &value });
            }
            TraceValue::Long(v) => {
                out.push(Line {
                    depth: ev.depth,
                    range,
                    content: label(tl_type) + &Palette::paint(p.value, &v.to_string()),
                });
            }
            TraceValue::Str { data, utf8 } => {
                let raw = bytes.get(data.clone()).unwrap_or_default();
                let shown = match std::str::from_utf8(raw) {
                    Ok(text) if *utf8 => Palette::paint(p.value, &quote_text(text, MAX_TEXT_CHARS)),
                    _ => Palette::paint(p.bad, &format!("invalid UTF-8: {}", hex_bytes(raw, 32))),
                };
                let note = match raw.len() {
                    1 => " (1 byte)".to_string(),
                    n => format!(" ({n} bytes)"),
                };
                out.push(Line {
                    depth: ev.depth,
                    range,
                    content: label(tl_type) + &shown + &Palette::paint(p.dim, &note),
                });
            }
            TraceValue::TrueFlag(set) => {
                out.push(Line {
                    depth: ev.depth,
                    range: None,
                    content: label(tl_type) + &Palette::paint(p.value, &set.to_string()),
                });
            }
            TraceValue::Absent => {
                let bit = def.and_then(|d| d.flag).map_or(String::new(), |b| format!(" (flags.{b} unset)"));
                out.push(Line {
                    depth: ev.depth,
                    range: None,
                    content: label(tl_type) + &Palette::paint(p.dim, &format!("absent{bit}")),
                });
            }
        }
    }
    out
}

/// One line per bit the constructor defines, and one per undefined bit that
/// is set (only lenient decoding gets that far).
fn flag_bits(flags: u32, ctor: &CtorDef, word: &str, depth: usize, p: &Palette) -> Vec<Line> {
    let mut lines = Vec::new();
    for bit in 0u8..32 {
        let is_set = flags & (1 << bit) != 0;
        let field = ctor.field_for_flag(word, bit);
        let content = match field {
            Some(f) => format!(
                "bit {bit:<2} {} {}",
                if is_set { Palette::paint(p.value, "set  ") } else { Palette::paint(p.dim, "unset") },
                Palette::paint(p.field, f.name)
            ),
            None if is_set => format!(
                "bit {bit:<2} {} {}",
                Palette::paint(p.bad, "set  "),
                Palette::paint(p.bad, &format!("undefined in {}", ctor.name))
            ),
            None => continue,
        };
        lines.push(Line { depth, range: None, content });
    }
    lines
}

/// Draw the lines with box-drawing connectors and a byte-range column.
fn draw(lines: &[Line], width: usize, p: &Palette) -> String {
    let mut out = String::new();
    // For each depth, whether the ancestor at that depth has siblings below it.
    let mut open: Vec<bool> = Vec::new();
    let range_width = 2 * (width + 2) + 2;
    for (i, line) in lines.iter().enumerate() {
        let range = match line.range {
            Some((start, end)) if end == TraceEvent::OPEN => format!("0x{start:0width$x}..?"),
            Some((start, end)) => format!("0x{start:0width$x}..0x{end:0width$x}"),
            None => String::new(),
        };
        let _ = write!(out, "{}  ", Palette::paint(p.dim, &format!("{range:<range_width$}")));
        if line.depth > 0 {
            let is_last = !lines[i + 1..].iter().take_while(|l| l.depth >= line.depth).any(|l| l.depth == line.depth);
            open.truncate(line.depth - 1);
            for &more in &open {
                out.push_str(if more { "│   " } else { "    " });
            }
            out.push_str(if is_last { "└── " } else { "├── " });
            open.push(!is_last);
        }
        out.push_str(&line.content);
        out.push('\n');
    }
    out
}
