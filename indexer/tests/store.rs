mod common;

use std::path::Path;

use common::*;
use engine::identity::FileDigests;
use engine::{Analyzer, Params};
use indexer::{
    AddOptions, CommonPolicy, Index, IndexError, OpenOptions, PostingLookup, Progress, Stage,
};

fn open(dir: &Path) -> Index {
    Index::open(dir, &OpenOptions::default()).unwrap()
}

fn fps(path: &str, text: &str) -> Vec<u64> {
    let a = Analyzer::new(Params::DEFAULT)
        .analyze(Path::new(path), text.as_bytes())
        .unwrap();
    a.fingerprints.iter().map(|f| f.hash).collect()
}

fn id_of(index: &Index, text: &str) -> u64 {
    index
        .content_by_exact(&FileDigests::of(text.as_bytes()).exact)
        .unwrap()
        .unwrap()
}

/// Every fingerprint (that is not common) has a posting in `id`.
fn has_everywhere(l: &PostingLookup, id: u64) -> bool {
    l.postings
        .iter()
        .zip(&l.common)
        .all(|(p, c)| *c || p.iter().any(|x| x.origin == id))
}

fn mentions(l: &PostingLookup, id: u64) -> bool {
    l.hits().any(|(_, p)| p.origin == id)
}

/// Every posting points to a content the index knows.
fn all_known(index: &Index, l: &PostingLookup) -> bool {
    l.hits()
        .all(|(_, p)| index.content(p.origin).unwrap().is_some())
}

fn ingest() -> AddOptions {
    AddOptions {
        batch_limit_bytes: 0,
        chunk_bytes: 20_000,
        ..AddOptions::default()
    }
}

#[test]
fn add_then_look_up_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let index = open(&dir);
    let text = c_file(1, 12);
    let mut v = synthetic("alpha", "1.0", 2, 3, 8);
    v.files.push(file("src/main.c", &text));
    v.files.push(file("copy/main.c", &text));
    let r = index.add(v, &AddOptions::default()).unwrap();
    assert_eq!(
        (r.files, r.new_contents, r.reused_contents),
        (5, 4, 1),
        "{r:?}"
    );
    assert_eq!(r.write_path, "batch");

    let hashes = fps("x.c", &text);
    let lookup = index.postings(&hashes).unwrap();
    let origin = index
        .content_by_exact(&FileDigests::of(text.as_bytes()).exact)
        .unwrap()
        .unwrap();
    assert!(has_everywhere(&lookup, origin));
    let meta = index.content(origin).unwrap().unwrap();
    assert_eq!(meta.language, "c");
    assert_eq!(meta.bytes, text.len() as u64);
    assert_eq!(meta.copyrights, vec!["Copyright 2024 Example".to_string()]);
    let mut occ: Vec<String> = index
        .occurrences(origin)
        .unwrap()
        .into_iter()
        .map(|o| o.path)
        .collect();
    occ.sort();
    assert_eq!(occ, vec!["copy/main.c", "src/main.c"]);
    // Postings hold positions; lines and names come from the content's
    // token stream (the forward store), which matches a fresh analysis.
    let p = lookup.postings[1][0];
    let stream = index.stream(origin).unwrap().expect("stream stored");
    let analyzed = engine::Analyzer::new(index.engine_params())
        .analyze(std::path::Path::new("x.c"), text.as_bytes())
        .unwrap();
    assert_eq!(
        stream,
        engine::stream::SymbolStream::of_file(&analyzed.tokens.tokens, text.as_bytes())
    );
    assert!((p.anchor.pos as usize) < stream.len());
    assert_eq!(index.stream(u64::MAX).unwrap(), None);
    assert_eq!(
        lookup.hits().count(),
        lookup.postings.iter().map(Vec::len).sum::<usize>()
    );

    // Misses.
    let miss = index.postings(&[1, 2, 3]).unwrap();
    assert!(miss.postings.iter().all(Vec::is_empty) && miss.common_count() == 0);

    // Whole-file lookup, exact and across line endings.
    let d = FileDigests::of(text.as_bytes());
    assert_eq!(index.content_by_exact(&d.exact).unwrap(), Some(origin));
    let crlf = text.replace('\n', "\r\n");
    let m = index.find_file(&FileDigests::of(crlf.as_bytes())).unwrap();
    assert_eq!(m.len(), 1);
    assert!(!m[0].exact && m[0].content == origin);

    let s = index.stats().unwrap();
    assert_eq!(
        (s.projects, s.versions, s.contents, s.occurrences),
        (1, 1, 4, 5)
    );
    assert!(s.fingerprints > 50 && s.bytes_on_disk > 0);
    assert_eq!(index.versions("alpha").unwrap()[0].files, 5);
}

#[test]
fn batch_and_ingest_paths_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let a = open(&tmp.path().join("a"));
    let b = open(&tmp.path().join("b"));
    let ra = a
        .add(synthetic("p", "1", 0, 12, 10), &AddOptions::default())
        .unwrap();
    let rb = b.add(synthetic("p", "1", 0, 12, 10), &ingest()).unwrap();
    assert_eq!((ra.write_path, rb.write_path), ("batch", "ingest"));
    assert_eq!(ra.fingerprints, rb.fingerprints);
    // A second version on each path merges into existing posting lists.
    a.add(synthetic("p", "2", 6, 12, 10), &AddOptions::default())
        .unwrap();
    b.add(synthetic("p", "2", 6, 12, 10), &ingest()).unwrap();
    let hashes: Vec<u64> = (0..18).flat_map(|s| fps("f.c", &c_file(s, 10))).collect();
    let la = a.postings(&hashes).unwrap();
    let lb = b.postings(&hashes).unwrap();
    assert_eq!(la, lb);
    assert!(la.postings.iter().all(|p| !p.is_empty()));
    let sa = a.stats().unwrap();
    let sb = b.stats().unwrap();
    assert_eq!(
        (sa.contents, sa.fingerprints, sa.postings),
        (sb.contents, sb.fingerprints, sb.postings)
    );
    assert_eq!(sa.contents, 18);
}

#[test]
fn contents_are_shared_and_removal_drops_only_unreferenced() {
    let tmp = tempfile::tempdir().unwrap();
    let index = open(&tmp.path().join("idx"));
    index
        .add(synthetic("p", "1", 0, 4, 6), &AddOptions::default())
        .unwrap();
    let state_v1 = index.state_id();
    let r = index.add(synthetic("p", "2", 2, 4, 6), &ingest()).unwrap();
    assert_eq!((r.new_contents, r.reused_contents), (2, 2));
    let state_v2 = index.state_id();
    assert_ne!(state_v1, state_v2, "an add changes the state id");
    let again = index
        .add(synthetic("p", "2", 2, 4, 6), &AddOptions::default())
        .unwrap();
    assert!(again.already_present);
    assert_eq!(index.state_id(), state_v2, "a no-op add does not");
    let before = index.stats().unwrap();

    let only_v1 = fps("a.c", &c_file(0, 6));
    let shared = fps("a.c", &c_file(2, 6));
    let id_v1 = id_of(&index, &c_file(0, 6));
    let id_shared = id_of(&index, &c_file(2, 6));
    let rm = index.remove("p", Some("1")).unwrap();
    assert_ne!(index.state_id(), state_v2, "a removal changes the state id");
    assert_eq!(rm.dropped_contents, 2);
    assert!(rm.dropped_fingerprints > 0);
    assert!(!mentions(&index.postings(&only_v1).unwrap(), id_v1));
    assert!(has_everywhere(&index.postings(&shared).unwrap(), id_shared));
    let after = index.stats().unwrap();
    assert_eq!((after.versions, after.contents), (1, 4));
    assert!(after.fingerprints < before.fingerprints);
    let occ = index.occurrences(id_shared).unwrap();
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0].version, "2");
    assert!(index
        .content_by_exact(&FileDigests::of(c_file(0, 6).as_bytes()).exact)
        .unwrap()
        .is_none());

    // Re-adding the removed version works and finds its contents again.
    let r = index
        .add(synthetic("p", "1", 0, 4, 6), &AddOptions::default())
        .unwrap();
    assert_eq!((r.new_contents, r.reused_contents), (2, 2));
    let id_again = id_of(&index, &c_file(0, 6));
    assert_ne!(id_again, id_v1, "content ids are never reused");
    assert!(has_everywhere(&index.postings(&only_v1).unwrap(), id_again));

    let rm = index.remove("p", None).unwrap();
    assert_eq!(rm.versions.len(), 2);
    let s = index.stats().unwrap();
    assert_eq!(
        (s.versions, s.contents, s.fingerprints, s.postings),
        (0, 0, 0, 0)
    );
}

#[test]
fn common_fingerprints_never_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let index = Index::open(
        &tmp.path().join("idx"),
        &OpenOptions {
            common: Some(CommonPolicy {
                max_contents: 3,
                max_share: 1.0,
                min_contents: 3,
            }),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let header = c_file(999, 3);
    let files = (0..6)
        .map(|i| file(&format!("f{i}.c"), &format!("{header}{}", c_file(i, 4))))
        .collect();
    index
        .add(version("p", "1", files), &AddOptions::default())
        .unwrap();
    let h = fps("h.c", &header);
    let own = fps("a.c", &c_file(0, 4));
    let l = index.postings(&h).unwrap();
    assert!(
        l.common_count() > h.len() / 2,
        "{} of {}",
        l.common_count(),
        h.len()
    );
    assert!(l
        .postings
        .iter()
        .zip(&l.common)
        .all(|(p, c)| !c || p.is_empty()));
    let l = index.postings(&own).unwrap();
    assert!(l.common_count() < own.len() / 4);
    let s = index.stats().unwrap();
    assert!(s.common_fingerprints > 0 && s.common_threshold == 3);
}

#[test]
fn interrupted_add_is_rolled_back_and_can_be_redone() {
    for stage in [Stage::Reserved, Stage::Written, Stage::Ingested] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("idx");
        {
            let index = open(&dir);
            index
                .add(synthetic("base", "1", 100, 3, 5), &AddOptions::default())
                .unwrap();
            let opts = AddOptions {
                progress: Some(std::sync::Arc::new(move |p: &Progress| {
                    if matches!(p, Progress::Stage(s) if *s == stage) {
                        panic!("simulated crash at {stage:?}");
                    }
                })),
                ..ingest()
            };
            let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                index.add(synthetic("p", "1", 0, 8, 8), &opts)
            }));
            assert!(crashed.is_err());
        }
        let index = open(&dir);
        assert!(!index.has_version("p", "1").unwrap());
        let hashes = fps("a.c", &c_file(3, 8));
        let l = index.postings(&hashes).unwrap();
        assert!(all_known(&index, &l), "{stage:?}");
        let s = index.stats().unwrap();
        assert_eq!((s.versions, s.contents), (1, 3));
        let r = index.add(synthetic("p", "1", 0, 8, 8), &ingest()).unwrap();
        assert_eq!(r.new_contents, 8);
        let id = id_of(&index, &c_file(3, 8));
        assert!(has_everywhere(&index.postings(&hashes).unwrap(), id));
    }
}

#[test]
fn reader_sees_commits_only_after_refresh() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let writer = open(&dir);
    writer
        .add(synthetic("p", "1", 0, 3, 5), &AddOptions::default())
        .unwrap();
    let reader = Index::open_reader(&dir, &OpenOptions::default()).unwrap();
    assert_eq!(reader.all_versions().unwrap().len(), 1);
    assert!(matches!(
        reader.add(synthetic("p", "9", 0, 1, 1), &AddOptions::default()),
        Err(IndexError::ReadOnly)
    ));
    writer
        .add(synthetic("p", "2", 10, 3, 5), &ingest())
        .unwrap();
    let hashes = fps("a.c", &c_file(11, 5));
    let digest = FileDigests::of(c_file(11, 5).as_bytes()).exact;
    assert!(reader.content_by_exact(&digest).unwrap().is_none());
    assert!(all_known(&reader, &reader.postings(&hashes).unwrap()));
    reader.refresh().unwrap();
    assert_eq!(reader.all_versions().unwrap().len(), 2);
    let id = reader.content_by_exact(&digest).unwrap().unwrap();
    assert!(has_everywhere(&reader.postings(&hashes).unwrap(), id));
    // A second writer is refused with a clear error.
    let err = Index::open(&dir, &OpenOptions::default()).err().unwrap();
    assert!(matches!(err, IndexError::Locked(_)), "{err}");
}

#[test]
fn other_parameters_are_refused_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    drop(open(&dir));
    let other = OpenOptions {
        params: Params {
            k: 15,
            w: 10,
            ..Params::DEFAULT
        },
        ..OpenOptions::default()
    };
    let err = Index::open(&dir, &other).err().unwrap();
    let msg = err.to_string();
    assert!(matches!(err, IndexError::ParamsMismatch { .. }));
    assert!(
        msg.contains(&format!("k={} w={}", Params::DEFAULT.k, Params::DEFAULT.w))
            && msg.contains("k=15 w=10"),
        "{msg}"
    );
    let err = Index::open_reader(&dir, &other).err().unwrap();
    assert!(matches!(err, IndexError::ParamsMismatch { .. }));
    // Not an index at all.
    let junk = tmp.path().join("junk");
    std::fs::create_dir(&junk).unwrap();
    std::fs::write(junk.join("x"), "y").unwrap();
    assert!(matches!(
        Index::open(&junk, &OpenOptions::default()),
        Err(IndexError::NotAnIndex(_))
    ));
    assert!(matches!(
        Index::open_reader(&tmp.path().join("none"), &OpenOptions::default()),
        Err(IndexError::Missing(_))
    ));
}

#[test]
fn a_gram_repeated_in_one_file_keeps_only_enough_positions_to_tell() {
    let tmp = tempfile::tempdir().unwrap();
    let index = open(&tmp.path().join("idx"));
    // Unrolled code: every statement normalizes to the same tokens, so one
    // fingerprint recurs at hundreds of positions.
    let rows: String = (0..400)
        .map(|i| {
            format!(
                "    out[{i}] = mix(seed, key[{i}]) ^ (state->round << {});\n",
                i % 7
            )
        })
        .collect();
    let text =
        format!("void unrolled(int *out, int *key, struct s *state, int seed) {{\n{rows}}}\n");
    index
        .add(
            version("tables", "1", vec![file("t.c", &text)]),
            &AddOptions::default(),
        )
        .unwrap();
    let id = id_of(&index, &text);
    let hashes = fps("t.c", &text);
    let mut by_hash: std::collections::HashMap<u64, usize> = Default::default();
    for h in &hashes {
        *by_hash.entry(*h).or_default() += 1;
    }
    let (&repeated, &n) = by_hash.iter().max_by_key(|(_, n)| **n).unwrap();
    assert!(
        n > 50,
        "the unrolled code should repeat a fingerprint, got {n}"
    );
    let l = index.postings(&[repeated]).unwrap();
    let kept = l.postings[0].iter().filter(|p| p.origin == id).count();
    let limit = engine::matcher::MAX_REPEATS_IN_ORIGIN;
    assert_eq!(
        kept,
        limit + 1,
        "more than the matcher's limit, and no more"
    );
}

#[test]
fn settle_flushes_and_merges_ingested_postings_into_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let index = open(&dir);
    let mut texts = Vec::new();
    for v in 0..3u64 {
        let input = synthetic("p", &format!("{v}"), v * 10, 4, 6);
        texts.push(input.files[0].bytes.clone());
        index.add(input, &ingest()).unwrap();
    }
    assert!(index.postings_sorted_runs().unwrap() >= 3);
    assert!(
        !index.settle(10).unwrap(),
        "below the threshold nothing is compacted"
    );
    assert!(index.settle(1).unwrap());
    assert_eq!(index.postings_sorted_runs().unwrap(), 1);
    assert!(
        !dir.read_dir().unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().ends_with(".log") && e.metadata().unwrap().len() > 0
        }),
        "no write-ahead log left to replay"
    );
    drop(index);
    let reader = Index::open_reader(&dir, &OpenOptions::default()).unwrap();
    for text in &texts {
        let text = String::from_utf8(text.clone()).unwrap();
        let id = id_of(&reader, &text);
        let l = reader.postings(&fps("a.c", &text)).unwrap();
        assert!(has_everywhere(&l, id));
    }
}

/// The forward store keeps a stream record only where the source cannot
/// give it back: a lexed content with its source kept has none (the lexer
/// rebuilds it), a parsed one (PHP) has one, and without sources every
/// content has one. Either way `stream` answers the stream of a fresh
/// analysis.
#[test]
fn streams_are_stored_only_where_the_source_cannot_rebuild_them() {
    let c = c_file(7, 3);
    let php = "<?php\nnamespace App;\n\nclass Greeter\n{\n    public function greet(string $name): string\n    {\n        $parts = ['Hello', $name];\n        return implode(', ', $parts) . '!';\n    }\n}\n";
    let files = || vec![file("src/a.c", &c), file("src/Greeter.php", php)];
    for keep_source in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let index = open(&tmp.path().join("idx"));
        let opts = AddOptions {
            keep_source,
            ..AddOptions::default()
        };
        index.add(version("p", "1", files()), &opts).unwrap();
        let (counts, _) = index.verify().unwrap();
        let records = |cf: &str| counts.iter().find(|(n, _)| *n == cf).unwrap().1;
        assert_eq!(records("streams"), if keep_source { 1 } else { 2 });
        assert_eq!(records("source"), if keep_source { 2 } else { 0 });
        for (path, text) in [("x.c", c.as_str()), ("x.php", php)] {
            let a = Analyzer::new(Params::DEFAULT)
                .analyze(Path::new(path), text.as_bytes())
                .unwrap();
            assert_eq!(a.lexed, path.ends_with(".c"));
            let stream = index.stream(id_of(&index, text)).unwrap().unwrap();
            assert_eq!(
                stream,
                engine::stream::SymbolStream::of_file(&a.tokens.tokens, text.as_bytes()),
                "{path}, keep_source {keep_source}"
            );
        }
    }
}

/// A damaged source record is reported, not read as a stream: `verify`
/// names it, and the stream it would rebuild is an error.
#[test]
fn a_damaged_source_is_reported_by_verify_and_by_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let text = c_file(11, 3);
    let id = {
        let index = open(&dir);
        index
            .add(
                version("p", "1", vec![file("src/a.c", &text)]),
                &AddOptions::default(),
            )
            .unwrap();
        index.flush().unwrap();
        id_of(&index, &text)
    };
    {
        let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), &dir).unwrap();
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &dir, &cfs).unwrap();
        db.put_cf(
            db.cf_handle("source").unwrap(),
            id.to_be_bytes(),
            b"not a zstd frame",
        )
        .unwrap();
        db.flush_cf(db.cf_handle("source").unwrap()).unwrap();
    }
    let index = open(&dir);
    let err = index.verify().unwrap_err().to_string();
    assert!(
        err.contains(&format!("the source of content {id} does not decompress")),
        "{err}"
    );
    let err = index.stream(id).unwrap_err().to_string();
    assert!(err.contains("source"), "{err}");
}

/// A reader looks keys up through the postings key filter of the commit
/// it reads, and through RocksDB alone while the filter on disk is of an
/// earlier commit (an add whose session has not ended): every key of the
/// new content is still found.
#[test]
fn a_reader_uses_the_key_filter_of_its_own_commit_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let writer = open(&dir);
    writer
        .add(synthetic("p", "1", 0, 3, 5), &AddOptions::default())
        .unwrap();
    writer.settle(1).unwrap();
    let reader = Index::open_reader(&dir, &OpenOptions::default()).unwrap();
    let (keys, bytes) = reader.key_filter().unwrap().expect("written by settle");
    assert!(keys > 0 && bytes > 0);
    // Enough keys at once for the reader to look through its filter.
    let many = |h: Vec<u64>| -> Vec<u64> { h.iter().cycle().take(5_000).copied().collect() };
    let old = many(fps("a.c", &c_file(1, 5)));
    let old_id = id_of(&reader, &c_file(1, 5));
    assert!(has_everywhere(&reader.postings(&old).unwrap(), old_id));

    writer
        .add(synthetic("p", "2", 10, 3, 5), &AddOptions::default())
        .unwrap();
    reader.refresh().unwrap();
    assert_eq!(
        reader.key_filter().unwrap(),
        None,
        "the filter is of the first commit"
    );
    let new = many(fps("a.c", &c_file(11, 5)));
    let new_id = id_of(&reader, &c_file(11, 5));
    assert!(has_everywhere(&reader.postings(&new).unwrap(), new_id));

    writer.settle(1).unwrap();
    reader.refresh().unwrap();
    assert!(reader.key_filter().unwrap().is_some_and(|(k, _)| k > keys));
    assert!(has_everywhere(&reader.postings(&new).unwrap(), new_id));
    assert!(has_everywhere(&reader.postings(&old).unwrap(), old_id));
}
