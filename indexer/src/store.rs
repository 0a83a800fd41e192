//! The index proper: opening, adding, removing, looking up.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use engine::identity::{Digest, FileDigests};
use engine::matcher::Posting;
use engine::stream::SymbolStream;
use engine::Analyzer;
use rayon::prelude::*;
use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor,
    DBCompressionType, Direction, IngestExternalFileOptions, IteratorMode, Options, ReadOptions,
    SstFileWriter, WriteBatch, WriteOptions, DB,
};

use crate::bucket::{self, KeyId};
use crate::codec::{self, Entry, PostingList};
use crate::input::VersionInput;
use crate::key_filter::KeyFilter;
use crate::schema::{self, *};
use crate::{IndexError, Result};

/// How to open an index.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Engine parameters queries will be fingerprinted with; must match the index.
    pub params: engine::Params,
    /// Create the index if the directory holds none (writers only).
    pub create: bool,
    /// Common-fingerprint policy for a new index. `None` keeps the stored one
    /// (or the default for a new index); `Some` on a writer also stores it.
    pub common: Option<CommonPolicy>,
    /// Shared block cache size.
    pub cache_bytes: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            params: engine::Params::DEFAULT,
            create: true,
            common: None,
            cache_bytes: 256 << 20,
        }
    }
}

/// Progress callback of an add, called from any thread.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A raw key-value pair as RocksDB iterators yield it.
type RawEntry = std::result::Result<(Box<[u8]>, Box<[u8]>), rocksdb::Error>;

/// How to add a version.
#[derive(Clone)]
pub struct AddOptions {
    /// Versions with fewer new source bytes than this go in one write batch
    /// (postings as merge operands); larger ones are written as SST files and
    /// ingested.
    pub batch_limit_bytes: u64,
    /// New source analyzed per round, bounding memory on very large versions.
    pub chunk_bytes: u64,
    /// Called from any thread as work proceeds.
    pub progress: Option<ProgressFn>,
    /// Keep each content's source text (compressed) for reports that show
    /// the origin beside the copy.
    pub keep_source: bool,
}

impl Default for AddOptions {
    fn default() -> Self {
        AddOptions {
            batch_limit_bytes: 4 << 20,
            chunk_bytes: 256 << 20,
            progress: None,
            keep_source: true,
        }
    }
}

impl std::fmt::Debug for AddOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddOptions")
            .field("batch_limit_bytes", &self.batch_limit_bytes)
            .field("chunk_bytes", &self.chunk_bytes)
            .finish()
    }
}

/// Steps of an add, in order. Everything before [`Stage::Reserved`] writes
/// nothing; everything up to [`Stage::Committed`] is undone on the next
/// open if the process dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Hashing,
    Analyzing,
    /// Content ids reserved and the add recorded as pending (SST path only).
    Reserved,
    /// SST files of postings written, not yet ingested.
    Written,
    /// Postings ingested, version not yet committed.
    Ingested,
    Committed,
    /// A removal committed; postings of dropped contents not yet purged.
    Removed,
    /// Compacting the postings after writing (`Index::settle`).
    Compacting,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Hashing => "hashing",
            Stage::Analyzing => "analyzing",
            Stage::Reserved => "reserved",
            Stage::Written => "written",
            Stage::Ingested => "ingested",
            Stage::Committed => "committed",
            Stage::Removed => "removed",
            Stage::Compacting => "compacting",
        }
    }
}

/// Progress of an add.
#[derive(Clone, Debug)]
pub enum Progress {
    /// Totals known once hashing is done: files and bytes to analyze.
    Planned {
        files: u64,
        bytes: u64,
    },
    Stage(Stage),
    /// One file analyzed (or skipped).
    File {
        bytes: u64,
    },
}

/// What an add did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddReport {
    /// The version was already in the index; nothing was written.
    pub already_present: bool,
    pub version_id: u32,
    /// Files recorded as occurrences.
    pub files: u64,
    pub bytes: u64,
    /// Contents analyzed and added.
    pub new_contents: u64,
    /// Files whose content was already indexed.
    pub reused_contents: u64,
    pub fingerprints: u64,
    /// Files not indexed, with reasons (the caller's and the analyzer's).
    pub skipped: Vec<SkippedFile>,
    /// How postings were written: `batch` or `ingest`.
    pub write_path: &'static str,
}

/// What a removal did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoveReport {
    pub versions: Vec<(String, String)>,
    /// Contents no longer referenced, dropped with their fingerprints.
    pub dropped_contents: u64,
    /// Fingerprint keys deleted because no live content had them.
    pub dropped_fingerprints: u64,
}

/// Result of [`Index::postings`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostingLookup {
    /// Postings per requested hash (empty when missing or common).
    pub postings: Vec<Vec<Posting>>,
    /// Whether each requested hash is common (never seeds a match).
    pub common: Vec<bool>,
}

impl PostingLookup {
    /// `(index of the hash, posting)` pairs, the shape
    /// `engine::matcher::find_snippets` takes.
    pub fn hits(&self) -> impl Iterator<Item = (usize, Posting)> + '_ {
        self.postings
            .iter()
            .enumerate()
            .flat_map(|(i, ps)| ps.iter().map(move |p| (i, *p)))
    }

    pub fn common_count(&self) -> usize {
        self.common.iter().filter(|c| **c).count()
    }
}

/// A whole-file match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileMatch {
    pub content: u64,
    /// Byte-identical; otherwise equal up to line endings.
    pub exact: bool,
}

/// Index statistics.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    pub format_version: u32,
    pub params: Option<EngineParams>,
    pub projects: u64,
    pub versions: u64,
    pub contents: u64,
    pub occurrences: u64,
    /// Bytes of the indexed occurrences (with repeats).
    pub source_bytes: u64,
    /// Distinct fingerprints with at least one live posting.
    pub fingerprints: u64,
    /// Stored postings.
    pub postings: u64,
    pub common_fingerprints: u64,
    /// Document frequency above which a fingerprint is common, for the current size.
    pub common_threshold: u64,
    pub common_policy: Option<CommonPolicy>,
    pub bytes_on_disk: u64,
    /// Table file bytes per column family: what postings, token streams and
    /// source text each cost (the sizing of docs/scale.md).
    pub bytes_by_column_family: std::collections::BTreeMap<String, u64>,
    /// The postings key filter of the current commit: keys and bytes
    /// (`None`: scans ask RocksDB for every key until a writer writes it).
    pub key_filter: Option<(u64, usize)>,
}

/// The live range of content ids as of one consistent view.
#[derive(Clone, Debug, Default)]
struct View {
    committed: u64,
    /// Sorted, disjoint `[start, end)` ranges of dead content ids.
    dead: Vec<(u64, u64)>,
    counts: Counts,
}

impl View {
    fn live(&self, id: u64) -> bool {
        if id >= self.committed {
            return false;
        }
        let i = self.dead.partition_point(|&(s, _)| s <= id);
        i == 0 || self.dead[i - 1].1 <= id
    }
}

enum Mode {
    Writer,
    Reader { secondary: PathBuf },
}

/// An open index.
pub struct Index {
    db: DB,
    /// Held by a writer for its whole life (see [`crate::integrity`]).
    _lock: Option<crate::integrity::WriterLock>,
    dir: PathBuf,
    mode: Mode,
    params: EngineParams,
    engine_params: engine::Params,
    common: RwLock<CommonPolicy>,
    view: RwLock<View>,
    /// A reader's postings key filter (see [`crate::key_filter`]).
    key_filter: RwLock<FilterSlot>,
    /// Keys asked of the postings column family since the open (after the
    /// key filter), for the scan's summary.
    keys_read: AtomicU64,
}

impl Drop for Index {
    fn drop(&mut self) {
        if let Mode::Reader { secondary } = &self.mode {
            let _ = std::fs::remove_dir_all(secondary);
        }
    }
}

fn cf_options(name: &str, cache: &Cache) -> Options {
    let mut o = Options::default();
    let mut b = BlockBasedOptions::default();
    b.set_block_cache(cache);
    b.set_format_version(5);
    b.set_cache_index_and_filter_blocks(true);
    b.set_pin_top_level_index_and_filter(true);
    b.set_pin_l0_filter_and_index_blocks_in_cache(true);
    // Partitioned index and filters: a single large filter block would not
    // fit a cache shard and would be re-read on every lookup.
    b.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
    b.set_partition_filters(true);
    // Filter and index partitions of 32 KiB rather than 4: a lookup first
    // finds its partition in the top-level index, and with 1,400
    // partitions of the bench index that search was an eighth of a scan
    // of code with no copies (A/B of whole scans of the no-matches tree:
    // 0.89 CPU; 128 KiB 0.94 of that again). A scan of one file reads
    // more of the filter for its thousand lookups (1.05 wall, within the
    // 30 ms target); larger partitions would read all of it.
    b.set_metadata_block_size(32 << 10);
    if name == CF_POSTINGS {
        // No bloom filter: nearly every bucket exists, so it would answer
        // nothing; the postings key filter answers misses instead.
        b.set_block_size(8 << 10);
        o.set_merge_operator_associative("provscan-postings-2", bucket::merge_operator);
        o.set_write_buffer_size(64 << 20);
        // A build ingests one sorted file per version or so, and settles
        // them in one compaction at its end (`Index::settle`): compacting
        // every four on the way rewrote the same postings several times.
        // Readers meanwhile probe a few more files, each behind its bloom
        // filters.
        o.set_level_zero_file_num_compaction_trigger(16);
        o.set_level_zero_slowdown_writes_trigger(48);
        o.set_level_zero_stop_writes_trigger(64);
    } else {
        b.set_bloom_filter(10.0, false);
        o.set_write_buffer_size(16 << 20);
    }
    o.set_block_based_table_factory(&b);
    o.set_compression_type(DBCompressionType::Lz4);
    o.set_level_compaction_dynamic_level_bytes(true);
    o
}

fn db_options() -> Options {
    let mut o = Options::default();
    o.create_if_missing(false);
    o.create_missing_column_families(false);
    // Secondary instances must keep the files the primary deletes.
    o.set_max_open_files(-1);
    o.set_max_background_jobs(2);
    // See `Index::flush`.
    o.set_atomic_flush(true);
    o.set_keep_log_file_num(2);
    o.set_max_log_file_size(1 << 20);
    o
}

/// A reader opens every table file up front (see `db_options`); the
/// per-commit scan opens the index each time, so opening is kept lean:
/// statistics are not sampled from the files and stats are not dumped.
fn reader_options() -> Options {
    let mut o = db_options();
    o.set_skip_stats_update_on_db_open(true);
    o.set_stats_dump_period_sec(0);
    o.set_stats_persist_period_sec(0);
    o.set_max_file_opening_threads(1);
    o
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The bucket a postings key names.
fn bucket_of(key: &[u8]) -> Result<u16> {
    bucket::read_bucket_key(key).ok_or_else(|| corrupt(CF_POSTINGS, "key"))
}

/// A postings bucket whose bytes are not one.
fn undecodable(bucket: u16) -> IndexError {
    corrupt(CF_POSTINGS, format!("bucket {bucket:04x} does not decode"))
}

fn corrupt(cf: &'static str, what: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        cf,
        what: what.into(),
    }
}

fn from_json<T: serde::de::DeserializeOwned>(cf: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(cf, e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialize")
}

static SECONDARY_SEQ: AtomicU64 = AtomicU64::new(0);

/// Per-file result of analysis, kept small: the bytes are not kept.
pub(crate) struct Analyzed {
    pub(crate) meta: ContentMeta,
    pub(crate) fps: Vec<(u64, Entry)>,
    /// The forward store's record ([`crate::streams`]), unless the source
    /// is kept and the lexer rebuilds the stream from it
    /// ([`Index::stream`]).
    pub(crate) stream: Option<Vec<u8>>,
    /// The source text, zstd-compressed, unless the add leaves it out.
    pub(crate) source: Option<Vec<u8>>,
}

impl Index {
    /// Opens the index in `dir` for writing, creating it if allowed. Undoes
    /// an add that a crash interrupted.
    pub fn open(dir: &Path, opts: &OpenOptions) -> Result<Index> {
        let cache = Cache::new_lru_cache(opts.cache_bytes);
        let exists = dir.join("CURRENT").exists();
        if !exists {
            if !opts.create {
                return Err(IndexError::Missing(dir.to_path_buf()));
            }
            let non_empty = dir
                .read_dir()
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if non_empty {
                return Err(IndexError::NotAnIndex(dir.to_path_buf()));
            }
            std::fs::create_dir_all(dir)?;
            let _creating = crate::integrity::WriterLock::acquire(dir)?;
            let mut o = db_options();
            o.create_if_missing(true);
            o.create_missing_column_families(true);
            let cfs = ALL_CFS
                .iter()
                .map(|n| ColumnFamilyDescriptor::new(*n, cf_options(n, &cache)));
            let db = DB::open_cf_descriptors(&o, dir, cfs)
                .map_err(|e| crate::integrity::damaged(dir, None, e.to_string()))?;
            let meta = db.cf_handle(CF_META).expect("meta cf");
            let mut b = WriteBatch::default();
            b.put_cf(meta, meta::FORMAT, FORMAT_VERSION.to_string());
            b.put_cf(meta, meta::PARAMS, to_json(&EngineParams::of(opts.params)));
            b.put_cf(
                meta,
                meta::COMMON,
                to_json(&opts.common.unwrap_or_default()),
            );
            b.put_cf(meta, meta::COUNTS, to_json(&Counts::default()));
            let mut w = WriteOptions::default();
            w.set_sync(true);
            db.write_opt(b, &w)?;
            crate::integrity::write_mark(dir, db.latest_sequence_number())?;
            drop(db);
        }
        let lock = crate::integrity::WriterLock::acquire(dir)?;
        let cfs = check_cfs(dir)?;
        // Checked before the primary open: it would delete the table files
        // that a damaged MANIFEST no longer names.
        check_integrity(dir, &cfs, &cache)?;
        let descriptors = cfs
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(n, cf_options(n, &cache)));
        let db = DB::open_cf_descriptors(&db_options(), dir, descriptors)
            .map_err(|e| crate::integrity::damaged(dir, None, e.to_string()))?;
        let mut index = Index::finish_open(db, dir, Mode::Writer, opts)?;
        index._lock = Some(lock);
        if let Some(policy) = opts.common {
            index.set_common_policy(policy)?;
        }
        index.recover()?;
        let _ = std::fs::remove_dir_all(index.ingest_dir());
        Ok(index)
    }

    /// Opens the index for reading only, as a RocksDB secondary instance:
    /// works while a writer is adding; [`Index::refresh`] catches up with it.
    pub fn open_reader(dir: &Path, opts: &OpenOptions) -> Result<Index> {
        if !dir.join("CURRENT").exists() {
            return Err(IndexError::Missing(dir.to_path_buf()));
        }
        let cfs = check_cfs(dir)?;
        let cache = Cache::new_lru_cache(opts.cache_bytes);
        check_integrity(dir, &cfs, &cache)?;
        sweep_stale_readers(&std::env::temp_dir());
        let secondary = std::env::temp_dir().join(format!(
            "provscan-reader-{}-{}",
            std::process::id(),
            SECONDARY_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&secondary)?;
        let descriptors = cfs
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(n, cf_options(n, &cache)));
        let db =
            DB::open_cf_descriptors_as_secondary(&reader_options(), dir, &secondary, descriptors);
        let db = match db {
            Ok(db) => db,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&secondary);
                return Err(crate::integrity::damaged(dir, None, e.to_string()));
            }
        };
        Index::finish_open(db, dir, Mode::Reader { secondary }, opts)
    }

    fn finish_open(db: DB, dir: &Path, mode: Mode, opts: &OpenOptions) -> Result<Index> {
        let meta = db
            .cf_handle(CF_META)
            .ok_or_else(|| IndexError::NotAnIndex(dir.to_path_buf()))?;
        let format = db
            .get_cf(meta, meta::FORMAT)?
            .ok_or_else(|| IndexError::NotAnIndex(dir.to_path_buf()))?;
        let found: u32 = std::str::from_utf8(&format)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| corrupt(CF_META, "format_version"))?;
        if !READABLE_FORMATS.contains(&found) {
            return Err(IndexError::FormatMismatch {
                path: dir.to_path_buf(),
                found,
                expected: FORMAT_VERSION,
            });
        }
        let stored: EngineParams = from_json(
            CF_META,
            &db.get_cf(meta, meta::PARAMS)?
                .ok_or_else(|| corrupt(CF_META, "no engine_params"))?,
        )?;
        let wanted = EngineParams::of(opts.params);
        if stored != wanted {
            return Err(IndexError::ParamsMismatch {
                path: dir.to_path_buf(),
                index: Box::new(stored),
                engine: Box::new(wanted),
            });
        }
        let common = match db.get_cf(meta, meta::COMMON)? {
            Some(b) => from_json(CF_META, &b)?,
            None => CommonPolicy::default(),
        };
        let index = Index {
            db,
            _lock: None,
            dir: dir.to_path_buf(),
            mode,
            params: stored,
            engine_params: opts.params,
            common: RwLock::new(common),
            view: RwLock::new(View::default()),
            key_filter: RwLock::new(FilterSlot::default()),
            keys_read: AtomicU64::new(0),
        };
        // Opening a secondary has caught up once already.
        let view = match index.mode {
            Mode::Reader { .. } => index.settle_view(index.load_view()?)?,
            Mode::Writer => index.load_view()?,
        };
        *index.view.write().unwrap() = view;
        Ok(index)
    }

    /// A reader takes the key filter written for its view's commit, if
    /// there is one, once per commit it reads; a writer has no use for it.
    fn load_key_filter(&self) -> Result<()> {
        if let Mode::Reader { .. } = self.mode {
            let committed = self.view.read().unwrap().committed;
            if self.key_filter.read().unwrap().sought_at == Some(committed) {
                return Ok(());
            }
            let mut slot = self.key_filter.write().unwrap();
            if slot.sought_at != Some(committed) {
                slot.filter = KeyFilter::load(&self.dir, committed)?.map(Arc::new);
                slot.sought_at = Some(committed);
            }
        }
        Ok(())
    }

    /// Keys looked up in the postings column family since the open: those
    /// the key filter let through.
    pub fn keys_read(&self) -> u64 {
        self.keys_read.load(Ordering::Relaxed)
    }

    /// The postings key filter of the commit the reader reads, as (keys,
    /// bytes), read now if it was not yet: `None` when the index has none
    /// for that commit (see [`crate::key_filter`]).
    pub fn key_filter(&self) -> Result<Option<(u64, usize)>> {
        self.load_key_filter()?;
        let committed = self.view.read().unwrap().committed;
        Ok(self
            .key_filter
            .read()
            .unwrap()
            .current(committed)
            .map(|f| (f.keys(), f.bytes())))
    }

    /// Builds the postings key filter from the postings' keys and writes
    /// it (see [`crate::key_filter`]): the end of a writing session.
    fn write_key_filter(&self) -> Result<()> {
        let committed = self.meta_u64(meta::COMMITTED)?;
        let cf = self.cf(CF_POSTINGS);
        // Every bucket, read in place by a raw iterator (the values are
        // most of the bytes: not copied), as (bucket, value) to `visit`.
        let each_bucket = |visit: &mut dyn FnMut(u16, &[u8]) -> Result<()>| -> Result<()> {
            let mut ro = ReadOptions::default();
            ro.fill_cache(false);
            ro.set_readahead_size(4 << 20);
            let mut it = self.db.raw_iterator_cf_opt(cf, ro);
            it.seek_to_first();
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                visit(bucket_of(k)?, v)?;
                it.next();
            }
            it.status()?;
            Ok(())
        };
        // Sized by an exact count: each bucket's header says how many keys
        // it holds.
        let mut keys = 0u64;
        each_bucket(&mut |b, v| {
            keys += bucket::key_count(v).ok_or_else(|| undecodable(b))?;
            Ok(())
        })?;
        let mut filter = KeyFilter::builder(committed, keys);
        each_bucket(&mut |b, v| {
            for id in bucket::key_ids(b, v).map_err(|_| undecodable(b))? {
                filter.insert(id.get());
            }
            Ok(())
        })?;
        filter.finish().write(&self.dir)
    }

    fn cf(&self, name: &str) -> &ColumnFamily {
        self.db.cf_handle(name).expect("column family opened")
    }

    fn ingest_dir(&self) -> PathBuf {
        self.dir.join("ingest-tmp")
    }

    pub(crate) fn writer(&self) -> Result<()> {
        match self.mode {
            Mode::Writer => Ok(()),
            Mode::Reader { .. } => Err(IndexError::ReadOnly),
        }
    }

    fn meta_u64(&self, key: &[u8]) -> Result<u64> {
        match self.db.get_cf(self.cf(CF_META), key)? {
            Some(b) => std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| corrupt(CF_META, String::from_utf8_lossy(key).into_owned())),
            None => Ok(0),
        }
    }

    fn load_view(&self) -> Result<View> {
        let committed = self.meta_u64(meta::COMMITTED)?;
        let mut dead = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_DEAD), IteratorMode::Start) {
            let (k, v) = item?;
            let s = codec::read_u64(&k).ok_or_else(|| corrupt(CF_DEAD, "key"))?;
            let e = codec::read_u64(&v).ok_or_else(|| corrupt(CF_DEAD, "value"))?;
            dead.push((s, e));
        }
        let counts = match self.db.get_cf(self.cf(CF_META), meta::COUNTS)? {
            Some(b) => from_json(CF_META, &b)?,
            None => Counts::default(),
        };
        Ok(View {
            committed,
            dead,
            counts,
        })
    }

    /// Engine parameters the index was built with.
    pub fn params(&self) -> &EngineParams {
        &self.params
    }

    /// The engine parameters to analyze queries with.
    pub fn engine_params(&self) -> engine::Params {
        self.engine_params
    }

    /// Changes whenever what a lookup can return changes: a version added
    /// or removed, another common-fingerprint policy. Lets a caller keep
    /// results computed against this state (`scan --cache`).
    pub fn state_id(&self) -> String {
        let view = self.view.read().unwrap();
        let policy = *self.common.read().unwrap();
        let state = format!(
            "committed {} dead {:?} counts {:?} policy {:?} params {:?}",
            view.committed, view.dead, view.counts, policy, self.params
        );
        blake3::hash(state.as_bytes()).to_hex()[..32].to_string()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn common_policy(&self) -> CommonPolicy {
        *self.common.read().unwrap()
    }

    /// Changes the common-fingerprint policy (stored when writing; for this
    /// instance only when reading).
    pub fn set_common_policy(&self, policy: CommonPolicy) -> Result<()> {
        if self.writer().is_ok() {
            self.db
                .put_cf(self.cf(CF_META), meta::COMMON, to_json(&policy))?;
        }
        *self.common.write().unwrap() = policy;
        Ok(())
    }

    /// Catches a reader up with the writer: afterwards it sees every add
    /// committed so far. A no-op for the writer.
    pub fn refresh(&self) -> Result<()> {
        if let Mode::Reader { .. } = self.mode {
            let view = self.catch_up()?;
            *self.view.write().unwrap() = view;
            // The writer may have written the filter of this commit since.
            self.key_filter.write().unwrap().sought_at = None;
        }
        Ok(())
    }

    /// A secondary's catch-up reads the writer's MANIFEST and then its log,
    /// at two moments: an add whose postings were ingested (a MANIFEST
    /// record) just before its commit (a log record) can be caught up to
    /// committed but without its postings. Catching up again until the
    /// committed id stops moving closes that window: the later pass reads the
    /// MANIFEST past every ingestion that preceded a commit the earlier pass
    /// saw.
    fn catch_up(&self) -> Result<View> {
        self.db.try_catch_up_with_primary()?;
        self.settle_view(self.load_view()?)
    }

    /// Catches up again until the committed id of `view` stops moving.
    fn settle_view(&self, mut view: View) -> Result<View> {
        for _ in 0..16 {
            self.db.try_catch_up_with_primary()?;
            let again = self.load_view()?;
            if again.committed == view.committed {
                return Ok(again);
            }
            view = again;
        }
        Ok(view)
    }

    // --- recovery and purge ---------------------------------------------------

    /// Marks the ids of an interrupted add dead and drops its postings.
    fn recover(&self) -> Result<()> {
        let meta_cf = self.cf(CF_META);
        if let Some(p) = self.db.get_cf(meta_cf, meta::PENDING)? {
            let pending: Pending = from_json(CF_META, &p)?;
            let mut b = WriteBatch::default();
            b.put_cf(
                self.cf(CF_DEAD),
                codec::u64_key(pending.first_content),
                codec::u64_key(pending.end_content),
            );
            b.delete_cf(meta_cf, meta::PENDING);
            let committed = self.meta_u64(meta::COMMITTED)?.max(pending.end_content);
            b.put_cf(meta_cf, meta::COMMITTED, committed.to_string());
            self.write_sync(b)?;
            *self.view.write().unwrap() = self.load_view()?;
        }
        if !self.view.read().unwrap().dead.is_empty() {
            self.purge()?;
        }
        Ok(())
    }

    /// Writes a commit and records it (see [`crate::integrity`]).
    pub(crate) fn write_sync(&self, b: WriteBatch) -> Result<()> {
        let mut w = WriteOptions::default();
        w.set_sync(true);
        self.db.write_opt(b, &w)?;
        crate::integrity::write_mark(&self.dir, self.db.latest_sequence_number())
    }

    /// Rewrites buckets whose lists mention dead contents; returns the number
    /// of fingerprint keys deleted. Idempotent, so a crash midway is repaired
    /// by the next open.
    fn purge(&self) -> Result<u64> {
        let view = self.view.read().unwrap().clone();
        if view.dead.is_empty() {
            return Ok(0);
        }
        let cf = self.cf(CF_POSTINGS);
        let mut batch = WriteBatch::default();
        let mut deleted = 0u64;
        let mut rewritten = 0u64;
        for item in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = item?;
            let b = bucket_of(&k)?;
            let keys = bucket::decode(&v).map_err(|_| undecodable(b))?;
            // Dead ids are exactly the ones not live below the watermark;
            // ids above it cannot be present once no add is pending.
            let all_live = keys.iter().all(|(_, list)| match list {
                PostingList::List(entries) => entries.iter().all(|e| view.live(e.content)),
                PostingList::Saturated { .. } => true,
            });
            if all_live {
                continue;
            }
            let before = keys.len();
            let kept: Vec<(u32, PostingList)> = keys
                .into_iter()
                .filter_map(|(suffix, list)| Some((suffix, list.retain(|c| view.live(c))?)))
                .collect();
            deleted += (before - kept.len()) as u64;
            if kept.is_empty() {
                batch.delete_cf(cf, &k);
            } else {
                batch.put_cf(cf, &k, bucket::encode(&kept));
            }
            rewritten += 1;
            if batch.len() >= 50_000 {
                self.db.write(std::mem::take(&mut batch))?;
            }
        }
        self.db.write(batch)?;
        let mut b = WriteBatch::default();
        for (s, _) in &view.dead {
            b.delete_cf(self.cf(CF_DEAD), codec::u64_key(*s));
        }
        self.write_sync(b)?;
        if rewritten > 0 {
            self.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
        *self.view.write().unwrap() = self.load_view()?;
        Ok(deleted)
    }

    // --- add ------------------------------------------------------------------

    /// Whether `project`@`version` is in the index.
    pub fn has_version(&self, project: &str, version: &str) -> Result<bool> {
        Ok(self
            .db
            .get_pinned_cf(self.cf(CF_VERSIONS), version_name_key(project, version))?
            .is_some())
    }

    /// Adds one version. Atomic: a crash leaves it absent, and adding it
    /// again completes it. A version already present is left alone.
    pub fn add(&self, input: VersionInput, opts: &AddOptions) -> Result<AddReport> {
        self.writer()?;
        input.check_names()?;
        if self.has_version(&input.project, &input.version)? {
            return Ok(AddReport {
                already_present: true,
                ..AddReport::default()
            });
        }
        let progress = |p: Progress| {
            if let Some(f) = &opts.progress {
                f(&p)
            }
        };
        let VersionInput {
            project,
            version,
            source_spec,
            declared_license,
            release_date,
            files,
            skipped: caller_skipped,
        } = input;
        // 1. Hash; drop duplicate paths.
        progress(Progress::Stage(Stage::Hashing));
        let (mut files, mut skipped) = dedup_paths(files, caller_skipped);
        let digests: Vec<FileDigests> = files
            .par_iter()
            .map(|f| FileDigests::of(&f.bytes))
            .collect();

        // 2. Which contents are known already.
        let exact_keys: Vec<Vec<u8>> = digests.iter().map(|d| exact_key(&d.exact.0)).collect();
        let known: Vec<Option<u64>> = self
            .db
            .batched_multi_get_cf(self.cf(CF_DIGESTS), &exact_keys, false)
            .into_iter()
            .map(|r| r.map(|v| v.and_then(|v| codec::read_u64(&v))))
            .collect::<std::result::Result<_, _>>()?;

        // 3. New distinct contents, each with a tentative id.
        let next_content = self.meta_u64(meta::NEXT_CONTENT)?;
        let mut new_ids: HashMap<Digest, u64> = HashMap::new();
        let mut to_analyze: Vec<usize> = Vec::new();
        for (i, d) in digests.iter().enumerate() {
            if known[i].is_none() && !new_ids.contains_key(&d.exact) {
                new_ids.insert(d.exact, next_content + new_ids.len() as u64);
                to_analyze.push(i);
            }
        }
        let end_content = next_content + new_ids.len() as u64;
        let new_bytes: u64 = to_analyze
            .iter()
            .map(|&i| files[i].bytes.len() as u64)
            .sum();
        progress(Progress::Planned {
            files: to_analyze.len() as u64,
            bytes: new_bytes,
        });
        let use_batch = new_bytes < opts.batch_limit_bytes;

        // 4. Analyze in chunks; on the ingest path each chunk becomes an SST.
        let mut metas: HashMap<u64, ContentMeta> = HashMap::new();
        let mut streams: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
        let mut sources: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut analysis_skips: HashMap<Digest, String> = HashMap::new();
        let mut batch_postings: Vec<(u64, Entry)> = Vec::new();
        let mut sst_files: Vec<PathBuf> = Vec::new();
        let mut fingerprints = 0u64;
        if !use_batch {
            self.reserve(&Pending {
                project: project.clone(),
                version: version.clone(),
                first_content: next_content,
                end_content,
            })?;
            progress(Progress::Stage(Stage::Reserved));
            std::fs::create_dir_all(self.ingest_dir())?;
        }
        progress(Progress::Stage(Stage::Analyzing));
        let mut start = 0;
        while start < to_analyze.len() {
            let mut end = start;
            let mut chunk_bytes = 0u64;
            while end < to_analyze.len() && (end == start || chunk_bytes < opts.chunk_bytes) {
                chunk_bytes += files[to_analyze[end]].bytes.len() as u64;
                end += 1;
            }
            let chunk = &to_analyze[start..end];
            let results: Vec<(usize, std::result::Result<Analyzed, String>)> = chunk
                .par_iter()
                .map_init(
                    || Analyzer::new(self.engine_params),
                    |an, &i| {
                        let f = &files[i];
                        let id = new_ids[&digests[i].exact];
                        let r = analyze_one(an, id, f, &digests[i], opts.keep_source);
                        progress(Progress::File {
                            bytes: f.bytes.len() as u64,
                        });
                        (i, r)
                    },
                )
                .collect();
            // The bytes are no longer needed: free them as we go.
            for &i in chunk {
                files[i].bytes = Vec::new();
                files[i].bytes.shrink_to_fit();
            }
            let mut postings: Vec<(u64, Entry)> = Vec::new();
            for (i, r) in results {
                match r {
                    Ok(a) => {
                        fingerprints += a.fps.len() as u64;
                        postings.extend(a.fps);
                        streams.push((a.meta.id, a.stream));
                        if let Some(src) = a.source {
                            sources.push((a.meta.id, src));
                        }
                        metas.insert(a.meta.id, a.meta);
                    }
                    Err(reason) => {
                        analysis_skips.insert(digests[i].exact, reason);
                    }
                }
            }
            if use_batch {
                batch_postings.append(&mut postings);
            } else if !postings.is_empty() {
                let path =
                    self.ingest_dir()
                        .join(format!("{}-{}.sst", next_content, sst_files.len()));
                write_postings_sst(&path, postings)?;
                sst_files.push(path);
            }
            start = end;
        }
        if !use_batch {
            progress(Progress::Stage(Stage::Written));
            self.ingest_postings(sst_files, true)?;
            let _ = std::fs::remove_dir_all(self.ingest_dir());
            progress(Progress::Stage(Stage::Ingested));
        }

        // 5. Commit everything else in one synced batch.
        let mut b = WriteBatch::default();
        if use_batch {
            let cf = self.cf(CF_POSTINGS);
            for (key, value) in group_postings(batch_postings) {
                b.merge_cf(cf, bucket::bucket_key(key), value);
            }
        }
        let vid = self.meta_u64(meta::NEXT_VERSION)? as u32;
        let mut report = AddReport {
            version_id: vid,
            write_path: if use_batch { "batch" } else { "ingest" },
            fingerprints,
            ..AddReport::default()
        };
        let mut first_use: HashSet<u64> = HashSet::new();
        for (i, f) in files.iter().enumerate() {
            let d = &digests[i];
            let id = match known[i] {
                Some(id) => {
                    report.reused_contents += 1;
                    id
                }
                None => {
                    if let Some(reason) = analysis_skips.get(&d.exact) {
                        skipped.push(SkippedFile {
                            path: f.path.clone(),
                            reason: reason.clone(),
                        });
                        continue;
                    }
                    let id = new_ids[&d.exact];
                    if !first_use.insert(id) {
                        report.reused_contents += 1;
                    }
                    id
                }
            };
            let size = digests_size(&metas, id, known[i].is_some(), &f.bytes);
            report.files += 1;
            report.bytes += size;
            self.put_occurrence(&mut b, id, vid, &f.path, f.license.as_ref());
        }
        // Streams commit with their contents: a crashed add leaves none.
        let mut sources: HashMap<u64, Vec<u8>> = sources.into_iter().collect();
        for (id, stream) in &streams {
            let m = &metas[id];
            self.put_content(&mut b, m, stream.as_deref(), sources.remove(id).as_deref());
        }
        report.new_contents = metas.len() as u64;
        skipped.sort_by(|a, c| a.path.cmp(&c.path));
        let info = VersionInfo {
            id: vid,
            project: project.clone(),
            version: version.clone(),
            source_spec,
            declared_license,
            release_date,
            files: report.files,
            bytes: report.bytes,
            new_contents: report.new_contents,
            skipped: skipped.clone(),
            indexed_at: now_secs(),
        };
        self.put_version(&mut b, &info);
        let mut counts = self.view.read().unwrap().counts;
        counts.versions += 1;
        counts.contents += report.new_contents;
        counts.occurrences += report.files;
        counts.source_bytes += report.bytes;
        self.put_commit(&mut b, &counts, vid + 1, end_content)?;
        self.write_sync(b)?;
        *self.view.write().unwrap() = self.load_view()?;
        progress(Progress::Stage(Stage::Committed));
        report.skipped = skipped;
        Ok(report)
    }

    // --- commit records, shared by add and ingest -------------------------------

    /// A new content's records: metadata, digests, token stream (unless the
    /// source rebuilds it), source.
    pub(crate) fn put_content(
        &self,
        b: &mut WriteBatch,
        m: &ContentMeta,
        stream: Option<&[u8]>,
        source: Option<&[u8]>,
    ) {
        let id = codec::u64_key(m.id);
        b.put_cf(self.cf(CF_CONTENTS), id, to_json(m));
        b.put_cf(self.cf(CF_DIGESTS), exact_key(&hex_digest(&m.exact)), id);
        b.put_cf(
            self.cf(CF_DIGESTS),
            normalized_key(&hex_digest(&m.normalized), m.id),
            b"",
        );
        if let Some(stream) = stream {
            b.put_cf(self.cf(CF_STREAMS), id, stream);
        }
        if let (Some(cf), Some(src)) = (self.db.cf_handle(CF_SOURCE), source) {
            b.put_cf(cf, id, src);
        }
    }

    /// One file of a version: its occurrence and its version-file record.
    pub(crate) fn put_occurrence(
        &self,
        b: &mut WriteBatch,
        id: u64,
        vid: u32,
        path: &str,
        license: Option<&License>,
    ) {
        let license = license.map(to_json).unwrap_or_default();
        b.put_cf(
            self.cf(CF_OCCURRENCES),
            occurrence_key(id, vid, path),
            license,
        );
        b.put_cf(
            self.cf(CF_VERSION_FILES),
            version_file_key(vid, path),
            codec::u64_key(id),
        );
    }

    pub(crate) fn put_version(&self, b: &mut WriteBatch, info: &VersionInfo) {
        let name_key = version_name_key(&info.project, &info.version);
        b.put_cf(self.cf(CF_VERSIONS), &name_key, to_json(info));
        b.put_cf(self.cf(CF_VERSIONS), version_id_key(info.id), &name_key);
    }

    /// The counters of a commit; ends any pending add.
    pub(crate) fn put_commit(
        &self,
        b: &mut WriteBatch,
        counts: &Counts,
        next_version: u32,
        end_content: u64,
    ) -> Result<()> {
        let meta_cf = self.cf(CF_META);
        b.put_cf(meta_cf, meta::COUNTS, to_json(counts));
        b.put_cf(meta_cf, meta::NEXT_VERSION, next_version.to_string());
        b.put_cf(meta_cf, meta::NEXT_CONTENT, end_content.to_string());
        let committed = self.meta_u64(meta::COMMITTED)?.max(end_content);
        b.put_cf(meta_cf, meta::COMMITTED, committed.to_string());
        b.delete_cf(meta_cf, meta::PENDING);
        Ok(())
    }

    /// `next_content_id` and `next_version_id`.
    pub(crate) fn next_ids(&self) -> Result<(u64, u32)> {
        Ok((
            self.meta_u64(meta::NEXT_CONTENT)?,
            self.meta_u64(meta::NEXT_VERSION)? as u32,
        ))
    }

    /// The live counts as of this view.
    pub(crate) fn counts(&self) -> Counts {
        self.view.read().unwrap().counts
    }

    /// Records an ingestion or a large add in flight: after a crash the
    /// next writer marks `[first, end)` dead.
    pub(crate) fn reserve(&self, pending: &Pending) -> Result<()> {
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(CF_META), meta::PENDING, to_json(pending));
        b.put_cf(
            self.cf(CF_META),
            meta::NEXT_CONTENT,
            pending.end_content.to_string(),
        );
        self.write_sync(b)
    }

    /// Ingests SST files of postings (copied, so a failed ingestion can be
    /// retried from the same files, unless `move_files`).
    pub(crate) fn ingest_postings(&self, files: Vec<PathBuf>, move_files: bool) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let mut io = IngestExternalFileOptions::default();
        io.set_move_files(move_files);
        self.db
            .ingest_external_file_cf_opts(self.cf(CF_POSTINGS), &io, files)?;
        Ok(())
    }

    /// Reloads the view after a commit.
    pub(crate) fn reload(&self) -> Result<()> {
        *self.view.write().unwrap() = self.load_view()?;
        Ok(())
    }

    // --- remove ---------------------------------------------------------------

    /// Removes one version, or every version of a project, dropping contents
    /// (and their fingerprints) no longer referenced.
    pub fn remove(&self, project: &str, version: Option<&str>) -> Result<RemoveReport> {
        self.remove_with(project, version, &|_| {})
    }

    /// [`Index::remove`], telling `progress` when the removal is committed
    /// and the purge begins.
    pub fn remove_with(
        &self,
        project: &str,
        version: Option<&str>,
        progress: &dyn Fn(&Progress),
    ) -> Result<RemoveReport> {
        self.writer()?;
        let targets: Vec<VersionInfo> = match version {
            Some(v) => self.version(project, v)?.into_iter().collect(),
            None => self.versions(project)?,
        };
        let mut report = RemoveReport::default();
        if targets.is_empty() {
            return Ok(report);
        }
        let removed_vids: HashSet<u32> = targets.iter().map(|v| v.id).collect();
        let mut b = WriteBatch::default();
        let mut affected: BTreeSet<u64> = BTreeSet::new();
        let mut counts = self.view.read().unwrap().counts;
        for v in &targets {
            let prefix = v.id.to_be_bytes();
            for item in self.prefix_iter(CF_VERSION_FILES, &prefix) {
                let (k, val) = item?;
                let path =
                    std::str::from_utf8(&k[4..]).map_err(|_| corrupt(CF_VERSION_FILES, "path"))?;
                let id = codec::read_u64(&val).ok_or_else(|| corrupt(CF_VERSION_FILES, "value"))?;
                b.delete_cf(self.cf(CF_VERSION_FILES), &k);
                b.delete_cf(self.cf(CF_OCCURRENCES), occurrence_key(id, v.id, path));
                affected.insert(id);
                counts.occurrences = counts.occurrences.saturating_sub(1);
            }
            b.delete_cf(
                self.cf(CF_VERSIONS),
                version_name_key(&v.project, &v.version),
            );
            b.delete_cf(self.cf(CF_VERSIONS), version_id_key(v.id));
            counts.versions = counts.versions.saturating_sub(1);
            counts.source_bytes = counts.source_bytes.saturating_sub(v.bytes);
            report.versions.push((v.project.clone(), v.version.clone()));
        }
        let mut dead: Vec<u64> = Vec::new();
        for &id in &affected {
            let still_used = self
                .prefix_iter(CF_OCCURRENCES, &codec::u64_key(id))
                .any(|item| {
                    item.ok()
                        .and_then(|(k, _)| codec::read_u32(&k[8..]))
                        .is_some_and(|vid| !removed_vids.contains(&vid))
                });
            if still_used {
                continue;
            }
            if let Some(m) = self.content(id)? {
                b.delete_cf(self.cf(CF_CONTENTS), codec::u64_key(id));
                b.delete_cf(self.cf(CF_STREAMS), codec::u64_key(id));
                if let Some(cf) = self.db.cf_handle(CF_SOURCE) {
                    b.delete_cf(cf, codec::u64_key(id));
                }
                b.delete_cf(self.cf(CF_DIGESTS), exact_key(&hex_digest(&m.exact)));
                b.delete_cf(
                    self.cf(CF_DIGESTS),
                    normalized_key(&hex_digest(&m.normalized), id),
                );
            }
            dead.push(id);
        }
        for (s, e) in coalesce(&dead) {
            b.put_cf(self.cf(CF_DEAD), codec::u64_key(s), codec::u64_key(e));
        }
        counts.contents = counts.contents.saturating_sub(dead.len() as u64);
        b.put_cf(self.cf(CF_META), meta::COUNTS, to_json(&counts));
        self.write_sync(b)?;
        *self.view.write().unwrap() = self.load_view()?;
        progress(&Progress::Stage(Stage::Removed));
        report.dropped_contents = dead.len() as u64;
        report.dropped_fingerprints = self.purge()?;
        Ok(report)
    }

    fn prefix_iter<'a>(&'a self, cf: &str, prefix: &[u8]) -> impl Iterator<Item = RawEntry> + 'a {
        let mut ro = ReadOptions::default();
        if let Some(end) = prefix_end(prefix) {
            ro.set_iterate_upper_bound(end);
        }
        self.db.iterator_cf_opt(
            self.cf(cf),
            ro,
            IteratorMode::From(prefix, Direction::Forward),
        )
    }

    // --- lookups --------------------------------------------------------------

    /// Postings of each hash, common fingerprints left out. One batched
    /// `multi_get` for the whole slice.
    pub fn postings(&self, hashes: &[u64]) -> Result<PostingLookup> {
        // The filter is mapped at the first lookup: without it every key,
        // present or not, costs a bucket read.
        self.load_key_filter()?;
        let view = self.view.read().unwrap();
        let threshold = self.common.read().unwrap().threshold(view.counts.contents);
        // Keys the filter rules out are not asked for: most of a scan's.
        let filter = self.key_filter.read().unwrap().current(view.committed);
        let mut order: Vec<(KeyId, usize)> = (0..hashes.len())
            .map(|i| (KeyId::of(hashes[i]), i))
            .filter(|(id, _)| filter.as_ref().is_none_or(|f| f.may_hold(id.get())))
            .collect();
        order.sort_unstable();
        self.keys_read
            .fetch_add(order.len() as u64, Ordering::Relaxed);
        // One read per bucket, however many of its keys are asked.
        let mut buckets: Vec<u16> = order.iter().map(|(id, _)| id.bucket()).collect();
        buckets.dedup();
        let keys: Vec<[u8; 2]> = buckets.iter().map(|&b| bucket::bucket_key(b)).collect();
        let values = self
            .db
            .batched_multi_get_cf(self.cf(CF_POSTINGS), &keys, true);
        let mut out = PostingLookup {
            postings: vec![Vec::new(); hashes.len()],
            common: vec![false; hashes.len()],
        };
        let mut rest = order.as_slice();
        for (b, value) in buckets.into_iter().zip(values) {
            let n = rest.iter().take_while(|(id, _)| id.bucket() == b).count();
            let (asked, later) = rest.split_at(n);
            rest = later;
            let Some(value) = value? else { continue };
            let suffixes: Vec<u32> = asked.iter().map(|(id, _)| id.suffix()).collect();
            let lists = bucket::lookup(&value, &suffixes).map_err(|_| undecodable(b))?;
            for (&(_, slot), list) in asked.iter().zip(lists) {
                // A list of dead contents only is no posting; a saturated
                // one is common, as is a live list over the threshold.
                match list.and_then(|l| l.retain(|c| view.live(c))) {
                    Some(PostingList::List(live)) if PostingList::df_of(&live) <= threshold => {
                        out.postings[slot] = live.into_iter().map(to_posting).collect();
                    }
                    Some(_) => out.common[slot] = true,
                    None => {}
                }
            }
        }
        Ok(out)
    }

    /// The token stream of a content, for aligning a match against it;
    /// `None` for an id that is not live.
    /// Reads every record of every column family with block checksums
    /// verified, and decodes every token stream: what the open-time checks
    /// cannot see (a flipped bit inside a block). Returns records read per
    /// column family; the first damage found is the error.
    ///
    /// Also returns a digest of what the index holds, independent of how
    /// it was written (one build, adds, or a distributed build's ingestion)
    /// and of when: every record but the times versions were indexed. Two
    /// indexes with the same digest answer every query the same way.
    pub fn verify(&self) -> Result<(Vec<(&'static str, u64)>, String)> {
        let mut counts = Vec::new();
        let mut digest = blake3::Hasher::new();
        for key in [meta::COUNTS, meta::NEXT_CONTENT, meta::NEXT_VERSION] {
            digest.update(key);
            digest.update(&self.db.get_cf(self.cf(CF_META), key)?.unwrap_or_default());
        }
        // A filter that lacks a key would hide its postings from scans.
        let filter = KeyFilter::load(&self.dir, self.meta_u64(meta::COMMITTED)?)?;
        for cf in ALL_CFS {
            let mut ro = ReadOptions::default();
            ro.set_verify_checksums(true);
            ro.fill_cache(false);
            let mut n = 0u64;
            for item in self
                .db
                .iterator_cf_opt(self.cf(cf), ro, IteratorMode::Start)
            {
                let (key, value) = item.map_err(|e| {
                    crate::integrity::damaged(&self.dir, None, format!("column family {cf}: {e}"))
                })?;
                // Records whose bytes a block checksum cannot vouch for.
                let unreadable = match cf {
                    CF_STREAMS => crate::streams::decode(&value)
                        .is_none()
                        .then_some(("token stream", "decode")),
                    CF_SOURCE => crate::zstd_ctx::decompress(&value, 64 << 20)
                        .is_none()
                        .then_some(("source", "decompress")),
                    _ => None,
                };
                if cf == CF_POSTINGS {
                    let b = bucket_of(&key)?;
                    let ids = bucket::key_ids(b, &value).map_err(|_| {
                        crate::integrity::damaged(
                            &self.dir,
                            None,
                            format!("column family {cf}: bucket {b:04x} does not decode"),
                        )
                    })?;
                    if let Some(missing) = filter
                        .as_ref()
                        .and_then(|f| ids.iter().find(|id| !f.may_hold(id.get())))
                    {
                        return Err(crate::integrity::damaged(
                            &self.dir,
                            Some(crate::key_filter::FILTER_FILE),
                            format!(
                                "the postings key filter lacks fingerprint {:010x}",
                                missing.get()
                            ),
                        ));
                    }
                }
                if let Some((what, verb)) = unreadable {
                    let id = codec::read_u64(&key).unwrap_or(u64::MAX);
                    return Err(crate::integrity::damaged(
                        &self.dir,
                        None,
                        format!("column family {cf}: the {what} of content {id} does not {verb}"),
                    ));
                }
                if cf != CF_META {
                    digest.update(cf.as_bytes());
                    digest.update(&(key.len() as u64).to_le_bytes());
                    digest.update(&key);
                    let value = if cf == CF_VERSIONS && key.first() == Some(&b'n') {
                        let mut info: VersionInfo = from_json(CF_VERSIONS, &value)?;
                        info.indexed_at = 0;
                        to_json(&info)
                    } else {
                        value.to_vec()
                    };
                    digest.update(&(value.len() as u64).to_le_bytes());
                    digest.update(&value);
                }
                n += 1;
            }
            counts.push((cf, n));
        }
        Ok((counts, digest.finalize().to_hex().to_string()))
    }

    /// Content `id`'s source text, when the index kept it.
    pub fn source(&self, id: u64) -> Result<Option<Vec<u8>>> {
        if !self.view.read().unwrap().live(id) {
            return Ok(None);
        }
        let Some(cf) = self.db.cf_handle(CF_SOURCE) else {
            return Ok(None);
        };
        match self.db.get_pinned_cf(cf, codec::u64_key(id))? {
            None => Ok(None),
            Some(b) => crate::zstd_ctx::decompress(&b, 64 << 20)
                .map(Some)
                .ok_or_else(|| {
                    corrupt(
                        CF_SOURCE,
                        format!("source of content {id}: not a zstd frame of at most 64 MiB"),
                    )
                }),
        }
    }

    /// Content `id`'s token stream: its record in the forward store, or,
    /// for a content whose source is kept and whose language the lexer
    /// knows (no record was written), the lexer's stream of that source.
    pub fn stream(&self, id: u64) -> Result<Option<SymbolStream>> {
        if !self.view.read().unwrap().live(id) {
            return Ok(None);
        }
        if let Some(b) = self
            .db
            .get_pinned_cf(self.cf(CF_STREAMS), codec::u64_key(id))?
        {
            return crate::streams::decode(&b)
                .map(Some)
                .ok_or_else(|| corrupt(CF_STREAMS, format!("token stream of content {id}")));
        }
        let Some(bytes) = self.source(id)? else {
            return Ok(None);
        };
        let meta = self.content(id)?.ok_or_else(|| {
            corrupt(
                CF_CONTENTS,
                format!("content {id} has a source but no record"),
            )
        })?;
        relexed_stream(id, &meta, &bytes).map(Some)
    }

    /// The content that is byte-identical to `digest`.
    pub fn content_by_exact(&self, digest: &Digest) -> Result<Option<u64>> {
        Ok(self
            .db
            .get_pinned_cf(self.cf(CF_DIGESTS), exact_key(&digest.0))?
            .and_then(|v| codec::read_u64(&v)))
    }

    /// Contents equal to `digest` once CRLF is turned into LF.
    pub fn contents_by_normalized(&self, digest: &Digest) -> Result<Vec<u64>> {
        let prefix = normalized_prefix(&digest.0);
        let mut out = Vec::new();
        for item in self.prefix_iter(CF_DIGESTS, &prefix) {
            let (k, _) = item?;
            out.push(
                codec::read_u64(&k[prefix.len()..]).ok_or_else(|| corrupt(CF_DIGESTS, "key"))?,
            );
        }
        Ok(out)
    }

    /// Whole-file lookup: the exact match first, then line-ending variants.
    pub fn find_file(&self, digests: &FileDigests) -> Result<Vec<FileMatch>> {
        let mut out = Vec::new();
        let exact = self.content_by_exact(&digests.exact)?;
        if let Some(content) = exact {
            out.push(FileMatch {
                content,
                exact: true,
            });
        }
        for content in self.contents_by_normalized(&digests.normalized)? {
            if Some(content) != exact {
                out.push(FileMatch {
                    content,
                    exact: false,
                });
            }
        }
        Ok(out)
    }

    pub fn content(&self, id: u64) -> Result<Option<ContentMeta>> {
        match self
            .db
            .get_pinned_cf(self.cf(CF_CONTENTS), codec::u64_key(id))?
        {
            Some(b) => Ok(Some(from_json(CF_CONTENTS, &b)?)),
            None => Ok(None),
        }
    }

    /// Every (project, version, path) holding content `id`.
    pub fn occurrences(&self, id: u64) -> Result<Vec<Occurrence>> {
        let mut names: HashMap<u32, (String, String)> = HashMap::new();
        let mut out = Vec::new();
        for item in self.prefix_iter(CF_OCCURRENCES, &codec::u64_key(id)) {
            let (k, v) = item?;
            let vid = codec::read_u32(&k[8..]).ok_or_else(|| corrupt(CF_OCCURRENCES, "key"))?;
            let path = String::from_utf8_lossy(&k[12..]).into_owned();
            if let std::collections::hash_map::Entry::Vacant(e) = names.entry(vid) {
                match self.version_name(vid)? {
                    Some(n) => {
                        e.insert(n);
                    }
                    // Not visible in this view (a reader between catch-ups).
                    None => continue,
                }
            }
            let (project, version) = names[&vid].clone();
            let license = if v.is_empty() {
                None
            } else {
                Some(from_json(CF_OCCURRENCES, &v)?)
            };
            out.push(Occurrence {
                project,
                version,
                path,
                license,
            });
        }
        Ok(out)
    }

    fn version_name(&self, vid: u32) -> Result<Option<(String, String)>> {
        let Some(k) = self.db.get_cf(self.cf(CF_VERSIONS), version_id_key(vid))? else {
            return Ok(None);
        };
        let body = k
            .get(1..)
            .ok_or_else(|| corrupt(CF_VERSIONS, "id record"))?;
        let nul = body
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| corrupt(CF_VERSIONS, "id record"))?;
        Ok(Some((
            String::from_utf8_lossy(&body[..nul]).into_owned(),
            String::from_utf8_lossy(&body[nul + 1..]).into_owned(),
        )))
    }

    pub fn version(&self, project: &str, version: &str) -> Result<Option<VersionInfo>> {
        match self
            .db
            .get_pinned_cf(self.cf(CF_VERSIONS), version_name_key(project, version))?
        {
            Some(b) => Ok(Some(from_json(CF_VERSIONS, &b)?)),
            None => Ok(None),
        }
    }

    /// The files of one version as (path, content id), sorted by path.
    pub fn version_files(&self, project: &str, version: &str) -> Result<Vec<(String, u64)>> {
        let Some(info) = self.version(project, version)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(info.files as usize);
        for item in self.prefix_iter(CF_VERSION_FILES, &info.id.to_be_bytes()) {
            let (k, v) = item?;
            let path = String::from_utf8_lossy(&k[4..]).into_owned();
            out.push((
                path,
                codec::read_u64(&v).ok_or_else(|| corrupt(CF_VERSION_FILES, "value"))?,
            ));
        }
        Ok(out)
    }

    /// The live content version `version` (an id, [`VersionInfo::id`]) holds
    /// at `path`, if any: one point lookup.
    pub fn content_at(&self, version: u32, path: &str) -> Result<Option<u64>> {
        let key = version_file_key(version, path);
        let Some(b) = self.db.get_pinned_cf(self.cf(CF_VERSION_FILES), key)? else {
            return Ok(None);
        };
        let id = codec::read_u64(&b).ok_or_else(|| corrupt(CF_VERSION_FILES, "value"))?;
        Ok(self.view.read().unwrap().live(id).then_some(id))
    }

    /// Versions of one project, in the order they were added.
    pub fn versions(&self, project: &str) -> Result<Vec<VersionInfo>> {
        let mut out: Vec<VersionInfo> = Vec::new();
        for item in self.prefix_iter(CF_VERSIONS, &project_prefix(project)) {
            let (_, v) = item?;
            out.push(from_json(CF_VERSIONS, &v)?);
        }
        out.sort_by_key(|v| v.id);
        Ok(out)
    }

    /// Every version, sorted by project then order of addition.
    pub fn all_versions(&self) -> Result<Vec<VersionInfo>> {
        let mut out: Vec<VersionInfo> = Vec::new();
        for item in self.prefix_iter(CF_VERSIONS, b"n") {
            let (_, v) = item?;
            out.push(from_json(CF_VERSIONS, &v)?);
        }
        out.sort_by(|a, b| a.project.cmp(&b.project).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    pub fn projects(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = self
            .all_versions()?
            .into_iter()
            .map(|v| v.project)
            .collect();
        out.dedup();
        Ok(out)
    }

    /// Counts, including a full pass over the fingerprints.
    pub fn stats(&self) -> Result<Stats> {
        let view = self.view.read().unwrap().clone();
        let policy = self.common_policy();
        let threshold = policy.threshold(view.counts.contents);
        let mut s = Stats {
            format_version: FORMAT_VERSION,
            params: Some(self.params.clone()),
            projects: self.projects()?.len() as u64,
            versions: view.counts.versions,
            contents: view.counts.contents,
            occurrences: view.counts.occurrences,
            source_bytes: view.counts.source_bytes,
            common_threshold: threshold,
            common_policy: Some(policy),
            ..Stats::default()
        };
        for item in self
            .db
            .iterator_cf(self.cf(CF_POSTINGS), IteratorMode::Start)
        {
            let (k, v) = item?;
            let b = bucket_of(&k)?;
            for (_, list) in bucket::decode(&v).map_err(|_| undecodable(b))? {
                let Some(live) = list.retain(|c| view.live(c)) else {
                    continue;
                };
                s.fingerprints += 1;
                if let PostingList::List(entries) = &live {
                    s.postings += entries.len() as u64;
                }
                if live.df() > threshold {
                    s.common_fingerprints += 1;
                }
            }
        }
        s.bytes_on_disk = dir_size(&self.dir);
        for cf in ALL_CFS {
            if let Some(handle) = self.db.cf_handle(cf) {
                let bytes = self
                    .db
                    .property_int_value_cf(handle, "rocksdb.total-sst-files-size")?
                    .unwrap_or(0);
                s.bytes_by_column_family.insert(cf.to_string(), bytes);
            }
        }
        s.key_filter = self.key_filter()?;
        Ok(s)
    }

    /// Flushes the memtables of every column family to SST files, in one
    /// atomic step: a secondary reader catching up in the middle must never
    /// find one column family flushed and another's data only in a
    /// write-ahead log that the flush has just made obsolete.
    pub fn flush(&self) -> Result<()> {
        let cfs: Vec<&ColumnFamily> = ALL_CFS.iter().map(|n| self.cf(n)).collect();
        self.db
            .flush_cfs_opt(&cfs, &rocksdb::FlushOptions::default())?;
        Ok(())
    }

    /// Leaves the index quick to open and to read after a writing session:
    /// memtables are flushed, so readers have no write-ahead log to replay,
    /// and when `postings` holds more than `max_runs` sorted runs (each SST
    /// ingestion adds one, and fingerprint keys are random, so they all
    /// overlap) the column family is compacted into one. A lookup then
    /// checks one file per level instead of one per add.
    /// Returns whether a compaction ran.
    pub fn settle(&self, max_runs: u64) -> Result<bool> {
        self.settle_with(max_runs, &|_| {})
    }

    /// [`Index::settle`], telling `progress` before a compaction starts.
    pub fn settle_with(&self, max_runs: u64, progress: &dyn Fn(&Progress)) -> Result<bool> {
        self.writer()?;
        self.flush()?;
        let compact = self.postings_sorted_runs()? > max_runs;
        if compact {
            progress(&Progress::Stage(Stage::Compacting));
            self.db
                .compact_range_cf(self.cf(CF_POSTINGS), None::<&[u8]>, None::<&[u8]>);
        }
        self.write_key_filter()?;
        Ok(compact)
    }

    /// Sorted runs of the postings column family: each level-0 file, plus
    /// each deeper level holding files (see [`Index::settle`]).
    pub fn postings_sorted_runs(&self) -> Result<u64> {
        let cf = self.cf(CF_POSTINGS);
        let mut runs = 0;
        for level in 0..7 {
            let files = self
                .db
                .property_int_value_cf(cf, format!("rocksdb.num-files-at-level{level}").as_str())?
                .unwrap_or(0);
            runs += if level == 0 {
                files
            } else {
                u64::from(files > 0)
            };
        }
        Ok(runs)
    }

    /// Compacts every column family (after a bulk build, for the smallest index).
    pub fn compact(&self) -> Result<()> {
        self.writer()?;
        for name in ALL_CFS {
            self.db
                .compact_range_cf(self.cf(name), None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }
}

/// What a reader knows of the key filter: the committed id it last looked
/// for one at (`None`: not since the open or the last refresh), and the
/// filter it found, if any.
#[derive(Default)]
struct FilterSlot {
    sought_at: Option<u64>,
    filter: Option<Arc<KeyFilter>>,
}

impl FilterSlot {
    /// The filter, if it was built at `committed`: any other lacks keys
    /// or is unknown to answer for.
    fn current(&self, committed: u64) -> Option<Arc<KeyFilter>> {
        self.filter.clone().filter(|f| f.committed() == committed)
    }
}

/// Positions of one fingerprint kept per content (see
/// [`engine::matcher::MAX_REPEATS_IN_ORIGIN`]).
const POSITIONS_KEPT_PER_CONTENT: usize = engine::matcher::MAX_REPEATS_IN_ORIGIN + 1;

/// Analyzes one new content (`add` and `index shard` alike): its record,
/// postings (under content id `id`), token stream and, when kept, its
/// compressed source text.
pub(crate) fn analyze_one(
    an: &mut Analyzer,
    id: u64,
    f: &crate::input::FileInput,
    digests: &FileDigests,
    keep_source: bool,
) -> std::result::Result<Analyzed, String> {
    let bytes = &f.bytes;
    let a = an
        .analyze(Path::new(&f.path), bytes)
        .map_err(|e| e.to_string())?;
    // Positions past the matcher's repetition limit change no match; a
    // table of literals repeats one normalized gram thousands of times.
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let fps = a
        .fingerprints
        .iter()
        .filter(|fp| {
            let n = seen.entry(fp.hash).or_default();
            *n += 1;
            *n <= POSITIONS_KEPT_PER_CONTENT
        })
        .map(|fp| {
            (
                fp.hash,
                Entry {
                    content: id,
                    pos: fp.pos,
                },
            )
        })
        .collect();
    // A lexed content's stream comes back from its source ([`Index::stream`]);
    // a parsed one's is stored, since a parse can run out of time.
    let stream = (!(keep_source && a.lexed))
        .then(|| crate::streams::encode(&SymbolStream::of_file(&a.tokens.tokens, bytes)));
    Ok(Analyzed {
        meta: ContentMeta {
            id,
            exact: digests.exact.to_hex(),
            normalized: digests.normalized.to_hex(),
            bytes: bytes.len() as u64,
            lines: a.lines,
            language: a.language.name().to_string(),
            tokens: a.tokens.len() as u32,
            fingerprints: a.fingerprints.len() as u32,
            fallback: a.tokens.fallback,
            license: f.license.clone(),
            copyrights: f.copyrights.clone(),
        },
        fps,
        stream,
        source: keep_source.then(|| crate::zstd_ctx::compress(bytes, 3)),
    })
}

/// The stream the lexer makes of a content's source: the one the add that
/// indexed it made, since lexing is a pure function of the bytes. A token
/// count other than the record's means the lexer changed since (a build of
/// provscan whose grammar versions should have differed): refused rather
/// than matched against a stream the postings were not made from.
fn relexed_stream(id: u64, meta: &ContentMeta, bytes: &[u8]) -> Result<SymbolStream> {
    let language = engine::lang::Language::from_name(&meta.language).ok_or_else(|| {
        corrupt(
            CF_CONTENTS,
            format!("content {id}: unknown language {:?}", meta.language),
        )
    })?;
    // An analyzer holds nothing until it parses, and the lexicons are
    // shared by the whole process: a fresh one costs nothing.
    let tokens = Analyzer::default().relex(language, bytes).ok_or_else(|| {
        corrupt(
            CF_STREAMS,
            format!(
                "content {id} ({}) has no token stream, and its language is parsed, not lexed",
                meta.language
            ),
        )
    })?;
    if tokens.len() != meta.tokens as usize {
        return Err(corrupt(
            CF_STREAMS,
            format!(
                "content {id}: its source lexes to {} tokens, the index recorded {}: \
                 the lexer changed since the index was built, rebuild it",
                tokens.len(),
                meta.tokens
            ),
        ));
    }
    Ok(SymbolStream::of_file(&tokens, bytes))
}

/// Removes the secondary-instance directories of readers whose process is
/// gone. A reader removes its own when dropped, but not when killed (SIGKILL,
/// or SIGINT/SIGTERM, which end the process without running destructors);
/// the next reader clears them, so they never pile up. Liveness is read from
/// `/proc`, so elsewhere they are left alone.
fn sweep_stale_readers(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let own = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix("provscan-reader-"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != own && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Keeps the first file of each path; the others are skipped files.
pub(crate) fn dedup_paths(
    files: Vec<crate::input::FileInput>,
    mut skipped: Vec<SkippedFile>,
) -> (Vec<crate::input::FileInput>, Vec<SkippedFile>) {
    let mut seen_paths = HashSet::new();
    let files = files
        .into_iter()
        .filter(|f| {
            let fresh = seen_paths.insert(f.path.clone());
            if !fresh {
                skipped.push(SkippedFile {
                    path: f.path.clone(),
                    reason: "duplicate path".into(),
                });
            }
            fresh
        })
        .collect();
    (files, skipped)
}

/// Writes postings as one SST file of merge operands, one per bucket;
/// returns the number of fingerprints.
pub(crate) fn write_postings_sst(path: &Path, postings: Vec<(u64, Entry)>) -> Result<u64> {
    let cache = Cache::new_lru_cache(8 << 20);
    let opts = cf_options(CF_POSTINGS, &cache);
    let mut w = SstFileWriter::create(&opts);
    w.open(path)?;
    let mut keys = 0u64;
    for (key, value) in group_postings(postings) {
        keys += bucket::key_count(&value).unwrap_or(0);
        w.merge(bucket::bucket_key(key), value)?;
    }
    w.finish()?;
    Ok(keys)
}

/// Size of one occurrence: from the content record for new contents (the
/// bytes were freed after analysis), from the bytes otherwise.
fn digests_size(metas: &HashMap<u64, ContentMeta>, id: u64, known: bool, bytes: &[u8]) -> u64 {
    if known {
        return bytes.len() as u64;
    }
    metas
        .get(&id)
        .map(|m| m.bytes)
        .unwrap_or(bytes.len() as u64)
}

/// Sorts postings by fingerprint and encodes them bucket by bucket.
fn group_postings(postings: Vec<(u64, Entry)>) -> Vec<(u16, Vec<u8>)> {
    let mut keyed: Vec<(KeyId, Entry)> = postings
        .into_iter()
        .map(|(hash, e)| (KeyId::of(hash), e))
        .collect();
    keyed.par_sort_unstable();
    bucket::group(&keyed)
}

fn to_posting(e: Entry) -> Posting {
    Posting {
        origin: e.content,
        // Lines come from the origin's stream once a match is aligned.
        anchor: engine::align::Anchor {
            pos: e.pos,
            first_line: 0,
            last_line: 0,
        },
    }
}

fn hex_digest(hex: &str) -> [u8; 32] {
    blake3::Hash::from_hex(hex)
        .map(|h| *h.as_bytes())
        .unwrap_or([0; 32])
}

/// Sorted ids into `[start, end)` runs.
fn coalesce(ids: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &id in ids {
        match out.last_mut() {
            Some((_, e)) if *e == id => *e += 1,
            _ => out.push((id, id + 1)),
        }
    }
    out
}

/// Opens `dir` read-only and runs [`crate::integrity::check`] on it. The mark
/// is read first: a commit made after it is one the open sees too.
///
/// A writer's compaction may delete a table file between the open's read
/// of the MANIFEST and the check; the next attempt then reads the MANIFEST
/// that no longer names it. Real damage fails every attempt.
fn check_integrity(dir: &Path, cfs: &[String], cache: &Cache) -> Result<()> {
    let attempt = || -> Result<()> {
        let mark = crate::integrity::read_mark(dir)?;
        let descriptors = cfs
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(n, cf_options(n, cache)));
        // Every table is opened here (footer, index and filter blocks
        // read): that is what finds a table file overwritten in place, which
        // the secondary instance would leave out silently.
        let db = DB::open_cf_descriptors_read_only(&reader_options(), dir, descriptors, false)
            .map_err(|e| crate::integrity::damaged(dir, None, e.to_string()))?;
        crate::integrity::check(&db, dir, mark)
    };
    let mut last = attempt();
    for _ in 0..2 {
        if !matches!(last, Err(IndexError::Damaged { .. })) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        last = attempt();
    }
    last
}

fn check_cfs(dir: &Path) -> Result<Vec<String>> {
    // Only called when CURRENT exists: a directory RocksDB cannot list is a
    // damaged index, and its message says why.
    let cfs = DB::list_cf(&Options::default(), dir)
        .map_err(|e| crate::integrity::damaged(dir, Some("CURRENT"), e.to_string()))?;
    if !cfs.iter().any(|c| c == schema::CF_META) {
        return Err(IndexError::NotAnIndex(dir.to_path_buf()));
    }
    Ok(cfs)
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_liveness() {
        let v = View {
            committed: 100,
            dead: vec![(10, 20), (30, 31)],
            counts: Counts::default(),
        };
        assert!(v.live(0) && v.live(9) && v.live(20) && v.live(29) && v.live(31) && v.live(99));
        assert!(!v.live(10) && !v.live(19) && !v.live(30) && !v.live(100));
    }

    #[test]
    fn coalesces_runs() {
        assert_eq!(
            coalesce(&[1, 2, 3, 7, 9, 10]),
            vec![(1, 4), (7, 8), (9, 11)]
        );
        assert!(coalesce(&[]).is_empty());
    }
}
