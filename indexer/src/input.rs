//! What the indexer is given: one version of one project, files in memory.
//! Deliberately independent of how the files were obtained (directory,
//! archive, registry), so that this crate does not depend on the corpus tools.

use crate::schema::{License, SkippedFile};

/// One version of a project to add.
#[derive(Clone, Debug, Default)]
pub struct VersionInput {
    pub project: String,
    pub version: String,
    /// Where it came from, e.g. `crate:zlib-rs@0.5.0` or a directory path.
    pub source_spec: String,
    pub declared_license: Option<String>,
    /// ISO 8601 date, when known.
    pub release_date: Option<String>,
    pub files: Vec<FileInput>,
    /// Entries the caller could not read, recorded with the version.
    pub skipped: Vec<SkippedFile>,
}

impl VersionInput {
    /// Project and version names must be non-empty and free of NUL bytes
    /// (NUL separates them in keys).
    pub(crate) fn check_names(&self) -> crate::Result<()> {
        for name in [&self.project, &self.version] {
            if name.contains('\0') || name.is_empty() {
                return Err(crate::IndexError::BadName(name.clone()));
            }
        }
        Ok(())
    }
}

/// One file of a version.
#[derive(Clone, Debug, Default)]
pub struct FileInput {
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    pub bytes: Vec<u8>,
    pub license: Option<License>,
    pub copyrights: Vec<String>,
}
