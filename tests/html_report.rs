//! The HTML report shows the origin beside the copy, from the source text
//! the index keeps; an index added with `--no-source` gives the copy alone.

#[path = "shared/mod.rs"]
mod shared;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;

fn engine_src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/src")
}

fn provscan(index: &Path, args: &[&str]) -> std::process::Output {
    Command::new(cargo_bin("provscan"))
        .args(args)
        .env("PROVSCAN_INDEX", index)
        .output()
        .unwrap()
}

/// Scans a partial, edited copy of `extend.rs` against an index of
/// `engine/src` added with `extra` options; returns the HTML.
fn report(work: &Path, extra: &[&str]) -> String {
    let index = work.join(format!("idx{}", extra.len()));
    let src = engine_src();
    let mut add = vec![
        "index",
        "add",
        src.to_str().unwrap(),
        "--project",
        "engine",
        "--version",
        "1",
        "--license",
        "GPL-3.0-only",
    ];
    add.extend_from_slice(extra);
    let out = provscan(&index, &add);
    assert!(out.status.success(), "{}", shared::describe("add", &out));

    let target = work.join("target");
    std::fs::create_dir_all(&target).unwrap();
    let text = std::fs::read_to_string(engine_src().join("extend.rs")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut copy: Vec<String> = lines[..lines.len() * 3 / 5]
        .iter()
        .map(|l| l.to_string())
        .collect();
    // An edited line and an inserted one inside the copy, within the
    // first 400 lines the report shows of a finding (extend.rs grows).
    let at = (copy.len() / 2).min(300);
    copy[at] = format!("{} // changed here", copy[at]);
    copy.insert(at + 10, "    let inserted_by_the_copier = 1;".into());
    std::fs::write(target.join("ours.rs"), copy.join("\n")).unwrap();
    let html = work.join("report.html");
    let out = provscan(
        &index,
        &[
            "scan",
            "--format",
            "html",
            "-o",
            html.to_str().unwrap(),
            target.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        shared::describe("scan", &out)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    let body = text.trim_start_matches("<!DOCTYPE html>\n");
    roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("not well-formed: {e}"));
    text
}

#[test]
fn origin_and_copy_side_by_side_with_edits_marked() {
    let work = tempfile::tempdir().unwrap();
    let html = report(work.path(), &[]);
    assert!(
        html.contains("<table class=\"sbs\">"),
        "no side-by-side table"
    );
    assert!(html.contains("<tr class=\"eq\">"), "no aligned line");
    assert!(
        html.contains("<tr class=\"chg\">") || html.contains("<tr class=\"ins\">"),
        "no edit marked"
    );
    assert!(html.contains("inserted_by_the_copier"));
}

#[test]
fn without_source_the_copy_is_shown_alone() {
    let work = tempfile::tempdir().unwrap();
    let html = report(work.path(), &["--no-source"]);
    assert!(!html.contains("<table class=\"sbs\">"));
    assert!(html.contains("origin text not in the index"));
}
