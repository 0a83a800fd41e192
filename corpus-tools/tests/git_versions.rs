//! A repository with two tags sharing files, built with the git CLI.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_tag_is_a_version_and_shared_blobs_are_visible() {
    if Command::new("git").arg("--version").output().is_err() {
        println!("SKIPPED: git CLI not installed");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let r = d.path().join("proj");
    std::fs::create_dir_all(r.join("src")).unwrap();
    git(&r, &["init", "-q"]);
    std::fs::write(r.join("LICENSE"), "MIT\n").unwrap();
    std::fs::write(
        r.join("src/a.c"),
        "/* Copyright (c) 2020 A. Person */\nint a;\n",
    )
    .unwrap();
    std::fs::write(
        r.join("src/b.c"),
        "// SPDX-License-Identifier: Apache-2.0\nint b1;\n",
    )
    .unwrap();
    git(&r, &["add", "."]);
    git(&r, &["commit", "-q", "-m", "one"]);
    git(&r, &["tag", "v1.0"]);
    std::fs::write(
        r.join("src/b.c"),
        "// SPDX-License-Identifier: Apache-2.0\nint b2;\n",
    )
    .unwrap();
    std::fs::write(r.join("src/c.c"), "int c;\n").unwrap();
    git(&r, &["add", "."]);
    git(&r, &["commit", "-q", "-m", "two"]);
    git(&r, &["tag", "-a", "v2.0", "-m", "annotated"]);
    git(&r, &["tag", "nightly"]);

    let opts = corpus::LoadOptions::new(d.path().join("cache"));
    // A directory containing .git means every tag.
    let all = corpus::load(
        &corpus::SourceSpec::parse(r.to_str().unwrap()).unwrap(),
        &opts,
    )
    .unwrap();
    assert_eq!(all.len(), 3);

    let spec = corpus::SourceSpec::parse(&format!("git:{}#v*", r.display())).unwrap();
    let versions = corpus::load(&spec, &opts).unwrap();
    let tags: Vec<_> = versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(tags, ["v1.0", "v2.0"]);
    assert!(versions.iter().all(|v| v.project == "proj"));
    let (v1, v2) = (&versions[0], &versions[1]);
    let paths = |v: &corpus::Version| v.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(v1), ["LICENSE", "src/a.c", "src/b.c"]);
    assert_eq!(paths(v2), ["LICENSE", "src/a.c", "src/b.c", "src/c.c"]);
    assert_eq!(v1.files[1].blob_id, v2.files[1].blob_id, "a.c shared");
    assert_ne!(v1.files[2].blob_id, v2.files[2].blob_id, "b.c changed");
    assert_eq!(v2.files[3].bytes, b"int c;\n");
    assert_eq!(v2.files[1].copyrights, ["Copyright (c) 2020 A. Person"]);
    let lic = |f: &corpus::CorpusFile| {
        f.license
            .as_ref()
            .map(|a| (a.expression.clone(), a.evidence))
    };
    assert_eq!(
        lic(&v2.files[1]),
        Some(("MIT".into(), corpus::Evidence::LicenseFile))
    );
    assert_eq!(
        lic(&v2.files[2]),
        Some(("Apache-2.0".into(), corpus::Evidence::SpdxTag))
    );

    let e = corpus::load(
        &corpus::SourceSpec::parse(&format!("git:{}#zzz*", r.display())).unwrap(),
        &opts,
    )
    .unwrap_err();
    assert!(e.to_string().contains("no tags matching"), "{e}");
}
