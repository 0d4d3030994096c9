//! Whole-IPv6-packet decoding to JSON (`mobsim decode HEX`).
//!
//! Layout: `ipv6` (fixed header), `ext` (extension headers in order), then
//! the upper layer under `mh`, `icmpv6`, `shim6`, `inner` (a tunnelled IPv6
//! packet) or `payload`, and a `problems` list. Documented in
//! `mip6-proto/DECODE.md`.

use core::net::Ipv6Addr;

use mip6_proto::wire::IpProtocol;
use mip6_proto::wire::hao::{HAO_TYPE, Ipv6Options};
use mip6_proto::wire::ipv6::{ExtChain, HEADER_LEN, Ipv6Packet, Ipv6Repr};
use serde_json::{Map, Value, json};

/// Bound on the extension headers walked per packet.
const MAX_EXT: usize = 16;
/// Bound on nested tunnels.
const MAX_DEPTH: usize = 4;

/// Decodes one whole IPv6 packet (fixed header first) to a JSON object.
pub fn decode_packet(bytes: &[u8]) -> Value {
    let mut problems = Vec::new();
    let mut v = packet_json(bytes, 0, &mut problems);
    if let Value::Object(m) = &mut v {
        m.insert("problems".into(), json!(problems));
    }
    v
}

fn tlv_options_json(
    area: &[u8],
    problems: &mut Vec<String>,
    hao: &mut Option<Ipv6Addr>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for o in Ipv6Options::new(area) {
        match o {
            Err(_) => {
                problems.push("an IPv6 option overruns its header".into());
                break;
            }
            Ok(o) if o.option_type == 0 => out.push(json!({"type": 0, "name": "pad1"})),
            Ok(o) if o.option_type == 1 => {
                out.push(json!({"type": 1, "name": "padn", "length": o.data.len()}))
            }
            Ok(o) if o.option_type == HAO_TYPE => {
                if let Ok(a) = <[u8; 16]>::try_from(o.data) {
                    let a = Ipv6Addr::from(a);
                    out.push(json!({"type": HAO_TYPE, "name": "home_address", "length": 16, "home_address": a.to_string()}));
                    if hao.is_none() {
                        *hao = Some(a);
                    }
                } else {
                    problems.push(format!(
                        "home address option with length {} (must be 16)",
                        o.data.len()
                    ));
                    out.push(json!({"type": HAO_TYPE, "name": "home_address", "length": o.data.len(), "data": hex::encode(o.data)}));
                }
            }
            Ok(o) => out.push(
                json!({"type": o.option_type, "length": o.data.len(), "data": hex::encode(o.data)}),
            ),
        }
    }
    out
}

fn packet_json(bytes: &[u8], depth: usize, problems: &mut Vec<String>) -> Value {
    let mut top = Map::new();
    if bytes.len() < HEADER_LEN {
        problems.push(format!("ipv6: truncated: {} octets, need 40", bytes.len()));
        top.insert("raw".into(), json!(hex::encode(bytes)));
        return Value::Object(top);
    }
    let p = Ipv6Packet::new_unchecked(bytes);
    if p.version() != 6 {
        problems.push(format!("ipv6: version {} is not 6", p.version()));
    }
    let declared = HEADER_LEN.saturating_add(usize::from(p.payload_len()));
    if bytes.len() < declared {
        problems.push(format!(
            "ipv6: truncated: payload length says {} octets, {} present",
            declared,
            bytes.len()
        ));
    } else if bytes.len() > declared {
        problems.push(format!(
            "ipv6: {} octets after the payload",
            bytes.len() - declared
        ));
    }
    let ip = Ipv6Repr {
        src: p.src_addr(),
        dst: p.dst_addr(),
        next_header: p.next_header(),
        payload_len: p.payload_len(),
        hop_limit: p.hop_limit(),
        traffic_class: p.traffic_class(),
        flow_label: p.flow_label(),
    };
    top.insert(
        "ipv6".into(),
        json!({"version": p.version(), "src": ip.src.to_string(), "dst": ip.dst.to_string(),
               "hop_limit": ip.hop_limit, "traffic_class": ip.traffic_class, "flow_label": ip.flow_label,
               "payload_length": ip.payload_len, "next_header": ip.next_header.0}),
    );
    // Walk a copy that has the declared length when present (extra octets cut).
    let pkt = bytes.get(..declared).unwrap_or(bytes);
    let mut fixed;
    let walk_buf: &[u8] = if pkt.len() < declared {
        // Truncated: walk what there is, with a payload length that fits.
        fixed = pkt.to_vec();
        let pl = u16::try_from(pkt.len().saturating_sub(HEADER_LEN)).unwrap_or(u16::MAX);
        if let Some(s) = fixed.get_mut(4..6) {
            s.copy_from_slice(&pl.to_be_bytes());
        }
        &fixed
    } else {
        pkt
    };
    let mut chain = ExtChain::new(walk_buf, MAX_EXT);
    let mut ext = Vec::new();
    let mut hao = None;
    let mut final_dst = ip.dst;
    let mut walk_ok = true;
    for h in chain.by_ref() {
        let h = match h {
            Ok(h) => h,
            Err(e) => {
                problems.push(format!("extension headers: {e}"));
                walk_ok = false;
                break;
            }
        };
        let nh = h.next_header().0;
        match h.kind {
            IpProtocol::HOP_BY_HOP | IpProtocol::DEST_OPTIONS => {
                let before = hao;
                let opts = tlv_options_json(h.options(), problems, &mut hao);
                let name = if h.kind == IpProtocol::HOP_BY_HOP {
                    "hop_by_hop"
                } else {
                    "destination_options"
                };
                let mut m = Map::new();
                m.insert("header".into(), json!(name));
                m.insert("next_header".into(), json!(nh));
                m.insert("length_bytes".into(), json!(h.bytes.len()));
                if h.kind == IpProtocol::DEST_OPTIONS
                    && before.is_none()
                    && let Some(a) = hao
                {
                    m.insert("home_address_option".into(), json!(a.to_string()));
                }
                m.insert("options".into(), json!(opts));
                ext.push(Value::Object(m));
            }
            IpProtocol::ROUTING => {
                let (mut v, fin) = super::mip6::routing_json(h.bytes, problems);
                if let Some(f) = fin {
                    final_dst = f;
                }
                if let Value::Object(m) = &mut v {
                    m.insert("length_bytes".into(), json!(h.bytes.len()));
                }
                ext.push(v);
            }
            IpProtocol::FRAGMENT => {
                let b = h.bytes;
                let off = u16::from_be_bytes([
                    b.get(2).copied().unwrap_or(0),
                    b.get(3).copied().unwrap_or(0),
                ]);
                let id = b
                    .get(4..8)
                    .and_then(|s| <[u8; 4]>::try_from(s).ok())
                    .map_or(0, u32::from_be_bytes);
                ext.push(json!({"header": "fragment", "next_header": nh, "offset": off >> 3, "more": off & 1, "identification": id}));
            }
            IpProtocol::AH => {
                let b = h.bytes;
                let spi = b
                    .get(4..8)
                    .and_then(|s| <[u8; 4]>::try_from(s).ok())
                    .map_or(0, u32::from_be_bytes);
                let seq = b
                    .get(8..12)
                    .and_then(|s| <[u8; 4]>::try_from(s).ok())
                    .map_or(0, u32::from_be_bytes);
                ext.push(json!({"header": "authentication", "next_header": nh, "length_bytes": b.len(), "spi": spi, "sequence": seq}));
            }
            other => ext.push(json!({"header": "unknown", "protocol": other.0})),
        }
    }
    top.insert("ext".into(), json!(ext));
    if !walk_ok {
        return Value::Object(top);
    }
    if chain.is_non_first_fragment() {
        problems.push("a non-first fragment: the upper layer is not decoded".into());
        return Value::Object(top);
    }
    let (upper, off) = chain.upper_layer();
    let body = walk_buf.get(off..).unwrap_or(&[]);
    // RFC 6275 §6.1.1 / RFC 8200 §8.1: pseudo-header source is the home
    // address when a Home Address option is present, destination the final one.
    let src = hao.unwrap_or(ip.src);
    match upper {
        IpProtocol::MOBILITY => {
            let v = super::mip6::mh_json(body, Some((src, final_dst)), problems);
            top.insert("mh".into(), v);
        }
        IpProtocol::ICMPV6 => {
            let v = super::mip6::icmpv6_json(body, src, final_dst, problems);
            top.insert("icmpv6".into(), v);
        }
        IpProtocol::SHIM6 => match super::shim6::decode_shim6(body) {
            Some(v) => {
                // A payload extension header (P = 1, RFC 5533 §5.1): what
                // follows it is the upper layer, shown as hex.
                if v.get("p") == Some(&json!(1)) {
                    let hlen = (usize::from(body.get(1).copied().unwrap_or(0)) + 1) * 8;
                    top.insert(
                        "upper_hex".into(),
                        json!(hex::encode(body.get(hlen..).unwrap_or(&[]))),
                    );
                }
                top.insert("shim6".into(), v);
            }
            None => problems.push("shim6: not decoded".into()),
        },
        IpProtocol::IPV6 => {
            if depth >= MAX_DEPTH {
                problems.push("tunnels nested too deep".into());
            } else {
                let mut inner_problems = Vec::new();
                let v = packet_json(body, depth.saturating_add(1), &mut inner_problems);
                problems.extend(inner_problems.into_iter().map(|p| format!("inner: {p}")));
                top.insert("inner".into(), v);
            }
        }
        IpProtocol::NONE => {}
        other => {
            top.insert(
                "payload".into(),
                json!({"protocol": other.0, "length": body.len(), "data": hex::encode(body)}),
            );
        }
    }
    Value::Object(top)
}
