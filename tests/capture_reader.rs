//! The capture reader on hand-assembled files: pcapng's rarer blocks
//! (simple packets, name resolution, unknown types, a second section cut
//! short or in an unknown byte order), timestamp resolutions, damaged and
//! oversized records, inputs that fail while being read, and the packets
//! `decode_packet` turns away. Every warning and error is checked as the
//! one line a user sees, with the file offset it names.

use std::io::{self, Read};

use inspector::capture::{
    decode_packet, read_capture, read_capture_into, CaptureError, CaptureSink, CaptureStats, CaptureWarning, Linktype,
    NotTcp, Packet, MAX_RECORD,
};

// ---------------------------------------------------------------------------
// Hand-assembled pcapng (little endian unless said) and legacy pcap.

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    assert_eq!(body.len() % 4, 0, "a block body is padded to 4 bytes");
    let len = (12 + body.len()) as u32;
    [kind.to_le_bytes().as_slice(), &len.to_le_bytes(), body, &len.to_le_bytes()].concat()
}

fn padded(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.resize(data.len().div_ceil(4) * 4, 0);
    v
}

/// A section header block: byte-order magic, version 1.0, unknown length.
fn shb() -> Vec<u8> {
    block(0x0a0d_0d0a, &[&0x1a2b_3c4du32.to_le_bytes()[..], &[1, 0, 0, 0], &[0xff; 8]].concat())
}

/// An interface description block, with an if_tsresol option if given.
fn idb(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = [&linktype.to_le_bytes()[..], &[0, 0], &0u32.to_le_bytes()].concat();
    if let Some(r) = tsresol {
        body.extend_from_slice(&[9, 0, 1, 0, r, 0, 0, 0]); // if_tsresol, length 1, padded
        body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
    }
    block(1, &body)
}

fn epb(if_id: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let len = data.len() as u32;
    let head = [if_id, (ts >> 32) as u32, ts as u32, len, len];
    let mut body: Vec<u8> = head.iter().flat_map(|w| w.to_le_bytes()).collect();
    body.extend_from_slice(&padded(data));
    block(6, &body)
}

/// A simple packet block: the original length, then the packet, padded.
fn spb(data: &[u8]) -> Vec<u8> {
    block(3, &[&(data.len() as u32).to_le_bytes()[..], &padded(data)].concat())
}

/// A legacy pcap header (little endian, microseconds).
fn pcap_header(linktype: u32) -> Vec<u8> {
    [&0xa1b2_c3d4u32.to_le_bytes()[..], &[2, 0, 4, 0], &[0; 8], &262_144u32.to_le_bytes(), &linktype.to_le_bytes()]
        .concat()
}

/// A legacy record header: seconds, microseconds, captured and original length.
fn record_header(caplen: u32) -> Vec<u8> {
    [0u32, 0, caplen, caplen].iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Number, time, link type and bytes of a packet.
type Seen = (u64, i128, i32, Vec<u8>);

fn read(bytes: &[u8]) -> (Result<CaptureStats, CaptureError>, Vec<Seen>, Vec<String>) {
    read_from(bytes)
}

fn read_from(input: impl Read) -> (Result<CaptureStats, CaptureError>, Vec<Seen>, Vec<String>) {
    let mut packets = Vec::new();
    let mut warnings = Vec::new();
    let r = read_capture(
        input,
        |p| packets.push((p.number, p.time_ns, p.linktype.0, p.data.to_vec())),
        |w| warnings.push(w.to_string()),
    );
    (r, packets, warnings)
}

// ---------------------------------------------------------------------------
// pcapng blocks and timestamps

#[test]
fn an_invalid_timestamp_resolution_is_a_warning_and_microseconds_are_assumed() {
    // 10^-20 s does not fit a 64-bit count of units per second.
    let file = [shb(), idb(1, Some(20)), epb(0, 1_500_000, &[7; 5])].concat();
    let (r, p, w) = read(&file);
    assert_eq!(r.unwrap().packets, 1);
    assert_eq!(w, ["capture byte 28: interface 0 has an invalid timestamp resolution 20; assuming microseconds"]);
    assert_eq!(p, [(1, 1_500_000_000, 1, vec![7; 5])]);
}

#[test]
fn a_binary_timestamp_resolution_is_read() {
    // if_tsresol with its high bit set is a negative power of two: 0x8a is
    // 2^-10 s, so 3.5 s is 3584 units.
    let file = [shb(), idb(101, Some(0x8a)), epb(0, 3 * 1024 + 512, &[0x45; 4])].concat();
    let (r, p, w) = read(&file);
    assert_eq!(r.unwrap().packets, 1);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(p, [(1, 3_500_000_000, 101, vec![0x45; 4])]);
    // 2^-64 does not fit: a warning, as for a decimal one too small.
    let (_, _, w) = read(&[shb(), idb(101, Some(0xc0))].concat());
    assert_eq!(w, ["capture byte 28: interface 0 has an invalid timestamp resolution 192; assuming microseconds"]);
}

#[test]
fn simple_packets_take_interface_zero_and_their_original_length() {
    // A 10-byte packet is padded to 12 in its block: the padding is not
    // part of the packet.
    let file = [shb(), idb(101, None), spb(&[0x45; 10]), spb(&[1, 2, 3, 4])].concat();
    let (r, p, w) = read(&file);
    let stats = r.unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!((stats.format, stats.packets, stats.interfaces), ("pcapng", 2, 1));
    assert_eq!(p, [(1, 0, 101, vec![0x45; 10]), (2, 0, 101, vec![1, 2, 3, 4])]);
    // Before any interface is described, Ethernet is assumed.
    let (_, p, _) = read(&[shb(), spb(&[9; 6])].concat());
    assert_eq!(p, [(1, 0, 1, vec![9; 6])]);
}

#[test]
fn blocks_that_hold_no_packet_are_skipped() {
    let name_resolution = block(4, &[0, 0, 0, 0]); // only nrb_record_end
    let unknown = block(0x0000_0bad, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let file = [shb(), idb(1, None), name_resolution, epb(0, 2_000_000, &[1; 3]), unknown, epb(0, 3_000_000, &[2; 3])]
        .concat();
    let (r, p, w) = read(&file);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(r.unwrap().packets, 2);
    assert_eq!(p, [(1, 2_000_000_000, 1, vec![1; 3]), (2, 3_000_000_000, 1, vec![2; 3])]);
}

#[test]
fn a_file_ending_inside_a_second_section_header_is_truncated_there() {
    let first = [shb(), idb(1, None), epb(0, 0, &[1; 4])].concat();
    for cut in [8, 10, 20] {
        let file = [first.clone(), shb()[..cut].to_vec()].concat();
        let (r, p, w) = read(&file);
        assert!(r.unwrap().truncated, "{cut}");
        assert_eq!(p.len(), 1);
        assert_eq!(w, [format!("capture byte {}: the capture ends inside a record (truncated file)", first.len())]);
    }
}

#[test]
fn a_second_section_in_an_unknown_byte_order_ends_the_file_with_a_warning() {
    let mut odd = shb();
    odd[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let file = [shb(), idb(1, None), epb(0, 0, &[1; 4]), odd, epb(0, 0, &[2; 4])].concat();
    let (r, p, w) = read(&file);
    assert!(r.unwrap().truncated);
    assert_eq!(p.len(), 1);
    assert_eq!(w.len(), 1, "{w:?}");
    let at = 28 + 20 + 36;
    assert!(w[0].starts_with(&format!("capture byte {at}: damaged record (")), "{w:?}");
    assert!(w[0].ends_with("); the rest of the file is skipped"), "{w:?}");
}

#[test]
fn a_block_whose_two_lengths_disagree_is_a_damaged_record() {
    let mut bad = epb(0, 0, &[1; 4]);
    let end = bad.len();
    bad[end - 4..].copy_from_slice(&40u32.to_le_bytes());
    let file = [shb(), idb(1, None), bad, epb(0, 0, &[1; 4])].concat();
    let (r, p, w) = read(&file);
    assert!(r.unwrap().truncated);
    assert!(p.is_empty());
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("capture byte 48: damaged record ("), "{w:?}");
    assert!(w[0].ends_with("); the rest of the file is skipped"), "{w:?}");
}

#[test]
fn a_packet_longer_than_its_block_is_read_as_a_cut_file() {
    // An enhanced packet block claiming 100 captured bytes in a 32-byte
    // block: pcap-parser waits for the 100 bytes, so the reader sees a file
    // that ends inside a record, even with another block behind it.
    let mut bad = epb(0, 0, &[]);
    bad[20..24].copy_from_slice(&100u32.to_le_bytes());
    let file = [shb(), idb(1, None), bad, epb(0, 0, &[1; 4])].concat();
    let (r, p, w) = read(&file);
    assert!(r.unwrap().truncated);
    assert!(p.is_empty());
    assert_eq!(w, ["capture byte 48: the capture ends inside a record (truncated file)"]);
}

#[test]
fn a_big_endian_section_reads_like_a_little_endian_one() {
    let be_block = |kind: u32, body: &[u8]| {
        let len = (12 + body.len()) as u32;
        [kind.to_be_bytes().as_slice(), &len.to_be_bytes(), body, &len.to_be_bytes()].concat()
    };
    let shb = be_block(0x0a0d_0d0a, &[&0x1a2b_3c4du32.to_be_bytes()[..], &[0, 1, 0, 0], &[0xff; 8]].concat());
    let idb = be_block(1, &[&113u16.to_be_bytes()[..], &[0, 0], &0u32.to_be_bytes()].concat());
    let head: Vec<u8> = [0u32, 0, 2_000_001, 4, 4].iter().flat_map(|w| w.to_be_bytes()).collect();
    let epb = be_block(6, &[&head[..], &[5, 6, 7, 8]].concat());
    let (r, p, w) = read(&[shb, idb, epb].concat());
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(r.unwrap().packets, 1);
    assert_eq!(p, [(1, 2_000_001_000, 113, vec![5, 6, 7, 8])]);
}

// ---------------------------------------------------------------------------
// File headers

fn not_a_capture(bytes: &[u8]) -> String {
    match read(bytes).0 {
        Err(e @ CaptureError::NotACapture(_)) => e.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn file_headers_that_cannot_start_a_capture() {
    assert_eq!(
        not_a_capture(&pcap_header(1)[..5]),
        "not a pcap or pcapng capture: the input ends inside the file header"
    );
    assert_eq!(
        not_a_capture(&pcap_header(1)[..20]),
        "not a pcap or pcapng capture: the input ends inside the file header"
    );
    let mut odd = shb();
    odd[8..12].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(
        not_a_capture(&odd),
        "not a pcap or pcapng capture: pcapng section header with an unknown byte-order magic"
    );
    let mut short = shb();
    short[4..8].copy_from_slice(&20u32.to_le_bytes());
    assert_eq!(not_a_capture(&short), "not a pcap or pcapng capture: pcapng section header of 20 bytes");
    let mut huge = shb();
    huge[4..8].copy_from_slice(&(MAX_RECORD as u32 + 4).to_le_bytes());
    assert_eq!(not_a_capture(&huge), "not a pcap or pcapng capture: pcapng section header of 33554436 bytes");
    assert_eq!(not_a_capture(b"GIF89a......"), "not a pcap or pcapng capture: unknown file header 47 49 46 38");
}

// ---------------------------------------------------------------------------
// Inputs that fail while being read

/// Gives `data` in reads of at most `chunk` bytes (after one interrupted
/// read), then fails.
struct Failing {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
    interrupted: bool,
}

impl Failing {
    fn new(data: Vec<u8>, chunk: usize) -> Self {
        Failing { data, at: 0, chunk, interrupted: false }
    }
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.interrupted {
            self.interrupted = true;
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.at == self.data.len() {
            return Err(io::Error::other("the disk is on fire"));
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn io_error(input: Failing) -> String {
    match read_from(input).0 {
        Err(e @ CaptureError::Io(_)) => e.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_read_error_anywhere_is_an_io_error() {
    // In the first 12 bytes, and in the rest of the file header.
    assert_eq!(io_error(Failing::new(vec![], 64)), "cannot read the capture: the disk is on fire");
    assert_eq!(
        io_error(Failing::new(pcap_header(1)[..16].to_vec(), 64)),
        "cannot read the capture: the disk is on fire"
    );
    // Inside a record: pcap-parser's reader says only "read error", so the
    // input's own words are kept for the line.
    let partial = [pcap_header(1), record_header(100), vec![0; 10]].concat();
    assert_eq!(io_error(Failing::new(partial, 7)), "cannot read the capture: the disk is on fire");
    // Inside a record larger than the buffer, before and after it grew.
    let big = [pcap_header(1), record_header(100_000), vec![0; 10]].concat();
    assert_eq!(io_error(Failing::new(big, 1 << 20)), "cannot read the capture: the disk is on fire");
    let bigger = [pcap_header(1), record_header(100_000), vec![0; 70_000]].concat();
    assert_eq!(io_error(Failing::new(bigger, 1 << 20)), "cannot read the capture: the disk is on fire");
    // Exactly the first buffer's worth: the read that fails is the first
    // one after the buffer grew.
    let full = [pcap_header(1), record_header(100_000), vec![0; (1 << 16) - 16]].concat();
    assert_eq!(io_error(Failing::new(full, 1 << 20)), "cannot read the capture: the disk is on fire");
}

#[test]
fn an_interrupted_read_is_retried() {
    struct Interrupting<R>(R, bool);
    impl<R: Read> Read for Interrupting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1 = !self.1;
            if self.1 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(5);
            self.0.read(&mut buf[..n])
        }
    }
    let file = [pcap_header(101), record_header(4), vec![0x45, 0, 0, 4]].concat();
    let (r, p, w) = read_from(Interrupting(&file[..], false));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(r.unwrap().packets, 1);
    assert_eq!(p, [(1, 0, 101, vec![0x45, 0, 0, 4])]);
}

#[test]
fn a_record_larger_than_the_largest_buffer_ends_the_read_with_a_warning() {
    let size = MAX_RECORD + 1;
    let file = [pcap_header(1), record_header(size as u32), vec![0; size]].concat();
    let (r, p, w) = read(&file);
    let stats = r.unwrap();
    assert!(stats.truncated && p.is_empty());
    assert_eq!(stats.buffer_peak, MAX_RECORD);
    assert_eq!(w, ["capture byte 24: a record larger than 33554432 bytes; the rest of the file is skipped"]);
}

// ---------------------------------------------------------------------------
// Packets that hold no TCP segment

/// An IPv4 header of 20 bytes for `protocol`, with `payload` behind it.
fn ipv4(protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(payload);
    ip
}

#[test]
fn packets_without_a_tcp_segment_say_why_in_one_line() {
    let udp = ipv4(17, &[0x30, 0x39, 0, 53, 0, 8, 0, 0]);
    assert_eq!(decode_packet(Linktype::RAW, &udp), Err(NotTcp::OtherProtocol));
    // ARP behind Ethernet, Linux cooked v2 and a loopback family that is not IP.
    let arp = [&[0u8; 12][..], &[0x08, 0x06], &[0; 28]].concat();
    assert_eq!(decode_packet(Linktype::ETHERNET, &arp), Err(NotTcp::OtherProtocol));
    let sll2 = [&[0x08u8, 0x06][..], &[0; 18], &[0; 28]].concat();
    assert_eq!(decode_packet(Linktype::LINUX_SLL2, &sll2), Err(NotTcp::OtherProtocol));
    let null = [&7u32.to_le_bytes()[..], &udp].concat();
    assert_eq!(decode_packet(Linktype::NULL, &null), Err(NotTcp::OtherProtocol));
    let short = decode_packet(Linktype::LOOP, &[0, 0, 0]).unwrap_err();
    assert_eq!(short.to_string(), "malformed packet: loopback header needs 4 bytes, found 3");
    let short = decode_packet(Linktype::LINUX_SLL2, &[0x08, 0, 1]).unwrap_err();
    assert_eq!(short.to_string(), "malformed packet: SLL2 header needs 20 bytes, found 3");
    assert_eq!(NotTcp::OtherProtocol.to_string(), "not TCP");
    assert_eq!(
        NotTcp::Fragment.to_string(),
        "an IP fragment (fragment reassembly is not supported; its bytes are missing from the stream)"
    );
    assert_eq!(decode_packet(Linktype(147), &udp).unwrap_err().to_string(), "link type 147 is not supported");
}

/// A sink that wants nothing: the reader stops before the first record.
struct Uninterested;

impl CaptureSink for Uninterested {
    fn packet(&mut self, packet: &Packet<'_>) {
        panic!("packet {} after wants_more said no", packet.number);
    }
    fn warning(&mut self, warning: CaptureWarning) {
        panic!("{warning}");
    }
    fn wants_more(&self) -> bool {
        false
    }
}

#[test]
fn a_sink_that_wants_nothing_stops_the_read_before_the_first_record() {
    let legacy = [pcap_header(1), record_header(4), vec![1; 4]].concat();
    let stats = read_capture_into(&legacy[..], &mut Uninterested).unwrap();
    assert_eq!((stats.format, stats.packets, stats.bytes), ("pcap", 0, 0));
    let ng = [shb(), idb(1, None), epb(0, 0, &[1; 4])].concat();
    let stats = read_capture_into(&ng[..], &mut Uninterested).unwrap();
    assert_eq!((stats.format, stats.packets, stats.bytes), ("pcapng", 0, 0));
}
