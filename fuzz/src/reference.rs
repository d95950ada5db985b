//! grammers-tl-types as the [`ReferenceCodec`] of the differential target.
//!
//! The value conversions are the root package's (`inspector_tests::grammers`,
//! shared with the snapshot tests); this file adds what the differential
//! check needs on top of them: frames of any of the three kinds, and how many
//! bytes grammers consumed (its `from_bytes` does not say, and ignores what
//! follows the object).

use grammers_tl_types as gt;
use gt::{Cursor, Deserializable, Serializable};
use inspector::tl::{ExportedChatInvite, Frame};
use inspector_tests::fuzzing::ReferenceCodec;
use inspector_tests::grammers::{answer_from, answer_to, request_from, request_to, rpc_error_from, rpc_error_to};

/// grammers-tl-types 0.11 (layer 230, whose definitions of these
/// constructors are identical to layer 223's).
pub struct Grammers;

// The ids as grammers knows them: the reference side does not take ours.
const EXPORT_CHAT_INVITE: u32 = <gt::functions::messages::ExportChatInvite as gt::Identifiable>::CONSTRUCTOR_ID;
const CHAT_INVITE_EXPORTED: u32 = <gt::types::ChatInviteExported as gt::Identifiable>::CONSTRUCTOR_ID;
const CHAT_INVITE_PUBLIC_JOIN_REQUESTS: u32 =
    <gt::types::ChatInvitePublicJoinRequests as gt::Identifiable>::CONSTRUCTOR_ID;
const RPC_ERROR: u32 = <gt::types::RpcError as gt::Identifiable>::CONSTRUCTOR_ID;

impl ReferenceCodec for Grammers {
    const NAME: &'static str = "grammers-tl-types";

    fn encode(frame: &Frame) -> Option<Vec<u8>> {
        // grammers' strings are Rust `String`s: text that is not UTF-8 has
        // no grammers value (and the conversions refuse it).
        if !all_text_utf8(frame) {
            return None;
        }
        Some(match frame {
            Frame::Request(r) => request_to(r).to_bytes(),
            Frame::Answer(a) => answer_to(a).to_bytes(),
            Frame::Error(e) => rpc_error_to(e).to_bytes(),
        })
    }

    fn decode(bytes: &[u8]) -> Result<(Frame, usize), String> {
        let id = match bytes.get(..4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => return Err("no constructor id".into()),
        };
        let fail = |e: gt::deserialize::Error| format!("{e}");
        match id {
            EXPORT_CHAT_INVITE => {
                // With `deserializable-functions`, a function's decoder reads
                // the bytes after its constructor id.
                let mut cursor = Cursor::from_slice(&bytes[4..]);
                let request = gt::functions::messages::ExportChatInvite::deserialize(&mut cursor).map_err(fail)?;
                Ok((Frame::Request(request_from(&request)), 4 + cursor.pos()))
            }
            CHAT_INVITE_EXPORTED | CHAT_INVITE_PUBLIC_JOIN_REQUESTS => {
                let mut cursor = Cursor::from_slice(bytes);
                let answer = gt::enums::ExportedChatInvite::deserialize(&mut cursor).map_err(fail)?;
                Ok((Frame::Answer(answer_from(&answer)), cursor.pos()))
            }
            RPC_ERROR => {
                let mut cursor = Cursor::from_slice(bytes);
                let error = gt::enums::RpcError::deserialize(&mut cursor).map_err(fail)?;
                Ok((Frame::Error(rpc_error_from(&error)), cursor.pos()))
            }
            other => Err(format!("not a frame: constructor {other:08x}")),
        }
    }
}

fn all_text_utf8(frame: &Frame) -> bool {
    match frame {
        Frame::Request(r) => r.title.iter().all(|t| t.as_str().is_some()),
        Frame::Answer(ExportedChatInvite::Exported(e)) => {
            e.link.as_str().is_some() && e.title.iter().all(|t| t.as_str().is_some())
        }
        Frame::Answer(ExportedChatInvite::PublicJoinRequests) => true,
        Frame::Error(e) => e.error_message.as_str().is_some(),
    }
}
