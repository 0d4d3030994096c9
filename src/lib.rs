//! mobsim: the deterministic network simulator, scenarios and command line
//! of the IPv6 mobility and multihoming suite.
#![forbid(unsafe_code)]

pub mod cli;
pub mod decode;
pub mod scenario;
