//! Small files copied whole: an interface, an enum, an exception class.
//!
//! Their code is shorter than the matcher's token floor (a PHP interface
//! of two methods is 35 tokens, a Java enum of ten constants 24), and code
//! that short is as often an idiom as a copy. What tells a copy is the
//! rest of the file: its doc comments, which the matcher never sees. So
//! the matcher hands over the small files it aligned end to end with an
//! origin file (`engine::pipeline::Matched::small_files`), and a candidate
//! is reported only when the two files' lines below their license headers
//! agree too. A header does not count: every file of a project carries
//! the same one, whatever its code.

use engine::matcher::{Finding, SnippetMatch};

use crate::headers::header_end;

/// Share of the target's lines (below its header, blank ones aside) that
/// the origin file must have too, and the fewest such lines.
const SHARED_LINES: f64 = 0.6;
const MIN_SHARED_LINES: usize = 5;

/// The first candidate whose file text agrees with the target's, as a
/// finding; `origin` gives an origin file's text (a read from the index,
/// or a file of `compare`'s tree).
pub(crate) fn confirm<B: AsRef<[u8]>, E>(
    candidates: &[SnippetMatch],
    target: &[u8],
    mut origin: impl FnMut(u64) -> Result<Option<B>, E>,
) -> Result<Option<Finding>, E> {
    for c in candidates {
        let Some(text) = origin(c.origin)? else {
            continue;
        };
        if text_agrees(target, text.as_ref()) {
            return Ok(Some(Finding {
                best: *c,
                alternatives: Vec::new(),
            }));
        }
    }
    Ok(None)
}

/// Whether the target's lines below its header are mostly lines of the
/// origin's, below its own header; lines are compared with their white
/// space removed.
fn text_agrees(target: &[u8], origin: &[u8]) -> bool {
    let ours = body_lines(target);
    let theirs: std::collections::HashSet<Vec<u8>> = body_lines(origin).into_iter().collect();
    let shared = ours.iter().filter(|l| theirs.contains(*l)).count();
    shared >= MIN_SHARED_LINES && shared as f64 >= SHARED_LINES * ours.len() as f64
}

/// The non-blank lines after the file's header, white space removed.
fn body_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes[header_end(bytes)..]
        .split(|&b| b == b'\n')
        .map(|l| {
            l.iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect::<Vec<u8>>()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::align::{Range, Span};

    const HEADER: &str = "/*\n * Licensed to the Apache Software Foundation (ASF) under one or more\n * contributor license agreements.\n */\n";

    fn candidate(origin: u64) -> SnippetMatch {
        let r = Range { first: 1, last: 9 };
        SnippetMatch {
            origin,
            span: Span {
                target_lines: r,
                origin_lines: r,
                target_tokens: r,
                origin_tokens: r,
                matched_tokens: 24,
                hits: 1,
                similarity: 1.0,
                edits: 0,
            },
        }
    }

    fn enum_file(package: &str, what: &str, doc: &[&str]) -> String {
        let docs: String = doc.iter().map(|d| format!("    /** {d} */\n")).collect();
        format!("{HEADER}package {package};\n\n/**\n * {what}\n */\npublic enum State {{\n{docs}    IDLE,\n    ALLOCATED,\n    INVALID\n}}\n")
    }

    #[test]
    fn a_renamed_package_with_the_same_doc_comments_is_confirmed() {
        let doc = ["In the queue, not in use.", "In use.", "Failed validation."];
        let what = "States of a pooled object.";
        let ours = enum_file("org.apache.tomcat.dbcp.pool2", what, &doc);
        let theirs = enum_file("org.apache.commons.pool2", what, &doc);
        let found = confirm(&[candidate(3)], ours.as_bytes(), |_| {
            Ok::<_, ()>(Some(theirs.clone()))
        })
        .unwrap();
        assert_eq!(found.map(|f| f.best.origin), Some(3));
    }

    #[test]
    fn the_same_code_under_other_comments_is_not() {
        // Same license header and the same few code lines, other docs:
        // the header does not count, and code alone is too short.
        let ours = enum_file("a.b", "A job.", &["Waiting.", "Running.", "Broken."]);
        let theirs = enum_file(
            "c.d",
            "A connection.",
            &[
                "Queued for a worker.",
                "Being served.",
                "Dropped after an error.",
            ],
        );
        let found = confirm(&[candidate(3)], ours.as_bytes(), |_| {
            Ok::<_, ()>(Some(theirs.clone()))
        })
        .unwrap();
        assert!(found.is_none());
    }
}
