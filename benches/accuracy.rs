//! Accuracy of snippet matching on real code: `cargo bench --bench accuracy`.
//!
//! Snippets of 5, 10, 20 and 50 lines are taken from donor packages, mutated
//! (T1 layout and comments, T2 + renaming and literals, T3 + edited lines),
//! pasted into files of disjoint host packages of the same language, and the
//! mutated hosts are matched against the donor corpus the way
//! `provscan compare` does. Pristine host files give the false findings.
//! See `docs/accuracy.md` for the method and the results.
//!
//! Environment (all optional):
//! - `PROVSCAN_K`, `PROVSCAN_W`: winnowing parameters (default `Params::DEFAULT`);
//! - `PROVSCAN_MAX_GAP`, `PROVSCAN_MIN_TOKENS`, `PROVSCAN_MIN_LINES`: `AlignParams`
//!   (default `MatchParams::for_k(k)`);
//! - `PROVSCAN_FAMILY=1`: match only origins of the target's language family
//!   (`compare` does not filter today);
//! - `PROVSCAN_NORM`: `names` (the engine's), `text` (identifiers hashed by
//!   their text), `shape` (all identifiers alike);
//! - `PROVSCAN_TRIALS`: trials per cell (default 240), `PROVSCAN_SEED`;
//! - `PROVSCAN_SWEEP`: `1` for the built-in list of settings, or settings
//!   such as `k=16,w=8;k=20,w=12,gap=60,norm=text`: one summary row each;
//! - `PROVSCAN_VERBOSE=1`: print every false finding;
//! - `PROVSCAN_DEBUG=1` (or `T2`, `T3:20`, …): explain every missed copy
//!   of that mutation and size (10 lines unless given) on stderr; with
//!   `PROVSCAN_DEBUG_RANGE=1` also every finding of those trials that
//!   reaches past the paste, both sides' lines printed;
//! - `PROVSCAN_TESTDATA`: download cache (default `$HOME/.cache/provscan-testdata`).

#[path = "support/matching.rs"]
mod matching;
#[path = "support/material.rs"]
mod material;
#[path = "support/mutate.rs"]
mod mutate;
#[path = "../tests/shared/mod.rs"]
mod shared;

use std::collections::BTreeMap;
use std::time::Instant;

use engine::lang::Language;
use engine::matcher::{Finding, MatchParams};
use engine::token::{Token, TokenKind, Tokenizer};
use engine::winnow::fingerprint;
use engine::{Fingerprint, Params};
use rayon::prelude::*;

use matching::Corpus;
use material::{Role, SourceFile, LANGUAGES};
use mutate::{Mutation, Rng};

const SIZES: [usize; 4] = [5, 10, 20, 50];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Norm {
    /// The engine's: names by their pattern of reuse.
    Names,
    /// Baseline: every identifier hashed by its text.
    Text,
    /// Every identifier the same token (structure only).
    Shape,
}

#[derive(Clone, Copy, Debug)]
struct Setting {
    params: Params,
    max_gap: Option<u32>,
    min_tokens: Option<u32>,
    min_lines: Option<u32>,
    norm: Norm,
    /// Match only origins of the target's language family (not done by `compare` today).
    family: bool,
    /// `MatchParams::dense_radius` (None: the default).
    dense: Option<u32>,
    /// `MatchParams::dense_edges_only` (None: the default).
    edges: Option<bool>,
    /// 1: match only files whose probe fingerprints (`engine::probe`) hit,
    /// as `scan` did before matcher v2; 2: match the probe's tokens instead
    /// of the parse's on the target side, as `scan` does now; 3: the
    /// probe's tokens on both sides (an index built by the lexer).
    probe: u32,
    /// 2: seed, extend and verify against the origin's token stream
    /// (`engine::pipeline`, what `scan` and `compare` run); 1: the first
    /// matcher, winnowed hits chained into spans (`engine::matcher::match_file`).
    matcher: u32,
}

impl Setting {
    fn match_params(&self) -> MatchParams {
        let mut m = MatchParams::for_k(self.params.k);
        if let Some(g) = self.max_gap {
            m.align.max_gap = g;
        }
        if let Some(t) = self.min_tokens {
            // The first matcher's floor and the second's verify floor alike.
            m.align.min_tokens = t;
            m.verify.min_matches = t;
        }
        if let Some(l) = self.min_lines {
            m.align.min_lines = l;
        }
        if let Some(d) = self.dense {
            m.dense_radius = d;
        }
        if let Some(e) = self.edges {
            m.dense_edges_only = e;
        }
        m
    }

    fn label(&self) -> String {
        let a = self.match_params().align;
        format!(
            "k={} w={} distinct={} gap={} min_tokens={} min_lines={} dense={}{} norm={}{}",
            self.params.k,
            self.params.w,
            self.params.min_distinct,
            a.max_gap,
            a.min_tokens,
            a.min_lines,
            self.match_params().dense_radius,
            if self.match_params().dense_edges_only {
                " edges=1"
            } else {
                " edges=0"
            },
            format!("{:?}", self.norm).to_lowercase(),
            if self.family { " family=1" } else { "" },
        ) + &match self.probe {
            0 => String::new(),
            n => format!(" probe={n}"),
        } + &format!(" matcher={}", self.matcher)
    }

    fn from_env() -> anyhow::Result<Setting> {
        let num = |name: &str| -> anyhow::Result<Option<u32>> {
            std::env::var(name)
                .ok()
                .map(|v| {
                    v.parse::<u32>()
                        .map_err(|e| anyhow::anyhow!("{name}={v}: {e}"))
                })
                .transpose()
        };
        let mut s = Setting {
            params: Params::DEFAULT,
            max_gap: num("PROVSCAN_MAX_GAP")?,
            min_tokens: num("PROVSCAN_MIN_TOKENS")?,
            min_lines: num("PROVSCAN_MIN_LINES")?,
            norm: Norm::Names,
            family: num("PROVSCAN_FAMILY")? == Some(1),
            dense: num("PROVSCAN_DENSE")?,
            edges: num("PROVSCAN_EDGES")?.map(|e| e == 1),
            probe: num("PROVSCAN_PROBE")?.unwrap_or(0),
            matcher: num("PROVSCAN_MATCHER")?.unwrap_or(2),
        };
        if let Some(k) = num("PROVSCAN_K")? {
            s.params.k = k as usize;
        }
        if let Some(w) = num("PROVSCAN_W")? {
            s.params.w = w as usize;
        }
        if let Some(d) = num("PROVSCAN_MIN_DISTINCT")? {
            s.params.min_distinct = d as usize;
        }
        if let Ok(n) = std::env::var("PROVSCAN_NORM") {
            s.norm = parse_norm(&n)?;
        }
        Ok(s)
    }

    /// `k=16,w=8,gap=80,min_tokens=30,min_lines=5,norm=text`; unset keys keep defaults.
    fn parse(spec: &str) -> anyhow::Result<Setting> {
        let mut s = Setting {
            params: Params::DEFAULT,
            max_gap: None,
            min_tokens: None,
            min_lines: None,
            norm: Norm::Names,
            family: false,
            dense: None,
            edges: None,
            probe: 0,
            matcher: 2,
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("setting {part:?}: expected key=value"))?;
            let n = || {
                value
                    .parse::<u32>()
                    .map_err(|e| anyhow::anyhow!("{part}: {e}"))
            };
            match key {
                "k" => s.params.k = n()? as usize,
                "w" => s.params.w = n()? as usize,
                "gap" => s.max_gap = Some(n()?),
                "min_tokens" => s.min_tokens = Some(n()?),
                "min_lines" => s.min_lines = Some(n()?),
                "norm" => s.norm = parse_norm(value)?,
                "family" => s.family = n()? == 1,
                "dense" => s.dense = Some(n()?),
                "edges" => s.edges = Some(n()? == 1),
                "probe" => s.probe = n()?,
                "matcher" => s.matcher = n()?,
                "distinct" => s.params.min_distinct = n()? as usize,
                _ => anyhow::bail!("setting {part:?}: unknown key {key}"),
            }
        }
        Ok(s)
    }
}

fn parse_norm(n: &str) -> anyhow::Result<Norm> {
    Ok(match n {
        "names" => Norm::Names,
        "text" => Norm::Text,
        "shape" => Norm::Shape,
        other => anyhow::bail!("PROVSCAN_NORM={other}: expected names, text or shape"),
    })
}

/// The settings tried while choosing the defaults (see docs/accuracy.md).
const SWEEP: &str = "\
k=20,w=12,min_tokens=40;k=20,w=12,min_tokens=40,family=1;k=20,w=12,min_tokens=50,family=1;\
k=20,w=8,min_tokens=40,family=1;k=20,w=4,min_tokens=32,family=1;k=20,w=4,min_tokens=24,family=1;\
k=12,w=4,min_tokens=32,family=1;k=16,w=4,min_tokens=40,family=1;k=16,w=8,min_tokens=40,family=1;\
k=16,w=12,min_tokens=40,family=1;k=24,w=8,min_tokens=40;k=24,w=8,min_tokens=40,family=1;\
k=24,w=8,min_tokens=36,family=1;k=24,w=8,gap=60,family=1;k=24,w=8,gap=200,family=1;\
k=24,w=8,min_lines=3,family=1;k=24,w=8,min_lines=8,family=1;k=24,w=6,min_tokens=40,family=1;\
k=24,w=6,min_tokens=36,family=1;k=24,w=4,min_tokens=40,family=1;k=28,w=6,min_tokens=40,family=1;\
k=30,w=4,min_tokens=40,family=1;k=30,w=12,min_tokens=50,family=1;\
k=24,w=8,norm=text;k=24,w=8,norm=shape";

fn normalize(tokens: &[Token], norm: Norm) -> std::borrow::Cow<'_, [Token]> {
    match norm {
        Norm::Names => tokens.into(),
        Norm::Text | Norm::Shape => tokens
            .iter()
            .map(|t| match t.kind {
                TokenKind::Ident => Token {
                    kind: TokenKind::Fixed,
                    code: if norm == Norm::Text {
                        t.code
                    } else {
                        0x4944_4e54
                    },
                    ..*t
                },
                TokenKind::Fixed => *t,
            })
            .collect::<Vec<_>>()
            .into(),
    }
}

struct Donor {
    file: SourceFile,
    tokens: Vec<Token>,
}

/// One mutated host, with where the copy is.
struct Trial {
    mutation: Mutation,
    size: usize,
    language: Language,
    donor: usize,
    /// Donor lines copied, 1-based inclusive.
    origin: (u32, u32),
    /// Host lines holding the copy, 1-based inclusive.
    block: (u32, u32),
    tokens: Vec<Token>,
    text: String,
    host_language: Language,
}

struct Pristine {
    language: Language,
    name: String,
    tokens: Vec<Token>,
    bytes: Vec<u8>,
}

struct Material {
    donors: Vec<Donor>,
    trials: Vec<Trial>,
    /// Unmodified host files, for false findings.
    pristine: Vec<Pristine>,
}

fn tokenize_all<T: Send>(
    items: Vec<T>,
    f: impl Fn(&mut Tokenizer, T) -> Option<(T, Vec<Token>)> + Sync,
) -> Vec<(T, Vec<Token>)> {
    items
        .into_par_iter()
        .map_init(Tokenizer::default, |tk, item| f(tk, item))
        .flatten()
        .collect()
}

fn prepare(trials_per_cell: usize, seed: u64) -> anyhow::Result<Material> {
    let started = Instant::now();
    let files = material::load(material::PACKAGES)?;
    let (donor_files, host_files): (Vec<SourceFile>, Vec<SourceFile>) =
        files.into_iter().partition(|f| f.role == Role::Donor);
    let donors: Vec<Donor> = tokenize_all(donor_files, |tk, f| {
        let tokens = tk.tokenize(f.language, &f.bytes).tokens;
        Some((f, tokens))
    })
    .into_iter()
    .map(|(file, tokens)| Donor { file, tokens })
    .collect();
    let hosts: Vec<(SourceFile, Vec<Token>)> = tokenize_all(host_files, |tk, f| {
        let tokens = tk.tokenize(f.language, &f.bytes).tokens;
        Some((f, tokens))
    });
    let family = |l: Language| {
        LANGUAGES
            .iter()
            .position(|m| m.family() == l.family())
            .unwrap()
    };
    let mut snippet_sources: Vec<Vec<usize>> = vec![Vec::new(); LANGUAGES.len()];
    for (i, d) in donors.iter().enumerate() {
        if std::str::from_utf8(&d.file.bytes).is_ok() && d.tokens.len() > 400 {
            snippet_sources[family(d.file.language)].push(i);
        }
    }
    let mut host_targets: Vec<Vec<usize>> = vec![Vec::new(); LANGUAGES.len()];
    for (i, (f, _)) in hosts.iter().enumerate() {
        if std::str::from_utf8(&f.bytes).is_ok() && (300..=64 * 1024).contains(&f.bytes.len()) {
            host_targets[family(f.language)].push(i);
        }
    }
    for (l, lang) in LANGUAGES.iter().enumerate() {
        eprintln!(
            "{:>10}: {} donor files ({} usable for snippets), {} host files ({} usable as hosts)",
            lang.name(),
            donors
                .iter()
                .filter(|d| family(d.file.language) == l)
                .count(),
            snippet_sources[l].len(),
            hosts
                .iter()
                .filter(|(f, _)| family(f.language) == l)
                .count(),
            host_targets[l].len()
        );
        anyhow::ensure!(
            !snippet_sources[l].is_empty() && !host_targets[l].is_empty(),
            "no material for {}",
            lang.name()
        );
    }
    let mut specs = Vec::new();
    for (m, &mutation) in Mutation::ALL.iter().enumerate() {
        for &size in &SIZES {
            for t in 0..trials_per_cell {
                specs.push((
                    mutation,
                    size,
                    LANGUAGES[t % LANGUAGES.len()],
                    m as u64,
                    t as u64,
                ));
            }
        }
    }
    let trials: Vec<Trial> = specs
        .into_par_iter()
        .map_init(
            Tokenizer::default,
            |tk, (mutation, size, language, m, t)| {
                let l = family(language);
                let mut rng = Rng::derive(&[seed, m, size as u64, t]);
                let python = language == Language::Python;
                // A copy pasted where it makes sense: the unmutated snippet must
                // tokenize in the host exactly as in the donor (no parse error
                // from the surroundings). Up to 8 places per snippet are tried.
                let codes = |tokens: &[Token], lines: (u32, u32)| -> Vec<(TokenKind, u32)> {
                    tokens
                        .iter()
                        .filter(|x| x.line >= lines.0 && x.end_line <= lines.1)
                        .map(|x| (x.kind, x.code))
                        .collect()
                };
                let mut attempts = 0;
                let (donor, snippet, host, at) = 'pick: loop {
                    let d = snippet_sources[l][rng.below(snippet_sources[l].len())];
                    let text = std::str::from_utf8(&donors[d].file.bytes).unwrap();
                    let Some(s) =
                        mutate::pick_snippet(text, &donors[d].tokens, size, python, &mut rng)
                    else {
                        continue;
                    };
                    let expected = codes(&donors[d].tokens, (s.first_line, s.last_line));
                    let raw: Vec<&str> = s.text.split('\n').collect();
                    let indent = mutate::first_indent(&[raw[0].to_string()]);
                    for _ in 0..8 {
                        attempts += 1;
                        let h = host_targets[l][rng.below(host_targets[l].len())];
                        let mut host_lines: Vec<&str> = std::str::from_utf8(&hosts[h].0.bytes)
                            .unwrap()
                            .split('\n')
                            .collect();
                        let at = mutate::insertion_point(&host_lines, indent, python, &mut rng);
                        host_lines.splice(at..at, raw.iter().copied());
                        let pasted = tk
                            .tokenize(hosts[h].0.language, host_lines.join("\n").as_bytes())
                            .tokens;
                        let block = (at as u32 + 1, (at + raw.len()) as u32);
                        if attempts > 400 || codes(&pasted, block) == expected {
                            break 'pick (d, s, h, at);
                        }
                    }
                };
                let donor_file = &donors[donor];
                let text = std::str::from_utf8(&donor_file.file.bytes).unwrap();
                let lines = mutate::mutate(
                    &snippet,
                    text,
                    &donor_file.tokens,
                    language,
                    mutation,
                    &mut rng,
                );
                let host = &hosts[host].0;
                let mut host_lines: Vec<&str> = std::str::from_utf8(&host.bytes)
                    .unwrap()
                    .split('\n')
                    .collect();
                let block = (at as u32 + 1, (at + lines.len()) as u32);
                host_lines.splice(at..at, lines.iter().map(String::as_str));
                let mutated = host_lines.join("\n");
                let tokens = tk.tokenize(host.language, mutated.as_bytes()).tokens;
                Trial {
                    mutation,
                    size,
                    language,
                    donor,
                    origin: (snippet.first_line, snippet.last_line),
                    block,
                    tokens,
                    text: mutated,
                    host_language: host.language,
                }
            },
        )
        .collect();
    let pristine = hosts
        .into_iter()
        .map(|(f, tokens)| Pristine {
            language: f.language,
            name: format!("{} {}", f.package, f.path),
            tokens,
            bytes: f.bytes,
        })
        .collect();
    eprintln!(
        "prepared {} trials in {:.1} s",
        trials.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Material {
        donors,
        trials,
        pristine,
    })
}

#[derive(Default, Clone, Copy)]
struct Cell {
    trials: usize,
    /// Trials with at least one correct finding.
    detected: usize,
    copied_lines: usize,
    found_lines: usize,
    reported_lines: usize,
    reported_copied: usize,
    /// Lines of the findings that overlap the pasted block, and how many of
    /// those lie inside it: the accuracy of the reported ranges, apart from
    /// findings the host had before the paste (counted by `false_findings`).
    touching_lines: usize,
    touching_copied: usize,
    /// Trials the probe gate stopped, and those of them with a correct finding.
    gated: usize,
    gated_detected: usize,
}

struct Outcome {
    cells: BTreeMap<(Mutation, usize), Cell>,
    by_language: BTreeMap<(Language, Mutation, usize), Cell>,
    false_findings: usize,
    pairs: usize,
    false_examples: Vec<String>,
    /// Pristine host files the probe gate let through (they would be parsed).
    pristine_passed: usize,
    false_lists_len: usize,
}

impl Outcome {
    /// The lowest recall among the cells picked (each target holds per cell).
    fn recall(&self, pick: impl Fn(Mutation, usize) -> bool) -> f64 {
        self.cells
            .iter()
            .filter(|((m, s), _)| pick(*m, *s))
            .map(|(_, c)| c.found_lines as f64 / c.copied_lines.max(1) as f64)
            .fold(1.0, f64::min)
    }

    fn precision(&self) -> f64 {
        let (rc, r) = self.cells.values().fold((0, 0), |(rc, r), c| {
            (rc + c.reported_copied, r + c.reported_lines)
        });
        rc as f64 / r.max(1) as f64
    }

    /// Precision over the findings that touch the pasted block.
    fn range_precision(&self) -> f64 {
        let (tc, t) = self.cells.values().fold((0, 0), |(tc, t), c| {
            (tc + c.touching_copied, t + c.touching_lines)
        });
        tc as f64 / t.max(1) as f64
    }

    fn false_rate(&self) -> f64 {
        self.false_findings as f64 * 1000.0 / self.pairs.max(1) as f64
    }
}

fn correct(f: &Finding, trial: &Trial) -> bool {
    std::iter::once(&f.best).chain(&f.alternatives).any(|m| {
        m.origin == trial.donor as u64
            && m.span.origin_lines.first <= trial.origin.1
            && m.span.origin_lines.last >= trial.origin.0
    })
}

/// The tokens matched: the parse's, or with probe=2 the probe's.
fn matched_tokens<'a>(
    probe: u32,
    probed: &'a Option<Vec<Token>>,
    parsed: &'a [Token],
) -> &'a [Token] {
    match probed {
        Some(tokens) if probe >= 2 => tokens,
        _ => parsed,
    }
}

fn evaluate(material: &Material, setting: &Setting) -> Outcome {
    let params = setting.params;
    let match_params = setting.match_params();
    let fps = |tokens: &[Token]| -> Vec<Fingerprint> {
        fingerprint(&normalize(tokens, setting.norm), params)
    };

    let donors: Vec<(Vec<Token>, Vec<Fingerprint>, &[u8])> = material
        .donors
        .par_iter()
        .map(|d| {
            // probe=3: the index lexed too (one tokenizer on both sides).
            let lexed = (setting.probe == 3)
                .then(|| engine::probe::Prober::default().tokens(d.file.language, &d.file.bytes))
                .flatten();
            let tokens =
                normalize(lexed.as_deref().unwrap_or(&d.tokens), setting.norm).into_owned();
            let fps = fingerprint(&tokens, params);
            (tokens, fps, &d.file.bytes[..])
        })
        .collect();
    let families = material
        .donors
        .iter()
        .map(|d| d.file.language.family())
        .collect();
    let corpus = Corpus::build(&donors, families);
    let find = |tokens: &[Token], bytes: &[u8], family: Option<&str>| {
        let tokens = normalize(tokens, setting.norm);
        let target = fingerprint(&tokens, params);
        corpus.matches(
            (&tokens, bytes),
            &target,
            params,
            &match_params,
            family,
            setting.matcher == 1,
        )
    };
    // `1` or `T1`: T1 copies; `T2`, `T3`: those mutations; `T1:20`: of
    // 20 lines (10 unless given).
    let debug = std::env::var("PROVSCAN_DEBUG").ok().map(|v| {
        let (m, size) = v.split_once(':').unwrap_or((&v, "10"));
        let m = match m {
            "T2" => Mutation::T2,
            "T3" => Mutation::T3,
            _ => Mutation::T1,
        };
        (m, size.parse::<usize>().unwrap_or(10))
    });
    let family = |l: Language| setting.family.then(|| l.family());
    // What `scan` does before parsing (probe=1 or 2): the probe's tokens,
    // whose fingerprints must hit for the file to be matched at all.
    let probe = |language: Language, bytes: &[u8]| -> Option<Vec<Token>> {
        (setting.probe > 0)
            .then(|| engine::probe::Prober::default().tokens(language, bytes))
            .flatten()
    };
    let gate = |probed: &Option<Vec<Token>>, family: Option<&str>| -> bool {
        probed.as_deref().is_none_or(|tokens| {
            corpus.any_hit(
                &fingerprint(&normalize(tokens, setting.norm), params),
                family,
            )
        })
    };
    let per_trial: Vec<Cell> = material
        .trials
        .par_iter()
        .map(|trial| {
            let probed = probe(trial.host_language, trial.text.as_bytes());
            let tokens = matched_tokens(setting.probe, &probed, &trial.tokens);
            let mut findings = find(tokens, trial.text.as_bytes(), family(trial.language));
            let passed = gate(&probed, family(trial.language));
            let gated_detected = !passed && findings.iter().any(|f| correct(f, trial));
            if !passed {
                findings.clear();
            }
            if gated_detected && std::env::var("PROVSCAN_DEBUG_PROBE").is_ok() {
                let probed = probed.as_deref().unwrap_or_default();
                let show = |ts: &[Token]| -> String {
                    ts.iter()
                        .filter(|t| t.line >= trial.block.0 && t.line <= trial.block.1)
                        .map(|t| {
                            format!(
                                "{:?}:{}",
                                t.kind,
                                &trial.text[t.start as usize..t.end as usize]
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                eprintln!(
                    "LOST {:?} {} {:?}\nPARSE {}\nPROBE {}\n",
                    trial.mutation,
                    trial.size,
                    trial.host_language,
                    show(&trial.tokens),
                    show(probed)
                );
            }
            let (b0, b1) = trial.block;
            let mut reported = std::collections::BTreeSet::new();
            let mut found = std::collections::BTreeSet::new();
            let mut any = false;
            let mut touching = std::collections::BTreeSet::new();
            for f in &findings {
                let r = f.best.span.target_lines;
                reported.extend(r.first..=r.last);
                if r.first <= b1 && r.last >= b0 {
                    touching.extend(r.first..=r.last);
                }
                if correct(f, trial) {
                    any = true;
                    found.extend(r.first.max(b0)..=r.last.min(b1));
                }
            }
            if std::env::var("PROVSCAN_DEBUG_RANGE").is_ok()
                && debug == Some((trial.mutation, trial.size))
                && setting.matcher != 1
            {
                for f in &findings {
                    let (t, o) = (f.best.span.target_lines, f.best.span.origin_lines);
                    if t.first <= b1 && t.last >= b0 && (t.first < b0 || t.last > b1) {
                        let tl: Vec<&str> = trial.text.lines().collect();
                        let d = &material.donors[f.best.origin as usize];
                        let dt = String::from_utf8_lossy(&d.file.bytes);
                        let dl: Vec<&str> = dt.lines().collect();
                        let show = |ls: &[&str], a: u32, b: u32| {
                            (a..=b)
                                .filter_map(|l| ls.get(l as usize - 1).map(|x| format!("    {l}: {x}")))
                                .collect::<Vec<_>>()
                                .join("\n")
                        };
                        eprintln!(
                            "RANGE {:?} {} block {b0}-{b1} target {}-{} origin {}-{} (true {:?}, donor {})\n  target:\n{}\n  origin:\n{}",
                            trial.language, d.file.path, t.first, t.last, o.first, o.last, trial.origin,
                            f.best.origin == trial.donor as u64,
                            show(&tl, t.first, t.last), show(&dl, o.first, o.last)
                        );
                    }
                }
            }
            if !any && debug == Some((trial.mutation, trial.size)) && setting.matcher != 1 {
                for f in &findings {
                    let (t, o) = (f.best.span.target_lines, f.best.span.origin_lines);
                    eprintln!(
                        "  found: origin {} lines {}-{} ~ target lines {}-{}, {} tokens",
                        f.best.origin, o.first, o.last, t.first, t.last, f.best.span.matched_tokens
                    );
                }
                let d = &material.donors[trial.donor];
                let donor_set: std::collections::HashSet<u64> =
                    donors[trial.donor].1.iter().map(|f| f.hash).collect();
                let t = fps(&trial.tokens);
                let inside: Vec<&Fingerprint> = t
                    .iter()
                    .filter(|f| f.first_line >= b0 && f.last_line <= b1)
                    .collect();
                let shared = inside
                    .iter()
                    .filter(|f| donor_set.contains(&f.hash))
                    .count();
                let tokens = trial
                    .tokens
                    .iter()
                    .filter(|x| x.line >= b0 && x.end_line <= b1)
                    .count();
                let dt: Vec<(u32, String)> = d
                    .tokens
                    .iter()
                    .filter(|x| x.line >= trial.origin.0 && x.end_line <= trial.origin.1)
                    .map(|x| {
                        (
                            x.code,
                            String::from_utf8_lossy(
                                &d.file.bytes[x.start as usize..x.end as usize],
                            )
                            .into_owned(),
                        )
                    })
                    .collect();
                let ht: Vec<(u32, String)> = trial
                    .tokens
                    .iter()
                    .filter(|x| x.line >= b0 && x.end_line <= b1)
                    .map(|x| {
                        (
                            x.code,
                            trial.text[x.start as usize..x.end as usize].to_string(),
                        )
                    })
                    .collect();
                let pos = dt.iter().zip(&ht).position(|(a, b)| a.0 != b.0);
                if let Some(p) = pos {
                    eprintln!(
                        "  differ at {p}: donor {:?} host {:?}",
                        &dt[p.saturating_sub(2)..(p + 4).min(dt.len())]
                            .iter()
                            .map(|x| &x.1)
                            .collect::<Vec<_>>(),
                        &ht[p.saturating_sub(2)..(p + 4).min(ht.len())]
                            .iter()
                            .map(|x| &x.1)
                            .collect::<Vec<_>>()
                    );
                }
                eprintln!(
                    "MISS {:?} {}:{:?} block {:?} tokens {} fps-in-block {} shared {} findings {}",
                    trial.language,
                    d.file.path,
                    trial.origin,
                    trial.block,
                    tokens,
                    inside.len(),
                    shared,
                    findings.len()
                );
            }
            Cell {
                trials: 1,
                detected: usize::from(any),
                copied_lines: (b1 + 1 - b0) as usize,
                found_lines: found.len(),
                reported_lines: reported.len(),
                reported_copied: reported.iter().filter(|&&l| l >= b0 && l <= b1).count(),
                touching_lines: touching.len(),
                touching_copied: touching.iter().filter(|&&l| l >= b0 && l <= b1).count(),
                gated: usize::from(!passed),
                gated_detected: usize::from(gated_detected),
            }
        })
        .collect();
    let mut cells: BTreeMap<(Mutation, usize), Cell> = BTreeMap::new();
    let mut by_language: BTreeMap<(Language, Mutation, usize), Cell> = BTreeMap::new();
    for (trial, c) in material.trials.iter().zip(&per_trial) {
        for cell in [
            cells.entry((trial.mutation, trial.size)).or_default(),
            by_language
                .entry((trial.language, trial.mutation, trial.size))
                .or_default(),
        ] {
            cell.trials += c.trials;
            cell.detected += c.detected;
            cell.copied_lines += c.copied_lines;
            cell.found_lines += c.found_lines;
            cell.reported_lines += c.reported_lines;
            cell.reported_copied += c.reported_copied;
            cell.touching_lines += c.touching_lines;
            cell.touching_copied += c.touching_copied;
            cell.gated += c.gated;
            cell.gated_detected += c.gated_detected;
        }
    }
    let donors_in = |l: Language| {
        material
            .donors
            .iter()
            .filter(|d| d.file.language.family() == l.family())
            .count()
    };
    let false_lists: Vec<(usize, bool, Vec<String>)> = material
        .pristine
        .par_iter()
        .map(|p| {
            let (lang, name) = (&p.language, &p.name);
            let probed = probe(p.language, &p.bytes);
            let passed = gate(&probed, family(p.language));
            let findings = if passed {
                find(
                    matched_tokens(setting.probe, &probed, &p.tokens),
                    &p.bytes,
                    family(p.language),
                )
            } else {
                Vec::new()
            };
            let examples = findings
                .iter()
                .map(|f| {
                    let d = &material.donors[f.best.origin as usize].file;
                    let (t, o) = (f.best.span.target_lines, f.best.span.origin_lines);
                    format!(
                        "{name}:{}-{} ~ {} {}:{}-{} ({} tokens)",
                        t.first,
                        t.last,
                        d.package,
                        d.path,
                        o.first,
                        o.last,
                        f.best.span.matched_tokens
                    )
                })
                .collect();
            (donors_in(*lang), passed, examples)
        })
        .collect();
    Outcome {
        cells,
        by_language,
        pairs: false_lists.iter().map(|(p, _, _)| p).sum(),
        false_findings: false_lists.iter().map(|(_, _, e)| e.len()).sum(),
        pristine_passed: false_lists.iter().filter(|(_, passed, _)| *passed).count(),
        false_lists_len: false_lists.len(),
        false_examples: false_lists.into_iter().flat_map(|(_, _, e)| e).collect(),
    }
}

fn print_table(outcome: &Outcome) {
    println!("| mutation | lines | trials | recall | detected | precision | range precision |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for ((m, size), c) in &outcome.cells {
        println!(
            "| {m:?} | {size} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            c.trials,
            c.found_lines as f64 / c.copied_lines.max(1) as f64,
            c.detected as f64 / c.trials.max(1) as f64,
            c.reported_copied as f64 / c.reported_lines.max(1) as f64,
            c.touching_copied as f64 / c.touching_lines.max(1) as f64,
        );
    }
    println!();
    println!("Recall by language (all sizes ≥ 10 lines):");
    println!();
    println!("| language | T1 | T2 | T3 |");
    println!("|---|---:|---:|---:|");
    for lang in LANGUAGES {
        let r = |m: Mutation| {
            let (f, c) = outcome
                .by_language
                .iter()
                .filter(|((l, mm, s), _)| *l == lang && *mm == m && *s >= 10)
                .fold((0, 0), |(f, c), (_, x)| {
                    (f + x.found_lines, c + x.copied_lines)
                });
            f as f64 / c.max(1) as f64
        };
        println!(
            "| {} | {:.3} | {:.3} | {:.3} |",
            lang.name(),
            r(Mutation::T1),
            r(Mutation::T2),
            r(Mutation::T3)
        );
    }
    println!();
    println!(
        "False findings: {} on {} pristine (host, donor) file pairs = {:.3} per 1,000 pairs",
        outcome.false_findings,
        outcome.pairs,
        outcome.false_rate()
    );
    let (gated, lost) = outcome
        .cells
        .values()
        .fold((0, 0), |(g, l), c| (g + c.gated, l + c.gated_detected));
    if gated > 0 || outcome.pristine_passed < outcome.false_lists_len {
        println!(
            "Probe gate: stopped {gated} of {} trials, {lost} of them with a correct finding; let {} of {} pristine host files through to parsing",
            outcome.cells.values().map(|c| c.trials).sum::<usize>(),
            outcome.pristine_passed,
            outcome.false_lists_len,
        );
    }
}

struct Summary {
    t12: f64,
    t3: f64,
    t3_10: f64,
    t12_5: f64,
    precision: f64,
    range_precision: f64,
    false_rate: f64,
}

fn summarize(o: &Outcome) -> Summary {
    Summary {
        t12: o.recall(|m, s| m <= Mutation::T2 && s >= 10),
        t3: o.recall(|m, s| m == Mutation::T3 && s >= 20),
        t3_10: o.recall(|m, s| m == Mutation::T3 && s == 10),
        t12_5: o.recall(|m, s| m <= Mutation::T2 && s == 5),
        precision: o.precision(),
        range_precision: o.range_precision(),
        false_rate: o.false_rate(),
    }
}

/// The targets of matcher v2: recall per cell, range precision (lines of
/// the findings that touch a paste), and false findings on unrelated
/// pairs. Precision over all findings is printed but not a target: the
/// findings away from the paste are what the false-finding rate counts.
fn check(s: &Summary) -> bool {
    s.t12 >= 0.95
        && s.t3 >= 0.85
        && s.t3_10 >= 0.70
        && s.range_precision >= 0.99
        && s.false_rate <= 0.3
}

const SUMMARY_HEADER: &str = "| setting | min recall T1/T2 ≥10 | min recall T3 ≥20 | recall T3 10 | min recall T1/T2 5 | precision | range precision | false /1k pairs | targets |\n|---|---:|---:|---:|---:|---:|---:|---:|---|";

fn summary_row(setting: &Setting, s: &Summary) -> String {
    format!(
        "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.4} | {:.4} | {:.3} | {} |",
        setting.label(),
        s.t12,
        s.t3,
        s.t3_10,
        s.t12_5,
        s.precision,
        s.range_precision,
        s.false_rate,
        if check(s) { "met" } else { "missed" }
    )
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let env_num = |name: &str, default: u64| -> anyhow::Result<u64> {
        std::env::var(name).ok().map_or(Ok(default), |v| {
            v.parse().map_err(|e| anyhow::anyhow!("{name}={v}: {e}"))
        })
    };
    let trials = env_num("PROVSCAN_TRIALS", 240)? as usize;
    let seed = env_num("PROVSCAN_SEED", 1)?;
    let material = prepare(trials, seed)?;
    let sweep = std::env::var("PROVSCAN_SWEEP")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(list) = sweep {
        let list = if list == "1" { SWEEP.to_string() } else { list };
        println!("{SUMMARY_HEADER}");
        for spec in list.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let setting = Setting::parse(spec)?;
            let started = Instant::now();
            let s = summarize(&evaluate(&material, &setting));
            println!("{}", summary_row(&setting, &s));
            eprintln!("  ({:.1} s)", started.elapsed().as_secs_f64());
        }
        return Ok(());
    }
    let setting = Setting::from_env()?;
    println!("Setting: {}", setting.label());
    println!();
    let started = Instant::now();
    let outcome = evaluate(&material, &setting);
    print_table(&outcome);
    let s = summarize(&outcome);
    println!(
        "Summary: lowest cell recall T1/T2 ≥ 10 lines {:.3} (target 0.95), T3 ≥ 20 lines {:.3} (0.85), T3 at 10 lines {:.3} (0.70), range precision {:.4} (0.99; {:.4} over all findings), false findings {:.3}/1k pairs (0.3): targets {}",
        s.t12,
        s.t3,
        s.t3_10,
        s.range_precision,
        s.precision,
        s.false_rate,
        if check(&s) { "met" } else { "missed" }
    );
    if std::env::var("PROVSCAN_VERBOSE").is_ok_and(|v| v == "1") {
        for e in &outcome.false_examples {
            println!("false finding: {e}");
        }
    }
    eprintln!("matched in {:.1} s", started.elapsed().as_secs_f64());
    // The first matcher on the same trials, for comparison (unless the
    // run above was that matcher).
    println!();
    println!("{SUMMARY_HEADER}");
    println!("{}", summary_row(&setting, &s));
    if setting.matcher != 1 {
        let v1 = Setting {
            matcher: 1,
            ..setting
        };
        println!(
            "{}",
            summary_row(&v1, &summarize(&evaluate(&material, &v1)))
        );
    }
    Ok(())
}
