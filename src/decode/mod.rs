//! `mobsim decode`: any packet of the suite's protocols as JSON.
//!
//! Each protocol family has its own module; this one only parses the hex
//! arguments and dispatches.

pub mod lin6;
pub mod mip6;
pub mod packet;
pub mod shim6;

use serde_json::Value;

/// What the bytes given to `mobsim decode` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A whole IPv6 packet, starting at the fixed header.
    Ipv6Packet,
    /// A bare Mobility Header.
    MobilityHeader,
    /// A LIN6 Mapping Agent protocol message (a UDP payload).
    Lin6,
}

/// Error for a hex argument that is not valid hex.
#[derive(Debug, thiserror::Error)]
#[error("argument {index} is not valid hex: {source}")]
pub struct HexError {
    /// Position of the argument (0-based).
    pub index: usize,
    /// What was wrong with it.
    pub source: hex::FromHexError,
}

/// Parses one hex argument: whitespace, `:` and a leading `0x` are ignored.
pub fn parse_hex(index: usize, arg: &str) -> Result<Vec<u8>, HexError> {
    let trimmed = arg.trim();
    let trimmed = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    let clean: String = trimmed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(clean).map_err(|source| HexError { index, source })
}

/// Decodes `bytes` as `input` to one JSON object.
pub fn decode(input: Input, bytes: &[u8]) -> Value {
    match input {
        Input::Ipv6Packet => packet::decode_packet(bytes),
        Input::MobilityHeader => mip6::decode_mh(bytes),
        Input::Lin6 => lin6::decode_lin6(bytes),
    }
}

/// Fuzz body of the `decode_any` target: every decoder on the same bytes,
/// rendered to text. It must never panic, whatever the bytes.
pub fn fuzz_decode(data: &[u8]) {
    for input in [Input::Ipv6Packet, Input::MobilityHeader, Input::Lin6] {
        let v = decode(input, data);
        let _ = v.to_string();
    }
}
