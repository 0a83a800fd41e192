//! Per-file license attribution with the kind of evidence behind it.
//!
//! Evidence, strongest first: an `SPDX-License-Identifier:` line in the
//! file; a license notice in the file's leading comment; a DEP-5
//! `debian/copyright` stanza matching the path; the nearest LICENSE/COPYING
//! file or package manifest above the file; the license the caller declared.
//! Everything is normalized to an SPDX expression; what cannot be mapped to
//! SPDX identifiers without guessing is reported as unknown (`None`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use spdx::detection::{scan::Scanner, Store, TextData};

use crate::metadata;

/// What an attribution rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evidence {
    /// An `SPDX-License-Identifier:` line in the file itself.
    SpdxTag,
    /// A license notice in the file's leading comment.
    HeaderText,
    /// A `Files:` stanza of a machine-readable `debian/copyright`.
    Dep5,
    /// The nearest LICENSE/COPYING/NOTICE file in the file's directory or
    /// an ancestor.
    LicenseFile,
    /// The `license` field of the nearest package manifest.
    PackageMetadata,
    /// The license the caller declared for the whole project.
    Declared,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Evidence::SpdxTag => "spdx-tag",
            Evidence::HeaderText => "header-text",
            Evidence::Dep5 => "dep5",
            Evidence::LicenseFile => "license-file",
            Evidence::PackageMetadata => "package-metadata",
            Evidence::Declared => "declared",
        })
    }
}

/// The license of one file and why we think so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    /// A valid SPDX license expression, e.g. `MIT OR Apache-2.0`.
    pub expression: String,
    /// The kind of evidence.
    pub evidence: Evidence,
    /// The file the evidence was found in (the file itself for tags and
    /// headers; `None` for a declared license).
    pub source_path: Option<String>,
}

// ---------------------------------------------------------------------------
// Normalization

fn lower_license_map() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        spdx::identifiers::LICENSES
            .iter()
            .map(|l| (l.name.to_ascii_lowercase(), l.name))
            .collect()
    })
}

fn lower_exception_map() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        spdx::identifiers::EXCEPTIONS
            .iter()
            .map(|e| (e.name.to_ascii_lowercase(), e.name))
            .collect()
    })
}

/// Whole-string names in common use that denote exactly one SPDX license.
/// Deliberately absent: bare "BSD", "GPL", "Apache", "Artistic" — they do not
/// say which version or variant.
const WHOLE_NAMES: &[(&str, &str)] = &[
    ("mit license", "MIT"),
    ("the mit license", "MIT"),
    ("mit licence", "MIT"),
    ("expat license", "MIT"),
    ("isc license", "ISC"),
    ("apache license 2.0", "Apache-2.0"),
    ("apache license, version 2.0", "Apache-2.0"),
    ("apache license version 2.0", "Apache-2.0"),
    ("apache software license 2.0", "Apache-2.0"),
    ("apache 2.0", "Apache-2.0"),
    ("new bsd license", "BSD-3-Clause"),
    ("modified bsd license", "BSD-3-Clause"),
    ("bsd 3-clause", "BSD-3-Clause"),
    ("bsd 3-clause license", "BSD-3-Clause"),
    ("3-clause bsd license", "BSD-3-Clause"),
    ("simplified bsd license", "BSD-2-Clause"),
    ("bsd 2-clause", "BSD-2-Clause"),
    ("bsd 2-clause license", "BSD-2-Clause"),
    ("2-clause bsd license", "BSD-2-Clause"),
    ("mozilla public license 2.0", "MPL-2.0"),
    ("the unlicense", "Unlicense"),
    ("zlib license", "Zlib"),
    ("python software foundation license", "PSF-2.0"),
    ("boost software license 1.0", "BSL-1.0"),
    ("perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
];

/// Single-token aliases (Debian short names and common spellings).
fn alias(tok: &str) -> Option<&'static str> {
    Some(match tok {
        "expat" => "MIT",
        "apache-2" | "apache2" | "apache-2.0" | "asl-2.0" | "asl2.0" => "Apache-2.0",
        "mpl-2" => "MPL-2.0",
        "gpl-1" | "gplv1" => "GPL-1.0",
        "gpl-2" | "gplv2" | "gpl2" => "GPL-2.0",
        "gpl-3" | "gplv3" | "gpl3" => "GPL-3.0",
        "lgpl-2" | "lgplv2" => "LGPL-2.0",
        "lgplv2.1" | "lgpl2.1" => "LGPL-2.1",
        "lgpl-3" | "lgplv3" | "lgpl3" => "LGPL-3.0",
        "agpl-3" | "agplv3" => "AGPL-3.0",
        "gfdl-1.2" => "GFDL-1.2",
        "gfdl-1.3" => "GFDL-1.3",
        "cc0" => "CC0-1.0",
        "bsl" | "boost" => "BSL-1.0",
        "unlicense" => "Unlicense",
        "psf-2" => "PSF-2.0",
        _ => return None,
    })
}

/// Maps one license token (maybe with a trailing `+`) to an SPDX id.
fn map_license_token(tok: &str) -> Option<String> {
    let (base, plus) = match tok.strip_suffix('+') {
        Some(b) => (b, true),
        None => (tok, false),
    };
    let lower = base.to_ascii_lowercase();
    if let Some(r) = lower.strip_prefix("licenseref-") {
        let _ = r;
        return None;
    }
    let name = alias(&lower).or_else(|| lower_license_map().get(&lower).copied())?;
    let id = spdx::license_id(name)?;
    if id.is_gnu() {
        let bare = name.trim_end_matches("-only").trim_end_matches("-or-later");
        let or_later = plus || name.ends_with("-or-later") || name.ends_with('+');
        return spdx::gnu_license_id(bare, or_later).map(|i| i.name.to_string());
    }
    if plus {
        Some(format!("{}+", id.name))
    } else {
        Some(id.name.to_string())
    }
}

/// Normalizes a license name or expression to a valid SPDX expression.
///
/// Accepts SPDX ids in any case, Debian short names (`GPL-2+`, `Expat`,
/// `BSD-3-clause`), lower-case operators, `/` and `,` as written in the
/// wild, and a few unambiguous long names (`MIT License`). Returns `None`
/// for anything not mappable without guessing (`BSD`, `GPL` without a
/// version, `public-domain`, free text).
pub fn normalize(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', ';']).trim();
    if t.is_empty() || t.len() > 400 {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if let Some((_, v)) = WHOLE_NAMES.iter().find(|(k, _)| *k == lower) {
        return Some(v.to_string());
    }
    // Tokenize: parentheses and '/' are separate tokens; commas vanish.
    let spaced = t
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(',', " ")
        .replace('/', " OR ");
    let mut out: Vec<String> = Vec::new();
    let mut expect_exception = false;
    for tok in spaced.split_whitespace() {
        let up = tok.to_ascii_uppercase();
        match up.as_str() {
            "(" | ")" => out.push(tok.to_string()),
            "AND" | "OR" | "&" => out.push(if up == "&" { "AND".into() } else { up }),
            "WITH" => {
                out.push("WITH".into());
                expect_exception = true;
            }
            _ if expect_exception => {
                out.push(
                    lower_exception_map()
                        .get(&tok.to_ascii_lowercase())
                        .copied()?
                        .to_string(),
                );
                expect_exception = false;
            }
            _ => out.push(map_license_token(tok)?),
        }
    }
    let joined = out.join(" ").replace("( ", "(").replace(" )", ")");
    spdx::Expression::parse(&joined).ok()?;
    Some(joined)
}

// ---------------------------------------------------------------------------
// Evidence inside a file

/// The first valid `SPDX-License-Identifier:` expression in the file.
pub fn spdx_tag(bytes: &[u8]) -> Option<String> {
    const TAG: &[u8] = b"SPDX-License-Identifier:";
    let mut from = 0;
    while let Some(pos) = find(&bytes[from..], TAG) {
        let start = from + pos + TAG.len();
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|e| start + e)
            .unwrap_or(bytes.len());
        let line = String::from_utf8_lossy(&bytes[start..end]);
        let mut v = line.trim().to_string();
        for closer in ["*/", "-->", "*)", "\"\"\"", "'''", "#}", "%>", "-}"] {
            if let Some(i) = v.find(closer) {
                v.truncate(i);
            }
        }
        let v = v
            .trim()
            .trim_end_matches(['"', '\'', ',', ';', '`', '\\'])
            .trim();
        if let Some(e) = normalize(v) {
            return Some(e);
        }
        from = end.min(bytes.len());
        if from >= bytes.len() {
            break;
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The text of the file's leading comment block(s), comment markers
/// removed. Shebang and `<?php`/`<?xml` lines are passed over; the first
/// line of code ends the header. A Python module docstring counts.
pub fn leading_comment(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(32 * 1024)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let mut out: Vec<String> = Vec::new();
    let mut block_end: Option<&str> = None;
    for (i, raw) in text.lines().enumerate().take(300) {
        let line = raw.trim();
        if let Some(end) = block_end {
            if let Some(p) = line.find(end) {
                out.push(strip_star(&line[..p]));
                block_end = None;
            } else {
                out.push(strip_star(line));
            }
            continue;
        }
        if line.is_empty() {
            out.push(String::new());
            continue;
        }
        if i == 0 && (line.starts_with("#!") || line.starts_with("<?")) {
            continue;
        }
        if line.starts_with("<?xml") || line == "<?php" {
            continue;
        }
        let blocks = [
            ("/*", "*/"),
            ("<!--", "-->"),
            ("(*", "*)"),
            ("{-", "-}"),
            ("\"\"\"", "\"\"\""),
            ("'''", "'''"),
        ];
        if let Some((open, close)) = blocks.iter().find(|(o, _)| line.starts_with(o)) {
            let rest = line[open.len()..].trim_start_matches(['*', '!']);
            if let Some(p) = rest.find(close) {
                out.push(rest[..p].trim().to_string());
            } else {
                out.push(rest.trim().to_string());
                block_end = Some(close);
            }
            continue;
        }
        let markers = [
            "///", "//!", "//", "##", "#", "--", ";;", ";", "%", "dnl ", "REM ", "rem ",
        ];
        if let Some(m) = markers.iter().find(|m| line.starts_with(**m)) {
            out.push(line[m.len()..].trim().to_string());
            continue;
        }
        break;
    }
    out.join("\n").trim().to_string()
}

fn strip_star(line: &str) -> String {
    let l = line.trim();
    let l = l.strip_prefix('*').unwrap_or(l);
    l.trim().to_string()
}

fn collapse(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for w in text.split_whitespace() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&w.to_lowercase());
    }
    s
}

/// Recognizes the common short license notices (GNU "either version N of
/// the License, or (at your option) any later version", Apache "Licensed
/// under the Apache License, Version 2.0", MIT, MPL 2.0) in collapsed,
/// lower-cased text.
fn short_notice(t: &str) -> Option<String> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    let gnu = [
        ("gnu affero general public license", "AGPL"),
        ("gnu lesser general public license", "LGPL"),
        ("gnu library general public license", "LGPL"),
        ("gnu general public license", "GPL"),
    ];
    for (name, base) in gnu {
        let Some(pos) = t.find(name) else { continue };
        // Only the first GNU family mentioned: "GNU General Public License"
        // also appears inside LGPL notices as a reference.
        let after = &t[pos..];
        let mut cut = after.len().min(400);
        while !after.is_char_boundary(cut) {
            cut -= 1;
        }
        let window = &after[..cut];
        let version = if window.contains("version 2.1") {
            "2.1"
        } else if window.contains("version 3") {
            "3.0"
        } else if window.contains("version 2") {
            "2.0"
        } else {
            continue;
        };
        let or_later = window.contains("any later version") || window.contains("or later version");
        if let Some(id) = spdx::gnu_license_id(&format!("{base}-{version}"), or_later) {
            found.insert(id.name.to_string());
        }
        break;
    }
    if t.contains("apache license, version 2.0")
        || t.contains("apache license version 2.0")
        || t.contains("apache license 2.0")
    {
        found.insert("Apache-2.0".into());
    }
    let mit_short = [
        "under the mit license",
        "under the mit licence",
        "mit licensed",
        "licensed mit",
        "the mit license (mit)",
    ];
    if mit_short.iter().any(|m| t.contains(m))
        || (t.contains(
            "permission is hereby granted, free of charge, to any person obtaining a copy",
        ) && t.contains("shall be included in all copies or substantial portions"))
    {
        found.insert("MIT".into());
    }
    if t.contains("mozilla public license, v. 2.0")
        || t.contains("mozilla public license version 2.0")
    {
        found.insert("MPL-2.0".into());
    }
    match found.len() {
        0 => None,
        1 => found.into_iter().next(),
        _ if t.contains("at your option")
            || t.contains("dual licensed")
            || t.contains("dual-licensed")
            || t.contains(" either ") =>
        {
            Some(found.into_iter().collect::<Vec<_>>().join(" OR "))
        }
        _ => None,
    }
}

fn store() -> Option<&'static Store> {
    static STORE: OnceLock<Option<Store>> = OnceLock::new();
    STORE.get_or_init(|| Store::load_inline().ok()).as_ref()
}

/// Turns a detected store name into an id: GNU texts do not say "only" or
/// "or later" by themselves; a matched standard header says "or later".
fn detected_id(name: &str, header: bool) -> Option<String> {
    let id = spdx::license_id(name)?;
    if id.is_gnu() {
        let bare = name
            .trim_end_matches("-only")
            .trim_end_matches("-or-later")
            .trim_end_matches('+');
        return spdx::gnu_license_id(bare, header).map(|i| i.name.to_string());
    }
    Some(id.name.to_string())
}

/// Matches license text (a whole LICENSE file, or a long header comment)
/// against the SPDX license texts. Requires a confident, single match.
pub fn detect_text(text: &str, threshold: f32) -> Option<String> {
    let store = store()?;
    let data = TextData::new(text);
    let scanner = Scanner::new(store)
        .confidence_threshold(threshold)
        .optimize(true)
        .shallow_limit(0.98);
    let result = scanner.scan(&data);
    if let Some(l) = result.license {
        return detected_id(l.name, l.kind == spdx::detection::LicenseType::Header);
    }
    let names: BTreeSet<Option<String>> = result
        .containing
        .iter()
        .map(|c| {
            detected_id(
                c.license.name,
                c.license.kind == spdx::detection::LicenseType::Header,
            )
        })
        .collect();
    if names.len() == 1 {
        return names.into_iter().next().flatten();
    }
    None
}

/// The license named by a header comment: short notices first, then text
/// matching for comments that look like they hold license text.
pub fn header_license(comment: &str) -> Option<String> {
    if comment.len() < 20 {
        return None;
    }
    let t = collapse(comment);
    if let Some(e) = short_notice(&t) {
        return Some(e);
    }
    let keywords = ["licen", "permission", "redistribut", "warrant"];
    if t.len() >= 150 && keywords.iter().any(|k| t.contains(k)) {
        return detect_text(comment, 0.85);
    }
    None
}

// ---------------------------------------------------------------------------
// DEP-5

/// One `Files:` stanza of a machine-readable debian/copyright.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dep5Stanza {
    /// Glob patterns (`*` matches across `/`, `?` one character).
    pub patterns: Vec<String>,
    /// The `License:` short name as written.
    pub license: String,
    /// Its SPDX form, `None` if not mappable.
    pub expression: Option<String>,
}

/// Parses a debian/copyright in DEP-5 form; `None` if it is not one.
pub fn parse_dep5(text: &str) -> Option<Vec<Dep5Stanza>> {
    let mut paragraphs: Vec<Vec<(String, String)>> = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                paragraphs.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = cur.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        paragraphs.push(cur);
    }
    let header = paragraphs.first()?;
    let format = header.iter().find(|(k, _)| k == "format")?;
    if !(format.1.contains("copyright-format") || format.1.to_ascii_lowercase().contains("dep5")) {
        return None;
    }
    let mut out = Vec::new();
    for p in &paragraphs[1..] {
        let files = p.iter().find(|(k, _)| k == "files");
        let license = p.iter().find(|(k, _)| k == "license");
        if let (Some(f), Some(l)) = (files, license) {
            let name = l.1.lines().next().unwrap_or("").trim().to_string();
            out.push(Dep5Stanza {
                patterns: f
                    .1
                    .split_whitespace()
                    .map(|s| s.trim_start_matches("./").to_string())
                    .collect(),
                expression: normalize(&name),
                license: name,
            });
        }
    }
    Some(out)
}

/// DEP-5 wildcard match: `*` any run of characters including `/`, `?` any
/// one character, backslash escapes. A pattern without wildcards also
/// matches everything below it when it names a directory (a common
/// informal use).
pub fn dep5_match(pattern: &str, path: &str) -> bool {
    if !pattern.contains(['*', '?', '\\']) {
        let p = pattern.trim_end_matches('/');
        return path == p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/'));
    }
    let mut pat: Vec<(char, bool)> = Vec::new(); // (char, is_literal)
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                pat.push((n, true));
            }
        } else {
            pat.push((c, false));
        }
    }
    let s: Vec<char> = path.chars().collect();
    let (mut p, mut i) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while i < s.len() {
        if p < pat.len() && !pat[p].1 && pat[p].0 == '*' {
            star = Some(p);
            mark = i;
            p += 1;
        } else if p < pat.len() && ((!pat[p].1 && pat[p].0 == '?') || pat[p].0 == s[i]) {
            p += 1;
            i += 1;
        } else if let Some(sp) = star {
            p = sp + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while p < pat.len() && !pat[p].1 && pat[p].0 == '*' {
        p += 1;
    }
    p == pat.len()
}

// ---------------------------------------------------------------------------
// The resolver

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
            if info.license_is_list || info.licenses.len() != 1 {
                continue;
            }
            if let Some(e) = normalize(&info.licenses[0]) {
                let d = r.dirs.entry(dir_of(path).to_string()).or_default();
                d.package.get_or_insert((e, path.to_string()));
            }
        }
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
        if let Some(e) = spdx_tag(bytes) {
            return Some(Attribution {
                expression: e,
                evidence: Evidence::SpdxTag,
                source_path: Some(path.to_string()),
            });
        }
        let comment = leading_comment(bytes);
        if !comment.is_empty() {
            let cached = self.header_cache.lock().unwrap().get(&comment).cloned();
            let found = match cached {
                Some(f) => f,
                None => {
                    let f = header_license(&comment);
                    self.header_cache.lock().unwrap().insert(comment, f.clone());
                    f
                }
            };
            if let Some(e) = found {
                return Some(Attribution {
                    expression: e,
                    evidence: Evidence::HeaderText,
                    source_path: Some(path.to_string()),
                });
            }
        }
        // Path inside a nested archive: license files of the outer tree do
        // not describe it, so only its own tree is consulted below.
        if let Some((root, stanzas, cpath)) = self
            .dep5
            .iter()
            .find(|(root, _, _)| path.starts_with(root.as_str()))
        {
            let rel = &path[root.len()..];
            if let Some(st) = stanzas
                .iter()
                .rev()
                .find(|s| s.patterns.iter().any(|p| dep5_match(p, rel)))
            {
                return st.expression.clone().map(|e| Attribution {
                    expression: e,
                    evidence: Evidence::Dep5,
                    source_path: Some(cpath.clone()),
                });
            }
        }
        let mut dir = dir_of(path);
        loop {
            if let Some(info) = self.dirs.get(dir) {
                let distinct: BTreeSet<&String> = info.recognized.iter().map(|(e, _)| e).collect();
                if distinct.len() == 1 && info.unrecognized.is_none() {
                    let (e, p) = &info.recognized[0];
                    return Some(Attribution {
                        expression: e.clone(),
                        evidence: Evidence::LicenseFile,
                        source_path: Some(p.clone()),
                    });
                }
                if let Some((e, p)) = &info.package {
                    return Some(Attribution {
                        expression: e.clone(),
                        evidence: Evidence::PackageMetadata,
                        source_path: Some(p.clone()),
                    });
                }
                if (info.unrecognized.is_some() || distinct.len() > 1) && !dir.is_empty() {
                    // This directory carries its own, unidentified license:
                    // do not borrow one from further up.
                    return None;
                }
            }
            if dir.is_empty() {
                break;
            }
            dir = dir_of(dir);
        }
        self.declared.clone().map(|e| Attribution {
            expression: e,
            evidence: Evidence::Declared,
            source_path: None,
        })
    }
}

/// Identifies the license in a LICENSE/COPYING/NOTICE file.
fn license_file_expression(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256 * 1024)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim();
    if trimmed.len() < 120 && !trimmed.contains('\n') {
        if let Some(e) = normalize(trimmed) {
            return Some(e);
        }
    }
    if let Some(e) = spdx_tag(head) {
        return Some(e);
    }
    if trimmed.len() < 40 {
        return None;
    }
    if let Some(e) = detect_text(&text, 0.9) {
        return Some(e);
    }
    short_notice(&collapse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_common_names() {
        for (input, want) in [
            ("MIT", Some("MIT")),
            ("mit", Some("MIT")),
            ("Expat", Some("MIT")),
            ("GPL-2+", Some("GPL-2.0-or-later")),
            ("GPL-2.0+", Some("GPL-2.0-or-later")),
            ("GPL-2", Some("GPL-2.0-only")),
            ("GPL-2.0", Some("GPL-2.0-only")),
            ("LGPL-2.1+", Some("LGPL-2.1-or-later")),
            ("BSD-3-clause", Some("BSD-3-Clause")),
            ("MIT/Apache-2.0", Some("MIT OR Apache-2.0")),
            ("MIT OR Apache-2.0", Some("MIT OR Apache-2.0")),
            (
                "GPL-2+ or BSD-2-clause",
                Some("GPL-2.0-or-later OR BSD-2-Clause"),
            ),
            ("(MIT and Zlib)", Some("(MIT AND Zlib)")),
            (
                "Apache-2.0 WITH LLVM-exception",
                Some("Apache-2.0 WITH LLVM-exception"),
            ),
            ("MIT License", Some("MIT")),
            ("MPL-1.1+", Some("MPL-1.1+")),
            ("BSD", None),
            ("GPL", None),
            ("public-domain", None),
            ("GPL-2+ with OpenSSL exception", None),
            ("see LICENSE file", None),
            ("", None),
        ] {
            assert_eq!(normalize(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn spdx_tags() {
        assert_eq!(
            spdx_tag(b"// SPDX-License-Identifier: GPL-2.0+ */\nint x;").as_deref(),
            Some("GPL-2.0-or-later")
        );
        assert_eq!(
            spdx_tag(b"/* SPDX-License-Identifier: (GPL-2.0 OR BSD-3-Clause) */").as_deref(),
            Some("(GPL-2.0-only OR BSD-3-Clause)")
        );
        assert_eq!(
            spdx_tag(b"w(\"SPDX-License-Identifier: {}\", x);\n# SPDX-License-Identifier: MIT\n")
                .as_deref(),
            Some("MIT")
        );
        assert_eq!(spdx_tag(b"no tag"), None);
    }

    #[test]
    fn header_notices() {
        let gpl = b"/*\n * Copyright (C) 2001 A\n *\n * This program is free software; you can redistribute it and/or modify\n * it under the terms of the GNU General Public License as published by\n * the Free Software Foundation; either version 2 of the License, or\n * (at your option) any later version.\n */\nint x;\n";
        let c = leading_comment(gpl);
        assert!(c.starts_with("Copyright (C) 2001 A"), "{c}");
        assert_eq!(header_license(&c).as_deref(), Some("GPL-2.0-or-later"));
        let lgpl = "# This library is free software; you can redistribute it under the terms of the GNU Lesser General Public\n# License as published by the Free Software Foundation; either version 2.1 of the License, or (at your option) any later version.\n";
        assert_eq!(
            header_license(&leading_comment(lgpl.as_bytes())).as_deref(),
            Some("LGPL-2.1-or-later")
        );
        let apache = "// Licensed under the Apache License, Version 2.0 <LICENSE-APACHE or\n// http://www.apache.org/licenses/LICENSE-2.0> or the MIT license\n// <LICENSE-MIT or http://opensource.org/licenses/MIT>, at your\n// option. This file may not be copied, modified, or distributed\n// except according to those terms.\nfn main() {}\n";
        let c = leading_comment(apache.as_bytes());
        assert_eq!(short_notice(&collapse(&c)), Some("Apache-2.0".into()));
        let mit_short = "#!/usr/bin/env python\n# Released under the MIT License.\nimport os\n";
        assert_eq!(
            header_license(&leading_comment(mit_short.as_bytes())).as_deref(),
            Some("MIT")
        );
        assert_eq!(header_license("Use of this source code is governed by a BSD-style license that can be found in the LICENSE file."), None);
    }

    #[test]
    fn dep5_parsing_and_matching() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: x\n\nFiles: *\nCopyright: 2001 A\nLicense: BSD-2-clause\n\nFiles: vendor/zlib/*\n  src/inflate.?\nCopyright: 1995 J\nLicense: Zlib\n\nFiles: debian/*\nLicense: GPL-2+\n\nLicense: Zlib\n text\n";
        let st = parse_dep5(text).unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[1].patterns, ["vendor/zlib/*", "src/inflate.?"]);
        assert!(dep5_match("vendor/zlib/*", "vendor/zlib/sub/a.c"));
        assert!(dep5_match("src/inflate.?", "src/inflate.c"));
        assert!(!dep5_match("src/inflate.?", "src/inflate.cc"));
        assert!(dep5_match("*", "a/b/c"));
        assert!(dep5_match("*.h", "x/y.h"));
        assert!(dep5_match("lib", "lib/a.c"));
        assert!(!dep5_match("lib", "library/a.c"));
        assert!(parse_dep5("This is not DEP-5\n\nFiles: *\nLicense: MIT\n").is_none());
    }

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

        let r = LicenseResolver::new(&[], Some("MIT"));
        assert_eq!(r.for_file("a.c", b"").unwrap().evidence, Evidence::Declared);
        let r = LicenseResolver::new(&[], None);
        assert_eq!(r.for_file("a.c", b""), None);
    }

    #[test]
    fn dep5_beats_license_files_and_last_stanza_wins() {
        let cr = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: BSD-2-clause\n\nFiles: third_party/*\nLicense: Expat\n\nFiles: third_party/odd.c\nLicense: public-domain\n";
        let files: Vec<(&str, &[u8])> = vec![("debian/copyright", cr), ("LICENSE", b"Apache-2.0")];
        let r = LicenseResolver::new(&files, None);
        let a = r.for_file("third_party/x.c", b"int x;").unwrap();
        assert_eq!((a.expression.as_str(), a.evidence), ("MIT", Evidence::Dep5));
        assert_eq!(a.source_path.as_deref(), Some("debian/copyright"));
        assert_eq!(
            r.for_file("src/y.c", b"").unwrap().expression,
            "BSD-2-Clause"
        );
        assert_eq!(r.for_file("third_party/odd.c", b""), None);
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
