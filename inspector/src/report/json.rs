//! The JSON Lines report: one object per request, answer (and with
//! `--all` per other message), per warning, and the summary last.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{connection_text, format_time, transport_text, write_warning, Output, Report};
use crate::envelope::format_key_id;
use crate::pipeline::{AnswerTo, Decoded, Message, Origin, Record, RecordSink, Summary};
use crate::service::Wrapper;
use crate::tl::json::TlJson;

/// The JSON Lines report, written to `out` as records arrive; warnings go
/// to `err` too.
pub struct JsonReport<'a, W: Write + ?Sized, E: Write + ?Sized> {
    out: Output<'a, W>,
    err: &'a mut E,
    all: bool,
}

impl<'a, W: Write + ?Sized, E: Write + ?Sized> JsonReport<'a, W, E> {
    /// `all`: list every message, not only requests and answers.
    pub fn new(out: &'a mut W, err: &'a mut E, all: bool) -> Self {
        JsonReport { out: Output::new(out), err, all }
    }

    /// Serialise straight into the output, not into a string first: an
    /// answer near the gzip cap (16 MiB of title) would otherwise be held
    /// once more, which showed in the benchmark's peak RSS. A small buffer
    /// gathers serde's many small writes, which a line-buffered stdout
    /// would each scan for a newline.
    fn write_line(&mut self, value: &Value) {
        if self.out.error.is_some() {
            return;
        }
        let mut w = io::BufWriter::new(&mut *self.out.out);
        let written = serde_json::to_writer(&mut w, value)
            .map_err(io::Error::from)
            .and_then(|()| w.write_all(b"\n"))
            .and_then(|()| w.flush());
        drop(w);
        if let Err(e) = written {
            self.out.error = Some(e);
        }
    }

    /// A one-line entry of `--all` that is not a message.
    fn list_line(&mut self, origin: &Origin, extra: Value) {
        let mut o = Map::new();
        o.insert("time".into(), format_time(origin.time_ns).into());
        o.insert("connection".into(), connection_text(origin).into());
        o.insert("direction".into(), origin.direction.label().into());
        if let Value::Object(m) = extra {
            o.extend(m);
        }
        self.write_line(&Value::Object(o));
    }

    fn summary(&mut self, s: &Summary) {
        let line = json!({"summary": {
            "packets": s.packets, "connections": s.connections, "frames": s.frames,
            "messages": s.messages, "requests": s.requests, "answers": s.answers,
            "matched": s.matched, "unanswered_requests": s.unanswered(),
            "unmatched_answers": s.unmatched_answers, "other_answers": s.other_answers,
            "unknown_key_messages": s.unknown_key_messages, "warnings": s.warnings,
        }});
        self.write_line(&line);
    }
}

/// A message's object: where, how, and `body`. `wrapping` names the
/// wrappers to list.
fn message_json<'w>(
    message: &Message<'_>,
    kind: &str,
    body: Value,
    wrapping: impl Iterator<Item = &'w str>,
) -> Map<String, Value> {
    let origin = &message.origin;
    let mut o = Map::new();
    o.insert("time".into(), format_time(origin.time_ns).into());
    o.insert("connection".into(), connection_text(origin).into());
    o.insert("direction".into(), origin.direction.label().into());
    o.insert("transport".into(), transport_text(origin).into());
    o.insert("encrypted".into(), message.encrypted.into());
    o.insert("auth_key_id".into(), format_key_id(message.auth_key_id).into());
    o.insert("msg_id".into(), message.msg_id.into());
    o.insert("seq_no".into(), message.seq_no.map_or(Value::Null, Value::from));
    o.insert("kind".into(), kind.into());
    o.insert("wrapping".into(), wrapping.map(Value::from).collect::<Vec<_>>().into());
    if let Some(r) = message.req_msg_id {
        o.insert("req_msg_id".into(), r.into());
    }
    o.insert("body".into(), body);
    o
}

/// The decoded value, moved into JSON rather than copied (a large answer
/// is held once less), or the error.
fn body(decoded: Decoded<'_>, what: &str, msg_id: i64) -> Value {
    match decoded.value {
        Ok(frame) => frame.into_json(),
        Err(e) => json!({"error": format!("{what} {msg_id}: {e}")}),
    }
}

impl<W: Write + ?Sized, E: Write + ?Sized> RecordSink for JsonReport<'_, W, E> {
    fn record(&mut self, record: Record<'_>) {
        let all = self.all;
        match record {
            Record::Request(r) => {
                let body = body(r.decoded, "request", r.message.msg_id);
                let names = r.message.wrapping.iter().map(Wrapper::name);
                self.write_line(&Value::Object(message_json(&r.message, "request", body, names)));
            }
            Record::Answer(a) => {
                let other = match a.to {
                    AnswerTo::Other { method, .. } if all => Some(method),
                    AnswerTo::Other { .. } => return,
                    _ => None,
                };
                let body = body(a.decoded, "answer in", a.message.msg_id);
                // The answer's wrapping lists what was removed around the
                // result itself; rpc_result is given by req_msg_id. An
                // unencrypted answer says so, as the capture manifests do.
                let unencrypted = (!a.message.encrypted).then_some("unencrypted");
                let names = unencrypted.into_iter().chain(
                    a.message.wrapping.iter().filter(|w| !matches!(w, Wrapper::RpcResult { .. })).map(Wrapper::name),
                );
                let kind = if other.is_some() { "other_answer" } else { "answer" };
                let mut o = message_json(&a.message, kind, body, names);
                if let Some(r) = a.req_msg_id {
                    o.insert("req_msg_id".into(), r.into());
                }
                if let Some(method) = other {
                    o.insert("request".into(), method.to_string().into());
                }
                self.write_line(&Value::Object(o));
            }
            Record::Service { message, service } if all => {
                let names = message.wrapping.iter().map(Wrapper::name);
                self.write_line(&Value::Object(message_json(&message, "service", service.to_json(), names)));
            }
            Record::Other { message, id, len, body, answers, .. } if all || answers.is_some() => {
                let body = match body {
                    Some(Ok(value)) => value.to_json(),
                    Some(Err(e)) => json!({"_": format!("0x{id:08x}"), "length": len, "error": e.to_string()}),
                    None => json!({"_": format!("0x{id:08x}"), "length": len}),
                };
                let names = message.wrapping.iter().map(Wrapper::name);
                self.write_line(&Value::Object(message_json(&message, "other", body, names)));
            }
            Record::UnknownKey { origin, auth_key_id, .. } if all => {
                self.list_line(
                    &origin,
                    json!({"skipped": "unknown auth key", "auth_key_id": format_key_id(auth_key_id)}),
                );
            }
            Record::QuickAck { origin, token } if all => self.list_line(&origin, json!({"quick_ack": token})),
            Record::Warning(w) => {
                write_warning(self.err, &w);
                self.write_line(&json!({"warning": w.to_string()}));
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
}
