//! `provscan scan PATH...`: the main job. Each target file is fingerprinted,
//! looked up in the index (whole file first, then snippets), aligned, and
//! attributed to a project, its versions, a license and copyright notices;
//! then the policy decides the exit code.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use engine::matcher::{MatchParams, SnippetMatch};
use engine::pipeline::{match_target, Postings, Streams};
use engine::stream::SymbolStream;
use engine::Analyzer;
use indexer::{ContentMeta, Occurrence};
use indexer::{Index, OpenOptions};
use rayon::prelude::*;

use crate::formats::{self, OutputFormat};
use crate::headers;
use crate::placed::{LineShare, UnfoundFile};
use crate::policy::{self, Policy, PolicyArgs};
use crate::report::{Finding, FindingKind, FindingReview, Origin, Report, ScanError, Summary};
use crate::scan_cache::ScanCache;
use crate::small_files;
use crate::stream_cache::StreamCache;
use crate::targets::{
    self, InputFile, MemoryBudget, ReadMode, Selection, SkipKind, SkipReason, Skipped, Target,
};

/// A license file identical to one in more indexed projects than this is
/// a common license text, not evidence of where code came from.
const MAX_PROJECTS_OF_A_LICENSE_FILE: usize = 3;

/// Distinct projects a finding names, as origin or alternative.
fn projects_named(f: &Finding) -> usize {
    let mut projects: Vec<&Option<String>> = std::iter::once(&f.origin)
        .chain(&f.alternatives)
        .map(|o| &o.project)
        .collect();
    projects.sort();
    projects.dedup();
    projects.len()
}

/// Origin token streams kept between files, in tokens (22 bytes a token
/// in memory: at most 280 MB). The origins of a vendored tree come back
/// all over it: on the copies tree of the scan bench, 4 Mi tokens decoded
/// 94 M tokens of streams for the 16 M the scan needed, 12 Mi tokens 19 M
/// (5,471 fetches instead of 19,239), for 77 MB more peak RSS.
const STREAM_CACHE_TOKENS: usize = 12 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Probe {
    On,
    Off,
}

#[derive(Args)]
pub struct ScanArgs {
    /// Files, directories or archives to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Index directory (default: $PROVSCAN_INDEX, else the user data directory).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Output format; a table on a terminal, JSON otherwise.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Write the report here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Only scan paths matching these globs (relative to each root).
    #[arg(long)]
    pub include: Vec<String>,
    /// Skip paths matching these globs.
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Leave out files that `.gitignore`, `.ignore` or `.git/info/exclude`
    /// name. Off by default: what a release ships often includes ignored
    /// files (a generated `configure`, a vendored bundle), and an ignore
    /// file must not hide copied code from the gate.
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Smallest snippet to report, in lines.
    #[arg(long)]
    pub min_lines: Option<u32>,
    /// Skip files and archive entries larger than this many bytes.
    #[arg(long, default_value_t = 16 << 20)]
    pub max_file_size: u64,
    /// Expand archives inside archives down to this many levels.
    #[arg(long, default_value_t = 3)]
    pub max_archive_depth: u32,
    /// How files are read: `read`, `mmap`, or `auto` (map large files).
    #[arg(long, value_enum, default_value_t = ReadMode::Auto, hide = true)]
    pub mmap: ReadMode,
    /// Keep each file's result in FILE and reuse it next time for files
    /// unchanged since (same path and bytes, same index and options).
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
    /// Parse only files whose probe fingerprints hit the index (`on`), or
    /// every file (`off`, for measuring what the probe saves or loses).
    #[arg(long, value_enum, default_value_t = Probe::On, hide = true)]
    pub probe: Probe,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub review: crate::config::ReviewArgs,
}

pub fn run(mut args: ScanArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = crate::config::merge_into(&mut args)?;
    let baseline = (args.review.baseline.as_deref())
        .map(crate::baseline::Baseline::load)
        .transpose()?;
    let policy = Policy::from_args(&args.policy)?;
    // Fail before the work, not after it, when the report cannot be written.
    if let Some(out) = &args.output {
        check_output_dir(out)?;
    }
    let dir = crate::index_cmd::index_dir(args.index.as_deref())?;
    let index = open_index(&dir)?;
    let params = index.engine_params();
    let mut match_params = MatchParams::for_k(params.k);
    if let Some(n) = args.min_lines {
        match_params.align.min_lines = n;
    }
    let mut selection = Selection::new(&args.include, &args.exclude, args.max_file_size)?;
    selection.max_archive_depth = args.max_archive_depth;
    selection.respect_ignore_files = args.respect_gitignore;
    let budget = MemoryBudget::new(MEMORY_BUDGET);
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    let many = args.paths.len() > 1;
    for root in &args.paths {
        let (found, skips) = targets::plan(root, &selection)?;
        let prefix = |rel: String| {
            if many {
                format!("{}/{rel}", root.display())
            } else {
                rel
            }
        };
        targets.extend(found.into_iter().map(|t| {
            let rel = prefix(t.rel.clone());
            t.renamed(rel)
        }));
        skipped.extend(skips.into_iter().map(|s| Skipped {
            path: prefix(s.path),
            ..s
        }));
    }
    let raw_paths: Vec<_> = targets.iter().filter_map(Target::raw_path).collect();
    let scanner = Scanner {
        index: &index,
        params: match_params,
        attribution: Mutex::new(HashMap::new()),
        families: Mutex::new(HashMap::new()),
        probe: args.probe == Probe::On,
        cache: args
            .cache
            .as_deref()
            .map(|path| ScanCache::open(path, cache_key(&index, &dir, &args))),
        streams: Mutex::new(StreamCache::new(STREAM_CACHE_TOKENS)),
        lookups: Default::default(),
        unexplained: Default::default(),
        aligned_work: Default::default(),
        reported_work: Default::default(),
        fingerprints: Default::default(),
        unfound_bytes: Default::default(),
        progress: crate::progress::ScanProgress::start(
            targets.iter().map(|t| t.size_on_disk()).sum(),
        ),
        keep_text: args.format == Some(OutputFormat::Html),
    };
    // Each worker reads, checks and drops one target at a time: memory
    // holds the files in flight, not the tree.
    let analyzer = || {
        let mut a = Analyzer::new(params);
        a.classify.max_bytes = args.max_file_size;
        a
    };
    let mut checked: Vec<Checked> = targets
        .par_iter()
        .map_init(analyzer, |a, t| {
            scanner.check_target(a, t, &selection, args.mmap, &budget)
        })
        .collect();
    // Files without a finding last: whether one lies in a copied tree
    // depends on the findings of the whole scan.
    let unfound: Vec<UnfoundFile> = checked
        .iter_mut()
        .flat_map(|c| std::mem::take(&mut c.unfound))
        .collect();
    let trees = crate::placed::CopiedTrees::of(
        checked
            .iter()
            .flat_map(|c| &c.findings)
            .filter(|f| !f.alone),
    );
    let mut unreported_alone = 0;
    for c in &mut checked {
        unreported_alone += c.judge_alone(&trees);
    }
    let placed = scanner.place_unfound(unfound, &trees);
    let placed_paths: std::collections::HashSet<String> =
        placed.findings.iter().map(|f| f.path.clone()).collect();
    checked.push(placed);
    let mut findings = Vec::new();
    let (mut file_count, mut bytes) = (0usize, 0u64);
    let mut file_sha1 = Vec::new();
    let mut review = Vec::new();
    if let Some(p) = &scanner.progress {
        p.finish();
    }
    let mut errors = Vec::new();
    for c in checked {
        findings.extend(c.findings);
        review.extend(c.review);
        skipped.extend(c.skipped);
        errors.extend(c.errors);
        file_count += c.files;
        bytes += c.bytes;
        file_sha1.extend(c.sha1);
    }
    // A file placed in a copied tree was checked and found nothing alone
    // (perhaps skipped for having no tokens): it is a finding now.
    skipped.retain(|s| !placed_paths.contains(&s.path));
    let lookups = scanner.lookups.load(std::sync::atomic::Ordering::Relaxed);
    let fingerprints = scanner
        .fingerprints
        .load(std::sync::atomic::Ordering::Relaxed);
    let unexplained = scanner
        .unexplained
        .load(std::sync::atomic::Ordering::Relaxed);
    // A file that could not be read was not checked: that is an error of
    // the scan, not a file passed over by choice.
    let (unreadable, skipped): (Vec<Skipped>, Vec<Skipped>) = skipped
        .into_iter()
        .partition(|s| s.kind() == SkipKind::Unreadable);
    errors.extend(unreadable.into_iter().map(|s| ScanError {
        path: s.path,
        message: s.reason.to_string(),
    }));
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(cache) = scanner.cache {
        eprintln!(
            "cache: {} of {file_count} files unchanged since the last scan",
            cache.reused()
        );
        // The report still stands without the cache: warn, do not fail.
        if let Err(e) = cache.save() {
            eprintln!("warning: scan cache not written: {e:#}");
        }
    }
    let mut summary = Summary::measured(file_count, bytes, started);
    summary.lookups = Some(lookups);
    summary.fingerprints = Some(fingerprints);
    summary.unexplained_fingerprints = Some(unexplained);
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    summary.alignment_work = Some(scanner.aligned_work.load(relaxed));
    summary.reported_alignment_work = Some(scanner.reported_work.load(relaxed));
    summary.index_reads = Some(index.keys_read());
    summary.unreported_alone = Some(unreported_alone);
    let mut report = Report::new(findings, skipped, summary);
    report.errors = errors;
    report.raw_paths = raw_paths;
    policy::fill_license_classes(&mut report);
    report.review = review;
    let verdict = crate::config::review(
        &mut report,
        config.as_ref(),
        baseline.as_ref(),
        &args.review,
        &policy,
    )?;
    let mut ctx = format_context(&args.paths, &index)?;
    ctx.file_sha1.extend(file_sha1);
    ctx.details = args.review.details;
    ctx.color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    write_report(&args, &report, &verdict, &ctx)?;
    for (i, reason) in &verdict.violations {
        let f = &report.findings[*i];
        eprintln!(
            "policy: {}:{}-{}: {reason}",
            f.path, f.target_lines[0], f.target_lines[1]
        );
    }
    // Exit 0 must mean that everything was checked: an error outranks
    // the verdict (docs/policy.md).
    for e in &report.errors {
        eprintln!("error: {}: {}", e.path, e.message);
    }
    if !report.errors.is_empty() {
        eprintln!(
            "error: {} file(s) could not be checked; the report lists them under `errors`",
            report.errors.len()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(if verdict.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Memory the workers of a scan may hold for files in flight and their
/// analysis (see `targets::MemoryBudget`); with the index's caches and the
/// program itself the peak stays under 1 GB (docs/policy.md, "Memory").
const MEMORY_BUDGET: u64 = 640 << 20;

/// The report's directory must exist before the scan starts.
fn check_output_dir(out: &Path) -> anyhow::Result<()> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent {
        if !dir.is_dir() {
            anyhow::bail!(
                "cannot write the report to {}: directory {} does not exist",
                out.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Everything besides a file's path and bytes that its result depends on.
fn cache_key(index: &Index, dir: &Path, args: &ScanArgs) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    format!(
        "provscan {} binary {} normalization {} grammars [{}] index {} state {} min_lines {:?} max_file_size {} probe {:?}",
        env!("CARGO_PKG_VERSION"),
        crate::scan_cache::binary_id(),
        engine::winnow::NORMALIZATION_VERSION,
        engine::token::GRAMMAR_VERSIONS,
        dir.display(),
        index.state_id(),
        args.min_lines,
        args.max_file_size,
        args.probe,
    )
}

fn open_index(dir: &Path) -> anyhow::Result<Index> {
    let opts = OpenOptions {
        create: false,
        ..OpenOptions::default()
    };
    Index::open_reader(dir, &opts).with_context(|| {
        format!(
            "cannot open the index at {} (build one with `provscan index add`, or pass --index)",
            dir.display()
        )
    })
}

fn format_context(paths: &[PathBuf], index: &Index) -> anyhow::Result<formats::Context> {
    let mut ctx = match paths {
        [one] => formats::Context::for_root(one),
        _ => formats::Context::new("scan", None),
    };
    for v in index.all_versions()? {
        ctx.sources.insert((v.project, v.version), v.source_spec);
    }
    Ok(ctx)
}

fn write_report(
    args: &ScanArgs,
    report: &Report,
    verdict: &policy::Verdict,
    ctx: &formats::Context,
) -> anyhow::Result<()> {
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal {
        OutputFormat::Table
    } else {
        OutputFormat::Json
    });
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    formats::write(format, report, verdict, ctx, &mut out)?;
    out.flush()?;
    Ok(())
}

/// What the index knows about one origin content, fetched once per scan.
struct ContentInfo {
    meta: ContentMeta,
    occurrences: Vec<Occurrence>,
}

impl Checked {
    /// Keeps the findings standing alone (`Finding::alone`) that the
    /// copied trees of the whole scan speak for, drops the others with
    /// their review entries (and the file's checksum when nothing is left
    /// of it); returns how many were dropped.
    fn judge_alone(&mut self, trees: &crate::placed::CopiedTrees) -> usize {
        let mut dropped = 0;
        let mut review = std::mem::take(&mut self.review).into_iter();
        let mut kept_review = Vec::with_capacity(self.findings.len());
        self.findings.retain_mut(|f| {
            let r = review.next().expect("a review entry per finding");
            if f.alone && !crate::placed::keeps_alone(trees, f) {
                dropped += 1;
                return false;
            }
            f.alone = false;
            kept_review.push(r);
            true
        });
        self.review = kept_review;
        if dropped > 0 {
            let with_findings: std::collections::HashSet<&str> =
                self.findings.iter().map(|f| f.path.as_str()).collect();
            self.sha1
                .retain(|(path, _)| with_findings.contains(path.as_str()));
        }
        dropped
    }
}

/// What checking one target gave.
#[derive(Default)]
struct Checked {
    findings: Vec<Finding>,
    skipped: Vec<Skipped>,
    files: usize,
    bytes: u64,
    /// SHA-1 of each file with findings, for SPDX: archive entries cannot
    /// be read again from disk later, so it is taken from the bytes in hand.
    sha1: Vec<(String, String)>,
    /// Id and line count of each finding, parallel to `findings`.
    review: Vec<crate::report::FindingReview>,
    errors: Vec<ScanError>,
    /// Files without a finding: the scan's last step looks for them in the
    /// copied trees (`crate::placed`).
    unfound: Vec<UnfoundFile>,
}

struct Scanner<'a> {
    index: &'a Index,
    params: MatchParams,
    attribution: Mutex<HashMap<u64, Arc<ContentInfo>>>,
    /// Language family of each origin content seen in a lookup.
    families: Mutex<HashMap<u64, Option<&'static str>>>,
    /// Match targets on the probe lexer's tokens (see `engine::probe`)
    /// rather than the parse's.
    probe: bool,
    cache: Option<ScanCache>,
    /// Origin token streams recently aligned against.
    streams: Mutex<StreamCache>,
    /// Fingerprints looked up, for the report's summary.
    lookups: std::sync::atomic::AtomicU64,
    /// Fingerprints no finding covers (`Matched::unexplained`).
    unexplained: std::sync::atomic::AtomicU64,
    /// Alignment work, all and reported (`Matched::work`).
    aligned_work: std::sync::atomic::AtomicU64,
    reported_work: std::sync::atomic::AtomicU64,
    /// Fingerprints of the matched files: what a matcher that looks up
    /// every fingerprint would have looked up.
    fingerprints: std::sync::atomic::AtomicU64,
    /// Bytes of files without a finding kept aside (`Scanner::keep_unfound`).
    unfound_bytes: std::sync::atomic::AtomicU64,
    progress: Option<crate::progress::ScanProgress>,
    /// Keep the copied target text (for the HTML report).
    keep_text: bool,
}

/// The index's postings as one target sees them: origins of its language
/// family only.
struct FamilyPostings<'s, 'a> {
    scanner: &'s Scanner<'a>,
    family: &'static str,
}

impl Postings for FamilyPostings<'_, '_> {
    type Error = anyhow::Error;

    fn lookup(
        &self,
        grams: &[engine::Fingerprint],
    ) -> anyhow::Result<Vec<(usize, engine::matcher::Posting)>> {
        self.scanner.lookup(grams, self.family)
    }
}

impl Streams for Scanner<'_> {
    type Error = anyhow::Error;

    fn stream(&self, origin: u64) -> anyhow::Result<Option<Arc<SymbolStream>>> {
        if let Some(s) = self.streams.lock().unwrap().get(origin) {
            return Ok(Some(s));
        }
        let Some(stream) = Streams::stream(self.index, origin)? else {
            return Ok(None);
        };
        self.streams.lock().unwrap().insert(origin, stream.clone());
        Ok(Some(stream))
    }
}

impl Scanner<'_> {
    fn check_target(
        &self,
        analyzer: &mut Analyzer,
        target: &Target,
        sel: &Selection,
        mode: ReadMode,
        budget: &std::sync::Arc<MemoryBudget>,
    ) -> Checked {
        let mut out = Checked::default();
        let skipped = target.load_each(sel, mode, budget, &mut |files| {
            self.check_files(analyzer, files, &mut out)
        });
        out.skipped.extend(skipped);
        out
    }

    /// Checks one batch of files (one file, or entries of an archive).
    fn check_files(&self, analyzer: &mut Analyzer, files: Vec<InputFile>, out: &mut Checked) {
        let max_bytes = analyzer.classify.max_bytes;
        let new_analyzer = || {
            let mut a = Analyzer::new(self.index.engine_params());
            a.classify.max_bytes = max_bytes;
            a
        };
        // An archive's entries are spread over the pool, so one big vendored
        // tarball does not leave the other cores idle.
        type Outcome = anyhow::Result<Result<Vec<Finding>, Skipped>>;
        let results: Vec<(&InputFile, Outcome)> = if files.len() > 1 {
            files
                .par_iter()
                .map_init(new_analyzer, |a, f| {
                    (f, self.scanned(f, self.scan_file(a, f)))
                })
                .collect()
        } else {
            files
                .iter()
                .map(|f| (f, self.scanned(f, self.scan_file(analyzer, f))))
                .collect()
        };
        for (f, r) in results {
            out.files += 1;
            out.bytes += f.bytes.len() as u64;
            match r {
                Ok(Ok(found)) if !found.is_empty() => self.record(&f.rel, &f.bytes, found, out),
                Ok(Ok(_)) => self.keep_unfound(UnfoundFile::of(f, None), out),
                Ok(Err(s)) => {
                    self.keep_unfound(UnfoundFile::of(f, Some(s.kind())), out);
                    out.skipped.push(s)
                }
                Err(e) => out.errors.push(lookup_failed(&f.rel, e)),
            }
        }
    }

    /// Adds one file's findings to `out`: the file's SHA-1 (for SPDX:
    /// archive entries cannot be read again later), each finding's review
    /// id (with the copied text on both sides for the HTML report).
    fn record(&self, rel: &str, bytes: &[u8], found: Vec<Finding>, out: &mut Checked) {
        out.sha1
            .push((rel.to_string(), formats::sha1_hex_bytes(bytes)));
        let mut reviews = crate::baseline::identify(rel, bytes, &found, self.keep_text);
        if self.keep_text {
            self.keep_origin_text(&found, &mut reviews);
        }
        out.review.extend(reviews);
        out.findings.extend(found);
    }

    /// Keeps a file without a finding for the scan's last step, within
    /// [`crate::placed::MAX_KEPT_BYTES`] for the whole scan.
    fn keep_unfound(&self, file: Option<UnfoundFile>, out: &mut Checked) {
        let Some(file) = file else { return };
        let len = file.bytes.len() as u64;
        let before = self
            .unfound_bytes
            .fetch_add(len, std::sync::atomic::Ordering::Relaxed);
        if before + len <= crate::placed::MAX_KEPT_BYTES {
            out.unfound.push(file);
        }
    }

    /// The files without a finding of their own that lie where a copied
    /// tree puts them (`crate::placed`), as findings.
    fn place_unfound(
        &self,
        unfound: Vec<UnfoundFile>,
        trees: &crate::placed::CopiedTrees,
    ) -> Checked {
        let mut out = Checked::default();
        let mut versions = ProjectVersions::default();
        for file in unfound {
            match self.placed(&file, trees, &mut versions) {
                Ok(Some(found)) => self.record(&file.rel, &file.bytes, vec![found], &mut out),
                Ok(None) => {}
                Err(e) => out.errors.push(lookup_failed(&file.rel, e)),
            }
        }
        out
    }

    /// Counts a checked file in the progress bar.
    fn scanned(
        &self,
        file: &InputFile,
        result: anyhow::Result<Result<Vec<Finding>, Skipped>>,
    ) -> anyhow::Result<Result<Vec<Finding>, Skipped>> {
        if let Some(p) = &self.progress {
            let found = match &result {
                Ok(Ok(found)) => found.len(),
                _ => 0,
            };
            p.file_done(file.bytes.len() as u64, found);
        }
        result
    }

    /// The origin's copied lines for the HTML report, from the index's
    /// source store; a finding whose origin has no stored source keeps none.
    fn keep_origin_text(&self, found: &[Finding], reviews: &mut [FindingReview]) {
        for (f, r) in found.iter().zip(reviews) {
            let Some(id) = f.origin_content else { continue };
            if let Ok(Some(src)) = self.index.source(id) {
                r.origin_text = Some(crate::baseline::line_text(&src, f.origin.lines));
            }
        }
    }

    /// One file's findings: from the cache when the file is unchanged since
    /// the last scan (`--cache`), else checked against the index. A failed
    /// lookup is an error, never a skip.
    fn scan_file(
        &self,
        analyzer: &mut Analyzer,
        file: &InputFile,
    ) -> anyhow::Result<Result<Vec<Finding>, Skipped>> {
        let digests = engine::identity::FileDigests::of(&file.bytes);
        let Some(cache) = &self.cache else {
            return self.check_file(analyzer, file, digests);
        };
        let digest = digests.exact.to_hex();
        if let Some(result) = cache.get(&file.rel, &digest) {
            return Ok(result);
        }
        let result = self.check_file(analyzer, file, digests)?;
        cache.put(&file.rel, &digest, &result);
        Ok(result)
    }

    fn check_file(
        &self,
        analyzer: &mut Analyzer,
        file: &InputFile,
        digests: engine::identity::FileDigests,
    ) -> anyhow::Result<Result<Vec<Finding>, Skipped>> {
        let skipped = |reason: SkipReason| Skipped {
            path: file.rel.clone(),
            reason,
        };
        // Whole files first, before any parsing: a vendored library is
        // mostly files identical to an indexed release, and hashing costs
        // a hundredth of tokenizing.
        let found = self.whole_file(file, &digests)?;
        // A license or notice file is evidence of which project was vendored
        // when its text (usually with its copyright line) is one project's
        // or a few's; the bare text of a common license is in countless
        // projects and says only which license it is.
        let name = file.rel.rsplit(['/', '!']).next().unwrap_or(&file.rel);
        if corpus::license::is_license_file(name).is_some() {
            return Ok(match found {
                Some(f) if projects_named(&f) <= MAX_PROJECTS_OF_A_LICENSE_FILE => Ok(vec![f]),
                _ => Err(skipped(SkipReason::LicenseText)),
            });
        }
        if let Some(found) = found {
            return Ok(Ok(vec![found]));
        }
        let language = match analyzer.language_of(Path::new(&file.rel), &file.bytes) {
            Ok(language) => language,
            Err(r) => return Ok(Err(skipped(r))),
        };
        let tokens = analyzer.target_tokens(language, &file.bytes, self.probe);
        if tokens.is_empty() {
            return Ok(Err(skipped(SkipReason::Empty)));
        }
        let mut fingerprints =
            engine::winnow::fingerprint_file(&tokens, &file.bytes, analyzer.params);
        engine::winnow::sample_seeds(&mut fingerprints, language.seed_sampling());
        let stream = SymbolStream::of_file(&tokens, &file.bytes);
        drop(tokens);
        Ok(Ok(self.match_snippets(
            file,
            language,
            &stream,
            &fingerprints,
        )?))
    }

    fn match_snippets(
        &self,
        file: &InputFile,
        language: engine::lang::Language,
        target: &SymbolStream,
        fingerprints: &[engine::Fingerprint],
    ) -> anyhow::Result<Vec<Finding>> {
        let postings = FamilyPostings {
            scanner: self,
            family: language.family(),
        };
        let params = self.params.for_language(language);
        let mut matched = match_target(target, fingerprints, &postings, self, &params)?;
        if let Some(f) = small_files::confirm(&matched.small_files, &file.bytes, |origin| {
            self.index.source(origin)
        })? {
            matched.findings.push(f);
        }
        headers::keep_code_findings(&mut matched.findings, &file.bytes);
        headers::keep_code_findings(&mut matched.alone, &file.bytes);
        self.lookups
            .fetch_add(matched.lookups as u64, std::sync::atomic::Ordering::Relaxed);
        self.unexplained.fetch_add(
            matched.unexplained as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.aligned_work
            .fetch_add(matched.work.aligned, std::sync::atomic::Ordering::Relaxed);
        self.reported_work
            .fetch_add(matched.work.reported, std::sync::atomic::Ordering::Relaxed);
        self.fingerprints.fetch_add(
            fingerprints.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let squashed = SquashedText::new(&file.bytes);
        let mut findings = Vec::with_capacity(matched.findings.len() + matched.alone.len());
        let mut kept_header = std::collections::HashSet::new();
        let standing = matched.findings.into_iter().map(|f| (f, false));
        for (f, alone) in standing.chain(matched.alone.into_iter().map(|f| (f, true))) {
            let f = self.prefer_same_path(f, &file.rel)?;
            let span = f.best.span;
            let info = self.info(f.best.origin)?;
            let lines = [span.origin_lines.first, span.origin_lines.last];
            let (mut origin, alternatives) =
                self.origins(f.best.origin, &info, lines, &f.alternatives, &file.rel)?;
            if let Some(stream) = Streams::stream(self, f.best.origin)? {
                let (a, b) = stream.byte_range(
                    span.origin_tokens.first as usize,
                    span.origin_tokens.last as usize,
                );
                origin.bytes = Some([a as u64, b as u64]);
            }
            let (start, end) = target.byte_range(
                span.target_tokens.first as usize,
                span.target_tokens.last as usize,
            );
            let mut finding = Finding {
                path: file.rel.clone(),
                kind: FindingKind::Snippet,
                target_lines: [span.target_lines.first, span.target_lines.last],
                target_bytes: [start as u64, end as u64],
                notice_retained: notice_retained(&info.meta, &squashed),
                alone,
                license_class: None,
                origin,
                matched_tokens: span.matched_tokens,
                similarity: span.similarity,
                edits: Some(span.edits),
                symbol: None,
                origin_content: Some(f.best.origin),
                alternatives,
            };
            if headers::take_in_header(&mut finding, &span, &file.bytes, || {
                self.index.source(f.best.origin)
            })? {
                kept_header.insert(f.best.origin);
            }
            findings.push(finding);
        }
        // A file that kept an origin's header kept its notice, for every
        // finding of that origin in it.
        for f in &mut findings {
            if f.notice_retained == Some(false)
                && f.origin_content.is_some_and(|c| kept_header.contains(&c))
            {
                f.notice_retained = Some(true);
            }
        }
        findings.sort_by_key(|f| f.target_lines[0]);
        // Names of the enclosing definitions: one parse, and only of files
        // with a finding that a definition can hold (the matching itself
        // never parses).
        if !findings.is_empty() {
            let ranges: Vec<[u32; 2]> = findings.iter().map(|f| f.target_lines).collect();
            let symbols =
                engine::symbols::Symbols::for_ranges(language, &file.bytes, target, &ranges);
            for f in &mut findings {
                f.symbol = symbols.enclosing(f.target_lines).map(|d| d.name.clone());
            }
        }
        Ok(findings)
    }

    /// Postings of `grams` on origins of the target's language family.
    fn lookup(
        &self,
        grams: &[engine::Fingerprint],
        family: &str,
    ) -> anyhow::Result<Vec<(usize, engine::matcher::Posting)>> {
        let hits = Postings::lookup(self.index, grams)?;
        self.same_family(hits, family)
    }

    fn whole_file(
        &self,
        file: &InputFile,
        digests: &engine::identity::FileDigests,
    ) -> anyhow::Result<Option<Finding>> {
        if (file.bytes.len() as u64) < engine::identity::MIN_IDENTIFYING_LEN {
            return Ok(None);
        }
        let Some(m) = self.index.find_file(digests)?.into_iter().next() else {
            return Ok(None);
        };
        self.identical(&file.rel, &file.bytes, m.content).map(Some)
    }

    /// A file without a finding of its own where a copied tree puts it:
    /// a small one the index holds byte for byte at the same path below
    /// the tree's root, or any whose lines are mostly those of the file
    /// the origin holds at that path (`crate::placed`).
    fn placed(
        &self,
        file: &UnfoundFile,
        trees: &crate::placed::CopiedTrees,
        versions: &mut ProjectVersions,
    ) -> anyhow::Result<Option<Finding>> {
        if file.small() {
            let digests = engine::identity::FileDigests::of(&file.bytes);
            for m in self.index.find_file(&digests)? {
                let info = self.info(m.content)?;
                let placed = info
                    .occurrences
                    .iter()
                    .any(|o| trees.places(&file.rel, &o.project, &o.path));
                if placed {
                    return self.identical(&file.rel, &file.bytes, m.content).map(Some);
                }
            }
        }
        let mut best: Option<(u64, LineShare)> = None;
        for (project, path) in trees.around(&file.rel) {
            let mut seen = Vec::new();
            for &version in versions.of(self.index, &project)? {
                let Some(content) = self.index.content_at(version, &path)? else {
                    continue;
                };
                if seen.contains(&content) {
                    continue;
                }
                seen.push(content);
                let Some(source) = self.index.source(content)? else {
                    continue;
                };
                if let Some(share) = LineShare::of(&file.bytes, &source) {
                    if best.as_ref().is_none_or(|(_, b)| share.share() > b.share()) {
                        best = Some((content, share));
                    }
                }
            }
        }
        match best {
            Some((content, share)) => self.edited(file, content, &share).map(Some),
            None => Ok(None),
        }
    }

    /// The finding of a file placed as an edited copy of indexed
    /// `content`: the whole file against the whole origin file, as for an
    /// identical one, but a snippet whose similarity is the share of its
    /// lines that are the origin's, whose edits are the lines that are not,
    /// and whose matched tokens are those of the equal lines.
    fn edited(
        &self,
        file: &UnfoundFile,
        content: u64,
        share: &LineShare,
    ) -> anyhow::Result<Finding> {
        let equal: std::collections::HashSet<u32> = share.equal.iter().copied().collect();
        let matched = engine::token::lex_text(&file.bytes, engine::token::TokenKind::Ident)
            .tokens
            .iter()
            .filter(|t| equal.contains(&t.line))
            .count();
        Ok(Finding {
            kind: FindingKind::Snippet,
            matched_tokens: matched as u32,
            similarity: share.share(),
            edits: Some(share.other),
            ..self.identical(&file.rel, &file.bytes, content)?
        })
    }

    /// The finding of a file identical to indexed `content` (up to line
    /// endings).
    fn identical(&self, rel: &str, bytes: &[u8], content: u64) -> anyhow::Result<Finding> {
        let info = self.info(content)?;
        let lines = [1, engine::analyze::line_count(bytes).max(1)];
        let origin_lines = [1, info.meta.lines.max(1)];
        let (origin, alternatives) = self.origins(content, &info, origin_lines, &[], rel)?;
        Ok(Finding {
            path: rel.to_string(),
            kind: FindingKind::File,
            target_lines: lines,
            target_bytes: [0, bytes.len() as u64],
            notice_retained: notice_retained(&info.meta, &SquashedText::new(bytes)),
            alone: false,
            license_class: None,
            origin,
            // The same tokens as the origin: equal bytes, or equal up to
            // line endings, which tokens do not see.
            matched_tokens: info.meta.tokens,
            similarity: 1.0,
            edits: None,
            symbol: None,
            origin_content: Some(content),
            alternatives,
        })
    }

    /// Keeps the hits on origins of the target's language family: collapsed
    /// literals and punctuation make tables in one language look like
    /// tables in another (docs/accuracy.md, "Cross-language matches").
    fn same_family(
        &self,
        mut hits: Vec<(usize, engine::matcher::Posting)>,
        family: &str,
    ) -> anyhow::Result<Vec<(usize, engine::matcher::Posting)>> {
        let mut origins: Vec<u64> = hits.iter().map(|(_, p)| p.origin).collect();
        origins.sort_unstable();
        origins.dedup();
        let missing: Vec<u64> = {
            let known = self.families.lock().unwrap();
            origins.retain(|id| !known.contains_key(id));
            origins
        };
        let mut fetched = Vec::with_capacity(missing.len());
        for id in missing {
            let lang = self.index.content(id)?.map(|m| m.language);
            let fam = lang
                .as_deref()
                .and_then(engine::lang::Language::from_name)
                .map(|l| l.family());
            fetched.push((id, fam));
        }
        let mut known = self.families.lock().unwrap();
        known.extend(fetched);
        hits.retain(|(_, p)| known[&p.origin].is_none_or(|f| f == family));
        Ok(hits)
    }

    fn info(&self, content: u64) -> anyhow::Result<Arc<ContentInfo>> {
        if let Some(info) = self.attribution.lock().unwrap().get(&content) {
            return Ok(info.clone());
        }
        let meta = self
            .index
            .content(content)?
            .with_context(|| format!("content {content} vanished from the index"))?;
        let occurrences = self.index.occurrences(content)?;
        let info = Arc::new(ContentInfo { meta, occurrences });
        self.attribution
            .lock()
            .unwrap()
            .insert(content, info.clone());
        Ok(info)
    }

    /// Between a finding's origin and an alternative nearly as close, of
    /// the same project, the file at the target's own path: lz4 ships
    /// near-identical Visual Studio projects for five compiler versions,
    /// and a vendored `build/VS2022/lz4.sln` was named after
    /// `build/VS2017/lz4.sln`, a few GUIDs closer. Only within the project:
    /// across projects the upstream goes before its redistributors
    /// whatever their paths (`project_origins`).
    fn prefer_same_path(
        &self,
        mut f: engine::matcher::Finding,
        target: &str,
    ) -> anyhow::Result<engine::matcher::Finding> {
        if f.alternatives.is_empty() {
            return Ok(f);
        }
        // The project and the path-suffix length of a candidate's first
        // origin.
        let affinity = |m: &SnippetMatch| -> anyhow::Result<(Option<String>, usize)> {
            let info = self.info(m.origin)?;
            let first = occurrence_groups(&info, target).into_iter().next();
            Ok(first.map_or((None, 0), |(project, path, _)| {
                (Some(project.to_string()), shared_suffix(target, path))
            }))
        };
        let (project, mut best_shared) = affinity(&f.best)?;
        let mut chosen = None;
        for (k, m) in f.alternatives.iter().enumerate() {
            let near =
                m.span.matched_tokens as f64 >= NEAR_EQUAL * f.best.span.matched_tokens as f64;
            if !near {
                continue;
            }
            let (p, shared) = affinity(m)?;
            if p == project && shared > best_shared {
                best_shared = shared;
                chosen = Some(k);
            }
        }
        if let Some(k) = chosen {
            std::mem::swap(&mut f.best, &mut f.alternatives[k]);
        }
        Ok(f)
    }

    /// The reported origin and the alternatives. Other versions of the same
    /// project file fold into `versions`; other projects become
    /// alternatives, and so do other places of the best content itself
    /// (a block its file holds twice: the same path, other lines).
    fn origins(
        &self,
        best_content: u64,
        best: &ContentInfo,
        lines: [u32; 2],
        others: &[SnippetMatch],
        target: &str,
    ) -> anyhow::Result<(Origin, Vec<Origin>)> {
        let mut candidates = project_origins(best, lines, target);
        let mut origin = candidates.remove(0);
        let mut alternatives = candidates;
        for m in others {
            let info = self.info(m.origin)?;
            let lines = [m.span.origin_lines.first, m.span.origin_lines.last];
            // Another place of the same content, equally close (settled in
            // the engine): the same file, other lines.
            let elsewhere = m.origin == best_content;
            for alt in project_origins(&info, lines, target) {
                let same_file = alt.project == origin.project && alt.path == origin.path;
                if elsewhere {
                    if same_file {
                        alternatives.push(alt);
                    }
                } else if same_file {
                    origin.versions.extend(alt.versions);
                } else if !alternatives
                    .iter()
                    .any(|a| a.project == alt.project && a.path == alt.path)
                {
                    alternatives.push(alt);
                }
            }
        }
        origin.versions.sort_by(|a, b| version_cmp(a, b));
        origin.versions.dedup();
        Ok((origin, alternatives))
    }
}

/// A file that could not be checked because the index did not answer.
fn lookup_failed(rel: &str, e: anyhow::Error) -> ScanError {
    ScanError {
        path: rel.to_string(),
        message: format!("index lookup failed: {e:#}"),
    }
}

/// Share of the best origin's matched tokens an alternative needs for its
/// path to decide between them.
const NEAR_EQUAL: f64 = 0.95;

/// Path components two paths share at their ends: `liblz4/lib/lz4.c` and
/// `lib/lz4.c` share two.
fn shared_suffix(a: &str, b: &str) -> usize {
    a.rsplit('/')
        .zip(b.rsplit('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// A content's occurrences grouped by (project, path), in the order of
/// [`project_origins`].
fn occurrence_groups<'a>(
    info: &'a ContentInfo,
    target: &str,
) -> Vec<(&'a str, &'a str, Vec<&'a Occurrence>)> {
    let mut groups: Vec<(&str, &str, Vec<&Occurrence>)> = Vec::new();
    for occ in &info.occurrences {
        match groups
            .iter_mut()
            .find(|(p, path, _)| *p == occ.project && *path == occ.path)
        {
            Some(g) => g.2.push(occ),
            None => groups.push((&occ.project, &occ.path, vec![occ])),
        }
    }
    groups.sort_by_key(|&(p, path, _)| {
        (
            path.matches('/').count(),
            std::cmp::Reverse(named_in_path(p, target)),
            p,
            path,
        )
    });
    if let Some(project) = groups.first().map(|g| g.0) {
        let closest = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.0 == project)
            .max_by_key(|(k, g)| (shared_suffix(target, g.1), std::cmp::Reverse(*k)))
            .map(|(k, _)| k);
        if let Some(k) = closest {
            let g = groups.remove(k);
            groups.insert(0, g);
        }
    }
    groups
}

/// How many of a project name's words (`golang-golang-x-text`: golang, x,
/// text) are directory names, or words of directory names, on the
/// target's path (`src/vendor/golang.org/x/text/LICENSE`: 3). Between
/// projects that hold a file at the same depth, such as the identical
/// `LICENSE` of Go's x/net and x/text, the one the vendoring directory is
/// named after is where the copy came from.
fn named_in_path(project: &str, target: &str) -> usize {
    let dirs: std::collections::HashSet<String> = target
        .rsplit_once('/')
        .map_or("", |(dir, _)| dir)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let words: std::collections::HashSet<String> = project
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.iter().filter(|w| dirs.contains(*w)).count()
}

/// One origin per (project, path) holding the content, the likeliest
/// original first: a file nearer its project's root is less likely to be a
/// vendored copy (`zlib/inflate.c` before `libz-sys/src/zlib/inflate.c`);
/// at the same depth, the project the target's directories are named
/// after ([`named_in_path`]);
/// within the project chosen so, the path that shares most of its end with
/// the target's (`build/VS2022/lz4.sln` for a copy of that file, before an
/// identical `build/VS2017/lz4.sln`).
fn project_origins(info: &ContentInfo, lines: [u32; 2], target: &str) -> Vec<Origin> {
    let groups = occurrence_groups(info, target);
    let mut origins: Vec<Origin> = groups
        .into_iter()
        .map(|(project, path, occs)| {
            let mut versions: Vec<String> = occs.iter().map(|o| o.version.clone()).collect();
            versions.sort_by(|a, b| version_cmp(a, b));
            versions.dedup();
            let newest = occs
                .iter()
                .max_by(|a, b| version_cmp(&a.version, &b.version))
                .expect("a group has an occurrence");
            let license = newest.license.as_ref().or(info.meta.license.as_ref());
            Origin {
                project: Some(project.to_string()),
                version: versions.last().cloned(),
                versions,
                path: path.to_string(),
                lines,
                license: license.map(|l| l.expression.clone()),
                license_evidence: license.map(|l| l.evidence.clone()),
                copyright: info.meta.copyrights.clone(),
                symbol: None,
                bytes: None,
            }
        })
        .collect();
    if origins.is_empty() {
        origins.push(Origin {
            project: None,
            version: None,
            versions: Vec::new(),
            path: format!("content:{}", info.meta.exact),
            lines,
            license: info.meta.license.as_ref().map(|l| l.expression.clone()),
            license_evidence: info.meta.license.as_ref().map(|l| l.evidence.clone()),
            copyright: info.meta.copyrights.clone(),
            symbol: None,
            bytes: None,
        });
    }
    origins
}

/// Orders versions as people do: numeric runs by value (`1.10` after `1.9`).
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<Result<u64, String>> {
        let mut out = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                out.push(Ok(rest[..digits].parse().unwrap_or(u64::MAX)));
                rest = &rest[digits..];
            } else {
                let n = rest
                    .find(|c: char| c.is_ascii_digit())
                    .unwrap_or(rest.len());
                out.push(Err(rest[..n].to_string()));
                rest = &rest[n..];
            }
        }
        out
    }
    chunks(a).cmp(&chunks(b))
}

/// Whether the target kept the origin's notice. `None` when the origin has
/// none to keep. A notice counts as kept when the target names a copyright
/// holder of the origin, or carries the origin's SPDX license tag.
/// `target` gives the target file's text through [`squash`], computed once
/// per file however many findings it has.
fn notice_retained(origin: &ContentMeta, target: &SquashedText) -> Option<bool> {
    let tagged = origin.license.as_ref().filter(|l| l.evidence == "spdx-tag");
    if origin.copyrights.is_empty() && tagged.is_none() {
        return None;
    }
    let text = target.get();
    let holder_kept = origin
        .copyrights
        .iter()
        .map(|c| holder(c))
        .filter(|h| h.len() >= 3)
        .any(|h| text.contains(&h));
    let tag_kept = tagged.is_some_and(|l| {
        text.contains(&squash(&format!(
            "SPDX-License-Identifier: {}",
            l.expression
        )))
    });
    Some(holder_kept || tag_kept)
}

/// A target file's squashed text, made on first use.
struct SquashedText<'a> {
    bytes: &'a [u8],
    text: std::cell::OnceCell<String>,
}

impl<'a> SquashedText<'a> {
    fn new(bytes: &'a [u8]) -> SquashedText<'a> {
        SquashedText {
            bytes,
            text: std::cell::OnceCell::new(),
        }
    }

    fn get(&self) -> &str {
        self.text
            .get_or_init(|| squash(&String::from_utf8_lossy(self.bytes)))
    }
}

/// Lower case with runs of whitespace folded, for tolerant comparison.
fn squash(s: &str) -> String {
    // One pass to fold the whitespace (a whole target file goes through
    // here), then the lower case of the whole, so that a word-final sigma
    // stays final.
    let mut folded = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.push_str(word);
    }
    folded.to_lowercase()
}

/// The holder part of a copyright statement: without the word "copyright",
/// `(c)`, `©` and the years.
pub(crate) fn holder(statement: &str) -> String {
    let s = squash(statement);
    let words: Vec<&str> = s
        .split(' ')
        .filter(|w| {
            let w = w.trim_matches(|c: char| c == ',' || c == '.');
            !(w == "copyright"
                || w == "(c)"
                || w == "©"
                || w.is_empty()
                || w.chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == ','))
        })
        .collect();
    words.join(" ")
}

/// The version ids of each project a scan's last step looked in, newest
/// first, read from the index once per project.
#[derive(Default)]
struct ProjectVersions(HashMap<String, Vec<u32>>);

impl ProjectVersions {
    fn of(&mut self, index: &Index, project: &str) -> anyhow::Result<&[u32]> {
        if !self.0.contains_key(project) {
            let ids = index
                .versions(project)?
                .iter()
                .rev()
                .map(|v| v.id)
                .collect();
            self.0.insert(project.to_string(), ids);
        }
        Ok(&self.0[project])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(copyrights: &[&str]) -> ContentMeta {
        ContentMeta {
            id: 1,
            exact: String::new(),
            normalized: String::new(),
            bytes: 0,
            lines: 10,
            language: "c".into(),
            tokens: 0,
            fingerprints: 0,
            fallback: false,
            license: None,
            copyrights: copyrights.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn versions_sort_naturally() {
        let mut v = vec!["1.10.0", "1.9.2", "1.2", "v2.0", "1.9.10"];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(v, ["1.2", "1.9.2", "1.9.10", "1.10.0", "v2.0"]);
    }

    #[test]
    fn stripped_notices_are_noticed() {
        let m = meta(&["Copyright (C) 1995-2024 Jean-loup Gailly and Mark Adler"]);
        let kept = b"/* copyright (c) 1995-2017   Jean-loup Gailly and\n   Mark Adler */\nint x;";
        let check = |m: &ContentMeta, t: &[u8]| notice_retained(m, &SquashedText::new(t));
        assert_eq!(check(&m, kept), Some(true));
        assert_eq!(check(&m, b"/* (c) ACME Corp */ int x;"), Some(false));
        assert_eq!(check(&meta(&[]), b"int x;"), None);
    }

    #[test]
    fn holder_drops_years_and_markers() {
        assert_eq!(holder("Copyright (c) 2001, 2002 Jane Doe."), "jane doe.");
        assert_eq!(holder("© 1999-2020 The Foo Project"), "the foo project");
        assert_eq!(
            holder("Copyright (C) 1989-2017,2022 Free Software Foundation, Inc."),
            "free software foundation, inc."
        );
    }

    #[test]
    fn the_origin_at_the_targets_own_path_goes_first_within_its_project() {
        let occ = |project: &str, path: &str| Occurrence {
            project: project.into(),
            version: "1".into(),
            path: path.into(),
            license: None,
        };
        let info = ContentInfo {
            meta: meta(&[]),
            occurrences: vec![
                occ("lz4", "build/VS2017/lz4.sln"),
                occ("lz4", "build/VS2022/lz4.sln"),
                occ("lz4-sys", "liblz4/build/VS2022/lz4.sln"),
            ],
        };
        let paths = |target: &str| -> Vec<String> {
            project_origins(&info, [1, 10], target)
                .into_iter()
                .map(|o| format!("{}:{}", o.project.unwrap(), o.path))
                .collect()
        };
        // The upstream before its redistributor whatever the paths, and
        // within the upstream the file at the target's path.
        assert_eq!(
            paths("vendor/liblz4/build/VS2022/lz4.sln")[..2],
            ["lz4:build/VS2022/lz4.sln", "lz4:build/VS2017/lz4.sln"]
        );
        assert_eq!(paths("lz4.sln")[0], "lz4:build/VS2017/lz4.sln");
        // The same license file in two projects: the one the vendoring
        // directory is named after.
        let info = ContentInfo {
            meta: meta(&[]),
            occurrences: vec![
                occ("golang-golang-x-net", "LICENSE"),
                occ("golang-golang-x-text", "LICENSE"),
            ],
        };
        let first = |target: &str| project_origins(&info, [1, 10], target)[0].project.clone();
        assert_eq!(
            first("src/vendor/golang.org/x/text/LICENSE").as_deref(),
            Some("golang-golang-x-text")
        );
        assert_eq!(
            first("src/vendor/golang.org/x/net/LICENSE").as_deref(),
            Some("golang-golang-x-net")
        );
        assert_eq!(shared_suffix("a/lib/lz4.c", "lib/lz4.c"), 2);
        assert_eq!(shared_suffix("lib/lz4.c", "lib/lz4hc.c"), 0);
    }
}
