//! An inspector for the MTProto method `messages.exportChatInvite` (TL layer
//! 223): decode, encode and render its frames, its peers and its answers.

pub mod cli;
pub mod input;
pub mod render;
pub mod tl;
