//! The provscan fingerprint index: a content-addressed RocksDB store of
//! winnowed fingerprints, file contents, where they occur, and the projects
//! and versions they come from.
//!
//! * [`Index::open`] opens (or creates) an index for writing; one writer at
//!   a time, enforced by RocksDB's lock file. [`Index::open_reader`] opens a
//!   secondary instance that can read while a writer adds, and
//!   [`Index::refresh`] catches it up.
//! * [`Index::add`] adds one [`VersionInput`]; each distinct content (by
//!   blake3) is analyzed once. An add is atomic: after a crash at any point
//!   the version is either fully present or absent.
//! * [`Index::postings`] answers the matcher: for a batch of fingerprint
//!   hashes, the postings of each, with common fingerprints left out.
//!   [`Index::stream`] gives a content's token stream (the forward store)
//!   to align a match against. Both are the engine's pipeline traits
//!   (`engine::pipeline::{Postings, Streams}`) for an index on disk.
//!
//! The on-disk layout is described in `docs/index.md` and [`schema`].

pub mod bucket;
pub mod codec;
mod ingest;
mod input;
mod integrity;
pub mod key_filter;
mod pipeline;
pub mod schema;
pub mod shard;
mod store;
pub mod streams;
mod zstd_ctx;

pub use ingest::IngestReport;
pub use input::{FileInput, VersionInput};
pub use schema::{
    CommonPolicy, CompetingLicense, ContentMeta, EngineParams, License, Occurrence, SkippedFile,
    VersionInfo, FORMAT_VERSION,
};
pub use store::{
    AddOptions, AddReport, FileMatch, Index, OpenOptions, PostingLookup, Progress, RemoveReport,
    Stage, Stats,
};

/// Everything that can go wrong with an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("no index at {0} (create one with `provscan index add`)")]
    Missing(std::path::PathBuf),
    #[error("{0} is not a provscan index")]
    NotAnIndex(std::path::PathBuf),
    #[error(
        "index at {path} has format version {found}, this provscan reads format version {expected}: \
         rebuild the index"
    )]
    FormatMismatch {
        path: std::path::PathBuf,
        found: u32,
        expected: u32,
    },
    #[error(
        "index at {path} was built with engine parameters {index}, this provscan uses {engine}: \
         rebuild the index"
    )]
    ParamsMismatch {
        path: std::path::PathBuf,
        index: Box<EngineParams>,
        engine: Box<EngineParams>,
    },
    #[error("index damaged: {path}: {what} ({hint})")]
    Damaged {
        path: std::path::PathBuf,
        what: String,
        hint: &'static str,
    },
    #[error("index at {0} is being written by another process (its lock is held)")]
    Locked(std::path::PathBuf),
    #[error("this index was opened for reading")]
    ReadOnly,
    #[error("corrupt index record in {cf}: {what}")]
    Corrupt { cf: &'static str, what: String },
    #[error("rocksdb: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{path}: {what}")]
    Shard {
        path: std::path::PathBuf,
        what: String,
    },
    #[error("project or version name {0:?} contains a NUL byte")]
    BadName(String),
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;
