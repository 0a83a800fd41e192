//! `provscan compare` on this repository's own sources: a function copied
//! with renamed identifiers, new comments and re-indentation is found with
//! both line ranges.

#[path = "shared/mod.rs"]
mod shared;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

/// `provscan compare --format json ORIGIN TARGET`, which must succeed.
fn compare_json(origin: &Path, target: &Path) -> Value {
    let out = shared::run_ok(
        "compare",
        Command::new(cargo_bin("provscan"))
            .args(["compare", "--format", "json"])
            .arg(origin)
            .arg(target),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn finds_a_renamed_reformatted_copy() {
    let origin = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/engine/src/align.rs"))
            .unwrap();
    std::fs::write(origin.path().join("align.rs"), &source).unwrap();
    // Sixty lines from `align` on: it and `chain_scores`.
    let lines: Vec<&str> = source.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("pub fn align("))
        .unwrap();
    let copied: String = lines[start..start + 60]
        .iter()
        .map(|l| {
            let l = l
                .replace("hits", "pairs")
                .replace("spans", "found")
                .replace("params", "cfg");
            format!("  {}\n", l.trim_start())
        })
        .collect();
    let host = format!("// our code\nuse std::fmt;\n\n// helper\n{copied}\nfn tail() {{}}\n");
    std::fs::write(target.path().join("ours.rs"), host).unwrap();

    let report = compare_json(origin.path(), target.path());
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["path"], "ours.rs");
    assert_eq!(f["origin"]["path"], "align.rs");
    let t = [
        f["target_lines"][0].as_u64().unwrap(),
        f["target_lines"][1].as_u64().unwrap(),
    ];
    let o = [
        f["origin"]["lines"][0].as_u64().unwrap(),
        f["origin"]["lines"][1].as_u64().unwrap(),
    ];
    // Copied text sits on target lines 5-64 and came from the sixty lines after `start`.
    let s = start as u64 + 1;
    assert!(
        t[0] >= 5 && t[0] <= 10 && t[1] >= 57 && t[1] <= 64,
        "target {t:?}"
    );
    assert!(
        o[0] >= s && o[0] <= s + 5 && o[1] >= s + 52 && o[1] <= s + 59,
        "origin {o:?}"
    );
}

/// Identical files are whole-file findings, except files too small to say
/// where they came from (a serial number, a one-line stub).
#[test]
fn whole_file_copies_need_enough_bytes_to_identify_an_origin() {
    let origin = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/engine/src/identity.rs"
    ))
    .unwrap();
    for dir in [origin.path(), target.path()] {
        std::fs::write(dir.join("identity.rs"), &source).unwrap();
        std::fs::write(dir.join("ca.srl"), "01\n").unwrap();
    }
    // CRLF line endings in the target only: still the same file.
    std::fs::write(
        target.path().join("identity_crlf.rs"),
        source.replace('\n', "\r\n"),
    )
    .unwrap();

    let report = compare_json(origin.path(), target.path());
    let mut files: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            ("identity.rs".to_string(), "file".to_string()),
            ("identity_crlf.rs".to_string(), "file".to_string())
        ]
    );
}

/// Both sides of a finding name the method that holds it, qualified by
/// the type it belongs to: a reviewer decides per function, not per line.
#[test]
fn names_the_enclosing_method_on_both_sides() {
    let origin = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/engine/src/token.rs"))
            .unwrap();
    std::fs::write(origin.path().join("token.rs"), &source).unwrap();
    // `Tokenizer::tokenize`, from its doc comment to its closing brace.
    let lines: Vec<&str> = source.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains("pub fn tokenize(&mut self"))
        .unwrap();
    let end = start + lines[start..].iter().position(|l| *l == "    }").unwrap();
    let method: String = lines[start..=end]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let host = format!("struct Lexer;\n\nimpl Lexer {{\n{method}}}\n");
    std::fs::write(target.path().join("lexer.rs"), host).unwrap();

    let report = compare_json(origin.path(), target.path());
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        findings[0]["symbol"], "Lexer::tokenize",
        "{:?}",
        findings[0]
    );
    assert_eq!(findings[0]["origin"]["symbol"], "Tokenizer::tokenize");
    // The origin's byte range holds the method, as its lines do.
    let b = &findings[0]["origin"]["bytes"];
    let (a, b) = (
        b[0].as_u64().unwrap() as usize,
        b[1].as_u64().unwrap() as usize,
    );
    let copied = &source[a..b];
    assert!(copied.contains("pub fn tokenize(&mut self"), "{copied}");
    assert!(copied.len() >= method.len() / 2, "{copied}");
}

/// A license notice is not code: where comments are tokens (a properties
/// file, assembly), two files that share only their project's 14-line
/// header make no finding; the same files sharing code below it do.
/// (Tomcat's `.properties` files against Commons Pool's, and Go's assembly
/// against an x/net file holding only its notice, in the real cases.)
#[test]
fn a_shared_license_header_alone_is_no_finding() {
    let header: String = [
        "# Copyright (c) the Example Foundation and its contributors.",
        "# This file is part of the Example distribution and is licensed",
        "# to you under the terms of the Example Public License, version 2.",
        "# You may not use this file except in compliance with that license.",
        "# A copy of the license is distributed with this file in the file",
        "# named LICENSE at the top of the source tree, and can be read at",
        "# the address given in the README file of the same distribution.",
        "#",
        "# Unless required by applicable law or agreed to in writing, all",
        "# software distributed under the license is provided on an as is",
        "# basis, without warranties or conditions of any kind, either",
        "# expressed or implied. See the license for the specific terms",
        "# governing permissions and limitations under the license.",
        "",
    ]
    .iter()
    .map(|l| format!("{l}\n"))
    .collect();
    let messages: String = (0..12)
        .map(|i| format!("pool.entry{i}.label=Value number {i} of the pool catalogue\n"))
        .collect();
    let other: String = (0..12)
        .map(|i| {
            format!(
                "engine.worker[{i}] -> wait {} ms, then retry or give up\n",
                i * 7
            )
        })
        .collect();
    let origin = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    std::fs::write(
        origin.path().join("Messages.properties"),
        format!("{header}{messages}"),
    )
    .unwrap();
    std::fs::write(
        target.path().join("Strings.properties"),
        format!("{header}{other}"),
    )
    .unwrap();
    let report = compare_json(origin.path(), target.path());
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");

    std::fs::write(
        target.path().join("Strings.properties"),
        format!("{header}{messages}"),
    )
    .unwrap();
    let report = compare_json(origin.path(), target.path());
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert!(findings[0]["target_lines"][1].as_u64().unwrap() > 14);
}
