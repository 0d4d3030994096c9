//! Shim6 and REAP decoding to JSON.

use serde_json::Value;

/// Decodes a Shim6 header and what follows it (next header 140).
///
/// Not built yet: always `None`, and the packet decoder reports the Shim6
/// header as undecoded.
pub fn decode_shim6(_bytes: &[u8]) -> Option<Value> {
    None
}
