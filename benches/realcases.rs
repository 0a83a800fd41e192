//! Real vendored code: provscan against a naive 5-line hash matcher on real
//! packages that vendor, bundle or fork other real packages.
//!
//! ```text
//! export CARGO_TARGET_DIR=$HOME/.cache/provscan-target
//! cargo bench --bench realcases
//! ```
//!
//! For each case of `support/realcases/cases.rs`: the target and origin
//! packages are fetched and unpacked (cached under `$PROVSCAN_TESTDATA`,
//! default `~/.cache/provscan-testdata`); the truth is derived from the
//! target's vendoring manifest, path correspondence and a line diff
//! (`support/realcases/truth.rs`); the origins are indexed with
//! `provscan index add` (one index per case, cached per provscan binary);
//! the scanned part of the target is scanned with `provscan scan --format
//! json`; the naive matcher (`support/realcases/naive.rs`) reads the same
//! origin files and target files. One table at the end, per case and
//! overall; `docs/accuracy.md` ("Real vendored code") explains the metrics.
//! `PROVSCAN_REALCASES=a,b` runs only the cases named; `PROVSCAN_BENCH_WORKDIR`
//! keeps the scanned trees and reports there instead of a temporary directory;
//! `PROVSCAN_REALCASES_DETAIL=1` prints every file that costs either matcher
//! a metric (a copy missed or misnamed, a wrong license, an other file with
//! findings).

#[path = "support/realcases/mod.rs"]
mod realcases;
#[path = "../tests/shared/mod.rs"]
mod shared;

use std::fs;
use std::hash::Hasher;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context};
use realcases::cases::{Case, CASES};
use realcases::naive::Naive;
use realcases::score::{from_report, score, Counts, Found};
use realcases::tree::{component, materialize, stage, Tree};
use realcases::truth::{derive, Truth};

/// The binary cargo built for this bench, refused when sources are newer
/// (the numbers would not be of the code in the work tree), linked into
/// the work directory so that a concurrent rebuild cannot swap it.
fn provscan_binary(work: &Path) -> anyhow::Result<PathBuf> {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_provscan"));
    let built_at = fs::metadata(&built)
        .with_context(|| {
            format!(
                "the provscan binary is not at {}; run this through `cargo bench --bench realcases`",
                built.display()
            )
        })?
        .modified()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newer = Vec::new();
    for dir in ["src", "engine", "indexer", "corpus-tools"] {
        newest_sources(&root.join(dir), built_at, &mut newer);
    }
    if let Some(first) = newer.first() {
        let msg = format!(
            "{} is older than {} source file(s), e.g. {}",
            built.display(),
            newer.len(),
            first.display()
        );
        if std::env::var_os("PROVSCAN_BENCH_ALLOW_STALE").is_none() {
            bail!("{msg} (PROVSCAN_BENCH_ALLOW_STALE=1 measures it anyway)");
        }
        eprintln!("warning: {msg}");
    }
    let local = work.join("provscan");
    let _ = fs::remove_file(&local);
    if fs::hard_link(&built, &local).is_err() {
        fs::copy(&built, &local).context("copying the provscan binary")?;
    }
    Ok(local)
}

fn newest_sources(dir: &Path, than: SystemTime, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if !matches!(e.file_name().to_str(), Some("tests" | "target" | "benches")) {
                newest_sources(&p, than, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs")
            && e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > than)
        {
            out.push(p);
        }
    }
}

/// A digest of the binary: indexes are cached per binary, since the index
/// format and fingerprints change with the code.
fn binary_key(bin: &Path) -> anyhow::Result<String> {
    let mut f = fs::File::open(bin).with_context(|| format!("opening {}", bin.display()))?;
    let mut h = std::hash::DefaultHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.write(&buf[..n]);
    }
    Ok(format!("{:016x}", h.finish()))
}

fn run(what: &str, cmd: &mut Command, ok: &[i32]) -> anyhow::Result<std::process::Output> {
    let out = cmd
        .output()
        .with_context(|| format!("{what}: cannot run"))?;
    if !out.status.code().is_some_and(|c| ok.contains(&c)) {
        bail!("{}", shared::describe(what, &out));
    }
    Ok(out)
}

/// The case's index: built once per binary with `provscan index add` of
/// each origin spec, reused while the binary is the same.
fn index(bin: &Path, key: &str, case: &Case, testdata: &Path) -> anyhow::Result<(PathBuf, f64)> {
    let base = testdata.join("realcases").join("index").join(key);
    let dir = base.join(case.name);
    let done = base.join(format!("{}.done", case.name));
    if done.is_file() {
        return Ok((dir, 0.0));
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    fs::create_dir_all(&base)?;
    let started = Instant::now();
    for o in case.origins {
        run(
            &format!("provscan index add {}", o.spec),
            Command::new(bin)
                .args(["index", "add", o.spec, "--json", "--index"])
                .arg(&dir)
                .arg("--cache-dir")
                .arg(testdata)
                .env_remove("PROVSCAN_INDEX"),
            &[0],
        )?;
    }
    fs::write(&done, "")?;
    Ok((dir, started.elapsed().as_secs_f64()))
}

struct Outcome {
    case: &'static Case,
    truth_files: usize,
    truth_lines: usize,
    minified: usize,
    own_files: usize,
    unknown: usize,
    no_license_truth: usize,
    provscan: Counts,
    naive: Counts,
    index_s: f64,
    scan_s: f64,
    naive_s: f64,
}

fn run_case(
    case: &'static Case,
    bin: &Path,
    key: &str,
    testdata: &Path,
    work: &Path,
) -> anyhow::Result<Outcome> {
    eprintln!("{}: fetching and unpacking", case.name);
    let detail = std::env::var("PROVSCAN_REALCASES_DETAIL").is_ok_and(|v| v == "1");
    // The scanned part, and the manifest (which may lie outside it).
    let mut only: Vec<&str> = case.scan.to_vec();
    if let (false, Some(m)) = (only.is_empty(), case.manifest.file()) {
        only.push(m);
    }
    let mut target = materialize(case.target, testdata, &only)?;
    let origins: Vec<Tree> = case
        .origins
        .iter()
        .map(|o| materialize(o.spec, testdata, &[]))
        .collect::<anyhow::Result<_>>()?;
    let mut truth: Truth = derive(case, &target, &origins)?;
    let scanned_file = |p: &str| {
        if case.scan.is_empty() {
            !p.starts_with("debian/")
        } else {
            case.scan.iter().any(|s| p.starts_with(s))
        }
    };
    target.files.retain(|f| scanned_file(&f.path));
    truth.copies.retain(|p, _| scanned_file(p));
    truth.unknown.retain(|p| scanned_file(p));
    for s in &truth.scopes {
        eprintln!(
            "  manifest: {} ← {}{}",
            s.target,
            case.origins[s.origin].spec,
            if s.origin_dir.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.origin_dir)
            }
        );
    }
    let (idx, index_s) = index(bin, key, case, testdata)?;
    let scanned = work.join(component(case.name));
    stage(&target, &scanned)?;
    let report = work.join(format!("{}.json", component(case.name)));
    let started = Instant::now();
    run(
        &format!("provscan scan {}", scanned.display()),
        Command::new(bin)
            .arg("scan")
            .arg(&scanned)
            .arg("--index")
            .arg(&idx)
            .args(["--format", "json", "-o"])
            .arg(&report)
            .env_remove("PROVSCAN_INDEX"),
        &[0, 1],
    )?;
    let scan_s = started.elapsed().as_secs_f64();
    let json: serde_json::Value = serde_json::from_slice(
        &fs::read(&report).with_context(|| format!("reading {}", report.display()))?,
    )
    .with_context(|| format!("{}: not JSON", report.display()))?;
    let found = from_report(&json).with_context(|| format!("{}", report.display()))?;

    let started = Instant::now();
    let naive = Naive::build(&origins);
    let naive_found: Vec<Found> = target
        .files
        .iter()
        .flat_map(|f| naive.scan(&f.path, &f.text))
        .collect();
    let naive_s = started.elapsed().as_secs_f64();

    Ok(Outcome {
        case,
        truth_files: truth.copies.len(),
        truth_lines: truth.copies.values().map(|c| c.lines.len()).sum(),
        minified: truth.copies.values().filter(|c| c.minified).count(),
        own_files: target.files.len() - truth.copies.len() - truth.unknown.len(),
        unknown: truth.unknown.len(),
        no_license_truth: truth
            .copies
            .values()
            .filter(|c| c.license.is_none())
            .count(),
        provscan: score(
            &found,
            &truth,
            &target,
            &origins,
            detail.then_some("provscan"),
        ),
        naive: score(
            &naive_found,
            &truth,
            &target,
            &origins,
            detail.then_some("naive"),
        ),
        index_s,
        scan_s,
        naive_s,
    })
}

fn cell(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.3}"))
}

/// The ratio metrics of a table row, in column order.
fn ratios(c: &Counts) -> [Option<f64>; 5] {
    [c.recall(), c.precision(), c.f1(), c.license(), c.range()]
}

fn row(label: &str, tool: &str, r: [Option<f64>; 5], c: &Counts) -> String {
    format!(
        "| {label} | {tool} | {} | {} | {} | {} | {} | {} | {} |",
        cell(r[0]),
        cell(r[1]),
        cell(r[2]),
        cell(r[3]),
        cell(r[4]),
        match c.minified {
            0 => "–".to_string(),
            n => format!("{}/{n}", c.minified_found),
        },
        c.own_findings
    )
}

/// Mean over cases of each ratio (cases where it is undefined left out):
/// every case weighs the same, however many lines it has (bzip2's test
/// data alone has more lines than several cases together).
fn macro_mean(rows: &[[Option<f64>; 5]]) -> [Option<f64>; 5] {
    std::array::from_fn(|i| {
        let v: Vec<f64> = rows.iter().filter_map(|r| r[i]).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    })
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo bench -- --list` probes harness=false benches
    }
    let started = Instant::now();
    let testdata = shared::testdata();
    let _tmp;
    let work = match std::env::var_os("PROVSCAN_BENCH_WORKDIR") {
        Some(d) => PathBuf::from(d),
        None => {
            _tmp = tempfile::tempdir()?;
            _tmp.path().to_path_buf()
        }
    };
    fs::create_dir_all(&work)?;
    let bin = provscan_binary(&work)?;
    let key = binary_key(&bin)?;
    let only: Vec<String> = std::env::var("PROVSCAN_REALCASES")
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    for case in CASES {
        if !only.is_empty() && !only.iter().any(|n| n == case.name) {
            continue;
        }
        let o = match run_case(case, &bin, &key, &testdata, &work) {
            Ok(o) => o,
            Err(e) => {
                // One case that cannot be fetched or read must not hide the others.
                eprintln!("{}: {e:#}", case.name);
                failed.push(format!("{}: {e:#}", case.name));
                continue;
            }
        };
        eprintln!(
            "  {} copied files ({} lines, {} minified), {} other files, {} unknown; index {:.1} s, scan {:.1} s, naive {:.1} s",
            o.truth_files, o.truth_lines, o.minified, o.own_files, o.unknown, o.index_s, o.scan_s, o.naive_s
        );
        outcomes.push(o);
    }

    println!("\nReal vendored code: provscan against the naive 5-line hash matcher");
    println!("sources: {}", git_state());
    println!();
    println!("| case | language | target | origins | copied files (lines, minified) | other files | unknown |");
    println!("|---|---|---|---|---:|---:|---:|");
    for o in &outcomes {
        let origins: Vec<&str> = o.case.origins.iter().map(|x| x.spec).collect();
        println!(
            "| {} | {} | `{}` | {} | {} ({}, {}) | {} | {} |",
            o.case.name,
            o.case.language,
            o.case.target,
            origins
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            o.truth_files,
            o.truth_lines,
            o.minified,
            o.own_files,
            o.unknown
        );
    }
    println!();
    println!("| case | matcher | line recall | line precision | file F1 | license accuracy | origin range overlap | minified found | findings in other files |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut total_p = Counts::default();
    let mut total_n = Counts::default();
    for o in &outcomes {
        println!(
            "{}",
            row(o.case.name, "provscan", ratios(&o.provscan), &o.provscan)
        );
        println!("{}", row(o.case.name, "naive", ratios(&o.naive), &o.naive));
        total_p += o.provscan;
        total_n += o.naive;
    }
    let per_case = |f: fn(&Outcome) -> &Counts| -> Vec<[Option<f64>; 5]> {
        outcomes.iter().map(|o| ratios(f(o))).collect()
    };
    println!(
        "{}",
        row(
            "**mean of cases**",
            "provscan",
            macro_mean(&per_case(|o| &o.provscan)),
            &total_p
        )
    );
    println!(
        "{}",
        row(
            "**mean of cases**",
            "naive",
            macro_mean(&per_case(|o| &o.naive)),
            &total_n
        )
    );
    println!(
        "{}",
        row("all lines pooled", "provscan", ratios(&total_p), &total_p)
    );
    println!(
        "{}",
        row("all lines pooled", "naive", ratios(&total_n), &total_n)
    );
    // Each case's two rows, then the pooled ones: the rows of the side tables.
    let each_row = |print: &dyn Fn(&str, &str, &Counts)| {
        for o in &outcomes {
            print(o.case.name, "provscan", &o.provscan);
            print(o.case.name, "naive", &o.naive);
        }
        print("all lines pooled", "provscan", &total_p);
        print("all lines pooled", "naive", &total_n);
    };
    println!();
    println!("Covered lines that are not right, by why:");
    println!();
    println!("| case | matcher | edited inside a right-origin finding | under another origin | in own-code files | precision if edited lines counted right |");
    println!("|---|---|---:|---:|---:|---:|");
    let why = |name: &str, matcher: &str, c: &Counts| {
        let lenient = (c.right + c.false_edited) as f64 / c.covered.max(1) as f64;
        println!(
            "| {name} | {matcher} | {} | {} | {} | {lenient:.3} |",
            c.false_edited, c.false_elsewhere, c.false_own
        );
    };
    each_row(&why);
    println!();
    println!("Choosing the origin: copied lines covered by a finding that names their origin file, against those covered by a finding naming any origin:");
    println!();
    println!("| case | matcher | right-origin line recall | any-origin line recall | lines lost to another origin |");
    println!("|---|---|---:|---:|---:|");
    each_row(&|name, matcher, c| {
        println!(
            "| {name} | {matcher} | {} | {} | {} |",
            cell(c.recall()),
            cell(c.recall_any()),
            c.recalled_any - c.recalled
        );
    });
    println!();
    for f in &failed {
        println!("FAILED (not in the table): {f}");
    }
    let unlicensed: usize = outcomes.iter().map(|o| o.no_license_truth).sum();
    println!(
        "license accuracy counts copied files with a finding whose origin license is known to the truth ({unlicensed} copied files have none); \"–\": nothing to measure"
    );
    println!(
        "time: provscan index {:.0} s (0 when cached), scan {:.1} s; naive {:.1} s; whole bench {:.0} s",
        outcomes.iter().map(|o| o.index_s).sum::<f64>(),
        outcomes.iter().map(|o| o.scan_s).sum::<f64>(),
        outcomes.iter().map(|o| o.naive_s).sum::<f64>(),
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        bail!("{} case(s) failed", failed.len());
    }
    Ok(())
}

/// The commit measured, and whether the work tree differs from it.
fn git_state() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => {
            let changed = git(&["status", "--porcelain", "--untracked-files=no"])
                .map_or(0, |s| s.lines().count());
            if changed == 0 {
                format!("commit {head}")
            } else {
                format!("commit {head} + {changed} modified file(s)")
            }
        }
        None => "not a git checkout".into(),
    }
}
