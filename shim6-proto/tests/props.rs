//! Property tests of the wire layer: `parse(emit(r)) == r` for every
//! representation the hand-written strategies produce, the critical bit,
//! truncations, corrupted checksums, and arbitrary octets never panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::net::Ipv6Addr;

use proptest::prelude::*;
use shim6_proto::wire::{
    ContextTag, ControlRepr, Error, ErrorCode, Locator, LocatorList, LocatorPreferences, Locators,
    Message, MessageType, OptionRepr, OptionType, OptionValue, Options, PayloadRepr, ProbeReport,
    ProbeReports, ReapState, Shim6Packet, Shim6Repr, VerificationMethod,
};

/// Owned model of an option, from which a borrowed `OptionRepr` is built.
#[derive(Debug, Clone)]
enum OptModel {
    Validator(Vec<u8>),
    Locators(u32, Vec<Locator>),
    Prefs(u32, u8, Vec<u8>),
    CgaParams(Vec<u8>),
    CgaSig(Vec<u8>),
    Ulids(Ipv6Addr, Ipv6Addr),
    Fii(u32),
    Keepalive(u16),
    Unknown(u16, Vec<u8>),
}

impl OptModel {
    fn repr(&self, critical: bool) -> OptionRepr<'_> {
        let value = match self {
            Self::Validator(v) => OptionValue::ResponderValidator(v),
            Self::Locators(g, l) => OptionValue::LocatorList(LocatorList {
                generation: *g,
                locators: Locators::List(l),
            }),
            Self::Prefs(g, n, e) => OptionValue::LocatorPreferences(LocatorPreferences {
                generation: *g,
                element_len: *n,
                elements: e,
            }),
            Self::CgaParams(v) => OptionValue::CgaParameters(v),
            Self::CgaSig(v) => OptionValue::CgaSignature(v),
            Self::Ulids(s, r) => OptionValue::UlidPair {
                sender: *s,
                receiver: *r,
            },
            Self::Fii(v) => OptionValue::ForkedInstanceId(*v),
            Self::Keepalive(t) => OptionValue::KeepaliveTimeout(*t),
            Self::Unknown(t, d) => OptionValue::Unknown {
                option_type: OptionType(*t),
                data: d,
            },
        };
        OptionRepr { critical, value }
    }
}

fn addr() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=max)
}

fn opt_model() -> impl Strategy<Value = OptModel> {
    prop_oneof![
        bytes(40).prop_map(OptModel::Validator),
        (
            any::<u32>(),
            proptest::collection::vec(
                (any::<u8>(), addr()).prop_map(|(m, a)| Locator {
                    method: VerificationMethod(m),
                    addr: a
                }),
                0..=10
            )
        )
            .prop_map(|(g, l)| OptModel::Locators(g, l)),
        (any::<u32>(), 1u8..=5, 0usize..=10).prop_flat_map(|(g, n, count)| {
            proptest::collection::vec(any::<u8>(), count * usize::from(n))
                .prop_map(move |e| OptModel::Prefs(g, n, e))
        }),
        bytes(200).prop_map(OptModel::CgaParams),
        bytes(140).prop_map(OptModel::CgaSig),
        (addr(), addr()).prop_map(|(s, r)| OptModel::Ulids(s, r)),
        any::<u32>().prop_map(OptModel::Fii),
        any::<u16>().prop_map(OptModel::Keepalive),
        // Types this crate does not know: 0, 8, 9, 11 and up.
        (
            prop_oneof![Just(0u16), Just(8), Just(9), 11u16..0x8000],
            bytes(20)
        )
            .prop_map(|(t, d)| OptModel::Unknown(t, d)),
    ]
}

fn tag() -> impl Strategy<Value = ContextTag> {
    (0u64..=ContextTag::MAX.get()).prop_map(|v| ContextTag::new(v).unwrap())
}

fn report() -> impl Strategy<Value = ProbeReport> {
    (addr(), addr(), any::<u32>(), any::<u32>()).prop_map(|(source, destination, nonce, data)| {
        ProbeReport {
            source,
            destination,
            nonce,
            data,
        }
    })
}

/// Owned model of a message's fixed fields.
#[derive(Debug, Clone)]
enum MsgModel {
    Simple(Message<'static>),
    Probe(ContextTag, u8, Vec<ProbeReport>, Vec<ProbeReport>),
    Error(u8, u16, Vec<u8>),
    Unknown(u8, u8, Vec<u8>),
}

impl MsgModel {
    fn message(&self) -> Message<'_> {
        match self {
            Self::Simple(m) => m.clone(),
            Self::Probe(t, s, sent, recv) => Message::Probe {
                context_tag: *t,
                state: ReapState(*s),
                sent: ProbeReports::List(sent),
                received: ProbeReports::List(recv),
            },
            Self::Error(c, p, d) => Message::Error {
                code: ErrorCode(*c),
                pointer: *p,
                packet_in_error: d,
            },
            Self::Unknown(t, ts, body) => Message::Unknown {
                msg_type: MessageType(*t),
                type_specific: *ts,
                body,
            },
        }
    }
}

fn msg_model() -> impl Strategy<Value = MsgModel> {
    let n = any::<u32>;
    prop_oneof![
        (tag(), n()).prop_map(|(t, a)| MsgModel::Simple(Message::I1 {
            context_tag: t,
            initiator_nonce: a
        })),
        (n(), n()).prop_map(|(a, b)| MsgModel::Simple(Message::R1 {
            initiator_nonce: a,
            responder_nonce: b
        })),
        (tag(), n(), n()).prop_map(|(t, a, b)| MsgModel::Simple(Message::I2 {
            context_tag: t,
            initiator_nonce: a,
            responder_nonce: b
        })),
        (tag(), n()).prop_map(|(t, a)| MsgModel::Simple(Message::R2 {
            context_tag: t,
            initiator_nonce: a
        })),
        (tag(), n()).prop_map(|(t, b)| MsgModel::Simple(Message::R1bis {
            packet_context_tag: t,
            responder_nonce: b
        })),
        (tag(), n(), n(), tag()).prop_map(|(t, a, b, p)| MsgModel::Simple(Message::I2bis {
            context_tag: t,
            initiator_nonce: a,
            responder_nonce: b,
            packet_context_tag: p
        })),
        (tag(), n()).prop_map(|(t, a)| MsgModel::Simple(Message::UpdateRequest {
            context_tag: t,
            request_nonce: a
        })),
        (tag(), n()).prop_map(|(t, a)| MsgModel::Simple(Message::UpdateAck {
            context_tag: t,
            request_nonce: a
        })),
        tag().prop_map(|t| MsgModel::Simple(Message::Keepalive { context_tag: t })),
        (
            tag(),
            0u8..4,
            proptest::collection::vec(report(), 0..=4),
            proptest::collection::vec(report(), 0..=4)
        )
            .prop_map(|(t, s, a, b)| MsgModel::Probe(t, s, a, b)),
        (
            0u8..0x80,
            any::<u16>(),
            (0usize..=20).prop_flat_map(|k| proptest::collection::vec(any::<u8>(), k * 8))
        )
            .prop_map(|(c, p, d)| MsgModel::Error(c, p, d)),
        (
            (0u8..0x80).prop_filter("unknown types", |t| !MessageType(*t).is_known()),
            0u8..0x80,
            (0usize..=10).prop_flat_map(|k| proptest::collection::vec(any::<u8>(), k * 8 + 2))
        )
            .prop_map(|(t, ts, b)| MsgModel::Unknown(t, ts, b)),
    ]
}

fn emit(r: &ControlRepr<'_>) -> Vec<u8> {
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
    b
}

/// What RFC 5533 §5.15 makes of these options in this message: the Pointer
/// of the first option with C=1 that is unknown or not valid for the type.
fn expected_critical(msg: &Message<'_>, opts: &[OptionRepr<'_>], fixed: usize) -> Option<u16> {
    if !msg.has_options() {
        return None;
    }
    let mut at = fixed;
    for o in opts {
        let ty = o.value.option_type();
        if o.critical && !ty.allowed_in(msg.msg_type()) {
            return Some(u16::try_from(at).unwrap());
        }
        at += o.buffer_len();
    }
    None
}

fn fixed_len(msg: &Message<'_>) -> usize {
    match msg {
        Message::I2 { .. } => 24,
        Message::I2bis { .. } => 32,
        Message::Probe { sent, received, .. } => 16 + 40 * (sent.len() + received.len()),
        _ => 16,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    //= https://www.rfc-editor.org/rfc/rfc5533#section-5.15
    //= type=test
    //# If C=0, then the option is silently ignored, and the rest of the
    //# message is processed.
    #[test]
    fn control_round_trip(
        m in msg_model(),
        opts in proptest::collection::vec((opt_model(), any::<bool>()), 0..=4),
        nh in prop_oneof![Just(59u8), any::<u8>()],
    ) {
        let list: Vec<OptionRepr<'_>> = opts.iter().map(|(o, c)| o.repr(*c)).collect();
        let message = m.message();
        let has = message.has_options();
        let r = ControlRepr { next_header: nh, message, options: Options::List(&list) };
        let b = emit(&r);
        prop_assert_eq!(b.len() % 8, 0);
        prop_assert_eq!(usize::from(b[1]) * 8 + 8, b.len());
        let view = Shim6Packet::new_checked(&b[..]).unwrap();
        prop_assert!(view.verify_checksum());
        let parsed = ControlRepr::parse(&view);
        match expected_critical(&r.message, &list, fixed_len(&r.message)) {
            Some(pointer) => prop_assert_eq!(parsed, Err(Error::UnrecognizedCriticalOption { pointer })),
            None => {
                let parsed = parsed.unwrap();
                if has {
                    prop_assert_eq!(&parsed, &r);
                } else {
                    // Error and unknown messages carry no options.
                    prop_assert_eq!(&parsed.message, &r.message);
                    prop_assert!(parsed.options.is_empty());
                }
                // Re-emitting the parsed (wire) form gives the same octets.
                prop_assert_eq!(emit(&parsed), b.clone());
            }
        }
        // Every truncation errors.
        for n in 0..b.len() {
            prop_assert!(Shim6Repr::parse(&Shim6Packet::new_unchecked(&b[..n])).is_err());
        }
    }

    #[test]
    fn corrupted_checksum_is_detected(
        m in msg_model(),
        opts in proptest::collection::vec(opt_model(), 0..=3),
        pick in any::<prop::sample::Index>(),
        bit in 0u32..8,
    ) {
        let list: Vec<OptionRepr<'_>> = opts.iter().map(|o| o.repr(false)).collect();
        let r = ControlRepr { next_header: 59, message: m.message(), options: Options::List(&list) };
        let mut b = emit(&r);
        let i = 4 + pick.index(b.len() - 4);
        b[i] ^= 1 << bit;
        let view = Shim6Packet::new_checked(&b[..]).unwrap();
        prop_assert!(!view.verify_checksum());
        prop_assert_eq!(ControlRepr::parse(&view), Err(Error::BadChecksum));
    }

    #[test]
    fn payload_round_trip(nh in any::<u8>(), t in tag(), upper in bytes(64)) {
        let r = PayloadRepr { next_header: nh, context_tag: t };
        let mut b = vec![0u8; 8];
        b.extend_from_slice(&upper);
        r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
        prop_assert_eq!(b[1], 0);
        prop_assert_eq!(b[2] & 0x80, 0x80);
        let view = Shim6Packet::new_checked(&b[..]).unwrap();
        prop_assert_eq!(Shim6Repr::parse(&view).unwrap(), Shim6Repr::Payload(r));
        prop_assert_eq!(view.payload(), &upper[..]);
    }

    #[test]
    fn arbitrary_octets_never_panic(data in bytes(600)) {
        if let Ok(view) = Shim6Packet::new_checked(&data[..])
            && let Ok(r) = Shim6Repr::parse(&view)
        {
            let mut out = vec![0u8; r.buffer_len()];
            r.emit(&mut Shim6Packet::new_unchecked(&mut out[..])).unwrap();
            prop_assert_eq!(Shim6Repr::parse(&Shim6Packet::new_checked(&out[..]).unwrap()).unwrap(), r);
        }
    }

    /// Random octets with a correct checksum reach the option parser.
    #[test]
    fn checksummed_random_control_messages_never_panic(
        t in 0u8..0x80, words in 1usize..=12, body in bytes(96), nh in any::<u8>()
    ) {
        let len = words * 8;
        let mut b = vec![0u8; len];
        for (d, s) in b.iter_mut().zip(body.iter().cycle()) { *d = *s; }
        b[0] = nh;
        b[1] = u8::try_from(words - 1).unwrap();
        b[2] = t;
        b[3] &= 0xfe;
        b[4] = 0;
        b[5] = 0;
        let c = shim6_proto::wire::checksum(&b);
        b[4..6].copy_from_slice(&c.to_be_bytes());
        let view = Shim6Packet::new_checked(&b[..]).unwrap();
        if let Ok(r) = ControlRepr::parse(&view) {
            let opts: Vec<OptionRepr<'_>> = r.options.iter().collect();
            let typed = ControlRepr { options: Options::List(&opts), ..r.clone() };
            let out = emit(&typed);
            prop_assert_eq!(ControlRepr::parse(&Shim6Packet::new_checked(&out[..]).unwrap()).unwrap(), r);
        }
    }
}

#[test]
fn too_long_messages_are_refused() {
    let big = vec![0u8; 2100];
    let opts = [OptionRepr::new(OptionValue::ResponderValidator(&big))];
    let r = ControlRepr {
        next_header: 59,
        message: Message::R1 {
            initiator_nonce: 1,
            responder_nonce: 2,
        },
        options: Options::List(&opts),
    };
    let mut b = vec![0u8; r.buffer_len()];
    assert_eq!(
        r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])),
        Err(Error::TooLong)
    );
    // 16 probe reports do not fit in the 4-bit Psent.
    let reports = vec![
        ProbeReport {
            source: Ipv6Addr::LOCALHOST,
            destination: Ipv6Addr::LOCALHOST,
            nonce: 0,
            data: 0
        };
        16
    ];
    let r = ControlRepr {
        next_header: 59,
        message: Message::Probe {
            context_tag: ContextTag::MAX,
            state: ReapState::EXPLORING,
            sent: ProbeReports::List(&reports),
            received: ProbeReports::default(),
        },
        options: Options::EMPTY,
    };
    let mut b = vec![0u8; r.buffer_len()];
    assert_eq!(
        r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])),
        Err(Error::TooLong)
    );
    // A buffer one octet short.
    let r = ControlRepr {
        next_header: 59,
        message: Message::Keepalive {
            context_tag: ContextTag::MAX,
        },
        options: Options::EMPTY,
    };
    let mut b = vec![0u8; r.buffer_len() - 1];
    assert_eq!(
        r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])),
        Err(Error::BufferTooSmall)
    );
}

#[test]
fn inconsistent_option_reprs_are_refused_not_panicking() {
    let prefs = [OptionRepr::new(OptionValue::LocatorPreferences(
        LocatorPreferences {
            generation: 1,
            element_len: 2,
            elements: &[1, 2, 3],
        },
    ))];
    let r = ControlRepr {
        next_header: 59,
        message: Message::UpdateRequest {
            context_tag: ContextTag::MAX,
            request_nonce: 1,
        },
        options: Options::List(&prefs),
    };
    let mut b = vec![0u8; r.buffer_len()];
    assert_eq!(
        r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])),
        Err(Error::BadValue)
    );
    let locs = [OptionRepr::new(OptionValue::LocatorList(LocatorList {
        generation: 1,
        locators: Locators::Wire {
            methods: &[1, 2],
            addrs: &[0; 16],
        },
    }))];
    let r = ControlRepr {
        options: Options::List(&locs),
        ..r
    };
    let mut b = vec![0u8; r.buffer_len()];
    assert_eq!(
        r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])),
        Err(Error::BadLength)
    );
}
