//! LIN6 Mapping Agent protocol decoding to JSON (`mobsim decode --lin6 HEX`).
//!
//! Field names are those of `../shared/spec/lin6.md` §3 in snake_case.
//! Bytes that are not a valid v1 message still show the header fields that
//! are present, a `problems` list and, for the 8-, 16- and 32-byte layouts of
//! the draft codec (§4), a `draft` reading.

use lin6_proto::addr::Lin6Id;
use lin6_proto::wire::draft::{DraftMessage, DraftPort, MappingRecord};
use lin6_proto::wire::{
    self, Body, FLAG_ACK, FLAG_MERGE, LOC_FLAG_UP, LocatorRecord, MsgType, Packet, Repr,
};
use serde_json::{Map, Value, json};

fn id(v: Lin6Id) -> String {
    v.to_string()
}

fn prefix(p: lin6_proto::addr::Prefix) -> String {
    p.to_string()
}

fn locators(l: &[LocatorRecord]) -> Value {
    Value::Array(
        l.iter()
            .map(|r| {
                json!({
                    "network_prefix": prefix(r.prefix),
                    "priority": r.priority,
                    "weight": r.weight,
                    "flags": r.flags,
                    "r": r.flags & LOC_FLAG_UP != 0,
                })
            })
            .collect(),
    )
}

fn type_name(t: MsgType) -> Value {
    t.name().map_or(Value::Null, Value::from)
}

fn header<T: AsRef<[u8]>>(p: &Packet<T>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("version".into(), p.version().into());
    m.insert("type".into(), p.msg_type().0.into());
    m.insert("type_name".into(), type_name(p.msg_type()));
    m.insert("code".into(), p.code().0.into());
    m.insert(
        "code_name".into(),
        p.code().name().map_or(Value::Null, Value::from),
    );
    m.insert("flags".into(), p.flags().into());
    m.insert("length".into(), p.length().into());
    m.insert("key_id".into(), p.key_id().into());
    m.insert("sequence".into(), p.sequence().into());
    m.insert("nonce".into(), format!("{:#018x}", p.nonce()).into());
    m
}

fn draft_record(r: &MappingRecord) -> Value {
    json!({
        "code": r.code, "flags": r.flags, "sequence": r.sequence,
        "network_prefix": prefix(r.prefix), "lin6_id": id(r.lin6_id),
        "timestamp": r.timestamp, "lifetime": r.lifetime,
    })
}

fn draft(bytes: &[u8]) -> Option<Value> {
    let mut out = Vec::new();
    for (port, name) in [
        (DraftPort::Update, "update_port_7362"),
        (DraftPort::Query, "query_port_7363"),
    ] {
        let Ok(m) = DraftMessage::parse(port, bytes) else {
            continue;
        };
        let v = match m {
            DraftMessage::UpdateRequest(r) => {
                json!({"message": "mapping_update_request", "fields": draft_record(&r)})
            }
            DraftMessage::Query(r) => json!({"message": "ma_query", "fields": draft_record(&r)}),
            DraftMessage::Reply(r) => json!({"message": "ma_reply", "fields": draft_record(&r)}),
            DraftMessage::UpdateReply {
                code,
                flags,
                sequence,
            } => json!({"message": "mapping_update_reply",
                "fields": {"code": code, "flags": flags, "sequence": sequence}}),
            DraftMessage::Refresh { lin6_id, timestamp } => json!({"message": "mapping_refresh",
                "fields": {"lin6_id": id(lin6_id), "timestamp": timestamp}}),
        };
        out.push(json!({"port": name, "decoded": v}));
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// Decodes one Mapping Agent protocol message (a UDP payload) to JSON.
pub fn decode_lin6(bytes: &[u8]) -> Value {
    let mut problems: Vec<String> = Vec::new();
    let mut m = Map::new();
    m.insert("protocol".into(), "lin6-ma-v1".into());
    m.insert("length_on_wire".into(), bytes.len().into());
    if let Some(h) = bytes.get(..wire::HEADER_LEN) {
        m.extend(header(&Packet::new_unchecked(h)));
    }
    match Repr::parse_bytes(bytes) {
        Ok(r) => {
            let mut f = Map::new();
            match r.body {
                Body::Register {
                    lin6_id,
                    timestamp,
                    lifetime,
                    locators: l,
                } => {
                    f.insert("a".into(), (r.flags & FLAG_ACK != 0).into());
                    f.insert("m".into(), (r.flags & FLAG_MERGE != 0).into());
                    m.insert("lin6_id".into(), id(lin6_id).into());
                    m.insert("timestamp".into(), timestamp.into());
                    m.insert("lifetime".into(), lifetime.into());
                    m.insert("n".into(), l.len().into());
                    m.insert("locators".into(), locators(l.as_slice()));
                }
                Body::RegisterAck {
                    lin6_id,
                    granted_lifetime,
                    ma_timestamp,
                } => {
                    m.insert("lin6_id".into(), id(lin6_id).into());
                    m.insert("granted_lifetime".into(), granted_lifetime.into());
                    m.insert("ma_timestamp".into(), ma_timestamp.into());
                }
                Body::Query { target, cookie } => {
                    f.insert("c".into(), cookie.is_some().into());
                    m.insert("target_lin6_id".into(), id(target).into());
                    if let Some(c) = cookie {
                        m.insert("cookie".into(), format!("{c:#018x}").into());
                    }
                }
                Body::Reply {
                    lin6_id,
                    mapping_timestamp,
                    ttl,
                    locators: l,
                } => {
                    m.insert("lin6_id".into(), id(lin6_id).into());
                    m.insert("mapping_timestamp".into(), mapping_timestamp.into());
                    m.insert("ttl".into(), ttl.into());
                    m.insert("n".into(), l.len().into());
                    m.insert("locators".into(), locators(l.as_slice()));
                }
                Body::Refresh { lin6_id, timestamp } => {
                    m.insert("sender_lin6_id".into(), id(lin6_id).into());
                    m.insert("timestamp".into(), timestamp.into());
                }
                Body::Nack { offending_type } => {
                    m.insert("offending_type".into(), offending_type.0.into());
                    m.insert("offending_type_name".into(), type_name(offending_type));
                }
            }
            if !f.is_empty() {
                m.insert("flag_bits".into(), Value::Object(f));
            }
            if let Some(a) = r.auth {
                let mac: String = a.mac.iter().map(|b| format!("{b:02x}")).collect();
                m.insert(
                    "auth".into(),
                    json!({
                        "algorithm": a.algorithm,
                        "algorithm_name": if a.algorithm == wire::ALG_HMAC_SHA256_128 { Value::from("HMAC-SHA-256-128") } else { Value::Null },
                        "mac_length": wire::MAC_LEN,
                        "mac": mac,
                    }),
                );
            }
        }
        Err(e) => {
            problems.push(format!("not a valid MA protocol v1 message: {e}"));
            if let Some(d) = draft(bytes) {
                m.insert("draft".into(), d);
            }
        }
    }
    m.insert(
        "problems".into(),
        Value::Array(problems.into_iter().map(Value::from).collect()),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_with_cookie() {
        // Built by hand from §3: version 1, QUERY, flags C, length 36.
        let b = hex::decode(
            "0103000100240000000000090000000000000002\
             02014a0000000002a0a1a2a3a4a5a6a7",
        )
        .unwrap();
        let v = decode_lin6(&b);
        assert_eq!(v["type_name"], "QUERY");
        assert_eq!(v["target_lin6_id"], "0201:4a00:0000:0002");
        assert_eq!(v["cookie"], "0xa0a1a2a3a4a5a6a7");
        assert_eq!(v["flag_bits"]["c"], true);
        assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn garbage_and_draft() {
        let v = decode_lin6(&[1, 2, 3]);
        assert_eq!(v["problems"].as_array().unwrap().len(), 1);
        let v = decode_lin6(&[2, 1, 0, 0, 0, 0, 0, 5]);
        assert_eq!(v["draft"][0]["decoded"]["message"], "mapping_update_reply");
        assert_eq!(v["draft"][0]["decoded"]["fields"]["code"], 1);
    }
}
