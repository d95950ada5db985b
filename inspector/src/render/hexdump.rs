//! The frame's bytes dumped by hexyl, followed by a field map: every field
//! with its byte range and its bytes, so each byte of the dump has a name.

use std::fmt::Write as _;

use super::{offset_width, Inks, Palette};
use crate::hex::{push_byte, push_padded, push_spaced};
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
        let table = [
            hexyl::COLOR_NULL.as_str(),
            hexyl::COLOR_ASCII_PRINTABLE.as_str(),
            hexyl::COLOR_ASCII_WHITESPACE.as_str(),
            hexyl::COLOR_ASCII_OTHER.as_str(),
            hexyl::COLOR_NONASCII.as_str(),
        ];
        // Each category's colour as the first category with the same escape
        // (whitespace and other ASCII share hexyl's green): a cell starts its
        // colour only when the escape changes, as hexyl's printer does, and
        // comparing these indexes instead of the escapes themselves spares a
        // string comparison per byte.
        let mut same = [0u8; 5];
        for (i, c) in table.iter().enumerate() {
            same[i] = table.iter().position(|t| t == c).unwrap_or(i) as u8;
        }
        (hexyl::COLOR_OFFSET.as_str(), table, same)
    });
    let reset = hexyl::COLOR_RESET;
    for (row, line) in bytes.chunks(16).enumerate() {
        // The position panel: at least 8 hex digits (leading zero bytes
        // dropped, but no more than four of them).
        out.push('│');
        if let Some((offset, _, _)) = colors {
            out.push_str(offset);
        }
        let position = (row as u64 * 16).wrapping_add(display_offset).to_be_bytes();
        let skip = position.iter().take(4).take_while(|&&b| b == 0).count();
        for b in &position[skip..] {
            push_byte(&mut out, *b);
        }
        if colors.is_some() {
            out.push_str(reset);
        }
        out.push('│');
        // The hex panels, two of eight cells each; missing bytes of the
        // last line are blank.
        let mut current = NO_COLOUR;
        for (half, border) in [(0, '┊'), (8, '│')] {
            for i in half..half + 8 {
                out.push(' ');
                match line.get(i) {
                    Some(&b) => {
                        switch_colour(&mut out, &mut current, colors.as_ref(), b);
                        push_byte(&mut out, b);
                    }
                    None => out.push_str("  "),
                }
            }
            if colors.is_some() {
                current = NO_COLOUR;
                out.push_str(reset);
            }
            out.push(' ');
            out.push(border);
        }
        // The character panels.
        for (half, border) in [(0, '┊'), (8, '│')] {
            for i in half..half + 8 {
                match line.get(i) {
                    Some(&b) => {
                        switch_colour(&mut out, &mut current, colors.as_ref(), b);
                        out.push(as_char(b));
                    }
                    None => out.push(' '),
                }
            }
            if colors.is_some() {
                current = NO_COLOUR;
                out.push_str(reset);
            }
            out.push(border);
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

/// No colour started yet in [`hexyl_dump`]'s current run of cells.
const NO_COLOUR: u8 = u8::MAX;

/// Start the colour of byte `b`'s category (`colors`: the offset's colour,
/// each category's escape and which category's escape it equals, when
/// drawing in colour), unless the previous cell already left it on.
fn switch_colour(out: &mut String, current: &mut u8, colors: Option<&(&str, [&str; 5], [u8; 5])>, b: u8) {
    if let Some((_, table, same)) = colors {
        let category = category(b);
        let c = same[category];
        if *current != c {
            out.push_str(table[category]);
            *current = c;
        }
    }
}

/// hexyl's byte categories, as indexes into [`hexyl_dump`]'s colour table:
/// NUL, printable ASCII, ASCII whitespace, other ASCII, not ASCII.
/// Looked up in a table made at compile time: the chain of tests it holds
/// ran for every byte of every dump (twice: the hex and character panels),
/// and under the fuzz targets' comparison tracing each test is a call.
fn category(b: u8) -> usize {
    usize::from(CATEGORIES[usize::from(b)])
}

const CATEGORIES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = if b == 0 {
            0
        } else if b.is_ascii_graphic() {
            1
        } else if b.is_ascii_whitespace() {
            2
        } else if b.is_ascii() {
            3
        } else {
            4
        };
        i += 1;
    }
    table
};

/// hexyl's default character table, looked up (see [`category`]).
fn as_char(b: u8) -> char {
    CHARS[usize::from(b)]
}

const CHARS: [char; 256] = {
    let mut table = ['×'; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match CATEGORIES[i] {
            0 => '⋄',
            1 => b as char,
            2 if b == b' ' => ' ',
            2 => '_',
            3 => '•',
            _ => '×',
        };
        i += 1;
    }
    table
};

/// The dump and, below it, the field map drawn from `trace`.
pub fn render_hexdump(bytes: &[u8], trace: &[TraceEvent], color: bool) -> String {
    let p = Palette::new(color);
    let mut out = hexyl_dump(bytes, 0, color);
    out.push_str(&field_map(bytes, trace, &p));
    out
}

/// One field of [`field_map`]'s dotted path: a field name, or the index
/// of a vector's element (elements have no field name of their own).
#[derive(Clone, Copy)]
enum Part {
    Name(&'static str),
    Index(usize),
}

/// One line per byte-carrying field: range, dotted path, bytes.
///
/// The names are written into one buffer and each row keeps its range of
/// it (a string per row, per path part and per index before: the map is
/// drawn for every request and answer the report shows).
pub fn field_map(bytes: &[u8], trace: &[TraceEvent], p: &Palette) -> String {
    let width = offset_width(bytes.len());
    let e = Inks::new(p);
    // (start, end, the name's range in `names`, its width in characters)
    let mut rows: Vec<(usize, usize, std::ops::Range<usize>, usize)> = Vec::with_capacity(trace.len());
    let mut names = String::with_capacity(trace.len() * 24);
    // The open objects and vectors, and for a vector the index of its next
    // element.
    let mut path: Vec<(Part, Option<usize>)> = Vec::new();
    for ev in trace {
        path.truncate(ev.depth);
        let own = match path.last_mut() {
            Some((_, Some(next))) => {
                *next += 1;
                Part::Index(*next - 1)
            }
            _ => Part::Name(ev.field),
        };
        let from = names.len();
        let span = match &ev.value {
            TraceValue::Object(ctor) => {
                push_dotted(&mut names, &path, own);
                if names.len() > from {
                    names.push(' ');
                }
                let _ = write!(names, "constructor {}#{:08x}", ctor.name, ctor.id);
                path.push((own, None));
                Some((ev.start, ev.start + 4))
            }
            TraceValue::Bare(_) => {
                path.push((own, None));
                None
            }
            TraceValue::Vector { count, boxed } => {
                let header = if *boxed { 8 } else { 4 };
                let what = if *boxed { "vector id and count" } else { "vector count" };
                // `{dotted} {what} ({count})`, without the space when the
                // path is empty.
                push_dotted(&mut names, &path, own);
                if names.len() > from {
                    names.push(' ');
                }
                let _ = write!(names, "{what} ({count})");
                path.push((own, Some(0)));
                Some((ev.start, ev.start + header))
            }
            TraceValue::TrueFlag(_) | TraceValue::Absent => None,
            _ => {
                push_dotted(&mut names, &path, own);
                Some((ev.start, ev.end))
            }
        };
        if let Some((start, end)) = span {
            let chars = names[from..].chars().count();
            rows.push((start, end, from..names.len(), chars));
        }
    }
    let name_width = rows.iter().map(|r| r.3).max().unwrap_or(0);
    let mut out = String::with_capacity(16 + rows.len() * (2 * width + name_width + 3 * MAX_FIELD_BYTES + 16));
    out.push_str("\nfield map:\n");
    for (start, end, name, chars) in rows {
        let slice = bytes.get(start..end).unwrap_or_default();
        out.push_str("  ");
        // Each cell is what `Palette::paint` draws of
        // `0x{start:0width$x}..0x{end:0width$x}`, `{name:<name_width$}` and
        // `hex_bytes(slice, MAX_FIELD_BYTES)`, written in place.
        e.dim.open(&mut out);
        out.push_str("0x");
        push_padded(&mut out, start, width);
        out.push_str("..0x");
        push_padded(&mut out, end, width);
        e.dim.close(&mut out);
        out.push_str("  ");
        e.field.open(&mut out);
        out.push_str(&names[name]);
        out.extend(std::iter::repeat_n(' ', name_width - chars));
        e.field.close(&mut out);
        out.push_str("  ");
        e.value.open(&mut out);
        push_spaced(&mut out, slice, MAX_FIELD_BYTES);
        e.value.close(&mut out);
        out.push('\n');
    }
    out
}

/// The non-empty names of `path`, then `last` unless empty, joined by dots,
/// appended to `out`.
fn push_dotted(out: &mut String, path: &[(Part, Option<usize>)], last: Part) {
    let from = out.len();
    for part in path.iter().map(|(part, _)| *part).chain(std::iter::once(last)) {
        match part {
            Part::Name("") => continue,
            _ if out.len() > from => out.push('.'),
            _ => {}
        }
        match part {
            Part::Name(name) => out.push_str(name),
            Part::Index(i) => {
                let _ = write!(out, "{i}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::{field_map, hexyl_dump, hexyl_printer_dump, Palette};
    use crate::render::{hex_bytes, offset_width};
    use crate::tl::{TraceEvent, TraceValue};

    /// The field map as it was written before it kept its names in one
    /// buffer (a string per row, per path part and per index): the
    /// reference [`field_map`] is held to, byte for byte.
    fn field_map_reference(bytes: &[u8], trace: &[TraceEvent], p: &Palette) -> String {
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
        let width = offset_width(bytes.len());
        let mut rows: Vec<(usize, usize, String)> = Vec::new();
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
        let mut out = String::from("\nfield map:\n");
        for (start, end, name) in rows {
            let slice = bytes.get(start..end).unwrap_or_default();
            out.push_str("  ");
            out.push_str(&Palette::paint(p.dim, &format!("0x{start:0width$x}..0x{end:0width$x}")));
            out.push_str("  ");
            out.push_str(&Palette::paint(p.field, &format!("{name:<name_width$}")));
            out.push_str("  ");
            out.push_str(&Palette::paint(p.value, &hex_bytes(slice, 24)));
            out.push('\n');
        }
        out
    }

    /// Traces of every shape the decoders record: accepted frames, frames
    /// cut short, lenient decodes, a vector of every kind (the schema
    /// decoder's), in both palettes.
    #[test]
    fn the_field_map_is_the_references() {
        use crate::tl::dynamic::Schema;
        use crate::tl::{decode_traced, DecodeOptions, Frame, Recorder};
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        // A fixed pseudo-random stream (xorshift), so that a failure repeats.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // The frame's constructors, and two of the schema's with vectors
        // (boxed: msgs_ack; bare: future_salts).
        let ids: [u32; 8] =
            [0xa455de90, 0xa22cbd96, 0x2464a5a6, 0x2144ca19, 0xdde8a54c, 0x0f8e62c5, 0x62d6b459, 0xae500895];
        for _ in 0..3000 {
            let len = (next() % 160) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if bytes.len() >= 4 {
                let id = ids[(next() % ids.len() as u64) as usize];
                bytes[..4].copy_from_slice(&id.to_le_bytes());
            }
            if bytes.len() >= 12 && next() % 2 == 0 {
                // msgs_ack's vector, of a few elements.
                bytes[4..8].copy_from_slice(&0x1cb5c415u32.to_le_bytes());
                bytes[8..12].copy_from_slice(&((next() % 5) as u32).to_le_bytes());
            }
            if bytes.len() >= 20 && next() % 2 == 0 {
                // future_salts' bare vector, of a few elements.
                bytes[16..20].copy_from_slice(&((next() % 4) as u32).to_le_bytes());
            }
            inputs.push(bytes);
        }
        let mut compared = 0;
        let mut recorder = Recorder::default();
        for bytes in &inputs {
            for options in [DecodeOptions::strict(), DecodeOptions::lenient()] {
                let traced = decode_traced::<Frame>(bytes, options);
                let _ = Schema::builtin().decode_traced(bytes, options, &mut recorder);
                for trace in [&traced.trace, &recorder.events] {
                    for p in [Palette::new(false), Palette::new(true)] {
                        assert_eq!(field_map(bytes, trace, &p), field_map_reference(bytes, trace, &p), "{bytes:02x?}");
                        compared += usize::from(!trace.is_empty());
                    }
                }
            }
        }
        assert!(compared > 0);
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
