//! The coverage seeds: small inputs, written by hand-made rules rather than
//! found by a fuzzer, that reach what the other seeds of `corpus/<target>/`
//! miss (measured with `fuzz/coverage.sh`): the capture reader's rarer file
//! headers, link layers and pcapng blocks, each service wrapper and service
//! message with each of its malformed fields, and each way an MTProto
//! envelope can be refused. Every seed is named `cov-<what it reaches>`.
//!
//! `CORPUS_WRITE=1 cargo test --test coverage_seeds -- --ignored` rewrites
//! them (deterministically: the same bytes every time). Without
//! `CORPUS_WRITE`, the test only builds them and checks that each passes
//! its fuzz target's property, which `tests/corpus_replay.rs` also does for
//! the committed files.

use std::fs;
use std::path::{Path, PathBuf};

use inspector::envelope::{encrypt_plaintext, plain_message, AuthKey};
use inspector::tcp::Direction;
use inspector::tl::dynamic::Schema;
use inspector::tl::schema::{CtorDef, FieldDef};
use inspector::tl::{ids, ExportChatInvite, InputPeer, TlObject};
use inspector_tests::fixtures;

type Seeds = Vec<(String, Vec<u8>)>;

/// A fuzz target's property, as its replay calls it.
type Property = fn(&[u8]);

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// A TL `bytes`/`string`: the short or long length form, padded to 4.
fn tl_bytes(out: &mut Vec<u8>, data: &[u8]) {
    if data.len() < 254 {
        out.push(data.len() as u8);
    } else {
        out.push(254);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes()[..3]);
    }
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

// ---------------------------------------------------------------------------
// capture_file

/// A legacy pcap file header: `magic` as its four bytes on disk.
fn pcap_header(magic: [u8; 4], big_endian: bool, linktype: u32) -> Vec<u8> {
    let mut out = magic.to_vec();
    let u16b = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    out.extend_from_slice(&u16b(2));
    out.extend_from_slice(&u16b(4));
    out.extend_from_slice(&u32b(0)); // thiszone
    out.extend_from_slice(&u32b(0)); // sigfigs
    out.extend_from_slice(&u32b(65535)); // snaplen
    out.extend_from_slice(&u32b(linktype));
    out
}

fn pcap_record(out: &mut Vec<u8>, big_endian: bool, caplen: u32, origlen: u32, data: &[u8]) {
    let u32b: fn(u32) -> [u8; 4] = if big_endian { u32::to_be_bytes } else { u32::to_le_bytes };
    out.extend_from_slice(&u32b(1_760_000_000));
    out.extend_from_slice(&u32b(123_456));
    out.extend_from_slice(&u32b(caplen));
    out.extend_from_slice(&u32b(origlen));
    out.extend_from_slice(data);
}

/// A legacy little-endian pcap with one packet per entry of `packets`.
fn pcap_le(linktype: u32, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], false, linktype);
    for p in packets {
        pcap_record(&mut out, false, p.len() as u32, p.len() as u32, p);
    }
    out
}

/// A pcapng block in little-endian order: type, length, body, length.
fn ng_block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut padded = body.to_vec();
    while padded.len() % 4 != 0 {
        padded.push(0);
    }
    let len = 12 + padded.len() as u32;
    [&le32(kind)[..], &le32(len), &padded, &le32(len)].concat()
}

/// A pcapng block with a length field of our choosing (a damaged one).
fn ng_block_claiming(kind: u32, claimed: u32, body: &[u8]) -> Vec<u8> {
    [&le32(kind)[..], &le32(claimed), body, &le32(claimed)].concat()
}

fn ng_section() -> Vec<u8> {
    let mut body = le32(0x1a2b_3c4d).to_vec();
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    ng_block(0x0a0d_0d0a, &body)
}

/// An interface description with options `(code, value)`.
fn ng_interface(linktype: u16, options: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = linktype.to_le_bytes().to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&le32(65535));
    if !options.is_empty() {
        for (code, value) in options {
            body.extend_from_slice(&code.to_le_bytes());
            body.extend_from_slice(&(value.len() as u16).to_le_bytes());
            body.extend_from_slice(value);
            while body.len() % 4 != 0 {
                body.push(0);
            }
        }
        body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
    }
    ng_block(1, &body)
}

fn ng_packet(if_id: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = le32(if_id).to_vec();
    body.extend_from_slice(&le32((ts >> 32) as u32));
    body.extend_from_slice(&le32(ts as u32));
    body.extend_from_slice(&le32(data.len() as u32));
    body.extend_from_slice(&le32(data.len() as u32));
    body.extend_from_slice(data);
    ng_block(6, &body)
}

fn ng_simple(data: &[u8]) -> Vec<u8> {
    let mut body = le32(data.len() as u32).to_vec();
    body.extend_from_slice(data);
    ng_block(3, &body)
}

/// A TCP/IPv4 packet of the standard fixture endpoints with a few bytes.
fn tcp_v4(payload: &[u8]) -> Vec<u8> {
    let (c, s) = fixtures::endpoints(false, 0);
    fixtures::ip_tcp(c, s, 1000, Some(2000), false, false, payload)
}

fn tcp_v6(payload: &[u8]) -> Vec<u8> {
    let (c, s) = fixtures::endpoints(true, 0);
    fixtures::ip_tcp(c, s, 1000, Some(2000), false, false, payload)
}

/// An IPv4 header (no options) around `payload` of protocol `proto`,
/// `fragment` setting more-fragments.
fn ipv4(proto: u8, fragment: bool, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len() as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1]); // identification
    h.extend_from_slice(if fragment { &[0x20, 0] } else { &[0x40, 0] });
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&[10, 1, 0, 2, 149, 154, 167, 51]);
    let mut sum = 0u32;
    for pair in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn capture_seeds() -> Seeds {
    let mut out: Seeds = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| out.push((format!("cov-{name}"), bytes));
    let packet = tcp_v4(b"\xef\x0a\x00\x00\x00\x00");

    // File headers that are not a capture, or end too soon.
    add("empty", Vec::new());
    add("header-cut-5", b"\xd4\xc3\xb2\xa1\x02".to_vec());
    add("header-unknown-magic", b"GET / HTTP/1.1\r\n".to_vec());
    add("pcap-header-cut-20", pcap_header([0xd4, 0xc3, 0xb2, 0xa1], false, 101)[..20].to_vec());
    let mut bad_bom = ng_section();
    bad_bom[8..12].copy_from_slice(&[1, 2, 3, 4]);
    add("pcapng-unknown-byte-order", bad_bom);
    add("pcapng-section-too-short", ng_block_claiming(0x0a0d_0d0a, 16, &le32(0x1a2b_3c4d)));
    add("pcapng-section-cut", ng_section()[..20].to_vec());

    // Legacy pcap in every byte order and precision not in the fixtures,
    // each with a packet of another raw link type.
    add("pcap-le-nanos-ipv4", {
        let mut f = pcap_header([0x4d, 0x3c, 0xb2, 0xa1], false, 228);
        pcap_record(&mut f, false, packet.len() as u32, packet.len() as u32, &packet);
        f
    });
    add("pcap-be-micro-ipv6", {
        let p = tcp_v6(b"\xee\xee\xee\xee");
        let mut f = pcap_header([0xa1, 0xb2, 0xc3, 0xd4], true, 229);
        pcap_record(&mut f, true, p.len() as u32, p.len() as u32, &p);
        f
    });
    // A record whose caplen is below its data length (the packet is cut
    // to caplen), and a record cut by the end of the file.
    add("pcap-record-truncated", {
        let mut f = pcap_le(101, std::slice::from_ref(&packet));
        pcap_record(&mut f, false, 60, 60, &packet[..10]);
        f
    });
    // A record claiming more than the read buffer: the reader waits for
    // the bytes before growing, and the file ends first.
    add("pcap-record-claims-1mib", {
        let mut f = pcap_le(101, &[]);
        pcap_record(&mut f, false, 1 << 20, 1 << 20, &packet);
        f
    });
    // A record claiming more than pcap-parser's own bound.
    add("pcap-record-claims-4gib", {
        let mut f = pcap_le(101, &[]);
        pcap_record(&mut f, false, u32::MAX, u32::MAX, &packet);
        f
    });

    // Link layers: each of decode_packet's refusals.
    let mut udp = 53u16.to_be_bytes().to_vec();
    udp.extend_from_slice(&[0, 53, 0, 12, 0, 0, 1, 2, 3, 4]);
    let mut arp = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x06];
    arp.extend_from_slice(&[0; 28]);
    let mut sll2_arp = fixtures::Link::Sll2.wrap(&packet);
    sll2_arp[..2].copy_from_slice(&0x0806u16.to_be_bytes());
    add(
        "link-refusals-raw",
        pcap_le(101, &[ipv4(17, false, &udp), ipv4(6, true, &packet[20..]), packet[..30].to_vec()]),
    );
    add("link-refusals-ethernet", pcap_le(1, &[arp, fixtures::Link::Ethernet.wrap(&packet[..25])]));
    add("link-refusals-sll2", pcap_le(276, &[packet[..12].to_vec(), sll2_arp]));
    add("link-refusals-null", pcap_le(0, &[vec![2, 0], [&le32(7)[..], &packet].concat()]));
    add("link-refusals-loop", pcap_le(108, &[fixtures::Link::Loop.wrap(&tcp_v6(b"")), vec![0, 0, 0, 1, 9, 9]]));
    add("link-unsupported", pcap_le(147, std::slice::from_ref(&packet)));

    // pcapng: interface options (every timestamp resolution kind, an
    // offset), packets on an undescribed interface, simple packets with
    // and without an interface, blocks the reader skips, a second section.
    add("pcapng-tsresol-nanos-offset", {
        let offset = 1_000i64.to_le_bytes();
        [ng_section(), ng_interface(101, &[(9, &[9]), (14, &offset)]), ng_packet(0, 1_760_000_000_123_456_789, &packet)]
            .concat()
    });
    add("pcapng-tsresol-power-of-two", {
        [ng_section(), ng_interface(101, &[(9, &[0x86])]), ng_packet(0, 1 << 40, &packet)].concat()
    });
    add("pcapng-tsresol-invalid", {
        [ng_section(), ng_interface(101, &[(9, &[0x7f])]), ng_packet(0, 77, &packet)].concat()
    });
    add("pcapng-undescribed-interface", {
        [ng_section(), ng_interface(101, &[]), ng_packet(3, 5, &packet), ng_packet(0, 6, &packet)].concat()
    });
    add("pcapng-simple-packets", {
        [ng_section(), ng_simple(&fixtures::Link::Ethernet.wrap(&packet)), ng_interface(101, &[]), ng_simple(&packet)]
            .concat()
    });
    add("pcapng-skipped-blocks", {
        // Interface statistics (5), name resolution (4), a custom block.
        let stats = [&le32(0)[..], &le32(0), &le32(0), &[0, 0, 0, 0]].concat();
        [
            ng_section(),
            ng_interface(101, &[]),
            ng_block(5, &stats),
            ng_block(4, &[0, 0, 0, 0]),
            ng_block(0x0000_0bad, b"pen!data"),
            ng_packet(0, 9, &packet),
        ]
        .concat()
    });
    add("pcapng-second-section", {
        [ng_section(), ng_interface(1, &[]), ng_section(), ng_packet(0, 9, &packet), ng_interface(101, &[])].concat()
    });
    add("pcapng-block-length-13", [ng_section(), ng_block_claiming(6, 13, &[0; 16])].concat());
    add("pcapng-block-length-8", [ng_section(), ng_block_claiming(1, 8, &[0; 16])].concat());
    add("pcapng-packet-caplen-lies", {
        let mut b = ng_packet(0, 9, &packet);
        b[20..24].copy_from_slice(&le32(4000));
        [ng_section(), ng_interface(101, &[]), b].concat()
    });
    // A section header whose length is not a multiple of 4: refused
    // before its record is taken (the format is then named from the magic).
    add("pcapng-section-length-30", {
        let mut b = ng_section();
        b[4..8].copy_from_slice(&le32(30));
        [b, vec![0, 0]].concat()
    });
    // A second section header cut after 10 bytes, and one with an unknown
    // byte-order magic (pcap-parser refuses it: a damaged record).
    add("pcapng-second-section-cut", [ng_section(), ng_interface(101, &[]), ng_section()[..10].to_vec()].concat());
    add("pcapng-second-section-bad-byte-order", {
        let mut second = ng_section();
        second[8..12].copy_from_slice(&[9, 9, 9, 9]);
        [ng_section(), ng_interface(101, &[]), second].concat()
    });
    // A record larger than the initial 64 KiB read buffer, present in
    // full: the buffer grows to hold it (the only seed over 16 KiB).
    add("pcap-record-over-initial-buffer", {
        let big = [packet.clone(), vec![0; 70_000]].concat();
        pcap_le(101, &[big])
    });
    add("pcapng-block-cut", {
        let b = ng_packet(0, 9, &packet);
        [ng_section(), ng_interface(101, &[]), b[..b.len() - 9].to_vec()].concat()
    });
    out
}

// ---------------------------------------------------------------------------
// service

/// The request every wrapper seed carries.
fn request() -> Vec<u8> {
    ExportChatInvite::new(InputPeer::PeerSelf).to_bytes().expect("encodable")
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Each wrapper and service message, well formed, and each cut inside each
/// of its fields (the service layer names the field that ran out).
fn service_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let req = request();
    let mut init_full = le32(ids::INIT_CONNECTION).to_vec();
    init_full.extend_from_slice(&le32(3)); // proxy and params
    init_full.extend_from_slice(&le32(611_335));
    for s in ["device", "system", "app", "en", "tdesktop", "en"] {
        tl_bytes(&mut init_full, s.as_bytes());
    }
    init_full.extend_from_slice(&le32(ids::INPUT_CLIENT_PROXY));
    tl_bytes(&mut init_full, b"proxy.example");
    init_full.extend_from_slice(&le32(443));
    // params: a jsonObject holding every JSONValue kind.
    let mut params = le32(ids::JSON_OBJECT).to_vec();
    params.extend_from_slice(&le32(ids::VECTOR));
    params.extend_from_slice(&le32(6));
    let entries: Vec<(&str, Vec<u8>)> = vec![
        ("null", le32(ids::JSON_NULL).to_vec()),
        ("yes", cat(&[&le32(ids::JSON_BOOL), &le32(ids::BOOL_TRUE)])),
        ("no", cat(&[&le32(ids::JSON_BOOL), &le32(ids::BOOL_FALSE)])),
        ("pi", cat(&[&le32(ids::JSON_NUMBER), &std::f64::consts::PI.to_le_bytes()])),
        ("nan", cat(&[&le32(ids::JSON_NUMBER), &f64::NAN.to_le_bytes()])),
        ("list", {
            let mut a = cat(&[&le32(ids::JSON_ARRAY), &le32(ids::VECTOR), &le32(1), &le32(ids::JSON_STRING)]);
            tl_bytes(&mut a, b"tz");
            a
        }),
    ];
    for (key, value) in &entries {
        params.extend_from_slice(&le32(ids::JSON_OBJECT_VALUE));
        tl_bytes(&mut params, key.as_bytes());
        params.extend_from_slice(value);
    }
    init_full.extend_from_slice(&params);
    init_full.extend_from_slice(&req);

    let mut business = le32(ids::INVOKE_WITH_BUSINESS_CONNECTION).to_vec();
    tl_bytes(&mut business, b"bc-1");
    business.extend_from_slice(&req);
    vec![
        ("invoke-after-msgs", cat(&[&le32(ids::INVOKE_AFTER_MSGS), &le32(ids::VECTOR), &le32(2), &[1; 16], &req])),
        ("invoke-without-updates", cat(&[&le32(ids::INVOKE_WITHOUT_UPDATES), &req])),
        ("invoke-with-takeout", cat(&[&le32(ids::INVOKE_WITH_TAKEOUT), &[7; 8], &req])),
        ("invoke-with-business-connection", business),
        (
            "invoke-with-messages-range",
            cat(&[&le32(ids::INVOKE_WITH_MESSAGES_RANGE), &le32(ids::MESSAGE_RANGE), &le32(1), &le32(99), &req]),
        ),
        ("init-connection-proxy-params", init_full),
        ("bad-msg-notification", cat(&[&le32(ids::BAD_MSG_NOTIFICATION), &[1; 8], &le32(3), &le32(32)])),
        ("bad-server-salt", cat(&[&le32(ids::BAD_SERVER_SALT), &[1; 8], &le32(3), &le32(48), &[9; 8]])),
        ("ping", cat(&[&le32(ids::PING), &[5; 8]])),
        ("ping-delay-disconnect", cat(&[&le32(ids::PING_DELAY_DISCONNECT), &[5; 8], &le32(75)])),
        ("pong", cat(&[&le32(ids::PONG), &[4; 8], &[5; 8]])),
        ("new-session-created", fixtures::new_session_created(0x1234)),
        ("msgs-ack", fixtures::msgs_ack(&[1, 2, 3])),
        (
            "rpc-result-error",
            fixtures::rpc_result(
                0x55,
                &cat(&[&le32(ids::RPC_ERROR), &le32(420), &[4, b'F', b'L', b'O', b'O', 0, 0, 0]]),
            ),
        ),
    ]
}

fn service_seeds() -> Seeds {
    let mut out: Seeds = Vec::new();
    let mut add = |name: String, mode: u8, body: &[u8]| out.push((format!("cov-{name}"), cat(&[&[mode], body])));
    let req = request();
    for (name, body) in service_bodies() {
        add(name.to_string(), 0, &body);
        // Cut inside each 4-byte word after the id: every field's
        // "runs out" error, and the wrapped request's.
        let mut cut = 6;
        let mut n = 0;
        while cut < body.len() {
            add(format!("{name}-cut{cut}"), 4, &body[..cut]);
            cut += if n < 6 { 4 } else { 12 };
            n += 1;
        }
    }
    // Malformed fields that are not a short read.
    let bad = |id: u32, rest: &[&[u8]]| {
        let mut b = le32(id).to_vec();
        for r in rest {
            b.extend_from_slice(r);
        }
        b
    };
    let json_init = |value: &[u8]| {
        let mut b = le32(ids::INIT_CONNECTION).to_vec();
        b.extend_from_slice(&le32(2));
        b.extend_from_slice(&le32(1));
        for _ in 0..6 {
            tl_bytes(&mut b, b"x");
        }
        b.extend_from_slice(value);
        b
    };
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("msgs-ack-not-a-vector", bad(ids::MSGS_ACK, &[&le32(0xdead_beef), &le32(1), &[0; 8]])),
        ("msgs-ack-count-lies", bad(ids::MSGS_ACK, &[&le32(ids::VECTOR), &le32(1000), &[0; 8]])),
        ("invoke-with-messages-range-wrong-id", bad(ids::INVOKE_WITH_MESSAGES_RANGE, &[&le32(7), &le32(1), &le32(2)])),
        ("init-connection-proxy-wrong-id", {
            let mut b = le32(ids::INIT_CONNECTION).to_vec();
            b.extend_from_slice(&le32(1));
            b.extend_from_slice(&le32(1));
            for _ in 0..6 {
                tl_bytes(&mut b, b"x");
            }
            b.extend_from_slice(&le32(0x1234_5678));
            b
        }),
        ("json-bool-not-a-bool", json_init(&cat(&[&le32(ids::JSON_BOOL), &le32(5)]))),
        ("json-unknown-value", json_init(&le32(0x0bad_0bad))),
        ("json-array-count-lies", json_init(&cat(&[&le32(ids::JSON_ARRAY), &le32(ids::VECTOR), &le32(99)]))),
        ("json-array-not-a-vector", json_init(&cat(&[&le32(ids::JSON_ARRAY), &le32(3), &le32(0)]))),
        (
            "json-object-wrong-entry",
            json_init(&cat(&[&le32(ids::JSON_OBJECT), &le32(ids::VECTOR), &le32(1), &le32(9), &[0; 8]])),
        ),
        ("json-nested-past-budget", {
            let mut v = Vec::new();
            for _ in 0..40 {
                v.extend_from_slice(&cat(&[&le32(ids::JSON_ARRAY), &le32(ids::VECTOR), &le32(1)]));
            }
            v.extend_from_slice(&le32(ids::JSON_NULL));
            json_init(&v)
        }),
        ("container-count-lies", bad(ids::MSG_CONTAINER, &[&le32(50), &[0; 16]])),
        ("container-length-lies", bad(ids::MSG_CONTAINER, &[&le32(1), &[1; 8], &le32(1), &le32(64), &req])),
        ("container-leftover", {
            let mut c = fixtures::container(&[(11, 1, req.clone())]);
            c.extend_from_slice(&[0xaa; 5]);
            c
        }),
        ("container-empty-item", fixtures::container(&[(11, 1, vec![]), (12, 3, vec![1, 2])])),
        ("wrappers-past-budget", {
            let mut b = Vec::new();
            for _ in 0..70 {
                b.extend_from_slice(&le32(ids::INVOKE_WITHOUT_UPDATES));
            }
            b.extend_from_slice(&req);
            b
        }),
        ("gzip-not-gzip", {
            let mut b = le32(ids::GZIP_PACKED).to_vec();
            tl_bytes(&mut b, b"\x1f\x8b\x08\x00 not deflate at all");
            b
        }),
        ("gzip-zlib", {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut z, &req).expect("in memory");
            let mut b = le32(ids::GZIP_PACKED).to_vec();
            tl_bytes(&mut b, &z.finish().expect("in memory"));
            b
        }),
        ("gzip-zlib-cut", {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut z, &[7u8; 300]).expect("in memory");
            let packed = z.finish().expect("in memory");
            let mut b = le32(ids::GZIP_PACKED).to_vec();
            tl_bytes(&mut b, &packed[..packed.len() - 6]);
            b
        }),
        ("gzip-two-over-the-shared-cap", {
            // Two gzip_packed in one container, each under the cap, together
            // over it: the second is refused with what was left of the cap.
            let one = fixtures::gzip_bomb(40_000);
            fixtures::container(&[(1, 1, one.clone()), (2, 3, one)])
        }),
        ("unknown-object", bad(0x0bad_b0b0, &[&[0; 12]])),
        ("gzip-bytes-cut", bad(ids::GZIP_PACKED, &[&[100, 1, 2, 3]])),
        ("answer-public-join-requests", le32(ids::CHAT_INVITE_PUBLIC_JOIN_REQUESTS).to_vec()),
    ];
    for (name, body) in malformed {
        add(name.to_string(), 0, &body);
    }
    // The same request as another method (mode bit 3), gzip-wrapped by the
    // target (mode 2), and rpc_result(gzip_packed) of an answer (mode 3).
    add("request-as-other-method".into(), 8, &req);
    add("other-method-answer".into(), 8 | 4, &le32(ids::CHAT_INVITE_PUBLIC_JOIN_REQUESTS));
    add("mode-gzip-init".into(), 2, &fixtures::layer_init(&req));
    // A malformed object inside gzip_packed (its error says so).
    add("mode-gzip-malformed".into(), 2, &bad(ids::MSGS_ACK, &[&le32(ids::VECTOR), &le32(1000)]));
    // The raw bytes are a gzip stream over the cap their first byte sets.
    add("gunzip-over-cap".into(), 0, &fixtures::gzip(&[0; 10_000]));
    out
}

// ---------------------------------------------------------------------------
// envelope

/// The envelope target's key (`fixtures::auth_key(2)`).
fn envelope_key() -> AuthKey {
    fixtures::auth_key(2)
}

/// A plaintext of `header ++ length ++ body ++ padding`, encrypted whole.
fn sealed(length: u32, body_and_padding: usize) -> Vec<u8> {
    let mut plaintext = vec![0x11; 28];
    plaintext.extend_from_slice(&length.to_le_bytes());
    plaintext.extend((0..body_and_padding).map(|i| i as u8));
    encrypt_plaintext(&envelope_key(), Direction::ClientToServer, plaintext)
}

fn envelope_seeds() -> Seeds {
    let key = envelope_key();
    let hex: String = key.bytes().iter().map(|b| format!("{b:02x}")).collect();
    let spaced: String = hex.as_bytes().chunks(32).map(|c| String::from_utf8_lossy(c) + "\n").collect();
    let mut plain_lies = plain_message(5, &[0; 8]);
    plain_lies[16..20].copy_from_slice(&le32(1000));
    let mut unaligned = sealed(16, 48);
    unaligned.extend_from_slice(&[1, 2, 3]);
    let mut foreign = sealed(16, 48);
    foreign[0] ^= 0x40;
    vec![
        ("plain-too-short", vec![0; 12]),
        ("plain-length-lies", plain_lies),
        ("plain-trailing", [plain_message(5, &request()), vec![0; 7]].concat()),
        ("encrypted-too-short", [key.id().to_le_bytes().to_vec(), vec![3; 30]].concat()),
        ("encrypted-not-block-aligned", unaligned),
        ("encrypted-length-not-a-word", sealed(6, 32)),
        ("encrypted-length-past-padding", sealed(40, 48)),
        ("encrypted-padding-over-1024", sealed(0, 1040)),
        ("encrypted-server-direction", {
            let mut p = vec![0x22; 28];
            p.extend_from_slice(&le32(0));
            p.extend_from_slice(&[0; 16]);
            encrypt_plaintext(&key, Direction::ServerToClient, p)
        }),
        ("encrypted-unknown-key", foreign),
        ("encrypted-corrupted", {
            let mut m = sealed(16, 48);
            m[40] ^= 0x01;
            m
        }),
        ("key-hex", hex.clone().into_bytes()),
        ("key-hex-odd", format!("{}f", &hex[..511]).into_bytes()),
        ("key-raw", key.bytes().to_vec()),
        ("keylog", format!("# keys\n\n{spaced}\n{hex}\nabc\n").into_bytes()),
        ("keylog-short-key", format!("# a short one\nabcdef\n{hex}\n").into_bytes()),
    ]
    .into_iter()
    .map(|(n, b)| (format!("cov-{n}"), b))
    .collect()
}

// ---------------------------------------------------------------------------
// pcap_pipeline

/// A legacy pcap file with its header's `sigfigs` field (which readers
/// ignore) set so that the file's byte sum is a multiple of 32: the
/// pcap_pipeline target then also runs the text report and compares one
/// thread with two on it (it samples both by the byte sum). Other files
/// come back unchanged.
fn sampled_everything(bytes: Vec<u8>) -> Vec<u8> {
    if !fixtures::is_legacy_pcap(&bytes) {
        return bytes;
    }
    fixtures::with_sigfigs(bytes, fixtures::sum_to_multiple_of_32, |_| true).expect("a legacy pcap file")
}

/// [`sampled_everything`], with the byte sum `sum` modulo 256 instead of 0
/// modulo 32 (`sum` a multiple of 32): 96 also runs with the builtin
/// schema, 224 with the schema and methods shown in full (the pcap_pipeline
/// property's `schema_choice`).
fn sampled_with_sum(bytes: Vec<u8>, sum: u8) -> Vec<u8> {
    fixtures::with_sigfigs(bytes, |now| sum.wrapping_sub(now), |_| true).expect("a legacy pcap file")
}

/// Messages of other methods than exportChatInvite, for the runs with a
/// schema: a request and its answer (contacts.resolveUsername, answered
/// by an updates.state), an id no schema knows, a request without fields
/// (updates.getState) answered by an rpc_error and again by an updates.state
/// cut short, and a constructor that is no answer to anything.
fn schema_pipeline_seeds() -> Seeds {
    let id = |n: u32| fixtures::msg_id(n, false);
    let resolve_username = cat(&[&le32(0x725a_fbbc), &le32(0), &[5, b'd', b'u', b'r', b'o', b'v', 0, 0]]);
    let updates_state: Vec<u8> = std::iter::once(0xa56c_2a3eu32 as i32)
        .chain([10, 20, 1_760_000_000, 30, 40])
        .flat_map(i32::to_le_bytes)
        .collect();
    let rpc_error = cat(&[&le32(ids::RPC_ERROR), &le32(420), &[4, b'F', b'L', b'O', b'O', 0, 0, 0]]);
    let capture = capture_of(&[
        (false, 1, resolve_username),
        (true, 2, fixtures::rpc_result(id(1), &updates_state)),
        (false, 3, le32(0x0bad_b0b0).repeat(2)),
        (false, 4, le32(0xedd4_882a).to_vec()),
        (true, 5, fixtures::rpc_result(id(4), &rpc_error)),
        (false, 6, le32(0xedd4_882a).to_vec()),
        (true, 7, fixtures::rpc_result(id(6), &updates_state[..12])),
        (true, 8, updates_state.clone()),
    ]);
    vec![
        ("cov-schema-other-methods".to_string(), sampled_with_sum(capture.clone(), 96)),
        ("cov-schema-tree-methods".to_string(), sampled_with_sum(capture, 224)),
    ]
}

/// One connection (plain intermediate framing, the fixtures' key) carrying
/// `messages` as `(from_server, msg_id number, body)`, all encrypted.
fn capture_of(messages: &[(bool, u32, Vec<u8>)]) -> Vec<u8> {
    use fixtures::{CaptureSpec, ConnectionSpec, Conversation, Message, Transport};
    let mut c = ConnectionSpec::new(Transport::plain(inspector::transport::Framing::Intermediate));
    c.conversation = Conversation {
        messages: messages
            .iter()
            .map(|(server, n, body)| Message {
                direction: if *server { Direction::ServerToClient } else { Direction::ClientToServer },
                msg_id: fixtures::msg_id(*n, *server),
                seq_no: 1,
                body: body.clone(),
                encrypted: true,
            })
            .collect(),
        expected: Vec::new(),
    };
    fixtures::build(&CaptureSpec::single(c)).bytes
}

/// Captures whose messages reach the report's rarer lines: a malformed
/// body, answers to no request in the capture, a second answer to one
/// request, an answer to another method, an answer that does not decode,
/// service messages and other constructors in the list of all messages.
fn pipeline_seeds() -> Seeds {
    let req = request();
    let answer = le32(ids::CHAT_INVITE_PUBLIC_JOIN_REQUESTS).to_vec();
    let id = |n: u32| fixtures::msg_id(n, false);
    let odd_answers = capture_of(&[
        (false, 1, cat(&[&le32(ids::MSGS_ACK), &le32(ids::VECTOR), &le32(1000)])),
        (true, 2, fixtures::rpc_result(id(77), &answer)),
        (false, 3, req.clone()),
        (true, 4, fixtures::rpc_result(id(3), &answer)),
        (true, 5, fixtures::rpc_result(id(3), &answer)),
        (false, 6, cat(&[&le32(0x0bad_0bad), &[0; 8]])),
        (true, 7, fixtures::rpc_result(id(6), &answer)),
        (false, 8, req.clone()),
        (true, 9, fixtures::rpc_result(id(8), &le32(ids::CHAT_INVITE_EXPORTED))),
        (true, 10, cat(&[&le32(ids::PONG), &[4; 8], &[5; 8]])),
        (false, 11, le32(0x7da0_7ec9).to_vec()), // inputPeerSelf, bare
    ]);
    let mut out = vec![("cov-pipeline-odd-answers".to_string(), odd_answers)];
    out.extend(raw_stream_seeds());
    out
}

/// A raw-IP pcap of one TCP connection (SYN, SYN-ACK, then the two
/// streams in pieces of at most 64 bytes, alternating): transport streams
/// written byte by byte, with what the fixture writer's encoder never emits.
fn raw_connection(c2s: &[u8], s2c: &[u8]) -> Vec<u8> {
    let (c, s) = fixtures::endpoints(false, 3);
    let (ci, si) = (1000u32, 5000u32);
    let mut packets = vec![
        fixtures::ip_tcp(c, s, ci, None, true, false, b""),
        fixtures::ip_tcp(s, c, si, Some(ci + 1), true, false, b""),
    ];
    let (mut a, mut b) = (c2s.chunks(64), s2c.chunks(64));
    let (mut at_c, mut at_s) = (0u32, 0u32);
    loop {
        let (x, y) = (a.next(), b.next());
        if x.is_none() && y.is_none() {
            break;
        }
        if let Some(p) = x {
            packets.push(fixtures::ip_tcp(c, s, ci + 1 + at_c, Some(si + 1 + at_s), false, false, p));
            at_c += p.len() as u32;
        }
        if let Some(p) = y {
            packets.push(fixtures::ip_tcp(s, c, si + 1 + at_s, Some(ci + 1 + at_c), false, false, p));
            at_s += p.len() as u32;
        }
    }
    pcap_le(101, &packets)
}

fn raw_stream_seeds() -> Seeds {
    use inspector::transport::Framing;
    let req = plain_message(fixtures::msg_id(1, false), &request());
    let answer = plain_message(fixtures::msg_id(1, true), &le32(ids::CHAT_INVITE_PUBLIC_JOIN_REQUESTS));
    let full = |payload: &[u8], seq: u32| inspector::transport::encode_frame(Framing::Full, payload, seq, &[]);
    // Full: a frame out of sequence and one too short for its header from
    // the client; a bare transport error code (-404) and a length over the
    // limit from the server.
    let full_c2s = [full(&req, 0), full(&req, 5), le32(8).to_vec(), vec![0; 8]].concat();
    let full_s2c =
        [full(&answer, 0), (-404i32).to_le_bytes().to_vec(), le32(0x7fff_0000).to_vec(), vec![0; 8]].concat();
    // Abridged: a request asking for a quick ack, and the server's quick
    // ack (4 bytes, top bit set) before its answer.
    let abridged = |payload: &[u8], quick: bool| {
        let mut f = inspector::transport::encode_frame(Framing::Abridged, payload, 0, &[]);
        if quick {
            f[0] |= 0x80;
        }
        f
    };
    let abridged_c2s = [vec![0xef], abridged(&req, true)].concat();
    let abridged_s2c = [vec![0x80, 0x12, 0x34, 0x56], abridged(&answer, false)].concat();
    // The client's stream in overlapping pieces out of order: a longer
    // piece at an offset already held, pieces a later one covers, then the
    // hole filled (the reassembler delivers the longest and drops the rest
    // as retransmitted).
    let mut stream = vec![0xef];
    for _ in 0..4 {
        stream.extend(abridged(&req, false));
    }
    let pieces = [(60, 10), (60, 20), (40, 50), (0, 40), (90, stream.len() - 90)];
    let (c, s) = fixtures::endpoints(false, 4);
    let mut packets = vec![fixtures::ip_tcp(c, s, 999, None, true, false, b"")];
    for (at, len) in pieces {
        packets.push(fixtures::ip_tcp(c, s, 1000 + at as u32, None, false, false, &stream[at..at + len]));
    }
    // Intermediate: an unencrypted message with bytes after its length.
    let trailing = [req.clone(), vec![0; 8]].concat();
    let intermediate_c2s =
        [vec![0xee; 4], inspector::transport::encode_frame(Framing::Intermediate, &trailing, 0, &[])].concat();
    vec![
        ("cov-raw-plain-trailing-bytes".to_string(), raw_connection(&intermediate_c2s, &[])),
        ("cov-raw-overlapping-pieces".to_string(), pcap_le(101, &packets)),
        ("cov-raw-full-odd-frames".to_string(), raw_connection(&full_c2s, &full_s2c)),
        ("cov-raw-abridged-quick-ack".to_string(), raw_connection(&abridged_c2s, &abridged_s2c)),
    ]
}

// ---------------------------------------------------------------------------
// schema_differential

/// The typed decoder's hostile and boundary frames (the `decode_bytes`
/// seeds that are not matrix values: cut, badly flagged, badly encoded,
/// nested), for the schema-driven decoder's error paths; and every frame of
/// the matrix cut at each word, so each field's "runs out" error is
/// compared.
fn schema_differential_seeds() -> Seeds {
    let mut out = Seeds::new();
    let dir = corpus_root().join("decode_bytes");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("corpus/decode_bytes")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let data = fs::read(dir.join(&name)).expect("a decode_bytes seed");
        if name.starts_with("matrix-") {
            // The fullest values only, cut inside each word.
            if name == "matrix-request-flags3f-channel_from_message-user_from_message-user"
                || name == "matrix-answer-chatInviteExported-flags-0x7ff"
            {
                for cut in (6..data.len()).step_by(4) {
                    out.push((format!("cov-{name}-cut{cut}"), data[..cut].to_vec()));
                }
            }
            continue;
        }
        out.push((format!("cov-{name}"), data));
    }
    out
}

// The schema modes of schema_differential (`MODE_ANY`, `MODE_TYPE`,
// `MODE_SCHEMA_TEXT`): constructors of the whole builtin schema, values of
// each kind of type, and schema text with each kind of error.

/// A JSON value of the TL type `ty` (a field's type as the schema writes
/// it): one element per vector, every optional field present when `full`
/// (only for the top level object; nested objects take their constructor
/// with the fewest fields, without optional ones). `None` past a few levels.
fn json_of_type(ty: &str, full: bool, depth: usize) -> Option<serde_json::Value> {
    use serde_json::json;
    let schema = Schema::builtin();
    if depth > 6 {
        return None;
    }
    Some(match ty {
        "int" => json!(7),
        "long" => json!(-8),
        "double" => json!(1.5),
        "string" => json!("s"),
        "bytes" => json!("AQI="),
        "int128" => json!("000102030405060708090a0b0c0d0e0f"),
        "int256" => json!("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        "Bool" => json!(true),
        "true" => json!(true),
        "Object" => json!({"_": "boolTrue"}),
        _ if ty.starts_with('!') => json!({"_": "help.getConfig"}),
        _ => {
            if let Some(inner) = ty.strip_prefix("Vector<").or_else(|| ty.strip_prefix("vector<")) {
                let inner = inner.strip_suffix('>')?;
                return Some(serde_json::Value::Array(vec![json_of_type(inner, false, depth + 1)?]));
            }
            if let Some(ctor) = schema.by_name(ty.trim_start_matches('%')) {
                // A bare constructor.
                return json_of_ctor(ctor, false, depth + 1);
            }
            let mut ctors = schema.constructors_of(ty);
            ctors.sort_by_key(|c| c.fields.len());
            return ctors.iter().find_map(|c| json_of_ctor(c, full, depth + 1));
        }
    })
}

/// [`json_of_type`] of one constructor (`flags` left out: the encoder
/// derives it).
fn json_of_ctor(ctor: &CtorDef, full: bool, depth: usize) -> Option<serde_json::Value> {
    let mut map = serde_json::Map::new();
    map.insert("_".into(), ctor.name.into());
    for f in ctor.fields {
        if f.ty == "#" || (f.flag.is_some() && !full) {
            continue;
        }
        map.insert(f.name.into(), json_of_type(f.ty, false, depth)?);
    }
    Some(serde_json::Value::Object(map))
}

/// The kind of a field's type, to pick one constructor per kind.
fn field_kind(f: &FieldDef) -> String {
    let base = match f.ty {
        t if t.starts_with("Vector<") => "Vector",
        t if t.starts_with("vector<") => "vector",
        t if t.starts_with('!') => "generic",
        t if t.starts_with('%') || (t.starts_with(|c: char| c.is_ascii_lowercase()) && !t.contains('<')) => match t {
            "int" | "long" | "double" | "string" | "bytes" | "int128" | "int256" | "true" => t,
            _ => "bare",
        },
        "#" | "Bool" | "Object" => f.ty,
        _ => "boxed",
    };
    format!("{base}{}", if f.flag.is_some() { "?" } else { "" })
}

fn schema_mode_seeds() -> Seeds {
    use inspector_tests::schema_differential::{MODE_ANY, MODE_SCHEMA_TEXT, MODE_TYPE};
    let schema = Schema::builtin();
    let mut out = Seeds::new();
    // MODE_ANY: for each kind of field, as a constructor's and as a
    // function's, the first constructor that has one, with its optional
    // fields and without, and cut short.
    let mut kinds = std::collections::BTreeSet::new();
    for ctor in schema.iter() {
        let new: Vec<String> = ctor
            .fields
            .iter()
            .map(|f| format!("{}{}", if ctor.is_function { "fn-" } else { "" }, field_kind(f)))
            .filter(|k| !kinds.contains(k))
            .collect();
        if new.is_empty() {
            continue;
        }
        let Some(bytes) = json_of_ctor(ctor, true, 0).and_then(|j| schema.encode_json(&j).ok()) else { continue };
        kinds.extend(new);
        let name = ctor.name.replace('.', "-");
        out.push((format!("cov-any-{name}"), [&[MODE_ANY][..], &bytes].concat()));
        out.push((format!("cov-any-{name}-cut"), [&[MODE_ANY][..], &bytes[..bytes.len() / 2]].concat()));
        if ctor.fields.iter().any(|f| f.flag.is_some()) {
            if let Some(bytes) = json_of_ctor(ctor, false, 0).and_then(|j| schema.encode_json(&j).ok()) {
                out.push((format!("cov-any-{name}-no-options"), [&[MODE_ANY][..], &bytes].concat()));
            }
        }
    }
    // Lenient-only input: a flag bit the constructor does not define, and
    // bytes after the value.
    let geo = json_of_ctor(schema.by_name("geoPoint").expect("geoPoint"), true, 0).expect("geoPoint's JSON");
    let mut bytes = schema.encode_json(&geo).expect("geoPoint encodes");
    bytes[4] |= 0x80;
    bytes.extend_from_slice(&[0; 4]);
    out.push(("cov-any-geoPoint-undefined-flag-trailing".into(), [&[MODE_ANY][..], &bytes].concat()));
    // MODE_TYPE: a value of each of the first types, and one boxed type.
    let vector = le32(ids::VECTOR);
    let bool_true = le32(ids::BOOL_TRUE);
    let typed: [(u16, Vec<u8>); 19] = [
        (0, bool_true.to_vec()),
        (1, bool_true.to_vec()),
        (2, le32(5).to_vec()),
        (3, [0u8; 8].to_vec()),
        (4, f64::NAN.to_le_bytes().to_vec()),
        (5, [1u8; 16].to_vec()),
        (6, [2u8; 32].to_vec()),
        (7, [2, b'h', b'i', 0].to_vec()),
        (8, [1, 0xff, 0, 0].to_vec()),
        (9, [&vector[..], &le32(1), &[3; 8]].concat()),
        (10, [&vector[..], &le32(2), &le32(1), &le32(2)].concat()),
        (11, [&vector[..], &le32(1), &1.25f64.to_le_bytes()].concat()),
        (12, [&vector[..], &le32(1), &[0, 0, 0, 0][..]].concat()),
        (13, [&vector[..], &le32(1), &le32(ids::BOOL_FALSE)].concat()),
        (14, [&le32(1)[..], &[4; 8]].concat()),
        (15, [&vector[..], &le32(1), &vector, &le32(0)].concat()),
        (16, [&vector[..], &le32(1), &bool_true].concat()),
        (17, [&vector[..], &le32(0)].concat()),
        (18, le32(0).to_vec()),
    ];
    for (index, bytes) in typed {
        out.push((format!("cov-type-{index}"), [&[MODE_TYPE][..], &index.to_le_bytes(), &bytes].concat()));
    }
    // The type of a geoPoint: far down the list of types, by its index there.
    let geo_type_index = inspector_tests::schema_differential::builtin_types()
        .iter()
        .position(|t| t == "GeoPoint")
        .expect("GeoPoint is a type") as u16;
    let geo_bytes = schema.encode_json(&geo).expect("geoPoint encodes");
    out.push(("cov-type-GeoPoint".into(), [&[MODE_TYPE][..], &geo_type_index.to_le_bytes(), &geo_bytes].concat()));
    // Refusals inside a type: bytes after an int, a Bool and a Vector
    // that are not, and an Object field (invokeWithLayer's query) whose id
    // no schema knows.
    let refusals: [(&str, u16, Vec<u8>); 3] = [
        ("int-trailing", 2, [5u8; 8].to_vec()),
        ("bool-not-bool", 0, le32(ids::VECTOR).to_vec()),
        ("vector-not-vector", 9, [&bool_true[..], &le32(0)].concat()),
    ];
    for (name, index, bytes) in refusals {
        out.push((format!("cov-type-{name}"), [&[MODE_TYPE][..], &index.to_le_bytes(), &bytes].concat()));
    }
    let unknown_query = [&le32(ids::INVOKE_WITH_LAYER)[..], &le32(224), &le32(0x0bad_b0b0)].concat();
    out.push(("cov-any-invokeWithLayer-unknown-query".into(), [&[MODE_ANY][..], &unknown_query].concat()));
    let mut trailing = geo_bytes.clone();
    trailing.extend_from_slice(&[0; 4]);
    out.push((
        "cov-type-GeoPoint-trailing".into(),
        [&[MODE_TYPE][..], &geo_type_index.to_le_bytes(), &trailing].concat(),
    ));
    out.push((
        "cov-type-GeoPoint-wrong-constructor".into(),
        [&[MODE_TYPE][..], &geo_type_index.to_le_bytes(), &bool_true].concat(),
    ));
    // MODE_SCHEMA_TEXT: each way a line is refused, and a text the loader
    // reads to its end.
    let texts: [(&str, &str); 14] = [
        ("valid", "// c\nint ? = Int;\nvector#1cb5c415 {t:Type} # [ t ] = Vector t;\n---types---\na#00000001 x:int = A;\nb flags:# y:flags.0?A = B;\n---functions---\nf x:!B = B;"),
        ("unknown-section", "---other---"),
        ("no-semicolon", "a x:int = A"),
        ("bad-id", "a#zz x:int = A;"),
        ("no-name", "#1 = A;"),
        ("no-type", "a x:int;"),
        ("unimplemented", "a x:[int] = A;"),
        ("bad-flag-word", "a x:f.0?int = A;"),
        ("bad-generic", "a x:!X = A;"),
        ("flag-bit-32", "a flags:# x:flags.32?int = A;"),
        ("empty", ";"),
        ("cr-inside", "a x:int\r= A"),
        ("cr-in-section", "---x\ry"),
        ("not-utf8", "a\u{fffd} = A;"),
    ];
    for (name, text) in texts {
        out.push((format!("cov-text-{name}"), [&[MODE_SCHEMA_TEXT][..], text.as_bytes()].concat()));
    }
    out
}

// json: the fuzzer's bytes as JSON text (`json_text.rs`): each typed
// top-level type and the schema-driven reader, accepting and refusing.

fn json_text_seeds() -> Seeds {
    let texts: [(&str, &str); 26] = [
        (
            "request",
            r#"{"_":"messages.exportChatInvite","legacy_revoke_permanent":true,"peer":{"_":"inputPeerUserFromMessage","peer":{"_":"inputPeerChat","chat_id":5},"msg_id":1,"user_id":2},"expire_date":1700000000,"title":{"_":"bytes","hex":"ff00"},"subscription_pricing":{"_":"starsSubscriptionPricing","period":2592000,"amount":10}}"#,
        ),
        ("answer", r#"{"_":"chatInviteExported","flags":1,"revoked":true,"link":"t.me/+x","admin_id":1,"date":2}"#),
        ("answer-public", r#"{"_":"chatInvitePublicJoinRequests"}"#),
        ("error", r#"{"_":"rpc_error","error_code":420,"error_message":"FLOOD_WAIT_3"}"#),
        ("peer", r#"{"_":"inputPeerChannel","channel_id":1,"access_hash":-2}"#),
        ("not-object", r#"[1,2]"#),
        ("no-name", r#"{"peer":null}"#),
        ("name-not-string", r#"{"_":5}"#),
        ("unknown-ctor", r#"{"_":"nope"}"#),
        (
            "wrong-type",
            r#"{"_":"messages.exportChatInvite","peer":{"_":"rpc_error","error_code":1,"error_message":""}}"#,
        ),
        ("unknown-field", r#"{"_":"rpc_error","error_code":1,"error_message":"","extra":1}"#),
        ("no-fields", r#"{"_":"chatInvitePublicJoinRequests","x":1}"#),
        ("missing-field", r#"{"_":"rpc_error","error_code":1}"#),
        ("int-range", r#"{"_":"rpc_error","error_code":4294967296,"error_message":""}"#),
        ("long-type", r#"{"_":"inputPeerUser","user_id":"1","access_hash":1}"#),
        ("string-type", r#"{"_":"rpc_error","error_code":1,"error_message":7}"#),
        ("bad-hex", r#"{"_":"rpc_error","error_code":1,"error_message":{"_":"bytes","hex":"zz"}}"#),
        ("flag-type", r#"{"_":"chatInviteExported","revoked":1,"link":"","admin_id":1,"date":2}"#),
        ("flags-disagree", r#"{"_":"chatInviteExported","flags":3,"link":"","admin_id":1,"date":2}"#),
        ("flags-type", r#"{"_":"chatInviteExported","flags":-1,"link":"","admin_id":1,"date":2}"#),
        (
            "schema-double",
            r#"{"_":"geoPoint","long":1.5,"lat":{"_":"double","hex":"000000000000f87f"},"access_hash":3,"accuracy_radius":4}"#,
        ),
        (
            "schema-bad-values",
            r#"{"_":"resPQ","nonce":"00","server_nonce":"zz","pq":"!!","server_public_key_fingerprints":{}}"#,
        ),
        (
            "schema-bytes-base64",
            r#"{"_":"resPQ","nonce":"000102030405060708090a0b0c0d0e0f","server_nonce":"000102030405060708090a0b0c0d0e0f","pq":"!!","server_public_key_fingerprints":[1]}"#,
        ),
        (
            "schema-bool-vector",
            r#"{"_":"future_salts","req_msg_id":1,"now":2,"salts":[{"_":"future_salt","valid_since":1,"valid_until":2,"salt":3},{"_":"msg_container"}]}"#,
        ),
        ("schema-generic", r#"{"_":"invokeWithLayer","layer":224,"query":{"_":"help.getConfig"}}"#),
        ("schema-bool", r#"{"_":"account.updateStatus","offline":"yes"}"#),
    ];
    texts.iter().map(|(name, text)| (format!("cov-text-{name}"), text.as_bytes().to_vec())).collect()
}

// transport: the committed `fuzzed-*` inputs that configure no secret
// (their first byte even: nothing forced, so the second is the secret's
// kind), with an `ee` secret instead.

fn transport_ee_seeds() -> Seeds {
    let dir = corpus_root().join("transport");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("corpus/transport")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with("fuzzed-"))
        .collect();
    names.sort();
    let mut out = Seeds::new();
    for name in names {
        let mut data = fs::read(dir.join(&name)).expect("a transport seed");
        if data.len() < 40 || data[0] % 2 != 0 || out.len() == 8 {
            continue;
        }
        data[1] = 0xf0 | (data[1] & 0x0f);
        out.push((format!("cov-ee-{}", &name["fuzzed-".len()..]), data));
    }
    out
}

// ---------------------------------------------------------------------------

fn all_seeds() -> Vec<(&'static str, Seeds, Property)> {
    vec![
        ("capture_file", capture_seeds(), inspector_tests::fuzzing::capture_file),
        // The whole run meets the same files: its warnings for each refusal.
        (
            "pcap_pipeline",
            // Without the 70 KiB record: capture_file covers the buffer's growth.
            capture_seeds()
                .into_iter()
                .filter(|(name, _)| name != "cov-pcap-record-over-initial-buffer")
                .chain(pipeline_seeds())
                .map(|(name, bytes)| (name, sampled_everything(bytes)))
                .collect(),
            inspector_tests::fuzzing::pcap_pipeline,
        ),
        ("pcap_pipeline", schema_pipeline_seeds(), inspector_tests::fuzzing::pcap_pipeline),
        ("service", service_seeds(), inspector_tests::fuzzing::service),
        ("envelope", envelope_seeds(), inspector_tests::fuzzing::envelope),
        ("schema_differential", schema_differential_seeds(), inspector_tests::schema_differential::schema_differential),
        ("schema_differential", schema_mode_seeds(), inspector_tests::schema_differential::schema_differential),
        ("json", json_text_seeds(), inspector_tests::fuzzing::json),
        ("transport", transport_ee_seeds(), inspector_tests::fuzzing::transport),
    ]
}

#[test]
#[ignore = "writes corpus/; run with CORPUS_WRITE=1 to regenerate the coverage seeds"]
fn regenerate_coverage_seeds() {
    let write = std::env::var_os("CORPUS_WRITE").is_some();
    let mut total = 0;
    for (target, seeds, property) in all_seeds() {
        let dir = corpus_root().join(target);
        for (name, data) in &seeds {
            property(data);
            if write {
                fs::write(dir.join(name), data).expect("seed written");
            }
            total += data.len();
        }
        eprintln!("{target}: {} seeds", seeds.len());
    }
    eprintln!("{total} bytes in all");
}
