//! The command line: argument parsing, reading input, choosing a renderer,
//! and exit statuses (0 decoded, 1 not a valid frame, 2 usage or I/O error).

use std::ffi::OsString;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;

use base64::Engine as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::input::{decode_input, InputEncoding};
use crate::render::{hexdump, schema as schema_view, tree};
use crate::tl::json::TlJson;
use crate::tl::{decode_traced, DecodeOptions, Frame, TlObject, MAX_DEPTH_LIMIT};

/// Exit status: the input was decoded (warnings allowed).
pub const EXIT_OK: i32 = 0;
/// Exit status: the input is not a valid frame.
pub const EXIT_INVALID: i32 = 1;
/// Exit status: usage error, or a file that could not be read or written.
pub const EXIT_USAGE: i32 = 2;

const ABOUT: &str = "Decode, encode and explain MTProto messages.exportChatInvite frames (TL layer 223)";

const MAIN_EXAMPLES: &str = "\
Examples:
  inspector decode frame.hex                 show a frame as a parameter tree
  echo 90de55a4 00000000 c97ea07d | inspector decode
  inspector decode --format json frame.hex | inspector encode
  inspector schema                           the method's abstract parameter tree

Exit status: 0 decoded, 1 the input is not a valid frame, 2 usage or I/O error.";

const DECODE_EXAMPLES: &str = "\
The first constructor id decides what is decoded: the request
(messages.exportChatInvite), an answer (chatInviteExported,
chatInvitePublicJoinRequests) or an error answer (rpc_error).

Examples:
  inspector decode frame.hex
  inspector decode --format json frame.bin
  echo 'kN5VpAAAAADJfqB9' | inspector decode --input base64
  inspector decode --explain broken.hex      show where and why decoding fails
  inspector decode --lenient odd.hex         decode through forgivable problems, with warnings
  inspector decode --format hexdump frame.hex

A body still in its service wrappers (msg_container, gzip_packed, rpc_result,
invokeWithLayer, initConnection, invokeAfterMsg, ...) is unwrapped first, and
every request or answer inside it is shown; a note on stderr names the
wrappers.";

const ENCODE_EXAMPLES: &str = "\
Reads the canonical JSON form (the one `decode --format json` prints). `flags`
may be left out; where it is given it must agree with the fields.

Examples:
  echo '{\"_\":\"messages.exportChatInvite\",\"peer\":{\"_\":\"inputPeerSelf\"}}' | inspector encode
  inspector decode --format json frame.hex | inspector encode --output raw > frame.bin";

const SCHEMA_EXAMPLES: &str = "\
Examples:
  inspector schema                           messages.exportChatInvite
  inspector schema InputPeer                 the seven peers, recursion shown once
  inspector schema ExportedChatInvite        the answers
  inspector schema --tl                      the TL lines of every constructor";

/// The inspector's command line.
#[derive(Debug, Parser)]
#[command(name = "inspector", version, about = ABOUT, after_help = MAIN_EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// When to colour the output: auto colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode one frame (hex, base64 or raw bytes) and show it.
    #[command(after_help = DECODE_EXAMPLES)]
    Decode(DecodeArgs),
    /// Encode one frame from its canonical JSON form.
    #[command(after_help = ENCODE_EXAMPLES)]
    Encode(EncodeArgs),
    /// Show the abstract parameter tree of the method or of a type.
    #[command(after_help = SCHEMA_EXAMPLES)]
    Schema(SchemaArgs),
    /// Decode every messages.exportChatInvite request and answer in a capture.
    #[command(after_help = crate::pcap_cmd::PCAP_EXAMPLES)]
    Pcap(crate::pcap_cmd::PcapArgs),
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The frame: a file, or - (or nothing) for standard input.
    pub file: Option<PathBuf>,

    /// How the input is written.
    #[arg(long, value_enum, default_value_t = InputEncoding::Auto)]
    pub input: InputEncoding,

    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::Tree)]
    pub format: Format,

    /// Decode through forgivable problems (unknown flag bits, padding, long
    /// length form, invalid UTF-8, trailing bytes), printing each as a
    /// warning. Wrong types and truncation stay errors.
    #[arg(long)]
    pub lenient: bool,

    /// On failure, also print the tree decoded up to the failure and the bytes
    /// around it with the bad bytes marked.
    #[arg(long)]
    pub explain: bool,

    /// How deep objects may nest (nested *FromMessage peers).
    #[arg(long, default_value_t = crate::tl::DEFAULT_MAX_DEPTH,
          value_parser = parse_depth)]
    pub max_depth: usize,
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

fn parse_depth(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_DEPTH_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_DEPTH_LIMIT}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The parameter tree, with flag bits and byte ranges.
    Tree,
    /// The canonical JSON form.
    Json,
    /// A hex dump with a map of each field's bytes.
    Hexdump,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// The JSON: a file, or - (or nothing) for standard input.
    pub file: Option<PathBuf>,

    /// How to write the bytes.
    #[arg(long, value_enum, default_value_t = OutputEncoding::Hex)]
    pub output: OutputEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputEncoding {
    Hex,
    Base64,
    Raw,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// A constructor or type of the closure.
    #[arg(default_value = "messages.exportChatInvite")]
    pub name: String,

    /// Print the TL lines of the whole closure instead.
    #[arg(long)]
    pub tl: bool,
}

/// Standard streams, replaceable in tests.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdin_is_terminal: bool,
    pub stdout: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
    pub stderr: &'a mut dyn Write,
    /// Whether stderr is a terminal (for the progress line of `pcap`).
    pub stderr_is_terminal: bool,
}

/// A failure with its exit status and one-line message.
struct Failure {
    status: i32,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure { status: EXIT_USAGE, message: message.into() }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Failure { status: EXIT_INVALID, message: message.into() }
    }
}

/// Run the command line and return the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>, io: &mut Io<'_>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let status = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
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
        Command::Decode(args) => decode(args, color, io),
        Command::Encode(args) => encode(args, io),
        Command::Schema(args) => schema(args, color, io),
        Command::Pcap(args) => Ok(crate::pcap_cmd::run_command(
            args,
            color,
            io.stdin,
            io.stdin_is_terminal,
            io.stdout,
            io.stderr,
            io.stderr_is_terminal,
        )),
    };
    match result {
        Ok(status) => status,
        Err(f) => {
            let _ = writeln!(io.stderr, "inspector: {}", f.message);
            f.status
        }
    }
}

fn read_input(file: &Option<PathBuf>, io: &mut Io<'_>) -> Result<Vec<u8>, Failure> {
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
fn emit(io: &mut Io<'_>, bytes: &[u8]) -> Result<(), Failure> {
    match io.stdout.write_all(bytes).and_then(|()| io.stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::usage(format!("cannot write output: {e}"))),
    }
}

fn decode(args: &DecodeArgs, color: bool, io: &mut Io<'_>) -> Result<i32, Failure> {
    let data = read_input(&args.file, io)?;
    let (bytes, _) = decode_input(&data, args.input).map_err(Failure::invalid)?;
    if bytes.is_empty() {
        return Err(Failure::invalid("the input is empty: expected a frame"));
    }
    let id = bytes.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if id.is_some_and(is_service_wrapper) {
        return decode_wrapped(&bytes, args, color, io);
    }
    decode_frame(&bytes, args, color, io)
}

/// Constructors around a request or an answer that `decode` removes by itself.
fn is_service_wrapper(id: u32) -> bool {
    matches!(id, 0x73f1f8dc | 0xf35c6d01 | 0x3072cfa1)
        || crate::tl::schema::FOREIGN.iter().any(|(_, i, kind)| *i == id && kind.contains("wrapper"))
}

/// A body pasted with its service wrappers (from a log, say): unwrap it as
/// the capture pipeline does and decode every request and answer inside.
fn decode_wrapped(bytes: &[u8], args: &DecodeArgs, color: bool, io: &mut Io<'_>) -> Result<i32, Failure> {
    use crate::service::{chain_text, unwrap_message, Content, ServiceOptions};
    let mut status = EXIT_OK;
    let mut frames = 0;
    let mut other = Vec::new();
    for found in unwrap_message(bytes, 0, 0, ServiceOptions::default()) {
        let inner = match &found.content {
            Content::Request(inner) | Content::Answer(inner) => inner,
            Content::Malformed(e) => {
                let _ = writeln!(io.stderr, "{e}");
                status = EXIT_INVALID;
                continue;
            }
            Content::Service(m) => {
                other.push(m.name.to_string());
                continue;
            }
            Content::Other { id, .. } => {
                other.push(format!("0x{id:08x}"));
                continue;
            }
        };
        frames += 1;
        let _ =
            writeln!(io.stderr, "note: unwrapped {} (byte offsets below are within it)", chain_text(&found.wrapping));
        status = status.max(decode_frame(inner, args, color, io)?);
    }
    if frames == 0 && status == EXIT_OK {
        let found = if other.is_empty() { "nothing".to_string() } else { other.join(", ") };
        return Err(Failure::invalid(format!(
            "no messages.exportChatInvite request or answer inside the wrappers (found {found})"
        )));
    }
    Ok(status)
}

/// Decode and print one frame.
fn decode_frame(bytes: &[u8], args: &DecodeArgs, color: bool, io: &mut Io<'_>) -> Result<i32, Failure> {
    let bytes = bytes.to_vec();
    let options = DecodeOptions { lenient: args.lenient, max_depth: args.max_depth };
    let traced = decode_traced::<Frame>(&bytes, options);
    for w in &traced.warnings {
        let _ = writeln!(io.stderr, "{w}");
    }
    let frame = match traced.result {
        Ok(frame) => frame,
        Err(e) => {
            let _ = writeln!(io.stderr, "{e}");
            if args.explain {
                let _ = io.stderr.write_all(crate::render::explain(&bytes, &traced.trace, &e, color).as_bytes());
            } else {
                let _ = writeln!(io.stderr, "(run with --explain to see the bytes around it and what was decoded)");
            }
            return Ok(EXIT_INVALID);
        }
    };
    let text = match args.format {
        Format::Tree => tree::render_tree(&bytes, &traced.trace, color),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&frame.to_json()).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Hexdump => hexdump::render_hexdump(&bytes, &traced.trace, color),
    };
    emit(io, text.as_bytes())?;
    Ok(EXIT_OK)
}

fn encode(args: &EncodeArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let data = read_input(&args.file, io)?;
    let value: serde_json::Value =
        serde_json::from_slice(&data).map_err(|e| Failure::invalid(format!("invalid JSON: {e}")))?;
    let frame = Frame::from_json(&value).map_err(|e| Failure::invalid(e.to_string()))?;
    let bytes = frame.to_bytes().map_err(|e| Failure::invalid(e.to_string()))?;
    let out = match args.output {
        OutputEncoding::Hex => {
            let mut s = crate::hex::encode(&bytes);
            s.push('\n');
            s.into_bytes()
        }
        OutputEncoding::Base64 => {
            let mut s = base64::engine::general_purpose::STANDARD.encode(&bytes);
            s.push('\n');
            s.into_bytes()
        }
        OutputEncoding::Raw => bytes,
    };
    emit(io, &out)?;
    Ok(EXIT_OK)
}

fn schema(args: &SchemaArgs, color: bool, io: &mut Io<'_>) -> Result<i32, Failure> {
    let text = if args.tl {
        schema_view::render_tl_lines()
    } else {
        schema_view::render_schema(&args.name, color).ok_or_else(|| {
            Failure::usage(format!(
                "unknown name {:?}: expected one of {}",
                args.name,
                schema_view::known_names().join(", ")
            ))
        })?
    };
    emit(io, text.as_bytes())?;
    Ok(EXIT_OK)
}

/// Run with the process's own streams.
pub fn main_with_std() -> i32 {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let stdin_is_terminal = stdin.is_terminal();
    let stdout_is_terminal = stdout.is_terminal();
    let stderr_is_terminal = io::stderr().is_terminal();
    let mut stdin = stdin.lock();
    let mut stdout = stdout.lock();
    let mut stderr = io::stderr().lock();
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
