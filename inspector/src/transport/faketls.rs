//! The fake-TLS layer of MTProxy (`ee` secrets): a connection dressed as
//! TLS 1.3 to a real-looking domain, so that a censor sees HTTPS.
//!
//! The client opens with a TLS ClientHello whose 32-byte random is not
//! random: it is HMAC-SHA256, keyed with the 16-byte proxy secret, over the
//! whole hello record with the random zeroed, with the client's unix time
//! (little endian) XORed into its last 4 bytes. The proxy answers with a
//! flight of three records, ServerHello, ChangeCipherSpec and one
//! application-data record of random bytes, whose random is HMAC-SHA256
//! over the client's random followed by that flight with its own random
//! zeroed. From then on each direction is a sequence of records, type 0x17
//! (application data), version 0x0303 and a 2-byte big-endian length; the
//! client may send one ChangeCipherSpec record before its first data
//! record. The payloads of each direction, joined, are the obfuscated2
//! stream of an ordinary MTProxy connection keyed with the same secret.
//!
//! The layer (inside [`TransportConnection`]) strips the records (split anywhere across feeds) and
//! hands the joined payloads to an inner [`TransportConnection`]; the
//! offsets in the inner connection's events count bytes of that joined
//! stream, while the problems this layer reports itself count raw TCP
//! stream bytes. The wire details were taken from the descriptions of
//! TDLib's `TlsInit`, the `mtprotoproxy` server and the `TelethonFakeTLS`
//! client, which differ only in hello sizes and whether the client sends a
//! ChangeCipherSpec record.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{problem, TransportConnection, TransportEvent, TransportOptions};
use crate::tcp::Direction;

type HmacSha256 = Hmac<Sha256>;

/// `type (1) | version (2) | length (2)`.
pub const RECORD_HEADER_LEN: usize = 5;
/// Where the 32-byte random starts in a hello record: the record header,
/// the handshake type and 3-byte length, and the 2-byte version.
pub const RANDOM_AT: usize = 11;
const RANDOM_END: usize = RANDOM_AT + 32;

pub const HANDSHAKE: u8 = 0x16;
pub const CHANGE_CIPHER_SPEC: u8 = 0x14;
pub const ALERT: u8 = 0x15;
pub const APPLICATION_DATA: u8 = 0x17;

/// What the client's hello told about a fake-TLS connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FakeTlsInfo {
    /// The domain of the server_name extension.
    pub sni: Option<String>,
    /// The client's unix time from the hello's random, when the secret
    /// verified the hello.
    pub timestamp: Option<u32>,
    /// The hello record's length on the wire (517 for old clients, about
    /// 1.7 KB for current ones).
    pub hello_len: usize,
}

impl fmt::Display for FakeTlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("faketls(sni ")?;
        f.write_str(self.sni.as_deref().unwrap_or("none"))?;
        match self.timestamp.and_then(|t| chrono::DateTime::from_timestamp(i64::from(t), 0)) {
            Some(time) => write!(f, ", time {})", time.format("%Y-%m-%dT%H:%M:%SZ")),
            None => f.write_str(", time unverified)"),
        }
    }
}

/// Whether an MTProxy secret selects fake TLS: `ee`, 16 bytes, a domain.
pub fn is_fake_tls_secret(secret: &[u8]) -> bool {
    secret.len() > 17 && secret[0] == 0xee
}

/// The domain name at the end of an `ee` secret.
pub fn secret_domain(secret: &[u8]) -> Option<&str> {
    is_fake_tls_secret(secret).then(|| std::str::from_utf8(&secret[17..]).ok()).flatten()
}

/// The parts of a ClientHello record the inspector needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub random: [u8; 32],
    pub sni: Option<String>,
}

/// Read a whole ClientHello record (header included).
pub fn parse_client_hello(record: &[u8]) -> Result<ClientHello, String> {
    let mut r = Cursor { b: record, at: 0 };
    let header = r.take(RECORD_HEADER_LEN).ok_or("shorter than a record header")?;
    if header[0] != HANDSHAKE {
        return Err(format!("record type 0x{:02x}, expected a handshake (0x16)", header[0]));
    }
    let body_len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if record.len() != RECORD_HEADER_LEN + body_len {
        return Err(format!("record length {body_len} does not match its {} bytes", record.len() - 5));
    }
    let handshake = r.take(4).ok_or("no handshake header")?;
    if handshake[0] != 0x01 {
        return Err(format!("handshake type {}, expected a ClientHello (1)", handshake[0]));
    }
    let _version = r.take(2).ok_or("no version")?;
    let mut random = [0u8; 32];
    random.copy_from_slice(r.take(32).ok_or("no random")?);
    let sni = extensions(&mut r).and_then(find_sni);
    Ok(ClientHello { random, sni })
}

/// The extensions block after the random, if the hello is well formed up
/// to it.
fn extensions<'a>(r: &mut Cursor<'a>) -> Option<&'a [u8]> {
    let session_len = usize::from(r.u8()?);
    r.take(session_len)?;
    let suites_len = usize::from(r.u16()?);
    r.take(suites_len)?;
    let compression_len = usize::from(r.u8()?);
    r.take(compression_len)?;
    let len = usize::from(r.u16()?);
    r.take(len)
}

fn find_sni(mut block: &[u8]) -> Option<String> {
    while block.len() >= 4 {
        let kind = u16::from_be_bytes([block[0], block[1]]);
        let len = usize::from(u16::from_be_bytes([block[2], block[3]]));
        let data = block.get(4..4 + len)?;
        if kind == 0 {
            // server_name_list (2) | name_type (1) = host_name | name (2 + n)
            let mut r = Cursor { b: data, at: 0 };
            r.u16()?;
            if r.u8()? != 0 {
                return None;
            }
            let n = usize::from(r.u16()?);
            return Some(printable(r.take(n)?));
        }
        block = &block[4 + len..];
    }
    None
}

/// A host name as it may be shown on one line: bytes other than printable
/// ASCII (a hostile hello can put anything there) as `\xNN`.
fn printable(name: &[u8]) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
}

fn hmac(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(secret) else { return [0; 32] };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The HMAC of a hello record or server flight with its random zeroed.
fn digest_zeroed(secret: &[u8], prefix: &[u8], record: &[u8]) -> Option<[u8; 32]> {
    if record.len() < RANDOM_END {
        return None;
    }
    Some(hmac(secret, &[prefix, &record[..RANDOM_AT], &[0u8; 32], &record[RANDOM_END..]]))
}

/// The client's unix time if the hello's random verifies with `secret`.
pub fn verify_client_hello(record: &[u8], secret: &[u8]) -> Option<u32> {
    let digest = digest_zeroed(secret, &[], record)?;
    let random = &record[RANDOM_AT..RANDOM_END];
    if digest[..28] != random[..28] {
        return None;
    }
    Some(u32::from_le_bytes([
        digest[28] ^ random[28],
        digest[29] ^ random[29],
        digest[30] ^ random[30],
        digest[31] ^ random[31],
    ]))
}

/// Whether the server's flight (its hello, change-cipher-spec and first
/// application-data records) verifies against the client's random.
pub fn verify_server_flight(flight: &[u8], client_random: &[u8; 32], secret: &[u8]) -> bool {
    digest_zeroed(secret, client_random, flight).is_some_and(|d| d[..] == flight[RANDOM_AT..RANDOM_END])
}

/// A ClientHello as a fake-TLS client builds it, for fixtures and tests:
/// `hello_len` bytes in all (at least 200), the SNI `domain`, `session_id`
/// as its session id, padded with a padding extension, and the random
/// computed from `secret` and `timestamp`.
pub fn encode_client_hello(
    secret: &[u8],
    domain: &str,
    timestamp: u32,
    session_id: &[u8; 32],
    hello_len: usize,
) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x03]);
    body.extend_from_slice(&[0u8; 32]);
    body.push(32);
    body.extend_from_slice(session_id);
    let suites: [u16; 3] = [0x1301, 0x1302, 0x1303];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]);
    let mut ext = Vec::new();
    let name = domain.as_bytes();
    ext.extend_from_slice(&0u16.to_be_bytes());
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    // record (5) + handshake header (4) + body + extensions length (2) +
    // extensions + padding extension header (4).
    let so_far = 5 + 4 + body.len() + 2 + ext.len() + 4;
    let pad = hello_len.saturating_sub(so_far);
    ext.extend_from_slice(&0x0015u16.to_be_bytes());
    ext.extend_from_slice(&(pad as u16).to_be_bytes());
    ext.resize(ext.len() + pad, 0);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut record = vec![HANDSHAKE, 0x03, 0x01];
    record.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    record.push(0x01);
    record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    record.extend_from_slice(&body);
    let digest = hmac(secret, &[&record]);
    record[RANDOM_AT..RANDOM_END].copy_from_slice(&digest);
    for (i, t) in timestamp.to_le_bytes().iter().enumerate() {
        record[RANDOM_AT + 28 + i] ^= t;
    }
    record
}

/// The server's flight answering `client_hello`, for fixtures and tests:
/// ServerHello echoing the session id, ChangeCipherSpec, and `filler` as
/// the first application-data record; the random from `secret`.
pub fn encode_server_flight(secret: &[u8], client_hello: &[u8], filler: &[u8]) -> Vec<u8> {
    let session_id = client_hello.get(RANDOM_END + 1..RANDOM_END + 33).unwrap_or(&[0; 32]);
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&[0u8; 32]);
    hello.push(32);
    hello.extend_from_slice(session_id);
    hello.extend_from_slice(&[0x13, 0x01, 0x00]);
    // key_share (x25519, 32 bytes) and supported_versions (TLS 1.3).
    let mut ext = vec![0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20];
    ext.extend_from_slice(&[0x42; 32]);
    ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut flight = vec![HANDSHAKE, 0x03, 0x03];
    flight.extend_from_slice(&((hello.len() + 4) as u16).to_be_bytes());
    flight.push(0x02);
    flight.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    flight.extend_from_slice(&hello);
    flight.extend_from_slice(&[CHANGE_CIPHER_SPEC, 0x03, 0x03, 0x00, 0x01, 0x01]);
    flight.extend_from_slice(&encode_records(filler, &[filler.len().max(1)]));
    let client_random: [u8; 32] = client_hello[RANDOM_AT..RANDOM_END].try_into().unwrap_or([0; 32]);
    let digest = hmac(secret, &[&client_random, &flight]);
    flight[RANDOM_AT..RANDOM_END].copy_from_slice(&digest);
    flight
}

/// `payload` cut into application-data records, for fixtures and tests:
/// record sizes are taken from `sizes` in turn (cycled; each at least 1,
/// at most 65535).
pub fn encode_records(payload: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 64 * 5 + 5);
    let mut at = 0;
    let mut i = 0;
    while at < payload.len() {
        let size = sizes.get(i % sizes.len().max(1)).copied().unwrap_or(16384).clamp(1, 0xffff);
        let end = (at + size).min(payload.len());
        out.extend_from_slice(&[APPLICATION_DATA, 0x03, 0x03]);
        out.extend_from_slice(&((end - at) as u16).to_be_bytes());
        out.extend_from_slice(&payload[at..end]);
        at = end;
        i += 1;
    }
    out
}

/// The most records a server's hello flight may have before its first
/// application-data record (real ones have two: hello, change cipher spec).
const MAX_FLIGHT_RECORDS: usize = 4;

/// The total length the hello stage needs, given the bytes collected, and
/// how many records those hold: the client's hello is one record, the
/// server's flight ends with its first application-data record. Equal to
/// `h.len()` exactly when the stage is complete (bytes are never taken
/// past it).
fn hello_need(h: &[u8], dir: Direction) -> (usize, usize) {
    let mut at = 0;
    let mut records = 0;
    loop {
        if h.len() < at + RECORD_HEADER_LEN {
            return (at + RECORD_HEADER_LEN, records);
        }
        let end = at + RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([h[at + 3], h[at + 4]]));
        records += 1;
        if h.len() < end || dir == Direction::ClientToServer || h[at] == APPLICATION_DATA {
            return (end, records);
        }
        at = end;
    }
}

/// Where a direction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Collecting the client's hello record or the server's flight.
    Hello,
    /// Reading data records.
    Data,
}

/// One direction's record reader.
struct TlsHalf {
    stage: Stage,
    /// Hello bytes collected (Stage::Hello only).
    hello: Vec<u8>,
    /// The header of the record being read, and how much of it is here.
    header: [u8; RECORD_HEADER_LEN],
    header_have: usize,
    /// Payload bytes of the current record still to come.
    remaining: usize,
    /// Raw stream offset of the next byte.
    raw: u64,
    /// Application-data records seen after the hello stage.
    data_records: u64,
    dead: bool,
}

impl TlsHalf {
    fn new() -> Self {
        TlsHalf {
            stage: Stage::Hello,
            hello: Vec::new(),
            header: [0; RECORD_HEADER_LEN],
            header_have: 0,
            remaining: 0,
            raw: 0,
            data_records: 0,
            dead: false,
        }
    }

    fn kind(&self) -> u8 {
        self.header[0]
    }
}

/// The fake-TLS layer of one connection, around the obfuscated2 transport
/// it carries.
pub(crate) struct FakeTlsLayer {
    /// The 16 bytes of the `ee` secret, if one was given.
    secret: Option<Vec<u8>>,
    domain: Option<String>,
    options: TransportOptions,
    inner: Option<Box<TransportConnection>>,
    info: Option<std::sync::Arc<FakeTlsInfo>>,
    client_random: Option<[u8; 32]>,
    c2s: TlsHalf,
    s2c: TlsHalf,
    /// Server bytes that came before the client's hello was read.
    s2c_pending: Vec<u8>,
    failed: bool,
}

impl FakeTlsLayer {
    /// `secret` is the whole `ee` secret, or none (then the hello is read
    /// and reported, and the connection is not followed further).
    pub(crate) fn new(options: TransportOptions) -> Self {
        let full = options.mtproxy_secret.clone().filter(|s| is_fake_tls_secret(s));
        let domain = full.as_deref().and_then(secret_domain).map(str::to_string);
        let secret = full.map(|s| s[1..17].to_vec());
        FakeTlsLayer {
            secret,
            domain,
            options,
            inner: None,
            info: None,
            client_random: None,
            c2s: TlsHalf::new(),
            s2c: TlsHalf::new(),
            s2c_pending: Vec::new(),
            failed: false,
        }
    }

    pub(crate) fn buffered_bytes(&self) -> usize {
        self.c2s.hello.capacity()
            + self.s2c.hello.capacity()
            + self.s2c_pending.capacity()
            + self.inner.as_ref().map_or(0, |i| i.buffered_bytes())
    }

    /// The inner transport's info with this layer's, once known.
    pub(crate) fn info(&self) -> Option<super::TransportInfo> {
        let mut info = self.inner.as_ref()?.info()?;
        info.fake_tls = self.info.clone();
        Some(info)
    }

    fn half(&mut self, dir: Direction) -> &mut TlsHalf {
        match dir {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        }
    }

    fn fail_half(
        &mut self,
        dir: Direction,
        at: u64,
        field: &'static str,
        message: String,
        out: &mut Vec<TransportEvent>,
    ) {
        self.half(dir).dead = true;
        out.push(problem(dir, at, field, message, true));
    }

    pub(crate) fn feed(&mut self, dir: Direction, mut bytes: &[u8], out: &mut Vec<TransportEvent>) {
        if self.failed {
            return;
        }
        if dir == Direction::ServerToClient && self.client_random.is_none() && self.c2s.stage == Stage::Hello {
            self.s2c_pending.extend_from_slice(bytes);
            return;
        }
        while !bytes.is_empty() && !self.failed && !self.half(dir).dead {
            let used = match self.half(dir).stage {
                Stage::Hello => self.hello_bytes(dir, bytes, out),
                Stage::Data => self.data_bytes(dir, bytes, out),
            };
            bytes = &bytes[used..];
        }
    }

    /// Bytes `len` lost in `dir`: followed only while inside one record's
    /// payload, where the count of lost stream bytes is known.
    pub(crate) fn gap(&mut self, dir: Direction, len: u64, out: &mut Vec<TransportEvent>) {
        if self.failed || self.half(dir).dead {
            return;
        }
        let half = self.half(dir);
        let at = half.raw;
        let within = half.stage == Stage::Data
            && half.header_have == RECORD_HEADER_LEN
            && half.kind() == APPLICATION_DATA
            && (half.remaining as u64) >= len;
        if within {
            half.remaining -= len as usize;
            half.raw += len;
            if half.remaining == 0 {
                half.header_have = 0;
            }
            if let Some(inner) = &mut self.inner {
                inner.gap(dir, len, out);
            }
            return;
        }
        self.fail_half(
            dir,
            at,
            "faketls",
            format!("{len} bytes missing across TLS record boundaries; the rest of this direction cannot be followed"),
            out,
        );
    }

    /// Collect the hello (client) or the flight (server); returns the
    /// bytes used.
    fn hello_bytes(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TransportEvent>) -> usize {
        let half = self.half(dir);
        let (need, records) = hello_need(&half.hello, dir);
        if records > MAX_FLIGHT_RECORDS {
            let message =
                format!("no application-data record in the first {MAX_FLIGHT_RECORDS} records of the server's hello");
            self.fail_half(dir, 0, "faketls.server_hello", message, out);
            return bytes.len();
        }
        let take = need.saturating_sub(half.hello.len()).min(bytes.len());
        half.hello.extend_from_slice(&bytes[..take]);
        half.raw += take as u64;
        let h = &half.hello;
        if h.len() >= RECORD_HEADER_LEN && !(h[0] == HANDSHAKE && h[1] == 0x03) {
            let shown = crate::hex::spaced(&h[..RECORD_HEADER_LEN], 8);
            let what = if dir == Direction::ClientToServer { "ClientHello" } else { "ServerHello" };
            self.fail_half(dir, 0, "faketls.hello", format!("expected a TLS {what} record, found {shown}"), out);
            self.failed |= dir == Direction::ClientToServer;
            return take;
        }
        if hello_need(h, dir).0 == h.len() {
            let hello = std::mem::take(&mut half.hello);
            half.stage = Stage::Data;
            match dir {
                Direction::ClientToServer => self.client_hello_done(&hello, out),
                Direction::ServerToClient => self.server_flight_done(&hello, out),
            }
        }
        take
    }

    fn client_hello_done(&mut self, record: &[u8], out: &mut Vec<TransportEvent>) {
        let dir = Direction::ClientToServer;
        let hello = match parse_client_hello(record) {
            Ok(h) => h,
            Err(e) => {
                self.failed = true;
                out.push(problem(dir, 0, "faketls.hello", format!("not a TLS ClientHello: {e}"), true));
                return;
            }
        };
        let timestamp = self.secret.as_deref().and_then(|s| verify_client_hello(record, s));
        let info = FakeTlsInfo { sni: hello.sni.clone(), timestamp, hello_len: record.len() };
        self.client_random = Some(hello.random);
        let Some(secret) = self.secret.clone() else {
            self.failed = true;
            out.push(problem(
                dir,
                0,
                "faketls.hello",
                format!(
                    "a fake-TLS MTProxy connection ({info}, hello of {} bytes); reading it needs the proxy's ee secret (--mtproxy-secret)",
                    record.len()
                ),
                true,
            ));
            return;
        };
        if timestamp.is_none() {
            out.push(problem(
                dir,
                u64::try_from(RANDOM_AT).unwrap_or(0),
                "faketls.hello.random",
                "the ClientHello's random does not verify with this secret (a wrong MTProxy secret?)".into(),
                false,
            ));
        }
        if let (Some(expected), Some(sni)) = (&self.domain, &hello.sni) {
            if expected != sni {
                out.push(problem(
                    dir,
                    0,
                    "faketls.hello.sni",
                    format!("the ClientHello names {sni}, the secret {expected}"),
                    false,
                ));
            }
        }
        self.info = Some(std::sync::Arc::new(info));
        let mut options = self.options.clone();
        options.mtproxy_secret = Some(secret);
        self.inner = Some(Box::new(TransportConnection::new(options)));
        let pending = std::mem::take(&mut self.s2c_pending);
        if !pending.is_empty() {
            self.feed(Direction::ServerToClient, &pending, out);
        }
    }

    fn server_flight_done(&mut self, flight: &[u8], out: &mut Vec<TransportEvent>) {
        let (Some(secret), Some(random)) = (&self.secret, &self.client_random) else { return };
        if !verify_server_flight(flight, random, secret) {
            out.push(problem(
                Direction::ServerToClient,
                u64::try_from(RANDOM_AT).unwrap_or(0),
                "faketls.server_hello.random",
                "the server's hello does not verify with this secret and the client's random".into(),
                false,
            ));
        }
    }

    /// Record headers and payloads after the hello; returns the bytes used.
    fn data_bytes(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TransportEvent>) -> usize {
        let half = self.half(dir);
        if half.header_have < RECORD_HEADER_LEN {
            let take = (RECORD_HEADER_LEN - half.header_have).min(bytes.len());
            half.header[half.header_have..half.header_have + take].copy_from_slice(&bytes[..take]);
            half.header_have += take;
            half.raw += take as u64;
            if half.header_have < RECORD_HEADER_LEN {
                return take;
            }
            let at = half.raw - RECORD_HEADER_LEN as u64;
            let [kind, major, minor, hi, lo] = half.header;
            half.remaining = usize::from(u16::from_be_bytes([hi, lo]));
            if major != 0x03 || !(0x01..=0x04).contains(&minor) {
                let shown = crate::hex::spaced(&half.header, 8);
                self.fail_half(dir, at, "faketls.record", format!("not a TLS record header: {shown}"), out);
                return take;
            }
            match kind {
                APPLICATION_DATA => half.data_records += 1,
                CHANGE_CIPHER_SPEC => {
                    if half.data_records > 0 {
                        out.push(problem(
                            dir,
                            at,
                            "faketls.record",
                            "a change-cipher-spec record after data records; ignored".into(),
                            false,
                        ));
                    }
                }
                ALERT => out.push(problem(dir, at, "faketls.record", "a TLS alert record; ignored".into(), false)),
                other => {
                    self.fail_half(
                        dir,
                        at,
                        "faketls.record",
                        format!("record type 0x{other:02x} where application data (0x17) was expected"),
                        out,
                    );
                    return take;
                }
            }
            if half.remaining == 0 {
                half.header_have = 0;
            }
            return take;
        }
        let take = half.remaining.min(bytes.len());
        half.remaining -= take;
        half.raw += take as u64;
        let kind = half.kind();
        if half.remaining == 0 {
            half.header_have = 0;
        }
        if kind == APPLICATION_DATA {
            if let Some(inner) = &mut self.inner {
                let start = out.len();
                inner.feed(dir, &bytes[..take], out);
                for e in &mut out[start..] {
                    if let TransportEvent::Detected(info) = e {
                        info.fake_tls = self.info.clone();
                    }
                }
            }
        }
        take
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::problems;
    use super::super::{encode_frame, Framing, Obfuscator};
    use super::*;

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;
    const SECRET: [u8; 16] =
        [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x0f];
    const DOMAIN: &str = "www.example.com";
    const TIME: u32 = 1_764_000_000;

    fn ee_secret() -> Vec<u8> {
        [&[0xee][..], &SECRET, DOMAIN.as_bytes()].concat()
    }

    fn msg(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed) | 1).collect()
    }

    struct Conn {
        c2s: Vec<u8>,
        s2c: Vec<u8>,
        c2s_msgs: Vec<Vec<u8>>,
        s2c_msgs: Vec<Vec<u8>>,
    }

    /// A fake-TLS connection: hello of `hello_len`, the client's
    /// change-cipher-spec record or none, data in records of `sizes`.
    fn conn(hello_len: usize, ccs: bool, sizes: &[usize]) -> Conn {
        let c2s_msgs = vec![msg(88, 1), msg(40_024, 2), msg(136, 3)];
        let s2c_msgs = vec![msg(72, 4), msg(20_008, 5)];
        let random: [u8; 64] = std::array::from_fn(|i| (i as u8).wrapping_mul(29).wrapping_add(3));
        let (mut obf, header) = Obfuscator::new(Framing::PaddedIntermediate, random, 2, Some(&SECRET));
        let mut a: Vec<u8> =
            c2s_msgs.iter().flat_map(|m| encode_frame(Framing::PaddedIntermediate, m, 0, &[9; 5])).collect();
        obf.apply(C2S, &mut a);
        let mut b: Vec<u8> =
            s2c_msgs.iter().flat_map(|m| encode_frame(Framing::PaddedIntermediate, m, 0, &[7; 3])).collect();
        obf.apply(S2C, &mut b);
        let hello = encode_client_hello(&SECRET, DOMAIN, TIME, &[0x5a; 32], hello_len);
        let mut c2s = hello.clone();
        if ccs {
            c2s.extend_from_slice(&[CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1]);
        }
        c2s.extend(encode_records(&[&header[..], &a].concat(), sizes));
        let mut s2c = encode_server_flight(&SECRET, &hello, &[0xab; 2878]);
        s2c.extend(encode_records(&b, sizes));
        Conn { c2s, s2c, c2s_msgs, s2c_msgs }
    }

    fn options(secret: Option<Vec<u8>>) -> TransportOptions {
        TransportOptions { mtproxy_secret: secret, ..Default::default() }
    }

    fn run(c: &Conn, secret: Option<Vec<u8>>, chunk: usize) -> Vec<TransportEvent> {
        let mut t = TransportConnection::new(options(secret));
        let mut out = Vec::new();
        // Server bytes first: they must wait for the client's hello.
        for (a, b) in c.c2s.chunks(chunk).zip(c.s2c.chunks(chunk).chain(std::iter::repeat(&[][..]))) {
            t.feed(S2C, b, &mut out);
            t.feed(C2S, a, &mut out);
        }
        for b in c.s2c.chunks(chunk).skip(c.c2s.chunks(chunk).count()) {
            t.feed(S2C, b, &mut out);
        }
        out
    }

    fn payloads(events: &[TransportEvent], dir: Direction) -> Vec<Vec<u8>> {
        events
            .iter()
            .filter_map(|e| match e {
                TransportEvent::Frame(f) if f.direction == dir => Some(f.payload.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn frames_come_through_any_records_and_any_segments() {
        for hello_len in [517, 1753] {
            for ccs in [true, false] {
                for sizes in [&[16384][..], &[1, 2, 3, 5000], &[7, 16384, 13]] {
                    let c = conn(hello_len, ccs, sizes);
                    // Byte by byte once: slow in a debug build.
                    let one = hello_len == 517 && ccs && sizes.len() == 4;
                    for chunk in [if one { 1 } else { 2 }, 517, 1460, 70_000] {
                        let events = run(&c, Some(ee_secret()), chunk);
                        let what = format!("hello {hello_len}, ccs {ccs}, records {sizes:?}, segments of {chunk}");
                        assert_eq!(problems(&events), Vec::<String>::new(), "{what}");
                        assert_eq!(payloads(&events, C2S), c.c2s_msgs, "{what}");
                        assert_eq!(payloads(&events, S2C), c.s2c_msgs, "{what}");
                        let detected: Vec<String> = events
                            .iter()
                            .filter_map(|e| match e {
                                TransportEvent::Detected(i) => Some(i.to_string()),
                                _ => None,
                            })
                            .collect();
                        // 1764000000 is 2025-11-24 16:00:00 UTC.
                        assert_eq!(
                            detected,
                            ["mtproxy+faketls(sni www.example.com, time 2025-11-24T16:00:00Z)+padded_intermediate"],
                            "{what}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_hello_is_checked_and_its_fields_read() {
        let hello = encode_client_hello(&SECRET, DOMAIN, TIME, &[1; 32], 517);
        assert_eq!(hello.len(), 517);
        assert_eq!(verify_client_hello(&hello, &SECRET), Some(TIME));
        assert_eq!(verify_client_hello(&hello, &[0; 16]), None);
        let parsed = parse_client_hello(&hello).unwrap();
        assert_eq!(parsed.sni.as_deref(), Some(DOMAIN));
        let flight = encode_server_flight(&SECRET, &hello, &[1; 100]);
        assert!(verify_server_flight(&flight, &parsed.random, &SECRET));
        let mut bad = flight.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(!verify_server_flight(&bad, &parsed.random, &SECRET));
        // A name with control characters is shown escaped, on one line.
        let odd = encode_client_hello(&SECRET, "a\nb\u{7f}", TIME, &[1; 32], 517);
        assert_eq!(parse_client_hello(&odd).unwrap().sni.as_deref(), Some("a\\x0ab\\x7f"));
        // Every truncation is an error or a hello without SNI, never a panic.
        for n in 0..hello.len() {
            let _ = parse_client_hello(&hello[..n]);
            let _ = verify_client_hello(&hello[..n], &SECRET);
        }
    }

    #[test]
    fn a_wrong_secret_is_reported_as_such() {
        let c = conn(517, true, &[16384]);
        let wrong = [&[0xee][..], &[0u8; 16], DOMAIN.as_bytes()].concat();
        let events = run(&c, Some(wrong), 1460);
        let p = problems(&events);
        assert_eq!(
            p[0],
            "c2s stream offset 11 in faketls.hello.random: the ClientHello's random does not verify with this secret (a wrong MTProxy secret?)"
        );
        assert!(p.iter().any(|l| l.contains("does not decrypt to a transport tag")), "{p:?}");
        assert!(payloads(&events, C2S).is_empty());
    }

    #[test]
    fn without_a_secret_the_hello_is_still_reported() {
        let c = conn(1753, true, &[16384]);
        let events = run(&c, None, 1460);
        assert_eq!(
            problems(&events),
            ["c2s stream offset 0 in faketls.hello: a fake-TLS MTProxy connection (faketls(sni www.example.com, time unverified), hello of 1753 bytes); reading it needs the proxy's ee secret (--mtproxy-secret) (rest of this direction skipped)"]
        );
    }

    #[test]
    fn a_gap_inside_a_record_is_followed_and_across_records_is_not() {
        let c = conn(517, true, &[16384]);
        let last_id = u64::from_le_bytes(c.c2s_msgs[2][..8].try_into().unwrap());
        let opts = TransportOptions { known_key_ids: vec![last_id], ..options(Some(ee_secret())) };
        let mut t = TransportConnection::new(opts);
        let mut out = Vec::new();
        // Hello, change cipher spec, and 100 bytes into the first record.
        let cut = 517 + 6 + 5 + 100;
        t.feed(C2S, &c.c2s[..cut], &mut out);
        t.gap(C2S, 50, &mut out);
        t.feed(C2S, &c.c2s[cut + 50..], &mut out);
        let got = payloads(&out, C2S);
        // The first frame lost bytes; the ones after it are found again.
        assert_eq!(got.last(), c.c2s_msgs.last());
        t.gap(C2S, 20_000, &mut out);
        assert!(problems(&out).iter().any(|p| p.contains("across TLS record boundaries")), "{:?}", problems(&out));
    }

    #[test]
    fn hostile_records_end_the_direction_with_one_line() {
        let c = conn(517, false, &[16384]);
        let mut bytes = c.c2s[..517].to_vec();
        bytes.extend_from_slice(&[0x42, 0x03, 0x03, 0xff, 0xff]);
        let mut t = TransportConnection::new(options(Some(ee_secret())));
        let mut out = Vec::new();
        t.feed(C2S, &bytes, &mut out);
        assert_eq!(
            problems(&out),
            ["c2s stream offset 517 in faketls.record: record type 0x42 where application data (0x17) was expected (rest of this direction skipped)"]
        );
        let mut t = TransportConnection::new(options(Some(ee_secret())));
        let mut out = Vec::new();
        t.feed(C2S, b"GET / HTTP/1.1\r\n", &mut out);
        assert_eq!(out.len(), 1);
        assert!(problems(&out)[0].contains("did not open with a TLS ClientHello"), "{:?}", problems(&out));
        // The refusal names the six bytes it was made on ("GET / "), however
        // the stream was cut: whole, or in pieces of 7 and 1 byte.
        let whole = problems(&out);
        assert!(whole[0].contains("(first bytes 47 45 54 20 2f 20) (rest of"), "{whole:?}");
        for piece in [7, 1] {
            let mut t = TransportConnection::new(options(Some(ee_secret())));
            let mut out = Vec::new();
            for chunk in b"GET / HTTP/1.1\r\n".chunks(piece) {
                t.feed(C2S, chunk, &mut out);
            }
            assert_eq!(problems(&out), whole, "in pieces of {piece}");
        }
    }

    #[test]
    fn ee_secrets_parse() {
        use super::super::parse_mtproxy_secret;
        let hex = crate::hex::encode(&ee_secret());
        assert_eq!(parse_mtproxy_secret(&hex).unwrap(), ee_secret());
        assert_eq!(
            parse_mtproxy_secret(&hex[..34]).unwrap_err(),
            "an ee (fake-TLS) MTProxy secret is ee, 16 bytes and the hex of a domain name; the domain is missing"
        );
        assert_eq!(
            parse_mtproxy_secret(&format!("{}0a0b", &hex[..34])).unwrap_err(),
            "the 2 bytes after the 16 of an ee (fake-TLS) MTProxy secret are not a domain name"
        );
    }
}
