//! `inspector decode`: one frame (hex, base64 or raw bytes) shown as a
//! parameter tree, JSON or an annotated hex dump; a body still in its
//! service wrappers is unwrapped first. The closure's frames go through the
//! typed decoder; any other constructor of the schema (built-in or
//! `--schema`) through the schema-driven one, which records the same trace,
//! so every output format and `--explain` work alike for both.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{emit, parse_depth, read_input, ExitStatus, Failure, Io, SchemaFiles};
use crate::input::{decode_input, InputEncoding};
use crate::render::{hexdump, tree};
use crate::tl::dynamic::{Expect, Schema};
use crate::tl::json::TlJson;
use crate::tl::{decode_traced, DecodeOptions, Frame, Recorder};

pub(crate) const DECODE_EXAMPLES: &str = "\
The first constructor id decides what is decoded: the request
(messages.exportChatInvite), an answer (chatInviteExported,
chatInvitePublicJoinRequests) or an error answer (rpc_error), or any other
constructor or function of the schema: the built-in layer-224 api.tl and
mtproto.tl, or the files given with --schema.

Examples:
  inspector decode frame.hex
  inspector decode --format json frame.bin
  echo 'kN5VpAAAAADJfqB9' | inspector decode --input base64
  inspector decode --explain broken.hex      show where and why decoding fails
  inspector decode --lenient odd.hex         decode through forgivable problems, with warnings
  inspector decode --format hexdump frame.hex
  echo 2a88d4ed | inspector decode           updates.getState, from the built-in schema
  inspector decode --schema api.tl --schema mtproto.tl frame.hex   with a schema of your own

A body still in its service wrappers (msg_container, gzip_packed, rpc_result,
invokeWithLayer, initConnection, invokeAfterMsg, ...) is unwrapped first, and
every request or answer inside it is shown; a note on stderr names the
wrappers.";

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// The frame: a file, or - (or nothing) for standard input.
    pub(crate) file: Option<PathBuf>,

    /// How the input is written.
    #[arg(long, value_enum, default_value_t = InputEncoding::Auto)]
    pub(crate) input: InputEncoding,

    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::Tree)]
    pub(crate) format: Format,

    /// Decode through forgivable problems (unknown flag bits, padding, long
    /// length form, invalid UTF-8, trailing bytes), printing each as a
    /// warning. Wrong types and truncation stay errors.
    #[arg(long)]
    pub(crate) lenient: bool,

    /// On failure, also print the tree decoded up to the failure and the bytes
    /// around it with the bad bytes marked.
    #[arg(long)]
    pub(crate) explain: bool,

    /// How deep objects may nest (nested *FromMessage peers).
    #[arg(long, default_value_t = crate::tl::DEFAULT_MAX_DEPTH,
          value_parser = parse_depth)]
    pub(crate) max_depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// The parameter tree, with flag bits and byte ranges.
    Tree,
    /// The canonical JSON form.
    Json,
    /// A hex dump with a map of each field's bytes.
    Hexdump,
}

/// The schema, loaded when a frame first needs it: the closure's frames
/// never do.
struct LazySchema<'f> {
    files: &'f SchemaFiles,
    loaded: Option<&'static Schema>,
}

impl LazySchema<'_> {
    fn get(&mut self, io: &mut Io<'_>) -> Result<&'static Schema, Failure> {
        match self.loaded {
            Some(tl) => Ok(tl),
            None => {
                let tl = self.files.load(io)?;
                self.loaded = Some(tl);
                Ok(tl)
            }
        }
    }
}

pub(crate) fn run(args: &DecodeArgs, files: &SchemaFiles, color: bool, io: &mut Io<'_>) -> Result<ExitStatus, Failure> {
    let mut tl = LazySchema { files, loaded: None };
    let data = read_input(&args.file, io)?;
    let (bytes, _) = decode_input(&data, args.input).map_err(Failure::invalid)?;
    if bytes.is_empty() {
        return Err(Failure::invalid("the input is empty: expected a frame"));
    }
    let id = bytes.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if id.is_some_and(crate::service::is_wrapper) {
        return decode_wrapped(&bytes, args, &mut tl, color, io);
    }
    decode_frame(&bytes, args, &mut tl, color, io)
}

/// A body pasted with its service wrappers (from a log, say): unwrap it as
/// the capture pipeline does and decode every request and answer inside.
fn decode_wrapped(
    bytes: &[u8],
    args: &DecodeArgs,
    tl: &mut LazySchema<'_>,
    color: bool,
    io: &mut Io<'_>,
) -> Result<ExitStatus, Failure> {
    use crate::service::{chain_text, unwrap_message, Content, ServiceOptions};
    let mut status = ExitStatus::Ok;
    let mut frames = 0;
    let mut other = Vec::new();
    for found in unwrap_message(bytes, 0, 0, ServiceOptions::default()) {
        let inner = match &found.content {
            Content::Request(inner) | Content::Answer(inner) => inner,
            Content::Malformed(e) => {
                let _ = writeln!(io.stderr, "{e}");
                status = ExitStatus::Invalid;
                continue;
            }
            Content::Service(m) => {
                other.push(m.name.to_string());
                continue;
            }
            Content::Other { id, bytes, .. } => {
                if tl.get(io)?.by_id(*id).is_none() {
                    other.push(format!("0x{id:08x}"));
                    continue;
                }
                bytes
            }
        };
        frames += 1;
        let _ =
            writeln!(io.stderr, "note: unwrapped {} (byte offsets below are within it)", chain_text(&found.wrapping));
        status = status.max(decode_frame(inner, args, tl, color, io)?);
    }
    if frames == 0 && status == ExitStatus::Ok {
        let found = if other.is_empty() { "nothing".to_string() } else { other.join(", ") };
        return Err(Failure::invalid(format!(
            "no request or answer of the schema inside the wrappers (found {found})"
        )));
    }
    Ok(status)
}

/// Decode and print one frame: the closure's four top-level constructors
/// (and ids the schema does not know, for the typed decoder's error line)
/// with the typed decoder, anything else the schema defines with it.
fn decode_frame(
    bytes: &[u8],
    args: &DecodeArgs,
    tl: &mut LazySchema<'_>,
    color: bool,
    io: &mut Io<'_>,
) -> Result<ExitStatus, Failure> {
    let options = DecodeOptions { lenient: args.lenient, max_depth: args.max_depth };
    let id = bytes.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let closure = match (id, Expect::frame()) {
        (Some(id), Expect::OneOf { ids, .. }) => ids.contains(&id),
        _ => true,
    };
    let schema = match id {
        Some(id) if !closure => Some(tl.get(io)?).filter(|s| s.by_id(id).is_some()),
        _ => None,
    };
    let (json, recorder, error) = match schema {
        None => {
            let traced = decode_traced::<Frame>(bytes, options);
            let recorder = Recorder { events: traced.trace, warnings: traced.warnings };
            match traced.result {
                Ok(frame) => (Some(frame.to_json()), recorder, None),
                Err(e) => (None, recorder, Some(e)),
            }
        }
        Some(schema) => {
            let mut recorder = Recorder::default();
            match schema.decode_traced(bytes, options, &mut recorder) {
                Ok(value) => (Some(value.to_json()), recorder, None),
                Err(e) => (None, recorder, Some(e)),
            }
        }
    };
    for w in &recorder.warnings {
        let _ = writeln!(io.stderr, "{w}");
    }
    let (Some(json), None) = (json, &error) else {
        if let Some(e) = error {
            let _ = writeln!(io.stderr, "{e}");
            if args.explain {
                let _ = io.stderr.write_all(crate::render::explain(bytes, &recorder.events, &e, color).as_bytes());
            } else {
                let _ = writeln!(io.stderr, "(run with --explain to see the bytes around it and what was decoded)");
            }
        }
        return Ok(ExitStatus::Invalid);
    };
    let text = match args.format {
        Format::Tree => tree::render_tree(bytes, &recorder.events, color),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&json).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Hexdump => hexdump::render_hexdump(bytes, &recorder.events, color),
    };
    emit(io, text.as_bytes())?;
    Ok(ExitStatus::Ok)
}
