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
