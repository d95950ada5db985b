//! Capture files: pcap and pcapng records, and the TCP segments inside them.
//!
//! [`read_capture`] streams a legacy pcap (either byte order, micro- or
//! nanosecond timestamps) or a pcapng file (any number of sections and
//! interfaces) through pcap-parser's buffered reader, so memory stays flat
//! however long the file is, and calls back once per packet. It is the only
//! part of the pipeline that reads; it reads from any `Read`, so a pipe or
//! standard input works the same as a file.
//!
//! [`decode_packet`] is pure: it takes a packet's link type and bytes and
//! returns the TCP segment inside (Ethernet with VLAN tags, Linux SLL and
//! SLL2, raw IPv4/IPv6, BSD null/loopback; IP and TCP via etherparse), or
//! says why there is none.

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

/// The link type of [`Packet::linktype`] and [`decode_packet`], re-exported
/// so that callers can name it without depending on pcap-parser themselves.
pub use pcap_parser::Linktype;

/// How much the reader reads at once from a long capture: its buffer
/// doubles from [`FIRST_BUFFER`] to this size while reads keep filling it,
/// and grows past it only for larger records.
pub const INITIAL_BUFFER: usize = 1 << 16;
/// The reader's first buffer. A capture that fits in it (a test's, a
/// fuzzer's, a short trace) never costs the full-size buffer, zeroed; a
/// long one reaches [`INITIAL_BUFFER`] after four reads. (Allocating and
/// zeroing 64 KiB for every capture was a fortieth of the conversation
/// fuzz target's time under AddressSanitizer.)
pub const FIRST_BUFFER: usize = 4 << 10;
/// The largest record accepted (a jumbo snapshot length is 256 KiB; some
/// tools write up to 16 MiB).
pub const MAX_RECORD: usize = 32 << 20;

/// A packet as the capture file holds it.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// 1-based packet number, as Wireshark counts.
    pub number: u64,
    /// Capture time in nanoseconds since the Unix epoch.
    pub time_ns: i128,
    pub linktype: Linktype,
    /// The captured bytes (maybe fewer than were on the wire).
    pub data: &'a [u8],
    /// Length on the wire.
    pub orig_len: u32,
    /// pcapng interface id (0 for legacy pcap).
    pub interface: u32,
}

/// Something the capture reader wants the user to know, without stopping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureWarning {
    /// Byte offset of the record in the file.
    pub file_offset: u64,
    pub message: String,
}

impl fmt::Display for CaptureWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "capture byte {}: {}", self.file_offset, self.message)
    }
}

/// Why a capture could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// Neither pcap nor pcapng.
    NotACapture(String),
    /// The input could not be read.
    Io(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NotACapture(m) => write!(f, "not a pcap or pcapng capture: {m}"),
            CaptureError::Io(m) => write!(f, "cannot read the capture: {m}"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// What was read, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureStats {
    pub format: &'static str,
    pub packets: u64,
    pub sections: u64,
    pub interfaces: u64,
    /// The file ended inside a record.
    pub truncated: bool,
    pub bytes: u64,
    /// The largest read buffer used. It grows only when a read filled it
    /// (up to the read size) or when a record does not fit in what is
    /// buffered, so it stays within twice the bytes read: a length field
    /// alone never makes the reader allocate.
    pub buffer_peak: usize,
}

/// One pcapng interface: its link type and timestamp unit.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: Linktype,
    /// Units per second.
    resolution: u64,
    offset_secs: i64,
}

/// What takes the packets and warnings of a capture as they are read.
/// One value receives both, so that a consumer with state (the capture
/// pipeline) needs no shared cell between two callbacks.
pub trait CaptureSink {
    fn packet(&mut self, packet: &Packet<'_>);
    fn warning(&mut self, warning: CaptureWarning);
    /// Whether to read on: false stops before the next record (a reader
    /// that went away, say), with the stats of what was read.
    fn wants_more(&self) -> bool {
        true
    }
}

/// Read every packet of a capture, calling `on_packet` for each and
/// `on_warning` for what is odd but not fatal. The callbacks run as records
/// arrive, so a live pipe is decoded as it is written.
pub fn read_capture<R: Read>(
    input: R,
    on_packet: impl FnMut(&Packet<'_>),
    on_warning: impl FnMut(CaptureWarning),
) -> Result<CaptureStats, CaptureError> {
    struct Callbacks<P, W>(P, W);
    impl<P: FnMut(&Packet<'_>), W: FnMut(CaptureWarning)> CaptureSink for Callbacks<P, W> {
        fn packet(&mut self, packet: &Packet<'_>) {
            (self.0)(packet);
        }
        fn warning(&mut self, warning: CaptureWarning) {
            (self.1)(warning);
        }
    }
    read_capture_into(input, &mut Callbacks(on_packet, on_warning))
}

/// [`read_capture`] with one sink for packets and warnings.
pub fn read_capture_into<R: Read>(input: R, sink: &mut impl CaptureSink) -> Result<CaptureStats, CaptureError> {
    read_capture_buffered(input, INITIAL_BUFFER, sink)
}

/// [`read_capture_into`] reading up to `initial_buffer` bytes at once
/// (at least [`INITIAL_BUFFER`]): the buffer starts at [`FIRST_BUFFER`]
/// and doubles while reads fill it, up to that size, so a larger one means
/// fewer, larger reads of a long capture (it still grows for larger
/// records, up to [`MAX_RECORD`]). The threaded pipeline reads this way,
/// and hands its workers what it holds before each read.
pub fn read_capture_buffered<R: Read>(
    input: R,
    initial_buffer: usize,
    sink: &mut impl CaptureSink,
) -> Result<CaptureStats, CaptureError> {
    let read_size = initial_buffer.clamp(INITIAL_BUFFER, MAX_RECORD);
    let (mut reader, mut buffer_size, is_pcapng, last_error) = open_reader(input, FIRST_BUFFER)?;
    // A read error, in the words of the input that failed.
    let read_error = |e: &PcapError<&[u8]>| match (e, last_error.borrow_mut().take()) {
        (PcapError::ReadError, Some(message)) => CaptureError::Io(message),
        _ => CaptureError::Io(describe(e)),
    };
    // The byte order of the current pcapng section, once its header is seen.
    let mut ng_big_endian: Option<bool> = None;
    let mut stats = CaptureStats::default();
    let mut legacy_link = Linktype::ETHERNET;
    let mut legacy_nanos = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    while sink.wants_more() {
        if is_pcapng {
            if let Some(problem) = pcapng_block_problem(reader.data(), &mut ng_big_endian) {
                sink.warning(CaptureWarning {
                    file_offset: stats.bytes,
                    message: format!("damaged record ({problem}); the rest of the file is skipped"),
                });
                stats.truncated = true;
                break;
            }
        }
        match reader.next() {
            Ok((len, block)) => {
                let file_offset = stats.bytes;
                match block {
                    PcapBlockOwned::LegacyHeader(header) => {
                        stats.format = "pcap";
                        legacy_link = header.network;
                        legacy_nanos = header.is_nanosecond_precision();
                        stats.interfaces = 1;
                    }
                    PcapBlockOwned::Legacy(b) => {
                        stats.packets += 1;
                        let frac = u64::from(b.ts_usec) * if legacy_nanos { 1 } else { 1000 };
                        let data = &b.data[..b.data.len().min(b.caplen as usize)];
                        sink.packet(&Packet {
                            number: stats.packets,
                            time_ns: i128::from(b.ts_sec) * 1_000_000_000 + i128::from(frac),
                            linktype: legacy_link,
                            data,
                            orig_len: b.origlen,
                            interface: 0,
                        });
                    }
                    PcapBlockOwned::NG(block) => {
                        stats.format = "pcapng";
                        match block {
                            Block::SectionHeader(_) => {
                                // Interface ids are per section.
                                interfaces.clear();
                                stats.sections += 1;
                            }
                            Block::InterfaceDescription(idb) => {
                                stats.interfaces += 1;
                                let resolution = units_per_second(idb.if_tsresol).unwrap_or_else(|| {
                                    sink.warning(CaptureWarning {
                                        file_offset,
                                        message: format!(
                                            "interface {} has an invalid timestamp resolution {}; assuming microseconds",
                                            interfaces.len(),
                                            idb.if_tsresol
                                        ),
                                    });
                                    1_000_000
                                });
                                interfaces.push(Interface {
                                    linktype: idb.linktype,
                                    resolution,
                                    offset_secs: idb.if_tsoffset,
                                });
                            }
                            Block::EnhancedPacket(epb) => {
                                stats.packets += 1;
                                let Some(iface) = interfaces.get(epb.if_id as usize).copied() else {
                                    sink.warning(CaptureWarning {
                                        file_offset,
                                        message: format!(
                                            "packet {} names interface {}, which was not described; skipped",
                                            stats.packets, epb.if_id
                                        ),
                                    });
                                    stats.bytes += len as u64;
                                    reader.consume(len);
                                    continue;
                                };
                                let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                let secs = i128::from(ts / iface.resolution) + i128::from(iface.offset_secs);
                                let frac =
                                    i128::from(ts % iface.resolution) * 1_000_000_000 / i128::from(iface.resolution);
                                let data = &epb.data[..epb.data.len().min(epb.caplen as usize)];
                                sink.packet(&Packet {
                                    number: stats.packets,
                                    time_ns: secs * 1_000_000_000 + frac,
                                    linktype: iface.linktype,
                                    data,
                                    orig_len: epb.origlen,
                                    interface: epb.if_id,
                                });
                            }
                            Block::SimplePacket(spb) => {
                                stats.packets += 1;
                                // A simple packet has no timestamp and
                                // belongs to interface 0.
                                let linktype = interfaces.first().map_or(Linktype::ETHERNET, |i| i.linktype);
                                sink.packet(&Packet {
                                    number: stats.packets,
                                    time_ns: 0,
                                    linktype,
                                    // Its block pads the packet to 4 bytes; the
                                    // original length ends it.
                                    data: &spb.data[..spb.data.len().min(spb.origlen as usize)],
                                    orig_len: spb.origlen,
                                    interface: 0,
                                });
                            }
                            _ => {}
                        }
                    }
                }
                stats.bytes += len as u64;
                reader.consume(len);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if let Err(e) = reader.refill() {
                    return Err(read_error(&e));
                }
                if reader.reader_exhausted() && reader.data().is_empty() {
                    break;
                }
                // The read filled the buffer: the capture is longer than it,
                // so read more at once next time (bytes that arrived, not a
                // length field, make it grow).
                if reader.data().len() >= buffer_size && buffer_size < read_size {
                    buffer_size = (buffer_size * 2).min(read_size);
                    reader.grow(buffer_size);
                }
            }
            Err(PcapError::BufferTooSmall) => {
                // pcap-parser says so as soon as a record's length field
                // claims more than the buffer holds. Fill the buffer before
                // believing it: growing on the claim alone would let a few
                // bytes of a hostile (or slowly arriving) file reserve
                // MAX_RECORD bytes.
                if reader.data().len() < buffer_size {
                    if let Err(e) = reader.refill() {
                        return Err(read_error(&e));
                    }
                    continue;
                }
                if buffer_size >= MAX_RECORD {
                    sink.warning(CaptureWarning {
                        file_offset: stats.bytes,
                        message: format!("a record larger than {MAX_RECORD} bytes; the rest of the file is skipped"),
                    });
                    stats.truncated = true;
                    break;
                }
                buffer_size = (buffer_size * 2).min(MAX_RECORD);
                reader.grow(buffer_size);
                if let Err(e) = reader.refill() {
                    return Err(read_error(&e));
                }
            }
            Err(PcapError::UnexpectedEof) => {
                stats.truncated = true;
                sink.warning(CaptureWarning {
                    file_offset: stats.bytes,
                    message: "the capture ends inside a record (truncated file)".into(),
                });
                break;
            }
            Err(e @ PcapError::ReadError) => return Err(read_error(&e)),
            Err(e) => {
                // A damaged record: nothing after it can be found reliably.
                sink.warning(CaptureWarning {
                    file_offset: stats.bytes,
                    message: format!("damaged record ({}); the rest of the file is skipped", describe(&e)),
                });
                stats.truncated = true;
                break;
            }
        }
    }
    if stats.format.is_empty() {
        // Stopped before the file header's record was taken.
        stats.format = if is_pcapng { "pcapng" } else { "pcap" };
    }
    // The buffer only grows, so its last size is its peak.
    stats.buffer_peak = buffer_size;
    Ok(stats)
}

/// The timestamp units per second of a pcapng `if_tsresol`: a negative
/// power of 10, or of 2 when its high bit is set; `None` when that does not
/// fit 64 bits. (pcap-parser 0.17's `build_ts_resolution` compares the
/// power of 2 with its high bit still set, so it refuses every one.)
fn units_per_second(tsresol: u8) -> Option<u64> {
    let power = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(power)
    } else {
        1u64.checked_shl(power)
    }
}

/// A pcapng block whose length field cannot be right (below the 12 bytes of
/// type and both lengths, or not a multiple of 4). Checked here because
/// pcap-parser 0.17 subtracts 12 from lengths it only compared with smaller
/// per-block minimums (4 for a process information block): that underflows,
/// a panic in a build with overflow checks and a misread block without.
/// `data` starts at the next block; `big_endian` follows the section headers.
fn pcapng_block_problem(data: &[u8], big_endian: &mut Option<bool>) -> Option<String> {
    let word = |at: usize| [data[at], data[at + 1], data[at + 2], data[at + 3]];
    // pcap-parser reads the length as soon as 8 bytes are there (a pipe may
    // deliver no more), so this must judge a block from 8 bytes too.
    if data.len() < 8 {
        return None;
    }
    if u32::from_le_bytes(word(0)) == 0x0a0d_0d0a {
        // A section header's byte order is in its bytes 8..12; without them
        // pcap-parser waits for more (it needs 28 bytes) before reading it.
        if data.len() < 12 {
            return None;
        }
        match word(8) {
            [0x4d, 0x3c, 0x2b, 0x1a] => *big_endian = Some(false),
            [0x1a, 0x2b, 0x3c, 0x4d] => *big_endian = Some(true),
            // pcap-parser reports an unknown byte-order magic itself.
            _ => return None,
        }
    }
    let len = match (*big_endian)? {
        true => u32::from_be_bytes(word(4)),
        false => u32::from_le_bytes(word(4)),
    };
    (len < 12 || len % 4 != 0).then(|| format!("a pcapng block claims a length of {len} bytes"))
}

/// Read the file header ourselves (a pipe may deliver it in pieces, and
/// pcap-parser wants it whole in its first read), then hand the reader over
/// with the size of its buffer.
/// The reader, the size of its buffer, and whether the file is pcapng.
type Opened<'r> = (Box<dyn PcapReaderIterator + 'r>, usize, bool, LastError);

fn open_reader<'r, R: Read + 'r>(mut input: R, initial_buffer: usize) -> Result<Opened<'r>, CaptureError> {
    let mut head = vec![0u8; 12];
    let got = read_full(&mut input, &mut head)?;
    if got == 0 {
        return Err(CaptureError::NotACapture("the input is empty".into()));
    }
    if got < 12 {
        return Err(CaptureError::NotACapture("the input ends inside the file header".into()));
    }
    let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let header_len = match magic {
        0x0a0d_0d0a => {
            // The section header's length, in the byte order its magic shows.
            let len_bytes = [head[4], head[5], head[6], head[7]];
            let len = match [head[8], head[9], head[10], head[11]] {
                [0x4d, 0x3c, 0x2b, 0x1a] => u32::from_le_bytes(len_bytes),
                [0x1a, 0x2b, 0x3c, 0x4d] => u32::from_be_bytes(len_bytes),
                _ => {
                    return Err(CaptureError::NotACapture(
                        "pcapng section header with an unknown byte-order magic".into(),
                    ))
                }
            } as usize;
            if !(28..=MAX_RECORD).contains(&len) {
                return Err(CaptureError::NotACapture(format!("pcapng section header of {len} bytes")));
            }
            len
        }
        0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 => 24,
        _ => {
            return Err(CaptureError::NotACapture(format!(
                "unknown file header {:02x} {:02x} {:02x} {:02x}",
                head[0], head[1], head[2], head[3]
            )))
        }
    };
    // The length is only a claim until the bytes arrive: read up to it,
    // letting the buffer grow with what actually comes.
    let wanted = (header_len - 12) as u64;
    if let Err(e) = input.by_ref().take(wanted).read_to_end(&mut head) {
        return Err(CaptureError::Io(e.to_string()));
    }
    if head.len() < header_len {
        return Err(CaptureError::NotACapture("the input ends inside the file header".into()));
    }
    let capacity = initial_buffer.max(header_len * 2);
    // pcap-parser turns every read error into one it cannot retry, so an
    // interrupted read (a signal while a pipe is read) is retried here.
    let error = LastError::default();
    let chained = Retrying { input: std::io::Cursor::new(head).chain(input), error: error.clone() };
    let reader: Result<Box<dyn PcapReaderIterator + 'r>, _> = if magic == 0x0a0d_0d0a {
        PcapNGReader::new(capacity, chained).map(|r| Box::new(r) as Box<dyn PcapReaderIterator>)
    } else {
        LegacyPcapReader::new(capacity, chained).map(|r| Box::new(r) as Box<dyn PcapReaderIterator>)
    };
    let is_pcapng = magic == 0x0a0d_0d0a;
    reader.map(|r| (r, capacity, is_pcapng, error)).map_err(|e| CaptureError::NotACapture(describe(&e)))
}

/// A reader that retries reads that were interrupted before reading
/// anything, and keeps the last error's message for the line that reports
/// it (pcap-parser replaces every read error with one that says only "read
/// error").
struct Retrying<R> {
    input: R,
    error: LastError,
}

/// Where [`Retrying`] leaves the message of the read error it passed on.
type LastError = std::rc::Rc<std::cell::RefCell<Option<String>>>;

impl<R: Read> Read for Retrying<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.input.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    *self.error.borrow_mut() = Some(e.to_string());
                    return Err(e);
                }
                other => return other,
            }
        }
    }
}

/// Fill `buf` unless the input ends first; the count read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, CaptureError> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CaptureError::Io(e.to_string())),
        }
    }
    Ok(got)
}

/// The words of a pcap-parser error in a message: a file header it does
/// not recognise, a malformed record, or a read error that left no message
/// of the input's. The end of the input, a record larger than the buffer and
/// a record cut short are handled by the reading loop, and `open_reader`
/// has the whole file header before pcap-parser reads it, so none of those
/// is ever described (their own arms here were never reached, by any test
/// or corpus, and were removed on 2026-12-06).
fn describe<I>(e: &PcapError<I>) -> String {
    match e {
        PcapError::ReadError => "read error".into(),
        PcapError::HeaderNotRecognized => "unknown file header".into(),
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => format!("malformed ({kind:?})"),
        _ => "unexpected pcap-parser error".into(),
    }
}

/// A TCP segment from a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
}

/// Why a packet holds no usable TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotTcp {
    /// Another protocol (UDP, ARP, ...): skipped silently.
    OtherProtocol,
    /// An IP fragment: reassembly is not supported, so it is reported.
    Fragment,
    /// A link type this tool does not read.
    UnsupportedLink(i32),
    /// Malformed headers: reported with the reason.
    Malformed(String),
}

impl fmt::Display for NotTcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotTcp::OtherProtocol => f.write_str("not TCP"),
            NotTcp::Fragment => f.write_str(
                "an IP fragment (fragment reassembly is not supported; its bytes are missing from the stream)",
            ),
            NotTcp::UnsupportedLink(l) => write!(f, "link type {l} is not supported"),
            NotTcp::Malformed(m) => write!(f, "malformed packet: {m}"),
        }
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// The TCP segment in a packet of link type `linktype`.
pub fn decode_packet(linktype: Linktype, data: &[u8]) -> Result<TcpSegment<'_>, NotTcp> {
    let sliced = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        Linktype::LINUX_SLL2 => {
            // SLL2: protocol type (2, big endian) first, 20-byte header.
            if data.len() < 20 {
                return Err(NotTcp::Malformed(format!("SLL2 header needs 20 bytes, found {}", data.len())));
            }
            let proto = u16::from_be_bytes([data[0], data[1]]);
            if proto != ETHERTYPE_IPV4 && proto != ETHERTYPE_IPV6 {
                return Err(NotTcp::OtherProtocol);
            }
            SlicedPacket::from_ip(&data[20..])
        }
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => SlicedPacket::from_ip(data),
        Linktype::NULL | Linktype::LOOP => {
            // A 4-byte address family: host order for NULL (either), network
            // order for LOOP. AF_INET is 2 everywhere; AF_INET6 varies (10,
            // 24, 28, 30), so the IP version nibble decides.
            if data.len() < 4 {
                return Err(NotTcp::Malformed(format!("loopback header needs 4 bytes, found {}", data.len())));
            }
            let le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            let be = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            let family = if le < 256 { le } else { be };
            if ![2, 10, 24, 28, 30].contains(&family) {
                return Err(NotTcp::OtherProtocol);
            }
            SlicedPacket::from_ip(&data[4..])
        }
        other => return Err(NotTcp::UnsupportedLink(other.0)),
    };
    let sliced = sliced.map_err(|e| NotTcp::Malformed(e.to_string()))?;
    let (src_ip, dst_ip, fragmented): (IpAddr, IpAddr, bool) = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => {
            (ip.header().source_addr().into(), ip.header().destination_addr().into(), ip.is_payload_fragmented())
        }
        Some(NetSlice::Ipv6(ip)) => {
            (ip.header().source_addr().into(), ip.header().destination_addr().into(), ip.is_payload_fragmented())
        }
        _ => return Err(NotTcp::OtherProtocol),
    };
    if fragmented {
        return Err(NotTcp::Fragment);
    }
    let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
        return Err(NotTcp::OtherProtocol);
    };
    Ok(TcpSegment {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.ack().then(|| tcp.acknowledgment_number()),
        syn: tcp.syn(),
        fin: tcp.fin(),
        rst: tcp.rst(),
        payload: tcp.payload(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal capture writer for tests: legacy pcap in either byte order
    /// and precision, and pcapng with several interfaces and sections.
    pub struct PcapWriter {
        pub out: Vec<u8>,
        big_endian: bool,
        nanos: bool,
    }

    impl PcapWriter {
        pub fn legacy(linktype: i32, big_endian: bool, nanos: bool) -> Self {
            let mut w = PcapWriter { out: Vec::new(), big_endian, nanos };
            let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
            w.u32(magic);
            w.u16(2);
            w.u16(4);
            w.u32(0);
            w.u32(0);
            w.u32(262_144);
            w.u32(linktype as u32);
            w
        }

        fn u32(&mut self, v: u32) {
            let b = if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
            self.out.extend_from_slice(&b);
        }

        fn u16(&mut self, v: u16) {
            let b = if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
            self.out.extend_from_slice(&b);
        }

        pub fn packet(&mut self, time_ns: u64, data: &[u8]) {
            self.u32((time_ns / 1_000_000_000) as u32);
            let frac = time_ns % 1_000_000_000;
            self.u32(if self.nanos { frac } else { frac / 1000 } as u32);
            self.u32(data.len() as u32);
            self.u32(data.len() as u32);
            self.out.extend_from_slice(data);
        }

        /// A pcapng section header block (little endian).
        pub fn ng_section(out: &mut Vec<u8>) {
            let body =
                [0x1a2b_3c4du32.to_le_bytes().to_vec(), vec![1, 0, 0, 0], (-1i64).to_le_bytes().to_vec()].concat();
            ng_block(out, 0x0a0d0d0a, &body);
        }

        /// An interface description block; `tsresol` 9 means nanoseconds.
        pub fn ng_interface(out: &mut Vec<u8>, linktype: u16, tsresol: Option<u8>) {
            let mut body = Vec::new();
            body.extend_from_slice(&linktype.to_le_bytes());
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(&0u32.to_le_bytes());
            if let Some(r) = tsresol {
                body.extend_from_slice(&9u16.to_le_bytes());
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&[r, 0, 0, 0]);
                body.extend_from_slice(&[0, 0, 0, 0]);
            }
            ng_block(out, 1, &body);
        }

        pub fn ng_packet(out: &mut Vec<u8>, if_id: u32, ts: u64, data: &[u8]) {
            let mut body = Vec::new();
            body.extend_from_slice(&if_id.to_le_bytes());
            body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
            body.extend_from_slice(&(ts as u32).to_le_bytes());
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            while body.len() % 4 != 0 {
                body.push(0);
            }
            ng_block(out, 6, &body);
        }
    }

    fn ng_block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&len.to_le_bytes());
    }

    /// An IPv4 or IPv6 TCP packet (no link header).
    pub fn ip_tcp(
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        ack: Option<u32>,
        flags: (bool, bool, bool),
        payload: &[u8],
    ) -> Vec<u8> {
        let (syn, fin, rst) = flags;
        let builder = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => etherparse::PacketBuilder::ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => etherparse::PacketBuilder::ipv6(s.octets(), d.octets(), 64),
            _ => panic!("mixed address families"),
        };
        let mut b = builder.tcp(src.port(), dst.port(), seq, 65535);
        if syn {
            b = b.syn();
        }
        if fin {
            b = b.fin();
        }
        if rst {
            b = b.rst();
        }
        if let Some(a) = ack {
            b = b.ack(a);
        }
        let mut out = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut out, payload).unwrap();
        out
    }

    /// Wrap an IP packet in a link header.
    pub fn with_link(linktype: i32, ip: &[u8], vlan: bool) -> Vec<u8> {
        let v6 = ip[0] >> 4 == 6;
        let ethertype: u16 = if v6 { 0x86dd } else { 0x0800 };
        let mut out = Vec::new();
        match linktype {
            1 => {
                out.extend_from_slice(&[0; 12]);
                if vlan {
                    out.extend_from_slice(&0x8100u16.to_be_bytes());
                    out.extend_from_slice(&42u16.to_be_bytes());
                }
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            113 => {
                out.extend_from_slice(&[0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            276 => {
                out.extend_from_slice(&ethertype.to_be_bytes());
                out.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
            }
            0 => out.extend_from_slice(&(if v6 { 30u32 } else { 2 }).to_le_bytes()),
            108 => out.extend_from_slice(&(if v6 { 24u32 } else { 2 }).to_be_bytes()),
            _ => {}
        }
        out.extend_from_slice(ip);
        out
    }

    fn addrs(v6: bool) -> (SocketAddr, SocketAddr) {
        if v6 {
            ("[::1]:50000".parse().unwrap(), "[2001:db8::1]:443".parse().unwrap())
        } else {
            ("10.0.0.1:50000".parse().unwrap(), "149.154.167.50:443".parse().unwrap())
        }
    }

    #[test]
    fn every_link_type_and_ip_version() {
        for linktype in [1, 113, 276, 0, 108, 101, 228, 229] {
            for v6 in [false, true] {
                if (linktype == 228 && v6) || (linktype == 229 && !v6) {
                    continue;
                }
                let (a, b) = addrs(v6);
                let ip = ip_tcp(a, b, 1000, Some(5), (false, false, false), b"hello");
                let pkt = with_link(linktype, &ip, linktype == 1);
                let seg = decode_packet(Linktype(linktype), &pkt).unwrap_or_else(|e| panic!("{linktype} {v6}: {e}"));
                assert_eq!((seg.src, seg.dst, seg.seq, seg.payload), (a, b, 1000, &b"hello"[..]));
                assert_eq!(seg.ack, Some(5));
            }
        }
        assert_eq!(decode_packet(Linktype(147), &[0; 40]), Err(NotTcp::UnsupportedLink(147)));
        assert!(matches!(decode_packet(Linktype::ETHERNET, &[0; 5]), Err(NotTcp::Malformed(_))));
        assert!(matches!(decode_packet(Linktype::LINUX_SLL2, &[0; 5]), Err(NotTcp::Malformed(_))));
    }

    #[test]
    fn fragments_are_reported() {
        let (a, b) = addrs(false);
        let mut ip = ip_tcp(a, b, 1, None, (false, false, false), b"abcdefgh");
        ip[6] |= 0x20; // more fragments
                       // Recompute nothing: etherparse does not check the IPv4 checksum.
        assert_eq!(decode_packet(Linktype::RAW, &ip), Err(NotTcp::Fragment));
    }

    /// Number, time, link type, length and interface of each packet.
    type Seen = Vec<(u64, i128, i32, usize, u32)>;

    fn collect(bytes: &[u8]) -> (Result<CaptureStats, CaptureError>, Seen, Vec<String>) {
        let mut packets = Vec::new();
        let mut warnings = Vec::new();
        let r = read_capture(
            bytes,
            |p| packets.push((p.number, p.time_ns, p.linktype.0, p.data.len(), p.interface)),
            |w| warnings.push(w.to_string()),
        );
        (r, packets, warnings)
    }

    #[test]
    fn legacy_pcap_in_both_byte_orders_and_precisions() {
        for big_endian in [false, true] {
            for nanos in [false, true] {
                let mut w = PcapWriter::legacy(101, big_endian, nanos);
                w.packet(1_700_000_000_123_456_789, &[0x45; 30]);
                w.packet(1_700_000_001_000_001_000, &[0x45; 3000]);
                let (r, p, warnings) = collect(&w.out);
                let stats = r.unwrap();
                assert_eq!(stats.packets, 2);
                assert!(warnings.is_empty());
                let first = if nanos { 1_700_000_000_123_456_789 } else { 1_700_000_000_123_456_000 };
                assert_eq!(p[0], (1, first, 101, 30, 0), "{big_endian} {nanos}");
                assert_eq!(p[1].3, 3000);
            }
        }
    }

    #[test]
    fn pcapng_with_several_sections_and_interfaces() {
        let mut out = Vec::new();
        PcapWriter::ng_section(&mut out);
        PcapWriter::ng_interface(&mut out, 1, None);
        PcapWriter::ng_interface(&mut out, 113, Some(9));
        PcapWriter::ng_packet(&mut out, 0, 1_700_000_000_000_001, &[1; 10]);
        PcapWriter::ng_packet(&mut out, 1, 1_700_000_000_000_000_002, &[2; 11]);
        PcapWriter::ng_packet(&mut out, 7, 5, &[3; 12]);
        PcapWriter::ng_section(&mut out);
        PcapWriter::ng_interface(&mut out, 276, None);
        PcapWriter::ng_packet(&mut out, 0, 1_700_000_000_000_003, &[4; 13]);
        let (r, p, warnings) = collect(&out);
        let stats = r.unwrap();
        assert_eq!((stats.format, stats.sections, stats.interfaces, stats.packets), ("pcapng", 2, 3, 4));
        assert_eq!(p[0], (1, 1_700_000_000_000_001_000, 1, 10, 0));
        assert_eq!(p[1], (2, 1_700_000_000_000_000_002, 113, 11, 1));
        assert_eq!(p[2], (4, 1_700_000_000_000_003_000, 276, 13, 0));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("interface 7"), "{warnings:?}");
    }

    #[test]
    fn truncated_and_foreign_files() {
        let mut w = PcapWriter::legacy(1, false, false);
        w.packet(0, &[0; 100]);
        let cut = &w.out[..w.out.len() - 10];
        let (r, p, warnings) = collect(cut);
        assert!(r.unwrap().truncated);
        assert!(p.is_empty());
        assert!(warnings[0].contains("truncated"), "{warnings:?}");

        assert!(matches!(collect(b"hello, world, this is not a capture").0, Err(CaptureError::NotACapture(_))));
        assert!(matches!(collect(b"").0, Err(CaptureError::NotACapture(_))));
    }

    #[test]
    fn a_record_length_alone_does_not_grow_the_buffer() {
        // A record claiming 30 MB with 10 bytes behind it: the file is
        // truncated, and the buffer never outgrows what was read.
        let mut w = PcapWriter::legacy(101, false, false);
        w.packet(0, &[0x45; 10]);
        let at = w.out.len() - 10 - 8;
        w.out[at..at + 8].copy_from_slice(&[0x80, 0xc3, 0xc9, 0x01, 0x80, 0xc3, 0xc9, 0x01]);
        let (r, p, warnings) = collect(&w.out);
        let stats = r.unwrap();
        assert!(stats.truncated && p.is_empty(), "{stats:?} {warnings:?}");
        assert_eq!(stats.buffer_peak, FIRST_BUFFER);
        // A pcapng section header claiming 32 MiB, 12 bytes present.
        let mut ng = 0x0a0d_0d0au32.to_le_bytes().to_vec();
        ng.extend_from_slice(&((32u32 << 20) - 4).to_le_bytes());
        ng.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        assert!(matches!(collect(&ng).0, Err(CaptureError::NotACapture(_))));
    }

    #[test]
    fn reads_grow_from_the_first_buffer_only_while_they_fill_it() {
        struct Count(u64);
        impl CaptureSink for Count {
            fn packet(&mut self, _: &Packet<'_>) {
                self.0 += 1;
            }
            fn warning(&mut self, w: CaptureWarning) {
                panic!("{w}");
            }
        }
        let capture = |packets: usize| {
            let mut w = PcapWriter::legacy(101, false, false);
            for i in 0..packets {
                w.packet(0, &[i as u8; 1000]);
            }
            w.out
        };
        // A short capture stays in the first buffer.
        let short = capture(3);
        let stats = read_capture_into(&short[..], &mut Count(0)).unwrap();
        assert_eq!((stats.packets, stats.buffer_peak), (3, FIRST_BUFFER));
        // A long one doubles it up to the read size, and no further.
        let long = capture(400);
        let mut count = Count(0);
        let stats = read_capture_into(&long[..], &mut count).unwrap();
        assert_eq!((stats.packets, count.0, stats.buffer_peak), (400, 400, INITIAL_BUFFER));
        // A larger read size is reached the same way.
        let longer = capture(1200);
        let stats = read_capture_buffered(&longer[..], 4 * INITIAL_BUFFER, &mut Count(0)).unwrap();
        assert_eq!((stats.packets, stats.buffer_peak), (1200, 4 * INITIAL_BUFFER));
        // From a pipe that delivers 100 bytes at a time, a read never
        // fills the buffer.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(100);
                self.0.read(&mut buf[..n])
            }
        }
        let stats = read_capture_into(Trickle(&long), &mut Count(0)).unwrap();
        assert_eq!((stats.packets, stats.buffer_peak), (400, FIRST_BUFFER));
    }

    #[test]
    fn large_records_grow_the_buffer() {
        let mut w = PcapWriter::legacy(101, false, false);
        w.packet(0, &vec![0x45; 200_000]);
        w.packet(0, &[0x45; 20]);
        let (r, p, _) = collect(&w.out);
        assert_eq!(r.unwrap().packets, 2);
        assert_eq!(p[0].3, 200_000);
    }

    #[test]
    fn the_real_captures_read() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/captures/");
        for name in ["abridged.pcap", "obfuscated_intermediate.pcap"] {
            let path = format!("{dir}{name}");
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            let mut tcp = 0;
            let mut payload = 0;
            let r = read_capture(
                &bytes[..],
                |p| {
                    if let Ok(seg) = decode_packet(p.linktype, p.data) {
                        tcp += 1;
                        payload += seg.payload.len();
                    }
                },
                |w| panic!("{w}"),
            )
            .unwrap();
            assert_eq!(r.packets, 25, "{name}");
            assert_eq!(tcp, 25, "{name}");
            let want = if name.starts_with("abridged") { 2468 + 2216 } else { 2648 + 2292 };
            assert_eq!(payload, want, "{name}");
        }
    }
}
