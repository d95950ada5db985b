//! Decoding errors and lenient-mode warnings: values, one line each, naming
//! the byte offset, the field path, what was expected and what was found.

use std::fmt;

/// What went wrong at a given offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The input ended inside a value.
    Truncated { expected: &'static str, available: usize },
    /// A constructor id this tool does not know, where `expected` should stand.
    UnknownConstructor { expected: &'static str, id: u32 },
    /// A known constructor of another type than the one expected here.
    WrongType { expected: &'static str, found: &'static str, found_type: &'static str, id: u32 },
    /// Flag bits the constructor does not define.
    UndefinedFlags { ctor: &'static str, flags: u32, undefined: u32 },
    /// A string whose first byte is 0xff (not defined by TL).
    StringPrefixFf,
    /// A string below 254 bytes written with the long (0xfe) length form.
    NonCanonicalLength { len: usize },
    /// Non-zero padding bytes after a string.
    NonZeroPadding { padding: Vec<u8> },
    /// A `string` that is not UTF-8: after `valid_up_to` good bytes, `bad`
    /// starts no character (`incomplete`: the string ends inside one).
    InvalidUtf8 { valid_up_to: usize, bad: Vec<u8>, incomplete: bool },
    /// Bytes after the end of the top-level object.
    TrailingBytes { count: usize, ctor: &'static str },
    /// Nesting beyond the depth budget.
    TooDeep { max_depth: usize },
    /// A length prefix claims more bytes than the input holds.
    LengthExceedsInput { what: &'static str, claimed: usize, remaining: usize },
    /// A type the schema uses but does not define (schema-driven decoding only).
    UndefinedType { ty: &'static str },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated { expected, available } => {
                write!(f, "truncated: expected {expected}, found ")?;
                match available {
                    0 => f.write_str("the end of the input"),
                    1 => f.write_str("only 1 byte"),
                    n => write!(f, "only {n} bytes"),
                }
            }
            Problem::UnknownConstructor { expected, id } if *expected == FRAME => write!(
                f,
                "unknown constructor 0x{id:08x} at the top level (expected {FRAME_CHOICES})"
            ),
            Problem::UnknownConstructor { expected, id } => {
                write!(f, "unknown {expected} constructor 0x{id:08x}")
            }
            Problem::WrongType { expected, found, found_type, id } => {
                let expected = if *expected == FRAME { FRAME_CHOICES } else { expected };
                write!(f, "expected {expected}, found {found}#{id:08x} ({found_type})")
            }
            Problem::UndefinedFlags { ctor, flags, undefined } => write!(
                f,
                "flags 0x{flags:08x} set bit{} {} that {ctor} does not define",
                if undefined.count_ones() == 1 { "" } else { "s" },
                bit_list(*undefined)
            ),
            Problem::StringPrefixFf => write!(
                f,
                "string length byte 0xff is not defined by TL (expected a length below 254, or 0xfe and a 3-byte length)"
            ),
            Problem::NonCanonicalLength { len } => write!(
                f,
                "a {len}-byte string uses the long length form (0xfe), meant only for 254 bytes or more"
            ),
            Problem::NonZeroPadding { padding } => {
                write!(f, "string padding must be zero bytes, found {}", hex(padding))
            }
            Problem::InvalidUtf8 { valid_up_to, bad, incomplete: true } => write!(
                f,
                "string is not valid UTF-8: it ends inside a character ({}, after {valid_up_to} valid bytes)",
                hex(bad)
            ),
            Problem::InvalidUtf8 { valid_up_to, bad, incomplete: false } => write!(
                f,
                "string is not valid UTF-8: {} cannot stand here (after {valid_up_to} valid bytes)",
                hex(bad)
            ),
            Problem::TrailingBytes { count, ctor } => write!(
                f,
                "{count} byte{} left over after the end of {ctor}",
                if *count == 1 { "" } else { "s" }
            ),
            Problem::TooDeep { max_depth } => {
                write!(f, "nesting deeper than the depth budget of {max_depth} levels")
            }
            Problem::LengthExceedsInput { what, claimed, remaining } => write!(
                f,
                "{what} length {claimed} claims more bytes than the {remaining} that remain"
            ),
            Problem::UndefinedType { ty } => write!(f, "the schema uses the type {ty} but does not define it"),
        }
    }
}

/// What `expected` says where a whole frame should stand.
pub const FRAME: &str = "frame";

const FRAME_CHOICES: &str = "messages.exportChatInvite, chatInviteExported, chatInvitePublicJoinRequests or rpc_error";

fn hex(bytes: &[u8]) -> String {
    crate::hex::spaced(bytes, usize::MAX)
}

fn bit_list(bits: u32) -> String {
    (0..32).filter(|b| bits & (1 << b) != 0).map(|b| b.to_string()).collect::<Vec<_>>().join(", ")
}

/// Where a decoding failure happened, in which field, and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Byte offset of the problem in the decoded buffer.
    pub offset: usize,
    /// Dotted field path from the top-level object (`peer.peer.msg_id`),
    /// empty for the top-level object itself.
    pub path: String,
    pub problem: Problem,
}

/// A decoding failure. Boxed, so that the `Result`s every decoder returns
/// stay small on the success path; its fields are reached through `Deref`
/// (`e.offset`, `e.path`, `e.problem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<ErrorDetail>);

impl DecodeError {
    pub fn new(offset: usize, path: String, problem: Problem) -> Self {
        DecodeError(Box::new(ErrorDetail { offset, path, problem }))
    }

    /// The same error seen from the object that holds `field`: the path
    /// gains `field` in front. Decoders add the path this way as an error
    /// travels out, so that the success path never keeps one.
    pub fn within(mut self, field: &str) -> Self {
        if !field.is_empty() {
            // Prepended in place: an error unwinding through deep nesting
            // grows one string instead of allocating a new one per level.
            let path = &mut self.0.path;
            if !path.is_empty() {
                path.insert(0, '.');
            }
            path.insert_str(0, field);
        }
        self
    }

    pub fn into_detail(self) -> ErrorDetail {
        *self.0
    }
}

impl std::ops::Deref for DecodeError {
    type Target = ErrorDetail;

    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

/// A dotted path with long runs of one name (deeply nested peers) shortened
/// to `peer[×200]`, to keep the line readable. Written straight into the
/// formatter: the fuzz targets and the reports format an error for every
/// refused input, and a vector and a string per name were most of that.
fn write_short_path(f: &mut fmt::Formatter<'_>, path: &str) -> fmt::Result {
    let mut names = path.split('.').peekable();
    let mut first = true;
    while let Some(name) = names.next() {
        let mut run = 1;
        while names.next_if_eq(&name).is_some() {
            run += 1;
        }
        if !first {
            f.write_str(".")?;
        }
        first = false;
        if run >= 6 {
            write!(f, "{name}[×{run}]")?;
        } else {
            for i in 0..run {
                if i > 0 {
                    f.write_str(".")?;
                }
                f.write_str(name)?;
            }
        }
    }
    Ok(())
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error at byte 0x{:x}", self.offset)?;
        if !self.path.is_empty() {
            f.write_str(" in ")?;
            write_short_path(f, &self.path)?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for DecodeError {}

/// Something lenient decoding forgave. Same shape as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub offset: usize,
    pub path: String,
    pub problem: Problem,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning at byte 0x{:x}", self.offset)?;
        if !self.path.is_empty() {
            f.write_str(" in ")?;
            write_short_path(f, &self.path)?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl Problem {
    /// How many bytes from the error's offset are at fault (for marking them);
    /// `remaining` is what is left of the input from there.
    pub fn bad_len(&self, remaining: usize) -> usize {
        let n = match self {
            Problem::Truncated { available, .. } => *available,
            Problem::UnknownConstructor { .. } | Problem::WrongType { .. } | Problem::TooDeep { .. } => 4,
            Problem::UndefinedFlags { .. } | Problem::NonCanonicalLength { .. } => 4,
            Problem::StringPrefixFf => 1,
            Problem::InvalidUtf8 { bad, .. } => bad.len(),
            Problem::NonZeroPadding { padding } => padding.len(),
            Problem::TrailingBytes { count, .. } => *count,
            Problem::LengthExceedsInput { .. } => 1,
            Problem::UndefinedType { .. } => 4,
        };
        n.min(remaining)
    }
}
