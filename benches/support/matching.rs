//! The snippet path of `provscan compare`, for the accuracy harness.
//!
//! Both this and `src/compare.rs` match through `engine::memory::MemoryIndex`
//! (gram hashes found in more than `max(files / 100, 10)` origin files
//! ignored) and `engine::matcher::match_file`. The whole-file digest shortcut of
//! `compare` is left out: a host with a pasted snippet never equals a donor.

use engine::matcher::{match_file, Finding, MatchParams};
use engine::memory::MemoryIndex;
use engine::{Fingerprint, Params, Token};

pub struct Corpus {
    postings: MemoryIndex,
    /// Language family of each origin file.
    families: Vec<&'static str>,
}

impl Corpus {
    /// `files[id]` are the fingerprints of origin file `id`, `families[id]` its
    /// language family.
    pub fn build(files: &[Vec<Fingerprint>], families: Vec<&'static str>) -> Corpus {
        Corpus {
            postings: MemoryIndex::build(files.iter().map(Vec::as_slice)),
            families,
        }
    }

    /// `same_family`: only origins of this language family. `compare` has no
    /// such filter today (this is the proposed change measured by `family=1`).
    pub fn matches(
        &self,
        tokens: &[Token],
        target: &[Fingerprint],
        grams: Params,
        params: &MatchParams,
        same_family: Option<&str>,
    ) -> Vec<Finding> {
        let lookup = |grams: &[Fingerprint]| {
            Ok::<_, std::convert::Infallible>(
                self.postings
                    .hits(grams)
                    .filter(|(_, p)| {
                        same_family.is_none_or(|f| self.families[p.origin as usize] == f)
                    })
                    .collect(),
            )
        };
        match match_file(tokens, target, grams, params, lookup) {
            Ok(found) => found,
            Err(never) => match never {},
        }
    }

    /// Whether any of `target` hits an origin (of this family): the probe gate of `scan`.
    pub fn any_hit(&self, target: &[Fingerprint], same_family: Option<&str>) -> bool {
        self.postings
            .hits(target)
            .any(|(_, p)| same_family.is_none_or(|f| self.families[p.origin as usize] == f))
    }
}
