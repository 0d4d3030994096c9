//! Property tests of the network core over arbitrary link settings and
//! traffic: packet accounting always balances, time never goes backwards,
//! and a run is a pure function of its seed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::net::Ipv6Addr;
use std::time::Duration;

use mobsim::net::{Action, Endpoint, EventQueue, IfaceId, LinkConfig, Sim, ip};
use proptest::prelude::*;

#[derive(Default)]
struct Sink {
    rx: Vec<Duration>,
    out: Vec<Action>,
}

impl Endpoint for Sink {
    fn handle_packet(&mut self, now: Duration, _: IfaceId, _: &[u8]) {
        self.rx.push(now);
    }
    fn handle_timeout(&mut self, _: Duration) {}
    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop()
    }
    fn poll_timeout(&self) -> Option<Duration> {
        None
    }
}

#[derive(Debug, Clone)]
struct LinkParams {
    delay_ms: u64,
    jitter_ms: u64,
    loss: f64,
    dup: f64,
    reorder: f64,
    bw: Option<u64>,
}

fn link_params() -> impl Strategy<Value = LinkParams> {
    (
        0u64..50,
        0u64..20,
        0.0f64..0.6,
        0.0f64..0.5,
        0.0f64..0.5,
        proptest::option::of(100_000u64..100_000_000),
    )
        .prop_map(|(delay_ms, jitter_ms, loss, dup, reorder, bw)| LinkParams {
            delay_ms,
            jitter_ms,
            loss,
            dup,
            reorder,
            bw,
        })
}

fn run(
    seed: u64,
    lp: &LinkParams,
    sends: &[(u16, u16)],
) -> (Sim, mobsim::net::NodeId, mobsim::net::LinkId) {
    let mut sim = Sim::new(seed);
    let mut cfg = LinkConfig::new("l")
        .delay(Duration::from_millis(lp.delay_ms))
        .jitter(Duration::from_millis(lp.jitter_ms))
        .loss(lp.loss)
        .duplicate(lp.dup)
        .reorder(lp.reorder, Duration::from_millis(7));
    if let Some(bw) = lp.bw {
        cfg = cfg.bandwidth(bw);
    }
    cfg.queue_limit = usize::MAX / 2;
    let link = sim.add_link(cfg);
    let s: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let d: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let tx = sim.add_node("tx", Sink::default());
    let rx = sim.add_node("rx", Sink::default());
    sim.add_iface(tx, Some(link), &[s]);
    sim.add_iface(rx, Some(link), &[d]);
    sim.capture(link);
    for &(at_ms, len) in sends {
        let pkt = ip::build_udp(s, d, 1, 2, 64, &vec![0u8; usize::from(len)]).unwrap();
        sim.schedule(Duration::from_millis(u64::from(at_ms)), move |sim| {
            sim.with_endpoint::<Sink, _>(tx, |e, _| {
                e.out.push(Action::Transmit {
                    iface: IfaceId(0),
                    next_hop: None,
                    packet: pkt,
                });
            });
        });
    }
    sim.run_until(Duration::from_secs(3600)).unwrap();
    (sim, rx, link)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn accounting_balances_and_time_is_monotonic(
        seed in any::<u64>(),
        lp in link_params(),
        sends in proptest::collection::vec((0u16..2000, 0u16..1400), 0..80),
    ) {
        let (sim, rx, link) = run(seed, &lp, &sends);
        let st = sim.link_stats(link);
        prop_assert_eq!(st.sent, sends.len() as u64);
        let too_big = sends.iter().filter(|(_, len)| usize::from(*len) + 48 > 1500).count() as u64;
        prop_assert_eq!(st.dropped_too_big, too_big);
        // Every packet that was not dropped arrives once, plus its duplicate.
        prop_assert_eq!(st.delivered, st.sent - st.lost - too_big + st.duplicated);
        let times = &sim.endpoint::<Sink>(rx).unwrap().rx;
        prop_assert_eq!(times.len() as u64, st.delivered);
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]), "delivery times never go backwards");
        // Nothing arrives before the propagation delay has passed.
        let first_send = sends.iter().map(|(t, _)| *t).min().unwrap_or(0);
        prop_assert!(times.iter().all(|t| *t >= Duration::from_millis(u64::from(first_send) + lp.delay_ms)));
    }

    #[test]
    fn a_run_is_a_function_of_its_seed(
        seed in any::<u64>(),
        lp in link_params(),
        sends in proptest::collection::vec((0u16..500, 0u16..600), 1..30),
    ) {
        let (a, _, la) = run(seed, &lp, &sends);
        let (b, _, lb) = run(seed, &lp, &sends);
        prop_assert_eq!(a.pcapng(&[la]), b.pcapng(&[lb]));
        prop_assert_eq!(a.link_stats(la), b.link_stats(lb));
    }

    #[test]
    fn event_queue_pops_in_time_then_insertion_order(times in proptest::collection::vec(0u64..20, 0..200)) {
        let mut q = EventQueue::new();
        for (i, t) in times.iter().enumerate() {
            q.push(Duration::from_millis(*t), i);
        }
        let mut expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
        expected.sort();
        let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop()).map(|(t, i)| (t.as_millis() as u64, i)).collect();
        prop_assert_eq!(got, expected);
    }
}
