//! Keys from real client sessions (inspector::keys), checked against the
//! sessions and strings that Telethon, Pyrogram, Pyrofork, Hydrogram and
//! Kurigram themselves wrote (tests/fixtures/sessions/generate.sh) with the
//! key of the real captures: each must yield that key, decrypt the
//! captures exactly as `--auth-key` does, and stay byte-for-byte as it was.

use std::path::{Path, PathBuf};

use inspector::envelope::{format_key_id, parse_auth_key, KeyStore};
use inspector::keys::{
    add_to_store, listing_lines, load_session_file, load_source, parse_session_string, PyrogramStringLayout,
    SessionFormat, SessionKey,
};
use inspector::report::{run_capture, ReportFormat, ReportOptions};

const SESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sessions/");
const CAPTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/");

/// The key every fixture was made with, read from the capture's own file.
fn capture_key() -> Vec<u8> {
    let text = std::fs::read_to_string(format!("{CAPTURES}auth_key.hex")).expect("the shipped key");
    inspector::hex::parse(text.trim()).expect("hex")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(SESSIONS).join(name)
}

/// Every file of a folder with its bytes, to see that nothing changed or
/// appeared.
fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| {
            let e = e.expect("an entry");
            let bytes = if e.path().is_file() { std::fs::read(e.path()).expect("readable") } else { Vec::new() };
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

fn report(keys: KeyStore, capture: &str) -> (String, String) {
    let bytes = std::fs::read(format!("{CAPTURES}{capture}.pcap")).expect("the shipped capture");
    let options = ReportOptions { keys, format: ReportFormat::Json, all: true, ..Default::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_capture(&bytes[..], &options, &mut out, &mut err).expect("the capture is read");
    (String::from_utf8(out).expect("UTF-8"), String::from_utf8(err).expect("UTF-8"))
}

/// The reports of both captures with these keys equal those with the key
/// given as `--auth-key` would be, and decode something.
fn assert_decrypts_like_auth_key(keys: &[SessionKey], what: &str) {
    let mut from_session = KeyStore::new();
    add_to_store(keys, &mut from_session);
    let mut from_hex = KeyStore::new();
    from_hex.insert(parse_auth_key(&std::fs::read(format!("{CAPTURES}auth_key.hex")).unwrap()).unwrap());
    for capture in ["abridged", "obfuscated_intermediate"] {
        let expected = report(from_hex.clone(), capture);
        let got = report(from_session.clone(), capture);
        assert_eq!(got, expected, "{what}: the report of {capture} differs from --auth-key's");
        assert_eq!(got.1, "", "{what}: warnings on {capture}");
        assert!(got.0.contains("messages.exportChatInvite"), "{what}: {capture} decoded nothing");
    }
}

fn assert_one_capture_key(keys: &[SessionKey], format: SessionFormat, address: Option<&str>, what: &str) {
    assert_eq!(keys.len(), 1, "{what}: one key");
    let k = &keys[0];
    assert_eq!(k.key.bytes().as_slice(), capture_key().as_slice(), "{what}: the key");
    assert_eq!(k.format, format, "{what}: format");
    assert_eq!(k.dc_id, Some(2), "{what}: dc");
    assert_eq!(k.address.as_deref(), address, "{what}: address");
    assert!(!k.temporary);
}

const TELETHON_ADDRESS: Option<&str> = Some("149.154.167.51:443");

#[test]
fn session_files_of_real_clients() {
    let cases: &[(&str, SessionFormat, Option<&str>)] = &[
        ("telethon-1.45.0.session", SessionFormat::TelethonFile { version: 8 }, TELETHON_ADDRESS),
        ("telethon-1.28.5.session", SessionFormat::TelethonFile { version: 7 }, TELETHON_ADDRESS),
        ("pyrogram-1.4.16.session", SessionFormat::PyrogramFile { version: 2 }, None),
        ("pyrogram-2.0.106.session", SessionFormat::PyrogramFile { version: 3 }, None),
        ("pyrofork-2.3.69.session", SessionFormat::PyrogramFile { version: 4 }, None),
        ("hydrogram-0.2.0.session", SessionFormat::PyrogramFile { version: 3 }, None),
        // Kurigram writes the address of the data centre it connects to.
        ("kurigram-2.2.26.session", SessionFormat::PyrogramFile { version: 7 }, Some("149.154.167.51:443")),
        // Migrated from Pyrogram 2.0's version 3: server_address and port
        // come last; the address is Kurigram's own table entry for DC 2.
        ("kurigram-2.2.26-migrated.session", SessionFormat::PyrogramFile { version: 7 }, Some("149.154.167.51:443")),
    ];
    let dir = PathBuf::from(SESSIONS);
    let before = snapshot_dir(&dir);
    for (name, format, address) in cases {
        let keys = load_session_file(&fixture(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_one_capture_key(&keys, *format, *address, name);
        assert_decrypts_like_auth_key(&keys, name);
        // The same through the entry point the command line uses.
        let again = load_source(fixture(name).to_str().unwrap()).unwrap();
        assert_eq!(again[0].key.id(), keys[0].key.id());
    }
    assert!(before == snapshot_dir(&dir), "reading the sessions changed or created a file in their folder");
}

#[test]
fn session_strings_of_real_clients() {
    use PyrogramStringLayout::*;
    let ipv6 = Some("[2001:67c:4e8:f002::a]:443");
    let cases: &[(&str, SessionFormat, Option<&str>)] = &[
        ("telethon-1.45.0.string", SessionFormat::TelethonString, TELETHON_ADDRESS),
        ("telethon-1.45.0-ipv6.string", SessionFormat::TelethonString, ipv6),
        ("telethon-1.28.5.string", SessionFormat::TelethonString, TELETHON_ADDRESS),
        ("telethon-1.28.5-ipv6.string", SessionFormat::TelethonString, ipv6),
        ("pyrogram-1.4.16-32.string", SessionFormat::PyrogramString(V1UserId32), None),
        ("pyrogram-1.4.16.string", SessionFormat::PyrogramString(V1UserId64), None),
        ("pyrogram-2.0.106.string", SessionFormat::PyrogramString(V2), None),
        ("pyrofork-2.3.69.string", SessionFormat::PyrogramString(V2), None),
        ("hydrogram-0.2.0.string", SessionFormat::PyrogramString(V2), None),
        ("kurigram-2.2.26.string", SessionFormat::PyrogramString(V2), None),
    ];
    for (name, format, address) in cases {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let keys = parse_session_string(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_one_capture_key(&keys, *format, *address, name);
        assert_decrypts_like_auth_key(&keys, name);
        // A file holding the string is read as the string.
        let from_file = load_session_file(&fixture(name)).unwrap();
        assert_eq!(from_file[0].format, *format);
        // Padding present or stripped: Telethon pads, Pyrogram strips.
        let trimmed = text.trim();
        let other = if trimmed.ends_with('=') {
            trimmed.trim_end_matches('=').to_string()
        } else {
            let body =
                trimmed.strip_prefix('1').filter(|_| *format == SessionFormat::TelethonString).unwrap_or(trimmed);
            format!("{trimmed}{}", "=".repeat((4 - body.len() % 4) % 4))
        };
        if other == trimmed {
            continue; // a length that needs no padding
        }
        let keys = load_source(&other).unwrap_or_else(|e| panic!("{name} re-padded: {e}"));
        assert_eq!(keys[0].key.bytes().as_slice(), capture_key().as_slice());
    }
}

#[test]
fn a_session_in_wal_mode_is_read_from_its_wal_and_left_alone() {
    // Kurigram (use_wal=True) wrote the key while the files were copied,
    // its connection still open: the key is only in the -wal file.
    let dir = std::env::temp_dir().join(format!("inspector-wal-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    for suffix in ["", "-wal"] {
        std::fs::copy(
            fixture(&format!("kurigram-2.2.26-wal.session{suffix}")),
            dir.join(format!("live.session{suffix}")),
        )
        .unwrap();
    }
    let before = snapshot_dir(&dir);
    let keys = load_session_file(&dir.join("live.session")).unwrap_or_else(|e| panic!("{e}"));
    assert_one_capture_key(&keys, SessionFormat::PyrogramFile { version: 7 }, Some("149.154.167.51:443"), "WAL");
    assert_decrypts_like_auth_key(&keys, "WAL");
    assert!(before == snapshot_dir(&dir), "reading a WAL session changed or created a file in its folder");
    // Without its WAL, the database file alone has no tables yet.
    std::fs::remove_file(dir.join("live.session-wal")).unwrap();
    let e = load_session_file(&dir.join("live.session")).unwrap_err();
    assert_eq!(e.problem, "an SQLite database, but not a client session (no sessions or dc_option table)");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_listing_names_format_dc_address_and_key_id() {
    let keys = load_session_file(&fixture("telethon-1.45.0.session")).unwrap();
    // The id of the capture key, as the capture's manifest records it.
    let manifest = std::fs::read_to_string(format!("{CAPTURES}MANIFEST.json")).unwrap();
    let id = format_key_id(keys[0].key.id());
    assert!(manifest.contains(&id), "the manifest names the key id {id}");
    assert_eq!(listing_lines(&keys), vec![format!("telethon session v8  dc 2 (home)  149.154.167.51:443  {id}")]);
}

// ---- bad input: one line naming the source and what is wrong ----

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("inspector-session-bad-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        Scratch(dir)
    }

    /// A copy of a fixture, changed by `sql`.
    fn altered(&self, fixture_name: &str, sql: &str) -> PathBuf {
        let path = self.0.join(fixture_name);
        std::fs::copy(fixture(fixture_name), &path).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn problem_of(path: &Path) -> String {
    let e = load_session_file(path).unwrap_err();
    let line = e.to_string();
    assert_eq!(line, format!("{}: {}", path.display(), e.problem));
    assert!(!line.contains('\n'), "{line:?}");
    e.problem
}

#[test]
fn sessions_without_a_key_say_not_logged_in() {
    for name in [
        "telethon-1.45.0-nokey.session",
        "telethon-1.28.5-nokey.session",
        "pyrogram-1.4.16-nokey.session",
        "pyrogram-2.0.106-nokey.session",
        "pyrofork-2.3.69-nokey.session",
        "hydrogram-0.2.0-nokey.session",
        "kurigram-2.2.26-nokey.session",
    ] {
        assert_eq!(problem_of(&fixture(name)), "the session holds no auth key (not logged in)", "{name}");
    }
}

#[test]
fn files_that_are_not_sessions() {
    let s = Scratch::new("files");
    let text = s.0.join("notes.session");
    std::fs::write(&text, "hello world\n").unwrap();
    assert_eq!(problem_of(&text), "not a session file: neither an SQLite database nor a session string");
    let binary = s.0.join("random.bin");
    std::fs::write(&binary, [0x89u8, b'P', b'N', b'G', 0, 1, 2, 3]).unwrap();
    assert_eq!(problem_of(&binary), "not a session file: neither an SQLite database nor a session string");
    let empty = s.0.join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(problem_of(&empty), "not a session file: the file is empty");

    let other = s.0.join("places.sqlite");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT);").unwrap();
    drop(conn);
    assert_eq!(problem_of(&other), "an SQLite database, but not a client session (no sessions or dc_option table)");

    // An SQLite header and not much else: a download cut short.
    let cut = s.0.join("cut.session");
    std::fs::write(&cut, &std::fs::read(fixture("telethon-1.45.0.session")).unwrap()[..2048]).unwrap();
    assert_eq!(problem_of(&cut), "not a readable SQLite database: database disk image is malformed");

    let missing = s.0.join("gone.session");
    let e = load_source(missing.to_str().unwrap()).unwrap_err();
    assert_eq!(e.to_string(), format!("{}: no such file (and not a session string)", missing.display()));
}

#[test]
fn a_key_of_the_wrong_length() {
    let s = Scratch::new("length");
    let path = s.altered("telethon-1.45.0.session", "UPDATE sessions SET auth_key = substr(auth_key, 1, 255);");
    assert_eq!(problem_of(&path), "the auth key of dc 2 is 255 bytes, expected 256");
    let path = s.altered("pyrogram-2.0.106.session", "UPDATE sessions SET auth_key = CAST(auth_key || x'00' AS BLOB);");
    assert_eq!(problem_of(&path), "the auth key of dc 2 is 257 bytes, expected 256");
    let path = s.altered("kurigram-2.2.26.session", "UPDATE sessions SET auth_key = hex(auth_key);");
    assert_eq!(problem_of(&path), "the auth key of dc 2 is stored as text, not as bytes");
}

#[test]
fn unknown_schema_versions_name_the_known_ones() {
    let s = Scratch::new("versions");
    let path = s.altered("telethon-1.45.0.session", "UPDATE version SET version = 9;");
    assert_eq!(problem_of(&path), "Telethon session version 9 is not known (known: 1 to 8)");
    let path = s.altered("kurigram-2.2.26.session", "UPDATE version SET number = 8;");
    assert_eq!(problem_of(&path), "Pyrogram session version 8 is not known (known: 1 to 7)");
}

#[test]
fn several_rows_and_temporary_keys_are_all_loaded() {
    // Telethon keeps one row and Pyrogram one per file, but the schema
    // allows more (and older tools wrote more): every key is loaded.
    let s = Scratch::new("rows");
    let path = s.altered(
        "telethon-1.45.0.session",
        "INSERT INTO sessions VALUES (4, '149.154.167.91', 443, zeroblob(256), NULL, randomblob(256));",
    );
    let keys = load_session_file(&path).unwrap();
    let listed: Vec<(Option<i32>, bool)> = keys.iter().map(|k| (k.dc_id, k.temporary)).collect();
    assert_eq!(listed, [(Some(2), false), (Some(4), false), (Some(4), true)]);
    assert_eq!(keys[1].address.as_deref(), Some("149.154.167.91:443"));
}

#[test]
fn grammers_sessions_hold_a_key_per_data_centre() {
    // grammers-session 0.8+'s schema (storages/sqlite.rs) written by hand,
    // to add a data centre without a key and a later schema version than
    // the real fixture below has.
    let s = Scratch::new("grammers");
    let path = s.0.join("grammers.session");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE dc_home (dc_id INTEGER NOT NULL, PRIMARY KEY(dc_id));
         CREATE TABLE dc_option (dc_id INTEGER NOT NULL, ipv4 TEXT NOT NULL, ipv6 TEXT NOT NULL, auth_key BLOB, PRIMARY KEY (dc_id));
         PRAGMA user_version = 1;
         INSERT INTO dc_home VALUES (2);
         INSERT INTO dc_option VALUES (1, '149.154.175.53:443', '[2001:b28:f23d:f001::a]:443', NULL);
         INSERT INTO dc_option VALUES (4, '149.154.167.91:443', '[2001:67c:4e8:f004::a]:443', randomblob(256));",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO dc_option VALUES (2, '149.154.167.51:443', '[2001:67c:4e8:f002::a]:443', ?1)",
        [capture_key()],
    )
    .unwrap();
    drop(conn);
    let keys = load_session_file(&path).unwrap();
    let listed: Vec<(Option<i32>, bool, Option<&str>)> =
        keys.iter().map(|k| (k.dc_id, k.home, k.address.as_deref())).collect();
    assert_eq!(listed, [(Some(2), true, Some("149.154.167.51:443")), (Some(4), false, Some("149.154.167.91:443"))]);
    assert_eq!(keys[0].key.bytes().as_slice(), capture_key().as_slice());
    assert_decrypts_like_auth_key(&keys[..1], "grammers");

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 2;").unwrap();
    drop(conn);
    assert_eq!(problem_of(&path), "grammers session version 2 is not known (known: 1)");
}

#[test]
fn truncated_and_mistyped_strings() {
    let telethon = std::fs::read_to_string(fixture("telethon-1.45.0.string")).unwrap();
    let telethon = telethon.trim();
    let e = parse_session_string(&telethon[..telethon.len() - 10]).unwrap_err();
    assert_eq!(e.source, "session string");
    assert_eq!(
        e.problem,
        "not a session string: it decodes to 256 bytes, but a Telethon string holds 263 or 275 bytes after its leading 1 and a Pyrogram string 263, 267 or 271 (truncated or mistyped?)"
    );
    let mistyped = format!("{}!{}", &telethon[..40], &telethon[41..]);
    let e = parse_session_string(&mistyped).unwrap_err();
    assert_eq!(e.to_string(), "session string: not a session string: character 41 ('!') is not URL-safe base64");
    // A Telethon string of another version digit is no known layout.
    let e = parse_session_string(&format!("2{}", &telethon[1..])).unwrap_err();
    assert!(e.problem.starts_with("not a session string: "), "{}", e.problem);
    let e = parse_session_string("  ").unwrap_err();
    assert_eq!(e.problem, "not a session string: it is empty");

    let pyrogram = std::fs::read_to_string(fixture("pyrogram-2.0.106.string")).unwrap();
    let e = parse_session_string(&pyrogram.trim()[..300]).unwrap_err();
    assert!(e.problem.contains("decodes to 225 bytes"), "{}", e.problem);
    // An exported string of a client that never logged in: zeros.
    let zeros = {
        use base64::Engine;
        let mut raw = vec![2u8];
        raw.extend_from_slice(&[0u8; 4 + 1 + 256 + 8 + 1]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    };
    assert_eq!(parse_session_string(&zeros).unwrap_err().problem, "the session holds no auth key (not logged in)");
}

#[test]
fn grammers_binary_sessions_of_before_0_8() {
    // Written by grammers-session 0.7.0 itself
    // (tests/fixtures/sessions/grammers-tl): DC 2 with the capture key
    // (home), DC 4 with 0x44 repeated, over IPv6.
    let dir = PathBuf::from(SESSIONS);
    let before = snapshot_dir(&dir);
    let keys = load_session_file(&fixture("grammers-0.7.0.session")).unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<(Option<i32>, bool, Option<&str>)> =
        keys.iter().map(|k| (k.dc_id, k.home, k.address.as_deref())).collect();
    assert_eq!(
        listed,
        [(Some(2), true, Some("149.154.167.51:443")), (Some(4), false, Some("[2001:67c:4e8:f004::a]:443"))]
    );
    assert_eq!(keys[0].format, SessionFormat::GrammersTl);
    assert_eq!(keys[0].key.bytes().as_slice(), capture_key().as_slice());
    assert_eq!(keys[1].key.bytes().as_slice(), &[0x44; 256][..]);
    assert_decrypts_like_auth_key(&keys, "grammers 0.7");
    assert!(before == snapshot_dir(&dir));

    // Cut anywhere, it says where, in one line, and never panics.
    let bytes = std::fs::read(fixture("grammers-0.7.0.session")).unwrap();
    let s = Scratch::new("grammers-tl");
    let path = s.0.join("cut.session");
    std::fs::write(&path, &bytes[..20]).unwrap();
    assert_eq!(problem_of(&path), "a grammers session (binary TL) announcing 2 data centres in 20 bytes");
    for n in [4, 100, 300, 590] {
        std::fs::write(&path, &bytes[..n]).unwrap();
        let problem = problem_of(&path);
        assert!(problem.starts_with("a grammers session (binary TL) cut short: "), "{n}: {problem}");
    }
    let mut huge = bytes[..16].to_vec();
    huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &huge).unwrap();
    assert_eq!(problem_of(&path), "a grammers session (binary TL) announcing 4294967295 data centres in 16 bytes");
}

#[test]
fn a_grammers_session_written_by_grammers() {
    // Written by grammers-session 0.11.0's SqliteSession
    // (tests/fixtures/sessions/grammers): DC 2 with the capture key, home;
    // DC 4 with 0x44 repeated.
    let dir = PathBuf::from(SESSIONS);
    let before = snapshot_dir(&dir);
    let keys = load_session_file(&fixture("grammers-0.11.0.session")).unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<(Option<i32>, bool, Option<&str>)> =
        keys.iter().map(|k| (k.dc_id, k.home, k.address.as_deref())).collect();
    assert_eq!(listed, [(Some(2), true, Some("149.154.167.51:443")), (Some(4), false, Some("149.154.167.91:443"))]);
    assert_eq!(keys[0].format, SessionFormat::GrammersFile { version: 1 });
    assert_eq!(keys[0].key.bytes().as_slice(), capture_key().as_slice());
    assert_eq!(keys[1].key.bytes().as_slice(), &[0x44; 256][..]);
    assert_decrypts_like_auth_key(&keys, "grammers 0.11");
    assert!(before == snapshot_dir(&dir));
}
