//! `provscan accept`: records review decisions in `.provscan.toml`, keeping
//! whatever the file already holds (comments included), so that nobody
//! edits TOML by hand to record a review.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use serde::Deserialize;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table};

use crate::config::{Decision, FILE_NAME};
use crate::report::Origin;

#[derive(Args)]
pub struct AcceptArgs {
    /// Finding ids (the `id` field of `scan --format json`) to accept.
    pub ids: Vec<String>,
    /// The JSON report the ids come from.
    #[arg(long, value_name = "REPORT.json")]
    pub report: Option<PathBuf>,
    /// Accept every finding from this origin project (optionally one version).
    #[arg(long, value_name = "PROJECT[@VERSION]")]
    pub origin: Option<String>,
    /// Why the findings are acceptable (kept in the file and every report).
    #[arg(long)]
    pub reason: String,
    /// Who decided (default: $USER).
    #[arg(long)]
    pub reviewer: Option<String>,
    /// The configuration file to write (default: .provscan.toml in --root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The scanned root whose .provscan.toml is written.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

#[derive(Deserialize)]
struct ReportFindings {
    findings: Vec<IdentifiedFinding>,
}

#[derive(Deserialize)]
struct IdentifiedFinding {
    #[serde(default)]
    id: String,
    path: String,
    origin: Origin,
}

pub fn run(args: AcceptArgs) -> anyhow::Result<ExitCode> {
    if args.reason.trim().is_empty() {
        bail!("--reason is empty: say why the code may stay");
    }
    let reviewer = args
        .reviewer
        .clone()
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()));
    let date = crate::formats::rfc3339(crate::formats::Context::new("accept", None).created)[..10]
        .to_string();
    let base = Decision {
        origin: None,
        origin_path: None,
        target: None,
        reason: args.reason.clone(),
        reviewer,
        date: Some(date),
    };
    let mut decisions = Vec::new();
    if let Some(origin) = &args.origin {
        decisions.push(Decision {
            origin: Some(origin.clone()),
            ..base.clone()
        });
    }
    if !args.ids.is_empty() {
        let Some(report) = &args.report else {
            bail!("finding ids need --report REPORT.json (the report they come from)");
        };
        let text = std::fs::read(report)
            .with_context(|| format!("--report {}: cannot read", report.display()))?;
        let parsed: ReportFindings = serde_json::from_slice(&text).with_context(|| {
            format!("--report {}: not a provscan JSON report", report.display())
        })?;
        for id in &args.ids {
            let Some(f) = parsed.findings.iter().find(|f| &f.id == id) else {
                bail!("--report {}: no finding has id {id}", report.display());
            };
            decisions.push(Decision {
                origin: f.origin.project.clone(),
                origin_path: Some(globset::escape(&f.origin.path)),
                target: Some(globset::escape(&f.path)),
                ..base.clone()
            });
        }
    }
    if decisions.is_empty() {
        bail!("nothing to accept: give finding ids with --report, or --origin");
    }
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| args.root.join(FILE_NAME));
    let added = write_decisions(&path, &decisions)?;
    eprintln!(
        "{}: {added} decision(s) added ({} already there)",
        path.display(),
        decisions.len() - added
    );
    Ok(ExitCode::SUCCESS)
}

/// Appends the decisions not already in the file as `[[decision]]` tables;
/// returns how many were added.
pub fn write_decisions(path: &Path, decisions: &[Decision]) -> anyhow::Result<usize> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{}: not valid TOML", path.display()))?;
    // The existing decisions, to add each verdict once.
    let existing: Vec<Decision> = match doc.get("decision") {
        Some(item) => {
            let Some(tables) = item.as_array_of_tables() else {
                bail!(
                    "{}: `decision` must be an array of tables ([[decision]])",
                    path.display()
                );
            };
            tables
                .iter()
                .filter_map(|t| toml_edit::de::from_str(&t.to_string()).ok())
                .collect()
        }
        None => Vec::new(),
    };
    let array = doc
        .entry("decision")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .expect("checked above");
    let mut added = 0;
    for d in decisions {
        let same = |e: &Decision| {
            e.origin == d.origin && e.origin_path == d.origin_path && e.target == d.target
        };
        if existing.iter().any(same) {
            continue;
        }
        let mut t = Table::new();
        let fields = [
            ("origin", &d.origin),
            ("origin-path", &d.origin_path),
            ("target", &d.target),
            ("reason", &Some(d.reason.clone())),
            ("reviewer", &d.reviewer),
            ("date", &d.date),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                t.insert(k, toml_edit::value(v.as_str()));
            }
        }
        array.push(t);
        added += 1;
    }
    std::fs::write(path, doc.to_string())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_appended_keeping_comments_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let before = "# our scan settings\nexclude = [\"tests/**\"] # fixtures\n";
        std::fs::write(&path, before).unwrap();
        let d = Decision {
            origin: Some("readline@8.2".into()),
            origin_path: None,
            target: Some("vendor/**".into()),
            reason: "vendored, GPL is fine for this tool".into(),
            reviewer: Some("jo".into()),
            date: Some("2026-12-03".into()),
        };
        assert_eq!(write_decisions(&path, std::slice::from_ref(&d)).unwrap(), 1);
        assert_eq!(write_decisions(&path, std::slice::from_ref(&d)).unwrap(), 0);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(before), "{text}");
        let config = crate::config::Config::load(&path).unwrap();
        assert_eq!(config.decisions, [d]);
        assert_eq!(config.exclude, ["tests/**"]);
    }
}
