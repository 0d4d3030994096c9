//! A plain IPv6 router: forwards by longest prefix match.

use std::collections::VecDeque;
use std::net::Ipv6Addr;
use std::time::Duration;

use super::{Action, Endpoint, IfaceId, ip};

/// One entry of a [`Router`]'s table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix.
    pub prefix: Ipv6Addr,
    /// Prefix length.
    pub len: u8,
    /// Interface to send on.
    pub iface: IfaceId,
    /// Next-hop router on that interface's link; `None` when the prefix is
    /// on-link.
    pub next_hop: Option<Ipv6Addr>,
}

/// What a router did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Packets forwarded.
    pub forwarded: u64,
    /// Packets without a matching route.
    pub no_route: u64,
    /// Packets whose hop limit ran out.
    pub hop_limit_exceeded: u64,
    /// Packets addressed to the router itself (it has no upper layers).
    pub local: u64,
    /// Packets that are not IPv6.
    pub malformed: u64,
}

/// An IPv6 router: each packet goes out on the route with the longest
/// matching prefix, its hop limit decremented. Packets whose hop limit would
/// reach zero, or without a route, are dropped and counted (the simulated
/// router sends no ICMPv6 errors).
///
/// Give its interfaces with [`super::Sim::add_router_iface`] so that hosts
/// on its links use it as their default router.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
    local: Vec<Ipv6Addr>,
    out: VecDeque<Action>,
    stats: RouterStats,
}

impl Router {
    /// A router with an empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route (builder style).
    pub fn route(
        mut self,
        prefix: Ipv6Addr,
        len: u8,
        iface: IfaceId,
        next_hop: Option<Ipv6Addr>,
    ) -> Self {
        self.add_route(Route {
            prefix,
            len,
            iface,
            next_hop,
        });
        self
    }

    /// Adds a route.
    pub fn add_route(&mut self, r: Route) {
        self.routes.push(r);
    }

    /// Removes every route for exactly `prefix/len`.
    pub fn remove_route(&mut self, prefix: Ipv6Addr, len: u8) {
        self.routes
            .retain(|r| !(r.len == len && ip::in_prefix(r.prefix, prefix, len)));
    }

    /// Declares one of the router's own addresses (packets to it are
    /// consumed, not forwarded).
    pub fn local(mut self, addr: Ipv6Addr) -> Self {
        self.local.push(addr);
        self
    }

    /// The route `dst` takes.
    pub fn lookup(&self, dst: Ipv6Addr) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| ip::in_prefix(dst, r.prefix, r.len))
            .max_by_key(|r| r.len)
    }

    /// The counters.
    pub fn stats(&self) -> RouterStats {
        self.stats
    }
}

impl Endpoint for Router {
    fn handle_packet(&mut self, _now: Duration, _iface: IfaceId, packet: &[u8]) {
        let Some(fixed) = ip::read_fixed(packet) else {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return;
        };
        if self.local.contains(&fixed.dst) {
            self.stats.local = self.stats.local.saturating_add(1);
            return;
        }
        if fixed.hop_limit <= 1 {
            self.stats.hop_limit_exceeded = self.stats.hop_limit_exceeded.saturating_add(1);
            return;
        }
        let Some(route) = self.lookup(fixed.dst).copied() else {
            self.stats.no_route = self.stats.no_route.saturating_add(1);
            return;
        };
        let mut p = packet.to_vec();
        if let Some(hl) = p.get_mut(7) {
            *hl = fixed.hop_limit.saturating_sub(1);
        }
        self.stats.forwarded = self.stats.forwarded.saturating_add(1);
        self.out.push_back(Action::Transmit {
            iface: route.iface,
            next_hop: route.next_hop,
            packet: p,
        });
    }

    fn handle_timeout(&mut self, _now: Duration) {}

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_wins_and_hop_limit_drops() {
        let mut r = Router::new()
            .route(a("::"), 0, IfaceId(0), Some(a("fe80::1")))
            .route(a("2001:db8::"), 32, IfaceId(1), None)
            .route(a("2001:db8:5::"), 48, IfaceId(2), None);
        assert_eq!(r.lookup(a("2001:db8:5::9")).unwrap().iface, IfaceId(2));
        assert_eq!(r.lookup(a("2001:db8:6::9")).unwrap().iface, IfaceId(1));
        assert_eq!(r.lookup(a("2002::1")).unwrap().iface, IfaceId(0));

        let pkt = ip::build_udp(a("2002::1"), a("2001:db8:5::9"), 1, 2, 2, b"x").unwrap();
        r.handle_packet(Duration::ZERO, IfaceId(0), &pkt);
        match r.poll_action() {
            Some(Action::Transmit {
                iface,
                next_hop,
                packet,
            }) => {
                assert_eq!(iface, IfaceId(2));
                assert_eq!(next_hop, None);
                assert_eq!(packet[7], 1);
                assert_eq!(&packet[8..], &pkt[8..]);
            }
            other => panic!("{other:?}"),
        }
        let dying = ip::build_udp(a("2002::1"), a("2001:db8:5::9"), 1, 2, 1, b"x").unwrap();
        r.handle_packet(Duration::ZERO, IfaceId(0), &dying);
        assert!(r.poll_action().is_none());
        assert_eq!(r.stats().hop_limit_exceeded, 1);
        r.remove_route(a("::"), 0);
        let lost = ip::build_udp(a("2001:db8:5::9"), a("2002::1"), 1, 2, 9, b"x").unwrap();
        r.handle_packet(Duration::ZERO, IfaceId(2), &lost);
        assert_eq!(r.stats().no_route, 1);
        assert_eq!(r.stats().forwarded, 1);
    }
}
