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

/// Why an entry was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Larger than the configured per-file cap.
    TooLarge {
        /// Size of the file in bytes.
        size: u64,
        /// The cap in bytes.
        limit: u64,
    },
    /// The file could not be read (permissions, I/O error, vanished).
    Unreadable(String),
    /// A symbolic link that leads back into one of its own ancestors.
    SymlinkLoop,
    /// A symbolic link whose target lies outside the walked root.
    OutsideRoot(String),
    /// A link inside an archive or git tree; its target is indexed under its
    /// own path, so the link adds nothing.
    Link {
        /// The link target as recorded.
        target: String,
    },
    /// Device nodes, FIFOs, sockets and other non-regular entries.
    Special(String),
    /// A git submodule: its content lives in another repository.
    Submodule,
    /// An encrypted archive entry.
    Encrypted,
    /// A nested archive that could not be unpacked; its raw bytes are kept as
    /// an ordinary file and this records why it was not expanded.
    NestedArchive(String),
    /// Anything else, described in words.
    Other(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooLarge { size, limit } => {
                write!(f, "file is {size} bytes, over the cap of {limit} bytes")
            }
            SkipReason::Unreadable(e) => write!(f, "unreadable: {e}"),
            SkipReason::SymlinkLoop => write!(f, "symbolic link loop"),
            SkipReason::OutsideRoot(t) => {
                write!(f, "symbolic link to {t} points outside the root")
            }
            SkipReason::Link { target } => write!(f, "link to {target}"),
            SkipReason::Special(kind) => write!(f, "not a regular file ({kind})"),
            SkipReason::Submodule => write!(f, "git submodule"),
            SkipReason::Encrypted => write!(f, "encrypted archive entry"),
            SkipReason::NestedArchive(e) => write!(f, "nested archive not expanded: {e}"),
            SkipReason::Other(s) => f.write_str(s),
        }
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}
