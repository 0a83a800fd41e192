//! License attribution on the real packages where it went wrong, and
//! text detection measured against declared licenses.
//!
//! Packages are fetched at test time through the machine's package clients
//! into `$PROVSCAN_TESTDATA` (default `~/.cache/provscan-testdata`); a test
//! skips (with a message) only when its client program is missing.
//!
//! The accuracy tests read real license files with the package's declared
//! license as the truth: the crates of this workspace's own dependency
//! graph (`cargo metadata`; cargo has fetched them from crates.io into
//! `CARGO_HOME`), and npm and PyPI packages chosen for licenses the crates
//! lack (BSD, ISC, 0BSD, MPL, GPL). The default suite checks a 30-file
//! sample of the crates; the whole set runs with
//! `cargo test --workspace --test license_truth -- --ignored --nocapture`.

#[path = "../../tests/shared/mod.rs"]
mod shared;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use corpus::license::{self, detect_licenses, license_ids, LicenseResolver};
use corpus::{CorpusFile, Evidence, LoadOptions, SourceSpec, Version};

fn have(program: &str) -> bool {
    let ok = Command::new(program).arg("--version").output().is_ok();
    if !ok {
        println!("SKIPPED: {program} is not installed");
    }
    ok
}

fn load_one(spec: &str) -> Version {
    let spec = SourceSpec::parse(spec).unwrap();
    let mut v = corpus::load(&spec, &LoadOptions::new(shared::testdata()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn file<'a>(v: &'a Version, path: &str) -> &'a CorpusFile {
    v.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in {}@{}", v.project, v.version))
}

/// Entries of a (compressed) tarball whose path ends with one of `names`.
fn tar_entries(archive: &Path, names: &[&str]) -> Vec<(String, Vec<u8>)> {
    let raw = std::fs::File::open(archive).unwrap();
    let name = archive.to_string_lossy();
    let reader: Box<dyn Read> = if name.ends_with(".xz") {
        Box::new(liblzma::read::XzDecoder::new(raw))
    } else {
        Box::new(flate2::read::GzDecoder::new(raw))
    };
    let mut out = Vec::new();
    let mut tar = tar::Archive::new(reader);
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        if names.iter().any(|n| path.ends_with(n)) {
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

fn deb_files(spec: &str) -> Vec<PathBuf> {
    let spec = SourceSpec::parse(spec).unwrap();
    match corpus::fetch::fetch(&spec, &shared::testdata(), &corpus::Tools::default())
        .unwrap_or_else(|e| panic!("{e}"))
    {
        corpus::fetch::Fetched::Debian { files, .. } => files,
        other => panic!("{other:?}"),
    }
}

#[test]
fn requests_apache_text_is_not_pixar() {
    if !have("pip") {
        return;
    }
    let v = load_one("pypi:requests==2.28.2");
    let lic = file(&v, "LICENSE");
    let d = detect_licenses(&String::from_utf8_lossy(&lic.bytes));
    assert_eq!(d.single(), Some("Apache-2.0"), "{d:?}");
    let a = lic.license.as_ref().expect("LICENSE attributed");
    assert_eq!(
        (a.expression.as_str(), a.evidence),
        ("Apache-2.0", Evidence::LicenseFile)
    );
    let api = file(&v, "requests/api.py").license.as_ref().unwrap();
    assert_eq!(api.expression, "Apache-2.0");
}

#[test]
fn go_tree_is_bsd3_and_its_dep5_go_paragraph_agrees() {
    if !have("apt-get") {
        return;
    }
    // Needs deb-src entries: corpus-tools/scripts/enable-deb-src.sh.
    let files = deb_files("deb:golang-1.19");
    let find = |part: &str| {
        files
            .iter()
            .find(|f| f.to_string_lossy().contains(part))
            .unwrap()
    };
    let copyright = tar_entries(find(".debian.tar."), &["debian/copyright"]);
    let license = tar_entries(find(".orig.tar.gz"), &["go/LICENSE"]);
    let (cr, lic) = (&copyright[0].1, &license[0].1);
    let stanzas = license::parse_dep5(&String::from_utf8_lossy(cr)).unwrap();
    let all = stanzas
        .iter()
        .find(|s| s.patterns.iter().any(|p| p == "*"))
        .unwrap();
    assert_eq!(all.license, "Go");
    assert_eq!(all.expression.as_deref(), Some("BSD-3-Clause"));
    let tree: Vec<(&str, &[u8])> = vec![("LICENSE", lic), ("debian/copyright", cr)];
    let r = LicenseResolver::new(&tree, None);
    let print = b"// Copyright 2009 The Go Authors. All rights reserved.\n// Use of this source code is governed by a BSD-style\n// license that can be found in the LICENSE file.\n\npackage fmt\n";
    let a = r.for_file("src/fmt/print.go", print).unwrap();
    assert_eq!(
        (a.expression.as_str(), a.evidence, a.source_path.as_deref()),
        ("BSD-3-Clause", Evidence::LicenseFile, Some("LICENSE"))
    );
    assert!(a.competing.is_empty(), "{:?}", a.competing);
    assert_eq!(r.project_license().as_deref(), Some("BSD-3-Clause"));
    // The vendored pprof is Apache-2.0 by its stanza, which competes with
    // the tree's LICENSE (the nearest license file in this two-file tree).
    let a = r
        .for_file(
            "src/cmd/vendor/github.com/google/pprof/driver/driver.go",
            b"package driver\n",
        )
        .unwrap();
    assert!(
        a.competing
            .iter()
            .any(|c| c.expression == "Apache-2.0" && c.evidence == Evidence::Dep5),
        "{a:?}"
    );
}

#[test]
fn libgit2_gpl2_with_linking_exception() {
    if !have("apt-get") {
        return;
    }
    // The security update's files are not on every mirror: the point
    // release's version of the same source.
    let v = load_one("deb:libgit2=1.5.1+ds-1+deb12u1");
    let a = file(&v, "src/libgit2/repository.c")
        .license
        .as_ref()
        .unwrap();
    assert_eq!(
        (a.expression.as_str(), a.evidence),
        ("GPL-2.0-only WITH GCC-exception-2.0", Evidence::Dep5)
    );
    assert_eq!(
        v.declared_license.as_deref(),
        Some("GPL-2.0-only WITH GCC-exception-2.0")
    );
    // A stanza with a standard short name.
    let x = file(&v, "src/libgit2/xdiff/xdiffi.c")
        .license
        .as_ref()
        .unwrap();
    assert_eq!(x.expression, "LGPL-2.1-or-later");
}

#[test]
fn readline_copying_is_gpl3_and_notices_say_or_later() {
    if !have("apt-get") {
        return;
    }
    let v = load_one("deb:readline");
    let copying = file(&v, "COPYING");
    let d = detect_licenses(&String::from_utf8_lossy(&copying.bytes));
    assert_eq!(d.single(), Some("GPL-3.0-only"), "{d:?}");
    // The text alone gives the version; the sources' notices add "or later".
    let a = copying.license.as_ref().unwrap();
    assert_eq!(
        (a.expression.as_str(), a.evidence),
        ("GPL-3.0-only", Evidence::LicenseFile)
    );
    let src = file(&v, "readline.c").license.as_ref().unwrap();
    assert_eq!(
        (src.expression.as_str(), src.evidence),
        ("GPL-3.0-or-later", Evidence::HeaderText)
    );
}

#[test]
fn hunspell_tri_license_headers_stay_whole() {
    if !have("apt-get") {
        return;
    }
    let v = load_one("deb:hunspell");
    let tri = "MPL-1.1 OR GPL-2.0-or-later OR LGPL-2.1-or-later";
    let a = file(&v, "src/parsers/textparser.cxx")
        .license
        .as_ref()
        .unwrap();
    assert_eq!(
        (a.expression.as_str(), a.evidence),
        (tri, Evidence::HeaderText)
    );
    // affixmgr.cxx adds MySpell's own BSD-style terms, which are on no
    // list: the notice alone would drop their conditions.
    let a = file(&v, "src/hunspell/affixmgr.cxx").license.as_ref();
    assert!(
        a.is_none_or(|a| a.evidence != Evidence::HeaderText),
        "{a:?}"
    );
}

/// One license file of a crate with the license its declaration gives it.
struct Truth {
    path: PathBuf,
    declared: String,
    want: Vec<String>,
}

/// The id a license file's name points to among the declared ones
/// (`LICENSE-MIT` → MIT); for a single declared license, that one.
fn truth_for(file_name: &str, declared: &str) -> Option<Vec<String>> {
    let expr = license::normalize(declared)?;
    if expr.contains(" WITH ") || expr.contains("AND") {
        return None;
    }
    let ids = license_ids(&expr);
    let lower = file_name.to_ascii_lowercase();
    let hints = [
        ("apache", "Apache-2.0"),
        ("mit", "MIT"),
        ("unlicense", "Unlicense"),
        ("zlib", "Zlib"),
        ("boost", "BSL-1.0"),
        ("bsl", "BSL-1.0"),
        ("isc", "ISC"),
        ("mpl", "MPL-2.0"),
        ("cc0", "CC0-1.0"),
        ("0bsd", "0BSD"),
    ];
    let named: Vec<&str> = hints
        .iter()
        .filter(|(h, _)| lower.contains(h))
        .map(|(_, id)| *id)
        .collect();
    match named.as_slice() {
        // LICENSE, COPYING: the declared license when there is one.
        [] if ids.len() == 1 => Some(ids),
        // LICENSE-MIT: the declared license it names; a file naming a
        // license the crate does not declare has no truth here.
        [one] if ids.iter().any(|i| i == one) => Some(vec![one.to_string()]),
        _ => None,
    }
}

/// The host's target triple: `cargo metadata` of every platform would need
/// the Windows-only crates of the lock file, which a build on this host
/// never downloads (a fresh machine has none of them).
fn host_triple() -> String {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_string()
}

fn crate_license_files() -> Vec<Truth> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host_triple()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut truths = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        if p["source"].is_null() {
            continue;
        }
        let Some(declared) = p["license"].as_str() else {
            continue;
        };
        let dir = Path::new(p["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap();
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| license::is_license_file(n) == Some(license::LicenseFileKind::License))
            .collect();
        names.sort();
        for n in names {
            if let Some(want) = truth_for(&n, declared) {
                truths.push(Truth {
                    path: dir.join(&n),
                    declared: declared.to_string(),
                    want,
                });
            }
        }
    }
    truths.sort_by(|a, b| a.path.cmp(&b.path));
    truths
}

/// Detects each file; returns (right, total) and prints the misses.
fn measure(truths: &[Truth]) -> (usize, usize) {
    let mut right = 0;
    for t in truths {
        let bytes = std::fs::read(&t.path).unwrap();
        let got = license::license_file_expression(&bytes);
        let got_ids = got.as_deref().map(license_ids).unwrap_or_default();
        if got_ids == t.want {
            right += 1;
        } else {
            println!(
                "MISS {} (declared {}): got {:?}",
                t.path.display(),
                t.declared,
                got
            );
        }
    }
    (right, truths.len())
}

#[test]
fn declared_licenses_of_a_crate_sample() {
    let all = crate_license_files();
    assert!(all.len() >= 200, "only {} license files", all.len());
    // Every n-th file: a fixed, spread-out sample of 30.
    let step = all.len() / 30;
    let sample: Vec<Truth> = all.into_iter().step_by(step).take(30).collect();
    let (right, total) = measure(&sample);
    let accuracy = right as f64 / total as f64;
    println!("license files: {total}, right: {right}, accuracy: {accuracy:.3}");
    assert!(accuracy >= 0.97, "accuracy {accuracy:.3}");
}

/// Registry packages with one declared license (package.json / PKG-INFO)
/// other than the MIT and Apache-2.0 that dominate the crates.
const PACKAGES: &[&str] = &[
    "npm:inherits@2.0.4",
    "npm:once@1.4.0",
    "npm:wrappy@1.0.2",
    "npm:semver@7.5.4",
    "npm:lru-cache@6.0.0",
    "npm:minimatch@3.1.2",
    "npm:rimraf@3.0.2",
    "npm:glob@7.2.3",
    "npm:esprima@4.0.1",
    "npm:uri-js@4.4.1",
    "npm:entities@2.2.0",
    "npm:esutils@2.0.3",
    "npm:estraverse@5.3.0",
    "npm:source-map@0.6.1",
    "npm:qs@6.11.0",
    "npm:tslib@2.6.2",
    "npm:long@5.2.3",
    "npm:ms@2.1.3",
    "npm:argparse@2.0.1",
    "npm:fastq@1.15.0",
    "npm:sprintf-js@1.0.3",
    "npm:json-schema@0.4.0",
    "npm:dompurify@2.4.7",
    "pypi:certifi==2023.7.22",
    "pypi:idna==3.4",
    "pypi:six==1.16.0",
    "pypi:requests==2.28.2",
];

fn package_license_files() -> Vec<Truth> {
    let mut truths = Vec::new();
    for spec in PACKAGES {
        let client = if spec.starts_with("npm:") {
            "npm"
        } else {
            "pip"
        };
        if !have(client) {
            continue;
        }
        let v = load_one(spec);
        let Some(declared) = v.declared_license.clone() else {
            println!("{spec}: no declared license");
            continue;
        };
        let dir = shared::testdata()
            .join("license-truth")
            .join(spec.replace([':', '@', '='], "_"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in &v.files {
            let name = f.path.as_str();
            if name.contains('/')
                || license::is_license_file(name) != Some(license::LicenseFileKind::License)
            {
                continue;
            }
            if let Some(want) = truth_for(name, &declared) {
                let path = dir.join(name);
                std::fs::write(&path, &f.bytes).unwrap();
                truths.push(Truth {
                    path,
                    declared: declared.clone(),
                    want,
                });
            }
        }
    }
    truths
}

#[test]
#[ignore = "about 400 files and 27 registry downloads"]
fn declared_licenses_of_all_dependency_crates_and_packages() {
    let mut all = crate_license_files();
    let packages = package_license_files();
    let (right, total) = measure(&packages);
    println!("registry packages: license files: {total}, right: {right}");
    all.extend(packages);
    let (right, total) = measure(&all);
    let accuracy = right as f64 / total as f64;
    println!("license files: {total}, right: {right}, accuracy: {accuracy:.3}");
    assert!(total >= 200, "only {total} license files");
    assert!(accuracy >= 0.97, "accuracy {accuracy:.3}");
}
