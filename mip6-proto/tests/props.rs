//! Property and negative tests of the wire layer: `parse(emit(x)) == x` for
//! every message and option; every truncation, bad checksum, bad length and
//! overrun is an error; unknown and misplaced options are handled as RFC
//! 6275 §6.2.1 says; emit aligns, parse does not demand alignment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mip6_proto::wire::hao::HaoHeaderRepr;
use mip6_proto::wire::icmpv6::{AddrList, MipIcmpRepr, PrefixInfo, PrefixList};
use mip6_proto::wire::ipv6::{Ipv6Packet, Ipv6Repr};
use mip6_proto::wire::mh::{BaFlags, BaStatus, BeStatus, BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, OptionType, Options, RawOptions};
use mip6_proto::wire::rh2::Rh2Repr;
use mip6_proto::wire::{Error, IpProtocol};
use proptest::collection::vec;
use proptest::prelude::*;

/// An owned mirror of `MobilityOption`, so that proptest can generate it.
#[derive(Debug, Clone)]
enum O {
    Bra(u16),
    Acoa(u128),
    Ni(u16, u16),
    Bad(Vec<u8>),
    Mnp(u8, u128),
    Lla(u8, Vec<u8>),
    Mnid(u8, Vec<u8>),
    Auth(u8, u32, Vec<u8>),
    Replay(u64),
    CgaReq,
    Cga(Vec<u8>),
    Sig(Vec<u8>),
    Phkt([u8; 8]),
    Coti,
    Cot([u8; 8]),
    Exp(Vec<u8>),
    V4Hoa(u8, bool, u32),
    V4Ack(u8, u8, u32),
    Nat(bool, u32),
    V4Coa(u32),
    Bid(u16, u8, bool, u8, u128),
    Unknown(u8, Vec<u8>),
}

fn view(o: &O) -> MobilityOption<'_> {
    match o {
        O::Bra(x) => MobilityOption::BindingRefreshAdvice {
            refresh_interval: *x,
        },
        O::Acoa(a) => MobilityOption::AlternateCareOfAddress(Ipv6Addr::from(*a)),
        O::Ni(h, c) => MobilityOption::NonceIndices {
            home: *h,
            care_of: *c,
        },
        O::Bad(d) => MobilityOption::BindingAuthorizationData(d),
        O::Mnp(l, p) => MobilityOption::MobileNetworkPrefix {
            prefix_len: *l,
            prefix: Ipv6Addr::from(*p),
        },
        O::Lla(c, d) => MobilityOption::LinkLayerAddress {
            option_code: *c,
            lla: d,
        },
        O::Mnid(s, d) => MobilityOption::MobileNodeIdentifier {
            subtype: *s,
            identifier: d,
        },
        O::Auth(s, spi, d) => MobilityOption::MobilityMessageAuthentication {
            subtype: *s,
            spi: *spi,
            data: d,
        },
        O::Replay(t) => MobilityOption::ReplayProtection { timestamp: *t },
        O::CgaReq => MobilityOption::CgaParametersRequest,
        O::Cga(d) => MobilityOption::CgaParameters(d),
        O::Sig(d) => MobilityOption::Signature(d),
        O::Phkt(t) => MobilityOption::PermanentHomeKeygenToken(*t),
        O::Coti => MobilityOption::CareOfTestInit,
        O::Cot(t) => MobilityOption::CareOfTest(*t),
        O::Exp(d) => MobilityOption::Experimental(d),
        O::V4Hoa(l, p, a) => MobilityOption::Ipv4HomeAddress {
            prefix_len: *l,
            p: *p,
            address: Ipv4Addr::from(*a),
        },
        O::V4Ack(s, l, a) => MobilityOption::Ipv4AddressAck {
            status: *s,
            prefix_len: *l,
            address: Ipv4Addr::from(*a),
        },
        O::Nat(f, r) => MobilityOption::NatDetection {
            f: *f,
            refresh_time: *r,
        },
        O::V4Coa(a) => MobilityOption::Ipv4CareOfAddress(Ipv4Addr::from(*a)),
        O::Bid(b, s, h, kind, a) => MobilityOption::BindingIdentifier {
            bid: *b,
            status: *s,
            h: *h,
            care_of: match kind % 3 {
                0 => None,
                1 => Some(IpAddr::V4(Ipv4Addr::from(*a as u32))),
                _ => Some(IpAddr::V6(Ipv6Addr::from(*a))),
            },
        },
        O::Unknown(t, d) => MobilityOption::Unknown {
            option_type: *t,
            data: d,
        },
    }
}

fn small_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn option() -> impl Strategy<Value = O> {
    prop_oneof![
        any::<u16>().prop_map(O::Bra),
        any::<u128>().prop_map(O::Acoa),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| O::Ni(a, b)),
        small_bytes(40).prop_map(O::Bad),
        (any::<u8>(), any::<u128>()).prop_map(|(a, b)| O::Mnp(a, b)),
        (any::<u8>(), small_bytes(20)).prop_map(|(a, b)| O::Lla(a, b)),
        (any::<u8>(), small_bytes(60)).prop_map(|(a, b)| O::Mnid(a, b)),
        (any::<u8>(), any::<u32>(), small_bytes(30)).prop_map(|(a, b, c)| O::Auth(a, b, c)),
        any::<u64>().prop_map(O::Replay),
        Just(O::CgaReq),
        small_bytes(100).prop_map(O::Cga),
        small_bytes(100).prop_map(O::Sig),
        any::<[u8; 8]>().prop_map(O::Phkt),
        Just(O::Coti),
        any::<[u8; 8]>().prop_map(O::Cot),
        small_bytes(30).prop_map(O::Exp),
        (0u8..64, any::<bool>(), any::<u32>()).prop_map(|(a, b, c)| O::V4Hoa(a, b, c)),
        (any::<u8>(), 0u8..64, any::<u32>()).prop_map(|(a, b, c)| O::V4Ack(a, b, c)),
        (any::<bool>(), any::<u32>()).prop_map(|(a, b)| O::Nat(a, b)),
        any::<u32>().prop_map(O::V4Coa),
        (
            any::<u16>(),
            any::<u8>(),
            any::<bool>(),
            any::<u8>(),
            any::<u128>()
        )
            .prop_map(|(a, b, c, d, e)| O::Bid(a, b, c, d, e)),
        // Unassigned types only: 17, 19-28, 33, 34, 36-255.
        (
            prop_oneof![Just(17u8), 19u8..29, 33u8..35, 36u8..=255],
            small_bytes(30)
        )
            .prop_map(|(t, d)| O::Unknown(t, d)),
    ]
}

fn message() -> impl Strategy<Value = (u8, [u8; 8], [u8; 8], u16, u16, u16, u128)> {
    (
        0u8..8,
        any::<[u8; 8]>(),
        any::<[u8; 8]>(),
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<u128>(),
    )
}

fn build(m: &(u8, [u8; 8], [u8; 8], u16, u16, u16, u128)) -> Message<'static> {
    let (t, c, k, a, b, l, addr) = *m;
    match t {
        0 => Message::BindingRefreshRequest,
        1 => Message::HomeTestInit { cookie: c },
        2 => Message::CareOfTestInit { cookie: c },
        3 => Message::HomeTest {
            nonce_index: a,
            cookie: c,
            token: k,
        },
        4 => Message::CareOfTest {
            nonce_index: a,
            cookie: c,
            token: k,
        },
        5 => Message::BindingUpdate {
            sequence: a,
            flags: BuFlags(b),
            lifetime: l,
        },
        6 => Message::BindingAck {
            status: BaStatus(c[0]),
            flags: BaFlags(c[1]),
            sequence: a,
            lifetime: l,
        },
        _ => Message::BindingError {
            status: BeStatus(c[0]),
            home_address: Ipv6Addr::from(addr),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mh_round_trip(m in message(), opts in vec(option(), 0..6), src in any::<u128>(), dst in any::<u128>()) {
        let list: Vec<MobilityOption<'_>> = opts.iter().map(view).collect();
        let repr = MhRepr { payload_proto: 59, message: build(&m), options: Options::List(&list) };
        let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
        let mut buf = vec![0u8; repr.buffer_len()];
        match repr.emit(&mut MhPacket::new_unchecked(&mut buf[..]), &src, &dst) {
            Ok(()) => {
                prop_assert_eq!(buf.len() % 8, 0);
                let p = MhPacket::new_checked(&buf[..]).unwrap();
                let back = MhRepr::parse(&p, &src, &dst).unwrap();
                prop_assert_eq!(&back, &repr);
                // Every option sits at its alignment (RFC 6275 §6.2).
                let start = back.message.mh_type().options_offset().unwrap();
                let mut it = list.iter();
                for raw in RawOptions::new(p.options_area()) {
                    let raw = raw.unwrap();
                    if raw.option_type == OptionType::PAD1 || raw.option_type == OptionType::PADN { continue; }
                    let o = it.next().unwrap();
                    let (x, y) = o.alignment();
                    prop_assert_eq!((start + raw.offset) % x, y % x);
                }
                // Every truncation is an error.
                for n in 0..buf.len() {
                    let r = MhPacket::new_checked(&buf[..n]).and_then(|p| MhRepr::parse_unverified(&p));
                    prop_assert!(r.is_err());
                }
                // Any flipped bit makes the message fail (checksum or another check).
                let i = (src.octets()[0] as usize) % buf.len();
                buf[i] ^= 1 << (dst.octets()[0] % 8);
                let r = MhPacket::new_checked(&buf[..]).and_then(|p| MhRepr::parse(&p, &src, &dst));
                prop_assert!(r.is_err());
            }
            Err(e) => {
                // Only an oversized message may be refused.
                prop_assert!(repr.buffer_len() > 2048 || list.iter().any(|o| o.data_len() > 255), "{e:?}");
            }
        }
    }

    #[test]
    fn option_round_trip(o in option()) {
        let v = view(&o);
        let mut b = vec![0u8; v.buffer_len()];
        v.emit(&mut b).unwrap();
        prop_assert_eq!(MobilityOption::parse(OptionType(b[0]), &b[2..]).unwrap(), v);
    }

    #[test]
    fn experimental_and_unknown_round_trip(t in prop_oneof![Just(11u8), 12u8..=255], units in 0usize..20, fill in any::<u8>()) {
        let data = vec![fill; units * 8 + 2];
        let message = if t == 11 { Message::Experimental(&data) } else { Message::Unknown { mh_type: t, data: &data } };
        let repr = MhRepr::new(message);
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut buf[..])).unwrap();
        prop_assert_eq!(MhRepr::parse_unverified(&MhPacket::new_checked(&buf[..]).unwrap()).unwrap(), repr);
    }

    #[test]
    fn ipv6_hao_rh2_round_trip(src in any::<u128>(), dst in any::<u128>(), tc in any::<u8>(), fl in 0u32..(1 << 20), hl in any::<u8>(), nh in any::<u8>(), res in any::<u32>(), sl in 0u8..2) {
        let ip = Ipv6Repr { src: src.into(), dst: dst.into(), next_header: IpProtocol(nh), payload_len: 0, hop_limit: hl, traffic_class: tc, flow_label: fl };
        let mut b = [0u8; 40];
        ip.emit(&mut b).unwrap();
        prop_assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&b[..]).unwrap()).unwrap(), ip);
        let h = HaoHeaderRepr { next_header: IpProtocol(nh), home_address: src.into() };
        let mut b = [0u8; 24];
        h.emit(&mut b).unwrap();
        prop_assert_eq!(HaoHeaderRepr::parse(&b).unwrap(), h);
        for n in 0..24 { prop_assert!(HaoHeaderRepr::parse(&b[..n]).is_err()); }
        let r = Rh2Repr { next_header: IpProtocol(nh), segments_left: sl, reserved: res, home_address: dst.into() };
        r.emit(&mut b).unwrap();
        prop_assert_eq!(Rh2Repr::parse(&b).unwrap(), r);
        for n in 0..24 { prop_assert!(Rh2Repr::parse(&b[..n]).is_err()); }
    }

    #[test]
    fn icmpv6_round_trip(kind in 0u8..4, id in any::<u16>(), f1 in any::<bool>(), f2 in any::<bool>(), addrs in vec(any::<u128>(), 0..5), pfx in vec((any::<u8>(), any::<[bool; 3]>(), any::<u32>(), any::<u32>(), any::<u128>()), 0..4), src in any::<u128>(), dst in any::<u128>()) {
        let addrs: Vec<Ipv6Addr> = addrs.into_iter().map(Ipv6Addr::from).collect();
        let pfx: Vec<PrefixInfo> = pfx.into_iter().map(|(l, f, v, p, a)| PrefixInfo { prefix_len: l, l: f[0], a: f[1], r: f[2], valid_lifetime: v, preferred_lifetime: p, prefix: a.into() }).collect();
        let r = match kind {
            0 => MipIcmpRepr::DhaadRequest { identifier: id, r: f1 },
            1 => MipIcmpRepr::DhaadReply { identifier: id, r: f1, addresses: AddrList::List(&addrs) },
            2 => MipIcmpRepr::MobilePrefixSolicitation { identifier: id },
            _ => MipIcmpRepr::MobilePrefixAdvertisement { identifier: id, m: f1, o: f2, prefixes: PrefixList::List(&pfx) },
        };
        let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b, &src, &dst).unwrap();
        prop_assert_eq!(MipIcmpRepr::parse(&b, &src, &dst).unwrap(), r);
        for n in 0..8 { prop_assert!(MipIcmpRepr::parse_unverified(&b[..n]).is_err()); }
        b[4] ^= 0x80;
        prop_assert_eq!(MipIcmpRepr::parse(&b, &src, &dst), Err(Error::BadChecksum));
    }

    #[test]
    fn parsers_never_panic(data in vec(any::<u8>(), 0..200), src in any::<u128>()) {
        let src = Ipv6Addr::from(src);
        if let Ok(p) = MhPacket::new_checked(&data[..]) {
            let _ = MhRepr::parse(&p, &src, &src);
            if let Ok(r) = MhRepr::parse_unverified(&p) {
                // parse -> emit -> parse is stable.
                let mut b = vec![0u8; r.buffer_len()];
                if r.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut b[..])).is_ok() {
                    let again = MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()).unwrap();
                    prop_assert_eq!(again, r);
                }
            }
        }
        let _ = MipIcmpRepr::parse_unverified(&data);
        let _ = Rh2Repr::parse(&data);
        let _ = HaoHeaderRepr::parse(&data);
        if Ipv6Packet::new_checked(&data[..]).is_ok() {
            let _ = mip6_proto::wire::ipv6::mobility_info(&data, 16);
        }
    }
}

fn bu_with(area: &[u8]) -> Vec<u8> {
    // BU fixed part (12 octets) + the given options area, which must make a multiple of 8.
    let mut b = vec![59, 0, 5, 0, 0, 0, 0, 1, 0x80, 0, 0, 1];
    b.extend_from_slice(area);
    assert_eq!(b.len() % 8, 0);
    b[1] = (b.len() / 8 - 1) as u8;
    b
}

#[test]
fn unknown_options_are_skipped_and_misaligned_ones_accepted() {
    // RFC 6275 §6.2.1: an unrecognised option type is skipped, the rest still
    // handled. Nonce Indices at offset 15 (odd: emit would put it at 2n).
    let area = [200, 1, 0xaa, 4, 4, 0, 7, 0, 9, 1, 1, 0];
    let b = bu_with(&area);
    let r = MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()).unwrap();
    let opts: Vec<_> = r.options.iter().map(Result::unwrap).collect();
    assert_eq!(
        opts,
        [
            MobilityOption::Unknown {
                option_type: 200,
                data: &[0xaa]
            },
            MobilityOption::NonceIndices {
                home: 7,
                care_of: 9
            }
        ]
    );
    assert_eq!(
        r.options.find(OptionType::NONCE_INDICES),
        Some(MobilityOption::NonceIndices {
            home: 7,
            care_of: 9
        })
    );
    // Re-emitting aligns it.
    let mut out = vec![0u8; r.buffer_len()];
    r.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut out[..]))
        .unwrap();
    assert_eq!(&out[12..], &[200, 1, 0xaa, 0, 4, 4, 0, 7, 0, 9, 1, 0]);
}

#[test]
fn misplaced_options_are_reported_not_rejected() {
    // A Nonce Indices option in a Binding Refresh Request parses: whether to
    // use it is the receiver's decision (RFC 6275 §6.1.2: options it does not
    // understand are skipped).
    let b = [59, 1, 0, 0, 0, 0, 0, 0, 4, 4, 0, 1, 0, 2, 1, 0];
    let r = MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()).unwrap();
    assert_eq!(r.message, Message::BindingRefreshRequest);
    assert_eq!(r.options.iter().count(), 1);
}

#[test]
fn bad_lengths_and_overruns_are_errors() {
    // Known option with a wrong length (Nonce Indices must be 4, RFC 6275 §6.2.6).
    let b = bu_with(&[4, 3, 0, 0, 0, 1, 5, 0, 0, 0, 0, 0]);
    assert_eq!(
        MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()),
        Err(Error::BadLength)
    );
    // An option overrunning the message.
    let b = bu_with(&[2, 9, 0, 0]);
    assert_eq!(
        MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()),
        Err(Error::Truncated)
    );
    // PadN overrunning.
    let b = bu_with(&[1, 3, 0, 0]);
    assert_eq!(
        MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()),
        Err(Error::Truncated)
    );
    // A length octet cut off.
    let b = bu_with(&[0, 0, 0, 2]);
    assert_eq!(
        MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()),
        Err(Error::Truncated)
    );
    // Header Len below the message's fixed part (RFC 6275 §9.2): a HoT in 8 octets.
    let b = [59, 0, 3, 0, 0, 0, 0, 0];
    assert_eq!(
        MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()),
        Err(Error::BadLength)
    );
    // Header Len beyond the buffer.
    let b = [59, 1, 0, 0, 0, 0, 0, 0];
    assert_eq!(MhPacket::new_checked(&b[..]).err(), Some(Error::Truncated));
    // Binding Identifier lengths other than 4, 8, 20 (RFC 5648 §4.3).
    for len in [0u8, 3, 5, 16, 21] {
        let mut area = vec![35, len];
        area.resize(2 + len as usize, 0);
        while (12 + area.len()) % 8 != 0 {
            area.push(0);
        }
        let b = bu_with(&area);
        assert!(
            MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()).is_err(),
            "{len}"
        );
    }
}

#[test]
fn unknown_mh_type_is_reported_for_a_binding_error() {
    let b = [59, 0, 42, 0, 0, 0, 1, 2];
    let r = MhRepr::parse_unverified(&MhPacket::new_checked(&b[..]).unwrap()).unwrap();
    assert_eq!(
        r.message,
        Message::Unknown {
            mh_type: 42,
            data: &[1, 2]
        }
    );
    assert_eq!(r.message.mh_type().name(), None);
    assert_eq!(BeStatus::UNRECOGNIZED_MH_TYPE, BeStatus(2));
}

#[test]
fn status_codes_match_the_rfcs() {
    // RFC 6275 §6.1.8, RFC 3963 §4.2, RFC 4285 §8 (IANA), RFC 5648 §11.
    let table = [
        (BaStatus::ACCEPTED, 0),
        (BaStatus::ACCEPTED_PREFIX_DISCOVERY_NECESSARY, 1),
        (BaStatus::MCOA_NOTCOMPLETE, 4),
        (BaStatus::MCOA_RETURNHOME_WO_NDP, 5),
        (BaStatus::REASON_UNSPECIFIED, 128),
        (BaStatus::ADMINISTRATIVELY_PROHIBITED, 129),
        (BaStatus::INSUFFICIENT_RESOURCES, 130),
        (BaStatus::HOME_REGISTRATION_NOT_SUPPORTED, 131),
        (BaStatus::NOT_HOME_SUBNET, 132),
        (BaStatus::NOT_HOME_AGENT_FOR_THIS_MN, 133),
        (BaStatus::DUPLICATE_ADDRESS_DETECTION_FAILED, 134),
        (BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW, 135),
        (BaStatus::EXPIRED_HOME_NONCE_INDEX, 136),
        (BaStatus::EXPIRED_CARE_OF_NONCE_INDEX, 137),
        (BaStatus::EXPIRED_NONCES, 138),
        (BaStatus::REGISTRATION_TYPE_CHANGE_DISALLOWED, 139),
        (BaStatus::MOBILE_ROUTER_OPERATION_NOT_PERMITTED, 140),
        (BaStatus::INVALID_PREFIX, 141),
        (BaStatus::NOT_AUTHORIZED_FOR_PREFIX, 142),
        (BaStatus::FORWARDING_SETUP_FAILED, 143),
        (BaStatus::MIPV6_ID_MISMATCH, 144),
        (BaStatus::MIPV6_MESG_ID_REQD, 145),
        (BaStatus::MIPV6_AUTH_FAIL, 146),
        (BaStatus::MCOA_MALFORMED, 164),
        (BaStatus::MCOA_NON_MCOA_BINDING_EXISTS, 165),
        (BaStatus::MCOA_PROHIBITED, 166),
        (BaStatus::MCOA_UNKNOWN_COA, 167),
        (BaStatus::MCOA_BULK_REGISTRATION_PROHIBITED, 168),
        (BaStatus::MCOA_SIMULTANEOUS_HOME_AND_FOREIGN_PROHIBITED, 169),
    ];
    for (s, v) in table {
        assert_eq!(s.0, v);
        assert_eq!(s.is_accepted(), v < 128);
    }
    // Option numbers: RFC 5555 §8 (29, 31, 32; the IPv4 address acknowledgement is 30 per §3.2.1), RFC 5648 §11 (35).
    assert_eq!(
        [
            OptionType::IPV4_HOME_ADDRESS.0,
            OptionType::IPV4_ADDRESS_ACK.0,
            OptionType::NAT_DETECTION.0,
            OptionType::IPV4_CARE_OF_ADDRESS.0,
            OptionType::BINDING_IDENTIFIER.0
        ],
        [29, 30, 31, 32, 35]
    );
}

#[test]
fn mh_checksum_matches_a_hand_computation() {
    // Independent of tshark (which does not check it): a BRR from 2001:db8::1
    // to 2001:db8::2. Pseudo-header words: 2001 0db8 0001 (src) + 2001 0db8
    // 0002 (dst) + 0008 (length) + 0087 (next header) = 0x4002 + 0x1b70 +
    // 0x0003 + 0x008f = 0x5c04; message words 3b00 0000 0000 0000 -> 0x3b00.
    // Sum 0x9704, complement 0x68fb.
    let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let repr = MhRepr::new(Message::BindingRefreshRequest);
    let mut b = [0u8; 8];
    repr.emit(&mut MhPacket::new_unchecked(&mut b[..]), &src, &dst)
        .unwrap();
    assert_eq!(b, [0x3b, 0, 0, 0, 0x68, 0xfb, 0, 0]);
    assert!(
        MhPacket::new_checked(&b[..])
            .unwrap()
            .verify_checksum(&src, &dst)
    );
    // The home address, not the care-of address, belongs in the pseudo-header.
    let coa: Ipv6Addr = "2001:db8::3".parse().unwrap();
    assert!(
        !MhPacket::new_checked(&b[..])
            .unwrap()
            .verify_checksum(&coa, &dst)
    );
}
