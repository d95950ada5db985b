//! An inspector for the MTProto method `messages.exportChatInvite` (TL layer
//! 223): decode, encode and render its frames, its peers and its answers,
//! and find them in captures of real traffic.

pub mod capture;
pub mod cli;
pub mod envelope;
pub mod hex;
pub mod input;
pub mod keys;
pub mod pipeline;
pub mod render;
pub mod report;
pub mod service;
pub mod tcp;
pub mod tl;
pub mod transport;
