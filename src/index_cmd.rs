//! `provscan index …`: build and maintain the fingerprint index.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use indexer::{AddOptions, Index, OpenOptions, Progress, SkippedFile};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Environment variable naming the index directory.
pub const INDEX_ENV: &str = "PROVSCAN_INDEX";

#[derive(Args)]
pub struct IndexArgs {
    /// Index directory [default: $PROVSCAN_INDEX, else the user data
    /// directory, e.g. ~/.local/share/provscan/index].
    #[arg(long, global = true, value_name = "DIR")]
    pub index: Option<PathBuf>,
    #[command(subcommand)]
    pub command: IndexCommand,
}

#[derive(Subcommand)]
pub enum IndexCommand {
    /// Add one project version (or every tag of a git repository).
    Add(AddArgs),
    /// Add every source listed in a corpus.toml manifest, skipping versions
    /// already indexed; one failing source does not stop the others.
    Build(BuildArgs),
    /// List indexed projects and versions.
    List(ListArgs),
    /// Remove a project, or one of its versions.
    Remove(RemoveArgs),
    /// Show index statistics.
    Stats(StatsArgs),
    /// Check that the index is whole: the open-time checks (every table
    /// file present with its recorded size, the last commit reached), then
    /// every block's checksum and every record. Exit 0 when intact, 2 when
    /// damaged, with what is damaged and how to recover.
    Verify(VerifyArgs),
    /// Distributed build, step 1: analyze the sources of a manifest (or
    /// some of them) into a shard directory, postings cut by fingerprint
    /// range. Exit 1 when a source failed (the shard lists it).
    Shard(crate::index_shard::ShardArgs),
    /// Distributed build, step 2: decide ids and new versions for a list
    /// of shards against the index as it is; writes the plan.
    Plan(crate::index_shard::PlanArgs),
    /// Distributed build, step 3: merge one fingerprint range of every
    /// shard into a sorted run (an SST file) for the plan.
    Run(crate::index_shard::RunArgs),
    /// Distributed build, step 4: ingest the runs and commit every version
    /// of the plan at once (all or nothing).
    Ingest(crate::index_shard::IngestArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// What to index: a directory, an archive, `git:PATH[#GLOB]`,
    /// `crate:NAME@V`, `pypi:NAME==V`, `npm:NAME@V` or `deb:SOURCE[=V]`.
    pub source: String,
    /// Project name [default: from the package metadata or the spec].
    #[arg(long)]
    pub project: Option<String>,
    /// Version [default: from the package metadata or the spec].
    #[arg(long)]
    pub version: Option<String>,
    /// Declared license (SPDX expression), the fallback attribution.
    #[arg(long)]
    pub license: Option<String>,
    /// Where registry downloads are cached.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Versions with less new source than this are written in one batch,
    /// larger ones as ingested SST files (tuning and tests).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub batch_limit_bytes: Option<u64>,
    /// Leave out the source text, for corpora whose text may not be kept:
    /// the HTML report then shows the target side only, and each content
    /// keeps its token stream instead (the stream is otherwise rebuilt from
    /// the text), so the index is no smaller.
    #[arg(long)]
    pub no_source: bool,
}

#[derive(Args)]
pub struct BuildArgs {
    /// The manifest: `[[source]]` tables with `spec` and optional
    /// `project`, `version`, `license` (see corpus-tools/README.md).
    pub manifest: PathBuf,
    /// Where registry downloads are cached.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Leave out the source text, for corpora whose text may not be kept:
    /// the HTML report then shows the target side only, and each content
    /// keeps its token stream instead (the stream is otherwise rebuilt from
    /// the text), so the index is no smaller.
    #[arg(long)]
    pub no_source: bool,
    /// As for `add` (tuning and tests).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub batch_limit_bytes: Option<u64>,
}

#[derive(Args)]
pub struct ListArgs {
    /// Only this project.
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RemoveArgs {
    #[arg(long)]
    pub project: String,
    /// Only this version [default: every version of the project].
    #[arg(long)]
    pub version: Option<String>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Only the checks every open makes (fast), not every block.
    #[arg(long)]
    pub quick: bool,
    /// Print the result as JSON, with a digest of every record (equal for
    /// two indexes that hold the same data, however they were built).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct StatsArgs {
    #[arg(long)]
    pub json: bool,
}

/// Where the index lives: `explicit` (from `--index`), else
/// `$PROVSCAN_INDEX`, else `provscan/index` in the user data directory.
pub fn index_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(INDEX_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let data = dirs::data_dir()
        .context("no user data directory; pass --index DIR or set PROVSCAN_INDEX")?;
    Ok(data.join("provscan").join("index"))
}

pub fn run(args: IndexArgs) -> anyhow::Result<ExitCode> {
    let dir = index_dir(args.index.as_deref())?;
    match args.command {
        IndexCommand::Add(a) => add(&dir, a),
        IndexCommand::Build(a) => build(&dir, a),
        IndexCommand::List(a) => list(&dir, a),
        IndexCommand::Remove(a) => remove(&dir, a),
        IndexCommand::Stats(a) => stats(&dir, a),
        IndexCommand::Verify(a) => verify(&dir, a),
        IndexCommand::Shard(a) => crate::index_shard::shard(a),
        IndexCommand::Plan(a) => crate::index_shard::plan(&dir, a),
        IndexCommand::Run(a) => crate::index_shard::run(a),
        IndexCommand::Ingest(a) => crate::index_shard::ingest(&dir, a),
    }
}

fn verify(dir: &Path, a: VerifyArgs) -> anyhow::Result<ExitCode> {
    // A damaged index fails here with the file named; errors exit 2.
    let index = open_reader(dir)?;
    if a.quick {
        if a.json {
            println!("{}", serde_json::json!({"intact": true, "quick": true}));
        } else {
            println!("{}: table files and last commit: intact", dir.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (counts, digest) = index
        .verify()
        .with_context(|| format!("verifying index {}", dir.display()))?;
    if a.json {
        let records: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(cf, n)| (cf.to_string(), (*n).into()))
            .collect();
        let out = serde_json::json!({"intact": true, "records": records, "digest": digest});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}: table files and last commit: intact", dir.display());
    for (cf, n) in counts {
        println!("  {cf:<14} {n} records, checksums verified");
    }
    println!("  digest of the records: {digest}");
    println!("{}: intact", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn open_reader(dir: &Path) -> anyhow::Result<Index> {
    Index::open_reader(dir, &OpenOptions::default())
        .with_context(|| format!("opening index {}", dir.display()))
}

pub(crate) fn open_writer(dir: &Path) -> anyhow::Result<Index> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Index::open(dir, &OpenOptions::default())
        .with_context(|| format!("opening index {}", dir.display()))
}

/// Progress display: a bar on a terminal, nothing otherwise.
struct Display {
    bar: Option<ProgressBar>,
    files: AtomicU64,
    started: Mutex<Instant>,
}

impl Display {
    fn new() -> Display {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Display {
            bar,
            files: AtomicU64::new(0),
            started: Mutex::new(Instant::now()),
        }
    }

    fn on(&self, p: &Progress) {
        kill_hook(p);
        let Some(bar) = &self.bar else { return };
        match p {
            Progress::Planned { bytes, .. } => {
                bar.set_length(*bytes);
                bar.set_position(0);
                self.files.store(0, Ordering::Relaxed);
                *self.started.lock().unwrap() = Instant::now();
            }
            Progress::Stage(s) => bar.set_prefix(s.name()),
            Progress::File { bytes } => {
                let n = self.files.fetch_add(1, Ordering::Relaxed) + 1;
                bar.inc(*bytes);
                let secs = self
                    .started
                    .lock()
                    .unwrap()
                    .elapsed()
                    .as_secs_f64()
                    .max(1e-3);
                bar.set_message(format!("{n} files, {:.0} files/s", n as f64 / secs));
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Test hook: `PROVSCAN_TEST_KILL_AT=STAGE` makes the process SIGKILL
/// itself when a write reaches STAGE, so crash recovery can be tested at
/// exact points; `STAGE+MS` kills it MS milliseconds later, in the middle
/// of what follows (a purge, a compaction).
pub(crate) fn kill_hook(p: &Progress) {
    let Progress::Stage(s) = p else { return };
    let Ok(spec) = std::env::var("PROVSCAN_TEST_KILL_AT") else {
        return;
    };
    let (stage, delay) = match spec.split_once('+') {
        Some((stage, ms)) => (stage.to_string(), ms.parse().unwrap_or(0)),
        None => (spec, 0),
    };
    if stage != s.name() {
        return;
    }
    let kill = move || {
        std::thread::sleep(Duration::from_millis(delay));
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
        std::thread::sleep(Duration::from_secs(60));
    };
    if delay == 0 {
        kill();
    } else {
        std::thread::spawn(kill);
    }
}

#[derive(serde::Serialize)]
struct AddSummary {
    project: String,
    version: String,
    already_present: bool,
    files: u64,
    bytes: u64,
    new_contents: u64,
    reused_contents: u64,
    fingerprints: u64,
    write_path: &'static str,
    seconds: f64,
    skipped: Vec<SkippedFile>,
}

fn cache_dir(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(d) => d.to_path_buf(),
        None => dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("provscan")
            .join("downloads"),
    }
}

/// One writer and its progress display, shared by `add` and `build`.
struct Adder {
    index: Index,
    display: Arc<Display>,
    opts: AddOptions,
}

impl Adder {
    fn new(dir: &Path, batch_limit_bytes: Option<u64>, keep_source: bool) -> anyhow::Result<Adder> {
        let index = open_writer(dir)?;
        let display = Arc::new(Display::new());
        let d2 = display.clone();
        let mut opts = AddOptions {
            progress: Some(Arc::new(move |p: &Progress| d2.on(p))),
            keep_source,
            ..AddOptions::default()
        };
        if let Some(limit) = batch_limit_bytes {
            opts.batch_limit_bytes = limit;
        }
        Ok(Adder {
            index,
            display,
            opts,
        })
    }

    /// Ends the writing session (see `Index::settle`): readers then open
    /// without replaying a log, and look postings up in few sorted runs.
    fn settle(&self, max_runs: u64) -> anyhow::Result<()> {
        self.display.finish();
        let started = Instant::now();
        let runs = self.index.postings_sorted_runs()?;
        if self.index.settle_with(max_runs, &kill_hook)? {
            eprintln!(
                "compacted the fingerprint postings ({runs} sorted runs into 1) in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    fn add(&self, v: corpus::Version) -> Result<AddSummary, indexer::IndexError> {
        let started = Instant::now();
        let (project, version) = (v.project.clone(), v.version.clone());
        if let Some(bar) = &self.display.bar {
            bar.println(format!(
                "indexing {project}@{version} ({} files)",
                v.files.len()
            ));
        }
        let r = self.index.add(v.into(), &self.opts)?;
        Ok(AddSummary {
            project,
            version,
            already_present: r.already_present,
            files: r.files,
            bytes: r.bytes,
            new_contents: r.new_contents,
            reused_contents: r.reused_contents,
            fingerprints: r.fingerprints,
            write_path: r.write_path,
            seconds: started.elapsed().as_secs_f64(),
            skipped: r.skipped,
        })
    }
}

/// `add` compacts the postings once several adds have piled up; `build`, a
/// bulk operation, always leaves one sorted run.
const ADD_MAX_RUNS: u64 = 4;
pub(crate) const BUILD_MAX_RUNS: u64 = 1;

pub(crate) fn load_options(cache: Option<&Path>) -> corpus::LoadOptions {
    corpus::LoadOptions::new(cache_dir(cache))
}

fn add(dir: &Path, a: AddArgs) -> anyhow::Result<ExitCode> {
    let spec = corpus::SourceSpec::parse(&a.source)
        .with_context(|| format!("bad source {:?}", a.source))?;
    let mut opts = load_options(a.cache_dir.as_deref());
    opts.project = a.project.clone();
    opts.version = a.version.clone();
    opts.declared_license = a.license.clone();
    let fresh = !dir.exists();
    let adder = Adder::new(dir, a.batch_limit_bytes, !a.no_source)?;
    let mut summaries = Vec::new();
    let mut first_error: Option<anyhow::Error> = None;
    let result = corpus::for_each_version(&spec, &opts, |v| match adder.add(v) {
        Ok(s) => {
            summaries.push(s);
            Ok(())
        }
        Err(e) => {
            let msg = e.to_string();
            first_error.get_or_insert(anyhow::Error::new(e));
            Err(msg.into())
        }
    });
    adder.settle(ADD_MAX_RUNS)?;
    drop(adder);
    let failed = first_error.is_some() || result.is_err();
    if failed && fresh && summaries.is_empty() {
        // An empty index left behind would open fine and find nothing.
        let _ = std::fs::remove_dir_all(dir);
    }
    print_add_summaries(&summaries, a.json)?;
    if let Some(e) = first_error {
        return Err(e.context(format!("adding to index {}", dir.display())));
    }
    result.with_context(|| format!("loading {}", a.source))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct BuildSource {
    spec: String,
    added: Vec<String>,
    skipped: Vec<String>,
    error: Option<String>,
}

#[derive(serde::Serialize)]
struct BuildOutput {
    versions: Vec<AddSummary>,
    sources: Vec<BuildSource>,
}

/// `index build`: exit 0 when every source was added or already present,
/// 1 when any failed (the others are still added).
fn build(dir: &Path, a: BuildArgs) -> anyhow::Result<ExitCode> {
    let manifest = corpus::Manifest::from_path(&a.manifest)?;
    let opts = load_options(a.cache_dir.as_deref());
    let adder = Adder::new(dir, a.batch_limit_bytes, !a.no_source)?;
    let mut versions = Vec::new();
    let report = corpus::manifest::build(
        &manifest,
        &opts,
        |p, v| adder.index.has_version(p, v).unwrap_or(false),
        |v| {
            versions.push(adder.add(v)?);
            Ok(())
        },
    );
    adder.settle(BUILD_MAX_RUNS)?;
    let sources: Vec<BuildSource> = report
        .sources
        .iter()
        .map(|s| BuildSource {
            spec: s.spec.clone(),
            added: s.added.clone(),
            skipped: s.skipped.clone(),
            error: s.error.clone(),
        })
        .collect();
    if a.json {
        let out = BuildOutput { versions, sources };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_add_summaries(&versions, false)?;
        for s in &sources {
            for id in &s.skipped {
                println!("{id}: already indexed ({})", s.spec);
            }
            if let Some(e) = &s.error {
                println!("FAILED {}: {e}", s.spec);
            }
        }
        println!(
            "{} added, {} already indexed, {} sources failed",
            report.added(),
            report.skipped(),
            report.failed()
        );
    }
    Ok(if report.failed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

const MAX_SKIPS_SHOWN: usize = 200;

fn print_add_summaries(summaries: &[AddSummary], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(summaries)?);
        return Ok(());
    }
    for s in summaries {
        if s.already_present {
            println!(
                "{}@{}: already indexed, nothing to do",
                s.project, s.version
            );
            continue;
        }
        let mb = s.bytes as f64 / 1e6;
        println!(
            "{}@{}: {} files ({:.1} MB), {} new contents, {} already indexed, {} fingerprints, {} skipped, \
             {:.1} s ({:.1} MB/s, {:.0} files/s)",
            s.project,
            s.version,
            s.files,
            mb,
            s.new_contents,
            s.reused_contents,
            s.fingerprints,
            s.skipped.len(),
            s.seconds,
            mb / s.seconds.max(1e-3),
            s.files as f64 / s.seconds.max(1e-3),
        );
        for k in s.skipped.iter().take(MAX_SKIPS_SHOWN) {
            println!("  skipped {}: {}", k.path, k.reason);
        }
        if s.skipped.len() > MAX_SKIPS_SHOWN {
            println!(
                "  … and {} more skipped (see --json)",
                s.skipped.len() - MAX_SKIPS_SHOWN
            );
        }
    }
    Ok(())
}

fn list(dir: &Path, a: ListArgs) -> anyhow::Result<ExitCode> {
    let index = open_reader(dir)?;
    let versions = match &a.project {
        Some(p) => index.versions(p)?,
        None => index.all_versions()?,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&versions)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut last = None;
    for v in &versions {
        if last != Some(&v.project) {
            println!("{}", v.project);
            last = Some(&v.project);
        }
        println!(
            "  {}\t{} files\t{:.1} MB\t{}\t{}",
            v.version,
            v.files,
            v.bytes as f64 / 1e6,
            v.declared_license.as_deref().unwrap_or("-"),
            v.source_spec
        );
    }
    if versions.is_empty() {
        eprintln!("index {} holds no versions", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(dir: &Path, a: RemoveArgs) -> anyhow::Result<ExitCode> {
    if !dir.join("CURRENT").exists() {
        anyhow::bail!("no index at {}", dir.display());
    }
    let index = open_writer(dir)?;
    let r = index.remove_with(&a.project, a.version.as_deref(), &kill_hook)?;
    if r.versions.is_empty() {
        eprintln!(
            "{}{} is not in the index",
            a.project,
            a.version
                .as_deref()
                .map(|v| format!("@{v}"))
                .unwrap_or_default()
        );
        return Ok(ExitCode::from(1));
    }
    for (p, v) in &r.versions {
        println!("removed {p}@{v}");
    }
    println!(
        "dropped {} contents and {} fingerprints no longer referenced",
        r.dropped_contents, r.dropped_fingerprints
    );
    Ok(ExitCode::SUCCESS)
}

fn stats(dir: &Path, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let index = open_reader(dir)?;
    let s = index.stats()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("index               {}", dir.display());
    println!("format version      {}", s.format_version);
    if let Some(p) = &s.params {
        println!("engine              {p}");
    }
    println!("projects            {}", s.projects);
    println!("versions            {}", s.versions);
    println!("contents            {}", s.contents);
    println!("occurrences         {}", s.occurrences);
    println!("source bytes        {}", s.source_bytes);
    println!("fingerprints        {}", s.fingerprints);
    println!("postings            {}", s.postings);
    println!(
        "common fingerprints {} (in more than {} contents)",
        s.common_fingerprints, s.common_threshold
    );
    println!("bytes on disk       {}", s.bytes_on_disk);
    for (cf, bytes) in &s.bytes_by_column_family {
        if *bytes > 0 {
            println!("  {cf:<17} {bytes}");
        }
    }
    match s.key_filter {
        Some((keys, bytes)) => println!("  {:<17} {bytes} ({keys} keys)", "key filter"),
        None => println!(
            "  {:<17} none for this commit (any writing command writes it)",
            "key filter"
        ),
    }
    if s.source_bytes > 0 {
        println!(
            "index/source        {:.3}",
            s.bytes_on_disk as f64 / s.source_bytes as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}
