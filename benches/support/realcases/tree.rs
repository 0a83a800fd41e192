//! Packages of the real cases, unpacked once under
//! `$PROVSCAN_TESTDATA/realcases/trees/` and read from there by the truth,
//! the naive matcher and (as scan targets) provscan.
//!
//! They are loaded through `provscan-corpus`, the code `provscan index add`
//! uses, so project names and paths are the ones the index holds (single
//! top directory stripped, Debian's `debian/` beside the upstream files).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use corpus::source::SourceSpec;
use corpus::LoadOptions;

/// Files larger than this are not read as text (the scanner skips them too).
const MAX_TEXT_BYTES: u64 = 16 << 20;

/// One unpacked package.
pub struct Tree {
    pub spec: String,
    pub project: String,
    pub root: PathBuf,
    /// Text files, sorted by path (`/`-separated, relative to `root`).
    pub files: Vec<TextFile>,
}

pub struct TextFile {
    pub path: String,
    pub text: String,
}

impl Tree {
    pub fn file(&self, path: &str) -> Option<&TextFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

/// A spec as one path component.
pub fn component(spec: &str) -> String {
    spec.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Downloads and unpacks `spec` (or finds it unpacked) and reads its text
/// files whose path starts with one of `only` (all when empty).
pub fn materialize(spec: &str, testdata: &Path, only: &[&str]) -> anyhow::Result<Tree> {
    let base = testdata
        .join("realcases")
        .join("trees")
        .join(component(spec));
    let root = base.join("tree");
    let meta = base.join("meta.txt");
    if !meta.is_file() {
        let parsed = SourceSpec::parse(spec).with_context(|| format!("bad spec {spec}"))?;
        let opts = LoadOptions::new(testdata.to_path_buf());
        let versions = corpus::load(&parsed, &opts).with_context(|| format!("loading {spec}"))?;
        let [v] = versions.as_slice() else {
            bail!("{spec}: {} versions, expected one", versions.len());
        };
        if root.exists() {
            fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
        }
        for f in &v.files {
            // Entries of nested archives are not files of the tree.
            if f.path.contains("!/") {
                continue;
            }
            let to = root.join(&f.path);
            if let Some(dir) = to.parent() {
                fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            fs::write(&to, &f.bytes).with_context(|| format!("writing {}", to.display()))?;
        }
        fs::write(&meta, format!("{}\n{}\n", v.project, v.version))
            .with_context(|| format!("writing {}", meta.display()))?;
    }
    let m = fs::read_to_string(&meta).with_context(|| format!("reading {}", meta.display()))?;
    let mut lines = m.lines();
    let Some(project) = lines.next() else {
        bail!("{}: expected the project name", meta.display());
    };
    let mut files = Vec::new();
    read_dir(&root, "", only, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Tree {
        spec: spec.to_string(),
        project: project.to_string(),
        root,
        files,
    })
}

fn wanted(path: &str, only: &[&str]) -> bool {
    only.is_empty() || only.iter().any(|p| path.starts_with(p))
}

/// Whether a directory can hold wanted files.
fn may_hold(dir: &str, only: &[&str]) -> bool {
    only.is_empty()
        || only
            .iter()
            .any(|p| p.starts_with(&format!("{dir}/")) || dir.starts_with(p.trim_end_matches('/')))
}

fn read_dir(dir: &Path, rel: &str, only: &[&str], out: &mut Vec<TextFile>) -> anyhow::Result<()> {
    let rd = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for e in rd {
        let e = e.with_context(|| format!("reading {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ft = e.file_type()?;
        if ft.is_dir() {
            if may_hold(&path, only) {
                read_dir(&e.path(), &path, only, out)?;
            }
        } else if ft.is_file() && wanted(&path, only) {
            if e.metadata()?.len() > MAX_TEXT_BYTES {
                continue;
            }
            let bytes = fs::read(e.path()).with_context(|| format!("reading {path}"))?;
            if bytes[..bytes.len().min(8000)].contains(&0) {
                continue;
            }
            out.push(TextFile {
                path,
                text: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
    }
    Ok(())
}

/// Links (or copies) the files of `tree` into `dest`, keeping their paths:
/// the directory provscan scans.
pub fn stage(tree: &Tree, dest: &Path) -> anyhow::Result<()> {
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("clearing {}", dest.display()))?;
    }
    for f in &tree.files {
        let from = tree.root.join(&f.path);
        let to = dest.join(&f.path);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        }
    }
    Ok(())
}

/// Lines of a text, 1-based by index + 1, as provscan numbers them.
pub fn lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}
