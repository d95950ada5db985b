//! The text report: a header line and the TL core's parameter tree for
//! every exportChatInvite request and answer, one line for everything else
//! with `--all`, warnings on stderr, and a summary line.

use std::io::{self, Write};

use super::{push_line_header, push_message_header, write_warning, Output, Report, PRERENDER_MAX_BYTES};
use crate::envelope::format_key_id;
use crate::pipeline::{AnswerTo, Decoded, Message, Prerender, Record, RecordSink, Rendered, Summary};
use crate::render::{hexdump, tree};
use crate::tl::{with_flag_fields, DecodeError, TraceEvent};

/// What the text report shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// List every message, not only requests and answers.
    pub all: bool,
    /// Add the annotated hex dump of each decoded object.
    pub hexdump: bool,
    pub color: bool,
}

/// The text report, written to `out` as records arrive; warnings go to `err`.
/// Its trees need the pipeline to record traces ([`PipelineOptions::trace`](crate::pipeline::PipelineOptions::trace)).
pub struct TextReport<'a, W: Write + ?Sized, E: Write + ?Sized> {
    out: Output<&'a mut W>,
    err: &'a mut E,
    options: TextOptions,
}

impl<'a, W: Write + ?Sized, E: Write + ?Sized> TextReport<'a, W, E> {
    pub fn new(out: &'a mut W, err: &'a mut E, options: TextOptions) -> Self {
        TextReport { out: Output::new(out), err, options }
    }

    /// A request's or answer's header and tree, after `head` (which only
    /// the ordered stage knows): as a decoding thread rendered it
    /// ([`TextPrerender`]), or rendered here the same way.
    fn object(&mut self, head: String, message: &Message<'_>, decoded: &Decoded<'_>) {
        self.out.write(&head);
        match &decoded.rendered {
            Some(rendered) => self.out.write_bytes(&rendered.text),
            None => self.out.write(&object_text(self.options, message, decoded)),
        }
    }

    /// One line of `--all`: the message's header, ` · `, what `what` adds.
    fn list_line(&mut self, message: &Message<'_>, what: impl FnOnce(&mut String)) {
        let mut line = String::with_capacity(320);
        push_message_header(&mut line, message);
        line.push_str(" · ");
        what(&mut line);
        line.push('\n');
        self.out.write(&line);
    }

    fn tree(&self, bytes: &[u8], trace: &[TraceEvent], error: Option<&DecodeError>) -> String {
        tree_text(self.options, bytes, trace, error)
    }

    fn summary(&mut self, s: &Summary) {
        let text = format!(
            "\nsummary: {} packets, {} connection{}, {} frames, {} messages, {} requests, {} answers, {} matched, {} requests unanswered, {} answers unmatched, {} answers to other methods, {} messages with unknown keys, {} warnings\n",
            s.packets,
            s.connections,
            if s.connections == 1 { "" } else { "s" },
            s.frames,
            s.messages,
            s.requests,
            s.answers,
            s.matched,
            s.unanswered(),
            s.unmatched_answers,
            s.other_answers,
            s.unknown_key_messages,
            s.warnings
        );
        self.out.write(&text);
    }
}

/// The tree of what decoded (on an error too: the warning says why the
/// rest did not), and the hex dump if asked, ending in a newline.
fn tree_text(options: TextOptions, bytes: &[u8], trace: &[TraceEvent], error: Option<&DecodeError>) -> String {
    let fields = with_flag_fields(trace, error);
    let mut text = tree::render_tree(bytes, &fields, options.color);
    if options.hexdump {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&hexdump::render_hexdump(bytes, trace, options.color));
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// A request's or answer's text after its first words: the message's
/// header line and the tree.
fn object_text(options: TextOptions, message: &Message<'_>, decoded: &Decoded<'_>) -> String {
    let tree = tree_text(options, decoded.bytes, decoded.trace, decoded.value.as_ref().err());
    let mut text = String::with_capacity(257 + tree.len());
    push_message_header(&mut text, message);
    text.push('\n');
    text.push_str(&tree);
    text
}

/// The text report's rendering on the decoding threads: a request's or
/// answer's header line and tree, all but the words that name its number
/// or the request it answers. Records larger than [`PRERENDER_MAX_BYTES`]
/// are left to the report.
pub(crate) struct TextPrerender(TextOptions);

impl Prerender for TextPrerender {
    fn object(&self, message: &Message<'_>, decoded: &Decoded<'_>, _answer: bool) -> Option<Rendered> {
        (decoded.bytes.len() <= PRERENDER_MAX_BYTES)
            .then(|| Rendered { text: object_text(self.0, message, decoded).into_bytes(), split: 0 })
    }
}

impl<W: Write + ?Sized, E: Write + ?Sized> RecordSink for TextReport<'_, W, E> {
    fn record(&mut self, record: Record<'_>) {
        let all = self.options.all;
        match record {
            Record::Request(r) => self.object(format!("\nrequest #{} · ", r.number), &r.message, &r.decoded),
            Record::Answer(a) => {
                if matches!(a.to, AnswerTo::Other { .. }) && !all {
                    return;
                }
                self.object(format!("\n{} · ", a.to), &a.message, &a.decoded);
            }
            Record::Service { message, service } if all => {
                self.list_line(&message, |line| line.push_str(&service.summary()));
            }
            Record::Other { message, body, trace, answers, bytes, .. } if !trace.is_empty() || answers.is_some() => {
                // A chosen method (--method): its header and whole tree, as exportChatInvite's.
                let head = match answers {
                    Some((req, method)) => format!("\nanswer to msg_id {req}, a {method} request · "),
                    None => "\n".to_string(),
                };
                let error = body.as_ref().and_then(|b| b.as_ref().err());
                let problem = error.map_or_else(String::new, |e| format!(" · undecodable: {e}"));
                let mut text = head;
                push_message_header(&mut text, &message);
                text.push_str(&problem);
                text.push('\n');
                text.push_str(&self.tree(bytes, trace, error));
                self.out.write(&text);
            }
            Record::Other { message, id, len, body, .. } if all => {
                self.list_line(&message, |line| {
                    use std::fmt::Write as _;
                    let _ = match body {
                        Some(Ok(value)) => {
                            crate::render::summary::push_summary_line(line, &value);
                            Ok(())
                        }
                        Some(Err(e)) => write!(line, "constructor 0x{id:08x}, {len} bytes, undecodable: {e}"),
                        None => write!(line, "constructor 0x{id:08x}, {len} bytes"),
                    };
                });
            }
            Record::UnknownKey { origin, auth_key_id, len } if all => {
                let mut line = String::with_capacity(256);
                push_line_header(&mut line, &origin);
                line +=
                    &format!(" · encrypted with unknown key {} · {len} bytes skipped\n", format_key_id(auth_key_id));
                self.out.write(&line);
            }
            Record::QuickAck { origin, token } if all => {
                let mut line = String::with_capacity(160);
                push_line_header(&mut line, &origin);
                line += &format!(" · quick ack {token:08x}\n");
                self.out.write(&line);
            }
            Record::Warning(w) => write_warning(self.err, &w),
            Record::Summary(s) => self.summary(&s),
            Record::Service { .. } | Record::Other { .. } | Record::UnknownKey { .. } | Record::QuickAck { .. } => {}
        }
    }

    fn wants_more(&self) -> bool {
        self.out.error.is_none()
    }
}

impl<W: Write + ?Sized, E: Write + ?Sized> Report for TextReport<'_, W, E> {
    fn finish(&mut self) -> io::Result<()> {
        self.out.finish()
    }

    fn prerender(&self) -> Option<Box<dyn Prerender>> {
        Some(Box::new(TextPrerender(self.options)))
    }
}
