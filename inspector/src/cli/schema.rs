//! `inspector schema`: the abstract parameter tree of the method or of a
//! type (of the closure, or of any constructor or type of the built-in or
//! `--schema` schema), or the TL lines of the whole closure.

use clap::Args;

use super::{emit, ExitStatus, Failure, Io, SchemaFiles};
use crate::render::schema as schema_view;

pub(crate) const SCHEMA_EXAMPLES: &str = "\
Examples:
  inspector schema                           messages.exportChatInvite
  inspector schema InputPeer                 the seven peers, recursion shown once
  inspector schema ExportedChatInvite        the answers
  inspector schema --tl                      the TL lines of every constructor
  inspector schema messages.getHistory       any constructor or type of the built-in layer-224 schema
  inspector schema Updates --schema api.tl --schema mtproto.tl   or of a schema of your own

Outside the closure, nested types are expanded one level; below that each
is named with the command that shows it.";

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// A constructor or type of the closure or of the schema.
    #[arg(default_value = "messages.exportChatInvite")]
    pub(crate) name: String,

    /// Print the TL lines of the whole closure instead.
    #[arg(long)]
    pub(crate) tl: bool,
}

pub(crate) fn run(args: &SchemaArgs, files: &SchemaFiles, color: bool, io: &mut Io<'_>) -> Result<ExitStatus, Failure> {
    let text = if args.tl {
        schema_view::render_tl_lines()
    } else {
        // The closure's own view where it knows the name and no other schema
        // was given; the schema's otherwise.
        let closure = if files.files.is_empty() { schema_view::render_schema(&args.name, color) } else { None };
        match closure {
            Some(text) => text,
            None => {
                let tl = files.load(io)?;
                schema_view::render_schema_in(tl, &args.name, color).ok_or_else(|| {
                    Failure::usage(format!(
                        "unknown name {:?}: not a constructor, function or type of the schema (the closure's are {})",
                        args.name,
                        schema_view::known_names().join(", ")
                    ))
                })?
            }
        }
    };
    emit(io, text.as_bytes())?;
    Ok(ExitStatus::Ok)
}
