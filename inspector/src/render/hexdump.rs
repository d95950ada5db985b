//! The frame's bytes dumped by hexyl, followed by a field map: every field
//! with its byte range and its bytes, so each byte of the dump has a name.

use std::fmt::Write as _;

use super::{hex_bytes, offset_width, Palette};
use crate::tl::{TraceEvent, TraceValue};

/// Bytes of one field shown in the field map before it is cut.
const MAX_FIELD_BYTES: usize = 24;

/// A hexyl dump of `bytes` (offsets shifted by `display_offset`).
pub fn hexyl_dump(bytes: &[u8], display_offset: u64, color: bool) -> String {
    let mut out = Vec::new();
    let mut printer = hexyl::PrinterBuilder::new(&mut out)
        .show_color(color)
        .show_char_panel(true)
        .show_position_panel(true)
        .with_border_style(hexyl::BorderStyle::Unicode)
        .enable_squeezing(false)
        .num_panels(2)
        .build();
    printer.display_offset(display_offset);
    // Writing into a Vec cannot fail.
    let _ = printer.print_all(bytes);
    String::from_utf8_lossy(&out).into_owned()
}

/// The dump and, below it, the field map drawn from `trace`.
pub fn render_hexdump(bytes: &[u8], trace: &[TraceEvent], color: bool) -> String {
    let p = Palette::new(color);
    let mut out = hexyl_dump(bytes, 0, color);
    out.push_str(&field_map(bytes, trace, &p));
    out
}

/// One line per byte-carrying field: range, dotted path, bytes.
pub fn field_map(bytes: &[u8], trace: &[TraceEvent], p: &Palette) -> String {
    let width = offset_width(bytes.len());
    let mut rows: Vec<(usize, usize, String)> = Vec::new();
    // The names of the open objects and vectors, and for a vector the index
    // of its next element (elements have no field name of their own).
    let mut path: Vec<(String, Option<usize>)> = Vec::new();
    for ev in trace {
        path.truncate(ev.depth);
        let own = match path.last_mut() {
            Some((_, Some(next))) => {
                *next += 1;
                (*next - 1).to_string()
            }
            _ => ev.field.to_string(),
        };
        let dotted = |last: &str| {
            let mut parts: Vec<&str> = path.iter().map(|(s, _)| s.as_str()).filter(|s| !s.is_empty()).collect();
            if !last.is_empty() {
                parts.push(last);
            }
            parts.join(".")
        };
        match &ev.value {
            TraceValue::Object(ctor) => {
                let name = match dotted(&own) {
                    at if at.is_empty() => format!("constructor {}", ctor.display_id()),
                    at => format!("{at} constructor {}", ctor.display_id()),
                };
                rows.push((ev.start, ev.start + 4, name));
                path.push((own, None));
            }
            TraceValue::Bare(_) => path.push((own, None)),
            TraceValue::Vector { count, boxed } => {
                let header = if *boxed { 8 } else { 4 };
                let what = if *boxed { "vector id and count" } else { "vector count" };
                rows.push((
                    ev.start,
                    ev.start + header,
                    format!("{} {what} ({count})", dotted(&own)).trim_start().to_string(),
                ));
                path.push((own, Some(0)));
            }
            TraceValue::TrueFlag(_) | TraceValue::Absent => {}
            _ => rows.push((ev.start, ev.end, dotted(&own))),
        }
    }
    let name_width = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
    let mut out = String::from("\nfield map:\n");
    for (start, end, name) in rows {
        let slice = bytes.get(start..end).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}  {}  {}",
            Palette::paint(p.dim, &format!("0x{start:0width$x}..0x{end:0width$x}")),
            Palette::paint(p.field, &format!("{name:<name_width$}")),
            Palette::paint(p.value, &hex_bytes(slice, MAX_FIELD_BYTES))
        );
    }
    out
}
