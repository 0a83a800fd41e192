//! Getting real open source into the provscan index.
//!
//! A [`SourceSpec`] names what to index (a directory, an archive, a git
//! repository's tags, or a package from a registry); [`load`] turns it into
//! [`Version`]s: the files of one project version, read into memory, each
//! with its license [`Attribution`] and copyright statements. The index
//! side (`provscan index add`, `provscan index build corpus.toml`) sits on
//! top of this crate; see `README.md` for the spec syntax and limits.

pub mod archive;
pub mod copyright;
pub mod fetch;
pub mod file;
pub mod git;
pub mod license;
pub mod manifest;
pub mod metadata;
pub mod source;
#[cfg(feature = "index")]
mod to_index;
pub mod walk;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use archive::{ArchiveError, Limits};
pub use fetch::{FetchError, Tools};
pub use file::{SkipKind, SkipReason, Skipped, SourceFile};
pub use git::{BlobId, GitError};
pub use license::{Attribution, Competing, Evidence, LicenseResolver};
pub use manifest::{BuildReport, Manifest, ManifestError, SourceReport};
pub use source::{ArchiveKind, SourceError, SourceSpec};
pub use walk::{WalkError, WalkOptions};

/// Version string used when neither the caller, the spec nor any package
/// metadata names one.
pub const UNKNOWN_VERSION: &str = "unknown";

/// Any failure of [`load`]; the wrapped errors name the file, archive,
/// entry or repository concerned.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// Bad spec string.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Registry download failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Archive rejected or unreadable.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// Directory walk could not start.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// Git repository problem.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The callback of [`for_each_version`] failed.
    #[error("{spec}: version {version}: {message}")]
    Callback {
        /// The spec being loaded.
        spec: String,
        /// The version handed to the callback.
        version: String,
        /// The callback's error.
        message: String,
    },
}

/// How to load a spec.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Where registry downloads are kept between runs.
    pub cache_dir: PathBuf,
    /// Archive caps.
    pub limits: Limits,
    /// Directory walking options.
    pub walk: WalkOptions,
    /// Package client programs.
    pub tools: Tools,
    /// Project name overriding spec and metadata.
    pub project: Option<String>,
    /// Version overriding spec and metadata (ignored for git sources).
    pub version: Option<String>,
    /// Declared license: the last-resort attribution.
    pub declared_license: Option<String>,
    /// Remove the single top-level directory archives usually have
    /// (`zlib-1.3/`, `package/`), so paths start at the project root.
    /// Default true.
    pub strip_single_root: bool,
}

impl LoadOptions {
    /// Defaults with the given download cache.
    pub fn new(cache_dir: impl Into<PathBuf>) -> LoadOptions {
        LoadOptions {
            cache_dir: cache_dir.into(),
            limits: Limits::default(),
            walk: WalkOptions::default(),
            tools: Tools::default(),
            project: None,
            version: None,
            declared_license: None,
            strip_single_root: true,
        }
    }
}

/// One file of a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusFile {
    /// Path relative to the project root, `/`-separated (`!/` inside
    /// nested archives).
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// License attribution, `None` when unknown.
    pub license: Option<Attribution>,
    /// Copyright statements found in the file.
    pub copyrights: Vec<String>,
    /// Git blob id for files from a git tag: equal ids mean equal content,
    /// so callers can skip re-fingerprinting across tags.
    pub blob_id: Option<BlobId>,
}

/// One version of one project, ready to index.
#[derive(Clone, Debug)]
pub struct Version {
    /// Project name.
    pub project: String,
    /// Version (a tag name for git sources).
    pub version: String,
    /// The spec this came from, in its string form.
    pub source_spec: String,
    /// The project's license, normalized to SPDX: the one declared by the
    /// caller, else the package metadata nearest the root, else the DEP-5
    /// `Files: *` stanza (see `LicenseResolver::project_license`).
    pub declared_license: Option<String>,
    /// Files, sorted by path.
    pub files: Vec<CorpusFile>,
    /// Entries that were not read, with reasons.
    pub skipped: Vec<Skipped>,
}

/// Loads every version a spec denotes (several for a git repository).
/// Holds all of them in memory; use [`for_each_version`] to handle one at
/// a time.
pub fn load(spec: &SourceSpec, opts: &LoadOptions) -> Result<Vec<Version>, CorpusError> {
    let mut out = Vec::new();
    for_each_version(spec, opts, |v| {
        out.push(v);
        Ok(())
    })?;
    Ok(out)
}

/// Loads a spec and hands each version to `f` as soon as it is read, so
/// only one version is in memory at a time.
pub fn for_each_version(
    spec: &SourceSpec,
    opts: &LoadOptions,
    mut f: impl FnMut(Version) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> Result<(), CorpusError> {
    let spec_str = spec.to_string();
    let mut emit = |v: Version| -> Result<(), CorpusError> {
        let version = v.version.clone();
        f(v).map_err(|e| CorpusError::Callback {
            spec: spec_str.clone(),
            version,
            message: e.to_string(),
        })
    };
    let (spec_name, spec_version) = spec.default_name_version();
    let _ = &spec_version;
    match spec {
        SourceSpec::Directory(path) => {
            let w = walk::walk(path, &opts.walk)?;
            let t = Tree {
                files: w.files,
                skipped: w.skipped,
                ..Tree::default()
            };
            emit(build_version(spec, opts, t, None, None, None, None))
        }
        SourceSpec::Archive { path, kind } => {
            let t = archive_tree(path, *kind, opts)?;
            emit(build_version(spec, opts, t, None, None, None, None))
        }
        SourceSpec::Crate { .. } | SourceSpec::Pypi { .. } | SourceSpec::Npm { .. } => {
            let fetch::Fetched::Archive(path) = fetch::fetch(spec, &opts.cache_dir, &opts.tools)?
            else {
                unreachable!("single-archive registries")
            };
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let kind = ArchiveKind::from_name(&name).ok_or_else(|| FetchError::Missing {
                spec: spec.to_string(),
                what: format!("{} is not a known archive type", path.display()),
            })?;
            let t = archive_tree(&path, kind, opts)?;
            emit(build_version(
                spec,
                opts,
                t,
                spec_name,
                spec_version,
                None,
                None,
            ))
        }
        SourceSpec::Deb { .. } => {
            let fetch::Fetched::Debian { dsc, files } =
                fetch::fetch(spec, &opts.cache_dir, &opts.tools)?
            else {
                unreachable!("deb sources")
            };
            let text = std::fs::read_to_string(&dsc).unwrap_or_default();
            let (n, v) = fetch::dsc_name_version(&text);
            let t = debian_tree(&files, opts)?;
            emit(build_version(
                spec,
                opts,
                t,
                n.or(spec_name),
                v.or(spec_version),
                None,
                None,
            ))
        }
        SourceSpec::Git { path, tag_glob } => {
            let repo = git::GitRepo::open(path)?;
            let tags = repo.tags(tag_glob.as_deref())?;
            // Blobs of the previous tag: consecutive tags share most files,
            // so this avoids re-reading and re-scanning them while keeping
            // memory to about one version.
            let mut prev: HashMap<BlobId, (Vec<u8>, Vec<String>)> = HashMap::new();
            for tag in tags {
                let (entries, skipped) = repo.tree_files(&tag)?;
                let mut files = Vec::with_capacity(entries.len());
                let mut ids = Vec::with_capacity(entries.len());
                let mut skipped = skipped;
                let mut cur: HashMap<BlobId, (Vec<u8>, Vec<String>)> = HashMap::new();
                for e in entries {
                    if e.size > opts.walk.max_file_bytes {
                        skipped.push(Skipped {
                            path: e.path,
                            reason: SkipReason::TooLarge {
                                size: e.size,
                                limit: opts.walk.max_file_bytes,
                            },
                        });
                        continue;
                    }
                    let entry = match prev.remove(&e.blob).or_else(|| cur.get(&e.blob).cloned()) {
                        Some(x) => x,
                        None => {
                            let bytes = repo.read_blob(&e.blob)?;
                            let c = copyright::extract(&bytes);
                            (bytes, c)
                        }
                    };
                    cur.insert(e.blob.clone(), entry.clone());
                    files.push(SourceFile {
                        path: e.path,
                        bytes: entry.0,
                    });
                    ids.push((e.blob, entry.1));
                }
                let t = Tree {
                    files,
                    skipped,
                    ..Tree::default()
                };
                let v = build_version(spec, opts, t, None, None, Some(tag.name.clone()), Some(ids));
                prev = cur;
                emit(v)?;
            }
            Ok(())
        }
    }
}

/// Files of one version before analysis.
#[derive(Default)]
struct Tree {
    files: Vec<SourceFile>,
    skipped: Vec<Skipped>,
    gem_metadata: Option<String>,
    /// File name of the archive, for name/version fallback.
    archive_name: Option<String>,
}

fn archive_tree(path: &Path, kind: ArchiveKind, opts: &LoadOptions) -> Result<Tree, CorpusError> {
    let u = archive::read_archive(path, kind, &opts.limits)?;
    let mut t = Tree {
        files: u.files,
        skipped: u.skipped,
        gem_metadata: u.gem_metadata,
        archive_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
    };
    if opts.strip_single_root {
        strip_single_root(&mut t);
    }
    Ok(t)
}

/// Removes a directory that is the only top-level entry of the tree.
fn strip_single_root(t: &mut Tree) {
    let first = |p: &str| p.split_once('/').map(|(a, _)| a.to_string());
    let Some(root) = t.files.first().and_then(|f| first(&f.path)) else {
        return;
    };
    let prefix = format!("{root}/");
    let all = t.files.iter().all(|f| f.path.starts_with(&prefix))
        && t.skipped.iter().all(|s| s.path.starts_with(&prefix));
    if !all || root.ends_with('!') {
        return;
    }
    for f in &mut t.files {
        f.path.drain(..prefix.len());
    }
    for s in &mut t.skipped {
        s.path.drain(..prefix.len());
    }
}

/// Lays out a Debian source package: the upstream tarball(s) with their
/// top directory removed, `orig-COMPONENT` tarballs under `COMPONENT/`,
/// and the `debian/` directory from the debian tarball.
fn debian_tree(files: &[PathBuf], opts: &LoadOptions) -> Result<Tree, CorpusError> {
    let mut tree = Tree::default();
    for p in files {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".asc") || name.ends_with(".dsc") {
            continue;
        }
        if name.ends_with(".diff.gz") {
            tree.skipped.push(Skipped {
                path: name,
                reason: SkipReason::Other(
                    "Debian 1.0-format diff is not applied; debian/ is missing".into(),
                ),
            });
            continue;
        }
        let Some(kind) = ArchiveKind::from_name(&name) else {
            continue;
        };
        let mut t = archive_tree(
            p,
            kind,
            &LoadOptions {
                strip_single_root: false,
                ..opts.clone()
            },
        )?;
        let prefix = if name.contains(".debian.tar.") {
            String::new()
        } else {
            strip_single_root(&mut t);
            match name.split_once(".orig-") {
                Some((_, rest)) => format!("{}/", rest.split(".tar").next().unwrap_or(rest)),
                None => String::new(),
            }
        };
        for mut f in t.files {
            f.path.insert_str(0, &prefix);
            tree.files.push(f);
        }
        for mut s in t.skipped {
            s.path.insert_str(0, &prefix);
            tree.skipped.push(s);
        }
    }
    Ok(tree)
}

/// Blob id and copyright statements already computed for a git file.
type BlobInfo = (BlobId, Vec<String>);

/// Picks name and version, attributes licenses and copyrights.
#[allow(clippy::too_many_arguments)]
fn build_version(
    spec: &SourceSpec,
    opts: &LoadOptions,
    mut tree: Tree,
    authoritative_name: Option<String>,
    authoritative_version: Option<String>,
    tag: Option<String>,
    blob_info: Option<Vec<BlobInfo>>,
) -> Version {
    let gem = tree
        .gem_metadata
        .as_deref()
        .map(metadata::parse_gem_metadata);
    let (meta_name, meta_version) = match &gem {
        Some(g) if g.name.is_some() => (g.name.clone(), g.version.clone()),
        _ => metadata::detect_name_version(
            tree.files
                .iter()
                .map(|f| (f.path.as_str(), f.bytes.as_slice())),
        ),
    };
    let (file_name, file_version) = tree
        .archive_name
        .as_deref()
        .and_then(source::split_archive_name)
        .map(|(n, v)| (Some(n), v))
        .unwrap_or((None, None));
    let (spec_name, _) = spec.default_name_version();
    let project = opts
        .project
        .clone()
        .or(authoritative_name)
        .or(meta_name)
        .or(file_name)
        .or(spec_name)
        .unwrap_or_else(|| "unnamed".into());
    let version = match tag {
        Some(t) => t,
        None => opts
            .version
            .clone()
            .or(authoritative_version)
            .or(meta_version)
            .or(file_version)
            .unwrap_or_else(|| UNKNOWN_VERSION.into()),
    };
    let declared = opts
        .declared_license
        .as_deref()
        .and_then(license::normalize);

    let mut pairs: Vec<(SourceFile, Option<BlobInfo>)> = match blob_info {
        Some(info) => tree
            .files
            .drain(..)
            .zip(info.into_iter().map(Some))
            .collect(),
        None => tree.files.drain(..).map(|f| (f, None)).collect(),
    };
    pairs.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let refs: Vec<(&str, &[u8])> = pairs
        .iter()
        .map(|(f, _)| (f.path.as_str(), f.bytes.as_slice()))
        .collect();
    let mut resolver = LicenseResolver::new(&refs, declared.as_deref());
    if let Some(g) = &gem {
        if !g.license_is_list && g.licenses.len() == 1 {
            resolver.add_package_license("", &g.licenses[0], "metadata.gz");
        }
    }
    let project_license = resolver.project_license();
    let files = pairs
        .into_iter()
        .map(|(f, info)| {
            let license = resolver.for_file(&f.path, &f.bytes);
            let (blob_id, copyrights) = match info {
                Some((id, c)) => (Some(id), c),
                None => (None, copyright::extract(&f.bytes)),
            };
            CorpusFile {
                path: f.path,
                bytes: f.bytes,
                license,
                copyrights,
                blob_id,
            }
        })
        .collect();
    let mut skipped = tree.skipped;
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Version {
        project,
        version,
        source_spec: spec.to_string(),
        declared_license: project_license,
        files,
        skipped,
    }
}
