//! SARIF 2.1.0: one result per finding.
//!
//! * `ruleId` depends on the finding's kind only (`provscan/copied-file`,
//!   `provscan/copied-snippet`, `provscan/stripped-notice`), so alerts keep
//!   their rule when license detection improves; the license class is in the
//!   result's `properties` and tags.
//! * `level`: `error` when the finding violates the policy, `warning` for
//!   copyleft or unknown licenses and stripped notices, `note` otherwise.
//! * `partialFingerprints["provscanOrigin/v1"]` hashes what identifies a copy
//!   independently of where it sits in the target file: the finding kind, the
//!   origin project, path and line range, and the target path. Target line
//!   numbers are left out because they shift with unrelated edits. The n-th
//!   identical copy in one file gets `:n` appended.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use serde::Serialize;

use super::{origin_label, percent_encode, sha1_hex, Context};
use crate::policy::{classify, LicenseClass, Verdict};
use crate::report::{Finding, FindingKind, Report};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const FINGERPRINT_KEY: &str = "provscanOrigin/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BTreeMap<&'static str, ArtifactLocation>>,
    results: Vec<SarifResult>,
    properties: RunProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties {
    report_schema: &'static str,
    findings: usize,
    files: usize,
    policy_violations: usize,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: RuleConfig,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleConfig {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    /// With `--baseline`: `new` or `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    /// An accepting decision of `.provscan.toml`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    /// The enclosing function, method or class, for viewers that group by it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    end_line: u32,
    byte_offset: u64,
    byte_length: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    tags: Vec<String>,
    license: Option<String>,
    license_class: &'static str,
    origin_project: Option<String>,
    origin_version: Option<String>,
    origin_versions: Vec<String>,
    origin_path: String,
    origin_lines: [u32; 2],
    similarity: f64,
    matched_tokens: u32,
    notice_retained: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_violation: Option<String>,
    /// The report's stable finding id (for `provscan accept`).
    #[serde(skip_serializing_if = "Option::is_none")]
    finding_id: Option<String>,
}

const RULES: [(&str, &str, &str, &str); 3] = [
    (
        "provscan/copied-file",
        "CopiedFile",
        "A whole file is a copy of a known open source file.",
        "The file is identical (up to line endings or formatting) to a file of an indexed open \
         source project. Its license applies to the file: keep its notices and meet its terms, \
         or replace the file.",
    ),
    (
        "provscan/copied-snippet",
        "CopiedSnippet",
        "A stretch of code is a copy of known open source code.",
        "These lines match code of an indexed open source project, possibly with renamed \
         identifiers or changed layout. The origin's license applies to them.",
    ),
    (
        "provscan/stripped-notice",
        "StrippedNotice",
        "Copied code without the origin's copyright or license notice.",
        "The origin carries a copyright or license notice and the copy carries none of it. Most \
         open source licenses, permissive ones included, require the notice to be kept.",
    ),
];

fn rule_index(f: &Finding) -> usize {
    match (f.notice_retained, f.kind) {
        (Some(false), _) => 2,
        (_, FindingKind::File) => 0,
        (_, FindingKind::Snippet) => 1,
    }
}

/// The target path as used in fingerprints: '/'-separated, without a
/// leading `./`.
fn normalized_path(p: &str) -> String {
    let p = p.replace('\\', "/");
    let mut p = p.as_str();
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p.to_string()
}

/// The fingerprint of each finding, in order (see the module docs).
pub fn fingerprints(report: &Report) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<usize> = (0..report.findings.len()).collect();
    // Duplicates are numbered in target order, independent of report order.
    order.sort_by_key(|&i| {
        let f = &report.findings[i];
        (normalized_path(&f.path), f.target_lines, i)
    });
    let mut out = vec![String::new(); report.findings.len()];
    for i in order {
        let f = &report.findings[i];
        let o = &f.origin;
        let kind = match f.kind {
            FindingKind::File => "file",
            FindingKind::Snippet => "snippet",
        };
        let lines = format!("{}-{}", o.lines[0], o.lines[1]);
        let project = o.project.as_deref().unwrap_or("").to_ascii_lowercase();
        let hash = sha1_hex(&[kind, &project, &o.path, &lines, &normalized_path(&f.path)]);
        let n = seen.entry(hash.clone()).or_insert(0);
        *n += 1;
        out[i] = if *n == 1 { hash } else { format!("{hash}:{n}") };
    }
    out
}

fn level(f: &Finding, class: LicenseClass, violation: Option<&str>) -> &'static str {
    if violation.is_some() {
        "error"
    } else if class.is_copyleft()
        || class == LicenseClass::Unknown
        || f.notice_retained == Some(false)
    {
        "warning"
    } else {
        "note"
    }
}

fn message(f: &Finding) -> String {
    let o = &f.origin;
    let what = match f.kind {
        FindingKind::File => "Whole file".to_string(),
        FindingKind::Snippet => format!("Lines {}-{}", f.target_lines[0], f.target_lines[1]),
    };
    let mut m = format!(
        "{what} copied from {}:{}-{} (license: {}; similarity {:.2}).",
        origin_label(o),
        o.lines[0],
        o.lines[1],
        o.license.as_deref().unwrap_or("unknown"),
        f.similarity
    );
    if o.versions.len() > 1 {
        m.push_str(&format!(
            " Same code in versions {}.",
            o.versions.join(", ")
        ));
    }
    if f.notice_retained == Some(false) {
        m.push_str(" The origin's copyright/license notice is missing here.");
    }
    if !f.alternatives.is_empty() {
        let alts: Vec<String> = f.alternatives.iter().take(3).map(origin_label).collect();
        m.push_str(&format!(" Also found in {}.", alts.join(", ")));
    }
    m
}

/// Writes the report as a SARIF 2.1.0 log.
pub fn write_sarif(
    report: &Report,
    verdict: &Verdict,
    ctx: &Context,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let prints = fingerprints(report);
    let results = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let class = classify(f.origin.license.as_deref());
            let violation = verdict.violation(i);
            let rule = rule_index(f);
            let o = &f.origin;
            let mut tags = vec![class.name().to_string()];
            if let Some(l) = &o.license {
                tags.push(l.clone());
            }
            SarifResult {
                rule_id: RULES[rule].0,
                rule_index: rule,
                level: level(f, class, violation),
                message: Text { text: message(f) },
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: percent_encode(&normalized_path(&f.path), true),
                            uri_base_id: Some("SRCROOT"),
                        },
                        region: Region {
                            start_line: f.target_lines[0].max(1),
                            end_line: f.target_lines[1].max(f.target_lines[0]).max(1),
                            byte_offset: f.target_bytes[0],
                            byte_length: f.target_bytes[1].saturating_sub(f.target_bytes[0]),
                        },
                    },
                    logical_locations: f
                        .symbol
                        .iter()
                        .map(|s| LogicalLocation {
                            fully_qualified_name: s.clone(),
                        })
                        .collect(),
                }],
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, prints[i].clone())]),
                baseline_state: report
                    .review_of(i)
                    .and_then(|r| r.baseline_state)
                    .map(|b| b.name()),
                suppressions: report
                    .review_of(i)
                    .and_then(|r| r.accepted.as_ref())
                    .map(|a| Suppression {
                        kind: "external",
                        status: "accepted",
                        justification: match &a.reviewer {
                            Some(who) => format!("{} ({who})", a.reason),
                            None => a.reason.clone(),
                        },
                    })
                    .into_iter()
                    .collect(),
                properties: ResultProperties {
                    tags,
                    license: o.license.clone(),
                    license_class: class.name(),
                    origin_project: o.project.clone(),
                    origin_version: o.version.clone(),
                    origin_versions: o.versions.clone(),
                    origin_path: o.path.clone(),
                    origin_lines: o.lines,
                    similarity: f.similarity,
                    matched_tokens: f.matched_tokens,
                    notice_retained: f.notice_retained,
                    policy_violation: violation.map(String::from),
                    finding_id: report
                        .review_of(i)
                        .map(|r| r.id.clone())
                        .filter(|id| !id.is_empty()),
                },
            }
        })
        .collect();
    let rules = RULES
        .iter()
        .map(|&(id, name, short, full)| Rule {
            id,
            name,
            short_description: Text { text: short.into() },
            full_description: Text { text: full.into() },
            help: Text { text: full.into() },
            default_configuration: RuleConfig { level: "warning" },
            properties: RuleProperties {
                tags: vec!["license", "provenance"],
            },
        })
        .collect();
    let base = ctx
        .root
        .as_ref()
        .and_then(|r| r.canonicalize().ok())
        .filter(|r| r.is_dir())
        .map(|r| {
            let mut uri = format!("file://{}", percent_encode(&r.to_string_lossy(), true));
            if !uri.ends_with('/') {
                uri.push('/');
            }
            BTreeMap::from([(
                "SRCROOT",
                ArtifactLocation {
                    uri,
                    uri_base_id: None,
                },
            )])
        });
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "provscan",
                    version: report.tool_version,
                    semantic_version: report.tool_version,
                    rules,
                },
            },
            original_uri_base_ids: base,
            results,
            properties: RunProperties {
                report_schema: report.schema,
                findings: report.findings.len(),
                files: report.summary.files,
                policy_violations: verdict.violations.len(),
            },
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::policy::tests::sample_report;
    use crate::policy::{evaluate, FailOn, Policy};

    fn render(report: &Report, verdict: &Verdict) -> Value {
        let mut buf = Vec::new();
        let ctx = Context::new("demo", None);
        write_sarif(report, verdict, &ctx, &mut buf).unwrap();
        serde_json::from_slice(&buf).unwrap()
    }

    #[test]
    fn structure() {
        let report = sample_report();
        let policy = Policy {
            fail_on: vec![FailOn::parse("strong-copyleft").unwrap()],
            ..Default::default()
        };
        let verdict = evaluate(&report, &policy);
        let log = render(&report, &verdict);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "provscan");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), report.findings.len());
        for (r, f) in results.iter().zip(&report.findings) {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
            assert!(r["message"]["text"]
                .as_str()
                .unwrap()
                .contains(&f.origin.path));
            let loc = &r["locations"][0]["physicalLocation"];
            assert_eq!(loc["artifactLocation"]["uri"], f.path.as_str());
            let (s, e) = (
                loc["region"]["startLine"].as_u64().unwrap(),
                loc["region"]["endLine"].as_u64().unwrap(),
            );
            assert!(1 <= s && s <= e);
            assert_eq!(s, u64::from(f.target_lines[0]));
            assert!(
                r["partialFingerprints"][FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .len()
                    >= 40
            );
            assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        }
        // The GPL finding violates the policy; the whole-file MIT copy kept its notice.
        assert_eq!(results[1]["level"], "error");
        assert_eq!(results[1]["ruleId"], "provscan/stripped-notice");
        assert_eq!(results[2]["level"], "note");
        assert_eq!(results[2]["ruleId"], "provscan/copied-file");
        assert_eq!(results[0]["level"], "warning");
        assert!(results[1]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("readline@8.2:complete.c:100-140"));
    }

    #[test]
    fn fingerprints_are_stable_and_ignore_target_lines() {
        let a = sample_report();
        let first = fingerprints(&a);
        assert_eq!(
            first,
            fingerprints(&sample_report()),
            "same input, same prints"
        );
        let distinct: std::collections::HashSet<_> = first.iter().collect();
        assert_eq!(distinct.len(), first.len());
        // Shift every target line (an edit above the copy) and reorder.
        let mut b = sample_report();
        for f in &mut b.findings {
            f.target_lines = [f.target_lines[0] + 7, f.target_lines[1] + 7];
            f.target_bytes = [f.target_bytes[0] + 99, f.target_bytes[1] + 99];
        }
        b.findings.reverse();
        let mut second = fingerprints(&b);
        second.reverse();
        assert_eq!(first, second);
        // The same origin copied twice into one file: distinct, numbered prints.
        let mut c = sample_report();
        let mut dup = c.findings[0].clone();
        dup.target_lines = [200, 242];
        c.findings.push(dup);
        let p = fingerprints(&c);
        assert_eq!(p[5], format!("{}:2", p[0]));
        // A different origin range is a different copy.
        let mut d = sample_report();
        d.findings[0].origin.lines = [101, 141];
        assert_ne!(fingerprints(&d)[0], first[0]);
    }

    #[test]
    fn json_output_is_deterministic() {
        let r = sample_report();
        let v = Verdict::default();
        assert_eq!(render(&r, &v), render(&r, &v));
    }
}
