//! SQLite files that are almost client sessions, built here with rusqlite:
//! each is refused in one line that names the file and what is missing.

use inspector::keys::load_session_file;
use rusqlite::Connection;

/// A scratch database file, made by `sql`, whose name has characters a
/// `file:` URI must escape.
fn database(name: &str, sql: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("inspector-session-edges-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name} #1?.session"));
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    (dir, path)
}

fn refusal(name: &str, sql: &str) -> String {
    let (dir, path) = database(name, sql);
    let e = load_session_file(&path).unwrap_err();
    assert_eq!(e.source, path.display().to_string());
    std::fs::remove_dir_all(&dir).unwrap();
    e.problem
}

#[test]
fn a_sessions_table_without_an_auth_key() {
    assert_eq!(
        refusal("nokey", "CREATE TABLE sessions (dc_id INTEGER, server_address TEXT);"),
        "an SQLite database with a sessions table that has no auth_key column: not a known client session"
    );
}

#[test]
fn a_sessions_table_without_a_version_table() {
    let telethon = refusal("telethon", "CREATE TABLE sessions (dc_id INTEGER, auth_key BLOB);");
    assert!(
        telethon.starts_with(
            "a Telethon-like sessions table without a version table: not a known schema (known Telethon versions: "
        ),
        "{telethon}"
    );
    let pyrogram = refusal("pyrogram", "CREATE TABLE sessions (dc_id INTEGER, auth_key BLOB, user_id INTEGER);");
    assert!(
        pyrogram.starts_with(
            "a Pyrogram-like sessions table without a version table: not a known schema (known Pyrogram versions: "
        ),
        "{pyrogram}"
    );
}

#[test]
fn a_grammers_session_without_keys_or_with_a_number_for_one() {
    let schema = "PRAGMA user_version = 1;
        CREATE TABLE dc_home (dc_id INTEGER);
        CREATE TABLE dc_option (dc_id INTEGER, ipv4 TEXT, ipv6 TEXT, auth_key BLOB);";
    assert_eq!(
        refusal("empty", &format!("{schema} INSERT INTO dc_option VALUES (2, '149.154.167.51:443', NULL, NULL);")),
        "the session holds no auth key (not logged in)"
    );
    assert_eq!(
        refusal("number", &format!("{schema} INSERT INTO dc_option VALUES (2, '149.154.167.51:443', NULL, 42);")),
        "the auth key of dc 2 is a number, not bytes"
    );
}
