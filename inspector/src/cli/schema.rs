//! `inspector schema`: the abstract parameter tree of the method or of a
//! type, or the TL lines of the whole closure.

use clap::Args;

use super::{emit, ExitStatus, Failure, Io};
use crate::render::schema as schema_view;

pub(crate) const SCHEMA_EXAMPLES: &str = "\
Examples:
  inspector schema                           messages.exportChatInvite
  inspector schema InputPeer                 the seven peers, recursion shown once
  inspector schema ExportedChatInvite        the answers
  inspector schema --tl                      the TL lines of every constructor";

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// A constructor or type of the closure.
    #[arg(default_value = "messages.exportChatInvite")]
    pub(crate) name: String,

    /// Print the TL lines of the whole closure instead.
    #[arg(long)]
    pub(crate) tl: bool,
}

pub(crate) fn run(args: &SchemaArgs, color: bool, io: &mut Io<'_>) -> Result<ExitStatus, Failure> {
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
    Ok(ExitStatus::Ok)
}
