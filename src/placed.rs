//! Files a scan found nothing in on their own, found where a copied tree
//! puts them.
//!
//! A file under `engine::identity::MIN_IDENTIFYING_LEN` bytes (a
//! `.gitignore`, a one-line `#include "junk.c"` test, a Debian `compat`)
//! is identical in countless projects, so a scan never reports it for its
//! bytes alone. Inside a vendored tree it is still part of the copy: the
//! inventory a release engineer keeps should list `liblz4/lib/.gitignore`
//! with the rest of `liblz4/`. What tells the two situations apart is the
//! place. Such a file is reported when the origin holds the same bytes at
//! the same path below the copied tree's root, and at least
//! [`MIN_PLACED_SIBLINGS`] other files below that root were found copied
//! from the same project at their own paths.
//!
//! The same place speaks for a file that differs from the origin's file at
//! its path, where the matcher found nothing: too short for the verify
//! floor once edited (a header of a few `#include`s, a test script of three
//! lines, a `.gitignore` one release extended), or edited all over. Such a
//! file is reported when at least half its lines (of at least
//! [`MIN_LINE_CHARS`] characters, whitespace squashed) are lines of the
//! origin's file at that path, and at least [`MIN_SHARED_LINES`] of them.

use std::collections::{HashMap, HashSet};

use engine::lang::SkipKind;

use crate::report::Finding;
use crate::targets::InputFile;

/// Other files of the tree, found copied at their own paths, that a small
/// file needs beside it: three is a directory copied, not a coincidence.
pub(crate) const MIN_PLACED_SIBLINGS: usize = 3;

/// Largest file kept aside to be placed: the matcher reports longer
/// copies itself, edited or not.
pub(crate) const MAX_PLACED_BYTES: usize = 64 << 10;

/// Most bytes of such files a scan keeps aside, so that memory stays
/// bounded in a tree of countless small files; those past it are not
/// placed.
pub(crate) const MAX_KEPT_BYTES: u64 = 128 << 20;

/// Lines shorter than this (`}`, `fi`, `#endif`, a blank line) say
/// nothing of where a file came from.
pub(crate) const MIN_LINE_CHARS: usize = 4;

/// Fewest lines of a file equal to lines of the origin's file for the
/// file to be placed as an edited copy: one line in common is any two
/// files of a kind.
pub(crate) const MIN_SHARED_LINES: usize = 2;

/// A scanned file with no finding, not skipped for what it is, kept aside
/// with its bytes (at most [`MAX_PLACED_BYTES`]) until every file is
/// checked.
#[derive(Clone, Debug)]
pub(crate) struct UnfoundFile {
    pub rel: String,
    pub bytes: Vec<u8>,
}

impl UnfoundFile {
    /// `file` if it was checked and found nothing (`skip`: why it was
    /// passed over, if it was) and is not empty or too large; one skipped
    /// for what it is (binary, a license text) is not a candidate.
    pub(crate) fn of(file: &InputFile, skip: Option<SkipKind>) -> Option<UnfoundFile> {
        let sized = !file.bytes.is_empty() && file.bytes.len() <= MAX_PLACED_BYTES;
        let checked = matches!(skip, None | Some(SkipKind::Empty));
        (sized && checked).then(|| UnfoundFile {
            rel: file.rel.clone(),
            bytes: file.bytes.to_vec(),
        })
    }

    /// Too small to be reported for its bytes alone.
    pub(crate) fn small(&self) -> bool {
        (self.bytes.len() as u64) < engine::identity::MIN_IDENTIFYING_LEN
    }
}

/// How much of a file the origin's file at its path holds, line by line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LineShare {
    /// Target lines (1-based) equal to a line of the origin's file.
    pub equal: Vec<u32>,
    /// Target lines that count ([`MIN_LINE_CHARS`]) and are not.
    pub other: u32,
}

impl LineShare {
    /// The lines of `target` found among the lines of `origin`; `None`
    /// when fewer than half of them, or fewer than [`MIN_SHARED_LINES`].
    pub(crate) fn of(target: &[u8], origin: &[u8]) -> Option<LineShare> {
        let theirs: HashSet<String> = counted_lines(origin).map(|(_, l)| l).collect();
        let (mut equal, mut other) = (Vec::new(), 0u32);
        for (n, line) in counted_lines(target) {
            if theirs.contains(&line) {
                equal.push(n);
            } else {
                other += 1;
            }
        }
        let enough = equal.len() >= MIN_SHARED_LINES && equal.len() as u32 >= other;
        enough.then_some(LineShare { equal, other })
    }

    /// Share of the counted lines equal to the origin's.
    pub(crate) fn share(&self) -> f64 {
        self.equal.len() as f64 / (self.equal.len() as u32 + self.other) as f64
    }
}

/// The lines that count, numbered from 1, whitespace squashed.
fn counted_lines(bytes: &[u8]) -> impl Iterator<Item = (u32, String)> + '_ {
    String::from_utf8_lossy(bytes)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            (
                i as u32 + 1,
                l.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .filter(|(_, l)| l.chars().count() >= MIN_LINE_CHARS)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The root `target` is `origin_path` placed under: `liblz4/` for
/// `liblz4/lib/.gitignore` and `lib/.gitignore`; `""` for the same path.
/// `None` when the target does not end with the whole origin path.
pub(crate) fn root_of<'a>(target: &'a str, origin_path: &str) -> Option<&'a str> {
    if origin_path.is_empty() {
        return None;
    }
    let root = target.strip_suffix(origin_path)?;
    (root.is_empty() || root.ends_with('/')).then_some(root)
}

/// How many files below each (root, project) the findings place at their
/// own origin paths.
#[derive(Default)]
pub(crate) struct CopiedTrees {
    files: HashMap<(String, String), HashSet<String>>,
}

impl CopiedTrees {
    pub(crate) fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> CopiedTrees {
        let mut trees = CopiedTrees::default();
        for f in findings {
            let Some(project) = &f.origin.project else {
                continue;
            };
            if let Some(root) = root_of(&f.path, &f.origin.path) {
                trees
                    .files
                    .entry((root.to_string(), project.clone()))
                    .or_default()
                    .insert(f.path.clone());
            }
        }
        trees
    }

    /// Whether `target`, a copy of `project`'s `origin_path`, lies in a tree
    /// copied from that project: enough other files below the same root
    /// were found at their own paths.
    pub(crate) fn places(&self, target: &str, project: &str, origin_path: &str) -> bool {
        let Some(root) = root_of(target, origin_path) else {
            return false;
        };
        self.copied(root, project, target)
    }

    /// The copied trees `target` lies in, as (project, the path below the
    /// tree's root): where the origin would hold it.
    pub(crate) fn around<'a>(
        &'a self,
        target: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.files.keys().filter_map(move |(root, project)| {
            let below = target.strip_prefix(root.as_str())?;
            (!below.is_empty() && self.copied(root, project, target))
                .then_some((project.as_str(), below))
        })
    }

    fn copied(&self, root: &str, project: &str, target: &str) -> bool {
        self.files
            .get(&(root.to_string(), project.to_string()))
            .is_some_and(|files| {
                files.iter().filter(|f| *f != target).count() >= MIN_PLACED_SIBLINGS
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_is_a_whole_directory_prefix() {
        assert_eq!(
            root_of("liblz4/lib/.gitignore", "lib/.gitignore"),
            Some("liblz4/")
        );
        assert_eq!(root_of("lib/.gitignore", "lib/.gitignore"), Some(""));
        assert_eq!(root_of("liblz4/xlib/.gitignore", "lib/.gitignore"), None);
        assert_eq!(root_of("lib/.gitignore", "src/lib/.gitignore"), None);
        assert_eq!(root_of("lib/x", ""), None);
    }

    #[test]
    fn an_edited_file_is_placed_by_its_lines() {
        let origin = b"#!/bin/sh\n\nif [ \"x${enable_prof}\" = \"x1\" ] ; then\n  export MALLOC_CONF=\"prof:true\"\nfi\n";
        let target = b"#!/bin/sh\n\nexport MALLOC_CONF=\"prof:true\"\n";
        let share = LineShare::of(target, origin).expect("two of two lines");
        assert_eq!(share.equal, vec![1, 3]);
        assert_eq!(share.share(), 1.0);
        // One line in common is any two scripts.
        assert_eq!(LineShare::of(b"#!/bin/sh\necho hi\n", origin), None);
        // Fewer than half.
        assert_eq!(
            LineShare::of(
                b"#!/bin/sh\nexport MALLOC_CONF=\"prof:true\"\na1\nb22\nc333\n",
                origin
            )
            .map(|s| s.equal.len()),
            Some(2)
        );
        assert_eq!(
            LineShare::of(
                b"#!/bin/sh\nexport MALLOC_CONF=\"prof:true\"\naaaa\nbbbb\ncccc\n",
                origin
            ),
            None
        );
    }

    #[test]
    fn a_file_lies_in_the_trees_around_it() {
        let finding = |path: &str, origin: &str| {
            let mut o = crate::policy::tests::origin(Some("jemalloc"), Some("5.3.0"), None);
            o.path = origin.into();
            crate::policy::tests::finding(path, [1, 10], o)
        };
        let found: Vec<Finding> = ["a.c", "b.c", "c.c", "d/e.c"]
            .iter()
            .map(|p| finding(&format!("deps/jemalloc/src/{p}"), &format!("src/{p}")))
            .collect();
        let trees = CopiedTrees::of(&found);
        let around: Vec<_> = trees.around("deps/jemalloc/src/ticker.c").collect();
        assert_eq!(around, vec![("jemalloc", "src/ticker.c")]);
        assert_eq!(trees.around("deps/other/ticker.c").count(), 0);
        // Three siblings besides the file itself.
        let trees = CopiedTrees::of(&found[..3]);
        assert_eq!(trees.around("deps/jemalloc/src/a.c").count(), 0);
    }
}
