//! Frames serialized by a real client library, Telethon 1.45.0 (layer 229),
//! for several hundred constructors of every shape (vectors, flags2,
//! doubles, bytes, int128/int256, nesting), written with the values Telethon
//! held by `tests/fixtures/gen_tl_frames.py`. Each is decoded with the
//! layer-229 schema in `tests/fixtures/telethon/` (a schema other than the
//! built-in one) and compared, field by field, with Telethon's own values;
//! its JSON form must encode back to the same bytes.
//!
//! Telethon's `to_dict` differs from the canonical JSON in naming only: its
//! `"_"` is the class name (`InputPeerUser`, `ExportChatInviteRequest` for a
//! function), a field named like a Python keyword gains a suffix or prefix
//! (`from_`, `is_self`), flag words are left out, an unset `true` flag is
//! `None`, and an absent optional vector is `[]` (its `to_dict` cannot tell
//! absent from empty; the wire can, and a strict decode that took a present
//! empty vector for an absent one would leave its 8 bytes over and fail).
//! Everything else must match exactly, and every key Telethon reports must
//! be matched by a field of the schema.

use inspector::tl::dynamic::{DynRef, Schema};
use inspector::tl::DecodeOptions;
use serde_json::Value;

fn schema() -> Schema {
    Schema::parse(&[
        ("api.tl", include_str!("fixtures/telethon/api.tl")),
        ("mtproto.tl", include_str!("fixtures/telethon/mtproto.tl")),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Telethon's class name for a TL name.
fn class_name(name: &str, is_function: bool) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    let mut out = String::new();
    for part in last.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if is_function {
        out.push_str("Request");
    }
    out
}

/// A little-endian two's-complement integer in decimal.
fn signed_decimal(le: &[u8]) -> String {
    let negative = le.last().is_some_and(|b| b & 0x80 != 0);
    let mut be: Vec<u8> = le.iter().rev().copied().collect();
    if negative {
        // Negate: invert and add one.
        for b in be.iter_mut() {
            *b = !*b;
        }
        for b in be.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    let mut digits = Vec::new();
    while be.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in be.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if negative {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap()
}

fn big_int(lib: &Value) -> Option<String> {
    match lib {
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => m.get("$int").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn compare(ours: &DynRef<'_>, lib: &Value, path: &str) -> Result<(), String> {
    let differ = || Err(format!("{path}: ours {ours:?}, Telethon's {lib}"));
    match ours {
        DynRef::Object { ctor, fields } => {
            let Value::Object(map) = lib else { return differ() };
            let class = class_name(ctor.name, ctor.is_function);
            if map.get("_").and_then(Value::as_str) != Some(class.as_str()) {
                return Err(format!("{path}: ours {} (class {class}), Telethon's {:?}", ctor.name, map.get("_")));
            }
            let mut used = vec!["_".to_string()];
            for (def, value) in ctor.fields.iter().zip(fields) {
                if def.ty == "#" {
                    continue;
                }
                let key = [def.name.to_string(), format!("{}_", def.name), format!("is_{}", def.name)]
                    .into_iter()
                    .find(|k| map.contains_key(k))
                    .ok_or_else(|| format!("{path}.{}: Telethon reports no such field", def.name))?;
                let lib = &map[&key];
                let absent_vector = matches!(value, DynRef::Absent)
                    && def.ty.to_ascii_lowercase().starts_with("vector<")
                    && lib.as_array().is_some_and(|l| l.is_empty());
                if !absent_vector {
                    compare(&value, lib, &format!("{path}.{}", def.name))?;
                }
                used.push(key);
            }
            if let Some(extra) = map.keys().find(|k| !used.contains(k)) {
                return Err(format!("{path}: Telethon reports {extra}, which our decode lacks"));
            }
            Ok(())
        }
        DynRef::Absent if lib.is_null() => Ok(()),
        DynRef::True(true) if lib == &Value::Bool(true) => Ok(()),
        DynRef::True(false) if lib.is_null() || lib == &Value::Bool(false) => Ok(()),
        DynRef::Int(v) if lib.as_i64() == Some(i64::from(*v)) => Ok(()),
        DynRef::Long(v) if lib.as_i64() == Some(*v) => Ok(()),
        DynRef::Double(v) if lib.as_f64().is_some_and(|l| l.to_bits() == v.to_bits()) => Ok(()),
        DynRef::Int128(b) if big_int(lib) == Some(signed_decimal(b)) => Ok(()),
        DynRef::Int256(b) if big_int(lib) == Some(signed_decimal(&b[..])) => Ok(()),
        DynRef::String(s) if lib.as_str().is_some_and(|l| s == l) => Ok(()),
        DynRef::Bytes(b) if lib.get("$bytes").and_then(Value::as_str) == Some(inspector::hex::encode(b).as_str()) => {
            Ok(())
        }
        DynRef::Bool(b) if lib.as_bool() == Some(*b) => Ok(()),
        DynRef::Vector(items) => {
            let Some(list) = lib.as_array().filter(|l| l.len() == items.len()) else { return differ() };
            items.iter().zip(list).enumerate().try_for_each(|(i, (o, l))| compare(&o, l, &format!("{path}.{i}")))
        }
        _ => differ(),
    }
}

#[test]
fn signed_decimal_reads_twos_complement() {
    assert_eq!(signed_decimal(&[0; 16]), "0");
    assert_eq!(signed_decimal(&[0xff; 16]), "-1");
    let mut min = [0u8; 16];
    min[15] = 0x80;
    assert_eq!(signed_decimal(&min), i128::MIN.to_string());
    assert_eq!(signed_decimal(&12345i128.to_le_bytes()), "12345");
}

#[test]
fn telethons_frames_decode_to_telethons_values() {
    let schema = schema();
    let text = include_str!("fixtures/telethon_frames.jsonl");
    let mut failures = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    let mut count = 0;
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let bytes = inspector::hex::parse(row["hex"].as_str().unwrap()).unwrap();
        let class = row["class"].as_str().unwrap();
        count += 1;
        let value = match schema.decode(&bytes, DecodeOptions::strict()) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{class}: {e}"));
                continue;
            }
        };
        let ctor = value.ctor().unwrap();
        assert_eq!(u64::from(ctor.id), row["id"].as_u64().unwrap(), "{class}");
        kinds.insert(ctor.name);
        if let Err(e) = compare(&value.view(), &row["values"], ctor.name) {
            failures.push(e);
            continue;
        }
        match schema.encode_json(&value.to_json()) {
            Ok(again) if again == bytes => {}
            Ok(_) => failures.push(format!("{class}: its JSON encodes to other bytes")),
            Err(e) => failures.push(format!("{class}: its JSON does not encode: {e}")),
        }
    }
    assert!(count >= 300 && kinds.len() >= 300, "{count} frames of {} constructors", kinds.len());
    assert!(failures.is_empty(), "{} of {count} frames differ:\n{}", failures.len(), failures.join("\n"));
}
