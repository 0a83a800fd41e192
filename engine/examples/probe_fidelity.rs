//! How closely the probe lexer reproduces the parsed token stream, per
//! language, on any tree of real code:
//!
//! ```sh
//! cargo run --release -p provscan-engine --example probe_fidelity -- DIR [--worst N] [--show DIFF]
//! ```
//!
//! Prints, per language, the share of the parse's winnowed fingerprints the
//! probe also selects, the share of files where it selects none of them,
//! both tokenizers' speed, and the token texts where the two disagree most.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use engine::lang::{classify, ClassifyOptions, Language};
use engine::probe::{agreement, Prober};
use engine::token::{Token, Tokenizer};
use engine::winnow::Params;

#[derive(Default)]
struct Tally {
    files: usize,
    bytes: usize,
    parsed: usize,
    shared: usize,
    blind_files: usize,
    parse_time: Duration,
    probe_time: Duration,
    diffs: HashMap<String, usize>,
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => files(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

fn text(bytes: &[u8], t: &Token) -> String {
    let s = String::from_utf8_lossy(&bytes[t.start as usize..t.end as usize]);
    let s: String = s.chars().take(24).collect();
    format!("{:?}:{s}", t.kind).replace('\n', "⏎")
}

fn record_diffs(
    bytes: &[u8],
    parsed: &[Token],
    probed: &[Token],
    diffs: &mut HashMap<String, usize>,
    show: Option<(&str, &Path)>,
) {
    let by_start: HashMap<u32, &Token> = parsed.iter().map(|t| (t.start, t)).collect();
    let probed_starts: HashSet<u32> = probed.iter().map(|t| t.start).collect();
    for t in probed {
        let key = match by_start.get(&t.start) {
            Some(p) if p.kind == t.kind && p.code == t.code && p.end == t.end => continue,
            Some(p) => format!("{} ≠ parse {}", text(bytes, t), text(bytes, p)),
            None => format!("{} (parse: none)", text(bytes, t)),
        };
        if let Some((pattern, path)) = show {
            if key.contains(pattern) && diffs.get(&key).copied().unwrap_or(0) < 3 {
                println!("  {key} at {}:{}", path.display(), t.line);
            }
        }
        *diffs.entry(key).or_default() += 1;
    }
    for p in parsed.iter().filter(|p| !probed_starts.contains(&p.start)) {
        *diffs
            .entry(format!("(probe: none) parse {}", text(bytes, p)))
            .or_default() += 1;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().expect("usage: probe_fidelity DIR [--worst N]"));
    let worst: usize = args
        .iter()
        .position(|a| a == "--worst")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(12);
    let show = args
        .iter()
        .position(|a| a == "--show")
        .and_then(|i| args.get(i + 1).cloned());
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    paths.sort();
    let (mut tokenizer, mut prober) = (Tokenizer::default(), Prober::default());
    let params = Params::DEFAULT;
    let mut tallies: HashMap<Language, Tally> = HashMap::new();
    for path in &paths {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Ok(lang) = classify(path, &bytes, &ClassifyOptions::default()) else {
            continue;
        };
        let t0 = Instant::now();
        let Some(probed) = prober.tokens(lang, &bytes) else {
            continue;
        };
        let t1 = Instant::now();
        let parsed = tokenizer.tokenize(lang, &bytes).tokens;
        let t2 = Instant::now();
        let tally = tallies.entry(lang).or_default();
        tally.files += 1;
        tally.bytes += bytes.len();
        tally.probe_time += t1 - t0;
        tally.parse_time += t2 - t1;
        let (want, shared) = agreement(&parsed, &probed, params);
        tally.parsed += want;
        tally.shared += shared;
        tally.blind_files += usize::from(want > 0 && shared == 0);
        let show = show.as_deref().map(|p| (p, path.as_path()));
        record_diffs(&bytes, &parsed, &probed, &mut tally.diffs, show);
    }
    let mut langs: Vec<_> = tallies.into_iter().collect();
    langs.sort_by_key(|(l, _)| *l);
    for (lang, t) in langs {
        let mb = t.bytes as f64 / 1e6;
        println!(
            "{:<11} files {:>5}  {:>6.1} MB  fingerprints kept {:.3}  files with none {:>3}  parse {:>5.1} MB/s  probe {:>6.1} MB/s",
            lang.name(),
            t.files,
            mb,
            t.shared as f64 / t.parsed.max(1) as f64,
            t.blind_files,
            mb / t.parse_time.as_secs_f64(),
            mb / t.probe_time.as_secs_f64(),
        );
        let mut diffs: Vec<_> = t.diffs.into_iter().collect();
        diffs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (d, n) in diffs.into_iter().take(worst) {
            println!("    {n:>7}  {d}");
        }
    }
}
