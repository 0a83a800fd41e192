//! Helpers shared by the end-to-end tests and the benchmarks (included with
//! `#[path]`, so each user compiles only what it calls).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where registry downloads used as test material are cached:
/// `$PROVSCAN_TESTDATA`, else `provscan-testdata` in the user cache
/// directory. Never inside the repository.
pub fn testdata() -> PathBuf {
    std::env::var_os("PROVSCAN_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs::cache_dir()
                .unwrap_or_else(std::env::temp_dir)
                .join("provscan-testdata")
        })
}

/// Bytes of every regular file under `dir`, recursively (0 if unreadable).
pub fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A command's exit status and both outputs, for assertion messages.
pub fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`, which must succeed.
pub fn run_ok(what: &str, cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(out.status.success(), "{}", describe(what, &out));
    out
}

/// `provscan index --index INDEX <args…>` with the binary `provscan`,
/// which must succeed and print JSON.
fn index_json(provscan: &Path, index: &Path, args: &[&str]) -> serde_json::Value {
    let what = format!("index {}", args.join(" "));
    let out = run_ok(
        &what,
        Command::new(provscan)
            .args(["index", "--index"])
            .arg(index)
            .args(args),
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what} prints JSON: {e}"))
}

/// `provscan index verify --json` of `index` with the binary `provscan`:
/// the index must be intact; gives its records per column family and the
/// digest of every record (equal for indexes holding the same data).
pub fn index_digest(provscan: &Path, index: &Path) -> serde_json::Value {
    let v = index_json(provscan, index, &["verify", "--json"]);
    assert_eq!(v["intact"], true);
    v
}

/// How many versions `index` holds (`provscan index list --json`).
pub fn index_versions(provscan: &Path, index: &Path) -> usize {
    index_json(provscan, index, &["list", "--json"])
        .as_array()
        .expect("list prints an array")
        .len()
}

/// The sdist of `name==version` from PyPI, downloaded once into `dir` with
/// `pip download` (no dependencies, no wheels).
pub fn pypi_sdist(dir: &Path, name: &str, version: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(format!("{name}-{version}.tar.gz"));
    if !file.exists() {
        run_ok(
            &format!("pip download {name}=={version}"),
            Command::new("pip")
                .args([
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "-d",
                ])
                .arg(dir)
                .arg(format!("{name}=={version}")),
        );
    }
    assert!(
        file.exists(),
        "{} missing after pip download",
        file.display()
    );
    file
}
