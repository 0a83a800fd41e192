//! End-to-end tests of `provscan index`: real packages fetched at test time,
//! bad inputs, SIGKILL at several points of an add, and reads during an add.
//!
//! Registry downloads are cached in `$PROVSCAN_TESTDATA` (default
//! `~/.cache/provscan-testdata`), never in the repository.

#[path = "../indexer/tests/common/mod.rs"]
mod common;
#[path = "shared/mod.rs"]
mod shared;

use shared::{dir_bytes, testdata};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("provscan"))
}

fn provscan(index: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env("PROVSCAN_INDEX", index)
        .env_remove("PROVSCAN_TEST_KILL_AT");
    c
}

/// `provscan index SUBCOMMAND --json`, which must succeed, parsed.
fn index_json<T: serde::de::DeserializeOwned>(index: &Path, subcommand: &str) -> T {
    let out = provscan(index)
        .args(["index", subcommand, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn list_json(index: &Path) -> Vec<serde_json::Value> {
    index_json(index, "list")
}

fn stats_json(index: &Path) -> serde_json::Value {
    index_json(index, "stats")
}

#[test]
fn add_list_remove_stats_on_real_crates() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    let cache = testdata().join("crates");
    for v in ["1.0.11", "1.0.14"] {
        provscan(&index)
            .args(["index", "add", &format!("crate:itoa@{v}"), "--cache-dir"])
            .arg(&cache)
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("itoa@{v}:")));
    }
    // Adding again is a no-op.
    provscan(&index)
        .args(["index", "add", "crate:itoa@1.0.14", "--cache-dir"])
        .arg(&cache)
        .assert()
        .success()
        .stdout(predicate::str::contains("already indexed"));
    let versions = list_json(&index);
    assert_eq!(versions.len(), 2);
    assert!(versions
        .iter()
        .all(|v| v["project"] == "itoa" && v["files"].as_u64().unwrap() > 3));
    // Later versions share files with earlier ones: contents are stored once.
    let s = stats_json(&index);
    assert!(
        s["contents"].as_u64().unwrap() < s["occurrences"].as_u64().unwrap(),
        "{s}"
    );
    assert!(s["fingerprints"].as_u64().unwrap() > 100, "{s}");
    provscan(&index)
        .args(["index", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("itoa").and(predicate::str::contains("1.0.11")));
    provscan(&index)
        .args(["index", "stats"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("common fingerprints")
                .and(predicate::str::contains("bytes on disk")),
        );

    provscan(&index)
        .args([
            "index",
            "remove",
            "--project",
            "itoa",
            "--version",
            "1.0.11",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed itoa@1.0.11"));
    let after = stats_json(&index);
    assert_eq!(after["versions"], 1);
    assert!(after["contents"].as_u64() <= s["contents"].as_u64());
    provscan(&index)
        .args(["index", "remove", "--project", "nope"])
        .assert()
        .code(1);
    provscan(&index)
        .args(["index", "remove", "--project", "itoa"])
        .assert()
        .success();
    let empty = stats_json(&index);
    assert_eq!(
        (empty["versions"].as_u64(), empty["fingerprints"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn bad_inputs_are_skipped_with_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("good.c"), common::c_file(1, 6)).unwrap();
    std::fs::write(
        src.join("latin1.c"),
        b"/* caf\xe9 */\nint caf\xe9(int a) { return a * 2 + 1; }\n",
    )
    .unwrap();
    std::fs::write(src.join("blob.c"), [0u8, 1, 2, 3, 0, 0, 7, 8].repeat(100)).unwrap();
    let big = std::fs::File::create(src.join("huge.c")).unwrap();
    big.set_len(100 << 20).unwrap(); // sparse: no disk space used
    drop(big);
    std::os::unix::fs::symlink("..", src.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("b", src.join("a")).unwrap();
    std::os::unix::fs::symlink("a", src.join("b")).unwrap();
    let unreadable = src.join("secret.c");
    std::fs::write(&unreadable, "int x;\n").unwrap();
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o0)).unwrap();
    let fifo = src.join("pipe.c");
    let _ = StdCommand::new("mkfifo").arg(&fifo).status();

    let index = tmp.path().join("idx");
    let out = provscan(&index)
        .args(["index", "add"])
        .arg(&src)
        .args(["--project", "bad", "--version", "1", "--license", "MIT"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let skipped_line = |name: &str| {
        stdout
            .lines()
            .any(|l| l.contains("skipped") && l.contains(name))
    };
    for name in ["blob.c", "huge.c", "loop"] {
        assert!(
            skipped_line(name),
            "{name} not reported as skipped:\n{stdout}"
        );
    }
    assert!(stdout.contains("binary"), "{stdout}");
    // As root the mode-0 file is readable; otherwise it must be reported.
    let readable = std::fs::read(&unreadable).is_ok();
    assert!(readable || skipped_line("secret.c"), "{stdout}");
    let versions = list_json(&index);
    assert_eq!(versions.len(), 1);
    let files = versions[0]["files"].as_u64().unwrap();
    assert!(files >= 2, "good.c and latin1.c are indexed: {stdout}");
    // The index is sound afterwards: stats and another add work.
    assert!(stats_json(&index)["fingerprints"].as_u64().unwrap() > 10);
    provscan(&index)
        .args(["index", "add"])
        .arg(&src)
        .args(["--project", "bad", "--version", "2"])
        .assert()
        .success();

    // A source that cannot be loaded into a fresh index: an error naming
    // it, and no empty index left behind.
    let fresh = tmp.path().join("fresh-idx");
    let corrupt = tmp.path().join("corrupt.tar.gz");
    std::fs::write(&corrupt, b"not gzip at all".repeat(50)).unwrap();
    let out = provscan(&fresh)
        .args(["index", "add"])
        .arg(&corrupt)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("corrupt.tar.gz") && stderr.contains("gzip"),
        "{stderr}"
    );
    assert!(
        !fresh.exists(),
        "a failed first add left {}",
        fresh.display()
    );
}

#[test]
fn index_location_comes_from_flag_env_or_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    // No index yet: the error names the default location under XDG_DATA_HOME.
    Command::new(bin())
        .env_remove("PROVSCAN_INDEX")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("HOME", &home)
        .args(["index", "stats"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("data/provscan/index"));
    let flag = tmp.path().join("by-flag");
    let env = tmp.path().join("by-env");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.c"), common::c_file(5, 4)).unwrap();
    Command::new(bin())
        .env("PROVSCAN_INDEX", &env)
        .args([
            "index",
            "add",
            "--project",
            "p",
            "--version",
            "1",
            "--index",
        ])
        .arg(&flag)
        .arg(&src)
        .assert()
        .success();
    assert!(flag.join("CURRENT").exists() && !env.exists());
    provscan(&env)
        .args(["index", "add", "--project", "p", "--version", "1"])
        .arg(&src)
        .assert()
        .success();
    assert!(env.join("CURRENT").exists());
}

/// Writes `n` synthetic C files (about 4 MB per 250 files) under `dir`.
fn synthetic_tree(dir: &Path, first: u64, n: u64) {
    std::fs::create_dir_all(dir).unwrap();
    for seed in first..first + n {
        std::fs::write(dir.join(format!("f{seed}.c")), common::c_file(seed, 40)).unwrap();
    }
}

/// The version is absent, or present with all its files.
fn absent_or_complete(index: &Path, files: u64) -> bool {
    let versions = list_json(index);
    match versions.iter().find(|v| v["project"] == "crashy") {
        None => false,
        Some(v) => {
            assert_eq!(
                v["files"].as_u64(),
                Some(files),
                "partial version visible: {v}"
            );
            true
        }
    }
}

fn add_cmd(index: &Path, src: &Path) -> StdCommand {
    let mut c = StdCommand::new(bin());
    c.env("PROVSCAN_INDEX", index)
        .env_remove("PROVSCAN_TEST_KILL_AT")
        .args([
            "index",
            "add",
            "--project",
            "crashy",
            "--version",
            "1",
            "--batch-limit-bytes",
            "0",
        ])
        .arg(src)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

#[test]
fn sigkill_during_add_leaves_a_sound_index() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    // Small enough for a quick test; `--batch-limit-bytes 0` takes the SST
    // ingestion path that large versions take.
    synthetic_tree(&src, 0, 100);
    assert!(dir_bytes(&src) > 1 << 20);
    let base = tmp.path().join("base");
    synthetic_tree(&base, 10_000, 20);
    let index = tmp.path().join("idx");
    provscan(&index)
        .args(["index", "add", "--project", "base", "--version", "1"])
        .arg(&base)
        .assert()
        .success();

    // A full run, timed, gives the points to kill at.
    let t = Instant::now();
    let probe = tmp.path().join("probe");
    provscan(&probe)
        .args(["index", "add", "--project", "crashy", "--version", "1"])
        .arg(&src)
        .assert()
        .success();
    let full = t.elapsed();
    let files = list_json(&probe)[0]["files"].as_u64().unwrap();
    assert_eq!(files, 100);

    let mut killed_at = Vec::new();
    // Exact stages (the process SIGKILLs itself there) ...
    for stage in [
        "hashing",
        "analyzing",
        "reserved",
        "written",
        "ingested",
        "committed",
    ] {
        let status = add_cmd(&index, &src)
            .env("PROVSCAN_TEST_KILL_AT", stage)
            .status()
            .unwrap();
        assert!(!status.success(), "expected a kill at {stage}");
        let present = absent_or_complete(&index, files);
        assert_eq!(present, stage == "committed", "after a kill at {stage}");
        killed_at.push(stage.to_string());
        assert!(stats_json(&index)["versions"].as_u64().unwrap() >= 1);
        if present {
            provscan(&index)
                .args(["index", "remove", "--project", "crashy"])
                .assert()
                .success();
        }
    }
    // ... and at arbitrary moments, by the parent.
    for share in [0.2, 0.5, 0.8] {
        let mut child = add_cmd(&index, &src).spawn().unwrap();
        std::thread::sleep(full.mul_f64(share));
        let _ = StdCommand::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let _ = child.wait();
        let present = absent_or_complete(&index, files);
        killed_at.push(format!(
            "{share}: {}",
            if present { "complete" } else { "absent" }
        ));
        if present {
            provscan(&index)
                .args(["index", "remove", "--project", "crashy"])
                .assert()
                .success();
        }
    }
    // Rerunning the same command completes it; the earlier version is intact.
    provscan(&index)
        .args(["index", "add", "--project", "crashy", "--version", "1"])
        .arg(&src)
        .assert()
        .success();
    assert!(absent_or_complete(&index, files), "{killed_at:?}");
    let s = stats_json(&index);
    let p = stats_json(&probe);
    assert_eq!(s["versions"], 2);
    assert_eq!(
        s["contents"].as_u64().unwrap(),
        p["contents"].as_u64().unwrap() + 20
    );
    // Postings of killed runs were dropped: same fingerprints and postings as
    // a clean build plus the base version.
    let b = tmp.path().join("b-only");
    provscan(&b)
        .args(["index", "add", "--project", "base", "--version", "1"])
        .arg(&base)
        .assert()
        .success();
    let bs = stats_json(&b);
    assert_eq!(
        s["postings"].as_u64().unwrap(),
        p["postings"].as_u64().unwrap() + bs["postings"].as_u64().unwrap(),
        "{killed_at:?}"
    );
}

#[test]
fn reads_during_an_add_see_a_consistent_index() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    let first = tmp.path().join("v1");
    synthetic_tree(&first, 0, 40);
    provscan(&index)
        .args(["index", "add", "--project", "conc", "--version", "1"])
        .arg(&first)
        .assert()
        .success();
    let second = tmp.path().join("v2");
    synthetic_tree(&second, 20, 200);
    let probe_text = common::c_file(150, 40);
    let probe: Vec<u64> = engine::Analyzer::new(engine::Params::DEFAULT)
        .analyze(Path::new("x.c"), probe_text.as_bytes())
        .unwrap()
        .fingerprints
        .iter()
        .map(|f| f.hash)
        .collect();
    let probe_digest = engine::identity::FileDigests::of(probe_text.as_bytes()).exact;

    let mut child = StdCommand::new(bin())
        .env("PROVSCAN_INDEX", &index)
        .args(["index", "add", "--project", "conc", "--version", "2"])
        .arg(&second)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = indexer::Index::open_reader(&index, &indexer::OpenOptions::default()).unwrap();
    let mut rounds = 0;
    let mut saw_v2 = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = child.try_wait().unwrap().is_some();
        reader.refresh().unwrap();
        let versions = reader.all_versions().unwrap();
        for v in &versions {
            let files = reader.version_files(&v.project, &v.version).unwrap();
            assert_eq!(files.len() as u64, v.files, "{v:?}");
            for (_, id) in &files {
                assert!(reader.content(*id).unwrap().is_some());
            }
        }
        let lookup = reader.postings(&probe).unwrap();
        for (_, p) in lookup.hits() {
            assert!(
                reader.content(p.origin).unwrap().is_some(),
                "posting of an uncommitted content"
            );
        }
        let v2 = versions.iter().any(|v| v.version == "2");
        // The probe file belongs to version 2: all or nothing.
        let id = reader.content_by_exact(&probe_digest).unwrap();
        assert_eq!(
            id.is_some(),
            v2,
            "content visible without its version (or the reverse)"
        );
        if let Some(id) = id {
            let everywhere = lookup
                .postings
                .iter()
                .zip(&lookup.common)
                .all(|(p, c)| *c || p.iter().any(|x| x.origin == id));
            assert!(everywhere, "version visible with part of its postings");
        }
        saw_v2 |= v2;
        // The CLI reads at the same time too.
        if rounds % 5 == 0 {
            assert!(!list_json(&index).is_empty());
        }
        rounds += 1;
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    reader.refresh().unwrap();
    assert!(reader.has_version("conc", "2").unwrap());
    assert!(saw_v2 || rounds > 0);
    assert!(
        rounds > 3,
        "the add was too quick to read during it ({rounds} rounds)"
    );
}
