//! `corpus.toml`: the list of sources for a reproducible corpus build.
//!
//! ```toml
//! [[source]]
//! spec = "crate:libz-sys@1.1.20"
//!
//! [[source]]
//! spec = "vendor/zlib-1.3.tar.gz"   # relative to this file
//! project = "zlib"
//! version = "1.3"
//! license = "Zlib"
//! ```
//!
//! [`build`] goes through the sources in order, asks the caller whether a
//! project version is already indexed, hands new versions to the caller,
//! and records what happened to each source. One failing source never
//! stops the others.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::source::SourceSpec;
use crate::{for_each_version, LoadOptions, Version};

/// A parsed `corpus.toml`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The `[[source]]` entries, in file order.
    #[serde(rename = "source", default)]
    pub sources: Vec<ManifestSource>,
    /// Directory relative specs are resolved against (the manifest's own
    /// directory when read with [`Manifest::from_path`]).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// One `[[source]]` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestSource {
    /// A source spec, see [`SourceSpec`].
    pub spec: String,
    /// Project name overriding the one from the spec or metadata.
    pub project: Option<String>,
    /// Version overriding the one from the spec or metadata (not for git
    /// sources, whose versions are their tags).
    pub version: Option<String>,
    /// Declared license (SPDX), the last-resort attribution.
    pub license: Option<String>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The manifest path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The TOML is invalid or has unknown keys.
    #[error("{origin}: {message}")]
    Parse {
        /// The manifest path, or `<string>`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
}

impl Manifest {
    /// Parses manifest text; relative specs stay relative to the current
    /// directory.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        toml::from_str(text).map_err(|e| ManifestError::Parse {
            origin: "<string>".into(),
            message: e.to_string(),
        })
    }

    /// Reads a manifest file; relative specs resolve against its directory.
    pub fn from_path(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut m: Manifest = toml::from_str(&text).map_err(|e| ManifestError::Parse {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
        m.base_dir = Some(path.parent().map(Path::to_path_buf).unwrap_or_default());
        Ok(m)
    }
}

/// What happened to one source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// The spec as written in the manifest.
    pub spec: String,
    /// `project@version` of each version handed to the caller.
    pub added: Vec<String>,
    /// `project@version` of each version that was already indexed.
    pub skipped: Vec<String>,
    /// Why the source (or one of its versions) failed, if it did.
    pub error: Option<String>,
}

/// The outcome of a [`build`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildReport {
    /// One entry per manifest source, in order.
    pub sources: Vec<SourceReport>,
}

impl BuildReport {
    /// Versions added, over all sources.
    pub fn added(&self) -> usize {
        self.sources.iter().map(|s| s.added.len()).sum()
    }
    /// Versions skipped as already indexed.
    pub fn skipped(&self) -> usize {
        self.sources.iter().map(|s| s.skipped.len()).sum()
    }
    /// Sources that failed (entirely or partly).
    pub fn failed(&self) -> usize {
        self.sources.iter().filter(|s| s.error.is_some()).count()
    }
}

/// What the loading thread tells the adding one.
enum Event {
    /// A version to add, for the source at this position.
    Load(usize, Version),
    /// A version already indexed.
    Skipped(usize, String),
    /// The source could not be read (entirely or from some point on).
    Failed(usize, String),
}

/// Loads every source of the manifest.
///
/// `is_indexed(project, version)` is asked before anything is fetched when
/// the manifest (or a registry spec) already names the version, and for
/// every version otherwise; `add(version)` receives each new version. An
/// error from `add` is recorded for that source, and the build goes on.
///
/// Loading (download, unpacking, license attribution) runs on its own
/// thread, one version ahead of `add`, so the two overlap; at most two
/// loaded versions wait in memory besides the one being added.
pub fn build(
    manifest: &Manifest,
    opts: &LoadOptions,
    is_indexed: impl Fn(&str, &str) -> bool + Sync,
    mut add: impl FnMut(Version) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> BuildReport {
    let mut report = BuildReport {
        sources: manifest
            .sources
            .iter()
            .map(|s| SourceReport {
                spec: s.spec.clone(),
                ..SourceReport::default()
            })
            .collect(),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Event>(1);
    std::thread::scope(|scope| {
        let is_indexed = &is_indexed;
        scope.spawn(move || {
            let opts = &with_debs_resolved(manifest, opts);
            for (i, src) in manifest.sources.iter().enumerate() {
                load_source(manifest, i, src, opts, is_indexed, &tx);
            }
        });
        for event in rx {
            match event {
                Event::Load(i, v) => {
                    let id = format!("{}@{}", v.project, v.version);
                    let rep = &mut report.sources[i];
                    match add(v) {
                        Ok(()) => rep.added.push(id),
                        Err(e) => {
                            rep.error.get_or_insert_with(|| format!("{id}: {e}"));
                        }
                    }
                }
                Event::Skipped(i, id) => report.sources[i].skipped.push(id),
                Event::Failed(i, e) => report.sources[i].error = Some(e),
            }
        }
    });
    report
}

/// `opts` with the candidates of the manifest's unversioned Debian
/// sources asked of apt in one call ([`crate::fetch::resolve_debs`]).
fn with_debs_resolved(manifest: &Manifest, opts: &LoadOptions) -> LoadOptions {
    let debs: Vec<String> = manifest
        .sources
        .iter()
        .filter(|src| src.version.is_none())
        .filter_map(|src| match SourceSpec::parse(&src.spec) {
            Ok(SourceSpec::Deb {
                source,
                version: None,
            }) => Some(source),
            _ => None,
        })
        .collect();
    let debs: Vec<&str> = debs.iter().map(String::as_str).collect();
    let mut opts = opts.clone();
    opts.tools.resolved_debs = std::sync::Arc::new(crate::fetch::resolve_debs(&debs, &opts.tools));
    opts
}

/// Loads one manifest source and sends what happened; runs on the loading
/// thread of [`build`].
fn load_source(
    manifest: &Manifest,
    i: usize,
    src: &ManifestSource,
    opts: &LoadOptions,
    is_indexed: &(impl Fn(&str, &str) -> bool + Sync),
    tx: &std::sync::mpsc::SyncSender<Event>,
) {
    // A send fails only when the adding side is gone; nothing is left to do.
    let send = |e: Event| {
        let _ = tx.send(e);
    };
    let spec = match SourceSpec::parse_relative_to(&src.spec, manifest.base_dir.as_deref()) {
        Ok(s) => s,
        Err(e) => return send(Event::Failed(i, e.to_string())),
    };
    // Cheap check first: a fully named version needs no download.
    let (spec_name, spec_version) = spec.default_name_version();
    let is_git = matches!(spec, SourceSpec::Git { .. });
    let known_name = src
        .project
        .clone()
        .or(if spec.is_registry() { spec_name } else { None });
    let known_version = if is_git {
        None
    } else {
        src.version.clone().or(if spec.is_registry() {
            spec_version
        } else {
            None
        })
    };
    if let (Some(n), Some(v)) = (&known_name, &known_version) {
        if is_indexed(n, v) {
            return send(Event::Skipped(i, format!("{n}@{v}")));
        }
    }
    let mut o = opts.clone();
    o.project = src.project.clone().or(o.project);
    o.version = if is_git {
        None
    } else {
        src.version.clone().or(o.version)
    };
    o.declared_license = src.license.clone().or(o.declared_license);
    let result = for_each_version(&spec, &o, |v| {
        if is_indexed(&v.project, &v.version) {
            send(Event::Skipped(i, format!("{}@{}", v.project, v.version)));
        } else {
            send(Event::Load(i, v));
        }
        Ok(())
    });
    if let Err(e) = result {
        send(Event::Failed(i, e.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_keys() {
        let m = Manifest::parse("[[source]]\nspec = \"crate:a@1.0.0\"\n\n[[source]]\nspec = \"x.tar.gz\"\nproject = \"x\"\nversion = \"2\"\nlicense = \"MIT\"\n").unwrap();
        assert_eq!(m.sources.len(), 2);
        assert_eq!(m.sources[1].license.as_deref(), Some("MIT"));
        let e = Manifest::parse("[[source]]\nspecc = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("specc"), "{e}");
        assert!(Manifest::parse("").unwrap().sources.is_empty());
    }

    #[test]
    fn build_adds_skips_and_survives_failures() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/src")).unwrap();
        std::fs::write(d.path().join("a/src/x.c"), "int x;").unwrap();
        std::fs::create_dir_all(d.path().join("b")).unwrap();
        std::fs::write(d.path().join("b/y.c"), "int y;").unwrap();
        let toml = "[[source]]\nspec = \"dir:a\"\nproject = \"a\"\nversion = \"1\"\n\n[[source]]\nspec = \"dir:missing\"\n\n[[source]]\nspec = \"dir:b\"\nproject = \"b\"\nversion = \"2\"\n\n[[source]]\nspec = \"crate:\"\n";
        let path = d.path().join("corpus.toml");
        std::fs::write(&path, toml).unwrap();
        let m = Manifest::from_path(&path).unwrap();
        let opts = LoadOptions::new(d.path().join("cache"));
        let mut added = Vec::new();
        let report = build(
            &m,
            &opts,
            |p, _| p == "b",
            |v| {
                added.push(v.files.len());
                Ok(())
            },
        );
        assert_eq!(report.added(), 1);
        assert_eq!(report.skipped(), 1);
        assert_eq!(report.failed(), 2, "{report:?}");
        assert_eq!(report.sources[0].added, ["a@1"]);
        assert!(report.sources[1]
            .error
            .as_ref()
            .unwrap()
            .contains("missing"));
        assert_eq!(added, [1]);
    }
}
