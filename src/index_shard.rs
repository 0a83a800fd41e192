//! `provscan index shard | plan | run | ingest`: the steps of a build spread
//! over many machines (the Spark job in `spark/` drives them). The format of
//! every file they pass along is the indexer's (`indexer::shard`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use indexer::shard::{self, Plan, ShardWriter};
use indexer::{Index, OpenOptions};

use crate::index_cmd::{load_options, open_writer, BUILD_MAX_RUNS};

#[derive(Args)]
pub struct ShardArgs {
    /// The manifest (`corpus.toml`); relative local specs are resolved
    /// against its directory.
    pub manifest: PathBuf,
    /// Where to write the shard (absent or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only these sources of the manifest, by position from 0, e.g. `0,3,4`
    /// [default: all].
    #[arg(long, value_delimiter = ',', value_name = "I,J,…")]
    pub sources: Vec<usize>,
    /// Number of fingerprint ranges to cut the postings into; every shard
    /// of a build must use the same.
    #[arg(long, default_value_t = 16)]
    pub ranges: u32,
    /// Where registry downloads are cached.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Leave out the source text.
    #[arg(long)]
    pub no_source: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PlanArgs {
    /// Shard directories, in the order their versions are to be added.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Where to write the plan (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct RunArgs {
    /// The plan (`provscan index plan`).
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
    /// Which fingerprint range.
    #[arg(long)]
    pub range: u32,
    /// Directory the run is written to (`run-NNNNN.sst` and `.json`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The range's posting files, one per shard of the plan [default: each
    /// shard directory's own file for the range].
    pub inputs: Vec<PathBuf>,
}

#[derive(Args)]
pub struct IngestArgs {
    /// The plan the runs were written for [default: the copy every run
    /// leaves in the runs directory].
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// The directory holding one run per range.
    pub runs: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn shard(a: ShardArgs) -> anyhow::Result<ExitCode> {
    let mut manifest = corpus::Manifest::from_path(&a.manifest)?;
    if !a.sources.is_empty() {
        let all = std::mem::take(&mut manifest.sources);
        for &i in &a.sources {
            let src = all.get(i).with_context(|| {
                format!(
                    "{}: no source {i} (the manifest has {})",
                    a.manifest.display(),
                    all.len()
                )
            })?;
            manifest.sources.push(src.clone());
        }
    }
    let opts = load_options(a.cache_dir.as_deref());
    let mut writer = ShardWriter::create(&a.out, engine::Params::default(), a.ranges, !a.no_source)
        .with_context(|| format!("creating shard {}", a.out.display()))?;
    let mut write_error: Option<indexer::IndexError> = None;
    let report = corpus::manifest::build(
        &manifest,
        &opts,
        |_, _| false,
        |v| match writer.add(v.into()) {
            Ok(_) => Ok(()),
            Err(e) => {
                let msg = e.to_string();
                // Only a bad name is the source's fault; anything else is
                // the shard's and ends the task.
                if !matches!(e, indexer::IndexError::BadName(_)) {
                    write_error.get_or_insert(e);
                }
                Err(msg.into())
            }
        },
    );
    if let Some(e) = write_error {
        return Err(anyhow::Error::new(e).context(format!("writing shard {}", a.out.display())));
    }
    for s in &report.sources {
        if let Some(e) = &s.error {
            writer.source_failed(&s.spec, e);
        }
    }
    let m = writer
        .finish()
        .with_context(|| format!("writing shard {}", a.out.display()))?;
    let versions: Vec<String> = m
        .versions
        .iter()
        .map(|v| format!("{}@{}", v.project, v.version))
        .collect();
    if a.json {
        let out = serde_json::json!({
            "shard": a.out,
            "id": m.id,
            "versions": versions,
            "contents": m.contents.len(),
            "postings": m.postings.iter().sum::<u64>(),
            "failed_sources": m.failed_sources,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for v in &versions {
            println!("{v}");
        }
        for f in &m.failed_sources {
            println!("FAILED {}: {}", f.spec, f.error);
        }
        println!(
            "shard {}: {} versions, {} contents, {} postings in {} ranges",
            a.out.display(),
            versions.len(),
            m.contents.len(),
            m.postings.iter().sum::<u64>(),
            m.ranges
        );
    }
    Ok(if m.failed_sources.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
}

pub fn plan(dir: &Path, a: PlanArgs) -> anyhow::Result<ExitCode> {
    let shards = a
        .shards
        .iter()
        .map(|p| absolute(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let index = if dir.join("CURRENT").exists() {
        Some(
            Index::open_reader(dir, &OpenOptions::default())
                .with_context(|| format!("opening index {}", dir.display()))?,
        )
    } else {
        None
    };
    let plan = Plan::make(index.as_ref(), &shards)?;
    plan.write(&a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "plan {}: {} versions to add ({} already indexed), {} new contents, ids {}..{}",
        a.out.display(),
        plan.versions.len(),
        plan.already_present.len(),
        plan.new_contents,
        plan.first_content,
        plan.end_content
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let plan = Plan::read(&a.plan)?;
    let inputs = if a.inputs.is_empty() {
        plan.shards
            .iter()
            .map(|s| shard::postings_path(&s.dir, a.range))
            .collect()
    } else {
        a.inputs
    };
    let m = shard::write_run(&plan, a.range, &inputs, &a.out)?;
    println!(
        "run {} of {}: {} postings, {} fingerprints",
        m.range, m.ranges, m.postings, m.fingerprints
    );
    Ok(ExitCode::SUCCESS)
}

pub fn ingest(dir: &Path, a: IngestArgs) -> anyhow::Result<ExitCode> {
    let plan_file = a
        .plan
        .clone()
        .unwrap_or_else(|| a.runs.join(shard::PLAN_IN_RUNS));
    let plan = Plan::read(&plan_file)?;
    let index = open_writer(dir)?;
    let report = index
        .ingest(&plan, &a.runs, &crate::index_cmd::kill_hook)
        .with_context(|| format!("ingesting into index {}", dir.display()))?;
    index.settle(BUILD_MAX_RUNS)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for v in &report.added {
            println!("{v}: added");
        }
        for v in &report.already_present {
            println!("{v}: already indexed");
        }
        println!(
            "{} versions, {} files, {} new contents, {} runs ingested",
            report.added.len(),
            report.files,
            report.new_contents,
            report.runs
        );
    }
    Ok(ExitCode::SUCCESS)
}
