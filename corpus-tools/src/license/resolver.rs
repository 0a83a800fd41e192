//! The precedence of `license` applied to every file of one source tree.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::dep5::{dep5_match, parse_dep5, Dep5Stanza};
use super::expr::normalize;
use super::notice::{header_license, leading_comment, short_notice, spdx_tag};
use super::{expr, notice, text, Attribution, Competing, Evidence};
use crate::metadata;

/// Whether a file name is a license or notice file (`LICENSE-MIT`,
/// `COPYING.LIB`, `NOTICE.txt`…), and which.
pub fn is_license_file(file_name: &str) -> Option<LicenseFileKind> {
    let lower = file_name.to_ascii_lowercase();
    let (stem, ext) = match lower.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, e),
        _ => (lower.as_str(), ""),
    };
    const CODE: &[&str] = &[
        "rs", "py", "js", "ts", "c", "h", "cc", "cpp", "hpp", "go", "java", "rb", "php", "json",
        "toml", "yml", "yaml", "xml", "cs", "sh", "pl", "pm", "css", "scss", "tsx", "jsx", "kt",
        "swift", "erb", "tmpl", "in", "cfg", "ini", "svg", "png",
    ];
    if CODE.contains(&ext) {
        return None;
    }
    let s = if ext.is_empty() { lower.as_str() } else { stem };
    let strong = ["license", "licence", "copying", "unlicense"];
    if strong.iter().any(|p| s.starts_with(p))
        || s.ends_with("-license")
        || s.ends_with("_license")
        || lower.starts_with("license")
    {
        return Some(LicenseFileKind::License);
    }
    if s.starts_with("notice") || s.starts_with("copyright") {
        return Some(LicenseFileKind::Notice);
    }
    None
}

/// What [`is_license_file`] recognized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LicenseFileKind {
    /// LICENSE/COPYING: when unrecognized, it still shadows ancestors.
    License,
    /// NOTICE/COPYRIGHT: counts only when recognized.
    Notice,
}

/// What the license files and manifests of one directory say.
#[derive(Debug, Default)]
struct DirInfo {
    /// Recognized license files: (expression, path).
    recognized: Vec<(String, String)>,
    /// A LICENSE/COPYING file we could not identify.
    unrecognized: Option<String>,
    /// Package manifest license: (expression, manifest path).
    package: Option<(String, String)>,
}

/// Attributes licenses to the files of one source tree (one version).
///
/// Build it once from all files of the version (only license files,
/// manifests and `debian/copyright` are looked at), then ask
/// [`LicenseResolver::for_file`] for each file.
pub struct LicenseResolver {
    dirs: HashMap<String, DirInfo>,
    /// (root prefix such as "" or "pkg/", stanzas, copyright path)
    dep5: Vec<(String, Vec<Dep5Stanza>, String)>,
    declared: Option<String>,
    header_cache: Mutex<HashMap<String, Option<String>>>,
}

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

impl LicenseResolver {
    /// Prepares attribution for a tree. `declared` is the caller's license
    /// for the whole project (normalized; ignored if not valid SPDX).
    pub fn new(files: &[(&str, &[u8])], declared: Option<&str>) -> LicenseResolver {
        let mut r = LicenseResolver {
            dirs: HashMap::new(),
            dep5: Vec::new(),
            declared: declared.and_then(normalize),
            header_cache: Mutex::new(HashMap::new()),
        };
        let mut manifests: Vec<(usize, &str, &[u8])> = Vec::new();
        for (path, bytes) in files {
            let name = path.rsplit('/').next().unwrap_or(path);
            if *path == "debian/copyright" || path.ends_with("/debian/copyright") {
                if let Some(stanzas) = parse_dep5(&String::from_utf8_lossy(bytes)) {
                    let root = &path[..path.len() - "debian/copyright".len()];
                    r.dep5.push((root.to_string(), stanzas, path.to_string()));
                    continue;
                }
            }
            if let Some(kind) = is_license_file(name) {
                if dir_of(path).rsplit('/').next() == Some("debian") && name == "copyright" {
                    continue;
                }
                let expr = license_file_expression(bytes);
                let d = r.dirs.entry(dir_of(path).to_string()).or_default();
                match expr {
                    Some(e) => d.recognized.push((e, path.to_string())),
                    None if kind == LicenseFileKind::License => {
                        d.unrecognized.get_or_insert_with(|| path.to_string());
                    }
                    None => {}
                }
                continue;
            }
            if metadata::is_manifest(name) {
                let rank = ["PKG-INFO", "pyproject.toml", "Cargo.toml", "package.json"]
                    .iter()
                    .position(|n| *n == name)
                    .unwrap_or(4);
                manifests.push((rank, path, bytes));
            }
        }
        manifests.sort_by_key(|(rank, path, _)| (*rank, *path));
        for (_, path, bytes) in manifests {
            let Some(info) = metadata::parse_manifest(path, bytes) else {
                continue;
            };
            let single = |ls: &[String], list: bool| match ls {
                [one] if !list => normalize(one),
                _ => None,
            };
            let declared = single(&info.licenses, info.license_is_list)
                .or_else(|| single(&info.fallback, false));
            if let Some(e) = declared {
                let d = r.dirs.entry(dir_of(path).to_string()).or_default();
                d.package.get_or_insert((e, path.to_string()));
            }
        }
        // A `debian/copyright` inside a tree that has one at its top (or at
        // the top of the same nested archive) is part of the sources, such
        // as an upstream's own packaging template, not the statement
        // about them.
        let roots: Vec<String> = r.dep5.iter().map(|d| d.0.clone()).collect();
        r.dep5.retain(|(root, _, _)| {
            !roots.iter().any(|outer| {
                outer.len() < root.len()
                    && root.starts_with(outer.as_str())
                    && !root[outer.len()..].contains("!/")
            })
        });
        r.dep5.sort_by_key(|d| std::cmp::Reverse(d.0.len()));
        r
    }

    /// Records a package license known from outside the tree (e.g. a gem's
    /// metadata) for directory `dir` ("" for the root).
    pub fn add_package_license(&mut self, dir: &str, expression: &str, source_path: &str) {
        if let Some(e) = normalize(expression) {
            self.dirs
                .entry(dir.trim_end_matches('/').to_string())
                .or_default()
                .package
                .get_or_insert((e, source_path.to_string()));
        }
    }

    /// The license of the project as a whole: the declared one, else the
    /// package metadata nearest the root, else the `Files: *` stanza of a
    /// DEP-5 `debian/copyright`. Per-file attribution stays with
    /// [`LicenseResolver::for_file`]; this is what an SBOM names for the
    /// package.
    pub fn project_license(&self) -> Option<String> {
        if let Some(d) = &self.declared {
            return Some(d.clone());
        }
        let nearest = self
            .dirs
            .iter()
            .filter_map(|(dir, l)| l.package.as_ref().map(|(e, _)| (dir, e)))
            .min_by_key(|(dir, _)| {
                (
                    dir.matches('/').count() + usize::from(!dir.is_empty()),
                    *dir,
                )
            });
        if let Some((_, e)) = nearest {
            return Some(e.clone());
        }
        self.dep5
            .iter()
            .min_by_key(|(root, _, _)| root.len())
            .and_then(|(_, stanzas, _)| {
                stanzas
                    .iter()
                    .find(|s| s.patterns.iter().any(|p| p == "*"))
                    .and_then(|s| s.expression.clone())
            })
    }

    /// The license of one file, or `None` when nothing identifies it.
    pub fn for_file(&self, path: &str, bytes: &[u8]) -> Option<Attribution> {
        let mut all = self.evidence(path, bytes).into_iter();
        let (expression, evidence, source_path) = all.next()?;
        let key = canonical(&expression);
        let mut competing: Vec<Competing> = Vec::new();
        for (e, ev, src) in all {
            if canonical(&e) != key && !competing.iter().any(|c| c.expression == e) {
                competing.push(Competing {
                    expression: e,
                    evidence: ev,
                    source_path: src,
                });
            }
        }
        Some(Attribution {
            expression,
            evidence,
            source_path,
            competing,
        })
    }

    fn header(&self, bytes: &[u8]) -> Option<String> {
        let comment = leading_comment(bytes);
        if comment.is_empty() {
            return None;
        }
        if let Some(f) = self.header_cache.lock().unwrap().get(&comment) {
            return f.clone();
        }
        let f = header_license(&comment);
        self.header_cache.lock().unwrap().insert(comment, f.clone());
        f
    }

    /// Every piece of evidence that names a license for the file, in
    /// precedence order, at most one per kind.
    fn evidence(&self, path: &str, bytes: &[u8]) -> Vec<(String, Evidence, Option<String>)> {
        let mut out = Vec::new();
        let here = Some(path.to_string());
        if let Some(e) = spdx_tag(bytes) {
            out.push((e, Evidence::SpdxTag, here.clone()));
        }
        if let Some(e) = self.header(bytes) {
            out.push((e, Evidence::HeaderText, here));
        }
        let stanza = self.dep5_stanza(path);
        if let Some((e, true, cpath)) = &stanza {
            out.push((e.clone(), Evidence::Dep5File, Some(cpath.clone())));
        }
        // The nearest license files and manifest. A directory below the
        // root with a license file we cannot identify has its own terms:
        // nothing further up (metadata, declared) speaks for it.
        let mut license_file = None;
        let mut package = None;
        let mut blocked = false;
        let mut dir = dir_of(path);
        loop {
            if let Some(info) = self.dirs.get(dir) {
                if package.is_none() {
                    package = info.package.clone();
                }
                let distinct: BTreeSet<&String> = info.recognized.iter().map(|(e, _)| e).collect();
                let has_license = !info.recognized.is_empty() || info.unrecognized.is_some();
                if license_file.is_none() && has_license {
                    if distinct.len() == 1 && info.unrecognized.is_none() {
                        license_file = Some(info.recognized[0].clone());
                    } else if !dir.is_empty() {
                        // Unidentified, or several texts whose combination
                        // is not stated: only this directory's own
                        // manifest may say more.
                        blocked = true;
                        break;
                    }
                }
                if license_file.is_some() && package.is_some() {
                    break;
                }
                if license_file.is_none() && package.is_some() {
                    // A manifest marks a package boundary: license files
                    // further up belong to the enclosing project.
                    break;
                }
            }
            if dir.is_empty() {
                break;
            }
            dir = dir_of(dir);
        }
        if let Some((e, p)) = license_file {
            out.push((e, Evidence::LicenseFile, Some(p)));
        }
        if let Some((e, false, cpath)) = stanza {
            out.push((e, Evidence::Dep5, Some(cpath)));
        }
        if let Some((e, p)) = package {
            out.push((e, Evidence::PackageMetadata, Some(p)));
        }
        if !blocked {
            if let Some(e) = &self.declared {
                out.push((e.clone(), Evidence::Declared, None));
            }
        }
        out
    }

    /// The license of the DEP-5 stanza that covers `path` (the last one
    /// that matches, as DEP-5 says), whether its pattern names the file
    /// itself, and the copyright file's path. A path inside a nested
    /// archive answers to that archive's own `debian/copyright` only.
    fn dep5_stanza(&self, path: &str) -> Option<(String, bool, String)> {
        let (root, stanzas, cpath) = self
            .dep5
            .iter()
            .find(|(root, _, _)| path.starts_with(root.as_str()))?;
        let rel = &path[root.len()..];
        let (st, exact) = stanzas.iter().rev().find_map(|s| {
            let hits: Vec<&String> = s.patterns.iter().filter(|p| dep5_match(p, rel)).collect();
            (!hits.is_empty()).then(|| (s, hits.iter().any(|p| p.as_str() == rel)))
        })?;
        Some((st.expression.clone()?, exact, cpath.clone()))
    }
}

/// An expression's requirements, sorted, so `MIT OR Apache-2.0` and
/// `Apache-2.0 OR MIT` compare equal.
fn canonical(expression: &str) -> String {
    match spdx::Expression::parse(expression) {
        Ok(e) => {
            let mut r: Vec<String> = e.requirements().map(|r| r.req.to_string()).collect();
            r.sort();
            let ops = if expression.contains(" AND ") {
                "&"
            } else {
                "|"
            };
            format!("{ops}{}", r.join(","))
        }
        Err(_) => expression.to_string(),
    }
}

/// Identifies the license in a LICENSE/COPYING/NOTICE file: a bare name
/// or SPDX tag, else the full text (a GNU text alone gives `-only`: it
/// does not say whether later versions apply), else a notice.
pub fn license_file_expression(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256 * 1024)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim();
    if trimmed.len() < 120 && !trimmed.contains('\n') {
        if let Some(e) = expr::normalize(trimmed) {
            return Some(e);
        }
    }
    if let Some(e) = spdx_tag(head) {
        return Some(e);
    }
    if trimmed.len() < 40 {
        return None;
    }
    text_license(&text)
}

/// The license a text states: one full license text (with a GNU exception
/// text beside it), else a granting notice. Used for license files and for
/// the stand-alone paragraphs of debian/copyright.
pub(crate) fn text_license(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let d = text::detect_licenses(text);
    if let Some(id) = d.single() {
        // Words beyond the matched text that name other licenses ("dual
        // licensed under Apache 2.0 and MIT; this part is BSD") make the
        // file a description of several licenses, not one.
        if d.unexplained >= 15 {
            let named = notice::named_licenses(&notice::collapse(text));
            let own = expr::license_ids(id);
            if named.iter().any(|n| expr::license_ids(n) != own) {
                return None;
            }
        }
        if id.contains("GPL") {
            if let Some(x) = notice::notice_exception(text) {
                return expr::with_exception(id, x);
            }
        }
        return Some(id.to_string());
    }
    if !d.found.is_empty() || trimmed.len() > 4000 {
        // Several texts in one file: how they combine is not written. A
        // long file that is no known text is not read as a notice either:
        // compilations mention many licenses.
        return None;
    }
    // A notice grants: "licensed under", "under the terms of". A file that
    // only describes a project's licensing ("files in lib use a BSD
    // 2-Clause license, all others GPLv2") names licenses without granting
    // one to this directory.
    let t = notice::collapse(text);
    let grants = [
        "licensed under",
        "under the terms of",
        "released under",
        "distributed under",
        "available under",
        "is free software",
        "subject to the terms",
    ];
    if !grants.iter().any(|g| t.contains(g)) {
        return None;
    }
    short_notice(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_priorities_and_scoping() {
        let files: Vec<(&str, &[u8])> = vec![
            ("LICENSE", b"MIT"),
            ("Cargo.toml", b"[package]\nname=\"x\"\nversion=\"1.0.0\"\nlicense=\"MIT OR Apache-2.0\"\n"),
            ("vendor/z/LICENSE", b"Zlib"),
            ("vendor/odd/COPYING", b"Some bespoke terms nobody has ever seen before, and they are long enough to read."),
            ("vendor/pkg/package.json", br#"{"name":"p","license":"ISC"}"#),
        ];
        let r = LicenseResolver::new(&files, Some("Apache-2.0"));
        let at = |p: &str, b: &[u8]| {
            r.for_file(p, b)
                .map(|a| (a.expression, a.evidence, a.source_path))
        };
        assert_eq!(
            at("src/a.rs", b"fn a() {}"),
            Some(("MIT".into(), Evidence::LicenseFile, Some("LICENSE".into())))
        );
        assert_eq!(
            at("vendor/z/deep/b.c", b"int b;"),
            Some((
                "Zlib".into(),
                Evidence::LicenseFile,
                Some("vendor/z/LICENSE".into())
            ))
        );
        assert_eq!(
            at("vendor/odd/c.c", b"int c;"),
            None,
            "own unidentified license blocks inheritance"
        );
        assert_eq!(
            at("vendor/pkg/i.js", b"x"),
            Some((
                "ISC".into(),
                Evidence::PackageMetadata,
                Some("vendor/pkg/package.json".into())
            ))
        );
        assert_eq!(
            at("src/t.rs", b"// SPDX-License-Identifier: GPL-3.0-only\n")
                .unwrap()
                .1,
            Evidence::SpdxTag
        );

        let files: Vec<(&str, &[u8])> = vec![
            ("LICENSE-MIT", b"MIT"),
            ("LICENSE-APACHE", b"Apache-2.0"),
            (
                "Cargo.toml",
                b"[package]\nname=\"x\"\nlicense=\"MIT OR Apache-2.0\"\n",
            ),
        ];
        let r = LicenseResolver::new(&files, None);
        let a = r.for_file("src/lib.rs", b"").unwrap();
        assert_eq!(
            (a.expression.as_str(), a.evidence),
            ("MIT OR Apache-2.0", Evidence::PackageMetadata)
        );

        // PKG-INFO: a License field that names nothing falls back to the
        // classifier.
        let files: Vec<(&str, &[u8])> = vec![(
            "PKG-INFO",
            b"Name: x\nLicense: BSD\nClassifier: License :: OSI Approved :: MIT License\n",
        )];
        let a = LicenseResolver::new(&files, None)
            .for_file("x.py", b"")
            .unwrap();
        assert_eq!(
            (a.expression.as_str(), a.evidence),
            ("MIT", Evidence::PackageMetadata)
        );

        let r = LicenseResolver::new(&[], Some("MIT"));
        assert_eq!(r.for_file("a.c", b"").unwrap().evidence, Evidence::Declared);
        let r = LicenseResolver::new(&[], None);
        assert_eq!(r.for_file("a.c", b""), None);
    }

    #[test]
    fn a_stanza_naming_the_file_beats_the_directorys_license_file() {
        // lz4 1.9.4: `examples/COPYING` is the GPL, and Debian names two of
        // the examples as BSD-2-clause, as their own headers say.
        let cr = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: BSD-2-clause\n\nFiles: examples/compress_functions.c\n examples/simple_buffer.c\nLicense: BSD-2-clause\n";
        let files: Vec<(&str, &[u8])> = vec![
            ("debian/copyright", cr),
            ("examples/COPYING", b"GPL-2.0-only"),
        ];
        let r = LicenseResolver::new(&files, None);
        let a = r.for_file("examples/simple_buffer.c", b"").unwrap();
        assert_eq!(
            (a.expression.as_str(), a.evidence),
            ("BSD-2-Clause", Evidence::Dep5File)
        );
        assert_eq!(a.competing[0].evidence, Evidence::LicenseFile);
        // A file the stanzas cover only by `*` follows the license file.
        let a = r.for_file("examples/frameCompress.c", b"").unwrap();
        assert_eq!(
            (a.expression.as_str(), a.evidence),
            ("GPL-2.0-only", Evidence::LicenseFile)
        );
    }

    #[test]
    fn a_packaging_template_inside_the_sources_is_not_debians_statement() {
        let top = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: BSD-2-clause\n";
        let template = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n";
        let files: Vec<(&str, &[u8])> = vec![
            ("debian/copyright", top),
            ("contrib/debian/copyright", template),
            ("vendor/inner.tar.gz!/pkg/debian/copyright", template),
        ];
        let r = LicenseResolver::new(&files, None);
        let a = r.for_file("contrib/meson/meson.build", b"").unwrap();
        assert_eq!(
            (a.expression.as_str(), a.evidence),
            ("BSD-2-Clause", Evidence::Dep5)
        );
        // A nested archive's own debian/copyright still speaks for it.
        let a = r.for_file("vendor/inner.tar.gz!/pkg/src/a.c", b"").unwrap();
        assert_eq!(
            (a.expression.as_str(), a.evidence),
            ("GPL-2.0-or-later", Evidence::Dep5)
        );
        // Without a top one, a nested debian/copyright is all there is.
        let alone: Vec<(&str, &[u8])> = vec![("pkg/debian/copyright", template)];
        let a = LicenseResolver::new(&alone, None)
            .for_file("pkg/src/a.c", b"")
            .unwrap();
        assert_eq!(a.expression, "GPL-2.0-or-later");
    }

    #[test]
    fn license_file_beats_dep5_which_competes() {
        let cr = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: BSD-2-clause\n\nFiles: third_party/*\nLicense: Expat\n\nFiles: third_party/odd.c\nLicense: public-domain\n";
        let files: Vec<(&str, &[u8])> =
            vec![("debian/copyright", cr), ("src/LICENSE", b"Apache-2.0")];
        let r = LicenseResolver::new(&files, Some("Zlib"));
        // No license file above: the last matching stanza decides, the
        // declared license competes.
        let a = r.for_file("third_party/x.c", b"int x;").unwrap();
        assert_eq!((a.expression.as_str(), a.evidence), ("MIT", Evidence::Dep5));
        assert_eq!(a.source_path.as_deref(), Some("debian/copyright"));
        assert_eq!(
            a.competing,
            [Competing {
                expression: "Zlib".into(),
                evidence: Evidence::Declared,
                source_path: None
            }]
        );
        // The nearest license file outranks the stanza, which competes.
        let a = r.for_file("src/y.c", b"").unwrap();
        assert_eq!(
            (a.expression.as_str(), a.evidence),
            ("Apache-2.0", Evidence::LicenseFile)
        );
        assert_eq!(a.competing[0].expression, "BSD-2-Clause");
        assert_eq!(a.competing[0].evidence, Evidence::Dep5);
        // An unmappable stanza gives no DEP-5 evidence.
        assert_eq!(
            r.for_file("third_party/odd.c", b"").unwrap().evidence,
            Evidence::Declared
        );
        // A file's own notice outranks everything and agreeing evidence is
        // not listed.
        let a = r
            .for_file("src/z.c", b"// SPDX-License-Identifier: Apache-2.0\nint z;")
            .unwrap();
        assert_eq!(a.evidence, Evidence::SpdxTag);
        assert_eq!(
            a.competing.iter().map(|c| c.evidence).collect::<Vec<_>>(),
            [Evidence::Dep5, Evidence::Declared]
        );
    }

    #[test]
    fn a_file_describing_several_licenses_names_none() {
        let bsd3 = spdx::license_id("BSD-3-Clause").unwrap().text();
        let text = format!("This crate is dual licensed under the Apache 2.0 license as well as the MIT license.\n\n---\n\nsrc/parse.rs is based on code under a 3-clause BSD license:\n\n{bsd3}");
        assert_eq!(license_file_expression(text.as_bytes()), None);
        assert_eq!(
            license_file_expression(bsd3.as_bytes()).as_deref(),
            Some("BSD-3-Clause")
        );
    }

    #[test]
    fn full_license_texts_are_detected() {
        let mit = "Copyright (c) 2020 Somebody\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n";
        assert_eq!(
            license_file_expression(mit.as_bytes()).as_deref(),
            Some("MIT")
        );
        let bsd3 = spdx::license_id("BSD-3-Clause").unwrap().text();
        assert_eq!(
            license_file_expression(bsd3.as_bytes()).as_deref(),
            Some("BSD-3-Clause")
        );
    }

    #[test]
    fn project_license_prefers_declared_then_root_metadata_then_dep5() {
        let cargo =
            b"[package]\nname = \"a\"\nversion = \"1.0.0\"\nlicense = \"MIT OR Apache-2.0\"\n";
        let inner = b"[package]\nname = \"b\"\nversion = \"1.0.0\"\nlicense = \"GPL-2.0-only\"\n";
        let dep5 = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2020 A\nLicense: BSD-3-clause\n\nFiles: deps/lua/*\nCopyright: 1994 B\nLicense: MIT\n";
        let files: Vec<(&str, &[u8])> =
            vec![("a-1.0/Cargo.toml", cargo), ("a-1.0/sub/Cargo.toml", inner)];
        assert_eq!(
            LicenseResolver::new(&files, None)
                .project_license()
                .as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            LicenseResolver::new(&files, Some("Zlib"))
                .project_license()
                .as_deref(),
            Some("Zlib")
        );
        let deb: Vec<(&str, &[u8])> = vec![("debian/copyright", dep5), ("src/a.c", b"int a;")];
        assert_eq!(
            LicenseResolver::new(&deb, None)
                .project_license()
                .as_deref(),
            Some("BSD-3-Clause")
        );
        assert_eq!(
            LicenseResolver::new(&[("a.c", b"int a;")], None).project_license(),
            None
        );
    }
}
