//! # shim6-proto: Shim6 and REAP
//!
//! The Shim6 multihoming shim (RFC 5533): wire formats, context
//! establishment, locator updates, the data plane, and REAP failure
//! detection and locator pair exploration (RFC 5534), all sans-IO. Locator
//! security comes from the `hba-cga` crate.
//!
//! ## Status
//!
//! This crate is a placeholder of the workspace layout: it exports nothing
//! yet. Its issue in the project tracker fills it; nothing here pretends to
//! work before that.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
