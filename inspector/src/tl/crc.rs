//! The rule that derives a TL constructor id from its line, written once:
//! `build.rs` includes this file (`#[path]`) to check the closure's ids, and
//! the run-time [`Schema`](super::dynamic::Schema) checks every line it loads
//! with it.

/// The id TL derives from a line: the CRC32 (IEEE) of the line without its
/// `#id`, with the `flags.N?true` fields left out, `bytes` hashed as
/// `string`, and the `<>{}` of generic types dropped. (grammers-tl-parser
/// infers ids too, but its rewrite of `bytes` gives a different hash for
/// `gzip_packed`, so the rule is spelled out here.)
///
/// `line` is one definition, whitespace-normalized or not, without its `;`.
pub fn tl_crc(line: &str) -> u32 {
    // The hashed text is built in one buffer (every schema load hashes each
    // of its ~2,000 lines: a string per word was a fifth of loading one).
    let mut text = String::with_capacity(line.len());
    for (i, word) in line.split_whitespace().enumerate() {
        if i == 0 {
            text.push_str(word.split('#').next().unwrap_or(word));
            continue;
        }
        // Any flag word's `true` fields (`flags2.3?true` too) take no part.
        if word.ends_with("?true") {
            continue;
        }
        text.push(' ');
        let parts = match word.split_once(':') {
            Some((name, "bytes")) => [name, ":string", "", ""],
            Some((name, ty)) if ty.ends_with("?bytes") => [name, ":", &ty[..ty.len() - 5], "string"],
            _ => [word, "", "", ""],
        };
        for part in parts {
            for c in part.chars() {
                match c {
                    '<' => text.push(' '),
                    '>' | '{' | '}' => {}
                    c => text.push(c),
                }
            }
        }
    }
    crc32fast::hash(text.as_bytes())
}
