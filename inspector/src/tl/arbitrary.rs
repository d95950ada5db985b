//! `Arbitrary` values for the fuzz targets and for generated tests.
//!
//! The closure's types derive `Arbitrary`, except where a derive would not
//! do: values of a recursive type (peers) nest only to a bounded depth (a
//! derived recursive enum could nest as deep as the input is long), which
//! `build.rs` generates from `tl/closure.tl`; and strings, written here, are
//! drawn from length classes that exercise both length forms and their
//! boundaries, and multi-byte UTF-8.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::types::{InputPeer, TlString};

/// How deep values of a recursive type (`*FromMessage` peers) nest at most.
pub const MAX_ARBITRARY_DEPTH: usize = 6;

/// The longest arbitrary string: past the 254-byte boundary of the long
/// length form, and a few of its multiples (TL's 16 MiB limit scaled down).
pub const MAX_ARBITRARY_STRING_LEN: usize = 1200;

/// The first of [`PIECES`], as a character.
const FILL: char = 'a';
const _: () = assert!(PIECES[0].len() == 1 && PIECES[0].as_bytes()[0] == FILL as u8);
const PIECES: &[&str] = &["a", "t", " ", "é", "ü", "招", "待", "с", "🔗", "#", "0", "\u{7f}", "\n", "\u{fffd}"];

impl<'a> Arbitrary<'a> for TlString {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let len = match u.int_in_range(0u8..=5)? {
            0 => 0,
            1 => u.int_in_range(1..=253)?,
            2 => *u.choose(&[252usize, 253, 254, 255, 256, 257, 1020, 1024])?,
            3 => u.int_in_range(254..=MAX_ARBITRARY_STRING_LEN)?,
            // Text straight from the input, as long as it is UTF-8.
            4 => return Ok(TlString::from(<&str>::arbitrary(u)?.chars().take(400).collect::<String>())),
            _ => u.int_in_range(1..=64)?,
        };
        // Build text of about `len` bytes from single- and multi-byte pieces.
        let mut s = String::with_capacity(len + 4);
        let single_byte = u.arbitrary::<bool>()?;
        if single_byte {
            s.extend(std::iter::repeat_n('x', len));
            return Ok(TlString::from(s));
        }
        while s.len() < len && !u.is_empty() {
            let piece = *u.choose(PIECES)?;
            if s.len() + piece.len() > len {
                s.push('x');
            } else {
                s.push_str(piece);
            }
        }
        // With the input used up, every piece drawn would be the first
        // (`choose` takes the start of its range from no data), one byte
        // each: written at once rather than a piece at a time, which made
        // strings of a thousand bytes a tenth of the conversation fuzz
        // target's time (each piece a checked copy under AddressSanitizer).
        s.extend(std::iter::repeat_n(FILL, len - s.len()));
        Ok(TlString::from(s))
    }
}

include!(concat!(env!("OUT_DIR"), "/arbitrary.rs"));
