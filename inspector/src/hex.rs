//! Hex text, both ways: the one place that reads and writes it (keys,
//! secrets, frames pasted on the command line, bytes in messages and JSON).

/// Hex digits with any spacing, newlines, `0x` prefixes and `:`/`,` separators.
pub fn parse(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::with_capacity(text.len());
    for token in text.split(|c: char| c.is_whitespace() || c == ':' || c == ',') {
        let token = token.strip_prefix("0x").or_else(|| token.strip_prefix("0X")).unwrap_or(token);
        for c in token.chars() {
            match c.to_digit(16) {
                Some(d) => digits.push(d as u8),
                None => return Err(format!("{c:?} is not a hex digit")),
            }
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// The lowercase hex digits, by value.
const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `b` as two lowercase hex digits.
pub fn digits(b: u8) -> [u8; 2] {
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]
}

/// `b` as two lowercase hex digits, appended to `out` (`{b:02x}` without
/// `core::fmt`: the renderers write one per byte they show).
pub fn push_byte(out: &mut String, b: u8) {
    let [high, low] = digits(b);
    out.push(char::from(high));
    out.push(char::from(low));
}

/// Lowercase hex digits, no separators: `90de55a4`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_encoded(&mut out, bytes);
    out
}

/// [`encode`], appended to `out`.
pub fn push_encoded(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        push_byte(out, b);
    }
}

/// Lowercase hex bytes separated by spaces, cut after `max` bytes with `…`:
/// `90 de 55 a4 …`.
pub fn spaced(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max) * 3 + 4);
    push_spaced(&mut out, bytes, max);
    out
}

/// [`spaced`], appended to `out`.
pub fn push_spaced(out: &mut String, bytes: &[u8], max: usize) {
    for (i, &b) in bytes.iter().take(max).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_byte(out, b);
    }
    if bytes.len() > max {
        out.push_str(" …");
    }
}

/// `n` in lowercase hex, zero-padded to `width` digits, appended to `out`:
/// what `{n:0width$x}` writes, without `core::fmt` (the tree and the field
/// map write two per line).
pub fn push_padded(out: &mut String, n: usize, width: usize) {
    let len = ((usize::BITS - n.leading_zeros()).div_ceil(4) as usize).max(1);
    out.extend(std::iter::repeat_n('0', width.saturating_sub(len)));
    for place in (0..len).rev() {
        out.push(char::from(DIGITS[(n >> (4 * place)) & 15]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_spellings_parse_alike() {
        let want = vec![0x90, 0xde, 0x55, 0xa4];
        for text in ["90de55a4", "90 de 55 a4\n", "0x90de55a4", "0x90 0xde 0x55 0xA4", "90:de:55:a4", "90de\n55a4\r\n"]
        {
            assert_eq!(parse(text).unwrap(), want, "{text:?}");
        }
        assert_eq!(parse("zz").unwrap_err(), "'z' is not a hex digit");
        assert_eq!(parse("abc").unwrap_err(), "odd number of hex digits (3)");
    }

    #[test]
    fn written_forms() {
        assert_eq!(encode(&[0x90, 0x0d, 0xff]), "900dff");
        assert_eq!(spaced(&[0x90, 0x0d, 0xff], 8), "90 0d ff");
        assert_eq!(spaced(&[0x90, 0x0d, 0xff], 2), "90 0d …");
        assert_eq!(spaced(&[], 2), "");
        assert_eq!(parse(&encode(&[1, 2, 254])).unwrap(), [1, 2, 254]);
    }

    /// The table-driven writers give what `core::fmt` writes, for every
    /// byte and for offsets of every width.
    #[test]
    fn written_as_fmt_writes() {
        let all: Vec<u8> = (0..=255u8).collect();
        let fmt: Vec<String> = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(encode(&all), fmt.concat());
        for len in [0, 1, 2, 23, 24, 25, 256] {
            for max in [0, 1, 24, 32, 256] {
                let cut = if len > max { " …" } else { "" };
                assert_eq!(spaced(&all[..len], max), format!("{}{cut}", fmt[..len.min(max)].join(" ")));
            }
        }
        for n in [0, 1, 15, 16, 255, 0x1234, 0xffff, 0x10000, 0xdead_beef, usize::MAX] {
            for width in [0, 1, 4, 5, 8, 16, 20] {
                let mut out = String::from("x");
                push_padded(&mut out, n, width);
                assert_eq!(out, format!("x{n:0width$x}"));
            }
        }
    }
}
