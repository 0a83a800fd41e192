//! Files too small to identify a copy on their own, found where a copied
//! tree puts them.
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

use std::collections::{HashMap, HashSet};

use engine::lang::SkipKind;

use crate::report::Finding;
use crate::targets::InputFile;

/// Other files of the tree, found copied at their own paths, that a small
/// file needs beside it: three is a directory copied, not a coincidence.
pub(crate) const MIN_PLACED_SIBLINGS: usize = 3;

/// A scanned file too small to identify a copy alone, with no finding.
/// Its bytes are kept (fewer than 64) for the report's digests and ids.
#[derive(Clone, Debug)]
pub(crate) struct SmallFile {
    pub rel: String,
    pub bytes: Vec<u8>,
}

impl SmallFile {
    /// `file` if it is small and was checked and found nothing (`skip`:
    /// why it was passed over, if it was); an empty file, or one skipped
    /// for what it is (binary, a license text), is not a candidate.
    pub(crate) fn of(file: &InputFile, skip: Option<SkipKind>) -> Option<SmallFile> {
        let small = !file.bytes.is_empty()
            && (file.bytes.len() as u64) < engine::identity::MIN_IDENTIFYING_LEN;
        let checked = matches!(skip, None | Some(SkipKind::Empty));
        (small && checked).then(|| SmallFile {
            rel: file.rel.clone(),
            bytes: file.bytes.to_vec(),
        })
    }
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
}
