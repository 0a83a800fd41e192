//! Package metadata: name, version and declared license from the manifest
//! files of the common ecosystems (Cargo.toml, PKG-INFO, pyproject.toml,
//! package.json, *.gemspec, gem metadata, debian/changelog).
//!
//! Only plain declarations are read; nothing is executed, so a gemspec or
//! setup.py that computes its values is simply not understood.

/// What one manifest file declares. Any field may be missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageInfo {
    /// Package name.
    pub name: Option<String>,
    /// Package version.
    pub version: Option<String>,
    /// License declarations as written (not yet normalized). Several
    /// entries come from list-valued fields (classifiers, `licenses`).
    pub licenses: Vec<String>,
    /// True when `licenses` holds alternatives that were declared as a
    /// list (npm `licenses`, gemspec `licenses`, trove classifiers), whose
    /// relation (OR/AND) the format does not state.
    pub license_is_list: bool,
    /// Declarations of a weaker field of the same manifest (PKG-INFO's
    /// trove classifiers beside a one-line `License:`), for the resolver
    /// to use when `licenses` names nothing it can normalize. Metadata
    /// only reads; deciding what a name means is `license`'s job.
    pub fallback: Vec<String>,
}

/// File names (last path component) that are package manifests.
pub fn is_manifest(file_name: &str) -> bool {
    matches!(
        file_name,
        "Cargo.toml" | "PKG-INFO" | "pyproject.toml" | "package.json"
    ) || file_name.ends_with(".gemspec")
}

/// Parses a manifest by its path; `None` if the path is not a manifest or
/// it cannot be parsed.
pub fn parse_manifest(path: &str, bytes: &[u8]) -> Option<PackageInfo> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let text = String::from_utf8_lossy(bytes);
    match name {
        "Cargo.toml" => parse_cargo_toml(&text),
        "PKG-INFO" => Some(parse_pkg_info(&text)),
        "pyproject.toml" => parse_pyproject(&text),
        "package.json" => parse_package_json(&text),
        "changelog" if path.ends_with("debian/changelog") => parse_debian_changelog(&text),
        n if n.ends_with(".gemspec") => Some(parse_gemspec(&text)),
        _ => None,
    }
}

fn parse_cargo_toml(text: &str) -> Option<PackageInfo> {
    let v: toml::Table = toml::from_str(text).ok()?;
    let pkg = v.get("package")?.as_table()?;
    let s = |k: &str| pkg.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Some(PackageInfo {
        name: s("name"),
        version: s("version"),
        licenses: s("license").into_iter().collect(),
        ..PackageInfo::default()
    })
}

/// PKG-INFO / METADATA: RFC 822 style headers up to the first blank line.
fn parse_pkg_info(text: &str) -> PackageInfo {
    let mut info = PackageInfo::default();
    let mut expression = None;
    let mut license = None;
    let mut classifiers = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k {
            "Name" => info.name = Some(v.to_string()),
            "Version" => info.version = Some(v.to_string()),
            "License-Expression" => expression = Some(v.to_string()),
            // Multi-line License fields hold a full text; only a one-liner
            // can be a name.
            "License" if !v.is_empty() && v != "UNKNOWN" => license = Some(v.to_string()),
            "Classifier" => {
                if let Some(c) = v.strip_prefix("License ::") {
                    classifiers.push(c.trim().to_string());
                }
            }
            _ => {}
        }
    }
    // License-Expression (PEP 639) is authoritative; then a one-line
    // License field, with the classifiers as its fallback (the resolver
    // takes them when the field is no recognizable name).
    let mut mapped: Vec<String> = classifiers
        .iter()
        .filter_map(|c| classifier_license(c))
        .map(str::to_string)
        .collect();
    mapped.dedup();
    if let Some(e) = expression {
        info.licenses = vec![e];
    } else if let Some(l) = license {
        info.licenses = vec![l];
        info.fallback = mapped;
    } else {
        info.license_is_list = mapped.len() > 1;
        info.licenses = mapped;
    }
    info
}

/// Maps a trove license classifier (after `License ::`) to an SPDX id.
/// Classifiers that do not name one license version (e.g. "OSI Approved ::
/// BSD License", "Apache Software License") map to nothing.
pub fn classifier_license(c: &str) -> Option<&'static str> {
    let c = c.trim_start_matches("OSI Approved ::").trim();
    Some(match c {
        "MIT License" => "MIT",
        "MIT No Attribution License (MIT-0)" => "MIT-0",
        "ISC License (ISCL)" => "ISC",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v2 or later (GPLv2+)" => "GPL-2.0-or-later",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU General Public License v3 or later (GPLv3+)" => "GPL-3.0-or-later",
        "GNU Lesser General Public License v2 (LGPLv2)" => "LGPL-2.0-only",
        "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        "GNU Lesser General Public License v3 or later (LGPLv3+)" => "LGPL-3.0-or-later",
        "GNU Affero General Public License v3" => "AGPL-3.0-only",
        "GNU Affero General Public License v3 or later (AGPLv3+)" => "AGPL-3.0-or-later",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "Mozilla Public License 1.1 (MPL 1.1)" => "MPL-1.1",
        "Boost Software License 1.0 (BSL-1.0)" => "BSL-1.0",
        "Eclipse Public License 2.0 (EPL-2.0)" => "EPL-2.0",
        "European Union Public Licence 1.2 (EUPL 1.2)" => "EUPL-1.2",
        "Python Software Foundation License" => "PSF-2.0",
        "The Unlicense (Unlicense)" => "Unlicense",
        "zlib/libpng License" => "Zlib",
        "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication" => "CC0-1.0",
        "Universal Permissive License (UPL)" => "UPL-1.0",
        "Artistic License" => return None,
        _ => return None,
    })
}

fn parse_pyproject(text: &str) -> Option<PackageInfo> {
    let v: toml::Table = toml::from_str(text).ok()?;
    let mut info = PackageInfo::default();
    let tables = [
        v.get("project").and_then(|p| p.as_table()),
        v.get("tool")
            .and_then(|t| t.get("poetry"))
            .and_then(|p| p.as_table()),
    ];
    for t in tables.into_iter().flatten() {
        let s = |k: &str| t.get(k).and_then(|x| x.as_str()).map(str::to_string);
        info.name = info.name.or(s("name"));
        info.version = info.version.or(s("version"));
        if info.licenses.is_empty() {
            match t.get("license") {
                Some(toml::Value::String(l)) => info.licenses.push(l.clone()),
                Some(toml::Value::Table(tab)) => {
                    if let Some(l) = tab.get("text").and_then(|x| x.as_str()) {
                        if !l.contains('\n') {
                            info.licenses.push(l.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        if info.licenses.is_empty() {
            if let Some(cs) = t.get("classifiers").and_then(|c| c.as_array()) {
                let ls: Vec<String> = cs
                    .iter()
                    .filter_map(|c| c.as_str()?.strip_prefix("License ::"))
                    .filter_map(|c| classifier_license(c.trim()))
                    .map(str::to_string)
                    .collect();
                info.license_is_list = ls.len() > 1;
                info.licenses = ls;
            }
        }
    }
    (info.name.is_some() || !info.licenses.is_empty()).then_some(info)
}

fn parse_package_json(text: &str) -> Option<PackageInfo> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let obj = v.as_object()?;
    let s = |k: &str| obj.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let mut info = PackageInfo {
        name: s("name"),
        version: s("version"),
        ..PackageInfo::default()
    };
    match obj.get("license") {
        Some(serde_json::Value::String(l)) => info.licenses.push(l.clone()),
        Some(serde_json::Value::Object(o)) => {
            if let Some(t) = o.get("type").and_then(|t| t.as_str()) {
                info.licenses.push(t.to_string());
            }
        }
        _ => {}
    }
    if info.licenses.is_empty() {
        if let Some(list) = obj.get("licenses").and_then(|l| l.as_array()) {
            for l in list {
                let t = l
                    .as_str()
                    .or_else(|| l.get("type").and_then(|t| t.as_str()));
                if let Some(t) = t {
                    info.licenses.push(t.to_string());
                }
            }
            info.license_is_list = info.licenses.len() > 1;
        }
    }
    Some(info)
}

/// Reads `x.license = "MIT"` / `x.licenses = ["MIT", "Apache-2.0"]` and the
/// name/version assignments when they are string literals.
fn parse_gemspec(text: &str) -> PackageInfo {
    let mut info = PackageInfo::default();
    for line in text.lines() {
        let l = line.trim();
        let Some((lhs, rhs)) = l.split_once('=') else {
            continue;
        };
        let field = lhs.trim().rsplit('.').next().unwrap_or("").trim();
        let strings = quoted_strings(rhs);
        match field {
            "name" if info.name.is_none() => info.name = strings.into_iter().next(),
            "version" if info.version.is_none() => info.version = strings.into_iter().next(),
            "license" => info.licenses = strings.into_iter().take(1).collect(),
            "licenses" => {
                info.license_is_list = strings.len() > 1;
                info.licenses = strings;
            }
            _ => {}
        }
    }
    info
}

/// The YAML gemspec inside a `.gem` (`metadata.gz`): top-level `name:`,
/// `version:` (nested under a Gem::Version object) and `licenses:` list.
pub fn parse_gem_metadata(yaml: &str) -> PackageInfo {
    let mut info = PackageInfo::default();
    let mut in_version = false;
    let mut in_licenses = false;
    for line in yaml.lines() {
        if let Some(v) = line.strip_prefix("name: ") {
            info.name = Some(unquote(v));
        } else if line.starts_with("version:") {
            in_version = true;
            continue;
        } else if in_version && line.trim_start().starts_with("version: ") {
            info.version = Some(unquote(line.trim_start().trim_start_matches("version: ")));
            in_version = false;
        } else if line.starts_with("licenses:") {
            in_licenses = true;
            continue;
        } else if in_licenses && line.starts_with("- ") {
            info.licenses.push(unquote(&line[2..]));
            continue;
        }
        if !line.starts_with(' ') {
            in_licenses = false;
        }
    }
    info.license_is_list = info.licenses.len() > 1;
    info
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'').to_string()
}

fn quoted_strings(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '"' || c == '\'' {
            let rest = &s[i + 1..];
            if let Some(end) = rest.find(c) {
                out.push(rest[..end].to_string());
                for _ in 0..=end {
                    chars.next();
                }
            } else {
                break;
            }
        } else if c == '#' {
            break;
        }
    }
    out
}

/// First line of debian/changelog: `pkg (1.2-3) unstable; urgency=medium`.
fn parse_debian_changelog(text: &str) -> Option<PackageInfo> {
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    let (name, rest) = first.split_once(" (")?;
    let (version, _) = rest.split_once(')')?;
    Some(PackageInfo {
        name: Some(name.trim().to_string()),
        version: Some(version.trim().to_string()),
        ..PackageInfo::default()
    })
}

/// Name and version of the package whose manifest sits at the top of the
/// tree (or inside a single top-level directory). Manifests are consulted
/// in the order Cargo.toml, package.json, PKG-INFO, pyproject.toml,
/// *.gemspec, debian/changelog; the first giving a name wins.
pub fn detect_name_version<'a>(
    files: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> (Option<String>, Option<String>) {
    let order = [
        "Cargo.toml",
        "package.json",
        "PKG-INFO",
        "pyproject.toml",
        ".gemspec",
        "debian/changelog",
    ];
    let mut best: Option<(usize, usize, PackageInfo)> = None;
    for (path, bytes) in files {
        let depth = path.matches('/').count();
        let rank = match order.iter().position(|o| {
            if o.starts_with('.') {
                path.ends_with(o)
            } else {
                path == *o || path.ends_with(&format!("/{o}"))
            }
        }) {
            Some(r) => r,
            None => continue,
        };
        let allowed_depth = if rank == 5 { 2 } else { 1 };
        if depth > allowed_depth {
            continue;
        }
        let key = (depth.saturating_sub(if rank == 5 { 1 } else { 0 }), rank);
        if best.as_ref().is_some_and(|(d, r, _)| (*d, *r) <= key) {
            continue;
        }
        if let Some(info) = parse_manifest(path, bytes) {
            if info.name.is_some() {
                best = Some((key.0, key.1, info));
            }
        }
    }
    match best {
        Some((_, _, info)) => (info.name, info.version),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_pkginfo_json_gemspec_changelog() {
        let c = parse_manifest("x/Cargo.toml", b"[package]\nname = \"libz-sys\"\nversion = \"1.1.20\"\nlicense = \"MIT OR Apache-2.0\"\n").unwrap();
        assert_eq!(c.name.as_deref(), Some("libz-sys"));
        assert_eq!(c.licenses, ["MIT OR Apache-2.0"]);
        let p = parse_manifest(
            "PKG-INFO",
            b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nbody: x\n",
        )
        .unwrap();
        assert_eq!(
            (p.name.as_deref(), p.version.as_deref()),
            (Some("six"), Some("1.16.0"))
        );
        assert_eq!(p.licenses[0], "MIT");
        let p = parse_manifest(
            "PKG-INFO",
            b"Name: x\nLicense: BSD\nClassifier: License :: OSI Approved :: MIT License\n",
        )
        .unwrap();
        assert_eq!(
            (p.licenses, p.fallback),
            (vec!["BSD".to_string()], vec!["MIT".to_string()])
        );
        let p = parse_manifest(
            "PKG-INFO",
            b"Name: x\nLicense-Expression: MIT OR Apache-2.0\nLicense: whatever\n",
        )
        .unwrap();
        assert_eq!(p.licenses, ["MIT OR Apache-2.0"]);
        let j = parse_manifest(
            "package.json",
            br#"{"name":"@s/x","version":"1.0.0","license":"ISC"}"#,
        )
        .unwrap();
        assert_eq!(j.licenses, ["ISC"]);
        let j = parse_manifest(
            "package.json",
            br#"{"name":"x","licenses":[{"type":"MIT"},{"type":"GPL-2.0"}]}"#,
        )
        .unwrap();
        assert!(j.license_is_list);
        let g = parse_manifest("x.gemspec", b"Gem::Specification.new do |s|\n  s.name = 'rack'\n  s.licenses = ['MIT', 'Apache-2.0'] # two\nend\n").unwrap();
        assert_eq!(g.name.as_deref(), Some("rack"));
        assert_eq!(g.licenses, ["MIT", "Apache-2.0"]);
        let d = parse_manifest(
            "debian/changelog",
            b"lz4 (1.9.4-1) unstable; urgency=medium\n\n  * x\n",
        )
        .unwrap();
        assert_eq!(d.version.as_deref(), Some("1.9.4-1"));
        let py = parse_manifest(
            "pyproject.toml",
            b"[project]\nname = \"a\"\nversion = \"2\"\nlicense = {text = \"BSD-3-Clause\"}\n",
        )
        .unwrap();
        assert_eq!(py.licenses, ["BSD-3-Clause"]);
    }

    #[test]
    fn gem_yaml() {
        let g = parse_gem_metadata("--- !ruby/object:Gem::Specification\nname: rake\nversion: !ruby/object:Gem::Version\n  version: 13.0.6\nplatform: ruby\nlicenses:\n- MIT\nsummary: x\n");
        assert_eq!(g.name.as_deref(), Some("rake"));
        assert_eq!(g.version.as_deref(), Some("13.0.6"));
        assert_eq!(g.licenses, ["MIT"]);
    }

    #[test]
    fn top_level_manifest_wins() {
        let files: Vec<(&str, &[u8])> = vec![
            (
                "vendor/x/Cargo.toml",
                b"[package]\nname=\"inner\"\nversion=\"9\"\n",
            ),
            ("package.json", br#"{"name":"outer","version":"1.0.0"}"#),
            (
                "debian/changelog",
                b"outer-deb (2-1) unstable; urgency=low\n",
            ),
        ];
        assert_eq!(
            detect_name_version(files.iter().map(|(p, b)| (*p, *b))),
            (Some("outer".into()), Some("1.0.0".into()))
        );
        let files: Vec<(&str, &[u8])> =
            vec![("debian/changelog", b"lz4 (1.9.4-1) unstable; urgency=low\n")];
        assert_eq!(
            detect_name_version(files.iter().map(|(p, b)| (*p, *b))),
            (Some("lz4".into()), Some("1.9.4-1".into()))
        );
    }
}
