//! The one writer every TL encoder goes through.

use std::fmt;

/// The longest string TL can encode: the long form has a 3-byte length.
pub const MAX_STRING_LEN: usize = 0xff_ffff;

/// A value that TL cannot represent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// A string of 16 MiB or more: TL's longest length prefix is 3 bytes.
    StringTooLong { len: usize },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::StringTooLong { len } => {
                write!(f, "a string of {len} bytes is too long for TL (at most {MAX_STRING_LEN} bytes)")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// Writes TL primitives into a growing buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    error: Option<EncodeError>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Writer { buf: Vec::with_capacity(capacity), error: None }
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn int(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn long(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Bytes as they are (`int128`, `int256`).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A `string`/`bytes` value in its canonical form: the short length form
    /// below 254 bytes, the long one from 254, zero padding to 4 bytes.
    /// A value too long for TL is remembered and reported by [`Writer::finish`].
    pub fn bytes(&mut self, data: &[u8]) {
        let len = data.len();
        let header = if len < 254 {
            self.buf.push(len as u8);
            1
        } else if len <= MAX_STRING_LEN {
            self.buf.extend_from_slice(&[0xfe, len as u8, (len >> 8) as u8, (len >> 16) as u8]);
            4
        } else {
            self.error.get_or_insert(EncodeError::StringTooLong { len });
            return;
        };
        self.buf.extend_from_slice(data);
        let pad = (4 - (header + len) % 4) % 4;
        self.buf.extend_from_slice(&[0u8; 3][..pad]);
    }

    /// The bytes written, or the first value that could not be encoded.
    pub fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.error {
            None => Ok(self.buf),
            Some(e) => Err(e),
        }
    }
}
