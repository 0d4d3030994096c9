//! Wireshark's dissector, where it is right for Shim6 (see
//! `shim6-proto/tests/vectors/README.md`): the checksum status of every
//! control message `shim6-proto` emits, and the payload extension header
//! (next header, P bit and Receiver Context Tag). tshark reads the rest of
//! a control message one octet early and does not dissect options, so
//! nothing else is compared.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::net::Ipv6Addr;
use std::time::Duration;

use mobsim::{pcap, tshark};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use shim6_proto::wire::{
    ContextTag, ControlRepr, ErrorCode, Locator, LocatorList, LocatorPreferences, Locators,
    Message, MessageType, OptionRepr, OptionValue, Options, PayloadRepr, ProbeReport, ProbeReports,
    ReapState, Shim6Packet, VerificationMethod,
};

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, shim6: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&u16::try_from(shim6.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[140, 64]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(shim6);
    p
}

fn addr(r: &mut ChaCha20Rng) -> Ipv6Addr {
    let mut a = [0u8; 16];
    r.fill_bytes(&mut a);
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    Ipv6Addr::from(a)
}

fn tag(r: &mut ChaCha20Rng) -> ContextTag {
    ContextTag::from_bits_truncate(r.next_u64())
}

/// Owned option material, so that options can borrow it.
struct Material {
    validator: Vec<u8>,
    locators: Vec<Locator>,
    prefs: Vec<u8>,
    element_len: u8,
    cga: Vec<u8>,
    sig: Vec<u8>,
    reports: Vec<ProbeReport>,
    packet_in_error: Vec<u8>,
}

fn material(r: &mut ChaCha20Rng) -> Material {
    let n = 1 + (r.next_u32() % 6) as usize;
    let element_len = 1 + (r.next_u32() % 3) as u8;
    let mut bytes = |len: usize| {
        let mut v = vec![0u8; len];
        r.fill_bytes(&mut v);
        v
    };
    let validator = bytes(8 + 4 * (n % 4));
    let prefs = bytes(n * usize::from(element_len));
    let cga = bytes(100 + n * 13);
    let sig = bytes(64 + 64 * (n % 2));
    let packet_in_error = bytes(8 * n);
    let locators = (0..n)
        .map(|i| Locator {
            method: VerificationMethod(1 + (i % 2) as u8),
            addr: addr(r),
        })
        .collect();
    let reports = (0..n.min(4))
        .map(|_| ProbeReport {
            source: addr(r),
            destination: addr(r),
            nonce: r.next_u32(),
            data: r.next_u32(),
        })
        .collect();
    Material {
        validator,
        locators,
        prefs,
        element_len,
        cga,
        sig,
        reports,
        packet_in_error,
    }
}

fn options<'a>(m: &'a Material, t: MessageType, r: &mut ChaCha20Rng) -> Vec<OptionRepr<'a>> {
    let all = [
        OptionValue::ResponderValidator(&m.validator),
        OptionValue::LocatorList(LocatorList {
            generation: r.next_u32(),
            locators: Locators::List(&m.locators),
        }),
        OptionValue::LocatorPreferences(LocatorPreferences {
            generation: r.next_u32(),
            element_len: m.element_len,
            elements: &m.prefs,
        }),
        OptionValue::CgaParameters(&m.cga),
        OptionValue::CgaSignature(&m.sig),
        OptionValue::UlidPair {
            sender: addr(r),
            receiver: addr(r),
        },
        OptionValue::ForkedInstanceId(r.next_u32()),
        OptionValue::KeepaliveTimeout(r.next_u32() as u16),
    ];
    all.into_iter()
        .filter(|o| o.option_type().allowed_in(t) && r.next_u32().is_multiple_of(2))
        .map(OptionRepr::new)
        .collect()
}

fn message<'a>(i: usize, m: &'a Material, r: &mut ChaCha20Rng) -> Message<'a> {
    let n = r.next_u32();
    match i % 11 {
        0 => Message::I1 {
            context_tag: tag(r),
            initiator_nonce: n,
        },
        1 => Message::R1 {
            initiator_nonce: n,
            responder_nonce: r.next_u32(),
        },
        2 => Message::I2 {
            context_tag: tag(r),
            initiator_nonce: n,
            responder_nonce: r.next_u32(),
        },
        3 => Message::R2 {
            context_tag: tag(r),
            initiator_nonce: n,
        },
        4 => Message::R1bis {
            packet_context_tag: tag(r),
            responder_nonce: n,
        },
        5 => Message::I2bis {
            context_tag: tag(r),
            initiator_nonce: n,
            responder_nonce: r.next_u32(),
            packet_context_tag: tag(r),
        },
        6 => Message::UpdateRequest {
            context_tag: tag(r),
            request_nonce: n,
        },
        7 => Message::UpdateAck {
            context_tag: tag(r),
            request_nonce: n,
        },
        8 => Message::Keepalive {
            context_tag: tag(r),
        },
        9 => {
            let k = m.reports.len();
            let s = 1 + (n as usize) % k;
            Message::Probe {
                context_tag: tag(r),
                state: ReapState((n % 3) as u8),
                sent: ProbeReports::List(&m.reports[..s]),
                received: ProbeReports::List(&m.reports[s..]),
            }
        }
        _ => Message::Error {
            code: ErrorCode(1),
            pointer: (n % 2048) as u16,
            packet_in_error: &m.packet_in_error,
        },
    }
}

#[test]
fn tshark_agrees_on_checksums_and_payload_headers() {
    let mut r = ChaCha20Rng::seed_from_u64(5533);
    let mut packets = Vec::new();
    // (is_control, expected next header, expected context tag for payload headers)
    let mut expect: Vec<(bool, u8, u64)> = Vec::new();
    for i in 0..220 {
        let (src, dst) = (addr(&mut r), addr(&mut r));
        if i % 5 == 4 {
            let p = PayloadRepr {
                next_header: 59,
                context_tag: tag(&mut r),
            };
            let mut b = vec![0u8; 8];
            p.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
            packets.push(ipv6(src, dst, &b));
            expect.push((false, 59, p.context_tag.get()));
            continue;
        }
        let m = material(&mut r);
        let msg = message(i, &m, &mut r);
        let opts = options(&m, msg.msg_type(), &mut r);
        let c = ControlRepr {
            next_header: 59,
            message: msg,
            options: Options::List(&opts),
        };
        let mut b = vec![0u8; c.buffer_len()];
        c.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
        packets.push(ipv6(src, dst, &b));
        expect.push((true, 59, 0));
    }
    let capture = pcap::pcapng_one_interface(
        "shim6",
        packets
            .iter()
            .enumerate()
            .map(|(i, p)| (Duration::from_millis(i as u64), &p[..])),
    );
    let out = tshark::run(
        &capture,
        &[
            "-T",
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "shim6.p",
            "-e",
            "shim6.nxt",
            "-e",
            "shim6.checksum.status",
        ],
    )
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), packets.len());
    // The Receiver Context Tag line of each frame (frames start at column 0 with "Frame ").
    let verbose = tshark::run(&capture, &["-V"]).unwrap();
    let mut frame_tags: Vec<Option<String>> = Vec::new();
    for l in verbose.lines() {
        if l.starts_with("Frame ") {
            frame_tags.push(None);
        } else if let Some(t) = l.trim().strip_prefix("Receiver Context Tag: ")
            && let Some(last) = frame_tags.last_mut()
        {
            last.get_or_insert_with(|| t.to_lowercase());
        }
    }
    assert_eq!(frame_tags.len(), packets.len());
    let (mut controls, mut payloads) = (0, 0);
    for (i, (line, (control, nh, tag))) in lines.iter().zip(&expect).enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f[1], nh.to_string(), "frame {i}: next header");
        if *control {
            controls += 1;
            assert_eq!(f[0], "0", "frame {i}: P bit");
            // Wireshark's checksum status 1 is "Good".
            assert_eq!(f[2], "1", "frame {i}: checksum status");
        } else {
            payloads += 1;
            assert_eq!(f[0], "1", "frame {i}: P bit");
            let want: Vec<String> = tag.to_be_bytes()[2..]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(
                frame_tags[i],
                Some(want.join(" ")),
                "frame {i}: context tag"
            );
        }
    }
    assert_eq!((controls, payloads), (176, 44));
}
