//! Stable finding ids, and `--baseline OLD_REPORT.json`: which findings are
//! new, unchanged or gone since an earlier report.
//!
//! An id must survive what a pull request does around a copy (lines added
//! above it, the origin index gaining a version), so it is built from the
//! target path, the origin project and path, and the copied target text
//! itself with whitespace folded, never from line numbers.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::report::{
    AbsentFinding, BaselineState, Finding, FindingKind, FindingReview, Origin, Report,
};

/// Ids and line counts for the findings of one target file, whose bytes are
/// `bytes`. Two findings with the same text (a function pasted twice) get
/// `-2`, `-3`… after the first.
/// With `keep_text`, the copied lines themselves are kept too (for the
/// HTML report).
pub fn identify(
    path: &str,
    bytes: &[u8],
    findings: &[Finding],
    keep_text: bool,
) -> Vec<FindingReview> {
    let lines = engine::analyze::line_count(bytes).max(1);
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let [start, end] = f.target_bytes;
            let end = (end as usize).min(bytes.len());
            let mut start = (start as usize).min(end);
            // A snippet that took in the file's header (`headers`) is known
            // by its code: an edit of the notice (a year, a line added
            // above it) leaves its id and the decisions made on it alone.
            if f.kind == FindingKind::Snippet && start == 0 {
                start = crate::headers::header_end(bytes).min(end);
            }
            let base = finding_id(path, &f.origin, &bytes[start..end]);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            let id = if *n == 1 { base } else { format!("{base}-{n}") };
            FindingReview {
                id,
                target_file_lines: Some(lines),
                target_text: keep_text.then(|| line_text(bytes, f.target_lines)),
                ..FindingReview::default()
            }
        })
        .collect()
}

/// Lines `range` (1-based, inclusive) of `bytes`, at most 5,000 of them.
pub(crate) fn line_text(bytes: &[u8], range: [u32; 2]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let first = range[0].max(1) as usize - 1;
    let count = (range[1].max(range[0]) as usize + 1 - range[0].max(1) as usize).min(5_000);
    let mut out = String::new();
    for line in text.split_inclusive('\n').skip(first).take(count) {
        out.push_str(line);
    }
    out
}

/// 16 hex digits of SHA-1 over the path, origin project and path, and the
/// copied text with runs of whitespace folded to one space.
/// The text is read as UTF-8 with each invalid sequence one U+FFFD, and
/// folded as it is hashed: a whole-file finding of a large file would
/// otherwise copy it twice (7 % of a scan of vendored C went there).
pub fn finding_id(path: &str, origin: &Origin, text: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let project = origin.project.as_deref().unwrap_or("");
    let mut h = Sha1::new();
    for part in [path, project, &origin.path] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    fold_whitespace(text, |bytes| h.update(bytes));
    h.update([0u8]);
    let mut id = crate::formats::hex(&h.finalize());
    id.truncate(16);
    id
}

/// Hands `emit` the words of `text` (split at Unicode whitespace, invalid
/// UTF-8 read as U+FFFD) with one space between them, in pieces.
fn fold_whitespace(text: &[u8], mut emit: impl FnMut(&[u8])) {
    // Whether a word was emitted, and whether whitespace followed it.
    let (mut started, mut gap) = (false, false);
    let mut word = |piece: &[u8], gap: &mut bool| {
        if *gap && started {
            emit(b" ");
        }
        emit(piece);
        (started, *gap) = (true, false);
    };
    for chunk in text.utf8_chunks() {
        // Pieces after the first follow whitespace; empty ones are runs of it.
        for (n, piece) in chunk.valid().split(char::is_whitespace).enumerate() {
            gap |= n > 0;
            if !piece.is_empty() {
                word(piece.as_bytes(), &mut gap);
            }
        }
        if !chunk.invalid().is_empty() {
            word("\u{FFFD}".as_bytes(), &mut gap);
        }
    }
}

/// The part of an old report a baseline needs.
#[derive(Deserialize)]
struct OldReport {
    schema: String,
    findings: Vec<OldFinding>,
}

#[derive(Deserialize)]
struct OldFinding {
    #[serde(default)]
    id: String,
    path: String,
    target_lines: [u32; 2],
    origin: Origin,
}

/// An earlier report's findings, by id.
pub struct Baseline {
    old: Vec<OldFinding>,
}

impl Baseline {
    pub fn load(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read(path)
            .with_context(|| format!("--baseline {}: cannot read", path.display()))?;
        let old: OldReport = serde_json::from_slice(&text).with_context(|| {
            format!(
                "--baseline {}: not a provscan JSON report (`scan --format json`)",
                path.display()
            )
        })?;
        if !old.schema.starts_with("provscan-report/") {
            anyhow::bail!(
                "--baseline {}: schema {:?} is not a provscan report",
                path.display(),
                old.schema
            );
        }
        if old.findings.iter().any(|f| f.id.is_empty()) {
            anyhow::bail!(
                "--baseline {}: findings without ids (written by an older provscan); scan again to make a baseline",
                path.display()
            );
        }
        Ok(Baseline { old: old.findings })
    }

    /// Marks each finding of `report` new or unchanged and lists the old
    /// findings not seen again.
    pub fn apply(&self, report: &mut Report) {
        let old: HashSet<&str> = self.old.iter().map(|f| f.id.as_str()).collect();
        let now: HashSet<String> = report.review.iter().map(|r| r.id.clone()).collect();
        for r in &mut report.review {
            r.baseline_state = Some(if old.contains(r.id.as_str()) {
                BaselineState::Unchanged
            } else {
                BaselineState::New
            });
        }
        report.absent = Some(
            self.old
                .iter()
                .filter(|f| !now.contains(&f.id))
                .map(|f| AbsentFinding {
                    id: f.id.clone(),
                    path: f.path.clone(),
                    target_lines: f.target_lines,
                    origin: f.origin.clone(),
                })
                .collect(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::{finding, origin};

    #[test]
    fn ids_ignore_line_shifts_and_whitespace_but_not_text() {
        let o = origin(Some("zlib"), Some("1.3"), Some("Zlib"));
        let a = b"int f(void) {\n  return 1;\n}\n";
        let shifted = b"// new line\n// another\nint f(void) {\n    return 1;\n}\n";
        let mut f = finding("src/a.c", [1, 3], o.clone());
        f.target_bytes = [0, a.len() as u64];
        let mut g = finding("src/a.c", [3, 5], o.clone());
        let at = shifted.windows(3).position(|w| w == b"int").unwrap() as u64;
        g.target_bytes = [at, shifted.len() as u64];
        let id_a = identify("src/a.c", a, std::slice::from_ref(&f), true);
        let id_b = identify("src/a.c", shifted, std::slice::from_ref(&g), false);
        assert_eq!(id_a[0].id, id_b[0].id);
        assert_eq!(id_b[0].target_file_lines, Some(5));
        assert_eq!(
            id_a[0].target_text.as_deref(),
            Some(std::str::from_utf8(a).unwrap())
        );
        assert_eq!(id_b[0].target_text, None);
        let changed = b"int f(void) {\n  return 2;\n}\n";
        assert_ne!(
            identify("src/a.c", changed, &[f.clone()], false)[0].id,
            id_a[0].id
        );
        assert_ne!(
            identify("src/b.c", a, &[f.clone()], false)[0].id,
            id_a[0].id
        );
        // The same text twice in one file: two ids.
        let twice = identify("src/a.c", a, &[f.clone(), f], false);
        assert_eq!(twice[1].id, format!("{}-2", twice[0].id));
    }

    /// Ids are kept in baselines and review decisions, so the streamed fold
    /// must give what folding a copy of the text gave: the words of the
    /// lossily decoded text joined by one space.
    #[test]
    fn a_pinned_id_stays_what_it_was() {
        let o = origin(Some("zlib"), Some("1.3"), Some("Zlib"));
        let text: &[u8] = &[
            &b" int\tf(void)\x0b{\r\n  return\xff\xfe 1;"[..],
            "\u{2003}".as_bytes(),
            b"\n}\n",
        ]
        .concat();
        // The id the copying fold gave this text (the session of
        // 2026-12-05 from 11:36 streamed it).
        let folded = "int f(void) { return\u{FFFD}\u{FFFD} 1; }";
        let expected = crate::formats::sha1_hex(&["src/a.c", "zlib", &o.path, folded]);
        assert_eq!(finding_id("src/a.c", &o, text), expected[..16]);
    }

    proptest::proptest! {
        #[test]
        fn the_streamed_fold_equals_the_copying_one(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::any::<u8>(),
                    proptest::sample::select(vec![b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r', b'a']),
                ],
                0..64,
            ),
            nbsp in proptest::prelude::any::<bool>(),
        ) {
            let mut text = text;
            if nbsp {
                // U+00A0 and U+2028: whitespace beyond ASCII.
                text.extend_from_slice("x\u{a0}y\u{2028}".as_bytes());
            }
            let mut streamed = Vec::new();
            fold_whitespace(&text, |b| streamed.extend_from_slice(b));
            let copied = String::from_utf8_lossy(&text)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            proptest::prop_assert_eq!(String::from_utf8(streamed).unwrap(), copied);
        }
    }
}
