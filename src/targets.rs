//! Reading what the user asked to check: directories (every file in them,
//! `.gitignore` included only on request: a provenance gate must see what
//! ships, and an ignore file must not hide vendored code), single files, and
//! archives found among them, whose entries
//! are reported as `vendor/x.tar.gz!/x-1.2/src/a.c`.
//!
//! [`plan`] lists the targets without reading them; each [`Target`] is then
//! loaded by the worker that checks it, so a scan holds only the files in
//! flight, not the tree.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::Context;
use corpus::archive::{stream_archive, Limits, Sink};
use corpus::walk::ListedFile;
use corpus::{ArchiveKind, SourceFile, WalkOptions};
use globset::{Glob, GlobSet, GlobSetBuilder};
use memmap2::Mmap;
use serde::ser::SerializeStruct;
use serde::Serialize;

pub use corpus::{SkipKind, SkipReason};

/// A file to check, with its path relative to the root it was found under.
/// It holds its share of the scan's [`MemoryBudget`] until it is dropped.
pub struct InputFile {
    pub rel: String,
    pub bytes: Bytes,
    _permit: Option<Permit>,
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
/// In JSON: `path`, the stable `kind` of the reason, and the `reason` in
/// words (docs/report-schema.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

impl Skipped {
    pub fn kind(&self) -> SkipKind {
        self.reason.kind()
    }
}

impl Serialize for Skipped {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Skipped", 3)?;
        st.serialize_field("path", &self.path)?;
        st.serialize_field("kind", self.kind().name())?;
        st.serialize_field("reason", &self.reason.to_string())?;
        st.end()
    }
}

/// What analysing a file costs in memory per byte of source, as measured
/// (docs/policy.md, "Memory"): tokens, the syntax tree, fingerprints and
/// the alignment's tables together, with a margin.
pub const ANALYSIS_BYTES_PER_SOURCE_BYTE: u64 = 40;

/// Memory shared by the worker threads of a scan: every file and archive
/// entry reserves what its analysis will cost before it is read, and waits
/// while the budget is spent, so the peak stays bounded whatever the inputs
/// and however many threads run. A request larger than the whole budget is
/// granted when nothing else holds any, so it runs alone.
pub struct MemoryBudget {
    capacity: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// A share of a [`MemoryBudget`], given back when dropped.
pub struct Permit {
    budget: Arc<MemoryBudget>,
    bytes: u64,
}

impl Drop for Permit {
    fn drop(&mut self) {
        *self.budget.used.lock().unwrap() -= self.bytes;
        self.budget.freed.notify_all();
    }
}

impl MemoryBudget {
    pub fn new(capacity: u64) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            capacity,
            used: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    /// A budget that never makes anyone wait (for `compare`, which holds
    /// both sides in memory anyway).
    pub fn unlimited() -> Arc<MemoryBudget> {
        MemoryBudget::new(u64::MAX)
    }

    /// What a file of `len` bytes will cost once read and analysed.
    pub fn cost(len: u64) -> u64 {
        len.saturating_mul(ANALYSIS_BYTES_PER_SOURCE_BYTE + 1)
            .saturating_add(64 << 10)
    }

    fn grant(self: &Arc<Self>, want: u64) -> Option<Permit> {
        let mut used = self.used.lock().unwrap();
        let want = want.min(self.capacity);
        if *used == 0 || used.saturating_add(want) <= self.capacity {
            *used += want;
            return Some(Permit {
                budget: self.clone(),
                bytes: want,
            });
        }
        None
    }

    /// Reserves `want` bytes if they are free now.
    pub fn try_acquire(self: &Arc<Self>, want: u64) -> Option<Permit> {
        self.grant(want)
    }

    /// Reserves `want` bytes, waiting until they are free. A worker of the
    /// rayon pool runs other pending work meanwhile: the holders of the
    /// budget may be queued behind it, and must not wait for it.
    pub fn acquire(self: &Arc<Self>, want: u64) -> Permit {
        loop {
            if let Some(p) = self.grant(want) {
                return p;
            }
            if let Some(rayon::Yield::Executed) = rayon::yield_now() {
                continue;
            }
            let used = self.used.lock().unwrap();
            let _ = self
                .freed
                .wait_timeout(used, Duration::from_millis(5))
                .unwrap();
        }
    }
}

/// Source bytes of archive entries handed to the workers at once: enough to
/// spread one vendored tarball over the pool, little enough to wait for.
const BATCH_BYTES: u64 = 8 << 20;

/// Which files to read.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    /// Cap on plain files and archive entries alike.
    pub max_file_bytes: u64,
    /// Expand archives found in the tree.
    pub archives: bool,
    /// Levels of archives inside archives that are expanded.
    pub max_archive_depth: u32,
    /// Leave out what `.gitignore`, `.ignore` and `.git/info/exclude` name.
    pub respect_ignore_files: bool,
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
            max_archive_depth: Limits::default().max_depth,
            respect_ignore_files: false,
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

/// A reported path whose file name on disk is not UTF-8: the report's
/// `path` writes the odd bytes as `\xNN` (see `corpus::walk::escape_name`);
/// `bytes_hex` gives the file's path on disk exactly.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RawPath {
    pub path: String,
    pub bytes_hex: String,
}

impl Target {
    /// For a file whose path on disk is not UTF-8, how to find it again.
    pub fn raw_path(&self) -> Option<RawPath> {
        use std::os::unix::ffi::OsStrExt;
        self.file.abs.to_str().is_none().then(|| RawPath {
            path: self.rel.clone(),
            bytes_hex: self
                .file
                .abs
                .as_os_str()
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        })
    }

    /// The same target reported under another path (several roots are
    /// prefixed with their own path).
    pub fn renamed(self, rel: String) -> Target {
        Target { rel, ..self }
    }

    /// Size on disk when listed (an archive's packed size).
    pub fn size_on_disk(&self) -> u64 {
        self.file.len
    }

    /// Reads the target whole: one file, or the selected entries of an
    /// archive. Failures become skips naming the file and the problem.
    pub fn load(&self, sel: &Selection, mode: ReadMode) -> (Vec<InputFile>, Vec<Skipped>) {
        let mut files = Vec::new();
        let skipped = self.load_each(sel, mode, &MemoryBudget::unlimited(), &mut |batch| {
            files.extend(batch)
        });
        (files, skipped)
    }

    /// Reads the target in batches handed to `check`, each file holding its
    /// share of `budget`: a plain file is one batch; an archive is streamed
    /// and its entries go out a few megabytes at a time, so neither a large
    /// archive nor many threads unpacking at once can exhaust memory.
    /// Returns the skips (an unreadable file is a skip of kind
    /// `unreadable`, which a scan turns into an error).
    pub fn load_each(
        &self,
        sel: &Selection,
        mode: ReadMode,
        budget: &Arc<MemoryBudget>,
        check: &mut dyn FnMut(Vec<InputFile>),
    ) -> Vec<Skipped> {
        let Some(kind) = self.archive else {
            let permit = budget.acquire(MemoryBudget::cost(self.file.len));
            return match read_bytes(&self.file, sel, mode) {
                Ok(bytes) => {
                    check(vec![InputFile {
                        rel: self.rel.clone(),
                        bytes,
                        _permit: Some(permit),
                    }]);
                    Vec::new()
                }
                Err(reason) => vec![skip(&self.rel, reason)],
            };
        };
        let limits = Limits::for_scan(sel.max_file_bytes, sel.max_archive_depth);
        let mut sink = EntrySink {
            rel: &self.rel,
            sel,
            budget,
            check,
            batch: Vec::new(),
            batch_bytes: 0,
            files: 0,
            skipped: Vec::new(),
            damaged: false,
        };
        if let Err(e) = stream_archive(&self.file.abs, kind, &limits, &mut sink) {
            sink.skipped
                .push(skip(&self.rel, SkipReason::Unreadable(e.to_string())));
        }
        sink.flush();
        let (files, damaged) = (sink.files, sink.damaged);
        let mut skipped = sink.skipped;
        // Nothing could be read as an archive: check the bytes as a plain
        // file, so that naming a file `.zip` cannot hide it.
        if files == 0 && damaged && self.file.len <= sel.max_file_bytes {
            let permit = budget.acquire(MemoryBudget::cost(self.file.len));
            match read_bytes(&self.file, sel, ReadMode::Read) {
                Ok(bytes) => check(vec![InputFile {
                    rel: self.rel.clone(),
                    bytes,
                    _permit: Some(permit),
                }]),
                Err(reason) => skipped.push(skip(&self.rel, reason)),
            }
        }
        skipped
    }
}

/// Receives the entries of an archive in a scan and hands them to the
/// workers in batches, within the memory budget.
struct EntrySink<'a> {
    rel: &'a str,
    sel: &'a Selection,
    budget: &'a Arc<MemoryBudget>,
    check: &'a mut dyn FnMut(Vec<InputFile>),
    batch: Vec<InputFile>,
    batch_bytes: u64,
    files: usize,
    skipped: Vec<Skipped>,
    /// The outermost archive reported damage.
    damaged: bool,
}

impl EntrySink<'_> {
    fn flush(&mut self) {
        if !self.batch.is_empty() {
            (self.check)(std::mem::take(&mut self.batch));
            self.batch_bytes = 0;
        }
    }
}

impl Sink for EntrySink<'_> {
    fn file(&mut self, f: SourceFile) {
        self.files += 1;
        let path = format!("{}!/{}", self.rel, f.path);
        if !self.sel.wants(&path) {
            return;
        }
        let cost = MemoryBudget::cost(f.bytes.len() as u64);
        // Never wait for budget while holding some in an unsent batch:
        // the batch could be what the others wait for.
        let permit = match self.budget.try_acquire(cost) {
            Some(p) => p,
            None => {
                self.flush();
                self.budget.acquire(cost)
            }
        };
        self.batch_bytes += f.bytes.len() as u64;
        self.batch.push(InputFile {
            rel: path,
            bytes: Bytes::Owned(f.bytes),
            _permit: Some(permit),
        });
        if self.batch_bytes >= BATCH_BYTES {
            self.flush();
        }
    }

    fn skip(&mut self, s: corpus::Skipped) {
        let path = if s.path.is_empty() {
            self.damaged = true;
            self.rel.to_string()
        } else {
            format!("{}!/{}", self.rel, s.path)
        };
        self.skipped.push(Skipped {
            path,
            reason: s.reason,
        });
    }
}

/// Plain files are read or mapped following `mode` (archives are streamed
/// from the file by [`stream_archive`]). Only regular files are opened,
/// without blocking (see [`corpus::walk::open_regular`]).
fn read_bytes(file: &ListedFile, sel: &Selection, mode: ReadMode) -> Result<Bytes, SkipReason> {
    let map = file.len > 0
        && match mode {
            ReadMode::Read => false,
            ReadMode::Mmap => true,
            ReadMode::Auto => file.len >= MMAP_MIN_BYTES,
        };
    if map {
        let f = corpus::walk::open_regular(&file.abs)?;
        // SAFETY: the map is read-only and private to this process. A file
        // truncated by another process while mapped would fault; that is the
        // same trade-off every grep-like tool makes for large files.
        let m = unsafe { Mmap::map(&f) }
            .map_err(|e| SkipReason::Unreadable(format!("cannot map: {e}")))?;
        if m.len() as u64 > sel.max_file_bytes {
            return Err(SkipReason::TooLarge {
                size: m.len() as u64,
                limit: sel.max_file_bytes,
            });
        }
        return Ok(Bytes::Mapped(m));
    }
    corpus::walk::read_file(file, &walk_options(sel)).map(Bytes::Owned)
}

fn walk_options(sel: &Selection) -> WalkOptions {
    WalkOptions {
        max_file_bytes: sel.max_file_bytes,
        respect_ignore_files: sel.respect_ignore_files,
        // Listing only stats entries, and the parallel walker's idle
        // workers sleep a millisecond at a time until all are done: a scan
        // of one changed file spent 1.5 ms of its 28 waiting on them
        // (`farm-bench` A/B of 21 pairs, 0.94 wall). A cold tree of a
        // million files lists in seconds either way; reading and matching
        // them is the scan's time.
        threads: 1,
    }
}

/// Lists what to check under `root` (a directory or a single file) without
/// reading it. Anything else (a FIFO, a device) is refused: reading it
/// could block or never end.
pub fn plan(root: &Path, sel: &Selection) -> anyhow::Result<(Vec<Target>, Vec<Skipped>)> {
    let meta =
        std::fs::metadata(root).with_context(|| format!("{}: cannot read", root.display()))?;
    let (listed, mut skipped) = if meta.is_dir() {
        // Archives are streamed entry by entry, so the size cap applies to
        // their entries, not to them: list everything, cap plain files below.
        let listing = corpus::walk::list(
            root,
            &WalkOptions {
                max_file_bytes: u64::MAX,
                ..walk_options(sel)
            },
        )?;
        let skipped = listing
            .skipped
            .into_iter()
            .map(|s| skip(&s.path, s.reason))
            .collect();
        (listing.files, skipped)
    } else if meta.is_file() {
        let name = root
            .file_name()
            .map_or_else(|| root.display().to_string(), corpus::walk::escape_name);
        let file = ListedFile {
            path: name,
            abs: PathBuf::from(root),
            len: meta.len(),
        };
        (vec![file], Vec::new())
    } else {
        let ft = meta.file_type();
        use std::os::unix::fs::FileTypeExt;
        let what = if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        };
        anyhow::bail!(
            "{}: is {what}, not a file or directory; refusing to read it",
            root.display()
        );
    };
    let mut targets = Vec::new();
    for file in listed {
        let archive = ArchiveKind::from_name(&file.path).filter(|_| sel.archives);
        if archive.is_none() && !sel.wants(&file.path) {
            continue;
        }
        if archive.is_none() && file.len > sel.max_file_bytes {
            skipped.push(skip(
                &file.path,
                SkipReason::TooLarge {
                    size: file.len,
                    limit: sel.max_file_bytes,
                },
            ));
            continue;
        }
        targets.push(Target {
            rel: file.path.clone(),
            file,
            archive,
        });
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
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

fn skip(path: &str, reason: SkipReason) -> Skipped {
    Skipped {
        path: path.to_string(),
        reason,
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
        assert_eq!(
            skipped[0].reason,
            SkipReason::TooLarge {
                size: 4096,
                limit: 1000
            }
        );
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

    #[test]
    fn ignore_files_hide_nothing_unless_asked() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(".gitignore"), "/configure\nbuild/\n").unwrap();
        std::fs::write(d.path().join("configure"), "#! /bin/sh\necho generated\n").unwrap();
        std::fs::create_dir(d.path().join("build")).unwrap();
        std::fs::write(
            d.path().join("build/vendored.c"),
            "int f(void) { return 1; }\n",
        )
        .unwrap();
        std::fs::write(d.path().join("main.c"), "int main(void) { return 0; }\n").unwrap();
        let names = |sel: &Selection| -> Vec<String> {
            let (targets, _) = plan(d.path(), sel).unwrap();
            let mut v: Vec<String> = targets.into_iter().map(|t| t.rel).collect();
            v.sort();
            v
        };
        let mut sel = Selection::new(&[], &[], 1 << 20).unwrap();
        assert_eq!(
            names(&sel),
            [".gitignore", "build/vendored.c", "configure", "main.c"]
        );
        sel.respect_ignore_files = true;
        assert_eq!(names(&sel), [".gitignore", "main.c"]);
    }
}
