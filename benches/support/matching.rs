//! The snippet path of `provscan compare`, for the accuracy harness.
//!
//! This is a minimal equivalent of `Corpus::build` and the snippet branch of
//! `Corpus::matches` in `src/compare.rs` (which lives in the binary crate and
//! is not reachable from a bench). Keep the two in step: an in-memory
//! posting map keyed by fingerprint hash, gram hashes found in more than
//! `max(files / 100, 10)` origin files ignored, then
//! `engine::matcher::find_snippets`. The whole-file digest shortcut of
//! `compare` is left out: a host with a pasted snippet never equals a donor.

use std::collections::HashMap;

use engine::align::Anchor;
use engine::matcher::{find_snippets, Finding, MatchParams, Posting};
use engine::Fingerprint;

pub struct Corpus {
    postings: HashMap<u64, Vec<Posting>>,
    common_above: usize,
    /// Language family of each origin file.
    families: Vec<&'static str>,
}

impl Corpus {
    /// `files[id]` are the fingerprints of origin file `id`, `families[id]` its
    /// language family.
    pub fn build(files: &[Vec<Fingerprint>], families: Vec<&'static str>) -> Corpus {
        let mut postings: HashMap<u64, Vec<Posting>> = HashMap::new();
        for (id, fps) in files.iter().enumerate() {
            for fp in fps {
                postings.entry(fp.hash).or_default().push(Posting {
                    origin: id as u64,
                    anchor: Anchor::from(fp),
                });
            }
        }
        Corpus {
            postings,
            common_above: (files.len() / 100).max(10),
            families,
        }
    }

    fn distinct_origins(list: &[Posting]) -> usize {
        let mut ids: Vec<u64> = list.iter().map(|p| p.origin).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// `same_family`: only origins of this language family. `compare` has no
    /// such filter today (this is the proposed change measured by `family=1`).
    pub fn matches(
        &self,
        target: &[Fingerprint],
        params: &MatchParams,
        same_family: Option<&str>,
    ) -> Vec<Finding> {
        let hits = target.iter().enumerate().flat_map(|(i, fp)| {
            let list = self
                .postings
                .get(&fp.hash)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let usable = Self::distinct_origins(list) <= self.common_above;
            list.iter()
                .filter(move |p| {
                    usable && same_family.is_none_or(|f| self.families[p.origin as usize] == f)
                })
                .map(move |p| (i, *p))
        });
        find_snippets(target, hits, params)
    }
}
