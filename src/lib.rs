//! mobsim: the deterministic network simulator, scenarios and command line
//! of the IPv6 mobility and multihoming suite.
//!
//! - [`net`]: the discrete-event network every multi-node test runs on;
//! - [`pcap`]: pcapng captures (raw IPv6 link type);
//! - [`tshark`]: runs Wireshark's dissectors over a capture, for tests;
//! - [`drivers`]: the protocol machines as simulated nodes;
//! - [`decode`]: `mobsim decode`, any packet of the suite as JSON;
//! - [`scenario`]: `mobsim tour` and `mobsim scenario`;
//! - [`cli`]: the command line itself.
#![forbid(unsafe_code)]

pub mod cli;
pub mod decode;
pub mod drivers;
pub mod net;
pub mod pcap;
pub mod scenario;
pub mod tshark;
