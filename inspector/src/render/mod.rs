//! Renderers: the parameter tree, the annotated hex dump, the schema view and
//! the `--explain` view of a failed decode.
//! They draw from a decoder trace, so every line can name its bytes.

pub mod hexdump;
pub mod schema;
pub mod summary;
pub mod tree;

use anstyle::{AnsiColor, Style};

use crate::tl::DecodeError;

/// Colours for terminal output; every style is empty when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub ctor: Style,
    pub field: Style,
    pub ty: Style,
    pub value: Style,
    pub dim: Style,
    pub bad: Style,
}

impl Palette {
    pub fn new(color: bool) -> Self {
        if !color {
            let plain = Style::new();
            return Palette { ctor: plain, field: plain, ty: plain, value: plain, dim: plain, bad: plain };
        }
        Palette {
            ctor: Style::new().bold().fg_color(Some(AnsiColor::Cyan.into())),
            field: Style::new().bold(),
            ty: Style::new().fg_color(Some(AnsiColor::Blue.into())),
            value: Style::new().fg_color(Some(AnsiColor::Green.into())),
            dim: Style::new().dimmed(),
            bad: Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        }
    }

    /// `text` in `style`.
    pub fn paint(style: Style, text: &str) -> String {
        if style == Style::new() {
            text.to_string()
        } else {
            format!("{style}{text}{style:#}")
        }
    }
}

/// A unix time as a UTC date, or a note when it is out of range.
pub fn utc_date(secs: i64) -> String {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => "out of range as a date".to_string(),
    }
}

/// Text shown quoted and escaped, cut after `max_chars` characters.
pub fn quote_text(text: &str, max_chars: usize) -> String {
    let mut shown: String = text.chars().take(max_chars).collect();
    let cut = shown.len() < text.len();
    shown = format!("{shown:?}");
    if cut {
        shown.push('…');
    }
    shown
}

/// Bytes as spaced hex, cut after `max` bytes.
pub fn hex_bytes(bytes: &[u8], max: usize) -> String {
    crate::hex::spaced(bytes, max)
}

/// Width in hex digits of offsets into a buffer of `len` bytes (at least 4).
pub fn offset_width(len: usize) -> usize {
    let mut w = 4;
    while w < 16 && (len >> (4 * w)) > 0 {
        w += 1;
    }
    w
}

/// The bytes around `offset`, 16 to a row, with `bad_len` bytes from
/// `offset` in brackets (and red with colour). Written here rather than with
/// hexyl because hexyl cannot mark an arbitrary byte range.
pub fn marked_window(bytes: &[u8], offset: usize, bad_len: usize, color: bool) -> String {
    let p = Palette::new(color);
    let width = offset_width(bytes.len());
    let bad = offset..offset + bad_len.max(1);
    let first_row = offset.saturating_sub(32) / 16 * 16;
    let last_row = (offset + bad_len.max(1) + 32).min(bytes.len().max(offset + 1)).div_ceil(16) * 16;
    let mut out = String::new();
    for row in (first_row..last_row).step_by(16) {
        if row >= bytes.len() && row > offset {
            break;
        }
        out.push_str(&Palette::paint(p.dim, &format!("0x{row:0width$x} ")));
        for i in row..row + 16 {
            let cell = match bytes.get(i) {
                Some(b) => format!("{b:02x}"),
                None if i == offset => "<end>".to_string(),
                None => break,
            };
            let is_bad = bad.contains(&i);
            let open = is_bad && (i == bad.start || i == row);
            let close = is_bad && (i + 1 == bad.end || i + 1 == row + 16 || i + 1 == bytes.len());
            out.push(if open { '[' } else { ' ' });
            out.push_str(&if is_bad { Palette::paint(p.bad, &cell) } else { cell });
            if close {
                out.push(']');
            }
        }
        out.push('\n');
    }
    out
}

/// What `--explain` adds to a failed decode: the partial tree and the bytes
/// around the failing offset, the bad ones marked.
pub fn explain(bytes: &[u8], trace: &[crate::tl::TraceEvent], error: &DecodeError, color: bool) -> String {
    let mut out = String::new();
    if trace.is_empty() {
        out.push_str("\nnothing was decoded before the failure\n");
    } else {
        out.push_str("\ndecoded up to the failure:\n");
        let fields = crate::tl::with_flag_fields(trace, Some(error));
        out.push_str(&tree::render_tree(bytes, &fields, color));
    }
    out.push_str(&format!("\nbytes around 0x{:x} (the bad ones in [brackets]):\n", error.offset));
    out.push_str(&marked_window(
        bytes,
        error.offset,
        error.problem.bad_len(bytes.len() - error.offset.min(bytes.len())),
        color,
    ));
    out
}
