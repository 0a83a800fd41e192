//! Hostile archives built here are rejected by `unpack_to_dir` with the
//! right error, and nothing lands outside (or inside) the target.

use std::io::Write;
use std::path::Path;

use corpus::archive::{unpack_to_dir, ArchiveError};
use corpus::{ArchiveKind, Limits};

fn raw_tar_entry(name: &[u8], kind: tar::EntryType, link: Option<&[u8]>, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    {
        let g = h.as_gnu_mut().unwrap();
        g.name[..name.len()].copy_from_slice(name);
        if let Some(l) = link {
            g.linkname[..l.len()].copy_from_slice(l);
        }
    }
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(kind);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn finish_tar(mut parts: Vec<u8>) -> Vec<u8> {
    parts.extend_from_slice(&[0; 1024]);
    parts
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Everything under `root`, relative, sorted.
fn listing(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir(root);
    v.sort();
    v
}

fn walkdir(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

struct Sandbox {
    _dir: tempfile::TempDir,
    archive: std::path::PathBuf,
    dest: std::path::PathBuf,
    outer: std::path::PathBuf,
}

/// Layout: outer/ holds the archive and the target dir `outer/box/dest`, so
/// an escape of one or two levels would land in outer/ or outer/box/.
fn sandbox(name: &str, bytes: &[u8]) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let outer = dir.path().join("outer");
    std::fs::create_dir_all(outer.join("box")).unwrap();
    let archive = outer.join(name);
    std::fs::write(&archive, bytes).unwrap();
    Sandbox {
        dest: outer.join("box/dest"),
        archive,
        outer,
        _dir: dir,
    }
}

fn assert_untouched(s: &Sandbox) {
    let name = s
        .archive
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut want = vec!["box".to_string(), name];
    want.sort();
    assert_eq!(
        listing(&s.outer),
        want,
        "nothing written next to the target"
    );
    assert!(!s.dest.exists(), "no partial target left behind");
}

#[test]
fn traversal_is_rejected() {
    let t = finish_tar(
        [
            raw_tar_entry(b"pkg/ok.c", tar::EntryType::Regular, None, b"int ok;"),
            raw_tar_entry(b"../evil", tar::EntryType::Regular, None, b"pwned"),
        ]
        .concat(),
    );
    let s = sandbox("trav.tar.gz", &gz(&t));
    let e = unpack_to_dir(&s.archive, ArchiveKind::TarGz, &s.dest, &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::Traversal { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("trav.tar.gz") && msg.contains("../evil"),
        "{msg}"
    );
    assert_untouched(&s);
}

#[test]
fn absolute_path_is_rejected() {
    let t = finish_tar(raw_tar_entry(
        b"/tmp/provscan-evil-absolute",
        tar::EntryType::Regular,
        None,
        b"x",
    ));
    let s = sandbox("abs.tar", &t);
    let e = unpack_to_dir(&s.archive, ArchiveKind::Tar, &s.dest, &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::AbsolutePath { .. }), "{e}");
    assert!(e.to_string().contains("/tmp/provscan-evil-absolute"));
    assert!(!Path::new("/tmp/provscan-evil-absolute").exists());
    assert_untouched(&s);
}

#[test]
fn symlink_escape_is_rejected() {
    // A link out of the root, then a file written "through" it.
    let t = finish_tar(
        [
            raw_tar_entry(b"pkg/link", tar::EntryType::Symlink, Some(b"../../.."), b""),
            raw_tar_entry(
                b"pkg/link/escaped.txt",
                tar::EntryType::Regular,
                None,
                b"pwned",
            ),
        ]
        .concat(),
    );
    let s = sandbox("link.tar", &t);
    let e = unpack_to_dir(&s.archive, ArchiveKind::Tar, &s.dest, &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::LinkEscape { .. }), "{e}");
    assert!(e.to_string().contains("pkg/link"));
    assert_untouched(&s);

    let t = finish_tar(raw_tar_entry(
        b"pkg/abs",
        tar::EntryType::Symlink,
        Some(b"/etc"),
        b"",
    ));
    let s = sandbox("abslink.tar", &t);
    let e = unpack_to_dir(&s.archive, ArchiveKind::Tar, &s.dest, &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::LinkEscape { .. }), "{e}");
    assert_untouched(&s);
}

#[test]
fn bomb_is_rejected() {
    // 64 MiB of zeros gzip to about 64 KiB: a 1000:1 ratio.
    let mut b = tar::Builder::new(Vec::new());
    let zeros = vec![0u8; 64 << 20];
    let mut h = tar::Header::new_gnu();
    h.set_size(zeros.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "pkg/zeros.bin", &zeros[..]).unwrap();
    let data = gz(&b.into_inner().unwrap());
    drop(zeros);
    let s = sandbox("bomb.tar.gz", &data);
    let e = unpack_to_dir(&s.archive, ArchiveKind::TarGz, &s.dest, &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::Bomb { .. }), "{e}");
    assert!(e.to_string().contains("pkg/zeros.bin"));
    assert_untouched(&s);
}

#[test]
fn good_archive_unpacks_and_nested_archives_expand() {
    let mut inner = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    inner
        .start_file("lib/x.c", zip::write::SimpleFileOptions::default())
        .unwrap();
    inner.write_all(b"int x;").unwrap();
    let inner = inner.finish().unwrap().into_inner();
    let t = finish_tar(
        [
            raw_tar_entry(b"pkg/main.c", tar::EntryType::Regular, None, b"int main;"),
            raw_tar_entry(
                b"pkg/vendor/inner.zip",
                tar::EntryType::Regular,
                None,
                &inner,
            ),
        ]
        .concat(),
    );
    let s = sandbox("good.tar.gz", &gz(&t));
    let u = unpack_to_dir(&s.archive, ArchiveKind::TarGz, &s.dest, &Limits::default()).unwrap();
    let paths: Vec<_> = u.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["pkg/main.c", "pkg/vendor/inner.zip!/lib/x.c"]);
    assert_eq!(
        std::fs::read(s.dest.join("pkg/vendor/inner.zip!/lib/x.c")).unwrap(),
        b"int x;"
    );
    // A second unpack into the now non-empty target is refused.
    let e = unpack_to_dir(&s.archive, ArchiveKind::TarGz, &s.dest, &Limits::default()).unwrap_err();
    assert!(matches!(e, ArchiveError::DestNotEmpty { .. }), "{e}");

    // Through the top-level API the nested file keeps its chain in the path.
    let spec = corpus::SourceSpec::parse(s.archive.to_str().unwrap()).unwrap();
    let v = corpus::load(&spec, &corpus::LoadOptions::new(s.outer.join("cache"))).unwrap();
    let paths: Vec<_> = v[0].files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["main.c", "vendor/inner.zip!/lib/x.c"]);
}
