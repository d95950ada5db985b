//! The fake-TLS ClientHello reader on hand-built records: what it refuses,
//! in one line, and hellos with no server name or one of another kind.

use inspector::transport::faketls::parse_client_hello;

/// A ClientHello record: TLS record header, handshake header, version,
/// random, empty session id, one cipher suite, no compression, extensions.
fn hello(extensions: &[u8]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x42; 32]);
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // cipher suites
    body.extend_from_slice(&[1, 0]); // compression: null
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(extensions);
    let mut handshake = vec![0x01, 0, (body.len() >> 8) as u8, body.len() as u8];
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// A server_name extension naming `name` with name type `kind`.
fn sni(kind: u8, name: &[u8]) -> Vec<u8> {
    let list_len = 3 + name.len();
    let mut e = vec![0, 0];
    e.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    e.extend_from_slice(&(list_len as u16).to_be_bytes());
    e.push(kind);
    e.extend_from_slice(&(name.len() as u16).to_be_bytes());
    e.extend_from_slice(name);
    e
}

#[test]
fn a_hello_gives_its_random_and_server_name() {
    let h = parse_client_hello(&hello(&sni(0, b"example.com"))).unwrap();
    assert_eq!((h.random, h.sni.as_deref()), ([0x42; 32], Some("example.com")));
    // Another extension first, then none naming a host.
    let mut other = vec![0x00, 0x0a, 0, 2, 0, 0];
    other.extend(sni(1, b"x"));
    assert_eq!(parse_client_hello(&hello(&other)).unwrap().sni, None);
    assert_eq!(parse_client_hello(&hello(&[])).unwrap().sni, None);
}

#[test]
fn what_is_not_a_client_hello_says_why() {
    assert_eq!(parse_client_hello(&[0x16, 3]).unwrap_err(), "shorter than a record header");
    let mut alert = hello(&[]);
    alert[0] = 0x15;
    assert_eq!(parse_client_hello(&alert).unwrap_err(), "record type 0x15, expected a handshake (0x16)");
    let mut server = hello(&[]);
    server[5] = 0x02;
    assert_eq!(parse_client_hello(&server).unwrap_err(), "handshake type 2, expected a ClientHello (1)");
    assert_eq!(parse_client_hello(&[0x16, 3, 1, 0, 2, 1, 0]).unwrap_err(), "no handshake header");
}
