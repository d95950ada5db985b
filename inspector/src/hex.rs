//! Hex text, both ways: the one place that reads and writes it (keys,
//! secrets, frames pasted on the command line, bytes in messages and JSON).

use std::fmt::Write as _;

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

/// Lowercase hex digits, no separators: `90de55a4`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Lowercase hex bytes separated by spaces, cut after `max` bytes with `…`:
/// `90 de 55 a4 …`.
pub fn spaced(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max) * 3 + 4);
    for (i, b) in bytes.iter().take(max).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    if bytes.len() > max {
        out.push_str(" …");
    }
    out
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
}
