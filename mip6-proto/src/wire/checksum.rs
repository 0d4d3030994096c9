//! The Internet checksum (RFC 1071) with the IPv6 pseudo-header (RFC 8200 §8.1).

use core::net::Ipv6Addr;

/// Adds `data` to the one's-complement accumulator `acc` (big-endian 16-bit words,
/// an odd final octet padded with zero). Returns a value folded to 16 bits.
///
/// The sum runs over 32-bit words in a 64-bit accumulator and folds once at
/// the end (RFC 1071 §2: deferred carries, any word size).
#[must_use]
#[inline]
pub fn accumulate(acc: u32, data: &[u8]) -> u32 {
    let mut sum = u64::from(acc);
    let mut quads = data.chunks_exact(4);
    for q in &mut quads {
        if let Some(w) = q.first_chunk::<4>() {
            sum = sum.wrapping_add(u64::from(u32::from_be_bytes(*w)));
        }
    }
    let rest = quads.remainder();
    let mut pairs = rest.chunks_exact(2);
    for c in &mut pairs {
        if let Some(w) = c.first_chunk::<2>() {
            sum = sum.wrapping_add(u64::from(u16::from_be_bytes(*w)));
        }
    }
    if let Some(&last) = pairs.remainder().first() {
        sum = sum.wrapping_add(u64::from(last) << 8);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff).wrapping_add(sum >> 16);
    }
    u32::try_from(sum).unwrap_or(0xffff)
}

/// Accumulates the IPv6 pseudo-header: source, destination, upper-layer
/// length (32 bits) and next header.
#[must_use]
pub fn pseudo_header(src: &Ipv6Addr, dst: &Ipv6Addr, upper_len: u32, next_header: u8) -> u32 {
    let mut acc = accumulate(0, &src.octets());
    acc = accumulate(acc, &dst.octets());
    acc = accumulate(acc, &upper_len.to_be_bytes());
    accumulate(acc, &[0, 0, 0, next_header])
}

/// Folds the accumulator and returns its one's complement, ready to store.
#[must_use]
pub fn finish(acc: u32) -> u16 {
    let mut a = acc;
    while a > 0xffff {
        a = (a & 0xffff).wrapping_add(a >> 16);
    }
    // `a <= 0xffff` here, so the cast is lossless.
    !u16::try_from(a).unwrap_or(0xffff)
}

/// The checksum of an upper-layer message `data` (checksum field zeroed or
/// included, see [`verify`]) sent from `src` to `dst` with next header `nh`.
#[must_use]
pub fn compute(src: &Ipv6Addr, dst: &Ipv6Addr, nh: u8, data: &[u8]) -> u16 {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    finish(accumulate(pseudo_header(src, dst, len, nh), data))
}

/// True when `data`, with its checksum field in place, verifies.
#[must_use]
pub fn verify(src: &Ipv6Addr, dst: &Ipv6Addr, nh: u8, data: &[u8]) -> bool {
    compute(src, dst, nh, data) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
        let acc = accumulate(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(acc, 0xddf2);
        // The same words in other groupings give the same sum.
        let acc3 = accumulate(
            accumulate(0, &[0x00, 0x01]),
            &[0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7],
        );
        assert_eq!(acc3, 0xddf2);
        assert_eq!(finish(acc), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(accumulate(0, &[0x12]), 0x1200);
    }
}
