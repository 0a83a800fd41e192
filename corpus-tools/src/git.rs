//! Versions from a local git repository: one version per tag.
//!
//! Uses libgit2 (the `git2` crate, vendored, without network transports),
//! which builds in about a minute on two cores where `gix` with the needed
//! features takes several. Trees are listed with blob ids first, so callers
//! can skip blobs they already indexed under another tag before reading
//! any content ([`GitRepo::read_blob`]).

use std::path::{Path, PathBuf};

use crate::file::{SkipReason, Skipped};

/// Errors from reading a repository; each names the repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not a git repository.
    #[error("{path}: cannot open git repository: {message}")]
    Open {
        /// The repository path.
        path: PathBuf,
        /// libgit2's message.
        message: String,
    },
    /// A tag glob that does not compile.
    #[error("{path}: bad tag glob {glob:?}: {message}")]
    Glob {
        /// The repository path.
        path: PathBuf,
        /// The glob.
        glob: String,
        /// The glob compiler's complaint.
        message: String,
    },
    /// No tag (or none matching the glob).
    #[error("{path}: no tags{}; to index the working tree instead use dir:{}", .glob.as_ref().map(|g| format!(" matching {g:?}")).unwrap_or_default(), .path.display())]
    NoTags {
        /// The repository path.
        path: PathBuf,
        /// The glob, if any.
        glob: Option<String>,
    },
    /// Reading an object failed.
    #[error("{path}: {what}: {message}")]
    Read {
        /// The repository path.
        path: PathBuf,
        /// What was being read (tag, tree, blob id).
        what: String,
        /// libgit2's message.
        message: String,
    },
}

/// A tag and the commit (or tree) it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// Tag name without `refs/tags/`.
    pub name: String,
    /// Id of the tree the tag resolves to.
    pub tree_id: String,
    /// Commit time (seconds since the epoch) when the tag points at a
    /// commit; used to order versions.
    pub time: Option<i64>,
}

/// Content id of a blob: equal ids mean equal bytes, across tags.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(String);

impl BlobId {
    /// The hexadecimal object id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One file of a tagged tree, not yet read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeFile {
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// The blob holding its content.
    pub blob: BlobId,
    /// Size in bytes.
    pub size: u64,
}

/// An opened repository.
pub struct GitRepo {
    repo: git2::Repository,
    path: PathBuf,
}

impl GitRepo {
    /// Opens a work tree or bare repository.
    pub fn open(path: &Path) -> Result<GitRepo, GitError> {
        let repo = git2::Repository::open(path).map_err(|e| GitError::Open {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
        Ok(GitRepo {
            repo,
            path: path.to_path_buf(),
        })
    }

    fn read_err(&self, what: impl Into<String>, e: git2::Error) -> GitError {
        GitError::Read {
            path: self.path.clone(),
            what: what.into(),
            message: e.message().to_string(),
        }
    }

    /// Tags matching `glob` (all when `None`), oldest commit first, then
    /// by name. Tags that do not resolve to a tree (tagged blobs) are left
    /// out. Errors with [`GitError::NoTags`] when nothing matches.
    pub fn tags(&self, glob: Option<&str>) -> Result<Vec<Tag>, GitError> {
        let matcher = match glob {
            Some(g) => Some(
                globset::Glob::new(g)
                    .map_err(|e| GitError::Glob {
                        path: self.path.clone(),
                        glob: g.to_string(),
                        message: e.kind().to_string(),
                    })?
                    .compile_matcher(),
            ),
            None => None,
        };
        let names = self
            .repo
            .tag_names(None)
            .map_err(|e| self.read_err("listing tags", e))?;
        let mut tags = Vec::new();
        for i in 0..names.len() {
            let Ok(Some(name)) = names.get(i) else {
                continue;
            };
            if let Some(m) = &matcher {
                if !m.is_match(name) {
                    continue;
                }
            }
            let obj = self
                .repo
                .revparse_single(&format!("refs/tags/{name}"))
                .map_err(|e| self.read_err(format!("tag {name}"), e))?;
            let Ok(tree) = obj.peel_to_tree() else {
                continue;
            };
            let time = obj.peel_to_commit().ok().map(|c| c.time().seconds());
            tags.push(Tag {
                name: name.to_string(),
                tree_id: tree.id().to_string(),
                time,
            });
        }
        if tags.is_empty() {
            return Err(GitError::NoTags {
                path: self.path.clone(),
                glob: glob.map(str::to_string),
            });
        }
        tags.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.name.cmp(&b.name)));
        Ok(tags)
    }

    /// Lists the files of a tag's tree without reading them. Links and
    /// submodules are reported as skipped.
    pub fn tree_files(&self, tag: &Tag) -> Result<(Vec<TreeFile>, Vec<Skipped>), GitError> {
        let oid = git2::Oid::from_str(&tag.tree_id)
            .map_err(|e| self.read_err(format!("tag {}", tag.name), e))?;
        let tree = self
            .repo
            .find_tree(oid)
            .map_err(|e| self.read_err(format!("tree of tag {}", tag.name), e))?;
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        let odb = self
            .repo
            .odb()
            .map_err(|e| self.read_err("object database", e))?;
        let mut failure = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let path = format!("{dir}{}", entry.name().unwrap_or("?"));
            match entry.filemode() {
                0o040000 => return git2::TreeWalkResult::Ok,
                0o160000 => skipped.push(Skipped {
                    path,
                    reason: SkipReason::Submodule,
                }),
                0o120000 => {
                    let target = self
                        .repo
                        .find_blob(entry.id())
                        .map(|b| String::from_utf8_lossy(b.content()).into_owned())
                        .unwrap_or_default();
                    skipped.push(Skipped {
                        path,
                        reason: SkipReason::Link { target },
                    })
                }
                _ => match odb.read_header(entry.id()) {
                    Ok((size, _)) => files.push(TreeFile {
                        path,
                        blob: BlobId(entry.id().to_string()),
                        size: size as u64,
                    }),
                    Err(e) => {
                        failure = Some(self.read_err(format!("blob {} ({path})", entry.id()), e));
                        return git2::TreeWalkResult::Abort;
                    }
                },
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| {
            failure
                .take()
                .unwrap_or_else(|| self.read_err(format!("walking tag {}", tag.name), e))
        })?;
        if let Some(f) = failure {
            return Err(f);
        }
        Ok((files, skipped))
    }

    /// Reads a blob's content.
    pub fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>, GitError> {
        let oid = git2::Oid::from_str(&id.0).map_err(|e| self.read_err(format!("blob {id}"), e))?;
        let blob = self
            .repo
            .find_blob(oid)
            .map_err(|e| self.read_err(format!("blob {id}"), e))?;
        Ok(blob.content().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a repository with libgit2: v1 has a.c and b.c, v2 changes b.c
    /// and adds c.c; a.c is shared.
    pub(crate) fn two_tag_repo(dir: &Path) {
        let repo = git2::Repository::init(dir).unwrap();
        let sig =
            git2::Signature::new("T", "t@example.org", &git2::Time::new(1_600_000_000, 0)).unwrap();
        let commit = |files: &[(&str, &str)], parent: Option<git2::Oid>, t: i64| -> git2::Oid {
            let mut tb = repo.treebuilder(None).unwrap();
            let mut sub = repo.treebuilder(None).unwrap();
            for (name, body) in files {
                let blob = repo.blob(body.as_bytes()).unwrap();
                if let Some(n) = name.strip_prefix("src/") {
                    sub.insert(n, blob, 0o100644).unwrap();
                } else {
                    tb.insert(name, blob, 0o100644).unwrap();
                }
            }
            let sub_id = sub.write().unwrap();
            tb.insert("src", sub_id, 0o040000).unwrap();
            let tree = repo.find_tree(tb.write().unwrap()).unwrap();
            let sig = git2::Signature::new("T", "t@example.org", &git2::Time::new(t, 0)).unwrap();
            let parents: Vec<git2::Commit> = parent
                .map(|p| repo.find_commit(p).unwrap())
                .into_iter()
                .collect();
            let refs: Vec<&git2::Commit> = parents.iter().collect();
            repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &refs)
                .unwrap()
        };
        let c1 = commit(
            &[("src/a.c", "int a;\n"), ("src/b.c", "int b1;\n")],
            None,
            1_600_000_000,
        );
        repo.tag(
            "v1.0",
            &repo.find_object(c1, None).unwrap(),
            &sig,
            "one",
            false,
        )
        .unwrap();
        let c2 = commit(
            &[
                ("src/a.c", "int a;\n"),
                ("src/b.c", "int b2;\n"),
                ("src/c.c", "int c;\n"),
            ],
            Some(c1),
            1_600_000_100,
        );
        repo.tag_lightweight("v2.0", &repo.find_object(c2, None).unwrap(), false)
            .unwrap();
        repo.tag_lightweight("other", &repo.find_object(c2, None).unwrap(), false)
            .unwrap();
    }

    #[test]
    fn tags_and_shared_blobs() {
        let d = tempfile::tempdir().unwrap();
        two_tag_repo(d.path());
        let repo = GitRepo::open(d.path()).unwrap();
        let tags = repo.tags(Some("v*")).unwrap();
        let names: Vec<_> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["v1.0", "v2.0"]);
        let (f1, _) = repo.tree_files(&tags[0]).unwrap();
        let (f2, _) = repo.tree_files(&tags[1]).unwrap();
        assert_eq!(
            f1.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["src/a.c", "src/b.c"]
        );
        assert_eq!(f2.len(), 3);
        assert_eq!(f1[0].blob, f2[0].blob, "a.c is shared");
        assert_ne!(f1[1].blob, f2[1].blob, "b.c changed");
        assert_eq!(repo.read_blob(&f2[2].blob).unwrap(), b"int c;\n");
        assert_eq!(repo.tags(None).unwrap().len(), 3);
        assert!(matches!(
            repo.tags(Some("x*")).unwrap_err(),
            GitError::NoTags { .. }
        ));
    }

    #[test]
    fn not_a_repo() {
        let d = tempfile::tempdir().unwrap();
        let e = GitRepo::open(d.path()).err().unwrap();
        assert!(e.to_string().contains(&d.path().display().to_string()));
    }
}
