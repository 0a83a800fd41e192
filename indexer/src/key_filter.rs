//! Which fingerprint identities the postings column family holds, as a split
//! block Bloom filter in a file beside the database (`postings.filter`).
//!
//! Why a filter of our own: nearly every lookup of a scan misses (code
//! without copies: 3,481 of 2.7 million keys of the scan bench's
//! no-matches tree are in the index), and postings are kept in buckets
//! (`crate::bucket`) that nearly all exist, so without it every miss would
//! read and search a bucket. (Before buckets, a miss walked RocksDB's
//! `MultiGet`, a search of the partitioned filter's top-level index, a
//! filter probe and the cache's locks: 40 % of that scan's CPU.) Here a
//! miss is one cache line of a mapped file.
//!
//! A filter answers only for the index it was built from. It carries the
//! committed content id of that moment (`committed_content_id` in the meta column family):
//! postings keys are only ever added with new contents, which move that
//! id, so a filter with the id of the reader's view holds every live key,
//! and one with another id is not used (lookups then ask RocksDB for every
//! key, slower and as right). Removing contents only deletes keys, which a
//! filter may keep: a false positive costs one RocksDB lookup.
//!
//! The writer builds it at the end of each writing session
//! (`Index::settle`) from the keys themselves, so every way of
//! writing (one build, adds, a distributed build's ingestion) leaves the
//! same filter, and a crash before it is written leaves an old one that is
//! not used.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use memmap2::Mmap;
use sbbf_rs::FilterFn;
use sbbf_rs_safe::Filter;

use crate::{IndexError, Result};

/// The filter's file name, in the index directory.
pub const FILTER_FILE: &str = "postings.filter";

const MAGIC: &[u8; 8] = b"PVSKEYF2";
/// The header (magic and four u64 fields) padded to the filter's alignment,
/// so the bits can be queried where the file is mapped.
const HEADER_LEN: usize = sbbf_rs::ALIGNMENT;
const FIELDS_LEN: usize = 8 + 4 * 8;

/// Bits per key: a false positive rate near 0.5 %. Each false positive is
/// one RocksDB lookup that finds nothing.
const BITS_PER_KEY: usize = 12;

/// Bytes of one block of the filter.
const BLOCK_BYTES: u64 = sbbf_rs::BUCKET_SIZE as u64;

/// Keys sorted and inserted together (8 MiB of them).
const INSERT_CHUNK: usize = 1 << 20;

const HINT: &str = "any writing command (`provscan index add`) writes it again; or remove the \
file, and scans look every fingerprint up in the database";

pub struct KeyFilter {
    /// The committed content id the filter was built at.
    committed: u64,
    keys: u64,
    bits: Bits,
    query: FilterFn,
}

/// Where a filter's bits are: built in memory, or the file mapped. Mapped,
/// a reader pays for the pages the checksum reads and nothing else: no
/// zeroed buffer, no copy (the bench's 1,000-line scan: 39 → 33 ms with
/// the filter read at the first lookup, 28 ms with it mapped).
enum Bits {
    Built(Filter),
    /// The whole file; the bits start at [`HEADER_LEN`], which keeps them
    /// at the alignment the queries need (the map starts on a page).
    Mapped(Mmap),
}

impl Bits {
    fn bytes(&self) -> &[u8] {
        match self {
            Bits::Built(f) => f.as_bytes(),
            Bits::Mapped(m) => &m[HEADER_LEN..],
        }
    }
}

// SAFETY: `Filter` is `Send` but not marked `Sync`; its buffer is only
// read once the filter is built (`insert_hash` needs `&mut self`, and a
// `KeyFilter` offers no way to it), and a map is never written. `FilterFn`
// is neither, for it holds a `&'static dyn` of the crate's per-CPU query
// functions: unit structs without state.
unsafe impl Sync for KeyFilter {}
unsafe impl Send for KeyFilter {}

/// Fingerprint hashes are winnowed minima, so their high bits are skewed
/// towards zero; the filter picks its block from the high bits. Mixed
/// (the `splitmix64` finalizer) they spread over every block.
#[inline]
fn mix(hash: u64) -> u64 {
    let mut z = hash ^ (hash >> 30);
    z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^= z >> 27;
    z = z.wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A filter being filled: keys are inserted in sorted chunks, since the
/// block is picked by the high bits, so a sorted chunk walks the filter from
/// one end to the other instead of missing the cache at every key (the
/// bench index's 4.6 million keys: 1.76 → 1.46 s, reading them included),
/// in bounded memory.
pub struct Builder {
    committed: u64,
    filter: Filter,
    keys: u64,
    chunk: Vec<u64>,
}

impl Builder {
    pub fn insert(&mut self, key: u64) {
        self.chunk.push(mix(key));
        self.keys += 1;
        if self.chunk.len() == INSERT_CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.chunk.sort_unstable();
        for &h in &self.chunk {
            self.filter.insert_hash(h);
        }
        self.chunk.clear();
    }

    pub fn finish(mut self) -> KeyFilter {
        self.flush();
        KeyFilter {
            committed: self.committed,
            keys: self.keys,
            bits: Bits::Built(self.filter),
            query: FilterFn::new(),
        }
    }
}

impl KeyFilter {
    /// A filter of `keys`, sized for `expected` of them.
    #[cfg(test)]
    pub fn build(
        committed: u64,
        expected: u64,
        keys: impl Iterator<Item = Result<u64>>,
    ) -> Result<KeyFilter> {
        let mut b = KeyFilter::builder(committed, expected);
        for key in keys {
            b.insert(key?);
        }
        Ok(b.finish())
    }

    /// A filter to fill key by key, sized for `expected` keys.
    pub fn builder(committed: u64, expected: u64) -> Builder {
        Builder {
            committed,
            filter: Filter::new(BITS_PER_KEY, expected.max(1) as usize),
            keys: 0,
            chunk: Vec::with_capacity(INSERT_CHUNK.min(expected.max(1) as usize)),
        }
    }

    pub fn committed(&self) -> u64 {
        self.committed
    }

    pub fn keys(&self) -> u64 {
        self.keys
    }

    pub fn bytes(&self) -> usize {
        self.bits.bytes().len()
    }

    /// False when the postings surely do not hold `key`.
    #[inline]
    pub fn may_hold(&self, key: u64) -> bool {
        let bits = self.bits.bytes();
        // SAFETY: the bits are a whole number of blocks (checked when
        // mapped, by construction when built) at `ALIGNMENT`: a built
        // filter's buffer is allocated so, and a mapped one starts
        // `HEADER_LEN` bytes into a page.
        unsafe {
            self.query
                .contains(bits.as_ptr(), bits.len() / BLOCK_BYTES as usize, mix(key))
        }
    }

    /// Writes the filter beside, synced, then renames it over the old one:
    /// a reader sees the old filter or the new one.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let bits = self.bits.bytes();
        crate::integrity::replace_file(dir, FILTER_FILE, |f| {
            let mut header = [0u8; HEADER_LEN];
            header[..8].copy_from_slice(MAGIC);
            for (i, v) in [
                self.committed,
                self.keys,
                bits.len() as u64,
                xxhash_rust::xxh3::xxh3_64(bits),
            ]
            .into_iter()
            .enumerate()
            {
                header[8 + 8 * i..16 + 8 * i].copy_from_slice(&v.to_le_bytes());
            }
            f.write_all(&header)?;
            f.write_all(bits)
        })
    }

    /// The filter of the index in `dir` if one was written for
    /// `committed`; `None` when there is none or it is of another commit.
    /// A filter whose bytes do not match their checksum is damage, not an
    /// absence: it could say a key is missing that is there.
    pub fn load(dir: &Path, committed: u64) -> Result<Option<KeyFilter>> {
        let path = dir.join(FILTER_FILE);
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let damaged = |what: String| IndexError::Damaged {
            path: path.clone(),
            what,
            hint: HINT,
        };
        let mut header = [0u8; FIELDS_LEN];
        f.read_exact(&mut header)
            .map_err(|_| damaged("shorter than its header".into()))?;
        if &header[..8] != MAGIC {
            return Err(damaged("not a provscan postings filter".into()));
        }
        let field = |i: usize| {
            let at = 8 + 8 * i;
            u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"))
        };
        let (built_at, keys, len, sum) = (field(0), field(1), field(2), field(3));
        if built_at != committed {
            return Ok(None);
        }
        let actual = f.metadata()?.len();
        if actual != HEADER_LEN as u64 + len {
            return Err(damaged(format!(
                "{actual} bytes where its header says {}",
                HEADER_LEN as u64 + len
            )));
        }
        if len == 0 || len % BLOCK_BYTES != 0 {
            return Err(damaged(format!(
                "{len} bytes is not a whole number of blocks"
            )));
        }
        // SAFETY: the file is never written in place: a new filter is
        // written beside and renamed over it (`integrity::replace_file`), so
        // the mapped inode keeps its bytes while the map lives.
        let map = unsafe { Mmap::map(&f)? };
        if map.len() as u64 != actual {
            return Err(damaged("changed while it was read".into()));
        }
        let bits = Bits::Mapped(map);
        if xxhash_rust::xxh3::xxh3_64(bits.bytes()) != sum {
            return Err(damaged("its bits do not match their checksum".into()));
        }
        Ok(Some(KeyFilter {
            committed,
            keys,
            bits,
            query: FilterFn::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u64, salt: u64) -> impl Iterator<Item = Result<u64>> {
        // Small values, as winnowing's minima tend to be.
        (0..n).map(move |i| Ok((i * 7919 + salt) & 0xffff_ffff))
    }

    #[test]
    fn holds_every_key_and_rejects_nearly_every_other() {
        let f = KeyFilter::build(5, 100_000, keys(100_000, 1)).unwrap();
        assert!(keys(100_000, 1).all(|k| f.may_hold(k.unwrap())));
        let false_positives = (0..100_000u64)
            .map(|i| (i * 7919 + 3) & 0xffff_ffff)
            .filter(|&k| f.may_hold(k))
            .count();
        assert!(false_positives < 1_500, "{false_positives} of 100,000");
    }

    #[test]
    fn is_read_back_for_its_commit_only_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = KeyFilter::build(7, 1_000, keys(1_000, 9)).unwrap();
        f.write(dir.path()).unwrap();
        let back = KeyFilter::load(dir.path(), 7)
            .unwrap()
            .expect("same commit");
        assert_eq!(back.keys(), 1_000);
        assert!(keys(1_000, 9).all(|k| back.may_hold(k.unwrap())));
        assert!(KeyFilter::load(dir.path(), 8).unwrap().is_none());

        let path = dir.path().join(FILTER_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = KeyFilter::load(dir.path(), 7).err().expect("damaged");
        assert!(err.to_string().contains(FILTER_FILE), "{err}");

        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(KeyFilter::load(dir.path(), 7).is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(KeyFilter::load(dir.path(), 7).unwrap().is_none());
    }
}
