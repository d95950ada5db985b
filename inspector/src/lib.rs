//! An inspector for the MTProto method `messages.exportChatInvite` (TL layer
//! 223): decode, encode and render its frames, its peers and its answers,
//! and find them in captures of real traffic.
//!
//! The library has no `unsafe` code, and the compiler holds it to that: it
//! decodes bytes from the network, and its memory safety rests on the
//! compiler's checks and on its dependencies' (which the fuzz targets run
//! under AddressSanitizer).

#![forbid(unsafe_code)]

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
