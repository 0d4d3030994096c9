//! LIN6 Mapping Agent protocol decoding to JSON (`mobsim decode --lin6 HEX`).

use serde_json::{Value, json};

/// Decodes one Mapping Agent protocol message (a UDP payload) to JSON.
///
/// Not built yet: returns an object whose `problems` list says so.
pub fn decode_lin6(bytes: &[u8]) -> Value {
    json!({ "length": bytes.len(), "problems": ["the LIN6 decoder is not built yet"] })
}
