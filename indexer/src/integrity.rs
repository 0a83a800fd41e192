//! Whether the index on disk is the one the writer committed.
//!
//! RocksDB opens a directory whose MANIFEST lost its tail as an older
//! database, and a secondary instance opens one with a missing or
//! truncated table file without a word: a scan would then pass on an empty
//! or older index. Two facts recorded outside RocksDB's own files let a
//! reader and a writer tell: the sequence number of the last commit (in
//! `COMMITTED`, replaced atomically after each commit), which the database
//! must have reached, and every live table file, which must exist with the
//! size RocksDB recorded for it. A writer checks before it opens the
//! database for writing, because a primary open deletes the files a
//! damaged MANIFEST no longer names.
//!
//! The writer's lock is an advisory `flock` on `provscan.lock`, so that a
//! second writer is told apart from a damaged database without reading
//! RocksDB's messages.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rocksdb::DB;

use crate::{IndexError, Result};

/// The commit mark's file name, in the index directory.
pub const MARK_FILE: &str = "COMMITTED";
/// The writer's lock file.
pub const LOCK_FILE: &str = "provscan.lock";

const HINT: &str = "run `provscan index verify` for details; rebuild the index, or remove it and \
re-add its versions";

pub(crate) fn damaged(dir: &Path, file: Option<&str>, what: impl Into<String>) -> IndexError {
    IndexError::Damaged {
        path: match file {
            Some(f) => dir.join(f),
            None => dir.to_path_buf(),
        },
        what: what.into(),
        hint: HINT,
    }
}

/// The sequence number of the last commit, if one was recorded.
pub(crate) fn read_mark(dir: &Path) -> Result<Option<u64>> {
    let path = dir.join(MARK_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => s.trim().parse().map(Some).map_err(|_| {
            damaged(
                dir,
                Some(MARK_FILE),
                format!("unreadable commit mark {s:?}"),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Records `sequence` as committed (see [`replace_file`]).
pub(crate) fn write_mark(dir: &Path, sequence: u64) -> Result<()> {
    replace_file(dir, MARK_FILE, |f| writeln!(f, "{sequence}"))
}

/// Writes `dir/name` beside (`name.tmp`, through `write`), syncs it, then
/// renames it over the old file: a reader sees the old file or the new
/// one, never a part.
pub(crate) fn replace_file(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = BufWriter::new(File::create(&tmp)?);
        write(&mut f)?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    Ok(())
}

/// The open-time checks: every live table file is there with its recorded
/// size, and the database has reached the last recorded commit. Run on a
/// read-only instance: a secondary instance leaves out a table file it
/// cannot open instead of failing.
pub(crate) fn check(db: &DB, dir: &Path, mark: Option<u64>) -> Result<()> {
    let files = db
        .live_files()
        .map_err(|e| damaged(dir, None, e.to_string()))?;
    for f in &files {
        let name = f.name.trim_start_matches('/');
        let path = dir.join(name);
        match std::fs::metadata(&path) {
            Ok(m) if m.len() == f.size as u64 => {}
            Ok(m) => {
                return Err(damaged(
                    dir,
                    Some(name),
                    format!(
                        "table file of column family {} has {} bytes, the index recorded {}",
                        f.column_family_name,
                        m.len(),
                        f.size
                    ),
                ))
            }
            Err(e) => {
                return Err(damaged(
                    dir,
                    Some(name),
                    format!(
                        "table file of column family {} cannot be read: {e}",
                        f.column_family_name
                    ),
                ))
            }
        }
    }
    if let Some(committed) = mark {
        let seen = db.latest_sequence_number();
        if seen < committed {
            return Err(damaged(
                dir,
                Some("MANIFEST"),
                format!(
                    "the database reaches sequence {seen} but the last commit was {committed}: \
                     its MANIFEST or write-ahead log lost committed data"
                ),
            ));
        }
    }
    Ok(())
}

/// The writer's lock, held while the [`crate::Index`] lives.
pub(crate) struct WriterLock {
    _file: File,
}

impl WriterLock {
    pub(crate) fn acquire(dir: &Path) -> Result<WriterLock> {
        use std::os::unix::io::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        // SAFETY: a plain system call on a descriptor this function owns.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            let e = std::io::Error::last_os_error();
            return Err(if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                IndexError::Locked(dir.to_path_buf())
            } else {
                e.into()
            });
        }
        Ok(WriterLock { _file: file })
    }
}
