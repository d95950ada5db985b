//! Renderers: the parameter tree, the annotated hex dump, the schema view and
//! the `--explain` view of a failed decode.
//! They draw from a decoder trace, so every line can name its bytes.

pub mod hexdump;
pub mod schema;
pub mod summary;
pub mod tree;

use std::borrow::Cow;

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

    /// [`Palette::paint`], appended to `out`.
    pub fn paint_into(out: &mut String, style: Style, text: &str) {
        use std::fmt::Write as _;
        if style == Style::new() {
            out.push_str(text);
        } else {
            let _ = write!(out, "{style}{text}{style:#}");
        }
    }

    /// [`Palette::paint_into`] of formatted text, written straight into
    /// `out` (`paint_into(out, style, &format!(..))` without the string
    /// in between: the tree paints several formatted values per line).
    pub fn paint_fmt(out: &mut String, style: Style, args: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        if style == Style::new() {
            let _ = out.write_fmt(args);
        } else {
            let _ = write!(out, "{style}{args}{style:#}");
        }
    }
}

/// One style of a [`Palette`] as the escapes that start and end it, which
/// the tree and the field map write around each cell: what
/// [`Palette::paint_into`] draws, with the text written in place. The
/// escapes are found once per drawing ([`Inks::new`]), not per cell:
/// anstyle formats a style through `core::fmt` with a 4 KiB buffer on the
/// stack, and comparing two styles takes a dozen comparisons, on every
/// cell of every line (FUZZING.md, "Seventh round").
#[derive(Debug, Clone)]
pub(crate) struct Ink {
    plain: bool,
    open: Cow<'static, str>,
    close: Cow<'static, str>,
}

impl Ink {
    /// The escapes of `style`, as anstyle writes them (`{style}` and
    /// `{style:#}`): those of the colour palette are written once per
    /// process, any other style when asked for.
    pub(crate) fn of(style: Style) -> Ink {
        static COLOUR: std::sync::OnceLock<Vec<(Style, String, String)>> = std::sync::OnceLock::new();
        if style == Style::new() {
            return Ink { plain: true, open: Cow::Borrowed(""), close: Cow::Borrowed("") };
        }
        let table = COLOUR.get_or_init(|| {
            let p = Palette::new(true);
            [p.ctor, p.field, p.ty, p.value, p.dim, p.bad]
                .into_iter()
                .map(|style| (style, format!("{style}"), format!("{style:#}")))
                .collect()
        });
        match table.iter().find(|(s, _, _)| *s == style) {
            Some((_, open, close)) => Ink { plain: false, open: Cow::Borrowed(open), close: Cow::Borrowed(close) },
            None => Ink { plain: false, open: Cow::Owned(format!("{style}")), close: Cow::Owned(format!("{style:#}")) },
        }
    }

    /// Whether the style is the empty one (no colour).
    pub(crate) fn is_plain(&self) -> bool {
        self.plain
    }

    /// Start the style.
    pub(crate) fn open(&self, out: &mut String) {
        out.push_str(&self.open);
    }

    /// End the style.
    pub(crate) fn close(&self, out: &mut String) {
        out.push_str(&self.close);
    }

    /// [`Palette::paint_into`].
    pub(crate) fn paint(&self, out: &mut String, text: &str) {
        self.open(out);
        out.push_str(text);
        self.close(out);
    }

    /// [`Palette::paint_fmt`].
    pub(crate) fn paint_fmt(&self, out: &mut String, args: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        self.open(out);
        let _ = out.write_fmt(args);
        self.close(out);
    }
}

/// The [`Ink`]s of a palette's styles.
#[derive(Debug, Clone)]
pub(crate) struct Inks {
    pub ctor: Ink,
    pub field: Ink,
    pub ty: Ink,
    pub value: Ink,
    pub dim: Ink,
    pub bad: Ink,
}

impl Inks {
    pub(crate) fn new(p: &Palette) -> Inks {
        Inks {
            ctor: Ink::of(p.ctor),
            field: Ink::of(p.field),
            ty: Ink::of(p.ty),
            value: Ink::of(p.value),
            dim: Ink::of(p.dim),
            bad: Ink::of(p.bad),
        }
    }
}

/// A unix time as a UTC date, or a note when it is out of range.
pub fn utc_date(secs: i64) -> String {
    let mut date = String::with_capacity(24);
    push_utc_date(&mut date, secs);
    date
}

/// [`utc_date`], appended to `out`: `%Y-%m-%d %H:%M:%S UTC` written digit
/// by digit for years 0 to 9999 (chrono parses the format string on every
/// call, and the text report dates every time field), by chrono otherwise.
pub fn push_utc_date(out: &mut String, secs: i64) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write as _;
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) if (0..=9999).contains(&t.year()) => {
            push_digits(out, t.year().unsigned_abs(), 4);
            let parts = [('-', t.month()), ('-', t.day()), (' ', t.hour()), (':', t.minute()), (':', t.second())];
            for (separator, n) in parts {
                out.push(separator);
                push_digits(out, n, 2);
            }
            out.push_str(" UTC");
        }
        Some(t) => {
            let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S UTC"));
        }
        None => out.push_str("out of range as a date"),
    }
}

/// The last `width` decimal digits of `n`, zero-padded (dates and times,
/// written without `core::fmt`: the reports write one or more per message).
pub(crate) fn push_digits(text: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        text.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

/// Text shown quoted and escaped, cut after `max_chars` characters.
pub fn quote_text(text: &str, max_chars: usize) -> String {
    let mut shown = String::with_capacity(text.len().min(4 * max_chars) + 8);
    push_quoted(&mut shown, text, max_chars);
    shown
}

/// [`quote_text`], appended to `out`.
pub fn push_quoted(out: &mut String, text: &str, max_chars: usize) {
    use std::fmt::Write as _;
    let shown = match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    let _ = write!(out, "{shown:?}");
    if shown.len() < text.len() {
        out.push('…');
    }
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
    let mut out = String::with_capacity((last_row - first_row) / 16 * (width + 4 + 16 * 3 + 16) + 16);
    for row in (first_row..last_row).step_by(16) {
        if row >= bytes.len() && row > offset {
            break;
        }
        Palette::paint_fmt(&mut out, p.dim, format_args!("0x{row:0width$x} "));
        for i in row..row + 16 {
            let mut digits = [0u8; 2];
            let cell = match bytes.get(i) {
                Some(&b) => byte_digits(b, &mut digits),
                None if i == offset => "<end>",
                None => break,
            };
            let is_bad = bad.contains(&i);
            let open = is_bad && (i == bad.start || i == row);
            let close = is_bad && (i + 1 == bad.end || i + 1 == row + 16 || i + 1 == bytes.len());
            out.push(if open { '[' } else { ' ' });
            if is_bad {
                Palette::paint_into(&mut out, p.bad, cell);
            } else {
                out.push_str(cell);
            }
            if close {
                out.push(']');
            }
        }
        out.push('\n');
    }
    out
}

/// `b` as two lowercase hex digits (`format!("{b:02x}")` without the string).
fn byte_digits(b: u8, digits: &mut [u8; 2]) -> &str {
    *digits = crate::hex::digits(b);
    std::str::from_utf8(digits).unwrap_or_default()
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
    let _ = std::fmt::Write::write_fmt(
        &mut out,
        format_args!("\nbytes around 0x{:x} (the bad ones in [brackets]):\n", error.offset),
    );
    out.push_str(&marked_window(
        bytes,
        error.offset,
        error.problem.bad_len(bytes.len() - error.offset.min(bytes.len())),
        color,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::{Ink, Inks, Palette};

    /// A cell painted with an [`Ink`] is what [`Palette::paint`] draws, in
    /// every style of both palettes.
    #[test]
    fn cells_are_painted_as_the_palette_paints() {
        for p in [Palette::new(false), Palette::new(true)] {
            let inks = Inks::new(&p);
            let pairs = [
                (p.ctor, &inks.ctor),
                (p.field, &inks.field),
                (p.ty, &inks.ty),
                (p.value, &inks.value),
                (p.dim, &inks.dim),
                (p.bad, &inks.bad),
            ];
            for (style, ink) in pairs {
                let text = "a.b.0.c     |0x002a";
                let mut out = String::from("x");
                ink.paint(&mut out, text);
                assert_eq!(out, format!("x{}", Palette::paint(style, text)));
                let mut out = String::from("x");
                ink.paint_fmt(&mut out, format_args!("{text}|{}", 42));
                let mut expected = String::from("x");
                Palette::paint_fmt(&mut expected, style, format_args!("{text}|{}", 42));
                assert_eq!(out, expected);
                assert_eq!(ink.is_plain(), style == anstyle::Style::new());
            }
        }
    }

    /// A style of no palette is painted as anstyle writes it too.
    #[test]
    fn other_styles_are_painted_as_the_palette_paints() {
        use anstyle::{AnsiColor, Style};
        for style in [Style::new().italic(), Style::new().fg_color(Some(AnsiColor::Magenta.into())).underline()] {
            let mut out = String::new();
            Ink::of(style).paint(&mut out, "text");
            assert_eq!(out, format!("{style}text{style:#}"));
        }
    }
}
