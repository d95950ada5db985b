//! The properties of the capture pipeline's fuzz targets: one function per
//! stage (`capture_file`, `tcp_reassembly`, `transport`, `envelope`,
//! `service`) and one for the whole `inspector pcap` run (`pcap_pipeline`).
//!
//! Each stage is fed what the stage before it could hand over (bytes, or a
//! sequence of segments or chunks that `arbitrary` draws from the fuzzer's
//! bytes), and checked against what a correct implementation must do with
//! any input: no panic, memory that follows the bytes that arrived rather
//! than the lengths they claim, and a stage-specific invariant that a
//! careless implementation breaks (same packets however the file arrives,
//! bytes delivered at the right stream offsets, same frames however the
//! stream is cut, decrypt inverts encrypt, the gzip budget holds).

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use arbitrary::{Arbitrary, Unstructured};

use super::Checks;
use crate::fixtures;
use inspector::capture::{decode_packet, read_capture, CaptureError, CaptureStats, Linktype};
use inspector::envelope::{
    decrypt_message, encrypt_message, format_key_id, open_message, open_message_in, parse_auth_key, parse_keylog,
    plain_message, AuthKey, Envelope, EnvelopeError, KeyParseError, KeyStore, OutgoingMessage, MAX_PADDING,
    MIN_PADDING,
};
use inspector::hex::encode as hex;
use inspector::pipeline::PipelineOptions;
use inspector::report::{run_capture, ReportFormat, ReportOptions, RunError};
use inspector::service::{chain_text, gunzip, unwrap_message, Content, ServiceOptions, Wrapper};
use inspector::tcp::{Direction, TcpEvent, TcpReassembler};
use inspector::tl::dynamic::Schema;
use inspector::transport::{
    encode_frame, parse_mtproxy_secret, Framing, Obfuscator, TransportConnection, TransportEvent, TransportOptions,
    MAX_FRAME_LEN,
};

// ---------------------------------------------------------------------------
// capture_file

/// A packet as the callback saw it, owned, for comparing two reads.
type SeenPacket = (u64, i128, i32, Vec<u8>, u32, u32);

/// Everything one read of a capture produced, but for the size its read
/// buffer grew to (see [`read_all`]).
#[derive(Debug, PartialEq, Eq)]
struct CaptureRead {
    result: Result<CaptureStats, CaptureError>,
    packets: Vec<SeenPacket>,
    warnings: Vec<String>,
}

/// A reader that hands out its bytes in pieces of varying size (1 to 13
/// bytes), as a pipe from a live capture does, and now and then reports an
/// interrupted read (a signal arriving while a pipe is read) instead.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step.wrapping_add(1);
        if self.step % 5 == 0 {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = (1 + self.step * 7 % 13).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A reader of the file's first `fail_at` bytes that then fails: the
/// read that would reach byte `fail_at` returns an error naming it.
struct Failing<'a> {
    data: &'a [u8],
    at: usize,
    fail_at: usize,
}

impl Failing<'_> {
    fn message(fail_at: usize) -> String {
        format!("the test's read error at byte {fail_at}")
    }
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.fail_at {
            return Err(std::io::Error::other(Self::message(self.fail_at)));
        }
        let n = buf.len().min(self.fail_at - self.at).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Where the [`Failing`] reader of `data` fails: a byte the input chooses
/// (a hash of it, reduced to `0..=data.len()`), so that the failure falls
/// in the file header, inside a record or between records.
fn failure_offset(data: &[u8]) -> usize {
    let h = data.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    h as usize % (data.len() + 1)
}

/// A read of `input`, and the size its read buffer grew to, kept apart:
/// that depends on how the bytes arrived (a read that fills the buffer
/// makes it grow), so it is bounded rather than compared.
fn read_all(input: impl Read) -> (CaptureRead, usize) {
    let mut packets = Vec::new();
    let mut warnings = Vec::new();
    let result = read_capture(
        input,
        |p| packets.push((p.number, p.time_ns, p.linktype.0, p.data.to_vec(), p.orig_len, p.interface)),
        |w| warnings.push(w.to_string()),
    );
    let peak = result.as_ref().map_or(0, |stats| stats.buffer_peak);
    let result = result.map(|stats| CaptureStats { buffer_peak: 0, ..stats });
    (CaptureRead { result, packets, warnings }, peak)
}

/// The read buffer stays within twice the file, or the reader's first
/// buffer: it grows only when what arrived fills it.
fn assert_buffer_bound(peak: usize, data: &[u8], how: std::fmt::Arguments<'_>) {
    let bound = inspector::capture::FIRST_BUFFER.max(2 * data.len());
    assert!(peak <= bound, "{how}, the read buffer grew to {peak} bytes for a {}-byte file", data.len());
}

/// The fuzz target `capture_file`: arbitrary bytes as a pcap or pcapng file.
///
/// - Reading never panics; a file that cannot be read is an error value
///   that prints as one line.
/// - Every packet handed out is backed by the file: together they hold at
///   most the file's bytes, numbered 1, 2, 3... in order (skipped packets
///   leave holes), and the reader consumed no more than the file holds.
/// - The read buffer stays within twice the file (or the reader's first
///   buffer), however the bytes arrive: a record length alone never makes
///   it allocate.
/// - The same bytes arriving in small pieces, as from a pipe, with reads
///   interrupted now and then, give exactly the same packets, warnings and
///   result.
/// - A read that fails at a byte the input chooses ends the capture with
///   that read error, after a prefix of the packets and warnings the whole
///   file gives; or, when reading stopped before that byte (the file was
///   refused or ended before it), with exactly what the whole file gives.
/// - Decoding each packet down to its TCP segment never panics, and a
///   segment's payload lies inside the packet.
pub fn capture_file(data: &[u8]) {
    let (whole, peak) = read_all(data);
    assert_buffer_bound(peak, data, format_args!("read whole"));
    let total: usize = whole.packets.iter().map(|p| p.3.len()).sum();
    assert!(total <= data.len(), "packets hold {total} bytes from a {}-byte file", data.len());
    let mut last = 0;
    for p in &whole.packets {
        assert!(p.0 > last, "packet numbers do not increase: {} after {last}", p.0);
        last = p.0;
    }
    match &whole.result {
        Ok(stats) => {
            assert!(stats.packets >= whole.packets.len() as u64, "fewer packets counted than handed out");
            assert!(stats.packets >= last, "packet {last} numbered beyond the count {}", stats.packets);
            assert!(stats.bytes <= data.len() as u64, "consumed {} bytes of a {}-byte file", stats.bytes, data.len());
        }
        Err(e) => {
            let line = e.to_string();
            assert!(!line.contains('\n'), "a capture error is not one line: {line:?}");
        }
    }
    for w in &whole.warnings {
        assert!(!w.contains('\n'), "a capture warning is not one line: {w:?}");
    }
    let (trickled, peak) = read_all(Trickle { data, step: data.len() });
    assert_buffer_bound(peak, data, format_args!("read in pieces"));
    if trickled != whole {
        panic!(
            "reading the file in small pieces differs from reading it whole\n  whole: {:?} / {} packets / {:?}\n  \
             pieces: {:?} / {} packets / {:?}",
            whole.result,
            whole.packets.len(),
            whole.warnings,
            trickled.result,
            trickled.packets.len(),
            trickled.warnings
        );
    }
    let fail_at = failure_offset(data);
    let (failed, peak) = read_all(Failing { data, at: 0, fail_at });
    assert_buffer_bound(peak, data, format_args!("with a read failing at byte {fail_at}"));
    let prefix = whole.packets.starts_with(&failed.packets) && whole.warnings.starts_with(&failed.warnings);
    match &failed.result {
        Err(e @ CaptureError::Io(m)) if *m == Failing::message(fail_at) => {
            assert!(prefix, "a read failing at byte {fail_at} gave packets or warnings the whole file does not");
            one_line(&e.to_string(), "a capture read error");
        }
        _ if failed == whole => {}
        other => panic!(
            "a read failing at byte {fail_at} of {} gave {other:?} after {} packets; the whole file gives {:?} \
             after {}",
            data.len(),
            failed.packets.len(),
            whole.result,
            whole.packets.len()
        ),
    }
    for p in &whole.packets {
        match decode_packet(Linktype(p.2), &p.3) {
            Ok(seg) => assert!(seg.payload.len() <= p.3.len(), "a TCP payload larger than its packet"),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    // Each link type on the same bytes: decode_packet sees any bytes under
    // any link type in a hostile file.
    for link in [0, 1, 101, 108, 113, 228, 229, 276] {
        if let Ok(seg) = decode_packet(Linktype(link), data) {
            assert!(seg.payload.len() <= data.len(), "a TCP payload larger than its packet");
        }
    }
}

// ---------------------------------------------------------------------------
// tcp_reassembly

/// One segment of the scenario: which side sends it, where in that side's
/// stream it starts and how long it is, what it acknowledges, its flags.
#[derive(Debug, Arbitrary)]
struct SegmentSpec {
    from_b: bool,
    /// Start in the sender's stream (reduced modulo the stream length).
    start: u16,
    /// Payload length (reduced to at most 600 bytes).
    len: u16,
    /// An acknowledgement: none, the truth (what the sender received so
    /// far), or any number at all.
    ack: AckSpec,
    syn: bool,
    fin: bool,
    rst: bool,
}

#[derive(Debug, Arbitrary)]
enum AckSpec {
    None,
    Truthful,
    Offset(i16),
    Any(u32),
}

#[derive(Debug, Arbitrary)]
struct TcpScenario {
    isn_a: u32,
    isn_b: u32,
    port_a: u16,
    port_b: u16,
    /// Whether each side's SYN is captured before its data.
    syn_a: bool,
    syn_b: bool,
    /// The out-of-order budget, reduced to 1..=4096 bytes so the fuzzer
    /// reaches it.
    max_pending: u16,
    segments: Vec<SegmentSpec>,
}

/// Byte `offset` of side `side`'s stream: a hash of the position, so a byte
/// delivered at the wrong offset is caught (a pattern with a short period
/// would hide a shift by the period).
fn stream_byte(side: usize, offset: u64) -> u8 {
    let x = offset.wrapping_add(side as u64 * 0x1_0000_0001).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 56) as u8
}

/// Per reassembler direction: the stream as delivered, tiled by Data and
/// Gap events.
#[derive(Default, Clone)]
struct Tiling {
    end: u64,
    data_bytes: u64,
}

/// The fuzz target `tcp_reassembly`: an arbitrary sequence of segments of
/// one connection (any sequence numbers, overlaps, reordering, duplicates,
/// lies in the acknowledgements, SYN/FIN/RST anywhere) through
/// [`TcpReassembler`].
///
/// - No panic.
/// - Per direction, Data and Gap events tile the stream from offset 0 with
///   neither overlap nor hole, and every delivered byte is the byte the
///   sender put at that position (positions counted from the SYN, or from
///   the first segment captured): no byte is delivered twice, out of order
///   or at the wrong offset.
/// - Bytes delivered never exceed the payload bytes given.
/// - After `finish`, nothing is held back: the stream reaches the end of the
///   furthest segment given (or where its first FIN says it ended), and
///   nothing stays buffered.
/// - The out-of-order bytes held never exceed the budget.
pub fn tcp_reassembly(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(sc) = TcpScenario::arbitrary(&mut u) else { return };
    if sc.port_a == sc.port_b {
        return; // one endpoint talking to itself is not a connection
    }
    let max_pending = 1 + usize::from(sc.max_pending) % 4096;
    let stream_len: u64 = 4096;
    let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), sc.port_a);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), sc.port_b);
    let isn = [sc.isn_a, sc.isn_b];
    let mut r = TcpReassembler::with_max_pending(max_pending);
    let mut events = Vec::new();
    // Where each side's offset 0 lies in its true stream (None: not yet).
    let mut origin: [Option<u64>; 2] = [None, None];
    let mut syn_sent = [false, false];
    let mut given = 0u64;
    let mut furthest: [Option<u64>; 2] = [None, None];
    let mut received = [0u64; 2];
    let mut largest_segment = 0usize;
    let mut closed = [false; 2];

    let mut sent: Vec<SentSegment> = Vec::new();
    let send = |r: &mut TcpReassembler,
                sent: &mut Vec<SentSegment>,
                events: &mut Vec<TcpEvent<'static>>,
                origin: &mut [Option<u64>; 2],
                side: usize,
                start: u64,
                len: usize,
                ack: Option<u32>,
                flags: (bool, bool, bool)|
     -> usize {
        let (syn, fin, rst) = flags;
        let payload: Vec<u8> = (start..start + len as u64).map(|o| stream_byte(side, o)).collect();
        // A SYN carries the ISN; its data follows at ISN + 1. Without one,
        // the sequence number is the first byte's.
        let seq = if syn { isn[side] } else { isn[side].wrapping_add(1).wrapping_add(start as u32) };
        if origin[side].is_none() {
            origin[side] = Some(if syn { 0 } else { start });
        }
        let (src, dst) = if side == 0 { (a, b) } else { (b, a) };
        let seg = inspector::capture::TcpSegment { src, dst, seq, ack, syn, fin, rst, payload: &payload };
        r.segment(&seg, events);
        let n = payload.len();
        sent.push(SentSegment { from_b: side == 1, seq, ack, flags, payload });
        n
    };

    for (side, want) in [(0usize, sc.syn_a), (1, sc.syn_b)] {
        if want {
            let ack = if side == 1 && sc.syn_a { Some(isn[0].wrapping_add(1)) } else { None };
            send(&mut r, &mut sent, &mut events, &mut origin, side, 0, 0, ack, (true, false, false));
            syn_sent[side] = true;
        }
    }
    for s in &sc.segments {
        let side = usize::from(s.from_b);
        let other = 1 - side;
        let start = u64::from(s.start) % stream_len;
        let len = (usize::from(s.len) % 601).min((stream_len - start) as usize);
        let truthful = isn[other].wrapping_add(1).wrapping_add(received[side] as u32);
        let ack = match s.ack {
            AckSpec::None => None,
            AckSpec::Truthful => Some(truthful),
            AckSpec::Offset(d) => Some(truthful.wrapping_add(d as u32)),
            AckSpec::Any(n) => Some(n),
        };
        // A SYN with data only makes sense at offset 0 of a side whose SYN
        // was not sent yet; elsewhere the flag is dropped (a second SYN at
        // another sequence number is a new connection in real TCP).
        let syn = s.syn && !syn_sent[side] && origin[side].is_none() && start == 0;
        if syn {
            syn_sent[side] = true;
        }
        // A side's first FIN tells where its stream ends: bytes before it
        // that never came are a gap (the first FIN or RST closes the side).
        let ending_fin = s.fin && !closed[side];
        closed[side] |= s.fin || s.rst;
        let n = send(&mut r, &mut sent, &mut events, &mut origin, side, start, len, ack, (syn, s.fin, s.rst));
        given += n as u64;
        largest_segment = largest_segment.max(n);
        if ending_fin {
            let end = start + n as u64;
            furthest[side] = Some(furthest[side].map_or(end, |f| f.max(end)));
        }
        if n > 0 {
            let end = start + n as u64;
            furthest[side] = Some(furthest[side].map_or(end, |f| f.max(end)));
            // What the other side has received, for truthful acks.
            received[other] = received[other].max(end);
        }
        let held = r.buffered_bytes();
        assert!(held <= 2 * max_pending, "{held} out-of-order bytes held with a budget of {max_pending} per direction");
    }
    r.finish(&mut events);
    assert_eq!(r.buffered_bytes(), 0, "bytes still held after finish");

    // Map the reassembler's directions to our sides.
    let mut client_is_a = true;
    let mut opened = 0;
    for e in &events {
        if let TcpEvent::Opened { client, server, conn, .. } = e {
            opened += 1;
            assert_eq!(*conn, 0, "one connection got two ids");
            assert!((*client == a && *server == b) || (*client == b && *server == a), "Opened names other endpoints");
            client_is_a = *client == a;
        }
    }
    assert!(opened <= 1, "a connection opened {opened} times");
    let side_of = |d: Direction| usize::from((d == Direction::ClientToServer) != client_is_a);

    let mut tiles = [Tiling::default(), Tiling::default()];
    let mut delivered = 0u64;
    for e in &events {
        match e {
            TcpEvent::Data { direction, offset, bytes, .. } => {
                let side = side_of(*direction);
                let t = &mut tiles[side];
                assert_eq!(*offset, t.end, "{direction}: data at offset {offset}, but the stream is at {}", t.end);
                assert!(!bytes.is_empty(), "an empty Data event");
                let o = origin[side].expect("data from a side that sent nothing");
                for (i, &byte) in bytes.iter().enumerate() {
                    let at = o + offset + i as u64;
                    assert_eq!(
                        byte,
                        stream_byte(side, at),
                        "{direction}: the byte at stream offset {} is not the one sent there",
                        offset + i as u64
                    );
                }
                t.end += bytes.len() as u64;
                t.data_bytes += bytes.len() as u64;
                delivered += bytes.len() as u64;
            }
            TcpEvent::Gap { direction, offset, len, .. } => {
                let t = &mut tiles[side_of(*direction)];
                assert_eq!(*offset, t.end, "{direction}: a gap at offset {offset}, but the stream is at {}", t.end);
                assert!(*len > 0, "an empty gap");
                t.end += len;
            }
            TcpEvent::Opened { .. } | TcpEvent::Closed { .. } | TcpEvent::Forgotten { .. } => {}
        }
    }
    assert!(delivered <= given, "{delivered} bytes delivered from {given} bytes given");
    for side in 0..2 {
        // Everything at or after offset 0 comes out by the end.
        let want = match (furthest[side], origin[side]) {
            (Some(f), Some(o)) if f > o => f - o,
            _ => 0,
        };
        assert_eq!(tiles[side].end, want, "side {side}: the stream ends at {}, not at {want}", tiles[side].end);
    }
    let stats = r.stats();
    assert!(stats.lost_bytes <= tiles[0].end + tiles[1].end, "more bytes lost than the streams hold");
    many_connections(&sent, a, b, sc.isn_b, max_pending);
}

/// A segment as the scenario sent it, to send again on other connections.
struct SentSegment {
    from_b: bool,
    seq: u32,
    ack: Option<u32>,
    /// SYN, FIN, RST.
    flags: (bool, bool, bool),
    payload: Vec<u8>,
}

/// The scenario's segments dealt out, one after the other, to 2 to 5
/// connections (side A's port plus 0, 1, ...), through a reassembler with
/// the default limits and one that holds at most 1 to 4 connections, 0 to
/// 2 of them closed (all chosen by `choice`).
///
/// - The small one never holds more connections than its limit, and says
///   so for each connection it forgets while open (a `Forgotten` event,
///   the connection's last, counted in its statistics).
/// - A connection that it neither forgot nor dropped once closed (its
///   endpoints opened one connection only) is reassembled exactly as with
///   the default limits: the same events in the same order.
fn many_connections(sent: &[SentSegment], a: SocketAddr, b: SocketAddr, choice: u32, max_pending: usize) {
    let count = 2 + choice as usize % 4;
    let max_connections = 1 + (choice >> 8) as usize % 4;
    let closed_kept = (choice >> 16) as usize % 3;
    let run = |r: &mut TcpReassembler, check: bool| {
        let mut events: Vec<TcpEvent<'static>> = Vec::new();
        for (i, s) in sent.iter().enumerate() {
            let a = SocketAddr::new(a.ip(), a.port().wrapping_add((i % count) as u16));
            let (src, dst) = if s.from_b { (b, a) } else { (a, b) };
            let (syn, fin, rst) = s.flags;
            let seg =
                inspector::capture::TcpSegment { src, dst, seq: s.seq, ack: s.ack, syn, fin, rst, payload: &s.payload };
            r.segment(&seg, &mut events);
            if check {
                let held = r.tracked_connections();
                assert!(held <= max_connections, "{held} connections held with a limit of {max_connections}");
            }
        }
        r.finish(&mut events);
        events
    };
    let big = run(&mut TcpReassembler::with_max_pending(max_pending), false);
    let mut small_r =
        TcpReassembler::with_max_pending(max_pending).with_connection_limits(max_connections, closed_kept);
    let small = run(&mut small_r, true);

    // Each connection's endpoints, and the events of each endpoint pair.
    type Pair = (SocketAddr, SocketAddr);
    fn by_pair(events: &[TcpEvent<'static>]) -> (Vec<Pair>, Vec<(Pair, Vec<TcpEvent<'static>>)>) {
        let mut ends: Vec<Pair> = Vec::new();
        let mut pairs: Vec<(Pair, Vec<TcpEvent<'static>>)> = Vec::new();
        for e in events {
            let conn = match e {
                TcpEvent::Opened { conn, client, server, .. } => {
                    assert_eq!(*conn, ends.len(), "connections not numbered in order of appearance");
                    ends.push((*client.min(server), *client.max(server)));
                    *conn
                }
                TcpEvent::Data { conn, .. }
                | TcpEvent::Gap { conn, .. }
                | TcpEvent::Closed { conn, .. }
                | TcpEvent::Forgotten { conn } => *conn,
            };
            let pair = *ends.get(conn).unwrap_or_else(|| panic!("an event of connection {conn} before it opened"));
            let mut e = e.clone();
            // Compare without the connection's number.
            match &mut e {
                TcpEvent::Opened { conn, .. }
                | TcpEvent::Data { conn, .. }
                | TcpEvent::Gap { conn, .. }
                | TcpEvent::Closed { conn, .. }
                | TcpEvent::Forgotten { conn } => *conn = 0,
            }
            match pairs.iter_mut().find(|(p, _)| *p == pair) {
                Some((_, list)) => list.push(e),
                None => pairs.push((pair, vec![e])),
            }
        }
        (ends, pairs)
    }
    let (_, big_pairs) = by_pair(&big);
    let (small_ends, small_pairs) = by_pair(&small);

    let mut forgotten = Vec::new();
    for (i, e) in small.iter().enumerate() {
        if let TcpEvent::Forgotten { conn } = e {
            forgotten.push(*conn);
            let later = small[i + 1..].iter().any(|later| match later {
                TcpEvent::Opened { conn: c, .. }
                | TcpEvent::Data { conn: c, .. }
                | TcpEvent::Gap { conn: c, .. }
                | TcpEvent::Closed { conn: c, .. }
                | TcpEvent::Forgotten { conn: c } => c == conn,
            });
            assert!(!later, "connection {conn} has events after it was forgotten");
        }
    }
    assert_eq!(
        small_r.stats().forgotten_connections,
        forgotten.len() as u64,
        "the statistics count other forgotten connections than the events"
    );
    for (pair, events) in &small_pairs {
        let opened = events.iter().filter(|e| matches!(e, TcpEvent::Opened { .. })).count();
        let lost = forgotten.iter().any(|&c| small_ends[c] == *pair);
        if opened == 1 && !lost {
            let with_default = big_pairs.iter().find(|(p, _)| p == pair).map(|(_, list)| list);
            assert!(
                with_default == Some(events),
                "a connection kept throughout is reassembled otherwise under small limits ({max_connections} \
                 held, {closed_kept} closed)\n  small: {events:?}\n  default: {with_default:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// transport

#[derive(Debug, Arbitrary, Clone, Copy)]
enum FramingChoice {
    Abridged,
    Intermediate,
    PaddedIntermediate,
    Full,
}

impl FramingChoice {
    fn framing(self) -> Framing {
        match self {
            FramingChoice::Abridged => Framing::Abridged,
            FramingChoice::Intermediate => Framing::Intermediate,
            FramingChoice::PaddedIntermediate => Framing::PaddedIntermediate,
            FramingChoice::Full => Framing::Full,
        }
    }
}

/// How the connection is set up.
#[derive(Debug, Arbitrary)]
struct TransportSetup {
    forced: Option<(FramingChoice, bool)>,
    /// 0xf0 and above: an `ee` (fake-TLS) secret; below, by its remainder
    /// modulo 3 (the meaning it had before `ee` was added): 0, none; 1, a
    /// 16-byte MTProxy secret; 2, a dd-prefixed one.
    mtproxy: u8,
    /// Open the connection as seen from the middle.
    mid_stream: bool,
}

/// The streams: raw bytes, or frames built by our own encoder (so the
/// fuzzer reaches deep into every framing and through obfuscation without
/// having to forge a CRC or a cipher).
#[derive(Debug, Arbitrary)]
enum TransportStreams {
    Raw { c2s: Vec<u8>, s2c: Vec<u8> },
    Framed { framing: FramingChoice, obfuscated: bool, header: [u8; 64], frames: Vec<(bool, Vec<u8>, u8)> },
}

#[derive(Debug, Arbitrary)]
struct TransportScenario {
    setup: TransportSetup,
    streams: TransportStreams,
    /// Chunk sizes for the second feeding (each reduced to 1..=64).
    chunks: Vec<u8>,
    /// Gaps to insert in a third feeding: (direction, after chunk, length).
    gaps: Vec<(bool, u8, u16)>,
}

/// Whether the transport target configures an `ee` secret (see [`fixed_secret`]).
const EE_SECRET_ENABLED: bool = true;

fn fixed_secret(kind: u8) -> Option<Vec<u8>> {
    // The secret of the synthetic fixtures, so their MTProxy streams seed
    // this target; the `ee` secret of the faketls target, so its seeds'
    // connections can be spliced in.
    // An `ee` secret is kind 0xf0 and above (withdrawn for a while on
    // 2026-12-06: the refusal of a stream that does not open with a
    // ClientHello named the bytes that had arrived, so it differed between
    // feeding it whole and in chunks; FUZZING.md, ledger).
    if kind >= 0xf0 && EE_SECRET_ENABLED {
        return Some(crate::faketls_props::ee_secret());
    }
    match kind % 3 {
        0 => None,
        1 => Some(fixtures::mtproxy_secret(false)),
        _ => Some(fixtures::mtproxy_secret(true)),
    }
}

/// The fake-TLS client hello and server flight of the `ee` secret: always
/// the same (two HMACs per input were a good part of an execution), so
/// made once.
fn fake_tls_handshake() -> &'static (Vec<u8>, Vec<u8>) {
    use crate::faketls_props::{DOMAIN, SECRET};
    static HANDSHAKE: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    HANDSHAKE.get_or_init(|| {
        let hello = inspector::transport::encode_client_hello(&SECRET, DOMAIN, 1_700_000_000, &[7; 32], 517);
        let flight = inspector::transport::encode_server_flight(&SECRET, &hello, &[0x5c; 64]);
        (hello, flight)
    })
}

/// `c2s` and `s2c` as the payload of fake-TLS records (of sizes taken from
/// `sizes`, 1..=16384 each) after the handshake of [`fake_tls_handshake`].
fn in_fake_tls(c2s: &[u8], s2c: &[u8], sizes: [u8; 2]) -> (Vec<u8>, Vec<u8>) {
    let (hello, flight) = fake_tls_handshake();
    let sizes: Vec<usize> = sizes.iter().map(|&b| 1 + usize::from(b) * 97 % 16384).collect();
    let wrap = |head: &[u8], body: &[u8]| [head, &inspector::transport::encode_records(body, &sizes)].concat();
    (wrap(hello, c2s), wrap(flight, s2c))
}

/// What the encoder was asked to send, to compare with what comes out.
struct Built {
    c2s: Vec<u8>,
    s2c: Vec<u8>,
    /// Payloads in order per direction, when every frame must come back
    /// exactly (framed streams, detected or forced to the same framing).
    expected: Option<[Vec<Vec<u8>>; 2]>,
}

fn build_transport_streams(setup: &TransportSetup, streams: TransportStreams, secret: Option<&[u8]>) -> Built {
    let fake_tls = secret.is_some_and(inspector::transport::is_fake_tls_secret);
    match streams {
        // Raw bytes under an `ee` secret: after a valid handshake when the
        // client's stream has an even length (the record layer), as they
        // are otherwise (the hello's refusal).
        TransportStreams::Raw { c2s, s2c } if fake_tls && c2s.len() % 2 == 0 => {
            let (hello, flight) = fake_tls_handshake();
            Built { c2s: [hello, &c2s[..]].concat(), s2c: [flight, &s2c[..]].concat(), expected: None }
        }
        TransportStreams::Raw { c2s, s2c } => Built { c2s, s2c, expected: None },
        TransportStreams::Framed { framing, obfuscated, header, frames } => {
            let framing = framing.framing();
            // A dd or ee secret implies padded intermediate.
            let framing =
                if secret.is_some_and(|s| s.len() == 17) || fake_tls { Framing::PaddedIntermediate } else { framing };
            let obfuscated = (obfuscated || secret.is_some()) && framing != Framing::Full;
            let mut c2s = Vec::new();
            let mut s2c = Vec::new();
            let mut obfuscator = None;
            if obfuscated {
                let mut random = header;
                random[0] = 0x42; // never a tag, 0xef or an HTTP verb
                random[4] = 0x99; // bytes 4..8 not all zero
                let key = if fake_tls { secret.map(|s| &s[1..17]) } else { secret }; // ee: its 16 key bytes
                let (o, wire) = Obfuscator::new(framing, random, 2, key);
                c2s.extend_from_slice(&wire);
                obfuscator = Some(o);
            } else {
                match framing.tag() {
                    Some([0xef, ..]) => c2s.push(0xef),
                    Some(tag) => c2s.extend_from_slice(&tag),
                    None => {}
                }
            }
            let mut expected: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
            let mut full_seq = [0u32; 2];
            for (from_server, payload, pad) in frames {
                let side = usize::from(from_server);
                let dir = if from_server { Direction::ServerToClient } else { Direction::ClientToServer };
                // Whole 4-byte words (abridged counts words); not a bare
                // negative word (a transport error code) and not empty.
                let mut payload = payload;
                payload.truncate(payload.len() / 4 * 4);
                if payload.len() == 4 && (payload[3] & 0x80) != 0 {
                    payload[3] &= 0x7f;
                }
                if payload.is_empty() {
                    continue;
                }
                let padding: Vec<u8> = if framing == Framing::PaddedIntermediate {
                    (0..pad % 16).map(|i| i ^ 0x5a).collect()
                } else {
                    Vec::new()
                };
                let mut frame = encode_frame(framing, &payload, full_seq[side], &padding);
                full_seq[side] = full_seq[side].wrapping_add(1);
                if let Some(o) = &mut obfuscator {
                    o.apply(dir, &mut frame);
                }
                if side == 0 { &mut c2s } else { &mut s2c }.extend_from_slice(&frame);
                // Padded intermediate recovers the message length from the
                // message itself: what comes out is that prefix.
                let out = if framing == Framing::PaddedIntermediate {
                    let body = [payload.as_slice(), padding.as_slice()].concat();
                    body[..inspector::transport::real_message_len(&body)].to_vec()
                } else {
                    payload
                };
                expected[side].push(out);
            }
            // Exact frames are owed when detection must land on this
            // framing: from the start, nothing forced, the client sent
            // something, and the secret (if any) is the one used.
            let exact = setup.forced.is_none()
                && !setup.mid_stream
                && !expected[0].is_empty()
                && (secret.is_none() || obfuscated);
            let (c2s, s2c) = if fake_tls { in_fake_tls(&c2s, &s2c, [header[1], header[2]]) } else { (c2s, s2c) };
            Built { c2s, s2c, expected: exact.then_some(expected) }
        }
    }
}

/// The events of one feeding, split by direction, plus what was detected.
#[derive(Debug, PartialEq, Eq, Default)]
struct Deframed {
    detected: Vec<inspector::transport::TransportInfo>,
    by_dir: [Vec<TransportEvent>; 2],
}

fn event_dir(e: &TransportEvent) -> Option<Direction> {
    match e {
        TransportEvent::Detected(_) => None,
        TransportEvent::Frame(f) => Some(f.direction),
        TransportEvent::QuickAck { direction, .. } | TransportEvent::TransportError { direction, .. } => {
            Some(*direction)
        }
        TransportEvent::Problem(p) => Some(p.direction),
    }
}

/// Feed `c2s` and `s2c` to a new connection, alternating chunks of the
/// given sizes (cycled), with `gaps` (direction, after which chunk, length);
/// checks the per-feed invariants and returns the events.
fn deframe(
    options: &TransportOptions,
    mid_stream: bool,
    c2s: &[u8],
    s2c: &[u8],
    chunks: &[usize],
    gaps: &[(Direction, usize, u64)],
) -> Deframed {
    let mut conn = if mid_stream {
        TransportConnection::mid_stream(options.clone())
    } else {
        TransportConnection::new(options.clone())
    };
    let mut out = Vec::new();
    let mut at = [0usize; 2];
    let mut fed = 0usize;
    let mut stream_len = [0u64; 2];
    let mut k = 0usize;
    while at[0] < c2s.len() || at[1] < s2c.len() {
        for (side, bytes) in [(0usize, c2s), (1, s2c)] {
            if at[side] >= bytes.len() {
                continue;
            }
            let dir = if side == 0 { Direction::ClientToServer } else { Direction::ServerToClient };
            let n = chunks[k % chunks.len()].min(bytes.len() - at[side]);
            conn.feed(dir, &bytes[at[side]..at[side] + n], &mut out);
            at[side] += n;
            fed += n;
            stream_len[side] += n as u64;
            for &(gdir, after, len) in gaps {
                if gdir == dir && after == k {
                    conn.gap(dir, len, &mut out);
                    stream_len[side] += len;
                }
            }
            let held = conn.buffered_bytes();
            assert!(held <= 2 * fed + 128, "the transport holds {held} bytes of buffer after {fed} bytes fed");
        }
        k += 1;
    }
    let mut d = Deframed::default();
    let mut next_offset = [0u64; 2];
    for e in out {
        // Debug must not panic; formatted into a sink that keeps nothing (a
        // frame's payload as Debug text is several times its size: a
        // string per event, grown by reallocation, for nothing).
        let _ = std::fmt::Write::write_fmt(&mut Discard, format_args!("{e:?}"));
        match event_dir(&e) {
            None => {
                let TransportEvent::Detected(info) = e else { unreachable!("only Detected has no direction") };
                let _ = info.to_string();
                assert!(
                    d.by_dir.iter().all(|v| v.iter().all(|e| !matches!(e, TransportEvent::Frame(_)))),
                    "the transport was detected after a frame"
                );
                d.detected.push(info);
            }
            Some(dir) => {
                let side = usize::from(dir == Direction::ServerToClient);
                if let TransportEvent::Frame(f) = &e {
                    assert!(f.stream_offset >= next_offset[side], "{dir}: frames out of stream order");
                    let end = f.stream_offset + f.wire_len as u64;
                    assert!(
                        end <= stream_len[side],
                        "{dir}: a frame ends at {end}, past the {} bytes",
                        stream_len[side]
                    );
                    assert!(f.payload.len() + f.padding <= f.wire_len, "{dir}: payload larger than the frame");
                    assert!(f.payload.len() <= MAX_FRAME_LEN, "{dir}: a frame over the limit");
                    next_offset[side] = end;
                }
                if let TransportEvent::Problem(p) = &e {
                    let line = p.to_string();
                    assert!(!line.contains('\n'), "a transport problem is not one line: {line:?}");
                }
                d.by_dir[side].push(e);
            }
        }
    }
    assert!(d.detected.len() <= 1, "the transport was detected {} times", d.detected.len());
    d
}

/// A `fmt::Write` that drops what is written.
struct Discard;

impl std::fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> std::fmt::Result {
        Ok(())
    }
}

fn frames_of(events: &[TransportEvent]) -> Vec<&[u8]> {
    events
        .iter()
        .filter_map(|e| match e {
            TransportEvent::Frame(f) => Some(f.payload.as_slice()),
            _ => None,
        })
        .collect()
}

/// The secret as `--mtproxy-secret` takes it: its hex parses back to it
/// (16 bytes, `dd` and 16, or `ee`, 16 and a domain name); its first 15
/// bytes are refused on one line that counts them; an `ee` secret
/// without its domain, or with a byte no domain name has after it, is
/// refused on one line that says so.
fn check_secret_text(secret: &[u8]) {
    let parsed = parse_mtproxy_secret(&hex(secret));
    assert_eq!(parsed.as_deref(), Ok(secret), "the hex of an MTProxy secret does not parse back to it");
    let refused = parse_mtproxy_secret(&hex(&secret[..15])).expect_err("a 15-byte MTProxy secret accepted");
    one_line(&refused, "the refusal of a 15-byte secret");
    assert!(refused.contains("found 15 bytes"), "a 15-byte secret refused as {refused:?}");
    if secret.len() > 17 && secret[0] == 0xee {
        let refused = parse_mtproxy_secret(&hex(&secret[..17])).expect_err("an ee secret without a domain accepted");
        one_line(&refused, "the refusal of an ee secret without a domain");
        assert!(refused.contains("domain is missing"), "an ee secret without a domain refused as {refused:?}");
        let spaced = [secret, b" "].concat();
        let refused =
            parse_mtproxy_secret(&hex(&spaced)).expect_err("an ee secret with a space in its domain accepted");
        one_line(&refused, "the refusal of an ee secret whose domain is not a name");
        assert!(refused.contains("are not a domain name"), "an ee secret with a space refused as {refused:?}");
    }
}

/// The fuzz target `transport`: streams through every deframer, plain,
/// obfuscated2 and MTProxy, detected or forced, from the start or from the
/// middle, in arbitrary chunks, with and without gaps.
///
/// - No panic; buffers follow the bytes fed, not the lengths announced.
/// - Frames come out in stream order, inside the bytes fed, with their
///   payload inside their wire length; the transport is detected at most
///   once and before any frame.
/// - From the start of a connection, cutting the same bytes into other
///   chunks (and interleaving the directions differently) gives the same
///   events in each direction.
/// - Frames our encoder built (every framing, obfuscated or not, MTProxy)
///   come back as exactly the payloads put in.
/// - The secret configured parses back from its hex (see
///   `check_secret_text`).
pub fn transport(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(sc) = TransportScenario::arbitrary(&mut u) else { return };
    let secret = fixed_secret(sc.setup.mtproxy);
    if let Some(secret) = &secret {
        check_secret_text(secret);
    }
    let options = TransportOptions {
        forced: sc.setup.forced.map(|(f, o)| (f.framing(), o)),
        mtproxy_secret: secret.clone(),
        known_key_ids: vec![0x1122_3344_5566_7788],
    };
    let mid_stream = sc.setup.mid_stream;
    let built = build_transport_streams(&sc.setup, sc.streams, secret.as_deref());
    let whole_len = built.c2s.len().max(built.s2c.len()).max(1);
    let whole = deframe(&options, mid_stream, &built.c2s, &built.s2c, &[whole_len], &[]);
    let chunks: Vec<usize> =
        if sc.chunks.is_empty() { vec![1] } else { sc.chunks.iter().map(|&c| 1 + usize::from(c) % 64).collect() };
    let pieces = deframe(&options, mid_stream, &built.c2s, &built.s2c, &chunks, &[]);
    if !mid_stream {
        // A connection seen from the middle is recognised from what has
        // arrived so far, so its result may depend on the chunking; one
        // followed from its first byte may not.
        assert_eq!(whole.detected, pieces.detected, "another transport detected in other chunks");
        for side in 0..2 {
            if whole.by_dir[side] != pieces.by_dir[side] {
                panic!(
                    "side {side}: the events differ between feeding whole and in chunks {chunks:?}\n  \
                     whole: {:?}\n  chunks: {:?}",
                    whole.by_dir[side], pieces.by_dir[side]
                );
            }
        }
    }
    if let Some(expected) = &built.expected {
        for (side, (events, expected)) in whole.by_dir.iter().zip(expected).enumerate() {
            let got = frames_of(events);
            let want: Vec<&[u8]> = expected.iter().map(Vec::as_slice).collect();
            assert_eq!(got, want, "side {side}: the frames out are not the frames put in ({:?})", whole.detected);
        }
    }
    let gaps: Vec<(Direction, usize, u64)> = sc
        .gaps
        .iter()
        .take(8)
        .map(|&(server, after, len)| {
            let dir = if server { Direction::ServerToClient } else { Direction::ClientToServer };
            (dir, usize::from(after) % 32, u64::from(len))
        })
        .collect();
    if !gaps.is_empty() {
        deframe(&options, mid_stream, &built.c2s, &built.s2c, &chunks, &gaps);
    }
}

// ---------------------------------------------------------------------------
// envelope

/// The fixed key of the envelope target: not secret, only fixed, so the
/// fuzzer's inputs mean the same on every run; not the fixtures' key, so
/// the envelope seeds made from fixture messages stay foreign to it.
fn envelope_key() -> AuthKey {
    fixtures::auth_key(2)
}

#[derive(Debug, Arbitrary)]
struct RoundTrip {
    salt: i64,
    session_id: i64,
    msg_id: i64,
    seq_no: i32,
    data: Vec<u8>,
    /// Extra 16-byte blocks of padding beyond the least (reduced so the
    /// padding stays within 12..=1024).
    extra_blocks: u8,
    seed: u8,
    server: bool,
    /// A byte to flip in the encrypted message (reduced modulo its length).
    flip: u16,
}

/// The fuzz target `envelope`: arbitrary bytes as a frame payload, and a
/// round trip through our own encryption.
///
/// - Opening arbitrary bytes (under the fixed key's id, or as they come)
///   never panics, in either direction; what it accepts is consistent: an
///   unencrypted message's body and trailing bytes add up to the payload,
///   a decrypted body is inside the payload with 12..=1024 bytes of
///   padding and a length that is a multiple of 4.
/// - An arbitrary message encrypted with our code decrypts back to the
///   same fields and body; decrypted as the other direction it is refused
///   as a wrong direction; with any one byte changed it is refused (a
///   decryption that did not check msg_key would accept it).
/// - Padding that is not 12..=1024 bytes making whole 16-byte blocks is
///   refused by the encryption, on one line.
/// - Key files: any bytes parse or are refused (on one line naming a line
///   of the key log), never panic; the store keeps each parsed key once;
///   a key's `Debug` form names its id and never its bytes.
/// - What a payload opens to names the key id its first 8 bytes hold.
pub fn envelope(data: &[u8]) {
    let key = envelope_key();
    let mut keys = KeyStore::new();
    keys.insert(key.clone());
    // As given, and with the key's id in front so the bytes reach
    // decryption.
    let with_id = [key.id().to_le_bytes().as_slice(), data].concat();
    for payload in [data, with_id.as_slice()] {
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            check_open(payload, dir, &keys);
        }
    }
    match parse_auth_key(data) {
        Ok(k) => {
            assert_eq!(k.id(), inspector::envelope::auth_key_id(k.bytes()), "a parsed key with another id");
            check_key_debug(&k);
        }
        Err(e) => one_line(&e.to_string(), "a key file refusal"),
    }
    let log = String::from_utf8_lossy(data);
    match parse_keylog(&log) {
        Ok(parsed) => {
            let mut store = KeyStore::new();
            for k in &parsed {
                check_key_debug(k);
                store.insert(k.clone());
                store.insert(k.clone());
            }
            let mut ids: Vec<u64> = parsed.iter().map(AuthKey::id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(store.len(), ids.len(), "the key store does not hold each parsed key once");
            assert_eq!(store.is_empty(), parsed.is_empty(), "the key store's emptiness is wrong");
        }
        Err(e) => {
            let line = e.to_string();
            one_line(&line, "a key log refusal");
            let lines = log.lines().count();
            let named = match e {
                KeyParseError::BadHex { line, .. } => line,
                KeyParseError::WrongLength { .. } => panic!("a key log refused without naming its line: {line}"),
            };
            assert!((1..=lines).contains(&named), "a key log of {lines} lines refused at line {named}");
        }
    }

    let mut u = Unstructured::new(data);
    let Ok(rt) = RoundTrip::arbitrary(&mut u) else { return };
    let mut body = rt.data;
    body.truncate(body.len() / 4 * 4);
    let least = MIN_PADDING + (16 - (32 + body.len() + MIN_PADDING) % 16) % 16;
    let extra = usize::from(rt.extra_blocks) % ((MAX_PADDING - least) / 16 + 1);
    let padding: Vec<u8> = (0..least + 16 * extra).map(|i| (i as u8).wrapping_mul(13) ^ rt.seed).collect();
    let dir = if rt.server { Direction::ServerToClient } else { Direction::ClientToServer };
    let message =
        OutgoingMessage { salt: rt.salt, session_id: rt.session_id, msg_id: rt.msg_id, seq_no: rt.seq_no, data: &body };
    // One byte less or more of padding leaves a partial block.
    for wrong in [&padding[1..], &[padding.as_slice(), &[rt.seed]].concat()] {
        match encrypt_message(&key, dir, &message, wrong) {
            Ok(_) => panic!("encrypt_message accepted {} bytes of padding for a {}-byte body", wrong.len(), body.len()),
            Err(e) => one_line(&e, "an encryption refusal"),
        }
    }
    let sealed = match encrypt_message(&key, dir, &message, &padding) {
        Ok(sealed) => sealed,
        Err(e) => {
            panic!("encrypt_message refused {} bytes of padding for a {}-byte body: {e}", padding.len(), body.len())
        }
    };
    let opened = match decrypt_message(&key, dir, &sealed) {
        Ok(m) => m,
        Err(e) => panic!("our own encryption does not decrypt: {e}"),
    };
    assert_eq!(
        (opened.salt, opened.session_id, opened.msg_id, opened.seq_no, opened.padding_len),
        (rt.salt, rt.session_id, rt.msg_id, rt.seq_no, padding.len()),
        "decrypt(encrypt(message)) has other header fields"
    );
    assert!(opened.data == body, "decrypt(encrypt(message)) has another body");
    assert!(
        matches!(open_message(&sealed, dir, &keys), Ok(Envelope::Encrypted(ref m)) if *m == opened),
        "open_message and decrypt_message disagree"
    );
    match decrypt_message(&key, dir.reverse(), &sealed) {
        Err(EnvelopeError::MsgKeyMismatch { other_direction: true, .. }) => {}
        other => panic!("decrypting as the other direction gave {other:?}, not a wrong-direction error"),
    }
    let mut tampered = sealed.clone();
    let at = usize::from(rt.flip) % tampered.len();
    tampered[at] ^= 0x01 | rt.seed;
    match open_message(&tampered, dir, &keys) {
        // The key id changed: another key, which the store does not hold.
        Ok(Envelope::UnknownKey { .. }) if at < 8 => {}
        Ok(e) => panic!("a message with byte {at} changed was accepted: {e:?}"),
        Err(EnvelopeError::MsgKeyMismatch { .. }) => {}
        Err(e) => panic!("a message with byte {at} changed failed for another reason than msg_key: {e}"),
    }
    let plain = plain_message(rt.msg_id, &body);
    match open_message(&plain, dir, &keys) {
        Ok(Envelope::Plain { msg_id, data, trailing: 0 }) => {
            assert_eq!((msg_id, data), (rt.msg_id, body.as_slice()), "an unencrypted message does not read back");
        }
        other => panic!("an unencrypted message does not read back: {other:?}"),
    }
}

/// A key's `Debug` form: its id, not its bytes (it ends up in logs).
fn check_key_debug(key: &AuthKey) {
    let debug = format!("{key:?}");
    assert!(debug.contains(&format_key_id(key.id())), "a key's Debug form {debug:?} does not name its id");
    assert!(!debug.contains(&inspector::hex::encode(&key.bytes()[..8])), "a key's Debug form shows the key: {debug:?}");
}

fn one_line(text: &str, what: &str) {
    assert!(!text.contains('\n'), "{what} is not one line: {text:?}");
}

fn check_open(payload: &[u8], dir: Direction, keys: &KeyStore) {
    let opened = open_message(payload, dir, keys);
    // Opening the payload in its own buffer (what the pipeline does) gives
    // the same, errors included. (Both decrypt with decrypt_message_in; the
    // round trip's wrong-direction check holds its second decryption,
    // after the buffer is encrypted back.)
    let mut owned = payload.to_vec();
    let in_place = open_message_in(&mut owned, dir, keys);
    assert!(in_place == opened, "open_message_in gives {in_place:?}, open_message {opened:?}");
    if let Ok(envelope) = &opened {
        let id = u64::from_le_bytes(payload[..8].try_into().expect("an opened payload holds a key id"));
        assert_eq!(envelope.auth_key_id(), id, "an opened message names another key id than its first 8 bytes");
    }
    match opened {
        Ok(Envelope::Plain { data, trailing, .. }) => {
            assert_eq!(20 + data.len() + trailing, payload.len(), "an unencrypted message does not add up");
        }
        Ok(Envelope::Encrypted(m)) => {
            assert!(m.data.len() + 68 <= payload.len(), "a decrypted body larger than its message");
            assert!((MIN_PADDING..=MAX_PADDING).contains(&m.padding_len), "padding of {} accepted", m.padding_len);
            assert_eq!(m.data.len() % 4, 0, "a body that is not whole words accepted");
        }
        Ok(Envelope::UnknownKey { auth_key_id }) => {
            assert!(keys.get(auth_key_id).is_none(), "a known key reported unknown");
        }
        Err(e) => {
            let line = e.to_string();
            assert!(!line.contains('\n'), "an envelope error is not one line: {line:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// service

/// The fuzz target `service`: arbitrary bytes as a decrypted message body
/// (as they are, inside `gzip_packed`, or inside `rpc_result(gzip_packed)`)
/// through [`unwrap_message`], at the default depth budget and (for a body
/// that met it) the largest one a user may ask for, with a gzip budget the
/// fuzzer can exhaust and with the default one, keeping other objects or not,
/// and handing exportChatInvite out as the closure's or as another method.
///
/// - No panic and no stack overflow, at any depth budget up to the largest.
/// - No wrapping chain is as deep as the budget.
/// - Along any chain, the gzip_packed objects decompressed no more than the
///   budget; the whole output stays within what the input and the budget
///   can back.
/// - Requests and answers start with their constructor id and are inside
///   the bytes that held them; `req_msg_id` is the innermost rpc_result's.
/// - Errors, summaries and JSON forms print.
pub fn service(data: &[u8]) {
    let (mode, rest) = match data.split_first() {
        Some((m, rest)) => (*m, rest),
        None => (0, data),
    };
    let cap_choice = rest.first().copied().unwrap_or(0);
    let body = match mode % 4 {
        0 | 1 => rest.to_vec(),
        2 => fixtures::gzip_packed(rest),
        _ => fixtures::rpc_result(0x1234_5678_9abc_def0, &fixtures::gzip_packed(rest)),
    };
    // A small cap (so the fuzzer meets it) and the default one. With the
    // small cap, other objects are kept or not as bit 2 of the mode says.
    let small_cap = 64 + usize::from(cap_choice) * 256;
    let keep_other = mode & 4 == 0;
    // Bit 3: exportChatInvite and its answers handed out as the closure's
    // requests and answers, or (as `--method` without it does) as others.
    let closure = mode & 8 == 0;
    let small = ServiceOptions { gzip_cap: small_cap, keep_other, closure, ..ServiceOptions::default() };
    // The largest depth budget changes nothing but where nesting stops, so
    // it is worth a run only for a body that met the default one.
    if check_unwrap(&body, small) {
        check_unwrap(
            &body,
            ServiceOptions {
                gzip_cap: small_cap,
                max_depth: inspector::tl::MAX_DEPTH_LIMIT,
                keep_other: false,
                closure,
            },
        );
    }
    check_unwrap(&body, ServiceOptions::default());
    if let Ok(plain) = gunzip(rest, small_cap) {
        assert!(plain.len() <= small_cap, "gunzip returned {} bytes with a cap of {small_cap}", plain.len());
    }
}

/// [`unwrap_message`] on `body` with `options`, and the checks of
/// [`service`]. Whether the depth budget stopped it somewhere (an error
/// naming the budget: wrappers, or nesting in a TL value).
fn check_unwrap(body: &[u8], options: ServiceOptions) -> bool {
    // (An empty msg_container carries nothing, so no output is fine.)
    let items = unwrap_message(body, 7, 1, options);
    let budget = format!("budget of {}", options.max_depth);
    let met_depth =
        items.iter().any(|item| matches!(&item.content, Content::Malformed(e) if e.message.contains(&budget)));
    let bound = 1 + (body.len() + options.gzip_cap) / 4;
    assert!(items.len() <= bound, "{} objects from {} bytes (gzip cap {})", items.len(), body.len(), options.gzip_cap);
    for item in &items {
        assert!(
            item.wrapping.len() <= options.max_depth,
            "a chain of {} wrappers with a budget of {}",
            item.wrapping.len(),
            options.max_depth
        );
        let unpacked: usize = item
            .wrapping
            .iter()
            .map(|w| match w {
                Wrapper::GzipPacked { unpacked, .. } => *unpacked,
                _ => 0,
            })
            .sum();
        assert!(unpacked <= options.gzip_cap, "{unpacked} bytes decompressed with a cap of {}", options.gzip_cap);
        // The bytes that held this object: the innermost gzip_packed's
        // output, or the body.
        let holder = item
            .wrapping
            .iter()
            .rev()
            .find_map(|w| match w {
                Wrapper::GzipPacked { unpacked, .. } => Some(*unpacked),
                _ => None,
            })
            .unwrap_or(body.len());
        let innermost_rpc = item.wrapping.iter().rev().find_map(|w| match w {
            Wrapper::RpcResult { req_msg_id } => Some(*req_msg_id),
            _ => None,
        });
        assert_eq!(item.req_msg_id, innermost_rpc, "req_msg_id is not the innermost rpc_result's");
        let _ = chain_text(&item.wrapping);
        for w in item.wrapping.iter() {
            let _ = w.to_json();
        }
        match &item.content {
            Content::Request(b) => {
                assert!(b.len() <= holder, "a request larger than the bytes that held it");
                assert_eq!(
                    b.get(..4),
                    Some(&inspector::tl::ids::EXPORT_CHAT_INVITE.to_le_bytes()[..]),
                    "a request without its id"
                );
            }
            Content::Answer(b) => {
                assert!(b.len() <= holder, "an answer larger than the bytes that held it");
                let id = b.get(..4).map(|i| u32::from_le_bytes([i[0], i[1], i[2], i[3]]));
                assert!(
                    id.is_some_and(|id| inspector::tl::schema::exported_chat_invite(id).is_some()
                        || id == inspector::tl::ids::RPC_ERROR),
                    "an answer with the id {id:x?}"
                );
            }
            Content::Service(m) => {
                let _ = m.summary();
                // The JSON report writes the fields straight out; the text
                // must be serde_json's of the object, byte for byte.
                let mut written = Vec::new();
                m.write_json(&mut written).expect("writing to a Vec");
                let built = serde_json::to_vec(&m.to_json()).expect("a JSON value serialises");
                assert_eq!(
                    String::from_utf8_lossy(&written),
                    String::from_utf8_lossy(&built),
                    "a service message's written JSON differs from its object's"
                );
            }
            Content::Other { len, .. } => assert!(*len <= holder, "an object larger than the bytes that held it"),
            Content::Malformed(e) => {
                assert!(e.offset <= holder, "an error at {} in {holder} bytes", e.offset);
                let line = e.to_string();
                assert!(!line.contains('\n'), "a service error is not one line: {line:?}");
            }
        }
    }
    met_depth
}

// ---------------------------------------------------------------------------
// pcap_pipeline

/// Run `data` again with `options` on two threads: the result, the report
/// and the warnings must be those one thread gave (`result`, `out`, `err`),
/// byte for byte. Shared with the conversation property.
pub(super) fn same_on_two_threads(
    data: &[u8],
    options: &ReportOptions,
    result: &Result<inspector::pipeline::Summary, RunError>,
    out: &[u8],
    err: &[u8],
) {
    let threaded = ReportOptions { threads: 2, ..options.clone() };
    let (mut out2, mut err2) = (Vec::new(), Vec::new());
    let result2 = run_capture(data, &threaded, &mut out2, &mut err2);
    let format = options.format;
    assert_eq!(&result2, result, "{format:?}: the summary or error differs on 2 threads");
    if out2 != out || err2 != err {
        panic!(
            "{format:?}: the report differs on 2 threads\n--- one thread\n{}{}\n--- two threads\n{}{}",
            String::from_utf8_lossy(out),
            String::from_utf8_lossy(err),
            String::from_utf8_lossy(&out2),
            String::from_utf8_lossy(&err2)
        );
    }
}

/// Whether `pcap_pipeline` also runs the text report on an input whose
/// bytes sum to `sum`: a quarter of the inputs (bits 3-4 zero).
fn text_report_chosen(sum: u8) -> bool {
    (sum >> 3) % 4 == 0
}

/// The sum of an input's bytes, which chooses its sampled checks: a replay
/// makes the same choice, and mutations move an input in and out.
pub(super) fn byte_sum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |sum, b| sum.wrapping_add(*b))
}

/// Whether a `pcap_pipeline` input is
/// also run on two threads and compared with one: a thirty-second of the
/// inputs, those whose byte sum is a multiple of 32 (bits 0-4 zero, so
/// they also run the text report, which is compared too). An eighth until
/// 2026-12-06: the runs on two threads (a reader and decoding threads
/// started for each, and the hand-offs between them) were about a quarter
/// of either target's time, and with them on a thirty-second pcap_pipeline
/// runs about 1.4 times as many inputs a second (FUZZING.md, "Ninth
/// round"). pcap_pipeline's committed seeds
/// that reach the threaded driver's handling of a gap, an unknown key or a
/// reader that goes away are made to be picked (`sigfigs` in their pcap
/// header: `tests/corpus_replay.rs`, `threads_picked`), as the `cov-*`
/// seeds are. With [`Checks::All`] every input is.
fn threads_compared(sum: u8) -> bool {
    sum % 32 == 0
}

/// Whether `pcap_pipeline` gives the run the builtin schema (`--schema`: a
/// quarter of the inputs, bits 5-6 of their byte sum both set, independent
/// of [`sampled`]'s bits), and then, when bit 7 is set too, which methods
/// it shows in full (`--tree`).
fn schema_choice(sum: u8) -> (Option<&'static Schema>, Vec<String>) {
    if (sum >> 5) & 3 != 3 {
        return (None, Vec::new());
    }
    let methods = if sum & 0x80 != 0 {
        ["contacts.resolveUsername", "updates.getState", "help.getConfig", "invokeWithLayer", "initConnection"]
            .map(String::from)
            .to_vec()
    } else {
        Vec::new()
    };
    (Some(Schema::builtin()), methods)
}

/// Reads a line of the JSON report back the way `pcap_pipeline` does:
/// whether it has a `warning` member (whatever its value), or an error if
/// the line is not one JSON object. Every value in the line is parsed (so
/// a line that is not JSON is refused) and dropped: reading the lines into
/// `serde_json::Value` instead built every map and string of the report
/// again, about a tenth of an execution under perf (FUZZING.md, "Ninth
/// round").
pub fn report_line_warns(line: &str) -> serde_json::Result<bool> {
    serde_json::from_str::<ReportLine>(line).map(|l| l.0)
}

/// A JSON object, and whether it has a `warning` member.
struct ReportLine(bool);

impl<'de> serde::Deserialize<'de> for ReportLine {
    fn deserialize<D: serde::Deserializer<'de>>(value: D) -> Result<Self, D::Error> {
        value.deserialize_map(ReportLine(false))
    }
}

impl<'de> serde::de::Visitor<'de> for ReportLine {
    type Value = ReportLine;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<ReportLine, A::Error> {
        while let Some(MemberName(warning)) = map.next_key()? {
            map.next_value::<serde::de::IgnoredAny>()?;
            self.0 |= warning;
        }
        Ok(self)
    }
}

/// A member's name, read only as far as whether it is `warning`.
struct MemberName(bool);

impl<'de> serde::Deserialize<'de> for MemberName {
    fn deserialize<D: serde::Deserializer<'de>>(name: D) -> Result<Self, D::Error> {
        name.deserialize_str(MemberName(false))
    }
}

impl serde::de::Visitor<'_> for MemberName {
    type Value = MemberName;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<MemberName, E> {
        Ok(MemberName(name == "warning"))
    }
}

/// The fuzz target `pcap_pipeline`: arbitrary bytes as a capture through
/// the whole `inspector pcap` run, with the fixed test key and the key of
/// the synthetic fixtures, in text and JSON, with `--all` and `--hexdump`,
/// into memory.
///
/// - No panic; a file that is not a capture is `NotACapture`, never an I/O
///   error (the sinks cannot fail).
/// - The threaded driver (`--threads 2`) gives the same report, warnings
///   and summary (or error) as one thread, byte for byte (on a
///   thirty-second of the inputs, chosen by their bytes: see
///   `threads_compared`).
/// - A quarter of the inputs run with the builtin schema (the
///   `--schema` paths of the pipeline, the report and the renderers), half
///   of those with methods shown in full (`--tree`); see
///   `schema_choice`.
/// - The JSON report runs on every input; the text report (trees in
///   colour, the most expensive part of a run) on a quarter of them, chosen
///   by their bytes like the thread comparison but independently of it. The
///   text report's rendering of decoded frames is also the `render` target's
///   and the `conversation` target's (which reach far more frames than
///   arbitrary capture bytes do).
/// - On half of the inputs whose threads are compared (a sixty-fourth), the
///   JSON report is also written to a reader that goes away after a part
///   of it: see `pipeline_runs::reader_goes_away`.
/// - A sixty-fourth of the inputs (chosen by a hash of their bytes,
///   independently of the other samples) also run as JSON with the
///   reassembler holding 1 to 3 connections at once: see
///   `pipeline_runs::small_connection_limits`.
/// - The summary adds up: answers matched never exceed the requests or the
///   answers, and every JSON line is one JSON object, warnings included.
///
/// The run with small limits was thinned on 2026-12-06 (a sixteenth
/// before): the committed seeds that reach what it reaches are made to be
/// picked (`tests/coverage_seeds_pipeline.rs`). Thinning the thread
/// comparison and the reader that goes away as well lost lines of the
/// threaded driver that only some `fixture-*` seeds reach on two threads
/// (FUZZING.md, "Seventh round"), so they stay as they were.
///
/// With [`Checks::All`] (the corpus a run kept, and the committed one: see
/// [`Checks`]) every input gets the thread comparison, the text report,
/// the reader that goes away, and small limits.
pub fn pcap_pipeline(data: &[u8]) {
    pcap_pipeline_with(data, Checks::from_env());
}

/// The costly checks a `pcap_pipeline` input gets (see [`pcap_pipeline`]).
#[derive(Debug, PartialEq, Eq)]
pub struct PipelineChecks {
    /// Two threads compared with one.
    pub threads: bool,
    /// The text report.
    pub text: bool,
    /// The JSON report written to a reader that goes away.
    pub goes_away: bool,
    /// A JSON run with the reassembler holding few connections: how many,
    /// and how many of them closed.
    pub limits: Option<(usize, usize)>,
}

/// Which costly checks `pcap_pipeline` runs on `data`: a sample chosen by
/// its bytes ([`Checks::Sampled`]), or all of them.
pub fn pcap_pipeline_checks(data: &[u8], checks: Checks) -> PipelineChecks {
    let sum = byte_sum(data);
    let every = checks == Checks::All;
    let threads = every || threads_compared(sum);
    PipelineChecks {
        threads,
        text: every || text_report_chosen(sum),
        goes_away: every || (threads && super::pipeline_runs::reader_goes_away_chosen(data)),
        limits: super::pipeline_runs::limits_choice(data, checks),
    }
}

/// [`pcap_pipeline`] with its costly checks sampled or all run.
pub fn pcap_pipeline_with(data: &[u8], checks: Checks) {
    // Threads cost most of a run: the comparison is made on the inputs whose
    // byte sum is a multiple of 32 (a thirty-second; mutations move an input
    // in and out of it), so that a replay repeats the same choice.
    let sum = byte_sum(data);
    let PipelineChecks { threads: compare_threads, text: text_report, goes_away, limits } =
        pcap_pipeline_checks(data, checks);
    let (schema, tree_methods) = schema_choice(sum);
    let mut keys = KeyStore::new();
    keys.insert(envelope_key());
    keys.insert(fixtures::fixture_key());
    for (format, all) in [(ReportFormat::Json, true), (ReportFormat::Text, false)] {
        if format == ReportFormat::Text && !text_report {
            continue;
        }
        let options = ReportOptions {
            keys: keys.clone(),
            format,
            all,
            hexdump: all,
            color: !all,
            service: ServiceOptions { gzip_cap: 1 << 20, ..ServiceOptions::default() },
            schema,
            tree_methods: tree_methods.clone(),
            ..ReportOptions::default()
        };
        let mut out = Vec::new();
        let mut err = Vec::new();
        let result = run_capture(data, &options, &mut out, &mut err);
        // The threaded driver must say exactly what one thread says.
        if compare_threads {
            same_on_two_threads(data, &options, &result, &out, &err);
        }
        if format == ReportFormat::Json && (goes_away || limits.is_some()) {
            // What run_capture gives the pipeline for this JSON run.
            let pipeline = PipelineOptions {
                keys: options.keys.clone(),
                service: options.service,
                schema,
                tree_methods: tree_methods.clone(),
                ..PipelineOptions::default()
            };
            if let Some(limits) = limits {
                super::pipeline_runs::small_connection_limits(data, &pipeline, limits, (&result, &out, &err));
            }
            if goes_away && result.is_ok() {
                super::pipeline_runs::reader_goes_away(data, &pipeline, &out);
            }
        }
        match result {
            Ok(s) => {
                assert!(s.matched <= s.requests, "{} matched of {} requests", s.matched, s.requests);
                assert!(
                    s.matched + s.unmatched_answers <= s.answers,
                    "{} matched and {} unmatched of {} answers",
                    s.matched,
                    s.unmatched_answers,
                    s.answers
                );
                if format == ReportFormat::Json {
                    let text = String::from_utf8(out).expect("the JSON report is UTF-8");
                    let mut warnings = 0;
                    for line in text.lines() {
                        let warns = report_line_warns(line)
                            .unwrap_or_else(|e| panic!("a report line is not one JSON object ({e}): {line}"));
                        if warns {
                            warnings += 1;
                        }
                    }
                    assert_eq!(warnings, s.warnings, "warning lines and the summary's count differ");
                }
            }
            Err(RunError::NotACapture(m)) => assert!(!m.contains('\n'), "a multi-line error: {m:?}"),
            Err(RunError::Read(m) | RunError::Io(m)) => panic!("an I/O error from in-memory input and output: {m}"),
        }
    }
}
