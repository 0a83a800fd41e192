//! Building an index on many machines: shards, a plan, sorted runs, one
//! ingestion.
//!
//! A single writer analyzes every new content and numbers it as it goes
//! ([`crate::Index::add`]). To spread the analysis over executors (the Spark
//! build job in `spark/`), the work is cut in four steps, each a `provscan
//! index` subcommand so that the on-disk format stays this crate's business:
//!
//! 1. **shard** ([`ShardWriter`]): an executor loads some sources, analyzes
//!    their distinct contents and writes a shard directory: the contents'
//!    records with ids *local to the shard* (`contents.bin`), the versions
//!    and their files (`shard.json`), and the postings cut into `ranges`
//!    fingerprint ranges, one sorted file per range (`postings-NNNNN.bin`).
//! 2. **plan** ([`Plan::make`]): on the driver, from the shards' digests and
//!    the index as it is, decide which version is new, which content is new,
//!    and give every new content its final id. Ids are handed out exactly as
//!    one `index build` adding the same sources in the same order would:
//!    versions in shard order, new contents in order of first occurrence,
//!    from the index's `next_content_id` on. A content found in several
//!    shards keeps the first one's analysis; the others' postings are
//!    dropped. Ids therefore never collide, whatever the number of
//!    executors, and a Spark build gives the same index as a single one.
//! 3. **run** ([`write_run`]): one task per fingerprint range gathers that
//!    range's posting files from every shard (Spark's shuffle), rewrites
//!    local ids into final ones and writes one SST file of merge operands.
//! 4. **ingest** ([`crate::Index::ingest`]): the writer checks that the plan
//!    still holds for the index (else: plan again), ingests the runs and
//!    commits every version of the plan in one synced batch, with the same
//!    all-or-nothing guarantee as `add`.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use engine::identity::{Digest, FileDigests};
use engine::Analyzer;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codec::Entry;
use crate::input::VersionInput;
use crate::schema::{ContentMeta, EngineParams, License, SkippedFile};
use crate::{Index, IndexError, Result};

/// Version of the shard, plan and run files; all steps must agree.
pub const SHARD_FORMAT: u32 = 1;
const POSTINGS_MAGIC: &[u8; 8] = b"PSPOST01";
const CONTENTS_MAGIC: &[u8; 8] = b"PSCONT01";
/// Local ids are `u32`: a shard holds fewer distinct contents than that.
const MAX_SHARD_CONTENTS: usize = u32::MAX as usize;

fn shard_error(path: &Path, what: impl Into<String>) -> IndexError {
    IndexError::Shard {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

/// Where `ranges` fingerprint ranges start (the first starts at 0).
///
/// Winnowing keeps the smallest hash of each window, so stored hashes are
/// far from uniform: with equal ranges the first of four held 80 % of the
/// postings. The bounds are quantiles of the minimum of `shape` uniform
/// draws, `1 − (1 − r/R)^(1/shape)`, with `shape` = 0.7 w: the selected
/// minima are shared by overlapping windows, and 0.7 w fits what was
/// measured on C, Rust and Python crates (docs/scale.md).
pub fn range_bounds(ranges: u32, w: usize) -> Vec<u64> {
    let shape = (w as f64 * 0.7).max(1.0);
    (1..ranges)
        .map(|r| {
            let q = 1.0 - (1.0 - r as f64 / ranges as f64).powf(1.0 / shape);
            (q * u64::MAX as f64) as u64
        })
        .collect()
}

/// Which range `hash` falls in, given the bounds of [`range_bounds`].
pub fn range_of(hash: u64, bounds: &[u64]) -> u32 {
    bounds.partition_point(|&b| b <= hash) as u32
}

/// The posting file of `range` in a shard directory.
pub fn postings_path(shard: &Path, range: u32) -> PathBuf {
    shard.join(format!("postings-{range:05}.bin"))
}

/// A shard's description (`shard.json`), written last: a directory without
/// it is an unfinished shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardManifest {
    pub format: u32,
    /// blake3 over the contents and versions: the same input gives the same
    /// id, so a retried task writes the same shard.
    pub id: String,
    pub engine_params: EngineParams,
    pub ranges: u32,
    /// Where each range but the first starts ([`range_bounds`]).
    pub bounds: Vec<u64>,
    /// Per local id: the content's exact digest, and why it was not
    /// analyzed when it was not.
    pub contents: Vec<ShardContent>,
    pub versions: Vec<ShardVersion>,
    /// Sources that could not be loaded: listed, never fatal.
    pub failed_sources: Vec<FailedSource>,
    /// Postings per range.
    pub postings: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardContent {
    pub exact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardVersion {
    pub project: String,
    pub version: String,
    pub source_spec: String,
    pub declared_license: Option<String>,
    pub release_date: Option<String>,
    pub files: Vec<ShardFile>,
    pub skipped: Vec<SkippedFile>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardFile {
    pub path: String,
    /// Local content id.
    pub content: u32,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailedSource {
    pub spec: String,
    pub error: String,
}

/// Writes one shard: [`ShardWriter::add`] per version, then
/// [`ShardWriter::finish`].
pub struct ShardWriter {
    dir: PathBuf,
    params: engine::Params,
    /// Where each range but the first starts; one posting list per range.
    bounds: Vec<u64>,
    keep_source: bool,
    contents_out: zstd::Encoder<'static, BufWriter<std::fs::File>>,
    by_digest: HashMap<Digest, u32>,
    contents: Vec<ShardContent>,
    versions: Vec<ShardVersion>,
    failed_sources: Vec<FailedSource>,
    /// Per range: (hash, local id, position).
    postings: Vec<Vec<(u64, u32, u32)>>,
}

impl ShardWriter {
    /// Starts a shard in `dir`, which must be absent or empty.
    pub fn create(
        dir: &Path,
        params: engine::Params,
        ranges: u32,
        keep_source: bool,
    ) -> Result<ShardWriter> {
        if ranges == 0 {
            return Err(shard_error(dir, "the number of ranges must be at least 1"));
        }
        if dir.exists()
            && dir
                .read_dir()
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(shard_error(dir, "the shard directory is not empty"));
        }
        std::fs::create_dir_all(dir)?;
        let mut file = BufWriter::new(std::fs::File::create(dir.join("contents.bin"))?);
        file.write_all(CONTENTS_MAGIC)?;
        let contents_out = zstd::Encoder::new(file, 3)?;
        Ok(ShardWriter {
            dir: dir.to_path_buf(),
            params,
            bounds: range_bounds(ranges, params.w),
            keep_source,
            contents_out,
            by_digest: HashMap::new(),
            contents: Vec::new(),
            versions: Vec::new(),
            failed_sources: Vec::new(),
            postings: vec![Vec::new(); ranges as usize],
        })
    }

    /// Records a source that could not be loaded.
    pub fn source_failed(&mut self, spec: &str, error: &str) {
        self.failed_sources.push(FailedSource {
            spec: spec.to_string(),
            error: error.to_string(),
        });
    }

    /// Analyzes the contents of `input` this shard has not seen and records
    /// the version. Returns the number of new contents.
    pub fn add(&mut self, input: VersionInput) -> Result<u64> {
        input.check_names()?;
        let (files, mut skipped) = crate::store::dedup_paths(input.files, input.skipped);
        let digests: Vec<FileDigests> = files
            .par_iter()
            .map(|f| FileDigests::of(&f.bytes))
            .collect();
        let mut fresh: Vec<usize> = Vec::new();
        let mut locals = Vec::with_capacity(files.len());
        for (i, d) in digests.iter().enumerate() {
            let next = self.contents.len();
            let local = *self.by_digest.entry(d.exact).or_insert_with(|| {
                fresh.push(i);
                next as u32
            });
            if local as usize == next {
                if next >= MAX_SHARD_CONTENTS {
                    return Err(shard_error(&self.dir, "too many contents for one shard"));
                }
                self.contents.push(ShardContent {
                    exact: d.exact.to_hex(),
                    failed: None,
                });
            }
            locals.push(local);
        }
        let params = self.params;
        let keep_source = self.keep_source;
        let results: Vec<(usize, std::result::Result<crate::store::Analyzed, String>)> = fresh
            .par_iter()
            .map_init(
                || Analyzer::new(params),
                |an, &i| {
                    let r = crate::store::analyze_one(
                        an,
                        locals[i] as u64,
                        &files[i],
                        &digests[i],
                        keep_source,
                    );
                    (i, r)
                },
            )
            .collect();
        let new = results.len() as u64;
        for (i, r) in results {
            let local = locals[i];
            match r {
                Ok(a) => {
                    for (hash, e) in a.fps {
                        self.postings[range_of(hash, &self.bounds) as usize]
                            .push((hash, local, e.pos));
                    }
                    write_content(&mut self.contents_out, local, &a.meta, &a.stream, &a.source)?;
                }
                Err(reason) => self.contents[local as usize].failed = Some(reason),
            }
        }
        let files = files
            .iter()
            .enumerate()
            .map(|(i, f)| ShardFile {
                path: f.path.clone(),
                content: locals[i],
                bytes: f.bytes.len() as u64,
                license: f.license.clone(),
            })
            .collect();
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.versions.push(ShardVersion {
            project: input.project,
            version: input.version,
            source_spec: input.source_spec,
            declared_license: input.declared_license,
            release_date: input.release_date,
            files,
            skipped,
        });
        Ok(new)
    }

    /// Writes the posting files and `shard.json`; returns the manifest.
    pub fn finish(self) -> Result<ShardManifest> {
        let ShardWriter {
            dir,
            params,
            bounds,
            contents_out,
            contents,
            versions,
            failed_sources,
            postings,
            ..
        } = self;
        contents_out
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        let mut h = blake3::Hasher::new();
        h.update(&serde_json::to_vec(&contents).expect("serializable"));
        h.update(&serde_json::to_vec(&versions).expect("serializable"));
        let hash = h.finalize();
        let ranges = postings.len() as u32;
        let mut counts = Vec::with_capacity(postings.len());
        for (range, mut list) in postings.into_iter().enumerate() {
            list.par_sort_unstable();
            counts.push(list.len() as u64);
            write_postings_file(
                &postings_path(&dir, range as u32),
                hash.as_bytes(),
                range as u32,
                ranges,
                &list,
            )?;
        }
        let manifest = ShardManifest {
            format: SHARD_FORMAT,
            id: hash.to_hex().to_string(),
            engine_params: EngineParams::of(params),
            ranges,
            bounds,
            contents,
            versions,
            failed_sources,
            postings: counts,
        };
        write_json_atomically(&dir.join("shard.json"), &manifest)?;
        Ok(manifest)
    }
}

fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    // Several tasks may write the same file (each run leaves the plan in
    // the runs directory): each writes its own temporary, and the rename
    // leaves one whole copy.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("json.{}-{n}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(value).expect("serializable"))?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| shard_error(path, e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| shard_error(path, e.to_string()))
}

/// Reads `shard.json` from a shard directory.
pub fn read_shard(dir: &Path) -> Result<ShardManifest> {
    let path = dir.join("shard.json");
    if !path.exists() {
        return Err(shard_error(
            dir,
            "no shard.json: not a shard, or its task did not finish",
        ));
    }
    let m: ShardManifest = read_json(&path)?;
    if m.format != SHARD_FORMAT {
        return Err(shard_error(
            &path,
            format!(
                "shard format {}, this provscan reads {SHARD_FORMAT}",
                m.format
            ),
        ));
    }
    Ok(m)
}

fn write_content(
    out: &mut impl Write,
    local: u32,
    meta: &ContentMeta,
    stream: &Option<Vec<u8>>,
    source: &Option<Vec<u8>>,
) -> Result<()> {
    let meta = serde_json::to_vec(meta).expect("serializable");
    out.write_all(&local.to_le_bytes())?;
    // An absent part is written empty: no encoded stream or source is.
    let parts = [
        &meta[..],
        stream.as_deref().unwrap_or(&[]),
        source.as_deref().unwrap_or(&[]),
    ];
    for part in parts {
        out.write_all(&(part.len() as u32).to_le_bytes())?;
        out.write_all(part)?;
    }
    Ok(())
}

/// One analyzed content as a shard holds it.
pub(crate) struct ShardRecord {
    pub local: u32,
    pub meta: ContentMeta,
    pub stream: Option<Vec<u8>>,
    pub source: Option<Vec<u8>>,
}

/// Calls `f` on every analyzed content of a shard, in order.
pub(crate) fn for_each_content(
    dir: &Path,
    mut f: impl FnMut(ShardRecord) -> Result<()>,
) -> Result<()> {
    let path = dir.join("contents.bin");
    let bad = |what: &str| shard_error(&path, what.to_string());
    let mut file = BufReader::new(std::fs::File::open(&path).map_err(|e| bad(&e.to_string()))?);
    let mut magic = [0u8; 8];
    file.read_exact(&mut magic).map_err(|_| bad("truncated"))?;
    if &magic != CONTENTS_MAGIC {
        return Err(bad("not a shard contents file"));
    }
    let mut z = zstd::Decoder::new(file).map_err(|e| bad(&e.to_string()))?;
    loop {
        let mut local = [0u8; 4];
        match z.read_exact(&mut local) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(bad(&e.to_string())),
        }
        let mut parts: [Vec<u8>; 3] = Default::default();
        for part in parts.iter_mut() {
            let mut len = [0u8; 4];
            z.read_exact(&mut len)
                .map_err(|_| bad("truncated record"))?;
            *part = vec![0; u32::from_le_bytes(len) as usize];
            z.read_exact(part).map_err(|_| bad("truncated record"))?;
        }
        let [meta, stream, source] = parts;
        let meta: ContentMeta =
            serde_json::from_slice(&meta).map_err(|e| bad(&format!("content record: {e}")))?;
        f(ShardRecord {
            local: u32::from_le_bytes(local),
            meta,
            stream: (!stream.is_empty()).then_some(stream),
            source: (!source.is_empty()).then_some(source),
        })?;
    }
}

fn write_postings_file(
    path: &Path,
    shard_id: &[u8; 32],
    range: u32,
    ranges: u32,
    list: &[(u64, u32, u32)],
) -> Result<()> {
    let mut f = BufWriter::new(std::fs::File::create(path)?);
    f.write_all(POSTINGS_MAGIC)?;
    f.write_all(shard_id)?;
    f.write_all(&range.to_le_bytes())?;
    f.write_all(&ranges.to_le_bytes())?;
    f.write_all(&(list.len() as u64).to_le_bytes())?;
    let mut z = zstd::Encoder::new(f, 3)?;
    for (hash, local, pos) in list {
        z.write_all(&hash.to_le_bytes())?;
        z.write_all(&local.to_le_bytes())?;
        z.write_all(&pos.to_le_bytes())?;
    }
    z.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    Ok(())
}

/// A posting file as read back: which shard and range it holds.
pub struct PostingsFile {
    pub shard_id: String,
    pub range: u32,
    pub ranges: u32,
    pub entries: Vec<(u64, u32, u32)>,
}

/// Reads one posting file (a shard's, or a copy that went through a shuffle).
pub fn read_postings_file(path: &Path) -> Result<PostingsFile> {
    let bad = |what: &str| shard_error(path, what.to_string());
    let mut f = BufReader::new(std::fs::File::open(path).map_err(|e| bad(&e.to_string()))?);
    let mut head = [0u8; 8 + 32 + 4 + 4 + 8];
    f.read_exact(&mut head)
        .map_err(|_| bad("truncated header"))?;
    if &head[..8] != POSTINGS_MAGIC {
        return Err(bad("not a shard posting file"));
    }
    let shard_id = blake3::Hash::from_bytes(head[8..40].try_into().expect("32 bytes"))
        .to_hex()
        .to_string();
    let range = u32::from_le_bytes(head[40..44].try_into().expect("4 bytes"));
    let ranges = u32::from_le_bytes(head[44..48].try_into().expect("4 bytes"));
    let count = u64::from_le_bytes(head[48..56].try_into().expect("8 bytes"));
    let mut z = zstd::Decoder::new(f).map_err(|e| bad(&e.to_string()))?;
    let mut raw = Vec::new();
    z.read_to_end(&mut raw).map_err(|e| bad(&e.to_string()))?;
    if raw.len() as u64 != count * 16 {
        return Err(bad(&format!(
            "holds {} bytes of postings, its header says {count} postings",
            raw.len()
        )));
    }
    let entries = raw
        .chunks_exact(16)
        .map(|c| {
            (
                u64::from_le_bytes(c[..8].try_into().expect("8")),
                u32::from_le_bytes(c[8..12].try_into().expect("4")),
                u32::from_le_bytes(c[12..].try_into().expect("4")),
            )
        })
        .collect();
    Ok(PostingsFile {
        shard_id,
        range,
        ranges,
        entries,
    })
}

// --- plan -------------------------------------------------------------------

/// What an ingestion will do, decided from the shards and the index as it
/// was. [`crate::Index::ingest`] recomputes it and refuses when the index
/// moved on in between.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    pub engine_params: EngineParams,
    pub ranges: u32,
    /// The index's `next_content_id` and `next_version_id` when planned.
    pub first_content: u64,
    pub first_version: u32,
    /// One past the last id handed out.
    pub end_content: u64,
    pub new_contents: u64,
    pub shards: Vec<PlanShard>,
    /// Versions to add, in order, with their ids.
    pub versions: Vec<PlanVersion>,
    /// `project@version` of versions left out: already in the index, or
    /// in an earlier shard.
    pub already_present: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanShard {
    pub dir: PathBuf,
    pub id: String,
    /// Local ids whose postings and records this shard contributes, as
    /// runs `[first local, first final id, length]`.
    pub ids: Vec<[u64; 3]>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanVersion {
    pub shard: usize,
    pub version: usize,
    pub id: u32,
    pub name: String,
}

/// Per version of the plan, each file's content id, or why it is skipped.
pub(crate) type Assignment = Vec<Vec<std::result::Result<(u64, bool), String>>>;

impl PlanShard {
    /// The final id of local content `local`, if this shard contributes it.
    pub fn final_id(&self, local: u32) -> Option<u64> {
        let local = local as u64;
        let i = self.ids.partition_point(|r| r[0] <= local);
        let r = self.ids.get(i.checked_sub(1)?)?;
        (local < r[0] + r[2]).then(|| r[1] + (local - r[0]))
    }
}

/// What the plan needs to know of the index.
pub(crate) trait IndexState {
    fn next_ids(&self) -> Result<(u64, u32)>;
    fn has_version(&self, project: &str, version: &str) -> Result<bool>;
    fn content_by_exact(&self, digest: &Digest) -> Result<Option<u64>>;
}

/// An index that does not exist yet.
pub(crate) struct NoIndex;

impl IndexState for NoIndex {
    fn next_ids(&self) -> Result<(u64, u32)> {
        Ok((0, 0))
    }
    fn has_version(&self, _: &str, _: &str) -> Result<bool> {
        Ok(false)
    }
    fn content_by_exact(&self, _: &Digest) -> Result<Option<u64>> {
        Ok(None)
    }
}

impl IndexState for Index {
    fn next_ids(&self) -> Result<(u64, u32)> {
        self.next_ids()
    }
    fn has_version(&self, project: &str, version: &str) -> Result<bool> {
        Index::has_version(self, project, version)
    }
    fn content_by_exact(&self, digest: &Digest) -> Result<Option<u64>> {
        Index::content_by_exact(self, digest)
    }
}

impl Plan {
    /// Plans the ingestion of `shards` (in this order) into `index`, or
    /// into a new index when `index` is `None`.
    pub fn make(index: Option<&Index>, shards: &[PathBuf]) -> Result<Plan> {
        let manifests = shards
            .iter()
            .map(|d| read_shard(d))
            .collect::<Result<Vec<_>>>()?;
        let params = match index {
            Some(i) => i.params().clone(),
            None => EngineParams::of(engine::Params::default()),
        };
        Ok(match index {
            Some(i) => plan(i, shards, &manifests, &params)?.0,
            None => plan(&NoIndex, shards, &manifests, &params)?.0,
        })
    }

    /// blake3 of the plan: the runs name the plan they were written for.
    pub fn digest(&self) -> String {
        blake3::hash(&serde_json::to_vec(self).expect("serializable"))
            .to_hex()
            .to_string()
    }

    pub fn read(path: &Path) -> Result<Plan> {
        let plan: Plan = read_json(path)?;
        if plan.format != SHARD_FORMAT {
            return Err(shard_error(
                path,
                format!(
                    "plan format {}, this provscan reads {SHARD_FORMAT}",
                    plan.format
                ),
            ));
        }
        Ok(plan)
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        write_json_atomically(path, self)
    }
}

/// Walks the shards' versions in order as `Index::add` would, one after the
/// other, and hands out ids the same way.
pub(crate) fn plan(
    index: &dyn IndexState,
    dirs: &[PathBuf],
    manifests: &[ShardManifest],
    params: &EngineParams,
) -> Result<(Plan, Assignment)> {
    let (first_content, first_version) = index.next_ids()?;
    let mut next_content = first_content;
    let mut next_version = first_version;
    let mut ranges = None;
    let mut new_by_digest: HashMap<String, u64> = HashMap::new();
    let mut shard_ids: Vec<Vec<(u64, u64)>> = vec![Vec::new(); manifests.len()];
    let mut versions = Vec::new();
    let mut assignment: Assignment = Vec::new();
    let mut already_present = Vec::new();
    let mut seen_versions: HashSet<(String, String)> = HashSet::new();
    let mut seen_shards: HashSet<&str> = HashSet::new();
    for (s, m) in manifests.iter().enumerate() {
        let dir = &dirs[s];
        if &m.engine_params != params {
            return Err(shard_error(
                dir,
                format!(
                    "written with engine parameters {:?}, the index uses {params:?}",
                    m.engine_params
                ),
            ));
        }
        let first = ranges.get_or_insert((m.ranges, &m.bounds));
        if *first != (m.ranges, &m.bounds) {
            return Err(shard_error(
                dir,
                format!(
                    "cut into {} ranges, the first shard into {} (or at other bounds)",
                    m.ranges, first.0
                ),
            ));
        }
        if !seen_shards.insert(&m.id) {
            return Err(shard_error(dir, "the same shard is listed twice"));
        }
        for (v, ver) in m.versions.iter().enumerate() {
            let key = (ver.project.clone(), ver.version.clone());
            if seen_versions.contains(&key) || index.has_version(&ver.project, &ver.version)? {
                already_present.push(format!("{}@{}", ver.project, ver.version));
                continue;
            }
            seen_versions.insert(key);
            let mut failed_here: HashMap<u32, u64> = HashMap::new();
            let mut files = Vec::with_capacity(ver.files.len());
            for f in &ver.files {
                let content = m.contents.get(f.content as usize).ok_or_else(|| {
                    shard_error(dir, format!("{} names an unknown content", f.path))
                })?;
                let digest = blake3::Hash::from_hex(&content.exact)
                    .map(|h| Digest(*h.as_bytes()))
                    .map_err(|_| shard_error(dir, format!("bad digest for {}", f.path)))?;
                if let Some(id) = index.content_by_exact(&digest)? {
                    files.push(Ok((id, false)));
                } else if let Some(&id) = new_by_digest.get(&content.exact) {
                    files.push(Ok((id, false)));
                } else if let Some(reason) = &content.failed {
                    // As in `add`: an id is spent per version, nothing written.
                    failed_here.entry(f.content).or_insert_with(|| {
                        next_content += 1;
                        next_content - 1
                    });
                    files.push(Err(reason.clone()));
                } else {
                    let id = next_content;
                    next_content += 1;
                    new_by_digest.insert(content.exact.clone(), id);
                    shard_ids[s].push((f.content as u64, id));
                    files.push(Ok((id, true)));
                }
            }
            versions.push(PlanVersion {
                shard: s,
                version: v,
                id: next_version,
                name: format!("{}@{}", ver.project, ver.version),
            });
            next_version += 1;
            assignment.push(files);
        }
    }
    let shards = manifests
        .iter()
        .zip(shard_ids)
        .zip(dirs)
        .map(|((m, mut ids), dir)| {
            ids.sort_unstable();
            let mut runs: Vec<[u64; 3]> = Vec::new();
            for (local, id) in ids {
                match runs.last_mut() {
                    Some(r) if r[0] + r[2] == local && r[1] + r[2] == id => r[2] += 1,
                    _ => runs.push([local, id, 1]),
                }
            }
            PlanShard {
                dir: dir.clone(),
                id: m.id.clone(),
                ids: runs,
            }
        })
        .collect::<Vec<_>>();
    let new_contents = shards.iter().flat_map(|s| &s.ids).map(|r| r[2]).sum();
    Ok((
        Plan {
            format: SHARD_FORMAT,
            engine_params: params.clone(),
            ranges: ranges.map(|r| r.0).unwrap_or(1),
            first_content,
            first_version,
            end_content: next_content,
            new_contents,
            shards,
            versions,
            already_present,
        },
        assignment,
    ))
}

// --- runs -------------------------------------------------------------------

/// The description of a run written beside its SST file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunManifest {
    pub plan: String,
    pub range: u32,
    pub ranges: u32,
    pub postings: u64,
    pub fingerprints: u64,
}

/// The copy of the plan every run leaves in its runs directory.
pub const PLAN_IN_RUNS: &str = "plan.json";

/// The files of range `range`'s run in a runs directory.
pub fn run_paths(dir: &Path, range: u32) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("run-{range:05}.sst")),
        dir.join(format!("run-{range:05}.json")),
    )
}

/// Merges the posting files of one range, one per shard of the plan, into
/// one SST file of final ids in `out_dir`.
pub fn write_run(
    plan: &Plan,
    range: u32,
    inputs: &[PathBuf],
    out_dir: &Path,
) -> Result<RunManifest> {
    if range >= plan.ranges {
        return Err(shard_error(
            out_dir,
            format!("range {range} is out of the plan's {} ranges", plan.ranges),
        ));
    }
    let by_id: HashMap<&str, &PlanShard> = plan.shards.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut postings: Vec<(u64, Entry)> = Vec::new();
    for path in inputs {
        let file = read_postings_file(path)?;
        if file.range != range || file.ranges != plan.ranges {
            return Err(shard_error(
                path,
                format!(
                    "holds range {} of {}, this run is range {range} of {}",
                    file.range, file.ranges, plan.ranges
                ),
            ));
        }
        let Some(shard) = by_id.get(file.shard_id.as_str()) else {
            return Err(shard_error(
                path,
                "comes from a shard the plan does not list",
            ));
        };
        if !seen.insert(file.shard_id.clone()) {
            return Err(shard_error(path, "a second posting file of the same shard"));
        }
        postings.extend(file.entries.into_iter().filter_map(|(hash, local, pos)| {
            shard
                .final_id(local)
                .map(|content| (hash, Entry { content, pos }))
        }));
    }
    if let Some(missing) = plan.shards.iter().find(|s| !seen.contains(&s.id)) {
        return Err(shard_error(
            out_dir,
            format!(
                "range {range}: no posting file from shard {} ({})",
                missing.id,
                missing.dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(out_dir)?;
    let (sst, json) = run_paths(out_dir, range);
    let count = postings.len() as u64;
    let fingerprints = if postings.is_empty() {
        0
    } else {
        crate::store::write_postings_sst(&sst, postings)?
    };
    let manifest = RunManifest {
        plan: plan.digest(),
        range,
        ranges: plan.ranges,
        postings: count,
        fingerprints,
    };
    write_json_atomically(&json, &manifest)?;
    // The runs directory carries its plan: `index ingest DIR` needs no more.
    let plan_copy = out_dir.join(PLAN_IN_RUNS);
    if !plan_copy.exists() {
        plan.write(&plan_copy)?;
    }
    Ok(manifest)
}

/// Reads and checks every run of `plan` in `dir`: one per range, each
/// written for this plan. Returns the SST files to ingest.
pub(crate) fn collect_runs(plan: &Plan, dir: &Path) -> Result<Vec<PathBuf>> {
    let digest = plan.digest();
    let mut ssts = Vec::new();
    for range in 0..plan.ranges {
        let (sst, json) = run_paths(dir, range);
        if !json.exists() {
            return Err(shard_error(
                dir,
                format!("the run of range {range} is missing"),
            ));
        }
        let m: RunManifest = read_json(&json)?;
        if m.plan != digest {
            return Err(shard_error(&json, "was written for another plan"));
        }
        if m.fingerprints > 0 {
            if !sst.exists() {
                return Err(shard_error(&sst, "missing"));
            }
            ssts.push(sst);
        }
    }
    Ok(ssts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_hash_space_in_order() {
        let bounds = range_bounds(7, 8);
        assert_eq!(bounds.len(), 6);
        assert!(bounds.windows(2).all(|b| b[0] < b[1]));
        assert_eq!(range_of(0, &bounds), 0);
        assert_eq!(range_of(u64::MAX, &bounds), 6);
        assert_eq!(range_of(bounds[2], &bounds), 3);
        assert_eq!(range_of(bounds[2] - 1, &bounds), 2);
        assert!(range_bounds(1, 8).is_empty());
    }

    #[test]
    fn winnowed_hashes_spread_evenly_over_the_ranges() {
        // Minima of windows of 8 pseudo-random hashes, as winnowing keeps.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let hashes: Vec<u64> = (0..40_000).map(|_| next()).collect();
        let minima: Vec<u64> = crate::shard::tests::robust_minima(&hashes, 8);
        let bounds = range_bounds(8, 8);
        let mut counts = [0usize; 8];
        for h in &minima {
            counts[range_of(*h, &bounds) as usize] += 1;
        }
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*hi < 2 * *lo, "{counts:?}");
    }

    fn robust_minima(hashes: &[u64], w: usize) -> Vec<u64> {
        engine::winnow::winnow_positions(hashes, w)
            .into_iter()
            .map(|p| hashes[p])
            .collect()
    }

    #[test]
    fn final_ids_follow_the_runs() {
        let s = PlanShard {
            dir: PathBuf::new(),
            id: String::new(),
            ids: vec![[0, 10, 3], [5, 20, 2]],
        };
        let got: Vec<_> = (0..8).map(|l| s.final_id(l)).collect();
        assert_eq!(
            got,
            vec![
                Some(10),
                Some(11),
                Some(12),
                None,
                None,
                Some(20),
                Some(21),
                None
            ]
        );
    }
}
