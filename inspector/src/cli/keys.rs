//! `inspector keys`: what auth keys a client's session file or session
//! string holds, with the auth_key_id a capture report prints, so a user
//! sees at once which session matches a capture.

use super::{emit, ExitStatus, Failure, Io};
use crate::keys::{listing_lines, load_source, STRING_SOURCE};
use clap::Args;

pub(crate) const KEYS_EXAMPLES: &str = "\
Each SOURCE is a session file (Telethon, Pyrogram, Kurigram, Hydrogram,
Pyrofork or grammers, told apart by content, opened read-only: the client
may keep using it) or a session string (Telethon StringSession, Pyrogram).
For each key: the format, the data centre, its address when the session
stores it, and the auth_key_id, as `inspector pcap` prints it for the
messages the key decrypts. A string is never echoed back.

Examples:
  inspector keys my.session
  inspector keys a.session b.session
  inspector keys 1BVtsOHwBu5...          a Telethon StringSession

Exit status: 0 every source was read, 2 one could not be (the others are
still listed).";

#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    /// Session files or session strings.
    #[arg(required = true, value_name = "SOURCE")]
    pub(crate) sources: Vec<String>,
}

pub(crate) fn run(args: &KeysArgs, io: &mut Io<'_>) -> Result<ExitStatus, Failure> {
    let mut status = ExitStatus::Ok;
    let mut strings = 0;
    for source in &args.sources {
        match load_source(source) {
            Ok(keys) => {
                let name = if std::path::Path::new(source).exists() {
                    source.clone()
                } else {
                    strings += 1;
                    format!("{STRING_SOURCE} #{strings}")
                };
                let plural = if keys.len() == 1 { "" } else { "s" };
                let mut text = format!("{name}: {} key{plural}\n", keys.len());
                for line in listing_lines(&keys) {
                    text.push_str("  ");
                    text.push_str(&line);
                    text.push('\n');
                }
                emit(io, text.as_bytes())?;
            }
            Err(e) => {
                let _ = writeln!(io.stderr, "inspector: {e}");
                status = ExitStatus::Usage;
            }
        }
    }
    Ok(status)
}
