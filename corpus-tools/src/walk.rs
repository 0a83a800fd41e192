//! Walking a directory tree: [`list`] finds the files, [`walk`] also reads
//! them into memory, and [`read_file`] reads one listed file later.
//!
//! Uses the `ignore` crate's parallel walker. Symbolic links are followed
//! only while they stay inside the walked root, so a link to `/` or to a
//! parent cannot pull the whole machine into the index; loops are reported.
//! One bad file never aborts the walk: it becomes a [`Skipped`] record.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::file::{SkipReason, Skipped, SourceFile};

/// Options for [`walk`].
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Files larger than this are skipped (default 16 MiB): generated
    /// blobs and data files, not source code.
    pub max_file_bytes: u64,
    /// Honour `.gitignore`, `.ignore` and git exclude files (default false:
    /// a corpus indexes what the package ships).
    pub respect_ignore_files: bool,
    /// Worker threads; 0 lets the walker choose.
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_file_bytes: 16 << 20,
            respect_ignore_files: false,
            threads: 0,
        }
    }
}

/// Files and skips of one walk, both sorted by path.
#[derive(Debug, Default)]
pub struct WalkResult {
    /// Files read.
    pub files: Vec<SourceFile>,
    /// Entries not read.
    pub skipped: Vec<Skipped>,
}

/// A regular file found by [`list`], not read yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedFile {
    /// Path relative to the walked root, `/`-separated.
    pub path: String,
    /// Where to open it.
    pub abs: PathBuf,
    /// Size when listed.
    pub len: u64,
}

/// Files and skips of one [`list`], both sorted by path.
#[derive(Debug, Default)]
pub struct Listing {
    /// Files found, within the size cap.
    pub files: Vec<ListedFile>,
    /// Entries passed over.
    pub skipped: Vec<Skipped>,
}

/// Why a walk could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// The root is missing or not a directory.
    #[error("{path}: cannot walk: {message}")]
    Root {
        /// The root given.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Walks `root` and reads every regular file (the `.git` directory is
/// never entered). Paths in the result are relative to `root`.
pub fn walk(root: &Path, opts: &WalkOptions) -> Result<WalkResult, WalkError> {
    let max = opts.max_file_bytes;
    let (files, skipped) = visit(root, opts, |abs, _len| read_capped(abs, max))?;
    let files = files
        .into_iter()
        .map(|(path, bytes)| SourceFile { path, bytes })
        .collect();
    Ok(WalkResult { files, skipped })
}

/// Walks `root` like [`walk`] but only lists the files, so a caller can
/// read them one at a time (and keep only a few in memory). Files over the
/// size cap are already skipped here.
pub fn list(root: &Path, opts: &WalkOptions) -> Result<Listing, WalkError> {
    let max = opts.max_file_bytes;
    let (files, skipped) = visit(root, opts, |abs, len| {
        if len > max {
            return Err(SkipReason::TooLarge {
                size: len,
                limit: max,
            });
        }
        Ok((abs.to_path_buf(), len))
    })?;
    let files = files
        .into_iter()
        .map(|(path, (abs, len))| ListedFile { path, abs, len })
        .collect();
    Ok(Listing { files, skipped })
}

/// Reads a file found by [`list`], enforcing the same cap as [`walk`]
/// (the file may have grown since it was listed).
pub fn read_file(file: &ListedFile, opts: &WalkOptions) -> Result<Vec<u8>, SkipReason> {
    read_capped(&file.abs, opts.max_file_bytes)
}

/// The walk shared by [`walk`] and [`list`]: `on_file(absolute path, size)`
/// runs for every regular file on the walker's threads; its errors become
/// skips. Results are sorted by relative path.
#[allow(clippy::type_complexity)]
fn visit<T: Send>(
    root: &Path,
    opts: &WalkOptions,
    on_file: impl Fn(&Path, u64) -> Result<T, SkipReason> + Sync,
) -> Result<(Vec<(String, T)>, Vec<Skipped>), WalkError> {
    let canon_root = std::fs::canonicalize(root).map_err(|e| WalkError::Root {
        path: root.to_path_buf(),
        message: e.to_string(),
    })?;
    if !canon_root.is_dir() {
        return Err(WalkError::Root {
            path: root.to_path_buf(),
            message: "not a directory".into(),
        });
    }
    let files = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let rel = |p: &Path| -> String {
        let r = p.strip_prefix(&canon_root).unwrap_or(p);
        r.components()
            .map(|c| escape_name(c.as_os_str()))
            .collect::<Vec<_>>()
            .join("/")
    };
    let skip =
        |path: String, reason: SkipReason| skipped.lock().unwrap().push(Skipped { path, reason });

    let mut builder = ignore::WalkBuilder::new(&canon_root);
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(true)
        .threads(opts.threads);
    if opts.respect_ignore_files {
        builder
            .git_ignore(true)
            .git_exclude(true)
            .ignore(true)
            .require_git(false);
    }
    // Links leaving the root are dropped here and reported afterwards by
    // `report_outside_links` (a filter cannot emit records).
    let root_for_filter = canon_root.clone();
    builder.filter_entry(move |e| {
        if e.file_name() == ".git" && e.depth() > 0 {
            return false;
        }
        if e.path_is_symlink() {
            match std::fs::canonicalize(e.path()) {
                Ok(t) => t.starts_with(&root_for_filter),
                Err(_) => true, // dangling: the visitor reports it
            }
        } else {
            true
        }
    });
    builder.build_parallel().run(|| {
        let files = &files;
        let skip = &skip;
        let rel = &rel;
        let on_file = &on_file;
        Box::new(move |res| {
            use ignore::WalkState::Continue;
            let entry = match res {
                Ok(e) => e,
                Err(err) => {
                    report_walk_error(err, rel, skip);
                    return Continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                return Continue;
            };
            if ft.is_dir() {
                return Continue;
            }
            let path = rel(entry.path());
            if !ft.is_file() {
                skip(path, SkipReason::Special(describe_type(&ft)));
                return Continue;
            }
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            match on_file(entry.path(), len) {
                Ok(x) => files.lock().unwrap().push((path, x)),
                Err(reason) => skip(path, reason),
            }
            Continue
        })
    });
    // Links pointing outside the root were filtered out above; report them.
    report_outside_links(&canon_root, &canon_root, opts, &rel, &skip);

    let mut files = files.into_inner().unwrap();
    let mut skipped = skipped.into_inner().unwrap();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup();
    Ok((files, skipped))
}

/// A file name as text. Names that are valid UTF-8 are kept as they are;
/// in one that is not, every byte that is not part of valid UTF-8 is
/// written `\xNN` and a backslash `\\`, so that two different names never
/// give the same text and the bytes can be recovered ([`unescape_name`]).
pub fn escape_name(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    if let Some(s) = name.to_str() {
        return s.to_string();
    }
    let mut out = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// The bytes of a name written by [`escape_name`] for a name that was not
/// UTF-8 (for a valid name the text is the name).
pub fn unescape_name(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok();
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) => {
                    out.push(v);
                    i += 4;
                }
                None => {
                    out.push(b[i]);
                    i += 1;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn describe_type(ft: &std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else if ft.is_symlink() {
        "dangling symbolic link"
    } else {
        "unknown type"
    }
    .to_string()
}

/// Opens a file for reading without ever blocking on it: a FIFO or device
/// put where a regular file was listed would otherwise hang the reader
/// (opening a FIFO waits for a writer). Anything but a regular file is
/// refused as [`SkipReason::Special`].
pub fn open_regular(path: &Path) -> Result<std::fs::File, SkipReason> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    let ft = f
        .metadata()
        .map_err(|e| SkipReason::Unreadable(e.to_string()))?
        .file_type();
    if !ft.is_file() {
        return Err(SkipReason::Special(describe_type(&ft)));
    }
    Ok(f)
}

/// `O_NONBLOCK` on Linux and the BSDs (std has no constant for it).
#[cfg(any(target_os = "linux", target_os = "android"))]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const O_NONBLOCK: i32 = 0x0004;

fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, SkipReason> {
    let f = open_regular(path)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > max {
        return Err(SkipReason::TooLarge {
            size: len,
            limit: max,
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // The file may grow while we read it; never read past the cap.
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(SkipReason::TooLarge {
            size: bytes.len() as u64,
            limit: max,
        });
    }
    Ok(bytes)
}

fn report_walk_error(
    err: ignore::Error,
    rel: &dyn Fn(&Path) -> String,
    skip: &dyn Fn(String, SkipReason),
) {
    // ignore::Error nests path and depth wrappers around the cause.
    let mut path = None;
    let mut abs = None;
    let mut cur = &err;
    loop {
        match cur {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| rel(p));
                abs.get_or_insert(p);
                cur = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                cur = err
            }
            ignore::Error::Loop { child, .. } => {
                skip(rel(child), SkipReason::SymlinkLoop);
                return;
            }
            ignore::Error::Partial(errs) if !errs.is_empty() => cur = &errs[0],
            // A link to nothing holds nothing to read: passed over, not an
            // error (a scan treats unreadable files as errors).
            _ if abs.is_some_and(|p| is_dangling_link(p)) => {
                let target = std::fs::read_link(abs.unwrap()).unwrap_or_default();
                skip(
                    path.unwrap_or_default(),
                    SkipReason::Special(format!("dangling symbolic link to {}", target.display())),
                );
                return;
            }
            other => {
                skip(
                    path.unwrap_or_default(),
                    SkipReason::Unreadable(other.to_string()),
                );
                return;
            }
        }
    }
}

fn is_dangling_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(p).is_err()
}

/// Finds symbolic links under `dir` (not following any) whose target lies
/// outside `root`, and reports them. Separate from the parallel walk because
/// `filter_entry` cannot report what it drops.
fn report_outside_links(
    root: &Path,
    dir: &Path,
    opts: &WalkOptions,
    rel: &dyn Fn(&Path) -> String,
    skip: &dyn Fn(String, SkipReason),
) {
    let mut b = ignore::WalkBuilder::new(dir);
    b.standard_filters(false).hidden(false).follow_links(false);
    if opts.respect_ignore_files {
        b.git_ignore(true)
            .git_exclude(true)
            .ignore(true)
            .require_git(false);
    }
    b.filter_entry(|e| !(e.file_name() == ".git" && e.depth() > 0));
    for e in b.build().flatten() {
        if !e.path_is_symlink() {
            continue;
        }
        if let Ok(t) = std::fs::canonicalize(e.path()) {
            if !t.starts_with(root) {
                skip(
                    rel(e.path()),
                    SkipReason::OutsideRoot(t.display().to_string()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_that_are_not_utf8_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let raw: &[u8] = b"caf\xe9 \\x41\\.c";
        let text = super::escape_name(std::ffi::OsStr::from_bytes(raw));
        assert_eq!(text, "caf\\xE9 \\\\x41\\\\.c");
        assert_eq!(super::unescape_name(&text), raw);
        assert_eq!(super::escape_name(std::ffi::OsStr::new("a\\b.c")), "a\\b.c");
    }

    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn walks_reports_and_never_aborts() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("src/sub")).unwrap();
        std::fs::create_dir_all(r.join(".git")).unwrap();
        std::fs::write(r.join(".git/config"), "x").unwrap();
        std::fs::write(r.join("src/a.c"), "int a;").unwrap();
        std::fs::write(r.join("src/sub/b.c"), "int b;").unwrap();
        std::fs::write(r.join(".hidden"), "h").unwrap();
        std::fs::write(r.join("big.bin"), vec![0u8; 100]).unwrap();
        symlink("..", r.join("src/sub/loop")).unwrap();
        symlink("/etc", r.join("outside")).unwrap();
        symlink("src/a.c", r.join("inside-link.c")).unwrap();
        symlink("nowhere", r.join("dangling")).unwrap();
        let opts = WalkOptions {
            max_file_bytes: 50,
            ..WalkOptions::default()
        };
        let res = walk(r, &opts).unwrap();
        let paths: Vec<_> = res.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [".hidden", "inside-link.c", "src/a.c", "src/sub/b.c"]
        );
        let skipped: Vec<_> = res
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), s.reason.clone()))
            .collect();
        assert!(
            skipped.contains(&(
                "big.bin",
                SkipReason::TooLarge {
                    size: 100,
                    limit: 50
                }
            )),
            "{skipped:?}"
        );
        assert!(
            skipped
                .iter()
                .any(|(p, r)| *p == "src/sub/loop" && *r == SkipReason::SymlinkLoop),
            "{skipped:?}"
        );
        assert!(
            skipped
                .iter()
                .any(|(p, r)| *p == "outside" && matches!(r, SkipReason::OutsideRoot(_))),
            "{skipped:?}"
        );
        assert!(
            skipped
                .iter()
                .any(|(p, r)| *p == "dangling" && r.kind() == crate::SkipKind::Special),
            "{skipped:?}"
        );
    }

    #[test]
    fn missing_root_is_an_error() {
        let e = walk(Path::new("/no/such/dir"), &WalkOptions::default()).unwrap_err();
        assert!(e.to_string().contains("/no/such/dir"));
    }

    #[test]
    fn list_then_read_equals_walk() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("src")).unwrap();
        std::fs::write(r.join("src/a.c"), "int a;").unwrap();
        std::fs::write(r.join("b.py"), "b = 1").unwrap();
        std::fs::write(r.join("huge.c"), vec![b'x'; 100]).unwrap();
        symlink("src", r.join("src/loop")).unwrap();
        let opts = WalkOptions {
            max_file_bytes: 50,
            ..WalkOptions::default()
        };
        let walked = walk(r, &opts).unwrap();
        let listed = list(r, &opts).unwrap();
        assert_eq!(walked.skipped, listed.skipped);
        assert!(listed.skipped.iter().any(|s| s.path == "huge.c"));
        let read: Vec<(String, Vec<u8>)> = listed
            .files
            .iter()
            .map(|f| (f.path.clone(), read_file(f, &opts).unwrap()))
            .collect();
        let expected: Vec<(String, Vec<u8>)> = walked
            .files
            .into_iter()
            .map(|f| (f.path, f.bytes))
            .collect();
        assert_eq!(read, expected);
        assert_eq!(listed.files[0].len, 5);
    }
}
