//! How the `postings` column family lays out fingerprints: in buckets.
//!
//! Why buckets: a RocksDB entry costs about 10 bytes on disk before its
//! value (the key, RocksDB's 8-byte sequence suffix, block overhead), more
//! than the value of the typical fingerprint, which has one or two
//! postings. One entry per fingerprint made postings 18 bytes a key, over
//! half the index. Here one entry holds every fingerprint whose identity
//! starts with the same [`BUCKET_BITS`] bits, and inside it each
//! fingerprint costs its gap to the previous one, Rice-coded (about
//! 20 bits), and its postings as varints.
//!
//! What a bucket cannot do is tell a scan that a fingerprint is absent
//! without reading it: nearly every bucket exists. The postings key filter
//! (`crate::key_filter`) answers those misses, which are most of a scan's
//! lookups.
//!
//! **Identity.** The index keeps [`ID_BITS`] bits of each 64-bit
//! fingerprint hash, its top ones ([`KeyId`]). Two fingerprints that share
//! them share one list: with the 4.6 million keys of the bench index a
//! random fingerprint hits a kept identity by accident once in 240,000
//! lookups (once in 50 million behind the key filter), and such a stray
//! posting is a seed that the alignment then refuses. The top bits, not the
//! bottom ones, so that buckets follow hash order: a sorted run of
//! fingerprints (a shard's range, an ingested file) stays a key range.
//!
//! **A bucket's value** (all integers varints unless said):
//!
//! ```text
//! tag 0x01 · keys n · Rice parameter k (1 byte) · bit section length (bytes)
//! bit section, least significant bit first, per key:
//!     Rice code of the gap to the previous suffix (the first: the suffix)
//!     the key's kind, unary: 0 = one posting, 10 = saturated,
//!     1^m 0 (m >= 2) = m postings
//! byte section, per key in the same order:
//!     one posting: content, position
//!     m postings, sorted: content delta (the first: the content), position, ...
//!     saturated: document frequency
//! ```
//!
//! Every writer encodes through [`encode`] from normalized lists, so the
//! same postings always give the same bytes, whatever wrote them (the
//! digest of `index verify` relies on it).

use crate::codec::{get_varint, put_varint, Entry, PostingList};

/// Bits of a fingerprint hash the index keeps.
pub const ID_BITS: u32 = 40;
/// Bits of the identity that pick its bucket: 65,536 buckets, about 70
/// fingerprints (600 bytes) each in the bench index. A corpus a hundred
/// times larger would read 60 KB buckets; see `docs/scale.md`.
pub const BUCKET_BITS: u32 = 16;
const SUFFIX_BITS: u32 = ID_BITS - BUCKET_BITS;
const SUFFIX_MASK: u64 = (1 << SUFFIX_BITS) - 1;

const TAG: u8 = 1;

/// The part of a fingerprint hash the index keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(u64);

impl KeyId {
    pub fn of(hash: u64) -> KeyId {
        KeyId(hash >> (64 - ID_BITS))
    }

    fn from_parts(bucket: u16, suffix: u32) -> KeyId {
        KeyId((u64::from(bucket) << SUFFIX_BITS) | u64::from(suffix))
    }

    pub fn bucket(self) -> u16 {
        (self.0 >> SUFFIX_BITS) as u16
    }

    pub fn suffix(self) -> u32 {
        (self.0 & SUFFIX_MASK) as u32
    }

    /// The identity as a number (what the key filter holds).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// The RocksDB key of a bucket.
pub fn bucket_key(bucket: u16) -> [u8; 2] {
    bucket.to_be_bytes()
}

/// The bucket a RocksDB key names; `None` if it is not a bucket key.
pub fn read_bucket_key(key: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(key.try_into().ok()?))
}

/// Groups (identity, entry) pairs, sorted by identity (entries in any
/// order), into encoded buckets in key order.
pub fn group(sorted: &[(KeyId, Entry)]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut keys: Vec<(u32, PostingList)> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let id = sorted[i].0;
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == id {
            j += 1;
        }
        keys.push((
            id.suffix(),
            PostingList::of(sorted[i..j].iter().map(|p| p.1).collect()),
        ));
        if j == sorted.len() || sorted[j].0.bucket() != id.bucket() {
            out.push((id.bucket(), encode(&keys)));
            keys.clear();
        }
        i = j;
    }
    out
}

/// Encodes a bucket: `keys` sorted by suffix, strictly increasing, each
/// list normalized ([`PostingList::of`]).
pub fn encode(keys: &[(u32, PostingList)]) -> Vec<u8> {
    let n = keys.len() as u64;
    let k = rice_parameter(keys);
    let mut bits = BitWriter::default();
    let mut bytes = Vec::with_capacity(keys.len() * 6);
    let mut next = 0u64;
    for (suffix, list) in keys {
        let suffix = u64::from(*suffix);
        debug_assert!(suffix >= next, "suffixes must increase");
        bits.rice(suffix - next, k);
        next = suffix + 1;
        match list {
            PostingList::List(entries) if entries.len() == 1 => {
                bits.unary(0);
                put_varint(&mut bytes, entries[0].content);
                put_varint(&mut bytes, u64::from(entries[0].pos));
            }
            PostingList::List(entries) => {
                debug_assert!(entries.len() > 1, "an empty list is no key");
                bits.unary(entries.len() as u64);
                let mut prev = 0;
                for e in entries {
                    put_varint(&mut bytes, e.content - prev);
                    put_varint(&mut bytes, u64::from(e.pos));
                    prev = e.content;
                }
            }
            PostingList::Saturated { df } => {
                bits.unary(1);
                put_varint(&mut bytes, *df);
            }
        }
    }
    let bits = bits.finish();
    let mut out = Vec::with_capacity(8 + bits.len() + bytes.len());
    out.push(TAG);
    put_varint(&mut out, n);
    out.push(k as u8);
    put_varint(&mut out, bits.len() as u64);
    out.extend_from_slice(&bits);
    out.extend_from_slice(&bytes);
    out
}

/// The Rice parameter that codes the bucket's gaps in the fewest bits.
fn rice_parameter(keys: &[(u32, PostingList)]) -> u32 {
    let Some(last) = keys.last() else { return 0 };
    let mean = (u64::from(last.0) + 1) / keys.len() as u64;
    let guess = 63 - mean.max(1).leading_zeros();
    let cost = |k: u32| -> u64 {
        let mut next = 0u64;
        let mut bits = 0u64;
        for (s, _) in keys {
            bits += ((u64::from(*s) - next) >> k) + 1 + u64::from(k);
            next = u64::from(*s) + 1;
        }
        bits
    };
    (guess.saturating_sub(1)..=(guess + 1).min(SUFFIX_BITS))
        .min_by_key(|&k| cost(k))
        .unwrap_or(0)
}

/// What a key holds, before its entries are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    List(usize),
    Saturated { df: u64 },
}

/// Reads a bucket key by key. Entries of a key not asked for are skipped
/// when the next key is read.
pub struct Reader<'a> {
    bits: BitReader<'a>,
    bytes: &'a [u8],
    at: usize,
    left: u64,
    k: u32,
    next: u64,
    /// Entries of the current key not yet read.
    pending: usize,
}

impl<'a> Reader<'a> {
    /// `None` when the bytes are not a bucket.
    pub fn new(value: &'a [u8]) -> Option<Reader<'a>> {
        let (&tag, _) = value.split_first()?;
        if tag != TAG {
            return None;
        }
        let mut at = 1;
        let n = get_varint(value, &mut at)?;
        let k = u32::from(*value.get(at)?);
        at += 1;
        if k > SUFFIX_BITS {
            return None;
        }
        let bit_len = usize::try_from(get_varint(value, &mut at)?).ok()?;
        let bits = value.get(at..at.checked_add(bit_len)?)?;
        let bytes = &value[at + bit_len..];
        Some(Reader {
            bits: BitReader::new(bits),
            bytes,
            at: 0,
            left: n,
            k,
            next: 0,
            pending: 0,
        })
    }

    /// The next key's suffix and head; `Ok(None)` after the last key, `Err`
    /// on bytes that are not a bucket.
    pub fn next_key(&mut self) -> Result<Option<(u32, Head)>, Corrupt> {
        self.skip_pending()?;
        if self.left == 0 {
            return self.finished().map(|()| None);
        }
        self.left -= 1;
        let gap = self.bits.rice(self.k).ok_or(Corrupt)?;
        let suffix = self.next.checked_add(gap).ok_or(Corrupt)?;
        if suffix > SUFFIX_MASK {
            return Err(Corrupt);
        }
        self.next = suffix + 1;
        let head = match self.bits.unary().ok_or(Corrupt)? {
            0 => Head::List(1),
            1 => Head::Saturated { df: self.varint()? },
            m => Head::List(usize::try_from(m).map_err(|_| Corrupt)?),
        };
        if let Head::List(m) = head {
            self.pending = m;
        }
        Ok(Some((suffix as u32, head)))
    }

    /// The entries of the key just read (a [`Head::List`]).
    pub fn entries(&mut self) -> Result<Vec<Entry>, Corrupt> {
        // Bounded by the bytes left: a damaged count must not allocate.
        let mut out = Vec::with_capacity(self.pending.min(self.bytes.len() - self.at));
        let mut content = 0u64;
        while self.pending > 0 {
            content = content.checked_add(self.varint()?).ok_or(Corrupt)?;
            let pos = u32::try_from(self.varint()?).map_err(|_| Corrupt)?;
            out.push(Entry { content, pos });
            self.pending -= 1;
        }
        Ok(out)
    }

    fn skip_pending(&mut self) -> Result<(), Corrupt> {
        while self.pending > 0 {
            self.varint()?;
            self.varint()?;
            self.pending -= 1;
        }
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        get_varint(self.bytes, &mut self.at).ok_or(Corrupt)
    }

    /// After the last key: every byte was read.
    fn finished(&self) -> Result<(), Corrupt> {
        (self.at == self.bytes.len() && self.bits.exhausted())
            .then_some(())
            .ok_or(Corrupt)
    }
}

/// Bytes that are not a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Every key of a bucket with its list.
pub fn decode(value: &[u8]) -> Result<Vec<(u32, PostingList)>, Corrupt> {
    let mut r = Reader::new(value).ok_or(Corrupt)?;
    let mut out = Vec::new();
    while let Some((suffix, head)) = r.next_key()? {
        let list = match head {
            Head::List(_) => PostingList::List(r.entries()?),
            Head::Saturated { df } => PostingList::Saturated { df },
        };
        out.push((suffix, list));
    }
    Ok(out)
}

/// The lists of the `wanted` suffixes (sorted, duplicates allowed) in one
/// pass over the bucket: `None` for a suffix it lacks.
pub fn lookup(value: &[u8], wanted: &[u32]) -> Result<Vec<Option<PostingList>>, Corrupt> {
    let mut out: Vec<Option<PostingList>> = vec![None; wanted.len()];
    let mut r = Reader::new(value).ok_or(Corrupt)?;
    let mut i = 0;
    while i < wanted.len() {
        let Some((suffix, head)) = r.next_key()? else {
            break;
        };
        while i < wanted.len() && wanted[i] < suffix {
            i += 1;
        }
        if i == wanted.len() || wanted[i] != suffix {
            continue;
        }
        let list = match head {
            Head::List(_) => PostingList::List(r.entries()?),
            Head::Saturated { df } => PostingList::Saturated { df },
        };
        while i < wanted.len() && wanted[i] == suffix {
            out[i] = Some(list.clone());
            i += 1;
        }
    }
    Ok(out)
}

/// Combines encoded buckets of one key: the union of their keys, lists of
/// a key shared by several parts merged by [`PostingList::union`].
/// Associative, so RocksDB may use it as full and partial merge. `Err` if
/// a part is not a bucket.
pub fn merge<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, Corrupt> {
    let mut all: Vec<(u32, PostingList)> = Vec::new();
    let mut parts_read = 0;
    for part in parts {
        all.extend(decode(part)?);
        parts_read += 1;
    }
    if parts_read > 1 {
        // Stable: a key's lists keep the order of the parts.
        all.sort_by_key(|(s, _)| *s);
        let mut merged: Vec<(u32, PostingList)> = Vec::with_capacity(all.len());
        for (suffix, list) in all {
            match merged.last_mut() {
                Some((s, prev)) if *s == suffix => {
                    let taken = std::mem::replace(prev, PostingList::Saturated { df: 0 });
                    *prev = taken.union(list);
                }
                _ => merged.push((suffix, list)),
            }
        }
        all = merged;
    }
    Ok(encode(&all))
}

/// The merge operator of the postings column family. A part that is not a
/// bucket fails the merge, and RocksDB then reports the key as corrupt
/// rather than answer without it.
pub fn merge_operator(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    merge(existing.into_iter().chain(operands.iter())).ok()
}

/// How many keys a bucket holds, from its header alone.
pub fn key_count(value: &[u8]) -> Option<u64> {
    if value.first() != Some(&TAG) {
        return None;
    }
    get_varint(value, &mut 1)
}

/// The identities a bucket holds.
pub fn key_ids(bucket: u16, value: &[u8]) -> Result<Vec<KeyId>, Corrupt> {
    let mut r = Reader::new(value).ok_or(Corrupt)?;
    let mut out = Vec::new();
    while let Some((suffix, _)) = r.next_key()? {
        out.push(KeyId::from_parts(bucket, suffix));
    }
    Ok(out)
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    used: u32,
}

impl BitWriter {
    fn push(&mut self, value: u64, count: u32) {
        debug_assert!(count <= 32);
        self.acc |= (value & ((1u64 << count) - 1)) << self.used;
        self.used += count;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    /// `q` one bits, then a zero.
    fn unary(&mut self, mut q: u64) {
        while q >= 32 {
            self.push(u64::from(u32::MAX), 32);
            q -= 32;
        }
        self.push((1u64 << q) - 1, q as u32 + 1);
    }

    fn rice(&mut self, value: u64, k: u32) {
        self.unary(value >> k);
        self.push(value, k);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    /// Bits read so far.
    at: usize,
}

impl<'a> BitReader<'a> {
    fn new(bytes: &'a [u8]) -> BitReader<'a> {
        BitReader { bytes, at: 0 }
    }

    fn bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get(self.at / 8)?;
        let b = byte >> (self.at % 8) & 1 == 1;
        self.at += 1;
        Some(b)
    }

    /// Up to 57 bits at once, from whole bytes that follow.
    fn peek(&self) -> u64 {
        let start = self.at / 8;
        let mut word = [0u8; 8];
        let avail = self.bytes.len().saturating_sub(start).min(8);
        word[..avail].copy_from_slice(&self.bytes[start..start + avail]);
        u64::from_le_bytes(word) >> (self.at % 8)
    }

    fn bits(&mut self, count: u32) -> Option<u64> {
        if count == 0 {
            return Some(0);
        }
        if self.at + count as usize > self.bytes.len() * 8 {
            return None;
        }
        let v = self.peek() & ((1u64 << count) - 1);
        self.at += count as usize;
        Some(v)
    }

    fn unary(&mut self) -> Option<u64> {
        let mut q = 0u64;
        loop {
            // Runs of ones are short (a gap's quotient, a key's kind):
            // count them a word at a time all the same.
            let ones = (!self.peek()).trailing_zeros().min(56);
            if ones == 56 {
                if self.at + 56 > self.bytes.len() * 8 {
                    // Too close to the end for a whole word: bit by bit.
                    while self.bit()? {
                        q += 1;
                    }
                    return Some(q);
                }
                q += 56;
                self.at += 56;
                continue;
            }
            if self.at + ones as usize >= self.bytes.len() * 8 {
                return None;
            }
            q += u64::from(ones);
            self.at += ones as usize + 1;
            return Some(q);
        }
    }

    fn rice(&mut self, k: u32) -> Option<u64> {
        let q = self.unary()?;
        let r = self.bits(k)?;
        (q < 1 << (63 - k)).then_some(q << k | r)
    }

    /// Every bit read but the padding of the last byte.
    fn exhausted(&self) -> bool {
        self.bytes.len() == self.at.div_ceil(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn e(content: u64, pos: u32) -> Entry {
        Entry { content, pos }
    }

    fn sample() -> Vec<(u32, PostingList)> {
        vec![
            (0, PostingList::of(vec![e(7, 3)])),
            (5, PostingList::of(vec![e(7, 3), e(2, 90_000), e(7, 1)])),
            (6, PostingList::Saturated { df: 4000 }),
            (
                SUFFIX_MASK as u32,
                PostingList::of(vec![e(u64::from(u32::MAX) + 9, 0)]),
            ),
        ]
    }

    #[test]
    fn buckets_round_trip() {
        let keys = sample();
        assert_eq!(decode(&encode(&keys)).unwrap(), keys);
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn lookup_finds_wanted_suffixes_only() {
        let keys = sample();
        let value = encode(&keys);
        let found = lookup(&value, &[1, 5, 5, 6, SUFFIX_MASK as u32]).unwrap();
        assert_eq!(found[0], None);
        assert_eq!(found[1].as_ref(), Some(&keys[1].1));
        assert_eq!(found[2].as_ref(), Some(&keys[1].1));
        assert_eq!(found[3].as_ref(), Some(&keys[2].1));
        assert_eq!(found[4].as_ref(), Some(&keys[3].1));
    }

    #[test]
    fn merge_unions_keys_and_lists() {
        let a = encode(&[(3, PostingList::of(vec![e(1, 1)]))]);
        let b = encode(&[
            (3, PostingList::of(vec![e(2, 2)])),
            (9, PostingList::of(vec![e(4, 4)])),
        ]);
        let merged = decode(&merge([a.as_slice(), b.as_slice()]).unwrap()).unwrap();
        assert_eq!(
            merged,
            vec![
                (3, PostingList::of(vec![e(1, 1), e(2, 2)])),
                (9, PostingList::of(vec![e(4, 4)])),
            ]
        );
    }

    #[test]
    fn identities_keep_the_top_bits_in_order() {
        let a = KeyId::of(0x0123_4567_89ab_cdef);
        assert_eq!(a.get(), 0x01_2345_6789);
        assert_eq!(a.bucket(), 0x0123);
        assert_eq!(a.suffix(), 0x45_6789);
        assert_eq!(KeyId::from_parts(a.bucket(), a.suffix()), a);
        assert!(KeyId::of(1 << 63) > KeyId::of((1 << 63) - 1));
        assert_eq!(read_bucket_key(&bucket_key(0xbeef)), Some(0xbeef));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[7, 1]).is_err());
        let mut value = encode(&sample());
        value.push(0);
        assert!(decode(&value).is_err(), "trailing bytes");
        let value = encode(&sample());
        for cut in 1..value.len() {
            assert!(decode(&value[..cut]).is_err(), "cut at {cut}");
        }
        assert!(merge([value.as_slice(), &[9u8][..]]).is_err());
    }

    fn bucket() -> impl Strategy<Value = Vec<(u32, PostingList)>> {
        let list = prop_oneof![
            4 => prop::collection::vec((0u64..5000, 0u32..200_000), 1..5)
                .prop_map(|v| PostingList::of(v.into_iter().map(|(c, p)| e(c, p)).collect())),
            1 => (1025u64..10_000).prop_map(|df| PostingList::Saturated { df }),
        ];
        prop::collection::btree_map(0u32..=SUFFIX_MASK as u32, list, 0..120)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn any_bucket_round_trips(keys in bucket()) {
            let value = encode(&keys);
            prop_assert_eq!(decode(&value).unwrap(), keys.clone());
            let wanted: Vec<u32> = keys.iter().map(|k| k.0).collect();
            let found = lookup(&value, &wanted).unwrap();
            prop_assert!(found.iter().zip(&keys).all(|(f, k)| f.as_ref() == Some(&k.1)));
        }

        /// Exact for parts whose lists name different contents, which is
        /// what merges see: each add brings contents of its own. (A
        /// saturated count merged with overlapping lists counts the
        /// overlap twice, an upper bound.)
        #[test]
        fn merging_is_associative(a in bucket(), b in bucket(), c in bucket()) {
            let shifted = |keys: Vec<(u32, PostingList)>, by: u64| -> Vec<u8> {
                let keys: Vec<_> = keys
                    .into_iter()
                    .map(|(s, l)| match l {
                        PostingList::List(v) => (
                            s,
                            PostingList::List(v.into_iter().map(|x| e(x.content + by, x.pos)).collect()),
                        ),
                        sat => (s, sat),
                    })
                    .collect();
                encode(&keys)
            };
            let (a, b, c) = (shifted(a, 0), shifted(b, 5000), shifted(c, 10_000));
            let ab = merge([a.as_slice(), b.as_slice()]).unwrap();
            let bc = merge([b.as_slice(), c.as_slice()]).unwrap();
            let left = merge([ab.as_slice(), c.as_slice()]).unwrap();
            let right = merge([a.as_slice(), bc.as_slice()]).unwrap();
            let all = merge([a.as_slice(), b.as_slice(), c.as_slice()]).unwrap();
            prop_assert_eq!(&left, &right);
            prop_assert_eq!(&left, &all);
        }
    }
}
