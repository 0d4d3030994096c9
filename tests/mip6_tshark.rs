//! tshark (Wireshark's dissectors, installed by `.ci/run`) reads a capture of
//! one emitted instance of every Mobile IPv6 message and option and finds
//! every field with our values, with no malformed or expert-error marker.
//! tshark 4.0 does not verify the Mobility Header checksum: that has its own
//! test (`mip6-proto/tests/props.rs`, `mh_checksum_matches_a_hand_computation`,
//! and the vector tests). Its known faults are listed in the project's
//! vector README; where it disagrees with the RFC, the RFC wins.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::vec_init_then_push
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use mip6_proto::transform;
use mip6_proto::wire::IpProtocol;
use mip6_proto::wire::icmpv6::{AddrList, MipIcmpRepr, PrefixInfo, PrefixList};
use mip6_proto::wire::ipv6::Ipv6Repr;
use mip6_proto::wire::mh::{BaFlags, BaStatus, BeStatus, BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};
use mobsim::{pcap, tshark};
use serde_json::Value;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const SRC: &str = "2001:db8:1::100";
const DST: &str = "2001:db8:3::300";

fn ip_packet(nh: u8, body: &[u8]) -> Vec<u8> {
    let ip = Ipv6Repr {
        src: a(SRC),
        dst: a(DST),
        next_header: IpProtocol(nh),
        payload_len: body.len() as u16,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut p = vec![0u8; 40];
    ip.emit(&mut p).unwrap();
    p.extend_from_slice(body);
    p
}

fn mh_packet(repr: &MhRepr<'_>) -> Vec<u8> {
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut MhPacket::new_unchecked(&mut b[..]), &a(SRC), &a(DST))
        .unwrap();
    ip_packet(135, &b)
}

fn bu(opts: &[MobilityOption<'_>]) -> Vec<u8> {
    mh_packet(&MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: 4242,
            flags: BuFlags::A | BuFlags::H | BuFlags::R,
            lifetime: 0x0105,
        },
        options: Options::List(opts),
    })
}

/// (packet, [(tshark field, expected value)])
/// Expected (tshark field, value) pairs; an empty value only asks for presence.
type Fields = Vec<(&'static str, String)>;

fn cases() -> Vec<(Vec<u8>, Fields)> {
    let cookie = [1, 2, 3, 4, 5, 6, 7, 8];
    let token = [9, 10, 11, 12, 13, 14, 15, 16];
    let mut v: Vec<(Vec<u8>, Fields)> = Vec::new();
    v.push((
        mh_packet(&MhRepr::new(Message::BindingRefreshRequest)),
        vec![("mip6.mhtype", "0".into())],
    ));
    v.push((
        mh_packet(&MhRepr::new(Message::HomeTestInit { cookie })),
        vec![
            ("mip6.mhtype", "1".into()),
            ("mip6.hoti.cookie", "0x0102030405060708".into()),
        ],
    ));
    v.push((
        mh_packet(&MhRepr::new(Message::CareOfTestInit { cookie })),
        vec![
            ("mip6.mhtype", "2".into()),
            ("mip6.coti.cookie", "0x0102030405060708".into()),
        ],
    ));
    v.push((
        mh_packet(&MhRepr::new(Message::HomeTest {
            nonce_index: 77,
            cookie,
            token,
        })),
        vec![
            ("mip6.hot.nindex", "77".into()),
            ("mip6.hot.cookie", "0x0102030405060708".into()),
            ("mip6.hot.token", "0x090a0b0c0d0e0f10".into()),
        ],
    ));
    v.push((
        mh_packet(&MhRepr::new(Message::CareOfTest {
            nonce_index: 78,
            cookie,
            token,
        })),
        vec![
            ("mip6.cot.nindex", "78".into()),
            ("mip6.cot.cookie", "0x0102030405060708".into()),
        ],
    ));
    v.push((
        bu(&[]),
        vec![
            ("mip6.bu.seqnr", "4242".into()),
            ("mip6.bu.a_flag", "1".into()),
            ("mip6.bu.h_flag", "1".into()),
            ("mip6.bu.l_flag", "0".into()),
            ("mip6.nemo.bu.r_flag", "1".into()),
            ("mip6.bu.lifetime", "261".into()),
        ],
    ));
    v.push((
        mh_packet(&MhRepr::new(Message::BindingAck {
            status: BaStatus::MCOA_PROHIBITED,
            flags: BaFlags::K | BaFlags::R,
            sequence: 4242,
            lifetime: 9,
        })),
        vec![
            ("mip6.ba.status", "166".into()),
            ("mip6.ba.k_flag", "1".into()),
            ("mip6.nemo.ba.r_flag", "1".into()),
            ("mip6.ba.seqnr", "4242".into()),
            ("mip6.ba.lifetime", "9".into()),
        ],
    ));
    v.push((
        mh_packet(&MhRepr::new(Message::BindingError {
            status: BeStatus::UNRECOGNIZED_MH_TYPE,
            home_address: a("2001:db8:1::100"),
        })),
        vec![
            ("mip6.be.status", "2".into()),
            ("mip6.be.haddr", "2001:db8:1::100".into()),
        ],
    ));
    // Options, one Binding Update each.
    let sig = [0x5a; 32];
    let cga = [0xc6; 24];
    let opt_cases: Vec<(&str, MobilityOption<'_>, Fields)> = vec![
        (
            "bra",
            MobilityOption::BindingRefreshAdvice {
                refresh_interval: 300,
            },
            vec![("mip6.bra.interval", "300".into())],
        ),
        (
            "acoa",
            MobilityOption::AlternateCareOfAddress(a("2001:db8:2::200")),
            vec![("mip6.acoa.acoa", "2001:db8:2::200".into())],
        ),
        (
            "ni",
            MobilityOption::NonceIndices {
                home: 17,
                care_of: 18,
            },
            vec![("mip6.ni.hni", "17".into()), ("mip6.ni.cni", "18".into())],
        ),
        (
            "bad_auth",
            MobilityOption::BindingAuthorizationData(&[0xab; 12]),
            vec![(
                "mip6.bad.auth",
                "ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab".into(),
            )],
        ),
        (
            "mnp",
            MobilityOption::MobileNetworkPrefix {
                prefix_len: 48,
                prefix: a("2001:db8:77::"),
            },
            vec![
                ("mip6.nemo.mnp.pfl", "48".into()),
                ("mip6.nemo.mnp.mnp", "2001:db8:77::".into()),
            ],
        ),
        (
            "mhlla",
            MobilityOption::LinkLayerAddress {
                option_code: 2,
                lla: &[0, 0x11, 0x22, 0x33, 0x44, 0x55],
            },
            vec![("mip6.lla.optcode", "2".into())],
        ),
        (
            "mnid",
            MobilityOption::MobileNodeIdentifier {
                subtype: 1,
                identifier: b"mn@example.net",
            },
            vec![
                ("mip6.mnid.subtype", "1".into()),
                ("mip6.mnid.identifier", "mn@example.net".into()),
            ],
        ),
        (
            "auth",
            MobilityOption::MobilityMessageAuthentication {
                subtype: 1,
                spi: 0x01020304,
                data: &[0xee; 12],
            },
            vec![
                ("mip6.auth.subtype", "1".into()),
                ("mip6.auth.mobility_spi", "16909060".into()),
            ],
        ),
        (
            "mseg_id",
            MobilityOption::ReplayProtection {
                timestamp: 0x0102_0304_0506_0708,
            },
            vec![("mip6.options.mseg_id", "".into())],
        ),
        (
            "cgapr",
            MobilityOption::CgaParametersRequest,
            vec![("mip6.options.cgapr", "".into())],
        ),
        (
            "cgar",
            MobilityOption::CgaParameters(&cga),
            vec![("mip6.options.cgar", "".into())],
        ),
        (
            "sign",
            MobilityOption::Signature(&sig),
            vec![("mip6.options.sign", "".into())],
        ),
        (
            "phkt",
            MobilityOption::PermanentHomeKeygenToken([1; 8]),
            vec![("mip6.options.phkt", "".into())],
        ),
        (
            "coti",
            MobilityOption::CareOfTestInit,
            vec![("mip6.options.coti", "".into())],
        ),
        (
            "cot",
            MobilityOption::CareOfTest([2; 8]),
            vec![("mip6.options.cot", "".into())],
        ),
        (
            "em",
            MobilityOption::Experimental(&[1, 2, 3, 4]),
            vec![("mip6.options.em", "".into())],
        ),
        (
            "ipv4ha",
            MobilityOption::Ipv4HomeAddress {
                prefix_len: 24,
                p: true,
                address: Ipv4Addr::new(192, 0, 2, 7),
            },
            vec![
                ("mip6.ipv4ha.preflen", "24".into()),
                ("mip6.ipv4ha.p_flag", "1".into()),
                ("mip6.ipv4ha.ha", "192.0.2.7".into()),
            ],
        ),
        (
            "ipv4aa",
            MobilityOption::Ipv4AddressAck {
                status: 129,
                prefix_len: 24,
                address: Ipv4Addr::new(192, 0, 2, 8),
            },
            vec![("mip6.ipv4aa.sts", "129".into())],
        ),
        (
            "natd",
            MobilityOption::NatDetection {
                f: true,
                refresh_time: 110,
            },
            vec![
                ("mip6.natd.f_flag", "1".into()),
                ("mip6.natd.refresh_t", "110".into()),
            ],
        ),
        (
            "ipv4coa",
            MobilityOption::Ipv4CareOfAddress(Ipv4Addr::new(198, 51, 100, 9)),
            vec![("mip6.ipv4coa.addr", "198.51.100.9".into())],
        ),
        (
            "bi",
            MobilityOption::BindingIdentifier {
                bid: 5,
                status: 0,
                h: true,
                care_of: None,
            },
            vec![("mip6.bi.bid", "5".into()), ("mip6.bi.h_flag", "1".into())],
        ),
        (
            "bi",
            MobilityOption::BindingIdentifier {
                bid: 6,
                status: 0,
                h: false,
                care_of: Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10))),
            },
            vec![
                ("mip6.bi.bid", "6".into()),
                ("mip6.bi.coa_ipv4", "198.51.100.10".into()),
            ],
        ),
        (
            "bi",
            MobilityOption::BindingIdentifier {
                bid: 7,
                status: 0,
                h: false,
                care_of: Some(IpAddr::V6(a("2001:db8:2::207"))),
            },
            vec![
                ("mip6.bi.bid", "7".into()),
                ("mip6.bi.coa_ipv6", "2001:db8:2::207".into()),
            ],
        ),
    ];
    for (name, o, mut f) in opt_cases {
        // tshark shows each option's whole TLV under mip6.options.<name>:
        // type, length and boundaries must match what we emitted.
        let mut tlv = vec![0u8; o.buffer_len()];
        o.emit(&mut tlv).unwrap();
        let colon = tlv
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        f.push((
            Box::leak(format!("mip6.options.{name}").into_boxed_str()),
            colon,
        ));
        v.push((bu(&[o]), f));
    }
    // RFC 5096's experimental message.
    v.push((
        mh_packet(&MhRepr::new(Message::Experimental(&[0x42; 10]))),
        vec![("mip6.mhtype", "11".into())],
    ));
    // Home Address option (path 3) and type 2 routing header (path 7), made by the transforms.
    let mut p = bu(&[]);
    let n = p.len();
    p.resize(n + 24, 0);
    let n = transform::mn_output_ro(&mut p, n, a("2001:db8:2::200")).unwrap();
    p.truncate(n);
    v.push((p, vec![("ipv6.opt.mipv6.home_address", SRC.into())]));
    let mut p = ip_packet(59, &[]);
    p.resize(64, 0);
    let n = transform::cn_output_ro(&mut p, 40, a("2001:db8:2::200")).unwrap();
    p.truncate(n);
    v.push((p, vec![("ipv6.routing.mipv6.home_address", DST.into())]));
    // ICMPv6 144-147.
    let has = [a("2001:db8:1::1"), a("2001:db8:1::2")];
    let pfx = [PrefixInfo {
        prefix_len: 64,
        l: true,
        a: true,
        r: false,
        valid_lifetime: 86400,
        preferred_lifetime: 14400,
        prefix: a("2001:db8:1::"),
    }];
    // tshark 4.0 does not know RFC 3963's R flag of the DHAAD messages and
    // shows it inside "reserved" (80:00); the RFC wins, the octets are right.
    let good = ("icmpv6.checksum.status", "1".to_string());
    let icmp: Vec<(MipIcmpRepr<'_>, Fields)> = vec![
        (
            MipIcmpRepr::DhaadRequest {
                identifier: 501,
                r: true,
            },
            vec![
                ("icmpv6.type", "144".into()),
                ("icmpv6.mip6.identifier", "501".into()),
                ("icmpv6.reserved", "80:00".into()),
            ],
        ),
        (
            MipIcmpRepr::DhaadReply {
                identifier: 502,
                r: true,
                addresses: AddrList::List(&has),
            },
            vec![
                ("icmpv6.type", "145".into()),
                ("icmpv6.mip6.identifier", "502".into()),
                ("icmpv6.mip6.home_agent_address", "2001:db8:1::2".into()),
            ],
        ),
        (
            MipIcmpRepr::MobilePrefixSolicitation { identifier: 503 },
            vec![
                ("icmpv6.type", "146".into()),
                ("icmpv6.mip6.identifier", "503".into()),
            ],
        ),
        (
            MipIcmpRepr::MobilePrefixAdvertisement {
                identifier: 504,
                m: true,
                o: false,
                prefixes: PrefixList::List(&pfx),
            },
            vec![
                ("icmpv6.type", "147".into()),
                ("icmpv6.mip6.identifier", "504".into()),
                ("icmpv6.mip6.flag.m", "1".into()),
                ("icmpv6.mip6.flag.o", "0".into()),
                ("icmpv6.opt.prefix.length", "64".into()),
                ("icmpv6.opt.prefix.flag.l", "1".into()),
                ("icmpv6.opt.prefix.flag.a", "1".into()),
                ("icmpv6.opt.prefix.valid_lifetime", "86400".into()),
                ("icmpv6.opt.prefix.preferred_lifetime", "14400".into()),
                ("icmpv6.opt.prefix", "2001:db8:1::".into()),
            ],
        ),
    ];
    for (m, mut f) in icmp {
        let mut b = vec![0u8; m.buffer_len()];
        m.emit(&mut b, &a(SRC), &a(DST)).unwrap();
        f.push(good.clone());
        v.push((ip_packet(58, &b), f));
    }
    v
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    tshark::find_all(v, key)
        .into_iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn tshark_finds_every_message_and_option() {
    let cs = cases();
    let pcap = pcap::pcapng_one_interface(
        "mip6",
        cs.iter()
            .enumerate()
            .map(|(i, (p, _))| (Duration::from_millis(i as u64), &p[..])),
    );
    let packets =
        tshark::dissect(&pcap, &[]).expect("tshark runs (install it: apt-get install tshark)");
    assert_eq!(packets.len(), cs.len());
    let mut errs = Vec::new();
    for (i, ((pkt, fields), layers)) in cs.iter().zip(&packets).enumerate() {
        let probs = tshark::problems(layers);
        if !probs.is_empty() {
            errs.push(format!("packet {i}: {probs:?}"));
        }
        // tshark reads our fixed header.
        let src = Ipv6Addr::from(<[u8; 16]>::try_from(&pkt[8..24]).unwrap());
        assert_eq!(strings(layers, "ipv6.src"), [src.to_string()], "packet {i}");
        assert!(!fields.is_empty(), "packet {i} checks nothing");
        for (k, want) in fields {
            let got = strings(layers, k);
            let ok = if want.is_empty() {
                !tshark::find_all(layers, k).is_empty()
            } else {
                got.contains(want)
            };
            if !ok {
                errs.push(format!(
                    "packet {i} ({} octets): {k} = {got:?}, want {want:?}",
                    pkt.len()
                ));
            }
        }
        if pkt[6] == 135 || pkt[6] == 60 {
            // Our header length and type as tshark reads them.
            let mh_at = if pkt[6] == 60 { 64 } else { 40 };
            assert_eq!(
                strings(layers, "mip6.hlen"),
                [pkt[mh_at + 1].to_string()],
                "packet {i}"
            );
            assert_eq!(
                strings(layers, "mip6.mhtype"),
                [pkt[mh_at + 2].to_string()],
                "packet {i}"
            );
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}
