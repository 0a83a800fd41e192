//! The two things every walker of a source tree produces: files that were
//! read, and files that were passed over with the reason why.
//!
//! Walking a directory, unpacking an archive and reading a git tree all yield
//! these same types so that the index side handles one shape of input.

use std::fmt;

/// One file of a source tree, read into memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the root of the tree, `/`-separated. Files inside
    /// nested archives carry the archive path followed by `!/`, for example
    /// `vendor/zlib.tar.gz!/zlib-1.3/inflate.c`.
    pub path: String,
    /// The file's content, unmodified.
    pub bytes: Vec<u8>,
}

/// A file (or directory entry) that was not read, and why.
///
/// Skips are reported instead of aborting because one unreadable file in a
/// large package should not keep the rest of it out of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Path relative to the root of the tree, as in [`SourceFile::path`].
    pub path: String,
    /// Why the entry was passed over.
    pub reason: SkipReason,
}

/// Why an entry was not read: the one skip type of every crate, defined
/// in the engine (the lowest crate) so that the classifier's reasons and
/// the walker's share it.
pub use engine::lang::{SkipKind, SkipReason};

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}
