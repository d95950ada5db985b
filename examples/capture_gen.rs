//! The capture benchmark's helper (`benches/capture.sh`): it writes large
//! synthetic captures, and measures the AES-256-IGE decryption limit that
//! `inspector pcap` is compared with.
//!
//! ```text
//! capture_gen generate OUT [--size 500M] [--seed N] [--shape bulk|client] [--large-frames] [--never-close]
//! capture_gen scan OUT [--connections N]
//! capture_gen ige-limit BYTES [--chunk N]
//! ```
//!
//! `generate` builds connections with the capture fixture writer
//! (`tests/support/fixtures.rs`): each is a standard exportChatInvite
//! conversation (invokeWithLayer › initConnection, containers, gzip_packed,
//! invokeAfterMsg, an rpc_error, a long title) followed by other traffic of
//! log-uniform sizes (some of it gzip_packed, some in containers with
//! acks), over a rotating choice of plain and obfuscated2 transports and
//! TCP segmentations, all encrypted with the fixture key. A few dozen
//! connections are open at a time and their packets are interleaved; a
//! connection is generated only when it opens and forgotten when it
//! closes, and packets go straight to a buffered file, so memory does not
//! grow with `--size` and 500 MB take seconds. MTProxy connections are left
//! out: they need `--mtproxy-secret`, and the benchmark runs the plain
//! command line. It writes OUT, the key as hex in OUT.key, and counts in
//! OUT.stats (`name=value` lines, read by the script; `encrypted_bytes` is
//! what the IGE limit decrypts).
//!
//! `--shape client` makes the capture look like real clients' traffic
//! rather than bulk transfers: many short connections open at once (256),
//! each with the standard conversation and a few (4 to 15) other requests
//! whose answers are small (64 B to 4 KiB), one in forty a large
//! gzip_packed answer (16 to 256 KiB inflated); segments of 536 to 1448
//! bytes, as on the Internet. Packets then average a few hundred bytes and
//! per-packet and per-connection costs weigh more than the ciphers' speed.
//! The default shape, `bulk`, has answers up to 32 KiB and segments up to
//! 8960 bytes.
//!
//! `--large-frames` adds to the first connection a request with a 4 MiB
//! title and an answer whose gzip_packed body inflates to just under the
//! 16 MiB cap; `--never-close` adds a connection that carries traffic from
//! the first packet to the last and is never closed: both are the cases
//! where an inspector's memory could grow with one connection.
//!
//! `scan` writes a port scan: N connections (200,000 unless told) that
//! each send one SYN and nothing else, so none closes: the case where an
//! inspector's memory could grow with the number of open connections.
//!
//! `ige-limit` decrypts BYTES with the crates and cipher mode the envelope
//! stage uses, in pieces of `--chunk` bytes (the capture's mean encrypted
//! message size), each with a fresh key schedule as each message has, and
//! prints the seconds it took.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use aes::Aes256;
use inspector::envelope::AuthKey;
use inspector::tcp::Direction;
use inspector::tl::{ChatInviteExported, ExportChatInvite, ExportedChatInvite, InputPeer, TlObject};
use inspector::transport::Framing;
use inspector_tests::fixtures::{
    build_streams, container, fixture_key, gzip_packed, ip_tcp, msg_id, msgs_ack, rpc_result, tcp_packets,
    Conversation, Link, Message, Segmenting, Streams, Transport,
};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};

/// Connections open at once.
const ACTIVE: usize = 32;
/// Connections open at once in the client shape.
const ACTIVE_CLIENT: usize = 256;

/// What the traffic looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Few connections at a time, large answers, large segments.
    Bulk,
    /// Real clients: many short connections, small frames, a few large
    /// gzip_packed answers.
    Client,
}
/// msg_ids reserved per connection (or per chunk of the long connection).
const IDS_PER_CONNECTION: u32 = 1024;
/// Made-up constructors for the other traffic: they are what the report
/// counts as "other", as messages.getHistory and messages.messages are.
const OTHER_REQUEST: u32 = 0x4423_e6c5;
const OTHER_ANSWER: u32 = 0x8c71_8e87;
/// The header before the IGE-encrypted part of an MTProto 2.0 message
/// (auth_key_id and msg_key).
const ENCRYPTED_HEADER_LEN: usize = 24;

/// A small deterministic generator (xorshift64*): the capture must be the
/// same for the same seed, and the sizes only need to look varied.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Bytes no compressor shrinks, as encrypted media or random ids.
    fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        let end = out.len() + len;
        while out.len() < end {
            let word = self.next().to_le_bytes();
            let take = (end - out.len()).min(8);
            out.extend_from_slice(&word[..take]);
        }
    }

    /// Text-like bytes that compress a few times, as message histories do.
    fn text(&mut self, out: &mut Vec<u8>, len: usize) {
        const WORDS: [&str; 12] = [
            "invite ", "channel ", "message ", "the ", "link ", "join ", "admin ", "42 ", "photo ", "and ", "to ",
            "ok\n",
        ];
        let end = out.len() + len;
        while out.len() < end {
            let word = WORDS[self.below(WORDS.len() as u64) as usize].as_bytes();
            let take = (end - out.len()).min(word.len());
            out.extend_from_slice(&word[..take]);
        }
    }

    /// A size between `low` and `high`, log-uniform (many small messages,
    /// a few large ones), a multiple of 4 as TL objects are.
    fn size(&mut self, low: usize, high: usize) -> usize {
        let span = (high as f64 / low as f64).ln();
        let unit = self.below(1 << 20) as f64 / f64::from(1u32 << 20);
        ((low as f64 * (span * unit).exp()) as usize) & !3
    }
}

/// A TL object of an unknown constructor and `len` bytes of body.
fn other_object(rng: &mut Rng, constructor: u32, len: usize, compressible: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + len);
    out.extend_from_slice(&constructor.to_le_bytes());
    if compressible {
        rng.text(&mut out, len);
    } else {
        rng.fill(&mut out, len);
    }
    out
}

fn message(direction: Direction, msg_id: i64, seq_no: i32, body: Vec<u8>) -> Message {
    Message { direction, msg_id, seq_no, body, encrypted: true }
}

/// Append `pairs` requests and answers of other traffic to `conversation`,
/// with msg_ids from `base` on.
fn other_traffic(conversation: &mut Conversation, base: u32, pairs: u32, shape: Shape, rng: &mut Rng) {
    let c2s = Direction::ClientToServer;
    let s2c = Direction::ServerToClient;
    for k in 0..pairs {
        // Three ids per pair: request, answer, and a container or ack.
        let n = base + 16 + 3 * k;
        let (req, ans) = (msg_id(n, false), msg_id(n, true));
        let seq = 2 * k as i32 + 9;
        let body = other_object(rng, OTHER_REQUEST, 48, false);
        if rng.below(4) == 0 {
            let ack = msgs_ack(&[msg_id(n.saturating_sub(3), true)]);
            let items = [(msg_id(n + 1, false), seq - 1, ack), (req, seq, body)];
            conversation.messages.push(message(c2s, msg_id(n + 2, false), seq + 1, container(&items)));
        } else {
            conversation.messages.push(message(c2s, req, seq, body));
        }
        let (gzipped, len) = match shape {
            Shape::Bulk => (rng.below(6) == 0, rng.size(64, 32 << 10)),
            // Mostly small answers; now and then a history or a sticker
            // set, large and gzip_packed.
            Shape::Client if rng.below(40) == 0 => (true, rng.size(16 << 10, 256 << 10)),
            Shape::Client => (rng.below(12) == 0, rng.size(64, 4 << 10)),
        };
        let object = other_object(rng, OTHER_ANSWER, len, gzipped);
        let object = if gzipped { gzip_packed(&object) } else { object };
        let answer = rpc_result(req, &object);
        if rng.below(4) == 0 {
            let items = [(msg_id(n + 1, true), seq, msgs_ack(&[req])), (ans, seq + 1, answer)];
            conversation.messages.push(message(s2c, msg_id(n + 2, true), seq + 2, container(&items)));
        } else {
            conversation.messages.push(message(s2c, ans, seq + 1, answer));
        }
    }
}

/// The large frames of `--large-frames`: a request with a 4 MiB title and
/// an answer whose gzip_packed body (a chatInviteExported with a long
/// title) inflates to just under the cap.
fn large_frames(conversation: &mut Conversation, base: u32, rng: &mut Rng) {
    let mut request = ExportChatInvite::new(InputPeer::PeerSelf);
    request.title = Some("L".repeat(4 << 20).into());
    let id = msg_id(base + IDS_PER_CONNECTION - 2, false);
    let body = request.to_bytes().expect("a 4 MiB title encodes");
    conversation.messages.push(message(Direction::ClientToServer, id, 501, body));
    // Its answer repeats the title, padded to just under the gzip cap, so
    // the whole inflated object is decoded and reported.
    let mut exported = ChatInviteExported::new("https://t.me/+large", 777_000, 1_760_000_000);
    let title = (16 << 20) - (64 << 10);
    exported.title = Some(rng_title(rng, title).into());
    let inflated = ExportedChatInvite::Exported(exported).to_bytes().expect("a 16 MiB title encodes");
    let answer = rpc_result(id, &gzip_packed(&inflated));
    let aid = msg_id(base + IDS_PER_CONNECTION - 2, true);
    conversation.messages.push(message(Direction::ServerToClient, aid, 501, answer));
}

/// A title of `len` text-like bytes (valid UTF-8, compressible).
fn rng_title(rng: &mut Rng, len: usize) -> String {
    let mut bytes = Vec::with_capacity(len);
    rng.text(&mut bytes, len);
    String::from_utf8(bytes).expect("the words are ASCII")
}

/// A conversation of its own msg_id range: the standard exportChatInvite
/// exchanges, then other traffic.
fn conversation(index: u32, shape: Shape, rng: &mut Rng) -> Conversation {
    let base = index * IDS_PER_CONNECTION;
    let mut c = Conversation::numbered(base);
    let pairs = match shape {
        Shape::Bulk => 16 + rng.below(16) as u32,
        Shape::Client => 4 + rng.below(12) as u32,
    };
    other_traffic(&mut c, base, pairs, shape, rng);
    c
}

/// Unique endpoints for connection `index`.
fn endpoints(index: u32, v6: bool) -> (SocketAddr, SocketAddr) {
    let port = 20_000 + (index % 40_000) as u16;
    if v6 {
        let client = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (index >> 16) as u16, index as u16);
        let server = Ipv6Addr::new(0x2001, 0x67c, 0x4e8, 0xf004, 0, 0, 0, 0xa);
        (SocketAddrV6::new(client, port, 0, 0).into(), SocketAddrV6::new(server, 443, 0, 0).into())
    } else {
        let [_, a, b, c] = index.to_be_bytes();
        let client = Ipv4Addr::new(10, a, b, c);
        let server = Ipv4Addr::new(149, 154, 167, 50 + (index % 5) as u8);
        (SocketAddrV4::new(client, port).into(), SocketAddrV4::new(server, 443).into())
    }
}

/// The transports in rotation: every framing plain, the tagged ones
/// obfuscated, some with quick acks.
fn transport(index: u32) -> Transport {
    let kinds = [
        Transport::plain(Framing::Abridged),
        Transport::obfuscated(Framing::Abridged),
        Transport::plain(Framing::Intermediate),
        Transport::obfuscated(Framing::Intermediate),
        Transport::plain(Framing::PaddedIntermediate),
        Transport::obfuscated(Framing::PaddedIntermediate),
        Transport::plain(Framing::Full),
    ];
    let mut t = kinds[index as usize % kinds.len()].clone();
    t.quick_acks = index % 5 == 1 && t.framing != Framing::Full;
    t
}

/// Segment sizes, coalescing, and the occasional repeated segment (which
/// reassembly must trim). No reordering: swapping a request's segment with
/// its answer's would leave the answer without a request in the report.
fn segmenting(index: u32, shape: Shape) -> Segmenting {
    let mss = match shape {
        Shape::Bulk => [1400, 1448, 536, 8960][index as usize % 4],
        Shape::Client => [1400, 1448, 536, 1380][index as usize % 4],
    };
    let mut s = Segmenting { mss, ..Segmenting::default() };
    s.coalesce = index % 3 == 0;
    if index % 7 == 3 {
        s.retransmit = vec![9];
    }
    s
}

/// What was written, for the script.
#[derive(Default)]
struct Counts {
    file_bytes: u64,
    packets: u64,
    connections: u64,
    messages: u64,
    encrypted_messages: u64,
    encrypted_bytes: u64,
}

impl Counts {
    /// Count the messages of one built conversation.
    fn add_streams(&mut self, conversation: &Conversation, streams: &Streams) {
        for (m, payload) in conversation.messages.iter().zip(&streams.payloads) {
            self.messages += 1;
            if m.encrypted {
                self.encrypted_messages += 1;
                self.encrypted_bytes += (payload.len() - ENCRYPTED_HEADER_LEN) as u64;
            }
        }
    }
}

/// The link-layer frames of one connection, waiting to be written.
type Queue = VecDeque<Vec<u8>>;

/// A connection that stays open from the first packet to the last. Its
/// traffic is made in chunks (a conversation at a time over plain
/// intermediate framing, which needs no state between chunks but the TCP
/// sequence numbers), so it can go on for any size without being held.
struct LongConnection {
    client: SocketAddr,
    server: SocketAddr,
    /// Next sequence number, client then server.
    seq: [u32; 2],
    chunks: u32,
}

impl LongConnection {
    fn new(client: SocketAddr, server: SocketAddr) -> (LongConnection, Queue) {
        let (isn_c, isn_s) = (0x1234_5678u32, 0xfedc_ba98u32);
        let handshake = [
            ip_tcp(client, server, isn_c, None, true, false, &[]),
            ip_tcp(server, client, isn_s, Some(isn_c.wrapping_add(1)), true, false, &[]),
            ip_tcp(client, server, isn_c.wrapping_add(1), Some(isn_s.wrapping_add(1)), false, false, &[]),
        ];
        let queue = handshake.iter().map(|p| Link::Ethernet.wrap(p)).collect();
        let connection =
            LongConnection { client, server, seq: [isn_c.wrapping_add(1), isn_s.wrapping_add(1)], chunks: 0 };
        (connection, queue)
    }

    /// The next chunk of traffic, as conversation `index`.
    fn chunk(&mut self, index: u32, key: &AuthKey, rng: &mut Rng, counts: &mut Counts, queue: &mut Queue) {
        let c = conversation(index, Shape::Bulk, rng);
        let streams = build_streams(&c, &Transport::plain(Framing::Intermediate), key, &[]);
        counts.add_streams(&c, &streams);
        // Each chunk's client stream starts with the transport tag; only
        // the first chunk's is sent.
        let skip_tag = if self.chunks == 0 { 0 } else { 4 };
        self.chunks += 1;
        for placed in &streams.placed {
            let side = usize::from(placed.direction == Direction::ServerToClient);
            let (src, dst, stream, start) = if side == 0 {
                (self.client, self.server, &streams.c2s, placed.start.max(skip_tag))
            } else {
                (self.server, self.client, &streams.s2c, placed.start)
            };
            for piece in stream[start as usize..placed.end as usize].chunks(1400) {
                let packet = ip_tcp(src, dst, self.seq[side], Some(self.seq[1 - side]), false, false, piece);
                queue.push_back(Link::Ethernet.wrap(&packet));
                self.seq[side] = self.seq[side].wrapping_add(piece.len() as u32);
            }
            let ack = ip_tcp(dst, src, self.seq[1 - side], Some(self.seq[side]), false, false, &[]);
            queue.push_back(Link::Ethernet.wrap(&ack));
        }
    }
}

enum Slot {
    Short(Queue),
    Long(LongConnection, Queue),
}

struct GenerateArgs {
    out: PathBuf,
    size: u64,
    seed: u64,
    shape: Shape,
    large_frames: bool,
    never_close: bool,
}

fn generate(args: &GenerateArgs) -> std::io::Result<Counts> {
    let key = fixture_key();
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let file = File::create(&args.out)?;
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ts_resolution: TsResolution::MicroSecond,
        snaplen: 262_144,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(BufWriter::with_capacity(1 << 20, file), header)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut counts = Counts { file_bytes: 24, ..Counts::default() };
    let mut next_index = 0u32;
    let open_short = |index: u32, rng: &mut Rng, counts: &mut Counts, large: bool| -> Queue {
        let mut c = conversation(index, args.shape, rng);
        if large {
            large_frames(&mut c, index * IDS_PER_CONNECTION, rng);
        }
        let (client, server) = endpoints(index, index % 11 == 5);
        let streams = build_streams(&c, &transport(index), &key, &[]);
        counts.add_streams(&c, &streams);
        counts.connections += 1;
        let packets = tcp_packets(&streams, client, server, &segmenting(index, args.shape), 0);
        packets.packets.iter().map(|p| Link::Ethernet.wrap(packets.bytes_of(p))).collect()
    };
    let active = match args.shape {
        Shape::Bulk => ACTIVE,
        Shape::Client => ACTIVE_CLIENT,
    };
    let mut slots: Vec<Slot> = Vec::with_capacity(active);
    if args.never_close {
        let (client, server) = endpoints(next_index, false);
        next_index += 1;
        counts.connections += 1;
        let (long, queue) = LongConnection::new(client, server);
        slots.push(Slot::Long(long, queue));
    }
    while slots.len() < active {
        let q = open_short(next_index, &mut rng, &mut counts, args.large_frames && next_index == 0);
        next_index += 1;
        slots.push(Slot::Short(q));
    }
    let mut time = Duration::from_secs(1_760_000_000);
    let mut filling = true;
    while !slots.is_empty() {
        let i = rng.below(slots.len() as u64) as usize;
        let queue = match &mut slots[i] {
            Slot::Short(q) => q,
            Slot::Long(long, q) => {
                if q.is_empty() && filling {
                    long.chunk(next_index, &key, &mut rng, &mut counts, q);
                    next_index += 1;
                }
                q
            }
        };
        if let Some(frame) = queue.pop_front() {
            writer
                .write_packet(&PcapPacket::new(time, frame.len() as u32, &frame))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            counts.packets += 1;
            counts.file_bytes += 16 + frame.len() as u64;
            time += Duration::from_micros(20);
        }
        filling = counts.file_bytes < args.size;
        if queue_is_empty(&slots[i]) {
            // Once the size is reached, the open connections finish and
            // no new ones start (the long one simply stops, unclosed).
            if filling {
                if let Slot::Short(_) = slots[i] {
                    slots[i] = Slot::Short(open_short(next_index, &mut rng, &mut counts, false));
                    next_index += 1;
                }
            } else {
                slots.swap_remove(i);
            }
        }
    }
    writer.into_writer().flush()?;
    Ok(counts)
}

fn queue_is_empty(slot: &Slot) -> bool {
    match slot {
        Slot::Short(q) | Slot::Long(_, q) => q.is_empty(),
    }
}

/// Decrypt `bytes` in `chunk`-byte pieces with AES-256-IGE; the seconds.
fn ige_limit(bytes: u64, chunk: usize) -> f64 {
    let chunk = (chunk.max(16) / 16) * 16;
    let mut rng = Rng(0x1ce);
    let mut buf = Vec::new();
    rng.fill(&mut buf, chunk);
    let key = [0x42u8; 32];
    let iv = [0x24u8; 32];
    let start = Instant::now();
    let mut done = 0u64;
    while done < bytes {
        let n = ((bytes - done).min(chunk as u64) as usize).div_ceil(16) * 16;
        let (blocks, _) = aes::Block::slice_as_chunks_mut(&mut buf[..n]);
        ige::Decryptor::<Aes256>::new(&key.into(), &iv.into()).decrypt_blocks(blocks);
        done += n as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    // Keep the work observable so it is not optimised away.
    std::hint::black_box(&buf);
    seconds
}

/// "500M", "2G", "64K" or a plain number of bytes (decimal units, as MB/s).
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, ' '),
    };
    let n: u64 = digits.parse().map_err(|_| format!("not a size: {text}"))?;
    let scale = match unit {
        ' ' => 1,
        'K' => 1_000,
        'M' => 1_000_000,
        'G' => 1_000_000_000,
        _ => return Err(format!("unknown unit in {text}")),
    };
    Ok(n * scale)
}

const USAGE: &str =
    "usage: capture_gen generate OUT [--size 500M] [--seed N] [--shape bulk|client] [--large-frames] [--never-close]
       capture_gen scan OUT [--connections N]
       capture_gen ige-limit BYTES [--chunk N]";

/// `scan`: `connections` SYNs from distinct clients to one server, raw IP,
/// a millisecond apart. Returns the file's size.
fn scan(out: &PathBuf, connections: u32) -> std::io::Result<u64> {
    let header = PcapHeader { datalink: DataLink::RAW, ..Default::default() };
    let file = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut writer = PcapWriter::with_header(file, header).map_err(|e| std::io::Error::other(e.to_string()))?;
    let server = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(149, 154, 167, 50), 443));
    let mut bytes = 24;
    for i in 0..connections {
        let [_, a, b, c] = i.to_be_bytes();
        let client = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, a, b, c), 40_000 + (i % 20_000) as u16));
        let ip = ip_tcp(client, server, i.wrapping_mul(7919), None, true, false, b"");
        let packet = PcapPacket::new(Duration::from_millis(u64::from(i)), ip.len() as u32, &ip);
        writer.write_packet(&packet).map_err(|e| std::io::Error::other(e.to_string()))?;
        bytes += 16 + ip.len() as u64;
    }
    writer.into_writer().flush()?;
    Ok(bytes)
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("generate") => {
            let mut g = GenerateArgs {
                out: PathBuf::new(),
                size: 500_000_000,
                seed: 1,
                shape: Shape::Bulk,
                large_frames: false,
                never_close: false,
            };
            let mut rest = args[1..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--size" => g.size = parse_size(rest.next().ok_or("--size needs a value")?)?,
                    "--seed" => g.seed = rest.next().and_then(|s| s.parse().ok()).ok_or("--seed needs a number")?,
                    "--shape" => {
                        g.shape = match rest.next().map(String::as_str) {
                            Some("bulk") => Shape::Bulk,
                            Some("client") => Shape::Client,
                            _ => return Err("--shape is bulk or client".into()),
                        }
                    }
                    "--large-frames" => g.large_frames = true,
                    "--never-close" => g.never_close = true,
                    other if !other.starts_with("--") && g.out.as_os_str().is_empty() => g.out = other.into(),
                    other => return Err(format!("unexpected argument {other}")),
                }
            }
            if g.out.as_os_str().is_empty() {
                return Err("generate needs an output file".into());
            }
            let start = Instant::now();
            let counts = generate(&g).map_err(|e| format!("{}: {e}", g.out.display()))?;
            let seconds = start.elapsed().as_secs_f64();
            let key_hex = inspector::hex::encode(fixture_key().bytes());
            let with_suffix = |suffix: &str| {
                let mut p = g.out.clone().into_os_string();
                p.push(suffix);
                PathBuf::from(p)
            };
            std::fs::write(with_suffix(".key"), key_hex + "\n").map_err(|e| e.to_string())?;
            let stats = format!(
                "file_bytes={}\npackets={}\nconnections={}\nmessages={}\nencrypted_messages={}\nencrypted_bytes={}\ngenerate_seconds={seconds:.3}\n",
                counts.file_bytes,
                counts.packets,
                counts.connections,
                counts.messages,
                counts.encrypted_messages,
                counts.encrypted_bytes
            );
            std::fs::write(with_suffix(".stats"), &stats).map_err(|e| e.to_string())?;
            print!("{stats}");
            Ok(())
        }
        Some("scan") => {
            let mut out = PathBuf::new();
            let mut connections = 200_000u32;
            let mut rest = args[1..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--connections" => {
                        connections = rest.next().and_then(|s| s.parse().ok()).ok_or("--connections needs a number")?;
                    }
                    other if !other.starts_with("--") && out.as_os_str().is_empty() => out = other.into(),
                    other => return Err(format!("unexpected argument {other}")),
                }
            }
            if out.as_os_str().is_empty() {
                return Err("scan needs an output file".into());
            }
            let start = Instant::now();
            let file_bytes = scan(&out, connections).map_err(|e| format!("{}: {e}", out.display()))?;
            let seconds = start.elapsed().as_secs_f64();
            let key_hex = inspector::hex::encode(fixture_key().bytes());
            let mut key_path = out.clone().into_os_string();
            key_path.push(".key");
            std::fs::write(key_path, key_hex + "\n").map_err(|e| e.to_string())?;
            let stats = format!(
                "file_bytes={file_bytes}\npackets={connections}\nconnections={connections}\nmessages=0\n\
                 encrypted_messages=0\nencrypted_bytes=0\ngenerate_seconds={seconds:.3}\n"
            );
            let mut stats_path = out.into_os_string();
            stats_path.push(".stats");
            std::fs::write(stats_path, &stats).map_err(|e| e.to_string())?;
            print!("{stats}");
            Ok(())
        }
        Some("ige-limit") => {
            let bytes = parse_size(args.get(1).ok_or("ige-limit needs a byte count")?)?;
            let mut chunk = 4096;
            let mut rest = args[2..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--chunk" => {
                        chunk = rest.next().and_then(|s| s.parse().ok()).ok_or("--chunk needs a number")?;
                    }
                    other => return Err(format!("unexpected argument {other}")),
                }
            }
            println!("{:.6}", ige_limit(bytes, chunk));
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("capture_gen: {e}");
            ExitCode::from(2)
        }
    }
}
