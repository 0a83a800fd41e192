//! The probe lexer (`engine::probe`) against the parse, on real packages
//! fetched from the registries: `scan` parses only files whose probe
//! fingerprints hit the index, so a probe that drifts from the parse (a
//! grammar upgrade, a new lexing rule) would silently lose copies. Each
//! language must keep nearly all of the parse's winnowed fingerprints, and
//! no file with a real number of fingerprints may share none of them.

#[allow(dead_code)] // the accuracy harness uses more of it
#[path = "../benches/support/material.rs"]
mod material;
#[path = "shared/mod.rs"]
mod shared;

use std::collections::BTreeMap;

use engine::lang::Language;
use engine::probe::{agreement, Prober};
use engine::token::Tokenizer;
use engine::Params;
use material::{Package, Role};

/// One package per language, the smaller ones of the accuracy harness.
const PACKAGES: &[Package] = &[
    Package {
        spec: "crate:lua-src@547.0.0",
        role: Role::Donor,
        include: &["lua-5.4"],
    },
    Package {
        spec: "crate:serde_json@1.0.154",
        role: Role::Donor,
        include: &[],
    },
    Package {
        spec: "pypi:requests==2.32.3",
        role: Role::Donor,
        include: &[],
    },
    Package {
        spec: "npm:acorn@8.12.1",
        role: Role::Donor,
        include: &[],
    },
];

#[derive(Default, Debug)]
struct Agreement {
    files: usize,
    parsed: usize,
    shared: usize,
    /// Files with at least 10 fingerprints of which the probe has none.
    blind: Vec<String>,
}

#[test]
fn probe_keeps_the_parse_fingerprints_on_real_code() {
    let files = material::load(PACKAGES).expect("registry packages");
    let (mut tokenizer, mut prober) = (Tokenizer::default(), Prober::default());
    let mut by_language: BTreeMap<Language, Agreement> = BTreeMap::new();
    for f in &files {
        let Some(probed) = prober.tokens(f.language, &f.bytes) else {
            continue;
        };
        let parsed = tokenizer.tokenize(f.language, &f.bytes).tokens;
        let (want, shared) = agreement(&parsed, &probed, Params::DEFAULT);
        let a = by_language.entry(f.language).or_default();
        a.files += 1;
        a.parsed += want;
        a.shared += shared;
        if want >= 10 && shared == 0 {
            a.blind.push(format!("{} {}", f.package, f.path));
        }
    }
    for lang in [
        Language::C,
        Language::Rust,
        Language::Python,
        Language::JavaScript,
    ] {
        let a = by_language
            .get(&lang)
            .unwrap_or_else(|| panic!("no {lang:?} files"));
        let share = a.shared as f64 / a.parsed.max(1) as f64;
        eprintln!(
            "{lang:?}: {} files, {share:.3} of the parse's fingerprints",
            a.files
        );
        assert!(a.parsed >= 2_000, "{lang:?}: too little material: {a:?}");
        assert!(share >= 0.95, "{lang:?}: only {share:.3} shared");
        assert!(a.blind.is_empty(), "{lang:?}: probe blind to {:?}", a.blind);
    }
}
