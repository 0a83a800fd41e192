//! Property-based fuzzing of the readers of untrusted input in the corpus
//! tools: the archive reader (every format, both policies, random bytes
//! and damaged real archives) and the `corpus.toml` manifest parser. The
//! property: no panic, an answer in bounded time, and under the scan
//! policy no error at all (damage is reported, never fatal).
//!
//! The default suite runs a fixed seed and [`DEFAULT_CASES`] inputs per
//! property; the `#[ignore]`d twins run [`LONG_CASES`] from fresh seeds.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use corpus::archive::{read_archive_bytes, Limits};
use corpus::{ArchiveKind, Manifest};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

const DEFAULT_CASES: u32 = 64;
const LONG_CASES: u32 = 5000;
const BOUND: Duration = Duration::from_secs(20);

const KINDS: [ArchiveKind; 7] = [
    ArchiveKind::Tar,
    ArchiveKind::TarGz,
    ArchiveKind::TarXz,
    ArchiveKind::TarBz2,
    ArchiveKind::TarZst,
    ArchiveKind::Zip,
    ArchiveKind::Gem,
];

fn config(cases: u32, fixed: bool) -> Config {
    Config {
        cases,
        rng_seed: if fixed {
            RngSeed::Fixed(0x0dd_ba11)
        } else {
            RngSeed::Random
        },
        failure_persistence: None,
        ..Config::default()
    }
}

fn tar_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// One valid archive of each kind, with a nested archive inside, as the
/// seed that mutations damage.
fn valid(kind: ArchiveKind) -> Vec<u8> {
    let inner = {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("in/x.c", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"int x = 1;\n").unwrap();
        w.finish().unwrap().into_inner()
    };
    let t = tar_with(&[
        ("p/a.c", b"int a(void) { return 1; }\n"),
        ("p/inner.zip", &inner),
        ("p/b.py", b"print('b')\n"),
    ]);
    let gz = |d: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    };
    match kind {
        ArchiveKind::Tar => t,
        ArchiveKind::TarGz => gz(&t),
        ArchiveKind::TarXz => {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut liblzma::read::XzEncoder::new(&t[..], 1), &mut out)
                .unwrap();
            out
        }
        ArchiveKind::TarBz2 => {
            let mut out = Vec::new();
            std::io::Read::read_to_end(
                &mut bzip2::read::BzEncoder::new(&t[..], bzip2::Compression::fast()),
                &mut out,
            )
            .unwrap();
            out
        }
        ArchiveKind::TarZst => zstd::stream::encode_all(&t[..], 1).unwrap(),
        ArchiveKind::Zip => {
            let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let o = zip::write::SimpleFileOptions::default();
            w.start_file("p/a.c", o).unwrap();
            w.write_all(b"int a(void) { return 1; }\n").unwrap();
            w.start_file("p/inner.zip", o).unwrap();
            w.write_all(&inner).unwrap();
            w.finish().unwrap().into_inner()
        }
        ArchiveKind::Gem => {
            tar_with(&[("data.tar.gz", &gz(&t)), ("metadata.gz", &gz(b"name: x\n"))])
        }
    }
}

/// A damaged archive: a valid one with bytes flipped, cut, or inserted.
fn damaged() -> impl Strategy<Value = (usize, Vec<u8>)> {
    (
        0..KINDS.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(k, flips, cut, do_cut)| {
            let mut bytes = valid(KINDS[k]);
            for (at, x) in flips {
                let i = at.index(bytes.len());
                bytes[i] ^= x | 1;
            }
            if do_cut {
                let n = cut.index(bytes.len() + 1);
                bytes.truncate(n);
            }
            (k, bytes)
        })
}

fn random() -> impl Strategy<Value = (usize, Vec<u8>)> {
    (
        0..KINDS.len(),
        proptest::collection::vec(any::<u8>(), 0..4096),
    )
}

fn read_both_policies(k: usize, bytes: &[u8]) {
    let kind = KINDS[k];
    let started = Instant::now();
    let _ = read_archive_bytes("fuzz", bytes, kind, &Limits::default());
    let scan = read_archive_bytes("fuzz", bytes, kind, &Limits::for_scan(1 << 20, 3));
    assert!(
        scan.is_ok(),
        "{kind:?}: the scan policy reports damage, never fails: {scan:?}"
    );
    assert!(
        started.elapsed() < BOUND,
        "{kind:?} took {:?}",
        started.elapsed()
    );
}

fn run_archives(cfg: Config) {
    let mut runner = TestRunner::new(cfg.clone());
    runner
        .run(&damaged(), |(k, bytes)| {
            read_both_policies(k, &bytes);
            Ok(())
        })
        .unwrap();
    let mut runner = TestRunner::new(cfg);
    runner
        .run(&random(), |(k, bytes)| {
            read_both_policies(k, &bytes);
            Ok(())
        })
        .unwrap();
}

#[test]
fn archive_reader_survives_damage_and_noise() {
    for kind in KINDS {
        let files = read_archive_bytes("ok", &valid(kind), kind, &Limits::default())
            .unwrap()
            .files;
        assert!(!files.is_empty(), "{kind:?}");
    }
    run_archives(config(DEFAULT_CASES, true));
}

#[test]
#[ignore = "long fuzz run: cargo test --workspace --test fuzz_inputs -- --ignored"]
fn archive_reader_survives_damage_and_noise_long() {
    run_archives(config(LONG_CASES, false));
}

/// TOML-ish text: keys and tables of the manifest, values of every type.
fn manifest_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("[[source]]\n".to_string()),
        Just("[source]\n".to_string()),
        Just("spec = ".to_string()),
        Just("project = ".to_string()),
        Just("version = ".to_string()),
        Just("license = ".to_string()),
        Just("\"pypi:x==1\"\n".to_string()),
        Just("\"\"\"\n".to_string()),
        Just("[1, 2]\n".to_string()),
        Just("{ a = 1 }\n".to_string()),
        Just("1979-05-27T07:32:00Z\n".to_string()),
        Just("# c\n".to_string()),
        "[ -~]{0,20}",
        "\\PC{0,10}",
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

fn run_manifest(cfg: Config) {
    let mut runner = TestRunner::new(cfg);
    runner
        .run(&manifest_text(), |text| {
            let started = Instant::now();
            let _ = Manifest::parse(&text);
            prop_assert!(started.elapsed() < BOUND);
            Ok(())
        })
        .unwrap();
}

#[test]
fn manifest_parser_survives_any_text() {
    run_manifest(config(DEFAULT_CASES * 4, true));
}

#[test]
#[ignore = "long fuzz run: cargo test --workspace --test fuzz_inputs -- --ignored"]
fn manifest_parser_survives_any_text_long() {
    run_manifest(config(LONG_CASES * 4, false));
}
