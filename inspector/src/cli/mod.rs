//! The command line: it parses arguments, opens files and maps outcomes to
//! exit statuses (0 decoded, 1 not a valid frame or capture, 2 usage or
//! I/O error); the work is the library's. A file per subcommand; here the
//! top-level parser and what the subcommands share. No library module
//! imports this one.

mod decode;
mod encode;
mod keys;
mod pcap;
mod progress;
mod schema;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::input::InputEncoding;
use crate::tl::dynamic::Schema;
use crate::tl::MAX_DEPTH_LIMIT;

const ABOUT: &str = "Decode, encode and explain MTProto messages.exportChatInvite frames (TL layer 223)";

const MAIN_EXAMPLES: &str = "\
Examples:
  inspector decode frame.hex                 show a frame as a parameter tree
  echo 90de55a4 00000000 c97ea07d | inspector decode
  inspector decode --format json frame.hex | inspector encode
  inspector schema                           the method's abstract parameter tree

Exit status: 0 decoded, 1 the input is not a valid frame, 2 usage or I/O error.";

/// The inspector's command line.
#[derive(Debug, Parser)]
#[command(name = "inspector", version, about = ABOUT, after_help = MAIN_EXAMPLES, max_term_width = 100)]
pub(crate) struct Cli {
    /// When to colour the output: auto colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub(crate) color: ColorChoice,

    #[command(flatten)]
    pub(crate) schema: SchemaFiles,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Decode one frame (hex, base64 or raw bytes) and show it.
    #[command(after_help = decode::DECODE_EXAMPLES)]
    Decode(decode::DecodeArgs),
    /// Encode one frame from its canonical JSON form.
    #[command(after_help = encode::ENCODE_EXAMPLES)]
    Encode(encode::EncodeArgs),
    /// Show the abstract parameter tree of the method or of a type.
    #[command(after_help = schema::SCHEMA_EXAMPLES)]
    Schema(schema::SchemaArgs),
    /// Decode every messages.exportChatInvite request and answer in a capture.
    #[command(after_help = pcap::PCAP_EXAMPLES)]
    Pcap(pcap::PcapArgs),
    /// List the auth keys a client's session file or session string holds.
    #[command(after_help = keys::KEYS_EXAMPLES)]
    Keys(keys::KeysArgs),
}

// clap stays in the command line: the library's encoding enum gets its
// command-line spelling here.
impl ValueEnum for InputEncoding {
    fn value_variants<'a>() -> &'a [Self] {
        &[InputEncoding::Auto, InputEncoding::Hex, InputEncoding::Base64, InputEncoding::Raw]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            InputEncoding::Auto => PossibleValue::new("auto").help("Detect hex, then base64, else raw"),
            InputEncoding::Hex => PossibleValue::new("hex"),
            InputEncoding::Base64 => PossibleValue::new("base64"),
            InputEncoding::Raw => PossibleValue::new("raw"),
        })
    }
}

/// `--max-depth` of `decode` (how deep TL objects nest) and of `pcap` (how
/// deep service wrappers nest) share one ceiling: both recurse once per
/// level, and [`MAX_DEPTH_LIMIT`] keeps either's stack small on any thread.
pub(crate) fn parse_depth(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_DEPTH_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_DEPTH_LIMIT}")),
    }
}

/// Standard streams, replaceable in tests.
pub struct Io<'a> {
    /// Send: `pcap --threads` reads the capture on a thread of its own.
    pub stdin: &'a mut (dyn Read + Send),
    pub stdin_is_terminal: bool,
    pub stdout: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
    pub stderr: &'a mut dyn Write,
    /// Whether stderr is a terminal (for the progress line of `pcap`).
    pub stderr_is_terminal: bool,
}

/// How a run ended, as the process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// The input was decoded or the capture read (warnings allowed).
    Ok = 0,
    /// The input is not a valid frame, or not a capture.
    Invalid = 1,
    /// A usage error, or a file that could not be read or written.
    Usage = 2,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}

/// A failure with its exit status and one-line message.
pub(crate) struct Failure {
    status: ExitStatus,
    message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure { status: ExitStatus::Usage, message: message.into() }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure { status: ExitStatus::Invalid, message: message.into() }
    }
}

/// Run the command line and return the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>, io: &mut Io<'_>) -> ExitStatus {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let status = if e.use_stderr() { ExitStatus::Usage } else { ExitStatus::Ok };
            let text = if io.stdout_is_terminal && !e.use_stderr() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let _ = if e.use_stderr() {
                io.stderr.write_all(text.as_bytes())
            } else {
                io.stdout.write_all(text.as_bytes())
            };
            return status;
        }
    };
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io.stdout_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let result = match &cli.command {
        Command::Decode(args) => decode::run(args, &cli.schema, color, io),
        Command::Encode(args) => encode::run(args, &cli.schema, io),
        Command::Schema(args) => schema::run(args, &cli.schema, color, io),
        Command::Pcap(args) => pcap::run(args, &cli.schema, color, io),
        Command::Keys(args) => keys::run(args, io),
    };
    match result {
        Ok(status) => status,
        Err(f) => {
            let _ = writeln!(io.stderr, "inspector: {}", f.message);
            f.status
        }
    }
}

pub(crate) fn read_input(file: &Option<PathBuf>, io: &mut Io<'_>) -> Result<Vec<u8>, Failure> {
    match file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
        }
        _ => {
            if io.stdin_is_terminal {
                return Err(Failure::usage(
                    "no input: give a FILE, or pipe the input into standard input (see --help)",
                ));
            }
            let mut data = Vec::new();
            io.stdin.read_to_end(&mut data).map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
            Ok(data)
        }
    }
}

/// Write output; a closed pipe (`| head`) is not an error worth a message.
pub(crate) fn emit(io: &mut Io<'_>, bytes: &[u8]) -> Result<(), Failure> {
    match io.stdout.write_all(bytes).and_then(|()| io.stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::usage(format!("cannot write output: {e}"))),
    }
}

/// Run with the process's own streams.
pub fn main_with_std() -> ExitStatus {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let stdin_is_terminal = stdin.is_terminal();
    let stdout_is_terminal = stdout.is_terminal();
    let stderr_is_terminal = io::stderr().is_terminal();
    // Standard input and error stay unlocked: `pcap --threads` reads the
    // capture on another thread (a lock is not Send), and the progress
    // line is drawn from that thread too. Standard error is unbuffered and
    // standard input is read in large blocks, so locking per call costs
    // nothing that shows.
    let mut stdin = stdin;
    let mut stdout = stdout.lock();
    let mut stderr = io::stderr();
    let mut io = Io {
        stdin: &mut stdin,
        stdin_is_terminal,
        stdout: &mut stdout,
        stdout_is_terminal,
        stderr: &mut stderr,
        stderr_is_terminal,
    };
    run(std::env::args_os(), &mut io)
}

/// `--schema FILE`, shared by every subcommand: the TL schema that names
/// and decodes what the closure's typed decoder does not know.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct SchemaFiles {
    /// A TL schema file (an api.tl, a mtproto.tl) replacing the built-in
    /// layer-224 schema; repeat it for each file.
    #[arg(long = "schema", value_name = "FILE", global = true)]
    pub(crate) files: Vec<PathBuf>,
}

impl SchemaFiles {
    /// The schema the files give (their warnings printed as notes), or the
    /// built-in one. A file that does not parse is a usage error whose one
    /// line gives its file, line and column.
    pub(crate) fn load(&self, io: &mut Io<'_>) -> Result<&'static Schema, Failure> {
        if self.files.is_empty() {
            return Ok(Schema::builtin());
        }
        let mut texts = Vec::with_capacity(self.files.len());
        for path in &self.files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
            texts.push((path.display().to_string(), text));
        }
        let named: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let schema = Schema::parse(&named).map_err(|e| Failure::usage(e.to_string()))?;
        for w in schema.warnings() {
            let _ = writeln!(io.stderr, "note: {w}");
        }
        // The renderers hold `&'static` definitions (see `tl::dynamic`):
        // the schema lives as long as the command, which loads it once.
        Ok(Box::leak(Box::new(schema)))
    }
}
