//! Postings held in memory, for matching without an index: `provscan
//! compare` and the accuracy harness. Gram hashes found in many origin files
//! prove nothing about where a copy came from and never seed a match, as
//! with the index's common fingerprints.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use crate::align::Anchor;
use crate::matcher::Posting;
use crate::pipeline::{Postings, Streams};
use crate::stream::SymbolStream;
use crate::winnow::Fingerprint;
use crate::Token;

pub struct MemoryIndex {
    postings: HashMap<u64, Vec<Posting>>,
    /// Hashes in more origin files than this are common.
    common_above: usize,
    /// Origin file `id`'s token stream.
    streams: Vec<Arc<SymbolStream>>,
}

impl MemoryIndex {
    /// Origin file `id` is the `id`-th item of `files`: its tokens, their
    /// fingerprints, and its bytes (for literal values).
    pub fn build<'a>(
        files: impl IntoIterator<Item = (&'a [Token], &'a [Fingerprint], &'a [u8])>,
    ) -> MemoryIndex {
        let mut postings: HashMap<u64, Vec<Posting>> = HashMap::new();
        let mut streams = Vec::new();
        let mut count = 0;
        for (id, (tokens, fps, bytes)) in files.into_iter().enumerate() {
            count += 1;
            streams.push(Arc::new(SymbolStream::of_file(tokens, bytes)));
            for fp in fps {
                postings.entry(fp.hash).or_default().push(Posting {
                    origin: id as u64,
                    anchor: Anchor::from(fp),
                });
            }
        }
        MemoryIndex {
            postings,
            common_above: (count / 100).max(10),
            streams,
        }
    }

    /// `(index in target, posting)` pairs, as `matcher::find_snippets` takes them.
    pub fn hits<'a>(
        &'a self,
        target: &'a [Fingerprint],
    ) -> impl Iterator<Item = (usize, Posting)> + 'a {
        target.iter().enumerate().flat_map(move |(i, fp)| {
            let list = self
                .postings
                .get(&fp.hash)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let usable = distinct_origins(list) <= self.common_above;
            list.iter().filter(move |_| usable).map(move |p| (i, *p))
        })
    }
}

impl Postings for MemoryIndex {
    type Error = Infallible;

    fn lookup(&self, grams: &[Fingerprint]) -> Result<Vec<(usize, Posting)>, Infallible> {
        Ok(self.hits(grams).collect())
    }
}

impl Streams for MemoryIndex {
    type Error = Infallible;

    fn stream(&self, origin: u64) -> Result<Option<Arc<SymbolStream>>, Infallible> {
        Ok(self.streams.get(origin as usize).cloned())
    }
}

fn distinct_origins(list: &[Posting]) -> usize {
    let mut ids: Vec<u64> = list.iter().map(|p| p.origin).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(hash: u64, pos: u32) -> Fingerprint {
        Fingerprint {
            hash,
            pos,
            first_line: 1,
            last_line: 1,
        }
    }

    #[test]
    fn common_hashes_give_no_hits() {
        let files: Vec<Vec<Fingerprint>> =
            (0..12).map(|i| vec![fp(7, 0), fp(100 + i, 1)]).collect();
        let index = MemoryIndex::build(files.iter().map(|f| (&[][..], f.as_slice(), &[][..])));
        let target = [fp(7, 3), fp(105, 4)];
        let hits: Vec<(usize, Posting)> = index.hits(&target).collect();
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].0, hits[0].1.origin), (1, 5));
    }
}
