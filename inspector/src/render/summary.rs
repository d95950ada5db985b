//! A schema-decoded value in one line (`updates.getDifference pts=5
//! date=1760000000 qts=0`), for `pcap --all`'s list of every message: the
//! fields that carry something, in wire order, nested objects in braces,
//! long strings and vectors cut so that a line stays a line.

use std::fmt::Write as _;

use super::push_quoted;
use crate::report::push_i64;
use crate::tl::dynamic::{DynRef, DynValue};

/// Characters of a string shown before it is cut.
const MAX_TEXT: usize = 40;
/// Items of a vector shown before the rest is counted.
const MAX_ITEMS: usize = 8;

/// `name field=value ...`: absent fields, flag words and unset `true`
/// fields are left out (the flag word is implied by the rest); a set `true`
/// field is its name alone.
pub fn summary_line(value: &DynValue) -> String {
    let mut out = String::with_capacity(128);
    push_summary_line(&mut out, value);
    out
}

/// [`summary_line`], appended to `out`.
pub fn push_summary_line(out: &mut String, value: &DynValue) {
    let value = &value.view();
    match value {
        DynRef::Object { ctor, fields } => {
            out.push_str(ctor.name);
            debug_assert_eq!(ctor.fields.len(), fields.len());
            push_fields(out, value);
        }
        other => push_value(out, other),
    }
}

fn push_fields(out: &mut String, object: &DynRef<'_>) {
    let DynRef::Object { ctor, fields } = object else { return };
    for (def, v) in ctor.fields.iter().zip(fields) {
        match v {
            DynRef::Absent | DynRef::Flags(_) | DynRef::True(false) => {}
            DynRef::True(true) => {
                out.push(' ');
                out.push_str(def.name);
            }
            v => {
                out.push(' ');
                out.push_str(def.name);
                out.push('=');
                push_value(out, &v);
            }
        }
    }
}

fn push_value(out: &mut String, value: &DynRef<'_>) {
    match value {
        DynRef::Object { ctor, fields } => {
            out.push_str(ctor.name);
            if fields.iter().any(|f| !matches!(f, DynRef::Absent | DynRef::Flags(_) | DynRef::True(false))) {
                out.push('{');
                let start = out.len();
                push_fields(out, value);
                // push_fields starts every field with a space: none after the brace.
                if out[start..].starts_with(' ') {
                    out.remove(start);
                }
                out.push('}');
            }
        }
        DynRef::Flags(f) => {
            let _ = write!(out, "{f:#x}");
        }
        DynRef::True(b) | DynRef::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        DynRef::Absent => out.push_str("null"),
        DynRef::Int(v) => push_i64(out, i64::from(*v)),
        DynRef::Long(v) => push_i64(out, *v),
        DynRef::Double(v) => {
            let _ = write!(out, "{v}");
        }
        DynRef::Int128(b) => out.push_str(&crate::hex::encode(b)),
        DynRef::Int256(b) => out.push_str(&crate::hex::encode(&b[..])),
        DynRef::String(s) => match s.as_str() {
            Some(text) => push_quoted(out, text, MAX_TEXT),
            None => {
                let _ = write!(out, "<{} bytes, not UTF-8>", s.as_bytes().len());
            }
        },
        DynRef::Bytes(b) => {
            let _ = write!(out, "<{} bytes>", b.len());
        }
        DynRef::Vector(items) => {
            out.push('[');
            for (i, item) in items.iter().take(MAX_ITEMS).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_value(out, &item);
            }
            if items.len() > MAX_ITEMS {
                let _ = write!(out, ",…+{}", items.len() - MAX_ITEMS);
            }
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tl::dynamic::Schema;
    use crate::tl::DecodeOptions;

    fn line(hex: &str) -> String {
        let bytes = crate::hex::parse(hex).unwrap();
        summary_line(&Schema::builtin().decode(&bytes, DecodeOptions::strict()).unwrap())
    }

    #[test]
    fn fields_in_wire_order_absent_ones_left_out() {
        // updates.getState: no fields.
        assert_eq!(line("2a88d4ed"), "updates.getState");
        // msgs_ack msg_ids:Vector<long> = [5, 6]
        assert_eq!(line("59b4d662 15c4b51c 02000000 0500000000000000 0600000000000000"), "msgs_ack msg_ids=[5,6]");
        // contacts.resolveUsername#725afbbc flags:# username:string referer:flags.0?string
        assert_eq!(line("bcfb5a72 00000000 0474657374 000000"), "contacts.resolveUsername username=\"test\"");
        // rpc_error error_code:int error_message:string
        assert_eq!(line("19ca4421 a4010000 05464c4f4f440000"), "rpc_error error_code=420 error_message=\"FLOOD\"");
    }
}
