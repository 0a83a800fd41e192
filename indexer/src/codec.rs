//! Byte encodings of the index: varints, fixed-width keys and posting lists.
//!
//! A posting list is the value of one fingerprint key. It is either a list
//! of entries sorted by (content, position), each entry two varints
//! (content id delta, token position; lines come from the content's token
//! stream in the forward store, when a match needs them),
//! or, once more than [`SATURATION`] distinct contents share the
//! fingerprint, a "saturated" marker holding only the document frequency:
//! such a fingerprint is common whatever the configured threshold, and its
//! postings would only cost space.

use rocksdb::MergeOperands;

/// Distinct contents above which a posting list keeps only its count.
pub const SATURATION: usize = 1024;

const TAG_LIST: u8 = 0;
const TAG_SATURATED: u8 = 1;

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
            PostingList::List(e) => distinct_contents(e) as u64,
            PostingList::Saturated { df } => *df,
        }
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

/// Encodes entries (any order); saturates above [`SATURATION`] contents.
pub fn encode_list(entries: &mut Vec<Entry>) -> Vec<u8> {
    entries.sort_unstable();
    entries.dedup();
    let df = distinct_contents(entries);
    if df > SATURATION {
        return encode_saturated(df as u64);
    }
    let mut out = Vec::with_capacity(1 + entries.len() * 6);
    out.push(TAG_LIST);
    let mut prev = 0u64;
    for e in entries.iter() {
        put_varint(&mut out, e.content - prev);
        put_varint(&mut out, u64::from(e.pos));
        prev = e.content;
    }
    out
}

pub fn encode_saturated(df: u64) -> Vec<u8> {
    let mut out = vec![TAG_SATURATED];
    put_varint(&mut out, df);
    out
}

/// Decodes a posting list; `None` if the bytes are not one.
pub fn decode(buf: &[u8]) -> Option<PostingList> {
    let (&tag, _) = buf.split_first()?;
    let mut at = 1;
    match tag {
        TAG_LIST => {
            let mut entries = Vec::with_capacity((buf.len() - 1) / 5);
            let mut content = 0u64;
            while at < buf.len() {
                content += get_varint(buf, &mut at)?;
                let pos = u32::try_from(get_varint(buf, &mut at)?).ok()?;
                entries.push(Entry { content, pos });
            }
            Some(PostingList::List(entries))
        }
        TAG_SATURATED => {
            let df = get_varint(buf, &mut at)?;
            (at == buf.len()).then_some(PostingList::Saturated { df })
        }
        _ => None,
    }
}

/// Combines posting lists: the union of their entries, or a saturated
/// marker summing the counts once any part is saturated or the union
/// grows past [`SATURATION`] contents. Associative, so RocksDB may use it
/// both as full and partial merge.
pub fn merge_lists<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut saturated_df = 0u64;
    let mut saturated = false;
    for part in parts {
        match decode(part) {
            Some(PostingList::List(mut e)) => entries.append(&mut e),
            Some(PostingList::Saturated { df }) => {
                saturated = true;
                saturated_df += df;
            }
            // Undecodable parts cannot occur short of disk corruption, which
            // RocksDB's checksums catch first; dropping them keeps reads going.
            None => {}
        }
    }
    if saturated {
        entries.sort_unstable();
        return encode_saturated(saturated_df + distinct_contents(&entries) as u64);
    }
    encode_list(&mut entries)
}

/// The merge operator of the postings column family.
pub fn merge_operator(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &MergeOperands,
) -> Option<Vec<u8>> {
    Some(merge_lists(existing.into_iter().chain(operands.iter())))
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
    fn lists_round_trip_sorted() {
        let mut entries = vec![e(9, 4), e(3, 100), e(3, 7), e(9, 4)];
        let bytes = encode_list(&mut entries);
        assert_eq!(
            decode(&bytes),
            Some(PostingList::List(vec![e(3, 7), e(3, 100), e(9, 4)]))
        );
        // Small: 1 tag byte + 2 bytes per entry here.
        assert_eq!(bytes.len(), 7);
    }

    #[test]
    fn merge_unions_and_saturates() {
        let a = encode_list(&mut vec![e(1, 1)]);
        let b = encode_list(&mut vec![e(2, 5), e(1, 1)]);
        let merged = merge_lists([a.as_slice(), b.as_slice()]);
        assert_eq!(decode(&merged).unwrap().df(), 2);
        let big: Vec<u8> = encode_list(&mut (0..SATURATION as u64).map(|c| e(c + 10, 0)).collect());
        let merged = merge_lists([merged.as_slice(), big.as_slice()]);
        assert_eq!(
            decode(&merged),
            Some(PostingList::Saturated {
                df: SATURATION as u64 + 2
            })
        );
        let more = merge_lists([merged.as_slice(), a.as_slice()]);
        assert_eq!(decode(&more).unwrap().df(), SATURATION as u64 + 3);
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[7, 1]), None);
        assert_eq!(decode(&[0, 0x80]), None);
    }
}
