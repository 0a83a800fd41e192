//! SIGKILL during `index remove` (after its commit, during the purge) and
//! during the compaction that ends a build: the next writer finishes or
//! undoes the work, and the index ends with exactly the records of a run
//! that was never killed (the record digest of `index verify --json`).

#[path = "shared/mod.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn provscan(index: &Path, args: &[&str], kill_at: Option<&str>) -> Output {
    let mut cmd = Command::new(cargo_bin("provscan"));
    cmd.arg("index").arg("--index").arg(index).args(args);
    match kill_at {
        Some(at) => cmd.env("PROVSCAN_TEST_KILL_AT", at),
        None => cmd.env_remove("PROVSCAN_TEST_KILL_AT"),
    };
    cmd.output().expect("provscan runs")
}

fn ok(index: &Path, args: &[&str]) -> Output {
    let out = provscan(index, args, None);
    assert!(
        out.status.success(),
        "{}",
        shared::describe(&args.join(" "), &out)
    );
    out
}

/// This repository's own source directories, one version each.
fn sources() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        "engine/src",
        "indexer/src",
        "corpus-tools/src",
        "src",
        "benches",
    ]
    .iter()
    .map(|d| (d.replace('/', "-"), root.join(d)))
    .collect()
}

fn digest(index: &Path) -> Value {
    shared::index_digest(&cargo_bin("provscan"), index)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn versions(index: &Path) -> usize {
    shared::index_versions(&cargo_bin("provscan"), index)
}

#[test]
fn sigkill_during_compaction_and_remove_leaves_the_records_of_a_clean_run() {
    let work = tempfile::tempdir().unwrap();
    // `index build` leaves one sorted run: it compacts after its adds.
    let manifest = work.path().join("corpus.toml");
    let text: String = sources()
        .iter()
        .map(|(name, dir)| {
            format!(
                "[[source]]\nspec = {:?}\nproject = {name:?}\nversion = \"1\"\nlicense = \"MIT\"\n",
                dir.to_str().unwrap()
            )
        })
        .collect();
    std::fs::write(&manifest, text).unwrap();
    let build = |idx: &Path, kill_at: Option<&str>| {
        // Every version ingested as its own table file: several sorted runs.
        let args = [
            "build",
            manifest.to_str().unwrap(),
            "--batch-limit-bytes",
            "0",
        ];
        provscan(idx, &args, kill_at)
    };
    let clean = work.path().join("clean");
    let out = build(&clean, None);
    assert!(out.status.success(), "{}", shared::describe("build", &out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("compacted"),
        "the build compacts: {}",
        shared::describe("build", &out)
    );
    let want = digest(&clean);

    // At the stage, then a little later: inside the compaction, or (the
    // index is small) just after it.
    for at in ["compacting", "compacting+3", "compacting+15"] {
        let idx = work.path().join(format!("killed-{at}"));
        let out = build(&idx, Some(at));
        let killed = out.status.code().is_none();
        assert!(
            killed || out.status.success(),
            "{at}: {}",
            shared::describe("build", &out)
        );
        assert!(killed || at.contains('+'), "killed at {at}");
        // Every add had committed: all five versions, the same records.
        assert_eq!(versions(&idx), 5, "killed at {at}");
        assert_eq!(digest(&idx)["digest"], want["digest"], "killed at {at}");
    }

    // Remove the biggest version: its contents' postings are purged.
    let removed = work.path().join("removed");
    copy_dir(&clean, &removed);
    ok(&removed, &["remove", "--project", "engine-src"]);
    let want = digest(&removed);
    assert_eq!(want["records"]["dead"], 0);
    for at in ["removed", "removed+3", "removed+15"] {
        let idx = work.path().join(format!("killed-{at}"));
        copy_dir(&clean, &idx);
        let out = provscan(&idx, &["remove", "--project", "engine-src"], Some(at));
        let killed = out.status.code().is_none();
        assert!(
            killed || out.status.success(),
            "{at}: {}",
            shared::describe("rm", &out)
        );
        assert!(killed || at.contains('+'), "killed at {at}");
        // The next writer finishes the purge it finds recorded.
        let again = provscan(&idx, &["remove", "--project", "engine-src"], None);
        assert_eq!(
            again.status.code(),
            Some(1),
            "already removed: {}",
            shared::describe("rm", &again)
        );
        assert_eq!(versions(&idx), 4, "killed at {at}");
        assert_eq!(digest(&idx)["digest"], want["digest"], "killed at {at}");
    }
}

#[test]
fn readers_killed_before_cleaning_up_leave_nothing_behind() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("indexer/src");
    ok(
        &index,
        &[
            "add",
            src.to_str().unwrap(),
            "--project",
            "p",
            "--version",
            "1",
        ],
    );
    let tmp = work.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // A process that has exited, and one that is alive (this test).
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = tmp.join(format!("provscan-reader-{dead}-0"));
    let live = tmp.join(format!("provscan-reader-{}-0", std::process::id()));
    for d in [&stale, &live] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("LOG"), "x").unwrap();
    }
    // A reader killed by SIGTERM in the middle of a scan.
    let mut scan = Command::new(cargo_bin("provscan"))
        .args([
            "scan",
            "--index",
            index.to_str().unwrap(),
            "--format",
            "json",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("engine"))
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let own = |pid: u32| {
        std::fs::read_dir(&tmp).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("provscan-reader-{pid}-"))
        })
    };
    while !own(scan.id()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(own(scan.id()), "the scan opened a reader");
    Command::new("kill")
        .args(["-TERM", &scan.id().to_string()])
        .status()
        .unwrap();
    scan.wait().unwrap();

    let out = Command::new(cargo_bin("provscan"))
        .args(["index", "--index", index.to_str().unwrap(), "list"])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", shared::describe("list", &out));
    let left: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec![live.file_name().unwrap().to_string_lossy().into_owned()]
    );
}
