//! The snippet path of `provscan compare`, for the accuracy harness.
//!
//! Both this and `src/compare.rs` match through `engine::memory::MemoryIndex`
//! (gram hashes found in more than `max(files / 100, 10)` origin files
//! ignored) and `engine::pipeline::match_target`, the pipeline `scan` runs
//! against the index. The whole-file digest shortcut of `compare` is left
//! out: a host with a pasted snippet never equals a donor. The first
//! matcher (`engine::matcher::match_file`) stays reachable for the v1 row.

use std::sync::Arc;

use engine::matcher::{match_file, Finding, MatchParams, Posting};
use engine::memory::MemoryIndex;
use engine::pipeline::{match_target, Postings, Streams};
use engine::stream::SymbolStream;
use engine::{Fingerprint, Params, Token};

pub struct Corpus {
    index: MemoryIndex,
    /// Language family of each origin file.
    families: Vec<&'static str>,
}

/// The corpus seen from one target: origins of one family, or all.
struct Family<'a> {
    corpus: &'a Corpus,
    family: Option<&'a str>,
}

impl Postings for Family<'_> {
    type Error = std::convert::Infallible;

    fn lookup(&self, grams: &[Fingerprint]) -> Result<Vec<(usize, Posting)>, Self::Error> {
        Ok(self
            .corpus
            .index
            .hits(grams)
            .filter(|(_, p)| {
                self.family
                    .is_none_or(|f| self.corpus.families[p.origin as usize] == f)
            })
            .collect())
    }
}

impl Streams for Family<'_> {
    type Error = std::convert::Infallible;

    fn stream(&self, origin: u64) -> Result<Option<Arc<SymbolStream>>, Self::Error> {
        self.corpus.index.stream(origin)
    }
}

impl Corpus {
    /// `files[id]` are the tokens, fingerprints and bytes of origin file
    /// `id`, `families[id]` its language family.
    pub fn build(
        files: &[(Vec<Token>, Vec<Fingerprint>, &[u8])],
        families: Vec<&'static str>,
    ) -> Corpus {
        Corpus {
            index: MemoryIndex::build(
                files
                    .iter()
                    .map(|(t, f, b)| (t.as_slice(), f.as_slice(), *b)),
            ),
            families,
        }
    }

    /// `file`: the target's tokens and bytes. `same_family`: only origins
    /// of this language family. `v1`: the first matcher instead of the
    /// pipeline.
    pub fn matches(
        &self,
        (tokens, bytes): (&[Token], &[u8]),
        target: &[Fingerprint],
        grams: Params,
        params: &MatchParams,
        same_family: Option<&str>,
        v1: bool,
    ) -> Vec<Finding> {
        let family = Family {
            corpus: self,
            family: same_family,
        };
        let found = if v1 {
            match_file(tokens, target, grams, params, |g| family.lookup(g))
        } else {
            let stream = SymbolStream::of_file(tokens, bytes);
            match_target(&stream, target, &family, &family, params).map(|m| m.all_findings())
        };
        match found {
            Ok(found) => found,
            Err(never) => match never {},
        }
    }

    /// Whether any of `target` hits an origin (of this family): the probe gate of `scan`.
    pub fn any_hit(&self, target: &[Fingerprint], same_family: Option<&str>) -> bool {
        self.index
            .hits(target)
            .any(|(_, p)| same_family.is_none_or(|f| self.families[p.origin as usize] == f))
    }
}
