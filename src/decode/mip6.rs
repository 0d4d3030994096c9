//! Mobile IPv6 decoding to JSON (`mobsim decode --mh HEX`).

use serde_json::{Value, json};

/// Decodes a bare Mobility Header (next header 135) to a JSON object.
///
/// Not built yet: returns an object whose `problems` list says so.
pub fn decode_mh(bytes: &[u8]) -> Value {
    json!({ "length": bytes.len(), "problems": ["the Mobility Header decoder is not built yet"] })
}
