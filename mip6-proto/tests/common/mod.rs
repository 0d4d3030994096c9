//! A mobile node and its home agent wired back to back with zero delay,
//! for the RFC 5648 and RFC 4285 scripted tests.
#![allow(dead_code)]

use core::net::Ipv6Addr;
use core::time::Duration;

use mip6_proto::event::{FwdEvent, Output, RxDatagram, Transmit, TxExt};
use mip6_proto::ha::{HaConfig, HomeAgent};
use mip6_proto::mn::{MnConfig, MobileNode};
use mip6_proto::movement::Movement;
use mip6_proto::wire::mh::{BaStatus, BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
pub const S: Duration = Duration::from_secs(1);
pub const HOA: &str = "2001:db8:1::100";
pub const HA: &str = "2001:db8:1::1";
pub const COA1: &str = "2001:db8:2::200";
pub const COA2: &str = "2001:db8:3::300";
pub const COA3: &str = "2001:db8:4::400";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub at: Duration,
    pub from: &'static str,
    pub tx: Transmit,
    pub bytes: Vec<u8>,
}

impl Sent {
    pub fn repr(&self) -> MhRepr<'_> {
        MhRepr::parse_unverified(&MhPacket::new_checked(&self.bytes[..]).unwrap()).unwrap()
    }
    pub fn kind(&self) -> &'static str {
        match self.bytes.get(2) {
            Some(5) => "BU",
            Some(6) => "BA",
            _ => "?",
        }
    }
    /// (status, sequence, lifetime) of a BA.
    pub fn ba(&self) -> (u8, u16, u16) {
        let Message::BindingAck {
            status,
            sequence,
            lifetime,
            ..
        } = self.repr().message
        else {
            panic!("not a BA")
        };
        (status.0, sequence, lifetime)
    }
    /// (bid, status, h, care-of present) of every BID option.
    pub fn bids(&self) -> Vec<(u16, u8, bool, Option<core::net::IpAddr>)> {
        self.repr()
            .options
            .iter()
            .flatten()
            .filter_map(|o| match o {
                MobilityOption::BindingIdentifier {
                    bid,
                    status,
                    h,
                    care_of,
                } => Some((bid, status, h, care_of)),
                _ => None,
            })
            .collect()
    }
}

pub struct Pair {
    pub mn: MobileNode<ChaCha20Rng>,
    pub ha: HomeAgent<ChaCha20Rng>,
    pub now: Duration,
    pub sent: Vec<Sent>,
    pub events: Vec<(Duration, &'static str, FwdEvent)>,
    /// Drop messages for which this returns true.
    pub lose: fn(&Sent) -> bool,
    pub ha_results: Vec<Result<(), mip6_proto::ha::Dropped>>,
    pub mn_results: Vec<Result<(), mip6_proto::mn::Dropped>>,
}

impl Pair {
    pub fn new(mn_cfg: impl FnOnce(&mut MnConfig), ha_cfg: impl FnOnce(&mut HaConfig)) -> Self {
        let mut m = MnConfig::new(a(HOA), 64, Some(a(HA)));
        mn_cfg(&mut m);
        let mut h = HaConfig::new(a(HA), a("2001:db8:1::"), 64);
        h.dad = false;
        ha_cfg(&mut h);
        Self {
            mn: MobileNode::new(m, ChaCha20Rng::seed_from_u64(1), Duration::ZERO).unwrap(),
            ha: HomeAgent::new(h, ChaCha20Rng::seed_from_u64(2), Duration::ZERO).unwrap(),
            now: Duration::ZERO,
            sent: Vec::new(),
            events: Vec::new(),
            lose: |_| false,
            ha_results: Vec::new(),
            mn_results: Vec::new(),
        }
    }

    /// Delivers everything queued, repeatedly, at the current time.
    pub fn settle(&mut self) {
        for _ in 0..1000 {
            let mut msgs: Vec<(&'static str, Transmit, Vec<u8>)> = Vec::new();
            loop {
                let mut b = Vec::new();
                match self.mn.poll_output(&mut b) {
                    Some(Output::Transmit(t)) => msgs.push(("mn", t, b)),
                    Some(Output::Fwd(e)) => self.events.push((self.now, "mn", e)),
                    None => break,
                }
            }
            loop {
                let mut b = Vec::new();
                match self.ha.poll_output(&mut b) {
                    Some(Output::Transmit(t)) => msgs.push(("ha", t, b)),
                    Some(Output::Fwd(e)) => self.events.push((self.now, "ha", e)),
                    None => break,
                }
            }
            if msgs.is_empty() {
                return;
            }
            for (from, tx, bytes) in msgs {
                let s = Sent {
                    at: self.now,
                    from,
                    tx,
                    bytes,
                };
                self.sent.push(s.clone());
                if (self.lose)(&s) {
                    continue;
                }
                self.deliver(&s);
            }
        }
        panic!("no quiescence");
    }

    pub fn deliver(&mut self, s: &Sent) {
        let tx = s.tx;
        let (hao, rh2, final_dst) = match tx.ext {
            TxExt::HomeAddress(h) => (Some(h), None, tx.dst),
            TxExt::Type2Routing(h) => (None, Some(h), h),
            TxExt::None => (None, None, tx.dst),
        };
        let rx = RxDatagram {
            src: tx.src,
            dst: final_dst,
            hao,
            rh2,
            tunnelled: false,
            next_header: tx.next_header,
            payload: &s.bytes,
        };
        if s.from == "mn" {
            let r = self.ha.handle_datagram(self.now, &rx);
            self.ha_results.push(r);
        } else {
            let r = self.mn.handle_datagram(self.now, &rx);
            self.mn_results.push(r);
        }
    }

    pub fn run_until(&mut self, t: Duration) {
        self.settle();
        loop {
            let next = [self.mn.poll_timeout(), self.ha.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(n) if n <= t => {
                    self.now = n.max(self.now);
                    self.mn.handle_timeout(self.now);
                    self.ha.handle_timeout(self.now);
                    for x in [self.mn.poll_timeout(), self.ha.poll_timeout()]
                        .into_iter()
                        .flatten()
                    {
                        assert!(x > self.now, "a past deadline after handle_timeout");
                    }
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = t.max(self.now);
    }

    pub fn attach(&mut self, bid: u16, coa: &str) {
        self.mn.handle_movement(
            self.now,
            Movement::Moved {
                home: a(HOA),
                care_of: a(coa),
                iface: u32::from(bid),
                bid: Some(bid),
            },
        );
        self.settle();
    }

    pub fn lost(&mut self, bid: u16) {
        self.mn.handle_bid_lost(self.now, bid).unwrap();
        self.settle();
    }

    /// Messages sent from `from` of kind `kind`.
    pub fn msgs(&self, from: &str, kind: &str) -> Vec<&Sent> {
        self.sent
            .iter()
            .filter(|s| s.from == from && s.kind() == kind)
            .collect()
    }

    pub fn events_of(&self, who: &str) -> Vec<FwdEvent> {
        self.events
            .iter()
            .filter(|e| e.1 == who)
            .map(|e| e.2)
            .collect()
    }
}

/// A Binding Update to the home agent, emitted by the wire layer from
/// hand-listed fields (checksum over the home address and the HA).
pub fn bu_bytes(seq: u16, flags: BuFlags, lifetime: u16, opts: &[MobilityOption<'_>]) -> Vec<u8> {
    let repr = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: seq,
            flags,
            lifetime,
        },
        options: Options::List(opts),
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut MhPacket::new_unchecked(&mut b[..]), &a(HOA), &a(HA))
        .unwrap();
    b
}

/// Gives a Binding Update straight to the home agent (from `coa` with a
/// Home Address option).
pub fn to_ha(
    ha: &mut HomeAgent<ChaCha20Rng>,
    now: Duration,
    coa: &str,
    bytes: &[u8],
) -> Result<(), mip6_proto::ha::Dropped> {
    ha.handle_datagram(
        now,
        &RxDatagram {
            src: a(coa),
            dst: a(HA),
            hao: Some(a(HOA)),
            rh2: None,
            tunnelled: false,
            next_header: 135,
            payload: bytes,
        },
    )
}

/// Drains a home agent: forwarding events and messages.
pub fn drain_ha(ha: &mut HomeAgent<ChaCha20Rng>) -> (Vec<FwdEvent>, Vec<Sent>) {
    let (mut ev, mut msgs) = (Vec::new(), Vec::new());
    loop {
        let mut b = Vec::new();
        match ha.poll_output(&mut b) {
            Some(Output::Fwd(e)) => ev.push(e),
            Some(Output::Transmit(tx)) => msgs.push(Sent {
                at: Duration::ZERO,
                from: "ha",
                tx,
                bytes: b,
            }),
            None => return (ev, msgs),
        }
    }
}

pub const AHO: BuFlags = BuFlags(0x8000 | 0x4000 | 0x0040);
pub const AH: BuFlags = BuFlags(0x8000 | 0x4000);

pub fn st(s: BaStatus) -> u8 {
    s.0
}
