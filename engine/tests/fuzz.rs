//! Property-based fuzzing of everything that reads a file's bytes before
//! the index is consulted: classification, the probe lexer and the
//! tokenizer, on every language. The property is the one a scan needs of
//! hostile input: no panic, and an answer in bounded time.
//!
//! The default suite runs a fixed seed and [`DEFAULT_CASES`] inputs per
//! property; the `#[ignore]`d twins run [`LONG_CASES`] from fresh seeds
//! (`cargo test --workspace --test fuzz -- --ignored`). docs/policy.md
//! records how many inputs have been run.

use std::path::Path;
use std::time::{Duration, Instant};

use engine::lang::{classify, ClassifyOptions, Language};
use engine::probe::Prober;
use engine::token::Tokenizer;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

const DEFAULT_CASES: u32 = 48;
const LONG_CASES: u32 = 500;
/// Per input and language, far above what any of them takes.
const BOUND: Duration = Duration::from_secs(20);

fn config(cases: u32, fixed: bool) -> Config {
    Config {
        cases,
        rng_seed: if fixed {
            RngSeed::Fixed(0x5ca1_ab1e)
        } else {
            RngSeed::Random
        },
        failure_persistence: None,
        ..Config::default()
    }
}

/// Bytes that look like code often enough to reach deep lexer states:
/// quotes, comment openers, raw-string prefixes, braces, escapes, UTF-8.
fn code_like() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> =
        b"ab1_ \n\t\r\"'`$#{}()[]<>/*\\-+.:;,!=?%&|^~rRbBuUL@xX0\xc3\xa9\xe2\x82\xac\xff\x00"
            .to_vec();
    prop_oneof![
        proptest::collection::vec(proptest::sample::select(alphabet), 0..1500),
        proptest::collection::vec(any::<u8>(), 0..1500),
        // Deep nesting and long runs.
        (
            1usize..3000,
            proptest::sample::select(b"({[\"'/*#<".to_vec())
        )
            .prop_map(|(n, c)| vec![c; n]),
    ]
}

fn check_all_languages(bytes: &[u8], prober: &mut Prober, tokenizer: &mut Tokenizer) {
    let _ = classify(Path::new("x.c"), bytes, &ClassifyOptions::default());
    for lang in Language::ALL {
        let started = Instant::now();
        let probed = prober.tokens(lang, bytes);
        let parsed = tokenizer.tokenize(lang, bytes);
        assert!(
            started.elapsed() < BOUND,
            "{lang:?} took {:?}",
            started.elapsed()
        );
        for t in probed.iter().flatten().chain(&parsed.tokens) {
            assert!(
                t.start <= t.end && t.end as usize <= bytes.len(),
                "{lang:?}: {t:?}"
            );
        }
    }
}

fn run(cfg: Config) {
    let state =
        std::cell::RefCell::new((Prober::default(), Tokenizer::new(Duration::from_secs(5))));
    let mut runner = proptest::test_runner::TestRunner::new(cfg);
    runner
        .run(&code_like(), |bytes| {
            let (prober, tokenizer) = &mut *state.borrow_mut();
            check_all_languages(&bytes, prober, tokenizer);
            Ok(())
        })
        .unwrap();
}

#[test]
fn lexers_and_tokenizer_survive_any_bytes() {
    run(config(DEFAULT_CASES, true));
}

#[test]
#[ignore = "long fuzz run: cargo test --workspace --test fuzz -- --ignored"]
fn lexers_and_tokenizer_survive_any_bytes_long() {
    run(config(LONG_CASES, false));
}
