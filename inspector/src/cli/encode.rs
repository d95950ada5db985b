//! `inspector encode`: one frame from its canonical JSON form, as hex,
//! base64 or raw bytes. The closure's constructors go through the typed
//! encoder; any other constructor of the schema (built-in or `--schema`)
//! through [`Schema::encode_json`](crate::tl::dynamic::Schema::encode_json),
//! from the extended form `decode --format json` prints for it.

use std::path::PathBuf;

use base64::Engine as _;
use clap::{Args, ValueEnum};

use super::{emit, read_input, ExitStatus, Failure, Io, SchemaFiles};
use crate::tl::json::TlJson;
use crate::tl::{Frame, TlObject};

pub(crate) const ENCODE_EXAMPLES: &str = "\
Reads the canonical JSON form (the one `decode --format json` prints). `flags`
may be left out; where it is given it must agree with the fields. Any
constructor or function of the schema is accepted (the built-in layer-224
api.tl and mtproto.tl, or the files given with --schema).

Examples:
  echo '{\"_\":\"messages.exportChatInvite\",\"peer\":{\"_\":\"inputPeerSelf\"}}' | inspector encode
  inspector decode --format json frame.hex | inspector encode --output raw > frame.bin
  echo '{\"_\":\"updates.getState\"}' | inspector encode        any constructor of the schema";

#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    /// The JSON: a file, or - (or nothing) for standard input.
    pub(crate) file: Option<PathBuf>,

    /// How to write the bytes.
    #[arg(long, value_enum, default_value_t = OutputEncoding::Hex)]
    pub(crate) output: OutputEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputEncoding {
    Hex,
    Base64,
    Raw,
}

pub(crate) fn run(args: &EncodeArgs, files: &SchemaFiles, io: &mut Io<'_>) -> Result<ExitStatus, Failure> {
    let data = read_input(&args.file, io)?;
    let value: serde_json::Value =
        serde_json::from_slice(&data).map_err(|e| Failure::invalid(format!("invalid JSON: {e}")))?;
    // The closure's names, and anything without a name the schema knows,
    // keep the typed encoder and its error lines.
    let name = value.get("_").and_then(serde_json::Value::as_str);
    let closure = name.is_none_or(|n| crate::tl::schema::ctor_by_name(n).is_some());
    let schema = match name {
        Some(n) if !closure => Some(files.load(io)?).filter(|s| s.by_name(n).is_some()),
        _ => None,
    };
    let bytes = match schema {
        Some(schema) => schema.encode_json(&value).map_err(|e| Failure::invalid(e.to_string()))?,
        None => {
            let frame = Frame::from_json(&value).map_err(|e| Failure::invalid(e.to_string()))?;
            frame.to_bytes().map_err(|e| Failure::invalid(e.to_string()))?
        }
    };
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
    Ok(ExitStatus::Ok)
}
