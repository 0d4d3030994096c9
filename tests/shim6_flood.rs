//! RFC 5533 §7.10 and §16: a responder answers I1s with R1s without
//! keeping any state. A flood of 10^6 I1s from random sources, tags and
//! nonces leaves no context and no memory behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::alloc::System;
use std::net::Ipv6Addr;
use std::time::Duration;

use hba_cga::cga::Sec;
use hba_cga::hba::HbaSet;
use hba_cga::sig::RsaSigner;
use mobsim::drivers::shim6::site_prefix;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use shim6_proto::endpoint::{HostConfig, Shim6Host};
use shim6_proto::event::{Output, RxDatagram};
use shim6_proto::locators::LocalIdentity;
use shim6_proto::wire::{ContextTag, ControlRepr, Message, Options, Shim6Packet};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_million_i1s_leave_no_state_at_the_responder() {
    let prefixes = [site_prefix(0xb, 0), site_prefix(0xb, 1)];
    let set = HbaSet::generate(
        &mut ChaCha20Rng::seed_from_u64(1),
        &prefixes,
        Sec::ZERO,
        None,
    )
    .unwrap();
    let id = LocalIdentity::<RsaSigner>::from_hba(&set, 0).unwrap();
    let me = id.ulid();
    let mut host = Shim6Host::new(
        HostConfig::default(),
        ChaCha20Rng::seed_from_u64(2),
        Duration::ZERO,
        vec![id],
    )
    .unwrap();
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let mut i1 = vec![0u8; 16];
    let mut out = Vec::new();
    let mut flood =
        |host: &mut Shim6Host<ChaCha20Rng, RsaSigner>, n: usize, r: &mut ChaCha20Rng| {
            let mut r1s = 0usize;
            for k in 0..n {
                let mut src = [0u8; 16];
                r.fill_bytes(&mut src);
                src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
                let repr = ControlRepr {
                    next_header: 59,
                    message: Message::I1 {
                        context_tag: ContextTag::from_bits_truncate(r.next_u64()),
                        initiator_nonce: r.next_u32(),
                    },
                    options: Options::List(&[]),
                };
                repr.emit(&mut Shim6Packet::new_unchecked(&mut i1[..]))
                    .unwrap();
                let now = Duration::from_micros(k as u64);
                host.handle_datagram(
                    now,
                    &RxDatagram {
                        src: Ipv6Addr::from(src),
                        dst: me,
                        payload: &i1,
                    },
                )
                .unwrap();
                while let Some(o) = host.poll_output(&mut out) {
                    assert!(matches!(o, Output::Transmit(_)), "{o:?}");
                    r1s += 1;
                    out.clear();
                }
            }
            r1s
        };
    // Warm up (the output queue and buffers reach their working size).
    assert_eq!(flood(&mut host, 1000, &mut r), 1000);
    let region = Region::new(GLOBAL);
    let n = 1_000_000;
    assert_eq!(flood(&mut host, n, &mut r), n, "one R1 per I1");
    let st = region.change();
    let live = st.bytes_allocated as i64 - st.bytes_deallocated as i64
        + st.bytes_reallocated.max(0) as i64;
    assert!(live < 4096, "the flood left {live} bytes allocated: {st:?}");
    assert_eq!(host.contexts(), 0);
    assert_eq!(host.live_tags(), 0);
    assert_eq!(host.stats().sent.r1, 1_000_000 + 1000);
    assert_eq!(host.stats().received.i1, 1_000_000 + 1000);
}
