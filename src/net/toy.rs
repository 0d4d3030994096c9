//! Two trivial endpoints for examples and for testing the network itself: a
//! UDP pinger that sends numbered requests at a fixed interval and an echo
//! server that answers them.

use std::collections::VecDeque;
use std::net::Ipv6Addr;
use std::time::Duration;

use super::{Action, Endpoint, IfaceId, LinkEvent, ip};

/// UDP port the echo server listens on (the classic echo port).
pub const ECHO_PORT: u16 = 7;
/// UDP port the pinger sends from.
pub const PINGER_PORT: u16 = 40_000;

/// Sends `count` numbered UDP requests to an echo server, one every
/// `interval`, and counts the replies.
#[derive(Debug)]
pub struct UdpPinger {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    interval: Duration,
    count: u32,
    sent: u32,
    next_at: Option<Duration>,
    replies: Vec<(u32, Duration)>,
    send_times: Vec<Duration>,
    out: VecDeque<Action>,
}

impl UdpPinger {
    /// A pinger from `src` to `dst`; it starts when its interface attaches.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr, interval: Duration, count: u32) -> Self {
        Self {
            src,
            dst,
            interval,
            count,
            sent: 0,
            next_at: None,
            replies: Vec::new(),
            send_times: Vec::new(),
            out: VecDeque::new(),
        }
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// Replies received (duplicates included).
    pub fn replies(&self) -> u32 {
        u32::try_from(self.replies.len()).unwrap_or(u32::MAX)
    }

    /// Each reply's sequence number and round-trip time, in arrival order.
    pub fn rtts(&self) -> &[(u32, Duration)] {
        &self.replies
    }
}

impl Endpoint for UdpPinger {
    fn handle_packet(&mut self, now: Duration, _iface: IfaceId, packet: &[u8]) {
        let Some(udp) = ip::read_udp(packet) else {
            return;
        };
        if !udp.checksum_ok || udp.src_port != ECHO_PORT || udp.dst_port != PINGER_PORT {
            return;
        }
        let Some(seq) = udp
            .payload
            .first_chunk::<4>()
            .map(|b| u32::from_be_bytes(*b))
        else {
            return;
        };
        if let Some(sent_at) = usize::try_from(seq)
            .ok()
            .and_then(|i| self.send_times.get(i))
        {
            self.replies.push((seq, now.saturating_sub(*sent_at)));
        }
    }

    fn handle_timeout(&mut self, now: Duration) {
        let Some(at) = self.next_at else { return };
        if now < at {
            return;
        }
        let mut payload = self.sent.to_be_bytes().to_vec();
        payload.extend_from_slice(&[0x5a; 60]);
        if let Some(packet) =
            ip::build_udp(self.src, self.dst, PINGER_PORT, ECHO_PORT, 64, &payload)
        {
            self.out.push_back(Action::Transmit {
                iface: IfaceId(0),
                next_hop: None,
                packet,
            });
        }
        self.send_times.push(now);
        self.sent = self.sent.saturating_add(1);
        self.next_at = (self.sent < self.count).then(|| at.saturating_add(self.interval));
    }

    fn handle_link_event(&mut self, now: Duration, _iface: IfaceId, event: &LinkEvent) {
        if matches!(event, LinkEvent::Attached { .. })
            && self.sent == 0
            && self.next_at.is_none()
            && self.count > 0
        {
            self.next_at = Some(now);
        }
    }

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        self.next_at
    }
}

/// Answers every UDP datagram to port 7 with the same payload.
#[derive(Debug, Default)]
pub struct UdpEcho {
    answered: u64,
    out: VecDeque<Action>,
}

impl UdpEcho {
    /// An echo server.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests answered.
    pub fn answered(&self) -> u64 {
        self.answered
    }
}

impl Endpoint for UdpEcho {
    fn handle_packet(&mut self, _now: Duration, iface: IfaceId, packet: &[u8]) {
        let Some(udp) = ip::read_udp(packet) else {
            return;
        };
        if !udp.checksum_ok || udp.dst_port != ECHO_PORT {
            return;
        }
        if let Some(reply) = ip::build_udp(
            udp.ip.dst,
            udp.ip.src,
            ECHO_PORT,
            udp.src_port,
            64,
            udp.payload,
        ) {
            self.answered = self.answered.saturating_add(1);
            self.out.push_back(Action::Transmit {
                iface,
                next_hop: None,
                packet: reply,
            });
        }
    }

    fn handle_timeout(&mut self, _now: Duration) {}

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        None
    }
}
