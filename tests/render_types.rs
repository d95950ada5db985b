//! The tree and the annotated hex dump of every TL value kind the closure
//! does not use, on constructors of the built-in schema decoded by
//! `inspector decode`: int128, string, boxed and bare vectors, bare objects,
//! doubles (finite and not), bytes and Bool.

use inspector::cli::ExitStatus;
use inspector_tests::cli::cli;

fn decode(format: &str, bytes: &[u8]) -> String {
    let hex = inspector::hex::encode(bytes);
    let out = cli(&["decode", "--format", format], hex.as_bytes());
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    String::from_utf8(out.raw_stdout).unwrap()
}

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The lines of `text` with their byte ranges and tree drawing taken off.
fn contents(text: &str) -> Vec<String> {
    text.lines().map(|l| l.rsplit_once("── ").map_or(l, |(_, field)| field).to_string()).collect()
}

fn has_line(text: &str, want: &str) {
    assert!(contents(text).iter().any(|l| l == want), "no line {want:?} in:\n{text}");
}

#[test]
fn int128_strings_and_a_boxed_vector_of_longs() {
    // resPQ#05162463 nonce:int128 server_nonce:int128 pq:string
    //   server_public_key_fingerprints:Vector<long>
    let mut b = words(&[0x0516_2463]);
    b.extend(0u8..16);
    b.extend(16u8..32);
    b.extend_from_slice(&[3, b'a', b'b', b'c']);
    b.extend(words(&[0x1cb5_c415, 2]));
    b.extend_from_slice(&7i64.to_le_bytes());
    b.extend_from_slice(&(-1i64).to_le_bytes());
    let tree = decode("tree", &b);
    has_line(&tree, "nonce: int128 = 000102030405060708090a0b0c0d0e0f");
    has_line(&tree, "server_nonce: int128 = 101112131415161718191a1b1c1d1e1f");
    has_line(&tree, "pq: bytes = 61 62 63 (3 bytes)");
    has_line(&tree, "[0]: long = 7");
    has_line(&tree, "[1]: long = -1");
    let dump = decode("hexdump", &b);
    assert!(dump.contains("server_public_key_fingerprints vector id and count (2)"), "{dump}");
    assert!(dump.contains("server_public_key_fingerprints.1"), "{dump}");
}

#[test]
fn a_bare_vector_of_bare_objects() {
    // future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt>,
    // future_salt valid_since:int valid_until:int salt:long (bare).
    let mut b = words(&[0xae50_0895]);
    b.extend_from_slice(&1i64.to_le_bytes());
    b.extend(words(&[2, 1, 3, 4]));
    b.extend_from_slice(&5i64.to_le_bytes());
    let tree = decode("tree", &b);
    has_line(&tree, "valid_until: int = 4");
    has_line(&tree, "salt: long = 5");
    has_line(&tree, "[0]: future_salt = future_salt");
    let dump = decode("hexdump", &b);
    assert!(dump.contains("salts vector count (1)"), "{dump}");
    assert!(!dump.contains("salts vector id"), "{dump}");
}

#[test]
fn doubles_finite_and_not() {
    // geoPoint#b2a2f663 flags:# long:double lat:double access_hash:long
    //   accuracy_radius:flags.0?int
    let mut b = words(&[0xb2a2_f663, 0]);
    b.extend_from_slice(&1.5f64.to_le_bytes());
    b.extend_from_slice(&f64::INFINITY.to_le_bytes());
    b.extend_from_slice(&9i64.to_le_bytes());
    let tree = decode("tree", &b);
    has_line(&tree, "long: double = 1.5");
    has_line(&tree, "lat: double = inf (0x7ff0000000000000)");
}

#[test]
fn bytes_of_one_and_of_many() {
    // photoStrippedSize#e0b0bc2e type:string bytes:bytes
    let mut b = words(&[0xe0b0_bc2e]);
    b.extend_from_slice(&[1, b'i', 0, 0]);
    b.extend_from_slice(&[1, 0xab, 0, 0]);
    let tree = decode("tree", &b);
    assert!(contents(&tree).iter().any(|l| l.starts_with("bytes: bytes = ") && l.ends_with(" (1 byte)")), "{tree}");
    let mut b = words(&[0xe0b0_bc2e]);
    b.extend_from_slice(&[1, b'i', 0, 0]);
    b.extend_from_slice(&[0, 0, 0, 0]);
    let tree = decode("tree", &b);
    has_line(&tree, "bytes: bytes = empty (0 bytes)");
}

#[test]
fn a_bool_field() {
    // account.updateStatus#6628562c offline:Bool, boolTrue#997275b5
    let tree = decode("tree", &words(&[0x6628_562c, 0x9972_75b5]));
    has_line(&tree, "offline: Bool = true");
    let tree = decode("tree", &words(&[0x6628_562c, 0xbc79_9737]));
    has_line(&tree, "offline: Bool = false");
}
