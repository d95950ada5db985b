//! Session files that are SQLite databases, read in place without changing
//! a byte of them.
//!
//! - Telethon: `version(version)`, `sessions(dc_id, server_address, port,
//!   auth_key[, takeout_id][, tmp_auth_key])`; versions 1 to 8.
//! - Pyrogram and its forks: `version(number)`, `sessions(dc_id, [api_id,]
//!   test_mode, auth_key, date, user_id, is_bot[, server_address, port])`;
//!   versions 1 to 7. A migrated file has its added columns at the end,
//!   so columns are always read by name.
//! - grammers (0.8 and later): `PRAGMA user_version` 1, `dc_option(dc_id,
//!   ipv4, ipv6, auth_key)` with one key per data centre, `dc_home(dc_id)`.

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{key_from, socket_text, SessionFormat, SessionKey};

const TELETHON_VERSIONS: std::ops::RangeInclusive<i64> = 1..=8;
const PYROGRAM_VERSIONS: std::ops::RangeInclusive<i64> = 1..=7;
const GRAMMERS_VERSIONS: std::ops::RangeInclusive<i64> = 1..=1;

/// The keys of the SQLite session at `path`, or why not, as a sentence
/// (the caller names the file).
pub(super) fn load(path: &Path) -> Result<Vec<SessionKey>, String> {
    let db = Database::open(path)?;
    let conn = &db.conn;
    let tables = strings(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
        .map_err(|e| format!("not a readable SQLite database: {e}"))?;
    let has = |t: &str| tables.iter().any(|n| n == t);
    if has("dc_option") {
        return grammers(conn);
    }
    if !has("sessions") {
        return Err("an SQLite database, but not a client session (no sessions or dc_option table)".into());
    }
    let columns = columns(conn, "sessions")?;
    if !columns.iter().any(|c| c == "auth_key") {
        return Err(
            "an SQLite database with a sessions table that has no auth_key column: not a known client session".into()
        );
    }
    let version_columns = if has("version") { columns_or_empty(conn, "version") } else { Vec::new() };
    // The version table's column names the family; without one, the
    // columns that only Pyrogram's sessions table has.
    let pyrogram = if version_columns.iter().any(|c| c == "number") {
        true
    } else if version_columns.iter().any(|c| c == "version") {
        false
    } else {
        columns.iter().any(|c| c == "user_id" || c == "is_bot")
    };
    let version = if version_columns.is_empty() {
        None
    } else {
        let column = if pyrogram { "number" } else { "version" };
        Some(
            conn.query_row(&format!("SELECT max({column}) FROM version"), [], |r| r.get::<_, Option<i64>>(0))
                .map_err(|e| format!("cannot read the version table: {e}"))?
                .ok_or("the version table is empty")?,
        )
    };
    let (family, known) = if pyrogram { ("Pyrogram", PYROGRAM_VERSIONS) } else { ("Telethon", TELETHON_VERSIONS) };
    let Some(version) = version else {
        return Err(format!(
            "a {family}-like sessions table without a version table: not a known schema (known {family} versions: {} to {})",
            known.start(),
            known.end()
        ));
    };
    if !known.contains(&version) {
        return Err(format!(
            "{family} session version {version} is not known (known: {} to {})",
            known.start(),
            known.end()
        ));
    }
    let format =
        if pyrogram { SessionFormat::PyrogramFile { version } } else { SessionFormat::TelethonFile { version } };
    sessions_rows(conn, &columns, format)
}

/// The rows of a Telethon or Pyrogram `sessions` table.
fn sessions_rows(conn: &Connection, columns: &[String], format: SessionFormat) -> Result<Vec<SessionKey>, String> {
    let wanted = ["dc_id", "server_address", "port", "auth_key", "tmp_auth_key"];
    let present: Vec<&str> = wanted.iter().copied().filter(|w| columns.iter().any(|c| c == w)).collect();
    let sql = format!("SELECT {} FROM sessions", present.join(", "));
    let mut statement = conn.prepare(&sql).map_err(|e| format!("cannot read the sessions table: {e}"))?;
    let mut rows = statement.query([]).map_err(|e| format!("cannot read the sessions table: {e}"))?;
    let at = |name: &str| present.iter().position(|p| *p == name);
    let mut keys = Vec::new();
    while let Some(row) = rows.next().map_err(|e| format!("cannot read the sessions table: {e}"))? {
        let dc_id = at("dc_id").and_then(|i| integer(row.get_ref(i).ok()?)).and_then(|d| i32::try_from(d).ok());
        let address = at("server_address").and_then(|i| text(row.get_ref(i).ok()?));
        let port = at("port").and_then(|i| integer(row.get_ref(i).ok()?));
        let what = dc_id.map_or_else(|| "a session row".to_string(), |d| format!("dc {d}"));
        for (column, temporary) in [("auth_key", false), ("tmp_auth_key", true)] {
            let Some(i) = at(column) else { continue };
            let what = if temporary { format!("{what} (tmp_auth_key)") } else { what.clone() };
            let Some(bytes) = blob(row.get_ref(i).map_err(|e| format!("cannot read {column}: {e}"))?, &what)? else {
                continue;
            };
            keys.push(SessionKey {
                format,
                dc_id,
                address: address.as_deref().map(|a| socket_text(a, port)),
                temporary,
                home: false,
                key: key_from(&bytes, &what)?,
            });
        }
    }
    if keys.is_empty() {
        return Err("the session holds no auth key (not logged in)".into());
    }
    // Telethon and Pyrogram keep the key of the data centre they use.
    if keys.len() == 1 {
        keys[0].home = true;
    }
    Ok(keys)
}

fn grammers(conn: &Connection) -> Result<Vec<SessionKey>, String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| format!("cannot read the schema version: {e}"))?;
    if !GRAMMERS_VERSIONS.contains(&version) {
        return Err(format!("grammers session version {version} is not known (known: {})", GRAMMERS_VERSIONS.start()));
    }
    let home: Option<i64> = conn.query_row("SELECT dc_id FROM dc_home LIMIT 1", [], |r| r.get(0)).ok();
    let mut statement = conn
        .prepare("SELECT dc_id, ipv4, auth_key FROM dc_option ORDER BY dc_id")
        .map_err(|e| format!("cannot read the dc_option table: {e}"))?;
    let mut rows = statement.query([]).map_err(|e| format!("cannot read the dc_option table: {e}"))?;
    let mut keys = Vec::new();
    while let Some(row) = rows.next().map_err(|e| format!("cannot read the dc_option table: {e}"))? {
        let dc = row.get_ref(0).ok().and_then(integer);
        let dc_id = dc.and_then(|d| i32::try_from(d).ok());
        let what = dc_id.map_or_else(|| "a dc_option row".to_string(), |d| format!("dc {d}"));
        let value = row.get_ref(2).map_err(|e| format!("cannot read auth_key: {e}"))?;
        let Some(bytes) = blob(value, &what)? else { continue };
        keys.push(SessionKey {
            format: SessionFormat::GrammersFile { version },
            dc_id,
            // grammers writes `ip:port` itself.
            address: row.get_ref(1).ok().and_then(text),
            temporary: false,
            home: dc.is_some() && dc == home,
            key: key_from(&bytes, &what)?,
        });
    }
    if keys.is_empty() {
        return Err("the session holds no auth key (not logged in)".into());
    }
    Ok(keys)
}

fn integer(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        _ => None,
    }
}

fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok().map(str::to_string),
        _ => None,
    }
}

/// A key column: NULL or empty means no key (Telethon writes `b''`).
fn blob(v: ValueRef<'_>, what: &str) -> Result<Option<Vec<u8>>, String> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) | ValueRef::Text(b) if b.is_empty() => Ok(None),
        ValueRef::Blob(b) => Ok(Some(b.to_vec())),
        ValueRef::Text(_) => Err(format!("the auth key of {what} is stored as text, not as bytes")),
        ValueRef::Integer(_) | ValueRef::Real(_) => Err(format!("the auth key of {what} is a number, not bytes")),
    }
}

fn strings(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
    rows.collect()
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, String> {
    strings(conn, &format!("SELECT name FROM pragma_table_info('{table}')"))
        .map_err(|e| format!("cannot read the columns of {table}: {e}"))
}

fn columns_or_empty(conn: &Connection, table: &str) -> Vec<String> {
    columns(conn, table).unwrap_or_default()
}

/// An open session database, and the private copy it may be read from.
struct Database {
    // Declared first so that it closes before the copy is removed.
    conn: Connection,
    _copy: Option<PrivateCopy>,
}

impl Database {
    fn open(path: &Path) -> Result<Database, String> {
        let wal = sibling(path, "-wal");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if wal_len == 0 {
            // Immutable: SQLite takes no lock and looks for no journal, so
            // nothing is created beside the file, even in a read-only
            // folder or while the client holds it open.
            let uri = format!("file:{}?mode=ro&immutable=1", uri_path(path));
            let conn = Connection::open_with_flags(
                uri,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| format!("cannot open as SQLite: {e}"))?;
            return Ok(Database { conn, _copy: None });
        }
        // Recent writes are still in the WAL, which an immutable reader
        // would skip and a normal reader would need a shared-memory file
        // and locks for, beside the user's file: read a private copy.
        let copy = PrivateCopy::new(path, &wal)?;
        let conn =
            Connection::open_with_flags(&copy.db, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| format!("cannot open as SQLite: {e}"))?;
        Ok(Database { conn, _copy: Some(copy) })
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A path as the path of a `file:` URI: everything but unreserved
/// characters and `/` percent-encoded, so `?`, `#` and `%` in a name stay
/// part of it.
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for &b in absolute.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A database and its WAL copied into a fresh private folder, removed
/// when dropped.
struct PrivateCopy {
    dir: PathBuf,
    db: PathBuf,
}

impl PrivateCopy {
    fn new(db: &Path, wal: &Path) -> Result<PrivateCopy, String> {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("inspector-session-{}-{n}-{nanos}", std::process::id()));
        // create_dir fails on an existing folder, so it is ours alone.
        std::fs::create_dir(&dir).map_err(|e| format!("cannot make a private copy to read its WAL: {e}"))?;
        let copy = PrivateCopy { db: dir.join("session"), dir };
        std::fs::copy(db, &copy.db).map_err(|e| format!("cannot copy it to read its WAL: {e}"))?;
        std::fs::copy(wal, sibling(&copy.db, "-wal")).map_err(|e| format!("cannot copy its WAL: {e}"))?;
        Ok(copy)
    }
}

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
