//! Reading the files of a tree given on the command line.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// A file read from disk, with its path relative to the root it was found under.
pub struct InputFile {
    pub rel: String,
    pub bytes: Vec<u8>,
}

/// A file that was not read, and why.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Every file under `root` (or `root` itself), honouring `.gitignore`. Files
/// that cannot be read are reported, never silently dropped.
pub fn read_tree(root: &Path, max_bytes: u64) -> anyhow::Result<(Vec<InputFile>, Vec<Skipped>)> {
    if !root.exists() {
        bail!("{}: no such file or directory", root.display());
    }
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in ignore::WalkBuilder::new(root).follow_links(false).build() {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                skipped.push(Skipped {
                    path: root.display().to_string(),
                    reason: err.to_string(),
                });
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = relative(root, entry.path());
        match read_capped(entry.path(), max_bytes) {
            Ok(bytes) => files.push(InputFile { rel, bytes }),
            Err(reason) => skipped.push(Skipped { path: rel, reason }),
        }
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((files, skipped))
}

fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > max_bytes {
        return Err(format!("too large ({len} bytes, limit {max_bytes})"));
    }
    std::fs::read(path)
        .with_context(|| format!("reading {}", path.display()))
        .map_err(|e| format!("{:#}", e))
}

/// `path` relative to `root`, '/'-separated; a single-file root gives its file name.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel: PathBuf = match path.strip_prefix(root) {
        Ok(r) if !r.as_os_str().is_empty() => r.to_path_buf(),
        _ => PathBuf::from(path.file_name().unwrap_or(path.as_os_str())),
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
