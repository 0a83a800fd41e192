//! Ranges of one file with a value each, asked which of them contain a
//! given stretch.
//!
//! The matcher asks this for every chain it considers ("is this stretch
//! already explained, already tried?"), and a large file matched against
//! one origin (an amalgamation, a vendored library in one piece) piles up
//! thousands of ranges: a scan of the whole list per chain was 8 % of a
//! scan's CPU. Kept sorted by first position with the running maximum of
//! the last one, a query looks only at ranges that start before the
//! stretch and stops as soon as none of the earlier ones reach past it.

use crate::align::Range;

#[derive(Debug)]
pub struct Intervals<T> {
    /// Sorted by `first`; among equal firsts, in insertion order.
    entries: Vec<(Range, T)>,
    /// `reach[i]`: the greatest `last` among `entries[..=i]`.
    reach: Vec<u32>,
}

impl<T> Default for Intervals<T> {
    fn default() -> Self {
        Intervals {
            entries: Vec::new(),
            reach: Vec::new(),
        }
    }
}

impl<T> Intervals<T> {
    pub fn insert(&mut self, range: Range, value: T) {
        let at = self
            .entries
            .partition_point(|(r, _)| r.first <= range.first);
        self.entries.insert(at, (range, value));
        self.reach.insert(at, 0);
        let mut reach = if at == 0 { 0 } else { self.reach[at - 1] };
        for i in at..self.entries.len() {
            reach = reach.max(self.entries[i].0.last);
            if i > at && self.reach[i] == reach {
                break;
            }
            self.reach[i] = reach;
        }
    }

    /// The ranges, by first position.
    pub fn ranges(&self) -> impl Iterator<Item = Range> + '_ {
        self.entries.iter().map(|(r, _)| *r)
    }

    /// The entries whose range holds all of `first..=last`.
    pub fn containing(&self, first: u32, last: u32) -> impl Iterator<Item = &(Range, T)> + '_ {
        let before = self.entries.partition_point(|(r, _)| r.first <= first);
        (0..before)
            .rev()
            .take_while(move |&i| self.reach[i] >= last)
            .map(move |i| &self.entries[i])
            .filter(move |(r, _)| r.last >= last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(first: u32, last: u32) -> Range {
        Range { first, last }
    }

    #[test]
    fn finds_a_long_range_behind_short_ones() {
        let mut iv = Intervals::default();
        iv.insert(r(10, 1000), 'a');
        for i in 0..50 {
            iv.insert(r(20 + 10 * i, 25 + 10 * i), 'b');
        }
        let hit: Vec<char> = iv.containing(300, 900).map(|(_, v)| *v).collect();
        assert_eq!(hit, vec!['a']);
        assert_eq!(iv.containing(5, 20).count(), 0);
        assert_eq!(iv.containing(500, 1001).count(), 0);
        assert_eq!(iv.containing(21, 24).count(), 2);
    }

    proptest! {
        /// The same answers as looking at every range.
        #[test]
        fn agrees_with_a_scan_of_every_range(
            ranges in proptest::collection::vec((0u32..200, 0u32..60), 0..40),
            queries in proptest::collection::vec((0u32..220, 0u32..40), 1..20),
        ) {
            let mut iv = Intervals::default();
            let mut all = Vec::new();
            for (n, &(first, len)) in ranges.iter().enumerate() {
                iv.insert(r(first, first + len), n);
                all.push((r(first, first + len), n));
            }
            for &(first, len) in &queries {
                let last = first + len;
                let mut got: Vec<usize> = iv.containing(first, last).map(|(_, n)| *n).collect();
                let mut want: Vec<usize> = all
                    .iter()
                    .filter(|(x, _)| x.first <= first && last <= x.last)
                    .map(|(_, n)| *n)
                    .collect();
                got.sort_unstable();
                want.sort_unstable();
                prop_assert_eq!(got, want);
            }
        }
    }
}
