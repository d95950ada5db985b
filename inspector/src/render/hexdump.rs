//! The frame's bytes dumped by hexyl, followed by a field map: every field
//! with its byte range and its bytes, so each byte of the dump has a name.

use std::fmt::Write as _;

use anstyle::Style;

use super::{hex_bytes, offset_width, Palette};
use crate::tl::{TraceEvent, TraceValue};

/// Bytes of one field shown in the field map before it is cut.
const MAX_FIELD_BYTES: usize = 24;

/// A hexyl dump of `bytes` (offsets shifted by `display_offset`): exactly
/// what `hexyl::PrinterBuilder` draws with two panels, the position and
/// character panels, Unicode borders and no squeezing, in hexyl's colours
/// (which its `HEXYL_COLOR_*` variables may change).
///
/// Written here rather than drawn by hexyl's `Printer` for speed: building
/// a printer formats 768 strings (its per-byte cell tables) and it cannot be
/// kept between dumps (it borrows its writer and keeps the state of the
/// last dump): that set-up was about a sixth of the `render` fuzz target's
/// time (FUZZING.md, "Speed"). The unit test below holds this to hexyl's
/// output byte for byte.
pub fn hexyl_dump(bytes: &[u8], display_offset: u64, color: bool) -> String {
    if bytes.is_empty() {
        // hexyl's "No content" box: rare, so drawn by hexyl itself.
        return hexyl_printer_dump(bytes, display_offset, color);
    }
    const HEADER: &str = "┌────────┬─────────────────────────┬─────────────────────────┬────────┬────────┐\n";
    const FOOTER: &str = "└────────┴─────────────────────────┴─────────────────────────┴────────┴────────┘\n";
    // Per line: 2 + 8 + 3 × 16 + 4 + 16 × 2 (a character cell is at most 2
    // bytes) + 4 + 1; colour adds escapes.
    let per_line = if color { 300 } else { 110 };
    let mut out = String::with_capacity(HEADER.len() + FOOTER.len() + bytes.len().div_ceil(16) * per_line);
    out.push_str(HEADER);
    let colors = color.then(|| {
        (
            hexyl::COLOR_OFFSET.as_str(),
            [
                hexyl::COLOR_NULL.as_str(),
                hexyl::COLOR_ASCII_PRINTABLE.as_str(),
                hexyl::COLOR_ASCII_WHITESPACE.as_str(),
                hexyl::COLOR_ASCII_OTHER.as_str(),
                hexyl::COLOR_NONASCII.as_str(),
            ],
        )
    });
    let reset = hexyl::COLOR_RESET;
    for (row, line) in bytes.chunks(16).enumerate() {
        // The position panel: at least 8 hex digits (leading zero bytes
        // dropped, but no more than four of them).
        out.push('│');
        if let Some((offset, _)) = colors {
            out.push_str(offset);
        }
        let position = (row as u64 * 16).wrapping_add(display_offset).to_be_bytes();
        let skip = position.iter().take(4).take_while(|&&b| b == 0).count();
        for b in &position[skip..] {
            push_hex(&mut out, *b);
        }
        if colors.is_some() {
            out.push_str(reset);
        }
        out.push('│');
        // The hex panels; missing bytes of the last line are blank.
        let mut current: Option<&str> = None;
        for i in 0..16 {
            out.push(' ');
            match line.get(i) {
                Some(&b) => {
                    switch_colour(&mut out, &mut current, colors.as_ref().map(|(_, table)| table), b);
                    push_hex(&mut out, b);
                }
                None => out.push_str("  "),
            }
            if i % 8 == 7 {
                if colors.is_some() {
                    current = None;
                    out.push_str(reset);
                }
                out.push(' ');
                out.push(if i == 15 { '│' } else { '┊' });
            }
        }
        // The character panels.
        for i in 0..16 {
            match line.get(i) {
                Some(&b) => {
                    switch_colour(&mut out, &mut current, colors.as_ref().map(|(_, table)| table), b);
                    out.push(as_char(b));
                }
                None => out.push(' '),
            }
            if i % 8 == 7 {
                if colors.is_some() {
                    current = None;
                    out.push_str(reset);
                }
                out.push(if i == 15 { '│' } else { '┊' });
            }
        }
        out.push('\n');
    }
    out.push_str(FOOTER);
    out
}

/// hexyl's own printer, configured as [`hexyl_dump`] draws.
fn hexyl_printer_dump(bytes: &[u8], display_offset: u64, color: bool) -> String {
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

/// Start the colour of byte `b`'s category (`table`, when drawing in
/// colour), unless the previous cell already left it on.
fn switch_colour<'c>(out: &mut String, current: &mut Option<&'c str>, table: Option<&[&'c str; 5]>, b: u8) {
    if let Some(table) = table {
        let c = table[category(b)];
        if *current != Some(c) {
            out.push_str(c);
            *current = Some(c);
        }
    }
}

fn push_hex(out: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push(char::from(DIGITS[usize::from(b >> 4)]));
    out.push(char::from(DIGITS[usize::from(b & 15)]));
}

/// hexyl's byte categories, as indexes into [`hexyl_dump`]'s colour table:
/// NUL, printable ASCII, ASCII whitespace, other ASCII, not ASCII.
fn category(b: u8) -> usize {
    if b == 0 {
        0
    } else if b.is_ascii_graphic() {
        1
    } else if b.is_ascii_whitespace() {
        2
    } else if b.is_ascii() {
        3
    } else {
        4
    }
}

/// hexyl's default character table.
fn as_char(b: u8) -> char {
    match category(b) {
        0 => '⋄',
        1 => char::from(b),
        2 if b == b' ' => ' ',
        2 => '_',
        3 => '•',
        _ => '×',
    }
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
        match &ev.value {
            TraceValue::Object(ctor) => {
                let mut name = dotted(&path, &own);
                if !name.is_empty() {
                    name.push(' ');
                }
                let _ = write!(name, "constructor {}", ctor.display_id());
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
                    format!("{} {what} ({count})", dotted(&path, &own)).trim_start().to_string(),
                ));
                path.push((own, Some(0)));
            }
            TraceValue::TrueFlag(_) | TraceValue::Absent => {}
            _ => rows.push((ev.start, ev.end, dotted(&path, &own))),
        }
    }
    let name_width = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
    let mut out = String::with_capacity(16 + rows.len() * (2 * width + name_width + 3 * MAX_FIELD_BYTES + 16));
    out.push_str("\nfield map:\n");
    for (start, end, name) in rows {
        let slice = bytes.get(start..end).unwrap_or_default();
        out.push_str("  ");
        paint(&mut out, p.dim, format_args!("0x{start:0width$x}..0x{end:0width$x}"));
        out.push_str("  ");
        paint(&mut out, p.field, format_args!("{name:<name_width$}"));
        out.push_str("  ");
        paint(&mut out, p.value, format_args!("{}", hex_bytes(slice, MAX_FIELD_BYTES)));
        out.push('\n');
    }
    out
}

/// The non-empty names of `path`, then `last` unless empty, joined by dots.
fn dotted(path: &[(String, Option<usize>)], last: &str) -> String {
    let mut out = String::new();
    for part in path.iter().map(|(s, _)| s.as_str()).chain(std::iter::once(last)) {
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

/// What [`Palette::paint`] draws, written into `out` instead of a new string.
fn paint(out: &mut String, style: Style, text: std::fmt::Arguments<'_>) {
    // Writing into a String cannot fail.
    if style == Style::new() {
        let _ = out.write_fmt(text);
    } else {
        let _ = write!(out, "{style}{text}{style:#}");
    }
}

#[cfg(test)]
mod tests {
    use super::{hexyl_dump, hexyl_printer_dump, paint, Palette};

    /// The field map's cells are what [`Palette::paint`] draws, in every
    /// style of both palettes.
    #[test]
    fn cells_are_painted_as_the_palette_paints() {
        for p in [Palette::new(false), Palette::new(true)] {
            for style in [p.ctor, p.field, p.ty, p.value, p.dim, p.bad] {
                let name = "a.b.0.c";
                let mut out = String::from("x");
                paint(&mut out, style, format_args!("{name:<12}|0x{:04x}", 42));
                assert_eq!(out, format!("x{}", Palette::paint(style, &format!("{name:<12}|0x{:04x}", 42))));
            }
        }
    }

    /// The dump is hexyl's, byte for byte: every byte value, every length
    /// of a last line, in colour and not, at offsets that need more than
    /// eight digits.
    #[test]
    fn the_dump_is_hexyls() {
        let every_byte: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        let mut inputs: Vec<&[u8]> = (0..=48).map(|n| &every_byte[..n]).collect();
        inputs.push(&every_byte);
        inputs.push(&every_byte[3..301]);
        let long: Vec<u8> = (0..8200u32).map(|i| (i * 7 % 251) as u8).collect();
        inputs.push(&long);
        inputs.push(&long[..8192]);
        // Runs of one category, so colours that do not change are not repeated.
        inputs.push(b"\0\0\0 \t\n\x01\x02\x7fabc\x80\xff\xfe");
        for bytes in inputs {
            for offset in [0, 5, 0xffff_fff0, (1 << 32) + 3, 0x0123_4567_89ab_cdef] {
                for color in [false, true] {
                    assert_eq!(
                        hexyl_dump(bytes, offset, color),
                        hexyl_printer_dump(bytes, offset, color),
                        "{} bytes at offset {offset:#x}, colour {color}",
                        bytes.len()
                    );
                }
            }
        }
    }
}
