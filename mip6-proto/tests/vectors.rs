//! The independent vectors: every Scapy-built packet parses to its listed
//! fields and re-emits to the same bytes; every UMIP return-routability
//! vector reproduces exactly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::net::Ipv6Addr;

use mip6_proto::crypto;
use mip6_proto::wire::IpProtocol;
use mip6_proto::wire::hao::HaoHeaderRepr;
use mip6_proto::wire::icmpv6::MipIcmpRepr;
use mip6_proto::wire::ipv6::{self, ExtChain, Ipv6Packet, Ipv6Repr};
use mip6_proto::wire::mh::{BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options, RawOptions};
use mip6_proto::wire::rh2::Rh2Repr;
use serde_json::Value;

const SCAPY: &str = include_str!("vectors/scapy-public.jsonl");
const UMIP: &str = include_str!("vectors/umip-rr.json");

fn vectors() -> Vec<Value> {
    SCAPY
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn addr(v: &Value) -> Ipv6Addr {
    v.as_str().unwrap().parse().unwrap()
}

fn hexv(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// Checks one parsed option against the vector's JSON object.
fn check_option(o: &MobilityOption<'_>, j: &Value, name: &str) {
    assert_eq!(u64::from(o.option_type().0), u(&j["type"]), "{name}");
    assert_eq!(o.data_len() as u64, u(&j["length"]), "{name}");
    match *o {
        MobilityOption::BindingRefreshAdvice { refresh_interval } => {
            assert_eq!(u64::from(refresh_interval), u(&j["refresh_interval"]))
        }
        MobilityOption::AlternateCareOfAddress(a) => assert_eq!(a, addr(&j["address"])),
        MobilityOption::NonceIndices { home, care_of } => {
            assert_eq!(u64::from(home), u(&j["home_nonce_index"]));
            assert_eq!(u64::from(care_of), u(&j["care_of_nonce_index"]));
        }
        MobilityOption::BindingAuthorizationData(a) => assert_eq!(a, hexv(&j["authenticator"])),
        MobilityOption::MobileNetworkPrefix { prefix_len, prefix } => {
            assert_eq!(u64::from(prefix_len), u(&j["prefix_length"]));
            assert_eq!(prefix, addr(&j["prefix"]));
        }
        MobilityOption::LinkLayerAddress { option_code, lla } => {
            assert_eq!(u64::from(option_code), u(&j["option_code"]));
            assert_eq!(lla, hexv(&j["lla"]));
        }
        MobilityOption::MobileNodeIdentifier {
            subtype,
            identifier,
        } => {
            assert_eq!(u64::from(subtype), u(&j["subtype"]));
            assert_eq!(identifier, j["identifier"].as_str().unwrap().as_bytes());
        }
        MobilityOption::MobilityMessageAuthentication { subtype, spi, data } => {
            assert_eq!(u64::from(subtype), u(&j["subtype"]));
            assert_eq!(u64::from(spi), u(&j["spi"]));
            assert_eq!(data, hexv(&j["authenticator"]));
        }
        MobilityOption::ReplayProtection { timestamp } => assert_eq!(timestamp, u(&j["timestamp"])),
        MobilityOption::CgaParametersRequest | MobilityOption::CareOfTestInit => {}
        MobilityOption::CgaParameters(d) => assert_eq!(d, hexv(&j["data"])),
        MobilityOption::Signature(d) => assert_eq!(d, hexv(&j["signature"])),
        MobilityOption::PermanentHomeKeygenToken(t) => assert_eq!(t.to_vec(), hexv(&j["token"])),
        MobilityOption::CareOfTest(t) => assert_eq!(t.to_vec(), hexv(&j["keygen_token"])),
        ref other => panic!("{name}: unexpected option {other:?}"),
    }
}

fn check_mh(repr: &MhRepr<'_>, mh: &Value, name: &str) {
    assert_eq!(
        u64::from(repr.payload_proto),
        u(&mh["payload_proto"]),
        "{name}"
    );
    assert_eq!(
        u64::from(repr.message.mh_type().0),
        u(&mh["type"]),
        "{name}"
    );
    assert_eq!(
        repr.message.mh_type().name(),
        mh["type_name"].as_str(),
        "{name}"
    );
    match repr.message {
        Message::BindingRefreshRequest => {}
        Message::HomeTestInit { cookie } | Message::CareOfTestInit { cookie } => {
            assert_eq!(cookie.to_vec(), hexv(&mh["init_cookie"]), "{name}")
        }
        Message::HomeTest {
            nonce_index,
            cookie,
            token,
        }
        | Message::CareOfTest {
            nonce_index,
            cookie,
            token,
        } => {
            assert_eq!(u64::from(nonce_index), u(&mh["nonce_index"]), "{name}");
            assert_eq!(cookie.to_vec(), hexv(&mh["init_cookie"]), "{name}");
            assert_eq!(token.to_vec(), hexv(&mh["keygen_token"]), "{name}");
        }
        Message::BindingUpdate {
            sequence,
            flags,
            lifetime,
        } => {
            assert_eq!(u64::from(sequence), u(&mh["sequence"]), "{name}");
            assert_eq!(u64::from(lifetime), u(&mh["lifetime"]), "{name}");
            assert_eq!(
                u64::from(lifetime) * 4,
                u(&mh["lifetime_seconds"]),
                "{name}"
            );
            let f = &mh["flags"];
            for (k, bit) in [
                ("A", BuFlags::A),
                ("H", BuFlags::H),
                ("L", BuFlags::L),
                ("K", BuFlags::K),
                ("M", BuFlags::M),
                ("R", BuFlags::R),
                ("P", BuFlags::P),
            ] {
                assert_eq!(u64::from(flags.contains(bit)), u(&f[k]), "{name} flag {k}");
            }
        }
        Message::BindingAck {
            status,
            flags,
            sequence,
            lifetime,
        } => {
            assert_eq!(u64::from(status.0), u(&mh["status"]), "{name}");
            assert_eq!(u64::from(sequence), u(&mh["sequence"]), "{name}");
            assert_eq!(u64::from(lifetime), u(&mh["lifetime"]), "{name}");
            let f = &mh["flags"];
            assert_eq!(u64::from(flags.0 >> 7 & 1), u(&f["K"]), "{name}");
            assert_eq!(u64::from(flags.0 >> 6 & 1), u(&f["R"]), "{name}");
            assert_eq!(u64::from(flags.0 >> 5 & 1), u(&f["P"]), "{name}");
        }
        Message::BindingError {
            status,
            home_address,
        } => {
            assert_eq!(u64::from(status.0), u(&mh["status"]), "{name}");
            assert_eq!(home_address, addr(&mh["home_address"]), "{name}");
        }
        ref m => panic!("{name}: unexpected message {m:?}"),
    }
    let opts: Vec<_> = repr.options.iter().map(|o| o.unwrap()).collect();
    let want = mh["options"].as_array().unwrap();
    assert_eq!(opts.len(), want.len(), "{name}");
    for (o, j) in opts.iter().zip(want) {
        check_option(o, j, name);
    }
    // The raw walk, padding included, matches `options_wire`.
    if let Options::Wire(area) = repr.options {
        let raw: Vec<(u64, Option<u64>)> = RawOptions::new(area)
            .map(|r| r.unwrap())
            .map(|r| (u64::from(r.option_type.0), r.data.map(|d| d.len() as u64)))
            .collect();
        let want: Vec<(u64, Option<u64>)> = mh["options_wire"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (u(&p[0]), p[1].as_u64()))
            .collect();
        assert_eq!(raw, want, "{name}");
    } else {
        panic!("{name}: parsed options are not the wire form");
    }
}

#[test]
fn scapy_vectors_parse_and_reemit() {
    let vs = vectors();
    assert_eq!(vs.len(), 199);
    let (mut n_mh, mut n_hao, mut n_rh2, mut n_icmp) = (0, 0, 0, 0);
    for v in &vs {
        let name = v["name"].as_str().unwrap();
        let bytes = hexv(&v["hex"]);
        let f = &v["fields"];
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        let ip = Ipv6Repr::parse(&p).unwrap();
        assert_eq!(ip.src, addr(&f["ipv6"]["src"]), "{name}");
        assert_eq!(ip.dst, addr(&f["ipv6"]["dst"]), "{name}");
        assert_eq!(
            u64::from(ip.hop_limit),
            u(&f["ipv6"]["hop_limit"]),
            "{name}"
        );
        assert_eq!(
            u64::from(ip.traffic_class),
            u(&f["ipv6"]["traffic_class"]),
            "{name}"
        );
        assert_eq!(
            u64::from(ip.flow_label),
            u(&f["ipv6"]["flow_label"]),
            "{name}"
        );
        let mut out = vec![0u8; 40];
        ip.emit(&mut out).unwrap();
        assert_eq!(out, bytes[..40], "{name}: fixed header re-emit");

        // Extension headers.
        let mut chain = ExtChain::new(&bytes, ipv6::DEFAULT_MAX_EXT_HEADERS);
        let exts: Vec<_> = chain.by_ref().map(|h| h.unwrap()).collect();
        let want_ext = f["ext"].as_array().unwrap();
        assert_eq!(exts.len(), want_ext.len(), "{name}");
        let mut home = None;
        let mut final_dst = ip.dst;
        for (h, j) in exts.iter().zip(want_ext) {
            match h.kind {
                IpProtocol::DEST_OPTIONS => {
                    assert_eq!(j["header"], "destination_options");
                    let r = HaoHeaderRepr::parse(h.bytes).unwrap();
                    assert_eq!(r.home_address, addr(&j["home_address_option"]), "{name}");
                    let mut o = vec![0u8; r.buffer_len()];
                    r.emit(&mut o).unwrap();
                    assert_eq!(o, h.bytes, "{name}: HAO header re-emit");
                    home = Some(r.home_address);
                    n_hao += 1;
                }
                IpProtocol::ROUTING => {
                    assert_eq!(j["header"], "routing");
                    let r = Rh2Repr::parse(h.bytes).unwrap();
                    assert_eq!(u64::from(r.segments_left), u(&j["segments_left"]));
                    assert_eq!(u64::from(r.reserved), u(&j["reserved"]));
                    assert_eq!(r.home_address, addr(&j["home_address"]), "{name}");
                    let mut o = vec![0u8; r.buffer_len()];
                    r.emit(&mut o).unwrap();
                    assert_eq!(o, h.bytes, "{name}: RH2 re-emit");
                    // RFC 8200 §8.1: with a routing header the pseudo-header
                    // carries the final destination.
                    if r.segments_left > 0 {
                        final_dst = r.home_address;
                    }
                    n_rh2 += 1;
                }
                k => panic!("{name}: unexpected header {k:?}"),
            }
        }
        let (upper, off) = chain.upper_layer();
        let body = &bytes[off..];
        if let Some(mh) = f.get("mh") {
            assert_eq!(upper, IpProtocol::MOBILITY, "{name}");
            assert_eq!(
                hex::encode(body),
                v["layer_hex"].as_str().unwrap(),
                "{name}"
            );
            let pkt = MhPacket::new_checked(body).unwrap();
            assert_eq!(u64::from(pkt.header_len()), u(&mh["header_len"]), "{name}");
            assert_eq!(pkt.total_len() as u64, u(&mh["length_bytes"]), "{name}");
            assert_eq!(u64::from(pkt.checksum()), u(&mh["checksum"]), "{name}");
            // RFC 6275 §6.1.1: the home address stands in for the source.
            let src = home.unwrap_or(ip.src);
            let dst = final_dst;
            let repr = MhRepr::parse(&pkt, &src, &dst).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            check_mh(&repr, mh, name);
            let mut o = vec![0u8; repr.buffer_len()];
            repr.emit(&mut MhPacket::new_unchecked(&mut o[..]), &src, &dst)
                .unwrap();
            assert_eq!(o, body, "{name}: MH re-emit");
            // Every truncation of the message is an error.
            for n in 0..body.len() {
                let r =
                    MhPacket::new_checked(&body[..n]).and_then(|p| MhRepr::parse_unverified(&p));
                assert!(r.is_err(), "{name}: truncated to {n}");
            }
            // With the care-of address as source the checksum fails when they differ.
            if home.is_some() {
                assert!(MhRepr::parse(&pkt, &ip.src, &dst).is_err(), "{name}");
            }
            n_mh += 1;
        } else if let Some(ic) = f.get("icmpv6") {
            assert_eq!(upper, IpProtocol::ICMPV6, "{name}");
            let t = u(&ic["type"]);
            if (144..=147).contains(&t) {
                let r = MipIcmpRepr::parse(body, &ip.src, &final_dst).unwrap();
                match r {
                    MipIcmpRepr::DhaadRequest { identifier, r } => {
                        assert_eq!(u64::from(identifier), u(&ic["identifier"]));
                        assert_eq!(u64::from(r), u(&ic["flag_r"]));
                    }
                    MipIcmpRepr::DhaadReply {
                        identifier,
                        r,
                        addresses,
                    } => {
                        assert_eq!(u64::from(identifier), u(&ic["identifier"]));
                        assert_eq!(u64::from(r), u(&ic["flag_r"]));
                        let want: Vec<Ipv6Addr> = ic["home_agent_addresses"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(addr)
                            .collect();
                        assert_eq!(addresses.iter().collect::<Vec<_>>(), want, "{name}");
                    }
                    MipIcmpRepr::MobilePrefixSolicitation { identifier } => {
                        assert_eq!(u64::from(identifier), u(&ic["identifier"]));
                    }
                    MipIcmpRepr::MobilePrefixAdvertisement {
                        identifier,
                        m,
                        o,
                        prefixes,
                    } => {
                        assert_eq!(u64::from(identifier), u(&ic["identifier"]));
                        assert_eq!(u64::from(m), u(&ic["flag_m"]));
                        assert_eq!(u64::from(o), u(&ic["flag_o"]));
                        let ps: Vec<_> = prefixes.iter().collect();
                        let want = ic["options"].as_array().unwrap();
                        assert_eq!(ps.len(), want.len());
                        for (p, j) in ps.iter().zip(want) {
                            assert_eq!(u64::from(p.prefix_len), u(&j["prefix_length"]));
                            assert_eq!(u64::from(p.l), u(&j["flag_l"]));
                            assert_eq!(u64::from(p.a), u(&j["flag_a"]));
                            assert_eq!(u64::from(p.r), u(&j["flag_r"]));
                            assert_eq!(u64::from(p.valid_lifetime), u(&j["valid_lifetime"]));
                            assert_eq!(
                                u64::from(p.preferred_lifetime),
                                u(&j["preferred_lifetime"])
                            );
                            assert_eq!(p.prefix, addr(&j["prefix"]));
                        }
                    }
                    other => panic!("{name}: {other:?}"),
                }
                // Every truncation is an error (length or checksum).
                for n in 0..body.len() {
                    assert!(
                        MipIcmpRepr::parse(&body[..n], &ip.src, &final_dst).is_err(),
                        "{name}: {n}"
                    );
                }
                let mut o = vec![0u8; r.buffer_len()];
                r.emit(&mut o, &ip.src, &final_dst).unwrap();
                assert_eq!(o, body, "{name}: ICMPv6 re-emit");
                n_icmp += 1;
            }
        }
    }
    // Every kind of vector was exercised.
    assert_eq!(n_mh, 164);
    assert_eq!((n_hao > 0, n_rh2 > 0), (true, true));
    assert_eq!(n_icmp, 20);
}

#[test]
fn umip_rr_vectors_reproduce() {
    let doc: Value = serde_json::from_str(UMIP).unwrap();
    let vs = doc["vectors"].as_array().unwrap();
    assert_eq!(vs.len(), 2);
    for v in vs {
        let i = &v["inputs"];
        let o = &v["outputs"];
        let kcn: [u8; 20] = hexv(&i["kcn"]).try_into().unwrap();
        let hn: [u8; 8] = hexv(&i["home_nonce"]).try_into().unwrap();
        let cn_: [u8; 8] = hexv(&i["careof_nonce"]).try_into().unwrap();
        let hoa = addr(&i["home_address"]);
        let coa = addr(&i["careof_address"]);
        let cn = addr(&i["correspondent"]);
        let ht = crypto::home_keygen_token(&kcn, &hoa, &hn);
        let ct = crypto::care_of_keygen_token(&kcn, &coa, &cn_);
        assert_eq!(ht.to_vec(), hexv(&o["home_keygen_token"]));
        assert_eq!(ct.to_vec(), hexv(&o["careof_keygen_token"]));
        let kbm = crypto::kbm(&ht, Some(&ct));
        assert_eq!(kbm.to_vec(), hexv(&o["kbm"]));
        assert_eq!(kbm.to_vec(), hexv(&o["kbm_mn_side"]));
        assert_eq!(
            crypto::kbm(&ht, None).to_vec(),
            hexv(&o["kbm_dereg_home_only"])
        );

        // Build the BU as UMIP does: Nonce Indices then Binding Authorization Data.
        let flags = u16::from_str_radix(i["bu_flags_hex"].as_str().unwrap(), 16).unwrap();
        let opts = [
            MobilityOption::NonceIndices {
                home: u(&i["home_nonce_index"]) as u16,
                care_of: u(&i["careof_nonce_index"]) as u16,
            },
            MobilityOption::BindingAuthorizationData(&[0; 12]),
        ];
        let bu = MhRepr {
            payload_proto: 59,
            message: Message::BindingUpdate {
                sequence: u(&i["bu_sequence"]) as u16,
                flags: BuFlags(flags),
                lifetime: (u(&i["bu_lifetime_seconds"]) >> 2) as u16,
            },
            options: Options::List(&opts),
        };
        let mut buf = vec![0u8; bu.buffer_len()];
        bu.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut buf[..]))
            .unwrap();
        assert!(crypto::sign_mh(&mut buf, &kbm, &coa, &cn));
        assert_eq!(buf, hexv(&o["bu_message"]));
        let auth = crypto::authenticator(&kbm, &coa, &cn, &buf[..buf.len() - 12]).unwrap();
        assert_eq!(auth.to_vec(), hexv(&o["authenticator"]));
        assert!(crypto::verify_mh(&buf, &kbm, &coa, &cn));
        // The checksum does not enter the authenticator.
        MhPacket::new_unchecked(&mut buf[..]).fill_checksum(&hoa, &cn);
        assert!(crypto::verify_mh(&buf, &kbm, &coa, &cn));
        // Any other flipped bit breaks it.
        buf[7] ^= 1;
        assert!(!crypto::verify_mh(&buf, &kbm, &coa, &cn));
    }
}
