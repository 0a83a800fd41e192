//! CycloneDX 1.6 JSON, from our own types (the `cyclonedx-bom` crate stops
//! at 1.5).
//!
//! * `metadata.component` is the scanned code base (type `application`).
//! * One component per origin project@version (type `library`), with its
//!   license (`expression` when valid SPDX, else a named license), its purl
//!   when the source spec is known, and `evidence`:
//!   `identity` (field `name`, technique `ast-fingerprint`, confidence = best
//!   similarity) and one `occurrences` entry per finding (`location` = target
//!   path, `line` = first target line, `offset` = first target byte,
//!   `symbol` = the target's enclosing function, method or class when one holds the range,
//!   `additionalContext` = target line range and origin path and lines).
//! * Findings whose origin has no project name become components of type
//!   `file` named after the origin path.
//! * `dependencies`: the scanned code base depends on every origin component.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::{origin_label, Context};
use crate::policy::parse_expression;
use crate::report::{Finding, FindingKind, Origin, Report};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    copyright: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    Expression { expression: String },
    Named { license: NamedLicense },
}

#[derive(Serialize)]
struct NamedLicense {
    name: String,
}

#[derive(Serialize)]
struct Evidence {
    identity: Vec<Identity>,
    occurrences: Vec<Occurrence>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    copyright: Vec<CopyrightText>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    field: &'static str,
    confidence: f64,
    concluded_value: String,
    methods: Vec<Method>,
}

#[derive(Serialize)]
struct Method {
    technique: &'static str,
    confidence: f64,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Occurrence {
    location: String,
    line: u32,
    offset: u64,
    /// The target's enclosing function, method or class.
    #[serde(skip_serializing_if = "Option::is_none")]
    symbol: Option<String>,
    additional_context: String,
}

#[derive(Serialize)]
struct CopyrightText {
    text: String,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

fn licenses(license: Option<&str>) -> Vec<LicenseChoice> {
    let Some(text) = license.map(str::trim).filter(|t| !t.is_empty()) else {
        return Vec::new();
    };
    if spdx::Expression::parse(text).is_ok() {
        return vec![LicenseChoice::Expression {
            expression: text.to_string(),
        }];
    }
    if parse_expression(text).is_some() {
        if let Ok(Some(canon)) = spdx::Expression::canonicalize(text) {
            if spdx::Expression::parse(&canon).is_ok() {
                return vec![LicenseChoice::Expression { expression: canon }];
            }
        }
    }
    vec![LicenseChoice::Named {
        license: NamedLicense {
            name: text.to_string(),
        },
    }]
}

/// Grouping key: (project, version) for named origins, origin path otherwise.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Project(String, Option<String>),
    File(String),
}

fn key(o: &Origin) -> Key {
    match &o.project {
        Some(p) => Key::Project(p.clone(), o.version.clone()),
        None => Key::File(o.path.clone()),
    }
}

fn bom_ref(k: &Key) -> String {
    match k {
        Key::Project(p, Some(v)) => format!("origin:{p}@{v}"),
        Key::Project(p, None) => format!("origin:{p}"),
        Key::File(path) => format!("origin-file:{path}"),
    }
}

fn occurrence(f: &Finding) -> Occurrence {
    let what = match f.kind {
        FindingKind::File => "whole file".to_string(),
        FindingKind::Snippet => format!("lines {}-{}", f.target_lines[0], f.target_lines[1]),
    };
    let mut ctx = format!(
        "{what} copied from {}:{}-{} (similarity {:.2}, {} matched tokens)",
        origin_label(&f.origin),
        f.origin.lines[0],
        f.origin.lines[1],
        f.similarity,
        f.matched_tokens
    );
    if let Some(symbol) = &f.origin.symbol {
        ctx.push_str(&format!("; origin symbol {symbol}"));
    }
    if f.notice_retained == Some(false) {
        ctx.push_str("; origin notice not kept");
    }
    Occurrence {
        location: f.path.clone(),
        line: f.target_lines[0],
        offset: f.target_bytes[0],
        symbol: f.symbol.clone(),
        additional_context: ctx,
    }
}

/// Writes the report as a CycloneDX 1.6 JSON BOM.
pub fn write_cyclonedx(report: &Report, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut groups: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        groups.entry(key(&f.origin)).or_default().push(f);
    }
    let components: Vec<Component> = groups
        .iter()
        .map(|(k, findings)| {
            let o = &findings[0].origin;
            let best = findings
                .iter()
                .map(|f| f.similarity)
                .fold(0.0, f64::max)
                .clamp(0.0, 1.0);
            let (kind, name, version) = match k {
                Key::Project(p, v) => ("library", p.clone(), v.clone()),
                Key::File(path) => ("file", path.clone(), None),
            };
            let mut copyrights: Vec<String> = findings
                .iter()
                .flat_map(|f| f.origin.copyright.clone())
                .collect();
            copyrights.sort();
            copyrights.dedup();
            let mut versions: Vec<String> = findings
                .iter()
                .flat_map(|f| f.origin.versions.clone())
                .collect();
            versions.sort();
            versions.dedup();
            let mut properties = Vec::new();
            if versions.len() > 1 {
                properties.push(Property {
                    name: "provscan:identicalVersions",
                    value: versions.join(", "),
                });
            }
            let mut license_texts: Vec<&str> = findings
                .iter()
                .filter_map(|f| f.origin.license.as_deref())
                .collect();
            license_texts.sort_unstable();
            license_texts.dedup();
            if license_texts.len() > 1 {
                properties.push(Property {
                    name: "provscan:licenses",
                    value: license_texts.join(" | "),
                });
            }
            Component {
                kind,
                bom_ref: bom_ref(k),
                name: name.clone(),
                version,
                licenses: licenses(o.license.as_deref()),
                copyright: (!copyrights.is_empty()).then(|| copyrights.join("\n")),
                purl: ctx.purl(o),
                evidence: Some(Evidence {
                    identity: vec![Identity {
                        field: "name",
                        confidence: best,
                        concluded_value: name,
                        methods: vec![Method {
                            technique: "ast-fingerprint",
                            confidence: best,
                            value: format!(
                                "{} finding(s) matching {}",
                                findings.len(),
                                findings
                                    .iter()
                                    .map(|f| f.origin.path.as_str())
                                    .collect::<std::collections::BTreeSet<_>>()
                                    .into_iter()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        }],
                    }],
                    occurrences: findings.iter().map(|f| occurrence(f)).collect(),
                    copyright: copyrights
                        .into_iter()
                        .map(|text| CopyrightText { text })
                        .collect(),
                }),
                properties,
            }
        })
        .collect();
    let root_ref = "scanned".to_string();
    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        version: 1,
        metadata: Metadata {
            timestamp: ctx.created_rfc3339(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    bom_ref: "provscan".into(),
                    name: "provscan".into(),
                    version: Some(report.tool_version.into()),
                    ..Default::default()
                }],
            },
            component: Component {
                kind: "application",
                bom_ref: root_ref.clone(),
                name: ctx.name.clone(),
                ..Default::default()
            },
        },
        dependencies: vec![Dependency {
            reference: root_ref,
            depends_on: components.iter().map(|c| c.bom_ref.clone()).collect(),
        }],
        components,
    };
    serde_json::to_writer_pretty(&mut *out, &bom)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::policy::tests::sample_report;

    #[test]
    fn components_and_occurrences() {
        let report = sample_report();
        let mut ctx = Context::new("demo", None);
        ctx.sources
            .insert(("zlib".into(), "1.3.1".into()), "deb:zlib=1:1.3.1-1".into());
        let mut buf = Vec::new();
        write_cyclonedx(&report, &ctx, &mut buf).unwrap();
        let bom: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(bom["specVersion"], "1.6");
        let comps = bom["components"].as_array().unwrap();
        let names: Vec<&str> = comps.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            vec![
                "nlohmann-json",
                "readline",
                "strange",
                "zlib",
                "src/deflate.c"
            ]
        );
        let zlib = &comps[3];
        assert_eq!(zlib["purl"], "pkg:deb/debian/zlib@1%3A1.3.1-1?arch=source");
        assert_eq!(zlib["licenses"][0]["expression"], "Zlib");
        assert_eq!(
            zlib["evidence"]["identity"][0]["methods"][0]["technique"],
            "ast-fingerprint"
        );
        let occ = &zlib["evidence"]["occurrences"][0];
        assert_eq!(occ["location"], "src/compress.c");
        assert_eq!(occ["line"], 10);
        assert!(occ["additionalContext"]
            .as_str()
            .unwrap()
            .contains("lines 10-52"));
        assert!(comps[0].get("purl").is_none());
        assert_eq!(
            comps[2]["licenses"][0]["license"]["name"],
            "Some custom license, see README"
        );
        assert_eq!(comps[4]["type"], "file");
        assert_eq!(
            bom["dependencies"][0]["dependsOn"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
    }
}
