//! How a frame arrives on the command line: hex, base64 or raw bytes.
//!
//! Auto-detection: text made only of hex digits (any spacing, newlines,
//! `0x` prefixes, `:` or `,` separators) is hex; other text that is valid
//! base64 (standard or URL-safe, padded or not) is base64; anything else is
//! taken as raw bytes.

use base64::Engine as _;

/// The encoding of a frame given as input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEncoding {
    /// Detect hex, then base64, else raw.
    Auto,
    Hex,
    Base64,
    Raw,
}

/// Base64, standard or URL-safe alphabet, with or without padding,
/// whitespace ignored.
pub fn parse_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let trimmed = compact.trim_end_matches('=');
    let engines = [base64::engine::general_purpose::STANDARD_NO_PAD, base64::engine::general_purpose::URL_SAFE_NO_PAD];
    let mut last = String::new();
    for engine in engines {
        match engine.decode(trimmed) {
            Ok(bytes) => return Ok(bytes),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// The frame's bytes and the encoding they were found in.
pub fn decode_input(data: &[u8], encoding: InputEncoding) -> Result<(Vec<u8>, InputEncoding), String> {
    let text = std::str::from_utf8(data).ok();
    match encoding {
        InputEncoding::Raw => Ok((data.to_vec(), InputEncoding::Raw)),
        InputEncoding::Hex => {
            let text = text.ok_or("hex input is not text")?;
            crate::hex::parse(text).map(|b| (b, InputEncoding::Hex)).map_err(|e| format!("invalid hex: {e}"))
        }
        InputEncoding::Base64 => {
            let text = text.ok_or("base64 input is not text")?;
            parse_base64(text).map(|b| (b, InputEncoding::Base64)).map_err(|e| format!("invalid base64: {e}"))
        }
        InputEncoding::Auto => {
            if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
                if let Ok(bytes) = crate::hex::parse(text) {
                    return Ok((bytes, InputEncoding::Hex));
                }
                if let Ok(bytes) = parse_base64(text) {
                    return Ok((bytes, InputEncoding::Base64));
                }
            }
            Ok((data.to_vec(), InputEncoding::Raw))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_many_spellings() {
        let want = vec![0x90, 0xde, 0x55, 0xa4];
        for text in ["90de55a4", "90 de 55 a4\n", "0x90de55a4", "0x90 0xde 0x55 0xA4", "90:de:55:a4", "90de\n55a4\r\n"]
        {
            assert_eq!(decode_input(text.as_bytes(), InputEncoding::Auto).unwrap(), (want.clone(), InputEncoding::Hex));
        }
    }

    #[test]
    fn base64_standard_and_url_safe() {
        let bytes = vec![0x90, 0xde, 0x55, 0xa4, 0xff, 0xfe];
        for text in ["kN5VpP/+", "kN5VpP_-", "kN5VpP/+\n"] {
            assert_eq!(
                decode_input(text.as_bytes(), InputEncoding::Auto).unwrap(),
                (bytes.clone(), InputEncoding::Base64)
            );
        }
    }

    #[test]
    fn binary_is_raw_and_forcing_works() {
        let raw = [0x90, 0xde, 0x55, 0xa4, 0, 0, 0, 0];
        assert_eq!(decode_input(&raw, InputEncoding::Auto).unwrap().1, InputEncoding::Raw);
        assert_eq!(decode_input(b"abcd", InputEncoding::Raw).unwrap().0, b"abcd");
        assert!(decode_input(b"zz", InputEncoding::Hex).unwrap_err().contains("not a hex digit"));
        assert!(decode_input(b"abc", InputEncoding::Hex).unwrap_err().contains("odd number"));
    }
}
