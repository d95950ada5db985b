//! Synthetic captures for the capture pipeline's tests: a client and a
//! server exchanging `messages.exportChatInvite` requests and answers, built
//! layer by layer exactly as the pipeline takes them apart.
//!
//! TL values come from `inspector::tl`; they are wrapped as real clients do
//! (invokeWithLayer › initConnection, msg_container, gzip_packed,
//! invokeAfterMsg, rpc_result), encrypted with `inspector::envelope`, framed
//! with `inspector::transport` (every framing, obfuscated2, MTProxy), cut
//! into TCP segments (etherparse builds IP and TCP headers with their
//! checksums), wrapped in a link layer and written as pcap or pcapng with the
//! `pcap-file` crate. Every fault a real capture can hold is an option:
//! arbitrary split points, coalesced frames, reordered, retransmitted or
//! dropped segments, a connection captured from the middle, a truncated
//! file, messages under a wrong or unknown key, a corrupted CRC, gzip bombs.
//!
//! Each fixture carries the list of requests and answers the pipeline must
//! recover, with their msg_ids, wrapping and values, so a test compares
//! without repeating the construction. Everything is deterministic: the same
//! spec always gives the same bytes.

use std::borrow::Cow;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use inspector::envelope::{encrypt_message, plain_message, AuthKey, OutgoingMessage};
use inspector::tcp::Direction;
use inspector::tl::{
    ChatInviteExported, ExportChatInvite, ExportedChatInvite, Frame, InputPeer, RpcError, StarsSubscriptionPricing,
    TlObject, Writer,
};
use inspector::transport::{encode_frame, encode_frame_into, Framing, Obfuscator};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::blocks::section_header::SectionHeaderBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, TsResolution};

pub const MSG_CONTAINER: u32 = 0x73f1_f8dc;
pub const RPC_RESULT: u32 = 0xf35c_6d01;
pub const GZIP_PACKED: u32 = 0x3072_cfa1;
pub const INVOKE_WITH_LAYER: u32 = 0xda9b_0d0d;
pub const INIT_CONNECTION: u32 = 0xc1cd_5ea9;
pub const INVOKE_AFTER_MSG: u32 = 0xcb9f_372d;
pub const MSGS_ACK: u32 = 0x62d6_b459;
pub const NEW_SESSION_CREATED: u32 = 0x9ec2_0908;
pub const VECTOR: u32 = 0x1cb5_c415;

/// The layer real clients put in invokeWithLayer.
pub const LAYER: i32 = 223;
pub const SALT: i64 = 0x0a45_5de9_0000_0df9;
pub const SESSION_ID: i64 = 0x5e55_1010_d000_0223;
/// Upper 32 bits of every msg_id: a fixed unix time.
const TIME: i64 = 1_760_000_000;

/// A deterministic 256-byte auth key from a seed.
pub fn auth_key(seed: u8) -> AuthKey {
    let mut k = [0u8; 256];
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(12345);
    for b in k.iter_mut() {
        // xorshift: any fixed sequence will do, it only has to differ per seed.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    AuthKey::new(k)
}

/// A client msg_id (a multiple of 4) or a server answer's (1 mod 4).
pub fn msg_id(n: u32, from_server: bool) -> i64 {
    (TIME << 32) | i64::from(n) << 4 | if from_server { 1 } else { 0 }
}

// ---------------------------------------------------------------------------
// TL bodies

fn encode<T: TlObject>(value: &T) -> Vec<u8> {
    value.to_bytes().expect("fixture values encode")
}

/// Whether `bytes` start like a legacy pcap file: its magic in either byte
/// order, with microsecond or nanosecond timestamps.
pub fn is_legacy_pcap(bytes: &[u8]) -> bool {
    bytes.len() >= 24
        && matches!(
            bytes[..4],
            [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0xc3, 0xd4] | [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d]
        )
}

/// `bytes`, a legacy pcap file, with the `sigfigs` field of its header
/// (bytes 12-15, which readers ignore) chosen so that a fuzz target that
/// samples its checks by the byte sum or a hash of its input picks the
/// ones a seed is made for: bytes 13 and 14 are the first pair, in order,
/// for which `keep` accepts the file, with byte 12 set each time to
/// `low(s)`, `s` being the file's byte sum with byte 12 zero. `None` if no
/// pair is accepted.
pub fn with_sigfigs(mut bytes: Vec<u8>, low: impl Fn(u8) -> u8, keep: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    assert!(is_legacy_pcap(&bytes), "not a legacy pcap file");
    for b13 in 0..=255u8 {
        for b14 in 0..=255u8 {
            bytes[12] = 0;
            bytes[13] = b13;
            bytes[14] = b14;
            bytes[12] = low(bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b)));
            if keep(&bytes) {
                return Some(bytes);
            }
        }
    }
    None
}

/// The `low` of [`with_sigfigs`] that makes the byte sum the next multiple
/// of 32 (which makes pcap_pipeline compare one thread with two and run
/// the text report on the file).
pub fn sum_to_multiple_of_32(sum: u8) -> u8 {
    (32 - sum % 32) % 32
}

/// gzip (RFC 1952) of `data`, byte for byte what
/// `flate2::write::GzEncoder` at `Compression::fast()` writes.
///
/// The deflate state is kept per thread and reset between calls: the
/// `service` fuzz target gzips half of its inputs, and a fresh state
/// (zlib-rs's window and hash tables, zeroed pages) was a ninth of an
/// execution under AddressSanitizer. The stream is the same encoder's
/// (`write::DeflateEncoder` is `GzEncoder`'s body); only the ten header
/// bytes and the eight trailer bytes (CRC-32 and length) are written here,
/// because `GzEncoder` cannot be reset.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    thread_local! {
        static DEFLATE: std::cell::RefCell<flate2::write::DeflateEncoder<Vec<u8>>> =
            std::cell::RefCell::new(flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast()));
    }
    // GzBuilder's header: no flags, mtime 0, XFL 4 (fastest), OS 255.
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255]);
    let mut out = DEFLATE.with(|cell| {
        let mut e = cell.borrow_mut();
        // Resetting is what costs (zlib-rs clears its tables): once per
        // call, the finished stream's buffer taken out rather than reset out.
        e.reset(out).expect("writing to memory");
        e.write_all(data).expect("writing to memory");
        e.try_finish().expect("writing to memory");
        std::mem::take(e.get_mut())
    });
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// A TL body written with the library's writer into a buffer of its final
/// size. The conversation fuzz target builds every message with these; a
/// vector grown from a constructor id made a reallocation for each
/// doubling, and allocating is most of what AddressSanitizer costs there
/// (FUZZING.md, "Thirteenth round").
fn tl_body(capacity: usize, write: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::with_capacity(capacity);
    write(&mut w);
    let body = w.finish().expect("fixture strings are short");
    debug_assert_eq!(body.len(), capacity, "a TL body's size foreseen wrong");
    body
}

/// The length of a TL string of `len` bytes on the wire.
fn tl_string_len(len: usize) -> usize {
    let header = if len < 254 { 1 } else { 4 };
    (header + len).div_ceil(4) * 4
}

/// A gzip member (RFC 1952) holding `data` uncompressed, in stored
/// deflate blocks (RFC 1951, 3.2.4) of at most 65,535 bytes.
///
/// Written here, not by flate2: every stream zlib-rs starts clears its
/// 128 KiB hash table first, even at level 0, and the conversation fuzz
/// target starts one for every gzip_packed it writes (a fortieth of its
/// time under AddressSanitizer, and nothing the library does depends on
/// how the bytes were compressed). What reads it is third-party code all
/// the same: the library inflates gzip_packed with flate2 and zlib-rs, so
/// a malformed member fails the target. [`gzip`] writes compressed
/// members for the other fixtures.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 0xffff;
    let blocks = data.len().div_ceil(BLOCK).max(1);
    let mut out = Vec::with_capacity(10 + 5 * blocks + data.len() + 8);
    // No flags, mtime 0, XFL 0, OS 255 (unknown).
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    for i in 0..blocks {
        let block = &data[(i * BLOCK).min(data.len())..((i + 1) * BLOCK).min(data.len())];
        // BFINAL on the last block, BTYPE 00 (stored), then LEN and NLEN.
        out.push(u8::from(i + 1 == blocks));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// `gzip_packed` around a whole object.
pub fn gzip_packed(object: &[u8]) -> Vec<u8> {
    gzip_packed_bytes(&gzip(object))
}

/// `gzip_packed` around a whole object, stored uncompressed
/// ([`gzip_stored`]).
pub fn gzip_packed_stored(object: &[u8]) -> Vec<u8> {
    gzip_packed_bytes(&gzip_stored(object))
}

/// `gzip_packed` with `packed` as its bytes.
fn gzip_packed_bytes(packed: &[u8]) -> Vec<u8> {
    tl_body(4 + tl_string_len(packed.len()), |w| {
        w.u32(GZIP_PACKED);
        w.bytes(packed);
    })
}

/// `msg_container` of `(msg_id, seqno, body)`.
pub fn container(items: &[(i64, i32, Vec<u8>)]) -> Vec<u8> {
    tl_body(8 + items.iter().map(|(_, _, body)| 16 + body.len()).sum::<usize>(), |w| {
        w.u32(MSG_CONTAINER);
        w.u32(items.len() as u32);
        for (id, seq, body) in items {
            w.long(*id);
            w.int(*seq);
            w.u32(body.len() as u32);
            w.raw(body);
        }
    })
}

/// The strings of the initConnection that [`layer_init`] writes.
const INIT_STRINGS: [&str; 6] = ["fixture-writer", "Linux", "inspector-tests 0.1", "en", "", "en"];

/// `invokeWithLayer(223, initConnection(...))` around a query, as Telethon
/// sends its first request.
pub fn layer_init(query: &[u8]) -> Vec<u8> {
    let strings: usize = INIT_STRINGS.iter().map(|s| tl_string_len(s.len())).sum();
    tl_body(20 + strings + query.len(), |w| {
        w.u32(INVOKE_WITH_LAYER);
        w.int(LAYER);
        w.u32(INIT_CONNECTION);
        w.u32(0); // flags: no proxy, no params
        w.int(611_335); // api_id
        for s in INIT_STRINGS {
            w.bytes(s.as_bytes());
        }
        w.raw(query);
    })
}

pub fn invoke_after_msg(after: i64, query: &[u8]) -> Vec<u8> {
    tl_body(12 + query.len(), |w| {
        w.u32(INVOKE_AFTER_MSG);
        w.long(after);
        w.raw(query);
    })
}

pub fn rpc_result(req_msg_id: i64, result: &[u8]) -> Vec<u8> {
    tl_body(12 + result.len(), |w| {
        w.u32(RPC_RESULT);
        w.long(req_msg_id);
        w.raw(result);
    })
}

pub fn msgs_ack(ids: &[i64]) -> Vec<u8> {
    tl_body(12 + 8 * ids.len(), |w| {
        w.u32(MSGS_ACK);
        w.u32(VECTOR);
        w.u32(ids.len() as u32);
        for id in ids {
            w.long(*id);
        }
    })
}

pub fn new_session_created(first_msg_id: i64) -> Vec<u8> {
    tl_body(28, |w| {
        w.u32(NEW_SESSION_CREATED);
        w.long(first_msg_id);
        w.long(0x1234_5678_9abc_def0);
        w.long(SALT);
    })
}

/// A gzip_packed object that inflates to `size` bytes (an unknown
/// constructor followed by zeros): a bomb when `size` exceeds the cap.
pub fn gzip_bomb(size: usize) -> Vec<u8> {
    let mut plain = vec![0u8; size];
    plain[..4].copy_from_slice(&0x0bad_b0b0u32.to_le_bytes());
    gzip_packed(&plain)
}

/// Bombs inside bombs: each level is a container holding `level_size`
/// bytes of an unknown object and the gzip_packed next level, so every
/// level stays under a per-gzip cap while all of them together do not.
pub fn nested_gzip_bomb(levels: usize, level_size: usize) -> Vec<u8> {
    let mut inner = encode(&ExportChatInvite::new(InputPeer::PeerSelf));
    for i in 0..levels {
        let mut filler = vec![0u8; level_size];
        filler[..4].copy_from_slice(&0x0bad_b0b0u32.to_le_bytes());
        let c = container(&[(msg_id(9000 + i as u32, false), 0, filler), (msg_id(9500 + i as u32, false), 1, inner)]);
        inner = gzip_packed(&c);
    }
    inner
}

// ---------------------------------------------------------------------------
// The conversation

/// One MTProto message as sent.
#[derive(Debug, Clone)]
pub struct Message {
    pub direction: Direction,
    /// The id of the outer message (the container's for a container).
    pub msg_id: i64,
    pub seq_no: i32,
    pub body: Vec<u8>,
    pub encrypted: bool,
}

/// What the pipeline must find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Answer,
}

/// A request or answer the pipeline must report.
#[derive(Debug, Clone)]
pub struct Expected {
    pub kind: Kind,
    /// Index in [`Conversation::messages`] of the message that carries it.
    pub message: usize,
    /// The msg_id reported: the inner message's when in a container.
    pub msg_id: i64,
    pub req_msg_id: Option<i64>,
    /// As in the JSON report: outermost first, rpc_result left out.
    pub wrapping: Vec<&'static str>,
    pub value: Frame,
    pub encrypted: bool,
}

/// Messages in sending order, and what they carry.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub messages: Vec<Message>,
    pub expected: Vec<Expected>,
}

impl Conversation {
    fn push(&mut self, direction: Direction, msg_id: i64, seq_no: i32, body: Vec<u8>, encrypted: bool) -> usize {
        self.messages.push(Message { direction, msg_id, seq_no, body, encrypted });
        self.messages.len() - 1
    }

    #[allow(clippy::too_many_arguments)]
    fn expect(
        &mut self,
        kind: Kind,
        message: usize,
        msg_id: i64,
        req_msg_id: Option<i64>,
        wrapping: &[&'static str],
        value: Frame,
    ) {
        let encrypted = self.messages[message].encrypted;
        self.expected.push(Expected {
            kind,
            message,
            msg_id,
            req_msg_id,
            wrapping: wrapping.to_vec(),
            value,
            encrypted,
        });
    }

    /// A conversation with every wrapping real clients use, in both
    /// directions: an unencrypted pair, then encrypted requests in
    /// invokeWithLayer › initConnection, in a container with gzip, behind
    /// invokeAfterMsg, and bare with a long title (an abridged long length);
    /// answers in a container, gzip_packed, an rpc_error and a
    /// chatInvitePublicJoinRequests.
    pub fn standard() -> Conversation {
        Conversation::numbered(0)
    }

    /// [`Conversation::standard`] with its msg_ids moved by `base` steps,
    /// so that several connections of one capture do not share ids.
    pub fn numbered(base: u32) -> Conversation {
        let id = |n: u32, from_server: bool| msg_id(base + n, from_server);
        let c2s = Direction::ClientToServer;
        let s2c = Direction::ServerToClient;
        let mut c = Conversation::default();

        // 1. Unencrypted, as in the real abridged capture.
        let mut r1 = ExportChatInvite::new(InputPeer::Chat { chat_id: 4_000_000_000 });
        r1.expire_date = Some(1_767_225_600);
        r1.usage_limit = Some(10);
        let id1 = id(1, false);
        let m = c.push(c2s, id1, 0, encode(&r1), false);
        c.expect(Kind::Request, m, id1, None, &[], Frame::Request(r1));
        let mut a1 = ChatInviteExported::new("https://t.me/+fixture0001", 777_000, 1_760_000_000);
        a1.permanent = true;
        a1.expire_date = Some(1_767_225_600);
        a1.usage_limit = Some(10);
        let a1 = ExportedChatInvite::Exported(a1);
        let aid1 = id(1, true);
        let m = c.push(s2c, aid1, 0, encode(&a1), false);
        c.expect(Kind::Answer, m, aid1, Some(id1), &["unencrypted"], Frame::Answer(a1));

        // 2. The first encrypted request: every field, a nested peer.
        let r2 = ExportChatInvite {
            legacy_revoke_permanent: true,
            request_needed: true,
            peer: InputPeer::ChannelFromMessage {
                peer: Box::new(InputPeer::UserFromMessage {
                    peer: Box::new(InputPeer::User { user_id: 1, access_hash: -2 }),
                    msg_id: 3,
                    user_id: 4,
                }),
                msg_id: 5,
                channel_id: 1_234_567_890_123,
            },
            expire_date: Some(1_800_000_000),
            usage_limit: Some(99_999),
            title: Some("Layer 223 🔗 #2".into()),
            subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 }),
        };
        let id2 = id(2, false);
        let m = c.push(c2s, id2, 1, layer_init(&encode(&r2)), true);
        c.expect(Kind::Request, m, id2, None, &["invokeWithLayer", "initConnection"], Frame::Request(r2));

        // The answer in a container after new_session_created.
        let mut a2 = ChatInviteExported::new("https://t.me/+fixture0002", 777_000, 1_760_000_100);
        a2.request_needed = true;
        a2.title = Some("Layer 223 🔗 #2".into());
        a2.subscription_pricing = Some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 });
        a2.usage = Some(0);
        let a2 = ExportedChatInvite::Exported(a2);
        let (cid, inner2) = (id(2, true), id(3, true));
        let body =
            container(&[(id(4, true) | 2, 0, new_session_created(id2)), (inner2, 1, rpc_result(id2, &encode(&a2)))]);
        let m = c.push(s2c, cid, 2, body, true);
        c.expect(Kind::Answer, m, inner2, Some(id2), &["msg_container"], Frame::Answer(a2));

        // 3. A container: an ack and a gzip_packed request.
        let mut r3 = ExportChatInvite::new(InputPeer::Channel { channel_id: 1_000_000_001, access_hash: i64::MIN });
        r3.title = Some("gzip".into());
        let (cid3, id3) = (id(5, false), id(4, false));
        let body = container(&[(id(3, false), 2, msgs_ack(&[cid, inner2])), (id3, 3, gzip_packed(&encode(&r3)))]);
        let m = c.push(c2s, cid3, 4, body, true);
        c.expect(Kind::Request, m, id3, None, &["msg_container", "gzip_packed"], Frame::Request(r3));

        // Its answer gzip_packed, with a title long enough for the long string form.
        let mut a3 = ChatInviteExported::new("https://t.me/+fixture0003", 777_000, 1_760_000_200);
        a3.title = Some("t".repeat(300).into());
        a3.start_date = Some(1_760_000_000);
        a3.requested = Some(7);
        a3.subscription_expired = Some(1);
        a3.revoked = true;
        let a3 = ExportedChatInvite::Exported(a3);
        let aid3 = id(5, true);
        let m = c.push(s2c, aid3, 3, rpc_result(id3, &gzip_packed(&encode(&a3))), true);
        c.expect(Kind::Answer, m, aid3, Some(id3), &["gzip_packed"], Frame::Answer(a3));

        // 4. Behind invokeAfterMsg; refused.
        let r4 = ExportChatInvite::new(InputPeer::PeerSelf);
        let id4 = id(6, false);
        let m = c.push(c2s, id4, 5, invoke_after_msg(id3, &encode(&r4)), true);
        c.expect(Kind::Request, m, id4, None, &["invokeAfterMsg"], Frame::Request(r4));
        let a4 = RpcError { error_code: 400, error_message: "CHAT_ADMIN_REQUIRED".into() };
        let aid4 = id(6, true);
        let m = c.push(s2c, aid4, 5, rpc_result(id4, &encode(&a4)), true);
        c.expect(Kind::Answer, m, aid4, Some(id4), &[], Frame::Error(a4));

        // 5. Bare, big: a 600-byte title makes the abridged length long.
        let mut r5 = ExportChatInvite::new(InputPeer::Empty);
        r5.title = Some("x".repeat(600).into());
        r5.request_needed = true;
        let id5 = id(7, false);
        let m = c.push(c2s, id5, 7, encode(&r5), true);
        c.expect(Kind::Request, m, id5, None, &[], Frame::Request(r5));
        let a5 = ExportedChatInvite::PublicJoinRequests;
        let aid5 = id(7, true);
        let m = c.push(s2c, aid5, 7, rpc_result(id5, &encode(&a5)), true);
        c.expect(Kind::Answer, m, aid5, Some(id5), &[], Frame::Answer(a5));
        c
    }

    /// `pairs` small encrypted requests, each answered in an rpc_result,
    /// then a second answer to each request numbered in `repeat` (from 1).
    pub fn many_answered(pairs: u32, repeat: &[u32]) -> Conversation {
        let mut c = Conversation::default();
        let request = encode(&ExportChatInvite::new(InputPeer::PeerSelf));
        let answer = encode(&ExportedChatInvite::PublicJoinRequests);
        for n in 1..=pairs {
            c.push(Direction::ClientToServer, msg_id(n, false), 1, request.clone(), true);
            c.push(Direction::ServerToClient, msg_id(n, true), 1, rpc_result(msg_id(n, false), &answer), true);
        }
        for &n in repeat {
            let again = msg_id(pairs + n, true);
            c.push(Direction::ServerToClient, again, 1, rpc_result(msg_id(n, false), &answer), true);
        }
        c
    }

    /// Append a client message that is a gzip bomb (`body`), then one more
    /// request and its answer, to show decoding goes on after it.
    pub fn with_bomb(mut self, body: Vec<u8>) -> Conversation {
        let c2s = Direction::ClientToServer;
        let n = self.messages.len() as u32;
        self.push(c2s, msg_id(100 + n, false), 21, body, true);
        self.with_trailer(200 + n)
    }

    /// Append one more encrypted request and answer.
    pub fn with_trailer(mut self, n: u32) -> Conversation {
        let r = ExportChatInvite::new(InputPeer::Chat { chat_id: i64::from(n) });
        let id = msg_id(n, false);
        let m = self.push(Direction::ClientToServer, id, 23, encode(&r), true);
        self.expect(Kind::Request, m, id, None, &[], Frame::Request(r));
        let a = ExportedChatInvite::Exported(ChatInviteExported::new(format!("https://t.me/+after{n}"), 1, 2));
        let aid = msg_id(n, true);
        let m = self.push(Direction::ServerToClient, aid, 23, rpc_result(id, &encode(&a)), true);
        self.expect(Kind::Answer, m, aid, Some(id), &[], Frame::Answer(a));
        self
    }
}

// ---------------------------------------------------------------------------
// Transport

/// What is done to one message on its way to the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Encrypted with another key, but stamped with the right auth_key_id:
    /// the msg_key check must fail ("wrong key").
    ForgedKeyId,
    /// Encrypted with another key under its own id: an unknown key.
    OtherKey,
    /// Encrypted as if travelling the other way ("wrong direction").
    WrongDirection,
    /// Full transport: the frame's CRC32 is wrong.
    BadCrc,
}

/// The transport of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    pub framing: Framing,
    pub obfuscated: bool,
    /// An MTProxy secret (16 bytes, or 17 with a `dd` prefix); implies
    /// obfuscation.
    pub mtproxy_secret: Option<Vec<u8>>,
    /// The client asks for quick acks and the server sends them.
    pub quick_acks: bool,
    /// The server closes with a -404 transport error.
    pub transport_error: bool,
}

impl Transport {
    pub fn plain(framing: Framing) -> Transport {
        Transport { framing, obfuscated: false, mtproxy_secret: None, quick_acks: false, transport_error: false }
    }

    pub fn obfuscated(framing: Framing) -> Transport {
        Transport { obfuscated: true, ..Transport::plain(framing) }
    }

    pub fn mtproxy(secret: Vec<u8>) -> Transport {
        let framing = if secret.len() == 17 { Framing::PaddedIntermediate } else { Framing::Intermediate };
        Transport { obfuscated: true, mtproxy_secret: Some(secret), ..Transport::plain(framing) }
    }

    /// The transport as the report names it.
    pub fn label(&self) -> String {
        let prefix = if self.mtproxy_secret.is_some() {
            "mtproxy+"
        } else if self.obfuscated {
            "obfuscated2+"
        } else {
            ""
        };
        [prefix, self.framing.name()].concat()
    }

    /// Every framing, plain and obfuscated (obfuscated2 carries only the
    /// three tagged framings), and MTProxy with a plain and a `dd` secret.
    pub fn all() -> Vec<Transport> {
        let mut out = Vec::new();
        for framing in [Framing::Abridged, Framing::Intermediate, Framing::PaddedIntermediate, Framing::Full] {
            out.push(Transport::plain(framing));
            if framing != Framing::Full {
                out.push(Transport::obfuscated(framing));
            }
        }
        out.push(Transport::mtproxy(mtproxy_secret(false)));
        out.push(Transport::mtproxy(mtproxy_secret(true)));
        out
    }
}

/// A fixed MTProxy secret, with or without the `dd` prefix.
pub fn mtproxy_secret(dd: bool) -> Vec<u8> {
    let mut s: Vec<u8> = (0..16u8).map(|i| i.wrapping_mul(0x1d).wrapping_add(0x42)).collect();
    if dd {
        s.insert(0, 0xdd);
    }
    s
}

/// Where each message landed in its direction's stream.
#[derive(Debug, Clone)]
pub struct Placed {
    pub direction: Direction,
    pub start: u64,
    pub end: u64,
}

/// Both directions' byte streams, as sent on the wire.
#[derive(Debug, Clone, Default)]
pub struct Streams {
    pub c2s: Vec<u8>,
    pub s2c: Vec<u8>,
    /// Per message, its frame's span (the first c2s frame's span includes
    /// the transport tag or obfuscation header).
    pub placed: Vec<Placed>,
    /// The MTProto payload of each message (after encryption).
    pub payloads: Vec<Vec<u8>>,
}

/// The obfuscation header's random bytes, valid per the client rules.
fn obfuscation_random(seed: u8) -> [u8; 64] {
    let mut r = [0u8; 64];
    for (i, b) in r.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(seed).wrapping_add(0x51);
    }
    r[0] = 0x42; // never 0xef, never a tag or an HTTP verb
    r[4] = 0x99; // bytes 4..8 not all zero
    r
}

/// Padding: 12 to 27 bytes bringing the plaintext to a multiple of 16,
/// `extra` more blocks (at most 2), bytes from `seed`; in `buf`, whose
/// first bytes it returns (no allocation for each message).
fn mtproto_padding(buf: &mut [u8; 60], body_len: usize, extra: usize, seed: u8) -> &[u8] {
    let base = 12 + (16 - (32 + body_len + 12) % 16) % 16;
    let padding = &mut buf[..base + 16 * extra];
    for (i, b) in padding.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(29).wrapping_add(seed);
    }
    padding
}

/// The MTProto payload of a message: unencrypted, or encrypted with `key`
/// (or tampered with).
pub fn message_payload(message: &Message, key: &AuthKey, tamper: Option<Tamper>, index: usize) -> Vec<u8> {
    if !message.encrypted {
        return plain_message(message.msg_id, &message.body);
    }
    let out = OutgoingMessage {
        salt: SALT,
        session_id: SESSION_ID,
        msg_id: message.msg_id,
        seq_no: message.seq_no,
        data: &message.body,
    };
    let mut buf = [0u8; 60];
    let padding = mtproto_padding(&mut buf, message.body.len(), index % 3, index as u8);
    let other_key;
    let (key_used, direction) = match tamper {
        Some(Tamper::ForgedKeyId | Tamper::OtherKey) => {
            other_key = auth_key(0xee);
            (&other_key, message.direction)
        }
        Some(Tamper::WrongDirection) => (key, message.direction.reverse()),
        _ => (key, message.direction),
    };
    let mut payload = encrypt_message(key_used, direction, &out, padding).expect("valid padding");
    if tamper == Some(Tamper::ForgedKeyId) {
        payload[..8].copy_from_slice(&key.id().to_le_bytes());
    }
    payload
}

/// Frame every message of `conversation` for `transport`.
pub fn build_streams(
    conversation: &Conversation,
    transport: &Transport,
    key: &AuthKey,
    tamper: &[(usize, Tamper)],
) -> Streams {
    let mut s = Streams::default();
    // Room for every frame, so the streams are not grown message by
    // message: a message's encryption and padding add at most 115 bytes to
    // its body, its framing 19 and a quick ack 4; the obfuscation header is
    // 64.
    let room = |dir: Direction| -> usize {
        conversation.messages.iter().filter(|m| m.direction == dir).map(|m| m.body.len() + 140).sum()
    };
    s.c2s.reserve(64 + room(Direction::ClientToServer));
    s.s2c.reserve(16 + room(Direction::ServerToClient));
    s.placed.reserve(conversation.messages.len());
    s.payloads.reserve(conversation.messages.len());
    let mut obfuscator = None;
    let framing = transport.framing;
    if transport.obfuscated || transport.mtproxy_secret.is_some() {
        let (o, header) = Obfuscator::new(framing, obfuscation_random(7), 2, transport.mtproxy_secret.as_deref());
        s.c2s.extend_from_slice(&header);
        obfuscator = Some(o);
    } else {
        match framing {
            Framing::Abridged => s.c2s.push(0xef),
            Framing::Full => {}
            other => s.c2s.extend_from_slice(&other.tag().expect("tagged framing")),
        }
    }
    let mut full_seq = [0u32; 2];
    let mut header_pending = true;
    for (i, m) in conversation.messages.iter().enumerate() {
        let t = tamper.iter().find(|(n, _)| *n == i).map(|(_, t)| *t);
        let payload = message_payload(m, key, t, i);
        let side = usize::from(m.direction == Direction::ServerToClient);
        let mut padding = [0u8; 15];
        for (j, b) in padding.iter_mut().enumerate() {
            *b = (j as u8) ^ 0x5a;
        }
        let stream = if side == 0 { &mut s.c2s } else { &mut s.s2c };
        if transport.quick_acks && side == 1 && framing != Framing::Full {
            // A quick ack before each answer: 4 bytes, top bit set.
            let token = 0x8000_0000u32 | ((i as u32 * 0x0101_0101) & 0x7fff_ffff);
            let mut bytes = match framing {
                Framing::Abridged => token.to_be_bytes(),
                _ => token.to_le_bytes(),
            };
            if let Some(o) = &mut obfuscator {
                o.apply(Direction::ServerToClient, &mut bytes);
            }
            stream.extend_from_slice(&bytes);
        }
        let start = if side == 0 && header_pending { 0 } else { stream.len() as u64 };
        if side == 0 {
            header_pending = false;
        }
        // The frame is written into the stream and changed there.
        let at = stream.len();
        encode_frame_into(stream, framing, &payload, full_seq[side], &padding[..(i * 5) % 16]);
        full_seq[side] += 1;
        let frame = &mut stream[at..];
        if t == Some(Tamper::BadCrc) {
            let last = frame.len() - 1;
            frame[last] ^= 0xff;
        }
        if transport.quick_acks && m.direction == Direction::ClientToServer {
            match framing {
                Framing::Abridged => frame[0] |= 0x80,
                Framing::Intermediate | Framing::PaddedIntermediate => frame[3] |= 0x80,
                Framing::Full => {}
            }
        }
        if let Some(o) = &mut obfuscator {
            o.apply(m.direction, frame);
        }
        s.placed.push(Placed { direction: m.direction, start, end: stream.len() as u64 });
        s.payloads.push(payload);
    }
    if transport.transport_error {
        let mut frame = encode_frame(framing, &(-404i32).to_le_bytes(), full_seq[1], &[]);
        if let Some(o) = &mut obfuscator {
            o.apply(Direction::ServerToClient, &mut frame);
        }
        s.s2c.extend_from_slice(&frame);
    }
    s
}

// ---------------------------------------------------------------------------
// TCP

/// A captured IP packet of [`TcpPackets`].
#[derive(Debug, Clone)]
pub struct IpPacket {
    pub time_ns: u64,
    /// Where its bytes are in [`TcpPackets::bytes`].
    pub span: std::ops::Range<usize>,
    /// For data segments: direction and stream span, to aim faults.
    pub data: Option<(Direction, u64, u64)>,
}

/// The packets of one connection, their bytes one after another in one
/// buffer (a vector for each packet was a twelfth of the allocations of
/// the conversation fuzz target, FUZZING.md, "Thirteenth round").
#[derive(Debug, Clone, Default)]
pub struct TcpPackets {
    pub packets: Vec<IpPacket>,
    pub bytes: Vec<u8>,
}

impl TcpPackets {
    /// The bytes of `packet`.
    pub fn bytes_of(&self, packet: &IpPacket) -> &[u8] {
        &self.bytes[packet.span.clone()]
    }
}

/// How a connection's streams become segments, and what goes wrong.
#[derive(Debug, Clone, Default)]
pub struct Segmenting {
    /// Largest segment payload (0: 1400).
    pub mss: usize,
    /// Extra cut points, as stream offsets per direction.
    pub splits: Vec<(Direction, u64)>,
    /// One segment per flight (consecutive messages of one direction)
    /// instead of one per frame.
    pub coalesce: bool,
    /// Data segments (numbered in sending order, from 0) sent after the
    /// next one.
    pub reorder: Vec<usize>,
    /// Data segments sent twice.
    pub retransmit: Vec<usize>,
    /// Data segments lost (never captured; the receiver got them, so later
    /// acknowledgements cover them).
    pub drop: Vec<usize>,
    /// The capture starts at this data segment (no handshake).
    pub start_at: Option<usize>,
    /// No FIN at the end.
    pub no_close: bool,
}

/// The endpoints of a connection.
pub fn endpoints(v6: bool, n: u16) -> (SocketAddr, SocketAddr) {
    if v6 {
        (
            format!("[2001:db8::{:x}]:{}", 2 + n, 51000 + n).parse().expect("address"),
            "[2001:67c:4e8:f004::a]:443".parse().expect("address"),
        )
    } else {
        (
            format!("10.1.0.{}:{}", 2 + n, 51000 + n).parse().expect("address"),
            "149.154.167.51:443".parse().expect("address"),
        )
    }
}

/// One IPv4 or IPv6 packet carrying a TCP segment, checksums included.
///
/// Written from etherparse's headers rather than its `PacketBuilder`: the
/// builder holds room for every IPv6 extension header (kilobytes) and is
/// moved by value at each step, which made copying it a fifth of the
/// `conversation` fuzz target's time (perf, 2026-12-06). The bytes are
/// the builder's (`tests/capture_fixtures.rs` checks them against it).
#[allow(clippy::too_many_arguments)]
pub fn ip_tcp(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(80 + payload.len());
    ip_tcp_into(&mut out, src, dst, seq, ack, syn, fin, payload);
    out
}

/// [`ip_tcp`] appended to `out`.
#[allow(clippy::too_many_arguments)]
pub fn ip_tcp_into(
    out: &mut Vec<u8>,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    payload: &[u8],
) {
    let mut tcp = etherparse::TcpHeader::new(src.port(), dst.port(), seq, 65535);
    tcp.syn = syn;
    tcp.fin = fin;
    tcp.psh = !payload.is_empty();
    if let Some(a) = ack {
        tcp.ack = true;
        tcp.acknowledgment_number = a;
    }
    let len = u16::try_from(tcp.header_len() + payload.len()).expect("a TCP segment that fits an IP packet");
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            let mut ip =
                etherparse::Ipv4Header::new(len, 64, etherparse::IpNumber::TCP, s.ip().octets(), d.ip().octets())
                    .expect("a TCP segment that fits an IPv4 packet");
            ip.header_checksum = ip.calc_header_checksum();
            tcp.checksum = tcp.calc_checksum_ipv4(&ip, payload).expect("a TCP segment that fits an IPv4 packet");
            out.extend_from_slice(&ip.to_bytes());
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            let ip = etherparse::Ipv6Header {
                traffic_class: 0,
                flow_label: etherparse::Ipv6FlowLabel::ZERO,
                payload_length: len,
                next_header: etherparse::IpNumber::TCP,
                hop_limit: 64,
                source: s.ip().octets(),
                destination: d.ip().octets(),
            };
            tcp.checksum = tcp.calc_checksum_ipv6(&ip, payload).expect("a TCP segment that fits an IPv6 packet");
            out.extend_from_slice(&ip.to_bytes());
        }
        _ => panic!("mixed address families"),
    }
    out.extend_from_slice(&tcp.to_bytes());
    out.extend_from_slice(payload);
}

/// The data segments `tcp_packets` cuts `streams` into, in sending order
/// before `seg`'s reordering and faults: (direction, stream start, end).
/// Segment numbers in [`Segmenting`] index this list.
pub fn data_segments(streams: &Streams, seg: &Segmenting) -> Vec<(Direction, u64, u64)> {
    let mss = if seg.mss == 0 { 1400 } else { seg.mss };
    // Segments in send order: (direction, start, end); a flight for each
    // frame at most, and the bytes after the last in each direction.
    let mut flights: Vec<(Direction, u64, u64)> = Vec::with_capacity(streams.placed.len() + 2);
    for p in &streams.placed {
        match flights.last_mut() {
            Some(f) if f.0 == p.direction && seg.coalesce => f.2 = p.end,
            _ => flights.push((p.direction, p.start, p.end)),
        }
    }
    // Bytes not covered by a message (quick acks, a trailing error) go
    // with the next frame in their direction, or at the end.
    let mut covered = [0u64; 2];
    for f in &mut flights {
        let side = usize::from(f.0 == Direction::ServerToClient);
        f.1 = covered[side];
        covered[side] = f.2;
    }
    for (side, dir) in [(0, Direction::ClientToServer), (1, Direction::ServerToClient)] {
        let len = if side == 0 { streams.c2s.len() } else { streams.s2c.len() } as u64;
        if covered[side] < len {
            flights.push((dir, covered[side], len));
        }
    }
    let total = (streams.c2s.len() + streams.s2c.len()) as u64;
    let mut segments: Vec<(Direction, u64, u64)> =
        Vec::with_capacity(flights.len() + seg.splits.len() + (total / mss as u64) as usize);
    let mut cuts: Vec<u64> = Vec::new();
    for (dir, start, end) in flights {
        cuts.clear();
        cuts.extend(seg.splits.iter().filter(|(d, o)| *d == dir && *o > start && *o < end).map(|s| s.1));
        let mut at = start;
        while at + (mss as u64) < end {
            at += mss as u64;
            cuts.push(at);
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut from = start;
        for &c in cuts.iter().chain(std::iter::once(&end)) {
            if c > from {
                segments.push((dir, from, c));
                from = c;
            }
        }
    }
    segments
}

/// The TCP packets of one connection carrying `streams`, in the order the
/// messages were sent, with `seg`'s faults applied.
pub fn tcp_packets(streams: &Streams, client: SocketAddr, server: SocketAddr, seg: &Segmenting, t0: u64) -> TcpPackets {
    const ISN_C: u32 = 0xffff_f000; // both wrap inside the connection
    const ISN_S: u32 = 0x7fff_fff0;
    let segments = data_segments(streams, seg);
    let mut order: Vec<usize> = (0..segments.len()).collect();
    for &i in &seg.reorder {
        if i + 1 < order.len() {
            let a = order.iter().position(|&x| x == i).expect("segment");
            let b = order.iter().position(|&x| x == i + 1).expect("segment");
            order.swap(a, b);
        }
    }
    // Three handshake packets, each segment with a retransmission and an
    // acknowledgement at most, two FINs; 60 bytes of IP and TCP headers each.
    let most = 5 + 3 * segments.len();
    let mut out = TcpPackets {
        packets: Vec::with_capacity(most),
        bytes: Vec::with_capacity(60 * most + 2 * (streams.c2s.len() + streams.s2c.len())),
    };
    let mut time = t0;
    // One packet, a millisecond after the one before.
    let mut tick = |out: &mut TcpPackets,
                    (src, dst): (SocketAddr, SocketAddr),
                    seq: u32,
                    ack: Option<u32>,
                    syn: bool,
                    fin: bool,
                    payload: &[u8],
                    data: Option<(Direction, u64, u64)>| {
        let at = out.bytes.len();
        ip_tcp_into(&mut out.bytes, src, dst, seq, ack, syn, fin, payload);
        out.packets.push(IpPacket { time_ns: time, span: at..out.bytes.len(), data });
        time += 1_000_000;
    };
    let seq_of = |dir: Direction, offset: u64| -> u32 {
        let isn = if dir == Direction::ClientToServer { ISN_C } else { ISN_S };
        isn.wrapping_add(1).wrapping_add(offset as u32)
    };
    let capturing = |i: usize| seg.start_at.is_none_or(|s| i >= s);
    if seg.start_at.is_none() {
        tick(&mut out, (client, server), ISN_C, None, true, false, &[], None);
        tick(&mut out, (server, client), ISN_S, Some(ISN_C.wrapping_add(1)), true, false, &[], None);
        tick(&mut out, (client, server), ISN_C.wrapping_add(1), Some(ISN_S.wrapping_add(1)), false, false, &[], None);
    }
    // What each side has sent so far (its next sequence number), and how
    // much of it the peer has received in order: acknowledgements are
    // cumulative, so a segment that overtook another is not acknowledged
    // before the one it overtook arrives (a lost one did arrive).
    let mut sent = [0u64; 2];
    let mut spans: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
    let mut got = [0u64; 2];
    let mut receive = |side: usize, start: u64, end: u64, got: &mut [u64; 2]| {
        spans[side].push((start, end));
        spans[side].sort_unstable();
        for &(s, e) in &spans[side] {
            if s <= got[side] {
                got[side] = got[side].max(e);
            }
        }
    };
    let mut pending_retransmit: Option<usize> = None;
    for (k, &i) in order.iter().enumerate() {
        let (dir, start, end) = segments[i];
        let side = usize::from(dir == Direction::ServerToClient);
        sent[side] = sent[side].max(end);
        receive(side, start, end, &mut got);
        let (src, dst) = if side == 0 { (client, server) } else { (server, client) };
        let stream = if side == 0 { &streams.c2s } else { &streams.s2c };
        let ack = seq_of(dir.reverse(), got[1 - side]);
        let bytes = &stream[start as usize..end as usize];
        if capturing(k) && !seg.drop.contains(&i) {
            tick(&mut out, (src, dst), seq_of(dir, start), Some(ack), false, false, bytes, Some((dir, start, end)));
        }
        if let Some(r) = pending_retransmit.take() {
            let (d, s, e) = segments[r];
            let sd = usize::from(d == Direction::ServerToClient);
            let (src, dst) = if sd == 0 { (client, server) } else { (server, client) };
            let st = if sd == 0 { &streams.c2s } else { &streams.s2c };
            let ack = seq_of(d.reverse(), got[1 - sd]);
            tick(
                &mut out,
                (src, dst),
                seq_of(d, s),
                Some(ack),
                false,
                false,
                &st[s as usize..e as usize],
                Some((d, s, e)),
            );
        }
        if seg.retransmit.contains(&i) {
            pending_retransmit = Some(i);
        }
        // The receiver acknowledges what it got before the other side
        // speaks (this is what tells a capture reader a segment was lost).
        let next_dir = order.get(k + 1).map(|&j| segments[j].0);
        if next_dir != Some(dir) && capturing(k) {
            let ack = seq_of(dir, got[side]);
            tick(&mut out, (dst, src), seq_of(dir.reverse(), sent[1 - side]), Some(ack), false, false, &[], None);
        }
    }
    if let Some(r) = pending_retransmit {
        let (d, s, e) = segments[r];
        let sd = usize::from(d == Direction::ServerToClient);
        let (src, dst) = if sd == 0 { (client, server) } else { (server, client) };
        let st = if sd == 0 { &streams.c2s } else { &streams.s2c };
        let ack = seq_of(d.reverse(), got[1 - sd]);
        tick(&mut out, (src, dst), seq_of(d, s), Some(ack), false, false, &st[s as usize..e as usize], Some((d, s, e)));
    }
    if !seg.no_close {
        let fin_c = seq_of(Direction::ClientToServer, sent[0]);
        let fin_s = seq_of(Direction::ServerToClient, sent[1]);
        tick(&mut out, (client, server), fin_c, Some(fin_s), false, true, &[], None);
        tick(&mut out, (server, client), fin_s, Some(fin_c.wrapping_add(1)), false, true, &[], None);
    }
    out
}

// ---------------------------------------------------------------------------
// Link layers and capture files

/// A link type and how a packet is wrapped in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    /// Ethernet with an 802.1Q tag.
    EthernetVlan,
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// Raw IP (link type 101).
    Raw,
    /// Raw IPv4 (228) or IPv6 (229), as the packet's version says.
    RawIpVersioned,
    /// BSD loopback, host byte order family (link type 0).
    Null,
    /// OpenBSD loopback, network byte order family (link type 108).
    Loop,
}

impl Link {
    pub const ALL: [Link; 8] = [
        Link::Ethernet,
        Link::EthernetVlan,
        Link::Sll,
        Link::Sll2,
        Link::Raw,
        Link::RawIpVersioned,
        Link::Null,
        Link::Loop,
    ];

    fn datalink(self, v6: bool) -> DataLink {
        match self {
            Link::Ethernet | Link::EthernetVlan => DataLink::ETHERNET,
            Link::Sll => DataLink::LINUX_SLL,
            Link::Sll2 => DataLink::LINUX_SLL2,
            Link::Raw => DataLink::RAW,
            Link::RawIpVersioned if v6 => DataLink::IPV6,
            Link::RawIpVersioned => DataLink::IPV4,
            Link::Null => DataLink::NULL,
            Link::Loop => DataLink::LOOP,
        }
    }

    /// `ip` behind this link's header.
    pub fn wrap(self, ip: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(ip.len() + 20);
        self.wrap_into(&mut out, ip);
        out
    }

    /// [`Link::wrap`] into `out`, replacing what it held (one buffer for
    /// every packet of a capture).
    pub fn wrap_into(self, out: &mut Vec<u8>, ip: &[u8]) {
        out.clear();
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: u16 = if v6 { 0x86dd } else { 0x0800 };
        match self {
            Link::Ethernet | Link::EthernetVlan => {
                out.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
                if self == Link::EthernetVlan {
                    out.extend_from_slice(&0x8100u16.to_be_bytes());
                    out.extend_from_slice(&0x0123u16.to_be_bytes()); // priority 0, VLAN 291
                }
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll => {
                // packet type (outgoing), ARPHRD_ETHER, address length, address, protocol
                out.extend_from_slice(&[0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll2 => {
                // protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address
                out.extend_from_slice(&ethertype.to_be_bytes());
                out.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            }
            Link::Raw | Link::RawIpVersioned => {}
            Link::Null => out.extend_from_slice(&(if v6 { 30u32 } else { 2 }).to_le_bytes()),
            Link::Loop => out.extend_from_slice(&(if v6 { 24u32 } else { 2 }).to_be_bytes()),
        }
        out.extend_from_slice(ip);
    }
}

/// The capture file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
    },
    /// pcapng; `sections` > 1 repeats the section and interface blocks
    /// halfway through.
    PcapNg {
        big_endian: bool,
        sections: usize,
    },
}

/// One connection of a capture.
#[derive(Debug, Clone)]
pub struct ConnectionSpec {
    pub transport: Transport,
    pub conversation: Conversation,
    pub tamper: Vec<(usize, Tamper)>,
    pub segmenting: Segmenting,
    pub v6: bool,
    /// The interface (pcapng) it was captured on.
    pub interface: usize,
}

impl ConnectionSpec {
    pub fn new(transport: Transport) -> ConnectionSpec {
        ConnectionSpec {
            transport,
            conversation: Conversation::standard(),
            tamper: Vec::new(),
            segmenting: Segmenting::default(),
            v6: false,
            interface: 0,
        }
    }
}

/// A whole capture.
#[derive(Debug, Clone)]
pub struct CaptureSpec {
    pub format: Format,
    /// One link type per interface (legacy pcap uses the first).
    pub links: Vec<Link>,
    pub connections: Vec<ConnectionSpec>,
    /// Bytes cut off the end of the file.
    pub truncate: usize,
}

impl CaptureSpec {
    pub fn single(connection: ConnectionSpec) -> CaptureSpec {
        CaptureSpec {
            format: Format::Pcap { big_endian: false, nanos: false },
            links: vec![Link::Ethernet],
            connections: vec![connection],
            truncate: 0,
        }
    }
}

/// A built capture and what it must decode to.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub bytes: Vec<u8>,
    pub key: AuthKey,
    /// Per connection: its endpoints, its streams and its expectations.
    pub connections: Vec<BuiltConnection>,
}

#[derive(Debug, Clone)]
pub struct BuiltConnection {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub streams: Streams,
    pub packets: usize,
    pub expected: Vec<Expected>,
}

impl BuiltConnection {
    /// The expectations that do not come from the given messages (lost,
    /// tampered with, or before the capture started).
    pub fn expected_without(&self, messages: &[usize]) -> Vec<Expected> {
        self.expected.iter().filter(|e| !messages.contains(&e.message)).cloned().collect()
    }
}

/// The key every fixture encrypts with.
pub fn fixture_key() -> AuthKey {
    fixture_key_ref().clone()
}

/// [`fixture_key`], made once (its id is a SHA-1 of the key): the
/// conversation fuzz target encrypts under it on every execution.
pub fn fixture_key_ref() -> &'static AuthKey {
    static KEY: std::sync::OnceLock<AuthKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| auth_key(1))
}

/// Build the capture `spec` describes.
pub fn build(spec: &CaptureSpec) -> Fixture {
    build_with_streams(spec, Vec::new())
}

/// A packet to write: its time, its interface and link, and which packet
/// of which connection it is.
struct Queued {
    time: u64,
    interface: usize,
    link: Link,
    packet: (usize, usize),
}

/// [`build`], given the streams of the first connections already built:
/// `streams[n]` must be what [`build_streams`] gives connection `n` under
/// [`fixture_key`] (connections without one are built here). The
/// `conversation` fuzz target builds the streams first to aim its faults
/// at segments, and used to encrypt every message twice (about 2% of
/// its time under AddressSanitizer, 2026-12-06).
pub fn build_with_streams(spec: &CaptureSpec, streams: Vec<Streams>) -> Fixture {
    let key = fixture_key();
    let base: u64 = 1_760_000_000_000_000_000;
    // Each packet is framed for its link as it is written, into one buffer.
    let mut all: Vec<Queued> = Vec::new();
    let mut packets_of: Vec<TcpPackets> = Vec::new();
    let mut built = Vec::new();
    let mut prebuilt = streams.into_iter();
    for (n, c) in spec.connections.iter().enumerate() {
        let (client, server) = endpoints(c.v6, n as u16);
        let streams = prebuilt.next().unwrap_or_else(|| build_streams(&c.conversation, &c.transport, &key, &c.tamper));
        let packets = tcp_packets(&streams, client, server, &c.segmenting, base + n as u64 * 333_000);
        let link = spec.links[c.interface.min(spec.links.len() - 1)];
        all.reserve(packets.packets.len());
        for (i, p) in packets.packets.iter().enumerate() {
            all.push(Queued { time: p.time_ns, interface: c.interface, link, packet: (n, i) });
        }
        built.push(BuiltConnection {
            client,
            server,
            streams,
            packets: packets.packets.len(),
            expected: c.conversation.expected.clone(),
        });
        packets_of.push(packets);
    }
    // Stable: packets of the same time keep the order they were made in.
    all.sort_by_key(|p| p.time);
    // The file in one allocation: each packet with its link header (at
    // most 24 bytes) and its record (pcap 16 bytes, pcapng 32 and padding),
    // and the headers of up to two sections.
    let packet_bytes: usize = packets_of.iter().map(|p| p.bytes.len() + 64 * p.packets.len()).sum();
    let file = Vec::with_capacity(packet_bytes + 256 * (1 + spec.links.len()));
    // A packet with its link header, made again for each packet.
    let mut data = Vec::with_capacity(2048);
    let v6 = spec.connections.first().is_some_and(|c| c.v6);
    let mut bytes = match spec.format {
        Format::Pcap { big_endian, nanos } => {
            let header = PcapHeader {
                datalink: spec.links[0].datalink(v6),
                ts_resolution: if nanos { TsResolution::NanoSecond } else { TsResolution::MicroSecond },
                endianness: if big_endian { Endianness::Big } else { Endianness::Little },
                snaplen: 262_144,
                ..Default::default()
            };
            let mut w = PcapWriter::with_header(file, header).expect("writing to memory");
            for &Queued { time, link, packet: (n, i), .. } in &all {
                link.wrap_into(&mut data, packets_of[n].bytes_of(&packets_of[n].packets[i]));
                let ts = Duration::from_nanos(time);
                w.write_packet(&PcapPacket::new(ts, data.len() as u32, &data)).expect("writing to memory");
            }
            w.into_writer()
        }
        Format::PcapNg { big_endian, sections } => {
            let endianness = if big_endian { Endianness::Big } else { Endianness::Little };
            let section = SectionHeaderBlock { endianness, ..Default::default() };
            let mut w = PcapNgWriter::with_section_header(file, section.clone()).expect("writing to memory");
            let interfaces = |w: &mut PcapNgWriter<Vec<u8>>| {
                for (i, link) in spec.links.iter().enumerate() {
                    let v6 = spec.connections.iter().any(|c| c.interface == i && c.v6);
                    // pcap-file writes timestamps in nanoseconds; say so.
                    let idb = InterfaceDescriptionBlock {
                        linktype: link.datalink(v6),
                        snaplen: 262_144,
                        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
                    };
                    w.write_pcapng_block(idb).expect("writing to memory");
                }
            };
            interfaces(&mut w);
            let half = all.len() / 2;
            for (k, &Queued { time, interface: iface, link, packet: (n, i) }) in all.iter().enumerate() {
                if sections > 1 && k == half {
                    w.write_pcapng_block(section.clone()).expect("writing to memory");
                    interfaces(&mut w);
                }
                link.wrap_into(&mut data, packets_of[n].bytes_of(&packets_of[n].packets[i]));
                let epb = EnhancedPacketBlock {
                    interface_id: iface as u32,
                    timestamp: Duration::from_nanos(time),
                    original_len: data.len() as u32,
                    data: Cow::Borrowed(&data),
                    options: vec![],
                };
                w.write_pcapng_block(epb).expect("writing to memory");
            }
            w.into_inner()
        }
    };
    bytes.truncate(bytes.len().saturating_sub(spec.truncate));
    Fixture { bytes, key, connections: built }
}

/// Index of the data segment (in sending order, as [`Segmenting`] counts)
/// that carries stream byte `offset` of `dir`, for aiming faults.
pub fn segment_index(
    streams: &Streams,
    client: SocketAddr,
    server: SocketAddr,
    seg: &Segmenting,
    dir: Direction,
    offset: u64,
) -> Option<usize> {
    let plain = Segmenting { reorder: vec![], retransmit: vec![], drop: vec![], start_at: None, ..seg.clone() };
    tcp_packets(streams, client, server, &plain, 0)
        .packets
        .iter()
        .filter_map(|p| p.data)
        .position(|(d, s, e)| d == dir && s <= offset && offset < e)
}
