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
    /// The function, method or class of the origin file that holds the
    /// whole origin range (absent when the range spans several, or the
    /// index keeps no source text to parse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Byte offsets of the origin range (snippets only), 0-based, end
    /// exclusive: in a minified or bundled file lines mean nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<[u64; 2]>,
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
    /// Matching tokens over all columns of the alignment with the origin
    /// (1.0 for a whole file).
    pub similarity: f64,
    /// Substitutions, insertions and deletions, in tokens, between the
    /// target range and the origin range (absent for whole files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edits: Option<u32>,
    /// The function, method or class of the target file that holds the
    /// whole target range, qualified by its class or namespace (absent for
    /// whole files and ranges spanning several definitions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// The index's content id of the origin (scan only, not reported): where
    /// the HTML report finds the origin's text.
    #[serde(skip)]
    pub origin_content: Option<u64>,
    /// False when the origin carries a copyright or license notice and the
    /// target carries none of it; null when the origin has no notice.
    pub notice_retained: Option<bool>,
    /// The class of the origin's license (`permissive`, `strong-copyleft`,
    /// …, see docs/policy.md), so that tools reading findings one by one
    /// (the Spark scan table) need not classify licenses themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_class: Option<String>,
    pub alternatives: Vec<Origin>,
    /// A weak finding (short, or loosely aligned) with nothing else of its
    /// origin in its file (`engine::pipeline::alone_and_weak`), held until the scan's last
    /// step judges it by where its file lies (`crate::placed::keeps_alone`);
    /// never set in a report. Serialized only when set, for the scan
    /// cache, which holds a file's findings from before that step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alone: bool,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    pub findings: usize,
    pub findings_by_license_class: std::collections::BTreeMap<String, usize>,
    pub elapsed_ms: u64,
    /// Fingerprints looked up in the index (scan only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookups: Option<u64>,
    /// Fingerprints of the files matched snippet by snippet (scan only):
    /// every one of them was looked up before the matcher seeded and
    /// extended; `lookups` over this is the share still looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprints: Option<u64>,
    /// Of the fingerprints, those in code no finding covers (scan only):
    /// each of them had to be looked up, since only a lookup tells that
    /// code is in no origin; `fingerprints` over this is the most that
    /// lookups can drop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexplained_fingerprints: Option<u64>,
    /// The matcher's alignment work (scan only): cells of its dynamic
    /// programming plus token pairs walked on a diagonal, over every
    /// chain it aligned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment_work: Option<u64>,
    /// Of the alignment work, that of the alignments the matcher reported
    /// (scan only); the rest went to chains verification or settling
    /// threw away, which better candidates could have saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_alignment_work: Option<u64>,
    /// Of the lookups, those the index's key filter let through to the
    /// database (scan only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_reads: Option<u64>,
    /// Weak matches not reported (scan only): each short or loosely
    /// aligned, the only match of its origin in its file, against a
    /// project the scan found vendored as a tree elsewhere
    /// (`crate::placed::keeps_alone`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreported_alone: Option<usize>,
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

#[derive(Clone, Debug)]
pub struct Report {
    pub schema: &'static str,
    pub tool_version: &'static str,
    pub findings: Vec<Finding>,
    /// Review state of each finding, parallel to `findings` (empty when the
    /// report was not reviewed, e.g. `compare`). Serialized into each
    /// finding's JSON object.
    pub review: Vec<FindingReview>,
    pub skipped: Vec<Skipped>,
    /// What went wrong while checking (an unreadable file, a failed index
    /// lookup): the scan exits 2 when this is not empty.
    pub errors: Vec<ScanError>,
    /// Scanned files whose path on disk is not UTF-8, with their exact bytes.
    pub raw_paths: Vec<RawPath>,
    pub summary: Summary,
    /// Decisions of the project configuration that matched no finding.
    pub stale_decisions: Vec<crate::config::Decision>,
    /// With `--baseline`: findings of the old report not found again.
    pub absent: Option<Vec<AbsentFinding>>,
}

/// What review adds to a finding: a stable id, the decision accepting it,
/// and its state against a baseline.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct FindingReview {
    /// Stable across scans: target path, origin project and path, and a
    /// hash of the copied target text with whitespace folded, so that lines
    /// added elsewhere in the file do not change it (see `baseline::identify`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Lines in the target file, for the share of the file copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_file_lines: Option<u32>,
    /// The decision of `.provscan.toml` that accepts this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
    /// With `--baseline`: whether the old report had this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<BaselineState>,
    /// The target's copied lines, kept only for the HTML report.
    #[serde(skip)]
    pub target_text: Option<String>,
    /// The origin's copied lines, from the index's source store, kept only
    /// for the HTML report (absent when the index keeps no source).
    #[serde(skip)]
    pub origin_text: Option<String>,
}

/// Why a finding needs no more attention.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Accepted {
    pub reason: String,
    pub reviewer: Option<String>,
    pub date: Option<String>,
    /// Position of the decision among the configuration's decisions, 0-based.
    pub decision: usize,
}

/// A finding's state against a baseline report (the SARIF names).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Unchanged,
    Absent,
}

impl BaselineState {
    pub fn name(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Absent => "absent",
        }
    }
}

/// A finding of the baseline report that the new scan did not find.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AbsentFinding {
    pub id: String,
    pub path: String,
    pub target_lines: [u32; 2],
    pub origin: Origin,
}

impl Report {
    /// The review of finding `i`, if the report was reviewed.
    pub fn review_of(&self, i: usize) -> Option<&FindingReview> {
        self.review.get(i)
    }

    pub fn is_accepted(&self, i: usize) -> bool {
        self.review_of(i).is_some_and(|r| r.accepted.is_some())
    }
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        #[derive(Serialize)]
        struct Reviewed<'a> {
            #[serde(flatten)]
            review: Option<&'a FindingReview>,
            #[serde(flatten)]
            finding: &'a Finding,
        }
        let findings: Vec<Reviewed> = self
            .findings
            .iter()
            .enumerate()
            .map(|(i, finding)| Reviewed {
                review: self.review.get(i),
                finding,
            })
            .collect();
        let mut st = s.serialize_struct("Report", 9)?;
        st.serialize_field("schema", self.schema)?;
        st.serialize_field("tool_version", self.tool_version)?;
        st.serialize_field("findings", &findings)?;
        st.serialize_field("skipped", &self.skipped)?;
        // Always present, empty or not: a consumer checks it before trusting
        // an empty `findings`.
        st.serialize_field("errors", &self.errors)?;
        st.serialize_field("raw_paths", &self.raw_paths)?;
        st.serialize_field("summary", &self.summary)?;
        if !self.stale_decisions.is_empty() {
            st.serialize_field("stale_decisions", &self.stale_decisions)?;
        }
        if let Some(absent) = &self.absent {
            st.serialize_field("absent", absent)?;
        }
        st.end()
    }
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
            review: Vec::new(),
            skipped,
            errors: Vec::new(),
            raw_paths: Vec::new(),
            summary,
            stale_decisions: Vec::new(),
            absent: None,
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
