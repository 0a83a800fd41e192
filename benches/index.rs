//! Index build and lookup benchmark on a real corpus fetched from the
//! registries (Debian source packages by default).
//!
//! ```text
//! cargo bench --bench index
//! PROVSCAN_BENCH_SPECS="crate:libz-sys@1.1.31,deb:zlib" cargo bench --bench index
//! ```
//!
//! Downloads are cached in `$PROVSCAN_TESTDATA` (default
//! `~/.cache/provscan-testdata`). Prints one table; `docs/index.md` keeps
//! the figures of the last run. Measures, in one run:
//! * the baseline: analysis alone (read, classify, tokenize, fingerprint) on all cores;
//! * the index build on all cores with each write path: SST files + ingestion
//!   (the default for versions over 4 MiB of new source) and merge operands in
//!   one write batch;
//! * bytes of index per byte of source, after the build and after a full compaction;
//! * peak RSS of the process (VmHWM) after the builds;
//! * lookups: single-hash and batched (1,000 hashes) `Index::postings`, on
//!   hits, misses and a 10 % hit mix.

#[path = "../tests/shared/mod.rs"]
mod shared;

use std::path::Path;

use shared::{dir_bytes, testdata};
use std::time::Instant;

use engine::{Analyzer, Params};
use indexer::{AddOptions, FileInput, Index, OpenOptions, VersionInput};
use rayon::prelude::*;

/// Versions from Debian 12's main suite (point releases), which stay on the
/// mirrors; the security suite keeps only its newest upload.
const DEFAULT_SPECS: &str = "deb:openssl=3.0.17-1~deb12u2,deb:curl,\
     deb:git,deb:sqlite3,deb:redis=5:7.0.15-1~deb12u7,\
     deb:nginx=1.22.1-9+deb12u9,deb:zlib,deb:lua5.4";

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

struct Build {
    seconds: f64,
    /// Bytes of the files the index kept (binary, generated, minified and
    /// oversized files are skipped by the analyzer).
    indexed_bytes: u64,
    bytes_on_disk: u64,
    compacted: u64,
    fingerprints: u64,
    contents: u64,
}

fn build(dir: &Path, corpus: &[VersionInput], opts: &AddOptions) -> Build {
    let _ = std::fs::remove_dir_all(dir);
    let index = Index::open(dir, &OpenOptions::default()).unwrap();
    let t = Instant::now();
    for v in corpus {
        index.add(v.clone(), opts).unwrap();
    }
    index.flush().unwrap();
    let seconds = t.elapsed().as_secs_f64();
    let bytes_on_disk = dir_bytes(dir);
    index.compact().unwrap();
    let compacted = dir_bytes(dir);
    let s = index.stats().unwrap();
    Build {
        seconds,
        bytes_on_disk,
        compacted,
        indexed_bytes: s.source_bytes,
        fingerprints: s.fingerprints,
        contents: s.contents,
    }
}

fn rate(n: usize, t: Instant) -> f64 {
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes harness=false benches
    }
    let specs = std::env::var("PROVSCAN_BENCH_SPECS").unwrap_or_else(|_| DEFAULT_SPECS.to_string());
    let opts = corpus::LoadOptions::new(testdata().join("downloads"));
    let mut corpus: Vec<VersionInput> = Vec::new();
    for spec in specs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parsed = corpus::SourceSpec::parse(spec).unwrap();
        for v in corpus::load(&parsed, &opts).unwrap_or_else(|e| panic!("{spec}: {e}")) {
            eprintln!(
                "loaded {}@{}: {} files",
                v.project,
                v.version,
                v.files.len()
            );
            corpus.push(v.into());
        }
    }
    let source_bytes: u64 = corpus
        .iter()
        .flat_map(|v| &v.files)
        .map(|f| f.bytes.len() as u64)
        .sum();
    let files: usize = corpus.iter().map(|v| v.files.len()).sum();
    let mb = source_bytes as f64 / 1e6;
    let threads = rayon::current_num_threads();
    println!("corpus: {specs}\n{files} files, {mb:.1} MB of source, {threads} threads");
    let rss_loaded = peak_rss_mb();

    // Baseline: analysis alone.
    let t = Instant::now();
    let all: Vec<&FileInput> = corpus.iter().flat_map(|v| &v.files).collect();
    let fps: usize = all
        .par_iter()
        .map_init(
            || Analyzer::new(Params::DEFAULT),
            |a, f| {
                a.analyze(Path::new(&f.path), &f.bytes)
                    .map(|x| x.fingerprints.len())
                    .unwrap_or(0)
            },
        )
        .sum();
    let analysis = t.elapsed().as_secs_f64();
    println!(
        "analysis only: {analysis:.1} s, {:.1} MB/s, {fps} fingerprints",
        mb / analysis
    );

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let batch = build(
        &dir,
        &corpus,
        &AddOptions {
            batch_limit_bytes: u64::MAX,
            ..AddOptions::default()
        },
    );
    let ingest = build(&dir, &corpus, &AddOptions::default());
    for (name, b) in [("write batch + merge", &batch), ("SST + ingest", &ingest)] {
        println!(
            "build, {name}: {:.1} s, {:.1} MB/s ({:.2}× analysis alone), index per byte indexed {:.3} B ({:.3} after compaction; per byte loaded {:.3}, {:.3}), {:.1} MB indexed, {} contents, {} fingerprints",
            b.seconds,
            mb / b.seconds,
            analysis / b.seconds,
            b.bytes_on_disk as f64 / b.indexed_bytes as f64,
            b.compacted as f64 / b.indexed_bytes as f64,
            b.bytes_on_disk as f64 / source_bytes as f64,
            b.compacted as f64 / source_bytes as f64,
            b.indexed_bytes as f64 / 1e6,
            b.contents,
            b.fingerprints,
        );
    }
    println!(
        "peak RSS: {:.0} MB (of which the corpus held in memory by this benchmark: about {:.0} MB)",
        peak_rss_mb(),
        rss_loaded
    );

    // Lookups on the SST-built index, reopened cold.
    let index = Index::open_reader(&dir, &OpenOptions::default()).unwrap();
    let mut hits: Vec<u64> = Vec::new();
    let mut an = Analyzer::new(Params::DEFAULT);
    for f in all.iter().step_by((all.len() / 400).max(1)) {
        if let Ok(a) = an.analyze(Path::new(&f.path), &f.bytes) {
            hits.extend(a.fingerprints.iter().map(|f| f.hash));
        }
        if hits.len() > 200_000 {
            break;
        }
    }
    let mut x = 0x1234_5678_9abc_def0u64;
    let misses: Vec<u64> = (0..hits.len())
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        })
        .collect();
    let mixed: Vec<u64> = misses
        .iter()
        .zip(&hits)
        .enumerate()
        .map(|(i, (m, h))| if i % 10 == 0 { *h } else { *m })
        .collect();
    for (name, keys) in [("misses", &misses), ("hits", &hits), ("10% hits", &mixed)] {
        let n = keys.len().min(50_000);
        let t = Instant::now();
        for h in &keys[..n] {
            std::hint::black_box(index.postings(std::slice::from_ref(h)).unwrap());
        }
        let single = rate(n, t);
        let t = Instant::now();
        let mut postings = 0usize;
        for chunk in keys.chunks(1000) {
            postings += index
                .postings(chunk)
                .unwrap()
                .postings
                .iter()
                .map(Vec::len)
                .sum::<usize>();
        }
        let batched = rate(keys.len(), t);
        println!(
            "lookup {name}: single {:.0} k/s ({:.1} µs each), batched×1000 {:.0} k/s ({:.2}× single), {postings} postings",
            single / 1e3,
            1e6 / single,
            batched / 1e3,
            batched / single
        );
    }
}
