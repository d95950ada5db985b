//! The MTProto envelope's error lines and small accessors, on messages
//! built here: a payload too short for an auth_key_id, a plaintext whose
//! length field cannot be right, padding that `encrypt_message` refuses,
//! raw key bytes that happen to be text, and the key store.

use inspector::envelope::{
    auth_key_id, decrypt_message, encrypt_message, encrypt_plaintext, format_key_id, open_message, parse_auth_key,
    AuthKey, Envelope, EnvelopeError, KeyStore, OutgoingMessage,
};
use inspector::tcp::Direction;

fn key() -> AuthKey {
    let mut bytes = [0u8; 256];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    AuthKey::new(bytes)
}

#[test]
fn a_key_prints_only_its_id() {
    let k = key();
    let shown = format!("{k:?}");
    assert_eq!(shown, format!("AuthKey({:016x})", auth_key_id(k.bytes())));
    assert_eq!(shown, format!("AuthKey({})", format_key_id(k.id())));
}

#[test]
fn raw_key_bytes_that_are_text_but_not_hex_are_read_as_bytes() {
    // 256 bytes of 'z': valid UTF-8, not hex, so taken as the raw key.
    let raw = [b'z'; 256];
    assert_eq!(parse_auth_key(&raw).unwrap().bytes(), &raw);
    assert_eq!(
        parse_auth_key(b"not a key").unwrap_err().to_string(),
        "an auth key is 256 bytes (512 hex digits), found 9 bytes"
    );
}

#[test]
fn the_key_store_counts_distinct_keys() {
    let mut keys = KeyStore::new();
    assert!(keys.is_empty());
    keys.insert(key());
    keys.insert(key());
    assert_eq!(keys.len(), 1);
    assert!(!keys.is_empty());
    assert_eq!(keys.ids(), [key().id()]);
}

#[test]
fn every_envelope_names_its_auth_key_id() {
    let mut keys = KeyStore::new();
    keys.insert(key());
    let plain = inspector::envelope::plain_message(0x1234, &[1, 2, 3, 4]);
    let opened = open_message(&plain, Direction::ClientToServer, &keys).unwrap();
    assert!(matches!(opened, Envelope::Plain { msg_id: 0x1234, data: [1, 2, 3, 4], trailing: 0 }));
    assert_eq!(opened.auth_key_id(), 0);

    let message = OutgoingMessage { salt: 1, session_id: 2, msg_id: 3, seq_no: 4, data: &[9; 8] };
    let sealed = encrypt_message(&key(), Direction::ServerToClient, &message, &[0; 24]).unwrap();
    let opened = open_message(&sealed, Direction::ServerToClient, &keys).unwrap();
    assert_eq!(opened.auth_key_id(), key().id());
    let Envelope::Encrypted(m) = &opened else { panic!("{opened:?}") };
    assert_eq!((m.salt, m.session_id, m.msg_id, m.seq_no, &m.data[..], m.padding_len), (1, 2, 3, 4, &[9; 8][..], 24));

    let unknown = open_message(&sealed, Direction::ServerToClient, &KeyStore::new()).unwrap();
    assert_eq!(unknown, Envelope::UnknownKey { auth_key_id: key().id() });
    assert_eq!(unknown.auth_key_id(), key().id());
}

#[test]
fn a_payload_without_an_auth_key_id_is_too_short() {
    let e = open_message(&[0; 7], Direction::ClientToServer, &KeyStore::new()).unwrap_err();
    assert_eq!(e, EnvelopeError::TooShort { len: 7, needed: 8, what: "an auth_key_id" });
    assert_eq!(e.to_string(), "error at byte 0x0 in message: an auth_key_id needs at least 8 bytes, found 7");
}

#[test]
fn a_plaintext_length_that_leaves_too_little_padding_is_named() {
    // 32 bytes of header and 32 after it; a length of 24 leaves only 8 bytes
    // of padding (at least 12 are needed).
    let mut plaintext = vec![0u8; 64];
    plaintext[28..32].copy_from_slice(&24u32.to_le_bytes());
    let sealed = encrypt_plaintext(&key(), Direction::ClientToServer, plaintext);
    let e = decrypt_message(&key(), Direction::ClientToServer, &sealed).unwrap_err();
    assert_eq!(e, EnvelopeError::InnerLength { offset: 28, length: 24, available: 32 });
    assert_eq!(
        e.to_string(),
        "error at byte 0x1c in plaintext.length: message length 24 does not fit the 32 bytes after the header \
         (must be a multiple of 4 leaving 12..1024 bytes of padding)"
    );
}

#[test]
fn encrypt_message_refuses_padding_outside_the_rules() {
    let message = OutgoingMessage { salt: 0, session_id: 0, msg_id: 0, seq_no: 0, data: &[0; 4] };
    // 32 + 4 + 8 = 44: too little padding, and not a multiple of 16.
    assert_eq!(
        encrypt_message(&key(), Direction::ClientToServer, &message, &[0; 8]).unwrap_err(),
        "padding of 8 bytes does not make a valid plaintext of 44 bytes"
    );
    // 32 + 4 + 13 = 49: enough padding, not a multiple of 16.
    assert_eq!(
        encrypt_message(&key(), Direction::ClientToServer, &message, &[0; 13]).unwrap_err(),
        "padding of 13 bytes does not make a valid plaintext of 49 bytes"
    );
}

#[test]
fn more_than_1024_bytes_of_padding_is_named() {
    // A body of 0 bytes and 1040 after the header: 1040 bytes of padding.
    let plaintext = vec![0u8; 32 + 1040];
    let sealed = encrypt_plaintext(&key(), Direction::ServerToClient, plaintext);
    let e = decrypt_message(&key(), Direction::ServerToClient, &sealed).unwrap_err();
    assert_eq!(e, EnvelopeError::Padding { offset: 32, padding: 1040 });
    assert_eq!(e.to_string(), "error at byte 0x20 in plaintext.padding: 1040 bytes of padding, expected 12 to 1024");
}
