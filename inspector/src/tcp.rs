//! TCP reassembly: from captured segments to each connection's two ordered
//! byte streams.
//!
//! [`TcpReassembler`] takes segments in capture order and gives a
//! [`TcpSink`] [`TcpEvent`]s as they happen: a connection opened (saying whether its start was seen),
//! bytes in stream order per direction, gaps where segments were lost (with
//! their stream offset and length), and the close. Out-of-order segments
//! wait until the hole before them fills; retransmissions and overlaps are
//! trimmed to the bytes not yet delivered. A hole is declared lost when the
//! receiver acknowledges past it (it got bytes the capture did not), when
//! too much data waits behind it, or at the end of the connection.
//!
//! Sequence numbers are unwrapped to 64-bit stream offsets (0 = the first
//! payload byte after SYN), so a connection may carry more than 4 GiB.
//!
//! Memory does not grow with the number of connections a capture held
//! over time: a connection closed on both sides is kept only among the
//! [`CLOSED_KEPT`] most recently closed, long enough to recognise its last
//! segments (the final ACK, a retransmitted FIN), and then forgotten. A new
//! SYN on the endpoints of a connection closed on both sides opens a new
//! connection.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;

use crate::capture::TcpSegment;
use std::fmt;

/// Which way bytes travel in a connection. The client is the side that sent
/// the SYN; for a connection seen from the middle the roles are guessed (by
/// well-known port, then by who spoke first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    /// The short label used in reports and JSON (`c2s`, `s2c`).
    pub fn label(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c2s",
            Direction::ServerToClient => "s2c",
        }
    }

    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Out-of-order bytes held per direction before the hole in front of them
/// is declared lost. Real bytes only: this bounds memory on hostile input.
pub const MAX_PENDING: usize = 4 << 20;

/// Connections closed on both sides whose state is still kept (the most
/// recently closed ones), so that segments arriving after both FINs (the
/// last ACK, a retransmission) find their connection instead of opening one
/// seen from the middle. A closed connection holds no buffer: this costs
/// about 200 bytes each.
pub const CLOSED_KEPT: usize = 1024;

/// Connections whose state is held at most (open, and recently closed).
/// Past it, the least recently active are forgotten ([`TcpEvent::Forgotten`]),
/// so that a capture of very many connections left open (a port scan, a
/// flood of SYNs) does not take memory in proportion. A connection that
/// speaks again after that is seen from the middle.
pub const MAX_CONNECTIONS: usize = 32_768;

/// A connection's number, in order of first appearance. A connection opened
/// again on the same endpoints after closing gets a new number.
pub type ConnId = usize;

/// What reassembly found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpEvent<'a> {
    /// A connection seen for the first time.
    Opened {
        conn: ConnId,
        client: SocketAddr,
        server: SocketAddr,
        /// The SYN was captured: streams start at their first byte. When
        /// false, the client/server roles are a guess and the streams start
        /// somewhere in the middle.
        from_start: bool,
    },
    /// Bytes at `offset` of the direction's stream; offsets only grow.
    /// Borrowed from the segment (or from the reassembler, for bytes that
    /// waited behind a hole): a [`TcpSink`] copies what it keeps.
    Data { conn: ConnId, direction: Direction, offset: u64, bytes: Cow<'a, [u8]> },
    /// `len` bytes at `offset` are missing from the capture.
    Gap { conn: ConnId, direction: Direction, offset: u64, len: u64 },
    /// FIN or RST seen from `direction`.
    Closed { conn: ConnId, direction: Direction, reset: bool },
    /// The connection was forgotten while open: it was among the least
    /// recently active when more than [`MAX_CONNECTIONS`] were held.
    Forgotten { conn: ConnId },
}

impl TcpEvent<'_> {
    /// The same event, owning its bytes.
    pub fn into_owned(self) -> TcpEvent<'static> {
        match self {
            TcpEvent::Opened { conn, client, server, from_start } => {
                TcpEvent::Opened { conn, client, server, from_start }
            }
            TcpEvent::Data { conn, direction, offset, bytes } => {
                TcpEvent::Data { conn, direction, offset, bytes: Cow::Owned(bytes.into_owned()) }
            }
            TcpEvent::Gap { conn, direction, offset, len } => TcpEvent::Gap { conn, direction, offset, len },
            TcpEvent::Closed { conn, direction, reset } => TcpEvent::Closed { conn, direction, reset },
            TcpEvent::Forgotten { conn } => TcpEvent::Forgotten { conn },
        }
    }
}

/// What takes reassembly's events, as they happen. Bytes are lent, so
/// that a segment that continues its stream (the usual case) reaches the
/// next stage without a copy.
pub trait TcpSink {
    fn event(&mut self, event: TcpEvent<'_>);
}

/// Collects owned copies of the events.
impl TcpSink for Vec<TcpEvent<'static>> {
    fn event(&mut self, event: TcpEvent<'_>) {
        self.push(event.into_owned());
    }
}

/// Counters for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpStats {
    pub segments: u64,
    pub retransmitted_bytes: u64,
    pub out_of_order_segments: u64,
    pub gaps: u64,
    pub lost_bytes: u64,
    /// Open connections forgotten to stay within [`MAX_CONNECTIONS`].
    pub forgotten_connections: u64,
}

#[derive(Default)]
struct HalfStream {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Next stream offset to deliver.
    next: u64,
    /// Out-of-order data by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    closed: bool,
}

impl HalfStream {
    /// The 64-bit stream offset of `seq`, taken as the one nearest `next`.
    fn offset_of(&self, seq: u32) -> Option<u64> {
        self.signed_offset_of(seq).map(|off| off.max(0) as u64)
    }

    /// The same, negative for a sequence number before offset 0.
    fn signed_offset_of(&self, seq: u32) -> Option<i64> {
        let base = self.base?;
        let rel = seq.wrapping_sub(base);
        let delta = rel.wrapping_sub(self.next as u32) as i32;
        Some(self.next as i64 + i64::from(delta))
    }
}

struct Connection {
    id: ConnId,
    /// The segment count when it last had a segment: its last activity.
    last_active: u64,
    client: SocketAddr,
    c2s: HalfStream,
    s2c: HalfStream,
}

impl Connection {
    fn half(&mut self, dir: Direction) -> &mut HalfStream {
        match dir {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        }
    }

    /// Both sides sent FIN or RST.
    fn is_closed(&self) -> bool {
        self.c2s.closed && self.s2c.closed
    }

    /// Deliver everything still pending in both directions.
    fn flush<S: TcpSink + ?Sized>(&mut self, stats: &mut TcpStats, out: &mut S) {
        flush(&mut self.c2s, self.id, Direction::ClientToServer, stats, out);
        flush(&mut self.s2c, self.id, Direction::ServerToClient, stats, out);
    }
}

/// The endpoints of a connection, the same whichever way a segment goes.
type Endpoints = (SocketAddr, SocketAddr);

/// The connection table's hasher: foldhash rather than std's SipHash,
/// which hashing a pair of socket addresses (a dozen small writes) made
/// a tenth of the reading thread's time. Seeded at random per table, as
/// std's is, so a capture cannot be made to collide without knowing the
/// seed, which nothing reveals.
type ConnTable = HashMap<Endpoints, Connection, foldhash::fast::RandomState>;

fn endpoints_key(a: SocketAddr, b: SocketAddr) -> Endpoints {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Reassembles every TCP connection of a capture.
pub struct TcpReassembler {
    /// The open connections and the [`CLOSED_KEPT`] most recently closed.
    conns: ConnTable,
    /// Connections closed on both sides, oldest first. An entry whose
    /// endpoints hold a newer connection by now is skipped.
    closed: VecDeque<(Endpoints, ConnId)>,
    /// Connections seen so far: the next one's [`ConnId`].
    seen: usize,
    stats: TcpStats,
    /// Out-of-order bytes one direction may hold ([`MAX_PENDING`] unless
    /// set otherwise, which the fuzz target does to reach the limit with
    /// small inputs).
    max_pending: usize,
    /// Connections held at most ([`MAX_CONNECTIONS`] unless set otherwise).
    max_connections: usize,
    /// Closed connections kept at most ([`CLOSED_KEPT`] unless set
    /// otherwise).
    closed_kept: usize,
}

impl Default for TcpReassembler {
    fn default() -> Self {
        TcpReassembler {
            conns: ConnTable::default(),
            closed: VecDeque::new(),
            seen: 0,
            stats: TcpStats::default(),
            max_pending: MAX_PENDING,
            max_connections: MAX_CONNECTIONS,
            closed_kept: CLOSED_KEPT,
        }
    }
}

/// Ports a server listens on; used to guess roles when the SYN is missing.
fn is_service_port(port: u16) -> bool {
    matches!(port, 80 | 443 | 5222 | 8080 | 8443 | 8888) || port < 1024
}

impl TcpReassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// A reassembler that holds at most `max_pending` out-of-order bytes
    /// per direction before declaring the hole in front of them lost.
    pub fn with_max_pending(max_pending: usize) -> Self {
        TcpReassembler { max_pending, ..Self::default() }
    }

    /// This reassembler, holding the state of at most `max_connections`
    /// connections (at least 1), of which at most `closed_kept` closed ones,
    /// instead of [`MAX_CONNECTIONS`] and [`CLOSED_KEPT`]. The capture
    /// pipeline keeps those; the fuzz target sets small limits to reach
    /// them with small inputs.
    pub fn with_connection_limits(self, max_connections: usize, closed_kept: usize) -> Self {
        TcpReassembler { max_connections: max_connections.max(1), closed_kept, ..self }
    }

    /// Out-of-order bytes held, over every connection: what reassembly
    /// costs in memory beyond its bookkeeping.
    pub fn buffered_bytes(&self) -> usize {
        self.conns.values().map(|c| c.c2s.pending_bytes + c.s2c.pending_bytes).sum()
    }

    pub fn stats(&self) -> &TcpStats {
        &self.stats
    }

    /// Connections seen so far, closed and forgotten ones included.
    pub fn connection_count(&self) -> usize {
        self.seen
    }

    /// Connections whose state is held: the open ones, and at most
    /// [`CLOSED_KEPT`] closed ones.
    pub fn tracked_connections(&self) -> usize {
        self.conns.len()
    }

    /// One captured segment.
    pub fn segment<S: TcpSink + ?Sized>(&mut self, seg: &TcpSegment<'_>, out: &mut S) {
        self.stats.segments += 1;
        let key = endpoints_key(seg.src, seg.dst);
        if self.conns.len() >= self.max_connections && !self.conns.contains_key(&key) {
            self.forget_least_active(out);
        }
        let (c, dir) = lookup(&mut self.conns, &mut self.seen, &mut self.stats, key, seg, out);
        c.last_active = self.stats.segments;
        let conn = c.id;

        // What the sender acknowledges tells us what the other side sent.
        if let Some(ack) = seg.ack {
            let other = c.half(dir.reverse());
            if let Some(acked) = other.offset_of(ack) {
                declare_lost_before(other, acked, conn, dir.reverse(), &mut self.stats, out);
            }
        }

        let half = c.half(dir);
        if seg.syn {
            // Data after SYN starts at ISN + 1. A repeated SYN changes nothing.
            if half.base.is_none() {
                half.base = Some(seg.seq.wrapping_add(1));
            }
            // A SYN may carry data (TCP fast open): it follows at offset 0.
        } else if half.base.is_none() {
            // The start of this direction was not captured.
            half.base = Some(seg.seq);
        }
        if !seg.payload.is_empty() {
            let seq = if seg.syn { seg.seq.wrapping_add(1) } else { seg.seq };
            // A segment that starts before offset 0 (sent before the first
            // one captured, arriving late) keeps only what follows offset 0:
            // the bytes before it belong to no position of the stream.
            let (offset, payload) = match half.signed_offset_of(seq) {
                Some(off) if off < 0 => {
                    let before = off.unsigned_abs().min(seg.payload.len() as u64) as usize;
                    self.stats.retransmitted_bytes += before as u64;
                    (0, &seg.payload[before..])
                }
                Some(off) => (off as u64, seg.payload),
                None => (0, seg.payload),
            };
            if !payload.is_empty() {
                insert(half, offset, payload, conn, dir, self.max_pending, &mut self.stats, out);
            }
        }
        if (seg.fin || seg.rst) && !half.closed {
            half.closed = true;
            flush(half, conn, dir, &mut self.stats, out);
            if seg.fin {
                // The FIN's sequence number is where the stream ended: bytes
                // between what was delivered and it were sent but not
                // captured (a lost last segment has nothing behind it to
                // reveal the hole otherwise).
                let seq = if seg.syn { seg.seq.wrapping_add(1) } else { seg.seq };
                let end = half.signed_offset_of(seq).map(|off| off + seg.payload.len() as i64);
                if let Some(end) = end.filter(|&e| e > half.next as i64) {
                    let len = end as u64 - half.next;
                    self.stats.gaps += 1;
                    self.stats.lost_bytes += len;
                    out.event(TcpEvent::Gap { conn, direction: dir, offset: half.next, len });
                    half.next = end as u64;
                }
            }
            out.event(TcpEvent::Closed { conn, direction: dir, reset: seg.rst });
            if c.is_closed() {
                self.closed.push_back((key, conn));
                if self.closed.len() > self.closed_kept {
                    self.forget_oldest_closed(out);
                }
            }
        }
    }

    /// The capture ended: anything still waiting behind a hole is delivered
    /// after a gap, connection by connection in order of appearance.
    pub fn finish<S: TcpSink + ?Sized>(&mut self, out: &mut S) {
        let mut conns: Vec<&mut Connection> = self.conns.values_mut().collect();
        conns.sort_unstable_by_key(|c| c.id);
        for c in conns {
            c.flush(&mut self.stats, out);
        }
    }

    /// Forget the eighth of the connections held that were active longest
    /// ago (one scan pays for the next few thousand new connections),
    /// delivering what they still had pending.
    fn forget_least_active<S: TcpSink + ?Sized>(&mut self, out: &mut S) {
        let mut by_age: Vec<(u64, ConnId, Endpoints)> =
            self.conns.iter().map(|(key, c)| (c.last_active, c.id, *key)).collect();
        let n = (by_age.len() / 8).max(1);
        by_age.select_nth_unstable(n - 1);
        by_age.truncate(n);
        by_age.sort_unstable();
        for (_, id, key) in by_age {
            if let Some(mut c) = self.conns.remove(&key) {
                c.flush(&mut self.stats, out);
                // One closed on both sides ended as it should: it is only
                // dropped sooner than `forget_oldest_closed` would have,
                // and is not reported as forgotten while open.
                if !c.is_closed() {
                    self.stats.forgotten_connections += 1;
                    out.event(TcpEvent::Forgotten { conn: id });
                }
            }
        }
    }

    /// Drop the connection closed longest ago, unless its endpoints hold a
    /// newer one. Bytes that came after both FINs and still wait behind a
    /// hole are delivered first.
    fn forget_oldest_closed<S: TcpSink + ?Sized>(&mut self, out: &mut S) {
        let Some((key, id)) = self.closed.pop_front() else { return };
        if let Entry::Occupied(e) = self.conns.entry(key) {
            if e.get().id == id {
                e.remove().flush(&mut self.stats, out);
            }
        }
    }
}

/// The connection `seg` belongs to (its endpoints are `key`), opened if
/// new, and the segment's direction in it.
fn lookup<'c, S: TcpSink + ?Sized>(
    conns: &'c mut ConnTable,
    seen: &mut usize,
    stats: &mut TcpStats,
    key: Endpoints,
    seg: &TcpSegment<'_>,
    out: &mut S,
) -> (&'c mut Connection, Direction) {
    if seg.syn {
        // A SYN on a connection closed on both sides, other than its own
        // SYN again, starts a new connection on the same endpoints.
        if let Entry::Occupied(e) = conns.entry(key) {
            let c = e.get();
            let half = if c.client == seg.src { &c.c2s } else { &c.s2c };
            if c.is_closed() && half.base != Some(seg.seq.wrapping_add(1)) {
                e.remove().flush(stats, out);
            }
        }
    }
    let c = match conns.entry(key) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => {
            let c = new_connection(*seen, seg, out);
            *seen += 1;
            e.insert(c)
        }
    };
    let dir = if c.client == seg.src { Direction::ClientToServer } else { Direction::ServerToClient };
    (c, dir)
}

/// A connection seen for the first time, announced in `out`.
fn new_connection<S: TcpSink + ?Sized>(id: ConnId, seg: &TcpSegment<'_>, out: &mut S) -> Connection {
    // SYN alone comes from the client, SYN+ACK from the server; otherwise
    // guess by well-known port, then by who spoke first.
    let from_start = seg.syn;
    let src_is_client = if seg.syn {
        seg.ack.is_none()
    } else if is_service_port(seg.dst.port()) != is_service_port(seg.src.port()) {
        is_service_port(seg.dst.port())
    } else {
        true
    };
    let (client, server) = if src_is_client { (seg.src, seg.dst) } else { (seg.dst, seg.src) };
    out.event(TcpEvent::Opened { conn: id, client, server, from_start });
    Connection { id, last_active: 0, client, c2s: HalfStream::default(), s2c: HalfStream::default() }
}

#[allow(clippy::too_many_arguments)]
fn insert<S: TcpSink + ?Sized>(
    half: &mut HalfStream,
    offset: u64,
    payload: &[u8],
    conn: ConnId,
    dir: Direction,
    max_pending: usize,
    stats: &mut TcpStats,
    out: &mut S,
) {
    let end = offset + payload.len() as u64;
    if end <= half.next {
        stats.retransmitted_bytes += payload.len() as u64;
        return;
    }
    // Drop what was already delivered (a retransmission overlapping new data).
    let skip = half.next.saturating_sub(offset) as usize;
    stats.retransmitted_bytes += skip as u64;
    let (offset, payload) = (offset + skip as u64, &payload[skip..]);
    if offset == half.next {
        half.next += payload.len() as u64;
        out.event(TcpEvent::Data { conn, direction: dir, offset, bytes: Cow::Borrowed(payload) });
        drain_pending(half, conn, dir, stats, out);
    } else {
        stats.out_of_order_segments += 1;
        // Keep the longer of two segments at the same offset.
        let keep = half.pending.get(&offset).is_none_or(|old| old.len() < payload.len());
        if keep {
            if let Some(old) = half.pending.insert(offset, payload.to_vec()) {
                half.pending_bytes -= old.len();
            }
            half.pending_bytes += payload.len();
        }
        while half.pending_bytes > max_pending && !half.pending.is_empty() {
            // Too much behind the hole: it is not going to be filled.
            flush_one_gap(half, conn, dir, stats, out);
        }
    }
}

/// Deliver pending segments that now continue the stream.
fn drain_pending<S: TcpSink + ?Sized>(
    half: &mut HalfStream,
    conn: ConnId,
    dir: Direction,
    stats: &mut TcpStats,
    out: &mut S,
) {
    while let Some((&off, _)) = half.pending.first_key_value() {
        if off > half.next {
            break;
        }
        let bytes = half.pending.remove(&off).unwrap_or_default();
        half.pending_bytes -= bytes.len();
        let end = off + bytes.len() as u64;
        if end <= half.next {
            stats.retransmitted_bytes += bytes.len() as u64;
            continue;
        }
        let skip = (half.next - off) as usize;
        stats.retransmitted_bytes += skip as u64;
        let offset = half.next;
        half.next = end;
        out.event(TcpEvent::Data { conn, direction: dir, offset, bytes: Cow::Borrowed(&bytes[skip..]) });
    }
}

/// Report the hole before the first pending segment, and continue after it.
fn flush_one_gap<S: TcpSink + ?Sized>(
    half: &mut HalfStream,
    conn: ConnId,
    dir: Direction,
    stats: &mut TcpStats,
    out: &mut S,
) {
    if let Some((&off, _)) = half.pending.first_key_value() {
        let len = off - half.next;
        stats.gaps += 1;
        stats.lost_bytes += len;
        out.event(TcpEvent::Gap { conn, direction: dir, offset: half.next, len });
        half.next = off;
        drain_pending(half, conn, dir, stats, out);
    }
}

/// Deliver everything pending, reporting each hole.
fn flush<S: TcpSink + ?Sized>(half: &mut HalfStream, conn: ConnId, dir: Direction, stats: &mut TcpStats, out: &mut S) {
    while !half.pending.is_empty() {
        flush_one_gap(half, conn, dir, stats, out);
    }
}

/// The receiver acknowledged up to `acked`: holes before that were
/// received by the peer but not captured.
fn declare_lost_before<S: TcpSink + ?Sized>(
    half: &mut HalfStream,
    acked: u64,
    conn: ConnId,
    dir: Direction,
    stats: &mut TcpStats,
    out: &mut S,
) {
    while let Some((&off, _)) = half.pending.first_key_value() {
        if off >= acked || off <= half.next {
            break;
        }
        flush_one_gap(half, conn, dir, stats, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "10.0.0.1:50000";
    const S: &str = "10.0.0.2:443";

    fn seg<'a>(from_client: bool, seq: u32, ack: Option<u32>, syn: bool, payload: &'a [u8]) -> TcpSegment<'a> {
        let (c, s): (SocketAddr, SocketAddr) = (C.parse().unwrap(), S.parse().unwrap());
        let (src, dst) = if from_client { (c, s) } else { (s, c) };
        TcpSegment { src, dst, seq, ack, syn, fin: false, rst: false, payload }
    }

    fn stream(events: &[TcpEvent<'_>], dir: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        for e in events {
            if let TcpEvent::Data { direction, offset, bytes, .. } = e {
                if *direction == dir {
                    assert_eq!(*offset, out.len() as u64);
                    out.extend_from_slice(bytes);
                }
            }
        }
        out
    }

    fn handshake(r: &mut TcpReassembler, isn_c: u32, isn_s: u32, out: &mut Vec<TcpEvent<'static>>) {
        r.segment(&seg(true, isn_c, None, true, b""), out);
        r.segment(&seg(false, isn_s, Some(isn_c.wrapping_add(1)), true, b""), out);
    }

    #[test]
    fn in_order_out_of_order_retransmitted_and_wrapping() {
        let data: Vec<u8> = (0..200u8).collect();
        let isn = u32::MAX - 50; // the sequence numbers wrap inside the data
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        handshake(&mut r, isn, 7, &mut out);
        assert!(matches!(out[0], TcpEvent::Opened { from_start: true, .. }));
        let s = |o: usize| isn.wrapping_add(1).wrapping_add(o as u32);
        r.segment(&seg(true, s(0), Some(8), false, &data[0..30]), &mut out);
        r.segment(&seg(true, s(60), Some(8), false, &data[60..100]), &mut out); // ahead
        r.segment(&seg(true, s(20), Some(8), false, &data[20..70]), &mut out); // overlap fills
        r.segment(&seg(true, s(0), Some(8), false, &data[0..30]), &mut out); // retransmission
        r.segment(&seg(true, s(100), Some(8), false, &data[100..200]), &mut out);
        assert_eq!(stream(&out, Direction::ClientToServer), data);
        assert!(!out.iter().any(|e| matches!(e, TcpEvent::Gap { .. })));
        assert_eq!(r.stats().out_of_order_segments, 1);
        assert!(r.stats().retransmitted_bytes >= 30);
    }

    #[test]
    fn a_lost_segment_is_a_gap_once_acknowledged() {
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        handshake(&mut r, 100, 900, &mut out);
        r.segment(&seg(true, 101, Some(901), false, b"aaaa"), &mut out);
        r.segment(&seg(true, 109, Some(901), false, b"cccc"), &mut out); // bbbb lost
        assert!(!out.iter().any(|e| matches!(e, TcpEvent::Gap { .. })));
        // The server acknowledges everything: bbbb was received but not captured.
        r.segment(&seg(false, 901, Some(113), false, b""), &mut out);
        let gap = out.iter().find(|e| matches!(e, TcpEvent::Gap { .. })).unwrap();
        assert_eq!(*gap, TcpEvent::Gap { conn: 0, direction: Direction::ClientToServer, offset: 4, len: 4 });
        let data: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                TcpEvent::Data { offset, bytes, .. } => Some((*offset, bytes.to_vec())),
                _ => None,
            })
            .collect();
        assert_eq!(data, vec![(0, b"aaaa".to_vec()), (8, b"cccc".to_vec())]);
    }

    #[test]
    fn a_lost_last_segment_is_a_gap_at_the_fin() {
        // Found by the `conversation` fuzz target: with nothing captured
        // after the lost segment, the hole went unreported.
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        handshake(&mut r, 100, 900, &mut out);
        r.segment(&seg(true, 101, Some(901), false, b"aaaa"), &mut out);
        // bbbb (offsets 4..8) lost; the FIN comes at offset 8.
        let mut fin = seg(true, 109, Some(901), false, b"");
        fin.fin = true;
        r.segment(&fin, &mut out);
        let gaps: Vec<_> = out.iter().filter(|e| matches!(e, TcpEvent::Gap { .. })).collect();
        assert_eq!(gaps, [&TcpEvent::Gap { conn: 0, direction: Direction::ClientToServer, offset: 4, len: 4 }]);
        // A retransmitted FIN changes nothing.
        r.segment(&fin, &mut out);
        assert_eq!(out.iter().filter(|e| matches!(e, TcpEvent::Gap { .. })).count(), 1);
    }

    #[test]
    fn holes_left_at_the_end_are_reported() {
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        handshake(&mut r, 0, 0, &mut out);
        r.segment(&seg(false, 11, None, false, b"xy"), &mut out);
        r.finish(&mut out);
        assert!(out.contains(&TcpEvent::Gap { conn: 0, direction: Direction::ServerToClient, offset: 0, len: 10 }));
        assert!(out.contains(&TcpEvent::Data {
            conn: 0,
            direction: Direction::ServerToClient,
            offset: 10,
            bytes: b"xy".to_vec().into()
        }));
    }

    #[test]
    fn a_connection_seen_from_the_middle() {
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        // The server (port 443) speaks first; roles come from the port.
        r.segment(&seg(false, 5000, Some(77), false, b"late"), &mut out);
        r.segment(&seg(true, 77, Some(5004), false, b"more"), &mut out);
        assert_eq!(
            out[0],
            TcpEvent::Opened { conn: 0, client: C.parse().unwrap(), server: S.parse().unwrap(), from_start: false }
        );
        assert_eq!(stream(&out, Direction::ServerToClient), b"late");
        assert_eq!(stream(&out, Direction::ClientToServer), b"more");
    }

    #[test]
    fn pending_bytes_are_bounded() {
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        handshake(&mut r, 0, 0, &mut out);
        let chunk = vec![0u8; 64 * 1024];
        for i in 0..(MAX_PENDING / chunk.len() + 2) {
            r.segment(&seg(true, 1 + 10 + (i * chunk.len()) as u32, None, false, &chunk), &mut out);
        }
        assert_eq!(r.stats().gaps, 1);
        assert!(out.iter().any(|e| matches!(e, TcpEvent::Gap { offset: 0, len: 10, .. })));
    }

    #[test]
    fn fin_and_rst_close() {
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        handshake(&mut r, 0, 0, &mut out);
        let mut fin = seg(true, 1, Some(1), false, b"bye");
        fin.fin = true;
        r.segment(&fin, &mut out);
        assert_eq!(out.last(), Some(&TcpEvent::Closed { conn: 0, direction: Direction::ClientToServer, reset: false }));
    }

    /// A connection's life: handshake, `data` from the client, FIN from
    /// both sides and the client's last ACK.
    fn conversation(
        r: &mut TcpReassembler,
        client: SocketAddr,
        isn: u32,
        data: &[u8],
        out: &mut Vec<TcpEvent<'static>>,
    ) {
        let server: SocketAddr = S.parse().unwrap();
        let mk = |from_client: bool, seq: u32, ack: Option<u32>, syn: bool, fin: bool, payload: &'static [u8]| {
            let (src, dst) = if from_client { (client, server) } else { (server, client) };
            TcpSegment { src, dst, seq, ack, syn, fin, rst: false, payload }
        };
        let end = isn.wrapping_add(1).wrapping_add(data.len() as u32);
        r.segment(&mk(true, isn, None, true, false, b""), out);
        r.segment(&mk(false, 500, Some(isn.wrapping_add(1)), true, false, b""), out);
        let mut d = mk(true, isn.wrapping_add(1), Some(501), false, false, b"");
        d.payload = data;
        r.segment(&d, out);
        r.segment(&mk(true, end, Some(501), false, true, b""), out);
        r.segment(&mk(false, 501, Some(end.wrapping_add(1)), false, true, b""), out);
        r.segment(&mk(true, end.wrapping_add(1), Some(502), false, false, b""), out);
    }

    #[test]
    fn closed_connections_are_forgotten() {
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        let n = CLOSED_KEPT + 500;
        for i in 0..n {
            let client = SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 40000));
            conversation(&mut r, client, i as u32, b"hello", &mut out);
            assert!(r.tracked_connections() <= CLOSED_KEPT, "{} connections held", r.tracked_connections());
        }
        r.finish(&mut out);
        assert_eq!(r.connection_count(), n);
        assert_eq!(r.tracked_connections(), CLOSED_KEPT);
        let opened = out.iter().filter(|e| matches!(e, TcpEvent::Opened { .. })).count();
        assert_eq!(opened, n, "a segment after both FINs opened a connection");
        assert!(out.iter().all(|e| !matches!(e, TcpEvent::Opened { from_start: false, .. })));
        let data = out.iter().filter(|e| matches!(e, TcpEvent::Data { bytes, .. } if &**bytes == b"hello")).count();
        assert_eq!(data, n);
    }

    #[test]
    fn the_endpoints_of_a_closed_connection_can_be_reused() {
        let client: SocketAddr = C.parse().unwrap();
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        conversation(&mut r, client, 1000, b"first", &mut out);
        // The client's SYN again (a retransmission) changes nothing.
        r.segment(&seg(true, 1000, None, true, b""), &mut out);
        assert_eq!(r.connection_count(), 1);
        // A new SYN on the same endpoints: a new connection.
        let mut reused = Vec::new();
        conversation(&mut r, client, 77_000, b"second", &mut reused);
        assert_eq!(r.connection_count(), 2);
        assert_eq!(reused[0], TcpEvent::Opened { conn: 1, client, server: S.parse().unwrap(), from_start: true });
        assert_eq!(stream(&reused, Direction::ClientToServer), b"second");
        assert!(reused.iter().all(|e| match e {
            TcpEvent::Opened { conn, .. } | TcpEvent::Data { conn, .. } | TcpEvent::Closed { conn, .. } => *conn == 1,
            TcpEvent::Gap { .. } | TcpEvent::Forgotten { .. } => false,
        }));
        // And once more after the connection was forgotten.
        for i in 0..CLOSED_KEPT {
            let other = SocketAddr::from(([10, 9, (i >> 8) as u8, i as u8], 40000));
            conversation(&mut r, other, 5, b"x", &mut Vec::new());
        }
        let mut third = Vec::new();
        conversation(&mut r, client, 9_000_000, b"third", &mut third);
        assert!(matches!(third[0], TcpEvent::Opened { conn, from_start: true, .. } if conn == CLOSED_KEPT + 2));
        assert_eq!(stream(&third, Direction::ClientToServer), b"third");
    }

    #[test]
    fn past_the_limit_the_least_recently_active_connections_are_forgotten() {
        let server: SocketAddr = S.parse().unwrap();
        let client = |i: usize| SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 40000 + (i >> 16) as u16));
        let syn = |i: usize| TcpSegment {
            src: client(i),
            dst: server,
            seq: i as u32,
            ack: None,
            syn: true,
            fin: false,
            rst: false,
            payload: b"",
        };
        let mut r = TcpReassembler::new();
        let mut out = Vec::new();
        // Connection 0 has bytes waiting behind a hole; connection 1 stays busy.
        r.segment(&syn(0), &mut out);
        let mut late = syn(0);
        (late.syn, late.seq, late.payload) = (false, 11, b"late");
        r.segment(&late, &mut out);
        for i in 1..MAX_CONNECTIONS {
            r.segment(&syn(i), &mut out);
        }
        let mut busy = syn(1);
        (busy.syn, busy.seq, busy.payload) = (false, 2, b"busy");
        r.segment(&busy, &mut out);
        assert_eq!(r.tracked_connections(), MAX_CONNECTIONS);
        assert!(!out.iter().any(|e| matches!(e, TcpEvent::Forgotten { .. })));

        // One more: the eighth active longest ago goes, its pending bytes
        // delivered after a gap first; the busy one stays.
        out.clear();
        r.segment(&syn(MAX_CONNECTIONS), &mut out);
        let forgotten: Vec<ConnId> =
            out.iter().filter_map(|e| if let TcpEvent::Forgotten { conn } = e { Some(*conn) } else { None }).collect();
        assert_eq!(forgotten.len(), MAX_CONNECTIONS / 8);
        assert_eq!(forgotten[0], 0);
        assert!(!forgotten.contains(&1));
        assert!(forgotten.iter().all(|&c| c < MAX_CONNECTIONS / 8 + 1));
        let gap = out.iter().position(|e| matches!(e, TcpEvent::Gap { conn: 0, offset: 0, len: 10, .. }));
        let data = out
            .iter()
            .position(|e| matches!(e, TcpEvent::Data { conn: 0, offset: 10, bytes, .. } if &**bytes == b"late"));
        let gone = out.iter().position(|e| matches!(e, TcpEvent::Forgotten { conn: 0 }));
        assert!(gap < data && data < gone && gap.is_some(), "{:?}", &out[..4]);
        assert_eq!(r.tracked_connections(), MAX_CONNECTIONS - MAX_CONNECTIONS / 8 + 1);
        assert_eq!(r.stats().forgotten_connections, (MAX_CONNECTIONS / 8) as u64);

        // A forgotten connection that speaks again is new, seen from the middle.
        out.clear();
        let mut again = syn(0);
        (again.syn, again.seq, again.payload) = (false, 15, b"again");
        r.segment(&again, &mut out);
        assert!(matches!(out[0], TcpEvent::Opened { conn, from_start: false, .. } if conn == MAX_CONNECTIONS + 1));
    }

    #[test]
    fn smaller_connection_limits_are_kept() {
        let server: SocketAddr = S.parse().unwrap();
        let client = |i: u8| SocketAddr::from(([10, 2, 0, i], 40000));
        let syn = |i: u8| TcpSegment {
            src: client(i),
            dst: server,
            seq: 100,
            ack: None,
            syn: true,
            fin: false,
            rst: false,
            payload: b"",
        };
        // Two connections held at most, no closed one kept.
        let mut r = TcpReassembler::new().with_connection_limits(2, 0);
        let mut out = Vec::new();
        r.segment(&syn(0), &mut out);
        r.segment(&syn(1), &mut out);
        assert_eq!(r.tracked_connections(), 2);
        // A third: the one active longest ago (connection 0) is forgotten.
        r.segment(&syn(2), &mut out);
        assert_eq!(r.tracked_connections(), 2);
        assert_eq!(out.iter().filter(|e| matches!(e, TcpEvent::Forgotten { .. })).count(), 1);
        assert_eq!(out[2], TcpEvent::Forgotten { conn: 0 });
        assert_eq!(r.stats().forgotten_connections, 1);
        // Connection 2 closes on both sides: with none kept, it is dropped
        // at once, and its next segment opens connection 3, from the middle.
        let mut fin = syn(2);
        (fin.syn, fin.fin, fin.seq) = (false, true, 101);
        r.segment(&fin, &mut out);
        let reply = TcpSegment { src: server, dst: client(2), seq: 900, ..fin };
        r.segment(&reply, &mut out);
        assert_eq!(r.tracked_connections(), 1);
        out.clear();
        let mut late = syn(2);
        (late.syn, late.seq, late.payload) = (false, 102, b"late");
        r.segment(&late, &mut out);
        assert!(matches!(out[0], TcpEvent::Opened { conn: 3, from_start: false, .. }), "{out:?}");
        // A connection closed on both sides and among the least active is
        // dropped when the limit is reached, but not reported as forgotten
        // while open: its Closed events said how it ended.
        let mut r = TcpReassembler::new().with_connection_limits(2, 5);
        let mut out = Vec::new();
        r.segment(&syn(0), &mut out);
        let mut fin = syn(0);
        (fin.syn, fin.fin, fin.seq) = (false, true, 101);
        r.segment(&fin, &mut out);
        r.segment(&TcpSegment { src: server, dst: client(0), seq: 900, ..fin }, &mut out);
        r.segment(&syn(1), &mut out);
        out.clear();
        r.segment(&syn(2), &mut out);
        assert_eq!(r.tracked_connections(), 2);
        assert!(!out.iter().any(|e| matches!(e, TcpEvent::Forgotten { .. })), "{out:?}");
        assert_eq!(r.stats().forgotten_connections, 0);
        // A limit of 0 connections means 1.
        let mut one = TcpReassembler::new().with_connection_limits(0, 0);
        one.segment(&syn(0), &mut Vec::new());
        assert_eq!(one.tracked_connections(), 1);
    }
}
