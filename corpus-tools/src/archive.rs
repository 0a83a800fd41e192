//! Safe unpacking of source archives, including archives inside archives.
//!
//! Archives from registries are untrusted input. Everything is read into
//! memory first and checked entry by entry: paths must stay inside the
//! archive root (no `..`, no absolute paths, no links pointing out), and
//! [`Limits`] cap the number of entries, the size of each entry, the total
//! unpacked size and the compression ratio, so a decompression bomb stops
//! early instead of filling memory or disk. Only when an archive passed all
//! checks does [`unpack_to_dir`] write anything, and only regular files
//! inside the target; on a write error it removes what it wrote.
//!
//! Files inside nested archives are named `outer/path/inner.zip!/a.c`;
//! errors name the whole chain, e.g. `pkg.tar.gz!/vendor/inner.zip`.
//!
//! Two policies for what is hostile or damaged ([`Hostile`]): building the
//! index refuses such an archive whole (nothing of it is written); a scan
//! refuses only the offending entry, reports it, and checks everything
//! else, because there a whole-archive refusal would let one planted entry
//! hide the rest of the archive from the gate. In the scan policy entries
//! are handed to a [`Sink`] as they are read ([`stream_archive`]), so an
//! archive is never held in memory whole.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs;
use std::io::{self, Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::file::{SkipReason, Skipped, SourceFile};
use crate::source::ArchiveKind;

/// Caps applied while unpacking. The defaults fit real source packages
/// (the largest Debian source tarballs unpack to a few GiB only for
/// browsers and office suites; raise the caps for those).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Total unpacked bytes, nested archives included.
    pub max_total_bytes: u64,
    /// Unpacked bytes of any single entry.
    pub max_entry_bytes: u64,
    /// Number of entries (files, directories, links), nested included.
    pub max_entries: u64,
    /// Largest allowed ratio of unpacked to compressed bytes. Checked once
    /// more than [`Limits::ratio_min_bytes`] were produced, since tiny inputs
    /// legitimately have extreme ratios.
    pub max_ratio: u64,
    /// Output volume below which the ratio is not checked.
    pub ratio_min_bytes: u64,
    /// How many levels of archives inside archives are expanded; deeper
    /// ones are kept as plain files.
    pub max_depth: u32,
    /// When false (the default) a nested archive that fails to unpack is
    /// kept as a plain file and reported as [`SkipReason::NestedArchive`]:
    /// packages often ship deliberately broken archives as test fixtures.
    /// Exceeding the total size or entry count always fails.
    pub strict_nested: bool,
    /// What to do with an unsafe entry, a damaged stream or a deep nest.
    pub on_hostile: Hostile,
}

/// What a hostile or damaged archive costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hostile {
    /// Refuse the whole archive with an [`ArchiveError`] (for the index:
    /// nothing is unpacked from an archive that tried something).
    #[default]
    RefuseArchive,
    /// Refuse only the offending entry and report it as a [`Skipped`]
    /// (kind `unsafe-entry`, `too-large`, `nested-too-deep`); a damaged
    /// stream yields the entries read before the damage and a
    /// `damaged-archive` record. Only [`ArchiveError::Io`] on opening the
    /// file is returned as an error.
    RefuseEntry,
}

impl Limits {
    /// Limits for checking the entries of archives met in a scan:
    /// `max_entry_bytes` is the scan's file size cap and `max_depth` its
    /// nesting depth; hostile entries are refused one by one.
    pub fn for_scan(max_entry_bytes: u64, max_depth: u32) -> Limits {
        Limits {
            max_entry_bytes,
            max_depth,
            on_hostile: Hostile::RefuseEntry,
            ..Limits::default()
        }
    }

    fn per_entry(&self) -> bool {
        self.on_hostile == Hostile::RefuseEntry
    }
}

/// Receives what an archive holds, entry by entry, as it is read.
pub trait Sink {
    /// A regular file, read whole and within the limits.
    fn file(&mut self, file: SourceFile);
    /// An entry that was passed over, or damage that ended the archive.
    fn skip(&mut self, skipped: Skipped);
}

impl Sink for Unpacked {
    fn file(&mut self, file: SourceFile) {
        self.files.push(file);
    }
    fn skip(&mut self, skipped: Skipped) {
        self.skipped.push(skipped);
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 2 << 30,
            max_entry_bytes: 256 << 20,
            max_entries: 500_000,
            max_ratio: 200,
            ratio_min_bytes: 4 << 20,
            max_depth: 3,
            strict_nested: false,
            on_hostile: Hostile::RefuseArchive,
        }
    }
}

/// Why an archive was rejected. `archive` is the display path of the
/// archive (with `!/` separators for nested ones), `entry` the entry's path
/// as recorded in the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading the archive file or stream failed.
    #[error("{archive}: cannot read: {source}")]
    Io {
        /// The archive.
        archive: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The bytes are not a valid archive of the expected kind.
    #[error("{archive}: not a valid {kind} archive: {message}")]
    Format {
        /// The archive.
        archive: String,
        /// The expected format.
        kind: &'static str,
        /// The decoder's complaint.
        message: String,
    },
    /// An entry path uses `..` to climb out of the root.
    #[error("{archive}: entry {entry:?} climbs out of the archive root with '..'")]
    Traversal {
        /// The archive.
        archive: String,
        /// The entry path as recorded.
        entry: String,
    },
    /// An entry has an absolute path.
    #[error("{archive}: entry {entry:?} has an absolute path")]
    AbsolutePath {
        /// The archive.
        archive: String,
        /// The entry path as recorded.
        entry: String,
    },
    /// A symbolic or hard link points outside the root.
    #[error("{archive}: link {entry:?} points outside the archive root (target {target:?})")]
    LinkEscape {
        /// The archive.
        archive: String,
        /// The link's path.
        entry: String,
        /// The link target as recorded.
        target: String,
    },
    /// One entry is larger than [`Limits::max_entry_bytes`].
    #[error("{archive}: entry {entry:?} unpacks to more than {limit} bytes (per-entry limit)")]
    EntryTooLarge {
        /// The archive.
        archive: String,
        /// The entry.
        entry: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The unpacked total exceeds [`Limits::max_total_bytes`].
    #[error("{archive}: unpacked size exceeds the limit of {limit} bytes (at entry {entry:?})")]
    TotalTooLarge {
        /// The archive.
        archive: String,
        /// The entry being read when the limit was hit.
        entry: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// More entries than [`Limits::max_entries`].
    #[error("{archive}: more than {limit} entries (at entry {entry:?})")]
    TooManyEntries {
        /// The archive.
        archive: String,
        /// The first entry over the limit.
        entry: String,
        /// The limit.
        limit: u64,
    },
    /// Unpacked/compressed ratio above [`Limits::max_ratio`]: a likely bomb.
    #[error("{archive}: compression ratio above {limit}:1 at entry {entry:?}; refusing a likely decompression bomb")]
    Bomb {
        /// The archive.
        archive: String,
        /// The entry being read.
        entry: String,
        /// The ratio limit.
        limit: u64,
    },
    /// [`unpack_to_dir`] was given a target that already holds files.
    #[error(
        "{dest}: target directory exists and is not empty; refusing to unpack {archive} into it"
    )]
    DestNotEmpty {
        /// The archive.
        archive: String,
        /// The target directory.
        dest: PathBuf,
    },
    /// Writing an unpacked file failed (everything written was removed).
    #[error("{dest}: cannot write entry {entry:?} of {archive}: {source}")]
    Write {
        /// The archive.
        archive: String,
        /// The entry.
        entry: String,
        /// The target directory.
        dest: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

impl ArchiveError {
    /// Errors about the global budget, which a nested archive must not be
    /// allowed to swallow.
    fn is_budget(&self) -> bool {
        matches!(
            self,
            ArchiveError::TotalTooLarge { .. } | ArchiveError::TooManyEntries { .. }
        )
    }

    /// The skip recorded for an entry refused on its own ([`Hostile::RefuseEntry`]).
    fn entry_skip(&self) -> SkipReason {
        match self {
            ArchiveError::EntryTooLarge { limit, .. } => SkipReason::TooLarge {
                size: limit + 1,
                limit: *limit,
            },
            ArchiveError::Traversal { .. }
            | ArchiveError::AbsolutePath { .. }
            | ArchiveError::LinkEscape { .. }
            | ArchiveError::Bomb { .. } => SkipReason::UnsafeEntry(self.to_string()),
            _ => SkipReason::DamagedArchive(self.to_string()),
        }
    }
}

/// The content of an archive, read into memory.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Regular files, in archive order (a path recorded twice keeps the
    /// last copy, as tar extraction would).
    pub files: Vec<SourceFile>,
    /// Links, special files, encrypted entries, unexpandable nested archives.
    pub skipped: Vec<Skipped>,
    /// For a `.gem`: the gemspec YAML from `metadata.gz`.
    pub gem_metadata: Option<String>,
}

/// Reads an archive file into memory with all checks applied.
pub fn read_archive(
    path: &Path,
    kind: ArchiveKind,
    limits: &Limits,
) -> Result<Unpacked, ArchiveError> {
    let display = path.display().to_string();
    let file = fs::File::open(path).map_err(|source| ArchiveError::Io {
        archive: display.clone(),
        source,
    })?;
    let mut st = State::new(limits);
    let mut out = Unpacked::default();
    let ctx = Ctx {
        display,
        prefix: String::new(),
        depth: 0,
    };
    st.read_top(&ctx, io::BufReader::new(file), kind, &mut out)?;
    out.gem_metadata = st.gem_metadata.take();
    dedupe(&mut out.files);
    Ok(out)
}

/// Reads an archive file entry by entry into `sink`, holding one entry
/// (and one nested archive per level) in memory at a time. Under
/// [`Hostile::RefuseEntry`] the only error is failing to open the file;
/// everything else is reported to the sink. Paths are not de-duplicated:
/// both copies of a path recorded twice are handed over.
pub fn stream_archive(
    path: &Path,
    kind: ArchiveKind,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<(), ArchiveError> {
    let display = path.display().to_string();
    let file = fs::File::open(path).map_err(|source| ArchiveError::Io {
        archive: display.clone(),
        source,
    })?;
    let mut st = State::new(limits);
    let ctx = Ctx {
        display,
        prefix: String::new(),
        depth: 0,
    };
    st.read_top(&ctx, io::BufReader::new(file), kind, sink)
}

/// Reads an archive held in memory; `name` is used in paths and errors.
pub fn read_archive_bytes(
    name: &str,
    bytes: &[u8],
    kind: ArchiveKind,
    limits: &Limits,
) -> Result<Unpacked, ArchiveError> {
    let mut st = State::new(limits);
    let mut out = Unpacked::default();
    let ctx = Ctx {
        display: name.to_string(),
        prefix: String::new(),
        depth: 0,
    };
    st.read_top(&ctx, Cursor::new(bytes), kind, &mut out)?;
    out.gem_metadata = st.gem_metadata.take();
    dedupe(&mut out.files);
    Ok(out)
}

/// Unpacks an archive into `dest`, which must not exist or be empty.
///
/// The archive is first read and checked completely in memory, so a hostile
/// archive is rejected before anything is written. Only regular files are
/// created (links are reported in [`Unpacked::skipped`], never created), each
/// with `create_new`, so nothing can be written through a link. If writing
/// fails, every file and directory created is removed again. Returns the
/// unpacked listing (the bytes are kept as well).
pub fn unpack_to_dir(
    path: &Path,
    kind: ArchiveKind,
    dest: &Path,
    limits: &Limits,
) -> Result<Unpacked, ArchiveError> {
    let archive = path.display().to_string();
    if let Ok(mut rd) = fs::read_dir(dest) {
        if rd.next().is_some() {
            return Err(ArchiveError::DestNotEmpty {
                archive,
                dest: dest.to_path_buf(),
            });
        }
    }
    let unpacked = read_archive(path, kind, limits)?;
    let created_dest = !dest.exists();
    let mut created: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<(), (String, io::Error)> {
        fs::create_dir_all(dest).map_err(|e| (String::new(), e))?;
        for f in &unpacked.files {
            let target = dest.join(&f.path);
            if let Some(parent) = target.parent() {
                // Record each directory we create, outermost first.
                let mut missing = Vec::new();
                let mut p = parent;
                while !p.exists() {
                    missing.push(p.to_path_buf());
                    match p.parent() {
                        Some(pp) => p = pp,
                        None => break,
                    }
                }
                fs::create_dir_all(parent).map_err(|e| (f.path.clone(), e))?;
                created.extend(missing.into_iter().rev());
            }
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|e| (f.path.clone(), e))?;
            created.push(target.clone());
            io::Write::write_all(&mut out, &f.bytes).map_err(|e| (f.path.clone(), e))?;
        }
        Ok(())
    })();
    if let Err((entry, source)) = result {
        if created_dest {
            let _ = fs::remove_dir_all(dest);
        } else {
            for p in created.iter().rev() {
                if p.is_dir() {
                    let _ = fs::remove_dir(p);
                } else {
                    let _ = fs::remove_file(p);
                }
            }
        }
        return Err(ArchiveError::Write {
            archive,
            entry,
            dest: dest.to_path_buf(),
            source,
        });
    }
    Ok(unpacked)
}

/// Keeps only the last copy of each path (at the position of that copy).
fn dedupe(files: &mut Vec<SourceFile>) {
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        last.insert(f.path.clone(), i);
    }
    if last.len() == files.len() {
        return;
    }
    let mut i = 0;
    files.retain(|f| {
        let keep = last.get(&f.path) == Some(&i);
        i += 1;
        keep
    });
}

/// Where we are: the display name of the current archive, the path prefix
/// its entries get in the unpacked tree, and the nesting depth.
struct Ctx {
    display: String,
    prefix: String,
    depth: u32,
}

impl Ctx {
    fn nested(&self, rel: &str) -> Ctx {
        Ctx {
            display: format!("{}!/{}", self.display, rel),
            prefix: format!("{}{}!/", self.prefix, rel),
            depth: self.depth + 1,
        }
    }
}

/// Running totals shared by an archive and everything nested in it.
struct State<'l> {
    limits: &'l Limits,
    total: u64,
    entries: u64,
    /// Files handed to the sink so far (to tell an archive that yielded
    /// nothing from one damaged half-way).
    emitted: u64,
    gem_metadata: Option<String>,
}

/// Counts the bytes passing through a reader. With a `limit` it fails once
/// more than `limit` bytes went through beyond the `credit` (the bytes of
/// entries accepted): skipping over refused entries, which decompresses
/// them all the same, may not cost more than the budget.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    limit: Option<(u64, Rc<Cell<u64>>)>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        if let Some((limit, credit)) = &self.limit {
            if self.count.get() > limit.saturating_add(credit.get()) {
                return Err(io::Error::other(format!(
                    "more than {limit} bytes unpacked for refused entries; the rest of the stream was not read"
                )));
            }
        }
        Ok(n)
    }
}

/// Compressed-in / decompressed-out counters of one stream, and where they
/// stood when the current entry began.
#[derive(Clone)]
struct Ratio {
    compressed: Rc<Cell<u64>>,
    produced: Rc<Cell<u64>>,
    /// Counters at the start of the entry (per-entry ratio, scan policy).
    start: Cell<(u64, u64)>,
    /// Bytes of accepted entries (see [`Counting`]).
    credit: Rc<Cell<u64>>,
}

impl<'l> State<'l> {
    fn new(limits: &'l Limits) -> Self {
        State {
            limits,
            total: 0,
            entries: 0,
            emitted: 0,
            gem_metadata: None,
        }
    }

    /// The outermost archive: under the scan policy its damage is reported
    /// to the sink instead of returned.
    fn read_top<R: Read + Seek>(
        &mut self,
        ctx: &Ctx,
        reader: R,
        kind: ArchiveKind,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        match self.read_any(ctx, reader, kind, sink) {
            Err(e) if self.limits.per_entry() => {
                sink.skip(Skipped {
                    path: String::new(),
                    reason: SkipReason::DamagedArchive(e.to_string()),
                });
                Ok(())
            }
            other => other,
        }
    }

    fn read_any<R: Read + Seek>(
        &mut self,
        ctx: &Ctx,
        reader: R,
        kind: ArchiveKind,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        match kind {
            ArchiveKind::Zip => self.read_zip(ctx, reader, sink),
            ArchiveKind::Gem => self.read_gem(ctx, reader, sink),
            _ => self.read_tar_stream(ctx, reader, kind, sink),
        }
    }

    fn io_err(&self, ctx: &Ctx, source: io::Error) -> ArchiveError {
        ArchiveError::Io {
            archive: ctx.display.clone(),
            source,
        }
    }

    /// Under the scan policy an entry-level refusal becomes a skip and the
    /// archive goes on; under the index policy it ends the archive.
    fn refuse(
        &self,
        ctx: &Ctx,
        rel: &str,
        e: ArchiveError,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        if !self.limits.per_entry() || e.is_budget() {
            return Err(e);
        }
        sink.skip(Skipped {
            path: format!("{}{}", ctx.prefix, rel),
            reason: e.entry_skip(),
        });
        Ok(())
    }

    fn read_tar_stream<R: Read>(
        &mut self,
        ctx: &Ctx,
        reader: R,
        kind: ArchiveKind,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        let compressed = Rc::new(Cell::new(0));
        let produced = Rc::new(Cell::new(0));
        let raw = Counting {
            inner: reader,
            count: compressed.clone(),
            limit: None,
        };
        let decoder: Box<dyn Read> = match kind {
            ArchiveKind::Tar => Box::new(raw),
            ArchiveKind::TarGz => Box::new(flate2::read::MultiGzDecoder::new(raw)),
            ArchiveKind::TarXz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(raw)),
            ArchiveKind::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
            ArchiveKind::TarZst => {
                Box::new(zstd::stream::read::Decoder::new(raw).map_err(|e| self.io_err(ctx, e))?)
            }
            ArchiveKind::Zip | ArchiveKind::Gem => unreachable!("not a tar stream"),
        };
        let credit = Rc::new(Cell::new(0));
        let ratio = (kind != ArchiveKind::Tar).then(|| Ratio {
            compressed,
            produced: produced.clone(),
            start: Cell::new((0, 0)),
            credit: credit.clone(),
        });
        // Under the scan policy refused entries are skipped by reading
        // through them; this caps what that may cost.
        let limit = (self.limits.per_entry() && kind != ArchiveKind::Tar)
            .then_some((self.limits.max_total_bytes, credit));
        let counted = Counting {
            inner: decoder,
            count: produced,
            limit,
        };
        self.read_tar(ctx, counted, kind.label(), ratio.as_ref(), sink)
    }

    fn read_tar<R: Read>(
        &mut self,
        ctx: &Ctx,
        reader: R,
        label: &'static str,
        ratio: Option<&Ratio>,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        let mut ar = tar::Archive::new(reader);
        let fmt_err = |e: io::Error| ArchiveError::Format {
            archive: ctx.display.clone(),
            kind: label,
            message: e.to_string(),
        };
        let entries = ar.entries().map_err(fmt_err)?;
        for entry in entries {
            let mut entry = entry.map_err(fmt_err)?;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let ty = entry.header().entry_type();
            if ty.is_pax_global_extensions()
                || ty.is_pax_local_extensions()
                || ty.is_gnu_longname()
                || ty.is_gnu_longlink()
            {
                continue;
            }
            self.count_entry(ctx, &raw_path)?;
            let rel = match self.clean_path(ctx, &raw_path) {
                Ok(Some(rel)) => rel,
                Ok(None) => continue,
                Err(e) => {
                    self.refuse(ctx, &raw_path, e, sink)?;
                    continue;
                }
            };
            if ty.is_dir() {
                continue;
            }
            if ty.is_symlink() || ty.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                // Hard link targets are relative to the archive root,
                // symbolic link targets to the link's own directory.
                let base = if ty.is_hard_link() {
                    ""
                } else {
                    parent_of(&rel)
                };
                if let Err(e) = self.check_link(ctx, &raw_path, base, &target) {
                    self.refuse(ctx, &rel, e, sink)?;
                    continue;
                }
                sink.skip(Skipped {
                    path: format!("{}{}", ctx.prefix, rel),
                    reason: SkipReason::Link { target },
                });
                continue;
            }
            if !(ty.is_file() || ty.is_contiguous() || ty.is_gnu_sparse()) {
                sink.skip(Skipped {
                    path: format!("{}{}", ctx.prefix, rel),
                    reason: SkipReason::Special(format!("tar entry type {:?}", ty)),
                });
                continue;
            }
            let declared = entry.header().size().unwrap_or(0);
            if declared > self.limits.max_entry_bytes {
                if self.limits.per_entry() {
                    sink.skip(Skipped {
                        path: format!("{}{}", ctx.prefix, rel),
                        reason: SkipReason::TooLarge {
                            size: declared,
                            limit: self.limits.max_entry_bytes,
                        },
                    });
                    continue;
                }
                return Err(ArchiveError::EntryTooLarge {
                    archive: ctx.display.clone(),
                    entry: raw_path,
                    limit: self.limits.max_entry_bytes,
                });
            }
            if let Some(r) = ratio {
                r.start.set((r.produced.get(), r.compressed.get()));
            }
            match self.read_entry(ctx, &raw_path, &mut entry, ratio, None) {
                Ok(bytes) => {
                    if let Some(r) = ratio {
                        r.credit.set(r.credit.get() + bytes.len() as u64);
                    }
                    self.add_file(ctx, rel, bytes, sink)?
                }
                Err(e @ ArchiveError::Format { .. }) => return Err(e),
                Err(e) => self.refuse(ctx, &rel, e, sink)?,
            }
        }
        // tar stops at its end marker; the compressed stream's trailer
        // (gzip's CRC and length, xz's and zstd's checks) is only verified
        // when the decoder is read to its end.
        let mut rest = ar.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(fmt_err)?;
        Ok(())
    }

    fn count_entry(&mut self, ctx: &Ctx, raw_path: &str) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                archive: ctx.display.clone(),
                entry: raw_path.to_string(),
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// Reads one entry in chunks, enforcing the per-entry and total caps and
    /// the compression ratio as the bytes come in. `zip_compressed` is the
    /// entry's compressed size for zip entries (ratio is per entry there).
    fn read_entry<R: Read>(
        &mut self,
        ctx: &Ctx,
        raw_path: &str,
        r: &mut R,
        ratio: Option<&Ratio>,
        zip_compressed: Option<u64>,
    ) -> Result<Vec<u8>, ArchiveError> {
        let mut bytes = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ArchiveError::Format {
                        archive: ctx.display.clone(),
                        kind: "compressed",
                        message: format!("entry {raw_path:?}: {e}"),
                    })
                }
            };
            if (bytes.len() + n) as u64 > self.limits.max_entry_bytes {
                return Err(ArchiveError::EntryTooLarge {
                    archive: ctx.display.clone(),
                    entry: raw_path.to_string(),
                    limit: self.limits.max_entry_bytes,
                });
            }
            self.total += n as u64;
            // A scan hands entries on one at a time: only what is refused
            // counts against the budget (see `Counting`).
            if self.total > self.limits.max_total_bytes && !self.limits.per_entry() {
                return Err(ArchiveError::TotalTooLarge {
                    archive: ctx.display.clone(),
                    entry: raw_path.to_string(),
                    limit: self.limits.max_total_bytes,
                });
            }
            bytes.extend_from_slice(&buf[..n]);
            let (produced, compressed) = match (ratio, zip_compressed) {
                (_, Some(c)) => (bytes.len() as u64, c),
                // A scan judges each entry on its own, so one bomb does not
                // condemn the entries after it.
                (Some(r), None) if self.limits.per_entry() => {
                    let (p0, c0) = r.start.get();
                    (r.produced.get() - p0, r.compressed.get() - c0)
                }
                (Some(r), None) => (r.produced.get(), r.compressed.get()),
                (None, None) => (0, 1),
            };
            if produced > self.limits.ratio_min_bytes
                && produced / compressed.max(1) > self.limits.max_ratio
            {
                return Err(ArchiveError::Bomb {
                    archive: ctx.display.clone(),
                    entry: raw_path.to_string(),
                    limit: self.limits.max_ratio,
                });
            }
        }
        Ok(bytes)
    }

    /// Normalizes an entry path to `a/b/c`; `None` for the root itself.
    fn clean_path(&self, ctx: &Ctx, raw: &str) -> Result<Option<String>, ArchiveError> {
        let unified = raw.replace('\\', "/");
        let drive = unified.len() >= 2
            && unified.as_bytes()[1] == b':'
            && unified.as_bytes()[0].is_ascii_alphabetic();
        if unified.starts_with('/') || drive {
            return Err(ArchiveError::AbsolutePath {
                archive: ctx.display.clone(),
                entry: raw.to_string(),
            });
        }
        let mut parts = Vec::new();
        for c in unified.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    return Err(ArchiveError::Traversal {
                        archive: ctx.display.clone(),
                        entry: raw.to_string(),
                    })
                }
                c => parts.push(c),
            }
        }
        Ok((!parts.is_empty()).then(|| parts.join("/")))
    }

    /// Resolves a link target lexically from `base` and fails if it leaves
    /// the root.
    fn check_link(
        &self,
        ctx: &Ctx,
        entry: &str,
        base: &str,
        target: &str,
    ) -> Result<(), ArchiveError> {
        let escape = || ArchiveError::LinkEscape {
            archive: ctx.display.clone(),
            entry: entry.to_string(),
            target: target.to_string(),
        };
        let t = target.replace('\\', "/");
        if t.starts_with('/') || (t.len() >= 2 && t.as_bytes()[1] == b':') {
            return Err(escape());
        }
        let mut stack: Vec<&str> = base.split('/').filter(|c| !c.is_empty()).collect();
        for c in t.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    if stack.pop().is_none() {
                        return Err(escape());
                    }
                }
                c => stack.push(c),
            }
        }
        Ok(())
    }

    /// Adds a regular file, expanding it first if it is itself an archive.
    fn add_file(
        &mut self,
        ctx: &Ctx,
        rel: String,
        bytes: Vec<u8>,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        let file_name = rel.rsplit('/').next().unwrap_or(&rel);
        if let Some(kind) = ArchiveKind::from_name(file_name) {
            if ctx.depth < self.limits.max_depth {
                let inner = ctx.nested(&rel);
                if self.limits.per_entry() {
                    return self.add_nested_streamed(ctx, &inner, rel, bytes, kind, sink);
                }
                let mut sub = Unpacked::default();
                match self.read_any(&inner, Cursor::new(&bytes[..]), kind, &mut sub) {
                    Ok(()) => {
                        sub.files.into_iter().for_each(|f| sink.file(f));
                        sub.skipped.into_iter().for_each(|s| sink.skip(s));
                        return Ok(());
                    }
                    Err(e) if e.is_budget() || self.limits.strict_nested => return Err(e),
                    Err(e) => sink.skip(Skipped {
                        path: format!("{}{}", ctx.prefix, rel),
                        reason: SkipReason::NestedArchive(e.to_string()),
                    }),
                }
            } else if self.limits.per_entry() {
                sink.skip(Skipped {
                    path: format!("{}{}", ctx.prefix, rel),
                    reason: SkipReason::NestedTooDeep {
                        limit: self.limits.max_depth,
                    },
                });
                return Ok(());
            }
        }
        self.emitted += 1;
        sink.file(SourceFile {
            path: format!("{}{}", ctx.prefix, rel),
            bytes,
        });
        Ok(())
    }

    /// A nested archive under the scan policy: its entries go straight to
    /// the sink; damage is reported and, when nothing at all could be read
    /// from it, its bytes are checked as a plain file (a file named `.zip`
    /// that is no zip must not hide what it holds).
    fn add_nested_streamed(
        &mut self,
        ctx: &Ctx,
        inner: &Ctx,
        rel: String,
        bytes: Vec<u8>,
        kind: ArchiveKind,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        let before = self.emitted;
        match self.read_any(inner, Cursor::new(&bytes[..]), kind, sink) {
            Ok(()) => Ok(()),
            Err(e) if e.is_budget() => Err(e),
            Err(e) => {
                sink.skip(Skipped {
                    path: format!("{}{}", ctx.prefix, rel),
                    reason: SkipReason::DamagedArchive(e.to_string()),
                });
                if self.emitted == before {
                    self.emitted += 1;
                    sink.file(SourceFile {
                        path: format!("{}{}", ctx.prefix, rel),
                        bytes,
                    });
                }
                Ok(())
            }
        }
    }

    fn read_zip<R: Read + Seek>(
        &mut self,
        ctx: &Ctx,
        reader: R,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        let fmt = |e: zip::result::ZipError| ArchiveError::Format {
            archive: ctx.display.clone(),
            kind: "zip",
            message: e.to_string(),
        };
        let mut zip = zip::ZipArchive::new(reader).map_err(fmt)?;
        for i in 0..zip.len() {
            let needs_password = matches!(
                zip.by_index(i),
                Err(zip::result::ZipError::UnsupportedArchive(msg)) if msg.to_ascii_lowercase().contains("password")
            );
            if needs_password {
                let name = zip
                    .by_index_raw(i)
                    .ok()
                    .and_then(|f| f.name().ok().map(|n| n.into_owned()))
                    .unwrap_or_else(|| format!("#{i}"));
                self.count_entry(ctx, &name)?;
                let rel = match self.clean_path(ctx, &name) {
                    Ok(rel) => rel.unwrap_or(name),
                    Err(e) => {
                        self.refuse(ctx, &name, e, sink)?;
                        continue;
                    }
                };
                sink.skip(Skipped {
                    path: format!("{}{}", ctx.prefix, rel),
                    reason: SkipReason::Encrypted,
                });
                continue;
            }
            // Zip entries stand alone: under the scan policy one damaged
            // entry is reported and the others are still read.
            let mut f = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) if self.limits.per_entry() => {
                    sink.skip(Skipped {
                        path: format!("{}#{i}", ctx.prefix),
                        reason: SkipReason::DamagedArchive(fmt(e).to_string()),
                    });
                    continue;
                }
                Err(e) => return Err(fmt(e)),
            };
            let raw_path = f
                .name()
                .map(|n| n.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(f.name_raw()).into_owned());
            self.count_entry(ctx, &raw_path)?;
            let rel = match self.clean_path(ctx, &raw_path) {
                Ok(Some(rel)) => rel,
                Ok(None) => continue,
                Err(e) => {
                    self.refuse(ctx, &raw_path, e, sink)?;
                    continue;
                }
            };
            if f.is_dir() {
                continue;
            }
            if f.encrypted() {
                sink.skip(Skipped {
                    path: format!("{}{}", ctx.prefix, rel),
                    reason: SkipReason::Encrypted,
                });
                continue;
            }
            if f.is_symlink() {
                let mut target = String::new();
                let _ = (&mut f).take(4096).read_to_string(&mut target);
                if let Err(e) = self.check_link(ctx, &raw_path, parent_of(&rel), &target) {
                    self.refuse(ctx, &rel, e, sink)?;
                    continue;
                }
                sink.skip(Skipped {
                    path: format!("{}{}", ctx.prefix, rel),
                    reason: SkipReason::Link { target },
                });
                continue;
            }
            if f.size() > self.limits.max_entry_bytes {
                if self.limits.per_entry() {
                    sink.skip(Skipped {
                        path: format!("{}{}", ctx.prefix, rel),
                        reason: SkipReason::TooLarge {
                            size: f.size(),
                            limit: self.limits.max_entry_bytes,
                        },
                    });
                    continue;
                }
                return Err(ArchiveError::EntryTooLarge {
                    archive: ctx.display.clone(),
                    entry: raw_path,
                    limit: self.limits.max_entry_bytes,
                });
            }
            let compressed = f.compressed_size();
            match self.read_entry(ctx, &raw_path, &mut f, None, Some(compressed)) {
                Ok(bytes) => {
                    drop(f);
                    self.add_file(ctx, rel, bytes, sink)?;
                }
                Err(e) if self.limits.per_entry() && !e.is_budget() => {
                    drop(f);
                    let reason = match e {
                        ArchiveError::Format { .. } => SkipReason::DamagedArchive(e.to_string()),
                        e => e.entry_skip(),
                    };
                    sink.skip(Skipped {
                        path: format!("{}{}", ctx.prefix, rel),
                        reason,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A gem is a plain tar with `data.tar.gz` (the files, unpacked at the
    /// root of the tree) and `metadata.gz` (the gemspec).
    fn read_gem<R: Read>(
        &mut self,
        ctx: &Ctx,
        reader: R,
        sink: &mut dyn Sink,
    ) -> Result<(), ArchiveError> {
        let mut outer = tar::Archive::new(reader);
        let fmt = |m: String| ArchiveError::Format {
            archive: ctx.display.clone(),
            kind: "gem",
            message: m,
        };
        let mut found_data = false;
        for entry in outer.entries().map_err(|e| fmt(e.to_string()))? {
            let mut entry = entry.map_err(|e| fmt(e.to_string()))?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            self.count_entry(ctx, &name)?;
            match name.as_str() {
                "data.tar.gz" => {
                    found_data = true;
                    let bytes = self.read_entry(ctx, &name, &mut entry, None, None)?;
                    let inner = Ctx {
                        display: format!("{}!/data.tar.gz", ctx.display),
                        prefix: ctx.prefix.clone(),
                        depth: ctx.depth,
                    };
                    self.read_tar_stream(&inner, Cursor::new(bytes), ArchiveKind::TarGz, sink)?;
                }
                "metadata.gz" => {
                    let bytes = self.read_entry(ctx, &name, &mut entry, None, None)?;
                    let mut gz = flate2::read::GzDecoder::new(&bytes[..]);
                    let meta = self.read_entry(
                        ctx,
                        "metadata.gz!/metadata",
                        &mut gz,
                        None,
                        Some(bytes.len() as u64),
                    )?;
                    self.gem_metadata = Some(String::from_utf8_lossy(&meta).into_owned());
                }
                _ => {}
            }
        }
        if !found_data {
            return Err(fmt("no data.tar.gz inside".into()));
        }
        Ok(())
    }
}

fn parent_of(rel: &str) -> &str {
    rel.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn all_tar_compressions_round_trip() {
        let t = tar_with(&[("pkg-1.0/src/a.c", b"int a;"), ("pkg-1.0/README", b"hi")]);
        let mut xz = Vec::new();
        liblzma::read::XzEncoder::new(&t[..], 6)
            .read_to_end(&mut xz)
            .unwrap();
        let mut bz = Vec::new();
        bzip2::read::BzEncoder::new(&t[..], bzip2::Compression::default())
            .read_to_end(&mut bz)
            .unwrap();
        let zst = zstd::stream::encode_all(&t[..], 3).unwrap();
        for (kind, data) in [
            (ArchiveKind::Tar, t.clone()),
            (ArchiveKind::TarGz, gz(&t)),
            (ArchiveKind::TarXz, xz),
            (ArchiveKind::TarBz2, bz),
            (ArchiveKind::TarZst, zst),
        ] {
            let u = read_archive_bytes("x", &data, kind, &Limits::default()).unwrap();
            let paths: Vec<_> = u.files.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(paths, ["pkg-1.0/src/a.c", "pkg-1.0/README"], "{kind:?}");
            assert_eq!(u.files[0].bytes, b"int a;");
        }
        let z = zip_with(&[("a/b.py", b"print(1)"), ("a/", b"")]);
        let u = read_archive_bytes("x.zip", &z, ArchiveKind::Zip, &Limits::default()).unwrap();
        assert_eq!(u.files.len(), 1);
        assert_eq!(u.files[0].path, "a/b.py");
    }

    #[test]
    fn traversal_is_rejected_naming_archive_and_entry() {
        // tar::Builder refuses '..' itself, so write the header by hand.
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../evil.c");
        h.set_size(1);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let mut data = h.as_bytes().to_vec();
        data.extend_from_slice(&[b'x'; 512]);
        data.extend_from_slice(&[0; 1024]);
        let e = read_archive_bytes("evil.tar", &data, ArchiveKind::Tar, &Limits::default())
            .unwrap_err();
        assert!(matches!(e, ArchiveError::Traversal { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("evil.tar") && msg.contains("../evil.c"),
            "{msg}"
        );

        let z = zip_with(&[("ok.txt", b"1"), ("a/../../evil", b"2")]);
        let e =
            read_archive_bytes("evil.zip", &z, ArchiveKind::Zip, &Limits::default()).unwrap_err();
        assert!(matches!(e, ArchiveError::Traversal { .. }), "{e}");
        let z = zip_with(&[("/etc/evil", b"2")]);
        let e =
            read_archive_bytes("evil.zip", &z, ArchiveKind::Zip, &Limits::default()).unwrap_err();
        assert!(matches!(e, ArchiveError::AbsolutePath { .. }), "{e}");
    }

    #[test]
    fn nested_archives_get_bang_paths() {
        let inner = zip_with(&[("lib/x.c", b"int x;")]);
        let outer = gz(&tar_with(&[
            ("p/vendor/inner.zip", &inner),
            ("p/main.c", b"int main;"),
        ]));
        let u = read_archive_bytes(
            "outer.tar.gz",
            &outer,
            ArchiveKind::TarGz,
            &Limits::default(),
        )
        .unwrap();
        let paths: Vec<_> = u.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["p/vendor/inner.zip!/lib/x.c", "p/main.c"]);

        // A broken nested archive is kept as a file and reported.
        let outer = tar_with(&[("t/broken.zip", b"not a zip")]);
        let u = read_archive_bytes("o.tar", &outer, ArchiveKind::Tar, &Limits::default()).unwrap();
        assert_eq!(u.files[0].path, "t/broken.zip");
        assert!(
            matches!(&u.skipped[0].reason, SkipReason::NestedArchive(m) if m.contains("o.tar!/t/broken.zip"))
        );
        let strict = Limits {
            strict_nested: true,
            ..Limits::default()
        };
        let e = read_archive_bytes("o.tar", &outer, ArchiveKind::Tar, &strict).unwrap_err();
        assert!(e.to_string().contains("o.tar!/t/broken.zip"), "{e}");

        // Depth limit: a nested archive below max_depth stays a file.
        let shallow = Limits {
            max_depth: 0,
            ..Limits::default()
        };
        let u = read_archive_bytes(
            "o.tar",
            &tar_with(&[("in.zip", &inner)]),
            ArchiveKind::Tar,
            &shallow,
        )
        .unwrap();
        assert_eq!(u.files[0].path, "in.zip");
    }

    #[test]
    fn limits_are_enforced() {
        let t = tar_with(&[("a", &[1u8; 1000]), ("b", &[2u8; 1000]), ("c", b"x")]);
        let l = Limits {
            max_entry_bytes: 999,
            ..Limits::default()
        };
        assert!(matches!(
            read_archive_bytes("t", &t, ArchiveKind::Tar, &l).unwrap_err(),
            ArchiveError::EntryTooLarge { .. }
        ));
        let l = Limits {
            max_total_bytes: 1500,
            ..Limits::default()
        };
        assert!(matches!(
            read_archive_bytes("t", &t, ArchiveKind::Tar, &l).unwrap_err(),
            ArchiveError::TotalTooLarge { .. }
        ));
        let l = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        assert!(matches!(
            read_archive_bytes("t", &t, ArchiveKind::Tar, &l).unwrap_err(),
            ArchiveError::TooManyEntries { .. }
        ));
    }

    #[test]
    fn bombs_are_refused() {
        let zeros = vec![0u8; 20 << 20];
        let bomb = gz(&tar_with(&[("zeros.bin", &zeros)]));
        let e = read_archive_bytes("bomb.tar.gz", &bomb, ArchiveKind::TarGz, &Limits::default())
            .unwrap_err();
        assert!(matches!(e, ArchiveError::Bomb { .. }), "{e}");
        let z = zip_with(&[("zeros.bin", &zeros)]);
        let e =
            read_archive_bytes("bomb.zip", &z, ArchiveKind::Zip, &Limits::default()).unwrap_err();
        assert!(matches!(e, ArchiveError::Bomb { .. }), "{e}");
    }

    #[test]
    fn links() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "p/ok-link", "../p/file").unwrap();
        let mut fh = tar::Header::new_gnu();
        fh.set_size(0);
        b.append_data(&mut fh, "p/file", &b""[..]).unwrap();
        let data = b.into_inner().unwrap();
        let u = read_archive_bytes("l.tar", &data, ArchiveKind::Tar, &Limits::default()).unwrap();
        assert_eq!(u.skipped[0].path, "p/ok-link");

        for target in ["../../etc/passwd", "/etc/passwd"] {
            let mut b = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "p/evil", target).unwrap();
            let data = b.into_inner().unwrap();
            let e = read_archive_bytes("l.tar", &data, ArchiveKind::Tar, &Limits::default())
                .unwrap_err();
            assert!(matches!(e, ArchiveError::LinkEscape { .. }), "{e}");
        }
    }

    #[test]
    fn gem_files_come_from_data_tar() {
        let data = gz(&tar_with(&[("lib/x.rb", b"puts 1")]));
        let meta = gz(b"--- !ruby/object:Gem::Specification\nname: x\nversion: !ruby/object:Gem::Version\n  version: 1.2.3\nlicenses:\n- MIT\n");
        let gem = tar_with(&[
            ("metadata.gz", &meta),
            ("data.tar.gz", &data),
            ("checksums.yaml.gz", b""),
        ]);
        let u =
            read_archive_bytes("x-1.2.3.gem", &gem, ArchiveKind::Gem, &Limits::default()).unwrap();
        assert_eq!(u.files[0].path, "lib/x.rb");
        assert!(u.gem_metadata.unwrap().contains("1.2.3"));
    }

    fn scan_limits() -> Limits {
        Limits::for_scan(16 << 20, 3)
    }

    fn raw_entry(name: &[u8], kind: tar::EntryType, link: &[u8], data: &[u8]) -> Vec<u8> {
        let mut h = tar::Header::new_gnu();
        {
            let g = h.as_gnu_mut().unwrap();
            g.name[..name.len()].copy_from_slice(name);
            g.linkname[..link.len()].copy_from_slice(link);
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

    fn kinds(u: &Unpacked) -> Vec<(String, &'static str)> {
        u.skipped
            .iter()
            .map(|s| (s.path.clone(), s.reason.kind().name()))
            .collect()
    }

    #[test]
    fn scan_policy_refuses_entries_one_by_one() {
        let reg = tar::EntryType::Regular;
        let mut t = raw_entry(b"p/a.c", reg, b"", b"int a;");
        t.extend(raw_entry(b"../evil.c", reg, b"", b"int evil;"));
        t.extend(raw_entry(b"/etc/abs.c", reg, b"", b"int abs;"));
        t.extend(raw_entry(
            b"p/out",
            tar::EntryType::Symlink,
            b"../../x",
            b"",
        ));
        t.extend(raw_entry(b"p/b.c", reg, b"", b"int b;"));
        t.extend_from_slice(&[0; 1024]);
        let strict = read_archive_bytes("t.tar", &t, ArchiveKind::Tar, &Limits::default());
        assert!(matches!(strict, Err(ArchiveError::Traversal { .. })));
        let u = read_archive_bytes("t.tar", &t, ArchiveKind::Tar, &scan_limits()).unwrap();
        let paths: Vec<_> = u.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["p/a.c", "p/b.c"]);
        assert_eq!(
            kinds(&u),
            [
                ("../evil.c".to_string(), "unsafe-entry"),
                ("/etc/abs.c".to_string(), "unsafe-entry"),
                ("p/out".to_string(), "unsafe-entry"),
            ]
        );
    }

    #[test]
    fn scan_policy_keeps_what_precedes_damage() {
        // Text that does not compress away, so the tail cut below falls
        // inside the second entry.
        let mut x = 1u32;
        let text: Vec<u8> = (0..4000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b'a' + (x >> 16) as u8 % 26
            })
            .collect();
        let t = tar_with(&[("p/a.c", b"int a;"), ("p/b.c", &text)]);
        let z = gz(&t);
        // Truncated tail: the first entry survives, the damage is reported.
        let cut = &z[..z.len() - 200];
        let u = read_archive_bytes("t.tar.gz", cut, ArchiveKind::TarGz, &scan_limits()).unwrap();
        assert_eq!(u.files.len(), 1, "{:?}", kinds(&u));
        assert_eq!(kinds(&u), [(String::new(), "damaged-archive")]);
        assert!(
            read_archive_bytes("t.tar.gz", cut, ArchiveKind::TarGz, &Limits::default()).is_err()
        );
        // A wrong CRC in the gzip trailer is damage too, in both policies.
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 8] ^= 0xff;
        let u = read_archive_bytes("t.tar.gz", &bad, ArchiveKind::TarGz, &scan_limits()).unwrap();
        assert_eq!(u.files.len(), 2);
        assert_eq!(kinds(&u), [(String::new(), "damaged-archive")]);
        assert!(u.skipped[0].reason.to_string().contains("t.tar.gz"));
        let e = read_archive_bytes("t.tar.gz", &bad, ArchiveKind::TarGz, &Limits::default());
        assert!(matches!(e, Err(ArchiveError::Format { .. })), "{e:?}");
        // The intact archive passes in both.
        read_archive_bytes("t.tar.gz", &z, ArchiveKind::TarGz, &Limits::default()).unwrap();
    }

    #[test]
    fn scan_policy_skips_bombs_and_large_entries_and_goes_on() {
        let zeros = vec![0u8; 20 << 20];
        let t = tar_with(&[
            ("a.c", b"int a;"),
            ("zeros.bin", &zeros),
            ("b.c", b"int b;"),
        ]);
        let l = Limits {
            max_entry_bytes: 64 << 20,
            ..scan_limits()
        };
        let u = read_archive_bytes("bomb.tar.gz", &gz(&t), ArchiveKind::TarGz, &l).unwrap();
        let paths: Vec<_> = u.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.c", "b.c"]);
        assert_eq!(kinds(&u), [("zeros.bin".to_string(), "unsafe-entry")]);
        // With the default cap the entry is too large before it is read.
        let u = read_archive_bytes(
            "bomb.tar.gz",
            &gz(&t),
            ArchiveKind::TarGz,
            &Limits::for_scan(1 << 20, 3),
        )
        .unwrap();
        assert_eq!(u.files.len(), 2);
        assert_eq!(kinds(&u), [("zeros.bin".to_string(), "too-large")]);
        // Zip: the same, entry by entry.
        let z = zip_with(&[
            ("a.c", b"int a;"),
            ("zeros.bin", &zeros),
            ("b.c", b"int b;"),
        ]);
        let u = read_archive_bytes("bomb.zip", &z, ArchiveKind::Zip, &l).unwrap();
        assert_eq!(u.files.len(), 2);
        assert_eq!(kinds(&u), [("zeros.bin".to_string(), "unsafe-entry")]);
        // Skipping refused bytes has a budget: past it the archive ends.
        let tight = Limits {
            max_total_bytes: 1 << 20,
            ..Limits::for_scan(1 << 20, 3)
        };
        let u = read_archive_bytes("bomb.tar.gz", &gz(&t), ArchiveKind::TarGz, &tight).unwrap();
        assert_eq!(u.files.len(), 1);
        assert_eq!(
            kinds(&u),
            [
                ("zeros.bin".to_string(), "too-large"),
                (String::new(), "damaged-archive")
            ]
        );
    }

    #[test]
    fn scan_policy_reports_deep_nests_and_reads_broken_nests_as_files() {
        let inner = zip_with(&[("lib/x.c", b"int x;")]);
        let mid = tar_with(&[("in.zip", &inner)]);
        let outer = tar_with(&[("mid.tar", &mid), ("fake.zip", b"int main;")]);
        let u = read_archive_bytes(
            "o.tar",
            &outer,
            ArchiveKind::Tar,
            &Limits::for_scan(1 << 20, 1),
        )
        .unwrap();
        let paths: Vec<_> = u.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["fake.zip"]);
        assert_eq!(
            kinds(&u),
            [
                ("mid.tar!/in.zip".to_string(), "nested-too-deep"),
                ("fake.zip".to_string(), "damaged-archive")
            ]
        );
        let u = read_archive_bytes("o.tar", &outer, ArchiveKind::Tar, &scan_limits()).unwrap();
        assert_eq!(u.files[0].path, "mid.tar!/in.zip!/lib/x.c");
    }

    #[test]
    fn later_duplicate_wins() {
        let t = tar_with(&[("a", b"1"), ("b", b"2"), ("a", b"3")]);
        let u = read_archive_bytes("t", &t, ArchiveKind::Tar, &Limits::default()).unwrap();
        let got: Vec<_> = u
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes.clone()))
            .collect();
        assert_eq!(got, [("b", b"2".to_vec()), ("a", b"3".to_vec())]);
    }
}
