//! `provscan scan --cache FILE` on this repository's own engine sources as
//! the corpus: a second scan answers unchanged files from the cache with
//! the same report, a changed file is checked again, and a change to the
//! index drops the cache.

#[path = "shared/mod.rs"]
mod shared;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;
use shared::run_ok;

fn scan(index: &Path, target: &Path, cache: &Path) -> (Value, String) {
    let out = run_ok(
        "scan --cache",
        Command::new(cargo_bin("provscan"))
            .args(["scan", "--format", "json", "--index"])
            .arg(index)
            .arg("--cache")
            .arg(cache)
            .arg(target),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

fn findings(report: &Value) -> Vec<String> {
    let mut f: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f["path"], f["kind"], f["target_lines"], f["origin"]["path"], f["origin"]["lines"]
            )
        })
        .collect();
    f.sort();
    f
}

#[test]
fn unchanged_files_come_from_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let (index, target, cache) = (
        tmp.path().join("idx"),
        tmp.path().join("target"),
        tmp.path().join("scan-cache.json"),
    );
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/src");
    let add = |version: &str, dir: &Path| {
        run_ok(
            "index add",
            Command::new(cargo_bin("provscan"))
                .args(["index", "--index"])
                .arg(&index)
                .arg("add")
                .arg(dir)
                .args(["--project", "engine", "--version", version])
                .args(["--license", "MIT"]),
        );
    };
    add("1", &engine);

    // A whole copy, a partial copy with a header of our own, and a file of
    // our own.
    std::fs::create_dir_all(&target).unwrap();
    let align = std::fs::read_to_string(engine.join("align.rs")).unwrap();
    std::fs::write(target.join("align.rs"), &align).unwrap();
    let winnow = std::fs::read_to_string(engine.join("winnow.rs")).unwrap();
    let part: String = winnow.lines().take(150).map(|l| format!("{l}\n")).collect();
    std::fs::write(target.join("hashing.rs"), format!("// ours\n{part}")).unwrap();
    std::fs::write(
        target.join("own.rs"),
        "pub fn answer() -> u32 {\n    42\n}\n",
    )
    .unwrap();

    let (first, err) = scan(&index, &target, &cache);
    assert!(err.contains("cache: 0 of 3 files"), "{err}");
    assert!(findings(&first).len() >= 2, "{:?}", findings(&first));
    assert!(cache.exists());

    let (second, err) = scan(&index, &target, &cache);
    assert!(err.contains("cache: 3 of 3 files"), "{err}");
    // The very same findings, similarities to the last bit included.
    assert_eq!(first["findings"], second["findings"]);
    assert_eq!(first["skipped"], second["skipped"]);

    // A changed file is checked again; the others still come from the cache.
    std::fs::write(
        target.join("own.rs"),
        align.replace("pub fn", "pub(crate) fn"),
    )
    .unwrap();
    let (third, err) = scan(&index, &target, &cache);
    assert!(err.contains("cache: 2 of 3 files"), "{err}");
    assert!(
        findings(&third).iter().any(|f| f.contains("own.rs")),
        "{:?}",
        findings(&third)
    );

    // An unwritable cache costs the cache only, not the scan.
    let out = run_ok(
        "scan with an unwritable cache",
        Command::new(cargo_bin("provscan"))
            .args(["scan", "--format", "json", "--index"])
            .arg(&index)
            .arg("--cache")
            .arg(tmp.path().join("no-such-dir/cache.json"))
            .arg(&target),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("scan cache not written"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings(&report), findings(&third));

    // Another version in the index: every file is checked again.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("matcher.rs"),
        std::fs::read(engine.join("matcher.rs")).unwrap(),
    )
    .unwrap();
    add("2", &other);
    let (_, err) = scan(&index, &target, &cache);
    assert!(err.contains("cache: 0 of 3 files"), "{err}");
}
