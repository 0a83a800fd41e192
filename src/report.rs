//! The report model shared by `compare` and `scan`, and its renderings.
//!
//! The JSON shape is a public interface (documented in `docs/report-schema.md`):
//! fields are only ever added, and `schema` changes when one changes meaning.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::targets::{RawPath, Skipped};

pub const SCHEMA: &str = "provscan-report/1";

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// The whole file is a copy (exact, or equal but for line endings).
    File,
    /// A stretch of the file is a copy.
    Snippet,
}

/// Where a copy came from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Origin {
    pub project: Option<String>,
    pub version: Option<String>,
    /// Every indexed version that holds the same content, oldest first.
    pub versions: Vec<String>,
    pub path: String,
    pub lines: [u32; 2],
    pub license: Option<String>,
    pub license_evidence: Option<String>,
    pub copyright: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Finding {
    /// Target file, relative to the scanned root.
    pub path: String,
    pub kind: FindingKind,
    /// 1-based, inclusive.
    pub target_lines: [u32; 2],
    /// Byte offsets in the target file, 0-based, end exclusive.
    pub target_bytes: [u64; 2],
    pub origin: Origin,
    pub matched_tokens: u32,
    pub similarity: f64,
    /// False when the origin carries a copyright or license notice and the
    /// target carries none of it; null when the origin has no notice.
    pub notice_retained: Option<bool>,
    pub alternatives: Vec<Origin>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    pub findings: usize,
    pub findings_by_license_class: std::collections::BTreeMap<String, usize>,
    pub elapsed_ms: u64,
}

impl Summary {
    /// A run over `files` files of `bytes` bytes that began at `started`;
    /// the finding counts are filled in later.
    pub fn measured(files: usize, bytes: u64, started: std::time::Instant) -> Summary {
        Summary {
            files,
            bytes,
            elapsed_ms: started.elapsed().as_millis() as u64,
            ..Summary::default()
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct Report {
    pub schema: &'static str,
    pub tool_version: &'static str,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    /// What went wrong while checking (an unreadable file, a failed index
    /// lookup): the scan exits 2 when this is not empty.
    pub errors: Vec<ScanError>,
    /// Scanned files whose path on disk is not UTF-8, with their exact bytes.
    pub raw_paths: Vec<RawPath>,
    pub summary: Summary,
}

/// A file the scan could not check because something failed.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

impl Report {
    /// `summary.findings` is set here, from `findings`.
    pub fn new(findings: Vec<Finding>, skipped: Vec<Skipped>, mut summary: Summary) -> Report {
        summary.findings = findings.len();
        Report {
            schema: SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION"),
            findings,
            skipped,
            errors: Vec::new(),
            raw_paths: Vec::new(),
            summary,
        }
    }
}

pub fn write_json(report: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)?;
    Ok(())
}

fn origin_label(o: &Origin) -> String {
    match (&o.project, &o.version) {
        (Some(p), Some(v)) => format!("{p}@{v}:{}", o.path),
        (Some(p), None) => format!("{p}:{}", o.path),
        _ => o.path.clone(),
    }
}

/// A plain table, one finding per line, for people.
pub fn write_table(report: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    let rows: Vec<[String; 6]> = report
        .findings
        .iter()
        .map(|f| {
            [
                f.path.clone(),
                format!("{}-{}", f.target_lines[0], f.target_lines[1]),
                format!(
                    "{}:{}-{}",
                    origin_label(&f.origin),
                    f.origin.lines[0],
                    f.origin.lines[1]
                ),
                f.origin.license.clone().unwrap_or_else(|| "-".into()),
                format!("{:.2}", f.similarity),
                match (f.kind, f.notice_retained) {
                    (FindingKind::File, _) => "whole file".into(),
                    (_, Some(false)) => "notice stripped".into(),
                    _ => String::new(),
                },
            ]
        })
        .collect();
    let header = ["PATH", "LINES", "ORIGIN", "LICENSE", "SIM", "NOTE"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    let s = &report.summary;
    writeln!(
        out,
        "\n{} finding(s) in {} file(s), {} byte(s) scanned, {} skipped, {} ms",
        s.findings,
        s.files,
        s.bytes,
        report.skipped.len(),
        s.elapsed_ms
    )?;
    for skip in &report.skipped {
        writeln!(out, "skipped {}: {}", skip.path, skip.reason)?;
    }
    for e in &report.errors {
        writeln!(out, "error {}: {}", e.path, e.message)?;
    }
    Ok(())
}
