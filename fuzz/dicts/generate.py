#!/usr/bin/env python3
"""Write the libFuzzer dictionaries in fuzz/dicts/, one per target.

Constructor ids come from the TL text the library is generated from
(inspector/tl/closure.tl and service.tl; for schema_differential also the
schema-driven decoder's builtin api.tl and mtproto.tl), little endian as on
the wire;
the transport tags, capture-file magics and link-layer values are the
protocol's and the file formats' constants. Run it after changing a .tl
file: python3 fuzz/dicts/generate.py
"""
import pathlib
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "fuzz" / "dicts"


def ids_of(*files):
    """(name, id) of every constructor line of the .tl files in inspector/tl/."""
    ids = []
    for name in files:
        for line in (ROOT / "inspector" / "tl" / name).read_text().splitlines():
            m = re.match(r"^([A-Za-z_.0-9]+)#([0-9a-f]+)\b", line.strip())
            if m:
                ids.append((m.group(1), int(m.group(2), 16)))
    return ids


def tl_ids():
    return ids_of("closure.tl", "service.tl") + [("vector", 0x1CB5C415)]


def esc(data: bytes) -> str:
    return "".join(f"\\x{b:02x}" for b in data)


def entries_schema():
    """schema_differential: its mode bytes (MODE_ANY .. MODE_FIXED in
    tests/support/schema_differential.rs), every constructor id of the
    builtin schema, and the tokens of TL schema text. The fuzz builds have
    no comparison tracing, so this is how the mutator learns the ids the
    decoder looks up."""
    out = [(f"mode_{b:02x}", bytes([b])) for b in (0xA0, 0xA1, 0xA2, 0xA3)]
    out += entries_tl()
    out += [(f"id_{n}", struct.pack("<I", i)) for n, i in ids_of("api.tl", "mtproto.tl")]
    words = [b"---functions---", b"---types---", b"flags:#", b"flags.0?", b"flags2.31?", b"true", b"Vector<",
             b"vector", b"{X:Type}", b"!X", b"#", b" = ", b";", b":", b"int", b"long", b"double", b"string",
             b"bytes", b"int128", b"int256", b"Bool", b"Object", b"//", b"/*", b"*/", b"%", b"\n"]
    out += [(f"schema_{i}", w) for i, w in enumerate(words)]
    return out


def entries_tl():
    out = [(f"id_{n}", struct.pack("<I", i)) for n, i in tl_ids()]
    out += [
        ("string_long_form", b"\xfe"),
        ("string_ff", b"\xff"),
        ("string_254", b"\xfe\xfe\x00\x00"),
        ("flags_all_closure", struct.pack("<I", 0x3F)),
        ("flags_all_answer", struct.pack("<I", 0x7FF)),
        ("flags_high", struct.pack("<I", 0x80000000)),
        ("int_min", struct.pack("<i", -(2**31))),
        ("long_max", struct.pack("<q", 2**63 - 1)),
        ("gzip_magic", b"\x1f\x8b\x08"),
        ("zlib_magic", b"\x78\x9c"),
        ("utf8_overlong", b"\xc0\xaf"),
        ("utf8_surrogate", b"\xed\xa0\x80"),
        ("layer_223", struct.pack("<i", 223)),
    ]
    return out


def entries_transport():
    return [
        ("abridged", b"\xef"),
        ("abridged_long", b"\x7f"),
        ("intermediate", b"\xee\xee\xee\xee"),
        ("padded", b"\xdd\xdd\xdd\xdd"),
        ("obfuscated_abridged", b"\xef\xef\xef\xef"),
        ("quick_ack", b"\x80\x00\x00\x00"),
        ("err_404", struct.pack("<i", -404)),
        ("err_429", struct.pack("<i", -429)),
        ("err_444", struct.pack("<i", -444)),
        ("http_head", b"HEAD"),
        ("http_post", b"POST"),
        ("http_get", b"GET "),
        ("http_options", b"OPTI"),
        ("tls", b"\x16\x03\x01\x02"),
        ("tls_appdata", b"\x17\x03\x03"),
        ("zero_key_id", b"\x00" * 8),
        ("mtproxy_dd", b"\xdd"),
    ]


def entries_capture():
    return [
        ("pcap_le", b"\xd4\xc3\xb2\xa1"),
        ("pcap_be", b"\xa1\xb2\xc3\xd4"),
        ("pcap_ns_le", b"\x4d\x3c\xb2\xa1"),
        ("pcapng_shb", b"\x0a\x0d\x0d\x0a"),
        ("pcapng_bom", b"\x4d\x3c\x2b\x1a"),
        ("pcapng_idb", b"\x01\x00\x00\x00"),
        ("pcapng_epb", b"\x06\x00\x00\x00"),
        ("pcapng_spb", b"\x03\x00\x00\x00"),
        ("pcapng_pib", b"\x80\x00\x00\x80"),
        ("link_ethernet", b"\x01\x00"),
        ("link_raw", b"\x65\x00"),
        ("link_sll", b"\x71\x00"),
        ("link_sll2", b"\x14\x01"),
        ("link_null", b"\x00\x00"),
        ("ethertype_ipv4", b"\x08\x00"),
        ("ethertype_ipv6", b"\x86\xdd"),
        ("ethertype_vlan", b"\x81\x00"),
        ("ipv4_tcp", b"\x45\x00"),
        ("ipv6_tcp", b"\x60\x00\x00\x00"),
        ("proto_tcp", b"\x06"),
        ("tcp_syn", b"\x02"),
        ("tcp_synack", b"\x12"),
        ("tcp_fin", b"\x11"),
        ("tcp_rst", b"\x04"),
        ("port_443", b"\x01\xbb"),
    ]


def entries_json_text():
    """The json target's JSON-text mode: the tokens of the canonical form."""
    words = [b'{"_":"', b'":', b'"flags":', b'"peer":', b'"hex":', b'"bytes"', b'"double"', b"null",
             b"true", b"false", b"[]", b"{}", b"4294967296", b"-1", b"1.5e308", b'\\u0000']
    names = [b"messages.exportChatInvite", b"chatInviteExported", b"chatInvitePublicJoinRequests",
             b"rpc_error", b"inputPeerUserFromMessage", b"inputPeerChannel", b"starsSubscriptionPricing",
             b"geoPoint", b"resPQ", b"future_salts", b"invokeWithLayer"]
    return [(f"json_{i}", w) for i, w in enumerate(words)] + [(f"name_{i}", n) for i, n in enumerate(names)]


TARGETS = {
    # Targets that decode TL bytes.
    "decode_bytes": entries_tl,
    "differential": entries_tl,
    "render": entries_tl,
    "json": lambda: entries_tl() + entries_json_text(),
    "service": entries_tl,
    "schema_differential": entries_schema,
    "envelope": lambda: entries_tl() + [("zero_key_id", b"\x00" * 8)],
    # Transports and the stream below them.
    "transport": lambda: entries_transport() + entries_tl(),
    "tcp_reassembly": entries_capture,
    "capture_file": lambda: entries_capture() + entries_transport(),
    "pcap_pipeline": lambda: entries_capture() + entries_transport() + entries_tl(),
}


def main():
    for target, make in TARGETS.items():
        seen = set()
        lines = [f"# libFuzzer dictionary for {target}: written by fuzz/dicts/generate.py"]
        for name, data in make():
            if data in seen:
                continue
            seen.add(data)
            lines.append(f'{name}="{esc(data)}"')
        (OUT / f"{target}.dict").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
