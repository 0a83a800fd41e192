//! The index as the engine's pipeline sees it: postings to seed a match,
//! token streams to extend and verify it.

use std::sync::Arc;

use engine::matcher::Posting;
use engine::pipeline::{Postings, Streams};
use engine::stream::SymbolStream;
use engine::Fingerprint;

use crate::{Index, IndexError};

impl Postings for Index {
    type Error = IndexError;

    fn lookup(&self, grams: &[Fingerprint]) -> Result<Vec<(usize, Posting)>, IndexError> {
        if grams.is_empty() {
            return Ok(Vec::new());
        }
        let hashes: Vec<u64> = grams.iter().map(|g| g.hash).collect();
        Ok(self.postings(&hashes)?.hits().collect())
    }
}

impl Streams for Index {
    type Error = IndexError;

    fn stream(&self, origin: u64) -> Result<Option<Arc<SymbolStream>>, IndexError> {
        Ok(Index::stream(self, origin)?.map(Arc::new))
    }
}
