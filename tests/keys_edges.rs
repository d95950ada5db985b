//! Session sources at their edges: the listing of every session format,
//! temporary keys, strings that are empty or too long, texts that are
//! neither a file nor a string, and a binary grammers session too large to
//! be one.

use inspector::envelope::AuthKey;
use inspector::keys::{
    listing_lines, load_session_file, load_source, parse_session_string, PyrogramStringLayout, SessionFormat,
    SessionKey,
};

fn key(seed: u8) -> AuthKey {
    AuthKey::new([seed; 256])
}

#[test]
fn the_listing_names_every_format_and_marks_home_and_temporary_keys() {
    let formats = [
        (SessionFormat::TelethonFile { version: 7 }, "telethon session v7"),
        (SessionFormat::PyrogramFile { version: 3 }, "pyrogram session v3"),
        (SessionFormat::GrammersFile { version: 1 }, "grammers session v1"),
        (SessionFormat::GrammersTl, "grammers session (binary TL)"),
        (SessionFormat::TelethonString, "telethon string"),
        (SessionFormat::PyrogramString(PyrogramStringLayout::V1UserId32), "pyrogram string (1.x, 32-bit user id)"),
        (SessionFormat::PyrogramString(PyrogramStringLayout::V1UserId64), "pyrogram string (1.x, 64-bit user id)"),
        (SessionFormat::PyrogramString(PyrogramStringLayout::V2), "pyrogram string (2.x)"),
    ];
    for (format, name) in formats {
        assert_eq!(format.to_string(), name);
    }
    let keys = [
        SessionKey {
            format: SessionFormat::GrammersFile { version: 1 },
            dc_id: Some(2),
            address: Some("149.154.167.51:443".into()),
            temporary: false,
            home: true,
            key: key(1),
        },
        SessionKey {
            format: SessionFormat::GrammersFile { version: 1 },
            dc_id: None,
            address: None,
            temporary: true,
            home: false,
            key: key(2),
        },
    ];
    let lines = listing_lines(&keys);
    assert_eq!(
        lines,
        [
            format!("grammers session v1  dc 2 (home)       149.154.167.51:443  {}", keys[0].key_id_text()),
            format!("grammers session v1  dc ? (temporary)  -                   {}", keys[1].key_id_text()),
        ]
    );
}

#[test]
fn strings_that_cannot_be_session_strings() {
    assert_eq!(parse_session_string("").unwrap_err().problem, "not a session string: it is empty");
    let long = "A".repeat(400);
    assert_eq!(
        parse_session_string(&long).unwrap_err().to_string(),
        "session string: not a session string: 400 characters, longer than any known layout (369 at most)"
    );
    // Neither a file nor a path-like text: the string's own complaint.
    let e = load_source("hello").unwrap_err();
    assert_eq!(e.source, "session string");
    assert!(e.problem.starts_with("not a session string"), "{e}");
    // A path-like text that names no file.
    let e = load_source("/nonexistent/dir/my.session").unwrap_err();
    assert_eq!(e.to_string(), "/nonexistent/dir/my.session: no such file (and not a session string)");
}

#[test]
fn a_binary_grammers_session_larger_than_any_real_one_is_not_read() {
    // grammers' binary session starts with its TL id; 17 MiB of it is no session.
    let dir = std::env::temp_dir().join(format!("inspector-keys-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.session");
    let session_id: u32 = 0xa73e_b8ce; // the session constructor of grammers' binary format
    let mut bytes = session_id.to_le_bytes().to_vec();
    bytes.resize((16 << 20) + 1, 0);
    std::fs::write(&path, &bytes).unwrap();
    let e = load_session_file(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: a grammers session (binary TL) of 16777217 bytes, more than any real one", path.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
