//! `inspector pcap`: the arguments of a capture run, the keys they name,
//! and the run itself (the library's `report::run_capture`) with a progress
//! line on a terminal.

use std::path::PathBuf;

use clap::ValueEnum;

use super::progress::{ClearingWriter, Progress, ProgressReader, MIN_SIZE_FOR_PROGRESS};
use super::{parse_depth, ExitStatus, Failure, Io, SchemaFiles};
use crate::envelope::{parse_auth_key, parse_keylog, KeyStore};
use crate::report::{run_capture, ReportFormat, ReportOptions, RunError};
use crate::service::ServiceOptions;
use crate::transport::{parse_mtproxy_secret, Framing, TransportOptions};

/// A transport to force instead of detecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TransportChoice {
    Abridged,
    Intermediate,
    PaddedIntermediate,
    Full,
    ObfuscatedAbridged,
    ObfuscatedIntermediate,
    ObfuscatedPaddedIntermediate,
}

impl TransportChoice {
    pub(crate) fn forced(self) -> (Framing, bool) {
        match self {
            TransportChoice::Abridged => (Framing::Abridged, false),
            TransportChoice::Intermediate => (Framing::Intermediate, false),
            TransportChoice::PaddedIntermediate => (Framing::PaddedIntermediate, false),
            TransportChoice::Full => (Framing::Full, false),
            TransportChoice::ObfuscatedAbridged => (Framing::Abridged, true),
            TransportChoice::ObfuscatedIntermediate => (Framing::Intermediate, true),
            TransportChoice::ObfuscatedPaddedIntermediate => (Framing::PaddedIntermediate, true),
        }
    }
}

/// Examples shown by `inspector pcap --help`.
pub(crate) const PCAP_EXAMPLES: &str = "\
Examples:
  inspector pcap capture.pcapng --auth-key key.hex
  inspector pcap capture.pcap --auth-key @key.hex --format json
  inspector pcap capture.pcap --keylog keys.txt --all
  inspector pcap capture.pcapng --session my.session      keys from a client's session
  inspector pcap capture.pcapng --session-string 1BVts...  or from a session string
  inspector pcap proxied.pcap --auth-key @key.hex --mtproxy-secret ee00112233445566778899aabbccddeeff7777772e676f6f676c652e636f6d
  inspector pcap capture.pcapng --auth-key key.hex --all --schema api.tl --schema mtproto.tl
  inspector pcap capture.pcap --auth-key @key.hex --method contacts.resolveUsername
  tcpdump -i any -U -w - port 443 | inspector pcap - --auth-key @key.hex
  inspector pcap big.pcap --auth-key @key.hex --format json --threads 4

Answers are matched to their requests by req_msg_id, across connections;
an answer to another method's request (an rpc_error, say) is listed only
with --all. The requests shown in full, with their answers, are those of
messages.exportChatInvite, or of the methods given with --method instead
(name messages.exportChatInvite among them to keep it). With --all, every
message the closure does not hold is decoded with the schema (the built-in
layer-224 one, or the files given with --schema) and listed in one line:
its name and the fields it carries (in JSON, the whole body under \"body\").
Memory stays flat however long the capture: a connection is forgotten once
closed, at most 32768 are held (past that the least recently active are
forgotten, with a warning), and of the answered requests only the last
16384 are remembered (to name a repeated answer), as are the last 16384
requests of other methods.

Exit status: 0 the capture was read (even with warnings, or cut short by a
closed output), 1 not a capture, 2 usage or I/O error.";

/// The arguments of `inspector pcap`.
#[derive(Debug, clap::Args)]
pub(crate) struct PcapArgs {
    /// The capture (pcap or pcapng), or - for standard input.
    pub(crate) file: PathBuf,

    /// An auth key: 512 hex digits, @FILE, or the path of a file holding it
    /// as hex or as 256 raw bytes. Repeatable.
    #[arg(long = "auth-key", value_name = "KEY")]
    pub(crate) auth_keys: Vec<String>,

    /// A file of auth keys, one per line in hex; lines starting # are ignored.
    #[arg(long, value_name = "FILE")]
    pub(crate) keylog: Vec<PathBuf>,

    /// A client's session file, read-only (Telethon, Pyrogram, Kurigram,
    /// Hydrogram, Pyrofork or grammers; told apart by content): every key
    /// it holds is tried. Repeatable; `inspector keys` lists what one holds.
    #[arg(long = "session", value_name = "PATH")]
    pub(crate) sessions: Vec<PathBuf>,

    /// A Telethon StringSession or a Pyrogram session string. Repeatable.
    #[arg(long = "session-string", value_name = "STRING")]
    pub(crate) session_strings: Vec<String>,

    /// Force the transport instead of detecting it.
    #[arg(long, value_enum)]
    pub(crate) transport: Option<TransportChoice>,

    /// An MTProxy secret in hex: 16 bytes; 17 with a dd prefix (padded
    /// intermediate); or ee, 16 bytes and the hex of a domain (fake TLS).
    #[arg(long, value_name = "HEX")]
    pub(crate) mtproxy_secret: Option<String>,

    /// What to print.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,

    /// List every message, one line each for service messages and for
    /// other methods' requests and results (decoded with the schema).
    #[arg(long)]
    pub(crate) all: bool,

    /// The method (its TL name) whose requests, and the answers to them
    /// (read as the type the request returns), are shown in full, decoded
    /// with the schema. Repeatable; the methods given replace the default,
    /// so messages.exportChatInvite is shown in full only if among them
    /// (without --all its messages are then not listed).
    /// [default: messages.exportChatInvite]
    #[arg(long = "method", value_name = "NAME")]
    pub(crate) methods: Vec<String>,

    /// Add the annotated hex dump of each decoded object.
    #[arg(long)]
    pub(crate) hexdump: bool,

    /// The most bytes the gzip_packed objects of one message may
    /// decompress to, together. (Whatever the cap, one message yields at
    /// most 65536 objects; past that a warning says the rest is skipped.)
    #[arg(long, default_value_t = crate::service::DEFAULT_GZIP_CAP, value_name = "BYTES")]
    pub(crate) gzip_cap: usize,

    /// How deep wrappers (containers, gzip_packed, rpc_result, invoke*) may
    /// nest before a message is reported as too deep.
    #[arg(long, default_value_t = crate::service::DEFAULT_MAX_DEPTH, value_name = "N", value_parser = parse_depth)]
    pub(crate) max_depth: usize,

    /// Write every exportChatInvite request and answer found (bare TL
    /// bytes) into DIR, named by content hash, as fuzz seeds.
    #[arg(long, value_name = "DIR")]
    pub(crate) extract_corpus: Option<PathBuf>,

    /// Threads that decrypt, decode and render, connections shared among
    /// them; the capture is read on one more and the report written in
    /// order on the calling one, two light threads (about a tenth of the
    /// work each), so N is best the number of cores. The report is the
    /// same whatever the number [default: the available cores]
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub(crate) threads: Option<usize>,
}

/// The method `--method` chooses when none is given; the typed closure
/// shows it.
const CLOSURE_METHOD: &str = "messages.exportChatInvite";

/// The most `--threads` accepted: far beyond any machine's use, low enough
/// that a typo does not start thousands of threads.
const MAX_THREADS: usize = 256;

fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_THREADS}")),
    }
}

// clap stays in the command line: the report's format enum gets its
// command-line spelling here.
impl ValueEnum for ReportFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[ReportFormat::Text, ReportFormat::Json]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            ReportFormat::Text => PossibleValue::new("text").help("Header lines and parameter trees"),
            ReportFormat::Json => PossibleValue::new("json").help("JSON Lines, one object per message"),
        })
    }
}

/// Load the keys the arguments name.
fn load_keys(args: &PcapArgs) -> Result<KeyStore, String> {
    let mut keys = KeyStore::new();
    for spec in &args.auth_keys {
        let looks_hex = spec.len() >= 64 && spec.chars().all(|c| c.is_ascii_hexdigit());
        let key = if looks_hex {
            parse_auth_key(spec.as_bytes()).map_err(|e| format!("--auth-key: {e}"))?
        } else {
            let path = spec.strip_prefix('@').unwrap_or(spec);
            let content = std::fs::read(path).map_err(|e| format!("cannot read auth key file {path}: {e}"))?;
            parse_auth_key(&content).map_err(|e| format!("{path}: {e}"))?
        };
        keys.insert(key);
    }
    for path in &args.keylog {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for key in parse_keylog(&text).map_err(|e| format!("{}: {e}", path.display()))? {
            keys.insert(key);
        }
    }
    for path in &args.sessions {
        let found = crate::keys::load_session_file(path).map_err(|e| format!("--session {e}"))?;
        crate::keys::add_to_store(&found, &mut keys);
    }
    for text in &args.session_strings {
        let found = crate::keys::parse_session_string(text).map_err(|e| format!("--session-string: {}", e.problem))?;
        crate::keys::add_to_store(&found, &mut keys);
    }
    Ok(keys)
}

/// Run `inspector pcap`.
pub(crate) fn run(args: &PcapArgs, files: &SchemaFiles, color: bool, io: &mut Io<'_>) -> Result<ExitStatus, Failure> {
    let keys = load_keys(args).map_err(Failure::usage)?;
    let mtproxy_secret = args
        .mtproxy_secret
        .as_deref()
        .map(parse_mtproxy_secret)
        .transpose()
        .map_err(|m| Failure::usage(format!("--mtproxy-secret: {m}")))?;
    let closure_in_full = args.methods.is_empty() || args.methods.iter().any(|m| m == CLOSURE_METHOD);
    let options = ReportOptions {
        keys,
        transport: TransportOptions {
            forced: args.transport.map(TransportChoice::forced),
            mtproxy_secret,
            known_key_ids: Vec::new(),
        },
        service: ServiceOptions {
            gzip_cap: args.gzip_cap,
            max_depth: args.max_depth,
            // The typed closure shows exportChatInvite unless other
            // methods are chosen without it.
            closure: closure_in_full,
            ..ServiceOptions::default()
        },
        format: args.format,
        all: args.all,
        hexdump: args.hexdump,
        color: color && args.format == ReportFormat::Text,
        extract_corpus: args.extract_corpus.clone(),
        // Only --all and --method list the messages a schema names.
        schema: if args.all || !args.methods.is_empty() || !files.files.is_empty() {
            Some(files.load(io)?)
        } else {
            None
        },
        tree_methods: args.methods.iter().filter(|m| *m != CLOSURE_METHOD).cloned().collect(),
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)),
    };
    if let Some(schema) = options.schema {
        if let Some(m) = args.methods.iter().find(|m| !schema.by_name(m).is_some_and(|c| c.is_function)) {
            return Err(Failure::usage(format!("--method {m}: not a function of the schema")));
        }
    }
    if let Some(dir) = &options.extract_corpus {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::usage(format!("--extract-corpus: cannot create {}: {e}", dir.display())))?;
    }
    let result = if args.file.as_os_str() == "-" {
        if io.stdin_is_terminal {
            return Err(Failure::usage("no capture on standard input (pipe one in, or give a FILE)"));
        }
        run_capture(&mut *io.stdin, &options, io.stdout, io.stderr)
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", args.file.display())))?;
        let size = file.metadata().map(|m| if m.is_file() { m.len() } else { 0 }).unwrap_or(0);
        if io.stderr_is_terminal && size >= MIN_SIZE_FOR_PROGRESS {
            let progress = Progress::new(size);
            let reader = ProgressReader::new(std::io::BufReader::new(file), progress.clone());
            let mut stderr = ClearingWriter::new(io.stderr, progress.clone());
            let result = run_capture(reader, &options, io.stdout, &mut stderr);
            Progress::finish(&progress);
            result
        } else {
            run_capture(std::io::BufReader::new(file), &options, io.stdout, io.stderr)
        }
    };
    // A closed stdout (`| head`) is no failure: run_capture ends quietly.
    match result {
        Ok(_) => Ok(ExitStatus::Ok),
        Err(e @ RunError::NotACapture(_)) => Err(Failure::invalid(e.to_string())),
        Err(e @ (RunError::Read(_) | RunError::Io(_))) => Err(Failure::usage(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::ANSWERED_KEPT;
    use crate::tcp::MAX_CONNECTIONS;

    #[test]
    fn the_help_gives_the_limits_it_keeps_memory_within() {
        let help = PCAP_EXAMPLES.replace('\n', " ");
        assert!(help.contains(&format!(" the last {ANSWERED_KEPT} are remembered")), "{help}");
        assert!(help.contains(&format!("at most {MAX_CONNECTIONS} are held")), "{help}");
    }
}
