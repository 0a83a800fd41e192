//! License attribution on real packages, fetched at test time through the
//! machine's package clients into `$PROVSCAN_TESTDATA` (default
//! `~/.cache/provscan-testdata`).
//! A test skips (with a message) only when its client program is missing.

#[path = "../../tests/shared/mod.rs"]
mod shared;

use std::path::PathBuf;
use std::process::Command;

use corpus::{CorpusFile, Evidence, LoadOptions, SourceSpec, Version};

fn cache() -> PathBuf {
    shared::testdata()
}

fn have(program: &str) -> bool {
    let ok = Command::new(program).arg("--version").output().is_ok();
    if !ok {
        println!("SKIPPED: {program} is not installed");
    }
    ok
}

fn load_one(spec: &str) -> Version {
    let spec = SourceSpec::parse(spec).unwrap();
    let mut v = corpus::load(&spec, &LoadOptions::new(cache())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn file<'a>(v: &'a Version, path: &str) -> &'a CorpusFile {
    v.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in {}@{}", v.project, v.version))
}

fn lic(f: &CorpusFile) -> Option<(&str, Evidence, Option<&str>)> {
    f.license
        .as_ref()
        .map(|a| (a.expression.as_str(), a.evidence, a.source_path.as_deref()))
}

#[test]
fn crate_with_bundled_c_library() {
    if !have(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())) {
        return;
    }
    let v = load_one("crate:libz-sys@1.1.31");
    assert_eq!(
        (v.project.as_str(), v.version.as_str()),
        ("libz-sys", "1.1.31")
    );
    // The bundled zlib carries its own license file.
    let inflate = file(&v, "src/zlib/inflate.c");
    assert_eq!(
        lic(inflate),
        Some(("Zlib", Evidence::LicenseFile, Some("src/zlib/LICENSE")))
    );
    assert!(
        inflate.copyrights.iter().any(|c| c.contains("Mark Adler")),
        "{:?}",
        inflate.copyrights
    );
    // The crate's own code is dual-licensed per Cargo.toml (two license
    // files side by side do not say how they combine).
    assert_eq!(
        lic(file(&v, "src/lib.rs")),
        Some((
            "MIT OR Apache-2.0",
            Evidence::PackageMetadata,
            Some("Cargo.toml")
        ))
    );
}

#[test]
fn pypi_sdist() {
    if !have("pip") {
        return;
    }
    let v = load_one("pypi:six==1.16.0");
    assert_eq!((v.project.as_str(), v.version.as_str()), ("six", "1.16.0"));
    let six = file(&v, "six.py");
    assert_eq!(
        lic(six),
        Some(("MIT", Evidence::HeaderText, Some("six.py")))
    );
    assert!(
        six.copyrights
            .iter()
            .any(|c| c.contains("Benjamin Peterson")),
        "{:?}",
        six.copyrights
    );
    assert_eq!(lic(file(&v, "LICENSE")).map(|l| l.0), Some("MIT"));
}

#[test]
fn npm_package() {
    if !have("npm") {
        return;
    }
    let v = load_one("npm:ms@2.1.3");
    assert_eq!((v.project.as_str(), v.version.as_str()), ("ms", "2.1.3"));
    let (expr, evidence, _) = lic(file(&v, "index.js")).expect("index.js attributed");
    assert_eq!(expr, "MIT");
    assert!(
        matches!(evidence, Evidence::LicenseFile | Evidence::PackageMetadata),
        "{evidence:?}"
    );
}

#[test]
fn debian_source_with_dep5() {
    if !have("apt-get") {
        return;
    }
    // Needs deb-src entries: corpus-tools/scripts/enable-deb-src.sh.
    let v = load_one("deb:lz4");
    assert_eq!(v.project, "lz4");
    assert!(v.version.starts_with("1.9"), "{}", v.version);
    // debian/copyright: the package is BSD-2-clause, but programs/bench.c,
    // programs/platform.h and debian/* are GPL-2+.
    assert_eq!(
        lic(file(&v, "debian/rules")),
        Some(("GPL-2.0-or-later", Evidence::Dep5, Some("debian/copyright")))
    );
    assert_eq!(
        lic(file(&v, "programs/bench.c")).map(|l| l.0),
        Some("GPL-2.0-or-later")
    );
    assert_eq!(
        lic(file(&v, "programs/platform.h")).map(|l| l.0),
        Some("GPL-2.0-or-later")
    );
    assert_eq!(
        lic(file(&v, "lib/lz4.c")).map(|l| l.0),
        Some("BSD-2-Clause")
    );
    // lib/ has its own LICENSE (the 2-clause text): the nearest license
    // file outranks the stanza, which agrees.
    assert_eq!(
        lic(file(&v, "lib/README.md")),
        Some(("BSD-2-Clause", Evidence::LicenseFile, Some("lib/LICENSE")))
    );
    // The root LICENSE only describes which directories use which license:
    // it attributes nothing, so the stanza decides.
    assert_eq!(lic(file(&v, "LICENSE")).map(|l| l.1), Some(Evidence::Dep5));
}
