//! The TL core: schema, reader, writer, typed values and their JSON form,
//! and the schema-driven decoder for any constructor of a run-time schema.

#[cfg(feature = "arbitrary")]
pub mod arbitrary;
pub mod crc;
pub mod dynamic;
pub mod error;
pub mod ids;
pub mod json;
pub mod reader;
pub mod schema;
pub mod trace;
pub mod types;
pub mod writer;

pub use error::{DecodeError, ErrorDetail, Problem, Warning};
pub use reader::{DecodeOptions, Reader, DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT};
pub use trace::{
    with_flag_fields, with_flag_fields_into, FullTrace, NoTrace, Recorder, TraceEvent, TraceSink, TraceValue,
};
pub use types::{
    decode_top, decode_traced, decode_traced_into, decode_with_sink, ChatInviteExported, ExportChatInvite,
    ExportedChatInvite, Frame, InputPeer, RpcError, StarsSubscriptionPricing, TlObject, TlString, Traced,
};
pub use writer::{EncodeError, Writer};
