//! End to end on real code: index GNU readline 8.2 from Debian's sources,
//! then scan the PyPI sdist of gnureadline 8.3.3, which bundles readline 8.3
//! as a tarball inside the sdist. Downloads are cached outside the repo.

#[path = "shared/mod.rs"]
mod shared;

use std::path::PathBuf;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn cache() -> PathBuf {
    let dir = shared::testdata().join("scan-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pip_sdist(name: &str, version: &str) -> PathBuf {
    shared::pypi_sdist(&cache(), name, version)
}

fn provscan(index: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(cargo_bin("provscan"))
        .arg(args[0])
        .arg("--index")
        .arg(index)
        .args(&args[1..])
        .output()
        .expect("provscan runs")
}

#[test]
fn finds_bundled_gpl_readline_and_nothing_in_unrelated_code() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    let downloads = cache().join("downloads");
    shared::run_ok(
        "index add",
        Command::new(cargo_bin("provscan"))
            .args(["index", "--index"])
            .arg(&index)
            .args(["add", "deb:readline=8.2-1.3", "--cache-dir"])
            .arg(&downloads),
    );

    let target = pip_sdist("gnureadline", "8.3.3");
    let out = provscan(
        &index,
        &[
            "scan",
            "--format",
            "json",
            "--fail-on",
            "strong-copyleft",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "GPL findings must fail the policy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let nested =
        "gnureadline-8.3.3.tar.gz!/gnureadline-8.3.3/rl/readline-8.3.tar.gz!/readline-8.3/";

    // tilde.c changed a little between 8.2 and 8.3: a snippet finding with
    // line ranges on both sides and the license from debian/copyright.
    let tilde = findings
        .iter()
        .find(|f| f["path"] == format!("{nested}tilde.c"))
        .expect("tilde.c found");
    assert_eq!(tilde["origin"]["project"], "readline");
    assert_eq!(tilde["origin"]["path"], "tilde.c");
    assert_eq!(tilde["origin"]["license"], "GPL-3.0-or-later");
    let (t, o) = (&tilde["target_lines"], &tilde["origin"]["lines"]);
    assert!(
        t[0].as_u64().unwrap() <= 30 && t[1].as_u64().unwrap() >= 450,
        "target lines {t}"
    );
    assert!(
        o[0].as_u64().unwrap() <= 30 && o[1].as_u64().unwrap() >= 450,
        "origin lines {o}"
    );

    // The target side comes from the lexer (no parse on the scan path); the
    // extension absorbs its rare differences from the parse, so parsing every
    // target file finds the same files against the same origin files (ranges
    // may move by a token or two where the two tokenizers disagree).
    let unprobed = provscan(
        &index,
        &[
            "scan",
            "--format",
            "json",
            "--probe",
            "off",
            target.to_str().unwrap(),
        ],
    );
    let unprobed: Value = serde_json::from_slice(&unprobed.stdout).unwrap();
    let files = |fs: &[Value]| -> std::collections::BTreeSet<String> {
        fs.iter()
            .filter(|f| {
                f["target_lines"][1].as_u64().unwrap() - f["target_lines"][0].as_u64().unwrap()
                    >= 20
            })
            .map(|f| format!("{} {}", f["path"], f["origin"]["path"]))
            .collect()
    };
    let (lexed, parsed) = (
        files(findings),
        files(unprobed["findings"].as_array().unwrap()),
    );
    assert_eq!(
        lexed.symmetric_difference(&parsed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "files found with the lexer and with the parse"
    );
    assert!(findings.len() >= 10, "{} findings", findings.len());

    // What the summary says of the lookups: the fingerprints in code no
    // finding covers had to be looked up, and the copies spared some.
    let summary = &report["summary"];
    let count = |k: &str| {
        summary[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {summary}"))
    };
    let (lookups, fps, unexplained) = (
        count("lookups"),
        count("fingerprints"),
        count("unexplained_fingerprints"),
    );
    assert!(
        unexplained <= lookups && lookups < fps && unexplained * 2 < fps,
        "{summary}"
    );
    // The copies were aligned, and their alignments are part of the work.
    let (work, reported) = (count("alignment_work"), count("reported_alignment_work"));
    assert!(0 < reported && reported <= work, "{summary}");

    // Unchanged files are whole-file matches.
    assert!(findings
        .iter()
        .any(|f| f["kind"] == "file" && f["path"] == format!("{nested}vi_keymap.c")));
    // readline's COPYING (the GPL text) is evidence of which project was
    // vendored while the license file names few indexed projects: a
    // whole-file finding, not a skipped file.
    let copying = findings
        .iter()
        .find(|f| f["path"] == format!("{nested}COPYING"))
        .expect("COPYING reported");
    assert_eq!(copying["kind"], "file");
    assert_eq!(copying["origin"]["path"], "COPYING");
    // The CPython module copies in the sdist are not readline's: no finding names them.
    assert!(!findings
        .iter()
        .any(|f| f["path"].as_str().unwrap().contains("/Modules/")));

    // An unrelated real package: no findings, exit 0 under the same policy.
    let six = pip_sdist("six", "1.16.0");
    let out = provscan(
        &index,
        &[
            "scan",
            "--format",
            "json",
            "--fail-on",
            "strong-copyleft",
            six.to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{}",
        report["findings"]
    );
    assert_eq!(out.status.code(), Some(0));
    // Nothing found: every fingerprint was looked up, and none is explained.
    let summary = &report["summary"];
    assert_eq!(summary["unexplained_fingerprints"], summary["fingerprints"]);
    assert_eq!(summary["lookups"], summary["fingerprints"]);
    assert_eq!(summary["reported_alignment_work"], 0);
}

/// A block its origin file holds twice, copied once: the finding names one
/// place and lists the other as an alternative (same path, other lines),
/// since nothing tells which of the two was copied.
#[test]
fn code_held_twice_by_its_origin_names_both_places() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    let origin = work.path().join("origin");
    let target = work.path().join("target");
    std::fs::create_dir_all(&origin).unwrap();
    std::fs::create_dir_all(&target).unwrap();
    let block = |name: &str| -> String {
        let mut s = format!("static int {name}(struct ctx *c, const char *buf, size_t len) {{\n");
        for i in 0..12 {
            s += &format!(
                "    if (c->state_{i} > len) {{ c->total += buf[{i}] * {i}; return step_{i}(c, buf + {i}); }}\n"
            );
        }
        s + "    return 0;\n}\n"
    };
    let mut between = String::new();
    for i in 0..20 {
        between += &format!(
            "int unrelated_{i}(int x) {{ return x * {i} + {}; }}\n",
            i * 7
        );
    }
    // The same function under two names, with other code between them.
    std::fs::write(
        origin.join("twice.c"),
        format!("{}{between}{}", block("first"), block("second")),
    )
    .unwrap();
    std::fs::write(
        target.join("copy.c"),
        format!("int own;\n{}", block("mine")),
    )
    .unwrap();
    shared::run_ok(
        "index add",
        Command::new(cargo_bin("provscan"))
            .args(["index", "--index"])
            .arg(&index)
            .args(["add", "--project", "twice", "--version", "1"])
            .arg(&origin),
    );
    let out = provscan(
        &index,
        &["scan", "--format", "json", target.to_str().unwrap()],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    let f = &findings[0];
    let mut places: Vec<u64> = std::iter::once(&f["origin"])
        .chain(f["alternatives"].as_array().unwrap())
        .map(|o| {
            assert_eq!(o["path"], "twice.c", "{f:#}");
            o["lines"][0].as_u64().unwrap()
        })
        .collect();
    places.sort_unstable();
    assert_eq!(places, vec![1, 36], "{f:#}");
}
