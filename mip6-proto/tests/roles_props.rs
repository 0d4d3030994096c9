//! Property tests: each role fed arbitrary sequences of datagrams, hints and
//! time steps never panics, keeps its tables within bounds, never returns a
//! past deadline after `handle_timeout`, and only binds what it must.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use core::net::Ipv6Addr;
use core::time::Duration;

use mip6_proto::wire::mh::{BaFlags, BaStatus, BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use mip6_proto::bul_fsm::PrimaryState;
use mip6_proto::cn::{CnConfig, Correspondent};
use mip6_proto::event::{FwdEvent, Output, RxDatagram};
use mip6_proto::ha::{HaConfig, HomeAgent};
use mip6_proto::mn::{MnConfig, MobileNode};
use mip6_proto::movement::Movement;

const ADDRS: [&str; 6] = [
    "2001:db8:1::100",
    "2001:db8:1::1",
    "2001:db8:9::9",
    "2001:db8:2::200",
    "::",
    "ff02::1",
];

fn addr(i: u8) -> Ipv6Addr {
    ADDRS[usize::from(i) % ADDRS.len()].parse().unwrap()
}

/// A well-formed Mobility Header of any type with random fields, so that
/// inputs get past the checksum (emitted for the addresses it is sent with).
fn mh_strategy() -> impl Strategy<Value = (u8, u16, u16, u16, u8, bool)> {
    (
        0u8..8,
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        any::<bool>(),
    )
}

fn build_mh(m: (u8, u16, u16, u16, u8, bool), src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let (ty, a, b, c, d, opt) = m;
    let cookie = a.to_be_bytes().repeat(4).try_into().unwrap_or([0; 8]);
    let message = match ty {
        0 => Message::BindingRefreshRequest,
        1 => Message::HomeTestInit { cookie },
        2 => Message::CareOfTestInit { cookie },
        3 => Message::HomeTest {
            nonce_index: b,
            cookie,
            token: cookie,
        },
        4 => Message::CareOfTest {
            nonce_index: b,
            cookie,
            token: cookie,
        },
        5 => Message::BindingUpdate {
            sequence: a,
            flags: BuFlags(b & 0xfc00),
            lifetime: c,
        },
        6 => Message::BindingAck {
            status: BaStatus(d),
            flags: BaFlags(0),
            sequence: a,
            lifetime: c,
        },
        _ => Message::BindingError {
            status: mip6_proto::wire::mh::BeStatus(d % 3),
            home_address: src,
        },
    };
    let zero = [0u8; 12];
    let opts = [
        MobilityOption::NonceIndices {
            home: b,
            care_of: c,
        },
        MobilityOption::BindingAuthorizationData(&zero),
    ];
    let options = if opt && matches!(ty, 5 | 6) {
        Options::List(&opts)
    } else {
        Options::List(&[])
    };
    let repr = MhRepr {
        payload_proto: 59,
        message,
        options,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let _ = repr.emit(&mut MhPacket::new_unchecked(&mut buf[..]), &src, &dst);
    buf
}

#[derive(Debug, Clone)]
enum Input {
    Wellformed {
        m: (u8, u16, u16, u16, u8, bool),
        src: u8,
        dst: u8,
        hao: Option<u8>,
        rh2: bool,
    },
    Garbage {
        bytes: Vec<u8>,
        src: u8,
        dst: u8,
        nh: bool,
    },
    Move(u8),
    Home,
    Reverse(u8),
    Dad(bool),
    Wait(u16),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (mh_strategy(), any::<u8>(), any::<u8>(), proptest::option::of(any::<u8>()), any::<bool>())
            .prop_map(|(m, src, dst, hao, rh2)| Input::Wellformed { m, src, dst, hao, rh2 }),
        2 => (proptest::collection::vec(any::<u8>(), 0..64), any::<u8>(), any::<u8>(), any::<bool>())
            .prop_map(|(bytes, src, dst, nh)| Input::Garbage { bytes, src, dst, nh }),
        1 => any::<u8>().prop_map(Input::Move),
        1 => Just(Input::Home),
        1 => any::<u8>().prop_map(Input::Reverse),
        1 => any::<bool>().prop_map(Input::Dad),
        3 => (0u16..5000).prop_map(Input::Wait),
    ]
}

fn drain_outputs(poll: &mut dyn FnMut(&mut Vec<u8>) -> Option<Output>) -> Vec<Output> {
    let mut v = Vec::new();
    for _ in 0..10_000 {
        let mut b = Vec::new();
        match poll(&mut b) {
            Some(o) => v.push(o),
            None => return v,
        }
    }
    panic!("output queue does not drain");
}

fn coa(i: u8) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0x20 + u16::from(i % 4), 0, 0, 0, 0, 0x200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn roles_survive_arbitrary_inputs(seed in any::<u64>(), inputs in proptest::collection::vec(input(), 0..60)) {
        let mut mn = MobileNode::new(MnConfig::new(addr(0), 64, Some(addr(1))), ChaCha20Rng::seed_from_u64(seed), Duration::ZERO).unwrap();
        let mut ha_cfg = HaConfig::new(addr(1), "2001:db8:1::".parse().unwrap(), 64);
        ha_cfg.max_bindings = 4;
        let mut ha = HomeAgent::new(ha_cfg, ChaCha20Rng::seed_from_u64(seed ^ 1), Duration::ZERO).unwrap();
        let mut cn = Correspondent::new(CnConfig { max_bindings: 4, ..CnConfig::default() }, ChaCha20Rng::seed_from_u64(seed ^ 2), Duration::ZERO).unwrap();
        let mut now = Duration::ZERO;
        for inp in inputs {
            match inp {
                Input::Wellformed { m, src, dst, hao, rh2 } => {
                    let (src, dst) = (addr(src), addr(dst));
                    let hao = hao.map(addr);
                    let bytes = build_mh(m, hao.unwrap_or(src), dst);
                    let rx = RxDatagram { src, dst, hao, rh2: rh2.then_some(dst), tunnelled: false, next_header: 135, payload: &bytes };
                    let _ = mn.handle_datagram(now, &rx);
                    let _ = ha.handle_datagram(now, &rx);
                    let _ = cn.handle_datagram(now, &rx);
                }
                Input::Garbage { bytes, src, dst, nh } => {
                    let rx = RxDatagram { src: addr(src), dst: addr(dst), hao: None, rh2: None, tunnelled: false, next_header: if nh { 135 } else { 58 }, payload: &bytes };
                    let _ = mn.handle_datagram(now, &rx);
                    let _ = ha.handle_datagram(now, &rx);
                    let _ = cn.handle_datagram(now, &rx);
                }
                Input::Move(i) => mn.handle_movement(now, Movement::Moved { home: addr(0), care_of: coa(i), iface: 1, bid: None }),
                Input::Home => mn.handle_movement(now, Movement::ReturnedHome { home: addr(0), iface: 1 }),
                Input::Reverse(p) => { let _ = mn.handle_reverse_packet(now, addr(p)); }
                Input::Dad(ok) => ha.dad_result(now, addr(0), ok),
                Input::Wait(ms) => {
                    now += Duration::from_millis(u64::from(ms));
                    mn.handle_timeout(now);
                    ha.handle_timeout(now);
                    cn.handle_timeout(now);
                    for t in [mn.poll_timeout(), ha.poll_timeout(), cn.poll_timeout()].into_iter().flatten() {
                        prop_assert!(t > now, "past deadline {t:?} at {now:?}");
                    }
                }
            }
            let cn_out = drain_outputs(&mut |b| cn.poll_output(b));
            // Random bytes never forge an authenticator: no binding at the CN.
            let cn_bound = cn_out.iter().any(|o| matches!(o, Output::Fwd(FwdEvent::BindingAdded { .. })));
            prop_assert!(!cn_bound, "binding without a valid authenticator");
            prop_assert_eq!(cn.bindings(), 0);
            drain_outputs(&mut |b| ha.poll_output(b));
            let mn_out = drain_outputs(&mut |b| mn.poll_output(b));
            // The correspondent entry is only usable after RR + BU; random
            // inputs cannot match a fresh cookie.
            let ro = mn_out.iter().any(|o| matches!(o, Output::Fwd(FwdEvent::BulAdded { home_registration: false, .. })));
            prop_assert!(!ro, "route optimisation without return routability");
            prop_assert!(ha.bindings() <= 4);
            prop_assert!(mn.bul().count() <= 64);
        }
    }

    /// The home entry reaches BOUND only on a BA from the home agent that
    /// carries the sequence number of the last BU sent.
    #[test]
    fn bound_only_after_a_matching_ba(seed in any::<u64>(), bas in proptest::collection::vec((any::<u16>(), 0u8..3, any::<bool>()), 1..40)) {
        let ha: Ipv6Addr = addr(1);
        let mut mn = MobileNode::new(MnConfig::new(addr(0), 64, Some(ha)), ChaCha20Rng::seed_from_u64(seed), Duration::ZERO).unwrap();
        mn.handle_movement(Duration::ZERO, Movement::Moved { home: addr(0), care_of: coa(0), iface: 1, bid: None });
        drain_outputs(&mut |b| mn.poll_output(b));
        for (i, (seq, st, use_last)) in bas.into_iter().enumerate() {
            let now = Duration::from_millis(i as u64 * 10);
            let before = mn.home_entry().unwrap();
            let seq = if use_last { before.seq } else { seq };
            let status = [0u8, 128, 135][usize::from(st)];
            let bytes = build_mh((6, seq, 0, 10, status, false), ha, addr(0));
            let rx = RxDatagram { src: ha, dst: addr(0), hao: None, rh2: Some(addr(0)), tunnelled: false, next_header: 135, payload: &bytes };
            let _ = mn.handle_datagram(now, &rx);
            drain_outputs(&mut |b| mn.poll_output(b));
            let after = mn.home_entry().unwrap();
            if before.state != PrimaryState::Bound && after.state == PrimaryState::Bound {
                prop_assert_eq!(seq, before.seq);
                prop_assert_eq!(status, 0);
            }
        }
    }
}

/// A Binding Update or Acknowledgement carrying Binding Identifier options
/// (any BID, status, H flag, an IPv6, IPv4, link-local or no care-of
/// address) and RFC 4285 options with a known or unknown SPI and random
/// authentication data.
#[derive(Debug, Clone)]
struct McoaMsg {
    ba: bool,
    seq: u16,
    flags: u16,
    lifetime: u16,
    status: u8,
    bids: Vec<(u16, u8, bool, u8)>,
    timestamp: Option<u64>,
    auth: Option<(bool, [u8; 12])>,
}

fn mcoa_msg() -> impl Strategy<Value = McoaMsg> {
    (
        any::<bool>(),
        any::<u16>(),
        prop_oneof![Just(0xc000u16), Just(0xc040), any::<u16>()],
        prop_oneof![Just(0u16), Just(10), any::<u16>()],
        prop_oneof![Just(0u8), Just(4), Just(5), 128u8..170],
        proptest::collection::vec((0u16..5, any::<u8>(), any::<bool>(), 0u8..5), 0..4),
        proptest::option::of(any::<u64>()),
        proptest::option::of((any::<bool>(), any::<[u8; 12]>())),
    )
        .prop_map(
            |(ba, seq, flags, lifetime, status, bids, timestamp, auth)| McoaMsg {
                ba,
                seq,
                flags,
                lifetime,
                status,
                bids,
                timestamp,
                auth,
            },
        )
}

const SPI: u32 = 0x1000;

fn build_mcoa(m: &McoaMsg, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let coa_of = |k: u8| -> Option<core::net::IpAddr> {
        match k {
            0 => None,
            1 => Some(core::net::IpAddr::V6(coa(k))),
            2 => Some(core::net::IpAddr::V6("fe80::1".parse().unwrap())),
            3 => Some(core::net::IpAddr::V4("192.0.2.1".parse().unwrap())),
            _ => Some(core::net::IpAddr::V6(addr(0))),
        }
    };
    let mut opts: Vec<MobilityOption<'_>> = m
        .bids
        .iter()
        .map(|&(bid, status, h, k)| MobilityOption::BindingIdentifier {
            bid,
            status,
            h,
            care_of: coa_of(k),
        })
        .collect();
    if let Some(timestamp) = m.timestamp {
        opts.push(MobilityOption::ReplayProtection { timestamp });
    }
    if let Some((known, data)) = &m.auth {
        opts.push(MobilityOption::MobilityMessageAuthentication {
            subtype: 1,
            spi: if *known { SPI } else { 0x2000 },
            data,
        });
    }
    let message = if m.ba {
        Message::BindingAck {
            status: BaStatus(m.status),
            flags: BaFlags(0),
            sequence: m.seq,
            lifetime: m.lifetime,
        }
    } else {
        Message::BindingUpdate {
            sequence: m.seq,
            flags: BuFlags(m.flags),
            lifetime: m.lifetime,
        }
    };
    let repr = MhRepr {
        payload_proto: 59,
        message,
        options: Options::List(&opts),
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let _ = repr.emit(&mut MhPacket::new_unchecked(&mut buf[..]), &src, &dst);
    buf
}

#[derive(Debug, Clone)]
enum McoaInput {
    Msg { m: McoaMsg, src: u8, hao: bool },
    Attach(u16, u8),
    Bulk(Vec<(u16, u8)>),
    Lost(u16),
    Home,
    Wait(u16),
}

fn mcoa_input() -> impl Strategy<Value = McoaInput> {
    prop_oneof![
        5 => (mcoa_msg(), any::<u8>(), any::<bool>()).prop_map(|(m, src, hao)| McoaInput::Msg { m, src, hao }),
        2 => (0u16..6, any::<u8>()).prop_map(|(b, c)| McoaInput::Attach(b, c)),
        1 => proptest::collection::vec((0u16..6, any::<u8>()), 0..4).prop_map(McoaInput::Bulk),
        1 => (0u16..6).prop_map(McoaInput::Lost),
        1 => Just(McoaInput::Home),
        3 => (0u16..5000).prop_map(McoaInput::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// RFC 5648 and RFC 4285 inputs: no panic, tables within their bounds,
    /// no past deadline, and nothing bound without an authenticator (the
    /// home address has a security association; random data never
    /// verifies).
    #[test]
    fn mcoa_and_auth_inputs_keep_tables_bounded(seed in any::<u64>(), inputs in proptest::collection::vec(mcoa_input(), 0..60)) {
        let hoa = addr(0);
        let ha_addr = addr(1);
        let key = vec![7u8; 16];
        let mut mn_cfg = MnConfig::new(hoa, 64, Some(ha_addr));
        mn_cfg.mcoa = Some(mip6_proto::mn::McoaConfig { max_bids: 4, ..Default::default() });
        mn_cfg.auth = Some(mip6_proto::mn::MnAuthConfig {
            spi: SPI,
            key: key.clone(),
            nai: Some(b"mn@example.com".to_vec()),
            timestamps: true,
            time_of_day_at_epoch: Duration::from_secs(3_900_000_000),
            aaa_key: None,
        });
        let mut mn = MobileNode::new(mn_cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO).unwrap();
        let mut ha_cfg = HaConfig::new(ha_addr, "2001:db8:1::".parse().unwrap(), 64);
        ha_cfg.max_bindings = 4;
        ha_cfg.dad = seed % 2 == 0;
        ha_cfg.mcoa.max_bids = 3;
        ha_cfg.security_associations = vec![mip6_proto::ha::MnHaSecurityAssociation::new(SPI, hoa, key)];
        ha_cfg.time_of_day_at_epoch = Duration::from_secs(3_900_000_000);
        let mut ha = HomeAgent::new(ha_cfg, ChaCha20Rng::seed_from_u64(seed ^ 1), Duration::ZERO).unwrap();
        let mut cn = Correspondent::new(CnConfig { max_bindings: 4, ..CnConfig::default() }, ChaCha20Rng::seed_from_u64(seed ^ 2), Duration::ZERO).unwrap();
        let mut now = Duration::ZERO;
        let mv = |b: u16, c: u8| Movement::Moved { home: hoa, care_of: if c % 5 == 4 { hoa } else { coa(c) }, iface: u32::from(b), bid: Some(b) };
        for inp in inputs {
            match inp {
                McoaInput::Msg { m, src, hao } => {
                    // Home addresses: the protected one or another on the home link.
                    let home = if src % 2 == 0 { hoa } else { "2001:db8:1::7".parse().unwrap() };
                    let src = coa(src);
                    let (bytes, rx_src, rx_dst) = if m.ba {
                        (build_mcoa(&m, ha_addr, hoa), ha_addr, hoa)
                    } else {
                        (build_mcoa(&m, if hao { home } else { src }, ha_addr), src, ha_addr)
                    };
                    let rx = RxDatagram {
                        src: rx_src,
                        dst: rx_dst,
                        hao: (hao && !m.ba).then_some(home),
                        rh2: m.ba.then_some(hoa),
                        tunnelled: false,
                        next_header: 135,
                        payload: &bytes,
                    };
                    if m.ba {
                        let _ = mn.handle_datagram(now, &rx);
                    } else {
                        let _ = ha.handle_datagram(now, &rx);
                        let _ = cn.handle_datagram(now, &rx);
                    }
                }
                McoaInput::Attach(b, c) => mn.handle_movement(now, mv(b, c)),
                McoaInput::Bulk(v) => {
                    let ms: Vec<Movement> = v.iter().map(|&(b, c)| mv(b, c)).collect();
                    mn.handle_bulk_movement(now, &ms);
                }
                McoaInput::Lost(b) => { let _ = mn.handle_bid_lost(now, b); }
                McoaInput::Home => mn.handle_movement(now, Movement::ReturnedHome { home: hoa, iface: 1 }),
                McoaInput::Wait(ms) => {
                    now += Duration::from_millis(u64::from(ms));
                    mn.handle_timeout(now);
                    ha.handle_timeout(now);
                    cn.handle_timeout(now);
                    for t in [mn.poll_timeout(), ha.poll_timeout(), cn.poll_timeout()].into_iter().flatten() {
                        prop_assert!(t > now, "past deadline {t:?} at {now:?}");
                    }
                }
            }
            if ha.bindings() > 0 && seed % 3 == 0 {
                ha.dad_result(now, "2001:db8:1::7".parse().unwrap(), true);
            }
            let ha_out = drain_outputs(&mut |b| ha.poll_output(b));
            let forged = ha_out.iter().any(|o| matches!(o, Output::Fwd(FwdEvent::HomeBindingAdded { home, .. }) if *home == hoa));
            prop_assert!(!forged, "a binding for the protected home address without authentication");
            let mn_out = drain_outputs(&mut |b| mn.poll_output(b));
            let bound = mn_out.iter().any(|o| matches!(o, Output::Fwd(FwdEvent::McoaBulAdded { .. } | FwdEvent::BulAdded { .. })));
            prop_assert!(!bound, "a binding at the mobile node from an unauthenticated BA");
            prop_assert!(ha.bindings() <= 4);
            prop_assert!(ha.bid_bindings() <= 4 * 3);
            for h in [hoa, "2001:db8:1::7".parse().unwrap()] {
                prop_assert!(ha.bids(h).count() <= 3);
                // BIDs only under an entry of their home address.
                prop_assert!(ha.bids(h).count() == 0 || ha.binding_state(h).is_some());
            }
            drain_outputs(&mut |b| cn.poll_output(b));
            prop_assert_eq!(cn.bindings() + cn.bid_bindings(), 0);
            prop_assert!(mn.bids().count() <= 4);
            prop_assert!(mn.bul().count() <= 64);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A mobile node with multiple care-of addresses and its home agent
    /// wired together, with lost messages and stray Binding
    /// Acknowledgements: no panic, bounded tables, no past deadline, and
    /// what the mobile node holds as bound the home agent holds too once
    /// the network is quiet and nothing was lost.
    #[test]
    fn mcoa_pair_under_loss_and_noise(seed in any::<u64>(), inputs in proptest::collection::vec((mcoa_input(), proptest::collection::vec(any::<bool>(), 8)), 0..50)) {
        let hoa = addr(0);
        let ha_addr = addr(1);
        let mut mn_cfg = MnConfig::new(hoa, 64, Some(ha_addr));
        mn_cfg.mcoa = Some(mip6_proto::mn::McoaConfig { max_bids: 4, bulk: seed % 3 != 0, priorities: vec![(3, 1)] });
        // Half the runs authenticate with RFC 4285.
        let auth = seed % 2 == 0;
        let tod = Duration::from_secs(3_900_000_000);
        if auth {
            mn_cfg.auth = Some(mip6_proto::mn::MnAuthConfig {
                spi: SPI,
                key: vec![9; 16],
                nai: None,
                timestamps: true,
                time_of_day_at_epoch: tod,
                aaa_key: (seed % 4 == 0).then(|| vec![5; 16]),
            });
        }
        let mut mn = MobileNode::new(mn_cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO).unwrap();
        let mut ha_cfg = HaConfig::new(ha_addr, "2001:db8:1::".parse().unwrap(), 64);
        ha_cfg.dad = false;
        if auth {
            ha_cfg.security_associations = vec![mip6_proto::ha::MnHaSecurityAssociation::new(SPI, hoa, vec![9; 16])];
            ha_cfg.time_of_day_at_epoch = tod;
        }
        ha_cfg.mcoa.max_bids = 3;
        ha_cfg.mcoa.bulk = seed % 5 != 0;
        ha_cfg.mcoa.enabled = seed % 7 != 0;
        let mut ha = HomeAgent::new(ha_cfg, ChaCha20Rng::seed_from_u64(seed ^ 1), Duration::ZERO).unwrap();
        let mut now = Duration::ZERO;
        let mv = |b: u16, c: u8| Movement::Moved { home: hoa, care_of: if c % 5 == 4 { hoa } else { coa(c) }, iface: u32::from(b), bid: Some(b) };
        for (inp, losses) in inputs {
            let mut lossy = false;
            match inp {
                McoaInput::Msg { m, .. } => {
                    // Stray BAs from the home agent's address.
                    let bytes = build_mcoa(&McoaMsg { ba: true, auth: None, timestamp: None, ..m }, ha_addr, hoa);
                    let rx = RxDatagram { src: ha_addr, dst: hoa, hao: None, rh2: Some(hoa), tunnelled: false, next_header: 135, payload: &bytes };
                    let _ = mn.handle_datagram(now, &rx);
                    lossy = true;
                }
                McoaInput::Attach(b, c) => mn.handle_movement(now, mv(b, c)),
                McoaInput::Bulk(v) => {
                    let ms: Vec<Movement> = v.iter().map(|&(b, c)| mv(b, c)).collect();
                    mn.handle_bulk_movement(now, &ms);
                }
                McoaInput::Lost(b) => { let _ = mn.handle_bid_lost(now, b); }
                McoaInput::Home => mn.handle_movement(now, Movement::ReturnedHome { home: hoa, iface: 1 }),
                McoaInput::Wait(ms) => {
                    now += Duration::from_millis(u64::from(ms));
                    mn.handle_timeout(now);
                    ha.handle_timeout(now);
                    for t in [mn.poll_timeout(), ha.poll_timeout()].into_iter().flatten() {
                        prop_assert!(t > now, "past deadline {t:?} at {now:?}");
                    }
                }
            }
            // Shuttle messages both ways until quiet, losing some.
            let mut k = 0usize;
            for _ in 0..100 {
                let mut moved = false;
                let mut b = Vec::new();
                while let Some(o) = mn.poll_output(&mut b) {
                    if let Output::Transmit(t) = o {
                        moved = true;
                        let lose = losses[k % losses.len()];
                        k += 1;
                        lossy |= lose;
                        if !lose {
                            let (hao, dst) = match t.ext { mip6_proto::event::TxExt::HomeAddress(h) => (Some(h), t.dst), _ => (None, t.dst) };
                            let rx = RxDatagram { src: t.src, dst, hao, rh2: None, tunnelled: false, next_header: t.next_header, payload: &b[b.len() - t.len..] };
                            let _ = ha.handle_datagram(now, &rx);
                        }
                    }
                }
                let mut b = Vec::new();
                while let Some(o) = ha.poll_output(&mut b) {
                    if let Output::Transmit(t) = o {
                        moved = true;
                        let lose = losses[k % losses.len()];
                        k += 1;
                        lossy |= lose;
                        if !lose {
                            let rh2 = match t.ext { mip6_proto::event::TxExt::Type2Routing(h) => Some(h), _ => None };
                            let rx = RxDatagram { src: t.src, dst: rh2.unwrap_or(t.dst), hao: None, rh2, tunnelled: false, next_header: t.next_header, payload: &b[b.len() - t.len..] };
                            let _ = mn.handle_datagram(now, &rx);
                        }
                    }
                }
                if !moved {
                    break;
                }
            }
            prop_assert!(ha.bindings() <= 1);
            prop_assert!(ha.bids(hoa).count() <= 3);
            prop_assert!(mn.bids().count() <= 4);
            if !lossy {
                for v in mn.bids().filter(|v| v.state == mip6_proto::mn::BidState::Bound) {
                    prop_assert_eq!(ha.lookup_bid(hoa, v.bid), Some(v.care_of), "bid {} bound at the MN only", v.bid);
                }
            }
        }
    }
}
