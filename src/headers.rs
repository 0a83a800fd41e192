//! A file's header (its leading comment: a license notice, a copyright)
//! against the findings in the file: what lies within it is not code, and
//! what a copy took along with its code is part of the copy.

use engine::align::Span;

use crate::report::Finding;

/// Drops the findings that lie within the target's header (its leading
/// comment, see `corpus::license::header_lines`): where comments
/// are tokens (assembly, scripts, any file the text lexer reads) a license
/// notice of 40 words aligns with the same notice atop any file of the same
/// project, which says nothing about where the code came from (Go's
/// assembly files against an x/net file that holds only its notice).
pub(crate) fn keep_code_findings(findings: &mut Vec<engine::matcher::Finding>, bytes: &[u8]) {
    if findings.is_empty() {
        return;
    }
    let header = corpus::license::header_lines(bytes);
    findings.retain(|f| f.best.span.target_lines.last > header);
}

/// The byte offset just past the file's header lines (0 when it has none).
pub(crate) fn header_end(bytes: &[u8]) -> usize {
    let lines = corpus::license::header_lines(bytes) as usize;
    bytes
        .split_inclusive(|&b| b == b'\n')
        .take(lines)
        .map(<[u8]>::len)
        .sum()
}

/// Fewest tokens before a copy on either side for its file's header to
/// count as taken along: a package line or an include that the copier
/// changed, no more.
const LEAD_TOKENS: u32 = 16;

/// Share of the words of two headers that must agree for one to be the
/// other (a year or a name changed, not a different notice).
const SAME_HEADER: f64 = 0.9;

/// Reaches a snippet finding back over its file's header when the copy
/// begins at the top of both files and the two headers say the same: the
/// copier took the whole file, notice included, and the report shows the
/// notice as copied (commons-pool's files in Tomcat keep Apache's header
/// above a renamed package line). A header of the copier's own (a notice
/// replaced, or stripped) stays outside the finding. Whether a notice is
/// kept is judged apart (`notice_retained`), but a header taken in is a
/// notice kept. Whether the header was taken in.
///
/// `origin` gives the origin file's text, asked for only once the target
/// side qualifies (in `scan` it is a read from the index).
pub(crate) fn take_in_header<B: AsRef<[u8]>, E>(
    f: &mut Finding,
    span: &Span,
    target: &[u8],
    origin: impl FnOnce() -> Result<Option<B>, E>,
) -> Result<bool, E> {
    if !may_take_in_header(span) {
        return Ok(false);
    }
    let (t_text, t_lines) = corpus::license::header(target);
    if t_lines == 0 || f.target_lines[0] <= t_lines {
        return Ok(false);
    }
    let Some(origin) = origin()? else {
        return Ok(false);
    };
    let (o_text, o_lines) = corpus::license::header(origin.as_ref());
    if o_lines == 0 || f.origin.lines[0] <= o_lines {
        return Ok(false);
    }
    if word_agreement(&t_text, &o_text) < SAME_HEADER
        || word_agreement(&holders(&t_text), &holders(&o_text)) < SAME_HOLDERS
    {
        return Ok(false);
    }
    f.target_lines[0] = 1;
    f.target_bytes[0] = 0;
    f.origin.lines[0] = 1;
    if let Some(bytes) = &mut f.origin.bytes {
        bytes[0] = 0;
    }
    // The target opens with the origin's own header: its notice is kept,
    // however the holder's name was broken across comment lines (the
    // check of `notice_retained` looks for the name in one piece).
    if f.notice_retained == Some(false) {
        f.notice_retained = Some(true);
    }
    Ok(true)
}

/// Whether a copy begins near the top of both files.
fn may_take_in_header(span: &Span) -> bool {
    span.target_tokens.first <= LEAD_TOKENS && span.origin_tokens.first <= LEAD_TOKENS
}

/// Share of the words of the two headers' copyright lines that must
/// agree when either has one: the GPL's boilerplate under another holder's
/// name is a notice of the copier's own, however many words it shares.
const SAME_HOLDERS: f64 = 0.8;

/// The holders a header's copyright statements name
/// (`corpus::copyright::extract`, years and markers dropped as
/// `notice_retained` drops them); "" (which agrees with "") when it has
/// none.
fn holders(header: &str) -> String {
    corpus::copyright::extract(header.as_bytes())
        .iter()
        .map(|statement| crate::scan::holder(statement))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Dice agreement of two texts' words (lowercased runs of letters and
/// digits, counted with repeats); 0 when one has none, 1 when neither has.
fn word_agreement(a: &str, b: &str) -> f64 {
    let words = |s: &str| -> std::collections::HashMap<String, u32> {
        let mut m = std::collections::HashMap::new();
        for w in s
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *m.entry(w.to_lowercase()).or_insert(0) += 1;
        }
        m
    };
    let (wa, wb) = (words(a), words(b));
    let (na, nb): (u32, u32) = (wa.values().sum(), wb.values().sum());
    if na == 0 || nb == 0 {
        return if na == nb { 1.0 } else { 0.0 };
    }
    let common: u32 = wa
        .iter()
        .map(|(w, n)| (*n).min(wb.get(w).copied().unwrap_or(0)))
        .sum();
    2.0 * f64::from(common) / f64::from(na + nb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::align::Range;

    const NOTICE: &str = "/*\n * Copyright (c) 2019 The Example Authors.\n * Licensed under the Apache License, Version 2.0; you may not use\n * this file except in compliance with the License.\n */\n";

    fn span(target_first: u32, origin_first: u32) -> Span {
        Span {
            target_lines: Range { first: 7, last: 20 },
            origin_lines: Range { first: 7, last: 20 },
            target_tokens: Range {
                first: target_first,
                last: 200,
            },
            origin_tokens: Range {
                first: origin_first,
                last: 200,
            },
            matched_tokens: 190,
            hits: 12,
            similarity: 0.95,
            edits: 10,
        }
    }

    fn ok(text: &str) -> Result<Option<&[u8]>, std::convert::Infallible> {
        Ok(Some(text.as_bytes()))
    }

    fn finding() -> Finding {
        serde_json::from_value(serde_json::json!({
            "path": "src/pool.c", "kind": "snippet",
            "target_lines": [7, 20], "target_bytes": [180, 900],
            "origin": {
                "project": "example", "version": "1.0", "versions": ["1.0"],
                "path": "pool.c", "lines": [7, 20], "license": "Apache-2.0",
                "license_evidence": "file-notice", "copyright": [],
                "bytes": [170, 880]
            },
            "matched_tokens": 190, "similarity": 0.95, "edits": 10,
            "notice_retained": true, "license_class": "permissive",
            "alternatives": []
        }))
        .unwrap()
    }

    #[test]
    fn a_copy_from_the_top_takes_in_the_header_it_kept() {
        let origin =
            format!("{NOTICE}\npackage example.pool;\n\nint grow(int n) {{ return n * 2; }}\n");
        let target =
            format!("{NOTICE}\npackage acme.vendor.pool;\n\nint grow(int n) {{ return n * 2; }}\n");
        let mut f = finding();
        assert!(take_in_header(&mut f, &span(4, 3), target.as_bytes(), || ok(&origin)).unwrap());
        assert_eq!((f.target_lines, f.target_bytes[0]), ([1, 20], 0));
        assert_eq!((f.origin.lines, f.origin.bytes), ([1, 20], Some([0, 880])));
    }

    #[test]
    fn a_header_taken_in_is_a_notice_kept() {
        let origin = format!("{NOTICE}\nint grow(int n) {{ return n * 2; }}\n");
        let mut f = finding();
        f.notice_retained = Some(false);
        take_in_header(&mut f, &span(0, 0), origin.as_bytes(), || ok(&origin)).unwrap();
        assert_eq!((f.target_lines[0], f.notice_retained), (1, Some(true)));
    }

    #[test]
    fn a_header_of_the_copiers_own_or_a_copy_from_further_down_is_left_out() {
        let origin = format!("{NOTICE}\nint grow(int n) {{ return n * 2; }}\n");
        let own = "/*\n * Acme Corp. Proprietary and confidential.\n * Do not distribute.\n */\n\nint grow(int n) { return n * 2; }\n";
        let mut f = finding();
        take_in_header(&mut f, &span(0, 0), own.as_bytes(), || ok(&origin)).unwrap();
        assert_eq!(f, finding());
        // The copy begins 40 tokens into the origin: its header belongs to
        // code that was not taken.
        take_in_header(&mut f, &span(0, 40), origin.as_bytes(), || ok(&origin)).unwrap();
        assert_eq!(f, finding());
    }

    #[test]
    fn headers_that_differ_in_a_year_agree() {
        let newer = NOTICE.replace("2019", "2023");
        assert!(word_agreement(NOTICE, &newer) >= SAME_HEADER);
        assert!(word_agreement(NOTICE, "/* Acme Corp. All rights reserved. */") < 0.3);
        assert_eq!(word_agreement("", NOTICE), 0.0);
    }

    #[test]
    fn the_same_license_under_another_holder_is_not_the_same_header() {
        let gpl = "This program is free software; you can redistribute it and/or modify it under the terms of the GNU General Public License as published by the Free Software Foundation; either version 3 of the License, or (at your option) any later version. This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.";
        let ours = format!("Copyright (C) 2000-2007 Hans Lub\n{gpl}");
        let theirs = format!("Copyright (C) 1987-2021 Free Software Foundation, Inc.\n{gpl}");
        let newer = format!("Copyright (C) 1987-2022 Free Software Foundation, Inc.\n{gpl}");
        assert!(word_agreement(&ours, &theirs) >= SAME_HEADER);
        assert!(word_agreement(&holders(&ours), &holders(&theirs)) < SAME_HOLDERS);
        assert!(word_agreement(&holders(&newer), &holders(&theirs)) >= SAME_HOLDERS);
        assert_eq!(word_agreement(&holders(gpl), &holders(gpl)), 1.0);
    }
}
