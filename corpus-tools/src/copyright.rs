//! Copyright statements found in a file.
//!
//! Recognizes `Copyright (C) 1999-2020 Name`, `Copyright 2001 Name`,
//! `© 2001 Name`, `(c) 2001 Name` and `SPDX-FileCopyrightText:` lines,
//! strips comment markers and de-duplicates. Passes over code that merely
//! mentions the word (`copyright = ...`, `self.copyright`) and license
//! boilerplate ("the above copyright notice", "copyright holders").

/// Statements are cut to this many characters.
const MAX_LEN: usize = 200;

/// Words that, right after "copyright", mark boilerplate rather than a
/// statement.
const BOILERPLATE: &[&str] = &[
    "notice",
    "notices",
    "holder",
    "holders",
    "owner",
    "owners",
    "law",
    "laws",
    "statement",
    "statements",
    "and",
    "or",
    "of",
    "to",
    "is",
    "in",
    "on",
    "for",
    "the",
    "this",
    "that",
    "license",
    "licence",
    "information",
    "info",
    "protection",
    "claim",
    "claims",
    "interest",
    "act",
    "file",
    "line",
    "lines",
    "text",
    "header",
    "headers",
    "year",
    "years",
    "date",
    "not",
    "by",
    "&",
    "as",
    "assignment",
    "disclaimer",
    "policy",
    "permission",
    "infringement",
    "status",
];

/// Extracts the copyright statements of a file, in order of appearance,
/// without duplicates.
pub fn extract(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for raw in text.lines() {
        if raw.len() > 2000 {
            continue; // minified code, data
        }
        let lower = raw.to_lowercase();
        if !(lower.contains("copyright") || raw.contains('©') || lower.contains("(c)")) {
            continue;
        }
        let line = strip_comment(raw);
        if let Some(s) = statement(&line) {
            let key = dedupe_key(&s);
            if seen.insert(key) {
                out.push(s);
            }
        }
    }
    out
}

fn strip_comment(raw: &str) -> String {
    let mut l = raw.trim();
    for open in [
        "/**", "/*!", "/*", "<!--", "(*", "{-", "\"\"\"", "'''", "///", "//!", "//", "##", "#",
        "--", ";;", ";", "%", "dnl ", "REM ", "*",
    ] {
        if let Some(r) = l.strip_prefix(open) {
            l = r.trim_start();
            break;
        }
    }
    let mut s = l.to_string();
    for close in ["*/", "-->", "*)", "-}", "\"\"\"", "'''"] {
        if let Some(i) = s.find(close) {
            s.truncate(i);
        }
    }
    s.trim().to_string()
}

fn is_year_start(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 4
        && b[..4].iter().all(u8::is_ascii_digit)
        && (b[0] == b'1' || b[0] == b'2')
        && (b.len() == 4 || !b[4].is_ascii_digit())
}

/// Finds a statement in one comment-stripped line.
fn statement(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("SPDX-FileCopyrightText:") {
        let v = rest.trim();
        if v.is_empty() {
            return None;
        }
        let lower = v.to_lowercase();
        let s = if lower.starts_with("copyright") || v.starts_with('©') || lower.starts_with("(c)")
        {
            v.to_string()
        } else {
            format!("Copyright {v}")
        };
        return Some(finish(&s));
    }
    let lower = line.to_lowercase();
    // "Copyright" as a word.
    let mut search = 0;
    while let Some(p) = lower[search..].find("copyright") {
        let start = search + p;
        search = start + "copyright".len();
        let before = lower[..start].chars().next_back();
        if before.is_some_and(|c| {
            c.is_alphanumeric()
                || c == '_'
                || c == '.'
                || c == '$'
                || c == '@'
                || c == '"'
                || c == '\''
        }) {
            continue;
        }
        let after = &line[search..];
        let after_lower = &lower[search..];
        if after_lower.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // copyrighted, copyright_holder
        }
        let mut rest = after.trim_start();
        // "Copyright:" (DEP-5 style) is fine when a year or name follows.
        if let Some(r) = rest.strip_prefix(':') {
            rest = r.trim_start();
        }
        if rest.starts_with([
            '=', '(', '[', '{', ')', ',', ';', '.', '"', '\'', '<', '>', '-', '+', '|', '`',
        ]) && !marker_start(rest)
        {
            continue;
        }
        let mut body = rest;
        let mut has_marker = false;
        loop {
            let b = body.trim_start();
            if let Some(r) = strip_marker(b) {
                body = r;
                has_marker = true;
            } else {
                body = b;
                break;
            }
        }
        let first_word: String = body.split_whitespace().next().unwrap_or("").to_lowercase();
        let first_word = first_word.trim_matches(|c: char| !c.is_alphanumeric() && c != '&');
        // "Copyright The Go Authors" names a holder; "copyright the above" does not.
        let named_the = body.starts_with("The ")
            && body[4..].starts_with(|c: char| c.is_uppercase())
            && !body[4..].to_lowercase().starts_with("copyright");
        if body.is_empty()
            || first_word.is_empty()
            || (BOILERPLATE.contains(&first_word) && !named_the)
        {
            continue;
        }
        if is_template(body) {
            continue;
        }
        let starts_upper_or_year =
            is_year_start(body) || body.starts_with(|c: char| c.is_uppercase());
        if !(has_marker || starts_upper_or_year) {
            continue;
        }
        return Some(finish(&line[start..]));
    }
    // "© 2001 Name" / "(c) 2001 Name" without the word.
    for marker in ["©", "(c)", "(C)"] {
        if let Some(p) = line.find(marker) {
            if marker != "©" {
                let before = line[..p].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
            }
            let body = line[p + marker.len()..].trim_start();
            if is_year_start(body) && body[4..].trim_start().len() > 1 && !is_template(body) {
                return Some(finish(&line[p..]));
            }
        }
    }
    None
}

fn marker_start(s: &str) -> bool {
    strip_marker(s).is_some()
}

fn strip_marker(s: &str) -> Option<&str> {
    for m in ["(c)", "(C)", "©", "&copy;", "(ɔ)"] {
        if let Some(r) = s.strip_prefix(m) {
            return Some(r);
        }
    }
    None
}

/// Placeholders of license templates ("Copyright [yyyy] [name of copyright
/// owner]", "Copyright (c) <year> <copyright holders>").
fn is_template(body: &str) -> bool {
    let l = body.to_lowercase();
    [
        "<year>",
        "[yyyy]",
        "yyyy",
        "<name",
        "[name",
        "{year}",
        "<copyright",
        "[fullname]",
        "${",
        "%s",
        "{}",
    ]
    .iter()
    .any(|t| l.contains(t))
}

/// Collapses whitespace, drops "All rights reserved." and trailing
/// punctuation, caps the length.
fn finish(s: &str) -> String {
    let mut t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = t.to_lowercase();
    if let Some(i) = lower.find("all rights reserved") {
        t.truncate(i);
    }
    let mut t = t
        .trim()
        .trim_end_matches([',', ';', '.', ':', '*', '/', '#', '-'])
        .trim()
        .to_string();
    if t.chars().count() > MAX_LEN {
        t = t.chars().take(MAX_LEN).collect();
    }
    t
}

fn dedupe_key(s: &str) -> String {
    s.to_lowercase()
        .replace("(c)", "©")
        .replace("copyright ©", "©")
        .replace("copyright", "©")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_statements_in_comments() {
        let src = b"/*\n * Copyright (C) 1999-2020 Jane Doe <jane@example.org>\n * Copyright (c) 2001 Acme, Inc. All rights reserved.\n */\n# (c) 2005 John Roe\n// \xc2\xa9 2010 The Foo Authors\n// SPDX-FileCopyrightText: 2019 Free Software Foundation\n// Copyright The Go Authors\n";
        assert_eq!(
            extract(src),
            [
                "Copyright (C) 1999-2020 Jane Doe <jane@example.org>",
                "Copyright (c) 2001 Acme, Inc",
                "(c) 2005 John Roe",
                "© 2010 The Foo Authors",
                "Copyright 2019 Free Software Foundation",
                "Copyright The Go Authors",
            ]
        );
    }

    #[test]
    fn ignores_code_and_boilerplate() {
        let src = b"copyright = '2001 me'\nself.copyright = x\nconst COPYRIGHT: &str = \"\";\nget_copyright(c)\n * The above copyright notice and this permission notice shall be included\n * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS\n * Copyright [yyyy] [name of copyright owner]\n * Copyright (c) <year> <copyright holders>\nx = f(c) + 2001\n * copyrighted material\n";
        assert!(extract(src).is_empty(), "{:?}", extract(src));
    }

    #[test]
    fn deduplicates() {
        let src = b"// Copyright (c) 2001 A\n// Copyright (C) 2001 A\n# Copyright  (c)   2001 A\n";
        assert_eq!(extract(src), ["Copyright (c) 2001 A"]);
    }

    #[test]
    fn dep5_copyright_fields() {
        assert_eq!(
            extract(b"Copyright: 1995-2017 Jean-loup Gailly and Mark Adler\n"),
            ["Copyright: 1995-2017 Jean-loup Gailly and Mark Adler"]
        );
    }
}
