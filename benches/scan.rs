//! End-to-end benchmark of the `provscan` command line: index build and
//! scans, run as child processes of the real binary, with the wall time,
//! CPU time and peak RSS of each child.
//!
//! ```text
//! export CARGO_TARGET_DIR=$HOME/.cache/provscan-target
//! cargo bench --bench scan
//! ```
//!
//! Downloads are cached in `$PROVSCAN_TESTDATA` (default
//! `~/.cache/provscan-testdata`); everything else goes into a temporary
//! directory that is removed at the end (`PROVSCAN_BENCH_WORKDIR=DIR` keeps
//! it in DIR instead, for profiling). `PROVSCAN_BENCH_RUNS=N` (default 3)
//! repeats each tree scan N times, interleaved, and keeps the median.
//! `docs/benchmarks.md` explains the rows and keeps the last figures.
//! Steps, one table at the end:
//!
//! 1. `provscan index build` of a `corpus.toml` listing the Debian corpus of
//!    `benches/index.rs` (about 296 MB unpacked, 203 MB of it indexed):
//!    MB/s of indexed source, peak RSS, index bytes per source byte. An empty index (a manifest with no source) is
//!    built as well, the baseline of every scan.
//! 2. the "copies" tree: crates that vendor the indexed C libraries
//!    (OpenSSL, curl, SQLite, nginx, libgit2, zlib, Lua), unpacked;
//! 3. the "no matches" tree: pure-Rust crates, unpacked;
//! 4. the per-commit case: one 1,000-line C file (bzip2's `bzlib.c`, not in
//!    the index) scanned 20 times, process start and index open included;
//! 5. each tree scanned with the empty index and `--probe off` (the
//!    baseline: walk, read, parse, fingerprint, lookups that all miss), with
//!    the index, and with the index and `--probe off` (every file parsed: what
//!    the probe saves, and whether it loses findings), 3 rounds each,
//!    interleaved; then each tree rescanned unchanged with `--cache` (one
//!    run to fill the cache, the median of 3 kept); with
//!    `PROVSCAN_BENCH_MMAP=1`, the copies tree once more per value of the
//!    hidden `--mmap` option.

#[path = "../tests/shared/mod.rs"]
mod shared;

use shared::{dir_bytes, testdata};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use corpus::archive::{unpack_to_dir, Limits};
use corpus::fetch::{fetch, Fetched, Tools};
use corpus::{ArchiveKind, SourceSpec};
use serde_json::Value;

/// The corpus of `benches/index.rs` (`DEFAULT_SPECS`).
const INDEX_SPECS: &[&str] = &[
    "deb:openssl=3.0.17-1~deb12u2",
    "deb:curl",
    "deb:git",
    "deb:sqlite3",
    "deb:redis=5:7.0.15-1~deb12u7",
    "deb:nginx=1.22.1-9+deb12u9",
    // Pinned: the security pocket moves, and its mirror lags.
    "deb:zlib=1:1.2.13.dfsg-1",
    "deb:lua5.4",
];

/// Crates that vendor the indexed C libraries.
const COPIES: &[&str] = &[
    "crate:openssl-src@300.0.13+3.0.8",
    "crate:openssl-src@300.6.1+3.6.3",
    "crate:libsqlite3-sys@0.30.1",
    "crate:curl-sys@0.4.91+curl-8.22.0",
    "crate:libgit2-sys@0.18.8+1.9.7",
    "crate:nginx-src@1.28.5+1.28.3",
    "crate:libz-sys@1.1.31",
    "crate:lua-src@547.0.0",
];

/// Pure-Rust crates: real code with nothing of the index in it.
const UNRELATED: &[&str] = &[
    "crate:windows-sys@0.61.2",
    "crate:linux-raw-sys@0.12.1",
    "crate:libc@0.2.191",
    "crate:regex-automata@0.4.19",
    "crate:rustix@1.1.6",
    "crate:syn@2.0.119",
    "crate:zerocopy@0.8.64",
    "crate:zerocopy-derive@0.8.64",
    "crate:nix@0.32.0",
    "crate:bstr@1.14.0",
    "crate:regex-syntax@0.8.12",
    "crate:unicode-width@0.2.3",
    "crate:winnow@1.0.5",
    "crate:portable-atomic@1.15.0",
    "crate:typenum@1.20.1",
    "crate:zip@9.8.2",
    "crate:bindgen@0.72.1",
    "crate:git2@0.21.0",
    "crate:js-sys@0.3.107",
    "crate:clap_builder@4.6.7",
    "crate:proptest@1.12.0",
    "crate:rocksdb@0.25.0",
    "crate:rayon@1.12.0",
    "crate:hashbrown@0.17.2",
    "crate:futures-util@0.3.34",
    "crate:aho-corasick@1.1.5",
    "crate:regex@1.13.2",
    "crate:serde_json@1.0.154",
    "crate:unicode-normalization@0.1.26",
    "crate:itertools@0.13.0",
    "crate:nom@7.1.3",
    "crate:memchr@2.8.3",
    "crate:serde@1.0.229",
    "crate:criterion@0.7.0",
    "crate:indexmap@2.14.2",
    "crate:bytes@1.12.2",
    "crate:ignore@0.4.35",
    "crate:toml_edit@0.25.20+spec-1.1.0",
    "crate:indicatif@0.18.6",
    "crate:tar@0.4.46",
    "crate:proc-macro2@1.0.107",
    "crate:anyhow@1.0.105",
];

/// The per-commit file: the first 1,000 lines of this file of this crate.
const COMMIT_CRATE: &str = "crate:bzip2-sys@0.1.13+1.0.8";
const COMMIT_PATH: &str = "bzip2-sys-0.1.13+1.0.8/bzip2-1.0.8/bzlib.c";
const COMMIT_LINES: usize = 1000;
const COMMIT_RUNS: usize = 20;

/// What one child process cost.
#[derive(Clone, Debug, Default)]
struct Usage {
    wall: f64,
    cpu: f64,
    peak_rss_mb: f64,
    /// Exit code, or `None` when killed by a signal.
    code: Option<i32>,
    /// Cores kept busy by other processes meanwhile (from /proc/stat): the
    /// machines here are shared, and this says how loaded it was.
    others: f64,
}

/// Busy CPU time of the whole machine so far, in seconds.
fn machine_busy() -> Option<f64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …: busy is all but idle
    // and iowait. Guests are already counted in user and nice.
    let ticks: f64 = cpu.iter().take(8).sum::<f64>() - cpu.get(3)? - cpu.get(4)?;
    Some(ticks / clock_ticks())
}

/// Waits for the child with `wait4`, which hands back its own resource
/// usage: CPU time and peak RSS of that child alone.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod reap {
    use std::os::raw::{c_int, c_long};

    #[repr(C)]
    struct Timeval {
        sec: c_long,
        usec: c_long,
    }

    /// `struct rusage` of Linux on 64-bit targets.
    #[repr(C)]
    struct Rusage {
        utime: Timeval,
        stime: Timeval,
        maxrss_kb: c_long,
        rest: [c_long; 13],
    }

    extern "C" {
        fn wait4(pid: c_int, status: *mut c_int, options: c_int, usage: *mut Rusage) -> c_int;
        fn sysconf(name: c_int) -> c_long;
    }

    /// Clock ticks per second of /proc/stat.
    pub fn clock_ticks() -> f64 {
        const SC_CLK_TCK: c_int = 2;
        // SAFETY: sysconf has no preconditions.
        match unsafe { sysconf(SC_CLK_TCK) } {
            n if n > 0 => n as f64,
            _ => 100.0,
        }
    }

    /// (exit code or None if signalled, CPU seconds, peak RSS in KiB).
    pub fn wait(pid: u32) -> std::io::Result<(Option<i32>, f64, u64)> {
        let mut status: c_int = 0;
        let mut ru = Rusage {
            utime: Timeval { sec: 0, usec: 0 },
            stime: Timeval { sec: 0, usec: 0 },
            maxrss_kb: 0,
            rest: [0; 13],
        };
        loop {
            // SAFETY: both pointers are to live, correctly laid out locals.
            let r = unsafe { wait4(pid as c_int, &mut status, 0, &mut ru) };
            if r == pid as c_int {
                break;
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let code = if status & 0x7f == 0 {
            Some((status >> 8) & 0xff)
        } else {
            None
        };
        let secs = |t: &Timeval| t.sec as f64 + t.usec as f64 / 1e6;
        Ok((
            code,
            secs(&ru.utime) + secs(&ru.stime),
            ru.maxrss_kb.max(0) as u64,
        ))
    }
}

/// Runs `cmd` with stdout and stderr sent to files; measures it.
fn measure(mut cmd: Command, stdout: &Path, stderr: &Path) -> Usage {
    cmd.stdin(Stdio::null())
        .stdout(fs::File::create(stdout).expect("stdout file"))
        .stderr(fs::File::create(stderr).expect("stderr file"));
    let busy = machine_busy();
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    let mut u = reaped(child, started);
    if let (Some(a), Some(b)) = (busy, machine_busy()) {
        u.others = ((b - a - u.cpu) / u.wall).max(0.0);
    }
    u
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn reaped(child: std::process::Child, started: Instant) -> Usage {
    let (code, cpu, rss_kb) = reap::wait(child.id()).expect("wait4");
    let wall = started.elapsed().as_secs_f64();
    // Already reaped by wait4: the handle must not wait again.
    std::mem::forget(child);
    Usage {
        wall,
        cpu,
        peak_rss_mb: rss_kb as f64 / 1024.0,
        code,
        others: 0.0,
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn reaped(mut child: std::process::Child, started: Instant) -> Usage {
    let status = child.wait().expect("wait");
    Usage {
        wall: started.elapsed().as_secs_f64(),
        cpu: f64::NAN,
        peak_rss_mb: f64::NAN,
        code: status.code(),
        others: 0.0,
    }
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
use reap::clock_ticks;

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn clock_ticks() -> f64 {
    100.0
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The binary cargo built for this bench, linked into the work directory so
/// that a concurrent rebuild cannot swap it during the run.
fn provscan_binary(work: &Path) -> PathBuf {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_provscan"));
    let meta = fs::metadata(&built).unwrap_or_else(|e| {
        panic!(
            "the provscan binary is not at {} ({e}); run this through `cargo bench --bench scan`, which builds it",
            built.display()
        )
    });
    let built_at = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newer = Vec::new();
    for dir in ["src", "engine", "indexer", "corpus-tools"] {
        newest_sources(&root.join(dir), built_at, &mut newer);
    }
    if !newer.is_empty() {
        let list: Vec<String> = newer
            .iter()
            .take(10)
            .map(|p| p.display().to_string())
            .collect();
        let msg = format!(
            "{} is older than {} source file(s), e.g. {}: it does not match the sources; run `cargo bench --bench scan` again",
            built.display(),
            newer.len(),
            list.join(", ")
        );
        if std::env::var_os("PROVSCAN_BENCH_ALLOW_STALE").is_some() {
            eprintln!("warning: {msg}");
        } else {
            panic!("{msg} (PROVSCAN_BENCH_ALLOW_STALE=1 measures it anyway)");
        }
    }
    let local = work.join("provscan");
    let _ = fs::remove_file(&local);
    if fs::hard_link(&built, &local).is_err() {
        fs::copy(&built, &local).expect("copy the provscan binary");
    }
    local
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
            continue;
        }
        let source = p.extension().is_some_and(|x| x == "rs");
        let newer = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t > than);
        if source && newer {
            out.push(p);
        }
    }
}

/// Regular files (no symlinks followed) under `dir`: count and bytes. Reads
/// every file, which also warms the page cache for the scans.
fn tree_size(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let Ok(rd) = fs::read_dir(dir) else {
        return (0, 0);
    };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            let (f, b) = tree_size(&e.path());
            files += f;
            bytes += b;
        } else if ft.is_file() {
            files += 1;
            bytes += fs::read(e.path()).map(|v| v.len() as u64).unwrap_or(0);
        }
    }
    (files, bytes)
}

fn fetch_crate(spec: &str, cache: &Path) -> PathBuf {
    let parsed = SourceSpec::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    match fetch(&parsed, cache, &Tools::default()) {
        Ok(Fetched::Archive(p)) => p,
        Ok(other) => panic!("{spec}: unexpected download {other:?}"),
        Err(e) => panic!("{spec}: {e}"),
    }
}

/// Downloads (or finds in the cache) each crate and unpacks it under
/// `dest/NAME-VERSION/`, nested archives left as files as `tar -x` would.
fn build_tree(specs: &[&str], cache: &Path, dest: &Path) -> Vec<(String, u64)> {
    let limits = Limits {
        max_depth: 0,
        ..Limits::default()
    };
    let mut sizes = Vec::new();
    for spec in specs {
        let archive = fetch_crate(spec, cache);
        let name = archive
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .trim_end_matches(".crate")
            .to_string();
        let to = dest.join(&name);
        if !to.exists() {
            unpack_to_dir(&archive, ArchiveKind::TarGz, &to, &limits)
                .unwrap_or_else(|e| panic!("{spec}: {e}"));
        }
        sizes.push((name, dir_bytes(&to)));
    }
    sizes
}

/// `provscan index build MANIFEST --index IDX --json`.
fn index_build(bin: &Path, manifest: &Path, idx: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(["index", "build"])
        .arg(manifest)
        .arg("--index")
        .arg(idx)
        .arg("--json")
        .env_remove("PROVSCAN_INDEX");
    cmd
}

/// The values of the hidden `--mmap` option of `scan`, if the binary has one
/// (clap lists them when given a value it does not know).
fn mmap_values(bin: &Path) -> Vec<String> {
    let out = Command::new(bin)
        .args(["scan", "--mmap", "__probe__", "--help"])
        .output()
        .expect("run provscan");
    let err = String::from_utf8_lossy(&out.stderr);
    err.split("[possible values: ")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .map(|s| s.split(',').map(|v| v.trim().to_string()).collect())
        .unwrap_or_default()
}

/// One scan: its cost and what its JSON report says.
#[derive(Clone, Debug, Default)]
struct Scan {
    usage: Usage,
    findings: u64,
    files_read: u64,
    bytes_read: u64,
    skipped: u64,
    report: Value,
}

fn scan(bin: &Path, target: &Path, index: &Path, extra: &[&str], work: &Path, tag: &str) -> Scan {
    let report = work.join(format!("report-{tag}.json"));
    let mut cmd = Command::new(bin);
    cmd.arg("scan")
        .arg(target)
        .arg("--index")
        .arg(index)
        .args(["--format", "json", "-o"])
        .arg(&report)
        .args(extra)
        .env_remove("PROVSCAN_INDEX");
    let err = work.join(format!("scan-{tag}.err"));
    let usage = measure(cmd, &work.join(format!("scan-{tag}.out")), &err);
    if !matches!(usage.code, Some(0 | 1)) {
        panic!(
            "provscan scan {} --index {} {}: exit {:?}\n{}",
            target.display(),
            index.display(),
            extra.join(" "),
            usage.code,
            tail(&err, 20)
        );
    }
    let json: Value = serde_json::from_slice(&fs::read(&report).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{}: not JSON: {e}", report.display()));
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    Scan {
        usage,
        findings: json["findings"].as_array().map_or(0, |a| a.len() as u64),
        files_read: n(&json["summary"]["files"]),
        bytes_read: n(&json["summary"]["bytes"]),
        skipped: json["skipped"].as_array().map_or(0, |a| a.len() as u64),
        report: slim(json),
    }
}

/// What the bench reads of a report later (summary, each finding's path and
/// origin project, skip kinds), so that the reports of many scans do not
/// swell the bench process, whose resident memory every child it forks
/// starts its peak RSS from.
fn slim(report: Value) -> Value {
    let findings: Vec<Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| serde_json::json!({"path": f["path"], "origin": {"project": f["origin"]["project"]}}))
        .collect();
    let skipped: Vec<Value> = report["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| serde_json::json!({"kind": s["kind"]}))
        .collect();
    let out = serde_json::json!({
        "summary": report["summary"],
        "findings": findings,
        "skipped": skipped,
    });
    drop(report);
    trim_heap();
    out
}

/// Gives the heap's free memory back to the system. A child's peak RSS as
/// `wait4` reports it starts at what it was forked with: the bench's own
/// resident memory at that moment, which the parsed reports of earlier
/// scans had raised to 470 MB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: glibc's malloc_trim takes no pointer and may be called at any
    // time.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

/// One way of scanning a tree: a tag for the file names, the index and
/// extra arguments.
struct Variant<'a> {
    tag: String,
    index: &'a Path,
    extra: Vec<String>,
}

/// Scans `target` with each variant, `runs` rounds with the variants
/// interleaved (so that load from other processes hits all of them alike),
/// and keeps for each the run of median wall time; its peak RSS is the
/// highest of all its runs.
fn scan_variants(
    bin: &Path,
    target: &Path,
    variants: &[Variant],
    work: &Path,
    runs: usize,
) -> Vec<Scan> {
    let mut all: Vec<Vec<Scan>> = variants.iter().map(|_| Vec::new()).collect();
    for round in 0..runs.max(1) {
        for (v, out) in variants.iter().zip(all.iter_mut()) {
            let extra: Vec<&str> = v.extra.iter().map(String::as_str).collect();
            let s = scan(bin, target, v.index, &extra, work, &v.tag);
            eprintln!(
                "  {} run {}: {:.2} s wall, {:.2} s CPU, {:.0} MB peak RSS, {:.1} other cores busy, {} findings",
                v.tag,
                round + 1,
                s.usage.wall,
                s.usage.cpu,
                s.usage.peak_rss_mb,
                s.usage.others,
                s.findings
            );
            out.push(s);
        }
    }
    all.into_iter()
        .map(|mut runs| {
            let rss = runs.iter().map(|s| s.usage.peak_rss_mb).fold(0.0, f64::max);
            runs.sort_by(|a, b| a.usage.wall.total_cmp(&b.usage.wall));
            let mut mid = runs.swap_remove(runs.len() / 2);
            mid.usage.peak_rss_mb = rss;
            mid
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Findings grouped by the first directory of the target path (one per
/// crate) and by origin project.
fn breakdown(report: &Value) -> (BTreeMap<String, (u64, u64)>, BTreeMap<String, u64>) {
    let mut by_dir: BTreeMap<String, (u64, std::collections::BTreeSet<String>)> = BTreeMap::new();
    let mut by_origin = BTreeMap::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let path = f["path"].as_str().unwrap_or("");
        let dir = path.split('/').next().unwrap_or("").to_string();
        let e = by_dir.entry(dir).or_default();
        e.0 += 1;
        e.1.insert(path.to_string());
        let origin = f["origin"]["project"].as_str().unwrap_or("?").to_string();
        *by_origin.entry(origin).or_insert(0) += 1;
    }
    let by_dir = by_dir
        .into_iter()
        .map(|(k, (n, files))| (k, (n, files.len() as u64)))
        .collect();
    (by_dir, by_origin)
}

fn skip_reasons(report: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for s in report["skipped"].as_array().into_iter().flatten() {
        let kind = s["kind"].as_str().unwrap_or("?");
        *out.entry(kind.to_string()).or_insert(0) += 1;
    }
    out
}

struct Row {
    step: String,
    wall: String,
    rate: String,
    cpu: String,
    rss: String,
    /// Cores used by other processes during the run.
    load: String,
    findings: String,
    ratio: String,
    target: String,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes harness=false benches
    }
    let bench_started = Instant::now();
    let runs: usize = std::env::var("PROVSCAN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let _tmp;
    let work: PathBuf = match std::env::var_os("PROVSCAN_BENCH_WORKDIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            fs::create_dir_all(&d).expect("create PROVSCAN_BENCH_WORKDIR");
            d
        }
        None => {
            let t = tempfile::tempdir().expect("temporary directory");
            let p = t.path().to_path_buf();
            _tmp = t;
            p
        }
    };
    let bin = provscan_binary(&work);
    let downloads = testdata().join("downloads");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "provscan: {}\nwork directory: {}\ndownloads: {}\n{cores} cores",
        bin.display(),
        work.display(),
        downloads.display()
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // 1. Index build through the CLI, and the empty index.
    let manifest = work.join("corpus.toml");
    let text: String = INDEX_SPECS
        .iter()
        .map(|s| format!("[[source]]\nspec = \"{s}\"\n\n"))
        .collect();
    fs::write(&manifest, text).unwrap();
    let idx = work.join("idx");
    let _ = fs::remove_dir_all(&idx);
    let mut cmd = index_build(&bin, &manifest, &idx);
    cmd.arg("--cache-dir").arg(&downloads);
    eprintln!(
        "step 1: provscan index build ({} sources)",
        INDEX_SPECS.len()
    );
    let out = work.join("build.json");
    let err = work.join("build.err");
    let build = measure(cmd, &out, &err);
    let report: Value =
        serde_json::from_slice(&fs::read(&out).unwrap_or_default()).unwrap_or_else(|e| {
            panic!(
                "index build printed no JSON ({e}), exit {:?}:\n{}",
                build.code,
                tail(&err, 30)
            )
        });
    let failed: Vec<String> = report["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| !s["error"].is_null())
        .map(|s| format!("{}: {}", s["spec"], s["error"]))
        .collect();
    if build.code != Some(0) || !failed.is_empty() {
        panic!(
            "index build failed (exit {:?}):\n{}\n{}",
            build.code,
            failed.join("\n"),
            tail(&err, 30)
        );
    }
    let versions = report["versions"].as_array().cloned().unwrap_or_default();
    let source_bytes: u64 = versions
        .iter()
        .map(|v| v["bytes"].as_u64().unwrap_or(0))
        .sum();
    let source_files: u64 = versions
        .iter()
        .map(|v| v["files"].as_u64().unwrap_or(0))
        .sum();
    let index_bytes = dir_bytes(&idx);
    for v in &versions {
        eprintln!(
            "  {}@{}: {} files, {:.1} MB, {:.1} s, {}",
            v["project"].as_str().unwrap_or("?"),
            v["version"].as_str().unwrap_or("?"),
            v["files"],
            mb(v["bytes"].as_u64().unwrap_or(0)),
            v["seconds"].as_f64().unwrap_or(0.0),
            v["write_path"].as_str().unwrap_or("")
        );
    }
    let build_rate = mb(source_bytes) / build.wall;
    rows.push(Row {
        step: format!(
            "index build ({} versions, {source_files} files, {:.1} MB)",
            versions.len(),
            mb(source_bytes)
        ),
        wall: format!("{:.1} s", build.wall),
        rate: format!("{build_rate:.1} MB/s"),
        cpu: format!("{:.1} s", build.cpu),
        rss: format!("{:.0} MB", build.peak_rss_mb),
        load: format!("{:.1}", build.others),
        findings: "-".into(),
        ratio: format!(
            "{:.3} B index/B source",
            index_bytes as f64 / source_bytes.max(1) as f64
        ),
        target: format!(
            "≥ 20 MB/s {}, RSS ≤ 2 GB {}",
            ok(build_rate >= 20.0),
            ok(build.peak_rss_mb <= 2048.0)
        ),
    });

    let empty_manifest = work.join("empty.toml");
    fs::write(&empty_manifest, "# no sources\n").unwrap();
    let empty = work.join("empty-idx");
    let _ = fs::remove_dir_all(&empty);
    let u = measure(
        index_build(&bin, &empty_manifest, &empty),
        &work.join("empty-build.json"),
        &work.join("empty-build.err"),
    );
    assert_eq!(
        u.code,
        Some(0),
        "building the empty index failed:\n{}",
        tail(&work.join("empty-build.err"), 20)
    );

    // 2 and 3. The trees.
    eprintln!("step 2: copies tree");
    let copies = work.join("copies");
    fs::create_dir_all(&copies).unwrap();
    let copies_parts = build_tree(COPIES, &downloads, &copies);
    let (copies_files, copies_bytes) = tree_size(&copies);
    eprintln!("step 3: no-matches tree");
    let unrelated = work.join("unrelated");
    fs::create_dir_all(&unrelated).unwrap();
    let unrelated_parts = build_tree(UNRELATED, &downloads, &unrelated);
    let (unrelated_files, unrelated_bytes) = tree_size(&unrelated);

    // 4. One 1,000-line C file, 20 times, against each index.
    eprintln!("step 4: per-commit file, {COMMIT_RUNS} runs");
    let archive = fetch_crate(COMMIT_CRATE, &downloads);
    let unpacked = corpus::archive::read_archive(&archive, ArchiveKind::TarGz, &Limits::default())
        .unwrap_or_else(|e| panic!("{COMMIT_CRATE}: {e}"));
    let source = unpacked
        .files
        .iter()
        .find(|f| f.path == COMMIT_PATH)
        .unwrap_or_else(|| panic!("{COMMIT_PATH} not in {COMMIT_CRATE}"));
    let text = String::from_utf8_lossy(&source.bytes);
    let lines: Vec<&str> = text.lines().take(COMMIT_LINES).collect();
    assert_eq!(lines.len(), COMMIT_LINES, "{COMMIT_PATH} is too short");
    let commit_dir = work.join("commit");
    fs::create_dir_all(&commit_dir).unwrap();
    let commit_file = commit_dir.join("bzlib.c");
    fs::write(&commit_file, lines.join("\n") + "\n").unwrap();
    let commit_bytes = fs::metadata(&commit_file).unwrap().len();
    let one = |index: &Path, tag: &str| -> Usage {
        let mut cmd = Command::new(&bin);
        cmd.arg("scan")
            .arg(&commit_file)
            .arg("--index")
            .arg(index)
            .args(if index == empty.as_path() {
                &["--probe", "off"][..]
            } else {
                &[]
            })
            .args(["--format", "json"])
            .env_remove("PROVSCAN_INDEX");
        let u = measure(
            cmd,
            &work.join(format!("commit-{tag}.json")),
            &work.join(format!("commit-{tag}.err")),
        );
        assert!(
            matches!(u.code, Some(0 | 1)),
            "scan of {} failed:\n{}",
            commit_file.display(),
            tail(&work.join(format!("commit-{tag}.err")), 20)
        );
        u
    };
    let first = one(&idx, "first");
    let _ = one(&empty, "first-empty");
    let mut with_index = Vec::new();
    let mut with_empty = Vec::new();
    for _ in 0..COMMIT_RUNS {
        with_index.push(one(&idx, "index"));
        with_empty.push(one(&empty, "empty"));
    }
    let commit_findings = serde_json::from_slice::<Value>(
        &fs::read(work.join("commit-index.json")).unwrap_or_default(),
    )
    .ok()
    .and_then(|v| v["findings"].as_array().map(|a| a.len()))
    .unwrap_or(0);
    let stats = |runs: &[Usage]| {
        let mut ms: Vec<f64> = runs.iter().map(|u| u.wall * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let rss = runs.iter().map(|u| u.peak_rss_mb).fold(0.0, f64::max);
        let mut cpu: Vec<f64> = runs.iter().map(|u| u.cpu * 1e3).collect();
        cpu.sort_by(f64::total_cmp);
        let load = runs.iter().map(|u| u.others).sum::<f64>() / runs.len() as f64;
        (median(&ms), percentile(&ms, 0.9), median(&cpu), rss, load)
    };
    let (c_med, c_p90, c_cpu, c_rss, c_load) = stats(&with_index);
    let (e_med, e_p90, e_cpu, e_rss, e_load) = stats(&with_empty);
    rows.push(Row {
        step: format!("1,000-line C file ({commit_bytes} bytes), empty index, {COMMIT_RUNS} runs"),
        wall: format!("{e_med:.0} ms (p90 {e_p90:.0})"),
        rate: "-".into(),
        cpu: format!("{e_cpu:.0} ms"),
        rss: format!("{e_rss:.0} MB"),
        load: format!("{e_load:.1}"),
        findings: "-".into(),
        ratio: "baseline".into(),
        target: String::new(),
    });
    rows.push(Row {
        step: format!("1,000-line C file, index, {COMMIT_RUNS} runs"),
        wall: format!("{c_med:.0} ms (p90 {c_p90:.0})"),
        rate: "-".into(),
        cpu: format!("{c_cpu:.0} ms"),
        rss: format!("{c_rss:.0} MB"),
        load: format!("{c_load:.1}"),
        findings: commit_findings.to_string(),
        ratio: format!("{:.2}×", c_med / e_med),
        target: format!("≤ 50 ms {}", ok(c_p90 <= 50.0)),
    });
    notes.push(format!(
        "first (cold) run of the 1,000-line file: {:.0} ms",
        first.wall * 1e3
    ));

    // 5. Tree scans, each against the empty index first.
    let mut reports = Vec::new();
    for (name, dir, bytes, files) in [
        ("copies", &copies, copies_bytes, copies_files),
        ("no matches", &unrelated, unrelated_bytes, unrelated_files),
    ] {
        eprintln!("step 5: scan of the {name} tree ({:.1} MB)", mb(bytes));
        let tag = name.replace(' ', "-");
        let probe_off = || vec!["--probe".to_string(), "off".to_string()];
        let variants = [
            Variant {
                tag: format!("{tag}-empty"),
                index: &empty,
                extra: probe_off(),
            },
            Variant {
                tag: format!("{tag}-index"),
                index: &idx,
                extra: Vec::new(),
            },
            Variant {
                tag: format!("{tag}-index-probe-off"),
                index: &idx,
                extra: probe_off(),
            },
        ];
        let mut done = scan_variants(&bin, dir, &variants, &work, runs);
        let unprobed = done.pop().expect("three variants");
        let full = done.pop().expect("three variants");
        let base = done.pop().expect("three variants");
        // Seeds first, then only the regions no origin explains yet: how many
        // of the target's fingerprints were still looked up; the floor of
        // that (fingerprints in code no finding covers, which only a lookup
        // can clear); and how many keys the index's filter let through.
        let summary = &full.report["summary"];
        let count = |key: &str| summary[key].as_u64();
        if let Some(fps) = count("fingerprints") {
            let per_mb = |n: u64| n as f64 / mb(bytes);
            let fewer = |n: u64| fps as f64 / n.max(1) as f64;
            if let Some(n) = count("lookups") {
                notes.push(format!(
                    "{name} tree: {:.0} lookups per MB of target, of {:.0} fingerprints per MB (every one looked up by the first matcher): {:.1}× fewer",
                    per_mb(n),
                    per_mb(fps),
                    fewer(n)
                ));
            }
            if let Some(n) = count("unexplained_fingerprints") {
                notes.push(format!(
                    "{name} tree: {:.0} fingerprints per MB of target lie in code no finding covers, the floor of the lookups: at most {:.1}× fewer lookups than fingerprints without sampling that code",
                    per_mb(n),
                    fewer(n)
                ));
            }
            if let (Some(all), Some(kept)) =
                (count("alignment_work"), count("reported_alignment_work"))
            {
                notes.push(format!(
                    "{name} tree: {:.1} M cells of alignment work, {:.1} % of it in alignments reported: the rest went to chains that verification or settling threw away",
                    all as f64 / 1e6,
                    100.0 * kept as f64 / all.max(1) as f64
                ));
            }
            if let Some(n) = count("index_reads") {
                notes.push(format!(
                    "{name} tree: {:.0} keys per MB of target reached the database past the index's key filter: {:.1}× fewer than fingerprints",
                    per_mb(n),
                    fewer(n)
                ));
            }
        }
        if unprobed.findings != full.findings {
            notes.push(format!(
                "{name} tree: {} findings with the probe, {} with --probe off",
                full.findings, unprobed.findings
            ));
        }
        for (label, s, baseline) in [
            ("empty index, --probe off", &base, true),
            ("index", &full, false),
            ("index, --probe off", &unprobed, false),
        ] {
            let rate = mb(bytes) / s.usage.wall;
            rows.push(Row {
                step: format!(
                    "scan {name} tree ({files} files, {:.1} MB; read {} files, {:.1} MB, {} skipped), {label}",
                    mb(bytes),
                    s.files_read,
                    mb(s.bytes_read),
                    s.skipped
                ),
                wall: format!("{:.1} s", s.usage.wall),
                rate: format!("{rate:.1} MB/s"),
                cpu: format!("{:.1} s", s.usage.cpu),
                rss: format!("{:.0} MB", s.usage.peak_rss_mb),
                load: format!("{:.1}", s.usage.others),
                findings: s.findings.to_string(),
                ratio: if baseline {
                    "baseline".into()
                } else {
                    format!(
                        "{:.2}× wall, {:.2}× CPU, {:.2}× RSS",
                        s.usage.wall / base.usage.wall,
                        s.usage.cpu / base.usage.cpu,
                        s.usage.peak_rss_mb / base.usage.peak_rss_mb
                    )
                },
                target: if baseline {
                    String::new()
                } else {
                    format!(
                        "≥ 20 MB/s {}, RSS ≤ 1 GB {}",
                        ok(rate >= 20.0),
                        ok(s.usage.peak_rss_mb <= 1024.0)
                    )
                },
            });
        }
        // A rescan of the unchanged tree with `--cache`: the first run fills
        // the cache, the median of `runs` more is kept.
        let cache = work.join(format!("cache-{tag}.json"));
        let _ = fs::remove_file(&cache);
        let cached_variant = [Variant {
            tag: format!("{tag}-cached"),
            index: &idx,
            extra: vec!["--cache".into(), cache.display().to_string()],
        }];
        scan_variants(&bin, dir, &cached_variant, &work, 1);
        let cached = scan_variants(&bin, dir, &cached_variant, &work, runs)
            .pop()
            .expect("one variant");
        if cached.findings != full.findings {
            notes.push(format!(
                "{name} tree: {} findings from the cache, {} without",
                cached.findings, full.findings
            ));
        }
        rows.push(Row {
            step: format!("rescan of the unchanged {name} tree, index, --cache"),
            wall: format!("{:.2} s", cached.usage.wall),
            rate: format!("{:.1} MB/s", mb(bytes) / cached.usage.wall),
            cpu: format!("{:.2} s", cached.usage.cpu),
            rss: format!("{:.0} MB", cached.usage.peak_rss_mb),
            load: format!("{:.1}", cached.usage.others),
            findings: cached.findings.to_string(),
            ratio: format!("{:.3}× wall", cached.usage.wall / base.usage.wall),
            target: String::new(),
        });
        reports.push((name, full.report.clone(), base));
    }

    let modes = if std::env::var("PROVSCAN_BENCH_MMAP").is_ok_and(|v| v == "1") {
        mmap_values(&bin)
    } else {
        Vec::new()
    };
    if modes.is_empty() && std::env::var("PROVSCAN_BENCH_MMAP").is_ok_and(|v| v == "1") {
        notes.push("`provscan scan` has no --mmap option: read modes not compared".into());
    }
    let base_copies = &reports[0].2;
    if !modes.is_empty() {
        eprintln!("step 5: copies tree, --mmap {}", modes.join(" / "));
    }
    let variants: Vec<Variant> = modes
        .iter()
        .map(|m| Variant {
            tag: format!("copies-mmap-{m}"),
            index: &idx,
            extra: vec!["--mmap".into(), m.clone()],
        })
        .collect();
    let by_mode = scan_variants(&bin, &copies, &variants, &work, runs);
    for (m, s) in modes.iter().zip(&by_mode) {
        let rate = mb(copies_bytes) / s.usage.wall;
        rows.push(Row {
            step: format!("scan copies tree, index, --mmap {m}"),
            wall: format!("{:.1} s", s.usage.wall),
            rate: format!("{rate:.1} MB/s"),
            cpu: format!("{:.1} s", s.usage.cpu),
            rss: format!("{:.0} MB", s.usage.peak_rss_mb),
            load: format!("{:.1}", s.usage.others),
            findings: s.findings.to_string(),
            ratio: format!(
                "{:.2}× wall, {:.2}× CPU",
                s.usage.wall / base_copies.usage.wall,
                s.usage.cpu / base_copies.usage.cpu
            ),
            target: format!(
                "≥ 20 MB/s {}, RSS ≤ 1 GB {}",
                ok(rate >= 20.0),
                ok(s.usage.peak_rss_mb <= 1024.0)
            ),
        });
    }

    // The report.
    println!(
        "\nprovscan end-to-end benchmark, {cores} cores, {runs} run(s) per tree scan (median)"
    );
    println!("sources: {}", git_state());
    println!("index corpus: {}", INDEX_SPECS.join(", "));
    println!("index: {:.1} MB on disk", mb(index_bytes));
    println!(
        "copies tree: {copies_files} files, {:.1} MB",
        mb(copies_bytes)
    );
    for (n, b) in &copies_parts {
        println!("  {n}: {:.1} MB", mb(*b));
    }
    println!(
        "no-matches tree: {unrelated_files} files, {:.1} MB ({} crates)",
        mb(unrelated_bytes),
        unrelated_parts.len()
    );
    let mut big: Vec<&(String, u64)> = unrelated_parts.iter().collect();
    big.sort_by_key(|(_, b)| std::cmp::Reverse(*b));
    for (n, b) in big.iter().take(5) {
        println!("  {n}: {:.1} MB", mb(*b));
    }
    println!("per-commit file: first {COMMIT_LINES} lines of {COMMIT_PATH} ({COMMIT_CRATE})\n");
    println!(
        "| step | wall | throughput | CPU | peak RSS | other load (cores) | findings | vs baseline | target |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.step, r.wall, r.rate, r.cpu, r.rss, r.load, r.findings, r.ratio, r.target
        );
    }
    for (name, report, _) in &reports {
        let (by_dir, by_origin) = breakdown(report);
        println!("\n{name} tree, findings by crate (findings, files):");
        for (d, (n, f)) in &by_dir {
            println!("  {d}: {n} findings in {f} files");
        }
        println!("{name} tree, findings by origin project:");
        for (o, n) in &by_origin {
            println!("  {o}: {n}");
        }
        println!("{name} tree, skipped files by reason (index scan):");
        for (r, n) in skip_reasons(report) {
            println!("  {r}: {n}");
        }
    }
    for n in &notes {
        println!("note: {n}");
    }
    println!(
        "\ntotal bench time: {:.0} s",
        bench_started.elapsed().as_secs_f64()
    );
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

fn ok(pass: bool) -> &'static str {
    if pass {
        "(met)"
    } else {
        "(MISSED)"
    }
}
