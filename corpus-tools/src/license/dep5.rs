//! Machine-readable `debian/copyright` (DEP-5): `Files:` stanzas, and the
//! license short names they use resolved to SPDX expressions.
//!
//! A short name is resolved, in order: through its standard Debian meaning
//! (`GPL-2+`, `Expat`, `BSD-3-clause`…; see `expr`), with `with … exception`
//! wordings turned into `WITH` and `or`/`and` kept as operators; when the
//! name is not a standard one (`Go`, `BSD-3-clause-google`), through the
//! text of its stand-alone `License:` paragraph, which defines it. An
//! exception the words do not identify ("linking exception") is read from
//! that paragraph's text too. Whatever stays unresolved is unknown.

use std::collections::HashMap;

use super::{expr, text};

/// One `Files:` stanza of a machine-readable debian/copyright.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dep5Stanza {
    /// Glob patterns (`*` matches across `/`, `?` one character).
    pub patterns: Vec<String>,
    /// The `License:` short name as written.
    pub license: String,
    /// Its SPDX form, `None` if not resolvable.
    pub expression: Option<String>,
}

type Paragraph = Vec<(String, String)>;

fn paragraphs(text: &str) -> Vec<Paragraph> {
    let mut out: Vec<Paragraph> = Vec::new();
    let mut cur: Paragraph = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = cur.last_mut() {
                let l = line.trim();
                last.1.push('\n');
                // A lone "." is DEP-5's empty line inside a field.
                if l != "." {
                    last.1.push_str(l);
                }
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits a `License:` field value into its name (first line) and the
/// text that follows, if any.
fn name_and_text(value: &str) -> (String, Option<String>) {
    let mut lines = value.splitn(2, '\n');
    let name = lines.next().unwrap_or("").trim().to_string();
    let body = lines.next().map(str::trim).filter(|b| !b.is_empty());
    (name, body.map(str::to_string))
}

/// Resolves license short names of one debian/copyright.
struct Names<'a> {
    /// Lower-cased short name → defining text (stand-alone paragraphs).
    texts: &'a HashMap<String, String>,
}

impl Names<'_> {
    /// The license a defining text states: a full text, else a notice.
    fn from_text(text: &str) -> Option<String> {
        super::resolver::text_license(text)
    }

    /// One operand: `short [with words]`.
    fn operand(&self, op: &str, text: Option<&str>) -> Option<String> {
        let op = op.trim().trim_matches(['(', ')']).trim();
        let lower = op.to_ascii_lowercase();
        let own_text = self.texts.get(&lower).map(String::as_str).or(text);
        let (short, words) = match lower.find(" with ") {
            Some(i) => (op[..i].trim(), Some(op[i + 6..].trim())),
            None => (op, None),
        };
        let base = expr::normalize(short).or_else(|| {
            let t = self
                .texts
                .get(&short.to_ascii_lowercase())
                .map(String::as_str)
                .or(own_text)?;
            Self::from_text(t)
        })?;
        let Some(words) = words else {
            return Some(base);
        };
        let exception = expr::exception_from_words(words, &base).or_else(|| {
            let t = own_text?;
            match text::detect_exceptions(t).found.as_slice() {
                [one] => Some(one.id),
                _ => None,
            }
        })?;
        expr::with_exception(&base, exception)
    }

    /// A whole `License:` field: operands joined by `or`/`and`, with
    /// `, and` / `, or` binding loosest (DEP-5 §7.2). A comma not followed
    /// by an operator is part of the name.
    fn field(&self, name: &str, text: Option<&str>) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        for (sep, op) in [(", and ", "AND"), (", or ", "OR")] {
            if lower.contains(sep) {
                let parts: Option<Vec<String>> = split_ci(name, sep)
                    .into_iter()
                    .map(|p| self.field(p, text))
                    .collect();
                return expr::join(&parts?, op);
            }
        }
        for (sep, op) in [(" or ", "OR"), (" and ", "AND")] {
            // `with` binds tighter: "GPL-2 with linking exception or MIT".
            if lower.contains(sep) {
                let parts: Option<Vec<String>> = split_ci(name, sep)
                    .into_iter()
                    .map(|p| self.field(p, text))
                    .collect();
                return expr::join(&parts?, op);
            }
        }
        self.operand(name, text)
    }
}

/// Splits `s` at every case-insensitive occurrence of the ASCII `sep`.
fn split_ci<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let lower = s.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    for (i, _) in lower.match_indices(sep) {
        out.push(&s[from..i]);
        from = i + sep.len();
    }
    out.push(&s[from..]);
    out
}

/// Resolves one `License:` short name (or expression of short names) of a
/// debian/copyright whose stand-alone paragraphs are given.
pub fn resolve_name(
    name: &str,
    text: Option<&str>,
    texts: &HashMap<String, String>,
) -> Option<String> {
    Names { texts }.field(name, text)
}

/// Parses a debian/copyright in DEP-5 form; `None` if it is not one.
pub fn parse_dep5(text: &str) -> Option<Vec<Dep5Stanza>> {
    let paragraphs = paragraphs(text);
    let header = paragraphs.first()?;
    let format = header.iter().find(|(k, _)| k == "format")?;
    if !(format.1.contains("copyright-format") || format.1.to_ascii_lowercase().contains("dep5")) {
        return None;
    }
    let mut texts: HashMap<String, String> = HashMap::new();
    for p in &paragraphs[1..] {
        if p.iter().any(|(k, _)| k == "files") {
            continue;
        }
        if let Some((_, v)) = p.iter().find(|(k, _)| k == "license") {
            if let (name, Some(body)) = name_and_text(v) {
                texts.entry(name.to_ascii_lowercase()).or_insert(body);
            }
        }
    }
    let mut out = Vec::new();
    for p in &paragraphs[1..] {
        let files = p.iter().find(|(k, _)| k == "files");
        let license = p.iter().find(|(k, _)| k == "license");
        if let (Some(f), Some(l)) = (files, license) {
            let (name, body) = name_and_text(&l.1);
            out.push(Dep5Stanza {
                patterns: f
                    .1
                    .split_whitespace()
                    .map(|s| s.trim_start_matches("./").to_string())
                    .collect(),
                expression: resolve_name(&name, body.as_deref(), &texts),
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn short_names_resolve_through_their_paragraphs() {
        let bsd3 = spdx::license_id("BSD-3-Clause").unwrap().text();
        let body: String = bsd3
            .lines()
            .map(|l| {
                if l.trim().is_empty() {
                    " .".to_string()
                } else {
                    format!(" {l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let cr = format!("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2009 The Go Authors\nLicense: Go\n\nFiles: a/*\nLicense: GPL-2+ with Autoconf exception or Expat\n\nFiles: b/*\nLicense: Custom\n\nFiles: c/*\nLicense: LGPL-2.1+, and BSD-3-clause\n\nLicense: Go\n{body}\n");
        let st = parse_dep5(&cr).unwrap();
        let exprs: Vec<Option<&str>> = st.iter().map(|s| s.expression.as_deref()).collect();
        assert_eq!(
            exprs,
            [
                Some("BSD-3-Clause"),
                Some("(GPL-2.0-or-later WITH Autoconf-exception-2.0) OR MIT"),
                None,
                Some("LGPL-2.1-or-later AND BSD-3-Clause"),
            ]
        );
    }

    #[test]
    fn linking_exception_comes_from_the_paragraph_text() {
        let cr = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2009 the libgit2 contributors\nLicense: GPL-2 with linking exception, origin admission\n\nLicense: GPL-2 with linking exception, origin admission\n libgit2 is Copyright (C) the libgit2 contributors.\n .\n            LINKING EXCEPTION\n .\n In addition to the permissions in the GNU General Public License,\n the authors give you unlimited permission to link the compiled\n version of this library into combinations with other programs,\n and to distribute those combinations without any restriction\n coming from the use of this file.  (The General Public License\n restrictions do apply in other respects; for example, they cover\n modification of the file, and distribution when not linked into\n a combined executable.)\n";
        let st = parse_dep5(cr).unwrap();
        assert_eq!(
            st[0].expression.as_deref(),
            Some("GPL-2.0-only WITH GCC-exception-2.0")
        );
        // Without a text the words alone do not say which exception.
        let bare = cr.split("\n\nLicense:").next().unwrap();
        assert_eq!(parse_dep5(bare).unwrap()[0].expression, None);
    }
}
