//! `inspector encode`: one frame from its canonical JSON form, as hex,
//! base64 or raw bytes.

use std::path::PathBuf;

use base64::Engine as _;
use clap::{Args, ValueEnum};

use super::{emit, read_input, ExitStatus, Failure, Io};
use crate::tl::json::TlJson;
use crate::tl::{Frame, TlObject};

pub(crate) const ENCODE_EXAMPLES: &str = "\
Reads the canonical JSON form (the one `decode --format json` prints). `flags`
may be left out; where it is given it must agree with the fields.

Examples:
  echo '{\"_\":\"messages.exportChatInvite\",\"peer\":{\"_\":\"inputPeerSelf\"}}' | inspector encode
  inspector decode --format json frame.hex | inspector encode --output raw > frame.bin";

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

pub(crate) fn run(args: &EncodeArgs, io: &mut Io<'_>) -> Result<ExitStatus, Failure> {
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
    Ok(ExitStatus::Ok)
}
