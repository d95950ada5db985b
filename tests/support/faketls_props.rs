//! The property of the `faketls` fuzz target (fuzz/fuzz_targets/faketls.rs),
//! shared with its corpus replay under stable `cargo test`.
//!
//! The input's first byte chooses between two checks:
//! - even: hostile bytes. The rest is fed as a fake-TLS connection with an
//!   `ee` secret (after a valid hello and server flight when bit 1 is set,
//!   so that the record layer is reached), in chunks the input chooses.
//!   Nothing may panic, buffers stay within a small multiple of what was
//!   fed, and every problem is one line.
//! - odd: a well-formed connection. The input chooses the hello's size,
//!   whether the client sends a change-cipher-spec record, the record
//!   sizes, the message sizes and the segment size; every message must come
//!   out of the transport as it went in.

use inspector::tcp::Direction;
use inspector::transport::{
    encode_client_hello, encode_frame, encode_records, encode_server_flight, Framing, Obfuscator, TransportConnection,
    TransportEvent, TransportOptions,
};

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

/// The 16 bytes of the secret the fuzz connections use.
pub const SECRET: [u8; 16] = *b"fuzz-faketls-key";
/// The domain of their `ee` secret.
pub const DOMAIN: &str = "fuzz.example.org";

/// The one-line texts of the transport layer's problems among `events`,
/// in order.
pub fn problem_texts(events: &[TransportEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            TransportEvent::Problem(p) => Some(p.to_string()),
            _ => None,
        })
        .collect()
}

/// The whole `ee` secret: `ee`, the 16 bytes, the domain.
pub fn ee_secret() -> Vec<u8> {
    [&[0xee][..], &SECRET, DOMAIN.as_bytes()].concat()
}

fn options() -> TransportOptions {
    TransportOptions { mtproxy_secret: Some(ee_secret()), ..Default::default() }
}

/// The fuzz target's body.
pub fn faketls(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        hostile(mode & 2 != 0, rest);
    } else {
        well_formed(mode, rest);
    }
}

/// The valid hello and server flight the hostile inputs may start with:
/// always the same, so made once (two HMACs and their encodings were a
/// good part of each execution).
fn fixed_handshake() -> &'static (Vec<u8>, Vec<u8>) {
    static HANDSHAKE: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    HANDSHAKE.get_or_init(|| {
        let hello = encode_client_hello(&SECRET, DOMAIN, 1_700_000_000, &[3; 32], 517);
        let flight = encode_server_flight(&SECRET, &hello, &[9; 64]);
        (hello, flight)
    })
}

fn hostile(with_hello: bool, data: &[u8]) {
    let Some((&chunk, data)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1) * 7;
    let mut conn = TransportConnection::new(options());
    let mut out = Vec::new();
    let mut fed = 0usize;
    if with_hello {
        let (hello, flight) = fixed_handshake();
        conn.feed(C2S, hello, &mut out);
        conn.feed(S2C, flight, &mut out);
        fed += hello.len() + flight.len();
    }
    for (i, piece) in data.chunks(chunk).enumerate() {
        // The chunk's first byte picks the direction, or a gap.
        let dir = if piece[0] & 1 == 0 { C2S } else { S2C };
        if piece[0] & 0x0e == 0x0e {
            conn.gap(dir, u64::from(piece[0] >> 4) * 100, &mut out);
        } else {
            conn.feed(dir, piece, &mut out);
        }
        fed += piece.len();
        let held = conn.buffered_bytes();
        assert!(held <= 4 * fed + 4096, "after {i} feeds of {fed} bytes the transport holds {held} bytes");
    }
    for e in &out {
        if let TransportEvent::Problem(p) = e {
            let line = p.to_string();
            assert!(!line.contains('\n'), "a problem is not one line: {line:?}");
        }
        // Debug must not panic either; formatted into a sink that keeps
        // nothing (a frame's payload as Debug text is several times its
        // size, grown by reallocation, and was an allocation per event).
        let _ = std::fmt::Write::write_fmt(&mut Discard, format_args!("{e:?}"));
    }
}

/// A `fmt::Write` that drops what is written.
struct Discard;

impl std::fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> std::fmt::Result {
        Ok(())
    }
}

fn well_formed(mode: u8, data: &[u8]) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let hello_len = if mode & 2 != 0 { 517 } else { 517 + usize::from(byte(0)) * 8 };
    let ccs = mode & 4 != 0;
    let chunk = usize::from(byte(1)).max(1) * 13;
    // Record sizes 1..=16384 from pairs of bytes; a few is enough.
    let sizes: Vec<usize> =
        (0..4).map(|k| (usize::from(byte(2 + 2 * k)) << 6 | usize::from(byte(3 + 2 * k))) % 16384 + 1).collect();
    // Messages of 24 + 16k bytes, so that padding is recognised.
    let message = |seed: u8, k: u8| -> Vec<u8> {
        let len = 24 + usize::from(k % 64) * 16 + 48;
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1).collect()
    };
    let c2s_msgs: Vec<Vec<u8>> = (0..3).map(|k| message(k, byte(10 + usize::from(k)))).collect();
    let s2c_msgs: Vec<Vec<u8>> = (0..2).map(|k| message(100 + k, byte(13 + usize::from(k)))).collect();

    let random: [u8; 64] = std::array::from_fn(|i| (i as u8).wrapping_mul(29).wrapping_add(byte(15)) | 0x10);
    let (mut obf, header) = Obfuscator::new(Framing::PaddedIntermediate, random, 2, Some(&SECRET));
    let padding = [0x77u8; 15];
    let pad = usize::from(byte(16) % 16);
    // The frames one after the other. (Appended whole: collecting them
    // through `flat_map` went byte by byte, a tenth of an execution under
    // the fuzzer's instrumentation.)
    let frames = |msgs: &[Vec<u8>]| -> Vec<u8> {
        let mut out = Vec::new();
        for m in msgs {
            out.extend_from_slice(&encode_frame(Framing::PaddedIntermediate, m, 0, &padding[..pad]));
        }
        out
    };
    let mut a = frames(&c2s_msgs);
    obf.apply(C2S, &mut a);
    let mut b = frames(&s2c_msgs);
    obf.apply(S2C, &mut b);
    let hello = encode_client_hello(&SECRET, DOMAIN, 1_700_000_000, &[5; 32], hello_len);
    let mut c2s = hello.clone();
    if ccs {
        c2s.extend_from_slice(&[0x14, 3, 3, 0, 1, 1]);
    }
    c2s.extend(encode_records(&[&header[..], &a].concat(), &sizes));
    let mut s2c = encode_server_flight(&SECRET, &hello, &[0xab; 300]);
    s2c.extend(encode_records(&b, &sizes));

    let mut conn = TransportConnection::new(options());
    let mut out = Vec::new();
    let mut ia = c2s.chunks(chunk);
    let mut ib = s2c.chunks(chunk);
    loop {
        let (na, nb) = (ib.next(), ia.next());
        if na.is_none() && nb.is_none() {
            break;
        }
        if let Some(b) = na {
            conn.feed(S2C, b, &mut out);
        }
        if let Some(a) = nb {
            conn.feed(C2S, a, &mut out);
        }
    }
    let problems = problem_texts(&out);
    assert!(problems.is_empty(), "a well-formed connection has problems: {problems:?}");
    let frames_out = |dir: Direction| -> Vec<&[u8]> {
        out.iter()
            .filter_map(|e| match e {
                TransportEvent::Frame(f) if f.direction == dir => Some(f.payload.as_slice()),
                _ => None,
            })
            .collect()
    };
    fn sent(msgs: &[Vec<u8>]) -> Vec<&[u8]> {
        msgs.iter().map(Vec::as_slice).collect()
    }
    assert_eq!(frames_out(C2S), sent(&c2s_msgs), "client messages");
    assert_eq!(frames_out(S2C), sent(&s2c_msgs), "server messages");
    let info = conn.info().expect("the transport was detected");
    assert_eq!(info.fake_tls.as_ref().and_then(|t| t.sni.as_deref()), Some(DOMAIN));
}
