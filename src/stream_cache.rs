//! Origin token streams kept between the files of one scan.
//!
//! The files of a vendored tree come back to the same origins (a header
//! every file includes, the library file next to its test), one directory
//! after another. Emptying the whole cache when it filled up made a scan of
//! the copies tree of the scan bench decode 9 times the tokens of the
//! origins it touched; evicting the least recently used streams keeps the
//! ones a directory is still matching against.

use std::collections::HashMap;
use std::sync::Arc;

use engine::stream::SymbolStream;

pub struct StreamCache {
    /// Most tokens held.
    budget: usize,
    held: usize,
    clock: u64,
    /// Each stream with the time of its last use.
    streams: HashMap<u64, (Arc<SymbolStream>, u64)>,
}

impl StreamCache {
    pub fn new(budget: usize) -> StreamCache {
        StreamCache {
            budget,
            held: 0,
            clock: 0,
            streams: HashMap::new(),
        }
    }

    pub fn get(&mut self, origin: u64) -> Option<Arc<SymbolStream>> {
        self.clock += 1;
        let now = self.clock;
        self.streams.get_mut(&origin).map(|(s, used)| {
            *used = now;
            s.clone()
        })
    }

    /// Keeps `stream`; when that goes over the budget, the least recently
    /// used streams go until a quarter of it is free again (one sort per
    /// many inserts, not one per insert). A stream larger than the whole
    /// budget is not kept.
    pub fn insert(&mut self, origin: u64, stream: Arc<SymbolStream>) {
        if stream.len() > self.budget || self.streams.contains_key(&origin) {
            return;
        }
        self.clock += 1;
        self.held += stream.len();
        self.streams.insert(origin, (stream, self.clock));
        if self.held <= self.budget {
            return;
        }
        let mut by_use: Vec<(u64, u64, usize)> = self
            .streams
            .iter()
            .map(|(&o, (s, used))| (*used, o, s.len()))
            .collect();
        by_use.sort_unstable();
        let keep = self.budget - self.budget / 4;
        for (_, o, len) in by_use {
            if self.held <= keep {
                break;
            }
            self.streams.remove(&o);
            self.held -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(tokens: usize) -> Arc<SymbolStream> {
        let mut s = SymbolStream::default();
        for i in 0..tokens {
            s.syms.push(1);
            s.lines.push(1 + i as u32);
            s.end_lines.push(1 + i as u32);
            s.starts.push(i as u32);
            s.ends.push(i as u32 + 1);
        }
        Arc::new(s)
    }

    #[test]
    fn the_least_recently_used_streams_go_first() {
        let mut c = StreamCache::new(100);
        for o in 0..4 {
            c.insert(o, stream(25));
        }
        // 0 is used again: 1 is now the oldest.
        assert!(c.get(0).is_some());
        c.insert(4, stream(25));
        assert!(c.get(1).is_none(), "the oldest went");
        assert!(c.get(0).is_some(), "the one used again stayed");
        assert!(c.get(4).is_some());
        assert!(c.held <= 100);
    }

    #[test]
    fn a_stream_larger_than_the_budget_is_not_kept() {
        let mut c = StreamCache::new(10);
        c.insert(1, stream(5));
        c.insert(2, stream(11));
        assert!(c.get(2).is_none());
        assert!(c.get(1).is_some());
    }
}
