//! Downloading registry sources with the package clients already set up
//! on the machine (`cargo`, `pip`, `npm`, `apt-get`), so users' mirrors,
//! proxies and credentials apply without any configuration here.
//!
//! Downloads land in a cache directory chosen by the caller and are reused
//! on the next call.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::source::SourceSpec;

/// Names (or paths) of the client programs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tools {
    /// cargo; defaults to `$CARGO` when set (as under `cargo test`), else `cargo`.
    pub cargo: String,
    /// pip.
    pub pip: String,
    /// npm.
    pub npm: String,
    /// apt-get.
    pub apt_get: String,
    /// What `apt-get source --print-uris` answered ahead for unversioned
    /// Debian source packages ([`resolve_debs`]): the file names of each
    /// one's candidate. A build asks once for all the packages of its
    /// manifest, since each call of apt-get loads the whole package cache
    /// (0.7 s of CPU).
    pub resolved_debs: std::sync::Arc<std::collections::BTreeMap<String, Vec<String>>>,
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
            pip: "pip".into(),
            npm: "npm".into(),
            apt_get: "apt-get".into(),
            resolved_debs: Default::default(),
        }
    }
}

/// Why a download failed; each names the spec.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The spec is not a registry spec.
    #[error("{spec}: not a registry source")]
    NotRegistry {
        /// The spec.
        spec: String,
    },
    /// The client program is not installed.
    #[error("{spec}: cannot run {program}: {source}")]
    ClientMissing {
        /// The spec.
        spec: String,
        /// The program.
        program: String,
        /// The error from spawning it.
        source: std::io::Error,
    },
    /// The client ran and failed.
    #[error("{spec}: `{command}` failed: {stderr}")]
    ClientFailed {
        /// The spec.
        spec: String,
        /// The command line.
        command: String,
        /// The last lines of its error output.
        stderr: String,
    },
    /// apt has no `deb-src` entries, so `apt-get source` cannot work.
    #[error("{spec}: apt has no source package entries (deb-src); run corpus-tools/scripts/enable-deb-src.sh as root (it adds deb-src lines for the configured Debian mirrors and runs apt-get update)")]
    NoDebSrc {
        /// The spec.
        spec: String,
    },
    /// The client succeeded but the expected file is not where it should be.
    #[error("{spec}: download finished but {what}")]
    Missing {
        /// The spec.
        spec: String,
        /// What is missing.
        what: String,
    },
    /// Preparing the cache failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The downloaded files of one spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// One archive (crate, sdist, npm tarball).
    Archive(PathBuf),
    /// A Debian source package: the `.dsc` and the tarballs it lists.
    Debian {
        /// The `.dsc` file.
        dsc: PathBuf,
        /// All files in the download directory besides the `.dsc`.
        files: Vec<PathBuf>,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn run(spec: &str, cmd: &mut Command) -> Result<String, FetchError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let line = std::iter::once(program.clone())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd.output().map_err(|source| FetchError::ClientMissing {
        spec: spec.to_string(),
        program,
        source,
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(FetchError::ClientFailed {
            spec: spec.to_string(),
            command: line,
            stderr: tail.join("\n"),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned() + &stderr)
}

/// Keeps names safe as single path components.
fn component(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+~".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Downloads a registry spec into `cache_dir` (or finds it there).
pub fn fetch(spec: &SourceSpec, cache_dir: &Path, tools: &Tools) -> Result<Fetched, FetchError> {
    let s = spec.to_string();
    match spec {
        SourceSpec::Crate { name, version } => {
            fetch_crate(&s, name, version, cache_dir, tools).map(Fetched::Archive)
        }
        SourceSpec::Pypi { name, version } => {
            fetch_pypi(&s, name, version, cache_dir, tools).map(Fetched::Archive)
        }
        SourceSpec::Npm { name, version } => {
            fetch_npm(&s, name, version, cache_dir, tools).map(Fetched::Archive)
        }
        SourceSpec::Deb { source, version } => {
            fetch_deb(&s, source, version.as_deref(), cache_dir, tools)
        }
        _ => Err(FetchError::NotRegistry { spec: s }),
    }
}

/// cargo has no "download one crate" command; a throwaway manifest that
/// depends on exactly `=VERSION`, then `cargo fetch`, puts the `.crate`
/// into cargo's own cache, from where it is copied.
fn fetch_crate(
    spec: &str,
    name: &str,
    version: &str,
    cache: &Path,
    tools: &Tools,
) -> Result<PathBuf, FetchError> {
    let dir = cache.join("crates");
    let dest_name = format!("{}-{}.crate", component(name), component(version));
    let dest = dir.join(&dest_name);
    if dest.is_file() {
        return Ok(dest);
    }
    // cargo fetches into its own cache, from where the archive is copied
    // into the temporary directory and then renamed into ours.
    let client = |tmp: &Path| -> Result<(), FetchError> {
        let manifest = format!(
            "[package]\nname = \"provscan-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[lib]\npath = \"lib.rs\"\n\n[dependencies]\n{name} = \"={version}\"\n\n[workspace]\n"
        );
        std::fs::write(tmp.join("Cargo.toml"), manifest).map_err(io(tmp))?;
        std::fs::write(tmp.join("lib.rs"), "").map_err(io(tmp))?;
        let mut cmd = Command::new(&tools.cargo);
        cmd.arg("fetch")
            .arg("--manifest-path")
            .arg(tmp.join("Cargo.toml"))
            .current_dir(tmp);
        if let Some(h) = host_triple(tools) {
            cmd.arg("--target").arg(h);
        }
        // Keep cargo from writing a target dir or picking up the caller's.
        cmd.env_remove("CARGO_TARGET_DIR")
            .env("CARGO_TARGET_DIR", tmp.join("target"));
        run(spec, &mut cmd)?;
        let found = find_in_cargo_cache(spec, name, version)?;
        let copy = tmp.join(&dest_name);
        std::fs::copy(&found, &copy).map_err(io(&copy))?;
        Ok(())
    };
    let pick = |tmp: &Path| Some(tmp.join(&dest_name)).filter(|p| p.is_file());
    download_into(&dir, client, pick)?.ok_or_else(|| FetchError::Missing {
        spec: spec.to_string(),
        what: format!("{dest_name} was not fetched"),
    })
}

/// The `.crate` file cargo left in its registry cache.
fn find_in_cargo_cache(spec: &str, name: &str, version: &str) -> Result<PathBuf, FetchError> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    let file = format!("{name}-{version}.crate");
    let reg = cargo_home.join("registry").join("cache");
    std::fs::read_dir(&reg)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(&file))
        .find(|p| p.is_file())
        .ok_or_else(|| FetchError::Missing {
            spec: spec.to_string(),
            what: format!(
                "{file} is not in {} (a directory source replacement keeps no .crate files)",
                reg.display()
            ),
        })
}

/// Runs a client that downloads into a directory, in a fresh temporary
/// directory beside `dir`, then moves the file `pick` chooses into `dir`.
/// Half-written downloads therefore never appear in the cache.
fn download_into(
    dir: &Path,
    client: impl FnOnce(&Path) -> Result<(), FetchError>,
    pick: impl Fn(&Path) -> Option<PathBuf>,
) -> Result<Option<PathBuf>, FetchError> {
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let result = client(tmp.path());
    let Some(got) = pick(tmp.path()) else {
        return result.map(|_| None);
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let dest = dir.join(got.file_name().unwrap_or_default());
    std::fs::rename(&got, &dest).map_err(io(&dest))?;
    Ok(Some(dest))
}

fn host_triple(tools: &Tools) -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| {
        // rustc next to the cargo in use, else from PATH.
        Path::new(&tools.cargo)
            .parent()
            .map(|p| p.join("rustc"))
            .filter(|p| p.is_file())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "rustc".into())
    });
    let out = Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
}

/// `pip download` of the sdist only. pip prepares metadata for an sdist,
/// which runs its build backend's metadata hook; `--no-build-isolation`
/// uses the backends already installed instead of downloading them. When
/// that backend is not installed, a second try lets pip fetch it.
fn fetch_pypi(
    spec: &str,
    name: &str,
    version: &str,
    cache: &Path,
    tools: &Tools,
) -> Result<PathBuf, FetchError> {
    let dir = cache
        .join("pypi")
        .join(format!("{}-{}", component(name), component(version)));
    if let Some(p) = find_sdist(&dir) {
        return Ok(p);
    }
    let req = format!("{name}=={version}");
    let base = |into: &Path, extra: &[&str]| {
        let mut c = Command::new(&tools.pip);
        c.args([
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--no-input",
            "-d",
        ])
        .arg(into)
        .args(extra)
        .arg(&req);
        c
    };
    let client = |into: &Path| {
        let first = run(
            spec,
            &mut base(into, &["--no-binary", ":all:", "--no-build-isolation"]),
        );
        if first.is_err() && find_sdist(into).is_none() {
            run(spec, &mut base(into, &["--no-binary", name]))?;
        }
        Ok(())
    };
    download_into(&dir, client, find_sdist)?.ok_or_else(|| FetchError::Missing {
        spec: spec.to_string(),
        what: format!("no source distribution in {}", dir.display()),
    })
}

fn find_sdist(dir: &Path) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_ascii_lowercase();
            n.ends_with(".tar.gz")
                || n.ends_with(".zip")
                || n.ends_with(".tar.bz2")
                || n.ends_with(".tar.xz")
        })
        .collect();
    v.sort();
    v.into_iter().next()
}

/// `npm pack NAME@VERSION` downloads the published tarball without
/// installing anything (and with scripts disabled).
fn fetch_npm(
    spec: &str,
    name: &str,
    version: &str,
    cache: &Path,
    tools: &Tools,
) -> Result<PathBuf, FetchError> {
    let dir = cache
        .join("npm")
        .join(format!("{}-{}", component(name), component(version)));
    let existing = |d: &Path| -> Option<PathBuf> {
        std::fs::read_dir(d)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "tgz"))
    };
    if let Some(p) = existing(&dir) {
        return Ok(p);
    }
    let client = |into: &Path| {
        run(
            spec,
            Command::new(&tools.npm)
                .args(["pack", "--ignore-scripts", "--silent", "--pack-destination"])
                .arg(into)
                .arg(format!("{name}@{version}"))
                .current_dir(into),
        )
        .map(|_| ())
    };
    download_into(&dir, client, existing)?.ok_or_else(|| FetchError::Missing {
        spec: spec.to_string(),
        what: format!("no .tgz in {}", dir.display()),
    })
}

/// `apt-get source --download-only` into a per-package directory.
fn fetch_deb(
    spec: &str,
    source: &str,
    version: Option<&str>,
    cache: &Path,
    tools: &Tools,
) -> Result<Fetched, FetchError> {
    let dir = cache.join("deb").join(match version {
        Some(v) => format!("{}_{}", component(source), component(v)),
        None => component(source),
    });
    let arg = match version {
        Some(v) => format!("{source}={v}"),
        None => source.to_string(),
    };
    if version.is_some() {
        if let Ok(f) = collect_deb(spec, &dir) {
            return Ok(f);
        }
    } else if let Some(f) = cached_candidate(tools, &arg, &dir) {
        // Without a version, ask apt which files the candidate needs and
        // skip the download when they are all here already.
        return Ok(f);
    }
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    match run(
        spec,
        Command::new(&tools.apt_get)
            .args(["source", "--download-only", "-q"])
            .arg(&arg)
            .current_dir(&dir),
    ) {
        Ok(_) => {}
        Err(FetchError::ClientFailed { stderr, .. }) if stderr.contains("deb-src") => {
            return Err(FetchError::NoDebSrc {
                spec: spec.to_string(),
            })
        }
        Err(e) => return Err(e),
    }
    collect_deb(spec, &dir)
}

/// The candidate's files when all of them are in `dir` (from `apt-get
/// source --print-uris`, which downloads nothing).
fn cached_candidate(tools: &Tools, arg: &str, dir: &Path) -> Option<Fetched> {
    let names = match tools.resolved_debs.get(arg) {
        Some(names) => names.clone(),
        None => {
            let out = Command::new(&tools.apt_get)
                .args(["source", "--print-uris", "-q"])
                .arg(arg)
                .output()
                .ok()?;
            if !out.status.success() {
                return None;
            }
            print_uris_files(&String::from_utf8_lossy(&out.stdout))
        }
    };
    let dsc = names.iter().find(|n| n.ends_with(".dsc"))?;
    let files: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    if !files.iter().all(|f| f.is_file()) {
        return None;
    }
    Some(Fetched::Debian {
        dsc: dir.join(dsc),
        files: files
            .into_iter()
            .filter(|f| f.extension().is_none_or(|e| e != "dsc"))
            .collect(),
    })
}

/// The candidate files of several unversioned Debian source packages, from
/// one `apt-get source --print-uris` call, for [`Tools::resolved_debs`].
/// A package whose files cannot be told apart (its `.dsc` is not named
/// `SOURCE_…`, as when a binary package name was given) is left out and
/// asked alone later; when the call fails (a package apt does not know),
/// nothing is resolved ahead.
pub fn resolve_debs(
    sources: &[&str],
    tools: &Tools,
) -> std::collections::BTreeMap<String, Vec<String>> {
    if sources.len() < 2 {
        return Default::default();
    }
    let Ok(out) = Command::new(&tools.apt_get)
        .args(["source", "--print-uris", "-q"])
        .args(sources)
        .output()
    else {
        return Default::default();
    };
    if !out.status.success() {
        return Default::default();
    }
    group_by_source(
        sources,
        &print_uris_files(&String::from_utf8_lossy(&out.stdout)),
    )
}

/// File names of source packages grouped by package: `SOURCE_…` (Debian
/// source names hold no underscore). Only packages with a `.dsc` count.
fn group_by_source(
    sources: &[&str],
    names: &[String],
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    for &source in sources {
        let prefix = format!("{source}_");
        let files: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with(&prefix))
            .cloned()
            .collect();
        if files.iter().any(|n| n.ends_with(".dsc")) {
            out.insert(source.to_string(), files);
        }
    }
    out
}

/// File names from `apt-get --print-uris` lines: `'URL' NAME SIZE HASH`.
pub fn print_uris_files(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with('\''))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .collect()
}

fn collect_deb(spec: &str, dir: &Path) -> Result<Fetched, FetchError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    // Several versions may share an unversioned directory: take the newest
    // .dsc by modification time.
    let dsc = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dsc"))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .cloned()
        .ok_or_else(|| FetchError::Missing {
            spec: spec.to_string(),
            what: format!("no .dsc in {}", dir.display()),
        })?;
    let listed = dsc_files(&std::fs::read_to_string(&dsc).map_err(io(&dsc))?);
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| {
            listed
                .iter()
                .any(|l| p.file_name().is_some_and(|n| n == l.as_str()))
        })
        .collect();
    if files.len() < listed.len() {
        return Err(FetchError::Missing {
            spec: spec.to_string(),
            what: format!("some files listed in {} were not downloaded", dsc.display()),
        });
    }
    Ok(Fetched::Debian { dsc, files })
}

/// File names listed in the `Files:` (or `Checksums-Sha256:`) field of a dsc.
pub fn dsc_files(dsc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_files = false;
    for line in dsc.lines() {
        if line.starts_with("Files:") || line.starts_with("Checksums-Sha256:") {
            in_files = true;
            continue;
        }
        if in_files && line.starts_with(' ') {
            if let Some(name) = line.split_whitespace().nth(2) {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_string());
                }
            }
        } else {
            in_files = false;
        }
    }
    out
}

/// `Source:` and `Version:` of a dsc.
pub fn dsc_name_version(dsc: &str) -> (Option<String>, Option<String>) {
    let field = |k: &str| {
        dsc.lines()
            .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
    };
    (field("Source:"), field("Version:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_uris_names_the_files() {
        let out = "Reading package lists...\nNeed to get 1258 kB of source archives.\n\
'http://deb.example/z/zlib_1.2.13.dfsg-1.dsc' zlib_1.2.13.dfsg-1.dsc 2399 SHA256:3f\n\
'http://deb.example/z/zlib_1.2.13.dfsg.orig.tar.bz2' zlib_1.2.13.dfsg.orig.tar.bz2 1239825 SHA256:71\n";
        assert_eq!(
            print_uris_files(out),
            ["zlib_1.2.13.dfsg-1.dsc", "zlib_1.2.13.dfsg.orig.tar.bz2"]
        );
    }

    #[test]
    fn dsc_parsing() {
        let dsc = "Format: 3.0 (quilt)\nSource: lz4\nVersion: 1.9.4-1\nChecksums-Sha256:\n aa 354063 lz4_1.9.4.orig.tar.gz\n bb 8128 lz4_1.9.4-1.debian.tar.xz\nFiles:\n cc 354063 lz4_1.9.4.orig.tar.gz\n dd 8128 lz4_1.9.4-1.debian.tar.xz\n";
        assert_eq!(
            dsc_files(dsc),
            ["lz4_1.9.4.orig.tar.gz", "lz4_1.9.4-1.debian.tar.xz"]
        );
        assert_eq!(
            dsc_name_version(dsc),
            (Some("lz4".into()), Some("1.9.4-1".into()))
        );
    }

    #[test]
    fn print_uris_of_several_packages_group_by_source() {
        let out = "Reading package lists...\n\
'http://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1-10%2bdeb12u12.dsc' curl_7.88.1-10+deb12u12.dsc 3091 SHA256:aa\n\
'http://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1.orig.tar.xz' curl_7.88.1.orig.tar.xz 2581012 SHA256:bb\n\
'http://deb.debian.org/debian/pool/main/l/lua5.4/lua5.4_5.4.4-3%2bdeb12u1.dsc' lua5.4_5.4.4-3+deb12u1.dsc 2170 SHA256:cc\n\
'http://deb.debian.org/debian/pool/main/l/lua5.4/lua5.4_5.4.4.orig.tar.gz' lua5.4_5.4.4.orig.tar.gz 360876 SHA256:dd\n\
'http://deb.debian.org/debian/pool/main/g/gcc/gcc-12_12.2.0.orig.tar.gz' gcc-12_12.2.0.orig.tar.gz 1 SHA256:ee\n";
        let names = print_uris_files(out);
        let grouped = group_by_source(&["curl", "lua5.4", "gcc"], &names);
        assert_eq!(
            grouped["curl"],
            vec!["curl_7.88.1-10+deb12u12.dsc", "curl_7.88.1.orig.tar.xz"]
        );
        assert_eq!(grouped["lua5.4"].len(), 2);
        // `gcc` was a binary name: its files are not `gcc_…`, so it is asked alone.
        assert!(!grouped.contains_key("gcc"));
    }

    #[test]
    fn missing_client_is_named() {
        let tools = Tools {
            npm: "/nonexistent/npm".into(),
            ..Tools::default()
        };
        let d = tempfile::tempdir().unwrap();
        let spec = SourceSpec::parse("npm:x@1.0.0").unwrap();
        let e = fetch(&spec, d.path(), &tools).unwrap_err();
        assert!(matches!(e, FetchError::ClientMissing { .. }));
        assert!(e.to_string().contains("/nonexistent/npm"));
    }
}
