//! # lsserver-proto: the wide-area Load Sharing server
//!
//! The LIN6 wide-area Load Sharing (LS) server: its inter-LS messages, the
//! Mapping Agent table, the answer cache, the load index and RTT heuristics,
//! and the measurement-window selector, as sans-IO state machines.
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
