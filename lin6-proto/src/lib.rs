//! # lin6-proto: LIN6 identifier/locator addressing
//!
//! LIN6 addressing (LIN6 ID, generalized ID, LIN6 address), the mapping
//! cache, the Mapping Agent protocol (resolver and agent machines) and the
//! LIN6 multihoming extension, all sans-IO.
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
