//! The MTProto message envelope: the layer between a transport frame and the
//! TL objects it carries.
//!
//! A frame's payload is either an unencrypted message (`auth_key_id` 0) or an
//! MTProto 2.0 encrypted one. [`open_message`] tells them apart, finds the
//! auth key by its id in a [`KeyStore`], checks `msg_key` (so a wrong key or
//! a wrong direction is reported rather than decoded into garbage), and
//! checks the inner length and padding. [`encrypt_message`] is the inverse,
//! used by the fixture writer and the tests.
//!
//! Sans-IO: bytes in, values out. Reading key files is the caller's job; the
//! parsers for their contents live here so they can be tested without files.

use std::fmt;

use crate::tcp::Direction;

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use aes::Aes256;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Length of an auth key.
pub const AUTH_KEY_LEN: usize = 256;

/// `auth_key_id (8) | msg_key (16)`, before the ciphertext.
const ENCRYPTED_HEADER_LEN: usize = 24;
/// `salt (8) | session_id (8) | msg_id (8) | seq_no (4) | length (4)`.
const PLAINTEXT_HEADER_LEN: usize = 32;
/// `auth_key_id (8) | msg_id (8) | length (4)`.
const PLAIN_HEADER_LEN: usize = 20;
/// MTProto 2.0 padding bounds.
pub const MIN_PADDING: usize = 12;
pub const MAX_PADDING: usize = 1024;

/// The `x` of the MTProto 2.0 key derivation: 0 from the client, 8 from
/// the server, so decrypting with the wrong direction fails the `msg_key`
/// check.
fn key_offset(direction: Direction) -> usize {
    match direction {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 8,
    }
}

/// A 256-byte authorization key and its id.
#[derive(Clone)]
pub struct AuthKey {
    key: Box<[u8; AUTH_KEY_LEN]>,
    id: u64,
}

impl fmt::Debug for AuthKey {
    // Never print the key itself, only its id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKey({})", format_key_id(self.id))
    }
}

impl AuthKey {
    pub fn new(key: [u8; AUTH_KEY_LEN]) -> Self {
        let id = auth_key_id(&key);
        AuthKey { key: Box::new(key), id }
    }

    /// A key from exactly 256 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyParseError> {
        let key: [u8; AUTH_KEY_LEN] = bytes.try_into().map_err(|_| KeyParseError::WrongLength { len: bytes.len() })?;
        Ok(AuthKey::new(key))
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn bytes(&self) -> &[u8; AUTH_KEY_LEN] {
        &self.key
    }
}

/// `auth_key_id`: bytes 12..20 of SHA1(auth_key), read little endian.
pub fn auth_key_id(key: &[u8; AUTH_KEY_LEN]) -> u64 {
    let digest = Sha1::digest(key);
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[12..20]);
    u64::from_le_bytes(id)
}

/// An auth key id as the manifest and the reports write it: the 64-bit
/// number in big-endian hex.
pub fn format_key_id(id: u64) -> String {
    let mut text = String::with_capacity(16);
    push_key_id(&mut text, id);
    text
}

/// [`format_key_id`], appended to `out` (16 lowercase hex digits, written
/// by hand: every message header of a report carries one).
pub fn push_key_id(out: &mut String, id: u64) {
    for shift in (0..16).rev() {
        out.push(char::from(b"0123456789abcdef"[(id >> (4 * shift)) as usize & 15]));
    }
}

/// Why key material could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyParseError {
    WrongLength { len: usize },
    BadHex { line: usize, message: String },
}

impl fmt::Display for KeyParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyParseError::WrongLength { len } => {
                write!(f, "an auth key is {AUTH_KEY_LEN} bytes (512 hex digits), found {len} bytes")
            }
            KeyParseError::BadHex { line, message } => {
                write!(f, "line {line}: not a hex auth key: {message}")
            }
        }
    }
}

impl std::error::Error for KeyParseError {}

/// An auth key given as text or file contents: 512 hex digits (any spacing),
/// or exactly 256 raw bytes.
pub fn parse_auth_key(content: &[u8]) -> Result<AuthKey, KeyParseError> {
    if let Ok(text) = std::str::from_utf8(content) {
        let trimmed = text.trim();
        if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_hexdigit() || c.is_whitespace() || c == ':') {
            let bytes = crate::hex::parse(trimmed).map_err(|message| KeyParseError::BadHex { line: 1, message })?;
            return AuthKey::from_slice(&bytes);
        }
    }
    // Raw key bytes: 256 bytes that are not all hex text.
    AuthKey::from_slice(content)
}

/// A key log: one hex key per line; empty lines and lines starting with `#`
/// are ignored.
pub fn parse_keylog(text: &str) -> Result<Vec<AuthKey>, KeyParseError> {
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bytes = crate::hex::parse(line).map_err(|message| KeyParseError::BadHex { line: i + 1, message })?;
        if bytes.len() != AUTH_KEY_LEN {
            return Err(KeyParseError::BadHex {
                line: i + 1,
                message: format!("expected 256 bytes, found {}", bytes.len()),
            });
        }
        keys.push(AuthKey::from_slice(&bytes)?);
    }
    Ok(keys)
}

/// The auth keys known to a run, found by their id.
#[derive(Debug, Default, Clone)]
pub struct KeyStore {
    keys: Vec<AuthKey>,
}

impl KeyStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a key; a key already present (same id) is kept once.
    pub fn insert(&mut self, key: AuthKey) {
        if self.get(key.id()).is_none() {
            self.keys.push(key);
        }
    }

    /// The ids of the keys held.
    pub fn ids(&self) -> Vec<u64> {
        self.keys.iter().map(|k| k.id).collect()
    }

    pub fn get(&self, id: u64) -> Option<&AuthKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A decrypted MTProto 2.0 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedMessage {
    pub auth_key_id: u64,
    pub msg_key: [u8; 16],
    pub salt: i64,
    pub session_id: i64,
    pub msg_id: i64,
    pub seq_no: i32,
    /// The message body (`length` bytes after the header).
    pub data: Vec<u8>,
    pub padding_len: usize,
}

/// What a frame's payload turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope<'a> {
    /// `auth_key_id = 0`: the body is in the clear.
    Plain {
        msg_id: i64,
        data: &'a [u8],
        /// Bytes after the body that the length field does not cover.
        trailing: usize,
    },
    Encrypted(DecryptedMessage),
    /// Encrypted with a key not in the store: listed and skipped.
    UnknownKey {
        auth_key_id: u64,
    },
}

impl Envelope<'_> {
    pub fn auth_key_id(&self) -> u64 {
        match self {
            Envelope::Plain { .. } => 0,
            Envelope::Encrypted(m) => m.auth_key_id,
            Envelope::UnknownKey { auth_key_id } => *auth_key_id,
        }
    }
}

/// Why a payload is not a readable MTProto message. Offsets are in the
/// payload for the outer layout and in the plaintext for the inner one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Fewer bytes than the smallest message of that kind.
    TooShort { len: usize, needed: usize, what: &'static str },
    /// The unencrypted message's length field claims more than follows.
    PlainLength { offset: usize, length: u32, available: usize },
    /// Ciphertext not a whole number of AES blocks.
    NotBlockAligned { len: usize },
    /// `msg_key` does not match the decrypted plaintext. `other_direction`
    /// says whether the key does fit the opposite direction.
    MsgKeyMismatch { auth_key_id: u64, direction: Direction, other_direction: bool },
    /// The plaintext's `length` field is impossible.
    InnerLength { offset: usize, length: u32, available: usize },
    /// Padding outside 12..=1024 bytes.
    Padding { offset: usize, padding: usize },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::TooShort { len, needed, what } => write!(
                f,
                "error at byte 0x0 in message: {what} needs at least {needed} bytes, found {len}"
            ),
            EnvelopeError::PlainLength { offset, length, available } => write!(
                f,
                "error at byte 0x{offset:x} in message.length: unencrypted message length {length} claims more than the {available} bytes that follow"
            ),
            EnvelopeError::NotBlockAligned { len } => write!(
                f,
                "error at byte 0x18 in message.encrypted_data: {len} bytes of ciphertext is not a multiple of 16"
            ),
            EnvelopeError::MsgKeyMismatch { auth_key_id, direction, other_direction } => {
                write!(
                    f,
                    "error at byte 0x8 in message.msg_key: msg_key does not match the plaintext decrypted with key {} as {direction}",
                    format_key_id(*auth_key_id)
                )?;
                if *other_direction {
                    write!(f, " (it matches {}: wrong direction)", direction.reverse())
                } else {
                    write!(f, " (wrong key or corrupted message)")
                }
            }
            EnvelopeError::InnerLength { offset, length, available } => write!(
                f,
                "error at byte 0x{offset:x} in plaintext.length: message length {length} does not fit the {available} bytes after the header (must be a multiple of 4 leaving 12..1024 bytes of padding)"
            ),
            EnvelopeError::Padding { offset, padding } => write!(
                f,
                "error at byte 0x{offset:x} in plaintext.padding: {padding} bytes of padding, expected 12 to 1024"
            ),
        }
    }
}

impl std::error::Error for EnvelopeError {}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(v)
}

/// Read a frame's payload as an MTProto message travelling in `direction`.
pub fn open_message<'a>(
    payload: &'a [u8],
    direction: Direction,
    keys: &KeyStore,
) -> Result<Envelope<'a>, EnvelopeError> {
    Ok(match sealed_with(payload, keys)? {
        Sealed::Plain => open_plain(payload)?,
        Sealed::Encrypted(key) => Envelope::Encrypted(decrypt_message(key, direction, payload)?),
        Sealed::UnknownKey(auth_key_id) => Envelope::UnknownKey { auth_key_id },
    })
}

/// [`open_message`] on a payload the caller owns: an encrypted one is
/// decrypted where it is, and `payload` is left empty (its buffer becomes
/// the message's body), so opening a message allocates nothing. The
/// pipeline opens every frame this way.
pub fn open_message_in<'a>(
    payload: &'a mut Vec<u8>,
    direction: Direction,
    keys: &KeyStore,
) -> Result<Envelope<'a>, EnvelopeError> {
    Ok(match sealed_with(payload, keys)? {
        Sealed::Plain => open_plain(payload)?,
        Sealed::Encrypted(key) => Envelope::Encrypted(decrypt_message_in(key, direction, std::mem::take(payload))?),
        Sealed::UnknownKey(auth_key_id) => Envelope::UnknownKey { auth_key_id },
    })
}

/// How a payload is sealed, by its auth_key_id.
enum Sealed<'k> {
    Plain,
    Encrypted(&'k AuthKey),
    UnknownKey(u64),
}

fn sealed_with<'k>(payload: &[u8], keys: &'k KeyStore) -> Result<Sealed<'k>, EnvelopeError> {
    if payload.len() < 8 {
        return Err(EnvelopeError::TooShort { len: payload.len(), needed: 8, what: "an auth_key_id" });
    }
    let auth_key_id = u64_at(payload, 0);
    if auth_key_id == 0 {
        return Ok(Sealed::Plain);
    }
    Ok(keys.get(auth_key_id).map_or(Sealed::UnknownKey(auth_key_id), Sealed::Encrypted))
}

fn open_plain(payload: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    if payload.len() < PLAIN_HEADER_LEN {
        return Err(EnvelopeError::TooShort {
            len: payload.len(),
            needed: PLAIN_HEADER_LEN,
            what: "an unencrypted message",
        });
    }
    let msg_id = u64_at(payload, 8) as i64;
    let length = u32_at(payload, 16);
    let available = payload.len() - PLAIN_HEADER_LEN;
    let len = usize::try_from(length).unwrap_or(usize::MAX);
    if len > available {
        return Err(EnvelopeError::PlainLength { offset: 16, length, available });
    }
    Ok(Envelope::Plain { msg_id, data: &payload[PLAIN_HEADER_LEN..PLAIN_HEADER_LEN + len], trailing: available - len })
}

/// `msg_key` for a plaintext (padding included) under `key` in `direction`.
pub fn compute_msg_key(key: &AuthKey, direction: Direction, plaintext: &[u8]) -> [u8; 16] {
    let x = key_offset(direction);
    let large = Sha256::new().chain_update(&key.key[88 + x..120 + x]).chain_update(plaintext).finalize();
    let mut msg_key = [0u8; 16];
    msg_key.copy_from_slice(&large[8..24]);
    msg_key
}

/// AES key and IV for `msg_key`.
fn derive_aes(key: &AuthKey, direction: Direction, msg_key: &[u8; 16]) -> ([u8; 32], [u8; 32]) {
    let x = key_offset(direction);
    let a = Sha256::new().chain_update(msg_key).chain_update(&key.key[x..x + 36]).finalize();
    let b = Sha256::new().chain_update(&key.key[40 + x..76 + x]).chain_update(msg_key).finalize();
    let mut aes_key = [0u8; 32];
    aes_key[..8].copy_from_slice(&a[..8]);
    aes_key[8..24].copy_from_slice(&b[8..24]);
    aes_key[24..].copy_from_slice(&a[24..32]);
    let mut aes_iv = [0u8; 32];
    aes_iv[..8].copy_from_slice(&b[..8]);
    aes_iv[8..24].copy_from_slice(&a[8..24]);
    aes_iv[24..].copy_from_slice(&b[24..32]);
    (aes_key, aes_iv)
}

type IgeDec = ige::Decryptor<Aes256>;
type IgeEnc = ige::Encryptor<Aes256>;

fn ige_decrypt(aes_key: &[u8; 32], aes_iv: &[u8; 32], buf: &mut [u8]) {
    let (blocks, rest) = aes::Block::slice_as_chunks_mut(buf);
    debug_assert!(rest.is_empty());
    IgeDec::new(aes_key.into(), aes_iv.into()).decrypt_blocks(blocks);
}

fn ige_encrypt(aes_key: &[u8; 32], aes_iv: &[u8; 32], buf: &mut [u8]) {
    let (blocks, rest) = aes::Block::slice_as_chunks_mut(buf);
    debug_assert!(rest.is_empty());
    IgeEnc::new(aes_key.into(), aes_iv.into()).encrypt_blocks(blocks);
}

/// Decrypt an MTProto 2.0 message with `key`, checking `msg_key`, the inner
/// length and the padding.
pub fn decrypt_message(key: &AuthKey, direction: Direction, payload: &[u8]) -> Result<DecryptedMessage, EnvelopeError> {
    decrypt_message_in(key, direction, payload.to_vec())
}

/// [`decrypt_message`], decrypting in `payload`'s own buffer, which becomes
/// the body's.
pub fn decrypt_message_in(
    key: &AuthKey,
    direction: Direction,
    mut payload: Vec<u8>,
) -> Result<DecryptedMessage, EnvelopeError> {
    // The smallest message: header and one 16-byte-aligned plaintext holding
    // the 32-byte inner header, no body and 16 bytes of padding.
    const MIN: usize = ENCRYPTED_HEADER_LEN + PLAINTEXT_HEADER_LEN + 16;
    if payload.len() < MIN {
        return Err(EnvelopeError::TooShort { len: payload.len(), needed: MIN, what: "an encrypted message" });
    }
    let auth_key_id = u64_at(&payload, 0);
    let mut msg_key = [0u8; 16];
    msg_key.copy_from_slice(&payload[8..24]);
    let plaintext = &mut payload[ENCRYPTED_HEADER_LEN..];
    if plaintext.len() % 16 != 0 {
        return Err(EnvelopeError::NotBlockAligned { len: plaintext.len() });
    }

    let (aes_key, aes_iv) = derive_aes(key, direction, &msg_key);
    ige_decrypt(&aes_key, &aes_iv, plaintext);
    if compute_msg_key(key, direction, plaintext) != msg_key {
        // Tell a wrong direction from a wrong key: the derivation differs
        // only in x, so try the other one, on the ciphertext again
        // (encrypting with the same key and iv gives it back).
        ige_encrypt(&aes_key, &aes_iv, plaintext);
        let other = direction.reverse();
        let (k2, iv2) = derive_aes(key, other, &msg_key);
        ige_decrypt(&k2, &iv2, plaintext);
        return Err(EnvelopeError::MsgKeyMismatch {
            auth_key_id,
            direction,
            other_direction: compute_msg_key(key, other, plaintext) == msg_key,
        });
    }

    let plaintext = &payload[ENCRYPTED_HEADER_LEN..];
    let length = u32_at(plaintext, 28);
    let available = plaintext.len() - PLAINTEXT_HEADER_LEN;
    let len = usize::try_from(length).unwrap_or(usize::MAX);
    if len > available.saturating_sub(MIN_PADDING) || len % 4 != 0 {
        return Err(EnvelopeError::InnerLength { offset: 28, length, available });
    }
    let padding_len = available - len;
    if padding_len > MAX_PADDING {
        return Err(EnvelopeError::Padding { offset: PLAINTEXT_HEADER_LEN + len, padding: padding_len });
    }
    let (salt, session_id) = (u64_at(plaintext, 0) as i64, u64_at(plaintext, 8) as i64);
    let (msg_id, seq_no) = (u64_at(plaintext, 16) as i64, u32_at(plaintext, 24) as i32);
    // The body moves to the front of the buffer it was decrypted in: no
    // allocation for a payload the caller gave up (the capture benchmark
    // decrypts hundreds of thousands).
    let body = ENCRYPTED_HEADER_LEN + PLAINTEXT_HEADER_LEN;
    payload.truncate(body + len);
    payload.drain(..body);
    Ok(DecryptedMessage { auth_key_id, msg_key, salt, session_id, msg_id, seq_no, data: payload, padding_len })
}

/// The fields of a message to encrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage<'a> {
    pub salt: i64,
    pub session_id: i64,
    pub msg_id: i64,
    pub seq_no: i32,
    pub data: &'a [u8],
}

/// Encrypt a message with `key` as it would travel in `direction`.
/// `padding` must be 12..=1024 bytes and bring the plaintext to a multiple
/// of 16; the caller chooses it so fixtures are reproducible.
pub fn encrypt_message(
    key: &AuthKey,
    direction: Direction,
    message: &OutgoingMessage<'_>,
    padding: &[u8],
) -> Result<Vec<u8>, String> {
    let total = PLAINTEXT_HEADER_LEN + message.data.len() + padding.len();
    if !(MIN_PADDING..=MAX_PADDING).contains(&padding.len()) || total % 16 != 0 {
        return Err(format!("padding of {} bytes does not make a valid plaintext of {} bytes", padding.len(), total));
    }
    let length = u32::try_from(message.data.len()).map_err(|_| "message too long".to_string())?;
    // The plaintext is written after room for the header (key id and
    // msg_key) and encrypted where it lies: one buffer for the message.
    let mut out = Vec::with_capacity(ENCRYPTED_HEADER_LEN + total);
    out.extend_from_slice(&[0; ENCRYPTED_HEADER_LEN]);
    out.extend_from_slice(&message.salt.to_le_bytes());
    out.extend_from_slice(&message.session_id.to_le_bytes());
    out.extend_from_slice(&message.msg_id.to_le_bytes());
    out.extend_from_slice(&message.seq_no.to_le_bytes());
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(message.data);
    out.extend_from_slice(padding);
    encrypt_behind_header(key, direction, &mut out);
    Ok(out)
}

/// Encrypt a whole plaintext (header, body and padding, a multiple of 16).
pub fn encrypt_plaintext(key: &AuthKey, direction: Direction, plaintext: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENCRYPTED_HEADER_LEN + plaintext.len());
    out.extend_from_slice(&[0; ENCRYPTED_HEADER_LEN]);
    out.extend_from_slice(&plaintext);
    encrypt_behind_header(key, direction, &mut out);
    out
}

/// Encrypt the plaintext that follows `ENCRYPTED_HEADER_LEN` bytes of room
/// in `message`, in place, and write the header (key id and msg_key) there.
fn encrypt_behind_header(key: &AuthKey, direction: Direction, message: &mut [u8]) {
    let (header, plaintext) = message.split_at_mut(ENCRYPTED_HEADER_LEN);
    let msg_key = compute_msg_key(key, direction, plaintext);
    let (aes_key, aes_iv) = derive_aes(key, direction, &msg_key);
    let whole = plaintext.len() - plaintext.len() % 16;
    ige_encrypt(&aes_key, &aes_iv, &mut plaintext[..whole]);
    header[..8].copy_from_slice(&key.id.to_le_bytes());
    header[8..].copy_from_slice(&msg_key);
}

/// An unencrypted message around `data`.
pub fn plain_message(msg_id: i64, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PLAIN_HEADER_LEN + data.len());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&msg_id.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The real client's key and two of its frames from
    // corpus/captures/abridged.pcap (frames 2 and 3 of MANIFEST.json).
    const AUTH_KEY_HEX: &str =
        "7bd0aa0354305c132aa3137d3f57da3bcc5f4902f0834385a7b8b081279714e015337c6097cbabfb071e6b9a2d42331c33cc";

    /// The key file shipped in the repository; a clone without it fails
    /// here rather than passing without testing anything.
    fn real_key() -> AuthKey {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/captures/auth_key.hex");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let key = parse_auth_key(text.as_bytes()).unwrap();
        assert_eq!(key.id(), 0x5fb3_31cd_7431_0554, "{path} is not the real client's key");
        assert_eq!(hex(&key.bytes()[..50]), AUTH_KEY_HEX, "{path} is not the real client's key");
        key
    }

    fn hex(b: &[u8]) -> String {
        crate::hex::encode(b)
    }

    fn test_key() -> AuthKey {
        let mut k = [0u8; 256];
        for (i, b) in k.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
        AuthKey::new(k)
    }

    const C2S_FRAME: &str = "54053174cd31b35f11affdaa5427ac21323858d30de51ed6266f8bd3a9358823cacebb631ab86e24fdd5e35bd6fd4b1a12592749044237322a0e950d0099b2085726fe2e21cb5337eebc3b687d4924e54138f32b598517aa8914014a59e7270ab7cf72249cd09edcd149fcbfbe787de14b5d763a02bb76452c764ff7a2d9e420ecc5951dbdc515a2241cdd3fcfff46b1cce2027083e29f997784a0a530ad70709e8e7aee59e53e9f468e8f76aa7c796ea3082269ab5d1dc96280a6a98524907029d025c275b4fc81";
    const C2S_PLAINTEXT: &str = "f90d0000e95d450a230200d0a110555e6cbec2b3c6f4076b01000000780000000d0d9bdadf000000a95ecdc100000000075409000b6f7261636c652d70636170054c696e757800000f54656c6574686f6e20312e34352e3002656e000000000002656e0090de55a439000000ea183b7f00d2496b114c617965722032323320f09f94972023300000586d4105008d2700fa00000000000000ce416c849a9fdd98a669f5e4c01ddaf6378c482993733cf1";
    const S2C_FRAME: &str = "54053174cd31b35f5c0b81082045eec221af8d3da120381f736d9f1c1358fffb700a55c5bb1a00804f3cc3addbc3cf4fdfc896b4fc0a3390e4c77170a5a9d259b8c896b1ce4057a123196c00de737faf09900ab66ab9660b4b98fb62ed77dbfcc7c9a6001cd42cb798b1daa68ea94ab88a69306ed816a27951057c343bccbeac07b9fb061a0c97468729f28afc50774827bc059c70e0b88b9c1d0558fbf5885b25d22bba2b4a5a759b16fa25a6d787fdeca8692cb4ff922f";
    const S2C_PLAINTEXT: &str = "f90d0000e95d450a230200d0a110555e017877c1c6f4076b0100000070000000016d5cf36cbec2b3c6f4076b96bd2ca2ca0300001e68747470733a2f2f742e6d652f2b396361353537643035303562343164300028db0b00000000000078e76800d2496b0000000003000000114c617965722032323320f09f94972023300000586d4105008d2700fa00000000000000914eaa360d47f1dcf917eeec1bac0d02";

    fn store(key: AuthKey) -> KeyStore {
        let mut s = KeyStore::new();
        s.insert(key);
        s
    }

    #[test]
    fn real_capture_messages_decrypt_in_both_directions() {
        let keys = store(real_key());
        for (frame, plaintext, dir, msg_id, seq_no, len, pad) in [
            (C2S_FRAME, C2S_PLAINTEXT, Direction::ClientToServer, 7712402021151850092i64, 1, 120, 24),
            (S2C_FRAME, S2C_PLAINTEXT, Direction::ServerToClient, 7712402021381797889, 1, 112, 16),
        ] {
            let payload = crate::hex::parse(frame).unwrap();
            let Envelope::Encrypted(m) = open_message(&payload, dir, &keys).unwrap() else { panic!("not decrypted") };
            let plaintext = crate::hex::parse(plaintext).unwrap();
            assert_eq!(m.auth_key_id, 0x5fb3_31cd_7431_0554);
            assert_eq!(m.salt, 740100969081081337);
            assert_eq!(m.session_id, 6797357499751072291);
            assert_eq!(m.msg_id, msg_id);
            assert_eq!(m.seq_no, seq_no);
            assert_eq!(m.data.len(), len);
            assert_eq!(m.padding_len, pad);
            assert_eq!(m.data, plaintext[32..32 + len]);

            // Re-encrypting the manifest's plaintext gives the captured bytes.
            assert_eq!(encrypt_plaintext(&real_key(), dir, plaintext), payload);
        }
    }

    #[test]
    fn wrong_direction_is_named() {
        let keys = store(real_key());
        let payload = crate::hex::parse(C2S_FRAME).unwrap();
        let err = open_message(&payload, Direction::ServerToClient, &keys).unwrap_err();
        assert_eq!(
            err,
            EnvelopeError::MsgKeyMismatch {
                auth_key_id: 0x5fb3_31cd_7431_0554,
                direction: Direction::ServerToClient,
                other_direction: true
            }
        );
        assert!(err.to_string().contains("wrong direction"), "{err}");
    }

    #[test]
    fn auth_key_id_is_last_8_bytes_of_sha1() {
        let key = test_key();
        let digest = Sha1::digest(key.bytes());
        assert_eq!(key.id().to_le_bytes(), digest[12..20]);
    }

    #[test]
    fn round_trip_and_wrong_key() {
        let key = test_key();
        let body = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let msg = OutgoingMessage { salt: -5, session_id: 77, msg_id: 0x1234_5678_0000_0004, seq_no: 3, data: &body };
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let wire = encrypt_message(&key, dir, &msg, &[0xaa; 24]).unwrap();
            let m = decrypt_message(&key, dir, &wire).unwrap();
            assert_eq!((m.salt, m.session_id, m.msg_id, m.seq_no), (-5, 77, msg.msg_id, 3));
            assert_eq!(m.data, body);
            assert_eq!(m.padding_len, 24);
        }
        // A different key with the same id (forged) fails the msg_key check.
        let wire = encrypt_message(&key, Direction::ClientToServer, &msg, &[0; 24]).unwrap();
        let mut other = *key.bytes();
        other[100] ^= 1;
        let other = AuthKey { key: Box::new(other), id: key.id() };
        let err = decrypt_message(&other, Direction::ClientToServer, &wire).unwrap_err();
        assert!(matches!(err, EnvelopeError::MsgKeyMismatch { other_direction: false, .. }));
        assert!(err.to_string().contains("wrong key"), "{err}");
    }

    #[test]
    fn unknown_key_is_listed() {
        let wire = encrypt_message(
            &test_key(),
            Direction::ClientToServer,
            &OutgoingMessage { salt: 0, session_id: 0, msg_id: 4, seq_no: 0, data: &[0; 4] },
            &[0; 28],
        )
        .unwrap();
        let got = open_message(&wire, Direction::ClientToServer, &KeyStore::new()).unwrap();
        assert_eq!(got, Envelope::UnknownKey { auth_key_id: test_key().id() });
    }

    #[test]
    fn plain_messages() {
        let wire = plain_message(8, &[9, 9, 9, 9]);
        assert_eq!(
            open_message(&wire, Direction::ClientToServer, &KeyStore::new()).unwrap(),
            Envelope::Plain { msg_id: 8, data: &[9, 9, 9, 9], trailing: 0 }
        );
        let mut long = wire.clone();
        long[16] = 0xff;
        long[19] = 0xff;
        let err = open_message(&long, Direction::ClientToServer, &KeyStore::new()).unwrap_err();
        assert!(err.to_string().starts_with("error at byte 0x10 in message.length"), "{err}");
        assert!(matches!(
            open_message(&wire[..12], Direction::ClientToServer, &KeyStore::new()),
            Err(EnvelopeError::TooShort { .. })
        ));
    }

    #[test]
    fn bad_inner_length_and_padding_are_errors() {
        let key = test_key();
        let keys = store(key.clone());
        let mut header = Vec::new();
        header.extend_from_slice(&[0u8; 28]);
        // length 1000 in a 64-byte plaintext
        header.extend_from_slice(&1000u32.to_le_bytes());
        header.extend_from_slice(&[0u8; 32]);
        let wire = encrypt_plaintext(&key, Direction::ClientToServer, header);
        let err = open_message(&wire, Direction::ClientToServer, &keys).unwrap_err();
        assert!(matches!(err, EnvelopeError::InnerLength { offset: 28, length: 1000, .. }), "{err}");

        // 1040 bytes of padding
        let mut pt = vec![0u8; 32 + 1040];
        pt[28..32].copy_from_slice(&0u32.to_le_bytes());
        let wire = encrypt_plaintext(&key, Direction::ClientToServer, pt);
        let err = open_message(&wire, Direction::ClientToServer, &keys).unwrap_err();
        assert_eq!(err, EnvelopeError::Padding { offset: 32, padding: 1040 });

        // Not block aligned, too short.
        assert!(matches!(
            open_message(&wire[..wire.len() - 3], Direction::ClientToServer, &keys),
            Err(EnvelopeError::NotBlockAligned { .. })
        ));
        assert!(matches!(
            open_message(&wire[..40], Direction::ClientToServer, &keys),
            Err(EnvelopeError::TooShort { .. })
        ));
    }

    #[test]
    fn key_parsing() {
        let key = test_key();
        let hex_text = hex(key.bytes());
        assert_eq!(parse_auth_key(hex_text.as_bytes()).unwrap().id(), key.id());
        assert_eq!(parse_auth_key(key.bytes()).unwrap().id(), key.id());
        let spaced = format!("{}\n{}\n", &hex_text[..256], &hex_text[256..]);
        assert_eq!(parse_auth_key(spaced.as_bytes()).unwrap().id(), key.id());
        assert!(parse_auth_key(b"abcd").is_err());
        let log = format!("# keys\n\n{hex_text}\n");
        assert_eq!(parse_keylog(&log).unwrap().len(), 1);
        let err = parse_keylog("# x\nzz\n").unwrap_err();
        assert!(err.to_string().starts_with("line 2"), "{err}");
    }
}
