//! `Index::ingest`: the last step of a distributed build (see
//! [`crate::shard`]), committing a plan's versions in one go.

use std::path::Path;

use rocksdb::WriteBatch;
use serde::Serialize;

use crate::schema::{Pending, SkippedFile, VersionInfo};
use crate::shard::{self, Plan};
use crate::{Index, IndexError, Progress, Result, Stage};

/// What an ingestion added.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    /// `project@version` of each version added.
    pub added: Vec<String>,
    /// Versions the plan left out (already indexed).
    pub already_present: Vec<String>,
    pub files: u64,
    pub bytes: u64,
    pub new_contents: u64,
    /// SST files ingested (runs that hold postings).
    pub runs: u64,
}

impl Index {
    /// Ingests the runs in `runs_dir` and commits every version of `plan`,
    /// all or nothing: a crash before the commit leaves the index as it
    /// was (the reserved ids are purged by the next writer), after it with
    /// every version. Refuses when the plan no longer fits the index (a
    /// version added or removed since it was made): plan again.
    ///
    /// `progress` hears the stages ([`Stage`]) as an add reports them.
    pub fn ingest(
        &self,
        plan: &Plan,
        runs_dir: &Path,
        progress: &dyn Fn(&Progress),
    ) -> Result<IngestReport> {
        self.writer()?;
        let dirs: Vec<_> = plan.shards.iter().map(|s| s.dir.clone()).collect();
        let manifests = dirs
            .iter()
            .map(|d| shard::read_shard(d))
            .collect::<Result<Vec<_>>>()?;
        let (now, assignment) = shard::plan(self, &dirs, &manifests, self.params())?;
        if &now != plan {
            return Err(IndexError::Shard {
                path: self.dir().to_path_buf(),
                what: format!(
                    "the plan was made for another state of the index or other shards \
                     (planned from content id {} and version id {}, the index is at {} and {}): \
                     run `provscan index plan` again",
                    plan.first_content, plan.first_version, now.first_content, now.first_version
                ),
            });
        }
        let ssts = shard::collect_runs(plan, runs_dir)?;
        let mut report = IngestReport {
            already_present: plan.already_present.clone(),
            runs: ssts.len() as u64,
            ..IngestReport::default()
        };
        if plan.versions.is_empty() {
            return Ok(report);
        }
        // Postings become visible only with the commit; a crash in between
        // leaves a pending range the next writer purges.
        if plan.end_content > plan.first_content {
            self.reserve(&Pending {
                project: "(ingest)".into(),
                version: plan.digest()[..16].to_string(),
                first_content: plan.first_content,
                end_content: plan.end_content,
            })?;
            progress(&Progress::Stage(Stage::Reserved));
        }
        self.ingest_postings(ssts, false)?;
        progress(&Progress::Stage(Stage::Ingested));

        let mut b = WriteBatch::default();
        for (s, dir) in dirs.iter().enumerate() {
            let ids = &plan.shards[s];
            shard::for_each_content(dir, |mut rec| {
                if let Some(id) = ids.final_id(rec.local) {
                    rec.meta.id = id;
                    self.put_content(
                        &mut b,
                        &rec.meta,
                        rec.stream.as_deref(),
                        rec.source.as_deref(),
                    );
                }
                Ok(())
            })?;
        }
        let mut counts = self.counts();
        for (pv, files) in plan.versions.iter().zip(&assignment) {
            let ver = &manifests[pv.shard].versions[pv.version];
            let mut skipped = ver.skipped.clone();
            let (mut n_files, mut bytes, mut new) = (0u64, 0u64, 0u64);
            for (f, assigned) in ver.files.iter().zip(files) {
                match assigned {
                    Ok((id, first)) => {
                        self.put_occurrence(&mut b, *id, pv.id, &f.path, f.license.as_ref());
                        n_files += 1;
                        bytes += f.bytes;
                        new += *first as u64;
                    }
                    Err(reason) => skipped.push(SkippedFile {
                        path: f.path.clone(),
                        reason: reason.clone(),
                    }),
                }
            }
            skipped.sort_by(|a, c| a.path.cmp(&c.path));
            self.put_version(
                &mut b,
                &VersionInfo {
                    id: pv.id,
                    project: ver.project.clone(),
                    version: ver.version.clone(),
                    source_spec: ver.source_spec.clone(),
                    declared_license: ver.declared_license.clone(),
                    release_date: ver.release_date.clone(),
                    files: n_files,
                    bytes,
                    new_contents: new,
                    skipped,
                    indexed_at: crate::store::now_secs(),
                },
            );
            counts.versions += 1;
            counts.contents += new;
            counts.occurrences += n_files;
            counts.source_bytes += bytes;
            report.added.push(pv.name.clone());
            report.files += n_files;
            report.bytes += bytes;
            report.new_contents += new;
        }
        let next_version = plan
            .versions
            .last()
            .map(|v| v.id + 1)
            .unwrap_or(plan.first_version);
        self.put_commit(&mut b, &counts, next_version, plan.end_content)?;
        self.write_sync(b)?;
        self.reload()?;
        progress(&Progress::Stage(Stage::Committed));
        Ok(report)
    }
}
