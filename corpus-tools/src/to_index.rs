//! Handing loaded versions to the indexer (feature `index`).
//!
//! Kept here rather than in the indexer so the index stays ignorant of where
//! its input comes from; the CLI and the index benchmark share this one
//! conversion.

use crate::Version;

impl From<Version> for indexer::VersionInput {
    fn from(v: Version) -> indexer::VersionInput {
        indexer::VersionInput {
            project: v.project,
            version: v.version,
            source_spec: v.source_spec,
            declared_license: v.declared_license,
            release_date: None,
            files: v
                .files
                .into_iter()
                .map(|f| indexer::FileInput {
                    path: f.path,
                    bytes: f.bytes,
                    license: f.license.map(|a| indexer::License {
                        expression: a.expression,
                        evidence: a.evidence.to_string(),
                        source_path: a.source_path,
                        competing: a
                            .competing
                            .into_iter()
                            .map(|c| indexer::CompetingLicense {
                                expression: c.expression,
                                evidence: c.evidence.to_string(),
                                source_path: c.source_path,
                            })
                            .collect(),
                    }),
                    copyrights: f.copyrights,
                })
                .collect(),
            skipped: v
                .skipped
                .into_iter()
                .map(|s| indexer::SkippedFile {
                    path: s.path,
                    reason: s.reason.to_string(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Attribution, CorpusFile, Evidence, SkipReason, Skipped, Version};

    #[test]
    fn conversion_keeps_attribution_and_skips() {
        let v = Version {
            project: "p".into(),
            version: "1".into(),
            source_spec: "dir:x".into(),
            declared_license: Some("MIT".into()),
            files: vec![CorpusFile {
                path: "a.c".into(),
                bytes: b"int x;".to_vec(),
                license: Some(Attribution {
                    expression: "GPL-2.0-only".into(),
                    evidence: Evidence::SpdxTag,
                    source_path: None,
                    competing: vec![crate::license::Competing {
                        expression: "MIT".into(),
                        evidence: Evidence::Declared,
                        source_path: None,
                    }],
                }),
                copyrights: vec!["Copyright 2020 A".into()],
                blob_id: None,
            }],
            skipped: vec![Skipped {
                path: "b.bin".into(),
                reason: SkipReason::SymlinkLoop,
            }],
        };
        let input = indexer::VersionInput::from(v);
        assert_eq!(
            input.files[0].license.as_ref().unwrap().expression,
            "GPL-2.0-only"
        );
        let competing = &input.files[0].license.as_ref().unwrap().competing;
        assert_eq!(
            (
                competing[0].expression.as_str(),
                competing[0].evidence.as_str()
            ),
            ("MIT", "declared")
        );
        assert_eq!(input.files[0].copyrights, ["Copyright 2020 A"]);
        assert_eq!(input.skipped[0].path, "b.bin");
        assert_eq!(input.declared_license.as_deref(), Some("MIT"));
    }
}
