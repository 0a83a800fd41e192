//! The review workflow on real code: GNU readline 8.2 indexed from Debian's
//! sources, targets taken from the PyPI sdist of gnureadline 8.3.3 (which
//! bundles readline 8.3). The grouped table (snapshot), decisions written by
//! `provscan accept` that keep the next scan quiet, and a baseline that
//! fails only on a newly pasted file. Downloads are cached outside the repo.

#[path = "shared/mod.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

const NESTED: &str =
    "gnureadline-8.3.3.tar.gz!/gnureadline-8.3.3/rl/readline-8.3.tar.gz!/readline-8.3/";

fn cache() -> PathBuf {
    let dir = shared::testdata().join("scan-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sdist() -> PathBuf {
    let dir = cache();
    let file = dir.join("gnureadline-8.3.3.tar.gz");
    if !file.exists() {
        shared::run_ok(
            "pip download",
            Command::new("pip")
                .args(["download", "--quiet", "--no-deps", "--no-binary", ":all:"])
                .arg("-d")
                .arg(&dir)
                .arg("gnureadline==8.3.3"),
        );
    }
    file
}

/// The readline index, built once per test binary.
fn index() -> &'static Path {
    static INDEX: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = INDEX.get_or_init(|| {
        let work = tempfile::tempdir().unwrap();
        let index = work.path().join("index");
        shared::run_ok(
            "index add",
            Command::new(cargo_bin("provscan"))
                .args(["index", "--index"])
                .arg(&index)
                .args(["add", "deb:readline=8.2-1.3", "--cache-dir"])
                .arg(cache().join("downloads")),
        );
        (work, index)
    });
    path
}

fn provscan(args: &[&str], dir: &Path) -> Output {
    Command::new(cargo_bin("provscan"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PROVSCAN_INDEX", index())
        .env("SOURCE_DATE_EPOCH", "1764720000")
        .env("USER", "reviewer-bot")
        .args(args)
        .output()
        .expect("provscan runs")
}

/// readline 8.3 source files out of the sdist, into `dest/`.
fn readline_files(dest: &Path, names: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    shared::run_ok(
        "tar sdist",
        Command::new("tar")
            .arg("-xzf")
            .arg(sdist())
            .arg("-C")
            .arg(tmp.path())
            .arg("gnureadline-8.3.3/rl/readline-8.3.tar.gz"),
    );
    let inner = tmp.path().join("gnureadline-8.3.3/rl/readline-8.3.tar.gz");
    let mut tar = Command::new("tar");
    tar.arg("-xzf").arg(&inner).arg("-C").arg(tmp.path());
    for n in names {
        tar.arg(format!("readline-8.3/{n}"));
    }
    shared::run_ok("tar readline", &mut tar);
    std::fs::create_dir_all(dest).unwrap();
    for n in names {
        std::fs::copy(tmp.path().join("readline-8.3").join(n), dest.join(n)).unwrap();
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", shared::describe("scan", out)))
}

#[test]
fn table_groups_the_bundled_readline_by_origin() {
    let sdist = sdist();
    let dir = sdist.parent().unwrap();
    let out = provscan(
        &[
            "scan",
            "--format",
            "table",
            "--fail-on",
            "strong-copyleft",
            "gnureadline-8.3.3.tar.gz",
        ],
        dir,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        shared::describe("scan", &out)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "wider than 100: {line}");
    }
    assert!(!text.contains('\x1b'), "NO_COLOR: no escapes");
    assert!(
        text.contains("readline@8.2-1.3  GPL-3.0-or-later  [strong-copyleft]"),
        "{text}"
    );
    assert!(
        text.contains("  under gnureadline-8.3.3.tar.gz!/"),
        "{text}"
    );
    // The last line carries the elapsed time: the one machine-specific part.
    let stable: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.contains(" scanned in ") {
                "[timing line]"
            } else {
                l
            }
        })
        .collect();
    insta::assert_snapshot!("readline_table", stable.join("\n"));

    // --details adds one row per snippet, with its id.
    let out = provscan(
        &[
            "scan",
            "--format",
            "table",
            "--details",
            "gnureadline-8.3.3.tar.gz",
        ],
        dir,
    );
    let detailed = String::from_utf8(out.stdout).unwrap();
    assert!(detailed.contains("ID  ") && detailed.contains(&format!("{NESTED}tilde.c")));
}

#[test]
fn accepted_findings_stay_quiet_and_stale_decisions_are_listed() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("proj");
    readline_files(&root.join("third_party/rl"), &["tilde.c", "vi_keymap.c"]);
    readline_files(&root.join("src"), &["history.c"]);
    // CI's configuration: the policy lives in the file, comments included.
    let config = root.join(".provscan.toml");
    std::fs::write(
        &config,
        "# provscan settings for CI\n[policy]\nfail-on = [\"strong-copyleft\"] # no GPL\n",
    )
    .unwrap();

    let first = provscan(&["scan", "--format", "json", "."], &root);
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        shared::describe("scan", &first)
    );
    let report = json(&first);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() >= 3, "{findings:?}");
    let ids: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), findings.len(), "ids are unique");
    let report_path = work.path().join("report.json");
    std::fs::write(&report_path, &first.stdout).unwrap();

    // Accept the history.c finding by id: the rest still fails.
    let history = findings
        .iter()
        .find(|f| f["path"] == "src/history.c")
        .expect("history.c found");
    let id = history["id"].as_str().unwrap();
    shared::run_ok(
        "accept id",
        Command::new(cargo_bin("provscan"))
            .current_dir(&root)
            .env("SOURCE_DATE_EPOCH", "1764720000")
            .args(["accept", id, "--report"])
            .arg(&report_path)
            .args([
                "--reason",
                "history.c is our fork, GPL accepted",
                "--reviewer",
                "jo",
            ]),
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# provscan settings for CI\n"), "{text}");
    assert!(
        text.contains("# no GPL") && text.contains("[[decision]]"),
        "{text}"
    );
    assert!(text.contains("date = \"2025-12-03\""), "{text}");
    let second = provscan(&["scan", "--format", "json", "."], &root);
    assert_eq!(second.status.code(), Some(1));
    let report = json(&second);
    for f in report["findings"].as_array().unwrap() {
        let accepted = &f["accepted"];
        if f["path"] == "src/history.c" {
            assert_eq!(accepted["reason"], "history.c is our fork, GPL accepted");
            assert_eq!(accepted["reviewer"], "jo");
        } else {
            assert!(accepted.is_null(), "{f}");
        }
    }

    // Accept the whole origin project: the next scan passes, and the
    // findings are still reported, marked accepted (also in SARIF).
    shared::run_ok(
        "accept origin",
        Command::new(cargo_bin("provscan"))
            .current_dir(&root)
            .args([
                "accept",
                "--origin",
                "readline@8.2-1.3",
                "--reason",
                "vendored readline",
            ]),
    );
    let third = provscan(&["scan", "--format", "sarif", "."], &root);
    assert_eq!(
        third.status.code(),
        Some(0),
        "{}",
        shared::describe("scan", &third)
    );
    let sarif = json(&third);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    assert!(results
        .iter()
        .all(|r| r["suppressions"][0]["status"] == "accepted"));
    let table = provscan(&["scan", "--format", "table", "."], &root);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("accepted by decisions"), "{text}");

    // Once history.c is gone, its decision is stale and listed as such.
    std::fs::remove_file(root.join("src/history.c")).unwrap();
    let fourth = provscan(&["scan", "--format", "json", "."], &root);
    assert_eq!(fourth.status.code(), Some(0));
    let report = json(&fourth);
    let stale = report["stale_decisions"].as_array().unwrap();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0]["reason"], "history.c is our fork, GPL accepted");
    assert!(String::from_utf8_lossy(&fourth.stderr).contains("stale decision"));
}

#[test]
fn baseline_fails_only_on_a_newly_pasted_file() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("proj");
    readline_files(&root.join("third_party/rl"), &["tilde.c", "vi_keymap.c"]);
    let old = provscan(&["scan", "--format", "json", "."], &root);
    let old_path = work.path().join("old.json");
    std::fs::write(&old_path, &old.stdout).unwrap();
    let old_report = json(&old);
    assert!(!old_report["findings"].as_array().unwrap().is_empty());

    // Unrelated edits above the copy shift its lines: still unchanged.
    let tilde = root.join("third_party/rl/tilde.c");
    let text = std::fs::read_to_string(&tilde).unwrap();
    std::fs::write(
        &tilde,
        format!("/* local note */\n\n#define OUR_BUILD 1\n{text}"),
    )
    .unwrap();
    let baseline = old_path.to_str().unwrap();
    let args = [
        "scan",
        "--format",
        "json",
        "--fail-on-new",
        "--baseline",
        baseline,
        ".",
    ];
    let shifted = provscan(&args, &root);
    assert_eq!(
        shifted.status.code(),
        Some(0),
        "{}",
        shared::describe("scan", &shifted)
    );
    let report = json(&shifted);
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["baseline_state"], "unchanged", "{f}");
    }
    assert_eq!(report["absent"].as_array().unwrap().len(), 0);

    // A pasted file is new, and fails; SARIF says so too.
    readline_files(&root.join("src"), &["history.c"]);
    let pasted = provscan(&args, &root);
    assert_eq!(
        pasted.status.code(),
        Some(1),
        "{}",
        shared::describe("scan", &pasted)
    );
    let report = json(&pasted);
    for f in report["findings"].as_array().unwrap() {
        let want = if f["path"] == "src/history.c" {
            "new"
        } else {
            "unchanged"
        };
        assert_eq!(f["baseline_state"], want, "{f}");
    }
    assert!(String::from_utf8_lossy(&pasted.stderr).contains("src/history.c"));
    let sarif = provscan(
        &["scan", "--format", "sarif", "--baseline", baseline, "."],
        &root,
    );
    let sarif = json(&sarif);
    let states: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"new") && states.contains(&"unchanged"),
        "{states:?}"
    );

    // A file removed since the baseline is listed as absent.
    std::fs::remove_file(root.join("third_party/rl/vi_keymap.c")).unwrap();
    let gone = provscan(&args, &root);
    let report = json(&gone);
    let absent = report["absent"].as_array().unwrap();
    assert!(
        absent
            .iter()
            .any(|a| a["path"] == "third_party/rl/vi_keymap.c"),
        "{absent:?}"
    );
}

/// The HTML report of the README's example, well-formed, and rendered by a
/// real headless Chromium (installed from Debian when missing). The
/// screenshot is left in the test output directory for people to look at.
#[test]
#[ignore = "needs Chromium (apt-get install chromium); slow"]
fn html_report_renders_in_headless_chromium() {
    let sdist = sdist();
    let dir = sdist.parent().unwrap();
    let work = tempfile::tempdir().unwrap();
    let html = work.path().join("report.html");
    let out = provscan(
        &[
            "scan",
            "--format",
            "html",
            "-o",
            html.to_str().unwrap(),
            "gnureadline-8.3.3.tar.gz",
        ],
        dir,
    );
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        shared::describe("scan", &out)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    let body = text.trim_start_matches("<!DOCTYPE html>\n");
    roxmltree::Document::parse(body).expect("well-formed");
    assert!(text.contains(&format!("{NESTED}tilde.c")));
    assert!(text.contains("GPL-3.0-or-later"));

    let chromium = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new("which")
            .arg(c)
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let chromium = chromium.unwrap_or_else(|| {
        shared::run_ok(
            "apt-get install chromium",
            Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "chromium"]),
        );
        "chromium"
    });
    let shot = std::env::temp_dir().join("provscan-report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    shared::run_ok(
        "chromium --screenshot",
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--window-size=1280,2000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", html.display())),
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank page compresses to a few kB; the report's text and charts do not.
    assert!(png.len() > 30_000, "screenshot of {} bytes", png.len());
    println!("screenshot: {}", shot.display());
}
