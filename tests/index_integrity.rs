//! A damaged index never reads as an empty or older one: `scan` and `index
//! stats` exit 2 naming the damaged file, and a following `index add`
//! refuses and deletes nothing.

#[path = "shared/mod.rs"]
mod shared;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;

/// A directory of this repository.
fn repo(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
}

fn engine_src() -> PathBuf {
    repo("engine/src")
}

fn provscan(index: &Path, args: &[&str]) -> Output {
    Command::new(cargo_bin("provscan"))
        .args(args)
        .env("PROVSCAN_INDEX", index)
        .output()
        .unwrap()
}

/// An index of `engine/src` under GPL-3.0-only, committed in two versions
/// so that it has several table files.
fn build(index: &Path) {
    for (version, dir) in [("1", engine_src()), ("2", engine_src())] {
        let out = provscan(
            index,
            &[
                "index",
                "add",
                dir.to_str().unwrap(),
                "--project",
                if version == "1" {
                    "engine"
                } else {
                    "engine-copy"
                },
                "--version",
                version,
                "--license",
                "GPL-3.0-only",
            ],
        );
        assert!(out.status.success(), "{}", shared::describe("add", &out));
    }
}

/// Every file of the index directory with its bytes.
fn snapshot(index: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(index)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn largest(index: &Path, ext: &str) -> PathBuf {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(index)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| (p.metadata().unwrap().len(), p))
        .collect();
    files.sort();
    files.pop().expect("index files").1
}

fn manifest(index: &Path) -> PathBuf {
    std::fs::read_dir(index)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("MANIFEST-")
        })
        .expect("a MANIFEST")
}

/// What damage does to an index, and the name the error must give.
type Damage = fn(&Path) -> String;

fn delete_sst(index: &Path) -> String {
    let sst = largest(index, "sst");
    std::fs::remove_file(&sst).unwrap();
    sst.file_name().unwrap().to_string_lossy().into_owned()
}

fn truncate_sst(index: &Path) -> String {
    let sst = largest(index, "sst");
    let bytes = std::fs::read(&sst).unwrap();
    std::fs::write(&sst, &bytes[..bytes.len() / 2]).unwrap();
    sst.file_name().unwrap().to_string_lossy().into_owned()
}

fn overwrite_sst(index: &Path) -> String {
    let sst = largest(index, "sst");
    let n = sst.metadata().unwrap().len() as usize;
    let garbage: Vec<u8> = (0..n).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(&sst, garbage).unwrap();
    sst.file_name().unwrap().to_string_lossy().into_owned()
}

fn truncate_manifest(index: &Path) -> String {
    let m = manifest(index);
    let bytes = std::fs::read(&m).unwrap();
    std::fs::write(&m, &bytes[..bytes.len() / 3]).unwrap();
    // The error may name the MANIFEST itself or the table files it lost.
    String::new()
}

fn garble_current(index: &Path) -> String {
    std::fs::write(index.join("CURRENT"), "MANIFEST-99999\n").unwrap();
    String::new()
}

/// A flipped bit inside a block: the open-time checks cannot see it (the
/// file keeps its size), the full verify does.
#[test]
fn verify_reads_every_block() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    build(&index);
    let sst = largest(&index, "sst");
    let mut bytes = std::fs::read(&sst).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x40;
    std::fs::write(&sst, bytes).unwrap();
    let out = provscan(&index, &["index", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        shared::describe("verify", &out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged") && stderr.contains("index verify"),
        "{stderr}"
    );
}

#[test]
fn damaged_indexes_stop_the_gate_and_the_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = tmp.path().join("pristine");
    build(&pristine);
    let target = tmp.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::copy(engine_src().join("extend.rs"), target.join("extend.rs")).unwrap();
    let gate = |index: &Path| {
        provscan(
            index,
            &[
                "scan",
                "--format",
                "json",
                "--fail-on",
                "strong-copyleft",
                target.to_str().unwrap(),
            ],
        )
    };
    // Intact: the copy fails the gate.
    let out = gate(&pristine);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        shared::describe("intact", &out)
    );
    let out = provscan(&pristine, &["index", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        shared::describe("verify", &out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("checksums verified"));

    let cases: [(&str, Damage); 5] = [
        ("one table file deleted", delete_sst),
        ("one table file truncated", truncate_sst),
        ("one table file overwritten", overwrite_sst),
        ("MANIFEST truncated", truncate_manifest),
        ("CURRENT garbled", garble_current),
    ];
    for (what, damage) in cases {
        let index = tmp.path().join(what.replace(' ', "-"));
        copy_dir(&pristine, &index);
        let named = damage(&index);
        for args in [
            vec![
                "scan",
                "--format",
                "json",
                "--fail-on",
                "strong-copyleft",
                target.to_str().unwrap(),
            ],
            vec!["index", "stats"],
            vec!["index", "verify", "--quick"],
        ] {
            let out = provscan(&index, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{what}, {args:?}: {}",
                shared::describe("damaged", &out)
            );
            assert!(stderr.contains("damaged"), "{what}: {stderr}");
            assert!(stderr.contains(&named), "{what}: {named} not in {stderr}");
        }
        // The writer refuses too, and leaves every file as it was.
        let before = snapshot(&index);
        let out = provscan(
            &index,
            &[
                "index",
                "add",
                engine_src().join("lang.rs").to_str().unwrap(),
                "--project",
                "other",
                "--version",
                "1",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: {}",
            shared::describe("add", &out)
        );
        let after = snapshot(&index);
        let kept = |m: &BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
            // The writer's lock file is created on open; nothing else may change.
            m.iter()
                .filter(|(k, _)| k.as_str() != "provscan.lock")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        assert!(
            kept(&before) == kept(&after),
            "{what}: index add changed the damaged index"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The postings key filter answers for the commit it was built at: one
/// left from an earlier commit is not used (a copy of what was added since
/// is still found), one whose bytes were damaged stops the scan naming
/// it, and the next writing session writes it again.
#[test]
fn the_postings_key_filter_is_used_only_when_current_and_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    let filter = index.join("postings.filter");
    let add = |dir: &Path, project: &str| {
        let out = provscan(
            &index,
            &[
                "index",
                "add",
                dir.to_str().unwrap(),
                "--project",
                project,
                "--version",
                "1",
                "--license",
                "GPL-3.0-only",
            ],
        );
        assert!(out.status.success(), "{}", shared::describe("add", &out));
    };
    add(&engine_src(), "engine");
    let stale = std::fs::read(&filter).expect("a writing session writes the filter");
    let cli_src = repo("src");
    add(&cli_src, "cli");
    assert_ne!(std::fs::read(&filter).unwrap(), stale);

    let target = tmp.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    // Part of a file, so that it is found through the postings, not as
    // a whole file by its digest.
    let text = std::fs::read_to_string(cli_src.join("scan.rs")).unwrap();
    let part: Vec<&str> = text.lines().skip(100).take(300).collect();
    std::fs::write(
        target.join("part.rs"),
        format!("// our own\n{}\n", part.join("\n")),
    )
    .unwrap();
    let gate = || {
        provscan(
            &index,
            &[
                "scan",
                "--format",
                "json",
                "--fail-on",
                "strong-copyleft",
                target.to_str().unwrap(),
            ],
        )
    };
    let found = |out: &Output| -> usize {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"].as_array().unwrap().len()
    };
    // The copy fails the gate; how many findings it gets.
    let gated = |label: &str| -> usize {
        let out = gate();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            shared::describe(label, &out)
        );
        found(&out)
    };
    let with_current = gated("current");
    assert!(with_current > 0);

    // The first commit's filter lacks the second's keys: not used.
    let fresh = std::fs::read(&filter).unwrap();
    std::fs::write(&filter, &stale).unwrap();
    assert_eq!(gated("stale"), with_current);

    // A flipped bit: a scan reads the filter at its first lookup and
    // stops, as do stats and verify, naming the file.
    let mut damaged = fresh.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x10;
    std::fs::write(&filter, &damaged).unwrap();
    for args in [
        vec!["scan", "--format", "json", target.to_str().unwrap()],
        vec!["index", "stats"],
        vec!["index", "verify"],
    ] {
        let out = provscan(&index, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            shared::describe("damaged", &out)
        );
        assert!(stderr.contains("postings.filter"), "{args:?}: {stderr}");
    }

    // The next writing session writes it again.
    add(&repo("indexer/src"), "indexer");
    assert_eq!(gated("rewritten"), with_current);
    let out = provscan(&index, &["index", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        shared::describe("verify", &out)
    );
}
