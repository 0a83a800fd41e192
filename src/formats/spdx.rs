//! SPDX 2.3 JSON.
//!
//! * The scanned tree is a Package (`filesAnalyzed: true`, no verification
//!   code since only files with findings are listed) that the document
//!   DESCRIBES and that CONTAINS one File per scanned file with findings,
//!   with its SHA1 when the file can be read again.
//! * Each finding is a Snippet of that File, with a byte range and a line
//!   range, both 1-based and inclusive (the report's byte range is 0-based,
//!   end-exclusive).
//! * Each origin project@version is a Package (`filesAnalyzed: false`,
//!   `downloadLocation: NOASSERTION`, purl when known); a snippet is tied to
//!   it by an `OTHER` relationship whose comment says it was copied from it
//!   (SPDX 2.3 has no "copied from" type: `COPY_OF` needs the origin file as
//!   an element, and `GENERATED_FROM` means produced by a tool).
//! * License expressions that are not valid SPDX become a `LicenseRef-`
//!   declared in `hasExtractedLicensingInfos`; no license is `NOASSERTION`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;
use spdx::LicenseItem;

use super::{origin_label, sha1_hex, Context};
use crate::policy::parse_expression;
use crate::report::{Finding, FindingKind, Origin, Report};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    files: Vec<File>,
    snippets: Vec<Snippet>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
    license_list_version: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: String,
    license_declared: String,
    copyright_text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    file_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: String,
    license_info_in_files: Vec<String>,
    copyright_text: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    snippet_from_file: String,
    ranges: [Range; 2],
    license_concluded: String,
    license_info_in_snippets: Vec<String>,
    copyright_text: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Range {
    start_pointer: Pointer,
    end_pointer: Pointer,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pointer {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_number: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
    comment: String,
}

/// Turns report license strings into valid SPDX expressions, collecting the
/// `LicenseRef-`s they need.
#[derive(Default)]
pub struct LicenseMapper {
    /// LicenseRef id → the text it stands for.
    refs: BTreeMap<String, String>,
}

/// Characters allowed in SPDX ids after the prefix.
fn id_chars(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').to_string()
}

impl LicenseMapper {
    /// A valid SPDX license expression for `license`, or `NOASSERTION`.
    pub fn expression(&mut self, license: Option<&str>) -> String {
        self.map(license).0
    }

    /// The expression and its individual licenses (for `licenseInfoIn*`).
    fn map(&mut self, license: Option<&str>) -> (String, Vec<String>) {
        let Some(text) = license.map(str::trim).filter(|t| !t.is_empty()) else {
            return (NOASSERTION.into(), vec![NOASSERTION.into()]);
        };
        if text == NOASSERTION || text == "NONE" {
            return (text.into(), vec![text.into()]);
        }
        if let Some(expr) = parse_expression(text) {
            let local_refs = expr
                .requirements()
                .all(|r| !matches!(&r.req.license, LicenseItem::Other(o) if o.doc_ref.is_some()));
            if local_refs {
                let mut ids = BTreeSet::new();
                for r in expr.requirements() {
                    let id = match &r.req.license {
                        LicenseItem::Spdx { id, or_later } => {
                            let plus = if *or_later && !id.name.ends_with("-or-later") {
                                "+"
                            } else {
                                ""
                            };
                            format!("{}{plus}", id.name)
                        }
                        LicenseItem::Other(o) => {
                            let id = format!("LicenseRef-{}", o.lic_ref);
                            self.refs.entry(id.clone()).or_insert_with(|| {
                                format!("A license named {id} in the origin's metadata (expression: {text}).")
                            });
                            id
                        }
                    };
                    ids.insert(id);
                }
                let canonical = match spdx::Expression::canonicalize(text) {
                    Ok(Some(c)) if spdx::Expression::parse(&c).is_ok() => c,
                    _ if spdx::Expression::parse(text).is_ok() => text.to_string(),
                    _ => return self.reference(text),
                };
                return (canonical, ids.into_iter().collect());
            }
        }
        self.reference(text)
    }

    fn reference(&mut self, text: &str) -> (String, Vec<String>) {
        let stem = id_chars(text);
        let stem = if stem.is_empty() || stem.len() > 60 {
            format!("provscan-{}", &sha1_hex(&[text])[..12])
        } else {
            format!("provscan-{stem}")
        };
        let id = format!("LicenseRef-{stem}");
        self.refs
            .entry(id.clone())
            .or_insert_with(|| format!("The origin's license as recorded by provscan: {text}"));
        (id.clone(), vec![id])
    }

    fn extracted(self) -> Vec<ExtractedLicense> {
        self.refs
            .into_iter()
            .map(|(id, text)| ExtractedLicense {
                name: id.trim_start_matches("LicenseRef-").to_string(),
                license_id: id,
                extracted_text: text,
                comment: "provscan records license identifiers, not license texts; see the origin project."
                    .into(),
            })
            .collect()
    }
}

/// The SPDX license list version of the `spdx` crate, as `MAJOR.MINOR`
/// (the only form SPDX 2.3 allows).
fn license_list_version() -> String {
    let v = spdx::license_version().trim_start_matches('v');
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

fn package_key(o: &Origin) -> Option<(String, Option<String>)> {
    Some((o.project.clone()?, o.version.clone()))
}

fn copyright(o: &Origin) -> String {
    if o.copyright.is_empty() {
        NOASSERTION.into()
    } else {
        o.copyright.join("\n")
    }
}

/// Writes the report as an SPDX 2.3 JSON document.
pub fn write_spdx(report: &Report, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut licenses = LicenseMapper::default();
    let root_id = "SPDXRef-Package-scanned".to_string();
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".into(),
        relationship_type: "DESCRIBES",
        related_spdx_element: root_id.clone(),
        comment: None,
    }];

    // Files, in path order.
    let paths: BTreeSet<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    let mut file_ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut files = Vec::new();
    for (n, path) in paths.iter().enumerate() {
        let id = format!("SPDXRef-File-{}-{}", n + 1, id_chars(path));
        // A whole-file copy concludes the file's license; otherwise the file
        // is only partly covered by what we know.
        let whole = report
            .findings
            .iter()
            .find(|f| f.path == *path && f.kind == FindingKind::File);
        let concluded = licenses.expression(whole.and_then(|f| f.origin.license.as_deref()));
        files.push(File {
            spdx_id: id.clone(),
            file_name: format!("./{}", path.trim_start_matches("./")),
            checksums: ctx
                .sha1_of(path)
                .map(|v| Checksum {
                    algorithm: "SHA1",
                    checksum_value: v,
                })
                .into_iter()
                .collect(),
            license_concluded: concluded,
            license_info_in_files: vec![NOASSERTION.into()],
            copyright_text: NOASSERTION,
        });
        relationships.push(Relationship {
            spdx_element_id: root_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: id.clone(),
            comment: None,
        });
        file_ids.insert(path, id);
    }

    // Origin packages, in (project, version) order.
    let mut origin_ids: BTreeMap<(String, Option<String>), String> = BTreeMap::new();
    let mut origin_first: BTreeMap<(String, Option<String>), &Origin> = BTreeMap::new();
    for f in &report.findings {
        if let Some(key) = package_key(&f.origin) {
            origin_first.entry(key).or_insert(&f.origin);
        }
    }
    let mut packages = vec![Package {
        spdx_id: root_id.clone(),
        name: ctx.name.clone(),
        version_info: None,
        download_location: NOASSERTION,
        files_analyzed: true,
        license_concluded: NOASSERTION.into(),
        license_declared: NOASSERTION.into(),
        copyright_text: NOASSERTION.into(),
        external_refs: Vec::new(),
        primary_package_purpose: Some("SOURCE"),
        comment:
            "The scanned code base. Only files in which provscan found copied code are listed."
                .into(),
    }];
    for (n, (key, o)) in origin_first.iter().enumerate() {
        let id = format!(
            "SPDXRef-Package-{}-{}{}",
            n + 1,
            id_chars(&key.0),
            key.1
                .as_deref()
                .map(|v| format!("-{}", id_chars(v)))
                .unwrap_or_default()
        );
        let declared = licenses.expression(o.license.as_deref());
        packages.push(Package {
            spdx_id: id.clone(),
            name: key.0.clone(),
            version_info: key.1.clone(),
            download_location: NOASSERTION,
            files_analyzed: false,
            license_concluded: NOASSERTION.into(),
            license_declared: declared,
            copyright_text: copyright(o),
            external_refs: ctx
                .purl(o)
                .map(|purl| ExternalRef {
                    reference_category: "PACKAGE-MANAGER",
                    reference_type: "purl",
                    reference_locator: purl,
                })
                .into_iter()
                .collect(),
            primary_package_purpose: Some("LIBRARY"),
            comment: if o.versions.len() > 1 {
                format!(
                    "Copied code is identical in versions {}.",
                    o.versions.join(", ")
                )
            } else {
                "Origin of copied code found by provscan.".into()
            },
        });
        origin_ids.insert(key.clone(), id);
    }

    // Snippets, in report order.
    let mut snippets = Vec::new();
    for (n, f) in report.findings.iter().enumerate() {
        let id = format!("SPDXRef-Snippet-{}", n + 1);
        let file_id = file_ids[f.path.as_str()].clone();
        let (concluded, ids) = licenses.map(f.origin.license.as_deref());
        let info = if f.notice_retained == Some(true) {
            ids
        } else {
            vec![NOASSERTION.into()]
        };
        snippets.push(snippet(f, &id, &file_id, concluded, info));
        if let Some(pkg) = package_key(&f.origin).and_then(|k| origin_ids.get(&k)) {
            relationships.push(Relationship {
                spdx_element_id: id.clone(),
                relationship_type: "OTHER",
                related_spdx_element: pkg.clone(),
                comment: Some(format!(
                    "copied from {}:{}-{}",
                    origin_label(&f.origin),
                    f.origin.lines[0],
                    f.origin.lines[1]
                )),
            });
        }
    }

    let namespace = ctx.namespace.clone().unwrap_or_else(|| {
        let mut parts = vec![ctx.name.clone(), ctx.created.to_string()];
        parts.extend(snippets.iter().map(|s| s.name.clone()));
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        format!(
            "https://spdx.org/spdxdocs/provscan-{}-{}",
            id_chars(&ctx.name),
            sha1_hex(&refs)
        )
    });
    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: format!("provscan scan of {}", ctx.name),
        document_namespace: namespace,
        creation_info: CreationInfo {
            created: ctx.created_rfc3339(),
            creators: vec![format!("Tool: provscan-{}", report.tool_version)],
            license_list_version: license_list_version(),
            comment: format!(
                "Code copied from open source, found by provscan (report schema {}).",
                report.schema
            ),
        },
        packages,
        files,
        snippets,
        relationships,
        has_extracted_licensing_infos: licenses.extracted(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

fn snippet(f: &Finding, id: &str, file_id: &str, concluded: String, info: Vec<String>) -> Snippet {
    let pointer = |offset: Option<u64>, line_number: Option<u32>| Pointer {
        reference: file_id.to_string(),
        offset,
        line_number,
    };
    // 0-based end-exclusive → 1-based inclusive; never an empty range.
    let start = f.target_bytes[0] + 1;
    let end = f.target_bytes[1].max(start);
    let first_line = f.target_lines[0].max(1);
    let last_line = f.target_lines[1].max(first_line);
    let o = &f.origin;
    let mut comment = format!(
        "Copied from {}, lines {}-{} (similarity {:.2}, {} matched tokens).",
        origin_label(o),
        o.lines[0],
        o.lines[1],
        f.similarity,
        f.matched_tokens
    );
    match f.notice_retained {
        Some(false) => comment.push_str(" The origin's notice was not kept."),
        Some(true) => comment.push_str(" The origin's notice was kept."),
        None => {}
    }
    Snippet {
        spdx_id: id.to_string(),
        name: format!("{}:{}-{}", origin_label(o), o.lines[0], o.lines[1]),
        snippet_from_file: file_id.to_string(),
        ranges: [
            Range {
                start_pointer: pointer(Some(start), None),
                end_pointer: pointer(Some(end), None),
            },
            Range {
                start_pointer: pointer(None, Some(first_line)),
                end_pointer: pointer(None, Some(last_line)),
            },
        ],
        license_concluded: concluded,
        license_info_in_snippets: info,
        copyright_text: copyright(o),
        comment,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::policy::tests::sample_report;

    #[test]
    fn license_mapping() {
        let mut m = LicenseMapper::default();
        assert_eq!(m.expression(Some("MIT OR Apache-2.0")), "MIT OR Apache-2.0");
        assert_eq!(m.expression(Some("GPL-2.0+")), "GPL-2.0-or-later");
        assert_eq!(m.expression(Some("mit/Apache-2.0")), "MIT OR Apache-2.0");
        assert_eq!(m.expression(None), "NOASSERTION");
        assert_eq!(
            m.expression(Some("LicenseRef-scancode-foo")),
            "LicenseRef-scancode-foo"
        );
        assert_eq!(
            m.expression(Some("Some custom license, see README")),
            "LicenseRef-provscan-Some-custom-license-see-README"
        );
        let refs: Vec<String> = m.extracted().into_iter().map(|e| e.license_id).collect();
        assert_eq!(
            refs,
            vec![
                "LicenseRef-provscan-Some-custom-license-see-README",
                "LicenseRef-scancode-foo"
            ]
        );
    }

    #[test]
    fn ranges_are_one_based_inclusive() {
        let report = sample_report();
        let mut buf = Vec::new();
        let mut ctx = Context::new("demo", None);
        ctx.created = 1_700_000_000;
        write_spdx(&report, &ctx, &mut buf).unwrap();
        let doc: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
        let snippets = doc["snippets"].as_array().unwrap();
        assert_eq!(snippets.len(), report.findings.len());
        for (s, f) in snippets.iter().zip(&report.findings) {
            let bytes = &s["ranges"][0];
            assert_eq!(
                bytes["startPointer"]["offset"].as_u64().unwrap(),
                f.target_bytes[0] + 1
            );
            assert_eq!(
                bytes["endPointer"]["offset"].as_u64().unwrap(),
                f.target_bytes[1]
            );
            let lines = &s["ranges"][1];
            assert_eq!(
                lines["startPointer"]["lineNumber"].as_u64().unwrap(),
                u64::from(f.target_lines[0])
            );
            assert_eq!(
                lines["endPointer"]["lineNumber"].as_u64().unwrap(),
                u64::from(f.target_lines[1])
            );
            assert!(s["name"].as_str().unwrap().contains(&f.origin.path));
        }
        // One package for the tree plus one per origin with a project name.
        let names: Vec<&str> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            vec!["demo", "nlohmann-json", "readline", "strange", "zlib"]
        );
    }
}
