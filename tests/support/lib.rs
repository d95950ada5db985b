//! Shared by the integration tests and the fuzz crate: the snapshot matrix
//! of values, and conversions to and from `grammers-tl-types`, an
//! independent implementation of the same TL definitions; the writer
//! of synthetic captures for the capture pipeline's tests; and the
//! properties the fuzz targets check, which the corpus replay test runs too.

#![forbid(unsafe_code)]

pub mod cli;
pub mod faketls_props;
pub mod fixtures;
pub mod fuzzing;
pub mod grammers;
pub mod matrix;
pub mod rng;
pub mod schema_differential;
