//! Ground truth of a real case, derived at run time: the target's manifest
//! says which directories hold which origin; inside them each file is paired
//! with the origin file of the longest common path suffix, and a line diff
//! (patience) says which of its lines are copies of which origin lines. The
//! license of an origin file is its DEP-5 stanza (Debian origins) or the
//! license its package declares (crates, PyPI, npm).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};

use super::cases::{Case, Manifest};
use super::tree::{lines, Tree};

/// A file's share of lines that must be copies for the file to count as a
/// copy (below it, the path match is a rewrite or a different file).
const MIN_COPIED_SHARE: f64 = 0.3;
/// Share of a target file's lines its namesake in the origin must explain
/// for no other origin file to be sought.
const NAMED_EXPLAINS: f64 = 0.9;
/// How many more lines another origin file must explain than the
/// namesake to be the one copied.
const CLEARLY_MORE: f64 = 1.25;

/// (project, path): how findings and truth name an origin file.
pub type OriginKey = (String, String);

/// One copied target file.
pub struct Copy {
    pub origin: OriginKey,
    /// Index of the origin in the case's origins.
    pub origin_ix: usize,
    /// Copied non-blank target lines → the origin line they equal (1-based).
    pub lines: BTreeMap<usize, usize>,
    pub minified: bool,
    /// SPDX license of the origin file; `None` when the truth source does
    /// not say (then the file is left out of license accuracy).
    pub license: Option<String>,
}

/// Where the manifest says an origin's copies are.
#[derive(Debug)]
pub struct Scope {
    pub origin: usize,
    /// A directory (its files) or one file of the target.
    pub target: String,
    /// Only origin files under this directory are candidates ("" = all).
    pub origin_dir: String,
}

pub struct Truth {
    pub scopes: Vec<Scope>,
    /// Copies, by target path.
    pub copies: BTreeMap<String, Copy>,
    /// Files inside a vendored directory that match no origin file (a build
    /// product of the origin not in its package, a file the vendoring
    /// added): their truth is unknown, so they are left out of the scores.
    pub unknown: BTreeSet<String>,
}

/// Whether a line carries content (blank lines are not counted anywhere).
pub fn content(line: &str) -> bool {
    !line.trim().is_empty()
}

/// Minified or bundled: a `.min.` name or lines too long to be written by hand.
pub fn minified(path: &str, text: &str) -> bool {
    let ls = lines(text);
    let long = text.len() / ls.len().max(1) > 300;
    path.contains(".min.") || long
}

pub fn derive(case: &Case, target: &Tree, origins: &[Tree]) -> anyhow::Result<Truth> {
    let scopes = scopes(case, target, origins)?;
    let licenses: Vec<OriginLicenses> = origins.iter().map(OriginLicenses::new).collect();
    let mut copies = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    for f in &target.files {
        let Some(scope) = scopes.iter().find(|s| under(&f.path, &s.target)) else {
            continue;
        };
        let origin = &origins[scope.origin];
        let tl = lines(&f.text);
        let n = tl.iter().filter(|l| content(l)).count();
        let named = correspond(&f.path, &f.text, scope, origin)
            .filter(|(_, _, in_order)| n > 0 && *in_order as f64 >= MIN_COPIED_SHARE * n as f64);
        // The file of the same name may hold only part of the target: a
        // bundle shipped under the name of one of its parts (Django's
        // `xregexp.js` is xregexp's `xregexp-all.js`, which holds
        // `src/xregexp.js` and its addons). Then the origin file that
        // explains clearly more of the target's lines is the one copied.
        let found = match named {
            Some(named) if (named.2 as f64) < NAMED_EXPLAINS * n as f64 => {
                match by_content(&f.path, &f.text, scope, origin) {
                    Some(other) if other.2 as f64 > CLEARLY_MORE * named.2 as f64 => Some(other),
                    _ => Some(named),
                }
            }
            Some(named) => Some(named),
            None => by_content(&f.path, &f.text, scope, origin),
        };
        let Some((opath, pairs, _)) = found else {
            unknown.insert(f.path.clone());
            continue;
        };
        copies.insert(
            f.path.clone(),
            Copy {
                origin: (origin.project.clone(), opath.clone()),
                origin_ix: scope.origin,
                lines: pairs,
                minified: minified(&f.path, &f.text),
                license: licenses[scope.origin].of(&opath),
            },
        );
    }
    Ok(Truth {
        scopes,
        copies,
        unknown,
    })
}

/// For a file whose name is not in the origin (a renamed build product,
/// such as `xregexp-all.js` shipped as `xregexp.js`): the origin file of
/// the same extension sharing the most distinct lines, if it is a copy.
fn by_content(
    tpath: &str,
    ttext: &str,
    scope: &Scope,
    origin: &Tree,
) -> Option<(String, BTreeMap<usize, usize>, usize)> {
    let ext = |p: &str| p.rsplit_once('.').map(|(_, e)| e.to_string());
    let want = ext(tpath)?;
    let tset: HashSet<&str> = lines(ttext)
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if tset.is_empty() {
        return None;
    }
    let best = origin
        .files
        .iter()
        .filter(|o| {
            !o.path.starts_with("debian/")
                && (scope.origin_dir.is_empty() || under(&o.path, &scope.origin_dir))
                && ext(&o.path).as_deref() == Some(want.as_str())
        })
        .map(|o| {
            let shared: HashSet<&str> = lines(&o.text)
                .into_iter()
                .map(str::trim)
                .filter(|l| tset.contains(l))
                .collect();
            (shared.len(), o)
        })
        .max_by_key(|(n, _)| *n)?;
    if (best.0 as f64) < MIN_COPIED_SHARE * tset.len() as f64 {
        return None;
    }
    let (pairs, in_order) = aligned(ttext, &best.1.text);
    let n = lines(ttext).iter().filter(|l| content(l)).count();
    (in_order as f64 >= MIN_COPIED_SHARE * n as f64).then(|| (best.1.path.clone(), pairs, in_order))
}

fn under(path: &str, scope: &str) -> bool {
    path == scope || path.starts_with(&format!("{scope}/"))
}

/// Pairs a target file with the origin file of the longest common path
/// suffix (then the most copied lines); returns it with the line pairs.
fn correspond(
    tpath: &str,
    ttext: &str,
    scope: &Scope,
    origin: &Tree,
) -> Option<(String, BTreeMap<usize, usize>, usize)> {
    let tparts: Vec<&str> = tpath.split('/').collect();
    let base = *tparts.last()?;
    let mut best: Option<(usize, usize, String, BTreeMap<usize, usize>)> = None;
    let mut candidates: Vec<(usize, &str)> = origin
        .files
        .iter()
        .filter(|o| {
            !o.path.starts_with("debian/")
                && (scope.origin_dir.is_empty() || under(&o.path, &scope.origin_dir))
                && o.path.rsplit('/').next() == Some(base)
        })
        .map(|o| {
            let common = o
                .path
                .split('/')
                .rev()
                .zip(tparts.iter().rev())
                .take_while(|(a, b)| a == *b)
                .count();
            (common, o.path.as_str())
        })
        .collect();
    let top = candidates.iter().map(|c| c.0).max()?;
    candidates.retain(|c| c.0 == top);
    for (common, opath) in candidates.into_iter().take(12) {
        let otext = &origin.file(opath)?.text;
        let (pairs, in_order) = aligned(ttext, otext);
        let better = best
            .as_ref()
            .is_none_or(|b| (common, in_order) > (b.0, b.1));
        if better {
            best = Some((common, in_order, opath.to_string(), pairs));
        }
    }
    best.map(|(_, in_order, p, pairs)| (p, pairs, in_order))
}

/// Non-blank target lines equal to an origin line in a patience diff:
/// target line → origin line, both 1-based. Lines are compared without
/// their whitespace: a copy reformatted (`#if` become `# if`, re-indented,
/// spaces around operators) is still the copied line. A diff pairs lines in
/// one order only, so a block the newer release moved elsewhere in the file
/// (lz4 1.10.0's `lz4hc.c` against 1.9.4 moved whole functions) would count
/// as not copied: stretches the diff left unpaired are then looked up in
/// the whole origin file, and a run of at least [`MOVED_MIN_LINES`]
/// non-blank lines (and [`MOVED_MIN_CHARS`] characters) equal to a run of
/// the origin is copied too.
///
/// Returns the pairs and how many of them the diff gave: whether a file is
/// a copy at all ([`MIN_COPIED_SHARE`]) is judged on those alone.
pub fn aligned(target: &str, origin: &str) -> (BTreeMap<usize, usize>, usize) {
    let squash = |l: &str| -> String { l.split_whitespace().collect() };
    let t: Vec<String> = lines(target).into_iter().map(squash).collect();
    let o: Vec<String> = lines(origin).into_iter().map(squash).collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut out = BTreeMap::new();
    for op in capture_diff_slices_deadline(Algorithm::Patience, &o, &t, Some(deadline)) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                if !t[new_index + k].is_empty() {
                    out.insert(new_index + k + 1, old_index + k + 1);
                }
            }
        }
    }
    let in_order = out.len();
    moved_blocks(&t, &o, &mut out);
    (out, in_order)
}

/// See [`aligned`].
const MOVED_MIN_LINES: usize = 3;
const MOVED_MIN_CHARS: usize = 40;
/// Origin places tried per target line (`}` is everywhere).
const MOVED_MAX_PLACES: usize = 64;

/// Adds to `pairs` the runs of unpaired target lines equal to a run of
/// origin lines anywhere (see [`aligned`]); lines squashed, 0-based in,
/// 1-based in `pairs`.
fn moved_blocks(t: &[String], o: &[String], pairs: &mut BTreeMap<usize, usize>) {
    let mut places: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, line) in o.iter().enumerate() {
        if !line.is_empty() {
            places.entry(line).or_default().push(j);
        }
    }
    let unpaired =
        |i: usize, pairs: &BTreeMap<usize, usize>| t[i].is_empty() || !pairs.contains_key(&(i + 1));
    let mut i = 0;
    while i < t.len() {
        if t[i].is_empty() || !unpaired(i, pairs) {
            i += 1;
            continue;
        }
        // The longest run of unpaired target lines from i equal to the
        // origin from one of its places.
        let mut best: Option<(usize, usize)> = None; // (run length, origin start)
        for &j in places
            .get(t[i].as_str())
            .into_iter()
            .flatten()
            .take(MOVED_MAX_PLACES)
        {
            let mut n = 0;
            while i + n < t.len()
                && j + n < o.len()
                && t[i + n] == o[j + n]
                && unpaired(i + n, pairs)
            {
                n += 1;
            }
            if best.is_none_or(|(m, _)| n > m) {
                best = Some((n, j));
            }
        }
        let Some((n, j)) = best else {
            i += 1;
            continue;
        };
        let content: Vec<usize> = (i..i + n).filter(|&k| !t[k].is_empty()).collect();
        let chars: usize = content.iter().map(|&k| t[k].len()).sum();
        if content.len() >= MOVED_MIN_LINES && chars >= MOVED_MIN_CHARS {
            for k in content {
                pairs.insert(k + 1, j + (k - i) + 1);
            }
            i += n;
        } else {
            i += 1;
        }
    }
}

/// The scopes the target's manifest states, each tied to an origin.
fn scopes(case: &Case, target: &Tree, origins: &[Tree]) -> anyhow::Result<Vec<Scope>> {
    let read = |path: &str| -> anyhow::Result<&str> {
        target
            .file(path)
            .map(|f| f.text.as_str())
            .with_context(|| format!("{}: no {path} (the case's manifest)", case.target))
    };
    let by_name = |name: &str| case.origins.iter().position(|o| o.name == name);
    let mut out = Vec::new();
    match case.manifest {
        Manifest::BuildRs(path) => {
            let build = read(path)?;
            for (ix, origin) in origins.iter().enumerate() {
                let dir = locate(target, origin, "").with_context(|| {
                    format!("{}: no directory holds {}", case.name, origin.spec)
                })?;
                let last = dir.rsplit('/').next().unwrap_or(&dir);
                if !build.contains(&format!("\"{last}")) && !build.contains(&format!("{last}/")) {
                    bail!("{}: {path} does not name {dir}", case.name);
                }
                out.push(Scope {
                    origin: ix,
                    target: dir,
                    origin_dir: String::new(),
                });
            }
        }
        Manifest::VendorTxt(path) => {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for line in read(path)?.lines() {
                let spec = line.split('#').next().unwrap_or("").trim();
                let Some((name, version)) = spec.split_once("==") else {
                    continue;
                };
                let Some(ix) = by_name(name) else { continue };
                let want = case.origins[ix].spec.rsplit("==").next().unwrap_or("");
                if want != version {
                    bail!(
                        "{}: {path} pins {name} {version}, the case indexes {want}",
                        case.name
                    );
                }
                let module = format!("{dir}/{name}.py");
                let target_path = if target.file(&module).is_some() {
                    module
                } else {
                    format!("{dir}/{name}")
                };
                out.push(Scope {
                    origin: ix,
                    target: target_path,
                    origin_dir: String::new(),
                });
            }
        }
        Manifest::GoModules(path) => {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for line in read(path)?.lines() {
                let mut w = line.split_whitespace();
                if w.next() != Some("#") {
                    continue;
                }
                let Some(module) = w.next() else { continue };
                if let Some(ix) = by_name(module) {
                    out.push(Scope {
                        origin: ix,
                        target: format!("{dir}/{module}"),
                        origin_dir: String::new(),
                    });
                }
            }
        }
        Manifest::MergeTxt(path) => {
            let text = read(path)?;
            let ls: Vec<&str> = text.lines().collect();
            for (i, l) in ls.iter().enumerate() {
                if !l.trim_start().starts_with("Sub-tree") {
                    continue;
                }
                let Some(sub) = ls.get(i + 1).map(|s| s.trim()) else {
                    continue;
                };
                let Some(ix) = by_name(sub) else { continue };
                let dir = locate(target, &origins[ix], sub).with_context(|| {
                    format!(
                        "{}: no directory holds {sub} of {}",
                        case.name, origins[ix].spec
                    )
                })?;
                out.push(Scope {
                    origin: ix,
                    target: dir,
                    origin_dir: sub.to_string(),
                });
            }
        }
        Manifest::Composer(path) => {
            let json: serde_json::Value = serde_json::from_str(read(path)?)
                .with_context(|| format!("{}: {path} is not JSON", case.name))?;
            let packages = json["packages"]
                .as_array()
                .or_else(|| json.as_array())
                .with_context(|| format!("{}: {path} has no packages", case.name))?;
            for p in packages {
                let Some(name) = p["name"].as_str() else {
                    continue;
                };
                if let Some(ix) = by_name(name) {
                    out.push(Scope {
                        origin: ix,
                        target: format!("vendor/{name}"),
                        origin_dir: String::new(),
                    });
                }
            }
        }
        Manifest::Dep5 => {
            for stanza in dep5(read("debian/copyright")?) {
                let dirs: Vec<&str> = stanza
                    .files
                    .iter()
                    .map(|p| p.trim_end_matches("/*").trim_end_matches('*'))
                    .collect();
                let Some(first) = dirs.first() else { continue };
                if dirs.iter().any(|d| d != first) {
                    continue;
                }
                if let Some(ix) = by_name(first.trim_end_matches('/')) {
                    out.push(Scope {
                        origin: ix,
                        target: first.trim_end_matches('/').to_string(),
                        origin_dir: String::new(),
                    });
                }
            }
        }
        Manifest::VendorDirs => {
            let mut dirs: Vec<(usize, String)> = Vec::new();
            for f in &target.files {
                let parts: Vec<&str> = f.path.split('/').collect();
                for (i, w) in parts.windows(2).enumerate() {
                    if w[0] != "vendor" {
                        continue;
                    }
                    if let Some(ix) = by_name(w[1]) {
                        let d = parts[..i + 2].join("/");
                        if !dirs.iter().any(|(_, x)| *x == d) {
                            dirs.push((ix, d));
                        }
                    }
                }
            }
            for (ix, d) in dirs {
                out.push(Scope {
                    origin: ix,
                    target: d,
                    origin_dir: String::new(),
                });
            }
        }
    }
    for (ix, o) in case.origins.iter().enumerate() {
        if !out.iter().any(|s| s.origin == ix) {
            bail!("{}: the manifest names no copy of {}", case.name, o.spec);
        }
    }
    Ok(out)
}

/// The target directory that holds most files of `origin` under
/// `origin_dir`: each origin file votes, for each target file of its name
/// that shares at least half of its lines, for the target path minus the
/// common path suffix (crates flatten `src/`, so the whole relative path
/// need not be there).
fn locate(target: &Tree, origin: &Tree, origin_dir: &str) -> Option<String> {
    let mut by_base: HashMap<&str, Vec<&super::tree::TextFile>> = HashMap::new();
    for f in &target.files {
        let base = f.path.rsplit('/').next().unwrap_or(&f.path);
        by_base.entry(base).or_default().push(f);
    }
    let mut votes: HashMap<String, usize> = HashMap::new();
    for o in &origin.files {
        if o.path.starts_with("debian/") {
            continue;
        }
        let rel = if origin_dir.is_empty() {
            o.path.as_str()
        } else if let Some(r) = o.path.strip_prefix(&format!("{origin_dir}/")) {
            r
        } else {
            continue;
        };
        let base = rel.rsplit('/').next().unwrap_or(rel);
        let Some(same_name) = by_base.get(base) else {
            continue;
        };
        let olines: HashSet<&str> = lines(&o.text).into_iter().map(str::trim).collect();
        for t in same_name {
            let tl: Vec<&str> = lines(&t.text)
                .into_iter()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let shared = tl.iter().filter(|l| olines.contains(*l)).count();
            if tl.is_empty() || shared * 2 < tl.len() {
                continue;
            }
            let rparts: Vec<&str> = rel.split('/').collect();
            let tparts: Vec<&str> = t.path.split('/').collect();
            let common = rparts
                .iter()
                .rev()
                .zip(tparts.iter().rev())
                .take_while(|(a, b)| a == b)
                .count();
            if tparts.len() > common {
                let dir = tparts[..tparts.len() - common].join("/");
                *votes.entry(dir).or_default() += 1;
            }
        }
    }
    votes
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.len().cmp(&a.0.len())))
        .map(|(d, _)| d)
}

/// One `Files:` stanza of a DEP-5 file.
pub struct Stanza {
    pub files: Vec<String>,
    pub license: String,
}

/// The `Files:` stanzas of a machine-readable `debian/copyright`, in order
/// (empty when it is not DEP-5).
pub fn dep5(text: &str) -> Vec<Stanza> {
    if !text.lines().next().unwrap_or("").starts_with("Format:") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let mut files: Vec<String> = Vec::new();
        let mut license = None;
        let mut field = "";
        for line in para.lines() {
            if line.starts_with(' ') || line.starts_with('\t') {
                if field == "files" {
                    files.extend(line.split_whitespace().map(String::from));
                }
                continue;
            }
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            field = "";
            match k.trim().to_ascii_lowercase().as_str() {
                "files" => {
                    field = "files";
                    files.extend(v.split_whitespace().map(String::from));
                }
                "license" => license = Some(v.trim().to_string()),
                _ => {}
            }
        }
        if let (false, Some(license)) = (files.is_empty(), license) {
            out.push(Stanza { files, license });
        }
    }
    out
}

/// DEP-5 glob: `*` matches any run of characters (`/` included), `?` one;
/// a pattern without wildcards also matches the files of a directory.
fn glob(pattern: &str, path: &str) -> bool {
    fn rec(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], s) || (!s.is_empty() && rec(p, &s[1..])),
            (Some(b'?'), Some(_)) => rec(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &s[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), path.as_bytes())
        || (!pattern.contains(['*', '?']) && path.starts_with(&format!("{pattern}/")))
}

/// Debian and other common names of licenses that are not SPDX ids.
const LICENSE_NAMES: &[(&str, &str)] = &[
    ("expat", "MIT"),
    ("bsd-3-clause", "BSD-3-Clause"),
    ("bsd-2-clause", "BSD-2-Clause"),
    ("apache-2", "Apache-2.0"),
    ("apache 2.0", "Apache-2.0"),
    ("gpl-2+", "GPL-2.0-or-later"),
    ("gpl-2", "GPL-2.0-only"),
    ("gpl-3+", "GPL-3.0-or-later"),
    ("gpl-3", "GPL-3.0-only"),
    ("lgpl-2.1+", "LGPL-2.1-or-later"),
    ("lgpl-2.1", "LGPL-2.1-only"),
    ("lgpl-3+", "LGPL-3.0-or-later"),
    ("lgpl-3", "LGPL-3.0-only"),
    ("mpl-2.0", "MPL-2.0"),
    ("zlib", "Zlib"),
    // Trove classifiers of PKG-INFO.
    ("mit license", "MIT"),
    ("apache software license", "Apache-2.0"),
    ("isc license (iscl)", "ISC"),
    ("python software foundation license", "PSF-2.0"),
];

/// One license name (a DEP-5 short name, a classifier, an SPDX id) as an
/// SPDX id, if it names exactly one.
fn spdx_name(name: &str) -> Option<String> {
    let n = name.trim();
    let lower = n.to_ascii_lowercase();
    if let Some((_, id)) = LICENSE_NAMES.iter().find(|(k, _)| *k == lower) {
        return Some(id.to_string());
    }
    spdx::license_id(n).map(|l| l.name.to_string())
}

/// A license field (`A or B`, `A and B`, SPDX expressions) as SPDX, if each
/// part maps.
pub fn spdx_expression(field: &str) -> Option<String> {
    let field = field.trim().trim_matches(|c| c == '(' || c == ')');
    if field.is_empty() {
        return None;
    }
    for op in [" or ", " OR ", " and ", " AND "] {
        if field.contains(op) {
            let parts: Option<Vec<String>> = field.split(op).map(spdx_expression).collect();
            let joined = parts?.join(&format!(" {} ", op.trim().to_ascii_uppercase()));
            return Some(joined);
        }
    }
    spdx_name(field)
}

/// Licenses of an origin's files.
struct OriginLicenses {
    stanzas: Vec<Stanza>,
    declared: Option<String>,
}

impl OriginLicenses {
    fn new(origin: &Tree) -> OriginLicenses {
        let stanzas = origin
            .file("debian/copyright")
            .map(|f| dep5(&f.text))
            .unwrap_or_default();
        OriginLicenses {
            declared: if stanzas.is_empty() {
                declared(origin)
            } else {
                None
            },
            stanzas,
        }
    }

    fn of(&self, path: &str) -> Option<String> {
        if self.stanzas.is_empty() {
            return self.declared.clone();
        }
        let stanza = self
            .stanzas
            .iter()
            .rev()
            .find(|s| s.files.iter().any(|p| glob(p, path)))?;
        spdx_expression(&stanza.license)
    }
}

/// The license the package declares: `Cargo.toml` `license`,
/// `package.json` `license`, PKG-INFO `License-Expression`, `License` (when
/// an SPDX id) or one license classifier.
fn declared(origin: &Tree) -> Option<String> {
    if let Some(f) = origin.file("package.json") {
        let json: serde_json::Value = serde_json::from_str(&f.text).ok()?;
        return json["license"].as_str().and_then(spdx_expression);
    }
    if let Some(f) = origin.file("Cargo.toml") {
        let line = f
            .text
            .lines()
            .find(|l| l.trim_start().starts_with("license ="))?;
        let v = line.split_once('=')?.1.trim().trim_matches('"');
        return spdx_expression(&v.replace('/', " OR "));
    }
    let f = origin.file("PKG-INFO")?;
    let field = |name: &str| {
        f.text
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    if let Some(e) = field("License-Expression:") {
        return spdx_expression(&e);
    }
    if let Some(e) = field("License:").and_then(|l| spdx_expression(&l)) {
        return Some(e);
    }
    let classifiers: Vec<&str> = f
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("Classifier: License :: "))
        .map(|c| c.rsplit(" :: ").next().unwrap_or(c))
        .collect();
    match classifiers.as_slice() {
        [one] => spdx_expression(one),
        _ => None,
    }
}

/// Canonical form for comparing two SPDX expressions: case, parentheses
/// and the order of `OR` terms do not matter.
pub fn same_license(a: &str, b: &str) -> bool {
    fn canon(s: &str) -> String {
        let s = s.to_ascii_uppercase().replace(['(', ')'], " ");
        let s = s.replace("+", "-OR-LATER");
        let mut terms: Vec<String> = s
            .split(" OR ")
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        terms.sort();
        terms.join(" OR ")
    }
    canon(a) == canon(b)
}
