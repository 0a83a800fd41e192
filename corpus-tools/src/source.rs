//! Source specs: the strings users type to say what to index.
//!
//! One spec names one project, possibly with several versions (a git
//! repository yields one version per tag). Parsing only looks at the file
//! system to tell a directory from a git checkout; nothing is fetched here.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Archive formats understood by [`crate::archive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArchiveKind {
    /// Uncompressed tar.
    Tar,
    /// gzip-compressed tar (`.tar.gz`, `.tgz`, `.crate`).
    TarGz,
    /// xz-compressed tar (`.tar.xz`, `.txz`).
    TarXz,
    /// bzip2-compressed tar (`.tar.bz2`, `.tbz2`).
    TarBz2,
    /// zstd-compressed tar (`.tar.zst`, `.tzst`).
    TarZst,
    /// Zip and its relatives (`.zip`, `.jar`, `.whl`, `.war`, `.ear`, `.nupkg`).
    Zip,
    /// A Ruby gem: a plain tar holding `data.tar.gz` (the files) and
    /// `metadata.gz` (the gemspec as YAML).
    Gem,
}

impl ArchiveKind {
    /// Recognizes an archive by its file name (case-insensitive suffix).
    pub fn from_name(name: &str) -> Option<ArchiveKind> {
        let n = name.to_ascii_lowercase();
        let table: &[(&str, ArchiveKind)] = &[
            (".tar.gz", ArchiveKind::TarGz),
            (".tgz", ArchiveKind::TarGz),
            (".crate", ArchiveKind::TarGz),
            (".tar.xz", ArchiveKind::TarXz),
            (".txz", ArchiveKind::TarXz),
            (".tar.bz2", ArchiveKind::TarBz2),
            (".tbz2", ArchiveKind::TarBz2),
            (".tbz", ArchiveKind::TarBz2),
            (".tar.zst", ArchiveKind::TarZst),
            (".tzst", ArchiveKind::TarZst),
            (".tar", ArchiveKind::Tar),
            (".zip", ArchiveKind::Zip),
            (".jar", ArchiveKind::Zip),
            (".whl", ArchiveKind::Zip),
            (".war", ArchiveKind::Zip),
            (".ear", ArchiveKind::Zip),
            (".nupkg", ArchiveKind::Zip),
            (".gem", ArchiveKind::Gem),
        ];
        table
            .iter()
            .find(|(suffix, _)| n.ends_with(suffix) && n.len() > suffix.len())
            .map(|(_, k)| *k)
    }

    /// The file-name suffixes this kind is recognized by, for messages.
    pub fn label(self) -> &'static str {
        match self {
            ArchiveKind::Tar => "tar",
            ArchiveKind::TarGz => "tar.gz",
            ArchiveKind::TarXz => "tar.xz",
            ArchiveKind::TarBz2 => "tar.bz2",
            ArchiveKind::TarZst => "tar.zst",
            ArchiveKind::Zip => "zip",
            ArchiveKind::Gem => "gem",
        }
    }
}

/// What to index, parsed from a string with [`SourceSpec::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// A directory tree on disk (`PATH` or `dir:PATH`).
    Directory(PathBuf),
    /// An archive file on disk, recognized by its suffix.
    Archive {
        /// The archive file.
        path: PathBuf,
        /// Its format.
        kind: ArchiveKind,
    },
    /// A local git repository; every tag (or every tag matching `tag_glob`)
    /// is one version. Written `git:PATH[#GLOB]`, or just a directory path
    /// that contains `.git`.
    Git {
        /// The repository (work tree or bare).
        path: PathBuf,
        /// Glob over tag names, e.g. `v1.*`; `None` takes every tag.
        tag_glob: Option<String>,
    },
    /// `crate:NAME@VERSION`: a crate from the configured cargo registry.
    Crate {
        /// Crate name.
        name: String,
        /// Exact version.
        version: String,
    },
    /// `pypi:NAME==VERSION`: a source distribution from the configured
    /// Python package index.
    Pypi {
        /// Distribution name.
        name: String,
        /// Exact version.
        version: String,
    },
    /// `npm:NAME@VERSION` (scoped names like `@scope/name@1.0.0` work).
    Npm {
        /// Package name.
        name: String,
        /// Exact version.
        version: String,
    },
    /// `deb:SOURCE[=VERSION]`: a Debian source package from the configured
    /// apt sources (needs `deb-src` entries).
    Deb {
        /// Source package name.
        source: String,
        /// Exact version; `None` takes the candidate apt would pick.
        version: Option<String>,
    },
}

/// Why a spec string could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The spec string was empty.
    #[error("empty source spec")]
    Empty,
    /// A registry spec lacks the version or name it needs.
    #[error("source spec {spec:?}: {problem} (expected {expected})")]
    Malformed {
        /// The spec as given.
        spec: String,
        /// What is wrong.
        problem: &'static str,
        /// The form it should take.
        expected: &'static str,
    },
    /// A path that does not exist and has no archive suffix.
    #[error("source spec {spec:?}: {path} does not exist")]
    NotFound {
        /// The spec as given.
        spec: String,
        /// The missing path.
        path: PathBuf,
    },
    /// A file that is neither a directory nor a known archive.
    #[error("source spec {spec:?}: {path} is not a directory and not a known archive type (.tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .tar.zst, .zip, .jar, .whl, .crate, .gem)")]
    UnknownKind {
        /// The spec as given.
        spec: String,
        /// The file.
        path: PathBuf,
    },
    /// A tag glob that does not compile.
    #[error("source spec {spec:?}: bad tag glob {glob:?}: {message}")]
    BadGlob {
        /// The spec as given.
        spec: String,
        /// The glob.
        glob: String,
        /// The glob compiler's complaint.
        message: String,
    },
}

fn malformed(spec: &str, problem: &'static str, expected: &'static str) -> SourceError {
    SourceError::Malformed {
        spec: spec.to_string(),
        problem,
        expected,
    }
}

fn non_empty(
    spec: &str,
    s: &str,
    what: &'static str,
    expected: &'static str,
) -> Result<String, SourceError> {
    let s = s.trim();
    if s.is_empty() {
        Err(malformed(spec, what, expected))
    } else {
        Ok(s.to_string())
    }
}

impl SourceSpec {
    /// Parses a spec string. Paths are interpreted relative to the current
    /// directory; see [`SourceSpec::parse_relative_to`] for manifests.
    pub fn parse(spec: &str) -> Result<SourceSpec, SourceError> {
        Self::parse_relative_to(spec, None)
    }

    /// Parses a spec string, resolving relative paths against `base` (the
    /// directory of a `corpus.toml`, so a manifest works from anywhere).
    pub fn parse_relative_to(spec: &str, base: Option<&Path>) -> Result<SourceSpec, SourceError> {
        let s = spec.trim();
        if s.is_empty() {
            return Err(SourceError::Empty);
        }
        // Absolute, so the spec recorded in the index still says where the
        // source was once the command's working directory is forgotten.
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            let joined = match base {
                Some(b) if p.is_relative() => b.join(p),
                _ => p.to_path_buf(),
            };
            std::path::absolute(&joined).unwrap_or(joined)
        };
        if let Some(rest) = s.strip_prefix("crate:") {
            const EXP: &str = "crate:NAME@VERSION";
            let (name, version) = rest
                .split_once('@')
                .ok_or_else(|| malformed(spec, "missing @VERSION", EXP))?;
            return Ok(SourceSpec::Crate {
                name: non_empty(spec, name, "missing crate name", EXP)?,
                version: non_empty(spec, version, "missing version", EXP)?,
            });
        }
        if let Some(rest) = s.strip_prefix("pypi:") {
            const EXP: &str = "pypi:NAME==VERSION";
            let (name, version) = rest
                .split_once("==")
                .ok_or_else(|| malformed(spec, "missing ==VERSION", EXP))?;
            return Ok(SourceSpec::Pypi {
                name: non_empty(spec, name, "missing distribution name", EXP)?,
                version: non_empty(spec, version, "missing version", EXP)?,
            });
        }
        if let Some(rest) = s.strip_prefix("npm:") {
            const EXP: &str = "npm:NAME@VERSION or npm:@SCOPE/NAME@VERSION";
            // A scoped name starts with '@', so the version separator is the
            // last '@' after the first character.
            let skip = rest.chars().next().map_or(0, char::len_utf8);
            let at = rest[skip..]
                .rfind('@')
                .map(|i| i + skip)
                .ok_or_else(|| malformed(spec, "missing @VERSION", EXP))?;
            return Ok(SourceSpec::Npm {
                name: non_empty(spec, &rest[..at], "missing package name", EXP)?,
                version: non_empty(spec, &rest[at + 1..], "missing version", EXP)?,
            });
        }
        if let Some(rest) = s.strip_prefix("deb:") {
            const EXP: &str = "deb:SOURCE or deb:SOURCE=VERSION";
            let (source, version) = match rest.split_once('=') {
                Some((n, v)) => (
                    n,
                    Some(non_empty(spec, v, "missing version after '='", EXP)?),
                ),
                None => (rest, None),
            };
            return Ok(SourceSpec::Deb {
                source: non_empty(spec, source, "missing source package name", EXP)?,
                version,
            });
        }
        if let Some(rest) = s.strip_prefix("git:") {
            const EXP: &str = "git:PATH or git:PATH#TAG_GLOB";
            let (path, glob) = match rest.rsplit_once('#') {
                Some((p, g)) => (p, Some(g.trim().to_string()).filter(|g| !g.is_empty())),
                None => (rest, None),
            };
            let path = non_empty(spec, path, "missing repository path", EXP)?;
            if let Some(g) = &glob {
                globset::Glob::new(g).map_err(|e| SourceError::BadGlob {
                    spec: spec.to_string(),
                    glob: g.clone(),
                    message: e.kind().to_string(),
                })?;
            }
            return Ok(SourceSpec::Git {
                path: resolve(&path),
                tag_glob: glob,
            });
        }
        if let Some(rest) = s.strip_prefix("dir:") {
            let path = non_empty(spec, rest, "missing directory path", "dir:PATH")?;
            return Ok(SourceSpec::Directory(resolve(&path)));
        }
        let path = resolve(s);
        if path.is_dir() {
            if path.join(".git").exists() {
                return Ok(SourceSpec::Git {
                    path,
                    tag_glob: None,
                });
            }
            return Ok(SourceSpec::Directory(path));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match ArchiveKind::from_name(&name) {
            Some(kind) => Ok(SourceSpec::Archive { path, kind }),
            None if path.exists() => Err(SourceError::UnknownKind {
                spec: spec.to_string(),
                path,
            }),
            None => Err(SourceError::NotFound {
                spec: spec.to_string(),
                path,
            }),
        }
    }

    /// Project name and version implied by the spec alone, before any
    /// package metadata is read. Either may be `None`.
    pub fn default_name_version(&self) -> (Option<String>, Option<String>) {
        match self {
            SourceSpec::Crate { name, version }
            | SourceSpec::Pypi { name, version }
            | SourceSpec::Npm { name, version } => (Some(name.clone()), Some(version.clone())),
            SourceSpec::Deb { source, version } => (Some(source.clone()), version.clone()),
            SourceSpec::Directory(p) | SourceSpec::Git { path: p, .. } => (dir_name(p), None),
            SourceSpec::Archive { path, .. } => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match split_archive_name(&name) {
                    Some((n, v)) => (Some(n), v),
                    None => (None, None),
                }
            }
        }
    }

    /// True for specs that need a registry client ([`crate::fetch`]).
    pub fn is_registry(&self) -> bool {
        matches!(
            self,
            SourceSpec::Crate { .. }
                | SourceSpec::Pypi { .. }
                | SourceSpec::Npm { .. }
                | SourceSpec::Deb { .. }
        )
    }
}

fn dir_name(p: &Path) -> Option<String> {
    let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    p.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Splits an archive file name like `zlib-1.3.1.tar.gz` into
/// (`zlib`, `Some("1.3.1")`): the version starts at the last `-` or `_`
/// followed by a digit. Without such a split only the stem is returned.
pub fn split_archive_name(file_name: &str) -> Option<(String, Option<String>)> {
    let lower = file_name.to_ascii_lowercase();
    let suffixes = [
        ".tar.gz", ".tgz", ".crate", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tbz", ".tar.zst",
        ".tzst", ".tar", ".zip", ".jar", ".whl", ".war", ".ear", ".nupkg", ".gem",
    ];
    let stem_len = suffixes
        .iter()
        .find(|s| lower.ends_with(*s))
        .map(|s| file_name.len() - s.len())
        .unwrap_or(file_name.len());
    let stem = &file_name[..stem_len];
    if stem.is_empty() {
        return None;
    }
    // Wheels: NAME-VERSION-PYTAG-ABITAG-PLATFORM.whl
    if lower.ends_with(".whl") {
        let mut parts = stem.split('-');
        let name = parts.next().unwrap_or(stem).to_string();
        return Some((name, parts.next().map(str::to_string)));
    }
    let bytes = stem.as_bytes();
    let split = (1..bytes.len())
        .find(|&i| (bytes[i - 1] == b'-' || bytes[i - 1] == b'_') && bytes[i].is_ascii_digit());
    match split {
        Some(i) => Some((stem[..i - 1].to_string(), Some(stem[i..].to_string()))),
        None => Some((stem.to_string(), None)),
    }
}

impl FromStr for SourceSpec {
    type Err = SourceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceSpec::parse(s)
    }
}

/// Formats the spec back into the string form it parses from.
impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Directory(p) => write!(f, "dir:{}", p.display()),
            SourceSpec::Archive { path, .. } => write!(f, "{}", path.display()),
            SourceSpec::Git { path, tag_glob } => {
                write!(f, "git:{}", path.display())?;
                if let Some(g) = tag_glob {
                    write!(f, "#{g}")?;
                }
                Ok(())
            }
            SourceSpec::Crate { name, version } => write!(f, "crate:{name}@{version}"),
            SourceSpec::Pypi { name, version } => write!(f, "pypi:{name}=={version}"),
            SourceSpec::Npm { name, version } => write!(f, "npm:{name}@{version}"),
            SourceSpec::Deb { source, version } => match version {
                Some(v) => write!(f, "deb:{source}={v}"),
                None => write!(f, "deb:{source}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_specs() {
        assert_eq!(
            SourceSpec::parse("crate:libz-sys@1.1.20").unwrap(),
            SourceSpec::Crate {
                name: "libz-sys".into(),
                version: "1.1.20".into()
            }
        );
        assert_eq!(
            SourceSpec::parse("pypi:six==1.16.0").unwrap(),
            SourceSpec::Pypi {
                name: "six".into(),
                version: "1.16.0".into()
            }
        );
        assert_eq!(
            SourceSpec::parse("npm:@types/node@20.1.0").unwrap(),
            SourceSpec::Npm {
                name: "@types/node".into(),
                version: "20.1.0".into()
            }
        );
        assert_eq!(
            SourceSpec::parse("npm:left-pad@1.3.0").unwrap(),
            SourceSpec::Npm {
                name: "left-pad".into(),
                version: "1.3.0".into()
            }
        );
        assert_eq!(
            SourceSpec::parse("deb:pigz").unwrap(),
            SourceSpec::Deb {
                source: "pigz".into(),
                version: None
            }
        );
        assert_eq!(
            SourceSpec::parse("deb:pigz=2.6-1").unwrap(),
            SourceSpec::Deb {
                source: "pigz".into(),
                version: Some("2.6-1".into())
            }
        );
    }

    #[test]
    fn malformed_specs_name_the_problem() {
        let e = SourceSpec::parse("crate:serde").unwrap_err().to_string();
        assert!(
            e.contains("missing @VERSION") && e.contains("crate:NAME@VERSION"),
            "{e}"
        );
        assert!(SourceSpec::parse("pypi:six").is_err());
        assert!(SourceSpec::parse("npm:@scope/x").is_err());
        assert!(
            SourceSpec::parse("npm:\u{e9}").is_err(),
            "multi-byte first character"
        );
        assert!(SourceSpec::parse("deb:").is_err());
        assert!(SourceSpec::parse("").is_err());
        let e = SourceSpec::parse("git:/x#[").unwrap_err();
        assert!(matches!(e, SourceError::BadGlob { .. }));
        let e = SourceSpec::parse("/definitely/not/here").unwrap_err();
        assert!(matches!(e, SourceError::NotFound { .. }));
    }

    #[test]
    fn paths_and_archives() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().to_str().unwrap();
        assert_eq!(
            SourceSpec::parse(p).unwrap(),
            SourceSpec::Directory(d.path().into())
        );
        std::fs::create_dir(d.path().join(".git")).unwrap();
        assert!(matches!(
            SourceSpec::parse(p).unwrap(),
            SourceSpec::Git { tag_glob: None, .. }
        ));
        assert!(matches!(
            SourceSpec::parse(&format!("dir:{p}")).unwrap(),
            SourceSpec::Directory(_)
        ));
        match SourceSpec::parse("git:/srv/repo#v1.*").unwrap() {
            SourceSpec::Git { path, tag_glob } => {
                assert_eq!(path, PathBuf::from("/srv/repo"));
                assert_eq!(tag_glob.as_deref(), Some("v1.*"));
            }
            other => panic!("{other:?}"),
        }
        for (name, kind) in [
            ("a.tar", ArchiveKind::Tar),
            ("a.tar.gz", ArchiveKind::TarGz),
            ("a.TGZ", ArchiveKind::TarGz),
            ("a.tar.xz", ArchiveKind::TarXz),
            ("a.tar.bz2", ArchiveKind::TarBz2),
            ("a.tar.zst", ArchiveKind::TarZst),
            ("a.zip", ArchiveKind::Zip),
            ("a.jar", ArchiveKind::Zip),
            ("a-1.0-py3-none-any.whl", ArchiveKind::Zip),
            ("a-1.0.crate", ArchiveKind::TarGz),
            ("a-1.0.gem", ArchiveKind::Gem),
        ] {
            assert_eq!(
                SourceSpec::parse(&format!("/nonexistent/{name}")).unwrap(),
                SourceSpec::Archive {
                    path: PathBuf::from(format!("/nonexistent/{name}")),
                    kind
                },
                "{name}"
            );
        }
        let f = d.path().join("notes.txt");
        std::fs::write(&f, "x").unwrap();
        assert!(matches!(
            SourceSpec::parse(f.to_str().unwrap()).unwrap_err(),
            SourceError::UnknownKind { .. }
        ));
    }

    #[test]
    fn relative_paths_resolve_against_base() {
        let s = SourceSpec::parse_relative_to("vendor/zlib-1.3.tar.gz", Some(Path::new("/corpus")))
            .unwrap();
        assert_eq!(
            s,
            SourceSpec::Archive {
                path: PathBuf::from("/corpus/vendor/zlib-1.3.tar.gz"),
                kind: ArchiveKind::TarGz
            }
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "crate:a@1.0.0",
            "pypi:b==2",
            "npm:@s/c@3.0.0",
            "deb:d",
            "deb:d=1-2",
            "git:/r#v*",
        ] {
            assert_eq!(SourceSpec::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn archive_names_give_name_and_version() {
        assert_eq!(
            split_archive_name("zlib-1.3.1.tar.gz"),
            Some(("zlib".into(), Some("1.3.1".into())))
        );
        assert_eq!(
            split_archive_name("libz-sys-1.1.20.crate"),
            Some(("libz-sys".into(), Some("1.1.20".into())))
        );
        assert_eq!(
            split_archive_name("pigz_2.6.orig.tar.gz"),
            Some(("pigz".into(), Some("2.6.orig".into())))
        );
        assert_eq!(
            split_archive_name("six-1.16.0-py2.py3-none-any.whl"),
            Some(("six".into(), Some("1.16.0".into())))
        );
        assert_eq!(
            split_archive_name("project.zip"),
            Some(("project".into(), None))
        );
    }
}
