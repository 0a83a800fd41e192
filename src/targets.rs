//! Reading what the user asked to check: directories (honouring
//! `.gitignore`), single files, and archives found among them, whose entries
//! are reported as `vendor/x.tar.gz!/x-1.2/src/a.c`.

use std::path::Path;

use anyhow::Context;
use corpus::archive::{read_archive_bytes, Limits};
use corpus::{ArchiveKind, WalkOptions};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

/// A file to check, with its path relative to the root it was found under.
pub struct InputFile {
    pub rel: String,
    pub bytes: Vec<u8>,
}

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

/// Reads every selected file under `root` (a directory or a single file).
pub fn read(root: &Path, sel: &Selection) -> anyhow::Result<(Vec<InputFile>, Vec<Skipped>)> {
    let meta =
        std::fs::metadata(root).with_context(|| format!("{}: cannot read", root.display()))?;
    let (raw, mut skipped) = if meta.is_dir() {
        let opts = WalkOptions {
            max_file_bytes: sel.max_file_bytes,
            respect_ignore_files: true,
            threads: 0,
        };
        let walked = corpus::walk::walk(root, &opts)?;
        let skipped = walked
            .skipped
            .iter()
            .map(|s| skip(&s.path, &s.reason))
            .collect();
        let files = walked
            .files
            .into_iter()
            .map(|f| (f.path, f.bytes))
            .collect();
        (files, skipped)
    } else {
        let name = root.file_name().map_or_else(
            || root.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        let bytes =
            std::fs::read(root).with_context(|| format!("{}: cannot read", root.display()))?;
        (vec![(name, bytes)], Vec::new())
    };
    let mut files = Vec::new();
    for (rel, bytes) in raw {
        match ArchiveKind::from_name(&rel).filter(|_| sel.archives) {
            Some(kind) => expand(&rel, &bytes, kind, sel, &mut files, &mut skipped),
            None if sel.wants(&rel) => files.push(InputFile { rel, bytes }),
            None => {}
        }
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
                        bytes: f.bytes,
                    });
                }
            }
        }
        Err(err) => skipped.push(skip(rel, &err)),
    }
}
