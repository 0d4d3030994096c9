//! # mip6-proto: Mobile IPv6, NEMO and multiple care-of addresses
//!
//! Every Mobile IPv6 wire format (RFC 6275, 3963, 5648, 5555, 4283, 4285,
//! 5096), return-routability cryptography, the data-plane transforms, and the
//! mobile node, correspondent node, home agent and mobile router state
//! machines, all sans-IO.
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
