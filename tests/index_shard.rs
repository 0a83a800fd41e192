//! The distributed build's steps (`index shard`, `plan`, `run`, `ingest`,
//! what the Spark job in `spark/` drives) give the very index one `index
//! build` gives, on real crates; and refuse what would give another.

#[path = "shared/mod.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn provscan(args: &[&str]) -> Output {
    Command::new(cargo_bin("provscan"))
        .args(args)
        .output()
        .expect("provscan runs")
}

fn ok(what: &str, args: &[&str]) -> Output {
    let out = provscan(args);
    assert!(out.status.success(), "{}", shared::describe(what, &out));
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Two releases of one crate (most files shared), a C library crate and
/// this repository's engine sources.
fn manifest(dir: &Path) -> PathBuf {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/src");
    let text = format!(
        r#"
[[source]]
spec = "crate:itoa@1.0.14"
[[source]]
spec = "crate:itoa@1.0.15"
[[source]]
spec = "crate:libz-sys@1.1.31"
[[source]]
spec = "{}"
project = "provscan-engine"
version = "0.1.0"
license = "GPL-3.0-only"
"#,
        engine.display()
    );
    let path = dir.join("corpus.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn cache() -> String {
    shared::testdata()
        .join("crates")
        .to_str()
        .unwrap()
        .to_string()
}

/// A crate file from crates.io, cached with the other test downloads.
fn fetch_crate(name: &str, version: &str) -> PathBuf {
    let file = shared::testdata()
        .join("crates")
        .join(format!("{name}-{version}.crate"));
    if !file.exists() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let tmp = file.with_extension("part");
        let url = format!("https://static.crates.io/crates/{name}/{name}-{version}.crate");
        shared::run_ok(
            "curl",
            Command::new("curl").args(["-fsSL", "-o", s(&tmp), &url]),
        );
        std::fs::rename(&tmp, &file).unwrap();
    }
    file
}

fn digest(index: &Path) -> Value {
    shared::index_digest(&cargo_bin("provscan"), index)
}

/// `index shard` of some sources of the manifest.
fn shard(manifest: &Path, out: &Path, sources: &str, ranges: u32) {
    let (r, c) = (ranges.to_string(), cache());
    let args = [
        "index",
        "shard",
        s(manifest),
        "--out",
        s(out),
        "--sources",
        sources,
    ];
    let mut args = args.to_vec();
    args.extend(["--ranges", &r, "--cache-dir", &c]);
    ok("shard", &args);
}

fn plan(index: &Path, plan: &Path, shards: &[PathBuf]) {
    let mut args = vec!["index", "--index", s(index), "plan", "--out", s(plan)];
    args.extend(shards.iter().map(|p| s(p)));
    ok("plan", &args);
}

/// `index run` of one range, from the shards' own posting files or `inputs`.
fn run(plan: &Path, range: u32, runs: &Path, inputs: &[&Path]) -> Output {
    let r = range.to_string();
    let mut args = vec![
        "index",
        "run",
        "--plan",
        s(plan),
        "--range",
        &r,
        "--out",
        s(runs),
    ];
    args.extend(inputs.iter().map(|p| s(p)));
    provscan(&args)
}

fn ingest(index: &Path, plan: &Path, runs: &Path) -> Output {
    provscan(&[
        "index",
        "--index",
        s(index),
        "ingest",
        "--plan",
        s(plan),
        "--json",
        s(runs),
    ])
}

/// Exit 2 with `needle` in the error.
fn refused(what: &str, out: &Output, needle: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        shared::describe(what, out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(needle),
        "{}",
        shared::describe(what, out)
    );
}

/// Shards for each group of sources, a plan, one run per range, ingest.
fn distributed(manifest: &Path, index: &Path, work: &Path, groups: &[&str], ranges: u32) -> Value {
    let shards: Vec<PathBuf> = (0..groups.len())
        .map(|i| work.join(format!("shard-{i}")))
        .collect();
    for (group, out) in groups.iter().zip(&shards) {
        shard(manifest, out, group, ranges);
    }
    let plan_file = work.join("plan.json");
    plan(index, &plan_file, &shards);
    let runs = work.join("runs");
    for r in 0..ranges {
        let out = run(&plan_file, r, &runs, &[]);
        assert!(out.status.success(), "{}", shared::describe("run", &out));
    }
    // The runs directory alone is enough: each run leaves the plan in it.
    let out = provscan(&["index", "--index", s(index), "ingest", "--json", s(&runs)]);
    assert!(out.status.success(), "{}", shared::describe("ingest", &out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn build(manifest: &Path, index: &Path) {
    let c = cache();
    ok(
        "build",
        &[
            "index",
            "--index",
            s(index),
            "build",
            s(manifest),
            "--cache-dir",
            &c,
        ],
    );
}

fn scan(index: &Path, target: &Path) -> Value {
    let out = provscan(&["scan", "--index", s(index), "--format", "json", s(target)]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        shared::describe("scan", &out)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["summary"]["elapsed_ms"] = Value::Null;
    v
}

fn versions(index: &Path) -> usize {
    shared::index_versions(&cargo_bin("provscan"), index)
}

#[test]
fn distributed_build_gives_the_index_of_a_single_build() {
    let work = tempfile::tempdir().unwrap();
    let manifest = manifest(work.path());
    let single = work.path().join("single");
    build(&manifest, &single);

    let spread = work.path().join("spread");
    let report = distributed(
        &manifest,
        &spread,
        &work.path().join("w1"),
        &["0", "1,2", "3"],
        5,
    );
    assert_eq!(report["added"].as_array().unwrap().len(), 4, "{report}");

    let (a, b) = (digest(&single), digest(&spread));
    assert_eq!(a["records"], b["records"]);
    assert_eq!(
        a["digest"], b["digest"],
        "same records, same ids, same postings"
    );
    assert!(a["records"]["postings"].as_u64().unwrap() > 1000);

    // Findings on real code: the C sources of another libz-sys release.
    let target = fetch_crate("libz-sys", "1.1.33");
    let (x, y) = (scan(&single, &target), scan(&spread, &target));
    assert!(
        x["findings"].as_array().unwrap().len() > 10,
        "{}",
        x["summary"]
    );
    assert_eq!(x, y);
}

#[test]
fn ingest_into_an_index_that_has_some_versions_and_refusals() {
    let work = tempfile::tempdir().unwrap();
    let manifest = manifest(work.path());
    let c = cache();

    // The same end state reached by adds and by an ingestion on top.
    let single = work.path().join("single");
    build(&manifest, &single);
    let grown = work.path().join("grown");
    ok(
        "add",
        &[
            "index",
            "--index",
            s(&grown),
            "add",
            "crate:itoa@1.0.14",
            "--cache-dir",
            &c,
        ],
    );
    let report = distributed(
        &manifest,
        &grown,
        &work.path().join("w"),
        &["0,1", "2,3"],
        3,
    );
    assert_eq!(
        report["already_present"],
        serde_json::json!(["itoa@1.0.14"])
    );
    assert_eq!(digest(&single)["digest"], digest(&grown)["digest"]);

    // A plan made before the index changed is refused, and nothing moves.
    let stale = work.path().join("stale");
    let w2 = work.path().join("w2");
    let shard_dir = w2.join("shard");
    shard(&manifest, &shard_dir, "2", 2);
    let plan_file = w2.join("plan.json");
    plan(&stale, &plan_file, std::slice::from_ref(&shard_dir));
    let runs = w2.join("runs");
    assert!(run(&plan_file, 0, &runs, &[]).status.success());
    // Range 1 missing.
    refused(
        "ingest",
        &ingest(&stale, &plan_file, &runs),
        "the run of range 1 is missing",
    );
    // A posting file of another range is refused by the run.
    let other = shard_dir.join("postings-00000.bin");
    refused(
        "run",
        &run(&plan_file, 1, &runs, &[&other]),
        "holds range 0 of 2",
    );
    assert!(run(&plan_file, 1, &runs, &[]).status.success());
    ok(
        "add meanwhile",
        &[
            "index",
            "--index",
            s(&stale),
            "add",
            "crate:itoa@1.0.15",
            "--cache-dir",
            &c,
        ],
    );
    let before = digest(&stale);
    refused(
        "stale ingest",
        &ingest(&stale, &plan_file, &runs),
        "run `provscan index plan` again",
    );
    assert_eq!(before["digest"], digest(&stale)["digest"]);
}

#[test]
fn a_crash_during_ingest_leaves_the_index_as_it_was() {
    let work = tempfile::tempdir().unwrap();
    let manifest = manifest(work.path());
    let c = cache();
    let index = work.path().join("index");
    ok(
        "add",
        &[
            "index",
            "--index",
            s(&index),
            "add",
            "crate:itoa@1.0.14",
            "--cache-dir",
            &c,
        ],
    );
    let before = digest(&index);
    let w = work.path().join("w");
    let shard_dir = w.join("shard");
    shard(&manifest, &shard_dir, "1,2", 2);
    let shards = [shard_dir];
    for stage in ["reserved", "ingested"] {
        let plan_file = w.join(format!("plan-{stage}.json"));
        plan(&index, &plan_file, &shards);
        let runs = w.join(format!("runs-{stage}"));
        for r in 0..2 {
            assert!(run(&plan_file, r, &runs, &[]).status.success());
        }
        let out = Command::new(cargo_bin("provscan"))
            .args([
                "index",
                "--index",
                s(&index),
                "ingest",
                "--plan",
                s(&plan_file),
                s(&runs),
            ])
            .env("PROVSCAN_TEST_KILL_AT", stage)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "killed at {stage}");
        // The next writer purges what the crash left; nothing was committed.
        // (A writer that removes nothing: it exits 1 having opened the index.)
        let reopen = provscan(&[
            "index",
            "--index",
            s(&index),
            "remove",
            "--project",
            "none",
            "--version",
            "0",
        ]);
        assert_eq!(
            reopen.status.code(),
            Some(1),
            "{}",
            shared::describe("reopen", &reopen)
        );
        assert_eq!(
            before["records"],
            digest(&index)["records"],
            "killed at {stage}"
        );
        assert_eq!(versions(&index), 1);
    }
    // Planned again, the same shard then goes in whole.
    let plan_file = w.join("plan.json");
    plan(&index, &plan_file, &shards);
    let runs = w.join("runs");
    for r in 0..2 {
        assert!(run(&plan_file, r, &runs, &[]).status.success());
    }
    let out = ingest(&index, &plan_file, &runs);
    assert!(out.status.success(), "{}", shared::describe("ingest", &out));
    assert_eq!(versions(&index), 3);
    assert_eq!(digest(&index)["records"]["dead"], 0);
}
