//! Auth keys from the sessions of real clients: the session files that
//! Telethon, Pyrogram (and its forks Kurigram, Hydrogram, Pyrofork) and
//! grammers keep, and the session strings that Telethon and Pyrogram
//! export. A user who captured their own client's traffic can then point
//! the inspector at the session instead of digging the key out by hand.
//!
//! The format is told from the content, never from the file's name: an
//! SQLite database is recognised by its header and its family by its
//! tables (the `version` table's column is `version` in Telethon and
//! `number` in Pyrogram; grammers has `dc_option`), and a string by its
//! length and layout.
//!
//! A session belongs to the user and is only read: an SQLite file is opened
//! read-only and immutable, so nothing is created, locked, migrated or
//! journalled beside it. A database whose client still has it open in WAL
//! mode keeps recent writes in its `-wal` file, which an immutable reader
//! ignores; such a file and its WAL are copied into a private temporary
//! folder and read there.
//!
//! Every failure is a [`SourceError`]: one line naming the source and what
//! is wrong with it.

mod grammers_tl;
mod sqlite;
mod strings;

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::envelope::{format_key_id, AuthKey, KeyStore};

pub use strings::parse_session_string;

/// Which client and which layout a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFormat {
    /// A Telethon `.session` file (SQLite), with its schema version.
    TelethonFile { version: i64 },
    /// A Pyrogram-family `.session` file (SQLite), with its schema version.
    PyrogramFile { version: i64 },
    /// A grammers session (SQLite), with its `user_version`.
    GrammersFile { version: i64 },
    /// A grammers session file of before 0.8 (one TL object).
    GrammersTl,
    /// A Telethon `StringSession`.
    TelethonString,
    /// A Pyrogram session string in one of its layouts.
    PyrogramString(PyrogramStringLayout),
}

/// The layouts of Pyrogram's session strings, told apart by length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyrogramStringLayout {
    /// 1.x: dc id, test mode, key, 32-bit user id, is_bot.
    V1UserId32,
    /// 1.x after user ids outgrew 32 bits: the same with a 64-bit user id.
    V1UserId64,
    /// 2.x: dc id, api_id, test mode, key, 64-bit user id, is_bot.
    V2,
}

impl fmt::Display for SessionFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionFormat::TelethonFile { version } => write!(f, "telethon session v{version}"),
            SessionFormat::PyrogramFile { version } => write!(f, "pyrogram session v{version}"),
            SessionFormat::GrammersFile { version } => write!(f, "grammers session v{version}"),
            SessionFormat::GrammersTl => f.write_str("grammers session (binary TL)"),
            SessionFormat::TelethonString => f.write_str("telethon string"),
            SessionFormat::PyrogramString(PyrogramStringLayout::V1UserId32) => {
                f.write_str("pyrogram string (1.x, 32-bit user id)")
            }
            SessionFormat::PyrogramString(PyrogramStringLayout::V1UserId64) => {
                f.write_str("pyrogram string (1.x, 64-bit user id)")
            }
            SessionFormat::PyrogramString(PyrogramStringLayout::V2) => f.write_str("pyrogram string (2.x)"),
        }
    }
}

/// One auth key a session holds, and what the session says about it.
#[derive(Debug, Clone)]
pub struct SessionKey {
    pub format: SessionFormat,
    /// The data centre the key belongs to.
    pub dc_id: Option<i32>,
    /// `ip:port` of the data centre, when the session stores it.
    pub address: Option<String>,
    /// A temporary (PFS) key rather than the permanent one.
    pub temporary: bool,
    /// The data centre the client logged in to (grammers' `dc_home`).
    pub home: bool,
    pub key: AuthKey,
}

impl SessionKey {
    /// The key's `auth_key_id`, written as the reports write it.
    pub fn key_id_text(&self) -> String {
        format_key_id(self.key.id())
    }
}

/// A session that could not be read: which one, and why, as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The file's path, or `session string` (the string itself is secret).
    pub source: String,
    pub problem: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.problem)
    }
}

impl std::error::Error for SourceError {}

/// How a session string is named in errors: never by its content.
pub const STRING_SOURCE: &str = "session string";

/// The first bytes of every SQLite 3 database.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// grammers' binary sessions hold a few data centres and the update state:
/// kilobytes. Anything far larger is not one, and is not read whole.
const MAX_TL_SESSION: u64 = 16 << 20;

/// A file at most this long may hold a session string as text.
const MAX_STRING_FILE: u64 = 4096;

/// Keys from a path (a session file, or a file holding a session string)
/// or, when no such file exists, from the text itself as a session string.
pub fn load_source(path_or_string: &str) -> Result<Vec<SessionKey>, SourceError> {
    let path = Path::new(path_or_string);
    if path.exists() {
        return load_session_file(path);
    }
    match parse_session_string(path_or_string) {
        Ok(keys) => Ok(keys),
        // Something that looks like a path is more likely a mistyped path
        // than a mistyped string.
        Err(_) if looks_like_path(path_or_string) => Err(SourceError {
            source: path_or_string.to_string(),
            problem: "no such file (and not a session string)".into(),
        }),
        Err(e) => Err(e),
    }
}

fn looks_like_path(text: &str) -> bool {
    text.contains(std::path::MAIN_SEPARATOR) || text.contains('/') || text.ends_with(".session")
}

/// Keys from a session file: SQLite (Telethon, Pyrogram family, grammers),
/// grammers' older binary file, or a text file holding a session string.
pub fn load_session_file(path: &Path) -> Result<Vec<SessionKey>, SourceError> {
    let source = path.display().to_string();
    let fail = |problem: String| SourceError { source: source.clone(), problem };
    let mut file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let len = file.metadata().map_err(|e| fail(format!("cannot read: {e}")))?.len();
    let mut head = Vec::new();
    (&mut file)
        .take(MAX_STRING_FILE.max(SQLITE_MAGIC.len() as u64))
        .read_to_end(&mut head)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    drop(file);
    if head.starts_with(SQLITE_MAGIC) {
        return sqlite::load(path).map_err(fail);
    }
    if head.starts_with(&grammers_tl::SESSION.to_le_bytes()) {
        if len > MAX_TL_SESSION {
            return Err(fail(format!("a grammers session (binary TL) of {len} bytes, more than any real one")));
        }
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        return grammers_tl::load(&bytes).map_err(fail);
    }
    if len <= MAX_STRING_FILE {
        if let Ok(text) = std::str::from_utf8(&head) {
            let text = text.trim();
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic()) {
                return parse_session_string(text).map_err(|e| fail(e.problem));
            }
        }
    }
    if len == 0 {
        return Err(fail("not a session file: the file is empty".into()));
    }
    Err(fail("not a session file: neither an SQLite database nor a session string".into()))
}

/// Add the keys to a key store (a key already there is kept once).
pub fn add_to_store(keys: &[SessionKey], store: &mut KeyStore) {
    for k in keys {
        store.insert(k.key.clone());
    }
}

/// The lines of a key listing (`inspector keys`): format, data centre,
/// address and auth_key_id of each key, in columns.
pub fn listing_lines(keys: &[SessionKey]) -> Vec<String> {
    let rows: Vec<[String; 4]> = keys
        .iter()
        .map(|k| {
            let mut dc = k.dc_id.map_or_else(|| "dc ?".to_string(), |d| format!("dc {d}"));
            if k.home {
                dc.push_str(" (home)");
            }
            if k.temporary {
                dc.push_str(" (temporary)");
            }
            [k.format.to_string(), dc, k.address.clone().unwrap_or_else(|| "-".into()), k.key_id_text()]
        })
        .collect();
    let mut widths = [0usize; 3];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|[format, dc, address, id]| {
            format!("{format:<w0$}  {dc:<w1$}  {address:<w2$}  {id}", w0 = widths[0], w1 = widths[1], w2 = widths[2])
        })
        .collect()
}

/// `ip:port`, with brackets around an IPv6 address.
fn socket_text(ip: &str, port: Option<i64>) -> String {
    let ip = if ip.contains(':') && !ip.starts_with('[') { format!("[{ip}]") } else { ip.to_string() };
    match port {
        Some(p) => format!("{ip}:{p}"),
        None => ip,
    }
}

/// A key of 256 bytes, or the one-line complaint about its length.
fn key_from(bytes: &[u8], what: &str) -> Result<AuthKey, String> {
    AuthKey::from_slice(bytes).map_err(|_| {
        format!("the auth key of {what} is {} bytes, expected {}", bytes.len(), crate::envelope::AUTH_KEY_LEN)
    })
}
