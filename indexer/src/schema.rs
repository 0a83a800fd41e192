//! Column families, keys and stored records. `docs/index.md` describes the
//! same layout for people; keep the two in step and bump [`FORMAT_VERSION`]
//! whenever a key or value changes meaning.

use serde::{Deserialize, Serialize};

use crate::codec::u64_key;

/// Version of the on-disk layout. Bump on any incompatible change and add a
/// fixture under `indexer/tests/fixtures/`.
///
/// Format 3: a content whose source is kept and whose language the lexer
/// knows has no `streams` record (the lexer rebuilds it from the source).
/// Format 4: postings in buckets of fingerprints (`crate::bucket`) instead
/// of one RocksDB entry per fingerprint.
pub const FORMAT_VERSION: u32 = 4;

/// Formats this build opens. Format 4 moved every posting, so older
/// indexes are refused with a request to rebuild them.
pub const READABLE_FORMATS: std::ops::RangeInclusive<u32> = FORMAT_VERSION..=FORMAT_VERSION;

pub const CF_META: &str = "meta";
pub const CF_POSTINGS: &str = "postings";
pub const CF_CONTENTS: &str = "contents";
pub const CF_DIGESTS: &str = "digests";
pub const CF_OCCURRENCES: &str = "occurrences";
pub const CF_VERSIONS: &str = "versions";
pub const CF_VERSION_FILES: &str = "version_files";
pub const CF_DEAD: &str = "dead";
/// The forward store: each content's token stream (`crate::streams`).
pub const CF_STREAMS: &str = "streams";
/// Each content's source text, zstd-compressed, for the side-by-side view
/// of the HTML report; left out by `index add --no-source`.
pub const CF_SOURCE: &str = "source";

pub const ALL_CFS: [&str; 10] = [
    CF_META,
    CF_POSTINGS,
    CF_CONTENTS,
    CF_DIGESTS,
    CF_OCCURRENCES,
    CF_VERSIONS,
    CF_VERSION_FILES,
    CF_DEAD,
    CF_STREAMS,
    CF_SOURCE,
];

/// Keys of the `meta` column family.
pub mod meta {
    pub const FORMAT: &[u8] = b"format_version";
    pub const PARAMS: &[u8] = b"engine_params";
    pub const COMMON: &[u8] = b"common_policy";
    /// Next content id to hand out (ids are never reused).
    pub const NEXT_CONTENT: &[u8] = b"next_content_id";
    pub const NEXT_VERSION: &[u8] = b"next_version_id";
    /// Content ids below this are committed (unless dead).
    pub const COMMITTED: &[u8] = b"committed_content_id";
    /// An add in progress: [`super::Pending`].
    pub const PENDING: &[u8] = b"pending_add";
    /// Live counts, [`super::Counts`].
    pub const COUNTS: &[u8] = b"counts";
}

/// What fingerprints mean: an index only answers queries fingerprinted the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineParams {
    pub k: usize,
    pub w: usize,
    /// `engine::Params::min_distinct` (absent in indexes of normalization 1).
    #[serde(default)]
    pub min_distinct: usize,
    pub normalization_version: u32,
    pub grammar_versions: String,
}

impl EngineParams {
    pub fn of(params: engine::Params) -> EngineParams {
        EngineParams {
            k: params.k,
            w: params.w,
            min_distinct: params.min_distinct,
            normalization_version: engine::winnow::NORMALIZATION_VERSION,
            grammar_versions: engine::token::GRAMMAR_VERSIONS.to_string(),
        }
    }
}

impl std::fmt::Display for EngineParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "k={} w={} min_distinct={} normalization={} grammars=[{}]",
            self.k, self.w, self.min_distinct, self.normalization_version, self.grammar_versions
        )
    }
}

/// When a fingerprint counts as common and never seeds a match: when more
/// than `min(max_contents, max(min_contents, max_share × live contents))`
/// distinct contents contain it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommonPolicy {
    pub max_contents: u64,
    pub max_share: f64,
    /// Floor of the share-based threshold, so a small index does not call
    /// everything common.
    pub min_contents: u64,
}

impl Default for CommonPolicy {
    fn default() -> Self {
        CommonPolicy {
            max_contents: 500,
            max_share: 0.01,
            min_contents: 50,
        }
    }
}

impl CommonPolicy {
    /// Highest document frequency that is still not common.
    pub fn threshold(&self, live_contents: u64) -> u64 {
        let share = (self.max_share * live_contents as f64).ceil() as u64;
        self.max_contents
            .min(share.max(self.min_contents))
            .min(crate::codec::SATURATION as u64)
    }
}

/// An add that reserved content ids but has not committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub project: String,
    pub version: String,
    pub first_content: u64,
    pub end_content: u64,
}

/// Running totals kept in `meta`, updated in each commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub versions: u64,
    pub contents: u64,
    pub occurrences: u64,
    pub source_bytes: u64,
}

/// License as attributed to a file, with the kind of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// SPDX expression.
    pub expression: String,
    /// Kind of evidence, e.g. `spdx-tag`, `header-text`, `license-file`, `declared`.
    pub evidence: String,
    /// File the evidence came from, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_path: Option<String>,
    /// Weaker evidence for the same file naming another license (absent
    /// in indexes written before it existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub competing: Vec<CompetingLicense>,
}

/// One piece of evidence that disagrees with the attributed license.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetingLicense {
    /// SPDX expression.
    pub expression: String,
    /// Kind of evidence, as in [`License::evidence`].
    pub evidence: String,
    /// File the evidence came from, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_path: Option<String>,
}

/// What is known about one distinct file content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentMeta {
    pub id: u64,
    /// blake3 of the bytes, hex.
    pub exact: String,
    /// blake3 with CRLF turned into LF, hex.
    pub normalized: String,
    pub bytes: u64,
    pub lines: u32,
    pub language: String,
    pub tokens: u32,
    pub fingerprints: u32,
    /// The tokens came from the plain-text lexer, not a grammar.
    #[serde(default)]
    pub fallback: bool,
    /// License evidence found with the first occurrence indexed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copyrights: Vec<String>,
}

/// One place where a content occurs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub project: String,
    pub version: String,
    pub path: String,
    /// License attributed to this file in this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
}

/// A file of a version that was not indexed, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// One indexed version of a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub id: u32,
    pub project: String,
    pub version: String,
    pub source_spec: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_license: Option<String>,
    /// ISO 8601 date, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
    /// Files indexed (occurrences).
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Contents first seen with this version.
    pub new_contents: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedFile>,
    /// Seconds since the Unix epoch.
    pub indexed_at: u64,
}

// --- keys -------------------------------------------------------------------

pub fn version_name_key(project: &str, version: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + project.len() + version.len());
    k.push(b'n');
    k.extend_from_slice(project.as_bytes());
    k.push(0);
    k.extend_from_slice(version.as_bytes());
    k
}

pub fn project_prefix(project: &str) -> Vec<u8> {
    let mut k = vec![b'n'];
    k.extend_from_slice(project.as_bytes());
    k.push(0);
    k
}

pub fn version_id_key(id: u32) -> Vec<u8> {
    let mut k = vec![b'i'];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

pub fn exact_key(d: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(b'e');
    k.extend_from_slice(d);
    k
}

pub fn normalized_prefix(d: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(41);
    k.push(b'n');
    k.extend_from_slice(d);
    k
}

pub fn normalized_key(d: &[u8; 32], content: u64) -> Vec<u8> {
    let mut k = normalized_prefix(d);
    k.extend_from_slice(&u64_key(content));
    k
}

pub fn occurrence_key(content: u64, version: u32, path: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(12 + path.len());
    k.extend_from_slice(&u64_key(content));
    k.extend_from_slice(&version.to_be_bytes());
    k.extend_from_slice(path.as_bytes());
    k
}

pub fn version_file_key(version: u32, path: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + path.len());
    k.extend_from_slice(&version.to_be_bytes());
    k.extend_from_slice(path.as_bytes());
    k
}

/// Smallest key strictly greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
