//! License evidence inside a source file: `SPDX-License-Identifier:` tags
//! and the license notices of leading comments.
//!
//! Notices are read by rules before any text matching: the standard
//! headers name a license, its version and whether later versions may be
//! used ("or (at your option) any later version"), which no full license
//! text says. Every license a notice names is kept, so a header offering
//! three licenses gives a three-way `OR`, not one of them.

use super::expr::normalize;
use super::text;

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
    header(bytes).0
}

/// How many lines from the top of the file its header holds: the leading
/// comment block(s) of [`leading_comment`] and the blank lines among them.
/// A match that lies within them matched a license notice, which every
/// file of a project repeats, not code.
pub fn header_lines(bytes: &[u8]) -> u32 {
    header(bytes).1
}

/// The leading comment's text ([`leading_comment`]) and the lines it spans
/// ([`header_lines`]), in one pass, for a caller that needs both.
pub fn header(bytes: &[u8]) -> (String, u32) {
    let head = &bytes[..bytes.len().min(32 * 1024)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let mut out: Vec<String> = Vec::new();
    let mut block_end: Option<&str> = None;
    for (i, raw) in text.lines().enumerate().take(300) {
        let spanned = i as u32;
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
        // C preprocessor lines (in C headers, assembly, resource scripts)
        // are code, though `#` starts a comment in the shell.
        let directive = [
            "include", "define", "if", "ifdef", "ifndef", "pragma", "import",
        ]
        .iter()
        .any(|d| {
            line.strip_prefix('#')
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix(d))
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '(', '<', '"']))
        });
        if directive {
            return (out.join("\n").trim().to_string(), spanned);
        }
        let markers = [
            "///", "//!", "//", "##", "#", "--", ";;", ";", "%", "dnl ", "REM ", "rem ",
        ];
        if let Some(m) = markers.iter().find(|m| line.starts_with(**m)) {
            out.push(line[m.len()..].trim().to_string());
            continue;
        }
        return (out.join("\n").trim().to_string(), spanned);
    }
    let lines = text.lines().take(300).count() as u32;
    (out.join("\n").trim().to_string(), lines)
}

fn strip_star(line: &str) -> String {
    let l = line.trim();
    let l = l.strip_prefix('*').unwrap_or(l);
    l.trim().to_string()
}

pub(crate) fn collapse(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for w in text.split_whitespace() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&w.to_lowercase());
    }
    s
}

/// A license named in a notice, at a byte offset of the collapsed text.
#[derive(Clone, Debug)]
struct Mention {
    at: usize,
    /// Version-qualified base name, e.g. `GPL-2.0`, `MPL-1.1`, `MIT`.
    base: String,
    /// GNU licenses: the notice allows later versions.
    or_later: bool,
}

/// Families whose notices name a version after the license name.
const VERSIONED: &[(&str, &str, &[&str])] = &[
    ("gnu affero general public license", "AGPL", &["3.0"]),
    (
        "gnu lesser general public license",
        "LGPL",
        &["2.1", "3.0", "2.0"],
    ),
    (
        "gnu library general public license",
        "LGPL",
        &["2.0", "2.1"],
    ),
    ("gnu general public license", "GPL", &["2.0", "3.0", "1.0"]),
    ("mozilla public license", "MPL", &["2.0", "1.1", "1.0"]),
    ("eclipse public license", "EPL", &["2.0", "1.0"]),
    ("apache license", "Apache", &["2.0", "1.1", "1.0"]),
    (
        "common development and distribution license",
        "CDDL",
        &["1.0", "1.1"],
    ),
];

/// Phrases that name one license outright.
const FIXED: &[(&str, &str)] = &[
    ("mit license", "MIT"),
    ("mit licence", "MIT"),
    ("mit licensed", "MIT"),
    ("licensed mit", "MIT"),
    ("expat license", "MIT"),
    ("isc license", "ISC"),
    ("apache 2.0 license", "Apache-2.0"),
    ("apache-2.0", "Apache-2.0"),
    ("bsd 3-clause", "BSD-3-Clause"),
    ("3-clause bsd", "BSD-3-Clause"),
    ("new bsd license", "BSD-3-Clause"),
    ("bsd 2-clause", "BSD-2-Clause"),
    ("2-clause bsd", "BSD-2-Clause"),
    ("simplified bsd license", "BSD-2-Clause"),
    ("boost software license, version 1.0", "BSL-1.0"),
    ("the unlicense", "Unlicense"),
];

/// The version written right after a license name: `version 2.1`, `v2`,
/// `, v. 2.0`, `2.0`. Only the first few words are read, so a version
/// further on belongs to something else.
fn version_after(window: &str, allowed: &[&str]) -> Option<&'static str> {
    let head: String = window.chars().take(60).collect();
    let head = head
        .replace("version", " ")
        .replace("v.", " ")
        .replace(['(', ')', ',', ';', '"'], " ");
    let first = head
        .split_whitespace()
        .take(4)
        .map(|w| w.trim_start_matches('v').trim_end_matches('.'))
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let v = match first {
        "1" | "1.0" => "1.0",
        "1.1" => "1.1",
        "2" | "2.0" => "2.0",
        "2.1" => "2.1",
        "3" | "3.0" => "3.0",
        _ => return None,
    };
    allowed.iter().find(|a| **a == v).map(|_| v)
}

fn mentions(t: &str) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    for (name, _, _) in VERSIONED {
        starts.extend(t.match_indices(name).map(|(i, _)| i));
    }
    starts.sort_unstable();
    for (name, base, versions) in VERSIONED {
        for (at, _) in t.match_indices(name) {
            // GNU notices say "either version 2 of the License, or …": the
            // version may follow the name after a few words.
            let from = at + name.len();
            let next = starts.iter().copied().find(|s| *s > at).unwrap_or(t.len());
            let mut end = next.min(from + 200);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            let window = &t[from..end];
            let gnu = base.ends_with("GPL");
            let version = version_after(window, versions).or_else(|| {
                if !gnu {
                    return None;
                }
                let p = window.find("version ")?;
                version_after(&window[p..], versions)
            });
            let Some(v) = version else { continue };
            let or_later = gnu
                && ["any later version", "or later", "or any later", "or newer"]
                    .iter()
                    .any(|p| window.contains(p));
            out.push(Mention {
                at,
                base: format!("{base}-{v}"),
                or_later,
            });
        }
    }
    for (phrase, id) in FIXED {
        if let Some(at) = t.find(phrase) {
            out.push(Mention {
                at,
                base: id.to_string(),
                or_later: false,
            });
        }
    }
    let mit_text = "permission is hereby granted, free of charge, to any person obtaining a copy";
    if let Some(at) = t.find(mit_text) {
        if t.contains("shall be included in all copies or substantial portions") {
            out.push(Mention {
                at,
                base: "MIT".into(),
                or_later: false,
            });
        }
    }
    out.sort_by_key(|m| m.at);
    out
}

fn mention_id(m: &Mention) -> Option<String> {
    if m.base.contains("GPL-") {
        return spdx::gnu_license_id(&m.base, m.or_later).map(|i| i.name.to_string());
    }
    spdx::license_id(&m.base)
        .filter(|i| !i.is_deprecated())
        .map(|i| i.name.to_string())
}

/// Every license a text names with a version (or names outright), as SPDX
/// ids, whatever the wording around it.
pub(crate) fn named_licenses(t: &str) -> Vec<String> {
    let mut out: Vec<String> = mentions(t).iter().filter_map(mention_id).collect();
    out.sort();
    out.dedup();
    out
}

/// Reads the licenses a notice names (in collapsed, lower-cased text) and
/// how they combine. Several licenses combine by `OR` when the notice
/// offers a choice ("alternatively", "at your option", "dual licensed",
/// "either … or"); otherwise their relation is not stated and the notice
/// is unknown.
pub(crate) fn short_notice(t: &str) -> Option<String> {
    let ms = mentions(t);
    // One entry per license; a later mention of the same GNU license
    // without "or later" (e.g. "see the GNU GPL version 2 for details")
    // does not take back the permission given once.
    let mut ids: Vec<(String, bool)> = Vec::new();
    for m in &ms {
        match ids.iter_mut().find(|(b, _)| *b == m.base) {
            Some(e) => e.1 |= m.or_later,
            None => ids.push((m.base.clone(), m.or_later)),
        }
    }
    let resolved: Vec<String> = ids
        .iter()
        .filter_map(|(base, or_later)| {
            mention_id(&Mention {
                at: 0,
                base: base.clone(),
                or_later: *or_later,
            })
        })
        .collect();
    if resolved.len() != ids.len() {
        return None;
    }
    match resolved.len() {
        0 => None,
        1 => resolved.into_iter().next(),
        _ if [
            "alternatively",
            "at your option",
            "at your choice",
            "dual licensed",
            "dual-licensed",
            "either",
            "choose",
            "one of the",
        ]
        .iter()
        .any(|c| t.contains(c)) =>
        {
            super::expr::join(&resolved, "OR")
        }
        _ => None,
    }
}

/// A GNU license exception stated in a notice ("As a special exception…",
/// "In addition to the permissions in the GNU General Public License…"),
/// as an SPDX exception id.
pub(crate) fn notice_exception(comment: &str) -> Option<&'static str> {
    let t = collapse(comment);
    if !(t.contains("special exception")
        || t.contains("in addition to the permissions")
        || t.contains("exception"))
    {
        return None;
    }
    let d = text::detect_exceptions(comment);
    match d.found.as_slice() {
        [one] => Some(one.id),
        _ => None,
    }
}

/// A notice may sit beside a whole license text (hunspell's files: the
/// Mozilla tri-license block, then MySpell's BSD-style terms). The text
/// binds too: a known one is added with `AND`; an unknown one makes the
/// header unknown, since the notice alone would drop its conditions.
fn with_texts_beside(comment: &str, t: &str, notice: String) -> Option<String> {
    let grants = [
        "redistribution and use in source and binary forms",
        "permission is hereby granted",
        "permission to use, copy, modify",
    ];
    let mut result = notice;
    if grants.iter().any(|g| t.contains(g)) {
        let d = text::detect_licenses(comment);
        if d.found.is_empty() {
            return None;
        }
        let named = super::expr::license_ids(&result);
        let mut parts = vec![result.clone()];
        for f in &d.found {
            let ids = super::expr::license_ids(f.id);
            if !ids.iter().all(|i| named.contains(i)) {
                parts.push(f.id.to_string());
            }
        }
        result = super::expr::join(&parts, "AND")?;
    }
    if !result.contains(' ') && result.contains("GPL") {
        if let Some(e) = notice_exception(comment) {
            return super::expr::with_exception(&result, e);
        }
    }
    Some(result)
}

/// The license named by a header comment: notice rules first, then text
/// matching for comments that hold a license text.
pub fn header_license(comment: &str) -> Option<String> {
    if comment.len() < 20 {
        return None;
    }
    let t = collapse(comment);
    if let Some(n) = short_notice(&t) {
        return with_texts_beside(comment, &t, n);
    }
    let keywords = ["licen", "permission", "redistribut", "warrant"];
    if t.len() < 150 || !keywords.iter().any(|k| t.contains(k)) {
        return None;
    }
    let found = text::detect_text(comment)?;
    if found.contains("GPL") {
        if let Some(e) = notice_exception(comment) {
            return super::expr::with_exception(&found, e);
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_lines_span_the_leading_comment_and_stop_at_code() {
        let go_asm = b"// Copyright 2018 The Go Authors. All rights reserved.\n// Use of this source code is governed by a BSD-style\n// license that can be found in the LICENSE file.\n\n//go:build gc && !purego\n\n#include \"textflag.h\"\n\nTEXT \xc2\xb7f(SB), NOSPLIT, $0\n";
        assert_eq!(super::header_lines(go_asm), 6);
        let c = b"/*\n * Copyright (c) 2020 Example\n * SPDX-License-Identifier: MIT\n */\n#include <stdio.h>\nint x;\n";
        assert_eq!(super::header_lines(c), 4);
        assert_eq!(super::header_lines(b"int main(void) { return 0; }\n"), 0);
        let sh = b"#!/bin/sh\n# Copyright 2001 Someone\n# GPL-2.0-or-later\necho hi\n";
        assert_eq!(super::header_lines(sh), 3);
        // A file that is all comment is all header.
        assert_eq!(super::header_lines(b"// one\n// two\n"), 2);
    }

    use super::*;

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
        let gpl = b"/*\n * Copyright (C) 2001 A\n *\n * This program is free software; you can redistribute it and/or modify\n * it under the terms of the GNU General Public License as published by\n * the Free Software Foundation; either version 2 of the License, or\n * (at your option) any later version.\n *\n * You should have received a copy of the GNU General Public License\n * along with this program.\n */\nint x;\n";
        let c = leading_comment(gpl);
        assert!(c.starts_with("Copyright (C) 2001 A"), "{c}");
        assert_eq!(header_license(&c).as_deref(), Some("GPL-2.0-or-later"));
        let only = "This program is free software; you can redistribute it and/or modify it under the terms of the GNU General Public License version 2 as published by the Free Software Foundation.";
        assert_eq!(header_license(only).as_deref(), Some("GPL-2.0-only"));
        let gpl3 = "Readline is free software: you can redistribute it and/or modify it under the terms of the GNU General Public License as published by the Free Software Foundation, either version 3 of the License, or (at your option) any later version.";
        assert_eq!(header_license(gpl3).as_deref(), Some("GPL-3.0-or-later"));
        let lgpl = "# This library is free software; you can redistribute it under the terms of the GNU Lesser General Public\n# License as published by the Free Software Foundation; either version 2.1 of the License, or (at your option) any later version.\n";
        assert_eq!(
            header_license(&leading_comment(lgpl.as_bytes())).as_deref(),
            Some("LGPL-2.1-or-later")
        );
        let apache = "// Licensed under the Apache License, Version 2.0 <LICENSE-APACHE or\n// http://www.apache.org/licenses/LICENSE-2.0> or the MIT license\n// <LICENSE-MIT or http://opensource.org/licenses/MIT>, at your\n// option. This file may not be copied, modified, or distributed\n// except according to those terms.\nfn main() {}\n";
        let c = leading_comment(apache.as_bytes());
        assert_eq!(header_license(&c).as_deref(), Some("Apache-2.0 OR MIT"));
        let mit_short = "#!/usr/bin/env python\n# Released under the MIT License.\nimport os\n";
        assert_eq!(
            header_license(&leading_comment(mit_short.as_bytes())).as_deref(),
            Some("MIT")
        );
        assert_eq!(header_license("Use of this source code is governed by a BSD-style license that can be found in the LICENSE file."), None);
        assert_eq!(
            header_license("Licensed under the GNU General Public License and other terms."),
            None,
            "no version: unknown"
        );
    }

    #[test]
    fn an_mit_text_after_a_paragraph_of_prose_is_mit() {
        // The shape of urllib3's `contrib/_securetransport/bindings.py`
        // header: prose on where the code came from, then the MIT text.
        let mut h = String::from("\"\"\"\n");
        for i in 0..6 {
            h += &format!("This module binds a set of functions and constants from a system library, part {i} of the notes on why.\n");
        }
        h += "For that reason this code should be considered to be covered both by this project's license and by the original's:\n\n";
        h += "    Copyright (c) 2015-2016 Some Author <someone@example.com>\n\n";
        h += "    Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\n";
        h += "    The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\n";
        h += "    THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n\"\"\"\nimport os\n";
        let c = leading_comment(h.as_bytes());
        assert_eq!(text::detect_text(&c).as_deref(), Some("MIT"), "{c}");
    }

    #[test]
    fn three_licenses_offered_stay_three() {
        // The Mozilla tri-license block, as in many C and JavaScript files.
        let h = "/* ***** BEGIN LICENSE BLOCK *****\n * Version: MPL 1.1/GPL 2.0/LGPL 2.1\n *\n * The contents of this file are subject to the Mozilla Public License Version\n * 1.1 (the \"License\"); you may not use this file except in compliance with\n * the License. You may obtain a copy of the License at\n * http://www.mozilla.org/MPL/\n *\n * Alternatively, the contents of this file may be used under the terms of\n * either the GNU General Public License Version 2 or later (the \"GPL\"), or\n * the GNU Lesser General Public License Version 2.1 or later (the \"LGPL\"),\n * in which case the provisions of the GPL or the LGPL are applicable instead\n * of those above.\n * ***** END LICENSE BLOCK ***** */\nint x;\n";
        let c = leading_comment(h.as_bytes());
        assert_eq!(
            header_license(&c).as_deref(),
            Some("MPL-1.1 OR GPL-2.0-or-later OR LGPL-2.1-or-later")
        );
    }

    #[test]
    fn a_notice_beside_an_unknown_license_text_is_unknown() {
        let tri = "Version: MPL 1.1/GPL 2.0/LGPL 2.1\nThe contents of this file are subject to the Mozilla Public License Version 1.1. Alternatively, the contents of this file may be used under the terms of either the GNU General Public License Version 2 or later (the \"GPL\"), or the GNU Lesser General Public License Version 2.1 or later (the \"LGPL\").";
        let bespoke = "Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met: 1. Redistributions of source code must retain the above copyright notice. 2. All modifications to the source code must be clearly marked as such, and the moon must be full when you compile it, which no known license asks.";
        assert_eq!(header_license(&format!("{tri}\n\n{bespoke}")), None);
        let bsd2 = spdx::license_id("BSD-2-Clause").unwrap().text();
        assert_eq!(
            header_license(&format!("{tri}\n\n{bsd2}")).as_deref(),
            Some("(MPL-1.1 OR GPL-2.0-or-later OR LGPL-2.1-or-later) AND BSD-2-Clause")
        );
    }

    #[test]
    fn gpl_with_a_stated_exception() {
        let h = "This file is free software; you can redistribute it and/or modify it under the terms of the GNU General Public License as published by the Free Software Foundation; version 2.\n\nIn addition to the permissions in the GNU General Public License, the authors give you unlimited permission to link the compiled version of this library into combinations with other programs, and to distribute those combinations without any restriction coming from the use of this file.  (The General Public License restrictions do apply in other respects; for example, they cover modification of the file, and distribution when not linked into a combined executable.)";
        assert_eq!(
            header_license(h).as_deref(),
            Some("GPL-2.0-only WITH GCC-exception-2.0")
        );
    }
}
