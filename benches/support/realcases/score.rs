//! Findings of either matcher scored against the truth of a case.

use std::collections::{BTreeMap, BTreeSet};

use super::tree::{lines, Tree};
use super::truth::{content, same_license, OriginKey, Truth};

/// One finding, from provscan's JSON report or from the naive matcher.
#[derive(Clone, Debug)]
pub struct Found {
    pub target: String,
    /// 1-based, inclusive.
    pub target_lines: (usize, usize),
    pub origin: OriginKey,
    pub origin_lines: (usize, usize),
    pub license: Option<String>,
}

/// Reads the findings of a `provscan-report/1` report.
pub fn from_report(report: &serde_json::Value) -> anyhow::Result<Vec<Found>> {
    let schema = report["schema"].as_str().unwrap_or("");
    if !schema.starts_with("provscan-report/") {
        anyhow::bail!("not a provscan report (schema {schema:?})");
    }
    let range = |v: &serde_json::Value| -> Option<(usize, usize)> {
        Some((v[0].as_u64()? as usize, v[1].as_u64()? as usize))
    };
    let mut out = Vec::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let (Some(target), Some(tl), Some(opath)) = (
            f["path"].as_str(),
            range(&f["target_lines"]),
            f["origin"]["path"].as_str(),
        ) else {
            anyhow::bail!("finding without path, target_lines or origin.path: {f}");
        };
        out.push(Found {
            target: target.to_string(),
            target_lines: tl,
            origin: (
                f["origin"]["project"].as_str().unwrap_or("").to_string(),
                opath.to_string(),
            ),
            origin_lines: range(&f["origin"]["lines"]).unwrap_or((0, 0)),
            license: f["origin"]["license"].as_str().map(String::from),
        });
    }
    Ok(out)
}

/// Counts behind the metrics, summable over cases.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Copied lines, and those covered by a finding naming the right origin file.
    pub copied: usize,
    pub recalled: usize,
    /// Copied lines covered by a finding naming any origin: the gap to
    /// `recalled` is what choosing the origin loses.
    pub recalled_any: usize,
    /// Non-blank lines covered by findings, and those rightly.
    pub covered: usize,
    pub right: usize,
    /// Files: copies found with the right origin; files with findings but
    /// none naming the right origin (own code included); copies missed.
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    /// Copied files with a finding and a license truth, and those whose
    /// license (of the finding covering most lines) is the truth's.
    pub licensed: usize,
    pub license_right: usize,
    /// Origin lines (non-blank) of right-origin findings: ∩ and ∪ of
    /// reported and true.
    pub range_inter: usize,
    pub range_union: usize,
    /// Minified copies, and those found with the right origin.
    pub minified: usize,
    pub minified_found: usize,
    /// Findings in own-code files (no copy there).
    pub own_findings: usize,
    /// Covered lines that are not right, by why: inside a finding naming
    /// the right origin file but not equal to any line of it (edited
    /// between the vendored and the indexed version, or inserted), under
    /// findings naming another origin in a copied file, in own-code files.
    pub false_edited: usize,
    pub false_elsewhere: usize,
    pub false_own: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.copied += o.copied;
        self.false_edited += o.false_edited;
        self.false_elsewhere += o.false_elsewhere;
        self.false_own += o.false_own;
        self.recalled += o.recalled;
        self.recalled_any += o.recalled_any;
        self.covered += o.covered;
        self.right += o.right;
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
        self.licensed += o.licensed;
        self.license_right += o.license_right;
        self.range_inter += o.range_inter;
        self.range_union += o.range_union;
        self.minified += o.minified;
        self.minified_found += o.minified_found;
        self.own_findings += o.own_findings;
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Counts {
    pub fn recall(&self) -> Option<f64> {
        ratio(self.recalled, self.copied)
    }
    pub fn recall_any(&self) -> Option<f64> {
        ratio(self.recalled_any, self.copied)
    }
    pub fn precision(&self) -> Option<f64> {
        ratio(self.right, self.covered)
    }
    pub fn f1(&self) -> Option<f64> {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
    pub fn license(&self) -> Option<f64> {
        ratio(self.license_right, self.licensed)
    }
    pub fn range(&self) -> Option<f64> {
        ratio(self.range_inter, self.range_union)
    }
}

/// Scores `found` (findings in `target`'s files) against `truth`;
/// `origins` gives the origin texts for the line-range overlap.
///
/// With `detail` (`PROVSCAN_REALCASES_DETAIL=1`), every file that costs a
/// metric is printed on stderr under that label: a copy missed or named
/// after another origin file, a wrong license, findings in other files.
pub fn score(
    found: &[Found],
    truth: &Truth,
    target: &Tree,
    origins: &[Tree],
    detail: Option<&str>,
) -> Counts {
    let mut by_file: BTreeMap<&str, Vec<&Found>> = BTreeMap::new();
    for f in found {
        by_file.entry(f.target.as_str()).or_default().push(f);
    }
    let mut c = Counts::default();
    for file in &target.files {
        let fs = by_file.remove(file.path.as_str()).unwrap_or_default();
        if truth.unknown.contains(&file.path) {
            continue;
        }
        let tl = lines(&file.text);
        let copy = truth.copies.get(&file.path);
        let covered: BTreeSet<usize> = fs
            .iter()
            .flat_map(|f| f.target_lines.0..=f.target_lines.1)
            .filter(|&l| l >= 1 && tl.get(l - 1).is_some_and(|s| content(s)))
            .collect();
        c.covered += covered.len();
        let Some(copy) = copy else {
            if let (Some(label), false) = (detail, fs.is_empty()) {
                eprintln!(
                    "{label}: other file {} has {} finding(s), {} lines",
                    file.path,
                    fs.len(),
                    covered.len()
                );
            }
            c.false_own += covered.len();
            c.own_findings += fs.len();
            if !fs.is_empty() {
                c.fp += 1;
            }
            continue;
        };
        let right: Vec<&&Found> = fs.iter().filter(|f| f.origin == copy.origin).collect();
        let rightly: BTreeSet<usize> = right
            .iter()
            .flat_map(|f| f.target_lines.0..=f.target_lines.1)
            .filter(|l| copy.lines.contains_key(l))
            .collect();
        let inside_right: BTreeSet<usize> = right
            .iter()
            .flat_map(|f| f.target_lines.0..=f.target_lines.1)
            .filter(|l| covered.contains(l))
            .collect();
        c.false_edited += inside_right.len().saturating_sub(rightly.len());
        c.false_elsewhere += covered.difference(&inside_right).count();
        c.copied += copy.lines.len();
        c.recalled += rightly.len();
        c.recalled_any += covered
            .iter()
            .filter(|l| copy.lines.contains_key(l))
            .count();
        c.right += rightly.len();
        if copy.minified {
            c.minified += 1;
            c.minified_found += usize::from(!right.is_empty());
        }
        if let (Some(label), true) = (detail, right.is_empty()) {
            let named: Vec<&str> = fs.iter().map(|f| f.origin.1.as_str()).collect();
            eprintln!(
                "{label}: copy {} of {} missed; named {named:?}",
                file.path, copy.origin.1
            );
        }
        if !right.is_empty() {
            c.tp += 1;
        } else {
            c.fn_ += 1;
            if !fs.is_empty() {
                c.fp += 1;
            }
        }
        if let (Some(truth_license), Some(main)) = (
            &copy.license,
            fs.iter()
                .max_by_key(|f| f.target_lines.1.saturating_sub(f.target_lines.0)),
        ) {
            c.licensed += 1;
            let ok = main
                .license
                .as_deref()
                .is_some_and(|l| same_license(l, truth_license));
            c.license_right += usize::from(ok);
            if let (Some(label), false) = (detail, ok) {
                eprintln!(
                    "{label}: license of {}: {:?}, truth {truth_license}",
                    file.path, main.license
                );
            }
        }
        let origin = &origins[copy.origin_ix];
        let otext = origin.file(&copy.origin.1).map(|f| f.text.as_str());
        let ol = otext.map(lines).unwrap_or_default();
        for f in right {
            let truly: BTreeSet<usize> = (f.target_lines.0..=f.target_lines.1)
                .filter_map(|t| copy.lines.get(&t).copied())
                .collect();
            let reported: BTreeSet<usize> = (f.origin_lines.0..=f.origin_lines.1)
                .filter(|&l| l >= 1 && ol.get(l - 1).is_some_and(|s| content(s)))
                .collect();
            c.range_inter += truly.intersection(&reported).count();
            c.range_union += truly.union(&reported).count();
        }
    }
    // Findings on files outside the scanned tree's text files.
    for (_, fs) in by_file {
        c.own_findings += fs.len();
        c.fp += 1;
    }
    c
}
