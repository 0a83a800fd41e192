//! Vendored data tables and minified files, on the real packages where
//! they were first missed (issue "Real vendored code"): pip 23.0.1 vendors
//! idna's 8,600-line Unicode table `uts46data.py` and chardet's language
//! models, which are nearly all literals; Django 4.2.16 ships jQuery
//! 3.6.4's `jquery.min.js`; Redis 7.0.15's own tables have the shape of
//! the Lua 5.1 it vendors. Each is indexed from its registry, the target
//! files are taken from the sdist that vendors them, and the scan must name
//! the right origin file over (nearly) the whole target file. Downloads
//! are cached in `$PROVSCAN_TESTDATA`, never in the repository.

#[path = "shared/mod.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn cache() -> PathBuf {
    let dir = shared::testdata().join("vendored-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sdist(name: &str, version: &str) -> PathBuf {
    shared::pypi_sdist(&cache(), name, version)
}

/// Extracts the members of `archive` at `paths` (inside its top directory)
/// into `dest`, keeping their relative paths.
fn extract(archive: &Path, top: &str, paths: &[&str], dest: &Path) {
    let mut c = Command::new("tar");
    let xz = archive.extension().is_some_and(|e| e == "xz");
    c.arg(if xz { "-xJf" } else { "-xzf" })
        .arg(archive)
        .arg("-C")
        .arg(dest);
    for p in paths {
        c.arg(format!("{top}/{p}"));
    }
    shared::run_ok(&format!("tar -xzf {}", archive.display()), &mut c);
}

fn index_add(index: &Path, spec: &str) {
    shared::run_ok(
        &format!("index add {spec}"),
        Command::new(cargo_bin("provscan"))
            .args(["index", "--index"])
            .arg(index)
            .args(["add", spec, "--cache-dir"])
            .arg(cache().join("downloads")),
    );
}

fn scan(index: &Path, target: &Path) -> Value {
    scan_with(index, target, &[])
}

/// [`scan`] with more options (`--cache FILE`).
fn scan_with(index: &Path, target: &Path, options: &[&std::ffi::OsStr]) -> Value {
    let out = Command::new(cargo_bin("provscan"))
        .args(["scan", "--index"])
        .arg(index)
        .args(["--format", "json"])
        .args(options)
        .arg(target)
        .output()
        .expect("provscan runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        shared::describe("scan", &out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Lines of the target file covered by findings naming `origin_path`.
fn covered_by(report: &Value, path: &str, origin_path: &str) -> usize {
    let mut lines = std::collections::BTreeSet::new();
    for f in report["findings"].as_array().unwrap() {
        if f["path"] == path && f["origin"]["path"] == origin_path {
            let r = &f["target_lines"];
            lines.extend(r[0].as_u64().unwrap()..=r[1].as_u64().unwrap());
        }
    }
    lines.len()
}

/// The first finding in the target file `path`, which must have one.
fn finding_in<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no finding in {path}\n{report:#}"))
}

fn line_count(file: &Path) -> usize {
    std::fs::read_to_string(file).unwrap().lines().count()
}

/// `members` of the PyPI sdist `name==version`, scanned against an index of
/// `specs`.
struct Scanned {
    work: tempfile::TempDir,
    /// The sdist's top directory, `NAME-VERSION`.
    top: String,
    report: Value,
}

impl Scanned {
    fn new(specs: &[&str], (name, version): (&str, &str), members: &[&str]) -> Scanned {
        let work = tempfile::tempdir().unwrap();
        let index = work.path().join("index");
        for spec in specs {
            index_add(&index, spec);
        }
        let target = work.path().join("target");
        std::fs::create_dir_all(&target).unwrap();
        let top = format!("{name}-{version}");
        extract(&sdist(name, version), &top, members, &target);
        let report = scan(&index, &target);
        Scanned { work, top, report }
    }

    /// A member's path in the report.
    fn path(&self, member: &str) -> String {
        format!("{}/{member}", self.top)
    }

    /// A member's file on disk.
    fn file(&self, member: &str) -> PathBuf {
        self.work.path().join("target").join(self.path(member))
    }
}

#[test]
fn vendored_data_tables_are_found_value_for_value() {
    let vendored = [
        ("src/pip/_vendor/idna/uts46data.py", "idna/uts46data.py"),
        (
            "src/pip/_vendor/chardet/langrussianmodel.py",
            "chardet/langrussianmodel.py",
        ),
    ];
    let members: Vec<&str> = vendored.iter().map(|(t, _)| *t).collect();
    let s = Scanned::new(
        &["pypi:idna==3.4", "pypi:chardet==5.1.0"],
        ("pip", "23.0.1"),
        &members,
    );
    for (t, origin) in vendored {
        let path = s.path(t);
        let lines = line_count(&s.file(t));
        let covered = covered_by(&s.report, &path, origin);
        assert!(
            covered * 100 >= lines * 95,
            "{path}: {covered} of {lines} lines found under {origin}\n{:#}",
            s.report
        );
    }
}

#[test]
fn a_vendored_minified_file_is_found() {
    let member = "django/contrib/admin/static/admin/js/vendor/jquery/jquery.min.js";
    let s = Scanned::new(&["npm:jquery@3.6.4"], ("Django", "4.2.16"), &[member]);
    let f = finding_in(&s.report, &s.path(member));
    assert_eq!(f["origin"]["project"], "jquery", "{f:#}");
    assert_eq!(f["origin"]["path"], "dist/jquery.min.js", "{f:#}");
    assert_eq!(f["origin"]["license"], "MIT", "{f:#}");
}

/// pip 23.0.1 bundles urllib3 1.26.14, and its `connectionpool.py` is the
/// same file byte for byte in both. A project that vendors urllib3 must be
/// told it took urllib3's file, with pip only as an alternative: the
/// upstream before its redistributors.
#[test]
fn the_upstream_is_named_before_a_project_that_bundles_it() {
    let member = "src/urllib3/connectionpool.py";
    let s = Scanned::new(
        &["pypi:pip==23.0.1", "pypi:urllib3==1.26.14"],
        ("urllib3", "1.26.14"),
        &[member],
    );
    let f = finding_in(&s.report, &s.path(member));
    assert_eq!(f["kind"], "file", "{f:#}");
    assert_eq!(f["origin"]["project"], "urllib3", "{f:#}");
    assert_eq!(f["origin"]["path"], member, "{f:#}");
    assert!(
        f["alternatives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["project"] == "pip"
                && a["path"] == "src/pip/_vendor/urllib3/connectionpool.py"),
        "{f:#}"
    );
}

/// The Debian source package `name=version`'s upstream tarball, fetched
/// with `apt-get source` into the cache; `None` (the test skips) where apt
/// is not installed.
fn deb_orig(name: &str, version: &str, orig: &str) -> Option<PathBuf> {
    let dir = cache().join("deb").join(name);
    let path = dir.join(orig);
    if path.exists() {
        return Some(path);
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        eprintln!("SKIPPED: apt-get is not installed");
        return None;
    }
    std::fs::create_dir_all(&dir).unwrap();
    shared::run_ok(
        &format!("apt-get source {name}={version}"),
        Command::new("apt-get")
            .current_dir(&dir)
            .args(["source", "--download-only", "-q"])
            .arg(format!("{name}={version}")),
    );
    Some(path)
}

/// `members` of Redis 7.0.15's orig tarball (Debian's) extracted under
/// `target/redis-7.0.15/` beside an index of `spec`; `None` (the test
/// skips) without apt-get.
struct RedisTree {
    work: tempfile::TempDir,
    index: PathBuf,
    target: PathBuf,
}

impl RedisTree {
    fn new(spec: &str, members: &[&str]) -> Option<RedisTree> {
        let orig = deb_orig("redis", "5:7.0.15-1~deb12u7", "redis_7.0.15.orig.tar.gz")?;
        let work = tempfile::tempdir().unwrap();
        let index = work.path().join("index");
        index_add(&index, spec);
        let target = work.path().join("target");
        std::fs::create_dir_all(&target).unwrap();
        extract(&orig, "redis-7.0.15", members, &target);
        Some(RedisTree {
            work,
            index,
            target,
        })
    }
}

/// Redis 7.0.15 vendors Lua 5.1 under `deps/lua`, and its own code is full
/// of Lua's idioms: its ACL categories and config tables are rows of
/// `{"name", CONSTANT},` like Lua's tables of library functions. Rows of
/// one shape with other names and strings are not a copy (issue "Real
/// vendored code", no lying spans); the table Redis did take from Lua is.
/// Nor are the shapes Redis's own files repeat in themselves (the cluster
/// bus's message handlers, redis-cli's reply printers, adlist's macros),
/// where Lua has renamed counterparts (`engine::repeats`). A Lua file
/// Redis patched is a snippet finding that begins at the top, over the
/// header it kept.
#[test]
fn own_code_is_not_reported_and_a_patched_files_header_is_part_of_its_copy() {
    // Own code, with the last line of its tables: config.c's whole file
    // (its enum tables against Lua's), acl.c's category and flag tables;
    // whole files of its own idioms.
    let own = [
        ("src/config.c", usize::MAX),
        ("src/acl.c", 110),
        ("src/cluster.c", usize::MAX),
        ("src/redis-cli.c", usize::MAX),
        ("src/adlist.h", usize::MAX),
    ];
    let vendored = "deps/lua/src/lbaselib.c";
    // Patched by Redis, so found as a snippet; its header (`$Id`, what the
    // file holds, "See Copyright Notice in lua.h") was taken along.
    let patched = "deps/lua/src/ldo.c";
    let mut members: Vec<&str> = own.iter().map(|(p, _)| *p).collect();
    members.extend([vendored, patched]);
    let Some(RedisTree {
        work: _work,
        index,
        target,
    }) = RedisTree::new("deb:lua5.1=5.1.5-9", &members)
    else {
        return;
    };
    let report = scan(&index, &target);
    for (path, tables_end) in own {
        let path = format!("redis-7.0.15/{path}");
        let found: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["path"] == path && f["target_lines"][0].as_u64().unwrap() as usize <= tables_end
            })
            .collect();
        assert!(found.is_empty(), "{path}: {found:#?}");
    }
    let path = format!("redis-7.0.15/{vendored}");
    let lines = line_count(&target.join(&path));
    let covered = covered_by(&report, &path, "src/lbaselib.c");
    assert!(
        covered * 100 >= lines * 90,
        "{path}: {covered} of {lines} lines\n{report:#}"
    );
    let path = format!("redis-7.0.15/{patched}");
    let f = finding_in(&report, &path);
    assert_eq!(f["kind"], "snippet", "{f:#}");
    assert_eq!(f["origin"]["path"], "src/ldo.c", "{f:#}");
    assert_eq!(f["target_lines"][0], 1, "{f:#}");
    assert_eq!(f["origin"]["lines"][0], 1, "{f:#}");
    assert_eq!(f["target_bytes"][0], 0, "{f:#}");
}

/// Scans Redis 7.0.15's `own` files beside the vendored `tree` files
/// (paths in the orig tarball) against an index of `spec`, twice through
/// the scan cache: the tree is found and nothing in `own` is reported,
/// the held matches counted in the summary. Then scans `own` alone,
/// without the tree around it, and returns that report. `None` without
/// apt-get.
fn own_files_beside_their_tree(spec: &str, own: &[&str], tree: &[String]) -> Option<Value> {
    let mut members: Vec<&str> = own.to_vec();
    members.extend(tree.iter().map(String::as_str));
    let RedisTree {
        work,
        index,
        target,
    } = RedisTree::new(spec, &members)?;
    let cache = work.path().join("scan-cache.json");
    let scan_cached = || scan_with(&index, &target, &["--cache".as_ref(), cache.as_os_str()]);
    for (run, report) in [scan_cached(), scan_cached()].iter().enumerate() {
        for p in tree {
            finding_in(report, &format!("redis-7.0.15/{p}"));
        }
        let in_own: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                own.iter()
                    .any(|p| f["path"] == format!("redis-7.0.15/{p}").as_str())
            })
            .collect();
        assert!(in_own.is_empty(), "run {run}: {in_own:#?}");
        let unreported = report["summary"]["unreported_alone"].as_u64().unwrap();
        assert!(unreported >= 1, "run {run}: {:#}", report["summary"]);
        assert!(
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f.get("alone").is_none()),
            "run {run}: a finding held for judgement leaked into the report"
        );
    }
    let own_dir = target.join("redis-7.0.15/src");
    let alone = scan(&index, &own_dir);
    assert_eq!(alone["summary"]["unreported_alone"], 0);
    Some(alone)
}

/// Redis 7.0.15's own `networking.c` and `sds.c` match Lua 5.1 for 41 to
/// 44 tokens each, the only match of that Lua file in them: Lua's idioms
/// (an argument check, a buffer loop), not a copy. In a scan that finds
/// Lua vendored as a tree under `deps/lua`, such short matches outside the
/// tree are not reported (and counted in the summary); scanned without
/// the tree around them, nothing tells, and they are. The cache keeps
/// the judgement to the scan's end.
#[test]
fn a_short_match_against_a_vendored_project_is_reported_only_inside_its_tree() {
    let lua = [
        "lbaselib.c",
        "lstrlib.c",
        "ltablib.c",
        "lmathlib.c",
        "loadlib.c",
    ];
    let lua: Vec<String> = lua.iter().map(|f| format!("deps/lua/src/{f}")).collect();
    let own = ["src/networking.c", "src/sds.c"];
    let Some(alone) = own_files_beside_their_tree("deb:lua5.1=5.1.5-9", &own, &lua) else {
        return;
    };
    let f = finding_in(&alone, "networking.c");
    assert!(f["matched_tokens"].as_u64().unwrap() < 60, "{f:#}");
}

/// Redis 7.0.15's `cluster.h` aligns with jemalloc 5.3.0's `psset.h` for
/// 61 tokens at an identity of 0.85: long enough, but a resemblance (a
/// struct of counters), not a copy. Beside the vendored `deps/jemalloc`
/// it is not reported; alone, it is.
#[test]
fn a_loose_match_against_a_vendored_project_is_reported_only_inside_its_tree() {
    let tree: Vec<String> = JEMALLOC_SIBLINGS
        .iter()
        .map(|p| format!("deps/jemalloc/{p}"))
        .collect();
    let Some(alone) =
        own_files_beside_their_tree("deb:jemalloc=5.3.0-1", &["src/cluster.h"], &tree)
    else {
        return;
    };
    let f = finding_in(&alone, "cluster.h");
    assert!(f["matched_tokens"].as_u64().unwrap() >= 60, "{f:#}");
    assert!(f["similarity"].as_f64().unwrap() < 0.9, "{f:#}");
}

/// The cached download named `name` under the test cache, after an add.
fn downloaded(name: &str) -> PathBuf {
    fn walk(dir: &Path, name: &str) -> Option<PathBuf> {
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                if let Some(found) = walk(&p, name) {
                    return Some(found);
                }
            } else if p.file_name().is_some_and(|n| n == name) {
                return Some(p);
            }
        }
        None
    }
    walk(&cache().join("downloads"), name).unwrap_or_else(|| panic!("{name} not downloaded"))
}

/// itoa 1.0.14 and ryu 1.0.18 ship the same `LICENSE-APACHE`, byte for
/// byte, at the same depth. A project that vendors each under its own name
/// is told each copy came from the project its directory is named after,
/// with the other as an alternative (as Go vendors x/net's and x/text's
/// identical `LICENSE` under `vendor/golang.org/x/net` and `…/x/text`).
#[test]
fn a_license_file_two_projects_share_is_named_after_the_vendoring_directory() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    index_add(&index, "crate:itoa@1.0.14");
    index_add(&index, "crate:ryu@1.0.18");
    let target = work.path().join("target");
    for (name, version) in [("itoa", "1.0.14"), ("ryu", "1.0.18")] {
        let dir = target.join("third_party").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let krate = downloaded(&format!("{name}-{version}.crate"));
        extract(
            &krate,
            &format!("{name}-{version}"),
            &["LICENSE-APACHE"],
            &dir,
        );
    }
    let report = scan(&index, &target);
    for (name, version, other) in [("itoa", "1.0.14", "ryu"), ("ryu", "1.0.18", "itoa")] {
        let path = format!("third_party/{name}/{name}-{version}/LICENSE-APACHE");
        let f = finding_in(&report, &path);
        assert_eq!(f["kind"], "file", "{f:#}");
        assert_eq!(f["origin"]["project"], name, "{f:#}");
        assert!(
            f["alternatives"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["project"] == other),
            "{f:#}"
        );
    }
}

/// Monolog's interfaces are two method signatures under doc comments: 35
/// tokens of code, under the floor a snippet needs. MediaWiki vendors an
/// older Monolog 2 under its own tree, whose doc comments lack a few
/// annotations the indexed release has. Such a small file aligned whole
/// with an origin file is reported when the lines around its code agree
/// too; the same code under other comments is not a copy of anything
/// (issue "Real vendored code": these files were missed).
#[test]
fn a_small_interface_copied_with_its_doc_comments_is_found_and_its_code_alone_is_not() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    index_add(&index, "deb:php-monolog=2.9.1-1");
    let orig = downloaded("php-monolog_2.9.1.orig.tar.xz");
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let formatter = "src/Monolog/Formatter/FormatterInterface.php";
    extract(&orig, "php-monolog-2.9.1", &[formatter], &unpacked);
    let text = std::fs::read_to_string(unpacked.join("php-monolog-2.9.1").join(formatter)).unwrap();
    let target = work.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    // The copy: the annotations of the newer release missing.
    let copied: String = text
        .lines()
        .filter(|l| !l.contains("@phpstan"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(target.join("FormatterInterface.php"), copied).unwrap();
    // Own code: the same lines of code under other comments (with the
    // comments kept, it is found like the copy above).
    let own: String = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with('*') && !t.starts_with("*/") {
                format!(" * Our own words about formatting, line {}.\n", l.len())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(target.join("OwnFormatter.php"), own).unwrap();
    let report = scan(&index, &target);
    let f = finding_in(&report, "FormatterInterface.php");
    assert_eq!(f["origin"]["path"], formatter, "{f:#}");
    assert_eq!(f["origin"]["project"], "php-monolog", "{f:#}");
    let own: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "OwnFormatter.php")
        .collect();
    assert!(own.is_empty(), "{own:#?}");
}

/// Files of Redis's vendored jemalloc found copied from Debian's jemalloc
/// 5.3.0 at their own paths: enough to make `deps/jemalloc/` a copied tree.
const JEMALLOC_SIBLINGS: [&str; 4] = [
    "test/src/btalloc.c",
    "test/src/SFMT.c",
    "test/src/mtx.c",
    "test/src/thd.c",
];

/// `files` of Redis's vendored jemalloc with [`JEMALLOC_SIBLINGS`], and
/// `alone` (one of `files`) copied once more into `own/`, outside any
/// copied tree, scanned against Debian's jemalloc 5.3.0. Checks that the
/// siblings are found at their own paths and that the file in `own/` is
/// not reported; returns the tree (kept for the caller) and the report.
/// `None` (the test skips) without apt-get.
fn scan_jemalloc_tree(files: &[&str], alone: &str) -> Option<(RedisTree, Value)> {
    let members: Vec<String> = files
        .iter()
        .chain(&JEMALLOC_SIBLINGS)
        .map(|p| format!("deps/jemalloc/{p}"))
        .collect();
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    let tree = RedisTree::new("deb:jemalloc=5.3.0-1", &members)?;
    let own = tree.target.join("own");
    std::fs::create_dir_all(&own).unwrap();
    let name = Path::new(alone).file_name().unwrap();
    std::fs::copy(
        tree.target.join("redis-7.0.15/deps/jemalloc").join(alone),
        own.join(name),
    )
    .unwrap();
    let report = scan(&tree.index, &tree.target);
    for p in JEMALLOC_SIBLINGS {
        let f = finding_in(&report, &format!("redis-7.0.15/deps/jemalloc/{p}"));
        assert_eq!(f["origin"]["path"], p, "{f:#}");
    }
    let own_path = format!("own/{}", name.to_str().unwrap());
    let reported: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == own_path.as_str())
        .collect();
    assert!(reported.is_empty(), "{reported:#?}");
    Some((tree, report))
}

/// Redis 7.0.15 vendors jemalloc 5.3.0 under `deps/jemalloc`, with test
/// files of one line (`#include "junk.c"`) or three: too small to tell a
/// copy by their bytes, which countless files share. Placed at jemalloc's
/// own paths below a directory whose other files were found copied from
/// jemalloc, they are part of the copy and reported as whole files; the
/// same bytes alone elsewhere are not (issue "Real vendored code": these
/// files were missed, and file F1 counts them).
#[test]
fn a_small_file_is_found_where_a_copied_tree_puts_it_and_not_alone() {
    let small = [
        "test/unit/junk_alloc.c",
        "test/src/math.c",
        "test/src/btalloc_0.c",
    ];
    let Some((tree, report)) = scan_jemalloc_tree(&small, "test/unit/junk_alloc.c") else {
        return;
    };
    for p in small {
        let path = format!("redis-7.0.15/deps/jemalloc/{p}");
        assert!(
            std::fs::metadata(tree.target.join(&path)).unwrap().len() < 64,
            "{path} is not small"
        );
        let f = finding_in(&report, &path);
        assert_eq!(f["kind"], "file", "{f:#}");
        assert_eq!(f["origin"]["project"], "jemalloc", "{f:#}");
        assert_eq!(f["origin"]["path"], p, "{f:#}");
    }
}

/// Redis 7.0.15 vendors jemalloc 5.2.1 with Redis's patches; Debian's
/// jemalloc is 5.3.0. Files of the vendored tree that changed between the
/// releases and are too short, once edited, for the matcher (a ticker of
/// three lines, a header of `#include`s and a struct, a test script) are
/// found where the tree puts them, as edited copies of the file jemalloc
/// holds at that path; the same file outside the tree is not.
#[test]
fn an_edited_file_is_found_where_a_copied_tree_puts_it_and_not_alone() {
    let edited = [
        "src/ticker.c",
        "include/jemalloc/internal/tcache_structs.h",
        "test/unit/prof_active.sh",
    ];
    let Some((_tree, report)) =
        scan_jemalloc_tree(&edited, "include/jemalloc/internal/tcache_structs.h")
    else {
        return;
    };
    for p in edited {
        let path = format!("redis-7.0.15/deps/jemalloc/{p}");
        let f = finding_in(&report, &path);
        assert_eq!(f["origin"]["project"], "jemalloc", "{f:#}");
        assert_eq!(f["origin"]["path"], p, "{f:#}");
        assert_eq!(f["target_lines"][0], 1, "the whole file: {f:#}");
        let similarity = f["similarity"].as_f64().unwrap();
        assert!((0.5..1.0).contains(&similarity), "{f:#}");
        assert!(f["edits"].as_u64().unwrap() >= 1, "{f:#}");
    }
}

/// Tomcat 9 repackages commons-pool 2 as `org.apache.tomcat.dbcp.pool2`,
/// so its copies sit at other directories than the origin's, the same
/// below them. The short interfaces and enums whose `package` line and
/// little else changed (`DestroyMode`, `SwallowedExceptionListener`,
/// `UsageTracking`) are found where the repackaged tree puts them.
#[test]
fn an_edited_file_is_found_where_a_repackaged_tree_puts_it() {
    let Some(orig) = deb_orig("tomcat9", "9.0.70-2", "tomcat9_9.0.70.orig.tar.xz") else {
        return;
    };
    let edited = [
        "DestroyMode.java",
        "SwallowedExceptionListener.java",
        "UsageTracking.java",
    ];
    let siblings = [
        "BaseObject.java",
        "ObjectPool.java",
        "KeyedObjectPool.java",
        "PooledObject.java",
        "PooledObjectState.java",
    ];
    let dir = "java/org/apache/tomcat/dbcp/pool2";
    let members: Vec<String> = edited
        .iter()
        .chain(&siblings)
        .map(|f| format!("{dir}/{f}"))
        .collect();
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    index_add(&index, "deb:commons-pool2=2.11.1-1");
    let target = work.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    extract(&orig, "tomcat9-9.0.70", &members, &target);
    let report = scan(&index, &target);
    for f in edited {
        let found = finding_in(&report, &format!("tomcat9-9.0.70/{dir}/{f}"));
        assert_eq!(found["origin"]["project"], "commons-pool2", "{found:#}");
        assert_eq!(
            found["origin"]["path"],
            format!("src/main/java/org/apache/commons/pool2/{f}"),
            "{found:#}"
        );
    }
}
