//! The one reader every TL decoder goes through.
//!
//! It owns the offset, the depth budget, strict-versus-lenient policy, the
//! field path for error messages, and (when asked) a trace of every field
//! with its byte span (see [`super::trace`]): the renderers draw trees and
//! annotated dumps from that trace, so the decoder is the single source of
//! truth for layout.
//!
//! Nothing here allocates in proportion to a length prefix: a length is
//! checked against the bytes that remain before anything is copied.

use super::error::{DecodeError, Problem};
use super::schema::{self, CtorDef};
pub use super::trace::{NoTrace, Recorder, TraceEvent, TraceSink, TraceValue};
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
    /// invalid UTF-8 and trailing bytes, reporting each as a [`Warning`](super::Warning).
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

/// A position in the trace where an object began, to be closed later.
#[must_use]
pub struct ObjectToken {
    trace_index: usize,
}

/// Reads TL primitives from a byte slice, sending a [`TraceEvent`] for every
/// field to its sink `S`.
pub struct Reader<'a, S: TraceSink = NoTrace> {
    buf: &'a [u8],
    /// What is left of `buf`; the offset is `buf.len() - rest.len()`.
    /// (Kept as a slice rather than an offset so that each read is one
    /// length check.)
    rest: &'a [u8],
    options: DecodeOptions,
    /// How many objects are open.
    depth: usize,
    /// Where the trace and the warnings go. (Errors gain their field path
    /// as they travel out: see [`DecodeError::within`]; a warning's path is
    /// made by the sink, which knows the open objects.) A reader holds
    /// nothing to free, so that one without a trace costs nothing to make.
    trace: S,
}

impl<'a> Reader<'a> {
    /// A reader that records no trace.
    pub fn new(buf: &'a [u8], options: DecodeOptions) -> Self {
        Self::with_sink(buf, options, NoTrace)
    }
}

impl<'a, S: TraceSink> Reader<'a, S> {
    /// A reader sending its trace to `sink`.
    #[inline]
    pub fn with_sink(buf: &'a [u8], options: DecodeOptions, sink: S) -> Self {
        Reader { buf, rest: buf, options, depth: 0, trace: sink }
    }

    pub fn options(&self) -> DecodeOptions {
        self.options
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.buf.len() - self.rest.len()
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    /// The sink, with the trace and the warnings, once decoding is over
    /// (or has failed).
    pub fn into_sink(self) -> S {
        self.trace
    }

    /// An error at `offset` in `field` of the innermost open object (the
    /// enclosing fields are added as the error travels out).
    #[cold]
    #[inline(never)]
    pub fn error(&self, offset: usize, field: &str, problem: Problem) -> DecodeError {
        DecodeError::new(offset, field.to_string(), problem)
    }

    /// The truncation error at the current offset.
    #[cold]
    #[inline(never)]
    fn truncated(&self, field: &str, expected: &'static str) -> DecodeError {
        self.error(self.pos(), field, Problem::Truncated { expected, available: self.remaining() })
    }

    /// A forgivable problem: an error when strict, a warning when lenient.
    #[cold]
    #[inline(never)]
    pub fn forgivable(&mut self, offset: usize, field: &str, problem: Problem) -> Result<(), DecodeError> {
        if self.options.lenient {
            self.trace.warning(offset, field, problem);
            Ok(())
        } else {
            Err(self.error(offset, field, problem))
        }
    }

    #[inline(always)]
    fn record(&mut self, field: &'static str, start: usize, value: TraceValue) {
        let (depth, end) = (self.depth, self.pos());
        self.trace.record(TraceEvent { depth, field, start, end, value });
    }

    #[inline(always)]
    fn record_flag_only(&mut self, field: &'static str, value: TraceValue) {
        let (depth, pos) = (self.depth, self.pos());
        self.trace.record_flag_only(TraceEvent { depth, field, start: pos, end: pos, value });
    }

    /// `n` bytes, or a truncation error naming `expected`.
    #[inline]
    pub fn take(&mut self, n: usize, field: &str, expected: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(self.truncated(field, expected));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes, or a truncation error naming `expected`.
    #[inline(always)]
    fn array<const N: usize>(&mut self, field: &str, expected: &'static str) -> Result<[u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(self.truncated(field, expected)),
        }
    }

    /// An untraced little-endian u32 (ids, counts, transport words).
    #[inline]
    pub fn u32_raw(&mut self, field: &str, expected: &'static str) -> Result<u32, DecodeError> {
        self.array(field, expected).map(u32::from_le_bytes)
    }

    /// An untraced little-endian i64.
    #[inline]
    pub fn i64_raw(&mut self, field: &str) -> Result<i64, DecodeError> {
        self.array(field, "long (8 bytes)").map(i64::from_le_bytes)
    }

    /// An `int` field.
    #[inline]
    pub fn int(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        let start = self.pos();
        let v = i32::from_le_bytes(self.array(field, "int (4 bytes)")?);
        self.record(field, start, TraceValue::Int(v));
        Ok(v)
    }

    /// A `long` field.
    #[inline]
    pub fn long(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let start = self.pos();
        let v = self.i64_raw(field)?;
        self.record(field, start, TraceValue::Long(v));
        Ok(v)
    }

    /// The `flags` word of `ctor`. Bits the constructor does not define are an
    /// error (strict) or a warning and cleared (lenient).
    #[inline]
    pub fn flags(&mut self, ctor: &'static CtorDef) -> Result<u32, DecodeError> {
        self.flag_word("flags", ctor, ctor.flag_mask)
    }

    /// The flag word `field` (`flags`, `flags2`, ...) of `ctor`, whose
    /// defined bits are `mask`; as [`Reader::flags`].
    #[inline]
    pub fn flag_word(&mut self, field: &'static str, ctor: &'static CtorDef, mask: u32) -> Result<u32, DecodeError> {
        let start = self.pos();
        let flags = self.u32_raw(field, "flags (4 bytes)")?;
        self.record(field, start, TraceValue::Flags(flags));
        let undefined = flags & !mask;
        if undefined != 0 {
            self.forgivable(start, field, Problem::UndefinedFlags { ctor: ctor.name, flags, undefined })?;
        }
        Ok(flags & mask)
    }

    /// A `double` field.
    #[inline]
    pub fn double(&mut self, field: &'static str) -> Result<f64, DecodeError> {
        let start = self.pos();
        let bits = u64::from_le_bytes(self.array(field, "double (8 bytes)")?);
        self.record(field, start, TraceValue::Double(bits));
        Ok(f64::from_bits(bits))
    }

    /// An `int128` field, as its wire bytes.
    #[inline]
    pub fn int128(&mut self, field: &'static str) -> Result<[u8; 16], DecodeError> {
        let start = self.pos();
        let v = self.array(field, "int128 (16 bytes)")?;
        self.record(field, start, TraceValue::Int128);
        Ok(v)
    }

    /// An `int256` field, as its wire bytes.
    #[inline]
    pub fn int256(&mut self, field: &'static str) -> Result<[u8; 32], DecodeError> {
        let start = self.pos();
        let v = self.array(field, "int256 (32 bytes)")?;
        self.record(field, start, TraceValue::Int256);
        Ok(v)
    }

    /// A `bytes` field: like a string, but any content is valid.
    #[inline]
    pub fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, DecodeError> {
        Ok(self.bytes_slice(field)?.to_vec())
    }

    /// [`Reader::bytes`], borrowed from the input.
    #[inline]
    pub fn bytes_slice(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let start = self.pos();
        let (data_start, data) = self.bytes_with_offset(field)?;
        self.record(field, start, TraceValue::Bytes { data: data_start..data_start + data.len() });
        Ok(data)
    }

    /// A boxed `Bool` field whose id, read at `start`, named `value`.
    #[inline]
    pub fn record_bool(&mut self, field: &'static str, start: usize, value: bool) {
        self.record(field, start, TraceValue::Bool(value));
    }

    /// The element count of a vector, read as an `int`: an error when
    /// negative or when `count` elements of at least `min_size` bytes each
    /// cannot fit in what remains, so that no caller reserves room for
    /// elements the input does not hold.
    #[inline]
    pub fn vector_count(&mut self, field: &str, min_size: usize) -> Result<usize, DecodeError> {
        let start = self.pos();
        let raw = i32::from_le_bytes(self.array(field, "vector count (4 bytes)")?);
        let remaining = self.remaining();
        let fits = usize::try_from(raw).ok().filter(|&n| n.saturating_mul(min_size.max(1)) <= remaining);
        // Elements of no bytes (min_size 0) still count at most one per byte left.
        match fits {
            Some(n) => Ok(n),
            None => Err(self.error(
                start,
                field,
                Problem::LengthExceedsInput { what: "vector", claimed: raw as u32 as usize, remaining },
            )),
        }
    }

    /// Enter a vector of `count` elements that began at `start`, within the
    /// depth budget (a vector is a level, so vectors of vectors are bounded too).
    #[inline]
    pub fn begin_vector(
        &mut self,
        start: usize,
        field: &'static str,
        count: usize,
        boxed: bool,
    ) -> Result<ObjectToken, DecodeError> {
        self.begin(start, field, TraceValue::Vector { count, boxed })
    }

    /// Enter the bare object `ctor` (no id on the wire) starting at `start`.
    #[inline]
    pub fn begin_bare(
        &mut self,
        start: usize,
        field: &'static str,
        ctor: &'static CtorDef,
    ) -> Result<ObjectToken, DecodeError> {
        self.begin(start, field, TraceValue::Bare(ctor))
    }

    #[inline]
    fn begin(&mut self, start: usize, field: &'static str, value: TraceValue) -> Result<ObjectToken, DecodeError> {
        if self.depth >= self.options.max_depth {
            return Err(self.error(start, field, Problem::TooDeep { max_depth: self.options.max_depth }));
        }
        let event = TraceEvent { depth: self.depth, field, start, end: TraceEvent::OPEN, value };
        let trace_index = self.trace.open(event);
        self.depth += 1;
        Ok(ObjectToken { trace_index })
    }

    /// A `flags.N?true` field (no bytes; recorded for the trace).
    #[inline]
    pub fn true_flag(&mut self, field: &'static str, set: bool) -> bool {
        self.record_flag_only(field, TraceValue::TrueFlag(set));
        set
    }

    /// An optional field whose bit is clear (no bytes; recorded for the trace).
    #[inline]
    pub fn absent<T>(&mut self, field: &'static str) -> Option<T> {
        self.record_flag_only(field, TraceValue::Absent);
        None
    }

    /// The content of a TL `string`/`bytes`, checked strictly: length form,
    /// length against the input, and zero padding.
    pub fn bytes_raw(&mut self, field: &str) -> Result<&'a [u8], DecodeError> {
        Ok(self.bytes_with_offset(field)?.1)
    }

    /// [`Reader::bytes_raw`], with the offset of the content's first byte.
    #[inline]
    fn bytes_with_offset(&mut self, field: &str) -> Result<(usize, &'a [u8]), DecodeError> {
        let start = self.pos();
        let [first] = self.array(field, "string length (1 byte)")?;
        let (len, header) = match first {
            0xff => return Err(self.error(start, field, Problem::StringPrefixFf)),
            0xfe => {
                let b = self.array::<3>(field, "long string length (3 more bytes)")?;
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
        let data_start = self.pos();
        let data = self.take(len, field, "string bytes")?;
        let pad = (4 - (header + len) % 4) % 4;
        let pad_start = self.pos();
        let padding = self.take(pad, field, "string padding")?;
        if padding.iter().any(|&b| b != 0) {
            self.forgivable(pad_start, field, Problem::NonZeroPadding { padding: padding.to_vec() })?;
        }
        Ok((data_start, data))
    }

    /// A `string` field: UTF-8 text (lenient decoding keeps invalid text as raw bytes).
    #[inline]
    pub fn string(&mut self, field: &'static str) -> Result<TlString, DecodeError> {
        Ok(TlString::from_bytes(self.string_slice(field)?.to_vec()))
    }

    /// [`Reader::string`], borrowed from the input.
    #[inline]
    pub fn string_slice(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let start = self.pos();
        let (data_start, data) = self.bytes_with_offset(field)?;
        let utf8 = match std::str::from_utf8(data) {
            Ok(_) => true,
            Err(e) => {
                self.invalid_utf8(field, data_start, data, e)?;
                false
            }
        };
        self.record(field, start, TraceValue::Str { data: data_start..data_start + data.len(), utf8 });
        Ok(data)
    }

    #[cold]
    #[inline(never)]
    fn invalid_utf8(
        &mut self,
        field: &str,
        data_start: usize,
        data: &[u8],
        e: std::str::Utf8Error,
    ) -> Result<(), DecodeError> {
        let valid_up_to = e.valid_up_to();
        let bad_len = e.error_len().unwrap_or(data.len() - valid_up_to);
        let problem = Problem::InvalidUtf8 {
            valid_up_to,
            bad: data[valid_up_to..valid_up_to + bad_len].to_vec(),
            incomplete: e.error_len().is_none(),
        };
        self.forgivable(data_start + valid_up_to, field, problem)
    }

    /// The next constructor id, without consuming it.
    #[inline]
    pub fn peek_id(&self, field: &str) -> Result<u32, DecodeError> {
        match self.rest.first_chunk::<4>() {
            Some(b) => Ok(u32::from_le_bytes(*b)),
            None => Err(self.truncated(field, "constructor id (4 bytes)")),
        }
    }

    /// Consume the next constructor id.
    #[inline]
    pub fn read_id(&mut self, field: &str) -> Result<u32, DecodeError> {
        self.u32_raw(field, "constructor id (4 bytes)")
    }

    /// The error for constructor `id` at the current offset, where a value of
    /// type `expected` should stand.
    pub fn unexpected_constructor(&self, field: &str, expected: &'static str, id: u32) -> DecodeError {
        self.unexpected_constructor_at(self.pos(), field, expected, id)
    }

    /// The error for constructor `id` read at `offset`.
    #[cold]
    #[inline(never)]
    pub fn unexpected_constructor_at(
        &self,
        offset: usize,
        field: &str,
        expected: &'static str,
        id: u32,
    ) -> DecodeError {
        let problem = match schema::describe_id(id) {
            Some((found, found_type)) => Problem::WrongType { expected, found, found_type, id },
            None => Problem::UnknownConstructor { expected, id },
        };
        self.error(offset, field, problem)
    }

    /// Enter `ctor`, whose id was read at `start`, within the depth budget.
    #[inline]
    pub fn begin_object(
        &mut self,
        start: usize,
        field: &'static str,
        ctor: &'static CtorDef,
    ) -> Result<ObjectToken, DecodeError> {
        self.begin(start, field, TraceValue::Object(ctor))
    }

    /// Leave the object (or vector) `token` began.
    #[inline]
    pub fn end_object(&mut self, token: ObjectToken) {
        self.depth -= 1;
        let end = self.pos();
        self.trace.close(token.trace_index, end);
    }

    /// After the top-level object: anything left is an error (strict) or a
    /// warning (lenient).
    #[inline]
    pub fn finish(&mut self, ctor: &'static CtorDef) -> Result<(), DecodeError> {
        let count = self.remaining();
        if count > 0 {
            self.forgivable(self.pos(), "", Problem::TrailingBytes { count, ctor: ctor.name })?;
        }
        Ok(())
    }
}
