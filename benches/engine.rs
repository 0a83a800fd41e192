//! Tokenize + fingerprint throughput on real files, one core, against the
//! bare tree-sitter parse of the same files: `cargo bench --bench engine`.
//!
//! Material: the same registry packages as the accuracy harness (fetched at
//! run time, cached under `$HOME/.cache/provscan-testdata`), up to
//! `PROVSCAN_BENCH_BYTES` (default 2 MiB) of files per language. Criterion
//! reports bytes/s for `parse`, `tokenize`, `fingerprint` (tokenize +
//! winnow with `Params::DEFAULT`) and `probe` (the lexer-only approximation
//! `scan` tries first, `engine::probe`, + winnow); a final table gives the
//! cost of each relative to the parse, from interleaved rounds in the same run.

#[allow(dead_code)] // shared with the accuracy harness, which reads more of it
#[path = "support/material.rs"]
mod material;
#[path = "../tests/shared/mod.rs"]
mod shared;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use engine::lang::Language;
use engine::probe::Prober;
use engine::token::Tokenizer;
use engine::winnow::fingerprint;
use engine::Params;

use material::{SourceFile, LANGUAGES};

fn files_by_language(limit: usize) -> anyhow::Result<Vec<(Language, Vec<SourceFile>)>> {
    let mut all = material::load(material::PACKAGES)?;
    // A fixed pseudo-random order (FNV-1a of the path), so that the cap keeps
    // a spread of file sizes and the same files on every run.
    let fnv = |s: &str| {
        s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
    };
    all.sort_by_key(|f| (fnv(&f.path), f.path.clone()));
    let mut out: Vec<(Language, Vec<SourceFile>)> =
        LANGUAGES.iter().map(|&l| (l, Vec::new())).collect();
    let mut taken = vec![0usize; LANGUAGES.len()];
    for f in all {
        // Only the grammar itself (C++-looking headers are left out of C).
        let Some(i) = LANGUAGES.iter().position(|&l| l == f.language) else {
            continue;
        };
        if taken[i] + f.bytes.len() > limit {
            continue;
        }
        taken[i] += f.bytes.len();
        out[i].1.push(f);
    }
    Ok(out)
}

#[derive(Default)]
struct Tools {
    tk: Tokenizer,
    prober: Prober,
}

fn parse(t: &mut Tools, lang: Language, files: &[SourceFile]) {
    for f in files {
        black_box(t.tk.parse_only(lang, black_box(&f.bytes)));
    }
}

fn tokenize(t: &mut Tools, lang: Language, files: &[SourceFile]) {
    for f in files {
        black_box(t.tk.tokenize(lang, black_box(&f.bytes)));
    }
}

fn fingerprints(t: &mut Tools, lang: Language, files: &[SourceFile]) {
    for f in files {
        let tokens = t.tk.tokenize(lang, black_box(&f.bytes));
        black_box(fingerprint(&tokens.tokens, Params::DEFAULT));
    }
}

fn probe(t: &mut Tools, lang: Language, files: &[SourceFile]) {
    for f in files {
        let tokens = t
            .prober
            .tokens(lang, black_box(&f.bytes))
            .unwrap_or_default();
        black_box(fingerprint(&tokens, Params::DEFAULT));
    }
}

type Stage = fn(&mut Tools, Language, &[SourceFile]);
const STAGES: [(&str, Stage); 4] = [
    ("parse", parse),
    ("tokenize", tokenize),
    ("fingerprint", fingerprints),
    ("probe", probe),
];

/// Median seconds per pass of each stage over `rounds` interleaved rounds.
fn interleaved(tk: &mut Tools, lang: Language, files: &[SourceFile], rounds: usize) -> [f64; 4] {
    let mut times = vec![Vec::new(); STAGES.len()];
    for _ in 0..rounds {
        for (i, (_, stage)) in STAGES.iter().enumerate() {
            let t = Instant::now();
            stage(tk, lang, files);
            times[i].push(t.elapsed().as_secs_f64());
        }
    }
    let mut out = [0.0; 4];
    for (i, mut t) in times.into_iter().enumerate() {
        t.sort_by(f64::total_cmp);
        out[i] = t[t.len() / 2];
    }
    out
}

fn main() -> anyhow::Result<()> {
    let limit = std::env::var("PROVSCAN_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2 << 20);
    let material = files_by_language(limit)?;
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut tk = Tools::default();
    for (lang, files) in &material {
        let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
        let mut group = criterion.benchmark_group(lang.name());
        group.throughput(Throughput::Bytes(bytes as u64));
        for (name, stage) in STAGES {
            group.bench_function(name, |b| b.iter(|| stage(&mut tk, *lang, files)));
        }
        group.finish();
    }
    criterion.final_summary();

    println!();
    println!(
        "Interleaved rounds (median of 7), one core, Params::DEFAULT = {:?}:",
        Params::DEFAULT
    );
    println!();
    println!("| language | files | bytes | parse MB/s | tokenize MB/s | fingerprint MB/s | probe MB/s | tokenize / parse | fingerprint / parse | probe / parse |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (lang, files) in &material {
        let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
        let [p, t, f, q] = interleaved(&mut tk, *lang, files, 7);
        let mbs = |s: f64| bytes as f64 / s / 1e6;
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2}× | {:.2}× | {:.2}× |",
            lang.name(),
            files.len(),
            bytes,
            mbs(p),
            mbs(t),
            mbs(f),
            mbs(q),
            t / p,
            f / p,
            q / p
        );
    }
    Ok(())
}
