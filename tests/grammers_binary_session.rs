//! grammers' binary session files (before its SQLite storage), assembled
//! here: a data centre without an address or a key, a session with no
//! key at all, and one whose vector is not a vector.

use inspector::keys::{load_session_file, SessionFormat};

const SESSION: u32 = 0xa73e_b8ce;
const DATA_CENTER: u32 = 0x756d_16b6;
const VECTOR: u32 = 0x1cb5_c415;

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// dataCenter with flags 4 (auth only): id, port, and `auth` as TL bytes.
fn centre(id: u32, auth: &[u8]) -> Vec<u8> {
    let mut v = words(&[DATA_CENTER, 4, id, 443]);
    let header = if auth.len() < 254 {
        v.push(auth.len() as u8);
        1
    } else {
        v.extend_from_slice(&[0xfe, auth.len() as u8, (auth.len() >> 8) as u8, (auth.len() >> 16) as u8]);
        4
    };
    v.extend_from_slice(auth);
    v.resize(v.len() + (4 - (header + auth.len()) % 4) % 4, 0);
    v
}

fn load(name: &str, bytes: &[u8]) -> Result<Vec<inspector::keys::SessionKey>, String> {
    let dir = std::env::temp_dir().join(format!("inspector-grammers-bin-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.session");
    std::fs::write(&path, bytes).unwrap();
    let r = load_session_file(&path).map_err(|e| e.problem);
    std::fs::remove_dir_all(&dir).unwrap();
    r
}

#[test]
fn a_key_without_an_address_and_a_centre_without_a_key() {
    let mut file = words(&[SESSION, 0, VECTOR, 2]);
    file.extend(centre(1, &[]));
    file.extend(centre(4, &[7; 256]));
    let keys = load("one", &file).unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(
        (k.format, k.dc_id, k.address.as_deref(), k.home, k.temporary),
        (SessionFormat::GrammersTl, Some(4), None, false, false)
    );
    assert_eq!(k.key.bytes(), &[7; 256]);
}

#[test]
fn a_session_without_keys_or_with_a_broken_vector() {
    let mut file = words(&[SESSION, 0, VECTOR, 1]);
    file.extend(centre(2, &[]));
    assert_eq!(load("none", &file).unwrap_err(), "the session holds no auth key (not logged in)");
    let mut file = words(&[SESSION, 0, 0x1234_5678, 1]);
    file.extend(centre(2, &[]));
    assert_eq!(
        load("broken", &file).unwrap_err(),
        "a grammers session (binary TL) with 0x12345678 at byte 8 where Vector<DataCenter> (0x1cb5c415) was expected"
    );
}
