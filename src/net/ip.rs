//! The few IPv6 facts the network core needs: the fixed header's addresses
//! and hop limit, prefix matching, and the Internet checksum for the toy
//! endpoints' UDP packets.
//!
//! Protocol parsing proper lives in the protocol crates; the simulator only
//! reads what a router or a link would.

use std::net::Ipv6Addr;

/// Length of the IPv6 fixed header.
pub const IPV6_HEADER_LEN: usize = 40;

/// Next-header value of UDP.
pub const NEXT_HEADER_UDP: u8 = 17;

/// The fields of an IPv6 fixed header that routing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Fixed {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Next header of the fixed header.
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Payload length field.
    pub payload_len: u16,
}

/// Reads the fixed header of `packet`; `None` if it is shorter than 40
/// bytes or its version is not 6.
pub fn read_fixed(packet: &[u8]) -> Option<Ipv6Fixed> {
    let hdr: &[u8; IPV6_HEADER_LEN] = packet.first_chunk()?;
    let [b0, _, _, _, p0, p1, nh, hl, rest @ ..] = *hdr;
    if b0 >> 4 != 6 {
        return None;
    }
    let (src, dst) = rest.split_at(16);
    Some(Ipv6Fixed {
        src: Ipv6Addr::from(<[u8; 16]>::try_from(src).ok()?),
        dst: Ipv6Addr::from(<[u8; 16]>::try_from(dst).ok()?),
        next_header: nh,
        hop_limit: hl,
        payload_len: u16::from_be_bytes([p0, p1]),
    })
}

/// Whether `addr` lies in `prefix/len` (`len` above 128 matches nothing).
pub fn in_prefix(addr: Ipv6Addr, prefix: Ipv6Addr, len: u8) -> bool {
    if len > 128 {
        return false;
    }
    if len == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(len));
    (u128::from(addr) & mask) == (u128::from(prefix) & mask)
}

/// Ones'-complement sum of `data` folded into `acc` (RFC 1071), not yet
/// complemented.
pub fn checksum_add(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        if let [a, b] = *c {
            acc = acc.wrapping_add(u32::from(u16::from_be_bytes([a, b])));
        }
    }
    if let [last] = *chunks.remainder() {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([last, 0])));
    }
    acc
}

/// Folds a ones'-complement sum to 16 bits and complements it.
pub fn checksum_finish(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The upper-layer checksum over the IPv6 pseudo-header (RFC 8200 §8.1) and
/// `upper` (whose checksum field must be zero).
pub fn pseudo_header_checksum(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, upper: &[u8]) -> u16 {
    let mut acc = checksum_add(0, &src.octets());
    acc = checksum_add(acc, &dst.octets());
    let len = u32::try_from(upper.len()).unwrap_or(u32::MAX);
    acc = checksum_add(acc, &len.to_be_bytes());
    acc = checksum_add(acc, &[0, 0, 0, next_header]);
    checksum_finish(checksum_add(acc, upper))
}

/// Builds an IPv6 packet carrying one UDP datagram, with a correct UDP
/// checksum. Returns `None` when the payload does not fit in 65 527 bytes.
pub fn build_udp(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    src_port: u16,
    dst_port: u16,
    hop_limit: u8,
    payload: &[u8],
) -> Option<Vec<u8>> {
    let udp_len = u16::try_from(payload.len().checked_add(8)?).ok()?;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src_port.to_be_bytes());
    udp.extend_from_slice(&dst_port.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut ck = pseudo_header_checksum(src, dst, NEXT_HEADER_UDP, &udp);
    if ck == 0 {
        ck = 0xffff; // RFC 8200 §8.1: a computed zero is sent as all ones
    }
    if let Some(field) = udp.get_mut(6..8) {
        field.copy_from_slice(&ck.to_be_bytes());
    }
    let mut pkt = Vec::with_capacity(IPV6_HEADER_LEN + udp.len());
    pkt.extend_from_slice(&[0x60, 0, 0, 0]);
    pkt.extend_from_slice(&udp_len.to_be_bytes());
    pkt.push(NEXT_HEADER_UDP);
    pkt.push(hop_limit);
    pkt.extend_from_slice(&src.octets());
    pkt.extend_from_slice(&dst.octets());
    pkt.extend_from_slice(&udp);
    Some(pkt)
}

/// A UDP datagram read back from an IPv6 packet whose fixed header is
/// directly followed by UDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpView<'a> {
    /// The IPv6 fixed header.
    pub ip: Ipv6Fixed,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Whether the UDP checksum verifies.
    pub checksum_ok: bool,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// Reads a UDP datagram that directly follows the IPv6 fixed header.
pub fn read_udp(packet: &[u8]) -> Option<UdpView<'_>> {
    let ip = read_fixed(packet)?;
    if ip.next_header != NEXT_HEADER_UDP {
        return None;
    }
    let end = IPV6_HEADER_LEN.checked_add(usize::from(ip.payload_len))?;
    let udp = packet.get(IPV6_HEADER_LEN..end)?;
    let hdr: &[u8; 8] = udp.first_chunk()?;
    let [s0, s1, d0, d1, l0, l1, _, _] = *hdr;
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    let udp = udp.get(..len)?;
    let payload = udp.get(8..)?;
    let checksum_ok = pseudo_header_checksum(ip.src, ip.dst, NEXT_HEADER_UDP, udp) == 0;
    Some(UdpView {
        ip,
        src_port: u16::from_be_bytes([s0, s1]),
        dst_port: u16::from_be_bytes([d0, d1]),
        checksum_ok,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_matching() {
        let p: Ipv6Addr = "2001:db8:1::".parse().unwrap();
        assert!(in_prefix("2001:db8:1::5".parse().unwrap(), p, 48));
        assert!(!in_prefix("2001:db8:2::5".parse().unwrap(), p, 48));
        assert!(in_prefix("::1".parse().unwrap(), p, 0));
        assert!(!in_prefix(p, p, 129));
        assert!(in_prefix(p, p, 128));
    }

    #[test]
    fn rfc1071_example_sum() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
        let sum = checksum_add(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(checksum_finish(sum), !0xddf2);
    }

    #[test]
    fn udp_round_trip_and_checksum() {
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let pkt = build_udp(src, dst, 1000, 2000, 64, b"hello").unwrap();
        assert_eq!(pkt.len(), 40 + 8 + 5);
        let v = read_udp(&pkt).unwrap();
        assert!(v.checksum_ok);
        assert_eq!(
            (v.src_port, v.dst_port, v.payload),
            (1000, 2000, &b"hello"[..])
        );
        let mut bad = pkt.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(!read_udp(&bad).unwrap().checksum_ok);
        for n in 0..pkt.len() {
            assert!(read_udp(&pkt[..n]).is_none(), "truncated at {n}");
        }
    }
}
