//! The one reader every TL decoder goes through.
//!
//! It owns the offset, the depth budget, strict-versus-lenient policy, the
//! field path for error messages, and (when asked) a trace of every field
//! with its byte span: the renderers draw trees and annotated dumps from that
//! trace, so the decoder is the single source of truth for layout.
//!
//! Nothing here allocates in proportion to a length prefix: a length is
//! checked against the bytes that remain before anything is copied.

use std::ops::Range;

use super::error::{DecodeError, Problem, Warning};
use super::schema::{self, CtorDef};
use super::TlString;

/// The nesting budget used when none is given.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// The largest budget a caller may ask for. Decoding recurses once per level
/// (and so do comparing, cloning and printing a value); an unoptimized build
/// needs up to about 5 KiB of stack per level, so this bound keeps even a
/// debug build on a 2 MiB thread far from the end of its stack.
pub const MAX_DEPTH_LIMIT: usize = 200;

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Forgive unknown flag bits, non-zero padding, long-form lengths,
    /// invalid UTF-8 and trailing bytes, reporting each as a [`Warning`].
    /// Wrong types and truncation stay errors.
    pub lenient: bool,
    /// Objects may nest this deep (the top-level object is level 1).
    pub max_depth: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { lenient: false, max_depth: DEFAULT_MAX_DEPTH }
    }
}

impl DecodeOptions {
    /// Strict decoding, the default.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Lenient decoding with the default depth budget.
    pub fn lenient() -> Self {
        DecodeOptions { lenient: true, ..Self::default() }
    }
}

/// The value a traced field held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceValue {
    /// A boxed object (its constructor id and fields follow as children).
    Object(&'static CtorDef),
    /// The `flags` word as read from the wire.
    Flags(u32),
    Int(i32),
    Long(i64),
    /// A string: the range of its content bytes in the buffer, and whether
    /// they are valid UTF-8 (only lenient decoding lets invalid text through).
    Str {
        data: Range<usize>,
        utf8: bool,
    },
    /// A `flags.N?true` field, set or not. It occupies no bytes.
    TrueFlag(bool),
    /// An optional field whose flag bit is not set.
    Absent,
}

/// One field as the decoder met it, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// 0 for the top-level object, 1 for its fields, and so on.
    pub depth: usize,
    /// Field name; empty for the top-level object.
    pub field: &'static str,
    /// Byte span. `end == start` for fields without bytes; for an object
    /// whose decoding failed inside it, `end` is [`TraceEvent::OPEN`].
    pub start: usize,
    pub end: usize,
    pub value: TraceValue,
}

impl TraceEvent {
    /// The `end` of an object that was never finished.
    pub const OPEN: usize = usize::MAX;
}

/// A position in the trace where an object began, to be closed later.
#[must_use]
pub struct ObjectToken {
    trace_index: Option<usize>,
}

/// Reads TL primitives from a byte slice.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    options: DecodeOptions,
    /// How many objects are open.
    depth: usize,
    /// Names of the fields holding the objects currently open, kept only
    /// when lenient, for the paths of warnings. (Errors gain their path as
    /// they travel out: see [`DecodeError::within`].)
    lenient_path: Vec<&'static str>,
    warnings: Vec<Warning>,
    trace: Option<Vec<TraceEvent>>,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], options: DecodeOptions) -> Self {
        Reader { buf, pos: 0, options, depth: 0, lenient_path: Vec::new(), warnings: Vec::new(), trace: None }
    }

    /// Also record a [`TraceEvent`] for every field.
    pub fn with_trace(self) -> Self {
        self.with_trace_buffer(Vec::with_capacity(32))
    }

    /// Record the trace into `buffer` (cleared first), so that a caller
    /// decoding many frames reuses one allocation.
    pub fn with_trace_buffer(mut self, mut buffer: Vec<TraceEvent>) -> Self {
        buffer.clear();
        self.trace = Some(buffer);
        self
    }

    pub fn options(&self) -> DecodeOptions {
        self.options
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The warnings and the trace, once decoding is over (or has failed).
    pub fn into_parts(self) -> (Vec<Warning>, Option<Vec<TraceEvent>>) {
        (self.warnings, self.trace)
    }

    /// An error at `offset` in `field` of the innermost open object (the
    /// enclosing fields are added as the error travels out).
    pub fn error(&self, offset: usize, field: &str, problem: Problem) -> DecodeError {
        DecodeError::new(offset, field.to_string(), problem)
    }

    /// A forgivable problem: an error when strict, a warning when lenient.
    pub fn forgivable(&mut self, offset: usize, field: &str, problem: Problem) -> Result<(), DecodeError> {
        if self.options.lenient {
            let names = self.lenient_path.iter().copied().chain(std::iter::once(field));
            let path = names.filter(|n| !n.is_empty()).collect::<Vec<_>>().join(".");
            self.warnings.push(Warning { offset, path, problem });
            Ok(())
        } else {
            Err(self.error(offset, field, problem))
        }
    }

    #[inline]
    fn record(&mut self, field: &'static str, start: usize, value: TraceValue) {
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent { depth: self.depth, field, start, end: self.pos, value });
        }
    }

    /// `n` bytes, or a truncation error naming `expected`.
    #[inline]
    pub fn take(&mut self, n: usize, field: &str, expected: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.error(self.pos, field, Problem::Truncated { expected, available: self.remaining() }));
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    #[inline]
    fn take4(&mut self, field: &str, expected: &'static str) -> Result<[u8; 4], DecodeError> {
        let b = self.take(4, field, expected)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// An untraced little-endian u32 (ids, counts, transport words).
    #[inline]
    pub fn u32_raw(&mut self, field: &str, expected: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take4(field, expected)?))
    }

    /// An untraced little-endian i64.
    #[inline]
    pub fn i64_raw(&mut self, field: &str) -> Result<i64, DecodeError> {
        let b = self.take(8, field, "long (8 bytes)")?;
        Ok(i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    /// An `int` field.
    #[inline]
    pub fn int(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        let start = self.pos;
        let v = i32::from_le_bytes(self.take4(field, "int (4 bytes)")?);
        self.record(field, start, TraceValue::Int(v));
        Ok(v)
    }

    /// A `long` field.
    #[inline]
    pub fn long(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let start = self.pos;
        let v = self.i64_raw(field)?;
        self.record(field, start, TraceValue::Long(v));
        Ok(v)
    }

    /// The `flags` word of `ctor`. Bits the constructor does not define are an
    /// error (strict) or a warning and cleared (lenient).
    #[inline]
    pub fn flags(&mut self, ctor: &'static CtorDef) -> Result<u32, DecodeError> {
        let start = self.pos;
        let flags = self.u32_raw("flags", "flags (4 bytes)")?;
        self.record("flags", start, TraceValue::Flags(flags));
        let undefined = flags & !ctor.flag_mask;
        if undefined != 0 {
            self.forgivable(start, "flags", Problem::UndefinedFlags { ctor: ctor.name, flags, undefined })?;
        }
        Ok(flags & ctor.flag_mask)
    }

    /// A `flags.N?true` field (no bytes; recorded for the trace).
    #[inline]
    pub fn true_flag(&mut self, field: &'static str, set: bool) -> bool {
        self.record(field, self.pos, TraceValue::TrueFlag(set));
        set
    }

    /// An optional field whose bit is clear (no bytes; recorded for the trace).
    #[inline]
    pub fn absent<T>(&mut self, field: &'static str) -> Option<T> {
        self.record(field, self.pos, TraceValue::Absent);
        None
    }

    /// The content of a TL `string`/`bytes`, checked strictly: length form,
    /// length against the input, and zero padding.
    pub fn bytes_raw(&mut self, field: &str) -> Result<&'a [u8], DecodeError> {
        Ok(self.bytes_with_offset(field)?.1)
    }

    /// [`Reader::bytes_raw`], with the offset of the content's first byte.
    fn bytes_with_offset(&mut self, field: &str) -> Result<(usize, &'a [u8]), DecodeError> {
        let start = self.pos;
        let first = self.take(1, field, "string length (1 byte)")?[0];
        let (len, header) = match first {
            0xff => return Err(self.error(start, field, Problem::StringPrefixFf)),
            0xfe => {
                let b = self.take(3, field, "long string length (3 more bytes)")?;
                let len = usize::from(b[0]) | usize::from(b[1]) << 8 | usize::from(b[2]) << 16;
                if len < 254 {
                    self.forgivable(start, field, Problem::NonCanonicalLength { len })?;
                }
                (len, 4)
            }
            short => (usize::from(short), 1),
        };
        if len > self.remaining() {
            let remaining = self.remaining();
            return Err(self.error(
                start,
                field,
                Problem::LengthExceedsInput { what: "string", claimed: len, remaining },
            ));
        }
        let data_start = self.pos;
        let data = self.take(len, field, "string bytes")?;
        let pad = (4 - (header + len) % 4) % 4;
        let pad_start = self.pos;
        let padding = self.take(pad, field, "string padding")?;
        if padding.iter().any(|&b| b != 0) {
            self.forgivable(pad_start, field, Problem::NonZeroPadding { padding: padding.to_vec() })?;
        }
        Ok((data_start, data))
    }

    /// A `string` field: UTF-8 text (lenient decoding keeps invalid text as raw bytes).
    pub fn string(&mut self, field: &'static str) -> Result<TlString, DecodeError> {
        let start = self.pos;
        let (data_start, data) = self.bytes_with_offset(field)?;
        let utf8 = match std::str::from_utf8(data) {
            Ok(_) => true,
            Err(e) => {
                let valid_up_to = e.valid_up_to();
                let bad_len = e.error_len().unwrap_or(data.len() - valid_up_to);
                let problem = Problem::InvalidUtf8 {
                    valid_up_to,
                    bad: data[valid_up_to..valid_up_to + bad_len].to_vec(),
                    incomplete: e.error_len().is_none(),
                };
                self.forgivable(data_start + valid_up_to, field, problem)?;
                false
            }
        };
        self.record(field, start, TraceValue::Str { data: data_start..data_start + data.len(), utf8 });
        Ok(TlString::from_bytes(data.to_vec()))
    }

    /// The next constructor id, without consuming it.
    #[inline]
    pub fn peek_id(&self, field: &str) -> Result<u32, DecodeError> {
        match self.buf.get(self.pos..self.pos + 4) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => Err(self.error(
                self.pos,
                field,
                Problem::Truncated { expected: "constructor id (4 bytes)", available: self.remaining() },
            )),
        }
    }

    /// The error for constructor `id` at the current offset, where a value of
    /// type `expected` should stand.
    pub fn unexpected_constructor(&self, field: &str, expected: &'static str, id: u32) -> DecodeError {
        let problem = match schema::describe_id(id) {
            Some((found, found_type)) => Problem::WrongType { expected, found, found_type, id },
            None => Problem::UnknownConstructor { expected, id },
        };
        self.error(self.pos, field, problem)
    }

    /// Consume `ctor`'s id and enter it, within the depth budget.
    #[inline]
    pub fn begin_object(&mut self, field: &'static str, ctor: &'static CtorDef) -> Result<ObjectToken, DecodeError> {
        if self.depth >= self.options.max_depth {
            return Err(self.error(self.pos, field, Problem::TooDeep { max_depth: self.options.max_depth }));
        }
        let start = self.pos;
        self.take(4, field, "constructor id (4 bytes)")?;
        let trace_index = self.trace.as_mut().map(|trace| {
            trace.push(TraceEvent {
                depth: self.depth,
                field,
                start,
                end: TraceEvent::OPEN,
                value: TraceValue::Object(ctor),
            });
            trace.len() - 1
        });
        self.depth += 1;
        if self.options.lenient {
            self.lenient_path.push(field);
        }
        Ok(ObjectToken { trace_index })
    }

    /// Leave the object `token` began.
    #[inline]
    pub fn end_object(&mut self, token: ObjectToken) {
        self.depth -= 1;
        if self.options.lenient {
            self.lenient_path.pop();
        }
        if let (Some(trace), Some(i)) = (&mut self.trace, token.trace_index) {
            trace[i].end = self.pos;
        }
    }

    /// After the top-level object: anything left is an error (strict) or a
    /// warning (lenient).
    #[inline]
    pub fn finish(&mut self, ctor: &'static CtorDef) -> Result<(), DecodeError> {
        let count = self.remaining();
        if count > 0 {
            self.forgivable(self.pos, "", Problem::TrailingBytes { count, ctor: ctor.name })?;
        }
        Ok(())
    }
}
