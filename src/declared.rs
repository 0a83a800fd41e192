//! `--declared FILE`: the components a code base says it contains. Read from
//! an SPDX 2.x document (JSON or tag-value), a CycloneDX JSON BOM, or a plain
//! list of `project@version` / `project` lines with `#` comments.

use std::path::Path;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::report::Origin;

/// One declared component; `version: None` accepts any version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredComponent {
    pub name: String,
    pub version: Option<String>,
}

/// The declared components, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declared {
    pub components: Vec<DeclaredComponent>,
}

/// Which form a declared file was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclaredForm {
    SpdxJson,
    SpdxTagValue,
    CycloneDxJson,
    PlainList,
}

impl Declared {
    pub fn load(path: &Path) -> anyhow::Result<Declared> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Declared::parse(&text)
    }

    /// Detects the form and parses it.
    pub fn parse(text: &str) -> anyhow::Result<Declared> {
        Ok(Declared::parse_detect(text)?.0)
    }

    pub fn parse_detect(text: &str) -> anyhow::Result<(Declared, DeclaredForm)> {
        let text = text.trim_start_matches('\u{feff}');
        if text.trim_start().starts_with('{') {
            let doc: Value = serde_json::from_str(text).context("parsing JSON")?;
            if doc.get("spdxVersion").is_some() {
                return Ok((from_spdx_json(&doc), DeclaredForm::SpdxJson));
            }
            if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
                return Ok((from_cyclonedx(&doc), DeclaredForm::CycloneDxJson));
            }
            bail!("JSON file is neither an SPDX document (no spdxVersion) nor a CycloneDX BOM (no bomFormat)");
        }
        if text
            .lines()
            .any(|l| l.trim_start().starts_with("SPDXVersion:"))
        {
            return Ok((from_spdx_tag_value(text), DeclaredForm::SpdxTagValue));
        }
        Ok((from_plain_list(text)?, DeclaredForm::PlainList))
    }

    /// Whether the finding's origin is declared: same project name (compared
    /// case-insensitively, `-`, `_` and `.` alike) and, when the declaration
    /// names a version, the origin's version or any of its `versions`.
    pub fn covers(&self, origin: &Origin) -> bool {
        let Some(project) = &origin.project else {
            return false;
        };
        let project = name_key(project);
        self.components.iter().any(|c| {
            name_key(&c.name) == project
                && match &c.version {
                    None => true,
                    Some(v) => origin
                        .version
                        .iter()
                        .chain(&origin.versions)
                        .any(|ov| version_key(ov) == version_key(v)),
                }
        })
    }

    fn push(&mut self, name: &str, version: Option<&str>) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let version = version
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "NOASSERTION" && *v != "*");
        self.components.push(DeclaredComponent {
            name: name.to_string(),
            version: version.map(String::from),
        });
    }
}

fn name_key(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn version_key(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix(['v', 'V'])
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(v);
    v.to_ascii_lowercase()
}

fn from_spdx_json(doc: &Value) -> Declared {
    let mut d = Declared::default();
    for p in doc
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = p.get("name").and_then(Value::as_str) {
            d.push(name, p.get("versionInfo").and_then(Value::as_str));
        }
    }
    d
}

fn from_spdx_tag_value(text: &str) -> Declared {
    let mut d = Declared::default();
    let mut current: Option<(String, Option<String>)> = None;
    for line in text.lines() {
        let Some((tag, value)) = line.split_once(':') else {
            continue;
        };
        match tag.trim() {
            "PackageName" => {
                if let Some((n, v)) = current.take() {
                    d.push(&n, v.as_deref());
                }
                current = Some((value.trim().to_string(), None));
            }
            "PackageVersion" => {
                if let Some((_, v)) = current.as_mut() {
                    *v = Some(value.trim().to_string());
                }
            }
            _ => {}
        }
    }
    if let Some((n, v)) = current {
        d.push(&n, v.as_deref());
    }
    d
}

fn from_cyclonedx(doc: &Value) -> Declared {
    fn walk(list: Option<&Value>, d: &mut Declared) {
        for c in list.and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = c.get("name").and_then(Value::as_str) {
                let version = c.get("version").and_then(Value::as_str);
                d.push(name, version);
                // npm-style scoped names: group `@scope`, name `pkg`.
                if let Some(group) = c
                    .get("group")
                    .and_then(Value::as_str)
                    .filter(|g| !g.is_empty())
                {
                    d.push(&format!("{group}/{name}"), version);
                }
            }
            walk(c.get("components"), d);
        }
    }
    let mut d = Declared::default();
    walk(doc.get("components"), &mut d);
    d
}

fn from_plain_list(text: &str) -> anyhow::Result<Declared> {
    let mut d = Declared::default();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split_once('#').map_or(raw, |(before, _)| before).trim();
        if line.is_empty() {
            continue;
        }
        if line.contains(char::is_whitespace) {
            bail!(
                "line {}: expected `project@version` or `project`, got {line:?}",
                n + 1
            );
        }
        // `@scope/name@1.0`: the version separator is the last '@' that is
        // not the first character.
        let split = line
            .rfind('@')
            .filter(|&at| at > 0)
            .map(|at| (&line[..at], &line[at + 1..]))
            .or_else(|| line.split_once("=="));
        match split {
            Some((name, version)) if !name.is_empty() && !version.is_empty() => {
                d.push(name, Some(version))
            }
            Some(_) => bail!("line {}: empty project or version in {line:?}", n + 1),
            None => d.push(line, None),
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::origin;

    fn comp(name: &str, version: Option<&str>) -> DeclaredComponent {
        DeclaredComponent {
            name: name.into(),
            version: version.map(String::from),
        }
    }

    #[test]
    fn plain_list() {
        let text = "# what we ship\nzlib@1.3.1\n  libpng   # any version\n@types/node@20.1.0\nrequests==2.31.0\n\n";
        let (d, form) = Declared::parse_detect(text).unwrap();
        assert_eq!(form, DeclaredForm::PlainList);
        assert_eq!(
            d.components,
            vec![
                comp("zlib", Some("1.3.1")),
                comp("libpng", None),
                comp("@types/node", Some("20.1.0")),
                comp("requests", Some("2.31.0")),
            ]
        );
        assert!(Declared::parse("zlib 1.3.1\n").is_err());
        assert!(Declared::parse("zlib@\n").is_err());
    }

    #[test]
    fn spdx_json() {
        let text = r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
            "packages": [{"SPDXID": "SPDXRef-a", "name": "zlib", "versionInfo": "1.3.1"},
                         {"SPDXID": "SPDXRef-b", "name": "libpng"}]}"#;
        let (d, form) = Declared::parse_detect(text).unwrap();
        assert_eq!(form, DeclaredForm::SpdxJson);
        assert_eq!(
            d.components,
            vec![comp("zlib", Some("1.3.1")), comp("libpng", None)]
        );
    }

    #[test]
    fn spdx_tag_value() {
        let text = "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n\nPackageName: zlib\nSPDXID: SPDXRef-a\nPackageVersion: 1.3.1\n\nPackageName: libpng\nSPDXID: SPDXRef-b\n";
        let (d, form) = Declared::parse_detect(text).unwrap();
        assert_eq!(form, DeclaredForm::SpdxTagValue);
        assert_eq!(
            d.components,
            vec![comp("zlib", Some("1.3.1")), comp("libpng", None)]
        );
    }

    #[test]
    fn cyclonedx_json() {
        let text = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "components": [{"type": "library", "name": "zlib", "version": "1.3.1",
                "components": [{"type": "library", "name": "minizip"}]},
                {"type": "library", "group": "@types", "name": "node", "version": "20.1.0"}]}"#;
        let (d, form) = Declared::parse_detect(text).unwrap();
        assert_eq!(form, DeclaredForm::CycloneDxJson);
        assert_eq!(
            d.components,
            vec![
                comp("zlib", Some("1.3.1")),
                comp("minizip", None),
                comp("node", Some("20.1.0")),
                comp("@types/node", Some("20.1.0")),
            ]
        );
        assert!(Declared::parse(r#"{"hello": 1}"#).is_err());
    }

    #[test]
    fn matching_rules() {
        let d = Declared::parse("Zlib@v1.3.1\nlibz_sys\n").unwrap();
        assert!(d.covers(&origin(Some("zlib"), Some("1.3.1"), None)));
        assert!(!d.covers(&origin(Some("zlib"), Some("1.2.13"), None)));
        let mut o = origin(Some("zlib"), Some("1.2.13"), None);
        o.versions = vec!["1.2.13".into(), "1.3.1".into()];
        assert!(d.covers(&o), "any of the equal versions matches");
        assert!(d.covers(&origin(Some("libz-sys"), Some("9"), None)));
        assert!(!d.covers(&origin(Some("zlib-ng"), Some("1.3.1"), None)));
        assert!(!d.covers(&origin(None, None, None)));
    }
}
