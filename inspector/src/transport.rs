//! MTProto TCP transports: from the two ordered byte streams of a connection
//! to the packets (MTProto messages) they carry.
//!
//! A [`TransportConnection`] is fed bytes as they arrive, per direction, and
//! pushes [`TransportEvent`]s: frames, quick acks, transport error codes and
//! problems. A frame split over many feeds, or many frames in one feed, come
//! out the same. The transport is detected from the client's first bytes
//! (or forced): abridged, intermediate, padded intermediate, full, and
//! obfuscated2 (optionally with an MTProxy secret) in front of the first
//! three, and MTProxy's fake TLS (`ee` secrets, see [`faketls`]) around
//! obfuscated2. The server's direction has no tag: it follows what the client
//! chose, so its bytes wait until the client's have been recognised.
//!
//! After a gap (bytes lost from the capture) a direction is resynchronised:
//! the bytes after the gap are scanned for a plausible frame, one whose
//! length prefix frames an MTProto message with a known auth_key_id (or an
//! unencrypted message whose own length agrees). A connection whose start
//! was not captured is recognised the same way, by trying each plain
//! framing and keeping the one under which consecutive frames chain up
//! (an obfuscated connection cannot be read without its first 64 bytes).
//!
//! Buffers only ever hold bytes that arrived; a length prefix is never used
//! to reserve memory, and a length beyond [`MAX_FRAME_LEN`] stops that
//! direction with an error instead of waiting forever.

use std::collections::HashSet;
use std::fmt;

use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use aes::Aes256;
use sha2::{Digest, Sha256};

use crate::tcp::Direction;

pub mod faketls;

use faketls::FakeTlsLayer;
pub use faketls::{
    encode_client_hello, encode_records, encode_server_flight, is_fake_tls_secret, parse_client_hello, secret_domain,
    verify_client_hello, verify_server_flight, ClientHello, FakeTlsInfo,
};

/// The largest frame accepted. Telegram's own limit is far lower (about
/// 1 MiB); a bigger length means the stream is not what we think it is.
pub const MAX_FRAME_LEN: usize = 32 << 20;

/// How many bytes of a connection seen from the middle are searched for
/// plain-transport frames before giving up on it.
pub const MAX_MID_STREAM_SEARCH: usize = 1 << 20;

/// The most distinct auth_key_ids remembered per connection for
/// resynchronisation (real connections use one or two).
const MAX_SEEN_KEY_IDS: usize = 16;

/// The framing inside (or without) obfuscation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    Abridged,
    Intermediate,
    PaddedIntermediate,
    Full,
}

impl Framing {
    pub fn name(self) -> &'static str {
        match self {
            Framing::Abridged => "abridged",
            Framing::Intermediate => "intermediate",
            Framing::PaddedIntermediate => "padded_intermediate",
            Framing::Full => "full",
        }
    }

    /// The 4-byte tag that announces this framing (inside obfuscation, or
    /// in the clear for the tagged transports).
    pub fn tag(self) -> Option<[u8; 4]> {
        match self {
            Framing::Abridged => Some([0xef; 4]),
            Framing::Intermediate => Some([0xee; 4]),
            Framing::PaddedIntermediate => Some([0xdd; 4]),
            Framing::Full => None,
        }
    }

    fn from_tag(tag: [u8; 4]) -> Option<Framing> {
        match tag {
            [0xef, 0xef, 0xef, 0xef] => Some(Framing::Abridged),
            [0xee, 0xee, 0xee, 0xee] => Some(Framing::Intermediate),
            [0xdd, 0xdd, 0xdd, 0xdd] => Some(Framing::PaddedIntermediate),
            _ => None,
        }
    }
}

/// What a connection turned out to use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransportInfo {
    pub framing: Framing,
    pub obfuscated: bool,
    pub mtproxy: bool,
    /// The DC id from the obfuscation header, when there was one.
    pub dc_id: Option<i16>,
    /// The fake-TLS layer's hello (SNI, client time), when there was one;
    /// shared, since every message of the connection carries its transport.
    pub fake_tls: Option<std::sync::Arc<FakeTlsInfo>>,
}

impl fmt::Display for TransportInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mtproxy {
            f.write_str("mtproxy+")?;
            if let Some(tls) = &self.fake_tls {
                write!(f, "{tls}+")?;
            }
        } else if self.obfuscated {
            f.write_str("obfuscated2+")?;
        }
        f.write_str(self.framing.name())
    }
}

/// How to pick the transport: detect it, or force it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportOptions {
    /// Force this framing instead of detecting it. With `obfuscated`, the
    /// first 64 bytes are still required (they hold the keys) and the tag
    /// inside must agree.
    pub forced: Option<(Framing, bool)>,
    /// An MTProxy secret (16 bytes; a 17-byte secret with a leading `dd`
    /// selects padded intermediate; `ee`, 16 bytes and a domain name select
    /// fake TLS).
    pub mtproxy_secret: Option<Vec<u8>>,
    /// auth_key_ids that make a frame plausible when looking for frame
    /// boundaries (after a gap, or in a connection seen from the middle).
    /// Ids seen in the connection's own frames are added as they come.
    pub known_key_ids: Vec<u64>,
}

/// Parse an MTProxy secret from hex: 16 bytes, 17 with a `dd` prefix, or
/// `ee`, 16 bytes and the hex of the fake-TLS domain name.
pub fn parse_mtproxy_secret(text: &str) -> Result<Vec<u8>, String> {
    let bytes = crate::hex::parse(text)?;
    match bytes.len() {
        16 => Ok(bytes),
        17 if bytes[0] == 0xdd => Ok(bytes),
        17 if bytes[0] == 0xee => {
            Err("an ee (fake-TLS) MTProxy secret is ee, 16 bytes and the hex of a domain name; the domain is missing".into())
        }
        n if n > 17 && bytes[0] == 0xee => match std::str::from_utf8(&bytes[17..]) {
            Ok(domain) if domain.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) => Ok(bytes),
            _ => Err(format!(
                "the {} bytes after the 16 of an ee (fake-TLS) MTProxy secret are not a domain name",
                n - 17
            )),
        },
        n => Err(format!(
            "an MTProxy secret is 16 bytes (32 hex digits), optionally prefixed by dd, or ee followed by 16 bytes and a domain name; found {n} bytes"
        )),
    }
}

/// One thing a transport stream carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEvent {
    /// The transport was recognised (emitted once, before any frame).
    Detected(TransportInfo),
    /// A packet: the MTProto message it carries, padding removed.
    Frame(TransportFrame),
    /// A quick acknowledgement from the server (top bit set).
    QuickAck { direction: Direction, stream_offset: u64, token: u32 },
    /// A 4-byte packet holding a negative code (-404, -429, -444).
    TransportError { direction: Direction, stream_offset: u64, code: i32 },
    /// Something wrong; the message says whether decoding goes on.
    Problem(TransportProblem),
}

/// A frame and where it stood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFrame {
    pub direction: Direction,
    /// Offset of the frame's first header byte in this direction's stream.
    pub stream_offset: u64,
    /// Bytes on the wire: header, payload, padding, checksum.
    pub wire_len: usize,
    pub payload: Vec<u8>,
    /// The client asked for a quick ack of this frame.
    pub quick_ack_requested: bool,
    /// The full transport's sequence number.
    pub seq_no: Option<u32>,
    /// Padding bytes removed (padded intermediate).
    pub padding: usize,
}

/// A problem in a stream, one line, naming the stream offset and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportProblem {
    pub direction: Direction,
    pub stream_offset: u64,
    pub field: &'static str,
    pub message: String,
    /// Whether this direction stops being decoded.
    pub fatal: bool,
}

impl fmt::Display for TransportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} stream offset {} in {}: {}", self.direction, self.stream_offset, self.field, self.message)?;
        if self.fatal {
            f.write_str(" (rest of this direction skipped)")?;
        }
        Ok(())
    }
}

type Ctr = ctr::Ctr128BE<Aes256>;

/// The obfuscation ciphers derived from the first 64 bytes.
struct Obfuscation {
    c2s: Ctr,
    s2c: Ctr,
    /// The decrypted header (bytes 56..64 hold the tag and DC id).
    header: [u8; 64],
}

impl Obfuscation {
    fn new(init: &[u8; 64], secret: Option<&[u8]>) -> Obfuscation {
        let mut reversed = [0u8; 48];
        reversed.copy_from_slice(&init[8..56]);
        reversed.reverse();
        let key = |raw: &[u8]| -> [u8; 32] {
            let mut k = [0u8; 32];
            match secret {
                Some(s) => k.copy_from_slice(&Sha256::new().chain_update(raw).chain_update(s).finalize()),
                None => k.copy_from_slice(raw),
            }
            k
        };
        let c2s_key = key(&init[8..40]);
        let s2c_key = key(&reversed[..32]);
        let mut c2s_iv = [0u8; 16];
        c2s_iv.copy_from_slice(&init[40..56]);
        let mut s2c_iv = [0u8; 16];
        s2c_iv.copy_from_slice(&reversed[32..48]);
        let mut c2s = Ctr::new(&c2s_key.into(), &c2s_iv.into());
        let s2c = Ctr::new(&s2c_key.into(), &s2c_iv.into());
        // The client encrypted all 64 bytes, so the keystream continues
        // after them; the decrypted header shows the tag.
        let mut header = *init;
        c2s.apply_keystream(&mut header);
        Obfuscation { c2s, s2c, header }
    }

    fn tag(&self) -> [u8; 4] {
        [self.header[56], self.header[57], self.header[58], self.header[59]]
    }

    fn dc_id(&self) -> i16 {
        i16::from_le_bytes([self.header[60], self.header[61]])
    }

    fn cipher(&mut self, dir: Direction) -> &mut Ctr {
        match dir {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        }
    }
}

/// Whether the first bytes of a client stream may start an obfuscated2
/// header (the rules clients follow when choosing the random bytes).
pub fn may_be_obfuscated(first: &[u8]) -> bool {
    if first.len() < 8 {
        return false;
    }
    let head = [first[0], first[1], first[2], first[3]];
    first[0] != 0xef
        && !matches!(
            &head,
            b"HEAD"
                | b"POST"
                | b"GET "
                | b"OPTI"
                | [0xdd, 0xdd, 0xdd, 0xdd]
                | [0xee, 0xee, 0xee, 0xee]
                | [0x16, 0x03, 0x01, 0x02]
        )
        && first[4..8] != [0, 0, 0, 0]
}

/// Per-direction deframing state.
#[derive(Default)]
struct Half {
    /// Deobfuscated bytes not yet consumed; `buf[start..]` is live.
    buf: Vec<u8>,
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    /// Raw bytes seen (deobfuscation position).
    raw_seen: u64,
    /// The next expected full-transport sequence number.
    full_seq: u32,
    /// Set once the direction can no longer be followed.
    dead: bool,
    /// Looking for the next frame boundary (after a gap).
    resync: bool,
    /// Stream offset before which a mid-stream search has ruled out every
    /// position for good (more bytes cannot change a refusal), so that the
    /// next segment resumes the search there instead of starting over:
    /// otherwise each segment rescanned up to a MiB of an unreadable stream.
    searched_to: u64,
}

impl Half {
    /// Jump `at` bytes to a frame a search found, taking up its full-transport
    /// sequence number; skipped bytes are reported with `why(new offset)`.
    fn skip_to(
        &mut self,
        dir: Direction,
        at: usize,
        full_seq: Option<u32>,
        why: impl FnOnce(u64) -> String,
    ) -> Option<TransportEvent> {
        let from = self.offset;
        self.consume(at);
        if let Some(seq) = full_seq {
            self.full_seq = seq;
        }
        (at > 0).then(|| problem(dir, from, "stream", why(self.offset), false))
    }

    fn live(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
        if self.start == self.buf.len() {
            // Everything read: start over at the front, so that frames
            // that arrive whole reuse the same room instead of growing the
            // buffer with the stream until the compaction below.
            self.buf.clear();
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            // Compact once the dead prefix dominates, so the buffer stays
            // proportional to the unconsumed bytes.
            self.buf.drain(..self.start);
        } else {
            return;
        }
        self.start = 0;
        // Give back what one large frame grew the buffer to: kept, it
        // stayed with the connection to its end (the capture benchmark's
        // peak RSS showed 8 MiB left by a 4 MiB frame).
        const KEEP: usize = 64 << 10;
        if self.buf.capacity() > KEEP && self.buf.capacity() / 4 > self.buf.len() {
            self.buf.shrink_to((self.buf.len() * 2).max(KEEP));
        }
    }

    fn clear(&mut self) {
        let n = self.live().len();
        self.consume(n);
    }
}

enum State {
    /// Waiting for the client's first bytes.
    Detecting,
    /// The connection's start was not captured: looking for plain frames.
    DetectingMidStream,
    Ready(TransportInfo),
    /// Fake TLS around an inner connection.
    FakeTls(Box<FakeTlsLayer>),
    /// Nothing can be read from this connection.
    Failed,
}

/// The transport layer of one TCP connection, both directions.
pub struct TransportConnection {
    options: TransportOptions,
    state: State,
    obfuscation: Option<Obfuscation>,
    c2s: Half,
    s2c: Half,
    /// Server bytes that arrived before the client's were recognised.
    s2c_pending: Vec<u8>,
    /// auth_key_ids of frames seen so far, for resynchronisation.
    seen_key_ids: HashSet<u64>,
}

impl TransportConnection {
    /// A connection whose client stream starts at its first byte.
    pub fn new(options: TransportOptions) -> Self {
        TransportConnection {
            options,
            state: State::Detecting,
            obfuscation: None,
            c2s: Half::default(),
            s2c: Half::default(),
            s2c_pending: Vec::new(),
            seen_key_ids: HashSet::new(),
        }
    }

    /// A connection whose start was not captured: the streams start
    /// anywhere, so the framing is recognised from the frames themselves
    /// (plain transports only). A forced plain transport is trusted to
    /// start at the first captured byte instead.
    pub fn mid_stream(options: TransportOptions) -> Self {
        let forced_plain = matches!(options.forced, Some((_, false))) && options.mtproxy_secret.is_none();
        let mut conn = TransportConnection::new(options);
        if !forced_plain {
            conn.state = State::DetectingMidStream;
        }
        conn
    }

    /// Memory reserved for bytes waiting for the rest of a frame (or for
    /// the client's first bytes). Buffers grow with what arrived, never
    /// with what a length prefix announces, so this stays within a small
    /// multiple of the bytes fed.
    pub fn buffered_bytes(&self) -> usize {
        let layer = match &self.state {
            State::FakeTls(layer) => layer.buffered_bytes(),
            _ => 0,
        };
        self.c2s.buf.capacity() + self.s2c.buf.capacity() + self.s2c_pending.capacity() + layer
    }

    /// The transport, once known.
    pub fn info(&self) -> Option<TransportInfo> {
        match &self.state {
            State::Ready(info) => Some(info.clone()),
            State::FakeTls(layer) => layer.info(),
            _ => None,
        }
    }

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        }
    }

    /// Bytes that arrived in `dir`, in stream order.
    pub fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TransportEvent>) {
        if bytes.is_empty() {
            return;
        }
        match &mut self.state {
            State::Failed => {}
            State::FakeTls(layer) => layer.feed(dir, bytes, out),
            State::DetectingMidStream => {
                let half = self.half(dir);
                half.buf.extend_from_slice(bytes);
                half.raw_seen += bytes.len() as u64;
                self.detect_mid_stream(dir, out);
            }
            State::Detecting => match dir {
                Direction::ServerToClient => self.s2c_pending.extend_from_slice(bytes),
                Direction::ClientToServer => {
                    self.c2s.buf.extend_from_slice(bytes);
                    self.c2s.raw_seen += bytes.len() as u64;
                    self.detect(out);
                    if let State::FakeTls(layer) = &mut self.state {
                        let first = std::mem::take(&mut self.c2s.buf);
                        let pending = std::mem::take(&mut self.s2c_pending);
                        layer.feed(Direction::ClientToServer, &first, out);
                        layer.feed(Direction::ServerToClient, &pending, out);
                        self.c2s = Half::default();
                    }
                    if let State::Ready(_) = self.state {
                        self.deframe(Direction::ClientToServer, out);
                        let pending = std::mem::take(&mut self.s2c_pending);
                        if !pending.is_empty() {
                            self.feed(Direction::ServerToClient, &pending, out);
                        }
                    }
                }
            },
            State::Ready(_) => {
                let half = match dir {
                    Direction::ClientToServer => &mut self.c2s,
                    Direction::ServerToClient => &mut self.s2c,
                };
                if half.dead {
                    return;
                }
                let at = half.buf.len();
                half.buf.extend_from_slice(bytes);
                let position = half.raw_seen;
                half.raw_seen += bytes.len() as u64;
                if let Some(obf) = &mut self.obfuscation {
                    let half = match dir {
                        Direction::ClientToServer => &mut self.c2s,
                        Direction::ServerToClient => &mut self.s2c,
                    };
                    // The keystream position is the raw stream offset, gaps
                    // included (server bytes may have waited through one).
                    let cipher = obf.cipher(dir);
                    cipher.seek(position);
                    cipher.apply_keystream(&mut half.buf[at..]);
                }
                self.deframe(dir, out);
            }
        }
    }

    /// `len` bytes of `dir` were lost (a gap in the capture). The keystream
    /// is advanced past them, and the bytes after the gap are searched for
    /// the next frame.
    pub fn gap(&mut self, dir: Direction, len: u64, out: &mut Vec<TransportEvent>) {
        if let State::Failed = self.state {
            return;
        }
        if let State::FakeTls(layer) = &mut self.state {
            return layer.gap(dir, len, out);
        }
        if let State::DetectingMidStream = self.state {
            let half = self.half(dir);
            half.clear();
            half.offset += len;
            half.raw_seen += len;
            return;
        }
        if let State::Detecting = self.state {
            if dir == Direction::ClientToServer {
                // The client's first bytes are gone: without them an
                // obfuscated connection cannot be read, but a plain one
                // can still be recognised from its frames.
                let at = self.c2s.offset + self.c2s.live().len() as u64;
                out.push(problem(
                    dir,
                    at,
                    "stream",
                    format!(
                        "{len} bytes missing before the transport was recognised; looking for plain-transport frames"
                    ),
                    false,
                ));
                self.c2s.clear();
                self.c2s.offset = at + len;
                self.c2s.raw_seen += len;
                let pending = std::mem::take(&mut self.s2c_pending);
                self.s2c.buf = pending;
                self.s2c.raw_seen = self.s2c.buf.len() as u64;
                self.state = State::DetectingMidStream;
                return;
            }
            // The server's bytes were lost before the client was read:
            // what was pending, then the gap, then the search resumes.
            let at = self.s2c_pending.len() as u64;
            self.s2c_pending.clear();
            self.s2c.offset = at + len;
            self.s2c.raw_seen = at + len;
            self.s2c.resync = true;
            out.push(problem(dir, at, "stream", format!("{len} bytes missing; looking for the next frame"), false));
            return;
        }
        let half = self.half(dir);
        if half.dead {
            return;
        }
        let at = half.offset + half.live().len() as u64;
        // The keystream follows raw_seen (see `feed`), so the bytes after
        // the gap decrypt correctly.
        half.raw_seen += len;
        half.clear();
        half.offset = at + len;
        half.resync = true;
        out.push(problem(
            dir,
            at,
            "stream",
            format!("{len} bytes missing (lost segment); looking for the next frame"),
            false,
        ));
    }

    fn detect(&mut self, out: &mut Vec<TransportEvent>) {
        // The verdict reads at most the 64-byte obfuscation header: copied
        // to the stack, since the buffer is consumed below.
        let mut head = [0u8; 64];
        let live = self.c2s.live();
        let n = live.len().min(head.len());
        head[..n].copy_from_slice(&live[..n]);
        let first = &head[..n];
        let secret = self.options.mtproxy_secret.clone();
        let fake_tls_secret = secret.as_deref().is_some_and(is_fake_tls_secret);
        let forced_plain = matches!(self.options.forced, Some((_, false))) && secret.is_none();
        if fake_tls_secret || (secret.is_none() && !forced_plain) {
            // A TLS record header (handshake, 03 01..03 04) and a ClientHello.
            const HELLO_PREFIX: usize = 6;
            let hello = first.len() >= HELLO_PREFIX
                && first[0] == faketls::HANDSHAKE
                && first[1] == 0x03
                && (0x01..=0x04).contains(&first[2])
                && first[5] == 0x01;
            if hello {
                self.state = State::FakeTls(Box::new(FakeTlsLayer::new(self.options.clone())));
                return;
            }
            if fake_tls_secret {
                if first.len() >= HELLO_PREFIX {
                    // The verdict is made on these six bytes: showing more
                    // would make the message depend on how the stream was cut.
                    self.fail(
                        out,
                        &first[..HELLO_PREFIX],
                        "an ee (fake-TLS) secret was given, but the client did not open with a TLS ClientHello",
                    );
                }
                return;
            }
        }
        let mut obfuscated_allowed = true;
        if let Some((framing, obfuscated)) = self.options.forced {
            if !obfuscated && secret.is_none() {
                let tag_len = match framing {
                    Framing::Abridged => 1,
                    Framing::Full => 0,
                    _ => 4,
                };
                if first.len() < tag_len {
                    return;
                }
                // A forced untagged transport still skips a tag that is there.
                let skip = if framing == Framing::Full || first[..tag_len] != framing.tag().unwrap_or([0; 4])[..tag_len]
                {
                    0
                } else {
                    tag_len
                };
                self.c2s.consume(skip);
                self.ready(
                    TransportInfo { framing, obfuscated: false, mtproxy: false, dc_id: None, fake_tls: None },
                    out,
                );
                return;
            }
            obfuscated_allowed = obfuscated || secret.is_some();
        }
        if secret.is_none() && self.options.forced.is_none() {
            if first.is_empty() {
                return;
            }
            if first[0] == 0xef {
                self.c2s.consume(1);
                return self.ready(plain_info(Framing::Abridged), out);
            }
            if first.len() < 4 {
                return;
            }
            if let Some(framing @ (Framing::Intermediate | Framing::PaddedIntermediate)) =
                Framing::from_tag([first[0], first[1], first[2], first[3]])
            {
                self.c2s.consume(4);
                return self.ready(plain_info(framing), out);
            }
            if first.len() < 8 {
                return;
            }
            // Obfuscation forbids zeros in bytes 4..8; the full transport's
            // first sequence number is exactly that.
            if first[4..8] == [0, 0, 0, 0] {
                return self.ready(plain_info(Framing::Full), out);
            }
        }
        if first.len() < 8 {
            return;
        }
        if !obfuscated_allowed || !may_be_obfuscated(first) {
            self.fail(out, first, "not a known MTProto transport");
            return;
        }
        if first.len() < 64 {
            return;
        }
        let mut init = [0u8; 64];
        init.copy_from_slice(&first[..64]);
        let mut obf = Obfuscation::new(&init, secret.as_deref().map(strip_dd));
        let tag = obf.tag();
        let Some(mut framing) = Framing::from_tag(tag) else {
            let why = if secret.is_some() {
                "the obfuscation header does not decrypt to a transport tag with this MTProxy secret"
            } else {
                "the obfuscation header does not decrypt to a transport tag (an MTProxy connection needs --mtproxy-secret)"
            };
            self.fail(out, first, why);
            return;
        };
        if let Some((forced, _)) = self.options.forced {
            if forced != framing {
                out.push(problem(
                    Direction::ClientToServer,
                    56,
                    "obfuscation.tag",
                    format!(
                        "the header announces {} but {} was forced; using the forced one",
                        framing.name(),
                        forced.name()
                    ),
                    false,
                ));
                framing = forced;
            }
        }
        if secret.as_deref().is_some_and(|s| s.len() == 17) && framing != Framing::PaddedIntermediate {
            out.push(problem(
                Direction::ClientToServer,
                56,
                "obfuscation.tag",
                format!("a dd secret selects padded intermediate, but the header announces {}", framing.name()),
                false,
            ));
        }
        let info = TransportInfo {
            framing,
            obfuscated: true,
            mtproxy: secret.is_some(),
            dc_id: Some(obf.dc_id()),
            fake_tls: None,
        };
        // Everything after the header is ciphertext already in the buffer.
        self.c2s.consume(64);
        let start = self.c2s.start;
        obf.c2s.apply_keystream(&mut self.c2s.buf[start..]);
        self.obfuscation = Some(obf);
        self.ready(info, out);
    }

    fn ready(&mut self, info: TransportInfo, out: &mut Vec<TransportEvent>) {
        self.state = State::Ready(info.clone());
        out.push(TransportEvent::Detected(info));
    }

    fn fail(&mut self, out: &mut Vec<TransportEvent>, first: &[u8], why: &str) {
        self.state = State::Failed;
        // Only the 8 bytes the verdict was made on: however many more have
        // arrived depends on how the stream was cut, and the message must not.
        let shown = crate::hex::spaced(&first[..first.len().min(8)], 8);
        out.push(problem(Direction::ClientToServer, 0, "transport", format!("{why} (first bytes {shown})"), true));
    }

    fn deframe(&mut self, dir: Direction, out: &mut Vec<TransportEvent>) {
        let State::Ready(TransportInfo { framing, .. }) = self.state else { return };
        let half = match dir {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        };
        let seen = &mut self.seen_key_ids;
        while !half.dead {
            if half.resync {
                let known = KnownIds { options: &self.options.known_key_ids, seen };
                match find_frame(framing, dir, half.live(), &known) {
                    Search::Found { at, full_seq } => {
                        half.resync = false;
                        out.extend(half.skip_to(dir, at, full_seq, |offset| {
                            format!("{at} bytes skipped to the next frame at stream offset {offset}")
                        }));
                    }
                    Search::Wait { discard } => {
                        half.consume(discard);
                        break;
                    }
                }
                continue;
            }
            match next_frame(framing, dir, half) {
                Ok(Some(event)) => {
                    // Learned as it comes (resynchronisation, the only
                    // reader, starts a call, before any frame of it).
                    if let TransportEvent::Frame(f) = &event {
                        if f.payload.len() >= 8 {
                            let id = u64::from_le_bytes(f.payload[..8].try_into().unwrap_or([0; 8]));
                            if id != 0 && seen.len() < MAX_SEEN_KEY_IDS {
                                seen.insert(id);
                            }
                        }
                    }
                    out.push(event)
                }
                Ok(None) => break,
                Err((field, message)) => {
                    let at = half.offset;
                    half.dead = true;
                    half.clear();
                    out.push(problem(dir, at, field, message, true));
                }
            }
        }
    }

    /// Look for plain-transport frames in a connection seen from the
    /// middle; once a framing is found, both directions continue with it.
    fn detect_mid_stream(&mut self, dir: Direction, out: &mut Vec<TransportEvent>) {
        let known = KnownIds { options: &self.options.known_key_ids, seen: &self.seen_key_ids };
        let half = match dir {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        };
        let from = usize::try_from(half.searched_to.saturating_sub(half.offset)).unwrap_or(usize::MAX);
        let found = recognise_framing(dir, half.live(), from, &known);
        let Ok((framing, at, full_seq)) = found else {
            let half = self.half(dir);
            if let Err(resume) = found {
                half.searched_to = half.offset + resume as u64;
            }
            if half.live().len() > MAX_MID_STREAM_SEARCH {
                let at = half.offset;
                self.state = State::Failed;
                out.push(problem(
                    dir,
                    at,
                    "transport",
                    format!(
                        "no plain-transport frame found in {MAX_MID_STREAM_SEARCH} bytes of a connection seen from the middle (an obfuscated connection cannot be read without its first 64 bytes)"
                    ),
                    true,
                ));
            }
            return;
        };
        let info = plain_info(framing);
        self.ready(info, out);
        out.extend(self.half(dir).skip_to(dir, at, full_seq, |_| {
            format!("{at} bytes skipped to the first recognisable {} frame", framing.name())
        }));
        let other = dir.reverse();
        self.half(other).resync = true;
        self.deframe(dir, out);
        self.deframe(other, out);
    }
}

/// The auth_key_ids that make an encrypted message plausible.
struct KnownIds<'a> {
    options: &'a [u64],
    seen: &'a HashSet<u64>,
}

impl KnownIds<'_> {
    fn contains(&self, id: u64) -> bool {
        self.options.contains(&id) || self.seen.contains(&id)
    }
}

/// Whether a frame payload of `len` bytes starting with `head` (at least
/// 20 bytes, or all of it) looks like an MTProto message; `None` when more
/// bytes are needed to tell.
fn plausible_message(head: &[u8], len: usize, padded: bool, known: &KnownIds<'_>) -> Option<bool> {
    if len < 20 {
        return Some(false);
    }
    if head.len() < 20 {
        return None;
    }
    let auth_key_id = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8]));
    if auth_key_id == 0 {
        let msg_id = u64::from_le_bytes(head[8..16].try_into().unwrap_or([0; 8]));
        let total = 20usize.saturating_add(le32(&head[16..]) as usize);
        let fits = if padded { total <= len && len - total < 16 } else { total == len };
        return Some(msg_id != 0 && msg_id % 4 != 2 && fits);
    }
    // The smallest encrypted message: 24 bytes of header, a 32-byte inner
    // header and 16 bytes of padding.
    Some(len >= 72 && (padded || (len - 24) % 16 == 0) && known.contains(auth_key_id))
}

/// A frame header at `b[0..]`: (header length, payload length, full_seq),
/// or why not.
enum Header {
    Frame { header: usize, len: usize, full_seq: Option<u32> },
    NeedMore,
    No,
}

fn parse_header(framing: Framing, dir: Direction, b: &[u8]) -> Header {
    let server = dir == Direction::ServerToClient;
    let (header, len, full_seq) = match framing {
        Framing::Abridged => {
            let Some(&first) = b.first() else { return Header::NeedMore };
            if server && first & 0x80 != 0 {
                return Header::No; // a quick ack, not a frame
            }
            if first & 0x7f == 0x7f {
                if b.len() < 4 {
                    return Header::NeedMore;
                }
                (4, (usize::from(b[1]) | usize::from(b[2]) << 8 | usize::from(b[3]) << 16) * 4, None)
            } else {
                (1, usize::from(first & 0x7f) * 4, None)
            }
        }
        Framing::Intermediate | Framing::PaddedIntermediate => {
            if b.len() < 4 {
                return Header::NeedMore;
            }
            let word = le32(b);
            if server && word & 0x8000_0000 != 0 {
                return Header::No;
            }
            (4, (word & 0x7fff_ffff) as usize, None)
        }
        Framing::Full => {
            if b.len() < 8 {
                return Header::NeedMore;
            }
            let total = le32(b) as usize;
            if total < 12 {
                return Header::No;
            }
            (8, total - 12, Some(le32(&b[4..])))
        }
    };
    if len == 0 || len > MAX_FRAME_LEN {
        return Header::No;
    }
    Header::Frame { header, len, full_seq }
}

/// Whether a plausible frame starts at `b[0]`: its total wire length and
/// sequence number.
fn frame_at(framing: Framing, dir: Direction, b: &[u8], known: &KnownIds<'_>) -> Header {
    match parse_header(framing, dir, b) {
        Header::Frame { header, len, full_seq } => {
            let head = &b[header.min(b.len())..b.len().min(header + len.min(20))];
            match plausible_message(head, len, framing == Framing::PaddedIntermediate, known) {
                Some(true) => {
                    let trailer = if framing == Framing::Full { 4 } else { 0 };
                    Header::Frame { header, len: header + len + trailer, full_seq }
                }
                Some(false) => Header::No,
                None => Header::NeedMore,
            }
        }
        other => other,
    }
}

enum Search {
    /// A frame starts `at` bytes in.
    Found { at: usize, full_seq: Option<u32> },
    /// Nothing yet: drop `discard` bytes that cannot start a frame and
    /// wait for more.
    Wait { discard: usize },
}

/// The first position in `b` where a plausible frame starts.
fn find_frame(framing: Framing, dir: Direction, b: &[u8], known: &KnownIds<'_>) -> Search {
    for at in 0..b.len() {
        match frame_at(framing, dir, &b[at..], known) {
            Header::Frame { full_seq, .. } => return Search::Found { at, full_seq },
            Header::NeedMore => return Search::Wait { discard: at },
            Header::No => {}
        }
    }
    Search::Wait { discard: b.len() }
}

/// How a chain of frames ended.
#[derive(PartialEq, Eq)]
enum ChainEnd {
    /// The last frame ends exactly where the bytes do.
    Exact,
    /// The next frame (or its header) is not all there yet.
    Incomplete,
    /// What follows is not a plausible frame (or the chain is long enough).
    Broken,
}

/// How many plausible frames follow each other from `b[0]` (at most 4).
fn chain(framing: Framing, dir: Direction, b: &[u8], known: &KnownIds<'_>) -> (usize, ChainEnd) {
    let mut at = 0;
    let mut frames = 0;
    while frames < 4 {
        match frame_at(framing, dir, &b[at..], known) {
            Header::Frame { len, .. } if at + len <= b.len() => {
                frames += 1;
                at += len;
                if at == b.len() {
                    return (frames, ChainEnd::Exact);
                }
            }
            Header::Frame { .. } | Header::NeedMore => return (frames, ChainEnd::Incomplete),
            Header::No => break,
        }
    }
    (frames, ChainEnd::Broken)
}

/// A little-endian word whose top byte, without its top bit, is above this
/// announces more than [`MAX_FRAME_LEN`] as an intermediate length (top
/// bit masked off) and as a full-transport length (less its 12 bytes of
/// header and checksum): at least `0x0300_0000 - 12` bytes either way.
const WIDE_WORD_TOP_BYTE: u8 = 2;
const _: () = assert!(0x0300_0000 - 12 > MAX_FRAME_LEN);

/// The plain framing under which `b` holds frames: the framing, where the
/// first frame starts, and its full-transport sequence number. A framing
/// counts when two frames chain, or one ends exactly with the bytes seen;
/// the longest chain wins, so that padded frames are not read as
/// intermediate ones.
///
/// The search starts at `from` (positions before it were ruled out by an
/// earlier call on a prefix of `b`). When nothing is found, the error is
/// where the next call may start: every position before it is refused
/// whatever bytes follow (a header that is not one, a payload that cannot
/// be a message, or a frame followed by something that is not one), and
/// the one there needs more bytes to be judged.
fn recognise_framing(
    dir: Direction,
    b: &[u8],
    from: usize,
    known: &KnownIds<'_>,
) -> Result<(Framing, usize, Option<u32>), usize> {
    const ORDER: [Framing; 4] = [Framing::Intermediate, Framing::Abridged, Framing::Full, Framing::PaddedIntermediate];
    for at in from.min(b.len())..b.len() {
        let mut best: Option<(usize, Framing)> = None;
        let mut waiting = false;
        // At most positions of bytes that are not frames the 4-byte word
        // there announces more than the frame limit: intermediate, padded
        // intermediate and full then refuse the position (parse_header's
        // `len > MAX_FRAME_LEN`), whatever follows, so only abridged (a
        // 1-byte length) is tried there. Telling so from one byte spares
        // three header parses per such position. With fewer than 8 bytes
        // left, full would ask for more, so every framing is tried as
        // before. The outcome is the same: a framing skipped would have
        // answered `Header::No`, which changes neither `best` nor `waiting`.
        let wide_word = b.len() - at >= 8 && b[at + 3] & 0x7f > WIDE_WORD_TOP_BYTE;
        for framing in ORDER {
            if wide_word && framing != Framing::Abridged {
                continue;
            }
            match frame_at(framing, dir, &b[at..], known) {
                Header::Frame { len, .. } if at + len > b.len() => waiting = true,
                Header::Frame { .. } => {
                    let (frames, end) = chain(framing, dir, &b[at..], known);
                    let score = frames + usize::from(end == ChainEnd::Exact);
                    if score >= 2 && best.is_none_or(|(s, _)| score > s) {
                        best = Some((score, framing));
                    } else if score < 2 && end == ChainEnd::Incomplete {
                        waiting = true;
                    }
                }
                Header::NeedMore => waiting = true,
                Header::No => {}
            }
        }
        if let Some((_, framing)) = best {
            let full_seq = match parse_header(framing, dir, &b[at..]) {
                Header::Frame { full_seq, .. } => full_seq,
                _ => None,
            };
            return Ok((framing, at, full_seq));
        }
        if waiting {
            // A candidate here needs more bytes before it can be judged.
            return Err(at);
        }
    }
    Err(b.len())
}

fn strip_dd(secret: &[u8]) -> &[u8] {
    if secret.len() == 17 {
        &secret[1..]
    } else {
        secret
    }
}

fn plain_info(framing: Framing) -> TransportInfo {
    TransportInfo { framing, obfuscated: false, mtproxy: false, dc_id: None, fake_tls: None }
}

fn problem(
    direction: Direction,
    stream_offset: u64,
    field: &'static str,
    message: String,
    fatal: bool,
) -> TransportEvent {
    TransportEvent::Problem(TransportProblem { direction, stream_offset, field, message, fatal })
}

type FrameResult = Result<Option<TransportEvent>, (&'static str, String)>;

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// The next event of `half`, if its bytes are all there.
fn next_frame(framing: Framing, dir: Direction, half: &mut Half) -> FrameResult {
    let buf = half.live();
    let offset = half.offset;
    let server = dir == Direction::ServerToClient;
    let (header, len, quick_ack_requested) = match framing {
        Framing::Abridged => {
            let Some(&first) = buf.first() else { return Ok(None) };
            if server && first & 0x80 != 0 {
                // A quick ack: 4 bytes big endian, top bit set, unframed.
                if buf.len() < 4 {
                    return Ok(None);
                }
                let token = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
                half.consume(4);
                return Ok(Some(TransportEvent::QuickAck { direction: dir, stream_offset: offset, token }));
            }
            let quick = !server && first & 0x80 != 0;
            let short = first & 0x7f;
            if short == 0x7f {
                if buf.len() < 4 {
                    return Ok(None);
                }
                let words = usize::from(buf[1]) | usize::from(buf[2]) << 8 | usize::from(buf[3]) << 16;
                (4, words * 4, quick)
            } else {
                (1, usize::from(short) * 4, quick)
            }
        }
        Framing::Intermediate | Framing::PaddedIntermediate => {
            if buf.len() < 4 {
                return Ok(None);
            }
            let word = le32(buf);
            if word & 0x8000_0000 != 0 {
                if server {
                    half.consume(4);
                    return Ok(Some(TransportEvent::QuickAck { direction: dir, stream_offset: offset, token: word }));
                }
                (4, (word & 0x7fff_ffff) as usize, true)
            } else {
                (4, word as usize, false)
            }
        }
        Framing::Full => {
            if buf.len() < 4 {
                return Ok(None);
            }
            // Some servers send a bare error code in a short packet. It is
            // negative, so it reads as no length below the limit: look for
            // it before the length is judged.
            let code = le32(buf) as i32;
            if server && code < 0 {
                half.consume(4);
                return Ok(Some(TransportEvent::TransportError { direction: dir, stream_offset: offset, code }));
            }
            let total = le32(buf) as usize;
            if total < 12 {
                return Err(("full.length", format!("length {total} is below the 12 bytes of header and checksum")));
            }
            if total > MAX_FRAME_LEN {
                return Err(("full.length", format!("length {total} exceeds the {MAX_FRAME_LEN}-byte limit")));
            }
            if buf.len() < total {
                return Ok(None);
            }
            let seq = le32(&buf[4..]);
            let crc_at = total - 4;
            let want = le32(&buf[crc_at..]);
            let got = crc32fast::hash(&buf[..crc_at]);
            let payload = buf[8..crc_at].to_vec();
            let expected_seq = half.full_seq;
            half.full_seq = seq.wrapping_add(1);
            half.consume(total);
            if got != want {
                // Report, and keep the frame: the length was consistent, so
                // framing continues; the caller sees the payload is suspect.
                return Ok(Some(problem(
                    dir,
                    offset + crc_at as u64,
                    "full.crc32",
                    format!("CRC32 {want:08x} does not match the computed {got:08x}; frame of {total} bytes skipped"),
                    false,
                )));
            }
            if seq != expected_seq {
                // Not fatal: report it and follow the sender's numbering.
                return Ok(Some(problem(
                    dir,
                    offset + 4,
                    "full.seq_no",
                    format!("sequence number {seq}, expected {expected_seq}; frame of {total} bytes skipped"),
                    false,
                )));
            }
            return Ok(Some(frame_or_error(dir, offset, total, payload, false, Some(seq), 0)));
        }
    };
    if len > MAX_FRAME_LEN {
        return Err(("length", format!("frame length {len} exceeds the {MAX_FRAME_LEN}-byte limit")));
    }
    if buf.len() < header + len {
        return Ok(None);
    }
    let body = &buf[header..header + len];
    let (payload, padding) = if framing == Framing::PaddedIntermediate {
        let real = real_message_len(body);
        (body[..real].to_vec(), len - real)
    } else {
        (body.to_vec(), 0)
    };
    half.consume(header + len);
    Ok(Some(frame_or_error(dir, offset, header + len, payload, quick_ack_requested, None, padding)))
}

/// The length of the MTProto message at the start of a padded-intermediate
/// packet: unencrypted, 20 + its length field; encrypted, 24 + whole AES
/// blocks. A 4-byte packet (transport error) is kept whole.
pub fn real_message_len(body: &[u8]) -> usize {
    if body.len() <= 4 {
        return body.len();
    }
    if body.len() >= 20 && body[..8] == [0; 8] {
        let inner = le32(&body[16..]) as usize;
        return 20usize.saturating_add(inner).min(body.len());
    }
    if body.len() >= 24 {
        return 24 + (body.len() - 24) / 16 * 16;
    }
    body.len()
}

fn frame_or_error(
    direction: Direction,
    stream_offset: u64,
    wire_len: usize,
    payload: Vec<u8>,
    quick_ack_requested: bool,
    seq_no: Option<u32>,
    padding: usize,
) -> TransportEvent {
    if payload.len() == 4 {
        let code = le32(&payload) as i32;
        if code < 0 {
            return TransportEvent::TransportError { direction, stream_offset, code };
        }
    }
    TransportEvent::Frame(TransportFrame {
        direction,
        stream_offset,
        wire_len,
        payload,
        quick_ack_requested,
        seq_no,
        padding,
    })
}

/// Frame `payload` for the wire in `framing` (without the client's tag).
/// Both directions frame alike. For fixtures and tests.
pub fn encode_frame(framing: Framing, payload: &[u8], full_seq: u32, padding: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + padding.len() + 16);
    encode_frame_into(&mut out, framing, payload, full_seq, padding);
    out
}

/// [`encode_frame`] appended to `out` (a stream being written), which the
/// fixture writer uses so as not to allocate every frame on its own.
pub fn encode_frame_into(out: &mut Vec<u8>, framing: Framing, payload: &[u8], full_seq: u32, padding: &[u8]) {
    match framing {
        Framing::Abridged => {
            let words = payload.len() / 4;
            if words < 0x7f {
                out.push(words as u8);
            } else {
                out.push(0x7f);
                out.extend_from_slice(&(words as u32).to_le_bytes()[..3]);
            }
            out.extend_from_slice(payload);
        }
        Framing::Intermediate => {
            out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            out.extend_from_slice(payload);
        }
        Framing::PaddedIntermediate => {
            out.extend_from_slice(&((payload.len() + padding.len()) as u32).to_le_bytes());
            out.extend_from_slice(payload);
            out.extend_from_slice(padding);
        }
        Framing::Full => {
            let start = out.len();
            out.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
            out.extend_from_slice(&full_seq.to_le_bytes());
            out.extend_from_slice(payload);
            let crc = crc32fast::hash(&out[start..]);
            out.extend_from_slice(&crc.to_le_bytes());
        }
    }
}

/// The client side of obfuscation2, for fixtures and tests: encrypts what
/// each direction sends.
pub struct Obfuscator {
    c2s: Ctr,
    s2c: Ctr,
}

impl Obfuscator {
    /// The client's obfuscation header for `framing`: `random` supplies bytes
    /// 0..56 and 62..64 (the caller keeps it valid per [`may_be_obfuscated`]).
    /// Returns the ciphers positioned after the header, and the 64 bytes to send.
    pub fn new(framing: Framing, random: [u8; 64], dc_id: i16, secret: Option<&[u8]>) -> (Obfuscator, [u8; 64]) {
        let mut init = random;
        init[56..60].copy_from_slice(&framing.tag().unwrap_or([0xee; 4]));
        init[60..62].copy_from_slice(&dc_id.to_le_bytes());
        let obf = Obfuscation::new(&init, secret.map(strip_dd));
        // What goes on the wire: bytes 0..56 in the clear, 56..64 encrypted.
        let mut wire = init;
        wire[56..].copy_from_slice(&encrypt_header_tail(&init, secret));
        (Obfuscator { c2s: obf.c2s, s2c: obf.s2c }, wire)
    }

    /// Encrypt bytes sent in `dir` (the stream continues across calls).
    pub fn apply(&mut self, dir: Direction, bytes: &mut [u8]) {
        match dir {
            Direction::ClientToServer => self.c2s.apply_keystream(bytes),
            Direction::ServerToClient => self.s2c.apply_keystream(bytes),
        }
    }
}

fn encrypt_header_tail(init: &[u8; 64], secret: Option<&[u8]>) -> [u8; 8] {
    let mut key = [0u8; 32];
    match secret.map(strip_dd) {
        Some(s) => key.copy_from_slice(&Sha256::new().chain_update(&init[8..40]).chain_update(s).finalize()),
        None => key.copy_from_slice(&init[8..40]),
    }
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&init[40..56]);
    let mut c = Ctr::new(&key.into(), &iv.into());
    let mut all = *init;
    c.apply_keystream(&mut all);
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&all[56..]);
    tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::parse as parse_hex;

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;

    fn frames(events: &[TransportEvent]) -> Vec<(Direction, u64, Vec<u8>)> {
        events
            .iter()
            .filter_map(|e| match e {
                TransportEvent::Frame(f) => Some((f.direction, f.stream_offset, f.payload.clone())),
                _ => None,
            })
            .collect()
    }

    /// The one-line texts of the problems among `events`, in order (the
    /// fake-TLS layer's tests use it too).
    pub(super) fn problems(events: &[TransportEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                TransportEvent::Problem(p) => Some(p.to_string()),
                _ => None,
            })
            .collect()
    }

    fn msg(n: usize, seed: u8) -> Vec<u8> {
        // An encrypted-looking message: nonzero auth_key_id, 24 + 16k bytes.
        (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed) | 1).collect()
    }

    /// Build both directions' byte streams for `framing`, obfuscated or not.
    fn streams(
        framing: Framing,
        obfuscated: bool,
        secret: Option<&[u8]>,
        c2s: &[Vec<u8>],
        s2c: &[Vec<u8>],
    ) -> (Vec<u8>, Vec<u8>) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut obf = None;
        if obfuscated {
            let mut random = [0u8; 64];
            for (i, r) in random.iter_mut().enumerate() {
                *r = (i as u8).wrapping_mul(13).wrapping_add(0x41);
            }
            let (o, header) = Obfuscator::new(framing, random, 2, secret);
            a.extend_from_slice(&header);
            obf = Some(o);
        } else {
            match framing {
                Framing::Abridged => a.push(0xef),
                Framing::Full => {}
                other => a.extend_from_slice(&other.tag().unwrap()),
            }
        }
        let start_a = a.len();
        for (i, m) in c2s.iter().enumerate() {
            a.extend(encode_frame(framing, m, i as u32, &[0x55; 3][..(i % 4).min(3)]));
        }
        for (i, m) in s2c.iter().enumerate() {
            b.extend(encode_frame(framing, m, i as u32, &[0x66; 7][..i % 8]));
        }
        if let Some(o) = &mut obf {
            o.apply(C2S, &mut a[start_a..]);
            o.apply(S2C, &mut b);
        }
        (a, b)
    }

    fn run(conn: &mut TransportConnection, a: &[u8], b: &[u8], chunk: usize) -> Vec<TransportEvent> {
        let mut out = Vec::new();
        // Interleave, server first, to exercise the pending buffer.
        let mut ia = a.chunks(chunk);
        let mut ib = b.chunks(chunk);
        loop {
            let nb = ib.next();
            let na = ia.next();
            if let Some(x) = nb {
                conn.feed(S2C, x, &mut out);
            }
            if let Some(x) = na {
                conn.feed(C2S, x, &mut out);
            }
            if na.is_none() && nb.is_none() {
                break;
            }
        }
        out
    }

    #[test]
    fn every_transport_with_and_without_obfuscation_at_every_split() {
        let c2s = vec![msg(24 + 16 * 3, 1), msg(24 + 16 * 40, 2), msg(40, 3)];
        let s2c = vec![msg(24 + 16 * 2, 4), msg(24 + 16 * 50, 5)];
        for framing in [Framing::Abridged, Framing::Intermediate, Framing::PaddedIntermediate, Framing::Full] {
            for obfuscated in [false, true] {
                if obfuscated && framing == Framing::Full {
                    continue;
                }
                let (a, b) = streams(framing, obfuscated, None, &c2s, &s2c);
                for chunk in [1, 2, 3, 5, 64, 65, 4096] {
                    let mut conn = TransportConnection::new(TransportOptions::default());
                    let out = run(&mut conn, &a, &b, chunk);
                    assert_eq!(problems(&out), Vec::<String>::new(), "{framing:?} {obfuscated} {chunk}");
                    let info = conn.info().unwrap();
                    assert_eq!((info.framing, info.obfuscated), (framing, obfuscated));
                    let got = frames(&out);
                    let want_c: Vec<_> = c2s.clone();
                    let got_c: Vec<_> = got.iter().filter(|f| f.0 == C2S).map(|f| f.2.clone()).collect();
                    let got_s: Vec<_> = got.iter().filter(|f| f.0 == S2C).map(|f| f.2.clone()).collect();
                    assert_eq!(got_c, want_c, "{framing:?} {obfuscated} {chunk}");
                    assert_eq!(got_s, s2c, "{framing:?} {obfuscated} {chunk}");
                }
            }
        }
    }

    #[test]
    fn mtproxy_secret() {
        let secret = parse_hex("dd0123456789abcdef0123456789abcdef").unwrap();
        let c2s = vec![msg(56, 1)];
        let s2c = vec![msg(72, 2)];
        let (a, b) = streams(Framing::PaddedIntermediate, true, Some(&secret), &c2s, &s2c);
        let mut conn =
            TransportConnection::new(TransportOptions { mtproxy_secret: Some(secret.clone()), ..Default::default() });
        let out = run(&mut conn, &a, &b, 7);
        assert_eq!(problems(&out), Vec::<String>::new());
        assert!(conn.info().unwrap().mtproxy);
        assert_eq!(frames(&out).len(), 2);
        assert_eq!(conn.info().unwrap().to_string(), "mtproxy+padded_intermediate");

        // Without the secret the header does not decrypt to a tag.
        let mut conn = TransportConnection::new(TransportOptions::default());
        let out = run(&mut conn, &a, &b, 100);
        let p = problems(&out);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("--mtproxy-secret"), "{p:?}");

        assert!(parse_mtproxy_secret("0123456789abcdef0123456789abcdef").is_ok());
        assert!(parse_mtproxy_secret("ee0123456789abcdef0123456789abcdef").is_err());
        assert!(parse_mtproxy_secret("0123").is_err());
    }

    #[test]
    fn quick_acks_and_transport_errors() {
        // Abridged: client asks for a quick ack, server answers with one,
        // then a -404.
        let mut a = vec![0xef, 0x80 | 10];
        a.extend(msg(40, 9));
        let mut b = vec![0x80 | 0x12, 0x34, 0x56, 0x78];
        b.push(1);
        b.extend_from_slice(&(-404i32).to_le_bytes());
        let mut conn = TransportConnection::new(TransportOptions::default());
        let mut out = Vec::new();
        conn.feed(C2S, &a, &mut out);
        conn.feed(S2C, &b, &mut out);
        assert!(matches!(&out[1], TransportEvent::Frame(f) if f.quick_ack_requested && f.payload.len() == 40));
        assert_eq!(out[2], TransportEvent::QuickAck { direction: S2C, stream_offset: 0, token: 0x9234_5678 });
        assert_eq!(out[3], TransportEvent::TransportError { direction: S2C, stream_offset: 4, code: -404 });

        // Intermediate: server quick ack is a length word with the top bit.
        let mut conn = TransportConnection::new(TransportOptions::default());
        let mut out = Vec::new();
        conn.feed(C2S, &[0xee; 4], &mut out);
        let mut b = 0x8000_0042u32.to_le_bytes().to_vec();
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&(-429i32).to_le_bytes());
        conn.feed(S2C, &b, &mut out);
        assert_eq!(out[1], TransportEvent::QuickAck { direction: S2C, stream_offset: 0, token: 0x8000_0042 });
        assert_eq!(out[2], TransportEvent::TransportError { direction: S2C, stream_offset: 4, code: -429 });
    }

    #[test]
    fn abridged_long_length() {
        let big = msg(0x7f * 4 + 24 * 4, 3);
        let (a, b) = streams(Framing::Abridged, false, None, std::slice::from_ref(&big), &[]);
        assert_eq!(a[1], 0x7f);
        let mut conn = TransportConnection::new(TransportOptions::default());
        let out = run(&mut conn, &a, &b, 1);
        assert_eq!(frames(&out), vec![(C2S, 1, big)]);
    }

    #[test]
    fn full_transport_checks_crc_and_seq() {
        let (mut a, _) = streams(Framing::Full, false, None, &[msg(40, 1), msg(40, 2), msg(40, 3)], &[]);
        // Corrupt the second frame's checksum.
        let crc_at = 52 + 52 - 1;
        a[crc_at] ^= 0xff;
        let mut conn = TransportConnection::new(TransportOptions::default());
        let mut out = Vec::new();
        conn.feed(C2S, &a, &mut out);
        let p = problems(&out);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("c2s stream offset 100 in full.crc32"), "{p:?}");
        assert_eq!(frames(&out).len(), 2);

        // Out-of-order sequence number.
        let mut a = encode_frame(Framing::Full, &msg(40, 1), 0, &[]);
        a.extend(encode_frame(Framing::Full, &msg(40, 1), 5, &[]));
        let mut conn = TransportConnection::new(TransportOptions::default());
        let mut out = Vec::new();
        conn.feed(C2S, &a, &mut out);
        assert!(problems(&out)[0].contains("sequence number 5, expected 1"));
    }

    #[test]
    fn padded_intermediate_takes_length_from_the_message() {
        let plain = crate::envelope::plain_message(4, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(real_message_len(&[plain.clone(), vec![9; 5]].concat()), plain.len());
        let enc = msg(24 + 32, 1);
        assert_eq!(real_message_len(&[enc.clone(), vec![9; 15]].concat()), enc.len());
        assert_eq!(real_message_len(&(-404i32).to_le_bytes()), 4);
    }

    #[test]
    fn oversized_and_unknown_streams_stop_with_one_error() {
        let mut conn = TransportConnection::new(TransportOptions::default());
        let mut out = Vec::new();
        conn.feed(C2S, &[0xee, 0xee, 0xee, 0xee, 0xff, 0xff, 0xff, 0x7f], &mut out);
        conn.feed(C2S, &[0; 100], &mut out);
        let p = problems(&out);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("exceeds"), "{p:?}");

        let mut conn = TransportConnection::new(TransportOptions::default());
        let mut out = Vec::new();
        conn.feed(C2S, b"GET / HTTP/1.1\r\n", &mut out);
        let p = problems(&out);
        assert!(p[0].contains("not a known MTProto transport"), "{p:?}");
    }

    #[test]
    fn a_gap_resynchronises_at_the_next_frame_with_a_known_key() {
        let (m1, m2) = (msg(88, 2), msg(88, 3));
        let id = u64::from_le_bytes(m2[..8].try_into().unwrap());
        for obfuscated in [false, true] {
            let (a, b) = streams(Framing::Intermediate, obfuscated, None, &[msg(40, 1)], &[m1.clone(), m2.clone()]);
            let mut options = TransportOptions { known_key_ids: vec![id], ..Default::default() };
            let mut conn = TransportConnection::new(options.clone());
            let mut out = Vec::new();
            conn.feed(C2S, &a, &mut out);
            conn.feed(S2C, &b[..10], &mut out);
            conn.gap(S2C, 5, &mut out);
            conn.feed(S2C, &b[15..], &mut out);
            let p = problems(&out);
            assert_eq!(p.len(), 2, "{p:?}");
            assert!(p[0].starts_with("s2c stream offset 10 in stream: 5 bytes missing"), "{p:?}");
            assert_eq!(p[1], "s2c stream offset 15 in stream: 77 bytes skipped to the next frame at stream offset 92");
            let s2c: Vec<_> = frames(&out).into_iter().filter(|f| f.0 == S2C).collect();
            assert_eq!(s2c, vec![(S2C, 92, m2.clone())], "{obfuscated}");

            // Without the key id nothing after the gap is plausible.
            options.known_key_ids.clear();
            let mut conn = TransportConnection::new(options);
            let mut out = Vec::new();
            conn.feed(C2S, &a, &mut out);
            conn.feed(S2C, &b[..10], &mut out);
            conn.gap(S2C, 5, &mut out);
            conn.feed(S2C, &b[15..], &mut out);
            assert_eq!(frames(&out).len(), 1);
        }
    }

    #[test]
    fn a_connection_seen_from_the_middle_is_recognised() {
        // One connection, one auth key: every frame starts with its id.
        let mut frames_c = [msg(88, 1), msg(104, 2), msg(88, 3)];
        let id = 0x0123_4567_89ab_cdefu64;
        for f in &mut frames_c {
            f[..8].copy_from_slice(&id.to_le_bytes());
        }
        for framing in [Framing::Abridged, Framing::Intermediate, Framing::PaddedIntermediate, Framing::Full] {
            let mut a = Vec::new();
            for (i, m) in frames_c.iter().enumerate() {
                a.extend(encode_frame(framing, m, 7 + i as u32, &[0x11; 5]));
            }
            // Start inside the first frame.
            let start = 9;
            let mut conn =
                TransportConnection::mid_stream(TransportOptions { known_key_ids: vec![id], ..Default::default() });
            let mut out = Vec::new();
            for chunk in a[start..].chunks(13) {
                conn.feed(C2S, chunk, &mut out);
            }
            assert_eq!(conn.info().map(|i| i.framing), Some(framing), "{framing:?}: {:?}", problems(&out));
            let got: Vec<Vec<u8>> = frames(&out).into_iter().map(|f| f.2).collect();
            assert_eq!(got, frames_c[1..].to_vec(), "{framing:?}: {:?}", problems(&out));
        }
        // Random bytes are not taken for frames.
        let mut conn =
            TransportConnection::mid_stream(TransportOptions { known_key_ids: vec![id], ..Default::default() });
        let mut out = Vec::new();
        let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        conn.feed(C2S, &noise, &mut out);
        assert!(conn.info().is_none());
        // Short plausible-looking lengths do not overflow (a regression).
        conn.feed(
            C2S,
            &[20, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
            &mut out,
        );
    }

    #[test]
    fn forced_transport() {
        let mut conn = TransportConnection::new(TransportOptions {
            forced: Some((Framing::Intermediate, false)),
            ..Default::default()
        });
        let mut out = Vec::new();
        let mut a = 40u32.to_le_bytes().to_vec();
        a.extend(msg(40, 1));
        conn.feed(C2S, &a, &mut out);
        assert_eq!(frames(&out), vec![(C2S, 0, msg(40, 1))]);
    }

    #[test]
    fn the_real_obfuscated_header_gives_the_manifest_keys() {
        let init = parse_hex("20a3fe401daf6269d87eddeb57af54b2f442e318ace4f58e7a3c0eac2fa50695f090cf84c7f6745e40b9cfbe8bbdd09feea10b08d556be75302072afe961ccee").unwrap();
        let obf = Obfuscation::new(&init.try_into().unwrap(), None);
        assert_eq!(
            obf.header.to_vec(),
            parse_hex("10612263cf392c580ded85110aea30863a0ca7cd14e75675cbb4d3d12432d73eb2549db4ca4e02e47e3a686d1bf39579e9547565ecc74a4beeeeeeee7fde9057").unwrap()
        );
        assert_eq!(Framing::from_tag(obf.tag()), Some(Framing::Intermediate));
        assert_eq!(obf.dc_id(), -8577);
    }
}
