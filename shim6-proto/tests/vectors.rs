//! Every message of `tests/vectors/handmade.jsonl` (built byte by byte from
//! RFC 5533/5534, see `tests/vectors/README.md`) parses to its `fields`,
//! re-emits byte for byte, fails on every truncation and on every corrupted
//! octet's checksum.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::net::Ipv6Addr;

use serde_json::Value;
use shim6_proto::wire::{
    ControlRepr, Error, Message, OptionRepr, OptionValue, Options, PayloadRepr, Shim6Packet,
    Shim6Repr,
};

struct Vector {
    name: String,
    packet: Vec<u8>,
    layer: Vec<u8>,
    fields: Value,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("vectors/handmade.jsonl");
    let v: Vec<Vector> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let j: Value = serde_json::from_str(l).unwrap();
            Vector {
                name: j["name"].as_str().unwrap().to_owned(),
                packet: hex::decode(j["hex"].as_str().unwrap()).unwrap(),
                layer: hex::decode(j["layer_hex"].as_str().unwrap()).unwrap(),
                fields: j["fields"].clone(),
            }
        })
        .collect();
    assert_eq!(v.len(), 22, "the vector file has 22 messages");
    v
}

/// The Shim6 octets of the packet: the vectors carry no extension header
/// between the IPv6 header and Shim6 (next header 140 in the fixed header).
fn shim6_bytes(v: &Vector) -> &[u8] {
    assert_eq!(
        v.packet[6], 140,
        "{}: Shim6 right after the IPv6 header",
        v.name
    );
    let body = &v.packet[40..];
    assert!(
        body.starts_with(&v.layer),
        "{}: layer_hex is the start of the body",
        v.name
    );
    body
}

fn u(j: &Value, k: &str) -> u64 {
    j[k].as_u64().unwrap_or_else(|| panic!("field {k} in {j}"))
}

fn addr(j: &Value) -> Ipv6Addr {
    j.as_str().unwrap().parse().unwrap()
}

fn check_option(name: &str, o: &OptionRepr<'_>, j: &Value) {
    assert_eq!(u64::from(o.value.option_type().0), u(j, "type"), "{name}");
    assert_eq!(u64::from(o.critical), u(j, "critical"), "{name}");
    let len = o.value.content_len();
    assert_eq!(len as u64, u(j, "length"), "{name}");
    assert_eq!((o.buffer_len() - 4 - len) as u64, u(j, "padding"), "{name}");
    match &o.value {
        OptionValue::ResponderValidator(v) => {
            assert_eq!(j["name"], "responder_validator");
            assert_eq!(hex::encode(v), j["validator"].as_str().unwrap(), "{name}");
        }
        OptionValue::LocatorList(l) => {
            assert_eq!(j["name"], "locator_list");
            assert_eq!(u64::from(l.generation), u(j, "generation"), "{name}");
            assert_eq!(l.locators.len() as u64, u(j, "num_locators"), "{name}");
            let n = l.locators.len();
            assert_eq!(
                shim6_proto::wire::LocatorList::inner_padding(n) as u64,
                u(j, "inner_padding"),
                "{name}"
            );
            let methods: Vec<u64> = l.locators.iter().map(|x| u64::from(x.method.0)).collect();
            let want: Vec<u64> = j["verification_methods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            assert_eq!(methods, want, "{name}");
            let addrs: Vec<Ipv6Addr> = l.locators.iter().map(|x| x.addr).collect();
            let want: Vec<Ipv6Addr> = j["locators"].as_array().unwrap().iter().map(addr).collect();
            assert_eq!(addrs, want, "{name}");
        }
        OptionValue::LocatorPreferences(p) => {
            assert_eq!(j["name"], "locator_preferences");
            assert_eq!(u64::from(p.generation), u(j, "generation"), "{name}");
            assert_eq!(u64::from(p.element_len), u(j, "element_length"), "{name}");
            let want = j["elements"].as_array().unwrap();
            assert_eq!(p.count(), want.len(), "{name}");
            for (e, w) in p.iter().zip(want) {
                assert_eq!(u64::from(e.flags.0), u(w, "flags"), "{name}");
                assert_eq!(e.priority.map(u64::from), w["priority"].as_u64(), "{name}");
                assert_eq!(e.weight.map(u64::from), w["weight"].as_u64(), "{name}");
            }
        }
        OptionValue::CgaParameters(d) => {
            assert_eq!(j["name"], "cga_parameter_data_structure");
            assert_eq!(
                hex::encode(d),
                j["cga_parameters"].as_str().unwrap(),
                "{name}"
            );
        }
        OptionValue::CgaSignature(d) => {
            assert_eq!(j["name"], "cga_signature");
            assert_eq!(hex::encode(d), j["signature"].as_str().unwrap(), "{name}");
        }
        OptionValue::UlidPair { sender, receiver } => {
            assert_eq!(j["name"], "ulid_pair");
            assert_eq!(*sender, addr(&j["sender_ulid"]), "{name}");
            assert_eq!(*receiver, addr(&j["receiver_ulid"]), "{name}");
        }
        OptionValue::ForkedInstanceId(v) => {
            assert_eq!(j["name"], "forked_instance_identifier");
            assert_eq!(u64::from(*v), u(j, "forked_instance_identifier"), "{name}");
        }
        OptionValue::KeepaliveTimeout(t) => {
            assert_eq!(j["name"], "keepalive_timeout");
            assert_eq!(u64::from(*t), u(j, "keepalive_timeout"), "{name}");
        }
        OptionValue::Unknown { .. } => panic!("{name}: the vectors hold only known options"),
    }
}

fn check_reports(name: &str, got: &shim6_proto::wire::ProbeReports<'_>, want: &Value) {
    let want = want.as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{name}");
    for (r, w) in got.iter().zip(want) {
        assert_eq!(r.source, addr(&w["source"]), "{name}");
        assert_eq!(r.destination, addr(&w["destination"]), "{name}");
        assert_eq!(u64::from(r.nonce), u(w, "nonce"), "{name}");
        assert_eq!(u64::from(r.data), u(w, "data"), "{name}");
    }
}

fn check_control(name: &str, view: &Shim6Packet<&[u8]>, c: &ControlRepr<'_>, f: &Value) {
    assert_eq!(u64::from(c.next_header), u(f, "next_header"), "{name}");
    assert_eq!(u64::from(view.hdr_ext_len()), u(f, "hdr_ext_len"), "{name}");
    assert_eq!(u(f, "p"), 0, "{name}");
    assert_eq!(u64::from(c.message.msg_type().0), u(f, "type"), "{name}");
    assert_eq!(
        c.message.msg_type().name(),
        f["type_name"].as_str(),
        "{name}"
    );
    assert_eq!(
        u64::from(view.type_specific()),
        u(f, "type_specific"),
        "{name}"
    );
    assert_eq!(u64::from(view.checksum()), u(f, "checksum"), "{name}");
    let tag = |k: &str| u(f, k);
    match &c.message {
        Message::I1 {
            context_tag,
            initiator_nonce,
        } => {
            assert_eq!(context_tag.get(), tag("context_tag"), "{name}");
            assert_eq!(
                u64::from(*initiator_nonce),
                u(f, "initiator_nonce"),
                "{name}"
            );
        }
        Message::R1 {
            initiator_nonce,
            responder_nonce,
        } => {
            assert_eq!(
                u64::from(*initiator_nonce),
                u(f, "initiator_nonce"),
                "{name}"
            );
            assert_eq!(
                u64::from(*responder_nonce),
                u(f, "responder_nonce"),
                "{name}"
            );
        }
        Message::I2 {
            context_tag,
            initiator_nonce,
            responder_nonce,
        } => {
            assert_eq!(context_tag.get(), tag("context_tag"), "{name}");
            assert_eq!(
                u64::from(*initiator_nonce),
                u(f, "initiator_nonce"),
                "{name}"
            );
            assert_eq!(
                u64::from(*responder_nonce),
                u(f, "responder_nonce"),
                "{name}"
            );
        }
        Message::R2 {
            context_tag,
            initiator_nonce,
        } => {
            assert_eq!(context_tag.get(), tag("context_tag"), "{name}");
            assert_eq!(
                u64::from(*initiator_nonce),
                u(f, "initiator_nonce"),
                "{name}"
            );
        }
        Message::R1bis {
            packet_context_tag,
            responder_nonce,
        } => {
            assert_eq!(
                packet_context_tag.get(),
                tag("packet_context_tag"),
                "{name}"
            );
            assert_eq!(
                u64::from(*responder_nonce),
                u(f, "responder_nonce"),
                "{name}"
            );
        }
        Message::I2bis {
            context_tag,
            initiator_nonce,
            responder_nonce,
            packet_context_tag,
        } => {
            assert_eq!(context_tag.get(), tag("context_tag"), "{name}");
            assert_eq!(
                u64::from(*initiator_nonce),
                u(f, "initiator_nonce"),
                "{name}"
            );
            assert_eq!(
                u64::from(*responder_nonce),
                u(f, "responder_nonce"),
                "{name}"
            );
            assert_eq!(
                packet_context_tag.get(),
                tag("packet_context_tag"),
                "{name}"
            );
        }
        Message::UpdateRequest {
            context_tag,
            request_nonce,
        }
        | Message::UpdateAck {
            context_tag,
            request_nonce,
        } => {
            assert_eq!(context_tag.get(), tag("context_tag"), "{name}");
            assert_eq!(u64::from(*request_nonce), u(f, "request_nonce"), "{name}");
        }
        Message::Keepalive { context_tag } => {
            assert_eq!(context_tag.get(), tag("context_tag"), "{name}");
        }
        Message::Probe {
            context_tag,
            state,
            sent,
            received,
        } => {
            assert_eq!(context_tag.get(), tag("context_tag"), "{name}");
            assert_eq!(u64::from(state.0), u(f, "sta"), "{name}");
            assert_eq!(sent.len() as u64, u(f, "psent"), "{name}");
            assert_eq!(received.len() as u64, u(f, "precvd"), "{name}");
            check_reports(name, sent, &f["probes_sent"]);
            check_reports(name, received, &f["probes_received"]);
        }
        other => panic!("{name}: unexpected message {other:?}"),
    }
    let want = f["options"].as_array().unwrap();
    let got: Vec<OptionRepr<'_>> = c.options.iter().collect();
    assert_eq!(got.len(), want.len(), "{name}: option count");
    for (o, w) in got.iter().zip(want) {
        check_option(name, o, w);
    }
}

//= https://www.rfc-editor.org/rfc/rfc5533#section-5
//= type=test
#[test]
fn every_vector_parses_to_its_fields_and_reemits() {
    let mut control = 0;
    let mut payload = 0;
    for v in vectors() {
        let body = shim6_bytes(&v);
        let f = &v.fields["shim6"];
        let view = Shim6Packet::new_checked(body).unwrap();
        assert_eq!(
            view.header(),
            &v.layer[..],
            "{}: header length from Hdr Ext Len",
            v.name
        );
        let repr = Shim6Repr::parse(&view).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        match &repr {
            Shim6Repr::Payload(p) => {
                payload += 1;
                assert_eq!(u(f, "p"), 1);
                assert_eq!(u64::from(p.next_header), u(f, "next_header"), "{}", v.name);
                assert_eq!(
                    u64::from(view.hdr_ext_len()),
                    u(f, "hdr_ext_len"),
                    "{}",
                    v.name
                );
                assert_eq!(p.context_tag.get(), u(f, "context_tag"), "{}", v.name);
                let upper = v.fields["upper_hex"].as_str().unwrap();
                assert_eq!(hex::encode(view.payload()), upper, "{}", v.name);
            }
            Shim6Repr::Control(c) => {
                control += 1;
                assert!(view.verify_checksum(), "{}", v.name);
                check_control(&v.name, &view, c, f);
            }
        }
        // Byte for byte from the representation.
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Shim6Packet::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(
            hex::encode(&out),
            hex::encode(&v.layer),
            "{}: re-emit",
            v.name
        );

        // And with the options re-encoded from their typed form.
        if let Shim6Repr::Control(c) = &repr {
            let opts: Vec<OptionRepr<'_>> = c.options.iter().collect();
            let typed = ControlRepr {
                options: Options::List(&opts),
                ..c.clone()
            };
            let mut out = vec![0u8; typed.buffer_len()];
            typed
                .emit(&mut Shim6Packet::new_unchecked(&mut out[..]))
                .unwrap();
            assert_eq!(
                hex::encode(&out),
                hex::encode(&v.layer),
                "{}: typed re-emit",
                v.name
            );
        }
    }
    assert_eq!((control, payload), (20, 2));
}

#[test]
fn every_truncation_errors() {
    for v in vectors() {
        for n in 0..v.layer.len() {
            let cut = &v.layer[..n];
            assert_eq!(
                Shim6Packet::new_checked(cut).unwrap_err(),
                Error::Truncated,
                "{} cut at {n}",
                v.name
            );
            // parse on an unchecked view checks lengths too.
            assert!(
                Shim6Repr::parse(&Shim6Packet::new_unchecked(cut)).is_err(),
                "{} at {n}",
                v.name
            );
        }
    }
}

//= https://www.rfc-editor.org/rfc/rfc5533#section-12.3
//= type=test
//# A shim control message has the Checksum field verified.
#[test]
fn every_corrupted_octet_fails_the_checksum() {
    for v in vectors() {
        let view = Shim6Packet::new_checked(&v.layer[..]).unwrap();
        if view.p_bit() {
            continue;
        }
        // From the checksum on: the octets before it change P, the length or the type.
        for i in 4..v.layer.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = v.layer.clone();
                bad[i] ^= bit;
                let r = ControlRepr::parse(&Shim6Packet::new_checked(&bad[..]).unwrap());
                assert_eq!(
                    r,
                    Err(Error::BadChecksum),
                    "{} octet {i} bit {bit:#x}",
                    v.name
                );
            }
        }
        // A type change also fails the checksum (checked before dispatch).
        let mut bad = v.layer.clone();
        bad[2] ^= 0x01;
        let r = ControlRepr::parse(&Shim6Packet::new_checked(&bad[..]).unwrap());
        assert_eq!(r, Err(Error::BadChecksum), "{} type", v.name);
    }
}

#[test]
fn payload_header_is_not_a_control_message() {
    for v in vectors() {
        let view = Shim6Packet::new_checked(&v.layer[..]).unwrap();
        if view.p_bit() {
            assert_eq!(
                ControlRepr::parse(&view),
                Err(Error::WrongKind),
                "{}",
                v.name
            );
        } else {
            assert_eq!(
                PayloadRepr::parse(&view),
                Err(Error::WrongKind),
                "{}",
                v.name
            );
        }
    }
}

//= https://www.rfc-editor.org/rfc/rfc5533#section-5.15
//= type=test
//# When C=1, the rest of the message MUST NOT be processed.
#[test]
fn setting_c_on_a_vector_option_follows_its_validity() {
    // Setting C on an option the message allows changes nothing; the
    // vectors' only options are all valid for their message, so each one
    // with C=1 still parses, and its C bit is reported.
    for v in vectors() {
        let view = Shim6Packet::new_checked(&v.layer[..]).unwrap();
        let Ok(Shim6Repr::Control(c)) = Shim6Repr::parse(&view) else {
            continue;
        };
        let opts: Vec<OptionRepr<'_>> = c
            .options
            .iter()
            .map(|o| OptionRepr {
                critical: true,
                ..o
            })
            .collect();
        if opts.is_empty() {
            continue;
        }
        let crit = ControlRepr {
            options: Options::List(&opts),
            ..c.clone()
        };
        let mut out = vec![0u8; crit.buffer_len()];
        crit.emit(&mut Shim6Packet::new_unchecked(&mut out[..]))
            .unwrap();
        let back = ControlRepr::parse(&Shim6Packet::new_checked(&out[..]).unwrap()).unwrap();
        assert!(back.options.iter().all(|o| o.critical), "{}", v.name);
        assert_eq!(back, crit);
    }
}

#[test]
fn unknown_critical_option_appended_to_each_vector() {
    for v in vectors() {
        let view = Shim6Packet::new_checked(&v.layer[..]).unwrap();
        let Ok(Shim6Repr::Control(c)) = Shim6Repr::parse(&view) else {
            continue;
        };
        let mut opts: Vec<OptionRepr<'_>> = c.options.iter().collect();
        opts.push(OptionRepr {
            critical: true,
            value: OptionValue::Unknown {
                option_type: shim6_proto::wire::OptionType(0x1234),
                data: &[0xaa; 5],
            },
        });
        let msg = ControlRepr {
            options: Options::List(&opts),
            ..c.clone()
        };
        let mut out = vec![0u8; msg.buffer_len()];
        msg.emit(&mut Shim6Packet::new_unchecked(&mut out[..]))
            .unwrap();
        // The unknown option starts where the vector's message ended.
        let pointer = u16::try_from(v.layer.len()).unwrap();
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&out[..]).unwrap()),
            Err(Error::UnrecognizedCriticalOption { pointer }),
            "{}",
            v.name
        );
        // With C=0 it is ignored: the message parses and keeps it as Unknown.
        opts.last_mut().unwrap().critical = false;
        let msg = ControlRepr {
            options: Options::List(&opts),
            ..c.clone()
        };
        let mut out = vec![0u8; msg.buffer_len()];
        msg.emit(&mut Shim6Packet::new_unchecked(&mut out[..]))
            .unwrap();
        let back = ControlRepr::parse(&Shim6Packet::new_checked(&out[..]).unwrap()).unwrap();
        assert_eq!(back, msg, "{}", v.name);
    }
}
