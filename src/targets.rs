//! Reading what the user asked to check: directories (honouring
//! `.gitignore`), single files, and archives found among them, whose entries
//! are reported as `vendor/x.tar.gz!/x-1.2/src/a.c`.
//!
//! [`plan`] lists the targets without reading them; each [`Target`] is then
//! loaded by the worker that checks it, so a scan holds only the files in
//! flight, not the tree.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use anyhow::Context;
use corpus::archive::{read_archive_bytes, Limits};
use corpus::walk::ListedFile;
use corpus::{ArchiveKind, WalkOptions};
use globset::{Glob, GlobSet, GlobSetBuilder};
use memmap2::Mmap;
use serde::Serialize;

/// A file to check, with its path relative to the root it was found under.
pub struct InputFile {
    pub rel: String,
    pub bytes: Bytes,
}

/// File content, read into memory or mapped.
pub enum Bytes {
    Owned(Vec<u8>),
    Mapped(Mmap),
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// How files on disk are brought into memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadMode {
    /// `read(2)` into a buffer.
    Read,
    /// Memory-map every file.
    Mmap,
    /// Map files of at least [`MMAP_MIN_BYTES`], read the others: mapping
    /// costs a few system calls and page faults that small files do not
    /// repay (see docs/benchmarks.md).
    #[default]
    Auto,
}

/// Smallest file [`ReadMode::Auto`] maps.
pub const MMAP_MIN_BYTES: u64 = 1 << 20;

/// A file that was not checked, and why. Nothing is dropped silently.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Which files to read.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    pub max_file_bytes: u64,
    /// Expand archives found in the tree.
    pub archives: bool,
}

fn glob_set(patterns: &[String]) -> anyhow::Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).with_context(|| format!("bad glob {p:?}"))?);
    }
    Ok(Some(b.build()?))
}

impl Selection {
    pub fn new(
        include: &[String],
        exclude: &[String],
        max_file_bytes: u64,
    ) -> anyhow::Result<Selection> {
        Ok(Selection {
            include: glob_set(include)?,
            exclude: glob_set(exclude)?,
            max_file_bytes,
            archives: true,
        })
    }

    fn wants(&self, rel: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(rel))
            && !self.exclude.as_ref().is_some_and(|g| g.is_match(rel))
    }
}

/// One thing to check: a file on disk, or an archive whose entries are
/// checked one by one.
pub struct Target {
    /// Path relative to the root (the file name for a single-file root).
    pub rel: String,
    file: ListedFile,
    archive: Option<ArchiveKind>,
}

impl Target {
    /// The same target reported under another path (several roots are
    /// prefixed with their own path).
    pub fn renamed(self, rel: String) -> Target {
        Target { rel, ..self }
    }

    /// Size on disk when listed (an archive's packed size).
    pub fn size_on_disk(&self) -> u64 {
        self.file.len
    }

    /// Reads the target: one file, or the selected entries of an archive.
    /// Failures become skips naming the file and the problem.
    pub fn load(&self, sel: &Selection, mode: ReadMode) -> (Vec<InputFile>, Vec<Skipped>) {
        let bytes = match read_bytes(&self.file, sel, mode, self.archive.is_none()) {
            Ok(b) => b,
            Err(reason) => return (Vec::new(), vec![skip(&self.rel, &reason)]),
        };
        match self.archive {
            None => (
                vec![InputFile {
                    rel: self.rel.clone(),
                    bytes,
                }],
                Vec::new(),
            ),
            Some(kind) => {
                let (mut files, mut skipped) = (Vec::new(), Vec::new());
                expand(&self.rel, &bytes, kind, sel, &mut files, &mut skipped);
                (files, skipped)
            }
        }
    }
}

/// Archives are decompressed from memory in any case, so mapping them
/// gains nothing; plain files follow `mode`.
fn read_bytes(
    file: &ListedFile,
    sel: &Selection,
    mode: ReadMode,
    may_map: bool,
) -> Result<Bytes, String> {
    let map = may_map
        && file.len > 0
        && match mode {
            ReadMode::Read => false,
            ReadMode::Mmap => true,
            ReadMode::Auto => file.len >= MMAP_MIN_BYTES,
        };
    if map {
        let f = std::fs::File::open(&file.abs).map_err(|e| format!("cannot open: {e}"))?;
        // SAFETY: the map is read-only and private to this process. A file
        // truncated by another process while mapped would fault; that is the
        // same trade-off every grep-like tool makes for large files.
        let m = unsafe { Mmap::map(&f) }.map_err(|e| format!("cannot map: {e}"))?;
        if m.len() as u64 > sel.max_file_bytes {
            return Err(format!(
                "too large ({} bytes, limit {})",
                m.len(),
                sel.max_file_bytes
            ));
        }
        return Ok(Bytes::Mapped(m));
    }
    corpus::walk::read_file(file, &walk_options(sel))
        .map(Bytes::Owned)
        .map_err(|r| r.to_string())
}

fn walk_options(sel: &Selection) -> WalkOptions {
    WalkOptions {
        max_file_bytes: sel.max_file_bytes,
        respect_ignore_files: true,
        threads: 0,
    }
}

/// Lists what to check under `root` (a directory or a single file) without
/// reading it.
pub fn plan(root: &Path, sel: &Selection) -> anyhow::Result<(Vec<Target>, Vec<Skipped>)> {
    let meta =
        std::fs::metadata(root).with_context(|| format!("{}: cannot read", root.display()))?;
    let (listed, skipped) = if meta.is_dir() {
        let listing = corpus::walk::list(root, &walk_options(sel))?;
        let skipped = listing
            .skipped
            .iter()
            .map(|s| skip(&s.path, &s.reason))
            .collect();
        (listing.files, skipped)
    } else {
        let name = root.file_name().map_or_else(
            || root.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        let file = ListedFile {
            path: name,
            abs: PathBuf::from(root),
            len: meta.len(),
        };
        (vec![file], Vec::new())
    };
    let mut targets = Vec::new();
    for file in listed {
        let archive = ArchiveKind::from_name(&file.path).filter(|_| sel.archives);
        if archive.is_some() || sel.wants(&file.path) {
            targets.push(Target {
                rel: file.path.clone(),
                file,
                archive,
            });
        }
    }
    Ok((targets, skipped))
}

/// Reads every selected file under `root` into memory (for `compare`, which
/// indexes one side in memory anyway).
pub fn read(root: &Path, sel: &Selection) -> anyhow::Result<(Vec<InputFile>, Vec<Skipped>)> {
    let (targets, mut skipped) = plan(root, sel)?;
    let mut files = Vec::new();
    for t in &targets {
        let (f, s) = t.load(sel, ReadMode::Read);
        files.extend(f);
        skipped.extend(s);
    }
    Ok((files, skipped))
}

fn skip(path: &str, reason: &impl std::fmt::Display) -> Skipped {
    Skipped {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

fn expand(
    rel: &str,
    bytes: &[u8],
    kind: ArchiveKind,
    sel: &Selection,
    files: &mut Vec<InputFile>,
    skipped: &mut Vec<Skipped>,
) {
    let limits = Limits::default();
    match read_archive_bytes(rel, bytes, kind, &limits) {
        Ok(unpacked) => {
            skipped.extend(
                unpacked
                    .skipped
                    .iter()
                    .map(|s| skip(&format!("{rel}!/{}", s.path), &s.reason)),
            );
            for f in unpacked.files {
                let path = format!("{rel}!/{}", f.path);
                if sel.wants(&path) {
                    files.push(InputFile {
                        rel: path,
                        bytes: Bytes::Owned(f.bytes),
                    });
                }
            }
        }
        Err(err) => skipped.push(skip(rel, &err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("src")).unwrap();
        std::fs::write(d.path().join("src/a.c"), "int a;\n").unwrap();
        std::fs::write(d.path().join("b.py"), "b = 1\n").unwrap();
        std::fs::write(d.path().join("big.c"), vec![b'x'; 4096]).unwrap();
        d
    }

    fn load_all(root: &Path, sel: &Selection, mode: ReadMode) -> Vec<(String, Vec<u8>)> {
        let (targets, _) = plan(root, sel).unwrap();
        targets
            .iter()
            .flat_map(|t| t.load(sel, mode).0)
            .map(|f| (f.rel, f.bytes.to_vec()))
            .collect()
    }

    #[test]
    fn every_read_mode_yields_the_same_bytes() {
        let d = tree();
        let sel = Selection::new(&[], &[], 1 << 20).unwrap();
        let read = load_all(d.path(), &sel, ReadMode::Read);
        assert_eq!(read.len(), 3);
        assert_eq!(read, load_all(d.path(), &sel, ReadMode::Mmap));
        assert_eq!(read, load_all(d.path(), &sel, ReadMode::Auto));
    }

    #[test]
    fn globs_and_size_cap_apply_before_reading() {
        let d = tree();
        let sel = Selection::new(&["**/*.c".into()], &["src/**".into()], 1000).unwrap();
        let (targets, skipped) = plan(d.path(), &sel).unwrap();
        assert!(
            targets.is_empty(),
            "{:?}",
            targets.iter().map(|t| &t.rel).collect::<Vec<_>>()
        );
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].path, "big.c");
        assert!(skipped[0].reason.contains("4096"), "{}", skipped[0].reason);
    }

    #[test]
    fn a_file_that_vanishes_after_listing_is_skipped_with_its_name() {
        let d = tree();
        let sel = Selection::new(&[], &[], 1 << 20).unwrap();
        let (targets, _) = plan(d.path(), &sel).unwrap();
        std::fs::remove_file(d.path().join("b.py")).unwrap();
        for mode in [ReadMode::Read, ReadMode::Mmap] {
            let t = targets.iter().find(|t| t.rel == "b.py").unwrap();
            let (files, skipped) = t.load(&sel, mode);
            assert!(files.is_empty());
            assert_eq!(skipped[0].path, "b.py");
        }
    }
}
