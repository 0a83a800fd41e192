//! `scan --cache FILE`: what each file gave in the last scan, so that a scan
//! on every commit only analyzes the files that changed.
//!
//! A file's result depends on its path (language, license-file names), its
//! bytes, the index's contents and the scan's own code and options; the
//! cache is keyed by all of them: a file is answered from it only under
//! the same path with the same digest, and the whole cache is dropped when
//! the key (binary, normalization, grammars, index state, options) differs.
//! It is written to a temporary file and renamed, so an interrupted scan
//! leaves the previous cache whole.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::report::Finding;
use crate::targets::{SkipReason, Skipped};

const FORMAT: u32 = 2;

/// What one file gave: findings, or the reason it was skipped.
#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    digest: String,
    findings: Vec<Finding>,
    skipped: Option<CachedSkip>,
}

/// The skips a file's path and bytes decide alone, the only ones worth
/// keeping: the others (read errors, archive damage) are about the moment.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum CachedSkip {
    Binary,
    Minified,
    Generated,
    Empty,
    LicenseText,
    TooLarge { size: u64, limit: u64 },
}

impl CachedSkip {
    fn of(reason: &SkipReason) -> Option<CachedSkip> {
        Some(match reason {
            SkipReason::Binary => CachedSkip::Binary,
            SkipReason::Minified => CachedSkip::Minified,
            SkipReason::Generated => CachedSkip::Generated,
            SkipReason::Empty => CachedSkip::Empty,
            SkipReason::LicenseText => CachedSkip::LicenseText,
            SkipReason::TooLarge { size, limit } => CachedSkip::TooLarge {
                size: *size,
                limit: *limit,
            },
            _ => return None,
        })
    }

    fn reason(&self) -> SkipReason {
        match self {
            CachedSkip::Binary => SkipReason::Binary,
            CachedSkip::Minified => SkipReason::Minified,
            CachedSkip::Generated => SkipReason::Generated,
            CachedSkip::Empty => SkipReason::Empty,
            CachedSkip::LicenseText => SkipReason::LicenseText,
            CachedSkip::TooLarge { size, limit } => SkipReason::TooLarge {
                size: *size,
                limit: *limit,
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    format: u32,
    key: String,
    files: HashMap<String, Entry>,
}

/// The cache of one scan: the previous results it may reuse, and the
/// results of this scan, which replace them when it ends.
pub struct ScanCache {
    path: PathBuf,
    key: String,
    previous: HashMap<String, Entry>,
    current: Mutex<HashMap<String, Entry>>,
    reused: AtomicUsize,
}

impl ScanCache {
    /// Loads the cache at `path` if it was written under the same `key`;
    /// otherwise (absent, unreadable, other key) starts empty.
    pub fn open(path: &Path, key: String) -> ScanCache {
        let previous = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
            .filter(|s| s.format == FORMAT && s.key == key)
            .map(|s| s.files)
            .unwrap_or_default();
        ScanCache {
            path: path.to_path_buf(),
            key,
            previous,
            current: Mutex::new(HashMap::new()),
            reused: AtomicUsize::new(0),
        }
    }

    /// The last scan's result for this path, if the file is unchanged.
    pub fn get(&self, path: &str, digest: &str) -> Option<Result<Vec<Finding>, Skipped>> {
        let entry = self.previous.get(path).filter(|e| e.digest == digest)?;
        self.reused.fetch_add(1, Ordering::Relaxed);
        self.current
            .lock()
            .unwrap()
            .insert(path.to_string(), entry.clone());
        Some(match &entry.skipped {
            Some(skip) => Err(Skipped {
                path: path.to_string(),
                reason: skip.reason(),
            }),
            None => Ok(entry.findings.clone()),
        })
    }

    /// Records this scan's result for a file. Failed lookups never get
    /// here (they are errors of the scan); skips that depend on more than
    /// the file are not kept either, and are tried again next time.
    pub fn put(&self, path: &str, digest: &str, result: &Result<Vec<Finding>, Skipped>) {
        let entry = match result {
            Ok(findings) => Entry {
                digest: digest.to_string(),
                findings: findings.clone(),
                skipped: None,
            },
            Err(s) => match CachedSkip::of(&s.reason) {
                Some(skip) => Entry {
                    digest: digest.to_string(),
                    findings: Vec::new(),
                    skipped: Some(skip),
                },
                None => return,
            },
        };
        self.current.lock().unwrap().insert(path.to_string(), entry);
    }

    /// Files answered from the cache so far.
    pub fn reused(&self) -> usize {
        self.reused.load(Ordering::Relaxed)
    }

    /// Replaces the cache file with this scan's results.
    pub fn save(self) -> anyhow::Result<()> {
        let stored = Stored {
            format: FORMAT,
            key: self.key,
            files: self.current.into_inner().unwrap(),
        };
        let tmp = self.path.with_extension("tmp");
        let bytes = serde_json::to_vec(&stored)?;
        std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// Identifies the running binary without reading it: its size and time.
pub fn binary_id() -> String {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}-{mtime}", m.len())
        })
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{FindingKind, Origin};

    fn finding(path: &str) -> Finding {
        Finding {
            path: path.into(),
            kind: FindingKind::Snippet,
            target_lines: [3, 40],
            target_bytes: [10, 900],
            origin: Origin {
                project: Some("zlib".into()),
                version: Some("1.3".into()),
                versions: vec!["1.3".into()],
                path: "inflate.c".into(),
                lines: [100, 137],
                license: Some("Zlib".into()),
                license_evidence: Some("header".into()),
                copyright: vec!["Copyright (C) 1995 Mark Adler".into()],
                symbol: None,
                bytes: None,
            },
            matched_tokens: 210,
            similarity: 0.93,
            edits: None,
            symbol: None,
            origin_content: None,
            notice_retained: Some(false),
            alone: false,
            license_class: None,
            alternatives: Vec::new(),
        }
    }

    #[test]
    fn answers_unchanged_files_under_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan-cache.json");
        let cache = ScanCache::open(&path, "k1".into());
        assert!(cache.get("a.c", "d1").is_none());
        cache.put("a.c", "d1", &Ok(vec![finding("a.c")]));
        let skipped = Skipped {
            path: "b.bin".into(),
            reason: SkipReason::Binary,
        };
        cache.put("b.bin", "d2", &Err(skipped));
        let damaged = Skipped {
            path: "c.c".into(),
            reason: SkipReason::Unreadable("I/O error".into()),
        };
        cache.put("c.c", "d3", &Err(damaged));
        cache.save().unwrap();

        let cache = ScanCache::open(&path, "k1".into());
        assert_eq!(
            cache.get("a.c", "d1").unwrap().unwrap(),
            vec![finding("a.c")]
        );
        assert_eq!(
            cache.get("b.bin", "d2").unwrap().unwrap_err().reason,
            SkipReason::Binary
        );
        assert!(cache.get("a.c", "changed").is_none(), "another digest");
        assert!(
            cache.get("c.c", "d3").is_none(),
            "skips about the moment, not the file, are not kept"
        );
        assert_eq!(cache.reused(), 2);
        cache.save().unwrap();

        // Only what this scan saw is kept; another key starts afresh.
        let cache = ScanCache::open(&path, "k1".into());
        assert!(cache.get("a.c", "d1").is_some());
        let other = ScanCache::open(&path, "k2".into());
        assert!(other.get("a.c", "d1").is_none());
        std::fs::write(&path, b"{ not json").unwrap();
        assert!(ScanCache::open(&path, "k1".into())
            .get("a.c", "d1")
            .is_none());
    }
}
