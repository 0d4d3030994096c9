//! Mobile IPv6 decoding to JSON (`mobsim decode --mh HEX`, and the `mh`,
//! `icmpv6` and extension header objects of a whole packet).
//!
//! The JSON layout follows the `fields` objects of the Scapy vectors
//! (`mip6-proto/tests/vectors/scapy-public.jsonl`) and extends them; it is
//! documented in `mip6-proto/DECODE.md`.

use core::net::Ipv6Addr;

use mip6_proto::wire::icmpv6::{MipIcmpRepr, NdOptions, PrefixInfo};
use mip6_proto::wire::mh::{BaFlags, BuFlags, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, OptionType, RawOptions};
use mip6_proto::wire::{checksum, rh2::Rh2Repr};
use serde_json::{Map, Value, json};

/// Decodes a bare Mobility Header (next header 135) to a JSON object. The
/// checksum is shown but cannot be verified without the addresses.
pub fn decode_mh(bytes: &[u8]) -> Value {
    let mut problems = Vec::new();
    let mut v = mh_json(bytes, None, &mut problems);
    if let Value::Object(m) = &mut v {
        m.insert("problems".into(), json!(problems));
    }
    v
}

fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at.saturating_add(2))
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map_or(0, u16::from_be_bytes)
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at.saturating_add(4))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_be_bytes)
}

fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn addr(b: &[u8], at: usize) -> Ipv6Addr {
    b.get(at..at.saturating_add(16))
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from)
}

/// One mobility option as JSON.
pub fn option_json(o: &MobilityOption<'_>) -> Value {
    let ty = o.option_type();
    let mut m = Map::new();
    m.insert("type".into(), json!(ty.0));
    m.insert("name".into(), json!(ty.name().unwrap_or("unknown")));
    m.insert("length".into(), json!(o.data_len()));
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match *o {
        MobilityOption::BindingRefreshAdvice { refresh_interval } => {
            put("refresh_interval", json!(refresh_interval));
            put(
                "refresh_interval_seconds",
                json!(u32::from(refresh_interval) * 4),
            );
        }
        MobilityOption::AlternateCareOfAddress(a) => put("address", json!(a.to_string())),
        MobilityOption::NonceIndices { home, care_of } => {
            put("home_nonce_index", json!(home));
            put("care_of_nonce_index", json!(care_of));
        }
        MobilityOption::BindingAuthorizationData(a) => put("authenticator", json!(hex(a))),
        MobilityOption::MobileNetworkPrefix { prefix_len, prefix } => {
            put("reserved", json!(0));
            put("prefix_length", json!(prefix_len));
            put("prefix", json!(prefix.to_string()));
        }
        MobilityOption::LinkLayerAddress { option_code, lla } => {
            put("option_code", json!(option_code));
            put("lla", json!(hex(lla)));
        }
        MobilityOption::MobileNodeIdentifier {
            subtype,
            identifier,
        } => {
            put("subtype", json!(subtype));
            put("identifier", json!(String::from_utf8_lossy(identifier)));
            put("identifier_hex", json!(hex(identifier)));
        }
        MobilityOption::MobilityMessageAuthentication { subtype, spi, data } => {
            put("subtype", json!(subtype));
            put("spi", json!(spi));
            put("authenticator", json!(hex(data)));
        }
        MobilityOption::ReplayProtection { timestamp } => put("timestamp", json!(timestamp)),
        MobilityOption::CgaParametersRequest | MobilityOption::CareOfTestInit => {}
        MobilityOption::CgaParameters(d) | MobilityOption::Experimental(d) => {
            put("data", json!(hex(d)))
        }
        MobilityOption::Signature(d) => put("signature", json!(hex(d))),
        MobilityOption::PermanentHomeKeygenToken(t) => put("token", json!(hex(&t))),
        MobilityOption::CareOfTest(t) => put("keygen_token", json!(hex(&t))),
        MobilityOption::Ipv4HomeAddress {
            prefix_len,
            p,
            address,
        } => {
            put("prefix_length", json!(prefix_len));
            put("flag_p", json!(u8::from(p)));
            put("address", json!(address.to_string()));
        }
        MobilityOption::Ipv4AddressAck {
            status,
            prefix_len,
            address,
        } => {
            put("status", json!(status));
            put("prefix_length", json!(prefix_len));
            put("address", json!(address.to_string()));
        }
        MobilityOption::NatDetection { f, refresh_time } => {
            put("flag_f", json!(u8::from(f)));
            put("refresh_time", json!(refresh_time));
        }
        MobilityOption::Ipv4CareOfAddress(a) => put("address", json!(a.to_string())),
        MobilityOption::BindingIdentifier {
            bid,
            status,
            h,
            care_of,
        } => {
            put("bid", json!(bid));
            put("status", json!(status));
            put("flag_h", json!(u8::from(h)));
            if let Some(c) = care_of {
                put("care_of_address", json!(c.to_string()));
            }
        }
        MobilityOption::Unknown { data, .. } => put("data", json!(hex(data))),
        _ => {}
    }
    Value::Object(m)
}

/// Decodes a Mobility Header. With `addrs = Some((src, dst))` (the
/// pseudo-header addresses: home address for the source when a Home Address
/// option is present, final destination) the checksum is verified and
/// `checksum_valid` added. Problems are appended to `problems`.
pub fn mh_json(
    bytes: &[u8],
    addrs: Option<(Ipv6Addr, Ipv6Addr)>,
    problems: &mut Vec<String>,
) -> Value {
    let mut m = Map::new();
    if bytes.len() < 6 {
        problems.push(format!(
            "mh: truncated: {} octets, need at least 6",
            bytes.len()
        ));
        m.insert("raw".into(), json!(hex(bytes)));
        return Value::Object(m);
    }
    let p = MhPacket::new_unchecked(bytes);
    let ty = p.mh_type();
    m.insert("payload_proto".into(), json!(p.payload_proto()));
    m.insert("header_len".into(), json!(p.header_len()));
    m.insert("length_bytes".into(), json!(p.total_len()));
    m.insert("type".into(), json!(ty.0));
    m.insert("type_name".into(), json!(ty.name().unwrap_or("unknown")));
    m.insert("reserved".into(), json!(p.reserved()));
    m.insert("checksum".into(), json!(p.checksum()));
    if p.payload_proto() != 59 {
        problems.push(format!(
            "mh: payload proto {} is not 59 (RFC 6275 §9.2: discard)",
            p.payload_proto()
        ));
    }
    if bytes.len() < p.total_len() {
        problems.push(format!(
            "mh: truncated: header length says {} octets, {} present",
            p.total_len(),
            bytes.len()
        ));
    } else if bytes.len() > p.total_len() {
        m.insert(
            "trailing".into(),
            json!(hex(bytes.get(p.total_len()..).unwrap_or(&[]))),
        );
    }
    let whole = bytes.get(..p.total_len()).unwrap_or(bytes);
    if let Some((src, dst)) = addrs {
        let ok = bytes.len() >= p.total_len() && checksum::verify(&src, &dst, 135, whole);
        m.insert("checksum_valid".into(), json!(ok));
        if !ok {
            problems.push("mh: bad checksum".into());
        }
    }
    // Fixed fields, read directly so that a message with bad options still shows them.
    let b = whole;
    match ty.0 {
        0 => {
            m.insert("reserved2".into(), json!(be16(b, 6)));
        }
        1 | 2 => {
            m.insert("reserved2".into(), json!(be16(b, 6)));
            m.insert(
                "init_cookie".into(),
                json!(hex(b.get(8..16).unwrap_or(&[]))),
            );
        }
        3 | 4 => {
            m.insert("nonce_index".into(), json!(be16(b, 6)));
            m.insert(
                "init_cookie".into(),
                json!(hex(b.get(8..16).unwrap_or(&[]))),
            );
            m.insert(
                "keygen_token".into(),
                json!(hex(b.get(16..24).unwrap_or(&[]))),
            );
        }
        5 => {
            let f = BuFlags(be16(b, 8));
            let bit = |x: BuFlags| u8::from(f.contains(x));
            m.insert("sequence".into(), json!(be16(b, 6)));
            m.insert(
                "flags".into(),
                json!({"A": bit(BuFlags::A), "H": bit(BuFlags::H), "L": bit(BuFlags::L), "K": bit(BuFlags::K),
                       "M": bit(BuFlags::M), "R": bit(BuFlags::R), "P": bit(BuFlags::P), "F": bit(BuFlags::F),
                       "T": bit(BuFlags::T), "O": bit(BuFlags::O)}),
            );
            m.insert("reserved2".into(), json!(f.0 & 0x01ff));
            m.insert("lifetime".into(), json!(be16(b, 10)));
            m.insert("lifetime_seconds".into(), json!(u32::from(be16(b, 10)) * 4));
        }
        6 => {
            let f = BaFlags(byte(b, 7));
            let bit = |x: BaFlags| u8::from(f.contains(x));
            m.insert("status".into(), json!(byte(b, 6)));
            m.insert(
                "flags".into(),
                json!({"K": bit(BaFlags::K), "R": bit(BaFlags::R), "P": bit(BaFlags::P)}),
            );
            m.insert("reserved2".into(), json!(f.0 & 0x1f));
            m.insert("sequence".into(), json!(be16(b, 8)));
            m.insert("lifetime".into(), json!(be16(b, 10)));
            m.insert("lifetime_seconds".into(), json!(u32::from(be16(b, 10)) * 4));
        }
        7 => {
            m.insert("status".into(), json!(byte(b, 6)));
            m.insert("reserved2".into(), json!(byte(b, 7)));
            m.insert("home_address".into(), json!(addr(b, 8).to_string()));
        }
        _ => {
            m.insert("data".into(), json!(hex(b.get(6..).unwrap_or(&[]))));
            if ty.name().is_none() {
                problems.push(format!(
                    "mh: unknown MH type {} (RFC 6275 §9.2: answer with Binding Error status 2)",
                    ty.0
                ));
            }
        }
    }
    if let Some(off) = ty.options_offset() {
        let area = whole.get(off..).unwrap_or(&[]);
        if whole.len() < off {
            problems.push(format!(
                "mh: header length {} is below the {} octets of this message type (RFC 6275 §9.2)",
                whole.len(),
                off
            ));
        }
        let mut wire = Vec::new();
        let mut opts = Vec::new();
        for raw in RawOptions::new(area) {
            match raw {
                Err(_) => {
                    problems.push("mh: an option overruns the message".into());
                    break;
                }
                Ok(r) => {
                    wire.push(json!([r.option_type.0, r.data.map(<[u8]>::len)]));
                    let Some(d) = r.data else { continue };
                    if r.option_type == OptionType::PADN {
                        continue;
                    }
                    match MobilityOption::parse(r.option_type, d) {
                        Ok(o) => opts.push(option_json(&o)),
                        Err(e) => {
                            problems.push(format!(
                                "mh: option {} at offset {}: {e}",
                                r.option_type.0,
                                off.saturating_add(r.offset)
                            ));
                            opts.push(json!({"type": r.option_type.0, "name": r.option_type.name().unwrap_or("unknown"),
                                             "length": d.len(), "data": hex(d)}));
                        }
                    }
                }
            }
        }
        m.insert("options".into(), json!(opts));
        m.insert("options_wire".into(), json!(wire));
    }
    // Cross-check with the library's own parser.
    if let Ok(pk) = MhPacket::new_checked(bytes)
        && let Err(e) = MhRepr::parse_unverified(&pk)
        && problems.is_empty()
    {
        problems.push(format!("mh: {e}"));
    }
    if let Ok(pk) = MhPacket::new_checked(bytes)
        && let Ok(r) = MhRepr::parse_unverified(&pk)
        && let Some(last) = r.options.iter().flatten().last()
        && r.options
            .find(OptionType::BINDING_AUTHORIZATION_DATA)
            .is_some()
        && last.option_type() != OptionType::BINDING_AUTHORIZATION_DATA
    {
        // Well-formed on the wire, but a receiver must reject it: a warning, not a problem.
        m.insert(
            "warnings".into(),
            json!(["the Binding Authorization Data option is not the last option (RFC 6275 §6.2)"]),
        );
    }
    Value::Object(m)
}

fn prefix_info_json(o: &[u8]) -> Value {
    match PrefixInfo::parse(o) {
        Ok(p) => json!({
            "type": 3, "length": 4, "prefix_length": p.prefix_len,
            "flag_l": u8::from(p.l), "flag_a": u8::from(p.a), "flag_r": u8::from(p.r),
            "reserved1": byte(o, 3) & 0x1f, "valid_lifetime": p.valid_lifetime,
            "preferred_lifetime": p.preferred_lifetime, "reserved2": be32(o, 12),
            "prefix": p.prefix.to_string(),
        }),
        Err(_) => json!({"type": 3, "length": byte(o, 1), "data": hex(o)}),
    }
}

fn nd_options_json(area: &[u8], problems: &mut Vec<String>) -> Value {
    let mut out = Vec::new();
    for o in NdOptions::new(area) {
        match o {
            Err(_) => {
                problems.push("icmpv6: ND option with a bad length".into());
                break;
            }
            Ok((3, o)) => out.push(prefix_info_json(o)),
            Ok((7, o)) if o.len() == 8 => out.push(json!({
                "type": 7, "length": 1, "reserved": be16(o, 2), "advertisement_interval": be32(o, 4)})),
            Ok((8, o)) if o.len() == 8 => out.push(json!({
                "type": 8, "length": 1, "reserved": be16(o, 2),
                "home_agent_preference": be16(o, 4), "home_agent_lifetime": be16(o, 6)})),
            Ok((t, o)) => out.push(json!({"type": t, "length": byte(o, 1), "data": hex(o.get(2..).unwrap_or(&[]))})),
        }
    }
    json!(out)
}

/// Decodes an ICMPv6 message (echo, router advertisement and the Mobile IPv6
/// messages 144-147 in detail; others generically), verifying its checksum
/// against the pseudo-header addresses.
pub fn icmpv6_json(b: &[u8], src: Ipv6Addr, dst: Ipv6Addr, problems: &mut Vec<String>) -> Value {
    let mut m = Map::new();
    if b.len() < 4 {
        problems.push("icmpv6: truncated".into());
        m.insert("raw".into(), json!(hex(b)));
        return Value::Object(m);
    }
    let ty = byte(b, 0);
    m.insert("type".into(), json!(ty));
    m.insert("code".into(), json!(byte(b, 1)));
    m.insert("checksum".into(), json!(be16(b, 2)));
    let ok = checksum::verify(&src, &dst, 58, b);
    m.insert("checksum_valid".into(), json!(ok));
    if !ok {
        problems.push("icmpv6: bad checksum".into());
    }
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match ty {
        128 | 129 if b.len() >= 8 => {
            put("identifier", json!(be16(b, 4)));
            put("sequence", json!(be16(b, 6)));
            put("data", json!(hex(b.get(8..).unwrap_or(&[]))));
        }
        134 if b.len() >= 16 => {
            let f = byte(b, 5);
            put("cur_hop_limit", json!(byte(b, 4)));
            put("flag_m", json!(f >> 7 & 1));
            put("flag_o", json!(f >> 6 & 1));
            put("flag_h", json!(f >> 5 & 1));
            put("prf", json!(f >> 3 & 3));
            put("reserved", json!(f & 7));
            put("router_lifetime", json!(be16(b, 6)));
            put("reachable_time", json!(be32(b, 8)));
            put("retrans_timer", json!(be32(b, 12)));
            put(
                "options",
                nd_options_json(b.get(16..).unwrap_or(&[]), problems),
            );
        }
        144..=147 => {
            put("identifier", json!(be16(b, 4)));
            let flags = be16(b, 6);
            match MipIcmpRepr::parse_unverified(b) {
                Ok(MipIcmpRepr::DhaadRequest { r, .. }) => {
                    put("flag_r", json!(u8::from(r)));
                    put("reserved", json!(flags & 0x7fff));
                }
                Ok(MipIcmpRepr::DhaadReply { r, addresses, .. }) => {
                    put("flag_r", json!(u8::from(r)));
                    put("reserved", json!(flags & 0x7fff));
                    let a: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
                    put("home_agent_addresses", json!(a));
                }
                Ok(MipIcmpRepr::MobilePrefixSolicitation { .. }) => put("reserved", json!(flags)),
                Ok(MipIcmpRepr::MobilePrefixAdvertisement { m: fm, o, .. }) => {
                    put("flag_m", json!(u8::from(fm)));
                    put("flag_o", json!(u8::from(o)));
                    put("reserved", json!(flags & 0x3fff));
                    put(
                        "options",
                        nd_options_json(b.get(8..).unwrap_or(&[]), problems),
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    problems.push(format!("icmpv6: type {ty}: {e}"));
                    put("data", json!(hex(b.get(4..).unwrap_or(&[]))));
                }
            }
        }
        _ => put("data", json!(hex(b.get(4..).unwrap_or(&[])))),
    }
    Value::Object(m)
}

/// A type 2 (or other) routing header as JSON; returns the final destination
/// for the pseudo-header when the header is of type 2 with segments left.
pub fn routing_json(h: &[u8], problems: &mut Vec<String>) -> (Value, Option<Ipv6Addr>) {
    let mut m = Map::new();
    m.insert("header".into(), json!("routing"));
    m.insert("next_header".into(), json!(byte(h, 0)));
    m.insert("routing_type".into(), json!(byte(h, 2)));
    m.insert("segments_left".into(), json!(byte(h, 3)));
    let mut fin = None;
    if byte(h, 2) == 2 {
        match Rh2Repr::parse(h) {
            Ok(r) => {
                m.insert("reserved".into(), json!(r.reserved));
                m.insert("home_address".into(), json!(r.home_address.to_string()));
                if r.segments_left > 0 {
                    fin = Some(r.home_address);
                }
            }
            Err(e) => {
                problems.push(format!("routing header type 2: {e}"));
                m.insert("data".into(), json!(hex(h.get(4..).unwrap_or(&[]))));
            }
        }
    } else {
        m.insert("data".into(), json!(hex(h.get(4..).unwrap_or(&[]))));
    }
    (Value::Object(m), fin)
}
