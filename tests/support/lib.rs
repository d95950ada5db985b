//! Shared by the integration tests and the fuzz crate: the snapshot matrix
//! of values, and conversions to and from `grammers-tl-types`, an
//! independent implementation of the same TL definitions.

pub mod grammers;
pub mod matrix;
