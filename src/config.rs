//! `.provscan.toml`, the project configuration: what to scan, the policy,
//! and the review decisions, so that CI runs `provscan scan .` with no
//! flags and an accepted finding stays accepted. Documented in
//! `docs/config.md`; keep the two in step.

use std::path::{Path, PathBuf};

use anyhow::Context;
use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::report::{Accepted, Finding, Report};

/// The file name looked for at the scanned root.
pub const FILE_NAME: &str = ".provscan.toml";

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Index directory, relative to the configuration file.
    pub index: Option<PathBuf>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub min_lines: Option<u32>,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default, rename = "decision")]
    pub decisions: Vec<Decision>,
    /// Where the file was read from.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyConfig {
    #[serde(default)]
    pub fail_on: Vec<String>,
    /// Relative to the configuration file.
    pub declared: Option<PathBuf>,
    #[serde(default)]
    pub fail_on_stripped_notice: bool,
}

/// One review verdict: the findings it matches are accepted. Every matcher
/// given must match; at least one is required.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Decision {
    /// `PROJECT` or `PROJECT@VERSION` of the origin (the version matches
    /// any of the versions holding the code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Glob on the origin file's path in its project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_path: Option<String>,
    /// Glob on the target path, relative to the scanned root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// `PROJECT@VERSION` split at the last `@` that is not the first character
/// (npm scopes start with one).
pub fn split_origin(spec: &str) -> (&str, Option<&str>) {
    match spec.rfind('@').filter(|&i| i > 0) {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => (spec, None),
    }
}

/// A decision ready to match.
struct Matcher<'a> {
    decision: &'a Decision,
    project: Option<(&'a str, Option<&'a str>)>,
    origin_path: Option<GlobMatcher>,
    target: Option<GlobMatcher>,
}

fn glob(pattern: &str, what: &str, n: usize) -> anyhow::Result<GlobMatcher> {
    Ok(Glob::new(pattern)
        .with_context(|| format!("decision {}: bad {what} glob {pattern:?}", n + 1))?
        .compile_matcher())
}

impl Matcher<'_> {
    fn matches(&self, f: &Finding) -> bool {
        let o = &f.origin;
        self.project.is_none_or(|(p, v)| {
            o.project.as_deref() == Some(p)
                && v.is_none_or(|v| {
                    o.version.as_deref() == Some(v) || o.versions.iter().any(|x| x == v)
                })
        }) && self
            .origin_path
            .as_ref()
            .is_none_or(|g| g.is_match(&o.path))
            && self.target.as_ref().is_none_or(|g| g.is_match(&f.path))
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let mut config: Config =
            toml_edit::de::from_str(&text).with_context(|| format!("{}", path.display()))?;
        config.path = Some(path.to_path_buf());
        config
            .matchers()
            .with_context(|| format!("{}", path.display()))?;
        Ok(config)
    }

    /// `--config FILE`, else `.provscan.toml` in the one directory scanned.
    pub fn find(explicit: Option<&Path>, roots: &[PathBuf]) -> anyhow::Result<Option<Config>> {
        if let Some(path) = explicit {
            return Config::load(path).map(Some);
        }
        match roots {
            [root] if root.is_dir() && root.join(FILE_NAME).is_file() => {
                Config::load(&root.join(FILE_NAME)).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// A path written in the file, relative to the file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    fn matchers(&self) -> anyhow::Result<Vec<Matcher<'_>>> {
        self.decisions
            .iter()
            .enumerate()
            .map(|(n, d)| {
                if d.origin.is_none() && d.origin_path.is_none() && d.target.is_none() {
                    anyhow::bail!(
                        "decision {}: needs `origin`, `origin-path` or `target` (it would accept everything)",
                        n + 1
                    );
                }
                if d.reason.trim().is_empty() {
                    anyhow::bail!("decision {}: `reason` is empty", n + 1);
                }
                Ok(Matcher {
                    decision: d,
                    project: d.origin.as_deref().map(split_origin),
                    origin_path: d
                        .origin_path
                        .as_deref()
                        .map(|g| glob(g, "origin-path", n))
                        .transpose()?,
                    target: d
                        .target
                        .as_deref()
                        .map(|g| glob(g, "target", n))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Marks the findings the decisions accept (the first matching decision
    /// wins) and lists the decisions that matched nothing as stale.
    pub fn apply_decisions(&self, report: &mut Report) -> anyhow::Result<()> {
        let matchers = self.matchers()?;
        let mut used = vec![false; matchers.len()];
        if report.review.len() < report.findings.len() {
            report
                .review
                .resize(report.findings.len(), Default::default());
        }
        for (f, r) in report.findings.iter().zip(&mut report.review) {
            if let Some((n, m)) = matchers.iter().enumerate().find(|(_, m)| m.matches(f)) {
                used[n] = true;
                r.accepted = Some(Accepted {
                    reason: m.decision.reason.clone(),
                    reviewer: m.decision.reviewer.clone(),
                    date: m.decision.date.clone(),
                    decision: n,
                });
            }
        }
        report.stale_decisions = matchers
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(m, _)| m.decision.clone())
            .collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::{finding, origin};

    fn parse(text: &str) -> anyhow::Result<Config> {
        let c: Config = toml_edit::de::from_str(text)?;
        c.matchers()?;
        Ok(c)
    }

    #[test]
    fn decisions_accept_and_go_stale() {
        let c = parse(
            r#"
exclude = ["tests/**"]
min-lines = 8
[policy]
fail-on = ["strong-copyleft"]
[[decision]]
origin = "readline@8.2"
target = "vendor/**"
reason = "vendored on purpose"
reviewer = "jo"
[[decision]]
origin = "zlib"
reason = "gone"
"#,
        )
        .unwrap();
        assert_eq!(c.exclude, ["tests/**"]);
        assert_eq!(c.policy.fail_on, ["strong-copyleft"]);
        let mut o = origin(Some("readline"), Some("8.3"), Some("GPL-3.0-or-later"));
        o.versions = vec!["8.2".into(), "8.3".into()];
        let mut report = crate::policy::tests::sample_report();
        report.findings = vec![
            finding("vendor/rl/tilde.c", [1, 40], o.clone()),
            finding("src/tilde.c", [1, 40], o),
        ];
        c.apply_decisions(&mut report).unwrap();
        let accepted = report.review[0].accepted.as_ref().unwrap();
        assert_eq!(accepted.reason, "vendored on purpose");
        assert_eq!(accepted.reviewer.as_deref(), Some("jo"));
        assert!(report.review[1].accepted.is_none());
        assert_eq!(report.stale_decisions.len(), 1);
        assert_eq!(report.stale_decisions[0].origin.as_deref(), Some("zlib"));
    }

    #[test]
    fn bad_files_are_named_errors() {
        let e = parse("[[decision]]\nreason = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("decision 1"), "{e}");
        let e = parse("[[decision]]\ntarget = \"a/[\"\nreason = \"x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("target glob"), "{e:#}");
        assert!(parse("exclde = []\n").is_err());
        assert_eq!(
            split_origin("@types/node@20.1"),
            ("@types/node", Some("20.1"))
        );
        assert_eq!(split_origin("zlib"), ("zlib", None));
    }
}

/// The review options of `provscan scan`; flatten into its argument struct.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ReviewArgs {
    /// Project configuration (default: .provscan.toml in the scanned
    /// directory). Command-line options take precedence over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// An earlier JSON report: each finding is marked new or unchanged, and
    /// findings gone since are listed.
    #[arg(long, value_name = "OLD_REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: only new findings can fail (any new one when no
    /// other policy option is given).
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,
    /// In the table, list every snippet (with its id) and every skipped file.
    #[arg(long)]
    pub details: bool,
}

/// Folds the configuration into the scan options: the command line wins
/// (`--exclude`/`--include` globs are added to the file's).
pub fn merge_into(args: &mut crate::scan::ScanArgs) -> anyhow::Result<Option<Config>> {
    let Some(config) = Config::find(args.review.config.as_deref(), &args.paths)? else {
        return Ok(None);
    };
    if args.index.is_none() {
        args.index = config.index.as_deref().map(|p| config.resolve(p));
    }
    args.exclude.extend(config.exclude.iter().cloned());
    args.include.extend(config.include.iter().cloned());
    args.min_lines = args.min_lines.or(config.min_lines);
    let p = &mut args.policy;
    if p.fail_on.is_empty() {
        p.fail_on = config.policy.fail_on.clone();
    }
    if p.declared.is_none() {
        p.declared = config.policy.declared.as_deref().map(|d| config.resolve(d));
    }
    p.fail_on_stripped_notice |= config.policy.fail_on_stripped_notice;
    Ok(Some(config))
}

/// Applies decisions and the baseline to a scanned report, and the verdict
/// that follows: accepted findings never fail; with `--fail-on-new` only new
/// ones do.
pub fn review(
    report: &mut Report,
    config: Option<&Config>,
    baseline: Option<&crate::baseline::Baseline>,
    args: &ReviewArgs,
    policy: &crate::policy::Policy,
) -> anyhow::Result<crate::policy::Verdict> {
    report
        .review
        .resize(report.findings.len(), Default::default());
    if let Some(config) = config {
        config.apply_decisions(report)?;
        for d in &report.stale_decisions {
            eprintln!(
                "warning: stale decision in {} (matches no finding): {}",
                config
                    .path
                    .as_deref()
                    .unwrap_or(Path::new(FILE_NAME))
                    .display(),
                d.reason
            );
        }
    }
    if let Some(b) = baseline {
        b.apply(report);
    }
    let mut verdict = crate::policy::evaluate(report, policy);
    if args.fail_on_new {
        let no_rules = policy.fail_on.is_empty()
            && policy.declared.is_none()
            && !policy.fail_on_stripped_notice;
        if no_rules {
            verdict.violations = (0..report.findings.len())
                .map(|i| (i, "new since the baseline (--fail-on-new)".to_string()))
                .collect();
        }
        verdict.violations.retain(|(i, _)| {
            report.review[*i].baseline_state == Some(crate::report::BaselineState::New)
        });
    }
    verdict.violations.retain(|(i, _)| !report.is_accepted(*i));
    Ok(verdict)
}
