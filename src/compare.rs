//! `provscan compare ORIGIN TARGET`: a quick two-tree check with no index.
//! Every origin file is fingerprinted into an in-memory posting map, then
//! each target file is matched against it with the same matcher `scan` uses.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use engine::identity::Digest;
use engine::matcher::MatchParams;
use engine::memory::MemoryIndex;
use engine::pipeline::match_target;
use engine::stream::SymbolStream;
use engine::symbols::Symbols;
use engine::{Analyzed, Analyzer, Params};
use rayon::prelude::*;

use crate::report::{self, Finding, FindingKind, Origin, Report, Summary};
use crate::targets::{self, InputFile, Selection, Skipped};

#[derive(Args)]
pub struct CompareArgs {
    /// The tree (or file) code may have been copied from.
    pub origin: PathBuf,
    /// The tree (or file) to check for copies.
    pub target: PathBuf,
    /// Output format; a table on a terminal, JSON otherwise.
    #[arg(long, value_enum)]
    pub format: Option<CompareFormat>,
    /// Smallest snippet to report, in lines.
    #[arg(long, default_value_t = 5)]
    pub min_lines: u32,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = 16 << 20)]
    pub max_file_size: u64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CompareFormat {
    Table,
    Json,
}

struct OriginFile {
    rel: String,
    analyzed: Analyzed,
    /// Kept for naming the enclosing definitions of findings on both sides.
    bytes: targets::Bytes,
}

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let params = Params::DEFAULT;
    let selection = Selection::new(&[], &[], args.max_file_size)?;
    let (origin_files, mut skipped) = targets::read(&args.origin, &selection)?;
    let (target_files, target_skipped) = targets::read(&args.target, &selection)?;
    let (origins, origin_skips) = analyze_all(&args.origin, origin_files, params);
    skipped.extend(origin_skips);
    skipped.extend(target_skipped);
    let corpus = Corpus::build(origins);
    let mut match_params = MatchParams::for_k(params.k);
    match_params.align.min_lines = args.min_lines;
    let bytes: u64 = target_files.iter().map(|f| f.bytes.len() as u64).sum();
    let file_count = target_files.len();
    let (analyzed, target_skips) = analyze_all(&args.target, target_files, params);
    skipped.extend(target_skips);
    let findings: Vec<Finding> = analyzed
        .par_iter()
        .flat_map_iter(|t| corpus.matches(t, &match_params))
        .collect();
    let summary = Summary::measured(file_count, bytes, started);
    let report = Report::new(findings, skipped, summary);
    let mut out = std::io::stdout().lock();
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        CompareFormat::Table
    } else {
        CompareFormat::Json
    });
    match format {
        CompareFormat::Table => report::write_table(&report, &mut out)?,
        CompareFormat::Json => report::write_json(&report, &mut out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn analyze_all(
    root: &Path,
    files: Vec<InputFile>,
    params: Params,
) -> (Vec<OriginFile>, Vec<Skipped>) {
    let results: Vec<Result<OriginFile, Skipped>> = files
        .into_par_iter()
        .map_init(
            || Analyzer::new(params),
            |analyzer, file| {
                let path = root.join(&file.rel);
                match analyzer.analyze(&path, &file.bytes) {
                    Ok(analyzed) => Ok(OriginFile {
                        rel: file.rel,
                        analyzed,
                        bytes: file.bytes,
                    }),
                    Err(reason) => Err(Skipped {
                        path: file.rel,
                        reason,
                    }),
                }
            },
        )
        .collect();
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for r in results {
        match r {
            Ok(f) => ok.push(f),
            Err(s) => skipped.push(s),
        }
    }
    (ok, skipped)
}

/// The origin tree held in memory: postings by gram hash, files by digest.
struct Corpus {
    files: Vec<OriginFile>,
    postings: MemoryIndex,
    by_digest: HashMap<Digest, usize>,
}

impl Corpus {
    fn build(files: Vec<OriginFile>) -> Corpus {
        let mut by_digest = HashMap::new();
        for (id, file) in files.iter().enumerate() {
            by_digest
                .entry(file.analyzed.digests.normalized)
                .or_insert(id);
        }
        let postings = MemoryIndex::build(files.iter().map(|f| {
            (
                f.analyzed.tokens.tokens.as_slice(),
                f.analyzed.fingerprints.as_slice(),
                &f.bytes[..],
            )
        }));
        Corpus {
            files,
            postings,
            by_digest,
        }
    }

    fn matches(&self, target: &OriginFile, params: &MatchParams) -> Vec<Finding> {
        let t = &target.analyzed;
        let identifying = t.len >= engine::identity::MIN_IDENTIFYING_LEN;
        let same = identifying
            .then(|| self.by_digest.get(&t.digests.normalized))
            .flatten();
        if let Some(&id) = same {
            let lines = [1, t.lines.max(1)];
            let origin = &self.files[id];
            return vec![Finding {
                path: target.rel.clone(),
                kind: FindingKind::File,
                target_lines: lines,
                target_bytes: [0, t.len],
                origin: self.origin(origin, [1, origin.analyzed.lines.max(1)]),
                matched_tokens: t.tokens.len() as u32,
                similarity: 1.0,
                edits: None,
                symbol: None,
                origin_content: None,
                notice_retained: None,
                alone: false,
                license_class: None,
                alternatives: Vec::new(),
            }];
        }
        let target_stream = SymbolStream::of_file(&t.tokens.tokens, &target.bytes);
        let mut found = match match_target(
            &target_stream,
            &t.fingerprints,
            &self.postings,
            &self.postings,
            &params.for_language(t.language),
        ) {
            Ok(m) => {
                let files = &self.files;
                let small = crate::small_files::confirm(&m.small_files, &target.bytes, |o| {
                    Ok::<_, std::convert::Infallible>(Some(&files[o as usize].bytes[..]))
                })
                .unwrap_or_else(|never| match never {});
                // Two files side by side: nothing around them to judge a
                // weak finding standing alone by.
                let mut all = m.all_findings();
                all.extend(small);
                all
            }
            Err(never) => match never {},
        };
        crate::headers::keep_code_findings(&mut found, &target.bytes);
        if found.is_empty() {
            return Vec::new();
        }
        // Enclosing definitions, parsed once per file that has findings.
        let target_symbols = Symbols::parse(t.language, &target.bytes);
        let mut origin_symbols: HashMap<u64, Symbols> = HashMap::new();
        found
            .into_iter()
            .map(|f| {
                let origin_file = &self.files[f.best.origin as usize];
                let origin_lines = [
                    f.best.span.origin_lines.first,
                    f.best.span.origin_lines.last,
                ];
                let origin_symbol = origin_symbols
                    .entry(f.best.origin)
                    .or_insert_with(|| {
                        Symbols::parse(origin_file.analyzed.language, &origin_file.bytes)
                    })
                    .enclosing(origin_lines)
                    .map(|d| d.name.clone());
                let span = f.best.span;
                let (start, end) = target_stream.byte_range(
                    span.target_tokens.first as usize,
                    span.target_tokens.last as usize,
                );
                let mut finding = Finding {
                    path: target.rel.clone(),
                    kind: FindingKind::Snippet,
                    target_lines: [span.target_lines.first, span.target_lines.last],
                    target_bytes: [start as u64, end as u64],
                    origin: Origin {
                        symbol: origin_symbol,
                        bytes: {
                            let tokens = &origin_file.analyzed.tokens.tokens;
                            let first = tokens.get(span.origin_tokens.first as usize);
                            let last = tokens.get(span.origin_tokens.last as usize);
                            first.zip(last).map(|(a, b)| [a.start as u64, b.end as u64])
                        },
                        ..self.origin(origin_file, origin_lines)
                    },
                    matched_tokens: span.matched_tokens,
                    similarity: span.similarity,
                    edits: Some(span.edits),
                    symbol: target_symbols
                        .enclosing([span.target_lines.first, span.target_lines.last])
                        .map(|d| d.name.clone()),
                    origin_content: None,
                    notice_retained: None,
                    alone: false,
                    license_class: None,
                    alternatives: f
                        .alternatives
                        .iter()
                        .map(|a| {
                            let lines = [a.span.origin_lines.first, a.span.origin_lines.last];
                            self.origin(&self.files[a.origin as usize], lines)
                        })
                        .collect(),
                };
                let origin_text =
                    || Ok::<_, std::convert::Infallible>(Some(&origin_file.bytes[..]));
                match crate::headers::take_in_header(
                    &mut finding,
                    &span,
                    &target.bytes,
                    origin_text,
                ) {
                    Ok(_) => finding,
                    Err(never) => match never {},
                }
            })
            .collect()
    }

    fn origin(&self, file: &OriginFile, lines: [u32; 2]) -> Origin {
        Origin {
            project: None,
            version: None,
            versions: Vec::new(),
            path: file.rel.clone(),
            lines,
            license: None,
            license_evidence: None,
            copyright: Vec::new(),
            symbol: None,
            bytes: None,
        }
    }
}
