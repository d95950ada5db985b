//! Shared by the integration tests and the fuzz crate: the snapshot matrix
//! of values, and conversions to and from `grammers-tl-types`, an
//! independent implementation of the same TL definitions; and the writer
//! of synthetic captures for the capture pipeline's tests.

pub mod faketls_props;
pub mod fixtures;
pub mod grammers;
pub mod matrix;
pub mod rng;
