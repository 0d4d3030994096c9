//! # hba-cga: CGA and HBA addresses, and CGA signatures
//!
//! Cryptographically Generated Addresses (RFC 3972, with the extension
//! fields of RFC 4581 and the Sec registry of RFC 4982), Hash-Based Addresses
//! (RFC 5535) and CGA signatures (RSASSA-PKCS1-v1_5 with SHA-1 over a 128-bit
//! CGA Message Type tag, as SEND (RFC 3971) and Shim6 (RFC 5533) use them).
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
