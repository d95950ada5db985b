//! An inspector for the MTProto method `messages.exportChatInvite` (TL layer
//! 223): decode, encode and render its frames, its peers and its answers.

pub mod capture;
pub mod cli;
pub mod envelope;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod hex;
pub mod input;
pub mod keys;
pub mod pcap_cmd;
pub mod progress;
pub mod render;
pub mod service;
pub mod tcp;
pub mod tl;
pub mod transport;
