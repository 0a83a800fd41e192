//! End-to-end tests of the corpus sources through the real `provscan`
//! binary: `index add` on every source kind (a local archive with an archive
//! inside it, a git repository's tags, crates.io, PyPI, npm, a Debian source
//! package), `index build` from a corpus.toml manifest, per-file license
//! attribution on real packages as the JSON report shows it, and a hostile
//! archive.
//!
//! Local fixtures (archives, git repositories, C files) are built by the
//! tests. Registry downloads are cached in `$PROVSCAN_TESTDATA` (default
//! `~/.cache/provscan-testdata`), never in the repository. A registry test
//! skips, with a message, only when its client program is missing.

#[path = "shared/mod.rs"]
mod shared;

use std::path::{Path, PathBuf};

use shared::{describe, run_ok, testdata};
use std::process::{Command, Output};

use serde_json::Value;

// ---------------------------------------------------------------------------
// Running provscan
// ---------------------------------------------------------------------------

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_provscan"))
}

/// `provscan` with no index taken from the environment.
fn provscan() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("PROVSCAN_INDEX")
        .env_remove("PROVSCAN_TEST_KILL_AT");
    c
}

/// `provscan index SUB --index INDEX ARGS…`
fn index_cmd(index: &Path, sub: &str, args: &[&str]) -> Command {
    let mut c = provscan();
    c.args(["index", sub, "--index"]).arg(index).args(args);
    c
}

fn json_of(what: &str, out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e})\n{}", describe(what, out)))
}

/// `index add SPEC --json [extra…]`, which must succeed: the add summaries.
fn add_json(index: &Path, spec: &str, extra: &[&str]) -> Vec<Value> {
    let what = format!("index add {spec}");
    let mut args = vec![spec, "--json"];
    args.extend_from_slice(extra);
    let out = run_ok(&what, &mut index_cmd(index, "add", &args));
    match json_of(&what, &out) {
        Value::Array(a) => a,
        other => panic!("{what}: expected an array of summaries, got {other}"),
    }
}

/// `index list --json`.
fn list_json(index: &Path) -> Vec<Value> {
    let out = run_ok(
        "index list --json",
        &mut index_cmd(index, "list", &["--json"]),
    );
    match json_of("index list --json", &out) {
        Value::Array(a) => a,
        other => panic!("index list --json: expected an array, got {other}"),
    }
}

/// The listed versions as sorted `(project, version)` pairs.
fn listed_ids(index: &Path) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = list_json(index)
        .iter()
        .map(|v| (str_of(&v["project"]), str_of(&v["version"])))
        .collect();
    ids.sort();
    ids
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected an integer, got {v}"))
}

/// `provscan scan DIR --index INDEX --format json`: the report.
fn scan_json(index: &Path, dir: &Path) -> Value {
    let mut c = provscan();
    c.arg("scan")
        .arg(dir)
        .arg("--index")
        .arg(index)
        .args(["--format", "json"]);
    let out = run_ok("scan", &mut c);
    json_of("scan", &out)
}

/// The finding for target file `path` in a report (exactly one expected).
fn finding<'a>(report: &'a Value, path: &str) -> &'a Value {
    let all = report["findings"].as_array().expect("findings array");
    let mut hits = all.iter().filter(|f| f["path"] == path);
    let first = hits
        .next()
        .unwrap_or_else(|| panic!("no finding for {path} in {report:#}"));
    assert!(
        hits.next().is_none(),
        "several findings for {path}: {report:#}"
    );
    first
}

/// Checks that `target` is reported as a whole-file copy of
/// `project@version:path` under `license`, attributed by `evidence`.
fn assert_whole_file(
    report: &Value,
    target: &str,
    (project, version, path): (&str, &str, &str),
    (license, evidence): (&str, &str),
) {
    let f = finding(report, target);
    let o = &f["origin"];
    assert_eq!(f["kind"], "file", "{target}: {f:#}");
    assert_eq!(
        (
            o["project"].as_str(),
            o["version"].as_str(),
            o["path"].as_str()
        ),
        (Some(project), Some(version), Some(path)),
        "{target}: {f:#}"
    );
    assert_eq!(
        (o["license"].as_str(), o["license_evidence"].as_str()),
        (Some(license), Some(evidence)),
        "license of {project}:{path}: {f:#}"
    );
}

/// True when `program --version` runs; otherwise says the test is skipped.
fn have(program: &str, test: &str) -> bool {
    let ok = Command::new(program).arg("--version").output().is_ok();
    if !ok {
        eprintln!("SKIPPED {test}: {program} is not installed");
    }
    ok
}

// ---------------------------------------------------------------------------
// Fixtures: C source, tar, zip and gzip writers
// ---------------------------------------------------------------------------

/// A plausible C file, different for every `seed`.
fn c_source(seed: u32, functions: u32) -> String {
    let mut s = format!(
        "#include <stddef.h>\n#include <stdint.h>\n\n/* module {seed}: checksums and small tables */\n\n\
         static const uint32_t weights_{seed}[] = {{ {}, {}, {}, {} }};\n\n",
        seed * 7 + 1,
        seed * 11 + 3,
        seed * 13 + 5,
        seed * 17 + 9
    );
    for i in 0..functions {
        let body = match (seed + i) % 3 {
            0 => format!(
                "    uint32_t acc = {a}u;\n    for (size_t k = 0; k < count; k++) {{\n        if (values[k] % {m} == 0)\n            acc += values[k] * weights_{seed}[k & 3];\n        else\n            acc ^= values[k] << {sh};\n    }}\n    return acc;\n",
                a = seed * 31 + i,
                m = i + 2,
                sh = i % 5 + 1
            ),
            1 => format!(
                "    uint32_t lo = 0, hi = {a}u;\n    size_t k = count;\n    while (k-- > 0) {{\n        lo = (lo + values[k]) % 65521u;\n        hi = (hi + lo) % 65521u;\n        if (hi > {lim}u)\n            break;\n    }}\n    return (hi << 16) | lo;\n",
                a = seed + i,
                lim = 60000 - i
            ),
            _ => format!(
                "    uint32_t best = 0;\n    for (size_t k = 1; k < count; k++) {{\n        uint32_t d = values[k] > values[k - 1] ? values[k] - values[k - 1] : values[k - 1] - values[k];\n        best = d > best ? d : best;\n    }}\n    return best + {a}u;\n",
                a = seed * 3 + i
            ),
        };
        s.push_str(&format!(
            "uint32_t m{seed}_step{i}(const uint32_t *values, size_t count)\n{{\n{body}}}\n\n"
        ));
    }
    s
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Writes `v` in octal, zero-padded, NUL-terminated, into a tar header field.
fn tar_octal(field: &mut [u8], v: u64) {
    let width = field.len() - 1;
    let s = format!("{v:0width$o}");
    field[..width].copy_from_slice(s.as_bytes());
    field[width] = 0;
}

/// A ustar archive of regular files, names taken as given (even hostile).
fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        assert!(name.len() < 100, "name too long for this writer: {name}");
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        tar_octal(&mut h[100..108], 0o644);
        tar_octal(&mut h[108..116], 1000);
        tar_octal(&mut h[116..124], 1000);
        tar_octal(&mut h[124..136], data.len() as u64);
        tar_octal(&mut h[136..148], 1_700_000_000);
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        // The checksum is computed with its own field set to spaces.
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A zip archive of stored (uncompressed) files.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    fn u16le(v: &mut Vec<u8>, x: u16) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    fn u32le(v: &mut Vec<u8>, x: u32) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    // Fields shared by the local and the central header, from "version
    // needed" to the extra field length.
    fn common(v: &mut Vec<u8>, crc: u32, size: u32, name: &str) {
        u16le(v, 20); // version needed: 2.0
        u16le(v, 0); // flags
        u16le(v, 0); // method: stored
        u16le(v, 0); // time 00:00
        u16le(v, 0x21); // date 1980-01-01
        u32le(v, crc);
        u32le(v, size); // compressed size
        u32le(v, size); // uncompressed size
        u16le(v, name.len() as u16);
        u16le(v, 0); // extra field length
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let (crc, size) = (crc32(data), data.len() as u32);
        u32le(&mut out, 0x0403_4b50);
        common(&mut out, crc, size, name);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, (3 << 8) | 20); // made by: unix, 2.0
        common(&mut central, crc, size, name);
        u16le(&mut central, 0); // comment length
        u16le(&mut central, 0); // disk number
        u16le(&mut central, 0); // internal attributes
        u32le(&mut central, 0o100644 << 16); // external: regular file 0644
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0); // this disk
    u16le(&mut out, 0); // disk with the central directory
    u16le(&mut out, entries.len() as u16);
    u16le(&mut out, entries.len() as u16);
    u32le(&mut out, cd_size);
    u32le(&mut out, cd_offset);
    u16le(&mut out, 0); // comment length
    out
}

/// A gzip member holding `data` in stored deflate blocks.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    if data.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    let mut chunks = data.chunks(65_535).peekable();
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none())); // BFINAL, BTYPE=00
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// Every file under `root` (recursively), sorted.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The downloaded file named `name` somewhere under `dir` (the fetch cache).
fn cached(dir: &Path, name: &str) -> PathBuf {
    files_under(dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("{name} not found under {} after the add", dir.display()))
}

/// Copies the members of the gzipped tarball `archive` whose paths end
/// with `/SUFFIX` into `dest`, each under its own file name, with GNU tar.
fn extract_members(archive: &Path, suffixes: &[&str], dest: &Path) {
    let unpack = tempfile::tempdir().unwrap();
    let mut c = Command::new("tar");
    c.arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(unpack.path())
        .arg("--wildcards");
    for s in suffixes {
        c.arg(format!("*/{s}"));
    }
    run_ok(&format!("tar -xzf {}", archive.display()), &mut c);
    let found = files_under(unpack.path());
    std::fs::create_dir_all(dest).unwrap();
    for s in suffixes {
        let src = found
            .iter()
            .find(|p| p.ends_with(s))
            .unwrap_or_else(|| panic!("{s} not in {}", archive.display()));
        std::fs::copy(src, dest.join(src.file_name().unwrap())).unwrap();
    }
}

// ---------------------------------------------------------------------------
// 1. A local archive with an archive inside it
// ---------------------------------------------------------------------------

#[test]
fn local_archive_with_a_nested_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    let nested_c = c_source(101, 8);
    let inner = zip(&[
        ("deep/nested.c", nested_c.as_bytes()),
        ("deep/notes.txt", b"Notes that travel with the bundle.\n"),
    ]);
    let main_c = c_source(102, 6);
    let outer = gzip(&tar(&[
        ("widget-1.0/main.c", main_c.as_bytes()),
        ("widget-1.0/README", b"widget: a test fixture\n"),
        ("widget-1.0/vendor/bundle.zip", &inner),
    ]));
    let archive = tmp.path().join("widget-1.0.tar.gz");
    std::fs::write(&archive, outer).unwrap();

    let added = add_json(
        &index,
        archive.to_str().unwrap(),
        &[
            "--project",
            "widget",
            "--version",
            "1.0.0",
            "--license",
            "MIT",
        ],
    );
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0]["already_present"], false);

    // The zip is replaced by its two files: 4 files in all.
    let listed = list_json(&index);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let v = &listed[0];
    assert_eq!(
        (v["project"].as_str(), v["version"].as_str()),
        (Some("widget"), Some("1.0.0"))
    );
    assert_eq!(u64_of(&v["files"]), 4, "{v:#}");
    assert_eq!(u64_of(&added[0]["files"]), 4, "{:#}", added[0]);

    // A copy of the nested file is found whole, its origin written with the
    // nested-archive notation (the single top directory stripped).
    let target = tmp.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("copied.c"), &nested_c).unwrap();
    let report = scan_json(&index, &target);
    let f = finding(&report, "copied.c");
    let origin_path = str_of(&f["origin"]["path"]);
    assert!(origin_path.contains("!/"), "{f:#}");
    assert_whole_file(
        &report,
        "copied.c",
        ("widget", "1.0.0", "vendor/bundle.zip!/deep/nested.c"),
        ("MIT", "declared"),
    );
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------
// 2. git tags
// ---------------------------------------------------------------------------

/// `git -C repo ARGS…` with a fixed identity and no user or system config.
fn git(repo: &Path, args: &[&str]) {
    let mut c = Command::new("git");
    c.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.name=Provscan Test",
            "-c",
            "user.email=test@provscan.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-C",
        ])
        .arg(repo)
        .args(args);
    run_ok(&format!("git {}", args.join(" ")), &mut c);
}

fn summary<'a>(summaries: &'a [Value], version: &str) -> &'a Value {
    summaries
        .iter()
        .find(|s| s["version"] == version)
        .unwrap_or_else(|| panic!("no summary for {version}: {summaries:#?}"))
}

#[test]
fn git_tags_become_versions_and_share_contents() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("gadget");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "."]);
    std::fs::write(repo.join("core.c"), c_source(201, 6)).unwrap();
    std::fs::write(repo.join("util.c"), c_source(202, 5)).unwrap();
    std::fs::write(repo.join("README"), "gadget\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["tag", "v1.0"]); // lightweight
    std::fs::write(repo.join("extra.c"), c_source(203, 4)).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "second"]);
    git(&repo, &["tag", "-a", "v1.1", "-m", "release 1.1"]); // annotated

    // Every tag is a version named after it; v1.1 reuses the three files it
    // shares with v1.0 and brings one new content.
    let index = tmp.path().join("idx");
    let spec = format!("git:{}", repo.display());
    let added = add_json(&index, &spec, &[]);
    assert_eq!(added.len(), 2, "{added:#?}");
    let (first, second) = (summary(&added, "v1.0"), summary(&added, "v1.1"));
    assert_eq!(
        (u64_of(&first["files"]), u64_of(&first["new_contents"])),
        (3, 3),
        "{first:#}"
    );
    assert_eq!(
        (
            u64_of(&second["files"]),
            u64_of(&second["new_contents"]),
            u64_of(&second["reused_contents"])
        ),
        (4, 1, 3),
        "{second:#}"
    );
    assert_eq!(
        listed_ids(&index),
        [
            ("gadget".into(), "v1.0".into()),
            ("gadget".into(), "v1.1".into())
        ]
    );

    // A third tag outside v1.*.
    std::fs::write(repo.join("extra.c"), c_source(204, 4)).unwrap();
    git(&repo, &["commit", "-q", "-a", "-m", "third"]);
    git(&repo, &["tag", "v2.0"]);

    // The glob picks only the matching tags.
    let globbed = tmp.path().join("idx-glob");
    let added = add_json(&globbed, &format!("{spec}#v1.*"), &[]);
    let mut versions: Vec<String> = added.iter().map(|s| str_of(&s["version"])).collect();
    versions.sort();
    assert_eq!(versions, ["v1.0", "v1.1"], "{added:#?}");
    assert_eq!(
        listed_ids(&globbed),
        [
            ("gadget".into(), "v1.0".into()),
            ("gadget".into(), "v1.1".into())
        ]
    );

    // Adding the whole repository again only adds the new tag.
    let again = add_json(&index, &spec, &[]);
    assert_eq!(
        summary(&again, "v1.0")["already_present"],
        true,
        "{again:#?}"
    );
    assert_eq!(
        summary(&again, "v1.1")["already_present"],
        true,
        "{again:#?}"
    );
    let third = summary(&again, "v2.0");
    assert_eq!(third["already_present"], false, "{third:#}");
    assert_eq!(
        (
            u64_of(&third["new_contents"]),
            u64_of(&third["reused_contents"])
        ),
        (1, 3),
        "{third:#}"
    );
    assert_eq!(list_json(&index).len(), 3);
}

// ---------------------------------------------------------------------------
// 3. Registries
// ---------------------------------------------------------------------------

/// Adds one registry spec into a fresh index and checks the listed
/// project and version.
fn add_registry_spec(index: &Path, spec: &str, project: &str, version: &str) {
    let cache = testdata();
    let added = add_json(index, spec, &["--cache-dir", cache.to_str().unwrap()]);
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(
        listed_ids(index),
        [(project.to_string(), version.to_string())]
    );
    let v = &list_json(index)[0];
    assert_eq!(v["source_spec"], spec, "{v:#}");
    assert!(u64_of(&v["files"]) >= 3, "{v:#}");
}

#[test]
fn crate_license_from_cargo_metadata() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    if !have(&cargo, "crate_license_from_cargo_metadata") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    add_registry_spec(&index, "crate:itoa@1.0.11", "itoa", "1.0.11");
    // No --license given: the project license comes from Cargo.toml.
    assert_eq!(
        list_json(&index)[0]["declared_license"],
        "MIT OR Apache-2.0"
    );
    let target = tmp.path().join("target");
    let crate_file = cached(&testdata().join("crates"), "itoa-1.0.11.crate");
    extract_members(&crate_file, &["src/udiv128.rs"], &target);
    let report = scan_json(&index, &target);
    // Two license files at the top; Cargo.toml's `license` settles it.
    assert_whole_file(
        &report,
        "udiv128.rs",
        ("itoa", "1.0.11", "src/udiv128.rs"),
        ("MIT OR Apache-2.0", "package-metadata"),
    );
}

#[test]
fn pypi_license_from_the_file_header() {
    if !have("pip", "pypi_license_from_the_file_header") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    add_registry_spec(&index, "pypi:six==1.16.0", "six", "1.16.0");
    let target = tmp.path().join("target");
    let sdist = cached(&testdata().join("pypi"), "six-1.16.0.tar.gz");
    extract_members(&sdist, &["six.py"], &target);
    let report = scan_json(&index, &target);
    assert_whole_file(
        &report,
        "six.py",
        ("six", "1.16.0", "six.py"),
        ("MIT", "header-text"),
    );
    let copyright = report["findings"][0]["origin"]["copyright"].to_string();
    assert!(copyright.contains("Benjamin Peterson"), "{copyright}");
}

#[test]
fn npm_license_from_the_license_file() {
    if !have("npm", "npm_license_from_the_license_file") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    add_registry_spec(&index, "npm:ms@2.1.3", "ms", "2.1.3");
    let target = tmp.path().join("target");
    let tgz = cached(&testdata().join("npm"), "ms-2.1.3.tgz");
    extract_members(&tgz, &["index.js"], &target);
    let report = scan_json(&index, &target);
    assert_whole_file(
        &report,
        "index.js",
        ("ms", "2.1.3", "index.js"),
        ("MIT", "license-file"),
    );
}

// ---------------------------------------------------------------------------
// 4. Debian DEP-5 with embedded third-party code
// ---------------------------------------------------------------------------

/// redis 7.0.15's debian/copyright says `Files: *` is BSD-3-clause, and
/// names deps/jemalloc/*, deps/hiredis/* (BSD-3-clause) and deps/lua/*
/// (MIT) in their own stanzas. Each of these directories also carries its
/// own license file, which outranks the stanza (precedence in
/// `corpus-tools/src/license.rs`): jemalloc's COPYING is the 2-clause text,
/// so its files are BSD-2-Clause although the stanza lumps them under
/// BSD-3-clause (the stanza is kept as competing evidence).
#[test]
fn debian_dep5_attributes_embedded_code() {
    if !have("apt-get", "debian_dep5_attributes_embedded_code") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    // Pinned: the mirror here lacks older security uploads.
    let version = "5:7.0.15-1~deb12u7";
    let spec = format!("deb:redis={version}");
    let cache = testdata();
    let added = add_json(&index, &spec, &["--cache-dir", cache.to_str().unwrap()]);
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(
        listed_ids(&index),
        [("redis".to_string(), version.to_string())]
    );
    assert!(u64_of(&list_json(&index)[0]["files"]) > 1000);
    // The package's own license, from the `Files: *` stanza.
    assert_eq!(list_json(&index)[0]["declared_license"], "BSD-3-Clause");

    let orig = cached(&cache.join("deb"), "redis_7.0.15.orig.tar.gz");
    let target = tmp.path().join("target");
    let members = [
        "deps/lua/src/lapi.c",
        "deps/jemalloc/src/bitmap.c",
        "deps/hiredis/test.c",
        "src/lazyfree.c",
    ];
    extract_members(&orig, &members, &target);
    let report = scan_json(&index, &target);
    let expect = [
        ("lapi.c", "deps/lua/src/lapi.c", "MIT"),
        ("bitmap.c", "deps/jemalloc/src/bitmap.c", "BSD-2-Clause"),
        ("test.c", "deps/hiredis/test.c", "BSD-3-Clause"),
        ("lazyfree.c", "src/lazyfree.c", "BSD-3-Clause"),
    ];
    for (copy, origin, license) in expect {
        assert_whole_file(
            &report,
            copy,
            ("redis", version, origin),
            (license, "license-file"),
        );
    }
}

/// lz4 1.9.4's debian/copyright says `Files: *` is BSD-2-clause and names
/// two examples (BSD-2-clause, as their headers say) although
/// `examples/COPYING` is the GPL: a stanza naming the file outranks the
/// directory's license file. lz4 also ships its own packaging template as
/// `contrib/debian/`, whose `copyright` (GPL-2+) is not Debian's statement
/// about `contrib/`: the meson build files there are BSD-2-Clause by the
/// top stanza.
#[test]
fn debian_dep5_stanzas_naming_a_file_and_packaging_templates() {
    if !have(
        "apt-get",
        "debian_dep5_stanzas_naming_a_file_and_packaging_templates",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    let version = "1.9.4-1";
    let cache = testdata();
    add_json(
        &index,
        &format!("deb:lz4={version}"),
        &["--cache-dir", cache.to_str().unwrap()],
    );
    let orig = cached(&cache.join("deb"), "lz4_1.9.4.orig.tar.gz");
    let target = tmp.path().join("target");
    extract_members(
        &orig,
        &["examples/simple_buffer.c", "contrib/meson/meson.build"],
        &target,
    );
    let report = scan_json(&index, &target);
    assert_whole_file(
        &report,
        "simple_buffer.c",
        ("lz4", version, "examples/simple_buffer.c"),
        ("BSD-2-Clause", "dep5-file"),
    );
    assert_whole_file(
        &report,
        "meson.build",
        ("lz4", version, "contrib/meson/meson.build"),
        ("BSD-2-Clause", "dep5"),
    );
}

// ---------------------------------------------------------------------------
// 5. index build from a manifest
// ---------------------------------------------------------------------------

#[test]
fn index_build_adds_what_it_can_and_is_idempotent() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    if !have(&cargo, "index_build_adds_what_it_can_and_is_idempotent") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let local = corpus.join("local-src");
    std::fs::create_dir_all(&local).unwrap();
    let local_c = c_source(501, 7);
    std::fs::write(local.join("engine.c"), &local_c).unwrap();
    std::fs::write(local.join("engine_test.c"), c_source(502, 3)).unwrap();
    // Relative specs resolve against the manifest's directory.
    let manifest = corpus.join("corpus.toml");
    std::fs::write(
        &manifest,
        "[[source]]\nspec = \"local-src\"\nproject = \"localproj\"\nversion = \"0.1\"\nlicense = \"MIT\"\n\n\
         [[source]]\nspec = \"no-such-dir/nothing-here\"\n\n\
         [[source]]\nspec = \"crate:itoa@1.0.14\"\n",
    )
    .unwrap();
    let index = tmp.path().join("idx");
    let cache = testdata();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let build = |json: bool| {
        let mut c = provscan();
        c.current_dir(&elsewhere)
            .args(["index", "build", "--index"])
            .arg(&index)
            .arg(&manifest)
            .arg("--cache-dir")
            .arg(&cache);
        if json {
            c.arg("--json");
        }
        c.output().unwrap()
    };

    let out = build(true);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("first build", &out)
    );
    let r = json_of("first build", &out);
    let sources = r["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 3, "{r:#}");
    assert_eq!(
        sources[0]["added"],
        serde_json::json!(["localproj@0.1"]),
        "{r:#}"
    );
    assert!(sources[0]["error"].is_null(), "{r:#}");
    assert_eq!(sources[1]["spec"], "no-such-dir/nothing-here");
    assert_eq!(sources[1]["added"], serde_json::json!([]), "{r:#}");
    let err = str_of(&sources[1]["error"]);
    assert!(err.contains("no-such-dir/nothing-here"), "{err}");
    assert_eq!(
        sources[2]["added"],
        serde_json::json!(["itoa@1.0.14"]),
        "{r:#}"
    );
    assert!(sources[2]["error"].is_null(), "{r:#}");
    let versions = r["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "{r:#}");
    assert!(
        versions.iter().all(|v| v["already_present"] == false),
        "{r:#}"
    );
    let ids = listed_ids(&index);
    assert_eq!(
        ids,
        [
            ("itoa".to_string(), "1.0.14".to_string()),
            ("localproj".to_string(), "0.1".to_string())
        ]
    );
    let listed_before = list_json(&index);

    // The manifest's license is the fallback attribution of the local files.
    let target = tmp.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("engine.c"), &local_c).unwrap();
    let report = scan_json(&index, &target);
    assert_whole_file(
        &report,
        "engine.c",
        ("localproj", "0.1", "engine.c"),
        ("MIT", "declared"),
    );

    // Again: everything good is already indexed, nothing is re-added, and the
    // bad source still fails.
    let out = build(true);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("second build", &out)
    );
    let r = json_of("second build", &out);
    assert_eq!(r["versions"], serde_json::json!([]), "{r:#}");
    let sources = r["sources"].as_array().expect("sources");
    assert_eq!(
        sources[0]["skipped"],
        serde_json::json!(["localproj@0.1"]),
        "{r:#}"
    );
    assert_eq!(
        sources[2]["skipped"],
        serde_json::json!(["itoa@1.0.14"]),
        "{r:#}"
    );
    assert!(
        sources.iter().all(|s| s["added"] == serde_json::json!([])),
        "{r:#}"
    );
    assert!(!sources[1]["error"].is_null(), "{r:#}");
    assert_eq!(list_json(&index), listed_before);

    // The text report says the same.
    let out = build(false);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("third build", &out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAILED no-such-dir/nothing-here")
            && text.contains("localproj@0.1: already indexed")
            && text.contains("0 added, 2 already indexed, 1 sources failed"),
        "{text}"
    );
    assert_eq!(list_json(&index), listed_before);
}

// ---------------------------------------------------------------------------
// 6. A hostile archive
// ---------------------------------------------------------------------------

#[test]
fn archive_with_a_parent_entry_is_refused_and_leaves_the_index_sound() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let index = tmp.path().join("idx");
    let good = work.join("good-1.0.tar");
    std::fs::write(
        &good,
        tar(&[("good-1.0/ok.c", c_source(603, 3).as_bytes())]),
    )
    .unwrap();
    add_json(
        &index,
        good.to_str().unwrap(),
        &["--project", "good", "--version", "1.0"],
    );

    let archive = work.join("evil-1.0.tar");
    std::fs::write(
        &archive,
        tar(&[
            ("evil-1.0/fine.c", c_source(601, 3).as_bytes()),
            ("../escape.c", c_source(602, 3).as_bytes()),
        ]),
    )
    .unwrap();
    let mut add = index_cmd(&index, "add", &[archive.to_str().unwrap()]);
    add.args(["--project", "evil", "--version", "1.0"])
        .current_dir(&work);
    let out = add.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{}", describe("hostile add", &out));
    assert!(
        stderr.contains("evil-1.0.tar") && stderr.contains("../escape.c"),
        "the error must name the archive and the entry: {}",
        describe("hostile add", &out)
    );

    // Nothing was written next to the archive or above it.
    let written: Vec<PathBuf> = files_under(tmp.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n == "escape.c" || n == "fine.c")
        })
        .collect();
    assert!(written.is_empty(), "{written:?}");

    // The index opens, holds no part of the refused version, and takes
    // another add afterwards.
    assert_eq!(
        listed_ids(&index),
        [("good".to_string(), "1.0".to_string())]
    );
    let more = work.join("more-2.0.tar");
    std::fs::write(&more, tar(&[("more-2.0/m.c", c_source(604, 3).as_bytes())])).unwrap();
    add_json(
        &index,
        more.to_str().unwrap(),
        &["--project", "more", "--version", "2.0"],
    );
    assert_eq!(
        listed_ids(&index),
        [
            ("good".to_string(), "1.0".to_string()),
            ("more".to_string(), "2.0".to_string())
        ]
    );
}
