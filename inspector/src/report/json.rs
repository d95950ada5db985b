//! The JSON Lines report: one object per request, answer (and with
//! `--all` per other message), per warning, and the summary last.

use std::io::{self, Write};

use super::{push_connection, push_time, push_transport, write_warning, Output, Report, PRERENDER_MAX_BYTES};
use crate::envelope::{format_key_id, push_key_id};
use crate::pipeline::{AnswerTo, Decoded, Message, Origin, Prerender, Record, RecordSink, Rendered, Summary};
use crate::service::Wrapper;
use crate::tl::json::TlJsonWrite;
use crate::tl::{DecodeError, Frame};

/// The JSON Lines report, written to `out` as records arrive; warnings go
/// to `err` too.
pub struct JsonReport<'a, W: Write + ?Sized, E: Write + ?Sized> {
    /// Through one small buffer for the whole report, flushed at the end
    /// of every line: see [`JsonReport::write_with`].
    out: Output<io::BufWriter<&'a mut W>>,
    err: &'a mut E,
    all: bool,
    /// Room for the texts of a line's opening (time, connection,
    /// transport, key id), made once: one string for every line was a
    /// tenth of a report run's allocations.
    text: String,
}

impl<'a, W: Write + ?Sized, E: Write + ?Sized> JsonReport<'a, W, E> {
    /// `all`: list every message, not only requests and answers.
    pub fn new(out: &'a mut W, err: &'a mut E, all: bool) -> Self {
        JsonReport { out: Output::new(io::BufWriter::new(out)), err, all, text: String::with_capacity(128) }
    }

    /// Write one line with `write`, through the buffer, and flush it.
    /// Every line is written straight into the output as it is made, not
    /// built as a `Value` or a string first: an answer near the gzip cap
    /// (16 MiB of title) would otherwise be held once more, which showed in
    /// the benchmark's peak RSS, and the maps and keys of a `json!` object
    /// were most of the allocations of a summary or service line. The small
    /// buffer gathers serde's many small writes, which a line-buffered
    /// stdout would each scan for a newline; it is the report's, made once
    /// (one per line was 8 KiB allocated for every line).
    fn write_with(&mut self, write: impl FnOnce(&mut io::BufWriter<&'a mut W>, &mut String) -> io::Result<()>) {
        if self.out.error.is_some() {
            return;
        }
        let w = &mut self.out.out;
        if let Err(e) = write(w, &mut self.text).and_then(|()| w.flush()) {
            self.out.error = Some(e);
        }
    }

    /// A request's or answer's line: `kind`, and after the body what only
    /// the ordered stage knows (`extra`). From the pieces a decoding
    /// thread rendered ([`JsonPrerender`]), or rendered here the same way.
    fn object_line(
        &mut self,
        message: &Message<'_>,
        decoded: Decoded<'_>,
        answer: bool,
        kind: &str,
        extra: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) {
        let msg_id = message.msg_id;
        self.write_with(|w, text| {
            match &decoded.rendered {
                Some(rendered) => {
                    let (head, rest) = rendered.pieces();
                    w.write_all(head)?;
                    write_str(w, kind)?;
                    w.write_all(rest)?;
                }
                None => {
                    write_head(w, message, text)?;
                    write_str(w, kind)?;
                    write_tail(w, message, wrapping(message, answer), |w| {
                        write_body(w, &decoded.value, what(answer), msg_id)
                    })?;
                }
            }
            extra(w)?;
            w.write_all(b"}\n")
        });
    }

    /// A one-line entry of `--all` that is not a message: its time,
    /// connection and direction, then what `extra` writes (members, each
    /// after a comma).
    fn list_line(&mut self, origin: &Origin, extra: impl FnOnce(&mut io::BufWriter<&'a mut W>) -> io::Result<()>) {
        self.write_with(|w, text| {
            write_place(w, origin, text)?;
            extra(w)?;
            w.write_all(b"}\n")
        });
    }

    /// The summary line, its counts in this order. Written as it goes, as
    /// every line is: a `json!` object cost a map and a key for each count.
    fn summary(&mut self, s: &Summary) {
        let counts = [
            ("packets", s.packets),
            ("connections", s.connections as u64),
            ("frames", s.frames),
            ("messages", s.messages),
            ("requests", s.requests),
            ("answers", s.answers),
            ("matched", s.matched),
            ("unanswered_requests", s.unanswered()),
            ("unmatched_answers", s.unmatched_answers),
            ("other_answers", s.other_answers),
            ("unknown_key_messages", s.unknown_key_messages),
            ("warnings", s.warnings),
        ];
        self.write_with(|w, _| {
            w.write_all(b"{\"summary\":{")?;
            for (i, (name, count)) in counts.into_iter().enumerate() {
                let comma = if i == 0 { "" } else { "," };
                write!(w, "{comma}\"{name}\":{count}")?;
            }
            w.write_all(b"}}\n")
        });
    }
}

/// A string as JSON.
fn write_str<W: Write + ?Sized>(w: &mut W, text: &str) -> io::Result<()> {
    serde_json::to_writer(w, text).map_err(io::Error::from)
}

/// The start of every object of a place in the capture: its time,
/// connection and direction, made in `text` in turn.
fn write_place<W: Write + ?Sized>(w: &mut W, origin: &Origin, text: &mut String) -> io::Result<()> {
    w.write_all(b"{\"time\":")?;
    text.clear();
    push_time(text, origin.time_ns);
    write_str(w, text)?;
    w.write_all(b",\"connection\":")?;
    text.clear();
    push_connection(text, origin);
    write_str(w, text)?;
    w.write_all(b",\"direction\":")?;
    write_str(w, origin.direction.label())
}

/// The start of a message's object (time, connection, direction,
/// transport, encryption, msg_id, seq_no), up to `"kind":`.
/// `text` is room for the texts in turn (its contents are replaced).
fn write_head<W: Write + ?Sized>(w: &mut W, message: &Message<'_>, text: &mut String) -> io::Result<()> {
    let origin = &message.origin;
    write_place(w, origin, text)?;
    w.write_all(b",\"transport\":")?;
    text.clear();
    push_transport(text, origin);
    write_str(w, text)?;
    write!(w, ",\"encrypted\":{},\"auth_key_id\":", message.encrypted)?;
    text.clear();
    push_key_id(text, message.auth_key_id);
    write_str(w, text)?;
    write!(w, ",\"msg_id\":{},\"seq_no\":", message.msg_id)?;
    match message.seq_no {
        Some(q) => write!(w, "{q}")?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"kind\":")
}

/// The rest of a message's object after its kind (wrapping, req_msg_id,
/// body), without the closing brace; the body written by `body`.
fn write_tail<'w, W: Write + ?Sized>(
    w: &mut W,
    message: &Message<'_>,
    wrapping: impl Iterator<Item = &'w str>,
    body: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    w.write_all(b",\"wrapping\":[")?;
    for (i, name) in wrapping.enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write_str(w, name)?;
    }
    w.write_all(b"]")?;
    if let Some(r) = message.req_msg_id {
        write!(w, ",\"req_msg_id\":{r}")?;
    }
    w.write_all(b",\"body\":")?;
    body(w)
}

/// The wrappers a request's or answer's line lists: an answer's lists
/// what was removed around the result itself (rpc_result is given by
/// req_msg_id), and an unencrypted answer says so, as the capture
/// manifests do.
fn wrapping<'a>(message: &Message<'a>, answer: bool) -> impl Iterator<Item = &'static str> + 'a {
    let unencrypted = (answer && !message.encrypted).then_some("unencrypted");
    let removed = message.wrapping.iter().filter(move |w| !(answer && matches!(w, Wrapper::RpcResult { .. })));
    unencrypted.into_iter().chain(removed.map(Wrapper::name))
}

/// What a request's or answer's decoding error says it is.
fn what(answer: bool) -> &'static str {
    if answer {
        "answer in"
    } else {
        "request"
    }
}

/// The JSON report's rendering on the decoding threads: a request's or
/// answer's line but for its kind (split there) and what follows the body.
/// Records larger than [`PRERENDER_MAX_BYTES`] are left to the report,
/// which streams them into the output instead of holding them again.
pub(crate) struct JsonPrerender;

impl Prerender for JsonPrerender {
    fn object(&self, message: &Message<'_>, decoded: &Decoded<'_>, answer: bool) -> Option<Rendered> {
        if decoded.bytes.len() > PRERENDER_MAX_BYTES {
            return None;
        }
        let mut text = Vec::with_capacity(1024);
        write_head(&mut text, message, &mut String::with_capacity(64)).ok()?;
        let split = text.len();
        write_tail(&mut text, message, wrapping(message, answer), |w| {
            write_body(w, &decoded.value, what(answer), message.msg_id)
        })
        .ok()?;
        Some(Rendered { text, split })
    }
}

/// The decoded value's JSON, written as it is read (no `Value` built: for
/// a large answer that also means no second copy of its text), or the
/// error as `{"error": "..."}`.
fn write_body<W: Write + ?Sized>(
    w: &mut W,
    value: &Result<Frame, DecodeError>,
    what: &str,
    msg_id: i64,
) -> io::Result<()> {
    match value {
        Ok(frame) => frame.write_json(w),
        Err(e) => {
            w.write_all(b"{\"error\":")?;
            write_str(w, &format!("{what} {msg_id}: {e}"))?;
            w.write_all(b"}")
        }
    }
}

impl<W: Write + ?Sized, E: Write + ?Sized> RecordSink for JsonReport<'_, W, E> {
    fn record(&mut self, record: Record<'_>) {
        let all = self.all;
        match record {
            Record::Request(r) => self.object_line(&r.message, r.decoded, false, "request", |_| Ok(())),
            Record::Answer(a) => {
                let other = match a.to {
                    AnswerTo::Other { method, .. } if all => Some(method),
                    AnswerTo::Other { .. } => return,
                    _ => None,
                };
                let kind = if other.is_some() { "other_answer" } else { "answer" };
                // The request it answers: in place when the message names it
                // (the same value), after the body when only the matching
                // of unencrypted messages found it.
                let req = a.req_msg_id.filter(|_| a.message.req_msg_id.is_none());
                self.object_line(&a.message, a.decoded, true, kind, |w| {
                    if let Some(r) = req {
                        write!(w, ",\"req_msg_id\":{r}")?;
                    }
                    if let Some(method) = other {
                        w.write_all(b",\"request\":")?;
                        write_str(w, &method.to_string())?;
                    }
                    Ok(())
                });
            }
            Record::Service { message, service } if all => {
                let names = message.wrapping.iter().map(Wrapper::name);
                self.write_with(|w, text| {
                    write_head(w, &message, text)?;
                    write_str(w, "service")?;
                    write_tail(w, &message, names, |w| service.write_json(w))?;
                    w.write_all(b"}\n")
                });
            }
            Record::Other { message, id, len, body, answers, .. } if all || answers.is_some() => {
                // Written as it is read, not built as a `Value` first: what
                // the schema names is most of the JSON of mixed traffic.
                let names = message.wrapping.iter().map(Wrapper::name);
                self.write_with(|w, text| {
                    write_head(w, &message, text)?;
                    write_str(w, "other")?;
                    write_tail(w, &message, names, |w| match &body {
                        Some(Ok(value)) => value.write_json(w),
                        Some(Err(e)) => write!(w, "{{\"_\":\"0x{id:08x}\",\"length\":{len},\"error\":")
                            .and_then(|()| write_str(w, &e.to_string()))
                            .and_then(|()| w.write_all(b"}")),
                        None => write!(w, "{{\"_\":\"0x{id:08x}\",\"length\":{len}}}"),
                    })?;
                    w.write_all(b"}\n")
                });
            }
            Record::UnknownKey { origin, auth_key_id, .. } if all => self.list_line(&origin, |w| {
                w.write_all(b",\"skipped\":\"unknown auth key\",\"auth_key_id\":")?;
                write_str(w, &format_key_id(auth_key_id))
            }),
            Record::QuickAck { origin, token } if all => {
                self.list_line(&origin, |w| write!(w, ",\"quick_ack\":{token}"));
            }
            Record::Warning(warning) => {
                // Said once, in the report's own room, for both outputs.
                use std::fmt::Write as _;
                self.text.clear();
                let _ = write!(self.text, "{warning}");
                write_warning(self.err, &self.text);
                self.write_with(|w, text| {
                    w.write_all(b"{\"warning\":")?;
                    write_str(w, text)?;
                    w.write_all(b"}\n")
                });
            }
            Record::Summary(s) => self.summary(&s),
            Record::Service { .. } | Record::Other { .. } | Record::UnknownKey { .. } | Record::QuickAck { .. } => {}
        }
    }

    fn wants_more(&self) -> bool {
        self.out.error.is_none()
    }
}

impl<W: Write + ?Sized, E: Write + ?Sized> Report for JsonReport<'_, W, E> {
    fn finish(&mut self) -> io::Result<()> {
        self.out.finish()
    }

    fn prerender(&self) -> Option<Box<dyn Prerender>> {
        Some(Box::new(JsonPrerender))
    }
}
