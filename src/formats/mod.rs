//! Renderings of a [`Report`] for other tools: SARIF 2.1.0 (code scanning),
//! SPDX 2.3 JSON and CycloneDX 1.6 JSON (software bills of materials). The
//! plain JSON and table renderings live in `report.rs`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::ValueEnum;
use sha1::{Digest, Sha1};

use crate::policy::Verdict;
use crate::report::{self, Origin, Report};

pub mod cyclonedx;
pub mod html;
pub mod sarif;
pub mod spdx;
pub mod table;

/// Every output format of `provscan scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: a summary, then one block per origin project (docs/config.md).
    Table,
    /// The provscan report (docs/report-schema.md).
    Json,
    /// SARIF 2.1.0, for code scanning dashboards.
    Sarif,
    /// SPDX 2.3 JSON: files, snippets and origin packages.
    Spdx,
    /// CycloneDX 1.6 JSON: origin components with occurrence evidence.
    Cyclonedx,
    /// One self-contained HTML file: charts, sortable files, each finding.
    Html,
}

/// What the formats need besides the report.
#[derive(Clone, Debug)]
pub struct Context {
    /// Name of what was scanned (the root directory's name), used for the
    /// SPDX document name and the CycloneDX metadata component.
    pub name: String,
    /// The scanned root that finding paths are relative to (a directory, or
    /// the one file scanned). SPDX reads the files again for their SHA1.
    pub root: Option<PathBuf>,
    /// SPDX `documentNamespace`; derived from the name, time and findings
    /// when `None`.
    pub namespace: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created: u64,
    /// Source specs as given to `provscan index` (`crate:NAME@VERSION`,
    /// `pypi:NAME==VERSION`, `npm:NAME@VERSION`, `deb:SOURCE=VERSION`), keyed
    /// by (project, version), so that origins get package URLs.
    pub sources: HashMap<(String, String), String>,
    /// SHA1 (hex, from [`sha1_hex_bytes`]) of scanned files by report path,
    /// filled by the scan while it holds the bytes. Needed for archive
    /// entries and several roots; other files are read again from `root`.
    pub file_sha1: HashMap<String, String>,
    /// ANSI colours in the table (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// The table lists every snippet and skipped file too (`--details`).
    pub details: bool,
}

impl Context {
    /// A context stamped now, or at `SOURCE_DATE_EPOCH` when that is set
    /// (reproducible output).
    pub fn new(name: impl Into<String>, root: Option<PathBuf>) -> Context {
        let created = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
        Context {
            name: name.into(),
            root,
            namespace: None,
            created,
            sources: HashMap::new(),
            file_sha1: HashMap::new(),
            color: false,
            details: false,
        }
    }

    /// A context for scanning `root`, named after its last component.
    pub fn for_root(root: &Path) -> Context {
        let name = root
            .canonicalize()
            .ok()
            .as_deref()
            .and_then(Path::file_name)
            .or_else(|| root.file_name())
            .map_or_else(|| "scan".to_string(), |n| n.to_string_lossy().into_owned());
        Context::new(name, Some(root.to_path_buf()))
    }

    /// The package URL of an origin, when its source spec is known and is a
    /// registry spec.
    pub fn purl(&self, origin: &Origin) -> Option<String> {
        let (p, v) = (origin.project.as_ref()?, origin.version.as_ref()?);
        purl_from_spec(self.sources.get(&(p.clone(), v.clone()))?, v)
    }

    /// SHA1 (hex) of a scanned file: from `file_sha1`, else read again
    /// from the root.
    pub fn sha1_of(&self, rel: &str) -> Option<String> {
        if let Some(h) = self.file_sha1.get(rel) {
            return Some(h.clone());
        }
        let root = self.root.as_ref()?;
        let path = if root.is_dir() {
            root.join(rel)
        } else if root.file_name().is_some_and(|n| n.to_string_lossy() == rel) {
            root.clone()
        } else {
            return None;
        };
        Some(sha1_hex_bytes(&std::fs::read(path).ok()?))
    }

    /// `created` as `YYYY-MM-DDThh:mm:ssZ`.
    pub fn created_rfc3339(&self) -> String {
        rfc3339(self.created)
    }
}

/// Writes the report in `format`. `verdict` decides SARIF levels; pass
/// `Verdict::default()` when no policy applies.
pub fn write(
    format: OutputFormat,
    report: &Report,
    verdict: &Verdict,
    ctx: &Context,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Table => table::write_table(report, verdict, ctx, out),
        OutputFormat::Json => report::write_json(report, out),
        OutputFormat::Sarif => sarif::write_sarif(report, verdict, ctx, out),
        OutputFormat::Spdx => spdx::write_spdx(report, ctx, out),
        OutputFormat::Cyclonedx => cyclonedx::write_cyclonedx(report, ctx, out),
        OutputFormat::Html => html::write_html(report, verdict, ctx, out),
    }
}

/// `project@version:path`, or as much of it as is known.
pub(crate) fn origin_label(o: &Origin) -> String {
    match (&o.project, &o.version) {
        (Some(p), Some(v)) => format!("{p}@{v}:{}", o.path),
        (Some(p), None) => format!("{p}:{}", o.path),
        _ => o.path.clone(),
    }
}

/// SHA1 of `bytes`, lower-case hex (what SPDX wants for files).
pub fn sha1_hex_bytes(bytes: &[u8]) -> String {
    hex(&Sha1::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn sha1_hex(parts: &[&str]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize())
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/`
/// when `keep_slash`).
pub(crate) fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A package URL from a source spec; `version` is the origin's version, used
/// when the spec leaves it out (`deb:SOURCE`).
pub fn purl_from_spec(spec: &str, version: &str) -> Option<String> {
    let enc = |s: &str| percent_encode(s, false);
    if let Some(rest) = spec.strip_prefix("crate:") {
        let (name, v) = rest.split_once('@')?;
        return Some(format!("pkg:cargo/{}@{}", enc(name), enc(v)));
    }
    if let Some(rest) = spec.strip_prefix("pypi:") {
        let (name, v) = rest.split_once("==")?;
        // Package URL rule for PyPI: lower case, '_' as '-'.
        let name = name.to_ascii_lowercase().replace('_', "-");
        return Some(format!("pkg:pypi/{}@{}", enc(&name), enc(v)));
    }
    if let Some(rest) = spec.strip_prefix("npm:") {
        let at = rest.rfind('@').filter(|&i| i > 0)?;
        let (name, v) = (&rest[..at], &rest[at + 1..]);
        let name = match name.split_once('/') {
            Some((scope, n)) if scope.starts_with('@') => format!("{}/{}", enc(scope), enc(n)),
            _ => enc(name),
        };
        return Some(format!("pkg:npm/{name}@{}", enc(v)));
    }
    if let Some(rest) = spec.strip_prefix("deb:") {
        let (name, v) = rest.split_once('=').unwrap_or((rest, version));
        return Some(format!(
            "pkg:deb/debian/{}@{}?arch=source",
            enc(name),
            enc(v)
        ));
    }
    None
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp.
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from a day count (proleptic Gregorian, 400-year eras).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn purls() {
        assert_eq!(
            purl_from_spec("crate:libz-sys@1.1.20", "1.1.20").as_deref(),
            Some("pkg:cargo/libz-sys@1.1.20")
        );
        assert_eq!(
            purl_from_spec("pypi:Foo_Bar==2.0", "2.0").as_deref(),
            Some("pkg:pypi/foo-bar@2.0")
        );
        assert_eq!(
            purl_from_spec("npm:@types/node@20.1.0", "20.1.0").as_deref(),
            Some("pkg:npm/%40types/node@20.1.0")
        );
        assert_eq!(
            purl_from_spec("deb:zlib", "1:1.3.dfsg+really1.3.1-1").as_deref(),
            Some("pkg:deb/debian/zlib@1%3A1.3.dfsg%2Breally1.3.1-1?arch=source")
        );
        assert_eq!(purl_from_spec("dir:/src/zlib", "1"), None);
        assert_eq!(purl_from_spec("crate:nover", "1"), None);
    }
}

#[cfg(test)]
mod schema_tests;
