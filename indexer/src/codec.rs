//! Byte encodings of the index: varints, fixed-width keys, and what one
//! fingerprint's postings are.
//!
//! A fingerprint's postings are either a list of entries sorted by
//! (content, position) (lines come from the content's token stream in the
//! forward store, when a match needs them), or, once more than
//! [`SATURATION`] distinct contents share the fingerprint, a "saturated"
//! marker holding only the document frequency: such a fingerprint is
//! common whatever the configured threshold, and its postings would only
//! cost space. How lists are laid out on disk is `crate::bucket`.

/// Distinct contents above which a posting list keeps only its count.
pub const SATURATION: usize = 1024;

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `*at`, advancing it; `None` on truncated input.
#[inline]
pub fn get_varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    // Most values (symbol references, deltas) fit in one byte.
    if let Some(&b) = buf.get(*at) {
        if b < 0x80 {
            *at += 1;
            return Some(u64::from(b));
        }
    }
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*at)?;
        *at += 1;
        if shift > 63 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

/// One stored occurrence of a fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub content: u64,
    pub pos: u32,
}

/// A decoded posting list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostingList {
    List(Vec<Entry>),
    /// Too many contents to keep: only how many.
    Saturated {
        df: u64,
    },
}

impl PostingList {
    /// Number of distinct contents.
    pub fn df(&self) -> u64 {
        match self {
            PostingList::List(e) => Self::df_of(e),
            PostingList::Saturated { df } => *df,
        }
    }

    /// Number of distinct contents of entries sorted by content.
    pub fn df_of(sorted: &[Entry]) -> u64 {
        distinct_contents(sorted) as u64
    }
}

fn distinct_contents(sorted: &[Entry]) -> usize {
    let mut n = 0;
    let mut last = None;
    for e in sorted {
        if last != Some(e.content) {
            n += 1;
            last = Some(e.content);
        }
    }
    n
}

impl PostingList {
    /// A list of `entries` (any order, duplicates allowed), or the
    /// saturated marker once they span more than [`SATURATION`] contents.
    pub fn of(mut entries: Vec<Entry>) -> PostingList {
        entries.sort_unstable();
        entries.dedup();
        let df = distinct_contents(&entries);
        if df > SATURATION {
            PostingList::Saturated { df: df as u64 }
        } else {
            PostingList::List(entries)
        }
    }

    /// The union of two lists of one fingerprint, or a saturated marker
    /// summing the counts once either is saturated or the union grows past
    /// [`SATURATION`] contents. Associative, so RocksDB may merge operands
    /// in any grouping.
    pub fn union(self, other: PostingList) -> PostingList {
        match (self, other) {
            (PostingList::List(mut a), PostingList::List(b)) => {
                a.extend(b);
                PostingList::of(a)
            }
            (PostingList::Saturated { df }, PostingList::List(e))
            | (PostingList::List(e), PostingList::Saturated { df }) => PostingList::Saturated {
                df: df + distinct_contents(&e) as u64,
            },
            (PostingList::Saturated { df: a }, PostingList::Saturated { df: b }) => {
                PostingList::Saturated { df: a + b }
            }
        }
    }

    /// The entries whose content `live` keeps; `None` when none is left.
    /// A saturated marker stays as it is: it names no content.
    pub fn retain(self, live: impl Fn(u64) -> bool) -> Option<PostingList> {
        match self {
            PostingList::List(mut e) => {
                e.retain(|e| live(e.content));
                (!e.is_empty()).then_some(PostingList::List(e))
            }
            saturated => Some(saturated),
        }
    }
}

pub fn u64_key(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

pub fn read_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

pub fn read_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(content: u64, pos: u32) -> Entry {
        Entry { content, pos }
    }

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut at = 0;
            assert_eq!(get_varint(&b, &mut at), Some(v));
            assert_eq!(at, b.len());
        }
        assert_eq!(get_varint(&[0x80], &mut 0), None);
    }

    #[test]
    fn lists_are_sorted_and_deduplicated() {
        let list = PostingList::of(vec![e(9, 4), e(3, 100), e(3, 7), e(9, 4)]);
        assert_eq!(list, PostingList::List(vec![e(3, 7), e(3, 100), e(9, 4)]));
        assert_eq!(list.df(), 2);
    }

    #[test]
    fn union_merges_and_saturates() {
        let a = PostingList::of(vec![e(1, 1)]);
        let b = PostingList::of(vec![e(2, 5), e(1, 1)]);
        let merged = a.clone().union(b);
        assert_eq!(merged.df(), 2);
        let big = PostingList::of((0..SATURATION as u64).map(|c| e(c + 10, 0)).collect());
        let merged = merged.union(big);
        assert_eq!(
            merged,
            PostingList::Saturated {
                df: SATURATION as u64 + 2
            }
        );
        assert_eq!(merged.union(a).df(), SATURATION as u64 + 3);
    }

    #[test]
    fn retain_drops_dead_contents() {
        let list = PostingList::of(vec![e(1, 1), e(2, 2)]);
        assert_eq!(
            list.clone().retain(|c| c == 2),
            Some(PostingList::List(vec![e(2, 2)]))
        );
        assert_eq!(list.retain(|_| false), None);
        let sat = PostingList::Saturated { df: 2000 };
        assert_eq!(sat.clone().retain(|_| false), Some(sat));
    }
}
