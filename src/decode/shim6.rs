//! Shim6 and REAP decoding to JSON (the `shim6` object of a decoded packet).
//!
//! The layout follows the `fields.shim6` objects of the hand-built vectors
//! (`shim6-proto/tests/vectors/handmade.jsonl`) and extends them with
//! `checksum_valid`, `payload_length` and `problems`. Fields are read from
//! the octets even when the message does not parse (a bad checksum, a
//! critical unknown option), so a damaged message still shows what it
//! holds; `problems` then says why a Shim6 receiver would drop it.
//!
//! | key | when |
//! |---|---|
//! | `next_header`, `hdr_ext_len`, `p` | always |
//! | `context_tag` | payload extension header, and I1, I2, R2, I2bis, Update Request/Ack, Keepalive, Probe |
//! | `type`, `type_name`, `type_specific`, `checksum`, `checksum_valid` | control messages |
//! | `reserved_r`, `reserved2` | the reserved bits of the message type (RFC 5533 §5.4-5.11, RFC 5534 §5.1-5.2) |
//! | `initiator_nonce`, `responder_nonce`, `request_nonce`, `packet_context_tag` | as the message type has them |
//! | `precvd`, `psent`, `sta`, `probes_sent`, `probes_received` | Probe |
//! | `error_code`, `pointer`, `packet_in_error` | Error |
//! | `body` | unknown message types (hex) |
//! | `options` | messages with an options area: `type`, `name`, `critical`, `length`, `padding` and the option's fields |

use serde_json::{Map, Value, json};
use shim6_proto::wire::options::RawOptions;
use shim6_proto::wire::{
    ControlRepr, LocatorList, MessageType, OptionType, OptionValue, ProbeReport, Shim6Packet,
    checksum_ok,
};

fn rdn<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    b.get(at..)
        .and_then(|s| s.first_chunk::<N>())
        .copied()
        .unwrap_or([0; N])
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(rdn::<2>(b, at))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(rdn::<4>(b, at))
}

/// 48 bits at `at`: the R bit and a 47-bit context tag.
fn be48(b: &[u8], at: usize) -> u64 {
    let [a, b1, c, d, e, f] = rdn::<6>(b, at);
    u64::from_be_bytes([0, 0, a, b1, c, d, e, f])
}

fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn addr(b: &[u8], at: usize) -> String {
    core::net::Ipv6Addr::from(rdn::<16>(b, at)).to_string()
}

const TAG_MASK: u64 = (1 << 47) - 1;

/// Puts `reserved_r` and the 47-bit tag at octet `at` under `key`.
fn tag_fields(m: &mut Map<String, Value>, h: &[u8], at: usize, key: &str) {
    let v = be48(h, at);
    m.insert("reserved_r".into(), json!(v >> 47));
    m.insert(key.into(), json!(v & TAG_MASK));
}

fn reports(h: &[u8], at: usize, n: usize) -> Value {
    let v: Vec<Value> = (0..n)
        .map(|i| {
            let o = at.saturating_add(i.saturating_mul(ProbeReport::LEN));
            json!({
                "source": addr(h, o),
                "destination": addr(h, o.saturating_add(16)),
                "nonce": be32(h, o.saturating_add(32)),
                "data": be32(h, o.saturating_add(36)),
            })
        })
        .collect();
    Value::Array(v)
}

/// One option as JSON, typed when its type is known.
fn option_json(
    ty: OptionType,
    critical: bool,
    data: &[u8],
    padding: usize,
) -> (Value, Option<String>) {
    let mut m = Map::new();
    m.insert("type".into(), json!(ty.0));
    m.insert("name".into(), json!(ty.name().unwrap_or("unknown")));
    m.insert("critical".into(), json!(u8::from(critical)));
    m.insert("length".into(), json!(data.len()));
    m.insert("padding".into(), json!(padding));
    let mut problem = None;
    match OptionValue::parse(ty, data) {
        Ok(OptionValue::ResponderValidator(v)) => {
            m.insert("validator".into(), json!(hex::encode(v)));
        }
        Ok(OptionValue::LocatorList(l)) => {
            let n = l.locators.len();
            m.insert("generation".into(), json!(l.generation));
            m.insert("num_locators".into(), json!(n));
            let methods: Vec<u8> = l.locators.iter().map(|x| x.method.0).collect();
            m.insert("verification_methods".into(), json!(methods));
            m.insert("inner_padding".into(), json!(LocatorList::inner_padding(n)));
            let addrs: Vec<String> = l.locators.iter().map(|x| x.addr.to_string()).collect();
            m.insert("locators".into(), json!(addrs));
        }
        Ok(OptionValue::LocatorPreferences(p)) => {
            m.insert("generation".into(), json!(p.generation));
            m.insert("element_length".into(), json!(p.element_len));
            let elements: Vec<Value> = p
                .iter()
                .map(|e| {
                    let mut o = Map::new();
                    o.insert("flags".into(), json!(e.flags.0));
                    if let Some(p) = e.priority {
                        o.insert("priority".into(), json!(p));
                    }
                    if let Some(w) = e.weight {
                        o.insert("weight".into(), json!(w));
                    }
                    if !e.rest.is_empty() {
                        o.insert("rest".into(), json!(hex::encode(e.rest)));
                    }
                    Value::Object(o)
                })
                .collect();
            m.insert("elements".into(), Value::Array(elements));
        }
        Ok(OptionValue::CgaParameters(v)) => {
            m.insert("cga_parameters".into(), json!(hex::encode(v)));
        }
        Ok(OptionValue::CgaSignature(v)) => {
            m.insert("signature".into(), json!(hex::encode(v)));
        }
        Ok(OptionValue::UlidPair { sender, receiver }) => {
            m.insert("reserved".into(), json!(be32(data, 0)));
            m.insert("sender_ulid".into(), json!(sender.to_string()));
            m.insert("receiver_ulid".into(), json!(receiver.to_string()));
        }
        Ok(OptionValue::ForkedInstanceId(v)) => {
            m.insert("forked_instance_identifier".into(), json!(v));
        }
        Ok(OptionValue::KeepaliveTimeout(t)) => {
            m.insert("reserved".into(), json!(be16(data, 0)));
            m.insert("keepalive_timeout".into(), json!(t));
        }
        Ok(OptionValue::Unknown { data, .. }) => {
            m.insert("data".into(), json!(hex::encode(data)));
        }
        Err(e) => {
            m.insert("data".into(), json!(hex::encode(data)));
            problem = Some(format!("option {}: {e}", ty.0));
        }
    }
    (Value::Object(m), problem)
}

fn options_json(area: &[u8], problems: &mut Vec<String>) -> Value {
    let mut out = Vec::new();
    for raw in RawOptions::new(area) {
        match raw {
            Ok(r) => {
                let (v, p) = option_json(r.option_type, r.critical, r.data, r.padding.len());
                out.push(v);
                problems.extend(p);
            }
            Err(e) => problems.push(format!("options: {e}")),
        }
    }
    Value::Array(out)
}

/// Decodes a Shim6 header and what follows it (next header 140): a payload
/// extension header or a control message with its options. `None` when
/// fewer than 8 octets (no Shim6 header at all).
pub fn decode_shim6(bytes: &[u8]) -> Option<Value> {
    if bytes.len() < 8 {
        return None;
    }
    let view = Shim6Packet::new_unchecked(bytes);
    let mut problems: Vec<String> = Vec::new();
    let mut m = Map::new();
    m.insert("next_header".into(), json!(view.next_header()));
    m.insert("hdr_ext_len".into(), json!(view.hdr_ext_len()));
    m.insert("p".into(), json!(u8::from(view.p_bit())));
    if let Err(e) = view.check_len() {
        problems.push(format!(
            "header: {e} ({} octets announced, {} present)",
            view.header_len(),
            bytes.len()
        ));
    }
    let h = view.header();
    if view.p_bit() {
        m.insert(
            "context_tag".into(),
            json!(view.payload_context_tag().get()),
        );
        m.insert("payload_length".into(), json!(view.payload().len()));
        if view.hdr_ext_len() != 0 {
            problems.push("payload extension header: Hdr Ext Len is not 0".into());
        }
        m.insert("problems".into(), json!(problems));
        return Some(Value::Object(m));
    }
    let t = view.msg_type();
    m.insert("type".into(), json!(t.0));
    m.insert("type_name".into(), json!(t.name().unwrap_or("Unknown")));
    m.insert("type_specific".into(), json!(view.type_specific()));
    if view.s_bit() {
        m.insert("s".into(), json!(1));
    }
    m.insert("checksum".into(), json!(view.checksum()));
    m.insert("checksum_valid".into(), json!(checksum_ok(h)));
    let mut options_at = Some(16usize);
    match t {
        MessageType::I1 | MessageType::R2 => {
            tag_fields(&mut m, h, 6, "context_tag");
            m.insert("initiator_nonce".into(), json!(be32(h, 12)));
        }
        MessageType::R1 => {
            m.insert("reserved2".into(), json!(be16(h, 6)));
            m.insert("initiator_nonce".into(), json!(be32(h, 8)));
            m.insert("responder_nonce".into(), json!(be32(h, 12)));
        }
        MessageType::I2 => {
            tag_fields(&mut m, h, 6, "context_tag");
            m.insert("initiator_nonce".into(), json!(be32(h, 12)));
            m.insert("responder_nonce".into(), json!(be32(h, 16)));
            m.insert("reserved2".into(), json!(be32(h, 20)));
            options_at = Some(24);
        }
        MessageType::R1BIS => {
            tag_fields(&mut m, h, 6, "packet_context_tag");
            m.insert("responder_nonce".into(), json!(be32(h, 12)));
        }
        MessageType::I2BIS => {
            tag_fields(&mut m, h, 6, "context_tag");
            m.insert("initiator_nonce".into(), json!(be32(h, 12)));
            m.insert("responder_nonce".into(), json!(be32(h, 16)));
            // Reserved2: 49 bits from octet 20; then the 47-bit Packet Context Tag.
            let [a, b, c, d, e, f, g] = rdn::<7>(h, 20);
            let r2 = u64::from_be_bytes([0, a, b, c, d, e, f, g]) >> 7;
            m.insert("reserved2".into(), json!(r2));
            m.insert("packet_context_tag".into(), json!(be48(h, 26) & TAG_MASK));
            options_at = Some(32);
        }
        MessageType::UPDATE_REQUEST | MessageType::UPDATE_ACK => {
            tag_fields(&mut m, h, 6, "context_tag");
            m.insert("request_nonce".into(), json!(be32(h, 12)));
        }
        MessageType::KEEPALIVE => {
            tag_fields(&mut m, h, 6, "context_tag");
            m.insert("reserved2".into(), json!(be32(h, 12)));
        }
        MessageType::PROBE => {
            tag_fields(&mut m, h, 6, "context_tag");
            let counts = byte(h, 12);
            let (precvd, psent) = (usize::from(counts >> 4), usize::from(counts & 0x0f));
            m.insert("precvd".into(), json!(precvd));
            m.insert("psent".into(), json!(psent));
            m.insert("sta".into(), json!(byte(h, 13) >> 6));
            m.insert("reserved2".into(), json!(be32(h, 12) & 0x003f_ffff));
            let sent_end = psent.saturating_mul(ProbeReport::LEN).saturating_add(16);
            m.insert("probes_sent".into(), reports(h, 16, psent));
            m.insert("probes_received".into(), reports(h, sent_end, precvd));
            options_at = Some(sent_end.saturating_add(precvd.saturating_mul(ProbeReport::LEN)));
        }
        MessageType::ERROR => {
            m.insert("error_code".into(), json!(view.type_specific()));
            m.insert("pointer".into(), json!(be16(h, 6)));
            m.insert(
                "packet_in_error".into(),
                json!(hex::encode(h.get(8..).unwrap_or(&[]))),
            );
            options_at = None;
        }
        _ => {
            m.insert("body".into(), json!(hex::encode(h.get(6..).unwrap_or(&[]))));
            options_at = None;
        }
    }
    if let Some(at) = options_at {
        match h.get(at..) {
            Some(area) => {
                m.insert("options".into(), options_json(area, &mut problems));
            }
            None => problems.push(format!(
                "{}: Hdr Ext Len too small for the message type",
                t.name().unwrap_or("message")
            )),
        }
    }
    if !view.payload().is_empty() {
        m.insert("payload_length".into(), json!(view.payload().len()));
    }
    // What a Shim6 receiver makes of it (RFC 5533 §12.3, §5.15).
    if let Err(e) = ControlRepr::parse(&view) {
        let p = format!("{e}");
        if !problems.contains(&p) {
            problems.push(p);
        }
    }
    m.insert("problems".into(), json!(problems));
    Some(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_none_and_garbage_never_panics() {
        assert_eq!(decode_shim6(&[0x3b; 7]), None);
        for len in 8..64 {
            for fill in [0u8, 0x41, 0xff] {
                let v = decode_shim6(&vec![fill; len]).unwrap();
                assert!(v["problems"].is_array());
            }
        }
    }
}
