//! Two trivial endpoints over a lossy link; Wireshark's dissectors read the
//! capture back (tshark is installed by `.ci/run`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::net::Ipv6Addr;
use std::time::Duration;

use mobsim::net::toy::{ECHO_PORT, UdpEcho, UdpPinger};
use mobsim::net::{LinkConfig, Sim};
use mobsim::tshark;

#[test]
fn lossy_link_capture_dissects_cleanly() {
    let pa: Ipv6Addr = "2001:db8::a".parse().unwrap();
    let pb: Ipv6Addr = "2001:db8::b".parse().unwrap();
    let mut sim = Sim::new(11);
    let lan = sim.add_link(
        LinkConfig::new("lossy-lan")
            .delay(Duration::from_millis(15))
            .loss(0.3),
    );
    let p = sim.add_node(
        "pinger",
        UdpPinger::new(pa, pb, Duration::from_millis(50), 40),
    );
    let e = sim.add_node("echo", UdpEcho::new());
    sim.add_iface(p, Some(lan), &[pa]);
    sim.add_iface(e, Some(lan), &[pb]);
    sim.capture(lan);
    sim.run_until(Duration::from_secs(4)).unwrap();

    let pinger = sim.endpoint::<UdpPinger>(p).unwrap();
    let answered = sim.endpoint::<UdpEcho>(e).unwrap().answered();
    assert_eq!(pinger.sent(), 40);
    assert!(
        answered < 40 && u64::from(pinger.replies()) < answered,
        "loss in both directions"
    );
    // Every reply took one round trip of 2 x 15 ms.
    assert!(
        pinger
            .rtts()
            .iter()
            .all(|(_, rtt)| *rtt == Duration::from_millis(30))
    );

    let captured = sim.captured(lan);
    assert_eq!(
        captured.len() as u64,
        40 + answered,
        "the capture sees requests and replies"
    );
    let pcap = sim.pcapng(&[lan]);
    let packets = tshark::dissect(&pcap, &["udp.check_checksum:TRUE"])
        .expect("tshark runs (install it: apt-get install tshark)");
    assert_eq!(packets.len(), captured.len());
    let mut requests = 0;
    for (pkt, (at, bytes)) in packets.iter().zip(captured) {
        assert!(
            tshark::problems(pkt).is_empty(),
            "{:?}",
            tshark::problems(pkt)
        );
        assert_eq!(
            tshark::field(pkt, "frame.len"),
            Some(bytes.len().to_string().as_str())
        );
        // Virtual time survives the capture (if_tsresol = 9).
        let rel: f64 = tshark::field(pkt, "frame.time_relative")
            .unwrap()
            .parse()
            .unwrap();
        let first = captured[0].0.as_secs_f64();
        assert!((rel - (at.as_secs_f64() - first)).abs() < 1e-6);
        assert_eq!(
            tshark::field(pkt, "udp.checksum.status"),
            Some("1"),
            "UDP checksum good"
        );
        if tshark::field(pkt, "udp.dstport") == Some(&ECHO_PORT.to_string()) {
            requests += 1;
            assert_eq!(tshark::field(pkt, "ipv6.src"), Some("2001:db8::a"));
            assert_eq!(tshark::field(pkt, "ipv6.dst"), Some("2001:db8::b"));
        }
    }
    assert_eq!(requests, 40);
}
