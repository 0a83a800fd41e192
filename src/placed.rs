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
//!
//! A tree is a pair of roots, the target's and the origin's, that the
//! found files hang the same paths from ([`roots_of`]): the origin's root
//! is its project's for a tree vendored as it was, another directory for
//! one repackaged (Tomcat's `org/apache/tomcat/dbcp/pool2/` is
//! commons-pool's `org/apache/commons/pool2/`).

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

/// The roots `target` and `origin_path` hang the same path from: `liblz4/`
/// and `""` for `liblz4/lib/.gitignore` and `lib/.gitignore`; Tomcat's
/// repackaged `java/org/apache/tomcat/dbcp/` and commons-pool's
/// `src/main/java/org/apache/commons/` for `…/pool2/DestroyMode.java`.
/// The shared path is the longest one of whole directories (at least the
/// file's name, and a directory too unless the origin's root is its
/// project's); `None` when there is none.
pub(crate) fn roots_of<'a, 'b>(
    target: &'a str,
    origin_path: &'b str,
) -> Option<(&'a str, &'b str)> {
    let (t, o) = (target.as_bytes(), origin_path.as_bytes());
    let mut shared = 0;
    let mut whole = None;
    while shared < t.len() && shared < o.len() && t[t.len() - 1 - shared] == o[o.len() - 1 - shared]
    {
        shared += 1;
        let (ti, oi) = (t.len() - shared, o.len() - shared);
        let starts = |s: &[u8], i: usize| i == 0 || s[i - 1] == b'/';
        if t[ti] != b'/' && starts(t, ti) && starts(o, oi) {
            whole = Some(shared);
        }
    }
    let shared = whole?;
    // Below another directory of the origin, the name of the file alone
    // does not make a place: nginx's `src/os/win32/` has files of the
    // names of `src/os/unix/`, other files.
    let renamed = shared < o.len() && !origin_path[o.len() - shared..].contains('/');
    (!renamed).then(|| {
        (
            &target[..t.len() - shared],
            &origin_path[..o.len() - shared],
        )
    })
}

/// Which files the findings place below each (target root, project,
/// origin root): a tree copied from the project, renamed or not.
#[derive(Default)]
pub(crate) struct CopiedTrees {
    files: HashMap<(String, String, String), HashSet<String>>,
}

impl CopiedTrees {
    pub(crate) fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> CopiedTrees {
        let mut trees = CopiedTrees::default();
        for f in findings {
            let Some(project) = &f.origin.project else {
                continue;
            };
            if let Some((root, origin_root)) = roots_of(&f.path, &f.origin.path) {
                trees
                    .files
                    .entry((root.to_string(), project.clone(), origin_root.to_string()))
                    .or_default()
                    .insert(f.path.clone());
            }
        }
        trees
    }

    /// Whether `target`, a copy of `project`'s `origin_path`, lies in a tree
    /// copied from that project: enough other files below the same roots
    /// were found at their corresponding paths.
    pub(crate) fn places(&self, target: &str, project: &str, origin_path: &str) -> bool {
        let Some((root, origin_root)) = roots_of(target, origin_path) else {
            return false;
        };
        self.copied(
            &(
                root.to_string(),
                project.to_string(),
                origin_root.to_string(),
            ),
            target,
        )
    }

    /// The copied trees `target` lies in, as (project, the path the
    /// project would hold it at).
    pub(crate) fn around(&self, target: &str) -> Vec<(String, String)> {
        self.files
            .keys()
            .filter_map(|key| {
                let (root, project, origin_root) = key;
                let below = target.strip_prefix(root.as_str())?;
                (!below.is_empty() && self.copied(key, target))
                    .then(|| (project.clone(), format!("{origin_root}{below}")))
            })
            .collect()
    }

    /// Whether some tree of the scan was copied from `project`.
    pub(crate) fn has_project(&self, project: &str) -> bool {
        self.files
            .iter()
            .any(|((_, p, _), files)| p == project && files.len() > MIN_PLACED_SIBLINGS)
    }

    fn copied(&self, key: &(String, String, String), target: &str) -> bool {
        self.files.get(key).is_some_and(|files| {
            files.iter().filter(|f| *f != target).count() >= MIN_PLACED_SIBLINGS
        })
    }
}

/// Whether a weak finding standing alone in its file (`Finding::alone`:
/// short, or loosely aligned) is reported, now that the scan's copied
/// trees are known. Where the scan found its project vendored as a tree,
/// the copy of that project is accounted for, and a weak match against it
/// elsewhere (Go's `strings_test.go` against x/net, which Go vendors;
/// Redis's `networking.c` against Lua, which Redis vendors) is the
/// project's idiom far more often than a second copy: reported only inside
/// that tree.
/// Against a project no tree of the scan comes from, there is nothing to
/// judge by, and it is reported.
pub(crate) fn keeps_alone(trees: &CopiedTrees, f: &Finding) -> bool {
    let Some(project) = &f.origin.project else {
        return true;
    };
    fn parent(path: &str) -> &str {
        path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
    // Inside the tree means in the directory of the origin that the tree
    // puts the file in: a tree rooted at `_vendor/` holds pip's vendored
    // `urllib3/`, not its `colorama/`.
    !trees.has_project(project)
        || trees
            .around(&f.path)
            .iter()
            .any(|(p, at)| p == project && parent(at) == parent(&f.origin.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_hang_the_same_whole_directories() {
        assert_eq!(
            roots_of("liblz4/lib/.gitignore", "lib/.gitignore"),
            Some(("liblz4/", ""))
        );
        assert_eq!(roots_of("lib/.gitignore", "lib/.gitignore"), Some(("", "")));
        assert_eq!(roots_of("liblz4/xlib/.gitignore", "lib/.gitignore"), None);
        assert_eq!(
            roots_of("nginx/src/os/win32/ngx_user.c", "src/os/unix/ngx_user.c"),
            None
        );
        assert_eq!(roots_of("liblz4/LICENSE", "LICENSE"), Some(("liblz4/", "")));
        assert_eq!(
            roots_of(
                "java/org/apache/tomcat/dbcp/pool2/DestroyMode.java",
                "src/main/java/org/apache/commons/pool2/DestroyMode.java"
            ),
            Some((
                "java/org/apache/tomcat/dbcp/",
                "src/main/java/org/apache/commons/"
            ))
        );
        assert_eq!(roots_of("lib/ax.c", "lib/x.c"), None);
        assert_eq!(roots_of("lib/x", ""), None);
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
    fn a_weak_finding_alone_is_judged_by_the_trees_of_its_project() {
        let finding = |path: &str, project: &str, origin: &str| {
            let mut o = crate::policy::tests::origin(Some(project), Some("1"), None);
            o.path = origin.into();
            crate::policy::tests::finding(path, [1, 10], o)
        };
        let tree: Vec<Finding> = ["lapi.c", "lcode.c", "ldo.c", "lgc.c"]
            .iter()
            .map(|p| finding(&format!("deps/lua/src/{p}"), "lua", &format!("src/{p}")))
            .collect();
        let trees = CopiedTrees::of(&tree);
        assert!(trees.has_project("lua"));
        assert!(!trees.has_project("jemalloc"));
        let keeps = |trees: &CopiedTrees, path: &str, project: &str, origin: &str| {
            keeps_alone(trees, &finding(path, project, origin))
        };
        // Against the vendored project, outside its tree: its idiom.
        assert!(!keeps(&trees, "src/networking.c", "lua", "src/ldebug.c"));
        // Inside the tree, in the origin's directory the tree maps it to.
        assert!(keeps(
            &trees,
            "deps/lua/src/lua_cjson.c",
            "lua",
            "src/lmathlib.c"
        ));
        // Below the tree's root, in another directory of the origin.
        assert!(!keeps(&trees, "deps/lua/etc/x.c", "lua", "src/lmathlib.c"));
        // A project no tree comes from: nothing to judge by.
        assert!(keeps(&trees, "src/zmalloc.c", "jemalloc", "src/jemalloc.c"));
        // Three files are not yet a tree.
        let trees = CopiedTrees::of(&tree[..3]);
        assert!(keeps(&trees, "src/networking.c", "lua", "src/ldebug.c"));
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
        let around = trees.around("deps/jemalloc/src/ticker.c");
        assert_eq!(
            around,
            vec![("jemalloc".to_string(), "src/ticker.c".to_string())]
        );
        assert!(trees.around("deps/other/ticker.c").is_empty());
        // Three siblings besides the file itself.
        let trees = CopiedTrees::of(&found[..3]);
        assert!(trees.around("deps/jemalloc/src/a.c").is_empty());
        // A repackaged tree: its files sit at other directories of the
        // origin, the same below them.
        let renamed: Vec<Finding> = ["A", "B", "C"]
            .iter()
            .map(|c| {
                finding(
                    &format!("java/org/apache/tomcat/dbcp/pool2/{c}.java"),
                    &format!("src/main/java/org/apache/commons/pool2/{c}.java"),
                )
            })
            .collect();
        let trees = CopiedTrees::of(&renamed);
        assert_eq!(
            trees.around("java/org/apache/tomcat/dbcp/pool2/DestroyMode.java"),
            vec![(
                "jemalloc".to_string(),
                "src/main/java/org/apache/commons/pool2/DestroyMode.java".to_string()
            )]
        );
    }
}
