//! A scan that cannot pass by accident (issue 12): hostile or damaged
//! archives inside a scanned tree do not hide the code beside and inside
//! them, errors of the scan exit 2 instead of passing, and hostile inputs
//! (a decompression bomb, `/dev/zero`, a FIFO) end quickly within bounded
//! memory. The corpus is this repository's own `engine/src`, indexed as if
//! it were GPL code; the archives are built here.

#[path = "shared/mod.rs"]
mod shared;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;
use shared::{describe, run_ok};

fn engine_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/src")
}

fn engine_file(name: &str) -> Vec<u8> {
    std::fs::read(engine_src().join(name)).unwrap()
}

/// One index of `engine/src` under GPL-3.0-only, built once for all tests
/// that only read it.
fn gpl_index() -> &'static Path {
    static INDEX: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = INDEX.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("idx");
        build_index(&index);
        (dir, index)
    });
    path
}

fn build_index(index: &Path) {
    run_ok(
        "index add",
        Command::new(cargo_bin("provscan"))
            .args(["index", "--index"])
            .arg(index)
            .arg("add")
            .arg(engine_src())
            .args(["--project", "engine", "--version", "1"])
            .args(["--license", "GPL-3.0-only"]),
    );
}

fn scan_cmd(index: &Path) -> Command {
    let mut c = Command::new(cargo_bin("provscan"));
    c.args(["scan", "--format", "json", "--index"]).arg(index);
    c
}

/// A raw tar entry, header written by hand so that names tar::Builder
/// refuses (`../x`, absolute paths) can be made.
fn tar_entry(name: &str, kind: tar::EntryType, link: &str, size: u64, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    {
        let g = h.as_gnu_mut().unwrap();
        g.name[..name.len()].copy_from_slice(name.as_bytes());
        g.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(kind);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn file_entry(name: &str, data: &[u8]) -> Vec<u8> {
    tar_entry(name, tar::EntryType::Regular, "", data.len() as u64, data)
}

fn tar_end() -> Vec<u8> {
    vec![0; 1024]
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tar.gz holding `before`, then an entry of `gib` GiB of zeros, then
/// `after`, built from concatenated gzip members (one compressed MiB of
/// zeros repeated), so that making it costs milliseconds.
fn bomb_tar_gz(before: &[(&str, &[u8])], gib: u64, after: &[(&str, &[u8])]) -> Vec<u8> {
    let mut head = Vec::new();
    for (n, d) in before {
        head.extend(file_entry(n, d));
    }
    let size = gib << 30;
    head.extend(tar_entry(
        "zeros.bin",
        tar::EntryType::Regular,
        "",
        size,
        &[],
    ));
    let mut out = gz(&head);
    let mib = gz(&vec![0u8; 1 << 20]);
    for _ in 0..(size >> 20) {
        out.extend_from_slice(&mib);
    }
    let mut tail = Vec::new();
    for (n, d) in after {
        tail.extend(file_entry(n, d));
    }
    tail.extend(tar_end());
    out.extend(gz(&tail));
    out
}

fn skip_kinds(report: &Value) -> Vec<(String, String)> {
    report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn finding_paths(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn hostile_archives_hide_nothing_and_the_gate_still_fails() {
    let index = gpl_index();
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let (align, winnow, probe, token, lang, matcher) = (
        engine_file("align.rs"),
        engine_file("winnow.rs"),
        engine_file("probe.rs"),
        engine_file("token.rs"),
        engine_file("lang.rs"),
        engine_file("matcher.rs"),
    );
    std::fs::write(tree.join("beside.rs"), &align).unwrap();

    // A path climbing out, an absolute path, a link pointing out: each
    // refused alone, the GPL file in the same archive still checked.
    let mut t = file_entry("../escape.rs", b"fn x() {}\n");
    t.extend(file_entry("/etc/abs.rs", b"fn y() {}\n"));
    t.extend(tar_entry(
        "p/out",
        tar::EntryType::Symlink,
        "../../../etc/passwd",
        0,
        &[],
    ));
    t.extend(file_entry("p/winnow.rs", &winnow));
    t.extend(tar_end());
    std::fs::write(tree.join("unsafe.tar.gz"), gz(&t)).unwrap();

    // A bomb entry (1 GiB of zeros) with GPL code before and after it.
    std::fs::write(
        tree.join("bomb.tar.gz"),
        bomb_tar_gz(&[("b/probe.rs", &probe)], 1, &[("b/token.rs", &token)]),
    )
    .unwrap();

    // A truncated tail: the entry before the damage is still checked.
    let mut noise = Vec::new();
    let mut x = 7u32;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        noise.push(b'a' + (x >> 16) as u8 % 26);
    }
    let mut t = file_entry("t/lang.rs", &lang);
    t.extend(file_entry("t/noise.txt", &noise));
    t.extend(tar_end());
    let z = gz(&t);
    std::fs::write(tree.join("truncated.tar.gz"), &z[..z.len() - 4000]).unwrap();

    // A wrong CRC in the gzip trailer.
    let mut t = file_entry("c/matcher.rs", &matcher);
    t.extend(tar_end());
    let mut z = gz(&t);
    let n = z.len();
    z[n - 8] ^= 0x55;
    std::fs::write(tree.join("badcrc.tar.gz"), &z).unwrap();

    let started = Instant::now();
    let out = scan_cmd(index)
        .args(["--fail-on", "strong-copyleft"])
        .arg(&tree)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", describe("scan", &out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = finding_paths(&report);
    for want in [
        "beside.rs",
        "unsafe.tar.gz!/p/winnow.rs",
        "bomb.tar.gz!/b/probe.rs",
        "bomb.tar.gz!/b/token.rs",
        "truncated.tar.gz!/t/lang.rs",
        "badcrc.tar.gz!/c/matcher.rs",
    ] {
        assert!(found.iter().any(|f| f == want), "{want} not in {found:?}");
    }
    let kinds = skip_kinds(&report);
    for want in [
        ("unsafe.tar.gz!/../escape.rs", "unsafe-entry"),
        ("unsafe.tar.gz!//etc/abs.rs", "unsafe-entry"),
        ("unsafe.tar.gz!/p/out", "unsafe-entry"),
        ("bomb.tar.gz!/zeros.bin", "too-large"),
        ("truncated.tar.gz", "damaged-archive"),
        ("badcrc.tar.gz", "damaged-archive"),
    ] {
        assert!(
            kinds.iter().any(|(p, k)| p == want.0 && k == want.1),
            "{want:?} not in {kinds:?}"
        );
    }
    assert!(report["errors"].as_array().unwrap().is_empty());
    eprintln!("hostile tree scanned in {took:?}");
}

/// Runs `cmd` to its end or `limit`, and returns its exit code, output and
/// peak RSS in bytes (from `wait4`, for this child alone).
fn run_measured(cmd: &mut Command, limit: Duration) -> (Option<i32>, Vec<u8>, Vec<u8>, u64) {
    // Reaped below by `wait4`, which also gives the child's own peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (mut stdout, mut stderr) = (child.stdout.unwrap(), child.stderr.unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut b).unwrap();
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut b).unwrap();
        b
    });
    let started = Instant::now();
    let mut status = 0;
    // SAFETY: plain system calls on our own child; rusage is written by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if started.elapsed() > limit {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut usage);
            }
            panic!("still running after {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (
        code,
        out_reader.join().unwrap(),
        err_reader.join().unwrap(),
        usage.ru_maxrss as u64 * 1024,
    )
}

#[test]
fn a_gib_bomb_costs_bounded_time_and_memory() {
    let index = gpl_index();
    let tmp = tempfile::tempdir().unwrap();
    let probe = engine_file("probe.rs");
    let bomb = tmp.path().join("bomb.tar.gz");
    std::fs::write(&bomb, bomb_tar_gz(&[], 1, &[("after/probe.rs", &probe)])).unwrap();
    let started = Instant::now();
    let (code, stdout, stderr, rss) = run_measured(
        scan_cmd(index)
            .args(["--fail-on", "strong-copyleft"])
            .arg(&bomb),
        Duration::from_secs(300),
    );
    let took = started.elapsed();
    assert_eq!(code, Some(1), "{}", String::from_utf8_lossy(&stderr));
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    assert!(finding_paths(&report)
        .iter()
        .any(|p| p == "bomb.tar.gz!/after/probe.rs"));
    eprintln!(
        "1 GiB bomb: {:.1} s, peak RSS {} MB",
        took.as_secs_f64(),
        rss >> 20
    );
    assert!(rss < 1 << 30, "peak RSS {} MB", rss >> 20);
}

#[test]
fn declared_dev_zero_fails_fast() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.rs"), "fn main() {}\n").unwrap();
    let (code, _, stderr, rss) = run_measured(
        scan_cmd(gpl_index())
            .args(["--declared", "/dev/zero"])
            .arg(tmp.path()),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/dev/zero"), "{stderr}");
    assert!(rss < 512 << 20, "peak RSS {} MB", rss >> 20);
}

#[test]
fn a_fifo_is_refused_not_waited_on() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe.c");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let (code, _, stderr, _) =
        run_measured(scan_cmd(gpl_index()).arg(&fifo), Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("FIFO"), "{stderr}");

    // Inside a tree it is a skip of kind `special`, and the scan ends.
    std::fs::write(tmp.path().join("a.rs"), "fn main() {}\n").unwrap();
    let (code, stdout, stderr, _) = run_measured(
        scan_cmd(gpl_index()).arg(tmp.path()),
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&stderr));
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    assert!(skip_kinds(&report).contains(&("pipe.c".into(), "special".into())));
}

#[test]
fn bad_options_fail_before_scanning() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.rs"), "fn main() {}\n").unwrap();
    let out = scan_cmd(gpl_index())
        .arg("-o")
        .arg(tmp.path().join("no/such/dir/report.json"))
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe("scan -o", &out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    let out = scan_cmd(gpl_index())
        .args(["--fail-on", "GPL-9.9-only"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        describe("--fail-on", &out)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("GPL-9.9-only"));

    let sbom = tmp.path().join("bom.json");
    std::fs::write(
        &sbom,
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {"name": "x"}}"#,
    )
    .unwrap();
    let out = scan_cmd(gpl_index())
        .arg("--declared")
        .arg(&sbom)
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        describe("--declared", &out)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a list"));
}

/// Damages the data blocks of the largest SST file of `index` (the
/// postings): one byte in every 512 of its first 60% flipped. Data blocks
/// come first in an SST, the index and filter blocks and the footer last,
/// so the index still opens (RocksDB reads data blocks only when asked)
/// and the first lookup that reads a damaged block fails its checksum.
fn damage_postings(index: &Path) -> PathBuf {
    let mut ssts = Vec::new();
    for e in std::fs::read_dir(index).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "sst") {
            ssts.push((e.metadata().unwrap().len(), p));
        }
    }
    ssts.sort();
    let (_, sst) = ssts.pop().expect("the index has SST files");
    let mut bytes = std::fs::read(&sst).unwrap();
    let end = bytes.len() * 3 / 5;
    for i in (100..end).step_by(512) {
        bytes[i] ^= 0xa5;
    }
    std::fs::write(&sst, bytes).unwrap();
    sst
}

#[test]
fn a_failed_lookup_exits_2_with_the_report_written() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("idx");
    build_index(&index);
    let target = tmp.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    for name in [
        "align.rs",
        "winnow.rs",
        "probe.rs",
        "token.rs",
        "matcher.rs",
    ] {
        // Partial copies: no whole-file match, so the snippet lookups
        // read the postings.
        let text = String::from_utf8(engine_file(name)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let part = lines[..lines.len() * 3 / 5].join("\n");
        std::fs::write(target.join(name), format!("// ours\n{part}\n")).unwrap();
    }
    // Sanity: the intact index finds the copies and fails the gate.
    let out = scan_cmd(&index)
        .args(["--fail-on", "strong-copyleft"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe("intact", &out));

    let sst = damage_postings(&index);
    let report_path = tmp.path().join("report.json");
    let out = scan_cmd(&index)
        .arg("-o")
        .arg(&report_path)
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "damaged {}: {}",
        sst.display(),
        describe("scan", &out)
    );
    // Either the open detected the damage, or the lookups did: then the
    // report is written and names the files that could not be checked.
    if report_path.exists() {
        let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
        let errors = report["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{report}");
        assert!(
            errors.iter().all(|e| e["message"]
                .as_str()
                .unwrap()
                .contains("index lookup failed")),
            "{errors:?}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("could not be checked"), "{stderr}");
        eprintln!("damage found by the lookups: {} error(s)", errors.len());
    } else {
        eprintln!("damage found at open");
    }
}

#[test]
fn an_unreadable_file_exits_2() {
    // Root ignores permissions: nothing to test then.
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("secret.rs");
    std::fs::write(&f, engine_file("align.rs")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = scan_cmd(gpl_index()).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe("scan", &out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"][0]["path"], "secret.rs", "{report}");
}
