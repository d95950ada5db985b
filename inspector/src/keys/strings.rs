//! Session strings: Telethon's `StringSession` and Pyrogram's exported
//! strings, told apart by their first character and decoded length.
//!
//! Telethon: `1`, then URL-safe base64 (padded) of `dc_id (1) | IPv4 (4)
//! or IPv6 (16) | port (2, big endian) | auth_key (256)`: 263 or 275 bytes.
//! Pyrogram (URL-safe base64, padding stripped), all big endian:
//! 2.x `dc_id (1) | api_id (4) | test_mode (1) | auth_key (256) |
//! user_id (8) | is_bot (1)` = 271 bytes; 1.x `dc_id (1) | test_mode (1) |
//! auth_key (256) | user_id (4 or 8) | is_bot (1)` = 263 or 267 bytes.
//! Padding is accepted present or stripped.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::{key_from, socket_text, PyrogramStringLayout, SessionFormat, SessionKey, SourceError, STRING_SOURCE};

const TELETHON_V4: usize = 1 + 4 + 2 + 256;
const TELETHON_V6: usize = 1 + 16 + 2 + 256;
const PYROGRAM_V1_32: usize = 1 + 1 + 256 + 4 + 1;
const PYROGRAM_V1_64: usize = 1 + 1 + 256 + 8 + 1;
const PYROGRAM_V2: usize = 1 + 4 + 1 + 256 + 8 + 1;

/// The longest text worth decoding: a Telethon IPv6 string with padding.
const MAX_STRING_LEN: usize = 1 + 368;

fn engine() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

/// The keys a session string holds (exactly one).
pub fn parse_session_string(text: &str) -> Result<Vec<SessionKey>, SourceError> {
    let fail = |problem: String| SourceError { source: STRING_SOURCE.into(), problem };
    let text = text.trim();
    if text.is_empty() {
        return Err(fail("not a session string: it is empty".into()));
    }
    if text.len() > MAX_STRING_LEN {
        return Err(fail(format!(
            "not a session string: {} characters, longer than any known layout ({MAX_STRING_LEN} at most)",
            text.len()
        )));
    }
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| !(c.is_ascii_alphanumeric() || "-_=".contains(c))) {
        return Err(fail(format!(
            "not a session string: character {} ({c:?}) is not URL-safe base64",
            text[..at].chars().count() + 1
        )));
    }
    // A Telethon string is its version digit and then base64; Pyrogram's
    // first character encodes a small dc id and so is always `A`. The
    // layout is chosen by length before decoding, so that a truncated
    // string is reported as such rather than as bad base64 at its end.
    if let Some(rest) = text.strip_prefix('1') {
        let len = decoded_len(rest);
        if len == TELETHON_V4 || len == TELETHON_V6 {
            return telethon(&decode(rest).map_err(fail)?).map(|k| vec![k]).map_err(fail);
        }
    }
    let counted = text.strip_prefix('1').unwrap_or(text);
    let layout = match decoded_len(text) {
        PYROGRAM_V2 => PyrogramStringLayout::V2,
        PYROGRAM_V1_32 => PyrogramStringLayout::V1UserId32,
        PYROGRAM_V1_64 => PyrogramStringLayout::V1UserId64,
        _ => {
            let n = decoded_len(counted);
            return Err(fail(format!(
                "not a session string: it decodes to {n} bytes, but a Telethon string holds {TELETHON_V4} or {TELETHON_V6} bytes after its leading 1 and a Pyrogram string {PYROGRAM_V1_32}, {PYROGRAM_V1_64} or {PYROGRAM_V2} (truncated or mistyped?)"
            )));
        }
    };
    let bytes = decode(text).map_err(fail)?;
    pyrogram(&bytes, layout).map(|k| vec![k]).map_err(fail)
}

/// How many bytes base64 text decodes to, padding ignored.
fn decoded_len(text: &str) -> usize {
    text.trim_end_matches('=').len() * 3 / 4
}

fn decode(text: &str) -> Result<Vec<u8>, String> {
    engine().decode(text).map_err(|e| format!("not a session string: {e}"))
}

fn telethon(bytes: &[u8]) -> Result<SessionKey, String> {
    let ip_len = bytes.len() - 1 - 2 - 256;
    let dc_id = i32::from(bytes[0]);
    let ip = &bytes[1..1 + ip_len];
    let port = u16::from_be_bytes([bytes[1 + ip_len], bytes[2 + ip_len]]);
    let key = &bytes[3 + ip_len..];
    let ip = match <[u8; 4]>::try_from(ip) {
        Ok(v4) => Ipv4Addr::from(v4).to_string(),
        Err(_) => Ipv6Addr::from(<[u8; 16]>::try_from(ip).unwrap_or([0; 16])).to_string(),
    };
    Ok(SessionKey {
        format: SessionFormat::TelethonString,
        dc_id: Some(dc_id),
        address: Some(socket_text(&ip, Some(i64::from(port)))),
        temporary: false,
        home: true,
        key: logged_in(key, dc_id)?,
    })
}

fn pyrogram(bytes: &[u8], layout: PyrogramStringLayout) -> Result<SessionKey, String> {
    let dc_id = i32::from(bytes[0]);
    let key_at = match layout {
        PyrogramStringLayout::V2 => 1 + 4 + 1,
        PyrogramStringLayout::V1UserId32 | PyrogramStringLayout::V1UserId64 => 1 + 1,
    };
    Ok(SessionKey {
        format: SessionFormat::PyrogramString(layout),
        dc_id: Some(dc_id),
        address: None,
        temporary: false,
        home: true,
        key: logged_in(&bytes[key_at..key_at + 256], dc_id)?,
    })
}

/// An all-zero key is what a string exported before login carries.
fn logged_in(key: &[u8], dc_id: i32) -> Result<crate::envelope::AuthKey, String> {
    if key.iter().all(|&b| b == 0) {
        return Err("the session holds no auth key (not logged in)".into());
    }
    key_from(key, &format!("dc {dc_id}"))
}
