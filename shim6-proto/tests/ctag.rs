//! Model test of the context tag allocator: random sequences of allocate,
//! release and reserve against a plain set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::collections::BTreeSet;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use shim6_proto::CtagError;
use shim6_proto::ctag::{ContextTagAllocator, CtagConfig};
use shim6_proto::wire::ContextTag;

#[derive(Debug, Clone)]
enum Op {
    Allocate,
    Release(usize),
    Reserve(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Allocate),
        2 => any::<usize>().prop_map(Op::Release),
        1 => any::<u64>().prop_map(Op::Reserve),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn allocator_matches_model(
        bits in 1u32..=8,
        max_live in 1usize..=300,
        quarantine in 0usize..=40,
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..400),
    ) {
        let cfg = CtagConfig { bits, max_live, quarantine };
        let mut a = ContextTagAllocator::new(cfg).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let space = 1u64 << bits;
        let mut live: BTreeSet<u64> = BTreeSet::new();
        let mut recent: Vec<u64> = Vec::new(); // released, newest last
        for o in ops {
            match o {
                Op::Allocate => match a.allocate(&mut rng) {
                    Ok(t) => {
                        prop_assert!(t.get() < space);
                        prop_assert!(live.insert(t.get()), "tag handed out twice");
                        // A quarantined tag only comes back when nothing else is free.
                        let window: BTreeSet<u64> = recent.iter().rev().take(quarantine).copied().collect();
                        if window.contains(&t.get()) {
                            let occupied = live.len() as u64 - 1 + window.len() as u64;
                            prop_assert!(occupied >= space, "quarantined tag reused early");
                        }
                    }
                    Err(CtagError::Full) => prop_assert_eq!(live.len(), max_live),
                    Err(CtagError::Exhausted) => prop_assert_eq!(live.len() as u64, space),
                    Err(e) => prop_assert!(false, "unexpected {e:?}"),
                },
                Op::Release(i) => {
                    if live.is_empty() {
                        prop_assert!(!a.release(ContextTag::new(space - 1).unwrap()));
                        continue;
                    }
                    let v = *live.iter().nth(i % live.len()).unwrap();
                    prop_assert!(a.release(ContextTag::new(v).unwrap()));
                    live.remove(&v);
                    prop_assert!(!a.release(ContextTag::new(v).unwrap()), "double release");
                    recent.push(v);
                }
                Op::Reserve(v) => {
                    let t = ContextTag::from_bits_truncate(v);
                    let ok = a.reserve(t);
                    let expect = t.get() < space && !live.contains(&t.get()) && live.len() < max_live;
                    prop_assert_eq!(ok, expect);
                    if ok {
                        live.insert(t.get());
                        recent.retain(|r| *r != t.get());
                    }
                }
            }
            prop_assert_eq!(a.live(), live.len());
            prop_assert!(a.live() <= max_live);
            for v in &live {
                prop_assert!(a.is_live(ContextTag::new(*v).unwrap()));
            }
        }
    }
}
